"""The TIFF writer: every depth and layout export writes comes back bit for bit in OpenCV and Pillow,
in strips, as BigTIFF past 4 GB, and with the tags of the EXIF block it is given but the pixels' own."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from faceapp.core import tiff_writer
from faceapp.core.tiff_writer import write_tiff

_LAYOUTS = [(np.uint8, 2, False), (np.uint8, 2, True), (np.uint8, 3, False), (np.uint8, 3, True),
            (np.uint16, 2, False), (np.uint16, 3, False), (np.uint16, 3, True)]


def _picture(dtype, dims: int, with_alpha: bool, shape=(37, 53), seed: int = 0):
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max + 1
    pixels = rng.integers(0, top, shape + ((3,) if dims == 3 else ()), dtype=dtype)
    alpha = rng.integers(0, top, shape, dtype=dtype) if with_alpha else None
    return pixels, alpha


def _opencv_view(pixels, alpha):
    """What OpenCV should read: BGR(A), or grey."""
    colour = pixels if pixels.ndim == 2 else pixels[..., ::-1]
    return colour if alpha is None else np.dstack([colour, alpha])


def _exif(**extra) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Nikon", "Coolscan 5000"  # Make, Model
    exif[0x0131] = "faceapp"  # Software
    exif.get_ifd(0x8769)[0x9003] = "1958:07:01 12:00:00"  # DateTimeOriginal
    for tag, value in extra.items():
        exif[int(tag[1:])] = value
    return exif.tobytes()


@pytest.mark.parametrize(("dtype", "dims", "with_alpha"), _LAYOUTS,
                         ids=[f"{np.dtype(d).itemsize * 8}bit-{'rgb' if n == 3 else 'grey'}{'-alpha' if a else ''}"
                              for d, n, a in _LAYOUTS])
def test_every_layout_comes_back_bit_for_bit(tmp_path, dtype, dims, with_alpha):
    pixels, alpha = _picture(dtype, dims, with_alpha, shape=(301, 407))  # 16-bit RGBA: 980 KB, four strips
    path = tmp_path / "out.tif"
    with open(path, "wb") as handle:
        write_tiff(handle, pixels, alpha, icc=b"\0" * 128, exif=_exif(), dpi=(300, 300))
    back = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if dtype == np.uint8 and alpha is not None:
        back = None  # OpenCV premultiplies 8-bit alpha as it reads (Pillow's own TIFF reads so too)
    if back is not None:
        np.testing.assert_array_equal(back, _opencv_view(pixels, alpha))
    with Image.open(path) as image:
        assert image.info["dpi"] == pytest.approx((300, 300)) and image.info["icc_profile"] == b"\0" * 128
        assert image.getexif()[0x0110] == "Coolscan 5000"
        assert image.getexif().get_ifd(0x8769)[0x9003] == "1958:07:01 12:00:00"
        if dtype == np.uint8:  # (Pillow reads 16-bit RGB in 8, and has no 16-bit grey with alpha)
            expected = pixels if alpha is None else np.dstack([pixels.reshape(pixels.shape[:2] + (-1,)), alpha])
            np.testing.assert_array_equal(np.asarray(image), expected)
        strips = image.tag_v2[273]
        assert len(strips) == -(-pixels.shape[0] // image.tag_v2[278])
        assert len(strips) > 1 or pixels.nbytes < 1 << 18


def test_the_pixels_own_tags_win_over_the_exif_blocks(tmp_path):
    """An EXIF block that still says another file's layout (a source TIFF's size, compression,
    predictor, depth, planes) must not reach the result: it would be unreadable."""
    pixels, _ = _picture(np.uint16, 3, False)
    liar = _exif(t256=5, t257=7, t259=5, t262=6, t277=1, t284=2, t317=3, t339=3)
    path = tmp_path / "out.tif"
    with open(path, "wb") as handle:
        write_tiff(handle, pixels, None, icc=None, exif=liar, dpi=(72, 72))
    np.testing.assert_array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), pixels[..., ::-1])
    with Image.open(path) as image:
        assert image.size == (53, 37) and image.tag_v2[262] == 2
        assert image.tag_v2[259] == 8 and image.tag_v2[317] == 2  # Deflate, horizontal differencing
        assert 339 not in image.tag_v2 and image.getexif()[0x010F] == "Nikon"


def test_a_file_past_4_gb_is_written_as_bigtiff(tmp_path, monkeypatch):
    monkeypatch.setattr(tiff_writer, "_CLASSIC_LIMIT", 1000)  # (a 4 GB test file would take minutes)
    pixels, alpha = _picture(np.uint16, 3, True, shape=(301, 407))  # four strips, offsets of 8 bytes
    path = tmp_path / "big.tif"
    with open(path, "wb") as handle:
        write_tiff(handle, pixels, alpha, icc=None, exif=_exif(), dpi=(600, 600))
    assert path.read_bytes()[:4] == b"II\x2b\x00"
    np.testing.assert_array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), _opencv_view(pixels, alpha))
    with Image.open(path) as image:
        assert image.getexif().get_ifd(0x8769)[0x9003] == "1958:07:01 12:00:00"
        assert image.info["dpi"] == pytest.approx((600, 600))


def test_the_metadata_counts_toward_the_4_gb_too(tmp_path, monkeypatch):
    """QA: pixels just under the limit with a large profile or XMP failed as the file was written."""
    pixels, _ = _picture(np.uint8, 3, False)
    monkeypatch.setattr(tiff_writer, "_CLASSIC_LIMIT", pixels.nbytes + 1000)
    for icc, header in ((None, b"II\x2a\x00"), (b"\0" * 2000, b"II\x2b\x00")):
        buffer = io.BytesIO()
        write_tiff(buffer, pixels, None, icc=icc, exif=None, dpi=(72, 72))
        assert buffer.getvalue()[:4] == header


def test_pixels_are_stored_deflated_in_far_fewer_bytes(tmp_path):
    """An enlarged photo's smooth pixels take a fraction of their raw size, and come back whole."""
    ramp = np.linspace(0, 65535, 640, dtype=np.uint16)
    pixels = np.dstack([ramp[None, :].repeat(480, 0), ramp[::-1, None][:480].repeat(640, 1), np.full((480, 640), 9000, np.uint16)])
    path = tmp_path / "smooth.tif"
    with open(path, "wb") as handle:
        write_tiff(handle, pixels, None, icc=None, exif=None, dpi=(72, 72))
    assert path.stat().st_size < pixels.nbytes / 20
    np.testing.assert_array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), pixels[..., ::-1])


def test_noise_that_deflate_cannot_shrink_counts_toward_the_4_gb(tmp_path, monkeypatch):
    """Whether a file needs BigTIFF is settled before its strips are deflated: noise, which Deflate
    stores with a little overhead, must not take a file whose raw pixels fit past the limit."""
    pixels, alpha = _picture(np.uint8, 3, True, shape=(301, 407))
    monkeypatch.setattr(tiff_writer, "_CLASSIC_LIMIT", pixels.nbytes + alpha.nbytes + 16)
    path = tmp_path / "noise.tif"
    with open(path, "wb") as handle:
        write_tiff(handle, pixels, alpha, icc=None, exif=None, dpi=(72, 72))
    assert path.stat().st_size > tiff_writer._CLASSIC_LIMIT  # (as classic TIFF, its offsets would overflow)
    assert path.read_bytes()[:4] == b"II\x2b\x00"


def test_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="uint8 or uint16"):
        write_tiff(io.BytesIO(), np.zeros((4, 4, 3), np.float32), None, icc=None, exif=None, dpi=(72, 72))
    with pytest.raises(ValueError, match="alpha channel"):
        write_tiff(io.BytesIO(), np.zeros((4, 4, 3), np.uint16), np.zeros((4, 4), np.uint8), icc=None, exif=None,
                   dpi=(72, 72))
