"""Colours and headings the window's widgets share, so the panes look like one app."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel

#: Behind photos and thumbnails: the compare view, the live preview, the filmstrip.
PHOTO_BACKGROUND = QColor(38, 38, 42)
#: A dark plate behind text drawn over a photo.
TAG_BACKGROUND = QColor(20, 20, 24, 170)
#: A setting outside what the model was found to do well (readable on the light panel).
CAUTION = QColor(196, 110, 0)
#: Text saying what is wrong with a value (readable on the light panel).
ERROR_TEXT = QColor(190, 30, 30)


def section_title(text: str) -> QLabel:
    """A bold heading for one part of the side panel."""
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label
