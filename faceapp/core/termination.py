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


#: Whether a stop signal was taken within the outermost :func:`terminate_like_interrupt` block
#: open, and how many are open: a second stop, while the first is cleaned up, is let pass.
_stopping = False
_depth = 0


def _stop(signum, _frame) -> None:
    """The first stop raises (:class:`KeyboardInterrupt` for SIGINT, :class:`Terminated` for the
    others); later ones, while that one is being cleaned up, do nothing (CLI QA: a second SIGTERM
    0.05 s after the first killed the process mid-way, exit status -15 instead of 130)."""
    global _stopping
    if _stopping:
        return
    _stopping = True
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


@contextlib.contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` and SIGINT
    :class:`KeyboardInterrupt`, the first of them only: the stops that follow it within the
    outermost such block are let pass, so what the first one's handlers clean up is not cut short
    (main thread only).

    A signal the process was told to ignore (``nohup`` ignores SIGHUP) stays ignored; SIGINT is taken
    only where it raises KeyboardInterrupt (Python's own handler).
    """
    global _stopping, _depth
    if _depth == 0:
        _stopping = False
    signums = SIGNALS + ((signal.SIGINT,) if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _stop)
                         else ())
    _depth += 1
    try:
        with _handled(signums, _stop):
            yield
    finally:
        _depth -= 1


def ignore_stops() -> None:
    """From now on, let SIGINT and the signals of :func:`terminate_like_interrupt` pass: for a
    command that has handled a stop and is ending (the interpreter's shutdown, torch's included,
    takes a moment, and a second stop then killed it with the signal's status, not 130: CLI QA).
    Main thread only (elsewhere it does nothing)."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, *SIGNALS):
            signal.signal(signum, signal.SIG_IGN)



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
