"""Text that names files is shown as written (unicode QA): a name is not HTML, and a right-to-left
name, or one holding a direction override, does not turn the window's sentences around."""

from __future__ import annotations

import gui_util  # noqa: F401  (offscreen Qt)
from PySide6.QtCore import Qt

from faceapp.gui.elided_label import ElidedLabel
from faceapp.gui.notifications import NotificationArea, Notice
from faceapp.gui.plain_label import PlainLabel, shown_text


def test_a_name_that_looks_like_html_is_shown_as_text(qtbot):
    plain, heading = PlainLabel("Oma & Opa.jpg"), PlainLabel("<h1>Oma & Opa.jpg")
    qtbot.addWidget(plain), qtbot.addWidget(heading)
    assert heading.textFormat() == Qt.TextFormat.PlainText
    assert heading.sizeHint().height() == plain.sizeHint().height()  # no heading drawn
    assert heading.sizeHint().width() > plain.sizeHint().width()  # the "<h1>" shows
    area = NotificationArea()
    qtbot.addWidget(area)
    area.show_notice(Notice("Saved /photos/<h1>Oma & Opa_restored.jpg", "info"))
    [label] = [w for w in area.findChildren(PlainLabel)]
    assert label.displayed_text() == "Saved /photos/<h1>Oma & Opa_restored.jpg"


def test_a_right_to_left_name_leaves_the_sentence_left_to_right():
    arabic = "\u0635\u0648\u0631\u0629 \u062c\u062f\u062a\u064a.jpg"
    said = shown_text(f"{arabic}: Barely changed, so it is kept.\nRestored in 0.1 s")
    assert said == f"\u200e{arabic}: Barely changed, so it is kept.\nRestored in 0.1 s"
    # an override in a name would reverse what follows it: shown as an escape
    assert shown_text("Saved x\u202egpj.exe.jpg") == "Saved x\\u202egpj.exe.jpg"
    assert shown_text("Device: CPU · 2 threads") == "Device: CPU · 2 threads"  # (left as it is)


def test_an_elided_label_shortens_the_text_as_shown(qtbot):
    label = ElidedLabel("Last run: x\u202egpj.exe.jpg, 0.1 s")
    qtbot.addWidget(label)
    label.resize(2000, 20)
    assert label.shown_text() == "Last run: x\\u202egpj.exe.jpg, 0.1 s"
    assert label.text() == "Last run: x\u202egpj.exe.jpg, 0.1 s"
