"""Preview grids of the prior work for any schedule length."""

import dataclasses

import torch

from faceapp.core.loading import build_network
from faceapp.training.config import load_config
from faceapp.training.tasks import PriorTask


def test_prior_preview_fits_a_short_schedule():
    torch.set_num_threads(1)
    cfg = load_config("prior_tiny")
    cfg = dataclasses.replace(cfg, diffusion=dataclasses.replace(cfg.diffusion, timesteps=20, focus_max_timestep=10))
    task = PriorTask(cfg, device=torch.device("cpu"))
    assert task.preview_timesteps == (2, 8, 14)
    model = build_network(cfg.model.arch, cfg.model.config).eval()
    size = cfg.model.config["image_size"]
    grid = task.preview(model, {"x0": torch.rand(2, 3, size, size) * 2 - 1})
    assert grid.shape == (2 * size, 7 * size, 3)  # clean + 3 × (noised, x̂0) per row
