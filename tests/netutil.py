"""Reusable network helpers for tests: tiny configs, random weights, checkpoint round trips.

Other test files use these to write small checkpoints in the official layout, e.g.::

    from netutil import SMALL_UNET_CONFIG, write_checkpoint
    write_checkpoint("iddpm_unet", SMALL_UNET_CONFIG, tmp_path / "prior.safetensors")
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from faceapp.core.loading import build_network, load_network, save_safetensors

#: A 64 px improved-diffusion UNet (ε + variance, 6 output channels), about 1.3 M parameters.
SMALL_UNET_CONFIG: dict = {
    "image_size": 64,
    "in_channels": 3,
    "model_channels": 32,
    "out_channels": 6,
    "attention_resolutions": [16],
    "dropout": 0,
    "channel_mult": [1, 2, 2],
    "num_res_blocks": 1,
    "conv_resample": True,
    "dims": 2,
    "use_fp16": False,
    "num_head_channels": 32,
    "use_scale_shift_norm": True,
    "resblock_updown": False,
    "use_new_attention_order": False,
}
SMALL_UNET_CONFIG_64 = SMALL_UNET_CONFIG

#: A 32 px variant (two levels, attention at 16 px).
SMALL_UNET_CONFIG_32: dict = {
    **SMALL_UNET_CONFIG,
    "image_size": 32,
    "channel_mult": [1, 2],
    "attention_resolutions": [16],
}

#: A SwinIR restorer with the official options; image sides must be multiples of 32
#: (sf 8 × window 4) to avoid padding. 64 px images give 8×8 tokens (2×2 shifted windows).
SMALL_SWINIR_CONFIG: dict = {
    "img_size": 8,
    "patch_size": 1,
    "in_chans": 3,
    "embed_dim": 24,
    "depths": [2],
    "num_heads": [2],
    "window_size": 4,
    "mlp_ratio": 2,
    "sf": 8,
    "img_range": 1.0,
    "upsampler": "nearest+conv",
    "resi_connection": "1conv",
    "unshuffle": True,
    "unshuffle_scale": 8,
}

SMALL_CONFIGS: dict[str, dict] = {
    "iddpm_unet": SMALL_UNET_CONFIG,
    "swinir": SMALL_SWINIR_CONFIG,
    "identity": {},
}


def random_network(arch: str, config: dict, *, seed: int = 0) -> nn.Module:
    """Build ``arch`` with every parameter drawn from a seeded generator (nothing zero), eval."""
    model = build_network(arch, config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:  # conv / linear weights: variance-preserving N(0, 1/fan_in)
                std = 1.0 / math.sqrt(p[0].numel())
                p.copy_(torch.randn(p.shape, generator=gen) * std)
            elif name.endswith("weight"):  # norm gammas
                p.copy_(1.0 + 0.02 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.02 * torch.randn(p.shape, generator=gen))
    return model.eval()


def example_inputs(arch: str, config: dict, *, batch: int = 2, seed: int = 0) -> tuple:
    """Positional inputs for one forward call of ``arch`` at its natural size."""
    gen = torch.Generator().manual_seed(seed)
    if arch == "iddpm_unet":
        size = config["image_size"]
        x = torch.randn(batch, config["in_channels"], size, size, generator=gen)
        t = torch.randint(0, 1000, (batch,), generator=gen)
        return x, t
    side = config["img_size"] * config["sf"] if arch == "swinir" else 64
    return (torch.rand(batch, 3, side, side, generator=gen),)


def write_checkpoint(
    arch: str, config: dict, path: str | Path, *, seed: int = 0, dtype: torch.dtype | None = None
) -> dict[str, torch.Tensor]:
    """Write a random network's weights to ``path`` (.safetensors or torch .pth); return them.

    ``dtype`` casts floating tensors (safetensors default: keep float32).
    """
    path = Path(path)
    state = random_network(arch, config, seed=seed).state_dict()
    if path.suffix == ".safetensors":
        save_safetensors(state, path, dtype=dtype)
    else:
        if dtype is not None:
            state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
        torch.save(state, path)
    return state


def assert_round_trip(arch: str, config: dict, folder: str | Path, *, seed: int = 0) -> None:
    """Save a random ``arch`` as .pth and .safetensors, reload both, and compare outputs."""
    folder = Path(folder)
    model = random_network(arch, config, seed=seed)
    inputs = example_inputs(arch, config, seed=seed)
    with torch.no_grad():
        expected = model(*inputs)
    state = model.state_dict()
    torch.save(state, folder / f"{arch}.pth")
    save_safetensors(state, folder / f"{arch}.safetensors", dtype=None)
    for name in (f"{arch}.pth", f"{arch}.safetensors"):
        loaded = load_network(arch, config, folder / name)
        assert not loaded.training, f"{name}: not in eval mode"
        with torch.no_grad():
            got = loaded(*inputs)
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-6, msg=f"{name} differs")
        reloaded = loaded.state_dict()
        assert reloaded.keys() == state.keys(), f"{name}: keys changed"
        for key, value in state.items():
            assert torch.equal(reloaded[key], value), f"{name}: {key} changed"
