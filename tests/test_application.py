"""The application layer both front-ends call: preferences, face choice, steps, engine cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pipeline_util import SteppingEngine

from faceapp.core import application
from faceapp.core.faces import FaceDetector, face_from_box
from faceapp.core.photo_io import Photo, read_photo
from faceapp.core.preferences import Preferences
from faceapp.core.progress import drive


@pytest.mark.parametrize("field, value", [("upscale", 3), ("device", "tpu"), ("steps", "fast"), ("quality", 0),
                                          ("face_selection", "biggest"), ("precision", "int8"), ("fidelity", 1.5)])
def test_bad_preferences_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        Preferences(**{field: value})
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(Preferences(), **{field: value})


def test_stored_text_is_converted():
    prefs = Preferences(steps="8", upscale="2", fidelity="0.25", auto_start="true", device="CUDA:1")
    assert (prefs.steps, prefs.upscale, prefs.fidelity, prefs.auto_start, prefs.device) == (8, 2, 0.25, True, "cuda:1")


def test_steps_come_from_the_model_unless_set():
    engine = SteppingEngine(face_size=64)
    engine.default_steps = 3
    assert application.photo_settings(Preferences(), engine).sampler.steps == 3
    assert application.photo_settings(Preferences(steps=5), engine).sampler.steps == 5


def test_fidelity_comes_from_the_model_unless_set():
    engine = SteppingEngine(face_size=64)
    engine.default_fidelity = 0.8
    assert application.photo_settings(Preferences(), engine).sampler.fidelity == 0.8
    assert application.photo_settings(Preferences(fidelity=0.3), engine).sampler.fidelity == 0.3
    assert application.photo_settings(Preferences(fidelity=0.0), engine).sampler.fidelity == 0.0  # a choice, not "unset"


def test_every_preference_reaches_the_photo_settings():
    engine = SteppingEngine(face_size=64)
    engine.default_steps = 3
    prefs = Preferences(fidelity=0.7, eta=0.2, schedule="official", polish_timestep=50, seeds_per_face=3,
                        base_seed=9, upscale=2, precision="bf16")
    settings = application.photo_settings(prefs, engine)
    sampler = settings.sampler
    assert (sampler.fidelity, sampler.eta, sampler.schedule, sampler.polish_timestep) == (0.7, 0.2, "official", 50)
    assert (settings.seeds_per_face, settings.base_seed, settings.upscale, settings.precision) == (3, 9, 2, "bf16")


class _Detector:
    def __init__(self, faces):
        self.faces, self.min_sizes = faces, []

    def detect(self, rgb, *, min_size=0.0, should_cancel=None):
        self.min_sizes.append(min_size)
        return [f for f in self.faces if f.box[2] - f.box[0] >= min_size]


def test_face_selection_and_minimum_size_decide_the_faces_restored():
    photo = Photo.from_array(np.zeros((200, 300, 3), np.uint8))
    small, big = face_from_box((10, 10, 30, 30), index=0), face_from_box((100, 50, 200, 150), index=1)
    detector = _Detector([small, big])
    faces = application.find_faces(photo, detector, Preferences(face_selection="largest"))
    assert [(f.index, f.enabled) for f in faces] == [(0, False), (1, True)]  # shown, but switched off
    faces = application.find_faces(photo, detector, Preferences(min_face_size=40))
    assert [(f.index, f.box) for f in faces] == [(0, big.box)]  # numbered among the faces kept, as the detector does
    result = drive(application.iter_restore(photo, application.find_faces(photo, detector, Preferences(
        face_selection="largest", seeds_per_face=1)), SteppingEngine(face_size=64, steps=1), Preferences()))
    assert [f.face.index for f in result.faces] == [1]


def test_the_faces_left_out_for_their_size_are_counted():
    """A photo's faces under the minimum size are not restored, and the front-ends can say how many."""
    photo = Photo.from_array(np.zeros((200, 300, 3), np.uint8))
    tiny = [face_from_box((10 + 20 * i, 10, 24 + 20 * i, 25), index=i) for i in range(3)]  # 15 px
    big = face_from_box((100, 50, 200, 150), index=3)
    detector = _Detector([*tiny, big])
    found = application.detect_faces(photo, detector, Preferences(min_face_size=24, face_selection="largest"))
    assert [(f.box, f.enabled) for f in found.faces] == [(big.box, True)]
    assert (found.too_small, found.min_size) == (3, 24)
    assert application.too_small_message(found, setting="--min-face-size") == \
        "3 faces smaller than 24 px left out (--min-face-size)"
    assert [f.box for f in application.find_faces(photo, detector, Preferences(min_face_size=24))] == [big.box]
    found = application.detect_faces(photo, detector, Preferences(min_face_size=15))
    assert (len(found.faces), found.too_small, application.too_small_message(found)) == (4, 0, None)
    found = application.detect_faces(photo, detector, Preferences(min_face_size=15.5))
    assert application.too_small_message(found) == "3 faces smaller than 15.5 px left out"
    found = application.detect_faces(photo, _Detector([tiny[0], big]), Preferences(min_face_size=24))
    assert application.too_small_message(found) == "1 face smaller than 24 px left out"


def test_a_face_the_detector_is_unsure_of_is_left_off_beside_faces_it_is_sure_of(retinaface_dir, testdata_dir):
    """QA: a hand at the edge of a group photo (scored 0.966) was restored into a face-like smear.
    Beside faces the detector is sure of it is found but switched off, and said; a photo whose only
    face is unsure restores it; the preference restores every one."""
    import dataclasses

    photo = Photo.from_array(np.zeros((200, 300, 3), np.uint8))
    sure, unsure = face_from_box((100, 50, 200, 150), index=0), face_from_box((10, 10, 40, 40), index=1)
    unsure = dataclasses.replace(unsure, score=0.95)
    found = application.detect_faces(photo, _Detector([sure, unsure]), Preferences())
    assert [(f.index, f.enabled) for f in found.faces] == [(0, True), (1, False)]
    assert application.unsure_message(found, way="X restores it") == (
        "face 2 left off: the detector is unsure it is a face (score 0.950, under 0.97); X restores it")
    alone = application.detect_faces(photo, _Detector([unsure]), Preferences())
    assert [f.enabled for f in alone.faces] == [True] and application.unsure_message(alone, way="") is None
    every = application.detect_faces(photo, _Detector([sure, unsure]), Preferences(include_unsure_faces=True))
    assert [f.enabled for f in every.faces] == [True, True] and not every.unsure
    largest = application.detect_faces(photo, _Detector([sure, unsure]), Preferences(face_selection="largest"))
    assert not largest.unsure  # (left out by the selection, not for the detector's doubt)
    big_doubt = dataclasses.replace(face_from_box((0, 0, 290, 190), index=1), score=0.9)  # a pattern, larger
    largest = application.detect_faces(photo, _Detector([sure, big_doubt]), Preferences(face_selection="largest"))
    assert [f.enabled for f in largest.faces] == [True, False]  # the largest face it is sure of
    real = application.detect_faces(read_photo(testdata_dir / "photos" / "cf_01.jpg"), FaceDetector(retinaface_dir),
                                    Preferences())  # four men and the hand on a shoulder
    assert [f.index + 1 for f in real.unsure] == [4] and sum(f.enabled for f in real.faces) == 4


def test_a_real_photo_gives_its_faces(retinaface_dir, testdata_dir):
    photo = read_photo(testdata_dir / "photos" / "gf_Blake_Lively.jpg")
    faces = application.find_faces(photo, FaceDetector(retinaface_dir), Preferences(face_selection="center"))
    assert len(faces) == 2 and sum(f.enabled for f in faces) == 1


def test_a_real_photos_small_faces_are_counted_and_the_others_numbered_as_the_detector_does(retinaface_dir, testdata_dir):
    photo = read_photo(testdata_dir / "photos" / "cf_00.jpg")  # four faces, 38 to over 50 px
    detector = FaceDetector(retinaface_dir)
    found = application.detect_faces(photo, detector, Preferences(min_face_size=48))
    expected = detector.detect(photo.srgb, min_size=48)
    assert [(f.index, f.box) for f in found.faces] == [(f.index, f.box) for f in expected]
    assert found.too_small == len(detector.detect(photo.srgb)) - len(expected) == 2


@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_a_photo_lying_on_its_side_gives_every_face_where_it_lies(retinaface_dir, testdata_dir, quarters):
    """Geometry QA: cf_00's four faces, the photo turned a quarter (pixels, no EXIF), gave 3 or 2 of
    them; turned half, one, with landmarks laid out as if upright (group QA: restored as it lay).
    Faces lying on their side are looked for with the photo set upright too, and so are faces the
    detector is unsure of where a small copy turned shows more it is sure of; they come back in the
    photo's own coordinates, and the photo is said to lie as it does."""
    detector = FaceDetector(retinaface_dir, model="retinaface_mobile0.25")
    upright = read_photo(testdata_dir / "photos" / "cf_00.jpg")
    standing = application.detect_faces(upright, detector, Preferences())
    assert len(standing.faces) == 4 and standing.turned == 0 and application.turned_message(standing) is None
    lying = np.ascontiguousarray(np.rot90(upright.rgb, quarters))
    found = application.detect_faces(Photo.from_array(lying), detector, Preferences())
    assert len(found.faces) == 4 and found.turned == 4 - quarters
    marks = np.zeros(upright.rgb.shape[:2], np.uint8)  # each upright face's centre, turned as the photo was
    for number, face in enumerate(standing.faces, start=1):
        marks[round(face.center[1]), round(face.center[0])] = number
    turned_marks = np.rot90(marks, quarters)
    expected = sorted((float(x), float(y)) for y, x in zip(*np.nonzero(turned_marks), strict=True))
    np.testing.assert_allclose(sorted(f.center for f in found.faces), expected, atol=3)
    assert f"seems to lie {'upside down' if quarters == 2 else 'on its side'}" in application.turned_message(found)


@pytest.mark.parametrize("quarters", [2, 1])
def test_a_photo_whose_every_face_is_turned_over_is_looked_at_turned(retinaface_dir, testdata_dir, quarters):
    """Group QA: gf_10045 (a family of three) scanned upside down or on its side: no face was found as it
    lies, and "no face found" was all that was said. A small copy is looked at turned; the faces found so
    come back where they lie, and the photo is said to lie turned."""
    detector = FaceDetector(retinaface_dir, model="retinaface_mobile0.25")
    upright = read_photo(testdata_dir / "photos" / "gf_10045.png")
    standing = application.detect_faces(upright, detector, Preferences())
    lying = Photo.from_array(np.ascontiguousarray(np.rot90(upright.rgb, quarters)))
    assert not detector.detect(lying.rgb)  # as it lies, nothing
    found = application.detect_faces(lying, detector, Preferences())
    assert len(found.faces) == len(standing.faces) == 3 and found.turned == 4 - quarters
    marks = np.zeros(upright.rgb.shape[:2], np.uint8)
    for number, face in enumerate(standing.faces, start=1):
        marks[round(face.center[1]), round(face.center[0])] = number
    expected = sorted((float(x), float(y)) for y, x in zip(*np.nonzero(np.rot90(marks, quarters)), strict=True))
    np.testing.assert_allclose(sorted(f.center for f in found.faces), expected, atol=3)
    lies = "upside down" if quarters == 2 else "on its side"
    assert f"seems to lie {lies}" in application.turned_message(found)
    blank = Photo.from_array(np.full((300, 400, 3), 128, np.uint8))  # no face whichever way: none, no turn
    assert application.detect_faces(blank, detector, Preferences()).turned == 0

def test_a_face_standing_among_faces_lying_is_kept_when_they_are_looked_for_upright():
    """Review: set upright, a photo's lying faces are found and its one standing face is not (it
    lies then); the faces found both ways are kept, each once."""
    from faceapp.core.faces import turned_back

    lying = face_from_box((30, 40, 90, 100), index=0)  # (where set upright it is the first face found)
    (cx, cy), points = lying.center, lying.landmarks - lying.center  # turned a quarter about its middle
    lying = dataclasses.replace(lying, landmarks=np.stack([cx + points[:, 1], cy - points[:, 0]], axis=1))
    standing = face_from_box((230, 130, 290, 190), index=1)
    # the photo is 300×200; set upright (np.rot90 by the turn the lying face asks) it is 200×300
    upright_faces = [face_from_box(box, index=k) for k, box in
                     enumerate([(100, 30, 160, 90), (100, 120, 160, 180), (100, 210, 160, 270)])]

    class Detector:
        def detect(self, rgb, *, min_size=0.0, should_cancel=None):
            return [lying, standing] if rgb.shape[:2] == (200, 300) else upright_faces

    photo = Photo.from_array(np.zeros((200, 300, 3), np.uint8))
    found = application.detect_faces(photo, Detector(), Preferences())
    assert found.turned != 0 and len(found.faces) == 4
    turned = [turned_back(f, found.turned, 300, 200).center for f in upright_faces]
    centres = [f.center for f in found.faces]
    assert standing.center in centres and all(any(np.allclose(c, t) for c in centres) for t in turned)


def test_the_engine_cache_loads_again_when_model_device_or_precision_change():
    loads = []
    cache = application.ModelCache(engine_factory=lambda prefs: loads.append(prefs) or object())
    prefs = Preferences()
    first = cache.engine(prefs)
    assert cache.engine(dataclasses.replace(prefs, fidelity=0.9, steps=3)) is first  # sampling only: same engine
    for change in ({"model": "other"}, {"device": "cpu"}, {"precision": "fp32"}):
        changed = dataclasses.replace(prefs, **change)
        assert cache.engine(changed) is not first
        first = cache.engine(changed)
    assert len(loads) == 4


def test_forgetting_the_engine_does_not_wait_for_the_detector_being_loaded():
    """Review: the detector loaded under the engine's lock, so the window's forget_engine (after the
    model files changed) waited for the whole load on the window's thread."""
    import threading

    loading, go = threading.Event(), threading.Event()
    cache = application.ModelCache(detector_factory=lambda prefs: loading.set() or go.wait(30) or object())
    loader = threading.Thread(target=cache.detector)
    loader.start()
    try:
        assert loading.wait(30)
        forgetting = threading.Thread(target=cache.forget_engine)
        forgetting.start()
        forgetting.join(10)
        assert not forgetting.is_alive()
    finally:
        go.set()
        loader.join(30)
    assert cache.detector() is cache.detector()  # (loaded once)


def test_the_provenance_records_the_precision_that_ran_not_auto():
    engine = SteppingEngine(face_size=64)
    engine.precision = "bf16"  # what "auto" resolved to on this device
    assert application.photo_settings(Preferences(precision="auto"), engine).precision == "bf16"


def test_preferences_resolve_to_the_model_and_step_count_a_restore_would_use():
    from faceapp.core.registry import Registry

    registry = Registry()
    default = registry.default()
    official = registry.get("difface-official")
    assert official.default_steps != default.default_steps  # else the test could not tell them apart

    resolved = application.resolved_preferences(Preferences(), registry)
    assert (resolved.model, resolved.steps) == (default.name, default.default_steps)
    # the default model picked by name, its own step count typed in: the same restore
    by_name = Preferences(model=default.name, steps=default.default_steps)
    assert application.resolved_preferences(by_name, registry).restoration() == resolved.restoration()
    # another step count, another model: another restore
    other_steps = Preferences(steps=default.default_steps + 1)
    assert application.resolved_preferences(other_steps, registry).restoration() != resolved.restoration()
    official_prefs = application.resolved_preferences(Preferences(model=official.name), registry)
    assert (official_prefs.model, official_prefs.steps) == (official.name, official.default_steps)
    # a fidelity stays as it is (None also spares sharp faces), and a model that is not known is left alone
    assert application.resolved_preferences(Preferences(), registry).fidelity is None
    unknown = Preferences(model="no-such-model")
    assert application.resolved_preferences(unknown, registry) == unknown


def test_preferences_that_cannot_be_resolved_are_compared_as_they_are(caplog):
    """A model folder that cannot be read must not stop Restore on the UI thread: the preferences
    come back as the user set them, and the restore itself says what is wrong."""
    from faceapp import paths
    from faceapp.core.registry import Registry

    folder = paths.user_manifests_dir()
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_bytes(b'name = "x\xff"\n')  # not UTF-8: skipped, with a reason
    registry = Registry()
    assert any("not UTF-8" in problem for problem in registry.problems)
    assert application.resolved_preferences(Preferences(), registry).model == registry.default().name

    class Unreadable:
        def default(self):
            raise PermissionError("the models folder cannot be read")

    class TooManySteps:
        def default(self):
            return dataclasses.replace(registry.default(), default_steps=5000)  # more than a run may ask for

    for broken in (Unreadable(), TooManySteps()):
        assert application.resolved_preferences(Preferences(), broken) == Preferences()


@pytest.mark.parametrize("stem", ["写真" * 41, "x" * 246])
def test_save_as_offers_a_name_that_fits_for_a_photo_whose_name_is_too_long(tmp_path, stem):
    """Save as's suggestion for a photo whose name leaves no room for "_restored": shortened until
    the name fits in bytes (review: cut to 100 characters, a CJK name was still over 255 bytes)."""
    from faceapp.core.application import suggested_output_path
    from faceapp.core.export import MAX_NAME_LENGTH, name_length
    from faceapp.core.preferences import Preferences

    photo = tmp_path / f"{stem}.jpg"
    suggested = suggested_output_path(photo, Preferences())
    assert suggested.parent == tmp_path and suggested.name.endswith("_restored.jpg")
    assert suggested.name.startswith(stem[:40]) and name_length(suggested.name) <= MAX_NAME_LENGTH
    into = Preferences(output_folder=str(tmp_path / "out"))
    assert suggested_output_path(photo, into).parent == tmp_path / "out"


def test_a_face_cut_by_the_photos_edge_is_restored_at_a_lower_score(retinaface_dir, testdata_dir):
    """QA: a half face at a scan's edge (0.885) and one cut by its foot (0.967) were left off as
    faces the detector is unsure of, with the hand it is meant for (0.966, inside the photo). A face
    whose box runs past the photo's edge is unsure only under 0.85; one inside, under 0.97."""
    import cv2

    whole = cv2.resize(read_photo(testdata_dir / "faces" / "0143.png").srgb, (200, 200))
    half = cv2.resize(read_photo(testdata_dir / "faces" / "0345.png").srgb, (200, 200))[:, :94]
    canvas = np.full((300, 600, 3), 120, np.uint8)
    canvas[50:250, 40:240] = whole
    canvas[50:250, 600 - 94 :] = half  # the rest of it beyond the photo's edge
    found = application.detect_faces(Photo.from_array(canvas), FaceDetector(retinaface_dir), Preferences())
    cut = [f for f in found.faces if f.cut]
    assert len(found.faces) == 2 and len(cut) == 1 and cut[0].box[2] > 600
    assert 0.85 < cut[0].score < 0.97 and cut[0].enabled and found.unsure == ()
    inside = dataclasses.replace(cut[0], cut=False)  # the same score inside the photo: unsure
    assert inside.unsure and not cut[0].unsure
    message = application.unsure_message(application.FoundFaces([inside], 0, 16.0, (inside,)), way="x")
    assert "under 0.97)" in message
    almost = dataclasses.replace(inside, score=0.96996)  # (QA: said "score 0.970, under 0.97")
    assert "score 0.969, under 0.97" in application.unsure_message(application.FoundFaces([almost], 0, 16.0, (almost,)), way="x")
    low = dataclasses.replace(cut[0], score=0.8)
    message = application.unsure_message(application.FoundFaces([inside, low], 0, 16.0, (inside, low)), way="x")
    assert "under 0.97; 0.85 for a face cut by the photo's edge)" in message


def test_sparing_switched_is_a_change_only_for_a_model_that_spares(tmp_path):
    """Review: with a model that states no sparing ramp, sparing on or off restores alike, so a
    resumed batch must not call a result made with it on 'made with other settings'."""
    import numpy as np

    from faceapp.core.export import export_photo
    from faceapp.core.preferences import Preferences

    result = export_photo(np.zeros((16, 16, 3), np.uint8), None, None, tmp_path / "r.png",
                          provenance={"model": "m", "spare_sharp_faces": True})
    now = Preferences(model="m", spare_sharp_faces=False)
    assert application.settings_changed_since(result, now) == ["sharp-face sparing on, now off"]
    assert application.settings_changed_since(result, now, sparing_matters=False) == []
