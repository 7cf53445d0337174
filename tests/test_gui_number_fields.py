"""The window's number fields read and show numbers as the rest of faceapp does (a decimal point,
Western digits), whatever the computer's language; a decimal comma typed out of habit counts too."""

from __future__ import annotations

import gui_util  # noqa: F401  (offscreen Qt)
import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtTest import QTest

from faceapp.core.preferences import Preferences
from faceapp.gui.settings_dialog import SettingsDialog


@pytest.fixture(params=[QLocale(QLocale.Language.German, QLocale.Country.Germany),
                        QLocale(QLocale.Language.Arabic, QLocale.Country.Egypt),
                        QLocale(QLocale.Language.Turkish, QLocale.Country.Turkey)],
                ids=lambda locale: locale.name())
def dialog(request, qtbot):
    before = QLocale()
    QLocale.setDefault(request.param)
    try:
        shown = SettingsDialog(Preferences(eta=0.5, min_face_size=16.0, base_seed=1234567))
        qtbot.addWidget(shown)
        yield shown
    finally:
        QLocale.setDefault(before)


def _type(box, text: str) -> None:
    box.lineEdit().selectAll()
    QTest.keyClicks(box.lineEdit(), text)
    QTest.keyClick(box.lineEdit(), Qt.Key.Key_Tab)
    box.interpretText()


def test_a_decimal_typed_with_a_point_or_a_comma_is_the_number_meant(dialog):
    """Locale QA: under German, Turkish or Arabic, Eta showed "0,50" (or "٠٫٥٠"), and "0.7" typed
    there was saved as 0 without a word."""
    assert dialog.eta.text() == "0.50" and dialog.base_seed.text() == "1234567"
    _type(dialog.eta, "0.7")
    assert dialog.preferences().eta == pytest.approx(0.7)
    _type(dialog.eta, "0,3")
    assert dialog.preferences().eta == pytest.approx(0.3)
    assert dialog.eta.text() == "0.30"


def test_a_fraction_typed_as_the_smallest_face_is_not_read_ten_times_larger(dialog):
    """Locale QA: "16,5" typed as the smallest face gave 165 px (the comma taken for a thousands
    separator and dropped). It takes a fraction, as the CLI does."""
    _type(dialog.min_face_size, "16,5")
    assert dialog.preferences().min_face_size == 16.5 and dialog.min_face_size.text() == "16.5 px"
    _type(dialog.quality, "85")
    assert dialog.preferences().quality == 85 and dialog.quality.text() == "85"


def test_settings_kept_as_written_by_hand_come_back_unchanged_from_ok(qtbot):
    """Settings QA: a device the CLI takes (cuda:1) and a smallest face above the field's range,
    written by hand, became "auto" and 4096 px when Settings was closed with OK, unchanged."""
    prefs = Preferences(device="cuda:1", min_face_size=100000.0)
    dialog = SettingsDialog(prefs, available=["cpu", "cuda:0", "cuda:1"])
    qtbot.addWidget(dialog)
    kept = dialog.preferences()
    assert (kept.device, kept.min_face_size) == ("cuda:1", 100000.0)
