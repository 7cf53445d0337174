"""Dragging a result out of the filmstrip carries the file that shows the photo as it is now."""

from __future__ import annotations

import gui_util
import pytest
from gui_util import load, restore, saved, wait_composed
from PySide6.QtCore import Qt

from faceapp.gui import export_flow

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


class RecordedDrag:
    """Stands in for QDrag: notes the files each drag would carry instead of running one."""

    carried: list[list[str]] = []

    def __init__(self, _source) -> None:
        self._mime = None

    def setMimeData(self, mime) -> None:  # noqa: N802 (Qt name)
        self._mime = mime

    def setPixmap(self, _pixmap) -> None:  # noqa: N802 (Qt name)
        pass

    def exec(self, _action) -> None:
        RecordedDrag.carried.append([url.toLocalFile() for url in self._mime.urls()])


@pytest.fixture
def drags(monkeypatch):
    RecordedDrag.carried = []
    monkeypatch.setattr(export_flow, "QDrag", RecordedDrag)
    return RecordedDrag.carried


def drag_from_filmstrip(window) -> None:
    window.filmstrip.startDrag(Qt.DropAction.CopyAction)


def test_a_filmstrip_drag_carries_the_saved_file_only_while_it_is_current(window, qtbot, photo,
                                                                          drags):
    path = load(window, qtbot, photo)
    restore(window, qtbot, path)
    window.filmstrip.select(path)

    [first] = saved(window, qtbot, lambda: drag_from_filmstrip(window))  # not saved yet: saves
    assert drags == []
    drag_from_filmstrip(window)
    assert drags == [[str(first)]]

    window.gallery.click_candidate(2)  # the saved file no longer shows the chosen candidate
    wait_composed(window, qtbot, path)
    [second] = saved(window, qtbot, lambda: drag_from_filmstrip(window))
    assert second != first and drags == [[str(first)]]  # the stale file was not dragged
    drag_from_filmstrip(window)
    assert drags[-1] == [str(second)]


def test_a_filmstrip_drag_of_an_unrestored_photo_carries_its_own_file(window, qtbot, photo, drags):
    """Desktop QA: it was an error, "press Restore first"; a file manager's drag gives the file."""
    path = load(window, qtbot, photo)
    window.filmstrip.select(path)
    drag_from_filmstrip(window)
    assert drags == [[str(path)]]
    assert not any(notice.level == "error" for notice in window.notices.notices())
