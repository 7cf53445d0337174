"""Painting a damage mask by hand: brush, eraser, clear, undo and redo, without Qt."""

from __future__ import annotations

import numpy as np
import pytest

from faceapp.core.mask_editing import MaskEditor


def paint(editor, points, *, radius=3, erase=False):
    editor.begin_stroke(*points[0], radius=radius, erase=erase)
    for point in points[1:]:
        editor.extend_stroke(*point)
    editor.end_stroke()


def test_a_stroke_paints_its_path_with_the_brush_width():
    editor = MaskEditor(100, 60)
    paint(editor, [(10, 30), (90, 30)], radius=4)
    mask = editor.mask()
    assert mask.dtype == np.uint8 and mask.shape == (60, 100)
    assert (mask[27:34, 10:91] == 255).all()  # the whole path, ±3 px
    assert not mask[:24].any() and not mask[37:].any()  # nothing beyond the brush
    assert not editor.is_empty()


def test_a_wider_brush_covers_more():
    thin, wide = MaskEditor(100, 60), MaskEditor(100, 60)
    paint(thin, [(20, 30), (80, 30)], radius=2)
    paint(wide, [(20, 30), (80, 30)], radius=8)
    assert (wide.mask() > 0).sum() > 3 * (thin.mask() > 0).sum()


def test_the_eraser_clears_what_it_passes_over():
    editor = MaskEditor(100, 60)
    paint(editor, [(10, 30), (90, 30)], radius=5)
    paint(editor, [(50, 10), (50, 50)], radius=5, erase=True)
    mask = editor.mask()
    assert not mask[20:41, 46:55].any()
    assert mask[30, 20] == 255 and mask[30, 80] == 255


def test_undo_and_redo_step_through_strokes_and_clear():
    editor = MaskEditor(50, 50)
    paint(editor, [(10, 10), (40, 10)])
    first = editor.mask()
    paint(editor, [(10, 40), (40, 40)])
    editor.clear()
    assert editor.is_empty()
    editor.undo()  # the clear
    assert editor.mask()[40, 25] == 255 and editor.mask()[10, 25] == 255
    editor.undo()  # the second stroke
    np.testing.assert_array_equal(editor.mask(), first)
    editor.redo()
    assert editor.mask()[40, 25] == 255
    paint(editor, [(25, 20), (25, 30)])  # a new stroke ends what redo could do
    assert not editor.can_redo
    editor.undo()
    editor.undo()
    editor.undo()
    assert editor.is_empty() and not editor.can_undo


def test_each_piece_of_a_stroke_says_a_box_holding_every_pixel_it_changed():
    """The window redraws only the box a change gives (a 40 MP mask converted whole at each move held
    it 30-56 ms): a pixel painted outside it would show stale (mutation audit: nothing held it, at
    the fractional points a zoomed view gives)."""
    rng = np.random.default_rng(3)
    editor = MaskEditor(120, 90)
    for erase in (False, True, False):
        before = editor.mask()
        x, y = rng.uniform(5, 115), rng.uniform(5, 85)
        editor.begin_stroke(x, y, radius=float(rng.uniform(1, 9)), erase=erase)
        for _ in range(25):
            box = editor.changed_box
            changed = np.argwhere(editor.mask() != before)
            assert ((changed[:, 1] >= box[0]) & (changed[:, 1] < box[2]) & (changed[:, 0] >= box[1])
                    & (changed[:, 0] < box[3])).all()
            before = editor.mask()
            x, y = np.clip(x + rng.uniform(-9, 9), 0, 119.9), np.clip(y + rng.uniform(-9, 9), 0, 89.9)
            editor.extend_stroke(x, y, radius=float(rng.uniform(1, 9)))
        editor.end_stroke()


def test_a_pen_strokes_piece_between_two_pressures_is_as_wide_as_the_lighter():
    """A pen pressed harder as it goes: each piece between two points is as wide as the smaller of
    their brushes (the larger's rounded point gives its end), not the larger (too much of the photo
    marked, and filled)."""
    editor = MaskEditor(200, 100)
    editor.begin_stroke(20, 50, radius=3)
    editor.extend_stroke(180, 50, radius=15)
    editor.end_stroke()
    column = editor.mask()[:, 100] > 0
    assert 5 <= column.sum() <= 9  # the light end's width mid-way
    assert (editor.mask()[:, 180] > 0).sum() >= 29  # the heavy end's round point


def test_undo_and_redo_of_a_stroke_say_where_alone_the_mask_changed():
    """A 40 MP mask redrawn and traced whole held the window 75 ms at each undo: listeners are told
    the box a stroke's undo or redo changed, and nothing outside it may change."""
    editor = MaskEditor(300, 200)
    paint(editor, [(20, 100), (280, 100)], radius=6)
    editor.begin_stroke(150, 20, radius=4, erase=True)  # across the first, pressed harder as it goes
    editor.extend_stroke(150, 90, radius=12)
    editor.extend_stroke(150, 180, radius=30)
    editor.end_stroke()
    for step in (editor.undo, editor.redo, editor.undo):
        before = editor.mask()
        step()
        changed = np.argwhere(editor.mask() != before)
        left, top, right, bottom = editor.changed_box
        assert len(changed) and (changed[:, 1] >= left).all() and (changed[:, 1] < right).all()
        assert (changed[:, 0] >= top).all() and (changed[:, 0] < bottom).all()
        assert (right - left) * (bottom - top) < 0.5 * 300 * 200  # (the stroke's reach, not the mask)
    editor.clear()
    editor.undo()
    assert editor.changed_box is None  # (a clear's undo: anywhere)


def test_a_stroke_being_painted_is_one_undo_step():
    editor = MaskEditor(50, 50)
    editor.begin_stroke(5, 5, radius=2)
    editor.extend_stroke(45, 45)
    assert editor.mask()[25, 25] == 255  # shown while painting
    editor.undo()
    assert editor.is_empty()


def test_editing_starts_from_a_mask_read_from_a_file():
    base = np.zeros((20, 30), np.uint8)
    base[5:8, :] = 255
    editor = MaskEditor(30, 20, base=base)
    paint(editor, [(15, 15)], radius=2)
    editor.undo()
    np.testing.assert_array_equal(editor.mask(), base)
    editor.clear()
    assert editor.is_empty()


def test_listeners_hear_every_change_and_bad_brushes_are_refused():
    editor = MaskEditor(20, 20)
    heard = []
    editor.subscribe(lambda: heard.append(editor.can_undo))
    paint(editor, [(5, 5), (10, 10)])
    editor.undo()
    assert len(heard) == 4 and heard[-1] is False
    with pytest.raises(ValueError, match="radius"):
        editor.begin_stroke(1, 1, radius=0)
    editor.clear()  # clearing an empty mask changes nothing and adds no step
    assert not editor.can_undo


def test_an_unsubscribed_listener_hears_no_more():
    editor = MaskEditor(20, 20)
    heard = []
    listener = lambda: heard.append(1)  # noqa: E731
    editor.subscribe(listener)
    paint(editor, [(5, 5), (10, 10)])
    count = len(heard)
    editor.unsubscribe(listener)
    editor.unsubscribe(listener)  # twice, or one never subscribed: nothing happens
    paint(editor, [(2, 2), (3, 3)])
    assert len(heard) == count > 0


def test_a_mask_painted_and_cleared_again_has_the_history_of_an_unpainted_one():
    """The window tells whether the damage changed since the last restore by the mask's history:
    a clearing (undone and done again, as a user does) or erasing nothing leaves the mask as it
    was, and must not read as a change."""
    editor = MaskEditor(100, 60)
    assert editor.history == ()
    paint(editor, [(10, 30), (90, 30)])
    editor.clear()
    editor.undo()
    editor.clear()
    assert editor.is_empty() and editor.history == ()
    paint(editor, [(20, 20), (30, 20)], erase=True)  # erasing where nothing is marked
    assert editor.history == ()
    paint(editor, [(10, 30), (90, 30)])
    painted = editor.history
    assert len(painted) == 1
    other = MaskEditor(100, 60)
    paint(other, [(10, 30), (90, 30)])
    assert other.history == painted  # the same mask, reached two ways
    paint(editor, [(50, 30), (60, 30)], erase=True)  # erasing a marked part is a change
    assert editor.history != painted


def test_an_editor_started_from_a_mask_counts_clearing_or_erasing_it_as_a_change():
    base = np.zeros((60, 100), np.uint8)
    base[20:40, 20:80] = 255
    editor = MaskEditor(100, 60, base=base)
    untouched = editor.history
    paint(editor, [(30, 30), (40, 30)], erase=True)
    assert editor.history != untouched
    editor.undo()
    editor.clear()
    assert editor.is_empty() and editor.history != untouched


def test_the_default_brush_suits_the_photos_faces_or_its_size():
    """One fixed radius (8 px) was a third of the faces of a small scan, which a stroke across the
    eyes then hid, and a speck on a large one: the brush starts at 2 % of the median face."""
    from faceapp.core.mask_editing import default_brush_radius

    assert default_brush_radius(4000, 3000, [400, 420, 380]) == pytest.approx(8.0)
    assert default_brush_radius(4000, 3000, [900, 90, 400]) == pytest.approx(8.0)  # the median face
    assert default_brush_radius(248, 189, [45, 47, 44]) == 1.5  # no thinner than a stroke can follow
    assert default_brush_radius(4000, 3000) == pytest.approx(8.0)  # no face: from the photo's size
    assert default_brush_radius(30000, 20000, [5000]) == 40.0


def test_a_loaded_mask_adds_to_the_painting_as_one_step_that_the_history_tells():
    editor = MaskEditor(40, 30)
    editor.begin_stroke(5, 5, radius=2)
    editor.end_stroke()
    painted = editor.mask()
    loaded = np.zeros((30, 40), np.uint8)
    loaded[20:25, 30:35] = 255
    before = editor.history
    editor.load(loaded)
    assert (editor.mask() == np.maximum(painted, loaded)).all() and editor.history != before
    editor.undo()
    assert (editor.mask() == painted).all() and editor.history == before
    editor.redo()
    assert (editor.mask() == np.maximum(painted, loaded)).all()
    again = MaskEditor(40, 30)
    again.begin_stroke(5, 5, radius=2)
    again.end_stroke()
    again.load(loaded.copy())
    assert again.history == editor.history  # the same mask loaded: the same history


def test_an_eraser_stroke_that_meets_no_mark_is_no_step_to_undo():
    """Erasing where nothing is marked changes nothing: it is no step, so Undo still takes back the
    last stroke that changed the mask, and what redo could do is kept (undo QA)."""
    editor = MaskEditor(200, 100)
    steps = []
    editor.on_step = steps.append
    paint(editor, [(10, 10), (40, 10)])
    paint(editor, [(10, 60), (40, 60)])
    editor.undo()
    paint(editor, [(120, 50), (190, 90)], radius=6, erase=True)  # far from the remaining mark
    assert len(steps) == 2 and editor.can_redo and not editor.stroke_open
    editor.redo()
    assert editor.mask()[60, 25] and editor.mask()[10, 25]
    marked = editor.mask()
    paint(editor, [(0, 99), (199, 30)], radius=2, erase=True)  # a fast drag past the marks, over none
    assert len(steps) == 2 and (editor.mask() == marked).all()  # (sceptic QA: a mark in its box made it a step)
    paint(editor, [(150, 80), (25, 60)], radius=4, erase=True)  # starts in nothing, ends on a mark
    assert len(steps) == 3 and not editor.mask()[60, 25] and not editor.can_redo
    editor.undo()
    assert editor.mask()[60, 25]
