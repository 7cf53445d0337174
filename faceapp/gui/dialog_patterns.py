"""File-name patterns for the open dialogs' filters, matching a suffix in any case.

On Linux Qt shows GTK's dialog on GNOME, Cinnamon, MATE and Xfce desktops (and the portal's on
Flatpak and Wayland desktops), and GTK matches a filter's patterns by case: ``*.jpg`` hid
IMG_0001.JPG, as cameras name photos, and foto.Jpg (locale QA). There each letter of a suffix is
given as a set of its two cases (``*.[jJ][pP][gG]``), which GTK and Qt's own dialog both read.
Windows' and macOS's dialogs ignore case already and take no ``[ ]``: the plain patterns go there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable


def any_case_patterns(suffixes: Iterable[str], *, platform: str | None = None) -> str:
    """The dialog filter's patterns for ``suffixes`` (".jpg", …), space-separated, sorted."""
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return " ".join(f"*{suffix}" for suffix in sorted(suffixes))
    return " ".join("*" + "".join(_any_case(char) for char in suffix) for suffix in sorted(suffixes))


def _any_case(char: str) -> str:
    lower, upper = char.lower(), char.upper()
    return f"[{lower}{upper}]" if lower != upper and len(upper) == 1 else char
