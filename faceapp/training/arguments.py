"""Checked paths for the training tools' command lines: argparse ``type=`` functions whose errors
end the command as a one-line usage error (exit 2) before any work starts. Numbers are checked by
:mod:`faceapp.arguments`, as in ``faceapp-cli``."""

from __future__ import annotations

import argparse
from pathlib import Path


def existing_file(text: str) -> Path:
    """A file that exists."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} {'is a folder' if path.is_dir() else 'does not exist'}: give a file")
    return path


def folder(text: str) -> Path:
    """A folder, existing or to be made (not an existing file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file: give a folder (it is made if missing)")
    return path


def weights_or_run(text: str) -> Path:
    """A portable weight file (``ema.safetensors``, an exported ``*.safetensors``) or a run folder holding one:
    the file."""
    from faceapp.training.checkpoint import PORTABLE_NAME, run_weights_path

    path = run_weights_path(text)
    if not path.is_file():
        where = f"a folder without {PORTABLE_NAME}" if Path(text).is_dir() else "missing"
        raise argparse.ArgumentTypeError(f"{text} is {where}: give an {PORTABLE_NAME} (or the run folder holding "
                                         "one, or an exported *-restorer/*-prior.safetensors)")
    return path


def image_path(text: str) -> Path:
    """A file name OpenCV can write an image to (checked by its suffix: .png, .jpg, …)."""
    import cv2

    path = Path(text)
    if not cv2.haveImageWriter(str(path)):
        raise argparse.ArgumentTypeError(f"{text}: cannot write an image with suffix {path.suffix or '(none)'!r} "
                                         "(use .png or .jpg)")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give an image file name (e.g. grid.png)")
    return path
