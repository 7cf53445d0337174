"""The window on small and high-DPI screens: it opens within the screen, and in a low or narrow
window its parts shrink instead of overlapping or pushing each other out of sight."""

from __future__ import annotations

import gui_util
import numpy as np
import pytest
from PySide6.QtCore import QRect

from faceapp.gui.main_window import MainWindow


@pytest.fixture
def shown(qtbot, tmp_path):
    """A window shown at a given size (width, height)."""
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)

    def at(width: int, height: int) -> MainWindow:
        window.resize(width, height)
        window.show()
        return window

    yield at
    window.close()


def test_the_first_window_fits_the_screen(qtbot, tmp_path):
    window = MainWindow(store=gui_util.settings_store(tmp_path))  # no saved geometry: a first start
    qtbot.addWidget(window)
    room = window.screen().availableGeometry()
    assert window.width() <= room.width() and window.height() <= room.height()
    window.close()


def test_in_a_low_window_the_face_preview_shrinks_above_its_caption(qtbot, shown):
    window = shown(800, 480)
    panel = window.run_panel
    panel.show_face(np.full((256, 256, 3), 128, np.uint8), "Face 1 · seed 0 · spared")
    qtbot.wait(50)
    preview = QRect(panel.preview.mapTo(window, panel.preview.rect().topLeft()), panel.preview.size())
    caption = QRect(panel.preview_caption.mapTo(window, panel.preview_caption.rect().topLeft()),
                    panel.preview_caption.size())
    assert not preview.intersects(caption), (preview, caption)
    assert panel.preview.pixmap().deviceIndependentSize().height() <= panel.preview.height()  # the face fits its box


def test_a_narrow_status_bar_shortens_its_labels_and_leaves_room_for_a_message(qtbot, shown):
    window = shown(700, 500)
    window.device_label.setText("Device: CPU (2 threads, bf16 on AMX), the fastest this machine has")
    qtbot.wait(50)
    bar = window.statusBar()
    labels = (window.time_label, window.model_label, window.device_label)
    assert all(label.geometry().right() <= bar.width() for label in labels)  # none cut at the edge
    assert window.device_label.shown_text().endswith("…")
    assert "the fastest this machine has" in window.device_label.toolTip()  # the whole text
    bar.showMessage("cf_06.png: Barely changed by the restorer, so spared the prior: faces 1, 2 kept as the restorer made them")
    qtbot.wait(50)
    assert sum(label.width() for label in labels) <= bar.width() // 2 + 30  # the message gets the rest
    bar.clearMessage()


def test_a_short_message_leaves_the_labels_whole(qtbot, shown):
    """GUI QA: the brush's size ("Brush: 40 px across") shortened the model's name, each label being
    held to a sixth of the bar whatever the message; the labels give up only what a message needs."""
    window = shown(1280, 800)
    window.model_label.setText("Model: faceapp-compact · fidelity 0.80 · 6 steps")
    window.device_label.setText("Device: CPU (2 threads, bf16)")
    bar = window.statusBar()
    message = "Brush: 40 px across (photo pixels)"
    bar.showMessage(message)
    qtbot.wait(50)
    labels = (window.time_label, window.model_label, window.device_label)
    assert all(label.shown_text() == label.text() for label in labels)
    assert bar.fontMetrics().horizontalAdvance(message) < min(label.geometry().left() for label in labels)
    bar.clearMessage()


def test_a_low_window_does_not_outgrow_itself_when_a_restore_fills_the_side_panel(qtbot, shown):
    """A 1366×768 laptop at 150 % leaves the window about 460 px: after a restore (a notice, the face
    preview, the gallery's note) it grew past the screen, its status bar out of sight (QA). The side
    panel scrolls instead."""
    window = shown(900, 460)
    window.say("cf_00.jpg: Barely changed by the restorer, so spared the prior: faces 1, 2, 4 kept as the restorer made them; face 3 at fidelity "
               "0.94. Settings ▸ Sharp faces off diffuses every face.")
    window.run_panel.show_face(np.full((256, 256, 3), 128, np.uint8), "Face 1 · seed 0 · spared")
    window.gallery._alike.setVisible(True)
    qtbot.wait(50)
    assert window.minimumSizeHint().height() <= 460 and window.height() <= 460
    assert window.statusBar().geometry().bottom() < window.height()


def test_the_window_fits_a_1280_by_720_screen_at_200_percent(qtbot, shown):
    """QA: at 200 % a 1280×720 screen is 640×360 px; the window could not be less than 367 px
    high, so its status bar was off the screen before a title bar or a panel took their share."""
    window = shown(640, 330)
    assert window.minimumSizeHint().width() <= 640 and window.minimumSizeHint().height() <= 330
    assert window.height() <= 330 and window.statusBar().geometry().bottom() < window.height()


def test_the_gallery_comes_into_sight_when_asked_for_in_a_low_window(qtbot, shown):
    """In a low window the side panel scrolls: G (and a click on a restored face) brings the seed
    gallery into sight instead of moving its selection out of sight (QA)."""
    window = shown(900, 420)
    window.run_panel.show_face(np.full((256, 256, 3), 128, np.uint8), "Face 1 · seed 0")
    qtbot.wait(50)
    bar = window.side_panel.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0  # the gallery is below the fold
    window.actions_["gallery"].trigger()
    qtbot.wait(50)
    top = window.gallery.mapTo(window.side_panel.widget(), window.gallery.rect().topLeft()).y()
    assert bar.value() > 0 and top - bar.value() < window.side_panel.viewport().height()


def test_tabbing_into_the_scrolled_side_panel_brings_the_control_into_sight(qtbot, shown):
    """Keyboard QA: the side panel's scroll area was a Tab stop of its own, with no focus to see, and
    tabbing from the photo to the fidelity slider of a panel scrolled down moved the slider out of
    sight. The panel takes no Tab stop; a control tabbed to is scrolled into sight, the slider with
    its value above it."""
    from PySide6.QtCore import Qt

    window = shown(900, 420)
    window.run_panel.show_face(np.full((256, 256, 3), 128, np.uint8), "Face 1 · seed 0")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert window.side_panel.focusPolicy() == Qt.FocusPolicy.NoFocus
    bar = window.side_panel.verticalScrollBar()
    bar.setValue(bar.maximum())
    assert bar.value() > 0
    window.compare.setFocus(Qt.FocusReason.TabFocusReason)
    window.focusNextChild()  # Tab, from the photo
    assert window.fidelity.slider.hasFocus()
    top = window.fidelity.mapTo(window.side_panel.widget(), window.fidelity.rect().topLeft()).y()
    assert bar.value() <= top  # the control's top, its value, is in sight
    # a click gives the focus too, but scrolls nothing: the control stays under the pointer (review)
    window.compare.setFocus(Qt.FocusReason.TabFocusReason)
    bar.setValue(bar.maximum())
    scrolled = bar.value()
    qtbot.mousePress(window.fidelity.slider, Qt.MouseButton.LeftButton, pos=window.fidelity.slider.rect().center())
    qtbot.mouseRelease(window.fidelity.slider, Qt.MouseButton.LeftButton, pos=window.fidelity.slider.rect().center())
    assert window.fidelity.slider.hasFocus() and bar.value() == scrolled


def test_a_maximised_1366_by_768_window_shows_every_seed_without_scrolling(qtbot, shown):
    """Small-laptop QA: maximised on a 1366×768 screen with a taskbar (a 1366×690 window) the side
    panel scrolled after a restore, the second row of seeds cut in half, because the thumbnail list
    asked for 192 px where smaller thumbnails fitted. Every candidate and its caption is in sight."""
    from types import SimpleNamespace

    window = shown(1366, 690)
    window.run_panel.show_face(np.full((256, 256, 3), 128, np.uint8), "Face 1 · seed 0 · spared")
    face = SimpleNamespace(candidates=[np.full((64, 64, 3), 40 * k, np.uint8) for k in range(4)],
                           seeds=[0, 1, 2, 3], chosen=0, fidelity=0.94, passes=None)
    spared = SimpleNamespace(text="Barely changed by the restorer: sampled at fidelity 0.94 instead of 0.80, so the prior "
                                  "changes it less (the prior would mostly smear it).", diffuse=True, asked=0.8, kept=False)
    window.gallery.set_faces([face], sparing=[spared])
    qtbot.wait(100)
    assert window.side_panel.verticalScrollBar().maximum() == 0
    candidates = window.gallery._list
    room = candidates.viewport().rect()
    for row in range(candidates.count()):
        assert room.contains(candidates.visualItemRect(candidates.item(row)))  # whole, caption included


def test_the_shortcuts_list_fits_a_1280_by_720_screen_at_125_percent(qtbot, shown, monkeypatch):
    """Small-laptop QA: the list of keys opened 760×560 whatever the screen; at 1280×720 and 125 %
    (1024×544 px free) its Close button was under the taskbar. It opens within the screen."""
    from PySide6.QtGui import QScreen
    from PySide6.QtWidgets import QDialogButtonBox

    from faceapp.gui.shortcuts_dialog import ShortcutsDialog

    free = QRect(0, 0, 1024, 544)
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(free))
    window = shown(1000, 500)
    dialog = ShortcutsDialog(window.actions_, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    title_bar = 30
    assert dialog.width() <= free.width() and dialog.height() + title_bar <= free.height()
    close = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close)
    assert dialog.rect().contains(close.mapTo(dialog, close.rect().bottomRight()))


def test_with_a_large_font_the_side_panel_is_as_wide_as_what_it_holds(qtbot, tmp_path):
    """Low-vision QA: at a 20 pt font the run panel needed 461 px and got 326, without a scroll bar:
    Cancel read "⊗C", the slider's "Realistic" end was out of sight, and giving the gallery the
    keyboard scrolled the whole panel sideways ("d gallery")."""
    from PySide6.QtGui import QFont

    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    font = QFont(window.font())
    font.setPointSize(16)  # (what it then needs fits half of the test's 800 px screen, the panel's most)
    window.setFont(font)
    window.resize(1400, 800)
    window.show()
    qtbot.waitExposed(window)
    panel = window.side_panel
    needed = panel.widget().minimumSizeHint().width()
    assert 340 < needed <= window.screen().availableGeometry().width() // 2  # (the font did grow it)
    assert panel.viewport().width() >= needed
    assert panel.horizontalScrollBar().maximum() == 0  # nothing hidden sideways to scroll to
    window.close()


def test_about_fits_the_screen_at_a_large_font_and_names_every_licence(qtbot, tmp_path):
    """Low-vision QA: Qt's About box grew 917 px tall at a large font on a 768 px screen, OK out of
    sight and no way to scroll."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QDialogButtonBox

    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    font = QFont(window.font())
    font.setPointSize(22)
    window.setFont(font)
    window.show()
    window.actions_["about"].trigger()
    dialog = window.about_box
    qtbot.waitExposed(dialog)
    room = dialog.screen().availableGeometry()
    assert dialog.height() <= room.height() and dialog.width() <= room.width()
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isVisible() and dialog.rect().contains(ok.geometry().translated(ok.parentWidget().pos()))
    from faceapp.gui.plain_label import PlainLabel

    text = dialog.findChild(PlainLabel).text()
    assert "MIT" in text and "faceapp compact" in text and "East-Asian" in text
    ok.click()
    assert not dialog.isVisible()
    window.close()


def test_at_a_large_font_the_progress_bar_is_wide_enough_for_its_text(qtbot, shown):
    """Low-vision QA: at 20 pt the status bar's progress was squeezed to 110 px, "cf_00.jpg · 5 %"
    cut top and bottom."""
    from pathlib import Path

    from PySide6.QtGui import QFont

    window = shown(1400, 800)
    font = QFont(window.font())
    font.setPointSize(20)
    window.setFont(font)
    window._progress(Path("/photos/cf_00.jpg"), "restoring", 0.05, None)
    bar = window.progress_bar
    qtbot.waitUntil(lambda: bar.isVisible())
    text = bar.text()
    assert text == "cf_00.jpg · 5 %" and bar.width() >= bar.fontMetrics().horizontalAdvance(text)


def test_a_menu_entrys_tip_too_long_for_the_status_bar_ends_in_an_ellipsis(shown):
    """Accessibility QA: at 200 % scaling the status bar cut a menu entry's tip mid-word ("…to paste
    into another progran"); it ends in "…" where it does not fit (the tooltip keeps it whole)."""
    from PySide6.QtGui import QStatusTipEvent
    from PySide6.QtWidgets import QApplication

    window = shown(700, 600)
    tip = window.actions_["copy"].statusTip()
    QApplication.sendEvent(window, QStatusTipEvent(tip))
    message = window.statusBar().currentMessage()
    assert message.endswith("…") and tip.startswith(message[:-1])
    assert window.statusBar().fontMetrics().horizontalAdvance(message) < window.statusBar().width() - 3 * 60
    window.resize(1800, 600)
    QApplication.sendEvent(window, QStatusTipEvent(tip))
    assert window.statusBar().currentMessage() == tip  # (whole where it fits)
