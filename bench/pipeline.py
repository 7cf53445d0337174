"""Benchmark the whole-photo pipeline on a 24-megapixel photo with 3 faces (tiny model).

    .venv/bin/python bench/pipeline.py [--upscale 1 2 4] [--threads 2]

Each configuration runs in a fresh process, so "peak RSS" is that run's own maximum resident
memory (ru_maxrss): reading, detection, restoring three faces with a tiny random-weight model
(64 px UNet prior + SwinIR, the reduced configs of ../shared/golden), the striped background
upscale, the composite blended into the upscaled background in place (twice: the second is what
a gallery click costs), then a PNG and a JPEG export with the default options, as the CLI does.
The photo is a smooth random texture at 6000×4000 with three face crops of
../shared/testdata/faces pasted in at 600 px.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACEAPP_SHARED_DIR", REPO.parent / "shared"))
WIDTH, HEIGHT = 6000, 4000


def make_photo(path: Path) -> None:
    """A 24 MP JPEG: a smooth random texture (no faces) with three real face crops pasted on it."""
    import cv2
    import numpy as np

    texture = np.random.default_rng(0).integers(40, 220, size=(HEIGHT // 50, WIDTH // 50, 3), dtype=np.uint8)
    canvas = cv2.resize(texture, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    for i, name in enumerate(("0143.png", "0240.png", "0342.png")):
        face = cv2.resize(cv2.imread(str(SHARED / "testdata" / "faces" / name)), (600, 600), interpolation=cv2.INTER_AREA)
        x, y = 700 + i * 1700, 900 + (i % 2) * 1200
        canvas[y : y + 600, x : x + 600] = face
    cv2.imwrite(str(path), canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])


def tiny_engine():
    from faceapp.core.engine import FaceEngine
    from faceapp.core.loading import build_network

    golden = SHARED / "golden"
    unet = json.loads((golden / "unet_small.json").read_text())["constructor_args"]
    swinir = json.loads((golden / "swinir_small.json").read_text())["constructor_args"]
    restorer = build_network("swinir", {**swinir, "img_size": 64})
    prior = build_network("iddpm_unet", unet)
    return FaceEngine.from_networks(restorer, prior, face_size=64, name="tiny-random", device="cpu")


def run_once(photo_path: Path, upscale: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    from faceapp.core.export import export_photo
    from faceapp.core.faces import FaceDetector
    from faceapp.core.photo_io import read_photo
    from faceapp.core.application import find_faces
    from faceapp.core.photo_restore import PhotoSettings, restore_photo
    from faceapp.core.preferences import Preferences
    from faceapp.core.settings import SamplerSettings

    timings = {}
    start = time.perf_counter()
    photo = read_photo(photo_path)
    timings["read"] = time.perf_counter() - start

    t = time.perf_counter()
    detector = FaceDetector(SHARED / "weights" / "retinaface", model="retinaface_mobile0.25")
    settings = PhotoSettings(sampler=SamplerSettings(fidelity=0.5, steps=4), upscale=upscale)
    faces = find_faces(photo, detector, Preferences())
    timings["detect"] = time.perf_counter() - t

    t = time.perf_counter()
    engine = tiny_engine()
    result = restore_photo(photo, faces, engine, settings)
    timings["restore+upscale"] = time.perf_counter() - t

    t = time.perf_counter()
    image = result.composite()
    timings["composite"] = time.perf_counter() - t
    del image  # a gallery click replaces the shown image
    if result.faces:  # a gallery click: another candidate chosen (here a copy of the first)
        result = result.with_candidates(0, [99], [result.faces[0].candidates[0]]).choose(0, 1)
    t = time.perf_counter()
    image = result.composite()
    timings["composite (again)"] = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("png", "jpg"):
            t = time.perf_counter()
            export_photo(image, result.alpha, photo, Path(folder) / f"out.{fmt}", provenance=result.provenance())
            timings[f"export {fmt}"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"upscale": upscale, "faces": len(faces), "output": f"{image.shape[1]}x{image.shape[0]}", "timings": timings, "peak_rss_mib": peak_mib}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upscale", type=int, nargs="+", default=[1, 2, 4], choices=(1, 2, 4))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.child, args.upscale[0], args.threads)))
        return 0

    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo24mp.jpg"
        make_photo(photo)
        rows = []
        for upscale in args.upscale:
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(photo), "--upscale", str(upscale), "--threads", str(args.threads)],
                capture_output=True, text=True, check=True, cwd=REPO,
            )
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    stages = list(rows[0]["timings"])
    print(f"24 MP photo ({WIDTH}x{HEIGHT}), 3 faces, tiny model (64 px, 4 steps), {args.threads} CPU threads\n")
    print("| upscale | output | faces | " + " | ".join(f"{s} (s)" for s in stages) + " | peak RSS (MiB) |")
    print("|---|---|---|" + "---|" * len(stages) + "---|")
    for row in rows:
        cells = " | ".join(f"{row['timings'][s]:.2f}" for s in stages)
        print(f"| ×{row['upscale']} | {row['output']} | {row['faces']} | {cells} | {row['peak_rss_mib']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
