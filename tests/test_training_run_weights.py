"""A training run's weights load strictly for evaluation: a wrong or damaged file is an error, not
random weights scored as a model."""

from __future__ import annotations

import pytest
import torch

from faceapp.core.errors import ArchitectureMismatchError, CorruptModelError
from faceapp.core.loading import build_network
from faceapp.training.checkpoint import PORTABLE_NAME, save_portable
from faceapp.training.config import ConfigError, load_config
from faceapp.training.evaluate import engine_from_runs
from faceapp.training.evaluate import main as evaluate_main


def write_run(run_dir, config: str, *, drop_key: bool = False):
    """A run folder holding the portable EMA file of a freshly built ``config`` network."""
    cfg = load_config(config)
    state = build_network(cfg.model.arch, cfg.model.config).state_dict()
    if drop_key:  # a file that does not fit the network its metadata names
        state.pop(next(k for k, v in state.items() if v.is_floating_point() and v.dim() > 1))
    path = run_dir / PORTABLE_NAME
    save_portable(path, state_dict=state, metadata={
        "kind": cfg.kind, "name": cfg.name, "arch": cfg.model.arch, "model_config": cfg.model.config,
        "step": 1, "ema_updates": 1, "config": cfg.source})
    return run_dir


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load


def test_runs_that_fit_make_an_engine_of_both_runs(tmp_path):
    from safetensors.torch import load_file

    from faceapp.core.settings import SamplerSettings

    runs = {"restorer": write_run(tmp_path / "r", "restorer_tiny"), "prior": write_run(tmp_path / "p", "prior_tiny")}
    engine = engine_from_runs(runs["restorer"], runs["prior"], device="cpu")
    assert engine.prior is not None and engine.plans(SamplerSettings())  # it samples with the prior
    for kind, net in (("restorer", engine.restorer), ("prior", engine.prior)):
        saved, loaded = load_file(str(runs[kind] / PORTABLE_NAME)), net.state_dict()
        assert saved.keys() == loaded.keys()
        assert all(torch.equal(saved[k].to(loaded[k].dtype), loaded[k]) for k in saved), kind


def test_weights_that_do_not_fit_the_network_are_refused(tmp_path):
    restorer = write_run(tmp_path / "r", "restorer_tiny", drop_key=True)
    with pytest.raises(ArchitectureMismatchError, match="missing") as info:
        engine_from_runs(restorer, write_run(tmp_path / "p", "prior_tiny"), device="cpu")
    assert str(restorer / PORTABLE_NAME) in str(info.value)


def test_a_prior_given_as_the_restorer_is_refused(tmp_path):
    prior = write_run(tmp_path / "p", "prior_tiny")
    with pytest.raises(ConfigError, match="holds a prior network, not a restorer"):
        engine_from_runs(prior, prior, device="cpu")


def test_a_truncated_file_is_refused(tmp_path):
    prior = write_run(tmp_path / "p", "prior_tiny")
    path = write_run(tmp_path / "r", "restorer_tiny") / PORTABLE_NAME
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptModelError):
        engine_from_runs(path, prior, device="cpu")


def test_the_command_line_reports_a_mismatch_and_fails(tmp_path, capsys):
    restorer = write_run(tmp_path / "r", "restorer_tiny", drop_key=True)
    prior = write_run(tmp_path / "p", "prior_tiny")
    args = ["--restorer-run", str(restorer), "--prior-run", str(prior), "--device", "cpu", "--limit", "1",
            "--data", str(tmp_path / "no_data")]  # loading must fail before the data is read
    assert evaluate_main(args) == 1
    assert "do not fit" in capsys.readouterr().err


def test_evaluation_without_dlib_scores_everything_else(tmp_path, capsys, monkeypatch, dataset_dir):
    """Without the [eval] extra the identity column says n/a; every other figure is still printed,
    for each precision asked for."""
    import faceapp.training.evaluate as evaluate
    from faceapp.training.identity import IdentityUnavailableError

    def unavailable():
        raise IdentityUnavailableError("identity similarity needs the [eval] extra")

    monkeypatch.setattr(evaluate, "IdentityEmbedder", unavailable)
    restorer = write_run(tmp_path / "r", "restorer_conv_tiny")
    prior = write_run(tmp_path / "p", "prior_unshuffle_tiny")
    args = ["--restorer-run", str(restorer), "--prior-run", str(prior), "--device", "cpu", "--limit", "1",
            "--data", str(dataset_dir), "--steps", "1", "--fidelity", "0.5", "--precision", "fp32", "bf16",
            "--grid", str(tmp_path / "grid.png")]
    assert evaluate_main(args) == 0
    captured = capsys.readouterr()
    assert "no identity distance" in captured.err
    assert all(f"training runs in {p}, no restorer tones:" in captured.out for p in ("fp32", "bf16"))
    rows = [line for line in captured.out.splitlines() if line.startswith("| fidelity 0.5, 1 step")]
    assert len(rows) == 2 and all("n/a" in row for row in rows)  # a row per precision


def test_a_runs_weight_file_is_readable_as_its_other_files_are(tmp_path):
    """QA: ema.safetensors came out owner-only (0600) beside the run's 0644 files: another account
    evaluating or exporting the run could not read it."""
    import os

    path = write_run(tmp_path, "restorer_tiny") / PORTABLE_NAME
    (tmp_path / "losses.csv").write_text("step\n")  # a file the run writes as files are usually made
    assert os.stat(path).st_mode & 0o777 == os.stat(tmp_path / "losses.csv").st_mode & 0o777
