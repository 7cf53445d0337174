"""Background upscaling: stripes join exactly, pixel centres are right, bad factors refused."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceapp.core.upscale import upscale_image


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    return cv2.resize(base, (211, 157), interpolation=cv2.INTER_CUBIC)  # smooth-ish, odd size


@pytest.mark.parametrize("scale", [2, 4])
def test_striped_upscale_equals_a_one_shot_resize(photo, scale):
    striped = upscale_image(photo, scale, stripe_rows=40)
    whole = cv2.resize(photo, (photo.shape[1] * scale, photo.shape[0] * scale), interpolation=cv2.INTER_LANCZOS4)
    assert striped.shape == whole.shape
    np.testing.assert_array_equal(striped, whole)


def test_single_channel_alpha_upscales_in_stripes(photo):
    alpha = np.ascontiguousarray(photo[:, :, 0])
    out = upscale_image(alpha, 2, stripe_rows=32)
    assert out.shape == (alpha.shape[0] * 2, alpha.shape[1] * 2)
    np.testing.assert_array_equal(out, cv2.resize(alpha, out.shape[::-1], interpolation=cv2.INTER_LANCZOS4))


@pytest.mark.parametrize("scale", [2, 4])
def test_upscale_keeps_pixel_centres(photo, scale):
    # Averaging each s×s block must give back the photo: no shift by half a pixel.
    up = upscale_image(photo, scale).astype(np.float64)
    h, w = photo.shape[:2]
    blocks = up.reshape(h, scale, w, scale, 3).mean(axis=(1, 3))
    assert np.abs(blocks - photo)[4:-4, 4:-4].mean() < 2.0


def test_scale_one_is_a_copy_and_bad_scales_are_refused(photo):
    same = upscale_image(photo, 1)
    np.testing.assert_array_equal(same, photo)
    assert same is not photo
    with pytest.raises(ValueError, match="upscale"):
        upscale_image(photo, 3)
    with pytest.raises(ValueError, match="uint8"):
        upscale_image(photo.astype(np.float32), 2)
