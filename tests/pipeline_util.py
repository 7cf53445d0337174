"""Helpers shared by the photo-pipeline tests: small engines with a known answer."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from faceapp.core.engine import FaceEngine, PreparedFace, StepInfo
from faceapp.core.templates import face_template


def identity_engine(face_size: int = 512) -> FaceEngine:
    """The real engine with an identity restorer and no prior: returns the aligned crop unchanged."""
    return FaceEngine.from_networks(torch.nn.Identity(), None, face_size=face_size, name="identity", device="cpu")


class FakeEngine:
    """What the photo pipeline calls (``prepare``, then ``iter_sample``) over a stand-in's own
    ``iter_restore(face, sampler=, seeds=, should_cancel=)``: the prepared face holds the crop itself,
    and no face is spared."""

    def prepare(self, face, sampler):
        return PreparedFace(estimate=torch.from_numpy(np.array(face)), requested=sampler,
                            sampler=dataclasses.replace(sampler, spare_sharp_faces=False), restorer_change=0.0)

    def iter_sample(self, prepared, *, seeds, should_cancel=None):
        return self.iter_restore(prepared.estimate.numpy(), sampler=prepared.sampler, seeds=seeds,
                                 should_cancel=should_cancel)


class SteppingEngine(FakeEngine):
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


class SmoothingPrior(torch.nn.Module):
    """A stand-in face prior with a known, local behaviour: it predicts the clean image as the noisy
    one smoothed by a Gaussian as wide as the noise level asks (σ = 0.5 + 12·√((1 − ᾱ)/ᾱ) px, at most a sixteenth of the image) and
    rescaled, and returns the ε that goes with it (plus three unused variance channels, as the real
    prior's six)."""

    def __init__(self, alphas_cumprod) -> None:
        super().__init__()
        self.alphas = torch.tensor(alphas_cumprod, dtype=torch.float32)  # not a buffer: kept float32

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        dtype, x = x.dtype, x.float()  # any precision the engine runs networks in; the maths in float32
        a = self.alphas[t.cpu()].view(-1, 1, 1, 1).to(x.device)
        level = float(a[0])
        sigma = min(0.5 + 12.0 * math.sqrt((1.0 - level) / level), x.shape[-1] / 16)
        radius = max(1, int(3 * sigma))
        offsets = torch.arange(-radius, radius + 1, dtype=torch.float32, device=x.device)
        kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
        row = (kernel / kernel.sum()).view(1, 1, 1, -1).expand(3, 1, 1, -1)
        pad = torch.nn.functional.pad
        smooth = torch.nn.functional.conv2d(pad(x, (radius, radius, 0, 0), mode="reflect"), row, groups=3)
        smooth = torch.nn.functional.conv2d(pad(smooth, (0, 0, radius, radius), mode="reflect"), row.transpose(2, 3), groups=3)
        x0 = (smooth / a.sqrt()).clamp(-1, 1)
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        return torch.cat([eps, torch.zeros_like(eps)], dim=1).to(dtype)


class Brightening(torch.nn.Module):
    """A restorer that adds ``levels`` grey levels (of 255) to every pixel: its estimate's tone
    differs from the input's, and its change (:func:`faceapp.core.sparing.restorer_change`) is exactly ``levels``."""

    def __init__(self, levels: float) -> None:
        super().__init__()
        self.levels = levels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.levels / 255.0


def smoothing_engine(face_size: int = 512) -> FaceEngine:
    """The real engine with an identity restorer and the :class:`SmoothingPrior`."""
    from faceapp.core import schedule

    prior = SmoothingPrior(schedule.alphas_cumprod(schedule.linear_betas()))
    return FaceEngine.from_networks(torch.nn.Identity(), prior, face_size=face_size, name="smoothing", device="cpu")


def scratches(height: int, width: int) -> np.ndarray:
    """A damage mask (255 = damaged) as a user paints one: a long diagonal scratch, a horizontal one
    and a blot."""
    import cv2

    mask = np.zeros((height, width), np.uint8)
    cv2.line(mask, (width // 10, height // 5), (width * 8 // 10, height * 9 // 10), 255, max(2, width // 100))
    cv2.line(mask, (width // 6, height // 2), (width * 5 // 6, height // 2 + height // 40), 255, max(2, width // 170))
    cv2.circle(mask, (width * 2 // 3, height // 4), max(2, width // 40), 255, -1)
    return mask


def scratched(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``rgb`` with the damage painted white over it."""
    out = rgb.copy()
    out[mask > 0] = 255
    return out


def outside_faces(result) -> np.ndarray:
    """Where a restored photo's pixels lie outside every face's paste-back region (HxW bool)."""
    outside = np.ones(result.background.shape[:2], bool)
    for mask in result.masks():
        x0, y0, x1, y1 = mask.roi
        outside[y0:y1, x0:x1] = False
    return outside


def colour_range(face: np.ndarray, mask: np.ndarray):
    """Per channel, the 0.5–99.5 % range of the face's undamaged pixels, widened by 8 levels."""
    known = face[mask == 0].astype(int)
    return np.percentile(known, 0.5, axis=0) - 8, np.percentile(known, 99.5, axis=0) + 8


class SmoothingEngine(FakeEngine):
    """Restores a face as the models do to grain: takes it out (a wide blur of the crop)."""

    model_name, face_size = "smoothing", 128
    template = face_template("ffhq5", 128)

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        import cv2

        return [cv2.GaussianBlur(face, (0, 0), 4.0) for _ in seeds]
        yield  # a generator that reports no step
