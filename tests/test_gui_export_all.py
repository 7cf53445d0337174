"""Export all: every restored photo into a folder, photo by photo, with progress and Cancel."""

from __future__ import annotations

import shutil

import gui_util
import numpy as np
import pytest
from PIL import Image
from gui_util import saved, set_sampling
from PySide6.QtWidgets import QFileDialog

from faceapp.core.export import read_provenance
from faceapp.gui.main_window import MainWindow

window, gated_export = gui_util.window, gui_util.gated_export
NAMES = ("anna.jpg", "ben.jpg", "cleo.jpg")


@pytest.fixture
def restored(window, qtbot, tmp_path, testdata_dir):
    """Three restored photos (one seed, two steps: quick); returns their paths."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in NAMES:
        shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, folder / name)
    set_sampling(window, seeds=1, steps=2)
    paths = [path.resolve() for path in sorted(folder.iterdir())]
    gui_util.drop_files(window, paths)
    qtbot.waitUntil(lambda: all(window.session.entries[p].photo is not None for p in paths), timeout=30000)
    window.actions_["restore_all"].trigger()
    qtbot.waitUntil(lambda: len(window.session.restored()) == 3, timeout=60000)
    return paths


@pytest.fixture
def out(tmp_path, monkeypatch):
    """The folder the Export all dialog answers with."""
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(folder))
    return folder


def test_export_all_saves_every_photo_and_reports_progress_per_photo(window, qtbot, restored, out):
    values = []
    window.exports.status.bar.valueChanged.connect(values.append)
    written = saved(window, qtbot, window.exports.export_all)

    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert [p.stem for p in written] == [f"{p.stem}_restored" for p in restored]
    assert values == [0, 1, 2, 3] and window.exports.status.bar.maximum() == 3
    for source, file in zip(restored, written):
        entry = window.session.entries[source]
        assert entry.saved_to == file
        assert read_provenance(file)["faces"][0]["seed"] == entry.result.faces[0].seeds[0]
    assert window.notices.notices()[-1].text == f"Saved 3 photos to {out}."


def test_export_all_names_the_photos_it_left_out_because_they_are_not_restored(window, qtbot, restored, out,
                                                                                tmp_path, testdata_dir):
    late = tmp_path / "photos" / "dora.jpg"
    shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, late)
    gui_util.load(window, qtbot, late)
    wall = tmp_path / "photos" / "wall.png"  # a photo without faces (QA: called "not restored yet")
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(wall)
    gui_util.load(window, qtbot, wall)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=60000)
    written = saved(window, qtbot, window.exports.export_all)
    assert len(written) == 3 and "dora" not in " ".join(p.name for p in out.iterdir())
    assert window.notices.notices()[-1].text == (f"Saved 3 photos to {out}. Not restored yet, so not saved: dora.jpg. "
                                                 "No face found, so not saved: wall.png.")


def test_save_after_export_all_elsewhere_still_saves_beside_the_original(window, qtbot, restored, out):
    """Export all wrote the photos into another folder; Save ("next to the original") writes there
    too, instead of saying the photo is saved already (QA)."""
    saved(window, qtbot, window.exports.export_all)
    window.filmstrip.select(restored[0])
    [beside] = saved(window, qtbot, window.exports.save)
    assert beside.parent == restored[0].parent and beside.name == f"{restored[0].stem}_restored.jpg"
    assert not window.exports.save()  # now saved where Save saves: not again
    assert "saved already" in gui_util.said(window)


def test_export_all_can_be_cancelled_between_photos(window, qtbot, restored, out, gated_export):
    gated_export.gate.clear()
    assert window.exports.export_all()
    qtbot.waitUntil(lambda: len(gated_export.threads) == 1  # writing photo 1
                    and "1 of 3" in window.exports.status.label.text(), timeout=10000)
    assert window.exports.status.cancel_button.isVisible()
    with qtbot.waitSignal(window.exports.saved, timeout=30000) as blocker:
        window.exports.status.cancel_button.click()
        gated_export.gate.set()  # the photo being written is finished, the others are not begun

    [written] = blocker.args[0]
    assert list(out.iterdir()) == [written]  # whole files only, no ".part" left over
    assert len(gated_export.threads) == 1
    assert window.notices.notices()[-1].text == "Export all stopped: 1 of 3 photos saved."
    assert not window.session.export_queue.busy


def test_export_all_cancelled_while_the_window_waits_to_close_stays_open_and_says_so(window, qtbot, restored, out,
                                                                                      gated_export):
    """Sceptic QA: the warning "faceapp will close once the files being saved are written" stayed up
    after Cancel, beside "Export all stopped", with the window open."""
    gated_export.gate.clear()
    assert window.exports.export_all()
    qtbot.waitUntil(lambda: len(gated_export.threads) == 1, timeout=10000)
    window.close()
    assert window.isVisible() and "will close once" in window.notices.notices()[-1].text
    with qtbot.waitSignal(window.exports.saved, timeout=30000):
        window.exports.status.cancel_button.click()
        gated_export.gate.set()
    assert window.isVisible()
    assert [n.text for n in window.notices.notices() if "will close" in n.text] == []
    assert window.notices.notices()[-1].text == "Export all stopped: 1 of 3 photos saved."


def test_export_all_into_a_folder_that_cannot_be_made_is_an_error_notice(window, qtbot, restored, out):
    out.rmdir()
    out.write_bytes(b"a file where the folder was")  # (a folder merely missing is made again)
    assert saved(window, qtbot, window.exports.export_all) == []
    notice = window.notices.notices()[-1]
    assert notice.level == "error" and "Cannot create the output folder" in notice.text and "in the way" in notice.text
    assert "0 of 3 photos saved before this" in notice.text
    assert notice.action == "export_all"  # the banner's button picks another folder
    out.unlink()  # (or another folder chosen): the export that works answers the error, which goes
    assert len(saved(window, qtbot, window.exports.export_all)) == 3
    assert not [n for n in window.notices.notices() if n.level == "error"]


def test_export_all_again_to_the_same_folder_writes_only_what_changed(window, qtbot, restored, out):
    first = saved(window, qtbot, window.exports.export_all)
    assert len(first) == 3
    assert not window.exports.export_all()  # nothing new: said, no copies
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in first)
    assert "saved in" in window.notices.notices()[-1].text and "already" in window.notices.notices()[-1].text

    window.session.choose(restored[0], 0, 0)  # (the same pick: nothing changes)
    window.models.apply_preferences(window.session.prefs.replace(fidelity=0.6))
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.session.restore([restored[1]])  # ben restored again: his saved file is not what he is now
    again = saved(window, qtbot, window.exports.export_all)
    assert [p.name for p in again] == [f"{restored[1].stem}_restored_2.jpg"]
    assert window.notices.notices()[-1].text.endswith("2 photos saved there before, as they are now, left as they are.")

    window.models.apply_preferences(window.session.prefs.replace(export_format="png"))  # another format: all again
    as_png = saved(window, qtbot, window.exports.export_all)
    assert sorted(p.name for p in as_png) == sorted(f"{p.stem}_restored.png" for p in restored)
    window.models.apply_preferences(window.session.prefs.replace(quality=80))  # PNG has no quality: nothing new
    assert not window.exports.export_all()
    window.models.apply_preferences(window.session.prefs.replace(export_format="jpg"))  # the JPEGs' quality was 95
    assert len(saved(window, qtbot, window.exports.export_all)) == 3
    assert not window.exports.export_all()
    # saved with every word of their photos' metadata, then shared without where they were taken: written
    # again (mutation audit: nothing held that the files kept with GPS were not "saved already")
    window.models.apply_preferences(window.session.prefs.replace(metadata="no-location"))
    assert len(saved(window, qtbot, window.exports.export_all)) == 3


def test_export_all_into_the_top_folder_of_the_disk_asks_first(window, qtbot, tmp_path, testdata_dir, monkeypatch):
    """Qt's own folder dialog, a path typed into it twice, answered "/" and the photos went there
    (QA): a disk's top folder is confirmed first, and nothing is written when the user says no."""
    import faceapp.gui.confirm

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = shutil.copy(testdata_dir / "photos" / gui_util.PHOTO, folder / "anna.jpg")
    gui_util.load(window, qtbot, photo)
    gui_util.restore(window, qtbot, photo)
    asked = []
    monkeypatch.setattr(faceapp.gui.confirm, "ask_before_discarding",
                        lambda _parent, text, **_buttons: asked.append(text) or "cancel")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: "/")
    assert not window.exports.export_all()
    assert asked and "the top folder of the disk" in asked[0] and not window.exports.busy
    window.close_without_asking()  # (the answer above is always Cancel: closing would be refused)


def test_the_export_all_dialog_starts_by_the_photos_then_in_the_last_export_folder(window, qtbot, restored,
                                                                                   tmp_path, monkeypatch):
    """QA: the folder dialogs opened in the folder the app was started from."""
    asked_in = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda _parent, _title, start="": asked_in.append(start) or str(tmp_path / "out"))
    (tmp_path / "out").mkdir()
    window.show_photo(restored[0])
    saved(window, qtbot, window.exports.export_all)
    window.exports.export_all()
    assert asked_in == [str(restored[0].parent), str(tmp_path / "out")]
    window.open_folder()
    assert asked_in[-1] == str(restored[0].parent)


def test_export_all_starts_in_the_folder_it_wrote_into_last_also_after_a_restart(window, qtbot, restored, out,
                                                                                 tmp_path, monkeypatch):
    """Settings QA: after a restart Export all's folder dialog started at the photo's folder again."""
    saved(window, qtbot, window.exports.export_all)
    asked_in = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda _parent, _title, start="": asked_in.append(start) or "")
    later = MainWindow(store=gui_util.settings_store(tmp_path))  # (the next start, with the same settings)
    qtbot.addWidget(later)
    assert later.exports.export_all() is False and asked_in == [str(out)]
    shutil.rmtree(out)  # gone since: the usual start again
    later.exports.export_all()
    assert asked_in[-1] != str(out)
    later.close()


def test_the_close_question_says_save_all_writes_beside_the_originals_not_the_export_folder(
        window, qtbot, restored, out, monkeypatch):
    """QA: after Export all, a seed picked again and "Save all and close" wrote beside the originals,
    with nothing saying so, while the export folder kept the old picture."""
    import faceapp.gui.confirm

    import dataclasses

    saved(window, qtbot, window.exports.export_all)
    window.models.apply_preferences(dataclasses.replace(window.session.prefs, fidelity=0.6))
    gui_util.restore(window, qtbot, restored[0])  # a new result: not saved anywhere
    assert window.exports.unsaved() == [restored[0]]
    asked, answers = [], ["cancel", "discard"]
    monkeypatch.setattr(faceapp.gui.confirm, "ask_before_discarding",
                        lambda parent, text, **buttons: asked.append(text) or answers.pop(0))
    window.close()
    assert asked and f"Save all writes each next to its original, not into {out} (where Export all wrote)." in asked[0]
    window.close()  # (closed without saving: the test leaves no window running)


def test_two_export_alls_queued_one_after_the_other_each_say_their_own_folder_and_counts(
        window, qtbot, restored, tmp_path, monkeypatch, gated_export):
    """Review: the second Export all, asked for while the first was writing, overwrote the counts and
    lists the first one's summary was made from."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    window.filmstrip.select(restored[0])
    saved(window, qtbot, window.exports.save)  # (beside its original: nothing to do with either folder)
    gated_export.threads.clear()  # (the save's own call: not the first Export all's, which is waited for below)
    gated_export.gate.clear()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(first))
    assert window.exports.export_all()
    qtbot.waitUntil(lambda: len(gated_export.threads) == 1, timeout=10000)
    shutil.copy(restored[0], tmp_path / "photos" / "dora.jpg")  # not restored: said by the second only
    gui_util.load(window, qtbot, tmp_path / "photos" / "dora.jpg")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(second))
    assert window.exports.export_all()
    said = []
    window.exports.saved.connect(lambda _files: said.append(window.notices.notices()[-1].text))
    gated_export.gate.set()
    qtbot.waitUntil(lambda: len(said) == 2, timeout=60000)
    assert said == [f"Saved 3 photos to {first}.", f"Saved 3 photos to {second}. Not restored yet, so not saved: dora.jpg."]


def test_a_second_save_while_the_first_is_written_writes_no_second_copy(window, qtbot, restored, gated_export):
    """Review: Ctrl+S pressed twice before the file was written wrote it twice, the second as a
    numbered copy."""
    window.filmstrip.select(restored[0])
    gated_export.gate.clear()
    assert window.exports.save()
    assert not window.exports.save()
    assert f"{restored[0].name} is being saved." in gui_util.said(window)
    with qtbot.waitSignal(window.exports.saved, timeout=30000):
        gated_export.gate.set()
    qtbot.waitUntil(lambda: not window.session.export_queue.busy, timeout=30000)
    assert [p.name for p in restored[0].parent.iterdir() if "_restored" in p.name] == [f"{restored[0].stem}_restored.jpg"]


def test_save_beside_the_original_is_not_refused_while_an_export_all_elsewhere_runs(window, qtbot, restored, out,
                                                                                     gated_export):
    """Review: Ctrl+S said "is being saved" while Export all wrote the photo into another folder, and
    the press was lost; the close question's count, though, takes a photo being written as saved."""
    gated_export.gate.clear()
    assert window.exports.export_all()
    qtbot.waitUntil(lambda: len(gated_export.threads) == 1, timeout=10000)
    window.filmstrip.select(restored[0])
    assert window.exports.unsaved() == []  # every one on its way into the folder
    assert window.exports.save()  # beside the original: its own file
    gated_export.gate.set()
    qtbot.waitUntil(lambda: not window.session.export_queue.busy, timeout=60000)
    assert (restored[0].parent / f"{restored[0].stem}_restored.jpg").is_file()
