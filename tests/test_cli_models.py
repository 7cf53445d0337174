"""``faceapp-cli models …``: output, exit codes, and the files it leaves on disk."""

from __future__ import annotations

import json

import pytest
import torch
from netutil import SMALL_SWINIR_CONFIG

from faceapp import paths
from faceapp.cli_models import main
from faceapp.core import loading

torch.set_num_threads(2)

WEIGHTS = "tiny_restorer.pth"


def _inline(config: dict) -> str:
    return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in config.items()) + " }"


@pytest.fixture
def weights_file(tmp_path):
    """A valid restorer checkpoint outside faceapp's folders, and its constructor arguments."""
    config = SMALL_SWINIR_CONFIG
    path = tmp_path / "downloads" / WEIGHTS
    path.parent.mkdir()
    torch.save(loading.build_network("swinir", config).state_dict(), path)
    return path, config


@pytest.fixture
def tiny(weights_file):
    """A user manifest 'tiny' whose one file downloads from a file:// URL."""
    path, config = weights_file
    folder = paths.user_manifests_dir()
    folder.mkdir(parents=True)
    (folder / "tiny.toml").write_text(
        f"""schema = 1
name = "tiny"
title = "Tiny test model"
licence = "MIT"
face_size = 64
face_template = "ffhq5"
default_steps = 4
default = true

[diffusion]
timesteps = 1000
beta_start = 0.0001
beta_end = 0.02

[restorer]
arch = "swinir"
file = "{WEIGHTS}"
config = {_inline(config)}

[[files]]
name = "{WEIGHTS}"
url = "{path.as_uri()}"
""",
        encoding="utf-8",
    )
    return path


def test_list_shows_models_states_and_licences(tiny, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "missing" in lines["difface-official"] and "non-commercial" in lines["difface-official"]
    assert "missing" in lines["tiny"] and "MIT" in lines["tiny"]
    # Where the files are: the bundled model's beside its manifest, not in the (empty) user folder.
    from faceapp import paths

    assert f"Weight files beside a model's manifest are used from there (the app's own in {paths.bundled_models_dir()}); " in out


def test_list_json(tiny, capsys, without_bundled_model):
    assert main(["list", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert models["tiny"]["state"] == "missing"
    assert models["tiny"]["default"] is True  # marked default, and nothing is installed
    assert models["difface-official"]["files"][0]["url"].startswith("https://github.com/")


def test_list_json_says_which_models_spare_sharp_faces_and_where_they_work(capsys):
    assert main(["list", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert models["faceapp-compact"]["sharp_faces"] == {"untouched_below": 5.0, "full_above": 7.0}
    assert models["difface-official"]["sharp_faces"] is None  # no ramp measured for its restorer
    assert models["faceapp-compact"]["fidelity_range"]["works_down_to"] == 0.7
    assert models["difface-official"]["fidelity_range"] is None  # the whole slider
    assert models["faceapp-compact"]["restorer_tones"]["sigma"] > 0  # its samples keep the restorer's tones
    assert models["difface-official"]["restorer_tones"] is None  # sampled exactly as DifFace does


def test_download_shows_progress_and_installs(tiny, capsys):
    assert main(["download", "tiny"]) == 0
    captured = capsys.readouterr()
    assert WEIGHTS in captured.err and "100%" in captured.err
    assert (paths.weights_dir() / WEIGHTS).read_bytes() == tiny.read_bytes()
    assert main(["list", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert models["tiny"]["state"] == "installed"


def test_a_download_that_fails_at_once_prints_its_error_without_an_empty_progress_bar(tiny, capsys, monkeypatch):
    from faceapp.core.errors import ModelDownloadError
    from faceapp.core.registry import Registry

    def offline(self, name, *, progress=None, on_file=None, **_):
        on_file(WEIGHTS, 1, 1)  # the file is announced, then the connection fails
        raise ModelDownloadError("Could not reach example.org: the connection failed.")

    monkeypatch.setattr(Registry, "download", offline)
    assert main(["download", "tiny"]) == 1
    err = capsys.readouterr().err
    assert "Could not reach example.org" in err and WEIGHTS not in err and "B/s" not in err


def test_import_verify_delete(tiny, capsys):
    assert main(["import", "tiny", str(tiny)]) == 0
    assert "is installed" in capsys.readouterr().out
    assert main(["verify", "tiny"]) == 0
    assert f"tiny: {WEIGHTS}: OK" in capsys.readouterr().out
    assert main(["delete", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "Deleted" in out and f"Its manifest {paths.user_manifests_dir() / 'tiny.toml'} stays" in out
    assert not (paths.weights_dir() / WEIGHTS).exists()
    assert tiny.exists()
    assert main(["list"]) == 0
    assert f"Your own models' manifests go in {paths.user_manifests_dir()}" in capsys.readouterr().out


def test_import_of_a_wrong_file_fails_with_a_message(tiny, tmp_path, capsys):
    wrong = tmp_path / "notes.pth"
    torch.save({"conv.weight": torch.zeros(2, 2)}, wrong)
    assert main(["import", "tiny", str(wrong)]) == 1
    assert "error: " in capsys.readouterr().err
    assert not (paths.weights_dir() / WEIGHTS).exists()


def test_as_names_one_file_so_it_takes_one_file(tiny, capsys):
    assert main(["import", "tiny", str(tiny), str(tiny), "--as", WEIGHTS]) == 2
    assert "one FILE at a time" in capsys.readouterr().err
    assert not (paths.weights_dir() / WEIGHTS).exists()


def test_missing_model_tells_how_to_get_it(capsys):
    assert main(["verify", "difface-official"]) == 1
    err = capsys.readouterr().err
    assert "faceapp-cli models download difface-official" in err


def test_unknown_model_fails(capsys):
    assert main(["download", "nonesuch"]) == 2  # a usage error, as restore --model nonesuch is
    capsys.readouterr()
    assert main(["verify", "nonesuch"]) == 2
    assert "no model called 'nonesuch'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["bogus"], ["import", "tiny"]])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "usage" in capsys.readouterr().err


def test_an_interrupted_import_says_it_starts_over(tiny, capsys, monkeypatch):
    """Issue 13 #7: it said "Run the same command again to resume", but an import never resumes."""
    from faceapp.core.registry import Registry

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Registry, "import_file", interrupted)
    assert main(["import", "tiny", str(tiny)]) == 130
    err = capsys.readouterr().err
    assert "starts over" in err and "resume" not in err


def test_list_does_not_call_hand_placed_files_installed(tiny, capsys):
    """Issue 13 #19."""
    paths.weights_dir().mkdir(parents=True)
    (paths.weights_dir() / WEIGHTS).write_bytes(tiny.read_bytes())
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("tiny"))
    assert "unverified" in row and "models verify NAME" in out
    assert main(["verify", "tiny"]) == 0 and main(["list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.split()[:1] == ["tiny"])
    assert "installed" in row


def test_verify_without_a_name_checks_every_model_on_disk_and_fails_for_a_damaged_one(tiny, capsys):
    assert main(["import", "tiny", str(tiny)]) == 0
    installed = paths.weights_dir() / WEIGHTS
    installed.write_bytes(installed.read_bytes()[:1000])  # cut short (a full disk, a copy stopped)
    capsys.readouterr()
    assert main(["verify"]) == 1
    captured = capsys.readouterr()
    assert "tiny: FAILED" in captured.err and "1 of 3 checks failed: tiny" in captured.err
    assert "faceapp-compact: " in captured.out and ": OK" in captured.out  # the others are still checked
    assert "detector retinaface_mobile0.25: retinaface_mobile0.25.safetensors: OK (checksum matches)" in captured.out


def test_verify_fails_for_a_manifest_that_cannot_be_read_and_names_it(tiny, capsys):
    """Fault QA: a user's damaged manifest left verify at exit 0, and the model was "no model called" it."""
    (paths.user_manifests_dir() / "mine.toml").write_text('name = "mine"\ntitle = [cut short', encoding="utf-8")
    assert main(["verify"]) == 1
    err = capsys.readouterr().err
    assert "mine: FAILED: its manifest" in err and "1 of 3 checks failed: mine" in err
    assert main(["verify", "mine"]) == 1  # (no usage error: the model is there, and broken)
    err = capsys.readouterr().err
    assert "The model 'mine' cannot be used:" in err and "mine.toml" in err and "no model called" not in err
    from faceapp.cli import main as cli_main  # restoring with it is no usage error either: each photo says why

    photo = paths.user_manifests_dir().parent / "a.png"
    from PIL import Image

    Image.new("RGB", (64, 64), (120, 100, 90)).save(photo)
    assert cli_main(["restore", str(photo), "--model", "mine", "--aligned", "--json", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["results"][0]["error"].startswith("The model 'mine' cannot be used:")


def test_a_damaged_bundled_manifest_is_said_not_replaced_by_another_model(tiny, capsys, without_bundled_model):
    """Fault QA: with the bundled model's manifest cut short, restores offered the official model's
    700 MB download, or quietly used a user's model."""
    from faceapp.core.errors import ModelError
    from faceapp.core.registry import Registry

    (without_bundled_model / "faceapp-compact.toml").write_text('schema = 1\nname = "faceapp-compact"\ntitle = "fa',
                                                                encoding="utf-8")
    (paths.user_manifests_dir() / "tiny.toml").write_text(
        (paths.user_manifests_dir() / "tiny.toml").read_text().replace("default = true\n", ""), encoding="utf-8")
    assert main(["import", "tiny", str(tiny)]) == 0  # a user's model, installed: it does not stand in
    with pytest.raises(ModelError, match="The model that came with faceapp cannot be used: .*faceapp-compact.toml"):
        Registry().default()
    assert main(["list"]) == 0  # still listed, none marked default
