"""A camera's maker notes kept readable when an EXIF block is written anew.

Most makers' notes (Canon's, Panasonic's, Sony's, Olympus's older ones, …) are an IFD inside the
EXIF MakerNote tag whose values are found by offsets counted from the start of the EXIF block's TIFF
header, not from the note's own start. Writing the block anew (Pillow's ``Exif.tobytes``) moves the
note, and every such offset then points elsewhere: the lens, the serial number and the rest read as
garbage ("Possibly incorrect maker notes offsets", exiftool; QA). :func:`keep_maker_note` moves
those offsets with the note, as exiftool and Exiv2 do when they rewrite one. Notes whose offsets
count from the note itself (Nikon's, Fujifilm's, which carry their own header), and notes this
module cannot read as an IFD, need nothing and are left as they are.
"""

from __future__ import annotations

import struct

from PIL import ExifTags

__all__ = ["has_maker_note", "keep_maker_note"]

_EXIF_HEADER = b"Exif\0\0"
_EXIF_IFD, _MAKER_NOTE = ExifTags.IFD.Exif, ExifTags.Base.MakerNote
#: Bytes per value of each TIFF type (1 BYTE … 13 IFD).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
#: Where a note's IFD may start: at once (Canon), or after a maker's header ("AOC\0" Pentax, 6 bytes;
#: "OLYMP\0" and "SANYO\0", 8; "Panasonic\0\0\0" and "SONY DSC \0\0\0", 12).
_IFD_STARTS = (0, 6, 8, 10, 12)
_MOST_ENTRIES = 512
#: Bytes a maker may leave between its note's IFD and its first value (a next-IFD link, padding).
_VALUES_GAP = 16
#: The signatures of notes whose offsets count from the note itself (or from a TIFF header of its
#: own): nothing in them moves with the note.
_COUNTING_FROM_THE_NOTE = (b"FUJIFILM", b"Nikon\0\x02", b"OLYMPUS\0", b"OM SYSTEM\0", b"LEICA", b"Apple iOS",
                           b"GENERALE", b"Ricoh", b"KDK", b"SIGMA", b"FOVEON")


def keep_maker_note(before: bytes, after: bytes | memoryview) -> bytes | memoryview:
    """``after`` (an EXIF block, with or without ``Exif\\0\\0``, written anew from ``before``) with its
    maker note's offsets moved by as much as the note moved, where they counted from the block's
    header in ``before``; ``after`` as it is otherwise (no note, a note that did not move, one whose
    offsets count otherwise, a block that cannot be read). A writable memoryview is patched in place."""
    old, new = _maker_note(before), _maker_note(after)
    if old is None or new is None:
        return after
    (old_order, old_at, note), (_, new_at, new_note) = old, new
    if new_at == old_at or note != new_note:  # (a note keeps its own byte order whatever its block's)
        return after
    for order in (old_order, "<" if old_order == ">" else ">"):  # (a note may keep its own byte order)
        entries = _absolute_entries(note, old_at, order)
        if entries:
            break
    else:
        return after
    in_place = isinstance(after, memoryview) and not after.readonly  # (a TIFF file in memory: no copy; review)
    patched = after if in_place else bytearray(after)
    base = len(_EXIF_HEADER) if bytes(after[:6]) == _EXIF_HEADER else 0
    for field_at, value in entries:
        struct.pack_into(order + "I", patched, base + new_at + field_at, value + new_at - old_at)
    footer = _footer_at(note, order)
    if footer is not None and struct.unpack_from(order + "I", note, footer)[0] == old_at:  # (Canon's; review)
        struct.pack_into(order + "I", patched, base + new_at + footer, new_at)
    return patched if in_place else bytes(patched)


def has_maker_note(block: bytes) -> bool:
    """Whether the EXIF block (or TIFF file) holds a maker note this module reads."""
    return _maker_note(block) is not None


def _maker_note(block: bytes) -> tuple[str, int, bytes] | None:
    """(byte order, the note's offset from the TIFF header, its bytes) of an EXIF block, or None."""
    tiff = block[len(_EXIF_HEADER):] if block[:6] == _EXIF_HEADER else block
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(tiff[:2])]
        (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
        exif_ifd = _entry(tiff, order, ifd0, _EXIF_IFD)
        if exif_ifd is None:
            return None
        note = _entry(tiff, order, struct.unpack_from(order + "I", tiff, exif_ifd + 8)[0], _MAKER_NOTE)
        if note is None:
            return None
        (count,) = struct.unpack_from(order + "I", tiff, note + 4)
        if count <= 4:
            return None
        (at,) = struct.unpack_from(order + "I", tiff, note + 8)
    except (KeyError, struct.error):
        return None
    data = bytes(tiff[at:at + count])
    return (order, at, data) if len(data) == count else None


def _entry(tiff: bytes, order: str, ifd: int, tag: int) -> int | None:
    """Where the entry of ``tag`` is in the IFD at ``ifd``, or None."""
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for index in range(min(count, _MOST_ENTRIES)):
        at = ifd + 2 + 12 * index
        if struct.unpack_from(order + "H", tiff, at)[0] == tag:
            return at
    return None


def _absolute_entries(note: bytes, note_at: int, order: str) -> list[tuple[int, int]]:
    """The offset fields of the note's IFD (where each is within the note, and its value) when its
    values are counted from the block's header; none when the note is no IFD this reads, carries a
    maker's signature whose offsets count from the note (Fujifilm's, Nikon's, …), or its offsets
    count from elsewhere, or cannot be told apart (review: Fujifilm's, counted from the note, were
    also within the note counted from the header, and "fixed" broken). Told by where its first value
    lies: a maker writes it just after the IFD, so counted from the header it is ``note_at`` further."""
    if note.startswith(_COUNTING_FROM_THE_NOTE):
        return []
    for start in _IFD_STARTS:
        try:
            (count,) = struct.unpack_from(order + "H", note, start)
        except struct.error:
            return []
        if not 0 < count <= _MOST_ENTRIES or start + 2 + 12 * count > len(note):
            continue
        after_ifd = start + 2 + 12 * count  # where values may start (after a next-IFD link, maybe)
        fields, plausible = [], True
        for index in range(count):
            at = start + 2 + 12 * index
            _tag, kind, items, value = struct.unpack_from(order + "HHII", note, at)
            if kind not in _TYPE_SIZES:
                plausible = False
                break
            size = _TYPE_SIZES[kind] * items
            if size > 4:
                if not (note_at + after_ifd <= value and value + size <= note_at + len(note)):
                    plausible = False  # counted from elsewhere (the note itself, or its own header)
                    break
                fields.append((at + 8, value))
        if not plausible:
            continue
        if not fields:
            return []  # an IFD whose values all fit in their entries: nothing to move
        first = min(value for _, value in fields)
        from_header = first - note_at - after_ifd <= _VALUES_GAP
        from_note = after_ifd <= first <= after_ifd + _VALUES_GAP
        return fields if from_header and not from_note else []
    return []


def _footer_at(note: bytes, order: str) -> int | None:
    """Where a Canon note's footer (a TIFF header: its byte order and the note's own offset, which
    readers check against where the note is) holds that offset within the note, or None."""
    footer = note[-8:]
    if len(note) >= 8 and footer[:4] in (b"II*\0", b"MM\0*"):
        return len(note) - 4
    return None
