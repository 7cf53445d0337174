"""The restoration panel: fidelity slider, Restore and Cancel, the live face preview and progress."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from faceapp.gui.fidelity_control import FidelityControl
from faceapp.gui.icons import icon
from faceapp.gui.look import PHOTO_BACKGROUND, section_title
from faceapp.gui.qimage import rgb_to_pixmap
from faceapp.gui.plain_label import PlainLabel

PREVIEW_PX = 144  # the live preview's side when the panel has the room
PREVIEW_MIN_PX = 72  # the smallest it shrinks to in a low window, so its caption keeps its place
NO_PHOTO_TEXT = "Open or drop a photo to start."
class FacePreview(QLabel):
    """A square picture of one face, ``PREVIEW_PX`` wide when the panel has the room and down to
    ``PREVIEW_MIN_PX`` when it has not, drawn at the screen's full resolution."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rgb: np.ndarray | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(PREVIEW_MIN_PX, PREVIEW_MIN_PX)
        self.setMaximumSize(PREVIEW_PX, PREVIEW_PX)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(PREVIEW_PX, PREVIEW_PX)

    def show_rgb(self, rgb: np.ndarray) -> None:
        self._rgb = rgb
        self._render()

    def show_text(self, text: str) -> None:
        self._rgb = None
        self.clear()
        self.setText(text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._rgb is not None:
            self._render()

    def event(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        handled = super().event(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange and self._rgb is not None:  # (another screen's
            self._render()  # scale: drawn for it; portability QA)
        return handled

    def _render(self) -> None:
        side = max(1, min(self.width(), self.height()))
        self.setPixmap(rgb_to_pixmap(self._rgb, max_side=side, device_pixel_ratio=self.devicePixelRatioF()))


class RunPanel(QWidget):
    """Shows what a run is doing; the window connects the buttons and feeds it progress."""

    def __init__(self, fidelity: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fidelity = FidelityControl(fidelity)
        self.restore_button = QPushButton(icon("restore"), "Restore")
        self.cancel_button = QPushButton(icon("cancel"), "Cancel")
        self.preview = FacePreview()
        self.preview.setAccessibleName("Face preview")
        self.preview.setStyleSheet(f"background:{PHOTO_BACKGROUND.name()}; color:#aaa; border-radius:4px;")
        self.preview_caption = PlainLabel()
        self.preview_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # quieter than text, readable
        self.progress_text = PlainLabel()
        self.progress_text.setWordWrap(True)
        self.progress_text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.cancel_button)
        preview_column = QVBoxLayout()
        preview_column.setSpacing(2)
        preview_column.addWidget(self.preview)
        preview_column.addWidget(self.preview_caption)
        preview_row = QHBoxLayout()
        preview_row.addLayout(preview_column)
        preview_row.addWidget(self.progress_text, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(section_title("Restoration"))
        layout.addWidget(self.fidelity)
        layout.addLayout(buttons)
        layout.addLayout(preview_row)
        self.clear()

    def clear(self, text: str = "") -> None:
        """No face to show (another photo, or nothing restored yet); ``text`` says what to do."""
        self.preview.show_text("Live preview")
        self.preview.setAccessibleDescription("No face restored yet")
        self.preview.setToolTip("The face being restored, updated after every step")
        self.preview_caption.setText(" ")
        self.progress_text.setText(text or NO_PHOTO_TEXT)

    def show_progress(self, title: str, text: str, preview: np.ndarray | None) -> None:
        """A step of a run: what is happening and, when given, the current estimate of the face."""
        self.progress_text.setText(f"{title}\n{text}")
        if preview is not None:
            self.preview.show_rgb(preview)
            self.preview_caption.setText("live")
            self.preview.setAccessibleDescription("The face being restored")

    def show_face(self, rgb: np.ndarray, caption: str, detail: str = "") -> None:
        """A finished face (the chosen candidate), with a caption such as "Face 1 · seed 3" and,
        as the tooltip, ``detail`` when given (else the caption)."""
        self.preview.show_rgb(rgb)
        self.preview.setAccessibleDescription(caption)
        self.preview.setToolTip(detail or caption)
        self.preview_caption.setToolTip(detail)
        self.preview_caption.setText(caption)

    def show_text(self, text: str) -> None:
        self.progress_text.setText(text)
