"""The Settings dialog: device, precision, model, sampling, seeds, damage repair and refinement,
faces, upscale, output folder and name pattern.

It edits the core's :class:`~faceapp.core.preferences.Preferences`; every list of choices comes from
:mod:`faceapp.core.preferences`. The form scrolls and the dialog opens no taller than its screen
leaves room for, so OK and Cancel (outside the scroll area) are always on screen, on a 1366×768
laptop with a taskbar too."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.export import LOSSY_FORMATS, format_for, name_pattern_problem
from faceapp.core.pathtext import typed_folder
from faceapp.core.preferences import (
    DEFAULT_NAME_PATTERN,
    DEVICES,
    FACE_SELECTIONS,
    METADATA_KINDS,
    MAX_SEEDS,
    MAX_STEPS,
    OUTPUT_FORMATS,
    PRECISIONS,
    UPSCALES,
    Preferences,
)
from faceapp.core.refine import MAX_REFINE_PASSES
from faceapp.core.settings import MAX_BASE_SEED, MAX_POLISH_TIMESTEP, MAX_RESAMPLES
from faceapp.gui.look import error_colour, fit_to_screen, wrap_long_tooltips
from faceapp.gui.number_fields import DecimalBox, use_number_format
from faceapp.gui.plain_label import PlainLabel

_FORMAT_NAMES = {"": "Same as the original", "png": "PNG", "jpg": "JPEG", "webp": "WebP", "tiff": "TIFF"}
_SELECTION_NAMES = {"all": "All faces", "largest": "The largest face", "center": "The face nearest the centre"}
_PRECISION_NAMES = {"auto": "Automatic", "fp32": "32-bit float", "bf16": "bfloat16", "fp16": "16-bit float"}
_METADATA_NAMES = {"all": "All of the photo's", "no-location": "All but where it was taken",
                   "none": "None (for sharing)"}


class _Combo(QComboBox):
    """A combo box that may be narrower than its longest item: as wide as that where there is room,
    its text cut short where there is not (its list still shows each item whole). Low-vision QA: a
    model's long name made Settings wider than the screen at a large font, OK and Cancel out of sight."""

    _LEAST_CHARACTERS = 14

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        least = self.fontMetrics().averageCharWidth() * self._LEAST_CHARACTERS + 3 * self.fontMetrics().height()
        return QSize(min(hint.width(), least), hint.height())

    def fit_list(self) -> None:
        """Let the list that drops down show its longest item whole, however narrow the box."""
        widest = max((self.fontMetrics().horizontalAdvance(self.itemText(row)) for row in range(self.count())), default=0)
        self.view().setMinimumWidth(widest + 3 * self.fontMetrics().height())


def _combo(values: Sequence[object], current: object, label: Callable[[object], str]) -> QComboBox:
    """A combo box offering ``values`` (shown as ``label(value)``) with ``current`` selected."""
    combo = _Combo()
    for value in values:
        combo.addItem(label(value), value)
    combo.setCurrentIndex(max(combo.findData(current), 0))
    combo.fit_list()
    return combo


def _check(text: str, checked: bool, tip: str) -> QCheckBox:
    """A check box saying ``text``, ``checked`` or not, with the tooltip ``tip``."""
    box = QCheckBox(text)
    box.setChecked(checked)
    box.setToolTip(tip)
    return box



def _align_labels(*forms: QFormLayout) -> None:
    """Give the label columns of several forms one width, so their fields line up."""
    labels = [form.itemAt(row, QFormLayout.ItemRole.LabelRole) for form in forms for row in range(form.rowCount())]
    widgets = [item.widget() for item in labels if item is not None and item.widget() is not None]
    width = max((w.sizeHint().width() for w in widgets), default=0)
    for widget in widgets:
        widget.setMinimumWidth(width)


class _FormScroller(QScrollArea):
    """Scrolls the form vertically; asks for the form's whole height (a plain scroll area asks for
    at most 24 lines) and its full width with room for the scroll bar, so the form scrolls sideways
    only where the screen is too narrow for it (low-vision QA: at a large font the dialog was wider
    than the screen, OK and Cancel out of sight) and up and down only where it is too short."""

    def __init__(self, form: QWidget) -> None:
        super().__init__()
        self.setWidget(form)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Tab stop of its own: tabbing to a field scrolls to it

    def _bar_width(self) -> int:
        return self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        form = self.widget().sizeHint()
        return QSize(form.width() + self._bar_width(), form.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        width = self.widget().minimumSizeHint().width() + self._bar_width()
        screen = self.screen()
        if screen is not None:  # (the dialog's margins and frame beside it)
            width = min(width, screen.availableGeometry().width() - 4 * self.fontMetrics().height())
        return QSize(width, super().minimumSizeHint().height())


class _StepsBox(QSpinBox):
    """The step count, 0 showing as the model's own ("Model's default (6)"): stepped from there,
    not from 0 (GUI QA: Up on "Model's default" gave 1, then 2, for a model of 6 steps)."""

    def __init__(self) -> None:
        super().__init__()
        self._model_default: int | None = None
        self.setSpecialValueText("Model's default")

    def set_model_default(self, steps: int | None) -> None:
        self._model_default = steps
        self.setSpecialValueText(f"Model's default ({steps})" if steps else "Model's default")

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt override)
        if self.value() == self.minimum() and self._model_default:
            self.setValue(max(1, min(self.maximum(), self._model_default + steps)))
        else:
            super().stepBy(steps)


class SettingsDialog(QDialog):
    """Edits a copy of the preferences; :meth:`preferences` returns the result."""

    def __init__(self, prefs: Preferences, *, models: Sequence[tuple[str, str]] = (),
                 devices: Sequence[str] = DEVICES, available: Sequence[str] | None = None,
                 default_model: str = "", model_steps: Mapping[str, int] | None = None,
                 parent: QWidget | None = None) -> None:
        """``models``: (name, text shown) of each model; ``default_model``: what the default model
        is called, named beside "Default model"; ``model_steps``: each model's own step count by
        name ("" the default model's), shown as the steps' "Model's default" and stepped from; ``available``: the devices this computer has
        (:func:`faceapp.core.devices.available_devices`); the others are offered greyed out, named
        as not found (None: every one is available)."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._prefs = prefs

        def found(name: str) -> bool:
            return available is None or name == "auto" or any(a.split(":")[0] == name.split(":")[0] for a in available)

        offered = ["auto", *[d for d in devices if d != "auto"]]
        if prefs.device not in offered:  # one the CLI takes, written by hand (cuda:1): shown and kept (QA: OK
            offered.append(prefs.device)  # without a change made it "auto")
        self.device = _combo(offered, prefs.device,
                             lambda name: "Automatic (best available)" if name == "auto"
                             else name.upper() + ("" if found(name) else " (none found on this computer)"))
        for row in range(self.device.count()):  # QA: CUDA could be chosen on a computer without one
            if not found(self.device.itemData(row)) and self.device.itemData(row) != prefs.device:
                self.device.model().item(row).setEnabled(False)
        self.device.setToolTip("Where faces are restored: Automatic takes an NVIDIA GPU (CUDA) or an Apple GPU (MPS) "
                               "when there is one, else the CPU")
        self.precision = _combo(PRECISIONS, prefs.precision, lambda name: _PRECISION_NAMES.get(name, name))
        self.precision.setToolTip("Automatic: bfloat16 on a CPU where it measures faster than 32-bit (timed once, then "
                                  "remembered), 16-bit on NVIDIA GPUs, else 32-bit. Shown in the status bar and "
                                  "recorded with each result.")
        self.model = _Combo()
        self.model.addItem(f"Default model ({default_model})" if default_model else "Default model", "")
        for name, title in models:
            self.model.addItem(title or name, name)
        self.model.fit_list()
        self._select(self.model, prefs.model)
        self.model.setToolTip("The face model that restores: Default model is the one the Models window marks as "
                              "default (Models… installs others)")

        self.steps = _StepsBox()
        self.steps.setRange(0, MAX_STEPS)  # 0: the model's own (as the CLI, 1…MAX_STEPS)
        self.steps.setValue(prefs.steps or 0)
        self._model_steps = dict(model_steps or {})
        self.model.currentIndexChanged.connect(lambda _row: self.steps.set_model_default(
            self._model_steps.get(self.model.currentData())))
        self.steps.set_model_default(self._model_steps.get(self.model.currentData()))
        self.steps.setToolTip("How many denoising steps the face prior takes per face (DDIM): more is slower and "
                              "slightly finer; the model's default is what its evaluation chose")
        self.eta = DecimalBox()
        self.eta.setRange(0.0, 1.0)
        self.eta.setSingleStep(0.1)
        self.eta.setValue(prefs.eta)
        self.eta.setToolTip("How much fresh randomness each denoising step adds (DDIM's η): 0 follows one fixed "
                            "path per seed, 1 adds new noise at every step for more varied detail")
        self.polish = QSpinBox()
        self.polish.setRange(0, MAX_POLISH_TIMESTEP)
        self.polish.setSingleStep(50)
        self.polish.setSpecialValueText("Off")
        self.polish.setValue(prefs.polish_timestep)
        self.polish.setToolTip("Texture polish: after the restore, add a little noise to each face again and take "
                               "it out once more, for sharper skin and hair texture. The number is how much noise (a "
                               "diffusion timestep: 100 is light, 300 strong); each 50 costs about one step more")
        self.spare_sharp_faces = _check("Spare faces the restorer barely changes", prefs.spare_sharp_faces,
                                        "A face the restorer barely changes (sharp already, or degraded in a way it "
                                        "leaves alone) gets less of the prior's diffusion (up to none), which would "
                                        "smear it. Which faces were spared is said after each restore. Models "
                                        "without a measured threshold spare no face")
        self.match_grain = _check("Match the photo's grain", prefs.match_grain,
                                  "Give each restored face the grain or noise of the photo around it, as much as "
                                  "it lacks, so it does not look pasted in. Off: faces stay as smooth as the "
                                  "model makes them. A printed screen (halftone dots) is not matched, nor a JPEG "
                                  "saved below quality 85 (its fine detail is the encoder's). Switching it applies to "
                                  "restored photos at once, without restoring them again")
        self.descreen = _check("Smooth out printed dots", prefs.descreen,
                               "A photo printed with a halftone screen (the dots of a newspaper, magazine or book), "
                               "its faces too, is restored with the screen smoothed out of it, only where the "
                               "screen is: the restorer reads dots as detail and smears them. Each photo so "
                               "smoothed is said after its restore. Off: the dots are restored as they are")
        self.seeds = QSpinBox()
        self.seeds.setRange(1, MAX_SEEDS)
        self.seeds.setValue(prefs.seeds_per_face)
        self.seeds.setToolTip("Candidates sampled per face, shown in the seed gallery")
        self.base_seed = QSpinBox()
        self.base_seed.setRange(0, MAX_BASE_SEED)
        self.base_seed.setValue(prefs.base_seed)
        self.base_seed.setToolTip("The seed of each face's first candidate (the next ones count up from it): the same "
                                  "photo, settings and seed give the same result, in the window and the CLI")
        self.repair_resamples = QSpinBox()
        self.repair_resamples.setRange(1, MAX_RESAMPLES)
        self.repair_resamples.setSpecialValueText("Off")  # each step once
        self.repair_resamples.setValue(prefs.repair_resamples)
        self.repair_resamples.setToolTip("Where damage is painted on a face: how many times each step of the fill "
                                         "is gone over again (RePaint resampling). More joins the filled part to the "
                                         "rest of the face better; each adds the face's sampling time again.")
        self.refine_passes = QSpinBox()
        self.refine_passes.setRange(1, MAX_REFINE_PASSES)
        self.refine_passes.setValue(prefs.refine_passes)
        self.refine_passes.setToolTip("Passes of Photo ▸ Refine face: the result is restored again this many times; "
                                      "each pass is shown in the gallery with how much it changed the face. Passes "
                                      "do not settle: each one moves the face further (more contrast), so one is "
                                      "usually enough")
        self.upscale = _combo(UPSCALES, prefs.upscale, lambda factor: f"×{factor}")
        self.upscale.setToolTip("Enlarge the whole photo by this factor: the restored faces pasted in at the new size, the "
                                "background by Lanczos resampling, which sharpens nothing (no super-resolution "
                                "network); ×1 keeps its size")
        self.face_selection = _combo(FACE_SELECTIONS, prefs.face_selection, lambda name: _SELECTION_NAMES.get(name, name))
        self.face_selection.setToolTip("Faces left out are shown switched off: click a face's number to restore it too")
        self.min_face_size = DecimalBox()  # (a fraction as the CLI takes it; locale QA: "16,5" gave 165)
        self.min_face_size.setDecimals(1)
        self.min_face_size.setRange(0, max(4096.0, prefs.min_face_size))  # (a larger one set by hand: kept, QA)
        self.min_face_size.setSuffix(" px")
        self.min_face_size.setValue(prefs.min_face_size)
        self.min_face_size.setToolTip("Detected faces smaller than this are ignored")

        self.output_folder = QLineEdit(prefs.output_folder)
        self.output_folder.setPlaceholderText("Next to the original")
        self.output_folder.setToolTip("Where Save writes results (a full path; ~ is your home folder); empty: next "
                                      "to each original. Originals are never overwritten")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.output_folder, 1)
        folder_row.addWidget(browse)
        self.name_pattern = QLineEdit(prefs.name_pattern)
        self.name_pattern.setToolTip("Output file name without extension; {stem} is the original's name")
        self.export_format = _combo(("", *OUTPUT_FORMATS), prefs.export_format,
                                    lambda value: _FORMAT_NAMES.get(value, value))
        self.export_format.setToolTip("Same as the original: a HEIC photo's result is a JPEG, a BMP's or AVIF's a PNG")
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(prefs.quality)
        self.quality.setToolTip("JPEG and WebP quality (PNG and TIFF are lossless; WebP at 100, or from a lossless "
                                "WebP photo, too)")
        self.keep_16_bits = _check("Keep 16 bits per channel", prefs.keep_16_bits,
                                   "A 16-bit photo (a 48-bit scan) is saved in 16 bits per channel as PNG or TIFF "
                                   "(as TIFF not for a grey photo with transparency); off: 8 bits, smaller files")
        self.metadata = _combo(METADATA_KINDS, prefs.metadata, lambda kind: _METADATA_NAMES.get(kind, kind))
        self.metadata.setToolTip("What a saved result keeps of its photo's metadata: all of it (the camera's EXIF "
                                 "with its GPS position, the XMP and IPTC names, captions and places, comments); all "
                                 "but where it was taken (no GPS, no place names); or none, for sharing: only its "
                                 "colour profile and resolution, and faceapp's record of how it was made, which then "
                                 "does not name the photo's file either")
        self.export_format.currentIndexChanged.connect(lambda _index: self._quality_applies())
        self._quality_applies()
        self.auto_start = _check("Restore photos at once &when they are opened or dropped", prefs.auto_start,
                                 "Photos opened or dropped are restored at once with these settings, in turn, "
                                 "without pressing Restore")

        compute = QFormLayout()  # where it runs and with what
        compute.addRow("&Model", self.model)
        compute.addRow("De&vice", self.device)
        compute.addRow("P&recision", self.precision)
        restoration = QFormLayout()  # what a restore does
        restoration.addRow("&Faces", self.face_selection)
        restoration.addRow("Sma&llest face", self.min_face_size)
        restoration.addRow("S&paring", self.spare_sharp_faces)
        restoration.addRow("&Grain", self.match_grain)
        restoration.addRow("&Halftone", self.descreen)
        restoration.addRow("Seeds per fa&ce", self.seeds)
        restoration.addRow("&Steps", self.steps)
        restoration.addRow("Bac&kground upscale", self.upscale)
        sampling = QFormLayout()  # the sampler's finer points, for those who know them
        sampling.addRow("&Eta", self.eta)
        sampling.addRow("Te&xture polish", self.polish)
        sampling.addRow("F&irst seed", self.base_seed)
        sampling.addRow("&Damage resampling", self.repair_resamples)
        sampling.addRow("Refine p&asses", self.refine_passes)
        output = QFormLayout()
        output.addRow("O&utput folder", folder_row)
        output.labelForField(folder_row).setBuddy(self.output_folder)  # (a row of two: its label's key is the field's)
        output.addRow("&Name pattern", self.name_pattern)
        output.addRow("F&ormat", self.export_format)
        output.addRow("&Quality", self.quality)
        output.addRow("&16-bit photos", self.keep_16_bits)
        output.addRow("Me&tadata", self.metadata)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        defaults = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        defaults.setText("Reset ever&y field")  # (Restore Defaults' letters are all the fields' access keys)
        defaults.setToolTip("Set every setting here, and those the window keeps without a field here, to its "
                            "default; nothing is saved until OK (the fidelity slider stays as it is)")
        defaults.clicked.connect(self.restore_defaults)
        self.problem = PlainLabel()  # why OK did not close the dialog
        self.problem.setWordWrap(True)
        self._colour_problem()
        self.problem.setVisible(False)
        fields = QWidget()
        fields_layout = QVBoxLayout(fields)
        fields_layout.setContentsMargins(0, 0, 0, 0)
        _align_labels(compute, restoration, sampling, output)
        for title, form in (("Model and device", compute), ("Restoration", restoration),
                            ("Advanced sampling", sampling), ("Output", output)):
            box = QGroupBox(title)
            box.setLayout(form)
            fields_layout.addWidget(box)
        fields_layout.addWidget(self.auto_start)
        fields_layout.addStretch(1)  # (a taller dialog leaves the space under the form)
        self.form_area = _FormScroller(fields)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form_area, 1)
        layout.addWidget(self.problem)  # with the buttons, always in view: why OK did not close
        layout.addWidget(buttons)
        use_number_format(self)  # (locale QA: "0.7" typed under German was saved as 0)
        wrap_long_tooltips(self)
        fit_to_screen(self, self.sizeHint())  # (the form scrolls; the buttons stay on the screen)

    def _colour_problem(self) -> None:
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.WindowText, error_colour(palette))
        self.problem.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed: the red made for it (dark-mode QA:
            self._colour_problem()  # light red on light grey, 2.5:1, while the dialog stayed open)

    def restore_defaults(self) -> None:
        """Show every setting at its default (settings QA: a dialog without it left a hand-edited or
        forgotten setting in place for good); OK saves them, Cancel keeps what was."""
        self._prefs = dataclasses.replace(Preferences(), fidelity=self._prefs.fidelity)  # (the slider's own)
        self.show_preferences(self._prefs)

    def show_preferences(self, prefs: Preferences) -> None:
        """Set every field to ``prefs``' value."""
        for combo, value in ((self.device, prefs.device), (self.precision, prefs.precision), (self.model, prefs.model),
                             (self.upscale, prefs.upscale), (self.face_selection, prefs.face_selection),
                             (self.export_format, prefs.export_format), (self.metadata, prefs.metadata)):
            self._select(combo, value)
        for box, number in ((self.steps, prefs.steps or 0), (self.polish, prefs.polish_timestep),
                            (self.seeds, prefs.seeds_per_face), (self.base_seed, prefs.base_seed),
                            (self.repair_resamples, prefs.repair_resamples), (self.refine_passes, prefs.refine_passes),
                            (self.min_face_size, prefs.min_face_size), (self.quality, prefs.quality)):
            box.setValue(number)
        self.eta.setValue(prefs.eta)
        for check, on in ((self.spare_sharp_faces, prefs.spare_sharp_faces), (self.match_grain, prefs.match_grain),
                          (self.descreen, prefs.descreen), (self.keep_16_bits, prefs.keep_16_bits),
                          (self.auto_start, prefs.auto_start)):
            check.setChecked(on)
        self.output_folder.setText(prefs.output_folder)
        self.name_pattern.setText(prefs.name_pattern)

    def _quality_applies(self) -> None:
        """Quality is for lossy formats: off for PNG and TIFF ("same as the original" may be a JPEG)."""
        chosen = self.export_format.currentData()
        self.quality.setEnabled(not chosen or format_for("x.png", chosen) in LOSSY_FORMATS)

    @staticmethod
    def _select(combo: QComboBox, value: object) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(max(index, 0))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output_folder.text())
        if folder:
            self.output_folder.setText(folder)

    def accept(self) -> None:
        """Close with OK only when every field is valid; else say what is wrong, in the dialog,
        and keep the edits (the user fixes one field instead of doing them all again)."""
        try:
            self.preferences()
        except ValueError as error:
            self.problem.setText(f"{str(error)[:1].upper()}{str(error)[1:]}.")
            self.problem.setVisible(True)
            getattr(error, "field", self.name_pattern).setFocus()  # the field to fix
            return
        super().accept()

    def preferences(self) -> Preferences:
        """The edited preferences (raises ValueError with a readable message if invalid)."""
        pattern = self.name_pattern.text().strip() or DEFAULT_NAME_PATTERN
        if (problem := name_pattern_problem(pattern)) is not None:
            raise ValueError(problem)
        try:
            output_folder = typed_folder(self.output_folder.text())
        except ValueError as error:
            error.field = self.output_folder  # type: ignore[attr-defined]
            raise
        return dataclasses.replace(
            self._prefs,
            device=self.device.currentData(),
            precision=self.precision.currentData(),
            model=self.model.currentData(),
            steps=self.steps.value() or None,
            eta=round(self.eta.value(), 3),
            polish_timestep=self.polish.value(),
            spare_sharp_faces=self.spare_sharp_faces.isChecked(),
            match_grain=self.match_grain.isChecked(),
            descreen=self.descreen.isChecked(),
            seeds_per_face=self.seeds.value(),
            base_seed=self.base_seed.value(),
            repair_resamples=self.repair_resamples.value(),
            refine_passes=self.refine_passes.value(),
            upscale=self.upscale.currentData(),
            face_selection=self.face_selection.currentData(),
            min_face_size=float(self.min_face_size.value()),
            output_folder=output_folder,
            name_pattern=pattern,
            export_format=self.export_format.currentData(),
            quality=self.quality.value(),
            keep_16_bits=self.keep_16_bits.isChecked(),
            metadata=self.metadata.currentData(),
            auto_start=self.auto_start.isChecked(),
        )
