"""Numeric precision of the networks: a user setting (auto, fp32, bf16, fp16) resolved per device.

Only network forwards run in reduced precision; the DDIM arithmetic (x̂0, x_{t−1}, the noise)
stays float32 whatever the setting: the engine hands the networks float32, and faceapp's networks
(UNet, SwinIR, ConvRestorer) cast their input to their weights' dtype and return float32 (the
restorers add their residual to the float32 input).

``auto`` picks, per device, what runs fastest without visible loss:
- CUDA: float16 (autocast, as the official code);
- CPU: bfloat16 weights where bf16 measures faster than fp32 on this processor, float32 elsewhere
  (both in the channels_last layout, faster for oneDNN's convolutions in either). The flags do not
  tell: with AVX-512-BF16 and no AMX, bf16 measured slower than fp32 on one machine and 1.8×
  faster on another (bench/README.md), so :mod:`faceapp.core.cpu_bf16` times it once per CPU;
- Apple MPS: float32 (no MPS machine has measured another choice here).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from faceapp.core.devices import cpu_runs_bf16_fast
from faceapp.core.errors import DeviceError
from faceapp.core.preferences import PRECISIONS  # the choices, defined once with the other preferences

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    """How the networks run on one device: weight dtype, autocast dtype (CUDA), layout."""

    name: str  # "fp32", "bf16" or "fp16": what the status bar and the provenance say
    weights: torch.dtype  # dtype of the network parameters
    autocast: torch.dtype | None  # autocast dtype around forwards (CUDA), or None
    channels_last: bool

    def prepare(self, network: torch.nn.Module) -> torch.nn.Module:
        """Cast ``network`` (already on its device) to this precision and layout, in place."""
        network = network.to(dtype=self.weights)
        return network.to(memory_format=torch.channels_last) if self.channels_last else network

    def forward_context(self, device: torch.device):
        """The context a forward runs in (autocast on CUDA for fp16/bf16, else nothing)."""
        if self.autocast is not None:
            return torch.autocast(device.type, dtype=self.autocast)
        return torch.autocast(device.type, enabled=False)


def _mps_runs_bf16() -> bool:
    """Whether this Mac's GPU takes bf16 tensors: macOS 14 on (before, torch refused them when the
    weights were cast, a traceback after the model had loaded: portability QA)."""
    try:
        return bool(torch.backends.mps.is_macos_or_newer(14, 0))
    except (AttributeError, RuntimeError):  # (no MPS backend here: nothing to run it on anyway)
        return False


def resolve_precision(name: str, device: torch.device) -> Precision:
    """The precision setting ``name`` (one of :data:`PRECISIONS`) for ``device``."""
    name = (name or "auto").lower()
    if name not in PRECISIONS:
        raise DeviceError(f"unknown precision {name!r}: use {', '.join(PRECISIONS)}")
    if name == "auto":
        if device.type == "cuda":
            name = "fp16"
        elif device.type == "cpu" and cpu_runs_bf16_fast():
            name = "bf16"
        else:
            name = "fp32"
    if device.type == "cuda":
        # float32 weights under autocast: the reference's numerics, and no second copy of the weights
        return Precision(name, torch.float32, None if name == "fp32" else DTYPES[name], channels_last=False)
    if name == "fp16" and device.type == "cpu":
        raise DeviceError("fp16 runs on CUDA or Apple GPUs only; on the CPU choose bf16 or fp32 (or auto)")
    if name == "bf16" and device.type == "mps" and not _mps_runs_bf16():
        raise DeviceError("bf16 on an Apple GPU needs macOS 14 or newer; choose fp16 or fp32 (or auto)")
    # channels_last on the CPU in either precision: oneDNN's NHWC convolutions measured 20 % faster in
    # fp32 too (official UNet-512 forward 2.1 s against 2.6 s, bench/README.md)
    return Precision(name, DTYPES[name], None, channels_last=device.type == "cpu")
