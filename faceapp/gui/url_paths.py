"""Paths to and from Qt: dropped or pasted file URLs, and a path kept in an item's data.

A file name on Linux is bytes; one that is not UTF-8 (``caf\\xe9.jpg`` from an old CD, a zip or a
FAT drive) has no Qt string: ``QUrl.toLocalFile`` gives ``caf\\ufffd.jpg`` and a path stored as a
Qt string loses the byte, so either names no file (unicode QA: such a photo could not be dropped,
nor shown once opened). These keep the name's bytes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes

from PySide6.QtCore import QUrl


def local_file(url: QUrl) -> Path:
    """The file a ``file:`` URL names, its name's bytes as the URL encodes them."""
    if sys.platform == "win32":  # (names there are UTF-16: every one has a Qt string)
        return Path(url.toLocalFile())
    encoded = url.path(QUrl.ComponentFormattingOption.FullyEncoded)
    if url.host() and url.host().lower() != "localhost":  # file://server/share: as Qt names it (file://localhost/
        return Path(url.toLocalFile())  # is this computer, RFC 8089: drag-and-drop QA, it opened /localhost/…)
    return Path(os.fsdecode(unquote_to_bytes(encoded)))


def local_files(urls: list[QUrl]) -> list[Path]:
    """The local files among ``urls`` (a drop's or the clipboard's), in order."""
    return [local_file(url) for url in urls if url.isLocalFile()]


def path_data(path: Path) -> bytes:
    """``path`` as item data that keeps every byte of its name (:func:`path_from_data` reads it)."""
    return os.fsencode(path)


def path_from_data(data: object) -> Path:
    """The path :func:`path_data` stored (Qt hands the bytes back as bytes or a QByteArray)."""
    return Path(os.fsdecode(bytes(data)))  # type: ignore[arg-type]
