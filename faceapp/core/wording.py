"""Small pieces of the words both front-ends use."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """"1 photo", "4 photos", "0 photos"; ``plural`` where adding "s" is not it ("2 faces" needs none)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
