"""Non-modal messages: a stack of banners floating over the top of the photo, each with an optional
next step."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QEvent, QObject, QPointF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from faceapp.core import errors
from faceapp.core.memory import MemoryBudgetError
from faceapp.gui.announcer import announce
from faceapp.gui.look import TEXT_CONTRAST, contrast_ratio
from faceapp.gui.plain_label import PlainLabel

log = logging.getLogger(__name__)

Level = Literal["info", "warning", "error"]
#: Next steps the window knows how to take when a banner's button is pressed.
Action = Literal["models", "settings", "open", "log", "save_as", "export_all", "draw_box", "open_folder", "load_mask"]

#: Each level's banner colour and text colour.
_COLOURS = {"info": ("#24425e", "#f0f0f0"), "warning": ("#6b5313", "#fff6dc"), "error": ("#6e2323", "#ffecec")}
_STYLES = {level: f"background:{back}; color:{text};" for level, (back, text) in _COLOURS.items()}
#: The pointer's events a banner passes on to the photo under it while it steps aside.
_PASSED_ON = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
                        QEvent.Type.MouseButtonRelease})
_INFO_TIMEOUT_MS = 6000
_READING_MS_PER_CHARACTER = 60  # about 200 words a minute, for what is longer than a glance
#: The stack is at most this many one-line banners tall; longer stacks (or long texts) scroll.
_MAX_SHOWN_LINES = 4
CLOSE_NAME = "Close notice"
_FLOAT_MARGIN = 6  # px between a floating stack and the edges of the view it floats over


#: How often an info notice held by the pointer or the keyboard looks again whether it may go.
_INFO_RECHECK_MS = 1000


def info_timeout_ms(text: str) -> int:
    """How long an info notice stays: 6 s, and time to read what is longer than about 80 characters."""
    return _INFO_TIMEOUT_MS + _READING_MS_PER_CHARACTER * max(0, len(text) - 80)


@dataclass(frozen=True)
class Notice:
    """One message: what happened, in words a user can act on, and the button for the next step."""

    text: str
    level: Level = "info"
    action: Action | None = None
    action_label: str = ""
    subject: Any = None  # what the action is about (e.g. a photo's path); None: whatever is shown


def error_sentence(error: BaseException) -> str:
    """The error as a sentence (:func:`sentence`)."""
    return sentence(str(error) or type(error).__name__)


def sentence(text: str) -> str:
    """``text`` (a core message, worded to follow a CLI's "error: " or "note: ") as a sentence:
    capitalised, unless it begins with a file name or path (whose case is the file's)."""
    first = text.split(" ", 1)[0].rstrip(".:,;")
    if "." in first or "/" in first or "\\" in first:
        return text
    return text[:1].upper() + text[1:]


def notice_for_error(error: BaseException) -> Notice:
    """The banner for an error: the core's message, as a sentence (copy QA: a device's and a face
    box's began in lower case), plus the next step that fits its kind."""
    text = error_sentence(error)
    if isinstance(error, errors.ModelError) and error.missing is not None:  # in the window's words
        title, files = error.missing  # (QA: the message told a window user to type faceapp-cli commands)
        return Notice(f"The model {title} cannot be used: {files}. Download it, or import its files, in Models…",
                      "error", "models", "Manage models…")
    if isinstance(error, errors.ModelError):
        return Notice(text, "error", "models", "Manage models…")
    if isinstance(error, (errors.OutOfMemoryError, MemoryBudgetError)):  # (its ways out: Settings' upscale,
        return Notice(text, "error", "settings", "Settings…")  # seeds, 16 bits; memory QA: "Open another…")
    if isinstance(error, errors.DeviceError):
        return Notice(text, "error", "settings", "Settings…")
    if isinstance(error, errors.NoFaceFoundError):
        return Notice(f"{text} Draw a box around a face (Edit ▸ Draw face box), then press Restore.",
                      "warning", "draw_box", "Draw face box", getattr(error, "path", None))
    if isinstance(error, (errors.MaskError, errors.FaceGeometryError)):  # a mask file, a face box: no "Open
        return Notice(text, "error", subject=getattr(error, "path", None))  # another…" (QA)
    if isinstance(error, errors.ImageError):  # its subject: the photo that could not be opened, if one
        return Notice(text, "error", "open", "Open another…", getattr(error, "path", None))
    if isinstance(error, errors.FaceappError):
        return Notice(text, "error")
    return Notice(f"Unexpected error: {text}. The log file has the details.", "error", "log",
                  "Show log")


_LEVEL_ICONS = {"info": QStyle.StandardPixmap.SP_MessageBoxInformation,
                "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
                "error": QStyle.StandardPixmap.SP_MessageBoxCritical}


def see_through_background(level: Level) -> QColor:
    """A banner's background while a tool works on the photo (:meth:`NotificationArea.step_aside`):
    its colour as translucent as it may be for its text to keep WCAG's 4.5:1 over a white photo
    (73–84 % opaque; at 59 % a bright photo under it left the text at 2.6:1)."""
    back, text = (QColor(c) for c in _COLOURS[level])
    for alpha in range(256):
        weight = alpha / 255
        over_white = QColor(*(round(c * weight + 255 * (1 - weight)) for c in (back.red(), back.green(), back.blue())))
        if contrast_ratio(text, over_white) >= TEXT_CONTRAST:
            return QColor(back.red(), back.green(), back.blue(), alpha)
    return back


def _is_escape(event: QKeyEvent) -> bool:
    return event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier


class _Banner(QFrame):
    closed = Signal(object)
    actionTriggered = Signal(str, object)  # action, subject

    def __init__(self, notice: Notice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notice = notice
        self.setObjectName("notice")
        self.setAccessibleName({"info": "Notice", "warning": "Warning", "error": "Error"}[notice.level])
        self.setAccessibleDescription(notice.text)
        label = PlainLabel(notice.text)
        label.setWordWrap(True)
        label.setStyleSheet(_STYLES[notice.level] + "background: transparent;")
        self._label = label
        # the level by shape too, the style's (i), (!) and (x): warnings and errors were told apart by
        # their colours alone, olive-brown both to a deutan eye (colour-blind QA)
        self.level_icon = QLabel()
        side = label.fontMetrics().height()
        self.level_icon.setPixmap(self.style().standardIcon(_LEVEL_ICONS[notice.level]).pixmap(side, side))
        self.level_icon.setStyleSheet("background: transparent;")
        self.level_icon.setAccessibleName({"info": "Information", "warning": "Warning", "error": "Error"}[notice.level])
        # (accessibility QA: an image without a name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.level_icon)
        layout.addWidget(label, 1)
        if notice.action:
            button = QPushButton(notice.action_label or "Fix…")
            button.clicked.connect(lambda: self.actionTriggered.emit(notice.action, notice.subject))
            layout.addWidget(button)
        dismiss = QPushButton("✕")
        dismiss.setFlat(True)
        # in the banner's text colour (the style's dark ✕ hardly showed on its dark red), and, flat,
        # it showed nothing when the keyboard reached it (QA): a frame while it has the focus
        dismiss.setStyleSheet(f"QPushButton {{ color: {_COLOURS[notice.level][1]}; border: 1px solid transparent; }}"
                              " QPushButton:focus { border: 1px solid palette(highlight); border-radius: 3px; }")
        dismiss.setToolTip(CLOSE_NAME)
        dismiss.setAccessibleName(CLOSE_NAME)  # else a screen reader reads out the symbol
        dismiss.setFixedWidth(28)
        dismiss.clicked.connect(lambda: self.closed.emit(self))
        layout.addWidget(dismiss)
        for button in self.findChildren(QPushButton):  # (a tool's cross cursor is for the photo)
            button.setCursor(Qt.CursorShape.ArrowCursor)
        self.set_see_through(False)

    def event(self, event: QEvent) -> bool:
        """Esc with the keyboard in the banner (its text or a button) closes it, before the window's
        Esc of Cancel can stop a restore (desktop QA: a notice reached with Tab could not be dismissed
        by Esc, as every other transient message can)."""
        if event.type() == QEvent.Type.ShortcutOverride and _is_escape(event):
            event.accept()
            return True
        if event.type() == QEvent.Type.KeyPress and _is_escape(event):
            self.closed.emit(self)
            return True
        return super().event(event)

    def set_see_through(self, on: bool) -> None:
        """Let the photo show through the banner's background (its text and buttons stay solid), and
        the pointer's moves without a button reach the stack it is in (Qt drops them at a widget
        that does not track the mouse: review, the brush's ring went out over the banners)."""
        self.setMouseTracking(on)
        self._label.setMouseTracking(on)
        # its text may be selected and copied (desktop QA: an error could not be copied into a bug
        # report), except while the photo under it takes the pointer
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction if on
                                            else Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        back, text = _COLOURS[self.notice.level]
        if on:
            colour = see_through_background(self.notice.level)
            back = f"rgba({colour.red()}, {colour.green()}, {colour.blue()}, {colour.alpha()})"
        self.setStyleSheet(f"QFrame#notice {{background:{back}; color:{text}; border-radius:4px;}}"
                           " QLabel { background: transparent; color: inherit; }")

    def line_height(self) -> int:
        """The banner's height were its text one line long: the least room the stack shrinks to."""
        margins = self.layout().contentsMargins()
        rows = [self._label.fontMetrics().lineSpacing()]
        rows += [button.sizeHint().height() for button in self.findChildren(QPushButton)]
        return margins.top() + margins.bottom() + max(rows)


class NotificationArea(QScrollArea):
    """Shows notices stacked top to bottom, the newest last; info notices go away by themselves.

    The stack sits in a scroll area so that it never makes the window taller. A plain stack of
    banners raises the window's minimum height by each banner's full, word-wrapped height (three
    long ones forced a 701 px tall window, more than a 720 px screen leaves for it), and the window
    manager then grows the window or pushes it off the screen. Here, with room to spare the area is
    as tall as its banners (at most :data:`_MAX_SHOWN_LINES` one-line banners, so notices never
    crowd out the photo); in a small window it shrinks to one line and scrolls, like a message
    tray, with the newest notice in view. At most ``max_visible`` notices are kept, the oldest
    dropped first (the one most likely stale); an empty area takes no room at all. The window makes
    it float over the top of the photo instead (:meth:`float_over`), so that nothing moves as
    notices come and go; then it is at most half the photo view tall, and only its banners cover it.
    """

    actionTriggered = Signal(str, object)  # action, subject
    #: each notice as it is shown (a Notice), for a log of them (:mod:`faceapp.gui.message_log`)
    shown = Signal(object)
    #: floating (float_over): how many pixels at the top of the host the banners cover now (0: none)
    coveredChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, max_visible: int = 3,
                 actions: frozenset[str] | None = None) -> None:
        """``actions``: the notices' next steps this area's owner carries out (None: every one); a
        notice whose step is not among them shows no button (a button that did nothing misleads)."""
        self._host: QWidget | None = None  # the widget it floats over (float_over), or None: in a layout
        self._covered = 0  # what coveredChanged said last
        self._aside = False  # step_aside: the pointer's events reach the photo under the banners
        self._passed_to: QWidget | None = None  # where a press on a banner went, for its drag and release
        super().__init__(parent)
        self._actions = actions
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)  # never taller than its banners
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Tab stop of its own: tabbing to a button scrolls to it
        self.setAccessibleName("Notices")
        stack = QWidget()
        self._layout = QVBoxLayout(stack)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.setWidget(stack)
        stack.installEventFilter(self)  # (step_aside: what the banners' text does not take reaches it)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(lambda _low, _high: self._show_newest())
        self._max_visible = max_visible
        self._banners: list[_Banner] = []
        self._shown_photo: Any = None  # the photo shown (show_photo): notes about another stay out of sight
        self.setVisible(False)

    # ---- floating over the photo --------------------------------------------------------------
    def float_over(self, host: QWidget) -> None:
        """Float over the top of ``host`` (the photo view) instead of taking room in a layout: in a
        layout each notice that came or went moved the photo, rescaled it at Fit, and moved it under
        a brush stroke or a divider drag (QA). As tall as in a layout, at most half the host."""
        self._host = host
        self.setParent(host)
        # A click on a banner is the banner's: passed on, it reached the photo under it and switched
        # off faces that could not be seen (QA)
        self.setAttribute(Qt.WidgetAttribute.WA_NoMousePropagation)
        for surface in (self, self.viewport(), self.widget()):  # only the banners cover the photo
            surface.setAutoFillBackground(False)
        self.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }")
        host.installEventFilter(self)
        self._place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._host and event.type() == QEvent.Type.Resize:
            self._place()
        elif watched is self.widget() and self._aside and self._host is not None:
            if event.type() in _PASSED_ON:
                return self._pass_on(event)
            if (event.type() == QEvent.Type.Leave and self._passed_to is not None
                    and QApplication.mouseButtons() == Qt.MouseButton.NoButton):  # (not while a stroke goes on)
                QApplication.sendEvent(self._passed_to, QEvent(QEvent.Type.Leave))  # (a brush ring left behind)
                self._passed_to = None
        return super().eventFilter(watched, event)

    # ---- stepping aside for a tool that works on the photo ------------------------------------
    def step_aside(self, on: bool) -> None:
        """While a tool works on the photo (the damage brush, a face box), the banners step aside:
        the photo shows through them, and a press, drag or hover on one, off its buttons, reaches
        the photo under it; an info notice goes on time even with the pointer painting over it.
        QA: at 1366×768 three banners covered the top quarter of the photo, where brush strokes
        painted nothing and said nothing, and one kept itself up while the pointer rested there."""
        on = bool(on)
        if on == self._aside:
            return
        self._aside = on
        self.widget().setMouseTracking(on)  # (the brush's ring follows the pointer over the banners)
        for banner in self._banners:
            banner.set_see_through(on)
        if on and self._host is not None:  # the tool's cursor over the banners too, from the first move
            self.widget().setCursor(self._beneath(QPointF(self._host.rect().center())).cursor())
        else:
            self.widget().unsetCursor()
            self._passed_to = None

    def stepped_aside(self) -> bool:
        return self._aside

    def _pass_on(self, event: QMouseEvent) -> bool:
        """Send ``event`` (the pointer's, on the banners) to what lies under the banners at its
        place: a press's drag and release follow it there, wherever the pointer goes (review: a
        stroke let go above the photo never ended). A press on a banner's button that the button
        does not take (a right click) is the banner's: it erased the photo under a close button."""
        host = self._host
        assert host is not None
        at = self.widget().mapTo(host, event.position())
        pressed = event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick)
        if pressed and isinstance(self.widget().childAt(event.position().toPoint()), QPushButton):
            return True
        hover = event.type() == QEvent.Type.MouseMove and event.buttons() == Qt.MouseButton.NoButton
        if pressed or hover or self._passed_to is None:
            self._passed_to = self._beneath(at)
        target = self._passed_to
        passed = QMouseEvent(event.type(), target.mapFrom(host, at), event.globalPosition(), event.button(),
                             event.buttons(), event.modifiers())
        QApplication.sendEvent(target, passed)
        self.widget().setCursor(target.cursor())
        return True

    def _beneath(self, at) -> QWidget:
        """The host's topmost child that takes the pointer at ``at`` (host pixels), or the host."""
        host = self._host
        assert host is not None
        for child in reversed(host.children()):
            if (isinstance(child, QWidget) and child is not self and child.isVisible()
                    and not child.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
                    and child.geometry().contains(at.toPoint())):
                return child
        return host

    def _place(self) -> None:
        host = self._host
        if host is None:
            return
        width = max(0, host.width() - 2 * _FLOAT_MARGIN)
        tallest = min(_MAX_SHOWN_LINES * self._line_height(), max(self._line_height(), host.height() // 2))
        content = self._content_height(width)
        # A scroll bar only where the banners are taller than the room: one left from a moment
        # without room narrowed the text into a line more than the height made for it, and the
        # bar stayed (QA: a 3-line notice shown 2.3 lines high, with a bar, under ample room).
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if content > tallest
                                        else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # whole banners, up to half a line over the height made for them (else two two-line banners, a
        # spacing over four lines, would show one: less text than before)
        room = min(tallest + self._line_height() // 2, max(0, host.height() - 2 * _FLOAT_MARGIN))
        height = content if content <= room else self._whole_banners_height(width - self._bar_width(), room)
        self.setGeometry(_FLOAT_MARGIN, _FLOAT_MARGIN, width, height)
        self.raise_()
        covered = _FLOAT_MARGIN + self.height() if self.isVisibleTo(host) else 0
        if covered != self._covered:
            self._covered = covered
            self.coveredChanged.emit(covered)

    def _whole_banners_height(self, width: int, tallest: int) -> int:
        """The height, at most ``tallest``, of the newest banners that fit whole, scrolled to the
        newest (HiDPI QA: on a small screen the area, scrolled to the end, cut the older banner's
        first line in half); the newest alone when even it does not fit."""
        heights = [banner.heightForWidth(width) if banner.hasHeightForWidth() else banner.sizeHint().height()
                   for banner in self._banners if banner.isVisibleTo(self.widget())]
        if not heights:
            return 0
        height = min(heights[-1], tallest)
        for banner_height in reversed(heights[:-1]):
            if height + self._layout.spacing() + banner_height > tallest:
                break
            height += self._layout.spacing() + banner_height
        return height

    # ---- size: as tall as the banners when there is room, one line when there is not ----------
    def _content_height(self, width: int | None = None) -> int:
        stack = self.widget()
        width = self.viewport().width() if width is None else width
        if stack.hasHeightForWidth() and width > 0:
            return stack.heightForWidth(width)
        return stack.sizeHint().height()

    def _line_height(self) -> int:
        return max((banner.line_height() for banner in self._banners), default=0)

    def _bar_width(self) -> int:
        return self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        tallest = _MAX_SHOWN_LINES * self._line_height()
        return QSize(self.minimumSizeHint().width(), min(self._content_height(), tallest))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        width = self.widget().minimumSizeHint().width() + self._bar_width()
        return QSize(width, min(self._content_height(), self._line_height()))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_icons()
        if event.size().width() != event.oldSize().width() and self._host is None:
            self.updateGeometry()  # word-wrapped banners are taller when narrower

    def _fit_icons(self) -> None:
        """A banner's level icon makes way for its text and buttons where the area is too narrow for
        all three (at the window's least width it pushed the ✕ out of sight); its colour still tells
        the level there."""
        room = self.viewport().width()
        for banner in self._banners:
            icon = banner.level_icon
            taken = icon.sizeHint().width() + banner.layout().spacing()
            without = banner.minimumSizeHint().width() - (taken if icon.isVisibleTo(banner) else 0)
            icon.setVisible(without + taken <= room)

    def _show_newest(self) -> None:
        """Scroll the newest notice into view: its end, or, when it is taller than the area (a long
        text in a small window), its middle, where its buttons are (QA: at the window's least size
        the end of an eight-line banner showed, its "Show log" and close buttons out of view)."""
        bar = self.verticalScrollBar()
        taller = self._banners[-1].height() - self.viewport().height() if self._banners else 0
        bar.setValue(bar.maximum() - max(0, taller) // 2)

    def show_notice(self, notice: Notice) -> None:
        log_level = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
        log.log(log_level[notice.level], "notice: %s", notice.text)
        if notice.action is not None and self._actions is not None and notice.action not in self._actions:
            notice = replace(notice, action=None, action_label="")
        self.shown.emit(notice)
        for again in [b for b in self._banners if b.notice == notice]:  # said again: moved to the end, once
            self._remove(again)
        banner = _Banner(notice, self)
        banner.set_see_through(self._aside)
        banner.closed.connect(self._remove)
        banner.actionTriggered.connect(self.actionTriggered)
        self._banners.append(banner)
        self._layout.addWidget(banner)
        banner.setVisible(self._in_sight(notice))
        while len(self._banners) > self._max_visible:  # the oldest out of sight first, then the oldest
            self._remove(next((b for b in self._banners if not self._in_sight(b.notice)), self._banners[0]))
        self._changed()
        if banner.isVisibleTo(self):  # said by a screen reader, wherever the keyboard is (an error at once)
            announce(self, notice.text if notice.level == "info" else f"{notice.level.capitalize()}: {notice.text}",
                     urgent=notice.level == "error")
        if notice.level == "info":
            QTimer.singleShot(info_timeout_ms(notice.text), banner, lambda: self._expire(banner))

    def _expire(self, banner: _Banner) -> None:
        """An info notice's time is up: it goes, unless the pointer is on it or the keyboard in it,
        where it waits until they leave (QA: it went while its button was being reached with Tab).
        A pointer painting through it (:meth:`step_aside`) does not hold it."""
        focused = QApplication.focusWidget()
        pointer = not self._aside and banner.rect().contains(banner.mapFromGlobal(QCursor.pos()))  # (underMouse
        # can stay set when the pointer left without a Leave event: QA, a test's pointer held a later notice)
        if (banner.isVisible() and pointer) or (focused is not None and banner.isAncestorOf(focused)):
            QTimer.singleShot(_INFO_RECHECK_MS, banner, lambda: self._expire(banner))
        else:
            self._remove(banner)

    def show_error(self, error: BaseException) -> None:
        self.show_notice(notice_for_error(error))

    def info(self, text: str) -> None:
        self.show_notice(Notice(text, "info"))

    def notices(self) -> list[Notice]:
        return [banner.notice for banner in self._banners]

    def notices_in_sight(self) -> list[Notice]:
        """The notices shown with the photo shown now (:meth:`show_photo`)."""
        return [banner.notice for banner in self._banners if self._in_sight(banner.notice)]

    def withdraw(self, action: Action, subject: Any) -> None:
        """Take down the notices about ``subject`` whose next step is ``action``: it has been taken."""
        for banner in [b for b in self._banners if (b.notice.action, b.notice.subject) == (action, subject)]:
            self._remove(banner)

    def take_down(self, text: str, subject: Any = None) -> None:
        """Take down the notices saying ``text`` about ``subject`` (a hint whose moment has passed;
        review: two photos of one name in two folders say the same words)."""
        for banner in [b for b in self._banners if (b.notice.text, b.notice.subject) == (text, subject)]:
            self._remove(banner)

    def dismiss_newest(self) -> bool:
        """Close the newest notice in sight (the window's Esc, when no tool or full screen has it);
        False when none is in sight."""
        shown = [banner for banner in self._banners if self._in_sight(banner.notice)]
        if shown:
            self._remove(shown[-1])
        return bool(shown)

    def clear(self) -> None:
        for banner in list(self._banners):
            self._remove(banner)

    def forget(self, subject: Any) -> None:
        """Take down every notice about ``subject`` (a photo taken off the filmstrip: review, its
        hidden notes had come back when it was opened again)."""
        for banner in [b for b in self._banners if b.notice.subject == subject]:
            self._remove(banner)

    def show_photo(self, photo: Any) -> None:
        """``photo`` is the one shown now: warnings and notes about another photo (a notice's
        subject) wait out of sight until theirs is shown again (QA: one photo's "damage hides
        features" stayed over the next photo, where the user was about to paint). Errors stay in
        sight whatever is shown: a photo that could not be opened is said however it was added."""
        self._shown_photo = photo
        for banner in self._banners:
            banner.setVisible(self._in_sight(banner.notice))
        self._changed()

    def _in_sight(self, notice: Notice) -> bool:
        return (notice.level == "error" or not isinstance(notice.subject, Path)
                or self._shown_photo is None or notice.subject == self._shown_photo)

    def _remove(self, banner: _Banner) -> None:
        if banner in self._banners:
            focused = QApplication.focusWidget()
            if self._host is not None and focused is not None and banner.isAncestorOf(focused):
                self._host.setFocus()  # the keyboard goes back to the photo, not to the next widget in Tab order
            self._banners.remove(banner)
            banner.hide()
            self._layout.removeWidget(banner)
            banner.deleteLater()
            self._changed()

    def _changed(self) -> None:
        self.setVisible(any(self._in_sight(banner.notice) for banner in self._banners))
        self._fit_icons()
        if self._host is not None:
            QTimer.singleShot(0, self, self._place)  # once the banner's own layout has its size
            self._place()
        else:
            self.updateGeometry()
