"""Reading photos: formats, odd modes, orientation, alpha, metadata, and refusing bad files."""

from __future__ import annotations

import errno
import io
import logging
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from faceapp.core import photo_io
from faceapp.core.errors import ImageError
from faceapp.core.export import default_output_path, export_photo
from faceapp.core.photo_io import Photo, probe_photo, read_photo


def _pattern(height: int = 40, width: int = 60) -> np.ndarray:
    """An asymmetric test image: a gradient plus a red top-left block."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 4 % 256, y * 6 % 256, (x + y) * 2 % 256], axis=2).astype(np.uint8)
    rgb[:10, :15] = (255, 0, 0)
    return rgb


def test_every_test_photo_reads_as_rgb8(testdata_dir):
    for path in sorted((testdata_dir / "photos").iterdir()):
        photo = read_photo(path)
        with Image.open(path) as image:
            assert photo.rgb.shape == (image.height, image.width, 3), path.name
        assert photo.rgb.dtype == np.uint8
        assert photo.format in ("JPEG", "PNG")


def test_rgba_photo_keeps_its_alpha(testdata_dir):
    photo = read_photo(testdata_dir / "photos" / "cf_06.png")
    with Image.open(testdata_dir / "photos" / "cf_06.png") as image:
        expected = np.asarray(image.convert("RGBA"))
    assert photo.alpha is not None
    np.testing.assert_array_equal(photo.alpha, expected[:, :, 3])
    np.testing.assert_array_equal(photo.rgb, expected[:, :, :3])
    assert photo.icc  # the file carries an ICC profile, kept for export


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_and_reset(tmp_path, orientation):
    upright = _pattern()
    # Store the pixels as a camera would, so that applying the orientation makes them upright.
    stored = {3: np.rot90(upright, 2), 6: np.rot90(upright, 1), 8: np.rot90(upright, -1)}[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Test Camera"
    path = tmp_path / "rotated.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, quality=98, subsampling=0, exif=exif.tobytes())

    photo = read_photo(path)
    assert photo.rgb.shape == upright.shape
    assert np.abs(photo.rgb.astype(int) - upright.astype(int)).mean() < 4
    assert photo.rgb[:8, :12, 0].mean() > 200 and photo.rgb[:8, :12, 1].mean() < 60  # red block top-left
    kept = Image.Exif()
    kept.load(photo.exif)
    assert kept[0x0112] == 1
    assert kept[0x010F] == "Test Camera"


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("mode", ["L", "I;16", "RGB"])
def test_an_uncompressed_tiff_turned_by_its_orientation_tag_is_read_upright(tmp_path, orientation, mode):
    """Pillow 13's own TIFF decoder scrambles a one-channel uncompressed TIFF that its Orientation
    tag turns a quarter (5–8); such files are read with libtiff's. The resolution turns with it."""
    from faceapp.core.sixteen_bit import _upright

    pattern = _pattern(40, 70)
    if mode == "RGB":
        stored, expected = pattern, pattern
    elif mode == "L":
        stored = pattern[..., 0]
        expected = np.repeat(stored[..., None], 3, axis=2)
    else:
        stored = pattern[..., 0].astype("<u2") * 257 + 3
        expected = np.repeat(((stored.astype(np.float32) * (255 / 65535)) + 0.5).astype(np.uint8)[..., None], 3, axis=2)
    image = Image.frombuffer(mode, (70, 40), np.ascontiguousarray(stored), "raw", mode, 0, 1)
    path = tmp_path / "scan.tif"
    image.save(path, tiffinfo={0x0112: orientation}, dpi=(300, 600))
    photo = read_photo(path)
    np.testing.assert_array_equal(photo.rgb, np.ascontiguousarray(_upright(expected, orientation)))
    assert photo.orientation == orientation
    assert photo.dpi == ((600.0, 300.0) if orientation >= 5 else (300.0, 600.0))


@pytest.mark.parametrize("progressive", [False, True])
def test_a_jpeg_missing_only_its_end_marker_is_read_and_a_cut_one_refused(tmp_path, testdata_dir, progressive):
    """Format QA: a JPEG whose every pixel is there but whose last two bytes (the end marker, which
    old cameras and programs leave out) are not was refused as truncated; viewers show it. A JPEG
    cut inside its pixels is still refused, and so is a progressive one without its end marker."""
    source = Image.open(testdata_dir / "photos" / "cf_00.jpg")
    buffer = io.BytesIO()
    source.save(buffer, "JPEG", quality=90, progressive=progressive)
    whole = buffer.getvalue()
    assert whole.endswith(b"\xff\xd9")
    (tmp_path / "whole.jpg").write_bytes(whole)
    (tmp_path / "no_end.jpg").write_bytes(whole[:-2])
    (tmp_path / "cut.jpg").write_bytes(whole[:-200])
    if progressive:  # (its scans may end where it was cut: a file cut between two is not told apart; review)
        with pytest.raises(ImageError, match="truncated"):
            read_photo(tmp_path / "no_end.jpg")
    else:
        np.testing.assert_array_equal(read_photo(tmp_path / "no_end.jpg").rgb, read_photo(tmp_path / "whole.jpg").rgb)
    with pytest.raises(ImageError, match="truncated"):
        read_photo(tmp_path / "cut.jpg")


def test_a_16_bit_grey_png_keeps_its_transparent_value(tmp_path):
    """Format QA: a 16-bit grey PNG whose tRNS chunk makes one grey value transparent came back
    opaque black there, unlike the 8-bit and RGB ones."""
    values = (np.arange(40 * 60).reshape(40, 60) * 20 + 1).astype(np.uint16)
    values[:10] = 0
    Image.fromarray(values).save(tmp_path / "grey16.png", transparency=0)
    photo = read_photo(tmp_path / "grey16.png")
    assert photo.alpha is not None
    assert (photo.alpha[:10] == 0).all() and (photo.alpha[10:] == 255).all()


def test_deep_grey_files_are_read_at_their_own_range(tmp_path):
    """Format QA: a float TIFF holding 0–2 was read as 0–2 of 255 (black: "no face found"), and a
    32-bit integer one above 65535 wrapped round in 8 bits. Floats within 0–1 and 8-bit or 16-bit
    levels stored as floats keep their scale; others are read over their own range."""
    ramp = np.linspace(0, 1, 40 * 60, dtype=np.float32).reshape(40, 60)
    expected = np.round(ramp * 255).astype(np.uint8)
    cases = {"unit.tif": ramp, "hdr.tif": ramp * 2, "wide.tif": ramp * 1000,
             "levels.tif": np.round(ramp * 200).astype(np.float32),  # an 8-bit picture stored as floats
             "int32.tif": np.round(ramp * 2**31 * 0.9).astype(np.int32)}
    for name, data in cases.items():
        Image.fromarray(data).save(tmp_path / name)
        grey = read_photo(tmp_path / name).rgb[..., 0].astype(int)
        if name == "levels.tif":
            np.testing.assert_array_equal(grey, np.round(ramp * 200).astype(int))
        elif name == "int32.tif":  # (the range of 31 bits: 0.9 of it)
            np.testing.assert_allclose(grey, expected * 0.9, atol=1.01)
        else:
            np.testing.assert_allclose(grey, expected, atol=1.01, err_msg=name)


def test_16_bit_grayscale_is_scaled_to_8_bits(tmp_path):
    values = np.linspace(0, 65535, 50 * 30).reshape(30, 50).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    photo = read_photo(path)
    expected = np.round(values / 257.0)
    assert np.abs(photo.rgb[:, :, 0].astype(int) - expected).max() <= 1
    assert (photo.rgb[:, :, 0] == photo.rgb[:, :, 2]).all()
    assert photo.rgb.max() == 255 and photo.rgb.min() == 0


def test_grayscale_palette_and_transparency(tmp_path):
    gray = np.arange(0, 240, dtype=np.uint8).reshape(12, 20)
    Image.fromarray(gray, "L").save(tmp_path / "gray.png")
    photo = read_photo(tmp_path / "gray.png")
    np.testing.assert_array_equal(photo.rgb[:, :, 1], gray)
    assert photo.alpha is None

    palette = Image.fromarray(_pattern()).quantize(8)
    palette.info["transparency"] = 0
    palette.save(tmp_path / "palette.png", transparency=0)
    photo = read_photo(tmp_path / "palette.png")
    indices = np.asarray(palette)
    assert photo.alpha is not None
    np.testing.assert_array_equal(photo.alpha == 0, indices == 0)


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    cmyk = np.zeros((16, 16, 4), dtype=np.uint8)
    cmyk[:, :8] = (0, 255, 255, 0)  # red
    cmyk[:, 8:] = (255, 255, 0, 0)  # blue
    Image.fromarray(cmyk, "CMYK").save(tmp_path / "cmyk.jpg", quality=100)
    photo = read_photo(tmp_path / "cmyk.jpg")
    left, right = photo.rgb[:, 2:6].reshape(-1, 3).mean(0), photo.rgb[:, 10:14].reshape(-1, 3).mean(0)
    assert left[0] > 200 and left[1] < 60 and left[2] < 60
    assert right[2] > 200 and right[0] < 60
    assert photo.cmyk and not photo.cmyk_profiled  # no profile: the plain conversion
    assert not Photo.from_array(photo.rgb).cmyk


@pytest.mark.parametrize("suffix", [".webp", ".tif", ".bmp", ".png"])
def test_other_formats_round_trip(tmp_path, suffix):
    rgb = _pattern()
    options = {"lossless": True} if suffix == ".webp" else {}
    Image.fromarray(rgb).save(tmp_path / f"x{suffix}", **options)
    np.testing.assert_array_equal(read_photo(tmp_path / f"x{suffix}").rgb, rgb)


def test_a_grey_icc_profile_is_not_attached_to_rgb_pixels(tmp_path):
    grey = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    grey[16:20] = b"GRAY"  # the colour-space field of the ICC header
    Image.fromarray(_pattern()[:, :, 0]).save(tmp_path / "scan.png", icc_profile=bytes(grey))
    photo = read_photo(tmp_path / "scan.png")
    assert photo.rgb.shape[2] == 3 and photo.icc is None


def test_icc_profile_is_kept(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(_pattern()).save(tmp_path / "icc.png", icc_profile=icc)
    assert read_photo(tmp_path / "icc.png").icc == icc


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header(width: int, height: int) -> bytes:
    """A small PNG file whose header claims width×height pixels (one compressed row of data)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_pattern(200, 300)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.jpg", b"", "empty"),
        ("notes.jpg", b"this is a text file, not a photo\n" * 10, "not an image"),
        ("truncated.jpg", _jpeg_bytes()[:1500], "truncated"),
        ("bomb.png", _png_header(40000, 40000), "40000×40000 pixels is larger than the 120 megapixels"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError) as info:
        read_photo(path)
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_header_over_the_pixel_limit_is_refused_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(_png_header(12000, 11000))  # 132 MP: under Pillow's own bomb limit, over ours
    with pytest.raises(ImageError, match="megapixels"):
        read_photo(path)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        read_photo(tmp_path / "nothing.jpg")
    Image.fromarray(_pattern()).save(tmp_path / "anim.gif")
    with pytest.raises(ImageError, match="not supported"):
        read_photo(tmp_path / "anim.gif")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
        (IsADirectoryError(errno.EISDIR, "Is a directory"), "it is a folder"),
        (OSError(errno.EIO, "Input/output error"), "Input/output error"),
    ],
)
def test_a_file_the_system_will_not_open_is_not_called_damaged(tmp_path, monkeypatch, error, words):
    # Root reads any file whatever its mode, so the refusal is simulated where the file is opened.
    import faceapp.core.photo_io as photo_io

    path = tmp_path / "locked.jpg"
    path.write_bytes(_jpeg_bytes())

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(photo_io.Image, "open", refuse)
    with pytest.raises(ImageError) as info:
        read_photo(path)
    message = str(info.value)
    assert message.startswith(f"{path}: cannot read it: ") and words in message
    assert "damaged" not in message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_an_unreadable_file_is_reported_as_a_permission_problem(tmp_path):
    path = tmp_path / "locked.jpg"
    path.write_bytes(_jpeg_bytes())
    path.chmod(0)
    try:
        with pytest.raises(ImageError, match="permission denied"):
            read_photo(path)
    finally:
        path.chmod(0o644)


def test_a_png_with_a_text_too_large_to_read_is_not_called_damaged(tmp_path):
    """Security QA: a good photo with a 50 MB compressed comment was "damaged and cannot be read
    (Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK)"."""
    from PIL import PngImagePlugin

    said = PngImagePlugin.PngInfo()
    said.add_text("Comment", "x" * (2 << 20), zip=True)
    path = tmp_path / "commented.png"
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(path, pnginfo=said)
    with pytest.raises(ImageError) as raised:
        read_photo(path)
    assert "a compressed text of it (a comment or other metadata) unpacks to more than faceapp reads, 1 MB at most" \
        in str(raised.value)
    assert "damaged" not in str(raised.value) and "MAX_TEXT" not in str(raised.value)


def test_a_folder_is_not_called_damaged(tmp_path):
    with pytest.raises(ImageError) as info:
        read_photo(tmp_path)
    assert "folder" in str(info.value) and "damaged" not in str(info.value)


def test_resolution_is_read(tmp_path):
    Image.fromarray(_pattern()).save(tmp_path / "scan.tif", dpi=(600, 600))
    Image.fromarray(_pattern()).save(tmp_path / "plain.png")
    assert read_photo(tmp_path / "scan.tif").dpi == (600, 600)
    assert read_photo(tmp_path / "plain.png").dpi is None


def test_a_png_whose_exif_text_is_malformed_is_read_without_it(tmp_path):
    """Security QA: a PNG's "Raw profile type exif" text that is no EXIF refused the photo whole ("the image
    is damaged"), though its pixels are fine; a JPEG's broken EXIF was left out."""
    from PIL import PngImagePlugin

    pixels = np.random.default_rng(0).integers(0, 256, (30, 40, 3), np.uint8)
    text = PngImagePlugin.PngInfo()
    text.add_text("Raw profile type exif", "\nexif\n      4\n00000000\n")
    Image.fromarray(pixels).save(tmp_path / "scan.png", pnginfo=text)
    photo = read_photo(tmp_path / "scan.png")
    np.testing.assert_array_equal(photo.rgb, pixels)
    assert photo.exif is None



def test_a_photo_whose_exif_cannot_be_parsed_is_a_photo_to_the_quick_look_too(tmp_path):
    """Sceptic QA: read_photo read such a photo, but the header's quick look (probe_photo: which files of
    a folder are photos, the memory check) called it none, so a scan without a suffix was "not a photo"."""
    pixels = np.random.default_rng(1).integers(0, 256, (30, 40, 3), np.uint8)
    Image.fromarray(pixels).save(tmp_path / "scan.jpg", exif=b"Exif\0\0garbage, no TIFF header")
    (tmp_path / "scan.jpg").rename(tmp_path / "scan")
    header = probe_photo(tmp_path / "scan")
    assert header is not None and (header.width, header.height) == (40, 30)
    assert read_photo(tmp_path / "scan").rgb.shape == (30, 40, 3)


def test_a_resolution_given_only_in_the_exif_of_a_webp_or_png_is_read(tmp_path):
    """A WebP or a PNG without pHYs may state its resolution in its EXIF alone (QA: a 600 dpi
    scan's TIFF result said 72 dpi); centimetres are turned to inches, no unit is no resolution."""
    image = Image.fromarray(_pattern())
    for name, unit, resolution, dpi in (("a.webp", 2, 600.0, (600.0, 600.0)), ("b.png", 3, 100.0, (254.0, 254.0)),
                                        ("c.webp", 1, 600.0, None)):
        exif = Image.Exif()
        exif.update({0x011A: resolution, 0x011B: resolution, 0x0128: unit})
        image.save(tmp_path / name, exif=exif.tobytes(), **({"lossless": True} if name.endswith("webp") else {}))
        read = read_photo(tmp_path / name).dpi
        assert (read is None and dpi is None) or read == pytest.approx(dpi), name


def test_a_resolution_the_file_does_not_give_is_not_invented(tmp_path):
    """Pillow reports 72 dpi for a JPEG with EXIF but no resolution anywhere: that is not the photo's."""
    image = Image.fromarray(np.zeros((8, 8, 3), np.uint8))
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    image.save(tmp_path / "none.jpg", exif=exif.tobytes())
    image.save(tmp_path / "given.jpg", exif=exif.tobytes(), dpi=(300, 300))
    assert read_photo(tmp_path / "none.jpg").dpi is None
    assert read_photo(tmp_path / "given.jpg").dpi == (300.0, 300.0)
    Image.fromarray(_pattern()).save(tmp_path / "bare.tif")  # no resolution tags: Pillow says 1 dpi
    assert read_photo(tmp_path / "bare.tif").dpi is None
    # A resolution with no unit (ResolutionUnit 1) is an aspect ratio, not dots per inch: exiftool
    # writes 1 × 1 so into the EXIF of a JPEG whose JFIF header has no unit (archivist QA)
    ratio = Image.Exif()
    ratio.update({0x010F: "Camera", 0x011A: 1.0, 0x011B: 1.0, 0x0128: 1})
    image.save(tmp_path / "ratio.jpg", exif=ratio.tobytes())
    assert read_photo(tmp_path / "ratio.jpg").dpi is None
    from faceapp.core.export import export_photo

    ratio_photo = read_photo(tmp_path / "ratio.jpg")
    upscaled = ratio_photo.rgb.repeat(2, axis=0).repeat(2, axis=1)
    with Image.open(export_photo(upscaled, None, ratio_photo, tmp_path / "out.jpg")) as out:
        exif = out.getexif()
        assert out.info.get("jfif_unit") == 0  # states no dots per inch …
        assert (exif[0x011A], exif[0x011B], exif[0x0128]) == (1.0, 1.0, 1)  # … and keeps the ratio as it was
    Image.fromarray(_pattern()).save(tmp_path / "ratio.tif", tiffinfo={0x011A: 1.0, 0x011B: 1.0, 0x0128: 1})
    assert read_photo(tmp_path / "ratio.tif").dpi is None


@pytest.mark.parametrize("size", [(20000, 20000), (100000, 100000)])
def test_a_header_past_pillows_own_bomb_limit_is_refused_with_its_size_and_the_limit(tmp_path, size):
    """Pillow refuses headers over twice its limit (179 MP) inside Image.open, saying no size; the
    message still gives the photo's size and faceapp's limit."""
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header(*size))
    with pytest.raises(ImageError) as info:
        read_photo(path)
    assert str(info.value) == (f"{path}: the image is too large: {size[0]}×{size[1]} pixels is larger than the "
                               "120 megapixels faceapp accepts (a decompression bomb? A real scan can be read "
                               "with FACEAPP_MAX_MEGAPIXELS set higher, memory allowing).")
    assert probe_photo(path) is None


def test_a_scan_larger_than_the_limit_is_read_with_the_limit_raised(tmp_path, monkeypatch, caplog):
    """An archive's 1,200 dpi scan of a large print runs past 120 MP, and was refused with no way
    round: FACEAPP_MAX_MEGAPIXELS sets the limit (here made small, to test with a small photo)."""
    path = tmp_path / "scan.png"
    Image.fromarray(_pattern()).save(path)  # (60×40: 2,400 pixels)
    monkeypatch.setenv("FACEAPP_MAX_MEGAPIXELS", "0.002")
    with pytest.raises(ImageError, match="larger than the 0.002 megapixels .* FACEAPP_MAX_MEGAPIXELS set higher"):
        read_photo(path)
    monkeypatch.setenv("FACEAPP_MAX_MEGAPIXELS", "0.003")
    assert read_photo(path).width == 60
    monkeypatch.setattr(photo_io, "_SAID_MAX_MEGAPIXELS", set())
    for wrong in ("lots", "1e303", "0"):
        monkeypatch.setenv("FACEAPP_MAX_MEGAPIXELS", wrong)
        assert read_photo(path).width == 60 and read_photo(path).width == 60
        said = f"FACEAPP_MAX_MEGAPIXELS={wrong} is not a number of megapixels above 0"
        assert caplog.text.count(said) == 1  # once, not for every photo (sysadmin QA: three times a photo)
    huge = tmp_path / "huge.png"  # (review: past Pillow's own limit, 179 MP, its header could not be read,
    huge.write_bytes(_png_header(20000, 10000))  # and the CLI's memory check before decoding was skipped)
    monkeypatch.setenv("FACEAPP_MAX_MEGAPIXELS", "300")
    assert probe_photo(huge).width == 20000


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path):
    """Opening a FIFO blocks until something writes to it: the header probe and the reader must not
    open one. Run in a child process with a timeout, so a regression fails instead of hanging."""
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    script = textwrap.dedent(f"""
        from faceapp.core.errors import ImageError
        from faceapp.core.photo_io import probe_photo, read_photo
        assert probe_photo({str(fifo)!r}) is None
        try:
            read_photo({str(fifo)!r})
        except ImageError as exc:
            print(exc)
    """)
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("reading a FIFO hung (it was opened)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{fifo}: cannot read it: it is not a regular file (a device, pipe or socket)."


HEIC = Path(__file__).parent / "data" / "synthetic.heic"  # 96×64, made with ImageMagick; EXIF orientation 6, a date


def test_a_heic_photo_is_read_with_its_exif_turned_once_and_its_result_is_a_jpeg(tmp_path):
    """An iPhone's HEIC photo (of a print) was refused with advice to convert it: it is read, its
    EXIF kept. The container's rotation turns it (libheif), so its EXIF orientation is not applied a
    second time; its result is a JPEG by default, a phone photo's usual kind (a PNG is 25 MB)."""
    photo = read_photo(HEIC)
    assert photo.format == "HEIF" and (photo.width, photo.height) == (96, 64)  # not turned by the EXIF's 6
    assert np.abs(photo.rgb[20:44, 30:66].mean((0, 1)) - (200, 150, 120)).max() < 6
    exif = Image.Exif()
    exif.load(photo.exif)
    assert exif.get_ifd(0x8769)[0x9003] == "1987:06:05 04:03:02" and exif.get(0x0112, 1) == 1
    dest = export_photo(photo.rgb, None, photo, default_output_path(HEIC, folder=tmp_path))
    assert dest.name == "synthetic_restored.jpg"
    with Image.open(dest) as out:
        assert out.format == "JPEG" and out.getexif().get_ifd(0x8769)[0x9003] == "1987:06:05 04:03:02"


HEIC_P3_NCLX = HEIC.with_name("synthetic_p3_nclx.heic")  # Display P3 stated by an nclx box (no ICC profile)
#: Display P3 → sRGB in linear light, as published (e.g. by the CSS Color 4 sample code).
_P3_TO_SRGB = np.array([[1.2249401, -0.2249404, 0.0], [-0.0420569, 1.0420571, 0.0], [-0.0196376, -0.0786361, 1.0982735]])


def test_a_heic_whose_colour_is_stated_by_code_points_is_converted_to_srgb():
    """A HEIC may state its colour space by code points (an nclx box: primaries, transfer) instead
    of an ICC profile; Display P3 pixels stated so were taken as sRGB and came out washed out (QA).
    They are converted to sRGB (by the published P3 → sRGB matrix, within a level of rounding)."""
    with Image.open(HEIC_P3_NCLX) as image:
        assert image.info["nclx_profile"]["color_primaries"] == 12 and "icc_profile" not in image.info
        stored = np.asarray(image.convert("RGB")).astype(np.float64) / 255
    photo = read_photo(HEIC_P3_NCLX)
    linear = np.where(stored <= 0.04045, stored / 12.92, ((stored + 0.055) / 1.055) ** 2.4) @ _P3_TO_SRGB.T
    linear = np.clip(linear, 0, 1)
    expected = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055) * 255
    assert np.abs(photo.rgb - expected).max() <= 1.0
    assert np.abs(photo.rgb - stored * 255).max() > 20  # (not the stored pixels as they were)
    assert photo.icc is None and photo.srgb is photo.rgb  # sRGB now: the result needs no profile


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"mif1"])
def test_a_damaged_heic_is_said_to_be_damaged_and_without_its_reader_the_way_to_convert_it(tmp_path, brand,
                                                                                          monkeypatch):
    path = tmp_path / "IMG_0001.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1" + brand + b"\0" * 200)
    with pytest.raises(ImageError, match="the HEIC/HEIF image is damaged and cannot be read"):
        read_photo(path)
    monkeypatch.setattr(photo_io, "READS_HEIF", False)  # a platform without pi-heif's wheel
    monkeypatch.setattr(photo_io, "SUPPORTED_FORMATS", photo_io.SUPPORTED_FORMATS - {"HEIF"})
    for unreadable in (path, HEIC):
        with pytest.raises(ImageError) as info:
            read_photo(unreadable)
        message = str(info.value)
        assert message.startswith(f"{unreadable}: this is a HEIC/HEIF image")
        assert "not supported here" in message and "Convert it to JPEG or PNG" in message and "heif-convert" in message


def test_an_avif_photo_is_read_with_its_metadata_and_a_damaged_one_is_said_to_be(tmp_path):
    """Phones and web pages save AVIF, which Pillow decodes (it was refused, with a wrong tool named
    to convert it): it is read like a JPEG, its EXIF kept; a damaged one is not called unsupported."""
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow cannot read AVIF")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    Image.fromarray(_pattern()).save(tmp_path / "photo.avif", quality=95, exif=exif.tobytes())
    photo = read_photo(tmp_path / "photo.avif")
    assert photo.format == "AVIF" and photo.rgb.shape == _pattern().shape
    assert np.abs(photo.rgb.astype(int) - _pattern().astype(int)).mean() < 8
    restored = Image.Exif()
    restored.load(photo.exif)
    assert restored[0x010F] == "PhoneMaker"
    damaged = tmp_path / "cut.avif"
    damaged.write_bytes((tmp_path / "photo.avif").read_bytes()[:60])
    with pytest.raises(ImageError, match="the AVIF image is damaged and cannot be read"):
        read_photo(damaged)
    frames = [Image.fromarray(_pattern()), Image.fromarray(_pattern()[::-1].copy())]
    frames[0].save(tmp_path / "moving.avif", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError, match="an animated AVIF"):
        read_photo(tmp_path / "moving.avif")


def test_a_multi_page_tiff_restores_its_first_page_and_says_how_many_it_has(tmp_path, caplog):
    first, second = _pattern(), _pattern(20, 30)[::-1].copy()
    Image.fromarray(first).save(tmp_path / "album.tif", save_all=True,
                                append_images=[Image.fromarray(second), Image.fromarray(second)])
    with caplog.at_level(logging.INFO, logger="faceapp.core.photo_io"):
        photo = read_photo(tmp_path / "album.tif")
    np.testing.assert_array_equal(photo.rgb, first)
    assert photo.pages == 3
    assert "3 pages" in caplog.text and "only the first" in caplog.text
    Image.fromarray(first).save(tmp_path / "single.tif")
    assert read_photo(tmp_path / "single.tif").pages == 1
    assert read_photo(tmp_path / "album.tif").pages == 3  # a second read counts the same (the file is left on page 1)
    # Reading prints nothing of its own (Python's last-resort log handler would print a warning):
    # the front-ends say it once, in their words.
    read = subprocess.run([sys.executable, "-c", "import sys; from faceapp.core.photo_io import read_photo; "
                           "read_photo(sys.argv[1])", str(tmp_path / "album.tif")], capture_output=True, text=True)
    assert read.returncode == 0 and read.stderr == ""


def test_a_photo_says_how_many_bits_per_channel_its_file_had(tmp_path):
    """A 48-bit scan is read as 8 bits per channel (Pillow gives 16-bit RGB as 8-bit): the photo
    says the file had 16, so the front-ends can tell the user the result has fewer."""
    import cv2

    deep = (np.arange(20 * 30 * 3).reshape(20, 30, 3) * 97 % 65536).astype(np.uint16)
    bgr = np.ascontiguousarray(deep[..., ::-1])
    cv2.imwrite(str(tmp_path / "scan.png"), bgr)
    cv2.imwrite(str(tmp_path / "scan.tif"), bgr)
    cv2.imwrite(str(tmp_path / "alpha.png"), np.dstack([bgr, deep[..., :1]]))
    cv2.imwrite(str(tmp_path / "grey.png"), deep[..., 0])
    Image.fromarray(deep[..., 0].astype(np.float32) / 65535).save(tmp_path / "float.tif")
    for name, bits in (("scan.png", 16), ("scan.tif", 16), ("alpha.png", 16), ("grey.png", 16), ("float.tif", 32)):
        photo = read_photo(tmp_path / name)
        assert photo.bits == bits == probe_photo(tmp_path / name).bits, name  # the header alone says it too
        assert photo.rgb.dtype == np.uint8
    np.testing.assert_array_equal(read_photo(tmp_path / "scan.png").rgb, (deep >> 8).astype(np.uint8))
    Image.fromarray(_pattern()).save(tmp_path / "plain.png")
    Image.fromarray(_pattern()).save(tmp_path / "plain.tif")
    Image.fromarray(_pattern()).save(tmp_path / "plain.jpg")
    Image.fromarray(_pattern()[..., 0] > 128).save(tmp_path / "bilevel.png")
    # A BMP of packed 5-6-5 pixels (Pillow's raw mode "BGR;16") has at most 6 bits a channel.
    packed = ((deep[..., 0] >> 11) << 11 | (deep[..., 1] >> 10) << 5 | deep[..., 2] >> 11).astype("<u2")
    rows = packed[::-1].tobytes()
    info = struct.pack("<IiiHHIIiiII", 40, 30, 20, 1, 16, 3, len(rows), 2835, 2835, 0, 0)
    info += struct.pack("<III", 0xF800, 0x07E0, 0x001F)
    (tmp_path / "packed.bmp").write_bytes(struct.pack("<2sIHHI", b"BM", 14 + len(info) + len(rows), 0, 0, 14 + len(info))
                                          + info + rows)
    cv2.imwrite(str(tmp_path / "low.png"), (deep[..., 0] % 256).astype(np.uint16))  # 8-bit values in 16 bits
    for name in ("plain.png", "plain.tif", "plain.jpg", "bilevel.png", "packed.bmp", "low.png"):
        assert read_photo(tmp_path / name).bits == 8, name


def test_a_tiffs_thumbnail_directory_is_not_a_page(tmp_path, caplog):
    from PIL import TiffImagePlugin

    path = tmp_path / "scan.tif"
    with TiffImagePlugin.AppendingTiffWriter(path, new=True) as tiff:
        for image, subfile_type in ((Image.fromarray(_pattern()), 0), (Image.fromarray(_pattern(10, 15)), 1)):
            info = TiffImagePlugin.ImageFileDirectory_v2()
            info[254] = subfile_type  # NewSubfileType 1: a reduced-resolution copy of another directory
            image.save(tiff, format="TIFF", tiffinfo=info)
            tiff.newFrame()
    with caplog.at_level(logging.INFO, logger="faceapp.core.photo_io"):
        photo = read_photo(path)
    assert photo.pages == 1 and "pages" not in caplog.text
    np.testing.assert_array_equal(photo.rgb, _pattern())


def test_a_tiff_whose_thumbnail_comes_first_is_read_from_its_page(tmp_path):
    """A scanner's TIFF may hold its reduced-resolution copy in the first directory (QA: the
    100x56 thumbnail was restored, without a word, instead of the photo)."""
    from PIL import TiffImagePlugin

    path = tmp_path / "scan.tif"
    with TiffImagePlugin.AppendingTiffWriter(path, new=True) as tiff:
        for image, subfile_type in ((Image.fromarray(_pattern(10, 15)), 1), (Image.fromarray(_pattern()), 0)):
            info = TiffImagePlugin.ImageFileDirectory_v2()
            info[254] = subfile_type
            image.save(tiff, format="TIFF", tiffinfo=info)
            tiff.newFrame()
    photo = read_photo(path)
    assert photo.pages == 1
    np.testing.assert_array_equal(photo.rgb, _pattern())


@pytest.mark.parametrize("marking", ["R03", "ColorSpace 2"])
def test_a_cameras_adobe_rgb_photo_without_a_profile_is_read_and_written_as_adobe_rgb(tmp_path, marking):
    """A camera set to Adobe RGB embeds no profile: DCF's "R03" index with ColorSpace "uncalibrated",
    or ColorSpace 2. Its faces had been restored as sRGB and its result labelled sRGB (QA)."""
    from icc_util import ADOBE_RGB, rgb_profile

    exif = Image.Exif()
    exif[0x010F] = "Camera"
    exif_ifd = exif.get_ifd(0x8769)
    if marking == "R03":
        exif_ifd[0xA001] = 0xFFFF
        exif_ifd[0xA005] = {1: "R03"}
    else:
        exif_ifd[0xA001] = 2
    grid = np.stack(np.meshgrid(*[np.linspace(0, 255, 9).round()] * 3, indexing="ij"), axis=-1)
    pixels = grid.reshape(27, 27, 3).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "dsc.jpg", exif=exif.tobytes(), quality=100, subsampling=0)
    photo = read_photo(tmp_path / "dsc.jpg")
    assert photo.icc is not None and b"Adobe RGB (1998)" in photo.icc
    independent = ImageCms.profileToProfile(Image.fromarray(photo.rgb), ImageCms.ImageCmsProfile(io.BytesIO(rgb_profile(ADOBE_RGB))),
                                            ImageCms.createProfile("sRGB"))
    assert np.abs(photo.srgb.astype(int) - np.asarray(independent, dtype=int)).max() <= 1  # Adobe RGB, not sRGB
    with Image.open(export_photo(photo.rgb, None, photo, tmp_path / "out.jpg")) as out:
        assert out.info.get("icc_profile") == photo.icc
        assert out.getexif().get_ifd(0x8769).get(0xA001) == 0xFFFF  # not "sRGB"
    exif_ifd[0xA001] = 1  # an sRGB camera photo stays untagged
    Image.fromarray(pixels).save(tmp_path / "srgb.jpg", exif=exif.tobytes())
    assert read_photo(tmp_path / "srgb.jpg").icc is None


def test_a_photo_records_the_file_it_was_read_from_and_refuses_one_changing_meanwhile(tmp_path, monkeypatch):
    import hashlib

    path = tmp_path / "scan.png"
    Image.fromarray(_pattern()).save(path)
    photo = read_photo(path)
    assert (photo.file_bytes, photo.file_sha256) == (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
    real = photo_io._read_photo

    def still_being_written(*args, **kwargs):
        read = real(*args, **kwargs)
        with open(path, "ab") as more:
            more.write(b"\0" * 10)
        return read

    monkeypatch.setattr(photo_io, "_read_photo", still_being_written)
    with pytest.raises(ImageError, match="the file changed while it was being read"):
        read_photo(path)


def test_a_tiff_of_pixels_pillow_cannot_decode_is_named_a_tiff_with_what_to_do(tmp_path):
    """QA: ImageMagick's 16-bit grey TIFF with alpha was "not an image, or a format faceapp cannot
    read": the user was not told it is a TIFF, nor what would open."""
    from faceapp.core.tiff_writer import write_tiff

    path = tmp_path / "grey_alpha16.tif"
    grey = np.full((16, 24), 30000, np.uint16)
    with open(path, "wb") as handle:
        write_tiff(handle, grey, grey, icc=None, exif=None, dpi=(300, 300))
    with pytest.raises(ImageError, match=r"a TIFF faceapp cannot read: damaged, or with pixels of a kind .* as PNG"):
        read_photo(path)
    (tmp_path / "notes.tif").write_bytes(b"not a picture at all")  # named .tif, not a TIFF
    with pytest.raises(ImageError, match=r"not an image, or a format faceapp cannot read \(it reads JPEG, PNG, TIFF, "
                                         r"WebP, BMP[,A-Z ]*\)\.$"):  # (which it can: copy QA)
        read_photo(tmp_path / "notes.tif")


@pytest.mark.parametrize("profile", ["rgb", "damaged"])
def test_a_cmyk_photo_whose_profile_cannot_be_used_says_so(tmp_path, profile):
    """Code review: a CMYK scan whose embedded profile failed was said to have none ("converted
    without a colour profile"); it says the profile could not be used, and why."""
    from faceapp.core.application import cmyk_note

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    icc = srgb if profile == "rgb" else srgb[:20].replace(b"RGB ", b"CMYK") + b"\x00" * 40
    cmyk = np.zeros((16, 16, 4), dtype=np.uint8)
    cmyk[:, :8] = (0, 255, 255, 0)
    Image.fromarray(cmyk, "CMYK").save(tmp_path / "scan.jpg", quality=100, icc_profile=icc)
    photo = read_photo(tmp_path / "scan.jpg")
    assert photo.cmyk and not photo.cmyk_profiled
    assert photo.rgb[:, 2:6].reshape(-1, 3).mean(0)[0] > 200  # still red: the plain formula
    note = cmyk_note(photo)
    assert "without a colour profile" not in note and "its colour profile cannot be used" in note
    assert ("not for CMYK" in note) == (profile == "rgb") and ("damaged" in note) == (profile == "damaged")


def test_memory_running_out_while_a_photo_is_decoded_is_said_as_out_of_memory(tmp_path, monkeypatch):
    """Memory QA: under a memory limit, a large photo was "not enough memory to open this image" as
    an unreadable photo (JSON kind "unreadable"), with no size and no way out."""
    from faceapp.core.errors import OutOfMemoryError

    path = tmp_path / "scan.png"
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(path)

    def short_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(photo_io, "_decode", short_of_memory)
    with pytest.raises(OutOfMemoryError, match=r"scan.png: not enough memory to open this 40×30 image. Close other"):
        read_photo(path)
