"""Black-and-white photos: telling them apart, and keeping what the models make of them grey.

The face models answer in colour whatever they are given, so the faces they restore from a
black-and-white photo come back with colour casts. :func:`is_greyscale` decides whether a photo is
black-and-white (read time, :attr:`faceapp.core.photo_io.Photo.greyscale`); :func:`make_grey`
turns an RGB image neutral in place and :func:`luma` gives its single grey channel, both with the
ITU-R BT.601 weights (0.299 R + 0.587 G + 0.114 B) that Pillow's ``convert("L")`` uses too, here
in OpenCV's fixed point (15x faster than numpy on a 24 MP composite; at most one level from
Pillow's, and an image already grey keeps every value). Large images are done in bands of rows,
so the temporaries stay small.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Largest difference between the channels (levels of 255) of a photo still taken as black-and-
#: white. A grey picture saved as RGB comes back with its channels 1–2 levels apart where the
#: encoder's YCbCr ↔ RGB rounding or a colour-profile conversion touched it; a tinted print
#: (sepia, a selenium or cyanotype tone) or a faded colour photo differs by 10 levels and more, and
#: stays colour. One pixel beyond it anywhere (a hand-coloured detail) makes the photo colour.
GREY_TOLERANCE = 2

_BAND_PIXELS = 1 << 20  # pixels looked at or converted at a time


def is_greyscale(rgb: np.ndarray, *, tolerance: int = GREY_TOLERANCE) -> bool:
    """Whether an HxWx3 uint8 image's channels are equal everywhere, within ``tolerance`` levels.

    Stops at the first band of rows that has colour, so a colour photo costs little.
    """
    for band in _bands(rgb):
        red, green, blue = (band[:, :, c].astype(np.int16) for c in range(3))
        if np.abs(red - green).max(initial=0) > tolerance or np.abs(green - blue).max(initial=0) > tolerance:
            return False
    return True


def luma(rgb: np.ndarray) -> np.ndarray:
    """The HxW grey (BT.601 luma) of an HxWx3 RGB image, uint8 or uint16 as it is."""
    out = np.empty(rgb.shape[:2], dtype=rgb.dtype)
    rows = _band_rows(rgb)
    for top in range(0, rgb.shape[0], rows):
        out[top : top + rows] = cv2.cvtColor(rgb[top : top + rows], cv2.COLOR_RGB2GRAY)
    return out


def make_grey(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` (HxWx3 uint8 or uint16, writable) made neutral in place: every channel set to its luma; returned."""
    rows = _band_rows(rgb)
    for top in range(0, rgb.shape[0], rows):
        band = rgb[top : top + rows]
        band[...] = cv2.cvtColor(cv2.cvtColor(band, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return rgb


def grey_copy(rgb: np.ndarray) -> np.ndarray:
    """A neutral copy of an HxWx3 uint8 image (for read-only images such as an engine's output)."""
    return cv2.cvtColor(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def _band_rows(image: np.ndarray) -> int:
    return max(1, _BAND_PIXELS // max(1, image.shape[1]))


def _bands(image: np.ndarray):
    rows = _band_rows(image)
    for top in range(0, image.shape[0], rows):
        yield image[top : top + rows]
