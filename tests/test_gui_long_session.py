"""A long session in the window never wears down Python's reference count of None.

PySide6 6.12.0 took a reference to None away on every Qt call that returns nothing (a painter's
``setPen``, an item's ``data`` for a role without a value, …). On Python 3.11, where None is not
immortal, its count reached zero after some minutes of painting the filmstrip and the process
aborted with "Fatal Python error: none_dealloc", every unsaved result lost (QA). pyproject.toml
keeps that PySide6 off Python 3.11; this test fails on any pairing that does it.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QListWidget, QListWidgetItem

#: Rounds of calls measured: enough to see a reference lost per call, too few for the count of a
#: pairing that loses them to reach zero and abort the test run itself (a session makes millions).
CALLS = 200


def test_qt_calls_that_return_nothing_leave_nones_reference_count_alone(qtbot):
    strip = QListWidget()
    qtbot.addWidget(strip)
    strip.addItem(QListWidgetItem("photo.jpg"))
    index = strip.model().index(0, 0)
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        before = sys.getrefcount(None)
        for _ in range(CALLS):  # what a cell's paint does
            painter.save()
            painter.setPen(QColor(10, 20, 30))
            painter.setFont(QFont())
            painter.fillRect(QRect(0, 0, 8, 8), QColor(1, 2, 3))
            painter.restore()
            index.data(Qt.ItemDataRole.UserRole + 7)  # a role the item has no value for
        after = sys.getrefcount(None)
    finally:
        painter.end()
    assert after >= before - 20, f"None lost {before - after} references in {CALLS} rounds of Qt calls"
