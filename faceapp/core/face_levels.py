"""A dark or faded face's levels stretched before the model, and put back after.

The networks learnt from faces exposed as most photos are: in ``aaf256`` the 1st–99th percentile of
a face crop's luma spans about 16–230 (a quarter of the crops reach below 200 at the top, a quarter
start above 24 at the bottom). A face from an underexposed photo, or from a print faded towards grey,
lies outside what they saw, and the model turns it into swirls: one stop under (×0.5) already shows
them; at ×0.15, as a dark 16-bit scan read into 8 bits is, the face is lost.

Each aligned face is therefore mapped, before the restorer, by a straight line of its own, and every
candidate is mapped back after by its inverse, so the result keeps the photo's own exposure. The
line is judged on the face itself, the middle of the aligned crop (a bright sky behind a backlit
face, a lit face beside a dark one or a lamp in the corner of the crop must not decide it: dark-scan
QA). A face whose darkest percent of luma lies above 140, or whose brightest lies below 110 (where
few training faces are) is mapped by a straight line that puts those percentiles at 65 or below and
200 or above (the training faces' medians; at most ×8, and the face's brightest percent at 248 at
most). What the line takes past white (a lamp, the sky behind a backlit face) is clipped for the
model and comes back at the brightest the line can give back; the face itself comes back exactly.
(Compressing it instead, by a curve bent above the face's range, made the model's slightest change
there a large one on the way back: ×0.35 faces lost 6 dB, measured.) Every other face, and one that
a stretch of less than ×1.1 would do, is left exactly as it is.

Measured on 16 faces of the test split with the DifFace degradation, the same change of exposure
applied to the truth (PSNR against it; the default model, fidelity 0.5, 8 steps): on the face (the
middle of the crop), ×0.5 29.33 → 29.99 dB, ×0.35 31.33 → 33.10; on the whole crop, whose background
may be clipped, faces as exposed 24.43 → 24.43, ×0.5 29.38 → 28.95, ×0.35 31.47 → 31.64, faded
(×0.4 + 140) 29.90 → 31.52.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A face is stretched when its darkest percent lies above this, or its brightest below that (grey
#: levels): where few of the networks' training faces are (their degraded inputs, the middle of the
#: crop: the 1st percentile above 140 for about 4 in 100, the 99th below 110 for about 2 in 100).
#: Stretching the faces outside the 5–95 % band instead cost faces as exposed 0.11 dB (measured).
_DARK_ENOUGH, _BRIGHT_ENOUGH = 140.0, 110.0
#: Where a stretched face's darkest and brightest percent are put at the least: the training faces'
#: medians (65 and 198).
_DARK_AT, _BRIGHT_AT = 65.0, 200.0
#: The highest a face's brightest percent is put: room above it for what is brighter.
_BRIGHTEST_AT = 248.0
#: The percentiles of a face's luma that stand for its black and its white.
_DARK_PERCENTILE, _BRIGHT_PERCENTILE = 1.0, 99.0
#: A smaller stretch is not made: it changes little, and a face left as it is comes back exactly.
_LEAST_GAIN = 1.1
#: The largest stretch: 3 stops (a face in 32 grey levels fills 256).
MAX_GAIN = 8.0
#: The face within an aligned crop (fractions of its side): brows to chin, cheek to cheek.
_FACE_ROWS, _FACE_COLUMNS = (0.35, 0.85), (0.28, 0.72)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601


@dataclass(frozen=True)
class FaceLevels:
    """The straight line ``stretched = gain · value + offset`` (grey levels, clipped to 0…255) that one
    face is mapped by before the model (:meth:`stretch`) and its candidates are mapped back by
    (:meth:`undo`)."""

    gain: float = 1.0
    offset: float = 0.0

    @classmethod
    def of(cls, face: np.ndarray, damage: np.ndarray | None = None) -> FaceLevels:
        """The levels for ``face`` (an aligned HxWx3 uint8 RGB crop), judged on the face in its middle
        less its damaged pixels (``damage``: HxW, > 0 where damaged, or None): the identity when it
        is exposed as the networks' faces are."""
        height, width = face.shape[:2]
        rows = slice(round(height * _FACE_ROWS[0]), round(height * _FACE_ROWS[1]))
        columns = slice(round(width * _FACE_COLUMNS[0]), round(width * _FACE_COLUMNS[1]))
        pixels = face[rows, columns].reshape(-1, 3)
        if damage is not None:
            pixels = pixels[damage[rows, columns].reshape(-1) == 0]
        if pixels.size == 0:
            return cls()
        luma = pixels.astype(np.float32) @ _LUMA
        dark, bright = (float(v) for v in np.percentile(luma, (_DARK_PERCENTILE, _BRIGHT_PERCENTILE)))
        if bright - dark < 1.0 or bright >= _BRIGHTEST_AT or (dark <= _DARK_ENOUGH and bright >= _BRIGHT_ENOUGH):
            return cls()  # a flat patch, a face bright already, or one exposed as the networks' faces are
        dark_at = min(dark, _DARK_AT)
        gain = min((max(bright, _BRIGHT_AT) - dark_at) / (bright - dark), MAX_GAIN,
                   (_BRIGHTEST_AT - dark_at) / (bright - dark))
        if gain < _LEAST_GAIN:
            return cls()  # within range, or near enough: left exactly as it is
        return cls(gain=gain, offset=dark_at - gain * dark)

    @property
    def identity(self) -> bool:
        return self == FaceLevels()

    def stretch(self, face: np.ndarray) -> np.ndarray:
        """``face`` (uint8) mapped for the model (the array itself when the levels are the identity).
        Each grey level below what is clipped keeps a level of its own (the gain is at least 1)."""
        return face if self.identity else _mapped(face, self.gain, self.offset)

    def undo(self, face: np.ndarray) -> np.ndarray:
        """A candidate (uint8) mapped back to the photo's levels: the inverse of :meth:`stretch`."""
        return face if self.identity else _mapped(face, 1.0 / self.gain, -self.offset / self.gain)


def _mapped(face: np.ndarray, gain: float, offset: float) -> np.ndarray:
    """``face`` (uint8) through the straight line, clipped to 0…255."""
    table = np.clip(np.rint(np.arange(256, dtype=np.float64) * gain + offset), 0, 255).astype(np.uint8)
    return table[face]
