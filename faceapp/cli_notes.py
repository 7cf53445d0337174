"""The CLI's notes: ``note: …`` remarks on stderr, which ``--quiet`` silences.

A batch run by cron mails whatever it writes; there only an error should be written (sysadmin QA:
every nightly run mailed some thirty lines of notes, progress and its summary). Every note of a
restore, and the line of each photo restored, goes through :func:`say`; :func:`notes_silenced`
holds them back for a run. Errors are never held back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

_silenced = False
_kept: list[str] | None = None  # the silenced lines kept back, within notes_kept_back()


def say(line: str) -> None:
    """Write ``line`` on stderr, above a progress bar if one is shown, unless notes are silenced:
    a remark for whoever watches (a photo's result written, a note), never an error."""
    if _silenced:
        if _kept is not None:
            _kept.append(line)
        return
    _write(line)


def _write(line: str) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


@contextmanager
def notes_kept_back() -> Iterator[list[str]]:
    """Within the block, the lines silenced are kept in the list it yields: :func:`say_kept` says
    them after all, where an error they explain follows (verify QA: with -q, "no photos found" came
    without the note that the folder's files were not photos)."""
    global _kept
    before, _kept = _kept, []
    try:
        yield _kept
    finally:
        _kept = before


def say_kept(lines: list[str]) -> None:
    """Write ``lines`` kept back by :func:`notes_kept_back`, silenced or not."""
    for line in lines:
        _write(line)


def say_note(text: str) -> None:
    """:func:`say` ``note: text``."""
    say(f"note: {text}")


def notes_are_silenced() -> bool:
    return _silenced


@contextmanager
def notes_silenced(silenced: bool = True) -> Iterator[None]:
    """Within the block, :func:`say_note` writes nothing when ``silenced``."""
    global _silenced
    before, _silenced = _silenced, silenced or _silenced
    try:
        yield
    finally:
        _silenced = before
