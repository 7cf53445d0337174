"""Which files in a folder are photos to restore: the one rule both front-ends list folders by.

:func:`list_photos` looks into a folder (and, when asked, its sub-folders) and sorts what it finds:
the photos to restore; faceapp's own earlier results (recognised by their provenance, so a folder
restored into itself is not restored again); hidden files and folders (names starting with ``.``,
such as macOS's ``._photo.jpg`` or a ``.thumbnails`` folder, those Windows marks hidden, a drive's
recycle bin, a Photos library: :func:`is_hidden`); files that are not photos faceapp
reads (another type, or a symbolic link to nothing); and sub-folders it could not look into. The
result says each, so a caller can tell a folder that held no photos and say what it held instead.
A file named on its own is the caller's business, but for the window's rule of which named files
open (:func:`expand_paths`).
"""

from __future__ import annotations

import glob
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from faceapp.core.export import is_faceapp_output
from faceapp.core.pathtext import file_problem, is_same_file, name_forms, name_key, path_text, reading_key
from faceapp.core.photo_io import probe_photo
from faceapp.core.preferences import PHOTO_SUFFIXES


@dataclass(frozen=True)
class FolderListing:
    """What :func:`list_photos` found in ``folder``, each kind sorted by path."""

    folder: Path
    photos: tuple[Path, ...] = ()  #: the photos to restore
    earlier_results: tuple[Path, ...] = ()  #: photos and damage masks faceapp wrote itself, left out
    not_photos: tuple[Path, ...] = ()  #: files of other types, broken links, devices: left out
    hidden: tuple[Path, ...] = ()  #: hidden files and folders (not looked into), left out
    unreadable: tuple[Path, ...] = ()  #: folders that could not be listed (permission denied, …)
    subfolders: tuple[Path, ...] = ()  #: sub-folders, and links to folders, not looked into (a listing that is not recursive)

    @property
    def empty(self) -> bool:
        """Whether the folder held no photo to restore (the other fields say what it held)."""
        return not self.photos

    def relative(self, path: Path) -> Path:
        """``path`` (one of the files listed) relative to the listed folder, e.g. ``2019/a.jpg``."""
        return path.relative_to(self.folder)


def list_photos(folder: str | os.PathLike, *, recursive: bool = False) -> FolderListing:
    """The photos in ``folder`` (and in its sub-folders when ``recursive``), and what was left out.

    A photo is a file (or a link to one) whose suffix is one of ``PHOTO_SUFFIXES``, whose name
    does not start with ``.``, that is not inside a hidden folder and that faceapp did not write
    itself (:func:`~faceapp.core.export.is_faceapp_output`; this opens each photo's header).
    Links to folders are followed (an album whose year folders are links to a network drive), each
    folder listed once: a link back up the tree or to a folder listed already is not. Never raises
    for what is in the folder: a folder that cannot be listed (the given one included) is reported
    in ``unreadable``.
    """
    folder = Path(folder)
    photos: list[Path] = []
    results: list[Path] = []
    others: list[Path] = []
    hidden: list[Path] = []
    unreadable: list[Path] = []
    subfolders: list[Path] = []
    kept = {"hidden": hidden, "folder": subfolders, "other": others, "result": results, "photo": photos}
    for path in sorted(_entries(folder, recursive, hidden, unreadable), key=reading_key):
        kept[_kind(path)].append(path)  # (a folder only when not recursive: os.walk keeps them out of the files)
    return FolderListing(folder, tuple(photos), tuple(results), tuple(others), tuple(sorted(hidden)),
                         tuple(sorted(unreadable)), tuple(subfolders))


def _kind(path: Path) -> str:
    """What a folder's listing makes of ``path``: "hidden", "folder", "other" (no photo faceapp reads),
    "result" (one faceapp wrote itself) or "photo"."""
    if is_hidden(path):
        return "hidden"
    if is_folder(path):
        return "folder"
    if not is_file(path) or path.suffix.lower() not in PHOTO_SUFFIXES:
        return "other"
    return "result" if is_faceapp_output(path) else "photo"


def _entries(folder: Path, recursive: bool, hidden: list[Path], unreadable: list[Path]) -> Iterable[Path]:
    """Every entry of ``folder`` but its sub-folders (all of them, but hidden ones, when ``recursive``,
    which go to ``hidden`` unvisited); folders that cannot be listed go to ``unreadable``."""
    if not recursive:
        try:
            with os.scandir(folder) as entries:
                names = [entry.name for entry in entries]
        except OSError:
            unreadable.append(folder)
            return []
        return [folder / name for name in names]
    found: list[Path] = []
    visited = {os.path.realpath(folder)}
    for top, folders, files in os.walk(folder, followlinks=True,
                                       onerror=lambda exc: unreadable.append(Path(exc.filename or folder))):
        top_path = Path(top)
        # within one folder, its sub-folders before links (a link elsewhere in the tree to a folder
        # listed later still lists that folder under the link's name)
        folders.sort(key=lambda name: (_is_link(top_path / name), name))
        for name in list(folders):
            real = os.path.realpath(top_path / name)
            if is_hidden(top_path / name):
                hidden.append(top_path / name)
                folders.remove(name)
            elif real in visited:  # a link back up the tree (a loop), or to a folder listed already
                folders.remove(name)
            else:
                visited.add(real)
        found += [top_path / name for name in files]
    return found


#: Folders Windows keeps on a drive (hidden there by their attributes, but for a copy of a drive
#: made elsewhere), by name in lower case: the recycle bins and the volume's own records; names
#: no one gives an album.
_SYSTEM_FOLDERS = frozenset({"$recycle.bin", "system volume information", "$windows.~bt", "$windows.~ws"})
#: The suffixes of the photo libraries of macOS's Photos, iPhoto and Aperture: folders a Mac shows as
#: one file, which only their own program may change.
_LIBRARY_SUFFIXES = frozenset({".photoslibrary", ".migratedphotolibrary", ".photolibrary", ".aplibrary"})
_HIDDEN = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 2)  # (not System alone: Explorer shows such a folder, review)
#: Whether this system's file status has Windows' attributes (hidden, system).
_FILE_ATTRIBUTES = hasattr(os.stat_result, "st_file_attributes")


def is_hidden(path: Path) -> bool:
    """Whether ``path`` is left out of a folder's photos, unvisited: a hidden file or folder (a
    name starting with ``.``, or one Windows marks hidden), a drive's recycle bin or
    records, or a Mac's photo library (portability QA: ``restore ~/Pictures -r`` restored the Photos
    library's originals and thumbnails, writing results into it, and ``E:\\ -r`` the recycle bin's
    deleted photos)."""
    name = path.name
    if name.startswith(".") or name.lower() in _SYSTEM_FOLDERS or path.suffix.lower() in _LIBRARY_SUFFIXES:
        return True
    if not _FILE_ATTRIBUTES:
        return False
    try:
        return bool(os.stat(path, follow_symlinks=False).st_file_attributes & _HIDDEN)
    except OSError:
        return False


def is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder (or a link to one); False where the system cannot look at it: a
    name or path longer than it takes, which pathlib passes on as an error (batch QA: one such name
    stopped a whole batch with a traceback). Reading it then says what is wrong."""
    return _looked_at(path.is_dir)


def is_file(path: Path) -> bool:
    """Whether ``path`` is a file (or a link to one); False where the system cannot look at it (:func:`is_folder`)."""
    return _looked_at(path.is_file)


def _is_link(path: Path) -> bool:
    return _looked_at(path.is_symlink)


def exists(path: Path) -> bool:
    """Whether ``path`` is there (a link: what it points to); False where the system cannot look at it."""
    return _looked_at(path.exists)


def _looked_at(test: Callable[[], bool]) -> bool:
    try:
        return test()
    except OSError:
        return False


class ExpandedPaths(NamedTuple):
    """What :func:`expand_paths` made of the paths given to the window (a drop, a paste, its command line)."""

    photos: list[Path]  #: the photo files to open, in order
    empty_folders: list[FolderListing]  #: the folders that gave none, each saying what it holds
    not_photos: list[Path]  #: files named one by one that are not photos (a sidecar, a text), not opened


def expand_paths(paths: list[Path]) -> ExpandedPaths:
    """Photo files among ``paths``, the listings of the folders among them that gave none, and the
    files named that are no photos.

    Folders contribute their photos (not recursive), sorted, by the CLI's rule
    (:func:`list_photos`: hidden files and faceapp's own earlier results
    are left out); a folder without photos is listed once, and its listing says what it holds. A
    file named by itself is opened when its suffix is a photo's (if it is broken, its load says
    why), when its header is an image's whatever its name (a scan saved without a suffix), or when
    it cannot be read at all (its load says why: missing, no permission, a broken link); other files
    (QA: the .xmp sidecars and notes dropped with a photo each became an error tile) are left out
    and listed."""
    found: list[Path] = []
    empty: list[FolderListing] = []
    not_photos: list[Path] = []
    for path in paths:
        if is_folder(path):
            listing = list_photos(path)
            found.extend(listing.photos)
            if listing.empty:
                empty.append(listing)
        elif (path.suffix.lower() in PHOTO_SUFFIXES or file_problem(path) is not None
              or not os.access(path, os.R_OK) or probe_photo(path) is not None):
            found.append(path)  # (a file that cannot be read at all: its load says why, e.g. no permission)
        else:
            not_photos.append(path)
    return ExpandedPaths(found, empty, not_photos)


def not_photos_text(paths: Iterable[Path]) -> str:
    """What the files :func:`list_photos` left out as not photos are, in short, e.g.
    ``.psd ×2, .txt, 1 broken link``."""
    kinds: Counter[str] = Counter()
    links = 0
    for path in paths:
        if _is_link(path) and not exists(path):
            links += 1
        else:
            kinds[path.suffix.lower() or "no suffix"] += 1
    parts = [kind if count == 1 else f"{kind} ×{count}" for kind, count in sorted(kinds.items())]
    if links:
        parts.append(f"{links} broken link{'s' if links > 1 else ''}")
    return ", ".join(parts)


def not_opened_text(paths: Sequence[Path]) -> str:
    """What the window says of files given to it one by one that are no photos it reads (a
    sidecar, a text dropped with the photos): they were not opened, and what it reads."""
    what = paths[0].name if len(paths) == 1 else f"{len(paths)} files ({not_photos_text(paths)})"
    return (f"Not opened: {what}, not {'a photo' if len(paths) == 1 else 'photos'} faceapp reads "
            f"({', '.join(sorted(PHOTO_SUFFIXES))}).")


def no_photos_text(listing: FolderListing) -> str:
    """Why a folder gave no photo to open (``listing.empty``), in a sentence for the user: what it
    holds instead, e.g. photos only in sub-folders (not opened, unless asked to go into them)."""
    folder = listing.folder
    if folder in listing.unreadable:
        return f"The folder {folder.name} could not be opened (no permission to list it?)."
    subfolders = len(listing.subfolders)
    held = []
    if listing.earlier_results:
        held.append(f"{len(listing.earlier_results)} of faceapp's own results or damage masks")
    if listing.not_photos:
        held.append(f"files faceapp does not read ({not_photos_text(listing.not_photos)})")
    if subfolders:
        held.append(f"{subfolders} sub-folder{'s' if subfolders > 1 else ''}, not opened: open "
                    f"{'it' if subfolders == 1 else 'one of them'} instead")
    if listing.hidden:
        held.append(f"{len(listing.hidden)} hidden file{'s' if len(listing.hidden) > 1 else ''}")
    return f"No photos to open in {folder.name}" + (": it holds " + "; ".join(held) if held else ": it is empty") + "."


def opened_as(path: str | os.PathLike) -> Path:
    """The name a photo or folder is opened under: absolute, ``..`` taken out, a symbolic link kept
    as the link (drag-and-drop QA: a link opened as its target, and Save wrote the result into the
    target's folder, under a name the user never saw; the CLI writes beside the link)."""
    return Path(os.path.abspath(path))


#: What makes a name a wildcard pattern: * and ? (cmd.exe's and PowerShell's; a name's [ ] are its own
#: letters: sceptic QA, "scans [2019]\\*.jpg" matched nothing).
_WILDCARD = re.compile(r"[*?]")


class ExpandedNames(NamedTuple):
    """:func:`expand_wildcards`' answer: the names, and how many earlier results of faceapp the
    patterns matched and left out."""

    names: list[str | os.PathLike]
    earlier_results: int
    not_photos: list[Path]  # files matched that are no photos (a .txt): left out, as a folder's are


def _is_pattern(text: str) -> bool:
    """Whether ``text`` is a wildcard pattern that names nothing itself (Windows' ``\\\\?\\`` prefix is none)."""
    return (_WILDCARD.search(text.removeprefix("\\\\?\\")) is not None) and not os.path.lexists(text)


def expand_wildcards(names: Sequence[str | os.PathLike]) -> ExpandedNames:
    """``names`` with each wildcard pattern that names nothing itself (``C:\\scans\\*.jpg``) replaced by
    what it matches, in reading order, as a folder is listed: hidden files, files of other types and
    faceapp's own earlier results left out (sceptic QA: a second run restored the first one's results), ``**`` any depth of
    folders. cmd.exe and PowerShell pass such a pattern on as it is, and it was "no such file" (Windows
    QA); a shell that found no match does too. One that matches nothing stays as given
    (:func:`wildcard_problem`)."""
    expanded: list[str | os.PathLike] = []
    earlier, others = 0, []
    for name in names:
        text = os.fspath(name)
        matches = []
        for form in name_forms(text) if _is_pattern(text) else ():  # (the other form only where this one matches
            matches = glob.glob(form.replace("[", "[[]"), recursive=True)  # nothing: on a Mac both match alike)
            if matches:
                break
        if not matches:
            expanded.append(spelt_on_disk(name))
            continue
        if "**" in text:  # (its folders are gone through already, each depth: listed again, their photos
            matches = [match for match in matches if not os.path.isdir(match)]  # were "named twice": review)
        for match in sorted(dict.fromkeys(matches), key=reading_key):
            kind = _kind(Path(match))  # (as a folder's listing sorts it; what is no file at all, a broken
            if kind == "other" and os.path.isfile(match):  # link, is kept: naming it says what it is)
                others.append(Path(match))
            elif kind == "result":
                earlier += 1
            else:
                expanded.append(match)
    return ExpandedNames(expanded, earlier, others)


def spelt_on_disk(name: str | os.PathLike) -> str | os.PathLike:
    """``name`` as the disk spells it where it names nothing as typed but does in Unicode's other form
    (a name copied from a Mac is decomposed, "Mu\u0308ller.jpg"; typed, it is composed: locale QA,
    "no such file or folder" for a file listed right there); else ``name`` as it is."""
    text = os.fspath(name)
    if os.path.lexists(text):
        return name
    return next((form for form in name_forms(text)[1:] if os.path.lexists(form)), name)


def wildcard_problem(name: str | os.PathLike) -> str | None:
    """Why ``name``, a wildcard pattern that names nothing, gave nothing (None: it is no pattern)."""
    text = os.fspath(name)
    return f"{path_text(text)}: no file matches it." if _is_pattern(text) else None


def spelling_key(path: Path) -> str:
    """``path`` as all its spellings on a disk that ignores case read: composed and case-folded."""
    return name_key(str(path)).casefold()


def already_open_as(path: Path, open_by_spelling: dict[str, Path]) -> Path:
    """The name a photo open already has, where ``path`` is that file spelt otherwise (by
    :func:`spelling_key` in ``open_by_spelling``); else ``path``. On a Mac's or a Windows disk
    IMG_1.JPG and img_1.jpg, or é composed and decomposed, are one file (portability QA: it opened
    twice, two entries of one photo)."""
    other = open_by_spelling.get(spelling_key(path))
    return other if other is not None and other != path and is_same_file(other, path) else path


def recent_entries(items: list[Path], opened: list[Path]) -> list[Path]:
    """What of ``items`` (the files and folders asked for) belongs on a recent list, given the
    photos ``opened`` from them (each :func:`opened_as`): a photo that opened, and a folder that gave
    at least one (as the folder: its photos would push every earlier entry off the list)."""
    photos, spellings = set(opened), {spelling_key(photo): photo for photo in opened}
    # (a relative path asked for was never found: review; a linked one, resolved, was not the link opened:
    # sceptic QA; one spelt otherwise than it is open, on a disk that ignores case, was not moved up: sceptic QA)
    asked = [already_open_as(opened_as(item), spellings) for item in items]
    return [item if item in photos else folder for item in asked
            if item in photos or (folder := _folder_as_opened(item, opened)) is not None]


def _folder_as_opened(folder: Path, opened: list[Path]) -> Path | None:
    """``folder`` as the photos ``opened`` in it or below it name it (its spelling on a disk that ignores
    case: review, "ALBUM" was listed beside "album"); None where none lies there."""
    if not is_folder(folder):
        return None
    key = spelling_key(folder)
    for photo in opened:
        for parent in photo.parents:
            if parent == folder or (spelling_key(parent) == key and is_same_file(parent, folder)):
                return parent
    return None
