"""The words that say why an action is off (:mod:`faceapp.gui.unavailable`), read without a window."""

from __future__ import annotations

from faceapp.gui.actions import ACTIONS
from faceapp.gui.unavailable import reasons_off


def test_each_reason_follows_the_photos_state():
    none = reasons_off(photo=None, failed=False, loaded=False, restored=False, restoring=False)
    assert none["save"] == none["copy"] == "Open a photo first"
    failed = reasons_off(photo="broken.jpg", failed=True, loaded=False, restored=False, restoring=False)
    assert failed["save"] == failed["restore"] == "broken.jpg could not be opened"  # (not "once it is open": QA)
    opening = reasons_off(photo="a.jpg", failed=False, loaded=False, restored=False, restoring=False)
    assert opening["copy"] == "Available once a.jpg is open"
    loaded = reasons_off(photo="a.jpg", failed=False, loaded=True, restored=False, restoring=False)
    assert loaded["save"] == "Restore the photo first" and loaded["eraser"] == "Take the damage brush first (P)"
    assert "draw a box" in loaded["restore"]
    assert reasons_off(photo="a.jpg", failed=False, loaded=True, restored=False, restoring=True)["restore"] == (
        "The photo is being restored")


def test_every_reason_is_for_an_action_of_the_window():
    reasons = reasons_off(photo="a.jpg", failed=False, loaded=True, restored=True, restoring=False)
    assert set(reasons) <= set(ACTIONS)
