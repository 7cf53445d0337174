"""What a result shares of its photo's metadata (``Preferences.metadata``).

A restored family photo is often made to be shared, and its file says more than its pixels: where it
was taken (GPS, place names), who took it and who is in it, captions, keywords, the camera's serial
number. By default a result keeps all of it, as an archive wants. ``no-location`` leaves out where
the photo was taken and keeps the rest; ``none`` leaves out every word of the photo's (its EXIF,
XMP, IPTC, comment and PNG text), keeping only what shows its pixels right: the colour profile and
the resolution. faceapp's own record of how the result was made stays; with ``none`` it no longer
names the photo's file (the front-ends leave its ``source`` out).
"""

from __future__ import annotations

import dataclasses
import logging

from PIL import Image

from faceapp.core import exif_types
from faceapp.core import xmp as xmp_packets
from faceapp.core.jpeg_iptc import IPTC_LOCATION_DATASETS, without_datasets
from faceapp.core.maker_notes import keep_maker_note
from faceapp.core.photo_io import Photo
from faceapp.core.preferences import METADATA_KINDS  # (all, all but where it was taken, nothing)

log = logging.getLogger(__name__)

_GPS_IFD = 0x8825


def shared_photo(photo: Photo, metadata: str) -> Photo:
    """``photo`` with only the metadata ``metadata`` (one of :data:`METADATA_KINDS`) lets its result
    carry; ``photo`` itself for "all"."""
    if metadata == "all":
        return photo
    if metadata == "none":
        return dataclasses.replace(photo, exif=None, xmp=None, iptc=None, comment=None, png_text=None)
    if metadata != "no-location":
        raise ValueError(f"metadata must be one of {', '.join(METADATA_KINDS)}, got {metadata!r}")
    return dataclasses.replace(
        photo, exif=_exif_without_location(photo.exif), xmp=xmp_packets.without_location(photo.xmp),
        iptc=without_datasets(photo.iptc, IPTC_LOCATION_DATASETS) if photo.iptc else photo.iptc)


def _exif_without_location(exif: bytes | None) -> bytes | None:
    """The EXIF block ``exif`` without its GPS directory; None where it cannot be read (then it
    cannot be told what it holds)."""
    if not exif:
        return exif
    block = Image.Exif()
    try:
        block.load(exif)
        if _GPS_IFD not in block:
            return exif
        del block[_GPS_IFD]
        exif_types.conform(block)  # (as the export writes a block)
        return bytes(keep_maker_note(exif, block.tobytes()))  # (review: else a camera's note read garbage)
    except Exception as exc:  # noqa: BLE001 - a block Pillow cannot read or write: left out whole
        log.info("an EXIF block that cannot be read without its location is left out (%s)", exc)
        return None
