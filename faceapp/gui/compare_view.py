"""Before/after split view: one transform for both sides, face outlines, box drawing.

Both images are painted into the same target rectangle (the "before" photo's extent in widget
coordinates), so an upscaled "after" image always lines up with the original, whatever the zoom
and pan. Left of the divider shows before, right of it after.

From the keyboard: Left / Right move the divider a little (with Shift, further), Home / End put
it at the left / right edge. Every other key, and any with Ctrl or Alt, is left to the window's
shortcuts (zoom, before / after, split reset). While the view has keyboard focus it is framed in
the palette's highlight colour; screen readers get its name and a description of what it shows,
the split position included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QInputDevice,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from faceapp.gui.announcer import announce, when_keys_rest
from faceapp.gui.look import FOCUS_FRAME_PX, PHOTO_BACKGROUND, TAG_BACKGROUND

ViewMode = Literal["split", "before", "after"]
Box = tuple[float, float, float, float]

_DIVIDER_GRAB_PX = 8
_CLICK_SLOP_PX = 4
_MIN_BOX_PX = 8
_ZOOM_LIMITS = (0.02, 32.0)
#: The view zooms out at most this far below the zoom that fits the photo (a speck is no use: QA).
_BELOW_FIT = 0.25
#: How far a notch of a mouse's tilt wheel, or of the wheel with Shift, moves the photo (widget px).
_WHEEL_PAN_PX = 60.0
_ENABLED_COLOUR = QColor(80, 200, 255)
_DISABLED_COLOUR = QColor(160, 160, 160)
_WORKING_COLOUR = QColor(255, 170, 0)  # the face a run is sampling now
_SELECTED_COLOUR = QColor(255, 255, 255)  # the face the seed gallery shows
_SPLIT_STEP = 0.02  # a Left / Right key press moves the divider by this much of the width
_SPLIT_STEP_LARGE = 0.10  # … with Shift
_PAN_STEP = 0.1  # an arrow key pans the photo by this much of the view (Page Up / Down: _PAN_PAGE)
_PAN_PAGE = 0.9
#: Drawing a face box with the keyboard: the box starts at this share of the visible photo's
#: shorter side; an arrow key moves it by this share of its side (with Shift, the larger one); + and
#: − scale it by this factor.
_KEY_BOX_START = 0.25
_KEY_BOX_STEP, _KEY_BOX_STEP_LARGE = 0.1, 0.5
_KEY_BOX_SCALE = 1.15
_DRAW_HELP = ("Drawing a face box: drag around a face, or press an arrow key to place a box, move "
              "it with the arrow keys, resize it with + and -, add it with Enter; Esc stops")
ACCESSIBLE_NAME = "Before and after"


@dataclass(frozen=True)
class FaceOutline:
    """One face drawn over the photo: its 1-based number is ``index + 1``."""

    index: int
    box: Box  # x0, y0, x1, y1 in photo pixels
    enabled: bool = True
    unsure: bool = False  # the detector is unsure it is a face (left off where it is sure of others)


#: A face's number tag (widget pixels): a button that switches the face on or off.
_TAG_WIDTH, _TAG_HEIGHT = 24, 20

def _tag_text(face: FaceOutline) -> str:
    """A face's tag: its number, with a question mark where the detector is unsure it is a face
    (colour-blind QA: such a face was drawn as one the user switched off)."""
    return f"{face.index + 1}?" if face.unsure else str(face.index + 1)


class CompareView(QWidget):
    """Shows a photo before and after restoration with a draggable split, zoom and pan."""

    splitChanged = Signal(float)
    zoomChanged = Signal(float)
    viewModeChanged = Signal(str)
    faceToggled = Signal(int)  # a face's number tag clicked: switch it on or off
    faceClicked = Signal(int)  # a click inside a face's box
    boxDrawn = Signal(object)  # Box in photo pixels
    dragOutRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 120)  # (a 1280×720 screen at 200 %: 360 px for the whole window, QA)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._before: QImage | None = None
        self._after: QImage | None = None
        self._faces: list[FaceOutline] = []
        self._split = 0.5
        self._mode: ViewMode = "split"
        self._zoom = 1.0
        self._fit = True
        self._center = QPointF(0.0, 0.0)  # photo coordinates shown at the widget's centre
        self._draw_mode = False
        self._press: QPointF | None = None
        self._press_center = QPointF()
        self._drag: Literal["none", "divider", "pan", "box", "click"] = "none"
        self._box_end: QPointF | None = None
        self._key_box: QRectF | None = None  # a face box placed with the keyboard, in photo pixels
        self._placeholder = "Drop photos here, or use File ▸ Open."
        self._message = ""  # why the photo selected is not shown (it could not be opened)
        self._working: int | None = None  # the face being sampled (detector index)
        self._selected: int | None = None  # the face the seed gallery shows (detector index)
        self._covered_top = 0  # widget pixels at the top that notices floating over the view cover
        self.setAccessibleName(ACCESSIBLE_NAME)
        self._describe()
        # the divider moved by keys is said where they rest (accessibility QA: only the description
        # changed, which screen readers may not read on the focused control)
        self._say_split = when_keys_rest(self, lambda: announce(self, f"Split at {self._split_percent()} %"))

    # ---- content ---------------------------------------------------------------------------
    def set_images(self, before: QImage | None, after: QImage | None = None, *, message: str = "") -> None:
        """Show a new photo (and optionally its result); the view fits it to the window. With no
        photo, ``message`` says why (else the placeholder asks for one)."""
        self._before = before
        self._after = after
        self._message = message
        self._faces = []
        self._key_box = None  # placed on the photo shown before: not carried over to this one
        self._describe()
        self.zoom_fit()

    def set_after(self, after: QImage | None) -> None:
        """Replace the "after" image, keeping zoom and pan (live previews, gallery choices)."""
        self._after = after
        self._describe()
        self.update()

    def message(self) -> str:
        """Why no photo is shown ("" when one is, or when none is selected)."""
        return self._message

    def before_image(self) -> QImage | None:
        return self._before

    def after_image(self) -> QImage | None:
        return self._after

    def set_faces(self, faces: list[FaceOutline]) -> None:
        self._faces = list(faces)
        self.update()

    def set_covered_top(self, pixels: int) -> None:
        """How many pixels at the top of the view notices floating over it cover (0: none): a face
        number tag that would lie under them is drawn just below them (:meth:`_tag_rect`; QA: the
        first face of a family photo could not be switched off while a note was shown)."""
        if pixels != self._covered_top:
            self._covered_top = max(0, int(pixels))
            self.update()

    def set_working_face(self, index: int | None) -> None:
        """Mark the face (by detector index) a run is sampling now; None: no run on this photo."""
        if index != self._working:
            self._working = index
            self.update()

    def working_face(self) -> int | None:
        return self._working

    def set_selected_face(self, index: int | None) -> None:
        """Mark the face (by detector index) the seed gallery shows: a white outline and tag (QA:
        with five faces nothing on the photo said which one the gallery was showing)."""
        if index != self._selected:
            self._selected = index
            self.update()

    def selected_face(self) -> int | None:
        return self._selected

    def set_placeholder(self, text: str) -> None:
        """Text shown when no photo is loaded (first-start guidance, drop hint)."""
        self._placeholder = text
        self._describe()
        self.update()

    # ---- split and view mode ---------------------------------------------------------------
    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        """Place the divider at ``fraction`` of the widget's width (0 = all after, 1 = all before)."""
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction != self._split:
            self._split = fraction
            self._describe()
            self.splitChanged.emit(fraction)
            self.update()

    def view_mode(self) -> ViewMode:
        return self._mode

    def set_view_mode(self, mode: ViewMode) -> None:
        if mode not in ("split", "before", "after"):
            raise ValueError(f"unknown view mode {mode!r}")
        if mode != self._mode:
            self._mode = mode
            self._describe()
            self.viewModeChanged.emit(mode)
            self.update()

    def toggle_whole(self) -> None:
        """Cycle split → whole before → whole after → split."""
        following = {"split": "before", "before": "after", "after": "split"}
        self.set_view_mode(following[self._mode])  # type: ignore[arg-type]

    def divider_x(self) -> float:
        return self._split * self.width()

    def description(self) -> str:
        """What the view shows, in words: its accessible description (what a screen reader says)."""
        if self._before is None:
            return self._message or self._placeholder
        if self._draw_mode:
            return _DRAW_HELP
        if self._after is None:
            return "The photo before restoration; no result yet"
        if self._mode == "before":
            return "The whole photo before restoration"
        if self._mode == "after":
            return "The whole photo after restoration"
        return f"Before on the left, after on the right; split at {self._split_percent()} %"

    def _split_percent(self) -> int:
        return round(self._split * 100)

    def _describe(self) -> None:
        text = self.description()
        if text != self.accessibleDescription():
            self.setAccessibleDescription(text)

    # ---- zoom and pan ----------------------------------------------------------------------
    def zoom(self) -> float:
        return self._zoom

    def zoom_fit(self) -> None:
        """Fit the whole photo in the window (and keep fitting when the window is resized)."""
        self._fit = True
        self._apply_fit()

    def device_zoom(self) -> float:
        """The zoom in the screen's device pixels (what "100 %" means): :meth:`zoom` is in the
        widget's device-independent pixels, two device pixels each on a screen at 200 %."""
        return self._zoom * self.devicePixelRatioF()

    def zoom_actual(self) -> None:
        """Show the photo at 100 %: one photo pixel per screen (device) pixel, so that restored
        detail can be looked at pixel for pixel on a HiDPI screen too (QA)."""
        self.set_zoom(1.0 / self.devicePixelRatioF())

    def set_zoom(self, zoom: float, *, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` keeping the photo point under ``anchor`` (widget coordinates) fixed."""
        zoom = min(_ZOOM_LIMITS[1], max(self._least_zoom(), float(zoom)))
        anchor = anchor if anchor is not None else self._widget_centre()
        fixed = self.widget_to_image(anchor)
        self._fit = False
        self._zoom = zoom
        offset = (anchor - self._widget_centre()) / zoom
        self._set_center(fixed - offset)
        self.zoomChanged.emit(zoom)
        self.update()

    def pan_by(self, dx: float, dy: float) -> bool:
        """Move the photo by (dx, dy) widget pixels, as far as :meth:`_set_center` lets it; whether
        it moved (a photo that fits the view does not: it stays fitted)."""
        return self._pan_to(self._center - QPointF(dx, dy) / self._zoom)

    def _pan_to(self, center: QPointF) -> bool:
        """Show photo point ``center`` in the middle (as far as :meth:`_set_center` lets it); whether
        the photo moved (if it did, the view no longer fits it to the window)."""
        before = QPointF(self._center)
        self._set_center(center)
        if self._center == before:
            return False
        self._fit = False
        self.update()
        return True

    def _set_center(self, center: QPointF) -> None:
        """Show photo point ``center`` in the middle of the view, as far as the photo goes: along a
        side where the photo is larger than the view, the view stays within the photo; along one
        where it is smaller, the photo stays centred (QA: dragged off the view, it left an empty
        canvas that only Fit brought back)."""
        if self._before is not None:
            center = QPointF(self._within(center.x(), self._before.width(), self.width()),
                             self._within(center.y(), self._before.height(), self.height()))
        self._center = center

    def _within(self, value: float, photo_side: int, view_side: int) -> float:
        """``value``, a centre along one side, kept so that the view shows photo on that side."""
        half = view_side / (2.0 * self._zoom)  # half the view, in photo pixels
        if photo_side <= 2.0 * half:
            return photo_side / 2.0
        return min(max(value, half), photo_side - half)

    def image_to_widget(self, point: QPointF) -> QPointF:
        return (point - self._center) * self._zoom + self._widget_centre()

    def widget_to_image(self, point: QPointF) -> QPointF:
        return (point - self._widget_centre()) / self._zoom + self._center

    def image_rect(self) -> QRectF:
        """Where the photo lies in widget coordinates (both sides share it)."""
        if self._before is None:
            return QRectF()
        top_left = self.image_to_widget(QPointF(0.0, 0.0))
        return QRectF(top_left.x(), top_left.y(), self._before.width() * self._zoom,
                      self._before.height() * self._zoom)

    # ---- box drawing -----------------------------------------------------------------------
    def set_draw_mode(self, enabled: bool) -> None:
        """While on, a left-drag draws a box around a face the detector missed; from the keyboard,
        an arrow key places a box, the arrows move it, + and - resize it and Enter adds it."""
        self._draw_mode = bool(enabled)
        self._key_box = None
        self.setCursor(Qt.CursorShape.CrossCursor if enabled else Qt.CursorShape.ArrowCursor)
        self._describe()
        self.update()

    def key_box(self) -> tuple[float, float, float, float] | None:
        """The face box placed with the keyboard (x0, y0, x1, y1 in photo pixels), or None."""
        box = self._key_box
        return None if box is None else (box.left(), box.top(), box.right(), box.bottom())

    # ---- internals -------------------------------------------------------------------------
    def _widget_centre(self) -> QPointF:
        return QPointF(self.width() / 2.0, self.height() / 2.0)

    def _fit_zoom(self) -> float:
        """The zoom at which the whole photo fits the view, with a margin."""
        assert self._before is not None
        margin = 16
        return max(_ZOOM_LIMITS[0], min((self.width() - margin) / self._before.width(),
                                        (self.height() - margin) / self._before.height()))

    def _least_zoom(self) -> float:
        """How far the photo may be zoomed out: a quarter of the zoom that fits it, or of 100 % where
        that is less (touchpad QA: a fling zoomed a 491 px photo to a 10 px speck at 2 %)."""
        if self._before is None:
            return _ZOOM_LIMITS[0]
        return max(_ZOOM_LIMITS[0], min(self._fit_zoom(), 1.0) * _BELOW_FIT)

    def _apply_fit(self) -> None:
        if self._before is None:
            self._zoom, self._center = 1.0, QPointF()
        else:
            self._zoom = self._fit_zoom()
            self._center = QPointF(self._before.width() / 2.0, self._before.height() / 2.0)
        self.zoomChanged.emit(self._zoom)
        self.update()

    def _showing_split(self) -> bool:
        return self._mode == "split" and self._after is not None and self._before is not None

    def _tag_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def _tag_rect(self, face: FaceOutline, metrics: QFontMetrics) -> QRectF:
        """Where a face's number tag is drawn (widget pixels): above its box's top-left corner, as
        wide as its number needs ("118": QA, cut to one digit); where that lies above the view or
        under the notices (:meth:`set_covered_top`) while some of the box is in view, just below
        them, inside the box or, a box the notices cover whole, under it (QA: a small face at the
        photo's top kept its tag out of reach)."""
        corner = self.image_to_widget(QPointF(face.box[0], face.box[1]))
        bottom = self.image_to_widget(QPointF(face.box[2], face.box[3])).y()
        width = max(_TAG_WIDTH, metrics.horizontalAdvance(_tag_text(face)) + 8)
        top = corner.y() - _TAG_HEIGHT
        if bottom > 0:
            top = max(top, float(self._covered_top))
        return QRectF(corner.x(), top, width, _TAG_HEIGHT)

    def _shown_tags(self) -> list[tuple[FaceOutline, QRectF]]:
        """The number tags drawn, each with its place: a tag that would overlap one drawn already is
        left out (a group scan at a small zoom: QA, 120 tags piled up unreadable), the selected
        face's first; zooming in shows the others. Which are drawn does not follow the face being
        sampled, or a tag could move from under the pointer between a press and its release (review)."""
        metrics = QFontMetrics(self._tag_font())
        first = sorted(self._faces, key=lambda face: face.index != self._selected)
        shown: list[tuple[FaceOutline, QRectF]] = []
        for face in first:
            rect = self._tag_rect(face, metrics)
            if not any(rect.intersects(other) for _, other in shown):
                shown.append((face, rect))
        return shown

    def _tag_at(self, widget_point: QPointF) -> FaceOutline | None:
        """The face whose tag (one of those drawn) is at ``widget_point``."""
        return next((face for face, rect in self._shown_tags() if rect.contains(widget_point)), None)

    def _face_at(self, widget_point: QPointF) -> FaceOutline | None:
        p = self.widget_to_image(widget_point)
        for face in self._faces:
            x0, y0, x1, y1 = face.box
            if x0 <= p.x() <= x1 and y0 <= p.y() <= y1:
                return face
        return None

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._fit:
            self._apply_fit()

    def event(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.NativeGesture and self._before is not None:
            return self._gesture(event)
        handled = super().event(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # moved to a screen of another scale:
            self.zoomChanged.emit(self._zoom)  # the same zoom is another share of its pixels (review)
        return handled

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), PHOTO_BACKGROUND)
        if self._before is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect().adjusted(24, 24, -24, -24),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._message or self._placeholder)
        else:
            self._paint_photo(painter)
        if self.hasFocus():
            self._paint_focus_frame(painter)

    def _paint_focus_frame(self, painter: QPainter) -> None:
        """A thin frame in the palette's highlight colour: keys go to this view now."""
        painter.save()
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_FRAME_PX)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = FOCUS_FRAME_PX / 2
        painter.drawRect(QRectF(self.rect()).adjusted(half, half, -half, -half))
        painter.restore()

    def _paint_photo(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.device_zoom() < 2.0)
        target = self.image_rect()
        if self._mode == "after" and self._after is not None:
            painter.drawImage(target, self._after, QRectF(self._after.rect()))
        elif not self._showing_split():
            painter.drawImage(target, self._before, QRectF(self._before.rect()))
        else:
            divider = self.divider_x()
            painter.save()
            painter.setClipRect(QRectF(0, 0, divider, self.height()))
            painter.drawImage(target, self._before, QRectF(self._before.rect()))
            painter.setClipRect(QRectF(divider, 0, self.width() - divider, self.height()))
            painter.drawImage(target, self._after, QRectF(self._after.rect()))
            painter.restore()
        self._paint_labels(painter)
        self._paint_faces(painter, self._result_area())  # (over the divider: it ran through a tag's number, QA)
        if self._drag == "box" and self._press is not None and self._box_end is not None:
            painter.setPen(QPen(QColor(255, 200, 0), 2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)  # an outline: the face inside stays visible
            painter.drawRect(QRectF(self._press, self._box_end).normalized())
        if self._draw_mode and self._key_box is not None:
            painter.setPen(QPen(QColor(255, 200, 0), 2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            corners = (self.image_to_widget(self._key_box.topLeft()), self.image_to_widget(self._key_box.bottomRight()))
            painter.drawRect(QRectF(*corners).normalized())

    def _result_area(self) -> QRectF:
        """Where the "after" image is shown (empty when it is not): faces there are left unframed."""
        if self._after is None or self._before is None or self._mode == "before":
            return QRectF()
        if self._mode == "after":
            return QRectF(self.rect())
        divider = self.divider_x()
        return QRectF(divider, 0, self.width() - divider, self.height())

    def _paint_faces(self, painter: QPainter, result_area: QRectF) -> None:
        """Each face's number tag, and its box where the photo shows its "before" side: a box over
        a restored face would cut across what the user is judging."""
        painter.setFont(self._tag_font())
        tags = dict((face.index, rect) for face, rect in self._shown_tags())
        for face in self._faces:
            x0, y0, x1, y1 = face.box
            rect = QRectF(self.image_to_widget(QPointF(x0, y0)), self.image_to_widget(QPointF(x1, y1)))
            colour = _ENABLED_COLOUR if face.enabled else _DISABLED_COLOUR
            working, selected = face.index == self._working, face.index == self._selected
            colour = _WORKING_COLOUR if working else _SELECTED_COLOUR if selected else colour
            style = (Qt.PenStyle.SolidLine if face.enabled else Qt.PenStyle.DotLine if face.unsure
                     else Qt.PenStyle.DashLine)
            painter.setPen(QPen(colour, 3 if working or selected else 2, style))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.save()
            if not result_area.isEmpty():
                outside = QRegion(self.rect()).subtracted(QRegion(result_area.toAlignedRect()))
                painter.setClipRegion(outside)
            painter.drawRect(rect)
            painter.restore()
            tag = tags.get(face.index)
            if tag is None:  # (its tag would cover another's: left out at this zoom)
                continue
            # on or off by shape and lightness too, not by colour alone (colour-blind QA: light blue
            # and grey were alike to a deutan eye where only the tags are drawn, the after side): a
            # face left off has a hollow tag, dark with a grey edge; every tag a dark edge on light walls
            filled = face.enabled or working or selected
            painter.fillRect(tag, colour if filled else TAG_BACKGROUND)
            painter.setPen(QPen(QColor(0, 0, 0) if filled else colour, 1))
            painter.drawRect(tag.adjusted(0.5, 0.5, -0.5, -0.5))
            painter.setPen(QColor(0, 0, 0) if filled else QColor(230, 230, 230))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, _tag_text(face))

    def _paint_labels(self, painter: QPainter) -> None:
        if self._after is None:
            return
        if self._showing_split():
            divider = self.divider_x()
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.drawLine(QPointF(divider, 0), QPointF(divider, self.height()))
            handle = QRectF(divider - 7, self.height() / 2 - 18, 14, 36)
            painter.setBrush(QColor(255, 255, 255))
            painter.drawRoundedRect(handle, 4, 4)
            self._paint_tag(painter, "Before", left=True)
            self._paint_tag(painter, "After", left=False)
        else:
            self._paint_tag(painter, "Before" if self._mode == "before" else "After", left=True)

    def _paint_tag(self, painter: QPainter, text: str, *, left: bool) -> None:
        """A label on a dark rounded plate in a bottom corner, readable over any photo (the top is
        where notices float over the view)."""
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 16, metrics.height() + 6
        x = 10 if left else self.width() - 10 - width
        plate = QRectF(x, self.height() - 10 - height, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(TAG_BACKGROUND)
        painter.drawRoundedRect(plate, height / 2, height / 2)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(plate, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._before is None:
            return super().mousePressEvent(event)
        pos = event.position()
        self._press, self._press_center = pos, QPointF(self._center)
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and self._after is not None:
            self._drag = "none"
            self.dragOutRequested.emit()
        elif self._draw_mode:
            self._drag, self._box_end = "box", pos
        elif self._on_divider(pos):
            self._drag = "divider"
        else:
            self._drag = "click"

    def _on_divider(self, pos: QPointF) -> bool:
        """Whether ``pos`` (widget pixels) is on the split's divider, near enough to grab it."""
        return self._showing_split() and abs(pos.x() - self.divider_x()) <= _DIVIDER_GRAB_PX

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """A double click zooms to 100 % at the point clicked (a small photo fitted above it: twice
        as close), or back to fit, as photo viewers do
        (desktop QA: it did nothing); not while a face box is drawn, nor on the divider or a face's number."""
        if (event.button() != Qt.MouseButton.LeftButton or self._before is None or self._draw_mode
                or self._on_divider(event.position())
                or self._tag_at(event.position()) is not None):  # (a face's number: its click switched it)
            return super().mouseDoubleClickEvent(event)
        self._drag = "none"
        if self._fit:  # (a small photo, fitted above 100 %, is enlarged further, not shrunk: sceptic QA)
            actual = 1.0 / self.devicePixelRatioF()
            self.set_zoom(actual if self._zoom < actual else 2 * self._zoom, anchor=event.position())
        else:
            self.zoom_fit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drag == "divider":
            self.set_split(pos.x() / max(1, self.width()))
        elif self._drag == "box":
            self._box_end = pos
            self.update()
        elif self._drag in ("click", "pan") and self._press is not None:
            delta = pos - self._press
            if self._drag == "pan" or abs(delta.x()) + abs(delta.y()) > _CLICK_SLOP_PX:
                self._drag = "pan"
                self._pan_to(self._press_center - delta / self._zoom)  # (a photo that fits the view stays fitted)
        elif not self._draw_mode:
            near = self._on_divider(pos)
            tag = None if near else self._tag_at(pos)
            self.setCursor(Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.PointingHandCursor if tag
                           else Qt.CursorShape.ArrowCursor)
            tip = "" if tag is None else (f"Face {tag.index + 1}: "
                                          + ("the detector is unsure it is a face; " if tag.unsure else "")
                                          + f"click to switch it {'off' if tag.enabled else 'on'}")
            if tip != self.toolTip():
                QToolTip.hideText()  # (a shown tip would linger, naming the face left)
                self.setToolTip(tip)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        if self._drag == "click" and self._press is not None:
            tag = self._tag_at(self._press)
            face = self._face_at(self._press) if tag is None else None
            if tag is not None:
                self.faceToggled.emit(tag.index)
            elif face is not None:
                self.faceClicked.emit(face.index)
        elif self._drag == "box" and self._press is not None:
            self._finish_box(event.position())
        self._drag, self._press, self._box_end = "none", None, None
        self.update()

    def _finish_box(self, end: QPointF) -> None:
        assert self._press is not None
        self._emit_box(self.widget_to_image(self._press), self.widget_to_image(end))

    def _emit_box(self, a: QPointF, b: QPointF) -> None:
        """Say that the box with corners ``a`` and ``b`` (photo pixels) was drawn, clipped to the
        photo, unless that leaves it under _MIN_BOX_PX a side."""
        assert self._before is not None
        w, h = self._before.width(), self._before.height()
        x0, x1 = sorted((min(max(a.x(), 0.0), w), min(max(b.x(), 0.0), w)))
        y0, y1 = sorted((min(max(a.y(), 0.0), h), min(max(b.y(), 0.0), h)))
        if x1 - x0 >= _MIN_BOX_PX and y1 - y0 >= _MIN_BOX_PX:
            self.boxDrawn.emit((x0, y0, x1, y1))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Left / Right (with Shift: a larger step), Home / End move the divider while the split
        shows; the arrows with Ctrl, Up / Down and Page Up / Down (and Left / Right without a split)
        pan the photo (QA: a zoomed photo could be panned with the mouse only); any other key, or
        one with Alt, goes on to the parent as before. While the damage brush is on, its overlay
        takes the arrows, with or without Shift, and Space first (:mod:`faceapp.gui.damage_overlay`)."""
        key = event.key()
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if self._draw_mode and self._before is not None and self._key_box_key(key, modifiers):
            event.accept()
            return
        if self._before is not None and self._pan_key(key, modifiers):
            event.accept()
            return
        splitting_keys = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End)
        plain_or_shift = modifiers in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier)
        if key not in splitting_keys or not plain_or_shift or not self._showing_split():
            super().keyPressEvent(event)
            return
        step = _SPLIT_STEP_LARGE if modifiers == Qt.KeyboardModifier.ShiftModifier else _SPLIT_STEP
        if key == Qt.Key.Key_Left:
            target = self._split - step
        elif key == Qt.Key.Key_Right:
            target = self._split + step
        else:
            target = 0.0 if key == Qt.Key.Key_Home else 1.0
        self.set_split(round(target, 6))  # steps land on whole hundredths, not 0.47999…
        self._say_split.start()
        event.accept()

    def _pan_key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        """Panning from the keyboard (see :meth:`keyPressEvent`); whether ``key`` panned."""
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        pages = {Qt.Key.Key_PageUp: -1, Qt.Key.Key_PageDown: 1}
        if modifiers == Qt.KeyboardModifier.ControlModifier and key in arrows:
            (dx, dy), share = arrows[key], _PAN_STEP
        elif modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down) or (key in arrows and not self._showing_split()):
            (dx, dy), share = arrows[key], _PAN_STEP
        elif key in pages:
            (dx, dy), share = (0, pages[key]), _PAN_PAGE
        else:
            return False
        # the key names where the view goes, so the photo moves the other way; a photo that fits
        # the view along that side does not move (and the key goes on to the window)
        return self.pan_by(-dx * share * self.width(), -dy * share * self.height())

    def _key_box_key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        """Drawing a face box from the keyboard (see :meth:`set_draw_mode`); whether ``key`` was one of its keys."""
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        if modifiers not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            return False
        if key not in arrows and self._key_box is None:
            return False
        assert self._before is not None
        box = self._key_box
        if box is None:  # the first arrow key places it in the middle of what is shown
            centre = self.widget_to_image(self._widget_centre())
            seen = min(self.width(), self.height()) / self._zoom
            side = max(_MIN_BOX_PX, _KEY_BOX_START * min(seen, self._before.width(), self._before.height()))
            self._key_box = QRectF(centre.x() - side / 2, centre.y() - side / 2, side, side)
        elif key in arrows:
            share = _KEY_BOX_STEP_LARGE if modifiers == Qt.KeyboardModifier.ShiftModifier else _KEY_BOX_STEP
            dx, dy = arrows[key]
            box.translate(dx * share * box.width(), dy * share * box.height())
            # its centre stays on the photo, so that Enter always has a box on it to add
            centre = box.center()
            box.moveCenter(QPointF(min(max(centre.x(), 0.0), float(self._before.width())),
                                   min(max(centre.y(), 0.0), float(self._before.height()))))
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
            factor = _KEY_BOX_SCALE if key != Qt.Key.Key_Minus else 1 / _KEY_BOX_SCALE
            centre = box.center()
            box.setSize(box.size() * factor)
            box.moveCenter(centre)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._key_box = None
            self._emit_box(box.topLeft(), box.bottomRight())
        else:
            return False
        self.update()
        return True

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        """The mouse wheel zooms about the pointer; a touchpad's two-finger scroll (and its momentum)
        pans, as do a tilt wheel and the wheel with Shift; Ctrl with either zooms (a Windows
        touchpad's pinch comes so). Touchpad QA: scrolling zoomed the photo 4× and on after the
        fingers lifted, and a sideways scroll did nothing."""
        if self._before is None:
            return
        modifiers = event.modifiers()
        pixels, angle = event.pixelDelta(), event.angleDelta()
        touchpad = (not pixels.isNull() or event.phase() != Qt.ScrollPhase.NoScrollPhase
                    or event.pointingDevice().type() == QInputDevice.DeviceType.TouchPad)
        if modifiers & Qt.KeyboardModifier.ControlModifier or not (touchpad or angle.x() or
                                                                  modifiers & Qt.KeyboardModifier.ShiftModifier):
            steps = angle.y() / 120.0
            if steps:
                self.set_zoom(self._zoom * (1.25 ** steps), anchor=event.position())
            return
        if not pixels.isNull():
            dx, dy = float(pixels.x()), float(pixels.y())
        else:
            dx, dy = angle.x() / 120.0 * _WHEEL_PAN_PX, angle.y() / 120.0 * _WHEEL_PAN_PX
        if modifiers & Qt.KeyboardModifier.ShiftModifier and not dx:  # Shift with the wheel: sideways
            dx, dy = dy, 0.0
        self.pan_by(dx, dy)

    def _gesture(self, event: QNativeGestureEvent) -> bool:
        """A touchpad's pinch zooms about the fingers; its smart zoom (a two-finger double tap)
        goes between Fit and 100 % (touchpad QA: a pinch did nothing on macOS and Linux)."""
        kind = event.gestureType()
        if kind == Qt.NativeGestureType.ZoomNativeGesture:
            self.set_zoom(self._zoom * (1.0 + event.value()), anchor=event.position())
        elif kind == Qt.NativeGestureType.SmartZoomNativeGesture:
            if self._fit:
                self.set_zoom(1.0 / self.devicePixelRatioF(), anchor=event.position())
            else:
                self.zoom_fit()
        event.accept()
        return True
