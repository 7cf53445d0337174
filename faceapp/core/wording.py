"""Small pieces of the words both front-ends use."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """"1 photo", "4 photos", "0 photos": ``noun`` (one whose plural adds an "s") counted."""
    return f"{number} {noun if number == 1 else noun + 's'}"


def listed(names: list[str], *, most: int = 3) -> str:
    """Up to ``most`` names, and how many more: "a.jpg, b.jpg, c.jpg and 2 more"."""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


#: A run's time left is said once this share of it is done, and this many seconds have passed:
#: earlier, the first steps' pace (kernels being chosen, caches filling) misleads.
_TIME_LEFT_FROM_FRACTION = 0.05
_TIME_LEFT_FROM_SECONDS = 2.0


def time_left(elapsed: float, done: float, *, since: float = 0.0) -> str | None:
    """How long a run has left, in words ("about 40 s left", "about 2 min left"), from ``elapsed``
    seconds spent on the share ``done − since`` of it (``since``: the share done when timing began);
    None while too little is done to tell, or when it is finished."""
    share = done - since
    if share < _TIME_LEFT_FROM_FRACTION or elapsed < _TIME_LEFT_FROM_SECONDS or done >= 1.0:
        return None
    left = elapsed * (1.0 - done) / share
    if left < 10:
        return "a few seconds left"
    if left < 60:
        return f"about {5 * round(left / 5)} s left"
    return f"about {round(left / 60)} min left"
