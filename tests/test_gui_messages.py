"""View ▸ Messages: the notices and status-bar messages that went by themselves can be read again
(accessibility QA: the notice saying which faces were spared, and how to diffuse them anyway, had
gone 25 s after a restore, with no way to read it again)."""

from __future__ import annotations

import gui_util
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton

from faceapp.gui import message_log
from faceapp.gui.message_log import MessageLog
from faceapp.gui.notifications import Notice

window = gui_util.window  # the shared fixture


def test_messages_gone_by_themselves_are_listed_in_view_messages(window, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(message_log.MessagesDialog, "exec", lambda dialog: shown.append(dialog) or 0)
    window.notices.show_notice(Notice("face 2 was spared the prior: press Diffuse anyway to diffuse it", "info"))
    window.notices.show_notice(Notice("The output folder is full", "error"))
    window.resize(1400, 900)
    window.say("Saved cf_00_restored.jpg")  # (short: in the status bar)
    assert window.statusBar().currentMessage() == "Saved cf_00_restored.jpg"
    window._hint("The seed gallery fills once the photo is restored.", 3000)  # (a hint: logged too, review)
    window.notices.clear()  # (gone: as an info notice goes by itself, or closed)
    window.statusBar().clearMessage()
    assert window.notices.notices() == []
    window.actions_["messages"].trigger()
    [dialog] = shown
    qtbot.addWidget(dialog)
    lines = dialog.page.toPlainText().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == [
        "face 2 was spared the prior: press Diffuse anyway to diffuse it", "Error: The output folder is full",
        "Saved cf_00_restored.jpg", "The seed gallery fills once the photo is restored."]  # oldest first, timed
    assert "Messages…" in [a.text().replace("&", "") for a in next(
        a.menu() for a in window.menuBar().actions() if a.text() == "&View").actions()]
    [copy] = [b for b in dialog.findChildren(QPushButton) if "Copy" in b.text()]
    copy.click()
    assert QGuiApplication.clipboard().text() == "\n".join(lines)


def test_a_message_shown_again_in_a_row_is_counted_and_the_oldest_go_first():
    log = MessageLog(kept=3)
    for text in ("a", "b", "b", "b", "c", "d"):
        log.add("info", text, at=0)
    assert [(m.text, m.times) for m in log.messages()] == [("b", 3), ("c", 1), ("d", 1)]
    assert log.text().splitlines()[0].endswith("b (3 times)")
