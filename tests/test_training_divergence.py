"""A diverging run stops with a clear error and leaves the checkpoint of a finite step on disk."""

from __future__ import annotations

import pytest
import torch

from faceapp.training import checkpoint as ckpt
from faceapp.training.config import load_config, parse_config
from faceapp.training.trainer import TrainingDivergedError, train


def test_no_checkpoint_is_saved_after_the_loss_turns_nan(dataset_dir, tmp_path):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    source = load_config("restorer_tiny").source
    for old, new in (("lr = 1e-3", "lr = 1e30"), ("log_every = 1", "log_every = 5"),
                     ("checkpoint_every = 2", "checkpoint_every = 1"), ("max_steps = 4", "max_steps = 5")):
        assert old in source
        source = source.replace(old, new)  # checkpoints between logging steps; an absurd lr diverges
    with pytest.raises(TrainingDivergedError, match="earlier step is kept"):
        train(parse_config(source), run_dir=tmp_path, data_root=dataset_dir, log=lambda _: None)
    state = ckpt.load_checkpoint(ckpt.checkpoint_path(tmp_path))
    assert state["step"] >= 1
    for weights in (state["model"], state["ema"]["module"]):
        assert all(bool(torch.isfinite(v).all()) for v in weights.values() if v.is_floating_point())
