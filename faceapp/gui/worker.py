"""Run a core generator function on a background QThread, turning its yields into signals.

A *job* is any callable ``job(should_cancel) -> Generator``: each ``yield`` is a progress item
(emitted as :attr:`TaskRunner.progress`), the generator's return value is the result. The worker
checks the cancel flag after every yield and closes the generator as soon as it is set; the core
checks the same flag between its own steps, so a cancel takes effect within one step.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from faceapp.core.errors import Cancelled, FaceappError
from faceapp.core.host_memory import return_freed_memory
from faceapp.gui.backend import SEEDS_SETTING, UPSCALE_SETTING

log = logging.getLogger(__name__)

ShouldCancel = Callable[[], bool]
Job = Callable[[ShouldCancel], Generator[Any, None, Any]]


class _Worker(QObject):
    """Lives on the background thread; runs one job at a time."""

    progress = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, object)
    cancelled = Signal(int)

    @Slot(int, object, object)
    def run(self, job_id: int, job: Job, cancel: threading.Event) -> None:
        try:
            generator = job(cancel.is_set)
            while True:
                if cancel.is_set():
                    generator.close()
                    raise Cancelled()
                try:
                    item = next(generator)
                except StopIteration as stop:
                    result = stop.value
                    break
                self.progress.emit(job_id, item)
        except Cancelled:
            self.cancelled.emit(job_id)
        except Exception as raised:  # reported to the user; a bug's traceback goes to the log
            from faceapp.core.devices import as_out_of_memory  # (torch: loaded by the jobs that need it)

            error = as_out_of_memory(raised, seeds_setting=SEEDS_SETTING, upscale_setting=UPSCALE_SETTING)
            if isinstance(error, FaceappError):  # a photo, a disk or a model the user can act on: no traceback
                log.warning("background job %d failed: %s", job_id, error)
            else:
                log.exception("background job %d failed", job_id)
            self.failed.emit(job_id, error)
        else:
            if cancel.is_set():
                self.cancelled.emit(job_id)
            else:
                self.finished.emit(job_id, result)
        finally:
            return_freed_memory()  # an idle window holds no freed network buffers


class TaskRunner(QObject):
    """Owns one worker thread and runs submitted jobs on it, one at a time.

    Signals carry the job id returned by :meth:`submit`, so a listener can ignore a job it no
    longer cares about. ``busy`` is true from :meth:`submit` until one of finished, failed or
    cancelled has been emitted.
    """

    progress = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, object)
    cancelled = Signal(int)
    busyChanged = Signal(bool)

    _request = Signal(int, object, object)

    def __init__(self, parent: QObject | None = None, *, name: str = "faceapp-worker") -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread.start()
        self._next_id = 0
        self._current: tuple[int, threading.Event] | None = None

    @property
    def thread(self) -> QThread:
        """The QThread the jobs run on."""
        return self._thread

    @property
    def busy(self) -> bool:
        return self._current is not None

    def submit(self, job: Job) -> int:
        """Start ``job`` on the worker thread; returns its id. Raises if a job is running."""
        if self._current is not None:
            raise RuntimeError("a job is already running; cancel it or wait for it to end")
        self._next_id += 1
        cancel = threading.Event()
        self._current = (self._next_id, cancel)
        self.busyChanged.emit(True)
        self._request.emit(self._next_id, job, cancel)
        return self._next_id

    def cancel(self) -> None:
        """Ask the running job to stop at its next step (no-op when idle)."""
        if self._current is not None:
            self._current[1].set()

    def shutdown(self, *, timeout_ms: int = 10_000) -> None:
        """Cancel any job and stop the thread (call before the application quits)."""
        self.cancel()
        self._thread.quit()
        if not self._thread.wait(timeout_ms):
            log.warning("worker thread did not stop within %d ms", timeout_ms)

    def _end(self, job_id: int) -> bool:
        if self._current is None or self._current[0] != job_id:
            return False
        self._current = None
        self.busyChanged.emit(False)
        return True

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: object) -> None:
        if self._end(job_id):
            self.finished.emit(job_id, result)

    @Slot(int, object)
    def _on_failed(self, job_id: int, error: object) -> None:
        if self._end(job_id):
            self.failed.emit(job_id, error)

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        if self._end(job_id):
            self.cancelled.emit(job_id)
