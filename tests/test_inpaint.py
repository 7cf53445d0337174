"""RePaint on DDIM: the known pixels stay, the hole is generated, seeds give the same candidate in any
batch; the resampling schedule; checked against a denoiser with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pipeline_util import drain

from faceapp.core.errors import Cancelled
from faceapp.core.inpaint import iter_sample_repaint, keep_known, prior_calls, renoise, resampling_path
from faceapp.core.sampling import q_sample
from faceapp.core.schedule import alphas_cumprod, fast_plan, linear_betas

ALPHAS = alphas_cumprod(linear_betas())


def oracle(clean: torch.Tensor):
    """A prior that knows the clean image: its ε makes every predicted x0 exactly ``clean``."""

    def eps_model(x, t):
        a = torch.tensor(ALPHAS[t.cpu().numpy()], dtype=torch.float32).view(-1, 1, 1, 1)
        return (x - a.sqrt() * clean) / (1 - a).sqrt()

    return eps_model


def images(seed=0, size=16):
    gen = torch.Generator().manual_seed(seed)
    clean = torch.rand((1, 3, size, size), generator=gen) * 2 - 1
    known = torch.rand((1, 3, size, size), generator=gen) * 2 - 1
    hole = torch.zeros((1, 1, size, size))
    hole[..., 4:10, 3:12] = 1.0
    return clean, known, hole


def run(eps_model, x, plan, **options):
    return drain(iter_sample_repaint(eps_model, x, plan, ALPHAS, **options))


def start(estimate, plan, seeds):
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    noise = torch.stack([torch.randn(estimate.shape[1:], generator=g) for g in gens])
    return q_sample(estimate.expand(len(seeds), -1, -1, -1), float(ALPHAS[plan.noise_timestep]), noise), gens


def test_keep_known_at_the_clean_level_puts_back_the_known_pixels_exactly():
    clean, known, hole = images()
    noise = torch.randn_like(clean)
    out = keep_known(clean, known, hole, 1.0, noise)
    torch.testing.assert_close(out[:, :, 4:10, 3:12], clean[:, :, 4:10, 3:12], rtol=0, atol=0)
    outside = (hole == 0).expand_as(out)
    torch.testing.assert_close(out[outside], known[outside], rtol=0, atol=0)


def test_keep_known_noises_the_known_pixels_to_the_level_asked():
    _, known, hole = images()
    noise = torch.randn((1, 3, 16, 16), generator=torch.Generator().manual_seed(3))
    out = keep_known(torch.zeros_like(known), known, hole, 0.25, noise)
    torch.testing.assert_close(out[..., 0, 0], (0.5 * known + math.sqrt(0.75) * noise)[..., 0, 0])


def test_renoise_moves_to_the_noisier_level():
    x = torch.ones((1, 1, 256, 256))
    out = renoise(x, 0.9, 0.45, torch.randn(x.shape, generator=torch.Generator().manual_seed(0)))
    assert out.mean().item() == pytest.approx(math.sqrt(0.5), abs=0.01)
    assert out.std().item() == pytest.approx(math.sqrt(0.5), abs=0.01)


def test_resampling_path_walks_down_and_jumps_back_as_repaint_does():
    assert resampling_path(4) == [0, 1, 2, 3, 4]
    assert resampling_path(4, jump_length=2, resamples=2) == [0, 1, 2, 0, 1, 2, 3, 4]
    assert resampling_path(3, jump_length=1, resamples=3) == [0, 1, 0, 1, 0, 1, 2, 1, 2, 1, 2, 3]
    assert prior_calls(3, jump_length=1, resamples=3) == 3 + 2 * 2
    with pytest.raises(ValueError):
        resampling_path(3, jump_length=0)


@pytest.mark.parametrize("options", [{"eta": 0.0}, {"eta": 1.0}, {"eta": 0.5, "jump_length": 2, "resamples": 3}])
def test_known_pixels_come_back_exactly_and_the_hole_from_the_prior(options):
    clean, known, hole = images()
    plan = fast_plan(400, 6)
    x, gens = start(known, plan, [7])
    out, states = run(oracle(clean), x, plan, known=known, hole=hole, generators=gens, **options)
    torch.testing.assert_close(out * (1 - hole), known * (1 - hole), rtol=0, atol=1e-6)
    torch.testing.assert_close(out * hole, clean * hole, rtol=0, atol=1e-5)
    assert [s.step for s in states] == list(range(1, len(states) + 1))
    assert states[-1].total == len(states) == prior_calls(6, jump_length=options.get("jump_length", 1),
                                                          resamples=options.get("resamples", 1))


def test_without_a_hole_the_known_image_is_the_result():
    clean, known, _ = images()
    plan = fast_plan(300, 4)
    x, gens = start(known, plan, [1])
    out, _ = run(oracle(clean), x, plan, known=known, hole=torch.zeros((1, 1, 16, 16)), eta=0.5, generators=gens)
    torch.testing.assert_close(out, known, rtol=0, atol=1e-6)


def test_a_seed_gives_the_same_fill_alone_or_in_a_batch_and_seeds_differ():
    torch.manual_seed(0)
    net = torch.nn.Conv2d(3, 3, 3, padding=1)  # a prior with no known answer: the fill depends on the noise
    eps_model = lambda x, t: net(x)  # noqa: E731
    _, known, hole = images()
    plan = fast_plan(400, 4)
    with torch.no_grad():
        x, gens = start(known, plan, [5, 6])
        both, _ = run(eps_model, x, plan, known=known, hole=hole, eta=1.0, generators=gens)
        x, gens = start(known, plan, [6])
        alone, _ = run(eps_model, x, plan, known=known, hole=hole, eta=1.0, generators=gens)
    torch.testing.assert_close(both[1:], alone, rtol=0, atol=1e-5)
    assert (both[0] - both[1]).abs().max() > 1e-3


def test_cancelling_stops_before_the_next_prior_call():
    clean, known, hole = images()
    plan = fast_plan(400, 5)
    x, gens = start(known, plan, [0])
    calls = []

    def eps_model(x, t):
        calls.append(int(t[0]))
        return oracle(clean)(x, t)

    with pytest.raises(Cancelled):
        run(eps_model, x, plan, known=known, hole=hole, generators=gens, should_cancel=lambda: len(calls) == 2)
    assert len(calls) == 2


def test_one_generator_per_candidate_is_required():
    clean, known, hole = images()
    plan = fast_plan(100, 2)
    with pytest.raises(ValueError, match="generators"):
        run(oracle(clean), known.expand(2, -1, -1, -1), plan, known=known, hole=hole,
            generators=[torch.Generator()])
    assert np.isfinite(ALPHAS).all()
