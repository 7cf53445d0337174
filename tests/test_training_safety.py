"""A run folder survives what happens to real runs: a kill between the two files of a save, Ctrl-C and
SIGTERM, a full disk, a resume under another config, a warm start into a used folder, two trainers."""

from __future__ import annotations

import errno
import os
import shutil
import signal

import pytest
import torch

from faceapp.core.errors import FaceappError
from faceapp.training import checkpoint as ckpt
from faceapp.training import trainer
from faceapp.training.__main__ import main as training_main
from faceapp.training.config import ConfigError, load_config, parse_config
from faceapp.training.export import export_model
from faceapp.training.trainer import train


def quiet(_):
    pass


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load


def test_a_stale_ema_file_is_rewritten_on_resume_and_refused_by_export(dataset_dir, tmp_path):
    """A run whose EMA file is older than its checkpoint (a run saved before the EMA file came first in a
    save, killed between the two writes): export refuses it, saying to run train with --max-steps at the
    checkpoint's step, and that resume of the finished run rewrites it from the checkpoint."""
    cfg = load_config("restorer_tiny")
    run = tmp_path / "run"
    train(cfg, run_dir=run, data_root=dataset_dir, max_steps=2, log=quiet)
    older = tmp_path / "older.safetensors"
    shutil.copy(run / ckpt.PORTABLE_NAME, older)
    train(cfg, run_dir=run, data_root=dataset_dir, log=quiet)  # to max_steps 4
    shutil.copy(older, run / ckpt.PORTABLE_NAME)  # as if killed before the last EMA file was written
    prior = train(load_config("prior_tiny"), run_dir=tmp_path / "prior", data_root=dataset_dir, max_steps=1, log=quiet)

    with pytest.raises(ConfigError, match=r"holds the restorer's step 2 but .*last.pt step 4.*--max-steps 4`"):
        export_model(restorer_run=run, prior_run=prior.run_dir, out_dir=tmp_path / "m", name="stale")
    assert not (tmp_path / "m").exists()  # nothing written

    lines = []
    again = train(cfg, run_dir=run, data_root=dataset_dir, log=lines.append)
    assert (again.start_step, again.end_step) == (4, 4)
    assert any("was of step 2, the checkpoint is of step 4: rewrote it" in line for line in lines)
    weights, meta = ckpt.load_portable(run / ckpt.PORTABLE_NAME)
    assert meta["step"] == 4
    ema = torch.load(ckpt.checkpoint_path(run), weights_only=True)["ema"]["module"]
    assert all(torch.equal(weights[k], ema[k].half()) for k in ema)
    export_model(restorer_run=run, prior_run=prior.run_dir, out_dir=tmp_path / "m", name="fresh")


def _unhandled(signum, _frame):
    raise AssertionError(f"{signal.Signals(signum).name} reached the test: train() did not handle it")


@pytest.fixture
def signals_fail_the_test():
    """A stop signal that train() does not catch fails the test instead of ending pytest."""
    previous = {s: signal.signal(s, _unhandled) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _stop_at_first_step(monkeypatch, signum):
    """Send ``signum`` to this process during the first training step."""
    real, calls = trainer.train_step, []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signum)
        return real(*args, **kwargs)

    step.__wrapped__ = real
    monkeypatch.setattr(trainer, "train_step", step)


def _with_dropout():
    source = load_config("prior_tiny").source
    return parse_config(source.replace("dropout = 0.0", "dropout = 0.3"), where="prior_tiny_dropout.toml")


def test_sigterm_saves_the_step_and_the_resume_is_bit_exact(dataset_dir, tmp_path, monkeypatch, signals_fail_the_test):
    cfg = _with_dropout()  # dropout draws from the global RNG that the checkpoint must carry
    straight = train(cfg, run_dir=tmp_path / "straight", data_root=dataset_dir, log=quiet)
    _stop_at_first_step(monkeypatch, signal.SIGTERM)
    stopped = train(cfg, run_dir=tmp_path / "split", data_root=dataset_dir, log=quiet)
    monkeypatch.setattr(trainer, "train_step", trainer.train_step.__wrapped__)
    assert stopped.stopped_by == "SIGTERM" and stopped.end_step == 1  # 1 is not a checkpoint step of the config
    assert ckpt.checkpoint_step(ckpt.checkpoint_path(tmp_path / "split")) == 1
    torch.manual_seed(12345)  # a resumed process starts from unrelated global RNG state
    resumed = train(cfg, run_dir=tmp_path / "split", data_root=dataset_dir, log=quiet)
    assert resumed.start_step == 1 and stopped.losses + resumed.losses == straight.losses
    a = torch.load(tmp_path / "straight/checkpoints/last.pt", weights_only=True)["ema"]["module"]
    b = torch.load(tmp_path / "split/checkpoints/last.pt", weights_only=True)["ema"]["module"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert signal.getsignal(signal.SIGTERM) is _unhandled  # the handlers are put back


def test_ctrl_c_in_train_saves_and_says_how_to_resume(dataset_dir, tmp_path, monkeypatch, capsys,
                                                    signals_fail_the_test):
    _stop_at_first_step(monkeypatch, signal.SIGINT)
    run = tmp_path / "run"
    code = training_main(["train", "restorer_tiny", "--run-dir", str(run), "--data", str(dataset_dir)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130
    assert err == [f"Stopped by SIGINT: step 1 saved in {ckpt.checkpoint_path(run)}; run the same command to resume."]
    assert ckpt.checkpoint_step(ckpt.checkpoint_path(run)) == 1
    assert ckpt.portable_metadata(run / "ema.safetensors")["step"] == 1


def test_a_stop_during_a_checkpoints_validation_trains_no_further_step(dataset_dir, tmp_path, monkeypatch,
                                                                     signals_fail_the_test):
    """A signal that arrives while step 2's checkpoint is validated and saved ends the run there: it
    had trained step 3 and saved again (a minute more of a real run, and a second save to wait for)."""
    real_save, saves = trainer._save, []

    def save(*args, **kwargs):
        saves.append(args[5])  # the step saved
        if len(saves) == 1:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(trainer, "_save", save)
    said = []
    stopped = train(load_config("restorer_tiny"), run_dir=tmp_path / "run", data_root=dataset_dir, log=said.append)
    assert (stopped.end_step, stopped.stopped_by, saves) == (2, "SIGTERM", [2])
    assert ckpt.checkpoint_step(ckpt.checkpoint_path(tmp_path / "run")) == 2
    assert any(line.startswith("SIGTERM received") and "step 2" in line for line in said)


def test_a_refused_run_leaves_no_new_run_folder_behind(tmp_path):
    """A run refused before its first step (here: no dataset where --data says) leaves no empty run
    folder holding only its lock file (QA: the folder looked like a run to resume); a folder that
    existed stays."""
    for run in (tmp_path / "runs" / "new", tmp_path / "existing"):
        if run.name == "existing":
            run.mkdir()
        with pytest.raises(FaceappError):
            train(load_config("restorer_tiny"), run_dir=run, data_root=tmp_path / "no-such-data", log=quiet)
        assert run.exists() == (run.name == "existing")
        if run.exists():
            assert not any(run.iterdir())
    assert not (tmp_path / "runs").exists()  # the new folder above the run's went too


@pytest.mark.parametrize("failure", ["torch", "os", "safetensors"])
def test_a_full_disk_leaves_no_temporary_file_and_says_so(dataset_dir, tmp_path, monkeypatch, capsys, failure):
    """The checkpoint (torch: "unexpected pos", or an OSError) or the EMA file written before it
    (safetensors: "os error 28"; review: a traceback) fails on a full disk: one line, no leftovers."""
    from safetensors import SafetensorError

    real_save = torch.save

    def full_disk_save(obj, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"\0" * 4096)  # part of the file, then the disk is full
        if failure == "os":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if failure == "safetensors":
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4096 vs 4032")

    monkeypatch.setattr(*((ckpt, "save_file") if failure == "safetensors" else (torch, "save")), full_disk_save)
    free = 1 << 29 if failure == "safetensors" else 0  # (its own message names the full disk)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(1 << 30, 1 << 30, free))
    run = tmp_path / "run"
    written, folder = ("ema.safetensors", run) if failure == "safetensors" else ("last.pt", run / "checkpoints")
    code = training_main(["train", "restorer_tiny", "--run-dir", str(run), "--data", str(dataset_dir),
                          "--max-steps", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"error: cannot write {written} in {folder}:")
    assert "No space left on device" in err[0]
    assert not (folder / f"{written}.tmp").exists() and not (folder / written).exists()
    monkeypatch.setattr(torch, "save", real_save)


def test_resuming_with_another_network_names_the_options(dataset_dir, tmp_path, capsys):
    cfg = load_config("restorer_conv_tiny")
    train(cfg, run_dir=tmp_path / "run", data_root=dataset_dir, max_steps=2, log=quiet)
    wider = parse_config(cfg.source.replace("channels = [16, 32]", "channels = [16, 48]"), where="wider.toml")
    with pytest.raises(ConfigError, match=r"another network than tiny-conv-restorer \(model.config.channels is "
                                          r"\[16, 32\] in the run, \[16, 48\] in tiny-conv-restorer\)"):
        train(wider, run_dir=tmp_path / "run", data_root=dataset_dir, log=quiet)
    with pytest.raises(ConfigError, match=r"model.arch is 'conv_restorer' in the run, 'swinir' in tiny-restorer\):"):
        train(load_config("restorer_tiny"), run_dir=tmp_path / "run", data_root=dataset_dir, log=quiet)  # (that alone)
    from faceapp.training.__main__ import main as training_main

    code = training_main(["train", "restorer_tiny", "--run-dir", str(tmp_path / "run"), "--data", str(dataset_dir)])
    err = capsys.readouterr().err  # the same command cannot go on: not told it would (ML QA)
    assert code == 1 and "resume with the config the run was trained with." in err and "keeps its last checkpoint" not in err
    assert (tmp_path / "run" / "config.toml").read_text() == cfg.source  # the run's record is kept


def test_resuming_with_other_hyperparameters_notes_them_and_keeps_the_old_config(dataset_dir, tmp_path):
    cfg = load_config("restorer_tiny")
    train(cfg, run_dir=tmp_path / "run", data_root=dataset_dir, max_steps=2, log=quiet)
    slower = parse_config(cfg.source.replace("lr = 1e-3", "lr = 5e-4"), where="tiny-restorer.toml")
    lines = []
    result = train(slower, run_dir=tmp_path / "run", data_root=dataset_dir, log=lines.append)
    assert result.end_step == 4
    note = next(line for line in lines if line.startswith("note:"))
    assert "train.lr 0.001 → 0.0005" in note and "config.2.toml" in note
    assert (tmp_path / "run" / "config.2.toml").read_text() == cfg.source
    assert (tmp_path / "run" / "config.toml").read_text() == slower.source


def test_the_same_warm_start_command_run_again_resumes_and_says_the_file_is_not_used(dataset_dir, tmp_path):
    """A warm-started run stopped by --minutes or a signal resumes when its command is run again
    (review: it was refused, though the stop said "run the same command to resume"); that the file
    is not used is said, not silent (QA)."""
    first = train(load_config("restorer_tiny"), run_dir=tmp_path / "a", data_root=dataset_dir, max_steps=2, log=quiet)
    train(load_config("restorer_tiny"), run_dir=tmp_path / "r", data_root=dataset_dir, warm_start=first.portable,
          max_steps=3, log=quiet)
    said = []
    again = train(load_config("restorer_tiny"), run_dir=tmp_path / "r", data_root=dataset_dir,
                  warm_start=first.portable, max_steps=4, log=said.append)
    assert (again.start_step, again.end_step) == (3, 4)
    assert any("holds a checkpoint at step 3, which this resumes; --warm-start" in line for line in said)


def test_a_warm_start_of_the_same_kind_names_the_differing_option_and_the_configs_that_fit(tmp_path):
    """The shipped restorer has blocks [4, 4, 8]; restorer_cpu has [2, 2, 4] (fewer blocks drop what it learned)."""
    shipped = ckpt.run_weights_path("models/faceapp-compact-restorer.safetensors")
    with pytest.raises(ConfigError) as caught:
        train(load_config("restorer_cpu"), run_dir=tmp_path / "r", device="cpu", warm_start=shipped, log=quiet)
    message = str(caught.value)
    assert "blocks is [4, 4, 8] in the file, [2, 2, 4] in cpu-restorer" in message
    assert "restorer_cpu_deep" in message and "restorer_gpu_deep" in message and "restorer_cpu," not in message


def test_a_second_trainer_on_one_run_folder_is_refused(dataset_dir, tmp_path):
    fcntl = pytest.importorskip("fcntl")
    run = tmp_path / "run"
    run.mkdir()
    with open(run / "train.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another trainer's lock
        with pytest.raises(FaceappError, match=r"another trainer .*is using .*: wait for it to finish"):
            train(load_config("restorer_tiny"), run_dir=run, data_root=dataset_dir, max_steps=1, log=quiet)
    assert train(load_config("restorer_tiny"), run_dir=run, data_root=dataset_dir, max_steps=1, log=quiet).end_step == 1


def test_a_file_system_without_locks_trains_unlocked_with_a_note(dataset_dir, tmp_path, monkeypatch):
    """Review: on Lustre without flock or some NFS, flock fails with ENOSYS/ENOLCK; every run had
    been refused as "another trainer is using" it."""
    import errno

    fcntl = pytest.importorskip("fcntl")

    def no_locks(*_args):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    said = []
    result = train(load_config("restorer_tiny"), run_dir=tmp_path / "run", data_root=dataset_dir, max_steps=1,
                   log=said.append)
    assert result.end_step == 1 and any("training without a lock" in line for line in said)
