"""``faceapp --self-test PHOTO``: open the window, load a photo, detect its faces, quit.

For checking an installed or frozen (PyInstaller) app without a person at the screen: the exit
code is 0 when the photo was read and its faces detected, 1 otherwise; one line on stdout says
what happened and how long it took.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

_POLL_MS = 50


def run_self_test(app: QApplication, window, photo: Path, *, started: float,
                  timeout_s: float = 120.0) -> int:
    """Load ``photo`` into ``window`` and return the exit code once it is loaded or failed."""
    errors: list[BaseException] = []
    window.session.error.connect(errors.append)
    added = window.add_paths([photo])
    if not added:
        print(f"self-test: FAILED: {photo} is not a photo faceapp can open")
        return 1
    path = added[0]
    outcome: dict[str, int] = {}
    deadline = time.perf_counter() + timeout_s

    def poll() -> None:
        entry = window.session.entries.get(path)
        loaded = entry is not None and entry.photo is not None
        if loaded and window.compare.before_image() is not None:
            faces = len(entry.faces)
            print(f"self-test: ok: window open {window.isVisible()}, {path.name} "
                  f"{entry.photo.width}x{entry.photo.height}, {faces} face(s), "
                  f"{time.perf_counter() - started:.1f} s from start")
            outcome["code"] = 0
        elif errors or (entry is not None and entry.state == "error"):
            print(f"self-test: FAILED: {errors[0] if errors else entry.state}")
            outcome["code"] = 1
        elif time.perf_counter() > deadline:
            print(f"self-test: FAILED: {path.name} was not loaded within {timeout_s:.0f} s")
            outcome["code"] = 1
        if "code" in outcome:
            timer.stop()
            window.close()
            app.exit(outcome["code"])

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(_POLL_MS)
    return app.exec()
