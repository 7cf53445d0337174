"""Keys a user reaches for: Esc leaves a tool, Ctrl+= zooms in, Ctrl+Page Up / Page Down step
through the filmstrip."""

from __future__ import annotations

import os
import shutil

import gui_util
from gui_util import load, restore
import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6 import QtWidgets
from PySide6.QtWidgets import QApplication

from faceapp.gui.shortcuts_dialog import ShortcutsDialog

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


def test_esc_leaves_the_face_box_and_damage_brush_tools_and_their_hints_go(window, qtbot, photo):
    """Keyboard QA: the brush's hint stayed over the photo after Esc had left the brush."""
    load(window, qtbot, photo)
    window.resize(900, 700)  # (narrow enough that the hints are notices over the photo)
    for name in ("draw_box", "damage_brush"):
        window.actions_[name].setChecked(True)
        hint = [notice.text for notice in window.notices.notices() if "Esc leaves" in notice.text]
        assert hint and hint[0].startswith(("Face box:", "Damage brush:"))
        window.compare.setFocus()
        qtbot.keyClick(window.compare, Qt.Key.Key_Escape)
        assert not window.actions_[name].isChecked(), name
        assert not [notice for notice in window.notices.notices() if "Esc leaves" in notice.text], name


def test_a_missed_face_can_be_added_without_a_mouse(window, qtbot, photo):
    """D starts drawing a face box with the photo focused, so the arrow keys place and move a box
    at once; Enter adds it as a face and leaves the tool."""
    path = load(window, qtbot, photo)
    faces = len(window.session.entries[path].faces)
    window.filmstrip.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.actions_["draw_box"].isChecked() and window.compare.hasFocus()
    qtbot.keyClick(window.compare, Qt.Key.Key_Left)
    qtbot.keyClick(window.compare, Qt.Key.Key_Left)
    qtbot.keyClick(window.compare, Qt.Key.Key_Return)
    assert len(window.session.entries[path].faces) == faces + 1
    assert not window.actions_["draw_box"].isChecked()


def test_g_takes_the_keyboard_to_the_seed_thumbnails_so_the_arrows_pick_a_seed(window, qtbot, photo):
    """QA: G focused the gallery's frame, not its thumbnails: Right did nothing, and no focus showed."""
    from PySide6.QtWidgets import QApplication

    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    assert entry.result.faces[0].chosen == 0 and len(entry.result.faces[0].candidates) > 1
    window.activateWindow()
    window.filmstrip.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.filmstrip.hasFocus)
    qtbot.keyClick(window, Qt.Key.Key_G)
    focused = QApplication.focusWidget()
    assert focused is not None and window.gallery.isAncestorOf(focused)
    qtbot.keyClick(focused, Qt.Key.Key_Right)
    assert window.session.entries[path].result.faces[0].chosen == 1


def test_g_before_a_restore_says_the_gallery_is_empty_yet(window, qtbot, photo):
    """The gallery's thumbnails come with a restore: G before one leaves the focus where it was and
    says why (it used to send the focus to the hidden thumbnails, trapping Tab)."""
    load(window, qtbot, photo)
    window.activateWindow()
    window.filmstrip.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.filmstrip.hasFocus)
    qtbot.keyClick(window, Qt.Key.Key_G)
    assert window.filmstrip.hasFocus() and "seed gallery fills once the photo is restored" in gui_util.said(window)


def held_shift(widget, keys) -> None:
    """Shift held down while ``keys`` are tapped, then let go (QTest's clicks press and release
    Shift with every key)."""
    shift = Qt.KeyboardModifier.ShiftModifier
    QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Shift, shift))
    for key in keys:
        QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyPress, key, shift))
        QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyRelease, key, shift))
    QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier))


def test_damage_can_be_painted_and_erased_without_a_mouse(window, qtbot, photo):
    """QA: the damage brush painted with a mouse only. P gives the photo the keyboard; an arrow key
    places the brush, Space paints where it is, Shift with arrows paints as it moves, one stroke until
    Shift is let go (QA: a stroke of four steps took four undos), which Undo takes back; with the
    eraser (E), Space erases."""
    path = load(window, qtbot, photo)
    window.activateWindow()
    window.filmstrip.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.filmstrip.hasFocus)
    qtbot.keyClick(window, Qt.Key.Key_P)
    assert window.actions_["damage_brush"].isChecked() and window.compare.hasFocus()
    editor = window.session.damage_editor(path)
    radius = window.damage.brush_radius()
    qtbot.keyClick(window.compare, Qt.Key.Key_Right)  # placed, in the middle of the photo: nothing painted
    assert editor.is_empty()
    qtbot.keyClick(window.compare, Qt.Key.Key_Space)
    dab = editor.mask() > 0
    ys, xs = np.nonzero(dab)
    centre = window.compare.widget_to_image(QPointF(window.compare.width() / 2, window.compare.height() / 2))
    assert abs(xs.mean() - centre.x()) < 2 and abs(ys.mean() - centre.y()) < 2
    held_shift(window.compare, [Qt.Key.Key_Right] * 3)
    line = editor.mask() > 0
    assert np.nonzero(line)[1].max() >= xs.max() + 3 * radius - 1  # painted three radii to the right
    window.actions_["undo"].trigger()
    np.testing.assert_array_equal(editor.mask() > 0, dab)  # the whole stroke taken back, the dab left
    window.actions_["redo"].trigger()
    # an undo while Shift is held ends the stroke; the next arrows paint a new one (review: nothing)
    shift = Qt.KeyboardModifier.ShiftModifier
    QApplication.sendEvent(window.compare, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Shift, shift))
    QApplication.sendEvent(window.compare, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Down, shift))
    window.actions_["undo"].trigger()
    np.testing.assert_array_equal(editor.mask() > 0, line)
    QApplication.sendEvent(window.compare, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Down, shift))
    QApplication.sendEvent(window.compare, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier))
    assert (editor.mask() > 0).sum() > line.sum()
    window.actions_["undo"].trigger()
    np.testing.assert_array_equal(editor.mask() > 0, line)
    qtbot.keyClick(window.compare, Qt.Key.Key_Up)  # back to the line's end, painting nothing
    qtbot.keyClick(window.compare, Qt.Key.Key_Up)
    qtbot.keyClick(window.compare, Qt.Key.Key_E)  # the eraser
    held_shift(window.compare, [Qt.Key.Key_Left] * 3)
    assert editor.is_empty()


def test_the_keyboard_brush_starts_on_the_before_side_not_under_the_split(window, qtbot, photo):
    """QA: placed in the middle of the view, the brush hid under the split's handle."""
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    assert window.compare.view_mode() == "split"
    window.activateWindow()
    window.actions_["damage_brush"].setChecked(True)
    window.compare.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.compare.hasFocus)
    qtbot.keyClick(window.compare, Qt.Key.Key_Space)
    ys, xs = np.nonzero(window.session.damage_editor(path).mask())
    painted = window.compare.image_to_widget(QPointF(xs.mean(), ys.mean()))
    shown = window.compare.image_rect()
    assert shown.left() < painted.x() < window.compare.divider_x() - window.damage.brush_radius()


def test_f10_opens_the_first_menu(window, qtbot):
    """QA: F10, the usual key for the menu bar on Linux desktops, did nothing."""
    window.show()
    window.activateWindow()
    window.compare.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.compare.hasFocus)
    qtbot.keyClick(window.compare, Qt.Key.Key_F10)
    opened = window.menuBar().activeAction()
    assert opened is not None and opened.text() == "&File"
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_Right)  # the arrows move between the menus
    qtbot.wait(20)
    assert window.menuBar().activeAction().text() == "&Edit" and QApplication.activePopupWidget() is not None
    # one Esc gives the keyboard back where it was (QA: the menu bar kept it, unseen: Tab did nothing)
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(window.compare.hasFocus)
    assert window.menuBar().activeAction() is None


def test_ctrl_equals_zooms_in_as_ctrl_plus_does(window):
    shortcuts = window.actions_["zoom_in"].shortcuts()
    assert QKeySequence("Ctrl+=") in shortcuts and QKeySequence(QKeySequence.StandardKey.ZoomIn) in shortcuts


def test_ctrl_page_down_and_up_step_through_the_photos(window, qtbot, photo, testdata_dir):
    second = shutil.copy(testdata_dir / "photos" / "cf_06.png", photo.parent / "cf_06.png")
    first = load(window, qtbot, photo)
    other = load(window, qtbot, second)
    order = window.filmstrip.paths()
    assert order == [first, other] and window.current == other  # the photo opened last is shown
    window.actions_["next_photo"].trigger()  # wraps round
    assert window.current == first
    window.actions_["next_photo"].trigger()
    assert window.current == other
    window.actions_["previous_photo"].trigger()
    assert window.current == first
    window.add_paths([other])  # asked for again (Open Recent): shown, not loaded twice
    assert window.current == other and window.filmstrip.paths() == [first, other]
    assert window.add_paths([photo.parent]) == [first, other]  # their folder opened again: its first shown
    assert window.current == first  # Open recent has the folder, not its photos, on top:
    assert window.store.recent_files()[:3] == [photo.parent, other, first]
    window._fill_recent()
    assert [a.text() for a in window.recent_menu.actions()][:2] == [f"{photo.parent}{os.sep}", str(other)]
    # an "&" in a name is shown, not taken as an access key; a long path is shortened in the middle (unicode QA)
    anded, deep = photo.parent / "Oma & Opa.jpg", photo.parent.joinpath(*["a_long_folder_name"] * 30, "x.jpg")
    window.store.add_recent([deep, anded])
    window._fill_recent()
    first, second = window.recent_menu.actions()[:2]
    assert first.text() == str(anded).replace("&", "&&") and first.toolTip() == str(anded)
    assert second.text().endswith("x.jpg") and "…" in second.text() and second.toolTip() == str(deep)
    assert window.actions_["next_photo"].shortcut() == QKeySequence("Ctrl+PgDown")


def test_open_recent_can_be_cleared(window, qtbot, photo, tmp_path):
    """Privacy QA: Open Recent kept the last photos' full paths (folder names like "Medical 2019"
    among them) with no way to clear them but editing the settings file."""
    from PySide6.QtCore import QSettings

    load(window, qtbot, photo)
    window._fill_recent()
    clear = window.recent_menu.actions()[-1]
    assert clear.text() == "&Clear Menu" and clear.isEnabled()
    clear.trigger()
    assert window.store.recent_files() == []
    on_disk = QSettings(window.store._settings.fileName(), QSettings.Format.IniFormat)  # written, not only forgotten
    assert on_disk.value("recent/files") in (None, [], "")
    window._fill_recent()
    assert [a.text() for a in window.recent_menu.actions() if not a.isSeparator()] == ["(none)", "&Clear Menu"]
    assert not window.recent_menu.actions()[-1].isEnabled()


def test_dropping_a_folder_without_photos_says_what_it_holds(window, tmp_path):
    """(Not a key, but the same first minutes.) Dropping an album whose photos are all in
    sub-folders, or an empty folder, is not met with silence."""
    from gui_util import drop_files

    album = tmp_path / "album"
    (album / "2019").mkdir(parents=True)
    drop_files(window, [album])
    notice = window.notices.notices()[-1]
    assert "No photos to open in album" in notice.text and "sub-folder" in notice.text
    assert notice.action == "open_folder"


def test_every_control_the_keyboard_reaches_has_a_name_a_screen_reader_says(window, qtbot, photo):
    """QA: the gallery's face list had a tooltip but no name: a screen reader said only "combo box"."""
    from PySide6.QtGui import QAccessible
    from PySide6.QtWidgets import QWidget

    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    window.show()
    reached = [w for w in window.findChildren(QWidget)
               if w.isVisibleTo(window) and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    assert len(reached) >= 5
    unnamed = [f"{type(w).__name__} {w.objectName()!r} {w.toolTip()!r}" for w in reached
               if not QAccessible.queryAccessibleInterface(w).text(QAccessible.Text.Name).strip()]
    assert unnamed == []


def test_a_letter_typed_on_the_filmstrip_does_not_switch_photos(window, qtbot, photo, testdata_dir):
    """A one-letter shortcut whose action is off (E, the eraser, without the brush; B before a
    restore) reached the filmstrip, whose type-to-search jumped to the photo named with that letter
    (QA: the user then painted on the wrong photo)."""
    eye = shutil.copy(testdata_dir / "photos" / "cf_06.png", photo.parent / "eye_torn.png")
    first = load(window, qtbot, photo)
    load(window, qtbot, eye)
    window.filmstrip.select(first)
    window.filmstrip.setFocus()
    assert not window.actions_["eraser"].isEnabled()
    qtbot.keyClick(window.filmstrip, Qt.Key.Key_E)
    qtbot.keyClicks(window.filmstrip, "eye")
    assert window.current == first


def _tab_round(window, qtbot, start, *, backwards: bool = False) -> list:
    """The widgets Tab (Shift+Tab) visits from ``start`` until focus comes back to it (at most 40)."""
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus)
    key, modifier = (Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) if backwards else (Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier)
    visited = []
    for _ in range(40):
        qtbot.keyClick(QApplication.focusWidget(), key, modifier)
        focused = QApplication.focusWidget()
        if focused is start:
            break
        visited.append(focused)
    return visited


def test_tab_goes_round_every_control_both_ways_before_and_after_a_restore(window, qtbot, photo):
    """QA: before a restore, Tab stopped at Restore for good (the gallery, whose thumbnails were
    hidden, sent the focus to them); after it, Tab skipped the gallery's face list, More and Diffuse
    anyway, which Shift+Tab reached. Tab now visits every control the keyboard can reach, and
    Shift+Tab the same ones, in the opposite order."""
    from PySide6.QtWidgets import QWidget

    path = load(window, qtbot, photo)
    window.show()
    for stage in ("loaded", "restored"):
        forwards = _tab_round(window, qtbot, window.restore_button)
        assert forwards and forwards[-1] is not None, stage
        assert window.restore_button not in forwards and len(set(map(id, forwards))) == len(forwards), stage
        backwards = _tab_round(window, qtbot, window.restore_button, backwards=True)
        assert backwards == forwards[::-1], stage
        reachable = [w for w in window.findChildren(QWidget) if w.isVisible() and w.isEnabled()
                     and w.focusPolicy() & Qt.FocusPolicy.TabFocus and w is not window.restore_button]
        assert {id(w) for w in reachable} <= {id(w) for w in forwards}, (stage, [type(w).__name__ for w in reachable if w not in forwards])
        if stage == "loaded":
            restore(window, qtbot, path)


def test_help_lists_every_key_and_a_tool_says_its_keys_as_it_is_taken_up(window, qtbot):
    """GUI QA: G, B, the brush's and the face box's keys were in tooltips and the README only. An
    action listed by its menu text of the moment is listed by its own name (review: Ctrl+Z read
    "Undo face 1's seed pick")."""
    window.actions_["undo"].setText("&Undo face 1's seed pick")  # (as a pick makes it)
    window.actions_["undo"].setShortcuts([QKeySequence("Ctrl+Alt+Z")])  # (listed: not a key of its own)
    dialog = ShortcutsDialog(window.actions_, window)
    qtbot.addWidget(dialog)
    rows = [tuple(dialog.table.item(r, c).text() for c in range(3)) for r in range(dialog.table.rowCount())]
    assert ("View menu", "G", "Seed gallery") in rows and ("Edit menu", "P", "Damage brush") in rows
    assert ("Edit menu", QKeySequence("Ctrl+Alt+Z").toString(QKeySequence.SequenceFormat.NativeText), "Undo") in rows
    assert any(keys == "Shift + arrows" and "one stroke" in what for _where, keys, what in rows)
    dedicated = {"Undo", "Redo", "Copy", "Paste", "Help", "Close", "Save", "Open", "Cut", "Back", "Forward"}
    shortcuts = {s.toString() for a in window.actions_.values() for s in a.shortcuts() if not s.isEmpty()}
    listed = {k for _where, keys, _what in rows for k in keys.split(", ")}
    assert shortcuts - dedicated <= listed  # every action's shortcut, read from the actions…
    assert not listed & dedicated  # …but keys of their own on some keyboards ("Ctrl+Shift+Z, Redo": desktop QA)
    # the keys of the widget with the keyboard and of full screen too, and the actions by their menu (docs QA)
    assert any("Shift+F10" in keys for _where, keys, _what in rows) and ("Full screen", "Esc", "Leave full screen") in rows
    menus = [where for where, _keys, _what in rows if where.endswith(" menu")]
    order = ["File menu", "Edit menu", "View menu", "Photo menu", "Models menu", "Help menu"]
    assert menus == sorted(menus, key=order.index)
    assert window.actions_["shortcuts"].shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
    gui_util.hush(window)
    window.actions_["damage_brush"].setChecked(True)
    assert "Shift + arrows paint, Space dabs" in gui_util.said(window)
    window.actions_["draw_box"].setChecked(True)
    assert "press an arrow key to place one" in gui_util.said(window)


def test_save_as_has_ctrl_shift_s_where_the_platform_gives_it_no_key(qtbot):
    """Portability QA: Qt's Windows bindings have no key for Save as; Windows users had none."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QWidget

    from faceapp.gui.actions import build_actions, with_key_besides

    parent = QWidget()
    qtbot.addWidget(parent)
    on_windows = QAction("Save as", parent)  # (as Qt builds it there: StandardKey.SaveAs is no key)
    with_key_besides(on_windows, QKeySequence("Ctrl+Shift+S"))
    assert on_windows.shortcuts() == [QKeySequence("Ctrl+Shift+S")]
    elsewhere = QAction("Save as", parent)
    elsewhere.setShortcut(QKeySequence("Shift+F12"))  # a platform's own key stays first, shown in the menu
    with_key_besides(elsewhere, QKeySequence("Ctrl+Shift+S"))
    assert elsewhere.shortcuts() == [QKeySequence("Shift+F12"), QKeySequence("Ctrl+Shift+S")]
    assert QKeySequence("Ctrl+Shift+S") in build_actions(parent)["save_as"].shortcuts()


def test_redo_takes_both_ctrl_shift_z_and_ctrl_y(window, qtbot, photo):
    """Two-instance QA: on X11 only Ctrl+Shift+Z redid a stroke, offscreen only Ctrl+Y: users of
    either convention pressed a key that did nothing."""
    path = load(window, qtbot, photo)
    window.activateWindow()
    window.compare.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.compare.hasFocus)
    qtbot.keyClick(window.compare, Qt.Key.Key_P)
    qtbot.keyClick(window.compare, Qt.Key.Key_Space)  # a dab in the middle
    editor = window.session.damage_editor(path)
    painted = editor.mask().copy()
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    for redo in ((Qt.Key.Key_Z, ctrl | shift), (Qt.Key.Key_Y, ctrl)):
        qtbot.keyClick(window.compare, Qt.Key.Key_Z, ctrl)
        assert editor.is_empty()
        qtbot.keyClick(window.compare, *redo)
        np.testing.assert_array_equal(editor.mask(), painted)


def test_esc_closes_the_newest_notice_once_no_tool_or_full_screen_holds_it(window, qtbot, photo):
    """Desktop QA: Esc did not dismiss a notice, as it does every other transient message."""
    from faceapp.gui.notifications import Notice

    load(window, qtbot, photo)
    for text in ("First note.", "Second note."):
        window.notices.show_notice(Notice(text, "warning"))
    window.actions_["draw_box"].setChecked(True)
    window.compare.setFocus()
    qtbot.keyClick(window.compare, Qt.Key.Key_Escape)  # the tool first
    assert not window.actions_["draw_box"].isChecked()
    assert [n.text for n in window.notices.notices() if n.text.endswith("note.")] == ["First note.", "Second note."]
    qtbot.keyClick(window.compare, Qt.Key.Key_Escape)
    assert [n.text for n in window.notices.notices() if n.text.endswith("note.")] == ["First note."]


def test_esc_in_a_notice_closes_that_one_and_not_a_running_restore(window, qtbot, photo):
    """A notice reached with Tab closes with Esc, even while Cancel holds the key (it would have
    stopped the restore), and the keyboard goes back to the photo."""
    from faceapp.gui.notifications import Notice, _Banner

    load(window, qtbot, photo)
    window.notices.show_notice(Notice("Close me.", "warning"))
    window.notices.show_notice(Notice("Keep me.", "warning"))  # (Tab order would take the keyboard there)
    cancelled = []
    window.actions_["cancel"].setEnabled(True)  # as while a restore runs
    window.actions_["cancel"].triggered.connect(lambda: cancelled.append(True))
    window.activateWindow()
    banner = next(b for b in window.notices.findChildren(_Banner) if b.notice.text == "Close me.")
    dismiss = banner.findChildren(QtWidgets.QPushButton)[-1]
    dismiss.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(dismiss.hasFocus)
    qtbot.keyClick(dismiss, Qt.Key.Key_Escape)
    assert [n.text for n in window.notices.notices()] == ["Keep me."]
    assert not cancelled
    assert window.compare.hasFocus()


def test_help_says_what_the_windows_words_mean_naming_the_actions_as_they_are(window, qtbot, monkeypatch):
    """First-hour QA: restorer, prior, fidelity, seed and spared were met in notices and buttons with
    nothing saying what they were, and the Help menu held keys, a log folder and About. Help ▸ How
    faceapp works says it, naming the actions and their keys as the menus do."""
    from faceapp.gui import how_it_works

    shown = []
    monkeypatch.setattr(how_it_works.HowItWorksDialog, "exec", lambda dialog: shown.append(dialog) or 0)
    window.actions_["refine"].setShortcut(QKeySequence("Ctrl+Alt+F"))  # (read from the action, not written in)
    window.actions_["how_it_works"].trigger()
    [dialog] = shown
    qtbot.addWidget(dialog)
    page = dialog.page.toPlainText()
    for term in ("restorer", "prior", "fidelity", "seed", "spared", "Diffuse anyway", "More"):
        assert term in page, term
    keys = QKeySequence("Ctrl+Alt+F").toString(QKeySequence.SequenceFormat.NativeText)
    assert f"Refine face ({keys})" in page and "Damage brush (P)" in page
    assert "How faceapp works" in [a.text().replace("&", "") for a in next(
        a.menu() for a in window.menuBar().actions() if a.text() == "&Help").actions()]
    gui_util.hush(window)
