"""Save, Save As, Export all and dragging the result out: the window's export actions.

Each action asks what it needs (a file name, a quality, a folder), lets the session write the
file, and reports the outcome: the written path in the status bar, an error as a notice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QDrag, QPixmap
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow

log = logging.getLogger(__name__)

T = TypeVar("T")
_SAVE_FILTERS = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp);;TIFF (*.tif *.tiff)"


class ExportFlow:
    """The export actions of ``window`` (a MainWindow: ``current``, ``session``, ``notices``)."""

    def __init__(self, window: QMainWindow) -> None:
        self._window = window

    def save(self) -> Path | None:
        """Save the shown photo next to its original under a new name; returns the file."""
        window = self._window
        if window.current is None:
            return None
        return self._report(lambda: window.session.save(window.current))

    def save_as(self) -> Path | None:
        """Ask for a name, format and quality, then save the shown photo there."""
        window = self._window
        if window.current is None:
            return None
        session = window.session
        suggestion = session.backend.default_output_path(window.current, session.prefs)
        name, chosen = QFileDialog.getSaveFileName(window, "Save as", str(suggestion), _SAVE_FILTERS)
        if not name:
            return None
        quality = session.prefs.quality
        if "JPEG" in chosen or "WebP" in chosen:
            quality, ok = QInputDialog.getInt(window, "Quality", "Quality (1–100)", quality, 1, 100)
            if not ok:
                return None
        return self._report(lambda: session.save_as(window.current, Path(name), quality=quality))

    def export_all(self) -> list[Path] | None:
        """Ask for a folder and save every restored photo into it."""
        window = self._window
        folder = QFileDialog.getExistingDirectory(window, "Export all restored photos to")
        if not folder:
            return None
        written = self._report(lambda: window.session.export_all(Path(folder)))
        if written is not None:
            window.notices.info(f"Saved {len(written)} photo(s) to {folder}.")
        return written

    def drag_out(self) -> None:
        """Start dragging the shown result (saved first if it has not been) to another app."""
        window = self._window
        if window.current is None:
            return
        entry = window.session.entries[window.current]
        target = entry.saved_to or self.save()
        if target is None:
            return
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(target))])
        drag = QDrag(window)
        drag.setMimeData(mime)
        shown = window.session.after.get(window.current)
        if shown is not None:
            drag.setPixmap(QPixmap.fromImage(shown.thumbnail))
        drag.exec(Qt.DropAction.CopyAction)

    def _report(self, save: Callable[[], T]) -> T | None:
        try:
            written = save()
        except Exception as error:  # shown as a notice; the log has the traceback
            log.exception("saving failed")
            self._window.notices.show_error(error)
            return None
        if isinstance(written, Path):
            self._window.statusBar().showMessage(f"Saved {written}", 8000)
        return written
