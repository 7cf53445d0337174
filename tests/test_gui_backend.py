"""CoreBackend's cached engine: loads off the UI thread never make the UI thread wait."""

import dataclasses
import threading
import time

import gui_util  # noqa: F401  (offscreen Qt, like every GUI test)
import numpy as np
import pytest

from faceapp.core.preferences import Preferences
from faceapp.gui.backend import CoreBackend


def test_forgetting_the_engine_does_not_wait_for_a_load_in_flight():
    release, loads = threading.Event(), []

    def slow_factory(prefs):
        loads.append(prefs.model)
        release.wait(10)
        return object()

    backend = CoreBackend(engine_factory=slow_factory)
    prefs = Preferences()
    got = []
    loader = threading.Thread(target=lambda: got.append(backend.engine(prefs)))
    loader.start()
    while not loads:
        time.sleep(0.01)
    started = time.perf_counter()
    backend.forget_engine()  # the model files changed while the engine was loading
    assert time.perf_counter() - started < 0.5
    release.set()
    loader.join(10)
    assert got and got[0] is not None  # the job that asked still gets its engine
    backend.engine(prefs)
    assert len(loads) == 2  # but it was not cached: the next job loads the new files


def test_the_engine_is_cached_per_model_device_and_precision():
    backend = CoreBackend(engine_factory=lambda prefs: object())
    prefs = Preferences()
    first = backend.engine(prefs)
    assert backend.engine(dataclasses.replace(prefs, steps=3, upscale=2)) is first  # not an engine setting
    for change in ({"model": "other"}, {"device": "cpu"}, {"precision": "fp32"}):
        changed = dataclasses.replace(prefs, **change)
        assert backend.engine(changed) is not first, change  # a settings change reaches the engine
        first = backend.engine(changed)


def test_a_restore_over_the_memory_budget_fails_before_the_model_loads(monkeypatch, tmp_path):
    """Issue 13 #3 in the GUI: the budget is checked before any work, with the ways out."""
    import numpy as np
    import pytest

    from faceapp.core.memory import MemoryBudgetError
    from faceapp.core.photo_io import Photo
    from faceapp.gui.backend import PhotoEntry

    loads = []
    backend = CoreBackend(engine_factory=lambda prefs: loads.append(prefs))
    entry = PhotoEntry(tmp_path / "big.png", photo=Photo.from_array(np.zeros((900, 1200, 3), np.uint8)))
    monkeypatch.setenv("FACEAPP_MEMORY_LIMIT", "1200M")
    job = backend.restore_job(entry, Preferences(upscale=4, export_format="jpg"))
    with pytest.raises(MemoryBudgetError, match="big.png: restoring 1200×900 pixels at ×4 as JPEG") as refused:
        next(job(lambda: False))
    assert loads == []
    assert "a smaller upscale (Settings ▸ Background upscale: ×" in str(refused.value)  # (slow-laptop QA: where?)


def test_the_memory_check_counts_the_fill_of_the_damage_painted(monkeypatch, tmp_path):
    """A large area painted as damage takes memory to fill: refused before any work when it would
    not fit, though the same photo without it fits."""
    import numpy as np
    import pytest

    from faceapp.core.mask_editing import MaskEditor
    from faceapp.core.memory import BASE_BYTES, MemoryBudgetError
    from faceapp.core.photo_io import Photo
    from faceapp.gui.backend import PhotoEntry

    loads = []
    backend = CoreBackend(engine_factory=lambda prefs: loads.append(prefs))
    entry = PhotoEntry(tmp_path / "torn.png", photo=Photo.from_array(np.zeros((900, 1200, 3), np.uint8)))
    monkeypatch.setenv("FACEAPP_MEMORY_LIMIT", str(BASE_BYTES + 48 * 2**20))  # the restore needs 27 MB over the base
    next(backend.restore_job(entry, Preferences())(lambda: False))  # fits: on to loading the model
    entry.damage = MaskEditor(1200, 900, base=np.pad(np.full((800, 1000), 255, np.uint8), ((0, 100), (0, 200))))
    with pytest.raises(MemoryBudgetError, match="torn.png: restoring 1200×900 pixels"):
        next(backend.restore_job(entry, Preferences())(lambda: False))  # its fill: about 85 MB


def test_a_photos_load_stops_within_its_face_detection_when_cancelled(tmp_path):
    """Detecting the faces of a large scan takes seconds: a load the user cancels (removing the
    photo, quitting) stops between the detector's pieces rather than running to its end."""
    import numpy as np
    import pytest
    from PIL import Image

    from faceapp.core.errors import Cancelled

    Image.fromarray(np.full((2000, 3000, 3), 90, np.uint8)).save(tmp_path / "scan.png")
    backend = CoreBackend()
    job = backend.load_job(tmp_path / "scan.png", Preferences())
    cancel = threading.Event()
    running = job(cancel.is_set)
    assert next(running).stage == "detecting faces"
    detector, pieces = backend.detector(Preferences()), []
    real = detector._net.detect_faces
    detector._net.detect_faces = lambda *a, **k: pieces.append(1) or real(*a, **k)
    cancel.set()
    with pytest.raises(Cancelled):
        next(running)
    assert pieces == []  # none of its 3 pieces ran


def test_memory_running_out_while_saving_says_how_to_save_with_less(monkeypatch, tmp_path):
    """Memory QA: a JPEG's save that ran out of memory was told to use fewer seeds per face or a
    smaller upscale, which would throw the restore away; TIFF is written a band at a time."""
    from faceapp.core import application
    from faceapp.core.errors import OutOfMemoryError
    from faceapp.gui.backend import ExportSnapshot, write_export

    def short_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 2.1 GiB")

    monkeypatch.setattr(application, "write_result", short_of_memory)
    with pytest.raises(OutOfMemoryError, match="saving big_restored.jpg: the restored photo is kept. Save it as TIFF"):
        write_export(ExportSnapshot(tmp_path / "big.jpg", None), tmp_path / "big_restored.jpg", fmt=None, quality=95)


def test_a_tiff_that_runs_out_of_memory_while_saved_is_not_told_to_save_as_tiff(monkeypatch, tmp_path):
    from faceapp.core import application
    from faceapp.core.errors import OutOfMemoryError
    from faceapp.gui.backend import ExportSnapshot, write_export

    def short_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 2.1 GiB")

    monkeypatch.setattr(application, "write_result", short_of_memory)
    with pytest.raises(OutOfMemoryError) as caught:
        write_export(ExportSnapshot(tmp_path / "big.tif", None), tmp_path / "big_restored.tif", fmt=None, quality=95)
    assert "TIFF" not in str(caught.value) and "Close other programs and save again." in str(caught.value)


def test_the_window_writes_a_large_jpeg_streaming_with_the_same_pixels(monkeypatch, tmp_path, testdata_dir):
    """UI-stall QA: an optimised JPEG is encoded in one call that holds the window's thread, 0.3-0.6 s
    for a 40 MP result. The window writes a large JPEG without Huffman optimisation: the same pixels
    as the command line's file, a larger file."""
    from types import SimpleNamespace

    from faceapp.core import application
    from faceapp.core.export import export_photo
    from faceapp.core.photo_io import read_photo
    from faceapp.gui.backend import WINDOW_JPEG_OPTIMIZE_MAX_PIXELS, ExportSnapshot, write_export

    photo = read_photo(testdata_dir / "photos" / "cf_04.jpg")
    side = int(WINDOW_JPEG_OPTIMIZE_MAX_PIXELS ** 0.5) + 8
    import cv2

    large = cv2.resize(photo.rgb, (side, side), interpolation=cv2.INTER_CUBIC)  # (noise overflows Pillow's
    monkeypatch.setattr(application, "result_pixels", lambda *args, **kwargs: (large, None))  # optimising buffer)
    result = SimpleNamespace(photo=photo, provenance=dict)
    windows = write_export(ExportSnapshot(None, result), tmp_path / "window.jpg", fmt=None, quality=90)
    commands = export_photo(large, None, photo, tmp_path / "command.jpg", quality=90)
    plain = export_photo(large, None, photo, tmp_path / "plain.jpg", quality=90, jpeg_optimize_max_pixels=0)
    assert _huffman_tables(windows) == _huffman_tables(plain) != _huffman_tables(commands)
    np.testing.assert_array_equal(read_photo(windows).rgb, read_photo(commands).rgb)


def _huffman_tables(path) -> list[bytes]:
    """The Huffman table segments (DHT) of a JPEG file: an optimised one's are its own."""
    data, at, tables = path.read_bytes(), 2, []
    while at + 4 <= len(data) and data[at] == 0xFF and data[at + 1] != 0xDA:  # (up to the scan)
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if data[at + 1] == 0xC4:
            tables.append(data[at + 4 : at + 2 + length])
        at += 2 + length
    return tables


def test_what_is_made_after_a_model_loaded_is_not_frozen_out_of_the_collectors_sight_at_each_job():
    """Long-session QA: each job froze every object alive then (the open photos too), and a photo's
    objects that held one another were never freed once it was removed."""
    import gc

    class Model:
        pass

    backend = CoreBackend(engine_factory=lambda prefs: Model(), detector_factory=lambda prefs: Model())
    prefs = Preferences()
    backend.engine(prefs)
    backend.detector(prefs)
    frozen = gc.get_freeze_count()
    photos = [[n] for n in range(1000)]  # what the jobs of the session make meanwhile
    backend.engine(prefs)
    backend.detector(prefs)
    assert gc.get_freeze_count() == frozen and photos
    backend.forget_engine()
    backend.engine(prefs)  # a model loaded anew: what is alive now is frozen (a full collection stays short)
    assert gc.get_freeze_count() > frozen + 1000


def test_the_model_used_before_is_gone_before_the_next_one_loads():
    """Sceptic QA: the backend's note of the model it had frozen after kept it alive while the next one
    loaded (another model or device in Settings): two models in memory at once."""
    import dataclasses
    import weakref

    class Model:
        pass

    alive_at_load = []
    made = []

    def factory(prefs):
        alive_at_load.append([ref() is not None for ref in made])
        model = Model()
        made.append(weakref.ref(model))
        return model

    backend = CoreBackend(engine_factory=factory)
    prefs = Preferences()
    backend.engine(prefs)
    backend.engine(dataclasses.replace(prefs, device="cuda" if prefs.device != "cuda" else "cpu"))
    assert alive_at_load == [[], [False]]
