"""Repairing a damaged photo: strokes over a face and over the background come back filled, the rest
is untouched, seeds give alternatives for the filled region, provenance records the mask; and
iterative refinement of a face."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
from pipeline_util import SteppingEngine, drain, identity_engine, outside_faces, scratched, smoothing_engine

from faceapp.core.application import find_faces, read_damage
from faceapp.core.errors import MaskError
from faceapp.core.faces import FaceDetector
from faceapp.core.photo_io import Photo, read_photo
from faceapp.core.photo_restore import (
    PhotoSettings,
    add_candidates,
    filled_background,
    iter_restore_photo,
    refine_face,
    restore_photo,
)
from faceapp.core.preferences import Preferences
from faceapp.core.settings import SamplerSettings

FAITHFUL = SamplerSettings(fidelity=1.0, steps=4)  # the restoration returns the crop; only the hole is sampled


@pytest.fixture(scope="module")
def damaged_photo(retinaface_dir, testdata_dir):
    """cf_03.jpg, its face, and white strokes over the face and over the background."""
    photo = read_photo(testdata_dir / "photos" / "cf_03.jpg")
    faces = find_faces(photo, FaceDetector(retinaface_dir), Preferences())
    (face,) = faces
    mask = np.zeros((photo.height, photo.width), np.uint8)
    x0, y0, x1, y1 = (int(v) for v in face.box)
    cv2.line(mask, (x0 + 2, y0 + (y1 - y0) // 3), (x1 - 2, y1 - (y1 - y0) // 4), 255, 3)  # across the face
    cv2.line(mask, (5, photo.height - 20), (x0 - 30, 15), 255, 4)  # through the background
    cv2.circle(mask, (photo.width - 40, photo.height - 40), 9, 255, -1)  # a stain
    return photo, Photo.from_array(scratched(photo.rgb, mask)), faces, mask


def test_strokes_over_a_face_and_the_background_come_back_filled(damaged_photo):
    original, damaged, faces, mask = damaged_photo
    result = restore_photo(damaged, faces, smoothing_engine(128), PhotoSettings(sampler=FAITHFUL), damage=mask)
    out = result.composite()
    error = np.abs(out.astype(int) - original.rgb.astype(int)).max(axis=2)
    assert error[mask > 0].mean() < 20, "the strokes still show"
    assert (error[mask > 0] > 120).mean() < 0.01
    rim = cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0  # (filled too: a scratch's rim)
    untouched = outside_faces(result) & ~rim
    np.testing.assert_array_equal(out[untouched], damaged.rgb[untouched])
    assert damaged.rgb[mask > 0].min() == 255  # the photo given is never modified
    face_damage = result.faces[0].damage
    assert face_damage is not None and face_damage.shape == (128, 128) and face_damage.any()


def test_provenance_records_the_mask_area_and_hash(damaged_photo):
    _, damaged, faces, mask = damaged_photo
    result = restore_photo(damaged, faces, identity_engine(128), PhotoSettings(sampler=FAITHFUL), damage=mask)
    record = result.provenance()
    assert record["damage"]["pixels"] == int((mask > 0).sum())
    assert record["damage"]["area"] == pytest.approx((mask > 0).mean(), abs=1e-6)
    assert len(record["damage"]["sha256"]) == 64
    assert record["faces"][0]["damage"]["pixels"] > 0
    plain = restore_photo(damaged, faces, identity_engine(128), PhotoSettings(sampler=FAITHFUL))
    assert "damage" not in plain.provenance() and "damage" not in plain.provenance()["faces"][0]


def test_seeds_give_alternatives_for_the_filled_region(damaged_photo):
    _, damaged, faces, mask = damaged_photo
    engine = smoothing_engine(64)
    settings = PhotoSettings(sampler=SamplerSettings(fidelity=1.0, steps=3, eta=1.0), seeds_per_face=2)
    result = restore_photo(damaged, faces, engine, settings, damage=mask)
    face = result.faces[0]
    hole = face.damage > 0
    one, two = (c.astype(int) for c in face.candidates)
    assert np.abs(one - two)[hole].mean() > 1.0
    np.testing.assert_array_equal(one[~hole], two[~hole])  # fidelity 1: only the hole differs
    more = add_candidates(result, 0, engine, 1)
    new = more.faces[0].candidates[-1]
    assert (new[hole] > 250).all(axis=1).mean() < 0.05  # a new seed is repaired as well
    assert more.faces[0].seeds == (0, 1, 2)


def test_a_mask_of_another_size_or_an_empty_one(damaged_photo):
    _, damaged, faces, mask = damaged_photo
    with pytest.raises(MaskError, match="damage mask"):
        drain(iter_restore_photo(damaged, faces, identity_engine(64), PhotoSettings(), damage=mask[:-1]))
    result = restore_photo(damaged, faces, identity_engine(64), PhotoSettings(sampler=FAITHFUL), damage=np.zeros_like(mask))
    assert result.damage is None and "damage" not in result.provenance()


def test_refinement_appends_each_pass_chooses_the_last_and_records_the_changes(damaged_photo):
    original, _, faces, _ = damaged_photo
    engine = SteppingEngine(face_size=64, steps=2)  # each pass brightens the face by its seed (3)
    result = restore_photo(original, faces, engine, PhotoSettings(base_seed=3))
    progress = []
    refined = refine_face(result, 0, engine, 3, on_progress=progress.append)
    face = refined.faces[0]
    assert len(face.candidates) == 4 and face.chosen == 3 and face.seeds == (3, 3, 3, 3)
    for before, after in zip(face.candidates, face.candidates[1:], strict=False):
        assert (after.astype(int) - before.astype(int)).max() == 3  # each pass restored the previous one
    assert [r.index for r in face.refinement_of(3)] == [1, 2, 3]
    assert all(r.change > 0 for r in face.refinements)
    # the passes all brighten: the face moved as far as the three changes together
    assert face.refinement_distance(3) == pytest.approx(sum(r.change for r in face.refinements), rel=0.02)
    assert face.refinement_distance(0) is None
    record = refined.provenance()["faces"][0]["refine"]
    assert record["passes"] == 3 and record["moved"] == pytest.approx(face.refinement_distance(3), abs=1e-3)
    assert engine.calls[-1] == [3] and sum(1 for p in progress if p.step == 0) == 3
    assert len(result.faces[0].candidates) == 1  # the result refined is unchanged
    assert "refine" not in refined.choose(0, 0).provenance()["faces"][0]


def test_resampling_takes_each_repair_step_again_and_is_recorded(damaged_photo):
    _, damaged, faces, mask = damaged_photo
    engine = smoothing_engine(64)

    def run(resamples):
        progress = []
        settings = PhotoSettings(sampler=SamplerSettings(fidelity=1.0, steps=8), repair_resamples=resamples)
        result = restore_photo(damaged, faces, engine, settings, damage=mask, on_progress=progress.append)
        assert progress[-1] == "repairing the damage"  # after the faces: the photo's own (review)
        return result, [p for p in progress if not isinstance(p, str) and p.step]

    once, steps_once = run(1)
    thrice, steps_thrice = run(3)
    # 8 steps; with 3 resamples each of the 7 states short of the clean one is sampled 2 more times
    assert steps_once[-1].total_steps == 8 and steps_thrice[-1].total_steps == 8 + 7 * 2
    assert [p.step for p in steps_thrice] == list(range(1, 23))
    assert thrice.provenance()["damage"]["resamples"] == 3
    hole = thrice.faces[0].damage > 0
    assert np.abs(thrice.faces[0].restored.astype(int) - once.faces[0].restored.astype(int))[hole].max() > 0
    with pytest.raises(ValueError, match="repair_resamples"):
        PhotoSettings(repair_resamples=0)


def test_a_mask_given_in_the_face_crop_is_that_faces_mask_as_it_is(damaged_photo, tmp_path):
    from PIL import Image

    _, damaged, faces, _ = damaged_photo
    engine = identity_engine(128)
    stroke = np.zeros((128, 128), np.uint8)
    stroke[60:62, 20:108] = 255  # two pixels tall, in the crop
    Image.fromarray(stroke).save(tmp_path / "crop_mask.png")
    damage = read_damage(tmp_path / "crop_mask.png", damaged, faces, engine)
    np.testing.assert_array_equal(damage.crop, stroke)
    result = restore_photo(damaged, faces, engine, PhotoSettings(sampler=FAITHFUL), damage=damage.photo,
                           face_damage=damage.crop)
    np.testing.assert_array_equal(result.faces[0].damage, stroke)  # not grown by a warp there and back
    assert result.damage is not None and result.provenance()["damage"]["pixels"] > 0
    np.testing.assert_array_equal(add_candidates(result, 0, engine, 1).faces[0].damage, stroke)


def _grainy_print(sigma: float, *, jpeg_quality: int | None = None) -> tuple[Photo, np.ndarray]:
    """A 400×300 print of one brown with grain of ``sigma`` grey levels, its corner torn off (white),
    the tear's rim a pixel wide half way between; and the mask of the tear, not of its rim."""
    rng = np.random.default_rng(7)
    rgb = np.clip(np.array([150.0, 128.0, 110.0]) + rng.normal(0.0, sigma, (300, 400, 1)), 0, 255).astype(np.uint8)
    mask = np.zeros((300, 400), np.uint8)
    corner = np.array([[400, 120], [400, 300], [180, 300]], np.int32)
    cv2.fillPoly(mask, [corner], 255)
    rim = (cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0) & (mask == 0)
    rgb[mask > 0] = 245
    rgb[rim] = 200
    photo = Photo.from_array(rgb)
    return (photo if jpeg_quality is None else dataclasses.replace(photo, jpeg_quality=jpeg_quality)), mask


def _highpass(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float32)
    return image - cv2.GaussianBlur(image, (0, 0), 1.0)


def test_a_fill_in_a_grainy_photo_gets_its_grain_and_its_rim_is_filled_too():
    """QA: a torn corner of a grainy scan came back a smooth, plastic patch (high-pass 0.16 grey
    levels inside, 2.16 around), a faint line along its edge where the tear's rim lay just outside
    the mask. The fill takes the rim too and gets the photo's grain; a photo without grain, or a
    JPEG saved below quality 85 (its fine texture is the encoder's), gets none."""
    photo, mask = _grainy_print(4.0)
    filled, filled_mask = filled_background(photo, mask)
    inside = cv2.erode(mask, np.ones((9, 9), np.uint8)) > 0
    around = cv2.dilate(mask, np.ones((9, 9), np.uint8)) == 0
    grain, photo_grain = _highpass(filled)[inside].std(), _highpass(photo.rgb)[around].std()
    assert 0.75 * photo_grain < grain < 1.25 * photo_grain, (grain, photo_grain)
    rim = (filled_mask > 0) & (mask == 0)
    assert rim.any() and abs(filled[rim].astype(float).mean() - photo.rgb[around].astype(float).mean()) < 6
    np.testing.assert_array_equal(filled[filled_mask == 0], photo.rgb[filled_mask == 0])
    np.testing.assert_array_equal(filled, filled_background(photo, mask)[0])  # the same every time
    for smooth in (_grainy_print(0.0)[0], dataclasses.replace(photo, jpeg_quality=70)):
        plain = filled_background(smooth, mask)[0]
        assert _highpass(plain)[inside].std() < 0.5


def test_the_middle_of_a_large_hole_gets_grain_too():
    """Review: the fill is grained tile by tile (512 px), each measured on the photo around it; the
    tiles inside a large hole, with no photo around them to measure, stayed smooth, in blocks. They
    take the grain of the nearest tile measured."""
    rng = np.random.default_rng(11)
    rgb = np.clip(130.0 + rng.normal(0.0, 4.0, (1000, 1400, 1)), 0, 255).astype(np.uint8).repeat(3, axis=2)
    mask = np.zeros((1000, 1400), np.uint8)
    mask[:900, :1300] = 255  # a hole whose first tile's window (640 px) is all damage
    rgb[mask > 0] = 250
    filled, _ = filled_background(Photo.from_array(rgb), mask)
    around = _highpass(rgb)[cv2.dilate(mask, np.ones((9, 9), np.uint8)) == 0].std()
    for top in range(0, 900 - 8, 512):
        for left in range(0, 1300 - 8, 512):
            tile = _highpass(filled)[top + 4 : min(900, top + 512) - 4, left + 4 : min(1300, left + 512) - 4]
            assert tile.std() > 0.7 * around, (top, left, tile.std(), around)
