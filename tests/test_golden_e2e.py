"""End-to-end parity with the official sampler: restorer → x_N → DDIM (golden `e2e_small`)."""

import json

import pytest
import torch

from faceapp.core import schedule
from faceapp.core.engine import FaceEngine
from faceapp.core.loading import load_network
from faceapp.core.sampling import q_sample, sample_ddim
from faceapp.core.settings import SamplerSettings


#: bf16 network forwards (8-bit mantissa) with the DDIM arithmetic in fp32: the stated tolerance of
#: every state against the official fp32 run, in diffusion space [-1, 1]
BF16_ATOL = 0.03


@pytest.mark.parametrize(("precision", "atol"), [("fp32", 1e-4), ("bf16", BF16_ATOL)])
def test_official_pipeline_is_reproduced(golden_dir, precision, atol):
    meta = json.loads((golden_dir / "e2e_small.json").read_text())
    build = meta["sampler_construction"]
    unet = load_network("iddpm_unet", build["model_params"], golden_dir / "unet_small.pth")
    swinir = load_network("swinir", build["model_ir_params"], golden_dir / "swinir_small.pth")
    engine = FaceEngine.from_networks(swinir, unet, face_size=build["im_size"], name="golden", precision=precision)
    assert engine.precision == precision
    io = torch.load(golden_dir / "e2e_small_io.pth", weights_only=True)
    call = meta["call"]

    with torch.inference_mode():
        x0_hat = engine.estimate(io["y0"])
        torch.testing.assert_close(x0_hat, io["x0_hat"], rtol=0, atol=atol)

        plan = schedule.official_plan(call["start_timesteps"])
        x = q_sample(x0_hat, float(engine.alphas_cumprod[plan.noise_timestep]), io["noise"])
        torch.testing.assert_close(x, io["x_N"], rtol=0, atol=atol)

        states = []
        final = sample_ddim(engine.predict_eps, x, plan, engine.alphas_cumprod, eta=call["eta"],
                            step_noise=lambda k, _: io["z"][k], callback=lambda s: states.append(s.x))
    assert list(plan.timesteps) == io["unet_timesteps"][:, 0].tolist()
    for j, state in enumerate(states):
        torch.testing.assert_close(state, io["x_steps"][j], rtol=0, atol=atol)
    torch.testing.assert_close(final, io["final"], rtol=0, atol=atol)
    torch.testing.assert_close(((final + 1) / 2).clamp(0, 1), io["sample"], rtol=0, atol=atol)


def test_official_mode_settings_select_the_official_schedule():
    plan = schedule.plan_for(SamplerSettings(fidelity=0.5, schedule="official"))
    assert (plan.noise_timestep, plan.timesteps[0], plan.steps) == (400, 396, 100)
