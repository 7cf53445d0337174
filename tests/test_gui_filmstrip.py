"""The filmstrip: one compact row that scrolls sideways, with each photo's state, for eyes and for
screen readers."""

from __future__ import annotations

from pathlib import Path

import gui_util  # noqa: F401  (offscreen Qt)
import numpy as np
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QStyle

from faceapp.gui.filmstrip import CHANGED_STATE, SAVED_STATE, Filmstrip
from faceapp.gui.qimage import qimage_to_rgb, rgb_to_thumbnail


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


def spoken_items(strip: Filmstrip) -> list[tuple[str, str]]:
    """(name, description) of each photo, as a screen reader gets them."""
    spoken = QAccessible.queryAccessibleInterface(strip)
    children = [spoken.child(i) for i in range(spoken.childCount())]
    return [(child.text(QAccessible.Text.Name), child.text(QAccessible.Text.Description))
            for child in children if child.role() == QAccessible.Role.ListItem]


def test_screen_readers_hear_each_photos_state_as_it_is_painted(qtbot):
    strip = Filmstrip()
    qtbot.addWidget(strip)
    strip.show()
    spoken = QAccessible.queryAccessibleInterface(strip)
    assert spoken.text(QAccessible.Text.Name) == "Loaded photos"
    assert spoken.text(QAccessible.Text.Description) == "Photos you open or drop appear here."  # the hint painted
    a, b = Path("/photos/a.jpg"), Path("/photos/b.jpg")
    strip.add_photo(a)
    strip.add_photo(b)
    strip.set_state(a, "done")
    strip.set_state(b, "restoring 40 %")
    assert spoken_items(strip) == [("a.jpg, done", str(a)), ("b.jpg, restoring 40 %", str(b))]
    assert spoken.text(QAccessible.Text.Description) == "2 photos"
    strip.set_state(a, CHANGED_STATE)  # what a state means is in its tooltip (newcomer QA: "done · changed"
    assert "Nothing saved has changed" in strip.item(0).toolTip()  # was read as the saved file changed)
    strip.set_state(a, SAVED_STATE)
    assert "saved as it is now" in strip.item(0).toolTip()
    strip.set_state(b, "")
    assert spoken_items(strip)[1] == ("b.jpg", str(b))


def test_the_current_photo_is_ringed_while_the_strip_has_focus(qtbot):
    strip = Filmstrip()
    qtbot.addWidget(strip)
    strip.resize(600, strip.height())
    strip.show()
    qtbot.waitExposed(strip)
    path = Path("/photos/a.jpg")
    strip.add_photo(path, rgb_to_thumbnail(np.full((40, 60, 3), 90, np.uint8), 80))
    strip.select(path)
    cell = strip.visualItemRect(strip.item(0))

    def shown():
        return qimage_to_rgb(strip.viewport().grab().toImage()).astype(int)

    strip.activateWindow()
    strip.setFocus()
    qtbot.waitUntil(strip.hasFocus)
    focused = shown()
    strip.clearFocus()
    qtbot.waitUntil(lambda: not strip.hasFocus())
    unfocused = shown()
    changed = np.abs(focused - unfocused).sum(axis=2) > 40
    ring = np.zeros_like(changed)  # the cell's outline, 2 px in from its edge
    ring[cell.top() + 2, cell.left() + 8:cell.right() - 8] = True
    ring[cell.bottom() - 2, cell.left() + 8:cell.right() - 8] = True
    ring[cell.top() + 8:cell.bottom() - 8, cell.left() + 2] = True
    ring[cell.top() + 8:cell.bottom() - 8, cell.right() - 2] = True
    assert changed[ring].mean() > 0.9  # drawn all round the cell,
    inside = np.zeros_like(changed)
    inside[cell.top() + 6:cell.bottom() - 5, cell.left() + 6:cell.right() - 5] = True  # (clear of the round corners)
    assert not changed[inside].any()  # and nothing else changes: the thumbnail and text stay as they are


def test_the_photo_shown_stays_in_sight_when_the_strip_narrows(qtbot):
    strip = Filmstrip()
    qtbot.addWidget(strip)
    strip.resize(1400, strip.height())
    strip.show()
    paths = [Path(f"/photos/photo_{i:02d}.jpg") for i in range(8)]
    for path in paths:
        strip.add_photo(path, rgb_to_thumbnail(np.full((40, 50, 3), 90, np.uint8), 80))
    qtbot.waitExposed(strip)
    strip.select(paths[5])
    strip.resize(700, strip.height())  # the window made smaller
    qtbot.waitUntil(lambda: strip.viewport().width() < 700)
    rect = strip.visualItemRect(strip.currentItem())
    assert strip.viewport().rect().contains(rect.center())


def test_every_state_is_readable_on_every_cell(qtbot):
    """QA: the green "done" on the selected cell's blue was 4.3:1, under WCAG AA's 4.5:1; each state's
    colour keeps its hue and is lightened as far as its cell needs."""
    from faceapp.gui.filmstrip import cell_background, state_colour, state_text_colour
    from faceapp.gui.look import TEXT_CONTRAST, contrast_ratio

    for state in ("done", SAVED_STATE, CHANGED_STATE, "error", "cancelled", "restoring 40 %", "queued", "loading"):
        for selected, hovered in ((False, False), (False, True), (True, False)):
            background = cell_background(selected=selected, hovered=hovered)
            colour = state_text_colour(state, background)
            assert contrast_ratio(colour, background) >= TEXT_CONTRAST, (state, selected, hovered)
            assert abs(colour.hslHueF() - state_colour(state).hslHueF()) < 0.02 or state_colour(state).hslSaturationF() < 0.1


def test_at_a_large_font_a_cell_shows_a_photos_name_whole(qtbot):
    """Low-vision QA: the cells kept their 132 px of text at a 20 pt font, and every name read
    "cf_…jpg"; the strip kept its height, cutting the second line."""
    from pathlib import Path

    from PySide6.QtGui import QFont

    strip = Filmstrip()
    qtbot.addWidget(strip)
    strip.add_photo(Path("/photos/cf_03.jpg"))
    small = strip.visualItemRect(strip.item(0)).size()
    font = QFont(strip.font())
    font.setPointSize(20)
    strip.setFont(font)
    strip.show()
    qtbot.waitUntil(lambda: strip.visualItemRect(strip.item(0)).width() > small.width())
    cell = strip.visualItemRect(strip.item(0))
    bold = QFont(font)
    bold.setBold(True)
    from PySide6.QtGui import QFontMetrics

    assert QFontMetrics(bold).horizontalAdvance("cf_03.jpg") < cell.width() - 84 - 15  # beside the thumbnail
    assert strip.height() >= 2 * QFontMetrics(font).lineSpacing()


def test_a_photo_that_failed_is_marked_on_its_thumbnail_not_by_its_words_colour_alone(qtbot):
    """Colour-blind QA: a photo that could not be opened was a blank dark box among 27, its red
    "error" the olive of "done" to a deutan eye."""
    strip = Filmstrip()
    qtbot.addWidget(strip)
    strip.resize(600, strip.height())
    strip.show()
    failed = Path("/photos/failed.jpg")
    strip.add_photo(failed)
    qtbot.waitExposed(strip)

    def thumbnail(path) -> np.ndarray:
        rect = strip.visualItemRect(strip.item(strip.paths().index(path)))
        shot = qimage_to_rgb(strip.viewport().grab(rect).toImage())
        return shot[8:60, 8:60]

    plain = thumbnail(failed)
    strip.set_state(failed, "error")
    marked = thumbnail(failed)
    assert plain.std() < 3 and marked.std() > 20  # an empty box, then a mark on it
