"""A camera's maker notes stay readable in a result: the offsets of a note that counts them from the
EXIF block's header move with the note, one that counts them from itself is left alone."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image

from faceapp.core.export import export_photo
from faceapp.core.photo_io import read_photo

MODEL = b"Canon EOS 5D Mark II\0".ljust(32, b"\0")


def _exif_with_note(order: str, *, relative: bool, signature: bytes = b"", footer: bool = False,
                    room: int = 6) -> bytes:
    """An EXIF block (``Exif\\0\\0`` and a TIFF header in ``order``) whose EXIF IFD holds a maker note:
    after a maker's ``signature``, an IFD of two entries, the camera's model name stored after them
    (found from the block's header, as Canon's, or from the note's own start, as ``relative``), a
    short held in place, and, as Canon's, a ``footer`` stating where the note is; ``room`` bytes
    before the note."""
    mark = b"II" if order == "<" else b"MM"
    ifd0_at, exif_ifd_at = 8, 8 + 2 + 12 + 4
    note_at = exif_ifd_at + 2 + 12 + 4 + room
    name_in_note = len(signature) + 2 + 2 * 12 + 4
    note = (signature + struct.pack(order + "H", 2)
            + struct.pack(order + "HHII", 0x0006, 2, len(MODEL), name_in_note + (0 if relative else note_at))
            + struct.pack(order + "HHIHH", 0x0001, 3, 1, 7, 0) + b"\0\0\0\0" + MODEL)
    if footer:
        note += mark + (b"*\0" if order == "<" else b"\0*") + struct.pack(order + "I", note_at)
    tiff = (mark + struct.pack(order + "HI", 42, ifd0_at)
            + struct.pack(order + "H", 1) + struct.pack(order + "HHII", 0x8769, 4, 1, exif_ifd_at) + b"\0\0\0\0"
            + struct.pack(order + "H", 1) + struct.pack(order + "HHII", 0x927C, 7, len(note), note_at) + b"\0\0\0\0"
            + b"\0" * room + note)
    assert tiff[note_at:note_at + len(note)] == note
    return b"Exif\0\0" + tiff


def _note_at(block: bytes, order: str) -> int:
    """Where the block's maker note is, counted from its TIFF header."""
    tiff = block[6:] if block.startswith(b"Exif\0\0") else block
    (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
    exif_ifd = next(struct.unpack_from(order + "I", tiff, ifd0 + 2 + 12 * i + 8)[0]
                    for i in range(struct.unpack_from(order + "H", tiff, ifd0)[0])
                    if struct.unpack_from(order + "H", tiff, ifd0 + 2 + 12 * i)[0] == 0x8769)
    return next(struct.unpack_from(order + "I", tiff, exif_ifd + 2 + 12 * i + 8)[0]
                for i in range(struct.unpack_from(order + "H", tiff, exif_ifd)[0])
                if struct.unpack_from(order + "H", tiff, exif_ifd + 2 + 12 * i)[0] == 0x927C)


def _model_in(block: bytes, order: str, *, note_order: str | None = None) -> bytes:
    """The model name a reader finds through the note's first entry, counted from the block's header
    (``Exif\\0\\0`` dropped) as the note itself says (in ``note_order``: a note keeps its own byte
    order in a block of the other)."""
    tiff = block[6:] if block.startswith(b"Exif\0\0") else block
    _tag, _kind, count, value = struct.unpack_from((note_order or order) + "HHII", tiff, _note_at(block, order) + 2)
    return tiff[value:value + count]


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
def test_a_canon_style_maker_note_is_still_read_in_the_result(tmp_path, order):
    """QA: exiftool read a Canon note's model name in the photo, and found "possibly incorrect maker
    notes offsets (fix by 168?)" in the result: the note had moved, its offsets had not."""
    block = _exif_with_note(order, relative=False, footer=True, room=200)  # (moved forward when written anew)
    assert _model_in(block, order) == MODEL
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(tmp_path / "dsc.jpg", exif=block)
    photo = read_photo(tmp_path / "dsc.jpg")
    for suffix in (".jpg", ".png", ".webp", ".tif"):  # (a TIFF's EXIF is laid out again by its writer: QA)
        with Image.open(export_photo(photo.rgb, None, photo, tmp_path / f"out{suffix}",
                                     provenance={"software": "faceapp"})) as out:
            written = out.info["exif"] if suffix != ".tif" else (tmp_path / "out.tif").read_bytes()
        written_order = "<" if written[6:8] == b"II" or written[:2] == b"II" else ">"  # (a TIFF's: "<")
        assert written_order == (order if suffix != ".tif" else "<"), suffix
        assert _model_in(written, written_order, note_order=order) == MODEL, suffix
        tiff = written[6:] if written.startswith(b"Exif\0\0") else written
        footer = tiff.index(MODEL) + len(MODEL) + 4  # Canon's footer states where its note is now (review)
        assert struct.unpack_from(order + "I", tiff, footer)[0] == _note_at(written, written_order), suffix
        assert _note_at(written, written_order) != _note_at(block, order), suffix
    # the TIFF as a photo: its file is its EXIF, the note's offsets counted from the file's start (QA)
    from_tiff = read_photo(tmp_path / "out.tif")
    with Image.open(export_photo(from_tiff.rgb, None, from_tiff, tmp_path / "again.jpg",
                                 provenance={"software": "faceapp"})) as out:
        assert _model_in(out.info["exif"], "<", note_order=order) == MODEL


_NOTE_AT = 8 + 2 + 12 + 4 + 2 + 12 + 4 + 6  # where _exif_with_note puts the note, with the default room


@pytest.mark.parametrize("signature", [b"", b"FUJIFILM\x0c\0\0\0"], ids=["unsigned", "fujifilm"])
def test_a_note_that_counts_from_itself_is_left_as_it_is(tmp_path, signature):
    """Nikon's and Fujifilm's notes count their offsets from the note (their own header): moving
    the note keeps them right, and changing them would break them (review: a Fujifilm note placed
    before its values' offsets had been "fixed" broken)."""
    from faceapp.core.maker_notes import keep_maker_note

    block = _exif_with_note("<", relative=True, signature=signature)
    note = block[6:][_NOTE_AT:]
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(tmp_path / "nikon.jpg", exif=block)
    photo = read_photo(tmp_path / "nikon.jpg")
    with Image.open(export_photo(photo.rgb, None, photo, tmp_path / "out.jpg", provenance={"software": "faceapp"})) as out:
        written = out.info["exif"]
    assert note in written  # byte for byte, wherever it now is
    assert keep_maker_note(b"not exif", written) == written  # and an unreadable block changes nothing
