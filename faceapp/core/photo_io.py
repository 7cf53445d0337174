"""Reading photos: any common format and mode in, upright 8-bit RGB (+ alpha) and metadata out.

:func:`read_photo` accepts JPEG (and camera MPO), PNG, WebP, TIFF and BMP. It applies the EXIF
orientation, reduces 16-bit and float images to 8 bits, converts grayscale, palette and CMYK
images to RGB, and keeps the alpha channel (including palette transparency) separately so that it
can be re-attached to the result. A black-and-white photo (one grey channel, or RGB whose channels
are equal: :mod:`faceapp.core.greyscale`) is marked :attr:`Photo.greyscale`, so that its result
stays grey and, from a one-channel file, is written with one channel.

For export, the EXIF block and the XMP packet are kept with their orientation reset to 1 (the
pixels are already upright), and the ICC profile, the resolution (DPI) and a PNG's text chunks
(Title, Author, …) as found; when the profile describes another RGB space than sRGB (Display P3,
Adobe RGB), :attr:`Photo.srgb` holds the pixels converted to sRGB for the models and the screen
(:mod:`faceapp.core.colour`). Images whose header announces more than :data:`MAX_PIXELS` pixels are
refused before any pixel is decoded.
"""

from __future__ import annotations

import errno
import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from faceapp.core import colour
from faceapp.core.errors import ImageError
from faceapp.core.greyscale import is_greyscale
from faceapp.core.jpeg_iptc import IPTC_RESOURCE_ID
from faceapp.core.pathtext import file_problem

#: Largest photo accepted (pixels). 24 MP camera photos pass; headers claiming more are refused
#: as decompression bombs before decoding.
MAX_PIXELS = 120_000_000

#: Pillow format names accepted on input.
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP"})
#: Formats whose several frames are an animation (refused), unlike MPO's and TIFF's extra pictures
#: (a camera's preview, a page's thumbnail), of which the first is the photo.
_ANIMATED_FORMATS = frozenset({"PNG", "WEBP"})

_EXIF_ORIENTATION = 0x0112
_X_RESOLUTION, _Y_RESOLUTION = 0x011A, 0x011B
#: Pillow bands of a one-channel grey image (bilevel, 8-bit, 16/32-bit integer, float), alpha aside.
_GREY_BANDS = frozenset({"1", "L", "I", "F"})
#: The orientation in an XMP packet, as an attribute (tiff:Orientation="6") or an element.
_XMP_ORIENTATION = re.compile(rb"""(:Orientation\s*=\s*["']|:Orientation>)\s*\d+""")
#: PNG text chunks not carried over: the XMP packet (kept as :attr:`Photo.xmp`) and ImageMagick's
#: hex copies of the EXIF and XMP blocks, which would still hold the old orientation.
_PNG_TEXT_DROPPED = frozenset({"xml:com.adobe.xmp", "raw profile type exif", "raw profile type app1",
                               "raw profile type xmp"})


@dataclass(frozen=True, eq=False)
class Photo:
    """A decoded photo, upright.

    rgb: HxWx3 uint8 RGB. alpha: HxW uint8 (255 = opaque) or None when the file has no alpha.
    exif: the EXIF block with orientation reset to 1, or None. icc: the ICC profile, or None;
    ``rgb`` is in its colour space. srgb_pixels: ``rgb`` converted to sRGB when the profile is
    another space, else None (use :attr:`srgb`). format: Pillow's format name ("JPEG", "PNG", …);
    path: where it was read from (None for photos built in memory).

    greyscale: a black-and-white photo (one grey channel, or RGB channels equal within
    :data:`~faceapp.core.greyscale.GREY_TOLERANCE`): its result is made grey. single_channel: the
    file holds one grey channel (L, LA, I;16, …): its result is written so where the format can.
    dpi: the resolution (x, y) in dots per inch, or None. xmp: the XMP packet with orientation
    reset to 1, or None. png_text: a PNG's text chunks (Title, Author, …), or None. grey_icc: a
    one-channel photo's grey ICC profile (Gray Gamma 2.2, Dot Gain 20 %, …), or None: the pixels are
    passed through as they are, and the profile goes back on a one-channel result, whose grey levels
    are in the same space. iptc: a JPEG's IPTC-NAA record (caption, keywords, credits), or None.
    """

    path: Path | None
    rgb: np.ndarray
    alpha: np.ndarray | None = None
    exif: bytes | None = None
    icc: bytes | None = None
    format: str | None = None
    srgb_pixels: np.ndarray | None = None
    greyscale: bool = False
    single_channel: bool = False
    dpi: tuple[float, float] | None = None
    xmp: bytes | None = None
    png_text: dict[str, str] | None = None
    grey_icc: bytes | None = None
    iptc: bytes | None = None

    @property
    def srgb(self) -> np.ndarray:
        """The pixels in sRGB: what the detector and the models get, and what the window shows."""
        return self.rgb if self.srgb_pixels is None else self.srgb_pixels

    def to_srgb(self, rgb: np.ndarray) -> np.ndarray:
        """An image in this photo's colour space (a composite) converted to sRGB, for the screen."""
        return rgb if self.srgb_pixels is None else colour.to_srgb(rgb, self.icc)

    def from_srgb(self, rgb: np.ndarray) -> np.ndarray:
        """An sRGB image (a restored face) converted to this photo's colour space, to paste back."""
        return rgb if self.srgb_pixels is None else colour.from_srgb(rgb, self.icc)

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @classmethod
    def from_array(cls, rgb: np.ndarray, *, alpha: np.ndarray | None = None, greyscale: bool = False) -> Photo:
        """A photo held in memory (tests, the GUI's clipboard): no path, no metadata; ``greyscale``
        as the caller says (see :func:`faceapp.core.greyscale.is_greyscale`)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected HxWx3 uint8 RGB, got {rgb.dtype} {rgb.shape}")
        return cls(path=None, rgb=np.ascontiguousarray(rgb), alpha=alpha, greyscale=greyscale)


@dataclass(frozen=True)
class PhotoHeader:
    """What a photo's header says, read without decoding a pixel: upright size, alpha, format."""

    width: int
    height: int
    alpha: bool
    format: str | None


def probe_photo(path: str | Path) -> PhotoHeader | None:
    """The header of a photo file, or None when it cannot be read (:func:`read_photo` says why)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if _header_orientation(image) in (5, 6, 7, 8):  # a quarter turn
                    width, height = height, width
                alpha = "A" in image.getbands() or "transparency" in image.info
                return PhotoHeader(width, height, alpha, image.format)
    except Exception:  # noqa: BLE001 - any failure is reported by read_photo
        return None


def _header_orientation(image: Image.Image) -> int:
    """The EXIF orientation from what Pillow read with the header (``getexif`` may decode a PNG)."""
    tags = getattr(image, "tag_v2", None)  # TIFF
    if tags is not None:
        return int(tags.get(_EXIF_ORIENTATION, 1))
    raw = image.info.get("exif")
    if not raw:
        return 1
    exif = Image.Exif()
    exif.load(raw)
    return int(exif.get(_EXIF_ORIENTATION, 1))


def read_photo(path: str | Path, *, max_pixels: int = MAX_PIXELS) -> Photo:
    """Read a photo from disk; raise :class:`ImageError` with a user-facing message on failure."""
    path = Path(path)
    problem = file_problem(path)
    if problem is not None:
        raise ImageError(f"{path}: cannot read it: {problem}.")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return _decode(path, image, max_pixels=max_pixels)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(f"{path}: the image is too large to open safely (a decompression bomb?).") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image, or a format faceapp cannot read.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:  # the system's refusal, not the image's fault
            raise ImageError(_os_problem(path, exc)) from exc
        if "truncated" in str(exc).lower():
            raise ImageError(f"{path}: the file is truncated (incomplete download or copy?).") from exc
        raise ImageError(f"{path}: the image is damaged and cannot be read ({exc}).") from exc
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to open this image.") from None


def _decode(path: Path, image: Image.Image, *, max_pixels: int) -> Photo:
    fmt = image.format
    if fmt not in SUPPORTED_FORMATS:
        raise ImageError(f"{path}: {fmt or 'unknown'} images are not supported (use JPEG, PNG, WebP, TIFF or BMP).")
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageError(f"{path}: the image has no pixels.")
    if width * height > max_pixels:
        raise ImageError(
            f"{path}: {width}×{height} pixels is larger than the {max_pixels // 1_000_000} megapixels "
            "faceapp accepts (a decompression bomb?)."
        )
    if fmt in _ANIMATED_FORMATS and getattr(image, "is_animated", False):
        raise ImageError(
            f"{path}: an animated {fmt} ({getattr(image, 'n_frames', 'several')} frames); faceapp restores "
            "still photos. Save the frame you want as a still image first."
        )
    icc = image.info.get("icc_profile") or None
    exif = image.getexif()
    image.load()  # decodes now, so truncated files fail here
    orientation = exif.get(_EXIF_ORIENTATION, 1)
    upright = ImageOps.exif_transpose(image) if orientation != 1 else image
    single_channel = {band for band in upright.getbands() if band not in ("A", "a")} <= _GREY_BANDS
    grey_icc = icc if single_channel and _colour_space(icc) == b"GRAY" else None
    rgb, alpha, icc = _to_rgb8(upright, icc)
    srgb = None if colour.is_srgb(icc) else colour.to_srgb(rgb, icc)
    return Photo(
        path=path, rgb=rgb, alpha=alpha, exif=_exif_bytes(exif), icc=icc, format=fmt, srgb_pixels=srgb,
        greyscale=single_channel or _looks_grey(rgb, alpha), single_channel=single_channel,
        dpi=_dpi(image.info.get("dpi"), quarter_turn=orientation in (5, 6, 7, 8)) if _states_resolution(image, exif) else None,
        xmp=_xmp_upright(image.info.get("xmp")), png_text=_png_text(image) if fmt == "PNG" else None,
        grey_icc=grey_icc, iptc=_iptc(image) if fmt == "JPEG" else None,
    )


def _os_problem(path: Path, exc: OSError) -> str:
    """What the system's refusal to open ``path`` means, for the user."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{path}: cannot read it: permission denied (its permissions do not let you read it)."
    if exc.errno == errno.EISDIR:
        return f"{path}: cannot read it: it is a folder, not a file."
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"{path}: cannot read it: there is no such file (was it moved or deleted?)."
    return f"{path}: cannot read it: {exc.strerror or exc}."


def _states_resolution(image: Image.Image, exif: Image.Exif) -> bool:
    """Whether the file itself gives a resolution: Pillow reports 72 dpi for a JPEG whose JFIF
    header has no unit and whose EXIF has no XResolution, a figure no one wrote."""
    if image.format != "JPEG":
        return True
    return image.info.get("jfif_unit") in (1, 2) or _EXIF_X_RESOLUTION in exif


def _dpi(value: object, *, quarter_turn: bool) -> tuple[float, float] | None:
    """The (x, y) resolution Pillow read, swapped when the picture was turned; None when unusable."""
    try:
        x, y = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y) and x > 0 and y > 0):
        return None
    return (y, x) if quarter_turn else (x, y)


def _xmp_upright(xmp: object) -> bytes | None:
    """The XMP packet with its orientation (if any) set to 1, like the EXIF's; None when there is none."""
    if isinstance(xmp, tuple) and len(xmp) == 1:  # how Pillow may give a TIFF's tag
        xmp = xmp[0]
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    if not isinstance(xmp, bytes) or not xmp.strip(b"\0 \t\r\n"):
        return None
    return _XMP_ORIENTATION.sub(lambda m: m.group(1) + b"1", xmp)


def _png_text(image: Image.Image) -> dict[str, str] | None:
    """A PNG's text chunks (tEXt, zTXt, iTXt; iTXt keep their language), less those :data:`_PNG_TEXT_DROPPED`."""
    text = {key: value for key, value in getattr(image, "text", {}).items()
            if isinstance(value, str) and key.lower() not in _PNG_TEXT_DROPPED}
    return text or None


def _looks_grey(rgb: np.ndarray, alpha: np.ndarray | None) -> bool:
    """Whether the visible pixels are grey: fully transparent ones often keep leftover colour."""
    if alpha is None:
        return is_greyscale(rgb)
    visible = rgb[alpha > 0]
    return is_greyscale(visible.reshape(-1, 1, 3))


_EXIF_X_RESOLUTION = 0x011A


def _exif_bytes(exif: Image.Exif) -> bytes | None:
    """The EXIF block for the upright pixels: orientation 1, the x and y resolutions swapped by a quarter turn."""
    if not len(exif):
        return None
    if exif.get(_EXIF_ORIENTATION, 1) in (5, 6, 7, 8) and _X_RESOLUTION in exif and _Y_RESOLUTION in exif:
        exif[_X_RESOLUTION], exif[_Y_RESOLUTION] = exif[_Y_RESOLUTION], exif[_X_RESOLUTION]
    if _EXIF_ORIENTATION in exif:
        exif[_EXIF_ORIENTATION] = 1
    try:
        return exif.tobytes()
    except Exception:  # a malformed EXIF block is dropped rather than failing the photo
        return None


def _iptc(image: Image.Image) -> bytes | None:
    """The IPTC-NAA record of a JPEG's Photoshop block (resource 0x0404), or None."""
    record = (image.info.get("photoshop") or {}).get(IPTC_RESOURCE_ID)
    return bytes(record) if isinstance(record, bytes | bytearray) and record else None


def _colour_space(icc: bytes | None) -> bytes | None:
    """The colour space signature of an ICC profile (header bytes 16–19: b"RGB ", b"GRAY", …), or None."""
    return icc[16:20] if icc is not None and len(icc) >= 20 else None


def _rgb_profile(icc: bytes | None) -> bytes | None:
    """``icc`` if it describes an RGB colour space, else None.

    A grey (or other) profile must not be attached to the RGB pixels the pipeline produces.
    """
    return icc if _colour_space(icc) == b"RGB " else None


def _to_rgb8(image: Image.Image, icc: bytes | None) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    """Pixels of any Pillow mode as (HxWx3 uint8 RGB, HxW uint8 alpha or None, ICC to keep)."""
    mode = image.mode
    if mode != "CMYK":
        icc = _rgb_profile(icc)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        gray = _high_depth_to_uint8(np.asarray(image))
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2)), None, icc
    if mode == "CMYK":
        return _cmyk_to_rgb(image, icc), None, None
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"))
        return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3]), icc
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))), None, icc


def _high_depth_to_uint8(array: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit integer or float grey to 8 bits (rounded)."""
    if array.dtype.kind == "f":
        top = 1.0 if float(np.nanmax(array)) <= 1.0 else 255.0
        return np.clip(np.nan_to_num(array) * (255.0 / top), 0, 255).round().astype(np.uint8)
    array = array.astype(np.uint32, copy=False) if array.dtype.kind == "u" else np.clip(array, 0, None)
    top = 255 if int(array.max(initial=0)) <= 255 else 65535
    return ((array.astype(np.float32) * (255.0 / top)) + 0.5).astype(np.uint8)


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> np.ndarray:
    """CMYK → sRGB through its ICC profile when it has one, else Pillow's plain conversion."""
    if icc:
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return np.ascontiguousarray(np.asarray(converted))
        except Exception:  # a broken profile falls back to the plain conversion
            pass
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))
