"""Damage masks: reading and checking mask files, carrying masks into face crops and back,
the classical fill, and what provenance records."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from pipeline_util import scratches

from faceapp.core.damage import (
    check_mask,
    covered_features,
    fill_damage,
    mask_summary,
    mask_to_crop,
    mask_to_photo,
    read_mask,
)
from faceapp.core.errors import MaskError
from faceapp.core.faces import align_face, face_from_box
from faceapp.core.templates import face_template


def test_read_mask_of_the_photos_size_marks_white_pixels_damaged(tmp_path):
    painted = scratches(60, 80)
    grey = np.where(painted > 0, 230, 20).astype(np.uint8)  # off-white on off-black, as editors save
    Image.fromarray(grey).save(tmp_path / "mask.png")
    mask, covers = read_mask(tmp_path / "mask.png", width=80, height=60, crop_size=512)
    assert covers == "photo"
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 255}
    np.testing.assert_array_equal(mask > 0, painted > 0)


def test_a_soft_brushs_strokes_count_to_their_visible_edges(tmp_path):
    """Damage QA: a mask feathered by 3 px marked 4.2 % of the photo of its 7.5 %: most dust specks
    and the thin scratches were left. Its strokes count as far as a quarter of white reaches, as a
    JPEG mask's ringing does not."""
    import cv2

    painted = np.zeros((120, 160), np.uint8)
    cv2.line(painted, (10, 20), (150, 100), 255, 3)
    for x in (30, 70, 110):
        cv2.circle(painted, (x, 40), 2, 255, -1)  # dust
    soft = cv2.GaussianBlur(painted, (0, 0), 2)
    Image.fromarray(soft).save(tmp_path / "soft.png")
    mask, _ = read_mask(tmp_path / "soft.png", width=160, height=120)
    assert ((mask > 0) & (painted > 0)).sum() >= 0.9 * (painted > 0).sum()
    assert all(mask[40, x] for x in (30, 70, 110))
    Image.fromarray(painted).save(tmp_path / "jpeg.jpg", quality=50)
    mask, _ = read_mask(tmp_path / "jpeg.jpg", width=160, height=120)
    assert (mask > 0).sum() <= 1.1 * (painted > 0).sum()  # its ringing is no damage


def test_strokes_painted_in_a_colour_mark_damage_and_an_empty_mask_is_said(tmp_path):
    """Red over the damage is a common way to make a mask in an editor; pure red is grey level 76,
    so its strokes had repaired nothing, told "its light pixels are taken as damage" (QA)."""
    from faceapp.core.damage import mask_warning

    painted = scratches(60, 80)
    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[painted > 0] = (255, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "red.png")
    mask, _ = read_mask(tmp_path / "red.png", width=80, height=60)
    np.testing.assert_array_equal(mask > 0, painted > 0)
    assert mask_warning(mask, "red.png") is None
    assert "marks no pixel as damaged" in mask_warning(np.zeros_like(mask), "black.png")


def test_read_mask_takes_an_aligned_crop_sized_mask_and_transparent_pixels_as_undamaged(tmp_path):
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[10:20, :, 3] = 255  # only this band is opaque white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "crop_mask.png")
    mask, covers = read_mask(tmp_path / "crop_mask.png", width=400, height=225, crop_size=64)
    assert covers == "crop"
    assert (mask[10:20] == 255).all() and not mask[:10].any() and not mask[20:].any()


def test_a_mask_of_another_size_is_refused_naming_the_sizes_that_fit(tmp_path):
    Image.fromarray(np.zeros((50, 70), np.uint8)).save(tmp_path / "wrong.png")
    with pytest.raises(MaskError) as caught:
        read_mask(tmp_path / "wrong.png", width=80, height=60, crop_size=512)
    message = str(caught.value)
    assert "wrong.png" in message and "70×50" in message and "80×60" in message and "512×512" in message


def test_a_mask_turned_a_quarter_says_so(tmp_path):
    Image.fromarray(np.zeros((80, 60), np.uint8)).save(tmp_path / "turned.png")
    with pytest.raises(MaskError, match="quarter"):
        read_mask(tmp_path / "turned.png", width=80, height=60)


def test_a_mask_that_is_no_image_is_refused_clearly(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(MaskError, match="damage mask .*notes.png"):
        read_mask(tmp_path / "notes.png", width=80, height=60)


def test_check_mask_refuses_colour_arrays_and_other_sizes():
    with pytest.raises(MaskError, match="single-channel"):
        check_mask(np.zeros((6, 8, 3), np.uint8), 8, 6)
    with pytest.raises(MaskError, match="8×6"):
        check_mask(np.zeros((8, 6), np.uint8), 8, 6)
    assert set(np.unique(check_mask(np.arange(48).reshape(6, 8), 8, 6))) == {0, 255}


def test_mask_summary_records_area_and_a_hash_that_follows_the_pixels():
    mask = np.zeros((10, 20), np.uint8)
    mask[2:4, 5:10] = 255
    summary = mask_summary(mask)
    assert summary["pixels"] == 10 and summary["area"] == pytest.approx(10 / 200)
    assert mask_summary(mask.copy())["sha256"] == summary["sha256"]
    moved = np.roll(mask, 1, axis=1)
    assert mask_summary(moved)["sha256"] != summary["sha256"]
    assert mask_summary(mask.reshape(20, 10))["sha256"] != summary["sha256"]  # same bits, other shape


def _face_affine(photo_size, box, crop_size):
    rgb = np.zeros((photo_size[1], photo_size[0], 3), np.uint8)
    face = face_from_box(box)
    _, affine = align_face(rgb, face.landmarks, template=face_template("ffhq5", crop_size), size=crop_size)
    return affine


def test_a_scratch_in_the_photo_lands_on_the_same_place_of_the_aligned_crop():
    affine = _face_affine((400, 300), (150, 80, 250, 200), 128)
    mask = np.zeros((300, 400), np.uint8)
    mask[140:143, 160:240] = 255  # a thin horizontal scratch across the face
    crop_mask = mask_to_crop(mask, affine, 128)
    for x in (170.0, 200.0, 230.0):
        u, v = affine @ np.array([x, 141.0, 1.0])
        assert crop_mask[int(round(v)), int(round(u))] == 255
    far_u, far_v = affine @ np.array([200.0, 100.0, 1.0])
    assert crop_mask[int(round(far_v)), int(round(far_u))] == 0


def test_a_one_pixel_scratch_survives_a_crop_smaller_than_the_face():
    affine = _face_affine((1200, 1200), (300, 300, 900, 900), 64)  # the face shrinks ~10×
    length = 500 * np.sqrt(abs(np.linalg.det(affine[:, :2])))  # the scratch's length in the crop
    for row in range(600, 612):  # wherever it falls between the crop's samples, it stays a line
        mask = np.zeros((1200, 1200), np.uint8)
        mask[row, 350:850] = 255
        assert (mask_to_crop(mask, affine, 64) > 0).sum() >= length, row


def test_a_crop_mask_carried_back_covers_the_damage_it_came_from():
    affine = _face_affine((400, 300), (150, 80, 250, 200), 128)
    mask = np.zeros((300, 400), np.uint8)
    mask[120:150, 170:230] = 255
    back = mask_to_photo(mask_to_crop(mask, affine, 128), affine, 400, 300)
    assert (back[mask > 0] == 255).all()
    assert back.sum() < 2.0 * mask.sum()  # conservative, not a blob


def test_fill_damage_fills_only_the_damaged_pixels_from_their_surroundings():
    rng = np.random.default_rng(0)
    rgb = np.full((90, 120, 3), (150, 110, 90), np.uint8)
    rgb[:, 60:] = (60, 80, 140)
    rgb = np.clip(rgb + rng.integers(-3, 4, rgb.shape), 0, 255).astype(np.uint8)
    damaged = rgb.copy()
    mask = np.zeros((90, 120), np.uint8)
    mask[40:46, 10:50] = 255
    mask[20:70, 80:84] = 255
    damaged[mask > 0] = 255  # the scratches are white in the photo
    original = damaged.copy()
    filled = fill_damage(damaged, mask)
    np.testing.assert_array_equal(damaged, original)  # the input is never modified
    np.testing.assert_array_equal(filled[mask == 0], damaged[mask == 0])
    error = np.abs(filled.astype(int) - rgb.astype(int))[mask > 0]
    assert error.mean() < 6 and error.max() < 40


def test_fill_damage_with_nothing_to_fill_from_gives_grey_not_black():
    rgb = np.zeros((8, 8, 3), np.uint8)
    filled = fill_damage(rgb, np.full((8, 8), 255, np.uint8))
    assert (filled == 128).all()


def test_a_wide_hole_is_filled_smoothly_and_without_a_seam_at_its_rim():
    """A hole far wider than Telea's neighbourhood (a torn corner) is filled at a smaller scale and
    its rim again at full size: the fill follows the photo around it, with no step at the edge."""
    y, x = np.mgrid[0:300, 0:400].astype(np.float32)
    photo = np.stack([x * 0.5 + 20, y * 0.6 + 30, (x + y) * 0.25 + 10], axis=2).astype(np.uint8)
    mask = np.zeros((300, 400), np.uint8)
    cv2.circle(mask, (200, 150), 80, 255, -1)
    filled = fill_damage(photo, mask)
    damaged = mask > 0
    error = np.abs(filled.astype(int) - photo.astype(int))[damaged]
    assert error.mean() < 9
    rim = damaged & ~cv2.erode(damaged.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    outside = (cv2.dilate(damaged.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~damaged
    # each rim pixel against the mean of its neighbours outside the hole
    total = cv2.blur(np.where(outside[..., None], filled, 0).astype(np.float64), (3, 3))
    count = cv2.blur(outside.astype(np.float64), (3, 3))[..., None]
    step = np.abs(filled - total / np.maximum(count, 1e-9))[rim]
    assert step.mean() < 2.5  # no seam (the enlarged fill alone, without its rim filled again: 4.5)


def test_damage_hiding_an_eye_or_the_mouth_is_told_apart_from_a_thin_scratch():
    points = face_template("ffhq5", 256)  # left eye, right eye, nose, mouth corners of an aligned crop
    (lx, ly), (rx, ry) = points[0], points[1]
    distance = float(np.hypot(rx - lx, ry - ly))

    def stroke(start, end, width):
        mask = np.zeros((256, 256), np.uint8)
        cv2.line(mask, tuple(map(round, start)), tuple(map(round, end)), 255, width)
        return mask

    across_the_eyes = (lx - 20, ly), (rx + 20, ry)
    assert covered_features(stroke(*across_the_eyes, round(0.3 * distance)), points) == ["both eyes"]
    assert covered_features(stroke(*across_the_eyes, 4), points) == []  # a scratch: the eyes beside it stay
    assert covered_features(stroke((lx - 20, ly), (lx + 12, ly), round(0.3 * distance)), points) == ["an eye"]
    mouth = stroke(points[3] - (8, 0), points[4] + (8, 0), round(0.3 * distance))
    assert covered_features(mouth, points) == ["the mouth"]
    assert covered_features(np.maximum(mouth, stroke(*across_the_eyes, 20)), points) == ["both eyes", "the mouth"]
    assert covered_features(np.zeros((256, 256), np.uint8), points) == []
    nose = stroke(points[2] - (15, 0), points[2] + (15, 0), round(0.3 * distance))  # a fold across it
    assert covered_features(nose, points) == ["the nose"]
    assert covered_features(np.full((256, 256), 255, np.uint8), points) == ["most of the face"]
    left_part = np.zeros((256, 256), np.uint8)
    left_part[:, :round(0.6 * 256)] = 255  # QA's "left 60 %": a ghost of a face in a square
    assert covered_features(left_part, points) == ["most of the face"]


@pytest.mark.parametrize("eyes", [40.0, 700.0])  # a small face, and a large one looked at on a grid
def test_what_paint_hides_of_a_face_is_told_alike_at_any_size(eyes):
    """A large face's mask is sampled on a grid (UI-stall QA: 0.4 s at each stroke's end): the
    features it hides are the same as a small face's painted alike."""
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 0.6], [0.1, 1.0], [0.9, 1.0]]) * eyes + 2 * eyes
    mask = np.zeros((int(5 * eyes), int(5 * eyes)), np.uint8)
    cv2.circle(mask, tuple(int(v) for v in points[0]), int(0.3 * eyes), 255, -1)  # the left eye
    cv2.line(mask, tuple(int(v) for v in points[3]), tuple(int(v) for v in points[4]), 255, int(0.3 * eyes))
    assert covered_features(mask, points) == ["an eye", "the mouth"]
    mask[:, : int(points[4][0] - 0.1 * eyes)] = 0  # the eye and most of the mouth cleared
    assert covered_features(mask, points) == []
