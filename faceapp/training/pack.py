"""Pack the data set into self-contained parts small enough to travel with one GPU job.

Each part is a data folder of its own (``manifest.jsonl`` + one tar shard) holding a random,
disjoint subset of the training faces (optionally re-encoded at a lower JPEG quality) plus the
first few validation faces (``val_faces``: the validation figure of each checkpoint is taken on up
to 16 of them, preview grids on 4). Parts stop at ``max_mib``.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import cv2
import numpy as np

from faceapp.training.data import ShardReader, read_manifest

DEFAULT_VAL_FACES = 4  # validation faces a part holds unless asked for more: enough for preview grids


def _encode(reader: ShardReader, key: str, quality: int) -> bytes:
    data = reader.read_bytes(key)
    if not quality:
        return data
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes()


def pack_parts(root: str | Path, out: str | Path, *, max_mib: float = 40.0, quality: int = 0, seed: int = 0,
               max_parts: int = 0, val_faces: int = DEFAULT_VAL_FACES, log=print) -> list[Path]:
    """Write ``out/part-NN/{manifest.jsonl,part.tar}``; returns the part folders."""
    records = read_manifest(Path(root))
    reader = ShardReader(root, records=records)
    train = [r for r in records if r.split == "train"]
    val = [r for r in records if r.split == "val"][:val_faces]
    order = np.random.default_rng(seed).permutation(len(train))
    limit = int(max_mib * 2**20) - 64 * 1024  # room for the manifest and tar padding
    parts, i = [], 0
    while i < len(order) and (not max_parts or len(parts) < max_parts):
        folder = Path(out) / f"part-{len(parts):02d}"
        folder.mkdir(parents=True, exist_ok=True)
        rows, size = [], 0
        with tarfile.open(folder / "part.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
            def add(rec):
                nonlocal size
                data = _encode(reader, rec.key, quality)
                info = tarfile.TarInfo(f"{rec.key}.jpg")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                size += 512 + (len(data) + 511) // 512 * 512
                rows.append({"key": rec.key, "shard": "part.tar", "split": rec.split})

            for rec in val:
                add(rec)
            while i < len(order) and size < limit - 40 * 1024:
                add(train[order[i]])
                i += 1
        with (folder / "manifest.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
        mib = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        log(f"{folder}: {len(rows) - len(val)} training faces, {mib:.1f} MiB")
        parts.append(folder)
    return parts
