"""Paths as text a user can read, and why a path is not the file it should be.

A file name on Linux is bytes; Python shows those that are not valid UTF-8 as lone surrogates,
which a strict UTF-8 stream cannot encode. :func:`path_json` keeps them (the exact name, which the
command line's JSON writes as ``\\udcNN`` escapes); :func:`plain_text` writes such bytes as ``\\xff``
escapes, for a message. :func:`path_text`, for messages, also escapes the
characters of a name that would act on a terminal rather than show: control characters (a newline
that splits a message, an escape sequence that recolours the terminal or moves its cursor) and the
bidirectional overrides that display a name's end reversed (``photo\\u202egpj.exe``).
:func:`same_name` tells two spellings of one name from two names. :func:`file_problem` tells a
missing file from a folder, a broken or looping symbolic link and an
unreadable path, so messages say which it is; :func:`is_same_file` whether two paths name one file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from pathlib import Path


def path_json(path: str | os.PathLike) -> str:
    """``path`` exactly, as a str for a JSON document: bytes that are not UTF-8 stay lone
    surrogates (``os.fsdecode``), which the command line's JSON writes as escapes that read
    back to the same str."""
    return os.fsdecode(path)


def same_name(first: str, second: str) -> bool:
    """Whether two file names are one name spelt two ways: in Unicode's composed and decomposed forms
    ("é" as one character or as "e" and an accent: a Mac, a NAS or a sync tool may turn one into the
    other), or read under two locales (a name not decodable under the C locale kept as surrogates)."""
    return name_key(first) == name_key(second)


def name_forms(name: str) -> list[str]:
    """``name`` as it is and in Unicode's composed (NFC) and decomposed (NFD) forms, each once."""
    return list(dict.fromkeys((name, unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name))))


def name_key(name: str) -> str:
    """``name`` (or a path) spelt one way for all its spellings (:func:`same_name`): composed, and
    undecodable bytes as surrogates whatever the locale it was read under."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
    return unicodedata.normalize("NFC", text)


_NUMBER_RUNS = re.compile(r"(\d+)")
#: Letters Unicode gives no base letter, as a file manager sorts them (casefolded: lower case only).
_BASE_LETTERS = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ŧ": "t", "æ": "ae",
                               "œ": "oe", "þ": "th"})


def reading_key(path: str | os.PathLike) -> tuple:
    """How a file manager orders ``path`` among others: part by part, by letter whatever its case or
    accent ("Ärger" beside "apfel"), and numbers by their value ("foto2" before "foto10"); names
    alike so (a.jpg, A.jpg) by their characters (locale QA: photos were listed by character code)."""
    def runs(text: str) -> tuple:
        letters = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
        letters = letters.translate(_BASE_LETTERS)  # (ı, ł, ø, … have no accent to drop: they sorted after z)
        return tuple((0, int(run), "") if run.isdecimal() else (1, 0, run) for run in _NUMBER_RUNS.split(letters) if run)

    parts = Path(path).parts
    keys = []
    for position, part in enumerate(parts):
        text = stem = name_key(part)
        suffix = ""
        if position == len(parts) - 1 and "." in text.lstrip("."):  # a file's name: its stem before its suffix
            stem, _, suffix = text.rpartition(".")  # (scan.jpg before scan1.jpg, as file managers list them)
        keys.append((runs(stem), runs(suffix), text))
    return tuple(keys)


def plain_text(text: str | bytes | os.PathLike) -> str:
    """``text`` (a path or a message naming one) as a str that encodes as UTF-8: undecodable bytes
    become ``\\xNN`` escapes; every other character stays."""
    text = os.fspath(text)
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate no byte made (a Windows name can hold one: sceptic QA)
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


#: Characters that change how the rest of a line shows: bidirectional embeddings, overrides and
#: isolates (U+202A–U+202E, U+2066–U+2069), the direction marks (U+061C, U+200E, U+200F), and the
#: line and paragraph separators
_UNSHOWN = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0:  # C0, DEL and C1 controls
        return _NAMED_ESCAPES.get(char, f"\\x{code:02x}")
    if char in _UNSHOWN:
        return f"\\u{code:04x}"
    return char


def path_text(path: str | os.PathLike) -> str:
    """``path`` as a message shows it: as :func:`plain_text`, and with the characters that would act
    on a terminal instead of showing (controls, bidirectional overrides) written as escapes."""
    text = plain_text(path)
    if text.isprintable():  # (the common case: a plain name; isprintable is False for every escaped one)
        return text
    return "".join(_shown(char) for char in text)


def message_text(message: str, *named: str | os.PathLike) -> str:
    """A message (an exception's text, which names files in its own words) as :func:`path_text`
    shows a path: the ``named`` paths in it, whole or by their file name, shown as
    :func:`path_text` shows them (a newline in a name escaped too), the message's own line breaks
    kept, and every other control character escaped."""
    text = plain_text(message)
    spellings = {plain_text(spelled) for path in named for spelled in (os.fspath(path), os.path.basename(os.fspath(path)))}
    for raw in sorted(spellings, key=len, reverse=True):  # the whole path before its file name
        if raw:
            text = text.replace(raw, path_text(raw))
    if text.replace("\n", "").isprintable():
        return text
    return "".join(char if char == "\n" else _shown(char) for char in text)


def is_same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one existing file (through links, ``..`` or another spelling)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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
        start = r"a drive (D:\) or \\server\share" if os.name == "nt" else "/ or ~"  # (portability QA: on
        raise ValueError(f"the output folder {text!r} is not a full path: give one that starts with {start}, "  # Windows
                         "or choose it with Browse…")  # "/restored" is no full path either)
    return str(path)
