"""The main window over the real core and a tiny model: drop, restore, cancel, gallery, export."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time

import gui_util
import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, QThread, QTimer

from faceapp.core.engine import load_engine
from faceapp.core.export import read_provenance
from faceapp.core.faces import FaceDetector
from faceapp.gui.backend import CoreBackend
from faceapp.gui.heap import freeze_long_lived_objects
from faceapp.gui.main_window import MainWindow
from faceapp.gui.qimage import qimage_to_rgb

PHOTO = "cf_03.jpg"  # 400×225, one face


@pytest.fixture
def photo(tmp_path, testdata_dir):
    """A copy of a real photo in a folder the test may write to (Save goes next to it)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    return shutil.copy(testdata_dir / "photos" / PHOTO, folder / PHOTO)


@pytest.fixture
def window(qtbot, tmp_path, retinaface_dir):
    gui_util.install_tiny_model()
    threads = []

    def engine_factory(prefs):
        threads.append(QThread.currentThread())
        return load_engine(prefs.model or None, device="cpu")

    backend = CoreBackend(engine_factory=engine_factory,
                          detector_factory=lambda prefs: FaceDetector(retinaface_dir))
    main = MainWindow(store=gui_util.settings_store(tmp_path), backend=backend)
    main.engine_threads = threads
    freeze_long_lived_objects()  # as faceapp.gui.app.main() does once the window is up
    prefs = main.session.prefs
    main.apply_preferences(dataclasses.replace(
        prefs, seeds_per_face=3, sampler=dataclasses.replace(prefs.sampler, steps=4)))
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()


def load(window, qtbot, photo):
    gui_util.drop_files(window, [photo])
    path = photo.resolve()
    qtbot.waitUntil(lambda: window.session.entries[path].photo is not None, timeout=20000)
    return path


def restore(window, qtbot, path):
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.actions_["restore"].trigger()
    return window.session.entries[path]


def shown_after(window) -> np.ndarray:
    return qimage_to_rgb(window.compare.after_image())


def test_dropping_a_photo_loads_it_and_outlines_its_faces(window, qtbot, photo):
    path = load(window, qtbot, photo)
    entry = window.session.entries[path]
    assert len(entry.faces) >= 1
    assert window.current == path
    assert window.compare.before_image().width() == 400
    assert [f.index for f in window.compare._faces] == [f.index for f in entry.faces]
    assert "face" in window.filmstrip.state_text(path)
    assert not window.notices.notices()  # the tiny model is installed: no first-start warning


def test_restore_runs_on_the_worker_thread_and_the_ui_keeps_responding(window, qtbot, photo):
    path = load(window, qtbot, photo)
    progress = []
    window.session.progress.connect(lambda p, text, fraction, preview: progress.append(
        (fraction, preview)))
    ticks, clock = [], QElapsedTimer()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    clock.start()
    timer.start()
    entry = restore(window, qtbot, path)
    timer.stop()

    assert window.engine_threads and window.engine_threads[0] is window.session.runner.thread
    assert window.engine_threads[0] is not QThread.currentThread()
    stepped = [(f, p) for f, p in progress if p is not None]
    assert len(stepped) >= 4 * len(entry.faces)  # a live preview after every step of every face
    fractions = [f for f, _ in progress if f >= 0]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    longest_stall = max(np.diff([0, *ticks]))
    print(f"longest event-loop stall: {longest_stall} ms over {len(ticks)} ticks")
    assert longest_stall < 200, f"the event loop stalled for {longest_stall} ms"
    assert entry.composite is not None and window.compare.after_image() is not None
    assert entry.composite.shape[:2] == (225, 400)
    assert "Last run" in window.time_label.text()


def test_cancel_ends_the_run_within_one_step_and_a_new_run_works(window, qtbot, photo):
    path = load(window, qtbot, photo)
    prefs = window.session.prefs
    window.apply_preferences(dataclasses.replace(
        prefs, seeds_per_face=1, sampler=dataclasses.replace(prefs.sampler, steps=200)))
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

    window.apply_preferences(dataclasses.replace(
        prefs, seeds_per_face=1, sampler=dataclasses.replace(prefs.sampler, steps=2)))
    assert restore(window, qtbot, path).composite is not None


def test_choosing_another_gallery_candidate_changes_the_composite(window, qtbot, photo):
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    assert window.gallery.thumbnail_count() == 3
    first = shown_after(window)
    window.gallery.click_candidate(2)
    assert entry.result.faces[0].chosen == 2
    second = shown_after(window)
    assert np.abs(first.astype(int) - second.astype(int)).max() > 10
    np.testing.assert_array_equal(second, entry.result.composite())


def test_export_records_the_chosen_seed_and_never_overwrites(window, qtbot, photo):
    original = hashlib.sha256(photo.read_bytes()).hexdigest()
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    window.gallery.click_candidate(1)
    chosen_seed = entry.result.faces[0].seeds[1]

    first = window.save()
    second = window.save()
    assert first is not None and second is not None
    assert first != second and first.parent == photo.parent
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == original
    provenance = read_provenance(first)
    assert provenance["faces"][0]["seed"] == chosen_seed
    # Saving explicitly onto the original is refused with a notice, and the file is untouched.
    assert window.session.entries[path].saved_to == second
    with pytest.raises(Exception):
        window.session.save_as(path, photo)
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == original
