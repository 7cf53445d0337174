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
most). The same line maps the three channels, so each channel's own darkest and brightest percent
on the face is kept within 7…248 as well, less stretch if need be: a tinted face's weak channel
(the blue of a yellowed or sepia print) lies far below its luma, and a line fitted on the luma alone
took it to black, where the model saw it flat (colour QA: blue-grey hair on a yellowed print). What
the line takes past black or white all the same (a lamp, the sky behind a backlit face, dark hair
around a faded face) is given back from the photo, through a median at those pixels (given back
pixel by pixel, the photo's noise came back in the one channel clipped: red speckles on a dark
forehead); what is in range, the face itself, comes back exactly.
(Compressing it instead, by a curve bent above the face's range, made the model's slightest change
there a large one on the way back: ×0.35 faces lost 6 dB, measured.) Every other face, and one that
a stretch of less than ×1.1 would do, is left exactly as it is.

Measured by ``bench/face_levels.py`` (16 faces of the test split with the DifFace degradation, the
same change of exposure applied to the truth; the default model, fidelity 0.5, 8 steps), PSNR
without → with the stretch, on the face (the middle of the crop) and on the whole crop: as exposed
unchanged; ×0.5 29.33 → 30.32 and 29.38 → 30.04 dB; ×0.35 31.32 → 33.61 and 31.47 → 33.30; faded
(×0.4 + 140) 30.16 → 32.46 and 29.90 → 32.20; a faded sepia print 30.52 → 31.83 and 29.96 → 31.43; a
dark photo under tungsten light 33.47 → 37.06 and 33.97 → 37.01 (fitted on the luma alone, and
mapped back by the inverse alone, the sepia print lost 5.6 dB and the tungsten one 1.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
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
#: Where each colour channel's darkest and brightest percent may be put at the most: a tinted face's
#: weak channel lies far below its luma (the blue of a yellowed print), and a line fitted on the
#: luma alone took it to black (colour QA: 85 % of a yellowed face's blue at 0, which came back flat,
#: its dark hair and jacket blue-grey beside the print's olive).
_CHANNEL_LOWEST, _CHANNEL_HIGHEST = 255.0 - _BRIGHTEST_AT, _BRIGHTEST_AT
#: The percentiles of a face's luma that stand for its black and its white.
_DARK_PERCENTILE, _BRIGHT_PERCENTILE = 1.0, 99.0
#: A smaller stretch is not made: it changes little, and a face left as it is comes back exactly.
_LEAST_GAIN = 1.1
#: The largest stretch: 3 stops (a face in 32 grey levels fills 256).
MAX_GAIN = 8.0
#: The face within an aligned crop (fractions of its side): brows to chin, cheek to cheek.
_FACE_ROWS, _FACE_COLUMNS = (0.35, 0.85), (0.28, 0.72)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601
#: The median (pixels of the aligned crop, a side) that takes the photo's noise out of what is given
#: back past the line's ends: it came back in that one channel, red speckles on a dark face's forehead
#: (sceptic QA); a blur instead put a halo round a clipped sky (review).
_GIVEN_BACK_MEDIAN = 5


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
        channels = np.percentile(pixels, (_DARK_PERCENTILE, _BRIGHT_PERCENTILE), axis=0)
        lowest, highest = float(channels[0].min()), float(channels[1].max())
        dark_at = min(dark, _DARK_AT)
        gain = min((max(bright, _BRIGHT_AT) - dark_at) / (bright - dark), MAX_GAIN,
                   (_BRIGHTEST_AT - dark_at) / (bright - dark),
                   (_CHANNEL_HIGHEST - _CHANNEL_LOWEST) / max(highest - lowest, 1.0))
        if gain < _LEAST_GAIN:
            return cls()  # within range, or near enough: left exactly as it is
        # the luma's darkest percent at dark_at, as near as every channel's percentiles stay within range
        offset = min(max(dark_at - gain * dark, _CHANNEL_LOWEST - gain * lowest), _CHANNEL_HIGHEST - gain * highest)
        return cls(gain=gain, offset=offset)

    @property
    def identity(self) -> bool:
        return self == FaceLevels()

    def stretch(self, face: np.ndarray) -> np.ndarray:
        """``face`` (uint8) mapped for the model (the array itself when the levels are the identity).
        Each grey level below what is clipped keeps a level of its own (the gain is at least 1)."""
        return face if self.identity else _mapped(face, self.gain, self.offset)

    def undo(self, face: np.ndarray, original: np.ndarray | None = None,
             damage: np.ndarray | None = None) -> np.ndarray:
        """A candidate (uint8) mapped back to the photo's levels: the inverse of :meth:`stretch`.

        Given the ``original`` crop (the one stretched), what the line took past black or white
        there, which the model saw flat at the line's end, is given back: the inverse alone gives
        back one flat level for all of it (colour QA: a yellowed print's dark hair, its blue taken to
        black, came back lighter and blue-grey). At those pixels alone the result then takes the
        median of its neighbourhood (:data:`_GIVEN_BACK_MEDIAN`): given back pixel by pixel, the
        photo's noise came back in the one channel clipped, red speckles on a dark forehead (sceptic
        QA); a blur instead put a halo round a clipped sky (review). What is in range comes back
        exactly. A damaged pixel (``damage``: HxW, > 0 where damaged) keeps the repair."""
        if self.identity:
            return face
        back = _mapped(face, 1.0 / self.gain, -self.offset / self.gain)
        if original is None or original.shape != face.shape:
            return back
        levels = np.arange(256, dtype=np.float64) * self.gain + self.offset
        clipped = ((levels < -0.5) | (levels > 255.5))[original]
        if not clipped.any():
            return back
        undamaged = np.ones(original.shape[:2], bool) if damage is None else damage == 0
        given = clipped & undamaged[..., None]
        lost = original.astype(np.int16) - self.undo(self.stretch(original))  # what the round trip loses
        whole = np.clip(back + np.where(given, lost, 0), 0, 255).astype(np.uint8)
        # the photo's noise in what is given back (the model smoothed the rest) taken out by a median,
        # which keeps edges, at the clipped pixels alone
        return np.where(given, cv2.medianBlur(whole, _GIVEN_BACK_MEDIAN), whole)


def _mapped(face: np.ndarray, gain: float, offset: float) -> np.ndarray:
    """``face`` (uint8) through the straight line, clipped to 0…255."""
    table = np.clip(np.rint(np.arange(256, dtype=np.float64) * gain + offset), 0, 255).astype(np.uint8)
    return table[face]
