"""Removing a photo: its queued work goes with it, and adding it again starts afresh."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from pathlib import Path

import gui_util  # noqa: F401  (offscreen Qt)
import numpy as np
import pytest

from faceapp.gui.backend import CoreBackend
from faceapp.gui.session import Session
from faceapp.gui.settings_store import AppPreferences


class RecordingBackend(CoreBackend):
    """Loads nothing real: each load job notes its path; the first one waits for ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.gate = threading.Event()

    def load_job(self, path: Path, prefs: AppPreferences):
        def job(should_cancel):
            if not self.loaded:
                self.gate.wait(20)
            self.loaded.append(path.name)
            yield "detecting faces"
            return SimpleNamespace(rgb=np.zeros((8, 8, 3), np.uint8)), []

        return job


@pytest.fixture
def session(qtbot):
    backend = RecordingBackend()
    made = Session(backend, AppPreferences())
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
