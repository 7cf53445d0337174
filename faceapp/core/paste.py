"""Pasting restored face crops back onto the (upscaled) photo with soft masks.

A crop was cut with the 2x3 photo→crop affine A. On an output s times larger, output pixel u sits
at photo position (u + 0.5)/s − 0.5 (OpenCV's pixel-centre convention, shared with
:mod:`faceapp.core.upscale`), so the crop is sampled at A·((u + 0.5)/s − 0.5). Every warp is done
in the face's own region of interest (ROI), never over the whole photo, so memory stays bounded.

The blending mask is an all-ones crop warped the same way (so it is cut where the crop left the
photo, and faces touching the border blend right up to it), eroded, then eroded and blurred by
≈ √area/20 pixels. Where faces of like sizes overlap, each face's weight is divided by the sum of
the weights there (when that sum exceeds 1), so no face clobbers its neighbour; a much smaller face
in a larger one's region lies over it (:func:`normalised_weights`):
out = bg + Σᵢ wᵢ·(faceᵢ − bg); a face pasted as its change (:class:`KeptDetail`: a sharp one the prior
did not touch) adds wᵢ·(faceᵢ − unrestoredᵢ) instead, so the photo keeps the detail finer than the crop
(and, where the photo resolves the face finer than the crop, only the change's broad part is added:
:data:`KEPT_CHANGE_SIGMA_PX`).
Pixels outside every ROI are the background, untouched, so the
blend can also be written into the background itself (:func:`blend_faces`), keeping aside only the
face regions of the plain background (:func:`face_regions`) to restore them before the next one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

_BAND_ROWS = 128  # output rows blended at a time


@dataclass(frozen=True, eq=False)
class FaceMask:
    """A face's soft mask on the output: float32 weights in [0, 1] over ``roi`` (x0, y0, x1, y1)."""

    roi: tuple[int, int, int, int]
    weights: np.ndarray
    inverse_map: np.ndarray  # 2x3 output-ROI → crop, for cv2.warpAffine(..., WARP_INVERSE_MAP)
    crop_size: int = 0  # the crop's side (0: unknown)

    def empty(self) -> bool:
        return self.weights.size == 0


def output_to_crop(affine: np.ndarray, scale: float, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """2x3 map from output pixel (u, v) − origin to crop coordinates: A·((u + o + 0.5)/s − 0.5)."""
    affine = np.asarray(affine, dtype=np.float64)
    linear = affine[:, :2]
    offset = (np.asarray(origin, dtype=np.float64) + 0.5) / scale - 0.5
    return np.hstack([linear / scale, (linear @ offset + affine[:, 2])[:, None]])


def face_roi(affine: np.ndarray, crop_size: int, scale: float, out_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Output-pixel box (x0, y0, x1, y1) covering the crop's footprint, clipped to the output."""
    inverse = cv2.invertAffineTransform(np.asarray(affine, dtype=np.float64))
    corners = np.array([[0, 0, 1], [crop_size, 0, 1], [0, crop_size, 1], [crop_size, crop_size, 1]], dtype=np.float64)
    photo = corners @ inverse.T
    out = (photo + 0.5) * scale - 0.5
    width, height = out_size
    x0 = int(np.clip(math.floor(out[:, 0].min()) - 1, 0, width))
    y0 = int(np.clip(math.floor(out[:, 1].min()) - 1, 0, height))
    x1 = int(np.clip(math.ceil(out[:, 0].max()) + 2, x0, width))
    y1 = int(np.clip(math.ceil(out[:, 1].max()) + 2, y0, height))
    return x0, y0, x1, y1


def face_mask(affine: np.ndarray, crop_size: int, scale: float, out_size: tuple[int, int], *, feather: bool = True) -> FaceMask:
    """The soft blending mask of one face on an output of ``out_size`` (width, height)."""
    x0, y0, x1, y1 = face_roi(affine, crop_size, scale, out_size)
    inverse_map = output_to_crop(affine, scale, (x0, y0))
    if x1 <= x0 or y1 <= y0:
        return FaceMask((x0, y0, x1, y1), np.zeros((0, 0), np.float32), inverse_map, crop_size)
    ones = np.ones((crop_size, crop_size), dtype=np.float32)
    mask = cv2.warpAffine(
        ones, inverse_map, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
    )
    if feather:
        mask = _feather(mask, roi=(x0, y0, x1, y1), out_size=out_size)
    return FaceMask((x0, y0, x1, y1), np.clip(mask, 0.0, 1.0), inverse_map, crop_size)


#: A feathering blur wider than this many pixels each side is made on a copy reduced to that width,
#: then enlarged: a face filling an upscaled 48 MP photo (a 4500 px mask, a 449 px blur) took
#: 18–27 s at full size, under a second so.
_FEATHER_BLUR_PX = 12


def _feather(mask: np.ndarray, *, roi: tuple[int, int, int, int], out_size: tuple[int, int]) -> np.ndarray:
    """Erode, then erode and blur by ≈ √area/20 px; the photo's own border is not treated as an edge."""
    # Pad with ones on the sides where the ROI touches the output border, zeros elsewhere, so the
    # mask stays 1 up to a photo border it was cut by but falls off where the crop itself ends.
    edge = max(1, int(math.sqrt(float(mask.sum())) / 20.0))
    pad = 2 * edge + 4
    x0, y0, x1, y1 = roi
    width, height = out_size
    padded = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0.0)
    if x0 == 0:
        padded[:, :pad] = padded[:, pad : pad + 1]
    if x1 == width:
        padded[:, -pad:] = padded[:, -pad - 1 : -pad]
    if y0 == 0:
        padded[:pad, :] = padded[pad : pad + 1, :]
    if y1 == height:
        padded[-pad:, :] = padded[-pad - 1 : -pad, :]
    inside = (padded > 0.999).astype(np.uint8)  # only pixels fully inside the crop
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    radius = 2 * edge
    inside = cv2.erode(inside, np.ones((radius, radius), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return _gaussian_blur(inside.astype(np.float32), 2 * edge + 1)[pad:-pad, pad:-pad]


def _gaussian_blur(image: np.ndarray, size: int) -> np.ndarray:
    """``cv2.GaussianBlur`` with a ``size``-pixel kernel (its default σ), edges replicated; a kernel
    wider than ``2·_FEATHER_BLUR_PX + 1`` is applied to a reduced copy, enlarged again (bilinear):
    what it blurs varies slowly, so that differs by under a hundredth."""
    if size <= 2 * _FEATHER_BLUR_PX + 1:
        return cv2.GaussianBlur(image, (size, size), 0, borderType=cv2.BORDER_REPLICATE)
    height, width = image.shape
    ratio = _FEATHER_BLUR_PX / (size // 2)
    small = cv2.resize(image, (max(1, round(width * ratio)), max(1, round(height * ratio))), interpolation=cv2.INTER_AREA)
    sigma = (0.3 * ((size - 1) * 0.5 - 1) + 0.8) * ratio  # OpenCV's default σ of the full kernel, reduced
    small = cv2.GaussianBlur(small, (2 * _FEATHER_BLUR_PX + 1,) * 2, sigma, borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


#: A face this many times smaller than another (in output pixels per crop pixel) whose region it
#: lies in is pasted over it (outside that face itself: :data:`FACE_CORE`), not shared with it: the larger face's crop draws the smaller one at a
#: fraction of its own resolution, as the larger one's background (group QA: a face on a poster
#: behind, a child held up, came out ghosted, half the larger crop's smear averaged in). Between
#: the first ratio and the second it goes over by degrees (no jump between two faces of nearly
#: one ratio: paste QA); under the first, faces share what they overlap.
NESTED_FACE_RATIOS = (1.25, 2.0)


def _overlap(a: FaceMask, b: FaceMask) -> tuple[slice, slice, slice, slice] | None:
    """Where ``a``'s and ``b``'s ROIs meet, as (rows, columns) slices of ``a``'s then ``b``'s
    weights; None where they do not."""
    ax0, ay0, ax1, ay1 = a.roi
    bx0, by0, bx1, by1 = b.roi
    ix0, iy0, ix1, iy1 = max(ax0, bx0), max(ay0, by0), min(ax1, bx1), min(ay1, by1)
    if ix1 <= ix0 or iy1 <= iy0 or a.empty() or b.empty():
        return None
    return (slice(iy0 - ay0, iy1 - ay0), slice(ix0 - ax0, ix1 - ax0),
            slice(iy0 - by0, iy1 - by0), slice(ix0 - bx0, ix1 - bx0))


def crop_per_output(mask: FaceMask) -> float:
    """Pixels of the face's crop per output pixel (the inverse of its size on the output)."""
    return float(abs(np.linalg.det(mask.inverse_map[:, :2].astype(np.float64)))) ** 0.5


#: The part of a crop that is the face itself, where a smaller face does not lie over it: pixels
#: within this share of the crop's side of its middle (the template puts the face in the middle
#: half), fading out over the next share (review: a child's crop beside an adult took the adult's
#: cheek, all its weight there, the child's crop rendering that cheek as its own background).
FACE_CORE = (0.25, 0.35)


def _outside_face_core(mask: FaceMask, where: tuple[slice, slice, slice, slice]) -> np.ndarray | float:
    """How far each pixel of ``mask``'s ROI in ``where`` (its first two slices) lies outside the face
    itself (:data:`FACE_CORE`): 0 within it, 1 beyond it; 1 where the crop's side is unknown."""
    if mask.crop_size <= 0:
        return 1.0
    rows, columns = where[0], where[1]
    ys, xs = np.mgrid[rows.start:rows.stop, columns.start:columns.stop].astype(np.float32)
    a = mask.inverse_map.astype(np.float32)
    middle = mask.crop_size / 2.0
    u, v = a[0, 0] * xs + a[0, 1] * ys + a[0, 2] - middle, a[1, 0] * xs + a[1, 1] * ys + a[1, 2] - middle
    off = np.maximum(np.abs(u), np.abs(v)) / mask.crop_size
    inner, outer = FACE_CORE
    return np.clip((off - inner) / (outer - inner), 0.0, 1.0)


def _over(larger: float, smaller: float) -> float:
    """How far a face of output scale ``smaller`` lies over one of ``larger`` where they overlap:
    0 (they share) to 1 (it lies over it), by :data:`NESTED_FACE_RATIOS`."""
    low, high = NESTED_FACE_RATIOS
    ratio = larger / smaller if smaller > 0 else 0.0
    return float(min(1.0, max(0.0, (ratio - low) / (high - low))))


def normalised_weights(masks: Sequence[FaceMask]) -> list[np.ndarray]:
    """The weights each face is pasted with where faces overlap: a face much smaller than another
    lies over it outside that face itself (:data:`NESTED_FACE_RATIOS`, :data:`FACE_CORE`: the larger
    one's weight there is scaled by one minus the smaller's, that much), and faces of like sizes, or
    a smaller one over the larger's face, share what they overlap: each one's weights divided by the
    sum of all where that sum exceeds 1.

    A mask that overlaps no other is returned as it is (not copied).
    """
    scales = [1.0 / crop_per_output(mask) if not mask.empty() else 0.0 for mask in masks]
    layered: list[np.ndarray] = []
    for i, mask in enumerate(masks):
        weights = mask.weights
        for j, other in enumerate(masks):
            over = _over(scales[i], scales[j]) if j != i else 0.0
            if over > 0 and (where := _overlap(mask, other)):
                if weights is mask.weights:
                    weights = weights.copy()
                over_here = over * _outside_face_core(mask, where)  # (not over the larger face itself)
                weights[where[0], where[1]] *= 1.0 - over_here * other.weights[where[2], where[3]]
        layered.append(weights)
    result = []
    for i, mask in enumerate(masks):
        total = None
        for j, other in enumerate(masks):
            if j != i and (where := _overlap(mask, other)):
                if total is None:
                    total = layered[i].copy()
                total[where[0], where[1]] += layered[j][where[2], where[3]]
        result.append(layered[i] if total is None else layered[i] / np.maximum(total, 1.0))
    return result


def face_regions(image: np.ndarray, masks: Sequence[FaceMask]) -> list[np.ndarray]:
    """Copies of ``image`` under each mask's ROI (to restore them with :func:`put_face_regions`)."""
    return [image[y0:y1, x0:x1].copy() for x0, y0, x1, y1 in (mask.roi for mask in masks)]


def put_face_regions(image: np.ndarray, masks: Sequence[FaceMask], regions: Sequence[np.ndarray]) -> None:
    """Write ``regions`` (from :func:`face_regions`) back into ``image`` under each mask's ROI."""
    for mask, region in zip(masks, regions, strict=True):
        x0, y0, x1, y1 = mask.roi
        image[y0:y1, x0:x1] = region


def paste_faces(
    background: np.ndarray,
    crops: Sequence[np.ndarray],
    masks: Sequence[FaceMask],
    *,
    weights: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """A copy of ``background`` (uint8 RGB) with each crop blended in through its mask."""
    if weights is None:
        weights = normalised_weights(masks)
    out = background.copy()
    plain = [background[y0:y1, x0:x1] for x0, y0, x1, y1 in (mask.roi for mask in masks)]
    blend_faces(out, plain, crops, masks, weights)
    return out


@dataclass(frozen=True, eq=False)
class KeptDetail:
    """What a face pasted as its change keeps of the photo (see :func:`blend_faces`): ``reference``,
    the unrestored crop (the crops' type); ``hole``, float32 weights in [0, 1] of the crop's
    damaged pixels (softened), where the restored crop is pasted whole (None: no damage); and
    ``change_sigma``, the scale (σ, px of the crop) below which the restorer's change is left out
    (:func:`kept_change_sigma`; 0: none is)."""

    reference: np.ndarray
    hole: np.ndarray | None = None
    change_sigma: float = 0.0


#: A hole's edge (px of the crop) widened and softened where a face pasted as its change meets the
#: fill: the damaged pixels' own neighbours carry some of the stain (anti-aliasing, a scan's blur).
HOLE_MARGIN_PX = 2


def soft_hole(damage: np.ndarray | None) -> np.ndarray | None:
    """A crop's damage mask (255 = damaged) as :class:`KeptDetail`'s ``hole``: float32 weights in
    [0, 1], widened by :data:`HOLE_MARGIN_PX` and feathered over as many; None for none."""
    if damage is None:
        return None
    side = 2 * HOLE_MARGIN_PX + 1
    grown = cv2.dilate((damage > 0).astype(np.float32), np.ones((side, side), np.uint8))
    return np.clip(cv2.GaussianBlur(grown, (side, side), 0) * 2.0, 0.0, 1.0)


#: A face pasted as its change, cut from a photo that resolves it finer than the crop (2 photo px
#: or more a crop px), takes the restorer's change only at scales above this (σ of a Gaussian, px of
#: the crop): its broad corrections (tone, colour, shapes), not its finer change, made from a view
#: coarser than the photo's, which on a sharp face is mostly smoothing the photo's own texture
#: (result QA: a face-filling portrait "kept" came back with its hair melted and its grain gone).
#: From a face the crop enlarges, the restorer saw all the photo holds: its whole change is pasted
#: (it takes out a scan's dither and JPEG noise there); between the two, the scale ramps.
KEPT_CHANGE_SIGMA_PX = 2.0


def kept_change_sigma(affine: np.ndarray) -> float:
    """:attr:`KeptDetail.change_sigma` for a face cut with the 2x3 photo → crop ``affine``."""
    photo_px_per_crop_px = 1.0 / math.sqrt(max(abs(float(np.linalg.det(affine[:, :2]))), 1e-12))
    return KEPT_CHANGE_SIGMA_PX * min(max(photo_px_per_crop_px - 1.0, 0.0), 1.0)


def _kept_reference(crop: np.ndarray, detail: KeptDetail) -> np.ndarray:
    """The reference a face pasted as its change is compared with: :attr:`KeptDetail.reference`
    plus the part of the restorer's change finer than its ``change_sigma`` (rounded to the crops'
    type, which both are warped in alike: no change adds nothing), so that ``crop`` − it is the
    change's broad part alone; the reference itself where that scale is 0."""
    if detail.change_sigma <= 0.0:
        return detail.reference
    change = crop.astype(np.float32) - detail.reference.astype(np.float32)
    if detail.hole is None:
        broad = cv2.GaussianBlur(change, (0, 0), detail.change_sigma)
    else:  # the broad change of the pixels outside the hole alone: its fill, pasted whole, spreads no
        # rim around it (review: a scratch's fill darkened the 4 crop px beside it)
        outside = (1.0 - detail.hole)[:, :, None]
        spread = cv2.GaussianBlur(outside, (0, 0), detail.change_sigma)
        broad = cv2.GaussianBlur(change * outside, (0, 0), detail.change_sigma).reshape(change.shape)
        broad /= np.maximum(spread.reshape(*spread.shape[:2], 1), 1e-3)
    fine = change - broad
    reference = np.rint(detail.reference.astype(np.float32) + fine)
    return np.clip(reference, 0, np.iinfo(crop.dtype).max).astype(crop.dtype)


def blend_faces(
    out: np.ndarray,
    plain: Sequence[np.ndarray],
    crops: Sequence[np.ndarray],
    masks: Sequence[FaceMask],
    weights: Sequence[np.ndarray],
    *,
    kept: Sequence[KeptDetail | None] | None = None,
    band_rows: int = _BAND_ROWS,
    trip: Callable[[np.ndarray], np.ndarray] | None = None,
) -> None:
    """Add wᵢ·(cropᵢ − plainᵢ) into ``out`` in place over each mask's ROI.

    ``plain[i]`` is the background under mask i's ROI, unchanged by the faces (``out`` may hold a
    copy of the background or the background itself). ``out``, ``plain`` and ``crops`` are uint8,
    or all uint16 (a 16-bit result). The work runs in bands of ``band_rows``
    output rows, so the float temporaries stay small whatever the face's size.

    A face with a :class:`KeptDetail` in ``kept`` is pasted as its change instead: wᵢ·(cropᵢ −
    referenceᵢ), both warped alike, so the background keeps what the crop's resolution cannot hold
    (the fine detail of a face larger than the crop, or of a photo upscaled); in its hole the crop
    is pasted whole, as without it.

    ``trip``: what the photo's pixels (a band of ``plain``) become on their way through the crops'
    colour space and back, where that loses something (a wide-gamut photo through sRGB). A face pasted
    whole then adds wᵢ·(cropᵢ − trip(plainᵢ)): where the crop is the photo as it was, the photo stays
    as it was, so colours the crop cannot hold beside the face are kept (colour QA: a Display P3
    green stripe beside a face came back dulled to sRGB's green inside the face's box).
    """
    top_value = float(np.iinfo(out.dtype).max)
    kept = kept if kept is not None else [None] * len(crops)
    for crop, base, mask, weight, detail in zip(crops, plain, masks, weights, kept, strict=True):
        if mask.empty():
            continue
        x0, y0, x1, y1 = mask.roi
        reference = _kept_reference(crop, detail) if detail is not None else None
        for top in range(0, y1 - y0, band_rows):
            bottom = min(y1 - y0, top + band_rows)
            band_map = mask.inverse_map.copy()
            band_map[:, 2] += mask.inverse_map[:, 1] * top
            size = (x1 - x0, bottom - top)
            warped = cv2.warpAffine(
                crop, band_map, size, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
            )
            target = out[y0 + top : y0 + bottom, x0:x1]
            value = warped.astype(np.float32)
            value -= base[top:bottom] if detail is not None or trip is None else trip(base[top:bottom])
            if detail is not None:  # + (plain − reference): the change alone, outside the hole
                unrestored = cv2.warpAffine(reference, band_map, size, flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                                            borderMode=cv2.BORDER_REPLICATE)
                kept_part = base[top:bottom].astype(np.float32)
                kept_part -= unrestored
                if detail.hole is not None:
                    hole = cv2.warpAffine(detail.hole, band_map, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
                    kept_part *= (1.0 - hole)[:, :, None]
                value += kept_part
            value *= weight[top:bottom, :, None]
            value += target
            value += 0.5
            np.clip(value, 0, top_value, out=value)
            target[...] = value  # truncates: value + 0.5 rounded
