"""The command line's JSON documents (``restore --json``, ``models list --json``) on stdout.

JSON travels as UTF-8 (RFC 8259), so the document is written to stdout as UTF-8 bytes whatever
the locale says (a cron job's ASCII locale made the write fail after the photos were restored).
A file name on Linux is bytes: those that are not valid UTF-8 reach Python as lone surrogates
(U+DC80–U+DCFF, ``os.fsdecode``), and the document carries them as ``\\udcNN`` escapes. That is
valid JSON text that ``json.loads`` reads back as the very same str, which ``os.fsencode`` (or
``open``) turns into the file's name again; every other character is written as it is.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faceapp.core.pathtext import path_json

_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(document: Any) -> str:
    """``document`` as indented JSON text that encodes as UTF-8: surrogates written as escapes."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class JsonNotWritten(Exception):
    """stdout refused the document (a full disk, an I/O error): said, and the command fails."""


def print_json(document: Any) -> None:
    """Write ``document`` and a newline to stdout as UTF-8, in one write of finished text (an error
    cannot leave half a document behind); nothing when the process has no stdout (closed: ``>&-``).
    A reader gone (BrokenPipeError) is the caller's; any other refusal is :class:`JsonNotWritten`
    (sysadmin QA: ``--json >/dev/full`` ended in a traceback)."""
    stream = sys.stdout
    if stream is None:
        return
    text = json_text(document) + "\n"
    try:
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text-only stream (a test's StringIO): it takes the str
            stream.write(text)
            return
        stream.flush()  # (whatever was written as text goes first)
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _drop_unwritten(stream)
        raise JsonNotWritten(f"cannot write the JSON document to stdout: {exc.strerror or exc}") from None


def _drop_unwritten(stream: Any) -> None:
    """Point the process's stdout at /dev/null, so that Python's flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):  # (a test's stream has no descriptor)
        pass


def restore_document(records: list[dict[str, Any]], total: int, *, seconds: float = 0.0) -> dict[str, Any]:
    """``restore --json``'s document: the count of inputs, of each status among ``records`` (one an
    input) and of faces restored (those of the photos written this run), the wall time, the records."""
    def count(status: str) -> int:
        return sum(1 for r in records if r["status"] == status)

    faces = sum(r.get("faces", 0) for r in records if r.get("outputs") and r["status"] != "skipped")
    return {"inputs": total, "restored": count("ok"), "failed": count("failed"), "interrupted": count("interrupted"),
            "stopped": count("stopped"), "skipped": count("skipped"), "no_face": count("no_face"),
            "not_reached": count("not_reached"),
            "faces_restored": faces, "seconds": round(seconds, 2), "results": records}


def unreached_document(inputs: Sequence[str | Path]) -> dict[str, Any]:
    """``restore --json``'s document for a run stopped before its batch began (loading, listing the
    folders): every input named, photo or folder, is ``"not_reached"``, to retry by name (fault QA:
    ``"inputs": 0`` and no results, where README promises the inputs not reached)."""
    return restore_document([{"input": path_json(path), "status": "not_reached"} for path in inputs], len(inputs))


def asks_for_restore_json(argv: list[str]) -> bool:
    """Whether a ``faceapp-cli`` command line asks ``restore`` (the default command) for its JSON
    document, read before the parser is loaded."""
    return "--json" in argv and bool(argv) and argv[0] != "models"
