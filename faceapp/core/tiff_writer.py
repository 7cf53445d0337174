"""A streaming TIFF writer: 8- or 16-bit grey or RGB (± alpha) straight from numpy arrays, a band of rows at a time.

Why not Pillow's TIFF encoder: Pillow has no 16-bit RGB image (a 48-bit scan's result could not be
written as TIFF), nor 16-bit grey with alpha, and it first copies an RGB image into its own buffer
at four bytes a pixel (1.5 GB for a 24000×16000 ×4 result). tifffile writes 16-bit RGB but not an
EXIF sub-directory. Here Pillow's :class:`~PIL.TiffImagePlugin.ImageFileDirectory_v2` still lays
out every tag (the EXIF block's first-directory tags with its EXIF and GPS sub-directories, the ICC
profile, the resolution), as Pillow's own TIFF writer does; this module adds the tags that describe
the pixels and writes the pixels after them, uncompressed, in strips of about 256 KB, one band of
rows converted at a time. A file of 4 GB or more is written as BigTIFF (TIFF 6's offsets are 32-bit).

A maker note inside the EXIF block keeps its offsets where they count from the block's start
(:func:`faceapp.core.maker_notes.keep_maker_note`), as in any TIFF export. In a BigTIFF (an
enlarged 45 MP 48-bit scan, ×4) it is carried as it is, so such offsets point elsewhere, and
exiftool reads its GPS directory wrongly (Pillow writes the directory pointers as 4-byte LONGs,
which Pillow and libtiff read back; QA).
"""

from __future__ import annotations

import io
import struct
from typing import IO

import numpy as np
from PIL import Image, TiffTags
from PIL.TiffImagePlugin import ImageFileDirectory_v2

from faceapp.core.maker_notes import has_maker_note, keep_maker_note
from faceapp.core.photo_io import STRUCTURE_TAGS

_STRIP_BYTES = 1 << 18  # rows per strip: about this many bytes
_BAND_BYTES = 1 << 22  # rows converted and written at a time: about this many bytes
_CLASSIC_LIMIT = 2**32 - (1 << 20)  # TIFF 6's offsets are 32-bit; the tags need the last MB's room

_WIDTH, _LENGTH, _BITS, _COMPRESSION, _PHOTOMETRIC = 256, 257, 258, 259, 262
_STRIP_OFFSETS, _SAMPLES, _ROWS_PER_STRIP, _STRIP_BYTE_COUNTS = 273, 277, 278, 279
_X_RESOLUTION, _Y_RESOLUTION, _PLANAR, _RESOLUTION_UNIT = 282, 283, 284, 296
_EXTRA_SAMPLES, _ICC_PROFILE, _INTEROP, _IPTC = 338, 34675, 0xA005, 33723
_UNASSOCIATED_ALPHA = 2  # ExtraSamples: alpha that is not premultiplied (as PNG's)
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
    type, or None) as an uncompressed little-endian TIFF to ``handle``.

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
    big = stride * height + len(exif or b"") + len(icc or b"") >= _CLASSIC_LIMIT
    header = b"II\x2b\x00\x08\x00\x00\x00" + bytes(8) if big else b"II\x2a\x00\x00\x00\x00\x00"
    ifd = ImageFileDirectory_v2(header)
    _copy_exif_tags(ifd, exif)
    if icc:
        ifd[_ICC_PROFILE] = icc
    ifd[_RESOLUTION_UNIT] = 2  # inches
    ifd[_X_RESOLUTION], ifd[_Y_RESOLUTION] = float(dpi[0]), float(dpi[1])
    rows_per_strip = max(1, min(height, _STRIP_BYTES // max(1, stride)))
    strips = -(-height // rows_per_strip)
    ifd[_WIDTH], ifd[_LENGTH] = width, height
    ifd.tagtype[_BITS] = TiffTags.SHORT
    ifd[_BITS] = (8 * depth,) * samples
    ifd[_SAMPLES] = samples
    ifd[_PHOTOMETRIC] = _RGB if colours == 3 else _MIN_IS_BLACK
    ifd[_COMPRESSION] = 1
    ifd[_PLANAR] = 1
    if alpha is not None:
        ifd[_EXTRA_SAMPLES] = _UNASSOCIATED_ALPHA
    ifd[_ROWS_PER_STRIP] = rows_per_strip
    count_type = TiffTags.LONG8 if big else TiffTags.LONG
    ifd.tagtype[_STRIP_OFFSETS] = ifd.tagtype[_STRIP_BYTE_COUNTS] = count_type
    ifd[_STRIP_BYTE_COUNTS] = tuple(min(rows_per_strip, height - row) * stride
                                    for row in range(0, height, rows_per_strip))
    ifd[_STRIP_OFFSETS] = tuple(strip * rows_per_strip * stride for strip in range(strips))  # (from the pixels' start)
    written = io.BytesIO()
    pixels_at = ifd.save(written)  # the header, the directories and their data; the pixels follow
    directory = written.getbuffer()
    _type_iptc_as_longs(directory, big=big)
    if exif is not None and not big and has_maker_note(exif):
        directory = keep_maker_note(exif, directory)
    handle.write(directory)
    if handle.tell() != pixels_at:
        raise ValueError("the TIFF's pixels must follow its directory")
    _write_pixels(handle, pixels, alpha, stride)


def _copy_exif_tags(ifd: ImageFileDirectory_v2, exif: bytes | None) -> None:
    """The EXIF block's first-directory tags into ``ifd``, its EXIF and GPS directories as Pillow's
    writer lays them out (a dictionary value); left out: any tag of a pixel layout, and the Interop
    directory, whose DCF index describes a camera's JPEG (exiftool -validate: not allowed in TIFF;
    copied as the offset it was, it pointed into nothing, QA)."""
    if not exif:
        return
    tags = Image.Exif()
    tags.load(exif)
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
    offset, count, entry_size = ("<Q", "<Q", 20) if big else ("<I", "<H", 12)
    first = struct.unpack_from(offset, directory, 8 if big else 4)[0]
    entries = struct.unpack_from(count, directory, first)[0]
    start = first + struct.calcsize(count)
    for at in range(start, start + entries * entry_size, entry_size):
        tag, kind = struct.unpack_from("<HH", directory, at)
        length = struct.unpack_from(offset, directory, at + 4)[0]
        if tag == _IPTC and kind == TiffTags.UNDEFINED and length % 4 == 0:
            struct.pack_into("<H", directory, at + 2, TiffTags.LONG)
            struct.pack_into(offset, directory, at + 4, length // 4)


def _write_pixels(handle: IO[bytes], pixels: np.ndarray, alpha: np.ndarray | None, stride: int) -> None:
    """The pixels, interleaved with alpha, little-endian, a band of rows at a time."""
    height = pixels.shape[0]
    rows = max(1, _BAND_BYTES // max(1, stride))
    little = pixels.dtype.newbyteorder("<")
    for top in range(0, height, rows):
        band = pixels[top : top + rows]
        if alpha is None:
            out = np.ascontiguousarray(band, dtype=little)
        else:
            colours = 1 if band.ndim == 2 else 3
            out = np.empty(band.shape[:2] + (colours + 1,), dtype=little)
            out[:, :, :colours] = band.reshape(band.shape[:2] + (colours,))
            out[:, :, colours] = alpha[top : top + rows]
        handle.write(memoryview(out).cast("B"))
