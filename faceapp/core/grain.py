"""Grain matching: a restored face gets the grain of the photo around it.

The models return faces smoother than film or a sensor ever made them: pasted into a grainy scan,
such a face looks cut out and stuck on (a retoucher, QA: "the grain stops at the hairline"). So once
the faces are blended in, each gets the grain it lacks, measured on the photo around it:

- **measured** at the photo's own scale on a window over the face, on the flattest 40 % of its
  pixels (smooth gradients, where a high-pass filter keeps grain rather than detail; clipped blacks
  and whites left out): the 3×3 covariance of the high-pass x − G₁∗x and its correlation between
  horizontal neighbours, which says how fine the grain is (white noise: −0.17; a film scan's
  clumps: +0.3 to +0.6). The photo is measured on the background, the face on the blended result
  where the face's weight is ≥ 0.9: what the restorer left of grain, or the photo's own detail of a
  face pasted as its change;
- **added**: the difference of the two covariances (what the face lacks, per channel and between
  channels, so colour noise stays colour noise and film grain stays grey), as white noise blurred to
  the grain's fineness, mixed across channels, on the photo's pixel grid, enlarged like the
  background (Lanczos: the grain of a ×2 background is the photo's, enlarged), and faded in with the
  face's blending weight w as √(w(2 − w)): where the face covers a share w, (1 − w)² of the photo's
  own grain variance is left and the added grain makes up the rest.

What is not grain is left alone: a printed screen (halftone dots: the high-pass more anticorrelated
between neighbours than white noise is) and less than half a grey level of it. What is added is
capped (:data:`MAX_GRAIN`): a photo buried in noise does not bury its faces too. The noise is drawn
per 64-pixel block of the photo from a fixed seed, so a result is the same every time, in the
preview and in the file, and faces that overlap share one grain.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from faceapp.core.paste import FaceMask

#: σ (photo pixels) of the Gaussian whose difference from the image is the high-pass measured.
_HIGHPASS_SIGMA = 1.0
#: The share of a window's pixels, flattest first, where grain is measured.
_FLAT_SHARE = 0.4
#: Fewer flat pixels than this measure nothing (a face a few pixels wide).
_MIN_FLAT_PIXELS = 256
#: Grey levels (8-bit) near black or white where grain is clipped away: not measured there.
_CLIPPED = 8
#: The most of a face measured, photo pixels a side (the grain is the same all over it).
_WINDOW = 384
#: A face's weight from which a pixel counts as the face's own when the face is measured.
_INTERIOR = 0.9
#: Grain (the standard deviation of its high-pass, grey levels, the channels' root mean square) less
#: than this is not added.
MIN_GRAIN = 0.5
#: The most grain added (the same measure).
MAX_GRAIN = 8.0
#: A neighbour correlation of the photo's high-pass below this is a printed screen, not grain.
_SCREEN_CORRELATION = -0.25
#: The blurs that shape white noise into grain, σ in photo pixels (0: white).
_BLURS = tuple(round(0.05 * k, 2) for k in range(41))
_BLOCK = 64  # photo pixels a side of each block of noise drawn from its own generator
_MARGIN = 12  # photo pixels of noise beyond a band: the widest blur's and Lanczos's reach
_SEED = 20_261_205
_BAND_ROWS = 128  # output rows grained at a time


@dataclass(frozen=True)
class Texture:
    """What a window holds of grain: ``covariance``, 3×3, of its high-pass on flat pixels (grey
    levels²), and ``correlation``, of the brightness high-pass between horizontal neighbours."""

    covariance: np.ndarray
    correlation: float


@dataclass(frozen=True)
class Grain:
    """The grain one face gets: white noise blurred by ``blur`` (σ, photo pixels), scaled so that
    its high-pass has unit variance, then mixed into RGB by ``mix`` (3×3: the high-pass of the
    grain added has covariance mix·mixᵀ)."""

    mix: np.ndarray
    blur: float

    @property
    def strength(self) -> float:
        """The standard deviation of the added grain's high-pass, grey levels (the root mean square
        over the channels)."""
        return float(np.linalg.norm(self.mix) / np.sqrt(3.0))


def measure_texture(image: np.ndarray, where: np.ndarray | None = None) -> Texture | None:
    """The grain of ``image`` (HxWx3, at the photo's scale, values in 8-bit grey levels, any
    number type), on the flattest of the pixels ``where`` says (HxW bool; None: all); None when
    too few pixels are flat and unclipped to tell."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[0] < 8 or image.shape[1] < 8:
        return None
    brightness = image.mean(axis=2)
    smooth = cv2.GaussianBlur(brightness, (0, 0), 2.0, borderType=cv2.BORDER_REFLECT)
    slope = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    usable = (smooth > _CLIPPED) & (smooth < 255 - _CLIPPED)
    usable[:3], usable[-3:], usable[:, :3], usable[:, -3:] = False, False, False, False  # filters' edges
    if where is not None:
        usable &= where
    if np.count_nonzero(usable) * _FLAT_SHARE < _MIN_FLAT_PIXELS:
        return None
    flat = usable & (slope <= np.quantile(slope[usable], _FLAT_SHARE))
    if np.count_nonzero(flat) < _MIN_FLAT_PIXELS:
        return None
    residual = image - cv2.GaussianBlur(image, (0, 0), _HIGHPASS_SIGMA, borderType=cv2.BORDER_REFLECT)
    covariance = np.cov(residual[flat].T.astype(np.float64))
    bright = residual.mean(axis=2)
    pairs = flat[:, :-1] & flat[:, 1:]
    left, right = bright[:, :-1][pairs].astype(np.float64), bright[:, 1:][pairs].astype(np.float64)
    spread = math.sqrt(float(np.mean(left * left) * np.mean(right * right)))
    correlation = float(np.mean(left * right) / spread) if pairs.any() and spread > 0 else 0.0
    return Texture(covariance, correlation)


def grain_to_add(photo: Texture | None, face: Texture | None) -> Grain | None:
    """The grain a face whose own is ``face`` lacks in a photo whose grain is ``photo`` (None:
    none, or none to add: either unknown, the photo's texture a printed screen, or under
    :data:`MIN_GRAIN`)."""
    if photo is None or face is None or photo.correlation < _SCREEN_CORRELATION:
        return None
    values, vectors = np.linalg.eigh(photo.covariance - face.covariance)
    mix = vectors * np.sqrt(np.clip(values, 0.0, None))  # the part of the difference that is a variance
    grain = Grain(mix, _blur_for(photo.correlation))
    strength = grain.strength
    if strength < MIN_GRAIN:
        return None
    return Grain(mix * (MAX_GRAIN / strength), grain.blur) if strength > MAX_GRAIN else grain


@functools.cache
def _shaping() -> tuple[tuple[float, float], ...]:
    """For each blur of :data:`_BLURS`: the standard deviation of white noise's high-pass after
    it, and that high-pass's neighbour correlation (from the filters' own impulse response)."""
    impulse = np.zeros((49, 49), np.float32)
    impulse[24, 24] = 1.0
    rows = []
    for blur in _BLURS:
        shaped = _blurred(impulse, blur)
        response = (shaped - cv2.GaussianBlur(shaped, (0, 0), _HIGHPASS_SIGMA, borderType=cv2.BORDER_REFLECT)).astype(np.float64)
        energy = float(np.sum(response * response))
        rows.append((math.sqrt(energy), float(np.sum(response[:, :-1] * response[:, 1:]) / energy)))
    return tuple(rows)


def _blurred(image: np.ndarray, blur: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), blur, borderType=cv2.BORDER_REFLECT) if blur > 0 else image


def _blur_for(correlation: float) -> float:
    """The blur whose grain's high-pass correlates between neighbours as ``correlation`` says."""
    shaping = _shaping()
    best = min(range(len(_BLURS)), key=lambda k: abs(shaping[k][1] - correlation))
    return _BLURS[best]


def measure_window(roi: tuple[int, int, int, int], scale: int) -> tuple[int, int, int, int]:
    """The part of a face's output box (x0, y0, x1, y1) where its grain is measured: whole photo
    pixels (multiples of ``scale``), at most :data:`_WINDOW` photo pixels a side, about its centre."""
    x0, y0, x1, y1 = roi

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


def face_grains(plain: Sequence[np.ndarray], blended: np.ndarray, masks: Sequence[FaceMask],
                weights: Sequence[np.ndarray], scale: int) -> list[Grain | None]:
    """The grain each face lacks: ``blended``, the output with the faces in (HxWx3 uint8 or
    uint16, ``scale`` times the photo's size), and ``plain``, the output without them under each
    mask's box (:func:`faceapp.core.paste.face_regions`), its normalised weight ``weights``."""
    unit = 257.0 if blended.dtype == np.uint16 else 1.0
    grains: list[Grain | None] = []
    for region, mask, weight in zip(plain, masks, weights, strict=True):
        if mask.empty():
            grains.append(None)
            continue
        wx0, wy0, wx1, wy1 = measure_window(mask.roi, scale)
        x0, y0 = mask.roi[:2]
        if wx1 - wx0 < 8 * scale or wy1 - wy0 < 8 * scale:
            grains.append(None)
            continue
        within = (slice(wy0 - y0, wy1 - y0), slice(wx0 - x0, wx1 - x0))  # the window in the mask's box
        inside = at_photo_scale(weight[within], scale) >= _INTERIOR
        photo = measure_texture(at_photo_scale(region[within], scale, unit))
        face = measure_texture(at_photo_scale(blended[wy0:wy1, wx0:wx1], scale, unit), inside)
        grains.append(grain_to_add(photo, face))
    return grains


def add_grain(out: np.ndarray, masks: Sequence[FaceMask], weights: Sequence[np.ndarray],
              grains: Sequence[Grain | None], scale: int, *, band_rows: int = _BAND_ROWS) -> None:
    """Add each face's grain into ``out`` (HxWx3 uint8 or uint16, the output at ``scale`` times the
    photo's size) in place, faded in by its normalised blending weight, in bands of ``band_rows``
    output rows."""
    unit = 257.0 if out.dtype == np.uint16 else 1.0
    top_value = float(np.iinfo(out.dtype).max)
    for mask, weight, grain in zip(masks, weights, grains, strict=True):
        if grain is None or mask.empty():
            continue
        x0, y0, x1, y1 = mask.roi
        mix = (grain.mix * unit / _shaping()[_BLURS.index(grain.blur)][0]).astype(np.float32)
        noise = _WhiteNoise()
        for top in range(y0, y1, band_rows):
            bottom = min(y1, top + band_rows)
            added = cv2.transform(_grain_field(noise, top, bottom, x0, x1, scale, grain.blur), mix)
            fade = weight[top - y0 : bottom - y0]
            added *= np.sqrt(fade * (2.0 - fade))[..., None]
            target = out[top:bottom, x0:x1]
            added += target
            np.rint(added, out=added)
            np.clip(added, 0.0, top_value, out=added)
            target[...] = added


def _grain_field(noise: _WhiteNoise, top: int, bottom: int, left: int, right: int, scale: int,
                 blur: float) -> np.ndarray:
    """Output rows [top, bottom) and columns [left, right) of the photo's white ``noise``, blurred
    by ``blur`` on the photo's grid and enlarged ``scale`` times with Lanczos (float32, HxWx3)."""
    p0, p1 = top // scale - _MARGIN, -(-bottom // scale) + _MARGIN
    q0, q1 = left // scale - _MARGIN, -(-right // scale) + _MARGIN
    field = _blurred(noise.window(p0, p1, q0, q1), blur)
    if scale > 1:
        field = cv2.resize(field, ((q1 - q0) * scale, (p1 - p0) * scale), interpolation=cv2.INTER_LANCZOS4)
    return field[top - p0 * scale : bottom - p0 * scale, left - q0 * scale : right - q0 * scale]


class _WhiteNoise:
    """One fixed field of unit white noise over the photo's pixels (and beyond), three channels,
    float32, so any window of it is the same whichever band asks: each 64-pixel block of it is a
    piece of one 1024-pixel tile of noise drawn once, at an offset that the block's place picks.
    (Drawing the noise itself took 80 % of the grain's time on a 24 MP face; pieces of white noise
    side by side are white noise, and a piece recurs at random places out of 900,000 offsets.)"""

    def window(self, p0: int, p1: int, q0: int, q1: int) -> np.ndarray:
        """Photo rows [p0, p1) and columns [q0, q1)."""
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
