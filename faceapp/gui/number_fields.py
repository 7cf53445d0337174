"""Number fields that read and show numbers as the rest of faceapp does.

faceapp's words are English, and its numbers are written so everywhere (the fidelity's "0.80", the
CLI's ``--eta 0.7``, the settings file). Qt's spin boxes would follow the computer's language
instead: under German "0,50", under Arabic "٠٫٥٠", and "0.7" typed there was taken as 0 (locale QA).
So the fields here use one number format, Western digits with a decimal point and no thousands
separator, and a decimal field takes a comma typed out of habit as the point.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QWidget


def number_locale() -> QLocale:
    """Western digits, a decimal point, no thousands separator (one typed is refused)."""
    locale = QLocale(QLocale.Language.C)
    locale.setNumberOptions(QLocale.NumberOption.OmitGroupSeparator | QLocale.NumberOption.RejectGroupSeparator)
    return locale


def use_number_format(root: QWidget) -> None:
    """Make every spin box under ``root`` read and show numbers as faceapp writes them."""
    locale = number_locale()
    for box in root.findChildren(QAbstractSpinBox):
        box.setLocale(locale)


class DecimalBox(QDoubleSpinBox):
    """A decimal field that takes "0,7" as 0.7 (a comma typed where a point is meant)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setLocale(number_locale())

    def validate(self, text: str, position: int) -> object:  # noqa: D401 (Qt override)
        return super().validate(text.replace(",", "."), position)

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        return super().valueFromText(text.replace(",", "."))

    def fixup(self, text: str) -> str:
        return super().fixup(text.replace(",", "."))

