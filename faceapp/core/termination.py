"""SIGTERM and SIGHUP handled like Ctrl-C, so every way out of a job cleans up the same way.

Python turns SIGINT into :class:`KeyboardInterrupt`, and the ``finally`` clauses along the way
remove temporary files; SIGTERM (``kill``, a service manager) and SIGHUP (closing the terminal)
would kill the process at once and leave them behind. :func:`terminate_like_interrupt` makes those
two raise :class:`Terminated`, a KeyboardInterrupt, in the main thread instead.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

#: The exit code of a command stopped by Ctrl-C, SIGTERM or SIGHUP: 128 + SIGINT, as shells report Ctrl-C.
EXIT_INTERRUPTED = 130

#: The signals handled like SIGINT (SIGHUP does not exist on Windows, where closing the console
#: window or Ctrl+Break raises SIGBREAK: portability review).
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal other than SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def _raise_terminated(signum, _frame) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (main thread only).

    A signal the process was told to ignore (``nohup`` ignores SIGHUP) stays ignored.
    """
    with _handled(SIGNALS, _raise_terminated):
        yield



@contextlib.contextmanager
def stops_deferred() -> Iterator[None]:
    """Within the block, SIGINT and the signals of :func:`terminate_like_interrupt` wait: the first
    that came is raised as it would have been (KeyboardInterrupt, :class:`Terminated`) once the
    block is done (main thread only). For work a stop must not cut in two: a module half imported
    may not import again (numpy)."""
    came: list[int] = []
    with _handled((signal.SIGINT, *SIGNALS), lambda signum, _frame: came.append(signum)):
        yield
    if came:
        raise KeyboardInterrupt() if came[0] == signal.SIGINT else Terminated(came[0])


@contextlib.contextmanager
def _handled(signums, handler) -> Iterator[None]:
    """Within the block, ``handler`` takes each of ``signums`` (main thread only: Python sets handlers
    nowhere else); one the process was told to ignore (``nohup`` ignores SIGHUP) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler)
                for signum in signums if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for signum, restored in previous.items():
            signal.signal(signum, restored)
