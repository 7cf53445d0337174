"""Colour management: a photo's embedded RGB profile (Display P3, Adobe RGB, …) ↔ sRGB.

The models were trained on sRGB faces, and the window draws sRGB. A photo whose ICC profile
describes another RGB space keeps its pixels and its profile (the background of the result is
those pixels, the file carries that profile); only what the model sees, what it returns and what
the window shows are converted, with LittleCMS through ``PIL.ImageCms`` (relative colorimetric).
"""

from __future__ import annotations

import functools
import io
import logging

import numpy as np
from PIL import Image, ImageCms

log = logging.getLogger(__name__)


def is_srgb(icc: bytes | None) -> bool:
    """Whether pixels tagged with ``icc`` are sRGB already: no profile, one that maps every colour of
    a 9-level grid to sRGB within :data:`SRGB_TOLERANCE` (however it is named), or one LittleCMS
    cannot read. Its name alone is not trusted (QA: GIMP's "Linear sRGB" and "e-sRGB" were taken for
    sRGB, and the model was given linear light)."""
    return not icc or _maps_to_srgb(icc)


#: The most (in 8-bit levels) an sRGB profile's colours may move when converted to LittleCMS's own
#: sRGB: rounding, and the lookup tables of profiles written as tables instead of curves.
SRGB_TOLERANCE = 2
_GRID = np.stack(np.meshgrid(*[np.linspace(0, 255, 9).round()] * 3, indexing="ij"), axis=-1).reshape(1, -1, 3).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _maps_to_srgb(icc: bytes) -> bool:
    try:
        converted = _apply(_transforms(icc)[0], _GRID)
    except (ImageCms.PyCMSError, OSError, ValueError):
        log.warning("unreadable ICC profile: the pixels are taken as sRGB")
        return True
    return int(np.abs(converted.astype(np.int16) - _GRID).max()) <= SRGB_TOLERANCE


def to_srgb(rgb: np.ndarray, icc: bytes | None) -> np.ndarray:
    """HxWx3 uint8 pixels in the space of ``icc`` converted to sRGB (returned as is when that is sRGB)."""
    return rgb if is_srgb(icc) else _apply(_transforms(icc)[0], rgb)


def from_srgb(rgb: np.ndarray, icc: bytes | None) -> np.ndarray:
    """HxWx3 uint8 sRGB pixels converted to the space of ``icc`` (returned as is when that is sRGB)."""
    return rgb if is_srgb(icc) else _apply(_transforms(icc)[1], rgb)


@functools.lru_cache(maxsize=8)
def _profile(icc: bytes) -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(io.BytesIO(icc))


@functools.lru_cache(maxsize=8)
def _transforms(icc: bytes) -> tuple[ImageCms.ImageCmsTransform, ImageCms.ImageCmsTransform]:
    """(photo space → sRGB, sRGB → photo space), built once per profile."""
    photo, srgb = _profile(icc), ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
    return (ImageCms.buildTransform(photo, srgb, "RGB", "RGB", renderingIntent=intent),
            ImageCms.buildTransform(srgb, photo, "RGB", "RGB", renderingIntent=intent))


def _apply(transform: ImageCms.ImageCmsTransform, rgb: np.ndarray) -> np.ndarray:
    converted = ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(rgb)), transform)
    return np.asarray(converted)
