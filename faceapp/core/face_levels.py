"""A dark or faded face's levels stretched before the model, and put back after.

The networks learnt from faces exposed as most photos are: in ``aaf256`` the 1st–99th percentile of
a face crop's luma spans about 16–230 (a quarter of the crops reach below 200 at the top, a quarter
start above 24 at the bottom). A face from an underexposed photo, or from a print faded towards grey,
lies outside what they saw, and the model turns it into swirls: one stop under (×0.5) already shows
them; at ×0.15, as a dark 16-bit scan read into 8 bits is, the face is lost.

Each aligned face is therefore mapped, before the restorer, by a tone curve of its own, and every
candidate is mapped back after by its inverse, so the result keeps the photo's own exposure. The
curve is judged on the face itself, the middle of the aligned crop (a bright sky behind a backlit
face, a lit face beside a dark one or a lamp in the corner of the crop must not decide it: dark-scan
QA). A face whose darkest percent of luma lies above 140, or whose brightest lies below 110 (where
few training faces are) is mapped by a straight line between those percentiles that
puts them at 65 or below and 200 or above (the training faces' medians; at most ×8); below and above
them the curve runs straight to black and to white, so what lies outside the face's range (a
highlight, the sky) is compressed, not clipped. Every other face, and one that a stretch of less
than ×1.1 would do, is left exactly as it is.

Measured on 16 faces of the test split with the DifFace degradation, the same change applied to the
truth (PSNR against it, the default model, fidelity 0.5, 8 steps; the straight line of the first
form of this module): ×0.6 28.19 → 28.85 dB; ×0.35 31.47 → 33.52; ×0.15 34.76 → 40.73; faded
(×0.5 + 110) 28.75 → 30.47.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A face is stretched when its darkest percent lies above this, or its brightest below that (grey
#: levels): where few of the networks' training faces are (their degraded inputs, the middle of the
#: crop: the 1st percentile above 140 for about 4 in 100, the 99th below 110 for about 2 in 100).
#: Stretching faces within the 5–95 % band to the medians cost 0.11 dB on faces as exposed (measured).
_DARK_ENOUGH, _BRIGHT_ENOUGH = 140.0, 110.0
#: Where a stretched face's darkest and brightest percent are put at the least: the training faces'
#: medians (65 and 198).
_DARK_AT, _BRIGHT_AT = 65.0, 200.0
#: The highest a face's brightest percent is put: room above it for what is brighter.
_BRIGHTEST_AT = 248.0
#: The percentiles of a face's luma that stand for its black and its white.
_DARK_PERCENTILE, _BRIGHT_PERCENTILE = 1.0, 99.0
#: A smaller stretch is not made: a face that near the range is restored as well as it is (measured).
_LEAST_GAIN = 1.1
#: The largest stretch: 3 stops (a face in 32 grey levels fills 256).
MAX_GAIN = 8.0
#: The face within an aligned crop (fractions of its side): brows to chin, cheek to cheek.
_FACE_ROWS, _FACE_COLUMNS = (0.35, 0.85), (0.28, 0.72)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601


@dataclass(frozen=True)
class FaceLevels:
    """The tone curve one face is mapped by before the model (:meth:`stretch`) and its candidates
    are mapped back by (:meth:`undo`): straight between ``(dark, dark_at)`` and ``(bright,
    bright_at)`` (grey levels), and from there straight to (0, 0) and (255, 255)."""

    dark: float = 0.0
    dark_at: float = 0.0
    bright: float = 255.0
    bright_at: float = 255.0

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
        return cls(dark=dark, dark_at=dark_at, bright=bright, bright_at=dark_at + gain * (bright - dark))

    @property
    def identity(self) -> bool:
        return self == FaceLevels()

    @property
    def gain(self) -> float:
        """The stretch of the face's own range (1 for the identity)."""
        return (self.bright_at - self.dark_at) / (self.bright - self.dark)

    def stretch(self, face: np.ndarray) -> np.ndarray:
        """``face`` (uint8) mapped for the model (the array itself when the levels are the identity).
        Each grey level of the face's own range keeps a level of its own (the gain is at least 1)."""
        return face if self.identity else _mapped(face, self._points(), self._points_at())

    def undo(self, face: np.ndarray) -> np.ndarray:
        """A candidate (uint8) mapped back to the photo's levels: the inverse of :meth:`stretch`."""
        return face if self.identity else _mapped(face, self._points_at(), self._points())

    def _points(self) -> list[float]:
        return [0.0, self.dark, self.bright, 255.0]

    def _points_at(self) -> list[float]:
        return [0.0, self.dark_at, self.bright_at, 255.0]


def _mapped(face: np.ndarray, points: list[float], points_at: list[float]) -> np.ndarray:
    """``face`` through the piecewise straight curve from ``points`` to ``points_at`` (a point
    that coincides with black, as a face whose darkest percent is 0, is left out)."""
    kept = [i for i in range(4) if i in (0, 3) or (points[i] > points[i - 1] and points_at[i] > points_at[i - 1])]
    table = np.interp(np.arange(256, dtype=np.float64), [points[i] for i in kept], [points_at[i] for i in kept])
    return np.clip(np.rint(table), 0, 255).astype(np.uint8)[face]
