"""Small pieces of the words both front-ends use."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """"1 photo", "4 photos", "0 photos": ``noun`` (one whose plural adds an "s") counted."""
    return f"{number} {noun if number == 1 else noun + 's'}"


def ended(text: str) -> str:
    """``text`` ending as a sentence does: a full stop added unless it ends in one, "!", "?" or ":"."""
    return text if text.endswith((".", "!", "?", ":")) else f"{text}."


def listed(names: list[str], *, most: int = 3) -> str:
    """Up to ``most`` names, and how many more: "a.jpg, b.jpg, c.jpg and 2 more"."""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def percent(fraction: float) -> str:
    """A share of a run done, as every progress display shows it ("67 %"): rounded, so that the
    progress bar and the filmstrip never read 66 % and 67 % for the same step."""
    return f"{round(100 * fraction)} %"


#: A run's time left is said once this many of its sampling steps are timed, over at least this
#: many seconds: earlier, the first steps' pace (kernels being chosen, caches filling) misleads.
_TIME_LEFT_FROM_STEPS = 2
_TIME_LEFT_FROM_SECONDS = 2.0


def time_left(elapsed: float, steps_done: int, steps_left: int) -> str | None:
    """How long a run has left, in words ("about 40 s left", "about 2 min left"), from ``elapsed``
    seconds spent on ``steps_done`` sampling steps, with ``steps_left`` to go; None while too few
    are timed to tell, or when none is left."""
    if steps_done < _TIME_LEFT_FROM_STEPS or elapsed < _TIME_LEFT_FROM_SECONDS or steps_left <= 0:
        return None
    return _left_words(elapsed / steps_done * steps_left)


#: The share of a batch done before its time left is told: the first photo's pace includes the model's loading.
_SHARE_FROM = 0.15


def time_left_of(elapsed: float, share_done: float) -> str | None:
    """How long a batch has left, in words, from ``elapsed`` seconds spent on ``share_done`` (0…1)
    of its work; None while too little is done to tell, or when it is all done."""
    if share_done < _SHARE_FROM or share_done >= 1.0 or elapsed < _TIME_LEFT_FROM_SECONDS:
        return None
    return _left_words(elapsed / share_done * (1.0 - share_done))


def _left_words(left: float) -> str:
    if left < 10:
        return "a few seconds left"
    if left < 57.5:
        return f"about {5 * round(left / 5)} s left"
    return f"about {max(1, round(left / 60))} min left"


def duration(seconds: float) -> str:
    """A wall time as a person reads it: "under 0.1 s", "8.4 s", "2 min 05 s", "1 h 02 min"."""
    if seconds < 0.05:  # "0.0 s" reads as though nothing was done
        return "under 0.1 s"
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def human_size(size: int) -> str:
    """A byte count in decimal units: "512 B", "1.7 MB", "2.1 GB"."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover
