"""Writing results: PNG, JPEG, WebP or TIFF with metadata and provenance, atomically.

The file is written to a temporary name in the destination folder and renamed into place only
once complete, so a failure (read-only folder, full disk, an interrupt) never leaves a partial file;
the temporary name carries the process id, and the leftovers of a killed run are swept by the next
export into that folder (:mod:`faceapp.core.tempfiles`). An existing file is never replaced unless
``overwrite=True``, and the source photo never is. With ``unique=True`` the name is settled only at
the rename, atomically: when another process took it meanwhile, the next free numbered name is used,
so two runs into one folder never collide and no finished result is thrown away. The source photo's EXIF (orientation already
reset to 1 by :func:`faceapp.core.photo_io.read_photo`) and ICC profile are carried over; the
provenance dict is written as JSON into the EXIF UserComment and, for PNG, also as an iTXt chunk
named ``faceapp``. JPEG has no alpha channel: the alpha is dropped there. TIFF is written
uncompressed, because Pillow's libtiff encoders cannot write the EXIF sub-IFD. PNG is encoded here,
band by band from the arrays, so a large result is never copied whole; the other formats go
through Pillow, which needs one full copy of the pixels.
"""

from __future__ import annotations

import errno
import logging
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from faceapp.core.errors import ExportError
from faceapp.core.photo_io import Photo
from faceapp.core.png_writer import write_png
from faceapp.core.tempfiles import create_temp, sweep_stale

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
WEBP_MAX_SIDE = 16383

#: Huffman-optimised JPEG (3–16 % smaller) keeps every DCT coefficient in memory, 6 bytes a pixel
#: at 4:4:4 (2.2 GB for a 24000×16000 result): larger images are written without it.
_JPEG_OPTIMIZE_MAX_PIXELS = 50_000_000
_JPEG_MAX_EXIF_BYTES = 65_533  # an APP1 segment's payload limit, less the "Exif\0\0" header Pillow adds

_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_SOFTWARE = 0x0131
_ORIENTATION = 0x0112
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
    extension when it is writable, else .png. folder defaults to the input's folder.
    """
    input_path = Path(input_path)
    folder = Path(folder) if folder is not None else input_path.parent
    stem, ext = output_file_name(input_path, pattern=pattern, ext=ext, fields=fields)
    return next(c for c in _numbered_names(folder / f"{stem}{ext}") if not _taken(c))


def _numbered_names(dest: Path) -> Iterator[Path]:
    """``dest``, then ``STEM_2.EXT``, ``STEM_3.EXT``, … in its folder."""
    yield dest
    number = 2
    while True:
        yield dest.with_name(f"{dest.stem}_{number}{dest.suffix}")
        number += 1


def _taken(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def output_file_name(
    input_path: str | Path, *, pattern: str = "{stem}_restored", ext: str | None = None, fields: dict[str, Any] | None = None
) -> tuple[str, str]:
    """(stem, extension) of a result's file name; see :func:`default_output_path`."""
    input_path = Path(input_path)
    if ext is None:
        ext = input_path.suffix.lower() if input_path.suffix.lower() in FORMATS else ".png"
    elif not ext.startswith("."):
        ext = "." + ext
    try:
        stem = pattern.format(stem=input_path.stem, **(fields or {}))
    except (KeyError, IndexError, ValueError) as exc:
        raise ExportError(f"bad output name pattern {pattern!r}: {exc}") from None
    if not stem or "/" in stem or "\\" in stem or "\0" in stem:
        raise ExportError(f"bad output name pattern {pattern!r}: it must give a plain file name")
    return stem, ext


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
) -> Path:
    """Write ``image_rgb`` (+ alpha) to ``dest`` with ``photo``'s metadata; returns the path written.

    An existing ``dest`` is an error, unless ``overwrite`` (it is replaced; never when it is
    ``photo``'s own file) or ``unique`` (the first free name of ``STEM_2.EXT``, ``STEM_3.EXT``, …
    is taken at the moment the finished file is renamed into place, and returned).

    quality: JPEG and WebP quality 1…100 (JPEG keeps full colour resolution, 4:4:4, from 90 up;
    WebP at 100 is lossless). png_compress_level: zlib level 0…9. webp_method: encoder effort
    0…6. Higher levels and methods are slower for a slightly smaller file.
    """
    dest = Path(dest)
    fmt = format_for(dest, format)
    if not 1 <= quality <= 100:
        raise ExportError(f"quality must be within 1…100, got {quality}")
    if not 0 <= png_compress_level <= 9:
        raise ExportError(f"the PNG compression level must be within 0…9, got {png_compress_level}")
    if not 0 <= webp_method <= 6:
        raise ExportError(f"the WebP method must be within 0…6, got {webp_method}")
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ExportError(f"expected an HxWx3 uint8 RGB image, got {image_rgb.dtype} {image_rgb.shape}")
    if alpha is not None and alpha.shape != image_rgb.shape[:2]:
        raise ExportError(f"the alpha channel {alpha.shape} does not match the image {image_rgb.shape[:2]}")
    if fmt == "WEBP" and max(image_rgb.shape[:2]) > WEBP_MAX_SIDE:
        raise ExportError(
            f"{image_rgb.shape[1]}×{image_rgb.shape[0]} pixels is too large for WebP (at most {WEBP_MAX_SIDE} a side); "
            "save as PNG, JPEG or TIFF, or choose a smaller upscale."
        )
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {dest}: the folder {folder} does not exist.")
    if overwrite and unique:
        raise ValueError("overwrite and unique exclude each other")
    if overwrite and photo is not None and photo.path is not None and is_same_file(dest, photo.path):
        raise ExportError(f"{dest} is the original photo: faceapp never replaces it; choose another name or folder.")
    if _taken(dest) and not (overwrite or unique):
        raise ExportError(f"{dest} already exists; choose another name or allow overwriting.")

    exif, icc = _exif_block(photo, provenance), photo.icc if photo is not None else None
    if fmt == "JPEG" and exif and len(exif) > _JPEG_MAX_EXIF_BYTES:
        # A JPEG APP1 segment holds at most 64 KiB: keep the provenance, drop the camera's EXIF.
        log.warning("EXIF of %s is %d bytes, too long for JPEG: only the provenance is kept", dest.name, len(exif))
        exif = _exif_block(None, provenance)
    if fmt == "PNG":
        text = {PROVENANCE_KEY: json.dumps(provenance, ensure_ascii=False)} if provenance is not None else {}

        def write(handle: IO[bytes]) -> None:
            write_png(handle, image_rgb, alpha, level=png_compress_level, icc=icc, exif=exif, text=text)
    else:
        image = _to_pillow(image_rgb, alpha if fmt != "JPEG" else None)
        pixels = image_rgb.shape[0] * image_rgb.shape[1]
        options = _save_options(fmt, exif, icc, pixels=pixels, quality=quality, webp_method=webp_method)

        def write(handle: IO[bytes]) -> None:
            image.save(handle, format=fmt, **options)

    return _write_atomically(write, dest, overwrite=overwrite, unique=unique)


def is_same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one existing file (through links, ``..`` or another spelling)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def read_provenance(path: str | Path) -> dict[str, Any] | None:
    """The provenance dict written by :func:`export_photo`, or None if the file has none."""
    with Image.open(path) as image:
        text = image.info.get(PROVENANCE_KEY)
        if not text:
            comment = image.getexif().get_ifd(_EXIF_IFD).get(_USER_COMMENT)
            if isinstance(comment, bytes):
                comment = comment[8:].decode("utf-8", "replace") if comment[:8] in (b"UNICODE\0", b"ASCII\0\0\0") else comment.decode("utf-8", "replace")
            text = comment
    if not text:
        return None
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def is_faceapp_output(path: str | Path) -> bool:
    """Whether ``path`` is an image faceapp wrote (its provenance or EXIF Software says so).

    Reads the header only; any file that cannot be opened is not one.
    """
    try:
        with Image.open(path) as image:
            return PROVENANCE_KEY in image.info or image.getexif().get(_SOFTWARE) == "faceapp"
    except Exception:  # noqa: BLE001 - not an image faceapp can read: not one of its results
        return False


def _to_pillow(rgb: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    """The pixels as a Pillow image, with as few full-size copies as Pillow allows.

    RGBA is interleaved into one new buffer that Pillow then uses as it is (a view). RGB is copied
    once, straight into Pillow's own memory: Pillow stores RGB at four bytes a pixel, so no view
    of an HxWx3 array exists.
    """
    size = (rgb.shape[1], rgb.shape[0])
    if alpha is None:
        return Image.frombuffer("RGB", size, np.ascontiguousarray(rgb), "raw", "RGB", 0, 1)
    rgba = np.empty(rgb.shape[:2] + (4,), dtype=np.uint8)
    rgba[:, :, :3] = rgb
    rgba[:, :, 3] = alpha
    return Image.frombuffer("RGBA", size, rgba, "raw", "RGBA", 0, 1)


def _exif_block(photo: Photo | None, provenance: dict[str, Any] | None) -> bytes | None:
    exif = Image.Exif()
    if photo is not None and photo.exif:
        try:
            exif.load(photo.exif)
        except Exception:  # unreadable source EXIF: start afresh rather than fail the export
            exif = Image.Exif()
    if _ORIENTATION in exif:
        exif[_ORIENTATION] = 1
    if provenance is not None:
        exif[_SOFTWARE] = "faceapp"
        ifd = exif.get_ifd(_EXIF_IFD)
        ifd[_USER_COMMENT] = b"ASCII\0\0\0" + json.dumps(provenance, ensure_ascii=True).encode("ascii")
    return exif.tobytes() if len(exif) else None


def _save_options(
    fmt: str, exif: bytes | None, icc: bytes | None, *, pixels: int, quality: int, webp_method: int
) -> dict[str, Any]:
    """Pillow's save options for JPEG, WebP and TIFF."""
    options: dict[str, Any] = {}
    if exif:
        options["exif"] = exif
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        # Full colour resolution (4:4:4) from quality 90 up: on face crops it keeps 0.6–1.6 dB more
        # chroma PSNR than 4:2:0 for files 20–25 % larger.
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=pixels <= _JPEG_OPTIMIZE_MAX_PIXELS)
    elif fmt == "WEBP":
        options.update(quality=quality, method=webp_method, lossless=quality >= 100)
    elif fmt == "TIFF":
        options["compression"] = "raw"  # libtiff (deflate, lzw) cannot write the EXIF sub-IFD
    return options


def _write_atomically(write: Callable[[IO[bytes]], None], dest: Path, *, overwrite: bool, unique: bool) -> Path:
    """Write through a hidden temporary file and rename it to ``dest``; returns the final name.

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
        with os.fdopen(fd, "wb") as handle:
            try:
                write(handle)
            except (ValueError, SyntaxError) as exc:  # the encoder refused the data (Pillow's way)
                raise ExportError(f"Cannot write {dest.name}: {exc}.") from exc
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, dest)
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


def _rename_no_replace(tmp: str, dest: Path, *, unique: bool) -> Path:
    """Move ``tmp`` to ``dest`` unless ``dest`` exists (hard link, then unlink); returns the name.

    With ``unique``, a taken name moves on to the next numbered one instead of failing.
    """
    for candidate in _numbered_names(dest) if unique else (dest,):
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            # The file system has no hard links: best effort, check then rename.
            if _taken(candidate):
                continue
            os.replace(tmp, candidate)
            return candidate
        os.unlink(tmp)
        return candidate
    raise ExportError(f"{dest} already exists; choose another name or allow overwriting.")


def _os_error_message(exc: OSError, dest: Path) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {dest}: the folder {dest.parent} is read-only or not yours (permission denied)."
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write {dest}: the disk is full; free some space and try again."
    return f"cannot write {dest}: {exc.strerror or exc}."
