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
