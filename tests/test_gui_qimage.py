"""numpy ↔ QImage: exact pixels whatever the row padding, alpha kept, thumbnails bounded."""

from __future__ import annotations

import gui_util  # noqa: F401  (offscreen Qt)
import numpy as np
import pytest

from faceapp.gui.qimage import qimage_to_rgb, rgb_to_qimage, rgb_to_thumbnail


@pytest.mark.parametrize("width", [1, 3, 5, 401])  # 3·width is rarely a multiple of Qt's 4-byte rows
def test_round_trip_is_exact_and_alpha_is_kept(width):
    rng = np.random.default_rng(width)
    rgb = rng.integers(0, 256, (7, width, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (7, width), dtype=np.uint8)
    np.testing.assert_array_equal(qimage_to_rgb(rgb_to_qimage(rgb)), rgb)
    image = rgb_to_qimage(rgb, alpha)
    colour = image.pixelColor(width - 1, 6)
    assert (colour.red(), colour.green(), colour.blue(), colour.alpha()) == (*rgb[6, width - 1], alpha[6, width - 1])


def test_the_image_owns_its_pixels():
    rgb = np.zeros((4, 4, 3), np.uint8)
    image = rgb_to_qimage(rgb)
    rgb[:] = 255
    assert qimage_to_rgb(image).max() == 0


def test_thumbnail_keeps_the_aspect_and_never_exceeds_its_size():
    big = np.zeros((3000, 4500, 3), np.uint8)
    big[:, 2250:] = 200  # right half bright
    thumb = rgb_to_thumbnail(big, 120)
    assert (thumb.width(), thumb.height()) == (120, 80)
    pixels = qimage_to_rgb(thumb)
    assert pixels[:, :55].max() < 10 and pixels[:, 65:].min() > 190
    small = rgb_to_thumbnail(np.zeros((20, 30, 3), np.uint8), 120)
    assert (small.width(), small.height()) == (30, 20)


def test_a_transparent_photo_is_shown_over_a_checkerboard_not_its_hidden_colour():
    """GUI QA: a cut-out's hidden magenta filled the view and the filmstrip thumbnail."""
    from faceapp.gui.views import render

    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[:] = (255, 0, 255)  # hidden where transparent
    rgb[16:48, 16:48] = (200, 150, 120)  # the cut-out
    alpha = np.zeros((64, 64), np.uint8)
    alpha[16:48, 16:48] = 255
    shown = qimage_to_rgb(render(rgb, alpha=alpha).image)
    np.testing.assert_array_equal(shown[16:48, 16:48], rgb[16:48, 16:48])
    outside = shown[alpha == 0]
    assert (outside[:, 0] == outside[:, 1]).all() and (outside[:, 1] == outside[:, 2]).all()  # grey, no magenta
    assert len(np.unique(outside[:, 0])) == 2  # a checkerboard's two greys
    np.testing.assert_array_equal(qimage_to_rgb(render(rgb).image), rgb)  # no alpha: as it is
