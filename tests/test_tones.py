"""Keeping the restorer's tones: a sample's broad colour and shape come from the restorer's
estimate, its fine detail from the prior; a model without ``[restorer_tones]`` samples as DifFace."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pipeline_util import Brightening, SmoothingPrior

from faceapp.core import schedule
from faceapp.core.engine import FaceEngine, image_to_tensor
from faceapp.core.settings import SamplerSettings
from faceapp.core.tones import keep_restorer_rim, keep_restorer_tones

SIZE = 64


def _checkerboard(size: int = SIZE) -> torch.Tensor:
    """±1 alternating pixels: the finest detail an image can hold."""
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return ((rows + cols) % 2 * 2 - 1).float()


def test_the_sample_keeps_its_fine_detail_on_the_estimates_colour():
    estimate = torch.full((1, 3, SIZE, SIZE), 0.2)
    detail = 0.1 * _checkerboard().expand(2, 3, SIZE, SIZE)
    samples = 0.5 + detail  # the prior drifted to a lighter tone and added a fine texture
    out = keep_restorer_tones(samples, estimate, 3.0)
    assert out.shape == samples.shape
    assert torch.allclose(out, 0.2 + detail, atol=1e-3)  # the estimate's tone, the sample's texture


def test_a_broad_blotch_of_the_prior_is_taken_out():
    estimate = torch.zeros(1, 3, SIZE, SIZE)
    rows, cols = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    spot = torch.exp(-((rows - 30) ** 2 + (cols - 34) ** 2) / (2 * 10.0**2))  # a cheek-sized patch, σ 10 px
    blotch = 0.3 * spot.expand(1, 3, SIZE, SIZE)
    out = keep_restorer_tones(estimate + blotch, estimate, 3.0)
    assert (out - estimate).abs().max() < 0.1 * blotch.abs().max()


def test_a_blur_must_be_positive_and_the_output_stays_in_range():
    with pytest.raises(ValueError, match="sigma must be positive"):
        keep_restorer_tones(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), 0.0)
    out = keep_restorer_tones(torch.full((1, 3, 8, 8), 0.95), torch.ones(1, 3, 8, 8), 20.0)  # a blur wider than the face
    assert out.max() <= 1.0 and torch.allclose(out, torch.ones_like(out))


def _engine(tones: float | None) -> FaceEngine:
    prior = SmoothingPrior(schedule.alphas_cumprod(schedule.linear_betas()))
    return FaceEngine.from_networks(Brightening(51), prior, face_size=SIZE, name="toned", device="cpu", precision="fp32",
                                    restorer_tones=tones)


def test_every_seed_of_a_toned_model_is_its_plain_sample_on_the_restorers_tones():
    face = np.random.default_rng(0).integers(20, 180, (SIZE, SIZE, 3)).astype(np.uint8)
    sampler = SamplerSettings(fidelity=0.3, steps=3)
    plain = _engine(None).restore(face, sampler=sampler, seeds=[4, 9])
    toned = _engine(3.0).restore(face, sampler=sampler, seeds=[4, 9])
    estimate = _engine(None).estimate(image_to_tensor(face))
    for a, b in zip(plain, toned):
        expected = keep_restorer_rim(keep_restorer_tones(image_to_tensor(a) * 2 - 1, estimate, 3.0), estimate)
        got = image_to_tensor(b) * 2 - 1
        assert (got - expected).abs().max() <= 2.5 / 255  # the same seed's sample, toned (uint8 rounding twice)
        assert not np.array_equal(a, b)
    # broad tone: the toned face has the estimate's mean colour, the plain one drifted from it
    mean = lambda im: image_to_tensor(im).mean().item()  # noqa: E731
    target = ((estimate + 1) / 2).mean().item()
    assert abs(mean(toned[0]) - target) < 0.01 < abs(mean(plain[0]) - target)


def test_the_edge_pixels_of_a_toned_sample_are_the_restorers_and_the_next_ones_half():
    """The prior's outermost pixels (computed over zero padding) made a speckled frame around an
    aligned crop restored on its own: a toned model takes them from its restorer's estimate."""
    face = np.random.default_rng(3).integers(20, 180, (SIZE, SIZE, 3)).astype(np.uint8)
    engine = _engine(3.0)
    [toned] = engine.restore(face, sampler=SamplerSettings(fidelity=0.3, steps=3), seeds=[5])
    estimate = ((engine.estimate(image_to_tensor(face))[0].permute(1, 2, 0).numpy() + 1) * 127.5)
    gap = np.abs(toned.astype(float) - estimate)
    for edge in (gap[0], gap[-1], gap[:, 0], gap[:, -1]):
        assert edge.max() <= 0.5 + 1e-3  # the estimate's, rounded
    inner = gap[2:-2, 2:-2].mean()
    assert inner > 1.0 and gap[1, 2:-2].mean() < 0.75 * inner  # detail inside; halfway next to the edge


def test_the_live_preview_of_a_toned_model_ends_on_the_result():
    face = np.random.default_rng(2).integers(20, 180, (SIZE, SIZE, 3)).astype(np.uint8)
    previews = []
    result = _engine(3.0).restore(face, sampler=SamplerSettings(fidelity=0.4, steps=3), seeds=[7, 8],
                                  on_step=lambda info: previews.append(info.preview))
    assert len(previews) == 3 and np.array_equal(previews[-1], result[0])  # what the user watched is what they get


def test_at_fidelity_one_a_toned_model_returns_the_restorers_estimate():
    face = np.random.default_rng(1).integers(20, 180, (SIZE, SIZE, 3)).astype(np.uint8)
    sampler = SamplerSettings(fidelity=1.0, steps=3)
    assert np.array_equal(_engine(3.0).restore(face, sampler=sampler, seeds=[1])[0],
                          _engine(None).restore(face, sampler=sampler, seeds=[1])[0])
