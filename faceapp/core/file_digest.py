"""The SHA-256 of a file, read in blocks: how a model's weights are checked, a result names the
photo it was restored from, and a photo is told from a replaced one."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """The hex SHA-256 of the file at ``path`` (raises OSError when it cannot be read)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
