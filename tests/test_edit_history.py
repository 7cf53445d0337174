"""A photo's edit history: Undo takes back its last edit of any kind, Redo does it again."""

from __future__ import annotations

from faceapp.core.edit_history import Edit, EditHistory
from faceapp.core.mask_editing import Clear, Loaded, MaskEditor, Stroke, step_words


def test_undo_takes_back_the_last_edit_whatever_its_kind_and_redo_does_it_again():
    history = EditHistory()
    stroke = Edit("damage", "damage stroke")
    pick = Edit("pick", "face 1's seed pick", face=0, before=0, after=2, browsed=True)
    assert history.next_undo is None and history.undo() is None and history.redo() is None
    history.record(stroke)
    history.record(pick)
    assert history.next_undo == pick
    assert history.undo() == pick and history.next_undo == stroke and history.next_redo == pick
    assert history.undo() == stroke and history.next_undo is None
    assert history.redo() == stroke and history.redo() == pick and history.next_redo is None


def test_a_new_edit_ends_what_redo_could_do_and_says_when_damage_was_among_it():
    history = EditHistory()
    history.record(Edit("damage", "damage stroke"))
    history.undo()
    assert history.record(Edit("switch", "face 1 switched off", face=0, after=0))  # the stroke cannot come back
    assert history.next_redo is None
    history.undo()
    assert not history.record(Edit("switch", "face 1 switched on", face=0, after=1))


def test_picks_of_one_face_in_a_row_are_one_edit_and_a_pick_back_is_none():
    """The gallery browsed with the arrow keys: one Undo goes back to the seed before."""
    history = EditHistory()
    for before, after in ((0, 1), (1, 2), (2, 3)):
        history.record(Edit("pick", "face 1's seed pick", face=0, before=before, after=after, browsed=True))
    assert history.undo() == Edit("pick", "face 1's seed pick", face=0, before=0, after=3, browsed=True)
    assert history.next_undo is None
    history.redo()
    history.record(Edit("pick", "face 2's seed pick", face=1, before=0, after=1, browsed=True))  # another face: its own
    history.record(Edit("pick", "face 2's seed pick", face=1, before=1, after=0, browsed=True))  # back where it started
    assert history.next_undo.face == 0


def test_picks_are_one_edit_only_while_nothing_else_comes_between_them():
    """Day QA: a pick redone, or one saved, then another pick of that face were merged into one
    edit, so Undo could not come back to the seed redone or saved."""
    history = EditHistory()
    history.record(Edit("pick", "face 1's seed pick", face=0, before=0, after=2, browsed=True))
    history.undo()
    history.redo()
    history.record(Edit("pick", "face 1's seed pick", face=0, before=2, after=5, browsed=True))
    assert history.undo().before == 2
    history.record(Edit("pick", "face 1's seed pick", face=0, before=2, after=3, browsed=True))
    history.seal()  # (saved)
    history.record(Edit("pick", "face 1's seed pick", face=0, before=3, after=1, browsed=True))
    assert history.undo().before == 3 and history.undo().before == 2


def test_a_refined_pass_chosen_after_a_pick_is_an_edit_of_its_own():
    """Review: Refine's choice of its pass merged into the pick before it, so Undo skipped it."""
    history = EditHistory()
    history.record(Edit("pick", "face 1's seed pick", face=0, before=0, after=2, browsed=True))
    history.record(Edit("pick", "face 1's refined pass", face=0, before=2, after=4))
    assert history.undo().before == 2 and history.undo().before == 0


def test_a_redo_mid_stroke_keeps_the_stroke_whole_and_ends_what_redo_could_do():
    """Review: a redo while a stroke was drawn (Ctrl+Shift+Z with Shift held for the keyboard
    brush) rebuilt the mask without the stroke's part drawn so far, while its history kept it."""
    editor = MaskEditor(60, 40)
    editor.begin_stroke(5, 5, radius=2)
    editor.end_stroke()
    editor.undo()
    editor.begin_stroke(5, 30, radius=3)
    editor.extend_stroke(50, 30)
    assert editor.open_stroke_words == "damage stroke"
    editor.redo()
    assert not editor.can_redo and editor.mask()[30, 25] == 255 and editor.open_stroke_words is None
    replayed = MaskEditor(60, 40)
    for stroke in editor.history:
        replayed.begin_stroke(*stroke.points[0], radius=stroke.radius)
        for point in stroke.points[1:]:
            replayed.extend_stroke(*point)
        replayed.end_stroke()
    assert (replayed.mask() == editor.mask()).all()


def test_forgetting_picks_keeps_the_other_edits_and_other_faces_picks_when_one_face_is_named():
    history = EditHistory()
    history.record(Edit("pick", "face 1's seed pick", face=0, before=0, after=1, browsed=True))
    history.record(Edit("damage", "damage stroke"))
    history.record(Edit("pick", "face 2's seed pick", face=1, before=0, after=1, browsed=True))
    history.forget("pick", face=1)
    assert [e.face for e in (history.undo(), history.undo())] == [None, 0]
    history.forget("pick")
    assert history.next_redo.kind == "damage" and history.next_undo is None


def test_a_mask_editor_tells_each_step_it_adds_in_words_for_the_menu():
    editor, steps = MaskEditor(40, 30), []
    editor.on_step = steps.append
    editor.begin_stroke(5, 5, radius=2)
    editor.extend_stroke(20, 5)
    assert steps == []  # (a stroke is a step once it ends)
    editor.end_stroke()
    editor.begin_stroke(5, 5, radius=2, erase=True)
    editor.end_stroke()
    editor.clear()
    editor.load(editor.mask() | 255)
    assert [step_words(s) for s in steps] == ["damage stroke", "eraser stroke", "clear damage", "damage mask loaded"]
    assert [type(s) for s in steps] == [Stroke, Stroke, Clear, Loaded]
    editor.undo()
    assert editor.can_redo
    editor.forget_redo()
    assert not editor.can_redo and len(steps) == 4  # (undo adds no step)


def test_a_pick_that_did_not_take_leaves_the_history_and_the_picks_before_it_stay():
    """Review: a failed composite took every pick of the face out of the history."""
    history = EditHistory()
    history.record(Edit("pick", "face 1's seed pick", face=0, before=0, after=2, browsed=True))
    history.seal()
    history.record(Edit("pick", "face 1's seed pick", face=0, before=2, after=3, browsed=True))
    history.drop_pick(0, 3, 2)
    assert history.next_undo.after == 2
    history.drop_pick(0, 5, 2)  # (not the last pick: nothing goes)
    assert history.next_undo.after == 2
    history.record(Edit("pick", "face 1's seed pick", face=0, before=2, after=4, browsed=True))
    history.record(Edit("pick", "face 1's seed pick", face=0, before=4, after=5, browsed=True))  # (one edit: 2→5)
    history.drop_pick(0, 5, 4)  # 5 failed, 4 shown again: the run ends on 4
    assert (history.next_undo.before, history.next_undo.after) == (2, 4)
    assert history.undo().before == 2 and history.undo().before == 0


def test_refined_passes_in_a_row_are_edits_of_their_own_and_a_run_back_to_its_start_ends():
    """Fuzz QA: two Refines in a row were one edit (Undo skipped the first pass); a run of picks
    back where it began, then another pick, joined the pick before a Save; a pick after another
    face's picks were forgotten joined an older one of its own face."""
    history = EditHistory()
    history.record(Edit("pick", "face 1's refined pass", face=0, before=2, after=3))
    history.record(Edit("pick", "face 1's refined pass", face=0, before=3, after=4))
    assert history.undo().before == 3
    history = EditHistory()
    history.record(Edit("pick", "face 1's seed pick", face=0, before=0, after=1, browsed=True))
    history.seal()
    for before, after in ((1, 2), (2, 1), (1, 2)):
        history.record(Edit("pick", "face 1's seed pick", face=0, before=before, after=after, browsed=True))
    assert history.undo().before == 1
    history = EditHistory()
    history.record(Edit("pick", "face 1's seed pick", face=0, before=0, after=1, browsed=True))
    history.record(Edit("pick", "face 2's seed pick", face=1, before=0, after=2, browsed=True))
    history.forget("pick", face=1)
    history.record(Edit("pick", "face 1's seed pick", face=0, before=1, after=2, browsed=True))
    assert history.undo().before == 1
