"""Reading photos: any common format and mode in, upright 8-bit RGB (+ alpha) and metadata out.

:func:`read_photo` accepts JPEG (and camera MPO), PNG, WebP, TIFF, BMP and AVIF (HEIC where pi-heif
is installed). It applies the EXIF
orientation, reduces 16-bit and float images to 8 bits (a 16-bit photo's result gets its 16 back
at export: :mod:`faceapp.core.sixteen_bit`), converts grayscale, palette and CMYK
images to RGB, and keeps the alpha channel (including palette transparency) separately so that it
can be re-attached to the result. A black-and-white photo (one grey channel, or RGB whose channels
are equal: :mod:`faceapp.core.greyscale`) is marked :attr:`Photo.greyscale`, so that its result
stays grey and, from a one-channel file, is written with one channel.

For export, the EXIF block and the XMP packet are kept with their orientation reset to 1 (the
pixels are already upright), and the ICC profile, the resolution (DPI) and a PNG's text chunks
(Title, Author, …) as found; when the profile describes another RGB space than sRGB (Display P3,
Adobe RGB), :attr:`Photo.srgb` holds the pixels converted to sRGB for the models and the screen
(:mod:`faceapp.core.colour`). Images whose header announces more than :data:`MAX_PIXELS` pixels (or
the limit ``FACEAPP_MAX_MEGAPIXELS`` sets: :func:`max_pixels_accepted`) are refused before any pixel
is decoded, with their size and the limit.

A TIFF's EXIF is its first IFD, which also describes how that file stores its pixels (bits per
sample, compression, strip offsets, sample format, …): only its descriptive tags are kept
(:data:`TIFF_DESCRIPTIVE_TAGS`: camera, dates, artist, copyright, description, the EXIF and GPS
sub-IFDs, …), and the image-structure tags of TIFF 6.0 (:data:`STRUCTURE_TAGS`) are dropped from
any photo's EXIF, so a result never claims a layout it does not have. A multi-page TIFF is
restored from its first page; :attr:`Photo.pages` says how many it has (the front-ends say so).

Only regular files are opened: a FIFO, a device or a socket named as a photo is refused at once
(opening a FIFO would wait for a writer forever). HEIC/HEIF photos are read through pi-heif
(:data:`READS_HEIF`); where it or Pillow's AVIF decoder is missing, such files are recognised by
their signature and the message says how to convert them.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import logging
import math
import mmap
import os
import re
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, PngImagePlugin, TiffImagePlugin, UnidentifiedImageError, features

from faceapp.core import colour, exif_types, icc_profiles
from faceapp.core import xmp as xmp_packets
from faceapp.core.errors import ImageError, OutOfMemoryError, PhotoTooLargeError
from faceapp.core.file_digest import file_sha256
from faceapp.core.greyscale import is_greyscale
from faceapp.core.jpeg_iptc import IPTC_RESOURCE_ID, iptc_from_resources, trimmed
from faceapp.core.maker_notes import keep_maker_note
from faceapp.core.pathtext import file_problem

log = logging.getLogger(__name__)

exif_types.register()  # every EXIF block faceapp writes (read here, re-written by export) typed as the standard says

#: Largest photo accepted (pixels), unless :data:`MAX_MEGAPIXELS_ENV` says otherwise. 24 MP camera
#: photos pass; headers claiming more are refused as decompression bombs before decoding.
MAX_PIXELS = 120_000_000
#: The environment variable that sets another limit, in megapixels: an archive's 1,200 dpi scans
#: of large prints run past 120 MP. The memory check (:mod:`faceapp.core.memory`) still applies.
MAX_MEGAPIXELS_ENV = "FACEAPP_MAX_MEGAPIXELS"


def max_pixels_accepted() -> int:
    """The largest photo read (pixels): :data:`MAX_MEGAPIXELS_ENV` where it is set to a number of
    megapixels above 0 (a value that is not is logged and ignored), else :data:`MAX_PIXELS`."""
    value = os.environ.get(MAX_MEGAPIXELS_ENV, "").strip()
    if not value:
        return MAX_PIXELS
    try:
        megapixels = float(value)
    except ValueError:
        megapixels = math.nan
    if not (math.isfinite(megapixels) and 0 < megapixels <= _MAX_MEGAPIXELS_SETTING):
        if value not in _SAID_MAX_MEGAPIXELS:  # once (sysadmin QA: three times a photo, in every cron mail)
            _SAID_MAX_MEGAPIXELS.add(value)
            log.warning("%s=%s is not a number of megapixels above 0 and at most %d: photos up to %d MP are read",
                        MAX_MEGAPIXELS_ENV, value, _MAX_MEGAPIXELS_SETTING, MAX_PIXELS // 1_000_000)
        return MAX_PIXELS
    return max(1, int(megapixels * 1_000_000))


#: The largest :data:`MAX_MEGAPIXELS_ENV` taken (a million megapixels: no scan is near it).
_MAX_MEGAPIXELS_SETTING = 1_000_000
_SAID_MAX_MEGAPIXELS: set[str] = set()  # the values of it said to be unusable, once each


def _let_pillow_open(max_pixels: int) -> None:
    """Raise Pillow's own decompression-bomb limit where faceapp's is higher: Pillow refuses, inside
    ``Image.open``, an image over twice its limit (179 MP), header and all (review: with the limit
    set to 300 MP, such a scan's header could not be read, and its memory went unchecked)."""
    if max_pixels > 2 * (Image.MAX_IMAGE_PIXELS or 0):
        Image.MAX_IMAGE_PIXELS = max_pixels

#: Pillow format names accepted on input.
#: AVIF where this Pillow decodes it (its wheels carry libavif from Pillow 11.3; a phone's or a web
#: page's photo): read like the others, its result written as PNG (:func:`~faceapp.core.export.default_output_path`).
READS_AVIF = features.check("avif")
#: HEIC/HEIF (an iPhone's photos) through pi-heif, libheif's decoder as a Pillow plugin: it applies the
#: container's rotation and sets the EXIF orientation to 1, so a photo is turned once. Without it (a
#: platform its wheels do not cover) such a photo is refused with the way to convert it.
try:
    import pi_heif
except ImportError:  # pragma: no cover - a dependency; only a platform without its wheel lacks it
    pi_heif = None
READS_HEIF = pi_heif is not None
if pi_heif is not None:
    pi_heif.register_heif_opener()
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP", *(["AVIF"] if READS_AVIF else []),
                               *(["HEIF"] if READS_HEIF else [])})
#: :data:`SUPPORTED_FORMATS` as people name them (MPO, a camera's JPEG with a second picture, is a JPEG).
_FORMAT_WORDS = {"JPEG": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "WEBP": "WebP", "BMP": "BMP", "AVIF": "AVIF",
                 "HEIF": "HEIC"}


def readable_formats() -> str:
    """The image formats faceapp reads here, in words (copy QA: "a format faceapp cannot read"
    said not which it can)."""
    return ", ".join(words for name, words in _FORMAT_WORDS.items() if name in SUPPORTED_FORMATS)
#: Formats whose several frames are an animation (refused), unlike MPO's and TIFF's extra pictures
#: (a camera's preview, a page's thumbnail), of which the first is the photo.
_ANIMATED_FORMATS = frozenset({"PNG", "WEBP", "AVIF"})

_EXIF_ORIENTATION = 0x0112
#: How each EXIF orientation other than 1 turns the stored pixels upright (as ImageOps.exif_transpose).
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_X_RESOLUTION, _Y_RESOLUTION = 0x011A, 0x011B
_RESOLUTION_UNIT = 0x0128
_NO_UNIT = 1  # ResolutionUnit "none": the resolution is an aspect ratio
_INCHES = 2  # EXIF's and TIFF's ResolutionUnit when the tag is absent
_NEW_SUBFILE_TYPE = 0x00FE
_TIFF_WIDTH, _TIFF_HEIGHT = 0x0100, 0x0101  # ImageWidth, ImageLength: the stored picture's
_BITS_PER_SAMPLE = 0x0102
#: NewSubfileType bits of a TIFF directory that is not a page of its own: a reduced-resolution
#: copy (a thumbnail) or a transparency mask of another directory.
_NOT_A_PAGE = 0x1 | 0x4

#: The image-structure tags of TIFF 6.0 (baseline and extensions, sections 8 and 13–22) and of
#: its later extensions: how a file stores its pixels, true only of the file they were read from.
#: They are never carried into a result's EXIF, where Pillow would write them back (a TIFF result
#: saying SampleFormat 3, float, over 8-bit data cannot be read).
STRUCTURE_TAGS = frozenset({
    0x00FE, 0x00FF,  # NewSubfileType, SubfileType
    0x0100, 0x0101, 0x0102, 0x0103,  # ImageWidth, ImageLength, BitsPerSample, Compression
    0x0106, 0x0107, 0x0108, 0x0109, 0x010A,  # PhotometricInterpretation, Threshholding, CellWidth, CellLength, FillOrder
    0x0111, 0x0115, 0x0116, 0x0117,  # StripOffsets, SamplesPerPixel, RowsPerStrip, StripByteCounts
    0x0118, 0x0119, 0x011C,  # MinSampleValue, MaxSampleValue, PlanarConfiguration
    0x0120, 0x0121, 0x0122, 0x0123, 0x0124, 0x0125,  # FreeOffsets, FreeByteCounts, GrayResponse…, T4/T6Options
    0x0129, 0x012D, 0x013D, 0x013E, 0x013F,  # PageNumber, TransferFunction, Predictor, WhitePoint, PrimaryChromaticities
    0x0140, 0x0141, 0x0142, 0x0143, 0x0144, 0x0145,  # ColorMap, HalftoneHints, TileWidth/Length/Offsets/ByteCounts
    0x0146, 0x0147, 0x014A, 0x014C, 0x014D, 0x014E,  # BadFaxLines, CleanFaxData, SubIFDs, InkSet, InkNames, NumberOfInks
    0x0150, 0x0151, 0x0152, 0x0153, 0x0154, 0x0155, 0x0156, 0x0157,  # DotRange, …, ExtraSamples, SampleFormat, …, TransferRange
    0x015B, 0x0200, 0x0201, 0x0202, 0x0203, 0x0205, 0x0206, 0x0207, 0x0208, 0x0209,  # JPEGTables, old-style JPEG
    0x0211, 0x0212, 0x0213, 0x0214,  # YCbCrCoefficients, YCbCrSubSampling, YCbCrPositioning, ReferenceBlackWhite
    0x80E3, 0x80E4, 0x80E5, 0x80E6,  # SGI Matteing, DataType, ImageDepth, TileDepth
})

#: The tags of a TIFF's first IFD that describe the photo rather than the file, and so are kept
#: as its EXIF: what a camera's or an editor's EXIF holds in its IFD0 (TIFF 6.0's descriptive
#: tags, EXIF 2.3's IFD0 and the Windows ones), and the pointers to the EXIF and GPS sub-IFDs.
TIFF_DESCRIPTIVE_TAGS = frozenset({
    0x010D, 0x010E, 0x010F, 0x0110,  # DocumentName, ImageDescription, Make, Model
    0x0112, 0x011A, 0x011B, 0x011D, 0x0128,  # Orientation, X/YResolution, PageName, ResolutionUnit
    0x0131, 0x0132, 0x013B, 0x013C,  # Software, DateTime, Artist, HostComputer
    0x4746, 0x4749,  # Rating, RatingPercent
    0x8298, 0x8769, 0x8825,  # Copyright, the EXIF sub-IFD, the GPS sub-IFD
    0x9003, 0x9004, 0x9010, 0x9011, 0x9012,  # DateTimeOriginal, DateTimeDigitized, OffsetTime…
    0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F,  # XPTitle, XPComment, XPAuthor, XPKeywords, XPSubject
    0xA420, 0xA430, 0xA431, 0xA432, 0xA433, 0xA434, 0xA435,  # ImageUniqueID, CameraOwnerName, BodySerialNumber, lens
})

#: ISO base media files (HEIF, AVIF) start with a box of type ``ftyp`` at offset 4 whose brand says
#: what they hold.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                          b"mif1", b"mif2", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
#: Pillow bands of a one-channel grey image (bilevel, 8-bit, 16/32-bit integer, float), alpha aside.
_GREY_BANDS = frozenset({"1", "L", "I", "F"})
#: The orientation in an XMP packet, as an attribute (tiff:Orientation="6") or an element.
_XMP_ORIENTATION = re.compile(rb"""(:Orientation\s*=\s*["']|:Orientation>)\s*\d+""")
#: PNG text chunks not carried over: the XMP packet (kept as :attr:`Photo.xmp`) and ImageMagick's
#: hex copies of the EXIF and XMP blocks, which would still hold the old orientation, and of the
#: Photoshop resources, whose thumbnail and resolution are the photo's (its IPTC record is read).
_PNG_TEXT_DROPPED = frozenset({"xml:com.adobe.xmp", "raw profile type exif", "raw profile type app1",
                               "raw profile type xmp", "raw profile type 8bim"})  # (8BIM: a stale thumbnail, resolution)


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
    are in the same space. iptc: a JPEG's or a TIFF's IPTC-NAA record (caption, keywords, credits),
    or None. comment: a JPEG's comment (its COM segment: a caption some scanners and archives
    write), or None. cmyk: the file's pixels were CMYK (a print scan), converted to sRGB here through
    its ICC profile when it had one (``cmyk_profiled``), else by Pillow's plain formula; a profile
    that could not be used (damaged, or not a CMYK one) is said in ``cmyk_profile_problem``.
    pages: how many pages the file holds (a multi-page TIFF; thumbnails and masks not counted):
    only the first is read, so a front-end can say that the others are left out (1 for every
    other file). bits: the bits per channel of the file's pixels (16 for a 48-bit scan, 32 for a
    float or 32-bit integer image; 8 for every other file, and for a 16-bit grey one whose values
    stay within 0…255): the pixels here have 8 (a 16-bit photo's result gets its 16 back at export:
    :mod:`faceapp.core.sixteen_bit`). orientation: the file's EXIF orientation (1…8), which made
    the pixels upright (a TIFF's is applied by Pillow as it decodes). webp_lossless: a WebP whose
    picture is compressed without loss (a VP8L bitstream): its WebP result is written lossless too.
    png_colour: a PNG's colour chunks other than its ICC profile (gAMA, cHRM, sRGB: chunk name →
    payload), or None: a PNG result carries them, so a viewer shows its pixels as it showed the photo's.
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
    comment: bytes | None = None
    cmyk: bool = False
    cmyk_profiled: bool = False
    cmyk_profile_problem: str | None = None
    #: the file's pixels were a palette of at most 256 colours (an indexed PNG, BMP or TIFF):
    #: its result holds the restored faces' many colours, in full colour
    palette: bool = False
    pages: int = 1
    bits: int = 8
    orientation: int = 1
    webp_lossless: bool = False
    png_colour: dict[bytes, bytes] | None = None
    #: the quality a JPEG was saved at (1–100), estimated from its brightness quantisation table
    #: (the IJG scaling of the standard table); None for other files
    jpeg_quality: int | None = None
    #: the file's size and SHA-256 as it was read (None for a photo without a file): what a result's
    #: provenance names, though the file be replaced while the photo is restored (QA: a sync did)
    file_bytes: int | None = None
    file_sha256: str | None = None
    #: the file's (size, modification time in ns, inode) as it was read: :func:`changed_since_read`
    file_state: tuple[int, int, int] | None = None

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
    """What a photo's header says, read without decoding a pixel: upright size, alpha, format,
    bits per channel (as :attr:`Photo.bits`, from the header alone)."""

    width: int
    height: int
    alpha: bool
    format: str | None
    bits: int = 8


def probe_photo(path: str | Path) -> PhotoHeader | None:
    """The header of a photo file, or None when it cannot be read (:func:`read_photo` says why).

    A path that is not a regular file (a FIFO, a device, a folder, …) is not opened: None at once
    (:func:`read_photo` then names what it is)."""
    if file_problem(path) is not None:
        return None
    _let_pillow_open(max_pixels_accepted())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if _header_orientation(image) in (5, 6, 7, 8):  # a quarter turn
                    width, height = height, width
                alpha = "A" in image.getbands() or "transparency" in image.info
                return PhotoHeader(width, height, alpha, image.format, _bits_per_channel(image))
    except Exception:  # noqa: BLE001 - any failure is reported by read_photo
        return None


#: What Pillow raises for an EXIF block it cannot parse (a photo is read without it).
_EXIF_UNPARSED = (SyntaxError, ValueError, EOFError, struct.error)


def _orientation(exif: Image.Exif) -> int:
    """The EXIF orientation, 1 (upright) where it is none of the eight."""
    orientation = exif.get(_EXIF_ORIENTATION, 1)
    return orientation if orientation in range(1, 9) else 1


def _header_orientation(image: Image.Image) -> int:
    """The EXIF orientation from what Pillow read with the header (``getexif`` may decode a PNG)."""
    tags = getattr(image, "tag_v2", None)  # TIFF
    if tags is not None:
        return int(tags.get(_EXIF_ORIENTATION, 1))
    raw = image.info.get("exif")
    if not raw:
        return 1
    exif = Image.Exif()
    try:
        exif.load(raw)
    except _EXIF_UNPARSED:  # (as read_photo: an EXIF it cannot parse is left out, the photo read; sceptic
        return 1            # QA: a photo without a suffix was "not a photo")
    return _orientation(exif)


def read_photo(path: str | Path, *, max_pixels: int | None = None) -> Photo:
    """Read a photo from disk; raise :class:`ImageError` with a user-facing message on failure.
    The photo records the file's size and SHA-256 as read; a file that changes while it is read (a
    copy or a sync still writing it) is refused. ``max_pixels``: the largest accepted (None:
    :func:`max_pixels_accepted`)."""
    path = Path(path)
    max_pixels = max_pixels_accepted() if max_pixels is None else max_pixels
    _let_pillow_open(max_pixels)
    problem = file_problem(path)
    if problem is not None:
        raise ImageError(f"{path}: cannot read it: {problem}.")
    before = _file_state(path)
    if before[0] == 0:
        raise ImageError(f"{path}: the file is empty.")
    _reading.path, _reading.said = path, set()  # (whose Pillow's warnings are: quiet_pillow_warnings)
    try:
        photo = _read_photo(path, max_pixels=max_pixels)  # (refusals first: a file too large is not hashed; review)
    finally:
        _reading.path = _reading.said = None
    digest = _file_sha256(path)
    if _file_state(path) != before:
        raise ImageError(f"{path}: the file changed while it was being read (a copy or sync still writing it?): "
                         "open it again once it is complete.")
    return dataclasses.replace(photo, file_bytes=before[0], file_sha256=digest, file_state=before)


def changed_since_read(photo: Photo) -> bool:
    """Whether ``photo``'s file is another now than when it was read (written over, replaced by a
    sync); False for a photo without a file, and for a file gone or that cannot be looked at (what
    opening it again would say)."""
    if photo.path is None or photo.file_state is None:
        return False
    try:
        return _file_state(photo.path) != photo.file_state
    except ImageError:
        return False


def _file_state(path: Path) -> tuple[int, int, int]:
    """(size, modification time in ns, inode) of ``path``: what a change of the file changes."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ImageError(_os_problem(path, exc)) from exc
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def _tiff_signature(path: Path) -> bool:
    """Whether the file at ``path`` begins as a TIFF or BigTIFF does (Pillow's own list of their
    signatures; False when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4) in TiffImagePlugin.PREFIXES
    except OSError:
        return False


def _file_sha256(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError as exc:
        raise ImageError(_os_problem(path, exc)) from exc


def _read_photo(path: Path, *, max_pixels: int) -> Photo:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if not _turned_raw_tiff(image):
                    return _decode(path, image, max_pixels=max_pixels)
            with _libtiff_decoding(), Image.open(path) as image:
                return _decode(path, image, max_pixels=max_pixels)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        size = _header_size(path)
        if size is not None:
            raise PhotoTooLargeError(_too_large(path, *size, max_pixels=max_pixels)) from None
        raise PhotoTooLargeError(f"{path}: the image is too large: larger than the {_megapixels(max_pixels)} "
                                 f"megapixels faceapp accepts (a decompression bomb? A real scan can be read with "
                                 f"{MAX_MEGAPIXELS_ENV} set higher, memory allowing).") from None
    except UnidentifiedImageError:
        kind = _heif_kind(path)
        if (kind == "AVIF" and READS_AVIF) or (kind == "HEIC/HEIF" and READS_HEIF):  # read, yet not this one
            raise ImageError(f"{path}: the {kind} image is damaged and cannot be read.") from None
        if kind is not None:
            raise ImageError(_heif_message(path, kind)) from None
        if _tiff_signature(path):  # (QA: ImageMagick's 16-bit grey TIFF with alpha was "not an image")
            raise ImageError(f"{path}: a TIFF faceapp cannot read: damaged, or with pixels of a kind it does not read "
                             "(such as 16-bit grey with transparency). If it opens elsewhere, save it again as an 8- "
                             "or 16-bit RGB TIFF, or as PNG.") from None
        raise ImageError(f"{path}: not an image, or a format faceapp cannot read (it reads {readable_formats()}).") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:  # the system's refusal, not the image's fault
            raise ImageError(_os_problem(path, exc)) from exc
        if "truncated" in str(exc).lower():
            data = _jpeg_without_its_end_marker(path)
            if data is None:
                raise ImageError(f"{path}: the file is truncated (incomplete download or copy?).") from exc
        elif "MAX_TEXT_CHUNK" in str(exc):  # (security QA: "damaged", in Pillow's words)
            raise ImageError(f"{path}: a compressed text of it (a comment or other metadata) unpacks to more than "
                             f"faceapp reads, {PngImagePlugin.MAX_TEXT_CHUNK // 2**20} MB at most: save it again without "
                             "that text (its pixels may well be fine).") from exc
        elif "MAX_TEXT_MEMORY" in str(exc):  # (its texts together: review, said as one text's limit)
            raise ImageError(f"{path}: its texts (comments or other metadata) hold more than faceapp reads, "
                             f"{PngImagePlugin.MAX_TEXT_MEMORY // 2**20} MB in all: save it again without them (its "
                             "pixels may well be fine).") from exc
        else:
            raise ImageError(f"{path}: the image is damaged and cannot be read ({exc}).") from exc
    except MemoryError:
        raise _no_memory_to_open(path) from None
    # every pixel there, only the end marker missing: read as it is meant (outside the handler above:
    # a failure of this read is said as any other's; review)
    log.info("%s: the JPEG lacks its end marker (its pixels are all there): read as if it had it", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data + _JPEG_END)) as image:
                return _decode(path, image, max_pixels=max_pixels)
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{path}: the image is damaged and cannot be read ({exc}).") from exc
    except MemoryError:
        raise _no_memory_to_open(path) from None



_JPEG_END = b"\xff\xd9"  # the EOI marker that ends a JPEG


def _jpeg_without_its_end_marker(path: Path) -> bytes | None:
    """The bytes of the JPEG ``path`` when all its pixels are there and only its end marker is
    missing (old cameras and programs leave it out, and viewers show such a file: format QA), else
    None (a file cut inside its pixels, a progressive JPEG, whose scans may end where it was cut, or
    not a JPEG).

    Told apart by decoding it twice, ended at once and ended after filler bytes: complete pixel data
    ignores the filler, data cut short decodes the filler as pixels and differs."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(b"\xff\xd8") or data.endswith(_JPEG_END):
        return None
    pictures = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            for ending in (_JPEG_END, b"\x55" * 4096 + _JPEG_END):  # (no 0xFF in the filler: no marker)
                with Image.open(io.BytesIO(data + ending)) as image:
                    # (a progressive one cut between two of its scans ignores the filler too: review)
                    if image.format != "JPEG" or image.info.get("progressive") or image.info.get("progression"):
                        return None
                    image.load()
                    pictures.append(np.asarray(image))
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        return None
    return data if np.array_equal(pictures[0], pictures[1]) else None


#: The photo this thread is reading, and the Pillow warnings said of it (:func:`quiet_pillow_warnings`).
_reading = threading.local()


def quiet_pillow_warnings() -> None:
    """Pillow's warnings (its UserWarnings: "Corrupt EXIF data…") go to faceapp's log, not to the
    terminal as Python's raw lines (QA: "PIL/TiffImagePlugin.py:982: UserWarning: Corrupt EXIF
    data…", twice): while a photo is read, once each, in faceapp's words, which a front-end shows
    (the CLI as notes); later reads of the same file (its header, its metadata for a result) only
    in the log file. Installed once, by a front-end as it starts (a process-wide hook: each thread's
    photo is its own)."""
    warnings.filterwarnings("always", category=UserWarning, module=r"PIL\.")
    shown = warnings.showwarning
    if getattr(shown, "quiets_pillow", False):
        return

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 (warnings' signature)
        if issubclass(category, UserWarning) and f"{os.sep}PIL{os.sep}" in str(filename):
            _say_pillow_warning(" ".join(str(message).split()))
        else:
            shown(message, category, filename, lineno, file, line)

    show.quiets_pillow = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def _say_pillow_warning(text: str) -> None:
    path, said = getattr(_reading, "path", None), getattr(_reading, "said", None)
    if path is None or said is None or text in said:
        log.info("Pillow: %s", text)
        return
    said.add(text)
    if "exif" in text.lower():
        log.warning("%s: its EXIF metadata is damaged (%s): what cannot be read of it is left out of the result",
                    path, text.rstrip("."))
    else:
        log.warning("%s: %s", path, text)


def _turned_raw_tiff(image: Image.Image) -> bool:
    """Whether ``image`` is an uncompressed TIFF that its Orientation tag turns a quarter (5–8):
    Pillow 13's own decoder (not libtiff's) scrambles such one-channel images as it turns them
    (8- and 16-bit grey, measured; RGB came out right), so those are read with libtiff's."""
    return (image.format == "TIFF" and not getattr(image, "use_load_libtiff", True)
            and image.tag_v2.get(_EXIF_ORIENTATION) in (5, 6, 7, 8))


_LIBTIFF_SWITCH = threading.Lock()


@contextmanager
def _libtiff_decoding() -> Iterator[None]:
    """TIFFs opened (and their pages sought) within use libtiff's decoder: Pillow chooses it when a
    TIFF's directory is read, by its module-wide READ_LIBTIFF. Another thread's TIFF read meanwhile
    may use it too: it decodes every TIFF Pillow reads, only with the file's bytes read whole."""
    with _LIBTIFF_SWITCH:
        before, TiffImagePlugin.READ_LIBTIFF = TiffImagePlugin.READ_LIBTIFF, True
        try:
            yield
        finally:
            TiffImagePlugin.READ_LIBTIFF = before


def check_image_size(name: str, width: int, height: int) -> None:
    """Raise :class:`ImageError` where an image of ``width``×``height`` pixels is over what faceapp
    reads (:func:`max_pixels_accepted`): for an image held in memory (pasted), checked before it is
    copied or written (drag-and-drop QA: 130 MP pasted was written to disk, then refused)."""
    if width * height > (limit := max_pixels_accepted()):
        raise ImageError(_too_large(name, width, height, max_pixels=limit))


def _no_memory_to_open(path: Path) -> OutOfMemoryError:
    """The memory ran out while ``path`` was decoded: said as that, not as a photo that cannot be read
    (memory QA: its JSON kind was "unreadable", and a script took the photo for a broken one)."""
    size = _header_size(path)
    pixels = f"this {size[0]}×{size[1]} image" if size is not None else "this image"
    return OutOfMemoryError(f"{path}: not enough memory to open {pixels}. Close other programs, and try again.")


def _too_large(path: Path | str, width: int, height: int, *, max_pixels: int) -> str:
    return (f"{path}: the image is too large: {width}×{height} pixels is larger than the "
            f"{_megapixels(max_pixels)} megapixels faceapp accepts (a decompression bomb? A real scan can be read "
            f"with {MAX_MEGAPIXELS_ENV} set higher, memory allowing).")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}"


def _header_size(path: Path) -> tuple[int, int] | None:
    """The size a photo's header announces, read by its format's plugin without Pillow's
    decompression-bomb check (which refuses huge headers inside ``Image.open``, size unsaid);
    None when no supported format's plugin reads it."""
    try:
        Image.init()
        with open(path, "rb") as handle:
            prefix = handle.read(16)
            for fmt in SUPPORTED_FORMATS:
                factory, accept = Image.OPEN.get(fmt, (None, None))
                if factory is None or (accept is not None and not accept(prefix)):
                    continue
                handle.seek(0)
                try:
                    image = factory(handle, str(path))
                except Exception:  # noqa: BLE001 - not this format: try the next
                    continue
                width, height = image.size
                return int(width), int(height)
    except Exception:  # noqa: BLE001 - the caller falls back to a message without the size
        return None
    return None


def _heif_kind(path: Path) -> str | None:
    """"HEIC/HEIF" or "AVIF" when the file's signature (an ``ftyp`` box at offset 4) says so, else None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return None
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _AVIF_BRANDS:
        return "AVIF"
    return "HEIC/HEIF" if brand in _HEIF_BRANDS else None


def _heif_message(path: Path, kind: str) -> str:
    example = "avifdec photo.avif photo.png` (libavif)" if kind == "AVIF" else "heif-convert photo.heic photo.jpg` (libheif)"
    article = "an" if kind == "AVIF" else "a"
    return (f"{path}: this is {article} {kind} image, which faceapp cannot read on this system ({kind} is not "
            "supported here). Convert it to JPEG or PNG first: export it as JPEG from Photos or Preview, or "
            f"run e.g. `{example} or `magick {path.name} photo.jpg` (ImageMagick).")


def _tiff_pages(image: Image.Image) -> int:
    """How many pages a TIFF holds: its directories less thumbnails and masks; the image is left
    on its first page (a scanner may write the thumbnail first: QA, the thumbnail was restored),
    or on its first directory when every one is marked a thumbnail or mask."""
    frames = getattr(image, "n_frames", 1)
    if frames <= 1:
        return 1
    pages, first = 0, None
    try:
        for frame in range(frames):
            image.seek(frame)
            if not int(getattr(image, "tag_v2", {}).get(_NEW_SUBFILE_TYPE, 0) or 0) & _NOT_A_PAGE:
                pages += 1
                first = frame if first is None else first
    except (OSError, EOFError, ValueError, TypeError):  # a damaged later directory: the pages counted so far
        pass
    image.seek(first or 0)
    return max(1, pages)


def _decode(path: Path, image: Image.Image, *, max_pixels: int) -> Photo:
    fmt = image.format
    if fmt not in SUPPORTED_FORMATS:
        kind = "AVIF" if fmt == "AVIF" else "HEIC/HEIF" if fmt == "HEIF" else _heif_kind(path)  # (AVIF: Pillow without it)
        if kind is not None:
            raise ImageError(_heif_message(path, kind))
        names = ["JPEG", "PNG", "WebP", "TIFF", "BMP", *(["AVIF"] if READS_AVIF else []), *(["HEIC"] if READS_HEIF else [])]
        readable = ", ".join(names[:-1]) + " or " + names[-1]
        raise ImageError(f"{path}: {fmt or 'unknown'} images are not supported (use {readable}).")
    pages = _tiff_pages(image) if fmt == "TIFF" else 1  # (on its first page: the size is that page's)
    width, height = image.size
    stored_size = _stored_size(image)
    if width <= 0 or height <= 0:
        raise ImageError(f"{path}: the image has no pixels.")
    if width * height > max_pixels:
        raise PhotoTooLargeError(_too_large(path, width, height, max_pixels=max_pixels))
    if fmt in _ANIMATED_FORMATS and getattr(image, "is_animated", False):
        raise ImageError(
            f"{path}: an animated {_FORMAT_WORDS.get(fmt, fmt)} ({getattr(image, 'n_frames', 'several')} frames); faceapp restores "
            "still photos. Save the frame you want as a still image first."
        )
    if pages > 1:
        log.info("%s: a TIFF of %d pages: only the first is restored", path, pages)  # the front-ends say so
    bits = _bits_per_channel(image)  # before a PNG's EXIF loads it (Pillow reads 16-bit RGB as 8-bit)
    grey_with_alpha_16 = _png_raw_mode(image).startswith("LA;16")  # (before loading, as above)
    icc = image.info.get("icc_profile") or None
    try:
        exif = image.getexif()
    except _EXIF_UNPARSED as exc:  # (security QA: a PNG's malformed "Raw profile type exif" text refused the
        log.info("%s: its EXIF cannot be read (%s): left out", path, exc)  # photo whole)
        exif = Image.Exif()
    turned = _orientation(exif)  # the file's: a TIFF's goes once loaded (Pillow turns a TIFF then)
    _read_sub_directories(exif)  # (a TIFF's are read from its file, which loading closes)
    image.load()  # decodes now, so truncated files fail here
    orientation = exif.get(_EXIF_ORIENTATION, 1)
    upright = image.transpose(_TURNS[orientation]) if orientation in _TURNS else image  # (not exif_transpose:
    # it re-encodes the EXIF, and a tag whose stored type differs from the standard's would raise there)
    single_channel = grey_with_alpha_16 or {band for band in upright.getbands() if band not in ("A", "a")} <= _GREY_BANDS
    grey_icc = icc if single_channel and _colour_space(icc) == b"GRAY" else None
    cmyk = upright.mode == "CMYK"
    if cmyk:
        (rgb, cmyk_profile_problem), alpha = _cmyk_to_rgb(upright, icc), None
        cmyk_profiled, icc = bool(icc) and cmyk_profile_problem is None, icc_profiles.srgb()  # (tagged: QA)
        if cmyk_profile_problem is not None:
            log.info("%s: its CMYK colour profile cannot be used (%s): converted by a plain formula",
                     path, cmyk_profile_problem)
    given, unfit = icc, False
    if not cmyk:
        (rgb, alpha, icc), cmyk_profiled, cmyk_profile_problem = _to_rgb8(upright, icc), False, None
        # dropped as no profile at all, or as no RGB one on RGB pixels: said too (security QA and review:
        # dropped unsaid, where README says it is said)
        unfit = given is not None and (given[36:40] != b"acsp" or (icc is None and not single_channel))
    unusable = unfit or (icc is not None and not cmyk and not single_channel and not colour.usable(icc))
    if unusable:  # (photo-archivist QA: a damaged profile went into the result, whose EXIF said
        icc = None  # sRGB, and the note named no photo)
    if icc is None and not cmyk and not single_channel and _exif_says_adobe_rgb(exif):
        icc = icc_profiles.adobe_rgb_compatible()  # (as Photoshop and Lightroom read it)
        log.info("%s: its EXIF says Adobe RGB without %s: read as Adobe RGB (1998)", path,
                 "a profile it can use" if unusable else "a profile")
    elif unusable:
        log.warning("%s: its ICC colour profile cannot be used (damaged, not one of its kind of colours, or made to "
                    "convert one way only): its pixels are taken as %s, and its result is written without that profile",
                    path, "they are" if single_channel else "sRGB")
    if fmt == "HEIF" and icc is None and isinstance(image.info.get("nclx_profile"), dict):
        converted = colour.nclx_to_srgb(rgb, image.info["nclx_profile"])  # its colour as code points, not a profile
        rgb = rgb if converted is None else converted
    if bits == 16 and upright.mode.startswith("I;16") and int(np.asarray(upright).max(initial=0)) <= 255:
        bits = 8  # 8-bit values in a 16-bit grey file, taken as they are (see _high_depth_to_uint8)
    srgb = None if colour.is_srgb(icc) else colour.to_srgb(rgb, icc)
    quarter_turn = turned in (5, 6, 7, 8)
    stored_xmp = _xmp_bytes(image.info.get("xmp"))
    dpi = _dpi(_resolution(image, exif) if _states_resolution(image, exif)
               else xmp_packets.stated_resolution(stored_xmp), quarter_turn=quarter_turn)
    source = _stored_exif(image, path)
    try:
        exif_block = _exif_bytes(exif, tiff=fmt == "TIFF", quarter_turn=quarter_turn, source=source, path=path)
    finally:
        if isinstance(source, mmap.mmap):
            source.close()
    return Photo(
        path=path, rgb=rgb, alpha=alpha, exif=exif_block,
        icc=icc, format=fmt,
        srgb_pixels=srgb, greyscale=single_channel or _looks_grey(rgb, alpha), single_channel=single_channel, dpi=dpi,
        xmp=_xmp_upright(stored_xmp or _xmp_bytes(_png_raw_profile(image, "xmp")), turned, stored_size),
        png_text=_png_text(image) if fmt == "PNG" else None,
        png_colour=_png_colour(image) if fmt == "PNG" else None,
        grey_icc=grey_icc, iptc=_iptc(image), comment=_comment(image), pages=pages, bits=bits,
        cmyk=cmyk, cmyk_profiled=cmyk_profiled, cmyk_profile_problem=cmyk_profile_problem,
        palette=upright.mode in ("P", "PA") and not single_channel,
        orientation=turned, webp_lossless=fmt == "WEBP" and _webp_lossless(path),
        jpeg_quality=_jpeg_quality(image) if fmt == "JPEG" else None,
    )


#: The IJG's standard brightness quantisation table (JPEG Annex K), row by row as Pillow gives it.
_STANDARD_LUMA_TABLE = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40,
                                 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24,
                                 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98,
                                 112, 100, 103, 99], dtype=np.float64)


def jpeg_file_quality(path: str | Path) -> int | None:
    """The quality the JPEG file at ``path`` was saved at (:func:`_jpeg_quality`); None when it
    cannot be told or read."""
    try:
        with Image.open(path) as image:
            return _jpeg_quality(image) if image.format == "JPEG" else None
    except Exception:  # noqa: BLE001 - unreadable: nothing to tell
        return None


#: A PNG's last chunk, whole: IEND, no data, its CRC.
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_TIFF_PIECES = ((273, 279), (324, 325))  # (StripOffsets, StripByteCounts), (TileOffsets, TileByteCounts)


def file_is_whole(path: str | Path) -> bool:
    """Whether the JPEG, PNG, WebP or TIFF file at ``path`` holds all that it says it does, as a
    file faceapp writes always does: a JPEG's end marker, a PNG's last chunk, a WebP's RIFF size,
    every TIFF strip within the file. A copy or a sync cut short is not (QA: a result cut to 20 KB
    counted as restored by --skip-existing). True for other formats; False for a file that cannot
    be read. (A WebP result cut short has lost its metadata, which comes last: it is not known as
    faceapp's result at all, and --skip-existing writes a new one beside it.)"""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as file:
            head = file.read(12)
            file.seek(max(0, size - 1024))
            tail = file.read()
        if head[:3] == b"\xff\xd8\xff":
            return b"\xff\xd9" in tail[-64:]  # (its end marker, give or take a little padding after it)
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            return tail.endswith(_PNG_END)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return int.from_bytes(head[4:8], "little") + 8 <= size
        if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            with warnings.catch_warnings(), Image.open(path) as image:
                warnings.simplefilter("ignore")  # (Pillow's "Truncated File Read": what is asked here)
                for offsets, counts in _TIFF_PIECES:
                    starts, lengths = image.tag_v2.get(offsets), image.tag_v2.get(counts)
                    if starts is not None and lengths is not None:
                        ends = np.asarray(starts, np.int64).ravel() + np.asarray(lengths, np.int64).ravel()
                        return bool(ends.max(initial=0) <= size)
        return True
    except Exception:  # noqa: BLE001 - unreadable: not whole
        return False


def _jpeg_quality(image: Image.Image) -> int | None:
    """The quality a JPEG was saved at, as the IJG's encoder scales its standard table for it
    (the mean of the file's brightness table over the standard one); None when it has none."""
    tables = getattr(image, "quantization", None) or {}
    table = tables.get(0)
    if table is None or len(table) != 64:
        return None
    scale = float(np.mean(np.asarray(table, dtype=np.float64) / _STANDARD_LUMA_TABLE)) * 100.0
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return int(round(min(100.0, max(1.0, quality))))


def _bits_per_channel(image: Image.Image) -> int:
    """The bits per channel of an opened, not yet loaded image's file (8 unless it says more): a
    TIFF's BitsPerSample, a PNG's 16-bit raw mode ("RGB;16B", "LA;16B", "I;16B"), a HEIF's bit
    depth (pi-heif reads 10 and 12 bits as 8), Pillow's mode for the others (32-bit integer or float)."""
    if image.format == "TIFF":
        sample_bits = getattr(image, "tag_v2", {}).get(_BITS_PER_SAMPLE)
        values = sample_bits if isinstance(sample_bits, tuple) else (sample_bits,)
        return max([8] + [int(v) for v in values if isinstance(v, int)])
    if image.mode.startswith("I;16"):
        return 16
    if image.mode in ("I", "F"):
        return 32
    if image.format == "HEIF" and isinstance(image.info.get("bit_depth"), int):  # 10 or 12 (a camera's .HIF)
        return max(8, image.info["bit_depth"])
    if image.format == "PNG" and ";16" in _png_raw_mode(image):  # (BMP's 5-6-5 pixels, "BGR;16": 8 bits at most)
        return 16
    return 8


def _png_raw_mode(image: Image.Image) -> str:
    """An opened, not yet loaded PNG's raw mode, the pixels as the file holds them ("LA;16B": 16-bit
    grey with alpha, which Pillow opens as RGBA); "" for other files."""
    if image.format != "PNG":
        return ""
    for tile in image.tile or ():
        rawmode = tile.args if isinstance(tile.args, str) else (tile.args[0] if tile.args else "")
        if isinstance(rawmode, str) and rawmode:
            return rawmode
    return ""


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
    header has no unit and whose EXIF has no XResolution, and 1 dpi for a TIFF without resolution
    tags: figures no one wrote. Nor does a resolution whose unit is "none" (ResolutionUnit 1: an
    aspect ratio, e.g. the 1 × 1 exiftool writes into a JPEG whose JFIF header has no unit), which
    Pillow reads as dots per inch (archivist QA: results said 1 dpi, or the upscale factor)."""
    if image.format == "TIFF":
        tags = getattr(image, "tag_v2", {})
        return _X_RESOLUTION in tags and tags.get(_RESOLUTION_UNIT) != _NO_UNIT
    if image.format != "JPEG":
        return True
    return image.info.get("jfif_unit") in (1, 2) or (_X_RESOLUTION in exif and exif.get(_RESOLUTION_UNIT) != _NO_UNIT)


def _resolution(image: Image.Image, exif: Image.Exif) -> object:
    """The resolution Pillow read, except for a JPEG whose EXIF gives XResolution without a
    ResolutionUnit (and whose JFIF header gives none): Pillow then reports 72 dpi, while EXIF's
    unit is inches when the tag is absent, so the EXIF's figures are the photo's dots per inch."""
    if (image.format == "JPEG" and image.info.get("jfif_unit") not in (1, 2)
            and _X_RESOLUTION in exif and _RESOLUTION_UNIT not in exif):
        x = exif[_X_RESOLUTION]
        return x, exif.get(_Y_RESOLUTION, x)
    dpi = image.info.get("dpi")
    if dpi is None and image.format not in ("JPEG", "TIFF") and _X_RESOLUTION in exif:
        # a WebP, HEIC or PNG (without pHYs) states its resolution in its EXIF alone (QA: a 600 dpi
        # scan's TIFF result said 72 dpi, its JPEG result "no unit")
        unit = exif.get(_RESOLUTION_UNIT, _INCHES)
        per_inch = 2.54 if unit == 3 else 1.0 if unit == _INCHES else None  # (3: centimetres; 1: no unit)
        if per_inch is not None:
            try:
                x = float(exif[_X_RESOLUTION])
                return x * per_inch, float(exif.get(_Y_RESOLUTION, x)) * per_inch
            except (TypeError, ValueError, ZeroDivisionError):
                return None
    return dpi


def _dpi(value: object, *, quarter_turn: bool) -> tuple[float, float] | None:
    """The (x, y) resolution Pillow read, swapped when the picture was turned; None when unusable."""
    try:
        x, y = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y) and x > 0 and y > 0):
        return None
    return (y, x) if quarter_turn else (x, y)


def _xmp_bytes(xmp: object) -> bytes | None:
    """An XMP packet as Pillow gives it (bytes, str, or a TIFF tag's one-item tuple) as bytes, or None."""
    if isinstance(xmp, tuple) and len(xmp) == 1:
        xmp = xmp[0]
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return xmp if isinstance(xmp, bytes) and xmp.strip(b"\0 \t\r\n") else None


def _stored_size(image: Image.Image) -> tuple[int, int]:
    """The picture's width and height as its file stores them, before its EXIF orientation turns it:
    Pillow gives a turned TIFF's size as upright already (photo-archivist QA: its face regions were
    turned the wrong way), a JPEG's or PNG's as stored."""
    tags = getattr(image, "tag_v2", None) if image.format == "TIFF" else None
    if tags is not None and _TIFF_WIDTH in tags and _TIFF_HEIGHT in tags:
        return int(tags[_TIFF_WIDTH]), int(tags[_TIFF_HEIGHT])
    return image.size


def _xmp_upright(xmp: bytes | None, orientation: int = 1, stored: tuple[int, int] = (0, 0)) -> bytes | None:
    """The XMP packet (:func:`_xmp_bytes`) with its orientation (if any) set to 1, like the EXIF's, and
    its face regions stated on the upright picture (:func:`faceapp.core.xmp.upright_regions`: the
    picture was stored ``stored`` pixels wide and high, turned by ``orientation``); None when there is none."""
    if xmp is None:
        return None
    return xmp_packets.upright_regions(_XMP_ORIENTATION.sub(lambda m: m.group(1) + b"1", xmp), orientation, stored)


#: The prefixes of the text chunks ImageMagick writes as copies of a photo's EXIF and XMP properties
#: and file dates ("exif:DateTime", "xmpMM:InstanceID", "date:modify"): stale in a result, whose
#: EXIF and XMP say what is true of it (QA: they contradicted its new ids and dates).
_IMAGEMAGICK_PROPERTIES = ("exif:", "xmp:", "xmpmm:", "xmprights:", "date:", "tiff:", "photoshop:", "aux:",
                           "crs:", "iptc4xmpcore:", "dc:")


def _png_text(image: Image.Image) -> dict[str, str] | None:
    """A PNG's text chunks (tEXt, zTXt, iTXt; iTXt keep their language), less those :data:`_PNG_TEXT_DROPPED`
    and ImageMagick's copies of properties (:data:`_IMAGEMAGICK_PROPERTIES`)."""
    text = {key: value for key, value in getattr(image, "text", {}).items()
            if isinstance(value, str) and key.lower() not in _PNG_TEXT_DROPPED
            and not key.lower().startswith(_IMAGEMAGICK_PROPERTIES)}
    return text or None


def _png_colour(image: Image.Image) -> dict[bytes, bytes] | None:
    """A PNG's gAMA, cHRM and sRGB chunks as their payloads (from the values Pillow parsed; a gamma
    of 0, which the PNG standard forbids, a negative primary and a value out of its chunk's range are
    left out)."""
    chunks: dict[bytes, bytes] = {}
    gamma, primaries, intent = (image.info.get(key) for key in ("gamma", "chromaticity", "srgb"))
    try:
        if gamma is not None and float(gamma) > 0:
            chunks[b"gAMA"] = struct.pack(">I", round(float(gamma) * 100_000))
        if primaries is not None and len(primaries) == 8 and all(float(v) >= 0 for v in primaries):
            chunks[b"cHRM"] = struct.pack(">8I", *(round(float(v) * 100_000) for v in primaries))
        if intent is not None and 0 <= int(intent) <= 3:
            chunks[b"sRGB"] = struct.pack(">B", int(intent))
    except (struct.error, TypeError, ValueError):  # malformed: the ones read so far are kept
        pass
    return chunks or None


def _looks_grey(rgb: np.ndarray, alpha: np.ndarray | None) -> bool:
    """Whether the visible pixels are grey: fully transparent ones often keep leftover colour."""
    if alpha is None:
        return is_greyscale(rgb)
    visible = rgb[alpha > 0]
    return is_greyscale(visible.reshape(-1, 1, 3))


def _exif_bytes(exif: Image.Exif, *, tiff: bool = False, quarter_turn: bool = False,
                source: bytes | None = None, path: Path | None = None) -> bytes | None:
    """The EXIF block for the upright pixels: orientation 1, the x and y resolutions swapped by a
    quarter turn, the unit of a resolution that has none made explicit (inches, EXIF's default);
    no image-structure tag, and from a TIFF (``tiff``: ``exif`` is its first IFD) only the
    descriptive ones. ``source``: the file's EXIF block as stored, whose maker note's offsets are
    kept pointing at its values (:mod:`faceapp.core.maker_notes`). ``path``: the file, named in the
    log when its EXIF cannot be carried over."""
    for tag in list(exif):
        if tag in STRUCTURE_TAGS or (tiff and tag not in TIFF_DESCRIPTIVE_TAGS):
            del exif[tag]
    if not len(exif):
        return None
    if _X_RESOLUTION in exif and _RESOLUTION_UNIT not in exif:
        exif[_RESOLUTION_UNIT] = _INCHES
    if quarter_turn and _X_RESOLUTION in exif and _Y_RESOLUTION in exif:
        exif[_X_RESOLUTION], exif[_Y_RESOLUTION] = exif[_Y_RESOLUTION], exif[_X_RESOLUTION]
    if _EXIF_ORIENTATION in exif:
        exif[_EXIF_ORIENTATION] = 1
    try:
        exif_types.conform(exif)
        return keep_maker_note(source, exif.tobytes()) if source else exif.tobytes()
    except Exception as exc:  # a malformed EXIF block is dropped rather than failing the photo
        log.warning("%s: its EXIF cannot be carried over (%s): the result has none", path, exc)
        return None


def _read_sub_directories(exif: Image.Exif) -> None:
    """Read ``exif``'s EXIF, GPS and Interop directories now: Pillow reads a TIFF's from the file
    when first asked, and the file is closed once the image is loaded (QA: a TIFF whose EXIF had an
    Interop directory lost its whole EXIF, camera, dates and copyright, without a word). Only those
    the block points to: one asked for is written, even empty. One that cannot be read is left out
    as before."""
    try:
        if ExifTags.IFD.GPSInfo in exif:
            exif.get_ifd(ExifTags.IFD.GPSInfo)
        if ExifTags.IFD.Exif in exif and ExifTags.IFD.Interop in exif.get_ifd(ExifTags.IFD.Exif):
            exif.get_ifd(ExifTags.IFD.Interop)
    except Exception:  # (malformed: the block is checked whole when it is written)
        log.debug("an EXIF sub-directory cannot be read", exc_info=True)


def _stored_exif(image: Image.Image, path: Path) -> bytes | mmap.mmap | None:
    """The EXIF block as the file stores it (JPEG, PNG, WebP, HEIC), or a TIFF file itself, mapped
    (its first directory is its EXIF, and a maker note's offsets count from the file's start; QA),
    or None."""
    raw = image.info.get("exif")
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    if image.format == "TIFF":
        try:
            with open(path, "rb") as handle:
                return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
    return None


def _webp_lossless(path: Path) -> bool:
    """Whether the WebP file at ``path`` holds a lossless picture: its first image chunk is VP8L
    (lossy is "VP8 "; an extended file, VP8X, has ICC, alpha or animation chunks before it). Pillow
    does not say; False for a file that cannot be read so far."""
    try:
        with open(path, "rb") as stream:
            if stream.read(12)[8:12] != b"WEBP":
                return False
            for _ in range(64):  # chunks before the picture: VP8X, ICCP, ALPH (a handful at most)
                header = stream.read(8)
                if len(header) < 8:
                    return False
                kind, size = header[:4], int.from_bytes(header[4:], "little")
                if kind in (b"VP8L", b"VP8 "):
                    return kind == b"VP8L"
                stream.seek(size + (size & 1), io.SEEK_CUR)  # chunks are padded to an even length
    except OSError:
        return False
    return False


def _iptc(image: Image.Image) -> bytes | None:
    """The IPTC-NAA record of a JPEG's Photoshop block (resource 0x0404) or of a TIFF's IPTC tag
    (33723), or None."""
    if image.format in ("JPEG", "MPO"):
        record = (image.info.get("photoshop") or {}).get(IPTC_RESOURCE_ID)
    elif image.format == "TIFF":
        # The tag's bytes as stored: Photoshop types it as 4-byte integers, which Pillow would decode
        # as numbers (its own IPTC reader takes the raw bytes the same way).
        record = getattr(image.tag_v2, "_tagdata", {}).get(TiffImagePlugin.IPTC_NAA_CHUNK)
        record = trimmed(bytes(record)) if isinstance(record, bytes | bytearray) else None
    elif image.format == "PNG":  # ImageMagick's and exiftool's text chunks
        iptc = _png_raw_profile(image, "iptc")
        record = (trimmed(iptc) if iptc and iptc[:1] == b"\x1c"
                  else iptc_from_resources(iptc or _png_raw_profile(image, "8bim") or b""))
    else:
        return None
    return bytes(record) if isinstance(record, bytes | bytearray) and record else None


def _png_raw_profile(image: Image.Image, kind: str) -> bytes | None:
    """The block a PNG holds as ImageMagick's "Raw profile type <kind>" text chunk (exiftool writes
    them too): a line naming it, its length, then its bytes in hexadecimal. Pillow reads the EXIF one
    itself; the XMP and IPTC ones were lost (QA). None when absent or malformed."""
    if image.format != "PNG":
        return None
    text = next((value for key, value in getattr(image, "text", {}).items()
                 if key.lower() == f"raw profile type {kind}" and isinstance(value, str)), None)
    # a line naming the block, a line with its length, then its bytes in hexadecimal (read without a
    # regular expression: one with two \s* runs took 21 s on 64 KB of newlines, review)
    lines = text.lstrip("\r\n").split("\n", 2) if text else []
    if len(lines) != 3 or not lines[1].strip().isdigit():
        return None
    try:
        length, data = int(lines[1].strip()), bytes.fromhex("".join(lines[2].split()))
    except ValueError:  # not hexadecimal, or an odd number of digits
        return None
    return data[:length] if data and len(data) >= length else None


def _comment(image: Image.Image) -> bytes | None:
    """A JPEG's comment (COM segment), or None."""
    comment = image.info.get("comment") if image.format in ("JPEG", "MPO") else None
    if isinstance(comment, str):
        comment = comment.encode("utf-8")
    return comment if isinstance(comment, bytes) and comment.strip(b"\0 \t\r\n") else None


def _colour_space(icc: bytes | None) -> bytes | None:
    """The colour space signature of an ICC profile (header bytes 16–19: b"RGB ", b"GRAY", …), or None."""
    return icc[16:20] if icc is not None and len(icc) >= 20 else None


_ADOBE_RGB_COLOR_SPACE, _UNCALIBRATED = 2, 0xFFFF  # EXIF ColorSpace values


def _exif_says_adobe_rgb(exif: Image.Exif) -> bool:
    """Whether a camera marked the photo's pixels Adobe RGB without embedding a profile: ColorSpace
    2 (some cameras), or "uncalibrated" with DCF's interoperability index "R03" (the DCF option
    file: Nikon, Canon; QA: such a photo's result said sRGB, and its faces were restored as sRGB)."""
    try:
        space = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.ColorSpace)
        if space == _ADOBE_RGB_COLOR_SPACE:
            return True
        index = exif.get_ifd(ExifTags.IFD.Interop).get(ExifTags.Base.InteropIndex) if space == _UNCALIBRATED else None
    except (KeyError, TypeError, ValueError, OSError, SyntaxError, struct.error):
        return False
    if isinstance(index, bytes):
        index = index.decode("ascii", "replace")
    return isinstance(index, str) and index.strip("\0 ") == "R03"


def _rgb_profile(icc: bytes | None) -> bytes | None:
    """``icc`` if it describes an RGB colour space, else None.

    A grey (or other) profile must not be attached to the RGB pixels the pipeline produces.
    """
    return icc if _colour_space(icc) == b"RGB " else None


def _to_rgb8(image: Image.Image, icc: bytes | None) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    """Pixels of any Pillow mode but CMYK (:func:`_cmyk_to_rgb`) as (HxWx3 uint8 RGB, HxW uint8
    alpha or None, ICC to keep)."""
    mode = image.mode
    icc = _rgb_profile(icc)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image)
        gray = _high_depth_to_uint8(values)
        transparent = image.info.get("transparency")  # a PNG's tRNS: the one grey value that is see-through
        alpha = None
        if isinstance(transparent, int) and not isinstance(transparent, bool):  # (format QA: it was dropped)
            alpha = np.where(values == transparent, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2)), alpha, icc
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"))
        return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3]), icc
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))), None, icc


def _high_depth_to_uint8(array: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit integer or float grey to 8 bits (rounded), read over the range its values
    say (format QA: a float file holding 0–2 was read black, and a 32-bit integer one wrapped
    round): floats within 0–1 as 0–1; 8-bit or 16-bit levels, whole numbers, as 0–255 or 0–65535;
    integers beyond 16 bits as their type's range; other floats (a merged exposure holding 0–2, a
    measurement) over 0 to their brightest value."""
    if array.dtype.kind == "f":
        data = np.nan_to_num(array.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
        peak = float(data.max(initial=0.0))
        whole = bool(np.all(data == np.round(data)))
        top = (1.0 if peak <= 1.0 else 255.0 if peak <= 255 and whole else 65535.0 if peak <= 65535 and whole
               else peak)
        return np.clip(data * (255.0 / top), 0, 255).round().astype(np.uint8)
    peak = int(array.max(initial=0))
    top = 255 if peak <= 255 else 65535 if peak <= 65535 else int(np.iinfo(array.dtype).max)
    return (np.clip(array.astype(np.float32), 0, top) * np.float32(255.0 / top) + 0.5).astype(np.uint8)


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> tuple[np.ndarray, str | None]:
    """CMYK → sRGB through its ICC profile when it has one, else Pillow's plain conversion; and,
    where it had a profile that could not be used (damaged, or made for RGB), why not (else None)."""
    problem = None
    if icc:
        from PIL import ImageCms

        space = _colour_space(icc)
        if space in (b"RGB ", b"GRAY", b"Lab ", b"XYZ "):
            problem = f"it is a profile for {space.decode('ascii', 'replace').strip()}, not for CMYK"
        else:
            try:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
                if converted is not None:
                    return np.ascontiguousarray(np.asarray(converted)), None
                problem = "the colour engine returned nothing"
            except (ImageCms.PyCMSError, OSError, ValueError) as exc:  # a broken profile: the plain conversion
                problem = f"it is damaged: {exc}"
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))), problem
