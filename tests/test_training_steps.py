"""A few training steps of each network on a handful of faces give finite, logged losses."""

from __future__ import annotations

import math

import pytest
import torch

from faceapp.training.config import load_config
from faceapp.training.csvlog import read_log
from faceapp.training.trainer import train


@pytest.mark.parametrize("config", ["restorer_tiny", "prior_tiny"])
def test_few_steps_give_finite_losses_and_artefacts(config, dataset_dir, tmp_path):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    result = train(load_config(config), run_dir=tmp_path, data_root=dataset_dir, log=lambda _: None)

    assert result.end_step == 4 and len(result.losses) == 4
    assert all(math.isfinite(v) and v > 0 for v in result.losses)
    assert [row["step"] for row in read_log(tmp_path / "losses.csv")] == [1, 2, 3, 4]
    assert (tmp_path / "checkpoints" / "last.pt").is_file()
    assert (tmp_path / "ema.safetensors").is_file()
    assert list((tmp_path / "samples").glob("*.png"))


def test_time_limit_stops_early_and_checkpoints(dataset_dir, tmp_path):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    result = train(load_config("prior_tiny"), run_dir=tmp_path, data_root=dataset_dir, time_limit_s=0.0,
                   log=lambda _: None)
    assert result.end_step == 1
    assert torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)["step"] == 1


def test_a_diverging_run_stops_with_a_clear_error(dataset_dir, tmp_path):
    import dataclasses

    from faceapp.training.trainer import TrainingDivergedError

    torch.set_num_threads(1)
    cfg = load_config("restorer_tiny")
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, lr=1e30))  # the first update blows the weights up
    with pytest.raises(TrainingDivergedError, match="lr"):
        train(cfg, run_dir=tmp_path, data_root=dataset_dir, log=lambda _: None)
    assert not (tmp_path / "checkpoints" / "last.pt").exists()
