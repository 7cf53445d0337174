"""The EXIF standard's types for the tags of the EXIF sub-IFD that Pillow's table leaves untyped.

Pillow writes a tag of the EXIF sub-IFD with the type its table (``TiffTags.TAGS_V2_GROUPS``) gives,
and that table types only a few of them: for the rest it guesses from the value, so a byte string
becomes BYTE and a positive rational RATIONAL. The EXIF standard (CIPA DC-008) types UserComment,
MakerNote, ComponentsConfiguration, FileSource, SceneType and the other binary tags UNDEFINED, and
ShutterSpeedValue, BrightnessValue and ExposureBiasValue SRATIONAL. Strict readers drop a tag of
another type (libtiff: "Wrong data type 1 for UserComment; tag ignored"; libexif likewise), so a
result's provenance, the photo's own comment and its camera's maker notes were lost to them.

:func:`register` adds the standard's types to Pillow's table once, before faceapp writes an EXIF
block (a file's own types are still what Pillow reads). The lengths stay unknown, as for the tags
Pillow guesses, so a value of several items is written as it is. Once typed, a tag is written with
its type whatever the photo stored it as: :func:`conform` turns such values into the standard's
form (a FileSource stored as SHORT 3 into the byte 3) and drops the tags whose value cannot be
(a negative ISOSpeed), before any EXIF block is written, so that one odd tag costs that tag, not the
whole block. Nothing in faceapp rewrites a photo's EXIF through Pillow otherwise (``photo_io`` turns
pixels upright itself rather than with ``ImageOps.exif_transpose``, which re-encodes the EXIF).
"""

from __future__ import annotations

import logging
from numbers import Integral, Real

from PIL import ExifTags, Image, TiffTags

log = logging.getLogger(__name__)

#: EXIF sub-IFD tags the standard types UNDEFINED, SRATIONAL, LONG or ASCII (Pillow's table has
#: ExifVersion, FlashpixVersion and CFAPattern already; typed as ASCII, text of any language is
#: written as its bytes, :func:`_keep_text_bytes`).
STANDARD_TYPES: dict[int, tuple[str, int]] = {
    0x8824: ("SpectralSensitivity", TiffTags.ASCII),
    0x9003: ("DateTimeOriginal", TiffTags.ASCII),
    0x9004: ("DateTimeDigitized", TiffTags.ASCII),
    0x9010: ("OffsetTime", TiffTags.ASCII),
    0x9011: ("OffsetTimeOriginal", TiffTags.ASCII),
    0x9012: ("OffsetTimeDigitized", TiffTags.ASCII),
    0x9290: ("SubSecTime", TiffTags.ASCII),
    0x9291: ("SubSecTimeOriginal", TiffTags.ASCII),
    0x9292: ("SubSecTimeDigitized", TiffTags.ASCII),
    0xA004: ("RelatedSoundFile", TiffTags.ASCII),
    0xA420: ("ImageUniqueID", TiffTags.ASCII),
    0xA430: ("CameraOwnerName", TiffTags.ASCII),
    0xA431: ("BodySerialNumber", TiffTags.ASCII),
    0xA433: ("LensMake", TiffTags.ASCII),
    0xA434: ("LensModel", TiffTags.ASCII),
    0xA435: ("LensSerialNumber", TiffTags.ASCII),
    0xA436: ("ImageTitle", TiffTags.ASCII),  # EXIF 3.0's text tags
    0xA437: ("Photographer", TiffTags.ASCII),
    0xA438: ("ImageEditor", TiffTags.ASCII),
    0xA439: ("CameraFirmware", TiffTags.ASCII),
    0xA43A: ("RAWDevelopingSoftware", TiffTags.ASCII),
    0xA43B: ("ImageEditingSoftware", TiffTags.ASCII),
    0xA43C: ("MetadataEditingSoftware", TiffTags.ASCII),
    0x8828: ("OECF", TiffTags.UNDEFINED),
    0x8831: ("StandardOutputSensitivity", TiffTags.LONG),
    0x8832: ("RecommendedExposureIndex", TiffTags.LONG),
    0x8833: ("ISOSpeed", TiffTags.LONG),
    0x8834: ("ISOSpeedLatitudeyyy", TiffTags.LONG),
    0x8835: ("ISOSpeedLatitudezzz", TiffTags.LONG),
    0x9101: ("ComponentsConfiguration", TiffTags.UNDEFINED),
    0x9201: ("ShutterSpeedValue", TiffTags.SIGNED_RATIONAL),
    0x9203: ("BrightnessValue", TiffTags.SIGNED_RATIONAL),
    0x9204: ("ExposureBiasValue", TiffTags.SIGNED_RATIONAL),
    0x927C: ("MakerNote", TiffTags.UNDEFINED),
    0x9286: ("UserComment", TiffTags.UNDEFINED),
    0x9400: ("Temperature", TiffTags.SIGNED_RATIONAL),
    0x9403: ("WaterDepth", TiffTags.SIGNED_RATIONAL),
    0x9405: ("CameraElevationAngle", TiffTags.SIGNED_RATIONAL),
    0xA20C: ("SpatialFrequencyResponse", TiffTags.UNDEFINED),
    0xA300: ("FileSource", TiffTags.UNDEFINED),
    0xA301: ("SceneType", TiffTags.UNDEFINED),
    0xA40B: ("DeviceSettingDescription", TiffTags.UNDEFINED),
    0xA462: ("SourceExposureTimesOfCompositeImage", TiffTags.UNDEFINED),
}

_UINT32 = 2**32


def register() -> None:
    """Type the EXIF sub-IFD's tags in Pillow's table as the standard does (idempotent; a type
    Pillow's own table already gives is left as it is)."""
    table = TiffTags.TAGS_V2_GROUPS.setdefault(ExifTags.IFD.Exif, {})
    for tag, (name, kind) in STANDARD_TYPES.items():
        table.setdefault(tag, TiffTags.TagInfo(tag, name, kind, None, {}))


def conform(exif: Image.Exif) -> None:
    """Make the EXIF sub-IFD of ``exif`` (in place) writable with the types :func:`register` gives:
    whole numbers 0…255 stored for an UNDEFINED tag become its bytes, text its ASCII bytes; a value
    that does not fit its type (a negative LONG, text for a rational) is dropped, and logged. Text
    of ASCII tags beyond ASCII keeps its bytes (:func:`_keep_text_bytes`)."""
    _keep_text_bytes(exif, None)
    for group in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
        if group in exif:
            _keep_text_bytes(exif.get_ifd(group), group)
    if ExifTags.IFD.Exif not in exif:
        return
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    for tag in [tag for tag in ifd if tag in STANDARD_TYPES]:
        name, kind = STANDARD_TYPES[tag]
        value = _conformed(ifd[tag], kind)
        if value is None:
            log.info("EXIF %s (%r) does not fit its standard type: left out", name, ifd[tag])
            del ifd[tag]
        else:
            ifd[tag] = value


def _keep_text_bytes(tags, group: int | None) -> None:
    """Give the text of ``tags``' ASCII tags (a directory of ``group``; None: the first) that is not
    plain ASCII as bytes, which Pillow writes as they are: it reads such text as Latin-1 and writes
    text as ASCII, each other character a '?' (QA: a caption "Taufe von Ännchen" and an artist
    "Günter Müller", stored in UTF-8 as exiftool and most programs write them, came back as
    "Taufe von ??nnchen" and "G??nter M??ller"). Read text goes back to the file's very bytes;
    text faceapp sets beyond Latin-1 is written in UTF-8."""
    for tag, value in list(tags.items()):
        if isinstance(value, str) and not value.isascii() and TiffTags.lookup(tag, group).type == TiffTags.ASCII:
            try:
                tags[tag] = value.encode("latin-1")
            except UnicodeEncodeError:
                tags[tag] = value.encode("utf-8")


def _conformed(value: object, kind: int) -> object | None:
    """``value`` in the form Pillow writes as ``kind``, or None when it cannot be."""
    items = value if isinstance(value, tuple) else (value,)
    if kind == TiffTags.ASCII:  # (a number a camera stored instead is written as its digits)
        return value if isinstance(value, (str, bytes)) else str(value) if isinstance(value, Integral) else None
    if kind == TiffTags.UNDEFINED:
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode("ascii", "replace")
        if items and all(isinstance(v, Integral) and 0 <= v <= 255 for v in items):
            return bytes(int(v) for v in items)
        return None
    if kind == TiffTags.LONG:
        fits = items and all(isinstance(v, Integral) and 0 <= v < _UINT32 for v in items)
        return value if fits else None
    fits = items and all(isinstance(v, Real) and not isinstance(v, bool) for v in items)  # SRATIONAL
    return value if fits else None
