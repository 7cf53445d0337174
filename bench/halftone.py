"""Printed screens: how long finding one takes on a photo that has none, and finding and smoothing
one out on a photo that is printed, at 1 and 24 MP; the memory smoothing takes above the photo.

    python bench/halftone.py [--megapixels 24]

An unprinted photo is ../shared/testdata's cf_00 enlarged bicubically; a printed one is
Adele_crop printed as a colour halftone of 4 px (tests/test_halftone.printed) and enlarged so.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from faceapp.core.halftone import descreen, find_screen  # noqa: E402
from faceapp.core.photo_io import read_photo  # noqa: E402
from test_halftone import printed  # noqa: E402


def best_of(runs: int, work):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        value = work()
        times.append(time.perf_counter() - started)
    return min(times), value


def sized(rgb: np.ndarray, megapixels: float) -> np.ndarray:
    scale = math.sqrt(megapixels * 1e6 / (rgb.shape[0] * rgb.shape[1]))
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[1.0, 24.0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    plain_source = read_photo(args.shared / "testdata" / "photos" / "cf_00.jpg").rgb
    face = read_photo(args.shared / "testdata" / "faces" / "Adele_crop.png").rgb
    print_source = printed(np.tile(face, (2, 3, 1)), 4.0)  # (a print: screened, then scanned at its size)
    print("| photo | MP | find | smooth out | period | share |")
    print("|---|---|---|---|---|---|")
    for megapixels in args.megapixels:
        plain = sized(plain_source, megapixels)
        seconds, screen = best_of(3, lambda plain=plain: find_screen(plain))
        print(f"| unprinted | {megapixels:g} | {seconds:.3f} s | – | {'none' if screen is None else screen.period} | – |")
        scan = np.tile(print_source, (max(1, round(math.sqrt(megapixels * 1e6 / print_source[:, :, 0].size))),) * 2 + (1,))
        found_in, screen = best_of(2, lambda scan=scan: find_screen(scan))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        smoothed_in, _ = best_of(1, lambda scan=scan, screen=screen: descreen(scan, screen))
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(f"| printed, 4 px | {scan[:, :, 0].size / 1e6:.1f} | {found_in:.2f} s | {smoothed_in:.2f} s "
              f"(peak RSS +{grown:.0f} MB) | {screen.period:.2f} px | {screen.share:.2f} |")


if __name__ == "__main__":
    main()
