"""Which file is a photo's damage mask when the CLI's ``--mask`` names a folder.

A folder of masks holds one per photo, named like it (``photo.png``) or with ``_mask``
(``photo_mask.png``), at the photo's path within its input folder. The folder may be the photos'
own: then ``photo.png`` beside ``photo.jpg`` could be either one's mask, and the file whose pixels
look like a mask (black and white, nothing in between) is taken for the mask. Masks found are not
photos to restore.
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from faceapp import __version__
from faceapp.core.errors import ExportError
from faceapp.core.export import destination_problem, export_photo, file_key, read_provenance
from faceapp.core.pathtext import name_forms, name_key

#: Image types a damage mask may be saved as.
MASK_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".webp", ".jpg", ".jpeg")

#: Side of the copy a file is judged on (nearest neighbour, so thin strokes keep their white).
_JUDGED_SIDE = 256
#: Share of a mask's pixels that are near black or near full brightness (JPEG ringing allowed for).
_BLACK_OR_WHITE_SHARE = 0.97
#: The same share for a mask given by name, whose strokes may have soft (blurred) edges.
_SOFT_MASK_SHARE = 0.8


def looks_like_mask(path: Path) -> bool:
    """Whether the image in ``path`` looks like a damage mask: black, with strokes in white or one
    colour (red strokes are a common way to mark damage in an editor), almost every pixel near
    black or near full brightness (a black-and-white photo has its mid greys). Unreadable: False."""
    share = _black_or_white_share(path)
    return share is not None and share >= _BLACK_OR_WHITE_SHARE


def colour_mask_warning(path: Path) -> str | None:
    """What to tell the user of a damage mask given by name that is not black and white (a photo
    given as the mask, say); None for one that looks like a mask, soft edges allowed."""
    share = _black_or_white_share(path)
    if share is not None and share >= _SOFT_MASK_SHARE:
        return None
    return (f"damage mask {path.name} is not black and white (is it a photo?): its bright pixels are taken as "
            "damage and filled. A mask is black where the photo is kept and white where it is damaged.")


def _black_or_white_share(path: Path) -> float | None:
    """The share of the image's pixels near black or near full brightness, or None when it has the
    colours of a photo or cannot be read."""
    try:
        stat = path.stat()
        return _judged_share(os.path.realpath(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return None


@functools.lru_cache(maxsize=256)
def _judged_share(path: str, _mtime_ns: int, _size: int) -> float | None:
    try:
        with warnings.catch_warnings():  # (faceapp's own limit of pixels is said in its words: security QA,
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # Pillow's raw warning was printed)
            image = Image.open(path)
        with image:
            image.draft("RGB", (_JUDGED_SIDE, _JUDGED_SIDE))  # JPEG: decoded at a fraction of its size
            if image.mode == "1":
                return 1.0
            scale = _JUDGED_SIDE / max(image.size)
            if scale < 1:
                image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                                     Image.Resampling.NEAREST)
            if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit or float grey: its own range
                grey = np.asarray(image, dtype=np.float64)
                top = 65535.0 if image.mode.startswith("I;16") or grey.max() > 255 else 255.0
                level = np.clip(grey * (255.0 / top), 0, 255).astype(np.int16)
                rgba = np.dstack([level, level, level, np.full_like(level, 255)])
            else:
                rgba = np.asarray(image.convert("RGBA"), dtype=np.int16)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    rgb, alpha = rgba[..., :3], rgba[..., 3]
    # (the colour kept under an editor's transparent pixels, which read_mask leaves out, is not looked at)
    spread = np.where(alpha >= 128, rgb.max(axis=2) - rgb.min(axis=2), 0)
    if np.median(spread) > 10:  # the colours of a photo
        return None
    # the brightest channel, as read_mask reads a mask; transparent counts as undamaged
    value = np.where(alpha >= 128, rgb.max(axis=2), 0)
    return float(((value <= 32) | (value >= 223)).mean())


def _named(folder: Path, stem: str, *, besides: Path) -> Path | None:
    """The first file ``stem`` + a mask suffix in ``folder`` that is not ``besides``, its name in any
    Unicode form (unicode QA: a photo's name decomposed, as a Mac writes it, and its mask's composed),
    the suffix in either case (batch QA: ``land1.PNG``, as a camera or Windows names it, was not found)."""
    for name in _mask_names(folder).get(name_key(stem), ()):  # any case of suffix, in their order (review:
        candidate = folder / name  # land1.Png lost to land1.jpg, where land1.png won)
        if os.path.isfile(candidate) and file_key(candidate) != file_key(besides):
            return candidate
    for suffix in dict.fromkeys(form for suffix in MASK_SUFFIXES for form in (suffix, suffix.upper())):
        for spelt in name_forms(stem):  # (a system that ignores case: a stem spelt otherwise than the photo's)
            candidate = folder / f"{spelt}{suffix}"
            if os.path.isfile(candidate) and file_key(candidate) != file_key(besides):  # (a name too long: none)
                return candidate
    return None


def _mask_names(folder: Path) -> dict[str, tuple[str, ...]]:
    """The names of the files in ``folder`` with a mask's suffix in any case, by their stem spelt
    one way (:func:`~faceapp.core.pathtext.name_key`), each stem's in the order of
    :data:`MASK_SUFFIXES`; read once while the folder is unchanged (a batch asks it of each photo)."""
    try:
        stat = folder.stat()
        if time.time_ns() - stat.st_mtime_ns < _RACY_NS:  # changed just now: a change within the same tick of
            return _mask_names_of.__wrapped__(os.fspath(folder))  # its date would go unseen (review)
        return _mask_names_of(os.fspath(folder), stat.st_mtime_ns, stat.st_dev, stat.st_ino)
    except OSError:  # (not kept: a folder that cannot be listed now may be later, review)
        return {}


#: How recently a folder may have changed for its listing not to be kept: FAT dates move in steps of
#: 2 s, and a file added within the step of the listing would not change the folder's date.
_RACY_NS = 3_000_000_000


@functools.lru_cache(maxsize=16)
def _mask_names_of(folder: str, *_stamp: int) -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    with os.scandir(folder) as entries:  # (an error raises: a cache keeps no listing that failed)
        listed = sorted(entry.name for entry in entries)
    for name in listed:
        stem, suffix = os.path.splitext(name)
        if suffix.lower() in MASK_SUFFIXES:
            names.setdefault(name_key(stem), []).append(name)
    return {stem: tuple(sorted(found, key=lambda name: MASK_SUFFIXES.index(os.path.splitext(name)[1].lower())))
            for stem, found in names.items()}


@dataclass(frozen=True)
class MaskMatch:
    """A photo's mask, or the file that may be its mask or its twin (``unclear``)."""

    mask: Path | None = None
    unclear: Path | None = None


def match_mask(option: Path | None, photo: Path, relative: Path | None = None) -> MaskMatch:
    """The damage mask of ``photo`` that ``--mask`` (``option``) names: the file itself; in a folder,
    the file at the photo's path ``relative`` to the folder it was found in (default: its name),
    named ``photo_mask.*`` or else ``photo.*``.

    A ``photo.*`` beside the photo itself is its mask only where it looks like one (a phone's JPEG
    copy of a HEIC photo is not); the photo's suffix being a mask's too, it could be either one's
    mask: it is the mask when it looks like one and the photo does not; else ``unclear``."""
    if option is None or not option.is_dir():
        return MaskMatch(option)
    relative = relative if relative is not None else Path(photo.name)
    folder = option / relative.parent
    if (named := _named(folder, f"{photo.stem}_mask", besides=photo)) is not None:
        return MaskMatch(named)
    twin = _named(folder, photo.stem, besides=photo)
    if twin is None:
        return MaskMatch()
    if file_key(twin.parent) != file_key(photo.parent):  # a folder of masks of its own: the twin is the mask
        return MaskMatch(twin)
    if photo.suffix.lower() not in MASK_SUFFIXES:  # (IMG_1234.HEIC beside IMG_1234.JPG, a copy of it: the twin
        return MaskMatch(twin) if looks_like_mask(twin) else MaskMatch()  # must look like a mask, review)
    if looks_like_mask(twin) and not looks_like_mask(photo):
        return MaskMatch(twin)
    if looks_like_mask(photo) and not looks_like_mask(twin):
        return MaskMatch()  # this file is the twin's mask
    return MaskMatch(unclear=twin)


def mask_for(option: Path | None, photo: Path, relative: Path | None = None) -> Path | None:
    """The damage mask of ``photo`` (:func:`match_mask`); None when there is none."""
    return match_mask(option, photo, relative).mask


@dataclass
class PhotosAndMasks:
    """Inputs sorted into photos to restore and files used as masks, and the pairs left unclear."""

    photos: list[tuple[Path, Path]] = field(default_factory=list)
    masks: int = 0
    #: files in a folder of masks kept within an input folder, matched to a photo or not (not photos either)
    in_mask_folder: int = 0
    unclear: list[tuple[Path, Path]] = field(default_factory=list)
    #: photos to restore that a folder of masks holds no mask for
    without_mask: list[Path] = field(default_factory=list)


def separate_masks(inputs: list[tuple[Path, Path]], option: Path | None) -> PhotosAndMasks:
    """``inputs`` (path, path relative to its input folder) less the files ``--mask`` uses as the
    masks of other inputs: masks kept beside their photos are not photos to restore; nor is any file
    inside a folder of masks of its own kept within an input folder (batch QA: ``album/masks/`` given
    with ``--mask``, its masks without a photo were restored as photos, "give its folder with --mask")."""
    if option is None:
        return PhotosAndMasks(list(inputs))
    in_mask_folder = [(path, relative) for path, relative in inputs if _inside_a_mask_folder(option, path, relative)]
    inputs = [item for item in inputs if item not in in_mask_folder]
    matches = [(path, match_mask(option, path, relative)) for path, relative in inputs]
    masks = {file_key(m.mask) for _, m in matches if m.mask is not None}
    result = PhotosAndMasks(in_mask_folder=len(in_mask_folder))
    pairs: list[set[object]] = []  # the unclear pairs said, each once however its files are spelt
    for (path, relative), (_, match) in zip(inputs, matches):
        if file_key(path) in masks:
            result.masks += 1
            continue
        result.photos.append((path, relative))
        if match.mask is None and match.unclear is None and option.is_dir():
            result.without_mask.append(path)
        pair = {file_key(path), file_key(match.unclear)} if match.unclear is not None else None
        if pair is not None and pair not in pairs:
            pairs.append(pair)
            result.unclear.append((path, match.unclear))
    return result


def _inside_a_mask_folder(option: Path, path: Path, relative: Path) -> bool:
    """Whether ``path`` (``relative`` to its input folder) lies in the folder of masks ``option``,
    which is not that input folder itself (where masks beside their photos are matched one by one)."""
    if not option.is_dir():
        return False
    root = Path(*path.parts[:len(path.parts) - len(relative.parts)]) if relative.parts else path.parent
    masks, top = os.path.realpath(option), os.path.realpath(root)
    if masks == top:
        return False
    try:
        return os.path.commonpath([masks, os.path.realpath(path)]) == masks
    except ValueError:  # on two drives (Windows): not inside it (review)
        return False


def near_miss(option: Path, photo: Path, relative: Path | None = None, *, others: set[str] = frozenset()) -> Path | None:
    """A file in the folder of masks ``option``, where ``photo``'s mask would be, named like the photo
    and then a separator (``photo.jpg.png``, ``photo-mask.png``, ``photo mask.png``) but not as a mask
    is found by, that looks like a mask: most likely meant as its mask. Not one named for another
    photo (``others``: the stems of the photos restored: IMG_10.png is not IMG_1.jpg's, review).
    None when there is none."""
    relative = relative if relative is not None else Path(photo.name)
    folder = option / relative.parent
    for name in _file_names(folder):
        candidate = Path(name)
        rest = name[len(photo.stem):]
        if (name.startswith(photo.stem) and rest[:1] in (".", "-", "_", " ") and candidate.suffix.lower() in MASK_SUFFIXES
                and candidate.stem not in (photo.stem, f"{photo.stem}_mask")
                and candidate.stem.removesuffix("_mask") not in others  # (another photo's, or its own mask: review)
                and file_key(folder / name) != file_key(photo) and looks_like_mask(folder / name)):
            return folder / name
    return None


def _file_names(folder: Path) -> list[str]:
    """The names of the files in ``folder``, sorted (none when it cannot be listed)."""
    try:
        return sorted(entry.name for entry in os.scandir(folder) if entry.is_file())
    except OSError:
        return []


def mask_file_for(photo: Path) -> Path:
    """Where a photo's damage mask is saved by default: ``photo_mask.png`` beside it, the name
    ``faceapp-cli restore --mask`` finds first (given the photo's folder)."""
    return photo.with_name(f"{photo.stem}_mask.png")


def write_mask(mask: np.ndarray, dest: Path, *, photo: Path, overwrite: bool = False) -> Path:
    """Write the HxW damage ``mask`` (non-zero = damaged) of ``photo`` to ``dest`` as a PNG, white
    on black, as :func:`faceapp.core.damage.read_mask` reads it; written whole or not at all, and
    marked as faceapp's own file, so that a folder of photos opened later leaves it out (review: it
    came back as a photo without a face). Raises :class:`~faceapp.core.errors.ExportError` when it
    cannot be (``dest`` is the photo itself or a file faceapp did not write, a full or read-only disk, a name
    taken and not ``overwrite``)."""
    if (problem := destination_problem(dest, photo)) is not None:
        raise ExportError(problem)
    if dest.exists() and not _is_saved_mask(dest):  # (QA: another photo open in the window was replaced;
        # review: a restored result, faceapp's own too, was)
        raise ExportError(f"{dest} is not a damage mask faceapp saved: faceapp does not replace it; choose another "
                          "name.")
    white = np.where(np.asarray(mask) > 0, np.uint8(255), np.uint8(0))
    return export_photo(np.repeat(white[..., None], 3, axis=2), None, None, dest, format="PNG", overwrite=overwrite,
                        provenance={"software": f"faceapp {__version__}", "damage_mask_of": photo.name})


def _is_saved_mask(path: Path) -> bool:
    """Whether ``path`` is a damage mask :func:`write_mask` wrote (its provenance says whose)."""
    provenance = read_provenance(path)
    return provenance is not None and "damage_mask_of" in provenance
