"""An exclusive, advisory lock on an open file, for work that one process at a time may do on it (a
training run's folder, a model download's ``.part`` file). Where locks do not exist (Windows has no
``fcntl``; Lustre without ``flock``, some NFS mounts refuse it) the work goes on unlocked."""

from __future__ import annotations

from typing import IO, Literal

LockResult = Literal["locked", "held", "unavailable"]


def lock_exclusively(handle: IO) -> tuple[LockResult, str]:
    """Try to take an exclusive lock on ``handle``'s file without waiting: "locked" (released when
    the handle closes), "held" (another process has it) or "unavailable" (no locks here), with
    the reason for the last."""
    try:
        import fcntl
    except ImportError:
        return "unavailable", "this system has no file locks"
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return "held", ""
    except OSError as exc:
        return "unavailable", exc.strerror or str(exc)
    return "locked", ""
