"""SwinIR restorer (Liang et al., 2021) in the variant DifFace uses as its first-stage estimator.

The image is pixel-unshuffled by ``sf`` and restored at that token resolution by residual Swin
transformer groups, then brought back to full size with ``log2(sf)`` rounds of nearest ×2 + conv.
The module tree reproduces the official state-dict layout key for key (``conv_first.1.*``, the
``relative_position_index`` and ``attn_mask`` buffers, …) so the released weights load strictly.

Forward contract: RGB NCHW in [0, 1] → same size, roughly [0, 1] and *not* clamped. Sides that
are not a multiple of ``sf · window_size`` are reflect-padded up to one (edge-replicated where the
image is too small to reflect) and the result is cropped back, so any size is accepted.

The ``relative_position_index`` and ``attn_mask`` buffers are derived from the configuration.
They are kept in the state dict for compatibility, but on load the values in a file are replaced
by freshly computed ones (a file may also omit them); shifted-window masks for token grids other
than the construction-time one are computed on demand and cached.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SwinIR", "relative_position_index", "shifted_window_mask"]

RGB_MEAN = (0.4488, 0.4371, 0.4040)
_MASKED = -100.0


def relative_position_index(window_size: int) -> torch.Tensor:
    """Index into the relative-position bias table for every (query, key) pair of a window (CPU)."""
    ws = window_size
    steps = torch.arange(ws, device="cpu")
    coords = torch.stack(torch.meshgrid(steps, steps, indexing="ij")).flatten(1)  # [2, ws*ws]
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (ws - 1)
    return rel[..., 0] * (2 * ws - 1) + rel[..., 1]


def _default_device() -> torch.device:
    """The device factory functions use now (honours ``with torch.device(...)``)."""
    return torch.empty(0).device


def _window_partition(x: torch.Tensor, ws: int) -> torch.Tensor:
    """[B, H, W, C] → [B·nW, ws·ws, C], windows in row-major order."""
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).transpose(2, 3)
    return x.reshape(-1, ws * ws, c)


def _window_merge(windows: torch.Tensor, ws: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`_window_partition`: [B·nW, ws·ws, C] → [B, H, W, C]."""
    c = windows.shape[-1]
    x = windows.view(-1, h // ws, w // ws, ws, ws, c).transpose(2, 3)
    return x.reshape(-1, h, w, c)


#: The largest token grid (``img_size``) a SwinIR restorer may be built for: a face of 256·sf px
#: (2048 at sf 8) is more than any restorer faceapp knows needs.
MAX_GRID = 256
#: The most memory the attention masks and position indices of a SwinIR's blocks may take, which
#: grow with the grid, the window and the number of blocks (security QA and review: a manifest's
#: grid, or its window of 128, made GBs of them from a small file); the official restorer's take 26 MB.
MAX_BLOCK_TABLES_BYTES = 1 << 30


def _block_tables_bytes(grid: tuple[int, int], window_size: int, depths: Sequence[int]) -> int:
    """The bytes of the shifted windows' masks (float32, [nW, ws², ws²] in every other block of a
    stage) and of the blocks' relative position indices (int64, [ws², ws²]) a SwinIR would hold."""
    window = min(window_size, *grid)  # (a grid no larger than the window: the window is the grid)
    shifted = sum(depth // 2 for depth in depths) if min(grid) > window_size else 0
    return shifted * grid[0] * grid[1] * window**2 * 4 + sum(depths) * window**4 * 8


def shifted_window_mask(height: int, width: int, window_size: int, shift: int) -> torch.Tensor:
    """Attention mask [nW, N, N] (0 / -100) keeping a cyclically shifted window's regions apart.

    Computed on the CPU in float32.
    """
    labels = torch.zeros(1, height, width, 1, device="cpu")
    bands = (slice(0, -window_size), slice(-window_size, -shift), slice(-shift, None))
    region = 0
    for hs in bands:
        for wsl in bands:
            labels[:, hs, wsl, :] = region
            region += 1
    windows = _window_partition(labels, window_size).squeeze(-1)  # [nW, N]
    diff = windows[:, None, :] - windows[:, :, None]
    return torch.zeros_like(diff).masked_fill_(diff != 0, _MASKED)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows, with a learned relative-position bias."""

    def __init__(
        self,
        dim: int,
        window_size: int,
        num_heads: int,
        *,
        qkv_bias: bool,
        qk_scale: float | None,
        attn_drop: float,
        proj_drop: float,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"embed_dim {dim} does not split into {num_heads} heads")
        self.window_size = window_size
        self.num_heads = num_heads
        self.scale = qk_scale if qk_scale is not None else (dim // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window_size - 1) ** 2, num_heads)
        )
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        index = relative_position_index(window_size).to(_default_device())
        self.register_buffer("relative_position_index", index)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # noqa: ANN001
        key = prefix + "relative_position_index"
        file_value = state_dict.get(key)
        if file_value is None or file_value.shape == self.relative_position_index.shape:
            state_dict[key] = relative_position_index(self.window_size)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def position_bias(self) -> torch.Tensor:
        """Relative-position bias [heads, N, N]."""
        n = self.window_size**2
        index = self.relative_position_index.reshape(-1)
        return self.relative_position_bias_table[index].view(n, n, -1).permute(2, 0, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Attend within windows. ``x``: [B·nW, N, C]; ``mask``: [nW, N, N] or None."""
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.num_heads, c // self.num_heads)
        # contiguous inputs let SDPA use its fused kernel instead of the math fallback
        q, k, v = (t.contiguous() for t in qkv.permute(2, 0, 3, 1, 4).unbind(0))  # [B·nW, h, N, d]
        bias = self.position_bias().to(q.dtype)  # [heads, N, N]
        if mask is not None:
            # windows × heads share one batch axis so SDPA sees a 4-D problem and a bias that
            # broadcasts over images only; this picks the fast CPU kernel
            nw = mask.shape[0]
            bias = bias.unsqueeze(0) + mask.to(q.dtype).unsqueeze(1)  # [nW, heads, N, N]
            q, k, v = (t.reshape(bw // nw, nw * self.num_heads, n, -1) for t in (q, k, v))
            bias = bias.reshape(nw * self.num_heads, n, n)
        bias = bias.unsqueeze(0)
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=bias,
            dropout_p=self.attn_drop if self.training else 0.0,
            scale=self.scale,
        )
        out = out.reshape(bw, self.num_heads, n, -1).transpose(1, 2).reshape(bw, n, c)
        return self.proj_drop(self.proj(out))


class DropPath(nn.Module):
    """Stochastic depth: drop a sample's whole residual branch during training."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        return x * x.new_empty(shape).bernoulli_(keep) / keep


class Mlp(nn.Module):
    """Two linear layers with exact (erf) GELU."""

    def __init__(self, dim: int, hidden: int, drop: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class SwinTransformerBlock(nn.Module):
    """(Shifted-)window attention block; odd blocks shift the windows by half a window."""

    def __init__(
        self,
        dim: int,
        input_resolution: tuple[int, int],
        num_heads: int,
        *,
        window_size: int,
        shift_size: int,
        mlp_ratio: float,
        qkv_bias: bool,
        qk_scale: float | None,
        drop: float,
        attn_drop: float,
        drop_path: float,
    ) -> None:
        super().__init__()
        if min(input_resolution) <= window_size:  # reference rule, applied at construction
            shift_size, window_size = 0, min(input_resolution)
        self.window_size = window_size
        self.shift_size = shift_size
        self.input_resolution = tuple(input_resolution)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(
            dim,
            window_size,
            num_heads,
            qkv_bias=qkv_bias,
            qk_scale=qk_scale,
            attn_drop=attn_drop,
            proj_drop=drop,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        if shift_size > 0:
            if _default_device().type == "meta":  # a network built to check a file's shapes: no pixels made
                # (security QA: a manifest's large img_size made GB of masks on the CPU to check 5 KB)
                if input_resolution[0] % window_size or input_resolution[1] % window_size:  # (as a real build fails:
                    raise ValueError(f"img_size {tuple(input_resolution)} is not a multiple of the window "  # review)
                                     f"size {window_size}")
                windows = (input_resolution[0] // window_size) * (input_resolution[1] // window_size)
                mask = torch.empty(windows, window_size**2, window_size**2, device="meta")
            else:
                mask = shifted_window_mask(*input_resolution, window_size, shift_size)
            self.register_buffer("attn_mask", mask.to(_default_device()))
        else:
            self.attn_mask = None
        self._mask_cache: dict[tuple, torch.Tensor] = {}

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # noqa: ANN001
        key = prefix + "attn_mask"
        if self.shift_size > 0:
            file_value = state_dict.get(key)
            if file_value is None or file_value.shape == self.attn_mask.shape:
                state_dict[key] = shifted_window_mask(
                    *self.input_resolution, self.window_size, self.shift_size
                )
        self._mask_cache.clear()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _mask_for(self, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
        key = (h, w, like.device, like.dtype)
        mask = self._mask_cache.get(key)
        if mask is None:
            mask = shifted_window_mask(h, w, self.window_size, self.shift_size)
            mask = mask.to(device=like.device, dtype=like.dtype)
            self._mask_cache[key] = mask
        return mask

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        h, w = size
        b, _, c = x.shape
        ws, shift = self.window_size, self.shift_size
        y = self.norm1(x).view(b, h, w, c)
        if shift:
            y = torch.roll(y, shifts=(-shift, -shift), dims=(1, 2))
        mask = self._mask_for(h, w, y) if shift else None
        y = self.attn(_window_partition(y, ws), mask)
        y = _window_merge(y, ws, h, w)
        if shift:
            y = torch.roll(y, shifts=(shift, shift), dims=(1, 2))
        x = x + self.drop_path(y.reshape(b, h * w, c))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class BasicLayer(nn.Module):
    """A run of Swin blocks alternating unshifted and shifted windows."""

    def __init__(self, dim: int, input_resolution: tuple[int, int], depth: int, *, num_heads: int,
                 window_size: int, drop_path: Sequence[float], **block_options) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinTransformerBlock(
                dim,
                input_resolution,
                num_heads,
                window_size=window_size,
                shift_size=0 if i % 2 == 0 else window_size // 2,
                drop_path=drop_path[i],
                **block_options,
            )
            for i in range(depth)
        )

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, size)
        return x


class RSTB(nn.Module):
    """Residual Swin Transformer Block: Swin blocks, a 3×3 conv, and a skip connection."""

    def __init__(self, dim: int, input_resolution: tuple[int, int], depth: int, **options) -> None:
        super().__init__()
        self.residual_group = BasicLayer(dim, input_resolution, depth, **options)
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        y = self.residual_group(x, size)
        b, n, c = y.shape
        y = self.conv(y.transpose(1, 2).reshape(b, c, *size))
        return y.flatten(2).transpose(1, 2) + x


class PatchEmbed(nn.Module):
    """Feature map [B, C, H, W] → tokens [B, H·W, C], then LayerNorm (``patch_embed.norm``)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.flatten(2).transpose(1, 2))


class SwinIR(nn.Module):
    """SwinIR with pixel-unshuffle input and the "nearest+conv" upsampler (official arguments).

    Only the configuration family DifFace uses is supported: ``unshuffle=True`` (with
    ``unshuffle_scale == sf``), ``upsampler="nearest+conv"``, ``resi_connection="1conv"``,
    ``patch_size=1``, ``patch_norm=True``, ``ape=False``, ``sf`` a power of two. Anything else
    raises :class:`ValueError`. ``img_size`` is the token grid after unshuffling (image / sf).
    """

    def __init__(
        self,
        img_size: int | Sequence[int] = 64,
        patch_size: int = 1,
        in_chans: int = 3,
        embed_dim: int = 96,
        depths: Sequence[int] = (6, 6, 6, 6),
        num_heads: Sequence[int] = (6, 6, 6, 6),
        window_size: int = 7,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        ape: bool = False,
        patch_norm: bool = True,
        use_checkpoint: bool = False,
        sf: int = 4,
        img_range: float = 1.0,
        upsampler: str = "nearest+conv",
        resi_connection: str = "1conv",
        unshuffle: bool = True,
        unshuffle_scale: int | None = None,
    ) -> None:
        super().__init__()
        _check_supported(
            patch_size=patch_size, ape=ape, patch_norm=patch_norm, sf=sf, upsampler=upsampler,
            resi_connection=resi_connection, unshuffle=unshuffle, unshuffle_scale=unshuffle_scale,
            depths=depths, num_heads=num_heads,
        )
        grid = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        if not all(0 < side <= MAX_GRID for side in grid):  # (its masks grow with its square: security QA)
            raise ValueError(f"img_size must be within 1…{MAX_GRID} (the token grid of a face {MAX_GRID * sf} px "
                             f"across), got {img_size}")
        if (tables := _block_tables_bytes(grid, window_size, depths)) > MAX_BLOCK_TABLES_BYTES:
            raise ValueError(f"its blocks' attention masks would take {tables / 2**30:.1f} GiB (img_size {img_size}, "
                             f"window_size {window_size}, {sum(depths)} blocks): more than any restorer needs")
        self.sf = sf
        self.window_size = window_size
        self.img_range = img_range
        self.in_chans = in_chans
        self._mean = RGB_MEAN if in_chans == 3 else (0.0,) * in_chans

        self.conv_first = nn.Sequential(
            nn.PixelUnshuffle(sf), nn.Conv2d(in_chans * sf * sf, embed_dim, 3, padding=1)
        )
        self.patch_embed = PatchEmbed(embed_dim)
        rates = torch.linspace(0, drop_path_rate, sum(depths), device="cpu").tolist()
        self.layers = nn.ModuleList()
        start = 0
        for depth, heads in zip(depths, num_heads):
            self.layers.append(
                RSTB(
                    embed_dim, grid, depth, num_heads=heads, window_size=window_size,
                    drop_path=rates[start : start + depth], mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias, qk_scale=qk_scale, drop=drop_rate, attn_drop=attn_drop_rate,
                )
            )
            start += depth
        self.norm = nn.LayerNorm(embed_dim)
        self.conv_after_body = nn.Conv2d(embed_dim, embed_dim, 3, padding=1)

        feat = 64
        self.conv_before_upsample = nn.Sequential(
            nn.Conv2d(embed_dim, feat, 3, padding=1), nn.LeakyReLU(inplace=True)
        )
        self.n_up = int(math.log2(sf))
        for i in range(1, self.n_up + 1):
            self.add_module(f"conv_up{i}", nn.Conv2d(feat, feat, 3, padding=1))
        self.conv_hr = nn.Conv2d(feat, feat, 3, padding=1)
        self.conv_last = nn.Conv2d(feat, in_chans, 3, padding=1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)
        windows = [b.window_size for layer in self.layers for b in layer.residual_group.blocks]
        self._size_multiple = sf * math.lcm(*windows)

    @property
    def size_multiple(self) -> int:
        """Image sides that need no padding are multiples of this (normally ``sf · window_size``).

        A block whose construction grid is not larger than the window uses the grid size as its
        window (reference rule), which can change the multiple.
        """
        return self._size_multiple

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Swin body on a feature map [B, C, h, w] (token grid), returned in the same layout."""
        b, c, h, w = x.shape
        tokens = self.patch_embed(x)
        for layer in self.layers:
            tokens = layer(tokens, (h, w))
        tokens = self.norm(tokens)
        return tokens.transpose(1, 2).reshape(b, c, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Restore an image batch [B, C, H, W] in [0, 1]: same size and dtype, unclamped."""
        height, width = x.shape[-2:]
        in_dtype = x.dtype
        x = _pad_to_multiple(x.to(self.conv_last.weight.dtype), self.size_multiple)
        mean = torch.tensor(self._mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        x = (x - mean) * self.img_range
        f = self.conv_first(x)
        f = self.conv_after_body(self.forward_features(f)) + f
        y = self.conv_before_upsample(f)
        for i in range(1, self.n_up + 1):
            conv = getattr(self, f"conv_up{i}")
            y = self.lrelu(conv(F.interpolate(y, scale_factor=2, mode="nearest")))
        y = self.conv_last(self.lrelu(self.conv_hr(y)))
        y = y / self.img_range + mean
        return y[..., :height, :width].to(in_dtype)


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad the bottom/right edges up to a multiple: reflection, or replication if too small."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not ph and not pw:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def _check_supported(*, patch_size, ape, patch_norm, sf, upsampler, resi_connection, unshuffle,
                     unshuffle_scale, depths, num_heads) -> None:  # noqa: ANN001
    problems = []
    if patch_size != 1:
        problems.append(f"patch_size={patch_size} (only 1)")
    if ape:
        problems.append("ape=True (absolute position embedding)")
    if not patch_norm:
        problems.append("patch_norm=False")
    if sf < 2 or sf & (sf - 1):
        problems.append(f"sf={sf} (a power of two ≥ 2 is needed)")
    if upsampler != "nearest+conv":
        problems.append(f'upsampler="{upsampler}" (only "nearest+conv")')
    if resi_connection != "1conv":
        problems.append(f'resi_connection="{resi_connection}" (only "1conv")')
    if not unshuffle:
        problems.append("unshuffle=False (only the pixel-unshuffle restorer)")
    if unshuffle_scale is not None and unshuffle_scale != sf:
        problems.append(f"unshuffle_scale={unshuffle_scale} differs from sf={sf}")
    if len(depths) != len(num_heads):
        problems.append(f"{len(depths)} depths but {len(num_heads)} num_heads")
    if problems:
        raise ValueError("unsupported SwinIR configuration: " + "; ".join(problems))
