"""Non-modal messages: a stack of banners above the photo, each with an optional next step."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from faceapp.core import errors

log = logging.getLogger(__name__)

Level = Literal["info", "warning", "error"]
#: Next steps the window knows how to take when a banner's button is pressed.
Action = Literal["models", "settings", "open", "log", "save_as", "export_all", "draw_box", "open_folder"]

_STYLES = {
    "info": "background:#24425e; color:#f0f0f0;",
    "warning": "background:#6b5313; color:#fff6dc;",
    "error": "background:#6e2323; color:#ffecec;",
}
_INFO_TIMEOUT_MS = 6000


@dataclass(frozen=True)
class Notice:
    """One message: what happened, in words a user can act on, and the button for the next step."""

    text: str
    level: Level = "info"
    action: Action | None = None
    action_label: str = ""
    subject: Any = None  # what the action is about (e.g. a photo's path); None: whatever is shown


def notice_for_error(error: BaseException) -> Notice:
    """The banner for an error: the core's message plus the next step that fits its kind."""
    text = str(error) or type(error).__name__
    if isinstance(error, errors.ModelError):
        return Notice(text, "error", "models", "Manage models…")
    if isinstance(error, errors.OutOfMemoryError):
        return Notice(text, "error", "settings", "Settings…")
    if isinstance(error, errors.DeviceError):
        return Notice(text, "error", "settings", "Settings…")
    if isinstance(error, errors.NoFaceFoundError):
        return Notice(f"{text} Draw a box around a face (Edit → Draw face box) and restore again.",
                      "warning", "draw_box", "Draw face box", getattr(error, "path", None))
    if isinstance(error, errors.ImageError):
        return Notice(text, "error", "open", "Open another…")
    if isinstance(error, errors.FaceappError):
        return Notice(text, "error")
    return Notice(f"Unexpected error: {text}. The log file has the details.", "error", "log",
                  "Show log")


class _Banner(QFrame):
    closed = Signal(object)
    actionTriggered = Signal(str, object)  # action, subject

    def __init__(self, notice: Notice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notice = notice
        self.setObjectName("notice")
        self.setStyleSheet(f"QFrame#notice {{{_STYLES[notice.level]} border-radius:4px;}}"
                           " QLabel { background: transparent; color: inherit; }")
        label = QLabel(notice.text)
        label.setWordWrap(True)
        label.setStyleSheet(_STYLES[notice.level] + "background: transparent;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(label, 1)
        if notice.action:
            button = QPushButton(notice.action_label or "Fix…")
            button.clicked.connect(lambda: self.actionTriggered.emit(notice.action, notice.subject))
            layout.addWidget(button)
        dismiss = QPushButton("✕")
        dismiss.setFlat(True)
        dismiss.setToolTip("Dismiss")
        dismiss.setFixedWidth(28)
        dismiss.clicked.connect(lambda: self.closed.emit(self))
        layout.addWidget(dismiss)


class NotificationArea(QWidget):
    """Shows notices stacked top to bottom; info notices go away by themselves."""

    actionTriggered = Signal(str, object)  # action, subject

    def __init__(self, parent: QWidget | None = None, *, max_visible: int = 3) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._max_visible = max_visible
        self._banners: list[_Banner] = []

    def show_notice(self, notice: Notice) -> None:
        log_level = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
        log.log(log_level[notice.level], "notice: %s", notice.text)
        for shown in [b for b in self._banners if b.notice == notice]:  # said again: moved to the end, once
            self._remove(shown)
        banner = _Banner(notice, self)
        banner.closed.connect(self._remove)
        banner.actionTriggered.connect(self.actionTriggered)
        self._banners.append(banner)
        self._layout.addWidget(banner)
        while len(self._banners) > self._max_visible:
            self._remove(self._banners[0])
        if notice.level == "info":
            QTimer.singleShot(_INFO_TIMEOUT_MS, banner, lambda: self._remove(banner))

    def show_error(self, error: BaseException) -> None:
        self.show_notice(notice_for_error(error))

    def info(self, text: str) -> None:
        self.show_notice(Notice(text, "info"))

    def notices(self) -> list[Notice]:
        return [banner.notice for banner in self._banners]

    def clear(self) -> None:
        for banner in list(self._banners):
            self._remove(banner)

    def _remove(self, banner: _Banner) -> None:
        if banner in self._banners:
            self._banners.remove(banner)
            banner.hide()
            banner.deleteLater()
