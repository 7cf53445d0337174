"""The damage brush over the compare view: strokes land on the photo pixels under the mouse, the
mask shows on the "before" side only, and with the brush off the mouse reaches the view."""

from __future__ import annotations

from gui_util import shown_compare_view  # (offscreen Qt)
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from faceapp.core.mask_editing import MaskEditor
from faceapp.gui.damage_overlay import DamageOverlay
from faceapp.gui.qimage import qimage_to_rgb, rgb_to_qimage


@pytest.fixture
def overlay(qtbot):
    view = shown_compare_view(qtbot)
    view.set_images(rgb_to_qimage(np.full((100, 160, 3), 90, np.uint8)))
    layer = DamageOverlay(view)
    layer.set_editor(MaskEditor(160, 100))
    layer.show()
    return layer


def widget_point(view, x, y) -> QPoint:
    return view.image_to_widget(QPointF(x, y)).toPoint()


def drag(qtbot, widget, points, button=Qt.MouseButton.LeftButton):
    qtbot.mousePress(widget, button, pos=points[0])
    for point in points[1:]:
        qtbot.mouseMove(widget, point)
    qtbot.mouseRelease(widget, button, pos=points[-1])


def test_a_drag_paints_the_photo_pixels_under_the_mouse(overlay, qtbot):
    view = overlay.parentWidget()
    overlay.set_brush(True)
    overlay.set_brush_radius(4)
    drag(qtbot, overlay, [widget_point(view, 20, 50), widget_point(view, 80, 50), widget_point(view, 140, 50)])
    mask = overlay.editor().mask()
    assert (mask[48:53, 22:139] == 255).all()
    assert not mask[:40].any() and not mask[60:].any()
    assert overlay.editor().can_undo


def test_a_right_drag_erases(overlay, qtbot):
    view = overlay.parentWidget()
    overlay.set_brush(True)
    overlay.set_brush_radius(6)
    drag(qtbot, overlay, [widget_point(view, 20, 50), widget_point(view, 140, 50)])
    drag(qtbot, overlay, [widget_point(view, 80, 20), widget_point(view, 80, 80)], Qt.MouseButton.RightButton)
    mask = overlay.editor().mask()
    assert mask[50, 30] == 255 and mask[50, 80] == 0


def test_what_is_shown_follows_the_mask_through_drags_erasing_and_undo(overlay, qtbot):
    """A drag's moves redraw only where they painted (a 40 MP photo's whole mask was converted at
    each move: UI-stall QA): what is shown must still be the mask, after paint, erase and undo,
    and the painted areas' outline lies around them."""
    from faceapp.gui.qimage import qimage_to_rgb as shown_rgb

    view = overlay.parentWidget()
    overlay.set_brush(True)
    overlay.set_brush_radius(5)
    editor = overlay.editor()

    def shown_matches(drawing: bool = False) -> None:
        image = overlay._image  # (the layer drawn over the photo)
        if editor.is_empty():
            assert image is None
            return
        from PySide6.QtGui import QImage

        shown = shown_rgb(image.convertToFormat(QImage.Format.Format_RGB888))[..., 0] > 0
        np.testing.assert_array_equal(shown, editor.mask() > 0)
        if drawing:  # (the outline is traced as the stroke ends)
            return
        outline = overlay._outline.boundingRect()
        ys, xs = np.nonzero(editor.mask())
        assert abs(outline.left() - (xs.min() + 0.5)) <= 0.01 and abs(outline.right() - (xs.max() + 0.5)) <= 0.01
        assert abs(outline.top() - (ys.min() + 0.5)) <= 0.01 and abs(outline.bottom() - (ys.max() + 0.5)) <= 0.01

    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=widget_point(view, 20, 30))
    for x, y in ((60, 40), (120, 70)):
        qtbot.mouseMove(overlay, widget_point(view, x, y))
        shown_matches(drawing=True)  # (mid-drag)
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=widget_point(view, 120, 70))
    shown_matches()
    drag(qtbot, overlay, [widget_point(view, 130, 20), widget_point(view, 140, 90)])
    shown_matches()
    drag(qtbot, overlay, [widget_point(view, 40, 10), widget_point(view, 50, 90)], Qt.MouseButton.RightButton)
    shown_matches()
    editor.undo()
    shown_matches()
    editor.undo()
    shown_matches()
    editor.clear()
    shown_matches()


@pytest.mark.parametrize("edit", ["undo", "clear", "load"])
def test_the_outline_follows_an_edit_made_while_a_stroke_is_drawn(overlay, qtbot, edit):
    """Sceptic QA: an undo, a clear or a mask loaded while a stroke was being drawn (Ctrl+Z mid-drag,
    a mask read off the UI thread) left the painted areas' outline wrong for good: ghosts of what
    was undone, a loaded area with no edge."""
    from faceapp.core.mask_outline import trace

    view = overlay.parentWidget()
    overlay.set_brush(True)
    overlay.set_brush_radius(4)
    editor = overlay.editor()
    drag(qtbot, overlay, [widget_point(view, 20, 20), widget_point(view, 60, 20)])  # stroke A
    qtbot.mousePress(overlay, Qt.MouseButton.LeftButton, pos=widget_point(view, 20, 60))  # stroke B…
    qtbot.mouseMove(overlay, widget_point(view, 50, 60))
    if edit == "undo":  # (as the window's Undo does: the stroke drawn ends, then is taken back)
        editor.end_stroke()
        editor.undo()
    elif edit == "clear":
        editor.clear()
    else:
        loaded = np.zeros((100, 160), np.uint8)
        loaded[70:90, 100:150] = 255
        editor.load(loaded)
    qtbot.mouseRelease(overlay, Qt.MouseButton.LeftButton, pos=widget_point(view, 50, 60))

    def edges(contours):
        return sorted((c.box, tuple(map(tuple, c.points.tolist()))) for c in contours or ())

    assert edges(overlay._contours) == edges(trace(editor.view()) if not editor.is_empty() else [])
    drag(qtbot, overlay, [widget_point(view, 120, 10), widget_point(view, 150, 10)])  # and after another
    assert edges(overlay._contours) == edges(trace(editor.view()))


def _pen_stroke(widget, points, end, pressures=None, capabilities=None):
    """A pen's stroke as Qt delivers it: tablet press, moves and release of a pen device's ``end``
    (pressed at ``pressures``, one a point: 0.8 throughout by default)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
    from PySide6.QtWidgets import QApplication

    if capabilities is None:
        capabilities = QInputDevice.Capability.Position | QInputDevice.Capability.Pressure
    pen = QPointingDevice("pen", 7, QInputDevice.DeviceType.Stylus, end, capabilities, 1, 2)
    kinds = [QEvent.Type.TabletPress] + [QEvent.Type.TabletMove] * (len(points) - 2) + [QEvent.Type.TabletRelease]
    for kind, point, pressure in zip(kinds, points, pressures or [0.8] * len(points)):
        at = QPointF(point)
        pressed = Qt.MouseButton.LeftButton if kind != QEvent.Type.TabletRelease else Qt.MouseButton.NoButton
        event = QTabletEvent(kind, pen, at, widget.mapToGlobal(at), pressure, 0.0, 0.0, 0.0, 0.0, 0.0,
                             Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, pressed)
        QApplication.sendEvent(widget, event)
        assert event.isAccepted()  # (so that Qt makes no mouse event of it: one stroke, not two)


def test_a_pen_paints_and_its_eraser_end_erases(overlay):
    """Pen QA: the eraser end painted damage as the tip did."""
    from PySide6.QtGui import QPointingDevice

    view = overlay.parentWidget()
    overlay.set_brush(True)
    overlay.set_brush_radius(6)
    _pen_stroke(overlay, [widget_point(view, 20, 50), widget_point(view, 80, 50), widget_point(view, 140, 50)],
                QPointingDevice.PointerType.Pen)
    mask = overlay.editor().mask()
    assert mask[50, 30] == 255 and mask[50, 80] == 255
    _pen_stroke(overlay, [widget_point(view, 80, 20), widget_point(view, 80, 50), widget_point(view, 80, 80)],
                QPointingDevice.PointerType.Eraser)
    mask = overlay.editor().mask()
    assert mask[50, 30] == 255 and mask[50, 80] == 0
    overlay.editor().undo()  # one step a stroke
    assert overlay.editor().mask()[50, 80] == 255


def test_a_pen_pressed_lighter_paints_a_thinner_line(overlay):
    """Pen QA: pressure did nothing. Pressed hard the pen paints with the whole brush, pressed
    lightly with a quarter of it; a pen without pressure paints with the whole brush."""
    from PySide6.QtGui import QInputDevice, QPointingDevice

    view = overlay.parentWidget()
    overlay.set_brush(True)
    overlay.set_brush_radius(12)
    row = [widget_point(view, x, 50) for x in (10, 50, 80, 110, 150)]
    _pen_stroke(overlay, row, QPointingDevice.PointerType.Pen, pressures=[1.0, 1.0, 0.0, 0.0, 0.0])

    def width_at(x):
        return int((overlay.editor().mask()[:, x] == 255).sum())

    assert width_at(30) >= 23 and width_at(95) <= 8  # 2 × 12 where pressed hard, 2 × 3 where light
    overlay.editor().clear()
    _pen_stroke(overlay, row, QPointingDevice.PointerType.Pen, pressures=[0.0] * 5,
                capabilities=QInputDevice.Capability.Position)  # (no pressure sensed: its 0 means nothing)
    assert width_at(95) >= 23
    overlay.editor().undo()
    overlay.editor().undo()  # the stroke of two widths, back as it was painted
    assert width_at(30) >= 23 and width_at(95) <= 8


def test_with_the_brush_off_the_mouse_reaches_the_view(overlay, qtbot):
    view = overlay.parentWidget()
    overlay.set_brush(False)
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    overlay.set_brush(True)
    assert not overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    assert view.rect() == overlay.geometry()


def test_the_mask_shows_where_it_is_painted_then_on_the_before_side_only(overlay, qtbot):
    """While the brush is on, every stroke shows where it was painted, on either side of the
    divider or over the whole "after" (there faintly: the repair under it must be seen); with the
    brush off, the after side shows the result clean."""
    view = overlay.parentWidget()
    view.set_after(rgb_to_qimage(np.full((100, 160, 3), 90, np.uint8)))
    view.set_split(0.5)
    overlay.set_brush(True)
    overlay.set_brush_radius(8)
    drag(qtbot, overlay, [widget_point(view, 5, 50), widget_point(view, 155, 50)])
    row = widget_point(view, 0, 50).y()

    def redness(x_fraction: float) -> int:
        pixel = qimage_to_rgb(view.grab().toImage())[row, int(view.width() * x_fraction)]
        return int(pixel[0]) - int(pixel[1])

    def red(x_fraction: float) -> bool:
        return redness(x_fraction) > 40

    # painting: the strokes show on both sides, faintly over the repair on the "after" one
    assert red(0.3) and 10 < redness(0.7) < redness(0.3) / 2
    view.set_view_mode("after")
    assert 10 < redness(0.3) < 40 and 10 < redness(0.7) < 40  # all of it the "after" side
    view.set_view_mode("split")
    overlay.set_brush(False)
    assert red(0.3) and not red(0.7)  # the after side untouched
    view.set_view_mode("after")
    assert not red(0.7)
    view.set_view_mode("before")
    shown = qimage_to_rgb(view.grab().toImage())
    assert shown[row, int(view.width() * 0.7), 0] > shown[row, int(view.width() * 0.7), 1] + 40
    overlay.editor().clear()
    shown = qimage_to_rgb(view.grab().toImage())
    assert abs(int(shown[row, int(view.width() * 0.3), 0]) - int(shown[row, int(view.width() * 0.3), 1])) < 5


def test_switching_photos_keeps_one_listener_per_editor(overlay, qtbot, monkeypatch):
    first, second = overlay.editor(), MaskEditor(160, 100)
    for _ in range(5):  # the user goes back and forth between two photos
        overlay.set_editor(second)
        overlay.set_editor(first)
    redraws = []
    monkeypatch.setattr(overlay, "_mask_changed", redraws.append)
    first.begin_stroke(10, 10, radius=3)
    assert redraws == [first]  # one redraw per change, not one per switch
    second.begin_stroke(10, 10, radius=3)
    assert redraws == [first]  # a photo no longer shown is not listened to


def test_the_window_hears_of_a_stroke_when_it_begins_and_ends_not_on_every_move(overlay, qtbot):
    """Listeners of maskChanged (the window's actions and panel) run twice per stroke, however long
    the drag: a long paint session stays smooth on a large photo."""
    view = overlay.parentWidget()
    overlay.set_brush(True)
    heard = []
    overlay.maskChanged.connect(lambda: heard.append(overlay.editor().can_undo))
    drag(qtbot, overlay, [widget_point(view, 10 + 10 * k, 50) for k in range(12)])
    assert heard == [True, True]  # begun (undo would take it back), ended
    assert not overlay.editor().is_empty()


def test_painted_damage_is_outlined_in_black_and_white(qtbot):
    """Colour-blind QA: the translucent red fill all but vanished on skin and sepia to a deutan or
    protan eye. Its edges are drawn as the brush's ring is, black under white dashes, on any photo."""
    view = shown_compare_view(qtbot)
    skin = (196, 148, 118)
    view.set_images(rgb_to_qimage(np.full((100, 160, 3), skin, np.uint8)))
    layer = DamageOverlay(view)
    layer.set_editor(MaskEditor(160, 100))
    layer.show()
    layer.set_brush(True)
    layer.set_brush_radius(10)
    drag(qtbot, layer, [widget_point(view, 40, 50), widget_point(view, 120, 50)])
    layer._hover = None  # (the brush's ring, drawn in the same colours, out of the way)
    shot = qimage_to_rgb(view.grab().toImage())
    dark = shot.max(axis=2) < 40  # nothing of the photo or of the red fill is so dark: the outline
    middle = slice(round(view.image_to_widget(QPointF(60, 0)).x()), round(view.image_to_widget(QPointF(100, 0)).x()))
    rows = set(np.nonzero(dark[:, middle].any(axis=1))[0])
    edges = [round(view.image_to_widget(QPointF(80, y)).y()) for y in (40, 60)]  # the stroke's, 10 px each way
    assert rows and all(min(abs(row - edge) for edge in edges) <= 3 for row in rows)
    assert all(any(abs(row - edge) <= 3 for row in rows) for edge in edges)
