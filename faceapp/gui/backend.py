"""The GUI's door to the core: builds the generator jobs the worker runs (no Qt here).

Every method that does real work returns a *job* (``job(should_cancel) -> Generator``) for
:class:`faceapp.gui.worker.TaskRunner`; nothing here touches widgets. Engines and the face
detector are loaded lazily on the worker thread and cached until the model or device changes;
what they bring in is then frozen out of the garbage collector (:mod:`faceapp.gui.heap`).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faceapp import __version__
from faceapp.gui.heap import freeze_long_lived_objects
from faceapp.gui.settings_store import AppPreferences

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"})

EngineFactory = Callable[[AppPreferences], Any]
DetectorFactory = Callable[[AppPreferences], Any]


@dataclass
class PhotoEntry:
    """One loaded photo and everything the window knows about it."""

    path: Path
    photo: Any = None  # core Photo
    faces: list[Any] = field(default_factory=list)  # core Face, in detector order
    result: Any = None  # core PhotoResult of the last run
    composite: np.ndarray | None = None
    composite_choice: tuple[int, ...] = ()  # the candidate of each face that ``composite`` shows
    state: str = "loading"
    run_seconds: float | None = None
    saved_to: Path | None = None
    saved_for: tuple[Any, tuple[int, ...]] | None = None  # the (result, choice) saved_to shows


@dataclass(frozen=True)
class ExportSnapshot:
    """A restored photo as it stood when the user asked to save it: what an export writes.

    Gallery clicks, "More" candidates or a new restore made while the export runs change the
    entry, never the snapshot: ``result`` is a copy of the core result whose choices are fixed
    (it shares the pixel arrays, which the window replaces but never writes into).
    """

    source: Path
    photo: Any
    origin: Any  # the entry's result object the snapshot was taken from
    result: Any
    choice: tuple[int, ...]
    composite: np.ndarray | None  # None: the composite of ``choice`` is still to be made
    provenance: dict[str, Any]


@dataclass(frozen=True)
class ExportStep:
    """Progress of an export job: photo ``index`` of ``total`` is about to be written
    (``written`` is None) or has just been written to ``written``."""

    index: int
    total: int
    snapshot: ExportSnapshot
    written: Path | None = None


@dataclass(frozen=True)
class RestoreOutcome:
    """What a restore job returns: the result, its composite and how long it took."""

    result: Any
    composite: np.ndarray
    seconds: float
    model: str


def choice_of(result: Any) -> tuple[int, ...]:
    """Which candidate each face of a photo result shows."""
    return tuple(face.chosen for face in result.faces)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Photo files among ``paths``; folders contribute their photos (not recursive), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES))
        elif path.suffix.lower() in PHOTO_SUFFIXES or path.is_file():
            found.append(path)
    return found


def _default_engine(prefs: AppPreferences) -> Any:
    from faceapp.core.engine import load_engine

    return load_engine(prefs.model or None, device=prefs.device)


def _default_detector(prefs: AppPreferences) -> Any:
    from faceapp.core.faces import FaceDetector

    return FaceDetector(device="cpu")


class CoreBackend:
    """Builds jobs over the core pipeline; engine and detector come from replaceable factories."""

    def __init__(self, *, engine_factory: EngineFactory = _default_engine,
                 detector_factory: DetectorFactory = _default_detector) -> None:
        self._engine_factory = engine_factory
        self._detector_factory = detector_factory
        self._lock = threading.Lock()  # guards the cached objects; never held during a load
        self._build_lock = threading.Lock()  # one engine load at a time (worker threads only)
        self._engine: Any = None
        self._engine_key: tuple[str, str] | None = None
        self._engine_generation = 0  # bumped by forget_engine: a load in flight is not cached
        self._detector: Any = None

    # ---- cached heavy objects (called on the worker thread) --------------------------------
    def engine(self, prefs: AppPreferences) -> Any:
        key = (prefs.model, prefs.device)
        with self._build_lock:
            with self._lock:
                if self._engine is not None and self._engine_key == key:
                    return self._engine
                self._engine, self._engine_key = None, None  # free the old one before loading
                generation = self._engine_generation
            engine = self._engine_factory(prefs)  # seconds: the UI thread must not wait for it
            with self._lock:
                if generation == self._engine_generation:
                    self._engine, self._engine_key = engine, key
            freeze_long_lived_objects()
            return engine

    def detector(self, prefs: AppPreferences) -> Any:
        with self._lock:
            if self._detector is None:
                self._detector = self._detector_factory(prefs)
                freeze_long_lived_objects()
            return self._detector

    def forget_engine(self) -> None:
        """Drop the cached engine (after the model files changed); never waits for a load."""
        with self._lock:
            self._engine, self._engine_key = None, None
            self._engine_generation += 1

    # ---- jobs ------------------------------------------------------------------------------
    def load_job(self, path: Path, prefs: AppPreferences):
        """Read a photo and detect its faces; returns ``(photo, faces)``."""

        def job(should_cancel) -> Generator[str, None, tuple[Any, list[Any]]]:
            from faceapp.core.photo_io import read_photo

            photo = read_photo(path)
            yield "detecting faces"
            faces = list(self.detector(prefs).detect(photo.rgb))
            return photo, faces

        return job

    def restore_job(self, entry: PhotoEntry, prefs: AppPreferences):
        """Restore the enabled faces of ``entry``; yields core ``Progress``, returns RestoreOutcome."""
        photo, faces = entry.photo, list(entry.faces)

        def job(should_cancel) -> Generator[Any, None, RestoreOutcome]:
            from faceapp.core.memory import check_memory_budget
            from faceapp.core.photo_restore import iter_restore_photo

            check_memory_budget(photo.width, photo.height, upscale=prefs.upscale, fmt=_pillow_format(photo, prefs),
                                alpha=photo.alpha is not None, name=entry.path.name)
            started = time.perf_counter()
            yield "loading model"
            engine = self.engine(prefs)
            result = yield from iter_restore_photo(photo, faces, engine, photo_settings(prefs),
                                                   should_cancel=should_cancel)
            composite = result.composite()
            return RestoreOutcome(result, composite, time.perf_counter() - started,
                                  getattr(engine, "name", ""))

        return job

    def more_job(self, result: Any, face_index: int, prefs: AppPreferences, count: int):
        """Sample ``count`` more candidates of one face with new seeds; yields core ``Progress``.

        The candidates are added to ``result`` when all are done (a cancelled run adds none);
        the face's choice, and so the composite, is unchanged. Returns the new seeds.
        """

        def job(should_cancel) -> Generator[Any, None, list[int]]:
            from faceapp.core.photo_restore import iter_add_candidates

            yield "loading model"
            engine = self.engine(prefs)
            return (yield from iter_add_candidates(result, face_index, engine, count,
                                                   should_cancel=should_cancel))

        return job

    @staticmethod
    def export_job(snapshots: list[ExportSnapshot], destination: Callable[[ExportSnapshot], Path], *,
                   fmt: str | None = None, quality: int, unique: bool = False):
        """Write each snapshot to ``destination(snapshot)`` with provenance metadata; returns the files.

        The destination is asked for just before each file is written, so free names chosen
        for earlier files are taken into account. Yields an :class:`ExportStep` before and
        after each photo; a cancel takes effect between photos. Each file is written whole or
        not at all (the core writes to a temporary name and renames it), and never overwrites.
        With ``unique`` a name another program took meanwhile moves on to the next number.
        """

        def job(should_cancel) -> Generator[ExportStep, None, list[Path]]:
            written = []
            for index, snapshot in enumerate(snapshots):
                yield ExportStep(index, len(snapshots), snapshot)
                written.append(write_export(snapshot, destination(snapshot), fmt=fmt, quality=quality, unique=unique))
                yield ExportStep(index, len(snapshots), snapshot, written[-1])
            return written

        return job

    # ---- quick calls (any thread) ----------------------------------------------------------
    @staticmethod
    def face_from_box(box: tuple[float, float, float, float], *, index: int) -> Any:
        from faceapp.core.faces import face_from_box

        return face_from_box(box, index=index)

    @staticmethod
    def default_output_path(path: Path, prefs: AppPreferences, *, ext: str | None = None) -> Path:
        from faceapp.core.export import default_output_path

        folder = Path(prefs.output_folder) if prefs.output_folder else None
        return default_output_path(path, folder=folder, pattern=prefs.name_pattern,
                                   ext=ext or _extension(prefs.export_format))


def snapshot_for_export(entry: PhotoEntry) -> ExportSnapshot:
    """What saving ``entry`` now writes: its result with the current gallery choices (UI thread)."""
    from faceapp.core.errors import ExportError

    if entry.composite is None or entry.result is None:
        raise ExportError(f"{entry.path.name} is not restored yet: press Restore first.")
    origin = entry.result
    result = dataclasses.replace(origin, faces=[
        dataclasses.replace(face, seeds=list(face.seeds), candidates=list(face.candidates))
        for face in origin.faces])
    choice = choice_of(result)
    composite = entry.composite if entry.composite_choice == choice else None
    return ExportSnapshot(entry.path, entry.photo, origin, result, choice, composite, provenance(result))


def write_export(snapshot: ExportSnapshot, dest: Path, *, fmt: str | None, quality: int, unique: bool = False) -> Path:
    """Composite the snapshot if needed and write it to ``dest`` (any thread; never overwrites;
    with ``unique``, a taken name moves on to the next number)."""
    from faceapp.core.export import export_photo

    composite = snapshot.composite if snapshot.composite is not None else snapshot.result.composite()
    return export_photo(composite, snapshot.result.alpha, snapshot.photo, dest, format=fmt,
                        quality=quality, provenance=snapshot.provenance, overwrite=False, unique=unique)


def photo_settings(prefs: AppPreferences) -> Any:
    """The core's PhotoSettings for these preferences."""
    from faceapp.core.photo_restore import PhotoSettings

    return PhotoSettings(sampler=prefs.sampler, seeds_per_face=prefs.seeds_per_face,
                         base_seed=prefs.base_seed, upscale=prefs.upscale)


def provenance(result: Any) -> dict[str, Any]:
    """A core result's provenance (model, sampler, every face's chosen seed) plus our version."""
    record = dict(result.provenance())
    record["software"] = f"faceapp {__version__}"
    return record


def _pillow_format(photo: Any, prefs: AppPreferences) -> str:
    """The format a restored photo will be saved in, for the memory estimate."""
    from faceapp.core.export import format_for, output_file_name

    return format_for("x" + output_file_name(photo.path or Path("pasted.png"), ext=_extension(prefs.export_format))[1])


def _extension(fmt: str) -> str | None:
    """The file extension for an export format; None keeps the original's (core's choice)."""
    if not fmt:
        return None
    return {"jpeg": ".jpg", "tiff": ".tif"}.get(fmt, f".{fmt}")
