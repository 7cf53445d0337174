"""The window's side panel: the restoration panel above the seed gallery, scrolling in a window too
low for them."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QStyle, QVBoxLayout, QWidget

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
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Tab stop of its own (nothing showed it)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """At least as wide as what it holds needs, with room for its scroll bar (low-vision QA: at a
        20 pt font its controls needed 461 px and got 326, cut off, with no way to scroll to them),
        and at least :data:`SIDE_PANEL_MIN_WIDTH`; at most half the screen, the photo keeping the rest."""
        needed = self.widget().minimumSizeHint().width() + self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        screen = self.screen()
        most = screen.availableGeometry().width() // 2 if screen is not None else needed
        return QSize(max(SIDE_PANEL_MIN_WIDTH, min(needed, most)), super().minimumSizeHint().height())
