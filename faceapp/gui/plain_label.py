"""Labels that show their text as written: a file name in it is never read as HTML, nor turns the
sentence around it right to left.

Qt reads a label's text as HTML when it looks like some (a photo named ``<h1>Oma & Opa.jpg`` showed
as a heading), and takes a line's direction from its first letter (a notice that began with an Arabic
file name read right to left, its full stop moved; a name holding U+202E reversed the app's own words:
unicode QA). :class:`PlainLabel` shows plain text, with :func:`shown_text`'s escapes and marks.
"""

from __future__ import annotations

import unicodedata

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from faceapp.core.pathtext import message_text

#: U+200E LEFT-TO-RIGHT MARK: begins a line that is an English sentence whatever its first word is.
_LEFT_TO_RIGHT = "\u200e"


def shown_text(text: str) -> str:
    """``text`` as a label shows it: the characters that would act rather than show (direction
    overrides and isolates, controls) and bytes that are not UTF-8 written as escapes
    (:func:`~faceapp.core.pathtext.message_text`), and each line that holds right-to-left letters
    begun left to right."""
    lines = message_text(text).split("\n")
    return "\n".join(_LEFT_TO_RIGHT + line if _right_to_left(line) else line for line in lines)


def _right_to_left(line: str) -> bool:
    """Whether ``line`` holds a letter written right to left (Arabic, Hebrew, Syriac…)."""
    return not line.isascii() and any(unicodedata.bidirectional(char) in ("R", "AL") for char in line)


class PlainLabel(QLabel):
    """A QLabel of plain text as :func:`shown_text` shows it; :meth:`text` is the text as set."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._text = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        self._text = text
        super().setText(shown_text(text))

    def text(self) -> str:
        return self._text

    def displayed_text(self) -> str:
        """The text as the label draws it (escaped and marked)."""
        return super().text()
