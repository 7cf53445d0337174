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


def render(rgb: np.ndarray, *, full_size: bool = True) -> Rendered:
    """The QImages of an RGB array (any thread); with ``full_size`` False only the thumbnail."""
    return Rendered(rgb_to_qimage(rgb) if full_size else None, rgb_to_thumbnail(rgb, THUMBNAIL_PX))


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
                rendered = render(photo.srgb, full_size=full_size())
                item = ShownEarly(photo, rendered, item.stage)
            yield item
        if rendered is None or (rendered.image is None and full_size()):  # (it came on screen meanwhile)
            rendered = render(value[0].srgb, full_size=full_size())
        return value, rendered

    return wrapped
