"""Helpers shared by the photo-pipeline tests: small engines with a known answer."""

from __future__ import annotations

import math

import numpy as np
import torch

from faceapp.core.engine import FaceEngine, StepInfo
from faceapp.core.templates import face_template


def identity_engine(face_size: int = 512) -> FaceEngine:
    """The real engine with an identity restorer and no prior: returns the aligned crop unchanged."""
    return FaceEngine.from_networks(torch.nn.Identity(), None, face_size=face_size, name="identity", device="cpu")


class SteppingEngine:
    """A stand-in engine that reports ``steps`` steps and returns the crop shifted by the seed."""

    model_name = "stepping"

    def __init__(self, face_size: int = 64, steps: int = 3) -> None:
        self.face_size = face_size
        self.template = face_template("ffhq5", face_size)
        self.steps = steps
        self.calls: list[list[int]] = []

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        self.calls.append(list(seeds))
        for step in range(1, self.steps + 1):
            if should_cancel is not None and should_cancel():
                from faceapp.core.errors import Cancelled

                raise Cancelled()
            yield StepInfo(step=step, total=self.steps, timestep=0, preview=face)
        return [np.clip(face.astype(np.int16) + seed, 0, 255).astype(np.uint8) for seed in seeds]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def drain(generator):
    """Run a generator to its end: (its return value, the items it yielded)."""
    items = []
    while True:
        try:
            items.append(next(generator))
        except StopIteration as stop:
            return stop.value, items
