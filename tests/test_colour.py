"""Colour management: photos with a wide-gamut profile reach the model in sRGB, keep their own pixels
and profile in the file, and are shown colour-managed."""

from __future__ import annotations

import numpy as np
import pytest
from icc_util import DISPLAY_P3, grey_profile, rgb_profile
from PIL import Image
from pipeline_util import identity_engine

from faceapp.core import colour
from faceapp.core.export import export_photo
from faceapp.core.faces import face_from_box
from faceapp.core.photo_io import read_photo
from faceapp.core.photo_restore import PhotoSettings, restore_photo
from faceapp.core.settings import SamplerSettings

PROFILES = {"adobe-rgb": rgb_profile(), "display-p3": rgb_profile(DISPLAY_P3, description="Display P3 (test)")}


@pytest.fixture(params=sorted(PROFILES))
def tagged(request, tmp_path, testdata_dir):
    """A real photo's pixels saved with a wide-gamut profile (as a camera or phone would tag them)."""
    path = tmp_path / f"{request.param}.png"
    Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB").save(path, icc_profile=PROFILES[request.param])
    return path, PROFILES[request.param]


class _RecordingEngine:
    """The identity engine, noting the crops it is given."""

    def __init__(self):
        self.inner, self.crops = identity_engine(64), []
        self.face_size, self.template, self.model_name = 64, self.inner.template, "identity"

    def prepare(self, face, sampler):
        self.crops.append(face)
        return self.inner.prepare(face, sampler)

    def iter_sample(self, prepared, **kwargs):
        return self.inner.iter_sample(prepared, **kwargs)


def test_a_wide_gamut_photo_reaches_the_model_in_srgb(tagged):
    path, icc = tagged
    photo = read_photo(path)
    file_pixels = np.asarray(Image.open(path).convert("RGB"))
    np.testing.assert_array_equal(photo.rgb, file_pixels)  # the photo's own pixels are kept…
    assert photo.icc == icc
    expected = colour.to_srgb(file_pixels, icc)
    np.testing.assert_array_equal(photo.srgb, expected)  # …and the models and the screen get sRGB
    assert np.abs(photo.srgb.astype(int) - file_pixels.astype(int)).max() > 10  # a real conversion

    engine = _RecordingEngine()
    box = face_from_box((150, 40, 250, 160), index=0)
    restore_photo(photo, [box], engine, PhotoSettings(sampler=SamplerSettings(fidelity=1.0)))
    [crop] = engine.crops
    center = crop[24:40, 24:40].reshape(-1, 3).mean(axis=0)
    assert np.abs(center - photo.srgb[80:120, 180:220].reshape(-1, 3).mean(axis=0)).max() < 25
    assert np.abs(center - photo.rgb[80:120, 180:220].reshape(-1, 3).mean(axis=0)).max() > np.abs(
        center - photo.srgb[80:120, 180:220].reshape(-1, 3).mean(axis=0)).max()


def test_the_result_keeps_the_photos_profile_and_its_colours(tagged, tmp_path):
    path, icc = tagged
    photo = read_photo(path)
    box = face_from_box((150, 40, 250, 160), index=0)
    result = restore_photo(photo, [box], identity_engine(256), PhotoSettings(sampler=SamplerSettings(fidelity=1.0)))
    written = export_photo(result.composite(), result.alpha, photo, tmp_path / "out.png")
    with Image.open(written) as image:
        assert image.info.get("icc_profile") == icc  # the original profile, kept
        out = np.asarray(image.convert("RGB")).astype(int)
    # An identity restore gives the photo back in its own colour space (the face went to sRGB and
    # back: a few levels of rounding), not sRGB numbers under a wide-gamut tag.
    assert np.abs(out - photo.rgb.astype(int)).mean() < 2.0
    face = (slice(70, 130), slice(170, 230))
    in_own_space = np.abs(out[face] - photo.rgb[face].astype(int)).mean()
    as_srgb_numbers = np.abs(out[face] - photo.srgb[face].astype(int)).mean()
    assert in_own_space < 3 < as_srgb_numbers


def test_colours_outside_srgb_beside_a_face_keep_their_values_in_its_box(tmp_path, testdata_dir):
    """Colour QA: a Display P3 photo's pure green and red beside a face came back as sRGB's green and
    red (P3 (0, 255, 0) → (42, 251, 28)) inside the box the face was pasted in: the crop, made in
    sRGB, cannot hold them. Outside the face's changes the photo keeps its own colours."""
    pixels = np.asarray(Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB")).copy()
    pixels[50:150, 152:164] = (0, 255, 0)  # inside the face's box (150–250), beside the face
    pixels[50:150, 236:248] = (255, 0, 0)
    path = tmp_path / "p3.png"
    Image.fromarray(pixels).save(path, icc_profile=PROFILES["display-p3"])
    photo = read_photo(path)
    assert np.abs(colour.from_srgb(colour.to_srgb(pixels[50:150, 152:164], photo.icc), photo.icc).astype(int)
                  - pixels[50:150, 152:164]).max() > 30  # sRGB cannot hold this green
    box = face_from_box((150, 40, 250, 160), index=0)
    result = restore_photo(photo, [box], identity_engine(256), PhotoSettings(sampler=SamplerSettings(fidelity=1.0)))
    assert not result.keeps_detail(0)  # pasted whole, as a restored face is
    weights = result.masks()[0]
    x0, y0 = weights.roi[:2]
    assert weights.weights[90 - y0, 158 - x0] > 0.9 and weights.weights[90 - y0, 242 - x0] > 0.9  # in the paste
    out = result.composite().astype(int)
    for stripe, expected in (((slice(60, 140), slice(155, 161)), (0, 255, 0)),
                             ((slice(60, 140), slice(239, 245)), (255, 0, 0))):
        assert np.abs(out[stripe].reshape(-1, 3).mean(axis=0) - expected).max() < 4
    big = result.composite_over(np.asarray(photo.rgb, np.uint16) * 257, depth=(257.0, 0.0))
    assert np.abs(big[60:140, 155:161].reshape(-1, 3).mean(axis=0) / 257 - (0, 255, 0)).max() < 4  # 16 bits too


@pytest.mark.parametrize("fmt", ["jpg", "tif", "webp"])
def test_a_png_at_gamma_18_keeps_its_look_in_another_format(tmp_path, testdata_dir, fmt):
    """Colour QA: a PNG whose gAMA chunk says gamma 1.8 (an old Mac program's) came back as an
    untagged JPEG, TIFF or WebP, which viewers show as sRGB: darker midtones. The result now carries
    a profile saying what the chunk said; a PNG at sRGB's gamma gets none, as before."""
    import io
    import struct

    from PIL import ImageCms

    pixels = np.asarray(Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB"))
    path = tmp_path / "mac.png"
    Image.fromarray(pixels).save(path, pnginfo=_png_info(gamma=55556))
    photo = read_photo(path)
    assert photo.png_colour == {b"gAMA": struct.pack(">I", 55556)} and photo.icc is None
    written = export_photo(photo.rgb, None, photo, tmp_path / f"out.{fmt}")
    with Image.open(written) as image:
        icc = image.info.get("icc_profile")
    assert icc, "the gamma is said by a profile"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    to_srgb = ImageCms.buildTransform(ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb, "RGB", "RGB")
    grey = np.asarray(ImageCms.applyTransform(Image.new("RGB", (1, 1), (128, 128, 128)), to_srgb))[0, 0]
    assert 143 <= grey[1] <= 150  # mid-grey at gamma 1.8 is sRGB's ~147, as a viewer honouring gAMA shows it
    plain = tmp_path / "plain.png"
    Image.fromarray(pixels).save(plain, pnginfo=_png_info(gamma=45455))
    with Image.open(export_photo(pixels, None, read_photo(plain), tmp_path / f"plain.{fmt}")) as image:
        assert "icc_profile" not in image.info  # sRGB's gamma: nothing to say


def _png_info(*, gamma: int):
    """Pillow save options that write a gAMA chunk of ``gamma`` (×100,000)."""
    import struct

    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    payload = struct.pack(">I", gamma)
    info.add(b"gAMA", payload)
    return info


def test_srgb_and_untagged_photos_are_not_converted(testdata_dir):
    photo = read_photo(testdata_dir / "photos" / "cf_03.jpg")
    assert photo.srgb is photo.rgb and photo.to_srgb(photo.rgb) is photo.rgb
    assert colour.is_srgb(None) and not colour.is_srgb(PROFILES["display-p3"])


#: sRGB's primaries, adapted to D50 (the columns of its RGB → XYZ matrix).
SRGB_D50 = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))


def test_a_profile_is_srgb_by_its_colours_not_by_its_name():
    """GIMP embeds "Linear sRGB" in linear-light exports: by its name it was taken for sRGB, and the
    model got linear light (QA: faces came out more saturated, eyes bluish). The built-in sRGB
    profile and one under another name that maps colours the same are sRGB."""
    from PIL import ImageCms

    linear = rgb_profile(SRGB_D50, gamma=1.0, description="GIMP built-in Linear sRGB")
    assert not colour.is_srgb(linear)
    grey_ramp = np.repeat(np.arange(0, 256, 32, dtype=np.uint8)[None, :, None], 3, axis=2)
    assert colour.to_srgb(grey_ramp, linear)[0, 1, 0] > 90  # linear 32 is sRGB ~99: converted
    assert colour.is_srgb(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    assert not colour.is_srgb(rgb_profile(description="sRGB-ish Adobe RGB (test)"))  # Adobe RGB, whatever its name
    assert colour.is_srgb(None) and colour.is_srgb(b"not a profile")


@pytest.mark.parametrize("odd", [
    {"color_primaries": 2},  # unspecified: libheif reports every coordinate as 0 (it divided by zero)
    {"color_primary_red_y": 0.0},  # a primary on the x axis
    {"color_primary_green_x": float("nan")},  # (a black image)
    {"color_primary_blue_x": 0.68, "color_primary_blue_y": 0.32},  # two primaries alike: no RGB space
    {"transfer_characteristics": 16},  # PQ (HDR): not converted
])
def test_odd_code_points_leave_the_pixels_as_they_are(odd):
    from faceapp.core.colour import nclx_to_srgb

    p3 = {"color_primaries": 12, "transfer_characteristics": 13, "color_primary_red_x": 0.68, "color_primary_red_y": 0.32,
          "color_primary_green_x": 0.265, "color_primary_green_y": 0.69, "color_primary_blue_x": 0.15,
          "color_primary_blue_y": 0.06, "color_primary_white_x": 0.3127, "color_primary_white_y": 0.329}
    pixels = np.random.default_rng(0).integers(0, 256, (8, 8, 3), np.uint8)
    assert nclx_to_srgb(pixels, p3) is not None  # (P3 itself is converted)
    unspecified = {key: 0.0 for key in p3 if key.startswith("color_primary_")} if odd.get("color_primaries") == 2 else {}
    assert nclx_to_srgb(pixels, {**p3, **unspecified, **odd}) is None


def test_a_damaged_profile_is_named_with_its_photo_and_left_out_of_the_result(tmp_path, caplog, testdata_dir):
    """Photo-archivist QA: a JPEG whose Adobe RGB profile was cut short was read as sRGB, as it must
    be, but its result carried the damaged profile (while its EXIF said sRGB), and the note did not
    say which photo of a batch it was about."""
    path = tmp_path / "scan.jpg"
    Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB").save(path, icc_profile=rgb_profile()[:300])
    with caplog.at_level("WARNING"):
        photo = read_photo(path)
    assert photo.icc is None and photo.srgb is photo.rgb
    assert "scan.jpg: its ICC colour profile cannot be used (damaged" in caplog.text
    with Image.open(export_photo(photo.rgb, None, photo, tmp_path / "out.jpg")) as result:
        assert not result.info.get("icc_profile")
    garbage = tmp_path / "garbage.jpg"  # no profile at all: said too (security QA: dropped without a word)
    Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB").save(garbage, icc_profile=b"garbage" * 1000)
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert read_photo(garbage).icc is None
    assert "garbage.jpg: its ICC colour profile cannot be used (damaged" in caplog.text
    grey = tmp_path / "grey.jpg"  # a black-and-white photo's too (review: still unsaid)
    Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("L").save(grey, icc_profile=b"garbage" * 1000)
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert read_photo(grey).grey_icc is None
    assert "grey.jpg: its ICC colour profile cannot be used (damaged" in caplog.text
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA001] = 2  # ColorSpace: Adobe RGB, as some cameras say it (review: "taken as sRGB", then as Adobe RGB)
    adobe = tmp_path / "adobe.jpg"
    Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB").save(adobe, icc_profile=b"garbage" * 1000,
                                                                           exif=exif.tobytes())
    caplog.clear()
    with caplog.at_level("INFO"):
        assert read_photo(adobe).icc is not None
    assert "read as Adobe RGB" in caplog.text and "taken as sRGB" not in caplog.text
    Image.open(testdata_dir / "photos" / "cf_03.jpg").convert("RGB").save(  # an RGB photo tagged with a grey
        tmp_path / "rgb.jpg", icc_profile=grey_profile())  # profile: said too (review: dropped unsaid)
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert read_photo(tmp_path / "rgb.jpg").icc is None
    assert "rgb.jpg: its ICC colour profile cannot be used" in caplog.text
