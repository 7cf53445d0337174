"""Grain matching: a restored face gets the grain of the photo around it.

The models return faces smoother than film or a sensor ever made them: pasted into a grainy scan,
such a face looks cut out and stuck on (a retoucher, QA: "the grain stops at the hairline"). So once
the faces are blended in, each gets the grain it lacks, measured on the photo around it:

- **measured** on a window over the face at the photo's own scale, on the photo's quietest 30 %
  of its 8×8 blocks as bright as the face, around the face's box (where a high-pass filter keeps
  grain rather than detail; clipped blacks and whites and damage left out): the 3×3 covariance of
  the high-pass x − G₁∗x and its correlation between horizontal neighbours, which says how fine
  the grain is (white noise: −0.17; a film scan's clumps: +0.3 to +0.6). The photo is measured on
  its own pixels, the face on the blended result (brought back to the photo's scale) the same way,
  on its own quietest blocks as bright where the face's weight is ≥ 0.9: what the restorer left of
  grain, or the photo's own detail of a face pasted as its change;
- **added**: the difference of the two covariances (what the face lacks, per channel and between
  channels, so colour noise stays colour noise and film grain stays grey), as white noise blurred to
  the grain's fineness, mixed across channels, on the photo's pixel grid, enlarged like the
  background (Lanczos: the grain of a ×2 background is the photo's, enlarged), and faded in over
  the blend so that the grain's variance stays the photo's: where faces cover a share W of a pixel,
  (1 − W)² of the photo's own grain is left and W² of the face's, and the added grain makes up the
  rest; faces that overlap share it by their weights.

What is not grain is left alone: a printed screen (halftone dots: sharp peaks in the high-pass's
spectrum that no grain has), texture coarser than grain (neighbours correlated as white noise
blurred by more than 2 pixels), and less than a grey level of it; nor does a face get any that
has most of the photo's grain already (85 %: a sharp face pasted as its change keeps the
photo's), nor a JPEG saved below quality 85 (:data:`MIN_JPEG_QUALITY`). What is added is capped
(:data:`MAX_GRAIN`): a photo buried in noise does not bury its faces too. The noise is one fixed
field over the photo, so a result is the same every time, in the preview and in the file.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from faceapp.core.errors import Cancelled
from faceapp.core.halftone import is_screen
from faceapp.core.paste import HOLE_MARGIN_PX, FaceMask, crop_per_output

#: σ (photo pixels) of the Gaussian whose difference from the image is the high-pass measured.
_HIGHPASS_SIGMA = 1.0
#: The share of a window's 8×8 blocks, quietest first, where grain is measured.
_QUIET_SHARE = 0.3
_BLOCK_SIDE = 8
#: Fewer quiet blocks than this measure nothing (a face a few pixels wide).
_MIN_QUIET_BLOCKS = 6
#: Grey levels (8-bit) near black or white where grain is clipped away: not measured there.
_CLIPPED = 8
#: The most of a face measured, photo pixels a side (the grain is the same all over it).
_WINDOW = 384
#: Grey levels beyond the face's middle 80 % of brightness where the photo's grain is measured too.
_TONE_MARGIN = 12.0
#: A face's weight from which a pixel counts as the face's own when the face is measured.
_INTERIOR = 0.9
#: Grain (the standard deviation of the noise added, grey levels, the channels' root mean square)
#: less than this is not added.
MIN_GRAIN = 1.0
#: The most grain added (the same measure).
MAX_GRAIN = 16.0
#: A face with this share of the photo's grain (high-pass variance) has its grain: the rest is the
#: measurements' own noise (a face pasted as its change, the photo's detail kept, measured 0.95–1.0).
_OWN_ENOUGH = 0.85
#: The blurs that shape white noise into grain, σ in photo pixels (0: white); texture whose
#: neighbours correlate more than the last's is coarser than grain.
_BLURS = tuple(round(0.05 * k, 2) for k in range(41))
_MARGIN = 12  # photo pixels of noise beyond a band: the widest blur's and Lanczos's reach
#: Crop pixels beyond the damage that its fill's soft edge reaches in a face that keeps its detail
#: (:func:`faceapp.core.paste.soft_hole`: the margin, feathered over as many), and a pixel more.
_FILL_EDGE = 2 * HOLE_MARGIN_PX + 1
_SEED = 20_261_205
_BAND_ROWS = 128  # output rows grained at a time


@dataclass(frozen=True)
class Texture:
    """What a window holds of grain: ``covariance``, 3×3, of its high-pass on flat pixels (grey
    levels²); ``correlation``, of the brightness high-pass between horizontal neighbours; and
    ``screen``, whether it is a printed screen (asked of the photo only)."""

    covariance: np.ndarray
    correlation: float
    screen: bool = False


@dataclass(frozen=True)
class Grain:
    """The grain one face gets: white noise blurred by ``blur`` (σ, photo pixels), scaled so that
    its high-pass has unit variance, then mixed into RGB by ``mix`` (3×3: the high-pass of the
    grain added has covariance mix·mixᵀ). ``own_share``: the face's own grain, as a share of the
    photo's (their high-pass variances), which the fade over the blend allows for."""

    mix: np.ndarray
    blur: float
    own_share: float = 0.0

    @property
    def strength(self) -> float:
        """The standard deviation of the noise added, grey levels (the root mean square over the
        channels)."""
        return float(np.linalg.norm(self.mix) / np.sqrt(3.0)) * _shaping()[_BLURS.index(self.blur)].gain


#: A JPEG saved at a lower quality than this has lost its fine grain to the encoder: what is left
#: at that scale is the encoder's own (ringing, blocks, smeared noise), and random grain added to
#: match it is speckle the photo does not have (QA: cf_00.jpg at 82, cf_04.jpg at 63).
MIN_JPEG_QUALITY = 85


def grain_survives(jpeg_quality: int | None) -> bool:
    """Whether a photo holds grain to match: not a JPEG saved below :data:`MIN_JPEG_QUALITY`
    (``jpeg_quality``: its estimate, :attr:`faceapp.core.photo_io.Photo.jpeg_quality`; None: not a JPEG)."""
    return jpeg_quality is None or jpeg_quality >= MIN_JPEG_QUALITY


def measure_texture(image: np.ndarray, where: np.ndarray | None = None, *, screen: bool = False) -> Texture | None:
    """The grain of ``image`` (HxWx3, at the photo's scale, values in 8-bit grey levels, any
    number type) on its :func:`flat_pixels` among those ``where`` says (HxW bool; None: all), by
    :func:`texture_at`; ``screen``: whether to ask if it is a printed screen."""
    image = np.asarray(image, dtype=np.float32)
    flat = flat_pixels(image, where)
    return None if flat is None else texture_at(image, flat, screen=screen)


def flat_pixels(image: np.ndarray, where: np.ndarray | None = None, *,
                brightness: tuple[float, float] | None = None) -> np.ndarray | None:
    """The pixels of ``image`` (HxWx3, 8-bit grey levels, any number type) where grain shows
    rather than detail: those of its quietest 30 % of 8×8 blocks (the least high-pass power),
    among the blocks all of whose pixels ``where`` allows (HxW bool; None: all), unclipped (not
    near black or white) and, given ``brightness`` (low, high), of such brightness (grain depends
    on it: film's is strongest in the mid-tones, a sensor's in the shadows). The quietest blocks
    hold grain alone where others hold texture too (QA: the smoothest pixels of a small JPEG of a
    sequinned dress measured ten times its grain). None when too few are left to tell."""
    image = np.asarray(image, dtype=np.float32)
    height, width = (size - size % _BLOCK_SIDE for size in image.shape[:2])
    if image.ndim != 3 or height < 2 * _BLOCK_SIDE or width < 2 * _BLOCK_SIDE:
        return None
    smooth = cv2.GaussianBlur(image.mean(axis=2), (0, 0), 2.0, borderType=cv2.BORDER_REFLECT)
    low, high = brightness if brightness is not None else (0.0, 255.0)
    usable = (smooth > max(low, _CLIPPED)) & (smooth < min(high, 255 - _CLIPPED))
    if where is not None:
        usable &= where
    energy = np.sum(_highpass(image) ** 2, axis=2)
    rows, cols = height // _BLOCK_SIDE, width // _BLOCK_SIDE

    def per_block(values: np.ndarray) -> np.ndarray:
        return values[:height, :width].reshape(rows, _BLOCK_SIDE, cols, _BLOCK_SIDE).swapaxes(1, 2).reshape(rows, cols, -1)

    allowed = per_block(usable).all(axis=2)
    if np.count_nonzero(allowed) * _QUIET_SHARE < _MIN_QUIET_BLOCKS:
        return None
    power = per_block(energy).sum(axis=2)
    quiet = allowed & (power <= np.quantile(power[allowed], _QUIET_SHARE))
    pixels = np.zeros(image.shape[:2], bool)
    pixels[:height, :width] = np.repeat(np.repeat(quiet, _BLOCK_SIDE, axis=0), _BLOCK_SIDE, axis=1)
    return pixels


def _highpass(image: np.ndarray) -> np.ndarray:
    return image - cv2.GaussianBlur(image, (0, 0), _HIGHPASS_SIGMA, borderType=cv2.BORDER_REFLECT)


@functools.cache
def _quiet_bias() -> float:
    """What the quietest blocks measure of white noise's high-pass variance, as a share of it: the
    measurement is divided by it (grain that is not white, fewer values apart, comes out a little
    under)."""
    noise = np.random.default_rng(_SEED).standard_normal((256, 256, 3)).astype(np.float32) * 10 + 128
    residual = _highpass(noise)
    quiet = flat_pixels(noise)
    return float(np.mean(residual[quiet] ** 2) / np.mean(residual ** 2))


def texture_at(image: np.ndarray, flat: np.ndarray, *, screen: bool = False) -> Texture | None:
    """The grain of ``image`` (HxWx3, 8-bit grey levels) measured on the pixels ``flat`` (HxW
    bool; None when fewer than six blocks' worth); ``screen``: whether to ask if it is a printed
    screen."""
    if np.count_nonzero(flat) < _MIN_QUIET_BLOCKS * _BLOCK_SIDE**2:
        return None
    image = np.asarray(image, dtype=np.float32)
    residual = _highpass(image)
    values = residual[flat].astype(np.float64)
    covariance = values.T @ values / len(values) / _quiet_bias()  # (the high-pass's mean is 0)
    bright = residual.mean(axis=2)
    pairs = flat[:, :-1] & flat[:, 1:]
    left, right = bright[:, :-1][pairs].astype(np.float64), bright[:, 1:][pairs].astype(np.float64)
    spread = math.sqrt(float(np.mean(left * left) * np.mean(right * right))) if pairs.any() else 0.0
    correlation = float(np.mean(left * right) / spread) if spread > 0 else 0.0
    return Texture(covariance, correlation, screen and is_screen(image.mean(axis=2)))


def grain_to_add(photo: Texture | None, face: Texture | None) -> Grain | None:
    """The grain a face whose own is ``face`` lacks in a photo whose grain is ``photo`` (None:
    none, or none to add: either unknown, the photo's texture a printed screen or coarser than
    grain, the face's own grain most of the photo's, or the difference under :data:`MIN_GRAIN`);
    capped at :data:`MAX_GRAIN`."""
    shaping = _shaping()
    if photo is None or face is None or photo.screen or photo.correlation > shaping[-1].correlation:
        return None
    values, vectors = np.linalg.eigh(photo.covariance - face.covariance)
    # the symmetric square root of the difference's positive part: one answer for like covariances,
    # so faces that overlap mix the shared noise alike rather than with eigenvectors of either sign
    mix = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    own = float(np.trace(face.covariance) / max(float(np.trace(photo.covariance)), 1e-12))
    if own >= _OWN_ENOUGH:
        return None
    grain = Grain(mix, _blur_for(photo.correlation), own)
    strength = grain.strength
    if strength < MIN_GRAIN:
        return None
    return Grain(mix * (MAX_GRAIN / strength), grain.blur, grain.own_share) if strength > MAX_GRAIN else grain


class _Shape(NamedTuple):
    """What a blur of :data:`_BLURS` makes of unit white noise: the standard deviation of its
    high-pass (``highpass``), that high-pass's neighbour correlation, and ``gain``, the standard
    deviation of the blurred noise scaled to a unit high-pass."""

    highpass: float
    correlation: float
    gain: float


@functools.cache
def _shaping() -> tuple[_Shape, ...]:
    """:class:`_Shape` of each blur, from the filters' own impulse response."""
    impulse = np.zeros((49, 49), np.float32)
    impulse[24, 24] = 1.0
    rows = []
    for blur in _BLURS:
        shaped = _blurred(impulse, blur).astype(np.float64)
        response = shaped - cv2.GaussianBlur(shaped, (0, 0), _HIGHPASS_SIGMA, borderType=cv2.BORDER_REFLECT)
        energy = float(np.sum(response * response))
        rows.append(_Shape(math.sqrt(energy), float(np.sum(response[:, :-1] * response[:, 1:]) / energy),
                           math.sqrt(float(np.sum(shaped * shaped)) / energy)))
    return tuple(rows)


def _blurred(image: np.ndarray, blur: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), blur, borderType=cv2.BORDER_REFLECT) if blur > 0 else image


def _blur_for(correlation: float) -> float:
    """The blur whose grain's high-pass correlates between neighbours as ``correlation`` says."""
    shaping = _shaping()
    best = min(range(len(_BLURS)), key=lambda k: abs(shaping[k].correlation - correlation))
    return _BLURS[best]


def measure_window(roi: tuple[int, int, int, int], scale: int,
                   box: Sequence[float] | None = None) -> tuple[int, int, int, int]:
    """The part of a face's output box ``roi`` (x0, y0, x1, y1) where its grain is measured: the
    face's own ``box`` (photo pixels, x0, y0, x1, y1) and a quarter of its size around (the whole
    box where not given; QA: the box, three times the face, reached into the next picture of a
    collage), in whole photo pixels (multiples of ``scale``), at most :data:`_WINDOW` photo pixels
    a side, about its centre."""
    x0, y0, x1, y1 = roi
    if box is not None:
        bx0, by0, bx1, by1 = box
        reach_x, reach_y = (bx1 - bx0) / 4.0, (by1 - by0) / 4.0
        x0, x1 = max(x0, math.floor((bx0 - reach_x) * scale)), min(x1, math.ceil((bx1 + reach_x) * scale))
        y0, y1 = max(y0, math.floor((by0 - reach_y) * scale)), min(y1, math.ceil((by1 + reach_y) * scale))

    def span(start: int, stop: int) -> tuple[int, int]:
        first, last = -(-start // scale), stop // scale  # whole photo pixels inside
        if last - first > _WINDOW:
            first = (first + last - _WINDOW) // 2
            last = first + _WINDOW
        return first * scale, max(first, last) * scale

    (wx0, wx1), (wy0, wy1) = span(x0, x1), span(y0, y1)
    return wx0, wy0, wx1, wy1


def at_photo_scale(image: np.ndarray, scale: int, unit: float = 1.0) -> np.ndarray:
    """An output-scale ``image`` (whole photo pixels of it) back at the photo's scale, float32 in
    8-bit grey levels (``unit``: the grey level's size in ``image``, 257 for 16 bits)."""
    values = np.asarray(image, dtype=np.float32)
    if unit != 1.0:
        values = values / np.float32(unit)
    if scale == 1:
        return values
    height, width = values.shape[:2]
    return cv2.resize(values, (width // scale, height // scale), interpolation=cv2.INTER_AREA)


def face_grains(photo: np.ndarray, plain: Sequence[np.ndarray], blended: np.ndarray, masks: Sequence[FaceMask],
                weights: Sequence[np.ndarray], scale: int,
                boxes: Sequence[Sequence[float] | None] | None = None,
                damage: np.ndarray | None = None) -> list[Grain | None]:
    """The grain each face lacks: ``photo``, the photo's own pixels (HxWx3 uint8); ``blended``,
    the output with the faces in (uint8 or uint16, ``scale`` times the photo's size), and
    ``plain``, the output without them under each mask's box (:func:`faceapp.core.paste.face_regions`);
    each face's normalised weight in ``weights``; ``boxes``, each face's box in the photo
    (:func:`measure_window`). The photo is measured at the brightness of the face (its box's middle
    80 %, and a little more): a bright face on a dark, noisy backdrop got the shadows' noise (QA).
    ``damage`` (the photo's size, 255 = damaged) is measured nowhere: a scratch is not grain, and
    its smooth fill in a face that keeps the photo's grain would call for grain all over it.

    Enlarged and brought back to the photo's scale, grain comes back softer than the photo's own
    (white noise at ×2: 0.8 of it): the face, measured so, is put in the photo's terms by how much
    softer the plain background comes back the same way."""
    unit = 257.0 if blended.dtype == np.uint16 else 1.0
    grains: list[Grain | None] = []
    for region, mask, weight, box in zip(plain, masks, weights, boxes or [None] * len(masks), strict=True):
        wx0, wy0, wx1, wy1 = measure_window(mask.roi, scale, box)
        if mask.empty() or wx1 - wx0 < 8 * scale or wy1 - wy0 < 8 * scale:
            grains.append(None)
            continue
        x0, y0 = mask.roi[:2]
        inside = at_photo_scale(weight[wy0 - y0 : wy1 - y0, wx0 - x0 : wx1 - x0], scale) >= _INTERIOR
        window = photo[wy0 // scale : wy1 // scale, wx0 // scale : wx1 // scale]
        face = at_photo_scale(blended[wy0:wy1, wx0:wx1], scale, unit)
        tones = face.mean(axis=2)[inside & _within_box(inside.shape, (wx0 // scale, wy0 // scale), box)]
        if tones.size < _MIN_QUIET_BLOCKS * _BLOCK_SIDE**2:
            grains.append(None)
            continue
        low, high = np.percentile(tones, (10, 90))
        # (the photo's flat pixels: a smooth fill in the face must not pick where it is measured)
        where = (None if damage is None
                 else _undamaged(damage[wy0 // scale : wy1 // scale, wx0 // scale : wx1 // scale], mask, scale))
        flat = flat_pixels(window, where, brightness=(low - _TONE_MARGIN, high + _TONE_MARGIN))
        if flat is None:
            grains.append(None)
            continue
        around = texture_at(window, flat, screen=True)
        # The face's own grain on its own quietest blocks, as the photo's is on the photo's: on the
        # photo's it met the restored face's features and came out 0.25–0.34 of the photo's grain
        # where it is 0.01–0.04 (a synthetic film; its faces got 10–18 % too little grain, QA).
        # (not in the damage either: its smooth fill would be the quietest, QA)
        own_flat = flat_pixels(face, inside if where is None else inside & where,
                               brightness=(low - _TONE_MARGIN, high + _TONE_MARGIN))
        own = None if own_flat is None else texture_at(face, own_flat)
        if scale > 1 and around is not None and own is not None:
            back = texture_at(at_photo_scale(region[wy0 - y0 : wy1 - y0, wx0 - x0 : wx1 - x0], scale, unit), flat)
            softer = float(np.trace(around.covariance)) / max(float(np.trace(back.covariance)), 1e-12) if back else 1.0
            own = Texture(own.covariance * softer, own.correlation)
        grains.append(grain_to_add(around, own))
    return grains


def _undamaged(damage: np.ndarray, mask: FaceMask, scale: int) -> np.ndarray:
    """Where a window of ``damage`` (255 = damaged, photo pixels) is far enough from the damage to
    measure a face's grain: beyond the soft edge of the hole's fill, :data:`_FILL_EDGE` pixels of the
    face's crop (3 photo pixels at least; at 3, a filled stain's edge in a small model's crop was
    the face's quietest blocks, and its grain was read as a fifth too weak)."""
    reach = max(3, math.ceil(_FILL_EDGE / ((crop_per_output(mask) or 1.0) * scale)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    return cv2.dilate(damage, kernel) == 0


def _within_box(shape: tuple[int, ...], origin: tuple[int, int], box: Sequence[float] | None) -> np.ndarray:
    """Which pixels of a window of ``shape`` at photo pixel ``origin`` lie in the face's ``box``
    (photo pixels; None: all of them): the face itself, not the rest of its crop."""
    inside = np.zeros(shape[:2], bool)
    if box is None:
        inside[...] = True
        return inside
    x0, y0 = origin
    bx0, by0, bx1, by1 = (int(round(v)) for v in box)
    inside[max(0, by0 - y0) : max(0, by1 - y0), max(0, bx0 - x0) : max(0, bx1 - x0)] = True
    return inside


def add_grain(out: np.ndarray, masks: Sequence[FaceMask], weights: Sequence[np.ndarray],
              grains: Sequence[Grain | None], scale: int, *, band_rows: int = _BAND_ROWS) -> None:
    """Add each face's grain into ``out`` (HxWx3 uint8 or uint16, the output at ``scale`` times the
    photo's size) in place over its normalised blending weight, in bands of ``band_rows`` output
    rows. Where faces cover a share W of a pixel (their weights' sum), the grain is faded in by
    √(((2W − W²) − W²·s)/(1 − s)), s the face's own share of the photo's grain: what keeps the
    grain's variance the photo's, (1 − W)² of it left of the photo's own and W²·s the face's,
    where the two are unrelated; at most 1, what the face's middle gets (a face with much grain of
    its own, the photo's detail kept, would get several times that: its grain is the photo's, and
    no dip to fill). Each face adds its part by its weight's share of W."""
    unit = 257.0 if out.dtype == np.uint16 else 1.0
    top_value = float(np.iinfo(out.dtype).max)
    for mask, weight, grain in zip(masks, weights, grains, strict=True):
        if grain is None or mask.empty():
            continue
        x0, y0, x1, y1 = mask.roi
        mix = (grain.mix * unit / _shaping()[_BLURS.index(grain.blur)].highpass).astype(np.float32)
        for top in range(y0, y1, band_rows):
            bottom = min(y1, top + band_rows)
            added = cv2.transform(_grain_field(top, bottom, x0, x1, scale, grain.blur), mix)
            own = weight[top - y0 : bottom - y0]
            covered = _covered(masks, weights, top, bottom, x0, x1)
            fade = ((2.0 - covered) * covered - covered * covered * grain.own_share) / (1.0 - grain.own_share)
            np.clip(fade, 0.0, 1.0, out=fade)  # (never more than the face's middle gets: see above)
            fade = np.sqrt(fade) * own / np.maximum(covered, 1e-6)
            added *= fade[..., None]
            target = out[top:bottom, x0:x1]
            added += target
            np.rint(added, out=added)
            np.clip(added, 0.0, top_value, out=added)
            target[...] = added


def _covered(masks: Sequence[FaceMask], weights: Sequence[np.ndarray], top: int, bottom: int,
             left: int, right: int) -> np.ndarray:
    """The sum of every face's normalised weight over output rows [top, bottom) and columns
    [left, right) (float32): how much of each pixel the faces cover."""
    total = np.zeros((bottom - top, right - left), np.float32)
    for mask, weight in zip(masks, weights, strict=True):
        if mask.empty():
            continue
        x0, y0, x1, y1 = mask.roi
        r0, r1, c0, c1 = max(top, y0), min(bottom, y1), max(left, x0), min(right, x1)
        if r0 < r1 and c0 < c1:
            total[r0 - top : r1 - top, c0 - left : c1 - left] += weight[r0 - y0 : r1 - y0, c0 - x0 : c1 - x0]
    return total


def _grain_field(top: int, bottom: int, left: int, right: int, scale: int, blur: float) -> np.ndarray:
    """Output rows [top, bottom) and columns [left, right) of the photo's white noise
    (:func:`_white_noise`), blurred by ``blur`` on the photo's grid and enlarged ``scale`` times with
    Lanczos (float32, HxWx3)."""
    p0, p1 = top // scale - _MARGIN, -(-bottom // scale) + _MARGIN
    q0, q1 = left // scale - _MARGIN, -(-right // scale) + _MARGIN
    field = _blurred(_white_noise(p0, p1, q0, q1), blur)
    if scale > 1:
        field = cv2.resize(field, ((q1 - q0) * scale, (p1 - p0) * scale), interpolation=cv2.INTER_LANCZOS4)
    return field[top - p0 * scale : bottom - p0 * scale, left - q0 * scale : right - q0 * scale]


def _white_noise(p0: int, p1: int, q0: int, q1: int) -> np.ndarray:
    """Photo rows [p0, p1) and columns [q0, q1) (beyond the photo too) of one fixed field of unit
    white noise, three channels, float32, the same whichever band asks: each 64-pixel block of it
    is a piece of one 1024-pixel tile of noise drawn once, at an offset that the block's place
    picks. (Drawing the noise itself took 80 % of the grain's time on a 24 MP face; pieces of white
    noise side by side are white noise, and a piece recurs at random places out of 900,000 offsets.)"""
    tile = _noise_tile()
    field = np.empty((p1 - p0, q1 - q0, 3), np.float32)
    for by in range(p0 // _BLOCK, -(-p1 // _BLOCK)):
        for bx in range(q0 // _BLOCK, -(-q1 // _BLOCK)):
            oy, ox = _block_offset(by, bx)
            ys, xs = by * _BLOCK, bx * _BLOCK
            r0, r1 = max(p0, ys), min(p1, ys + _BLOCK)
            c0, c1 = max(q0, xs), min(q1, xs + _BLOCK)
            field[r0 - p0 : r1 - p0, c0 - q0 : c1 - q0] = tile[oy + r0 - ys : oy + r1 - ys, ox + c0 - xs : ox + c1 - xs]
    return field


_TILE = 1024
_BLOCK = 64  # photo pixels a side of each piece of the tile


@functools.cache
def _noise_tile() -> np.ndarray:
    tile = np.random.default_rng(_SEED).standard_normal((_TILE, _TILE, 3), np.float32)
    tile.flags.writeable = False
    return tile


def _block_offset(by: int, bx: int) -> tuple[int, int]:
    """Where in the tile block (by, bx) of the field is taken from: a hash of its place (any
    integers, negative too), the same on every machine."""
    h = (by * 0x9E3779B1 + bx * 0x85EBCA77 + _SEED) & 0xFFFFFFFF
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    h ^= h >> 16
    span = _TILE - _BLOCK
    return h % span, (h // span) % span


#: A classical fill is grained a tile of this many photo pixels a side at a time, each measured on
#: the photo around it, this many pixels beyond the tile.
_FILL_TILE = 512
_FILL_SURROUND = 128


def grain_fill(filled: np.ndarray, damage: np.ndarray, *, should_cancel: Callable[[], bool] | None = None) -> None:
    """Give the pixels a classical fill made (``damage`` > 0 in ``filled``, HxWx3 uint8, changed in
    place) the grain of the photo around them: Telea's fill is smooth, and a torn corner of a grainy
    scan came back a plastic patch (QA: a high-pass of 0.16 grey levels inside it, 2.16 around).

    The grain is measured as a face's is (:func:`face_grains`), on the photo's pixels around the
    fill (its quietest 8×8 blocks as bright as the fill; a printed screen, asked of the first tile
    measured, and texture coarser than grain left alone; the fill's window is asked, not the damaged
    photo's, whose stain edges read as a screen's peaks), tile by tile (:data:`_FILL_TILE` px, each
    measured over :data:`_FILL_SURROUND` px more around it, so neighbouring tiles measure much the
    same). A tile with too little of the photo around it to measure (inside a large hole) takes the
    grain of the nearest tile measured (review: the middle of a torn quarter stayed smooth, in
    512 px blocks). The grain is added from the photo's one noise field, so a result is the same
    every time; the fill counts as having none of its own. ``should_cancel`` is asked before each
    tile (raises :class:`~faceapp.core.errors.Cancelled`). The caller leaves out a JPEG saved below
    :data:`MIN_JPEG_QUALITY` (:func:`grain_survives`)."""
    height, width = damage.shape[:2]
    damaged = damage > 0
    none = Texture(np.zeros((3, 3)), 0.0)
    screen: bool | None = None  # whether the photo is a printed screen, once a tile has told
    measured: dict[tuple[int, int], Grain | None] = {}  # tile (top, left) → its grain (None: none to add)
    unmeasured: list[tuple[int, int]] = []
    for top in range(0, height, _FILL_TILE):
        for left in range(0, width, _FILL_TILE):
            if should_cancel is not None and should_cancel():
                raise Cancelled("Repairing the damage cancelled.")
            bottom, right = min(height, top + _FILL_TILE), min(width, left + _FILL_TILE)
            here = damaged[top:bottom, left:right]
            if not here.any():
                continue
            wy0, wx0 = max(0, top - _FILL_SURROUND), max(0, left - _FILL_SURROUND)
            wy1, wx1 = min(height, bottom + _FILL_SURROUND), min(width, right + _FILL_SURROUND)
            window = filled[wy0:wy1, wx0:wx1]  # (nothing added yet: the grain goes in once all are measured)
            clear = cv2.dilate(damage[wy0:wy1, wx0:wx1], np.ones((5, 5), np.uint8)) == 0  # (a stain's rim is no grain)
            tones = filled[top:bottom, left:right][here].mean(axis=1)
            low, high = np.percentile(tones, (10, 90))
            flat = flat_pixels(window, clear, brightness=(low - _TONE_MARGIN, high + _TONE_MARGIN))
            around = None if flat is None else texture_at(window, flat, screen=screen is None)
            if around is None:
                unmeasured.append((top, left))
                continue
            if screen is None:  # (asked once: a print's screen is the whole print's)
                screen = around.screen
            if screen:
                return
            measured[top, left] = grain_to_add(around, none)
    for top, left in unmeasured:  # (inside a large hole: the nearest tile's grain)
        if measured:
            nearest = min(measured, key=lambda at: (at[0] - top) ** 2 + (at[1] - left) ** 2)
            measured[top, left] = measured[nearest]
    for (top, left), grain in measured.items():
        if grain is None:
            continue
        bottom, right = min(height, top + _FILL_TILE), min(width, left + _FILL_TILE)
        here = damaged[top:bottom, left:right]
        mix = (grain.mix / _shaping()[_BLURS.index(grain.blur)].highpass).astype(np.float32)
        added = cv2.transform(_grain_field(top, bottom, left, right, 1, grain.blur), mix)
        tile = filled[top:bottom, left:right]
        tile[here] = np.clip(np.rint(tile[here].astype(np.float32) + added[here]), 0, 255).astype(np.uint8)
