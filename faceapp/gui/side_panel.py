"""The window's side panel: the restoration panel above the seed gallery, scrolling in a window too
low for them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

#: The panel's least width, px.
SIDE_PANEL_MIN_WIDTH = 300


class SidePanel(QScrollArea):
    """``parts`` top to bottom, the last taking what room is left; a scroll bar in a window too
    low for them rather than a least height for the window: on a 1366×768 screen at 150 % the
    window outgrew the screen after a restore (QA), its status bar and filmstrip out of sight."""

    def __init__(self, *parts: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QWidget()
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        for part in parts:
            layout.addWidget(part, 1 if part is parts[-1] else 0)
        self.setWidget(column)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(SIDE_PANEL_MIN_WIDTH)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Tab stop of its own (nothing showed it)
