"""Pictures drawn at the screen's resolution are drawn again when the window moves to a screen of
another scale (portability QA: thumbnails dragged from a 100 % monitor to a Retina one stayed blurry)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gui_util  # noqa: F401  (offscreen Qt, set up before Qt starts)
import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, Qt

from faceapp.gui import run_panel, seed_gallery
from faceapp.gui.filmstrip import _THUMB_ROLE, Filmstrip
from faceapp.gui.qimage import rgb_to_thumbnail
from faceapp.gui.run_panel import FacePreview
from faceapp.gui.seed_gallery import SeedGallery


def _moved_to_a_screen_of_scale(widget, ratio: float, monkeypatch) -> None:
    """What Qt does when the window reaches a screen of ``ratio``: the widget reports it, and is told."""
    monkeypatch.setattr(widget, "devicePixelRatioF", lambda: ratio)
    QCoreApplication.sendEvent(widget, QEvent(QEvent.Type.DevicePixelRatioChange))


def test_the_filmstrips_thumbnails_are_drawn_for_the_new_screen(qtbot, monkeypatch):
    strip = Filmstrip()
    qtbot.addWidget(strip)
    path = Path("/photos/a.jpg")
    strip.add_photo(path, rgb_to_thumbnail(np.full((600, 800, 3), 90, np.uint8), 400))
    before = strip.item(0).data(_THUMB_ROLE)
    _moved_to_a_screen_of_scale(strip, 2.0, monkeypatch)
    after = strip.item(0).data(_THUMB_ROLE)
    assert after.devicePixelRatio() == 2.0
    assert abs(after.width() - 2 * before.width() / before.devicePixelRatio()) <= 1


def _recorded_ratios(module, monkeypatch) -> list[float]:
    """The screen scales ``module`` draws its pictures for, one entry a picture."""
    ratios = []
    real = module.rgb_to_pixmap

    def recording(image, **kwargs):
        ratios.append(kwargs["device_pixel_ratio"])
        return real(image, **kwargs)

    monkeypatch.setattr(module, "rgb_to_pixmap", recording)
    return ratios


def test_the_face_preview_is_drawn_for_the_new_screen(qtbot, monkeypatch):
    ratios = _recorded_ratios(run_panel, monkeypatch)
    preview = FacePreview()
    qtbot.addWidget(preview)
    preview.resize(120, 120)
    preview.show_rgb(np.full((256, 256, 3), 90, np.uint8))
    assert ratios[-1] == 1.0
    _moved_to_a_screen_of_scale(preview, 2.0, monkeypatch)
    assert ratios[-1] == 2.0


def test_the_seed_gallerys_thumbnails_are_drawn_for_the_new_screen(qtbot, monkeypatch):
    ratios = _recorded_ratios(seed_gallery, monkeypatch)
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    face = SimpleNamespace(candidates=[np.full((64, 64, 3), v, np.uint8) for v in (40, 200)], seeds=[0, 1],
                           chosen=1)
    gallery.set_faces([face])
    assert len(ratios) == 2
    _moved_to_a_screen_of_scale(gallery, 2.0, monkeypatch)
    assert ratios[2:] == [2.0, 2.0]
    assert gallery._list.currentRow() == 1 and gallery._list.item(1).data(Qt.ItemDataRole.UserRole) == 1
