"""A 16-bit photo's result keeps its 16 bits: the background keeps every bit of the file (turned
upright, enlarged, its damage filled), the faces are the 8-bit result's scaled to 16, the metadata is
kept (PNG, and TIFF except grey with alpha); formats that cannot hold 16 bits, the user's choice of 8, or a file that changed since it was
opened give the 8-bit result."""

from __future__ import annotations

import dataclasses
import io
import logging
import os

import cv2

import numpy as np
import pytest
from icc_util import rgb_profile
from PIL import Image
from pipeline_util import FakeEngine, SmoothingEngine, identity_engine, outside_faces

from faceapp.core.application import depth_note, result_pixels, write_result
from faceapp.core.errors import ExportError
from faceapp.core.export import export_photo, read_provenance
from faceapp.core.faces import face_from_box
from faceapp.core.photo_io import Photo, read_photo
from faceapp.core.photo_restore import PhotoSettings, restore_photo
from faceapp.core.png_writer import write_png
from faceapp.core.settings import SamplerSettings
from faceapp.core.sixteen_bit import SCALE_8_TO_16, depth_of, read_16_bit, writes_16_bit
from faceapp.core.tiff_writer import write_tiff
from faceapp.core.upscale import upscale_image

NO_DIFFUSION = SamplerSettings(fidelity=1.0)
_EXIF_ORIENTATION = 0x0112


class _BrighterEngine(FakeEngine):
    """Returns the crop 40 levels brighter: shows where the faces went and that they are 8-bit."""

    model_name, face_size = "brighter", 128
    template = identity_engine(128).template

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        return [np.clip(face.astype(np.int16) + 40, 0, 255).astype(np.uint8) for _ in seeds]
        yield  # a generator that reports no step


def _scan16(testdata_dir, seed: int = 0) -> np.ndarray:
    """cf_03.jpg as a 48-bit scan (RGB uint16) whose low bytes carry detail 8 bits cannot hold."""
    rgb = cv2.cvtColor(cv2.imread(str(testdata_dir / "photos" / "cf_03.jpg")), cv2.COLOR_BGR2RGB)
    fine = np.random.default_rng(seed).integers(0, 200, rgb.shape)
    return (rgb.astype(np.int64) * 256 + fine).clip(0, 65535).astype(np.uint16)


def _write_png16(path, rgb16: np.ndarray, *, orientation: int = 1, alpha: np.ndarray | None = None) -> None:
    exif = Image.Exif()
    exif[_EXIF_ORIENTATION] = orientation
    with open(path, "wb") as handle:
        write_png(handle, rgb16, alpha, level=1, icc=None, exif=exif.tobytes(), text={"Title": "scan"})


def _face(photo, size: float = 0.55):
    width, height = photo.width, photo.height
    x0, y0 = width * (1 - size) / 2, height * 0.2
    return [face_from_box((x0, y0, x0 + width * size, y0 + height * size), index=0)]


def _read16(path) -> np.ndarray:
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("scale", [1, 2])
def test_a_48_bit_scan_comes_back_in_16_bits_with_its_background_untouched(tmp_path, testdata_dir, scale):
    scan16 = _scan16(testdata_dir)
    source = tmp_path / "scan.png"
    _write_png16(source, scan16, orientation=6)  # stored on its side: a quarter turn makes it upright
    photo = read_photo(source)
    upright16 = np.rot90(scan16, -1)
    assert photo.bits == 16 and photo.orientation == 6 and photo.rgb.shape == upright16.shape
    result = restore_photo(photo, _face(photo), _BrighterEngine(), PhotoSettings(sampler=NO_DIFFUSION, upscale=scale))

    written = write_result(result, tmp_path / "out.png", quality=95)
    out16 = _read16(written)
    assert out16.dtype == np.uint16 and out16.shape == result.background.shape
    background16 = upscale_image(np.ascontiguousarray(upright16), scale)
    outside = outside_faces(result)
    np.testing.assert_array_equal(out16[outside], background16[outside])  # every bit of the scan
    assert len(np.unique(out16[outside] & 255)) > 100
    # The faces: the 8-bit result's, scaled to 16 bits (8-bit rounding apart: the enlarged background's,
    # the blend's, and the grain's, which is the same noise in both).
    eight = result.composite().astype(np.int64)
    assert np.abs(out16.astype(np.int64) - eight * SCALE_8_TO_16).max() <= 3 * SCALE_8_TO_16
    inside = ~outside
    assert (out16[inside].astype(np.int64) - background16[inside]).mean() > 20 * SCALE_8_TO_16  # the brighter faces
    assert Image.open(written).text["Title"] == "scan" and read_provenance(written) is not None
    assert Image.open(written).getexif().get(_EXIF_ORIENTATION, 1) == 1


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_16_bit_grey_tiff_comes_back_as_a_16_bit_grey_tiff(tmp_path, testdata_dir, orientation):
    stored = cv2.cvtColor(_scan16(testdata_dir), cv2.COLOR_RGB2GRAY)
    grey16 = np.ascontiguousarray(np.rot90(stored, -1) if orientation == 6 else stored)  # upright
    source = tmp_path / "grey.tif"
    Image.frombuffer("I;16", stored.shape[::-1], np.ascontiguousarray(stored, dtype="<u2"), "raw", "I;16", 0, 1).save(
        source, dpi=(600, 600), tiffinfo={0x0112: orientation})
    photo = read_photo(source)
    assert photo.bits == 16 and photo.single_channel and writes_16_bit(photo, "TIFF")
    assert photo.rgb.shape[:2] == grey16.shape
    result = restore_photo(photo, _face(photo), _BrighterEngine(), PhotoSettings(sampler=NO_DIFFUSION))
    written = write_result(result, tmp_path / "out.tif", quality=95)
    with Image.open(written) as image:
        assert image.mode.startswith("I;16") and image.info["dpi"] == pytest.approx((600, 600))
    out16 = _read16(written)
    np.testing.assert_array_equal(out16[outside_faces(result)], grey16[outside_faces(result)])
    assert read_provenance(written) is not None


def test_a_16_bit_grey_png_with_alpha_comes_back_as_one(tmp_path, testdata_dir):
    grey16 = cv2.cvtColor(_scan16(testdata_dir), cv2.COLOR_RGB2GRAY)
    height, width = grey16.shape
    alpha16 = np.tile(np.linspace(0, 65535, width).astype(np.uint16), (height, 1))
    source = tmp_path / "grey_alpha.png"
    _write_png16(source, grey16, alpha=alpha16)
    photo = read_photo(source)  # (Pillow opens such a file as RGBA)
    assert photo.bits == 16 and photo.single_channel and photo.greyscale and writes_16_bit(photo, "PNG")
    result = restore_photo(photo, _face(photo), _BrighterEngine(), PhotoSettings(sampler=NO_DIFFUSION))
    written = write_result(result, tmp_path / "out.png", quality=95)
    with open(written, "rb") as handle:
        depth, colour_type = handle.read(26)[24:26]
    assert (depth, colour_type) == (16, 4)  # grey with alpha, as the photo was: not RGBA
    out = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)  # (OpenCV reads grey with alpha as BGRA)
    np.testing.assert_array_equal(out[:, :, 3], alpha16)
    np.testing.assert_array_equal(out[:, :, 0][outside_faces(result)], grey16[outside_faces(result)])


def test_8_bits_where_the_format_or_the_user_says_so(tmp_path, testdata_dir):
    source = tmp_path / "scan.png"
    _write_png16(source, _scan16(testdata_dir))
    photo = read_photo(source)
    result = restore_photo(photo, _face(photo), _BrighterEngine(), PhotoSettings(sampler=NO_DIFFUSION))
    eight = write_result(result, tmp_path / "eight.png", quality=95, keep_16_bits=False)
    np.testing.assert_array_equal(_read16(eight), result.composite())
    for name in ("out.jpg", "out.webp"):
        assert _read16(write_result(result, tmp_path / name, quality=100)).dtype == np.uint8, name
    assert depth_note(photo, "PNG") == ("has 16 bits per channel; the result keeps them (the restored faces carry "
                                        "the model's 8 bits, scaled to 16).")
    assert depth_note(photo, "JPEG") == "has 16 bits per channel; as JPEG the result has 8 (PNG or TIFF keeps 16)."
    assert depth_note(photo, "TIFF") == depth_note(photo, "PNG")
    assert depth_note(photo, "PNG", keep_16_bits=False, setting="--8-bit") == (
        "has 16 bits per channel; the result is written in 8 (--8-bit).")
    # The setting is the reason given whatever the format: "(PNG keeps 16)" was untrue under --8-bit (QA).
    assert depth_note(photo, "TIFF", keep_16_bits=False, setting="--8-bit") == (
        "has 16 bits per channel; the result is written in 8 (--8-bit).")


def test_a_scan_changed_since_it_was_opened_gives_the_8_bit_result(tmp_path, testdata_dir, caplog):
    source = tmp_path / "scan.png"
    _write_png16(source, _scan16(testdata_dir))
    photo = read_photo(source)
    result = restore_photo(photo, _face(photo), _BrighterEngine(), PhotoSettings(sampler=NO_DIFFUSION))
    _write_png16(source, 65535 - _scan16(testdata_dir))  # another picture under the same name
    with caplog.at_level(logging.WARNING):
        rgb, _alpha = result_pixels(result, "PNG")
    assert rgb.dtype == np.uint8 and "not the picture that was opened" in caplog.text
    source.unlink()
    assert read_16_bit(photo) is None  # gone: the 8-bit result, no error
    assert write_result(result, tmp_path / "out.png", quality=95).exists()


def test_alpha_and_damage_keep_16_bits_where_they_can(tmp_path, testdata_dir):
    scan16 = _scan16(testdata_dir)
    height, width = scan16.shape[:2]
    alpha16 = np.tile(np.linspace(0, 65535, width).astype(np.uint16), (height, 1))
    source = tmp_path / "scan.png"
    _write_png16(source, scan16, alpha=alpha16)
    photo = read_photo(source)
    damage = np.zeros((height, width), np.uint8)
    damage[height - 14 : height - 4, 4:40] = 255  # a stain in a corner, away from the face
    result = restore_photo(photo, _face(photo, 0.2), _BrighterEngine(), PhotoSettings(sampler=NO_DIFFUSION), damage=damage)
    assert result.faces[0].damage is None  # the stain lies outside the face's crop: filled classically
    rgb16, out_alpha = result_pixels(result, "PNG")
    np.testing.assert_array_equal(out_alpha, alpha16)
    eight = result.composite()
    stain = damage > 0
    scale, offset = depth_of(scan16, photo.rgb)  # (the 8 bits are each value's high byte: ×256 + 127.5)
    assert (round(scale), round(offset)) == (256, 100)  # (its low bytes are 0…199)
    filled = np.clip(np.rint(eight[stain] * scale + offset), 0, 65535).astype(np.uint16)
    np.testing.assert_array_equal(rgb16[stain], filled)  # filled as in 8 bits
    kept = outside_faces(result) & ~cv2.dilate(damage, np.ones((3, 3), np.uint8)).astype(bool)
    np.testing.assert_array_equal(rgb16[kept], scan16[kept])
    written = write_result(result, tmp_path / "out.png", quality=95)
    assert cv2.imread(str(written), cv2.IMREAD_UNCHANGED).shape == (height, width, 4)


def test_a_deep_scans_damage_is_filled_once_for_all_its_16_bit_files(tmp_path, testdata_dir, monkeypatch):
    """The classical fill of a large scan's damage takes seconds (13 s for a 24 MP scan's torn
    quarter): its 16-bit files (one a seed, or saved again) take the restore's, not one each."""
    from faceapp.core import photo_restore

    fills = []
    real_fill = photo_restore.fill_damage
    monkeypatch.setattr(photo_restore, "fill_damage", lambda *args, **kwargs: fills.append(1) or real_fill(*args, **kwargs))
    scan16 = _scan16(testdata_dir)
    height, width = scan16.shape[:2]
    _write_png16(tmp_path / "scan.png", scan16)
    photo = read_photo(tmp_path / "scan.png")
    damage = np.zeros((height, width), np.uint8)
    damage[height - 14 : height - 4, 4:40] = 255
    result = restore_photo(photo, _face(photo, 0.2), _BrighterEngine(), PhotoSettings(sampler=NO_DIFFUSION), damage=damage)
    first, _ = result_pixels(result, "PNG")
    again, _ = result_pixels(result.with_grain(False), "TIFF")
    assert len(fills) == 1
    stain = damage > 0
    scale, offset = depth_of(scan16, photo.rgb)
    filled = np.clip(np.rint(result.composite()[stain] * scale + offset), 0, 65535).astype(np.uint16)
    np.testing.assert_array_equal(first[stain], filled)
    np.testing.assert_array_equal(again[stain], first[stain])


def test_png_writer_round_trips_16_bits_and_export_refuses_them_where_they_cannot_go(tmp_path):
    rng = np.random.default_rng(1)
    for shape in ((37, 53, 3), (37, 53)):
        pixels = rng.integers(0, 65536, shape, dtype=np.uint16)
        alpha = rng.integers(0, 65536, shape[:2], dtype=np.uint16)
        encoded = io.BytesIO()
        write_png(encoded, pixels, alpha, level=6, icc=None, exif=None, text={})
        back = cv2.imdecode(np.frombuffer(encoded.getvalue(), np.uint8), cv2.IMREAD_UNCHANGED)
        assert back.dtype == np.uint16
        np.testing.assert_array_equal(back[..., 3], alpha)
        np.testing.assert_array_equal(back[..., 0] if len(shape) == 2 else back[..., 2::-1], pixels)
    with pytest.raises(ValueError, match="uint8 or uint16"):
        write_png(io.BytesIO(), pixels, alpha.astype(np.uint8), level=6, icc=None, exif=None, text={})
    rgb16 = rng.integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    for name in ("out.jpg", "out.webp"):
        with pytest.raises(ExportError, match="16 bits per channel are written as PNG"):
            export_photo(rgb16, None, None, tmp_path / name)
    # grey with alpha: a 16-bit TIFF that neither Pillow nor OpenCV reads back in 16 bits
    grey_with_alpha = dataclasses.replace(Photo.from_array(np.zeros((20, 30, 3), np.uint8),
                                                           alpha=np.zeros((20, 30), np.uint8)), single_channel=True)
    with pytest.raises(ExportError, match="except from a grey photo with transparency; not so"):
        export_photo(rgb16, alpha[:20, :30], grey_with_alpha, tmp_path / "out.tif")
    export_photo(rgb16, alpha[:20, :30], None, tmp_path / "colour.tif")  # (colour with alpha: written)
    assert [path.name for path in tmp_path.iterdir()] == ["colour.tif"]


def test_a_grainy_48_bit_scan_gets_its_grain_on_the_faces_of_the_16_bit_file(tmp_path):
    size = 240
    noise = cv2.GaussianBlur(np.random.default_rng(3).standard_normal((size, size)).astype(np.float32), (0, 0), 0.8)
    scan16 = np.clip(30000 + (6 * 257 / noise.std()) * noise[..., None] + np.zeros(3), 0, 65535).astype(np.uint16)
    source = tmp_path / "grainy.png"
    _write_png16(source, scan16)
    photo = read_photo(source)
    faces = [face_from_box((50, 40, 190, 180), index=0)]

    def fine_detail(matched: bool):
        result = restore_photo(photo, faces, SmoothingEngine(), PhotoSettings(sampler=NO_DIFFUSION, match_grain=matched))
        out16 = _read16(write_result(result, tmp_path / f"out_{matched}.png", quality=95)).astype(np.float32) / 257
        assert out16.max() > 0  # (16 bits read back)
        residual = out16 - cv2.GaussianBlur(out16, (0, 0), 1.0)
        return residual[100:130, 100:130].std(), residual[5:45, 5:45].std()  # the face's middle, a corner

    face_smooth, _ = fine_detail(False)
    face_grain, photo_grain = fine_detail(True)
    assert face_smooth < 0.4 * photo_grain
    assert 0.85 * photo_grain < face_grain < 1.15 * photo_grain


@pytest.mark.parametrize("with_alpha", [False, True], ids=["rgb", "rgba"])
def test_a_48_bit_tiff_scan_comes_back_as_a_16_bit_tiff_with_its_metadata(tmp_path, testdata_dir, with_alpha):
    """A scanner's 48-bit TIFF saved as TIFF keeps its 16 bits (Pillow writes no 16-bit RGB TIFF:
    they were 8 until faceapp wrote its TIFFs itself), its resolution, profile and EXIF."""
    stored = _scan16(testdata_dir)
    height, width = stored.shape[:2]
    alpha16 = np.tile(np.linspace(0, 65535, width).astype(np.uint16), (height, 1)) if with_alpha else None
    profile = rgb_profile()
    exif = Image.Exif()
    exif[_EXIF_ORIENTATION] = 1 if with_alpha else 6
    exif[0x010F], exif[0x0110] = "Epson", "Perfection V600"  # Make, Model
    exif.get_ifd(0x8769)[0x9003] = "1962:05:04 10:00:00"  # DateTimeOriginal
    source = tmp_path / "scan.tif"
    with open(source, "wb") as handle:
        write_tiff(handle, stored, alpha16, icc=profile, exif=exif.tobytes(), dpi=(1200, 1200))
    photo = read_photo(source)
    assert photo.bits == 16 and not photo.single_channel and writes_16_bit(photo, "TIFF")
    upright = np.ascontiguousarray(stored if with_alpha else np.rot90(stored, -1))
    result = restore_photo(photo, _face(photo), _BrighterEngine(), PhotoSettings(sampler=NO_DIFFUSION, upscale=2))

    written = write_result(result, tmp_path / "out.tif", quality=95)
    out16 = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)
    assert out16.dtype == np.uint16 and out16.shape == result.background.shape[:2] + (4 if with_alpha else 3,)
    out_rgb = cv2.cvtColor(out16[..., :3], cv2.COLOR_BGR2RGB)
    outside = outside_faces(result)
    np.testing.assert_array_equal(out_rgb[outside], upscale_image(upright, 2)[outside])  # every bit of the scan
    inside = ~outside
    assert (out_rgb[inside].astype(np.int64) - upscale_image(upright, 2)[inside]).mean() > 20 * SCALE_8_TO_16
    if with_alpha:
        np.testing.assert_array_equal(out16[..., 3], upscale_image(alpha16, 2))
    with Image.open(written) as image:
        assert image.info["dpi"] == pytest.approx((2400, 2400)) and image.info["icc_profile"] == profile
        tags = image.getexif()
        assert (tags[0x010F], tags[0x0110], tags.get(_EXIF_ORIENTATION, 1)) == ("Epson", "Perfection V600", 1)
        assert tags.get_ifd(0x8769)[0x9003] == "1962:05:04 10:00:00"
    assert read_provenance(written) is not None



class _SameEngine(FakeEngine):
    """Returns the crop as it is."""

    model_name, face_size = "same", 128
    template = identity_engine(128).template

    def iter_restore(self, face, *, sampler, seeds, should_cancel=None):
        return [face.copy() for _ in seeds]
        yield  # a generator that reports no step


def test_a_dark_48_bit_scans_faces_keep_its_levels(tmp_path, testdata_dir):
    """Dark-scan QA: a scan in 0–8000 of 65535 had its faces pasted up to 11 % darker and warmer: its 8
    bits are the high byte of each value, and the faces went back ×257, as if they had been rounded."""
    rgb = cv2.cvtColor(cv2.imread(str(testdata_dir / "photos" / "cf_03.jpg")), cv2.COLOR_BGR2RGB)
    scan16 = ((rgb.astype(np.int64) // 8) * 256 + np.random.default_rng(0).integers(0, 256, rgb.shape)).astype(np.uint16)
    source = tmp_path / "dark.png"
    _write_png16(source, scan16)
    photo = read_photo(source)
    result = restore_photo(photo, _face(photo), _SameEngine(), PhotoSettings(sampler=NO_DIFFUSION, match_grain=False))
    out16 = _read16(write_result(result, tmp_path / "out.png", quality=95)).astype(np.int64)
    inside = ~outside_faces(result)
    assert abs((out16[inside] - scan16[inside]).mean()) < 16  # the face at the scan's levels (×257: −110)


def test_opencvs_warnings_about_a_file_stay_out_of_the_terminal(tmp_path):
    """Format QA: a 16-bit RGBA TIFF that OpenCV wrote without its ExtraSamples tag printed
    "[ WARN:0@11.8] global grfmt_tiff.cpp:123 TIFF_Warning …" in the middle of the CLI's output,
    where the file's own trouble is for faceapp to say (it reads the file well)."""
    import subprocess
    import sys

    pixels = (np.arange(20 * 30 * 4).reshape(20, 30, 4) * 211 % 65536).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "scan.tif"), pixels)
    code = ("import sys; from faceapp.core import sixteen_bit; from faceapp.core.photo_io import read_photo; "
            "photo = read_photo(sys.argv[1]); print(sixteen_bit.read_16_bit(photo).rgb.dtype)")
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "scan.tif")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "uint16" and "WARN" not in done.stderr, done.stderr

