"""The improved-diffusion UNet against the official code's golden outputs and key listings."""

from __future__ import annotations

import json

import pytest
import torch

from faceapp.core.nets.unet import UNetModel

torch.set_num_threads(2)

ATOL = 5e-5


def _read_keys(path):
    rows = {}
    for line in path.read_text().splitlines():
        key, shape, dtype = line.split("\t")
        rows[key] = (tuple(json.loads(shape)), dtype)
    return rows


@pytest.fixture(scope="module")
def golden_unet(golden_dir):
    config = json.loads((golden_dir / "unet_small.json").read_text())["constructor_args"]
    model = UNetModel(**config).eval()
    state = torch.load(golden_dir / "unet_small.pth", weights_only=True)
    model.load_state_dict(state, strict=True)
    io = torch.load(golden_dir / "unet_small_io.pth", weights_only=True)
    return model, io, config


def test_golden_output_and_intermediates_match(golden_unet):
    model, io, _ = golden_unet
    seen = {}
    hooks = [
        model.middle_block.register_forward_hook(lambda m, i, o: seen.update(h_middle=o)),
        model.out.register_forward_hook(lambda m, i, o: seen.update(h_before_out=i[0])),
    ]
    try:
        with torch.no_grad():
            out = model(io["x"], io["t"])
            emb = model.time_embedding(io["t"])
    finally:
        for hook in hooks:
            hook.remove()
    torch.testing.assert_close(emb, io["emb"], rtol=0, atol=ATOL)
    torch.testing.assert_close(seen["h_middle"], io["h_middle"], rtol=0, atol=ATOL)
    torch.testing.assert_close(seen["h_before_out"], io["h_before_out"], rtol=0, atol=ATOL)
    torch.testing.assert_close(out, io["out"], rtol=0, atol=ATOL)


def test_state_dict_keys_follow_official_order(golden_dir):
    config = json.loads((golden_dir / "unet_small.json").read_text())["constructor_args"]
    state = torch.load(golden_dir / "unet_small.pth", weights_only=True)
    with torch.device("meta"):
        model = UNetModel(**config)
    assert list(model.state_dict()) == list(state)


@pytest.mark.parametrize(
    ("name", "n_params"), [("iddpm_ffhq512", 159_788_454), ("iddpm_ffhq256", 124_056_710)]
)
def test_full_official_config_matches_key_listing(golden_dir, name, n_params):
    params = json.loads((golden_dir / f"config_{name}.json").read_text())["params"]
    expected = _read_keys(golden_dir / f"keys_{name}.tsv")
    with torch.device("meta"):
        model = UNetModel(**params)
    got = {
        k: (tuple(v.shape), str(v.dtype).removeprefix("torch."))
        for k, v in model.state_dict().items()
    }
    assert got == expected
    assert sum(p.numel() for p in model.parameters()) == n_params


def test_bfloat16_weights_run_and_stay_close(golden_unet):
    model, io, config = golden_unet
    low = UNetModel(**config).eval()
    low.load_state_dict(model.state_dict())
    low = low.to(torch.bfloat16)
    with torch.no_grad():
        out = low(io["x"], io["t"])
    assert out.dtype == torch.float32  # the result follows the input's dtype
    assert torch.isfinite(out).all()
    assert (out - io["out"]).abs().mean() < 0.1


def test_cpu_autocast_bfloat16_runs(golden_unet):
    model, io, _ = golden_unet
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(io["x"], io["t"])
    assert out.dtype == torch.float32
    assert (out - io["out"]).abs().mean() < 0.1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_float16_autocast_matches(golden_unet):
    model, io, config = golden_unet
    cuda_model = UNetModel(**config).eval().cuda()
    cuda_model.load_state_dict(model.state_dict())
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
        out = cuda_model(io["x"].cuda(), io["t"].cuda())
    assert out.dtype == torch.float32
    assert (out.cpu() - io["out"]).abs().max() < 0.05


def test_scalar_timestep_is_broadcast(golden_unet):
    model, io, _ = golden_unet
    with torch.no_grad():
        batch = model(io["x"], torch.full((2,), 396, dtype=torch.int64))
        scalar = model(io["x"], torch.tensor(396))
    torch.testing.assert_close(scalar, batch)
    torch.testing.assert_close(batch[0], io["out"][0], rtol=0, atol=ATOL)


@pytest.mark.parametrize(
    "change",
    [
        {"dims": 1},
        {"num_classes": 10},
        {"use_new_attention_order": True},
        {"resblock_updown": True},
        {"num_res_blocks": [1, 2]},
    ],
)
def test_unsupported_options_are_refused(golden_dir, change):
    config = json.loads((golden_dir / "unet_small.json").read_text())["constructor_args"]
    with pytest.raises(ValueError, match=next(iter(change))), torch.device("meta"):
        UNetModel(**{**config, **change})


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_group_norm_of_bf16_on_the_cpu_matches_the_float32_path(layout, training):
    """bf16 input skips the casts to float32 and back on the CPU in inference (speed), and takes
    them while autograd records (their backward is 2× faster in channels_last); either way the
    result must be the float32 normalisation rounded to bf16, in the input's dtype and layout."""
    from faceapp.core.nets.unet import GroupNorm32

    torch.manual_seed(0)
    norm = GroupNorm32(8, 32)
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    x = (torch.randn(2, 32, 16, 16) * 3 + 1).to(torch.bfloat16).contiguous(memory_format=layout).requires_grad_(training)
    with torch.set_grad_enabled(training):
        out = norm(x)
    reference = torch.nn.functional.group_norm(x.detach().float(), 8, norm.weight, norm.bias, norm.eps)
    assert out.dtype == torch.bfloat16 and out.is_contiguous(memory_format=layout)
    torch.testing.assert_close(out.float(), reference, atol=0.0, rtol=2**-7)  # bf16 keeps 8 bits
    if training:
        out.float().sum().backward()
        assert x.grad is not None and norm.weight.grad is not None and torch.isfinite(x.grad.float()).all()
