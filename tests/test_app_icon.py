"""The bundled programs' icon (packaging/app_icon.py): the app's SVG drawn square, transparent round it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import gui_util  # noqa: F401  (offscreen Qt, set up before Qt starts)
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _app_icon():
    spec = importlib.util.spec_from_file_location("app_icon", ROOT / "packaging" / "app_icon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_icon_is_the_apps_svg_drawn_at_full_size(qapp, tmp_path):
    dest = _app_icon().write_icon(ROOT / "resources" / "icons" / "faceapp.svg", tmp_path / "sub" / "faceapp.png")
    with Image.open(dest) as image:
        assert image.size == (512, 512) and image.mode == "RGBA"
        pixels = np.asarray(image)
    assert pixels[0, 0, 3] == 0 and pixels[-1, -1, 3] == 0  # transparent corners: a round icon
    assert pixels[256, 256, 3] == 255 and pixels[128, 256, 2] > pixels[128, 256, 0]  # the blue face fills it
    assert pixels[:, :, 3].astype(bool).mean() > 0.6  # (a circle filling the square covers 0.66; not 24 px in a corner)
