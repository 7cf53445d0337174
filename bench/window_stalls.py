"""Does the window keep responding while a very large photo opens? The longest event-loop stalls.

    .venv/bin/python bench/window_stalls.py [--megapixels 120] [--seconds 180] [PHOTO]

Opens PHOTO (default: ../shared/testdata/photos/cf_06.png enlarged to about ``--megapixels``, a
JPEG written to a temporary folder) in the main window (offscreen Qt, the bundled detector), and
lets the event loop run for ``--seconds`` or until the photo's faces are found. A 10 ms timer
ticks meanwhile; every gap between ticks longer than 100 ms is a stall the user would feel, printed
with when it happened, and the main thread's profile names what ran then (the slowest calls).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACEAPP_SHARED_DIR", REPO.parent / "shared"))
STALL_S = 0.1


def enlarged_photo(megapixels: float, folder: Path) -> Path:
    import cv2

    source = cv2.imread(str(SHARED / "testdata" / "photos" / "cf_06.png"))
    scale = (megapixels * 1e6 / (source.shape[0] * source.shape[1])) ** 0.5
    big = cv2.resize(source, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    path = folder / f"enlarged_{megapixels:g}mp.jpg"
    cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photo", type=Path, nargs="?")
    parser.add_argument("--megapixels", type=float, default=120.0)
    parser.add_argument("--seconds", type=float, default=180.0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["FACEAPP_HOME"] = tempfile.mkdtemp(prefix="faceapp-stalls-")  # no settings of the user's
    photo = args.photo or enlarged_photo(args.megapixels, Path(os.environ["FACEAPP_HOME"]))

    from PySide6.QtCore import QEventLoop, QTimer

    from faceapp.gui.app import create_application

    app = create_application([sys.argv[0]])
    from faceapp.gui.main_window import MainWindow

    window = MainWindow()
    window.resize(1200, 800)
    window.show()
    stalls: list[tuple[float, float]] = []
    started = last = time.perf_counter()

    def tick() -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last > STALL_S:
            stalls.append((now - last, now - started))
        last = now

    ticker = QTimer()
    ticker.timeout.connect(tick)
    ticker.start(10)
    profile = cProfile.Profile()
    profile.enable()
    [path] = window.add_paths([photo])
    loop, poll = QEventLoop(), QTimer()
    poll.timeout.connect(lambda: loop.quit() if window.session.entries[path].state not in ("loading", "detecting faces")
                         and not window.session.busy else None)
    poll.start(200)
    QTimer.singleShot(int(args.seconds * 1000), loop.quit)
    loop.exec()
    profile.disable()
    entry = window.session.entries[path]
    print(f"{photo.name}: {entry.photo.width}×{entry.photo.height} px, {entry.state}, "
          f"{time.perf_counter() - started:.1f} s" if entry.photo is not None else f"{photo.name}: {entry.state}")
    print(f"stalls over {STALL_S * 1000:.0f} ms: " + (", ".join(f"{gap * 1000:.0f} ms at {at:.1f} s" for gap, at in stalls)
                                                    or "none"))
    pstats.Stats(profile).sort_stats("cumulative").print_stats(12)
    window.close_without_asking()
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
