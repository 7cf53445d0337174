"""The small pieces of wording both front-ends share."""

from faceapp.core.progress import StepClock
from faceapp.core.wording import counted, listed, time_left


def test_counted_and_listed_names():
    assert (counted(1, "photo"), counted(4, "photo"), counted(0, "face")) == ("1 photo", "4 photos", "0 faces")
    names = [f"{c}.jpg" for c in "abcde"]
    assert listed(names[:3]) == "a.jpg, b.jpg, c.jpg"
    assert listed(names) == "a.jpg, b.jpg, c.jpg and 2 more"
    assert listed(names, most=5) == "a.jpg, b.jpg, c.jpg, d.jpg, e.jpg" and listed([]) == ""


def test_time_left_is_said_once_the_pace_is_known_and_rounded_as_people_say_it():
    """Runs of 45-55 s (×2 upscale, sharp faces off, seeds) showed a bar and no time (QA)."""
    assert time_left(1.0, 4, 10) is None  # too soon: the first steps' pace misleads
    assert time_left(10.0, 1, 10) is None
    assert time_left(10.0, 5, 0) is None  # finished
    assert time_left(10.0, 5, 5) == "about 10 s left"
    assert time_left(10.0, 5, 15) == "about 30 s left"
    assert time_left(12.0, 2, 20) == "about 2 min left"
    assert time_left(11.8, 2, 10) == "about 1 min left"  # 59 s: not "about 60 s" (review)
    assert time_left(3.0, 8, 2) == "a few seconds left"


def test_the_step_clock_counts_sampled_steps_and_skips_faces_spared_whole():
    """Review: a face spared whole (no steps) took a share of the run, so the time left after it was
    a few seconds with 35 s to go: the pace is per sampling step."""
    clock = StepClock()
    clock.advance(1, 1, 100.0)  # face 1 (the second) at its first step: face 0 took none
    clock.advance(1, 3, 104.0)
    assert clock.steps == 2 and clock.started == 100.0
    assert clock.steps_left(1, 2, 3, 8) == 5
    clock.advance(2, 2, 110.0)  # the next face's second step
    assert clock.steps == 4 and clock.steps_left(2, 4, 2, 8) == 6 + round(8 * 2 / 3)  # 2 of 3 faces sampled
    clock.reset()  # a stage after the steps (repairing, then enlarging): its faces stay behind it (review:
    assert clock.stepped and not clock.steps  # Restore all's time left counted the photo undone again)
    assert not StepClock().stepped


def test_the_faces_to_come_are_expected_to_be_spared_as_often_as_those_so_far():
    """QA: a scan of 120 faces, 104 of them spared, was said to have a minute left at 8 s and
    finished at 20 s: the faces to come were all counted as sampled."""
    clock = StepClock()
    for face in range(0, 40, 8):  # 5 of the first 40 faces sampled, 6 steps each
        for step in range(1, 7):
            clock.advance(face, step, float(face * 6 + step))
    assert clock.steps_left(32, 120, 6, 6) == round(87 * 6 * 5 / 33)  # 79 steps, not 522
    every = StepClock()  # every face sampled: each face to come counted whole, as before
    for face in range(3):
        every.advance(face, 6, float(face))
    assert every.steps_left(2, 10, 6, 6) == 7 * 6
