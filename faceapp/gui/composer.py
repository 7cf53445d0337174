"""Make a photo's full-size images off the UI thread; the newest request for a photo wins.

Two kinds of work: the composite of a result after a gallery choice (or when a restored photo
comes back on screen), and the "before" image of a photo coming back on screen
(:meth:`faceapp.gui.session.Session.show`). On a 24-megapixel photo, pasting the faces back and
preparing the images to show takes 0.3 s at ×1 and over a second at ×2: done on the UI thread it
would freeze the window on every click. The composer runs it on one helper thread (so the restore
worker is never kept waiting). When the user clicks again before a composite is ready, the older
request is skipped or its result dropped, and only the composite of the latest choice is delivered.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from faceapp.gui.backend import UPSCALE_SETTING
from faceapp.gui.views import render

log = logging.getLogger(__name__)

_COMPOSITE, _PHOTO = "composite", "photo"


class Composer(QObject):
    """Composites ``PhotoResult``s and renders ``Photo``s on a helper thread; see the module docstring."""

    #: key, the result it was made from, the composite (HxWx3 uint8, read-only), its Rendered
    composed = Signal(object, object, object, object)
    #: key, the photo, the Rendered of its sRGB pixels (the "before" image)
    photoRendered = Signal(object, object, object)
    failed = Signal(object, object)  # key, exception
    _finished = Signal(str, object, int, object, object)  # kind, key, token, subject, its images or the error

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faceapp-compose")
        self._latest: dict[tuple[str, Any], int] = {}
        # One count for every request, never restarted: a job asked for before forget() (or before
        # a delivery) can never carry the token of a request made after it.
        self._tokens = itertools.count(1)
        self._closed = False  # shut down: requests are dropped
        self._finished.connect(self._deliver)  # queued: emitted on the helper thread

    def request(self, key: Any, result: Any) -> None:
        """Composite ``result`` (a value: its choice is fixed); supersedes earlier requests."""
        self._submit(_COMPOSITE, key, result, _composite_images)

    def request_photo(self, key: Any, photo: Any) -> None:
        """Render ``photo`` (a core Photo) as its "before" images; supersedes earlier requests."""
        self._submit(_PHOTO, key, photo, lambda p: render(p.srgb, alpha=p.alpha))

    def pending(self, key: Any) -> bool:
        """Whether a composite for ``key`` has been asked for and not yet delivered."""
        return (_COMPOSITE, key) in self._latest

    def pending_photo(self, key: Any) -> bool:
        """Whether the "before" images of ``key`` have been asked for and not yet delivered."""
        return (_PHOTO, key) in self._latest

    def forget(self, key: Any) -> None:
        """Drop anything still on its way for ``key`` (the photo was removed or re-run)."""
        self._latest.pop((_COMPOSITE, key), None)
        self._latest.pop((_PHOTO, key), None)

    def shutdown(self) -> None:
        """Skip queued work and wait for the running composite (call before quitting)."""
        self._closed = True
        self._latest.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, kind: str, key: Any, subject: Any, make: Callable[[Any], Any]) -> None:
        if self._closed:  # (a load's progress delivered after the window closed asks for nothing: a CI race)
            return
        token = next(self._tokens)
        self._latest[(kind, key)] = token
        self._pool.submit(self._make, kind, key, token, subject, make)

    def _make(self, kind: str, key: Any, token: int, subject: Any, make: Callable[[Any], Any]) -> None:
        if self._latest.get((kind, key)) != token:
            return  # a newer request came in before this one started
        try:
            made = make(subject)
        except Exception as error:  # reported to the user; a bug's traceback goes to the log
            from faceapp.core.devices import as_out_of_memory  # (torch: loaded by the restore that made it)

            made = as_out_of_memory(error, seeds_setting=None,  # (memory QA: "Unexpected error: Unable to
                                    # allocate 1.07 GiB"; the photo as it was is not enlarged: review)
                                    upscale_setting=UPSCALE_SETTING if kind == _COMPOSITE else None)
            if made is error:
                log.exception("preparing the %s of %s failed", kind, key)
            else:
                log.warning("preparing the %s of %s failed: %s", kind, key, made)
        self._finished.emit(kind, key, token, subject, made)

    def _deliver(self, kind: str, key: Any, token: int, subject: Any, made: Any) -> None:
        if self._latest.get((kind, key)) != token:
            return
        del self._latest[(kind, key)]
        if isinstance(made, BaseException):
            self.failed.emit(key, made)
        elif kind == _COMPOSITE:
            self.composed.emit(key, subject, *made)
        else:
            self.photoRendered.emit(key, subject, made)


def _composite_images(result: Any) -> tuple[Any, Any]:
    """A result's composite and its Rendered (the screen is taken as sRGB)."""
    composite = result.composite()
    return composite, render(result.photo.to_srgb(composite), alpha=result.alpha)
