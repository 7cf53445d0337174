"""The main window over the real core and a tiny model: drop, restore, cancel, gallery, export."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
from pathlib import Path

import gui_util
import numpy as np
import pytest
from gui_util import StallMeter, hush, load, restore, said, saved, set_sampling, shown_after, wait_composed
from PySide6.QtCore import Qt, QThread

from faceapp.core.errors import ExportError
from faceapp.gui.qimage import qimage_to_rgb
from faceapp.core.export import read_provenance
from faceapp.core.photo_io import read_photo
from faceapp.gui.photo_words import detector_index

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


def test_dropping_a_photo_loads_it_and_outlines_its_faces(window, qtbot, photo):
    path = load(window, qtbot, photo)
    entry = window.session.entries[path]
    assert len(entry.faces) >= 1
    assert window.current == path
    assert window.compare.before_image().width() == 400
    assert [f.index for f in window.compare._faces] == [f.index for f in entry.faces]
    assert "face" in window.filmstrip.state_text(path)
    assert not window.notices.notices()  # the tiny model is installed: no first-start warning


def test_a_photo_lying_on_its_side_is_said_to_and_gives_every_face(window, qtbot, tmp_path, testdata_dir):
    """Geometry QA: a photo scanned on its side lost faces; they are found upright, and the window
    says that the photo lies on its side, in a notice and, while it is shown, in the panel (GUI QA:
    the notice passed, and nothing said so any more)."""
    from PIL import Image

    lying = tmp_path / "scan.png"
    Image.open(testdata_dir / "photos" / "cf_00.jpg").transpose(Image.Transpose.ROTATE_90).save(lying)
    with qtbot.waitSignal(window.session.info, timeout=20000) as info:
        path = load(window, qtbot, lying)
    assert len(window.session.entries[path].faces) == 4
    assert info.args[0].startswith("scan.png: seems to lie on its side: more of its faces were found")
    qtbot.waitUntil(lambda: "The photo seems to lie on its side" in window.run_panel.progress_text.text())


def test_a_box_drawn_loosely_around_a_face_gives_the_face_the_detector_sees(window, qtbot, photo):
    """Geometry QA: a face box drawn around a whole head was read as eyes to mouth (the face cut
    out 1.4× too small). The window looks for the face in the box drawn. GUI QA: a box around a
    face listed already added a second copy of it (restored twice); it switches that face on."""
    path = load(window, qtbot, photo)
    entry = window.session.entries[path]
    found = entry.faces[0]
    (cx, cy), side = found.center, 1.5 * found.size
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    window.session.toggle_face(path, found.index)  # switched off: the box switches it on again
    with qtbot.waitSignal(window.session.info) as said:
        window.session.add_face_box(path, box)
    assert said.args[0] == "The box holds face 1: switched on again."
    assert len(entry.faces) == 1 and entry.faces[0].enabled
    entry.faces = []  # a face the detector missed in the whole photo
    window.session.add_face_box(path, box)
    [drawn] = entry.faces
    assert drawn.score == 1.0
    np.testing.assert_allclose(drawn.landmarks, found.landmarks, atol=0.06 * found.size)
    with qtbot.waitSignal(window.session.info) as said:  # a box with no face in it: said, added anyway
        window.session.add_face_box(path, (1.0, 1.0, 40.0, 40.0))
    assert said.args[0] == "No face found in the box: face 2 is restored as drawn (its number switches it off)."
    assert len(entry.faces) == 2
    with qtbot.waitSignal(window.session.error) as refused:  # a strip drawn by a slip of the mouse: not a face
        window.session.add_face_box(path, (11.0, 11.0, 191.0, 31.0))  # (first-hour QA: restored as a smear)
    assert "too wide to be restored as one" in str(refused.args[0]) and len(entry.faces) == 2
    window.session.add_face_box(path, (0.0, 11.0, 30.0, 111.0))  # a square round a face cut by the photo's
    assert len(entry.faces) == 3  # edge, clipped to the photo, is a face's box all the same (review)


def test_restore_runs_on_the_worker_thread_and_the_ui_keeps_responding(window, qtbot, photo):
    path = load(window, qtbot, photo)
    progress = []
    window.session.progress.connect(lambda p, text, fraction, preview: progress.append(
        (fraction, preview)))
    with StallMeter() as stalls:
        entry = restore(window, qtbot, path)

    assert window.engine_threads and window.engine_threads[0] is window.session.runner.thread
    assert window.engine_threads[0] is not QThread.currentThread()
    stepped = [(f, p) for f, p in progress if p is not None]
    assert len(stepped) >= 4 * len(entry.faces)  # a live preview after every step of every face
    fractions = [f for f, _ in progress if f >= 0]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    print(f"longest event-loop stall: {stalls.longest} ms over {len(stalls.ticks)} ticks")
    assert stalls.longest < 200, f"the event loop stalled for {stalls.longest} ms"
    assert entry.composite is not None and window.compare.after_image() is not None
    assert entry.composite.shape[:2] == (225, 400)
    assert window.time_label.text().startswith(f"Last run: {path.name}, ")  # names its photo


def test_cancel_ends_the_run_within_one_step_and_a_new_run_works(window, qtbot, photo):
    path = load(window, qtbot, photo)
    set_sampling(window, seeds=1, steps=200)
    steps = []
    window.session.progress.connect(lambda p, text, fraction, preview: steps.append(preview))
    window.actions_["restore"].trigger()
    qtbot.waitUntil(lambda: sum(s is not None for s in steps) >= 2, timeout=30000)
    window.actions_["cancel"].trigger()
    at_cancel = sum(s is not None for s in steps)
    started = time.perf_counter()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=10000)
    assert time.perf_counter() - started < 5
    assert sum(s is not None for s in steps) - at_cancel <= 1
    assert window.session.entries[path].state == "cancelled"
    assert window.session.entries[path].composite is None

    set_sampling(window, seeds=1, steps=2)
    assert restore(window, qtbot, path).composite is not None


def test_choosing_another_gallery_candidate_changes_the_composite(window, qtbot, photo):
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    assert window.gallery.thumbnail_count() == 3
    first = shown_after(window)
    window.gallery.click_candidate(2)
    assert entry.result.faces[0].chosen == 2
    wait_composed(window, qtbot, path)
    second = shown_after(window)
    assert np.abs(first.astype(int) - second.astype(int)).max() > 10
    np.testing.assert_array_equal(second, entry.result.composite())


def test_export_records_the_chosen_seed_and_never_overwrites(window, qtbot, photo):
    original = hashlib.sha256(photo.read_bytes()).hexdigest()
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    before_choice = entry.result.composite().astype(int)
    window.gallery.click_candidate(1)  # saved at once, before the new composite is shown
    chosen_seed = entry.result.faces[0].seeds[1]
    chosen = entry.result.composite().astype(int)

    [first] = saved(window, qtbot, window.exports.save)
    window.gallery.click_candidate(2)  # a new picture: saved beside the first, which stays
    [second] = saved(window, qtbot, window.exports.save)
    assert first != second and first.parent == photo.parent and first.exists()
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == original
    provenance = read_provenance(first)
    assert provenance["faces"][0]["seed"] == chosen_seed
    pixels = read_photo(first).rgb.astype(int)  # the pixels are the chosen candidate's too
    assert np.abs(pixels - chosen).mean() < np.abs(pixels - before_choice).mean()
    # Saving explicitly onto the original is refused before anything is written.
    assert window.session.entries[path].saved_to == second
    with pytest.raises(ExportError, match="original"):
        window.session.export_job([path], dest=photo)
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == original


def test_clicking_a_restored_face_shows_its_seeds_and_its_tag_switches_it_off(window, qtbot, tmp_path, testdata_dir):
    """A new user clicks a face to see its seeds: that face comes up in the gallery, still switched on
    (QA: the click switched it off, and the gallery stayed where it was); its number tag switches it off."""
    import shutil

    shutil.copy(testdata_dir / "photos" / "cf_06.png", tmp_path / "two.png")
    shutil.copy(testdata_dir / "photos" / "gf_10045.png", tmp_path / "three.png")
    path = load(window, qtbot, tmp_path / "three.png")  # three faces: the first switched off, so that
    window.session.toggle_face(path, 0)  # a face's number and its place in the result differ
    entry = restore(window, qtbot, path)
    assert [detector_index(f, i) for i, f in enumerate(entry.result.faces)] == [1, 2]
    window.compare.faceClicked.emit(2)  # the third face: the result's second
    assert window.gallery.current_face() == 1
    assert [face.enabled for face in window.session.entries[path].faces] == [False, True, True]
    window.compare.faceClicked.emit(0)  # not restored: switched on, as its tag would
    assert window.session.entries[path].faces[0].enabled
    window.compare.faceClicked.emit(0)  # to be restored: a click leaves it so (GUI QA: a click to focus the
    assert window.session.entries[path].faces[0].enabled  # view switched a face off), and says how
    assert "Face 1 is restored with the others; click its number (or use Photo ▸ Faces) to leave it out." in gui_util.said(window)
    window.compare.faceToggled.emit(2)
    assert not window.session.entries[path].faces[2].enabled


def test_enlarging_a_photo_after_its_faces_is_shown_as_work_in_progress(window, qtbot, photo):
    """At ×2 the photo is enlarged after its last face (half a minute for a 120 MP scan): the panel
    says so, and the photo counts as busy meanwhile (QA: the progress sat on the last face's step)."""
    import dataclasses

    from faceapp.gui.photo_words import is_busy_state

    window.models.apply_preferences(dataclasses.replace(window.session.prefs, upscale=2))
    path = load(window, qtbot, photo)
    seen = []
    window.session.progress.connect(
        lambda where, text, *_: seen.append((text, is_busy_state(window.session.entries[where].state))))
    assert restore(window, qtbot, path).result.background.shape[0] == 2 * read_photo(photo).height
    assert ("Enlarging the photo ×2…", True) in seen
    assert [text for text, _ in seen].index("Enlarging the photo ×2…") == len(seen) - 1  # after every face


def test_switching_grain_matching_in_settings_recomposes_without_restoring_again(window, qtbot, tmp_path, testdata_dir):
    """Settings ▸ Grain applies to the photo shown at once, as a composite of the same restore: no
    restore runs again, the seeds stay, and Restore all finds the photo restored at these settings."""
    import cv2

    rgb = cv2.imread(str(testdata_dir / "photos" / gui_util.PHOTO))
    grain = np.random.default_rng(0).standard_normal(rgb.shape[:2])[..., None] * 7
    grainy = tmp_path / "grainy.png"  # (a PNG: a JPEG below quality 85 gets no grain)
    cv2.imwrite(str(grainy), np.clip(rgb + grain, 0, 255).astype(np.uint8))
    path = load(window, qtbot, grainy)
    entry = restore(window, qtbot, path)
    matched = shown_after(window).astype(int)
    assert entry.result.settings.match_grain and entry.result.provenance()["faces"][0]["grain"] > 1.0
    finished = []
    window.session.runFinished.connect(lambda *args: finished.append(args))
    result = entry.result
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, match_grain=False))
    assert not window.session.busy  # nothing queued
    wait_composed(window, qtbot, path)
    plain = shown_after(window).astype(int)
    assert entry.result.same_run(result) and not entry.result.settings.match_grain
    np.testing.assert_array_equal(plain, entry.result.composite())
    assert np.abs(plain - matched).max() > 5  # the grain is gone from the faces…
    away = entry.result.masks()[0].roi
    outside = np.ones(plain.shape[:2], bool)
    outside[away[1]:away[3], away[0]:away[2]] = False
    np.testing.assert_array_equal(plain[outside], matched[outside])  # …and only from them
    hush(window)
    window.actions_["restore_all"].trigger()
    assert "Every photo is restored at these settings" in said(window) and not finished


def test_grain_switched_while_a_restore_runs_applies_to_its_result(window, qtbot, tmp_path, testdata_dir):
    """The restore was queued with grain matching on; switched off before it ends, the result it
    brings is shown without grain, as the settings now say."""
    import cv2

    rgb = cv2.imread(str(testdata_dir / "photos" / gui_util.PHOTO))
    grain = np.random.default_rng(0).standard_normal(rgb.shape[:2])[..., None] * 7
    grainy = tmp_path / "grainy.png"
    cv2.imwrite(str(grainy), np.clip(rgb + grain, 0, 255).astype(np.uint8))
    path = load(window, qtbot, grainy)
    set_sampling(window, seeds=1, steps=30)
    steps = []
    window.session.progress.connect(lambda p, text, fraction, preview: steps.append(preview))
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.actions_["restore"].trigger()
        qtbot.waitUntil(lambda: sum(s is not None for s in steps) >= 1, timeout=30000)
        window.models.apply_preferences(dataclasses.replace(window.session.prefs, match_grain=False))
    entry = window.session.entries[path]
    assert not entry.result.settings.match_grain and "grain" not in entry.result.provenance()["faces"][0]
    wait_composed(window, qtbot, path)
    qtbot.waitUntil(lambda: entry.composite is not None)
    np.testing.assert_array_equal(shown_after(window), entry.result.composite())
    assert np.abs(entry.result.composite().astype(int) - entry.result.with_grain(True).composite()).max() > 5


def test_saved_already_offers_save_as_and_goes_once_saved_again(window, qtbot, photo):
    """Save of a photo saved as it is says so, with Save as… to write a copy; the notice goes when
    the photo is saved again (GUI QA: it stayed a few seconds beside the new "Saved")."""
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    [first] = saved(window, qtbot, window.exports.save)
    hush(window)
    window.exports.save()
    [notice] = [n for n in window.notices.notices() if "saved already" in n.text]
    assert (notice.action, notice.action_label, notice.subject) == ("save_as", "Save as…", path)
    first.unlink()
    saved(window, qtbot, window.exports.save)
    assert "saved already" not in said(window)


def test_a_picture_saved_before_is_saved_already_when_shown_again(window, qtbot, photo):
    """GUI QA: saved with grain on, then off, then switched on again, Save wrote a third file the
    same as the first: the files saved are remembered, not only the last."""
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    [first] = saved(window, qtbot, window.exports.save)
    window.gallery.click_candidate(1)
    [second] = saved(window, qtbot, window.exports.save)
    assert second != first and window.session.saved_file(path) == second
    window.gallery.click_candidate(0)  # the first picture again
    assert window.session.saved_file(path) == first
    files = sorted(photo.parent.iterdir())
    hush(window)
    window.exports.save()
    assert "saved already" in said(window) and sorted(photo.parent.iterdir()) == files
    first.unlink()  # gone since: not saved any more
    assert window.session.saved_file(path) is None
    assert entry.saved_to == second
    restore(window, qtbot, path)  # a new run: the files saved of the old one hold none of its memory
    assert entry.saved_to == second and all(saved.result is None for saved in entry.saves)


def test_a_printed_photo_is_said_to_be_smoothed_and_its_before_side_keeps_the_dots(window, qtbot, tmp_path, testdata_dir):
    """gf_Blake_Lively's halftone half: the restore smooths its dots out and says so, with the
    setting that keeps them; the before side shows the photo as it is."""
    folder = tmp_path / "print"
    folder.mkdir()
    photo = shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", folder / "clipping.jpg")
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    assert entry.result.screen is not None
    assert any("Printed with a halftone screen" in n.text and "Settings ▸ Halftone off keeps the dots" in n.text
               for n in window.notices.notices())
    assert np.abs(entry.result.photo.rgb[:, :300].astype(int) - entry.photo.rgb[:, :300]).mean() > 5
    np.testing.assert_array_equal(qimage_to_rgb(window.compare.before_image()), entry.photo.rgb)
    plain = restore(window, qtbot, load(window, qtbot, Path(shutil.copy(testdata_dir / "photos" / "cf_03.jpg", folder))))
    assert not plain.result.printed
    # Settings ▸ Halftone off: the printed photo's result was made otherwise, the other's was not
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, descreen=False))
    resolved = window.session.backend.resolved(window.session.prefs)
    assert plain.restored_as(resolved) and not entry.restored_as(resolved)
    window.filmstrip.select(path)
    assert "other settings (halftone smoothing)" in window.run_panel.progress_text.text()


def test_a_slow_restore_of_several_seeds_says_once_how_to_restore_quicker(window, qtbot, photo, monkeypatch):
    """Slow-laptop QA: 17 s a photo on one core with 4 seeds, 5 s with one, and nothing said so."""
    import faceapp.gui.session as session_module

    monkeypatch.setattr(session_module, "SLOW_RESTORE_SECONDS", 0.0)  # (every restore counts as slow)
    path = load(window, qtbot, photo)
    set_sampling(window, seeds=1, steps=1)
    restore(window, qtbot, path)
    assert "Seeds per face 1" not in said(window)  # one seed: nothing quicker to say
    set_sampling(window, seeds=2, steps=1)
    restore(window, qtbot, path)
    assert "For quicker restores, Settings ▸ Seeds per face 1" in said(window)
    hush(window)
    restore(window, qtbot, path)
    assert "quicker" not in said(window)  # once a session


def test_the_progress_names_each_face_once_and_its_place_in_the_run_only_where_they_differ(
        window, qtbot, testdata_dir, tmp_path):
    """Copy QA: "Face 4 (4 of 4) · preparing" said the face's number twice; with a face switched off
    its tag and its place in the run differ, and both are said."""
    photo = shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", tmp_path / "two.jpg")
    set_sampling(window, seeds=1, steps=2)
    path = load(window, qtbot, photo)
    told = []
    window.session.progress.connect(lambda _path, text, *_rest: told.append(text))
    restore(window, qtbot, path)
    assert any(t.startswith("Face 1 of 2 · ") for t in told) and any(t.startswith("Face 2 of 2 · ") for t in told)
    assert not any("(1 of 2)" in t or "(2 of 2)" in t for t in told)
    first = window.session.entries[path].faces[0].index
    window.session.toggle_face(path, first)  # face 1 off: face 2 is the run's only face
    told.clear()
    restore(window, qtbot, path)
    assert any(t.startswith("Face 2 · ") for t in told) and not any(" of 1" in t.split("·")[0] for t in told)


def test_a_seed_picked_for_a_face_on_the_before_side_says_how_to_see_it(window, qtbot, photo):
    """First-hour QA: with the face left of the split's divider, a pick in the gallery changed only
    the gallery's preview, and seemed to do nothing: the status bar says how to see it."""
    gui_util.set_sampling(window, seeds=2, steps=2)
    path = load(window, qtbot, photo)
    entry = gui_util.restore(window, qtbot, path)
    window.compare.set_view_mode("split")
    window.compare.set_split(0.0)  # every face on the after side
    window.gallery.candidateChosen.emit(0, 1)
    assert entry.result.faces[0].chosen == 1 and "Before side" not in window.statusBar().currentMessage()
    window.compare.set_split(1.0)  # every face on the before side
    window.gallery.candidateChosen.emit(0, 0)
    assert entry.result.faces[0].chosen == 0
    assert "lies on the Before side: drag the divider left of it" in window.statusBar().currentMessage()
    window.compare.set_view_mode("before")
    window.gallery.candidateChosen.emit(0, 1)
    assert "press B to see face 1's seed picked" in window.statusBar().currentMessage()
    qtbot.keyClick(window.compare, Qt.Key.Key_B)  # (what it says to press shows the After side)
    assert window.compare.view_mode() == "after"
    gui_util.hush(window)
