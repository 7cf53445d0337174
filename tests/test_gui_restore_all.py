"""Restore all: every photo that needs it, once; a photo restored as things stand keeps its result
and the seed picked in its gallery (e.g. Restore all again after cancelling one part-way)."""

from __future__ import annotations

import dataclasses
import shutil

import gui_util
from gui_util import hush, said, set_sampling

window = gui_util.window


def _two_photos(window, qtbot, tmp_path, testdata_dir):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("anna.jpg", "ben.jpg"):
        shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, folder / name)
    set_sampling(window, seeds=2, steps=2)
    paths = [path.resolve() for path in sorted(folder.iterdir())]
    gui_util.drop_files(window, paths)
    qtbot.waitUntil(lambda: all(window.session.entries[p].photo is not None for p in paths), timeout=30000)
    return paths


def test_restore_all_restores_only_the_photos_without_a_current_result(window, qtbot, tmp_path, testdata_dir):
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session = window.session
    with qtbot.waitSignal(session.runFinished, timeout=60000):
        session.restore([anna])  # as if Restore all was cancelled after the first photo
    session.choose(anna, 0, 1)  # the user picks the second seed
    picked = session.entries[anna].result

    finished = []
    session.runFinished.connect(lambda path, _seconds, _run: finished.append(path))
    window.actions_["restore_all"].trigger()
    assert "1 photo already restored at these settings kept" in said(window)
    qtbot.waitUntil(lambda: session.entries[ben].result is not None and not session.queue.busy, timeout=60000)
    assert finished == [ben]
    assert session.entries[anna].result is picked and picked.faces[0].chosen == 1

    hush(window)
    window.actions_["restore_all"].trigger()  # nothing left to do: said, not done again
    assert not session.queue.busy and finished == [ben]
    assert "Every photo is restored at these settings" in said(window)


def test_restore_all_restores_again_what_other_settings_or_faces_would_change(window, qtbot, tmp_path, testdata_dir):
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session = window.session
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: len(session.restored()) == 2 and not session.queue.busy, timeout=60000)

    finished = []
    session.runFinished.connect(lambda path, _seconds, _run: finished.append(path))
    window.models.apply_preferences(dataclasses.replace(session.prefs, fidelity=0.6))  # the slider moved
    hush(window)
    window.actions_["restore_all"].trigger()
    # (QA: their results and seed picks were replaced without a word)
    assert "2 photos restored with other settings, faces or damage are restored again with these" in said(window)
    qtbot.waitUntil(lambda: len(finished) == 2 and not session.queue.busy, timeout=60000)
    assert sorted(finished) == [anna, ben]

    session.toggle_face(ben, 0)  # a face switched off and on again: the faces are as they were
    session.toggle_face(ben, 0)
    session.add_face_box(ben, (10.0, 10.0, 60.0, 70.0))  # a face drawn: that photo's result is outdated
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: len(finished) == 3 and not session.queue.busy, timeout=60000)
    assert finished[2:] == [ben]


def test_cancelled_photos_say_what_they_have(window, qtbot, tmp_path, testdata_dir):
    """Cancel during Restore all: a photo restored before keeps "done" and its result, one that never
    started is as before it was queued; and Restore all says which photo runs with the settings it
    started with, and queues again with these settings the one that waits."""
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session = window.session
    with qtbot.waitSignal(session.runFinished, timeout=60000):
        session.restore([anna])
    first, made_with = session.entries[anna].result, session.entries[anna].restored_with
    set_sampling(window, seeds=1, steps=200)  # long enough to be cancelled while it runs
    session.restore([anna, ben])  # anna runs, ben waits
    qtbot.waitUntil(lambda: session.entries[anna].state.startswith("restoring"), timeout=60000)
    window.models.apply_preferences(dataclasses.replace(session.prefs, fidelity=0.4))
    states = []
    session.entryChanged.connect(lambda path: path == ben and states.append(session.entries[ben].state))
    hush(window)  # what this Restore all says, alone
    window.actions_["restore_all"].trigger()
    message = said(window)
    assert "anna.jpg is being restored with the settings of when Restore was pressed" in message
    assert "ben" not in message  # it was waiting: queued again, with the new settings…
    assert session.entries[ben].restoring_with == session.backend.resolved(session.prefs).restoration()
    assert set(states) <= {"queued"}  # …without passing through another state
    hush(window)
    session.cancel()
    message = said(window)  # what was given up is said (QA: the queue went without a word)
    assert "Cancelling anna.jpg: it stops at the end of its current step, then shows its earlier result." in message
    assert "Not restored, as they were still waiting: ben.jpg." in message
    qtbot.waitUntil(lambda: not session.queue.busy, timeout=60000)
    entry = session.entries[anna]
    assert entry.state == "done" and entry.result is first and entry.restored_with == made_with  # its first result
    assert session.entries[ben].state == "1 face"  # never started: not "cancelled"


def test_restore_all_back_at_the_settings_of_the_results_drops_the_restores_waiting_with_others(
        window, qtbot, tmp_path, testdata_dir):
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session = window.session
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: len(session.restored()) == 2 and not session.queue.busy, timeout=60000)
    kept = session.entries[ben].result
    at_first = session.prefs
    set_sampling(window, seeds=1, steps=200)  # other settings: anna runs, ben waits
    session.restore([anna, ben])
    qtbot.waitUntil(lambda: session.entries[anna].state.startswith("restoring"), timeout=60000)
    window.models.apply_preferences(at_first)  # back to the settings both results were made with
    hush(window)  # what this Restore all says, alone
    window.actions_["restore_all"].trigger()
    message = said(window)
    assert "Every photo is restored" not in message  # anna's run will replace her result
    assert "1 photo already restored at these settings kept" in message and "anna.jpg is being restored" in message
    assert not session.restoring(ben)  # its restore with the other settings is dropped
    session.cancel()
    qtbot.waitUntil(lambda: not session.queue.busy, timeout=60000)
    assert session.entries[ben].result is kept and session.entries[ben].state == "done"


def test_the_models_own_step_count_typed_in_or_its_name_picked_changes_nothing(window, qtbot, tmp_path, testdata_dir):
    """Steps set to the model's own count, or the default model picked by its name, restore as the
    model's defaults did: Restore all keeps the results and the panel names no other setting; another
    step count is named."""
    from faceapp.core.registry import Registry

    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session, default = window.session, Registry().default()
    window.models.apply_preferences(dataclasses.replace(session.prefs, model="", steps=None))  # the model's own
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: len(session.restored()) == 2 and not session.queue.busy, timeout=120000)

    window.models.apply_preferences(dataclasses.replace(session.prefs, model=default.name, steps=default.default_steps))
    hush(window)
    window.actions_["restore_all"].trigger()
    assert not session.queue.busy
    assert "Every photo is restored at these settings" in said(window)
    assert "other settings" not in window.run_panel.progress_text.text()

    window.models.apply_preferences(dataclasses.replace(session.prefs, steps=default.default_steps - 1))
    assert "Made with other settings (steps)" in window.run_panel.progress_text.text()


def test_a_photo_restored_out_of_sight_says_nothing_over_the_one_shown(window, qtbot, tmp_path, testdata_dir,
                                                                       monkeypatch):
    """QA: during Restore all, every photo's "Sharp faces spared" note stacked over the photo shown
    and hid its faces; only the photo shown says it (the others' galleries say it when shown)."""
    import faceapp.gui.session as session_module

    monkeypatch.setattr(session_module, "spared_message", lambda result, **_: "face 1 kept as the restorer made it.")
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    window.show_photo(anna)
    hush(window)
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: all(window.session.entries[p].result is not None for p in (anna, ben))
                    and not window.session.queue.busy, timeout=60000)
    assert f"{anna.name}: face 1 kept" in said(window)
    assert f"{ben.name}:" not in said(window)


def test_restore_all_pressed_while_photos_are_still_opening_restores_them_once_opened(window, qtbot, tmp_path,
                                                                                      testdata_dir):
    """QA: pressed just after opening a folder, Restore all left out every photo not yet read (20 of
    28), without a word; they are restored once opened, and said so."""
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("anna.jpg", "ben.jpg"):
        shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, folder / name)
    set_sampling(window, seeds=1, steps=2)
    hush(window)
    window.add_paths([folder])
    paths = [p.resolve() for p in sorted(folder.iterdir())]
    assert all(window.session.entries[p].photo is None for p in paths)  # still being opened
    window.actions_["restore_all"].trigger()
    assert "2 photos still being opened are restored once opened" in said(window)
    qtbot.waitUntil(lambda: all(window.session.entries[p].result is not None for p in paths), timeout=60000)


def test_cancel_names_the_photos_restore_all_would_have_restored_once_opened(window, qtbot, tmp_path,
                                                                              testdata_dir):
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("anna.jpg", "ben.jpg"):
        shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, folder / name)
    window.add_paths([folder])
    window.actions_["restore_all"].trigger()
    hush(window)
    window.session.cancel()
    assert "Not restored, as they were still waiting: " in said(window) and "ben.jpg" in said(window)
    qtbot.waitUntil(lambda: all(e.photo is not None for e in window.session.entries.values()), timeout=30000)
    qtbot.wait(200)
    assert all(e.result is None and not window.session.restoring(e.path) for e in window.session.entries.values())


def test_restore_all_counts_the_album_and_says_how_it_went(window, qtbot, tmp_path, testdata_dir):
    """QA: only the photo under way had progress and time left, and the end of a 27-photo album
    passed without a word."""
    import numpy as np
    from PIL import Image

    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    wall = tmp_path / "wall.png"  # no face in it: not restored, and counted so
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(wall)
    window.add_paths([wall])
    qtbot.waitUntil(lambda: window.session.entries[wall.resolve()].photo is not None, timeout=30000)
    texts = []
    window.session.progress.connect(lambda path, text, fraction, preview: texts.append(text))
    hush(window)
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: "Restore all: " in said(window), timeout=60000)
    assert any(t.startswith("Photo 1 of 2 · ") for t in texts) and any(t.startswith("Photo 2 of 2") for t in texts)
    summary = next(line for line in said(window).splitlines() if line.startswith("Restore all: "))
    assert summary.startswith("Restore all: 2 of 3 photos restored in ") and "; 1 not (" in summary


def test_removing_the_photo_being_restored_lets_the_rest_of_the_album_go_on(window, qtbot, tmp_path, testdata_dir):
    """QA: a photo being restored could be removed only after Cancel, which dropped the whole album."""
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    set_sampling(window, seeds=1, steps=200)  # slow enough to be removed while it runs
    window.actions_["restore_all"].trigger()
    first = window.session.queue.current().key
    qtbot.waitUntil(lambda: window.session.entries[first].state.startswith("restoring"), timeout=30000)
    other = ben if first == anna else anna
    window.show_photo(first)
    window.remove_current()
    qtbot.waitUntil(lambda: first not in window.session.entries, timeout=30000)  # stopped within a step, gone
    assert window.session.restoring(other)  # the rest of the album goes on
    window.session.cancel()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=30000)


def test_removing_every_photo_during_restore_all_is_not_said_as_failures(window, qtbot, tmp_path, testdata_dir):
    """Fault QA: Remove all during Restore all ended in "0 of 1 photo restored; 1 not (their notices
    say why)": four photos, and none had failed."""
    _two_photos(window, qtbot, tmp_path, testdata_dir)
    set_sampling(window, seeds=1, steps=200)  # slow enough to be removed while it runs
    window.actions_["restore_all"].trigger()
    first = window.session.queue.current().key
    qtbot.waitUntil(lambda: window.session.entries[first].state.startswith("restoring"), timeout=30000)
    hush(window)
    window.remove_all()
    qtbot.waitUntil(lambda: not window.session.entries and not window.session.busy, timeout=30000)
    qtbot.waitUntil(lambda: "Restore all ended: its photos were removed." in said(window), timeout=10000)
    assert "notices say why" not in said(window)


def test_restore_all_pressed_twice_keeps_one_album(window, qtbot, tmp_path, testdata_dir):
    """Review: pressed again while photos were still being opened, Restore all started a second
    count over the photos left, and the first album's summary never came."""
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("anna.jpg", "ben.jpg", "cleo.jpg"):
        shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, folder / name)
    set_sampling(window, seeds=1, steps=2)
    window.add_paths([folder])
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: any(e.photo is not None for e in window.session.entries.values()), timeout=30000)
    window.actions_["restore_all"].trigger()  # again, some photos opened, some not
    hush(window)
    qtbot.waitUntil(lambda: "Restore all: " in said(window), timeout=60000)
    assert "Restore all: 3 of 3 photos restored in " in said(window)


def test_restore_all_just_after_cancel_restores_the_photo_being_cancelled_too(window, qtbot, tmp_path, testdata_dir):
    """QA: Esc, then Restore all at once: the photo whose restore was still stopping counted as being
    restored, was left out, and "2 of 2 photos restored" did not name it; Restore itself stayed greyed
    out until the run had stopped, and a press then was lost."""
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session = window.session
    set_sampling(window, seeds=1, steps=200)
    window.filmstrip.select(anna)
    qtbot.waitUntil(lambda: window.current == anna)
    window.actions_["restore"].trigger()
    qtbot.waitUntil(lambda: session.entries[anna].state.startswith("restoring "), timeout=60000)
    assert not window.actions_["restore"].isEnabled()
    session.cancel()
    assert session.queue.current() is not None  # still stopping (within one step)…
    assert window.actions_["restore"].isEnabled()  # …and Restore is offered again already (QA: lost)
    set_sampling(window, seeds=1, steps=2)
    messages = []
    session.info.connect(messages.append)
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: not session.queue.busy, timeout=60000)
    assert session.entries[anna].result is not None and session.entries[anna].state == "done"
    assert session.entries[ben].result is not None
    assert messages[-1].startswith("Restore all: 2 of 2 photos restored in ")


def test_cancel_pressed_again_while_a_photo_stops_says_one_thing_of_it(window, qtbot, tmp_path, testdata_dir):
    """GUI race QA: Restore, Cancel, Restore, Cancel in quick succession said "Cancelling anna.jpg:
    it stops at the end of its current step. Not restored, as they were still waiting: anna.jpg":
    the photo both running and waiting."""
    anna, _ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session = window.session
    set_sampling(window, seeds=1, steps=200)
    session.restore([anna])
    qtbot.waitUntil(lambda: session.entries[anna].state.startswith("restoring "), timeout=60000)
    session.cancel()
    assert session.queue.current() is not None  # still stopping…
    session.restore([anna])  # …and asked again: queued behind it
    hush(window)
    session.cancel()
    message = said(window)
    assert message == "Cancelling anna.jpg: it stops at the end of its current step.", message
    qtbot.waitUntil(lambda: not session.queue.busy, timeout=60000)
    assert not session.entries[anna].state.startswith(("queued", "restoring"))  # nothing stuck
    assert session.entries[anna].result is None and window.actions_["restore"].isEnabled()


def test_a_photo_dropped_again_while_its_removal_waits_stays_and_is_restored(window, qtbot, tmp_path, testdata_dir):
    """GUI race QA: Remove on the photo being restored, then the photo dropped again at once: it
    stayed, "cancelled" and without a result, and the status bar still said it was being removed.
    Opened again, it stays, and the restore its removal stopped starts again, said so."""
    anna, _ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session = window.session
    set_sampling(window, seeds=1, steps=200)
    session.restore([anna])
    qtbot.waitUntil(lambda: session.entries[anna].state.startswith("restoring "), timeout=60000)
    session.remove(anna)
    assert anna in session.entries  # (removed once its restore stops)
    set_sampling(window, seeds=1, steps=2)
    hush(window)
    gui_util.drop_files(window, [anna])
    assert said(window) == "anna.jpg stays open, and its restore, which removing it stopped, starts again."
    qtbot.waitUntil(lambda: not session.queue.busy, timeout=60000)
    assert anna in session.entries and session.entries[anna].result is not None
    assert session.entries[anna].state == "done"


def test_settings_changed_while_photos_wait_say_the_waiting_keep_theirs(window, qtbot, tmp_path, testdata_dir,
                                                                         monkeypatch):
    """QA: the slider moved during Restore all; the photos still waiting were restored at the old
    fidelity, found out photo by photo afterwards. Said once for the same photos (review: on every
    step of the slider)."""
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    session = window.session
    set_sampling(window, seeds=1, steps=200)
    window.actions_["restore_all"].trigger()  # anna runs, ben waits
    qtbot.waitUntil(lambda: session.entries[anna].state.startswith("restoring "), timeout=60000)
    said_now = []
    monkeypatch.setattr(window, "say", said_now.append)
    window.fidelity.slider.setValue(window.fidelity.slider.value() - 10)
    assert said_now == ["1 photo waiting to be restored keeps the settings of when Restore was pressed: "
                        "Restore all again restores it with these."]
    window.fidelity.slider.setValue(window.fidelity.slider.value() - 5)  # a further step: not said again
    assert len(said_now) == 1
    assert session.waiting_with_other_settings() == [ben]
    window.actions_["restore_all"].trigger()  # again: ben waits with these
    assert session.waiting_with_other_settings() == []
    session.cancel()
    qtbot.waitUntil(lambda: not session.queue.busy, timeout=60000)


def test_a_screen_reader_hears_restore_alls_summary_not_each_photo(window, qtbot, tmp_path, testdata_dir, monkeypatch):
    """Verify QA: a Restore all of 27 photos would have said 28 announcements, one a photo, then the
    summary."""
    from PySide6.QtGui import QAccessible

    heard: list[str] = []
    update = QAccessible.updateAccessibility

    def record(event) -> None:
        if event.type() == QAccessible.Event.Announcement:
            heard.append(event.message())
        update(event)

    monkeypatch.setattr(QAccessible, "updateAccessibility", staticmethod(record))
    anna, ben = _two_photos(window, qtbot, tmp_path, testdata_dir)
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: all(window.session.entries[p].result is not None for p in (anna, ben))
                    and not window.session.queue.busy, timeout=60000)
    qtbot.waitUntil(lambda: any(text.startswith("Restore all:") for text in heard))
    assert not any(text.startswith("Restore of") for text in heard)
