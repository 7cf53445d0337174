"""Checks on photo and face geometry, made before OpenCV sees them.

OpenCV's reflected border (``BORDER_REFLECT_101``, used to cut face crops) never returns on a
source 1 pixel wide or high, and takes time in proportion to how far outside the source a pixel is
sampled: a face box far larger than the photo (``--face-box=-1e9,-1e9,1e9,1e9``) spins for hours at
100 % CPU, deaf to Ctrl-C. So a photo must be at least :data:`MIN_PHOTO_SIDE` pixels a side, and a
face finite, at least :data:`MIN_FACE_SIDE` pixels a side, overlapping the photo, and at most
:data:`MAX_FACE_TO_PHOTO` times the photo's longer side; then every sampled pixel lies within a few
photo sizes of the photo. The messages are user-facing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from faceapp.core.errors import FaceGeometryError

MIN_PHOTO_SIDE = 8
MIN_FACE_SIDE = 4.0
MAX_FACE_TO_PHOTO = 4.0
#: The aligned crop spans about 2.5 face boxes: the largest crop footprint a valid face can have.
MAX_CROP_TO_PHOTO = 3 * MAX_FACE_TO_PHOTO


def check_box(box: Sequence[float]) -> None:
    """Raise ValueError unless ``box`` (x0, y0, x1, y1) is finite, ordered and a usable size."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(f"a face box needs finite numbers, got {tuple(box)}")
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"a face box needs x0 < x1 and y0 < y1, got {tuple(box)}")
    if min(x1 - x0, y1 - y0) < MIN_FACE_SIDE:
        raise ValueError(
            f"the face box {tuple(box)} is {x1 - x0:g}×{y1 - y0:g} pixels: a face needs at least "
            f"{MIN_FACE_SIDE:g} pixels a side"
        )


def check_photo_size(width: int, height: int, *, name: str = "the photo") -> None:
    """Raise :class:`FaceGeometryError` for a photo too small to hold a face."""
    if min(width, height) < MIN_PHOTO_SIDE:
        raise FaceGeometryError(
            f"{name} is {width}×{height} pixels: too small to hold a face "
            f"(at least {MIN_PHOTO_SIDE} pixels a side)."
        )


#: How far from square an aligned face crop may be (width over height, or its inverse).
MAX_ALIGNED_ASPECT = 1.1


def check_aligned_crop(width: int, height: int, *, name: str = "the photo") -> None:
    """Raise :class:`FaceGeometryError` for an "aligned face crop" that is not square: it is most likely a
    whole photo, which restored as one face would come out smeared."""
    if max(width, height) > MAX_ALIGNED_ASPECT * min(width, height):
        raise FaceGeometryError(
            f"{name} is {width}×{height} pixels: not an aligned face crop, which is square with one face filling it "
            "(e.g. 512×512). Restore it without --aligned to find and restore its faces."
        )


#: In an aligned face crop the eyes lie this share of its side apart (the FFHQ template: 0.246) …
ALIGNED_EYE_SHARE = 0.246
#: … and a crop whose largest sure face has its eyes less than this part of that apart is no crop
#: of that face: a whole photo, square, given as one (new-user QA: a 225 px half-length portrait,
#: eyes 25 px apart, was restored whole and came back smeared).
MIN_ALIGNED_EYE_RATIO = 0.5


def aligned_crop_problem(eye_distances: Sequence[float], width: int, height: int,
                         *, name: str = "the photo") -> str | None:
    """Why a square image given as an aligned face crop is none (None when it may be one):
    ``eye_distances``, in pixels, of the faces the detector is sure of in it. With none found, its
    shape alone says (a crop too degraded for the detector is still restored)."""
    if not eye_distances:
        return None
    widest = max(eye_distances)
    if widest >= MIN_ALIGNED_EYE_RATIO * ALIGNED_EYE_SHARE * min(width, height):
        return None
    return (f"{name} is {width}×{height} pixels and its largest face has its eyes {widest:.0f} px apart: not an "
            f"aligned face crop, whose face fills it (eyes about {ALIGNED_EYE_SHARE * min(width, height):.0f} px "
            "apart at that size). Restore it without --aligned to find and restore its faces.")


def check_face_in_photo(box: Sequence[float], landmarks: np.ndarray | None, width: int, height: int,
                        *, name: str = "the photo") -> None:
    """Raise :class:`FaceGeometryError` unless the face (box and landmarks) fits a ``width``×``height`` photo."""
    try:
        check_box(box)
    except ValueError as exc:
        raise FaceGeometryError(f"{name}: {exc}.") from None
    if landmarks is not None and not np.isfinite(np.asarray(landmarks, dtype=np.float64)).all():
        raise FaceGeometryError(f"{name}: the face's landmarks are not finite numbers.")
    x0, y0, x1, y1 = (float(v) for v in box)
    limit = MAX_FACE_TO_PHOTO * max(width, height)
    if max(x1 - x0, y1 - y0) > limit:
        raise FaceGeometryError(
            f"{name}: the face box {_rounded(box)} is far larger than the {width}×{height} photo "
            f"(at most {MAX_FACE_TO_PHOTO:g} times its longer side, {limit:g} pixels)."
        )
    if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
        raise FaceGeometryError(f"{name}: the face box {_rounded(box)} lies outside the {width}×{height} photo.")


def _rounded(box: Sequence[float]) -> str:
    return "(" + ", ".join(f"{float(v):.6g}" for v in box) + ")"
