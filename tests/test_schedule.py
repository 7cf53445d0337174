"""The diffusion schedule, respacing and the fidelity → start-timestep map."""

import numpy as np
import pytest
import torch

from faceapp.core import schedule
from faceapp.core.settings import SamplerSettings


def test_linear_schedule_matches_published_reference_values():
    abar = schedule.alphas_cumprod(schedule.linear_betas())
    # Reference values from the algorithm fact sheet (read off the official code).
    expected = {0: 0.99990, 99: 0.89702, 199: 0.65904, 299: 0.39642, 396: 0.199923, 400: 0.193572, 480: 0.094869}
    for t, value in expected.items():
        assert abar[t] == pytest.approx(value, abs=6e-6), t
    assert abar[999] == pytest.approx(4.0e-5, rel=0.03)


def test_schedule_matches_the_official_respaced_schedule(golden_dir):
    d = torch.load(golden_dir / "ddim_small_io.pth", weights_only=True)
    betas = schedule.linear_betas()
    np.testing.assert_array_equal(betas, d["betas_original_1000"].numpy())
    kept = schedule.respace_timesteps("ddim250")
    assert kept == d["timestep_map"].tolist()
    abar = schedule.alphas_cumprod(betas)
    np.testing.assert_allclose(abar[kept], d["alphas_cumprod"].numpy(), rtol=1e-12)


def test_plain_respacing_drifts_from_ddim_as_the_official_code_does():
    plain = schedule.respace_timesteps("250")
    assert len(plain) == 250
    assert plain[:42] == list(range(0, 168, 4))
    assert plain[42] == 169 and plain[-1] == 999
    with pytest.raises(ValueError):
        schedule.respace_timesteps("ddim999")  # no integer stride keeps exactly 999 of 1000


def test_fidelity_map_is_monotonic_and_anchored():
    assert schedule.fidelity_to_timestep(1.0) == 0
    assert schedule.fidelity_to_timestep(0.5) == 400  # the paper's setting is the default
    assert schedule.fidelity_to_timestep(SamplerSettings().fidelity) == 400
    values = [schedule.fidelity_to_timestep(f) for f in np.linspace(0, 1, 101)]
    assert all(a > b for a, b in zip(values, values[1:]))
    for t in (0, 100, 400, 800):  # every start timestep the slider names is reached
        assert schedule.fidelity_to_timestep(1.0 - t / schedule.MAX_START_TIMESTEP) == t
    with pytest.raises(ValueError):
        schedule.fidelity_to_timestep(1.5)


def test_official_plan_reproduces_the_official_visiting_order(golden_dir):
    d = torch.load(golden_dir / "ddim_small_io.pth", weights_only=True)
    plan = schedule.official_plan(int(d["N"]))
    assert plan.noise_timestep == 40
    assert list(plan.timesteps) == d["pairs"][:, 1].tolist()
    paper = schedule.plan_for(SamplerSettings(schedule="official"))
    assert paper.noise_timestep == 400 and paper.steps == 100
    assert paper.timesteps[0] == 396 and paper.timesteps[-1] == 0


def test_fast_plan_spans_the_start_to_the_clean_image():
    plan = schedule.fast_plan(400, 8)
    assert plan.noise_timestep == 400 and plan.timesteps[0] == 400
    assert plan.steps == 8 and list(plan.timesteps) == sorted(plan.timesteps, reverse=True)
    assert plan.timesteps[-1] == 50
    assert schedule.fast_plan(3, 8).timesteps == (3, 2, 1)
    assert schedule.fast_plan(0, 8).steps == 0
    assert schedule.plan_for(SamplerSettings(fidelity=1.0)).steps == 0


def test_polish_plan_takes_one_step_per_fifty_timesteps():
    assert schedule.polish_plan(100).timesteps == (100, 50)
    assert schedule.polish_plan(120).noise_timestep == 120 and schedule.polish_plan(120).steps == 3
    assert schedule.polish_plan(10).timesteps == (10,)
