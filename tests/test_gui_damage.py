"""The damage brush and Refine in the window: painted damage is repaired by Restore, undo and clear
work from the menu, and Refine adds its passes to the gallery with their changes reported."""

from __future__ import annotations

import shutil

import gui_util
import numpy as np
from gui_util import load, restore, shown_after
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from faceapp.core.refine import DEFAULT_REFINE_PASSES
from faceapp.gui.filmstrip import state_colour
from faceapp.gui.notifications import Notice

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


def paint(window, qtbot, points, radius=4):
    """Drag the damage brush through ``points`` (photo pixels) with the mouse."""
    window.damage.set_brush_radius(radius)
    widget = [window.compare.image_to_widget(QPointF(x, y)).toPoint() for x, y in points]
    qtbot.mousePress(window.damage, Qt.MouseButton.LeftButton, pos=widget[0])
    for point in widget[1:]:
        qtbot.mouseMove(window.damage, point)
    qtbot.mouseRelease(window.damage, Qt.MouseButton.LeftButton, pos=widget[-1])


def test_painted_damage_is_repaired_by_restore_and_undo_clear_work(window, qtbot, photo):
    path = load(window, qtbot, photo)
    window.actions_["damage_brush"].setChecked(True)
    assert window.damage.brush() and not window.actions_["draw_box"].isChecked()
    paint(window, qtbot, [(10, 200), (60, 120)])  # the background, left of the face
    editor = window.session.damage_editor(path)
    assert editor.mask()[160, 35] == 255
    window.actions_["undo"].trigger()
    assert editor.is_empty()
    window.actions_["redo"].trigger()
    assert not editor.is_empty()

    window.models.apply_preferences(window.session.prefs.replace(repair_resamples=2))  # Settings ▸ Damage resampling
    entry = restore(window, qtbot, path)
    assert not window.actions_["damage_brush"].isChecked() and not window.damage.brush()  # the fill in plain sight
    assert entry.result.damage is not None
    assert entry.result.provenance()["damage"]["pixels"] == int((editor.mask() > 0).sum())
    assert entry.result.provenance()["damage"]["resamples"] == 2
    after = shown_after(window)
    before = entry.photo.srgb
    damaged = editor.mask() > 0
    assert np.abs(after[damaged].astype(int) - before[damaged].astype(int)).mean() < 40  # filled from around
    window.actions_["clear_damage"].trigger()
    assert editor.is_empty()


def restored_photo(window, qtbot, photo):
    """Load and restore ``photo``: its path, its entry, the first face's candidate count and the
    session's info messages from now on."""
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    messages = []
    window.session.info.connect(messages.append)
    return path, entry, len(entry.result.faces[0].candidates), messages


def test_refine_adds_its_passes_to_the_gallery_and_reports_the_changes(window, qtbot, photo):
    path, entry, count, messages = restored_photo(window, qtbot, photo)
    window.models.apply_preferences(window.session.prefs.replace(refine_passes=3))  # Settings ▸ Refine passes
    assert window.actions_["refine"].isEnabled()
    states = []
    window.session.entryChanged.connect(lambda p: states.append(window.session.entries[p].state))
    window.actions_["refine"].trigger()
    qtbot.waitUntil(lambda: bool(messages), timeout=60000)
    face = window.session.entries[path].result.faces[0]
    assert len(face.candidates) == count + 3 and face.chosen == count + 2
    assert any(s.startswith("refining ") for s in states) and not any(s.startswith("sampling") for s in states)
    running = [s for s in states if s.startswith(("refining", "loading"))]
    assert all(state_colour(s) == state_colour("restoring 1 %") for s in running)  # in the running photo's blue
    labels = [window.gallery._list.item(i).text() for i in range(window.gallery.thumbnail_count())]
    assert labels[count:] == [f"seed {face.seeds[count]}\nrefined"] + [
        f"seed {face.seeds[count + k]}\nrefined ×{k + 1}" for k in (1, 2)]  # each pass builds on the last
    assert "Restored" in window.run_panel.progress_text.text()  # not the refine's last step
    assert window.run_panel.preview_caption.text().endswith("· refined ×3")  # as its thumbnail says
    assert "Refined face 1" in messages[-1] and "→" in messages[-1] and "from where it started" in messages[-1]
    qtbot.waitUntil(lambda: not window.session.composer.pending(path), timeout=20000)
    assert shown_after(window).shape[:2] == entry.photo.srgb.shape[:2]


def test_a_seed_picked_while_refine_runs_stays_chosen(window, qtbot, photo):
    path, _, count, messages = restored_photo(window, qtbot, photo)
    window.session.choose(path, 0, 1)  # seed 1 is refined…
    window.session.refine(path, 0)
    window.session.choose(path, 0, 0)  # …and, while it runs, the user picks seed 0 after all
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    face = window.session.entries[path].result.faces[0]
    assert len(face.candidates) == count + DEFAULT_REFINE_PASSES and face.chosen == 0
    assert "The candidate chosen while it ran stays chosen" in messages[-1]


def test_refine_asked_while_more_is_queued_is_refused_and_loses_no_candidate(window, qtbot, photo):
    path, _, count, messages = restored_photo(window, qtbot, photo)
    window.session.more(path, 0, count=2)
    window.session.refine(path, 0)  # from the same result: its passes would replace More's candidates
    assert "still being sampled or refined" in messages[-1]
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    face = window.session.entries[path].result.faces[0]
    assert len(face.candidates) == count + 2 and not face.refinements  # More's candidates are kept
    window.session.refine(path, 0)  # once More is done, Refine runs on its result
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    face = window.session.entries[path].result.faces[0]
    passes = DEFAULT_REFINE_PASSES  # the Refine action's default
    assert len(face.candidates) == count + 2 + passes and len(face.refinements) == passes
    assert ("Refined face 1: the pass changed it by" if passes == 1 else "from where it started") in messages[-1]


def test_messages_name_a_face_by_the_number_on_its_tag(window, qtbot, photo):
    """Face 1 switched off and a face box drawn (face 2): the refine's progress and report say "face
    2", the number the photo shows, not the face's place among those restored."""
    path = load(window, qtbot, photo)
    window.session.add_face_box(path, (250, 40, 330, 120))
    window.session.toggle_face(path, 0)
    entry = restore(window, qtbot, path)
    assert [f.face.index for f in entry.result.faces] == [1]
    messages, texts = [], []
    window.session.info.connect(messages.append)
    window.session.progress.connect(lambda p, text, fraction, preview: texts.append(text))
    window.actions_["refine"].trigger()
    qtbot.waitUntil(lambda: bool(messages), timeout=60000)
    assert messages[-1].startswith("Refined face 2:")
    assert any(t.startswith("Face 2: refining") for t in texts)


def test_the_warning_that_damage_hides_features_goes_when_the_damage_is_cleared(window, qtbot, photo):
    """Damage QA: "The damage marked hides features (face 2: both eyes)" stayed after Clear damage."""
    path = load(window, qtbot, photo)
    [face] = window.session.entries[path].faces[:1]
    (lx, ly), (rx, ry) = face.landmarks[0], face.landmarks[1]
    width = max(3.0, 0.3 * float(np.hypot(rx - lx, ry - ly)))
    window.actions_["damage_brush"].setChecked(True)
    paint(window, qtbot, [(lx - width, ly), (rx + width, ry)], radius=width / 2)
    assert [n for n in window.notices.notices() if "hides features" in n.text]
    window.actions_["clear_damage"].trigger()
    assert not [n for n in window.notices.notices() if "hides features" in n.text]


def test_damage_over_the_eyes_is_a_warning_that_stays_until_read(window, qtbot, photo):
    """QA: the note saying why an eye came back drawn anew went away in seconds, before a user back
    from a long run had read it: it is a warning, which stays until closed."""
    path = load(window, qtbot, photo)
    [face] = window.session.entries[path].faces[:1]
    (lx, ly), (rx, ry) = face.landmarks[0], face.landmarks[1]
    width = max(3.0, 0.3 * float(np.hypot(rx - lx, ry - ly)))
    window.actions_["damage_brush"].setChecked(True)
    paint(window, qtbot, [(5, 5), (20, 5)], radius=2)  # the background: nothing to say
    assert not [n for n in window.notices.notices() if "hides features" in n.text]
    paint(window, qtbot, [(lx - width, ly), (rx + width, ry)], radius=width / 2)
    # said as the stroke ends, before a restore draws them anew (QA: said only after it)
    [live] = [n for n in window.notices.notices() if "hides features" in n.text]
    assert "(face 1: both eyes)" in live.text and live.level == "warning"
    paint(window, qtbot, [(5, 12), (20, 12)], radius=2)  # another stroke that hides nothing more: not said again
    restore(window, qtbot, path)
    [notice] = [n for n in window.notices.notices() if "hides features" in n.text]  # the restore's, the same words
    assert notice.level == "warning" and notice.subject == path and notice.text.startswith(path.name)
    # it is about this photo: out of sight while another is shown (QA: it stayed over the next
    # photo, where the user was about to paint), back with its photo; an error stays in sight
    other = load(window, qtbot, shutil.copy(photo, photo.parent / "other.jpg"))
    window.notices.show_notice(Notice("broken.jpg could not be opened", "error", subject=path))
    assert window.current == other and notice not in window.notices.notices_in_sight()
    assert any(n.level == "error" for n in window.notices.notices_in_sight())
    window.filmstrip.select(path)
    assert notice in window.notices.notices_in_sight()
    window.filmstrip.select(other)
    window.session.remove(path)  # taken off the filmstrip: its notes go with it (review: they came back)
    assert notice not in window.notices.notices()
    window.session.remove(other)
    assert window.current is None and window.notices._shown_photo is None
    assert not window.actions_["zoom_fit"].isEnabled()  # no photo to fit (review)


def test_damage_on_a_face_switched_off_is_said_to_be_filled_as_background(window, qtbot, photo):
    """QA (CLI): damage across a face left off was filled as the background's is, without a word.
    Painted over a face switched off, the restore's note says so and how to switch it on."""
    path = load(window, qtbot, photo)
    window.session.add_face_box(path, (250, 40, 330, 120))  # (a face to restore besides the one off)
    entry = window.session.entries[path]
    x0, y0, x1, y1 = entry.faces[0].box
    window.actions_["damage_brush"].setChecked(True)
    paint(window, qtbot, [(x0 + 2, y0 + 2), (x1 - 2, y1 - 2)])
    window.session.toggle_face(path, 0)
    entry = restore(window, qtbot, path)
    assert any(path.name in text and "face 1, switched off, is filled smoothly" in text
               and "click its number" in text for text in gui_util.said(window).splitlines())


def test_a_restore_that_cannot_start_leaves_the_brush_in_hand(window, qtbot, tmp_path):
    """Review: Restore on a photo without a face, which restores nothing, put the brush down too."""
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(tmp_path / "wall.png")
    load(window, qtbot, tmp_path / "wall.png")
    window.actions_["damage_brush"].setChecked(True)
    window.restore_current()
    assert window.actions_["damage_brush"].isChecked()


def test_leaving_the_brush_with_esc_puts_the_eraser_away_so_the_next_stroke_paints(window, qtbot, photo):
    path = load(window, qtbot, photo)
    window.actions_["damage_brush"].setChecked(True)
    window.actions_["eraser"].setChecked(True)
    assert window.damage.eraser()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.actions_["damage_brush"].isChecked()
    assert not window.actions_["eraser"].isChecked() and not window.damage.eraser()
    window.actions_["damage_brush"].setChecked(True)  # taken up again: it paints
    paint(window, qtbot, [(10, 200), (60, 120)])
    assert window.session.damage_editor(path).mask()[160, 35] == 255


def test_the_brush_paints_under_the_notices_over_the_photo_and_their_buttons_still_work(window, qtbot, photo):
    """Small-laptop QA: three notices covered the top quarter of the photo, and a stroke there
    painted nothing without a word. With a tool in hand the notices step aside: the stroke reaches
    the photo under them, while their close buttons stay theirs, and they come back whole after."""
    from PySide6.QtWidgets import QLabel, QPushButton

    path = load(window, qtbot, photo)
    window.compare.set_zoom(3 * window.compare.zoom())  # the photo fills the view, under the notices too
    window.notices.show_notice(Notice("A note that stays until it is closed, over the top of the photo. " * 3,
                                      "warning"))
    qtbot.waitUntil(lambda: window.compare._covered_top > 0)
    banner = next(b for b in window.notices.findChildren(QLabel) if b.text().startswith("A note"))
    editor = window.session.damage_editor(path)
    qtbot.mouseClick(banner, Qt.MouseButton.LeftButton)  # no tool in hand: the banner's
    assert editor.is_empty()

    window.actions_["damage_brush"].setChecked(True)
    window.damage.set_brush_radius(4)
    qtbot.wait(20)  # (the banners, seen through, settle: their stack may scroll)
    # the brush's hint may come as a notice too, and the stack show it alone, whole (HiDPI QA): the
    # banner in sight is the one painted through
    banner = [label for label in window.notices.findChildren(QLabel)
              if not label.visibleRegion().isEmpty() and label.text()][-1]
    under = banner.mapTo(window.compare, banner.rect().center())  # the photo under the banner's text
    top = window.compare.widget_to_image(QPointF(under))
    assert 0 <= top.y() < window.session.entries[path].photo.height and editor.is_empty()
    start = banner.rect().center()
    qtbot.mousePress(banner, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(banner, start + QPoint(40, 0))
    qtbot.mouseRelease(banner, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 0))
    painted = editor.mask()
    assert painted[round(top.y()), round(top.x())] == 255  # the stroke reached the photo
    end = window.compare.widget_to_image(QPointF(banner.mapTo(window.compare, start + QPoint(40, 0))))
    assert painted[round(end.y()), round(end.x())] == 255  # and its drag too
    assert window.notices.widget().cursor().shape() == window.damage.cursor().shape()  # the brush's cursor
    qtbot.mouseMove(banner, start + QPoint(80, 0))  # a hover over the banner shows where the brush would paint
    assert window.damage._hover is not None and window.damage._hover.x() > window.compare.image_to_widget(end).x()

    # A stroke let go above the photo ends there: hovering over the photo afterwards paints nothing
    qtbot.mousePress(banner, Qt.MouseButton.LeftButton, pos=start + QPoint(0, 2))
    above = start - QPoint(0, banner.mapTo(window, start).y() + 20)  # over the window's menu bar
    qtbot.mouseMove(banner, above)
    qtbot.mouseRelease(banner, Qt.MouseButton.LeftButton, pos=above)
    painted = editor.mask().copy()
    middle = window.compare.rect().center()
    qtbot.mouseMove(window.damage, middle)
    qtbot.mouseMove(window.damage, middle + QPoint(30, 30))
    np.testing.assert_array_equal(editor.mask(), painted)
    close = next(b for b in banner.parentWidget().findChildren(QPushButton) if b.text() == "✕")
    under_close = window.compare.widget_to_image(QPointF(close.mapTo(window.compare, close.rect().center())))
    editor.begin_stroke(under_close.x(), under_close.y(), radius=6, erase=False)  # damage under the button
    editor.end_stroke()
    pixels = int((editor.mask() > 0).sum())
    qtbot.mouseClick(close, Qt.MouseButton.RightButton)  # a right click on the button: no erasing under it
    assert int((editor.mask() > 0).sum()) == pixels
    closing = banner.parentWidget().notice.text
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not any(n.text == closing for n in window.notices.notices()))
    assert int((editor.mask() > 0).sum()) == pixels  # the close button closed, and painted nothing

    window.notices.show_notice(Notice("Another note.", "warning"))
    window.actions_["damage_brush"].setChecked(False)
    assert not window.notices.stepped_aside()


def test_the_brush_starts_at_a_size_that_suits_the_photos_faces_and_keeps_the_users(window, qtbot, photo, tmp_path):
    from faceapp.core.mask_editing import default_brush_radius

    path = load(window, qtbot, photo)
    entry = window.session.entries[path]
    qtbot.waitUntil(lambda: bool(entry.faces), timeout=20000)
    suited = default_brush_radius(entry.photo.width, entry.photo.height, [f.size for f in entry.faces])
    qtbot.waitUntil(lambda: window.damage.brush_radius() == suited, timeout=5000)
    assert suited != 8.0  # (not the old fixed size, or this proves nothing)
    window.actions_["brush_bigger"].trigger()
    bigger = window.damage.brush_radius()
    assert bigger > suited
    assert window.statusBar().currentMessage() == f"Brush: {2 * bigger:.0f} px across (photo pixels)"  # its size, said

    other = tmp_path / "other.png"
    from PIL import Image
    Image.new("RGB", (3000, 2000), (120, 100, 90)).save(other)  # no face: sized from the photo
    second = load(window, qtbot, other)
    window.show_photo(second)
    qtbot.waitUntil(lambda: window.damage.brush_radius() == default_brush_radius(3000, 2000), timeout=5000)
    window.show_photo(path)
    assert window.damage.brush_radius() == bigger  # the size the user chose for this photo


def files_written(window, qtbot) -> None:
    """Wait for the window's file jobs (saves, mask files) to end."""
    qtbot.waitUntil(lambda: not window.session.export_queue.busy, timeout=10_000)


def test_painted_damage_is_saved_as_a_mask_file_and_loaded_again(window, qtbot, photo, monkeypatch):
    """QA: the painting lived only in memory: after Save and Quit it was gone, and it could not go
    to the CLI. Edit ▸ Save damage mask… writes photo_mask.png beside the photo (the name
    faceapp-cli restore --mask finds); Load damage mask… adds a mask file's damage, undoably."""
    from PySide6.QtWidgets import QFileDialog

    from faceapp.core.damage import read_mask

    path = load(window, qtbot, photo)
    a = window.actions_
    assert a["load_damage"].isEnabled() and not a["save_damage"].isEnabled()  # nothing painted to save
    window.actions_["damage_brush"].setChecked(True)
    paint(window, qtbot, [(10, 200), (60, 120)])
    editor = window.session.damage_editor(path)
    painted = editor.mask()
    offered = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda _parent, _title, start, _filter: offered.append(start) or (start, "PNG mask (*.png)"))
    a["save_damage"].trigger()
    files_written(window, qtbot)
    saved = path.with_name(f"{path.stem}_mask.png")
    assert offered == [str(saved)] and saved.is_file()
    np.testing.assert_array_equal(read_mask(saved, width=editor.width, height=editor.height)[0], painted)
    from faceapp.core.photo_inputs import list_photos

    assert saved not in list_photos(path.parent).photos  # (review: the folder opened again listed it as a photo)
    a["clear_damage"].trigger()
    assert editor.is_empty()
    started = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda _parent, _title, start, _filter: started.append(start)
                        or (str(saved), "Masks"))
    a["load_damage"].trigger()
    assert started == [str(saved)]  # it starts at the mask saved since the photo opened (review: at its folder)
    files_written(window, qtbot)
    np.testing.assert_array_equal(editor.mask(), painted)
    a["undo"].trigger()
    assert editor.is_empty()  # (the load was one step)
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(photo.parent / "small.png")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (str(photo.parent / "small.png"), "Masks"))
    a["load_damage"].trigger()
    files_written(window, qtbot)
    [said] = [n for n in window.notices.notices() if "small.png is 10×10" in n.text]
    assert editor.is_empty() and said.action is None  # (QA: "Open another…")
    assert said.text.startswith(f"{path.name}: Damage mask")  # (an error is shown over every photo: QA)
    assert said.subject == path
    kept = saved.read_bytes()  # a name typed without .png: the file named with it is not replaced unasked (review)
    from PySide6.QtWidgets import QMessageBox

    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_args: (str(saved.with_suffix("")), "PNG mask (*.png)"))
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args[2]) or QMessageBox.StandardButton.No)
    a["clear_damage"].trigger()
    paint(window, qtbot, [(20, 20), (30, 30)])
    a["save_damage"].trigger()
    files_written(window, qtbot)
    assert saved.read_bytes() == kept and asked == [f"{saved.name} exists already. Replace it?"]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    a["save_damage"].trigger()
    files_written(window, qtbot)
    assert saved.read_bytes() != kept  # (QA: "allow overwriting", a choice the window does not have)
    other = photo.parent / "other.png"  # another photo is never replaced by a mask (QA: one open beside it was)
    Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(other)
    before = other.read_bytes()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_args: (str(other), "PNG mask (*.png)"))
    a["save_damage"].trigger()
    files_written(window, qtbot)
    assert other.read_bytes() == before
    [refused] = [n for n in window.notices.notices() if "not a damage mask faceapp saved" in n.text]
    assert refused.subject == path


def test_a_mask_saved_beside_a_photo_is_offered_when_the_photo_opens(window, qtbot, photo):
    """Damage QA: reopened, a photo's saved strokes had to be looked for with Load damage mask…:
    its photo_mask.png beside it is offered, once, and its button loads it."""
    width, height = Image.open(photo).size
    mask = np.zeros((height, width), np.uint8)
    mask[100:110, 40:200] = 255
    Image.fromarray(mask).save(photo.with_name(f"{photo.stem}_mask.png"))
    path = load(window, qtbot, photo)
    [offer] = [n for n in window.notices.notices() if n.action == "load_mask"]
    assert offer.subject == path and offer.text.startswith(f"{photo.stem}_mask.png beside {photo.name}")
    window.notices.actionTriggered.emit("load_mask", path)  # its button, "Load it"
    editor = window.session.damage_editor(path)
    qtbot.waitUntil(lambda: not editor.is_empty(), timeout=10000)
    assert (editor.mask() > 0).sum() == (mask > 0).sum()
    assert not [n for n in window.notices.notices() if n.action == "load_mask"]  # taken: not offered again


def test_the_mask_beside_a_photo_is_looked_for_off_the_ui_thread(window, qtbot, photo, monkeypatch):
    """Review: looked for on the UI thread as the photo opened; telling a mask from a photo's twin
    reads both images (a 40 MP twin: a stalled window)."""
    import threading

    from faceapp.core import mask_files

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(photo.with_name(f"{photo.stem}_mask.png"))
    threads, real = [], mask_files.match_mask
    monkeypatch.setattr(mask_files, "match_mask", lambda *a, **k: threads.append(threading.current_thread()) or real(*a, **k))
    path = load(window, qtbot, photo)
    assert [n.subject for n in window.notices.notices() if n.action == "load_mask"] == [path]  # offered,
    assert threads and threading.main_thread() not in threads  # and looked for on a worker


def test_a_mask_beside_a_photo_is_offered_as_the_cli_would_find_it_in_another_image_type(window, qtbot, photo):
    """Review: only photo_mask.png was offered: a photo_mask.JPG made in another editor, which
    faceapp-cli restore --mask uses, was not."""
    width, height = Image.open(photo).size
    mask = np.zeros((height, width), np.uint8)
    mask[100:110, 40:200] = 255
    Image.fromarray(mask).save(photo.with_name(f"{photo.stem}_mask.JPG"), quality=95)
    path = load(window, qtbot, photo)
    [offer] = [n for n in window.notices.notices() if n.action == "load_mask"]
    assert offer.text.startswith(f"{photo.stem}_mask.JPG beside {photo.name}")
    other = np.zeros((height, width), np.uint8)
    other[0:20, 0:20] = 255
    Image.fromarray(other).save(photo.with_name(f"{photo.stem}_mask.png"))  # (one put beside it since: not it)
    import os

    later = os.stat(photo.parent).st_mtime_ns + 1_000_000_000  # (a folder's time moves in steps: moved on)
    os.utime(photo.parent, ns=(later, later))
    window.notices.actionTriggered.emit("load_mask", path)  # its button loads the file offered
    editor = window.session.damage_editor(path)
    qtbot.waitUntil(lambda: not editor.is_empty(), timeout=10000)
    assert abs(int((editor.mask() > 0).sum()) - int((mask > 0).sum())) < 200  # (JPEG's edges)


def test_a_mask_beside_a_photo_is_offered_again_when_the_changed_photo_is_read_anew(window, qtbot, photo):
    """Review: the offer was made once a session, so a photo read anew (its file changed on disk)
    did not offer its mask again."""
    import os

    width, height = Image.open(photo).size
    Image.fromarray(np.full((height, width), 255, np.uint8)).save(photo.with_name(f"{photo.stem}_mask.png"))
    path = load(window, qtbot, photo)
    assert [n for n in window.notices.notices() if n.action == "load_mask"]
    window.notices.clear()  # (closed: not loaded)
    with Image.open(photo) as image:
        image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photo)  # changed on disk…
    os.utime(photo, ns=(os.stat(photo).st_atime_ns, os.stat(photo).st_mtime_ns + 5_000_000_000))
    window.add_paths([photo])  # …and opened again: read anew
    qtbot.waitUntil(lambda: any(n.action == "load_mask" for n in window.notices.notices()), timeout=20000)
    assert window.session.entries[path].photo is not None


def test_a_mask_file_is_read_and_written_off_the_ui_thread_for_the_photo_it_was_chosen_for(
        window, qtbot, photo, monkeypatch):
    """Review: Load and Save damage mask read and wrote on the UI thread (a 24 MP mask: 2.2 s and
    0.9 s of a frozen window). They run on the files' queue; a mask read while another photo is
    shown goes to the photo it was chosen for."""
    import threading

    from PySide6.QtWidgets import QFileDialog

    from faceapp.gui import backend

    path = load(window, qtbot, photo)
    other_file = photo.parent / "other.png"
    Image.new("RGB", (300, 200), (120, 100, 90)).save(other_file)
    other = load(window, qtbot, other_file)
    window.show_photo(path)
    threads = []
    for name in ("read_mask", "write_mask"):
        real = getattr(backend, name)
        monkeypatch.setattr(backend, name, lambda *args, real=real, **kw: threads.append(
            threading.current_thread()) or real(*args, **kw))
    window.actions_["damage_brush"].setChecked(True)
    paint(window, qtbot, [(10, 200), (60, 120)])
    painted = window.session.damage_editor(path).mask()
    saved = path.with_name(f"{path.stem}_mask.png")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_args: (str(saved), "PNG mask (*.png)"))
    window.actions_["save_damage"].trigger()
    files_written(window, qtbot)
    window.actions_["clear_damage"].trigger()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (str(saved), "Masks"))
    window.actions_["load_damage"].trigger()
    window.show_photo(other)  # before the mask is read
    files_written(window, qtbot)
    np.testing.assert_array_equal(window.session.damage_editor(path).mask(), painted)
    assert window.session.damage_editor(other).is_empty()
    assert len(threads) == 2 and threading.main_thread() not in threads


def test_restoring_a_photo_whose_file_changed_since_it_was_opened_says_so(window, qtbot, photo):
    """Damage QA: painted, then the file replaced by another picture, Restore and Save wrote a
    restore of the photo as it was, beside the new file, without a word."""
    import os

    path = load(window, qtbot, photo)
    with Image.open(photo) as image:
        image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photo)
    os.utime(photo, ns=(os.stat(photo).st_atime_ns, os.stat(photo).st_mtime_ns + 5_000_000_000))
    restore(window, qtbot, path)
    [said] = [n for n in window.notices.notices() if "has changed on disk since it was opened" in n.text]
    assert said.subject == path and "it is restored as it was then" in said.text


def test_damage_painted_on_a_photo_without_a_face_is_filled_by_restore(window, qtbot, tmp_path):
    """Damage QA: a torn landscape, or a print whose faces were not found, could not be repaired:
    Restore was off for want of a face. With damage painted it fills that, and says so."""
    from faceapp.gui.photo_words import photo_text

    rng = np.random.default_rng(3)
    rgb = np.clip(rng.normal(120, 10, (200, 300, 3)), 0, 255).astype(np.uint8)
    rgb[80:84, 10:290] = 255
    Image.fromarray(rgb).save(tmp_path / "land.png")
    path = load(window, qtbot, tmp_path / "land.png")
    qtbot.waitUntil(lambda: not window.session.busy, timeout=20000)
    assert window.session.entries[path].faces == [] and not window.actions_["restore"].isEnabled()
    window.actions_["damage_brush"].setChecked(True)
    paint(window, qtbot, [(12, 82), (150, 82), (288, 82)], radius=5)
    assert window.actions_["restore"].isEnabled()
    assert "Restore fills the damage painted on it" in photo_text(window.session.entries[path])
    window.actions_["restore"].trigger()
    entry = window.session.entries[path]
    qtbot.waitUntil(lambda: entry.result is not None and entry.composite is not None, timeout=60000)
    assert entry.result.faces == () or len(entry.result.faces) == 0
    assert abs(entry.composite[80:84, 20:280].astype(int).mean() - 120) < 10  # the white stroke is gone
    assert "only its damage is filled" in gui_util.said(window)
    assert "Damage filled" in photo_text(entry) and "(no face restored)" in photo_text(entry)
    window.actions_["undo"].trigger()  # every stroke taken back: Restore has nothing to do (sceptic QA)
    assert not window.actions_["restore"].isEnabled() and "press Restore" not in photo_text(entry)
    assert "was taken back since: the result shown still has it filled" in photo_text(entry)


def test_a_photo_whose_masks_name_would_be_too_long_opens_without_an_error(window, qtbot, photo):
    """Review: a photo whose name is a few characters short of the system's limit opened, but the
    look for its mask (its name and "_mask.png", too long to look at) raised in the window's handler."""
    long = photo.with_name("x" * 247 + photo.suffix)
    shutil.copy(photo, long)
    path = load(window, qtbot, long)
    assert window.session.entries[path].photo is not None and window.session.entries[path].mask_offered
    assert not [n for n in window.notices.notices() if n.action == "load_mask"]
