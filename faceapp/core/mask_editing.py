"""Painting a damage mask by hand: brush strokes, eraser, clear, undo and redo (no Qt).

A :class:`MaskEditor` holds the edits made to one photo's mask as a history of actions (a stroke
with its brush radius, painting or erasing; a clear; a mask loaded from a file) and rasterises them to the HxW uint8 mask
of :mod:`faceapp.core.damage` (255 = damaged). The GUI turns mouse events into
:meth:`MaskEditor.begin_stroke` / :meth:`~MaskEditor.extend_stroke` / :meth:`~MaskEditor.end_stroke`
calls in photo pixels and draws :meth:`MaskEditor.mask` over the photo; listeners registered
with :meth:`MaskEditor.subscribe` hear of every change (until :meth:`~MaskEditor.unsubscribe`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from faceapp.core.damage import DAMAGED, check_mask, mask_summary

#: Brush radii the editor accepts (photo pixels).
MIN_BRUSH_RADIUS = 1
MAX_BRUSH_RADIUS = 500

#: The brush a photo starts with: a radius of 2 % of its faces' size (a stroke a tenth of the eye
#: distance wide, thin enough to follow a scratch past an eye: strokes of a fifth of the eye distance
#: hid the eyes, which the prior then drew anew), or of 0.2 % of its longer side without a face,
#: within these bounds (photo pixels).
_BRUSH_PER_FACE = 0.02
_BRUSH_PER_SIDE = 0.002
_DEFAULT_BRUSH_BOUNDS = (1.5, 40.0)


def default_brush_radius(width: int, height: int, face_sizes: Sequence[float] = ()) -> float:
    """The brush radius a photo of ``width``×``height`` starts with, from its faces' sizes (their
    boxes' longer sides; the median counts) or, with none, from the photo's size: one fixed radius
    was a third of the faces of a small scan and a speck on a large one."""
    sizes = sorted(float(s) for s in face_sizes if s > 0)
    radius = _BRUSH_PER_FACE * sizes[len(sizes) // 2] if sizes else _BRUSH_PER_SIDE * max(width, height)
    low, high = _DEFAULT_BRUSH_BOUNDS
    return float(min(high, max(low, radius)))


@dataclass(frozen=True)
class Stroke:
    """A brush stroke through ``points`` (x, y photo pixels) of ``radius``; ``erase`` clears.
    ``radii``: each point's own radius, where it changes along the stroke (a pen's pressure);
    empty: ``radius`` throughout."""

    points: tuple[tuple[float, float], ...]
    radius: float
    erase: bool = False
    radii: tuple[float, ...] = ()


@dataclass(frozen=True)
class Clear:
    """The whole mask cleared."""


@dataclass(frozen=True)
class Loaded:
    """A mask read from a file, added to what is painted (``digest`` tells two apart: equal
    digests, equal masks)."""

    digest: str
    mask: np.ndarray = field(compare=False, repr=False)


@dataclass
class _OpenStroke:
    points: list[tuple[float, float]] = field(default_factory=list)
    radius: float = 1.0
    erase: bool = False
    radii: list[float] = field(default_factory=list)  # each point's
    erased_any: bool = False  # (an eraser's stroke:) whether it met a marked pixel so far
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # where it changed the mask so far


def _reach(mask: np.ndarray, points: Sequence[tuple[float, float]], radius: float) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) of ``mask``'s pixels within ``radius`` (and a pixel's rounding) of
    the box around ``points``: what a stroke's piece through them can change (maybe empty)."""
    reach = max(MIN_BRUSH_RADIUS, int(round(radius))) + 1
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    height, width = mask.shape[:2]
    left, top = min(width, max(0, int(min(xs)) - reach)), min(height, max(0, int(min(ys)) - reach))
    right, bottom = max(left, min(width, int(max(xs)) + reach + 2)), max(top, min(height, int(max(ys)) + reach + 2))
    return left, top, right, bottom


#: The :attr:`MaskEditor.changed_box` of a change of no pixel (what undo or redo can do).
UNCHANGED = (0, 0, 0, 0)


def union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The box holding both boxes (an empty one adds nothing)."""
    if a[2] <= a[0] or a[3] <= a[1]:
        return b
    if b[2] <= b[0] or b[3] <= b[1]:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _marked_in(mask: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """How many pixels of ``mask`` in ``box`` (x0, y0, x1, y1) are marked."""
    left, top, right, bottom = box
    return int(np.count_nonzero(mask[top:bottom, left:right]))


def draw_stroke(mask: np.ndarray, stroke: Stroke) -> None:
    """Paint (or erase) ``stroke`` into ``mask`` in place: round caps and joins; a segment between
    points of two radii is as wide as the smaller (the rounded points give it the larger's ends)."""
    value = 0 if stroke.erase else DAMAGED
    radii = [max(MIN_BRUSH_RADIUS, int(round(r))) for r in (stroke.radii or (stroke.radius,) * len(stroke.points))]
    points = [(int(round(x)), int(round(y))) for x, y in stroke.points]
    for start, end, radius in zip(points, points[1:], map(min, radii, radii[1:]), strict=False):
        cv2.line(mask, start, end, value, thickness=2 * radius, lineType=cv2.LINE_8)
    for point, radius in zip(points, radii, strict=True):
        cv2.circle(mask, point, radius, value, thickness=-1, lineType=cv2.LINE_8)


def step_words(action: Stroke | Clear | Loaded) -> str:
    """A step of a :class:`MaskEditor`'s history in words, for Edit ▸ Undo ("Undo damage stroke")."""
    if isinstance(action, Clear):
        return "clear damage"
    if isinstance(action, Loaded):
        return "damage mask loaded"
    return "eraser stroke" if action.erase else "damage stroke"


class MaskEditor:
    """The hand-painted damage mask of a ``width``×``height`` photo, with undo and redo.

    ``base`` is a mask to start from (read from a file); clear and undo go back to empty and to it.
    """

    def __init__(self, width: int, height: int, *, base: np.ndarray | None = None) -> None:
        self.width, self.height = int(width), int(height)
        self._base = check_mask(base, self.width, self.height) if base is not None else None
        self._done: list[Stroke | Clear | Loaded] = []
        self._undone: list[Stroke | Clear | Loaded] = []
        self._open: _OpenStroke | None = None
        self._raster = self._start()
        self._empty: bool | None = None  # (is_empty, once looked; None: look again)
        #: the box (x0, y0, x1, y1, photo pixels) outside which the last change left the mask as it
        #: was, for listeners that redraw only that (None: anywhere, e.g. an undo; :data:`UNCHANGED`:
        #: no pixel, only what undo and redo can do)
        self.changed_box: tuple[int, int, int, int] | None = None
        self._listeners: list[Callable[[], None]] = []
        #: called with each step added to the history (a stroke ended, a clear, a mask loaded)
        self.on_step: Callable[[Stroke | Clear | Loaded], None] | None = None

    def _start(self) -> np.ndarray:
        """A new raster as the mask starts: the base's copy, or zeros, whose pages the system gives
        only as they are painted (a copy of 120 MB of zeros held the window 0.2 s as a photo opened)."""
        return self._base.copy() if self._base is not None else np.zeros((self.height, self.width), np.uint8)

    # ---- listening -------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change of the mask or of what undo/redo can do."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener`` (one given to :meth:`subscribe`; unknown ones are ignored)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _changed(self, box: tuple[int, int, int, int] | None = None, *, marked: bool = False) -> None:
        """Tell the listeners; ``box``: where alone the mask changed (None: anywhere or nowhere);
        ``marked``: the change marked pixels there (so the mask is not empty)."""
        self.changed_box = box
        self._empty = False if marked else None
        for listener in list(self._listeners):
            listener()

    # ---- editing ---------------------------------------------------------------------------
    def begin_stroke(self, x: float, y: float, *, radius: float, erase: bool = False) -> None:
        """Start a stroke at (x, y) with a brush of ``radius`` photo pixels (erasing if ``erase``)."""
        if not MIN_BRUSH_RADIUS <= radius <= MAX_BRUSH_RADIUS:
            raise ValueError(f"brush radius must be within [{MIN_BRUSH_RADIUS}, {MAX_BRUSH_RADIUS}], got {radius}")
        self.end_stroke()
        self._open = _OpenStroke([(float(x), float(y))], float(radius), erase, [float(radius)])
        box = _reach(self._raster, self._open.points, radius)
        self._open.box = box
        before = _marked_in(self._raster, box) if erase else 0
        draw_stroke(self._raster, Stroke(((float(x), float(y)),), float(radius), erase))
        self._open.erased_any = erase and _marked_in(self._raster, box) < before
        self._changed(box, marked=not erase and _marked_in(self._raster, box) > 0)

    def extend_stroke(self, x: float, y: float, *, radius: float | None = None) -> None:
        """Continue the open stroke to (x, y), there with a brush of ``radius`` (a pen pressed harder
        or lighter; None: the stroke's own); nothing happens without one."""
        if self._open is None:
            return
        stroke = self._open
        radius = stroke.radius if radius is None else min(MAX_BRUSH_RADIUS, max(MIN_BRUSH_RADIUS, float(radius)))
        box = _reach(self._raster, (stroke.points[-1], (float(x), float(y))), max(stroke.radii[-1], radius))
        stroke.box = union(stroke.box, box)
        counting = stroke.erase and not stroke.erased_any  # (what it erased, not what lies in its box: QA)
        before = _marked_in(self._raster, box) if counting else 0
        draw_stroke(self._raster, Stroke((stroke.points[-1], (float(x), float(y))), stroke.radius, stroke.erase,
                                         (stroke.radii[-1], radius)))
        if counting:
            stroke.erased_any = _marked_in(self._raster, box) < before
        stroke.points.append((float(x), float(y)))
        stroke.radii.append(radius)
        self._changed(box, marked=not stroke.erase and _marked_in(self._raster, box) > 0)

    @property
    def open_stroke_words(self) -> str | None:
        """What the stroke being drawn is, in words (None: none is)."""
        return None if self._open is None else step_words(Stroke((), 1.0, self._open.erase))

    @property
    def stroke_open(self) -> bool:
        """Whether a stroke is being drawn (begun, not yet ended: an undo or a clear ends it)."""
        return self._open is not None

    def end_stroke(self) -> None:
        """Close the open stroke: it becomes one step of the history (what undo takes back), unless
        it erased where nothing was marked (it changed nothing: an undo taking it back would look
        like one that did nothing, and it would drop what redo could do)."""
        if self._open is None:
            return
        if self._open.erase and not self._open.erased_any:
            self._open = None
            self._changed(UNCHANGED)
            return
        opened = self._open  # (one radius throughout: none listed, as a mouse's stroke)
        radii = tuple(opened.radii) if len(set(opened.radii)) > 1 else ()
        stroke = Stroke(tuple(opened.points), opened.radius, opened.erase, radii)
        self._open = None
        self._push(stroke, opened.box)

    def clear(self) -> None:
        """Clear the whole mask (undoable)."""
        self.end_stroke()
        if self._raster.any():
            self._raster[...] = 0
            self._push(Clear())

    def load(self, mask: np.ndarray) -> None:
        """Add the damage ``mask`` marks (HxW, the photo's size; non-zero = damaged: a mask file
        read with :func:`faceapp.core.damage.read_mask`) to the painted mask, as one undoable step."""
        self.end_stroke()
        marked = check_mask(mask, self.width, self.height)
        digest = mask_summary(marked)["sha256"]
        np.maximum(self._raster, marked, out=self._raster)
        self._push(Loaded(digest, marked))

    def _push(self, action: Stroke | Clear | Loaded, box: tuple[int, int, int, int] | None = None) -> None:
        """Add ``action`` to the history; ``box``: where alone it changed the mask, if known."""
        self._done.append(action)
        self._undone.clear()
        if self.on_step is not None:
            self.on_step(action)
        self._changed(box)

    def forget_redo(self) -> None:
        """Forget what undo took back: it cannot be done again (another edit of the photo was made)."""
        if self._undone:
            self._undone.clear()
            self._changed(UNCHANGED)

    # ---- history ---------------------------------------------------------------------------
    @property
    def history(self) -> tuple[Stroke | Clear | Loaded, ...]:
        """The steps that made the mask as it is now, from the last time it was empty (an open
        stroke not yet among them): equal histories give equal masks, so a caller can tell whether
        the mask changed since it looked. What a clearing undid, and erasing while nothing was
        marked, are left out: painted and cleared again, the mask is as it was unpainted (a QA pass
        was told "damage changed since" about a mask cleared back to empty)."""
        based = self._base is not None and bool(self._base.any())  # started from a mask: clearing or erasing it is a change
        steps: list[Stroke | Clear | Loaded] = []
        for action in self._done:
            if isinstance(action, Clear):
                steps = [action] if based else []
            elif steps or based or not getattr(action, "erase", False):
                steps.append(action)
        return tuple(steps)

    @property
    def can_undo(self) -> bool:
        return bool(self._done) or self._open is not None

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo(self) -> None:
        """Take back the last stroke or clear."""
        self.end_stroke()
        if self._done:
            self._undone.append(self._done.pop())
            self._replay(self._undone[-1])

    def redo(self) -> None:
        """Do again what undo took back last (a stroke being drawn ends first: it is kept whole,
        and is the last step; review: a redo mid-stroke dropped what it had painted so far)."""
        self.end_stroke()
        if self._undone:
            self._done.append(self._undone.pop())
            self._replay(self._done[-1])

    def _replay(self, step: Stroke | Clear | Loaded) -> None:
        """Paint the mask again from its history, ``step`` having been taken back or done again:
        listeners are told the box a stroke's step reaches, outside which nothing changed (a
        40 MP mask redrawn and traced whole held the window 75 ms at each undo)."""
        raster = self._start()
        for action in self._done:
            if isinstance(action, Clear):
                raster[...] = 0
            elif isinstance(action, Loaded):
                np.maximum(raster, action.mask, out=raster)
            else:
                draw_stroke(raster, action)
        self._raster = raster
        reached = _reach(raster, step.points, max(step.radii or (step.radius,))) if isinstance(step, Stroke) else None
        self._changed(reached)

    # ---- the result ------------------------------------------------------------------------
    def mask(self) -> np.ndarray:
        """The mask as painted so far (a copy): HxW uint8, 255 = damaged."""
        return self._raster.copy()

    def view(self) -> np.ndarray:
        """The mask as painted so far, read-only and not copied (a 40 MP photo's copies held the
        window up to 0.36 s at each stroke: UI-stall QA): to read at once, not to keep, as the
        next edit changes it (or replaces it: an undo)."""
        view = self._raster.view()
        view.flags.writeable = False
        return view

    def is_empty(self) -> bool:
        """Whether no pixel is marked damaged (looked at once for each change: the window asks
        several times as it redraws)."""
        if self._empty is None:
            self._empty = not self._raster.any()
        return self._empty
