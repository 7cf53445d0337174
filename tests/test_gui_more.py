"""The seed gallery's "More": new candidates on the worker thread, with progress and Cancel."""

from __future__ import annotations

import gui_util
import numpy as np
from gui_util import load, restore, set_sampling, shown_after
from PySide6.QtCore import QThread

import faceapp.core.photo_restore as photo_restore

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


def record_threads(monkeypatch) -> list[QThread]:
    """Note the thread each "More" run's generator runs on."""
    threads: list[QThread] = []
    original = photo_restore.iter_add_candidates

    def recording(*args, **kwargs):
        threads.append(QThread.currentThread())
        return (yield from original(*args, **kwargs))

    monkeypatch.setattr(photo_restore, "iter_add_candidates", recording)
    return threads


def test_more_samples_on_the_worker_with_progress_and_adds_to_the_gallery(window, qtbot, photo,
                                                                          monkeypatch):
    threads = record_threads(monkeypatch)
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    face = entry.result.faces[0]
    old_seeds, old_candidates = list(face.seeds), list(face.candidates)
    window.gallery.click_candidate(1)
    qtbot.waitUntil(lambda: not window.session.composer.pending(path), timeout=20000)
    shown = shown_after(window)
    progress = []
    window.session.progress.connect(lambda p, text, fraction, preview: progress.append(
        (text, fraction, preview)))

    window.gallery.more_button.click()
    assert window.session.busy and not window.gallery.more_button.isEnabled()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)

    assert threads == [window.session.runner.thread]
    previews = [p for _, _, p in progress if p is not None]
    assert len(previews) == 4  # one live preview per step
    fractions = [f for _, f, _ in progress if f >= 0]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "more candidates" in progress[-1][0]
    assert tuple(face.seeds) == tuple(old_seeds)  # the result sampled from is a value: unchanged
    face = entry.result.faces[0]  # the entry's new result
    assert face.seeds[:3] == tuple(old_seeds) and len(set(face.seeds)) == 6
    assert window.gallery.thumbnail_count() == 6
    assert all(c is o for c, o in zip(face.candidates, old_candidates))
    assert face.chosen == 1  # the choice, and so the composite, stays as it was
    np.testing.assert_array_equal(shown_after(window), shown)

    window.gallery.click_candidate(5)  # a new candidate can be chosen like the others
    assert window.session.entries[path].result.faces[0].chosen == 5


def test_cancel_stops_more_and_keeps_the_old_candidates(window, qtbot, photo):
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    face = entry.result.faces[0]
    old_seeds = list(face.seeds)
    set_sampling(window, seeds=3, steps=200)
    previews = []
    window.session.progress.connect(lambda p, text, fraction, preview: previews.append(preview))

    window.gallery.more_button.click()
    qtbot.waitUntil(lambda: sum(p is not None for p in previews) >= 2, timeout=30000)
    window.cancel_button.click()
    at_cancel = sum(p is not None for p in previews)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=10000)

    assert sum(p is not None for p in previews) - at_cancel <= 1
    face = window.session.entries[path].result.faces[0]
    assert list(face.seeds) == old_seeds and len(face.candidates) == 3
    assert window.gallery.thumbnail_count() == 3
    assert entry.state == "done" and window.gallery.more_button.isEnabled()

    set_sampling(window, seeds=2, steps=2)
    window.gallery.more_button.click()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    assert window.gallery.thumbnail_count() == 5
