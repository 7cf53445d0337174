"""Small pieces of the words both front-ends use."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """"1 photo", "4 photos", "0 photos": ``noun`` (one whose plural adds an "s") counted."""
    return f"{number} {noun if number == 1 else noun + 's'}"


def listed(names: list[str], *, most: int = 3) -> str:
    """Up to ``most`` names, and how many more: "a.jpg, b.jpg, c.jpg and 2 more"."""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more
