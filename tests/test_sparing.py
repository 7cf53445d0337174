"""Sharp-face sparing: a face the restorer barely changed gets less diffusion, on the model's ramp,
only at the model's own fidelity, recorded per face and told to the user."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import torch
from pipeline_util import Brightening, SmoothingPrior, psnr

from faceapp import paths
from faceapp.core import application, schedule
from faceapp.core.engine import FaceEngine
from faceapp.core.faces import face_from_box
from faceapp.core.manifest import load_manifest
from faceapp.core.photo_io import Photo
from faceapp.core.photo_restore import PhotoSettings, add_candidates, iter_resample_face, refine_face, restore_photo
from faceapp.core.progress import drive
from faceapp.core.preferences import Preferences
from faceapp.core.refine import refine_sampler
from faceapp.core.settings import SamplerSettings
from faceapp.core.sparing import SharpFaceSparing, restorer_change

RAMP = SharpFaceSparing(untouched_below=5.0, full_above=7.0)
ASKED = SamplerSettings(fidelity=0.5, steps=4, spare_sharp_faces=True)


def _engine(levels: float, sharp_faces: SharpFaceSparing | None = RAMP) -> FaceEngine:
    prior = SmoothingPrior(schedule.alphas_cumprod(schedule.linear_betas()))
    engine = FaceEngine.from_networks(Brightening(levels), prior, face_size=64, name="brightening", device="cpu",
                                      precision="fp32", sharp_faces=sharp_faces)
    engine.stretches_levels = False  # (its change is known in the photo's levels: these faces are low in contrast)
    return engine


def _face(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(40, 200, (64, 64, 3)).astype(np.uint8)  # room for the brightening


def test_the_ramp_goes_from_untouched_to_the_asked_fidelity():
    assert RAMP.strength(3.0) == 0.0 and RAMP.strength(5.0) == 0.0
    assert RAMP.strength(6.0) == pytest.approx(0.5)
    assert RAMP.strength(7.0) == 1.0 and RAMP.strength(40.0) == 1.0
    assert RAMP.fidelity(0.8, 2.0) == 1.0  # untouched: no diffusion at all
    assert RAMP.fidelity(0.8, 6.0) == pytest.approx(0.9)  # half the start timestep
    assert RAMP.fidelity(0.8, 9.0) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="untouched_below < full_above"):
        SharpFaceSparing(untouched_below=7.0, full_above=5.0)


def test_restorer_change_is_the_rms_difference_in_grey_levels():
    face = torch.rand(1, 3, 16, 16)
    assert restorer_change(face, face) == 0.0
    assert restorer_change(face, face + 10 / 255) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="shape"):
        restorer_change(face, face[..., :8])


@pytest.mark.parametrize(("levels", "fidelity"), [(2.0, 1.0), (6.0, 0.75), (12.0, 0.5)])
def test_the_engine_samples_each_face_at_its_spared_fidelity(levels, fidelity):
    engine = _engine(levels)
    prepared = engine.prepare(_face(), ASKED)
    assert prepared.restorer_change == pytest.approx(levels, abs=0.01)
    assert prepared.sampler.fidelity == pytest.approx(fidelity)
    assert prepared.spared == (fidelity > 0.5) and not prepared.sampler.spare_sharp_faces
    plain = dataclasses.replace(ASKED, fidelity=fidelity, spare_sharp_faces=False)
    spared_out = engine.restore(_face(), sampler=ASKED, seeds=[3])[0]
    np.testing.assert_array_equal(spared_out, engine.restore(_face(), sampler=plain, seeds=[3])[0])


def test_an_untouched_face_is_the_restorers_estimate_and_a_changed_one_is_diffused():
    face = _face()
    untouched = _engine(2.0).restore(face, sampler=ASKED, seeds=[0])[0]
    np.testing.assert_array_equal(untouched, np.clip(face.astype(int) + 2, 0, 255))  # only the restorer's change
    diffused = _engine(12.0).restore(face, sampler=ASKED, seeds=[0])[0]
    assert psnr(diffused, np.clip(face.astype(int) + 12, 0, 255).astype(np.uint8)) < 30  # the prior smoothed it


def test_sparing_off_or_a_model_without_a_ramp_diffuses_every_face():
    off = _engine(2.0).prepare(_face(), dataclasses.replace(ASKED, spare_sharp_faces=False))
    no_ramp = _engine(2.0, sharp_faces=None).prepare(_face(), ASKED)
    assert off.sampler.fidelity == 0.5 and no_ramp.sampler.fidelity == 0.5
    assert not off.spared and not no_ramp.spared


def test_faces_are_spared_at_any_fidelity_unless_switched_off():
    assert Preferences().sampler(4, 0.8).spare_sharp_faces  # the default: the model's fidelity, spared
    assert Preferences(fidelity=0.81).sampler(4, 0.8).spare_sharp_faces  # a fidelity the user chose: spared too
    assert not Preferences(spare_sharp_faces=False).sampler(4, 0.8).spare_sharp_faces
    assert not Preferences(fidelity=0.5, spare_sharp_faces=False).sampler(4, 0.8).spare_sharp_faces


def test_a_refinement_pass_is_never_spared():
    """A restored face looks sharp to the restorer: spared, the pass the user asked for would do nothing."""
    assert not refine_sampler(ASKED).spare_sharp_faces


def test_the_photo_result_records_each_faces_fidelity_and_says_which_were_spared():
    photo = Photo.from_array(np.random.default_rng(1).integers(40, 200, (200, 300, 3)).astype(np.uint8))
    faces = [face_from_box((30, 50, 130, 150), index=0), face_from_box((170, 50, 270, 150), index=1)]
    result = restore_photo(photo, faces, _engine(2.0), PhotoSettings(sampler=ASKED))
    assert [f.fidelity for f in result.faces] == [1.0, 1.0]
    assert all(f.restorer_change == pytest.approx(2.0, abs=0.05) for f in result.faces)
    provenance = result.provenance()
    assert provenance["fidelity"] == 0.5  # what the run asked…
    assert [f["fidelity"] for f in provenance["faces"]] == [1.0, 1.0]  # …and what each face got
    assert [s.position for s in application.spared_faces(result)] == [0, 1]
    message = application.spared_message(result, switch="Do this")
    assert message == "Barely changed by the restorer, so spared the prior: faces 1, 2 kept as the restorer made them. Do this."
    partly = restore_photo(photo, faces[:1], _engine(6.0), PhotoSettings(sampler=ASKED))
    assert application.spared_message(partly, switch="Do this") == "Barely changed by the restorer, so spared the prior: face 1 given less of it (fidelity 0.75). Do this."
    line = application.sparing_choice(partly, 0)  # the seed gallery's line and button
    assert line.diffuse and not line.kept and "sampled at fidelity 0.75 instead of 0.50" in line.text
    from faceapp.gui.photo_words import chosen_face_text  # (workflow QA: "spared" beside "kept" hid that its seeds differ)

    assert chosen_face_text(partly, 0)[0] == f"Face 1 · seed {partly.faces[0].seeds[0]} · at 0.75"
    line = application.sparing_choice(result, 1)
    assert line.diffuse and line.kept and "kept as the restorer made it, the same for every seed" in line.text
    from faceapp.core.progress import drive

    refined = drive(application.iter_refine_face(result, 1, _engine(2.0), 1))  # (QA: still "the same for every seed")
    assert refined.faces[1].refinement_of(refined.faces[1].chosen)
    assert "then refined: the pass shown is Refine's" in application.sparing_choice(refined, 1).text
    # the window numbers faces as tagged in the photo (face 1 switched off: the first restored is face 2)
    assert application.spared_message(result, number=lambda position: position + 2) == \
        "Barely changed by the restorer, so spared the prior: faces 2, 3 kept as the restorer made them."

    diffused = restore_photo(photo, faces, _engine(12.0), PhotoSettings(sampler=ASKED))
    assert [f.fidelity for f in diffused.faces] == [0.5, 0.5]
    assert application.spared_faces(diffused) == [] and application.spared_message(diffused, switch="x") is None
    barely = dataclasses.replace(diffused, faces=(dataclasses.replace(diffused.faces[0], fidelity=0.503), diffused.faces[1]))
    assert application.spared_faces(barely) == []  # shown as 0.50 (QA: "spared: face 1 at fidelity 0.30" at 0.3)
    more = dataclasses.replace(diffused, faces=(dataclasses.replace(diffused.faces[0], fidelity=0.51), diffused.faces[1]))
    assert application.spared_message(more) == "Barely changed by the restorer, so spared the prior: face 1 given less of it (fidelity 0.51)."
    assert application.sparing_choice(diffused, 0) is None  # nothing to offer
    off = restore_photo(photo, faces, _engine(2.0), PhotoSettings(sampler=dataclasses.replace(ASKED, spare_sharp_faces=False)))
    assert application.sparing_choice(off, 0) is None  # sparing off: no line, no button


def test_a_manifest_states_its_ramp_and_a_reversed_one_is_refused(tmp_path):
    shipped = load_manifest(paths.bundled_models_dir() / "faceapp-compact.toml")
    assert shipped.sharp_faces == SharpFaceSparing(5.0, 7.0)
    text = shipped.source.read_text(encoding="utf-8")
    reversed_ramp = tmp_path / "reversed.toml"
    reversed_ramp.write_text(text.replace("full_above = 7.0", "full_above = 4.0"), encoding="utf-8")
    with pytest.raises(Exception, match="sharp_faces.full_above"):
        load_manifest(reversed_ramp)
    none = tmp_path / "none.toml"
    none.write_text(text.replace("[sharp_faces]\nuntouched_below = 5.0\nfull_above = 7.0\n", ""), encoding="utf-8")
    assert load_manifest(none).sharp_faces is None


def test_a_manifest_states_how_far_towards_realistic_its_model_works(tmp_path):
    shipped = load_manifest(paths.bundled_models_dir() / "faceapp-compact.toml")
    assert shipped.fidelity_range is not None and shipped.fidelity_range.works_down_to <= shipped.default_fidelity
    assert shipped.fidelity_range.caution(None, "m") is None  # the model's own fidelity
    assert shipped.fidelity_range.caution(shipped.fidelity_range.works_down_to, "m") is None
    assert "scratch-like lines" in shipped.fidelity_range.caution(0.3, "m")
    text = shipped.source.read_text(encoding="utf-8")
    above = tmp_path / "above.toml"  # a range whose lowest fidelity is above the default: the default would not work
    above.write_text(text.replace("works_down_to = 0.7", "works_down_to = 0.9"), encoding="utf-8")
    with pytest.raises(Exception, match="fidelity_range.works_down_to"):
        load_manifest(above)


@pytest.mark.parametrize(("levels", "fidelity"), [(2.0, 1.0), (12.0, 0.5)])
def test_a_damaged_face_is_judged_once_and_every_seeds_repair_restored_at_that_fidelity(levels, fidelity):
    photo = Photo.from_array(np.random.default_rng(2).integers(40, 200, (200, 200, 3)).astype(np.uint8))
    face = face_from_box((40, 40, 160, 160), index=0)
    damage = np.zeros((200, 200), np.uint8)
    damage[90:100, 50:150] = 255  # a scratch across the face
    result = restore_photo(photo, [face], _engine(levels), PhotoSettings(sampler=ASKED, seeds_per_face=2),
                           damage=damage)
    [restored] = result.faces
    assert restored.fidelity == pytest.approx(fidelity) and restored.damage is not None
    assert not np.array_equal(restored.candidates[0], restored.candidates[1])  # each seed its own fill
    kept = (restored.damage == 0)[..., None].repeat(3, axis=2)
    as_restored = np.clip(restored.aligned.astype(int) + round(levels), 0, 255)
    off = np.abs(restored.candidates[0].astype(int) - as_restored)[kept]
    assert (off.max() <= 1) == (fidelity == 1.0)  # spared: the undamaged pixels are the restorer's own


def test_a_damaged_face_is_judged_and_repaired_from_one_restorer_run():
    engine = _engine(2.0)
    calls = []
    engine.restorer.register_forward_hook(lambda module, args, out: calls.append(args[0].shape))
    photo = Photo.from_array(np.random.default_rng(3).integers(40, 200, (200, 200, 3)).astype(np.uint8))
    damage = np.zeros((200, 200), np.uint8)
    damage[90:100, 50:150] = 255
    restore_photo(photo, [face_from_box((40, 40, 160, 160), index=0)], engine,
                  PhotoSettings(sampler=ASKED, seeds_per_face=2), damage=damage)
    assert len(calls) == 1 + 2  # the filled crop once (judged and repaired from it), then each seed's repair


def test_a_spared_face_with_damage_differs_per_seed_and_the_note_says_its_damage_was_filled():
    photo = Photo.from_array(np.random.default_rng(1).integers(40, 200, (200, 300, 3)).astype(np.uint8))
    faces = [face_from_box((30, 50, 130, 150), index=0), face_from_box((170, 50, 270, 150), index=1)]
    damage = np.zeros((200, 300), np.uint8)
    damage[90:110, 60:100] = 255  # a stain on face 1 only
    result = restore_photo(photo, faces, _engine(2.0), PhotoSettings(sampler=ASKED, seeds_per_face=2), damage=damage)
    assert [f.fidelity for f in result.faces] == [1.0, 1.0]  # both spared…
    assert not result.faces[0].seeds_alike()  # …but each seed filled face 1's damage its own way
    assert result.faces[1].seeds_alike()
    assert application.spared_message(result) == ("Barely changed by the restorer, so spared the prior: face 1 kept as the restorer made it once the "
                                                   "prior had filled its damage; face 2 kept as the restorer made it.")


def test_a_face_spared_whole_keeps_the_photos_own_detail_and_only_the_restorers_change_is_added():
    """QA: a sharp face larger than the model's crop came back softer than the photo it was spared
    in (15–34 % of its fine detail gone), and a small stain blurred the whole face. A face kept as
    the restorer made it is pasted as the restorer's change: every pixel of its texture stays, two
    grey levels brighter here; its hole, if any, gets the fill; a diffused face is pasted whole."""
    rng = np.random.default_rng(3)
    photo = Photo.from_array(rng.integers(40, 200, (200, 300, 3)).astype(np.uint8))  # texture finer than a 64 px crop
    faces = [face_from_box((30, 50, 130, 150), index=0), face_from_box((170, 50, 270, 150), index=1)]
    damage = np.zeros((200, 300), np.uint8)
    damage[95:105, 60:100] = 255  # a stain on face 1
    result = restore_photo(photo, faces, _engine(2.0), PhotoSettings(sampler=ASKED), damage=damage)
    assert [result.keeps_detail(i) for i in range(2)] == [True, True]
    assert [face.get("detail_kept") for face in result.provenance()["faces"]] == [True, True]  # the file says so
    out = result.composite().astype(np.int16)
    brighter = photo.rgb.astype(np.int16) + 2
    near_hole = cv2.dilate(damage, np.ones((41, 41), np.uint8)) > 0  # the hole, its softened edge (a crop px: 3.2 px)
    for mask in result.masks():
        x0, y0, x1, y1 = mask.roi
        held = (mask.weights >= 0.999) & ~near_hole[y0:y1, x0:x1]
        assert held.sum() > 1000
        assert np.abs(out[y0:y1, x0:x1][held] - brighter[y0:y1, x0:x1][held]).max() <= 1
    hole = damage > 0
    assert np.abs(out[hole] - photo.rgb.astype(np.int16)[hole]).mean() > 20  # the stain's noise is not kept there

    faithful = dataclasses.replace(ASKED, fidelity=1.0)  # the restorer alone, asked for: the same for a sharp face…
    assert restore_photo(photo, faces, _engine(2.0), PhotoSettings(sampler=faithful)).keeps_detail(0)
    assert not restore_photo(photo, faces, _engine(12.0), PhotoSettings(sampler=faithful)).keeps_detail(0)  # …not a degraded one
    assert not restore_photo(photo, faces, _engine(2.0, sharp_faces=None), PhotoSettings(sampler=faithful)).keeps_detail(0)
    polished = dataclasses.replace(faithful, polish_timestep=200)  # the prior's texture polish touches it (review)
    assert not restore_photo(photo, faces, _engine(2.0), PhotoSettings(sampler=polished)).keeps_detail(0)
    # the face's own model decides: a face sampled again with a model without a ramp is pasted whole
    spared = restore_photo(photo, faces, _engine(2.0), PhotoSettings(sampler=ASKED))
    again = drive(iter_resample_face(spared, 0, _engine(2.0, sharp_faces=None), diffuse_anyway=False))
    assert spared.keeps_detail(0) and not again.keeps_detail(0) and again.keeps_detail(1)
    diffused = restore_photo(photo, faces, _engine(12.0), PhotoSettings(sampler=ASKED))
    assert not diffused.keeps_detail(0) and "detail_kept" not in diffused.provenance()["faces"][0]
    x0, y0, x1, y1 = diffused.masks()[0].roi
    core = diffused.masks()[0].weights >= 0.999
    pasted = diffused.composite().astype(np.int16)[y0:y1, x0:x1][core]
    assert np.abs(pasted - photo.rgb.astype(np.int16)[y0:y1, x0:x1][core]).mean() > 20  # the crop's own, smoother


class _SmoothingBrightening(torch.nn.Module):
    """A restorer that blurs (σ 1.5 px of its crop) and adds 2 grey levels: a sharp face's texture
    smoothed as the real restorer smooths hair and grain, its tone corrected."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blurred = cv2.GaussianBlur(x[0].permute(1, 2, 0).numpy(), (0, 0), 1.5)
        return torch.from_numpy(blurred).permute(2, 0, 1)[None] + 2.0 / 255.0


def test_a_kept_face_larger_than_the_crop_keeps_its_texture_and_takes_the_restorers_tone():
    """Result QA: a face-filling portrait, "kept", came back with its hair melted and its grain gone:
    its crop's 256 px held less than the photo, and the restorer's change smoothed what the photo
    resolved. From a face larger than the crop only the change's broad part is pasted; from one the
    crop enlarges (the restorer saw all the photo holds) the whole change still is."""
    def stripes(size: int, period: float) -> np.ndarray:
        x = np.arange(size)
        wave = 120 + 5 * np.sin(2 * np.pi * x / period)
        return np.repeat(np.repeat(wave[None, :, None], size, axis=0), 3, axis=2).round().astype(np.uint8)

    def texture(image: np.ndarray, where: np.ndarray) -> float:  # the stripes' amplitude there: RMS of a high-pass
        grey = image[..., 1].astype(np.float32)
        return float(np.sqrt(np.mean((grey - cv2.GaussianBlur(grey, (0, 0), 6.0))[where] ** 2)))

    prior = SmoothingPrior(schedule.alphas_cumprod(schedule.linear_betas()))
    engine = FaceEngine.from_networks(_SmoothingBrightening(), prior, face_size=64, name="smoothing", device="cpu",
                                      precision="fp32", sharp_faces=RAMP)
    engine.stretches_levels = False  # (as _engine's)
    for side, period, keeps_texture in ((400, 15.0, True), (40, 3.0, False)):  # 4 and 0.4 photo px a crop px
        photo = Photo.from_array(stripes(side, period))  # stripes 3.8 and 7.5 crop px apart
        box = (side * 0.3, side * 0.3, side * 0.7, side * 0.7)
        result = restore_photo(photo, [face_from_box(box, index=0)], engine,
                               PhotoSettings(sampler=ASKED, match_grain=False, descreen=False))
        assert result.keeps_detail(0)
        mask = result.masks()[0]
        x0, y0, x1, y1 = mask.roi
        held = mask.weights >= 0.999
        before = photo.rgb[y0:y1, x0:x1]
        after = result.composite()[y0:y1, x0:x1]
        inner = cv2.erode(held.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # (clear of the mask's edge)
        kept = texture(after, inner) / texture(before, inner)
        brightened = float(after[inner].astype(np.int16).mean() - before[inner].astype(np.int16).mean())
        if keeps_texture:
            assert kept > 0.9 and brightened == pytest.approx(2.0, abs=0.5)
        else:
            assert kept < 0.7  # the restorer's whole change, its smoothing too


@pytest.mark.parametrize("upscale", [1, 2])
def test_a_kept_face_the_restorer_does_not_change_is_the_background_exactly(upscale):
    """At any upscale and in 16 bits, a kept face adds nothing but the restorer's change: none here,
    so the result is its background, pixel for pixel, overlapping faces and a face past the edge too."""
    photo = Photo.from_array(np.random.default_rng(5).integers(40, 200, (200, 300, 3)).astype(np.uint8))
    faces = [face_from_box((-20, 40, 90, 150), index=0), face_from_box((60, 50, 170, 160), index=1)]
    result = restore_photo(photo, faces, _engine(0.0), PhotoSettings(sampler=ASKED, upscale=upscale))
    assert all(result.keeps_detail(i) for i in range(2))
    np.testing.assert_array_equal(result.composite(), result.background)
    deep = result.background.astype(np.uint16) * np.uint16(257) + np.uint16(3)  # a 16-bit background's own low bits
    np.testing.assert_array_equal(result.composite_over(deep.copy()), deep)


def test_one_face_diffused_anyway_is_sampled_at_the_run_fidelity_and_can_be_spared_again():
    """The gallery's "Diffuse anyway": one spared face's seeds sampled again at the fidelity asked,
    the same faces a restore without sparing gives; the flag rides on the Face, so a later restore,
    More and the provenance keep it; "Spare again" brings the restorer's face back."""
    photo = Photo.from_array(np.random.default_rng(1).integers(40, 200, (200, 300, 3)).astype(np.uint8))
    faces = [face_from_box((30, 50, 130, 150), index=0), face_from_box((170, 50, 270, 150), index=1)]
    engine = _engine(2.0)
    settings = PhotoSettings(sampler=ASKED, seeds_per_face=3)
    result = restore_photo(photo, faces, engine, settings)
    assert [f.fidelity for f in result.faces] == [1.0, 1.0] and result.faces[0].seeds_alike()
    refined = refine_face(result.choose(0, 2), 0, engine, 1)  # a pass on seed 2, chosen: gone after the resample

    diffused = drive(iter_resample_face(refined, 0, engine, diffuse_anyway=True))
    face = diffused.faces[0]
    assert face.fidelity == 0.5 and face.face.diffuse_anyway and face.seeds == (0, 1, 2)
    assert face.refinements == () and face.chosen == 2  # the refined seed's own candidate
    assert not face.seeds_alike()
    unspared = dataclasses.replace(settings, sampler=dataclasses.replace(ASKED, spare_sharp_faces=False))
    plain = restore_photo(photo, faces[:1], engine, unspared).faces[0]
    for mine, theirs in zip(face.candidates, plain.candidates, strict=True):
        np.testing.assert_array_equal(mine, theirs)  # seed s is the same face however it was asked for
    assert diffused.faces[1] is refined.faces[1]  # the other face untouched
    assert [s.position for s in application.spared_faces(diffused)] == [1]
    line = application.sparing_choice(diffused, 0)
    assert not line.diffuse and "Diffused at fidelity 0.50 as you asked" in line.text  # "Spare again"
    assert application.resample_message(diffused, 0).startswith("Face 1 diffused at fidelity 0.50")
    assert diffused.provenance()["faces"][0]["diffuse_anyway"] is True
    assert "diffuse_anyway" not in diffused.provenance()["faces"][1]
    assert diffused.same_run(result)  # a version of the run: the window keeps its other choices

    again = restore_photo(photo, [face.face, faces[1]], engine, settings)  # the flag survives a new restore
    assert [f.fidelity for f in again.faces] == [0.5, 1.0]
    more = add_candidates(diffused, 0, engine, 1)
    seed_3 = restore_photo(photo, faces[:1], engine, dataclasses.replace(unspared, base_seed=3)).faces[0]
    np.testing.assert_array_equal(more.faces[0].candidates[-1], seed_3.candidates[0])  # More diffuses it too

    spared = drive(iter_resample_face(diffused, 0, engine, diffuse_anyway=False))
    assert spared.faces[0].fidelity == 1.0 and not spared.faces[0].face.diffuse_anyway
    assert application.resample_message(spared, 0) == "Face 1 spared again: kept as the restorer made it."
    assert application.resample_message(spared, 0, dropped_passes=1).endswith(
        "Its refinement pass went with the candidates it refined (Refine face makes new ones).")
    blurry = restore_photo(photo, faces[:1], _engine(12.0), settings)  # a face sparing leaves alone anyway
    assert application.resample_message(drive(iter_resample_face(blurry, 0, _engine(12.0), diffuse_anyway=False)), 0) \
        == "Face 1 sampled again at fidelity 0.50: it is not sharp enough to be spared."
    for mine, theirs in zip(spared.faces[0].candidates, result.faces[0].candidates, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_kept_face_s_damage_fill_leaves_no_rim_around_its_hole():
    """Review: only the broad part of a kept face's change is pasted, and a scratch's fill, 100
    levels darker, spread into it: a faint dark rim beside the hole. Outside the hole the change
    pasted is the change there, none here."""
    from faceapp.core.paste import KeptDetail, _kept_reference, soft_hole

    reference = np.full((64, 64, 3), 200, np.uint8)
    damage = np.zeros((64, 64), np.uint8)
    damage[30:34, 8:56] = 255
    crop = reference.copy()
    crop[damage > 0] = 100  # the fill, where the scratch was
    hole = soft_hole(damage)
    pasted_change = crop.astype(np.float32) - _kept_reference(crop, KeptDetail(reference, hole, 2.0))
    as_pasted = (1.0 - hole)[:, :, None] * pasted_change  # (blend_faces: the change's share, outside the hole)
    assert np.abs(as_pasted).max() <= 1.0


def test_a_kept_face_under_a_texture_polish_is_not_said_to_be_the_same_for_every_seed():
    """Review: the gallery showed each seed's own polished face, while its line and the preview's
    caption said "the same for every seed" and named no seed."""
    from faceapp.gui.photo_words import chosen_face_text

    photo = Photo.from_array(np.random.default_rng(1).integers(40, 200, (200, 300, 3)).astype(np.uint8))
    faces = [face_from_box((30, 50, 130, 150), index=0)]
    for polish, alike in ((0, True), (200, False)):
        sampler = dataclasses.replace(ASKED, polish_timestep=polish)
        result = restore_photo(photo, faces, _engine(2.0), PhotoSettings(sampler=sampler, seeds_per_face=2))
        face = result.faces[0]
        assert face.fidelity == 1.0 and face.seeds_alike() == alike
        line = application.sparing_choice(result, 0)
        caption, detail = chosen_face_text(result, 0)
        assert line.kept and detail.startswith("Kept as the restorer made it: the restorer changed this face by only")
        if alike:
            assert "the same for every seed" in line.text and caption == "Face 1 · kept"
        else:
            assert "its texture polished by each seed its own way" in line.text
            assert caption == f"Face 1 · seed {face.seeds[0]} · kept"
