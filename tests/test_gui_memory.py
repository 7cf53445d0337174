"""What the window keeps of each photo: its thumbnails always, its full-size images and composite
only while it is on screen (the photo shown and the one shown before it)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import gui_util  # noqa: F401  (offscreen Qt, set up before the window is imported)
import numpy as np
import pytest
from gui_util import drop_files, saved, settings_store, shown_after, wait_composed
from PIL import Image
from pipeline_util import SteppingEngine
from PySide6.QtWidgets import QFileDialog

from faceapp.core import host_memory
from faceapp.core.faces import face_from_box
from faceapp.core.photo_io import read_photo
import faceapp.gui.session as session_module
from faceapp.gui.backend import CoreBackend
from faceapp.gui.main_window import MainWindow
from faceapp.gui.qimage import qimage_to_rgb

PHOTOS = 4


class OneFaceDetector:
    """A stand-in detector: one face in the middle of any photo."""

    def detect(self, rgb, *, min_size=0.0, should_cancel=None):
        height, width = rgb.shape[:2]
        return [face_from_box((0.35 * width, 0.3 * height, 0.65 * width, 0.7 * height), index=0)]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The window over a quick stand-in engine (one step; each seed's candidate differs); the
    memory budget for full-size images set to nothing, as if the photos were large."""
    monkeypatch.setattr(session_module, "FULL_SIZE_BUDGET_BYTES", 0)
    backend = CoreBackend(engine_factory=lambda prefs: SteppingEngine(face_size=64, steps=1),
                          detector_factory=lambda prefs: OneFaceDetector())
    main = MainWindow(store=settings_store(tmp_path), backend=backend)
    main.models.apply_preferences(dataclasses.replace(main.session.prefs, seeds_per_face=2, auto_start=False))
    qtbot.addWidget(main)
    main.show()
    yield main
    qtbot.waitUntil(lambda: not main.exports.busy, timeout=20000)
    main.close()


@pytest.fixture
def photos(window, qtbot, tmp_path) -> list[Path]:
    """Four different PNG photos, loaded and restored; the first is shown."""
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for number in range(PHOTOS):
        path = folder / f"photo{number}.png"
        Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(path)
        paths.append(path.resolve())
    drop_files(window, paths)
    entries = window.session.entries
    qtbot.waitUntil(lambda: all(entries[p].photo is not None for p in paths), timeout=20000)
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: len(window.session.restored()) == PHOTOS and not window.session.busy, timeout=20000)
    qtbot.waitUntil(lambda: window.compare.after_image() is not None, timeout=20000)
    assert window.current == paths[0]
    return paths


def show(window, qtbot, path: Path) -> None:
    """Select ``path`` in the filmstrip and wait until its before and after are on screen."""
    window.filmstrip.select(path)
    qtbot.waitUntil(lambda: window.compare.after_image() is not None, timeout=20000)


def holding_full_size(window) -> set[Path]:
    """The photos that hold a full-size image, a composite, or their result's blending masks."""
    session, held = window.session, set()
    for path, entry in session.entries.items():
        images = [session.before[path].image, session.after[path].image if path in session.after else None]
        run = entry.result._run if entry.result is not None else None
        caches = [entry.composite] + ([run.composite, run.blend] if run is not None else [])
        if any(item is not None for item in images + caches):
            held.add(path)
    return held


def test_only_the_photo_shown_and_the_one_before_it_keep_full_size_images(window, qtbot, photos):
    assert holding_full_size(window) == {photos[0]}  # the others were restored while not shown
    for path in photos[1:]:
        show(window, qtbot, path)
    assert holding_full_size(window) == {photos[-1], photos[-2]}  # the one shown and the one before it
    session = window.session
    for path in photos:  # every photo keeps its thumbnails and its result
        assert not session.before[path].thumbnail.isNull() and not session.after[path].thumbnail.isNull()
        assert session.entries[path].result.background is not None


def test_photos_that_fit_the_budget_keep_their_full_size_images(window, qtbot, photos, monkeypatch):
    """Small photos: every one shown keeps its images while they fit the budget, so flipping back
    through them never waits; past it, the ones shown longest ago give theirs up."""
    one = window.session._full_size_bytes(photos[0])
    monkeypatch.setattr(session_module, "FULL_SIZE_BUDGET_BYTES", 3 * one)
    for path in photos[1:3]:
        show(window, qtbot, path)
    assert holding_full_size(window) == set(photos[:3])
    window.filmstrip.select(photos[0])  # shown three photos ago: still instant
    assert window.compare.message() == ""
    show(window, qtbot, photos[3])
    assert holding_full_size(window) == {photos[3], photos[0], photos[2]}


def test_a_photo_shown_again_gets_its_restored_pixels_back(window, qtbot, photos):
    first = photos[0]
    shown_first = shown_after(window)
    for path in photos[1:3]:
        show(window, qtbot, path)
    assert first not in holding_full_size(window)

    window.filmstrip.select(first)
    assert window.compare.before_image() is None  # made on the composer's thread meanwhile
    assert window.compare.message() == f"Preparing {first.name}…"
    qtbot.waitUntil(lambda: window.compare.after_image() is not None, timeout=20000)

    entry = window.session.entries[first]
    np.testing.assert_array_equal(qimage_to_rgb(window.compare.before_image()), entry.photo.srgb)
    np.testing.assert_array_equal(shown_after(window), shown_first)  # made again, the same pixels
    np.testing.assert_array_equal(shown_after(window), entry.photo.to_srgb(entry.composite))
    assert holding_full_size(window) == {first, photos[2]}

    window.gallery.click_candidate(1)  # its masks are made again for the new choice
    wait_composed(window, qtbot, first)
    entry = window.session.entries[first]
    assert entry.result.choice == (1,)
    np.testing.assert_array_equal(shown_after(window), entry.result.composite())


def test_a_photo_whose_images_cannot_be_made_says_so_rather_than_preparing_for_ever(window, qtbot, photos,
                                                                                   monkeypatch):
    import faceapp.gui.composer as composer_module

    for path in photos[1:3]:
        show(window, qtbot, path)

    def out_of_memory(_rgb, **_options):
        raise MemoryError("no memory for the full-size image")

    real_render = composer_module.render
    monkeypatch.setattr(composer_module, "render", out_of_memory)
    window.filmstrip.select(photos[0])
    assert window.compare.message() == f"Preparing {photos[0].name}…"
    qtbot.waitUntil(lambda: "could not be shown" in window.compare.message(), timeout=20000)
    assert window.compare.message().startswith(f"{photos[0].name} could not be shown")
    said = [n.text for n in window.notices.notices() if n.text.startswith("Out of memory")]  # (not "Unexpected error")
    # the photo as it was (not enlarged) is not told to use a smaller upscale (review); its composite is
    assert any(text.endswith("Close other programs, and try again.") for text in said)
    monkeypatch.setattr(composer_module, "render", real_render)  # showing it again tries again
    show(window, qtbot, photos[1])
    show(window, qtbot, photos[0])
    assert window.compare.message() == "" and window.compare.before_image() is not None


def test_a_seed_whose_photo_cannot_be_put_together_again_is_not_chosen(window, qtbot, photos, monkeypatch):
    """Memory QA: after a ×4 restore, another seed's composite ran out of memory as "Unexpected
    error: Unable to allocate 1.07 GiB", and the gallery marked the new seed over the old photo."""
    import faceapp.gui.composer as composer_module

    first, shown = photos[0], shown_after(window)

    def out_of_memory(result):
        raise MemoryError("Unable to allocate 1.07 GiB for an array with shape (15908, 24000, 3) and data type uint8")

    monkeypatch.setattr(composer_module, "_composite_images", out_of_memory)
    window.gallery.click_candidate(1)
    qtbot.waitUntil(lambda: not window.session.composer.pending(first), timeout=20000)
    [notice] = [n for n in window.notices.notices() if n.level == "error"]
    assert notice.text.startswith("Out of memory") and "smaller upscale (Settings ▸ Background upscale)" in notice.text
    assert "seeds" not in notice.text and notice.action == "settings"  # (fewer seeds would not help)
    assert window.session.entries[first].result.choice == (0,)  # the seed shown stays the one chosen
    assert window.gallery._list.currentRow() == 0
    np.testing.assert_array_equal(shown_after(window), shown)


def test_a_seed_is_not_chosen_where_the_photo_put_together_again_would_not_fit_in_memory(window, qtbot, photos,
                                                                                         monkeypatch):
    """The memory budget the restore was checked against did not count choosing another seed
    (memory QA: 9.6 GiB at ×4, where the restore was allowed 8.6): it is checked when chosen."""
    import functools

    from faceapp.core.memory import MemoryLimit, check_recomposite_memory

    first, shown = photos[0], shown_after(window)
    limit = MemoryLimit(50_000, "the limit set by FACEAPP_MEMORY_LIMIT")  # (the 160×120 photo needs 115 kB)
    monkeypatch.setattr(session_module, "check_recomposite_memory", functools.partial(check_recomposite_memory,
                                                                                      limit=limit))
    window.gallery.click_candidate(1)
    [notice] = [n for n in window.notices.notices() if n.level == "error"]
    assert "showing another seed puts the 160×120 restored photo together again" in notice.text
    assert "The seed shown is kept" in notice.text and notice.action == "settings"
    assert window.session.entries[first].result.choice == (0,) and not window.session.composer.pending(first)
    assert window.gallery._list.currentRow() == 0
    np.testing.assert_array_equal(shown_after(window), shown)


def test_going_back_to_the_photo_shown_before_is_instant(window, qtbot, photos):
    show(window, qtbot, photos[1])
    window.filmstrip.select(photos[0])  # no event is handled between the click and the checks
    assert window.compare.message() == ""
    np.testing.assert_array_equal(shown_after(window), window.session.entries[photos[0]].result.composite())


def test_export_all_writes_the_photos_not_on_screen_as_they_were_chosen(window, qtbot, photos, tmp_path,
                                                                      monkeypatch):
    window.gallery.click_candidate(1)
    wait_composed(window, qtbot, photos[0])
    for path in photos[1:3]:
        show(window, qtbot, path)
    assert photos[0] not in holding_full_size(window)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(out))

    written = saved(window, qtbot, window.exports.export_all)

    assert holding_full_size(window) == {photos[2], photos[1]}  # the files' composites were let go
    results = [window.session.entries[path].result for path in photos]
    assert results[0].choice == (1,)
    for result, file in zip(results, written, strict=True):
        np.testing.assert_array_equal(read_photo(file).rgb, result.composite())
    assert not np.array_equal(read_photo(written[0]).rgb, results[0].choose(0, 0).composite())


# A window in its own process (the heap settings are process-wide and taken at start, as the app
# does): a 12 MP photo opened, then removed while nothing runs. Its pixels (36 MB of RGB, and
# the images made from it) are freed into the C heap, which the app keeps for network work;
# removing the photo must hand them back to the system, or an idle window that has had many
# photos open stays hundreds of MB larger than it needs (QA: ~0.4 GB after closing 30 photos).
_REMOVE_PROBE = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from faceapp.core.host_memory import keep_freed_memory
    assert keep_freed_memory()
    import gui_util
    import numpy as np
    from PIL import Image
    from PySide6.QtWidgets import QApplication
    from faceapp.core.faces import face_from_box
    from faceapp.gui.backend import CoreBackend
    from faceapp.gui.main_window import MainWindow
    from pipeline_util import SteppingEngine

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    class OneFace:
        def detect(self, rgb, *, min_size=0.0, should_cancel=None):
            h, w = rgb.shape[:2]
            return [face_from_box((0.35 * w, 0.3 * h, 0.65 * w, 0.7 * h), index=0)]

    def pump(seconds, until=lambda: False):
        end = time.monotonic() + seconds
        while time.monotonic() < end and not until():
            app.processEvents()
            time.sleep(0.01)

    app = QApplication.instance() or QApplication([])
    folder = Path(sys.argv[1])
    backend = CoreBackend(engine_factory=lambda prefs: SteppingEngine(face_size=64, steps=1),
                          detector_factory=lambda prefs: OneFace())
    window = MainWindow(store=gui_util.settings_store(folder), backend=backend)
    window.show()
    path = folder / "scan.png"
    tiles = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(np.repeat(np.repeat(tiles, 10, 0), 10, 1)).save(path)
    window.session.add_paths([path])
    loaded = lambda: (e := window.session.entries.get(path)) is not None and e.photo is not None
    pump(60, lambda: loaded() and not window.session.busy)
    assert loaded()
    pump(1)
    held = rss_mb()
    window.session.remove(path)
    pump(1)
    print(json.dumps({"held_mb": held, "after_mb": rss_mb()}))
    window.close_without_asking()
""")


@pytest.mark.skipif(host_memory._glibc() is None, reason="the heap tuning speaks glibc's mallopt")
def test_a_photo_removed_is_freed_though_the_model_was_loaded_after_it_was_opened(window, qtbot, photos):
    """Long-session QA: every photo opened, restored and removed stayed in memory (210–230 MB a 12 MP
    scan): its damage editor and its entry held each other, and each job froze every object alive
    then out of the collector's sight, so that cycle was never collected."""
    import gc
    import weakref

    session = window.session
    for path in photos[:2]:  # shown: each gets its damage editor
        show(window, qtbot, path)
    window.actions_["restore"].trigger()  # another job: the engine asked for again
    qtbot.waitUntil(lambda: not session.busy, timeout=20000)
    kept = [weakref.ref(session.entries[path]) for path in photos[:2]]
    pixels = [weakref.ref(session.entries[path].photo) for path in photos[:2]]
    for path in photos[:2]:
        session.remove(path)
    qtbot.waitUntil(lambda: not session.busy, timeout=20000)
    gc.collect()
    assert [ref() is None for ref in kept + pixels] == [True] * 4


def test_removing_a_photo_gives_its_memory_back_to_the_system(tmp_path):
    tests = Path(__file__).parent
    # the checkout's faceapp (not an installed copy) and the tuning on, whatever this shell says
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)]), "QT_QPA_PLATFORM": "offscreen"}
    env.pop(host_memory.DISABLE_ENV, None)
    done = subprocess.run([sys.executable, "-c", _REMOVE_PROBE, str(tmp_path)], capture_output=True, text=True,
                          timeout=180, cwd=tests, env=env)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["held_mb"] - figures["after_mb"] > 20, figures  # of the photo's 36 MB of pixels at least
