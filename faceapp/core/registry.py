"""Model manifests (``models/*.toml``) and their weight files: list, install, verify, delete.

A manifest names a model, its diffusion schedule, its networks (``[prior]``, ``[restorer]``:
architecture, weight file, constructor arguments) and the weight files with where to download
them (``[[files]]``). Weight files are looked up beside the manifest first (bundled models), then
in the weights folder, where downloads and imports go. See ``docs/architecture.md``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shlex
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from faceapp import paths
from faceapp.core.download import ProgressCallback, being_downloaded, download_file, partial_path
from faceapp.core.file_digest import file_sha256
from faceapp.core.errors import (
    ArchitectureMismatchError,
    CorruptModelError,
    ModelDownloadError,
    ModelError,
    ModelNotFoundError,
    UnsafeCheckpointError,
)
from faceapp.core.manifest import ModelFile, ModelManifest, load_manifest
from faceapp.core.pathtext import file_problem, is_same_file, path_text
from faceapp.core.tempfiles import create_temp, process_exists, replace_file, sweep_stale
from faceapp.core.wording import counted, human_size

log = logging.getLogger(__name__)

CLI = "faceapp-cli"

# File states (FileStatus.state) and model states (ModelStatus.state).
INSTALLED, MISSING, PARTIAL, DAMAGED = "installed", "missing", "partial", "damaged"
#: A file of the right size that faceapp did not put there nor check yet (copied by hand): usable,
#: it is checked when loaded or by ``models verify``, but not shown as installed until then.
UNVERIFIED = "unverified"
#: File states a model can load from (an unverified file is checked first).
USABLE = frozenset({INSTALLED, UNVERIFIED})

#: In the weights folder: {file name: [size, mtime_ns]} of each file downloaded, imported or verified.
_VERIFIED_RECORD = ".verified.json"

_RECORD_SUFFIX = ".recording"  # the record's next version, written beside it and renamed into place
_IMPORT_SUFFIX = ".importing"  # an import's temporary copy; an import never resumes, it starts over



@dataclass(frozen=True)
class FileStatus:
    """Where one weight file stands on disk."""

    file: ModelFile
    state: str  # INSTALLED, UNVERIFIED (placed by hand), MISSING, PARTIAL (a .part exists) or DAMAGED (wrong size)
    path: Path  # where the file is, or where a download or import will put it
    size: int  # bytes on disk (of the .part file when PARTIAL), 0 when missing
    bundled: bool  # lies beside the manifest: shipped with the app, never deleted


@dataclass(frozen=True)
class ModelStatus:
    """Where every weight file of a model stands on disk."""

    manifest: ModelManifest
    files: tuple[FileStatus, ...]

    @property
    def installed(self) -> bool:
        """Every file is there (unverified ones included: they are checked when loaded)."""
        return all(f.state in USABLE for f in self.files)

    @property
    def state(self) -> str:
        """INSTALLED, UNVERIFIED (all there, some placed by hand and not checked yet), MISSING
        (nothing on disk), DAMAGED, or PARTIAL (some of it on disk)."""
        states = {f.state for f in self.files}
        if states <= {INSTALLED}:
            return INSTALLED
        if states <= USABLE:
            return UNVERIFIED
        if DAMAGED in states:
            return DAMAGED
        return MISSING if states == {MISSING} else PARTIAL

    @property
    def size_on_disk(self) -> int:
        return sum(f.size for f in self.files)

    def size_text(self) -> str:
        """Its size for people: on disk when installed, else the full size, or what is there of it
        ("12.0 MB of 700.3 MB"); "unknown" (or "12.0 MB so far") where the manifest gives no size."""
        if self.installed:
            return human_size(self.size_on_disk)
        have = human_size(self.size_on_disk) if self.size_on_disk else ""
        expected = [f.file.size for f in self.files]
        if all(expected):
            full = human_size(sum(expected))
        elif all(f.file.size or f.file.approx_size for f in self.files):  # the manifest's estimate
            full = "about " + human_size(sum(f.file.size or f.file.approx_size for f in self.files))
        else:
            return f"{have} so far" if have else "unknown"
        return f"{have} of {full}" if have else full


@dataclass(frozen=True)
class VerifiedFile:
    """A weight file that passed verification, and how it was checked."""

    name: str
    path: Path
    method: str  # "sha256", "structure", "size" or "present" (nothing to check it against)


@dataclass(frozen=True)
class DeleteResult:
    deleted: tuple[Path, ...]
    kept: tuple[tuple[Path, str], ...]  # (file, why it was kept)


@dataclass(frozen=True)
class DeletionPlan:
    """What :meth:`Registry.delete` would do with a model's files: remove ``files`` (with their
    partial downloads), keep the ``bundled`` ones and those ``shared`` with another model (each
    with that model's name)."""

    files: tuple[FileStatus, ...]
    bundled: tuple[Path, ...] = ()
    shared: tuple[tuple[Path, str], ...] = ()

    @property
    def size(self) -> int:
        """Bytes the removed files take on disk now."""
        return sum(entry.size for entry in self.files)

    @property
    def kept(self) -> tuple[tuple[Path, str], ...]:
        """The files kept, each with why."""
        return (*((path, _beside_manifest_text(path)) for path in self.bundled),
                *((path, f"also used by the model '{other}'") for path, other in self.shared))


def _beside_manifest_text(path: Path) -> str:
    """Why a weight file beside its manifest is kept: shipped with the app, or placed there by the
    user (a model exported from training: QA, it was called "bundled with the app")."""
    if is_same_file(path.parent, paths.bundled_models_dir()):
        return "bundled with the app"
    return "beside the model's own manifest (faceapp deletes only the files it downloaded or imported)"


#: ``on_file(file_name, index, count)``: :meth:`Registry.download` starts file ``index``
#: (1-based) of the ``count`` it has to fetch; ``progress`` then reports bytes of that file.
FileStarted = Callable[[str, int, int], None]


#: How a file that came with faceapp is repaired.
_REINSTALL = ("Reinstall faceapp to repair it (pip install --force-reinstall faceapp; from a checkout, "
              "git checkout -- models).")

#: The bundled files whose checksum this process checked, as they were then (path, size, time).
_BUNDLED_CHECKED: set[tuple[str, int, int]] = set()


def _check_bundled(manifest: ModelManifest, entry: ModelFile, path: Path) -> None:
    """Raise :class:`CorruptModelError` where the file ``path``, which came with faceapp, is not
    the one its manifest states (its SHA-256); checked once a process while it stays unchanged."""
    try:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key in _BUNDLED_CHECKED:
            return
        matches = file_sha256(path) == entry.sha256
    except OSError as exc:
        raise ModelError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if not matches:
        raise CorruptModelError(f"{path} does not match the checksum of {entry.name}: the model "
                                f"'{manifest.name}' that came with faceapp is damaged. {_REINSTALL}")
    _BUNDLED_CHECKED.add(key)


# --- the registry -------------------------------------------------------------------------
class Registry:
    """The models faceapp knows (bundled and user manifests) and their weight files."""

    def __init__(
        self,
        manifest_dirs: Iterable[Path] | None = None,
        weights_dir: Path | None = None,
    ) -> None:
        if manifest_dirs is None:
            manifest_dirs = (paths.bundled_models_dir(), paths.user_manifests_dir())
        self.manifest_dirs = tuple(Path(d) for d in manifest_dirs)
        self.weights_dir = Path(weights_dir) if weights_dir is not None else paths.weights_dir()
        #: Messages about manifests that were skipped (invalid or a repeated name).
        self.problems: list[str] = []
        #: The manifests that could not be read, and why (:func:`load_manifest`'s message).
        self.unreadable: dict[Path, str] = {}
        #: The manifest folders that could not be looked into, and why, in words.
        self.folders_unread: dict[Path, str] = {}
        self._manifests: dict[str, ModelManifest] = {}
        self.reload()
        # A killed import's copy is hidden and may be hundreds of MB; most users never import again,
        # so it goes when faceapp next starts (QA), not only at the next import.
        sweep_stale(self.weights_dir, _IMPORT_SUFFIX)

    def reload(self) -> None:
        """Read the manifest folders again (after the user added or removed a manifest). The new
        list replaces the old one whole, so a thread reading the registry meanwhile (a restore
        loading its model) sees one or the other, never a half-read list."""
        problems: list[str] = []
        manifests: dict[str, ModelManifest] = {}
        unreadable: dict[Path, str] = {}
        folders_unread: dict[Path, str] = {}
        for folder in self.manifest_dirs:
            try:  # (os.scandir, not Path.glob, which takes a folder it cannot list for an empty one: review)
                with os.scandir(folder) if folder.is_dir() else contextlib.nullcontext(()) as entries:
                    listed = sorted(folder / e.name for e in entries
                                    if e.name.lower().endswith(".toml") and not e.name.startswith("."))
            except OSError as exc:  # (settings QA: an unreadable data folder hid the bundled model too)
                folders_unread[folder] = self._problem(f"The models in {path_text(folder)} cannot be read ({exc.strerror or exc}): "
                                                       "they are left out until they can")
                problems.append(folders_unread[folder] + ".")
                continue
            for path in listed:
                try:
                    manifest = load_manifest(path)
                except ModelError as exc:
                    problems.append(self._problem(f"{exc} The model is skipped."))
                    unreadable[path] = str(exc)
                    continue
                earlier = manifests.get(manifest.name)
                if earlier is not None:
                    problems.append(self._problem(
                        f"Model manifest {path} is skipped: {earlier.source} already defines "
                        f"a model called '{manifest.name}'."
                    ))
                    continue
                manifests[manifest.name] = manifest
        self.problems, self._manifests, self.unreadable = problems, manifests, unreadable
        self.folders_unread = folders_unread

    @staticmethod
    def _problem(message: str) -> str:
        log.warning("%s", message)
        return message

    # --- looking up -----------------------------------------------------------------------
    def list(self) -> list[ModelManifest]:
        """Every known model: bundled first, then the user's, each folder in name order."""
        return [*self._manifests.values()]

    def get(self, name: str) -> ModelManifest:
        """The manifest called ``name``; raises ModelNotFoundError listing the known names."""
        try:
            return self._manifests[name]
        except KeyError:
            # its manifest is there, but cannot be read (fault QA: "no model called" it, beside it)
            for path, why in self.unreadable.items():
                if path.stem == name:
                    raise ModelError(f"The model '{name}' cannot be used: {why}") from None
            known = ", ".join(self._manifests) or "none"
            raise ModelNotFoundError(
                f"There is no model called '{name}'. Known models: {known}. Model manifests "
                f"are read from {' and '.join(str(d) for d in self.manifest_dirs)}."
            ) from None

    def default(self) -> ModelManifest:
        """The installed model marked ``default = true``, else the first installed model, else
        the model marked default, else the first one. A model marked default whose files are
        damaged or half downloaded is still the default (its restore then says so): another model
        standing in for it unsaid was a surprise (QA: a damaged bundled prior, and a user's model
        restored every photo, its name only in the provenance). Where none is marked default and a
        bundled manifest cannot be read (it was the default's), a ModelError says so."""
        manifests = self.list()
        broken = [why for path, why in self.unreadable.items() if is_same_file(path.parent, paths.bundled_models_dir())]
        if broken and not any(m.is_default for m in manifests):
            # the default model came with faceapp and its manifest is damaged: said, not replaced by
            # another model (fault QA: a user's model restored in its place, or the official model
            # was offered for download)
            raise ModelError(f"The model that came with faceapp cannot be used: {broken[0]} {_REINSTALL}")
        if not manifests:
            raise ModelNotFoundError(
                "No model manifests were found in "
                f"{' or '.join(str(d) for d in self.manifest_dirs)}. Reinstall faceapp."
            )
        marked = next((m for m in manifests if m.is_default), None)
        if marked is not None and any(f.state in (DAMAGED, PARTIAL) for f in self.status(marked.name).files):
            return marked
        pool = [m for m in manifests if self.is_installed(m.name)] or manifests
        return next((m for m in pool if m.is_default), pool[0])

    def file_path(self, manifest: ModelManifest, filename: str) -> Path:
        """Where weight file ``filename`` of ``manifest`` is: beside the manifest (bundled) if
        there, else in the weights folder (whether or not it exists yet)."""
        manifest.file(filename)  # an unknown name is a programming error worth a clear message
        beside = manifest.source.parent / filename
        return beside if beside.is_file() else self.weights_dir / filename

    def network_paths(self, name: str) -> dict[str, Path | None]:
        """The weight file of each network by role (None for weightless networks), each where
        :meth:`file_path` finds it. The model must be installed."""
        manifest = self.require_installed(name)
        return {
            role: self.file_path(manifest, spec.file) if spec.file else None
            for role, spec in manifest.networks().items()
        }

    # --- state on disk --------------------------------------------------------------------
    def status(self, name: str) -> ModelStatus:
        """Where each weight file of the model stands (no hashing: cheap enough for a UI)."""
        manifest = self.get(name)
        return ModelStatus(manifest, tuple(self._file_status(manifest, f) for f in manifest.files))

    def _file_status(self, manifest: ModelManifest, entry: ModelFile) -> FileStatus:
        path = self.file_path(manifest, entry.name)
        bundled = path.parent == manifest.source.parent
        try:
            return self._file_state(entry, path, bundled)
        except OSError as exc:  # a folder that cannot be read (made by sudo): this file, not every model
            log.info("cannot look at %s: %s", path, exc.strerror or exc)
            return FileStatus(entry, MISSING, path, 0, bundled)

    def _file_state(self, entry: ModelFile, path: Path, bundled: bool) -> FileStatus:
        if path.is_file():
            size = path.stat().st_size
            recorded = None if bundled else self._recorded(path)
            if (entry.size and size != entry.size) or recorded == DAMAGED:
                state = DAMAGED
            else:
                state = INSTALLED if bundled or recorded == "verified" else UNVERIFIED
            return FileStatus(entry, state, path, size, bundled)
        part = partial_path(path)
        if part.is_file():
            return FileStatus(entry, PARTIAL, path, part.stat().st_size, bundled)
        return FileStatus(entry, MISSING, path, 0, bundled)

    def is_installed(self, name: str) -> bool:
        return self.status(name).installed

    def require_installed(self, name: str | None = None) -> ModelManifest:
        """The manifest of an installed model (the default model when ``name`` is None).

        Raises:
            ModelNotFoundError: unknown name, or files missing; the message says how to get them.
        """
        manifest = self.get(name) if name is not None else self.default()
        status = self.status(manifest.name)
        if status.installed:
            return manifest
        absent = [f for f in status.files if f.state not in USABLE]
        listing = ", ".join(f"{f.file.name} ({f.state})" for f in absent)
        if os.name == "posix" and os.path.isdir(self.weights_dir) and not os.access(self.weights_dir, os.R_OK | os.X_OK):
            # (the files may well be there: downloading them again would not help; review)
            lines = [f"The model '{manifest.name}' cannot be used: faceapp cannot read its weights folder "
                     f"{self.weights_dir} (permission denied). Give it back to your user, e.g.  "
                     f"sudo chown -R \"$USER\" {shlex.quote(str(self.weights_dir))}"]
        elif any(f.bundled and f.state == DAMAGED for f in absent):
            # (bundled files are found beside the manifest first: an import or a copy would not be read)
            lines = [f"The model '{manifest.name}' that came with faceapp is damaged: {listing}. Reinstall faceapp "
                     "(pip install --force-reinstall faceapp; from a checkout, git checkout -- models) to repair it."]
        elif any(f.state == PARTIAL and being_downloaded(partial_path(f.path)) for f in absent):
            # (concurrency QA: it advised the download command, which then said one is running already)
            lines = [f"The model '{manifest.name}' is being downloaded now ({listing}): it can be used once that "
                     "download finishes."]
        else:
            lines = [f"The model '{manifest.name}' is not installed: {listing}."]
            if all(f.file.url for f in absent):
                lines.append(f"Download it with:  {CLI} models download {manifest.name}")
                lines.append("or, if you already have the files, import each one with:")
            else:
                lines.append("Import each file with:")
            lines.append(f"  {CLI} models import {manifest.name} FILE")
            lines.append(f"(or copy the files into {self.weights_dir}).")
        error = ModelNotFoundError("\n".join(lines))
        error.missing = (manifest.title or manifest.name, listing)
        raise error

    # --- installing -----------------------------------------------------------------------
    def download(
        self,
        name: str,
        *,
        progress: ProgressCallback | None = None,
        should_cancel: Callable[[], bool] | None = None,
        on_file: FileStarted | None = None,
    ) -> ModelStatus:
        """Download the model's missing weight files into the weights folder (resuming partial
        downloads) and check each one; return the new status.

        ``progress(bytes_done, bytes_total_or_None)`` reports on the current file, which
        ``on_file`` announces.

        Raises:
            Cancelled: ``should_cancel()`` returned true; partial files are kept.
            ModelDownloadError: a file has no download address, or the transfer failed.
            CorruptModelError, ArchitectureMismatchError: a downloaded file is not the expected
                one (it is removed).
        """
        manifest = self.get(name)
        todo = [f for f in self.status(name).files if f.state not in USABLE]
        no_url = [f.file.name for f in todo if not f.file.url]
        if no_url:
            raise ModelDownloadError(
                f"The model '{name}' has no download address for {', '.join(no_url)}. Import "
                f"the file with:  {CLI} models import {name} FILE"
            )
        for index, entry in enumerate(todo, start=1):
            dest = self.weights_dir / entry.file.name
            if entry.state == DAMAGED and not entry.bundled:
                dest.unlink()
            if on_file:
                on_file(entry.file.name, index, len(todo))
            download_file(
                entry.file.url,
                dest,
                expected_size=entry.file.size,
                sha256=entry.file.sha256,
                progress=progress,
                should_cancel=should_cancel,
            )
            if not entry.file.sha256:
                try:
                    self._check_file(manifest, entry.file, dest)
                except (CorruptModelError, ArchitectureMismatchError) as exc:
                    dest.unlink()
                    raise type(exc)(
                        f"The file downloaded from {entry.file.url} is not usable and was "
                        f"removed. {exc}"
                    ) from None
            self._record_verified(dest)
        return self.status(name)

    def import_file(self, name: str, source: Path, *, as_file: str | None = None) -> Path:
        """Copy a weight file the user already has into the weights folder; return its path.

        Which file of the model it is: ``as_file`` if given, else the one with the same file
        name, else the one with the same sha256, else the network whose keys and shapes it
        matches. It is verified before it is copied; the copy is atomic and the source file is
        never modified. An interrupted import leaves nothing behind (a killed one's temporary copy
        is swept by the next import) and starts over when run again.

        Raises:
            ModelError: the source is not a readable file, or the file is bundled.
            CorruptModelError, UnsafeCheckpointError: the file is damaged or would run code.
            ArchitectureMismatchError: it fits none of the model's networks.
        """
        manifest = self.get(name)
        source = Path(source).expanduser()
        problem = file_problem(source)
        if problem is not None:
            raise ModelError(f"Cannot import {source}: {problem}.")
        with _refused_as_an_import(source):
            entry, state_dict = self._identify(manifest, source, as_file)
        if (manifest.source.parent / entry.name).is_file():  # cheap refusal before reading the file
            raise ModelError(f"{entry.name} lies beside the manifest of '{name}' already ({manifest.source.parent}); "
                             "nothing to import.")
        dest = self.weights_dir / entry.name
        sweep_stale(self.weights_dir, _IMPORT_SUFFIX)
        convert = dest.suffix == ".safetensors" and not _is_safetensors(source)
        if state_dict is None and (convert or manifest.network_for_file(entry.name) is not None) and (
                _of_its_size(entry, source)):  # (read once, for the check and the conversion; a file of
            from faceapp.core import loading  # another size is refused unread below)

            with _refused_as_an_import(source):  # (security QA: named by --as, a garbage file was "damaged …
                state_dict = loading.read_state_dict(source)  # download or import it again")
        self._check_file(manifest, entry, source, state_dict=state_dict)
        if dest.exists() and dest.samefile(source):
            self._record_verified(dest)
            return dest
        if convert:
            self._convert_to_safetensors(manifest, entry, source, dest, state_dict)
        else:
            _atomic_copy(source, dest)
        self._record_verified(dest)
        log.info("imported %s as %s of model %s", source, dest, name)
        return dest

    def _convert_to_safetensors(self, manifest, entry, source, dest, state_dict) -> None:
        """Write the (verified) weights of a PyTorch checkpoint as the .safetensors file the
        manifest names; safetensors loading sniffs no other format."""
        from faceapp.core import loading  # imports torch: only when a file must be read

        try:
            loading.save_safetensors(state_dict, dest, dtype=None)
        except OSError as exc:
            raise ModelError(f"Cannot write {dest}: {exc.strerror or exc}.") from exc
        log.info("converted %s to safetensors for %s of %s", source, entry.name, manifest.name)

    def _identify(self, manifest: ModelManifest, source: Path, as_file: str | None):
        """(the ModelFile that ``source`` is, its state dict if it had to be read)."""
        if as_file is not None:
            return manifest.file(as_file), None
        by_name = [f for f in manifest.files if f.name == source.name]
        if by_name:
            return by_name[0], None
        if any(f.sha256 for f in manifest.files):
            digest = file_sha256(source)
            by_hash = [f for f in manifest.files if f.sha256 == digest]
            if by_hash:
                return by_hash[0], None
        from faceapp.core import loading  # imports torch: only when a file must be read

        state_dict = loading.read_state_dict(source)
        reasons = []
        for role, spec in manifest.networks().items():
            if spec.file is None:
                continue
            try:
                loading.check_state_dict(spec.arch, spec.config, state_dict)
            except ArchitectureMismatchError as exc:
                log.info("%s is not the %s of %s: %s", source, role, manifest.name, exc)  # (the keys, for who asks)
                reasons.append(f"its {role} ({spec.arch}, {_entry_counts(str(exc))})")
            else:
                return manifest.file(spec.file), state_dict
        files = " and ".join(f.name for f in manifest.files)
        fits = "fits neither " + " nor ".join(reasons) if len(reasons) > 1 else "does not fit " + "".join(reasons)
        raise ArchitectureMismatchError(  # (QA: a paragraph of tensor names, run together)
            f"{source} is not a weight file of the model '{manifest.name}': it {fits}. The model's files are {files}."
        )

    # --- checking and removing ------------------------------------------------------------
    def verify(self, name: str) -> list[VerifiedFile]:
        """Check every weight file: size and sha256 where the manifest knows them, otherwise
        its structure (it loads without running code and has exactly the network's keys and
        shapes).

        Raises:
            ModelNotFoundError: a file is missing (the message says how to get it).
            CorruptModelError, UnsafeCheckpointError, ArchitectureMismatchError: a file is bad;
                the message names it and how to replace it.
        """
        manifest = self.get(name)
        present = [f for f in self.status(manifest.name).files if f.state not in (MISSING, PARTIAL)]
        # the files there are checked first: a damaged one is said even while another is missing
        # (QA: a damaged hand-copied file went unsaid behind "not installed")
        checked = [self._verify_file(manifest, f.file, f.path) for f in present]
        try:
            self.require_installed(manifest.name)  # (a file missing: how to get it)
        except ModelNotFoundError as missing:
            missing.checked = checked  # what was there and sound, for the caller to list (review)
            raise
        return checked

    def check_unverified(self, name: str | None = None) -> list[VerifiedFile]:
        """Check, as :meth:`verify` does, the files of model ``name`` (None: the default) that
        faceapp did not download, import or verify itself: files copied into the weights folder by
        hand, or changed since (QA: a copy with flipped bytes loaded and pasted noise over every
        face). The engine calls this before loading; files that pass are recorded, so each is read
        once. Raises as :meth:`verify` does. The files that came with faceapp are checked against
        their checksums too, once a process (CLI QA: bytes zeroed in the bundled prior restored
        without a word, the results recording the checksum the file should have had); a user's model
        whose files lie beside its own manifest is not (review: "reinstall faceapp" was no advice
        for it, and its gigabytes would be read at each run)."""
        manifest = self.require_installed(name)
        files = self.status(manifest.name).files
        for bundled in (f for f in files if f.bundled and f.file.sha256
                        and is_same_file(f.path.parent, paths.bundled_models_dir())):  # (the app's own)
            _check_bundled(manifest, bundled.file, bundled.path)
        return [self._verify_file(manifest, f.file, f.path) for f in files if f.state == UNVERIFIED]

    def _verify_file(self, manifest: ModelManifest, entry: ModelFile, path: Path) -> VerifiedFile:
        """Check one installed file (:meth:`_check_file`) and record it as verified, or as damaged
        (its state until the file changes: the Models window then offers to download it again)."""
        try:
            method = self._check_file(manifest, entry, path)
        except OSError as exc:  # (QA: "unexpected error: PermissionError" and a traceback)
            raise ModelError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        except (CorruptModelError, ArchitectureMismatchError) as exc:
            self._record_verified(path, damaged=True)
            fix = (_REINSTALL if path.parent == manifest.source.parent
                   else f"To replace it, run {CLI} models delete {manifest.name}, then download or import the model again.")
            error = type(exc)(f"{exc} {fix}")
            error.missing = (manifest.title or manifest.name, f"{entry.name} (damaged)")
            raise error from None
        self._record_verified(path)
        return VerifiedFile(entry.name, path, method)

    # --- the record of checked files ------------------------------------------------------
    def _verified_record(self) -> dict:
        try:
            record = json.loads((self.weights_dir / _VERIFIED_RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def _recorded(self, path: Path) -> str | None:
        """"verified" or "damaged" when ``path`` is unchanged since faceapp last checked it (a download,
        an import, a verify, a load), else None."""
        if path.parent != self.weights_dir:
            return None
        stat = path.stat()
        entry = self._verified_record().get(path.name)
        if entry == [stat.st_size, stat.st_mtime_ns]:
            return "verified"
        if entry == [stat.st_size, stat.st_mtime_ns, DAMAGED]:
            return DAMAGED
        return None

    def _record_verified(self, path: Path, *, damaged: bool = False) -> None:
        """Note that ``path`` (in the weights folder) passed its checks, or failed them; best effort."""
        if path.parent != self.weights_dir:
            return
        record = self._verified_record()
        stat = path.stat()
        record[path.name] = [stat.st_size, stat.st_mtime_ns, *([DAMAGED] if damaged else [])]
        target = self.weights_dir / _VERIFIED_RECORD
        sweep_stale(self.weights_dir, _RECORD_SUFFIX)  # (QA: a killed run's copies stayed for ever)
        for leftover in self.weights_dir.glob(f"{_VERIFIED_RECORD}.*.tmp"):  # as earlier versions named them
            pid = leftover.name.split(".")[-2]
            if pid.isdigit() and not process_exists(int(pid)):
                leftover.unlink(missing_ok=True)
        temp = None
        try:
            fd, temp = create_temp(self.weights_dir, "verified", _RECORD_SUFFIX)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(record, indent=1))
            replace_file(temp, target)
        except OSError as exc:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)
            log.warning("cannot record that %s was verified: %s", path, exc)

    def _check_file(self, manifest, entry: ModelFile, path: Path, *, state_dict=None) -> str:
        """Check one file against its manifest entry; return how it was checked."""
        if not _of_its_size(entry, path):
            raise CorruptModelError(
                f"{path} has {path.stat().st_size} bytes, but the model's file {entry.name} has {entry.size}: "
                "it is truncated or a different file."
            )
        if entry.sha256 and file_sha256(path) != entry.sha256:
            raise CorruptModelError(f"{path} does not match the checksum of {entry.name}.")
        spec = manifest.network_for_file(entry.name)
        if spec is None:
            return "sha256" if entry.sha256 else "size" if entry.size else "present"
        from faceapp.core import loading  # imports torch: only when a file must be read

        # the file as the manifest builds its network, checksum or not (ML QA: a manifest's arch
        # misspelt, or a width that its own exported file does not have, verified "OK (checksum
        # matches)"), and its numbers finite (QA: bytes of NaN verified OK, then every restore failed)
        if state_dict is None:
            state_dict = loading.read_state_dict(path)
        loading.check_state_dict(spec.arch, spec.config, state_dict)
        loading.check_finite(state_dict, path)
        return "sha256 and structure" if entry.sha256 else "structure"

    def deletion_plan(self, name: str) -> DeletionPlan:
        """What :meth:`delete` would remove of the model's files and what it would keep: bundled
        files, and files another model also uses, are kept (what a Delete question asks about)."""
        shared = {
            f.name: other.name
            for other in self.list() if other.name != name
            for f in other.files
        }
        files, bundled, kept_for = [], [], []
        for entry in self.status(name).files:
            if entry.bundled:
                bundled.append(entry.path)
            elif entry.file.name in shared:
                kept_for.append((entry.path, shared[entry.file.name]))
            else:
                files.append(entry)
        return DeletionPlan(tuple(files), tuple(bundled), tuple(kept_for))

    def delete(self, name: str) -> DeleteResult:
        """Remove the model's downloaded or imported files (and partial downloads) from the
        weights folder. Bundled files and files another model also uses are kept."""
        manifest = self.get(name)
        plan = self.deletion_plan(name)
        busy = [entry.file.name for entry in plan.files if being_downloaded(partial_path(entry.path))]
        if busy:  # (concurrency QA: its .part was deleted under a running download, which then failed)
            raise ModelDownloadError(f"{', '.join(busy)} of {manifest.name} {'is' if len(busy) == 1 else 'are'} being "
                                     "downloaded now: cancel that download (or wait for it) before deleting; "
                                     "nothing was deleted.")
        deleted = []
        for entry in plan.files:
            for path in (self.weights_dir / entry.file.name, partial_path(entry.path)):
                if path.is_file():
                    path.unlink()
                    deleted.append(path)
        log.info("deleted %d files of model %s", len(deleted), manifest.name)
        return DeleteResult(tuple(deleted), plan.kept)


def _is_safetensors(path: Path) -> bool:
    """A safetensors file starts with its header length (8 bytes, little-endian), then JSON."""
    with open(path, "rb") as handle:
        head = handle.read(9)
    return len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") > 1


def _atomic_copy(source: Path, dest: Path) -> None:
    """Copy ``source`` to ``dest`` through a hidden temporary file in the same folder.

    The temporary file is removed on every way out, Ctrl-C and termination signals included.
    """
    temp: str | None = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = create_temp(dest.parent, dest.name, _IMPORT_SUFFIX)
        with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        replace_file(temp, dest)
        temp = None
    except OSError as exc:
        raise ModelError(f"Cannot copy {source} to {dest}: {exc.strerror or exc}.") from exc
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)


def _of_its_size(entry: ModelFile, path: Path) -> bool:
    """Whether the file at ``path`` has the size the manifest gives ``entry`` (any, where it gives none)."""
    return not entry.size or path.stat().st_size == entry.size


@contextlib.contextmanager
def _refused_as_an_import(source: Path) -> Iterator[None]:
    """A file that cannot be read as weights, said as an import's refusal: its reader's advice,
    "download or import it again", is for installed files. One that would run code says so."""
    try:
        yield
    except UnsafeCheckpointError:
        raise
    except CorruptModelError:
        raise CorruptModelError(
            f"Cannot import {source}: it is not a weight file faceapp can read (a PyTorch checkpoint, "
            ".pth, .pt or .ckpt, or .safetensors), or it is damaged. Nothing was imported.") from None


def _entry_counts(mismatch: str) -> str:
    """What a weights mismatch's message says of the tensors, shortly: "114 tensors in the file, 630
    expected", or, as many as expected, "170 tensors of other shapes" (review); else "other tensors"."""
    found = re.search(r"\((\d+) entries in the file, (\d+) expected\)", mismatch)
    if found is None:
        return "other tensors"
    held, expected = int(found.group(1)), int(found.group(2))
    if held == expected:
        return f"{counted(held, 'tensor')} of other shapes"
    return f"{counted(held, 'tensor')} in the file, {expected} expected"
