"""Checked command-line values of the training tools: argparse ``type=`` functions whose errors end
the command as a one-line usage error (exit 2) before any work starts."""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def _number(text: str, kind=float):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of at least 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number of at least 0."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def unit_interval(text: str) -> float:
    """A number from 0 to 1 (a fidelity, DDIM's η)."""
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def ddim_steps(text: str) -> int:
    """A DDIM step count, 1 to 1000 (as :class:`faceapp.core.settings.SamplerSettings` takes)."""
    value = _number(text, int)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be from 1 to 1000, not {text}")
    return value


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
