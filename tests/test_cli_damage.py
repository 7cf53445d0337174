"""faceapp-cli --mask and --refine: repairing photos with masks made elsewhere, refinement passes,
what the summary and the provenance record, and the usage errors."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image
from pipeline_util import SteppingEngine, scratched, smoothing_engine

import faceapp.cli as cli
from faceapp.core.export import read_provenance
from faceapp.core.photo_io import read_photo


@pytest.fixture
def engine(monkeypatch, retinaface_dir):
    engine = smoothing_engine(128)
    monkeypatch.setattr(cli, "_load_engine", lambda prefs: engine)
    monkeypatch.setenv("FACEAPP_DETECTOR_DIR", str(retinaface_dir))
    return engine


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def damaged(tmp_path, testdata_dir):
    """A scratched copy of cf_03.jpg (lossless, so the white stays white) and its mask."""
    rgb = np.asarray(Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB"))
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.line(mask, (150, 60), (260, 150), 255, 3)  # across the face
    cv2.line(mask, (5, 200), (90, 10), 255, 4)  # the background
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(scratched(rgb, mask)).save(folder / "old.png")
    Image.fromarray(mask).save(tmp_path / "old_mask.png")
    return folder / "old.png", tmp_path / "old_mask.png", mask


def test_mask_repairs_the_photo_and_provenance_records_it(engine, damaged, capsys, tmp_path):
    photo, mask_file, mask = damaged
    code, out, _ = run(capsys, "restore", photo, "--mask", mask_file, "--fidelity", "1", "-o", tmp_path / "out",
                       "--resample", "2", "--json", "--no-progress")
    assert code == 0
    summary = json.loads(out)["results"][0]
    assert summary["damage"]["pixels"] == int((mask > 0).sum()) and summary["damage"]["resamples"] == 2
    result = tmp_path / "out" / summary["outputs"][0].split("/")[-1]
    restored = read_photo(result).rgb
    assert (restored[mask > 0] > 250).all(axis=1).mean() < 0.02  # the white strokes are gone
    assert read_provenance(result)["damage"]["sha256"] == summary["damage"]["sha256"]
    assert read_photo(photo).rgb[mask > 0].min() == 255  # the original is never modified


def test_a_folder_of_masks_is_matched_by_name(engine, damaged, capsys, tmp_path):
    photo, mask_file, _ = damaged
    masks = tmp_path / "masks"
    masks.mkdir()
    shutil.copy(mask_file, masks / "old.png")
    shutil.copy(photo, photo.parent / "other.png")  # no mask: restored without repair, and said (QA: silent)
    shutil.copy(photo, photo.parent / "third.png")
    shutil.copy(mask_file, masks / "third.png.png")  # a near miss
    code, out, err = run(capsys, "restore", photo.parent, "--mask", masks, "--fidelity", "1", "-o", tmp_path / "out",
                         "--json", "--no-progress")
    assert code == 0
    results = {r["input"].split("/")[-1]: r for r in json.loads(out)["results"]}
    assert "damage" in results["old.png"] and "damage" not in results["other.png"]
    assert f"note: {masks} holds no damage mask for 2 of 3 photos (other.png, third.png): they are restored" in err
    assert "third.png.png looks meant for third.png: name it third_mask.png." in err
    # review: IMG_10's mask is not IMG_1's, nor is a photo-like file named like one
    for name in ("IMG_1.png", "IMG_10.png"):
        shutil.copy(photo, photo.parent / name)
    shutil.copy(mask_file, masks / "IMG_10.png")
    shutil.copy(photo, masks / "other-edit.png")
    shutil.copy(photo, photo.parent / "IMG_1_2.png")  # review: IMG_1_2's own mask is not offered to IMG_1
    shutil.copy(mask_file, masks / "IMG_1_2_mask.png")
    code, _, err = run(capsys, photo.parent, "--mask", masks, "--fidelity", "1", "-o", tmp_path / "out2", "--no-progress")
    assert code == 0 and "looks meant for IMG_1.png" not in err and "looks meant for other.png" not in err


def test_recursive_photos_of_one_name_get_the_masks_at_their_own_paths(engine, damaged, capsys, tmp_path):
    photo, mask_file, _ = damaged
    album, masks = tmp_path / "album", tmp_path / "masks"
    for year in ("2019", "2020"):
        (album / year).mkdir(parents=True)
        shutil.copy(photo, album / year / "old.png")
    (masks / "2019").mkdir(parents=True)
    shutil.copy(mask_file, masks / "2019" / "old.png")  # 2020/old.png has no mask
    code, out, _ = run(capsys, "restore", album, "--recursive", "--mask", masks, "--fidelity", "1",
                       "-o", tmp_path / "out", "--json", "--no-progress")
    assert code == 0
    results = {"/".join(r["input"].split("/")[-2:]): r for r in json.loads(out)["results"]}
    assert "damage" in results["2019/old.png"] and "damage" not in results["2020/old.png"]


def test_masks_kept_beside_their_photos_are_not_restored_as_photos(engine, damaged, capsys, tmp_path):
    photo, mask_file, _ = damaged
    shutil.copy(mask_file, photo.parent / "old_mask.png")
    code, out, err = run(capsys, "restore", photo.parent, "--mask", photo.parent, "--fidelity", "1",
                         "-o", tmp_path / "out", "--json", "--no-progress")
    assert code == 0, err
    [result] = json.loads(out)["results"]
    assert result["input"].endswith("old.png") and "damage" in result
    assert "1 file used as a damage mask is not restored" in err


def test_a_mask_of_the_wrong_size_fails_that_photo_and_a_missing_one_is_a_usage_error(engine, damaged, capsys, tmp_path):
    photo, _, mask = damaged
    Image.fromarray(mask[:100]).save(tmp_path / "small.png")
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "small.png", "--no-progress")
    assert code == 1 and "small.png is 400×100" in err and "400×225" in err
    assert f"error: {photo}: damage mask small.png" in err  # which photo's mask, as every error line says (QA)
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "nowhere.png", "--no-progress")
    assert code == 2 and "--mask" in err
    code, _, err = run(capsys, "restore", tmp_path / "nowhere.jpg", "--resample", "3", "--no-progress")
    assert "note: --resample 3 applies to the damage a mask marks: without --mask it does nothing." in err


def test_refine_runs_k_passes_and_reports_their_changes(monkeypatch, retinaface_dir, testdata_dir, capsys, tmp_path):
    stepping = SteppingEngine(face_size=64, steps=1)
    monkeypatch.setattr(cli, "_load_engine", lambda prefs: stepping)
    monkeypatch.setenv("FACEAPP_DETECTOR_DIR", str(retinaface_dir))
    code, out, err = run(capsys, "restore", testdata_dir / "photos" / "cf_03.jpg", "--refine", "3", "--seed", "2",
                         "-o", tmp_path, "--json", "--no-progress")
    assert code == 0
    summary = json.loads(out)["results"][0]
    changes = summary["refine"][0][0]
    assert len(changes) == 3 and all(c > 0 for c in changes)
    said = ", ".join(f"{c:.1f}" for c in changes)  # said without --json too, as --help promises (QA)
    assert f"refined 3 times: face 1 moved {said} grey levels (RMS, pass by pass)." in err
    assert len(stepping.calls) == 4  # the restoration, then three passes
    written = tmp_path / summary["outputs"][0].split("/")[-1]
    assert read_provenance(written)["faces"][0]["refine"]["passes"] == 3
    code, _, err = run(capsys, "restore", testdata_dir / "photos" / "cf_03.jpg", "--refine", "11")
    assert code == 2


def test_each_seed_refined_is_saved_as_its_own_picture(monkeypatch, retinaface_dir, testdata_dir, capsys, tmp_path):
    stepping = SteppingEngine(face_size=64, steps=1)  # a candidate is the crop brightened by its seed
    monkeypatch.setattr(cli, "_load_engine", lambda prefs: stepping)
    monkeypatch.setenv("FACEAPP_DETECTOR_DIR", str(retinaface_dir))
    code, out, _ = run(capsys, "restore", testdata_dir / "photos" / "cf_03.jpg", "--seeds", "2", "--seed", "10",
                       "--refine", "1", "-o", tmp_path, "--format", "png", "--json", "--no-progress")
    assert code == 0
    written = [tmp_path / name.split("/")[-1] for name in json.loads(out)["results"][0]["outputs"]]
    assert [read_provenance(f)["faces"][0]["seed"] for f in written] == [10, 11]
    first, second = (read_photo(f).rgb for f in written)
    assert not np.array_equal(first, second)  # seed 11's file shows seed 11's face, not seed 10's


def test_a_mask_named_like_its_photo_beside_it_repairs_the_photo_and_is_not_restored(engine, damaged, capsys, tmp_path):
    photo, mask_file, mask = damaged
    folder = tmp_path / "album"
    folder.mkdir()
    Image.open(photo).save(folder / "old.jpg", quality=95)
    shutil.copy(mask_file, folder / "old.png")  # the mask, named like the photo
    code, out, err = run(capsys, "restore", folder, "--mask", folder, "--fidelity", "1",
                         "-o", tmp_path / "out", "--json", "--no-progress")
    assert code == 0, err
    [result] = json.loads(out)["results"]
    assert result["input"].endswith("old.jpg")
    assert result["damage"]["pixels"] == int((mask > 0).sum())
    assert "1 file used as a damage mask is not restored" in err


def test_two_photos_of_one_name_are_both_restored_and_neither_is_taken_for_a_mask(engine, damaged, capsys, tmp_path):
    photo, _, _ = damaged
    folder = tmp_path / "album"
    folder.mkdir()
    Image.open(photo).save(folder / "old.jpg", quality=95)
    shutil.copy(photo, folder / "old.png")  # the same photo, saved twice
    code, out, err = run(capsys, "restore", folder, "--mask", folder, "--fidelity", "1",
                         "-o", tmp_path / "out", "--json", "--no-progress")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert sorted(r["input"].split("/")[-1] for r in results) == ["old.jpg", "old.png"]
    assert not any("damage" in r for r in results)
    assert "could each be the other's damage mask" in err and "old_mask.png" in err


def test_a_sharp_face_with_damage_is_said_to_differ_per_seed(monkeypatch, retinaface_dir, damaged, capsys, tmp_path):
    """A face the restorer barely changes is kept as it made it, but each seed fills its damage its own
    way: the seeds' files differ, and the note must not say they are the same."""
    import torch
    from pipeline_util import SmoothingPrior

    from faceapp.core import schedule
    from faceapp.core.engine import FaceEngine
    from faceapp.core.sparing import SharpFaceSparing

    prior = SmoothingPrior(schedule.alphas_cumprod(schedule.linear_betas()))
    engine = FaceEngine.from_networks(torch.nn.Identity(), prior, face_size=128, name="sparing", device="cpu",
                                      sharp_faces=SharpFaceSparing(untouched_below=5.0, full_above=7.0))
    monkeypatch.setattr(cli, "_load_engine", lambda prefs: engine)
    monkeypatch.setenv("FACEAPP_DETECTOR_DIR", str(retinaface_dir))
    photo, mask_file, _ = damaged
    code, _, err = run(capsys, "restore", photo, "--mask", mask_file, "--seeds", "2", "--steps", "2",
                       "-o", tmp_path / "out", "--no-progress")
    assert code == 0, err
    assert "face 1 kept as the restorer made it once the prior had filled its damage" in err
    assert "files are the same" not in err
    first, second = (read_photo(p).rgb for p in sorted((tmp_path / "out").iterdir()))
    assert not np.array_equal(first, second)


def test_an_inverted_mask_fails_that_photo_and_a_mostly_white_one_is_said(engine, damaged, capsys, tmp_path):
    """QA: a 99 % mask (inverted) wrote a flat grey photo with square patches of faces, with a note
    only: a mask of 95 % or more fails its photo, nothing written; one of more than half is said."""
    photo, mask_file, mask = damaged
    Image.fromarray(255 - mask).save(tmp_path / "inverted.png")  # black strokes on white
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "inverted.png", "--fidelity", "1",
                       "--steps", "2", "-o", tmp_path / "out", "--no-progress")
    assert code == 1 and "marks 98% of the photo as damaged" in err and "inverted: invert it" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    most = mask.copy()
    most[: mask.shape[0] * 3 // 4] = 255  # three quarters of it
    Image.fromarray(most).save(tmp_path / "most.png")
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "most.png", "--fidelity", "1",
                       "--steps", "2", "-o", tmp_path / "out1", "--no-progress")
    assert code == 0 and "of the photo as damaged" in err and "if the mask is inverted" in err
    Image.fromarray(np.full_like(mask, 255)).save(tmp_path / "white.png")
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "white.png", "--no-progress",
                       "-o", tmp_path / "out2")
    assert code == 1 and "white.png marks every pixel as damaged" in err
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())
    code, _, err = run(capsys, "restore", photo, "--mask", mask_file, "--fidelity", "1", "--steps", "2",
                       "-o", tmp_path / "out3", "--no-progress")
    assert code == 0 and "as damaged" not in err and "black and white" not in err  # a right mask: nothing said


def test_a_photo_given_as_the_mask_is_said(engine, damaged, capsys, tmp_path, testdata_dir):
    photo, _, mask = damaged
    colour = np.asarray(Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB"))
    Image.fromarray(colour).save(tmp_path / "holiday.png")  # the photo itself, given by mistake
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "holiday.png", "--fidelity", "1",
                       "--steps", "2", "-o", tmp_path / "out", "--no-progress")
    assert code == 0 and "damage mask holiday.png is not black and white (is it a photo?)" in err


def test_damage_over_the_eyes_is_said_to_be_drawn_anew(engine, damaged, capsys, tmp_path, retinaface_dir):
    """A thick stroke across both eyes: the prior draws them anew (QA: every seed gave a skin-coloured
    smear there), which the user is told, with what to do instead; a thin scratch across the face is not."""
    from faceapp.core.faces import FaceDetector

    photo, mask_file, _ = damaged
    code, _, err = run(capsys, "restore", photo, "--mask", mask_file, "-o", tmp_path / "thin", "--no-progress")
    assert code == 0 and "hides features" not in err
    [face] = FaceDetector(retinaface_dir).detect(read_photo(photo).rgb)
    (lx, ly), (rx, ry) = face.landmarks[0], face.landmarks[1]
    mask = np.zeros((read_photo(photo).height, read_photo(photo).width), np.uint8)
    width = max(3, round(0.3 * float(np.hypot(rx - lx, ry - ly))))
    cv2.line(mask, (round(lx) - width, round(ly)), (round(rx) + width, round(ry)), 255, width)
    Image.fromarray(mask).save(tmp_path / "eyes_mask.png")
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "eyes_mask.png", "-o", tmp_path / "thick",
                       "--no-progress")
    assert code == 0 and "hides features (face 1: both eyes)" in err and "leave them unpainted" in err


def test_damage_on_a_face_left_off_is_said_to_be_filled_as_background(engine, capsys, tmp_path, testdata_dir,
                                                                      retinaface_dir):
    """QA: a scratch across a face the detector was unsure of (left off) was filled as the background
    is, smearing the glasses and mouth, without a word. The note names the face and the option that
    restores it as a face; damage only on faces restored gets no such note."""
    from faceapp.core.faces import FaceDetector

    photo = testdata_dir / "photos" / "cf_01.jpg"  # its face 4, a hand, is left off as unsure
    rgb = read_photo(photo).rgb
    faces = FaceDetector(retinaface_dir, device="cpu").detect(rgb)
    x0, y0, x1, y1 = (round(v) for v in faces[3].box)
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.line(mask, (x0, y0), (x1, y1), 255, 3)  # across the left-off face
    Image.fromarray(mask).save(tmp_path / "mask.png")
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "mask.png", "-o", tmp_path / "out", "--no-progress")
    assert code == 0, err
    assert "The damage marked on face 4, switched off, is filled smoothly from around it" in err
    assert "--unsure-faces restores the faces the detector is unsure of too" in err
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "mask.png", "-o", tmp_path / "out2",
                       "--unsure-faces", "--no-progress")
    assert code == 0 and "switched off" not in err
    # left off twice over: by --faces largest, and as unsure (review: it named --faces all alone)
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "mask.png", "-o", tmp_path / "out3",
                       "--faces", "largest", "--no-progress")
    assert code == 0 and "face 4, switched off" in err and "--faces all with --unsure-faces restores every face" in err
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "mask.png", "-o", tmp_path / "out4",
                       "--faces", "largest", "--unsure-faces", "--no-progress")
    assert code == 0 and "face 4, switched off" in err and "--faces all restores every face" in err


def test_the_memory_check_counts_the_fill_of_the_damage(engine, damaged, capsys, tmp_path):
    """A large torn area takes memory to fill (a 24 MP scan's torn quarter about 1 GB): a photo that
    fits without its mask is refused with it, before its result is made, rather than killed."""
    from faceapp.core.memory import BASE_BYTES

    photo, _, _ = damaged
    torn = np.zeros((225, 400), np.uint8)
    torn[:200, :350] = 255  # most of it, the face included
    Image.fromarray(torn).save(tmp_path / "torn.png")
    limit = str(BASE_BYTES + 4 * 2**20)  # the photo's restore needs 2 MB over the base; its fill 6 MB more
    code, _, err = run(capsys, "restore", photo, "-o", tmp_path / "plain", "--memory-limit", limit, "--no-progress")
    assert code == 0, err
    code, _, err = run(capsys, "restore", photo, "--mask", tmp_path / "torn.png", "-o", tmp_path / "torn",
                       "--memory-limit", limit, "--no-progress")
    assert code == 1 and "needs about" in err and "more than the" in err
    assert not (tmp_path / "torn").exists() or not any((tmp_path / "torn").iterdir())


def test_a_photo_without_a_face_has_its_damage_filled_when_a_mask_is_given(engine, capsys, tmp_path):
    """Damage QA: a torn landscape (or a print whose faces were not found) with its mask was "no face
    found", nothing written: its damage is filled classically, as outside faces, and it is said."""
    rng = np.random.default_rng(3)
    rgb = np.clip(rng.normal(120, 10, (200, 300, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros((200, 300), np.uint8)
    mask[78:86, 8:292] = 255
    Image.fromarray(scratched(rgb, mask)).save(tmp_path / "land.png")
    Image.fromarray(mask).save(tmp_path / "land_mask.png")
    code, out, err = run(capsys, "restore", tmp_path / "land.png", "--mask", tmp_path / "land_mask.png",
                         "-o", tmp_path / "out", "--json", "--no-progress")
    assert code == 0 and "land.png: no face found: only its damage is filled." in err
    [record] = json.loads(out)["results"]
    assert record["status"] == "ok" and record["faces"] == 0 and record["damage"]["pixels"] == int((mask > 0).sum())
    restored = read_photo(tmp_path / "out" / "land_restored.png").rgb.astype(int)
    assert abs(restored[mask > 0].mean() - 120) < 10  # the white stroke is gone
    code, _, err = run(capsys, "restore", tmp_path / "land.png", "-o", tmp_path / "out2", "--no-progress")
    assert code == 1 and "no face found" in err  # without its mask: nothing to do, as before
    Image.fromarray((mask > 0).astype(np.uint8) * 50).save(tmp_path / "faint.png")  # a mask marking nothing (sceptic QA)
    code, _, err = run(capsys, "restore", tmp_path / "land.png", "--mask", tmp_path / "faint.png", "-o", tmp_path / "out3",
                       "--no-progress")
    assert code == 1 and "no face found, and its damage mask faint.png marks no pixel as damaged" in err
    assert "only its damage is filled" not in err and not (tmp_path / "out3").exists()


def test_a_wrong_sized_mask_named_like_its_photo_is_said_with_the_photos_path(engine, capsys, tmp_path):
    """Batch QA: "error: damage mask land5.png is 160×120; …" did not say which land5.png of a nested
    archive failed (the mask's name, the photo's too, passed for the photo's), and offered an aligned
    face crop's size for a photo without a face."""
    (tmp_path / "album" / "hills").mkdir(parents=True)
    (tmp_path / "masks" / "hills").mkdir(parents=True)
    Image.fromarray(np.full((240, 320, 3), 120, np.uint8)).save(tmp_path / "album" / "hills" / "land5.png")
    Image.fromarray(np.zeros((120, 160), np.uint8)).save(tmp_path / "masks" / "hills" / "land5.png")
    code, _, err = run(capsys, "restore", tmp_path / "album", "-r", "--mask", tmp_path / "masks", "-o", tmp_path / "out",
                       "--no-progress")
    line = next(line for line in err.splitlines() if line.startswith("error:"))
    assert line.startswith(f"error: {tmp_path / 'album' / 'hills' / 'land5.png'}: damage mask land5.png is 160×120")
    assert "aligned face crop" not in line and code == 1


def test_a_mask_folder_inside_the_album_gives_no_photos(engine, capsys, tmp_path):
    """Batch QA: with album/masks/ given as --mask, its masks that matched no photo were restored as
    photos, each told "give its folder with --mask", and counted among the photos without a mask."""
    album = tmp_path / "album"
    (album / "masks").mkdir(parents=True)
    for name in ("land1.png", "land3.png"):
        Image.fromarray(np.full((120, 160, 3), 120, np.uint8)).save(album / name)
    scratch = np.zeros((120, 160), np.uint8)
    scratch[60:63, 10:150] = 255
    for name in ("land1.png", "land9_mask.png", "Land3.png"):
        Image.fromarray(scratch).save(album / "masks" / name)
    code, out, err = run(capsys, "restore", album, "-r", "--mask", album / "masks", "-o", tmp_path / "out", "--json",
                         "--no-progress")
    inputs = sorted(record["input"].rsplit("/", 1)[-1] for record in json.loads(out)["results"])
    assert inputs == ["land1.png", "land3.png"] and "give its folder or file with --mask" not in err
    assert f"3 files in the folder of masks {album / 'masks'} are not restored as photos." in err


def test_a_resumed_batch_says_when_a_mask_was_added_since_a_photo_was_restored(engine, damaged, capsys, tmp_path):
    """Batch QA: a mask added to the mask folder after its photo was restored: --skip-existing skipped
    the photo without a word, its result left unrepaired."""
    photo, mask_file, _ = damaged
    masks = tmp_path / "masks"
    masks.mkdir()
    argv = ["restore", photo.parent, "--mask", masks, "-o", tmp_path / "out", "--skip-existing", "--json", "--no-progress"]
    assert run(capsys, *argv)[0] == 0
    shutil.copy(mask_file, masks / "old.png")
    code, out, err = run(capsys, *argv)
    [record] = json.loads(out)["results"]
    assert record["status"] == "skipped" and "no damage mask, now old.png" in record["made_with_other_settings"]
    assert "no damage mask, now old.png): --overwrite restores it again" in err


def test_a_resumed_batch_says_when_a_mask_was_painted_over_since_but_not_when_it_was_only_copied(
        engine, damaged, capsys, tmp_path):
    """Review: a mask painted over again after its photo was restored (a scratch missed the first
    time): --skip-existing skipped the photo without a word. A folder of masks copied anew (newer
    files, the same damage) is not said to have changed."""
    import os

    photo, mask_file, mask = damaged
    masks = tmp_path / "masks"
    masks.mkdir()
    shutil.copy(mask_file, masks / "old.png")
    argv = ["restore", photo.parent, "--mask", masks, "-o", tmp_path / "out", "--skip-existing", "--json", "--no-progress"]
    assert run(capsys, *argv)[0] == 0
    result = next((tmp_path / "out").iterdir())
    later = os.stat(result).st_mtime_ns + 2_000_000_000
    shutil.copy(mask_file, masks / "old.png")  # copied again: newer, the same damage
    os.utime(masks / "old.png", ns=(later, later))
    code, out, err = run(capsys, *argv)
    [record] = json.loads(out)["results"]
    assert code == 0 and record["status"] == "skipped" and "changed since" not in " ".join(record["made_with_other_settings"])
    more = mask.copy()
    cv2.line(more, (10, 10), (60, 10), 255, 3)  # a scratch missed the first time
    Image.fromarray(more).save(masks / "old.png")
    earlier = os.stat(result).st_mtime_ns - 5_000_000_000  # (dated before the result, as a copy that keeps
    os.utime(masks / "old.png", ns=(earlier, earlier))  # its date makes it: portability review)
    code, out, err = run(capsys, *argv)
    [record] = json.loads(out)["results"]
    assert record["status"] == "skipped" and "damage mask old.png changed since" in record["made_with_other_settings"]
    assert "; damage mask old.png changed since): --overwrite restores it again" in err
    Image.fromarray(np.zeros_like(mask)).save(masks / "old.png")  # cleared to black since: as none (review)
    os.utime(masks / "old.png", ns=(later, later))
    code, out, err = run(capsys, *argv)
    [record] = json.loads(out)["results"]
    assert "a damage mask, now none" in record["made_with_other_settings"]


def test_a_resumed_batch_takes_a_mask_that_marks_nothing_for_none(engine, damaged, capsys, tmp_path):
    """Review: a black mask (a clean photo's, in a folder of one mask per photo) gives a result with no
    damage recorded, and every resumed run said "no damage mask, now old.png" of it."""
    photo, _, mask = damaged
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(np.zeros_like(mask)).save(masks / "old.png")
    argv = ["restore", photo.parent, "--mask", masks, "-o", tmp_path / "out", "--skip-existing", "--json", "--no-progress"]
    assert run(capsys, *argv)[0] == 0
    code, out, err = run(capsys, *argv)
    [record] = json.loads(out)["results"]
    assert record["status"] == "skipped" and "no damage mask" not in " ".join(record.get("made_with_other_settings") or [])
