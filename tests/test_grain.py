"""Grain matching: a face restored smooth gets the grain of the photo around it, and only what it lacks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceapp.core import grain
from faceapp.core.faces import face_from_box
from faceapp.core.photo_io import Photo
from faceapp.core.photo_restore import PhotoSettings, restore_photo
from faceapp.core.settings import SamplerSettings
from faceapp.core.templates import face_template
from pipeline_util import SmoothingEngine

NO_DIFFUSION = SamplerSettings(fidelity=1.0, steps=1)
SIZE = 320
BOX = (100, 90, 220, 210)  # the face, in photo pixels


class _KeepingEngine(SmoothingEngine):
    """Gives the face back as it was, in a crop finer than the photo: as grainy as the photo."""

    face_size = 512
    template = face_template("ffhq5", 512)

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        return [face.copy() for _ in seeds]
        yield


def _grainy_photo(std: float = 6.0, blur: float = 0.8, *, grey_grain: bool = False, seed: int = 0) -> np.ndarray:
    """A smooth warm gradient under film-like grain (white noise blurred by ``blur`` px)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    base = np.stack([150 + 0.1 * xs, 120 + 0.05 * ys, 100 + 0.03 * (xs + ys)], axis=2)
    noise = rng.standard_normal((SIZE, SIZE, 1 if grey_grain else 3)).astype(np.float32)
    if blur:
        noise = cv2.GaussianBlur(noise, (0, 0), blur).reshape(SIZE, SIZE, -1)
    noise *= std / noise.std()
    return np.clip(base + noise, 0, 255).round().astype(np.uint8)


def _restore(rgb: np.ndarray, *, engine=None, upscale: int = 1, match_grain: bool = True, boxes=(BOX,)):
    photo = Photo.from_array(rgb)
    settings = PhotoSettings(sampler=NO_DIFFUSION, upscale=upscale, match_grain=match_grain)
    faces = [face_from_box(box, index=k) for k, box in enumerate(boxes)]
    return restore_photo(photo, faces, engine or SmoothingEngine(), settings)


def _fine_detail(image: np.ndarray, box: tuple[int, int, int, int], scale: int) -> float:
    """The standard deviation of the high-pass of ``image`` (output scale) in ``box`` (photo pixels)."""
    x0, y0, x1, y1 = (v * scale for v in box)
    values = image.astype(np.float32)
    residual = values - cv2.GaussianBlur(values, (0, 0), float(scale))
    return float(residual[y0:y1, x0:x1].std())


FACE_MIDDLE = (135, 125, 185, 175)  # well inside the face's mask
CORNER = (10, 10, 70, 70)  # far from the face


@pytest.mark.parametrize("upscale", [1, 2, 4])
def test_a_face_restored_smooth_gets_the_grain_of_the_photo_around_it(upscale):
    rgb = _grainy_photo()
    matched = _restore(rgb, upscale=upscale).composite()
    smooth = _restore(rgb, upscale=upscale, match_grain=False).composite()
    photo_grain = _fine_detail(matched, CORNER, upscale)
    assert _fine_detail(smooth, FACE_MIDDLE, upscale) < 0.4 * photo_grain  # what the models make: no grain
    assert 0.88 * photo_grain < _fine_detail(matched, FACE_MIDDLE, upscale) < 1.15 * photo_grain
    # grain, not a change of tone: the face's smooth part is as before
    x0, y0, x1, y1 = (v * upscale for v in FACE_MIDDLE)
    change = matched[y0:y1, x0:x1].astype(float) - smooth[y0:y1, x0:x1]
    assert np.abs(change.mean(axis=(0, 1))).max() < 0.5
    # as fine as the photo's: its clumps as large (neighbours as alike)
    if upscale == 1:
        everywhere = np.ones((80, 80), bool)
        photo_texture = grain.texture_at(rgb[10:90, 10:90], everywhere)
        added = matched[120:200, 120:200].astype(np.float32) - smooth[120:200, 120:200] + 128
        added_texture = grain.texture_at(added, everywhere)
        assert photo_texture.correlation > 0.2  # the photo's grain is not white
        assert abs(added_texture.correlation - photo_texture.correlation) < 0.15  # (both rounded to whole levels)
    # beyond the face's box the photo is untouched
    away = np.ones(matched.shape[:2], bool)
    x0, y0, x1, y1 = _restore(rgb, upscale=upscale).masks()[0].roi
    away[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(matched[away], smooth[away])


def _grain_where(image: np.ndarray, result, low: float, high: float) -> float:
    """The high-pass standard deviation of ``image`` where the faces' weights sum to [low, high)."""
    covered = np.zeros(image.shape[:2], np.float32)
    for mask, weight in zip(result.masks(), result._blend_state().weights):
        x0, y0, x1, y1 = mask.roi
        covered[y0:y1, x0:x1] += weight
    values = image.astype(np.float32)
    residual = values - cv2.GaussianBlur(values, (0, 0), 1.0)
    return float(residual[(covered >= low) & (covered < high)].std())


def test_the_grain_is_the_same_every_time_and_as_strong_across_the_blend():
    rgb = _grainy_photo()
    first = _restore(rgb)
    again = _restore(rgb)
    np.testing.assert_array_equal(first.composite(), again.composite())  # preview and file, run after run
    matched = first.composite()
    photo_grain = _fine_detail(matched, CORNER, 1)
    smooth = _restore(rgb, match_grain=False).composite()
    assert _grain_where(smooth, first, 0.3, 0.7) < 0.85 * photo_grain  # the dip grain matching fills
    for low, high in ((0.1, 0.4), (0.4, 0.7), (0.7, 0.95)):  # neither a dip nor a bump where it fades in
        assert 0.9 * photo_grain < _grain_where(matched, first, low, high) < 1.12 * photo_grain, (low, high)


def test_overlapping_faces_share_one_grain_rather_than_add_theirs_up():
    rgb = _grainy_photo()
    boxes = ((60, 90, 180, 210), (140, 90, 260, 210))
    result = _restore(rgb, boxes=boxes)
    weights = result._blend_state().weights
    assert len(weights) == 2
    matched = result.composite()
    photo_grain = _fine_detail(matched, CORNER, 1)
    # where the two faces overlap, each with part of the pixel (their masks share the middle)
    assert 0.88 * photo_grain < _grain_where(matched, result, 0.95, 1.01) < 1.12 * photo_grain
    both = np.zeros(matched.shape[:2], np.int8)
    for mask in result.masks():
        x0, y0, x1, y1 = mask.roi
        both[y0:y1, x0:x1] += 1
    values = matched.astype(np.float32)
    residual = values - cv2.GaussianBlur(values, (0, 0), 1.0)
    x0, y0, x1, y1 = 150, 130, 170, 170  # between the two faces' middles: both cover it
    assert both[y0:y1, x0:x1].min() == 2
    assert 0.85 * photo_grain < residual[y0:y1, x0:x1].std() < 1.15 * photo_grain


def test_the_grain_does_not_depend_on_how_the_output_is_cut_into_bands():
    rgb = _grainy_photo()
    result = _restore(rgb, upscale=2)
    state = result._blend_state()
    blended = [np.array(result.background) for _ in range(2)]
    grains = [grain.Grain(np.diag([3.0, 2.0, 2.5]), 0.8, 0.2)]
    for out, rows in zip(blended, (128, 37)):
        grain.add_grain(out, state.masks, state.weights, grains, 2, band_rows=rows)
    np.testing.assert_array_equal(blended[0], blended[1])
    assert np.abs(blended[0].astype(int) - result.background).max() > 5


def test_a_face_as_grainy_as_the_photo_gets_no_more():
    rgb = _grainy_photo()
    kept = _restore(rgb, engine=_KeepingEngine())
    np.testing.assert_array_equal(kept.composite(), _restore(rgb, engine=_KeepingEngine(), match_grain=False).composite())


@pytest.mark.parametrize("period, angle", [(2, 45), (3, 15), (4, 45), (6, 0), (8, 30)])
def test_a_printed_screen_is_not_taken_for_grain(period, angle):
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    turn = np.deg2rad(angle)
    u, v = xs * np.cos(turn) + ys * np.sin(turn), ys * np.cos(turn) - xs * np.sin(turn)
    dots = np.clip(3 * (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period)), -1, 1)  # halftone dots
    rgb = _grainy_photo(std=2.0)
    rgb = np.clip(rgb + 40 * dots[..., None], 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_restore(rgb).composite(), _restore(rgb, match_grain=False).composite())


def test_a_photo_buried_in_noise_does_not_bury_its_faces():
    for blur in (0.0, 1.0):  # fine grain, and grain coarse enough that little of it is in the high-pass
        rgb = _grainy_photo(std=45.0, blur=blur)
        matched = _restore(rgb).composite()
        smooth = _restore(rgb, match_grain=False).composite()
        x0, y0, x1, y1 = FACE_MIDDLE
        added = matched[y0:y1, x0:x1].astype(np.float32) - smooth[y0:y1, x0:x1]
        assert 0.5 * grain.MAX_GRAIN < added.std(axis=(0, 1)).mean() < 1.15 * grain.MAX_GRAIN, blur


def test_grey_film_grain_stays_grey_on_a_colour_face():
    rgb = _grainy_photo(grey_grain=True)
    added = _restore(rgb).composite().astype(np.float32) - _restore(rgb, match_grain=False).composite()
    x0, y0, x1, y1 = FACE_MIDDLE
    patch = added[y0:y1, x0:x1]
    assert patch.std() > 2.0
    assert (patch[..., 0] - patch[..., 2]).std() < 0.25 * patch[..., 0].std()


@pytest.mark.parametrize("blur", [0.0, 0.6, 1.0])
def test_how_fine_the_grain_is_is_measured(blur):
    noise = np.random.default_rng(1).standard_normal((200, 200, 1)).astype(np.float32)
    if blur:
        noise = cv2.GaussianBlur(noise, (0, 0), blur)[..., None]
    image = 128 + 10 * np.repeat(noise / noise.std(), 3, axis=2)
    texture = grain.measure_texture(image)
    assert texture is not None
    assert abs(texture.correlation - grain._shaping()[grain._BLURS.index(blur)].correlation) < 0.05
    assert grain.measure_texture(image[:12, :12]) is None  # too few pixels to tell


def test_an_aligned_face_crop_has_no_photo_around_it_to_match():
    photo = Photo.from_array(_grainy_photo()[:128, :128])
    made = [restore_photo(photo, [], SmoothingEngine(), PhotoSettings(sampler=NO_DIFFUSION, aligned=True, match_grain=match))
            for match in (True, False)]
    np.testing.assert_array_equal(made[0].composite(), made[1].composite())


def test_a_bright_face_on_a_dark_noisy_backdrop_gets_the_grain_of_its_own_brightness():
    """QA: a flash portrait on black got the shadows' sensor noise, sandpapering the face."""
    rng = np.random.default_rng(4)
    rgb = np.full((SIZE, SIZE, 3), 30.0) + 9.0 * rng.standard_normal((SIZE, SIZE, 3))  # noisy shadows
    x0, y0, x1, y1 = 95, 85, 225, 215
    shading = 110.0 + 0.9 * np.arange(x1 - x0, dtype=np.float64)[None, :, None]  # the lit face, shaded: less flat
    rgb[y0:y1, x0:x1] = shading + 1.5 * rng.standard_normal((y1 - y0, x1 - x0, 3))  # than the shadows, fine grain
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    matched = _restore(rgb).composite()
    face_grain = _fine_detail(rgb, FACE_MIDDLE, 1)
    assert 0.75 * face_grain < _fine_detail(matched, FACE_MIDDLE, 1) < 1.3 * face_grain < 0.3 * _fine_detail(rgb, CORNER, 1)


def test_the_grain_is_measured_around_the_face_not_in_the_next_picture_of_a_collage():
    """QA: a then-and-now pair: the clean face's measuring reached into the grainy picture beside it."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    rgb = np.repeat((0.9 * xs + 0.2 * ys)[..., None], 3, axis=2)  # a clean picture, shaded (less flat than the next)
    rng = np.random.default_rng(5)
    rgb[:, :110] = 185 + 14 * rng.standard_normal((SIZE, 110, 3))  # another one, flat and very grainy, on the left
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    boxes = ((118, 94, 230, 206),)
    result = _restore(rgb, boxes=boxes)
    assert result.masks()[0].roi[0] < 100  # the face's paste-back reaches into it…
    np.testing.assert_array_equal(result.composite(), _restore(rgb, boxes=boxes, match_grain=False).composite())  # …no grain


def test_coarse_grain_of_an_enlarged_print_is_matched_too_and_the_file_says_how_much():
    rgb = _grainy_photo(std=6.0, blur=1.6)
    result = _restore(rgb)
    matched = result.composite()
    values = matched.astype(np.float32)
    coarse = values - cv2.GaussianBlur(values, (0, 0), 3.0)  # (a band where the clumps are)
    x0, y0, x1, y1 = FACE_MIDDLE
    cx0, cy0, cx1, cy1 = CORNER
    assert 0.8 < coarse[y0:y1, x0:x1].std() / coarse[cy0:cy1, cx0:cx1].std() < 1.25
    [face] = result.provenance()["faces"]
    assert face["grain"] > 2.0
    assert "grain" not in _restore(rgb, match_grain=False).provenance()["faces"][0]


@pytest.mark.parametrize("quality, matched", [(70, False), (84, False), (95, True)])
def test_a_jpeg_saved_at_a_low_quality_has_no_grain_left_to_match(tmp_path, quality, matched):
    """QA: small web JPEGs (cf_00.jpg at quality 82, cf_04.jpg at 63) got speckle their photos do not
    have: what such a file holds at the grain's scale is the encoder's, not the film's or sensor's."""
    from PIL import Image

    from faceapp.core.photo_io import read_photo

    path = tmp_path / "grainy.jpg"
    Image.fromarray(_grainy_photo(std=8.0)).save(path, quality=quality)
    photo = read_photo(path)
    assert photo.jpeg_quality == quality  # (Pillow's tables: the standard ones, scaled)
    made = [restore_photo(photo, [face_from_box(BOX, index=0)], SmoothingEngine(),
                          PhotoSettings(sampler=NO_DIFFUSION, match_grain=match)).composite() for match in (True, False)]
    assert (not np.array_equal(made[0], made[1])) == matched
    assert read_photo(_png(tmp_path, _grainy_photo())).jpeg_quality is None


def _png(folder, rgb: np.ndarray):
    path = folder / "grainy.png"
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def test_switching_grain_off_and_on_is_a_composite_of_the_same_restore():
    """The window switches grain matching without restoring again: the same run's faces, composed
    with or without the grain, as a restore with the setting would have made them."""
    rgb = _grainy_photo()
    matched = _restore(rgb)
    plain = _restore(rgb, match_grain=False).composite()
    off = matched.with_grain(False)
    assert off.same_run(matched) and not off.same_picture(matched) and matched.with_grain(True) is matched
    matched.composite()  # (the grain measured, the composite cached: switching must not reuse it)
    np.testing.assert_array_equal(off.composite(), plain)
    assert "grain" not in off.provenance()["faces"][0] and off.provenance()["match_grain"] is False
    back = off.with_grain(True)
    np.testing.assert_array_equal(back.composite(), matched.composite())
    assert back.same_picture(matched) and back.provenance()["faces"][0]["grain"] > 1.0


def test_the_file_names_the_grain_each_face_got_however_it_was_made(tmp_path):
    """Review: the provenance was read before the pixels were made, so a result written straight
    away (every CLI result; in the window, one switched to grain off screen) lacked the amounts."""
    from faceapp.core.application import write_result
    from faceapp.core.export import read_provenance

    rgb = _grainy_photo()
    for name, result in (("fresh", _restore(rgb)), ("switched", _restore(rgb, match_grain=False).with_grain(True))):
        written = write_result(result, tmp_path / f"{name}.png", quality=95)
        assert read_provenance(written)["faces"][0]["grain"] > 1.0, name


def test_switching_grain_where_it_adds_none_leaves_the_picture_the_same(tmp_path):
    """A JPEG saved below quality 85 gets no grain: switching the setting changes nothing there, so
    a file saved from it stays up to date and no composite is made again (review)."""
    from PIL import Image

    from faceapp.core.photo_io import read_photo

    path = tmp_path / "web.jpg"
    Image.fromarray(_grainy_photo()).save(path, quality=70)
    result = restore_photo(read_photo(path), [face_from_box(BOX, index=0)], SmoothingEngine(),
                           PhotoSettings(sampler=NO_DIFFUSION))
    assert result.settings.match_grain and not result.grain_matched
    assert result.with_grain(False).same_picture(result)
    assert result.with_grain(False).composite() is result.composite()  # (the cached one)


class _FeaturedEngine(SmoothingEngine):
    """Smooth skin, as the models make it, with sharp features drawn on it (eyes, brows, mouth,
    strands of hair): what a restored face is."""

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        smooth = cv2.GaussianBlur(face, (0, 0), 4.0)
        for y in range(10, 128, 12):  # fine dark lines across the crop, every 12 px
            cv2.line(smooth, (0, y), (127, y + 5), (40, 30, 30), 1)
        return [smooth for _ in seeds]
        yield


def test_a_face_with_sharp_features_gets_the_photos_grain_on_its_skin_too():
    """QA: the face's own grain was measured where the photo is quietest, which on the restored face
    met its features (0.25–0.34 of the photo's grain where it had 0.01–0.04): its skin got 10–18 %
    too little. It is measured on the face's own quietest blocks."""
    rgb = _grainy_photo()
    result = _restore(rgb, engine=_FeaturedEngine())
    result.composite()  # (the grain measured)
    [grain_added] = result._cached_grains(result.shown())
    assert grain_added is not None and grain_added.own_share < 0.1  # (before: none added at all)
    photo_grain = float(np.sqrt(np.trace(grain.measure_texture(rgb[10:90, 10:90]).covariance) / 3))
    assert grain_added.strength > 0.85 * photo_grain
