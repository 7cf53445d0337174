"""A first-in first-out queue of jobs in front of one :class:`TaskRunner`.

Each queued job carries its own callbacks; the queue starts the next job when the runner is
idle, so queued photos are read and restored one after another.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from faceapp.gui.worker import Job, TaskRunner


def _ignore(*_args: Any) -> None:
    return None


@dataclass
class QueuedJob:
    """A job and what to do with its progress items, its result, its error, its cancellation."""

    job: Job
    kind: str  # "load", "restore", "more": lets the window cancel by kind
    key: Any = None  # usually the photo path
    on_progress: Callable[[Any], None] = _ignore
    on_done: Callable[[Any], None] = _ignore
    on_failed: Callable[[BaseException], None] = _ignore
    on_cancelled: Callable[[], None] = _ignore
    stopping: bool = False  # cancelled while it ran: it ends within a step (on_cancelled; on_done or
    # on_failed when it had ended before the cancel reached it)


class JobQueue(QObject):
    """Runs queued jobs one at a time on the runner's thread."""

    busyChanged = Signal(bool)
    ended = Signal(object)  # the key of a job that has ended (done, failed or cancelled), after its callback

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._pending: deque[QueuedJob] = deque()
        self._current: tuple[int, QueuedJob] | None = None
        runner.progress.connect(self._on_progress)
        runner.finished.connect(lambda job_id, value: self._end(job_id, "on_done", value))
        runner.failed.connect(lambda job_id, error: self._end(job_id, "on_failed", error))
        runner.cancelled.connect(lambda job_id: self._end(job_id, "on_cancelled"))

    @property
    def runner(self) -> TaskRunner:
        return self._runner

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._pending)

    def current(self) -> QueuedJob | None:
        return self._current[1] if self._current else None

    def pending(self) -> list[QueuedJob]:
        return list(self._pending)

    def add(self, queued: QueuedJob) -> None:
        was_busy = self.busy
        self._pending.append(queued)
        if not was_busy:
            self.busyChanged.emit(True)
        self._start_next()

    def cancel(self, *, kinds: tuple[str, ...] | None = None, key: Any = None,
               running: bool = True, notify: bool = True) -> list[QueuedJob]:
        """Cancel the running job (unless not ``running``) and drop pending ones (of ``kinds`` and,
        when given, of ``key``; else all); returns the dropped pending jobs. Without ``notify`` the
        dropped jobs' ``on_cancelled`` is not called (a job replaced by another, not given up)."""

        def matches(queued: QueuedJob) -> bool:
            return (kinds is None or queued.kind in kinds) and (key is None or queued.key == key)

        was_busy = self.busy
        dropped = [q for q in self._pending if matches(q)]
        self._pending = deque(q for q in self._pending if not matches(q))
        if running and self._current and matches(self._current[1]):
            self._current[1].stopping = True
            self._runner.cancel()
        for queued in dropped if notify else ():
            queued.on_cancelled()
        if was_busy and not self.busy:  # (an idle queue cancelled says nothing: flakiness QA)
            self.busyChanged.emit(False)
        return dropped

    def _start_next(self) -> None:
        if self._current is not None or not self._pending or self._runner.busy:
            return
        queued = self._pending.popleft()
        self._current = (self._runner.submit(queued.job), queued)

    def _on_progress(self, job_id: int, item: Any) -> None:
        if self._current and self._current[0] == job_id:
            self._current[1].on_progress(item)

    def _end(self, job_id: int, callback: str, *args: Any) -> None:
        if not self._current or self._current[0] != job_id:
            return
        queued = self._current[1]
        self._current = None
        getattr(queued, callback)(*args)
        self.ended.emit(queued.key)
        self._start_next()
        if not self.busy:
            self.busyChanged.emit(False)
