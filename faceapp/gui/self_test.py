"""``faceapp --self-test PHOTO``: open the window, load a photo, detect and restore its faces, quit.

For checking an installed or frozen (PyInstaller) app without a person at the screen: the exit
code is 0 when the photo was read, its faces detected and restored by the default model (the
bundled one on a fresh install; every face sampled by the prior, none spared as sharp), 1 otherwise; one line on stdout says what happened and how long
each part took. A photo without a face fails: it would check neither the detector nor the model.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

_POLL_MS = 50


def run_self_test(app: QApplication, window, photo: Path, *, started: float,
                  timeout_s: float = 300.0) -> int:
    """Load ``photo`` into ``window``, restore it, and return the exit code once it is restored
    or something failed."""
    errors: list[BaseException] = []
    window.session.error.connect(errors.append)
    # every face diffused (not saved): a face the model would spare as sharp would leave the prior unchecked
    window.session.prefs = dataclasses.replace(window.session.prefs, spare_sharp_faces=False)
    added = window.add_paths([photo])
    if not added:
        print(f"self-test: FAILED: {photo} is not a photo faceapp can open")
        return 1
    path = added[0]
    outcome: dict[str, int] = {}
    loaded_at: list[float] = []
    deadline = time.perf_counter() + timeout_s

    def finish(code: int, line: str) -> None:
        print(f"self-test: {'ok' if code == 0 else 'FAILED'}: {line}")
        outcome["code"] = code

    def poll() -> None:
        entry = window.session.entries.get(path)
        loaded = entry is not None and entry.photo is not None and window.compare.before_image() is not None
        if loaded and not loaded_at:
            loaded_at.append(time.perf_counter())
            if entry.faces:
                window.session.restore([path])  # skipped when loading already queued it
        if loaded and not entry.faces:
            finish(1, f"no face was found in {path.name} ({entry.photo.width}x{entry.photo.height}): the self-test "
                      f"needs a photo with a face, to check the detector and the model")
        elif loaded and entry.composite is not None and entry.state == "done":
            # (the faces restored: one the detector is unsure of stays off, new-user QA: "5 face(s)", 4 fidelities)
            height, width = entry.composite.shape[:2]
            finish(0, f"window open {window.isVisible()}, {path.name} {entry.photo.width}x{entry.photo.height}, "
                      f"{len(entry.result.faces)} face(s) restored by {entry.result.model_name} at fidelity "
                      f"{', '.join(f'{face.fidelity:.2f}' for face in entry.result.faces)} in {entry.run_seconds:.1f} s "
                      f"({width}x{height}), loaded {loaded_at[0] - started:.1f} s and done "
                      f"{time.perf_counter() - started:.1f} s from start")
        elif errors or (entry is not None and entry.state == "error"):
            finish(1, str(errors[0] if errors else entry.state).replace("\n", " "))  # one line
        elif time.perf_counter() > deadline:
            finish(1, f"{path.name} was not {'restored' if loaded else 'loaded'} within {timeout_s:.0f} s")
        if "code" in outcome:
            timer.stop()
            window.close_without_asking()
            app.exit(outcome["code"])

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(_POLL_MS)
    return app.exec()
