"""The seed gallery's "Diffuse anyway": a face spared as sharp is sampled again at the run's
fidelity on the worker, the window keeps it diffused through later restores and in the saved file's
provenance, and "Spare again" brings the restorer's face back."""

from __future__ import annotations

import dataclasses

import gui_util
import numpy as np
from gui_util import install_tiny_model, load, restore, said, saved

from faceapp.core.export import read_provenance

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


def _resampled(window, qtbot, path):
    window.gallery.diffuse_button.click()
    assert window.session.busy and not window.gallery.diffuse_button.isEnabled()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    gui_util.wait_composed(window, qtbot, path)
    return window.session.entries[path]


def test_a_spared_face_is_diffused_on_request_and_spared_again(window, qtbot, photo):
    model = install_tiny_model("tiny-sparing", sharp_faces=(254.0, 255.0))  # every face is "sharp"
    window.models.apply_preferences(dataclasses.replace(
        window.session.prefs, model=model, device="cpu", seeds_per_face=3, fidelity=0.6, spare_sharp_faces=True))
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    kept = entry.result.faces[0]
    assert kept.fidelity == 1.0 and window.gallery.thumbnail_count() == 1  # one face for every seed
    button = window.gallery.diffuse_button
    assert button.isVisible() and button.text() == "Diffuse anyway" and "0.60" in button.toolTip()
    assert "Barely changed by the restorer" in window.gallery._sparing_text.text() and not window.gallery._alike.isVisible()
    assert window.gallery._face_combo.itemText(0) == "Face 1 · kept"  # the face list says which are, and how
    assert window.run_panel.preview_caption.text() == "Face 1 · kept"  # and the preview in the same words (QA)
    assert not window.gallery.more_button.isEnabled() and "Diffuse anyway first" in window.gallery.more_button.toolTip()

    runs, notes = [], []
    window.session.runFinished.connect(lambda p, seconds, run: runs.append((p, seconds, run)))
    window.session.note.connect(lambda text, about: notes.append((text, about)))
    window.time_label.setText("")
    entry = _resampled(window, qtbot, path)
    face = entry.result.faces[0]
    assert face.fidelity == 0.6 and face.seeds == kept.seeds and face.face.diffuse_anyway
    # the status bar's last run is this one (QA: after 30 s of sampling it kept the restore's 0.3 s)
    # and says which (QA: "Last run 1.7 s" beside the panel's "Restored in 1.6 s", two runs)
    assert len(runs) == 1 and runs[0][0] == path
    assert window.time_label.text().startswith(f"Last run (Diffuse anyway): {path.name}, ")
    assert window.gallery.thumbnail_count() == 3  # three seeds, three faces to choose from
    assert button.text() == "Spare again" and "as you asked" in window.gallery._sparing_text.text()
    assert f"{path.name}: Face 1 diffused at fidelity 0.60" in said(window)  # which photo's face 1
    # about that photo: out of sight while another is shown (workflow QA: it stayed over the next photo)
    assert [about for text, about in notes if "diffused at fidelity" in text] == [path]
    assert window.gallery._face_combo.itemText(0) == "Face 1"
    assert not np.array_equal(gui_util.shown_after(window), kept.restored)
    assert [f.diffuse_anyway for f in entry.faces][:1] == [True]  # the photo's face keeps the request…
    window.gallery.click_candidate(2)

    entry = restore(window, qtbot, path)  # …so restoring the photo again diffuses it again
    assert entry.result.faces[0].fidelity == 0.6
    [written] = saved(window, qtbot, window.exports.save)
    assert read_provenance(written)["faces"][0]["diffuse_anyway"] is True

    window.gallery.click_candidate(1)  # a pick among the candidates Spare again replaces…
    assert window.actions_["undo"].text() == "&Undo face 1's seed pick"
    entry = _resampled(window, qtbot, path)  # Spare again
    face = entry.result.faces[0]
    assert face.fidelity == 1.0 and not face.face.diffuse_anyway and not entry.faces[0].diffuse_anyway
    assert not window.actions_["undo"].isEnabled()  # …leaves the history with them (review)
    np.testing.assert_array_equal(face.restored, kept.restored)
    assert window.gallery.thumbnail_count() == 1 and button.text() == "Diffuse anyway"
    assert "Face 1 spared again" in said(window)


def test_a_face_the_model_does_not_spare_offers_no_diffuse_button(window, qtbot, photo):
    path = load(window, qtbot, photo)  # the fixture's settings diffuse every face
    restore(window, qtbot, path)
    assert window.gallery.thumbnail_count() == 3 and not window.gallery.diffuse_button.isVisible()


def _sparing_window(window, qtbot, photo):
    model = install_tiny_model("tiny-sparing", sharp_faces=(254.0, 255.0))  # every face is "sharp"
    window.models.apply_preferences(dataclasses.replace(
        window.session.prefs, model=model, device="cpu", seeds_per_face=3, fidelity=0.6, spare_sharp_faces=True))
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    return path


def test_a_restore_pressed_while_a_face_is_resampled_restores_it_as_asked(window, qtbot, photo):
    """Restore pressed right after Diffuse anyway: the restore (queued behind it) diffuses the face
    too, and the gallery offers Spare again (the request was the photo's as soon as it was made)."""
    path = _sparing_window(window, qtbot, photo)
    window.gallery.diffuse_button.click()
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.actions_["restore"].trigger()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    entry = window.session.entries[path]
    assert entry.result.faces[0].fidelity == 0.6 and entry.faces[0].diffuse_anyway
    assert window.gallery.diffuse_button.text() == "Spare again"


def test_diffusing_a_switched_off_face_leaves_it_off(window, qtbot, photo):
    path = _sparing_window(window, qtbot, photo)
    entry = window.session.entries[path]
    window.session.toggle_face(path, entry.faces[0].index)  # switched off after the restore
    _resampled(window, qtbot, path)
    assert not entry.faces[0].enabled and entry.faces[0].diffuse_anyway  # still off: only the request changed


def test_a_cancelled_diffuse_anyway_takes_the_request_back(window, qtbot, photo, monkeypatch):
    import faceapp.gui.confirm

    asked = []
    monkeypatch.setattr(faceapp.gui.confirm, "ask_before_discarding",
                        lambda parent, text, **buttons: asked.append(text) or "cancel")
    path = _sparing_window(window, qtbot, photo)
    entry = window.session.entries[path]
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, steps=200))  # slow enough to cancel
    steps = []
    window.session.progress.connect(lambda p, text, fraction, preview: steps.append(fraction))
    window.gallery.diffuse_button.click()
    assert entry.faces[0].diffuse_anyway  # the photo's at once (a Restore pressed now would use it)
    qtbot.waitUntil(lambda: any(f > 0 for f in steps), timeout=30000)  # sampling
    window.close()  # asks first, and says what runs
    assert window.isVisible() and "Sampling a face again is under way: closing stops it." in asked[-1]
    monkeypatch.setattr(faceapp.gui.confirm, "ask_before_discarding", lambda parent, text, **buttons: "discard")
    window.cancel_button.click()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=30000)
    assert not entry.faces[0].diffuse_anyway and entry.result.faces[0].fidelity == 1.0
    assert window.gallery.diffuse_button.text() == "Diffuse anyway"


def test_diffuse_anyway_pressed_from_the_keyboard_gets_the_focus_back(window, qtbot, photo):
    """Pressed with Space, the button is disabled while its job runs, which moved the focus on to
    the thumbnails: a second Space did nothing (QA). The focus comes back to it."""
    path = _sparing_window(window, qtbot, photo)
    button = window.gallery.diffuse_button
    button.setFocus()
    qtbot.waitUntil(button.hasFocus)
    qtbot.keyClick(button, " ")
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    gui_util.wait_composed(window, qtbot, path)
    qtbot.waitUntil(button.hasFocus)
    assert button.text() == "Spare again"
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, steps=60))  # time to move on
    qtbot.keyClick(button, " ")  # Spare again, and the user goes on to the face list meanwhile:
    combo = window.gallery._face_combo
    combo.setFocus()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    qtbot.wait(50)
    assert combo.hasFocus() and not button.hasFocus()  # not taken back from where the user went


def test_a_kept_face_once_refined_is_no_longer_called_kept(window, qtbot, photo):
    """The face list said "Face 1 · kept" (as the restorer made it) over a refined candidate."""
    model = install_tiny_model("tiny-sparing", sharp_faces=(254.0, 255.0))  # every face is "sharp"
    window.models.apply_preferences(dataclasses.replace(
        window.session.prefs, model=model, device="cpu", seeds_per_face=2, spare_sharp_faces=True, refine_passes=1))
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    assert window.gallery._face_combo.itemText(0) == "Face 1 · kept"
    window.actions_["refine"].trigger()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    assert window.session.entries[path].result.faces[0].refinement_of(window.session.entries[path].result.faces[0].chosen)
    assert window.gallery._face_combo.itemText(0) == "Face 1"
    assert window.run_panel.preview_caption.text().endswith("· refined")
    window.gallery.click_candidate(0)  # the restorer's face again: kept
    assert window.gallery._face_combo.itemText(0) == "Face 1 · kept"


def test_refine_on_a_spared_face_asks_first_and_cancel_leaves_it_kept(window, qtbot, photo, monkeypatch):
    """Damage QA: Refine let the prior smear a face kept as sharp, unasked, and the smeared pass was
    picked. It asks first, and Cancel (the default) refines nothing."""
    from faceapp.gui import confirm

    model = install_tiny_model("tiny-sparing", sharp_faces=(254.0, 255.0))  # every face is "sharp"
    window.models.apply_preferences(dataclasses.replace(
        window.session.prefs, model=model, device="cpu", seeds_per_face=2, fidelity=0.6, spare_sharp_faces=True))
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    asked, answers = [], ["cancel", "discard"]  # then the close question's: "Close without saving"
    monkeypatch.setattr(confirm, "ask_before_discarding",
                        lambda parent, text, **buttons: asked.append((text, buttons)) or (answers.pop(0) if answers
                                                                                         else "discard"))
    window.actions_["refine"].trigger()
    assert not window.session.busy and entry.result.faces[0].refinements == ()
    text, buttons = asked[0]
    assert text.startswith("Face 1 was spared the prior") and buttons["discard"] == "Refine anyway"
    window.actions_["refine"].trigger()  # "Refine anyway"
    qtbot.waitUntil(lambda: bool(window.session.entries[path].result.faces[0].refinements), timeout=60000)
    assert len(asked) == 2
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    window.actions_["refine"].trigger()  # the refined pass refined again: asked once was enough (power-user QA)
    qtbot.waitUntil(lambda: len(window.session.entries[path].result.faces[0].refinements) == 2, timeout=60000)
    assert len(asked) == 2


def test_refine_on_a_face_sampled_at_a_higher_fidelity_asks_in_words_that_say_so(window, qtbot, photo, monkeypatch):
    """Day-in-the-life QA: a face sampled at 0.94 (partly spared) was said to have been "spared the
    prior", which had worked on it."""
    from faceapp.gui import confirm

    model = install_tiny_model("tiny-sparing", sharp_faces=(254.0, 255.0))
    window.models.apply_preferences(dataclasses.replace(
        window.session.prefs, model=model, device="cpu", seeds_per_face=2, fidelity=0.6, spare_sharp_faces=True))
    path = load(window, qtbot, photo)
    change = restore(window, qtbot, path).result.faces[0].restorer_change
    ramp = install_tiny_model("tiny-partly", sharp_faces=(change / 2, change * 2))  # a third of the diffusion
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, model=ramp))
    entry = restore(window, qtbot, path)
    fidelity = entry.result.faces[0].fidelity
    assert 0.6 < fidelity < 1.0
    asked = []
    monkeypatch.setattr(confirm, "ask_before_discarding",
                        lambda parent, text, **buttons: asked.append(text) or "cancel" if text.startswith("Face")
                        else "discard")
    window.actions_["refine"].trigger()
    assert asked == [f"Face 1 was sampled at fidelity {fidelity:.2f}, above the 0.60 it was restored at: the restorer "
                     "barely changed it, and the prior would mostly smear it. Refine lets the prior work on it more."]
