"""Tiny ICC v2 matrix/TRC RGB and grey profiles written by hand (tests must not depend on system files)."""

from __future__ import annotations

import struct

D50 = (0.9642, 1.0, 0.8249)
#: Adobe RGB (1998) and Display P3 primaries, adapted to D50 (the columns of their RGB → XYZ matrix).
ADOBE_RGB = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))
DISPLAY_P3 = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def rgb_profile(primaries=ADOBE_RGB, *, gamma: float = 563 / 256, description: str = "Adobe RGB (test)") -> bytes:
    """An RGB display profile: three primaries (D50 XYZ), one gamma curve, D50 white."""
    curve = _curve(gamma)
    return _profile(b"RGB ", [(b"desc", _desc(description)), (b"wtpt", _xyz(*D50)), (b"rXYZ", _xyz(*primaries[0])),
                              (b"gXYZ", _xyz(*primaries[1])), (b"bXYZ", _xyz(*primaries[2])), (b"rTRC", curve),
                              (b"gTRC", curve), (b"bTRC", curve), (b"cprt", _COPYRIGHT)])


def grey_profile(*, gamma: float = 2.2, description: str = "Gray Gamma 2.2 (test)") -> bytes:
    """A grey display profile (colour space GRAY): one gamma curve, D50 white."""
    return _profile(b"GRAY", [(b"desc", _desc(description)), (b"wtpt", _xyz(*D50)), (b"kTRC", _curve(gamma)),
                              (b"cprt", _COPYRIGHT)])


_COPYRIGHT = b"text\0\0\0\0no copyright, test data\0"


def _curve(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _profile(colour_space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """An ICC v2 display profile (PCS XYZ) of ``colour_space`` holding ``tags``."""
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntr" + colour_space + b"XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + b"\0" * 4 + _s15(D50[0]) + _s15(D50[1]) + _s15(D50[2]) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data
