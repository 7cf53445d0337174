"""Small pieces of the words both front-ends use."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """"1 photo", "4 photos", "0 photos": ``noun`` (one whose plural adds an "s") counted."""
    return f"{number} {noun if number == 1 else noun + 's'}"
