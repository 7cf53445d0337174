"""The painted areas' edges, traced again only where a stroke changed them (no Qt)."""

from __future__ import annotations

import numpy as np

from faceapp.core.mask_editing import MaskEditor
from faceapp.core.mask_outline import retrace, trace


def _edges(contours) -> set[tuple]:
    """The contours as comparable values: each its box and its points."""
    return {(c.box, tuple(map(tuple, c.points.tolist()))) for c in contours}


def test_retracing_where_strokes_changed_the_mask_gives_the_edges_tracing_all_of_it_gives():
    """Review: a 40 MP mask traced whole at each stroke's end, marks far apart, held the window a
    fifth of a second. Only the areas a stroke reaches are traced again: strokes apart, strokes that
    join areas, erasing that splits one or makes a hole, and marks at the photo's edges."""
    rng = np.random.default_rng(5)
    editor = MaskEditor(300, 200)
    contours = trace(editor.view())
    assert contours == []
    for k in range(60):
        erase = k % 4 == 3
        points = rng.integers(-10, 310, (int(rng.integers(1, 4)), 2)).astype(float)
        editor.begin_stroke(*points[0], radius=float(rng.integers(1, 12)), erase=erase)
        for x, y in points[1:]:
            editor.extend_stroke(x, y)
        editor.end_stroke()
        box = editor.changed_box
        contours = trace(editor.view()) if box is None else retrace(editor.view(), contours, box)
        assert _edges(contours) == _edges(trace(editor.view())), k


def test_an_area_is_traced_whole_though_the_change_touched_its_corner():
    mask = np.zeros((100, 100), np.uint8)
    mask[10:90, 10:20] = 255  # a long bar, traced before
    contours = trace(mask)
    mask[85:95, 15:30] = 255  # joined at its foot
    assert _edges(retrace(mask, contours, (15, 85, 30, 95))) == _edges(trace(mask))
    [whole] = retrace(mask, contours, (15, 85, 30, 95))
    assert whole.box == (10, 10, 30, 95)


def test_an_area_the_old_edges_do_not_know_is_traced_whole_where_the_change_reaches_it():
    """The mask decides: marks past the region traced, that no old edge told of (made otherwise
    than by the change), are taken in whole, not cut at the region's edge."""
    mask = np.zeros((100, 100), np.uint8)
    mask[10:90, 10:20] = 255
    [whole] = retrace(mask, [], (15, 85, 30, 95))
    assert whole.box == (10, 10, 20, 90)
