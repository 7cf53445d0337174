"""The small pieces of wording both front-ends share."""

from faceapp.core.wording import counted, listed


def test_counted_and_listed_names():
    assert (counted(1, "photo"), counted(4, "photo"), counted(0, "face")) == ("1 photo", "4 photos", "0 faces")
    names = [f"{c}.jpg" for c in "abcde"]
    assert listed(names[:3]) == "a.jpg, b.jpg, c.jpg"
    assert listed(names) == "a.jpg, b.jpg, c.jpg and 2 more"
    assert listed(names, most=5) == "a.jpg, b.jpg, c.jpg, d.jpg, e.jpg" and listed([]) == ""
