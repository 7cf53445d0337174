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
from pipeline_util import FakeEngine

NO_DIFFUSION = SamplerSettings(fidelity=1.0, steps=1)
SIZE = 320
BOX = (100, 90, 220, 210)  # the face, in photo pixels


class _SmoothingEngine(FakeEngine):
    """Restores a face as the models do to grain: takes it out (a wide blur of the crop)."""

    model_name, face_size = "smoothing", 128
    template = face_template("ffhq5", 128)

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        return [cv2.GaussianBlur(face, (0, 0), 4.0) for _ in seeds]
        yield  # a generator that reports no step


class _KeepingEngine(_SmoothingEngine):
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


def _restore(rgb: np.ndarray, *, engine=None, upscale: int = 1, match_grain: bool = True):
    photo = Photo.from_array(rgb)
    settings = PhotoSettings(sampler=NO_DIFFUSION, upscale=upscale, match_grain=match_grain)
    return restore_photo(photo, [face_from_box(BOX, index=0)], engine or _SmoothingEngine(), settings)


def _fine_detail(image: np.ndarray, box: tuple[int, int, int, int], scale: int) -> float:
    """The standard deviation of the high-pass of ``image`` (output scale) in ``box`` (photo pixels)."""
    x0, y0, x1, y1 = (v * scale for v in box)
    values = image.astype(np.float32)
    residual = values - cv2.GaussianBlur(values, (0, 0), float(scale))
    return float(residual[y0:y1, x0:x1].std())


FACE_MIDDLE = (135, 125, 185, 175)  # well inside the face's mask
CORNER = (10, 10, 70, 70)  # far from the face


@pytest.mark.parametrize("upscale", [1, 2])
def test_a_face_restored_smooth_gets_the_grain_of_the_photo_around_it(upscale):
    rgb = _grainy_photo()
    matched = _restore(rgb, upscale=upscale).composite()
    smooth = _restore(rgb, upscale=upscale, match_grain=False).composite()
    photo_grain = _fine_detail(matched, CORNER, upscale)
    assert _fine_detail(smooth, FACE_MIDDLE, upscale) < 0.4 * photo_grain  # what the models make: no grain
    assert 0.8 * photo_grain < _fine_detail(matched, FACE_MIDDLE, upscale) < 1.25 * photo_grain
    # grain, not a change of tone: the face's smooth part is as before
    x0, y0, x1, y1 = (v * upscale for v in FACE_MIDDLE)
    change = matched[y0:y1, x0:x1].astype(float) - smooth[y0:y1, x0:x1]
    assert np.abs(change.mean(axis=(0, 1))).max() < 0.5
    # as fine as the photo's: its clumps as large (neighbours as alike)
    if upscale == 1:
        photo_texture = grain.measure_texture(rgb[10:90, 10:90])
        added_texture = grain.measure_texture(change + 128)
        assert photo_texture.correlation > 0.2  # the photo's grain is not white
        assert abs(added_texture.correlation - photo_texture.correlation) < 0.12
    # beyond the face's box the photo is untouched
    away = np.ones(matched.shape[:2], bool)
    x0, y0, x1, y1 = _restore(rgb, upscale=upscale).masks()[0].roi
    away[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(matched[away], smooth[away])


def test_the_grain_is_the_same_every_time_and_fades_in_over_the_blend():
    rgb = _grainy_photo()
    first = _restore(rgb)
    again = _restore(rgb)
    np.testing.assert_array_equal(first.composite(), again.composite())  # preview and file, run after run
    smooth = _restore(rgb, match_grain=False).composite().astype(np.float32)
    added = first.composite().astype(np.float32) - smooth
    [weight] = first._blend_state().weights
    x0, y0, x1, y1 = first.masks()[0].roi
    region = added[y0:y1, x0:x1]
    edge = region[(weight > 0.05) & (weight < 0.3)].std()
    inside = region[weight > 0.95].std()
    assert 0 < edge < 0.9 * inside  # less where the photo's own grain still shows through


def test_a_face_as_grainy_as_the_photo_gets_no_more():
    rgb = _grainy_photo()
    kept = _restore(rgb, engine=_KeepingEngine())
    np.testing.assert_array_equal(kept.composite(), _restore(rgb, engine=_KeepingEngine(), match_grain=False).composite())


def test_a_printed_screen_is_not_taken_for_grain():
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    dots = np.where((xs + ys) % 2 == 0, 30.0, -30.0)[..., None]  # a fine halftone-like screen
    rgb = np.clip(np.full((SIZE, SIZE, 3), 128.0) + dots, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_restore(rgb).composite(), _restore(rgb, match_grain=False).composite())


def test_a_photo_buried_in_noise_does_not_bury_its_faces():
    rgb = _grainy_photo(std=45.0, blur=0.0)
    matched = _restore(rgb).composite()
    smooth = _restore(rgb, match_grain=False).composite()
    added = _fine_detail(matched.astype(np.float32) - smooth.astype(np.float32) + 128, FACE_MIDDLE, 1)
    assert 0.5 * grain.MAX_GRAIN < added < 1.2 * grain.MAX_GRAIN


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
    assert abs(grain._blur_for(texture.correlation) - blur) <= 0.15
    assert grain.measure_texture(image[:12, :12]) is None  # too few pixels to tell


def test_an_aligned_face_crop_has_no_photo_around_it_to_match():
    photo = Photo.from_array(_grainy_photo()[:128, :128])
    made = [restore_photo(photo, [], _SmoothingEngine(), PhotoSettings(sampler=NO_DIFFUSION, aligned=True, match_grain=match))
            for match in (True, False)]
    np.testing.assert_array_equal(made[0].composite(), made[1].composite())
    assert made[0].provenance()["match_grain"] is False  # the file says none was matched
