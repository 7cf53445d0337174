"""What desktop photo programs have taught their users to expect (desktop QA): right-click menus,
a right click that chooses nothing, Ctrl+W, Show in folder, full screen, a double click that zooms,
and Open recent telling of a file gone."""

from __future__ import annotations

import gui_util
import pytest
from gui_util import load, restore
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


def _menu_texts(menu) -> list[str]:
    return [action.text() for action in menu.actions() if not action.isSeparator()]


def _open_menu(widget):
    """The right-click menu the window opened on ``widget``, closed again; its entries' texts."""
    menu = QApplication.activePopupWidget()
    assert menu is not None, "no menu opened"
    texts = _menu_texts(menu)
    menu.close()
    return texts


def test_right_clicking_a_seed_opens_a_menu_and_chooses_nothing(window, qtbot, photo):
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    chosen = entry.result.faces[0].chosen
    gallery_list = window.gallery._list
    other = gallery_list.visualItemRect(gallery_list.item(2)).center()
    qtbot.mouseClick(gallery_list.viewport(), Qt.MouseButton.RightButton, pos=other)
    assert window.session.entries[path].result.faces[0].chosen == chosen  # (it chose seed 3, silently)
    where = gallery_list.viewport().mapTo(window.gallery, other)
    window.gallery.customContextMenuRequested.emit(where)
    menu = QApplication.activePopupWidget()
    seed = entry.result.faces[0].seeds[2]
    use = next(action for action in menu.actions() if action.text() == f"&Use seed {seed}")  # (which: sceptic QA)
    assert {"&Copy photo", "Save &as…"} <= set(_menu_texts(menu))
    use.trigger()
    menu.close()
    assert window.session.entries[path].result.faces[0].chosen == 2


def test_the_photo_and_its_thumbnail_have_right_click_menus(window, qtbot, photo):
    path = load(window, qtbot, photo)
    window.compare.customContextMenuRequested.emit(QPoint(50, 50))
    assert {"&Copy photo", "&Save", "Show in fol&der", "&Fit"} <= set(_open_menu(window.compare))
    cell = window.filmstrip.visualItemRect(window.filmstrip.item(0)).center()
    window.filmstrip.customContextMenuRequested.emit(cell)
    assert {"&Restore", "Copy pat&h", "Re&move photo", "Show in fol&der"} <= set(_open_menu(window.filmstrip))
    window.filmstrip.customContextMenuRequested.emit(QPoint(window.filmstrip.width() - 5, 5))  # the strip's empty end
    assert "&Open…" in _open_menu(window.filmstrip)
    window.actions_["copy_path"].trigger()
    assert QGuiApplication.clipboard().text() == str(path)


def test_the_brush_takes_the_right_button_for_erasing_not_for_a_menu(window, qtbot, photo):
    load(window, qtbot, photo)
    assert window.damage.contextMenuPolicy() == Qt.ContextMenuPolicy.PreventContextMenu


def test_show_in_folder_opens_the_folder_of_the_saved_result_else_of_the_photo(window, qtbot, photo, monkeypatch,
                                                                                tmp_path):
    import dataclasses

    import faceapp.gui.main_window as main_window

    opened = []
    monkeypatch.setattr(main_window.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    path = load(window, qtbot, photo)
    window.actions_["show_in_folder"].trigger()
    restore(window, qtbot, path)
    out = tmp_path / "results"
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, output_folder=str(out)))
    gui_util.saved(window, qtbot, window.exports.save)
    window.actions_["show_in_folder"].trigger()
    assert opened == [QUrl.fromLocalFile(str(path.parent)), QUrl.fromLocalFile(str(out))]


def test_ctrl_w_closes_the_photo_and_f11_fills_the_screen(window, qtbot, photo):
    assert QKeySequence("Ctrl+W") in window.actions_["remove"].shortcuts()
    assert QKeySequence("F11") in window.actions_["full_screen"].shortcuts()  # (X11 binds no key of its own: QA)
    window.actions_["full_screen"].trigger()
    assert window.windowState() & Qt.WindowState.WindowFullScreen
    window.actions_["full_screen"].trigger()
    assert not window.windowState() & Qt.WindowState.WindowFullScreen
    window.actions_["full_screen"].trigger()
    assert window.actions_["cancel"].shortcut().isEmpty()  # (Esc there stopped a restore: review)
    qtbot.keyClick(window.compare, Qt.Key.Key_Escape)  # Esc leaves it too
    assert not window.windowState() & Qt.WindowState.WindowFullScreen
    assert not window.actions_["full_screen"].isChecked()
    assert window.actions_["cancel"].shortcut() == QKeySequence("Esc")  # Cancel's again


def test_a_double_click_on_the_photo_zooms_to_100_and_back_to_fit(window, qtbot, photo):
    load(window, qtbot, photo)
    view = window.compare
    qtbot.waitUntil(lambda: view.before_image() is not None)
    fitted = view.zoom()
    assert fitted != pytest.approx(1.0)
    where = QPoint(view.width() // 3, view.height() // 2)
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=where)
    # 100 %; a small photo fitted above it twice as close (sceptic QA: 100 % shrank it)
    assert view.device_zoom() == pytest.approx(1.0 if fitted < 1.0 else 2 * fitted)
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=where)
    assert view.zoom() == pytest.approx(fitted)
    view.resize(view.width() * 4, view.height() * 4)  # (a window larger than a large photo: fitted above 100 %)
    qtbot.waitUntil(lambda: view.zoom() > 1.0)
    fitted = view.zoom()
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=where)
    assert view.zoom() == pytest.approx(2 * fitted)


def test_open_recent_says_when_a_file_is_gone_and_forgets_it(window, qtbot, photo, tmp_path):
    gone = tmp_path / "gone.jpg"
    gone.write_bytes(photo.read_bytes())
    load(window, qtbot, gone)
    window.session.remove(gone.resolve())
    gone.unlink()
    window._fill_recent()
    entry = next(a for a in window.recent_menu.actions() if a.toolTip() == str(gone.resolve()))
    entry.trigger()
    assert "gone.jpg is no longer there" in gui_util.said(window)
    assert gone.resolve() not in window.session.entries and gone.resolve() not in window.store.recent_files()


def test_a_hidden_toolbar_comes_back_from_the_view_menu(window):
    from PySide6.QtWidgets import QToolBar

    toolbar = window.findChild(QToolBar, "main-toolbar")
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    entry = next(a for a in view.actions() if a.text() == "&Toolbar")
    entry.trigger()
    assert toolbar.isHidden()
    entry.trigger()
    assert not toolbar.isHidden()


def test_an_action_that_is_off_says_why(window, qtbot, photo):
    """Desktop QA: a greyed Save said nothing of restoring first."""
    save = window.actions_["save"]
    assert not save.isEnabled() and "Open a photo first" in save.toolTip()
    path = load(window, qtbot, photo)
    assert not save.isEnabled() and "Restore the photo first" in save.toolTip() and "(Ctrl+S)" in save.toolTip()
    assert "Restore the photo first" in save.statusTip()
    restore(window, qtbot, path)
    assert save.isEnabled() and "first" not in save.toolTip() and save.toolTip().startswith("Save")


def test_hovering_a_greyed_menu_entry_says_why_it_is_off(window, qtbot):
    """A greyed entry takes no hover, so its status tip never shows: the menu shows why it is off
    as a tooltip (review), and no tooltip over an entry that works."""
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    window.show()
    qtbot.waitExposed(window)
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    file_menu.popup(window.mapToGlobal(QPoint(10, 10)))
    qtbot.waitExposed(file_menu)

    def hover(name):
        centre = file_menu.actionGeometry(window.actions_[name]).center()
        QApplication.sendEvent(file_menu, QHelpEvent(QHelpEvent.Type.ToolTip, centre, file_menu.mapToGlobal(centre)))

    save = window.actions_["save"]
    assert not save.isEnabled()
    hover("save")
    qtbot.waitUntil(QToolTip.isVisible, timeout=3000)
    assert QToolTip.text() == save.property("unavailable") and "Open a photo first" in QToolTip.text()
    hover("open")
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=3000)
    file_menu.hide()


def test_remove_all_empties_the_filmstrip_asking_once_for_what_is_not_saved(window, qtbot, photo, testdata_dir,
                                                                              unsaved_work_is_discarded_when_asked,
                                                                              monkeypatch):
    import shutil

    import faceapp.gui.confirm as confirm

    other = shutil.copy(testdata_dir / "photos" / "cf_03.jpg", photo.parent / "other.jpg")
    path = load(window, qtbot, photo)
    load(window, qtbot, other)
    window.filmstrip.select(path)
    restore(window, qtbot, path)
    monkeypatch.setattr(confirm, "ask_before_discarding",
                        lambda parent, text, **buttons: unsaved_work_is_discarded_when_asked.append(text) or "cancel")
    window.actions_["remove_all"].trigger()
    assert len(window.session.entries) == 2  # Cancel: nothing removed
    [asked] = unsaved_work_is_discarded_when_asked
    assert asked.startswith("Remove all 2 photos? 1 restored photo is not saved")
    monkeypatch.setattr(confirm, "ask_before_discarding", lambda parent, text, **buttons: "discard")
    window.actions_["remove_all"].trigger()
    qtbot.waitUntil(lambda: not window.session.entries, timeout=10000)
    assert window.filmstrip.count() == 0 and not window.actions_["remove_all"].isEnabled()
    assert photo.is_file() and other.is_file()


def test_removing_a_photo_asks_first_when_a_face_box_drawn_on_it_is_not_restored(
        window, qtbot, photo, unsaved_work_is_discarded_when_asked):
    """Desktop QA: Delete right after drawing a face box removed the photo, box and all, silently."""
    path = load(window, qtbot, photo)
    window.session.add_face_box(path, (5.0, 5.0, 60.0, 60.0))
    window.actions_["remove"].trigger()
    [asked] = unsaved_work_is_discarded_when_asked
    assert "A face box drawn on it is not restored yet" in asked
    assert path not in window.session.entries  # (answered Remove)


def test_a_mouses_back_and_forward_buttons_step_through_the_photos(window, qtbot, photo, testdata_dir):
    import shutil

    other = shutil.copy(testdata_dir / "photos" / "cf_03.jpg", photo.parent / "other.jpg")
    first = load(window, qtbot, photo)
    second = load(window, qtbot, other)
    window.filmstrip.select(first)
    for widget in (window.compare, window.filmstrip.viewport()):
        qtbot.mouseClick(widget, Qt.MouseButton.ForwardButton, pos=QPoint(10, 10))
        assert window.current == second
        qtbot.mouseClick(widget, Qt.MouseButton.BackButton, pos=QPoint(10, 10))
        assert window.current == first


def test_shift_f10_opens_the_focused_thumbnails_menu_at_it(window, qtbot, photo):
    """Keyboard QA: without a Menu key (most laptops) no right-click menu could be reached."""
    load(window, qtbot, photo)
    window.activateWindow()
    window.filmstrip.setFocus()
    qtbot.waitUntil(window.filmstrip.hasFocus)
    qtbot.keyClick(window.filmstrip, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    menu = QApplication.activePopupWidget()
    assert menu is not None and "Re&move photo" in _menu_texts(menu)
    assert menu.accessibleName() == f"Menu of {photo.name}"
    cell = window.filmstrip.visualItemRect(window.filmstrip.item(0))
    assert cell.contains(window.filmstrip.viewport().mapFromGlobal(menu.pos()))  # at the thumbnail
    menu.close()


def test_a_key_of_an_action_that_is_off_says_why(window, qtbot, photo):
    load(window, qtbot, photo)
    window.activateWindow()
    window.compare.setFocus()
    qtbot.waitUntil(window.compare.hasFocus)
    gui_util.hush(window)
    qtbot.keyClick(window.compare, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "Save: Restore the photo first." in gui_util.said(window)


def test_a_notices_selected_words_are_what_ctrl_c_copies(window, qtbot, photo):
    from PySide6.QtWidgets import QFrame

    from faceapp.gui.notifications import Notice

    load(window, qtbot, photo)
    window.notices.show_notice(Notice("Could not open broken.jpg: the file is damaged.", "error"))
    banner = next(b for b in window.notices.findChildren(QFrame, "notice") if "broken" in b.notice.text)
    banner._label.setFocus()
    banner._label.setSelection(10, 10)
    window.actions_["copy"].trigger()
    assert QGuiApplication.clipboard().text() == "open broke"


def test_closing_asks_first_when_a_face_box_drawn_is_not_restored(window, qtbot, photo,
                                                                unsaved_work_is_discarded_when_asked):
    """Desktop QA: face boxes drawn were lost on quitting without a word, where painted strokes were
    asked about."""
    path = load(window, qtbot, photo)
    window.session.add_face_box(path, (5.0, 5.0, 60.0, 60.0))
    window.close()
    [asked] = unsaved_work_is_discarded_when_asked
    assert f"Face boxes drawn on {photo.name} are not restored yet: closing loses them" in asked


def test_status_tips_fit_the_status_bar_and_tooltips_keep_the_whole_tip(window, qtbot, photo):
    """Copy QA: the damage brush's 248-character tip was cut mid-word in the status bar ("…Shift
    with a"), squeezing its labels to "Mod…": a long tip's asides in brackets stay in the tooltip;
    so do those of why an action is off (review: Restore's ran to 155 characters)."""
    import shutil

    brush = window.actions_["damage_brush"]
    assert brush.statusTip().startswith("Paint over scratches, tears, stains or missing parts; Restore fills them.")
    assert "Space paints where it is" in brush.toolTip()
    assert max(len(action.statusTip()) for action in window.actions_.values()) <= 100  # (no photo: most are off)
    long = shutil.copy(photo, photo.with_name("a_rather_long_photo_name_from_a_scanner_0042.jpg"))
    path = load(window, qtbot, long)
    window.session.toggle_face(path, window.session.entries[path].faces[0].index)  # (Restore off: why, in words)
    assert not window.actions_["restore"].isEnabled()
    assert window.actions_["restore"].statusTip().startswith("No face to restore: draw a box, switch a face on")
    assert max(len(action.statusTip()) for action in window.actions_.values()) <= 100
    assert "(the files stay as they are)" in window.actions_["remove_all"].statusTip()  # (a short tip: whole)


def test_the_log_folder_is_named_where_no_file_manager_can_open_it(window, monkeypatch):
    """Smoke QA: Help ▸ Open log folder did nothing, unsaid, where no file manager could be opened."""
    from PySide6.QtGui import QDesktopServices

    from faceapp import paths

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or False)
    window.actions_["log_folder"].trigger()
    assert opened and any(n.text == f"No file manager could be opened: faceapp's log is in {paths.user_log_dir()}."
                          for n in window.notices.notices())
