"""ICC profiles faceapp writes itself: an Adobe RGB (1998) compatible one, for a camera's photo whose
EXIF says its pixels are Adobe RGB without a profile embedded (DCF's option file), and sRGB, for the
pixels of a CMYK scan faceapp converted.

A camera set to Adobe RGB writes no profile: it marks the photo with EXIF ColorSpace 2, or, as DCF 2.0
has it, ColorSpace "uncalibrated" and the interoperability index "R03". Photoshop and Lightroom read
such a photo as Adobe RGB; faceapp does so too, by giving it this profile, so that its faces are
restored in sRGB and pasted back in its own space, and its results carry the profile.

The profile is an ICC v2 matrix/TRC display profile made from published figures (the colour space's
primaries and white point, adapted to the ICC's D50 with Bradford's method, and its gamma of 563/256),
as "compatible" profiles are.
"""

from __future__ import annotations

import functools
import struct

__all__ = ["adobe_rgb_compatible", "curve_tag", "description_tag", "display_profile", "srgb", "text_tag", "xyz_tag"]

#: The ICC profile connection space's white (D50), XYZ.
_D50 = (0.9642, 1.0, 0.8249)
#: Adobe RGB (1998): its red, green and blue primaries' XYZ, adapted to D50 (the columns of its
#: RGB → XYZ matrix, as its specification gives them), and its gamma.
_ADOBE_RGB_D50 = ((0.60974, 0.31111, 0.01947), (0.20528, 0.62567, 0.06087), (0.14919, 0.06322, 0.74457))
_ADOBE_RGB_GAMMA = 563 / 256
#: Its white (D65), XYZ: the media white point of an ICC v2 display profile.
_D65 = (0.95047, 1.0, 1.08883)


@functools.cache
def adobe_rgb_compatible() -> bytes:
    """An ICC profile of the Adobe RGB (1998) colour space (read by LittleCMS as such)."""
    curve = curve_tag(_ADOBE_RGB_GAMMA)
    return display_profile(b"RGB ", [
        (b"desc", description_tag("Adobe RGB (1998) compatible (faceapp)")),
        (b"cprt", text_tag("No copyright, use freely")),
        (b"wtpt", xyz_tag(*_D65)),
        (b"rXYZ", xyz_tag(*_ADOBE_RGB_D50[0])), (b"gXYZ", xyz_tag(*_ADOBE_RGB_D50[1])), (b"bXYZ", xyz_tag(*_ADOBE_RGB_D50[2])),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ])


@functools.cache
def srgb() -> bytes:
    """LittleCMS's own sRGB profile, for pixels faceapp converted to sRGB itself (a CMYK print scan's),
    so their result says what they are (review: an archive's CMYK scan became an untagged TIFF)."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _s15_fixed16(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def xyz_tag(x: float, y: float, z: float) -> bytes:
    """An ``XYZ`` tag of one colour."""
    return b"XYZ \0\0\0\0" + _s15_fixed16(x) + _s15_fixed16(y) + _s15_fixed16(z)


def curve_tag(gamma: float) -> bytes:
    """A ``curv`` tag of one gamma (u8Fixed8)."""
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))


def text_tag(text: str) -> bytes:
    """A ``text`` tag (ASCII)."""
    return b"text\0\0\0\0" + text.encode("ascii") + b"\0"


def description_tag(text: str) -> bytes:
    """A v2 ``desc`` tag: the ASCII name, and empty Unicode and ScriptCode names."""
    name = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(name)) + name + b"\0" * 8 + b"\0" * 3 + b"\0" * 67


def display_profile(colour_space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """An ICC v2.1 display profile (PCS XYZ) of ``colour_space`` holding ``tags``, each 4-byte aligned."""
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (struct.pack(">I", offset + len(data)) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntr" + colour_space
              + b"XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0)  # rendering intent: perceptual
              + xyz_tag(*_D50)[8:] + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + data
