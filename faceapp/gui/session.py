"""The window's state: loaded photos, their faces and results, and the jobs that change them.

Widgets never call the core directly: they call a :class:`Session` method, which queues a job
(on the worker thread) or makes a quick change, and then emits a signal the widgets redraw from.
Everything slow on a large photo (restoring, recomposing after a gallery choice, preparing the
images to show, :mod:`faceapp.gui.views`, writing files) happens off the UI thread. Files are
written by a queue of their own, so a Save need not wait for a long restore to end.

Every photo keeps what is slow to make again: the photo, its faces, its result (background and
candidates) and its thumbnails. What only the screen needs, the full-size "before" and "after"
images and the composite, is kept for the photos of :attr:`Session.on_screen` alone (the one shown,
the one shown before it, and more of those shown last within a memory budget): a folder of photos restored at ×2 would otherwise hold several
copies of each at the output size. A photo shown again gets them back from the composer's thread
(:meth:`Session.show`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from faceapp import paths
from faceapp.core.application import (
    covered_features_message,
    descreened_message,
    faces_left_off_with_damage,
    left_off_damage_message,
    named_as_settings_say,
    other_pages_note,
    output_format,
    resample_message,
    result_notes,
    spared_faces,
    spared_message,
)
from faceapp.core.errors import ExportError, FaceGeometryError, ImageError, NoFaceFoundError
from faceapp.core.export import (
    LOSSY_FORMATS,
    destination_problem,
    file_identity,
    file_stamp,
    format_for,
)
from faceapp.core.faces import DetectionProgress, same_place
from faceapp.core.host_memory import return_freed_memory
from faceapp.core.edit_history import Edit
from faceapp.core.mask_editing import MaskEditor, step_words
from faceapp.core.memory import MemoryBudgetError, check_recomposite_memory
from faceapp.core.photo_inputs import already_open_as, expand_paths, not_opened_text, opened_as, spelling_key
from faceapp.core.photo_io import changed_since_read
from faceapp.core.photo_restore import carry_choices, chosen_seeds
from faceapp.core.preferences import Preferences
from faceapp.core.progress import StepClock
from faceapp.core.sixteen_bit import writes_16_bit
from faceapp.core.wording import counted, duration, listed, percent, time_left
from faceapp.gui.backend import (
    FORMAT_SETTING,
    QUALITY_SETTING,
    SAVES_KEPT,
    SEEDS_SETTING,
    SIXTEEN_BIT_SETTING,
    UPSCALE_SETTING,
    CoreBackend,
    ExportSnapshot,
    ExportStep,
    LoadedPhoto,
    PhotoEntry,
    RestoreOutcome,
    SavedFile,
    snapshot_for_export,
)
from faceapp.gui.composer import Composer
from faceapp.gui.job_queue import JobQueue, QueuedJob
from faceapp.gui.photo_words import TO_OPEN, Album, detector_index, faces_state
from faceapp.gui.views import Rendered, ShownEarly, render, shown_early, then
from faceapp.gui.worker import Job, TaskRunner

log = logging.getLogger(__name__)


def no_face_found(path: Path, photo: Any, left_out: str | None = None) -> NoFaceFoundError:
    """The error for ``photo`` (read from ``path``) without a face; its ``path`` lets the notice's
    button show that photo. ``left_out``: why faces the detector found were not kept (too small),
    when that is the reason. A photo of several pages says only its first was looked at."""
    error = NoFaceFoundError((f"No face was found in {path.name}." if left_out is None
                              else f"No face large enough was found in {path.name}: {left_out}.")
                             + other_pages_note(photo))
    error.path = path
    return error


#: How many photos keep their full-size images and composite at least: the one shown and the one
#: shown before it, so that going back to it is instant …
PHOTOS_KEPT_FULL_SIZE = 2
#: … and more of those shown last while their full-size images and composites together take at most
#: this many bytes (about: three bytes a pixel of the photo, and of the result twice), so that
#: flipping through a few ordinary photos never waits for them. A 12 MP photo restored at ×2 takes
#: 0.32 GB, a 1 MP one at ×1 9 MB.
FULL_SIZE_BUDGET_BYTES = 512 * 2**20


def _time_left(clock: StepClock, face_index: int, face_count: int, step: int, total_steps: int) -> str:
    """What a job says of the time it has left (e.g. " · about 30 s left") at step ``step`` of
    ``total_steps`` of face ``face_index`` (of ``face_count``), from the pace of its steps on
    ``clock`` (not of a model loading before them); "" while too soon to tell."""
    if not total_steps:
        return ""
    now = time.monotonic()
    clock.advance(face_index, step, now)
    left = time_left(now - clock.started, clock.steps, clock.steps_left(face_index, face_count, step, total_steps))
    return f" · {left}" if left is not None else ""


#: A restore that takes longer than this says once how to restore quicker (fewer seeds).
SLOW_RESTORE_SECONDS = 15.0
#: The jobs that make a new version of one face of a restored photo (one at a time per photo).
_FACE_JOBS = ("more", "refine", "resample")
#: The jobs Cancel stops: restores, and the face jobs.
_CANCELLED_KINDS = ("restore", *_FACE_JOBS)
#: The status bar's name of a face job's run, by its progress label: the seed gallery's button that
#: asked for it (GUI QA: "Last run 1.7 s" of a Diffuse anyway, beside the panel's "Restored in 1.6 s")
_RUN_NAMES = {"more candidates": "More", "refining": "Refine", "diffusing": "Diffuse anyway", "sparing": "Spare again"}
class Session(QObject):
    """Loaded photos and the work on them; see the module docstring."""

    entryAdded = Signal(object)  # Path
    entryChanged = Signal(object)  # Path
    entryRemoved = Signal(object)  # Path
    progress = Signal(object, str, float, object)  # path, text, fraction (-1: unknown), preview
    workingOn = Signal(object, int)  # path, the detector index of the face being sampled now
    runFinished = Signal(object, float, str)  # path, seconds, which run ("Restore", "More", "Refine", "Diffuse anyway")
    busyChanged = Signal(bool)
    error = Signal(object)  # BaseException
    # (the remarks' texts go as Python objects: a Qt string drops the undecodable bytes of a file name
    # they name, which was then told as another name, "badname.jpg" for bad\xff\xfename.jpg; locale QA)
    info = Signal(object)  # str
    #: a passing remark on one photo's result: text, photo (the window says it while that photo is the
    #: one shown; about another, it is not said)
    note = Signal(object, object)
    #: a remark that explains what the result shows (stays until closed, unlike ``info``): text, photo
    warning = Signal(object, object)
    folderWithoutPhotos = Signal(object)  # FolderListing of a folder given to add_paths that held no photo

    def __init__(self, backend: CoreBackend, prefs: Preferences,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.prefs = prefs
        self.entries: dict[Path, PhotoEntry] = {}
        #: What the window shows of each photo: "before" and "after", ready-made QImages. Every photo
        #: has its thumbnails; the full-size ``image`` only the photos of :attr:`on_screen` keep.
        self.before: dict[Path, Rendered] = {}
        self.after: dict[Path, Rendered] = {}
        #: The photos shown last, the one on screen first (PHOTOS_KEPT_FULL_SIZE, more within
        #: FULL_SIZE_BUDGET_BYTES): they keep their full-size images and composite. A tuple, replaced
        #: whole: jobs read it on their thread.
        self.on_screen: tuple[Path, ...] = ()
        self._album: Album | None = None  # the Restore all under way
        self._quicker_said = False  # the way to quicker restores, said once a session
        self._removing: set[Path] = set()  # photos removed while a job of theirs ran: they go when it ends
        #: each pasted image's file, by its pixels' digest (read and written by the export thread's jobs)
        self._pasted_files: dict[str, tuple[Path, tuple[int, int, int, int]]] = {}
        self._reopened: set[Path] = set()  # … and opened again meanwhile: read again if that job was its load
        self._read: dict[Path, Any] = {}  # photos read whose faces are still being found (core Photo)
        self.runner = TaskRunner(self)
        self.queue = JobQueue(self.runner, self)
        self.queue.busyChanged.connect(self.busyChanged)
        self.queue.ended.connect(self._job_ended)
        self.composer = Composer(self)
        self.composer.composed.connect(self._composed)
        self.composer.photoRendered.connect(self._photo_rendered)
        self.composer.failed.connect(self._preparing_failed)
        self.export_queue = JobQueue(TaskRunner(self, name="faceapp-export"), self)

    @property
    def busy(self) -> bool:
        return self.queue.busy

    @property
    def cancellable(self) -> bool:
        """Whether :meth:`cancel` has something to stop: a restore, or a face's More, Refine or
        resampling, running or waiting, or photos Restore all waits to open (keyboard QA: Cancel
        was offered while photos were only being opened, and did nothing)."""
        jobs = [self.queue.current(), *self.queue.pending()]
        return (any(job is not None and job.kind in _CANCELLED_KINDS for job in jobs)
                or any(entry.restore_when_loaded for entry in self.entries.values()))

    def running_job_text(self) -> str:
        """What runs now, as the start of a sentence ("A restore", "Sampling a face again", …)."""
        current = self.queue.current()
        kind = current.kind if current is not None else ""
        return {"load": "Opening a photo", "restore": "A restore", "more": "Sampling more seeds",
                "refine": "Refining a face", "resample": "Sampling a face again"}.get(kind, "A restore")

    def shutdown(self) -> None:
        """Stop restoring at once; wait for a file being written (see ExportFlow.may_close)."""
        self.queue.cancel()
        self.runner.shutdown()
        self.composer.shutdown()
        self.export_queue.cancel(kinds=("export_all",))
        self.export_queue.runner.shutdown(timeout_ms=600_000)

    # ---- loading ---------------------------------------------------------------------------
    def add_paths(self, items: list[Path], *, restore: bool | None = None) -> list[Path]:
        """Load photos (folders give their photos); returns the newly added paths. A folder that
        held no photo is announced by ``folderWithoutPhotos``."""
        return self.open_paths(items, restore=restore)[0]

    def open_paths(self, items: list[Path], *, restore: bool | None = None) -> tuple[list[Path], list[Path]]:
        """:meth:`add_paths`, returning also every photo ``items`` name (folders give theirs) that is
        open now, in their order, new and open already alike (one listing of the folders)."""
        restore = self.prefs.auto_start if restore is None else restore
        added = []
        photos, empty_folders, not_photos = expand_paths([Path(p) for p in items])
        for listing in empty_folders:
            self.folderWithoutPhotos.emit(listing)
        if not_photos:
            self.info.emit(not_opened_text(not_photos))
        spellings = {spelling_key(path): path for path in self.entries}
        names = []
        for path in photos:
            path = already_open_as(opened_as(path), spellings)
            spellings.setdefault(spelling_key(path), path)
            names.append(path)
            if path in self._removing:  # opened again before its removal took place: it stays (review)
                self._kept_open(path)
            entry = self.entries.get(path)
            if entry is not None and entry.photo is None and entry.state in ("error", "not loaded"):
                entry.state, entry.error = TO_OPEN, None  # could not be opened: read again, it may be mended
                self.entryChanged.emit(path)  # (its notice goes: a new one comes if it fails again)
            elif entry is not None and not self._read_again_if_changed(path, entry):
                continue
            elif entry is None:
                self.entries[path] = PhotoEntry(path=path, state=TO_OPEN)
                added.append(path)
                self.entryAdded.emit(path)
            self.queue.add(QueuedJob(  # full size only on screen (read on the worker: _loaded settles it)
                shown_early(self.backend.load_job(path, self.prefs), full_size=lambda p=path: p in self.on_screen),
                "load", path,
                on_progress=lambda item, p=path: self._load_progress(p, item),
                on_done=lambda value, p=path, r=restore: self._loaded(p, value, r),
                on_failed=lambda error, p=path: self._failed(p, error),
                on_cancelled=lambda p=path: (self._forget_read(p), self._set_state(p, "not loaded")),
            ))
        opened = [path for path in dict.fromkeys(names) if path in self.entries]
        return added, opened

    def _read_again_if_changed(self, path: Path, entry: PhotoEntry) -> bool:
        """Whether ``path``, open already and opened again, is to be read again: its file has changed
        since it was read (GUI race QA: a file replaced by another picture, dropped again, still
        showed the old one, and Save wrote a restore of that under the file's name). It is then
        made as new, in its place; but one with work that reading it again would lose (a restore not
        saved, damage painted, a job running) is kept as it is, and what to do is said."""
        if entry.photo is None or not changed_since_read(entry.photo):
            return False
        losing = ("a job running" if self.is_working(path)
                  else "its restore, not saved" if path in self.unsaved()
                  else "the damage painted on it" if entry.painted
                  else "the face boxes drawn on it" if self.faces_drawn_unrestored(path)  # (review: lost unasked)
                  else None)
        if losing == "a job running":
            self.info.emit(f"{path.name} has changed on disk since it was opened; the window shows it as it was "
                           "while its work runs. Open it again once that is done to read it as it is now.")
            return False
        if losing is not None:
            self.info.emit(f"{path.name} has changed on disk since it was opened; the window shows it as it was, "
                           f"with {losing}. Save the restore, or remove the photo, before opening the file again."
                           if "restore" in losing else
                           f"{path.name} has changed on disk since it was opened; the window shows it as it was, "
                           f"with {losing}. Remove the photo before opening the file again to read it as it is now.")
            return False
        self.info.emit(f"{path.name} has changed on disk since it was opened: read again as it is now.")
        self.entries[path] = PhotoEntry(path=path, state=TO_OPEN)  # (its place in the list kept)
        self.before.pop(path, None)
        self.after.pop(path, None)
        self._read.pop(path, None)
        self.composer.forget(path)
        self.entryChanged.emit(path)
        return True

    def _kept_open(self, path: Path) -> None:
        """``path``, removed while a job of it ran, is opened again before that job stopped: it stays,
        said (GUI race QA: the status bar went on saying it was being removed), and a restore that
        the removal stopped is queued again behind it (the user never cancelled it)."""
        self._removing.discard(path)
        self._reopened.add(path)
        current, entry = self.queue.current(), self.entries.get(path)
        if (current is not None and current.key == path and current.kind == "restore" and entry is not None
                and entry.photo is not None and (entry.enabled_faces() or entry.painted)):
            self.info.emit(f"{path.name} stays open, and its restore, which removing it stopped, starts again.")
            self.restore([path])
        else:
            self.info.emit(f"{path.name} stays open.")

    def paste_image(self, rgb: np.ndarray, alpha: np.ndarray | None = None, *,
                    on_opened: Callable[[Path], None] = lambda path: None,
                    still_wanted: Callable[[], bool] = lambda: True) -> None:
        """Open an image that has no file (pasted, or a browser's picture dropped): it is saved as
        PNG in the user data folder, 16 bits and transparency kept, on the files' queue (drag-and-drop
        QA: a 60 MP image held the window 5 s), then opened and ``on_opened(path)`` called, unless
        ``still_wanted()`` says no by then (the window closing, every photo removed meanwhile: fault
        QA, the pasted photo came back after Remove all, and a closing window asked about its load).
        Where it cannot be saved (a full or read-only disk), :attr:`error` says so."""
        def written(path: Path) -> None:
            if still_wanted():
                self.add_paths([path])
                on_opened(path)

        job = self.backend.write_pasted_job(rgb, alpha, paths.pasted_dir(), time.strftime("pasted-%Y%m%d-%H%M%S"),
                                            self._pasted_files)
        self.export_queue.add(QueuedJob(job, "paste", on_failed=self.error.emit, on_done=written))

    def faces_drawn_unrestored(self, path: Path) -> int:
        """How many faces drawn by hand on photo ``path`` no result holds yet (removing the photo loses
        them: desktop QA, Delete after drawing a box removed it, box and all, without a word)."""
        entry = self.entries.get(path)
        if entry is None:
            return 0
        restored = {face.face.index for face in entry.result.faces} if entry.result is not None else set()
        on = {face.index for face in entry.faces if getattr(face, "enabled", True)}
        return len((entry.drawn & on) - restored)

    def copyable(self, path: Path) -> tuple[np.ndarray, np.ndarray | None] | None:
        """What Copy puts on the clipboard for photo ``path``: its result as shown (the gallery's
        choices), else the photo, as sRGB pixels and alpha; None while it cannot be had yet (not
        read, or its result still being put together)."""
        entry = self.entries.get(path)
        if entry is None or entry.photo is None:
            return None
        if entry.result is None:
            return entry.photo.srgb, entry.photo.alpha
        if entry.composite is None or self.composer.pending(path):  # (fault QA: the seed shown before was copied)
            return None
        return entry.result.photo.to_srgb(entry.composite), entry.result.alpha

    def remove(self, path: Path) -> None:
        """Forget a photo and drop its queued jobs; a photo whose job is running has that job
        stopped (within a step) and goes once it has, the others' work going on (QA: it had to wait
        for Cancel, which dropped a whole Restore all)."""
        if path in self.entries and self._is_running(path):
            self._removing.add(path)
            self.queue.cancel(key=path)
            self.info.emit(f"{path.name} is removed once its work stops (within a step); the other photos' work "
                           "goes on.")
        elif path in self.entries:
            self._removing.discard(path)
            del self.entries[path]
            self.queue.cancel(key=path)  # else a re-added photo would get the old job's result
            self.before.pop(path, None)
            self.after.pop(path, None)
            self._read.pop(path, None)
            self.on_screen = tuple(p for p in self.on_screen if p != path)
            self.composer.forget(path)
            self.entryRemoved.emit(path)
            if not self.busy and not self.export_queue.busy:  # its images went back to the C heap (a job
                return_freed_memory()  # running hands them on when it ends: not trimmed under its feet)
            if self._album is not None:  # (no longer one of its photos: counted as removed)
                for photos in (self._album.ended, self._album.restored):
                    photos.discard(path)
                self._album_ended(path, restored=False)  # (the last one it waited for, maybe)

    def _job_ended(self, key: Any) -> None:
        """A job has ended: a photo removed while it ran goes now; one opened again meanwhile whose
        load was stopped is read again."""
        if key in self._removing:
            self.remove(key)
        elif key in self._reopened:
            self._reopened.discard(key)
            entry = self.entries.get(key)
            if entry is not None and entry.photo is None and not self.opening(key):
                self.open_paths([key], restore=False)

    def _loaded(self, path: Path, value: tuple[LoadedPhoto, Rendered], restore: bool) -> None:
        entry = self.entries.get(path)
        if entry is None or path in self._removing:  # (being removed: it starts nothing, says nothing)
            return
        self._read.pop(path, None)
        (entry.photo, entry.faces, left_out, entry.lies, entry.mask_beside), self.before[path] = value
        self._keep_or_free_full_size(path)
        entry.state = faces_state(entry.faces)
        entry.restore_when_loaded, restore = False, restore or entry.restore_when_loaded
        self.entryChanged.emit(path)
        if not entry.faces:  # what its result would be waits for a face (a box drawn on it)
            self.error.emit(no_face_found(path, entry.photo, left_out))
            self._album_ended(path, restored=False, left_out=True)
            return
        self._result_notes(path, entry)
        for note in (left_out, entry.lies):
            if note:
                self.info.emit(f"{path.name}: {note}.")
        if restore:
            self.restore([path])

    def _result_notes(self, path: Path, entry: PhotoEntry) -> None:
        """What the photo's result will be unlike the photo (only its first page, a JPEG of a PNG
        named .jpg, a JPEG master at a lower quality, RGB for CMYK, 8 or 16 bits): said once, when
        the photo has a face to restore."""
        for note in result_notes(entry.photo, output_format(path, self.prefs), keep_16_bits=self.prefs.keep_16_bits,
                                 eight_bit_setting=f"{SIXTEEN_BIT_SETTING} is off",
                                 quality=self.prefs.quality, quality_setting=QUALITY_SETTING,
                                 format_chosen=bool(self.prefs.export_format),
                                 keep_lossless=lambda kind: f"{FORMAT_SETTING}: {kind}"):
            self.info.emit(f"{path.name} {note}")

    # ---- restoring -------------------------------------------------------------------------
    def restore(self, targets: list[Path]) -> None:
        """Queue a restore of each photo (already queued or running ones are skipped; one whose
        restore is being stopped by Cancel is queued again)."""
        made_with = self.backend.resolved(self.prefs).restoration()
        for path in targets:
            entry = self.entries.get(path)
            if entry is None or entry.photo is None or self.restoring(path):
                continue
            if not entry.enabled_faces() and entry.painted:  # its damage is filled all the same (damage QA: a torn
                self.note.emit(f"{path.name}: no face to restore: only its damage is filled.", path)  # landscape)
            elif not entry.faces:
                self.error.emit(no_face_found(path, entry.photo))  # as when it loaded
                self._album_ended(path, restored=False, left_out=True)
                continue
            elif not entry.enabled_faces():
                self.info.emit(f"Every face of {path.name} is switched off: click a face's number to include it.")
                self._album_ended(path, restored=False, left_out=True)
                continue
            if changed_since_read(entry.photo):  # (damage QA: restored and saved as it was, without a word)
                self.warning.emit(f"{path.name} has changed on disk since it was opened: it is restored as it was "
                                  "then, as the window shows it. To restore the file as it is now, remove the photo "
                                  "and open it again.", path)
            self.queue.add(QueuedJob(
                then(self.backend.restore_job(entry, self.prefs),
                     lambda outcome, p=path: (outcome, render(outcome.result.photo.to_srgb(outcome.composite),
                                                              full_size=p in self.on_screen,
                                                              alpha=outcome.result.alpha))),
                "restore", path,
                on_progress=lambda item, p=path, order=[f.index for f in entry.enabled_faces()], clock=StepClock():
                self._restore_progress(p, item, order, clock),
                on_done=lambda value, p=path, inputs=entry.inputs(): self._restored(p, *value, inputs=inputs,
                                                                                made_with=made_with),
                on_failed=lambda error, p=path: self._failed(p, error),
                on_cancelled=lambda p=path: self._restore_cancelled(p),
            ))
            self._mark_queued(path)
            entry.restoring_with, entry.restoring_inputs, entry.restore_started = made_with, entry.inputs(), False

    def restore_all_targets(self) -> list[Path]:
        """The photos :meth:`restore_all` would restore now: those loaded and not restored as things
        stand (a result's faces, damage or the settings changed since, or no result), and those still
        being opened; not one being restored."""
        resolved = self.backend.resolved(self.prefs)
        return [path for path, entry in self.entries.items() if not self.restoring(path) and (
            (entry.photo is not None and not entry.restored_as(resolved)) or (entry.photo is None and self.opening(path)))]

    def restore_all(self, *, keeping: Collection[Path] = ()) -> None:
        """Queue a restore of every photo whose result is missing or no longer what a restore would
        make (an earlier Restore all cancelled part-way, faces or damage or settings changed since):
        a photo restored as things stand keeps its result and the seeds picked in its gallery. A
        photo still loading is restored once it has loaded (QA: pressed just after opening a folder,
        Restore all left out the 20 photos not yet read, without a word). ``keeping``: photos whose
        results stay as they are all the same (their candidates kept, as the user chose)."""
        loaded = [path for path, entry in self.entries.items() if entry.photo is not None]
        loading = [path for path, entry in self.entries.items() if entry.photo is None and self.opening(path)]
        for path in loading:
            self.entries[path].restore_when_loaded = True
        resolved = self.backend.resolved(self.prefs)
        now = resolved.restoration()

        def stale(path: Path) -> bool:  # its restore queued or running starts from other settings or inputs
            entry = self.entries[path]
            return self.restoring(path) and (entry.restoring_with, entry.restoring_inputs) != (now, entry.inputs())

        dropped = [path for path in filter(stale, loaded)  # one waiting: replaced by a restore as things stand
                   if self.queue.cancel(kinds=("restore",), key=path, running=False, notify=False)]
        busy = [path for path in loaded if self.restoring(path)]  # the one running stays, and queued ones
        kept = [path for path in loaded if path not in busy and self.entries[path].restored_as(resolved)]
        kept_as_asked = [path for path in loaded if path in keeping and path not in busy and path not in kept
                         and self.entries[path].result is not None]
        kept += kept_as_asked
        for path in set(dropped) & set(kept):  # its result stands after all: no longer waiting
            self._restore_cancelled(path)
        if loaded and len(kept) == len(loaded) and not loading:
            self.info.emit("Every photo is restored at these settings. To restore one again with the same "
                           "settings, select it and press Restore.")
            return
        said = []
        if loading:
            said.append(f"{counted(len(loading), 'photo')} still being opened {'is' if len(loading) == 1 else 'are'} "
                        "restored once opened.")
        if len(kept) > len(kept_as_asked):
            count = len(kept) - len(kept_as_asked)
            photos = "1 photo" if count == 1 else f"{count} photos"
            said.append(f"{photos} already restored at these settings kept as they are, with their seeds' picks.")
        if kept_as_asked:
            said.append(f"{listed([path.name for path in kept_as_asked])} kept as "
                        f"{'it is' if len(kept_as_asked) == 1 else 'they are'}, with {'its' if len(kept_as_asked) == 1 else 'their'} candidates.")
        again = [path for path in loaded if path not in kept and path not in busy and self.entries[path].result is not None]
        if again:  # (QA: their results and seed picks were replaced without a word)
            said.append(f"{counted(len(again), 'photo')} restored with other settings, faces or damage "
                        f"{'is' if len(again) == 1 else 'are'} restored again with these (a seed picked there stays "
                        "chosen where it is sampled again).")
        running = [path for path in busy if stale(path)]
        if running:  # (a restore running is not queued twice)
            said.append(f"{running[0].name} is being restored with the settings of when Restore was pressed; "
                        "press Restore on it again once it is done to use these.")
        if said:
            self.info.emit(" ".join(said))
        targets = [path for path in loaded if path not in kept]
        album = {path for path in [*targets, *loading] if path not in busy}
        if self._album is not None:  # pressed again while one runs: the same album, grown
            self._album.photos |= album
        elif len(album) > 1:
            self._album = Album(album, time.monotonic())
        self.restore(targets)

    def cancel(self) -> None:
        """Stop the running restoration within one step and drop queued ones, saying what was
        given up (QA: cancelling Restore all dropped the whole queue, and a cancelled re-restore
        brought the earlier result back, without a word)."""
        kinds = _CANCELLED_KINDS
        self._album = None  # (what it gave up is said below)
        running = self.queue.current()
        dropped = self.queue.cancel(kinds=kinds)
        said = []
        if running is not None and running.kind in kinds and running.key in self.entries:
            earlier = self.entries[running.key].result is not None
            # (it stops at the end of the step it is on: seconds, with a large model on a CPU; GUI QA:
            # "Cancelled" was said while the filmstrip still read "restoring 8 %")
            said.append(f"Cancelling {running.key.name}: it stops at the end of its current step"
                        + (", then shows its earlier result." if earlier else "."))
        stopping = running.key if running is not None and said else None  # (named above: not also as waiting;
        waiting = [q.key.name for q in dropped  # GUI race QA: Restore pressed again while it stopped)
                   if isinstance(q.key, Path) and q.kind == "restore" and q.key != stopping]
        for entry in self.entries.values():  # (Restore all's photos still being opened)
            if entry.restore_when_loaded:
                entry.restore_when_loaded = False
                waiting.append(entry.path.name)
        if waiting:
            said.append(f"Not restored, as they were still waiting: {listed(waiting)}.")
        if said:
            self.info.emit(" ".join(said))
        if running is not None and running.key in self.entries:  # Restore is offered again at once, while
            self.entryChanged.emit(running.key)  # it stops (QA: pressed then, it was greyed out and lost)

    def _album_ended(self, path: Path, *, restored: bool, left_out: bool = False) -> None:
        """``path``'s part in the Restore all under way has ended (``left_out``: without a restore
        run, and so without a number among the photos it counts); the last one says how it went."""
        album = self._album
        if album is None:
            return
        if path in self._removing or path not in self.entries:  # taken off the filmstrip: not a failure
            album.photos.discard(path)  # (fault QA: "0 of 1 photo restored; 1 not (their notices say why)")
            album.left_out.discard(path)
            album.removed.add(path)
        elif path in album.photos and left_out:
            album.photos.discard(path)
            album.left_out.add(path)
        elif path in album.photos:
            album.ended.add(path)
            if restored:
                album.restored.add(path)
        if album.ended >= album.photos and (album.photos or album.left_out or album.removed):
            self._album = None
            count, done = len(album.photos | album.left_out), len(album.restored & album.photos)
            removed = f" ({len(album.removed)} removed)" if album.removed else ""
            if not count:
                self.info.emit("Restore all ended: its photos were removed.")
                return
            self.info.emit(f"Restore all: {done} of {counted(count, 'photo')} restored in "
                           f"{duration(time.monotonic() - album.started)}{removed}"
                           + (f"; {count - done} not (their notices say why)." if done < count else "."))

    def _say_quicker_way(self, path: Path, outcome: RestoreOutcome) -> None:
        """After a slow restore that sampled several seeds of a face, say once how to restore quicker
        (slow-laptop QA: 17 s a photo on one core, 5 s with one seed, and nothing said so)."""
        faces = outcome.result.faces
        seeds = max((len(face.seeds) for face in faces), default=0)  # the run's, not the settings' now (review)
        sampled = len(faces) - len(spared_faces(outcome.result))  # (a spared face costs no seeds)
        if self._quicker_said or seeds < 2 or sampled < 1 or outcome.seconds < SLOW_RESTORE_SECONDS:
            return
        self._quicker_said = True
        self.note.emit(f"{path.name} took {duration(outcome.seconds)}, each face sampled for {seeds} seeds. For "
                       f"quicker restores, {SEEDS_SETTING} 1 samples each face once (More, in the seed "
                       "gallery, samples other seeds of a face when you want them).", path)

    def in_restore_all(self, path: Path) -> bool:
        """Whether ``path`` is one of the photos of the Restore all under way."""
        return self._album is not None and path in self._album.photos

    def _album_text(self, path: Path, fraction: float) -> str:
        """The Restore all's "Photo 3 of 27 (about 2 min left in all) · ", ``fraction`` of ``path`` done,
        its photos weighed by the faces each restores (where found already)."""
        assert self._album is not None
        faces = {photo: len(entry.enabled_faces()) for photo in self._album.photos
                 if (entry := self.entries.get(photo)) is not None and entry.faces}
        return self._album.progress_text(current=path, fraction=fraction, faces=faces)

    def _restore_progress(self, path: Path, item: Any, order: list[int], clock: StepClock) -> None:
        """A restore's progress; ``order``: the detector indices of the faces it restores, in turn;
        ``clock``: this restore's, for the time it has left."""
        if path in self.entries:
            self.entries[path].restore_started = True
        if isinstance(item, str):  # a stage before the steps (loading the model) or after them (enlarging)
            # a stage before the steps (loading) or after them (enlarging): none or all of its faces done
            done = 1.0 if clock.stepped else 0.0  # (not clock.steps: each stage resets it, review)
            in_album = self.in_restore_all(path)  # (Restore all: which photo, review)
            self._stage_progress(path, item, clock, prefix=self._album_text(path, done) if in_album else "")
            return
        count, total = max(1, item.face_count), max(1, item.total_steps)
        fraction = (item.face_index * total + item.step) / (count * total)
        index = order[item.face_index] if item.face_index < len(order) else item.face_index
        which = (f"Face {index + 1}" if count == 1 else f"Face {index + 1} of {count}" if index == item.face_index
                 else f"Face {index + 1} ({item.face_index + 1} of {count})")  # (copy QA: "Face 4 (4 of 4)")
        text = f"{which} · step {item.step} of {total}" if item.total_steps else f"{which} · preparing"
        left = _time_left(clock, item.face_index, count, item.step, item.total_steps)
        if left and self.prefs.upscale > 1:  # (slow-laptop QA: "a few seconds left", then 13 s of enlarging ×4)
            left += f" for the faces, then enlarging ×{self.prefs.upscale}"
        text += left
        if self.in_restore_all(path):
            text = self._album_text(path, fraction) + text
        self.workingOn.emit(path, index)
        self._set_state(path, f"restoring {percent(fraction)}")
        self.progress.emit(path, text, fraction, getattr(item, "preview", None))

    def _restored(self, path: Path, outcome: RestoreOutcome, rendered: Rendered, *, inputs: tuple,
                  made_with: tuple) -> None:
        entry = self.entries.get(path)
        if entry is None or path in self._removing:  # (being removed: its result goes with it)
            return
        self.composer.forget(path)  # a composite of the previous result must not replace this one
        entry.shown_choice = None  # (nor a gallery choice of the result before be put back: review)
        previous = entry.result
        entry.result, entry.composite, entry.restored_inputs = outcome.result, outcome.composite, inputs
        entry.restored_with = made_with
        entry.saves = [dataclasses.replace(s, result=None) for s in entry.saves]  # (an old run is not kept alive)
        self.after[path] = rendered
        shown = self._with_grain_now(outcome.result)
        if shown is not outcome.result:  # switched while it ran
            entry.result, entry.composite = shown, None  # (made again if on screen:)
        entry.picks.update(chosen_seeds(previous))  # (a face not in the last result keeps its choice before: QA)
        entry.edits.forget("pick")  # (picks among the candidates this restore replaced)
        chosen, not_kept = carry_choices(entry.picks, entry.result)  # the seeds chosen in the gallery stay chosen
        if chosen is not entry.result:
            entry.result, entry.composite = chosen, None
            self.composer.request(path, chosen)
        self._keep_or_free_full_size(path)
        requeued = self.restoring(path)  # (it ended before a Cancel reached it, and was asked for again)
        entry.run_seconds, entry.state = outcome.seconds, "queued" if requeued else "done"
        self.entryChanged.emit(path)
        faces = outcome.result.faces  # numbered as their tags in the photo; short: the gallery says how to diffuse them
        spared = spared_message(outcome.result, number=lambda position: detector_index(faces[position], position) + 1,
                                switch="To let the prior work on a spared face anyway, choose it in the seed "
                                       "gallery (a click on the face, or its face list) and press Diffuse anyway")
        if spared:
            self.note.emit(f"{path.name}: {spared}", path)
        descreened = descreened_message(outcome.result, switch="Settings ▸ Halftone off keeps the dots.")
        if descreened:
            self.note.emit(f"{path.name}: {descreened}", path)
        covered = covered_features_message(outcome.result, number=lambda position: detector_index(faces[position], position) + 1)
        if covered:  # why an eye or the mouth looks drawn anew: said until read (QA: gone in 40 s)
            self.warning.emit(f"{path.name}: {covered}", path)
        switched_on = {index: on for index, _box, on in inputs[0]}  # as the restore was asked
        left = left_off_damage_message(
            faces_left_off_with_damage([dataclasses.replace(f, enabled=switched_on.get(f.index, f.enabled))
                                        for f in entry.faces], outcome.result.damage),
            way="click its number in the photo (or use Photo ▸ Faces) to switch it on, and restore again")
        if left:
            self.note.emit(f"{path.name}: {left}", path)
        self._say_quicker_way(path, outcome)
        if not_kept:
            faces_said = f"face{'s' if len(not_kept) > 1 else ''} {listed([str(i + 1) for i in not_kept])}"
            self.note.emit(f"{path.name}: the candidate chosen before for {faces_said} was not made again by this "
                           "restore (a refinement pass, a seed from More, or one the seed settings no longer give): "
                           "choose again in the seed gallery", path)
        self.runFinished.emit(path, outcome.seconds, "Restore")
        if not requeued:  # (the restore asked for again ends its part in a Restore all)
            self._album_ended(path, restored=True)

    def _failed(self, path: Path, error: BaseException, *, album: bool = True) -> None:
        """A job of ``path`` failed (``album``: a load or a restore, which ends its part in a Restore all)."""
        entry = self.entries.get(path)
        read = path in self._read  # (its file was read: what failed came after, finding its faces; review)
        self._forget_read(path)
        if entry is not None:
            entry.error = str(error) or type(error).__name__
            entry.unreadable = entry.photo is None and not read
            entry.restore_when_loaded = False
            if entry.photo is None and isinstance(error, ImageError) and getattr(error, "path", None) is None:
                error.path = path  # the file could not be read: its notice goes once it is (opened again, mended)
        requeued = self.restoring(path)  # (a restore stopped by Cancel and asked for again: it waits)
        if entry is not None and (entry.result is not None or requeued):  # an earlier result stands, as after a
            failure = entry.error  # cancel (QA: "error" in red stayed on a good result, and never became "saved")
            self._set_state(path, "queued" if requeued else "done")  # (which clears the error…
            entry.error = failure  # …that the panel says, "the last run failed", until the next run)
            self.entryChanged.emit(path)
        else:
            self._set_state(path, "error")
        self.error.emit(error)
        if album and not requeued:
            self._album_ended(path, restored=False)

    def _picture(self, path: Path) -> Any:
        """The photo ``path`` shows: its loaded photo, or the one read while its faces are found
        (shown early); None when it has neither (core Photo)."""
        entry = self.entries.get(path)
        return None if entry is None else entry.photo or self._read.get(path)

    def _forget_read(self, path: Path) -> None:
        """A load that showed its photo early ended without its faces (failed, cancelled): the photo
        it read, and the image drawn of it, go (review: kept, out of the memory budget, and shown
        under "could not be opened")."""
        entry = self.entries.get(path)
        if self._read.pop(path, None) is not None and entry is not None and entry.photo is None:
            self.before.pop(path, None)

    # ---- faces and candidates --------------------------------------------------------------
    def toggle_face(self, path: Path, index: int) -> None:
        """Switch face ``index`` (its detector index) off or on: an edit Undo takes back."""
        entry = self.entries[path]
        face = next((f for f in entry.faces if f.index == index), None)
        if face is None:
            return
        self._switch(entry, index, not face.enabled)
        self._record(entry, Edit("switch", f"face {index + 1} switched {'off' if face.enabled else 'on'}",
                                 face=index, after=int(not face.enabled)))
        self.entryChanged.emit(path)

    @staticmethod
    def _switch(entry: PhotoEntry, index: int, on: bool) -> None:
        entry.faces = [dataclasses.replace(f, enabled=on) if f.index == index else f for f in entry.faces]
        if entry.state.endswith(("face", "faces")):  # the filmstrip counts the faces switched on
            entry.state = faces_state(entry.faces)

    def add_face_box(self, path: Path, box: tuple[float, float, float, float]) -> None:
        """Add the face a box drawn on the photo marks, as the detector finds it in the box. A box
        around a face listed already switches that face on, or says it is there (GUI QA: a second
        copy of it, numbered out of sight, was restored twice); a box in which no face is found is
        restored as a face anyway, and said so where the photo has faces found (GUI QA: a box on a
        wall came back with a ghost of a face, unsaid; a photo without any was said to have none)."""
        entry = self.entries[path]
        # a number no face had on it yet (review: one freed by Undo took over the old box's seed pick)
        used = [f.index for f in entry.faces] + list(entry.picks) + list(entry.drawn_ever) \
            + [f.face.index for f in (entry.result.faces if entry.result is not None else ())]
        index = max(used, default=-1) + 1
        try:
            face, found = self.backend.face_in_box(entry.photo, box, index=index, prefs=self.prefs)
        except FaceGeometryError as error:  # (a strip drawn by a slip of the mouse: not added)
            self.error.emit(error)
            return
        listed_already = next((f for f in entry.faces if found and same_place(f, face)), None)
        if listed_already is not None:
            number = listed_already.index + 1
            if listed_already.enabled:
                self.info.emit(f"The box holds face {number}, restored already.")
                return
            self.toggle_face(path, listed_already.index)
            self.info.emit(f"The box holds face {number}: switched on again.")
            return
        first = not entry.faces
        entry.faces = [*entry.faces, face]
        entry.drawn.add(face.index)
        entry.drawn_ever.add(face.index)
        self._record(entry, Edit("box", f"face box {index + 1}", face=index, drawn=face))
        if first:
            self._result_notes(path, entry)
        if entry.result is None:  # a restored photo stays "done", its panel says a restore would differ
            entry.state = faces_state(entry.faces)
        self.entryChanged.emit(path)
        if not found and not first:  # (a photo without faces was said to have none: it is known)
            self.info.emit(f"No face found in the box: face {index + 1} is restored as drawn (its number switches it off).")

    def use_preferences(self, prefs: Preferences) -> None:
        """Use ``prefs`` from now on: restores started later take them, and the results shown take
        grain matching at once (a composite, not a restore: :meth:`PhotoResult.with_grain`)."""
        self.prefs = prefs
        for path, entry in self.entries.items():
            shown = None if entry.result is None else self._with_grain_now(entry.result)
            if shown is not entry.result:
                entry.result, entry.composite = shown, None  # (off screen: made again when shown)
                self.entryChanged.emit(path)
                if path in self.on_screen:
                    self.composer.request(path, entry.result)

    def _with_grain_now(self, result: Any) -> Any:
        """``result`` with grain matching as the preferences say now (``result`` itself when it has it)."""
        return result.with_grain(self.prefs.match_grain)

    def choose(self, path: Path, position: int, candidate: int, *, record: bool = True) -> None:
        """Use another candidate of a face; the composite is rebuilt in the background without
        sampling again (:attr:`entryChanged` is emitted now, and again when it is ready).
        ``record``: the pick is an edit Undo takes back."""
        entry = self.entries[path]
        if entry.result is None or entry.result.faces[position].chosen == candidate:
            return
        before = entry.result.faces[position].chosen
        result = entry.result
        try:
            check_recomposite_memory(*result.background.shape[1::-1], name=path.name, upscale=result.scale,
                                     upscale_setting=UPSCALE_SETTING,
                                     colour_converted=result.photo.srgb_pixels is not None,
                                     alpha=result.alpha is not None)
        except MemoryBudgetError as error:  # the seed shown stays chosen
            self.error.emit(error)
            self.entryChanged.emit(path)
            return
        if entry.shown_choice is None:  # (the choice the composite shown was made of)
            entry.shown_choice = result
        entry.result = result.choose(position, candidate)  # a new value: exports queued keep theirs
        if record:
            index = detector_index(result.faces[position], position)
            self._record(entry, Edit("pick", f"face {index + 1}'s seed pick", face=index, before=before,
                                     after=candidate, browsed=True))
        self.entryChanged.emit(path)
        self.composer.request(path, entry.result)

    def _composed(self, path: Path, result: Any, composite: np.ndarray, rendered: Rendered) -> None:
        entry = self.entries.get(path)
        if entry is None or not result.same_picture(entry.result):
            return  # removed, restored again or chosen again since
        entry.shown_choice = None
        entry.composite = composite
        self.after[path] = rendered
        self._keep_or_free_full_size(path)
        self.entryChanged.emit(path)

    def _preparing_failed(self, path: Path, error: BaseException) -> None:
        """A composite or full-size image could not be made: the notice says why, and the window
        stops saying it is preparing the photo; a seed chosen whose composite could not be made is
        chosen no more (memory QA: the gallery marked the new seed, the photo showed the old)."""
        self.error.emit(error)
        if path in self.entries:
            entry = self.entries[path]
            shown, entry.shown_choice = entry.shown_choice, None
            if shown is not None and entry.result is not None and entry.result.same_run(shown):
                for position, face in enumerate(shown.faces):  # (candidates More added since are kept)
                    failed = entry.result.faces[position].chosen
                    if failed != face.chosen:
                        entry.result = entry.result.choose(position, face.chosen)
                        # the pick that failed leaves the history (review: Undo then said "Undone",
                        # changing nothing), and the picks before it stay
                        entry.edits.drop_pick(detector_index(face, position), failed, face.chosen)
            self.entryChanged.emit(path)

    def _photo_rendered(self, path: Path, photo: Any, rendered: Rendered) -> None:
        entry = self.entries.get(path)
        if entry is None or self._picture(path) is not photo or path not in self.on_screen:
            return  # removed, or no longer on screen: its thumbnail is there already
        self.before[path] = rendered
        self.entryChanged.emit(path)

    def more(self, path: Path, position: int, *, count: int | None = None) -> None:
        """Sample more candidates of one face with new seeds (on the worker, with progress)."""
        entry = self.entries[path]
        if entry.result is None or self._face_job_waiting(path):
            return
        count = count or self.prefs.seeds_per_face
        self._queue_face_job(path, "more", self.backend.more_job(entry.result, position, self.prefs, count),
                             "more candidates", lambda grown, p=path: self._more_done(p, grown, position, count))

    def refine(self, path: Path, position: int, *, passes: int | None = None) -> None:
        """Refine the chosen candidate of one face ``passes`` times (default: the preferences'
        ``refine_passes``; IDM-style, on the worker): each pass becomes a candidate of the gallery,
        the last one is chosen, the changes are reported."""
        passes = passes or self.prefs.refine_passes
        entry = self.entries[path]
        if entry.result is None or position < 0 or self._face_job_waiting(path):
            return
        picked = entry.result.faces[position].chosen  # the candidate refined
        self._queue_face_job(path, "refine", self.backend.refine_job(entry.result, position, self.prefs, passes),
                             "refining", lambda grown, p=path: self._refine_done(p, grown, position, picked))

    def diffuse_anyway(self, path: Path, position: int, diffuse: bool = True) -> None:
        """Sample one face's seeds again with sharp-face sparing off for it (``diffuse``: the prior
        works on it at the run's fidelity, however sharp it looked) or on again (on the worker); the
        photo's face keeps the choice for later restores."""
        entry = self.entries[path]
        if entry.result is None or position < 0 or self._face_job_waiting(path):
            return
        if self._is_queued(path, "restore"):  # its result would replace the one sampled here
            self.info.emit(f"{path.name} is being restored: try again once that is done.")
            return
        index = entry.result.faces[position].face.index
        was = next((f.diffuse_anyway for f in entry.faces if f.index == index), False)
        self._flag_face(entry, index, diffuse)  # now: a Restore pressed meanwhile restores the face so
        job = self.backend.resample_job(entry.result, position, self.prefs, diffuse_anyway=diffuse)
        passes = len(entry.result.faces[position].refinements)  # dropped with the candidates they refined
        self._queue_face_job(path, "resample", job, "diffusing" if diffuse else "sparing",
                             lambda resampled, p=path: self._resample_done(p, resampled, position, passes),
                             given_up=lambda e=entry: self._flag_face(e, index, was))

    @staticmethod
    def _flag_face(entry: PhotoEntry, index: int, diffuse: bool) -> None:
        """Whether the photo's face ``index`` is diffused even if sharp (restores of the photo keep it)."""
        entry.faces = [dataclasses.replace(f, diffuse_anyway=diffuse) if f.index == index else f for f in entry.faces]

    def _face_job_waiting(self, path: Path) -> bool:
        """Whether More, Refine or Diffuse anyway is queued or running for ``path``; a second is
        refused (each makes a new version of the result it started from, so the later would drop the
        earlier's candidates)."""
        if not self._is_queued(path, *_FACE_JOBS):
            return False
        self.info.emit("This photo's faces are still being sampled or refined: try again once that is done.")
        return True

    def _queue_face_job(self, path: Path, kind: str, job: Job, label: str, on_done,
                        given_up: Callable[[], None] | None = None) -> None:
        """Queue a job on one face of a restored photo; ``given_up`` is called when it fails or is cancelled."""
        undo = given_up or (lambda: None)
        clock = StepClock()
        started: list[float] = []  # when its first progress came: the job began (it may have waited in the queue)

        def progress(item: Any) -> None:
            if not started:
                started.append(time.monotonic())
            self._face_job_progress(path, item, label, "refining" if kind == "refine" else "sampling", clock)

        def done(value: Any) -> None:
            on_done(value)
            # the status bar's "Last run" (QA: after a 30 s Diffuse anyway it gave the restore's 0.3 s),
            # unless the photo went meanwhile (review: it named a photo no longer there)
            if started and path in self.entries:
                self.runFinished.emit(path, time.monotonic() - started[0], _RUN_NAMES.get(label, label))

        self.queue.add(QueuedJob(
            job, kind, path,
            on_progress=progress,
            on_done=done,
            on_failed=lambda error, p=path: (undo(), self._failed(p, error, album=False)),
            on_cancelled=lambda p=path: (undo(), self._set_state(p, "done")),
        ))
        self._mark_queued(path)

    def _mark_queued(self, path: Path) -> None:
        """Say that a job of ``path`` waits, once it is in the queue: the window, told now, sees it
        waiting (Restore off, the panel's text) even when another photo's job keeps the queue busy."""
        entry = self.entries.get(path)
        if entry is not None:
            entry.state, entry.error = "queued", None
            self.entryChanged.emit(path)

    def _stage_progress(self, path: Path, stage: str, clock: StepClock, *, prefix: str = "") -> None:
        """A job's stage without steps (``stage``, e.g. "loading model"): the photo's state, and the
        progress line busy, after ``prefix``; the steps' clock starts again with them."""
        clock.reset()
        self._set_state(path, stage)
        self.progress.emit(path, prefix + stage.capitalize() + "…", -1.0, None)

    def _face_job_progress(self, path: Path, item: Any, label: str, doing: str, clock: StepClock) -> None:
        if isinstance(item, str):  # a stage before the steps (loading the model)
            self._stage_progress(path, item, clock)
            return
        total = max(1, item.total_steps)
        entry = self.entries.get(path)
        faces = entry.result.faces if entry is not None and entry.result is not None else ()
        index = detector_index(faces[item.face_index], item.face_index) if item.face_index < len(faces) else item.face_index
        shown = index + 1  # as its tag in the photo
        self.workingOn.emit(path, index)
        text = (f"Face {shown}: {label} · step {item.step} of {total}"
                if item.total_steps else f"Face {shown}: {label} · preparing")
        text += _time_left(clock, 0, 1, item.step, item.total_steps)  # (one face: the one this job samples)
        self._set_state(path, f"{doing} {percent(item.step / total)}")
        self.progress.emit(path, text, item.step / total, getattr(item, "preview", None))

    def _refine_done(self, path: Path, grown: Any, position: int, picked: int) -> None:
        entry = self.entries.get(path)
        if entry is None or not grown.same_run(entry.result):
            return  # removed or restored again meanwhile
        choice = list(entry.result.choice)  # keep choices made meanwhile; the refined face takes its last pass…
        repicked = choice[position] != picked  # …unless the user picked another of its candidates meanwhile
        if not repicked:
            choice[position] = grown.faces[position].chosen
            index = detector_index(grown.faces[position], position)  # (an edit Undo takes back: review,
            self._record(entry, Edit("pick", f"face {index + 1}'s refined pass", face=index,  # it took back
                                     before=picked, after=choice[position]))  # the pick before it instead)
        entry.result = self._with_grain_now(grown.with_choice(choice))
        entry.state = "done"
        self.entryChanged.emit(path)
        self.composer.request(path, entry.result)
        face = grown.faces[position]
        shown = detector_index(face, position) + 1  # as its tag in the photo
        changes = [r.change for r in face.refinement_of(face.chosen)]
        if len(changes) == 1:
            text = f"Refined face {shown}: the pass changed it by {changes[0]:.1f} grey levels."
        else:  # after several passes, also how far they moved the face in all
            text = (f"Refined face {shown}: change per pass " + " → ".join(f"{c:.1f}" for c in changes)
                    + f" grey levels, {face.refinement_distance(face.chosen):.1f} from where it started.")
        if repicked:
            text += " The candidate chosen while it ran stays chosen; the refined one is in the gallery."
        self.info.emit(text)

    def damage_editor(self, path: Path) -> MaskEditor | None:
        """The damage painted over a loaded photo (an empty mask at first); None before it is loaded."""
        entry = self.entries.get(path)
        if entry is None or entry.photo is None:
            return None
        if entry.damage is None:
            entry.damage = MaskEditor(entry.photo.width, entry.photo.height)
            entry.damage.on_step = functools.partial(self._record_damage, path)  # (its path, not the entry: the
            # entry and its editor holding each other stayed in memory once removed, long-session QA)
        return entry.damage

    # ---- undo and redo ---------------------------------------------------------------------
    def _record_damage(self, path: Path, action: Any) -> None:
        """A step of the damage painted over ``path`` (a stroke, a clear, a mask loaded) was taken."""
        if (entry := self.entries.get(path)) is not None:
            self._record(entry, Edit("damage", step_words(action)))

    @staticmethod
    def _record(entry: PhotoEntry, edit: Edit) -> None:
        """Add ``edit`` to the photo's history; damage taken back can no longer be painted again."""
        if entry.edits.record(edit) and entry.damage is not None and edit.kind != "damage":
            entry.damage.forget_redo()

    def next_undo(self, path: Path | None) -> Edit | None:
        """The edit of ``path`` Undo would take back (an open stroke's: the stroke; None: none)."""
        entry = self.entries.get(path) if path is not None else None
        if entry is None:
            return None
        if entry.damage is not None and entry.damage.open_stroke_words is not None:
            return Edit("damage", entry.damage.open_stroke_words)
        return entry.edits.next_undo

    def next_redo(self, path: Path | None) -> Edit | None:
        """The edit of ``path`` Redo would do again (None: none; nor while a stroke is drawn, whose
        end makes a new edit: review)."""
        entry = self.entries.get(path) if path is not None else None
        if entry is None or (entry.damage is not None and entry.damage.stroke_open):
            return None
        return entry.edits.next_redo

    def undo(self, path: Path) -> tuple[Edit, bool] | None:
        """Take back the last edit of ``path`` (a stroke being painted ends first: it is the last);
        returns it and whether anything changed (None: there was none)."""
        return self._step(path, back=True)

    def redo(self, path: Path) -> tuple[Edit, bool] | None:
        """Do again the edit of ``path`` taken back last (a stroke being painted ends first, which
        ends what redo could do); returns it and whether anything changed (None: there was none)."""
        return self._step(path, back=False)

    def _step(self, path: Path, *, back: bool) -> tuple[Edit, bool] | None:
        entry = self.entries.get(path)
        if entry is None:
            return None
        if entry.damage is not None:
            entry.damage.end_stroke()
        edit = entry.edits.undo() if back else entry.edits.redo()
        return None if edit is None else (edit, self._apply(path, entry, edit, back=back))

    def _apply(self, path: Path, entry: PhotoEntry, edit: Edit, *, back: bool) -> bool:
        """Take ``edit`` back (``back``) or do it again; whether anything changed. A pick of a face
        no longer in the result, or one whose composite cannot be made, or a switch of a face no
        longer listed, changes nothing (the history goes past it, and the window says so)."""
        if edit.kind == "damage":
            if entry.damage is None:
                return False
            (entry.damage.undo if back else entry.damage.redo)()  # (its listeners tell the window)
            return True
        if edit.kind == "pick":
            faces = entry.result.faces if entry.result is not None else ()
            position = next((p for p, f in enumerate(faces) if detector_index(f, p) == edit.face), None)
            candidate = edit.before if back else edit.after
            if position is None or candidate is None or candidate >= len(faces[position].candidates):
                return False
            self.choose(path, position, candidate, record=False)
            return entry.result.faces[position].chosen == candidate
        if edit.kind == "switch":
            if not any(f.index == edit.face for f in entry.faces):
                return False
            self._switch(entry, edit.face, bool(edit.after) != back)
        elif edit.kind == "box":
            if back:
                entry.boxes_taken_back.update((f.index, f) for f in entry.faces if f.index == edit.face)
                entry.faces = [f for f in entry.faces if f.index != edit.face]
                entry.drawn.discard(edit.face)
                entry.picks.pop(edit.face, None)  # (its seed picked: no other face's, review)
            elif not any(f.index == edit.face for f in entry.faces):
                entry.faces = [*entry.faces, entry.boxes_taken_back.pop(edit.face, edit.drawn)]
                entry.drawn.add(edit.face)
            if entry.result is None:
                entry.state = faces_state(entry.faces)
        self.entryChanged.emit(path)
        return True

    def _resample_done(self, path: Path, resampled: Any, position: int, dropped_passes: int) -> None:
        entry = self.entries.get(path)
        if entry is None or not resampled.same_run(entry.result):
            return  # removed or restored again meanwhile
        choice = list(entry.result.choice)  # the other faces keep choices made meanwhile
        choice[position] = resampled.faces[position].chosen
        entry.edits.forget("pick", face=detector_index(resampled.faces[position], position))  # (its candidates anew)
        entry.result = self._with_grain_now(resampled.with_choice(choice))  # (its face was flagged when it was asked)
        entry.state = "done"
        self.entryChanged.emit(path)
        self.composer.request(path, entry.result)
        faces = resampled.faces
        said = resample_message(resampled, position, number=lambda i: detector_index(faces[i], i) + 1,
                                dropped_passes=dropped_passes)
        self.note.emit(f"{path.name}: {said}", path)  # (workflow QA: as info, it stayed over the next photo shown)

    def _more_done(self, path: Path, grown: Any, position: int, count: int) -> None:
        entry = self.entries.get(path)
        if entry is None or not grown.same_run(entry.result):
            return  # removed or restored again meanwhile: the candidates belong to an old run
        entry.result = self._with_grain_now(grown.with_choice(entry.result.choice))  # keep choices made while sampling
        entry.edits.seal()  # (a pick among the new candidates is an edit of its own: day QA)
        entry.state = "done"
        self.entryChanged.emit(path)
        seeds = entry.result.faces[position].seeds[-count:]
        self.note.emit(f"Added {len(seeds)} candidates (seeds {seeds[0]}–{seeds[-1]}).", path)

    # ---- export ----------------------------------------------------------------------------
    def export_job(self, paths: list[Path], *, dest: Path | None = None, folder: Path | None = None,
                   fmt: str | None = None, quality: int | None = None, replace: bool = False) -> Job:
        """A job for :attr:`export_queue` saving each photo as it is now, current gallery choices
        included (later changes do not reach it); it yields :class:`ExportStep`.

        One photo may be given its file name ``dest`` (with ``replace``, a file of that name is
        replaced: the user confirmed it); otherwise each gets a free name in ``folder``, or in the
        output folder, or next to its original. Raises ExportError at once
        when a photo is not restored yet or ``dest`` is the original or in no folder.
        """
        snapshots = [snapshot_for_export(self.entries[path]) for path in paths]
        for path in paths:  # a pick after this one is an edit of its own: Undo comes back to what is saved
            self.entries[path].edits.seal()
        if dest is not None and len(paths) != 1:
            raise ValueError("a file name can be given for one photo only")
        if dest is not None and (problem := destination_problem(dest, paths[0])) is not None:
            raise ExportError(problem)  # (the core's rule: a hard link to the original is the original too)
        prefs = self.prefs if folder is None else dataclasses.replace(self.prefs, output_folder=str(folder))

        def destination(snapshot: ExportSnapshot) -> Path:
            return dest if dest is not None else self.backend.default_output_path(snapshot.source, prefs)

        return self.backend.export_job(snapshots, destination, fmt=fmt, quality=quality or self.prefs.quality,
                                       unique=dest is None, overwrite=dest is not None and replace,
                                       keep_16_bits=self.prefs.keep_16_bits, metadata=self.prefs.metadata)

    # ---- damage mask files ------------------------------------------------------------------
    def read_damage_mask(self, path: Path, file: Path, *, on_read: Callable[[np.ndarray], None],
                         on_failed: Callable[[BaseException], None]) -> None:
        """Read the mask file ``file`` for the loaded photo ``path`` on the files' queue (a 24 MP
        mask takes 2 s, the window stood frozen meanwhile: review); then, on the UI thread,
        ``on_read(mask)``, unless the photo was removed meanwhile, or ``on_failed(error)``."""
        entry = self.entries.get(path)
        if entry is None or entry.photo is None:
            return
        job = self.backend.read_mask_job(file, entry.photo.width, entry.photo.height)
        self.export_queue.add(QueuedJob(job, "mask", path,  # (a photo removed meanwhile gets nothing: review)
                                        on_failed=lambda error: on_failed(error) if path in self.entries else None,
                                        on_done=lambda mask: on_read(mask) if path in self.entries else None))

    def save_damage_mask(self, path: Path, mask: np.ndarray, dest: Path, *, on_saved: Callable[[Path], None],
                         on_failed: Callable[[BaseException], None]) -> None:
        """Write ``mask``, painted on photo ``path``, as the mask file ``dest`` on the files' queue
        (0.9 s for a 24 MP mask); then ``on_saved(file)`` or ``on_failed(error)`` on the UI thread.
        Closing the window waits for it (:meth:`shutdown`)."""
        self.export_queue.add(QueuedJob(self.backend.write_mask_job(mask, dest, path), "mask", path,
                                        on_done=on_saved, on_failed=on_failed))

    def restored(self) -> list[Path]:
        """The photos that have a result to save, in filmstrip order."""
        return [path for path, entry in self.entries.items() if entry.result is not None]

    def unsaved(self) -> list[Path]:
        """The photos whose result, as it is now, has not been saved (filmstrip order)."""
        return [path for path in self.restored() if self.saved_file(path) is None]

    def unrestored_damage(self) -> list[Path]:
        """The photos with damage painted that no result holds yet: closing would lose the strokes
        (filmstrip order)."""
        pending = []
        for path, entry in self.entries.items():
            if not entry.painted:
                continue
            restored = entry.restored_inputs[1] if entry.result is not None and entry.restored_inputs else None
            if restored != entry.damage.history:
                pending.append(path)
        return pending

    def unrestored_face_boxes(self) -> list[Path]:
        """The photos with face boxes drawn that no result holds yet (:meth:`faces_drawn_unrestored`):
        closing or removing them would lose the boxes (filmstrip order)."""
        return [path for path in self.entries if self.faces_drawn_unrestored(path)]

    def record_saved(self, step: ExportStep) -> None:
        """Note the file an export step wrote on its photo (when the photo is still loaded)."""
        entry = self.entries.get(step.snapshot.source)
        if entry is None or step.written is None:
            return
        fresh = step.snapshot.result.same_run(entry.result)  # (never keep an old run alive)
        saved = SavedFile(step.written, step.snapshot.result if fresh else None, step.options, file_stamp(step.written))
        earlier = [s if s.result is None or s.result.same_run(entry.result) else dataclasses.replace(s, result=None)
                   for s in entry.saves if s.path != step.written]
        entry.saves = [*earlier[-(SAVES_KEPT - 1):], saved]
        if fresh and entry.path not in self.on_screen:
            entry.result.drop_composite_cache()  # made again for the file
        log.info("saved %s", step.written)
        self.entryChanged.emit(entry.path)
        for other in self.entries.values():  # a photo whose saved file this one replaced is unsaved now
            if other is not entry and any(s.path == step.written for s in other.saves):
                self.entryChanged.emit(other.path)  # (QA: Save as over it left it "saved")

    def saved_file(self, path: Path) -> Path | None:
        """The file saved last of ``path`` that shows the photo as it is now, else None."""
        saved = self._saved(path)
        return saved.path if saved is not None else None

    def _saved(self, path: Path) -> SavedFile | None:
        """The :class:`SavedFile` saved last of ``path`` that shows the photo as it is now, not gone
        nor written over since; None when none does."""
        entry = self.entries[path]
        if entry.result is None:
            return None
        for saved in reversed(entry.saves):
            if entry.result.same_picture(saved.result):
                stamp = file_stamp(saved.path)
                if stamp is not None and stamp == saved.stamp:
                    return saved
        return None

    def saved_in(self, path: Path, folder: Path) -> bool:
        """Whether ``path``'s result, as it is now, was saved in ``folder`` as Export all would save
        it now: named as the settings name it (a numbered name too), in their format, quality and depth."""
        saved = self._saved(path)
        if saved is None or file_identity(saved.path.parent) != file_identity(folder):
            return False
        if not named_as_settings_say(saved.path, path, self.prefs) or not saved.options:
            return False
        quality, keep_16_bits, metadata = saved.options
        fmt, photo = format_for(saved.path), self.entries[path].photo
        sixteen = photo is not None and writes_16_bit(photo, fmt)  # (a JPEG is 8-bit whatever the setting)
        return ((fmt not in LOSSY_FORMATS or quality == self.prefs.quality)
                and (not sixteen or keep_16_bits == self.prefs.keep_16_bits) and metadata == self.prefs.metadata)

    # ---- what is kept in memory ------------------------------------------------------------
    def show(self, path: Path) -> None:
        """The window shows ``path`` now: it and the photo shown before it keep their full-size
        images and composite, and so do the photos shown before those while all of them fit in
        FULL_SIZE_BUDGET_BYTES; every other photo gives them up (its thumbnails stay). Those it lacks
        are made on the composer's thread: :meth:`preparing` is true, and :attr:`entryChanged` is
        emitted as each arrives."""
        if path not in self.entries:
            return
        if self.on_screen and self.on_screen[0] != path and (left := self.entries.get(self.on_screen[0])) is not None:
            left.edits.seal()  # (a pick once back on it is an edit of its own: undo QA, joined to the one before)
        latest = (path, *(p for p in self.on_screen if p != path))
        kept, held = 0, 0
        for kept, shown in enumerate(latest, start=1):
            held += self._full_size_bytes(shown)
            if kept > PHOTOS_KEPT_FULL_SIZE and held > FULL_SIZE_BUDGET_BYTES:
                kept -= 1
                break
        self.on_screen = latest[:kept]
        for left in latest[kept:]:
            self._free_full_size(left)
        self._make_full_size(path)

    def _full_size_bytes(self, path: Path) -> int:
        """About what ``path``'s full-size images and composite take (see FULL_SIZE_BUDGET_BYTES)."""
        entry, photo = self.entries.get(path), self._picture(path)
        if photo is None:
            return 0
        scale = entry.result.scale if entry.result is not None else 0
        return 3 * photo.width * photo.height * (1 + 2 * scale * scale)

    def preparing(self, path: Path) -> bool:
        """Whether the composer is making full-size images or the composite that ``path`` lacks
        (it came back on screen)."""
        entry, before, after = self.entries.get(path), self.before.get(path), self.after.get(path)
        if entry is None or before is None:
            return False
        lacks_after = entry.result is not None and (after is None or after.image is None or entry.composite is None)
        return ((before.image is None and self.composer.pending_photo(path))
                or (lacks_after and self.composer.pending(path)))

    def _keep_or_free_full_size(self, path: Path) -> None:
        """After a job gave ``path`` new images: made whole on screen, cut to thumbnails elsewhere."""
        if path in self.on_screen:
            self._make_full_size(path)
        else:
            self._free_full_size(path)

    def _make_full_size(self, path: Path) -> None:
        """Ask the composer for the full-size images and composite ``path`` lacks."""
        entry, photo = self.entries.get(path), self._picture(path)
        if photo is None:
            return
        before = self.before.get(path)
        if before is not None and before.image is None and not self.composer.pending_photo(path):
            self.composer.request_photo(path, photo)
        after = self.after.get(path)
        lacking = after is None or after.image is None or entry.composite is None
        if entry.result is not None and lacking and not self.composer.pending(path):
            self.composer.request(path, entry.result)

    def _free_full_size(self, path: Path) -> None:
        """Keep only the thumbnails of ``path``: drop its full-size images, its composite, the
        result's blending masks, and its damage editor while nothing was painted on it."""
        for images in (self.before, self.after):
            if path in images:
                images[path] = images[path].thumbnail_only()
        entry = self.entries.get(path)
        if entry is None:
            return
        entry.composite = None
        if entry.result is not None:
            entry.result.drop_composite_cache()
        if entry.damage is not None and not entry.damage.can_undo and not entry.damage.can_redo:
            entry.damage = None  # an empty mask the photo's size: made again when painted on

    # ---- helpers ---------------------------------------------------------------------------
    def _load_progress(self, path: Path, item: Any) -> None:
        """A load's progress: the photo read (shown while its faces are found: a large scan's take
        seconds, QA: 40 s of an empty view) and the stage, then how far detection has come."""
        if isinstance(item, DetectionProgress):
            self.progress.emit(path, item.describe(), item.fraction, None)
        elif isinstance(item, ShownEarly):
            entry = self.entries.get(path)
            if entry is None or path in self._removing:
                return
            self.before[path], self._read[path] = item.rendered, item.photo
            if path in self.on_screen and item.rendered.image is None:  # (it came on screen meanwhile)
                self.composer.request_photo(path, item.photo)
            if entry.state == item.stage:  # (else the new state says it)
                self.entryChanged.emit(path)
            self._set_state(path, item.stage)
        else:
            self._set_state(path, str(item))

    def _restore_cancelled(self, path: Path) -> None:
        """A restore of ``path`` was cancelled: a photo with an earlier result keeps it ("done"), one
        whose restore never started is as before it was queued, and only a first restore stopped
        part-way is "cancelled". One queued again while it stopped is left to that restore."""
        if self.restoring(path):
            return
        self._album_ended(path, restored=False)
        entry = self.entries.get(path)
        if entry is None:
            return
        if entry.result is not None:
            self._set_state(path, "done")
        elif not entry.restore_started:
            self._set_state(path, faces_state(entry.faces))
        else:
            self._set_state(path, "cancelled")

    def _set_state(self, path: Path, state: str) -> None:
        entry = self.entries.get(path)
        if entry is not None and state != "error":
            entry.error = None  # a new job, or a cancelled one: the old failure no longer describes it
        if entry is not None and entry.state != state:
            entry.state = state
            self.entryChanged.emit(path)

    def _is_queued(self, path: Path, *kinds: str, stopping: bool = True) -> bool:
        """Whether a job of ``kinds`` on ``path`` waits or runs (without ``stopping``: not one that a
        Cancel is stopping)."""
        current = self.queue.current()
        jobs = [*self.queue.pending(), *([current] if current is not None and (stopping or not current.stopping) else [])]
        return any(q.key == path and q.kind in kinds for q in jobs)

    def opening(self, path: Path) -> bool:
        """Whether ``path`` is still being read (its load queued or running)."""
        return self._is_queued(path, "load")

    def waiting_with_other_settings(self) -> list[Path]:
        """The photos whose restore waits in the queue with settings other than the preferences now
        (a restore takes those of when it was asked for; Restore all asks again with these)."""
        now = self.backend.resolved(self.prefs).restoration()
        return [q.key for q in self.queue.pending()
                if q.kind == "restore" and q.key in self.entries and self.entries[q.key].restoring_with != now]

    def restoring(self, path: Path) -> bool:
        """Whether a restore of ``path`` is queued or running and not being stopped (Restore would
        add nothing; QA: pressed just after Cancel, Restore all left out the photo still stopping)."""
        return self._is_queued(path, "restore", stopping=False)

    def is_working(self, path: Path) -> bool:
        """Whether a job of ``path`` (loading, restoring, sampling more, refining, resampling a face) is
        queued or running."""
        return self._is_queued(path, "load", "restore", *_FACE_JOBS)

    def making_candidates(self, path: Path) -> bool:
        """Whether More, Refine or a face's sampling again is queued or running on ``path`` (and not
        being stopped): a restore queued behind it replaces what it adds."""
        return self._is_queued(path, *_FACE_JOBS, stopping=False)

    def _is_running(self, path: Path) -> bool:
        current = self.queue.current()
        return current is not None and current.key == path
