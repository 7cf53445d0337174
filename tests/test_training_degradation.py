"""The synthetic degradation is reproducible from its seed and actually degrades."""

from __future__ import annotations

import numpy as np

from faceapp.training.config import DegradationConfig
from faceapp.training.data import FaceDataset
from faceapp.training.degradation import (
    DegradationParams,
    apply_degradation,
    degrade,
    gaussian_kernel,
    sample_params,
    sample_rng,
)
from faceapp.training.metrics import psnr


def face(dataset_dir):
    return FaceDataset(dataset_dir, split="val", limit=1).image(0)


def test_same_seed_same_output(dataset_dir):
    image, cfg = face(dataset_dir), DegradationConfig()
    a = degrade(image, cfg, sample_rng(5, 1, 2))
    b = degrade(image, cfg, sample_rng(5, 1, 2))
    c = degrade(image, cfg, sample_rng(5, 1, 3))
    assert a.shape == image.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_parameters_stay_in_the_configured_ranges():
    cfg = DegradationConfig()
    for i in range(200):
        p = sample_params(cfg, sample_rng(0, i))
        assert 0.1 <= p.sigma_x <= 15 and 0.1 <= p.sigma_y <= 15
        assert 0.8 <= p.scale <= 32 and 0 <= p.noise_sigma <= 20 and 30 <= p.jpeg_quality <= 100


def test_stronger_ranges_lose_more_of_the_face(dataset_dir):
    image = face(dataset_dir)
    mild = DegradationConfig(blur_sigma=(0.5, 1.0), downscale=(1.0, 1.5), noise_sigma=(0, 2), jpeg_quality=(90, 95))
    harsh = DegradationConfig(blur_sigma=(6, 8), downscale=(8, 12), noise_sigma=(10, 15), jpeg_quality=(30, 40))
    assert psnr(degrade(image, mild, sample_rng(0)), image) > psnr(degrade(image, harsh, sample_rng(0)), image) + 5


def test_kernel_is_normalised_and_anisotropic_when_asked():
    k = gaussian_kernel(41, 2.0, 6.0, 0.0)
    assert abs(float(k.sum()) - 1.0) < 1e-5
    ys, xs = np.mgrid[-20:21, -20:21]
    assert abs(float((k * xs**2).sum()) - 4.0) < 0.1  # variance σx² along x
    assert abs(float((k * ys**2).sum()) - 36.0) < 1.0  # σy² along y (slightly cut by the 41 px window)


def _jpeg_only_error(channel: int) -> float:
    """Mean error of a fine checkerboard in one RGB channel after the JPEG step alone."""
    image = np.full((64, 64, 3), 128, np.uint8)
    ys, xs = np.mgrid[:64, :64]
    image[..., channel] = np.where((xs + ys) % 2 == 0, 188, 68)
    params = DegradationParams(sigma_x=0.1, sigma_y=0.1, angle=0.0, scale=1.0, noise_sigma=0.0, jpeg_quality=50,
                               noise_seed=0)
    out = apply_degradation(image, params, kernel_size=41)
    return float(np.abs(out[..., channel].astype(np.float64) - image[..., channel]).mean())


def test_jpeg_artefacts_are_made_in_the_rgb_photo_colour_space():
    # JPEG keeps luma at full resolution and subsamples chroma; red weighs 0.299 in luma, blue 0.114,
    # so fine red detail must survive better than fine blue detail (reversed if R and B were swapped)
    assert _jpeg_only_error(0) + 5 < _jpeg_only_error(2)
