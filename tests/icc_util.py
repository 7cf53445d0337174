"""Tiny ICC v2 matrix/TRC RGB and grey profiles made here (tests must not depend on system files), written
with faceapp's ICC writer (LittleCMS, reading them, checks what it writes)."""

from __future__ import annotations

from faceapp.core.icc_profiles import curve_tag, description_tag, display_profile, text_tag, xyz_tag

D50 = (0.9642, 1.0, 0.8249)
#: Adobe RGB (1998) and Display P3 primaries, adapted to D50 (the columns of their RGB → XYZ matrix).
ADOBE_RGB = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))
DISPLAY_P3 = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))


def rgb_profile(primaries=ADOBE_RGB, *, gamma: float = 563 / 256, description: str = "Adobe RGB (test)") -> bytes:
    """An RGB display profile: three primaries (D50 XYZ), one gamma curve, D50 white."""
    curve = curve_tag(gamma)
    return display_profile(b"RGB ", [
        (b"desc", description_tag(description)), (b"wtpt", xyz_tag(*D50)), (b"rXYZ", xyz_tag(*primaries[0])),
        (b"gXYZ", xyz_tag(*primaries[1])), (b"bXYZ", xyz_tag(*primaries[2])), (b"rTRC", curve), (b"gTRC", curve),
        (b"bTRC", curve), (b"cprt", _COPYRIGHT)])


def grey_profile(*, gamma: float = 2.2, description: str = "Gray Gamma 2.2 (test)") -> bytes:
    """A grey display profile (colour space GRAY): one gamma curve, D50 white."""
    return display_profile(b"GRAY", [(b"desc", description_tag(description)), (b"wtpt", xyz_tag(*D50)),
                                     (b"kTRC", curve_tag(gamma)), (b"cprt", _COPYRIGHT)])


_COPYRIGHT = text_tag("no copyright, test data")
