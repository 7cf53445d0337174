"""The CLI and the GUI run one application layer: the same photo and preferences give the same
file, and every setting of the GUI reaches the restoration (not only the settings file)."""

from __future__ import annotations

import dataclasses
import json

import gui_util
import pytest
from gui_util import TINY_MODEL, install_tiny_model, load, restore, saved
from PySide6.QtWidgets import QPushButton

import faceapp.cli as cli
from faceapp.core.export import read_provenance
from faceapp.core.preferences import MAX_SEEDS, MAX_STEPS, Preferences
from faceapp.core.refine import MAX_REFINE_PASSES
from faceapp.core.settings import MAX_POLISH_TIMESTEP, MAX_RESAMPLES
from faceapp.gui.settings_dialog import SettingsDialog

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


@pytest.fixture(autouse=True)
def one_moment(monkeypatch):
    """Both front-ends write their results at one moment: a result states when it was written (its
    EXIF DateTime), which would differ between two writes a second apart."""
    from datetime import datetime, timezone

    from faceapp.core import export

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 12, 5, 12, 0, 0, tzinfo=timezone.utc)

    monkeypatch.setattr(export, "datetime", Frozen)


def _use(window, **changes) -> None:
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, **changes))


@pytest.mark.parametrize("metadata", ["all", "none"])
def test_the_cli_and_the_gui_write_byte_identical_files(window, qtbot, photo, tmp_path, retinaface_dir, monkeypatch,
                                                        metadata):
    _use(window, model=TINY_MODEL, device="cpu", seeds_per_face=1, base_seed=5, steps=None, fidelity=0.7,
         eta=0.3, upscale=2, polish_timestep=50, quality=90, spare_sharp_faces=True,  # (the CLI's default, as the app's)
         metadata=metadata)
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    [from_gui] = saved(window, qtbot, window.exports.save)

    monkeypatch.setenv("FACEAPP_DETECTOR_DIR", str(retinaface_dir))
    code = cli.main(["restore", str(photo), "-o", str(tmp_path / "cli"), "--model", TINY_MODEL, "--device", "cpu",
                     "--seed", "5", "--fidelity", "0.7", "--eta", "0.3", "--upscale", "2", "--polish", "50",
                     "--quality", "90", "--no-progress", "--metadata", metadata])
    assert code == 0
    from_cli = tmp_path / "cli" / from_gui.name
    assert from_cli.read_bytes() == from_gui.read_bytes()
    provenance = read_provenance(from_gui)
    assert ("source" in provenance) == (metadata == "all")  # (none: the photo's file is not named)
    assert provenance["steps"] == 4 and provenance["upscale"] == 2  # the tiny model's default_steps
    assert provenance["polish_timestep"] == 50 and provenance["faces"][0]["seed"] == 5


@pytest.mark.parametrize("spare", [True, False])
@pytest.mark.parametrize("asked", [None, 0.6])
def test_sharp_face_sparing_runs_alike_in_both_front_ends(window, qtbot, photo, tmp_path, retinaface_dir, monkeypatch,
                                                          capsys, spare, asked):
    """At the model's own fidelity and at one the user chose (QA: one notch of the slider away from
    the default, a sharp face came back smeared) a face the restorer barely changed is spared (here
    every face: the ramp's top is 255 grey levels) by both front-ends alike, each saying so; turned
    off, it is not."""
    model = install_tiny_model("tiny-sparing", sharp_faces=(254.0, 255.0))
    _use(window, model=model, device="cpu", seeds_per_face=1, fidelity=asked, spare_sharp_faces=spare)
    path = load(window, qtbot, photo)
    told = []
    window.session.note.connect(lambda text, about: about == path and told.append(text))
    restore(window, qtbot, path)
    [from_gui] = saved(window, qtbot, window.exports.save)
    fidelity = read_provenance(from_gui)["faces"][0]["fidelity"]
    run_fidelity = 0.5 if asked is None else asked  # the model's own 0.5, or the user's
    assert fidelity == (1.0 if spare else run_fidelity)  # spared: kept as the restorer made it
    assert any("Barely changed by the restorer, so spared the prior: face 1" in text for text in told) == spare
    caption = window.run_panel.preview_caption  # the chosen face says so as long as it is shown
    assert (caption.text() == "Face 1 · kept") == spare  # as the face list says it; one face for every seed
    assert ("Kept as the restorer made it" in caption.toolTip() and f"at {run_fidelity:.2f})" in caption.toolTip()) == spare

    monkeypatch.setenv("FACEAPP_DETECTOR_DIR", str(retinaface_dir))
    capsys.readouterr()
    code = cli.main(["restore", str(photo), "-o", str(tmp_path / "cli"), "--model", model, "--device", "cpu",
                     "--json", "--no-progress", *([] if spare else ["--no-spare-sharp-faces"]),
                     *([] if asked is None else ["--fidelity", str(asked)])])
    assert code == 0
    out = capsys.readouterr()
    assert (tmp_path / "cli" / from_gui.name).read_bytes() == from_gui.read_bytes()
    spared = json.loads(out.out)["results"][0].get("spared", [])
    assert [s["fidelity"] for s in spared] == ([1.0] if spare else [])
    assert ("--no-spare-sharp-faces" in out.err) == spare


def test_upscale_set_in_the_gui_reaches_the_restoration(window, qtbot, photo):
    _use(window, upscale=2, seeds_per_face=1)
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    assert entry.composite.shape[:2] == (2 * 225, 2 * 400)


def test_a_face_switched_off_in_the_gui_is_not_restored(window, qtbot, photo):
    _use(window, seeds_per_face=1)
    path = load(window, qtbot, photo)
    detected = window.session.entries[path].faces[0].index
    window.session.add_face_box(path, (10.0, 10.0, 90.0, 90.0))
    window.compare.faceToggled.emit(detected)  # a click on the detected face's outline
    entry = restore(window, qtbot, path)
    assert [f.face.index for f in entry.result.faces] == [detected + 1]  # the drawn box only


def test_face_choice_settings_in_the_gui_reach_the_detector(window, qtbot, photo):
    _use(window, min_face_size=4000.0)  # larger than any face of the photo
    path = load(window, qtbot, photo)
    assert window.session.entries[path].faces == []


def test_every_field_of_the_settings_dialog_reaches_the_preferences(qtbot):
    dialog = SettingsDialog(Preferences(), models=[("tiny", "Tiny")])
    qtbot.addWidget(dialog)
    chosen = dict(device="cpu", precision="bf16", model="tiny", steps=7, eta=0.25, polish_timestep=100,
                  seeds_per_face=5, base_seed=11, upscale=4, face_selection="largest", min_face_size=30.0,
                  output_folder="/tmp/out", name_pattern="{stem}_new", export_format="webp", quality=80,
                  auto_start=True, repair_resamples=3, refine_passes=4, spare_sharp_faces=False, keep_16_bits=False,
                  match_grain=False, descreen=False, metadata="no-location")
    for name in ("device", "precision", "model", "upscale", "face_selection", "export_format", "metadata"):
        combo = getattr(dialog, name)
        combo.setCurrentIndex(combo.findData(chosen[name]))
    for name in ("steps", "eta", "polish", "seeds", "base_seed", "min_face_size", "quality", "repair_resamples",
                 "refine_passes"):
        key = {"polish": "polish_timestep", "seeds": "seeds_per_face"}.get(name, name)
        getattr(dialog, name).setValue(chosen[key])
    dialog.output_folder.setText(chosen["output_folder"])
    dialog.name_pattern.setText(chosen["name_pattern"])
    dialog.auto_start.setChecked(True)
    dialog.spare_sharp_faces.setChecked(False)
    dialog.match_grain.setChecked(False)
    dialog.descreen.setChecked(False)
    dialog.keep_16_bits.setChecked(False)
    assert dialog.preferences() == Preferences(**chosen)
    dialog.steps.setValue(0)  # "Model's default"
    assert dialog.preferences().steps is None
    dialog.name_pattern.setText("same_name")
    with pytest.raises(ValueError, match="stem"):
        dialog.preferences()


def test_a_long_model_name_does_not_make_settings_wider_than_a_small_screen(qtbot):
    """Low-vision QA: "Default model (faceapp compact (256 px, CPU-friendly))" made the dialog's
    least width 1,128 px at a 20 pt font, wider than the screen: OK and Cancel were out of sight.
    A field's text may be cut short in a narrow dialog (its list shows it whole); the dialog is not."""
    long_title = "A model with a very long title indeed (512 px, GPU, non-commercial licence)"
    dialog = SettingsDialog(Preferences(), models=[("long", long_title)],
                            default_model="faceapp compact (256 px, CPU-friendly)")
    qtbot.addWidget(dialog)
    assert dialog.minimumSizeHint().width() <= 560
    assert dialog.model.view().minimumWidth() >= dialog.model.fontMetrics().horizontalAdvance(long_title)
    assert dialog.sizeHint().width() > dialog.minimumSizeHint().width()  # room given, it shows them whole
    from PySide6.QtGui import QFont

    large = QFont(dialog.font())
    large.setPointSize(30)  # the form is then wider than the test's 800 px screen: it scrolls sideways
    dialog.setFont(large)
    room = dialog.screen().availableGeometry().width()
    assert dialog.form_area.widget().minimumSizeHint().width() > room
    assert dialog.minimumSizeHint().width() <= room


def test_restore_defaults_shows_every_setting_at_its_default_and_ok_keeps_them(qtbot):
    """Settings QA: the dialog had no way back to the defaults; settings kept without a field here (the
    schedule, unsure faces) could not be put back from the window at all. The fidelity is the slider's."""
    chosen = Preferences(device="cpu", precision="bf16", model="tiny", steps=7, eta=0.25, polish_timestep=100,
                         seeds_per_face=5, base_seed=11, upscale=4, face_selection="largest", min_face_size=30.0,
                         output_folder="/tmp/out", name_pattern="{stem}_new", export_format="webp", quality=80,
                         auto_start=True, repair_resamples=3, refine_passes=4, spare_sharp_faces=False,
                         keep_16_bits=False, match_grain=False, descreen=False, fidelity=0.3, schedule="official",
                         include_unsure_faces=True, metadata="none")
    shown = SettingsDialog(Preferences(), models=[("tiny", "Tiny")])
    qtbot.addWidget(shown)
    shown.show_preferences(chosen)  # every field shows what it is given
    assert shown.preferences() == dataclasses.replace(chosen, fidelity=None, schedule="fast",
                                                      include_unsure_faces=False)
    dialog = SettingsDialog(chosen, models=[("tiny", "Tiny")])
    qtbot.addWidget(dialog)
    assert dialog.preferences() == chosen
    next(button for button in dialog.findChildren(QPushButton) if button.text() == "Reset ever&y field").click()
    assert dialog.preferences() == dataclasses.replace(Preferences(), fidelity=0.3)

def test_the_steps_step_from_the_models_own_count(qtbot):
    """GUI QA: Up on "Model's default" gave 1, then 2, for a model of 6 steps."""
    dialog = SettingsDialog(Preferences(), models=[("tiny", "Tiny")], model_steps={"": 6, "tiny": 4})
    qtbot.addWidget(dialog)
    assert dialog.steps.text() == "Model's default (6)"
    dialog.steps.stepUp()
    assert dialog.steps.value() == 7
    dialog.steps.setValue(0)
    dialog.model.setCurrentIndex(dialog.model.findData("tiny"))
    assert dialog.steps.text() == "Model's default (4)"
    dialog.steps.stepDown()
    assert dialog.steps.value() == 3 and dialog.preferences().steps == 3


def test_settings_at_the_limits_the_cli_takes_come_back_unchanged_from_the_dialog(qtbot):
    """Review: the dialog cut a stored step count above 250 to 250 without a word (the CLI takes 1000)."""
    limits = Preferences(steps=MAX_STEPS, seeds_per_face=MAX_SEEDS, repair_resamples=MAX_RESAMPLES,
                         refine_passes=MAX_REFINE_PASSES, polish_timestep=MAX_POLISH_TIMESTEP, quality=100)
    dialog = SettingsDialog(limits, models=[])
    qtbot.addWidget(dialog)
    assert dialog.preferences() == limits


def test_the_settings_dialog_offers_quality_only_where_a_format_uses_it(qtbot):
    dialog = SettingsDialog(Preferences(), models=[("tiny", "Tiny")])
    qtbot.addWidget(dialog)
    for fmt, lossy in (("png", False), ("tiff", False), ("jpg", True), ("webp", True), ("", True)):
        dialog.export_format.setCurrentIndex(dialog.export_format.findData(fmt))
        assert dialog.quality.isEnabled() == lossy, fmt  # "" keeps the original's type: maybe a JPEG


@pytest.mark.parametrize(("pattern", "says"), [("restored_photo", "must contain {stem}"),
                                               ("{stem}_{date}", "uses {date}, but a name here may use only {stem}, "
                                                                 "the original's name"),
                                               ("{stem}_{seed}", "{seed} numbers the CLI's files of --seeds N"),
                                               ("{stem}_x}", "cannot name a file (Single '}'"),
                                               ("{stem}/x", "cannot name a file (it must give a plain file name)"),
                                               ("{stem}_" + "x" * 300, "would be 310 ")])
def test_a_bad_name_pattern_keeps_the_dialog_open_with_every_edit(qtbot, pattern, says):
    """OK with one bad field says what is wrong in the dialog and keeps the other edits, instead
    of closing and throwing every change away; a pattern Save could not use is refused here."""
    dialog = SettingsDialog(Preferences(), models=[("tiny", "Tiny")])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.seeds.setValue(6)
    dialog.name_pattern.setText(pattern)
    dialog.accept()
    assert dialog.isVisible() and dialog.result() != dialog.DialogCode.Accepted
    assert dialog.problem.isVisible() and says in dialog.problem.text()
    assert dialog.seeds.value() == 6
    dialog.name_pattern.setText("{stem:.12}_fixed")  # the name, cut to 12 characters
    dialog.accept()
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Accepted
    assert dialog.preferences().seeds_per_face == 6


def test_devices_this_computer_lacks_are_offered_greyed_out_and_named_so(qtbot):
    """QA: on a computer without a GPU, CUDA and MPS could be chosen like the CPU, and the next
    restore failed; a device set before (on another computer) stays selected, to be changed."""
    dialog = SettingsDialog(Preferences(device="mps"), models=[], available=["cpu"])
    qtbot.addWidget(dialog)
    items = {dialog.device.itemData(r): dialog.device.model().item(r) for r in range(dialog.device.count())}
    assert items["cuda"].text() == "CUDA (none found on this computer)" and not items["cuda"].isEnabled()
    assert items["cpu"].text() == "CPU" and items["cpu"].isEnabled() and items["auto"].isEnabled()
    assert items["mps"].isEnabled() and dialog.device.currentData() == "mps"  # (the current setting)
    everything = SettingsDialog(Preferences(), models=[])  # (without the list: all offered)
    qtbot.addWidget(everything)
    assert all(everything.device.model().item(r).isEnabled() for r in range(everything.device.count()))


def test_every_setting_says_what_it_does_in_a_tooltip_that_wraps(qtbot):
    """QA: six settings had no tooltip, and the texture polish's ran about 1,100 px wide on one line."""
    from PySide6.QtGui import Qt
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit

    dialog = SettingsDialog(Preferences(), models=[("tiny", "Tiny")])
    qtbot.addWidget(dialog)
    fields = [w for w in vars(dialog).values() if isinstance(w, (QComboBox, QAbstractSpinBox, QLineEdit, QAbstractButton))]
    assert len(fields) >= 18 and [type(w).__name__ for w in fields if not w.toolTip()] == []
    long = [w.toolTip() for w in fields if len(w.toolTip()) > 100]
    assert long and all(Qt.mightBeRichText(tip) and tip.startswith("<p>") for tip in long)  # shown wrapped
    assert "{stem}" in dialog.name_pattern.toolTip()  # (the words kept, escaped where needed)


def test_the_output_folder_takes_the_home_folder_and_refuses_a_relative_path(qtbot, monkeypatch, tmp_path):
    """QA: '~/restored' made a folder named '~' under wherever the app was started, and Save said
    the photo was in the home folder; a relative path is refused, with the field to fix focused."""
    monkeypatch.setenv("HOME", str(tmp_path))
    dialog = SettingsDialog(Preferences(), models=[("tiny", "Tiny")])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.output_folder.setText(" ~/restored ")
    assert dialog.preferences().output_folder == str(tmp_path / "restored")
    dialog.output_folder.setText("restored")
    dialog.accept()
    assert dialog.isVisible() and "is not a full path" in dialog.problem.text()
    assert dialog.focusWidget() is dialog.output_folder
    dialog.output_folder.setText("")  # none: beside the original
    dialog.accept()
    assert not dialog.isVisible() and dialog.preferences().output_folder == ""
