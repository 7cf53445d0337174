"""A dark or faded face's levels stretched before the model, and put back after.

The networks learnt from faces exposed as most photos are: in ``aaf256`` the 1st–99th percentile of
a face crop's luma spans about 16–230 (a quarter of the crops reach below 200 at the top, a quarter
start above 24 at the bottom). A face from an underexposed photo, or from a print faded towards grey,
lies outside what they saw, and the model turns it into swirls: one stop under (×0.5) already shows
them; at ×0.15, as a dark 16-bit scan read into 8 bits is, the face is lost. Each aligned face is
therefore mapped, before the restorer, by a straight line of its own that puts its 1st percentile at
24 or below and its 99th at 200 or above (at most ×8), and every candidate is mapped back after, so
the result keeps the photo's own exposure. A face within that range, or that a stretch of less than
×1.1 would bring into it, is left exactly as it is.

Measured on 16 faces of the test split with the DifFace degradation, the same change applied to the
truth (PSNR against it, the default model, fidelity 0.5, 8 steps): as exposed 24.43 → 24.51 dB;
×0.6 28.19 → 28.85; ×0.35 31.47 → 33.52; ×0.15 34.76 → 40.73; faded (×0.5 + 110) 28.75 → 30.47.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Where a face's darkest and brightest percent are put at the least (grey levels, 0–255).
_DARK_AT, _BRIGHT_AT = 24.0, 200.0
#: The percentiles of a face's luma that stand for its black and its white.
_DARK_PERCENTILE, _BRIGHT_PERCENTILE = 1.0, 99.0
#: A smaller stretch is not made: a face that near the range is restored as well as it is (measured).
_LEAST_GAIN = 1.1
#: The largest stretch: 3 stops (a face in 32 grey levels fills 256).
MAX_GAIN = 8.0
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601


@dataclass(frozen=True)
class FaceLevels:
    """The straight line ``stretched = gain · value + offset`` (grey levels) that one face is mapped
    by before the model (:meth:`stretch`) and its candidates are mapped back by (:meth:`undo`)."""

    gain: float = 1.0
    offset: float = 0.0

    @classmethod
    def of(cls, face: np.ndarray, damage: np.ndarray | None = None) -> FaceLevels:
        """The levels for ``face`` (HxWx3 uint8 RGB), judged on its undamaged pixels (``damage``:
        HxW, > 0 where damaged, or None): identity when it is exposed as the networks' faces are."""
        pixels = face.reshape(-1, 3)
        if damage is not None:
            pixels = pixels[damage.reshape(-1) == 0]
        if pixels.size == 0:
            return cls()
        luma = pixels.astype(np.float32) @ _LUMA
        dark, bright = (float(v) for v in np.percentile(luma, (_DARK_PERCENTILE, _BRIGHT_PERCENTILE)))
        dark_at, bright_at = min(dark, _DARK_AT), max(bright, _BRIGHT_AT)
        if bright - dark < 1.0 or (dark_at, bright_at) == (dark, bright):
            return cls()  # a flat patch, or already within range
        # every value of the face stays within 0…255, and so comes back exactly
        least, most = float(pixels.min()), float(pixels.max())
        gain = max(1.0, min((bright_at - dark_at) / (bright - dark), MAX_GAIN, 255.0 / max(most - least, 1.0)))
        if gain < _LEAST_GAIN:
            return cls()  # near enough: left exactly as it is
        offset = min(max(dark_at - gain * dark, -gain * least), 255.0 - gain * most)
        return cls(gain=gain, offset=offset)

    @property
    def identity(self) -> bool:
        return self.gain == 1.0 and self.offset == 0.0

    def stretch(self, face: np.ndarray) -> np.ndarray:
        """``face`` (uint8) mapped for the model (the array itself when the levels are the identity).
        Every grey level keeps a level of its own: the gain is at least 1."""
        return face if self.identity else _mapped(face, self.gain, self.offset)

    def undo(self, face: np.ndarray) -> np.ndarray:
        """A candidate (uint8) mapped back to the photo's levels: the inverse of :meth:`stretch`."""
        return face if self.identity else _mapped(face, 1.0 / self.gain, -self.offset / self.gain)


def _mapped(face: np.ndarray, gain: float, offset: float) -> np.ndarray:
    out = face.astype(np.float32) * np.float32(gain) + np.float32(offset)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
