"""faceapp's convolutional restorer: a pixel-unshuffle U-Net that maps y0 to a first estimate x̂0.

DifFace only needs the restorer's estimate to be close enough that the diffusion prior can
contract its error, so the restorer is replaceable. This one is built for CPU throughput: the
input face is folded into ``unshuffle``² channels per pixel (pixel unshuffle), every level runs at
1/``unshuffle`` of the face side or less, blocks are norm-free residual pairs of 3×3 convolutions
(matrix work that bf16 and channels_last speed up; no memory-bound normalisation), and one
self-attention block at the coarsest level gives the whole face as context. The output is the
input plus a learned residual, unfolded again (pixel shuffle).

Forward contract (as the SwinIR restorer): ``x`` NCHW RGB in [0, 1], sides divisible by
``unshuffle · 2^(levels − 1)``; the result has the same shape, roughly in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from faceapp.core.nets.attention import attention

__all__ = ["ConvRestorer"]


class _ResidualPair(nn.Module):
    """x + conv(SiLU(conv(x))), the second convolution zero-initialised (the block starts as identity)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.silu(self.conv1(x)))


class _SelfAttention(nn.Module):
    """Multi-head self-attention over all positions of a feature map, with a residual."""

    def __init__(self, channels: int, head_channels: int) -> None:
        super().__init__()
        if channels % head_channels:
            raise ValueError(f"{channels} channels do not split into heads of {head_channels}")
        self.heads = channels // head_channels
        self.norm = nn.GroupNorm(1, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w)
        q, k, v = (t.transpose(-1, -2) for t in qkv.unbind(dim=1))  # each [B, heads, HW, ch]
        out = attention(q.contiguous(), k.contiguous(), v.contiguous())
        return x + self.proj(out.transpose(-1, -2).reshape(b, c, h, w))


class ConvRestorer(nn.Module):
    """Pixel-unshuffle U-Net restorer: ``channels[i]`` features and ``blocks[i]`` residual pairs at
    level i (level 0 at 1/``unshuffle`` of the face side, each next level half that), skip
    connections added back on the way up, self-attention at the coarsest level."""

    def __init__(
        self,
        in_chans: int = 3,
        unshuffle: int = 4,
        channels: Sequence[int] = (64, 128, 256),
        blocks: Sequence[int] = (2, 2, 4),
        attention_head_channels: int = 64,
    ) -> None:
        super().__init__()
        if len(channels) != len(blocks) or not channels:
            raise ValueError("channels and blocks need one entry per level")
        if unshuffle < 1:
            raise ValueError("unshuffle must be ≥ 1")
        self.unshuffle = unshuffle
        self.multiple = unshuffle * 2 ** (len(channels) - 1)
        folded = in_chans * unshuffle**2
        self.stem = nn.Conv2d(folded, channels[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        for level, (ch, n) in enumerate(zip(channels, blocks)):
            self.down_blocks.append(nn.Sequential(*(_ResidualPair(ch) for _ in range(n))))
            if level + 1 < len(channels):
                self.downsamples.append(nn.Conv2d(ch, channels[level + 1], 3, stride=2, padding=1))
        self.attention = _SelfAttention(channels[-1], attention_head_channels)
        self.upsamples = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for level in reversed(range(len(channels) - 1)):
            self.upsamples.append(nn.Conv2d(channels[level + 1], channels[level], 3, padding=1))
            self.up_blocks.append(nn.Sequential(*(_ResidualPair(channels[level]) for _ in range(blocks[level]))))
        self.head = nn.Conv2d(channels[0], folded, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.multiple or x.shape[-2] % self.multiple:
            raise ValueError(f"the restorer needs sides divisible by {self.multiple}, got {tuple(x.shape[-2:])}")
        h = self.stem(F.pixel_unshuffle(x, self.unshuffle).to(self.stem.weight.dtype))
        skips = []
        for level, blocks in enumerate(self.down_blocks):
            h = blocks(h)
            if level < len(self.downsamples):
                skips.append(h)
                h = self.downsamples[level](h)
        h = self.attention(h)
        for upsample, blocks in zip(self.upsamples, self.up_blocks):
            h = upsample(F.interpolate(h, scale_factor=2.0, mode="nearest")) + skips.pop()
            h = blocks(h)
        residual = F.pixel_shuffle(self.head(F.silu(h)), self.unshuffle)
        return (x + residual.to(x.dtype))
