"""The DDIM sampler: official parity (replayed), known-answer denoising, seeds, cancellation."""

import numpy as np
import pytest
import torch

from faceapp.core import schedule
from faceapp.core.errors import Cancelled
from faceapp.core.sampling import q_sample, randn_per_generator, sample_ddim

ABAR = schedule.alphas_cumprod(schedule.linear_betas())


@pytest.fixture(scope="module")
def ddim_io(golden_dir):
    return torch.load(golden_dir / "ddim_small_io.pth", weights_only=True)


def test_x_n_formation_matches_official(ddim_io):
    plan = schedule.official_plan(int(ddim_io["N"]))
    x_n = q_sample(ddim_io["x0_hat"], float(ABAR[plan.noise_timestep]), ddim_io["noise"])
    torch.testing.assert_close(x_n, ddim_io["x_N"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("run, eta", [("eta0", 0.0), ("eta05", 0.5)])
def test_every_ddim_state_matches_official(ddim_io, run, eta):
    """Feed the recorded UNet outputs (and noise): every intermediate state must match."""
    plan = schedule.official_plan(int(ddim_io["N"]))
    outputs = ddim_io[f"{run}_unet_out"]
    seen_t, states, x0s = [], [], []

    def recorded_eps(x, t):
        seen_t.append(int(t[0]))
        return outputs[len(seen_t) - 1][:, :3]

    def on_step(state):
        states.append(state.x.clone())
        x0s.append(state.denoised.clone())

    replay = (lambda k, x: ddim_io["eta05_z"][k]) if eta > 0 else None
    final = sample_ddim(recorded_eps, ddim_io["x_N"], plan, ABAR, eta=eta, step_noise=replay, callback=on_step)
    assert seen_t == ddim_io["pairs"][:, 1].tolist()
    for j in range(plan.steps):
        torch.testing.assert_close(states[j], ddim_io[f"{run}_x_steps"][j], rtol=0, atol=1e-4)
        torch.testing.assert_close(x0s[j], ddim_io[f"{run}_pred_xstart"][j], rtol=0, atol=1e-4)
    torch.testing.assert_close(final, ddim_io[f"{run}_final"], rtol=0, atol=1e-4)
    torch.testing.assert_close(((final + 1) / 2).clamp(0, 1), ddim_io[f"{run}_final_01"], rtol=0, atol=1e-4)


def _oracle_for(x0_true):
    """A denoiser that knows the clean image: ε = (x − √ᾱ·x0) / √(1 − ᾱ)."""

    def eps(x, t):
        abar = torch.tensor(ABAR[t.cpu().numpy()], dtype=torch.float32).view(-1, 1, 1, 1)
        return (x - abar.sqrt() * x0_true) / (1 - abar).sqrt()

    return eps


@pytest.mark.parametrize("plan", [schedule.fast_plan(400, 8), schedule.fast_plan(750, 3), schedule.official_plan(100)])
@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_a_perfect_denoiser_recovers_the_clean_image(plan, eta):
    g = torch.Generator().manual_seed(0)
    x0_true = torch.rand(2, 3, 16, 16, generator=g) * 1.6 - 0.8
    gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    x = q_sample(x0_true, float(ABAR[plan.noise_timestep]), randn_per_generator((3, 16, 16), gens, device="cpu"))
    out = sample_ddim(_oracle_for(x0_true), x, plan, ABAR, eta=eta, generators=gens)
    torch.testing.assert_close(out, x0_true, rtol=0, atol=1e-4)


def test_each_candidate_draws_from_its_own_generator():
    """A seed's sample is the same alone or in a batch (noise per generator, not per batch)."""

    def eps_model(x, t):  # a pixel-wise non-linear stand-in for a network
        return torch.tanh(x * 0.7 + t.view(-1, 1, 1, 1) / 1000.0)

    plan = schedule.fast_plan(400, 5)

    def run(seeds):
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        x0 = torch.zeros(len(seeds), 3, 8, 8)
        x = q_sample(x0, float(ABAR[plan.noise_timestep]), randn_per_generator((3, 8, 8), gens, device="cpu"))
        return sample_ddim(eps_model, x, plan, ABAR, eta=1.0, generators=gens)

    batch = run([5, 6, 7])
    torch.testing.assert_close(batch[1:2], run([6]), rtol=0, atol=1e-6)
    torch.testing.assert_close(batch[2:3], run([7]), rtol=0, atol=1e-6)
    assert not torch.allclose(batch[0], batch[1])


def test_cancellation_stops_between_steps():
    calls = []

    def eps_model(x, t):
        calls.append(int(t[0]))
        return torch.zeros_like(x)

    with pytest.raises(Cancelled):
        sample_ddim(eps_model, torch.zeros(1, 3, 4, 4), schedule.fast_plan(400, 8), ABAR, should_cancel=lambda: len(calls) >= 2)
    assert len(calls) == 2


def test_progress_callback_reports_every_step_in_order():
    steps = []
    sample_ddim(lambda x, t: torch.zeros_like(x), torch.zeros(1, 3, 4, 4), schedule.fast_plan(200, 4), ABAR,
                callback=lambda s: steps.append((s.step, s.total, s.timestep)))
    assert steps == [(1, 4, 200), (2, 4, 150), (3, 4, 100), (4, 4, 50)]
    assert np.isfinite(ABAR).all()
