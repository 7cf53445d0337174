"""A streaming TIFF writer: 8- or 16-bit grey or RGB (± alpha) straight from numpy arrays, a band of rows at a time.

Why not Pillow's TIFF encoder: Pillow has no 16-bit RGB image (a 48-bit scan's result could not be
written as TIFF), nor 16-bit grey with alpha, and it first copies an RGB image into its own buffer
at four bytes a pixel (1.5 GB for a 24000×16000 ×4 result). tifffile writes 16-bit RGB but not an
EXIF sub-directory. Here Pillow's :class:`~PIL.TiffImagePlugin.ImageFileDirectory_v2` still lays
out every tag (the EXIF block's first-directory tags with its EXIF and GPS sub-directories, the ICC
profile, the resolution), as Pillow's own TIFF writer does; this module adds the tags that describe
the pixels and writes the pixels after them, one band of rows converted at a time, in strips of
about 256 KB, each compressed with Deflate (zlib) after TIFF's horizontal predictor (each sample
stored as its difference from the one to its left): lossless, read by libtiff, Pillow, OpenCV,
Photoshop, GIMP and macOS, and a result a third to half the size of uncompressed pixels (an enlarged
8-bit photo about 0.3 of it, a 16-bit scan whose low bits are noise 0.8). The strips' offsets and
sizes are known only once they are written: the directory is written first with room for them and
filled in at the end (the handle must be seekable). A file that could reach 4 GB is written as
BigTIFF (TIFF 6's offsets are 32-bit).

A maker note inside the EXIF block keeps its offsets where they count from the block's start
(:func:`faceapp.core.maker_notes.keep_maker_note`), as in any TIFF export. In a BigTIFF (an
enlarged 45 MP 48-bit scan, ×4) it is carried as it is, so such offsets point elsewhere, and
exiftool reads its GPS directory wrongly (Pillow writes the directory pointers as 4-byte LONGs,
which Pillow and libtiff read back; QA).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import IO, Iterator, NamedTuple

import numpy as np
from PIL import Image, TiffTags
from PIL.TiffImagePlugin import ImageFileDirectory_v2

from faceapp.core import exif_types
from faceapp.core.maker_notes import has_maker_note, keep_maker_note
from faceapp.core.photo_io import STRUCTURE_TAGS

_STRIP_BYTES = 1 << 18  # rows per strip: about this many bytes before compression
_BAND_BYTES = 1 << 22  # rows converted and written at a time: about this many bytes
#: zlib's level for the strips: PNG results' default level, for the same trade (on an enlarged photo
#: about 55 MB/s on one core for 0.33 of the size, against 0.30 at level 6 and a third of the speed)
DEFLATE_LEVEL = 3
_CLASSIC_LIMIT = 2**32 - (1 << 20)  # TIFF 6's offsets are 32-bit; the tags need the last MB's room

_WIDTH, _LENGTH, _BITS, _COMPRESSION, _PHOTOMETRIC = 256, 257, 258, 259, 262
_STRIP_OFFSETS, _SAMPLES, _ROWS_PER_STRIP, _STRIP_BYTE_COUNTS = 273, 277, 278, 279
_X_RESOLUTION, _Y_RESOLUTION, _PLANAR, _RESOLUTION_UNIT = 282, 283, 284, 296
_EXTRA_SAMPLES, _ICC_PROFILE, _INTEROP, _IPTC = 338, 34675, 0xA005, 33723
_UNASSOCIATED_ALPHA = 2  # ExtraSamples: alpha that is not premultiplied (as PNG's)
_PREDICTOR, _HORIZONTAL_DIFFERENCING, _DEFLATE = 317, 2, 8
_RGB, _MIN_IS_BLACK = 2, 1


def write_tiff(
    handle: IO[bytes],
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc: bytes | None,
    exif: bytes | None,
    dpi: tuple[float, float],
) -> None:
    """Write ``pixels`` (HxW grey or HxWx3 RGB, uint8 or uint16) and ``alpha`` (HxW of the same
    type, or None) as a Deflate-compressed little-endian TIFF to ``handle``, a new file open for
    writing and seekable (the strips' offsets are filled in once they are written).

    ``exif``: an EXIF block (TIFF-structured, with or without ``Exif\\0\\0``) whose first-directory
    tags go into the file's own directory (the XMP packet and IPTC record among them) and whose EXIF
    and GPS directories follow it; the tags that describe the pixels are this writer's. ``icc``: the
    ICC profile. ``dpi``: the resolution, in pixels an inch."""
    if pixels.dtype not in (np.uint8, np.uint16) or pixels.ndim not in (2, 3) or (
            pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"expected HxW or HxWx3 uint8 or uint16 pixels, got {pixels.dtype} {pixels.shape}")
    if alpha is not None and (alpha.shape != pixels.shape[:2] or alpha.dtype != pixels.dtype):
        raise ValueError(f"the alpha channel ({alpha.dtype} {alpha.shape}) does not match the pixels "
                         f"({pixels.dtype} {pixels.shape[:2]})")
    height, width = pixels.shape[:2]
    colours = 1 if pixels.ndim == 2 else 3
    samples = colours + (alpha is not None)
    depth = pixels.dtype.itemsize
    stride = width * samples * depth
    rows_per_strip = max(1, min(height, _STRIP_BYTES // max(1, stride)))
    strips = -(-height // rows_per_strip)
    # Deflate stores what it cannot shrink (noise) in blocks of 5 bytes' overhead per 16 KB at most
    largest = stride * height + stride * height // 1000 + 16 * strips
    big = largest + len(exif or b"") + len(icc or b"") >= _CLASSIC_LIMIT
    header = b"II\x2b\x00\x08\x00\x00\x00" + bytes(8) if big else b"II\x2a\x00\x00\x00\x00\x00"
    ifd = ImageFileDirectory_v2(header)
    _copy_exif_tags(ifd, exif)
    if icc:
        ifd[_ICC_PROFILE] = icc
    ifd[_RESOLUTION_UNIT] = 2  # inches
    ifd[_X_RESOLUTION], ifd[_Y_RESOLUTION] = float(dpi[0]), float(dpi[1])
    ifd[_WIDTH], ifd[_LENGTH] = width, height
    ifd.tagtype[_BITS] = TiffTags.SHORT
    ifd[_BITS] = (8 * depth,) * samples
    ifd[_SAMPLES] = samples
    ifd[_PHOTOMETRIC] = _RGB if colours == 3 else _MIN_IS_BLACK
    ifd[_COMPRESSION] = _DEFLATE
    ifd[_PREDICTOR] = _HORIZONTAL_DIFFERENCING
    ifd[_PLANAR] = 1
    if alpha is not None:
        ifd[_EXTRA_SAMPLES] = _UNASSOCIATED_ALPHA
    ifd[_ROWS_PER_STRIP] = rows_per_strip
    count_type = TiffTags.LONG8 if big else TiffTags.LONG
    ifd.tagtype[_STRIP_OFFSETS] = ifd.tagtype[_STRIP_BYTE_COUNTS] = count_type
    ifd[_STRIP_BYTE_COUNTS] = ifd[_STRIP_OFFSETS] = (0,) * strips  # (room: filled in once the strips are written)
    written = io.BytesIO()
    pixels_at = ifd.save(written)  # the header, the directories and their data; the pixels follow
    directory = written.getbuffer()
    _type_iptc_as_longs(directory, big=big)
    if exif is not None and not big and has_maker_note(exif):
        directory = keep_maker_note(exif, directory)
    handle.write(directory)
    if handle.tell() != pixels_at:
        raise ValueError("the TIFF's pixels must follow its directory")
    offsets, sizes = _write_strips(handle, pixels, alpha, stride, rows_per_strip)
    end = handle.tell()
    number = "<" + ("Q" if big else "I") * strips
    for tag, values in ((_STRIP_OFFSETS, offsets), (_STRIP_BYTE_COUNTS, sizes)):
        handle.seek(_value_at(directory, tag, big=big))
        handle.write(struct.pack(number, *values))
    handle.seek(end)


def _copy_exif_tags(ifd: ImageFileDirectory_v2, exif: bytes | None) -> None:
    """The EXIF block's first-directory tags into ``ifd``, its EXIF and GPS directories as Pillow's
    writer lays them out (a dictionary value); left out: any tag of a pixel layout, and the Interop
    directory, whose DCF index describes a camera's JPEG (exiftool -validate: not allowed in TIFF;
    copied as the offset it was, it pointed into nothing, QA)."""
    if not exif:
        return
    tags = Image.Exif()
    tags.load(exif)
    exif_types.conform(tags)  # (text beyond ASCII as its bytes: Pillow writes text as ASCII, '?' for the rest)
    for key in list(tags):
        if key in STRUCTURE_TAGS or key == _INTEROP:  # (the block has no layout; that is this writer's alone)
            continue
        if key in TiffTags.TAGS_V2_GROUPS:
            ifd[key] = {tag: value for tag, value in tags.get_ifd(key).items() if tag != _INTEROP}
        elif key == _IPTC and isinstance(tags[key], bytes):  # whole LONGs (:func:`_type_iptc_as_longs`)
            ifd[key] = tags[key] + bytes(-len(tags[key]) % 4)
        else:
            ifd[key] = tags[key]


def _type_iptc_as_longs(directory: memoryview, *, big: bool) -> None:
    """Retype the first directory's IPTC-NAA entry from UNDEFINED (Pillow's type for bytes) to LONG,
    as Photoshop writes it and exiftool -validate expects; its bytes, padded with zeros to whole
    LONGs (:func:`_copy_exif_tags`), stay where they are. Pillow cannot write the LONGs itself: it
    takes the tag for a single value. ``directory``: the file's header and directories, writable."""
    field = "<Q" if big else "<I"
    for entry in _entries(directory, big=big):
        if entry.tag == _IPTC and entry.kind == TiffTags.UNDEFINED and entry.count % 4 == 0:
            struct.pack_into("<H", directory, entry.at + 2, TiffTags.LONG)
            struct.pack_into(field, directory, entry.at + 4, entry.count // 4)


def _value_at(directory: memoryview, tag: int, *, big: bool) -> int:
    """Where in the file the first directory's entry ``tag`` keeps its values: in the entry itself
    when they fit its value field, else at the offset that field holds."""
    field = struct.calcsize("<Q" if big else "<I")
    for entry in _entries(directory, big=big):
        if entry.tag == tag:
            value_at = entry.at + 4 + field
            if entry.count * _TYPE_BYTES[entry.kind] <= field:
                return value_at
            return struct.unpack_from("<Q" if big else "<I", directory, value_at)[0]
    raise ValueError(f"the TIFF directory has no tag {tag}")


_TYPE_BYTES = {TiffTags.SHORT: 2, TiffTags.LONG: 4, TiffTags.LONG8: 8}


class _Entry(NamedTuple):
    at: int  # where the entry starts in the file
    tag: int
    kind: int  # its values' type
    count: int  # how many values


def _entries(directory: memoryview, *, big: bool) -> Iterator[_Entry]:
    """The entries of the first directory of a TIFF (``big``: a BigTIFF) whose bytes from the
    header on are ``directory``."""
    field, number, entry_size = ("<Q", "<Q", 20) if big else ("<I", "<H", 12)
    first = struct.unpack_from(field, directory, 8 if big else 4)[0]
    start = first + struct.calcsize(number)
    for at in range(start, start + struct.unpack_from(number, directory, first)[0] * entry_size, entry_size):
        tag, kind = struct.unpack_from("<HH", directory, at)
        yield _Entry(at, tag, kind, struct.unpack_from(field, directory, at + 4)[0])


def _write_strips(handle: IO[bytes], pixels: np.ndarray, alpha: np.ndarray | None, stride: int,
                  rows_per_strip: int) -> tuple[list[int], list[int]]:
    """The pixels, interleaved with alpha, little-endian, horizontally differenced and deflated a
    strip at a time (a band of whole strips converted at a time, its strips deflated side by side);
    returns each strip's file offset and size in bytes."""
    height = pixels.shape[0]
    rows = max(1, _BAND_BYTES // max(1, stride)) // rows_per_strip * rows_per_strip or rows_per_strip
    little = pixels.dtype.newbyteorder("<")
    colours = 1 if pixels.ndim == 2 else 3
    samples = colours + (alpha is not None)
    offsets, sizes = [], []
    deflate = partial(zlib.compress, level=DEFLATE_LEVEL)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:  # (zlib lets go of the GIL)
        for top in range(0, height, rows):
            band = pixels[top : top + rows]
            out = np.empty(band.shape[:2] + (samples,), dtype=little)
            out[:, :, :colours] = band.reshape(band.shape[:2] + (colours,))
            if alpha is not None:
                out[:, :, colours] = alpha[top : top + rows]
            out[:, 1:] -= out[:, :-1].copy()  # TIFF's predictor 2: each sample less its left neighbour's, wrapping
            strips = (memoryview(out[at : at + rows_per_strip]).cast("B") for at in range(0, len(out), rows_per_strip))
            for deflated in pool.map(deflate, strips):
                offsets.append(handle.tell())
                sizes.append(len(deflated))
                handle.write(deflated)
    return offsets, sizes
