"""Removing a photo: its queued work goes with it, and adding it again starts afresh."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import gui_util  # noqa: F401  (offscreen Qt)
import numpy as np
import pytest

from faceapp.core.photo_io import Photo
from faceapp.core.preferences import Preferences
from faceapp.gui.backend import CoreBackend, LoadedPhoto
from faceapp.gui.session import Session


class RecordingBackend(CoreBackend):
    """Loads nothing real: each load job notes its path; the first one waits for ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.gate = threading.Event()

    def load_job(self, path: Path, prefs: Preferences):
        def job(should_cancel):
            if not self.loaded:
                self.gate.wait(20)
            self.loaded.append(path.name)
            yield "detecting faces"
            return LoadedPhoto(Photo.from_array(np.zeros((8, 8, 3), np.uint8)), [])

        return job


@pytest.fixture
def session(qtbot):
    backend = RecordingBackend()
    made = Session(backend, Preferences())
    made.error.connect(lambda _error: None)  # "no face found": expected here
    yield made
    backend.gate.set()
    made.shutdown()


def test_a_removed_photo_is_never_loaded(session, qtbot, tmp_path):
    first, second = session.add_paths([tmp_path / "a.jpg", tmp_path / "b.jpg"], restore=False)
    session.remove(second)
    session.backend.gate.set()
    qtbot.waitUntil(lambda: not session.busy, timeout=10000)
    assert session.backend.loaded == ["a.jpg"]
    assert list(session.entries) == [first]


def test_a_photo_added_again_gets_only_its_new_load(session, qtbot, tmp_path):
    _first, second = session.add_paths([tmp_path / "a.jpg", tmp_path / "b.jpg"], restore=False)
    session.remove(second)
    assert session.add_paths([second], restore=False) == [second]
    changes = []
    session.entryChanged.connect(lambda path: changes.append(session.entries[path].state)
                                 if path == second else None)
    session.backend.gate.set()
    qtbot.waitUntil(lambda: not session.busy, timeout=10000)
    assert session.backend.loaded == ["a.jpg", "b.jpg"]
    assert changes.count("0 faces") == 1


class WorkingBackend(CoreBackend):
    """Each load job says it started, then waits for ``gate``: the photo is being worked on."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def load_job(self, path: Path, prefs: Preferences):
        def job(should_cancel):
            yield "detecting faces"
            self.gate.wait(20)
            return LoadedPhoto(Photo.from_array(np.zeros((8, 8, 3), np.uint8)), [])

        return job


@pytest.fixture
def working(qtbot, tmp_path):
    """A window over :class:`WorkingBackend` (its photos' reads wait for the backend's gate)."""
    from faceapp.gui.main_window import MainWindow

    backend = WorkingBackend()
    window = MainWindow(store=gui_util.settings_store(tmp_path), backend=backend)
    qtbot.addWidget(window)
    window.session.error.connect(lambda _error: None)  # "no face found": expected here
    return window, backend


def test_remove_on_the_photo_being_worked_on_stops_its_work_and_removes_it(qtbot, tmp_path, working):
    """Issue 13 #16: "Remove photo" on the photo being restored silently did nothing; then it was
    greyed out with nothing saying why (QA); then it said to press Cancel first, which dropped a
    whole Restore all (QA). It stops that photo's job and removes the photo once the job is over."""
    window, backend = working
    try:
        path = window.add_paths([tmp_path / "a.jpg"])[0]
        remove = window.actions_["remove"]
        qtbot.waitUntil(lambda: window.session.entries[path].state == "detecting faces", timeout=10000)
        assert remove.isEnabled()
        with qtbot.waitSignal(window.session.info, timeout=5000) as said:
            remove.trigger()
        assert "is removed once its work stops" in said.args[0] and path in window.session.entries
        backend.gate.set()  # (this job takes no cancel: it ends when let through)
        qtbot.waitUntil(lambda: path not in window.session.entries, timeout=10000)  # gone without a second Remove
        assert not window.session.busy
    finally:
        backend.gate.set()
        window.close()


def test_dropping_many_photos_writes_the_recent_files_once(qtbot, tmp_path):
    """Issue 13 #9: QSettings was synced once per dropped file (2.7 s for 200 files)."""
    import gui_util
    from faceapp.gui.main_window import MainWindow

    backend = WorkingBackend()
    backend.gate.set()
    store = gui_util.settings_store(tmp_path)
    window = MainWindow(store=store, backend=backend)
    qtbot.addWidget(window)
    window.session.error.connect(lambda _error: None)
    syncs = []
    real_sync = store._settings.sync
    store._settings = SimpleNamespace(value=store._settings.value, setValue=store._settings.setValue,
                                      sync=lambda: (syncs.append(1), real_sync()))
    try:
        files = [tmp_path / f"p{i:03}.jpg" for i in range(200)]
        window.add_paths(files)
        assert len(syncs) == 2  # the list read as the file has it now (another window's), then written once
        assert store.recent_files()[:2] == [files[-1], files[-2]]
        qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    finally:
        window.close()


def test_a_photo_opened_again_before_its_removal_took_place_stays(qtbot, tmp_path, working):
    """Review: Remove on a photo being read, then Open of the same file before the read stopped:
    the photo vanished once the read ended, though the user had just opened it."""
    window, backend = working
    try:
        path = window.add_paths([tmp_path / "a.jpg"])[0]
        qtbot.waitUntil(lambda: window.session.entries[path].state == "detecting faces", timeout=10000)
        window.actions_["remove"].trigger()
        assert path in window.session.entries  # (its read stops first)
        window.add_paths([tmp_path / "a.jpg"])  # opened again meanwhile
        backend.gate.set()
        qtbot.waitUntil(lambda: not window.session.busy, timeout=10000)
        assert path in window.session.entries and window.session.entries[path].photo is not None  # read again
    finally:
        backend.gate.set()
        window.close()
