"""A gallery click recomposes the photo off the UI thread; the latest click is what is shown."""

from __future__ import annotations

import threading

import gui_util
import numpy as np
import pytest
from gui_util import load, restore, shown_after, wait_composed

from faceapp.core.photo_restore import PhotoResult

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


@pytest.fixture
def composites(monkeypatch) -> list[tuple[str, tuple[int, ...]]]:
    """The thread and the choice of every composite made from now on."""
    calls: list[tuple[str, tuple[int, ...]]] = []
    original = PhotoResult.composite

    def recording(self):
        calls.append((threading.current_thread().name, self.choice))
        return original(self)

    monkeypatch.setattr(PhotoResult, "composite", recording)
    return calls


def test_a_click_recomposes_on_a_helper_thread_and_then_shows_the_result(window, qtbot, photo, composites):
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    calls = composites
    before_click = shown_after(window)

    window.gallery.click_candidate(2)
    entry = window.session.entries[path]
    assert entry.result.faces[0].chosen == 2  # the choice is made at once…
    assert window.run_panel.preview_caption.text().endswith(f"seed {entry.result.faces[0].seeds[2]}")
    wait_composed(window, qtbot, path)  # …and the composite follows

    assert [name for name, _ in calls] and all(name != threading.main_thread().name
                                               for name, _ in calls)
    assert calls[-1][1] == (2,)
    shown = shown_after(window)
    assert np.abs(shown.astype(int) - before_click.astype(int)).max() > 10
    np.testing.assert_array_equal(shown, entry.composite)


def test_quick_clicks_end_showing_the_last_choice(window, qtbot, photo, composites):
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    calls = composites
    for candidate in (1, 2, 1, 2, 0, 1):
        window.gallery.click_candidate(candidate)
    wait_composed(window, qtbot, path)

    entry = window.session.entries[path]
    assert entry.result.faces[0].chosen == 1
    assert calls[-1][1] == (1,)
    np.testing.assert_array_equal(shown_after(window), entry.result.composite())


def test_a_composite_asked_for_after_a_new_run_is_shown_even_while_the_old_one_finishes(qtbot):
    """A photo's composite is being made when a new run of it arrives (the composer forgets the old
    one) and the user picks a candidate of the new run: the old job must not take the new request's
    place, else the new choice is never shown."""
    from faceapp.gui.composer import Composer

    class Result:
        def __init__(self, name, gate=None):
            self.name, self.gate, self.alpha = name, gate, None
            self.photo = type("Photo", (), {"to_srgb": staticmethod(lambda rgb: rgb)})()

        def composite(self):
            if self.gate is not None:
                self.gate.wait(10)
            return np.zeros((8, 8, 3), np.uint8)

    composer, delivered = Composer(), []
    composer.composed.connect(lambda key, result, *_: delivered.append(result.name))
    gate = threading.Event()
    composer.request("photo", Result("old run", gate))
    qtbot.wait(100)  # its composite is being made
    composer.forget("photo")
    composer.request("photo", Result("new run"))
    gate.set()
    qtbot.waitUntil(lambda: not composer.pending("photo"), timeout=5000)
    qtbot.wait(100)
    assert delivered == ["new run"]
    composer.shutdown()


def test_a_request_after_shutdown_is_dropped_without_an_error():
    """CI race: a photo's load progress, delivered after the window had closed, asked the shut-down
    composer for its "before" image: "cannot schedule new futures after shutdown"."""
    from types import SimpleNamespace

    from faceapp.gui.composer import Composer

    composer = Composer()
    composer.shutdown()
    composer.request_photo("photo", SimpleNamespace(srgb=np.zeros((4, 4, 3), np.uint8), alpha=None))
    assert not composer.pending_photo("photo")
