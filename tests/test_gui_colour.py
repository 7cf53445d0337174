"""The window shows a wide-gamut photo colour-managed (converted to sRGB), before and after."""

from __future__ import annotations

import gui_util
import numpy as np
from gui_util import load, restore, shown_after
from icc_util import DISPLAY_P3, rgb_profile
from PIL import Image

from faceapp.gui.qimage import qimage_to_rgb

window = gui_util.window  # the shared fixture


def test_a_display_p3_photo_is_shown_in_srgb(window, qtbot, tmp_path, testdata_dir):
    path = tmp_path / "p3.png"
    Image.open(testdata_dir / "photos" / gui_util.PHOTO).convert("RGB").save(
        path, icc_profile=rgb_profile(DISPLAY_P3, description="Display P3 (test)"))
    path = load(window, qtbot, path)
    entry = window.session.entries[path]
    assert not np.array_equal(entry.photo.srgb, entry.photo.rgb)
    np.testing.assert_array_equal(qimage_to_rgb(window.compare.before_image()), entry.photo.srgb)
    entry = restore(window, qtbot, path)
    np.testing.assert_array_equal(shown_after(window), entry.photo.to_srgb(entry.composite))
