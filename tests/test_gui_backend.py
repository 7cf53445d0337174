"""CoreBackend's cached engine: loads off the UI thread never make the UI thread wait."""

import threading
import time

import gui_util  # noqa: F401  (offscreen Qt, like every GUI test)

from faceapp.gui.backend import CoreBackend
from faceapp.gui.settings_store import AppPreferences


def test_forgetting_the_engine_does_not_wait_for_a_load_in_flight():
    release, loads = threading.Event(), []

    def slow_factory(prefs):
        loads.append(prefs.model)
        release.wait(10)
        return object()

    backend = CoreBackend(engine_factory=slow_factory)
    prefs = AppPreferences()
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


def test_the_engine_is_cached_per_model_and_device():
    backend = CoreBackend(engine_factory=lambda prefs: object())
    prefs = AppPreferences()
    assert backend.engine(prefs) is backend.engine(prefs)
