"""Convert the RetinaFace mobile0.25 detector weights (a pickled .pth) into the safetensors file that
faceapp bundles in ``models/detector/``, so that a fresh install finds faces offline and no pickle is
ever read at run time.

    python packaging/convert_detector.py ../shared/weights/retinaface/detection_mobilenet0.25_Final.pth

The .pth is read with ``torch.load(weights_only=True)`` (tensors only, no code); keys lose the
``module.`` prefix of the DataParallel training wrapper; values stay float32, bit for bit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import torch

    from faceapp.core.faces import BUNDLED_DETECTOR, bundled_detector_path
    from faceapp.core.file_digest import file_sha256
    from faceapp.core.loading import save_safetensors

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pth", type=Path, help="detection_mobilenet0.25_Final.pth")
    p.add_argument("--out", type=Path, default=bundled_detector_path(BUNDLED_DETECTOR))
    args = p.parse_args()
    state = torch.load(args.pth, map_location="cpu", weights_only=True)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    path = save_safetensors(state, args.out, dtype=None,
                            metadata={"source": args.pth.name, "licence": "MIT (Pytorch_Retinaface, biubug6)"})
    print(f"wrote {path} ({path.stat().st_size:,} bytes, {len(state)} tensors; SHA-256 {file_sha256(path)}: "
          "faceapp.core.faces.BUNDLED_DETECTOR_SHA256 must say so)")


if __name__ == "__main__":
    main()
