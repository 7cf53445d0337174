"""A photo's IPTC record (captions, keywords, credits, copyright), carried into the JPEG of a result.

Photo archives and newsrooms keep a photo's caption and credits in its IPTC-NAA record, which a
JPEG holds as one resource (id 0x0404) of a Photoshop "image resource" block in an APP13 segment.
Pillow reads that block (``image.info["photoshop"]``) but has no option to write one, so the
result's JPEG gets the segment here, after Pillow has encoded it: an APP13 segment
("Photoshop 3.0", then one 8BIM resource holding the record) inserted after the file's other
application segments (JFIF, EXIF, XMP, ICC), before the image data.

Only the IPTC record is carried over. The Photoshop block's other resources describe the source
file and would be wrong for the result: its embedded thumbnail shows the unrestored photo, its
resolution is superseded by the result's, and the IPTC digest (0x0425) is left out so that readers
do not take the record for one that another program changed.

A TIFF holds the record in its own tag (33723, IPTC-NAA), which a TIFF result gets back (and a
TIFF's record goes into a JPEG result's APP13 as a JPEG's does). A PNG or WebP result has no place
for the record: :func:`iptc_text` reads its title,
creators, rights, caption and keywords, which the export states in the result's XMP instead.
"""

from __future__ import annotations

import codecs
import struct

__all__ = ["IPTC_CORE_DATASETS", "IPTC_RESOURCE_ID", "MAX_IPTC_BYTES", "iptc_from_resources", "iptc_text",
           "legacy_text", "photoshop_segment", "trimmed", "with_iptc"]

#: the Photoshop image resource id of the IPTC-NAA record
IPTC_RESOURCE_ID = 0x0404
_SIGNATURE = b"Photoshop 3.0\x00"
_RESOURCE_HEADER = 4 + 2 + 2 + 4  # "8BIM", the id, an empty Pascal name padded to 2 bytes, the size
#: the largest record one APP13 segment holds (its length field counts itself; the data is padded to even)
MAX_IPTC_BYTES = 0xFFFF - 2 - len(_SIGNATURE) - _RESOURCE_HEADER - 1

_SOI = b"\xff\xd8"


def photoshop_segment(iptc: bytes) -> bytes:
    """The APP13 segment (marker included) holding ``iptc`` as the one Photoshop image resource."""
    if len(iptc) > MAX_IPTC_BYTES:
        raise ValueError(f"an IPTC record of {len(iptc)} bytes does not fit in a JPEG segment ({MAX_IPTC_BYTES} at most)")
    data = iptc + b"\x00" * (len(iptc) % 2)
    payload = _SIGNATURE + b"8BIM" + struct.pack(">HHI", IPTC_RESOURCE_ID, 0, len(iptc)) + data
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def iptc_from_resources(resources: bytes) -> bytes | None:
    """The IPTC-NAA record (resource 0x0404) among Photoshop image resources (``8BIM`` blocks, as
    ImageMagick and exiftool keep them in a PNG's "Raw profile type 8bim" or "iptc" text), or None.
    A block cut short ends the reading."""
    at = 0
    while at + 12 <= len(resources) and resources[at:at + 4] == b"8BIM":
        (resource,) = struct.unpack(">H", resources[at + 4:at + 6])
        name = resources[at + 6]
        at += 6 + name + 1 + (name + 1) % 2  # the Pascal name, padded to an even length
        if at + 4 > len(resources):
            return None
        (size,) = struct.unpack(">I", resources[at:at + 4])
        data = resources[at + 4:at + 4 + size]
        if len(data) < size:
            return None
        if resource == IPTC_RESOURCE_ID:
            return trimmed(data) or None
        at += 4 + size + size % 2
    return None


def with_iptc(jpeg: bytes | memoryview, iptc: bytes) -> bytes:
    """``jpeg`` (a whole file) with ``iptc`` in an APP13 segment after its application segments.

    Raises ValueError when ``jpeg`` does not start like a JPEG file or the record is too long."""
    if bytes(jpeg[:len(_SOI)]) != _SOI:
        raise ValueError("not a JPEG file (no start-of-image marker)")
    at = len(_SOI)
    while at + 4 <= len(jpeg) and jpeg[at] == 0xFF and 0xE0 <= jpeg[at + 1] <= 0xEF:  # APP0 … APP15
        (length,) = struct.unpack(">H", jpeg[at + 2:at + 4])
        at += 2 + length
    return b"".join((jpeg[:at], photoshop_segment(iptc), jpeg[at:]))


#: The IPTC-NAA application record's datasets (record 2) a result in another format carries, by
#: what they say: the object name (a title), the by-line (creator), the copyright notice, the
#: caption and the keywords.
IPTC_TEXT_DATASETS = {5: "title", 80: "creator", 116: "rights", 120: "description", 25: "subject"}
#: … and those the IPTC Core schema puts into XMP's Photoshop and IPTC Core namespaces (prefix:name):
#: where and when the photo was taken, its headline, credit, source, instructions, the creator's title.
IPTC_CORE_DATASETS = {90: "photoshop:City", 95: "photoshop:State", 101: "photoshop:Country",
                       92: "Iptc4xmpCore:Location", 100: "Iptc4xmpCore:CountryCode", 105: "photoshop:Headline",
                       110: "photoshop:Credit", 115: "photoshop:Source", 40: "photoshop:Instructions",
                       85: "photoshop:AuthorsPosition", 103: "photoshop:TransmissionReference",
                       55: "photoshop:DateCreated"}  # (IIM's CCYYMMDD: export writes it as XMP's YYYY-MM-DD)
_UTF8_MARK = b"\x1b%G"  # record 1, dataset 90 (coded character set): UTF-8


def _datasets(record: bytes) -> tuple[list[tuple[int, int, bytes]], int]:
    """The record's datasets as (record number, dataset number, value), and where the last ends.
    Each is a tag byte 0x1C, its record and dataset numbers and a 2-byte big-endian length (its high
    bit set: the length of an extended length follows); anything else ends the reading."""
    found: list[tuple[int, int, bytes]] = []
    at = 0
    while at + 5 <= len(record) and record[at] == 0x1C:
        number, dataset, (length,) = record[at + 1], record[at + 2], struct.unpack(">H", record[at + 3:at + 5])
        at += 5
        if length & 0x8000:  # an extended dataset: the next (length & 0x7FFF) bytes give its length
            size = length & 0x7FFF
            length = int.from_bytes(record[at:at + size], "big")
            at += size
        found.append((number, dataset, record[at:at + length]))
        at += length
    return found, min(at, len(record))


#: The datasets of an IPTC record that say where the photo was taken: content location code and
#: name (26, 27), city (90), sub-location (92), province or state (95), country code and name (100, 101).
IPTC_LOCATION_DATASETS = frozenset({26, 27, 90, 92, 95, 100, 101})


def without_datasets(record: bytes, datasets: frozenset[int]) -> bytes | None:
    """``record`` without the application record's (2:) ``datasets``; None when nothing of it is left
    but its envelope (record 1)."""
    kept = [(number, dataset, value) for number, dataset, value in _datasets(record)[0]
            if not (number == 2 and dataset in datasets)]
    if not any(number == 2 for number, _dataset, _value in kept):
        return None
    return b"".join(_dataset_bytes(number, dataset, value) for number, dataset, value in kept)


def _dataset_bytes(number: int, dataset: int, value: bytes) -> bytes:
    """One dataset as :func:`_datasets` reads it (an extended length for one of 32 KB or more)."""
    if len(value) < 0x8000:
        return bytes([0x1C, number, dataset]) + struct.pack(">H", len(value)) + value
    return bytes([0x1C, number, dataset]) + struct.pack(">HI", 0x8004, len(value)) + value


def trimmed(record: bytes) -> bytes:
    """``record`` without what follows its last dataset: a TIFF stores the record as 4-byte
    integers (Photoshop's habit), padded with zeros to a multiple of 4."""
    return record[:_datasets(record)[1]]


def _as_latin_1(error: UnicodeDecodeError) -> tuple[str, int]:
    """A byte Windows-1252 leaves undefined, read as Latin-1 (the rest of the text stays Windows-1252)."""
    return error.object[error.start:error.end].decode("latin-1"), error.end


_LATIN_1_FALLBACK = "faceapp-latin-1"
codecs.register_error(_LATIN_1_FALLBACK, _as_latin_1)


def legacy_text(value: bytes) -> str:
    """Text from a field without a stated encoding (an IPTC record without its UTF-8 mark, a JPEG
    comment): UTF-8 where the bytes are UTF-8, else Windows-1252, which Photoshop and exiftool's
    "Latin" write and whose quotes and dashes Latin-1 turns into control characters (QA: "Köln –
    café" lost its dash), else Latin-1 for the five bytes Windows-1252 leaves undefined."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", errors=_LATIN_1_FALLBACK)  # (per byte: review)


def iptc_text(record: bytes, datasets: dict[int, str] = IPTC_TEXT_DATASETS) -> dict[str, list[str]]:
    """The texts an IPTC-NAA record holds for ``datasets`` (dataset number → name: by default the
    title, creators, rights, description and keywords of :data:`IPTC_TEXT_DATASETS`; several values
    where the record repeats a dataset); text is UTF-8 when record 1 says so or the bytes are
    UTF-8, else Windows-1252 (:func:`legacy_text`). A record cut short ends the reading."""
    found, _ = _datasets(record)
    utf8 = any(number == 1 and dataset == 90 and value.startswith(_UTF8_MARK) for number, dataset, value in found)
    text: dict[str, list[str]] = {}
    for number, dataset, value in found:
        if number == 2 and dataset in datasets and value.strip(b"\x00 "):
            decoded = value.decode("utf-8", "replace") if utf8 else legacy_text(value)
            text.setdefault(datasets[dataset], []).append(decoded.strip("\x00 "))
    return text
