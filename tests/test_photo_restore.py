"""Whole-photo pipeline: the identity round trip, alpha, candidates, progress and cancelling."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import torch
from pipeline_util import FakeEngine, SteppingEngine, identity_engine, outside_faces, psnr

from faceapp.core.application import find_faces
from faceapp.core.errors import Cancelled
from faceapp.core.faces import FaceDetector, face_from_box
from faceapp.core.photo_io import Photo, read_photo
from faceapp.core.preferences import Preferences
from faceapp.core.photo_restore import (
    PhotoSettings,
    Progress,
    add_candidates,
    iter_add_candidates,
    iter_restore_photo,
    refine_face,
    restore_photo,
)
from faceapp.core.settings import SamplerSettings

NO_DIFFUSION = SamplerSettings(fidelity=1.0)


@pytest.fixture(scope="module")
def detector(retinaface_dir):
    return FaceDetector(retinaface_dir, model="retinaface_mobile0.25")


@pytest.fixture(scope="module")
def engine():
    return identity_engine(512)


@pytest.mark.parametrize("scale", [1, 2])
def test_identity_restore_returns_every_photo_unchanged(detector, engine, testdata_dir, scale):
    settings = PhotoSettings(sampler=NO_DIFFUSION, upscale=scale, descreen=False)  # (gf_Blake_Lively's print is descreened)
    for path in sorted((testdata_dir / "photos").iterdir()):
        photo = read_photo(path)
        faces = find_faces(photo, detector, Preferences())
        assert faces, path.name
        result = restore_photo(photo, faces, engine, settings)
        out = result.composite()
        h, w = photo.height * scale, photo.width * scale
        assert out.shape == (h, w, 3)
        reference = photo.rgb if scale == 1 else cv2.resize(photo.rgb, (w, h), interpolation=cv2.INTER_CUBIC)
        assert psnr(out, reference) >= 35.0, path.name
        # Inside the faces' regions too, not just on average over the photo.
        inside = ~outside_faces(result)
        assert psnr(out[inside], reference[inside]) >= 35.0, path.name
        # Far from the faces the blending leaves the background untouched.
        outside = outside_faces(result)
        np.testing.assert_array_equal(out[outside], result.background[outside])


def test_rgba_photo_keeps_its_alpha_at_the_output_scale(detector, engine, testdata_dir):
    photo = read_photo(testdata_dir / "photos" / "cf_06.png")
    settings = PhotoSettings(sampler=NO_DIFFUSION, upscale=2)
    result = restore_photo(photo, find_faces(photo, detector, Preferences()), engine, settings)
    assert result.alpha is not None
    assert result.alpha.shape == result.composite().shape[:2]
    expected = cv2.resize(photo.alpha, result.alpha.shape[::-1], interpolation=cv2.INTER_CUBIC)
    assert psnr(result.alpha, expected) > 35


@pytest.mark.parametrize("aligned", [False, True])
def test_colour_hidden_under_transparent_pixels_is_kept_and_never_seen_in_the_face(testdata_dir, aligned):
    """Geometry QA: a cut-out face (alpha 0 or 255) whose transparent pixels hide magenta came back
    with a magenta fringe along its edge (the crop resampled the hidden colour into it, and the
    models saw it), and 1,555 hidden pixels changed. The face is restored from what shows; what
    is hidden stays byte for byte."""
    face = read_photo(testdata_dir / "faces" / "0143.png").rgb
    size = face.shape[0]
    shows = np.zeros(face.shape[:2], np.uint8)
    cv2.ellipse(shows, (size // 2, size // 2), (int(size * 0.38), int(size * 0.45)), 0, 0, 360, 255, -1)
    rgb = face.copy()
    rgb[shows == 0] = (255, 0, 255)
    photo = Photo(path=None, rgb=rgb, alpha=shows)
    engine = identity_engine(512)
    faces = [] if aligned else [face_from_box((size * 0.3, size * 0.3, size * 0.7, size * 0.75))]
    result = restore_photo(photo, faces, engine, PhotoSettings(sampler=NO_DIFFUSION, aligned=aligned,
                                                               match_grain=False))
    out = result.composite()
    np.testing.assert_array_equal(out[shows == 0], rgb[shows == 0])
    edge = (cv2.dilate(255 - shows, np.ones((7, 7), np.uint8)) > 0) & (shows > 0)
    change = out[edge].astype(np.int16) - face[edge]
    magenta = (change[:, 0] + change[:, 2]) / 2 - change[:, 1]
    if not aligned:
        assert np.abs(change).max() > 0  # (the face was pasted over its edge: resampled twice)
    assert magenta.max() < 12, magenta.max()


def test_a_cut_out_face_in_a_large_photo_is_cut_from_its_part_of_the_photo_alike(testdata_dir, monkeypatch):
    """Review: the visible colour was resampled from a copy of the whole photo, twice, for every
    face; only the part the crop is cut from is copied now, and the crop is the same."""
    from faceapp.core import photo_restore

    face = read_photo(testdata_dir / "faces" / "0143.png").rgb
    canvas = np.full((1600, 1600, 3), (255, 0, 255), np.uint8)
    alpha = np.zeros((1600, 1600), np.uint8)
    canvas[600:1112, 500:1012] = face
    cv2.ellipse(alpha, (756, 856), (190, 230), 0, 0, 360, 255, -1)
    photo = Photo(path=None, rgb=canvas, alpha=alpha)
    engine, settings = identity_engine(512), PhotoSettings(sampler=NO_DIFFUSION)
    boxed = face_from_box((650, 700, 862, 1000))
    crop, affine = photo_restore._aligned_crop(photo, boxed, engine, settings)
    assert photo_restore._footprint(affine, 512, 1600, 1600) is not None  # (a part, not the whole)
    monkeypatch.setattr(photo_restore, "_footprint", lambda *args: None)
    whole, _ = photo_restore._aligned_crop(photo, boxed, engine, settings)
    difference = np.abs(crop.astype(int) - whole)
    assert difference.mean() < 0.1 and difference.max() <= 6, (difference.mean(), difference.max())


def test_colour_hidden_under_transparent_pixels_is_not_taken_for_a_print(testdata_dir):
    """Review: a face whose left half was transparent over magenta was found "printed" (the sharp
    edge of the hidden colour looked like a screen), smoothed, and 7,168 hidden pixels changed."""
    face = read_photo(testdata_dir / "faces" / "0143.png").rgb
    shows = np.full(face.shape[:2], 255, np.uint8)
    shows[:, : face.shape[1] // 2] = 0
    rgb = face.copy()
    rgb[shows == 0] = (255, 0, 255)
    photo = Photo(path=None, rgb=rgb, alpha=shows)
    engine = identity_engine(512)
    result = restore_photo(photo, [], engine, PhotoSettings(sampler=NO_DIFFUSION, aligned=True, match_grain=False))
    assert not result.printed and result.screen is None
    np.testing.assert_array_equal(result.composite()[shows == 0], rgb[shows == 0])


def test_aligned_input_comes_back_whole(engine, testdata_dir):
    photo = read_photo(testdata_dir / "faces" / "0143.png")
    result = restore_photo(photo, [], engine, PhotoSettings(sampler=NO_DIFFUSION, aligned=True))
    assert len(result.faces) == 1
    np.testing.assert_array_equal(result.composite(), photo.rgb)  # no mask, no feathering


class _FlatEngine(FakeEngine):
    """Returns a flat grey face whatever it gets: shows which output pixels were restored."""

    model_name, face_size = "flat", 64
    template = identity_engine(64).template

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        return [np.full((64, 64, 3), 200, np.uint8) for _ in seeds]
        yield  # a generator that reports no step


@pytest.mark.parametrize("size, upscale", [(100, 1), (70, 4)])
def test_aligned_input_is_restored_up_to_every_edge(size, upscale):
    photo = Photo.from_array(np.zeros((size, size, 3), np.uint8))
    given = [face_from_box((10, 10, 40, 40), index=0), face_from_box((50, 50, 90, 90), index=1)]
    result = restore_photo(photo, given, _FlatEngine(), PhotoSettings(sampler=NO_DIFFUSION, aligned=True, upscale=upscale))
    assert len(result.faces) == 1  # the crop is the face, whatever faces were passed
    out = result.composite()
    assert out.shape == (size * upscale, size * upscale, 3)
    assert out.min() == 200 and out.max() == 200  # no unrestored or half-blended frame


def _small_photo() -> tuple[Photo, list]:
    rng = np.random.default_rng(5)
    rgb = cv2.resize(rng.integers(0, 200, (30, 40, 3), dtype=np.uint8), (320, 240), interpolation=cv2.INTER_CUBIC)
    faces = [face_from_box((60, 80, 110, 140), index=0), face_from_box((200, 70, 250, 130), index=1)]
    return Photo.from_array(rgb), faces


def test_enlarging_the_photo_after_its_faces_is_a_stage_of_the_progress():
    """A 120 MP scan at ×2 spends half a minute enlarging after its last face: the progress names
    that stage (QA: it sat on the last face's step); at ×1 there is no such stage."""
    photo, faces = _small_photo()
    for upscale, stages in ((2, ["enlarging the photo ×2"]), (1, [])):
        events = []
        restore_photo(photo, faces, SteppingEngine(face_size=64, steps=1), PhotoSettings(upscale=upscale),
                      on_progress=events.append)
        assert [e for e in events if isinstance(e, str)] == stages and not isinstance(events[0], str)
        assert isinstance(events[-1], str) == bool(stages)  # after the faces


def test_progress_candidates_and_seeds():
    photo, faces = _small_photo()
    engine = SteppingEngine(face_size=64, steps=3)
    settings = PhotoSettings(sampler=SamplerSettings(), seeds_per_face=2, base_seed=10)
    events: list[Progress] = []
    result = restore_photo(photo, faces, engine, settings, on_progress=events.append)
    assert [(e.face_index, e.step) for e in events] == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3)]
    assert all(e.face_count == 2 for e in events)
    assert events[1].total_steps == 3 and events[1].preview is not None
    assert [f.seeds for f in result.faces] == [(10, 11), (10, 11)]
    assert all(len(f.candidates) == 2 for f in result.faces)

    first = result.composite()
    chosen = result.choose(1, 1)
    second = chosen.composite()
    assert result.choice == (0, 0) and chosen.choice == (0, 1)  # choosing returns a new result
    np.testing.assert_array_equal(result.composite(), first)
    # Only the second face changed (its candidate is one grey level brighter).
    x0, y0, x1, y1 = result.masks()[1].roi
    changed = np.argwhere((first != second).any(axis=2))
    assert len(changed) and changed[:, 1].min() >= x0 and changed[:, 0].min() >= y0
    with pytest.raises(IndexError):
        result.choose(0, 5)

    grown = add_candidates(chosen, 0, engine, 2)
    assert grown.faces[0].seeds == (10, 11, 12, 13) and len(grown.faces[0].candidates) == 4
    provenance = grown.provenance()
    assert provenance["model"] == "stepping"
    assert [f["seed"] for f in provenance["faces"]] == [10, 11]


def test_disabled_faces_are_skipped():
    photo, faces = _small_photo()
    faces[0] = faces[0].__class__(**{**faces[0].__dict__, "enabled": False})
    result = restore_photo(photo, faces, SteppingEngine(face_size=64, steps=1), PhotoSettings())
    assert [f.face.index for f in result.faces] == [1]


def test_cancelling_stops_between_steps():
    photo, faces = _small_photo()
    engine = SteppingEngine(face_size=64, steps=5)
    seen = []

    def should_cancel() -> bool:
        return len(seen) >= 3

    with pytest.raises(Cancelled):
        restore_photo(photo, faces, engine, PhotoSettings(), should_cancel=should_cancel, on_progress=seen.append)
    assert len(seen) < 6 and len(engine.calls) == 1


def test_closing_the_generator_stops_the_engine():
    photo, faces = _small_photo()
    engine = SteppingEngine(face_size=64, steps=50)
    generator = iter_restore_photo(photo, faces, engine, PhotoSettings())
    next(generator)
    next(generator)
    generator.close()  # must not hang or leave the engine running
    assert len(engine.calls) == 1


class _ZeroEps(torch.nn.Module):
    def forward(self, x, t):
        return torch.zeros(x.shape[0], 6, *x.shape[2:])


def test_a_restore_runs_the_real_engine_on_the_callers_thread_only(monkeypatch):
    """One generator from photo to result: no helper thread per face, steps arrive as yields."""
    import threading

    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self.name))
    photo, faces = _small_photo()
    engine = identity_engine(64)
    engine.prior = _ZeroEps()  # any prior: the DDIM steps are what is counted
    steps = list(iter_restore_photo(photo, faces, engine, PhotoSettings(sampler=SamplerSettings(steps=3))))
    assert started == []
    assert [(p.face_index, p.step) for p in steps] == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3)]


def test_engine_errors_reach_the_caller():
    photo, faces = _small_photo()

    class Broken(SteppingEngine):
        def iter_restore(self, face, **kwargs):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        restore_photo(photo, faces, Broken(face_size=64), PhotoSettings())


def test_settings_are_checked():
    with pytest.raises(ValueError):
        PhotoSettings(upscale=3)
    with pytest.raises(ValueError):
        PhotoSettings(seeds_per_face=0)


def test_more_candidates_report_progress_and_use_new_seeds():
    photo, faces = _small_photo()
    engine = SteppingEngine(face_size=64, steps=3)
    result = restore_photo(photo, faces, engine, PhotoSettings(seeds_per_face=2, base_seed=10))
    before = result.composite()

    generator = iter_add_candidates(result, 1, engine, 2)
    events = []
    while True:
        try:
            events.append(next(generator))
        except StopIteration as stop:
            grown = stop.value
            break
        # Nothing is added, and the shown photo does not change, while sampling runs.
        assert len(result.faces[1].candidates) == 2
    assert [(e.face_index, e.face_count, e.step, e.total_steps) for e in events] == [
        (1, 2, 0, 0), (1, 2, 1, 3), (1, 2, 2, 3), (1, 2, 3, 3)
    ]
    assert all(e.preview is not None for e in events[1:])
    assert engine.calls[-1] == [12, 13]
    assert grown.faces[1].seeds == (10, 11, 12, 13) and len(grown.faces[1].candidates) == 4
    assert grown.faces[0].seeds == (10, 11)
    assert result.faces[1].seeds == (10, 11)  # the result asked for is unchanged
    # Existing candidates keep their images; the new ones are the engine's for the new seeds.
    assert int(grown.faces[1].candidates[3][0, 0, 0]) - int(grown.faces[1].candidates[0][0, 0, 0]) == 3
    np.testing.assert_array_equal(grown.composite(), before)
    assert grown.same_picture(result) and not grown.choose(1, 3).same_picture(result)
    assert (grown.choose(1, 3).composite() != before).any()

    again = add_candidates(grown, 1, engine, 1)
    assert again.faces[1].seeds[-1] == 14


def test_more_candidates_can_be_cancelled_and_keep_nothing():
    photo, faces = _small_photo()
    engine = SteppingEngine(face_size=64, steps=5)
    result = restore_photo(photo, faces, engine, PhotoSettings())
    before = result.composite()
    seen = []
    with pytest.raises(Cancelled):
        add_candidates(result, 0, engine, 2, should_cancel=lambda: len(seen) >= 2, on_progress=seen.append)
    assert len(seen) < 4
    assert result.faces[0].seeds == (0,) and len(result.faces[0].candidates) == 1

    generator = iter_add_candidates(result, 0, engine, 1)
    next(generator)
    next(generator)
    generator.close()  # closing stops the engine too
    assert result.faces[0].seeds == (0,) and len(result.faces[0].candidates) == 1
    np.testing.assert_array_equal(result.composite(), before)
    assert add_candidates(result, 0, engine, 1).faces[0].seeds == (0, 1)
    with pytest.raises(ValueError):
        add_candidates(result, 0, engine, 0)


def test_results_are_values_and_composites_are_cached_by_choice():
    photo, faces = _small_photo()
    result = restore_photo(photo, faces, SteppingEngine(face_size=64, steps=1), PhotoSettings(seeds_per_face=3))
    plain = result.background.copy()
    first = result.composite()
    other = result.choose(0, 2)
    second = other.composite()
    np.testing.assert_array_equal(result.background, plain)  # compositing never touches the background
    assert (first != second).any()
    np.testing.assert_array_equal(result.composite(), first)  # back to the first choice: its picture again
    # (made again: the cache holds the composite of the choice shown last, here ``other``'s)
    assert other.composite() is other.composite()  # the same choice: the cached composite
    for array in (first, result.background, result.faces[0].candidates[0], result.faces[0].aligned):
        assert not array.flags.writeable  # nothing can change a result behind its back
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.faces[0].chosen = 1
    assert other.with_choice((0, 0)).same_picture(result)
    np.testing.assert_array_equal(other.with_choice((0, 0)).composite(), first)


def test_a_result_at_x1_holds_no_second_copy_of_the_photo():
    """At ×1 the background is the photo's own pixels (a 24 MP photo's result would otherwise hold
    69 MB more, per photo restored in the window); the photo stays writable for whoever owns it, and
    the result's view of it read-only."""
    photo, faces = _small_photo()
    result = restore_photo(photo, faces, SteppingEngine(face_size=64, steps=1), PhotoSettings())
    assert np.shares_memory(result.background, photo.rgb) and not result.background.flags.writeable
    assert photo.rgb.flags.writeable
    enlarged = restore_photo(photo, faces, SteppingEngine(face_size=64, steps=1), PhotoSettings(upscale=2))
    assert not np.shares_memory(enlarged.background, photo.rgb)


def test_versions_grown_apart_at_one_index_each_show_their_own_candidates():
    photo, faces = _small_photo()
    engine = SteppingEngine(face_size=64, steps=1)
    result = restore_photo(photo, faces, engine, PhotoSettings(seeds_per_face=2, base_seed=10))
    # Each seed refined on its own (as faceapp-cli --seeds N --refine K does): both append their
    # pass at index 2 and choose it, so both show choice (2, 0), of different candidates.
    first = refine_face(result.with_choice((0, 0)), 0, engine, 1)
    second = refine_face(result.with_choice((1, 0)), 0, engine, 1)
    assert first.choice == second.choice == (2, 0)
    first_picture = first.composite()
    assert not np.array_equal(second.composite(), first_picture)  # not the other version's cached picture
    assert not second.same_picture(first)
    assert first.with_choice(first.choice).same_picture(first)
    assert second.composite() is second.composite()  # still cached while the same candidates show


def test_a_restore_again_shows_the_seeds_chosen_before_and_counts_the_candidates_it_would_not_make_again():
    """The seeds picked in the gallery stay chosen where the new restore samples them (the latest
    choice of each face counts, a face left out of one restore included: undo QA), and what it
    would not make again is counted for the question asked before it: seeds the settings do not
    give now (More's) and refined passes."""
    from faceapp.core.photo_restore import candidates_not_made_again, carry_choices, chosen_seeds

    photo, faces = _small_photo()
    engine = SteppingEngine(face_size=64, steps=1)
    result = restore_photo(photo, faces, engine, PhotoSettings(seeds_per_face=2, base_seed=10)).choose(1, 1)
    assert chosen_seeds(result) == {0: None, 1: (11, False)} and chosen_seeds(None) == {}
    grown = refine_face(add_candidates(result, 0, engine, 1).choose(0, 2), 0, engine, 1)
    assert candidates_not_made_again(grown, 10, 2) == (1, 1)  # seed 12 from More, and one refined pass
    assert candidates_not_made_again(result, 10, 2) == (0, 0) and candidates_not_made_again(result, 11, 2) == (2, 0)
    picks = {**chosen_seeds(grown)}
    assert picks[0] == (12, True)  # the refined pass of seed 12 is shown
    only_second = restore_photo(photo, faces[1:], engine, PhotoSettings(seeds_per_face=2, base_seed=10))
    picks.update(chosen_seeds(only_second))  # face 1 left out of this restore: its choice stays known
    again = restore_photo(photo, faces, engine, PhotoSettings(seeds_per_face=3, base_seed=10))
    carried, lost = carry_choices(picks, again)
    assert carried.choice == (2, 0) and lost == [0]  # seed 12 sampled again, but not its refined pass
