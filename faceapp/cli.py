"""``faceapp-cli``: restore the faces in photos from the command line; manage models.

    faceapp-cli restore PHOTO_OR_FOLDER … [-o OUT] [--fidelity 0.5] [--seeds 3] [--upscale 2] …
    faceapp-cli models list|download|import|verify|delete …
    faceapp-cli PHOTO …                   (same as "restore")

Exit codes: 0 every input was restored (or skipped by ``--skip-existing``, or, in a batch, had no
face to restore), 1 some inputs failed (the others were still written; a photo given alone in which
no face is found too), 2 usage error (found before any work), 130 stopped by Ctrl-C, SIGTERM or SIGHUP
(the files written before it are kept). ``--json`` prints a summary
on stdout; messages, the progress bar, a line per file written (``photo.jpg → out/photo_restored.jpg``)
and the last line (photos and faces restored, the wall time) go to stderr. SIGTERM and SIGHUP stop
like Ctrl-C: the file being written is removed; every file written before is in the summary.
"""

from __future__ import annotations

if __name__ == "__main__":  # python -m faceapp.cli: run as the command is, by its launcher, which stops
    # cleanly while the imports below load (a Ctrl-C in its first seconds printed a traceback)
    from faceapp.cli_launcher import main as _launch

    raise SystemExit(_launch())

import argparse
import codecs
import errno
import logging
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from faceapp.cli_json import JsonNotWritten, print_json, restore_document, unreached_document
from faceapp.cli_notes import notes_are_silenced, notes_kept_back, notes_silenced, say, say_kept, say_note
from faceapp.cli_parser import build_parser, command_mistake, normalise_argv, preferences_from, unused_format_options
from faceapp.cli_stderr import tolerant_stderr
from faceapp.core import application
from faceapp.core.damage import mask_warning
from faceapp.core.errors import (
    Cancelled, DetectorUnavailableError, ExportError, FaceappError, FaceGeometryError, ImageError, ModelError,
    MaskError, ModelNotFoundError, NoFaceFoundError,
)
from faceapp.core.export import (
    EXTENSIONS,
    QUOTE_KEPT_HINT,
    check_output_size,
    file_identity,
    file_key,
    format_for,
    holds_16_bits,
    is_faceapp_output,
    make_output_folder,
    output_file_name,
    output_folder_problem,
    pattern_fields,
    write_error_message,
)
from faceapp.core.faces import (
    DetectionProgress,
    FaceDetector,
    download_detector_weights,
    face_from_box,
    face_from_drawn_box,
    face_in_box,
    face_from_landmarks,
)
from faceapp.core.geometry import aligned_crop_problem, check_aligned_crop, check_face_in_photo, check_photo_size
from faceapp.core.mask_files import colour_mask_warning, looks_like_mask, mask_for, near_miss, separate_masks
from faceapp.core.memory import check_memory_budget, face_area_of, memory_limit
from faceapp.core.pathtext import message_text, name_key, path_json, path_text, plain_text
from faceapp.core.photo_inputs import (
    expand_wildcards,
    is_folder,
    list_photos,
    not_photos_text,
    spelt_on_disk,
    wildcard_problem,
)
from faceapp.core.photo_io import file_is_whole, max_pixels_accepted, probe_photo, quiet_pillow_warnings, read_photo
from faceapp.core.preferences import OUTPUT_FORMATS, PHOTO_SUFFIXES, Preferences
from faceapp.core.progress import drive
from faceapp.core.tempfiles import create_temp
from faceapp.core import termination
from faceapp.core.termination import terminate_like_interrupt
from faceapp.core.wording import counted, duration, ended, listed

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = termination.EXIT_INTERRUPTED


def _load_engine(prefs: Preferences):
    """The engine for ``--model`` on ``--device`` (a seam the tests replace)."""
    return application.load_engine_for(prefs)


def _check_model_name(name: str | None) -> None:
    """Raise ModelNotFoundError for a ``--model`` no manifest defines (before any work: a usage
    error). A model whose manifest cannot be read is no usage error: each photo's restore says why
    (exit 1, with the JSON document)."""
    if name is not None:
        from faceapp.core.registry import Registry

        try:
            Registry().get(name)
        except ModelNotFoundError:
            raise
        except ModelError:
            pass


# --- the restore command -------------------------------------------------------------------
def collect_inputs(paths: Sequence[str | Path], *, recursive: bool,
                   own_folders: Sequence[Path | None] = ()) -> list[tuple[Path, Path]]:
    """(file, path relative to the folder it was found in) for every photo named or found.

    Folders are listed by :func:`faceapp.core.photo_inputs.list_photos`: hidden files and faceapp's
    own earlier results are left out (a folder restored into itself is not restored again; a
    result named on its own is restored), and so are files of other types; a note on stderr
    counts what was left out, and names the sub-folders (and links to folders) not looked into
    without ``recursive`` (but ``own_folders``: the output and mask folders). A name that is not a
    folder is kept as a file (restoring it says what is wrong with it, see
    :func:`missing_input_problem`), and so is a folder that cannot be listed (restoring it fails:
    :func:`unlisted_folder_problem`).
    """
    own = {os.path.realpath(folder) for folder in own_folders if folder is not None}
    found: list[tuple[Path, Path]] = []
    results, others, unreadable, subfolders = 0, [], [], []
    expanded = expand_wildcards(paths)  # (cmd.exe and PowerShell leave *.jpg to it: Windows QA)
    results, others = results + expanded.earlier_results, others + expanded.not_photos
    for path in map(Path, expanded.names):
        if is_folder(path):
            listing = list_photos(path, recursive=recursive)
            found += [(file, listing.relative(file)) for file in listing.photos]
            results += len(listing.earlier_results)
            others += listing.not_photos
            unreadable += listing.unreadable
            subfolders += [folder for folder in listing.subfolders if os.path.realpath(folder) not in own]
        else:
            found.append((path, Path(path.name)))
    if results:
        say_note(f"{counted(results, 'earlier result')} of faceapp in the folders "
                 f"{'is' if results == 1 else 'are'} not restored again (name a file to restore it anyway).")
    if subfolders:
        say_note(f"{counted(len(subfolders), 'sub-folder')} not looked into ({', '.join(path_text(p.name) for p in subfolders[:3])}"
                 f"{', …' if len(subfolders) > 3 else ''}): give -r to restore the photos in sub-folders too.")
    if others:
        say_note(f"left out {counted(len(others), 'file')} in the folders that are not photos faceapp reads "
                 f"({not_photos_text(others)}); it reads {', '.join(sorted(PHOTO_SUFFIXES))}.")
    # a folder that cannot be listed is an input that fails, in the summary, the exit code and
    # --json's records (QA: a note only, and exit code 0, for a cron job's locked sub-folder)
    found += [(folder, Path(folder.name)) for folder in unreadable]
    return found


def unlisted_folder_problem(folder: Path) -> str:
    """Why a folder that could not be listed restores nothing."""
    return f"cannot look into the folder {path_text(folder)} (permission denied?): its photos are not restored."


def missing_input_problem(argument: str | Path) -> str | None:
    """What is wrong with an input named on the command line that does not exist (None if it does):
    "there is no such folder" for a name ending in a separator, else "no such file or folder"."""
    path = Path(spelt_on_disk(argument))
    text = os.fspath(argument)
    try:
        if path.exists() or path.is_symlink():  # a broken link: reading it says where it points
            return None
    except OSError as error:  # (a name too long for the system: batch QA, a traceback stopped the batch)
        return f"{path_text(text)}: cannot read it: {(error.strerror or str(error)).lower()}."
    if (unmatched := wildcard_problem(text)) is not None:
        return unmatched
    if sys.platform == "win32" and '"' in text:  # (no Windows name holds one: a \ before a closing quote kept it)
        return f"{path_text(text)}: cannot read it: a name cannot hold '\"'; {QUOTE_KEPT_HINT}."
    separators = (os.sep, os.altsep) if os.altsep else (os.sep,)
    what = "folder" if text.endswith(separators) else "file or folder"
    return f"{path_text(text)}: cannot read it: there is no such {what}."


class _Restorer:
    """Restores one input after another through the application layer, sharing engine and detector."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        if args.aligned and (args.face_box or args.face_landmarks):
            raise ValueError("--aligned restores each input whole: it cannot be combined with --face-box or --face-landmarks")
        from faceapp.core.devices import resolve_device, threads_from_environment  # imports torch: only when restoring

        device = resolve_device(args.device)  # an unknown or unavailable device is a usage error, before any work
        threads_from_environment()  # so is FACEAPP_THREADS that is not a count of threads
        if args.skip_existing and args.metadata == "none":  # (review: every resume wrote every photo again)
            raise ValueError("--skip-existing cannot tell the results of --metadata none as their photos' (they "
                             "do not name them); give --metadata no-location, or leave --skip-existing out")
        if args.precision == "fp16":
            from faceapp.core.precision import resolve_precision

            resolve_precision(args.precision, device)  # fp16 on the CPU: a usage error too
        _check_model_name(args.model)  # so is an unknown model
        self.memory_limit = memory_limit(args.memory_limit)
        if args.mask is not None and not args.mask.exists():
            raise ValueError(f"--mask {path_text(args.mask)}: there is no such file or folder")
        if args.output is not None and (problem := output_folder_problem(args.output)) is not None:
            raise ValueError(f"-o {path_text(args.output)}: {problem}")
        if args.output is not None and args.output.exists() and not args.output.is_dir():
            raise ValueError(f"-o {path_text(args.output)}: that is a file; -o names the folder the results go to")
        if args.output is not None and (link := _broken_link_on_the_way(args.output)) is not None:
            raise ValueError(f"-o {path_text(args.output)}: {path_text(link)} is a link to {path_text(os.readlink(link))}, "
                             "which cannot be reached (a drive that is not connected?)")
        if args.output is not None and (blocker := _file_in_the_way(args.output)) is not None:
            raise ValueError(f"-o {path_text(args.output)}: cannot make that folder, {path_text(blocker)} is a file")
        if args.detector_dir is not None and not args.download_detector and not args.detector_dir.is_dir():
            raise ValueError(f"--detector-dir {path_text(args.detector_dir)}: there is no such folder")
        if args.output is not None and not args.output.exists() and args.output.suffix.lower() in PHOTO_SUFFIXES:
            raise ValueError(f"-o {path_text(args.output)}: -o names the folder the results go to, and this looks like a file "
                             f"name; --pattern and --format name the files (e.g. -o {args.output.parent} --pattern "
                             f"{args.output.stem})")
        if args.steps is not None and args.schedule == "official":
            raise ValueError("--steps sets the fast schedule's step count, and --schedule official runs the "
                             "official loop, one step per ddim250 timestep from the start down to 0 (--fidelity "
                             "sets how many): give one or the other")
        self.prefs = preferences_from(args)
        self._resolved: Preferences | None = None  # (resolved_prefs)
        self._model: tuple[bool, dict[str, str], float | None] | None = None  # (_model_facts)
        self.given_faces = [face_from_box(b, index=i) for i, b in enumerate(args.face_box)]
        offset = len(self.given_faces)
        self.given_faces += [face_from_landmarks(p, index=offset + i) for i, p in enumerate(args.face_landmarks)]
        self.models = application.ModelCache(engine_factory=lambda prefs: _load_engine(prefs),
                                              detector_factory=lambda prefs: self._make_detector())
        self.pattern = args.pattern
        self._cautioned = False  # the note on a fidelity below the model's range is given once a run
        self._cautioned_boxes = False  # the note on boxes placed without a detector: once a run
        self.batch = False  # several inputs: the sparing advice is given once, each photo's in short
        self._spared_advised = False
        # said once a run: results written under numbered names, the advice for a batch run again,
        # a file of the user's that --overwrite left
        self._numbered_noted = self._resume_advised = self._overwrite_noted = False
        self._written: set[Path] = set()  # the result files this run wrote
        self._write_problems: dict[Path, OSError | None] = {}  # per folder probed: why nothing can be written there
        if self.prefs.seeds_per_face > 1 and "seed" not in pattern_fields(self.pattern):
            self.pattern += "_seed{seed}"
        _check_pattern(args.pattern, self.pattern)  # a bad pattern fails now
        fmt = format_for(f"x.{args.format}") if args.format else None
        self.ext = EXTENSIONS[fmt] if fmt else None

    def _given_faces_in(self, photo: Any) -> list[Any]:
        """The faces given, those given as boxes found in ``photo`` where each box is
        (:func:`faceapp.core.faces.face_in_box`: a box drawn loosely gives the face as it is)."""
        boxes = len(self.args.face_box)
        if not boxes:
            return self.given_faces
        try:
            detector = self.models.detector(self.prefs)
        except FaceappError as error:
            if not self._cautioned_boxes:
                self._cautioned_boxes = True
                say_note(f"the face detector is unavailable ({error}); faces given with --face-box are "
                         "placed where a detector's box holds a face (brow to chin, cheek to cheek).")
            size = (photo.width, photo.height)  # (each checked as a drawn box with no face found is: review)
            return [face_from_drawn_box(face.box, index=face.index, photo_size=size)
                    for face in self.given_faces[:boxes]] + self.given_faces[boxes:]
        return [face_in_box(photo.srgb, face.box, detector, index=face.index) for face in self.given_faces[:boxes]] \
            + self.given_faces[boxes:]

    def _make_detector(self) -> FaceDetector:
        if self.args.download_detector:
            download_detector_weights(self.args.detector, folder=self.args.detector_dir)
        return FaceDetector(self.args.detector_dir, model=self.args.detector, device="cpu")

    def destinations(self, path: Path, relative: Path) -> list[Path]:
        """The file names the results of one input get (before any numbering), one per seed."""
        folder = path.parent if self.args.output is None else self.args.output / relative.parent
        names = []
        for k in range(self.prefs.seeds_per_face):
            stem, suffix = output_file_name(path, pattern=self.pattern, ext=self.ext, fields={"seed": self.prefs.base_seed + k})
            names.append(folder / f"{stem}{suffix}")
        return names

    def resolved_prefs(self) -> Preferences:
        """The run's preferences with the model and step count made explicit, resolved once a run."""
        if self._resolved is None:
            self._resolved = application.resolved_preferences(self.prefs)
        return self._resolved

    def _model_facts(self) -> tuple[bool, dict[str, str], float | None]:
        """Whether the run's model spares faces, its files' SHA-256 by name and its own fidelity, from
        its manifest (once a run: asked of every photo skipped); (True, {}, None) when it cannot be read."""
        from faceapp.core.registry import Registry

        if self._model is None:
            try:
                manifest = Registry().get(self.resolved_prefs().model)
                self._model = (manifest.sharp_faces is not None,
                               {entry.name: entry.sha256 for entry in manifest.files if entry.sha256},
                               manifest.default_fidelity)
            except Exception:  # noqa: BLE001 - an unknown model: the restore says why
                self._model = (True, {}, None)
        return self._model

    def face_selection(self) -> dict[str, Any] | None:
        """How this run chooses the faces it restores, as its results record it (None for --aligned:
        each input is restored whole)."""
        if self.args.aligned:
            return None
        return {"faces": self.prefs.face_selection, "min_face_size": self.prefs.min_face_size,
                "unsure_faces": self.prefs.include_unsure_faces,
                "given_faces": [[round(float(v), 2) for v in given]
                                for given in (*self.args.face_box, *self.args.face_landmarks)]}

    def _made_alike(self, path: Path, relative: Path) -> Callable[[Path], bool]:
        """Whether a result of ``path`` was made as this run would make it (whole, and no setting
        changed): the one a resume takes where two runs wrote one each."""
        return lambda result_file: file_is_whole(result_file) and not self.made_otherwise(result_file, path, relative)

    def made_otherwise(self, result_file: Path, path: Path, relative: Path) -> list[str]:
        """What this run would do otherwise than the run that wrote ``result_file``, a result of
        ``path`` (:func:`faceapp.core.application.settings_changed_since`, and its damage mask)."""
        spares, weights, default_fidelity = self._model_facts()
        changed = application.settings_changed_since(result_file, self.resolved_prefs(), sparing_matters=spares,
                                                     weights=weights, default_fidelity=default_fidelity,
                                                     refine=self.args.refine, face_selection=self.face_selection())
        return changed + application.damage_changed_since(result_file, mask_for(self.args.mask, path, relative))

    def finished(self, path: Path, relative: Path) -> list[Path] | None:
        """The results of an earlier run of this input (every seed's file, under the names
        :meth:`destinations` gives or the numbered ones an earlier run moved on to, each written by
        faceapp from this very photo: its provenance names the photo, its size and its SHA-256), or None when
        any is missing. A result of another photo under the same name (a.jpg and a.png, both
        giving a_restored.png) does not count."""
        found = [application.earlier_result(name, path, prefer=self._made_alike(path, relative))
                 for name in self.destinations(path, relative)]
        return None if None in found or not all(file_is_whole(f) for f in found) else found

    def _check_crop_holds_its_face(self, photo, path: Path) -> None:
        """Raise FaceGeometryError when an ``--aligned`` input's largest sure face is far smaller than
        a crop's (:func:`~faceapp.core.geometry.aligned_crop_problem`): a whole photo, square, restored
        as one face comes out smeared. Without a detector, its shape alone was judged."""
        try:
            detector = self.models.detector(self.prefs)
        except DetectorUnavailableError:
            return
        sure = [face for face in detector.detect(photo.rgb) if not face.unsure]
        eyes = [math.dist(face.landmarks[0], face.landmarks[1]) for face in sure]
        if (problem := aligned_crop_problem(eyes, photo.width, photo.height, name=path_text(path))) is not None:
            raise FaceGeometryError(problem)

    def preflight(self, path: Path, relative: Path | None = None) -> None:
        """Checks made from the header, before the photo is decoded: memory, the faces given, the
        result's size for its format, and that its folder can be written to."""
        header = probe_photo(path)
        if header is None or header.width * header.height > max_pixels_accepted():
            return  # read_photo says what is wrong with it
        dest = self.destinations(path, relative if relative is not None else Path(path.name))[0]
        fmt = format_for(dest)
        # The faces' blending masks grow with the faces' regions: known here for --aligned (the
        # whole crop) and given faces; detected ones are counted once found (see restore), so here
        # only what any photo of this size needs.
        face_area = 1.0 if self.args.aligned else face_area_of(self.given_faces, header.width, header.height)
        check_memory_budget(header.width, header.height, upscale=self.prefs.upscale, fmt=fmt, alpha=header.alpha,
                            limit=self.memory_limit, name=path_text(path), face_area=face_area,
                            faces_unknown=not self.args.aligned and not self.given_faces,
                            # a 16-bit photo's result keeps its 16 bits where the format holds them (a grey
                            # TIFF with alpha does not, but the header does not tell grey: the most copies)
                            sixteen_bit=self.prefs.keep_16_bits and header.bits == 16
                            and holds_16_bits(fmt, one_channel=False, alpha=header.alpha),
                            eight_bit_setting="--8-bit")
        if self.args.aligned:
            check_aligned_crop(header.width, header.height, name=path_text(path))
        else:
            check_photo_size(header.width, header.height, name=path_text(path))
        for face in self.given_faces:
            check_face_in_photo(face.box, face.landmarks, header.width, header.height, name=path_text(path))
        check_output_size(header.width * self.prefs.upscale, header.height * self.prefs.upscale, fmt,
                          name=path_text(path))
        self._check_writable(dest)

    def _check_writable(self, dest: Path) -> None:
        """Raise ExportError when ``dest``'s folder cannot be written to (or, when it does not exist
        yet, the folder it would be made in): each folder is tried once a run, by creating a
        temporary file there and removing it at once."""
        folder = _nearest_existing(dest.parent)
        if not folder.is_dir():
            return  # a file in the way: making the output folder says so
        if folder not in self._write_problems:
            self._write_problems[folder] = _write_problem(folder)
        exc = self._write_problems[folder]
        if exc is None:
            return
        if folder != dest.parent and exc.errno in (errno.EACCES, errno.EPERM):
            # A folder may be made where no file may be (a Windows drive's root, as a standard user: Windows
            # QA, -o C:\restored was refused as read-only): the output folder is made now, and tried itself
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass
            else:
                return self._check_writable(dest)
        target = f"write {path_text(dest)}" if folder == dest.parent else f"create the output folder {path_text(dest.parent)}"
        message = write_error_message(exc, target, path_text(folder))
        if self.args.output is None:
            message += " Give -o FOLDER to write the results to another folder."
        refused = ExportError(message)
        refused.folder_refuses = True  # (tried just now)
        raise refused from exc

    def _caution_once(self, engine) -> None:
        """Say once per run when --fidelity is below the range the model's evaluation found it works in."""
        fidelity_range = getattr(engine, "fidelity_range", None)
        spares = self.prefs.spare_sharp_faces and getattr(engine, "sharp_faces", None) is not None
        caution = (fidelity_range.caution(self.prefs.fidelity, engine.name, spares=spares)
                   if fidelity_range and not self._cautioned else None)
        self._cautioned = True
        if caution:
            say_note(f"{caution} A higher --fidelity, or none (the model's own, "
                     f"{engine.default_fidelity:g}), keeps to that range.")

    def restore(self, path: Path, relative: Path, on_progress, keep: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Restore one input and write its results; returns its record for the summary.

        ``keep(record)`` is called as soon as its first result is written (before that file's line
        is printed): from then on the record is the caller's, and it lists each result the moment
        it is written, so a Ctrl-C or an error that follows cannot lose one. Its status is "ok"
        once every result is written, "interrupted" until then.
        """
        self.preflight(path, relative)
        photo = read_photo(path)
        record: dict[str, Any] = {"input": path_json(path), "status": "interrupted"}
        fmt = format_for(self.destinations(path, relative)[0])
        too_small = 0
        mask_file = mask_for(self.args.mask, path, relative)
        faceless_note = None  # no face to restore, but damage to fill: said once the mask is known to mark some
        if self.args.aligned:
            faces = []
            self._check_crop_holds_its_face(photo, path)
        elif self.given_faces:
            faces = self._given_faces_in(photo)
        else:
            found = drive(application.iter_detect_faces(photo, self.models.detector(self.prefs), self.prefs), on_progress)
            faces, too_small = found.faces, found.too_small
            if not any(f.enabled for f in faces) and mask_file is not None:  # its damage is filled all the same
                # (damage QA: a torn landscape, or a print whose faces were not found, could not be repaired)
                faceless_note = (f"{path_text(path)}: no face found: only its damage is filled." if not too_small else
                                 f"{path_text(path)}: {application.too_small_message(found, setting='--min-face-size')}"
                                 "; only its damage is filled.")
            elif not any(f.enabled for f in faces) and too_small:
                raise NoFaceFoundError(
                    f"{path}: no face found at least {found.min_size:g} px across: "
                    f"{application.too_small_message(found)}. Lower --min-face-size to restore them"
                    + (" (or give a face the detector missed with --face-box or --face-landmarks, with this photo "
                       "alone)." if self.batch else ", or give a face with --face-box or --face-landmarks.")
                )
            elif not any(f.enabled for f in faces):
                mask_hint = (" It looks like a damage mask (black and white): give its folder or file with --mask "
                             "to use it as one." if looks_like_mask(path) else "")
                way = ("nothing to restore in it (a face the detector missed can be given with --face-box or "
                       "--face-landmarks, with this photo alone)" if self.batch else
                       "Give one with --face-box or --face-landmarks, or use --aligned for face crops")
                raise NoFaceFoundError(f"{path}: no face found{': ' if self.batch else '. '}{way}.{mask_hint}"
                                       f"{application.other_pages_note(photo)}")
            if too_small and any(f.enabled for f in faces):
                say_note(f"{path_text(path)}: {application.too_small_message(found, setting='--min-face-size')}.")
            if (turned := application.turned_message(found)) is not None:  # (geometry QA: faces lost)
                say_note(f"{path_text(path)}: {turned}.")
                record["upright_turn_clockwise_degrees"] = (4 - found.turned) % 4 * 90  # (a script turns it)
            if found.unsure:  # (QA: a hand at a group photo's edge was restored into a face)
                record["unsure_faces_left_out"] = [f.index + 1 for f in found.unsure]
                say_note(f"{path_text(path)}: "
                         f"{application.unsure_message(found, way='--unsure-faces restores such faces too')}.")
        # What the result will be unlike the photo: said once there are faces to restore
        if photo.pages > 1:
            record["pages"] = photo.pages
        if photo.cmyk:
            record["cmyk"] = True
        if photo.bits > 8:
            record["bits_per_channel"] = photo.bits
        if photo.palette:  # (archivist QA: these two were notes alone, which -q silences)
            record["palette"] = True
        if application.misnamed_note(photo, fmt, format_chosen=self.args.format is not None,
                                     keep_lossless=str) is not None:
            record["stored_as"] = photo.format  # a lossless file whose name says JPEG, written as a JPEG
        for note in application.result_notes(photo, fmt, keep_16_bits=self.prefs.keep_16_bits, eight_bit_setting="--8-bit",
                                             quality=self.prefs.quality, quality_setting="--quality",
                                             format_chosen=self.args.format is not None,
                                             keep_lossless=lambda kind: f"give --format {kind.lower()}"):
            say_note(f"{path_text(path)} {note}")
        # Again with what the header could not tell: the faces found, and the copies a 16-bit result
        # needs (for given faces and --aligned crops too)
        application.check_restore_memory(photo, faces, self.prefs, fmt, name=path_text(path), eight_bit_setting="--8-bit",
                                         limit=self.memory_limit, aligned=self.args.aligned)
        engine = self.models.engine(self.prefs)  # loaded once faces are known: no load for a photo that fails earlier
        self._caution_once(engine)
        damage = application.read_damage(mask_file, photo, faces, engine, aligned=self.args.aligned) if mask_file else None
        if damage is not None:  # again with its fill (the model is loaded by now, and kept for the next photo)
            application.check_restore_memory(photo, faces, self.prefs, fmt, name=path_text(path), eight_bit_setting="--8-bit",
                                             limit=self.memory_limit, aligned=self.args.aligned, damage=damage.photo)
        if faceless_note is not None and (damage is None or not damage.photo.any()):  # (sceptic QA: "restored",
            small = (f" at least {self.prefs.min_face_size:g} px across (lower --min-face-size to restore smaller ones)"
                     if too_small else "")
            raise NoFaceFoundError(f"{path}: no face found{small}, and its damage mask {mask_file.name} marks no pixel as "
                                   "damaged: nothing to restore. White, or any light colour, marks damage.")  # (a copy)
        if faceless_note is not None:
            say_note(faceless_note)
        if damage is not None and (warning := mask_warning(damage.photo if damage.crop is None else damage.crop,
                                                           mask_file.name, crop=damage.crop is not None)) is not None:
            say_note(f"{path_text(path)}: {warning}")
        if damage is not None and (warning := colour_mask_warning(mask_file)) is not None:
            say_note(f"{path_text(path)}: {warning}")
        if hit := application.faces_left_off_with_damage(faces, damage.photo if damage is not None else None):
            say_note(f"{path_text(path)}: {application.left_off_damage_message(hit, way=self._switch_on(faces, hit))}")
        result = drive(application.iter_restore(photo, faces, engine, self.prefs, aligned=self.args.aligned,
                                                damage=damage.photo if damage is not None else None,
                                                face_damage=damage.crop if damage is not None else None),
                                        on_progress)
        record.update(faces=len(result.faces), faces_too_small=too_small)
        spared = application.spared_faces(result)
        spared_text = ""
        if spared:
            record["spared"] = [{"face": _face_number(result, s.position), "fidelity": round(s.fidelity, 3),
                                 "restorer_change": round(s.restorer_change, 2)} for s in spared]
            spared_text = self._note_spared(path, result, spared)
        descreened = application.descreened_message(result, switch="--no-descreen keeps the dots.")
        if descreened:
            record["descreened"] = result.screen.provenance()
            say_note(f"{path_text(path)}: {descreened}")
        if result.damage is not None:
            record["damage"] = result.provenance()["damage"]
            covered = application.covered_features_message(result)
            if covered:
                say_note(f"{path_text(path)}: {covered}")
        outputs: list[str] = []
        destinations = self.destinations(path, relative)

        def settle(name: str) -> None:
            """List a result of this photo in its record (the moment it is written, or found written)."""
            outputs.append(name)
            if len(outputs) == len(destinations):
                record["status"] = "ok"
            if len(outputs) == 1:
                record["outputs"] = outputs
                keep(record)

        def note_depth(file: Path) -> None:
            """The bits per channel of the first result of a deep photo (8 or 16: the format, --8-bit,
            or a file changed since), whether written now or found written."""
            if photo.bits > 8 and "written_bits_per_channel" not in record:
                header = probe_photo(file)
                record["written_bits_per_channel"] = header.bits if header is not None else 8

        for k, dest in enumerate(destinations):
            earlier = (application.earlier_result(dest, path, prefer=self._made_alike(path, relative))
                       if self.args.skip_existing else None)
            if earlier is not None and file_is_whole(earlier) and self.made_otherwise(earlier, path, relative):
                earlier = None  # (written meanwhile by another run, with other settings: this one's is kept
                # beside it, under the next number; concurrency QA: it was taken for this run's own)
            cut_short = earlier is not None and not file_is_whole(earlier)
            if earlier is not None and not cut_short:  # a resumed photo: this seed's file was written before
                settle(path_json(earlier))
                note_depth(earlier)
                continue
            chosen = result.with_choice([k] * len(result.faces))
            if self.args.refine:
                chosen = drive(application.iter_refine(chosen, engine, self.args.refine), on_progress)
                changes = [[round(r.change, 3) for r in f.refinement_of(f.chosen)] for f in chosen.faces]
                record.setdefault("refine", []).append(changes)
                say_note(f"{path_text(path)}: {_refined_text(changes, seed=k + 1 if len(destinations) > 1 else None)}")
            # Without --overwrite the name is settled at the rename: a name another run took
            # meanwhile moves on to the next number rather than throwing this result away.
            # --overwrite replaces results, never a file faceapp did not write (QA: an original in -o
            # named as a result was replaced): this photo's result numbered beside it by an earlier run
            # is replaced instead, else the result takes the next number (review: a number a run)
            target, replace = dest, self.args.overwrite
            if replace and _someone_elses(dest):
                target = application.earlier_result(dest, path) or dest
                replace = target != dest
            if cut_short:  # (QA: a result cut short by a copy or a sync counted as restored)
                target, replace = earlier, True
                say_note(f"{path_text(earlier)} is cut short (a copy or a sync interrupted?): this photo is "
                         "restored again, and its result replaces it.")
            on_progress(f"writing {path_text(target.name)}")  # (a 1.7 GB PNG: minutes)
            try:
                make_output_folder(dest.parent)
                written = application.write_result(
                    chosen, target, fmt=format_for(dest), quality=self.prefs.quality, overwrite=replace,
                    unique=not replace, png_compress_level=self.args.png_level,
                    webp_method=self.args.webp_method, source=path, keep_16_bits=self.prefs.keep_16_bits,
                    metadata=self.prefs.metadata, given_faces=(self.face_selection() or {}).get("given_faces", ()),
                )
            except ExportError as exc:
                folder = _nearest_existing(dest.parent)
                # (one locked file, EACCES on Windows, is not its folder's refusal: the folder is tried again)
                exc.folder_refuses = _folder_refuses(exc) and (_whole_disk(exc) or _write_problem(folder) is not None)
                if exc.folder_refuses:
                    self._write_problems[folder] = exc.__cause__  # the next photos for it fail before restoring
                raise
            settle(path_json(written))  # before anything else happens (the line below can take a Ctrl-C too)
            note_depth(written)
            if written != dest:
                self._note_numbered(dest, written, path)
            self._written.add(written)
            say(f"{path_text(path)} → {path_text(written)}{spared_text}")
        return record

    def _switch_on(self, faces: list, hit: list) -> str:
        """The options that would restore the faces ``hit`` (switched off) as faces: --unsure-faces
        for those the detector is unsure of, --faces all for those the selection left out (review:
        one option named for all, the wrong one with --faces largest)."""
        unsure = set() if self.prefs.include_unsure_faces else {f.index for f in application.unsure_faces(faces)}
        doubted = any(f.index in unsure for f in hit)
        selected = self.prefs.face_selection != "all"
        if doubted and selected:
            return "--faces all with --unsure-faces restores every face"
        if doubted:
            return "--unsure-faces restores the faces the detector is unsure of too"
        return "--faces all restores every face"

    def _note_numbered(self, dest: Path, written: Path, source: Path) -> None:
        """Say why a result of ``source`` was written under another name than ``dest``, once a run
        for each reason: a file of the user's there (--overwrite leaves it), a name taken (QA: a
        batch run again doubled the folder unasked), with the advice for running a batch again only
        when the name holds an earlier run's result (QA: given for a name this run took, or the
        input's); each time the name holds the result of an earlier version of the photo (QA: an
        edited photo's new result went beside the stale one, said to be a name taken)."""
        if (not self.args.overwrite and dest not in self._written
                and application.is_result_of_another_version(dest, source)):
            say_note(f"{path_text(dest)} is faceapp's result of another file named {path_text(source.name)} (an "
                     "earlier version of this photo, or another photo of that name), so this result is "
                     f"{path_text(written.name)}.")
            return

        if self.args.overwrite:
            if not self._overwrite_noted:
                self._overwrite_noted = True
                say_note(f"{path_text(dest)} was not written by faceapp, so --overwrite leaves it as it is: "
                         f"this result is {path_text(written.name)}, and so on for other such files.")
            return
        earlier = dest not in self._written and not self.args.skip_existing and is_faceapp_output(dest)
        if earlier and not self._resume_advised:
            self._resume_advised = self._numbered_noted = True
            advice = (" Running a batch again? --skip-existing leaves photos restored before alone; "
                      "--overwrite replaces their results.")
        elif not self._numbered_noted:
            self._numbered_noted = True
            advice = ""
        else:
            return
        say_note(f"{path_text(dest)} exists, so this result is {path_text(written.name)}, and so on for "
                 f"results whose names are taken.{advice}")

    def _note_spared(self, path: Path, result, spared) -> str:
        """Say that faces of ``path`` were spared: for a single input the full note; in a batch the
        advice once a run, and what the output lines of this photo end with (e.g. " (spared: face 2
        kept)")."""
        switch = "Give --no-spare-sharp-faces to diffuse every face"
        # every face kept, and no damage that each seed fills its own way: no seed's file differs
        # (--refine diffuses each seed's face again, with that seed: the files differ)
        same_files = (self.prefs.seeds_per_face > 1 and not self.args.refine
                      and all(face.seeds_alike() for face in result.faces))
        if not self.batch:
            message = application.spared_message(result, switch=switch, number=lambda p: _face_number(result, p))
            if same_files:
                message += f" Until then the {self.prefs.seeds_per_face} seeds' files are the same."
            say_note(f"{path_text(path)}: {message}")
            return ""
        if not self._spared_advised:
            self._spared_advised = True
            say_note("Faces the restorer barely changes are spared the prior, which would smear them: such a "
                     "face keeps the restorer's result (\"kept\") or is sampled at a higher fidelity; the photos' "
                     f"lines say which. {switch}.")
        parts = [(f"face {_face_number(result, s.position)} kept" + (" once its damage was filled" if s.repaired else ""))
                 if s.fidelity >= 1.0 else f"face {_face_number(result, s.position)} sampled at fidelity {s.fidelity:.2f}"
                 for s in spared]
        if same_files:
            parts.append("the seeds' files are the same")
        return f" (spared: {', '.join(parts)})"


def _say_other_settings(count: int) -> None:
    """The count of the skipped photos made with other settings after the first, said once a run
    (QA: a note each, hundreds of them)."""
    if count > 1:
        say_note(f"{counted(count - 1, 'more skipped photo')} also had results made with other settings "
                 "(--json lists them): --overwrite restores them again with these.")


def _refined_text(changes: list[list[float]], *, seed: int | None = None) -> str:
    """What --refine did to a result (``changes``: each face's passes' RMS changes; ``seed``: which
    of several results), said as --help promises (QA: only --json had it)."""
    which = f" (result {seed})" if seed is not None else ""
    faces = "; ".join(f"face {number} moved " + ", ".join(f"{change:.1f}" if change >= 0.05 else "under 0.1"
                                                           for change in passes) + " grey levels"
                      for number, passes in enumerate(changes, start=1) if passes)
    passes = max((len(p) for p in changes), default=0)
    times = "once" if passes == 1 else f"{passes} times"
    return f"refined {times}{which}: {faces} (RMS{', pass by pass' if passes > 1 else ''})."


def _without_masks(inputs: list[tuple[Path, Path]], option: Path | None) -> list[tuple[Path, Path]]:
    """``inputs`` less the files ``--mask`` uses as the masks of other inputs, saying what was left out
    and which pairs could each be the other's mask."""
    sorted_out = separate_masks(inputs, option)
    if sorted_out.masks:
        what = ("1 file used as a damage mask is" if sorted_out.masks == 1
                else f"{sorted_out.masks} files used as damage masks are")
        say_note(f"{what} not restored.")
    if sorted_out.in_mask_folder:  # (review: counted as masks used, matched or not)
        say_note(f"{counted(sorted_out.in_mask_folder, 'file')} in the folder of masks {path_text(option)} "
                 f"{'is' if sorted_out.in_mask_folder == 1 else 'are'} not restored as photos.")
    if sorted_out.without_mask:
        stems = {photo.stem for photo, _ in sorted_out.photos}
        relatives = dict(inputs)
        nearly = []
        for photo in sorted_out.without_mask:  # (three said at most: stop looking there)
            if (miss := near_miss(option, photo, relatives.get(photo), others=stems - {photo.stem})) is not None:
                nearly.append((photo, miss))
                if len(nearly) == 3:
                    break
        hint = "".join(f" {path_text(miss.name)} looks meant for {path_text(photo.name)}: name it {path_text(photo.stem)}_mask{path_text(miss.suffix)}."
                       for photo, miss in nearly)
        say_note(f"{path_text(option)} holds no damage mask for {len(sorted_out.without_mask)} of "
                 f"{counted(len(sorted_out.photos), 'photo')} ({listed([path_text(p.name) for p in sorted_out.without_mask])}): "
                 f"{'it is' if len(sorted_out.without_mask) == 1 else 'they are'} restored without repair. A photo's "
                 f"mask is named like it (photo.png or photo_mask.png) at its path within its input folder.{hint}")
    for photo, twin in sorted_out.unclear:
        say_note(f"{path_text(photo)} and {path_text(twin.name)} could each be the other's damage mask, and neither looks "
                 f"more like a mask (black and white): both are restored without repair. Name the mask "
                 f"{path_text(photo.stem)}_mask.png, or keep masks in a folder of their own.")
    return sorted_out.photos


def _once_each(inputs: list[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """``inputs`` with each file once (a photo named twice, or named and inside a folder named, is
    restored once), saying so."""
    first: dict[object, Path] = {}
    kept, again = [], []
    for path, relative in inputs:
        key = file_key(path)  # (a link loop: reading it says what it is)
        if key not in first:
            first[key] = path
            kept.append((path, relative))
        else:
            again.append((path, first[key]))
    if again:  # (named: a script looking its own spelling up in the JSON finds the first one's: CLI QA)
        said = Counter((path_text(path), path_text(same)) for path, same in again)  # each spelling once (review:
        listed_again = "; ".join(  # "a.jpg again; a.jpg again")
            (f"{path} as {same}" if path != same else f"{path} again")  # (QA: ./a.jpg, read as a.jpg: "a.jpg as a.jpg")
            + ("" if times == 1 else " twice" if times == 2 else f" {times} times")
            for (path, same), times in list(said.items())[:3])
        more = f"; and {len(said) - 3} more" if len(said) > 3 else ""
        say_note(f"{len(again)} input(s) named more than once are restored once, listed under their first "
                 f"name: {listed_again}{more}.")
    return kept


def _face_number(result, position: int) -> int:
    """The number a face restored at ``position`` of ``result`` has in its photo: the detector's (a
    face left out before it, unsure or not selected, keeps its number; review: "faces 1, 2, 3, 4
    kept" named the face left off)."""
    return result.faces[position].face.index + 1


def _someone_elses(dest: Path) -> bool:
    """Whether a file faceapp did not write is at ``dest`` (a link counts as the file it is)."""
    return os.path.lexists(dest) and not is_faceapp_output(dest)


def _nearest_existing(folder: Path) -> Path:
    """``folder``, or the nearest of its parents that exists (what making it starts from)."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _broken_link_on_the_way(folder: Path) -> Path | None:
    """``folder`` or the first of its parents that is a link to nothing (batch QA: an output folder
    linked to a drive not connected failed every photo with "a file of that name is in the way")."""
    for path in (folder, *folder.parents):
        if os.path.islink(path) and not path.exists():
            return path
    return None


def _file_in_the_way(folder: Path) -> Path | None:
    """The file among ``folder``'s parents that keeps it from being made (None: nothing is in the way)."""
    nearest = _nearest_existing(folder)
    return nearest if nearest.exists() and not nearest.is_dir() else None


def _check_pattern(given: str, pattern: str) -> None:
    """Raise ExportError for a ``--pattern`` that gives no plain file name, saying which fields it may use."""
    try:
        pattern.format(stem="photo", seed=0)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        problem = f"unknown field {{{exc.args[0]}}}" if isinstance(exc, KeyError) else str(exc)
        raise ExportError(f"bad output name pattern {given!r}: {problem}. It may use {{stem}} (the input's name "
                          "without its extension) and {seed} (the seed; added when --seeds is 2 or more); "
                          "write {{ and }} for a brace.") from None
    output_file_name(Path("photo.jpg"), pattern=pattern, fields={"seed": 0})
    if (suffix := Path(given).suffix.lower()) in PHOTO_SUFFIXES:
        fmt = suffix.lstrip(".")
        how = f"for {suffix} results give --format {fmt}" if fmt in OUTPUT_FORMATS or fmt in ("jpeg", "tif") else \
            f"faceapp writes {', '.join(OUTPUT_FORMATS)} (--format)"
        raise ExportError(f"bad output name pattern {given!r}: it names the file without its extension (which "
                          f"follows the format); {how}.")


def _write_problem(folder: Path) -> OSError | None:
    """Why no file can be created in ``folder`` (None when one can): a hidden temporary file is made
    there as a result would be, :data:`_ROOM_TRIED` bytes are written into it, and it is removed at
    once (an empty file fits on a full disk: fault QA, the disk was found full after the restore;
    review: what the disk's free space says for another user, a quota or a reserve, a write tells)."""
    try:
        fd, name = create_temp(folder, "write-test", ".part")
    except OSError as exc:
        return exc
    problem = None
    try:
        os.write(fd, bytes(_ROOM_TRIED))
    except OSError as exc:
        problem = exc
    finally:
        os.close(fd)
        try:
            os.unlink(name)
        except OSError:
            pass
    return problem


#: What the write test writes: less room than this is none (the smallest results are some 20 KB).
_ROOM_TRIED = 64 * 1024


def _results_named(restorer: _Restorer, inputs: list[tuple[Path, Path]]) -> Iterator[tuple[Path, Path]]:
    """(input, a result file it would write) for every input and seed, before any numbering."""
    for path, relative in inputs:
        try:
            destinations = restorer.destinations(path, relative)
        except ExportError:
            continue  # a name that cannot be made fails that photo when it comes
        for dest in destinations:
            yield path, dest


def _replaced_input(restorer: _Restorer, inputs: list[tuple[Path, Path]],
                    found: list[tuple[Path, Path]]) -> tuple[Path, Path] | None:
    """(file, the result file that would replace it) if --overwrite would replace any file ``found``
    in the inputs (the photos ``inputs``, and the damage masks among them)."""
    originals = {file_identity(path): path for path, _ in found}
    originals.pop(None, None)
    for _path, dest in _results_named(restorer, inputs):
        key = file_identity(dest)
        if key is not None and key in originals:
            return originals[key], dest
    return None


def _shared_result(restorer: _Restorer, inputs: list[tuple[Path, Path]]) -> tuple[Path, Path, Path] | None:
    """(one input, another, the result file both would write) if two inputs of this run map to one
    result name: with --overwrite the second would replace the first's result (without it, the
    second takes a numbered name)."""
    writers: dict[str, Path] = {}
    for path, dest in _results_named(restorer, inputs):
        key = os.path.normcase(os.path.abspath(dest))  # (Windows: case folded)
        if sys.platform == "darwin":  # a Mac's disk takes IMG.jpg and img.jpg, "é" and "e"+accent, for one name
            key = name_key(key).casefold()  # (portability review)
        if writers.setdefault(key, path) != path:
            return writers[key], path, dest
    return None


def run_restore(args: argparse.Namespace) -> int:
    """Restore every input; return the exit code."""
    from tqdm import tqdm

    started = time.monotonic()
    try:
        restorer = _Restorer(args)
        format_for("x.png", args.format)
    except (ValueError, FaceappError) as exc:
        print(f"error: {message_text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    if args.resample > 1 and args.mask is None:  # (QA: taken without a word)
        say_note(f"--resample {args.resample} applies to the damage a mask marks: without --mask it does nothing.")
    with notes_kept_back() as kept:
        found = _once_each(collect_inputs(args.inputs, recursive=args.recursive, own_folders=(args.output, args.mask)))
        inputs = _without_masks(found, args.mask)
    if not inputs:
        say_kept(kept)  # (what was left out, and why: said with --quiet too)
        print("error: no photos found in the given folders", file=sys.stderr)
        if args.json:  # a script reading stdout gets its document, as after photos that failed (usage errors: none),
            # each folder named a failed input (batch QA: exit 1 with "failed": 0 read as success)
            empty = [{"input": path_json(folder), "status": "failed", "error": f"{path_text(folder)}: no photos found in it.",
                      "error_kind": "no_photos"} for folder in dict.fromkeys(map(Path, args.inputs))]
            _print_summary(args, empty, len(empty), seconds=time.monotonic() - started)
        return EXIT_FAILURE
    photos = [(path, relative) for path, relative in inputs if not is_folder(path)]  # (a folder not listed: no result)
    if restorer.given_faces and len(photos) > 1:  # (QA: one box drew a ghostly face into every landscape of a folder)
        given = " and ".join(name for name, used in (("--face-box", args.face_box), ("--face-landmarks", args.face_landmarks))
                             if used)
        say_note(f"the faces given by {given} are restored at the same place in each of the {len(photos)} photos "
                 "(no face is looked for); to give a face of one photo, restore that photo alone.")
    for note in unused_format_options(args.given, {application.output_format(path, restorer.prefs) for path, _ in photos}):
        say_note(note)
    if args.overwrite and (clash := _replaced_input(restorer, photos, found)) is not None:
        what = "photo" if any(clash[0] == path for path, _ in inputs) else "damage mask"
        print(f"error: --overwrite would replace the input {what} {path_text(clash[0])} with a result; faceapp never replaces "
              "an original. Choose another --pattern or output folder (-o).", file=sys.stderr)
        return EXIT_USAGE
    if args.overwrite and (shared := _shared_result(restorer, photos)) is not None:
        print(f"error: {path_text(shared[0])} and {path_text(shared[1])} would both be written to {path_text(shared[2])}: with --overwrite the "
              "second result would replace the first. Give them different names or folders (a --pattern, -r "
              "to keep sub-folders under -o), or leave out --overwrite to number the second.", file=sys.stderr)
        return EXIT_USAGE
    restorer.batch = len(inputs) > 1
    missing = {Path(a): problem for a in args.inputs if (problem := missing_input_problem(a)) is not None}
    records: list[dict[str, Any]] = []
    other_settings = 0  # skipped photos whose results were made with other settings
    bar = tqdm(total=len(inputs), unit="photo", disable=True if args.no_progress or args.quiet else None, file=sys.stderr)
    current: list[Path] = []  # the input being restored, until its record is in
    try:
        for path, relative in inputs:
            bar.set_postfix_str("", refresh=False)  # the last photo's faces and steps are not this one's
            bar.set_description(path_text(path.name)[:30])

            def on_progress(progress, bar=bar) -> None:
                if isinstance(progress, str):  # a stage after the faces (QA: a big scan sat on its last face)
                    bar.set_postfix_str(progress)
                elif isinstance(progress, DetectionProgress):
                    bar.set_postfix_str(progress.describe().replace("Finding", "finding"))
                elif progress.total_steps:
                    bar.set_postfix_str(
                        f"face {progress.face_index + 1}/{progress.face_count} step {progress.step}/{progress.total_steps}"
                    )

            kept: list[dict[str, Any]] = []  # this input's record, once a result of it is written
            current[:] = [path]

            def keep(record: dict[str, Any], kept=kept) -> None:
                records.append(record)
                kept.append(record)
                current.clear()  # its record is in: an interrupt from here on adds none

            def fail(error: str, kind: str, kept=kept, path=path) -> None:
                if kept:  # the results written before the error are still listed
                    kept[0].update(status="failed", error=error, error_kind=kind)
                else:
                    records.append({"input": path_json(path), "status": "failed", "error": error, "error_kind": kind})
                current.clear()

            try:
                if path in missing:
                    raise ImageError(missing[path])
                if is_folder(path):  # (collect_inputs lists a folder only when it could not look into it)
                    raise ImageError(unlisted_folder_problem(path))
                if args.skip_existing and (existing := restorer.finished(path, relative)) is not None:
                    records.append({"input": path_json(path), "status": "skipped",
                                    "outputs": [path_json(name) for name in existing]})
                    changed = restorer.made_otherwise(existing[0], path, relative)
                    if changed:
                        records[-1]["made_with_other_settings"] = changed
                        other_settings += 1
                        if other_settings == 1:  # the rest: counted at the end
                            say_note(f"{path_text(path)}: skipped; its result {path_text(existing[0])} was "
                                     f"made with other settings ({'; '.join(changed)}): --overwrite restores it "
                                     "again with these.")
                    current.clear()
                else:
                    restorer.restore(path, relative, on_progress, keep)  # its record is kept as it is written
            except Cancelled:
                raise
            except FaceappError as exc:
                said = message_text(str(exc), path)  # (its name, wherever the message has it, escaped)
                if isinstance(exc, NoFaceFoundError) and restorer.batch and not kept:
                    # in a batch, a photo without a face (a landscape, a detail shot) is not a failure; the
                    # one photo asked for is (QA, twice: every rerun exited 1 for an archive's landscapes)
                    records.append({"input": path_json(path), "status": "no_face", "reason": plain_text(str(exc))})
                    say_note(said)
                else:
                    fail(plain_text(str(exc)), exc.kind)
                    # the line names its photo, as most messages do themselves (QA: a mask of the wrong size,
                    # a result's name too long: only the other file was named); not one that stops the batch
                    # (a mask's message names the mask, which may share the photo's name: batch QA)
                    named = _is_fatal(exc) or (not isinstance(exc, MaskError)
                                               and (path.name in str(exc) or path_text(path.name) in str(exc)))
                    bar.write(f"error: {said}" if named else f"error: {path_text(path)}: {said}", file=sys.stderr)
                    if _stops_batch(exc, args):
                        break
            except Exception as exc:  # a bug or an unforeseen library error: fail this input, go on
                from faceapp.core.devices import as_out_of_memory

                if isinstance(plain := as_out_of_memory(exc, seeds_setting="--seeds", upscale_setting="--upscale"),
                              FaceappError):  # the memory ran out: said so
                    fail(plain_text(str(plain)), plain.kind)
                    bar.write(f"error: {path_text(path)}: {message_text(str(plain))}", file=sys.stderr)
                else:
                    log.exception("unexpected error on %s", path_text(path))
                    fail(f"unexpected error: {exc!r}", "unexpected")
                    bar.write(f"error: {path_text(path)}: unexpected error: {exc!r}", file=sys.stderr)
            bar.update(1)
            current.clear()
    except (KeyboardInterrupt, Cancelled):
        termination.stop_taken()  # (a second Ctrl-C does not cut what follows short)
        bar.close()
        if current:  # stopped before its first result was written (a record clears it)
            records.append({"input": path_json(current[0]), "status": "stopped"})
        _say_other_settings(other_settings)
        print("Interrupted; the files already written are kept (--skip-existing resumes the batch).", file=sys.stderr)
        _print_summary(args, _with_not_reached(records, inputs), len(inputs), batch=restorer.batch,
                       seconds=time.monotonic() - started)
        return EXIT_INTERRUPTED
    bar.close()
    _say_other_settings(other_settings)
    failed = [r for r in records if r["status"] == "failed"]
    code = EXIT_OK if not failed and len(records) == len(inputs) else EXIT_FAILURE
    _print_summary(args, _with_not_reached(records, inputs), len(inputs), batch=restorer.batch,
                   seconds=time.monotonic() - started)
    return code


def _with_not_reached(records: list[dict[str, Any]], inputs: list[tuple[Path, Path]]) -> list[dict[str, Any]]:
    """``records`` and one ``"not_reached"`` record for each input the batch stopped before (an
    interrupt, or an error every input would meet), in input order: a script retries those by name
    (QA: only their count was given)."""
    reached = {record["input"] for record in records}
    return records + [{"input": path_json(path), "status": "not_reached"}
                      for path, _ in inputs if path_json(path) not in reached]


#: What a folder's refusal to take a file is, by errno: a full disk, a read-only one or folder.
_REFUSING_FOLDER = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def _folder_refuses(exc: BaseException) -> bool:
    """Whether ``exc`` (an ExportError) is its folder's refusal of any file: full, or read-only."""
    return isinstance(exc, ExportError) and getattr(exc.__cause__, "errno", None) in _REFUSING_FOLDER


def _whole_disk(exc: BaseException) -> bool:
    """Whether ``exc``'s cause is a refusal of its whole disk: full, or read-only."""
    return getattr(exc.__cause__, "errno", None) in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def _stops_batch(exc: FaceappError, args: argparse.Namespace) -> bool:
    """Errors that would repeat for every input: :func:`_is_fatal`'s, and, where every result goes
    to one folder (-o), that folder's refusal (QA: on a full disk every remaining photo was
    restored, minutes of work, only to fail at its write): a whole disk's, or, without -r (whose
    sub-folders are others), the folder's, found by a write to it that fails (preflight's, or one
    tried again after a result's write was refused: a locked file is not its folder's refusal)."""
    if not _folder_refuses(exc) or args.output is None:
        return _is_fatal(exc)
    if _whole_disk(exc):
        return True
    return not args.recursive and getattr(exc, "folder_refuses", False)


def _is_fatal(exc: FaceappError) -> bool:
    """Errors that would repeat for every input (no model, no detector, no device): stop at the first."""
    from faceapp.core.errors import DetectorUnavailableError, DeviceError, ModelError, OutOfMemoryError

    return isinstance(exc, (ModelError, DetectorUnavailableError, DeviceError)) and not isinstance(exc, OutOfMemoryError)


def _print_summary(args: argparse.Namespace, records: list[dict[str, Any]], total: int, *, batch: bool = False,
                   seconds: float = 0.0) -> None:
    """The run's last words: ``--json``'s document on stdout, else a line on stderr. Skipped inputs
    are those ``--skip-existing`` found done; an interrupted input had some of its results (seeds)
    written, not all; a stopped one was being restored when the run was interrupted, nothing of
    it written; an input not reached (after an interrupt or an error every input would meet) has a
    ``"not_reached"`` record (:func:`_with_not_reached`). ``batch``: the line counts the photos restored with faces spared the prior (a
    single photo's note says it in full). ``seconds``: the batch's wall time; faces restored are
    those of the photos written this run."""
    summary = restore_document(records, total, seconds=seconds)
    if args.json:
        print_json(summary)
        return
    if args.quiet and summary["restored"] + summary["skipped"] + summary["no_face"] == total:  # (cron: all went well)
        return
    ok, failed, interrupted, stopped, done_before, not_reached, faces = (summary[key] for key in (
        "restored", "failed", "interrupted", "stopped", "skipped", "not_reached", "faces_restored"))
    spared = sum(1 for r in records if r.get("spared") and r["status"] == "ok") if batch else 0
    if getattr(args, "aligned", False):  # a crop is one face (QA: "12 of 12 photos restored" of face crops)
        line = f"{ok} of {total} face crops restored, in {duration(seconds)}"
    else:
        line = f"{ok} of {total} photos restored, {faces} face{'' if faces == 1 else 's'}, in {duration(seconds)}"
    if spared:
        line += f" (faces spared the prior in {spared})"
    if interrupted:
        line += f"; {interrupted} interrupted with some of {'its' if interrupted == 1 else 'their'} results written"
    if done_before:
        line += f"; {done_before} skipped, restored before (--skip-existing)"
    if summary["no_face"]:
        line += f"; {summary['no_face']} with no face found (nothing written)"
    if failed:
        line += f"; {failed} failed"
    if stopped:
        line += "; 1 stopped before its results were written"
    if not_reached:
        line += f"; {not_reached} not reached"
    print(f"{line}.", file=sys.stderr)


# --- entry point ---------------------------------------------------------------------------
class _NoteHandler(logging.Handler):
    """faceapp's own warnings (a JPEG flattened over white, metadata too long for its segment) as the
    CLI's other remarks: ``note: …`` lines on stderr, above the progress bar. Without it Python
    printed them bare (QA: a line without a prefix among the notes). Errors are printed as Python
    did, with their traceback (an unexpected error's is the only record of it)."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        if record.levelno < logging.ERROR and notes_are_silenced():  # (--quiet)
            return
        try:
            said = ended(record.getMessage())  # a sentence, as the other notes (review)
            text = message_text(f"note: {said}" if record.levelno < logging.ERROR else self.format(record))
            tqdm.write(text, file=sys.stderr)
        except Exception:  # (logging never raises into the run)
            self.handleError(record)


def _show_warnings_as_notes() -> None:
    quiet_pillow_warnings()
    logger = logging.getLogger("faceapp")
    if not any(isinstance(handler, _NoteHandler) for handler in logger.handlers):
        logger.addHandler(_NoteHandler(logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``faceapp-cli``; return the exit code."""
    _escape_what_the_terminal_cannot_show()
    with tolerant_stderr():  # (sysadmin QA: a stderr on a full disk, gone or closed stopped the batch)
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    _show_warnings_as_notes()
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if (mistake := command_mistake(given)) is not None:  # (QA: "restor a.jpg" restored a.jpg, then failed)
            parser.error(mistake)
        args = parser.parse_args(normalise_argv(given))
    except SystemExit as exit_:  # argparse exits 2 on usage errors, 0 on --help
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with terminate_like_interrupt(), notes_silenced(getattr(args, "quiet", False)):
            if args.command == "restore":
                return run_restore(args)
            from faceapp.cli_models import run_models_command

            return run_models_command(args)
    except BrokenPipeError:
        return _reader_went_away()
    except JsonNotWritten as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:  # before a batch started (loading torch, walking folders), or in `models`
        termination.stop_taken()
        print("Interrupted.", file=sys.stderr)
        if args.command == "restore" and args.json:  # (QA: a script reading stdout got nothing to parse)
            try:
                print_json(unreached_document(args.inputs))
            except JsonNotWritten as exc:
                print(f"error: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED


#: Signs of faceapp's own wording, as plain ASCII for a terminal that cannot show them: only those no
#: file name holds as the ASCII does (sceptic QA and review: "Mum’s 1990–1995.jpg" and "Mum's 1990-1995.jpg",
#: "Wait….jpg" and "Wait....jpg" printed alike).
_PLAIN_PUNCTUATION = {"→": "->", "▸": ">"}
_PLAIN_OR_ESCAPED = "faceapp-plain-or-escaped"


def _plain_or_escaped(error: UnicodeError) -> tuple[str, int]:
    """What a stream that cannot encode some characters writes for them: the signs of faceapp's wording
    as plain ASCII ("->" for "→"), anything else (a name's letters) escaped (``\\xe9``, ``\\u2019``)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(_PLAIN_PUNCTUATION.get(c) or c.encode("ascii", "backslashreplace").decode("ascii")
                   for c in text), error.end


codecs.register_error(_PLAIN_OR_ESCAPED, _plain_or_escaped)


def _escape_what_the_terminal_cannot_show() -> None:
    """A terminal whose encoding is not UTF-8 (``LANG=en_US.ISO-8859-1``, a Windows console's code
    page, a redirected stream there) gets plain ASCII for the punctuation it cannot show and ``\\u``
    escapes for other characters, not a UnicodeEncodeError (unicode QA: ``restore --help``, with its
    '…', and ``models list``, with its '—', ended in a traceback; Windows QA: every result line
    read "\\u2192")."""
    for stream in (sys.stdout, sys.stderr):
        if callable(getattr(stream, "reconfigure", None)) and (stream.errors or "strict") in ("strict",
                                                                                               "backslashreplace"):
            stream.reconfigure(errors=_PLAIN_OR_ESCAPED)


def _reader_went_away() -> int:
    """stdout's reader closed the pipe (``| head``): stop quietly, as command-line tools do."""
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail too.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_FAILURE

