"""The fidelity ↔ realism slider: its ends labelled in words, the current value in bold between
them (a word and the number the CLI's ``--fidelity`` takes); the start timestep is in its tooltip,
and a reset button brings it back to the model's own default fidelity. Where the model's card says
it stops working well (its manifest's ``[fidelity_range]``), the groove is underlined from there to
the realistic end, and a value there is shown in the caution colour with the reason. Where the
panel is too narrow for the words, the value is shown as its number alone (the words stay in its
tooltip and in what screen readers are told)."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QLineF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QStylePainter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.manifest import FidelityRange
from faceapp.core.schedule import fidelity_to_timestep
from faceapp.core.settings import DEFAULT_FIDELITY
from faceapp.gui.announcer import announce, when_keys_rest
from faceapp.gui.look import FOCUS_FRAME_PX, caution_colour

_WORDS = ((0.85, "Very faithful"), (0.6, "Faithful"), (0.4, "Balanced"), (0.15, "Realistic"),
          (-1.0, "Very realistic"))


def fidelity_words(fidelity: float) -> str:
    """A word for a fidelity value: 1 is "Very faithful", 0 "Very realistic"."""
    return next(word for threshold, word in _WORDS if fidelity >= threshold)


class _RangeSlider(QSlider):
    """A horizontal slider that underlines its groove below :attr:`caution_below` (a slider value)
    down to the minimum: the part where the model is not known to work well; framed in the highlight
    colour while it has the keyboard (keyboard QA: the style's own focus mark was a faint 1 px
    outline)."""

    caution_below: int | None = None  # slider values below it are cautioned

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        # The value is the fidelity ×100, what a screen reader reads and sets ("80" for 0.80), with
        # its maximum on the left (the faithful end, left to right); Left / Right follow the handle
        # (keyPressEvent), Up, Page Up and the wheel raise the value, as on any slider
        self.setInvertedAppearance(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        """Home / End go to the faithful / realistic end as before (Qt sends them to the minimum /
        maximum value, which are now the other way round). Left / Right follow the handle; Up /
        Page Up raise the value (more faithful) and Down / Page Down lower it, as on any slider and as
        the wheel does: inverted controls turned them round too, so Up took a screen reader's "80" to
        "79" (QA), and inverted for the arrows alone, the wheel ran against Up (sceptic QA)."""
        ends = {Qt.Key.Key_Home: self.maximum(), Qt.Key.Key_End: self.minimum()}
        if event.key() in ends:  # (with any modifier, the keypad's too, as Qt takes them: review)
            self.setValue(ends[event.key()])
            event.accept()
            return
        add, sub = QSlider.SliderAction.SliderSingleStepAdd, QSlider.SliderAction.SliderSingleStepSub
        leftwards = sub if self.isRightToLeft() else add  # (the maximum is on the left, but right to left)
        steps = {Qt.Key.Key_Up: add, Qt.Key.Key_Down: sub, Qt.Key.Key_Left: leftwards,
                 Qt.Key.Key_Right: sub if leftwards == add else add,
                 Qt.Key.Key_PageUp: QSlider.SliderAction.SliderPageStepAdd,
                 Qt.Key.Key_PageDown: QSlider.SliderAction.SliderPageStepSub}
        if event.key() in steps:
            self.triggerAction(steps[event.key()])
            event.accept()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        # QSlider's own painting with the value mirrored: the same handle position, but the style's
        # groove fill grows from the faithful end as before (inverted, it grew from the realistic end)
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        option.sliderPosition = self.maximum() + self.minimum() - option.sliderPosition
        option.sliderValue = self.maximum() + self.minimum() - option.sliderValue
        option.upsideDown = not option.upsideDown
        option.subControls = QStyle.SubControl.SC_SliderGroove | QStyle.SubControl.SC_SliderHandle
        slider = QStylePainter(self)
        slider.drawComplexControl(QStyle.ComplexControl.CC_Slider, option)
        slider.end()
        if self.hasFocus():
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_FRAME_PX))
            half = FOCUS_FRAME_PX / 2
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(half, half, -half, -half), 4, 4)
            painter.end()
        if self.caution_below is None or self.caution_below <= self.minimum():
            return
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        start = groove.left() + handle.width() / 2
        # (the style's own mapping: left to right the minimum, the realistic end, is on the right, right
        # to left on the left; locale QA: the line stayed under the faithful end)
        ends = [QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), value, span, option.upsideDown)
                for value in (self.caution_below - 1, self.minimum())]
        x0, x1 = start + min(ends), start + max(ends)
        y = min(self.height() - 2.0, groove.center().y() + max(4.0, groove.height() / 2 + 2))
        painter = QPainter(self)
        painter.setPen(QPen(caution_colour(self.palette()), 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        painter.drawLine(QLineF(x0, y, x1, y))
        painter.end()


class FidelityControl(QWidget):
    """A slider from faithful (left) to realistic (right), fidelity in [0, 1].

    :attr:`fidelityChanged` follows the user's every move; :attr:`fidelityCommitted` comes when
    the user lets go of the slider, or at once for a move made with the keys, the wheel or a click on
    the groove (a good moment to save). :meth:`set_fidelity` emits neither.
    The reset button (shown while the slider is away from :meth:`set_model_default`'s value) moves
    it back and emits :attr:`resetToModelDefault`: the model's own fidelity is used from then on,
    also after a change of model.
    """

    fidelityChanged = Signal(float)
    fidelityCommitted = Signal(float)
    resetToModelDefault = Signal()

    def __init__(self, fidelity: float = DEFAULT_FIDELITY, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = _RangeSlider()
        self.slider.setRange(0, 100)
        self.slider.setPageStep(10)
        self.slider.setAccessibleName("Fidelity")
        self.value_label = QLabel()
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.value_label.font()
        font.setBold(True)  # the current value, told apart from the two ends' labels
        self.value_label.setFont(font)
        self.reset_button = QToolButton()
        self.reset_button.setText("↺ Default")
        self.reset_button.setAccessibleName("Default fidelity")  # (screen-reader QA: the arrow was read aloud)
        policy = self.reset_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the words do not jump when it shows or hides
        self.reset_button.setSizePolicy(policy)
        self.reset_button.clicked.connect(self._reset)
        self._model_default = DEFAULT_FIDELITY
        self._range: FidelityRange | None = None
        self._model = ""
        self._spares = False  # sharp faces are spared, whatever the slider says (set_model_range)
        self._ends = QHBoxLayout()
        self._ends.addWidget(QLabel("Faithful"))
        self._ends.addStretch(1)
        self._ends.addWidget(self.value_label)
        self._ends.addWidget(self.reset_button)
        self._ends.addStretch(1)
        self._ends.addWidget(QLabel("Realistic"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._ends)
        layout.addWidget(self.slider)
        # The caution in words, in view: a tooltip is for the mouse (QA: a keyboard user saw the
        # amber value and never learnt why)
        self.caution_label = QLabel()
        self.caution_label.setWordWrap(True)
        self.caution_label.setVisible(False)
        layout.addWidget(self.caution_label)
        self._quiet = False
        self.slider.valueChanged.connect(self._on_value)
        self._say_timer = when_keys_rest(self, self._say)
        self._caution_said = False  # whether a screen reader was last told a caution (in full as it began)
        self.slider.sliderReleased.connect(lambda: self.fidelityCommitted.emit(self.fidelity()))
        self.set_fidelity(fidelity)
        self._show(self.fidelity())

    def fidelity(self) -> float:
        return round(self.slider.value() / 100.0, 2)

    def set_fidelity(self, fidelity: float) -> None:
        """Show ``fidelity`` without emitting anything (it came from the program, not the user)."""
        self._quiet = True
        try:
            self.slider.setValue(round(fidelity * 100))
        finally:
            self._quiet = False

    def model_default(self) -> float:
        return self._model_default

    def set_model_default(self, fidelity: float) -> None:
        """The fidelity the model's evaluation chose (where the reset button goes back to)."""
        self._model_default = round(float(fidelity), 2)
        self.reset_button.setToolTip(f"Back to this model's own fidelity, {self._model_default:.2f} "
                                     f"({fidelity_words(self._model_default).lower()})")
        self._show(self.fidelity())

    def set_model_range(self, fidelity_range: FidelityRange | None, model: str = "this model", *,
                        spares: bool = False) -> None:
        """Where ``model`` (a name shown to the user) works well; None: the whole slider. ``spares``:
        sharp faces are spared (the model has a ramp and sparing is on), which the caution then says
        (:meth:`FidelityRange.caution`)."""
        self._range, self._model, self._spares = fidelity_range, model, spares
        self.slider.caution_below = (math.ceil(fidelity_range.works_down_to * 100 - 1e-6)
                                     if fidelity_range is not None else None)
        self.slider.update()
        self._show(self.fidelity())

    def caution(self) -> str | None:
        """Why the value shown is outside the model's range (None inside it)."""
        return self._caution_at(self.fidelity())

    def _caution_at(self, fidelity: float) -> str | None:
        return self._range.caution(fidelity, self._model, spares=self._spares) if self._range is not None else None

    def _reset(self) -> None:
        self.set_fidelity(self._model_default)
        self.resetToModelDefault.emit()
        self._say_soon()  # (verify QA: from the keyboard, the reset went unsaid)

    def _on_value(self, _value: int) -> None:
        fidelity = self.fidelity()
        self._show(fidelity)
        if not self._quiet:
            self.fidelityChanged.emit(fidelity)
            if not self.slider.isSliderDown():  # not a drag: this move is the user's last word
                self.fidelityCommitted.emit(fidelity)
            if self.slider.hasFocus() and not self.slider.isSliderDown():  # a key's move, said in words:
                # a screen reader reads the slider's value, the fidelity ×100: the words say what it means
                self._say_soon()

    def _say_soon(self) -> None:
        """Say the fidelity once the keys rest (verify QA: each step of a held key was queued, 15 in
        a row), the caution in full only where it starts to hold (40 words at every step below 0.70)."""
        self._say_timer.start()

    def _say(self) -> None:
        said, caution = self._said
        begins = bool(caution) != self._caution_said  # (not its words, which hold the value: review)
        self._caution_said = bool(caution)
        announce(self.slider, said + (f". Caution: {caution}" if begins else ". Caution") if caution else said)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed: the caution's amber made for it
            self._show(self.fidelity())  # (dark-mode QA: dark brown on dark, 2.4:1, until the slider moved)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._show(self.fidelity())

    def _value_text(self, fidelity: float, caution: str | None) -> str:
        """"Very faithful · 0.85", or "0.85" alone where the words would not fit between the ends."""
        mark = "⚠ " if caution else ""
        text = f"{mark}{fidelity_words(fidelity)} · {fidelity:.2f}"
        ends = [self._ends.itemAt(i).widget() for i in (0, self._ends.count() - 1)]
        needed = (sum(end.sizeHint().width() for end in ends) + self.reset_button.sizeHint().width()
                  + self.value_label.fontMetrics().horizontalAdvance(text) + 4 * self._ends.spacing())
        return text if needed <= self.width() else f"{mark}{fidelity:.2f}"

    def _show(self, fidelity: float) -> None:
        caution = self._caution_at(fidelity)
        self.value_label.setText(self._value_text(fidelity, caution))
        palette = self.palette()
        if caution:
            palette.setColor(QPalette.ColorRole.WindowText, caution_colour(palette))
        self.value_label.setPalette(palette)
        self.caution_label.setPalette(palette)
        self.caution_label.setText(caution or "")
        self.caution_label.setVisible(bool(caution))
        self.reset_button.setVisible(abs(fidelity - self._model_default) > 1e-6)
        tip = (f"Fidelity {fidelity:.2f}: diffusion starts at timestep "
               f"{fidelity_to_timestep(fidelity)} of 1000. Left keeps the photo's look; right lets "
               "the face prior add more (realistic, but less like the original). Restore again to "
               "apply.")
        if self._range is not None:
            tip += (f"\n\nUnderlined: below {self._range.works_down_to:.2f}, where {self._model} is not known "
                    "to work well." + (f" Now: {caution}" if caution else ""))
        self.slider.setToolTip(tip)
        self.value_label.setToolTip(tip)
        # screen readers read the slider's value (the fidelity ×100): give them the fidelity in words too
        said = f"{fidelity_words(fidelity)}, fidelity {fidelity:.2f}"
        self._said = said, caution  # (what a screen reader is told once the keys rest: _say)
        self.slider.setAccessibleDescription(f"{said} (1 keeps the photo's face, 0 lets the model invent the most)"
                                             + (f". Caution: {caution}" if caution else ""))
