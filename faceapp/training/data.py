"""The aligned-face data set, read straight from its tar shards.

A data folder holds ``manifest.jsonl`` (one JSON object per face: ``key``, ``shard``, ``split``)
and the shards it names, each a plain tar of ``<key>.jpg`` members (256×256 colour JPEG). The
member offsets are indexed once per shard, then each face is one seek and one read, so nothing
is ever unpacked to disk. Open file handles are per process, so the reader can be used from
DataLoader worker processes.
"""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from faceapp.core.errors import FaceappError

SPLITS = ("train", "val", "test")
#: The side of every face of a data folder: faceapp's compact model restores 256 px faces.
FACE_SIZE = 256
#: How to make a data folder whose every face can be read (``prepare`` leaves out what it cannot read).
MAKE_ONE = "make the data folder from your images with `python -m faceapp.training prepare`"


class DatasetError(FaceappError):
    """The face data set is missing, incomplete or unreadable."""


@dataclass(frozen=True)
class FaceRecord:
    key: str
    shard: str
    split: str


def read_manifest(root: Path) -> list[FaceRecord]:
    """Every face listed in ``root/manifest.jsonl``, in file order."""
    path = Path(root) / "manifest.jsonl"
    if not path.is_file():
        where = "" if path.is_absolute() else f" (that is {path.absolute()}, from the folder the command runs in)"
        raise DatasetError(f"{path} is missing{where}: point --data at a folder holding manifest.jsonl and its tar "
                           f"shards (to train on a folder of face images, {MAKE_ONE})")  # (ML QA: a config's
        # relative root, unresolved, did not say it was taken from the folder the command ran in)
    records = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                records.append(FaceRecord(key=str(row["key"]), shard=str(row["shard"]), split=str(row["split"])))
            except (ValueError, KeyError) as exc:
                raise DatasetError(f"{path}:{line_no} is not a valid manifest line ({exc})") from None
    return records


def index_shard(path: Path) -> dict[str, tuple[int, int]]:
    """Map each ``<key>.jpg`` member of a tar shard to its (data offset, size) in bytes."""
    index = {}
    try:
        with tarfile.open(path, mode="r:") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".jpg"):
                    index[Path(member.name).stem] = (member.offset_data, member.size)
    except (OSError, tarfile.TarError) as exc:
        raise DatasetError(f"cannot read shard {path}: {exc}") from None
    return index


class ShardReader:
    """Random access to the faces of a data folder by key, without unpacking."""

    def __init__(self, root: str | Path, *, records: list[FaceRecord] | None = None) -> None:
        self.root = Path(root)
        self.records = records if records is not None else read_manifest(self.root)
        self._offsets: dict[str, tuple[str, int, int]] = {}
        for shard in sorted({r.shard for r in self.records}):
            shard_path = self.root / shard
            if not shard_path.is_file():
                raise DatasetError(f"shard {shard_path} named in the manifest is missing")
            for key, (offset, size) in index_shard(shard_path).items():
                self._offsets[key] = (shard, offset, size)
        missing = [r.key for r in self.records if r.key not in self._offsets]
        if missing:
            raise DatasetError(f"{len(missing)} face(s) of the manifest are not in their shard (first: {missing[0]})")
        self._handles: dict[str, object] = {}
        self._pid = os.getpid()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_handles"] = {}
        return state

    def _handle(self, shard: str):
        if self._pid != os.getpid():  # forked into a worker: never share file positions
            self._handles, self._pid = {}, os.getpid()
        fh = self._handles.get(shard)
        if fh is None:
            fh = self._handles[shard] = open(self.root / shard, "rb")  # noqa: SIM115 (kept open)
        return fh

    def read_bytes(self, key: str) -> bytes:
        """The JPEG bytes of one face."""
        shard, offset, size = self._offsets[key]
        fh = self._handle(shard)
        fh.seek(offset)
        return fh.read(size)

    def read_rgb(self, key: str) -> np.ndarray:
        """One face as a FACE_SIZE×FACE_SIZE×3 uint8 RGB array (own-model QA: a face of another size
        ended in a traceback deep in a network, or in the batch; one of 300 px was cut at random)."""
        data = np.frombuffer(self.read_bytes(key), dtype=np.uint8)
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
        shard = self.root / self._offsets[key][0]
        if bgr is None:
            raise DatasetError(f"face {key} in {shard} is not a decodable JPEG: take its line out of "
                               f"{self.root / 'manifest.jsonl'}, or {MAKE_ONE}")
        if bgr.shape[:2] != (FACE_SIZE, FACE_SIZE):
            raise DatasetError(f"face {key} in {shard} is {bgr.shape[1]}×{bgr.shape[0]}: faceapp trains on "
                               f"{FACE_SIZE}×{FACE_SIZE} aligned faces; {MAKE_ONE}")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        for fh in self._handles.values():
            fh.close()
        self._handles = {}


class FaceDataset:
    """The faces of one split, in manifest order, with optional flip and crop per sample."""

    def __init__(self, root: str | Path, *, split: str, limit: int = 0, spread: bool = False) -> None:
        """``limit``: keep only that many faces — the first ones, or with ``spread`` faces evenly
        spaced over the whole split (the source is ordered by person and age, so the first few
        faces of a split are all young children)."""
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r} (one of {', '.join(SPLITS)})")
        records = [r for r in read_manifest(Path(root)) if r.split == split]
        if limit and spread and len(records) > limit:
            records = [records[i * len(records) // limit] for i in range(limit)]
        elif limit:
            records = records[:limit]
        if not records:
            raise DatasetError(f"the {split} split of {root} is empty (`python -m faceapp.training prepare` holds "
                               "out val and test faces)")
        self.split = split
        self.reader = ShardReader(root, records=records)
        self.keys = [r.key for r in records]

    def __len__(self) -> int:
        return len(self.keys)

    def image(self, index: int) -> np.ndarray:
        """Face ``index`` as an HxWx3 uint8 RGB array, untouched."""
        return self.reader.read_rgb(self.keys[index])


def augment(image: np.ndarray, rng: np.random.Generator, *, crop: int, hflip: bool) -> np.ndarray:
    """A random horizontal flip (p = ½) and a random ``crop``² window of an HxWx3 image."""
    if hflip and rng.random() < 0.5:
        image = image[:, ::-1]
    h, w = image.shape[:2]
    if crop < min(h, w):
        top = int(rng.integers(0, h - crop + 1))
        left = int(rng.integers(0, w - crop + 1))
        image = image[top : top + crop, left : left + crop]
    return np.ascontiguousarray(image)
