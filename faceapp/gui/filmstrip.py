"""The filmstrip: every loaded photo as a thumbnail with its state (queued, restoring, done…).

One compact row: each cell shows the thumbnail with the photo's name and state beside it; more
photos than fit scroll sideways (the mouse wheel scrolls the strip too). The cells are painted by
hand, so each item also carries its name and state as text for screen readers, and the current
cell is ringed while the strip has keyboard focus.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from faceapp.core.pathtext import path_text
from faceapp.gui.look import FOCUS_FRAME_PX, PHOTO_BACKGROUND, readable_on
from faceapp.gui.photo_words import is_busy_state
from faceapp.gui.url_paths import path_data, path_from_data

_THUMB = QSize(84, 56)
_TEXT_WIDTH_PX = 132
_PADDING_PX = 5
_PATH_ROLE = Qt.ItemDataRole.UserRole
_STATE_ROLE = Qt.ItemDataRole.UserRole + 1
_THUMB_ROLE = Qt.ItemDataRole.UserRole + 2

_CELL_SELECTED = QColor(58, 110, 165)
_CELL_HOVER = QColor(56, 56, 62)
_THUMB_BACKGROUND = QColor(26, 26, 29)
_NAME_COLOUR = QColor(235, 235, 235)
#: A restored photo whose result, as it is now, has been saved (a plain "done" has not).
SAVED_STATE = "done · saved"
#: A restored photo whose faces, damage or settings changed since: a restore would differ (GUI QA: "done"
#: said otherwise than the panel's "changed since this result was made"; newcomer QA: "done · changed"
#: was read as the saved file having changed).
CHANGED_STATE = "done · out of date"
#: What a state means, in the cell's tooltip.
_STATE_MEANINGS = {"done": "Restored, not saved yet.",
                   SAVED_STATE: "Restored, and saved as it is now.",
                   CHANGED_STATE: "Restored, but its faces, damage or the settings changed since: "
                                  "Restore makes it again as things stand. Nothing saved has changed."}
_STATE_COLOURS = {"done": QColor(120, 200, 120), SAVED_STATE: QColor(120, 200, 120), "error": QColor(240, 110, 100),
                  "cancelled": QColor(230, 180, 90), CHANGED_STATE: QColor(230, 180, 90)}
_STATE_BUSY = QColor(110, 180, 250)
_STATE_OTHER = QColor(170, 170, 175)
_FOCUS_RING = QColor(235, 235, 240, 235)  # light: visible on the selected cell's blue too
_FOCUS_RING_PX = 2  # (keyboard QA: at 1 px and half-transparent, hard to find)
_PLACEHOLDER = "Photos you open or drop appear here."
ACCESSIBLE_NAME = "Loaded photos"


def state_colour(state: str) -> QColor:
    """The colour a state is written in: done green, error red, running blue, others grey."""
    if state in _STATE_COLOURS:
        return _STATE_COLOURS[state]
    if is_busy_state(state):
        return _STATE_BUSY
    return _STATE_OTHER


def cell_background(*, selected: bool, hovered: bool) -> QColor:
    """What a cell's text is written on: the selection's blue, the hover's grey, else the strip's."""
    return _CELL_SELECTED if selected else _CELL_HOVER if hovered else PHOTO_BACKGROUND


def state_text_colour(state: str, background: QColor) -> QColor:
    """:func:`state_colour`, lightened where needed to be read on ``background`` (WCAG AA: QA, the
    green "done" on the selected cell's blue was 4.3:1)."""
    return readable_on(state_colour(state), background)


def cell_size(metrics: QFontMetrics) -> QSize:
    """A cell's size with text of ``metrics``: the thumbnail, and beside it two lines of about 16
    characters, 132 px or more (low-vision QA: at a 20 pt font every name read "cf_…jpg")."""
    text_width = max(_TEXT_WIDTH_PX, 16 * metrics.averageCharWidth())
    height = max(_THUMB.height(), 2 * metrics.lineSpacing())
    return QSize(_THUMB.width() + text_width + 3 * _PADDING_PX, height + 2 * _PADDING_PX)


class _CellDelegate(QStyledItemDelegate):
    """Paints one photo: thumbnail on the left, name and coloured state on the right."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        return cell_size(option.fontMetrics)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        cell = option.rect.adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.setBrush(cell_background(selected=selected, hovered=hovered) if selected or hovered
                         else Qt.BrushStyle.NoBrush)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(cell, 5, 5)
        if option.state & QStyle.StateFlag.State_HasFocus:  # the current cell of a focused strip
            painter.setPen(QPen(_FOCUS_RING, _FOCUS_RING_PX))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            half = _FOCUS_RING_PX / 2
            painter.drawRoundedRect(QRectF(cell).adjusted(half, half, -half, -half), 5, 5)

        thumb_box = QRect(option.rect.left() + _PADDING_PX, option.rect.top() + _PADDING_PX,
                          _THUMB.width(), _THUMB.height())
        painter.fillRect(thumb_box, _THUMB_BACKGROUND)
        pixmap = index.data(_THUMB_ROLE)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            size = pixmap.deviceIndependentSize().toSize()
            painter.drawPixmap(thumb_box.left() + (thumb_box.width() - size.width()) // 2,
                               thumb_box.top() + (thumb_box.height() - size.height()) // 2, pixmap)
        state = str(index.data(_STATE_ROLE) or "")
        if state == "error":  # found at a glance by its shape, not only its red (colour-blind QA: a
            # failed photo was a blank black box among 27, its word the olive of "done" to a deutan eye)
            has_thumbnail = isinstance(pixmap, QPixmap) and not pixmap.isNull()
            side = min(thumb_box.width(), thumb_box.height()) // (3 if has_thumbnail else 2)
            mark = QRect(0, 0, side, side)
            if has_thumbnail:
                mark.moveTopLeft(thumb_box.topLeft() + QPoint(2, 2))
            else:
                mark.moveCenter(thumb_box.center())
            style = option.widget.style() if option.widget is not None else QApplication.style()
            style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).paint(painter, mark)

        text_left = thumb_box.right() + _PADDING_PX + 1
        text_width = option.rect.right() - _PADDING_PX - text_left
        metrics = option.fontMetrics
        line = metrics.lineSpacing()
        top = option.rect.top() + (option.rect.height() - 2 * line) // 2
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(_NAME_COLOUR)
        painter.drawText(QRect(text_left, top, text_width, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, text_width))
        painter.setFont(option.font)
        painter.setPen(state_text_colour(state, cell_background(selected=selected, hovered=hovered)))
        painter.drawText(QRect(text_left, top + line, text_width, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(state, Qt.TextElideMode.ElideRight, text_width))
        painter.restore()


class Filmstrip(QListWidget):
    """A horizontal strip of photos; selecting one shows it. Keys are photo paths.

    Dragging a photo out does not drag a file itself: it emits :attr:`dragOutRequested`, and the
    window decides what file (if any) shows that photo as it is now.
    """

    photoSelected = Signal(object)  # Path
    dragOutRequested = Signal(object)  # Path

    def keyboardSearch(self, search: str) -> None:  # noqa: N802 (Qt override)
        """No type-to-search: the window's one-letter shortcuts (E, B, P, …) reach the strip while
        their action is off, and a jump to the photo named with that letter was taken for the
        shortcut (QA: a user then painted on the wrong photo)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setItemDelegate(_CellDelegate(self))
        self.setMouseTracking(True)  # hover highlight
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, PHOTO_BACKGROUND)
        self.setPalette(palette)
        self.setToolTip("Loaded photos. Drag a restored photo out to save it elsewhere.")
        self.setAccessibleName(ACCESSIBLE_NAME)
        self._fit_height()
        self._items: dict[Path, QListWidgetItem] = {}
        self._thumbnails: dict[Path, QImage] = {}
        self.currentItemChanged.connect(self._on_current_changed)
        self._describe()

    def _fit_height(self) -> None:
        """As high as a cell with this font, and the scroll bar."""
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.setFixedHeight(cell_size(self.fontMetrics()).height() + scroll_bar + 2 * self.frameWidth() + 2)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # (the cells grow with the font: low-vision QA)
            self._fit_height()
            self.scheduleDelayedItemsLayout()

    def add_photo(self, path: Path, thumbnail: QImage | None = None) -> None:
        """Add ``path`` (a no-op if it is already there) with an optional thumbnail."""
        if path in self._items:
            return
        item = QListWidgetItem(path_text(path.name))  # (a name that is not UTF-8 shows its bytes: caf\xe9.jpg)
        item.setData(_PATH_ROLE, path_data(path))
        item.setData(Qt.ItemDataRole.AccessibleDescriptionRole, path_text(path))
        self._label(item, path, "")
        self._items[path] = item
        self.addItem(item)
        self._describe()
        if thumbnail is not None:
            self.set_thumbnail(path, thumbnail)

    def set_thumbnail(self, path: Path, thumbnail: QImage) -> None:
        """Show ``thumbnail`` (any size; scaled to fit the cell) for ``path``."""
        item = self._items.get(path)
        if item is None or self._thumbnails.get(path) is thumbnail:
            return
        self._thumbnails[path] = thumbnail
        self._draw_thumbnail(item, thumbnail)

    def _draw_thumbnail(self, item: QListWidgetItem, thumbnail: QImage) -> None:
        """Give ``item`` its thumbnail at the screen's resolution."""
        ratio = self.devicePixelRatioF()
        scaled = thumbnail.scaled(_THUMB * ratio, Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
        pixmap = QPixmap.fromImage(scaled)
        pixmap.setDevicePixelRatio(ratio)
        item.setData(_THUMB_ROLE, pixmap)

    def event(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        handled = super().event(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # moved to a screen of another scale: the
            for path, thumbnail in self._thumbnails.items():    # thumbnails drawn for it (portability QA:
                if (item := self._items.get(path)) is not None:  # blurry on a Retina screen)
                    self._draw_thumbnail(item, thumbnail)
        return handled

    def set_state(self, path: Path, state: str) -> None:
        """Show a short state beside the photo's name ("queued", "restoring 40 %", "done"…)."""
        item = self._items.get(path)
        if item is not None:
            item.setData(_STATE_ROLE, state)
            self._label(item, path, state)

    @staticmethod
    def _label(item: QListWidgetItem, path: Path, state: str) -> None:
        """What a cell says besides its painting: the tooltip, and the accessible text a screen
        reader reads (the name and the state the cell shows)."""
        shown, name = path_text(path), path_text(path.name)
        meaning = _STATE_MEANINGS.get(state)
        told = f"{state}: {meaning}" if meaning else state
        item.setToolTip(f"{shown}\n{told}" if state else shown)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{name}, {state}" if state else name)  # (short, as read in a list)

    def _describe(self) -> None:
        """The strip's accessible description: how many photos it holds, or the hint painted when empty."""
        count = self.count()
        self.setAccessibleDescription(_PLACEHOLDER if count == 0 else f"{count} photo{'s' if count > 1 else ''}")

    def state_text(self, path: Path) -> str:
        item = self._items.get(path)
        return str(item.data(_STATE_ROLE) or "") if item is not None else ""

    def select(self, path: Path) -> None:
        item = self._items.get(path)
        if item is not None:
            self.setCurrentItem(item)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        """Keep the photo shown in sight when the strip narrows (QA: a smaller window scrolled the
        selected photo out of view)."""
        super().resizeEvent(event)
        narrower = event.oldSize().width() > event.size().width()  # (a scroll of the user's is kept otherwise)
        if narrower and self.currentItem() is not None:
            self.scrollToItem(self.currentItem(), QAbstractItemView.ScrollHint.EnsureVisible)

    def paths(self) -> list[Path]:
        return list(self._items)

    def remove_photo(self, path: Path) -> None:
        item = self._items.pop(path, None)
        self._thumbnails.pop(path, None)
        if item is not None:
            self.takeItem(self.row(item))
            self._describe()

    def startDrag(self, _supported_actions: Qt.DropAction) -> None:  # noqa: N802 (Qt override)
        """A drag gesture on a photo: ask the window to drag its result out."""
        item = self.currentItem()
        if item is not None:
            self.dragOutRequested.emit(path_from_data(item.data(_PATH_ROLE)))

    def focusInEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().focusInEvent(event)
        self.viewport().update()  # (an empty strip shows the focus as a frame: paintEvent)

    def focusOutEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().focusOutEvent(event)
        self.viewport().update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() in (Qt.MouseButton.BackButton, Qt.MouseButton.ForwardButton):
            event.ignore()  # (the window's: previous and next photo)
            return
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(_STATE_OTHER)
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, _PLACEHOLDER)
            if self.hasFocus():  # (no cell to ring: the strip itself, keyboard QA saw no sign of the focus)
                painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_FRAME_PX))
                painter.drawRect(self.viewport().rect().adjusted(1, 1, -1, -1))
            painter.end()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        """A vertical wheel scrolls the one-row strip sideways."""
        delta = event.angleDelta()
        if delta.y() and not delta.x():
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - delta.y())
            event.accept()
            return
        super().wheelEvent(event)

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.photoSelected.emit(path_from_data(current.data(_PATH_ROLE)))
