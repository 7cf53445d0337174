"""The realism distance (Laplacian-pyramid SWD) and the fidelity metrics behave as users read them."""

from __future__ import annotations

import cv2
import numpy as np

from faceapp.training.data import FaceDataset
from faceapp.training.metrics import psnr, ssim
from faceapp.training.swd import laplacian_pyramid, swd, to_tensor


def faces(dataset_dir, n=4):
    ds = FaceDataset(dataset_dir, split="val", limit=n)
    return [ds.image(i) for i in range(n)]


def test_swd_is_zero_for_identical_sets(dataset_dir):
    ims = faces(dataset_dir)
    assert swd(ims, [im.copy() for im in ims], patches_per_image=32, directions=32, repeats=1).per_level == (0.0,) * 5


def test_swd_grows_with_blur(dataset_dir):
    ims = faces(dataset_dir)
    values = [swd([cv2.GaussianBlur(im, (0, 0), s) for im in ims], ims, patches_per_image=32, directions=32,
                  repeats=1).mean for s in (0.6, 1.5, 3.0)]
    assert 0 < values[0] < values[1] < values[2]


def test_pyramid_reconstructs_the_image():
    x = to_tensor(np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8))
    levels = laplacian_pyramid(x, min_size=16)
    assert [lv.shape[-1] for lv in levels] == [64, 32, 16]


def test_psnr_and_ssim_rank_a_blurred_copy_below_the_original(dataset_dir):
    im = faces(dataset_dir, 1)[0]
    blurred = cv2.GaussianBlur(im, (0, 0), 2.0)
    assert psnr(im, im) == float("inf") and abs(ssim(im, im) - 1.0) < 1e-9
    assert 15 < psnr(blurred, im) < 40 and ssim(blurred, im) < 0.95
    assert psnr(cv2.GaussianBlur(im, (0, 0), 4.0), im) < psnr(blurred, im)
