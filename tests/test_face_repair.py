"""Repairing the damaged pixels of aligned faces with the prior (DifFace's inpainting with RePaint):
on the real test faces with white scratches painted by the test."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from pipeline_util import colour_range, drain, identity_engine, psnr, scratched, scratches, smoothing_engine

from faceapp.core import schedule
from faceapp.core.engine import FaceEngine
from faceapp.core.errors import Cancelled, OutOfMemoryError
from faceapp.core.face_repair import REPAIR_FIDELITY, REPAIR_MIN_STEPS, iter_repair_face, repair_sampler
from faceapp.core.settings import SamplerSettings

SAMPLER = SamplerSettings(fidelity=0.5, steps=6, eta=0.5)


def faces(testdata_dir, size=256):
    for path in sorted((testdata_dir / "faces").glob("*.png")):
        yield path.name, np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC))


def repair(engine, face, mask, seeds=(0,), **options):
    return drain(iter_repair_face(engine, face, mask, sampler=options.pop("sampler", SAMPLER), seeds=list(seeds),
                                  **options))[0]


def test_masked_pixels_come_back_in_the_faces_colours_and_the_rest_as_restored_without_a_mask(testdata_dir):
    engine = smoothing_engine(128)
    mask = scratches(128, 128)
    damaged_pixels = mask > 0
    for name, face in faces(testdata_dir, 128):
        damaged = scratched(face, mask)
        repaired = repair(engine, damaged, mask, seeds=[3])[0]
        np.testing.assert_array_equal(repaired[~damaged_pixels], face[~damaged_pixels], err_msg=name)
        low, high = colour_range(face, mask)
        inside = ((repaired[damaged_pixels] >= low) & (repaired[damaged_pixels] <= high)).all(axis=1)
        assert inside.mean() > 0.99, f"{name}: {inside.mean():.3f} of the filled pixels in the face's colours"
        restored = engine.restore(repaired, sampler=SAMPLER, seeds=[3])[0]
        plain = engine.restore(face, sampler=SAMPLER, seeds=[3])[0]
        keep = ~damaged_pixels
        gap = abs(psnr(restored[keep], face[keep]) - psnr(plain[keep], face[keep]))
        assert gap <= 1.0, f"{name}: the undamaged pixels are {gap:.2f} dB from the unmasked restoration"


def test_with_an_identity_restorer_and_no_diffusion_undamaged_pixels_are_unchanged(testdata_dir):
    engine = identity_engine(256)
    mask = scratches(256, 256)
    name, face = next(faces(testdata_dir))
    damaged = scratched(face, mask)
    repaired = repair(engine, damaged, mask, seeds=[0, 1])
    restored = engine.restore(repaired[0], sampler=SAMPLER, seeds=[0])[0]
    np.testing.assert_array_equal(restored[mask == 0], face[mask == 0])
    assert (restored[mask > 0] < 250).mean() > 0.95  # the white scratches are gone
    np.testing.assert_array_equal(repaired[0], repaired[1])  # no prior: nothing for a seed to change


def test_seeds_give_alternatives_for_the_hole_only(testdata_dir):
    engine = smoothing_engine(128)
    mask = scratches(128, 128)
    _, face = next(faces(testdata_dir, 128))
    damaged = scratched(face, mask)
    one, two = repair(engine, damaged, mask, seeds=[1, 2], sampler=SamplerSettings(fidelity=0.2, steps=4, eta=1.0))
    alone = repair(engine, damaged, mask, seeds=[2], sampler=SamplerSettings(fidelity=0.2, steps=4, eta=1.0))[0]
    np.testing.assert_array_equal(two, alone)
    assert np.abs(one.astype(int) - two.astype(int))[mask > 0].max() > 0
    np.testing.assert_array_equal(one[mask == 0], two[mask == 0])


def test_progress_counts_every_prior_call_including_resampling(testdata_dir):
    engine = smoothing_engine(64)
    mask = scratches(64, 64)
    _, face = next(faces(testdata_dir, 64))
    steps = drain(iter_repair_face(engine, face, mask, sampler=SamplerSettings(steps=REPAIR_MIN_STEPS), seeds=[0],
                                   jump_length=2, resamples=2))[1]
    assert REPAIR_MIN_STEPS == 8
    total = 8 + 3 * 2  # states 2, 4 and 6 are each left once more by a jump of 2 states, sampled again
    assert [s.step for s in steps] == list(range(1, total + 1)) and steps[-1].total == total
    assert steps[-1].preview.shape == (64, 64, 3)
    with pytest.raises(Cancelled):
        drain(iter_repair_face(engine, face, mask, sampler=SAMPLER, seeds=[0], should_cancel=lambda: True))


def test_a_crop_of_another_size_than_the_model_keeps_its_undamaged_pixels_exactly(testdata_dir):
    engine = smoothing_engine(64)
    mask = scratches(96, 96)
    _, face = next(faces(testdata_dir, 96))
    repaired = repair(engine, scratched(face, mask), mask)[0]
    assert repaired.shape == face.shape
    np.testing.assert_array_equal(repaired[mask == 0], face[mask == 0])
    assert (repaired[mask > 0] < 250).mean() > 0.95


def test_the_hole_is_generated_by_the_prior_even_at_fidelity_one(testdata_dir):
    mask = scratches(64, 64)
    _, face = next(faces(testdata_dir, 64))
    damaged = scratched(face, mask)
    faithful = SamplerSettings(fidelity=1.0, steps=4, polish_timestep=100)
    assert repair_sampler(faithful) == SamplerSettings(fidelity=REPAIR_FIDELITY, steps=REPAIR_MIN_STEPS)
    assert repair_sampler(SamplerSettings(fidelity=0.2, steps=20)) == SamplerSettings(fidelity=0.2, steps=20)
    with_prior = repair(smoothing_engine(64), damaged, mask, sampler=faithful)[0]
    classical = repair(identity_engine(64), damaged, mask, sampler=faithful)[0]
    assert np.abs(with_prior.astype(int) - classical.astype(int))[mask > 0].mean() > 1.0
    steps = drain(iter_repair_face(smoothing_engine(64), damaged, mask, sampler=faithful, seeds=[0]))[1]
    assert steps[0].timestep == 480


def _roomy(engine, room):
    """``engine`` whose prior runs out of memory on batches larger than ``room``; records the batch sizes."""
    predict, sizes = engine.predict_eps, []

    def predict_eps(x, t):
        sizes.append(x.shape[0])
        if x.shape[0] > room:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return predict(x, t)

    engine.predict_eps = predict_eps
    return sizes


def test_seeds_are_repaired_in_chunks_and_a_chunk_out_of_memory_is_split(testdata_dir):
    mask = scratches(64, 64)
    _, face = next(faces(testdata_dir, 64))
    damaged = scratched(face, mask)
    sampler = SamplerSettings(fidelity=0.2, steps=4, eta=1.0)
    seeds = [1, 2, 3, 4, 5]
    alone = [repair(smoothing_engine(64), damaged, mask, seeds=[s], sampler=sampler)[0] for s in seeds]

    chunked = smoothing_engine(64)
    chunked.max_batch = 2
    sizes = _roomy(chunked, room=2)
    for got, want in zip(repair(chunked, damaged, mask, seeds=seeds, sampler=sampler), alone, strict=True):
        np.testing.assert_array_equal(got, want)
    assert max(sizes) == 2  # never more than max_batch seeds at once

    tight = smoothing_engine(64)
    tight.max_batch = 4
    _roomy(tight, room=2)
    result, steps = drain(iter_repair_face(tight, damaged, mask, sampler=sampler, seeds=seeds))
    for got, want in zip(result, alone, strict=True):
        np.testing.assert_array_equal(got, want)
    assert tight.max_batch == 2  # kept for the next call
    assert steps[-1].step == steps[-1].total


def test_out_of_memory_repairing_one_seed_is_one_clear_message(testdata_dir):
    engine = smoothing_engine(64)
    _roomy(engine, room=0)
    mask = scratches(64, 64)
    _, face = next(faces(testdata_dir, 64))
    with pytest.raises(OutOfMemoryError, match="Out of memory on CPU"):
        repair(engine, scratched(face, mask), mask, seeds=[0, 1], sampler=SamplerSettings(fidelity=0.2, steps=2))


class _DarkPatchPrior(torch.nn.Module):
    """A prior whose every clean-image guess is a dark grey: the off-colour patch a small prior can
    leave in a hole."""

    def __init__(self, alphas_cumprod) -> None:
        super().__init__()
        self.alphas = torch.tensor(alphas_cumprod, dtype=torch.float32)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = self.alphas[t.cpu()].view(-1, 1, 1, 1)
        eps = (x.float() - a.sqrt() * -0.6) / (1 - a).sqrt()
        return torch.cat([eps, torch.zeros_like(eps)], dim=1).to(x.dtype)


@pytest.mark.parametrize("tones", [None, 3.0])
def test_a_toned_model_fills_a_hole_in_the_colours_around_it(testdata_dir, tones):
    """A model that keeps its restorer's tones keeps them in a hole too: the prior's dark patch
    becomes detail on the surrounding skin's colour; a model without tones fills as DifFace does."""
    prior = _DarkPatchPrior(schedule.alphas_cumprod(schedule.linear_betas()))
    engine = FaceEngine.from_networks(torch.nn.Identity(), prior, face_size=128, name="patchy", device="cpu",
                                      precision="fp32", restorer_tones=tones)
    name, face = next(faces(testdata_dir, 128))
    mask = np.zeros((128, 128), np.uint8)
    mask[60:72, 30:98] = 255  # a stroke across the middle of the face
    repaired = repair(engine, scratched(face, mask), mask, seeds=[0, 1])
    around = face[52:80, 30:98][mask[52:80, 30:98] == 0].reshape(-1, 3).mean(axis=0)
    for candidate in repaired:
        np.testing.assert_array_equal(candidate[mask == 0], face[mask == 0])
        gap = np.abs(candidate[mask > 0].reshape(-1, 3).mean(axis=0) - around).max()
        if tones:
            assert gap < 12, f"{name}: the hole is {gap:.0f} grey levels off the skin around it"
        else:
            assert gap > 40  # the prior's patch, as the official sampler leaves it
