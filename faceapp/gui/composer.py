"""Rebuild a photo's composite after a gallery choice, off the UI thread; the newest request wins.

On a 24-megapixel photo, pasting the faces back and preparing the images to show takes 0.3 s at
×1 and over a second at ×2: done on the UI thread it would freeze the window on every click. The
composer runs it on one helper thread (so the restore worker is never kept waiting). When the
user clicks again before a composite is ready, the older request is skipped or its result
dropped, and only the composite of the latest choice is delivered.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from faceapp.gui.views import Rendered, render

log = logging.getLogger(__name__)


class Composer(QObject):
    """Composites ``PhotoResult``s on a helper thread; see the module docstring."""

    #: key, the result it was made from, the composite (HxWx3 uint8, read-only), its Rendered
    composed = Signal(object, object, object, object)
    failed = Signal(object, object)  # key, exception
    _finished = Signal(object, int, object, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faceapp-compose")
        self._latest: dict[Any, int] = {}
        self._finished.connect(self._deliver)  # queued: emitted on the helper thread

    def request(self, key: Any, result: Any) -> None:
        """Composite ``result`` (a value: its choice is fixed); supersedes earlier requests."""
        token = self._latest.get(key, 0) + 1
        self._latest[key] = token
        self._pool.submit(self._compose, key, token, result)

    def pending(self, key: Any) -> bool:
        """Whether a composite for ``key`` has been asked for and not yet delivered."""
        return key in self._latest

    def forget(self, key: Any) -> None:
        """Drop any composite still on its way for ``key`` (the photo was removed or re-run)."""
        self._latest.pop(key, None)

    def shutdown(self) -> None:
        """Skip queued work and wait for the running composite (call before quitting)."""
        self._latest.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _compose(self, key: Any, token: int, result: Any) -> None:
        if self._latest.get(key) != token:
            return  # a newer choice came in before this one started
        try:
            composite = result.composite()
            rendered = render(result.photo.to_srgb(composite))  # the screen is taken as sRGB
        except Exception as error:  # reported to the user; the traceback goes to the log
            log.exception("recomposing %s failed", key)
            self._finished.emit(key, token, result, error, None)
            return
        self._finished.emit(key, token, result, composite, rendered)

    def _deliver(self, key: Any, token: int, result: Any, composite: np.ndarray | BaseException,
                 rendered: Rendered | None) -> None:
        if self._latest.get(key) != token:
            return
        del self._latest[key]
        if isinstance(composite, BaseException):
            self.failed.emit(key, composite)
        else:
            self.composed.emit(key, result, composite, rendered)
