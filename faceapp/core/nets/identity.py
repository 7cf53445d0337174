"""A restorer that changes nothing: for tests and for "diffusion only" models."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["IdentityRestorer"]


class IdentityRestorer(nn.Module):
    """Returns its input unchanged (as a copy, so in-place edits of the result are harmless).

    It has no parameters and an empty state dict.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()
