"""Restored work is not thrown away unasked: closing the window or removing a photo whose result
is not saved asks first, "Save all and close" saves before closing, and Save does not write the
same result twice."""

from __future__ import annotations

import gui_util
import pytest
from gui_util import load, restore, said, saved

import faceapp.gui.confirm

photo, window, gated_export = gui_util.photo, gui_util.window, gui_util.gated_export  # the shared fixtures


class Answers(list):
    """The user's answers to the questions asked, in order; :attr:`asked` records the texts, and
    :attr:`options` how each was asked (its buttons, whether Save loses some of it)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []
        self.options: list[dict] = []

    def __call__(self, parent, text, **options) -> str:
        self.asked.append(text)
        self.options.append(options)
        return self.pop(0)


@pytest.fixture
def answers(monkeypatch):
    given = Answers()
    monkeypatch.setattr(faceapp.gui.confirm, "ask_before_discarding", given)
    return given


def written_beside(photo):
    return sorted(p.name for p in photo.parent.iterdir() if p != photo)


def test_closing_with_an_unsaved_result_asks_and_cancel_keeps_the_window(window, qtbot, photo, answers):
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    answers.append("cancel")
    window.close()
    assert window.isVisible() and path in window.session.entries
    assert path.name in answers.asked[-1] and "not saved" in answers.asked[-1]
    assert "Save all writes each next to its original." in answers.asked[-1]  # where (QA)
    answers.append("save")  # "Save all and close": written next to the original, then closed
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60000)
    assert len(written_beside(photo)) == 1


def test_a_saved_result_closes_without_a_question(window, qtbot, photo, answers):
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    saved(window, qtbot, window.exports.save)
    window.close()
    assert not window.isVisible() and answers.asked == []


def test_removing_a_photo_with_an_unsaved_result_asks_first(window, qtbot, photo, answers):
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    answers.append("cancel")
    window.actions_["remove"].trigger()
    assert path in window.session.entries and "not saved" in answers.asked[-1]
    answers.append("discard")
    window.actions_["remove"].trigger()
    assert path not in window.session.entries


def test_save_does_not_write_the_same_result_twice(window, qtbot, photo, answers):
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    assert window.filmstrip.state_text(path) == "done"
    [first] = saved(window, qtbot, window.exports.save)
    assert window.filmstrip.state_text(path) == "done · saved"  # the filmstrip tells saved from not
    assert not window.exports.save()  # nothing changed since
    assert written_beside(photo) == [first.name]
    assert "saved already" in said(window)
    window.gallery.click_candidate(1)  # another candidate: a new picture, saved anew
    assert window.filmstrip.state_text(path) == "done"
    [second] = saved(window, qtbot, window.exports.save)
    assert second != first


def test_closing_while_the_result_is_being_saved_neither_asks_nor_saves_it_twice(window, qtbot, photo, answers,
                                                                                 gated_export):
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    gated_export.gate.clear()
    assert window.exports.save()
    window.close()  # its only result is being written: nothing to ask, it closes once written
    assert answers.asked == [] and window.isVisible()
    gated_export.gate.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60000)
    assert len(written_beside(photo)) == 1


def test_save_as_asks_before_replacing_a_file_whose_extension_it_added(window, qtbot, photo, answers, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    taken = photo.parent / "portrait.png"
    taken.write_bytes(b"the user's own file")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(photo.parent / "portrait"), "PNG (*.png)"))
    answers.append("cancel")
    assert not window.exports.save_as()
    assert taken.read_bytes() == b"the user's own file" and "portrait.png already exists" in answers.asked[-1]
    answers.append("discard")  # "Replace"
    assert saved(window, qtbot, window.exports.save_as) == [taken]


def _paint(window, path):
    editor = window.session.damage_editor(path)
    editor.begin_stroke(40, 40, radius=6)
    editor.extend_stroke(80, 40)
    editor.end_stroke()


def test_closing_or_removing_with_damage_painted_but_not_restored_asks_first(window, qtbot, photo, answers):
    """Strokes painted and not yet restored were lost without a question on closing (QA); once a
    restore holds them, closing asks only about the unsaved result."""
    path = load(window, qtbot, photo)
    _paint(window, path)
    answers.append("cancel")
    window.close()
    assert window.isVisible() and "Damage painted on" in answers.asked[-1] and path.name in answers.asked[-1]
    answers.append("cancel")
    window.actions_["remove"].trigger()
    assert path in window.session.entries and "damage painted on it is not restored yet" in answers.asked[-1]
    restore(window, qtbot, path)
    saved(window, qtbot, window.exports.save)
    window.close()  # the strokes are in the saved result: nothing is lost
    assert not window.isVisible() and len(answers.asked) == 2


def test_save_all_and_close_with_strokes_not_restored_asks_once(window, qtbot, photo, answers):
    """The question said the strokes would be lost; "Save all and close" saves the result and closes
    without asking about the strokes again once the file is written (review)."""
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    _paint(window, path)
    answers.append("save")
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60000)
    assert len(answers.asked) == 1 and "not saved" in answers.asked[0] and "Damage painted on" in answers.asked[0]
    assert answers.options[0]["save_loses_some"]  # so Enter does not save and lose the strokes (GUI QA)
    assert len(written_beside(photo)) == 1


def test_the_question_before_discarding_has_access_keys(qtbot, monkeypatch):
    """GUI QA: "Save all and close" and "Close without saving" could be reached with Tab only."""
    monkeypatch.undo()  # (the real question, not the suite's stand-in)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from faceapp.gui import confirm

    def answer() -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        seen.extend(b.text() for b in box.buttons())
        defaults.append(box.defaultButton().text())
        box.reject()

    seen, defaults = [], []
    QTimer.singleShot(50, answer)
    assert confirm.ask_before_discarding(None, "2 photos are not saved.", discard="Close without saving",
                                         save="Save all and close") == "cancel"
    assert "&Save all and close" in seen and "Close &without saving" in seen
    # Enter saves, unless saving too loses some of it (GUI QA: Enter saved, and lost the strokes)
    QTimer.singleShot(50, answer)
    confirm.ask_before_discarding(None, "1 photo is not saved. Damage painted on it is not restored yet.",
                                  discard="Close without saving", save="Save all and close", save_loses_some=True)
    assert defaults == ["&Save all and close", "Cancel"]
    assert confirm.with_access_key("Replace", {"c"}) == "&Replace" and confirm.with_access_key("&Keep", set()) == "&Keep"
    assert confirm.with_access_key("Close", {"c"}) == "C&lose"  # (QA: beside Cancel, Alt+C did nothing)


def test_a_result_finished_while_the_close_question_is_open_is_asked_about(window, qtbot, photo, answers,
                                                                          monkeypatch, tmp_path):
    """GUI QA: a restore that ended while "A restore is under way: closing stops it" was on screen
    was thrown away by Close, never offered to save. Closing asks again, about it alone."""
    import shutil

    path = load(window, qtbot, photo)
    later = load(window, qtbot, shutil.copy(photo, photo.parent / "later.jpg"))
    unsaved = iter([[path], [path, later], [path, later]])  # ``later`` finishes under the first question
    monkeypatch.setattr(window.exports, "unsaved", lambda: next(unsaved))
    answers.extend(["discard", "discard"])
    window.close()
    assert len(answers.asked) == 2 and not window.isVisible()
    assert path.name in answers.asked[0] and "later.jpg" not in answers.asked[0]
    assert "later.jpg" in answers.asked[1] and path.name not in answers.asked[1]


def test_strokes_let_go_at_the_close_question_do_not_let_go_the_result_they_were_restored_into(
        window, qtbot, photo, answers, monkeypatch):
    """Two-instance QA: strokes painted, Restore, then Close: "closing loses the strokes" was
    answered Close while the restore finished under the question, and its new result, never
    offered to save, was thrown away with them."""
    path = load(window, qtbot, photo)
    painted = iter([[path], []])  # restored under the first question: the strokes are in its result
    unsaved = iter([[], [path]])
    monkeypatch.setattr(window.session, "unrestored_damage", lambda: next(painted, []))
    monkeypatch.setattr(window.exports, "unsaved", lambda: next(unsaved, []))
    answers.extend(["discard", "cancel"])
    window.close()
    assert len(answers.asked) == 2 and window.isVisible()
    assert "Damage painted on" in answers.asked[0] and "not saved" in answers.asked[1]


def test_the_title_names_the_photo_shown_and_marks_an_unsaved_result(window, qtbot, photo):
    """GUI QA: the title said "faceapp" all afternoon, whatever photo was shown."""
    path = load(window, qtbot, photo)
    assert window.windowTitle() == f"{path.name}[*] — faceapp" and not window.isWindowModified()
    restore(window, qtbot, path)
    assert window.isWindowModified()  # restored, not saved
    saved(window, qtbot, window.exports.save)
    assert not window.isWindowModified()
    window.session.remove(path)
    assert window.windowTitle() == "faceapp"


def test_save_all_at_the_second_close_question_leaves_what_the_first_was_told_to_lose(window, qtbot, photo,
                                                                                       answers, monkeypatch):
    """Review: answering "Save all and close" to the question asked again saved the photos the user
    had just said to close without saving, too."""
    import shutil

    path = load(window, qtbot, photo)
    later = load(window, qtbot, shutil.copy(photo, photo.parent / "later.jpg"))
    unsaved = iter([[path], [path, later], [path, later]])
    monkeypatch.setattr(window.exports, "unsaved", lambda: next(unsaved))
    saving = []
    monkeypatch.setattr(window.exports, "save_unsaved", lambda leaving=frozenset(): saving.append(set(leaving)) or True)
    answers.extend(["discard", "save"])
    window.close()
    assert saving == [{path}] and len(answers.asked) == 2


def test_cancel_at_a_close_question_asked_again_calls_off_the_whole_close(window, qtbot, photo, answers,
                                                                         monkeypatch):
    """GUI QA: "Close without saving" at the first question, Cancel at the one asked again: the
    next close no longer named the first photo, and closed without saving it."""
    import shutil

    path = load(window, qtbot, photo)
    later = load(window, qtbot, shutil.copy(photo, photo.parent / "later.jpg"))
    calls = []

    def unsaved():  # ``later`` finishes under the first question
        calls.append(1)
        return [path] if len(calls) == 1 else [path, later]

    monkeypatch.setattr(window.exports, "unsaved", unsaved)
    answers.extend(["discard", "cancel", "discard"])
    window.close()
    assert window.isVisible() and len(answers.asked) == 2
    window.close()  # asked about both again
    assert path.name in answers.asked[2] and "later.jpg" in answers.asked[2]
    assert not window.isVisible()


def test_after_the_close_question_is_cancelled_the_keys_work_where_they_did(window, qtbot, tmp_path, testdata_dir,
                                                                              monkeypatch):
    """Workflow QA: after Cancel, with no window manager to give the keyboard back, Ctrl+Page Down
    (and every other key) went nowhere. The real question box is shown and cancelled here."""
    import importlib
    import shutil

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    answer = faceapp.gui.confirm.ask_before_discarding  # conftest's: "discard", for the window's close at the end
    real = importlib.reload(faceapp.gui.confirm).ask_before_discarding
    photos = []
    for name in ("a.jpg", "b.jpg"):
        shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, tmp_path / name)
        photos.append(load(window, qtbot, tmp_path / name))
    window.filmstrip.select(photos[0])
    restore(window, qtbot, photos[0])  # not saved: closing asks
    window.activateWindow()
    window.compare.setFocus()
    qtbot.waitUntil(window.compare.hasFocus)
    def cancel() -> None:  # Cancel, once the box is up
        box = QApplication.activeModalWidget()
        box.reject() if box is not None else QTimer.singleShot(50, cancel)

    QTimer.singleShot(50, cancel)
    monkeypatch.setattr(faceapp.gui.confirm, "ask_before_discarding", real)
    try:
        window.close()
    finally:
        monkeypatch.setattr(faceapp.gui.confirm, "ask_before_discarding", answer)
    assert window.isVisible()
    qtbot.waitUntil(window.compare.hasFocus)
    qtbot.keyClick(window.compare, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert window.current == photos[1]
