"""What grain matching (faceapp.core.grain) costs a composite: a 24 MP photo under film grain,
one face restored smooth by a stand-in for the models, composited with and without it.

    .venv/bin/python bench/grain.py [--threads 2]

The stand-in blurs the aligned crop (as the models take grain out), so every row adds grain; the
face's box and the upscale vary the area grained (a face's paste-back region is about three times
its box a side). Seconds of one composite, after a first one that builds the blending masks.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np


class SmoothingStandIn:
    """The photo pipeline's engine calls, answering with the crop blurred (no model)."""

    model_name, face_size = "smoothing", 256

    def __init__(self) -> None:
        from faceapp.core.templates import face_template

        self.template = face_template("ffhq5", self.face_size)

    def prepare(self, face, sampler):
        import dataclasses

        import torch

        from faceapp.core.engine import PreparedFace

        return PreparedFace(estimate=torch.from_numpy(np.array(face)), requested=sampler,
                            sampler=dataclasses.replace(sampler, spare_sharp_faces=False), restorer_change=0.0)

    def iter_sample(self, prepared, *, seeds, should_cancel=None):
        face = prepared.estimate.numpy()
        return [cv2.GaussianBlur(face, (0, 0), 3.0) for _ in seeds]
        yield  # a generator that reports no step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    from faceapp.core.faces import face_from_box
    from faceapp.core.photo_io import Photo
    from faceapp.core.photo_restore import PhotoSettings, restore_photo
    from faceapp.core.settings import SamplerSettings

    height, width = 4000, 6000
    noise = cv2.GaussianBlur(np.random.default_rng(0).standard_normal((height, width)).astype(np.float32), (0, 0), 0.8)
    grey = np.clip(128 + (6 / noise.std()) * noise, 0, 255).astype(np.uint8)
    photo = Photo.from_array(np.repeat(grey[..., None], 3, axis=2))
    print(f"24 MP photo ({width}x{height}) under film grain, one face restored smooth, {args.threads} threads\n")
    print("| face box | upscale | output | composite, grain matched (s) | without (s) | grain added (grey levels) |")
    print("|---|---|---|---|---|---|")
    for side, upscale in ((500, 1), (1500, 1), (1500, 2), (3000, 1)):
        face = face_from_box((1000, 500, 1000 + side, 500 + side), index=0)
        seconds = {}
        for matched in (True, False):
            settings = PhotoSettings(sampler=SamplerSettings(fidelity=1.0, steps=1), upscale=upscale, match_grain=matched)
            result = restore_photo(photo, [face], SmoothingStandIn(), settings)
            result.masks()
            start = time.perf_counter()
            result.composite()
            seconds[matched] = time.perf_counter() - start
            if matched:
                amount = result.provenance()["faces"][0].get("grain", 0.0)
        out = f"{width * upscale}x{height * upscale}"
        print(f"| {side} px | ×{upscale} | {out} | {seconds[True]:.2f} | {seconds[False]:.2f} | {amount:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
