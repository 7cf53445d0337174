"""View ▸ Messages…: every message the window showed since it started, those gone by themselves too.

An info notice goes after a few seconds and a status-bar message after eight: a user who looked away
during a long restore, or who reads slowly or with a magnifier, lost them for good (accessibility
QA: the notice saying which faces were spared and how to diffuse them anyway had gone 25 s after a
restore, with no way to read it again). :class:`MessageLog` keeps them, in plain Python;
:class:`MessagesDialog` shows them as text that can be read, selected and copied.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from faceapp.gui.look import fit_to_screen

#: The most messages kept, the oldest dropped first.
MESSAGES_KEPT = 500


@dataclass
class LoggedMessage:
    """One message as it was shown: when (seconds since the epoch), its level, its words, and how
    many times in a row it was shown."""

    at: float
    level: str
    text: str
    times: int = 1

    def line(self) -> str:
        """"14:02:07  Warning: …", with "(3 times)" where it was shown again in a row."""
        level = "" if self.level == "info" else f"{self.level.capitalize()}: "
        again = f" ({self.times} times)" if self.times > 1 else ""
        return f"{time.strftime('%H:%M:%S', time.localtime(self.at))}  {level}{self.text}{again}"


class MessageLog:
    """The messages shown since the window started, oldest first, at most :data:`MESSAGES_KEPT`;
    one shown again right after itself is counted, not listed twice."""

    def __init__(self, kept: int = MESSAGES_KEPT) -> None:
        self._messages: deque[LoggedMessage] = deque(maxlen=kept)

    def add(self, level: str, text: str, *, at: float | None = None) -> None:
        last = self._messages[-1] if self._messages else None
        if last is not None and (last.level, last.text) == (level, text):
            last.times += 1
            last.at = time.time() if at is None else at
        else:
            self._messages.append(LoggedMessage(time.time() if at is None else at, level, text))

    def messages(self) -> list[LoggedMessage]:
        return list(self._messages)

    def text(self) -> str:
        """Every message, a line each, oldest first."""
        return "\n".join(message.line() for message in self._messages)


class MessagesDialog(QDialog):
    """The log's messages, newest at the bottom and in view; Copy all puts them on the clipboard."""

    def __init__(self, log: MessageLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Messages")
        self.page = QPlainTextEdit()
        self.page.setReadOnly(True)
        self.page.setAccessibleName("Messages since faceapp started")
        self.page.setPlainText(log.text() or "No message has been shown yet.")
        self.page.moveCursor(QTextCursor.MoveOperation.End)  # (the newest in view, and read first)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("&Copy all", QDialogButtonBox.ButtonRole.ActionRole)
        copy.setEnabled(bool(log.messages()))
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(log.text()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page)
        layout.addWidget(buttons)
        fit_to_screen(self, QSize(720, 420))
