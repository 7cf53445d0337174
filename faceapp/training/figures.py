"""The model card's figures: real low-quality faces and photos restored at several fidelities.

    python -m faceapp.training.figures --model faceapp-compact --out docs/model-card

Restores with ``faceapp-cli`` itself (so the figures show exactly what a user gets): every
aligned face of ``testdata/faces`` and every photo of ``testdata/photos`` at each fidelity, seed 0,
the model's default steps. ``--fidelity default`` is a column as the app runs by default: the
model's own fidelity with sharp faces spared. Writes two JPEG grids:

- ``faces.jpg``: a row per face — the input, then one column per fidelity;
- ``photos.jpg``: a row per photo — a crop around its detected faces, input then each fidelity.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from faceapp.core.errors import FaceappError
from faceapp.core.faces import FaceDetector
from faceapp.core.photo_io import read_photo

TILE = 192
LABEL_HEIGHT = 22


#: The ``--fidelity`` value that stands for the app's default run (the model's fidelity, sharp faces spared).
DEFAULT = "default"


def restore_with_cli(inputs: Path, out: Path, *, model: str | None, fidelity: float | str, aligned: bool) -> None:
    """Run ``faceapp-cli restore`` on a folder into ``out`` (PNG, same stems, seed 0); ``fidelity``
    :data:`DEFAULT` gives no ``--fidelity``, as a user who never moves the slider, and sharp faces
    spared; another fidelity is given to every face (``--no-spare-sharp-faces``), to show the prior's work."""
    cmd = [sys.executable, "-m", "faceapp.cli", "restore", str(inputs), "-o", str(out), "--pattern", "{stem}",
           "--format", "png", "--seed", "0", "--no-progress", "--png-level", "1"]
    cmd += [] if fidelity == DEFAULT else ["--fidelity", str(fidelity), "--no-spare-sharp-faces"]
    cmd += ["--model", model] if model else []
    cmd += ["--aligned"] if aligned else []
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise FaceappError(f"faceapp-cli failed on {inputs} (exit {done.returncode}): {done.stderr.strip()[-800:]}")


def _tile(rgb: np.ndarray, size: int = TILE) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    canvas = np.full((size, size, 3), 255, np.uint8)
    y, x = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def _header(labels: list[str]) -> np.ndarray:
    row = np.full((LABEL_HEIGHT, TILE * len(labels), 3), 255, np.uint8)
    for i, label in enumerate(labels):
        cv2.putText(row, label, (i * TILE + 6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return row


def faces_crop_box(rgb: np.ndarray, detector: FaceDetector) -> tuple[int, int, int, int]:
    """A square around all detected faces with a margin (the whole photo if none is found)."""
    h, w = rgb.shape[:2]
    faces = detector.detect(rgb)
    if not faces:
        return 0, 0, w, h
    x0 = min(f.box[0] for f in faces)
    y0 = min(f.box[1] for f in faces)
    x1 = max(f.box[2] for f in faces)
    y1 = max(f.box[3] for f in faces)
    side = max(x1 - x0, y1 - y0) * 1.5
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    return left, top, int(min(w, cx + side / 2)), int(min(h, cy + side / 2))


def _label(fidelity: float | str) -> str:
    return "default, spared" if fidelity == DEFAULT else f"fidelity {fidelity:g}"


def _fidelity(text: str) -> float | str:
    return DEFAULT if text == DEFAULT else float(text)


def make_figures(testdata: Path, out_dir: Path, *, model: str | None, fidelities: list[float | str]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = ["input", *map(_label, fidelities)]
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for kind, aligned in (("faces", True), ("photos", False)):
            sources = sorted(p for p in (testdata / kind).iterdir() if p.is_file())
            for f in fidelities:
                restore_with_cli(testdata / kind, tmp / kind / str(f), model=model, fidelity=f, aligned=aligned)
            detector = FaceDetector() if not aligned else None
            rows = [_header(labels)]
            for src in sources:
                before = read_photo(src).rgb
                versions = [before] + [read_photo(tmp / kind / str(f) / f"{src.stem}.png").rgb for f in fidelities]
                if detector is not None:
                    x0, y0, x1, y1 = faces_crop_box(before, detector)
                    versions = [v[y0:y1, x0:x1] for v in versions]
                rows.append(np.concatenate([_tile(v) for v in versions], axis=1))
            path = out_dir / f"{kind}.jpg"
            ok, data = cv2.imencode(".jpg", cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR),
                                    [cv2.IMWRITE_JPEG_QUALITY, 88])
            if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
                raise FaceappError(f"could not encode {path}")
            path.write_bytes(data.tobytes())
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m faceapp.training.figures", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="registry model (default: the default model)")
    p.add_argument("--testdata", type=Path, default=Path("../shared/testdata"),
                   help="the folder holding faces/ and photos/ (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("runs/figures"),
                   help="where faces.jpg and photos.jpg are written (default: %(default)s; the model card's: "
                        "docs/model-card)")
    p.add_argument("--fidelity", type=_fidelity, nargs="+", default=[1.0, DEFAULT, 0.8, 0.6],
                   help=f"one column per value; '{DEFAULT}': the app's default run (sharp faces spared) "
                        "(default: 1.0 default 0.8 0.6, the model card's columns)")
    args = p.parse_args(argv)
    try:
        for path in make_figures(args.testdata, args.out, model=args.model, fidelities=args.fidelity):
            print(f"wrote {path}")
    except FaceappError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
