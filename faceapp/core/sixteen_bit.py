"""Results in 16 bits per channel for photos that have them (a 48-bit scan, a 16-bit grey TIFF).

The pipeline works in 8 bits: detection, the models, the window. A 16-bit photo's result gets its
16 back at export: the file is read again in full depth (:func:`read_16_bit`: Pillow reduces 16-bit
RGB to 8 bits as it decodes, OpenCV does not), its pixels enlarged like the 8-bit background, and the
restored faces blended in (:func:`composite_16_bit`). The background keeps every bit of the scan;
the faces have the model's 8 bits, scaled to 16 as the photo's 8 bits stand for its 16
(:func:`depth_of`). Holding the 16 bits only while a file is written
keeps a window of loaded photos at the 8-bit size.

Formats that hold 16 bits and that faceapp writes in 16 (:func:`faceapp.core.export.holds_16_bits`):
PNG (grey or RGB, ± alpha) and TIFF but for grey with alpha (a file neither Pillow nor OpenCV reads
back in 16 bits). JPEG and WebP are 8-bit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.core.export import holds_16_bits
from faceapp.core.halftone import Screen, descreen
from faceapp.core.photo_io import Photo
from faceapp.core.photo_restore import ROUNDED_DEPTH, PhotoResult
from faceapp.core.upscale import upscale_image

log = logging.getLogger(__name__)

#: 8-bit values scaled to 16 bits: 255 · 257 = 65535.
SCALE_8_TO_16 = 257
#: How far the file's 16 bits, scaled to 8, may lie from the pixels read when it was opened (Pillow
#: keeps the high byte where this module would round): farther means the file changed since.
_SAME_PICTURE_TOLERANCE = 1.5
_CHECKED_ROWS = 256  # rows of the photo compared with the file's 16 bits (evenly spread)


@dataclass(frozen=True)
class SixteenBitPixels:
    """A photo's pixels in 16 bits, upright: rgb HxWx3 uint16 (equal channels for a grey file),
    alpha HxW uint16 or None."""

    rgb: np.ndarray
    alpha: np.ndarray | None


def writes_16_bit(photo: Photo, fmt: str) -> bool:
    """Whether ``photo``'s result is written in 16 bits per channel as ``fmt`` (a Pillow format
    name): the file had 16 and the format holds them as faceapp writes it."""
    return photo.bits == 16 and photo.path is not None and holds_16_bits(
        fmt, one_channel=photo.single_channel, alpha=photo.alpha is not None)


def read_16_bit(photo: Photo, *, screen: Screen | None = None) -> SixteenBitPixels | None:
    """``photo``'s file read again in 16 bits per channel, turned upright as ``photo`` was (and
    with ``screen``, the printed screen smoothed out of ``photo``, smoothed out as well); None
    (logged) when it cannot be: the file is gone, another picture now, or not 16-bit pixels that
    OpenCV reads (a 16-bit CMYK or palette file). The caller then writes the 8-bit result."""
    path = photo.path
    if path is None or photo.bits != 16:
        return None
    try:
        pixels = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)  # any path, any depth
    except (OSError, ValueError, cv2.error) as exc:
        log.warning("%s: cannot read its 16 bits again (%s): the result has 8 bits per channel", path, exc)
        return None
    found = _as_rgb(pixels)
    if found is None:
        log.warning("%s: not 16-bit pixels OpenCV reads: the result has 8 bits per channel", path)
        return None
    # Turned as the photo was; or as decoded, for a TIFF that OpenCV turned itself (5.x does,
    # even unchanged; other versions may not).
    turns = (photo.orientation, 1) if photo.orientation != 1 else (1,)
    decoded_rgb, decoded_alpha = found
    for turn in turns:
        rgb = _upright(decoded_rgb, turn)
        if screen is not None and rgb.shape[:2] == screen.shape:
            rgb = descreen(rgb, screen)
        if _same_picture(rgb, photo.rgb):
            break
    else:
        log.warning("%s: the file is not the picture that was opened (changed since?): the result has "
                    "8 bits per channel", path)
        return None
    rgb = np.ascontiguousarray(rgb)
    alpha = None if decoded_alpha is None else np.ascontiguousarray(_upright(decoded_alpha, turn))
    if photo.alpha is None:
        alpha = None
    elif alpha is None:
        alpha = photo.alpha.astype(np.uint16) * np.uint16(SCALE_8_TO_16)
    return SixteenBitPixels(rgb, alpha)


def composite_16_bit(
    result: PhotoResult, pixels: SixteenBitPixels, *, should_cancel: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """``result`` in 16 bits per channel: ``pixels`` (of ``result``'s photo), their damaged parts
    filled as the 8-bit result's were, enlarged by its upscale, with its chosen faces blended in.
    Returns (HxWx3 uint16 RGB, HxW uint16 alpha or None) at the output's size."""
    scale, offset = depth = depth_of(pixels.rgb, result.photo.rgb)
    if result.damage is None:
        background = upscale_image(pixels.rgb, result.scale, should_cancel=should_cancel)  # a new, writable array
    else:
        filled = pixels.rgb.copy()
        fill = result.background_fill(should_cancel=should_cancel)
        box = filled[fill.top : fill.top + fill.mask.shape[0], fill.left : fill.left + fill.mask.shape[1]]
        box[fill.mask] = np.clip(np.rint(fill.pixels[fill.mask] * scale + offset), 0, 65535).astype(np.uint16)
        background = filled if result.scale == 1 else upscale_image(filled, result.scale, should_cancel=should_cancel)
    alpha = None
    if pixels.alpha is not None and result.alpha is not None:
        alpha = upscale_image(pixels.alpha, result.scale, should_cancel=should_cancel)
    return result.composite_over(background, depth=depth), alpha


def depth_of(rgb16: np.ndarray, rgb8: np.ndarray) -> tuple[float, float]:
    """(a, b): how the photo's 8 bits ``rgb8`` stand for its 16 ``rgb16``, v16 ≈ a·v8 + b over evenly
    spread rows: a is 256 where the 8 bits are each value's high byte (Pillow reads 48-bit RGB so; b is
    then the low bytes' mean, about 127.5) and 257 where they were rounded (b about 0), whichever
    fits: faces scaled ×257 into a dark scan read the first way came out up to half an 8-bit level
    darker, a tenth of a dark scan's range (dark-scan QA)."""
    rows = _checked_rows(rgb8.shape[0])
    eight = rgb8[rows].reshape(-1).astype(np.float64)
    sixteen = rgb16[rows].reshape(-1).astype(np.float64)
    if eight.size == 0:
        return ROUNDED_DEPTH
    fits = []  # (residual, scale, offset): the two ways 16 bits are made 8, each with its mean offset
    for scale in (256.0, float(SCALE_8_TO_16)):  # (a free slope was thrown by a photo of a narrow range: review)
        residual = sixteen - scale * eight
        fits.append((float(residual.var()), scale, float(residual.mean())))
    _, scale, offset = min(fits)
    return scale, offset


def _as_rgb(pixels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None] | None:
    """OpenCV's decoded grey, BGR or BGRA uint16 as (RGB, alpha or None); None for anything else."""
    if pixels is None or pixels.dtype != np.uint16:
        return None
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, None], 3, axis=2), None
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        return pixels[:, :, ::-1], None
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return pixels[:, :, 2::-1], pixels[:, :, 3]
    return None


def _upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """``image`` turned as EXIF ``orientation`` (1…8) says, as Pillow's ``exif_transpose`` turns it."""
    if orientation == 2:
        return image[:, ::-1]
    if orientation == 3:
        return image[::-1, ::-1]
    if orientation == 4:
        return image[::-1]
    if orientation == 5:
        return image.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(image, -1)
    if orientation == 7:
        return image.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.rot90(image, 1)
    return image


def _checked_rows(height: int) -> np.ndarray:
    """The rows of a photo ``height`` rows tall that its 8 and 16 bits are compared in (evenly spread)."""
    return np.linspace(0, height - 1, min(_CHECKED_ROWS, height)).astype(int)


def _same_picture(rgb16: np.ndarray, rgb8: np.ndarray) -> bool:
    """Whether 16-bit pixels are those the 8-bit ones were read from (evenly spread rows compared)."""
    if rgb16.shape != rgb8.shape:
        return False
    rows = _checked_rows(rgb8.shape[0])
    scaled = rgb16[rows].astype(np.float32) / SCALE_8_TO_16
    return bool(np.abs(scaled - rgb8[rows]).max(initial=0.0) <= _SAME_PICTURE_TOLERANCE)
