"""What a drop or the clipboard offers to open: photo files, an image with no file (a browser's
picture, a screenshot), or only web addresses, which faceapp does not download.

A browser's "Copy image" or a dragged picture comes as the image, its web address and some HTML
together (drag-and-drop QA: the address was taken for the photo, found not to be a file, and the
image was left unused without a word); a file manager's "Copy path" comes as text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QImage

from faceapp.gui.url_paths import local_files

#: Text longer than this is not read as paths (a pasted document, not a file manager's "Copy path").
_MAX_PATH_TEXT = 64_000


@dataclass
class Offered:
    """``files``: local files and folders named (a file's URL, or text that is a path); ``image``: a
    picture with no file (only where no file is named); ``web``: addresses of other schemes."""

    files: list[Path] = field(default_factory=list)
    image: QImage | None = None
    web: list[str] = field(default_factory=list)


def photos_offered(mime: QMimeData) -> Offered:
    """What ``mime`` (a drop's or the clipboard's) offers to open."""
    urls = mime.urls() if mime.hasUrls() else []
    files = local_files(urls) or (paths_in_text(mime.text()) if mime.hasText() else [])
    image = None
    if not files and mime.hasImage():
        data = mime.imageData()
        image = data if isinstance(data, QImage) and not data.isNull() else None
    web = [url.toDisplayString() for url in urls if not url.isLocalFile()]
    return Offered(files, image, web)


def may_offer_photos(mime: QMimeData) -> bool:
    """Whether a drag's data may hold something to open (read cheaply, as it enters the window)."""
    return mime.hasUrls() or mime.hasImage() or (mime.hasText() and bool(paths_in_text(mime.text())))


def paths_in_text(text: str) -> list[Path]:
    """The files that ``text`` names, one a line, as absolute paths or ``file:`` URLs; none unless
    every line names a file or folder that is there (prose is not searched for paths)."""
    lines = [line.strip() for line in text[:_MAX_PATH_TEXT + 1].splitlines() if line.strip()]
    if not lines or len(text) > _MAX_PATH_TEXT:
        return []
    named = []
    for line in lines:
        unquoted = line[1:-1] if len(line) > 1 and line[0] == line[-1] and line[0] in "'\"" else line
        if unquoted.lower().startswith("file:"):
            path = (local_files([QUrl(unquoted)]) or [None])[0]
        else:
            path = Path(os.path.expanduser(unquoted)) if os.path.isabs(os.path.expanduser(unquoted)) else None
        if path is None or not path.exists():
            return []
        named.append(path)
    return named
