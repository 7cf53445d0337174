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

from faceapp.core.photo_inputs import exists
from faceapp.gui.url_paths import local_files

#: Text longer than this is not read as paths (a pasted document, not a file manager's "Copy path").
_MAX_PATH_TEXT = 64_000


@dataclass
class Offered:
    """``files``: local files and folders named (a file's URL, or text that is a path); ``image``: a
    picture with no file (only where no file is named); ``web``: addresses of other schemes;
    ``unreadable_image``: a picture was offered but could not be read."""

    files: list[Path] = field(default_factory=list)
    image: QImage | None = None
    web: list[str] = field(default_factory=list)
    #: a picture offered that could not be read (damaged, empty, or in a form Qt does not read)
    unreadable_image: bool = False


def photos_offered(mime: QMimeData) -> Offered:
    """What ``mime`` (a drop's or the clipboard's) offers to open."""
    urls = mime.urls() if mime.hasUrls() else []
    files = local_files(urls) or (paths_in_text(mime.text()) if mime.hasText() else [])
    image = None
    if not files and mime.hasImage():
        data = mime.imageData()
        image = data if isinstance(data, QImage) and not data.isNull() else None
    web = [url.toDisplayString() for url in urls if not url.isLocalFile()]
    pictured = mime.hasImage() or any(fmt.startswith("image/") for fmt in mime.formats())
    return Offered(files, image, web, unreadable_image=not files and pictured and image is None)


def may_offer_photos(mime: QMimeData) -> bool:
    """Whether a drag's data may hold something to open, read from its form alone as it enters the
    window (review: a file looked for on every drag over it could hang the window on a dead network
    drive)."""
    return mime.hasUrls() or mime.hasImage() or (mime.hasText() and bool(_named_in_text(mime.text())))


def paths_in_text(text: str) -> list[Path]:
    """The files that ``text`` names, one a line, as absolute paths or ``file:`` URLs on this
    computer; none unless every line names a file or folder that is there (prose is not searched for
    paths, and a network path is not looked up: review, ``\\\\host\\share`` would have sent the user's
    credentials to that host on Windows)."""
    named = _named_in_text(text)
    return named if named and all(exists(path) for path in named) else []  # (a line too long to be a name: none)


def _named_in_text(text: str) -> list[Path]:
    """The paths ``text`` names, one a line, by form only (no file is looked at): absolute local
    paths or ``file:`` URLs of this computer; none where a line is anything else."""
    if len(text) > _MAX_PATH_TEXT:
        return []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    named = []
    for line in lines:
        unquoted = line[1:-1] if len(line) > 1 and line[0] == line[-1] and line[0] in "'\"" else line
        if unquoted.lower().startswith("file:"):
            url = QUrl(unquoted)
            local = url.isLocalFile() and url.host().lower() in ("", "localhost")
            path = local_files([url])[0] if local else None
        else:
            expanded = os.path.expanduser(unquoted)
            network = expanded.startswith(("\\\\", "//"))
            path = Path(expanded) if os.path.isabs(expanded) and not network else None
        if path is None:
            return []
        named.append(path)
    return named
