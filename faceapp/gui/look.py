"""Colours and headings the window's widgets share, so the panes look like one app."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette, Qt
from PySide6.QtWidgets import QLabel, QWidget

#: Behind photos and thumbnails: the compare view, the live preview, the filmstrip.
PHOTO_BACKGROUND = QColor(38, 38, 42)
#: A dark plate behind text drawn over a photo.
TAG_BACKGROUND = QColor(20, 20, 24, 170)
#: The hue of a setting outside what the model was found to do well (see :func:`caution_colour`).
CAUTION = QColor(196, 110, 0)
#: The width of the frame in the highlight colour around a view or slider that has the keyboard.
FOCUS_FRAME_PX = 2
#: The hue of text saying what is wrong with a value (see :func:`error_colour`).
ERROR_TEXT = QColor(190, 30, 30)
#: WCAG 2's minimum contrast for normal text (AA)
TEXT_CONTRAST = 4.5
#: What coloured text is made to reach: AA's 4.5 with a margin for red-green colour blindness, which
#: sees red and amber darker (colour-blind QA: text made for 4.5 was 3.8:1 to a protan eye)
COLOURED_TEXT_CONTRAST = 5.5
#: Room kept free on a dialog's screen for its title bar and frame, which its size leaves out and
#: which are not known before it is shown.
WINDOW_FRAME_ALLOWANCE_PX = 48


def caution_colour(palette: QPalette) -> QColor:
    """:data:`CAUTION` as text on the palette's window: amber, readable in light and dark themes."""
    return readable_on(CAUTION, palette.color(QPalette.ColorRole.Window))


def error_colour(palette: QPalette) -> QColor:
    """:data:`ERROR_TEXT` as text on the palette's window: red, readable in light and dark themes."""
    return readable_on(ERROR_TEXT, palette.color(QPalette.ColorRole.Window))


def readable_on(colour: QColor, background: QColor, minimum: float = COLOURED_TEXT_CONTRAST) -> QColor:
    """``colour``, its hue kept, darkened on a light background or lightened on a dark one until
    its contrast with ``background`` is at least ``minimum`` (WCAG 2's ratio of luminances)."""
    if contrast_ratio(colour, background) >= minimum:
        return QColor(colour)
    hue, saturation, lightness, alpha = colour.getHslF()
    darker = relative_luminance(background) > 0.18  # the middle of the luminance range, in contrast terms
    steps = 50
    for step in range(1, steps + 1):
        shade = lightness * (1 - step / steps) if darker else lightness + (1 - lightness) * step / steps
        candidate = QColor.fromHslF(max(hue, 0.0), saturation, shade, alpha)
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return QColor.fromHslF(max(hue, 0.0), saturation, 0.0 if darker else 1.0, alpha)


def relative_luminance(colour: QColor) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0 black … 1 white)."""
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF()) + 0.0722 * linear(colour.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2's contrast ratio of two colours, 1 (none) … 21 (black on white)."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def section_title(text: str) -> QLabel:
    """A bold heading for one part of the side panel."""
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


#: A tooltip longer than this many characters is shown wrapped (Qt shows plain text on one line).
WRAPPED_TIP_CHARS = 80


def wrap_long_tooltips(root: QWidget) -> None:
    """Show every long plain-text tooltip of ``root`` and its children wrapped, as rich text (QA:
    the texture polish's ran about 1,100 px wide, off a small screen); the words are unchanged."""
    for widget in (root, *root.findChildren(QWidget)):
        tip = widget.toolTip()
        if len(tip) > WRAPPED_TIP_CHARS and not Qt.mightBeRichText(tip):
            widget.setToolTip(f"<p>{html.escape(tip)}</p>")


def fit_to_screen(dialog: QWidget, wanted: QSize) -> None:
    """Size ``dialog`` to ``wanted``, but no larger than its screen's free area less its title bar
    and frame (QA: at 200 % on a 1280×720 screen, the Models dialog's Close was off the screen),
    nor smaller than its layout allows: what it holds then scrolls or wraps."""
    screen = dialog.screen() or QGuiApplication.primaryScreen()
    room = screen.availableGeometry()
    least = dialog.minimumSizeHint()
    width = min(wanted.width(), room.width() - WINDOW_FRAME_ALLOWANCE_PX)
    height = min(wanted.height(), room.height() - WINDOW_FRAME_ALLOWANCE_PX)
    dialog.resize(max(width, least.width()), max(height, least.height()))
