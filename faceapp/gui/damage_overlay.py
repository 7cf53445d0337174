"""The damage brush over the compare view: paints a :class:`~faceapp.core.mask_editing.MaskEditor`
with the mouse and shows its mask on the "before" side (over the whole photo while the brush is on).

A transparent child of :class:`~faceapp.gui.compare_view.CompareView` covering it. While the
brush is on, a left drag paints (a right drag, a pen's eraser end, or any drag with the eraser on,
erases) in photo pixels through the view's own transform, so zoom and pan are respected; while it
is off, the mouse passes through to the view. With the view focused the brush also paints from the keyboard
(QA: it could be used with a mouse only): an arrow key places the brush where the pointer was or
in the middle of the "before" side shown (not under the split's handle, QA), the arrows move it by
its radius, Shift with arrows paints as it moves (one stroke until Shift is let go, undone at once,
as a drag is: QA, four steps took four undos), and Space paints where it is. Display and dispatch only:
the mask and its history are the editor's.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QInputDevice,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPointingDevice,
    QTabletEvent,
)
from PySide6.QtWidgets import QWidget

from faceapp.core.mask_editing import MAX_BRUSH_RADIUS, MIN_BRUSH_RADIUS, UNCHANGED, MaskEditor, union
from faceapp.core.mask_outline import Contour, retrace, trace
from faceapp.gui.compare_view import CompareView
from faceapp.gui.qimage import mask_to_qimage, put_mask_region

#: How painted damage is shown: translucent red.
MASK_COLOUR = (255, 40, 40, 130)
#: ... and how much of it over the "after" side while the brush is on: enough to see where the
#: strokes are, little enough to see the repair under them (drawn fully it hid the fill).
AFTER_SIDE_OPACITY = 0.3
#: A pen pressed lightest paints with this fraction of the brush's radius (pressed hard: all of it).
PEN_LIGHTEST = 0.25
#: The keys that move the brush from the keyboard, and which way (photo pixels, in brush radii).
_ARROWS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}


def outline_path(contours: list[Contour]) -> QPainterPath:
    """The edges of a mask's painted areas (and of the holes in them), :func:`~faceapp.core.mask_outline.trace`d,
    as a path in photo pixels."""
    path = QPainterPath()
    for contour in contours:
        points = contour.points
        path.moveTo(float(points[0, 0]), float(points[0, 1]))
        for x, y in points[1:]:
            path.lineTo(float(x), float(y))
        path.closeSubpath()
    return path


def _ring_pens() -> tuple[QPen, QPen]:
    """How the brush's ring and the painted areas' edges are drawn: black, and white dashes over it,
    seen on light and dark photos alike; widths in screen pixels whatever the painter's scale."""
    pens = QPen(QColor(0, 0, 0), 3), QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine)
    for pen in pens:
        pen.setCosmetic(True)
    return pens


def _joined(untraced: tuple[int, int, int, int] | None | bool, box: tuple[int, int, int, int] | None
            ) -> tuple[int, int, int, int] | None:
    """Where the mask changed, untraced (see ``DamageOverlay._untraced``) and then in ``box``."""
    if untraced is False:
        return box
    if untraced is None or box is None:
        return None
    return union(untraced, box)


class _DrawnOutline(NamedTuple):
    """The painted areas' outline drawn over the widget, kept while neither it nor the photo's place
    (``where``: the photo's rectangle, the widget's size and its pixel ratio) changes."""

    outline: QPainterPath
    where: tuple[float, ...]
    layer: QPixmap


def _clamped(radius: float) -> float:
    """A brush radius within what the mask editor takes (photo pixels)."""
    return float(min(MAX_BRUSH_RADIUS, max(MIN_BRUSH_RADIUS, radius)))

class DamageOverlay(QWidget):
    """Shows and edits the damage mask of the photo in ``view``."""

    #: The mask shown, or what undo and redo can do, changed: once when a stroke begins and once
    #: when it ends (not on every move of a drag), and on undo, redo, clear or another photo.
    maskChanged = Signal()

    def __init__(self, view: CompareView) -> None:
        super().__init__(view)
        self._view = view
        # a right drag erases: the photo's right-click menu is not for the brush (it is passed on to
        # the photo under it only while the brush is put down, when the overlay lets the mouse through)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self._editor: MaskEditor | None = None
        self._listener: Callable[[], None] | None = None  # what the editor shown calls on a change
        self._image: QImage | None = None
        self._image_of: MaskEditor | None = None  # the editor whose mask _image shows
        self._brush = False
        self._eraser = False
        self._radius = 8.0
        self._chosen: weakref.WeakKeyDictionary[MaskEditor, float] = weakref.WeakKeyDictionary()  # sized by the user
        self._hover: QPointF | None = None
        self._key_point: QPointF | None = None  # the brush placed from the keyboard (photo pixels)
        self._painting = False
        self._outline: QPainterPath | None = None  # the painted areas' edges, in photo pixels
        self._contours: list[Contour] | None = None  # ...as traced (faceapp.core.mask_outline)
        self._contours_of: MaskEditor | None = None  # the editor whose mask they are of
        #: where the mask changed while a stroke was drawn, not traced yet: a box, None (anywhere: an
        #: undo, a clear or a mask loaded mid-stroke), False (nothing)
        self._untraced: tuple[int, int, int, int] | None | bool = False
        self._outline_drawn: _DrawnOutline | None = None
        self._key_stroke = False  # a stroke painted with Shift and the arrows, open until Shift is let go
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setMouseTracking(True)
        self.setAccessibleName("Damage painted on the photo")
        self.setGeometry(view.rect())
        view.installEventFilter(self)
        self._update_mouse_handling()

    # ---- what is shown and edited ------------------------------------------------------------
    def set_editor(self, editor: MaskEditor | None) -> None:
        """Show and edit ``editor``'s mask (None: nothing to show)."""
        self._end_key_stroke()
        if self._editor is not None and self._listener is not None:
            self._editor.unsubscribe(self._listener)  # one listener per editor shown, however often photos switch
        self._editor, self._listener, self._key_point = editor, None, None
        if editor in self._chosen:
            self._radius = self._chosen[editor]  # the size the user gave this photo's brush
        if editor is not None:
            self._listener = lambda e=editor: self._mask_changed(e)
            editor.subscribe(self._listener)
        self._mask_changed(editor)

    def editor(self) -> MaskEditor | None:
        return self._editor

    def _mask_changed(self, editor: MaskEditor | None) -> None:
        if editor is not self._editor:
            return  # a photo no longer shown
        painted = editor is not None and not editor.is_empty()
        box = editor.changed_box if editor is not None else None
        if not painted:
            self._image = self._image_of = None
        elif box is not None and self._image is not None and self._image_of is editor:
            put_mask_region(self._image, editor.view(), box)  # (a drag's move: only where it painted)
        else:
            self._image, self._image_of = mask_to_qimage(editor.view(), MASK_COLOUR), editor
        if self._painting:  # (traced once a stroke ends, not at each move of a drag)
            self._untraced = _joined(self._untraced, box)
        else:
            self._trace_outline(editor if painted else None, _joined(self._untraced, box))
            self._untraced = False
        self.update()
        if not self._painting:
            self.maskChanged.emit()

    def _trace_outline(self, editor: MaskEditor | None, box: tuple[int, int, int, int] | None) -> None:
        """The painted areas' edges after a change within ``box`` (None: anywhere): only those
        reaching into it traced again (:func:`faceapp.core.mask_outline.retrace`)."""
        if editor is None:
            self._contours = self._contours_of = self._outline = None
            return
        if box == UNCHANGED and self._contours_of is editor:
            return
        if box is not None and self._contours is not None and self._contours_of is editor:
            self._contours = retrace(editor.view(), self._contours, box)
        else:
            self._contours, self._contours_of = trace(editor.view()), editor
        self._outline = outline_path(self._contours)

    # ---- brush -------------------------------------------------------------------------------
    def set_brush(self, enabled: bool) -> None:
        """While on, dragging over the photo paints damage (or erases it)."""
        self._brush = bool(enabled)
        self._end_key_stroke()
        if not enabled:
            self._key_point = None
        if not enabled and self._editor is not None:
            self._painting = False
            self._editor.end_stroke()
            self._catch_up()
        self._update_mouse_handling()
        self.update()

    def brush(self) -> bool:
        return self._brush

    def set_eraser(self, enabled: bool) -> None:
        self._eraser = bool(enabled)

    def eraser(self) -> bool:
        return self._eraser

    def set_brush_radius(self, radius: float) -> None:
        """Brush radius in photo pixels, chosen by the user: the shown photo keeps it (switching
        photos and back brings it back) instead of its suggested one."""
        self._radius = _clamped(radius)
        if self._editor is not None:
            self._chosen[self._editor] = self._radius
        self.update()

    def suggest_brush_radius(self, radius: float) -> None:
        """The radius that suits the shown photo (:func:`~faceapp.core.mask_editing.default_brush_radius`),
        used until the user sizes this photo's brush."""
        if self._editor is not None and self._editor not in self._chosen:
            self._radius = _clamped(radius)
            self.update()

    def brush_radius(self) -> float:
        return self._radius

    def _update_mouse_handling(self) -> None:
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, not self._brush)
        self.setCursor(Qt.CursorShape.CrossCursor if self._brush else Qt.CursorShape.ArrowCursor)

    # ---- Qt events ---------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if watched is self._view and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._view.rect())
        elif watched is self._view and event.type() == QEvent.Type.KeyPress and self._brush:
            return self._paint_key(event)
        elif watched is self._view and event.type() == QEvent.Type.KeyRelease and event.key() == Qt.Key.Key_Shift:
            self._end_key_stroke()
        elif watched is self._view and event.type() == QEvent.Type.FocusOut:
            self._end_key_stroke()
        return False

    def _end_key_stroke(self) -> None:
        """End the stroke painted from the keyboard, if one is open (announced as a drag's end is)."""
        if self._key_stroke:
            self._key_stroke = self._painting = False
            if self._editor is not None:
                self._editor.end_stroke()
                self._catch_up()

    def _paint_key(self, event: QKeyEvent) -> bool:
        """Painting from the keyboard (see the module's notes); whether ``event`` was one of its keys."""
        key, modifiers = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        before = self._view.before_image()
        size = (before.width(), before.height()) if before is not None else None
        if self._editor is None or size is None or modifiers not in (Qt.KeyboardModifier.NoModifier,
                                                                       Qt.KeyboardModifier.ShiftModifier):
            return False
        if key not in _ARROWS and not (key == Qt.Key.Key_Space and modifiers == Qt.KeyboardModifier.NoModifier):
            return False
        if event.isAutoRepeat() and key == Qt.Key.Key_Space:
            return True  # (held down: one dab)
        start = self._key_point
        if start is None:  # placed where the pointer is, else in the middle of the "before" side shown
            where = self._hover if self._hover is not None else self._middle_of_before()
            start = self._clamped_point(self._view.widget_to_image(where), size)
        point = start
        if key in _ARROWS and self._key_point is not None:
            dx, dy = _ARROWS[key]
            point = self._clamped_point(start + QPointF(dx * self._radius, dy * self._radius), size)
        if key in _ARROWS and modifiers == Qt.KeyboardModifier.ShiftModifier:
            if not self._key_stroke or not self._editor.stroke_open:  # (an undo with Shift held ended it: review)
                self._editor.begin_stroke(start.x(), start.y(), radius=self._radius, erase=self._eraser)
                self._key_stroke = self._painting = True
            self._editor.extend_stroke(point.x(), point.y())
        else:
            self._end_key_stroke()
        if key == Qt.Key.Key_Space:
            self._editor.begin_stroke(start.x(), start.y(), radius=self._radius, erase=self._eraser)
            self._editor.end_stroke()
        self._key_point = point  # (the ring is drawn there, wherever the photo is panned or zoomed to)
        self.update()
        return True

    def _middle_of_before(self) -> QPointF:
        """The middle of the "before" side as shown: of the part of the photo left of the split's
        handle, or of all that is shown."""
        shown = self._view.image_rect().intersected(QRectF(self.rect()))
        if shown.isEmpty():
            shown = QRectF(self.rect())
        if self._view.view_mode() == "split" and self._view.after_image() is not None:
            shown.setRight(min(shown.right(), max(shown.left() + 1.0, self._view.divider_x())))
        return shown.center()

    @staticmethod
    def _clamped_point(point: QPointF, size: tuple[int, int]) -> QPointF:
        return QPointF(min(max(point.x(), 0.0), float(size[0] - 1)), min(max(point.y(), 0.0), float(size[1] - 1)))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._editor is None or event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            event.ignore()
            return
        self._begin(event.position(), erase=self._erases(event))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._move(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802 (Qt override)
        """A pen paints as the mouse does, and its eraser end (or its barrel button) erases (pen QA: the
        eraser end painted, Qt's mouse events made of the pen's saying nothing of which end it was).
        Taken here, so that Qt makes no mouse event of it."""
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            if self._editor is None or event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
                event.ignore()
                return
            self._begin(event.position(), erase=self._erases(event), radius=self._pen_radius(event))
        elif kind == QEvent.Type.TabletMove:
            self._move(event.position(), radius=self._pen_radius(event))
        elif kind == QEvent.Type.TabletRelease:
            self._end()
        event.accept()

    def _pen_radius(self, event: QTabletEvent) -> float:
        """The brush under a pen: the brush's radius pressed hard, down to a quarter of it pressed
        lightly, as drawing programs do (pen QA: pressure did nothing); a pen that senses no pressure
        paints with the whole brush."""
        if not event.pointingDevice().capabilities() & QInputDevice.Capability.Pressure:
            return self._radius
        pressure = min(1.0, max(0.0, event.pressure()))
        return max(MIN_BRUSH_RADIUS, self._radius * (PEN_LIGHTEST + (1 - PEN_LIGHTEST) * pressure))

    def _erases(self, event: QMouseEvent | QTabletEvent) -> bool:
        """Whether the stroke this press begins erases: the eraser on, a right button, a pen's eraser end."""
        return (self._eraser or event.button() == Qt.MouseButton.RightButton
                or event.pointerType() == QPointingDevice.PointerType.Eraser)

    def _begin(self, position: QPointF, *, erase: bool, radius: float | None = None) -> None:
        p = self._view.widget_to_image(position)
        self._editor.begin_stroke(p.x(), p.y(), radius=self._radius if radius is None else radius, erase=erase)
        self._painting = True

    def _move(self, position: QPointF, *, radius: float | None = None) -> None:
        self._hover, self._key_point = position, None  # (the keyboard goes on from the pointer)
        if self._painting and self._editor is not None:
            p = self._view.widget_to_image(position)
            self._editor.extend_stroke(p.x(), p.y(), radius=radius)
        self.update()

    def _end(self) -> None:
        painting, self._painting = self._painting, False  # (so that the stroke's end is announced)
        if painting and self._editor is not None:
            self._editor.end_stroke()
            self._catch_up()

    def _catch_up(self) -> None:
        """Trace what changed while a stroke was drawn, where its end said nothing (the stroke was
        ended mid-drag by an undo, a clear or a mask loaded: sceptic QA, the outline stayed wrong)."""
        if self._untraced is not False and not self._painting and self._editor is not None:
            self._mask_changed(self._editor)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover = None
        self.update()

    def _draw_outline(self, painter: QPainter, target: QRectF) -> None:
        """The painted areas' edges, black under white dashes as the brush's ring: seen on any photo
        and by anyone (colour-blind QA: the red fill all but vanished on skin and sepia for a deutan
        or protan eye, 0.8 ΔE on dark skin)."""
        if self._outline is None or self._image is None:
            return
        ratio = self.devicePixelRatioF()
        where = (target.x(), target.y(), target.width(), target.height(), self.width(), self.height(), ratio)
        cached = self._outline_drawn
        if cached is None or cached.outline is not self._outline or cached.where != where:
            # drawn once for each outline and zoom: redrawn at every move of a drag, a few strokes'
            # outline took 20-30 ms a move on a 40 MP photo, growing with each stroke (UI-stall QA)
            layer = QPixmap(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
            layer.setDevicePixelRatio(ratio)
            layer.fill(Qt.GlobalColor.transparent)
            drawing = QPainter(layer)
            drawing.setRenderHint(QPainter.RenderHint.Antialiasing)
            drawing.translate(target.topLeft())
            drawing.scale(target.width() / self._image.width(), target.height() / self._image.height())
            for pen in _ring_pens():
                drawing.setPen(pen)
                drawing.drawPath(self._outline)
            drawing.end()
            cached = self._outline_drawn = _DrawnOutline(self._outline, where, layer)
        painter.drawPixmap(0, 0, cached.layer)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        has_after = self._view.after_image() is not None
        if self._view.view_mode() == "after" and has_after and not self._brush:
            return  # the mask belongs to the "before" side; while painting it shows faintly on the "after" too
        painter = QPainter(self)
        target = self._view.image_rect()
        if self._image is not None and not target.isEmpty():
            mode, source = self._view.view_mode(), QRectF(self._image.rect())
            if has_after and mode != "before":
                # the "after" side shows the repair: with the brush on, its strokes faintly over it
                before = QRectF(0, 0, self._view.divider_x() if mode == "split" else 0, self.height())
                if self._brush:
                    painter.setOpacity(AFTER_SIDE_OPACITY)
                    painter.setClipRect(QRectF(before.right(), 0, self.width() - before.right(), self.height()))
                    painter.drawImage(target, self._image, source)
                    painter.setOpacity(1.0)
                painter.setClipRect(before)
            painter.drawImage(target, self._image, source)
            self._draw_outline(painter, target)
            painter.setClipping(False)
        ring = self._view.image_to_widget(self._key_point) if self._key_point is not None else self._hover
        if self._brush and ring is not None:
            radius = self._radius * self._view.zoom()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            for pen in _ring_pens():
                painter.setPen(pen)
                painter.drawEllipse(ring, radius, radius)
