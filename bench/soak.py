"""Soak: does memory stay flat over many restores and many GUI restore/cancel cycles? (issue 13)

    .venv/bin/python bench/soak.py [--cycles 100] [--threads 2]

Two runs, each in a fresh process with a tiny random-weight model (64 px UNet prior + SwinIR, the
reduced configs of ../shared/golden, as in bench/pipeline.py) on ../shared/testdata/photos/cf_04.jpg:

- core: ``--cycles`` restores in one process, each read → restore (4 steps) → composite → PNG
  export (a free name settled at the rename) → the file removed;
- gui: the main window (offscreen Qt) with that model; ``--cycles`` times, a restore run to its
  end (2 steps) and a restore cancelled after its first step (50 steps).

The resident set size (RSS, /proc/self/statm, after a garbage collection) is read after 10 cycles
(everything is loaded and warm by then) and after the last one; the growth between them is the
figure to watch (the issue's target: within 5 %). Linux only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import REPO, SHARED, tiny_engine  # noqa: E402

PHOTO = SHARED / "testdata" / "photos" / "cf_04.jpg"
FACE_BOX = (70.0, 40.0, 140.0, 130.0)
WARM = 10


def rss_mib() -> float:
    gc.collect()
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak_core(cycles: int) -> dict:
    from faceapp.core.export import export_photo
    from faceapp.core.faces import face_from_box
    from faceapp.core.photo_io import read_photo
    from faceapp.core.photo_restore import PhotoSettings, restore_photo
    from faceapp.core.settings import SamplerSettings

    engine = tiny_engine()
    settings = PhotoSettings(sampler=SamplerSettings(steps=4))
    samples = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for cycle in range(1, cycles + 1):
            photo = read_photo(PHOTO)
            result = restore_photo(photo, [face_from_box(FACE_BOX)], engine, settings)
            written = export_photo(result.composite(), result.alpha, photo, Path(folder) / "out.png",
                                   provenance=result.provenance(), unique=True)
            written.unlink()
            if cycle in (WARM, cycles):
                samples[cycle] = rss_mib()
    return {"run": "core", "cycles": cycles, "seconds": time.perf_counter() - started, "rss": samples}


def soak_gui(cycles: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from faceapp.gui.app import create_application

    app = create_application(["soak"])
    import dataclasses

    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from faceapp.core.faces import FaceDetector
    from faceapp.gui.backend import CoreBackend
    from faceapp.gui.main_window import MainWindow
    from faceapp.gui.settings_store import SettingsStore

    def wait_until(condition, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            loop = QEventLoop()
            QTimer.singleShot(10, loop.quit)
            loop.exec()
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there in time")

    folder = Path(tempfile.mkdtemp())
    backend = CoreBackend(engine_factory=lambda prefs: tiny_engine(),
                          detector_factory=lambda prefs: FaceDetector(SHARED / "weights" / "retinaface"))
    window = MainWindow(store=SettingsStore(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)),
                        backend=backend)
    window.show()
    session = window.session
    session.error.connect(lambda _error: None)
    path = window.add_paths([PHOTO])[0]
    wait_until(lambda: session.entries[path].photo is not None and not session.busy)

    def steps(count: int) -> None:
        prefs = session.prefs
        window.models.apply_preferences(dataclasses.replace(prefs, seeds_per_face=1, steps=count))

    progress = []
    session.progress.connect(lambda _p, _text, fraction, _preview: progress.append(fraction))
    samples = {}
    started = time.perf_counter()
    for cycle in range(1, cycles + 1):
        steps(2)
        window.actions_["restore"].trigger()
        wait_until(lambda: not session.busy and session.entries[path].composite is not None)
        steps(50)
        progress.clear()
        window.actions_["restore"].trigger()
        wait_until(lambda: any(f > 0 for f in progress))
        window.actions_["cancel"].trigger()
        wait_until(lambda: not session.busy)
        if session.entries[path].state != "cancelled":
            raise RuntimeError(f"cycle {cycle}: the run was not cancelled ({session.entries[path].state})")
        if cycle in (WARM, cycles):
            samples[cycle] = rss_mib()
    seconds = time.perf_counter() - started
    window.close()
    return {"run": "gui", "cycles": cycles, "seconds": seconds, "rss": samples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", choices=("core", "gui"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cycles <= WARM:
        parser.error(f"--cycles must be more than {WARM}")
    if args.child:
        import torch

        torch.set_num_threads(args.threads)
        os.environ["FACEAPP_HOME"] = tempfile.mkdtemp()  # never the real profile
        run = soak_core if args.child == "core" else soak_gui
        print(json.dumps(run(args.cycles)))
        return 0
    print(f"{args.cycles} cycles, tiny model, {args.threads} CPU threads; RSS after a garbage collection\n")
    print(f"| run | cycles | seconds | RSS after {WARM} (MiB) | RSS after the last (MiB) | growth |")
    print("|---|---|---|---|---|---|")
    for child in ("core", "gui"):
        done = subprocess.run([sys.executable, __file__, "--child", child, "--cycles", str(args.cycles),
                               "--threads", str(args.threads)], capture_output=True, text=True, cwd=REPO)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        row = json.loads(done.stdout.strip().splitlines()[-1])
        first, last = row["rss"][str(WARM)], row["rss"][str(args.cycles)]
        print(f"| {child} | {args.cycles} | {row['seconds']:.0f} | {first:.0f} | {last:.0f} | {100 * (last - first) / first:+.1f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
