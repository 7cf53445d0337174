"""The filmstrip: every loaded photo as a thumbnail with its state (queued, restoring, done…)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from faceapp.gui.qimage import rgb_to_pixmap

_THUMB_PX = 80


class Filmstrip(QListWidget):
    """A horizontal strip of photos; selecting one shows it. Keys are photo paths."""

    photoSelected = Signal(object)  # Path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(_THUMB_PX, _THUMB_PX))
        self.setGridSize(QSize(_THUMB_PX + 56, _THUMB_PX + 38))
        self.setFixedHeight(_THUMB_PX + 60)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setDragEnabled(True)
        self.setToolTip("Loaded photos. Drag a restored photo out to save it elsewhere.")
        self._items: dict[Path, QListWidgetItem] = {}
        self._exported: dict[Path, Path] = {}
        self.currentItemChanged.connect(self._on_current_changed)

    def add_photo(self, path: Path, rgb: np.ndarray | None = None) -> None:
        """Add ``path`` (a no-op if it is already there) with an optional thumbnail."""
        if path in self._items:
            return
        item = QListWidgetItem(path.name)
        item.setData(Qt.ItemDataRole.UserRole, str(path))
        item.setToolTip(str(path))
        self._items[path] = item
        self.addItem(item)
        if rgb is not None:
            self.set_thumbnail(path, rgb)

    def set_thumbnail(self, path: Path, rgb: np.ndarray) -> None:
        if path in self._items:
            self._items[path].setIcon(QIcon(rgb_to_pixmap(rgb, max_side=_THUMB_PX)))

    def set_state(self, path: Path, state: str) -> None:
        """Show a short state under the photo's name ("queued", "restoring 40 %", "done"…)."""
        item = self._items.get(path)
        if item is not None:
            item.setText(f"{path.name}\n{state}" if state else path.name)

    def state_text(self, path: Path) -> str:
        item = self._items.get(path)
        return item.text().split("\n", 1)[1] if item and "\n" in item.text() else ""

    def set_exported(self, path: Path, exported: Path) -> None:
        """Remember where the photo's result was written, for dragging it out."""
        self._exported[path] = exported

    def select(self, path: Path) -> None:
        item = self._items.get(path)
        if item is not None:
            self.setCurrentItem(item)

    def paths(self) -> list[Path]:
        return list(self._items)

    def remove_photo(self, path: Path) -> None:
        item = self._items.pop(path, None)
        self._exported.pop(path, None)
        if item is not None:
            self.takeItem(self.row(item))

    def mimeData(self, items: list[QListWidgetItem]) -> QMimeData:  # noqa: N802 (Qt override)
        data = QMimeData()
        urls = []
        for item in items:
            path = Path(item.data(Qt.ItemDataRole.UserRole))
            urls.append(QUrl.fromLocalFile(str(self._exported.get(path, path))))
        data.setUrls(urls)
        return data

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.photoSelected.emit(Path(current.data(Qt.ItemDataRole.UserRole)))
