"""Model registry: manifests, file lookup and state, import, verify, download, delete."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import torch
from http_util import serve
from netutil import SMALL_SWINIR_CONFIG, SMALL_UNET_CONFIG

from faceapp.core import loading
from faceapp.core.download import partial_path
from faceapp.core.errors import (
    ArchitectureMismatchError,
    Cancelled,
    CorruptModelError,
    ManifestError,
    ModelDownloadError,
    ModelError,
    ModelNotFoundError,
    UnsafeCheckpointError,
)
from faceapp.core.manifest import load_manifest
from faceapp.core.registry import Registry

torch.set_num_threads(2)

PRIOR, RESTORER = "tiny_prior.pth", "tiny_restorer.pth"


# --- helpers --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def configs():
    return {"iddpm_unet": SMALL_UNET_CONFIG, "swinir": SMALL_SWINIR_CONFIG}


def manifest_data(configs, name="tiny", **top) -> dict:
    data = {
        "schema": 1, "name": name, "title": f"Tiny {name}", "licence": "MIT",
        "face_size": 64, "face_template": "ffhq5", "default_steps": 4,
        "diffusion": {"timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02},
        "prior": {"arch": "iddpm_unet", "file": PRIOR, "config": configs["iddpm_unet"]},
        "restorer": {"arch": "swinir", "file": RESTORER, "config": configs["swinir"]},
        "files": [{"name": PRIOR, "url": "", "size": 0, "sha256": ""},
                  {"name": RESTORER, "url": "", "size": 0, "sha256": ""}],
    }
    data.update(top)
    return data


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)  # strings, numbers, booleans and arrays read the same in TOML


def write_manifest(folder: Path, data: dict) -> Path:
    lines, tables = [], []
    for key, value in data.items():
        if key == "files":
            tables += ["\n[[files]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in f.items())
                       for f in value]
        elif isinstance(value, dict):
            tables.append(f"\n[{key}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in value.items()))
        else:
            lines.append(f"{key} = {_toml(value)}\n")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['name']}.toml"
    path.write_text("".join(lines + tables), encoding="utf-8")
    return path


def save_checkpoint(path: Path, arch: str, config: dict) -> Path:
    torch.manual_seed(0)
    torch.save(loading.build_network(arch, config).state_dict(), path)
    return path


@pytest.fixture
def manifests_dir(tmp_path):
    return tmp_path / "manifests"


@pytest.fixture
def registry_for(tmp_path, manifests_dir):
    """Build a Registry over ``manifests_dir`` and a temporary weights folder."""
    return lambda: Registry([manifests_dir], weights_dir=tmp_path / "weights")


@pytest.fixture
def sources(tmp_path, configs):
    """Valid weight files for the tiny model, outside the registry's folders."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    return {
        PRIOR: save_checkpoint(folder / PRIOR, "iddpm_unet", configs["iddpm_unet"]),
        RESTORER: save_checkpoint(folder / RESTORER, "swinir", configs["swinir"]),
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the bundled manifest -------------------------------------------------------------------------
def test_bundled_official_manifest_matches_the_official_release(golden_dir):
    manifest = Registry().get("difface-official")
    assert (manifest.face_size, manifest.face_template, manifest.default_steps) == (512, "ffhq5", 8)
    assert not manifest.is_default
    assert "non-commercial" in manifest.licence.lower()
    assert "non-commercial" in manifest.description.lower()
    for spec, golden in ((manifest.prior, "config_iddpm_ffhq512"),
                         (manifest.restorer, "config_swinir_restoration512")):
        official = json.loads((golden_dir / f"{golden}.json").read_text())
        assert dict(spec.config) == official["params"]
        assert manifest.file(spec.file).url == official["official_download_url"]
    assert (manifest.prior.arch, manifest.restorer.arch) == ("iddpm_unet", "swinir")


@pytest.mark.parametrize("role, keys", [("prior", "keys_iddpm_ffhq512.tsv"),
                                        ("restorer", "keys_swinir_restoration512.tsv")])
def test_official_configs_build_the_official_key_sets(golden_dir, role, keys):
    spec = getattr(Registry().get("difface-official"), role)
    built = loading.build_network(spec.arch, spec.config, device="meta").state_dict()
    expected = {}
    for line in (golden_dir / keys).read_text().splitlines():
        key, shape = line.split("\t")[:2]
        expected[key] = json.loads(shape)
    assert {k: list(v.shape) for k, v in built.items()} == expected


# --- manifest validation --------------------------------------------------------------------------
@pytest.mark.parametrize("change, field", [
    ({"face_size": "large"}, "face_size"),
    ({"face_template": "ffhq68"}, "face_template"),
    ({"schema": 2}, "schema"),
    ({"face_sise": 64}, "face_sise"),
    ({"restorer": None}, "restorer"),
    ({"prior": {"arch": "iddpm_unet", "file": "other.pth"}}, "prior.file"),
    ({"files": [{"name": "../evil.pth", "url": ""}]}, "files[0].name"),
    ({"files": [{"name": PRIOR, "sha256": "abc"}]}, "files[0].sha256"),
    ({"diffusion": {"timesteps": 1000, "beta_start": 0.5, "beta_end": 0.1}}, "diffusion.beta_end"),
    ({"diffusion": {"timesteps": 500, "beta_start": 0.0001, "beta_end": 0.02}}, "diffusion.timesteps"),
    ({"default_fidelity": 1.5}, "default_fidelity"),
    # sizes from a stranger's manifest that would take all the memory (security QA: a restore killed)
    ({"diffusion": {"timesteps": 10**9, "beta_start": 0.0001, "beta_end": 0.02}}, "diffusion.timesteps"),
    ({"face_size": 10**9}, "face_size"),
    ({"default_steps": 10**9}, "default_steps"),
    ({"restorer_tones": {"sigma": 0.0}}, "restorer_tones.sigma"),
    ({"restorer_tones": {"sigma": 3.0, "radius": 9}}, "restorer_tones.radius"),
])
def test_invalid_manifest_error_names_file_and_field(manifests_dir, configs, change, field):
    data = manifest_data(configs)
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    path = write_manifest(manifests_dir, data)
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert str(path) in str(caught.value)
    assert f"'{field}'" in str(caught.value)


def test_a_models_default_fidelity_is_read_and_is_optional(manifests_dir, configs):
    assert load_manifest(write_manifest(manifests_dir, manifest_data(configs, default_fidelity=0.65))).default_fidelity == 0.65
    assert load_manifest(write_manifest(manifests_dir, manifest_data(configs, name="plain"))).default_fidelity == 0.5


def test_a_models_restorer_tones_are_read_and_are_optional(manifests_dir, configs):
    toned = manifest_data(configs, name="toned", restorer_tones={"sigma": 2.5})
    assert load_manifest(write_manifest(manifests_dir, toned)).restorer_tones == 2.5
    assert load_manifest(write_manifest(manifests_dir, manifest_data(configs, name="plain"))).restorer_tones is None


def test_invalid_toml_names_the_file(manifests_dir):
    manifests_dir.mkdir()
    path = manifests_dir / "broken.toml"
    path.write_text("name = 'unterminated\n")
    with pytest.raises(ManifestError, match="broken.toml is not valid TOML"):
        load_manifest(path)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs POSIX pipes and /dev/zero")
def test_a_manifest_that_is_a_pipe_or_too_large_is_skipped_unread(manifests_dir, configs):
    """Security QA: a pipe named evil.toml hung every start (and every restore) until killed, and a
    link to /dev/zero read until the memory ran out."""
    import os

    write_manifest(manifests_dir, manifest_data(configs, name="good"))
    os.mkfifo(manifests_dir / "pipe.toml")  # (read, it would wait for a writer for ever)
    (manifests_dir / "zeros.toml").symlink_to("/dev/zero")
    (manifests_dir / "huge.toml").write_text("# " + "x" * (1 << 20) + "\n")
    registry = Registry([manifests_dir])
    assert [m.name for m in registry.list()] == ["good"]
    for name, said in (("pipe", "not a regular file"), ("zeros", "not a regular file"), ("huge", "larger than 1 MB")):
        assert any(f"{name}.toml" in p and said in p for p in registry.problems), (name, registry.problems)


def test_bad_or_repeated_manifests_are_skipped_and_reported(manifests_dir, registry_for, configs):
    write_manifest(manifests_dir, manifest_data(configs, name="good"))
    (manifests_dir / "bad.toml").write_text("schema = 1\n")
    write_manifest(manifests_dir / "more", manifest_data(configs, name="good"))
    registry = Registry([manifests_dir, manifests_dir / "more"])
    assert [m.name for m in registry.list()] == ["good"]
    assert registry.get("good").source == manifests_dir / "good.toml"
    assert len(registry.problems) == 2
    assert any("bad.toml" in p for p in registry.problems)
    assert any("already defines" in p for p in registry.problems)


def test_a_models_folder_that_cannot_be_looked_into_leaves_the_other_folders_models_known(
        manifests_dir, configs, monkeypatch):
    """Settings QA: an unreadable user data folder raised PermissionError out of the registry, so
    the window said "No face model is installed" while the bundled model was there."""
    write_manifest(manifests_dir, manifest_data(configs, name="good"))
    locked = manifests_dir.parent / "locked"
    locked.mkdir()
    import os

    scandir = os.scandir

    def refused(folder):  # (as listing a folder without the right to read it does)
        if Path(folder) == locked:
            raise PermissionError(13, "Permission denied", str(folder))
        return scandir(folder)

    monkeypatch.setattr(os, "scandir", refused)
    registry = Registry([manifests_dir, locked])
    assert [m.name for m in registry.list()] == ["good"]
    assert registry.folders_unread == {locked: f"The models in {locked} cannot be read (Permission denied): they are "
                                                "left out until they can"}


def test_unknown_model_lists_the_known_ones(manifests_dir, registry_for, configs):
    write_manifest(manifests_dir, manifest_data(configs, name="alpha"))
    with pytest.raises(ModelNotFoundError, match="no model called 'beta'.*alpha"):
        registry_for().get("beta")


# --- where files are and what state they are in ---------------------------------------------------
def test_file_states(manifests_dir, registry_for, configs, tmp_path):
    """missing → partial (.part) → damaged (wrong size) → unverified (there, placed by hand)."""
    data = manifest_data(configs)
    data["files"][0]["size"] = 10
    write_manifest(manifests_dir, data)
    registry = registry_for()
    weights = tmp_path / "weights"
    assert registry.status("tiny").state == "missing"
    weights.mkdir()
    (weights / (PRIOR + ".part")).write_bytes(b"12345")
    status = registry.status("tiny")
    assert [(f.state, f.size) for f in status.files] == [("partial", 5), ("missing", 0)]
    assert status.state == "partial"
    (weights / PRIOR).write_bytes(b"123")
    assert registry.status("tiny").files[0].state == "damaged"
    (weights / PRIOR).write_bytes(b"0123456789")
    (weights / RESTORER).write_bytes(b"x")
    assert registry.status("tiny").state == "unverified"  # placed by hand, not checked yet
    assert registry.is_installed("tiny")  # usable: loading checks them


def test_a_models_size_is_told_in_words_while_it_downloads(manifests_dir, registry_for, configs, tmp_path):
    """The size the model manager and `models list` show: the full size to download, what is
    there of it, then the size on disk; "unknown" where the manifest gives no size."""
    data = manifest_data(configs)
    data["files"][0]["size"], data["files"][1]["size"] = 2_500_000, 1_200_000
    write_manifest(manifests_dir, data)
    registry = registry_for()
    weights = tmp_path / "weights"
    assert registry.status("tiny").size_text() == "3.7 MB"
    weights.mkdir()
    (weights / (PRIOR + ".part")).write_bytes(b"x" * 1500)
    assert registry.status("tiny").size_text() == "1.5 KB of 3.7 MB"
    (weights / (PRIOR + ".part")).unlink()
    (weights / PRIOR).write_bytes(b"x" * 2_500_000)
    (weights / RESTORER).write_bytes(b"x" * 1_200_000)
    assert registry.status("tiny").size_text() == "3.7 MB"  # installed: on disk

    write_manifest(manifests_dir, manifest_data(configs))  # sizes not given
    (weights / PRIOR).unlink()
    (weights / RESTORER).unlink()
    assert registry_for().status("tiny").size_text() == "unknown"
    (weights / (PRIOR + ".part")).write_bytes(b"x" * 999)
    assert registry_for().status("tiny").size_text() == "999 B so far"
    estimated = manifest_data(configs)  # (QA: the official model's row said "unknown", its text "about 700 MB")
    estimated["files"][0]["approx_size"], estimated["files"][1]["approx_size"] = 640_000_000, 63_000_000
    write_manifest(manifests_dir, estimated)
    assert registry_for().status("tiny").size_text() == "999 B of about 703.0 MB"
    (weights / (PRIOR + ".part")).unlink()
    assert registry_for().status("tiny").size_text() == "about 703.0 MB"


def test_weights_beside_the_manifest_win(manifests_dir, registry_for, configs, tmp_path):
    manifest = load_manifest(write_manifest(manifests_dir, manifest_data(configs)))
    registry = registry_for()
    assert registry.file_path(manifest, PRIOR) == tmp_path / "weights" / PRIOR
    (manifests_dir / PRIOR).write_bytes(b"bundled")
    assert registry.file_path(manifest, PRIOR) == manifests_dir / PRIOR
    assert registry.status("tiny").files[0].bundled


def test_default_prefers_installed_models(manifests_dir, registry_for, configs, tmp_path):
    write_manifest(manifests_dir, manifest_data(configs, name="a"))
    write_manifest(manifests_dir, manifest_data(configs, name="b", default=True))
    c = manifest_data(configs, name="c")
    c["files"] = [{"name": "c.pth"}]
    c["prior"]["file"] = c["restorer"]["file"] = "c.pth"
    write_manifest(manifests_dir, c)
    registry = registry_for()
    assert registry.default().name == "b"  # nothing installed: the one marked default
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "c.pth").write_bytes(b"x")
    assert registry.default().name == "c"  # the only installed one
    (tmp_path / "weights" / PRIOR).write_bytes(b"x")
    (tmp_path / "weights" / RESTORER).write_bytes(b"x")
    assert registry.default().name == "b"  # installed and marked default


def test_a_damaged_bundled_default_is_not_replaced_by_another_model_unsaid(manifests_dir, registry_for, configs,
                                                                         tmp_path):
    """QA: the bundled model's prior cut short, and a user's model restored every photo in its place
    without a word; the default stays the default, and its restore says what to do: reinstall (an
    import or a copy in the weights folder is not read while the bundled file lies beside the manifest)."""
    data = manifest_data(configs, name="bundled", default=True)
    data["files"] = [{"name": PRIOR, "url": "", "size": 100, "sha256": ""},
                     {"name": RESTORER, "url": "", "size": 0, "sha256": ""}]
    write_manifest(manifests_dir, data)
    (manifests_dir / PRIOR).write_bytes(b"x" * 60)  # cut short: 60 of its 100 bytes
    (manifests_dir / RESTORER).write_bytes(b"x")
    user = manifest_data(configs, name="mine")
    user["files"] = [{"name": "m.pth"}]
    user["prior"]["file"] = user["restorer"]["file"] = "m.pth"
    write_manifest(manifests_dir, user)
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "m.pth").write_bytes(b"x")
    registry = registry_for()
    assert registry.default().name == "bundled"
    with pytest.raises(ModelNotFoundError, match=r"'bundled' that came with faceapp is damaged: .*Reinstall faceapp"):
        registry.require_installed()


def test_a_bundled_file_damaged_inside_is_refused_before_it_is_loaded(manifests_dir, registry_for, configs,
                                                                     monkeypatch):
    """CLI QA: bytes zeroed inside the bundled prior (its size unchanged) restored without a word,
    and the results recorded the checksum it should have had. Before an engine loads, the files that
    came with faceapp are checked against their checksums (once a process)."""
    import hashlib

    from faceapp.core.errors import CorruptModelError

    data = manifest_data(configs, name="bundled", default=True)
    data["files"] = [{"name": PRIOR, "url": "", "size": 100, "sha256": hashlib.sha256(b"p" * 100).hexdigest()},
                     {"name": RESTORER, "url": "", "size": 100, "sha256": hashlib.sha256(b"r" * 100).hexdigest()}]
    write_manifest(manifests_dir, data)
    (manifests_dir / PRIOR).write_bytes(b"p" * 100)
    (manifests_dir / RESTORER).write_bytes(b"r" * 100)
    from faceapp import paths

    monkeypatch.setattr(paths, "bundled_models_dir", lambda: manifests_dir)  # (where the app's models lie)
    registry = registry_for()
    assert registry.check_unverified("bundled") == []  # as shipped: nothing to say
    (manifests_dir / PRIOR).write_bytes(b"p" * 50 + b"\0" * 50)  # damaged inside, the same size
    os.utime(manifests_dir / PRIOR, ns=(1_000_000_000, 1_000_000_000))  # (another file: another time)
    assert registry.status("bundled").installed  # (by its size)
    with pytest.raises(CorruptModelError, match=r"does not match the checksum of .*came with faceapp is damaged"):
        registry.check_unverified("bundled")
    elsewhere = manifests_dir.parent / "elsewhere"  # a user's own model, its files beside its manifest:
    monkeypatch.setattr(paths, "bundled_models_dir", lambda: elsewhere)  # not refused with "reinstall faceapp"
    assert registry_for().check_unverified("bundled") == []


def test_verify_builds_the_manifests_networks_and_reads_every_number(manifests_dir, registry_for, configs, sources,
                                                                    tmp_path):
    """ML QA: a manifest whose width its own (checksummed) weights do not have verified "OK
    (checksum matches)"; QA: bytes of NaN in a prior verified OK, then every restore failed."""
    data = manifest_data(configs)
    for entry in data["files"]:
        entry["sha256"] = sha256(sources[entry["name"]])
    write_manifest(manifests_dir, data)
    for source in sources.values():
        registry_for().import_file("tiny", source)
    data["prior"]["config"] = {**configs["iddpm_unet"], "model_channels": 2 * configs["iddpm_unet"]["model_channels"]}
    write_manifest(manifests_dir, data)  # (edited by hand since)
    registry = registry_for()
    with pytest.raises(ArchitectureMismatchError, match="do not fit"):
        registry.verify("tiny")
    data["prior"]["config"] = configs["iddpm_unet"]
    data["files"][0]["sha256"] = ""  # (a file of NaN has another checksum)
    write_manifest(manifests_dir, data)
    state = dict(loading.read_state_dict(sources[PRIOR]))
    first = next(k for k, v in state.items() if v.is_floating_point())
    state[first] = torch.full_like(state[first], float("nan"))
    damaged = tmp_path / "nan" / PRIOR
    damaged.parent.mkdir()
    torch.save(state, damaged)
    with pytest.raises(CorruptModelError, match="invalid numbers"):
        registry_for().import_file("tiny", damaged)


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64, torch.float8_e4m3fn])
def test_weights_of_the_right_shapes_but_no_float_type_are_refused_at_import(manifests_dir, registry_for, configs,
                                                                              sources, tmp_path, dtype):
    """Security QA: an int64 or bool file was imported and verified "OK", then every restore failed
    with 30 KB of message; an 8-bit float file ended the import in a traceback."""
    data = manifest_data(configs)
    data["files"][0]["sha256"] = ""
    write_manifest(manifests_dir, data)
    state = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in loading.read_state_dict(sources[PRIOR]).items()}
    odd = tmp_path / "odd" / PRIOR
    odd.parent.mkdir()
    torch.save(state, odd)
    with pytest.raises(ArchitectureMismatchError, match="not a 16-, 32- or 64-bit float"):
        registry_for().import_file("tiny", odd)


def test_missing_model_error_says_how_to_get_it(manifests_dir, registry_for, configs, tmp_path):
    data = manifest_data(configs)
    for entry in data["files"]:
        entry["url"] = f"https://example.invalid/{entry['name']}"
    write_manifest(manifests_dir, data)
    with pytest.raises(ModelNotFoundError) as caught:
        registry_for().require_installed("tiny")
    message = str(caught.value)
    assert "faceapp-cli models download tiny" in message
    assert "faceapp-cli models import tiny FILE" in message
    assert str(tmp_path / "weights") in message
    assert PRIOR in message and RESTORER in message


def test_model_without_download_address_only_suggests_import(manifests_dir, registry_for, configs):
    write_manifest(manifests_dir, manifest_data(configs))
    with pytest.raises(ModelNotFoundError) as caught:
        registry_for().require_installed("tiny")
    assert "models download" not in str(caught.value)
    assert "models import tiny FILE" in str(caught.value)
    with pytest.raises(ModelDownloadError, match="models import tiny"):
        registry_for().download("tiny")


# --- import ---------------------------------------------------------------------------------------
class _RunsCode:
    """Pickles to a call of os.mkdir: loading it unsafely would create ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


@pytest.fixture
def tiny(manifests_dir, registry_for, configs):
    write_manifest(manifests_dir, manifest_data(configs))
    return registry_for()


def test_import_copies_the_file_and_leaves_the_source_untouched(tiny, sources, tmp_path):
    source = sources[PRIOR]
    before = (source.read_bytes(), source.stat().st_mtime_ns)
    dest = tiny.import_file("tiny", source)
    assert dest == tmp_path / "weights" / PRIOR
    assert dest.read_bytes() == before[0]
    assert (source.read_bytes(), source.stat().st_mtime_ns) == before
    assert [f.state for f in tiny.status("tiny").files] == ["installed", "missing"]
    assert [p.name for p in (tmp_path / "weights").glob(".*")] == [".verified.json"]  # no temporary file left


def test_import_recognises_a_renamed_file_by_its_structure(tiny, sources, tmp_path):
    renamed = tmp_path / "my_restorer_copy.pth"
    renamed.write_bytes(sources[RESTORER].read_bytes())
    assert tiny.import_file("tiny", renamed) == tmp_path / "weights" / RESTORER


def test_pytorch_checkpoint_imported_as_a_safetensors_file_is_converted(
    manifests_dir, registry_for, configs, sources
):
    data = manifest_data(configs)
    data["files"][1]["name"] = data["restorer"]["file"] = "tiny_restorer.safetensors"
    write_manifest(manifests_dir, data)
    registry = registry_for()
    dest = registry.import_file("tiny", sources[RESTORER])  # found by structure
    assert dest.name == "tiny_restorer.safetensors"
    from safetensors.torch import load_file

    original = torch.load(sources[RESTORER], weights_only=True)
    converted = load_file(dest)
    assert converted and all(torch.equal(t, original[k]) for k, t in converted.items())
    loading.load_network("swinir", configs["swinir"], dest)  # loads strictly


@pytest.mark.parametrize("file_name", [PRIOR, "downloaded.pth"])  # by its name, or read to find which it is
def test_import_refuses_a_checkpoint_with_pickled_objects(tiny, sources, tmp_path, file_name):
    marker = tmp_path / "code_ran"
    evil = tmp_path / "evil" / file_name
    evil.parent.mkdir()
    state = torch.load(sources[PRIOR], weights_only=True)
    torch.save({**state, "payload": _RunsCode(marker)}, evil)
    with pytest.raises(UnsafeCheckpointError, match="pickled Python objects"):
        tiny.import_file("tiny", evil)
    assert not marker.exists()
    assert not (tmp_path / "weights" / PRIOR).exists()


def test_import_refuses_weights_of_another_architecture(tiny, sources, tmp_path):
    wrong = tmp_path / "wrong" / PRIOR  # named as the prior, but holds the restorer
    wrong.parent.mkdir()
    wrong.write_bytes(sources[RESTORER].read_bytes())
    with pytest.raises(ArchitectureMismatchError, match="iddpm_unet"):
        tiny.import_file("tiny", wrong)
    stranger = tmp_path / "stranger.pth"
    torch.save({"conv.weight": torch.zeros(4, 3, 3, 3)}, stranger)
    with pytest.raises(ArchitectureMismatchError, match="not a weight file of the model 'tiny'") as caught:
        tiny.import_file("tiny", stranger)
    said = str(caught.value)  # one sentence for each network, not a paragraph of tensor names (QA)
    assert re.search(r"it fits neither its prior \(iddpm_unet, 1 tensor in the file, \d+ expected\) nor "
                     r"its restorer \(swinir, 1 tensor in the file, \d+ expected\)\. The model's files are ", said)
    assert "conv.weight" not in said
    assert not (tmp_path / "weights").exists() or not any((tmp_path / "weights").iterdir())


def test_import_checks_a_known_checksum(manifests_dir, registry_for, configs, sources):
    data = manifest_data(configs)
    data["files"][0]["sha256"] = hashlib.sha256(b"the real file").hexdigest()
    write_manifest(manifests_dir, data)
    with pytest.raises(CorruptModelError, match="checksum"):
        registry_for().import_file("tiny", sources[PRIOR])


def test_import_of_a_file_that_is_no_weights_says_so_and_not_to_import_it_again(tiny, tmp_path):
    """QA: a photo given to Import was "damaged, truncated or not a PyTorch checkpoint. Download or
    import it again": advice for an installed file, not for the one being imported."""
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(2000))
    with pytest.raises(CorruptModelError) as caught:
        tiny.import_file("tiny", photo)
    said = str(caught.value)
    assert said.startswith(f"Cannot import {photo}: it is not a weight file faceapp can read")
    assert "again" not in said and not (tmp_path / "weights" / PRIOR).exists()
    with pytest.raises(CorruptModelError) as caught:  # named as the model's file by --as: the same words
        tiny.import_file("tiny", photo, as_file=PRIOR)  # (security QA: "damaged … download or import it again")
    assert str(caught.value).startswith(f"Cannot import {photo}: it is not a weight file faceapp can read")


def test_import_of_a_missing_file_says_so(tiny, tmp_path):
    with pytest.raises(ModelError, match="no such file"):
        tiny.import_file("tiny", tmp_path / "nowhere.pth")


# --- verify ---------------------------------------------------------------------------------------
def test_installed_files_verify_and_load(tiny, sources):
    for source in sources.values():
        tiny.import_file("tiny", source)
    checked = tiny.verify("tiny")
    assert [(c.name, c.method) for c in checked] == [(PRIOR, "structure"), (RESTORER, "structure")]
    manifest = tiny.get("tiny")
    for role, path in tiny.network_paths("tiny").items():
        spec = getattr(manifest, role)
        assert isinstance(loading.load_network(spec.arch, spec.config, path), torch.nn.Module)


def test_verify_rejects_a_truncated_file_with_a_clear_message(tiny, sources, tmp_path):
    tiny.import_file("tiny", sources[RESTORER])
    damaged = tmp_path / "weights" / PRIOR
    damaged.write_bytes(sources[PRIOR].read_bytes()[:5000])
    with pytest.raises(CorruptModelError) as caught:
        tiny.verify("tiny")
    assert str(damaged) in str(caught.value)
    assert "faceapp-cli models delete tiny" in str(caught.value)


def test_verify_says_a_damaged_file_though_another_is_missing(tiny, sources, tmp_path):
    """QA: a damaged file copied in by hand went unsaid: verify reported only the missing one."""
    damaged = tmp_path / "weights" / PRIOR
    damaged.parent.mkdir(parents=True, exist_ok=True)
    damaged.write_bytes(sources[PRIOR].read_bytes()[:5000])
    with pytest.raises(CorruptModelError) as caught:
        tiny.verify("tiny")
    assert str(damaged) in str(caught.value)
    damaged.unlink()
    tiny.import_file("tiny", sources[PRIOR])
    with pytest.raises(ModelNotFoundError, match="not installed") as caught:  # what is there is fine: what is missing
        tiny.verify("tiny")
    assert [file.name for file in caught.value.checked] == [PRIOR]  # listed by the CLI (review)


def test_verify_uses_the_checksum_when_known(
    manifests_dir, registry_for, configs, sources, tmp_path
):
    data = manifest_data(configs)
    for entry in data["files"]:
        entry["sha256"] = sha256(sources[entry["name"]])
    write_manifest(manifests_dir, data)
    registry = registry_for()
    for source in sources.values():
        registry.import_file("tiny", source)
    assert [c.method for c in registry.verify("tiny")] == ["sha256 and structure"] * 2
    installed = tmp_path / "weights" / RESTORER
    flipped = bytearray(installed.read_bytes())
    flipped[-100] ^= 0xFF  # same size, different content
    installed.write_bytes(bytes(flipped))
    with pytest.raises(CorruptModelError, match=f"checksum of {RESTORER}"):
        registry.verify("tiny")


def test_files_copied_in_by_hand_are_checked_once_when_the_model_loads(
    manifests_dir, registry_for, configs, sources, tmp_path
):
    """QA: weights copied into the weights folder by hand, one with flipped bytes, loaded without a
    check and pasted noise over every face; loading checks them as verify does, once."""
    import shutil

    from faceapp.core.engine import load_engine

    data = manifest_data(configs)
    for entry in data["files"]:
        entry["sha256"] = sha256(sources[entry["name"]])
    write_manifest(manifests_dir, data)
    weights = tmp_path / "weights"
    weights.mkdir()
    for name, source in sources.items():
        shutil.copy(source, weights / name)
    flipped = bytearray((weights / RESTORER).read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF  # same size: only the checksum tells
    (weights / RESTORER).write_bytes(bytes(flipped))
    registry = registry_for()
    assert registry.status("tiny").state == "unverified"
    with pytest.raises(CorruptModelError, match=f"checksum of {RESTORER}.*models delete tiny") as caught:
        load_engine("tiny", device="cpu", registry=registry)
    assert caught.value.missing == ("Tiny tiny", f"{RESTORER} (damaged)")  # (the window says it in its words)
    assert [f.state for f in registry.status("tiny").files] == ["installed", "damaged"]  # until it changes
    with pytest.raises(ModelNotFoundError, match=rf"{RESTORER} \(damaged\)"):
        load_engine("tiny", device="cpu", registry=registry)
    shutil.copy(sources[RESTORER], weights / RESTORER)  # a good copy
    assert load_engine("tiny", device="cpu", registry=registry).name == "tiny"
    assert registry.status("tiny").state == "installed"  # checked once: recorded
    assert registry.check_unverified("tiny") == []


# --- download -----------------------------------------------------------------------------------
def test_http_download_cut_mid_file_resumes_then_restores_a_face(manifests_dir, registry_for, configs, sources):
    """The whole user path: download over HTTP, connection lost, resume, verify, load, restore."""
    import numpy as np

    from faceapp.core.engine import load_engine
    from faceapp.core.settings import SamplerSettings

    files = {f"/{name}": path.read_bytes() for name, path in sources.items()}
    with serve(files) as server:
        data = manifest_data(configs)
        for entry in data["files"]:
            entry["url"] = server.url(f"/{entry['name']}")
            entry["sha256"] = sha256(sources[entry["name"]])
        write_manifest(manifests_dir, data)
        registry = registry_for()
        server.cut_after = 100_000  # bytes each response sends before the connection drops
        server.cuts_left = 10  # more cuts than one call retries: the first download gives up
        with pytest.raises(ModelDownloadError):
            registry.download("tiny")
        assert registry.status("tiny").state == "partial"
        kept = partial_path(registry.file_path(registry.get("tiny"), PRIOR)).stat().st_size
        assert 0 < kept < len(files[f"/{PRIOR}"])

        server.cuts_left = 0
        assert registry.download("tiny").installed
        resumed = [r for r in server.requests if r["path"] == f"/{PRIOR}"][-1]
        assert resumed["range"] == f"bytes={kept}-"  # resumed, not restarted
    assert [v.name for v in registry.verify("tiny")] == [PRIOR, RESTORER]
    engine = load_engine("tiny", device="cpu", registry=registry)
    faces = engine.restore(np.full((64, 64, 3), 128, np.uint8), sampler=SamplerSettings(steps=2), seeds=[0])
    assert faces[0].shape == (64, 64, 3)


def _served_from_local_files(manifests_dir, registry_for, configs, sources) -> Registry:
    """A registry whose tiny model downloads each file from its file:// URL in ``sources``."""
    data = manifest_data(configs)
    for entry in data["files"]:
        entry["url"] = sources[entry["name"]].as_uri()
    write_manifest(manifests_dir, data)
    return registry_for()


def test_download_installs_every_file(manifests_dir, registry_for, configs, sources):
    registry = _served_from_local_files(manifests_dir, registry_for, configs, sources)
    started, reports = [], []
    status = registry.download(
        "tiny",
        on_file=lambda *args: started.append(args),
        progress=lambda done, total: reports.append((len(started), done, total)),
    )
    assert status.installed
    assert started == [(PRIOR, 1, 2), (RESTORER, 2, 2)]
    sizes = {1: sources[PRIOR].stat().st_size, 2: sources[RESTORER].stat().st_size}
    assert {(n, done, total) for n, done, total in reports if done == total} == {
        (n, size, size) for n, size in sizes.items()
    }
    assert registry.network_paths("tiny")["prior"].read_bytes() == sources[PRIOR].read_bytes()


def test_cancelled_download_installs_nothing(manifests_dir, registry_for, configs, sources):
    registry = _served_from_local_files(manifests_dir, registry_for, configs, sources)
    with pytest.raises(Cancelled):
        registry.download("tiny", should_cancel=lambda: True)
    assert registry.status("tiny").state == "missing"


def test_downloaded_file_of_the_wrong_network_is_removed(manifests_dir, registry_for, configs,
                                                         sources, tmp_path):
    data = manifest_data(configs)
    data["files"][0]["url"] = sources[RESTORER].as_uri()  # the server sends the wrong file
    data["files"][1]["url"] = sources[RESTORER].as_uri()
    write_manifest(manifests_dir, data)
    with pytest.raises(ArchitectureMismatchError, match="removed"):
        registry_for().download("tiny")
    assert not (tmp_path / "weights" / PRIOR).exists()


# --- delete ---------------------------------------------------------------------------------------
def test_delete_keeps_bundled_and_shared_files(manifests_dir, registry_for, configs, tmp_path):
    data = manifest_data(configs)
    data["files"].append({"name": "shared.bin"})
    write_manifest(manifests_dir, data)
    twin = manifest_data(configs, name="twin", files=[{"name": "shared.bin"}])
    twin["restorer"] = {"arch": "identity"}
    del twin["prior"]
    write_manifest(manifests_dir, twin)
    (manifests_dir / RESTORER).write_bytes(b"bundled")
    weights = tmp_path / "weights"
    weights.mkdir()
    for name in (PRIOR, PRIOR + ".part", "shared.bin"):
        (weights / name).write_bytes(b"x")
    result = registry_for().delete("tiny")
    assert sorted(result.deleted) == [weights / PRIOR, weights / (PRIOR + ".part")]
    assert [path for path, _ in result.kept] == [manifests_dir / RESTORER, weights / "shared.bin"]
    assert (manifests_dir / RESTORER).exists() and (weights / "shared.bin").exists()
    assert not (weights / PRIOR).exists()
    # a file beside a manifest of the user's (a model exported from training) is not the app's (QA)
    why = dict(result.kept)[manifests_dir / RESTORER]
    assert why == "beside the model's own manifest (faceapp deletes only the files it downloaded or imported)"
    assert dict(Registry().deletion_plan("faceapp-compact").kept) == {
        path: "bundled with the app" for path in Registry().network_paths("faceapp-compact").values()}


def test_delete_leaves_a_download_in_progress_alone(manifests_dir, registry_for, configs, tmp_path):
    """Concurrency QA: `models delete` while `models download` ran removed the locked .part; the
    download then wrote into the removed file and ended in a traceback."""
    from faceapp.core.errors import ModelDownloadError
    from faceapp.core.file_lock import lock_exclusively

    write_manifest(manifests_dir, manifest_data(configs))
    weights = tmp_path / "weights"
    weights.mkdir()
    part = weights / (PRIOR + ".part")
    part.write_bytes(b"half a prior")
    with open(part, "ab") as downloading:
        if lock_exclusively(downloading)[0] != "locked":
            pytest.skip("no file locks here")
        with pytest.raises(ModelDownloadError, match=f"{PRIOR} of tiny is being downloaded now.*nothing was deleted"):
            registry_for().delete("tiny")
        assert part.read_bytes() == b"half a prior"
        with pytest.raises(ModelError, match="'tiny' is being downloaded now .*once that download finishes"):
            registry_for().require_installed("tiny")  # (not "download it with …", which would be refused)
    assert registry_for().delete("tiny").deleted == (part,)  # once it is over


def test_a_weights_folder_that_cannot_be_read_leaves_the_bundled_model_working(manifests_dir, configs, tmp_path,
                                                                                 monkeypatch):
    """A weights folder made by sudo (mode 700, root's): every model failed, the bundled one too,
    with a traceback (QA). Its files are missing to faceapp, the others' models work, and a restore
    needing it says why."""
    weights = tmp_path / "weights"
    weights.mkdir()
    write_manifest(manifests_dir, manifest_data(configs, name="downloaded"))
    bundled = manifest_data(configs, name="bundled", default=True)
    write_manifest(manifests_dir / "app", bundled)
    for name in (PRIOR, RESTORER):
        (manifests_dir / "app" / name).write_bytes(b"x")
    is_file = Path.is_file

    def refusing(path):
        if path.parent == weights:
            raise PermissionError(13, "Permission denied", str(path))
        return is_file(path)

    monkeypatch.setattr(Path, "is_file", refusing)  # (as root nothing is refused)
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != weights)
    registry = Registry([manifests_dir / "app", manifests_dir], weights_dir=weights)
    assert registry.default().name == "bundled" and registry.is_installed("bundled")
    assert registry.status("downloaded").state == "missing"
    with pytest.raises(ModelNotFoundError, match="cannot read its weights folder") as raised:
        registry.require_installed("downloaded")
    if os.name == "posix":
        assert f"sudo chown -R \"$USER\" {weights}" in str(raised.value)
        assert "models download" not in str(raised.value)  # the files may be there: the folder is what to mend


def test_a_weight_file_that_cannot_be_read_is_said_so(tiny, sources, monkeypatch):
    """``models verify`` and a load of a file faceapp may not read: "Cannot read …" (QA: a traceback)."""
    tiny.import_file("tiny", sources[PRIOR])
    tiny.import_file("tiny", sources[RESTORER])
    path = tiny.file_path(tiny.get("tiny"), PRIOR)

    def refusing(checked, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(checked))

    monkeypatch.setattr("faceapp.core.loading.read_state_dict", refusing)
    with pytest.raises(ModelError, match=f"Cannot read {re.escape(str(path))}: Permission denied"):
        tiny.verify("tiny")


def test_import_of_a_folder_or_a_looping_link_says_what_it_is(tiny, tmp_path):
    """Issue 13 #12: both said "there is no such file"."""
    with pytest.raises(ModelError, match="it is a folder, not a file"):
        tiny.import_file("tiny", tmp_path)
    loop = tmp_path / "loop.pth"
    loop.symlink_to(loop)
    with pytest.raises(ModelError, match="back to itself"):
        tiny.import_file("tiny", loop)


def test_a_size_mismatch_names_the_source_and_the_models_file_apart(manifests_dir, registry_for, configs, sources, tmp_path):
    """Issue 13 #13: "X has 311966 bytes but X has 623932" when source and target share a name."""
    data = manifest_data(configs)
    data["files"][0]["size"] = 2 * sources[PRIOR].stat().st_size
    write_manifest(manifests_dir, data)
    with pytest.raises(CorruptModelError) as caught:
        registry_for().import_file("tiny", sources[PRIOR])
    size = sources[PRIOR].stat().st_size
    assert f"has {size} bytes, but the model's file {PRIOR} has {2 * size}" in str(caught.value)


def test_an_interrupted_import_leaves_no_temporary_file(tiny, sources, tmp_path, monkeypatch):
    """Issue 13 #7: Ctrl-C (or SIGTERM, raised the same way) left .FILE.importing behind."""
    import shutil

    def interrupted(src, dst, length=0):
        dst.write(src.read(100))
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "copyfileobj", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tiny.import_file("tiny", sources[PRIOR])
    assert list((tmp_path / "weights").iterdir()) == []


def test_a_killed_imports_temporary_file_is_swept_by_the_next_import(tiny, sources, tmp_path):
    import subprocess
    import sys

    from faceapp.core.tempfiles import temp_prefix

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout)
    weights = tmp_path / "weights"
    weights.mkdir()
    leftover = weights / f"{temp_prefix(PRIOR, dead)}k1ll3d_0.importing"
    leftover.write_bytes(b"0" * 100)
    record = weights / f"{temp_prefix('verified', dead)}k1ll3d_1.recording"  # the record's, being renamed (QA)
    record.write_text("{}")
    (weights / f".verified.json.{dead}.tmp").write_text("{}")  # as earlier versions named it (review)
    tiny.import_file("tiny", sources[PRIOR])
    assert sorted(p.name for p in weights.iterdir()) == [".verified.json", PRIOR]


def test_a_killed_imports_copy_is_swept_when_faceapp_next_starts(manifests_dir, configs, tmp_path):
    """QA: a killed import's copy (hundreds of MB for the official weights, hidden) stayed until the
    user imported again, which most never do; the next start removes it. A live import's stays."""
    import subprocess
    import sys

    from faceapp.core.tempfiles import temp_prefix

    write_manifest(manifests_dir, manifest_data(configs))
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout)
    weights = tmp_path / "weights"
    weights.mkdir()
    killed = weights / f"{temp_prefix(PRIOR, dead)}k1ll3d_0.importing"
    killed.write_bytes(b"0" * 100)
    running = weights / f"{temp_prefix(RESTORER)}runn1ng_.importing"  # this process's: still importing
    running.write_bytes(b"0" * 100)
    registry = Registry([manifests_dir], weights_dir=weights)
    assert sorted(p.name for p in weights.iterdir()) == [running.name]
    assert [f.state for f in registry.status("tiny").files] == ["missing", "missing"]


def test_a_pickle_protocol_remark_from_torch_is_not_shown_before_the_refusal(tmp_path, recwarn):
    """Issue 13 #14: torch warned "Detected pickle protocol 4" before our own clear refusal."""
    import pickle

    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as handle:
        pickle.dump({"weight": _RunsCode(tmp_path / "code_ran")}, handle, protocol=4)
    with pytest.raises(UnsafeCheckpointError):
        loading.read_state_dict(evil)
    assert not (tmp_path / "code_ran").exists()
    assert [str(w.message) for w in recwarn if "pickle protocol" in str(w.message)] == []


def test_hand_placed_files_show_as_unverified_until_checked(tiny, sources, tmp_path):
    """Issue 13 #19: hand-placed weight files showed "installed" and were refused only at load."""
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / PRIOR).write_bytes(b"not weights at all")
    (weights / RESTORER).write_bytes(sources[RESTORER].read_bytes())
    status = tiny.status("tiny")
    assert [f.state for f in status.files] == ["unverified", "unverified"] and status.state == "unverified"
    with pytest.raises(CorruptModelError):
        tiny.verify("tiny")
    assert tiny.status("tiny").files[0].state == "damaged"  # found so: said so until the file changes (QA)
    tiny.import_file("tiny", sources[PRIOR])  # checked and copied: recorded
    assert [f.state for f in tiny.status("tiny").files] == ["installed", "unverified"]
    tiny.verify("tiny")
    assert tiny.status("tiny").state == "installed"
    (weights / RESTORER).write_bytes(sources[RESTORER].read_bytes() + b"")  # rewritten: a new file
    os.utime(weights / RESTORER, ns=(1, 1))
    assert tiny.status("tiny").files[1].state == "unverified"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_imported_and_saved_weights_get_a_plain_files_permissions(tiny, sources, tmp_path):
    """Model files written through a private temporary file (an import, a training export) are
    readable as any new file is, so another account or a bundled install can load them."""
    umask = os.umask(0o022)
    os.umask(umask)
    imported = tiny.import_file("tiny", sources[PRIOR])
    saved = loading.save_safetensors({"w": torch.zeros(2)}, tmp_path / "saved.safetensors")
    assert [p.stat().st_mode & 0o777 for p in (imported, saved)] == [0o666 & ~umask] * 2
