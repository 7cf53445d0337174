"""Paths as text a user can read, and why a path is not the file it should be.

A file name on Linux is bytes; Python shows those that are not valid UTF-8 as lone surrogates,
which a strict UTF-8 stream cannot encode (and which are not valid in JSON text). :func:`path_text`
shows such bytes as ``\\xff`` escapes instead. :func:`file_problem` tells a missing file from a
folder, a broken or looping symbolic link and an unreadable path, so messages say which it is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def path_text(path: str | os.PathLike) -> str:
    """``path`` as a str that encodes as UTF-8: undecodable bytes become ``\\xNN`` escapes."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def file_problem(path: str | os.PathLike) -> str | None:
    """None if ``path`` is a regular file (or a link to one), else what it is instead, as the end
    of a sentence: "there is no such file", "it is a folder", …"""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "it is a symbolic link that points (through other links) back to itself"
        if exc.errno == errno.ENOENT and path.is_symlink():
            return f"it is a symbolic link to {path_text(os.readlink(path))}, which does not exist"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return "there is no such file"
        return exc.strerror or str(exc)
    if stat.S_ISDIR(mode):
        return "it is a folder, not a file"
    if not stat.S_ISREG(mode):
        return "it is not a regular file (a device, pipe or socket)"
    return None


def typed_folder(text: str) -> str:
    """A folder as typed by a user into a settings field: "" stays "" (none set), ``~`` is the home
    folder, and a relative path, which would name a folder under wherever the app happened to be
    started, is refused with a ValueError saying what to give (QA: ``~/restored`` made a folder
    named ``~`` there)."""
    text = text.strip()
    if not text:
        return ""
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise ValueError(f"the output folder {text!r} is not a full path: give one that starts with / or ~, "
                         "or choose it with Browse…")
    return str(path)
