"""Help ▸ Keyboard shortcuts: every key the window answers, in one list.

The menus show their actions' shortcuts, but the keys of the photo (the divider, panning, the face
box and the damage brush), of the gallery and of the filmstrip were in the README only (GUI QA: a
keyboard-only user could not find G, B or the brush's keys). The actions' part is read from the
actions themselves, so it cannot drift from them; the rest is :data:`VIEW_KEYS`.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from faceapp.gui.actions import ACTIONS, MENUS, plain_menu_text
from faceapp.gui.look import fit_to_screen

#: Keys that belong to a part of the window rather than to an action: (where, keys, what they do).
VIEW_KEYS: tuple[tuple[str, str, str], ...] = (
    ("Menus", "F10", "Open the first menu (the arrows move between menus; Esc leaves)"),
    ("Menus", "Shift+F10, the Menu key", "The right-click menu of what has the keyboard"),
    ("Full screen", "Esc", "Leave full screen"),
    ("Notices", "Esc", "Close the newest notice (in a notice reached with Tab: that one)"),
    ("Photo", "Left / Right", "Move the split's divider (Home / End: to an edge)"),
    ("Photo", "Up / Down, Page Up / Page Down, Ctrl + arrows", "Pan a zoomed photo"),
    ("Face box (D)", "An arrow key", "Place a box; the arrows move it, + / - resize it, Enter adds it"),
    ("Damage brush (P)", "An arrow key", "Place the brush; the arrows move it"),
    ("Damage brush (P)", "Shift + arrows", "Paint as it moves (one stroke until Shift is let go)"),
    ("Damage brush (P)", "Space", "Paint where the brush is"),
    ("Face box, brush", "Esc", "Leave the tool (while a run goes: cancel it first)"),
    ("Seed gallery (G)", "Arrows", "Choose a candidate: the photo shows it at once"),
    ("Filmstrip", "Arrows, Home / End", "Show another photo"),
    ("Fidelity slider", "Arrows, Page Up / Page Down, Home / End", "Faithful ↔ realistic"),
)


#: Keys of their own on some keyboards, which the platform's standard shortcuts include: listed, they
#: read as a word among key names ("Ctrl+Shift+Z, Redo, Ctrl+Y": desktop QA).
_DEDICATED_KEYS = frozenset({Qt.Key.Key_Undo, Qt.Key.Key_Redo, Qt.Key.Key_Copy, Qt.Key.Key_Paste, Qt.Key.Key_Cut,
                             Qt.Key.Key_Open, Qt.Key.Key_Save, Qt.Key.Key_Close, Qt.Key.Key_Help, Qt.Key.Key_Back,
                             Qt.Key.Key_Forward, Qt.Key.Key_ZoomIn, Qt.Key.Key_ZoomOut})


def _listed(key: QKeySequence) -> bool:
    return not key.isEmpty() and not (key.count() == 1 and key[0].key() in _DEDICATED_KEYS)


def shortcut_rows(actions: dict[str, QAction]) -> list[tuple[str, str, str]]:
    """(where, keys, what) for every action with a shortcut, by its menu, then :data:`VIEW_KEYS`."""
    menu_of = {name: f"{plain_menu_text(title)} menu" for title, names in MENUS.items() for name in names if name}
    rows = []
    order = [name for names in MENUS.values() for name in names if name]
    for name, action in sorted(actions.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)):
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if _listed(k))
        if keys:
            what = ACTIONS[name][0] if name in ACTIONS else action.text()  # (as listed: not Undo's text of
            rows.append((menu_of.get(name, "Window"), keys, plain_menu_text(what)))  # the moment, review)
    return rows + list(VIEW_KEYS)


class ShortcutsDialog(QDialog):
    """A table of :func:`shortcut_rows`, read by the keyboard as any table is."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Keys", "What"])
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 200)  # (long lists of keys wrap)
        self.table.resizeRowsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        fit_to_screen(self, QSize(760, 560))  # (QA: at 1280×720 and 125 % its Close was under the taskbar)
