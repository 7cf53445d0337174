"""The precision setting: what auto picks per device, and bf16 forwards against the golden outputs."""

from __future__ import annotations

import json

import pytest
import torch

from faceapp.core.errors import DeviceError
from faceapp.core.loading import load_network
from faceapp.core.precision import resolve_precision

CPU = torch.device("cpu")
#: bf16 keeps 8 bits of mantissa: stated tolerances of the golden networks' outputs in bf16
BF16_UNET_ATOL = 0.05  # outputs of magnitude ~3
BF16_SWINIR_ATOL = 0.02  # outputs in [0, 1]


@pytest.mark.parametrize(("flag", "expected"), [("1", "bf16"), ("0", "fp32")])
def test_auto_uses_bf16_only_on_a_cpu_that_runs_it_fast(monkeypatch, flag, expected):
    monkeypatch.setenv("FACEAPP_CPU_BF16", flag)
    precision = resolve_precision("auto", CPU)
    assert precision.name == expected
    assert precision.weights == {"bf16": torch.bfloat16, "fp32": torch.float32}[expected]


def test_cuda_keeps_fp32_weights_under_fp16_autocast():
    precision = resolve_precision("auto", torch.device("cuda"))
    assert (precision.name, precision.weights, precision.autocast) == ("fp16", torch.float32, torch.float16)


def test_explicit_choices_and_refusals():
    assert resolve_precision("fp32", CPU).weights == torch.float32
    assert resolve_precision("BF16", CPU).channels_last and resolve_precision("fp32", CPU).channels_last
    with pytest.raises(DeviceError, match="fp16 runs on CUDA"):
        resolve_precision("fp16", CPU)
    with pytest.raises(DeviceError, match="unknown precision"):
        resolve_precision("int8", CPU)


@pytest.mark.parametrize("macos_14", [True, False])
def test_bf16_on_an_apple_gpu_is_refused_in_words_before_macos_14(monkeypatch, macos_14):
    """Portability QA: torch takes bf16 on an Apple GPU from macOS 14 only, and refused it as the weights
    were cast, with a traceback."""
    monkeypatch.setattr(torch.backends.mps, "is_macos_or_newer", lambda major, minor: macos_14 or (major, minor) < (14, 0))
    mps = torch.device("mps")
    if macos_14:
        assert resolve_precision("bf16", mps).weights == torch.bfloat16
    else:
        with pytest.raises(DeviceError, match="bf16 on an Apple GPU needs macOS 14 or newer"):
            resolve_precision("bf16", mps)
    assert resolve_precision("fp16", mps).weights == torch.float16 and resolve_precision("auto", mps).name == "fp32"


@pytest.mark.parametrize(("arch", "stem", "atol"), [("iddpm_unet", "unet_small", BF16_UNET_ATOL),
                                                     ("swinir", "swinir_small", BF16_SWINIR_ATOL)])
def test_bf16_networks_stay_within_the_stated_tolerance_of_the_golden_outputs(golden_dir, arch, stem, atol):
    config = json.loads((golden_dir / f"{stem}.json").read_text())["constructor_args"]
    io = torch.load(golden_dir / f"{stem}_io.pth", weights_only=True)
    net = resolve_precision("bf16", CPU).prepare(load_network(arch, config, golden_dir / f"{stem}.pth"))
    assert next(net.parameters()).dtype == torch.bfloat16
    with torch.inference_mode():
        out = net(io["x"], io["t"]) if arch == "iddpm_unet" else net(io["x"])
    assert out.dtype == torch.float32  # the caller's dtype: the sampler's arithmetic stays fp32
    error = (out - io["out"]).abs().max().item()
    assert 0 < error <= atol  # really computed in bf16 (not equal), and close


def test_bf16_and_fp32_restorations_of_a_trained_model_agree(dataset_dir, tmp_path):
    """The same seed through a model trained by the test (the CPU architectures, tiny) gives
    PSNR ≥ 40 dB between its bf16 and fp32 restorations: bf16 changes no visible pixel."""
    import numpy as np

    from faceapp.core.settings import SamplerSettings
    from faceapp.training.config import load_config
    from faceapp.training.data import FaceDataset
    from faceapp.training.evaluate import engine_from_runs
    from faceapp.training.trainer import train

    torch.set_num_threads(1)
    for name in ("restorer_conv_tiny", "prior_unshuffle_tiny"):
        train(load_config(name), run_dir=tmp_path / name, data_root=dataset_dir, log=lambda _: None)
    face = FaceDataset(dataset_dir, split="test", limit=1).image(0)
    out = {}
    for precision in ("fp32", "bf16"):
        engine = engine_from_runs(tmp_path / "restorer_conv_tiny", tmp_path / "prior_unshuffle_tiny", device="cpu",
                                  precision=precision)
        assert engine.precision == precision and engine.prediction == "v"  # the run's own parameterisation
        out[precision] = engine.restore(face, sampler=SamplerSettings(fidelity=0.5, steps=8), seeds=[3])[0]
    mse = np.mean((out["fp32"].astype(float) - out["bf16"].astype(float)) ** 2)
    assert 0 < mse and 10 * np.log10(255**2 / mse) >= 40
