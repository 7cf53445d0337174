"""Hidden temporary files that name their owner, so a later run can sweep a killed run's leftovers.

Results and imported weights are written to a hidden temporary file beside their destination and
renamed into place when complete (see :mod:`faceapp.core.export`, :mod:`faceapp.core.registry`).
Any exit but a hard kill removes that file; a hard kill (SIGKILL, power loss) cannot. Each name
therefore carries the writing machine (a digest of its name) and process id,
``.<name>.<host>.<pid>.<random><suffix>``, and :func:`sweep_stale` removes the files of this machine's processes that no longer exist. A file
of another machine (a folder on a network share) or of an older faceapp, whose process cannot be
checked from here, is removed only once it has not been written for :data:`STALE_AGE` seconds: a
run still writing is never swept.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

_NAME_CHARS = 40  # of the destination's name kept in the temporary name
#: Seconds without a write after which a temporary file whose process cannot be checked is stale.
STALE_AGE = 3600.0


def host_tag() -> str:
    """This machine as temporary names tell it: 12 hex digits of a digest of its name, not the name
    itself (privacy QA: a killed run's leftover in a shared folder spelt out "annas-laptop")."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:12]


def _earlier_host_tag() -> str:
    """This machine as faceapp named it in temporary names before 2026-12-06: its name itself,
    other characters than letters, digits and hyphens made hyphens, cut to 32."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def temp_prefix(name: str, pid: int | None = None) -> str:
    """The start of a temporary name for ``name`` written by process ``pid`` (default: this one) here."""
    return f".{name[:_NAME_CHARS]}.{host_tag()}.{os.getpid() if pid is None else pid}."


#: The longest path Windows opens outside its long-path mode (MAX_PATH, 260, less the closing NUL).
WINDOWS_MAX_PATH = 259
_RANDOM_CHARS = 8  # of mkstemp's name


def _temp_folder(folder: Path, name: str, suffix: str) -> str | Path:
    """``folder`` as a temporary file for ``name`` is made in: on Windows, in its extended-length form
    where the temporary path would pass :data:`WINDOWS_MAX_PATH`; elsewhere, and where it fits, as is."""
    if sys.platform != "win32":
        return folder
    absolute = os.path.abspath(folder)
    if len(os.path.join(absolute, temp_prefix(name))) + _RANDOM_CHARS + len(suffix) <= WINDOWS_MAX_PATH:
        return folder
    return extended_length_path(absolute)


def extended_length_path(absolute: str) -> str:
    r"""A Windows absolute path in its extended-length form (``\\?\C:\…``, ``\\?\UNC\server\share\…``),
    which Windows' file functions open beyond MAX_PATH whether or not long paths are enabled."""
    if absolute.startswith("\\\\?\\"):
        return absolute
    if absolute.startswith("\\\\"):
        return "\\\\?\\UNC\\" + absolute[2:]
    return "\\\\?\\" + absolute


def _read_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


#: Read once at import: changing the process umask later would race with other threads.
_UMASK = _read_umask()


def plain_file_mode() -> int:
    """The permissions a plainly created file gets here (0o666 less the umask)."""
    return 0o666 & ~_UMASK


def create_temp(folder: Path, name: str, suffix: str) -> tuple[int, str]:
    """``mkstemp`` in ``folder`` with a hidden name made of ``name``, this machine's name, this
    process's id and ``suffix``; the file gets a plainly created file's permissions (mkstemp's are
    owner-only, which a result or a model file renamed into place must not keep).

    On Windows a temporary path longer than :data:`WINDOWS_MAX_PATH` is given in the extended-length
    form: a result whose own path fits was refused for its temporary file's ~35 more characters (the
    hidden name, machine, process and random part; portability QA)."""
    fd, path = tempfile.mkstemp(prefix=temp_prefix(name), suffix=suffix, dir=_temp_folder(folder, name, suffix))
    try:
        os.fchmod(fd, plain_file_mode())
    except (AttributeError, OSError):  # no fchmod (Windows), or a file system without modes
        pass
    return fd, path


#: Windows' answers to a rename while another program holds the source or the destination open for
#: a moment (a virus scanner, the search indexer, a viewer): access denied, sharing and lock violations.
_BUSY_WINERRORS = frozenset({5, 32, 33})
#: Seconds waited before each new try of such a rename: about 1.5 s in all, then the error stands.
_BUSY_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)


def replace_file(source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """``os.replace``, tried again for about 1.5 s where Windows refuses it because a file is busy.

    On Windows a rename over a file that a scanner or a viewer has open fails with "Access is
    denied" (WinError 5) or a sharing violation until that program lets go, usually within
    milliseconds (portability QA). Elsewhere, and for any other error, the first error is raised.
    """
    for pause in _BUSY_PAUSES:
        try:
            os.replace(source, dest)
            return
        except PermissionError as exc:
            if getattr(exc, "winerror", None) not in _BUSY_WINERRORS:
                raise
        time.sleep(pause)
    os.replace(source, dest)


def sweep_stale(folder: Path, suffix: str, *, now: float | None = None) -> list[Path]:
    """Remove the temporary files (ending in ``suffix``) of processes that have ended; return them.

    This machine's files (as this faceapp names it, or as an earlier one did) go as soon as their
    process has ended; any other (another machine's, or
    one named without a machine) only once unmodified for :data:`STALE_AGE` seconds. Unreadable
    folders and files that cannot be removed are skipped silently: sweeping is a courtesy, never a
    reason for the job at hand to fail.
    """
    owner = re.compile(r"^\..*?\.(?:([A-Za-z0-9-]+)\.)?(\d+)\.[a-z0-9_]{8}" + re.escape(suffix) + "$")
    # (a killed run of an earlier faceapp named this machine otherwise: upgrade QA, its leftovers
    # waited an hour)
    here, now = {host_tag(), _earlier_host_tag()}, time.time() if now is None else now
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = owner.match(name)
        if match is None:
            continue
        path = Path(folder) / name
        host, pid = match.group(1), int(match.group(2))
        if host in here:
            if process_exists(pid):
                continue
        elif not _older_than(path, now - STALE_AGE):
            continue
        try:
            path.unlink()
        except OSError:
            continue
        log.info("removed %s, left behind by an earlier run that was killed", path)
        removed.append(path)
    return removed


def _older_than(path: Path, moment: float) -> bool:
    try:
        return path.stat().st_mtime < moment
    except OSError:
        return False


def process_exists(pid: int) -> bool:
    """Whether process ``pid`` may still run here (another user's, or one that cannot be asked, counts)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # (os.kill(pid, 0) there sends a Ctrl+C to the console: review)
        return _windows_process_exists(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or a check we cannot make: keep the file
    return True


def _windows_process_exists(pid: int) -> bool:
    """``process_exists`` on Windows: whether a process of that number is running (one that cannot be
    asked counts as running)."""
    import ctypes

    kernel = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel.OpenProcess.restype = ctypes.c_void_p  # (a HANDLE: not cut to an int of 32 bits: review)
    kernel.OpenProcess.argtypes = (ctypes.c_ulong, ctypes.c_int, ctypes.c_ulong)
    kernel.GetExitCodeProcess.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong))
    kernel.CloseHandle.argtypes = (ctypes.c_void_p,)
    handle = kernel.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() != 87  # ERROR_INVALID_PARAMETER: no such process; else (denied) keep
    try:
        code = ctypes.c_ulong()
        if not kernel.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel.CloseHandle(handle)
