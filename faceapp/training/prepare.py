"""Make a data folder of one's own faces: what ``train --data`` and ``evaluate --data`` read.

A data folder is ``manifest.jsonl`` and the tar shards it names (:mod:`faceapp.training.data`):
256×256 FFHQ-aligned colour JPEGs, each listed with its split. :func:`prepare_faces` makes one from
a folder of images (own-model QA: the format was written down only in a docstring, and no command
made it): either face crops that are aligned already (square, at least 256 px: resized to 256), or,
with ``align``, photos in which the largest face is found and cut out as the app cuts faces.

Files that cannot be used are left out and listed with the reason; the splits are drawn from a
hash of each file's path, so the same folder gives the same splits however often it is prepared.
The folder is written under a temporary name and renamed once whole: a prepare stopped half-way
leaves nothing that looks like a data folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from faceapp.core.errors import DetectorUnavailableError, DeviceError, FaceappError
from faceapp.core.file_lock import lock_exclusively
from faceapp.core.preferences import PHOTO_SUFFIXES
from faceapp.core.tempfiles import replace_file
from faceapp.core.wording import counted
from faceapp.training.data import FACE_SIZE, DatasetError

#: Faces per tar shard (about 40 MB of JPEGs at quality 95).
SHARD_FACES = 2000
JPEG_QUALITY = 95
#: The data folder's list of the images left out, with the reason.
LEFT_OUT_NAME = "left_out.txt"
#: A face cut from a photo may be enlarged at most this much: a face enlarged more teaches blur.
MAX_ENLARGEMENT = 1.25
#: At most this share of the side between a crop's width and height: a crop of a face, not a photo.
SQUARE_TOLERANCE = 0.02


@dataclass
class Prepared:
    """A data folder made: its faces by split, and the files left out with the reason."""

    folder: Path
    splits: dict[str, int]
    left_out: list[tuple[Path, str]] = field(default_factory=list)


def prepare_faces(source: str | Path, out: str | Path, *, align: bool = False, val_fraction: float = 0.05,
                  test_fraction: float = 0.05, detector_dir: str | Path | None = None,
                  log: Callable[[str], None] = print) -> Prepared:
    """Write the data folder ``out`` from the images under ``source`` (its sub-folders too)."""
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise DatasetError(f"{source} is not a folder: give the folder holding your face images")
    with _sole_preparer(out):
        return _prepare(source, out, align=align, val_fraction=val_fraction, test_fraction=test_fraction,
                        detector_dir=detector_dir, log=log)


@contextlib.contextmanager
def _sole_preparer(out: Path) -> Iterator[None]:
    """Hold ``.OUT.lock`` beside ``out`` for the block, so one prepare at a time writes ``out`` (its
    staging folder is the same for both: concurrency QA, two prepares of one folder each swept the
    other's as a stopped one's leftover, and one reported a data set whose manifest named faces its
    shard did not hold). Another holding it is a :class:`DatasetError`; where there are no locks
    (:func:`faceapp.core.file_lock.lock_exclusively`) it goes on unlocked. The lock file goes at the end."""
    path = out.parent / f".{out.name}.lock"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot write {out.parent}: {exc.strerror or exc}") from None
    while True:
        try:
            handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise DatasetError(f"cannot write {out.parent}: {exc.strerror or exc}") from None
        result, _ = lock_exclusively(handle)
        if result == "held":
            handle.close()
            raise DatasetError(f"another prepare is writing {out} now: wait for it to finish, or give another folder")
        if result == "locked" and not _still_named(handle, path):  # (removed by the prepare that held it: its
            handle.close()  # successor locks the file of that name now)
            continue
        break
    try:
        yield
    finally:
        if result == "locked":  # (removed while held: a prepare that opened it since sees it renamed, above)
            with contextlib.suppress(OSError):
                path.unlink()
        handle.close()
        if result != "locked":  # (no locks: Windows removes no file held open, so it goes once closed)
            with contextlib.suppress(OSError):
                path.unlink()


def _still_named(handle, path: Path) -> bool:
    """Whether ``path`` is still the file ``handle`` has open."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except OSError:
        return False


def _prepare(source: Path, out: Path, *, align: bool, val_fraction: float, test_fraction: float,
             detector_dir: str | Path | None, log: Callable[[str], None]) -> Prepared:
    """:func:`prepare_faces`, with ``out``'s lock held."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"{out} exists and is not an empty folder: give a new folder for the data")
    files = sorted(p for p in source.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())
    if not files:
        raise DatasetError(f"no images in {source} (faceapp reads {', '.join(sorted(PHOTO_SUFFIXES))})")
    cut = _FaceCutter(detector_dir) if align else None
    left_out: list[tuple[Path, str]] = []
    partial = out.parent / f".{out.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)  # (one a stopped prepare left: the lock says none runs)
    partial.mkdir(parents=True)
    try:
        # each face goes into its shard as it is read (review: all held in memory, 10 GB for 50,000 faces);
        # the splits, drawn once every usable face is known, are the manifest's alone
        with _ShardWriter(partial) as shards:
            for number, path in enumerate(files, 1):
                try:
                    face = cut(path) if cut is not None else _aligned_crop(path)
                except (DetectorUnavailableError, DeviceError):
                    raise  # (every image would meet it)
                except (FaceappError, cv2.error, ValueError) as exc:  # (an odd image, not the run: review)
                    left_out.append((path, _why(path, source, exc)))
                else:
                    shards.add(face, path.relative_to(source).as_posix())
                if number % 500 == 0:
                    log(f"{number} of {len(files)} images read")
        rows = shards.rows
        if not rows:
            raise DatasetError(f"no usable face in {source}: {_reasons(left_out)}")
        splits = _splits([Path(row["source"]) for row in rows], val_fraction, test_fraction)
        with (partial / "manifest.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps({**row, "split": split}, ensure_ascii=False) + "\n" for row, split in zip(rows, splits))
        if out.exists():
            out.rmdir()  # (empty: checked above)
        replace_file(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    counts = {name: splits.count(name) for name in ("train", "val", "test")}
    log(f"{out}: {counted(len(rows), 'face')} ({', '.join(f'{name} {n}' for name, n in counts.items())})")
    few = " (there are fewer than 3 faces)" if len(rows) < 3 else ""  # (verify QA: 2 faces, none held out, unsaid)
    if not counts["val"]:
        log(f"note: no face is held out for validation{few}: checkpoints are validated on training faces")
    if not counts["test"]:
        log(f"note: no face is held out for evaluate{few}: `evaluate --data` has no test split to score")
    if left_out:
        listing = out / LEFT_OUT_NAME
        listing.write_text("".join(f"{reason}\n" for _, reason in left_out), encoding="utf-8")
        log(f"left out {len(left_out)} of {len(files)} images (all listed in {listing}): {_reasons(left_out)}")
    return Prepared(out, counts, left_out)


def _reasons(left_out: list[tuple[Path, str]], shown: int = 5) -> str:
    listed = "; ".join(reason.rstrip(".") for _, reason in left_out[:shown])  # (ML QA: "copy?).;")
    return listed + (f"; and {len(left_out) - shown} more" if len(left_out) > shown else "")


def _why(path: Path, source: Path, exc: FaceappError) -> str:
    """"sub/a.png: why", the image named by its path in ``source`` (two a.png apart), the reason
    without the name or path the error gave it (verify QA: some gave the path, some the name)."""
    text = str(exc)
    for said in (f"{path}: ", f"{path.name}: ", f"{path.name} "):
        if text.startswith(said):
            text = text[len(said):]
            break
    return f"{path.relative_to(source).as_posix()}: {text}"


def _read_srgb(path: Path) -> np.ndarray:
    from faceapp.core.photo_io import read_photo

    return read_photo(path).srgb


def _aligned_crop(path: Path) -> np.ndarray:
    """A face crop aligned already: square and at least :data:`FACE_SIZE` px, resized to it."""
    rgb = _read_srgb(path)
    height, width = rgb.shape[:2]
    if abs(width - height) > SQUARE_TOLERANCE * max(width, height):
        raise DatasetError(f"{width}×{height}, not a square face crop (give --align to find and cut out the face "
                           "of a photo)")
    if min(width, height) < FACE_SIZE:
        raise DatasetError(f"{width}×{height}, under {FACE_SIZE} px: an enlarged face teaches the networks blur")
    return cv2.resize(rgb, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)


class _FaceCutter:
    """Cuts the largest face of a photo as the app cuts faces: RetinaFace's landmarks onto the FFHQ template."""

    def __init__(self, detector_dir: str | Path | None) -> None:
        from faceapp.core.faces import FaceDetector
        from faceapp.core.templates import face_template

        self.detector = FaceDetector(detector_dir, device="cpu")
        self.template = face_template("ffhq5", FACE_SIZE)

    def __call__(self, path: Path) -> np.ndarray:
        from faceapp.core.faces import align_face, select_faces

        rgb = _read_srgb(path)
        found = select_faces(self.detector.detect(rgb), "largest", image_size=(rgb.shape[1], rgb.shape[0]))
        if not found:
            raise DatasetError(f"{path.name}: no face found")
        face = found[0]
        crop, affine = align_face(rgb, face.landmarks, template=self.template, size=FACE_SIZE)
        enlargement = math.sqrt(abs(np.linalg.det(affine[:, :2])))
        if enlargement > MAX_ENLARGEMENT:
            raise DatasetError(f"{path.name}: its largest face would be enlarged {enlargement:.1f}× to {FACE_SIZE} px "
                               "(an enlarged face teaches the networks blur)")
        return crop


def _splits(names: list[Path], val_fraction: float, test_fraction: float) -> list[str]:
    """Each face's split, drawn from a hash of its path: at least one test and one validation face
    once there are three faces (evaluate reads the test split), the rest for training."""
    order = sorted(range(len(names)), key=lambda i: hashlib.sha256(names[i].as_posix().encode()).hexdigest())
    count = len(names)
    test = max(1, round(count * test_fraction)) if count >= 3 and test_fraction > 0 else 0
    val = max(1, round(count * val_fraction)) if count >= 3 and val_fraction > 0 else 0
    test, val = min(test, (count - 1) // 2), min(val, (count - 1) // 2)
    splits = ["train"] * count
    for rank, index in enumerate(order):
        if rank < test:
            splits[index] = "test"
        elif rank < test + val:
            splits[index] = "val"
    return splits


class _ShardWriter:
    """Tar shards of :data:`SHARD_FACES` JPEG faces each, written as the faces come; ``rows``: each
    face's key, shard and source (its path in the images' folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: list[dict[str, str]] = []
        self._tar: tarfile.TarFile | None = None

    def __enter__(self) -> _ShardWriter:
        return self

    def __exit__(self, *_exc) -> None:
        if self._tar is not None:
            self._tar.close()

    def add(self, rgb: np.ndarray, source: str) -> None:
        number = len(self.rows)
        shard = f"faces-{number // SHARD_FACES:03d}.tar"
        if number % SHARD_FACES == 0:
            if self._tar is not None:
                self._tar.close()
            self._tar = tarfile.open(self.folder / shard, "w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise DatasetError(f"{source}: could not be encoded as JPEG")
        key = f"face{number:06d}"
        info = tarfile.TarInfo(f"{key}.jpg")
        info.size = len(data)
        assert self._tar is not None
        self._tar.addfile(info, io.BytesIO(data.tobytes()))
        self.rows.append({"key": key, "shard": shard, "source": source})
