"""SIGTERM and SIGHUP handled like Ctrl-C, so every way out of a job cleans up the same way.

Python turns SIGINT into :class:`KeyboardInterrupt`, and the ``finally`` clauses along the way
remove temporary files; SIGTERM (``kill``, a service manager) and SIGHUP (closing the terminal)
would kill the process at once and leave them behind. :func:`terminate_like_interrupt` makes those
two raise :class:`Terminated`, a KeyboardInterrupt, in the main thread instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
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


#: Seconds after a stop in which another is let pass while the first one's exception unwinds
#: (its ``finally`` clauses removing half-written files); past them a stop raises again, unless the
#: first was caught and is being handled (:func:`stop_taken`): raised within a finaliser (a
#: ``__del__``), Python prints such an exception and drops it, and the next Ctrl-C must still stop
#: the command (sceptic QA: two Ctrl-C during a large write were both lost, the batch ran on).
STOP_GRACE_S = 3.0

#: Within the outermost :func:`terminate_like_interrupt` block open (how many are open): when the
#: last stop was raised, and whether a stop was caught and is being handled.
_stopped_at: float | None = None
_taken = False
_depth = 0


def _stop(signum, _frame) -> None:
    """A stop raises (:class:`KeyboardInterrupt` for SIGINT, :class:`Terminated` for the others),
    but not while the one before it unwinds (:data:`STOP_GRACE_S`; CLI QA: a second SIGTERM 0.05 s
    after the first killed the process mid-way, exit status -15 instead of 130). Once a stop is
    handled (:func:`stop_taken`), one coming later than that ends the process at once, exit status
    130: what handles the first may hang (a reader of its output that reads nothing; review)."""
    global _stopped_at
    now = time.monotonic()
    if _stopped_at is not None and now - _stopped_at < STOP_GRACE_S:
        return
    if _taken:
        os.write(2, b"Stopped at once.\n")
        os._exit(EXIT_INTERRUPTED)
    _stopped_at = now
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def stop_taken() -> None:
    """Say that a stop was caught and is being handled (a command saying what it kept, writing its
    record): a later stop within the :func:`terminate_like_interrupt` block, past
    :data:`STOP_GRACE_S`, ends the process at once."""
    global _taken
    _taken = True


@contextlib.contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` and SIGINT
    :class:`KeyboardInterrupt`; a stop that follows another while it unwinds (:data:`STOP_GRACE_S`)
    is let pass, so what the first one's handlers clean up is not cut short, and one after that,
    once the first is handled (:func:`stop_taken`), ends the process at once (main thread only).

    A signal the process was told to ignore (``nohup`` ignores SIGHUP) stays ignored; SIGINT is taken
    only where it raises KeyboardInterrupt (Python's own handler).
    """
    global _stopped_at, _taken, _depth
    if _depth == 0:
        _stopped_at, _taken = None, False
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
        global _stopped_at
        _stopped_at = time.monotonic()  # (raised as a stop: the next one is let pass while it unwinds)
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
