"""What the window draws for a photo, made on a background thread so the UI never waits for it.

Turning a 24-megapixel array into a QImage, or into a filmstrip thumbnail, takes 50–500 ms; the
jobs that produce arrays (loading, restoring, recomposing after a gallery click) therefore also
produce these images before they hand their result to the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtGui import QImage

from faceapp.gui.qimage import rgb_to_qimage, rgb_to_thumbnail
from faceapp.gui.worker import Job

THUMBNAIL_PX = 168  # the filmstrip's cell at up to 2x device pixels


@dataclass(frozen=True)
class Rendered:
    """One array ready to show: full size and as a thumbnail."""

    image: QImage
    thumbnail: QImage


def render(rgb: np.ndarray) -> Rendered:
    """The QImages of an RGB array (any thread)."""
    return Rendered(rgb_to_qimage(rgb), rgb_to_thumbnail(rgb, THUMBNAIL_PX))


def then(job: Job, finish: Callable[[Any], Any]) -> Job:
    """``job``, with ``finish`` applied to its result on the same (background) thread."""

    def wrapped(should_cancel) -> Generator[Any, None, Any]:
        value = yield from job(should_cancel)
        return finish(value)

    return wrapped
