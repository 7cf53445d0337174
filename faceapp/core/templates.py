"""Five-point face templates that aligned crops are warped onto.

Points are in the order left eye, right eye, nose tip, left mouth corner, right mouth corner, "left"
meaning the image's left: the first point is the subject's right eye (x ≈ 193 of 512 in FFHQ).
"""

from __future__ import annotations

import numpy as np

#: FFHQ five-point template at 512 px, the framing of the official DifFace models.
FFHQ5_512 = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.19366],
        [256.63416, 314.01935],
        [201.26117, 371.41043],
        [313.08905, 371.15118],
    ],
    dtype=np.float32,
)

_TEMPLATES_512 = {"ffhq5": FFHQ5_512}


def face_template(name: str, size: int) -> np.ndarray:
    """The named template scaled to a square crop of ``size`` pixels, as a (5, 2) float32 array."""
    try:
        base = _TEMPLATES_512[name]
    except KeyError:
        known = ", ".join(sorted(_TEMPLATES_512))
        raise ValueError(f"unknown face template {name!r} (known: {known})") from None
    return (base * (size / 512.0)).astype(np.float32)
