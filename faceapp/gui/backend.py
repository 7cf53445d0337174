"""The GUI's door to the core: wraps the application layer's calls as the generator jobs the
worker runs (no Qt here).

Every method that does real work returns a *job* (``job(should_cancel) -> Generator``) for
:class:`faceapp.gui.worker.TaskRunner`; nothing here touches widgets. The jobs call
:mod:`faceapp.core.application`, as the CLI does, so the same photo and preferences give the same
file. Engines and the face detector are loaded lazily on the worker thread by the core's
:class:`~faceapp.core.application.ModelCache`; what they bring in is then frozen out of the garbage
collector (:mod:`faceapp.gui.heap`).
"""

from __future__ import annotations

import hashlib
import logging
import time
import weakref
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from faceapp.core import application
from faceapp.core.application import DetectorFactory, EngineFactory
from faceapp.core.errors import ExportError, FaceappError, OutOfMemoryError
from faceapp.core.damage import read_mask
from faceapp.core.edit_history import EditHistory
from faceapp.core.export import export_photo, file_stamp, make_output_folder, write_error_message
from faceapp.core.mask_files import mask_for, write_mask
from faceapp.core.memory import memory_limit
from faceapp.core.preferences import Preferences, unprinted
from faceapp.gui.heap import freeze_long_lived_objects

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoRead:
    """A load job's progress once the photo is read, before its faces are found (which takes
    seconds on a large scan): the window can show it meanwhile."""

    photo: Any  # core Photo
    stage: str = "detecting faces"


#: The files saved of one photo that are remembered (to tell that the picture shown is saved already).
SAVES_KEPT = 8


@dataclass(frozen=True)
class SavedFile:
    """A file an export wrote of a photo: ``path``; ``result``, what it was written from (None for
    an earlier run's: such results are not kept alive); ``options``, how
    (:attr:`ExportStep.options`); ``stamp``, the file as written (:func:`faceapp.core.export.file_stamp`)."""

    path: Path
    result: Any
    options: tuple
    stamp: tuple | None


class LoadedPhoto(NamedTuple):
    """What a photo's load job returns: the photo, its faces, how many were too small ("3 faces
    smaller than 16 px left out …") or None, that it lies on its side
    (:func:`~faceapp.core.application.turned_message`) or None, and the damage mask kept beside it
    (:func:`~faceapp.core.mask_files.mask_for`) or None."""

    photo: Any
    faces: list[Any]
    left_out: str | None = None
    lies: str | None = None
    #: looked for on the worker: telling a mask from a photo's twin reads both images (review: read on
    #: the UI thread as the photo opened, a 40 MP twin stalled the window)
    mask_beside: Path | None = None


@dataclass
class PhotoEntry:
    """One loaded photo and everything the window knows about it."""

    path: Path
    photo: Any = None  # core Photo
    faces: list[Any] = field(default_factory=list)  # core Face, in detector order
    result: Any = None  # core PhotoResult (a value): the last run, with the current gallery choice
    damage: Any = None  # core MaskEditor: the damage painted over the photo (made on first use)
    #: what the window shows, catching up with ``result`` off-thread; only while the photo is among
    #: those on screen (``Session.on_screen``), else None: ``result.composite()`` makes it again
    composite: np.ndarray | None = None
    state: str = "loading"
    run_seconds: float | None = None
    error: str | None = None  # what the last job of this photo failed with (None: it did not fail)
    #: its load failed because the file cannot be read (not because its faces could not be found)
    unreadable: bool = False
    #: the files saved of it, the last last (at most SAVES_KEPT): a picture shown again after
    #: another was saved (a gallery pick, grain switched back) is saved already (QA: saved twice)
    saves: list[SavedFile] = field(default_factory=list)
    restored_inputs: Any = None  # :meth:`inputs` when the restore that made ``result`` was queued
    restored_with: tuple | None = None  # the resolved preferences' ``restoration()`` then
    restoring_with: tuple | None = None  # those of the restore queued last (running or waiting)…
    restoring_inputs: Any = None  # …its :meth:`inputs`…
    restore_started: bool = False  # …and whether it has begun
    restore_when_loaded: bool = False  # Restore all was pressed while it was still loading
    #: that the photo seems to lie on its side (:func:`~faceapp.core.application.turned_message`;
    #: None: upright), said in the panel while it is shown (GUI QA: a passing notice only)
    lies: str | None = None
    #: the faces drawn by hand on it (their indices): removing it, or reading it anew, asks first
    #: while no result holds them
    drawn: set[int] = field(default_factory=set)
    #: every number a box drawn on it was given, taken back or not: never given again
    drawn_ever: set[int] = field(default_factory=set)
    #: the faces of boxes taken back by Undo, as they were then (Diffuse anyway set on one, which no edit
    #: records): Redo brings each back so (undo QA: it came back as drawn, the flag lost)
    boxes_taken_back: dict[int, Any] = field(default_factory=dict)
    #: while a gallery choice is being put together: the result the composite shown was made of
    #: (a choice whose composite fails goes back to it)
    shown_choice: Any = None
    #: whether the damage mask found beside it was offered, once it was read (read anew, it is again)
    mask_offered: bool = False
    #: the damage mask kept beside it as it was read (None: none)
    mask_beside: Path | None = None
    #: what Edit ▸ Undo takes back and Redo does again (its damage painted, seeds picked, faces
    #: switched, boxes drawn)
    edits: EditHistory = field(default_factory=EditHistory)
    #: the seed chosen for each face by the results before (detector index → seed and whether a
    #: refinement pass of it; None: its first), which a restore again shows chosen where it can
    picks: dict[int, tuple[int, bool] | None] = field(default_factory=dict)

    @property
    def painted(self) -> bool:
        """Whether damage is painted on it now (strokes taken back or cleared are none)."""
        return self.damage is not None and not self.damage.is_empty()

    @property
    def saved_to(self) -> Path | None:
        """The file saved of it last (None: none yet)."""
        return self.saves[-1].path if self.saves else None

    def enabled_faces(self) -> list[Any]:
        """The faces a restore of this photo restores (those not switched off), in order."""
        return [f for f in self.faces if getattr(f, "enabled", True)]

    def inputs(self) -> tuple:
        """What a restore of this photo starts from besides the preferences: its faces (box, on or
        off) and the damage painted on it."""
        faces = tuple((f.index, tuple(f.box), getattr(f, "enabled", True)) for f in self.faces)
        return faces, self.damage.history if self.damage is not None else ()

    @property
    def outdated(self) -> bool:
        """Whether faces or damage changed since the result was made (a restore would differ)."""
        return self.result is not None and self.restored_inputs is not None and self.inputs() != self.restored_inputs

    def restored_as(self, prefs: Preferences) -> bool:
        """Whether the result shown is what a restore with ``prefs`` (resolved:
        :meth:`CoreBackend.resolved`) would make now: nothing changed in its faces, its damage or
        the preferences a restore depends on."""
        if self.result is None or self.outdated or self.restored_with is None:
            return False
        printed = self.result.printed
        return unprinted(self.restored_with, printed=printed) == prefs.restoration(printed=printed)


@dataclass(frozen=True)
class ExportSnapshot:
    """A restored photo as it stood when the user asked to save it: what an export writes.

    Gallery clicks, "More" candidates or a new restore made while the export runs replace the
    entry's result, never this one: core results are values, so no copy is needed.
    """

    source: Path
    result: Any  # core PhotoResult


@dataclass(frozen=True)
class ExportStep:
    """Progress of an export job: photo ``index`` of ``total`` is about to be written
    (``written`` is None) or has just been written to ``written``."""

    index: int
    total: int
    snapshot: ExportSnapshot
    written: Path | None = None
    options: tuple = ()  # how it was written: (quality, keep_16_bits, metadata)
    #: the folder made for it, where it was not there (the photo's own folder deleted meanwhile: said)
    made_folder: Path | None = None


@dataclass(frozen=True)
class RestoreOutcome:
    """What a restore job returns: the result, its composite and how long it took."""

    result: Any
    composite: np.ndarray
    seconds: float


def _pixels_digest(rgb: np.ndarray, alpha: np.ndarray | None) -> str:
    """A digest of an image's pixels, its size and type with them."""
    digest = hashlib.blake2b(digest_size=20)
    for array in (rgb, alpha):
        if array is not None:
            digest.update(f"{array.shape}{array.dtype}".encode())
            digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


#: where the window's user changes the minimum face size (named in messages)
SMALLEST_FACE_SETTING = "Settings ▸ Smallest face"
SIXTEEN_BIT_SETTING = "Settings ▸ 16-bit photos"
UPSCALE_SETTING = "Settings ▸ Background upscale"
SEEDS_SETTING = "Settings ▸ Seeds per face"
FORMAT_SETTING = "Settings ▸ Format"
QUALITY_SETTING = "Settings ▸ Quality"


class CoreBackend:
    """Builds jobs over the application layer; engine and detector come from replaceable factories."""

    def __init__(self, *, engine_factory: EngineFactory = application.load_engine_for,
                 detector_factory: DetectorFactory = application.load_detector_for) -> None:
        self.models = application.ModelCache(engine_factory=engine_factory, detector_factory=detector_factory)
        self._resolving_registry: Any = None  # read once for :meth:`resolved`, again after the models change
        self._box_detector: Any = None  # the UI thread's own (face_in_box)
        self._frozen_after: dict[str, Callable[[], Any]] = {}  # the engine and the detector loaded last (weakly)

    # ---- cached heavy objects (called on the worker thread) --------------------------------
    def engine(self, prefs: Preferences) -> Any:
        # (seconds on a change: the UI thread must not wait for it)
        return self._frozen_once_loaded("engine", self.models.engine(prefs))

    def detector(self, prefs: Preferences) -> Any:
        return self._frozen_once_loaded("detector", self.models.detector(prefs))

    def _frozen_once_loaded(self, kind: str, model: Any) -> Any:
        """``model``, what is alive frozen out of the collector's sight the first time it is given (it has
        just loaded). Not at every job: that froze the open photos too, and what of them held a cycle
        stayed in memory once they were removed (long-session QA: 210–230 MB a 12 MP scan)."""
        known = self._frozen_after.get(kind)
        if known is None or known() is not model:
            try:  # (weakly: the model given before must go before the next one loads, sceptic QA: two in memory)
                self._frozen_after[kind] = weakref.ref(model)
            except TypeError:  # (a model that cannot be referred to weakly is frozen after at every job)
                self._frozen_after.pop(kind, None)
            freeze_long_lived_objects()
        return model

    def forget_engine(self) -> None:
        """Drop the cached engine (after the model files changed); never waits for a load."""
        self.models.forget_engine()
        self._frozen_after.pop("engine", None)
        self._resolving_registry = None

    # ---- jobs ------------------------------------------------------------------------------
    def load_job(self, path: Path, prefs: Preferences):
        """Read a photo, find its faces as ``prefs`` say (minimum size; faces the selection leaves
        out come switched off) and look for the damage mask kept beside it: a
        :class:`LoadedPhoto`."""

        def job(should_cancel) -> Generator[str, None, LoadedPhoto]:
            from faceapp.core.photo_io import read_photo

            photo = read_photo(path)
            yield PhotoRead(photo)
            found = yield from application.iter_detect_faces(photo, self.detector(prefs), prefs,
                                                             should_cancel=should_cancel)
            left_out = application.too_small_message(found, setting=SMALLEST_FACE_SETTING)
            lies = application.turned_message(found) if found.faces else None  # (said with the faces)
            return LoadedPhoto(photo, found.faces, left_out, lies, mask_for(path.parent, path))

        return job

    def restore_job(self, entry: PhotoEntry, prefs: Preferences):
        """Restore the enabled faces of ``entry``, repairing the damage painted on it; yields core
        ``Progress``, returns RestoreOutcome."""
        photo, faces = entry.photo, list(entry.faces)
        damage = entry.damage.mask() if entry.painted else None

        def job(should_cancel) -> Generator[Any, None, RestoreOutcome]:
            application.check_restore_memory(photo, faces, prefs, application.output_format(photo.path, prefs),
                                             name=entry.path.name, eight_bit_setting=SIXTEEN_BIT_SETTING, damage=damage,
                                             upscale_setting=UPSCALE_SETTING,
                                             limit=memory_limit(base_held=self.models.engine_loaded()))
            started = time.perf_counter()
            yield "loading model"
            engine = self.engine(prefs)
            result = yield from application.iter_restore(photo, faces, engine, prefs, damage=damage,
                                                         should_cancel=should_cancel)
            composite = result.composite()
            return RestoreOutcome(result, composite, time.perf_counter() - started)

        return job

    def more_job(self, result: Any, face_index: int, prefs: Preferences, count: int):
        """Sample ``count`` more candidates of one face with new seeds; yields core ``Progress``.

        Returns ``result`` with the candidates added (a new result; a cancelled run returns
        none); the face's choice, and so the composite, is unchanged.
        """

        from faceapp.core.photo_restore import iter_add_candidates

        return self._engine_job(prefs, lambda engine, cancel: iter_add_candidates(
            result, face_index, engine, count, should_cancel=cancel))

    def resample_job(self, result: Any, face_index: int, prefs: Preferences, *, diffuse_anyway: bool):
        """Sample one face's seeds again with sharp-face sparing off for it (``diffuse_anyway``) or on
        again; yields core ``Progress``, returns ``result`` with that face's candidates replaced."""
        from faceapp.core.photo_restore import iter_resample_face

        return self._engine_job(prefs, lambda engine, cancel: iter_resample_face(
            result, face_index, engine, diffuse_anyway=diffuse_anyway, should_cancel=cancel))

    def refine_job(self, result: Any, face_index: int, prefs: Preferences, passes: int):
        """Refine the chosen candidate of one face ``passes`` times; yields core ``Progress``.

        Returns ``result`` with each pass added as a candidate and the last one chosen.
        """
        from faceapp.core.photo_restore import iter_refine_face

        return self._engine_job(prefs, lambda engine, cancel: iter_refine_face(
            result, face_index, engine, passes, should_cancel=cancel))

    def _engine_job(self, prefs: Preferences, work: Callable[[Any, Callable[[], bool]], Generator[Any, None, Any]]):
        """A job that loads the engine, then runs the core generator ``work(engine, should_cancel)``."""

        def job(should_cancel) -> Generator[Any, None, Any]:
            yield "loading model"
            return (yield from work(self.engine(prefs), should_cancel))

        return job

    @staticmethod
    def export_job(snapshots: list[ExportSnapshot], destination: Callable[[ExportSnapshot], Path], *,
                   fmt: str | None = None, quality: int, unique: bool = False, overwrite: bool = False,
                   keep_16_bits: bool = True, metadata: str = "all"):
        """Write each snapshot to ``destination(snapshot)`` with provenance metadata; returns the files.

        The destination is asked for just before each file is written, so free names chosen
        for earlier files are taken into account. Yields an :class:`ExportStep` before and
        after each photo; a cancel takes effect between photos. Each file is written whole or
        not at all (the core writes to a temporary name and renames it). A taken name is an error;
        with ``unique`` it moves on to the next number, with ``overwrite`` (a name the user chose
        and confirmed) the file is replaced, never when it is the original photo.
        """

        def job(should_cancel) -> Generator[ExportStep, None, list[Path]]:
            written = []
            for index, snapshot in enumerate(snapshots):
                yield ExportStep(index, len(snapshots), snapshot)
                target = destination(snapshot)
                # a name of faceapp's choosing, in the output folder: made when missing, as the CLI does
                made = unique and make_output_folder(target.parent)
                written.append(write_export(snapshot, target, fmt=fmt, quality=quality, unique=unique,
                                            overwrite=overwrite, keep_16_bits=keep_16_bits, metadata=metadata))
                yield ExportStep(index, len(snapshots), snapshot, written[-1], (quality, keep_16_bits, metadata),
                                 target.parent if made else None)
            return written

        return job

    @staticmethod
    def read_mask_job(file: Path, width: int, height: int):
        """Read the damage mask ``file`` for a ``width`` × ``height`` photo
        (:func:`faceapp.core.damage.read_mask`); returns it, HxW uint8, 255 = damaged."""

        def job(should_cancel) -> Generator[None, None, np.ndarray]:
            mask, _covers = read_mask(file, width=width, height=height)
            return mask
            yield  # makes this a generator: the worker drives jobs as generators

        return job

    @staticmethod
    def write_pasted_job(rgb: np.ndarray, alpha: np.ndarray | None, folder: Path, stem: str,
                         written_before: dict[str, tuple[Path, tuple[int, int, int, int]]] | None = None):
        """Write an image that has no file (pasted, or a browser's picture dropped) as the PNG
        ``stem`` (numbered where the name is taken) in ``folder``, made where missing; returns the
        file written. Raises :class:`ExportError` where it cannot be written (a full or read-only disk).
        ``written_before`` maps the pixels' digest to the file each image was written to by such jobs
        before, with its stamp then (:func:`~faceapp.core.export.file_stamp`; only the one thread that runs them touches it): the same
        image pasted again gives that file while it is there unchanged, not a copy (resource QA: each
        paste of one picture wrote a file of its own, and a filmstrip entry)."""

        def job(should_cancel) -> Generator[None, None, Path]:
            digest = _pixels_digest(rgb, alpha)
            before, stamp = (written_before or {}).get(digest, (None, None))
            if before is not None and file_stamp(before) == stamp:
                return before
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ExportError(write_error_message(exc, f"save the pasted image in {folder}", folder)) from exc
            path = export_photo(rgb, alpha, None, folder / f"{stem}.png", unique=True)
            if written_before is not None and (stamp := file_stamp(path)) is not None:
                written_before[digest] = path, stamp
            return path
            yield  # makes this a generator: the worker drives jobs as generators

        return job

    @staticmethod
    def write_mask_job(mask: np.ndarray, dest: Path, photo: Path):
        """Write ``mask`` (painted on ``photo``) as the mask file ``dest``, replacing a mask file
        of faceapp's there, never a photo (:func:`faceapp.core.mask_files.write_mask`); returns
        the file written."""

        def job(should_cancel) -> Generator[None, None, Path]:
            return write_mask(mask, dest, photo=photo, overwrite=True)
            yield  # makes this a generator: the worker drives jobs as generators

        return job

    # ---- quick calls (any thread) ----------------------------------------------------------
    @staticmethod
    def registry() -> Any:
        """The installed models (the model manager and the settings list them)."""
        from faceapp.core.registry import Registry

        return Registry()

    def resolved(self, prefs: Preferences) -> Preferences:
        """``prefs`` with the model and step count a restore would use now made explicit
        (:func:`faceapp.core.application.resolved_preferences`): what results are compared by. Called
        on the UI thread (a slider tick, a damage stroke): the manifests are read once, and again
        after :meth:`forget_engine` (the model files changed); never raises."""
        if self._resolving_registry is None:
            try:
                self._resolving_registry = self.registry()
            except Exception as exc:  # e.g. an unreadable manifest folder: compared as the user set them
                log.warning("the installed models could not be read: %s", exc)
                return prefs
        return application.resolved_preferences(prefs, self._resolving_registry)

    @staticmethod
    def describe_device(name: str, precision: str = "auto") -> str:
        """What a run on device ``name`` in ``precision`` would use, in words, e.g. "CPU (2
        threads), bf16" (raises if the device or the precision is unavailable)."""
        from faceapp.core.devices import describe_device, resolve_device
        from faceapp.core.precision import resolve_precision

        device = resolve_device(name)
        return f"{describe_device(device)}, {resolve_precision(precision, device).name}"

    def face_in_box(self, photo: Any, box: tuple[float, float, float, float], *, index: int,
                    prefs: Preferences) -> tuple[Any, bool]:
        """The face a box drawn on ``photo`` marks (:func:`faceapp.core.faces.face_in_box`), on the
        UI thread: a detector of its own (the worker's may be busy with another photo; made once,
        0.02 s once torch is loaded) looks once in the box's region, 0.01-0.03 s on 2 cores of a
        Xeon (:meth:`~faceapp.core.faces.FaceDetector.detect_once`). Returns the face and whether the
        detector found it; where it found none (or there is no detector), the face a detector's
        box would hold. Raises :class:`~faceapp.core.errors.FaceGeometryError` for a box with no
        face found that is far from a face's shape (:func:`~faceapp.core.faces.face_from_drawn_box`)."""
        from faceapp.core.faces import face_from_drawn_box, located_face_in_box

        if self._box_detector is None:
            try:
                self._box_detector = self.models.another_detector(prefs)
            except (FaceappError, OSError) as error:
                log.warning("no detector for a face box (%s): placed as a detector's box holds a face", error)
                return face_from_drawn_box(box, index=index, photo_size=(photo.width, photo.height)), False
        return located_face_in_box(photo.srgb, box, self._box_detector, index=index)

    @staticmethod
    def default_output_path(path: Path, prefs: Preferences) -> Path:
        return application.output_path(path, prefs)

    @staticmethod
    def suggested_output_path(path: Path, prefs: Preferences) -> Path:
        return application.suggested_output_path(path, prefs)


#: The window writes a JPEG of more pixels than this without Huffman optimisation (a file 3-16 %
#: larger, the same pixels): an optimised JPEG is encoded in one call that holds the window's
#: thread (Python's lock) until it is done, 0.3-0.6 s for a 40 MP result (UI-stall QA), about 40 ms
#: at this size; a plain one streams. The command line optimises up to
#: :data:`faceapp.core.export.JPEG_OPTIMIZE_MAX_PIXELS`.
WINDOW_JPEG_OPTIMIZE_MAX_PIXELS = 3_000_000


def snapshot_for_export(entry: PhotoEntry) -> ExportSnapshot:
    """What saving ``entry`` now writes: its result with the current gallery choices (UI thread)."""
    if entry.result is None:
        raise ExportError(f"{entry.path.name} is not restored yet: press Restore first.")
    return ExportSnapshot(entry.path, entry.result)


def write_export(snapshot: ExportSnapshot, dest: Path, *, fmt: str | None, quality: int, unique: bool = False,
                 overwrite: bool = False, keep_16_bits: bool = True, metadata: str = "all") -> Path:
    """Write the snapshot to ``dest`` as the CLI would (any thread). A taken name is an error,
    unless ``unique`` (it moves on to the next number) or ``overwrite`` (the file is replaced,
    never when it is the original photo). Memory running out meanwhile is an :class:`OutOfMemoryError`
    that says what saves with less (memory QA: a JPEG's save was told to use fewer seeds per face or
    a smaller upscale, which would throw the restore away)."""
    try:
        return application.write_result(snapshot.result, dest, fmt=fmt, quality=quality, unique=unique,
                                        overwrite=overwrite, source=snapshot.source, keep_16_bits=keep_16_bits,
                                        metadata=metadata, jpeg_optimize_max_pixels=WINDOW_JPEG_OPTIMIZE_MAX_PIXELS)
    except Exception as exc:
        from faceapp.core.devices import is_out_of_memory

        if isinstance(exc, FaceappError) or not is_out_of_memory(exc):
            raise
        tiff = "" if dest.suffix.lower() in (".tif", ".tiff") else (  # (already a TIFF: no such advice, review)
            f"Save it as TIFF (Save as…, or {FORMAT_SETTING}), written a band at a time with the least memory, or ")
        raise OutOfMemoryError(f"Out of memory while saving {dest.name}: the restored photo is kept. {tiff}"
                               f"{'c' if tiff else 'C'}lose other programs and save again.") from exc
