"""Hidden temporary files that name their owner, so a later run can sweep a killed run's leftovers.

Results and imported weights are written to a hidden temporary file beside their destination and
renamed into place when complete (see :mod:`faceapp.core.export`, :mod:`faceapp.core.registry`).
Any exit but a hard kill removes that file; a hard kill (SIGKILL, power loss) cannot. Each name
therefore carries the writing process's id, ``.<name>.<pid>.<random><suffix>``, and
:func:`sweep_stale` removes the files of processes that no longer exist, never those of a run
still writing.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_NAME_CHARS = 40  # of the destination's name kept in the temporary name


def create_temp(folder: Path, name: str, suffix: str) -> tuple[int, str]:
    """``mkstemp`` in ``folder`` with a hidden name made of ``name``, this process's id and ``suffix``."""
    return tempfile.mkstemp(prefix=f".{name[:_NAME_CHARS]}.{os.getpid()}.", suffix=suffix, dir=folder)


def sweep_stale(folder: Path, suffix: str) -> list[Path]:
    """Remove the temporary files (ending in ``suffix``) of processes that have ended; return them.

    Unreadable folders and files that cannot be removed are skipped silently: sweeping is a
    courtesy, never a reason for the job at hand to fail.
    """
    owner = re.compile(r"^\..*\.(\d+)\.[a-z0-9_]{8}" + re.escape(suffix) + "$")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = owner.match(name)
        if match is None or _process_exists(int(match.group(1))):
            continue
        path = Path(folder) / name
        try:
            path.unlink()
        except OSError:
            continue
        log.info("removed %s, left behind by an earlier run that was killed", path)
        removed.append(path)
    return removed


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or a check we cannot make: keep the file
    return True
