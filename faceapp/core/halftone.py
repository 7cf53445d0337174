"""Printed halftone screens: found in a photo, and smoothed out of it before its faces are restored.

A photo cut from a newspaper, a magazine or a book is a screen of dots a few scanner pixels apart.
The restorer, trained on blur, noise and JPEG, reads the dots as detail and smears them (QA: the
halftone child of gf_Blake_Lively came back with a smudged mouth, its photo's dots kept all around
it). A scanner's "descreen" blurs the dots away before anything else; so does faceapp, before the
faces are cropped:

- **found** tile by tile (:data:`_TILE` px; 128 on photos under 1,024 px a side), each asked
  :func:`screen_peaks`: its fine detail (periods under 12 px) mostly in sharp spectral peaks lying
  in more than one direction, as a screen's dots are and grain, noise, JPEG blocks, edges or stripes
  never are. A few tiles spread over the photo are asked first; only when one is screened are they
  all asked, so an ordinary photo costs 16 tiles' work. The screen's peaks are the screened tiles'
  strongest that most of them share, its period the median of the tiles' own (each tile's lowest
  peak of some strength); the map of where it is holds the tiles with enough of their fine detail
  at those peaks, and a face is printed with it when the middle half of its box holds the
  screen (:meth:`Screen.holds`: its share at the screen's peaks weighed against what those
  frequencies hold without peaks, so a brick wall's lines are not taken for a print). A photo is
  searched once (:func:`faceapp.core.photo_restore.photo_screen`), and a photo where no face is
  found is looked at again with its dots smoothed out (:func:`faceapp.core.application.iter_detect_faces`);
- **smoothed out** by a Gaussian blur that leaves 5 % of the screen's contrast (σ = 0.39 periods;
  the finer detail a screen cannot print anyway), only where the screen is: the tiles' map, its
  edges feathered over a tile, so the unscreened part of a collage, or the white paper around a
  clipping, keeps its sharpness; damage marked and transparent pixels are left out of the blur
  (:meth:`Screen.keeping`). A photo whose faces are not printed with it is left alone.

The restored faces then start from the print's picture rather than its dots, and the photo around
them has no dots either. The result's provenance says so (:meth:`Screen.provenance`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from faceapp.core.errors import Cancelled

#: A printed screen: this share or more of a window's high-pass power (periods under
#: :data:`_SCREEN_PERIOD` px) lies in spectral peaks :data:`_SCREEN_PEAK` times their surroundings.
_SCREEN_SHARE = 0.1
_SCREEN_PEAK = 30.0
_SCREEN_PERIOD = 12.0
#: A screen's period is that of its lowest peak with this share of its strongest peak's power.
_FUNDAMENTAL = 0.15
#: A screen's peaks lie in directions at least this far apart (a lattice, not stripes).
_LATTICE_DEGREES = 15.0
#: Tile side (px) for finding a screen, and for a photo under :data:`_SMALL_PHOTO` px a side.
_TILE = 256
_SMALL_TILE = 128
_SMALL_PHOTO = 1024
#: Tiles asked first, spread over the photo: all of them only when one of these is a screen.
_PROBES = 16
#: Once a screen is found, a tile (or a face's box) is part of it when this share of its fine
#: detail's power lies at the screen's peaks and their neighbours (some 100 of a tile's 16,000 fine
#: frequencies: 1 % of an unscreened tile's power, were it spread evenly).
_TILE_SHARE = 0.1
#: … and this many times what the same frequencies hold without peaks (their rings' mean).
_OVER_EVEN = 5.0
#: A tile's strongest peaks (each with its mirror image) that may be the screen's.
_TILE_PEAKS = 16
#: A face's box narrower than this (px) is told to be on the screen by the map of its tiles.
_SMALLEST_WINDOW = 32
#: The blur's σ in periods of the screen: exp(−2π²σ²/period²) = 0.05 leaves 5 % of its contrast.
_SIGMA_PER_PERIOD = math.sqrt(math.log(20.0) / (2.0 * math.pi**2))
#: The map of screened tiles is kept at this fraction of the photo's size (it is smooth).
_MAP_SCALE = 8
_BAND_ROWS = 128  # rows smoothed at a time (a 24 MP photo's float bands: ~40 MB)


@dataclass(frozen=True)
class _Spectrum:
    """A window's fine detail in frequency: ``power`` (HxW, unshifted), the frequencies ``fy`` and
    ``fx`` of its bins (cycles per pixel), ``fine`` (the bins of periods under :data:`_SCREEN_PERIOD`
    px) and ``total``, their power."""

    power: np.ndarray
    fy: np.ndarray
    fx: np.ndarray
    fine: np.ndarray
    total: float


def _spectrum(brightness: np.ndarray) -> _Spectrum:
    """The power spectrum of ``brightness``'s fine detail, away from the strongest edges (the 40 %
    steepest pixels), since a straight edge's spectrum is a line of sharp peaks (the edge of a face
    on a dark backdrop read as a screen)."""
    smooth = cv2.GaussianBlur(brightness, (0, 0), 2.0, borderType=cv2.BORDER_REFLECT)
    slope = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))
    calm = (slope <= np.quantile(slope, 0.6)).astype(np.float32)
    detail = brightness - cv2.GaussianBlur(brightness, (0, 0), 4.0, borderType=cv2.BORDER_REFLECT)
    detail = detail * cv2.GaussianBlur(calm, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    height, width = detail.shape
    taper = np.outer(np.hanning(height), np.hanning(width)).astype(np.float32)
    power = np.abs(np.fft.fft2(detail * taper)) ** 2
    fy, fx = np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :]
    fine = np.hypot(fy, fx) >= 1.0 / _SCREEN_PERIOD
    return _Spectrum(power, np.broadcast_to(fy, power.shape), np.broadcast_to(fx, power.shape), fine,
                     float(power[fine].sum()))


def screen_peaks(brightness: np.ndarray) -> np.ndarray | None:
    """The spectral peaks, as (fy, fx) rows in cycles per pixel (the screen's own first, then the
    others, the strongest first), of the printed screen that
    ``brightness`` (HxW float32) is, or None when it is not one: its fine detail (periods under 12
    px) mostly in sharp spectral peaks that lie in more than one direction, as halftone dots do and
    grain, noise, a straight edge or stripes (a door's panels, a banister) never do. Checked:
    halftone screens of 2, 3, 4, 6 and 8 px at 0°, 15° and 45° and the halftone child of
    gf_Blake_Lively are screens; grain, sensor noise, the other faces and photos of
    ../shared/testdata are not."""
    spectrum = _spectrum(brightness)
    if spectrum.total <= 0:
        return None
    power = spectrum.power
    level = np.log(np.fft.fftshift(power) + 1e-6 * spectrum.total / power.size).astype(np.float32)
    around = cv2.blur(level, (9, 9), borderType=cv2.BORDER_REFLECT)  # (shifted: the peaks' neighbours are near)
    peaks = np.fft.ifftshift(level - around > math.log(_SCREEN_PEAK)) & spectrum.fine
    if float(power[peaks].sum()) < _SCREEN_SHARE * spectrum.total:
        return None
    found = np.stack([spectrum.fy[peaks], spectrum.fx[peaks]], axis=1)
    directions = np.degrees(np.arctan2(found[:, 0], found[:, 1])) % 180.0
    apart = np.abs(directions[:, None] - directions[None, :])
    if not np.any(np.minimum(apart, 180.0 - apart) >= _LATTICE_DEGREES):
        return None
    # the screen's own period: its lowest peak of some strength (its sharp, small dots make their
    # harmonics the strongest peaks, as in gf_Blake_Lively: 1.76 px, its screen 3.4 px; a weak, lower
    # peak may be the beat of two inks' screens, a moiré that a blur to its period would take the
    # picture with)
    strength = power[peaks]
    strong = strength >= _FUNDAMENTAL * strength.max()
    fundamental = int(np.argmin(np.where(strong, np.hypot(found[:, 0], found[:, 1]), np.inf)))
    order = np.argsort(-strength, kind="stable")  # then the others, the strongest first
    order = np.concatenate([[fundamental], order[order != fundamental]])
    return found[order]


def is_screen(brightness: np.ndarray) -> bool:
    """Whether ``brightness`` (HxW float32, the photo's scale) is a printed screen
    (:func:`screen_peaks`)."""
    return screen_peaks(brightness) is not None


def _near(shape: tuple[int, int], peaks: np.ndarray, resolution: float) -> np.ndarray:
    """The frequencies of an HxW spectrum (unshifted) within a bin, and within ``resolution``
    cycles per pixel (how exactly the peaks are known), of the spectral ``peaks``."""
    height, width = shape
    near = np.zeros((height, width), bool)
    rows, columns = np.rint(peaks[:, 0] * height).astype(int), np.rint(peaks[:, 1] * width).astype(int)
    reach_y, reach_x = 1 + round(resolution * height), 1 + round(resolution * width)
    for dy in range(-reach_y, reach_y + 1):
        for dx in range(-reach_x, reach_x + 1):
            near[(rows + dy) % height, (columns + dx) % width] = True
    return near


def power_at(brightness: np.ndarray, peaks: np.ndarray, *, resolution: float = 0.0) -> tuple[float, float]:
    """The power of ``brightness``'s fine detail at the spectral ``peaks`` ((fy, fx) rows, cycles
    per pixel, known to within ``resolution``) and their neighbouring frequencies, and that of all
    its fine detail."""
    spectrum = _spectrum(brightness)
    near = _near(brightness.shape, peaks, resolution)
    return float(spectrum.power[near & spectrum.fine].sum()), spectrum.total


def _on_screen(brightness: np.ndarray, peaks: np.ndarray, resolution: float) -> bool:
    """Whether ``brightness`` holds the screen of ``peaks``: its fine detail's power at them and
    their neighbours (:func:`power_at`) is :data:`_TILE_SHARE` of all, and :data:`_OVER_EVEN` times
    what those frequencies hold in a picture without peaks: each the mean of its ring (the
    frequencies as far from 0; a photo's power falls off away from 0, so a brick wall's peaks at 10
    px met a face's own detail there: QA)."""
    spectrum = _spectrum(brightness)
    if spectrum.total <= 0:
        return False
    near = _near(brightness.shape, peaks, resolution) & spectrum.fine
    ring = np.rint(np.hypot(spectrum.fy, spectrum.fx) * max(brightness.shape)).astype(np.int64)
    away = ~near  # (a ring's mean without the peaks: a screen's own would raise it to them)
    ring_mean = (np.bincount(ring[away], weights=spectrum.power[away], minlength=ring.max() + 1)
                 / np.maximum(np.bincount(ring[away], minlength=ring.max() + 1), 1))
    at = float(spectrum.power[near].sum())
    expected = float(ring_mean[ring[near]].sum())
    return at >= max(_TILE_SHARE * spectrum.total, _OVER_EVEN * expected)


@dataclass(frozen=True, eq=False)
class Screen:
    """A printed screen found in a photo: ``period``, px between its dots (its lowest spectral
    peak's); ``peaks``, its spectral peaks ((fy, fx) rows, cycles per pixel); ``weights``, where it
    is (float32 0…1, :data:`_MAP_SCALE` times smaller than the photo, feathered); ``share``, the
    photo's share that it covers; ``shape``, the photo's (height, width)."""

    period: float
    peaks: np.ndarray
    weights: np.ndarray
    share: float
    shape: tuple[int, int]
    #: how exactly ``peaks`` are known (cycles per pixel): half a bin of the tiles they were found in
    resolution: float = 0.0
    #: HxW uint8, how much each pixel enters the blur (255 whole, 0 not at all: damage marked and the
    #: pixels around it, transparent ones), or None for every pixel whole: so a white scratch is not
    #: smeared into the pixels its fill keeps, nor a transparent background into a cut-out's edge
    kept: np.ndarray | None = None
    #: HxW bool, the pixels left as they are (fully transparent ones: the colour hidden under them
    #: is the file's, review), or None for none
    untouched: np.ndarray | None = None

    def keeping(self, damage: np.ndarray | None, alpha: np.ndarray | None) -> Screen:
        """This screen blurred without ``damage`` (HxW, > 0 damaged, and a pixel around it: a
        scan's soft edge) and as transparent as ``alpha`` says (HxW uint8), when there is either;
        fully transparent pixels are left as they are."""
        if damage is None and alpha is None:
            return self
        kept = np.full(self.shape, 255, np.uint8) if alpha is None else alpha.copy()
        if damage is not None:
            kept[cv2.dilate((damage > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 0
        kept.flags.writeable = False
        untouched = None if alpha is None or alpha.all() else alpha == 0
        return replace(self, kept=kept, untouched=untouched)

    @property
    def sigma(self) -> float:
        """The blur that smooths it out (px)."""
        return _SIGMA_PER_PERIOD * self.period

    def holds(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> bool:
        """Whether the face in ``box`` (x0, y0, x1, y1) of ``rgb`` (the photo the screen was found
        in) is printed with this screen: the middle half of the box, the face's own, has its fine
        detail at the screen's peaks, as a screened tile's is (a face before a dotted or brick wall
        has not, though the wall's tiles surround it); a box too small to tell is by the map. At
        most :data:`_SMALL_PHOTO` px of it are asked."""
        x0, y0, x1, y1 = box  # its middle half: the face itself, not what is behind it (QA: a brick wall)
        x0, y0, x1, y1 = (round(v) for v in ((3 * x0 + x1) / 4, (3 * y0 + y1) / 4, (x0 + 3 * x1) / 4, (y0 + 3 * y1) / 4))
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(rgb.shape[1], x1), min(rgb.shape[0], y1)
        if min(x1 - x0, y1 - y0) < _SMALLEST_WINDOW:
            return bool(self._weight_at((x0 + x1) / 2, (y0 + y1) / 2) >= 0.5)
        cy, cx, half = (y0 + y1) // 2, (x0 + x1) // 2, _SMALL_PHOTO // 2
        window = rgb[max(y0, cy - half) : min(y1, cy + half), max(x0, cx - half) : min(x1, cx + half)]
        return _on_screen(window.astype(np.float32).mean(axis=2), self.peaks, self.resolution)

    def _weight_at(self, x: float, y: float) -> float:
        row = min(self.weights.shape[0] - 1, max(0, round((y + 0.5) / _MAP_SCALE - 0.5)))
        column = min(self.weights.shape[1] - 1, max(0, round((x + 0.5) / _MAP_SCALE - 0.5)))
        return float(self.weights[row, column])

    def provenance(self) -> dict[str, Any]:
        return {"period_px": round(self.period, 2), "blur_sigma_px": round(self.sigma, 2),
                "share": round(self.share, 3)}


def _tile_origins(length: int, tile: int) -> list[int]:
    """Where the tiles along one side of ``length`` px start: side by side, the last at the edge."""
    if length <= tile:
        return [0]
    origins = list(range(0, length - tile + 1, tile))
    if origins[-1] != length - tile:
        origins.append(length - tile)
    return origins


def find_screen(rgb: np.ndarray, *, should_cancel: Callable[[], bool] | None = None) -> Screen | None:
    """The printed screen of ``rgb`` (HxWx3 uint8), or None when it has none (or is smaller than
    a tile). ``should_cancel`` is asked between tiles (raises :class:`~faceapp.core.errors.Cancelled`).

    Tiles spread over the photo are asked :func:`screen_peaks` first; once one is a screen, every
    tile is asked how much of its fine detail lies at that screen's peaks (a tile whose light tones
    print as faint dots is the screen too, though its peaks alone would not tell)."""
    height, width = rgb.shape[:2]
    tile = _SMALL_TILE if min(height, width) < _SMALL_PHOTO else _TILE
    if min(height, width) < _SMALL_TILE:
        return None
    tops, lefts = _tile_origins(height, tile), _tile_origins(width, tile)

    def brightness(row: int, column: int) -> np.ndarray:
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        top, left = tops[row], lefts[column]
        return rgb[top : top + tile, left : left + tile].astype(np.float32).mean(axis=2)

    every = [(r, c) for r in range(len(tops)) for c in range(len(lefts))]
    probes = every if len(every) <= _PROBES else [every[round(k)] for k in np.linspace(0, len(every) - 1, _PROBES)]
    found = [peaks for peaks in (screen_peaks(brightness(r, c)) for r, c in probes) if peaks is not None]
    if not found:
        return None
    if len(probes) < len(every):  # (every tile is asked anyway: its own peaks tell the period better)
        found = [peaks for peaks in (screen_peaks(brightness(r, c)) for r, c in every) if peaks is not None]
    period = 1.0 / float(np.median([np.hypot(*peaks[0]) for peaks in found]))
    # the screen's peaks: each screened tile's strongest, those that most of the tiles share (every
    # peak of every tile, the crisp dots' many harmonics and their sums, came to a tenth of all the
    # fine frequencies: noise met them, and a collage's unprinted half was "printed", review)
    bins = [{tuple(b) for b in np.rint(peaks[:_TILE_PEAKS] * tile).astype(int)} for peaks in found]
    counts = Counter(b for tile_bins in bins for b in tile_bins)
    shared = [b for b, n in counts.items() if n >= max(1, math.ceil(len(bins) / 3))]
    if not shared:  # (tiles that share no peak: the most shared of them all)
        shared = [b for b, _n in counts.most_common(_TILE_PEAKS)]
    peaks = np.asarray(shared, np.float64).reshape(-1, 2) / tile
    # a tile is the screen when enough of its fine detail's power is at the screen's peaks (its
    # light tones' faint dots too, which its own peaks alone would not tell)
    small = (max(1, height // _MAP_SCALE), max(1, width // _MAP_SCALE))
    cover = np.zeros(small, np.float32)
    side = math.ceil(tile / _MAP_SCALE)
    screened = 0
    for r, c in every:
        if _on_screen(brightness(r, c), peaks, 0.0):
            screened += 1
            top, left = round(tops[r] / _MAP_SCALE), round(lefts[c] / _MAP_SCALE)
            cover[top : top + side, left : left + side] = 1.0
    weights = cv2.GaussianBlur(cover, (0, 0), side / 4, borderType=cv2.BORDER_REPLICATE)  # (feathered: ½ at its edge)
    return Screen(period=period, peaks=peaks, weights=weights, share=screened / len(every), shape=(height, width),
                  resolution=0.5 / tile)


def descreen(pixels: np.ndarray, screen: Screen, *, should_cancel: Callable[[], bool] | None = None) -> np.ndarray:
    """``pixels`` (HxW or HxWxC, uint8 or uint16, the size :attr:`Screen.shape` says) with the
    screen smoothed out where it is: a new array of the same type."""
    height, width = pixels.shape[:2]
    if (height, width) != screen.shape:
        raise ValueError(f"the screen was found on a {screen.shape[1]}×{screen.shape[0]} photo, not {width}×{height}")
    out = np.empty_like(pixels)
    reach = math.ceil(4 * screen.sigma) + 1
    for top in range(0, height, _BAND_ROWS):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        bottom = min(height, top + _BAND_ROWS)
        lo, hi = max(0, top - reach), min(height, bottom + reach)
        band = pixels[lo:hi].astype(np.float32)
        if screen.kept is None:
            smooth = cv2.GaussianBlur(band, (0, 0), screen.sigma, borderType=cv2.BORDER_REFLECT)[top - lo : bottom - lo]
        else:  # a blur of the kept pixels only, weighted by how much each is kept
            kept = screen.kept[lo:hi].astype(np.float32) / 255.0
            share = cv2.GaussianBlur(kept, (0, 0), screen.sigma, borderType=cv2.BORDER_REFLECT)
            kept_band = band * (kept[:, :, None] if band.ndim == 3 else kept)
            total = cv2.GaussianBlur(kept_band, (0, 0), screen.sigma, borderType=cv2.BORDER_REFLECT)
            share = share[:, :, None] if band.ndim == 3 else share
            smooth = total / np.maximum(share, 1e-3)
            if (lost := share <= 1e-3).any():  # (nothing kept near: the plain blur, made only then)
                plain = cv2.GaussianBlur(band, (0, 0), screen.sigma, borderType=cv2.BORDER_REFLECT)
                smooth = np.where(lost, plain, smooth)
            smooth = smooth[top - lo : bottom - lo]
        band = band[top - lo : bottom - lo]
        rows = (np.arange(top, bottom) + 0.5) * screen.weights.shape[0] / height - 0.5
        columns = (np.arange(width) + 0.5) * screen.weights.shape[1] / width - 0.5
        weight = cv2.remap(screen.weights, *np.meshgrid(columns.astype(np.float32), rows.astype(np.float32)),
                           cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if pixels.ndim == 3:
            weight = weight[:, :, None]
        top_value = np.iinfo(pixels.dtype).max
        out[top:bottom] = np.clip(np.rint(band + weight * (smooth - band)), 0, top_value).astype(pixels.dtype)
        if screen.untouched is not None:
            hidden = screen.untouched[top:bottom]
            out[top:bottom][hidden] = pixels[top:bottom][hidden]
    return out
