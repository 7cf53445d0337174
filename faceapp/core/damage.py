"""Damage masks: which pixels of a photo are scratched, torn, stained or missing.

A mask is an HxW uint8 array, 255 where the photo is damaged and 0 elsewhere (white = damaged,
as in a mask painted over the photo in any editor). :func:`read_mask` reads one from a file and
checks it fits the photo (same size) or an aligned face crop (``crop_size``²);
:func:`mask_to_crop` and :func:`mask_to_photo` carry a mask into an aligned face crop and back
with the photo→crop affine of :func:`faceapp.core.faces.align_face`; :func:`fill_damage` fills the
damaged pixels classically (OpenCV's ``cv2.inpaint``, Telea's fast marching method), which is what
the background of a photo gets and what the restorer's estimate of a face starts from.
:func:`mask_summary` is what a result's provenance records: the damaged area and a hash.
:func:`covered_features` says which eyes and whether the mouth a face's damage hides: the prior
draws those anew, knowing nothing of the person's own (a front-end says so).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from faceapp.core.errors import ImageError, MaskError
from faceapp.core.photo_io import read_photo

DAMAGED = 255
#: Grey level from which a pixel of a mask file counts as damaged (white = damaged): a quarter of
#: white, so a soft brush's edges and a blurred speck count (damage QA: at 128 a mask feathered by 3 px
#: repaired 4.2 % of the photo of its 7.5 %, most dust left), while a JPEG mask's ringing (under 64
#: at quality 50, measured) does not.
MASK_THRESHOLD = 64
#: Smallest neighbourhood (pixels) Telea's method averages over when filling.
MIN_FILL_RADIUS = 3
#: Largest at full size: the cost per pixel grows with the radius squared (a 110 px radius took
#: 45 s on a 400×225 photo). A wider hole is filled at a scale where its radius is this, then enlarged.
MAX_FILL_RADIUS = 12

FillMethod = Literal["telea", "ns"]
_FILL_FLAGS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


def check_mask(mask: np.ndarray, width: int, height: int, *, name: str = "the mask") -> np.ndarray:
    """``mask`` as a 0/255 uint8 HxW array of the photo's size; :class:`MaskError` when it is not 2-D
    or not ``width``×``height``. Any non-zero value counts as damaged."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise MaskError(f"{name} must be a single-channel image, got an array of shape {mask.shape}.")
    if mask.shape != (height, width):
        raise MaskError(f"{name} is {mask.shape[1]}×{mask.shape[0]} but the photo is {width}×{height}.")
    return np.where(mask > 0, np.uint8(DAMAGED), np.uint8(0))


def read_mask(path: str | Path, *, width: int, height: int, crop_size: int | None = None) -> tuple[np.ndarray, Literal["photo", "crop"]]:
    """Read a mask file (white = damaged): returns the 0/255 mask and what it covers.

    The file must be as large as the photo (``width``×``height``: "photo") or as an aligned face
    crop (``crop_size``²: "crop"). It is read like a photo (EXIF orientation applied); pixels whose
    brightest channel is :data:`MASK_THRESHOLD` or more count as damaged (white, light grey, and
    strokes painted in a colour: pure red is dark grey as a grey level, QA), transparent ones as undamaged.
    Raises :class:`MaskError` naming the file and the sizes that would fit, and for a mask of the
    photo's size that marks :data:`INVERTED_SHARE` of it or more (inverted, most likely).
    """
    path = Path(path)
    try:
        image = read_photo(path)
    except ImageError as exc:
        raise MaskError(f"damage mask {exc}") from exc
    damaged = _damaged(image)
    if damaged.all():
        raise MaskError(f"damage mask {path.name} marks every pixel as damaged, so nothing of the photo would be "
                        "kept. White marks damage and black what to keep: is the mask inverted?")
    mask = np.where(damaged, np.uint8(DAMAGED), np.uint8(0))
    size = (image.width, image.height)
    if size == (width, height):
        if (share := float(damaged.mean())) >= INVERTED_SHARE:
            raise MaskError(f"damage mask {path.name} marks {share:.0%} of the photo as damaged, which leaves too "
                            "little of it to fill that from: white marks damage and black what to keep. It looks "
                            "inverted: invert it and run again.")
        return mask, "photo"
    if crop_size is not None and size == (crop_size, crop_size):
        return mask, "crop"
    fits = f"{width}×{height} (the photo)" + (f" or {crop_size}×{crop_size} (an aligned face crop)" if crop_size else "")
    hint = " It looks turned a quarter: check its orientation." if size == (height, width) else ""
    raise MaskError(f"damage mask {path.name} is {size[0]}×{size[1]}; it must be {fits}.{hint}")


def _damaged(image) -> np.ndarray:
    """The pixels a mask file read as a photo marks as damaged: its brightest channel and its
    opacity :data:`MASK_THRESHOLD` or more."""
    damaged = image.rgb.max(axis=2) >= MASK_THRESHOLD
    if image.alpha is not None:
        damaged &= image.alpha >= MASK_THRESHOLD
    return damaged


def mask_file_marks(path: str | Path) -> np.ndarray | None:
    """The pixels the mask file ``path`` marks as damaged, as :func:`read_mask` reads them (HxW
    bool; None where it cannot be read)."""
    try:
        return _damaged(read_photo(Path(path)))
    except ImageError:
        return None


def marks_damage(path: str | Path) -> bool:
    """Whether the mask file ``path`` marks any pixel as damaged (False where it cannot be read)."""
    marked = mask_file_marks(path)
    return marked is not None and bool(marked.any())


#: A mask that marks more of a photo than this as damaged is more likely inverted than right …
MOSTLY_DAMAGED = 0.5
#: … and one of the photo's size that marks this much is refused: what a fill makes of the rest is
#: no restoration (QA: a 99 % mask wrote a flat grey photo with square patches of faces).
INVERTED_SHARE = 0.95


def mask_warning(mask: np.ndarray, name: str, *, crop: bool = False) -> str | None:
    """What to tell the user of a mask that marks most of the photo (``crop``: of the face crop it
    was given in) as damaged, or none of it (all black, or painted in black on a transparent layer:
    QA, restored without a word as if no mask were given); None otherwise."""
    share = float((np.asarray(mask) > 0).mean())
    if share == 0:
        return (f"damage mask {name} marks no pixel as damaged (it is black or dark grey throughout, or its light "
                "parts are transparent): nothing is filled. White, or any light colour, marks damage.")
    if share <= MOSTLY_DAMAGED:
        return None
    return (f"damage mask {name} marks {share:.0%} of the {'face crop' if crop else 'photo'} as damaged: white "
            "marks damage and black what to keep; if the mask is inverted, invert it and run again.")


def mask_summary(mask: np.ndarray) -> dict[str, object]:
    """What provenance records of a mask: damaged ``pixels``, their ``area`` (fraction of the
    photo) and a ``sha256`` of the mask's size and damaged pixels."""
    damaged = np.asarray(mask) > 0
    digest = hashlib.sha256(f"{damaged.shape[1]}x{damaged.shape[0]}:".encode())
    digest.update(np.packbits(damaged).tobytes())
    pixels = int(damaged.sum())
    return {"pixels": pixels, "area": round(pixels / max(1, damaged.size), 6), "sha256": digest.hexdigest()}


def mask_to_crop(mask: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """The photo's damage mask seen in an aligned ``size``² crop (photo→crop 2x3 ``affine``)."""
    return _warp_mask(mask, affine, (size, size))


def mask_to_photo(crop_mask: np.ndarray, affine: np.ndarray, width: int, height: int) -> np.ndarray:
    """An aligned crop's damage mask carried back onto the ``width``×``height`` photo."""
    return _warp_mask(crop_mask, cv2.invertAffineTransform(np.asarray(affine, dtype=np.float64)), (width, height))


def _warp_mask(mask: np.ndarray, affine: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``mask`` warped by the 2x3 ``affine`` onto a ``size`` (width, height) grid, conservatively.

    A target pixel that touches a damaged source pixel is damaged. When the warp shrinks, the mask
    is first widened so that thin scratches are not lost between the target's samples. Outside the
    source nothing is damaged.
    """
    affine = np.asarray(affine, dtype=np.float64)
    scale = math.sqrt(abs(np.linalg.det(affine[:, :2])))
    source = (np.asarray(mask) > 0).astype(np.uint8)
    if scale < 1.0:
        reach = int(math.ceil(1.0 / scale))
        source = cv2.dilate(source, np.ones((reach, reach), np.uint8))
    warped = cv2.warpAffine(source.astype(np.float32), affine, size, flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return np.where(warped > 0.0, np.uint8(DAMAGED), np.uint8(0))


def fill_radius(mask: np.ndarray) -> int:
    """Neighbourhood for :func:`fill_damage`: about the half-width of the widest stroke."""
    damaged = (np.asarray(mask) > 0).astype(np.uint8)
    if not damaged.any():
        return MIN_FILL_RADIUS
    depth = cv2.distanceTransform(damaged, cv2.DIST_L2, 3)
    return max(MIN_FILL_RADIUS, int(math.ceil(float(depth.max()))))


def _inpaint(region: np.ndarray, mask: np.ndarray, radius: int, flag: int) -> np.ndarray:
    """``cv2.inpaint`` of ``region``; a hole wider than :data:`MAX_FILL_RADIUS` is filled at the
    scale where its radius is that, then enlarged (as smooth as the full radius, at a fraction of the cost)."""
    if radius <= MAX_FILL_RADIUS:
        return cv2.inpaint(region, mask, radius, flag)
    height, width = mask.shape
    scale = MAX_FILL_RADIUS / radius
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    small_mask = np.where(cv2.resize(mask, size, interpolation=cv2.INTER_AREA) > 0, np.uint8(255), np.uint8(0))
    small = np.full_like(small, 128) if small_mask.all() else cv2.inpaint(small, small_mask, MAX_FILL_RADIUS, flag)
    coarse = region.copy()
    damaged = mask > 0
    coarse[damaged] = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)[damaged]
    # The enlarged fill is blurrier than the photo around it: the hole's rim is filled again at full
    # size, from the photo outside and the enlarged fill inside, so no seam shows.
    depth = cv2.distanceTransform(damaged.astype(np.uint8), cv2.DIST_L2, 3)
    rim = np.where(damaged & (depth <= MAX_FILL_RADIUS), np.uint8(255), np.uint8(0))
    return cv2.inpaint(coarse, rim, MAX_FILL_RADIUS, flag)


def _fill_box(damaged: tuple[int, int, int, int], radius: int, height: int, width: int) -> tuple[int, int, int, int]:
    """The rows and columns (y0, y1, x0, x1) :func:`fill_damage` works on: the damaged pixels'
    bounding box (``damaged``: left, top, width, height, as ``cv2.boundingRect`` gives it) and the
    neighbourhood it fills them from, within the photo."""
    left, top, box_width, box_height = damaged
    margin = 2 * radius + 2
    return (max(0, top - margin), min(height, top + box_height + margin),
            max(0, left - margin), min(width, left + box_width + margin))


#: The memory :func:`fill_damage` (and the grain a result's fill then gets) takes above the photo's
#: own, in bytes: per pixel of the photo (its copy, the mask's distance map and its widened copy, and
#: what the heap keeps of them), of the box it works on (the box's copies and cv2.inpaint's maps) and
#: of the damage (a wide hole's coarse fill enlarged, its rim's distances). Fitted to peak RSS on a
#: 24 MP photo: of the fill alone (twelve scratches in a 5.6 MP box 254 MB, across the whole photo
#: 342 MB; an 800 px hole, its box 5.4 MP, 262 MB; a 2500×3500 torn corner 865 MB) and of
#: ``faceapp-cli restore --mask`` on a portrait of four faces (the scratches 1.65 GB, the corner
#: 1.98 GB, without a mask 1.23 GB: the estimate 1.02 and 1.16 of them).
_FILL_PER_PHOTO_PIXEL, _FILL_PER_BOX_PIXEL, _FILL_PER_DAMAGED_PIXEL = 16, 6, 70


def fill_peak_bytes(mask: np.ndarray) -> int:
    """About the most memory filling ``mask``'s damage takes above the photo it fills (0: none)."""
    damaged = np.asarray(mask) > 0
    count = int(cv2.countNonZero(damaged.view(np.uint8)))
    if count == 0:
        return 0
    height, width = damaged.shape[:2]
    box = cv2.boundingRect(damaged.view(np.uint8))
    left, top, box_width, box_height = box
    # the widest stroke measured within the damage's box, with a row and column of the photo round it
    # (beyond the box nothing is damaged: the same distances as over the whole mask, at its cost)
    around = damaged[max(0, top - 1) : top + box_height + 1, max(0, left - 1) : left + box_width + 1]
    y0, y1, x0, x1 = _fill_box(box, fill_radius(around), height, width)
    return (_FILL_PER_PHOTO_PIXEL * height * width + _FILL_PER_BOX_PIXEL * (y1 - y0) * (x1 - x0)
            + _FILL_PER_DAMAGED_PIXEL * count)


def fill_damage(rgb: np.ndarray, mask: np.ndarray, *, method: FillMethod = "telea", radius: int | None = None) -> np.ndarray:
    """A copy of ``rgb`` (HxWx3 uint8) whose damaged pixels are filled from their surroundings.

    OpenCV's ``cv2.inpaint``: "telea" (Telea 2004, fast marching) or "ns" (Navier–Stokes,
    Bertalmio et al. 2001). Only the mask's bounding box (with a margin) is processed, so a small
    scratch on a large photo costs little. Undamaged pixels are returned unchanged.
    """
    if method not in _FILL_FLAGS:
        raise ValueError(f"fill method must be 'telea' or 'ns', got {method!r}")
    height, width = rgb.shape[:2]
    mask = check_mask(mask, width, height)
    out = np.array(rgb, dtype=np.uint8, copy=True)
    box = cv2.boundingRect(mask)  # (of the damaged pixels: no index arrays of a large photo's)
    if box[2] == 0:
        return out
    radius = radius or fill_radius(mask)
    y0, y1, x0, x1 = _fill_box(box, radius, height, width)
    region = np.ascontiguousarray(out[y0:y1, x0:x1])
    region_mask = np.ascontiguousarray(mask[y0:y1, x0:x1])
    if region_mask.all():  # nothing to fill from: a neutral grey rather than OpenCV's black
        out[y0:y1, x0:x1] = 128
        return out
    filled = _inpaint(region, region_mask, radius, _FILL_FLAGS[method])
    damaged = region_mask > 0
    out[y0:y1, x0:x1][damaged] = filled[damaged]
    return out


#: A feature counts as covered when the damage hides this share of it. On 256-px crops of real faces
#: (eye distance d ≈ 63 px) the compact model's prior brought the eyes back under a stroke 0.06·d
#: wide across them and drew them smeared or closed under one 0.19·d wide, which hides half of an
#: eye's disc (0.06·d: a fifth; 0.25·d: two thirds).
COVERED_SHARE = 0.5
#: The features' extent, in eye distances: a disc round each eye, a band along the mouth.
_EYE_RADIUS = 0.25
_MOUTH_HALF_HEIGHT = 0.15
_NOSE_RADIUS = 0.2
#: The face itself: an oval round the middle of the eyes and mouth, this many eye distances across
#: and high (brows to chin, cheek to cheek).
_FACE_HALF_WIDTH, _FACE_HALF_HEIGHT = 1.0, 1.25


#: The most pixels a side :func:`covered_features` looks at: a larger mask is sampled on a grid (a
#: 40 MP photo's large face took 0.4 s at each stroke's end, the window held: UI-stall QA).
_COVERED_GRID = 400


def covered_features(mask: np.ndarray, landmarks: np.ndarray) -> list[str]:
    """Which of a face's eyes, nose and mouth its damage ``mask`` (HxW, > 0 damaged) mostly hides
    (:data:`COVERED_SHARE`): "both eyes", "an eye", "the nose", "the mouth", in that order, or "most of the
    face" alone when it hides most of the face (QA: a face under the mask came back a flat block);
    ``landmarks`` are the face's five points (left eye, right eye, nose, mouth corners) in the mask's pixels."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    distance = float(np.hypot(*(points[1] - points[0])))
    if distance < 1.0 or not mask.any():
        return []
    height, width = mask.shape[:2]
    step = max(1, math.ceil(max(height, width) / _COVERED_GRID))  # (shares of areas: a grid of them will do)
    ys, xs = np.mgrid[0:height:step, 0:width:step]
    damaged = mask[::step, ::step] > 0

    def share(region: np.ndarray) -> float:
        return float(damaged[region].mean()) if region.any() else 0.0

    centre = (points[:2].mean(axis=0) + points[3:].mean(axis=0)) / 2
    face = (((xs - centre[0]) / (_FACE_HALF_WIDTH * distance)) ** 2
            + ((ys - centre[1]) / (_FACE_HALF_HEIGHT * distance)) ** 2) <= 1.0
    if share(face) >= COVERED_SHARE:
        return ["most of the face"]
    eyes = sum(share(np.hypot(xs - x, ys - y) <= _EYE_RADIUS * distance) >= COVERED_SHARE for x, y in points[:2])
    left, right = points[3], points[4]
    along = right - left
    length = float(np.hypot(*along))
    t = np.clip(((xs - left[0]) * along[0] + (ys - left[1]) * along[1]) / max(length, 1e-6) ** 2, 0.0, 1.0)
    mouth = np.hypot(xs - (left[0] + t * along[0]), ys - (left[1] + t * along[1])) <= _MOUTH_HALF_HEIGHT * distance
    nose = np.hypot(xs - points[2][0], ys - points[2][1]) <= _NOSE_RADIUS * distance
    found = ["both eyes"] if eyes == 2 else ["an eye"] if eyes == 1 else []
    found += ["the nose"] if share(nose) >= COVERED_SHARE else []  # (QA: a small face's nose went unsaid)
    return found + (["the mouth"] if share(mouth) >= COVERED_SHARE else [])
