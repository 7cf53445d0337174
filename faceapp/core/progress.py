"""Driving the core's progress generators (napari style: work yields, the caller decides)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

T = TypeVar("T")


def drive(generator: Generator[Any, None, T], callback: Callable[[Any], None] | None = None) -> T:
    """Run a progress generator to its end, handing each yielded item to ``callback``; returns its value."""
    while True:
        try:
            item = next(generator)
        except StopIteration as stop:
            return stop.value
        if callback is not None:
            callback(item)


def relay(generator: Generator[Any, None, T], convert: Callable[[Any], Any]) -> Generator[Any, None, T]:
    """Yield ``convert(item)`` for each item of ``generator`` and return its value; closing the
    relay closes ``generator`` (so a cancelled consumer stops the work at once)."""
    try:
        while True:
            try:
                item = next(generator)
            except StopIteration as stop:
                return stop.value
            yield convert(item)
    finally:
        generator.close()


class StepClock:
    """The pace of a job's sampling steps, for the time it has left: counts the steps of its faces
    as :class:`~faceapp.core.photo_restore.Progress` reports them (step s of t, face f of n) from the
    first one timed; a face the prior does not sample (spared whole: no steps) costs nothing, and the
    faces still to come are counted at the current face's steps, as many of them as the share of the
    faces so far that the prior sampled (QA: a scan of 120 faces, 104 spared, was said to have a
    minute left with seconds to go)."""

    def __init__(self) -> None:
        self.stepped = False  # whether any step was timed, a stage since or not (its faces are behind it)
        self.reset()

    def reset(self) -> None:
        """Time afresh from the next step (a stage without steps, a model loading, came between)."""
        self.started: float | None = None
        self.steps = 0
        self._last: tuple[int, int] | None = None
        self._sampled: set[int] = set()  # the faces that had steps

    def advance(self, face_index: int, step: int, now: float) -> None:
        """Face ``face_index`` reached step ``step`` at time ``now``."""
        self.stepped = True
        if self._last is None:
            self.started = now
        else:
            last_face, last_step = self._last
            self.steps += max(0, step - last_step) if face_index == last_face else step
        self._last = (face_index, step)
        self._sampled.add(face_index)

    def steps_left(self, face_index: int, face_count: int, step: int, total_steps: int) -> int:
        """The steps after step ``step`` of face ``face_index``: its own, and those expected of the
        faces after it (their count times the share of faces up to this one that had steps)."""
        share = len(self._sampled | {face_index}) / (face_index + 1)
        return (total_steps - step) + round((face_count - face_index - 1) * total_steps * share)
