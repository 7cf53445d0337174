"""The improved-diffusion UNet that DifFace uses as its face prior (Nichol & Dhariwal, 2021).

The module tree reproduces the official checkpoints' state-dict layout key for key, so the
released weights load strictly. Forward contract: ``x`` in diffusion space [-1, 1], NCHW, and
``t`` the *original* (not respaced) int64 timesteps, shape [N]; the result has
``out_channels`` channels (for DifFace: 3 of predicted noise ε, then 3 variance values).

Numerics follow the reference: GroupNorm in float32 and cast back, attention through
:func:`torch.nn.functional.scaled_dot_product_attention` (its 1/√ch scale equals the reference's
ch^-¼ applied to both q and k; its kernels accumulate the softmax in float32; CPU training uses the
same formula unfused, :mod:`faceapp.core.nets.attention`). The network runs in
the dtype of its parameters, or under ``torch.autocast``; the result has the dtype of ``x``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from faceapp.core.nets.attention import attention

__all__ = ["FullResolutionTail", "UNetModel", "timestep_embedding"]

_GROUPS = 32


def timestep_embedding(t: torch.Tensor, dim: int, *, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of timesteps, laid out ``[cos | sin]`` (improved-diffusion), float32."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    args = t[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class GroupNorm32(nn.GroupNorm):
    """GroupNorm with float32 statistics and parameters whatever the input dtype, returned in it.

    Elsewhere the input is cast to float32 and the result back (the reference's numerics). A bf16
    input on the CPU in inference goes to the CPU kernel as it is: that kernel accumulates in
    float32 itself and gives the same result, while the two casts cost up to 17× the normalisation
    (128 channels at 256², channels_last) and 12 % of an official UNet-512 forward in bf16. While
    autograd records, the casts stay: the bf16 kernel's channels_last backward is 2× slower than
    the float32 one with its casts (64 channels at 64², 16 faces: 58 against 25 ms), and took a
    fifth of a ``prior_cpu`` training step (bench/README.md)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        with torch.autocast(device_type=x.device.type, enabled=False):
            if x.dtype == torch.bfloat16 and x.device.type == "cpu" and not (torch.is_grad_enabled() and x.requires_grad):
                return F.group_norm(x, self.num_groups, weight, bias, self.eps)
            out = F.group_norm(x.float(), self.num_groups, weight, bias, self.eps)
        return out.to(x.dtype)


def _norm(channels: int) -> GroupNorm32:
    return GroupNorm32(_GROUPS, channels)


def _zeroed(module: nn.Module) -> nn.Module:
    """Zero a layer's parameters: residual branches start as identities (reference init)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class TimestepBlock(nn.Module):
    """A block whose forward also takes the timestep embedding."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


class TimestepEmbedSequential(nn.Sequential):
    """Sequential that passes the timestep embedding to the children that take it."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, emb) if isinstance(layer, TimestepBlock) else layer(x)
        return x


class Downsample(nn.Module):
    """Halve the resolution with a stride-2 3×3 conv (``op``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Upsample(nn.Module):
    """Double the resolution: nearest ×2, then a 3×3 conv (``conv``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class ResBlock(TimestepBlock):
    """Residual block conditioned on the timestep embedding by scale-shift or addition."""

    def __init__(
        self,
        channels: int,
        emb_channels: int,
        out_channels: int,
        *,
        dropout: float,
        use_scale_shift_norm: bool,
    ) -> None:
        super().__init__()
        self.use_scale_shift_norm = use_scale_shift_norm
        self.in_layers = nn.Sequential(
            _norm(channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1)
        )
        emb_out = 2 * out_channels if use_scale_shift_norm else out_channels
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, emb_out))
        self.out_layers = nn.Sequential(
            _norm(out_channels),
            nn.SiLU(),
            nn.Dropout(p=dropout),
            _zeroed(nn.Conv2d(out_channels, out_channels, 3, padding=1)),
        )
        if out_channels == channels:
            self.skip_connection: nn.Module = nn.Identity()
        else:
            self.skip_connection = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.in_layers(x)
        emb_out = self.emb_layers(emb).to(h.dtype)[:, :, None, None]
        norm, rest = self.out_layers[0], self.out_layers[1:]
        if self.use_scale_shift_norm:
            scale, shift = emb_out.chunk(2, dim=1)
            h = norm(h) * (1 + scale) + shift
            h = rest(h)
        else:
            h = self.out_layers(h + emb_out)
        return self.skip_connection(x) + h


class AttentionBlock(nn.Module):
    """Spatial self-attention with the legacy head split (per head, channels are [q | k | v])."""

    def __init__(self, channels: int, *, num_heads: int) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"{channels} attention channels do not split into {num_heads} heads")
        self.num_heads = num_heads
        self.norm = _norm(channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj_out = _zeroed(nn.Conv1d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *spatial = x.shape
        flat = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(flat))
        head_ch = c // self.num_heads
        # legacy order: [B, heads * 3 * ch, T] -> per head [q | k | v]
        qkv = qkv.reshape(b, self.num_heads, 3, head_ch, -1).transpose(-1, -2)
        # contiguous inputs let SDPA use its fused kernel instead of the math fallback
        q, k, v = (t.contiguous() for t in qkv.unbind(dim=2))  # each [B, heads, T, ch]
        h = attention(q, k, v)
        h = h.transpose(-1, -2).reshape(b, c, -1)
        return (flat + self.proj_out(h)).reshape(b, c, *spatial)


def _per_level(num_res_blocks: int | Sequence[int], levels: int) -> list[int]:
    if isinstance(num_res_blocks, int):
        return [num_res_blocks] * levels
    counts = [int(n) for n in num_res_blocks]
    if len(counts) != levels:
        raise ValueError(
            f"num_res_blocks has {len(counts)} entries but channel_mult has {levels} levels"
        )
    return counts


class FullResolutionTail(nn.Module):
    """Residual refinement of a UNet's output at the image side: ``convs`` 3×3 convolutions of
    ``channels`` features over [input | output], SiLU between them, and a zero-initialised 3×3
    convolution back to the output channels.

    The timestep scales and shifts the features of the first convolution (``h·(1 + scale) + shift``,
    as the ResBlocks' scale-shift norm): at low noise the predicted noise is a high-pass of x_t
    times a gain of about 1/√(1 − ᾱ_t) (6 at t = 50, 2 at t = 200), which a product of a linear
    filter and a timestep-dependent scale represents at once, and an added bias does not.
    """

    def __init__(self, in_channels: int, out_channels: int, channels: int, emb_channels: int, *,
                 convs: int = 3) -> None:
        super().__init__()
        self.first = nn.Conv2d(in_channels + out_channels, channels, 3, padding=1)
        self.emb = nn.Linear(emb_channels, 2 * channels)
        self.body = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in range(convs - 1))
        self.last = _zeroed(nn.Conv2d(channels, out_channels, 3, padding=1))

    def forward(self, x: torch.Tensor, out: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.first(torch.cat([x, out], dim=1))
        scale, shift = self.emb(F.silu(emb)).to(h.dtype)[:, :, None, None].chunk(2, dim=1)
        h = h * (1 + scale) + shift
        for conv in self.body:
            h = conv(F.silu(h))
        return self.last(F.silu(h))


class UNetModel(nn.Module):
    """improved-diffusion UNet built from the official constructor arguments (2-D only).

    ``attention_resolutions`` lists literal feature-map sizes: the counter starts at
    ``image_size`` and halves at each level. ``use_fp16`` is accepted for compatibility and
    ignored: the caller picks the precision (parameter dtype or ``torch.autocast``).
    Unsupported options (``dims`` ≠ 2, ``num_classes``, ``use_new_attention_order``,
    ``resblock_updown``) raise :class:`ValueError`.

    ``unshuffle`` (faceapp's option, default 1 = the official network) folds each ``unshuffle``²
    pixel patch into channels before the first convolution and unfolds the output the same way
    (pixel unshuffle / shuffle), so every level runs at 1/``unshuffle`` of the image side. The
    network then spends its compute on width at low resolution instead of on memory traffic at
    full resolution: on a CPU this trains ~6× faster for the same parameter count.
    ``image_size`` stays the image side; ``attention_resolutions`` count from
    ``image_size // unshuffle``.

    ``tail_channels`` (faceapp's option, default 0 = none) adds a :class:`FullResolutionTail`
    after the unfolded output: a few 3×3 convolutions of that width at the image side, seeing the
    input and the output, whose zero-initialised result is added to the output. An unshuffled
    network has only ``model_channels / unshuffle²`` features per pixel at its widest level, too few
    to tell fine noise from fine detail; the tail gives low-noise denoising per-pixel width for a
    fraction of the compute. Zero-initialised, it leaves a warm-started network's output unchanged.
    """

    def __init__(
        self,
        image_size: int,
        in_channels: int,
        model_channels: int,
        out_channels: int,
        num_res_blocks: int | Sequence[int],
        attention_resolutions: Sequence[int],
        dropout: float = 0.0,
        channel_mult: Sequence[int] = (1, 2, 4, 8),
        conv_resample: bool = True,
        dims: int = 2,
        num_classes: int | None = None,
        use_fp16: bool = False,
        num_heads: int = 1,
        num_head_channels: int = -1,
        use_scale_shift_norm: bool = False,
        resblock_updown: bool = False,
        use_new_attention_order: bool = False,
        unshuffle: int = 1,
        tail_channels: int = 0,
    ) -> None:
        super().__init__()
        if dims != 2:
            raise ValueError(f"only 2-D UNets are supported (dims={dims})")
        if num_classes is not None:
            raise ValueError("class-conditional UNets (num_classes) are not supported")
        if use_new_attention_order:
            raise ValueError("use_new_attention_order=True is not supported (legacy order only)")
        if resblock_updown:
            raise ValueError("resblock_updown=True is not supported")
        if not conv_resample:
            raise ValueError("conv_resample=False is not supported")
        if num_head_channels == -1 and num_heads < 1:
            raise ValueError("set num_heads ≥ 1 or num_head_channels")
        if unshuffle < 1 or image_size % unshuffle:
            raise ValueError(f"unshuffle must be ≥ 1 and divide image_size ({unshuffle}, {image_size})")
        if tail_channels < 0:
            raise ValueError(f"tail_channels must be ≥ 0 (0 = no tail), got {tail_channels}")

        self.image_size = image_size
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.model_channels = model_channels
        self.unshuffle = unshuffle
        levels = len(channel_mult)
        blocks_per_level = _per_level(num_res_blocks, levels)
        attention_sizes = {int(a) for a in attention_resolutions}

        def heads(ch: int, default: int) -> int:
            return ch // num_head_channels if num_head_channels != -1 else default

        emb_ch = 4 * model_channels
        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, emb_ch), nn.SiLU(), nn.Linear(emb_ch, emb_ch)
        )

        def resblock(cin: int, cout: int) -> ResBlock:
            return ResBlock(
                cin, emb_ch, cout, dropout=dropout, use_scale_shift_norm=use_scale_shift_norm
            )

        ch = int(channel_mult[0] * model_channels)
        self.input_blocks = nn.ModuleList(
            [TimestepEmbedSequential(nn.Conv2d(in_channels * unshuffle**2, ch, 3, padding=1))]
        )
        skip_chans = [ch]
        ds = image_size // unshuffle
        for level, mult in enumerate(channel_mult):
            for _ in range(blocks_per_level[level]):
                layers: list[nn.Module] = [resblock(ch, int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in attention_sizes:
                    layers.append(AttentionBlock(ch, num_heads=heads(ch, num_heads)))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                skip_chans.append(ch)
            if level != levels - 1:
                self.input_blocks.append(TimestepEmbedSequential(Downsample(ch)))
                skip_chans.append(ch)
                ds //= 2

        self.middle_block = TimestepEmbedSequential(
            resblock(ch, ch), AttentionBlock(ch, num_heads=heads(ch, num_heads)), resblock(ch, ch)
        )

        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(blocks_per_level[level] + 1):
                cout = int(model_channels * mult)
                layers = [resblock(ch + skip_chans.pop(), cout)]
                ch = cout
                if ds in attention_sizes:
                    # the reference builds decoder attention without num_heads (default 1)
                    layers.append(AttentionBlock(ch, num_heads=heads(ch, 1)))
                if level and i == blocks_per_level[level]:
                    layers.append(Upsample(ch))
                    ds *= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))

        self.out = nn.Sequential(
            _norm(ch), nn.SiLU(), _zeroed(nn.Conv2d(ch, out_channels * unshuffle**2, 3, padding=1))
        )
        self.tail = (FullResolutionTail(in_channels, out_channels, tail_channels, emb_ch)
                     if tail_channels else None)

    def time_embedding(self, t: torch.Tensor) -> torch.Tensor:
        """The embedding every ResBlock receives: ``time_embed(timestep_embedding(t))``."""
        temb = timestep_embedding(t, self.model_channels)
        return self.time_embed(temb.to(self.time_embed[0].weight.dtype))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Predict [ε | variance values] for ``x`` at original timesteps ``t`` (int64, [N])."""
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        emb = self.time_embedding(t.to(x.device))
        h = x.to(self.input_blocks[0][0].weight.dtype)
        if self.unshuffle > 1:
            h = F.pixel_unshuffle(h, self.unshuffle)
        skips = []
        for block in self.input_blocks:
            h = block(h, emb)
            skips.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        out = self.out(h)
        if self.unshuffle > 1:
            out = F.pixel_shuffle(out, self.unshuffle)
        if self.tail is not None:
            out = out + self.tail(x.to(out.dtype), out, emb)
        return out.to(x.dtype)
