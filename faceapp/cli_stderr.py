"""The CLI's stderr, which may not be there to write to.

A batch run by cron or a service may have its stderr on a full disk (``2>/dev/full``), on a pipe
whose reader went away, on a terminal that was closed, or closed (``2>&-``). Notes and progress are
for whoever watches; none of that should stop the batch, or spoil the JSON document on stdout
(sysadmin QA: the first note raised and the batch stopped with no document; with stderr closed,
Python's ``print(file=None)`` wrote the notes onto stdout amid the JSON). Within
:func:`tolerant_stderr`, what cannot be written to stderr is dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _TolerantStream:
    """A text stream that writes through to ``stream`` until a write fails, then drops everything."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.broken = stream is None

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self._stream.write(text)
            except (OSError, ValueError):  # (ValueError: written after it was closed)
                self.broken = True
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self.broken = True

    def isatty(self) -> bool:
        try:
            return not self.broken and self._stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:  # encoding, errors, fileno, …: the stream's own
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


@contextmanager
def tolerant_stderr() -> Iterator[None]:
    """Within the block, ``sys.stderr`` drops what cannot be written instead of raising, and is a
    stream even where the process has none. Nested uses keep the outer one."""
    if isinstance(sys.stderr, _TolerantStream):
        yield
        return
    real = sys.stderr
    sys.stderr = _TolerantStream(real)
    try:
        yield
    finally:
        sys.stderr = real
