"""Asking before restored work is thrown away (closing the window, removing a photo).

One function, looked up through this module at call time, so tests answer it without a modal box.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from faceapp.gui.plain_label import shown_text


def with_access_key(text: str, taken: set[str]) -> str:
    """``text`` with an access key (Alt + an underlined letter): the first letter starting a word that
    ``taken`` (lower-case letters, updated) has not, else its first other letter free ("C&lose" beside
    Cancel); unchanged when it has one already or none is left (GUI QA: "Save all and close" and
    "Close without saving" could be reached with Tab only, and a lone "Close" by none of its letters)."""
    if "&" in text:
        return text
    starts = [p for p, letter in enumerate(text) if letter.isalpha() and (p == 0 or text[p - 1] == " ")]
    others = [p for p, letter in enumerate(text) if letter.isalpha() and p not in starts]
    for position in starts + others:
        if text[position].lower() not in taken:
            taken.add(text[position].lower())
            return f"{text[:position]}&{text[position:]}"
    return text


def ask_before_discarding(parent: QWidget, text: str, *, discard: str, save: str | None = None,
                          save_loses_some: bool = False) -> str:
    """Show ``text`` with a ``discard`` button, a ``save`` button when given, and Cancel; returns
    "save", "discard" or "cancel". The default is Save when given, else Cancel: Enter loses nothing;
    but where Save too loses some of what is asked about (``save_loses_some``: strokes painted and
    not restored), the default is Cancel (GUI QA: Enter saved and closed, and the strokes were lost)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "faceapp", shown_text(text), parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # (it names photos: a name is not HTML)
    taken = {"c"}  # (Cancel's)
    save_button = box.addButton(with_access_key(save, taken), QMessageBox.ButtonRole.AcceptRole) if save else None
    discard_button = box.addButton(with_access_key(discard, taken), QMessageBox.ButtonRole.DestructiveRole)
    cancel_button = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel_button if save_loses_some or save_button is None else save_button)
    focused = QApplication.focusWidget()
    box.exec()
    window = parent.window() if parent is not None else None
    if window is not None and window.isVisible():  # (workflow QA: after Cancel, with no window manager to hand the keyboard
        window.activateWindow()  # back, Ctrl+Page Down and every other key went nowhere)
        if (focused is not None and shiboken6.isValid(focused) and window.isAncestorOf(focused)  # (gone meanwhile:
                and focused.isVisible()):                                                   # an expired notice, review)
            focused.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
    clicked = box.clickedButton()
    if save_button is not None and clicked is save_button:
        return "save"
    return "discard" if clicked is discard_button else "cancel"
