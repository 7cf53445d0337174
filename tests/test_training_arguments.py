"""The training tools' command lines: a wrong value is a one-line usage error before any work, export writes
only models the app loads, under names that cannot escape or hide, and the recipe reproduces the shipped model."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
import torch

from faceapp.core.registry import Registry
from faceapp.training import export as export_module
from faceapp.training.__main__ import build_parser
from faceapp.training.__main__ import main as training_main
from faceapp.training.config import ConfigError, load_config
from faceapp.training.evaluate import main as evaluate_main
from faceapp.training.export import export_model
from faceapp.training.trainer import train

REPO = Path(__file__).resolve().parent.parent


def quiet(_):
    pass


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load


@pytest.fixture
def runs(dataset_dir, tmp_path):
    """Tiny restorer and prior runs of 2 steps."""
    for name in ("restorer_tiny", "prior_tiny"):
        train(load_config(name), run_dir=tmp_path / name, data_root=dataset_dir, max_steps=2, log=quiet)
    return tmp_path / "restorer_tiny", tmp_path / "prior_tiny"


def _usage_error(run, argv, capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        run(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 2, err
    assert err[-1].startswith("python -m faceapp.training") and ": error: " in err[-1]  # argparse's one line
    return err[-1]


@pytest.mark.parametrize("option, values, says", [
    ("--minutes", ["0"], "must be a number above 0, got 0"),
    ("--minutes", ["-1"], "must be a number above 0"),
    ("--max-steps", ["0"], "must be a whole number, 1 or more, got 0"),
    ("--max-steps", ["-5"], "must be a whole number, 1 or more"),
    ("--threads", ["-1"], "must be a whole number, 1 or more"),
    ("--run-dir", ["FILE"], "is a file: give a folder"),
    ("--warm-start", ["nowhere"], "is missing: give an ema.safetensors"),
])
def test_train_refuses_nonsense_arguments(option, values, says, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    values = [str(afile) if v == "FILE" else v for v in values]
    run_dir = [] if option == "--run-dir" else ["--run-dir", str(tmp_path / "run")]
    line = _usage_error(training_main, ["train", "restorer_tiny", *run_dir, option, *values], capsys)
    assert f"argument {option}" in line and says in line
    assert not (tmp_path / "run").exists()  # refused before anything was made


@pytest.mark.parametrize("argv, says", [
    (["--fidelity", "2"], "must be within 0…1, got 2"),
    (["--steps", "0"], "must be within 1…1000, got 0"),
    (["--eta", "5"], "must be within 0…1"),
    (["--limit", "-1"], "must be a whole number, 1 or more"),
    (["--grid", "x.xyz"], "cannot write an image with suffix '.xyz'"),
])
def test_evaluate_refuses_nonsense_arguments_before_evaluating(argv, says, tmp_path, capsys):
    line = _usage_error(evaluate_main, ["--restorer-run", str(tmp_path), "--prior-run", str(tmp_path), *argv], capsys)
    assert says in line


@pytest.mark.parametrize("argv, says", [
    (["--evaluation", "nope.md"], "argument --evaluation: nope.md does not exist"),
    (["--out", "FILE"], "argument --out: FILE is a file"),
    (["--works-down-to", "abc", "x"], "--works-down-to: FIDELITY must be a number within 0…1, got 'abc'"),
    (["--sharp-faces", "7", "5"], "--sharp-faces: UNTOUCHED_BELOW (7) must be below FULL_ABOVE (5)"),
    (["--default-fidelity", "1.5"], "argument --default-fidelity: must be within 0…1, got 1.5"),
    (["--default-steps", "0"], "argument --default-steps: must be a whole number, 1 or more"),
])
def test_export_refuses_nonsense_arguments(argv, says, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    argv = [str(afile) if v == "FILE" else v for v in argv]
    out = [] if "--out" in argv else ["--out", str(tmp_path / "models")]
    line = _usage_error(training_main, ["export", "--restorer-run", str(tmp_path), "--prior-run", str(tmp_path),
                                        *out, "--name", "mine", *argv], capsys)
    assert says.replace("FILE", str(afile)) in line


def test_train_says_when_there_is_nothing_to_train_and_warm_starts_from_a_run_folder(runs, dataset_dir, tmp_path,
                                                                                       capsys):
    restorer, _ = runs
    common = ["--data", str(dataset_dir)]
    # a run folder is a warm start's source as for evaluate and export: its ema.safetensors (step 2)
    assert training_main(["train", "restorer_tiny", "--run-dir", str(tmp_path / "warm"), "--warm-start",
                          str(restorer), "--max-steps", "1", *common]) == 0
    out = capsys.readouterr().out
    assert "already at step 2 ≥ --max-steps 1" in out and "nothing to train" in out and "→ 1" not in out
    assert training_main(["train", "restorer_tiny", "--run-dir", str(tmp_path / "warm"), "--max-steps", "3",
                          *common]) == 0
    assert "steps 2 → 3" in capsys.readouterr().out
    assert training_main(["train", "restorer_tiny", "--run-dir", str(tmp_path / "warm"), *common]) == 0
    assert training_main(["train", "restorer_tiny", "--run-dir", str(tmp_path / "warm"), *common]) == 0
    assert "already at step 4 ≥ the config's max_steps 4: the run is finished" in capsys.readouterr().out


def test_export_validates_the_manifest_before_writing_anything(runs, tmp_path):
    restorer, prior = runs
    out = tmp_path / "models"
    from faceapp.core.manifest import FidelityRange

    with pytest.raises(ConfigError, match=r"field 'fidelity_range.works_down_to' must not be above default_fidelity.*"
                                          r"Nothing was written"):
        export_model(restorer_run=restorer, prior_run=prior, out_dir=out, name="bad", default_fidelity=0.5,
                     fidelity_range=FidelityRange(0.7, "blotches"))
    with pytest.raises(ConfigError, match=r"default_steps"):
        export_model(restorer_run=restorer, prior_run=prior, out_dir=out, name="bad", default_steps=0)
    with pytest.raises(ConfigError, match=r"default_fidelity"):
        export_model(restorer_run=restorer, prior_run=prior, out_dir=out, name="bad", default_fidelity=1.5)
    assert not out.exists()


@pytest.mark.parametrize("name", ["../escaped", "a/b", "Upper", ".hidden", ""])
def test_export_refuses_a_name_that_is_not_a_plain_file_name(runs, tmp_path, name):
    restorer, prior = runs
    with pytest.raises(ConfigError, match="is not a model name"):
        export_model(restorer_run=restorer, prior_run=prior, out_dir=tmp_path / "models" / "deep", name=name)
    assert not (tmp_path / "models").exists() and not list(tmp_path.glob("*escaped*"))


def test_export_refuses_the_bundled_models_name_outside_the_bundled_folder(runs, tmp_path, monkeypatch):
    restorer, prior = runs
    with pytest.raises(ConfigError, match=r"faceapp-compact is the name of a model bundled with the app"):
        export_model(restorer_run=restorer, prior_run=prior, out_dir=tmp_path / "user")
    assert not (tmp_path / "user").exists()
    # into the bundled folder itself it replaces the shipped model, whose card is MODEL_CARD.md
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    shutil.copy(REPO / "models" / "faceapp-compact.toml", bundled)
    monkeypatch.setattr(export_module.paths, "bundled_models_dir", lambda: bundled)
    result = export_model(restorer_run=restorer, prior_run=prior, out_dir=bundled, replace=True)
    assert result.model_card == bundled / "MODEL_CARD.md"
    assert "see MODEL_CARD.md" in result.manifest.read_text()


def test_export_replaces_a_model_only_when_asked(runs, tmp_path, monkeypatch):
    """ML QA: an export with the default name into models/ replaced the shipped model and its
    hand-kept card without a word; an earlier export of the same name went the same way."""
    restorer, prior = runs
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    shutil.copy(REPO / "models" / "faceapp-compact.toml", bundled)
    (bundled / "MODEL_CARD.md").write_text("# kept by hand\n")
    monkeypatch.setattr(export_module.paths, "bundled_models_dir", lambda: bundled)
    kept = (bundled / "faceapp-compact.toml").read_bytes()
    with pytest.raises(ConfigError, match=r"faceapp-compact.toml exists.*--replace.*Nothing was written"):
        export_model(restorer_run=restorer, prior_run=prior, out_dir=bundled)
    assert (bundled / "faceapp-compact.toml").read_bytes() == kept
    assert (bundled / "MODEL_CARD.md").read_text() == "# kept by hand\n" and len(list(bundled.iterdir())) == 2
    user = tmp_path / "user"
    first = export_model(restorer_run=restorer, prior_run=prior, out_dir=user, name="mine")
    # a user's model is named by its name, described as what it is, and told it is not the default
    text = first.manifest.read_text()
    assert 'title = "mine"' in text and "bundled with the app" not in text
    assert any("stays the default" in w and "--model mine" in w for w in first.warnings)
    with pytest.raises(ConfigError, match="mine.toml exists"):
        export_model(restorer_run=restorer, prior_run=prior, out_dir=user, name="mine", default_steps=3)
    again = export_model(restorer_run=restorer, prior_run=prior, out_dir=user, name="mine", default_steps=3, replace=True)
    assert "default_steps = 3" in again.manifest.read_text()


def test_two_models_exported_into_one_folder_keep_their_own_cards(runs, tmp_path):
    restorer, prior = runs
    out = tmp_path / "models"
    first = export_model(restorer_run=restorer, prior_run=prior, out_dir=out, name="first", title="First")
    second = export_model(restorer_run=restorer, prior_run=prior, out_dir=out, name="second", title="Second",
                          default=False)
    assert (first.model_card, second.model_card) == (out / "first.md", out / "second.md")
    assert first.model_card.read_text().startswith("# First (`first`)")
    assert second.model_card.read_text().startswith("# Second (`second`)")
    assert "see first.md" in first.manifest.read_text() and not (out / "MODEL_CARD.md").exists()
    registry = Registry(manifest_dirs=[out], weights_dir=tmp_path / "weights")
    assert registry.problems == [] and {m.name for m in registry.list()} >= {"first", "second"}


def test_export_warns_about_a_barely_trained_network(runs, tmp_path, capsys):
    restorer, prior = runs
    result = export_model(restorer_run=restorer, prior_run=prior, out_dir=tmp_path / "m", name="early")
    assert any("the restorer" in w and "has trained only 2 steps" in w for w in result.warnings)
    assert any("the prior" in w and "has trained only 2 steps" in w for w in result.warnings)
    capsys.readouterr()
    assert training_main(["export", "--restorer-run", str(restorer), "--prior-run", str(prior), "--out",
                          str(tmp_path / "m2"), "--name", "early", "--not-default"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2 and all("has trained only 2 steps" in w for w in warnings)


def test_export_takes_the_sampling_of_the_model_its_networks_came_from(runs, tmp_path, capsys):
    """Docs QA: README's recipe for one's own faces, warm-started from the bundled networks, exported
    a model sampled at 0.5 and 8 steps with neither tones nor sparing, where the same networks ship
    at their own defaults with both. --sampling-of takes the bundled model's; options given win."""
    restorer, prior = runs
    shipped = tomllib.loads((REPO / "models" / "faceapp-compact.toml").read_text(encoding="utf-8"))
    common = ["export", "--restorer-run", str(restorer), "--prior-run", str(prior), "--not-default"]
    assert training_main([*common, "--out", str(tmp_path / "a"), "--name", "my-faces",
                          "--sampling-of", "faceapp-compact"]) == 0
    mine = tomllib.loads((tmp_path / "a" / "my-faces.toml").read_text(encoding="utf-8"))
    for key in ("default_fidelity", "default_steps", "sharp_faces", "restorer_tones", "fidelity_range"):
        assert mine[key] == shipped[key], key
    assert training_main([*common, "--out", str(tmp_path / "b"), "--name", "my-faces", "--sampling-of",
                          "faceapp-compact", "--default-fidelity", "0.9", "--default-steps", "4"]) == 0
    mine = tomllib.loads((tmp_path / "b" / "my-faces.toml").read_text(encoding="utf-8"))
    assert (mine["default_fidelity"], mine["default_steps"]) == (0.9, 4)
    assert mine["restorer_tones"] == shipped["restorer_tones"]
    low = shipped["fidelity_range"]["works_down_to"] - 0.1  # (sceptic QA: refused for the range it took itself)
    assert training_main([*common, "--out", str(tmp_path / "e"), "--name", "my-faces", "--sampling-of",
                          "faceapp-compact", "--default-fidelity", f"{low:.2f}"]) == 0
    assert "fidelity_range" not in tomllib.loads((tmp_path / "e" / "my-faces.toml").read_text(encoding="utf-8"))
    assert training_main([*common, "--out", str(tmp_path / "c"), "--name", "plain"]) == 0
    plain = tomllib.loads((tmp_path / "c" / "plain.toml").read_text(encoding="utf-8"))
    assert (plain["default_fidelity"], plain["default_steps"]) == (0.5, 8) and "restorer_tones" not in plain
    capsys.readouterr()
    line = _usage_error(training_main, [*common, "--out", str(tmp_path / "d"), "--name", "x", "--sampling-of",
                                        "no-such-model"], capsys)
    assert "--sampling-of no-such-model:" in line


def test_the_cpu_recipe_reproduces_the_shipped_model():
    """The recipe's warm start names the config whose network is the shipped restorer's, and its export
    command writes the shipped manifest's settings ([restorer_tones] included)."""
    recipe = (REPO / "faceapp" / "training" / "cpu_recipe.md").read_text(encoding="utf-8")
    shipped = tomllib.loads((REPO / "models" / "faceapp-compact.toml").read_text(encoding="utf-8"))
    warm = re.search(r"train (\w+) [^`]*--warm-start models/faceapp-compact-restorer\.safetensors", recipe)
    assert warm, "the recipe shows no warm start from the shipped restorer"
    cfg = load_config(warm.group(1))
    assert (cfg.model.arch, cfg.model.config) == (shipped["restorer"]["arch"], shipped["restorer"]["config"])

    command = re.search(r"python -m faceapp\.training export (.*?)\n(?!\s)", recipe, re.S).group(1)
    argv = ["export", *[a.strip('"') for a in re.findall(r'"[^"]*"|\S+', command.replace("\\\n", " "))]]
    argv = [{"F": str(shipped["default_fidelity"]), "S": str(shipped["default_steps"])}.get(a, a) for a in argv]
    args = build_parser().parse_args([a for a in argv if a not in ("--evaluation", "eval.md", "--notes", "notes.md")])
    assert args.name == shipped["name"] and args.out == Path("models")
    assert args.restorer_tones == shipped["restorer_tones"]["sigma"]
    assert tuple(args.sharp_faces) == (shipped["sharp_faces"]["untouched_below"], shipped["sharp_faces"]["full_above"])
    assert float(args.works_down_to[0]) == shipped["fidelity_range"]["works_down_to"]
