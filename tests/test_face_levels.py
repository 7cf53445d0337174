"""A dark or faded face is restored with its levels stretched, and comes back at the photo's own."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pipeline_util import SteppingEngine, drain

from faceapp.core.engine import FaceEngine
from faceapp.core.face_levels import MAX_GAIN, FaceLevels
from faceapp.core.faces import face_from_box
from faceapp.core.photo_io import Photo
from faceapp.core.photo_restore import PhotoSettings, iter_restore_photo
from faceapp.core.settings import SamplerSettings


def _face(testdata_dir, name="0143.png") -> np.ndarray:
    return np.asarray(Image.open(testdata_dir / "faces" / name).convert("RGB").resize((64, 64)))


def _luma_range(face: np.ndarray) -> tuple[float, float]:
    luma = face.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
    return tuple(float(v) for v in np.percentile(luma, (1, 99)))


@pytest.mark.parametrize("name", ["0143.png", "0345.png", "0412.png", "0599.png"])
def test_a_face_exposed_as_most_photos_are_is_left_exactly_as_it_is(testdata_dir, name):
    face = _face(testdata_dir, name)  # (0143's darkest percent is at 30: near enough)
    levels = FaceLevels.of(face)
    assert levels.identity and levels.stretch(face) is face


@pytest.mark.parametrize(("gain", "offset"), [(0.15, 0), (0.4, 0), (0.4, 140)])  # dark, over a stop under, faded
def test_a_dark_or_faded_face_is_stretched_and_every_level_comes_back(testdata_dir, gain, offset):
    face = np.rint(_face(testdata_dir) * gain + offset).astype(np.uint8)
    levels = FaceLevels.of(face)
    stretched = levels.stretch(face)
    assert 1.0 < levels.gain <= MAX_GAIN and _luma_range(stretched[22:54, 18:46])[1] >= 150  # the face itself
    back = levels.undo(stretched).astype(int) - face
    kept = (face * levels.gain + levels.offset > -0.5) & (face * levels.gain + levels.offset < 255.5)
    assert not back[kept].any()  # every level the line does not take past black or white comes back
    assert kept[22:54, 18:46].mean() > 0.99  # and those are the face's own


@pytest.mark.parametrize(("tint", "gain", "offset"), [
    ((1.0, 0.95, 0.55), 0.55, 90),  # a yellowed print: its blue far below its luma
    ((1.0, 0.8, 0.55), 0.4, 150),  # a faded sepia print
    ((1.0, 0.6, 0.35), 0.3, 0),  # a dark photo under tungsten light
])
def test_a_tinted_face_is_stretched_without_losing_a_channel(testdata_dir, tint, gain, offset):
    """Colour QA: the line, fitted on the luma, took most of a yellowed face's blue to 0 (and a warm
    face's red to 255); the model restored it flat and the face came back with blue-grey hair
    beside the print's olive."""
    face = np.rint((_face(testdata_dir) * gain + offset) * np.float32(tint)).clip(0, 255).astype(np.uint8)
    levels = FaceLevels.of(face)
    assert levels.gain > 1.0  # stretched (it is faded or dark)
    middle = levels.stretch(face)[22:54, 18:46].reshape(-1, 3)
    for channel in range(3):
        assert np.isin(middle[:, channel], (0, 255)).mean() < 0.02, channel  # no channel clipped on the face
    back = levels.undo(levels.stretch(face))[22:54, 18:46] == face[22:54, 18:46]
    assert back.mean() > 0.98  # and the face comes back at its own colours


def test_what_the_line_takes_past_black_or_white_comes_back_as_it_was(testdata_dir):
    """Colour QA: a yellowed print's dark hair, outside the face the line is fitted on, had its blue
    taken to black, and every such pixel came back at one flat, lighter blue (+19 levels, blue-grey
    hair beside the print's olive). Given the crop it stretched, the undo gives back what the line
    cut off, through a median at those pixels alone (sceptic QA: pixel by pixel, the photo's noise
    came back in that one channel; review: blurred, it put a halo round the clipped region); a
    damaged pixel keeps the repair."""
    face = np.rint((_face(testdata_dir) * 0.55 + 90) * np.float32((1.0, 0.95, 0.55))).astype(np.uint8)
    face[:12] = (110, 100, 20)  # dark hair above the face (its blue far below the rest)
    face[-10:] = 253  # a white collar
    levels = FaceLevels.of(face)
    stretched = levels.stretch(face)
    assert (stretched[:12, :, 2] == 0).all() and (stretched[-10:] == 255).all()  # taken past black and white
    in_range = (levels.undo(stretched) == face)
    back = levels.undo(stretched, face)  # a model that changed nothing: the photo comes back
    assert (back[in_range] == face[in_range]).all() and not in_range.all()  # exactly where in range,
    assert np.abs(back.astype(int) - face)[~in_range].mean() < 1  # through a median past the line's ends
    candidate = stretched.copy()
    candidate[:12] = (30, 25, 0)  # the model's hair: in the blue, it saw no detail
    back = levels.undo(candidate, face)
    assert (back[:12, :, 2] == 20).all() and (back[-10:] == 253).all()  # as they were, to their edges
    assert (back[:12, :, :2] == levels.undo(candidate)[:12, :, :2]).all()  # (channels within range: the model's)
    assert (back[in_range] == levels.undo(candidate)[in_range]).all()  # and no halo beside them
    noisy = face.copy()
    noisy[:12, :, 2] = np.random.default_rng(0).integers(10, 31, size=(12, 64))  # the photo's noise
    back = levels.undo(levels.stretch(noisy), noisy)[:12, :, 2].astype(float)
    assert back.std() < 0.5 * noisy[:12, :, 2].std() and abs(back.mean() - 20) < 1.5  # given back smoothed
    damage = np.zeros(face.shape[:2], np.uint8)
    damage[4:8, 20:30] = 255  # a scratch across the hair
    damage[30:34, 20:30] = 255  # and one across the face
    candidate[30:34, 20:30] = 77
    back = levels.undo(candidate, face, damage)
    assert (back[damage > 0] == levels.undo(candidate)[damage > 0]).all()  # the repair as it is
    assert (back[:12, :4, 2] == 20).all()  # (and the hair beside it as it was)


def test_a_dark_face_is_stretched_whatever_is_lit_around_it(testdata_dir):
    """Dark-scan QA: a bright sky behind a backlit face, a lit face in the corner of the crop, or a lamp
    beside it turned the stretch off (it was judged on the whole crop), and the face came back as swirls."""
    dark = np.rint(_face(testdata_dir) * 0.25).astype(np.uint8)
    alone = FaceLevels.of(dark)
    backlit = dark.copy()
    backlit[:, :12] = backlit[:, -12:] = backlit[:8] = 250  # sky round the head
    lamp = dark.copy()
    lamp[2:5, 58:61] = 255
    assert alone.gain > 2.5
    assert FaceLevels.of(backlit).gain == pytest.approx(alone.gain) and FaceLevels.of(lamp) == alone
    levels = FaceLevels.of(backlit)
    back = levels.undo(levels.stretch(backlit))
    assert (back[22:54, 18:46] == backlit[22:54, 18:46]).mean() > 0.99  # the face comes back (but its extremes)
    assert (back[:8] == round((255 - levels.offset) / levels.gain)).all()  # the sky as bright as the line gives back


def test_damaged_pixels_do_not_count_in_a_faces_levels(testdata_dir):
    face = np.rint(_face(testdata_dir) * 0.2).astype(np.uint8)
    damage = np.zeros(face.shape[:2], np.uint8)
    damage[30:34, :] = 255  # a white scratch across 6 % of the face
    face[damage > 0] = 255
    assert FaceLevels.of(face, damage).gain > 4 * FaceLevels.of(face).gain


class _Recording(SteppingEngine):
    """Returns the crop it is given, and keeps it; takes levels stretched, as the real engine does."""

    stretches_levels = FaceEngine.stretches_levels

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        self.seen = face.copy()
        yield from ()
        return (yield from super().iter_restore(face, sampler=sampler, seeds=[0] * len(seeds)))


def test_the_model_gets_a_dark_face_stretched_and_the_photo_gets_it_back_at_its_levels(testdata_dir):
    """A dark face (a photo 3 stops under, a 16-bit scan that uses an eighth of its range) given to
    the model as it is came back as swirls; a faded print's, smeared."""
    dark = np.rint(_face(testdata_dir) * 0.15).astype(np.uint8)
    photo = Photo.from_array(dark)
    engine = _Recording(face_size=64)
    result, steps = drain(iter_restore_photo(photo, [face_from_box((0, 0, 64, 64))], engine,
                                             PhotoSettings(sampler=SamplerSettings(fidelity=1.0), aligned=True)))
    assert _luma_range(engine.seen[22:54, 18:46])[1] >= 150  # what the model saw: a face at common levels
    back = result.composite()[22:54, 18:46] == dark[22:54, 18:46]  # what the photo got: its own levels
    assert back.mean() > 0.99  # (the few past black: through the median)
    previews = [step.preview for step in steps if getattr(step, "preview", None) is not None]
    assert previews and all(_luma_range(p)[1] < 60 for p in previews)  # the live preview too


def test_a_tinted_faces_darkest_pixels_come_back_from_the_pipeline_as_they_were(testdata_dir):
    """The photo pipeline maps each candidate back with the crop it stretched (colour QA: a yellowed
    print's darkest blue came back flat and lighter)."""
    face = np.rint((_face(testdata_dir) * 0.5 + 110) * np.float32((1.0, 0.95, 0.55))).astype(np.uint8)
    face[10:22] = (130, 120, 12)  # dark hair above the face's middle: its blue past black for the model
    levels = FaceLevels.of(face)
    assert levels.gain > 1 and (levels.stretch(face)[10:22, :, 2] == 0).all()
    engine = _Recording(face_size=64)
    result, _steps = drain(iter_restore_photo(Photo.from_array(face), [face_from_box((0, 0, 64, 64))], engine,
                                              PhotoSettings(sampler=SamplerSettings(fidelity=1.0), aligned=True)))
    assert (result.composite()[10:22] == face[10:22]).all()
