"""Take the README screenshot: the real window with photos loaded and the first one restored.

Run under a real X server (e.g. ``xvfb-run -s "-screen 0 1600x1000x24"``)::

    P=../shared/testdata/photos
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshot.py \
        $P/gf_Blake_Lively.jpg $P/cf_06.png $P/cf_00.jpg $P/cf_03.jpg $P/gf_10045.png \
        $P/cf_01.jpg $P/cf_04.jpg --model faceapp-compact --split 0.28 --face 1

Without ``--model`` it installs a stand-in model in a temporary profile (identity restorer, no
diffusion prior), so the "after" side equals the input and every candidate is the same: the
screenshot shows the window, not restoration quality. The status bar names the stand-in.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

STAND_IN = """schema = 1
name = "stand-in"
title = "Stand-in: no restoration (screenshot only)"
licence = "MIT"
description = "Returns each aligned face unchanged."
face_size = 512
face_template = "ffhq5"
default_steps = 4

[diffusion]
timesteps = 1000
beta_start = 0.0001
beta_end = 0.02

[restorer]
arch = "identity"
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", type=Path, nargs="+",
                        help="photos to load; the first is restored and shown")
    parser.add_argument("--detector-dir", type=Path, help="default: the bundled detector")
    parser.add_argument("--model", default="", help="installed model to use (default: stand-in)")
    parser.add_argument("--out", type=Path, default=Path("resources/screenshot.png"))
    parser.add_argument("--size", default="1400x860")
    parser.add_argument("--split", type=float, default=0.5, help="divider position, 0…1")
    parser.add_argument("--face", type=int, default=1, help="the face whose candidates the seed gallery shows (1 = first)")
    args = parser.parse_args()

    if not args.model:
        home = Path(tempfile.mkdtemp(prefix="faceapp-shot-"))
        os.environ["FACEAPP_HOME"] = str(home)
        (home / "models").mkdir(parents=True)
        (home / "models" / "stand-in.toml").write_text(STAND_IN, encoding="utf-8")

    from faceapp.gui.app import create_application

    app = create_application([sys.argv[0]])
    import dataclasses

    from PySide6.QtCore import QEventLoop, QTimer

    from faceapp.core.faces import FaceDetector
    from faceapp.gui.backend import CoreBackend
    from faceapp.gui.main_window import MainWindow

    backend = CoreBackend(detector_factory=lambda prefs: FaceDetector(args.detector_dir))
    window = MainWindow(backend=backend)
    prefs = window.session.prefs
    window.models.apply_preferences(dataclasses.replace(prefs, model=args.model or "stand-in",
                                                 seeds_per_face=4, device="cpu"))
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()

    def wait(condition, seconds: float) -> None:
        loop_timer = QTimer()
        loop = QEventLoop()
        loop_timer.timeout.connect(lambda: loop.quit() if condition() else None)
        loop_timer.start(50)
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
        if not condition():
            raise SystemExit("timed out waiting for the window")

    added = window.add_paths(args.photos)
    path = added[0]
    wait(lambda: all(window.session.entries[p].photo is not None for p in added), 120)
    window.filmstrip.select(path)
    window.restore_current()
    wait(lambda: window.session.entries[path].composite is not None, 600)
    wait(lambda: not window.session.busy, 30)
    window.gallery.select_face(args.face - 1)
    window.compare.set_split(args.split)
    wait(lambda: True, 0.5)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out))
    print(f"wrote {args.out}")
    window.close_without_asking()
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
