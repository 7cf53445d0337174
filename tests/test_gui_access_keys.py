"""Working without a mouse: every menu entry, and every field and button of the Settings and Models
dialogs, has an access key (Alt + an underlined letter), none shared with a neighbour (keyboard QA:
Alt+P, C highlighted Cancel beside Faces instead of cancelling; the Settings' last field took 23 Tabs)."""

from __future__ import annotations

import gui_util
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton, QComboBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QDoubleSpinBox, QWidget,
)

from faceapp.core.preferences import Preferences
from faceapp.core.registry import Registry
from faceapp.gui.model_manager import ModelManagerDialog
from faceapp.gui.settings_dialog import SettingsDialog

window = gui_util.window  # the shared fixture


def access_key(text: str) -> str | None:
    """The letter ``text`` underlines (after a single "&"; "&&" is an ampersand), lower-case, or None."""
    position = 0
    while (position := text.find("&", position)) != -1 and position + 1 < len(text):
        if text[position + 1] != "&":
            return text[position + 1].lower()
        position += 2
    return None


def test_access_key_reads_the_underlined_letter():
    assert access_key("Re&fine face") == "f" and access_key("Save && close") is None and access_key("Fit") is None


def test_every_menu_entry_has_an_access_key_of_its_own(window):
    """In the menu bar's menus, their submenus (Appearance) and the right-click menus (keyboard QA:
    "&Restore" and "&Remove photo" shared R in a thumbnail's menu, "Like the &desktop" and "&Dark"
    D: a key press only moved between them)."""
    from faceapp.gui.actions import CONTEXT_MENUS

    menus = [action.menu() for action in window.menuBar().actions()]
    menus += [action.menu() for menu in list(menus) for action in menu.actions() if action.menu() is not None
              and action.menu().actions()]  # (Appearance; Open recent and Faces are filled as they open)
    titles = [access_key(action.text()) for action in window.menuBar().actions()]
    assert None not in titles and len(set(titles)) == len(titles)
    context = [(kind, [window.actions_[name].text() for name in names if name]) for kind, names in CONTEXT_MENUS.items()]
    context.append(("seed", ["&Use seed 3"] + context[0][1]))
    for menu, entries in [(m, [a.text() for a in m.actions() if not a.isSeparator()]) for m in menus] + context:
        keys = [access_key(text) for text in entries]
        unkeyed = [text for text, key in zip(entries, keys) if key is None]
        shared = sorted({text for text, key in zip(entries, keys) if key is not None and keys.count(key) > 1})
        title = menu if isinstance(menu, str) else menu.title()
        assert not unkeyed and not shared, f"{title}: without an access key {unkeyed}, sharing one {shared}"


def _fields_and_keys(dialog: QWidget) -> tuple[list[QWidget], dict[QWidget, str]]:
    """The dialog's fields and buttons, and the access key that reaches each one: a button's or
    check box's own, or its form label's (the label's buddy)."""
    fields = [w for w in dialog.findChildren(QWidget)
              if isinstance(w, (QAbstractButton, QComboBox, QLineEdit, QSpinBox, QDoubleSpinBox))
              and not isinstance(w.parent(), (QComboBox, QSpinBox, QDoubleSpinBox))]
    fields = [w for w in fields if w.focusPolicy() != Qt.FocusPolicy.NoFocus]  # (a table's corner button)
    keys: dict[QWidget, str] = {}
    for label in dialog.findChildren(QLabel):
        if label.buddy() is not None and (key := access_key(label.text())) is not None:
            keys[label.buddy()] = key
    for field in fields:
        if isinstance(field, QAbstractButton) and (key := access_key(field.text())) is not None:
            keys.setdefault(field, key)
    return fields, keys


def _assert_all_reachable(dialog: QWidget, *, besides: tuple[str, ...] = ()) -> None:
    fields, keys = _fields_and_keys(dialog)
    unreached = [getattr(w, "text", lambda: "")() or w.toolTip()[:40] or type(w).__name__ for w in fields
                 if w not in keys and not (isinstance(w, QAbstractButton) and w.text() in besides)]
    assert not unreached, f"fields without an access key: {unreached}"
    letters = list(keys.values())
    assert len(set(letters)) == len(letters), f"access keys shared: {sorted(k for k in set(letters) if letters.count(k) > 1)}"


def test_every_settings_field_has_an_access_key_of_its_own(qtbot):
    dialog = SettingsDialog(Preferences(), models=[("tiny", "Tiny")])
    qtbot.addWidget(dialog)
    assert dialog.findChildren(QFormLayout)  # (the fields' labels are the forms')
    _assert_all_reachable(dialog, besides=("OK", "Cancel"))  # (Enter and Esc)


def test_every_button_of_the_models_dialog_has_an_access_key_of_its_own(qtbot):
    dialog = ModelManagerDialog(Registry())
    qtbot.addWidget(dialog)
    _assert_all_reachable(dialog)
    dialog.reject()  # (stops its download thread)


def test_help_says_the_licences_of_qt_and_of_the_models_and_where_the_model_card_is(window, monkeypatch):
    """Packager QA: the bundle carries Qt (LGPL) and no word of it; the About box named the model
    card by a checkout's path."""
    from PySide6.QtWidgets import QMessageBox

    from faceapp import paths

    from faceapp.gui.plain_label import PlainLabel

    shown = []
    monkeypatch.setattr(QMessageBox, "aboutQt", lambda parent, *args: shown.append("Qt"))
    window.actions_["about_qt"].trigger()
    window.actions_["about"].trigger()
    about = window.about_box.findChild(PlainLabel).text()
    window.about_box.accept()
    assert shown == ["Qt"] and str(paths.bundled_models_dir() / "MODEL_CARD.md") in about
    # and where the notices of the libraries it is built on are (release QA: only the models' were named)
    assert paths.third_party_notices() is not None and f"notices and licences are in {paths.third_party_notices()}" in about
    assert "about_qt" in [name for name, action in window.actions_.items()
                          if action in window.menuBar().actions()[-1].menu().actions()]
