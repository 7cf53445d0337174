"""What stretching a dark, faded or tinted face's levels (faceapp.core.face_levels) does to its
restoration: PSNR of the face against the truth, restored with the stretch and without it.

    .venv/bin/python bench/face_levels.py [--faces 16] [--model faceapp-compact]

Test-split faces of ../shared/datasets/aaf256, degraded as DifFace's test set is; each exposure
below is applied to the truth and to the degraded face alike (what a photo's exposure or an old
print's fading does to both). PSNR on the face itself (the middle of the aligned crop, brows to chin)
and on the whole crop, fidelity 0.5, 8 steps, one seed; and, for each, the share of the face's
pixels at black or white in some channel once stretched (what the model sees flat; pixels already
there in the photo count too).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

#: name → (gain, offset, per-channel tint): value = (truth · gain + offset) · tint.
EXPOSURES = {
    "as exposed": (1.0, 0.0, (1.0, 1.0, 1.0)),
    "x0.5": (0.5, 0.0, (1.0, 1.0, 1.0)),
    "x0.35": (0.35, 0.0, (1.0, 1.0, 1.0)),
    "faded (x0.4 + 140)": (0.4, 140.0, (1.0, 1.0, 1.0)),
    "yellowed (x0.55 + 90)": (0.55, 90.0, (1.0, 0.95, 0.55)),
    "faded sepia (x0.4 + 150)": (0.4, 150.0, (1.0, 0.8, 0.55)),
    "dark, tungsten (x0.3)": (0.3, 0.0, (1.0, 0.6, 0.35)),
}
_MIDDLE = (slice(90, 218), slice(72, 184))  # brows to chin, cheek to cheek, of a 256 px crop


def exposed(face: np.ndarray, gain: float, offset: float, tint) -> np.ndarray:
    return np.rint((face.astype(np.float32) * gain + offset) * np.float32(tint)).clip(0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=16)
    parser.add_argument("--model", default=None, help="a model name (default: the default model)")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/datasets/aaf256")
    args = parser.parse_args()

    from faceapp.core.engine import load_engine
    from faceapp.core.face_levels import FaceLevels
    from faceapp.core.settings import SamplerSettings
    from faceapp.training.config import DegradationConfig
    from faceapp.training.evaluate import degraded_test_set

    engine = load_engine(args.model, device="cpu")
    sampler = SamplerSettings(fidelity=0.5, steps=8)
    truth, degraded = degraded_test_set(args.data, limit=args.faces, seed=0, degradation=DegradationConfig())
    print(f"{engine.model_name}, {len(truth)} faces, fidelity 0.5, 8 steps; PSNR (dB) without → with the stretch")
    print(f"{'exposure':26} {'face':>15} {'whole crop':>15} {'stretched':>9} {'clipped':>8}")
    for name, (gain, offset, tint) in EXPOSURES.items():
        face = {"without": [], "with": []}
        crop = {"without": [], "with": []}
        stretched = clipped = 0
        for true, bad in zip(truth, degraded):
            true, bad = exposed(true, gain, offset, tint), exposed(bad, gain, offset, tint)
            levels = FaceLevels.of(bad)
            stretched += not levels.identity
            clipped += np.isin(levels.stretch(bad)[_MIDDLE], (0, 255)).any(axis=-1).mean()
            for way, used in (("without", FaceLevels()), ("with", levels)):
                if way == "with" and levels.identity:  # (the same restore)
                    face[way].append(face["without"][-1])
                    crop[way].append(crop["without"][-1])
                    continue
                out = used.undo(engine.restore(used.stretch(bad), sampler=sampler, seeds=[0])[0], bad)  # (as the app does)
                face[way].append(psnr(out[_MIDDLE], true[_MIDDLE]))
                crop[way].append(psnr(out, true))
        f = f"{np.mean(face['without']):.2f} → {np.mean(face['with']):.2f}"
        c = f"{np.mean(crop['without']):.2f} → {np.mean(crop['with']):.2f}"
        print(f"{name:26} {f:>15} {c:>15} {stretched:>5}/{len(truth):<3} {100 * clipped / len(truth):7.1f}%", flush=True)


if __name__ == "__main__":
    main()
