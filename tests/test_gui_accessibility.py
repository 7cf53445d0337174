"""Reaching everything by keyboard and screen reader, on small screens too: the compare view's keys
beside the window's shortcuts, what notices and hand-painted widgets say, banners that do not
make the window taller, and a Settings dialog whose OK and Cancel stay on screen."""

from __future__ import annotations

import gui_util
import numpy as np
import pytest
from gui_util import load, restore, wait_composed
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAccessible, QScreen
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFrame, QPushButton, QToolBar

from faceapp.core.preferences import Preferences
from faceapp.gui.notifications import NotificationArea, Notice, _Banner
from faceapp.gui.settings_dialog import SettingsDialog

photo, window = gui_util.photo, gui_util.window  # the shared fixtures

LONG_TEXT = ("The model file could not be read: it ends early, as a download cut short does. "
             "Download it again from the Models window, or import a copy you have. ") * 2


def spoken_name(widget) -> str:
    return QAccessible.queryAccessibleInterface(widget).text(QAccessible.Text.Name)


def test_the_compare_view_takes_arrows_and_leaves_the_windows_shortcuts_alone(window, qtbot, photo, spoken):
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    wait_composed(window, qtbot, path)
    view = window.compare
    for painted in (view, window.filmstrip, window.damage, window.run_panel.preview, window.gallery._list,
                    window.exports.status.bar):  # named for screen readers
        assert spoken_name(painted)
    toolbar = window.findChild(QToolBar, "main-toolbar")
    assert spoken_name(toolbar) == "Toolbar"  # (accessibility QA: it was read "&Toolbar")
    window.activateWindow()
    view.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(view.hasFocus)
    view.set_split(0.5)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.split() == pytest.approx(0.54)
    qtbot.waitUntil(lambda: ("Split at 54 %", False) in spoken)  # said once the keys rest (accessibility QA)
    assert [text for text, _urgent in spoken if text.startswith("Split")] == ["Split at 54 %"]
    zoom = view.zoom()
    qtbot.keyClick(view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # View ▸ Zoom in
    assert view.zoom() == pytest.approx(zoom * 1.25)
    qtbot.keyClick(view, Qt.Key.Key_B)  # View ▸ Before / after
    assert view.view_mode() == "before"
    qtbot.keyClick(view, Qt.Key.Key_S)  # View ▸ Split view: divider centred again
    assert view.view_mode() == "split" and view.split() == 0.5


def test_a_notices_close_button_is_named_for_screen_readers(qtbot):
    area = NotificationArea()
    qtbot.addWidget(area)
    area.show_notice(Notice("Saved next to the original.", "info"))
    close = next(button for button in area.findChildren(QPushButton) if button.text() == "✕")
    assert spoken_name(close) == "Close notice"
    [banner] = area._banners
    assert spoken_name(banner.level_icon) == "Information"  # (accessibility QA: an image without a name)
    assert close.toolTip()
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert area.notices() == []


def test_a_notices_close_button_shows_in_the_banners_text_colour(qtbot):
    """QA: the style's dark ✕ hardly showed on an error's dark red."""
    from PySide6.QtGui import QColor

    area = NotificationArea()
    qtbot.addWidget(area)
    area.resize(500, 60)
    area.show()
    area.show_notice(Notice("Could not open broken.jpg: the file is damaged.", "error"))
    close = next(button for button in area.findChildren(QPushButton) if button.text() == "✕")
    qtbot.waitUntil(close.isVisible)
    image = area.grab().toImage()  # (the button over its banner, as shown)
    rect = close.rect().translated(close.mapTo(area, close.rect().topLeft()))
    lightest = max(QColor(image.pixel(x, y)).lightness() for x in range(rect.left(), rect.right())
                   for y in range(rect.top(), rect.bottom()))
    assert lightest > 200


def test_banners_do_not_make_the_window_taller(window, qtbot):
    """Three long banners in a narrow window once raised its minimum height to 701 px (and so
    the window's height): more than a 720 px screen leaves for it. Now the stack scrolls: it
    asks for one banner line at least, and shows every banner whole where the window has room."""
    def show_three():
        for number, level in enumerate(("warning", "error", "warning"), 1):
            window.notices.show_notice(Notice(f"{number}. {LONG_TEXT}", level, "models", "Manage models…"))
            qtbot.wait(20)  # (one after another, as a session reports them)

    window.resize(window.minimumSizeHint())  # narrow: the texts wrap most
    qtbot.waitUntil(lambda: window.size() == window.minimumSizeHint())
    empty_minimum, height = window.minimumSizeHint().height(), window.height()
    show_three()
    qtbot.wait(50)  # (the layouts settle)
    one_banner_line = 60  # about 40 px: a button's height, margins and spacing
    assert window.minimumSizeHint().height() - empty_minimum <= one_banner_line
    assert window.minimumSize().height() - empty_minimum <= one_banner_line
    assert window.height() - height <= one_banner_line
    assert len(window.notices.notices()) == 3  # each still there: the stack scrolls to them
    bar = window.notices.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() > 0  # scrolled to the newest…
    newest_buttons = [b for b in window.notices.findChildren(QPushButton) if b.text() in ("Manage models…", "✕")][-2:]
    assert all(not b.visibleRegion().isEmpty() for b in newest_buttons)  # …with its buttons in view (QA)
    window.notices.clear()
    qtbot.waitUntil(lambda: not window.notices.isVisible())  # no notice: no room taken

    window.resize(1800, 1000)  # with room, every banner is shown whole as it comes (over the photo)
    qtbot.waitUntil(lambda: window.size().height() == 1000)
    show_three()
    qtbot.waitUntil(lambda: window.notices.isVisible() and bar.maximum() == 0)  # nothing to scroll to
    window.resize(1200, 1000)  # narrower: the texts wrap to more lines, more than the stack shows at once:
    # it shows the newest banners that fit whole, the older above them out of sight (HiDPI QA: the area
    # cut the older banner's first line in half)
    banners = [b for b in window.notices.findChildren(_Banner)]
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum()
                    and bar.value() in [b.geometry().top() for b in banners])
    assert window.notices.viewport().height() >= 2 * banners[-1].height()  # (two of the three, whole)


def test_a_notice_moves_nothing_under_the_pointer(window, qtbot):
    """Across the whole window a notice pushed the side panel down as it came ("Diffuse anyway" moved
    from under the pointer as it was clicked), and above the photo it moved and rescaled the photo
    under a brush stroke (QA): notices float over the top of the photo."""
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.size().height() == 800)

    def place(widget):
        return widget.mapTo(window, widget.rect().topLeft()), widget.size()

    side, photo = place(window.side_panel), place(window.compare)
    window.notices.show_notice(Notice("Face 2 diffused at fidelity 0.80. " * 3, "info"))
    qtbot.waitUntil(lambda: window.notices.isVisible() and window.notices.height() > 20)
    qtbot.wait(50)
    assert place(window.side_panel) == side and place(window.compare) == photo  # nothing moved
    shown = window.notices.geometry()
    assert window.notices.parent() is window.compare and window.compare.rect().contains(shown)
    assert shown.height() <= window.compare.height() // 2  # over the top of the photo, never most of it
    assert not window.splitter.isCollapsible(0)  # (collapsed, the photo would hide the notices too)


def test_a_notice_with_room_for_it_shows_whole_without_a_scroll_bar(window, qtbot):
    """QA at 973×630: a three-line notice showed 2.3 lines high with a scroll bar of its own, under
    room for it all (a bar left from its first, roomless moment narrowed the text into a line more
    than the height made for it). At each width the notice shows whole, unless taller than its room."""
    text = ("gf_Blake_Lively.jpg: Barely changed by the restorer, so spared the prior: face 2 kept as the restorer made it. To let the prior "
            "work on a spared face anyway, click the face and press Diffuse anyway in the seed gallery.")
    for width in range(840, 1120, 9):
        window.notices.clear()
        window.resize(width, 630)
        qtbot.wait(10)
        window.notices.show_notice(Notice(text, "info"))
        qtbot.wait(20)
        area, bar = window.notices, window.notices.verticalScrollBar()
        needed = area.widget().heightForWidth(area.width())
        if needed <= window.compare.height() // 2 and needed <= 4 * area._line_height():
            assert (bar.maximum(), area.height()) == (0, needed), width


@pytest.mark.parametrize("screen_height", [728, 1040])  # 1366×768 and 1920×1080, less a 40 px taskbar
def test_settings_fit_the_screen_with_ok_and_cancel_in_view(qtbot, monkeypatch, screen_height):
    free = QRect(0, 0, 1366, screen_height)
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(free))
    dialog = SettingsDialog(Preferences(), models=[("tiny", "Tiny")])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    title_bar = 30
    assert dialog.height() + title_bar <= free.height()
    buttons = dialog.findChild(QDialogButtonBox)
    for which in (QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel):
        button = buttons.button(which)
        corners = (button.mapTo(dialog, button.rect().topLeft()), button.mapTo(dialog, button.rect().bottomRight()))
        assert button.isVisible() and all(dialog.rect().contains(corner) for corner in corners)
    bar = dialog.form_area.verticalScrollBar()
    if dialog.sizeHint().height() + title_bar > free.height():  # the form scrolls, to its last field
        assert bar.maximum() > 0
        last, viewport = dialog.auto_start, dialog.form_area.viewport()
        dialog.form_area.ensureWidgetVisible(last)
        assert viewport.rect().contains(last.mapTo(viewport, last.rect().center()))
    else:  # a tall screen shows the whole form at once
        assert bar.maximum() == 0


def _an_info_notice_beside_a_text_box(qtbot, monkeypatch):
    """An info notice due to go after 1.5 s (time enough to put the keyboard or the pointer on it on
    a loaded machine: test audit, 400 ms could race), in a window with a text box that has the keyboard, the
    pointer away from both: (the window, which the caller keeps, the area, the text box, the
    notice's close button), once it is shown."""
    from PySide6.QtGui import QCursor
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    from faceapp.gui import notifications

    monkeypatch.setattr(notifications, "info_timeout_ms", lambda text: 1500)
    monkeypatch.setattr(notifications, "_INFO_RECHECK_MS", 50)
    host = QWidget()
    qtbot.addWidget(host)
    elsewhere, area = QLineEdit(), NotificationArea()
    layout = QVBoxLayout(host)
    layout.addWidget(area)
    layout.addWidget(elsewhere)
    host.show()
    qtbot.waitExposed(host)
    host.activateWindow()
    elsewhere.setFocus()
    QCursor.setPos(5000, 5000)  # (where an earlier test left the pointer, on the banner, it held it)
    area.show_notice(Notice("Saved next to the original.", "info"))
    close = next(button for button in area.findChildren(QPushButton) if button.text() == "✕")
    qtbot.waitUntil(close.isVisible)
    return host, area, elsewhere, close


def test_an_info_notice_waits_while_the_keyboard_is_on_it(qtbot, monkeypatch):
    """QA: an info notice went after 6 s while its close button was being reached with Tab."""
    _host, area, elsewhere, close = _an_info_notice_beside_a_text_box(qtbot, monkeypatch)
    close.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(close.hasFocus)
    qtbot.wait(2000)  # (past the time it was due to go)
    assert [n.text for n in area.notices()] == ["Saved next to the original."]
    elsewhere.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: area.notices() == [], timeout=4000)


def test_an_info_notice_waits_while_the_pointer_is_on_it(qtbot, monkeypatch):
    """An info notice being read with the pointer on it (about to press its button) stays."""
    from PySide6.QtGui import QCursor

    _host, area, _elsewhere, close = _an_info_notice_beside_a_text_box(qtbot, monkeypatch)
    banner = close.parentWidget()
    QCursor.setPos(banner.mapToGlobal(banner.rect().center()))
    qtbot.wait(2000)  # (past the time it was due to go)
    assert [n.text for n in area.notices()] == ["Saved next to the original."]
    QCursor.setPos(5000, 5000)
    qtbot.waitUntil(lambda: area.notices() == [], timeout=4000)


@pytest.fixture
def spoken(monkeypatch) -> list[tuple[str, bool]]:
    """What a screen reader would be told to say at once: each announcement's text and whether it
    interrupts (assertive)."""
    heard: list[tuple[str, bool]] = []
    update = QAccessible.updateAccessibility

    def record(event) -> None:
        if event.type() == QAccessible.Event.Announcement:
            heard.append((event.message(), event.politeness() == QAccessible.AnnouncementPoliteness.Assertive))
        update(event)

    monkeypatch.setattr(QAccessible, "updateAccessibility", staticmethod(record))
    return heard


def test_the_keyboard_follows_restore_and_cancel_and_the_end_is_said(window, qtbot, photo, spoken):
    """Space on Restore: the keyboard goes to Cancel while the photo restores, back to Restore when it
    ends, and a screen reader is told it ended (screen-reader QA: the keyboard landed on the filmstrip,
    where the next key acted on the photo list, and nothing said the restore had ended)."""
    path = load(window, qtbot, photo)
    window.activateWindow()
    window.restore_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(window.restore_button.hasFocus)
    focused: list = []  # where the keyboard went, in turn
    QApplication.instance().focusChanged.connect(lambda _old, new: focused.append(new))
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        qtbot.keyClick(window.restore_button, Qt.Key.Key_Space)
    qtbot.waitUntil(window.restore_button.isEnabled)
    assert focused == [window.cancel_button, window.restore_button]
    assert window.restore_button.hasFocus()
    assert any(text.startswith(f"Restore of {path.name} finished in") and not urgent for text, urgent in spoken)


def test_a_notice_and_the_fidelity_keys_are_said_in_words(window, qtbot, spoken):
    window.notices.show_notice(Notice("The photo could not be opened: the file is truncated.", "error"))
    assert ("Error: The photo could not be opened: the file is truncated.", True) in spoken
    slider = window.fidelity.slider
    window.activateWindow()
    slider.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(slider.hasFocus)
    before, count = window.fidelity.fidelity(), len(spoken)
    for _ in range(5):  # a key held: steps to the realistic end
        qtbot.keyClick(slider, Qt.Key.Key_Right)
    after = window.fidelity.fidelity()
    assert after == pytest.approx(before - 0.05)
    qtbot.waitUntil(lambda: len(spoken) > count)
    qtbot.wait(600)
    assert len(spoken) == count + 1  # once the keys rest, not at every step (verify QA: 15 queued)
    text, urgent = spoken[-1]
    assert f"fidelity {after:.2f}" in text and not urgent
    window.fidelity.reset_button.click()  # back to the model's own: said too (verify QA: unsaid)
    qtbot.waitUntil(lambda: len(spoken) > count + 1)
    assert f"fidelity {window.fidelity.fidelity():.2f}" in spoken[-1][0] and window.fidelity.fidelity() != after
    assert spoken_name(window.progress_bar) and spoken_name(window.fidelity.reset_button) == "Default fidelity"


def test_about_and_models_dialogs_open_on_a_named_control(window, qtbot):
    """Screen-reader QA: About's first focus was its unnamed scroll area (the text was not read), and
    the Models dialog's list of models had no name."""
    from faceapp.core.registry import Registry
    from faceapp.gui.model_manager import ModelManagerDialog

    window.activateWindow()
    window.actions_["about"].trigger()
    dialog = window.about_box
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None and dialog.isAncestorOf(QApplication.focusWidget()))
    first = QApplication.focusWidget()
    assert spoken_name(first) == "About faceapp" and "faceapp" in first.text()
    dialog.accept()
    models = ModelManagerDialog(Registry())
    qtbot.addWidget(models)
    assert spoken_name(models.table) == "Models"
    models.reject()  # stops its download thread


def test_a_notices_level_is_shown_by_its_icon_not_by_colour_alone(qtbot):
    """Colour-blind QA: warning and error banners differed by colour alone, both olive-brown to a
    deutan eye."""
    from faceapp.gui.qimage import qimage_to_rgb

    area = NotificationArea()
    qtbot.addWidget(area)
    area.resize(600, 300)
    area.show()
    for level in ("info", "warning", "error"):
        area.show_notice(Notice(f"A {level}.", level))
    assert all(banner.level_icon.isVisibleTo(banner) for banner in area._banners)
    icons = {banner.notice.level: qimage_to_rgb(banner.level_icon.pixmap().toImage()) for banner in area._banners}
    assert all(icon.std() > 10 for icon in icons.values())  # drawn, not blank
    assert not np.array_equal(icons["warning"], icons["error"]) and not np.array_equal(icons["info"], icons["warning"])


def test_the_fidelity_caution_is_said_in_full_where_it_begins_then_briefly(qtbot, spoken):
    """Verify QA and review: below the model's range each step said the whole 40-word caution."""
    from faceapp.core.manifest import FidelityRange
    from faceapp.gui.fidelity_control import FidelityControl

    control = FidelityControl(0.72)
    qtbot.addWidget(control)
    control.set_model_range(FidelityRange(0.7, "its prior draws thin lines around the eyes"), "tiny")
    control.show()
    control.activateWindow()
    control.slider.setFocus()
    qtbot.waitUntil(control.slider.hasFocus)
    said = []
    for _ in range(4):  # 0.71, 0.70, 0.69 (below: the caution begins), 0.68
        qtbot.keyClick(control.slider, Qt.Key.Key_Right)
        qtbot.waitUntil(lambda: len(spoken) > len(said))
        said.append(spoken[-1][0])
    assert "Caution" not in said[0] and len(said[2]) > 2 * len(said[1]) and said[3].endswith("fidelity 0.68. Caution")


@pytest.mark.parametrize("level", ["info", "warning", "error"])
def test_a_see_through_notices_text_stays_readable_over_a_white_photo(qtbot, level):
    """While the brush is taken the banners let the photo show through; over a bright photo their
    text fell to 2.6:1 (colour-blind QA). It keeps WCAG's 4.5:1 over white."""
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QWidget

    from faceapp.gui.look import TEXT_CONTRAST, contrast_ratio
    from faceapp.gui.notifications import _COLOURS

    photo = QWidget()  # a white photo under the stack
    photo.setAutoFillBackground(True)
    palette = photo.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("white"))
    photo.setPalette(palette)
    photo.resize(500, 80)
    area = NotificationArea(photo)
    area.setGeometry(0, 0, 500, 80)
    qtbot.addWidget(photo)
    photo.show()
    area.show_notice(Notice("Painting over the eyes draws them anew.", level))
    area.step_aside(True)
    [banner] = area.findChildren(QFrame, "notice")
    qtbot.waitUntil(banner.isVisible)
    image = photo.grab().toImage()
    corner = banner.mapTo(photo, banner.rect().topLeft())
    behind = QColor(image.pixel(corner.x() + 3, corner.y() + banner.height() // 2))  # the banner's left edge
    assert behind != QColor(_COLOURS[level][0]) and behind != QColor("white")  # see-through: a blend
    assert contrast_ratio(QColor(_COLOURS[level][1]), behind) >= TEXT_CONTRAST - 0.05


def test_a_notices_text_can_be_selected_and_copied_but_not_while_the_brush_paints_under_it(qtbot):
    """Desktop QA: an error's text could not be selected to copy it into a report."""
    from PySide6.QtCore import Qt

    area = NotificationArea()
    qtbot.addWidget(area)
    area.show_notice(Notice("Could not open broken.jpg: the file is damaged.", "error"))
    [banner] = area.findChildren(QFrame, "notice")
    label = banner._label
    assert label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    label.setSelection(0, 9)
    assert label.selectedText() == "Could not"
    area.step_aside(True)  # (a stroke over the banner reaches the photo)
    assert label.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction
    area.step_aside(False)
    assert label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse


def test_an_error_notice_reads_as_a_sentence_with_the_next_step_that_fits_it():
    """Copy QA: core messages worded to follow the CLI's "error: " began a banner in lower case,
    and a face box that cannot be aligned offered "Open another…" as if the photo were at fault."""
    from faceapp.core import errors
    from faceapp.gui.notifications import notice_for_error

    device = notice_for_error(errors.DeviceError("unknown device 'x': give auto, cuda, mps or cpu"))
    assert device.text.startswith("Unknown device 'x'") and device.action == "settings"
    box = notice_for_error(errors.FaceGeometryError("the face reaches far beyond the photo"))
    assert box.text == "The face reaches far beyond the photo" and box.action is None
    named = notice_for_error(errors.ImageError("photo.JPG: not an image"))
    assert named.text == "photo.JPG: not an image" and named.action == "open"  # (a file's name keeps its case)


def test_the_seed_gallerys_face_chooser_is_labelled_seed_gallery(qtbot):
    """Accessibility QA: on Linux a combo box's accessible name is its current text, so once a photo
    was restored a screen reader heard "Face 1" with nothing saying what it chooses; the heading beside
    it labels it."""
    from faceapp.gui.seed_gallery import SeedGallery

    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    combo = QAccessible.queryAccessibleInterface(gallery._face_combo)
    labels = [other.text(QAccessible.Text.Name) for other, _relation in combo.relations(QAccessible.RelationFlag.Label)]
    assert labels == ["Seed gallery"]
