"""Asking before restored work is thrown away (closing the window, removing a photo).

One function, looked up through this module at call time, so tests answer it without a modal box.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_before_discarding(parent: QWidget, text: str, *, discard: str, save: str | None = None) -> str:
    """Show ``text`` with a ``discard`` button, a ``save`` button when given, and Cancel (the
    default is Save when given, else Cancel: Enter loses nothing); returns "save", "discard" or "cancel"."""
    box = QMessageBox(QMessageBox.Icon.Warning, "faceapp", text, parent=parent)
    save_button = box.addButton(save, QMessageBox.ButtonRole.AcceptRole) if save else None
    discard_button = box.addButton(discard, QMessageBox.ButtonRole.DestructiveRole)
    cancel_button = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save_button or cancel_button)
    box.exec()
    clicked = box.clickedButton()
    if save_button is not None and clicked is save_button:
        return "save"
    return "discard" if clicked is discard_button else "cancel"
