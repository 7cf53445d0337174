"""Photos the operating system hands the running app: macOS's Finder ("Open With", a drop on the
Dock icon) sends them as file-open events, not on the command line (portability QA: they were
dropped silently). Those arriving together are opened together, as one drop's files are."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication


#: Whether the system hands the app files by file-open events (macOS only): elsewhere no relay watches
#: the application's events (each would cross into Python for nothing: review).
HANDS_FILES_BY_EVENTS = sys.platform == "darwin"


class FileOpenRelay(QObject):
    """Watches the application for file-open events and gives their files to ``open_paths``, the
    window's, after the events of the moment (one call for the files of one "Open With")."""

    def __init__(self, parent: QObject, open_paths: Callable[[list[Path]], object]) -> None:
        super().__init__(parent)
        self._open_paths = open_paths
        self._waiting: list[Path] = []
        app = QApplication.instance()
        if app is not None and HANDS_FILES_BY_EVENTS:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            name = event.file() or event.url().toLocalFile()
            if name:
                if not self._waiting:
                    QTimer.singleShot(0, self, self._open_waiting)
                self._waiting.append(Path(name))
            return True
        return super().eventFilter(watched, event)

    def _open_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        if waiting:
            self._open_paths(waiting)
