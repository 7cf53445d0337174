"""The application layer both front-ends call: preferences in, restoration and files out.

The CLI and the GUI run the same calls, so the same photo and preferences give the same file::

    models = ModelCache()                                   # engine + detector, loaded lazily
    photo = read_photo(path)
    faces = find_faces(photo, models.detector(), prefs)     # detected, selected, min size applied
    # (detect_faces(…) gives the same faces and how many smaller ones were left out)
    result = yield from iter_restore(photo, faces, models.engine(prefs), prefs)   # yields Progress, then stages (str)
    write_result(result, output_path(path, prefs), quality=prefs.quality)   # provenance, metadata, no overwrite

No Qt here; nothing is kept between calls except what :class:`ModelCache` holds.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from faceapp import paths
from faceapp.core import export, sixteen_bit
from faceapp.core.damage import (covered_features, fill_peak_bytes, mask_file_marks, mask_summary, mask_to_photo,
                                 read_mask)
from faceapp.core.errors import Cancelled, ExportError, FaceappError, MaskError
from faceapp.core.file_digest import file_sha256
from faceapp.core.export import EXTENSIONS, default_output_path, format_for, output_file_name, result_extension
from faceapp.core.faces import (UNSURE_FACE_SCORE, Face, alignment_transform, reading_order, righting_turn, same_place,
                                select_faces, turned_back)
from faceapp.core.halftone import descreen
from faceapp.core.memory import MemoryLimit, check_memory_budget, face_area_of
from faceapp.core.photo_io import Photo, jpeg_file_quality, probe_photo
from faceapp.core.pathtext import same_name
from faceapp.core.photo_restore import (Engine, PhotoResult, PhotoSettings, Progress, iter_refine_face, iter_restore_photo,
                                        photo_screen)
from faceapp.core.preferences import Preferences
from faceapp.core.sharing import shared_photo
from faceapp.core.progress import drive
from faceapp.core.settings import DEFAULT_FIDELITY
from faceapp.core.wording import listed

log = logging.getLogger(__name__)

EngineFactory = Callable[[Preferences], Any]
DetectorFactory = Callable[[Preferences], Any]


def load_engine_for(prefs: Preferences) -> Any:
    """The engine of ``prefs.model`` (the default model for "") on ``prefs.device``."""
    from faceapp.core.engine import load_engine

    return load_engine(prefs.model or None, device=prefs.device, precision=prefs.precision)


def load_detector_for(prefs: Preferences) -> Any:
    """The default face detector, on the CPU: its weights from the user data folder when the user
    has a copy there, else the ones bundled in ``models/detector/``."""
    from faceapp.core.faces import FaceDetector

    return FaceDetector(device="cpu")


def resolved_preferences(prefs: Preferences, registry: Any = None) -> Preferences:
    """``prefs`` with the model and the step count a restore would use now made explicit: the model
    "" becomes the registry's default model by name, steps None that model's ``default_steps``.
    Preferences that resolve alike restore a photo alike, so a front-end that asks whether a result
    is still what a restore would make compares these: the default model picked by its name, or its
    own step count typed in, changes nothing, and another model becoming the default changes "".
    (A fidelity stays as it is.) ``prefs`` as
    they are when the model cannot be resolved: the restore itself says why, on its worker thread,
    so this never raises (front-ends call it on their UI thread)."""
    from faceapp.core.registry import Registry

    try:
        registry = registry if registry is not None else Registry()
        manifest = registry.get(prefs.model) if prefs.model else registry.default()
        return prefs.replace(model=manifest.name, steps=prefs.steps or manifest.default_steps)
    except Exception as exc:  # an unreadable manifest folder, a step count no preference allows, …
        if not isinstance(exc, FaceappError):
            log.warning("the model of these preferences could not be resolved: %s", exc)
        return prefs


def engine_key(prefs: Preferences) -> tuple[str, str, str]:
    """What an engine depends on: a change of any of these needs another engine."""
    return (prefs.model, prefs.device, prefs.precision)


class ModelCache:
    """The engine for the current preferences and the face detector, loaded on first use.

    Safe to call from worker threads: one engine load runs at a time, and :meth:`forget_engine`
    (e.g. after the model files changed) never waits for a load in flight; that load is then
    handed to the caller that asked but not cached.
    """

    def __init__(self, *, engine_factory: EngineFactory = load_engine_for,
                 detector_factory: DetectorFactory = load_detector_for) -> None:
        self._engine_factory = engine_factory
        self._detector_factory = detector_factory
        self._lock = threading.Lock()  # guards the cached objects; never held during a load
        self._build_lock = threading.Lock()  # one engine load at a time
        self._detector_lock = threading.Lock()  # one detector load, held while it loads
        self._engine: Any = None
        self._engine_key: tuple[str, str, str] | None = None
        self._generation = 0  # bumped by forget_engine: a load in flight is not cached
        self._detector: Any = None

    def engine(self, prefs: Preferences) -> Any:
        """The engine for ``prefs`` (loaded now if the model, device or precision changed)."""
        key = engine_key(prefs)
        with self._build_lock:
            with self._lock:
                if self._engine is not None and self._engine_key == key:
                    return self._engine
                self._engine, self._engine_key = None, None  # free the old one before loading
                generation = self._generation
            engine = self._engine_factory(prefs)
            with self._lock:
                if generation == self._generation:
                    self._engine, self._engine_key = engine, key
            return engine

    def engine_loaded(self) -> bool:
        """Whether an engine is loaded and kept (its model in memory)."""
        with self._lock:
            return self._engine is not None

    def detector(self, prefs: Preferences | None = None) -> Any:
        """The face detector (one for the whole session). Loaded under a lock of its own (review: under
        the engine's, :meth:`forget_engine`, called on the window's thread, waited for the load)."""
        with self._detector_lock:
            if self._detector is None:
                self._detector = self._detector_factory(prefs or Preferences())
            return self._detector

    def another_detector(self, prefs: Preferences | None = None) -> Any:
        """A face detector of its own, for a second thread (facexlib's RetinaFace keeps each call's
        sizes on itself: two threads must not share one); not cached here."""
        return self._detector_factory(prefs or Preferences())

    def forget_engine(self) -> None:
        """Drop the cached engine; never waits for a load."""
        with self._lock:
            self._engine, self._engine_key = None, None
            self._generation += 1


class FoundFaces(NamedTuple):
    """What :func:`detect_faces` found in a photo: ``faces``, those restored (at least ``min_size``
    px; the ones the face selection leaves out switched off, and those the detector is unsure of,
    ``unsure``), and ``too_small``, how many more the detector found that were smaller than
    ``min_size`` and are left out altogether."""

    faces: list[Face]
    too_small: int
    min_size: float
    unsure: tuple[Face, ...] = ()  # switched off: the detector is unsure they are faces
    #: quarter turns (``np.rot90``'s ``k``) that set the photo upright, where its faces were found
    #: so: it lies on its side or upside down (0: as it is)
    turned: int = 0


def detect_faces(photo: Photo, detector: Any, prefs: Preferences, *,
                 should_cancel: Callable[[], bool] | None = None) -> FoundFaces:
    """The faces of ``photo`` at least ``prefs.min_face_size`` px, and how many smaller ones were
    left out; those ``prefs.face_selection`` leaves out come back switched off (``enabled=False``),
    so a user may switch them on. Faces are numbered (``index``) in reading order among those kept, as
    the detector numbers them. ``should_cancel`` is asked between the detector's pieces of work
    (raises :class:`~faceapp.core.errors.Cancelled`). :func:`iter_detect_faces` reports progress."""
    return drive(iter_detect_faces(photo, detector, prefs, should_cancel=should_cancel))


def iter_detect_faces(photo: Photo, detector: Any, prefs: Preferences, *,
                      should_cancel: Callable[[], bool] | None = None) -> Generator[Any, None, FoundFaces]:
    """:func:`detect_faces`, yielding the detector's :class:`~faceapp.core.faces.DetectionProgress`
    (a detector without ``iter_detect`` reports none)."""
    import dataclasses

    def detect(pixels: np.ndarray) -> Generator[Any, None, list]:
        if hasattr(detector, "iter_detect"):
            return list((yield from detector.iter_detect(pixels, min_size=0.0, should_cancel=should_cancel)))
        return list(detector.detect(pixels, min_size=0.0, should_cancel=should_cancel))

    pixels = photo.srgb
    detected = yield from detect(pixels)
    if not detected and prefs.descreen:  # (QA: half the faces of printed clippings were not found
        # among their dots: looked for again with the dots smoothed out, as they are restored)
        screen = photo_screen(photo, should_cancel=should_cancel)
        if screen is not None:
            pixels = descreen(photo.srgb, screen, should_cancel=should_cancel)
            detected = yield from detect(pixels)
    turn = righting_turn(detected)
    if not detected:  # a scan upside down or on its side, every face with it (group QA)
        turn = turn_that_shows_faces(pixels, detector, should_cancel=should_cancel)
    elif not turn and any(face.unsure for face in detected):  # (faces lying so are found less surely, their
        turn = turn_with_surer_faces(pixels, detector, should_cancel=should_cancel)  # landmarks as if upright: QA)
    if not detected and turn:
        upright = yield from detect(np.ascontiguousarray(np.rot90(pixels, turn)))
        detected = reading_order([turned_back(face, turn, photo.width, photo.height) for face in upright])
        turn = turn if detected else 0
    elif turn:  # a photo on its side: its faces looked for upright too, kept where that finds more
        upright = yield from detect(np.ascontiguousarray(np.rot90(pixels, turn)))
        found = [turned_back(face, turn, photo.width, photo.height) for face in upright]
        # with the faces found as it lies that set upright did not find (one standing among faces
        # lying: review)
        found += [face for face in detected if not any(same_place(face, other) for other in found)]
        if _sure_and_all(found)[0] > _sure_and_all(detected)[0]:  # (more faces it is sure of: one more unsure
            # face, maybe none at all, found so turned, is no reason to take the turn: review)
            detected = reading_order(found)
        else:
            turn = 0
    min_size = prefs.min_face_size
    faces = [dataclasses.replace(f, index=i) for i, f in enumerate(f for f in detected if f.size >= min_size)]
    unsure = () if prefs.include_unsure_faces else unsure_faces(faces)
    doubtful = {f.index for f in unsure}  # (chosen among the others: "largest" is the largest sure face)
    chosen = {f.index for f in select_faces([f for f in faces if f.index not in doubtful], prefs.face_selection,
                                            image_size=(photo.width, photo.height))}
    faces = [f if f.index in chosen else dataclasses.replace(f, enabled=False) for f in faces]
    said = tuple(f for f in faces if f.index in doubtful) if prefs.face_selection == "all" else ()
    return FoundFaces(faces, len(detected) - len(faces), min_size, said, turn)


#: The longest side of the photo's small copy that :func:`turn_that_shows_faces` looks at.
_QUICK_LOOK_SIDE = 640


def _small_copy(pixels: np.ndarray) -> np.ndarray:
    """The photo's copy that a quick look looks at: at most :data:`_QUICK_LOOK_SIDE` a side."""
    height, width = pixels.shape[:2]
    scale = min(1.0, _QUICK_LOOK_SIDE / max(height, width))
    return pixels if scale >= 1.0 else cv2.resize(
        pixels, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def _quick_looks(pixels: np.ndarray, detector: Any, turns: Sequence[int],
                 should_cancel: Callable[[], bool] | None) -> Generator[tuple[int, list], None, None]:
    """For each of ``turns`` in turn, the faces a quick look finds in the photo's small copy so
    turned (a fraction of a second each); nothing where the detector cannot look so quickly."""
    look = getattr(detector, "detect_once", None)
    if look is None:
        return
    small = _small_copy(pixels)
    for turn in turns:
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        yield turn, look(np.ascontiguousarray(np.rot90(small, turn)))


def turn_that_shows_faces(pixels: np.ndarray, detector: Any, *,
                          should_cancel: Callable[[], bool] | None = None) -> int:
    """The quarter turns (``np.rot90``'s ``k``) that show faces in a photo in which none was found as it
    lies, looked for in a small copy turned half a turn, then a quarter either way; 0 when no turn
    does (or the detector cannot look so quickly). A scan upside down, every face with it, gave "no
    face found" (group QA: a family photo turned half a turn)."""
    return next((turn for turn, faces in _quick_looks(pixels, detector, (2, 1, 3), should_cancel) if faces), 0)


def _sure_and_all(faces: Sequence[Face]) -> tuple[int, int]:
    """How many of ``faces`` the detector is sure of, and how many there are."""
    return sum(not face.unsure for face in faces), len(faces)


def turn_with_surer_faces(pixels: np.ndarray, detector: Any, *,
                          should_cancel: Callable[[], bool] | None = None) -> int:
    """The quarter turn (``np.rot90``'s ``k``) under which a small copy of the photo shows more faces
    the detector is sure of than as it lies, the most of the three; 0 when none does (or the detector
    cannot look so quickly). The detector finds faces upside down or on their side too, less
    surely, with landmarks laid out as if upright (group QA: a photo on its side, and one upside
    down, were restored as they lay, their faces misaligned and barely restored, one missed)."""
    counts = {turn: _sure_and_all(faces) for turn, faces in _quick_looks(pixels, detector, (0, 2, 1, 3), should_cancel)}
    if len(counts) < 4:
        return 0
    best = max((2, 1, 3), key=lambda turn: counts[turn])
    return best if counts[best][0] > counts[0][0] else 0


def turned_message(found: FoundFaces) -> str | None:
    """What both front-ends say, after the photo's name, when its faces were found with the photo
    turned upright (:attr:`FoundFaces.turned`; None when as it is): a scan lying on its side."""
    if not found.turned:
        return None
    lies = "upside down" if found.turned == 2 else "on its side"
    turn = {1: "a quarter anticlockwise", 2: "half a turn", 3: "a quarter clockwise"}[found.turned]
    return (f"seems to lie {lies}: more of its faces were found with it turned {turn}; the result keeps the "
            "photo as it lies (turn it in a photo viewer or editor)")


def unsure_faces(faces: Sequence[Face]) -> tuple[Face, ...]:
    """The faces the detector is unsure of (:attr:`~faceapp.core.faces.Face.unsure`), where it is
    sure of another: those are left switched off. In a photo whose faces are all unsure (one
    heavily degraded face) none is: restoring it is why the photo was given."""
    unsure = tuple(f for f in faces if f.unsure)
    return unsure if len(unsure) < len(faces) else ()


def unsure_message(found: FoundFaces, *, way: str) -> str | None:
    """A line both front-ends show when faces the detector is unsure of were left off (None when
    none was), e.g. "face 4 left off: the detector is unsure it is a face (score 0.966, under 0.97); …", ending
    with ``way``, the front-end's way to restore it."""
    if not found.unsure:
        return None
    numbers = listed([str(f.index + 1) for f in found.unsure])
    which = f"face {numbers}" if len(found.unsure) == 1 else f"faces {numbers}"
    scores = ", ".join(f"{math.floor(f.score * 1000) / 1000:.3f}" for f in found.unsure)  # (0.9699: not "0.970, under 0.97")
    bars = sorted({f.unsure_below for f in found.unsure}, reverse=True)
    under = f"under {bars[0]:g}" + (f"; {bars[1]:g} for a face cut by the photo's edge" if len(bars) > 1 else
                                     " for a face cut by the photo's edge" if bars[0] != UNSURE_FACE_SCORE else "")
    return (f"{which} left off: the detector is unsure {'it is a face' if len(found.unsure) == 1 else 'they are faces'} "
            f"(score {scores}, {under}); {way}")


def find_faces(photo: Photo, detector: Any, prefs: Preferences) -> list[Face]:
    """The faces of ``photo`` at least ``prefs.min_face_size`` px; those ``prefs.face_selection``
    leaves out come back switched off (``enabled=False``), so a user may switch them on.
    :func:`detect_faces` also counts the smaller faces left out."""
    return detect_faces(photo, detector, prefs).faces


def depth_note(photo: Photo, fmt: str, *, keep_16_bits: bool = True, setting: str = "") -> str:
    """What both front-ends say, after its name, of a photo with more than 8 bits per channel (a
    48-bit scan) whose result is written as ``fmt``: whether the result keeps 16 bits
    (:mod:`faceapp.core.sixteen_bit`), and if not why. ``setting``: what made the front-end write
    8 bits when the user asked for them (e.g. "--8-bit")."""
    bits = photo.bits
    if bits != 16:
        return f"has {bits} bits per channel; faceapp reads it in 8, so the result has 8 bits per channel."
    if not keep_16_bits:  # (whatever the format: the user asked for 8)
        return "has 16 bits per channel; the result is written in 8" + (f" ({setting})." if setting else ".")
    if not sixteen_bit.writes_16_bit(photo, fmt):
        kinds = "PNG" if photo.alpha is not None and photo.single_channel else "PNG or TIFF"
        return f"has 16 bits per channel; as {export.FORMAT_LABELS.get(fmt, fmt)} the result has 8 ({kinds} keeps 16)."
    return ("has 16 bits per channel; the result keeps them (the restored faces carry the model's 8 bits, "
            "scaled to 16).")


def cmyk_note(photo: Photo) -> str | None:
    """What both front-ends say, after its name, of a CMYK photo (a print scan): its result is an
    RGB file (None for any other photo)."""
    if not photo.cmyk:
        return None
    plain = "by a plain formula: its colours may differ from a print's"
    how = ("through its colour profile" if photo.cmyk_profiled
           else f"without a colour profile, {plain}" if photo.cmyk_profile_problem is None
           else f"{plain} (its colour profile cannot be used: {photo.cmyk_profile_problem})")
    return f"is CMYK; it is restored in RGB, converted {how}, and the result is an sRGB file."


def check_restore_memory(photo: Photo, faces: Sequence[Face], prefs: Preferences, fmt: str, *, name: str,
                         eight_bit_setting: str, limit: MemoryLimit | None = None, aligned: bool = False,
                         damage: np.ndarray | None = None, upscale_setting: str = "") -> None:
    """Raise :class:`~faceapp.core.errors.MemoryBudgetError` when restoring ``faces`` of ``photo``
    (an aligned crop: the whole of it) and writing its result as ``fmt`` would need more memory
    than there is (:func:`faceapp.core.memory.check_memory_budget`): the check both front-ends
    make once the faces are known, with the copies a 16-bit result needs and the classical fill of
    the ``damage`` marked (a mask of the photo's size; a large scan's torn corner takes gigabytes)."""
    check_memory_budget(photo.width, photo.height, upscale=prefs.upscale, fmt=fmt, alpha=photo.alpha is not None,
                        limit=limit, name=name,
                        face_area=1.0 if aligned else face_area_of(faces, photo.width, photo.height),
                        sixteen_bit=prefs.keep_16_bits and sixteen_bit.writes_16_bit(photo, fmt),
                        eight_bit_setting=eight_bit_setting, upscale_setting=upscale_setting,
                        fill_bytes=fill_peak_bytes(damage) if damage is not None else 0)


#: Pillow's names of the lossless formats a photo may be stored in.
_LOSSLESS = frozenset({"PNG", "TIFF", "BMP"})


def misnamed_note(photo: Photo, fmt: str, *, format_chosen: bool, keep_lossless: Callable[[str], str]) -> str | None:
    """What both front-ends say, after its name, of a lossless photo (a PNG, TIFF or BMP) whose name
    says JPEG, so that its result, named as the photo is, would be a lossy JPEG without a word (QA);
    None otherwise, or when the user chose the result's format (``format_chosen``).
    ``keep_lossless(fmt)``: the front-end's words for choosing ``fmt`` (e.g. "give --format png")."""
    stored = photo.format
    lossless = stored in _LOSSLESS or (stored == "WEBP" and photo.webp_lossless)  # (review: a lossless WebP too)
    if format_chosen or fmt != "JPEG" or not lossless or photo.path is None:
        return None
    if photo.path.suffix.lower() not in (".jpg", ".jpeg"):
        return None
    kind = "lossless WebP" if stored == "WEBP" else stored
    keep = {"BMP": "PNG", "WEBP": "WebP"}.get(stored, stored)  # (as the format list names it: review)
    return (f"is a {kind} file, though its name says JPEG: its result is a JPEG, as the name says "
            f"({keep_lossless(keep)} to keep it lossless).")


def other_pages_note(photo: Photo) -> str:
    """For a photo in which no face was found: that only the first of its pages was looked at, when
    it has more (batch QA: a scan's face on its second page was only "no face found"); else ""."""
    if photo.pages <= 1:
        return ""
    return (f" Only the first of its {photo.pages} pages was looked at: save the page with the faces as a photo "
            "of its own.")


#: A JPEG estimated at this quality or more is a master kept near-lossless, whose result at a lower
#: quality is said (a camera's JPEG, at 90–97, is not). The estimate reads Pillow's 99 as 98 and its
#: 100 as 99 (review: a master saved at 99 went unsaid at a bar of 99).
MASTER_JPEG_QUALITY = 98


def quality_note(photo: Photo, fmt: str, quality: int, *, setting: str) -> str | None:
    """What both front-ends say, after its name, of a JPEG master (saved at quality 98 or more) whose
    JPEG result is saved at a lower ``quality``: its background too is encoded again, less finely
    (archivist QA: a quality 100 scan came back at 95, up to 8 grey levels off far from its faces,
    unsaid); ``setting``: the front-end's way to raise the quality. None otherwise."""
    kept = photo.jpeg_quality
    if fmt != "JPEG" or photo.format != "JPEG" or kept is None or kept < MASTER_JPEG_QUALITY or quality >= kept:
        return None
    return (f"was saved at JPEG quality {kept} or so: its result is saved at {quality}, its background encoded again "
            f"less finely ({setting} 100 keeps it closer).")  # (the quality is estimated: 100's reads as 99)


def result_notes(photo: Photo, fmt: str, *, keep_16_bits: bool, eight_bit_setting: str, format_chosen: bool,
                 keep_lossless: Callable[[str], str], quality: int, quality_setting: str) -> list[str]:
    """Everything both front-ends say, after the photo's name, of how its result written as ``fmt``
    will be unlike the photo: only its first page, a JPEG of a lossless file named .jpg, a JPEG
    master saved at a lower ``quality``, RGB for CMYK, full colour for a palette image, 8 or 16 bits
    (:func:`misnamed_note`, :func:`quality_note`, :func:`cmyk_note`, :func:`depth_note`)."""
    notes = []
    if photo.pages > 1:
        notes.append(f"has {photo.pages} pages: only the first is restored.")
    if (misnamed := misnamed_note(photo, fmt, format_chosen=format_chosen, keep_lossless=keep_lossless)) is not None:
        notes.append(misnamed)
    if (lower := quality_note(photo, fmt, quality, setting=quality_setting)) is not None:
        notes.append(lower)
    if (cmyk := cmyk_note(photo)) is not None:
        notes.append(cmyk)
    if photo.palette and fmt in _LOSSLESS:  # (geometry QA: an indexed PNG came back RGB unsaid)
        notes.append(f"is a palette image (256 colours at most): its result is a full-colour {fmt}, as the "
                     "restored faces' many colours need.")
    if photo.bits > 8:
        notes.append(depth_note(photo, fmt, keep_16_bits=keep_16_bits, setting=eight_bit_setting))
    return notes


def too_small_message(found: FoundFaces, *, setting: str = "") -> str | None:
    """A short line both front-ends show when faces smaller than the minimum size were left out
    (None when none was), e.g. "24 faces smaller than 24 px left out"; ``setting``, when given,
    names the front-end's way to change the minimum (e.g. "--min-face-size") in brackets."""
    if not found.too_small:
        return None
    faces = "1 face" if found.too_small == 1 else f"{found.too_small} faces"
    return f"{faces} smaller than {found.min_size:g} px left out" + (f" ({setting})" if setting else "")


def photo_settings(prefs: Preferences, engine: Engine, *, aligned: bool = False) -> PhotoSettings:
    """How ``engine`` restores a photo for ``prefs``: steps and fidelity default to the model's own."""
    return PhotoSettings(
        sampler=prefs.sampler(getattr(engine, "default_steps", None) or 8, getattr(engine, "default_fidelity", DEFAULT_FIDELITY)),
        seeds_per_face=prefs.seeds_per_face, base_seed=prefs.base_seed, upscale=prefs.upscale,
        aligned=aligned, precision=getattr(engine, "precision", prefs.precision),  # what ran, not "auto"
        repair_resamples=prefs.repair_resamples, match_grain=prefs.match_grain, descreen=prefs.descreen,
        **({} if aligned else {"face_selection": prefs.face_selection, "min_face_size": prefs.min_face_size,
                               "unsure_faces": prefs.include_unsure_faces}),
    )


def iter_restore(photo: Photo, faces: Sequence[Face], engine: Engine, prefs: Preferences, *,
                 aligned: bool = False, damage: np.ndarray | None = None, face_damage: np.ndarray | None = None,
                 should_cancel: Callable[[], bool] | None = None,
                 ) -> Generator[Progress | str, None, PhotoResult]:
    """Restore the enabled ``faces`` of ``photo`` as ``prefs`` say, repairing ``damage`` (a mask of
    the photo's size, 255 = damaged, with ``prefs.repair_resamples`` RePaint resamplings per step); yields
    Progress, then the stages after the faces (str), returns the result. ``face_damage``: the one face's own crop mask, when the mask was
    given in the crop (:class:`DamageMask`)."""
    settings = photo_settings(prefs, engine, aligned=aligned)
    return (yield from iter_restore_photo(photo, faces, engine, settings, damage=damage, face_damage=face_damage,
                                          should_cancel=should_cancel))


def iter_refine(result: PhotoResult, engine: Engine, passes: int, *,
                should_cancel: Callable[[], bool] | None = None) -> Generator[Progress, None, PhotoResult]:
    """Refine the chosen candidate of every face ``passes`` times; yields Progress, returns the result."""
    for index in range(len(result.faces)):
        result = yield from iter_refine_face(result, index, engine, passes, should_cancel=should_cancel)
    return result


class SparedFace(NamedTuple):
    """A face sharp-face sparing sampled at a higher fidelity than the run asked (``position`` in
    ``result.faces``; ``restorer_change`` in grey levels, :mod:`faceapp.core.sparing`)."""

    position: int
    fidelity: float
    asked: float
    restorer_change: float
    repaired: bool = False  # its damage was filled by the prior first, by each seed its own way


#: A face sampled at less than this over the fidelity asked was not spared in any way a user could
#: tell: the front-ends show fidelities to two places (QA: "spared: face 1 at fidelity 0.30" at --fidelity 0.3).
_SPARED_BY_AT_LEAST = 0.005


def spared_faces(result: PhotoResult) -> list[SparedFace]:
    """The faces of ``result`` that were spared, in order."""
    asked = result.settings.sampler.fidelity
    return [SparedFace(position, face.fidelity, asked, face.restorer_change or 0.0, face.damage is not None)
            for position, face in enumerate(result.faces)
            if face.fidelity is not None and face.fidelity >= asked + _SPARED_BY_AT_LEAST]


class SparingChoice(NamedTuple):
    """What the seed gallery says of one face's sharp-face sparing, and the choice it offers:
    ``diffuse`` True offers "Diffuse anyway" (the face was spared), False "Spare again" (the user
    had it diffused); ``asked`` the run's fidelity."""

    text: str
    diffuse: bool
    asked: float
    kept: bool = False  # spared whole, at fidelity 1 (the restorer's face; each seed differs only where it fills damage)


def sparing_choice(result: PhotoResult, position: int) -> SparingChoice | None:
    """The gallery's sparing line for face ``position`` of ``result``; None when sparing did not
    touch it and the user did not ask for it to be diffused, and whenever the run spared nothing
    (sparing off, or fidelity 1, where the prior does nothing to any face)."""
    face, sampler = result.faces[position], result.settings.sampler
    asked = sampler.fidelity
    if face.fidelity is None or not sampler.spare_sharp_faces or asked >= 1.0:
        return None
    if face.face.diffuse_anyway:
        return SparingChoice(f"Diffused at fidelity {face.fidelity:.2f} as you asked, though the restorer barely changed it.",
                             False, asked)
    if face.fidelity < asked + _SPARED_BY_AT_LEAST:  # (not spared, or by less than the two places shown)
        return None
    if face.fidelity >= 1.0 and face.refinement_of(face.chosen):  # (QA: "the same for every seed" under a pass)
        what = "kept as the restorer made it, then refined: the pass shown is Refine's, which diffused it again"
    elif face.fidelity >= 1.0:  # (review: "the same for every seed" under a texture polish, which differs per seed)
        what = "kept as the restorer made it" + (", the same for every seed" if face.seeds_alike()
                                                   else ", its damage filled by each seed its own way"
                                                   if face.damage is not None else ", its texture polished by each seed its own way")
    else:
        what = f"sampled at fidelity {face.fidelity:.2f} instead of {asked:.2f}, so the prior changes it less"
    # (not "Sharp already": blurry prints and printed faces smoothed out are spared too, as the
    # photo's notice says: "Barely changed by the restorer")
    return SparingChoice(f"Barely changed by the restorer: {what} (the prior would mostly smear it).", True, asked,
                         kept=face.fidelity >= 1.0)


def resample_message(result: PhotoResult, position: int, *, number: Callable[[int], int] | None = None,
                     dropped_passes: int = 0) -> str:
    """What the window says once face ``position`` was sampled again by "Diffuse anyway" or "Spare
    again" (:func:`faceapp.core.photo_restore.iter_resample_face`); ``number`` as in :func:`spared_message`;
    ``dropped_passes``: the refinement passes the face had, which went with the candidates they refined."""
    face, asked = result.faces[position], result.settings.sampler.fidelity
    shown = (number or (lambda i: i + 1))(position)
    if face.face.diffuse_anyway:
        text = (f"Face {shown} diffused at fidelity {asked:.2f}: pick a seed in the gallery, or Spare again for "
                "the restorer's face.")
    elif face.fidelity is None or face.fidelity <= asked:
        text = f"Face {shown} sampled again at fidelity {asked:.2f}: it is not sharp enough to be spared."
    elif face.fidelity >= 1.0:
        text = f"Face {shown} spared again: kept as the restorer made it."
    else:
        text = f"Face {shown} spared again: sampled at fidelity {face.fidelity:.2f} instead of {asked:.2f}."
    if dropped_passes:
        text += (f" Its refinement pass{'es' if dropped_passes > 1 else ''} went with the candidates "
                 f"{'they' if dropped_passes > 1 else 'it'} refined (Refine face makes new ones).")
    return text


def spared_message(result: PhotoResult, *, switch: str = "",
                   number: Callable[[int], int] | None = None) -> str | None:
    """A short line both front-ends show when faces were spared (None when none was): which faces
    kept the restorer's face, which were sampled at what fidelity; ``switch``, when given, ends it
    with the front-end's way to diffuse them after all (e.g. "Give --fidelity to diffuse every face").
    ``number(position)`` is the number the front-end shows for a face (default: position + 1; the
    window numbers faces as the detector found them, switched-off ones included)."""
    spared = spared_faces(result)
    if not spared:
        return None
    number = number or (lambda position: position + 1)
    parts: list[tuple[int, str]] = []  # (first face's number, text), in the faces' order
    for repaired in (False, True):
        kept = [number(f.position) for f in spared if f.fidelity >= 1.0 and f.repaired == repaired]
        if kept:
            faces = f"face {kept[0]}" if len(kept) == 1 else "faces " + ", ".join(map(str, kept))
            them = "it" if len(kept) == 1 else "them"
            parts.append((kept[0], f"{faces} kept as the restorer made {them}" + (
                f" once the prior had filled {'its' if len(kept) == 1 else 'their'} damage" if repaired else "")))
    # (a face sampled nearer the restorer's is spared the prior in part: "at fidelity 0.94" alone,
    # after "spared the prior", read as a face the prior had not touched: first-hour QA)
    parts += [(number(f.position), f"face {number(f.position)} given less of it (fidelity {f.fidelity:.2f})")
              for f in spared if f.fidelity < 1.0]
    text = "; ".join(part for _, part in sorted(parts, key=lambda p: p[0]))
    return f"Barely changed by the restorer, so spared the prior: {text}." + (f" {switch}." if switch else "")


def faces_left_off_with_damage(faces: Sequence[Face], damage: np.ndarray | None) -> list[Face]:
    """The faces switched off (left out by the face selection, the detector unsure of them, or the
    user) whose box holds damage marked (``damage``: the photo's mask, > 0 damaged): a restore fills
    it as the background's is, not with the face prior."""
    if damage is None:
        return []
    height, width = damage.shape[:2]

    def damaged(face: Face) -> bool:
        x0, y0, x1, y1 = face.box
        left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
        right, bottom = min(width, math.ceil(x1)), min(height, math.ceil(y1))
        return left < right and top < bottom and bool(damage[top:bottom, left:right].any())

    return [f for f in faces if not f.enabled and damaged(f)]


def left_off_damage_message(hit: Sequence[Face], *, way: str) -> str | None:
    """A line both front-ends show when damage marked lies on faces switched off (``hit``:
    :func:`faces_left_off_with_damage`), None for none: their damage is filled smoothly from around
    it as the background's is, not drawn by the face prior (QA: a scratch across a left-off face's
    glasses and mouth came back smeared, without a word). ``way``: how the front-end switches such
    a face on."""
    if not hit:
        return None
    numbers = [str(f.index + 1) for f in hit]
    which = f"face {numbers[0]}" if len(numbers) == 1 else f"faces {listed(numbers)}"
    return (f"The damage marked on {which}, switched off, is filled smoothly from around it as the background's "
            f"is, not drawn by the face prior; {way}.")


def descreened_message(result: PhotoResult, *, switch: str = "") -> str | None:
    """What smoothing out a printed screen did to the photo of ``result``, if it did: "Printed
    with a halftone screen (dots 3.7 px apart): smoothed out of 46 % of the photo before its faces
    were restored, and so out of the result" and ``switch``, the front-end's way to keep the screen;
    None when it did not."""
    screen = result.screen
    if screen is None:
        return None
    where = "the whole photo" if screen.share >= 0.995 else f"{max(1, round(100 * screen.share))} % of the photo"
    text = (f"Printed with a halftone screen (dots {screen.period:.1f} px apart): smoothed out of {where} "
            "before its faces were restored, and so out of the result")  # (archivist QA: read as a step whose
    # smoothing the saved background did not keep)
    return f"{text}. {switch}" if switch else f"{text}."


def covered_features_message(result: PhotoResult, *, number: Callable[[int], int] | None = None) -> str | None:
    """A line both front-ends show when painted damage hides a face's eyes or mouth (None when it
    hides none): the prior draws them anew, not from the person's own, and a small prior brings
    them back smoothed or closed (QA: a stroke across two faces' eyes gave every seed a skin-coloured
    smear there); what to do instead. ``number`` as in :func:`spared_message`."""
    number = number or (lambda position: position + 1)
    parts = []
    for position, face in enumerate(result.faces):
        if face.damage is None:
            continue
        points = np.asarray(face.face.landmarks, dtype=np.float64).reshape(-1, 2)
        in_crop = points @ np.asarray(face.affine, dtype=np.float64)[:, :2].T + np.asarray(face.affine)[:, 2]
        covered = covered_features(face.damage, in_crop)
        if covered:
            parts.append(f"face {number(position)}: {', '.join(covered)}")
    return _hidden_features_text(parts)


def features_hidden_by_paint(faces: Sequence[Face], damage: np.ndarray, *,
                             number: Callable[[int], int] | None = None) -> str | None:
    """:func:`covered_features_message` before a restore: what the damage painted on a photo
    (``damage``, its size, > 0 damaged) hides of the eyes, nose and mouth of its faces switched on,
    for the window to say as a stroke ends (QA: said only after the restore, when the smile had been
    redrawn closed). ``number`` as in :func:`spared_message`, of a position in ``faces``."""
    number = number or (lambda position: position + 1)
    height, width = damage.shape[:2]
    parts = []
    for position, face in enumerate(faces):
        if not face.enabled:
            continue
        points = np.asarray(face.landmarks, dtype=np.float64).reshape(-1, 2)
        reach = 2.0 * float(np.hypot(*(points[1] - points[0]))) + 1.0  # (the face's oval and features lie within)
        left, top = (max(0, int(v - reach)) for v in points.mean(axis=0))
        right, bottom = (int(v + reach) + 1 for v in points.mean(axis=0))
        covered = covered_features(damage[top : min(height, bottom), left : min(width, right)], points - (left, top))
        if covered:
            parts.append(f"face {number(position)}: {', '.join(covered)}")
    return _hidden_features_text(parts)


def _hidden_features_text(parts: list[str]) -> str | None:
    """The words of :func:`covered_features_message` for ``parts`` ("face 1: the mouth", …)."""
    if not parts:
        return None
    whole = any(part.endswith("most of the face") for part in parts)
    return (f"The damage marked hides features ({'; '.join(parts)}). The prior draws them anew, knowing nothing "
            "of the person's own, so they may come back smoothed or closed"
            + ("; a face mostly under the mask has too little left to restore from and comes back as a blur "
               "or a ghost of a face, not the person. Where" if whole else ": where")
            + " the eyes, nose or mouth are not damaged themselves, leave them unpainted (zoom in for a finer "
            "stroke along a scratch).")


class DamageMask(NamedTuple):
    """A damage mask read from a file: ``photo``, the photo's size; ``crop``, the one face's aligned
    crop mask as the file gave it (None for a mask of the photo's size). The crop mask is the face's
    own: carried onto the photo and back it would grow by both warps' conservative dilation."""

    photo: np.ndarray
    crop: np.ndarray | None = None


def read_damage(path: Path, photo: Photo, faces: Sequence[Face], engine: Engine, *, aligned: bool = False) -> DamageMask:
    """The damage mask in file ``path``, as a mask of ``photo``'s size (and the face's crop mask).

    The file is as large as the photo, or as the engine's aligned face crop: then it belongs to the
    photo itself with ``aligned``, else to the one face restored (several faces: :class:`MaskError`).
    """
    a_face = aligned or any(f.enabled for f in faces)  # (batch QA: a crop's size offered for a faceless photo)
    mask, covers = read_mask(path, width=photo.width, height=photo.height, crop_size=engine.face_size if a_face else None)
    if covers == "photo":
        return DamageMask(mask)
    if aligned:
        sx, sy = engine.face_size / photo.width, engine.face_size / photo.height  # as the crop was resized
        affine = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]])
        return DamageMask(mask_to_photo(mask, affine, photo.width, photo.height), mask)
    enabled = [f for f in faces if f.enabled]
    if len(enabled) != 1:
        raise MaskError(f"damage mask {path.name} is the size of a face crop, but {len(enabled)} faces are restored in "
                        f"{photo.path.name if photo.path else 'the photo'}: give a mask of the photo's size "
                        f"({photo.width}×{photo.height}), or one face.")
    affine = alignment_transform(enabled[0].landmarks, engine.template)
    return DamageMask(mask_to_photo(mask, affine, photo.width, photo.height), mask)


def output_extension(prefs: Preferences) -> str | None:
    """The extension of ``prefs.export_format``; None keeps the original's."""
    return EXTENSIONS[format_for("", prefs.export_format)] if prefs.export_format else None


def named_as_settings_say(saved: Path, source: Path, prefs: Preferences) -> bool:
    """Whether the file ``saved``, a result of ``source``, has the name and type ``prefs`` give a
    result of it (its pattern and format; a name numbered because the plain one was taken, too)."""
    try:
        stem, suffix = output_file_name(source, pattern=prefs.name_pattern, ext=output_extension(prefs))
    except ExportError:  # the settings give it no name (the photo's is too long for one): not theirs
        return False
    return export.is_numbered_name(saved, Path(stem + suffix))


def output_format(source: Path | None, prefs: Preferences) -> str:
    """The Pillow format the result of ``source`` is written in (``prefs.export_format``, else the original's)."""
    return format_for("x" + result_extension(source or Path("pasted.png"), output_extension(prefs)))


def output_path(source: Path, prefs: Preferences, *, folder: Path | None = None, fields: dict[str, Any] | None = None) -> Path:
    """Where the result of ``source`` goes: ``folder``, else ``prefs.output_folder``, else beside it,
    named by ``prefs.name_pattern`` (``_2``, ``_3``, … appended while the name is taken)."""
    folder = folder or _output_folder(source, prefs)
    return default_output_path(source, folder=folder, pattern=prefs.name_pattern, ext=output_extension(prefs), fields=fields)


def _output_folder(source: Path, prefs: Preferences) -> Path:
    """The folder results of ``source`` go to: ``prefs.output_folder``, else the photo's own; for an
    image pasted into the window (kept in faceapp's own hidden folder), the user's Pictures folder."""
    if prefs.output_folder:
        return Path(prefs.output_folder).expanduser()
    if os.path.realpath(source.parent) == os.path.realpath(paths.pasted_dir()):
        return paths.pictures_dir()
    return source.parent


def suggested_output_path(source: Path, prefs: Preferences) -> Path:
    """A name to offer for the result of ``source`` (Save as): :func:`output_path`'s, or, when the
    settings give it none (the photo's name too long for a result's), the photo's name shortened
    until "_restored" and the result's extension fit a file name, in the folder it would go to."""
    try:
        return output_path(source, prefs)
    except ExportError:
        tail = f"_restored{result_extension(source, output_extension(prefs))}"
        stem = source.stem
        while stem and export.name_length(stem + tail) > export.MAX_NAME_LENGTH - 16:  # (room for a "_2")
            stem = stem[:-1]
        return _output_folder(source, prefs) / f"{stem.rstrip(' .') or 'photo'}{tail}"


def write_result(result: PhotoResult, dest: Path, *, quality: int, fmt: str | None = None,
                 overwrite: bool = False, source: Path | None = None, keep_16_bits: bool = True,
                 metadata: str = "all", given_faces: Sequence[Sequence[float]] = (), **options: Any) -> Path:
    """Write the result as its faces' choices stand, with metadata and provenance (atomic; never
    overwrites unless asked). ``source``: the photo file it was restored from, named in the
    provenance (name and size) so a later run can tell its results from another photo's.
    ``keep_16_bits``: a 16-bit photo's result is written in 16 bits where the format holds them
    (:func:`faceapp.core.sixteen_bit.writes_16_bit`; the file is read again for them).
    ``metadata``: what it keeps of the photo's (:func:`faceapp.core.sharing.shared_photo`); with
    "none" the provenance does not name the photo's file either (nor can ``--skip-existing`` then
    tell the result as the photo's). ``given_faces``: the faces the command line was given (--face-box,
    --face-landmarks: their numbers), recorded with the face selection for :func:`settings_changed_since`.
    ``options``: png_compress_level, webp_method, unique, jpeg_optimize_max_pixels (see export_photo)."""
    image, alpha = result_pixels(result, format_for(dest, fmt), keep_16_bits=keep_16_bits)
    provenance = result.provenance()  # (after the pixels: it names the grain each face got, measured there)
    provenance["metadata"] = metadata  # (review: a resumed batch told a result with GPS from one without)
    if given_faces and "face_selection" in provenance:
        provenance["face_selection"]["given_faces"] = [list(given) for given in given_faces]
    if source is not None and metadata != "none":
        provenance["source"] = source_record(source, result.photo)
    return export.export_photo(image, alpha, shared_photo(result.photo, metadata), dest, format=fmt,
                               quality=quality, provenance=provenance, overwrite=overwrite, **options)


def result_pixels(result: PhotoResult, fmt: str, *, keep_16_bits: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """The pixels (RGB, alpha or None) that writing ``result`` as ``fmt`` writes: 16 bits per
    channel where the photo had them, the format holds them and ``keep_16_bits`` (unless the file
    cannot be read again in 16: then 8, as the log says); else the 8-bit composite."""
    if keep_16_bits and sixteen_bit.writes_16_bit(result.photo, fmt):
        pixels = sixteen_bit.read_16_bit(result.photo, screen=result.screen)
        if pixels is not None:
            return sixteen_bit.composite_16_bit(result, pixels)
    return result.composite(), result.alpha


def source_record(source: Path, photo: Photo | None = None) -> dict[str, Any]:
    """How a result's provenance names the photo it was restored from: its file name, size and
    SHA-256 (two scans of one size and name differ in it); those ``photo`` recorded when it read
    the file, where it did (the file may have been replaced since: QA), else the file's now."""
    if photo is not None and photo.file_sha256 is not None and photo.path is not None and photo.path.name == Path(source).name:
        return {"name": Path(source).name, "bytes": photo.file_bytes, "sha256": photo.file_sha256}
    try:
        size = Path(source).stat().st_size
    except OSError:
        size = None
    return {"name": Path(source).name, "bytes": size, "sha256": _sha256(source)}


def _sha256(path: Path) -> str | None:
    """The file's SHA-256 (hex), or None when it cannot be read."""
    try:
        return file_sha256(path)
    except OSError:
        return None


def is_result_of(result_file: Path, source: Path) -> bool:
    """Whether ``result_file`` is faceapp's result of the photo ``source`` (by its provenance): the
    same name and size, and the same SHA-256 where the result recorded one (results written before
    it was recorded are matched by name and size)."""
    provenance = export.read_provenance(result_file)
    recorded = provenance.get("source") if provenance is not None else None
    if not isinstance(recorded, dict):
        return False
    try:
        size = Path(source).stat().st_size
    except OSError:
        return False
    name = recorded.get("name")  # (spelt as on the disk it was written from: unicode QA)
    if not isinstance(name, str) or not same_name(name, Path(source).name) or recorded.get("bytes") != size:
        return False
    return "sha256" not in recorded or recorded["sha256"] == _sha256(source)


def is_result_of_another_version(result_file: Path, source: Path) -> bool:
    """Whether ``result_file`` is faceapp's result of a photo named as ``source`` that was not the
    file ``source`` is now (another size, or SHA-256): an earlier version of it, edited since."""
    provenance = export.read_provenance(result_file) if result_file.is_file() else None
    recorded = provenance.get("source") if provenance is not None else None
    return (isinstance(recorded, dict) and isinstance(recorded.get("name"), str)
            and same_name(recorded["name"], Path(source).name) and not is_result_of(result_file, source))


def earlier_result(dest: Path, source: Path, *, prefer: Callable[[Path], bool] | None = None) -> Path | None:
    """faceapp's result of ``source`` written earlier under the name ``dest`` or, that name being
    taken then (by another photo's result or a file of the user's), under the next numbered one
    (``STEM_2.EXT``, …, as an export without overwriting names it); None when there is none.
    ``prefer``: of several such results (two runs at other settings wrote one each), the first it
    accepts, else the first (sceptic QA: a resume at the second run's settings found the first's)."""
    first = None
    for candidate in export.numbered_names(dest):
        if not candidate.exists():
            break
        if candidate.is_file() and is_result_of(candidate, source):
            if prefer is None or prefer(candidate):
                return candidate
            first = first or candidate
    return first


def settings_changed_since(result_file: Path, now: Preferences, *, sparing_matters: bool = True,
                           weights: Mapping[str, str] | None = None, default_fidelity: float | None = None,
                           refine: int | None = None, face_selection: Mapping[str, Any] | None = None) -> list[str]:
    """What a restore with ``now`` (resolved: :func:`resolved_preferences`, once a run) would do
    otherwise than the one that wrote ``result_file``, as "fidelity 0.80, now 0.90" phrases (empty
    when nothing, or when the file says too little or cannot be read as faceapp wrote it): the
    model, a fidelity given, the step count, eta, the schedule, the texture polish, the upscale,
    grain matching, sharp-face sparing, a precision given and the first seed; and from the file
    itself, a JPEG's quality and whether it holds 16 bits where 8 are asked now. ``sparing_matters``: false for a model without a sparing ramp, which
    restores alike with sparing on or off. ``weights``: the SHA-256 of each file of ``now``'s model
    by name (its manifest's), where known: a result the same model made with other weights (an
    earlier release of it) is made otherwise too (upgrade QA: a batch resumed after the bundled model
    changed kept the old model's results without a word). A resumed batch (--skip-existing) keeps
    such a result and says so. ``default_fidelity``: the model's own, compared where ``now`` gives
    none; ``refine``: the refinement passes each face gets now (the command line's --refine);
    ``face_selection``: how faces are chosen now, as a result's provenance records it (concurrency
    QA: a resume kept a result of --faces largest under --faces all, an unrefined one under
    --refine 2, and one made at fidelity 0.95 when none was given now, all without a word)."""
    try:
        record = export.read_provenance(result_file) or {}
        changed = _settings_changed(record, now, sparing_matters=sparing_matters, default_fidelity=default_fidelity,
                                    refine=refine, face_selection=face_selection)
        then = record.get("model_weights")
        if weights and isinstance(then, dict) and then and record.get("model") == now.model \
                and dict(then) != dict(weights):
            changed.insert(0, f"model {now.model} of another release (other weights), now this one")
        return changed + _file_changed(result_file, now)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:  # a record not as faceapp writes it
        log.warning("the settings recorded in %s cannot be compared: %s", result_file, exc)
        return []


def damage_changed_since(result_file: Path, mask_file: Path | None) -> list[str]:
    """Whether a damage mask is given now (``mask_file``) where the restore that wrote
    ``result_file`` had none, or the other way round, or the mask was changed since, as a phrase for
    :func:`settings_changed_since`'s list (batch QA: a mask added to the mask folder after the photo
    was restored was skipped without a word, the result left unrepaired; review: so was a mask
    painted over again). A mask that marks nothing is as none (no result records one). A mask is
    said changed when its damage differs from what the result records (a copied folder's masks, the
    same, are not; its file's date is not trusted either way: a copy without dates made the result
    newer than a mask painted over since, portability review)."""
    try:
        provenance = export.read_provenance(result_file) or {}
        had = provenance.get("damage")
        recorded = ({(had or {}).get("sha256")} | {(face.get("damage") or {}).get("sha256")
                                                    for face in provenance.get("faces") or ()}) - {None}
    except (TypeError, ValueError, AttributeError):
        return []
    if mask_file is None:
        return ["a damage mask, now none"] if had else []
    marked = mask_file_marks(mask_file)  # (read once)
    marks = marked is not None and bool(marked.any())
    if not had:  # (one marking nothing: as none, review)
        return [f"no damage mask, now {mask_file.name}"] if marks else []
    if marked is not None and mask_summary(marked)["sha256"] in recorded:
        return []
    # (one cleared to black since is as none: review)
    return [f"damage mask {mask_file.name} changed since" if marks else "a damage mask, now none"]


def _file_changed(result_file: Path, now: Preferences) -> list[str]:
    """What of ``now`` the result file shows it was written otherwise (QA: --8-bit and --quality 80
    on a resumed batch kept 16-bit and quality-95 results without a word)."""
    changed = []
    result = probe_photo(result_file)
    if result is None:
        return changed
    quality = jpeg_file_quality(result_file) if result.format == "JPEG" else None
    # (the estimate is exact from 14 to 98; 99 and 100 read one less, lower qualities more)
    if quality is not None and min(quality, now.quality) >= _QUALITY_TOLD_FROM and abs(quality - now.quality) > 1:
        changed.append(f"quality {quality}, now {now.quality}")
    # 16 bits where 8 are asked; not the other way: a 16-bit photo's result may be 8 bits whatever is
    # asked (a 16-bit CMYK scan, a grey one with alpha as TIFF), and a note on every run would be false
    if result.bits > 8 and not now.keep_16_bits:
        changed.append(f"{result.bits} bits per channel, now 8")
    return changed


#: JPEG qualities from which a result's is told from its file exactly enough to compare.
_QUALITY_TOLD_FROM = 14


def _on_off(value: object) -> str | None:
    return None if value is None else "on" if value else "off"


#: How a result's face selection (recorded by the restore's PhotoSettings, the faces the command line
#: was given by :func:`write_result`) is named in a "made with other settings" note.
_SELECTION_WORDS = {"faces": "faces", "min_face_size": "minimum face size", "unsure_faces": "unsure faces",
                    "given_faces": "faces given"}


def _settings_changed(record: dict, now: Preferences, *, sparing_matters: bool = True,
                      default_fidelity: float | None = None, refine: int | None = None,
                      face_selection: Mapping[str, Any] | None = None) -> list[str]:
    pairs: list[tuple[str, Any, Any]] = [("model", record.get("model"), now.model),
                                         ("upscale", record.get("upscale"), now.upscale),
                                         ("schedule", record.get("schedule"), now.schedule),
                                         ("eta", record.get("eta"), now.eta),
                                         ("texture polish", record.get("polish_timestep"), now.polish_timestep),
                                         ("grain matching", _on_off(record.get("match_grain")), _on_off(now.match_grain)),
                                         ("sharp-face sparing", _on_off(record.get("spare_sharp_faces")),
                                          _on_off(now.spare_sharp_faces) if sparing_matters else None),
                                         # (written before it was a setting: all of the photo's)
                                         ("metadata", record.get("metadata", "all"), now.metadata)]
    # (smoothing that was on and found no printed screen made the result it would make off)
    if "descreened" in record or record.get("descreen") is False:
        pairs.append(("printed-dot smoothing", _on_off(record.get("descreen")), _on_off(now.descreen)))
    if now.precision != "auto":  # ("auto" is what this machine measures best: a record from another is no change)
        pairs.append(("precision", record.get("precision"), now.precision))
    if now.schedule == "fast":
        pairs.append(("steps", record.get("steps"), now.steps))
    fidelity = now.fidelity if now.fidelity is not None else default_fidelity
    if fidelity is not None:
        pairs.append(("fidelity", record.get("fidelity"), fidelity))
    faces = record.get("faces") or []
    if faces and faces[0].get("seeds"):
        pairs.append(("first seed", faces[0]["seeds"][0], now.base_seed))
    if refine is not None and faces:  # (every face of a command-line run is refined alike)
        pairs.append(("refinement passes", max(int((face.get("refine") or {}).get("passes", 0)) for face in faces),
                      refine))
    recorded = record.get("face_selection")
    if isinstance(recorded, dict) and face_selection:
        given_then, given_now = recorded.get("given_faces") or [], face_selection.get("given_faces") or []
        if given_then != given_now:  # (boxes and landmarks: told as given otherwise, not spelt out)
            pairs.append(("faces given", "these" if given_then else "none", "these" if given_now else "none")
                         if bool(given_then) != bool(given_now) else ("faces given", "otherwise", "these"))
        elif not given_now:  # (faces given are restored whatever the selection: sceptic QA)
            for key, wanted in face_selection.items():
                if key != "given_faces":
                    then = recorded.get(key)
                    pairs.append((_SELECTION_WORDS.get(key, key), _on_off(then) if isinstance(wanted, bool) else then,
                                  _on_off(wanted) if isinstance(wanted, bool) else wanted))
    changed = []
    for name, then, wanted in pairs:
        if then is None or wanted is None:
            continue
        if isinstance(wanted, float) or isinstance(then, float):
            if abs(float(then) - float(wanted)) >= 0.005:
                changed.append(f"{name} {float(then):.2f}, now {float(wanted):.2f}")
        elif then != wanted:
            changed.append(f"{name} {then}, now {wanted}")
    return changed
