"""Writing results: PNG, JPEG, WebP or TIFF with metadata and provenance, atomically.

The file is written to a temporary name in the destination folder and renamed into place only
once complete, so a failure (read-only folder, full disk, an interrupt) never leaves a partial file;
the temporary name carries the process id, and the leftovers of a killed run are swept by the next
export into that folder (:mod:`faceapp.core.tempfiles`). An existing file is never replaced unless
``overwrite=True``, and the source photo never is. With ``unique=True`` the name is settled only at
the rename, atomically: when another process took it meanwhile, the next free numbered name is used,
so two runs into one folder never collide and no finished result is thrown away.

Metadata carried over from the source photo (as :func:`faceapp.core.photo_io.read_photo` read it):
the EXIF block and the XMP packet (orientation reset to 1, the pixel size the result's; XMP in
every format, inside the TIFF tags for TIFF), the ICC profile, the resolution (DPI: JPEG's JFIF
density, PNG's pHYs, TIFF's resolution tags, the EXIF's and the XMP's; multiplied by the upscale factor, so the print size stays the
same), PNG to PNG the text chunks (Title, Author, …) and the gAMA, cHRM and sRGB chunks (into another format, a
profile saying what gAMA and cHRM say where that is not sRGB: :func:`faceapp.core.colour.png_chunks_profile`), a JPEG's comment (into a JPEG's COM segment
or a PNG's Comment chunk), a PNG's Comment chunk into a JPEG's COM segment, and, into a JPEG or a TIFF, a JPEG's or TIFF's IPTC record (caption,
keywords, credits: :mod:`faceapp.core.jpeg_iptc`; the Photoshop block's thumbnail of the unrestored
photo is not). Text chunks and an IPTC record that the result's format has no place for are stated
in its XMP as Dublin Core, beside what the photo's XMP states (:mod:`faceapp.core.xmp`). The
provenance dict is written as JSON into the EXIF UserComment (or into the XMP: where the photo has a
comment of its own there, which stays, and in a JPEG whose camera EXIF fits its 64 KiB segment but
would not with the provenance beside it) and, for PNG, also as a text chunk named ``faceapp``. A one-channel (black-and-white) source is written with one grey
channel where the format has one (PNG, JPEG, TIFF; WebP has none: equal RGB channels). JPEG has
no alpha channel: a transparent result is flattened over white there, with a warning in the log.
Results larger than a format allows are refused before anything is written
(:func:`check_output_size`, which the CLI calls before restoring too; the window checks it when saving). 16-bit pixels
(uint16; :mod:`faceapp.core.sixteen_bit`) are written as PNG or TIFF (but a grey TIFF with alpha,
which neither Pillow nor OpenCV reads back in 16 bits, is written in 8). PNG and TIFF are encoded
here (:mod:`faceapp.core.png_writer`, :mod:`faceapp.core.tiff_writer`; TIFF with Deflate and the
horizontal predictor), band by band from the arrays, so a large result is never copied whole; JPEG
and WebP go through Pillow, which needs one full copy of the pixels.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import json
import math
import re
import os
import stat
import string
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import ExifTags, Image, TiffImagePlugin

from faceapp.core import colour, exif_types
from faceapp.core import xmp as xmp_packets
from faceapp.core.errors import ExportError, NamePatternError
from faceapp.core.greyscale import luma
from faceapp.core.jpeg_iptc import IPTC_CORE_DATASETS, MAX_IPTC_BYTES, iptc_text, legacy_text, with_iptc
from faceapp.core.maker_notes import keep_maker_note
from faceapp.core.photo_io import STRUCTURE_TAGS, Photo
from faceapp.core.pathtext import is_same_file
from faceapp.core.png_writer import write_png
from faceapp.core.tempfiles import create_temp, plain_file_mode, replace_file, sweep_stale
from faceapp.core.tiff_writer import write_tiff

log = logging.getLogger(__name__)

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tif"}
PROVENANCE_KEY = "faceapp"
_FORMAT_ALIASES = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP", "tif": "TIFF", "tiff": "TIFF"}

#: zlib level of PNG files. Measured with this module's encoder on a real photo (0.9 MP, and
#: 14 MP upscaled x4) and the 24 MP benchmark photo: level 3 is 2.9–3.4x faster than 6 for files
#: 4–18 % larger (1 is faster again but 14–33 % larger than 6), and 4–8x faster than Pillow's
#: default (level 6, Paeth filter) for files at most 7 % larger.
PNG_COMPRESS_LEVEL = 3
#: libwebp's effort (0…6). On the same photos 4, its default, is within 3 % of 6's size in
#: 40–60 % of its time; methods 0 and 2 are faster but lose 0.3–1 dB at the same quality.
WEBP_METHOD = 4
#: The largest side each format can hold (libwebp's limit; libjpeg's JPEG_MAX_DIMENSION).
WEBP_MAX_SIDE = 16383
JPEG_MAX_SIDE = 65_500
_MAX_SIDES = {"WEBP": WEBP_MAX_SIDE, "JPEG": JPEG_MAX_SIDE}
#: Each format as the user reads it.
FORMAT_LABELS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "TIFF": "TIFF"}
#: Formats that hold one grey channel (Pillow writes WebP as RGB whatever it is given).
_GREY_FORMATS = frozenset({"PNG", "JPEG", "TIFF"})
#: The formats whose files a quality setting changes.
LOSSY_FORMATS = frozenset({"JPEG", "WEBP"})

#: Huffman-optimised JPEG (3–16 % smaller) keeps every DCT coefficient in memory, 6 bytes a pixel
#: at 4:4:4 (2.2 GB for a 24000×16000 result): larger images are written without it.
JPEG_OPTIMIZE_MAX_PIXELS = 50_000_000
_JPEG_MAX_EXIF_BYTES = 65_533  # an APP1 segment's payload limit, less the "Exif\0\0" header Pillow adds
_JPEG_MAX_XMP_BYTES = 65_504  # the same, less the XMP namespace header (longer XMP needs "extended XMP")
_JPEG_MAX_DENSITY = 65_535  # JFIF's X/Y density fields are 16 bits

_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_IMAGE_UNIQUE_ID = 0xA420  # EXIF ImageUniqueID: one per image
_SOFTWARE = 0x0131
_MODIFY_DATE = ExifTags.Base.DateTime  # when the file was changed, its time zone and fraction of a second
_OFFSET_TIME, _SUB_SEC_TIME = ExifTags.Base.OffsetTime, ExifTags.Base.SubsecTime
#: When the picture was taken and digitized, with their offsets and fractions of a second
_ORIGINAL_DATE, _DIGITIZED_DATE = ExifTags.Base.DateTimeOriginal, ExifTags.Base.DateTimeDigitized
_OFFSET_TIME_DIGITIZED, _SUB_SEC_TIME_DIGITIZED = ExifTags.Base.OffsetTimeDigitized, ExifTags.Base.SubsecTimeDigitized
_ORIENTATION = 0x0112
_X_RESOLUTION, _Y_RESOLUTION = 0x011A, 0x011B
_RESOLUTION_UNIT, _INCHES = 0x0128, 2
_PIXEL_X_DIMENSION, _PIXEL_Y_DIMENSION = 0xA002, 0xA003
#: The resolution a JPEG's EXIF and a TIFF must state when the photo gave none: EXIF's default.
_DEFAULT_DPI = (72.0, 72.0)
_YCBCR_POSITIONING = 0x0213
_COMPONENTS_CONFIGURATION = 0x9101
_COLOR_SPACE = 0xA001
#: The text tags EXIF codes with an 8-byte character code ("UNICODE\0": UTF-16 in the block's byte
#: order), by (IFD, tag): the UserComment, the GPS processing method and area information.
_CODED_TEXT_TAGS = ((_EXIF_IFD, _USER_COMMENT), (0x8825, 27), (0x8825, 28))
_XMP_TAG = 700  # TIFF's XMP tag
_TEMP_SUFFIX = ".part"
_swept: set[str] = set()  # folders already cleared of killed runs' leftovers by this process


def format_for(dest: str | Path, format: str | None = None) -> str:
    """The Pillow format name for an explicit ``format`` or the destination's extension."""
    if format:
        name = _FORMAT_ALIASES.get(format.lower().lstrip("."))
        if name is None:
            raise ExportError(f"cannot write {format!r} files (use png, jpg, webp or tiff).")
        return name
    suffix = Path(dest).suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"{dest}: unknown output type {suffix or '(none)'!r} (use .png, .jpg, .webp or .tif).")
    return FORMATS[suffix]


def default_output_path(
    input_path: str | Path,
    *,
    folder: str | Path | None = None,
    pattern: str = "{stem}_restored",
    ext: str | None = None,
    fields: dict[str, Any] | None = None,
) -> Path:
    """A path for a result that does not exist yet (``_2``, ``_3``, … appended when needed).

    pattern may use {stem} and any key of ``fields`` (e.g. {seed}); ext defaults to the input's
    extension when it is writable, else .jpg for a HEIC photo and .png for the others. folder defaults
    to the input's folder.
    """
    input_path = Path(input_path)
    folder = Path(folder) if folder is not None else input_path.parent
    stem, ext = output_file_name(input_path, pattern=pattern, ext=ext, fields=fields)
    return next(c for c in numbered_names(folder / f"{stem}{ext}") if not _taken(c))


def holds_16_bits(fmt: str, *, one_channel: bool, alpha: bool) -> bool:
    """Whether faceapp writes ``fmt`` (a Pillow format name) in 16 bits per channel for a picture of
    one grey channel or not, with alpha or not: PNG always, TIFF but for grey with alpha (a 16-bit
    grey-and-alpha TIFF is one that neither Pillow nor OpenCV reads back in 16 bits)."""
    return fmt == "PNG" or (fmt == "TIFF" and not (one_channel and alpha))


def numbered_names(dest: Path) -> Iterator[Path]:
    """``dest``, then ``STEM_2.EXT``, ``STEM_3.EXT``, … in its folder."""
    yield dest
    number = 2
    while True:
        yield dest.with_name(f"{dest.stem}_{number}{dest.suffix}")
        number += 1


def is_numbered_name(path: Path, dest: Path) -> bool:
    """Whether ``path``'s name is ``dest``'s or one of the numbered names :func:`numbered_names` gives."""
    if path.suffix != dest.suffix:
        return False
    number = path.stem[len(dest.stem) + 1:] if path.stem.startswith(f"{dest.stem}_") else ""
    return path.stem == dest.stem or (number.isdigit() and int(number) >= 2)


def _taken(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def pattern_fields(pattern: str) -> set[str]:
    """The fields a file name pattern fills, with or without a format spec: {"stem", "seed"} for
    "{stem}_{seed:03d}"; an empty set for a pattern that does not parse (unbalanced braces)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError:
        return set()


#: The result's extension for a photo of a type faceapp reads but does not write (others: PNG): a
#: phone's HEIC photo, lossy, becomes a JPEG (a PNG of a 12 MP photo is some 25 MB).
_RESULT_EXTENSIONS = {".heic": ".jpg", ".heif": ".jpg", ".hif": ".jpg"}


def result_extension(input_path: str | Path, ext: str | None = None) -> str:
    """The extension of a result of ``input_path``: ``ext`` (with its dot), else the photo's own
    when faceapp writes that type, else the one :data:`_RESULT_EXTENSIONS` gives; a photo named
    otherwise (without an extension, .jfif, .jpg_large), as its content's type; PNG for other
    types. Whatever the photo's name (one too long for a result's name still has a result type)."""
    if ext is not None:
        return ext if ext.startswith(".") else "." + ext
    suffix = Path(input_path).suffix.lower()
    if suffix in FORMATS:
        return suffix
    if suffix in _RESULT_EXTENSIONS:
        return _RESULT_EXTENSIONS[suffix]
    kind = _file_format(input_path)  # (QA: a JPEG named "scan" or "web.jfif" came back as a PNG)
    return ".png" if kind is None else EXTENSIONS.get(kind, _RESULT_EXTENSIONS.get(f".{kind.lower()}", ".png"))


@contextlib.contextmanager
def _header_of(path: str | Path) -> Iterator[Image.Image]:
    """The image file ``path`` opened by Pillow for its header, without Pillow's warning on a large
    one (a 100 MP scan's size is said where it is read, not where its header is looked at: memory
    QA saw the warning on stderr for a 95 MP photo faceapp allows)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            yield image


def _file_format(path: str | Path) -> str | None:
    """The Pillow format of the image file ``path`` (its header read), None when it is none or
    cannot be read (unicode QA: a JPEG named without an extension came back as a PNG four times as
    large)."""
    if _special_file(path):  # (review: opening a named pipe waits for a writer, for ever)
        return None
    try:
        with _header_of(path) as image:
            return "JPEG" if image.format == "MPO" else image.format  # (a camera's JPEG of two pictures)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def name_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be the window's name pattern (None: it can): it must name a plain file
    (:func:`output_file_name`) and hold ``{stem}``, since the window saves many photos with it and
    has no ``{seed}`` (the CLI's ``--pattern`` names one photo's files, and may). The settings
    dialog says it; a stored pattern with a problem is dropped (review: a hand-edited pattern the
    dialog refused was loaded, and the dialog then refused every other change until it was fixed)."""
    try:
        output_file_name("photo.jpg", pattern=pattern)  # as Save names files (unbalanced braces too)
    except NamePatternError as exc:  # what the core found wrong: a field, a brace, a slash
        unknown = sorted(pattern_fields(pattern) - {"stem"}) if exc.reason.startswith("unknown field") else []
        if unknown:  # (QA: the reason and the advice both listed the fields it may use)
            seed = (" ({seed} numbers the CLI's files of --seeds N; a photo saved here holds the seed picked "
                    "for each face)") if "seed" in unknown else ""
            return (f"the name pattern {pattern!r} uses {', '.join('{' + f + '}' for f in unknown)}, "
                    f"but a name here may use only {{stem}}, the original's name{seed}")
        return (f"the name pattern {pattern!r} cannot name a file ({exc.reason}): the only field it may "
                "use is {stem} (the original's name); write {{ and }} for a brace, and no / or \\")
    except ExportError as exc:  # a name too long for file systems
        return str(exc)
    if "stem" not in pattern_fields(pattern):
        return "the name pattern must contain {stem}, or results of different photos would clash"
    return None


#: Whether file names are held to Windows' rules (portability QA: a pattern "{stem}:v2" was taken, and
#: NTFS wrote the result as a hidden stream of a file "photo"; "NUL" named the null device).
WINDOWS_NAMES = os.name == "nt"
_NOT_IN_WINDOWS_NAMES = re.compile(r'[<>:"|?*\x00-\x1f]')
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                              # (and COM¹ … LPT³, superscript digits: Windows reserves those too, portability QA)
                              *(f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³"))})


def _windows_name_problem(stem: str) -> str | None:
    """Why Windows cannot name a file ``stem`` + an extension, or None."""
    if (found := _NOT_IN_WINDOWS_NAMES.search(stem)) is not None:
        return f"a name on Windows may not hold {found.group()!r} (nor < > : \" | ? * or a control character)"
    if stem.split(".")[0].strip().upper() in _WINDOWS_DEVICES:
        return f"{stem.split('.')[0]} is the name of a device on Windows"
    return None  # (a stem ending in a space is fine: the name goes on with its extension, review)


def output_file_name(
    input_path: str | Path, *, pattern: str = "{stem}_restored", ext: str | None = None, fields: dict[str, Any] | None = None
) -> tuple[str, str]:
    """(stem, extension) of a result's file name; see :func:`default_output_path`."""
    input_path = Path(input_path)
    ext = result_extension(input_path, ext)
    allowed = {"stem", *(fields or {})}
    try:
        parsed = list(string.Formatter().parse(pattern))  # unbalanced braces: ValueError
        if any(conversion for _, _, _, conversion in parsed):  # (QA: {stem!r} named a file 'cf_04'.jpg)
            raise ValueError("a field may not convert its value ({stem!r}, {stem!s}); give {stem}")
        # a width or precision is checked before it is used: {stem:>1500000000} took 5 GB and 22 s to be
        # refused as too long (security QA: from a settings file restored from a backup, too)
        if any(spec and "{" in spec for _, _, spec, _ in parsed):  # ({stem:>{seed}}: a width from the seed, review)
            raise ValueError("a field's format may not hold another field")
        sizes = [int(number) for _, _, spec, _ in parsed if spec for number in re.findall(r"\d+", spec)]
        if sizes and max(sizes) > MAX_NAME_LENGTH:
            raise ValueError(f"a width of {max(sizes)} makes a name longer than the {MAX_NAME_LENGTH} {_NAME_UNITS} "
                             "file systems take")
        used = pattern_fields(pattern)
        if not used <= allowed:  # also {stem.upper} or {stem[0]}: attribute and index access are not fields
            unknown = ", ".join(sorted(used - allowed))
            raise ValueError(f"unknown field {unknown} (it may use {', '.join('{' + f + '}' for f in sorted(allowed))})")
        stem = pattern.format(stem=input_path.stem, **(fields or {}))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise NamePatternError(pattern, str(exc)) from None
    if not stem.strip(" .") or "/" in stem or "\\" in stem or "\0" in stem:  # (QA: "  " named "  .jpg")
        if "\\" in input_path.stem and "\\" not in pattern:
            raise ExportError(f"the photo's name {input_path.name} holds a \\, which a result's name cannot (it "
                              "separates folders on Windows): rename the photo")
        raise NamePatternError(pattern, "it must give a plain file name")
    if stem.startswith(".") and not input_path.name.startswith("."):
        raise NamePatternError(pattern, "it names hidden files (starting with a dot), which a folder of photos "
                                        "opened or restored later leaves out")
    if WINDOWS_NAMES and (problem := _windows_name_problem(stem)) is not None:
        raise NamePatternError(pattern, problem)
    if (length := name_length(stem + ext)) > MAX_NAME_LENGTH:
        raise ExportError(f"the result's name {stem[:40]}…{ext} would be {length} {_NAME_UNITS} long, and file systems "
                          f"take at most {MAX_NAME_LENGTH}: choose a shorter name pattern, or rename the photo")
    return stem, ext


#: The longest file name most file systems take: 255 bytes (ext4, APFS) or UTF-16 units (NTFS).
MAX_NAME_LENGTH = 255
_NAME_UNITS = "characters" if os.name == "nt" else "bytes"


def name_length(name: str) -> int:
    """How long ``name`` is as this system's file systems count a name's length."""
    return len(name.encode("utf-16-le")) // 2 if os.name == "nt" else len(os.fsencode(name))


#: Folders that removable drives are mounted in (Linux, macOS), with how deep a drive's own folder
#: lies in each: /media/ann/USB and /run/media/ann/USB (a user's folder, then the drive's; older
#: systems mount /media/USB), /mnt/USB and /Volumes/USB.
MOUNT_FOLDERS = ((Path("/media"), 2), (Path("/run/media"), 2), (Path("/mnt"), 1), (Path("/Volumes"), 1))


def missing_drive(folder: str | Path) -> Path | None:
    """The drive ``folder`` is on when that drive is not connected (None otherwise): a Windows drive
    letter that is not there, or, on the way down a folder of :data:`MOUNT_FOLDERS` to the drive's
    own folder (``/media/ann/USB``), one that is missing before a mounted one is reached."""
    folder = Path(folder).absolute()
    if folder.drive and not Path(folder.anchor).exists():
        return Path(folder.anchor)
    for mounts, depth in MOUNT_FOLDERS:
        if not folder.is_relative_to(mounts) or folder == mounts or mounts.is_mount():
            continue  # (a whole disk mounted at /mnt: folders under it are that disk's)
        here = mounts
        for part in folder.relative_to(mounts).parts[:depth]:
            here = here / part
            if here.is_mount():
                return None
            if not here.exists():
                return here
        return None
    return None


#: Why a name a Windows command line gave holds a quote, and what to write instead.
QUOTE_KEPT_HINT = ('a \\ just before a closing quote makes the quote part of the name: write "C:\\My Scans" '
                   'rather than "C:\\My Scans\\"')


def output_folder_problem(folder: str | Path) -> str | None:
    """Why ``folder`` cannot name an output folder, told before any work (None where it can): a name the
    system refuses (too long), or one Windows cannot give a folder (Windows QA: `-o "D:\\Restored\\"`
    reached the command as `D:\\Restored"`; each photo was restored, then failed at its write; a name
    too long was a traceback)."""
    path = Path(folder)
    names = path.parts[1 if path.anchor else 0:]
    for part in names:  # (each, whether the ones before it are there or not: stat says "no such file" for a
        if name_length(part) > MAX_NAME_LENGTH:  # name under a missing one)
            return (f"the name is too long for this system (a folder's name takes {MAX_NAME_LENGTH} {_NAME_UNITS} "
                    "at most)")
    try:
        os.stat(folder)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return f"the name is too long for this system ({exc.strerror})"
    if WINDOWS_NAMES:
        for part in names:
            if (problem := _windows_name_problem(part)) is not None:
                return f"cannot be made: {problem}" + (f"; {QUOTE_KEPT_HINT}" if '"' in part else "")
    return None


def make_output_folder(folder: str | Path) -> bool:
    """Create the output folder ``folder`` (and its parents) when missing, and say whether it did;
    ExportError says why it cannot be. On a drive that is not connected it is not made (settings QA: the output folder kept in
    the window's settings was on an unplugged drive, and Save made its whole path again on the
    computer's own disk, then said "Saved")."""
    folder = Path(folder)
    if folder.is_dir():
        return False
    if (drive := missing_drive(folder)) is not None:
        raise ExportError(f"cannot create the output folder {folder}: {drive} is not there (a drive that is not "
                          "connected?). Connect it, or choose another output folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ExportError(f"cannot create the output folder {folder}: a file of that name is in the way.") from None
    except OSError as exc:  # (its cause kept: a full or read-only disk stops a batch; review)
        raise ExportError(write_error_message(exc, f"create the output folder {folder}", Path(folder).parent)) from exc
    return True


def check_output_size(width: int, height: int, fmt: str, *, name: str | None = None) -> None:
    """Raise :class:`ExportError` when a ``width``×``height`` result is too large for format ``fmt``.

    ``fmt``: a Pillow format name ("JPEG", "WEBP", …) or an extension ("jpg", ".webp"). ``name``,
    when given (the file), starts the message. It costs nothing: the CLI calls it with the
    result's size (the photo's times the upscale) before restoring, so no restore is wasted on a
    file that cannot be written; :func:`export_photo` calls it too.
    """
    fmt = _FORMAT_ALIASES.get(fmt.lower().lstrip("."), fmt.upper())
    limit = _MAX_SIDES.get(fmt)
    side = max(width, height)
    if limit is None or side <= limit:
        return
    fits = [FORMAT_LABELS[f] for f in ("PNG", "JPEG", "TIFF") if f != fmt and side <= _MAX_SIDES.get(f, side)]
    formats = ", ".join(fits[:-1]) + " or " + fits[-1]  # PNG and TIFF have no such limit
    raise ExportError(
        f"{name + ': ' if name else ''}{width}×{height} pixels is too large for {FORMAT_LABELS[fmt]} "
        f"(at most {limit:,} pixels a side); save as {formats}, or choose a smaller upscale."
    )


def export_photo(
    image_rgb: np.ndarray,
    alpha: np.ndarray | None,
    photo: Photo | None,
    dest: str | Path,
    *,
    format: str | None = None,
    quality: int = 95,
    png_compress_level: int = PNG_COMPRESS_LEVEL,
    webp_method: int = WEBP_METHOD,
    provenance: dict[str, Any] | None = None,
    overwrite: bool = False,
    unique: bool = False,
    jpeg_optimize_max_pixels: int | None = None,
) -> Path:
    """Write ``image_rgb`` (+ alpha) to ``dest`` with ``photo``'s metadata; returns the path written.

    ``image_rgb``: HxWx3 uint8, or uint16 (16 bits per channel; ``alpha`` of the same type) where
    the file can hold it (:func:`holds_16_bits`): PNG, or TIFF except from a grey photo with alpha.

    An existing ``dest`` is an error, unless ``overwrite`` (it is replaced; never when it is
    ``photo``'s own file) or ``unique`` (the first free name of ``STEM_2.EXT``, ``STEM_3.EXT``, …
    is taken at the moment the finished file is renamed into place, and returned).

    quality: JPEG and WebP quality 1…100 (JPEG keeps full colour resolution, 4:4:4, from 90 up;
    WebP at 100 is lossless, and so is the WebP of a lossless WebP photo at any quality). png_compress_level: zlib level 0…9. webp_method: encoder effort
    0…6. Higher levels and methods are slower for a slightly smaller file.
    jpeg_optimize_max_pixels: a JPEG of more pixels is written without Huffman optimisation (None:
    :data:`JPEG_OPTIMIZE_MAX_PIXELS`); an optimised one is encoded in one call that holds Python's
    other threads (a window's) until it is done, a plain one streams.

    ``photo``'s metadata is carried over (see the module's notes); its resolution is scaled by the
    ratio of ``image_rgb``'s size to the photo's (the upscale). From a one-channel photo the image
    is written as its grey (:func:`faceapp.core.greyscale.luma`) where the format allows.
    """
    dest = Path(dest)
    fmt = format_for(dest, format)
    _check_export(image_rgb, alpha, photo, dest, fmt, quality=quality, png_compress_level=png_compress_level,
                  webp_method=webp_method, overwrite=overwrite, unique=unique)
    height, width = image_rgb.shape[:2]
    # what the warnings name: the photo (a batch's result may be renamed STEM_2 as it is written:
    # QA, a note named another photo's result)
    said = str(photo.path) if photo is not None and photo.path is not None else dest.name
    meta = _result_metadata(photo, fmt, said, (width, height), provenance)
    if photo is not None and photo.grey_icc and not meta.grey and image_rgb.dtype == np.uint8:
        image_rgb = colour.grey_to_srgb(image_rgb, photo.grey_icc)  # (WebP: its levels as sRGB, untagged)
    if fmt == "JPEG" and alpha is not None:
        if int(alpha.min()) < 255:
            log.warning("%s: JPEG has no transparency: the transparent parts are flattened over white", said)
            image_rgb = _over_white(image_rgb, alpha)
        alpha = None
    pixels = luma(image_rgb) if meta.grey else image_rgb
    write = _writer(fmt, pixels, alpha, meta, photo, provenance, name=said, quality=quality,
                    png_compress_level=png_compress_level, webp_method=webp_method,
                    jpeg_optimize_max_pixels=JPEG_OPTIMIZE_MAX_PIXELS if jpeg_optimize_max_pixels is None
                    else jpeg_optimize_max_pixels)
    return _write_atomically(write, dest, overwrite=overwrite, unique=unique,
                             mode=_mode_like(photo.path if photo is not None else None))


def _mode_like(source: Path | None) -> int | None:
    """The permissions of a result of the file ``source``: a new file's (the umask's), with the group
    and others allowed no more than they are of ``source`` (privacy QA: a photo only its owner could
    read got a result any user could). None without a source, or where its mode cannot be read."""
    if source is None:
        return None
    try:
        source_mode = os.stat(source).st_mode
    except OSError:
        return None
    return plain_file_mode() & (0o700 | (source_mode & 0o077))


def _check_export(image_rgb: np.ndarray, alpha: np.ndarray | None, photo: Photo | None, dest: Path, fmt: str, *,
                  quality: int, png_compress_level: int, webp_method: int, overwrite: bool, unique: bool) -> None:
    """Raise ExportError (ValueError for ``overwrite`` with ``unique``) when :func:`export_photo`
    cannot write ``image_rgb`` to ``dest`` as asked, before any work."""
    if not 1 <= quality <= 100:
        raise ExportError(f"quality must be within 1…100, got {quality}")
    if not 0 <= png_compress_level <= 9:
        raise ExportError(f"the PNG compression level must be within 0…9, got {png_compress_level}")
    if not 0 <= webp_method <= 6:
        raise ExportError(f"the WebP method must be within 0…6, got {webp_method}")
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype not in (np.uint8, np.uint16):
        raise ExportError(f"expected an HxWx3 uint8 or uint16 RGB image, got {image_rgb.dtype} {image_rgb.shape}")
    if alpha is not None and (alpha.shape != image_rgb.shape[:2] or alpha.dtype != image_rgb.dtype):
        raise ExportError(f"the alpha channel ({alpha.dtype} {alpha.shape}) does not match the image "
                          f"({image_rgb.dtype} {image_rgb.shape[:2]})")
    sixteen = image_rgb.dtype == np.uint16
    if sixteen and not holds_16_bits(fmt, one_channel=photo is not None and photo.single_channel, alpha=alpha is not None):
        raise ExportError(f"{dest.name}: 16 bits per channel are written as PNG, or as TIFF except from a grey "
                          f"photo with transparency; not {'so' if fmt == 'TIFF' else 'as ' + fmt}")
    check_output_size(image_rgb.shape[1], image_rgb.shape[0], fmt, name=str(dest))
    if overwrite and unique:
        raise ValueError("overwrite and unique exclude each other")
    original = photo.path if photo is not None and not unique else None  # (unique: a free name beside it)
    if (problem := destination_problem(dest, original)) is not None:
        raise ExportError(problem)
    if _taken(dest) and not (overwrite or unique):
        raise ExportError(f"{dest} already exists; choose another name or allow overwriting.")


@dataclass(frozen=True)
class _ResultMetadata:
    """What a result file carries of its photo (:func:`_result_metadata`)."""

    exif: bytes | None
    xmp: bytes | None
    icc: bytes | None
    dpi: tuple[float, float] | None
    grey: bool  # written as one grey channel


def _result_metadata(photo: Photo | None, fmt: str, name: str, size: tuple[int, int],
                     provenance: dict[str, Any] | None) -> _ResultMetadata:
    """The metadata of a ``size`` (width, height) result of ``photo`` written as ``fmt``, with
    ``provenance`` (see the module's notes); ``name``: what warnings name (the photo, see
    :func:`export_photo`)."""
    width, height = size
    scale = (width / photo.width, height / photo.height) if photo is not None else (1.0, 1.0)
    grey = photo is not None and photo.single_channel and fmt in _GREY_FORMATS
    dpi = (photo.dpi[0] * scale[0], photo.dpi[1] * scale[1]) if photo is not None and photo.dpi else None
    modified = datetime.now().astimezone().replace(microsecond=0)  # the result's modification date
    photo_xmp = photo.xmp if photo is not None else None
    if photo_xmp and xmp_packets.declares_a_dtd(photo_xmp):  # (checked before any parse of it: review)
        log.warning("%s: its XMP metadata declares entities, which XMP never does (a trap for the program that "
                    "reads it next): it is left out of the result", name)
        photo_xmp = None
    if photo_xmp and (repaired := xmp_packets.well_formed(photo_xmp)) is not None:
        photo_xmp = repaired
    elif photo_xmp:
        log.warning("%s: its XMP metadata is not well-formed XML, so it is carried over as it is: the result's XMP "
                    "still names the photo's document ids and dates (an asset manager may take the result for the "
                    "photo)", name)
    own_xmp = (xmp_packets.result_packet(photo_xmp, (width, height), dpi, converted_from_cmyk=photo.cmyk)
               if photo_xmp else None)
    photos_own = xmp_packets.with_provenance(own_xmp, None)  # an earlier run's is not this one's (review)
    own_xmp = photos_own
    if own_xmp is not None and provenance is not None:  # a new document, derived from the photo
        own_xmp = xmp_packets.as_derived(own_xmp, modified.isoformat(), agent=str(provenance.get("software") or "faceapp"))
    with_text = xmp_packets.with_dublin_core(own_xmp, _dublin_core_values(photo, fmt)) if photo is not None else own_xmp
    if provenance is not None:  # the EXIF's Software becomes faceapp's (_exif_block): the scanner's
        software = _photos_software(photo)  # or camera's program is kept as the first tool that made the image
        if software is not None:  # (archivist QA: "EpsonScan" was found nowhere in the result)
            with_text = xmp_packets.with_text_properties(with_text, {"xmp:CreatorTool": software})
    if photo is not None and photo.iptc and fmt not in _IPTC_FORMATS:  # the record's place, credit, … too
        core = {key: found[0] for key, found in iptc_text(photo.iptc, IPTC_CORE_DATASETS).items()}
        date = core.pop("photoshop:DateCreated", "")
        if re.fullmatch(r"\d{8}", date) and date != "00000000":  # IIM's CCYYMMDD; XMP's date is YYYY-MM-DD
            core["photoshop:DateCreated"] = f"{date[:4]}-{date[4:6]}-{date[6:]}".replace("-00", "")
        with_text = xmp_packets.with_text_properties(with_text, core)
    # The provenance goes into the EXIF UserComment, or into the XMP where the photo's own comment is
    # there (it stays) or, in a JPEG, where a camera's EXIF that fits would not with it beside.
    provenance_in_xmp = photo is not None and _own_user_comment(photo.exif)
    provenance_text = json.dumps(provenance, ensure_ascii=True) if provenance is not None else None
    xmp = with_text
    if provenance_text is not None and provenance_in_xmp:
        xmp = xmp_packets.with_provenance(with_text, provenance_text)
    if fmt == "JPEG":
        xmp = _fitting_jpeg_xmp(name, xmp, with_text, own_xmp, photos_own)
    tiff = fmt == "TIFF"
    icc = None if photo is None else photo.grey_icc if grey else photo.icc  # a grey profile fits one grey channel only
    described = (colour.png_chunks_profile(photo.png_colour, grey=grey)
                 if photo is not None and icc is None and fmt != "PNG" else None)  # (a PNG result keeps the chunks)
    icc = icc if described is None else described
    srgb = (photo is None or colour.is_srgb(photo.icc)) and described is None
    exif = _exif_block(photo, provenance, scale=scale, size=(width, height), xmp=xmp if tiff else None, modified=modified,
                       iptc=photo.iptc if tiff and photo is not None else None, comment_kept=provenance_in_xmp,
                       little_endian=tiff, fmt=fmt, srgb=srgb, dpi=dpi)
    if fmt == "JPEG" and exif and len(exif) > _JPEG_MAX_EXIF_BYTES and provenance_text is not None and not provenance_in_xmp:
        # A JPEG APP1 segment holds at most 64 KiB: a camera's EXIF that fits is kept whole, and the
        # provenance goes into the XMP, where it fits there (QA: a 65 KB block lost its date, GPS and
        # copyright to the provenance added to it)
        camera = _exif_block(photo, provenance, scale=scale, size=(width, height), comment_kept=True, fmt=fmt, modified=modified,
                             srgb=srgb, dpi=dpi)
        with_provenance = xmp_packets.with_provenance(with_text, provenance_text)
        if (len(camera or b"") <= _JPEG_MAX_EXIF_BYTES and with_provenance is not None
                and len(with_provenance) <= _JPEG_MAX_XMP_BYTES and xmp_packets.provenance_text(with_provenance)):
            exif, xmp, provenance_in_xmp = camera, with_provenance, True
    if fmt == "JPEG" and exif and len(exif) > _JPEG_MAX_EXIF_BYTES:
        # Too long even so: keep the provenance, drop the camera's EXIF.
        log.warning("EXIF of %s is %d bytes, too long for JPEG: only the provenance is kept", name, len(exif))
        exif = _exif_block(None, provenance, size=(width, height), fmt=fmt, srgb=srgb, dpi=dpi, modified=modified)
        if provenance_in_xmp and provenance is not None and xmp is not None:  # the comment went with the camera's EXIF
            xmp = xmp_packets.with_provenance(xmp, None)
    return _ResultMetadata(exif=exif, xmp=xmp, icc=icc, dpi=dpi, grey=grey)


def _writer(fmt: str, pixels: np.ndarray, alpha: np.ndarray | None, meta: _ResultMetadata, photo: Photo | None,
            provenance: dict[str, Any] | None, *, name: str, quality: int, png_compress_level: int,
            webp_method: int, jpeg_optimize_max_pixels: int) -> Callable[[IO[bytes]], None]:
    """What writes ``pixels`` (+ ``alpha``) with ``meta`` as a ``fmt`` file to an open handle
    (:func:`_write_atomically` gives it the temporary file); ``name``: what warnings name (the photo,
    see :func:`export_photo`)."""
    exif, xmp, icc, dpi = meta.exif, meta.xmp, meta.icc, meta.dpi
    if fmt == "PNG":
        text = _png_text(photo, provenance)

        def write(handle: IO[bytes]) -> None:
            write_png(handle, pixels, alpha, level=png_compress_level, icc=icc, exif=exif, text=text, dpi=dpi, xmp=xmp,
                      colour=photo.png_colour if photo is not None else None)

        return write
    if fmt == "TIFF":  # (its XMP and IPTC record are tags of the EXIF block's first directory)

        def write(handle: IO[bytes]) -> None:  # (the resolution is required in a TIFF: the result's, else EXIF's default)
            write_tiff(handle, pixels, alpha, icc=icc, exif=exif, dpi=dpi or _DEFAULT_DPI)

        return write
    image = _to_pillow(pixels, alpha)
    height, width = pixels.shape[:2]
    options = _save_options(fmt, exif, icc, dpi=dpi, xmp=xmp, pixels=width * height,
                            quality=quality, webp_method=webp_method, optimize_max_pixels=jpeg_optimize_max_pixels,
                            lossless=photo is not None and photo.webp_lossless)
    if fmt == "JPEG" and photo is not None and photo.comment:
        options["comment"] = photo.comment  # the photo's COM segment, which fits one as it did there
    elif fmt == "JPEG" and photo is not None and (png_comment := (photo.png_text or {}).get("Comment")):
        comment = png_comment.encode("utf-8")  # a PNG's Comment chunk: a JPEG's own place for it (metadata QA: lost)
        if len(comment) <= _JPEG_MAX_COMMENT_BYTES:
            options["comment"] = comment
        else:
            log.warning("Comment of %s is %d bytes, too long for a JPEG comment: it is left out", name, len(comment))
    iptc = photo.iptc if fmt == "JPEG" and photo is not None else None
    if iptc and len(iptc) > MAX_IPTC_BYTES:
        log.warning("IPTC record of %s is %d bytes, too long for one JPEG segment: it is left out", name, len(iptc))
        iptc = None

    def write(handle: IO[bytes]) -> None:
        target = io.BytesIO() if iptc else _PythonWrites(handle)
        try:
            image.save(target, format=fmt, **options)
        except OSError as exc:
            # An optimised JPEG is encoded in one buffer whose size Pillow guesses (a byte a pixel
            # below quality 95): a grainy photo at quality 90 or 100 overflows it ("Suspension not
            # allowed here"). Written again without optimising, it streams.
            if fmt != "JPEG" or exc.errno is not None or not options.get("optimize"):
                raise
            log.info("%s: the optimised JPEG did not fit Pillow's buffer; written without optimising", name)
            target.seek(0)
            target.truncate()
            image.save(target, format=fmt, **{**options, "optimize": False})
        if iptc:
            handle.write(with_iptc(target.getbuffer(), iptc))

    return write


def destination_problem(dest: str | Path, original: str | Path | None) -> str | None:
    """Why a result cannot be written to ``dest`` whatever it holds, said before any work (a Save as
    asks no more once this answers): its folder does not exist, or it is the ``original`` photo,
    which faceapp never replaces; None when neither. (A folder that refuses writing is found when
    the file is written: only the attempt is sure.)"""
    dest = Path(dest)
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        return f"cannot write {dest}: the folder {folder} does not exist."
    if original is not None and is_same_file(dest, original):
        return f"{dest} is the original photo: faceapp never replaces it; choose another name or folder."
    return None


def file_stamp(path: str | Path) -> tuple[int, int, int, int] | None:
    """What tells a file from one written over it since: its device, inode (a file renamed over it,
    as results are written, is another), size and modification time; None when it cannot be read."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def file_identity(path: str | Path) -> tuple[int, int] | None:
    """(device, inode) of the file ``path`` names, through links and any spelling of its name (a
    case-insensitive file system's too); None when it cannot be read (missing, a link loop)."""
    stamp = file_stamp(path)
    return None if stamp is None else (stamp[0], stamp[1])


def file_key(path: str | Path) -> object:
    """What tells ``path``'s file apart from others: its :func:`file_identity`, or its real path
    where it cannot be read (a link loop, a missing file)."""
    return file_identity(path) or os.path.realpath(path)


def _special_file(path: str | Path) -> bool:
    """Whether ``path`` exists but is not a regular file (a FIFO, a device, a socket, a folder):
    opening a FIFO would wait for a writer forever, so such a path is never opened."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def read_provenance(path: str | Path) -> dict[str, Any] | None:
    """The provenance dict written by :func:`export_photo`, or None if the file has none (or is
    not a regular file)."""
    if _special_file(path):
        return None
    try:
        return _provenance_of(path)
    except Exception:  # not an image (an empty file under a result's name), unreadable, malformed
        return None


def _provenance_of(path: str | Path) -> dict[str, Any] | None:
    with _header_of(path) as image:
        text = image.info.get(PROVENANCE_KEY)
        if not text:
            comment = image.getexif().get_ifd(_EXIF_IFD).get(_USER_COMMENT)
            text = _user_comment_text(comment) if _user_comment_json(comment) is not None else None
        if not text:  # the photo's own comment kept its place: the provenance is in the XMP
            xmp = image.info.get("xmp")
            xmp = xmp[0] if isinstance(xmp, tuple) and xmp else xmp
            text = xmp_packets.provenance_text(xmp.encode("utf-8") if isinstance(xmp, str) else xmp)
    if not text:
        return None
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def is_faceapp_output(path: str | Path) -> bool:
    """Whether ``path`` is an image faceapp wrote (its provenance or EXIF Software says so).

    Reads the header only; any file that cannot be opened is not one, nor is anything but a
    regular file (a FIFO is not opened).
    """
    if _special_file(path):
        return False
    try:
        with _header_of(path) as image:
            return PROVENANCE_KEY in image.info or image.getexif().get(_SOFTWARE) == "faceapp"
    except Exception:  # noqa: BLE001 - not an image faceapp can read: not one of its results
        return False


def _to_pillow(pixels: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    """Grey (HxW) or RGB (HxWx3) pixels, ± alpha, as a Pillow image, with as few copies as Pillow allows.

    Grey without alpha is used as it is (a view), and grey or RGB with alpha is interleaved into
    one new buffer that Pillow then uses as it is. RGB is copied once, straight into Pillow's own
    memory: Pillow stores RGB at four bytes a pixel, so no view of an HxWx3 array exists.
    """
    size = (pixels.shape[1], pixels.shape[0])
    mode = "L" if pixels.ndim == 2 else "RGB"
    if alpha is None:
        return Image.frombuffer(mode, size, np.ascontiguousarray(pixels), "raw", mode, 0, 1)
    colours = 1 if pixels.ndim == 2 else 3
    interleaved = np.empty(pixels.shape[:2] + (colours + 1,), dtype=np.uint8)
    interleaved[:, :, :colours] = pixels.reshape(pixels.shape[:2] + (colours,))
    interleaved[:, :, colours] = alpha
    mode += "A"
    return Image.frombuffer(mode, size, interleaved, "raw", mode, 0, 1)


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb`` composited over white by ``alpha`` (what an editor shows; a new array), in bands of rows."""
    out = np.empty_like(rgb)
    rows = max(1, (1 << 20) // max(1, rgb.shape[1]))
    for top in range(0, rgb.shape[0], rows):
        a = alpha[top : top + rows, :, None].astype(np.uint16)
        # c·a + 255·(255 − a) ≤ 255·255: uint16 holds it, with the rounding half.
        value = rgb[top : top + rows].astype(np.uint16) * a + 255 * (255 - a) + 127
        out[top : top + rows] = value // 255
    return out


def _png_text(photo: Photo | None, provenance: dict[str, Any] | None) -> dict[str, str]:
    """The text chunks of a PNG result: the source PNG's own (less an older provenance) or a JPEG's
    comment, then the provenance."""
    text = {k: v for k, v in (photo.png_text or {}).items() if k != PROVENANCE_KEY} if photo is not None else {}
    if photo is not None and photo.comment and "Comment" not in text:  # a JPEG's COM: PNG's own keyword for it
        text["Comment"] = _decoded(photo.comment)
    if provenance is not None:
        text[PROVENANCE_KEY] = json.dumps(provenance, ensure_ascii=True)  # a file name that is not UTF-8 too
    return text


#: What one JPEG COM segment holds (its length field counts itself).
_JPEG_MAX_COMMENT_BYTES = 65_533


def _fitting_jpeg_xmp(name: str, *packets: bytes | None) -> bytes | None:
    """The first of ``packets`` (the result's XMP, then it without the provenance, then the photo's
    own as a derived document, then as it was), each without its padding where that is too long, that fits a JPEG's XMP segment, saying what was left out; None when none fits (the
    photo's own packet too long: left out, as before)."""
    full = packets[0]
    for kept, packet in enumerate(packets):
        if packet is not None and len(packet) > _JPEG_MAX_XMP_BYTES:  # its padding goes first (sceptic QA: a
            packet = xmp_packets.without_padding(packet)                # photo's 64 KB of it kept the photo's ids)
        if packet is None or len(packet) <= _JPEG_MAX_XMP_BYTES:
            if kept:
                log.warning("XMP of %s would be %d bytes, too long for JPEG: %s", name, len(full or b""),
                            ("the photo's own is kept, without what faceapp adds to it"
                             + (", not marked as a new document derived from the photo" if kept == len(packets) - 1
                                else "")) if packet else "it is left out")
            return packet
    return None


def _decoded(text: bytes) -> str:
    """A comment's bytes as text: UTF-8 where they are, else what older JPEG writers used
    (:func:`faceapp.core.jpeg_iptc.legacy_text`)."""
    return legacy_text(text).strip("\0")


#: PNG text keywords (the PNG specification's) and the Dublin Core properties that say the same in XMP.
_PNG_TEXT_AS_DUBLIN_CORE = {"Title": "title", "Author": "creator", "Description": "description", "Copyright": "rights"}


def _parsed_exif(data: bytes | None) -> Image.Exif:
    """An EXIF block as Pillow reads it; empty where there is none, or where Pillow cannot read it
    (an export then starts afresh rather than fail)."""
    exif = Image.Exif()
    if data:
        try:
            exif.load(data)
        except Exception:  # noqa: BLE001 - Pillow raises many kinds for a damaged block
            return Image.Exif()
    return exif


def _photos_software(photo: Photo | None) -> str | None:
    """The program its EXIF says made ``photo`` (a scanner's, a camera's firmware), unless faceapp."""
    software = _parsed_exif(photo.exif if photo is not None else None).get(_SOFTWARE)
    software = software.strip("\0 ").strip() if isinstance(software, str) else None
    return software if software and software != "faceapp" else None


def _dublin_core_values(photo: Photo, fmt: str) -> dict[str, list[str]]:
    """The title, creators, description, rights and keywords a PNG's text chunks or a photo's IPTC
    record hold, where the result's format ``fmt`` has no place for them: what its XMP states
    instead, as Dublin Core (QA: a scan's caption was lost when its PNG's result was a JPEG, and a
    JPEG's IPTC caption and keywords when its result was a PNG, also beside an XMP packet of its own)."""
    values: dict[str, list[str]] = {}
    if fmt != "PNG":
        for keyword, name in _PNG_TEXT_AS_DUBLIN_CORE.items():
            if (photo.png_text or {}).get(keyword):
                values[name] = [photo.png_text[keyword]]
    if photo.iptc and fmt not in _IPTC_FORMATS:
        for name, found in iptc_text(photo.iptc).items():
            values.setdefault(name, found)
    return values


#: The formats that hold an IPTC record: JPEG (an APP13 segment) and TIFF (its IPTC-NAA tag).
_IPTC_FORMATS = frozenset({"JPEG", "TIFF"})


def _exif_block(photo: Photo | None, provenance: dict[str, Any] | None, *, scale: tuple[float, float] = (1.0, 1.0),
                size: tuple[int, int] | None = None, xmp: bytes | None = None, iptc: bytes | None = None,
                comment_kept: bool = False, little_endian: bool = False, fmt: str | None = None,
                srgb: bool = True, dpi: tuple[float, float] | None = None,
                modified: datetime | None = None) -> bytes | None:
    """The EXIF block of a result: the photo's, orientation 1, its resolution times ``scale`` (in
    inches, EXIF's default, when it gives no unit: as the JFIF and TIFF resolution are written)
    and its pixel dimensions ``size`` (where it has them), the provenance in the UserComment (unless
    ``comment_kept``: the photo's own comment stays there), and ``xmp`` and ``iptc`` (for TIFF,
    whose XMP and IPTC record are tags of its own). An earlier run's provenance in the UserComment
    is not kept. ``little_endian``: the result is written little-endian whatever the block's own
    order (Pillow writes TIFF so), so a UNICODE UserComment's UTF-16 is turned to match (exiftool:
    "Wrong byte order for EXIF UserComment UNICODE text"). No image-structure tag (bits per sample, compression, strip
    offsets, sample format, …: :data:`~faceapp.core.photo_io.STRUCTURE_TAGS`) is carried over:
    they describe the source file, and Pillow would write them into a TIFF result's own IFD. For a
    ``fmt`` given, the EXIF IFD gets the tags the EXIF standard requires where it lacks them (version,
    colour space: ``srgb`` or uncalibrated; the pixel size, which a TIFF's may not hold, not even the
    camera's; a JPEG's components and, in IFD0, its chroma positioning and resolution: ``dpi``, the
    result's, else 72; QA, exiftool -validate)."""
    exif = _parsed_exif(photo.exif if photo is not None else None)
    for tag in [tag for tag in exif if tag in STRUCTURE_TAGS]:
        del exif[tag]
    if little_endian and getattr(exif, "endian", None) == ">":
        for ifd_tag, tag in _CODED_TEXT_TAGS:
            ifd = exif.get_ifd(ifd_tag) if ifd_tag in exif else {}
            text = ifd.get(tag)
            if isinstance(text, bytes) and text.startswith(b"UNICODE\0") and len(text) % 2 == 0:
                body, swapped = text[8:], bytearray(len(text) - 8)
                swapped[0::2], swapped[1::2] = body[1::2], body[0::2]  # UTF-16BE → LE
                ifd[tag] = text[:8] + bytes(swapped)
    if _ORIENTATION in exif:
        exif[_ORIENTATION] = 1
    if _X_RESOLUTION in exif and _RESOLUTION_UNIT not in exif:
        exif[_RESOLUTION_UNIT] = _INCHES
    ratio = exif.get(_RESOLUTION_UNIT) == 1  # unit "none": an aspect ratio, which an upscale keeps
    for tag, factor in ((_X_RESOLUTION, scale[0]), (_Y_RESOLUTION, scale[1])):
        if tag in exif and factor != 1.0 and not ratio:
            try:
                value = float(exif[tag]) * factor
            except (TypeError, ValueError, ZeroDivisionError):  # a malformed value is left as it was
                continue
            if math.isfinite(value) and value > 0:
                exif[tag] = value
    if size is not None and _EXIF_IFD in exif:
        ifd = exif.get_ifd(_EXIF_IFD)
        for tag, value in ((_PIXEL_X_DIMENSION, size[0]), (_PIXEL_Y_DIMENSION, size[1])):
            if tag in ifd:
                ifd[tag] = value
    if _EXIF_IFD in exif and _user_comment_is_provenance(exif.get_ifd(_EXIF_IFD).get(_USER_COMMENT)):
        del exif.get_ifd(_EXIF_IFD)[_USER_COMMENT]
    if provenance is not None and _EXIF_IFD in exif:  # a new image: the photo's unique id is the photo's
        exif.get_ifd(_EXIF_IFD).pop(_IMAGE_UNIQUE_ID, None)  # (privacy QA: it linked the two)
    if provenance is not None:
        ours = exif.get(_SOFTWARE) == "faceapp"  # a faceapp result restored again: its date is faceapp's
        exif[_SOFTWARE] = "faceapp"
        if modified is not None:  # the file's change date (the photo's own dates stay), and its offset
            if not ours:
                _keep_only_date(exif)
            exif[_MODIFY_DATE] = modified.strftime("%Y:%m:%d %H:%M:%S")
            offset = modified.strftime("%z")
            exif.get_ifd(_EXIF_IFD)[_OFFSET_TIME] = f"{offset[:3]}:{offset[3:]}"
            exif.get_ifd(_EXIF_IFD).pop(_SUB_SEC_TIME, None)  # the photo's fraction of its own change date
        if not comment_kept:
            ifd = exif.get_ifd(_EXIF_IFD)
            ifd[_USER_COMMENT] = b"ASCII\0\0\0" + json.dumps(provenance, ensure_ascii=True).encode("ascii")
    if fmt is not None and (_EXIF_IFD in exif or exif.get_ifd(_EXIF_IFD)):  # (one made above is not "in" yet)
        ifd = exif.get_ifd(_EXIF_IFD)
        for tag, value in _required_exif_tags(srgb=srgb, jpeg=fmt == "JPEG").items():
            ifd.setdefault(tag, value)
        ifd[_COLOR_SPACE] = 1 if srgb else 0xFFFF  # the result's (a camera's 2, or its P3 pixels made sRGB)
        if fmt == "TIFF":  # these describe compressed data; a TIFF's own tags state its size
            for tag in (_COMPONENTS_CONFIGURATION, _PIXEL_X_DIMENSION, _PIXEL_Y_DIMENSION):
                ifd.pop(tag, None)  # (exiftool -validate: "not allowed in TIFF")
        elif size is not None:
            ifd.setdefault(_PIXEL_X_DIMENSION, size[0])
            ifd.setdefault(_PIXEL_Y_DIMENSION, size[1])
    if fmt == "JPEG" and len(exif):
        exif[_YCBCR_POSITIONING] = 1  # (a structure tag, dropped above) centred chroma, as libjpeg writes it
        if _X_RESOLUTION not in exif or _Y_RESOLUTION not in exif:  # required in a JPEG's IFD0: the result's
            exif[_X_RESOLUTION], exif[_Y_RESOLUTION] = dpi or _DEFAULT_DPI  # (as the JFIF header says it), else EXIF's default
            exif[_RESOLUTION_UNIT] = _INCHES
    if fmt == "WEBP" and dpi and (_X_RESOLUTION not in exif or _Y_RESOLUTION not in exif):
        exif[_X_RESOLUTION], exif[_Y_RESOLUTION] = dpi  # a WebP has no field of its own for it (archivist QA:
        exif[_RESOLUTION_UNIT] = _INCHES  # a 300 dpi scan's JFIF density was lost in its WebP result, unsaid)
    if xmp:
        exif[_XMP_TAG] = xmp
    if iptc:
        exif[TiffImagePlugin.IPTC_NAA_CHUNK] = iptc
    exif_types.conform(exif)
    if not len(exif):
        return None
    return keep_maker_note(photo.exif, exif.tobytes()) if photo is not None and photo.exif else exif.tobytes()


def _keep_only_date(exif: Image.Exif) -> None:
    """A photo whose one date is its file's (DateTime: a scanner's TIFF, an old camera's JPEG, or an
    editor's save) keeps it as the date it was digitized, before the result's change date replaces it (QA: a 1952
    wedding scan's only date became the restore's), with its offset and fraction of a second."""
    date = exif.get(_MODIFY_DATE)
    ifd = exif.get_ifd(_EXIF_IFD)
    if not date or _ORIGINAL_DATE in ifd or _DIGITIZED_DATE in ifd:
        return
    ifd[_DIGITIZED_DATE] = date
    for own, digitized in ((_OFFSET_TIME, _OFFSET_TIME_DIGITIZED), (_SUB_SEC_TIME, _SUB_SEC_TIME_DIGITIZED)):
        if own in ifd and digitized not in ifd:
            ifd[digitized] = ifd[own]


def _required_exif_tags(*, srgb: bool, jpeg: bool) -> dict[int, Any]:
    """The tags the EXIF standard requires of an EXIF IFD (2.32, "mandatory"; the pixel size is set
    apart), with the values a result has: given where the photo's block, or faceapp's own, lacks them."""
    tags: dict[int, Any] = {0x9000: b"0232", 0xA000: b"0100", _COLOR_SPACE: 1 if srgb else 0xFFFF}  # versions, ColorSpace
    if jpeg:
        tags[_COMPONENTS_CONFIGURATION] = b"\x01\x02\x03\x00"  # Y, Cb, Cr
    return tags


def _user_comment_text(value: object) -> str:
    """An EXIF UserComment as text: its 8-byte character code (ASCII, UNICODE, JIS or undefined)
    and the text after it, padding of zeros and spaces stripped."""
    if isinstance(value, str):
        return value.strip("\0 ")
    if not isinstance(value, bytes | bytearray):
        return ""
    code, body = bytes(value[:8]), bytes(value[8:])
    if code == b"UNICODE\0":
        # UTF-16 in the EXIF block's byte order, which Pillow does not say: the order that gives text
        texts = [body.decode(order, "replace") for order in ("utf-16-be", "utf-16-le")]
        return min(texts, key=lambda text: sum(not ch.isprintable() for ch in text)).strip("\0 ")
    if code in (b"ASCII\0\0\0", b"JIS\0\0\0\0\0", b"\0" * 8):
        return body.decode("utf-8", "replace").strip("\0 ")
    return bytes(value).decode("utf-8", "replace").strip("\0 ")  # no character code: the text alone


def _user_comment_is_provenance(value: object) -> bool:
    """Whether an EXIF UserComment is the provenance an earlier faceapp run wrote: a JSON object
    with its keys (a phone maker's JSON note is the photo's own)."""
    found = _user_comment_json(value)
    return found is not None and _PROVENANCE_KEYS <= found.keys()


def _user_comment_json(value: object) -> dict[str, Any] | None:
    """An EXIF UserComment holding a JSON object, as that object; else None."""
    text = _user_comment_text(value)
    if not text.startswith("{"):
        return None
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):  # (not JSON; or nested deeper than Python recurses: security QA,
        return None                      # the export failed after the restore)
    return found if isinstance(found, dict) else None


#: Keys every provenance faceapp has written holds.
_PROVENANCE_KEYS = frozenset({"model", "fidelity", "faces"})


def _own_user_comment(exif_bytes: bytes | None) -> bool:
    """Whether a photo's EXIF holds a UserComment of its own (a note, not an earlier run's provenance),
    which its result keeps (QA: a scan's "left is Anna" was replaced by the provenance)."""
    try:
        value = _parsed_exif(exif_bytes).get_ifd(_EXIF_IFD).get(_USER_COMMENT)
    except Exception:  # noqa: BLE001 - an IFD Pillow cannot read: nothing to keep
        return False
    return bool(_user_comment_text(value)) and not _user_comment_is_provenance(value)


def _save_options(
    fmt: str, exif: bytes | None, icc: bytes | None, *, dpi: tuple[float, float] | None, xmp: bytes | None,
    pixels: int, quality: int, webp_method: int, optimize_max_pixels: int, lossless: bool = False,
) -> dict[str, Any]:
    """Pillow's save options for JPEG and WebP; ``lossless``: a WebP is written lossless whatever
    the quality (the photo was a lossless WebP)."""
    options: dict[str, Any] = {}
    if exif:
        options["exif"] = exif
    if icc:
        options["icc_profile"] = icc
    if xmp:
        options["xmp"] = xmp
    if dpi and fmt == "JPEG":
        options["dpi"] = tuple(min(_JPEG_MAX_DENSITY, max(1, round(d))) for d in dpi)
    if fmt == "JPEG":
        # Full colour resolution (4:4:4) from quality 90 up: on face crops it keeps 0.6–1.6 dB more
        # chroma PSNR than 4:2:0 for files 20–25 % larger.
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=pixels <= optimize_max_pixels)
    elif fmt == "WEBP":
        # exact: the colour under fully transparent pixels is written, not cleared (colour QA: README
        # promises it is kept, as PNG and TIFF keep it)
        options.update(quality=quality, method=webp_method, lossless=lossless or quality >= 100, exact=True)
    return options


class _PythonWrites:
    """A file handle whose descriptor Pillow does not see, so that its encoders write through
    Python's ``write``, which raises when the disk fills. Given the descriptor, Pillow's JPEG
    encoder writes to it itself and drops a short write without a word: on a disk that filled
    up, a truncated JPEG was reported as saved (QA, Pillow 13)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _write_atomically(write: Callable[[IO[bytes]], None], dest: Path, *, overwrite: bool, unique: bool,
                      mode: int | None = None) -> Path:
    """Write through a hidden temporary file and rename it to ``dest``; returns the final name.
    ``mode``: its permissions, where not a new file's (:func:`_mode_like`).

    The temporary file is removed on every way out but a hard kill, including KeyboardInterrupt
    and the termination signals the front-ends turn into it (see :mod:`faceapp.core.termination`).
    """
    folder = dest.parent if str(dest.parent) else Path(".")
    if str(folder.resolve()) not in _swept:
        sweep_stale(folder, _TEMP_SUFFIX)
        _swept.add(str(folder.resolve()))
    tmp: str | None = None
    try:
        fd, tmp = create_temp(folder, dest.stem, _TEMP_SUFFIX)
        if mode is not None:
            try:
                os.fchmod(fd, mode)
            except (AttributeError, OSError):  # no fchmod (Windows), or a file system without modes
                pass
        with os.fdopen(fd, "wb") as handle:
            try:
                write(handle)
            except (ValueError, SyntaxError) as exc:  # the encoder refused the data (Pillow's way)
                raise ExportError(f"Cannot write {dest.name}: {exc}.") from exc
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            replace_file(tmp, dest)
        else:
            dest = _rename_no_replace(tmp, dest, unique=unique)
        tmp = None
        return dest
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(_os_error_message(exc, dest)) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


#: What ``os.link`` fails with where the file system has no hard links; EINVAL is Windows' answer on an
#: exFAT or FAT32 drive (an SD card, most USB sticks: "Incorrect function"; portability review).
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.EINVAL})


def _rename_no_replace(tmp: str, dest: Path, *, unique: bool) -> Path:
    """Move ``tmp`` to ``dest`` unless ``dest`` exists (hard link, then unlink); returns the name.

    With ``unique``, a taken name moves on to the next numbered one instead of failing.
    """
    for candidate in numbered_names(dest) if unique else (dest,):
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            # The file system has no hard links: best effort, check then rename.
            if _taken(candidate):
                continue
            replace_file(tmp, candidate)
            return candidate
        try:
            os.unlink(tmp)
        except OSError:  # (a scanner holding it on Windows): the result is written; a later sweep removes it
            log.info("could not remove %s yet", tmp)
        return candidate
    raise ExportError(f"{dest} already exists; choose another name or allow overwriting.")


def _os_error_message(exc: OSError, dest: Path) -> str:
    return write_error_message(exc, f"write {dest}", dest.parent)


#: Windows' errors for a file another program holds open: sharing and lock violations.
_FILE_IN_USE = frozenset({32, 33})


def write_error_message(exc: OSError, target: str, folder: str | Path) -> str:
    """Why ``target`` (e.g. "write out/a.jpg") failed in ``folder``, in words: read-only, disk full, or the OS's reason."""
    if exc.errno == errno.EROFS:  # (fault QA: a read-only disk was said to be "not yours")
        return f"cannot {target}: the folder {folder} is on a read-only disk."
    if getattr(exc, "winerror", None) in _FILE_IN_USE:  # (portability QA: a file open in a viewer was said
        return f"cannot {target}: the file is open in another program; close it there and try again."  # read-only)
    if getattr(exc, "winerror", None) == 5:  # Windows' "Access is denied": a folder, or a file held open
        return (f"cannot {target}: permission denied; the folder {folder} is read-only, or the file is open "
                "in another program.")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot {target}: the folder {folder} is read-only or not yours (permission denied)."
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot {target}: the disk is full; free some space and try again."
    return f"cannot {target}: {exc.strerror or exc}."
