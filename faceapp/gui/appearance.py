"""The window's colours: the desktop's theme, or light or dark whatever the desktop's (View ▸
Appearance; dark-mode QA: there was no way to choose).

Where the platform lets an application choose its colour scheme (Qt's style hints: Windows, macOS,
GNOME through its portal), the choice is made there, native controls and title bar included.
Elsewhere (an X11 desktop without a theme plug-in) the window takes the Fusion style with a light
or dark palette of its own, and "like the desktop" gives the desktop's style and palette back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from faceapp.gui.look import relative_luminance

#: Each appearance, as the View menu names it.
APPEARANCE_NAMES: dict[str, str] = {"system": "Like the desk&top", "light": "&Light", "dark": "&Dark"}

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup

#: The dark palette's colours: text at 8:1 and more on its window, fields and buttons; fields darker
#: and buttons lighter than the window, so that Fusion's outlines, drawn in the window's colour
#: darkened, still have a shape around them (appearance QA: fields and check boxes on a base as dark
#: as the window, at 1.1:1, looked like blank space); the highlight, also the keyboard's focus frame,
#: at 3.8:1 on the window, with dark text on it at 5.6:1.
_DARK: dict[QPalette.ColorRole, str] = {
    _Role.Window: "#323236", _Role.WindowText: "#ececec", _Role.Base: "#19191b", _Role.AlternateBase: "#27272a",
    _Role.Text: "#ececec", _Role.Button: "#45454b", _Role.ButtonText: "#ececec", _Role.BrightText: "#ffffff",
    _Role.ToolTipBase: "#45454b", _Role.ToolTipText: "#ececec", _Role.PlaceholderText: "#9a9a9f",
    _Role.Highlight: "#4a8fd8", _Role.HighlightedText: "#101012", _Role.Link: "#7fb4f0",
    _Role.LinkVisited: "#b79cf0", _Role.Light: "#5a5a61", _Role.Midlight: "#4b4b51", _Role.Mid: "#2c2c30",
    _Role.Dark: "#1e1e21", _Role.Shadow: "#0c0c0d",
}
#: Disabled text in the dark palette: 3.5:1 on its window, under enabled text's 4.5 so it reads as disabled.
_DARK_DISABLED = "#85858b"

#: The desktop's style while the window uses its own (None: the desktop's is in use), and the
#: appearance that made it do so.
_desktop_style: str | None = None
_forced: str | None = None


def dark_palette() -> QPalette:
    """faceapp's dark palette (for a desktop that lets no application choose its scheme)."""
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (_Role.WindowText, _Role.Text, _Role.ButtonText):
        palette.setColor(_Group.Disabled, role, QColor(_DARK_DISABLED))
    palette.setColor(_Group.Disabled, _Role.Highlight, QColor("#45454a"))
    palette.setColor(_Group.Disabled, _Role.HighlightedText, QColor(_DARK_DISABLED))
    return palette


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette`` is a dark one: light text on a dark window."""
    return relative_luminance(palette.color(_Role.Window)) < relative_luminance(palette.color(_Role.WindowText))


def apply_appearance(appearance: str, app: QApplication | None = None) -> None:
    """Give the application's windows the colours of ``appearance``: "system" (the desktop's),
    "light" or "dark". Widgets follow at once (a palette change reaches each). The desktop's own
    style and palette are kept wherever they are what is asked (appearance QA: Light chosen after
    Dark stayed in faceapp's Fusion on a light desktop with a style of its own)."""
    global _desktop_style, _forced
    app = app or QApplication.instance()
    if appearance == _forced:
        return
    hints = _style_hints(app)
    if _desktop_style is not None:  # the desktop's own style and palette back first: they may do
        app.setStyle(_desktop_style)
        app.setPalette(QPalette())  # (no colour of its own: the theme's, and it follows the desktop again)
        _desktop_style = _forced = None
    if appearance not in ("light", "dark"):
        hints.unsetColorScheme()
        return
    dark = appearance == "dark"
    scheme = Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light
    hints.setColorScheme(scheme)
    # the platform takes the scheme (its palette may come later, through the event loop: review), or
    # the desktop is so already
    if hints.colorScheme() == scheme or is_dark(app.palette()) == dark:
        return
    _desktop_style, _forced = app.style().name(), appearance
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if dark else QStyleFactory.create("Fusion").standardPalette())


def _style_hints(app: QApplication):
    """Where the platform is asked for a colour scheme (a seam for tests: offscreen has none)."""
    return app.styleHints()
