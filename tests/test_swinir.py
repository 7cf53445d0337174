"""The SwinIR restorer against the official code's golden outputs and key listing."""

from __future__ import annotations

import json

import pytest
import torch

from faceapp.core.nets.swinir import SwinIR

torch.set_num_threads(2)

ATOL = 2e-5


@pytest.fixture(scope="module")
def golden(golden_dir):
    config = json.loads((golden_dir / "swinir_small.json").read_text())["constructor_args"]
    state = torch.load(golden_dir / "swinir_small.pth", weights_only=True)
    model = SwinIR(**config).eval()
    model.load_state_dict(state, strict=True)
    io = torch.load(golden_dir / "swinir_small_io.pth", weights_only=True)
    return model, state, io, config


def test_golden_square_output_and_features_match(golden):
    model, _, io, _ = golden
    seen = {}
    hook = model.conv_first.register_forward_hook(lambda m, i, o: seen.update(first=o))
    try:
        with torch.no_grad():
            out = model(io["x"])
    finally:
        hook.remove()
    torch.testing.assert_close(seen["first"], io["feat_first"], rtol=0, atol=ATOL)
    torch.testing.assert_close(out, io["out"], rtol=0, atol=ATOL)


def test_golden_non_square_output_matches(golden):
    model, _, io, _ = golden
    with torch.no_grad():
        out = model(io["x_nonsquare"])
    torch.testing.assert_close(out, io["out_nonsquare"], rtol=0, atol=ATOL)


def test_state_dict_equals_official_one_including_buffers(golden):
    model, state, _, _ = golden
    ours = model.state_dict()
    assert list(ours) == list(state)
    for key, value in state.items():
        assert ours[key].dtype == value.dtype, key
        assert torch.equal(ours[key], value), key


def test_derived_buffers_from_the_file_are_not_trusted(golden):
    model, state, io, config = golden
    tampered = {
        k: (torch.zeros_like(v) if k.endswith(("attn_mask", "relative_position_index")) else v)
        for k, v in state.items()
    }
    fresh = SwinIR(**config).eval()
    fresh.load_state_dict(tampered, strict=True)
    with torch.no_grad():
        out = fresh(io["x"])
    torch.testing.assert_close(out, io["out"], rtol=0, atol=ATOL)
    assert torch.equal(fresh.state_dict()["layers.0.residual_group.blocks.1.attn_mask"],
                       state["layers.0.residual_group.blocks.1.attn_mask"])


def test_derived_buffers_may_be_absent_from_the_file(golden):
    _, state, io, config = golden
    params_only = {
        k: v for k, v in state.items()
        if not k.endswith(("attn_mask", "relative_position_index"))
    }
    fresh = SwinIR(**config).eval()
    fresh.load_state_dict(params_only, strict=True)
    with torch.no_grad():
        out = fresh(io["x_nonsquare"])
    torch.testing.assert_close(out, io["out_nonsquare"], rtol=0, atol=ATOL)


def test_full_official_config_matches_key_listing(golden_dir):
    params = json.loads((golden_dir / "config_swinir_restoration512.json").read_text())["params"]
    expected = {}
    for line in (golden_dir / "keys_swinir_restoration512.tsv").read_text().splitlines():
        key, shape, dtype = line.split("\t")
        expected[key] = (tuple(json.loads(shape)), dtype)
    with torch.device("meta"):
        model = SwinIR(**params)
    got = {
        k: (tuple(v.shape), str(v.dtype).removeprefix("torch."))
        for k, v in model.state_dict().items()
    }
    assert got == expected
    assert sum(p.numel() for p in model.parameters()) == 15_792_587


@pytest.mark.parametrize("size", [(100, 72), (20, 30)])
def test_any_input_size_is_padded_and_cropped_back(golden, size):
    model, _, _, _ = golden
    x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(x)
    assert out.shape == x.shape
    assert torch.isfinite(out).all()


def test_output_is_not_clamped(golden):
    model, _, io, _ = golden
    with torch.no_grad():
        out = model(io["x"])
    assert out.min() < 0  # the golden output dips below 0; the restorer must not clamp it


@pytest.mark.parametrize(
    "change",
    [{"upsampler": "pixelshuffle"}, {"unshuffle": False}, {"resi_connection": "3conv"},
     {"sf": 6}, {"unshuffle_scale": 4}, {"depths": [2, 2, 2]}],
)
def test_unsupported_configurations_are_refused(golden, change):
    _, _, _, config = golden
    with pytest.raises(ValueError, match="unsupported SwinIR configuration"):
        SwinIR(**{**config, **change})


def test_bfloat16_weights_run(golden):
    _, state, io, config = golden
    model = SwinIR(**config).eval()
    model.load_state_dict(state)
    model = model.to(torch.bfloat16)
    with torch.no_grad():
        out = model(io["x"])
    assert out.dtype == torch.float32  # the result follows the input's dtype
    assert (out - io["out"]).abs().mean() < 0.05
