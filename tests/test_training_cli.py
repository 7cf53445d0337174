"""The command line end to end: train both networks, export, evaluate through the registry."""

from __future__ import annotations

import pytest
import torch

from faceapp import paths
from faceapp.core.engine import load_engine
from faceapp.core.manifest import FidelityRange
from faceapp.core.sparing import SharpFaceSparing
from faceapp.training.__main__ import main as training_main
from faceapp.training.evaluate import main as evaluate_main


def test_train_export_evaluate(dataset_dir, tmp_path, capsys):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    for name in ("restorer_tiny", "prior_tiny"):
        args = ["train", name, "--run-dir", str(tmp_path / name), "--data", str(dataset_dir), "--max-steps", "2"]
        assert training_main(args) == 0
    models = paths.user_manifests_dir()  # FACEAPP_HOME is a temporary folder in tests
    runs = ["--restorer-run", str(tmp_path / "restorer_tiny"), "--prior-run", str(tmp_path / "prior_tiny"),
            "--out", str(models)]
    assert training_main(["export", *runs, "--name", "cli-compact", "--sharp-faces", "2", "4",
                          "--works-down-to", "0.4", "skin turns blotchy", "--restorer-tones", "2.5"]) == 0
    assert training_main(["export", *runs, "--name", "cli-no-ramp", "--not-default"]) == 0
    capsys.readouterr()
    for sigma in ("0", "65", "nan"):  # none of them a blur the manifest allows: refused, nothing written
        assert training_main(["export", *runs, "--name", "cli-flat", "--restorer-tones", sigma]) == 1
        assert "above 0 and at most 64" in capsys.readouterr().err and not (models / "cli-flat.toml").exists()

    grid = tmp_path / "grid.png"
    assert evaluate_main(["--model", "cli-compact", "--data", str(dataset_dir), "--limit", "2", "--steps", "1",
                          "--fidelity", "0.5", "--grid", str(grid), "--device", "cpu", "--refine", "2", "--spared"]) == 0
    out = capsys.readouterr().out
    engine = load_engine("cli-compact", device="cpu")  # the refined rows start from the model's defaults
    assert engine.sharp_faces == SharpFaceSparing(2.0, 4.0)  # the exported ramp reaches the engine
    assert engine.fidelity_range == FidelityRange(0.4, "skin turns blotchy")  # and so does the range
    assert engine.restorer_tones == 2.5 and load_engine("cli-no-ramp", device="cpu").restorer_tones is None
    assert "restorer tones σ 2.5: 2 test faces" in out  # the evaluation says how it sampled
    defaults = f"{engine.default_fidelity:g}, {engine.default_steps} steps"
    for label in ("bicubic", "restorer only", "fidelity 0.5, 1 step", f"{defaults}, refined ×1", f"{defaults}, refined ×2",
                  f"{defaults}, sparing"):
        assert f"| {label}" in out
    assert evaluate_main(["--model", "cli-compact", "--data", str(dataset_dir), "--limit", "2", "--steps", "1",
                          "--fidelity", "0.5", "--grid", str(grid), "--device", "cpu", "--precision", "fp32", "bf16"]) == 0
    both = capsys.readouterr().out  # the same seeds in two precisions: how far apart (issue 10's ≥ 40 dB)
    apart = both.split("bf16 against fp32, the same faces and seeds (PSNR between the two outputs):")[1].splitlines()
    assert [line.split(":")[0].strip() for line in apart[1:3]] == ["restorer only", "fidelity 0.5, 1 step"]
    assert all(float(line.split(":")[1].split()[0]) > 20 for line in apart[1:3])
    assert evaluate_main(["--model", "cli-no-ramp", "--data", str(dataset_dir), "--spared", "--device", "cpu"]) == 1
    assert "spares no face" in capsys.readouterr().err
    assert "PSNR" in out and "SWD" in out and grid.stat().st_size > 0
    # each row's per-level SWD (finest first), whose mean is the SWD column
    for line in out.splitlines():
        if line.startswith("| ") and "PSNR" not in line:
            cells = [c.strip() for c in line.strip("|").split("|")]
            levels = [float(v) for v in cells[4].split(" / ")]
            assert len(levels) >= 2 and abs(sum(levels) / len(levels) - float(cells[3])) <= 0.5, line


def test_evaluate_without_prior_run_is_a_clear_error(tmp_path, capsys):
    assert evaluate_main(["--restorer-run", str(tmp_path)]) == 1
    assert "--prior-run" in capsys.readouterr().err


@pytest.mark.parametrize("sigma", ["-1", "65", "nan"])
def test_evaluate_refuses_a_restorer_tones_blur_no_model_could_have(tmp_path, capsys, sigma):
    assert evaluate_main(["--restorer-run", str(tmp_path), "--prior-run", str(tmp_path), "--restorer-tones", sigma]) == 1
    assert f"--restorer-tones must be 0 (off) or a blur in face pixels, above 0 and at most 64, not {sigma}" in \
        capsys.readouterr().err


def test_evaluate_scores_faces_that_need_no_repair(dataset_dir, tmp_path, capsys):
    torch.set_num_threads(1)
    for name in ("restorer_tiny", "prior_tiny"):
        assert training_main(["train", name, "--run-dir", str(tmp_path / name), "--data", str(dataset_dir),
                              "--max-steps", "1"]) == 0
    capsys.readouterr()
    assert evaluate_main(["--restorer-run", str(tmp_path / "restorer_tiny"), "--prior-run", str(tmp_path / "prior_tiny"),
                          "--data", str(dataset_dir), "--limit", "2", "--steps", "1", "--fidelity", "0.5",
                          "--degradation", "none", "--no-identity", "--grid", str(tmp_path / "grid.png"),
                          "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "undegraded" in out and "defaults to ship" not in out  # defaults come from faces that need repair
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ") and "PSNR" not in line}
    assert rows["input (undegraded)"].split("|")[2].strip() == "inf"  # the input is the truth itself
    assert "inf" not in rows["restorer only"]


def test_a_run_stopped_by_its_time_limit_says_how_to_go_on(dataset_dir, tmp_path, capsys):
    """ML QA: after --minutes ran out, only a Ctrl-C's stop said "run the same command to resume"."""
    torch.set_num_threads(1)
    args = ["train", "prior_tiny", "--run-dir", str(tmp_path / "run"), "--data", str(dataset_dir), "--minutes", "0.0001"]
    assert training_main(args) == 0
    out = capsys.readouterr().out
    assert "is saved in" in out and "run the same command to go on" in out
