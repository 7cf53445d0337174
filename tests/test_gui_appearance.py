"""The window's colours: View ▸ Appearance picks light or dark whatever the desktop's theme, and
every part follows a change of theme while the window is open (dark-mode QA: the caution, the
seed gallery and the settings' error line kept the old theme's colours)."""

from __future__ import annotations

import gui_util
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from faceapp.core.preferences import Preferences
from faceapp.gui.appearance import apply_appearance, dark_palette, is_dark
from faceapp.gui.look import COLOURED_TEXT_CONTRAST, TEXT_CONTRAST, contrast_ratio
from faceapp.gui.main_window import MainWindow

_Role = QPalette.ColorRole


@pytest.fixture
def app_colours(qapp):
    """The application's style and palette put back after the test (they are the whole run's)."""
    style, palette = qapp.style().name(), QPalette(qapp.palette())
    yield qapp
    apply_appearance("system")
    qapp.setStyle(style)
    qapp.setPalette(palette)


def _choose(window: MainWindow, name: str) -> None:
    next(choice for choice in window._appearances.actions() if choice.data() == name).trigger()
    QApplication.processEvents()  # (widgets take a new application palette from a posted event)


def _darken(app) -> None:
    """The desktop turns dark (at sunset): the application palette changes under the window."""
    app.setPalette(dark_palette())
    QApplication.processEvents()


def test_view_appearance_darkens_the_window_remembers_it_and_gives_the_desktop_back(app_colours, qtbot, tmp_path):
    desktop = QColor(app_colours.palette().color(_Role.Window))
    assert not is_dark(app_colours.palette())  # (this desktop: light)
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    checked = [c.data() for c in window._appearances.actions() if c.isChecked()]
    assert checked == ["system"]

    _choose(window, "dark")
    assert is_dark(app_colours.palette()) and is_dark(window.filmstrip.palette())
    assert contrast_ratio(window.palette().color(_Role.WindowText), window.palette().color(_Role.Window)) >= TEXT_CONTRAST
    assert gui_util.settings_store(tmp_path).load().appearance == "dark"  # remembered
    window.close()

    apply_appearance("system")  # a new session starts as the desktop is…
    reopened = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(reopened)
    assert is_dark(app_colours.palette())  # …and the window dark, as chosen
    _choose(reopened, "light")
    assert not is_dark(app_colours.palette())
    _choose(reopened, "system")
    assert app_colours.palette().color(_Role.Window) == desktop
    assert gui_util.settings_store(tmp_path).load().appearance == "system"


def test_reset_every_field_gives_the_desktop_colours_back(app_colours, qtbot, tmp_path):
    store = gui_util.settings_store(tmp_path)
    store.save(Preferences(appearance="dark"))
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    assert is_dark(app_colours.palette())
    window.models.apply_preferences(Preferences())  # (what Settings' Reset every field and OK give)
    assert not is_dark(app_colours.palette())
    assert [c.data() for c in window._appearances.actions() if c.isChecked()] == ["system"]


def test_the_fidelity_caution_is_readable_after_the_desktop_turns_dark(app_colours, qtbot, tmp_path):
    control = gui_util.window_with_fidelity_caution(qtbot, tmp_path).fidelity
    control.slider.setValue(30)  # below where the model works: the caution, in amber
    assert control.caution()
    _darken(app_colours)  # the slider untouched
    for label in (control.value_label, control.caution_label):
        text = label.palette().color(label.foregroundRole())
        background = control.palette().color(_Role.Window)
        assert contrast_ratio(text, background) >= COLOURED_TEXT_CONTRAST - 0.01, label.text()


def test_the_seed_gallery_list_follows_the_theme(app_colours, qtbot):
    from faceapp.gui.seed_gallery import SeedGallery

    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    _darken(app_colours)
    assert gallery._list.palette().color(_Role.Base) == dark_palette().color(_Role.Base)


def test_the_settings_error_line_is_readable_after_the_theme_changes(app_colours, qtbot):
    from faceapp.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Preferences())
    qtbot.addWidget(dialog)
    dialog.name_pattern.setText("{nope}")
    dialog.accept()
    assert dialog.problem.isVisible() or dialog.problem.text()
    _darken(app_colours)
    text = dialog.problem.palette().color(dialog.problem.foregroundRole())
    assert contrast_ratio(text, dialog.palette().color(_Role.Window)) >= COLOURED_TEXT_CONTRAST - 0.01


def test_a_desktop_that_sets_the_scheme_itself_keeps_its_own_style(app_colours, monkeypatch):
    """Where the platform honours the application's scheme (Windows, macOS, GNOME), faceapp's own
    palette and Fusion are not forced on it."""
    from faceapp.gui import appearance

    class PlatformHints:  # as a desktop with the feature: the scheme taken at once, its palette later
        scheme = None

        def setColorScheme(self, scheme):  # noqa: N802 (Qt's name)
            self.scheme = scheme
            QTimer.singleShot(0, lambda: app_colours.setPalette(dark_palette() if scheme.name == "Dark" else QPalette()))

        def colorScheme(self):  # noqa: N802
            return self.scheme

        def unsetColorScheme(self):  # noqa: N802
            self.scheme = None
            app_colours.setPalette(QPalette())

    hints = PlatformHints()

    monkeypatch.setattr(appearance, "_style_hints", lambda app: hints)
    style = app_colours.style().name()
    app_colours.setStyle("Windows")
    apply_appearance("dark")
    QApplication.processEvents()
    assert app_colours.style().name().lower() == "windows"  # not replaced by Fusion
    assert is_dark(app_colours.palette())
    apply_appearance("system")
    assert not is_dark(app_colours.palette())
    app_colours.setStyle(style)


def test_light_after_dark_gives_a_light_desktop_its_own_style_back(app_colours):
    """Appearance QA: Light chosen after Dark stayed in faceapp's Fusion on a light desktop whose
    own style is another (Breeze, Windows); chosen first, it changed nothing."""
    style = app_colours.style().name()
    app_colours.setStyle("Windows")  # (the desktop's own)
    apply_appearance("dark")
    assert app_colours.style().name().lower() == "fusion" and is_dark(app_colours.palette())
    apply_appearance("light")
    assert app_colours.style().name().lower() == "windows" and not is_dark(app_colours.palette())
    apply_appearance("system")
    app_colours.setStyle(style)


def test_the_dark_palette_keeps_text_focus_frames_and_fields_visible():
    """Appearance QA: fields and check boxes on a base as dark as the window (1.1:1) looked like
    blank space, and the keyboard's focus frame was at 2.7:1."""
    palette = dark_palette()
    window = palette.color(_Role.Window)
    for text, on in ((_Role.WindowText, _Role.Window), (_Role.Text, _Role.Base), (_Role.ButtonText, _Role.Button),
                     (_Role.ToolTipText, _Role.ToolTipBase), (_Role.HighlightedText, _Role.Highlight),
                     (_Role.PlaceholderText, _Role.Base)):
        assert contrast_ratio(palette.color(text), palette.color(on)) >= TEXT_CONTRAST, text
    assert contrast_ratio(palette.color(_Role.Highlight), window) >= 3.0  # WCAG 1.4.11: a focus indicator
    for part in (_Role.Base, _Role.Button):  # a field's well and a button's face stand apart from the window
        assert contrast_ratio(palette.color(part), window) >= 1.3, part
