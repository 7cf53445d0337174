"""What the window says and offers for the photo shown, in each of its states: loading, not
readable, no face, ready, being restored, restored, changed since its restore."""

from __future__ import annotations

import dataclasses
import os

import gui_util
import numpy as np
from gui_util import TINY_MODEL, drop_files, load, restore, set_sampling
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication, QMenu

photo, window = gui_util.photo, gui_util.window  # the shared fixtures

_TOOLS = ("draw_box", "damage_brush", "zoom_fit", "zoom_actual")


def panel_text(window) -> str:
    return window.run_panel.progress_text.text()


def test_an_empty_window_offers_only_what_works_without_a_photo(window):
    a = window.actions_
    assert a["open"].isEnabled()
    for name in ("restore", "restore_all", *_TOOLS, "eraser", "toggle_compare",
                 "undo", "redo", "clear_damage"):
        assert not a[name].isEnabled(), name
    assert window.zoom_label.text() == ""


def test_a_photo_that_cannot_be_read_says_so_where_the_photo_would_be(window, qtbot, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    drop_files(window, [broken])
    path = broken.resolve()
    qtbot.waitUntil(lambda: window.session.entries[path].state == "error", timeout=20000)
    assert panel_text(window).startswith("Could not open broken.jpg.")
    assert window.compare.message().startswith("broken.jpg could not be opened.")  # where the photo would be
    reason = window.session.entries[path].error
    assert reason in window.compare.message() and reason not in panel_text(window)  # said once in the window…
    # …the panel says what to do, naming the menu that holds it (QA: it named Photo, which does not)
    [menu] = [m.title().replace("&", "") for m in window.menuBar().findChildren(QMenu)
              if window.actions_["remove"] in m.actions()]
    assert f"{menu} ▸ Remove photo (Delete)" in panel_text(window)
    assert "Loading" not in panel_text(window)
    for name in ("restore", *_TOOLS, "eraser"):  # nothing to restore, paint or erase
        assert not window.actions_[name].isEnabled(), name
    assert path not in window.store.recent_files()  # File ▸ Open recent offers no file that cannot be opened


def test_a_drop_opens_its_photos_says_once_what_else_it_held_and_copies(window, qtbot, tmp_path, photo):
    """A photo dropped with its sidecar and a note: the photo opens, the other files are named in
    one message, not as error tiles (QA); the drop is taken as a copy even when the source proposes
    a move (QA: a file manager told "moved" may delete the files)."""
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    sidecar, note = tmp_path / "photo.xmp", tmp_path / "notes.txt"
    sidecar.write_text("<x:xmpmeta/>")
    note.write_text("who is who")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in (photo, sidecar, note)])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction | Qt.DropAction.MoveAction | Qt.DropAction.LinkAction,
                       mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier)  # Shift: a move proposed
    assert event.proposedAction() == Qt.DropAction.MoveAction
    window.dropEvent(event)
    assert event.isAccepted() and event.dropAction() == Qt.DropAction.CopyAction
    assert list(window.session.entries) == [photo.resolve()]
    assert "Not opened: 2 files (.txt, .xmp), not photos faceapp reads" in gui_util.said(window)


def test_a_photo_opened_through_a_link_is_named_and_saved_as_the_link(window, qtbot, tmp_path, photo):
    """Drag-and-drop QA: a symbolic link dropped opened as its target, under the target's name, and
    Save wrote the result into the target's folder (a network drive, a read-only archive); the CLI
    writes beside the link."""
    links = tmp_path / "links"
    links.mkdir()
    link = links / "grandma.jpg"
    link.symlink_to(photo)
    drop_files(window, [link])
    qtbot.waitUntil(lambda: link in window.session.entries and window.session.entries[link].photo is not None,
                    timeout=20000)
    assert "grandma.jpg" in window.windowTitle()
    assert window.store.recent_files()[0] == link  # (sceptic QA: never listed, once opened as the link)
    restore(window, qtbot, link)
    written = gui_util.saved(window, qtbot, window.exports.save)
    assert [path.parent for path in written] == [links] and written[0].stem == "grandma_restored"
    assert sorted(photo.parent.iterdir()) == [photo]  # nothing beside the target


def test_one_photo_spelt_two_ways_opens_once(window, qtbot, tmp_path, photo):
    """Portability QA: on a Mac's disk (or a Windows one) IMG_1.JPG and img_1.jpg are one file, and it opened
    twice. (Here a hard link gives the one file both spellings, as such a disk does.)"""
    upper = tmp_path / "IMG_1.JPG"
    upper.write_bytes(photo.read_bytes())
    lower = tmp_path / "img_1.jpg"
    os.link(upper, lower)
    other = tmp_path / "Img_2.jpg"  # (another file whose name differs only in case: opened besides)
    other.write_bytes(photo.read_bytes())
    drop_files(window, [upper])
    drop_files(window, [lower, other])
    assert list(window.session.entries) == [upper, other]
    qtbot.waitUntil(lambda: window.current == upper, timeout=10000)  # the one asked for again is shown
    case_twin = tmp_path / "IMG_2.jpg"  # a different file named as the other would be on such a disk
    case_twin.write_bytes(photo.read_bytes())
    drop_files(window, [case_twin])
    assert list(window.session.entries) == [upper, other, case_twin]


def test_copy_puts_the_photo_then_its_result_as_chosen_in_the_gallery_on_the_clipboard(window, qtbot, photo):
    """Drag-and-drop QA: Ctrl+C did nothing; only Save or a drag got a result out of the window."""
    from PySide6.QtGui import QGuiApplication, QKeySequence

    from faceapp.gui.qimage import qimage_to_rgb

    assert window.actions_["copy"].shortcut() == QKeySequence(QKeySequence.StandardKey.Copy)
    path = load(window, qtbot, photo)
    window.actions_["copy"].trigger()
    entry = window.session.entries[path]
    assert np.array_equal(qimage_to_rgb(QGuiApplication.clipboard().image()), entry.photo.srgb)
    entry = restore(window, qtbot, path)
    window.gallery.candidateChosen.emit(0, 2)  # another seed for face 1
    gui_util.wait_composed(window, qtbot, path)
    window.actions_["copy"].trigger()
    copied = qimage_to_rgb(QGuiApplication.clipboard().image())
    assert np.array_equal(copied, entry.result.composite()) and not np.array_equal(copied, entry.photo.srgb)
    assert entry.result.faces[0].chosen == 2
    assert "Copied the restored" in gui_util.said(window)


def test_a_photo_that_could_not_be_opened_is_read_again_when_opened_again(window, qtbot, tmp_path, photo):
    """A truncated download finished, a file mended: opening it again reads it again, in its place in
    the filmstrip, and the notice that it could not be opened goes."""
    broken = tmp_path / "download.jpg"
    whole = photo.read_bytes()
    broken.write_bytes(whole[: len(whole) // 3])
    path = broken.resolve()
    window.add_paths([broken])
    qtbot.waitUntil(lambda: window.session.entries[path].state == "error", timeout=20000)
    assert [n.subject for n in window.notices.notices() if n.action == "open"] == [path]
    window.add_paths([broken])  # still broken: said again, once
    qtbot.waitUntil(lambda: window.session.entries[path].state == "error", timeout=20000)
    assert [n.subject for n in window.notices.notices() if n.action == "open"] == [path]
    broken.write_bytes(whole)
    window.add_paths([broken])
    qtbot.waitUntil(lambda: window.session.entries[path].photo is not None, timeout=20000)
    assert list(window.session.entries) == [path] and window.session.entries[path].error is None
    assert not [n for n in window.notices.notices() if n.action == "open"]
    assert "Could not open" not in panel_text(window) and window.compare.message() == ""


def test_a_photo_changed_on_disk_is_read_again_when_opened_again(window, qtbot, tmp_path, photo, testdata_dir):
    """GUI race QA: a file replaced by another picture while open, then dropped again, still showed
    the old picture, and Save wrote a restore of it under the file's name. Opened again, it is read
    as it is now, in its place; with a restore not saved, it is kept and the way to read it is said."""
    import shutil

    path = load(window, qtbot, photo)
    other = testdata_dir / "photos" / "gf_Blake_Lively.jpg"  # 700×464, where the photo is 400×225
    shutil.copy(other, photo)
    gui_util.hush(window)
    drop_files(window, [photo])
    assert "cf_03.jpg has changed on disk since it was opened: read again as it is now." in gui_util.said(window)
    qtbot.waitUntil(lambda: window.session.entries[path].photo is not None, timeout=20000)
    assert window.session.entries[path].photo.width == 700 and list(window.session.entries) == [path]
    qtbot.waitUntil(lambda: window.compare.before_image() is not None and window.compare.before_image().width() == 700,
                    timeout=10000)  # shown as it is now
    drop_files(window, [photo])  # unchanged since: nothing read again
    assert not window.session.is_working(path)

    restore(window, qtbot, path)
    first = window.session.entries[path]
    shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, photo)  # changed again, with a result not saved
    gui_util.hush(window)
    drop_files(window, [photo])
    assert window.session.entries[path] is first and first.photo.width == 700 and not window.session.is_working(path)
    assert ("cf_03.jpg has changed on disk since it was opened; the window shows it as it was, with its restore, "
            "not saved. Save the restore, or remove the photo, before opening the file again.") in gui_util.said(window)


def test_a_photo_without_a_face_says_what_to_do_and_the_banner_offers_it(window, qtbot, tmp_path):
    empty = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(empty)
    path = load(window, qtbot, empty)
    assert "No face was found in wall.png" in panel_text(window)
    assert not window.actions_["restore"].isEnabled()
    assert window.actions_["draw_box"].isEnabled()
    notices = [n for n in window.notices.notices() if "No face was found" in n.text]
    assert len(notices) == 1 and notices[0].action == "draw_box" and notices[0].subject == path
    other = tmp_path / "other.png"
    other.write_bytes(empty.read_bytes())
    window.filmstrip.select(load(window, qtbot, other))  # another photo shown: the banner still means wall.png
    assert window.current == other.resolve()
    window._notice_action(notices[0].action, notices[0].subject)
    assert window.current == path and window.actions_["draw_box"].isChecked()
    window.session.restore([path])  # e.g. Restore all: the same warning again is not stacked
    window.session.restore([path])
    assert sum("No face" in n.text and n.subject == path for n in window.notices.notices()) == 1


def test_a_scan_whose_faces_are_on_a_later_page_says_only_its_first_was_looked_at(window, qtbot, tmp_path):
    """Batch QA: a two-page scan, its face on the second page, said only "no face found"."""
    scan = tmp_path / "scan.tif"
    wall = Image.fromarray(np.full((200, 300, 3), 128, np.uint8))
    wall.save(scan, save_all=True, append_images=[wall])
    load(window, qtbot, scan)
    [notice] = [n for n in window.notices.notices() if "No face was found" in n.text]
    assert "No face was found in scan.tif. Only the first of its 2 pages was looked at: save the page with the faces " \
           "as a photo of its own." in notice.text


def test_the_no_face_notice_goes_once_a_face_box_is_drawn(window, qtbot, tmp_path):
    """A box drawn on a photo without a face answers its notice: it goes, and stays gone while the
    photo is restored and another one shown; a notice about another photo without a face stays."""
    grey = np.full((200, 300, 3), 128, np.uint8)
    Image.fromarray(grey).save(tmp_path / "wall.png")
    Image.fromarray(grey).save(tmp_path / "floor.png")
    floor = load(window, qtbot, tmp_path / "floor.png")
    path = load(window, qtbot, tmp_path / "wall.png")

    def no_face_notices():
        return [n.subject for n in window.notices.notices() if "No face was found" in n.text]

    assert no_face_notices() == [floor, path]
    [notice] = [n for n in window.notices.notices() if n.subject == path]
    window._notice_action(notice.action, notice.subject)  # the banner's "Draw face box"
    qtbot.waitUntil(lambda: window.compare.before_image() is not None, timeout=5000)  # shown, to draw on
    start, end = (window.compare.image_to_widget(QPointF(x, y)).toPoint() for x, y in ((100, 50), (200, 150)))
    qtbot.mousePress(window.compare, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(window.compare, end)
    qtbot.mouseRelease(window.compare, Qt.MouseButton.LeftButton, pos=end)
    assert len(window.session.entries[path].faces) == 1
    assert no_face_notices() == [floor]
    assert restore(window, qtbot, path).result is not None
    window.filmstrip.select(floor)
    assert window.current == floor and no_face_notices() == [floor]


def test_loading_then_ready_then_restored_then_changed(window, qtbot, photo):
    path = load(window, qtbot, photo)
    assert window.actions_["restore"].isEnabled()
    assert "Loading" not in panel_text(window) and "Press Restore" in panel_text(window)
    for name in _TOOLS:
        assert window.actions_[name].isEnabled(), name
    assert not window.actions_["toggle_compare"].isEnabled()  # nothing to compare yet
    window.actions_["zoom_actual"].trigger()
    assert window.zoom_label.text() == "Zoom 100 %"
    window.actions_["zoom_fit"].trigger()
    assert window.zoom_label.text() == f"Zoom {window.compare.zoom() * 100:.0f} %" != "Zoom 100 %"
    window.actions_["zoom_actual"].trigger()  # then the window goes to a screen at 200 %: the label follows
    window.compare.devicePixelRatioF = lambda: 2.0
    QApplication.sendEvent(window.compare, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert window.zoom_label.text() == "Zoom 200 %"
    del window.compare.devicePixelRatioF
    window.actions_["zoom_fit"].trigger()

    set_sampling(window, seeds=1, steps=2)
    marked = []  # the face the photo marks as being sampled, at each step
    window.session.progress.connect(lambda *_: marked.append(window.compare.working_face()))
    window.actions_["restore"].trigger()
    assert not window.actions_["restore"].isEnabled()  # already restoring this photo
    qtbot.waitUntil(lambda: window.session.entries[path].state == "done", timeout=60000)
    entry = window.session.entries[path]
    assert entry.faces[0].index in marked and window.compare.working_face() is None  # unmarked when done
    assert panel_text(window).startswith(f"{photo.name}\nRestored in ")
    assert "changed since" not in panel_text(window)
    assert window.actions_["restore"].isEnabled() and window.actions_["toggle_compare"].isEnabled()

    window.actions_["damage_brush"].setChecked(True)
    assert window.actions_["eraser"].isEnabled()
    assert not window.actions_["undo"].isEnabled()
    editor = window.damage.editor()
    editor.begin_stroke(50, 50, radius=8)
    editor.end_stroke()
    assert window.actions_["undo"].isEnabled() and window.actions_["clear_damage"].isEnabled()
    assert entry.outdated and "changed since" in panel_text(window)
    window.actions_["undo"].trigger()
    assert not entry.outdated and "changed since" not in panel_text(window)
    assert window.actions_["redo"].isEnabled()

    window.session.toggle_face(path, entry.faces[0].index)  # its only face switched off
    assert "switched off" in panel_text(window)
    window.session.toggle_face(path, entry.faces[0].index)
    assert "changed since" not in panel_text(window)  # back as it was restored
    window.session.add_face_box(path, (10, 10, 60, 60))  # a face drawn by hand
    assert entry.state == "done" and "changed since" in panel_text(window)
    restore(window, qtbot, path)
    assert "changed since" not in panel_text(window)


def test_a_photo_waiting_to_be_opened_is_not_said_to_be_queued_for_a_restore(window, qtbot, photo, tmp_path):
    """QA: the filmstrip said "queued" of photos waiting to be read and of photos waiting to be
    restored alike."""
    second = tmp_path / "second.jpg"
    second.write_bytes(photo.read_bytes())
    window.add_paths([photo, second])
    assert window.filmstrip.state_text(second.resolve()) == "to open"
    qtbot.waitUntil(lambda: window.session.entries[second.resolve()].photo is not None, timeout=30000)
    assert window.filmstrip.state_text(second.resolve()) != "to open"


def test_a_photo_waiting_behind_another_says_so_and_offers_no_second_restore(window, qtbot, photo, tmp_path):
    """With the queue busy on one photo, a second photo's queued restore shows at once (Restore off);
    the first photo's progress does not spill into the panel of the photo shown."""
    second = tmp_path / "second.jpg"
    second.write_bytes(photo.read_bytes())
    first, other = load(window, qtbot, photo), load(window, qtbot, second)
    set_sampling(window, seeds=1, steps=500)
    window.show_photo(first)
    window.actions_["restore"].trigger()
    qtbot.waitUntil(lambda: window.session.entries[first].state.startswith("restoring"), timeout=30000)
    window.show_photo(other)
    assert "Press Restore" in panel_text(window)
    window.actions_["restore"].trigger()  # waits behind the first
    assert window.session.entries[other].state == "queued" and window.filmstrip.state_text(other) == "queued"
    assert "Waiting its turn" in panel_text(window) and "Press Restore" not in panel_text(window)
    assert not window.actions_["restore"].isEnabled()
    steps = []
    window.session.progress.connect(lambda p, text, fraction, preview: steps.append(p))
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=30000)
    assert set(steps) == {first}  # still the first photo's run
    assert "Face 1 of" not in panel_text(window)  # its steps stay out of this panel
    window.session.cancel()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=30000)


def test_a_restored_photo_with_every_face_switched_off_does_not_ask_for_restore(window, qtbot, photo):
    path = load(window, qtbot, photo)
    set_sampling(window, seeds=1, steps=2)
    restore(window, qtbot, path)
    for face in list(window.session.entries[path].faces):
        window.session.toggle_face(path, face.index)
    assert "switched off" in panel_text(window) and "press Restore to apply" not in panel_text(window)
    assert not window.actions_["restore"].isEnabled()


def test_the_filmstrip_counts_the_faces_switched_on(window, qtbot, tmp_path, testdata_dir):
    path = load(window, qtbot, testdata_dir / "photos" / "cf_00.jpg")  # four faces
    assert window.filmstrip.state_text(path) == "4 faces"
    window.session.toggle_face(path, window.session.entries[path].faces[0].index)  # e.g. a hand taken for a face
    assert window.filmstrip.state_text(path) == "3 of 4 faces"
    window.session.toggle_face(path, window.session.entries[path].faces[0].index)
    assert window.filmstrip.state_text(path) == "4 faces"


def test_faces_are_switched_on_and_off_from_the_photo_menu_too(window, qtbot, photo):
    """Photo ▸ Faces: the keyboard's way to do what a click on a face's box does."""
    menu = window.faces_menu
    menu.aboutToShow.emit()
    assert [a.text() for a in menu.actions()] == ["(no photo)"] and not menu.actions()[0].isEnabled()
    path = load(window, qtbot, photo)
    entry = window.session.entries[path]
    menu.aboutToShow.emit()
    [face] = menu.actions()
    assert face.text() == f"Face {entry.faces[0].index + 1}" and face.isChecked()
    face.trigger()
    assert not entry.faces[0].enabled and "switched off" in panel_text(window)
    assert not window.actions_["restore"].isEnabled()
    menu.aboutToShow.emit()
    assert not menu.actions()[0].isChecked()
    menu.actions()[0].trigger()
    assert entry.faces[0].enabled and window.actions_["restore"].isEnabled()


def test_faces_left_out_for_their_size_are_said(window, qtbot, photo):
    """A face smaller than Settings ▸ Smallest face is not a silent "no face found"."""
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, min_face_size=4000))
    messages = []
    window.session.info.connect(messages.append)
    path = load(window, qtbot, photo)
    qtbot.waitUntil(lambda: any("large enough" in n.text for n in window.notices.notices()), timeout=5000)
    [notice] = [n for n in window.notices.notices() if "large enough" in n.text]
    assert "1 face smaller than 4000 px left out (Settings ▸ Smallest face)" in notice.text
    assert window.session.entries[path].faces == []


def said_on_opening(window, qtbot, path) -> list[str]:
    """What the window says of ``path`` as it opens it (what its result will be unlike it)."""
    messages = []
    window.session.info.connect(messages.append)
    load(window, qtbot, path)
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    return messages


def test_a_multi_page_tiff_says_only_its_first_page_is_restored(window, qtbot, testdata_dir, tmp_path):
    from PIL import Image

    first = Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB")
    scan = tmp_path / "scan.tif"
    first.save(scan, save_all=True, append_images=[first.rotate(180)])
    assert said_on_opening(window, qtbot, scan) == ["scan.tif has 2 pages: only the first is restored."]


def test_a_png_named_jpg_says_its_result_is_a_jpeg_as_the_cli_does(window, qtbot, testdata_dir, tmp_path):
    """Review: the CLI said so (QA), the window wrote a lossy JPEG of a lossless photo without a word."""
    from PIL import Image

    misnamed = tmp_path / "scan.jpg"
    Image.open(testdata_dir / "photos" / "cf_03.jpg").save(misnamed, format="PNG")
    assert said_on_opening(window, qtbot, misnamed) == [
        "scan.jpg is a PNG file, though its name says JPEG: its result is a JPEG, as the name says "
        "(Settings ▸ Format: PNG to keep it lossless)."]


def test_a_jpeg_master_says_its_result_is_saved_at_a_lower_quality_as_the_cli_does(window, qtbot, testdata_dir,
                                                                                    tmp_path):
    """Archivist QA: a quality 100 scan came back at quality 95 without a word."""
    from PIL import Image

    master = tmp_path / "master.jpg"
    Image.open(testdata_dir / "photos" / "cf_03.jpg").save(master, quality=100, subsampling=0)
    [said] = said_on_opening(window, qtbot, master)
    assert said.startswith("master.jpg was saved at JPEG quality") and "(Settings ▸ Quality 100 keeps it closer)" in said


def test_a_48_bit_scan_says_its_result_keeps_16_bits(window, qtbot, testdata_dir, tmp_path):
    import cv2

    scan = tmp_path / "scan.png"
    cv2.imwrite(str(scan), cv2.imread(str(testdata_dir / "photos" / "cf_03.jpg")).astype("uint16") * 257)
    assert said_on_opening(window, qtbot, scan) == [
        "scan.png has 16 bits per channel; the result keeps them (the restored faces carry the model's "
        "8 bits, scaled to 16)."]


def test_a_48_bit_scan_without_a_face_says_what_its_result_keeps_once_a_face_box_is_drawn(window, qtbot, tmp_path):
    """Nothing is restored from a photo without a face: what its result would keep is said only when
    a box drawn on it gives it one, and once."""
    import cv2

    scan = tmp_path / "wall.png"
    cv2.imwrite(str(scan), np.full((200, 300, 3), 128 * 257, np.uint16))
    messages = []
    window.session.info.connect(messages.append)
    path = load(window, qtbot, scan)
    assert any("No face was found" in n.text for n in window.notices.notices())
    assert messages == []
    window.session.add_face_box(path, (100, 50, 200, 150))
    window.session.add_face_box(path, (20, 20, 80, 80))
    messages = [m for m in messages if not m.startswith("No face found in the box")]  # (said of the second box)
    assert messages == ["wall.png has 16 bits per channel; the result keeps them (the restored faces carry the model's "
                        "8 bits, scaled to 16)."]


def test_loading_shows_how_far_face_detection_has_come(window, qtbot, photo):
    """A large photo's detection takes seconds: the status bar's bar and the panel follow it."""
    shown, bar = [], []
    window.session.progress.connect(lambda path, text, fraction, preview: shown.append((text, fraction)))
    window.session.progress.connect(lambda *_: bar.append(window.progress_bar.text()))
    load(window, qtbot, photo)
    assert shown and shown[-1] == ("Finding faces… 100 %", 1.0)
    assert bar[-1] == f"{photo.name} · 100 %"  # whose progress (QA: "84 %" alone, another photo shown)
    assert [f for _, f in shown] == sorted(f for _, f in shown)
    qtbot.waitUntil(lambda: not window.progress_bar.isVisible(), timeout=5000)  # gone once the photo is loaded


def test_the_progress_bar_rounds_as_the_filmstrip_does(window, qtbot, photo):
    """Step 2 of 3 reads 67 % in the status bar's bar as beside the photo in the filmstrip (GUI QA:
    the bar truncated to 66 %)."""
    path = load(window, qtbot, photo)
    window.session.progress.emit(path, "Face 1 · step 2 of 3", 2 / 3, None)
    assert window.progress_bar.text() == f"{photo.name} · 67 %"


def test_the_panel_says_when_the_slider_is_not_the_fidelity_the_result_was_made_at(window, qtbot, photo):
    """A slider moved after a restore does not change the result shown: the panel says so, and
    stops saying so when the slider is back where the result was made."""
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    made_at = entry.result.settings.sampler.fidelity
    assert "Made at fidelity" not in window.run_panel.progress_text.text()
    other = 0.3 if made_at > 0.5 else 0.9
    window.fidelity.slider.setValue(round(other * 100))  # as a drag or a key moves it (realism to the right)
    assert (f"Made at fidelity {made_at:.2f}: press Restore to use {other:.2f}."
            in window.run_panel.progress_text.text())
    assert window.filmstrip.state_text(path) == "done · out of date"  # (undo QA: the filmstrip still said "done")
    window.fidelity.slider.setValue(round(made_at * 100))
    assert "Made at fidelity" not in window.run_panel.progress_text.text()
    assert window.filmstrip.state_text(path) == "done"
    # other settings than the fidelity are named too (Settings ▸ Seeds per face, Steps)
    prefs = window.session.prefs
    window.models.apply_preferences(prefs.replace(seeds_per_face=prefs.seeds_per_face + 1, steps=3))
    assert "Made with other settings (steps, seeds): press Restore to use these." in window.run_panel.progress_text.text()
    assert window.filmstrip.state_text(path) == "done · out of date"
    window.fidelity.slider.setValue(round(other * 100))  # both: one sentence (QA: two "press Restore")
    assert (f"Made at fidelity {made_at:.2f} and with other settings (steps, seeds): press Restore to use "
            f"{other:.2f} and these." in window.run_panel.progress_text.text())
    assert window.run_panel.progress_text.text().count("press Restore") == 1
    window.fidelity.slider.setValue(round(made_at * 100))
    window.models.apply_preferences(prefs)
    assert "other settings" not in window.run_panel.progress_text.text()


def test_another_model_is_named_alone_when_the_steps_are_left_to_the_model(window, qtbot, photo):
    """Steps left to the model (Settings ▸ Steps: the model's): switching models changes the step
    count with it, and the panel names the model only; a step count the user set is named."""
    prefs = window.session.prefs
    window.models.apply_preferences(prefs.replace(model="", steps=None))
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    assert "other settings" not in window.run_panel.progress_text.text()
    window.models.apply_preferences(window.session.prefs.replace(model=TINY_MODEL))  # its own 4 steps, not 6
    assert "other settings (model): press Restore" in window.run_panel.progress_text.text()  # (its own fidelity too)
    window.models.apply_preferences(window.session.prefs.replace(model="", steps=2))
    assert "Made with other settings (steps): press Restore" in window.run_panel.progress_text.text()


def test_a_long_restore_says_how_long_it_has_left(window, qtbot, photo, monkeypatch):
    """QA: runs of 45-55 s showed a bar and a step count, no time. Once the pace of its steps is
    known, the progress says how long is left; timed from its first step, not from a model load."""
    import faceapp.gui.session as session_module
    from faceapp.core.photo_restore import Progress
    from faceapp.core.progress import StepClock

    path = load(window, qtbot, photo)
    now = [100.0]
    monkeypatch.setattr(session_module.time, "monotonic", lambda: now[0])
    shown = []
    window.session.progress.connect(lambda p, text, fraction, preview: shown.append(text))
    clock = StepClock()  # (one restore's)
    window.session._restore_progress(path, "loading the model", [0], clock)
    for step, at in ((1, 104.0), (2, 105.0), (6, 144.0)):  # face 1 of 1, 10 steps: 40 s from step 1 to 6
        now[0] = at
        window.session._restore_progress(path, Progress(0, 1, step, 10), [0], clock)
    assert shown[0] == "Loading the model…"
    assert shown[1:3] == ["Face 1 · step 1 of 10", "Face 1 · step 2 of 10"]  # too soon to tell
    assert shown[3] == "Face 1 · step 6 of 10 · about 30 s left"  # half of it in 40 s, 0.4 left: 32 s
    # an enlarged photo's time left is its faces': the enlarging after them is not timed (slow-laptop
    # QA: "a few seconds left", then 13 s of enlarging ×4)
    window.session.prefs = window.session.prefs.replace(upscale=4)
    window.session._restore_progress(path, Progress(0, 1, 7, 10), [0], clock)
    assert shown[-1].endswith("about 20 s left for the faces, then enlarging ×4")
    # a job on one face (More, Diffuse anyway: ~35 s) says it too, timed afresh
    clock = StepClock()  # (the job's own)
    window.session._face_job_progress(path, "sampling", "More", "sampling", clock)
    for step, at in ((1, 200.0), (2, 201.0), (6, 240.0)):
        now[0] = at
        window.session._face_job_progress(path, Progress(0, 1, step, 10), "More", "sampling", clock)
    assert shown[-1] == "Face 1: More · step 6 of 10 · about 30 s left"


def test_a_photo_is_shown_while_its_faces_are_still_being_found(qtbot, tmp_path):
    """A large scan's faces take seconds to find (QA: 40 s of an empty view on a 22 MP scan under
    load): the photo shows as soon as it is read, its thumbnail too, and only painting and
    restoring wait for its faces."""
    import threading

    from faceapp.core.errors import DetectorUnavailableError
    from faceapp.core.faces import face_from_box
    from faceapp.core.photo_io import Photo
    from faceapp.gui.backend import CoreBackend, LoadedPhoto, PhotoRead
    from faceapp.gui.main_window import MainWindow

    class SlowDetection(CoreBackend):
        gate = threading.Event()
        fail = False

        def load_job(self, path, prefs):
            def job(should_cancel):
                photo = Photo.from_array(np.full((120, 160, 3), 200, np.uint8))
                yield PhotoRead(photo)
                self.gate.wait(20)
                if self.fail:
                    raise DetectorUnavailableError("The face detector weights are missing")
                return LoadedPhoto(photo, [face_from_box((40, 30, 100, 100))])

            return job

    backend = SlowDetection()
    window = MainWindow(store=gui_util.settings_store(tmp_path), backend=backend)
    qtbot.addWidget(window)
    try:
        path = window.add_paths([tmp_path / "scan.png"])[0]
        qtbot.waitUntil(lambda: window.session.entries[path].state == "detecting faces", timeout=10000)
        qtbot.waitUntil(lambda: window.compare.before_image() is not None, timeout=10000)
        assert window.compare.before_image().width() == 160 and window.compare.message() == ""
        assert window.actions_["zoom_fit"].isEnabled()  # (QA: the wheel zoomed, Fit was greyed out)
        assert window.filmstrip.item(0).data(Qt.ItemDataRole.UserRole + 2) is not None  # its thumbnail
        assert not window.actions_["damage_brush"].isEnabled() and not window.actions_["restore"].isEnabled()
        # nothing a Cancel stops: it is not offered (keyboard QA: offered, it did nothing)
        assert not window.actions_["cancel"].isEnabled() and not window.cancel_button.isEnabled()
        window.actions_["restore_all"].trigger()  # it waits for the photo: Cancel gives that up
        assert window.actions_["cancel"].isEnabled() and window.cancel_button.isEnabled()
        window.actions_["cancel"].trigger()
        assert not window.actions_["cancel"].isEnabled()
        waiting = window.add_paths([tmp_path / "next.png"])[0]  # opened meanwhile: its turn comes after
        assert window.current == waiting and window.compare.message() == "Opening next.png…"  # (QA: "Drop photos…")
        window.filmstrip.select(path)
        backend.gate.set()
        qtbot.waitUntil(lambda: window.actions_["restore"].isEnabled(), timeout=10000)
        assert window.actions_["damage_brush"].isEnabled() and window.compare.before_image().width() == 160
        # its faces cannot be found (review): the photo read and its image go, the view says why
        qtbot.waitUntil(lambda: bool(window.session.entries[waiting].faces), timeout=10000)  # (else next.png's
        # detection, still queued, would wait at the gate closed below and hold up other.png's: flaky)
        backend.gate.clear()
        backend.fail = True
        window.session.error.connect(lambda _error: None)
        Image.new("RGB", (8, 8)).save(tmp_path / "other.png")  # (there: else Open recent keeps it anyway; review)
        failing = window.add_paths([tmp_path / "other.png"])[0]
        qtbot.waitUntil(lambda: window.compare.before_image() is not None and window.current == failing, timeout=10000)
        backend.gate.set()
        qtbot.waitUntil(lambda: window.session.entries[failing].state == "error", timeout=10000)
        assert failing not in window.session._read and failing not in window.session.before
        assert window.compare.before_image() is None  # (QA: said "could not be opened", and left Open recent)
        assert window.compare.message().startswith("The faces of other.png could not be found.")
        assert failing in window.store.recent_files()
    finally:
        backend.gate.set()
        window.session.shutdown()


def test_a_failed_restore_again_leaves_the_photo_done_with_its_earlier_result(window, qtbot, photo, tmp_path):
    """QA: restored, then restored again with a model not installed: the failure is said, the
    earlier result stays, and the filmstrip said "error" in red for good (never "saved" after a save)."""
    from faceapp.gui.filmstrip import SAVED_STATE

    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    first = entry.result
    tiny = window.session.prefs.model
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, model="difface-official"))
    errors = []
    window.session.error.connect(errors.append)
    window.session.restore([path])
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    assert errors and entry.result is first
    assert entry.state == "done" and "The last run failed" in window.run_panel.progress_text.text()
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, model=tiny))
    window.session.prefs = dataclasses.replace(window.session.prefs, output_folder=str(tmp_path))
    with qtbot.waitSignal(window.exports.saved, timeout=30000):
        assert window.exports.save()
    qtbot.waitUntil(lambda: window.filmstrip.state_text(path) == SAVED_STATE, timeout=5000)


def test_the_panel_says_why_a_face_the_user_did_not_switch_off_is_off(window, qtbot, testdata_dir, tmp_path):
    """cf_01's hand on a shoulder is found but left off as a face the detector is unsure of (QA):
    the panel says so and how to restore it too; switched on, the line goes."""
    import shutil

    path = load(window, qtbot, shutil.copy(testdata_dir / "photos" / "cf_01.jpg", tmp_path / "band.jpg"))
    said = "Face 4 is off: the detector is unsure it is a face. Click its number (or use Photo ▸ Faces) to restore it too."
    assert said in window.run_panel.progress_text.text()
    window.session.toggle_face(path, 3)
    qtbot.waitUntil(lambda: said not in window.run_panel.progress_text.text())


def test_a_photo_whose_name_is_not_utf8_opens_and_shows_its_bytes(window, qtbot, photo):
    """Unicode QA: caf\xe9.jpg (a Latin-1 name, from an old CD) dropped gave "there is no such file";
    opened from a folder, clicking it showed nothing: its path had lost the byte in Qt's strings."""
    import os

    odd = photo.with_name(os.fsdecode(b"caf\xe9.jpg"))
    photo.rename(odd)
    path = load(window, qtbot, odd)  # dropped, as a file manager encodes the name
    assert window.current == path
    other = load(window, qtbot, gui_util.Path(gui_util.shutil.copy(odd, odd.with_name("other.jpg"))))
    assert window.current == other
    window.filmstrip.select(path)  # clicked in the strip: it is shown
    assert window.current == path
    item = window.filmstrip.currentItem()
    assert item.text() == "caf\\xe9.jpg" and window.windowTitle().startswith("caf\\xe9.jpg")


def test_a_remark_on_a_photo_whose_name_is_not_utf8_names_it_with_its_bytes(window, qtbot, photo):
    """Locale QA: the spared-face remark on bad\\xff\\xfename.jpg read "badname.jpg: Barely changed…",
    naming another file: the session's signals had made the text a Qt string, dropping the bytes."""
    import os

    odd = photo.with_name(os.fsdecode(b"bad\xff\xfename.jpg"))
    photo.rename(odd)
    path = load(window, qtbot, odd)
    gui_util.hush(window)
    window.session.note.emit(f"{path.name}: Barely changed by the restorer.", path)
    window.session.warning.emit(f"{path.name}: a face is covered.", path)
    said = gui_util.said(window)
    assert "bad\\xff\\xfename.jpg: Barely changed" in said and "badname" not in said
    from faceapp.gui.plain_label import PlainLabel

    shown = [label.displayed_text() for label in window.notices.findChildren(PlainLabel)]
    assert any("bad\\xff\\xfename.jpg: a face is covered" in text for text in shown), shown
    window.session.progress.emit(path, "Face 1 of 1 · step 2 of 6", 0.3, None)  # (sceptic QA: the run panel too)
    assert window.run_panel.progress_text.text().startswith("bad\\xff\\xfename.jpg\n")


def test_a_photo_changed_on_disk_with_a_face_box_drawn_on_it_is_kept_as_it_was(window, qtbot, photo, testdata_dir):
    """Review: opened again after its file changed, a photo was read anew and the face box drawn on
    it was lost without a word (and its new faces taken for the box drawn)."""
    import shutil

    path = load(window, qtbot, photo)
    window.session.add_face_box(path, (5.0, 5.0, 60.0, 60.0))
    shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", photo)
    gui_util.hush(window)
    drop_files(window, [photo])
    assert "with the face boxes drawn on it. Remove the photo before opening the file again" in gui_util.said(window)
    assert window.session.faces_drawn_unrestored(path) == 1


def test_show_in_folder_says_a_folder_that_is_gone(window, qtbot, photo, monkeypatch):
    import shutil

    import faceapp.gui.main_window as main_window

    opened = []
    monkeypatch.setattr(main_window.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    load(window, qtbot, photo)
    shutil.rmtree(photo.parent)
    window.actions_["show_in_folder"].trigger()
    assert opened == [] and "is no longer there" in gui_util.said(window)


def test_copy_waits_for_the_seed_chosen_to_be_put_together(window, qtbot, photo, monkeypatch):
    """Fault QA: Copy while another seed's picture was being made copied the seed shown before,
    and said it copied the restored photo."""
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    monkeypatch.setattr(window.session.composer, "pending", lambda key: key == path)  # (still being made)
    gui_util.hush(window)
    window.actions_["copy"].trigger()
    assert "Nothing to copy yet" in gui_util.said(window)


def test_copy_of_a_photo_too_large_for_the_memory_left_says_so(window, qtbot, photo, monkeypatch):
    """Review: a ×4 result's copy, with no check, ran out of memory into the global error handler."""
    import faceapp.gui.main_window as main_window

    def short_of_memory(*args, **kwargs):
        raise MemoryError("cannot allocate a 24000×15908 image to show")

    load(window, qtbot, photo)
    monkeypatch.setattr(main_window, "rgb_to_qimage", short_of_memory)
    window.actions_["copy"].trigger()
    [notice] = [n for n in window.notices.notices() if n.level == "error"]
    assert notice.text.startswith(f"Out of memory: {photo.name} is too large to copy now")
