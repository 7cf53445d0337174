"""What the window says of a photo, without Qt: the restoration panel's text, the filmstrip's
state and Restore all's progress (faceapp.gui.photo_words)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from types import SimpleNamespace

from faceapp.core.faces import face_from_box
from faceapp.core.preferences import Preferences
from faceapp.gui.backend import PhotoEntry
from faceapp.gui.photo_words import READY_TEXT, Album, faces_state, is_busy_state, photo_text


def _entry(*, faces=2, off=(), result_fidelity=None, face_fidelities=(), **fields) -> PhotoEntry:
    found = [face_from_box((10 + 60 * k, 10, 60 + 60 * k, 60), index=k) for k in range(faces)]
    found = [dataclasses.replace(f, enabled=f.index not in off) for f in found]
    result = None
    if result_fidelity is not None:
        result = SimpleNamespace(settings=SimpleNamespace(sampler=SimpleNamespace(fidelity=result_fidelity)),
                                 printed=False, faces=[SimpleNamespace(fidelity=f) for f in face_fidelities])
    return PhotoEntry(path=Path("/photos/wedding.jpg"), photo=SimpleNamespace(), faces=found, result=result, **fields)


def test_the_panel_says_what_to_do_next_with_a_photo():
    assert photo_text(PhotoEntry(path=Path("/photos/wedding.jpg"))) == "Loading wedding.jpg…"
    unreadable = PhotoEntry(path=Path("/photos/wedding.jpg"), error="truncated", unreadable=True)
    assert photo_text(unreadable).startswith("Could not open wedding.jpg.")
    assert photo_text(_entry(faces=0)).startswith("No face was found in wedding.jpg. Draw a box")
    assert photo_text(_entry(off=(0, 1))).startswith("Every face of wedding.jpg is switched off")
    assert photo_text(_entry()) == READY_TEXT


def test_the_panel_says_when_a_result_was_made_otherwise_than_a_restore_would_make_it_now():
    made = Preferences(seeds_per_face=4)
    entry = _entry(result_fidelity=0.8, run_seconds=1.5, restored_with=made.restoration())
    assert photo_text(entry, 0.8, made) == "wedding.jpg\nRestored in 1.5 s"
    assert photo_text(entry, 0.6, made).endswith("Made at fidelity 0.80: press Restore to use 0.60.")
    other = dataclasses.replace(made, seeds_per_face=6)
    assert photo_text(entry, 0.8, other).endswith("Made with other settings (seeds): press Restore to use these.")
    both = photo_text(entry, 0.6, other)
    assert both.count("press Restore") == 1 and "fidelity 0.80 and with other settings (seeds)" in both
    entry.error = "out of memory"
    assert photo_text(entry, 0.8, made).endswith("The last run failed: out of memory")


def test_the_panel_says_why_another_fidelity_would_not_change_faces_spared_whole():
    """First-hour QA: every face of a photo spared, the slider moved and Restore pressed again
    changed nothing, and nothing said why."""
    made = Preferences()
    spared = _entry(result_fidelity=0.8, face_fidelities=(1.0, 1.0), restored_with=made.restoration())
    assert "sharp already, so kept as the restorer made them" in photo_text(spared, 0.5, made)
    assert "sharp already" not in photo_text(spared, 0.8, made)  # (the slider where it was made: nothing to say)
    partly = _entry(result_fidelity=0.8, face_fidelities=(1.0, 0.8), restored_with=made.restoration())
    assert "sharp already" not in photo_text(partly, 0.5, made)  # (one face follows the slider)
    faithful = _entry(result_fidelity=1.0, face_fidelities=(1.0, 1.0), restored_with=made.restoration())
    assert "sharp already" not in photo_text(faithful, 0.5, made)  # (made at 1: not spared, asked so)
    unspared = dataclasses.replace(made, spare_sharp_faces=False)  # (review: a restore now diffuses them)
    assert "sharp already" not in photo_text(spared, 0.5, unspared)


def test_the_filmstrip_counts_the_faces_switched_on_and_tells_busy_states():
    assert faces_state(_entry().faces) == "2 faces"
    assert faces_state(_entry(off=(1,)).faces) == "1 of 2 faces"
    assert faces_state(_entry(faces=1).faces) == "1 face"
    assert is_busy_state("restoring face 1 of 2") and is_busy_state("detecting faces")
    assert not is_busy_state("2 faces") and not is_busy_state("done")
    from faceapp.core.photo_restore import STAGES  # (review: the printed screen's two were drawn as idle)

    assert all(is_busy_state(stage) for stage in STAGES)


def test_restore_all_says_which_photo_of_how_many_and_the_time_left_in_all():
    photos = {Path(f"/p/{k}.jpg") for k in range(4)}
    album = Album(photos, started=time.monotonic() - 60.0)
    assert album.progress_text() == "Photo 1 of 4 · "  # (too soon to tell the time left)
    album.ended.update(list(photos)[:2])
    text = album.progress_text()
    assert text.startswith("Photo 3 of 4 (") and "left in all) · " in text
    album.ended.update(photos)
    assert album.progress_text().startswith("Photo 4 of 4")


def test_restore_alls_time_left_counts_faces_and_the_photo_under_way():
    """Slow-laptop QA: counted in whole photos, "left in all" was wrong by up to 2.5× either way,
    and rose while a photo ran (its time went by, the photos done stayed)."""
    one, four, last = Path("/p/one.jpg"), Path("/p/four.jpg"), Path("/p/last.jpg")
    faces = {one: 1, four: 4, last: 1}

    def said(ended, current, fraction=0.0, seconds=50.0):
        album = Album({one, four, last}, started=time.monotonic() - seconds, ended=set(ended))
        return album.progress_text(current=current, fraction=fraction, faces=faces)

    assert "(about 10 s left in all)" in said({one, four}, last)  # 5 faces in 50 s, 1 to go
    assert "(about 2 min left in all)" in said({one, last}, four)  # 2 faces in 50 s, 4 to go
    # the photo under way counts: halfway through its 4 faces, 3 of 6 are done
    assert "(about 40 s left in all)" in said({one}, four, 0.5, seconds=40.0)
    assert "(about 15 s left in all)" in said({one}, four, 0.875, seconds=50.0)  # 4.5 of 6 in 50 s


def test_the_zoom_says_100_only_where_one_photo_pixel_is_one_screen_pixel():
    """HiDPI QA: at 99.89 % the label said 100 %, while the photo was drawn resampled and softer."""
    from faceapp.gui.photo_words import zoom_text

    assert zoom_text(1.0) == "Zoom 100 %" and zoom_text(0.4567) == "Zoom 46 %" and zoom_text(2.0) == "Zoom 200 %"
    assert zoom_text(0.9989) == "Zoom 99.9 %"
    assert zoom_text(0.9999) == "Zoom 99.9 %" and zoom_text(1.0002) == "Zoom 100.1 %"  # never "100.0"
    assert zoom_text(0.996) == "Zoom 99.6 %" and zoom_text(1.004) == "Zoom 100.4 %"
