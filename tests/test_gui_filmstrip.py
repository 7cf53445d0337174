"""The filmstrip: one compact row that scrolls sideways, with each photo's state."""

from __future__ import annotations

from pathlib import Path

import gui_util  # noqa: F401  (offscreen Qt)
import numpy as np
from PySide6.QtWidgets import QStyle

from faceapp.gui.filmstrip import Filmstrip
from faceapp.gui.qimage import rgb_to_thumbnail


def test_many_photos_stay_in_one_compact_row_that_scrolls_sideways(qtbot):
    strip = Filmstrip()
    qtbot.addWidget(strip)
    strip.resize(600, strip.height())
    strip.show()
    height = strip.height()
    paths = [Path(f"/photos/photo_{i:02d}.jpg") for i in range(12)]
    for i, path in enumerate(paths):
        strip.add_photo(path, rgb_to_thumbnail(np.full((30 + i, 50, 3), 20 * i, np.uint8), 80))
    qtbot.waitExposed(strip)

    rects = [strip.visualItemRect(strip.item(i)) for i in range(strip.count())]
    assert len({r.top() for r in rects}) == 1  # one row
    assert strip.height() == height  # the strip does not grow with its content
    spare = strip.viewport().height() - rects[0].height()  # no empty band under the row,
    assert 0 <= spare <= strip.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent) + 4
    assert strip.horizontalScrollBar().maximum() > 0
    strip.scrollToItem(strip.item(11))
    assert strip.viewport().rect().contains(strip.visualItemRect(strip.item(11)).center())


def test_state_is_shown_and_selecting_a_photo_reports_it(qtbot):
    strip = Filmstrip()
    qtbot.addWidget(strip)
    a, b = Path("/photos/a.jpg"), Path("/photos/b.jpg")
    strip.add_photo(a)
    strip.add_photo(b)
    strip.set_state(b, "restoring 40 %")
    assert strip.state_text(b) == "restoring 40 %"
    with qtbot.waitSignal(strip.photoSelected) as selected:
        strip.select(b)
    assert selected.args == [b]
    strip.remove_photo(a)
    assert strip.paths() == [b]
