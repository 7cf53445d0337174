"""The Settings dialog: device, model, sampling, seeds, upscale, output folder and name pattern."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.settings import MAX_POLISH_TIMESTEP, SamplerSettings
from faceapp.gui.settings_store import DEVICES, UPSCALES, AppPreferences

FORMATS = (("", "Same as the original"), ("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WebP"),
           ("tiff", "TIFF"))


class SettingsDialog(QDialog):
    """Edits a copy of the preferences; :meth:`preferences` returns the result."""

    def __init__(self, prefs: AppPreferences, *, models: Sequence[tuple[str, str]] = (),
                 devices: Sequence[str] = DEVICES, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._prefs = prefs

        self.device = QComboBox()
        for name in ["auto", *[d for d in devices if d != "auto"]]:
            self.device.addItem({"auto": "Automatic (best available)"}.get(name, name.upper()
                                if name in ("cuda", "cpu", "mps") else name), name)
        self._select(self.device, prefs.device)
        self.model = QComboBox()
        self.model.addItem("Default model", "")
        for name, title in models:
            self.model.addItem(title or name, name)
        self._select(self.model, prefs.model)

        self.steps = QSpinBox()
        self.steps.setRange(1, 250)
        self.steps.setValue(prefs.sampler.steps)
        self.steps.setToolTip("DDIM steps per face: more is slower and slightly finer")
        self.eta = QDoubleSpinBox()
        self.eta.setRange(0.0, 1.0)
        self.eta.setSingleStep(0.1)
        self.eta.setValue(prefs.sampler.eta)
        self.eta.setToolTip("0 = deterministic steps, 1 = fresh noise at every step")
        self.polish = QSpinBox()
        self.polish.setRange(0, MAX_POLISH_TIMESTEP)
        self.polish.setSingleStep(50)
        self.polish.setSpecialValueText("Off")
        self.polish.setValue(prefs.sampler.polish_timestep)
        self.polish.setToolTip("Texture polish: noise each restored face again to this timestep and "
                               "denoise it once more (sharper skin and hair texture; about 1 step per 50)")
        self.seeds = QSpinBox()
        self.seeds.setRange(1, 64)
        self.seeds.setValue(prefs.seeds_per_face)
        self.seeds.setToolTip("Candidates sampled per face, shown in the seed gallery")
        self.base_seed = QSpinBox()
        self.base_seed.setRange(0, 2**31 - 1)
        self.base_seed.setValue(prefs.base_seed)
        self.upscale = QComboBox()
        for factor in UPSCALES:
            self.upscale.addItem(f"×{factor}", factor)
        self._select(self.upscale, prefs.upscale)

        self.output_folder = QLineEdit(prefs.output_folder)
        self.output_folder.setPlaceholderText("Next to the original")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.output_folder, 1)
        folder_row.addWidget(browse)
        self.name_pattern = QLineEdit(prefs.name_pattern)
        self.name_pattern.setToolTip("Output file name without extension; {stem} is the original's name")
        self.export_format = QComboBox()
        for value, label in FORMATS:
            self.export_format.addItem(label, value)
        self._select(self.export_format, prefs.export_format)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(prefs.quality)
        self.auto_start = QCheckBox("Start restoring as soon as photos are dropped")
        self.auto_start.setChecked(prefs.auto_start)

        compute = QFormLayout()
        compute.addRow("Device", self.device)
        compute.addRow("Model", self.model)
        compute.addRow("Steps", self.steps)
        compute.addRow("Eta", self.eta)
        compute.addRow("Texture polish", self.polish)
        compute.addRow("Seeds per face", self.seeds)
        compute.addRow("First seed", self.base_seed)
        compute.addRow("Background upscale", self.upscale)
        output = QFormLayout()
        output.addRow("Output folder", folder_row)
        output.addRow("Name pattern", self.name_pattern)
        output.addRow("Format", self.export_format)
        output.addRow("Quality", self.quality)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for title, form in (("Restoration", compute), ("Output", output)):
            box = QGroupBox(title)
            box.setLayout(form)
            layout.addWidget(box)
        layout.addWidget(self.auto_start)
        layout.addWidget(buttons)

    @staticmethod
    def _select(combo: QComboBox, value: object) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(max(index, 0))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output_folder.text())
        if folder:
            self.output_folder.setText(folder)

    def preferences(self) -> AppPreferences:
        """The edited preferences (raises ValueError with a readable message if invalid)."""
        sampler = SamplerSettings(fidelity=self._prefs.sampler.fidelity, steps=self.steps.value(),
                                  eta=round(self.eta.value(), 3), schedule=self._prefs.sampler.schedule,
                                  polish_timestep=self.polish.value())
        return dataclasses.replace(
            self._prefs,
            device=self.device.currentData(),
            model=self.model.currentData(),
            sampler=sampler,
            seeds_per_face=self.seeds.value(),
            base_seed=self.base_seed.value(),
            upscale=self.upscale.currentData(),
            output_folder=self.output_folder.text().strip(),
            name_pattern=self.name_pattern.text().strip() or "{stem}_restored",
            export_format=self.export_format.currentData(),
            quality=self.quality.value(),
            auto_start=self.auto_start.isChecked(),
        )
