"""Scaled dot-product attention for faceapp's networks, picking the faster CPU kernel for training."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √ch) v over [..., tokens, ch] tensors.

    :func:`torch.nn.functional.scaled_dot_product_attention` (its fused kernel) everywhere except
    while autograd records a CPU forward: there the fused kernel's backward took 570 ms of a
    ``prior_cpu`` training step (six layers; 16 faces, 4 heads, 256 tokens, bf16 on a 2-core Xeon:
    13 % of the step), where matmul, softmax (in float32) and matmul take ~100 ms forward and
    backward (bench/README.md). Both compute the same attention; the inference path, and with it
    golden parity, is untouched."""
    if q.device.type == "cpu" and torch.is_grad_enabled() and (q.requires_grad or k.requires_grad or v.requires_grad):
        scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-1, -2)
        return torch.softmax(scores.float(), dim=-1).to(v.dtype) @ v
    return F.scaled_dot_product_attention(q, k, v)
