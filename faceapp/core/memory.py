"""A memory budget: estimate a photo's peak memory before the work starts, refuse what cannot fit.

A 120-megapixel photo enlarged ×4 is a 1.9-gigapixel result: 5.8 GB as RGB, held twice (the
background and the composite), plus the faces' blending masks and the encoder's copy. Rather than
being killed by the operating system halfway (no message, nothing written), a job asks
:func:`check_memory_budget` first, from the photo's header alone, and gets a
:class:`MemoryBudgetError` that names the need, the limit and the ways out (a smaller upscale, PNG,
a machine with more memory, or a higher limit).

The limit is the memory free now (``MemAvailable``, and the headroom of the process's control group
and of those above it, as in a container or a ``systemd-run`` scope), with what the process holds
already of :data:`BASE_BYTES` counted as its own once it holds a model (its libraries and model are
part of the estimate), unless the user sets one: ``FACEAPP_MEMORY_LIMIT`` (e.g. ``16G``, ``0`` = no check) or
the CLI's ``--memory-limit``.

**The model.** peak = :data:`BASE_BYTES` + max(decoding, filling, restoring and writing), where

* decoding: 14 bytes a pixel of the input (Pillow's image, its RGB conversion, the array; the
  face detector, whose passes run on tiles of at most 2048 px, fits in the base's margin: 0.24–0.29
  GB measured; a 20000×760 panorama 0.16 GB, 0.94 GB before its coarse pass was tiled too);
* filling, when damage is marked: the photo kept (3, +1 alpha) and what the classical fill of the
  damage takes (:func:`faceapp.core.damage.fill_peak_bytes`: per pixel of the photo, of the box
  it works on and of the damage; a 24 MP photo's torn quarter about 1 GB, twelve scratches across it
  0.5 GB), which both front-ends tell once the mask is known;
* restoring and writing: per pixel of the input the photo kept (3, +1 alpha); per pixel of the
  output the enlarged background (3, +1 alpha), the composite the faces are blended into (3, a copy:
  results are values), the encoder's memory (PNG and TIFF 0: written band by band; JPEG 4, Pillow's
  copy, +6 for Huffman optimisation up to 50 MP, +3 to flatten a transparent result; WebP 9.5), and
  the faces' blending masks: 14.5 bytes a pixel of the faces' regions on the output (each face's
  float32 weights, their normalisation where faces overlap, the plain background under them, and
  the float32 temporaries of feathering, of which the heap keeps what it cannot reuse).

The masks are the term the header cannot know: a face's region is the footprint of its aligned crop,
about three times its box, so a portrait's faces cover the whole photo (measured: 0.95 and 1.25
of it, three overlapping faces) and a group photo's a fraction (0.23: forty faces of 250 px in
24 MP). Unless told (``face_area``), the estimate assumes a portrait: :data:`PORTRAIT_FACE_AREA`.
Both front-ends tell it once the faces are known (:func:`face_area_of`): the CLI checks a photo
from its header with no face area (what any photo of its size needs), then again once its faces
are found, before the model loads; the window checks before each restore.

**Measured** (peak RSS of ``faceapp-cli restore`` with the bundled ``faceapp-compact`` on 2 CPU
cores, ``/usr/bin/time -v`` and /proc sampling; a portrait of three faces enlarged to 24 MP and
48 MP; the estimate with the default face area; before: this module's previous model, which
counted neither the composite nor the masks):

==========================  ========  ========  ========  ==========
photo, upscale, output      measured  estimate  / meas.   before
==========================  ========  ========  ========  ==========
24 MP ×1 JPEG                1.73 GB   1.88 GB    1.09     1.46 GB
24 MP ×1 PNG                 1.57 GB   1.64 GB    1.04     1.34 GB
24 MP ×2 JPEG                3.24 GB   3.50 GB    1.08     1.82 GB
24 MP ×2 PNG                 3.06 GB   3.11 GB    1.02     1.43 GB
48 MP ×1 JPEG                2.37 GB   2.68 GB    1.13     1.84 GB
48 MP ×1 PNG                 2.07 GB   2.20 GB    1.06     1.60 GB
48 MP ×2 JPEG                4.97 GB   5.92 GB    1.19     2.56 GB
48 MP ×2 PNG                 4.85 GB   5.15 GB    1.06     1.79 GB
110 MP ×1 JPEG (QA review)   3.85 GB   4.10 GB    1.06     2.28 GB
==========================  ========  ========  ========  ==========

The QA review measured 3.85 GB for 110 MP ×1 JPEG; re-measured here, 3.66 GB (estimate 1.12×).

The face regions measured 1.25 (24 MP) and 0.95 (48 MP) of the photo; where the heap reuses the
freed feathering temporaries for the encoder's copy, as at 48 MP ×2 JPEG, the estimate is up to
1.2× the peak. A photo whose faces are small needs less than the default assumes: a 24 MP group
photo (forty faces of about 250 px, regions 0.23 of it by :func:`face_area_of`) ×2 JPEG peaked at
2.18 GB, 1.6× under the portrait's estimate (3.50 GB); with its faces' area the estimate is
2.43 GB (1.11×). The base is 0.80–0.86 GB with the
model and the detector loaded (1.02 GB peak for a 0.3 MP photo), and decoding with face detection
took 0.33–0.54 GB above it for 24 MP, 0.66 GB for 48 MP. WebP and TIFF outputs (24 MP ×1, the
same pipeline run by a script: 1.61 and 1.45 GB) are within their estimates (1.87, 1.73 GB; TIFF,
then written through Pillow, is now written in bands: its estimate 1.64 GB). ×4
was not measured: the model is linear in the output's pixels, as ×1 and ×2 bear out.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from faceapp.core.errors import PhotoTooLargeError

MEMORY_LIMIT_ENV = "FACEAPP_MEMORY_LIMIT"

#: Libraries, detector, model and face crops: the part of the peak that does not grow with the photo
#: (measured: 0.80–0.86 GB once the bundled model and the detector are loaded).
BASE_BYTES = 2**30

#: The faces' regions on the output (the footprints of their aligned crops, summed), as a fraction
#: of the output, assumed when the faces are not known: a portrait, whose faces cover the photo.
PORTRAIT_FACE_AREA = 1.0

# Bytes per pixel. Decoding: Pillow's 4-byte image, its RGB conversion (4), the numpy copy (3) and
# the conversion's temporaries (measured 13.3–13.5 for 24 and 48 MP JPEGs).
_DECODE_PER_INPUT_PIXEL = 14
_PHOTO_PER_INPUT_PIXEL = 3  # the RGB photo kept while restoring (+1 with alpha)
#: The enlarged RGB background the faces are pasted into (+1 alpha). At ×1 a result's background is
#: the photo's own pixels, yet the 3 bytes stay in the model: the peaks re-measured at ×1 after that
#: change did not drop by them (1.59 GB for a 24 MP ×1 PNG of gf_Blake_Lively enlarged, its faces
#: 0.77 of it; the estimate 1.64 GB).
_BACKGROUND_PER_OUTPUT_PIXEL = 3
_COMPOSITE_PER_OUTPUT_PIXEL = 3  # PhotoResult.composite(): a copy of the background with the faces blended in
#: Per pixel of the faces' regions on the output: float32 weights (4) and their normalised copy
#: where faces overlap (4), the plain background under them (3), and what the heap keeps of the
#: feathering's float32 temporaries (fitted to the measured peaks: 14.0 needed, 14.5 kept).
_FACE_MASKS_PER_REGION_PIXEL = 14.5
# The encoder's extra memory: PNG and TIFF are written band by band here (TIFF measured: 0 MB over a
# 12000×8000 result, where Pillow's TIFF encoder took 4.0 bytes a pixel); JPEG and WebP go through a
# full Pillow image (4 bytes a pixel), plus JPEG's Huffman optimisation (6, only up to 50 MP; see
# faceapp.core.export) and libwebp's own picture (ARGB 4 + YUV 1.5).
_ENCODER_PER_OUTPUT_PIXEL = {"PNG": 0.0, "JPEG": 4.0, "TIFF": 0.0, "WEBP": 9.5}
_JPEG_FLATTEN_PER_PIXEL = 3.0  # JPEG has no alpha: a transparent result is flattened into a new RGB copy
_JPEG_OPTIMIZE_PER_PIXEL, _JPEG_OPTIMIZE_MAX_PIXELS = 6.0, 50_000_000
#: A result written in 16 bits (faceapp.core.sixteen_bit), per byte of a 16-bit pixel (6 for RGB, 8
#: with alpha): reading the file again holds its bytes, OpenCV's decoded copy and the upright RGB
#: at once (per input pixel); composing holds that RGB, its enlarged copy (per output pixel) and
#: the 16-bit background under the faces (per pixel of their regions).
_SIXTEEN_BIT_READ_COPIES = 3

# (the letters spelt out in both cases: under IGNORECASE the Turkish İ matched the i of "GiB", and "16İ"
# was read as 16 bytes)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtKMGT]?)[iI]?[bB]?\s*$")
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class MemoryBudgetError(PhotoTooLargeError):
    """The photo would need more memory than the limit allows; the message says what to change."""


@dataclass(frozen=True)
class MemoryLimit:
    """How many bytes a job may use (None: no check), where that figure comes from, and the
    setting that raises it (the one that set it; the environment variable when none did)."""

    bytes: int | None
    source: str
    setting: str = MEMORY_LIMIT_ENV


def parse_size(text: str) -> int:
    """Bytes in ``text``: ``16G``, ``1.5GB``, ``800M``, ``512MiB`` or a plain number of bytes."""
    match = _SIZE.match(str(text))
    if match is None:
        point = "; a decimal point, not a comma" if re.fullmatch(r"\s*\d+,\d+\s*[A-Za-z]*\s*", str(text)) else ""
        raise ValueError(f"not a memory size: {text!r} (write e.g. 16G, 800M or 0 for no limit{point})")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def memory_limit(setting: str | None = None, *, base_held: bool = False) -> MemoryLimit:
    """The limit from ``setting`` (e.g. the CLI option), else ``FACEAPP_MEMORY_LIMIT``, else the
    memory free now. ``0`` means no check. ``base_held``: the process holds a model already, so what it
    holds, up to :data:`BASE_BYTES`, is the estimate's base and counts as the job's own (low-memory
    QA: a window holding its model was refused a 35 MP scan that needed 0.7 GB more, with 1.7 GB
    free); without a model held nothing is, since what it holds may be photos (sceptic QA)."""
    for text, source in ((setting, "--memory-limit"), (os.environ.get(MEMORY_LIMIT_ENV), MEMORY_LIMIT_ENV)):
        if text:
            try:
                value = parse_size(text)
            except ValueError as exc:  # (QA: from the environment, the message did not say where it came from)
                raise ValueError(f"{source}: {exc}") from None
            if 0 < value < 2**20:
                raise ValueError(f"{source} {text}: too little to restore a photo in; give at least 1M (e.g. 16G), "
                                 "or 0 for no check")
            return MemoryLimit(value or None, f"the limit set by {source}", source)
    free = available_memory()
    if free is None:
        return MemoryLimit(None, "the memory free on this machine")
    return MemoryLimit(free + (min(_held_now(), BASE_BYTES) if base_held else 0), "the memory free on this machine")


def available_memory() -> int | None:
    """Bytes that can be allocated now: MemAvailable, less if a control group caps this process.

    None where neither can be read (then no check is made).
    """
    figures = [v for v in (_meminfo_available(), _cgroup_headroom()) if v is not None]
    return min(figures) if figures else None


def _held_now() -> int:
    """Bytes this process holds now (its resident set; 0 where that cannot be read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


#: Where control groups are mounted, and where this process's are named.
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_CGROUP_MEMBERSHIP = Path("/proc/self/cgroup")


def _cgroup_headroom(root: Path = _CGROUP_ROOT, membership: Path = _CGROUP_MEMBERSHIP) -> int | None:
    """The least headroom (limit less usage) of this process's control group and the groups above
    it, in cgroup v2, else in v1's memory controller; None when none of them is limited. (Low-memory
    QA: a limit on the process's own group, as ``systemd-run --scope -p MemoryMax=`` sets, was not
    seen: only the top of the hierarchy was read, and the process was killed without a word.)"""
    try:
        lines = membership.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    groups = {"v2": "/", "v1": "/"}  # (in a container the process's group is its namespace's root)
    for line in lines:
        number, controllers, group = (line.split(":", 2) + ["", ""])[:3]
        if number == "0" and controllers == "":
            groups["v2"] = group
        elif "memory" in controllers.split(","):
            groups["v1"] = group
    for base, group, limit_name, usage_name in (
        (root, groups["v2"], "memory.max", "memory.current"),
        (root / "memory", groups["v1"], "memory.limit_in_bytes", "memory.usage_in_bytes"),
    ):
        headrooms, read_any = [], False
        for folder in _group_and_above(base, group):
            try:
                limit_text = (folder / limit_name).read_text().strip()
                usage = int((folder / usage_name).read_text().strip())
            except (OSError, ValueError):
                continue
            read_any = True
            if limit_text.isdigit() and int(limit_text) < 2**60:
                headrooms.append(max(0, int(limit_text) - usage))
        if read_any:
            return min(headrooms) if headrooms else None
    return None


def _group_and_above(base: Path, group: str) -> list[Path]:
    """The folders of control group ``group`` (a path as /proc names it) under ``base`` and of every
    group above it, up to ``base``."""
    parts = [part for part in group.split("/") if part and part not in (".", "..")]
    return [base.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def estimate_peak_bytes(width: int, height: int, *, upscale: int, fmt: str = "PNG", alpha: bool = False,
                        face_area: float = PORTRAIT_FACE_AREA, sixteen_bit: bool = False, fill_bytes: int = 0) -> int:
    """The peak memory of restoring a ``width``×``height`` photo at ×``upscale`` and writing it as
    ``fmt`` (a Pillow format name: PNG, JPEG, WEBP, TIFF); see the module's notes for the model and
    the measurements behind it.

    ``face_area``: the faces' regions (the footprints of their aligned crops, summed; overlapping
    ones count each time) as a fraction of the photo. Unknown from a header: the default assumes a
    portrait, whose faces cover the photo (:data:`PORTRAIT_FACE_AREA`). ``sixteen_bit``: the result
    is written in 16 bits per channel (:func:`faceapp.core.sixteen_bit.writes_16_bit`). ``fill_bytes``:
    what filling the damage marked on the photo takes above it
    (:func:`faceapp.core.damage.fill_peak_bytes`), before the result is made."""
    inputs = width * height
    outputs = inputs * upscale * upscale
    decode = inputs * _DECODE_PER_INPUT_PIXEL
    encoder = _ENCODER_PER_OUTPUT_PIXEL.get(fmt, 4.0)
    if fmt == "JPEG" and outputs <= _JPEG_OPTIMIZE_MAX_PIXELS:
        encoder += _JPEG_OPTIMIZE_PER_PIXEL
    if fmt == "JPEG" and alpha:
        encoder += _JPEG_FLATTEN_PER_PIXEL
    channels = 1 if alpha else 0
    masks = _FACE_MASKS_PER_REGION_PIXEL * max(0.0, face_area)
    per_output = _BACKGROUND_PER_OUTPUT_PIXEL + channels + _COMPOSITE_PER_OUTPUT_PIXEL + encoder + masks
    work = inputs * (_PHOTO_PER_INPUT_PIXEL + channels) + outputs * per_output
    if sixteen_bit:
        deep = 2 * (3 + channels)
        work += max(inputs * deep * _SIXTEEN_BIT_READ_COPIES,
                    inputs * deep + outputs * deep * (1 + max(0.0, face_area)))
    filling = inputs * (_PHOTO_PER_INPUT_PIXEL + channels) + fill_bytes if fill_bytes else 0
    return BASE_BYTES + int(max(decode, filling, work))


def face_area_of(faces, width: int, height: int) -> float:
    """The ``face_area`` of :func:`estimate_peak_bytes` for ``faces`` (:class:`~faceapp.core.faces.Face`)
    of a ``width``×``height`` photo: the boxes on the photo that their aligned crops' footprints
    cover, clipped to it and summed, as a fraction of the photo (the faces' blending masks are that
    size on the output, at any upscale). Switched-off faces are not restored and do not count."""
    import numpy as np

    from faceapp.core.faces import alignment_transform
    from faceapp.core.paste import face_roi
    from faceapp.core.templates import face_template

    template = face_template("ffhq5", 512)  # the footprint on the photo is the same at any crop size
    covered = 0
    for face in faces:
        if not getattr(face, "enabled", True):
            continue
        affine = alignment_transform(face.landmarks, template)
        if not np.isfinite(affine).all() or abs(np.linalg.det(affine[:, :2])) < 1e-12:
            return PORTRAIT_FACE_AREA  # landmarks that give no transform: assume the most
        x0, y0, x1, y1 = face_roi(affine, 512, 1.0, (width, height))
        covered += (x1 - x0) * (y1 - y0)
    return covered / max(1, width * height)


def check_memory_budget(
    width: int, height: int, *, upscale: int, fmt: str = "PNG", alpha: bool = False,
    limit: MemoryLimit | None = None, name: str = "the photo", face_area: float = PORTRAIT_FACE_AREA,
    sixteen_bit: bool = False, eight_bit_setting: str = "", faces_unknown: bool = False, fill_bytes: int = 0,
    upscale_setting: str = "",
) -> None:
    """Raise :class:`MemoryBudgetError` if the job's estimated peak exceeds the limit
    (``face_area``, ``sixteen_bit``: see :func:`estimate_peak_bytes`). ``eight_bit_setting``: the
    front-end's way to write 8 bits instead of 16, named where that is a way out; ``upscale_setting``,
    its way to the upscale (slow-laptop QA: the window's message did not say where). ``faces_unknown``:
    checked before its faces are found, with ``face_area`` the least they take: the message gives
    the most they could take too, and a limit that fits it (QA: following the first figure's
    advice was refused again once the faces were found, with a figure twice as large). ``fill_bytes``:
    see :func:`estimate_peak_bytes`."""
    limit = limit if limit is not None else memory_limit()

    def estimate(*, scale: int = upscale, fmt: str = fmt, face_area: float = face_area, deep: bool = sixteen_bit) -> int:
        return estimate_peak_bytes(width, height, upscale=scale, fmt=fmt, alpha=alpha, face_area=face_area,
                                   sixteen_bit=deep, fill_bytes=fill_bytes)

    need = estimate()
    if limit.bytes is None or need <= limit.bytes:
        return
    most = need if not faces_unknown else estimate(face_area=PORTRAIT_FACE_AREA)
    ways = []
    smaller = [s for s in (2, 1) if s < upscale]
    eight_bits = "8 bits per channel" + (f" ({eight_bit_setting})" if eight_bit_setting else "")
    where_upscale = f"{upscale_setting}: " if upscale_setting else ""
    if sixteen_bit:
        option = estimate(deep=False)
        if option <= limit.bytes:
            ways.append(f"{eight_bits} (needs {_gb(option)})")
    for scale in smaller:
        option = estimate(scale=scale)
        if option <= limit.bytes:
            ways.append(f"a smaller upscale ({where_upscale}×{scale} needs {_gb(option)})")
            break
        if sixteen_bit:
            option = estimate(scale=scale, deep=False)
            if option <= limit.bytes:
                ways.append(f"a smaller upscale in {eight_bits} ({where_upscale}×{scale} needs {_gb(option)})")
                break
    if fmt != "PNG":
        option = estimate(fmt="PNG")
        if option <= limit.bytes:
            ways.append(f"PNG output (needs {_gb(option)})")
    ways.append("a machine with more memory")
    enough = f"{max(1, math.ceil(most / 2**30))}G"
    example = f"{limit.setting} {enough}" if limit.setting.startswith("-") else f"{limit.setting}={enough}"
    depth = " in 16 bits per channel" if sixteen_bit else ""
    amount = (f"about {_gb(need)}" if most <= need or _gb(most) == _gb(need) else  # (not "from 1.0 GiB to 1.0 GiB")
              f"from about {_gb(need)} to {_gb(most)} (the larger its faces, the more)")
    raise MemoryBudgetError(
        f"{name}: restoring {width}×{height} pixels at ×{upscale} as {fmt}{depth} needs {amount} of "
        f"memory, more than the {_gb(limit.bytes)} of {limit.source}. Choose {', or '.join(ways)}; "
        f"or, if you know more is free, raise the limit with {limit.setting} (e.g. {example})."
    )


#: Showing another seed of a restored photo puts it together again (:meth:`PhotoResult.composite`)
#: beside the one shown: the new composite and its screen image, bytes per output pixel (measured:
#: +2.2 GiB for a 24000×15908 ×4 result); its sRGB copy (a photo with a colour profile) and a
#: transparent photo's checkerboard copy and alpha come on top.
_RECOMPOSITE_PER_OUTPUT_PIXEL = 6
_RECOMPOSITE_CONVERTED_PER_PIXEL = 3
_RECOMPOSITE_ALPHA_PER_PIXEL = 4


def check_recomposite_memory(width: int, height: int, *, colour_converted: bool = False, alpha: bool = False,
                             name: str = "the photo", upscale: int = 1, upscale_setting: str = "",
                             limit: MemoryLimit | None = None) -> None:
    """Raise :class:`MemoryBudgetError` where putting a restored photo of ``width``×``height`` output
    pixels together again (another seed chosen) would take more memory than the limit (memory QA:
    after a ×4 restore, a seed's choice went 1.1× over the budget the restore was checked against,
    and ran out as an "Unexpected error")."""
    limit = limit if limit is not None else memory_limit()
    per_pixel = (_RECOMPOSITE_PER_OUTPUT_PIXEL + _RECOMPOSITE_CONVERTED_PER_PIXEL * colour_converted
                 + _RECOMPOSITE_ALPHA_PER_PIXEL * alpha)
    need = width * height * per_pixel
    if limit.bytes is None or need <= limit.bytes:
        return
    setting = f" ({upscale_setting})" if upscale_setting else ""
    smaller = f", or restore the photo at a smaller upscale{setting}" if upscale > 1 else ""  # (none at ×1: review)
    raise MemoryBudgetError(
        f"{name}: showing another seed puts the {width}×{height} restored photo together again, which needs about "
        f"{_gb(need)} of memory, more than the {_gb(limit.bytes)} of {limit.source}. The seed shown is kept. Close "
        f"other programs and choose again{smaller}; or, if you know more is free, raise the limit with "
        f"{limit.setting}.")


def _gb(size: int) -> str:
    """A size in the binary units --memory-limit and FACEAPP_MEMORY_LIMIT take ("16G" is 16 GiB),
    so that a limit reads back as it was given (QA: "1G" was said as "1.1 GB")."""
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 / 10 else f"{size / 2**20:.0f} MiB"
