"""The background worker: jobs run off the GUI thread, report progress, cancel and fail cleanly."""

from __future__ import annotations

import threading
import time

import gui_util  # noqa: F401  (offscreen Qt)
import pytest
from PySide6.QtCore import QThread

from faceapp.core.errors import ImageError
from faceapp.gui.job_queue import JobQueue, QueuedJob
from faceapp.gui.worker import TaskRunner


@pytest.fixture
def runner(qtbot):
    task_runner = TaskRunner()
    yield task_runner
    task_runner.shutdown()


def counting_job(steps: int, *, delay: float = 0.0, seen: list | None = None):
    def job(should_cancel):
        for step in range(1, steps + 1):
            if seen is not None:
                seen.append((step, QThread.currentThread()))
            time.sleep(delay)
            yield step
        return "result"

    return job


def test_a_job_runs_on_the_worker_thread_and_reports_every_step(runner, qtbot):
    seen, progress = [], []
    runner.progress.connect(lambda _id, step: progress.append(step))
    with qtbot.waitSignal(runner.finished, timeout=5000) as finished:
        runner.submit(counting_job(5, seen=seen))
    assert finished.args[1] == "result"
    assert progress == [1, 2, 3, 4, 5]
    assert {thread for _, thread in seen} == {runner.thread}
    assert runner.thread is not QThread.currentThread()
    assert not runner.busy


def test_cancel_stops_the_job_at_its_next_step_and_the_runner_takes_new_work(runner, qtbot):
    started = threading.Event()

    def endless(should_cancel):
        step = 0
        while True:
            step += 1
            started.set()
            time.sleep(0.02)
            yield step

    steps = []
    runner.progress.connect(lambda _id, step: steps.append(step))
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.submit(endless)
        assert started.wait(5)
        qtbot.waitUntil(lambda: len(steps) >= 2)
        runner.cancel()
        at_cancel = len(steps)
    assert len(steps) - at_cancel <= 1
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit(counting_job(2))


def test_a_failing_job_reports_its_error_and_leaves_the_runner_usable(runner, qtbot):
    def broken(should_cancel):
        yield 1
        raise ImageError("cannot read photo.jpg")

    with qtbot.waitSignal(runner.failed, timeout=5000) as failed:
        runner.submit(broken)
    assert isinstance(failed.args[1], ImageError)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit(counting_job(1))


def test_the_queue_runs_jobs_one_after_another_in_order(runner, qtbot):
    queue = JobQueue(runner)
    order, active = [], []

    def job(name):
        def run(should_cancel):
            active.append(name)
            assert len(active) == 1, "two jobs ran at once"
            time.sleep(0.02)
            yield name
            active.remove(name)
            return name

        return run

    for name in "abc":
        queue.add(QueuedJob(job(name), "restore", on_done=order.append))
    qtbot.waitUntil(lambda: not queue.busy, timeout=5000)
    assert order == ["a", "b", "c"]


def test_a_users_error_is_logged_without_a_traceback_and_a_bug_with_one(runner, qtbot, caplog):
    """A missing photo or a read-only folder is the user's to fix: the window says so, and the log
    (and the terminal) get one line, not a traceback; an unforeseen error keeps its traceback."""
    def failing(error):
        def job(should_cancel):
            yield 1
            raise error
        return job

    with caplog.at_level("WARNING", logger="faceapp.gui.worker"):
        with qtbot.waitSignal(runner.failed, timeout=5000):
            runner.submit(failing(ImageError("cannot read photo.jpg")))
        with qtbot.waitSignal(runner.failed, timeout=5000):
            runner.submit(failing(ZeroDivisionError("a bug")))
    users, bug = [r for r in caplog.records if r.name == "faceapp.gui.worker"]
    assert "cannot read photo.jpg" in users.getMessage() and users.exc_info is None
    assert bug.exc_info is not None and bug.exc_info[0] is ZeroDivisionError


def test_memory_running_out_outside_the_engine_is_reported_as_out_of_memory(runner, qtbot):
    """Slow-laptop QA: a model loading on a machine short of memory was "Unexpected error:
    [enforce fail at alloc_cpu.cpp:127] … DefaultCPUAllocator: can't allocate memory"."""
    from faceapp.core.errors import OutOfMemoryError

    def job(should_cancel):
        yield 1
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 2359296 bytes.")

    with qtbot.waitSignal(runner.failed, timeout=5000) as failed:
        runner.submit(job)
    error = failed.args[1]
    # the advice names where the window sets each (QA: it did not say where)
    assert isinstance(error, OutOfMemoryError) and ("fewer seeds per face (Settings ▸ Seeds per face) or a "
                                                    "smaller upscale (Settings ▸ Background upscale)") in str(error)
