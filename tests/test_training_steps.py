"""A few training steps of each network on a handful of faces give finite, logged losses."""

from __future__ import annotations

import math

import pytest
import torch

from faceapp.training.config import load_config, parse_config
from faceapp.training.csvlog import read_log
from faceapp.training.trainer import train


@pytest.mark.parametrize("config", ["restorer_tiny", "prior_tiny", "restorer_conv_tiny", "prior_unshuffle_tiny"])
def test_few_steps_give_finite_losses_and_artefacts(config, dataset_dir, tmp_path):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    result = train(load_config(config), run_dir=tmp_path, data_root=dataset_dir, log=lambda _: None)

    assert result.end_step == 4 and len(result.losses) == 4
    assert all(math.isfinite(v) and v > 0 for v in result.losses)
    assert [row["step"] for row in read_log(tmp_path / "losses.csv")] == [1, 2, 3, 4]
    assert (tmp_path / "checkpoints" / "last.pt").is_file()
    assert (tmp_path / "ema.safetensors").is_file()
    assert list((tmp_path / "samples").glob("*.png"))
    validation = read_log(tmp_path / "validation.csv")  # one row per checkpoint (every 2 steps)
    assert [row["step"] for row in validation] == [2, 4]
    figure = "val_psnr" if config.startswith("restorer") else "val_mse"
    assert all(math.isfinite(row[figure]) and row[figure] > 0 for row in validation)
    assert [row["samples_seen"] for row in validation] == [4, 8]


@pytest.mark.parametrize("loss", ["l1", "mse"])
def test_the_restorer_minimises_the_pixel_loss_its_config_names(loss, dataset_dir):
    """[train] restorer_loss: the step's loss is that figure of the output's error (both are logged),
    and it is what the gradient follows: a restorer that only adds a constant learns the constant
    that minimises it (the median error for L1, the mean for MSE)."""
    from faceapp.training.tasks import make_task
    from faceapp.training.trainer import autocast_factory

    source = load_config("restorer_conv_tiny").source.replace("[train]\n", f'[train]\nrestorer_loss = "{loss}"\n')
    task = make_task(parse_config(source, where="loss.toml"), device=torch.device("cpu"))
    hq = torch.tensor([0.0, 0.0, 0.0, 0.9]).reshape(1, 1, 2, 2).expand(1, 3, 2, 2)
    shift = torch.zeros((), requires_grad=True)
    optimiser = torch.optim.SGD([shift], lr=0.05)
    for _ in range(400):
        value, figures = task.loss(lambda lq: lq + shift, {"lq": torch.zeros_like(hq), "hq": hq},
                                   generator=torch.Generator(), autocast=autocast_factory(torch.device("cpu"), False))
        assert float(value.detach()) == float(figures[loss]) and set(figures) == {"l1", "mse"}
        optimiser.zero_grad()
        value.backward()
        optimiser.step()
    assert float(shift.detach()) == pytest.approx({"l1": 0.0, "mse": 0.225}[loss], abs=0.06)


def test_validation_figures_are_of_the_ema_weights_on_fixed_faces(dataset_dir, tmp_path):
    """The same weights score the same on the validation batch at every checkpoint and resume,
    and better weights score better: an identity restorer beats a restorer that outputs grey."""
    from faceapp.training.tasks import make_task
    from faceapp.training.trainer import VALIDATION_STREAM, _fixed_batch, autocast_factory

    cfg = load_config("restorer_conv_tiny")
    task = make_task(cfg, device=torch.device("cpu"))
    batch = _fixed_batch(dataset_dir, task, cfg, count=4, stream=VALIDATION_STREAM)
    again = _fixed_batch(dataset_dir, task, cfg, count=4, stream=VALIDATION_STREAM)
    assert all(torch.equal(batch[k], again[k]) for k in batch)
    autocast = autocast_factory(torch.device("cpu"), False)
    identity = task.validate(lambda x: x, batch, autocast=autocast)
    grey = task.validate(lambda x: torch.full_like(x, 0.5), batch, autocast=autocast)
    assert float(identity["val_psnr"]) > float(grey["val_psnr"]) + 3


@pytest.mark.parametrize(("flag", "bf16_config", "expected"), [("1", True, torch.bfloat16), ("0", True, None),
                                                               ("1", False, None)])
def test_cpu_training_uses_bf16_only_where_the_processor_runs_it(monkeypatch, flag, bf16_config, expected):
    """bf16 autocast on a CPU with bf16 matrix instructions; fp32 elsewhere or when the config says
    bf16 = false (FACEAPP_CPU_BF16 forces the detected capability)."""
    from faceapp.training.trainer import autocast_factory

    monkeypatch.setenv("FACEAPP_CPU_BF16", flag)
    with autocast_factory(torch.device("cpu"), bf16_config)():
        y = torch.nn.functional.linear(torch.randn(2, 4), torch.randn(3, 4))
    assert y.dtype == (expected or torch.float32)


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


@pytest.mark.parametrize("config, option", [("restorer_conv_tiny", "compile"), ("prior_unshuffle_tiny", "compile_loss")])
def test_a_compiled_training_step_learns_like_the_plain_one(config, option, dataset_dir, tmp_path):
    """[train] compile = true runs the network through torch.compile, compile_loss = true the
    prior's hybrid loss: the same losses (to float tolerance) and plain, loadable weights in the
    checkpoint."""
    import dataclasses

    torch.set_num_threads(1)
    cfg = load_config(config)
    compiled_cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, **{option: True}))
    from torch._dynamo.utils import counters

    plain = train(cfg, run_dir=tmp_path / "plain", data_root=dataset_dir, max_steps=2, log=lambda _: None)
    counters.clear()
    compiled = train(compiled_cfg, run_dir=tmp_path / "compiled", data_root=dataset_dir, max_steps=2,
                     log=lambda _: None)
    assert counters["stats"]["unique_graphs"] >= 1  # the step really went through torch.compile
    assert compiled.losses == pytest.approx(plain.losses, rel=1e-3)
    state = torch.load(tmp_path / "compiled" / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert not any(k.startswith("_orig_mod.") for k in state)
