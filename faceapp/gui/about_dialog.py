"""Help ▸ About faceapp: the version, the method and every model's licence, in a dialog that fits
the screen (low-vision QA: Qt's About box grew 917 px tall at a large font on a 768 px screen, its
OK button out of sight, with no way to scroll)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFrame, QScrollArea, QVBoxLayout, QWidget

from faceapp.gui.look import fit_to_screen
from faceapp.gui.plain_label import PlainLabel


def about_dialog(parent: QWidget | None, text: str) -> QDialog:
    """A dialog showing ``text`` (plain, wrapped, selectable), scrolling where the screen is too
    low for it, with OK always in sight; not yet shown (``open()`` it)."""
    dialog = QDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # (one made each time it is asked for: review)
    dialog.setWindowTitle("About faceapp")
    label = PlainLabel(text)
    label.setWordWrap(True)
    # selectable by keyboard too: the text takes the focus, where a screen reader reads it (screen-reader
    # QA: the focus went to the unnamed scroll area around it)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    label.setAccessibleName("About faceapp")
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    area = QScrollArea()
    area.setWidget(label)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
    buttons.accepted.connect(dialog.accept)
    layout = QVBoxLayout(dialog)
    layout.addWidget(area, 1)
    layout.addWidget(buttons)
    em = dialog.fontMetrics().height()
    fit_to_screen(dialog, QSize(36 * em, 24 * em))  # (review: the libraries' line fell below the fold at 18)
    label.setFocus()  # (a screen reader reads it first; Enter still presses OK, the default button)
    return dialog
