"""Photos into the window by the clipboard and by drag and drop, as browsers, file managers and
screenshot tools hand them over (drag-and-drop QA: a browser's picture was refused or dropped
without a word, transparency came back black, 16 bits were cut to 8, a 130 MP image was written to
disk before it was refused, file://localhost/ opened /localhost/…, a copied path was not opened)."""

from __future__ import annotations

import cv2
import gui_util
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage

from faceapp import paths
from faceapp.gui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    made = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(made, before_close_func=lambda w: gui_util.exports_written(qtbot, w))  # (a paste is written)
    return made


def _picture(fmt=QImage.Format.Format_RGB888, colour=QColor(200, 120, 60)) -> QImage:
    image = QImage(32, 24, fmt)
    image.fill(colour)
    return image


def _browser_copy(image: QImage) -> QMimeData:
    """A browser's "Copy image": the picture, its web address and some HTML."""
    mime = QMimeData()
    mime.setImageData(image)
    mime.setUrls([QUrl("https://example.com/grandma.jpg")])
    mime.setHtml('<img src="https://example.com/grandma.jpg">')
    return mime


def _pasted(window, qtbot) -> tuple[object, np.ndarray]:
    """The photo the window opened from the clipboard or a drop, once written, and its file's pixels."""
    qtbot.waitUntil(lambda: len(window.session.entries) == 1, timeout=10000)
    [path] = window.session.entries
    assert path.parent == paths.pasted_dir()
    qtbot.waitUntil(lambda: window.current == path, timeout=10000)
    with Image.open(path) as image:
        return image.mode, np.asarray(image)


def _drop(window, mime: QMimeData) -> tuple[QDragEnterEvent, QDropEvent]:
    enter = QDragEnterEvent(QPointF(20, 20).toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    if enter.isAccepted():
        window.dropEvent(drop)
    return enter, drop


def test_a_browsers_copied_picture_is_pasted_though_it_comes_with_its_web_address(window, qtbot):
    QGuiApplication.clipboard().setMimeData(_browser_copy(_picture()))
    window.paste()
    mode, pixels = _pasted(window, qtbot)
    assert mode == "RGB" and tuple(pixels[5, 5]) == (200, 120, 60)


def test_a_web_address_alone_says_to_save_the_picture_first(window, qtbot):
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/grandma.jpg")])
    QGuiApplication.clipboard().setMimeData(mime)
    window.paste()
    assert "https://example.com/grandma.jpg is on the web" in gui_util.said(window)
    assert "Save the picture first" in gui_util.said(window) and window.session.entries == {}


def test_a_picture_dragged_from_a_browser_opens(window, qtbot):
    enter, drop = _drop(window, _browser_copy(_picture()))
    assert enter.isAccepted() and drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    mode, pixels = _pasted(window, qtbot)
    assert tuple(pixels[5, 5]) == (200, 120, 60)


def test_plain_words_dragged_in_are_not_taken(window):
    mime = QMimeData()
    mime.setText("grandma at the seaside, 1962")
    enter, _drop_event = _drop(window, mime)
    assert not enter.isAccepted() and window.session.entries == {}


def test_transparency_and_16_bits_of_a_pasted_picture_are_kept(window, qtbot):
    image = _picture(QImage.Format.Format_RGBA64, QColor.fromRgba64(1000, 30000, 65535, 65535))
    for x in range(16, 32):
        for y in range(24):
            image.setPixelColor(x, y, QColor.fromRgba64(1000, 30000, 65535, 0))  # its right half see-through
    QGuiApplication.clipboard().setImage(image)
    window.paste()
    _pasted(window, qtbot)
    written = cv2.imread(str(next(iter(window.session.entries))), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.uint16 and written.shape[2] == 4
    assert tuple(written[5, 5]) == (65535, 30000, 1000, 65535)  # (BGRA) 16 bits, opaque on the left…
    assert written[5, 20, 3] == 0  # …and see-through on the right


def test_a_picture_too_large_is_refused_before_it_is_written(window, qtbot, monkeypatch):
    monkeypatch.setenv("FACEAPP_MAX_MEGAPIXELS", "0.0005")  # 500 pixels: the 32×24 picture is over it
    QGuiApplication.clipboard().setImage(_picture())
    window.paste()
    [notice] = window.notices.notices()
    assert notice.level == "error" and "The pasted image" in notice.text and "too large" in notice.text
    assert not paths.pasted_dir().exists() or not any(paths.pasted_dir().iterdir())


def test_a_file_url_on_localhost_and_a_copied_path_open_the_photo(window, qtbot, tmp_path, testdata_dir):
    photo = testdata_dir / "photos" / gui_util.PHOTO
    mime = QMimeData()
    mime.setUrls([QUrl("file://localhost" + str(photo))])
    _drop(window, mime)
    assert list(window.session.entries) == [photo]
    window.session.remove(photo)

    QGuiApplication.clipboard().setText(f"'{photo}'\n")  # a file manager's "Copy path", quoted
    window.paste()
    assert list(window.session.entries) == [photo]



def test_photos_finder_hands_over_open_together_and_the_first_is_shown(qtbot, tmp_path, testdata_dir, monkeypatch):
    """Portability QA: macOS gives the running app the files of Finder's "Open With" (or a drop on the Dock
    icon) as file-open events, not on the command line; they were dropped silently."""
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    from faceapp.gui import file_open

    monkeypatch.setattr(file_open, "HANDS_FILES_BY_EVENTS", True)  # (as on a Mac)
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)

    first, second = sorted((testdata_dir / "photos").iterdir())[:2]
    for photo in (first, second):  # one event a file, in one moment
        QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(photo)))
    qtbot.waitUntil(lambda: list(window.session.entries) == [first, second], timeout=5000)
    qtbot.waitUntil(lambda: window.current == first, timeout=5000)
    QApplication.sendEvent(QApplication.instance(), QFileOpenEvent(QUrl.fromLocalFile(str(second))))
    qtbot.waitUntil(lambda: window.current == second, timeout=5000)  # opened already: shown
    assert list(window.session.entries) == [first, second]


def test_a_picture_pasted_just_before_remove_all_stays_out(window, qtbot):
    """Fault QA: Remove all emptied the filmstrip, and the picture being written came back 2 s later."""
    QGuiApplication.clipboard().setImage(_picture())
    window.paste()
    window.remove_all()  # (before the written picture is opened: that comes through the event loop)
    qtbot.waitUntil(lambda: not window.session.export_queue.busy, timeout=10000)
    qtbot.wait(50)
    assert window.session.entries == {}
    assert any(paths.pasted_dir().iterdir())  # written all the same: nothing lost


def test_text_dragged_in_is_read_by_its_form_and_network_paths_are_not_looked_up(monkeypatch):
    """Review: every line of text dragged over the window was looked up on disk as it entered (a
    dead network drive hung the window), and a network share named would have been contacted."""
    from pathlib import Path

    from faceapp.gui.offered_photos import may_offer_photos, paths_in_text

    def looked_up(self):
        raise AssertionError(f"{self} was looked up")

    mime = QMimeData()
    mime.setText("/mnt/archive/grandma.jpg")
    monkeypatch.setattr(Path, "exists", looked_up)
    assert may_offer_photos(mime)  # (its form: a path; whether it is there is seen on the drop)
    for network in (r"\\server\share\x.jpg", "//server/share/x.jpg", "file://server/share/x.jpg"):
        assert paths_in_text(network) == []


def test_a_16_bit_grey_picture_pasted_keeps_its_16_bits(window, qtbot):
    """Review: a Grayscale16 clipboard image was cut to 8 bits, where README says 16 are kept."""
    image = QImage(32, 24, QImage.Format.Format_Grayscale16)
    image.fill(QColor.fromRgba64(40000, 40000, 40000, 65535))
    QGuiApplication.clipboard().setImage(image)
    window.paste()
    _pasted(window, qtbot)
    written = cv2.imread(str(next(iter(window.session.entries))), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.uint16 and int(written.max()) > 255


def test_a_damaged_picture_on_the_clipboard_is_said_as_unreadable(window):
    """Fault QA: broken PNG bytes on the clipboard were "The clipboard holds no photo"."""
    mime = QMimeData()
    mime.setData("image/png", b"\x89PNG\r\n\x1a\n broken")
    QGuiApplication.clipboard().setMimeData(mime)
    window.paste()
    assert "The pasted picture could not be read" in gui_util.said(window) and window.session.entries == {}


def test_the_same_picture_pasted_again_opens_its_file_and_writes_no_copy(window, qtbot):
    """Resource QA: each paste of one picture wrote a file of its own and a filmstrip entry."""
    QGuiApplication.clipboard().setImage(_picture())
    window.paste()
    _pasted(window, qtbot)
    [first] = window.session.entries
    window.remove_all()
    for _ in range(2):  # after it was removed, and while it is open
        QGuiApplication.clipboard().setImage(_picture())
        window.paste()
        qtbot.waitUntil(lambda: not window.session.export_queue.busy, timeout=10000)
        qtbot.waitUntil(lambda: window.current == first, timeout=10000)
    assert list(window.session.entries) == [first] and list(paths.pasted_dir().iterdir()) == [first]
    QGuiApplication.clipboard().setImage(_picture(colour=QColor(10, 20, 30)))  # another picture: a file of its own
    window.paste()
    qtbot.waitUntil(lambda: len(window.session.entries) == 2, timeout=10000)
    first.write_bytes(first.read_bytes() + b"\0")  # (changed on disk: pasted again, written anew)
    QGuiApplication.clipboard().setImage(_picture())
    window.paste()
    qtbot.waitUntil(lambda: len(list(paths.pasted_dir().iterdir())) == 3, timeout=10000)
