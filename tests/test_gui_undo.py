"""Edit ▸ Undo and Redo take back and do again the photo's last edit of any kind, and say which
(QA: they covered damage strokes only, so Ctrl+Z after a seed pick took back an older stroke,
unseen, and left the pick)."""

from __future__ import annotations

import shutil

import gui_util
from gui_util import load, restore, said, wait_composed
from test_gui_damage import paint

from faceapp.gui.actions import plain_menu_text

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


def _menu(window) -> tuple[str, str]:
    a = window.actions_
    return plain_menu_text(a["undo"].text()), plain_menu_text(a["redo"].text())


def test_undo_takes_back_a_seed_pick_before_the_stroke_painted_earlier_and_the_menu_names_each(window, qtbot, photo):
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    window.actions_["damage_brush"].setChecked(True)
    paint(window, qtbot, [(10, 200), (60, 120)])  # the background, left of the face
    editor = window.session.damage_editor(path)
    assert _menu(window) == ("Undo damage stroke", "Redo")
    window.session.choose(path, 0, 2)  # a seed picked in the gallery
    wait_composed(window, qtbot, path)
    assert _menu(window) == ("Undo face 1's seed pick", "Redo")
    window.actions_["undo"].trigger()
    assert entry.result.faces[0].chosen == 0 and not editor.is_empty()  # the pick taken back, the stroke kept
    assert "Undone: face 1's seed pick." in said(window)
    assert _menu(window) == ("Undo damage stroke", "Redo face 1's seed pick")
    window.actions_["undo"].trigger()
    assert editor.is_empty() and _menu(window) == ("Undo", "Redo damage stroke")
    assert not window.actions_["undo"].isEnabled()
    window.actions_["redo"].trigger()
    window.actions_["redo"].trigger()
    assert not editor.is_empty() and entry.result.faces[0].chosen == 2
    wait_composed(window, qtbot, path)
    assert window.session.unsaved() == [path]


def test_a_face_switched_off_and_a_box_drawn_are_undone_and_redone(window, qtbot, photo):
    path = load(window, qtbot, photo)
    entry = window.session.entries[path]
    [face] = entry.faces
    window.session.toggle_face(path, face.index)
    assert not entry.faces[0].enabled and _menu(window)[0] == f"Undo face {face.index + 1} switched off"
    window.session.add_face_box(path, (250, 40, 330, 120))
    box = entry.faces[-1].index
    assert len(entry.faces) == 2 and _menu(window)[0] == f"Undo face box {box + 1}"
    window.actions_["undo"].trigger()
    assert [f.index for f in entry.faces] == [face.index] and not entry.drawn  # the box gone
    assert not window.session.faces_drawn_unrestored(path)  # (removing the photo no longer asks about it)
    window.actions_["undo"].trigger()
    assert entry.faces[0].enabled and window.filmstrip.state_text(path) == "1 face"
    window.actions_["redo"].trigger()
    window.actions_["redo"].trigger()
    assert not entry.faces[0].enabled and [f.index for f in entry.faces] == [face.index, box]


def test_an_edit_after_an_undo_ends_redo_and_a_restore_ends_the_picks_among_the_candidates_it_replaced(
        window, qtbot, photo):
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    window.actions_["damage_brush"].setChecked(True)
    paint(window, qtbot, [(10, 200), (60, 120)])
    editor = window.session.damage_editor(path)
    window.actions_["undo"].trigger()
    window.session.choose(path, 0, 1)  # a new edit: the stroke taken back cannot be painted again
    assert not window.actions_["redo"].isEnabled() and not editor.can_redo
    wait_composed(window, qtbot, path)
    entry = restore(window, qtbot, path)
    assert entry.result.faces[0].chosen == 1  # (the pick is carried over to the new result…)
    assert not window.actions_["undo"].isEnabled()  # …but is no edit of it: nothing to take back


def test_a_seed_picked_before_a_restore_without_its_face_is_chosen_again_when_the_face_comes_back(
        window, qtbot, testdata_dir, tmp_path):
    """Undo QA: seeds picked for faces 1-3; face 2 switched off for a restore, then on for the next:
    face 2 was back on its first seed without a word (only the result just before was looked at)."""
    photo = shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", tmp_path / "two_faces.jpg")
    gui_util.set_sampling(window, seeds=3, steps=1)
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    second = entry.result.faces[1].face.index
    window.session.choose(path, 0, 1)
    window.session.choose(path, 1, 2)
    window.session.toggle_face(path, second)
    entry = restore(window, qtbot, path)
    assert [f.seeds[f.chosen] for f in entry.result.faces] == [1]
    window.session.toggle_face(path, second)
    entry = restore(window, qtbot, path)
    assert [f.seeds[f.chosen] for f in entry.result.faces] == [1, 2]


def test_restoring_again_asks_before_it_drops_candidates_from_more_and_refined_passes(window, qtbot, photo,
                                                                                     monkeypatch):
    """Undo QA: a restore again dropped More's candidates and the refined passes, chosen or not,
    without a question (Refine asks before its own loss)."""
    from faceapp.gui import confirm

    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    asked = []
    monkeypatch.setattr(confirm, "ask_before_discarding",  # (the close question at the end: discard)
                        lambda parent, text, **buttons: asked.append(text) or "cancel" if text.startswith("Restoring")
                        else "discard")
    window.actions_["restore"].trigger()  # nothing would go: not asked, restored
    qtbot.waitUntil(lambda: not window.session.is_working(path), timeout=60000)
    assert asked == []
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.session.more(path, 0, count=2)
    window.actions_["restore"].trigger()
    assert asked == [f"Restoring {path.name} again makes its candidates anew: 2 candidates of seeds the settings do "
                     "not give now (from More, or set before) will go (a seed picked that is sampled again stays "
                     "chosen)."]
    assert not window.session.restoring(path) and len(window.session.entries[path].result.faces[0].candidates) == 5
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.session.refine(path, 0, passes=1)
    gui_util.set_sampling(window, seeds=2, steps=4)  # (settings changed: Restore all would restore it again)
    window.actions_["restore_all"].trigger()
    assert asked[-1] == (f"Restoring {path.name} again makes its candidates anew: 3 candidates of seeds the settings "
                         "do not give now (from More, or set before) and 1 refined pass will go (a seed picked that is "
                         "sampled again stays chosen).")
    assert not window.session.restoring(path)
    window.session.more(path, 0, count=1)  # still sampling as Restore is pressed (concurrency QA: unasked)
    window.actions_["restore"].trigger()
    assert "1 refined pass and the candidates being made now (More, Refine) will go" in asked[-1]
    assert not window.session.restoring(path)
    qtbot.waitUntil(lambda: not window.session.is_working(path), timeout=60000)


def test_restore_all_can_restore_the_other_photos_and_keep_the_candidates_of_one(window, qtbot, photo, testdata_dir,
                                                                                 monkeypatch):
    """Smoke QA: Restore all's question named only the photo that would lose candidates, and its
    Cancel stopped the other photos too: "Restore the others" restores them and keeps that one."""
    import shutil

    from faceapp.gui import confirm

    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.session.more(path, 0, count=1)
    other = load(window, qtbot, shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", photo.parent / "two.jpg"))
    gui_util.set_sampling(window, seeds=2, steps=4)  # (settings changed: Restore all would restore it again)
    asked = []
    monkeypatch.setattr(confirm, "ask_before_discarding", lambda parent, text, **buttons: asked.append(
        (text, buttons)) or "save" if text.startswith("Restoring") else "discard")
    window.actions_["restore_all"].trigger()
    [(text, buttons)] = asked
    assert text.endswith("The other photo can be restored without it.") and buttons["save"] == "Restore the other"
    qtbot.waitUntil(lambda: window.session.entries[other].result is not None, timeout=60000)
    assert len(window.session.entries[path].result.faces[0].candidates) == 4  # (kept: More's seed with it)
    assert f"{path.name} kept as it is, with its candidates." in gui_util.said(window)


def test_the_pass_refine_chose_is_undone_before_the_pick_it_refined(window, qtbot, photo):
    """Review: Refine chose its pass without an edit, so Undo took back the pick before it (to
    seed 0), and neither Undo nor Redo came back to the refined pass."""
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    window.session.choose(path, 0, 2)
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.session.refine(path, 0, passes=1)
    refined = entry.result.faces[0].chosen
    assert refined == 3 and _menu(window)[0] == "Undo face 1's refined pass"
    window.actions_["undo"].trigger()
    assert window.session.entries[path].result.faces[0].chosen == 2
    window.actions_["undo"].trigger()
    assert window.session.entries[path].result.faces[0].chosen == 0
    window.actions_["redo"].trigger()
    window.actions_["redo"].trigger()
    assert window.session.entries[path].result.faces[0].chosen == refined


def test_a_box_drawn_after_one_taken_back_gets_a_new_number(window, qtbot, photo):
    """Review: the number of a box taken back was given to the next one, which took over the old
    box's seed pick."""
    path = load(window, qtbot, photo)
    entry = window.session.entries[path]
    window.session.add_face_box(path, (250, 40, 330, 120))
    first = entry.faces[-1].index
    window.actions_["undo"].trigger()
    window.session.add_face_box(path, (10, 120, 90, 200))
    assert entry.faces[-1].index == first + 1


def test_undo_after_a_save_comes_back_to_the_seed_saved(window, qtbot, photo):
    """Day QA: a pick, Save, another pick of the same face: Undo went past the saved seed (the two
    picks were one edit), so what was saved could not be got back with it."""
    from gui_util import saved

    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    window.session.choose(path, 0, 1)
    wait_composed(window, qtbot, path)
    saved(window, qtbot, window.exports.save)
    window.session.choose(path, 0, 2)
    wait_composed(window, qtbot, path)
    window.actions_["undo"].trigger()
    assert window.session.entries[path].result.faces[0].chosen == 1
    wait_composed(window, qtbot, path)
    assert window.session.unsaved() == []  # (back on the picture saved)


def test_a_pick_whose_picture_cannot_be_made_leaves_the_undo_history_and_the_pick_before_it_stays(
        window, qtbot, photo, monkeypatch):
    """Review: a composite that failed (memory short) took every pick of the face out of the
    history; Undo then said "Undone" of a pick that had not taken."""
    from faceapp.gui import composer

    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    window.session.choose(path, 0, 1)
    wait_composed(window, qtbot, path)
    window.actions_["undo"].trigger()
    window.actions_["redo"].trigger()  # (the next pick is an edit of its own)
    wait_composed(window, qtbot, path)
    made = composer._composite_images

    def short_of_memory(result):
        if result.faces[0].chosen == 2:
            raise MemoryError("short")
        return made(result)

    monkeypatch.setattr(composer, "_composite_images", short_of_memory)
    window.session.choose(path, 0, 2)
    qtbot.waitUntil(lambda: not window.session.composer.pending(path), timeout=20000)
    assert window.session.entries[path].result.faces[0].chosen == 1  # the seed shown before, chosen again
    assert _menu(window)[0] == "Undo face 1's seed pick"
    window.actions_["undo"].trigger()
    assert window.session.entries[path].result.faces[0].chosen == 0 and entry.result is not None
    assert "Undone: face 1's seed pick." in said(window)


def test_picks_made_before_and_after_a_visit_to_another_photo_are_two_edits(window, qtbot, photo, testdata_dir):
    """Undo QA: browsing a face's seeds, then another photo, then the first again: Undo went back past
    the seed the photo showed when it was left, to the one before the first pick."""
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    other = load(window, qtbot, shutil.copy(testdata_dir / "photos" / "cf_04.jpg", photo.parent / "two.jpg"))
    window.filmstrip.select(path)
    qtbot.waitUntil(lambda: window.current == path, timeout=10000)
    window.session.choose(path, 0, 1)
    window.filmstrip.select(other)
    qtbot.waitUntil(lambda: window.current == other, timeout=10000)
    window.filmstrip.select(path)
    qtbot.waitUntil(lambda: window.current == path, timeout=10000)
    window.session.choose(path, 0, 2)
    wait_composed(window, qtbot, path)
    window.actions_["undo"].trigger()
    assert entry.result.faces[0].chosen == 1  # the seed it showed when it was left
    window.actions_["undo"].trigger()
    assert entry.result.faces[0].chosen == 0


def test_a_box_taken_back_and_brought_back_keeps_its_faces_diffuse_anyway(window, qtbot, photo):
    """Undo QA: a box whose face was set to Diffuse anyway came back by Redo as it was drawn, the choice
    lost unsaid: the next restore spared the face again."""
    path = load(window, qtbot, photo)
    window.session.add_face_box(path, (250, 40, 330, 120))
    entry = restore(window, qtbot, path)
    box = entry.faces[-1].index
    position = next(i for i, f in enumerate(entry.result.faces) if f.face.index == box)
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.session.diffuse_anyway(path, position, True)
    assert [f.diffuse_anyway for f in entry.faces if f.index == box] == [True]
    window.actions_["undo"].trigger()
    assert _menu(window)[1] == f"Redo face box {box + 1}"
    window.actions_["redo"].trigger()
    assert [f.diffuse_anyway for f in entry.faces if f.index == box] == [True]
