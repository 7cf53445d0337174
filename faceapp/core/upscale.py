"""Background upscaling ×1, ×2 or ×4 with Lanczos resampling, in horizontal stripes.

Pixel centres follow OpenCV's convention (output pixel u sits at input position (u + 0.5)/s − 0.5),
which the paste-back uses too. Each stripe is resampled from its input rows plus a margin wider
than the filter's support, so the stripes join exactly: the result equals a one-shot resize while
only one stripe's intermediate buffers exist at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from faceapp.core.errors import Cancelled
from faceapp.core.preferences import UPSCALES as SCALES

_MARGIN = 8  # input rows; Lanczos-4 reads 4 on each side
_STRIPE_OUTPUT_ROWS = 512


def upscale_image(
    image: np.ndarray, scale: int, *, stripe_rows: int = _STRIPE_OUTPUT_ROWS, should_cancel: Callable[[], bool] | None = None
) -> np.ndarray:
    """HxW(xC) uint8 or uint16 → (s·H)x(s·W)(xC) of the same type; ``scale`` 1 returns a copy.

    ``should_cancel()`` is asked before each stripe; True raises :class:`Cancelled`.
    """
    if scale not in SCALES:
        raise ValueError(f"upscale must be one of {SCALES}, got {scale}")
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"expected a uint8 or uint16 image, got {image.dtype}")
    if scale == 1:
        return image.copy()
    height, width = image.shape[:2]
    out = np.empty((height * scale, width * scale) + image.shape[2:], dtype=image.dtype)
    in_rows = max(1, stripe_rows // scale)
    for y0 in range(0, height, in_rows):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        y1 = min(height, y0 + in_rows)
        top, bottom = max(0, y0 - _MARGIN), min(height, y1 + _MARGIN)
        stripe = cv2.resize(image[top:bottom], (width * scale, (bottom - top) * scale), interpolation=cv2.INTER_LANCZOS4)
        if stripe.ndim < image.ndim:  # cv2 drops a trailing channel axis of size 1
            stripe = stripe.reshape(stripe.shape + (1,))
        offset = (y0 - top) * scale
        out[y0 * scale : y1 * scale] = stripe[offset : offset + (y1 - y0) * scale]
    return out
