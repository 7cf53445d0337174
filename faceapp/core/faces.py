"""Finding faces in a photo and cutting out aligned face crops.

Detection is facexlib's RetinaFace (``retinaface_resnet50`` or ``retinaface_mobile0.25``), whose
weights are read from a folder (:func:`faceapp.paths.detector_dir` by default) and never fetched
behind the user's back. The default mobile0.25 detector (1.7 MB, MIT) is bundled in
``models/detector/`` as safetensors, so a fresh install finds faces offline; a file of the same
detector in the user's folder takes precedence. A missing file raises
:class:`DetectorUnavailableError` naming the folder and the file, and
:func:`download_detector_weights` fetches it only when asked. A large photo is searched in
passes, a coarse one over the whole photo for large faces and finer ones over overlapping tiles
for small faces (:meth:`FaceDetector.detect`). Faces the detector misses can be given as a box
(:func:`face_from_box`) or five landmarks (:func:`face_from_landmarks`).

Alignment maps the five landmarks (left eye, right eye, nose, mouth corners) onto the model's face
template with a similarity transform (rotation, uniform scale, translation).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from faceapp import paths
from faceapp.core.errors import Cancelled, DetectorUnavailableError, FaceappError, FaceGeometryError, ImageError
from faceapp.core.geometry import MAX_CROP_TO_PHOTO, check_box, check_photo_size
from faceapp.core.preferences import FaceSelection
from faceapp.core.progress import drive

log = logging.getLogger(__name__)

#: Weight file and download address of each detector facexlib knows.
DETECTOR_FILES = {
    "retinaface_resnet50": (
        "detection_Resnet50_Final.pth",
        "https://github.com/xinntao/facexlib/releases/download/v0.1.0/detection_Resnet50_Final.pth",
    ),
    "retinaface_mobile0.25": (
        "detection_mobilenet0.25_Final.pth",
        "https://github.com/xinntao/facexlib/releases/download/v0.1.0/detection_mobilenet0.25_Final.pth",
    ),
}
DEFAULT_DETECTOR = "retinaface_mobile0.25"
#: The detector shipped with the app (``models/detector/<name>.safetensors``, converted by
#: packaging/convert_detector.py from the MIT-licensed Pytorch_Retinaface weights).
BUNDLED_DETECTOR = "retinaface_mobile0.25"
#: Its file's SHA-256 (packaging/convert_detector.py prints it), checked as it loads: a damaged copy
#: found no face in any photo, unsaid (fault QA: 800 KB overwritten in its middle).
BUNDLED_DETECTOR_SHA256 = "9cf17403cc5e87ded0897368b22cd49d304ca6ad8f282fb074a0db9e45f71d8e"


def bundled_detector_path(model: str) -> Path:
    """Where the app's bundled copy of detector ``model`` lives (it may not exist)."""
    return paths.bundled_models_dir() / "detector" / f"{model}.safetensors"

#: Detection runs in passes (see :meth:`FaceDetector.detect`). The coarse pass sees the whole photo
#: with its short side at this (the official pipeline's 640: small photos are enlarged to it) …
_DETECT_SHORT_SIDE = 640
#: … an enlarged copy's long side kept at most this (or the photo's own, if that is longer).
_DETECT_MAX_SIDE = 1600
#: Finer passes at the photo's own scale, 1/3 of it, 1/9, … while 1.2 times the coarse scale or more.
_PASS_RATIO = 3.0
_PASS_MIN_STEP = 1.2
#: Their tiles: at most this many px a side, overlapping by this many; a box within _TILE_EDGE px
#: of an inner edge of its tile is left to the neighbouring tile, which holds that face whole.
_TILE_SIDE = 2048
_TILE_OVERLAP = 320
_TILE_EDGE = 32
#: The coarse pass runs on tiles too once its copy is longer than this (a panorama: 20000×760 took
#: 0.92 GB in one piece); they overlap by its short side and both edge margins, so a face as large
#: as the copy's short side lies whole in one of them.
_COARSE_TILE_FROM = 4096
#: Faces under this (box's long side, px on the photo) are mostly missed at the photo's own scale
#: (a 1600×1000 group photo of faces of 14–28 px: 18–65 % found); once a pass has found one, the
#: photo is looked at again at twice its scale: all of it if that copy is at most
#: _ENLARGED_MAX_PIXELS, else the copy's tiles that hold a small face found.
_SMALL_FACE = 40.0
_ENLARGED_SCALE = 2
_ENLARGED_MAX_PIXELS = 25_000_000
#: A photo in which no face turns up is looked at enlarged whole only while that copy is at most
#: this (a photo up to 1 MP): a 6 MP one without faces took five times as long to open (40 s).
_NONE_FOUND_MAX_PIXELS = 4_000_000
#: The largest face (box's long side, px at the pass's scale) a pass is trusted with: a finer
#: pass over a whole photo this (larger faces come out as overlapping parts) …
_WHOLE_MAX_FACE = 400.0
#: … a tiled one the overlap less both edge margins (256), so each such face is whole in a tile.
_TILE_MAX_FACE = float(_TILE_OVERLAP - 2 * _TILE_EDGE)
#: A coarser pass leaves to the next finer one the faces that pass sees at up to 75 % of its limit.
_PASS_HANDOVER = 0.75
#: Two detections are one face when their IoU exceeds this (the official NMS threshold) …
_SAME_FACE_IOU = 0.4
#: … or the smaller box lies this much inside the larger (a part of a face found on its own).
_PART_OF_FACE = 0.65
#: A face's box comes from the finest pass among the copies this near (IoU) its largest detection.
_NEAR_COPY_IOU = 0.5
#: A face that only the finer passes find must score this much: they look at many more pixels, and
#: patterns (a blouse, a ceiling lamp in a photo enlarged to 3500–5000 px) scored 0.84–0.92 there;
#: the real faces of scanned group photos scored 0.99 and more.
_FINER_ONLY_SCORE = 0.95
#: A face scored under this is one the detector is unsure of: in a photo with faces it is sure of,
#: it is found but left switched off (a hand at a group photo's edge scored 0.966 and was
#: restored into a face-like smear; the real faces of the test photos scored 0.990 or more). The
#: official pipeline (facexlib's FaceRestoreHelper) drops every face under it; here one stays
#: there to switch on, and a photo whose only faces are unsure restores them (12 % of heavily
#: degraded test faces scored between 0.8 and 0.97).
UNSURE_FACE_SCORE = 0.97
#: … and this for a face cut by the photo's edge (its box runs past it): part of it is missing, so
#: the detector is less sure of it (QA: a half face at a scan's edge scored 0.885, one cut by its
#: foot 0.967, and both were left off with the hand), and a hand or a pattern cut so is rare.
UNSURE_CUT_FACE_SCORE = 0.85
_MIN_EYE_DISTANCE = 5.0


@dataclass(frozen=True)
class Face:
    """One face in a photo, in photo pixel coordinates.

    box: (x0, y0, x1, y1). landmarks: (5, 2) float32 — left eye, right eye, nose, left and right
    mouth corner. score: detector confidence (1.0 for faces given by the user). index: position
    in the detector's list (in reading order: :func:`reading_order`). enabled: whether it is to be restored.
    cut: the detector's box runs past the photo's edge (part of the face is outside the photo).
    diffuse_anyway: the user asked the prior to work on this face at the run's fidelity even if it is
    sharp already (sharp-face sparing off for this face alone; :func:`faceapp.core.photo_restore.face_sampler`).
    """

    index: int
    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float
    enabled: bool = True
    diffuse_anyway: bool = False
    cut: bool = False

    @property
    def size(self) -> float:
        """The longer side of the box, in pixels."""
        x0, y0, x1, y1 = self.box
        return float(max(x1 - x0, y1 - y0))

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0

    @property
    def unsure_below(self) -> float:
        """The score under which the detector is unsure this is a face: :data:`UNSURE_FACE_SCORE`,
        or :data:`UNSURE_CUT_FACE_SCORE` for a face cut by the photo's edge."""
        return UNSURE_CUT_FACE_SCORE if self.cut else UNSURE_FACE_SCORE

    @property
    def unsure(self) -> bool:
        """Whether the detector is unsure this is a face (scored under :attr:`unsure_below`)."""
        return self.score < self.unsure_below


def reading_order(faces: Sequence[Face]) -> list[Face]:
    """``faces`` as a reader numbers the people of a group photo: row by row from the top, each row
    left to right. A face joins the row above it when its centre lies within half a face's height
    of that row's (mean) centre line, so heads at slightly different heights stay one row, and the
    back row of a group is numbered before the front row (left to right alone interleaved them)."""
    rows: list[list[Face]] = []
    for face in sorted(faces, key=lambda f: f.center[1]):
        if rows:
            row = rows[-1]
            line = sum(f.center[1] for f in row) / len(row)
            height = max(_box_height(face), sum(_box_height(f) for f in row) / len(row))
            if face.center[1] - line <= height / 2:
                row.append(face)
                continue
        rows.append([face])
    return [face for row in rows for face in sorted(row, key=lambda f: f.center[0])]


def _box_height(face: Face) -> float:
    return face.box[3] - face.box[1]


def same_place(face: Face, other: Face) -> bool:
    """Whether two faces found are one: either's centre lies in the other's box."""
    def inside(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
        return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]

    return inside(face.center, other.box) or inside(other.center, face.box)


def righting_turn(faces: Sequence[Face]) -> int:
    """How many quarter turns (``np.rot90``'s ``k``: anticlockwise as shown) would set upright the
    faces of ``faces`` that lie a quarter or a half turn over (a photo scanned on its side, or
    upside down; the turn most of those lying share); 0 when none lies so. A detector finds fewer
    faces on their side (geometry QA: a group photo turned a quarter lost one face of four, turned
    half, three; review: one standing face beside four lying, of which one was found, must not hide
    them), so the faces are looked for once more with the photo so turned
    (:func:`faceapp.core.application.iter_detect_faces`): one detection more where someone lies
    down."""
    turns = []
    for face in faces:
        points = face.landmarks.astype(np.float64)
        across = points[1] - points[0]  # left eye to right eye: along +x in an upright face
        down = (points[3] + points[4] - points[0] - points[1]) / 2.0  # eyes to mouth: along +y
        if np.hypot(*down) < 0.5 * np.hypot(*across):  # (landmarks folded up: an upside-down face's)
            continue
        both = across / max(np.hypot(*across), 1e-6) + np.array([down[1], -down[0]]) / np.hypot(*down)
        angle = math.degrees(math.atan2(both[1], both[0]))  # 0: upright
        quarter = round(angle / 90.0)
        if abs(angle - 90.0 * quarter) <= _TURN_TOLERANCE_DEG:
            turns.append(quarter % 4)
    lying = [turn for turn in turns if turn]
    return max(set(lying), key=lying.count) if lying else 0


#: A face within this many degrees of a quarter (or half) turn counts as lying so.
_TURN_TOLERANCE_DEG = 35.0


def turned_back(face: Face, turn: int, width: int, height: int) -> Face:
    """``face`` as found in ``np.rot90(photo, turn)``, in the ``width`` × ``height`` photo's own
    coordinates (its landmarks keep their meaning: the left eye is still the left eye)."""
    def back(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if turn % 4 == 1:
            return width - 1 - y, x
        if turn % 4 == 2:
            return width - 1 - x, height - 1 - y
        if turn % 4 == 3:
            return y, height - 1 - x
        return x, y

    x0, y0, x1, y1 = face.box  # (edges, not pixel centres: a box spans its pixels' width, review)
    box_x, box_y = back(np.array([x0 - 0.5, x1 - 0.5], np.float64), np.array([y0 - 0.5, y1 - 0.5], np.float64))
    box_x, box_y = box_x + 0.5, box_y + 0.5
    lx, ly = back(face.landmarks[:, 0].astype(np.float64), face.landmarks[:, 1].astype(np.float64))
    landmarks = np.stack([lx, ly], axis=1).astype(np.float32)
    box = (float(box_x.min()), float(box_y.min()), float(box_x.max()), float(box_y.max()))
    return replace(face, box=box, landmarks=landmarks)


def face_from_landmarks(points: Sequence[Sequence[float]] | np.ndarray, *, index: int = 0) -> Face:
    """A face given by its five landmarks; the box is derived from them."""
    landmarks = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    if landmarks.shape != (5, 2) or not np.isfinite(landmarks).all():
        raise ValueError("five landmarks are needed: left eye, right eye, nose, left and right mouth corner (x, y)")
    eye_distance = float(np.linalg.norm(landmarks[1] - landmarks[0]))
    if eye_distance < 1.0:
        raise ValueError("the two eye landmarks must be apart")
    # The FFHQ template's crop spans about 4 eye distances; the box is the inner face (≈ 2).
    cx, cy = landmarks.mean(axis=0)
    half = eye_distance
    box = (float(cx - half), float(cy - 1.2 * half), float(cx + half), float(cy + 1.1 * half))
    return Face(index=index, box=box, landmarks=landmarks, score=1.0)


#: Where the detector puts a face's five landmarks in its box, as shares of the box's width and
#: height (left eye, right eye, nose, left and right mouth corner): the medians of RetinaFace
#: mobile0.25's sure faces (score ≥ 0.97) in 396 aaf256 faces and the 29 of the test photos (the two
#: agree within 0.025), made symmetric. A box drawn like the window's outlines of the faces found
#: is read as they are (the inner-face template read before put the landmarks 1.3–1.5× too far apart:
#: such a face was cut out that much too small).
_LANDMARKS_IN_BOX = np.array([[0.274, 0.394], [0.726, 0.394], [0.5, 0.578], [0.306, 0.741], [0.694, 0.741]],
                             dtype=np.float32)

#: :func:`face_in_box` looks for the face in the box with this share of the box's side around it,
#: the box brought to this many pixels a side (the detector's surest sizes).
_BOX_MARGIN, _BOX_SIDE_PX = 0.5, 160


def face_from_box(box: Sequence[float], *, index: int = 0) -> Face:
    """A face given by an upright box (x0, y0, x1, y1) drawn as the detector draws one (brow to
    chin, cheek to cheek: :data:`_LANDMARKS_IN_BOX`); its landmarks are placed where the detector
    would put them. :func:`face_in_box` finds them in the photo instead, where it can.

    Raises ValueError for a box that is not finite, not ordered, or under 4 pixels a side.
    """
    check_box(box)
    x0, y0, x1, y1 = (float(v) for v in box)
    landmarks = _LANDMARKS_IN_BOX * np.array([x1 - x0, y1 - y0], dtype=np.float32) + np.array([x0, y0], dtype=np.float32)
    return Face(index=index, box=(x0, y0, x1, y1), landmarks=landmarks.astype(np.float32), score=1.0)


#: A box drawn with no face found in it is restored as a face only within this ratio of its sides:
#: a face's box is about as tall as wide, and a strip drawn by a slip of the mouse (first-hour QA: a
#: 180×20 drag over a collar) was restored as a squeezed face, a grey smear above it.
DRAWN_BOX_MOST_RATIO = 3.0


def face_from_drawn_box(box: Sequence[float], *, index: int = 0,
                        photo_size: tuple[int, int] | None = None) -> Face:
    """:func:`face_from_box` for a box a user drew in which no face was found; raises
    :class:`FaceGeometryError` for one whose sides differ more than :data:`DRAWN_BOX_MOST_RATIO`
    times, or twice that where the edge of the photo of ``photo_size`` (width, height) it reaches
    may have cut it so (review: a square drawn round a face at the photo's edge, clipped to the
    photo, was refused as too tall). ValueError as :func:`face_from_box` raises."""
    check_box(box)
    x0, y0, x1, y1 = (float(v) for v in box)
    width, height = x1 - x0, y1 - y0
    # a face cut by the top or bottom edge is cut short, by the left or right edge narrow; only that
    # much, and no more than twice the rule, is excused (sceptic QA: any edge excused any strip)
    cut_across = photo_size is not None and (abs(y0) <= 1.0 or abs(y1 - photo_size[1]) <= 1.0)
    cut_along = photo_size is not None and (abs(x0) <= 1.0 or abs(x1 - photo_size[0]) <= 1.0)
    most_wide = DRAWN_BOX_MOST_RATIO * (2 if cut_across else 1)
    most_tall = DRAWN_BOX_MOST_RATIO * (2 if cut_along else 1)
    if width > most_wide * height or height > most_tall * width:
        raise FaceGeometryError(
            f"No face was found in the box of {width:.0f}×{height:.0f} pixels, and it is too "
            f"{'wide' if width > height else 'tall'} to be restored as one: a face's box is about as tall as "
            "wide, brow to chin and cheek to cheek.")
    return face_from_box(box, index=index)


def face_in_box(rgb: np.ndarray, box: Sequence[float], detector: FaceDetector, *, index: int = 0) -> Face:
    """:func:`find_face_in_box`, else (no face found there) :func:`face_from_drawn_box`: the user said
    a face is there, which the detector may not see (a face blurred past its reach)."""
    return located_face_in_box(rgb, box, detector, index=index)[0]


def located_face_in_box(rgb: np.ndarray, box: Sequence[float], detector: FaceDetector, *,
                        index: int = 0) -> tuple[Face, bool]:
    """:func:`face_in_box`'s face, and whether the detector found it (False: the box's own)."""
    found = find_face_in_box(rgb, box, detector, index=index)
    if found is not None:
        return found, True
    height, width = rgb.shape[:2]
    return face_from_drawn_box(box, index=index, photo_size=(width, height)), False


def find_face_in_box(rgb: np.ndarray, box: Sequence[float], detector: FaceDetector, *, index: int = 0) -> Face | None:
    """The face a user marked with ``box`` in ``rgb``: the detector looks for it in the box and a
    margin around it, brought to a size it finds faces at (:meth:`FaceDetector.detect_once`), and
    of the faces whose centre lies in the box the one nearest its middle is taken, landmarks and
    all, so a box drawn loosely (around the whole head, or only eyes to mouth) gives the face as it
    is (geometry QA: a head's box was cut out 1.4× too small and came back as blurred as it went
    in); None where the detector finds none there. The face counts as sure (score 1): the user
    said it is one."""
    check_box(box)
    x0, y0, x1, y1 = (float(v) for v in box)
    height, width = rgb.shape[:2]
    side = max(x1 - x0, y1 - y0)
    margin = _BOX_MARGIN * side
    left, top = max(0, math.floor(x0 - margin)), max(0, math.floor(y0 - margin))
    right, bottom = min(width, math.ceil(x1 + margin)), min(height, math.ceil(y1 + margin))
    if right - left >= 8 and bottom - top >= 8:
        scale = _BOX_SIDE_PX / side
        region = rgb[top:bottom, left:right]
        size = (max(8, round(region.shape[1] * scale)), max(8, round(region.shape[0] * scale)))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        inside = []
        look = getattr(detector, "detect_once", None) or detector.detect
        for face in look(np.ascontiguousarray(region)):
            points = face.landmarks / np.float32(scale) + np.array([left, top], dtype=np.float32)
            fx0, fy0, fx1, fy1 = (v / scale for v in face.box)
            fx0, fy0, fx1, fy1 = fx0 + left, fy0 + top, fx1 + left, fy1 + top
            cut = fx0 < -1.0 or fy0 < -1.0 or fx1 > width + 1.0 or fy1 > height + 1.0  # (by the photo's edge)
            found = Face(index=index, box=(fx0, fy0, fx1, fy1), landmarks=points.astype(np.float32), score=1.0,
                         cut=cut)
            cx, cy = found.center
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                inside.append((math.hypot(cx - (x0 + x1) / 2, cy - (y0 + y1) / 2), found))
        if inside:  # the face the box is drawn around: the one nearest its middle (a neighbour's
            return min(inside, key=lambda pair: pair[0])[1]  # may score higher: review)
    return None


def select_faces(
    faces: Sequence[Face], selection: FaceSelection, *, image_size: tuple[int, int], min_size: float = 0.0
) -> list[Face]:
    """Keep the faces to restore: "all", the "largest" or the one nearest the "center".

    image_size is (width, height). Faces smaller than ``min_size`` pixels are dropped first.
    """
    kept = [f for f in faces if f.size >= min_size]
    if selection == "all" or not kept:
        return kept
    if selection == "largest":
        return [max(kept, key=lambda f: f.size)]
    if selection == "center":
        cx, cy = image_size[0] / 2.0, image_size[1] / 2.0
        return [min(kept, key=lambda f: math.hypot(f.center[0] - cx, f.center[1] - cy))]
    raise ValueError(f"face selection must be 'all', 'largest' or 'center', got {selection!r}")


# --- alignment -----------------------------------------------------------------------------
def alignment_transform(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    """The 2x3 similarity transform taking photo coordinates to crop coordinates (float64)."""
    src = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    dst = np.asarray(template, dtype=np.float64).reshape(5, 2)
    matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if matrix is None or not np.isfinite(matrix).all():
        matrix = _least_squares_similarity(src, dst)
    return matrix


def _least_squares_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Umeyama-style similarity without reflection (fallback for degenerate LMEDS fits)."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    s, d = src - src_mean, dst - dst_mean
    a = float((s * d).sum())
    b = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum())
    norm = float((s**2).sum()) or 1.0
    ca, sa = a / norm, b / norm
    rot = np.array([[ca, -sa], [sa, ca]])
    return np.hstack([rot, (dst_mean - rot @ src_mean)[:, None]])


def align_face(rgb: np.ndarray, landmarks: np.ndarray, *, template: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut the aligned ``size``² crop of a face; returns (crop uint8 RGB, 2x3 photo→crop affine).

    Pixels outside the photo are filled by reflection. When the face is larger in the photo than
    in the crop, the surrounding region is first reduced with area averaging (no aliasing).
    Raises :class:`FaceGeometryError` for a photo under 8 pixels a side or a crop that reaches far
    beyond the photo (OpenCV's reflection would spin on either; see :mod:`faceapp.core.geometry`).
    """
    height, width = rgb.shape[:2]
    check_photo_size(width, height)
    affine = alignment_transform(landmarks, template)
    scale = math.sqrt(abs(np.linalg.det(affine[:, :2])))
    reach = MAX_CROP_TO_PHOTO * max(width, height)
    if not np.isfinite(affine).all() or scale <= 0 or size / scale > reach or not _centre_within(affine, size, width, height, reach):
        raise FaceGeometryError(
            f"the face reaches far beyond the {width}×{height} photo (far too large or too far outside "
            "it, or its landmarks coincide); check the face box or landmarks."
        )
    source, to_source = rgb, np.eye(3)
    if scale < 0.75:
        source, to_source = _reduced_region(rgb, affine, size, scale)
    matrix = (np.vstack([affine, [0.0, 0.0, 1.0]]) @ np.linalg.inv(to_source))[:2]
    crop = cv2.warpAffine(source, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    return crop, affine


def _centre_within(affine: np.ndarray, size: int, width: int, height: int, reach: float) -> bool:
    """Whether the crop's centre lies within ``reach`` pixels of the photo."""
    cx, cy = cv2.invertAffineTransform(affine) @ np.array([size / 2.0, size / 2.0, 1.0])
    return -reach <= cx <= width + reach and -reach <= cy <= height + reach


def _reduced_region(rgb: np.ndarray, affine: np.ndarray, size: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo region under the crop, shrunk by ``scale`` with INTER_AREA, and its 3x3 transform."""
    inverse = cv2.invertAffineTransform(affine)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64) @ inverse.T
    height, width = rgb.shape[:2]
    x0 = int(np.clip(math.floor(corners[:, 0].min()) - 2, 0, width - 1))
    y0 = int(np.clip(math.floor(corners[:, 1].min()) - 2, 0, height - 1))
    x1 = int(np.clip(math.ceil(corners[:, 0].max()) + 3, x0 + 1, width))
    y1 = int(np.clip(math.ceil(corners[:, 1].max()) + 3, y0 + 1, height))
    region = rgb[y0:y1, x0:x1]
    # At least 2 pixels a side: OpenCV's reflected border never returns on a 1-pixel source.
    new_w, new_h = max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale))
    reduced = cv2.resize(region, (new_w, new_h), interpolation=cv2.INTER_AREA)
    sx, sy = new_w / (x1 - x0), new_h / (y1 - y0)
    # pixel-centre convention: u = (x - x0 + 0.5) * s - 0.5
    to_source = np.array([[sx, 0, (0.5 - x0) * sx - 0.5], [0, sy, (0.5 - y0) * sy - 0.5], [0, 0, 1]], dtype=np.float64)
    return reduced, to_source


# --- detection -----------------------------------------------------------------------------
class FaceDetector:
    """RetinaFace on a device, loaded from a weights folder without any network access."""

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        model: str = DEFAULT_DETECTOR,
        device: str = "cpu",
        conf_threshold: float = 0.8,
    ) -> None:
        if model not in DETECTOR_FILES:
            raise ValueError(f"unknown face detector {model!r} (known: {', '.join(DETECTOR_FILES)})")
        self.model_name = model
        self.model_dir = Path(model_dir) if model_dir is not None else paths.detector_dir()
        self.device = device
        self.conf_threshold = conf_threshold
        #: the file its weights came from, and how they were checked ("checksum matches": the
        #: bundled copy; "loads safely, numbers finite": a file of the user's, which nothing else
        #: vouches for)
        self.weights: Path | None = None
        self.checked = ""
        self._net = self._load()

    def _load(self):
        import torch
        from facexlib.detection.retinaface import RetinaFace

        from faceapp.core.file_digest import file_sha256
        from faceapp.core.loading import check_torch_archive, read_state_dict

        file_name, url = DETECTOR_FILES[self.model_name]
        weights = self.model_dir / file_name
        bundled = bundled_detector_path(self.model_name)
        if weights.is_file():
            try:
                check_torch_archive(weights)  # (security QA: a 1 MB file unpacked into 3.6 GB before it was refused)
                state = torch.load(weights, map_location="cpu", weights_only=True)
            except OSError as exc:  # (the system's refusal: not the file's fault; review)
                raise DetectorUnavailableError(
                    f"The face detector weights {weights} cannot be read: {exc.strerror or exc}."
                ) from exc
            except Exception as exc:
                log.info("the face detector weights %s cannot be read: %s", weights, exc)  # (torch's words: the log only)
                raise DetectorUnavailableError(  # (QA: torch's paragraph advised loading it unsafely)
                    f"The face detector weights {weights} cannot be read: the file is damaged, or not "
                    f"the detector's weights. Replace it (download: {url})"
                    + (", or remove it to use the bundled detector." if bundled.is_file() else ".")
                ) from exc
        elif bundled.is_file():
            weights = bundled
            try:
                state = read_state_dict(bundled)
                if self.model_name == BUNDLED_DETECTOR and file_sha256(bundled) != BUNDLED_DETECTOR_SHA256:
                    raise FaceappError("its checksum does not match")
            except OSError as exc:  # (the system's refusal while it is checked, not the file's fault: review)
                raise DetectorUnavailableError(
                    f"The bundled face detector {bundled} cannot be read: {exc.strerror or exc}."
                ) from exc
            except FaceappError as exc:
                raise DetectorUnavailableError(
                    f"The bundled face detector {bundled} is damaged ({exc}); reinstall faceapp, or put "
                    f"{file_name} into {self.model_dir} (download: {url})."
                ) from exc
            self.checked = "checksum matches"
        else:
            raise DetectorUnavailableError(missing_weights_message(self.model_name, self.model_dir))
        if any(isinstance(value, torch.Tensor) and value.is_floating_point() and not torch.isfinite(value).all()
               for value in state.values()):  # (a file's other entries, an epoch say, are not weights: review)
            raise DetectorUnavailableError(  # (fault QA: NaN weights found no face, and that was all it said)
                f"The face detector weights {weights} hold invalid numbers (NaN or infinity): the file is "
                f"damaged. Replace it (download: {url})"
                + (", or remove it to use the bundled detector." if weights != bundled and bundled.is_file() else ".")
            )
        self.weights, self.checked = weights, self.checked or "loads safely, numbers finite"
        state = {k[len("module.") :] if k.startswith("module.") else k: v for k, v in state.items()}
        network_name = "resnet50" if self.model_name.endswith("resnet50") else "mobile0.25"
        net = RetinaFace(network_name=network_name, half=False, device=torch.device(self.device))
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise DetectorUnavailableError(
                f"{weights} does not fit the {self.model_name} detector; replace it (download: {url})."
            ) from exc
        return net.to(self.device).eval()

    def detect(self, rgb: np.ndarray, *, min_size: float = 0.0,
               should_cancel: Callable[[], bool] | None = None) -> list[Face]:
        """Faces in an HxWx3 uint8 RGB photo, in reading order (:func:`reading_order`); boxes smaller
        than ``min_size`` px dropped.
        ``should_cancel`` is asked before each piece of work (a pass or a tile: at most about a
        second on 2 CPU cores); when it returns true, :class:`Cancelled` is raised.
        :meth:`iter_detect` does the same and reports its progress.

        RetinaFace mobile0.25 finds a face reliably when its box is about 30 to 400 px at the scale
        it runs at: at ~25 px it misses some, at ~20 most (a 6000×4000 group photo of 40 faces of
        75 px, on one copy 1600 px wide: 14 found); a face of 450 px or more in a large image comes
        out as overlapping parts (a portrait 2400 px wide, at 1600 px: 4 boxes for 2 faces). So
        detection runs in passes, each trusted with a window of face sizes at its own scale:

        * a coarse pass over the whole photo, its short side at 640 px (the official scale; small
          photos enlarged to it, their long side to at most 1600 px, as before): large faces, up to
          one filling the frame (found whole at 540 to 620 px in tight crops). A copy longer than
          4096 px (a panorama over 6.4 times as long as high) is cut into 2048 px tiles overlapping
          by its short side, so a face as high as the photo lies whole in one of them;
        * when that copy is smaller than the photo by more than 1.2 times, finer passes at the
          photo's own scale and at 1/3, 1/9, … of it (while 1.2 times the coarse scale or more), so
          a face of about 30 px or more is found whatever the photo's size. A pass over 2048 px
          runs on tiles of at most 2048 px overlapping by 320 px and trusts faces up to 256 px:
          each lies whole in a tile, 32 px clear of its inner edges, and a box nearer an inner
          edge (a face cut by it) is dropped. An untiled finer pass trusts faces up to 400 px.
          Larger faces are left to the next coarser pass, which sees them 3 times smaller, well
          inside its window; a coarser pass leaves to the next finer one the faces that one sees
          at up to 3/4 of its limit.

        * when a pass found a face under 40 px (a group photo of small faces), a pass at twice
          the photo's scale, trusted with faces up to 40 px, unless a pass already ran at 1.67
          times its scale or more (a small photo, enlarged to 640 px). Boxes of 14–28 px in a
          1600×1000 group photo: 18–65 % found at the photo's scale, 96–100 % so (0.5–1 s →
          2–3.5 s). Where the enlarged copy would exceed 25 megapixels (a photo over 6 MP), only
          its tiles that hold a small face found are looked at: the faces of a group lie near
          each other. When the other passes found no face at all in a photo up to 1 MP, the whole
          photo is looked at so (a class photo whose faces are all under 30 px; a photo without
          faces takes about five times as long). Each tile is enlarged from the photo on its own
          (the same pixels, without the whole copy: a 24 MP scan's would take 288 MB). A portrait
          pays nothing.

        Detections of all passes are merged: one face when their IoU exceeds 0.4 (the official
        NMS) or the smaller box lies 65 % or more inside the larger (a part of a face found on its
        own); it takes the box, landmarks and score of the finest pass among the copies near its
        largest detection (IoU 0.5 or more: the most pixels on the whole face, not on a part that
        scored higher). A face only the finer passes see must score 0.95 or more (patterns on
        clothes scored 0.84–0.92 there, real faces 0.99 and more). So a photo up to 768
        px on its short side is the one pass it was (a longer one at its own scale, no longer
        reduced to 1600 px), and one up to 2048 px keeps the old pass at its own scale, whose
        faces up to 400 px keep their boxes. The time grows with the pixels: about 1.5 times the
        photo's are looked at, ~0.3 s per megapixel on 2 CPU cores (1600×1000: 0.4 s, was 0.3 s;
        6000×4000: 8 s, was 0.5 s; 8000×5000: 11 s, was 0.5 s).
        """
        return drive(self.iter_detect(rgb, min_size=min_size, should_cancel=should_cancel))

    def iter_detect(self, rgb: np.ndarray, *, min_size: float = 0.0,
                    should_cancel: Callable[[], bool] | None = None) -> Generator[DetectionProgress, None, list[Face]]:
        """:meth:`detect`, yielding a :class:`DetectionProgress` after each piece of work (a
        24 MP photo takes about 8 s on 2 CPU cores); returns the faces."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ImageError(f"face detection needs an RGB image, got shape {rgb.shape}")
        height, width = rgb.shape[:2]
        found: list[_Detection] = []
        passes = _detection_passes(width, height)
        found += yield from self._run_passes(rgb, passes, 0, should_cancel)
        enlarged = _enlarged_pass(width, height, passes[-1].scale, [d.box for d in found if _box_side(d.box) < _SMALL_FACE],
                                  none_found=not any(d.rank == 0 or d.score >= _FINER_ONLY_SCORE for d in found))
        if enlarged is not None:
            found += yield from self._run_passes(rgb, [enlarged], len(passes), should_cancel, small_faces=True)
        return _faces_of(found, width, height, min_size)

    def detect_once(self, rgb: np.ndarray) -> list[Face]:
        """The faces in a small image (up to about 640 px a side) looked at once, as it is: no
        passes, no enlarged look (:meth:`detect`'s cost on a 512 px region was 1.3–2.6 s with
        them, most of it the enlarged look for faces that a region sized for its face has none of:
        review). For :func:`face_in_box`, whose region is brought to the detector's size."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ImageError(f"face detection needs an RGB image, got shape {rgb.shape}")
        height, width = rgb.shape[:2]
        found = drive(self._run_passes(rgb, [_Pass(1.0, None, 0.0, math.inf)], 0, None))
        return _faces_of(found, width, height, 0.0)

    def _run_passes(self, rgb: np.ndarray, passes: Sequence[_Pass], first_rank: int,
                    should_cancel: Callable[[], bool] | None, *, small_faces: bool = False,
                    ) -> Generator[DetectionProgress, None, list[_Detection]]:
        """What ``passes`` (ranked from ``first_rank``) find, yielding their progress by the pixels
        of their tiles looked at."""
        height, width = rgb.shape[:2]
        total, done, found = sum(_pass_pixels(width, height, window) for window in passes), 0, []
        for rank, window in enumerate(passes, start=first_rank):
            for pixels, detections in self._detect_pass(rgb, window, rank, should_cancel):
                found += detections
                done += pixels
                yield DetectionProgress(done / total, small_faces=small_faces)
        return found

    def _detect_pass(self, rgb: np.ndarray, window: _Pass, rank: int, should_cancel: Callable[[], bool] | None = None,
                     ) -> Generator[tuple[int, list[_Detection]], None, None]:
        """The faces one pass finds in its window of sizes, in photo coordinates: for each tile, its
        pixels (at the pass's scale) and what was found in it."""
        import torch

        height, width = rgb.shape[:2]
        image_w, image_h = _pass_size(width, height, window)
        image = None  # the enlarged pass enlarges each tile from the photo, not the whole photo
        if not window.piecewise:
            image = rgb if (image_w, image_h) == (width, height) else cv2.resize(
                rgb, (image_w, image_h), interpolation=cv2.INTER_AREA if window.scale < 1 else cv2.INTER_LINEAR)
        sx, sy = image_w / width, image_h / height
        for x0, y0, x1, y1 in _pass_tiles(width, height, window):
            if should_cancel is not None and should_cancel():
                raise Cancelled("Face detection cancelled.")
            piece = image[y0:y1, x0:x1] if image is not None else _enlarged_piece(rgb, _ENLARGED_SCALE, (x0, y0, x1, y1))
            bgr = np.ascontiguousarray(piece[:, :, ::-1])
            with torch.inference_mode():  # not across the yield: the caller's code runs in between
                raw = self._net.detect_faces(bgr, conf_threshold=self.conf_threshold, nms_threshold=_SAME_FACE_IOU,
                                             use_origin_size=True)
            found = []
            for row in np.asarray(raw, dtype=np.float64):
                bx0, by0, bx1, by1 = row[:4]
                if not window.smallest <= max(bx1 - bx0, by1 - by0) <= window.largest:
                    continue
                if ((x0 > 0 and bx0 < _TILE_EDGE) or (x1 < image_w and bx1 > x1 - x0 - _TILE_EDGE)
                        or (y0 > 0 and by0 < _TILE_EDGE) or (y1 < image_h and by1 > y1 - y0 - _TILE_EDGE)):
                    continue  # cut by a tile's inner edge: whole in the neighbouring tile
                box = ((bx0 + x0) / sx, (by0 + y0) / sy, (bx1 + x0) / sx, (by1 + y0) / sy)
                landmarks = ((row[5:15].reshape(5, 2) + np.array([x0, y0])) / np.array([sx, sy])).astype(np.float32)
                if np.linalg.norm(landmarks[1] - landmarks[0]) < _MIN_EYE_DISTANCE:
                    continue
                found.append(_Detection(tuple(float(v) for v in box), landmarks, float(row[4]), rank))
            yield (x1 - x0) * (y1 - y0), found


@dataclass(frozen=True)
class DetectionProgress:
    """How far face detection has come: ``fraction`` (0…1) of the pixels its passes look at. The
    pass for small faces, which runs only once one is found, counts on its own (``small_faces``:
    its fraction starts again from 0)."""

    fraction: float
    small_faces: bool = False

    def describe(self) -> str:
        """"Finding faces… 40 %" (or "Finding small faces… 40 %")."""
        return f"Finding {'small ' if self.small_faces else ''}faces… {round(100 * self.fraction)} %"


@dataclass(frozen=True)
class _Pass:
    """One detection pass: its scale, its tiles (their side and overlap, px at its scale; None for
    one piece), the face sizes it is trusted with (box's long side, px at its scale), and ``near``:
    boxes (photo px) of which a tile must hold one whole to be looked at; () for every tile."""

    scale: float
    tile: tuple[int, int] | None
    smallest: float
    largest: float
    near: tuple[tuple[float, float, float, float], ...] = ()
    piecewise: bool = False  # each tile enlarged from the photo on its own (:func:`_enlarged_piece`)


@dataclass(frozen=True)
class _Detection:
    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float
    rank: int  # its pass: 0 the coarse one, higher finer


def _detection_passes(width: int, height: int) -> list[_Pass]:
    """The passes over a ``width``×``height`` photo, coarse to fine (see :meth:`FaceDetector.detect`)."""
    coarse = _DETECT_SHORT_SIDE / min(width, height)
    if coarse > 1.0:
        coarse = min(coarse, max(1.0, _DETECT_MAX_SIDE / max(width, height)))
    elif coarse * _PASS_MIN_STEP >= 1.0:
        coarse = 1.0  # about the official scale already: one pass at the photo's own
    scales = [coarse]
    if coarse < 1.0:
        finer = [1.0]
        while finer[-1] / _PASS_RATIO >= _PASS_MIN_STEP * coarse:
            finer.append(finer[-1] / _PASS_RATIO)
        scales += finer[::-1]
    sides = [(round(width * s), round(height * s)) for s in scales]
    tiles: list[tuple[int, int] | None] = [None] * len(scales)
    if max(sides[0]) > _COARSE_TILE_FROM:
        overlap = min(sides[0]) + 2 * _TILE_EDGE
        tiles[0] = (max(_TILE_SIDE, 2 * overlap), overlap)
    for i in range(1, len(scales)):
        if max(sides[i]) > _TILE_SIDE:
            tiles[i] = (_TILE_SIDE, _TILE_OVERLAP)
    largest = [math.inf] + [_TILE_MAX_FACE if t else _WHOLE_MAX_FACE for t in tiles[1:]]
    smallest = [_PASS_HANDOVER * largest[i + 1] * scales[i] / scales[i + 1] for i in range(len(scales) - 1)] + [0.0]
    return [_Pass(s, t, lo, hi) for s, t, lo, hi in zip(scales, tiles, smallest, largest)]


def _pass_size(width: int, height: int, window: _Pass) -> tuple[int, int]:
    """The size of a ``width``×``height`` photo's copy that ``window`` looks at."""
    if abs(window.scale - 1.0) <= 1e-6:
        return width, height
    return max(1, round(width * window.scale)), max(1, round(height * window.scale))


def _pass_tiles(width: int, height: int, window: _Pass) -> list[tuple[int, int, int, int]]:
    """The tiles (x0, y0, x1, y1: px at its scale) ``window`` looks at, row by row: all of its copy's,
    or those that hold one of its ``near`` boxes whole."""
    image_w, image_h = _pass_size(width, height, window)
    tile = window.tile or (max(image_w, image_h), 0)
    tiles = [(x0, y0, x1, y1) for y0, y1 in _tile_spans(image_h, *tile) for x0, x1 in _tile_spans(image_w, *tile)]
    if not window.near:
        return tiles
    sx, sy = image_w / width, image_h / height
    return [(x0, y0, x1, y1) for x0, y0, x1, y1 in tiles
            if any(x0 <= b[0] * sx and b[2] * sx <= x1 and y0 <= b[1] * sy and b[3] * sy <= y1 for b in window.near)]


def _pass_pixels(width: int, height: int, window: _Pass) -> int:
    """The pixels ``window``'s tiles hold (overlaps counted in each): the pass's share of the work."""
    return sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in _pass_tiles(width, height, window))


def _enlarged_pass(width: int, height: int, finest: float, small: Sequence[Sequence[float]], *,
                   none_found: bool = False) -> _Pass | None:
    """The pass at twice the photo's scale that finds faces under _SMALL_FACE px (see
    :meth:`FaceDetector.detect`), once the others found the ``small`` faces (boxes, photo px): over
    the whole copy, or where that copy would be over _ENLARGED_MAX_PIXELS, over its tiles that hold
    one of them; over the whole copy too when the others found no face at all (``none_found``: a
    photo given to restore faces, whose faces may all be too small for them) and that copy is not
    too large (a 24 MP landscape would take five times as long to look at: review). None where
    neither holds or the finest pass is enlarged already. Boxes cut by the photo's edge count as
    far as they lie in it (the detector's run past it)."""
    too_large = _ENLARGED_SCALE**2 * width * height > _ENLARGED_MAX_PIXELS
    look_whole = none_found and _ENLARGED_SCALE**2 * width * height <= _NONE_FOUND_MAX_PIXELS
    if not (small or look_whole) or finest >= _ENLARGED_SCALE / _PASS_MIN_STEP:
        return None
    tiled = _ENLARGED_SCALE * max(width, height) > _TILE_SIDE
    near = tuple((max(0.0, float(x0)), max(0.0, float(y0)), min(float(width), float(x1)), min(float(height), float(y1)))
                 for x0, y0, x1, y1 in small) if too_large else ()
    return _Pass(_ENLARGED_SCALE, (_TILE_SIDE, _TILE_OVERLAP) if tiled else None, 0.0, _ENLARGED_SCALE * _SMALL_FACE,
                 near, piecewise=True)


def _enlarged_piece(rgb: np.ndarray, factor: int, tile: tuple[int, int, int, int]) -> np.ndarray:
    """The tile (x0, y0, x1, y1) of ``rgb`` enlarged ``factor`` times (bilinear), made from the photo's
    pixels under it and one more each way (those bilinear reads): the same pixels as that tile of the
    whole enlarged copy, which is not made (a 24 MP scan's at ×2: 288 MB)."""
    x0, y0, x1, y1 = tile
    height, width = rgb.shape[:2]
    sx0, sy0 = max(0, x0 // factor - 1), max(0, y0 // factor - 1)
    sx1, sy1 = min(width, -(-x1 // factor) + 1), min(height, -(-y1 // factor) + 1)
    region = cv2.resize(rgb[sy0:sy1, sx0:sx1], ((sx1 - sx0) * factor, (sy1 - sy0) * factor), interpolation=cv2.INTER_LINEAR)
    return region[y0 - sy0 * factor : y1 - sy0 * factor, x0 - sx0 * factor : x1 - sx0 * factor]


def _box_side(box: Sequence[float]) -> float:
    return max(box[2] - box[0], box[3] - box[1])


def _tile_spans(length: int, side: int = _TILE_SIDE, overlap: int = _TILE_OVERLAP) -> list[tuple[int, int]]:
    """Equal spans of at most about ``side`` px covering ``length``, overlapping by ``overlap`` or more."""
    if length <= side:
        return [(0, length)]
    count = math.ceil((length - overlap) / (side - overlap))
    span = math.ceil((length + (count - 1) * overlap) / count) + 1
    return [(start, start + span) for start in (i * (length - span) // (count - 1) for i in range(count))]


def _box_overlap(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """(IoU, the share of the smaller box inside the larger) of two boxes."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0, 0.0
    inter = iw * ih
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area_a + area_b - inter), inter / max(min(area_a, area_b), 1e-9)


def _faces_of(found: Sequence[_Detection], width: int, height: int, min_size: float) -> list[Face]:
    """The faces of a ``width``×``height`` photo that detections ``found`` make (merged), those
    at least ``min_size`` px, numbered in reading order."""
    faces = []
    for detection in _merge_detections(found):
        x0, y0, x1, y1 = detection.box
        points = np.asarray(detection.landmarks, dtype=np.float64).reshape(-1, 2)
        # (its eyes, nose or mouth outside the photo cut it too: a boy's face cut below the nose by the
        # photo's foot had a box ending 6 px inside it, and at 0.95 was left off as unsure; QA)
        cut = (x0 < -1.0 or y0 < -1.0 or x1 > width + 1.0 or y1 > height + 1.0
               or bool((points < 0.0).any() or (points[:, 0] > width).any() or (points[:, 1] > height).any()))
        face = Face(index=0, box=detection.box, landmarks=detection.landmarks, score=detection.score, cut=cut)
        if face.size >= min_size:
            faces.append(face)
    return [replace(face, index=i) for i, face in enumerate(reading_order(faces))]


def _merge_detections(found: Sequence[_Detection]) -> list[_Detection]:
    """One detection per face (see :meth:`FaceDetector.detect`)."""
    faces: list[list[_Detection]] = []  # each: the highest-scoring detection first, then its copies
    for detection in sorted(found, key=lambda d: (-d.score, -d.rank)):
        for copies in faces:
            iou, inside = _box_overlap(copies[0].box, detection.box)
            if iou > _SAME_FACE_IOU or inside >= _PART_OF_FACE:
                copies.append(detection)
                break
        else:
            faces.append([detection])
    merged = []
    for copies in faces:
        if all(d.rank > 0 for d in copies) and copies[0].score < _FINER_ONLY_SCORE:
            continue  # seen only by the finer passes, and not surely a face
        # the whole face, not a part of it that scored higher: the largest box leads its copies
        whole = max(copies, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
        near = [d for d in copies if d is whole or _box_overlap(whole.box, d.box)[0] >= _NEAR_COPY_IOU]
        finest = max(d.rank for d in near)
        merged.append(next(d for d in near if d.rank == finest))
    return merged


def missing_weights_message(model: str, folder: Path) -> str:
    file_name, url = DETECTOR_FILES[model]
    return (
        f"The face detector weights are missing: put {file_name} into {folder} "
        f"(download it from {url}), or run with --download-detector. "
        "A face can still be given by hand (--face-box / --face-landmarks) or --aligned used."
    )


def download_detector_weights(model: str = DEFAULT_DETECTOR, *, folder: str | Path | None = None, timeout: float = 60.0) -> Path:
    """Fetch a detector's weights into ``folder`` (resumable, atomic); only on the user's request."""
    from faceapp.core.download import download_file
    from faceapp.core.errors import ModelError

    if model not in DETECTOR_FILES:
        raise ValueError(f"unknown face detector {model!r}")
    file_name, url = DETECTOR_FILES[model]
    folder = Path(folder) if folder is not None else paths.detector_dir()
    target = folder / file_name
    if target.is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return download_file(url, target, timeout=timeout)
    except (OSError, ModelError) as exc:
        raise DetectorUnavailableError(f"Could not download the face detector ({exc}). " + missing_weights_message(model, folder)) from exc
