"""The small pieces of wording both front-ends share."""

from faceapp.core.wording import counted, listed, time_left


def test_counted_and_listed_names():
    assert (counted(1, "photo"), counted(4, "photo"), counted(0, "face")) == ("1 photo", "4 photos", "0 faces")
    names = [f"{c}.jpg" for c in "abcde"]
    assert listed(names[:3]) == "a.jpg, b.jpg, c.jpg"
    assert listed(names) == "a.jpg, b.jpg, c.jpg and 2 more"
    assert listed(names, most=5) == "a.jpg, b.jpg, c.jpg, d.jpg, e.jpg" and listed([]) == ""


def test_time_left_is_said_once_the_pace_is_known_and_rounded_as_people_say_it():
    """Runs of 45-55 s (×2 upscale, sharp faces off, seeds) showed a bar and no time (QA)."""
    assert time_left(1.0, 0.5) is None  # too soon: the first steps' pace misleads
    assert time_left(10.0, 0.01) is None
    assert time_left(10.0, 1.0) is None  # finished
    assert time_left(10.0, 0.5) == "about 10 s left"
    assert time_left(10.0, 0.25) == "about 30 s left"
    assert time_left(12.0, 0.1) == "about 2 min left"
    assert time_left(3.0, 0.8) == "a few seconds left"
    assert time_left(20.0, 0.6, since=0.1) == "about 15 s left"  # timed from 10 % on: half of it took 20 s, 0.4 left
