"""Resuming from a checkpoint continues bit-exactly, and a warm start continues the step count."""

from __future__ import annotations

import pytest
import torch

from faceapp.core.loading import build_network
from faceapp.training import checkpoint as ckpt
from faceapp.training.config import ConfigError, load_config, parse_config
from faceapp.training.csvlog import read_log
from faceapp.training.trainer import train


def quiet(_):
    pass


def tiny_with_dropout():
    """prior_tiny with dropout on: its steps draw from the global torch RNG."""
    source = load_config("prior_tiny").source
    assert "dropout = 0.0" in source
    return parse_config(source.replace("dropout = 0.0", "dropout = 0.3"), where="prior_tiny_dropout.toml")


@pytest.mark.parametrize("config", ["prior_tiny", "restorer_tiny", "prior_tiny_dropout"])
def test_resumed_run_repeats_the_uninterrupted_loss_sequence(config, dataset_dir, tmp_path):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    cfg = tiny_with_dropout() if config == "prior_tiny_dropout" else load_config(config)
    straight = train(cfg, run_dir=tmp_path / "straight", data_root=dataset_dir, log=quiet)

    first = train(cfg, run_dir=tmp_path / "split", data_root=dataset_dir, max_steps=2, log=quiet)
    torch.manual_seed(12345)  # a resumed process starts from unrelated global RNG state
    second = train(cfg, run_dir=tmp_path / "split", data_root=dataset_dir, log=quiet)

    assert second.start_step == 2
    assert first.losses + second.losses == straight.losses  # bit-exact, not approximately
    assert [r["loss"] for r in read_log(tmp_path / "split" / "losses.csv")] == straight.losses
    a = torch.load(tmp_path / "straight/checkpoints/last.pt", weights_only=True)["ema"]["module"]
    b = torch.load(tmp_path / "split/checkpoints/last.pt", weights_only=True)["ema"]["module"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_warm_start_continues_from_portable_weights(dataset_dir, tmp_path):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    cfg = load_config("prior_tiny")
    first = train(cfg, run_dir=tmp_path / "a", data_root=dataset_dir, max_steps=2, log=quiet)
    second = train(cfg, run_dir=tmp_path / "b", data_root=dataset_dir, warm_start=first.portable, log=quiet)
    assert (second.start_step, second.end_step) == (2, 4)
    assert ckpt.load_portable(second.portable)[1]["ema_updates"] == 4  # the EMA continues too


def test_warm_start_refuses_another_network(dataset_dir, tmp_path):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    prior = train(load_config("prior_tiny"), run_dir=tmp_path / "p", data_root=dataset_dir, max_steps=1, log=quiet)
    with pytest.raises(ConfigError, match="different network"):
        train(load_config("restorer_tiny"), run_dir=tmp_path / "r", data_root=dataset_dir, warm_start=prior.portable,
              log=quiet)


def test_learning_rate_steps_down_at_its_milestones_across_a_resume(dataset_dir, tmp_path):
    """[train] lr_milestones: from step 3 on the rate is lr × lr_gamma; a run stopped at step 2 and
    resumed under the same config follows the same schedule (it is a function of the step)."""
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    source = load_config("restorer_tiny").source.replace("warmup_steps = 2", "warmup_steps = 1\nlr_milestones = [3]\n"
                                                          "lr_gamma = 0.25")
    cfg = parse_config(source, where="restorer_tiny_decay.toml")
    train(cfg, run_dir=tmp_path / "r", data_root=dataset_dir, max_steps=2, log=quiet)
    train(cfg, run_dir=tmp_path / "r", data_root=dataset_dir, log=quiet)
    rates = [row["lr"] for row in read_log(tmp_path / "r" / "losses.csv")]
    assert rates == pytest.approx([1e-3, 1e-3, 1e-3, 2.5e-4])  # steps 1–3 run at indices 0–2, step 4 at 3


def _without_tail(cfg):
    assert "tail_channels = " in cfg.source
    source = "\n".join(line for line in cfg.source.splitlines() if not line.startswith("tail_channels"))
    return parse_config(source, where="no_tail.toml")


def _grow(plain_cfg, grown_cfg, growth, dataset_dir, tmp_path):
    """Train ``plain_cfg`` 2 steps, warm-start ``grown_cfg`` from it (logging ``growth``) without
    training; returns both runs and both networks loaded from their exported weights."""

    first = train(plain_cfg, run_dir=tmp_path / "a", data_root=dataset_dir, max_steps=2, log=quiet)
    lines = []
    second = train(grown_cfg, run_dir=tmp_path / "b", data_root=dataset_dir, warm_start=first.portable, max_steps=2,
                   log=lines.append)
    assert second.start_step == 2 and any(f"grows the network ({growth})" in line for line in lines)
    networks = []
    for cfg, run in ((plain_cfg, first), (grown_cfg, second)):
        networks.append(build_network(cfg.model.arch, cfg.model.config))
        networks[-1].load_state_dict(ckpt.load_portable(run.portable)[0])  # the grown one saved at once: untrained
    return first, second, *networks


def test_warm_start_grows_a_network_by_a_new_option_keeping_what_it_learned(dataset_dir, tmp_path):
    """A prior trained without the full-resolution tail warm-starts the same prior with one: its
    learned weights carry over, the tail starts silent, so the grown network predicts as before."""
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    grown_cfg = load_config("prior_unshuffle_tiny")
    plain_cfg = _without_tail(grown_cfg)
    first, second, plain, grown = _grow(plain_cfg, grown_cfg, "tail_channels = 8", dataset_dir, tmp_path)
    x, t = torch.randn(2, 3, 32, 32), torch.tensor([30, 600])
    with torch.no_grad():
        assert torch.equal(grown.eval()(x, t), plain.eval()(x, t))
    # its EMA starts again (the new layers have no history), where a plain warm start's continues
    third = train(grown_cfg, run_dir=tmp_path / "b", data_root=dataset_dir, max_steps=3, log=quiet)
    assert ckpt.load_portable(third.portable)[1]["ema_updates"] == 1
    assert ckpt.load_portable(first.portable)[1]["ema_updates"] == 2
    # and the other way round is another network: a tail cannot be dropped silently
    with pytest.raises(ConfigError, match="different network"):
        train(plain_cfg, run_dir=tmp_path / "c", data_root=dataset_dir, warm_start=second.portable, log=quiet)


def _with_blocks(cfg, blocks):
    assert "blocks = [1, 1]" in cfg.source
    return parse_config(cfg.source.replace("blocks = [1, 1]", f"blocks = {blocks}"), where="blocks.toml")


def test_warm_start_deepens_the_conv_restorer_keeping_what_it_learned(dataset_dir, tmp_path):
    """The conv restorer warm-starts with more residual blocks per level: the file's blocks carry
    over, the new ones start as the identity, so the deeper restorer restores exactly as before;
    fewer blocks or other widths are another network."""
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    plain_cfg = load_config("restorer_conv_tiny")
    deep_cfg = _with_blocks(plain_cfg, "[2, 3]")
    first, second, plain, deep = _grow(plain_cfg, deep_cfg, "blocks = [2, 3]", dataset_dir, tmp_path)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(deep.eval()(x), plain.eval()(x))
        assert not torch.equal(deep(x), x)  # the stored blocks did carry over: the restorer is not blank
    third = train(deep_cfg, run_dir=tmp_path / "b", data_root=dataset_dir, max_steps=3, log=quiet)
    assert ckpt.load_portable(third.portable)[1]["ema_updates"] == 1  # new blocks: the EMA starts again

    for other in ("[2, 0]", "[0, 1]"):
        with pytest.raises(ConfigError, match="different network"):
            train(_with_blocks(plain_cfg, other), run_dir=tmp_path / other, data_root=dataset_dir,
                  warm_start=first.portable, log=quiet)
    with pytest.raises(ConfigError, match="different network"):  # a shallower network drops what it learned
        train(plain_cfg, run_dir=tmp_path / "c", data_root=dataset_dir, warm_start=second.portable, log=quiet)
    wider = parse_config(deep_cfg.source.replace("channels = [16, 32]", "channels = [16, 48]"), where="w.toml")
    with pytest.raises(ConfigError, match="different network"):
        train(wider, run_dir=tmp_path / "d", data_root=dataset_dir, warm_start=first.portable, log=quiet)


def test_a_log_widens_when_a_resumed_run_logs_a_new_figure(tmp_path):
    from faceapp.training.csvlog import CsvLog, read_log

    log = CsvLog(tmp_path / "validation.csv", resume_step=0)
    log.write(1, {"val": 1.0, "train_hours": 0.5})
    log = CsvLog(tmp_path / "validation.csv", resume_step=1)  # resumed by a newer trainer
    log.write(2, {"val": 0.5, "cpu_hours": 0.7})
    assert read_log(tmp_path / "validation.csv") == [{"step": 1, "val": 1.0, "train_hours": 0.5},
                                                      {"step": 2, "val": 0.5, "cpu_hours": 0.7}]


def test_samples_seen_are_counted_across_a_warm_start_that_changes_the_batch(dataset_dir, tmp_path):
    """The GPU call warm-starts the CPU restorer (16 faces a step) with 32 a step: the samples a
    network has seen (model card, validation.csv, the exported file) are counted, not step × batch."""
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    cfg = load_config("restorer_tiny")
    batch = cfg.train.batch_size
    doubled = parse_config(cfg.source.replace(f"batch_size = {batch}", f"batch_size = {2 * batch}"),
                           where="restorer_tiny_doubled.toml")
    first = train(cfg, run_dir=tmp_path / "a", data_root=dataset_dir, max_steps=2, log=quiet)
    assert ckpt.load_portable(first.portable)[1]["samples_seen"] == 2 * batch
    train(doubled, run_dir=tmp_path / "b", data_root=dataset_dir, warm_start=first.portable, max_steps=3, log=quiet)
    second = train(doubled, run_dir=tmp_path / "b", data_root=dataset_dir, max_steps=4, log=quiet)  # a resume
    expected = 2 * batch + 2 * (2 * batch)
    assert ckpt.load_portable(second.portable)[1]["samples_seen"] == expected
    assert read_log(tmp_path / "b" / "validation.csv")[-1]["samples_seen"] == expected


def test_workers_degrade_faces_after_this_process_used_opencvs_threads(dataset_dir, tmp_path):
    """A run with DataLoader workers, started in a process whose OpenCV thread pool is already
    running (as the trainer's own validation faces start it), trains; and OpenCV keeps to one
    thread so that N workers do not start N threads each. Run in a child process: a worker stuck on
    OpenCV's pool would hang, so it is given a time limit."""
    import subprocess
    import sys

    script = f"""
import cv2, numpy as np, torch
torch.set_num_threads(1)
cv2.setNumThreads(2)
for _ in range(4):
    cv2.GaussianBlur(np.zeros((512, 512, 3), np.uint8), (41, 41), 5)  # the pool is running
from faceapp.training.config import load_config, parse_config
from faceapp.training.trainer import train
cfg = load_config("restorer_tiny")
cfg = parse_config(cfg.source.replace("[data]", "[data]\\nnum_workers = 2", 1), where="workers.toml")
assert cfg.data.num_workers == 2
result = train(cfg, run_dir={str(tmp_path / "run")!r}, data_root={str(dataset_dir)!r}, max_steps=3, log=lambda l: None)
print("steps", result.end_step, "opencv threads", cv2.getNumThreads())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "steps 3 opencv threads 1" in done.stdout
