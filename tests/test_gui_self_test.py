"""``python -m faceapp --self-test PHOTO``: opens the window, loads and restores the photo, exits 0; or says why not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from faceapp.core.registry import Registry

REPO = Path(__file__).resolve().parents[1]


def self_test(photo: Path, retinaface_dir: Path | None, home: Path | None = None) -> subprocess.CompletedProcess:
    """Run the self-test; ``retinaface_dir=None`` leaves the bundled detector to be found, as on a fresh install."""
    env = {k: v for k, v in os.environ.items() if k != "FACEAPP_DETECTOR_DIR"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if retinaface_dir is not None:
        env["FACEAPP_DETECTOR_DIR"] = str(retinaface_dir)
    if home is not None:
        env["FACEAPP_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "faceapp", "--self-test", str(photo)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)


def test_self_test_restores_the_photo_with_the_bundled_model_and_exits_with_zero(testdata_dir, tmp_path):
    """A fresh profile: the photo is loaded, its face found by the bundled detector and restored by
    the bundled default model."""
    run = self_test(testdata_dir / "photos" / "cf_03.jpg", None, home=tmp_path / "home")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "self-test: ok" in run.stdout and "400x225, 1 face(s) restored by faceapp-compact" in run.stdout
    fidelity = Registry().get("faceapp-compact").default_fidelity
    assert f"at fidelity {fidelity:.2f} in" in run.stdout  # the prior ran: a face it would spare is diffused here


def test_self_test_fails_when_the_chosen_model_cannot_restore(testdata_dir, retinaface_dir, tmp_path):
    """The official model's manifest is bundled, its weights are not: the restore fails and says why."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.ini").write_text("[prefs]\nmodel=difface-official\n")
    run = self_test(testdata_dir / "photos" / "cf_03.jpg", retinaface_dir, home=home)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "self-test: FAILED" in run.stdout and "difface-official" in run.stdout


def test_self_test_fails_on_an_unreadable_photo(tmp_path, retinaface_dir):
    junk = tmp_path / "broken.jpg"
    junk.write_bytes(b"not a jpeg")
    run = self_test(junk, retinaface_dir, home=tmp_path / "home")
    assert run.returncode == 1
    assert "self-test: FAILED" in run.stdout


def test_self_test_fails_on_a_photo_without_a_face(tmp_path, retinaface_dir):
    """A photo with no face would check neither the detector nor the model: it is not a pass."""
    import cv2
    import numpy as np

    plain = tmp_path / "wall.png"
    cv2.imwrite(str(plain), np.full((200, 300, 3), 128, np.uint8))
    run = self_test(plain, retinaface_dir, home=tmp_path / "home")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "self-test: FAILED: no face was found in wall.png" in run.stdout


def test_self_test_without_one_photo_is_a_usage_error_not_an_abort(tmp_path, retinaface_dir):
    """Issue 13 #4: no photo or two photos exited 134 ("QThread: Destroyed while thread … is running")."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FACEAPP_DETECTOR_DIR": str(retinaface_dir)}
    for photos in ([], [tmp_path / "a.jpg", tmp_path / "b.jpg"]):
        run = subprocess.run([sys.executable, "-m", "faceapp", "--self-test", *map(str, photos)], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "--self-test needs exactly one PHOTO" in run.stderr and "QThread" not in run.stderr
    # a folder is not one photo: said, instead of testing whichever photo of it loaded first
    run = subprocess.run([sys.executable, "-m", "faceapp", "--self-test", str(tmp_path)], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "needs one photo file, not a folder" in run.stderr, run.stdout + run.stderr


def test_both_front_ends_say_their_version():
    """The version the programs say is the package's, as pyproject.toml gives it (release QA: written
    in two places, nothing held them together)."""
    import tomllib

    from faceapp import __version__

    assert __version__ == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for program in (["-m", "faceapp"], ["-m", "faceapp.cli"]):
        run = subprocess.run([sys.executable, *program, "--version"], cwd=REPO, capture_output=True, text=True,
                             timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        assert run.returncode == 0 and run.stdout.strip() == f"faceapp {__version__}", run.stdout + run.stderr


def test_sigterm_closes_the_window_cleanly(tmp_path, retinaface_dir):
    """Issue 13 #6 in the GUI: SIGTERM killed the app at once (a file being written was left); an
    idle window waits for it without waking."""
    import signal
    import time

    home = tmp_path / "home"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FACEAPP_HOME": str(home),
           "FACEAPP_DETECTOR_DIR": str(retinaface_dir)}
    app = subprocess.Popen([sys.executable, "-m", "faceapp"], cwd=REPO, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        log = home / "logs" / "faceapp.log"
        deadline = time.monotonic() + 120
        while not (log.is_file() and "window open" in log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        status = Path(f"/proc/{app.pid}/task/{app.pid}/status")  # the main thread's (Linux)

        def wake_ups() -> int:
            line = next(line for line in status.read_text().splitlines() if line.startswith("voluntary_ctxt_switches"))
            return int(line.split()[1])

        if status.exists():  # idle, the window's thread sleeps (GUI QA: a timer polling for signals
            time.sleep(2.0)  # woke it 5 times a second, all afternoon)
            before = wake_ups()
            time.sleep(4.0)
            idle_wake_ups = wake_ups() - before
            assert idle_wake_ups < 8, idle_wake_ups
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=60)
    finally:
        app.kill()
    assert app.returncode == 130, app.stderr.read()  # as faceapp-cli's (resource QA: 0, as if its user closed it)
    assert "SIGTERM received: closing" in log.read_text()
