"""Reading checkpoints safely, normalising keys, and strictly loading networks by arch name."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from netutil import SMALL_CONFIGS, SMALL_SWINIR_CONFIG, assert_round_trip

from faceapp.core.errors import (
    ArchitectureMismatchError,
    CorruptModelError,
    ModelNotFoundError,
    UnsafeCheckpointError,
)
from faceapp.core.loading import (
    ARCHITECTURES,
    build_network,
    check_state_dict,
    count_parameters,
    load_network,
    read_state_dict,
    save_safetensors,
)

torch.set_num_threads(2)


class NotATensor:
    """A custom class: unpickling it means importing and running code named by the file."""

    def __init__(self) -> None:
        self.payload = "anything"


@pytest.fixture(scope="module")
def swinir_golden(golden_dir):
    config = json.loads((golden_dir / "swinir_small.json").read_text())["constructor_args"]
    state = torch.load(golden_dir / "swinir_small.pth", weights_only=True)
    io = torch.load(golden_dir / "swinir_small_io.pth", weights_only=True)
    return config, state, io


def _restore(config, source, x, **options):
    model = load_network("swinir", config, source, **options)
    with torch.no_grad():
        return model(x)


# --- architectures -------------------------------------------------------------------------
def test_unknown_architecture_names_the_known_ones():
    assert {"iddpm_unet", "swinir", "identity"} <= set(ARCHITECTURES)
    with pytest.raises(ArchitectureMismatchError) as err:
        build_network("stylegan", {})
    assert "stylegan" in str(err.value)
    assert all(name in str(err.value) for name in ("iddpm_unet", "swinir", "identity"))


def test_invalid_config_is_an_architecture_error():
    with pytest.raises(ArchitectureMismatchError, match="swinir.*upsampler"):
        build_network("swinir", {**SMALL_SWINIR_CONFIG, "upsampler": "pixelshuffle"})
    with pytest.raises(ArchitectureMismatchError, match="iddpm_unet.*no_such_option"):
        build_network("iddpm_unet", {"image_size": 64, "no_such_option": 1})
    # sizes a stranger's manifest may give (security QA: "unexpected error" at every restore)
    with pytest.raises(ArchitectureMismatchError, match="conv_restorer.*not valid"):
        build_network("conv_restorer", {"in_chans": 3, "unshuffle": 4, "channels": [-64, 128, 256], "blocks": [1, 1, 1]},
                      device="meta")


def test_a_restorer_built_to_check_a_files_shapes_makes_no_window_masks(golden_dir, monkeypatch):
    """Security QA: a manifest's img_size of 2000 made 3 GB of shifted-window masks on the CPU to
    check a 5 KB file's shapes. Built on "meta", the masks are shapes alone (those a real build
    makes), and a grid larger than any face needs is refused."""
    import faceapp.core.nets.swinir as swinir

    params = json.loads((golden_dir / "config_swinir_restoration512.json").read_text())["params"]
    real = {k: tuple(v.shape) for k, v in build_network("swinir", params).state_dict().items() if "attn_mask" in k}
    monkeypatch.setattr(swinir, "shifted_window_mask", lambda *a: pytest.fail("masks made"))
    checked = build_network("swinir", params, device="meta").state_dict()
    assert real and {k: tuple(checked[k].shape) for k in real} == real
    build_network("swinir", {**params, "img_size": swinir.MAX_GRID}, device="meta")  # (the largest: shapes alone)
    with pytest.raises(ArchitectureMismatchError, match=f"img_size must be within 1…{swinir.MAX_GRID}"):
        build_network("swinir", {**params, "img_size": 2000}, device="meta")
    with pytest.raises(ArchitectureMismatchError, match="attention masks would take 8.0 GiB"):  # (review: a window of
        build_network("swinir", {**params, "img_size": 256, "window_size": 128, "depths": [2], "num_heads": [1]},
                      device="meta")  # 128 got by)
    monkeypatch.undo()
    for device in ("cpu", "meta"):  # a grid that is no multiple of the window: refused alike (review: the check
        with pytest.raises(ArchitectureMismatchError):  # passed on meta, and every restore then failed)
            build_network("swinir", {**params, "img_size": params["img_size"] - 4}, device=device)


def test_memory_running_out_while_a_network_is_built_is_not_called_a_bad_configuration(monkeypatch):
    """Review: every RuntimeError became "the configuration … is not valid", the memory running out too."""
    import faceapp.core.loading as loading

    def short_of_memory(config):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 2359296 bytes.")

    monkeypatch.setitem(loading.ARCHITECTURES, "conv_restorer", short_of_memory)
    with pytest.raises(RuntimeError, match="can't allocate memory") as raised:
        build_network("conv_restorer", {})
    assert not isinstance(raised.value, ArchitectureMismatchError)


def test_full_prior_builds_on_meta_without_allocating(golden_dir):
    params = json.loads((golden_dir / "config_iddpm_ffhq512.json").read_text())["params"]
    model = build_network("iddpm_unet", params, device="meta")
    assert all(t.is_meta for t in model.state_dict().values())
    assert count_parameters(model) == 159_788_454


@pytest.mark.parametrize(
    ("arch", "name", "n_params"),
    [
        ("iddpm_unet", "iddpm_ffhq512", 159_788_454),
        ("iddpm_unet", "iddpm_ffhq256", 124_056_710),
        ("swinir", "swinir_restoration512", 15_792_587),
    ],
)
def test_official_configs_accept_their_key_listing(golden_dir, arch, name, n_params):
    params = json.loads((golden_dir / f"config_{name}.json").read_text())["params"]
    listing = {}
    for line in (golden_dir / f"keys_{name}.tsv").read_text().splitlines():
        key, shape, dtype = line.split("\t")
        listing[key] = torch.empty(json.loads(shape), dtype=getattr(torch, dtype), device="meta")
    check_state_dict(arch, params, listing)  # raises on any key or shape difference
    model = build_network(arch, params, device="meta")
    assert {k: (v.shape, v.dtype) for k, v in model.state_dict().items()} == {
        k: (v.shape, v.dtype) for k, v in listing.items()
    }
    assert count_parameters(model) == n_params


# --- golden checkpoints through the loader -------------------------------------------------
def test_golden_unet_file_loads_strictly_and_matches(golden_dir):
    config = json.loads((golden_dir / "unet_small.json").read_text())["constructor_args"]
    io = torch.load(golden_dir / "unet_small_io.pth", weights_only=True)
    model = load_network("iddpm_unet", config, golden_dir / "unet_small.pth")
    assert not model.training
    with torch.no_grad():
        out = model(io["x"], io["t"])
    torch.testing.assert_close(out, io["out"], rtol=0, atol=5e-5)


def test_golden_swinir_file_loads_strictly_and_matches(golden_dir, swinir_golden):
    config, state, io = swinir_golden
    assert list(read_state_dict(golden_dir / "swinir_small.pth")) == list(state)
    out = _restore(config, golden_dir / "swinir_small.pth", io["x"])
    torch.testing.assert_close(out, io["out"], rtol=0, atol=2e-5)


# --- checkpoint layouts ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: sd,
        lambda sd: {"state_dict": sd, "epoch": 3},
        lambda sd: {"module." + k: v for k, v in sd.items()},
        lambda sd: {"state_dict": {"module." + k: v for k, v in sd.items()}},
        lambda sd: {"params_ema": sd, "params": {k: v * 0 for k, v in sd.items()}},
    ],
    ids=["bare", "state_dict", "module_prefix", "both", "params_ema_preferred"],
)
def test_common_checkpoint_layouts_load(tmp_path, swinir_golden, wrap):
    config, state, io = swinir_golden
    path = tmp_path / "restorer.pth"
    torch.save(wrap(state), path)
    out = _restore(config, path, io["x"])
    torch.testing.assert_close(out, io["out"], rtol=0, atol=2e-5)


def test_safetensors_float32_and_float16(tmp_path, swinir_golden):
    config, state, io = swinir_golden
    save_safetensors(state, tmp_path / "f32.safetensors", dtype=None)
    save_safetensors(state, tmp_path / "f16.safetensors")  # float16 is the default
    assert read_state_dict(tmp_path / "f16.safetensors")["conv_last.weight"].dtype == torch.float16
    out32 = _restore(config, tmp_path / "f32.safetensors", io["x"])
    torch.testing.assert_close(out32, io["out"], rtol=0, atol=2e-5)
    model16 = load_network("swinir", config, tmp_path / "f16.safetensors")
    assert model16.conv_last.weight.dtype == torch.float32  # loaded in the requested dtype
    with torch.no_grad():
        out16 = model16(io["x"])
    assert (out16 - io["out"]).abs().max() < 5e-3  # only float16 rounding of the weights


def test_safetensors_export_omits_derived_buffers_and_leaves_no_temp_file(tmp_path, swinir_golden):
    _, state, _ = swinir_golden
    path = save_safetensors(state, tmp_path / "out" / "model.safetensors")
    keys = set(read_state_dict(path))
    assert not any(k.endswith(("attn_mask", "relative_position_index")) for k in keys)
    assert "conv_first.1.weight" in keys
    assert [p.name for p in path.parent.iterdir()] == ["model.safetensors"]


def safetensors_metadata(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return fh.metadata()


def test_saving_the_same_weights_again_gives_the_same_bytes(tmp_path, swinir_golden):
    """Re-exporting unchanged weights must not make a new file (or a new checksum in a manifest,
    or a new blob in git): safetensors itself writes metadata keys in a random order per save."""
    _, state, _ = swinir_golden
    metadata = {f"key{i}": str(i) for i in range(8)}
    path = save_safetensors(state, tmp_path / "model.safetensors", metadata=metadata)
    first = path.read_bytes()
    for _ in range(3):
        save_safetensors(state, path, metadata=metadata)
        assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary file left
    # a changed tensor, metadata value or dtype is written
    save_safetensors(state, path, metadata=dict(metadata, key0="x"))
    assert safetensors_metadata(path)["key0"] == "x"
    changed = dict(state, **{"conv_last.bias": state["conv_last.bias"] + 1})
    save_safetensors(changed, path, metadata=dict(metadata, key0="x"))
    assert read_state_dict(path)["conv_last.bias"].equal(changed["conv_last.bias"].half())
    save_safetensors(state, path, metadata=metadata, dtype=None)
    assert read_state_dict(path)["conv_last.bias"].dtype == torch.float32


def test_state_dict_source_is_copied_not_shared(swinir_golden):
    config, state, io = swinir_golden
    given = {k: v.clone() for k, v in state.items()}
    model = load_network("swinir", config, given)
    given["conv_last.bias"].add_(10.0)
    with torch.no_grad():
        out = model(io["x"])
    torch.testing.assert_close(out, io["out"], rtol=0, atol=2e-5)


def test_dtype_option_casts_floats_only(swinir_golden):
    config, state, _ = swinir_golden
    model = load_network("swinir", config, state, dtype=torch.bfloat16)
    loaded = model.state_dict()
    assert loaded["conv_last.weight"].dtype == torch.bfloat16
    assert loaded["layers.0.residual_group.blocks.0.attn.relative_position_index"].dtype == torch.int64


def test_identity_needs_no_weights():
    model = load_network("identity", {}, {})
    x = torch.rand(1, 3, 8, 8)
    out = model(x)
    assert torch.equal(out, x) and out is not x
    assert count_parameters(model) == 0


# --- refusing unsafe and damaged files -------------------------------------------------------
def test_pickled_custom_object_is_refused(tmp_path, swinir_golden):
    _, state, _ = swinir_golden
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": state, "extra": NotATensor()}, path)
    with pytest.raises(UnsafeCheckpointError, match="refused|Refused") as err:
        read_state_dict(path)
    assert "evil.pth" in str(err.value) and "pickled Python objects" in str(err.value)


def test_pickled_whole_module_is_refused(tmp_path):
    path = tmp_path / "whole_model.pth"
    torch.save(torch.nn.Conv2d(3, 3, 1), path)
    with pytest.raises(UnsafeCheckpointError, match="whole_model.pth"):
        load_network("swinir", SMALL_SWINIR_CONFIG, path)


def test_legacy_format_pickled_object_is_refused(tmp_path):
    path = tmp_path / "legacy.pth"
    torch.save({"x": NotATensor()}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeCheckpointError):
        read_state_dict(path)


def _write_truncated(tmp_path, golden_dir):
    data = (golden_dir / "swinir_small.pth").read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp, g: _write_truncated(tmp, g),
        lambda tmp, g: _write(tmp / "notes.pth", b"these are not the weights you are looking for\n"),
        lambda tmp, g: _write(tmp / "empty.pth", b""),
        lambda tmp, g: _write(tmp / "bad.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage"),
    ],
    ids=["truncated", "text", "empty", "bad_safetensors"],
)
def test_damaged_files_are_corrupt_not_unsafe(tmp_path, golden_dir, make):
    path = make(tmp_path, golden_dir)
    with pytest.raises(CorruptModelError) as err:
        read_state_dict(path)
    assert not isinstance(err.value, UnsafeCheckpointError)
    assert path.name in str(err.value)


def test_file_without_tensors_is_corrupt(tmp_path):
    path = tmp_path / "numbers.pth"
    torch.save({"epoch": 3, "lr": 0.1}, path)
    with pytest.raises(CorruptModelError, match="does not contain network weights"):
        read_state_dict(path)


def test_a_file_of_too_many_tensors_is_refused_before_they_are_made(tmp_path, monkeypatch):
    """Security QA: a file of 1.5 million empty tensors took 30 s and 2.9 GB before it was refused;
    the header's count is read first, and the tensors are never made."""
    import safetensors
    import safetensors.torch

    from faceapp.core import loading

    real_open = safetensors.safe_open

    class HeaderOnly:  # safetensors' file, its tensors never to be made
        def __init__(self, *args, **kwargs):
            self._file = real_open(*args, **kwargs)

        def __enter__(self):
            self._handle = self._file.__enter__()
            return self

        def __exit__(self, *exc):
            return self._file.__exit__(*exc)

        def keys(self):
            return self._handle.keys()

        def get_tensor(self, key):
            pytest.fail("the tensors were made")

    path = tmp_path / "many.safetensors"
    safetensors.torch.save_file({f"t{i}": torch.zeros(0) for i in range(12)}, str(path))
    monkeypatch.setattr(loading, "MAX_TENSORS", 11)
    monkeypatch.setattr(safetensors, "safe_open", HeaderOnly)
    with pytest.raises(CorruptModelError, match="declares 12 tensors"):
        read_state_dict(path)
    escaped = tmp_path / "escaped.safetensors"  # the same header, its keys written with JSON escapes (review)
    header = {f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(12)}
    text = json.dumps(header).replace('"data_offsets"', '"data\\u005foffsets"').encode()
    escaped.write_bytes(len(text).to_bytes(8, "little") + text)
    with pytest.raises(CorruptModelError, match="declares 12 tensors"):
        read_state_dict(escaped)
    monkeypatch.undo()  # (safe_open back)
    monkeypatch.setattr(loading, "MAX_TENSORS", 12)  # as many as allowed: read
    assert len(read_state_dict(path)) == 12


def test_a_checkpoint_whose_tensors_are_compressed_is_refused_before_they_are_unpacked(tmp_path, monkeypatch):
    """Security QA: torch reads a zip checkpoint's compressed entries too, so a 2.9 MB file unpacked
    3 GB of zeros (3.6 GB of memory) before its names and shapes were looked at. torch writes its
    entries stored, and so does every file it saved: one compressed is refused unread."""
    import zipfile

    saved = tmp_path / "saved.pth"
    torch.save({"weight": torch.arange(1000, dtype=torch.float32)}, saved)
    assert read_state_dict(saved)["weight"][999] == 999  # as torch writes it: read
    packed = tmp_path / "packed.pth"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(packed, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info), compress_type=zipfile.ZIP_DEFLATED)
    scripted = tmp_path / "scripted.pt"  # TorchScript, whose code (not tensors) torch compresses: not said to be
    with pytest.raises(CorruptModelError) as raised, warnings.catch_warnings():  # "compressed tensors" (review)
        warnings.simplefilter("ignore")  # (torch's remarks: TorchScript is deprecated, and looks like it)
        torch.jit.save(torch.jit.script(torch.nn.Linear(3, 3)), str(scripted))
        read_state_dict(scripted)
    assert "compressed" not in str(raised.value)
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch read it"))
    with pytest.raises(CorruptModelError, match="its tensors or their index are compressed"):
        read_state_dict(packed)
    pickled = tmp_path / "pickled.pth"  # only its pickle compressed (review: a 300 MB string in 299 KB got by)
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(pickled, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info), compress_type=zipfile.ZIP_DEFLATED
                            if info.filename.endswith("data.pkl") else zipfile.ZIP_STORED)
    with pytest.raises(CorruptModelError, match="data.pkl"):
        read_state_dict(pickled)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no_such_file.pth"):
        read_state_dict(tmp_path / "no_such_file.pth")


def _write(path, data):
    path.write_bytes(data)
    return path


# --- wrong network for the weights ----------------------------------------------------------
def test_unet_weights_as_swinir_are_a_mismatch(golden_dir):
    with pytest.raises(ArchitectureMismatchError) as err:
        load_network("swinir", SMALL_SWINIR_CONFIG, golden_dir / "unet_small.pth")
    message = str(err.value)
    assert "missing" in message and "conv_first.1.weight" in message
    assert "unexpected" in message and "time_embed.0.weight" in message


def test_wrong_config_reports_shape_mismatches(golden_dir):
    config = json.loads((golden_dir / "unet_small.json").read_text())["constructor_args"]
    with pytest.raises(ArchitectureMismatchError) as err:
        load_network("iddpm_unet", {**config, "model_channels": 64}, golden_dir / "unet_small.pth")
    assert "wrong shape" in str(err.value) and "time_embed.0.weight" in str(err.value)


# --- round trip of every architecture (tests/netutil.py) ------------------------------------
@pytest.mark.parametrize("arch", sorted(SMALL_CONFIGS))
def test_random_network_round_trips_through_files(tmp_path, arch):
    assert_round_trip(arch, SMALL_CONFIGS[arch], tmp_path)
