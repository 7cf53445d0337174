"""What the window draws for a photo, made on a background thread so the UI never waits for it.

Turning a 24-megapixel array into a QImage, or into a filmstrip thumbnail, takes 50–500 ms; the
jobs that produce arrays (loading, restoring, recomposing after a gallery click) therefore also
produce these images before they hand their result to the UI thread.

A full-size image weighs as much as the photo (three bytes a pixel, at the output scale for a
result); only the photos on screen keep theirs (:meth:`faceapp.gui.session.Session.show`), every
photo keeps its thumbnail.
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
    """One array ready to show: full size (None where only the thumbnail is kept) and as a thumbnail."""

    image: QImage | None
    thumbnail: QImage

    def thumbnail_only(self) -> Rendered:
        """This, without its full-size image."""
        return self if self.image is None else Rendered(None, self.thumbnail)


def render(rgb: np.ndarray, *, full_size: bool = True, alpha: np.ndarray | None = None) -> Rendered:
    """The QImages of an RGB array (any thread); with ``full_size`` False only the thumbnail. A
    photo with ``alpha`` (HxW uint8) is shown over a grey checkerboard where it is transparent, as
    image editors show it (GUI QA: the colour hidden under a cut-out's transparent pixels, magenta,
    filled the view and the thumbnail)."""
    if alpha is not None and not alpha.all():
        rgb = over_checkerboard(rgb, alpha)
    return Rendered(rgb_to_qimage(rgb) if full_size else None, rgb_to_thumbnail(rgb, THUMBNAIL_PX))


#: The checkerboard behind transparent pixels: its squares' side (photo px) and two greys.
_CHECKER_PX, _CHECKER_GREYS = 16, (150, 110)


def over_checkerboard(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb`` (HxWx3 uint8) blended by ``alpha`` (HxW uint8) over a grey checkerboard: a new array."""
    height, width = alpha.shape
    rows, columns = np.ogrid[:height, :width]
    light = ((rows // _CHECKER_PX + columns // _CHECKER_PX) % 2 == 0)
    board = np.where(light, np.uint8(_CHECKER_GREYS[0]), np.uint8(_CHECKER_GREYS[1]))
    weight = alpha.astype(np.float32)[..., None] / 255.0
    return np.rint(rgb * weight + board[..., None] * (1.0 - weight)).astype(np.uint8)


def then(job: Job, finish: Callable[[Any], Any]) -> Job:
    """``job``, with ``finish`` applied to its result on the same (background) thread."""

    def wrapped(should_cancel) -> Generator[Any, None, Any]:
        value = yield from job(should_cancel)
        return finish(value)

    return wrapped


@dataclass(frozen=True)
class ShownEarly:
    """A photo drawn as soon as it is read (a load job's progress), and the stage its load is at."""

    photo: Any  # core Photo
    rendered: Rendered
    stage: str


def shown_early(job: Job, *, full_size: Callable[[], bool]) -> Job:
    """A load ``job`` whose ``PhotoRead`` progress (the photo, read) is drawn on the same background
    thread and passed on as :class:`ShownEarly`; it returns ``(value, Rendered)``, that drawing (made
    again at full size if the photo came on screen meanwhile; from the photo it returns when the job
    yields no ``PhotoRead``).
    ``full_size()``, asked when it draws: whether the photo is on screen (else only its thumbnail)."""

    def wrapped(should_cancel) -> Generator[Any, None, Any]:
        running, rendered = job(should_cancel), None
        while True:
            try:
                item = next(running)
            except StopIteration as stop:
                value = stop.value
                break
            photo = getattr(item, "photo", None)
            if photo is not None and hasattr(item, "stage"):
                rendered = render(photo.srgb, full_size=full_size(), alpha=photo.alpha)
                item = ShownEarly(photo, rendered, item.stage)
            yield item
        if rendered is None or (rendered.image is None and full_size()):  # (it came on screen meanwhile)
            rendered = render(value[0].srgb, full_size=full_size(), alpha=value[0].alpha)
        return value, rendered

    return wrapped
