"""The edges of the painted areas of a damage mask, traced again only where a stroke changed them.

The window draws the painted areas' edges over the photo (black under white dashes, seen by anyone).
Tracing a 40 MP mask whole took a fifth of a second at each stroke's end where marks lay in
opposite corners (review); a stroke changes the mask only in its box, so only the painted areas that
reach into that box are traced again, the others kept as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 past the end)


@dataclass(frozen=True)
class Contour:
    """One edge of a painted area (or of a hole in one): its points' pixel centres, in photo pixels,
    and the box of its pixels."""

    points: np.ndarray  # (N, 2) float32
    box: Box


def trace(mask: np.ndarray, box: Box | None = None) -> list[Contour]:
    """The edges of the marked areas of ``mask`` (HxW, non-zero marked) within ``box`` (None: in the
    box around every mark); an area cut by ``box``'s edge is traced as cut."""
    if box is None:
        left, top, width, height = cv2.boundingRect(mask)  # (of the non-zero pixels)
        box = (left, top, left + width, top + height)
    left, top, right, bottom = box
    region = np.ascontiguousarray(mask[top:bottom, left:right])
    if region.size == 0:
        return []
    found, _ = cv2.findContours(region, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    contours = []
    for points in found:
        x, y, w, h = cv2.boundingRect(points)
        contours.append(Contour(points.reshape(-1, 2).astype(np.float32) + (left + 0.5, top + 0.5),
                                (left + x, top + y, left + x + w, top + y + h)))
    return contours


def retrace(mask: np.ndarray, contours: list[Contour], changed: Box) -> list[Contour]:
    """``contours`` (:func:`trace` of the mask before) after a change of ``mask`` within ``changed``:
    the edges of the areas that reach into it (grown by a pixel, so areas it joined are among them,
    and the areas those touch in turn) traced again, the others kept."""
    height, width = mask.shape[:2]
    left, top, right, bottom = changed
    region = (max(0, left - 1), max(0, top - 1), min(width, right + 1), min(height, bottom + 1))
    kept = list(contours)
    while True:
        touching = [c for c in kept if _meet(c.box, region)]
        if not touching:
            break
        kept = [c for c in kept if not _meet(c.box, region)]
        for c in touching:  # (grown to hold each whole area it meets, by one pixel round)
            x0, y0, x1, y1 = c.box
            region = (max(0, min(region[0], x0 - 1)), max(0, min(region[1], y0 - 1)),
                      min(width, max(region[2], x1 + 1)), min(height, max(region[3], y1 + 1)))
    # (an area the change made that reaches past the region meets no old edge: the mask decides)
    region = _grown_to_marks(mask, region)
    return kept + trace(mask, region)


def _meet(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _grown_to_marks(mask: np.ndarray, region: Box) -> Box:
    """``region`` grown until no marked pixel lies on its edge inside the photo (so the areas in it
    are whole): a stroke's change reaches at most its own box, the marks it joined are in the old
    edges' boxes, so this rarely grows it."""
    height, width = mask.shape[:2]
    left, top, right, bottom = region
    step = 16
    while True:
        grown = (max(0, left - step) if left > 0 and mask[top:bottom, left].any() else left,
                 max(0, top - step) if top > 0 and mask[top, left:right].any() else top,
                 min(width, right + step) if right < width and mask[top:bottom, right - 1].any() else right,
                 min(height, bottom + step) if bottom < height and mask[bottom - 1, left:right].any() else bottom)
        if grown == (left, top, right, bottom):
            return grown
        left, top, right, bottom = grown
