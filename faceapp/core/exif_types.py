"""The EXIF standard's types for the tags of the EXIF sub-IFD that Pillow's table leaves untyped.

Pillow writes a tag of the EXIF sub-IFD with the type its table (``TiffTags.TAGS_V2_GROUPS``) gives,
and that table types only a few of them: for the rest it guesses from the value, so a byte string
becomes BYTE and a positive rational RATIONAL. The EXIF standard (CIPA DC-008) types UserComment,
MakerNote, ComponentsConfiguration, FileSource, SceneType and the other binary tags UNDEFINED, and
ShutterSpeedValue, BrightnessValue and ExposureBiasValue SRATIONAL. Strict readers drop a tag of
another type (libtiff: "Wrong data type 1 for UserComment; tag ignored"; libexif likewise), so a
result's provenance, the photo's own comment and its camera's maker notes were lost to them.

:func:`register` adds the standard's types to Pillow's table once, before faceapp writes an EXIF
block; reading is unchanged (a file's own types are read from the file). The lengths stay unknown,
as for the tags Pillow guesses, so a malformed value with several items is written as it is.
"""

from __future__ import annotations

from PIL import ExifTags, TiffTags

#: EXIF sub-IFD tags the standard types UNDEFINED, SRATIONAL or LONG (Pillow's table has ExifVersion,
#: FlashpixVersion and CFAPattern already).
STANDARD_TYPES: dict[int, tuple[str, int]] = {
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
}


def register() -> None:
    """Type the EXIF sub-IFD's tags in Pillow's table as the standard does (idempotent; a type
    Pillow's own table already gives is left as it is)."""
    table = TiffTags.TAGS_V2_GROUPS.setdefault(ExifTags.IFD.Exif, {})
    for tag, (name, kind) in STANDARD_TYPES.items():
        table.setdefault(tag, TiffTags.TagInfo(tag, name, kind, None, {}))
