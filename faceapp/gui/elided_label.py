"""A one-line label that gives up characters, not the layout, when its room runs out."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QWidget

from faceapp.gui.plain_label import PlainLabel


class ElidedLabel(PlainLabel):
    """A label whose text ends in "…" when it is given less width than the text needs.

    Its minimum width is a few characters, so a status bar in a narrow window shortens its labels
    ("Device: CPU (2 thr…") instead of cutting them at its edge or pushing its message out of
    sight. The tooltip shows a shortened text whole, unless the program set a tooltip of its own."""

    _FEWEST = "Mmmm…"  # the least it shows

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._own_tooltip = ""

    def shown_text(self) -> str:
        """The text as it is drawn now: whole, or shortened with "…" (as a :class:`PlainLabel` shows it)."""
        return self.fontMetrics().elidedText(self.displayed_text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        super().setText(text)
        self._update_tooltip()

    def setToolTip(self, text: str) -> None:  # noqa: N802 (Qt override)
        self._own_tooltip = text
        self._update_tooltip()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        margins = self.contentsMargins()
        fewest = self.fontMetrics().horizontalAdvance(self._FEWEST) + margins.left() + margins.right()
        return QSize(min(fewest, hint.width()), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), self.shown_text())
        painter.end()

    def _update_tooltip(self) -> None:
        whole = self.displayed_text() if self.shown_text() != self.displayed_text() else ""
        super().setToolTip(getattr(self, "_own_tooltip", "") or whole)  # (setText runs in PlainLabel's __init__)
