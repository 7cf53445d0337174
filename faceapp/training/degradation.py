"""DifFace's synthetic degradation for restorer training and evaluation (GFPGAN-style).

blur (isotropic or anisotropic Gaussian kernel) → downscale → Gaussian noise → JPEG → resize back
with bicubic interpolation. Ranges come from :class:`DegradationConfig` (difface-algorithm.md §9).
All randomness is drawn up front into :class:`DegradationParams`, so one seed gives one output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.training.config import DegradationConfig


@dataclass(frozen=True)
class DegradationParams:
    """One draw of the degradation: everything needed to reproduce its output exactly."""

    sigma_x: float
    sigma_y: float
    angle: float  # radians
    scale: float  # downscale factor (> 1 shrinks)
    noise_sigma: float  # 8-bit levels
    jpeg_quality: int
    noise_seed: int


def sample_params(cfg: DegradationConfig, rng: np.random.Generator) -> DegradationParams:
    """Draw one set of degradation parameters from the configured ranges."""
    sx = float(rng.uniform(*cfg.blur_sigma))
    if rng.random() < cfg.isotropic_prob:
        sy, angle = sx, 0.0
    else:
        sy, angle = float(rng.uniform(*cfg.blur_sigma)), float(rng.uniform(-math.pi, math.pi))
    lo, hi = cfg.downscale
    if cfg.downscale_log_uniform:
        scale = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    else:
        scale = float(rng.uniform(lo, hi))
    return DegradationParams(
        sigma_x=sx,
        sigma_y=sy,
        angle=angle,
        scale=scale,
        noise_sigma=float(rng.uniform(*cfg.noise_sigma)),
        jpeg_quality=int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1)),
        noise_seed=int(rng.integers(0, 2**31 - 1)),
    )


def gaussian_kernel(size: int, sigma_x: float, sigma_y: float, angle: float) -> np.ndarray:
    """A normalised (an)isotropic 2-D Gaussian kernel, rotated by ``angle``, float32 size×size."""
    half = size // 2
    ys, xs = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    c, s = math.cos(angle), math.sin(angle)
    u = c * xs + s * ys
    v = -s * xs + c * ys
    k = np.exp(-0.5 * ((u / sigma_x) ** 2 + (v / sigma_y) ** 2))
    return (k / k.sum()).astype(np.float32)


def apply_degradation(image: np.ndarray, params: DegradationParams, *, kernel_size: int) -> np.ndarray:
    """Degrade an HxWx3 uint8 RGB image; returns uint8 RGB of the same size."""
    h, w = image.shape[:2]
    x = image.astype(np.float32) / 255.0
    kernel = gaussian_kernel(kernel_size, params.sigma_x, params.sigma_y, params.angle)
    x = cv2.filter2D(x, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    small = (max(2, round(w / params.scale)), max(2, round(h / params.scale)))
    x = cv2.resize(x, small, interpolation=cv2.INTER_LINEAR)
    noise_rng = np.random.default_rng(params.noise_seed)
    x = x + noise_rng.standard_normal(x.shape, dtype=np.float32) * (params.noise_sigma / 255.0)
    x8 = np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
    x8 = _jpeg_round_trip(x8, params.jpeg_quality)
    return cv2.resize(x8, (w, h), interpolation=cv2.INTER_CUBIC)


def _jpeg_round_trip(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode uint8 RGB as JPEG. OpenCV's codec expects BGR: handing it RGB would
    take luma from the wrong weights and swap the subsampled chroma planes."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("JPEG encoding failed")
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)  # always 3 channels, even where it was stored as grey
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def degrade(image: np.ndarray, cfg: DegradationConfig, rng: np.random.Generator) -> np.ndarray:
    """Draw parameters from ``rng`` and degrade ``image`` (HxWx3 uint8 RGB) with them."""
    return apply_degradation(image, sample_params(cfg, rng), kernel_size=cfg.kernel_size)


def sample_rng(seed: int, *stream: int) -> np.random.Generator:
    """A generator keyed by (seed, *stream), e.g. (run seed, step, slot in batch)."""
    return np.random.Generator(np.random.PCG64([int(seed) & 0xFFFFFFFF, *(int(s) for s in stream)]))
