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
APPEARANCE_NAMES: dict[str, str] = {"system": "Like the &desktop", "light": "&Light", "dark": "&Dark"}

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup

#: The dark palette's colours (text at 10:1 and more on its window, base and buttons; the highlight's
#: text at 5.2:1).
_DARK: dict[QPalette.ColorRole, str] = {
    _Role.Window: "#2b2b2e", _Role.WindowText: "#ececec", _Role.Base: "#1f1f22", _Role.AlternateBase: "#2f2f33",
    _Role.Text: "#ececec", _Role.Button: "#35353a", _Role.ButtonText: "#ececec", _Role.BrightText: "#ffffff",
    _Role.ToolTipBase: "#3a3a3f", _Role.ToolTipText: "#ececec", _Role.PlaceholderText: "#9a9a9f",
    _Role.Highlight: "#2f6fb3", _Role.HighlightedText: "#ffffff", _Role.Link: "#7fb4f0",
    _Role.LinkVisited: "#b79cf0", _Role.Light: "#4a4a50", _Role.Midlight: "#3c3c41", _Role.Mid: "#2a2a2d",
    _Role.Dark: "#1a1a1c", _Role.Shadow: "#0c0c0d",
}
#: Disabled text in the dark palette: 3.9:1 on its window, under enabled text's 4.5 so it reads as disabled.
_DARK_DISABLED = "#85858b"

#: The desktop's style while the window uses its own (None: the desktop's is in use).
_desktop_style: str | None = None


def dark_palette() -> QPalette:
    """faceapp's dark palette (for a desktop that lets no application choose its scheme)."""
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (_Role.WindowText, _Role.Text, _Role.ButtonText, _Role.HighlightedText):
        palette.setColor(_Group.Disabled, role, QColor(_DARK_DISABLED))
    palette.setColor(_Group.Disabled, _Role.Highlight, QColor("#45454a"))
    return palette


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette`` is a dark one: light text on a dark window."""
    return relative_luminance(palette.color(_Role.Window)) < relative_luminance(palette.color(_Role.WindowText))


def apply_appearance(appearance: str, app: QApplication | None = None) -> None:
    """Give the application's windows the colours of ``appearance``: "system" (the desktop's),
    "light" or "dark". Widgets follow at once (a palette change reaches each)."""
    global _desktop_style
    app = app or QApplication.instance()
    hints = _style_hints(app)
    if appearance not in ("light", "dark"):
        hints.unsetColorScheme()
        if _desktop_style is not None:  # the desktop's own style and palette back
            app.setStyle(_desktop_style)
            app.setPalette(QPalette())  # (no colour of its own: the theme's, and it follows the desktop again)
            _desktop_style = None
        return
    dark = appearance == "dark"
    hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
    if _desktop_style is None and is_dark(app.palette()) == dark:
        return  # the desktop made the change (or was so already)
    if _desktop_style is None:
        _desktop_style = app.style().name()
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if dark else QStyleFactory.create("Fusion").standardPalette())


def _style_hints(app: QApplication):
    """Where the platform is asked for a colour scheme (a seam for tests: offscreen has none)."""
    return app.styleHints()
