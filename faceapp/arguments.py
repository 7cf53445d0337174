"""Checked numbers for command-line options, shared by ``faceapp-cli`` and the training tools:
argparse ``type=`` functions whose refusal ends the command as a one-line usage error (exit 2)
before any work starts, in the same words everywhere ("must be within 0…1, got 2")."""

from __future__ import annotations

import argparse
import math
import re

#: Said after a number written with a decimal comma, as German or French write them (locale QA).
DECIMAL_POINT = "write numbers with a decimal point (0.8, not 0,8)"
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")


def _parsed(text: str, kind: type, wanted: str) -> float | int:
    """``text`` as a ``kind`` (a finite one, for floats), else the usage error naming ``wanted``."""
    try:
        value = kind(text)
    except ValueError:
        hint = f": {DECIMAL_POINT}" if kind is float and _DECIMAL_COMMA.fullmatch(text.strip()) else ""
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}{hint}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
    return value


def within(low: int, high: int):
    """A whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        value = _parsed(text, int, f"a whole number within {low}…{high}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be within {low}…{high}, got {text}")
        return value

    return parse


def at_least(low: int):
    """A whole number of ``low`` or more."""
    def parse(text: str) -> int:
        value = _parsed(text, int, f"a whole number, {low} or more")
        if value < low:
            raise argparse.ArgumentTypeError(f"must be a whole number, {low} or more, got {text}")
        return value

    return parse


def fraction(text: str) -> float:
    """A number from 0 to 1 (a fidelity, DDIM's η)."""
    value = _parsed(text, float, "a number within 0…1")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within 0…1, got {text}")
    return value


def above_zero(text: str) -> float:
    """A finite number above 0 (minutes, MiB)."""
    value = _parsed(text, float, "a number above 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def zero_or_more(text: str) -> float:
    """A finite number of 0 or more (pixels, grey levels)."""
    value = _parsed(text, float, "a number, 0 or more")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number, 0 or more, got {text}")
    return value


def pixels(text: str) -> float:
    """A size in pixels: a finite number, 0 or more."""
    value = _parsed(text, float, "a number of pixels, 0 or more")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of pixels, 0 or more, got {text}")
    return value


def seed(text: str) -> int:
    """A first seed: a whole number from 0 to :data:`~faceapp.core.settings.MAX_BASE_SEED`."""
    from faceapp.core.settings import MAX_BASE_SEED

    value = _parsed(text, int, f"a whole number from 0 to {MAX_BASE_SEED}")
    if not 0 <= value <= MAX_BASE_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_BASE_SEED}, got {text!r}")
    return value


def floats(count: int):
    """``count`` numbers separated by commas (or semicolons)."""
    def parse(text: str) -> list[float]:
        try:
            values = [float(v) for v in text.replace(";", ",").split(",")]
        except ValueError:
            values = [math.nan]
        if not all(math.isfinite(v) for v in values):  # (nan and inf read as floats)
            raise argparse.ArgumentTypeError(f"expected {count} comma-separated numbers, got {text!r}")
        if len(values) != count:
            hint = f": {DECIMAL_POINT}" if ";" in text and "," in text else ""  # ("10,5;20,5;…")
            raise argparse.ArgumentTypeError(f"expected {count} comma-separated numbers, got {len(values)}{hint}")
        return values

    return parse
