"""Black-and-white photos stay black-and-white: read as such, restored grey, written with one channel."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image
from icc_util import grey_profile
from pipeline_util import FakeEngine, identity_engine

from faceapp.core.application import write_result
from faceapp.core.engine import StepInfo
from faceapp.core.faces import face_from_box
from faceapp.core.greyscale import GREY_TOLERANCE, is_greyscale, luma, make_grey
from faceapp.core.photo_io import read_photo
from faceapp.core.photo_restore import PhotoSettings, add_candidates, refine_face, restore_photo

FACES = [face_from_box((60, 80, 110, 140), index=0), face_from_box((200, 70, 250, 130), index=1)]


def _grey(height: int = 240, width: int = 320) -> np.ndarray:
    """A smooth grey texture (faces are pasted into it)."""
    rng = np.random.default_rng(5)
    return cv2.resize(rng.integers(20, 230, (30, 40), dtype=np.uint8), (width, height), interpolation=cv2.INTER_CUBIC)


def _near_grey(grey: np.ndarray) -> np.ndarray:
    """Grey saved as RGB through a YCbCr or colour-profile round trip: channels up to 2 levels apart."""
    wide = grey.astype(np.int16)
    return np.clip(np.dstack([wide - 1, wide + 1, wide + (wide % 3) - 1]), 0, 255).astype(np.uint8)


def _equal_channels(image: np.ndarray) -> bool:
    return bool((image[:, :, 0] == image[:, :, 1]).all() and (image[:, :, 1] == image[:, :, 2]).all())


class _ColourEngine(FakeEngine):
    """Answers with green and magenta blotches over the crop, as a colour face model does on a grey face."""

    model_name, face_size = "colour", 64
    template = identity_engine(64).template

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        blotched = face.astype(np.int16)
        blotched[:32, :, 1] += 60  # green
        blotched[32:, :, 0] += 50  # magenta
        blotched[32:, :, 2] += 50
        blotched = np.clip(blotched, 0, 255).astype(np.uint8)
        yield StepInfo(step=1, total=1, timestep=0, preview=blotched)
        return [blotched for _ in seeds]


def test_grey_files_and_grey_scans_saved_as_rgb_are_black_and_white(tmp_path):
    grey = _grey(40, 60)
    for mode in ("L", "LA", "I;16"):
        image = Image.fromarray(grey.astype(np.uint16) * 257) if mode == "I;16" else Image.fromarray(grey).convert(mode)
        image.save(tmp_path / f"{mode.replace(';', '')}.png")
        photo = read_photo(tmp_path / f"{mode.replace(';', '')}.png")
        assert photo.greyscale and photo.single_channel, mode
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    Image.fromarray(rgb).save(tmp_path / "scan.jpg", quality=80)
    scan = read_photo(tmp_path / "scan.jpg")
    assert scan.greyscale and not scan.single_channel
    Image.fromarray(_near_grey(grey)).save(tmp_path / "near.png")
    assert read_photo(tmp_path / "near.png").greyscale

    sepia = (rgb * np.array([1.0, 0.85, 0.65])).astype(np.uint8)
    Image.fromarray(sepia).save(tmp_path / "sepia.png")
    assert not read_photo(tmp_path / "sepia.png").greyscale  # a tinted print is colour
    tinted = rgb.copy()
    tinted[5, 7, 0] = min(255, int(tinted[5, 7, 1]) + GREY_TOLERANCE + 1)  # one coloured pixel
    assert not is_greyscale(tinted)
    tinted[5, 7, 0] = min(255, int(tinted[5, 7, 1]) + GREY_TOLERANCE)
    assert is_greyscale(tinted)

    # colour left behind fully transparent pixels is not seen, so it does not count
    rgba = np.dstack([rgb, np.full(grey.shape, 255, np.uint8)])
    rgba[:10, :, :3], rgba[:10, :, 3] = (255, 0, 0), 0
    Image.fromarray(rgba).save(tmp_path / "cutout.png")
    assert read_photo(tmp_path / "cutout.png").greyscale
    rgba[:10, :, 3] = 1  # barely seen, but seen: colour
    Image.fromarray(rgba).save(tmp_path / "cutout2.png")
    assert not read_photo(tmp_path / "cutout2.png").greyscale


def test_grey_is_the_luma_pillow_gives_and_keeps_grey_values(monkeypatch):
    import faceapp.core.greyscale as greyscale

    monkeypatch.setattr(greyscale, "_BAND_PIXELS", 5000)  # several bands, a short last one
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (37, 1000, 3), dtype=np.uint8)
    pillow = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    assert np.abs(luma(rgb).astype(int) - pillow).max() <= 1  # BT.601 both, in other fixed points
    grey = np.repeat(rgb[:, :, :1], 3, axis=2)
    np.testing.assert_array_equal(luma(grey), grey[:, :, 0])
    made = make_grey(rgb.copy())
    assert _equal_channels(made)
    np.testing.assert_array_equal(made[:, :, 0], luma(rgb))


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_black_and_white_photo_comes_back_grey_from_a_colour_model(tmp_path, suffix):
    source = tmp_path / f"old{suffix}"
    Image.fromarray(_grey(), "L").save(source, **({"quality": 95} if suffix == ".jpg" else {}))
    photo = read_photo(source)
    engine = _ColourEngine()
    events = []
    result = restore_photo(photo, FACES, engine, PhotoSettings(seeds_per_face=2), on_progress=events.append)
    previews = [e.preview for e in events if e.preview is not None]
    assert previews and all(_equal_channels(p) for p in previews)  # the live preview
    assert all(_equal_channels(c) for face in result.faces for c in face.candidates)  # the seed gallery
    composite = result.composite()
    assert _equal_channels(composite)  # the window and the saved file
    x0, y0, x1, y1 = result.masks()[0].roi
    assert (composite[y0:y1, x0:x1, 0] != photo.rgb[y0:y1, x0:x1, 0]).any()  # the faces were pasted in
    grown = refine_face(add_candidates(result, 0, engine, 1), 0, engine, 1)
    assert all(_equal_channels(c) for c in grown.faces[0].candidates)  # more seeds, refinement passes

    for out_suffix, mode in ((suffix, "L"), (".tif", "L"), (".webp", "RGB")):
        dest = write_result(result, tmp_path / f"restored{out_suffix}", quality=100)
        with Image.open(dest) as written:
            assert written.mode == mode, out_suffix  # WebP has no one-channel mode: equal RGB channels
            pixels = np.asarray(written)
        expected = composite[:, :, 0]
        if mode == "RGB":
            assert _equal_channels(pixels)
            pixels = pixels[:, :, 0]
        if out_suffix == ".jpg":
            assert np.abs(pixels.astype(int) - expected).mean() < 2
        else:
            np.testing.assert_array_equal(pixels, expected)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_a_grey_colour_profile_goes_back_on_the_grey_result(tmp_path, suffix):
    profile = grey_profile(description="Dot Gain 20% (test)")
    source = tmp_path / f"scan{suffix}"
    Image.fromarray(_grey(), "L").save(source, icc_profile=profile)
    photo = read_photo(source)
    assert photo.icc is None  # no RGB profile: the models see the grey levels as they are
    result = restore_photo(photo, FACES, _ColourEngine(), PhotoSettings())
    for out_suffix in sorted({suffix, ".png"}):
        with Image.open(write_result(result, tmp_path / f"restored{out_suffix}", quality=95)) as written:
            assert written.mode == "L"
            assert written.info.get("icc_profile") == profile, out_suffix  # its grey levels mean what the scan's did
    with Image.open(write_result(result, tmp_path / "restored.webp", quality=100)) as written:
        assert written.mode == "RGB" and not written.info.get("icc_profile")  # a grey profile does not fit RGB
        # so its levels are turned into sRGB's (QA: a Gray Gamma 1.8 scan's WebP came out darker)
        from PIL import ImageCms

        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        expected = ImageCms.profileToProfile(Image.fromarray(result.composite()[..., 0], "L"),
                                             ImageCms.ImageCmsProfile(io.BytesIO(profile)), srgb, outputMode="RGB")
        assert np.abs(np.asarray(written, dtype=int) - np.asarray(expected, dtype=int)).max() <= 1


def test_a_grey_gamma_18_scans_webp_result_keeps_its_tones(tmp_path):
    profile = grey_profile(gamma=1.8, description="Gray Gamma 1.8 (test)")
    Image.fromarray(_grey(), "L").save(tmp_path / "scan.png", icc_profile=profile)
    result = restore_photo(read_photo(tmp_path / "scan.png"), FACES, _ColourEngine(), PhotoSettings())
    with Image.open(write_result(result, tmp_path / "restored.webp", quality=100)) as written:
        mid = np.asarray(written, dtype=float)[..., 1]
    levels = result.composite()[..., 0].astype(float)
    lighter = (mid - levels)[(levels > 60) & (levels < 200)]  # gamma 1.8 mid-tones are lighter in sRGB
    assert lighter.mean() > 8


def test_grey_with_alpha_is_written_grey_with_alpha_and_a_grey_rgb_scan_as_rgb(tmp_path):
    alpha = np.full((240, 320), 255, np.uint8)
    alpha[:20] = 0
    Image.fromarray(np.dstack([_grey(), alpha]), "LA").save(tmp_path / "cutout.png")
    result = restore_photo(read_photo(tmp_path / "cutout.png"), FACES, _ColourEngine(), PhotoSettings())
    with Image.open(write_result(result, tmp_path / "cutout_restored.png", quality=95)) as written:
        assert written.mode == "LA"
        np.testing.assert_array_equal(np.asarray(written)[:, :, 1], alpha)
    with Image.open(write_result(result, tmp_path / "cutout_restored.jpg", quality=95)) as written:
        assert written.mode == "L"
        assert np.asarray(written)[:15].min() > 250  # the transparent rows, flattened over white

    Image.fromarray(_near_grey(_grey())).save(tmp_path / "scan.png")
    result = restore_photo(read_photo(tmp_path / "scan.png"), FACES, _ColourEngine(), PhotoSettings())
    with Image.open(write_result(result, tmp_path / "scan_restored.png", quality=95)) as written:
        assert written.mode == "RGB"  # an RGB file stays RGB, its channels equal, background included
        assert _equal_channels(np.asarray(written))


def test_a_colour_photo_keeps_the_models_colour(tmp_path):
    grey = _grey()
    colour = np.dstack([grey, grey, np.clip(grey.astype(int) + 30, 0, 255).astype(np.uint8)])
    Image.fromarray(colour).save(tmp_path / "colour.png")
    photo = read_photo(tmp_path / "colour.png")
    assert not photo.greyscale
    result = restore_photo(photo, FACES, _ColourEngine(), PhotoSettings())
    candidate = result.faces[0].candidates[0]
    assert int(candidate[:32, :, 1].astype(int).mean() - candidate[:32, :, 0].astype(int).mean()) > 40
    with Image.open(write_result(result, tmp_path / "colour_restored.png", quality=95)) as written:
        assert written.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(written), result.composite())
    assert not _equal_channels(result.composite())
