"""A memory budget: estimate a photo's peak memory before the work starts, refuse what cannot fit.

A 120-megapixel photo enlarged ×4 is a 1.9-gigapixel result: 5.8 GB as RGB, and twice that while
Pillow holds its own copy for a JPEG, WebP or TIFF encoder. Rather than being killed by the
operating system halfway (no message, nothing written), a job asks :func:`check_memory_budget`
first, from the photo's header alone, and gets a :class:`MemoryBudgetError` that names the need,
the limit and the ways out (a smaller upscale, PNG, a machine with more memory, or a higher limit).

The limit is the memory free now (``MemAvailable``, and the control group's headroom in a
container), unless the user sets one: ``FACEAPP_MEMORY_LIMIT`` (e.g. ``16G``, ``0`` = no check) or
the CLI's ``--memory-limit``. The estimate counts pixel buffers, per pixel of the input (decoding,
the photo kept) and of the output (the enlarged background and alpha, the encoder's copy), plus a
fixed allowance for the libraries and the model.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from faceapp.core.errors import ImageError

MEMORY_LIMIT_ENV = "FACEAPP_MEMORY_LIMIT"

#: Libraries, detector, model and face crops: the part of the peak that does not grow with the photo
#: (bench/pipeline.py peaks at 1.2 GB for a 24 MP photo at ×1, of which 0.4 GB are its pixels).
BASE_BYTES = 2**30

# Bytes per pixel. Decoding: Pillow's 4-byte image, its RGB conversion (4), the numpy copy (3).
_DECODE_PER_INPUT_PIXEL = 11
_PHOTO_PER_INPUT_PIXEL = 3  # the RGB photo kept while restoring (+1 with alpha)
_BACKGROUND_PER_OUTPUT_PIXEL = 3  # the enlarged RGB background the faces are pasted into (+1 alpha)
# The encoder's extra memory: PNG is written band by band here; the others go through a full
# Pillow image (4 bytes a pixel), plus JPEG's Huffman optimisation (6, only up to 50 MP; see
# faceapp.core.export) and libwebp's own picture (ARGB 4 + YUV 1.5).
_ENCODER_PER_OUTPUT_PIXEL = {"PNG": 0.0, "JPEG": 4.0, "TIFF": 4.0, "WEBP": 9.5}
_JPEG_FLATTEN_PER_PIXEL = 3.0  # JPEG has no alpha: a transparent result is flattened into a new RGB copy
_JPEG_OPTIMIZE_PER_PIXEL, _JPEG_OPTIMIZE_MAX_PIXELS = 6.0, 50_000_000

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class MemoryBudgetError(ImageError):
    """The photo would need more memory than the limit allows; the message says what to change."""


@dataclass(frozen=True)
class MemoryLimit:
    """How many bytes a job may use (None: no check), and where that figure comes from."""

    bytes: int | None
    source: str


def parse_size(text: str) -> int:
    """Bytes in ``text``: ``16G``, ``1.5GB``, ``800M``, ``512MiB`` or a plain number of bytes."""
    match = _SIZE.match(str(text))
    if match is None:
        raise ValueError(f"not a memory size: {text!r} (write e.g. 16G, 800M or 0 for no limit)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def memory_limit(setting: str | None = None) -> MemoryLimit:
    """The limit from ``setting`` (e.g. the CLI option), else ``FACEAPP_MEMORY_LIMIT``, else the
    memory free now. ``0`` means no check."""
    for text, source in ((setting, "--memory-limit"), (os.environ.get(MEMORY_LIMIT_ENV), MEMORY_LIMIT_ENV)):
        if text:
            value = parse_size(text)
            return MemoryLimit(value or None, f"the limit set by {source}")
    return MemoryLimit(available_memory(), "the memory free on this machine")


def available_memory() -> int | None:
    """Bytes that can be allocated now: MemAvailable, less if a control group caps this process.

    None where neither can be read (then no check is made).
    """
    figures = [v for v in (_meminfo_available(), _cgroup_headroom()) if v is not None]
    return min(figures) if figures else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_headroom() -> int | None:
    """The control group's limit less its usage (cgroup v2, then v1); None when unlimited."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit_text = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit_text == "max" or not limit_text.isdigit() or int(limit_text) >= 2**60:
            return None
        return max(0, int(limit_text) - usage)
    return None


def estimate_peak_bytes(width: int, height: int, *, upscale: int, fmt: str = "PNG", alpha: bool = False) -> int:
    """The peak memory of restoring a ``width``×``height`` photo at ×``upscale`` and writing it as
    ``fmt`` (a Pillow format name: PNG, JPEG, WEBP, TIFF)."""
    inputs = width * height
    outputs = inputs * upscale * upscale
    decode = inputs * _DECODE_PER_INPUT_PIXEL
    encoder = _ENCODER_PER_OUTPUT_PIXEL.get(fmt, 4.0)
    if fmt == "JPEG" and outputs <= _JPEG_OPTIMIZE_MAX_PIXELS:
        encoder += _JPEG_OPTIMIZE_PER_PIXEL
    if fmt == "JPEG" and alpha:
        encoder += _JPEG_FLATTEN_PER_PIXEL
    channels = 1 if alpha else 0
    work = inputs * (_PHOTO_PER_INPUT_PIXEL + channels) + outputs * (_BACKGROUND_PER_OUTPUT_PIXEL + channels + encoder)
    return BASE_BYTES + int(max(decode, work))


def check_memory_budget(
    width: int, height: int, *, upscale: int, fmt: str = "PNG", alpha: bool = False,
    limit: MemoryLimit | None = None, name: str = "the photo",
) -> None:
    """Raise :class:`MemoryBudgetError` if the job's estimated peak exceeds the limit."""
    limit = limit if limit is not None else memory_limit()
    need = estimate_peak_bytes(width, height, upscale=upscale, fmt=fmt, alpha=alpha)
    if limit.bytes is None or need <= limit.bytes:
        return
    ways = []
    smaller = [s for s in (2, 1) if s < upscale]
    for scale in smaller:
        option = estimate_peak_bytes(width, height, upscale=scale, fmt=fmt, alpha=alpha)
        if option <= limit.bytes:
            ways.append(f"a smaller upscale (×{scale} needs {_gb(option)})")
            break
    if fmt != "PNG":
        option = estimate_peak_bytes(width, height, upscale=upscale, fmt="PNG", alpha=alpha)
        ways.append(f"PNG output (needs {_gb(option)})")
    ways.append("a machine with more memory")
    raise MemoryBudgetError(
        f"{name}: restoring {width}×{height} pixels at ×{upscale} as {fmt} needs about {_gb(need)} of "
        f"memory, more than the {_gb(limit.bytes)} of {limit.source}. Choose {', or '.join(ways)}; "
        f"or, if you know more is free, raise the limit with {MEMORY_LIMIT_ENV} (e.g. {MEMORY_LIMIT_ENV}=32G)."
    )


def _gb(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e8 else f"{size / 1e6:.0f} MB"
