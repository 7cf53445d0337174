"""What Edit ▸ Undo takes back and Redo does again on one photo, in the order they were made (no Qt).

An :class:`EditHistory` lists a photo's edits: the damage painted (a stroke, a clear, a mask
loaded: :class:`~faceapp.core.mask_editing.MaskEditor` keeps their pixels and takes them back in
its own order, which is this one's), a candidate picked in the seed gallery, a face switched on or
off, a face box drawn. A restore is no edit: it makes new candidates, and the picks made among the
old ones leave the history with them (:meth:`EditHistory.forget`). Undo takes back the last edit
whatever it was: a seed picked after a stroke is taken back before the stroke (QA: Ctrl+Z after a
pick took back an older stroke, unseen, and left the pick).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

EditKind = Literal["damage", "pick", "switch", "box"]


@dataclass(frozen=True)
class Edit:
    """One edit of a photo. ``words``: what it is, for the menu ("Undo " + words). ``face``: the
    detector index of the face it is about (pick, switch, box). A pick goes from candidate
    ``before`` to ``after``; a switch to ``after`` (1 on, 0 off); a box added ``drawn`` (the face).
    ``browsed``: a pick in the gallery, which the next of the same face joins (not Refine's)."""

    kind: EditKind
    words: str
    face: int | None = None
    before: int | None = None
    after: int | None = None
    drawn: Any = None
    browsed: bool = False


class EditHistory:
    """A photo's edits, what undo takes back (the last first) and what redo does again."""

    def __init__(self) -> None:
        self._done: list[Edit] = []
        self._undone: list[Edit] = []
        self._browsing = False  # the last thing done was a gallery pick: the next one of that face joins it

    def seal(self) -> None:
        """End the run of picks the next one would join (a Save, More's candidates: day QA, the saved
        seed could not be got back with Undo)."""
        self._browsing = False

    def record(self, edit: Edit) -> bool:
        """Add ``edit``, made just now: what was taken back cannot be done again any more. Picks of
        one face in the gallery one after another (browsed with the arrow keys; not a refined pass
        chosen by Refine), with no other edit, undo, redo, forgetting or :meth:`seal` between them,
        are one edit, from the candidate before the first to the last one picked; a run back to
        where it began is none, and ends. Returns whether damage taken back was forgotten (its editor forgets it too)."""
        forgot_damage = any(e.kind == "damage" for e in self._undone)
        self._undone.clear()
        last = self._done[-1] if self._done else None
        browsing, self._browsing = self._browsing, edit.browsed
        if browsing and edit.browsed and last is not None and last.browsed and last.face == edit.face:
            self._done.pop()
            edit = replace(edit, before=last.before)
            if edit.before == edit.after:  # back where the run began: no edit, and the run ends (fuzz QA:
                self._browsing = False  # the next pick joined an older one, past a Save)
                return forgot_damage
        self._done.append(edit)
        return forgot_damage

    @property
    def next_undo(self) -> Edit | None:
        """The edit :meth:`undo` would take back (None: none)."""
        return self._done[-1] if self._done else None

    @property
    def next_redo(self) -> Edit | None:
        """The edit :meth:`redo` would do again (None: none)."""
        return self._undone[-1] if self._undone else None

    def undo(self) -> Edit | None:
        """Take the last edit off the history (to be done again by :meth:`redo`) and return it, for
        the caller to take back; None when there is none."""
        self._browsing = False  # (a pick after an undo or a redo is an edit of its own: day QA)
        if not self._done:
            return None
        self._undone.append(self._done.pop())
        return self._undone[-1]

    def redo(self) -> Edit | None:
        """Put back the edit :meth:`undo` took off last and return it, for the caller to do again."""
        self._browsing = False
        if not self._undone:
            return None
        self._done.append(self._undone.pop())
        return self._done[-1]

    def drop_pick(self, face: int, candidate: int, shown: int) -> None:
        """Take back from the last edit the pick of ``candidate`` for ``face`` that did not take (its
        composite could not be made; ``shown`` is chosen again): the edit ends on ``shown``, or goes
        where it began there; the edits before it stay (review: every pick of the face went)."""
        last = self._done[-1] if self._done else None
        if last is not None and (last.kind, last.face, last.after) == ("pick", face, candidate):
            self._done.pop()
            if last.before != shown:  # (picks joined into it before the one that failed: kept)
                self._done.append(replace(last, after=shown))
            self._browsing = False

    def forget(self, kind: EditKind, *, face: int | None = None) -> None:
        """Forget every edit of ``kind`` (of ``face`` only, given one), done or taken back: picks
        among candidates a restore replaced, or one face's that it sampled again."""
        def kept(edit: Edit) -> bool:
            return edit.kind != kind or (face is not None and edit.face != face)
        self._browsing = False  # (the pick before those forgotten is no run to join: fuzz QA)
        self._done = [e for e in self._done if kept(e)]
        self._undone = [e for e in self._undone if kept(e)]
