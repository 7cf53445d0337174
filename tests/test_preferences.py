"""Preferences: which of them a restore's result depends on (Restore all keeps a result made with the same)."""

from __future__ import annotations

from faceapp.core.preferences import Preferences


def test_restoration_changes_with_what_a_restore_depends_on_and_not_with_where_it_is_saved():
    prefs = Preferences()
    for change in ({"fidelity": 0.6}, {"steps": 3}, {"seeds_per_face": 2}, {"base_seed": 7}, {"upscale": 2},
                   {"model": "other"}, {"precision": "fp32"}, {"spare_sharp_faces": False},
                   {"descreen": False}):
        assert prefs.replace(**change).restoration() != prefs.restoration(), change
    # grain matching too: the window switches it on the result shown (PhotoResult.with_grain)
    for change in ({"quality": 80}, {"export_format": "png"}, {"output_folder": "/tmp"}, {"keep_16_bits": False},
                   {"refine_passes": 2}, {"match_grain": False}):
        assert prefs.replace(**change).restoration() == prefs.restoration(), change


def test_halftone_smoothing_changes_only_a_printed_photos_restore():
    """Review: switching Settings ▸ Halftone made every restored photo "made with other settings",
    and Restore all restored them all again, their seed picks lost."""
    on, off = Preferences(), Preferences(descreen=False)
    assert on.restoration() != off.restoration() and off.restoration_changes(on.restoration()) == ["descreen"]
    assert on.restoration(printed=False) == off.restoration(printed=False)
    assert off.restoration_changes(on.restoration(), printed=False) == []
    assert on.replace(steps=3).restoration_changes(off.restoration(), printed=False) == ["steps"]
