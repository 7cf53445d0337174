"""The CLI's notes: ``note: …`` remarks on stderr, which ``--quiet`` silences.

A batch run by cron mails whatever it writes; there only an error should be written (sysadmin QA:
every nightly run mailed some thirty lines of notes, progress and its summary). Every note of a
restore, and the line of each photo restored, goes through :func:`say`; :func:`notes_silenced` holds them back for a run. Errors are
never held back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

_silenced = False


def say(line: str) -> None:
    """Write ``line`` on stderr, above a progress bar if one is shown, unless notes are silenced:
    a remark for whoever watches (a photo's result written, a note), never an error."""
    if _silenced:
        return
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


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
