"""The open dialogs' filters list a photo, a mask or a weight file whatever the case of its suffix."""

from __future__ import annotations

from fnmatch import fnmatchcase

import gui_util  # noqa: F401  (offscreen Qt, set up before any QApplication)

from faceapp.core.preferences import PHOTO_SUFFIXES
from faceapp.gui.dialog_patterns import any_case_patterns

_CAMERA_NAMES = ["IMG_0001.JPG", "foto.Jpg", "İSTANBUL.JPG", "scan.jpg", "DSC_0042.JPEG", "mum.PNG", "x.TIF"]


def test_on_linux_the_photo_filter_matches_camera_names_in_any_case():
    """Locale QA: GTK's dialog (GNOME, Xfce, …) matches a filter by case, and *.jpg hid IMG_0001.JPG."""
    patterns = any_case_patterns(PHOTO_SUFFIXES, platform="linux").split()
    assert "*.[jJ][pP][gG]" in patterns
    for name in _CAMERA_NAMES:
        assert any(fnmatchcase(name, pattern) for pattern in patterns), name  # as GTK matches, by case
    for name in ("notes.txt", "photo.jpg.part", "IMG_0001.JPG.xmp"):
        assert not any(fnmatchcase(name, pattern) for pattern in patterns), name


def test_elsewhere_the_patterns_stay_plain():
    assert any_case_patterns([".png", ".jpg"], platform="win32") == "*.jpg *.png"
    assert any_case_patterns([".png", ".jpg"], platform="darwin") == "*.jpg *.png"


def test_qts_own_dialog_lists_the_same_files_with_these_patterns(tmp_path, qtbot):
    from PySide6.QtCore import QDir

    for name in [*_CAMERA_NAMES, "notes.txt"]:
        (tmp_path / name).write_bytes(b"")
    listing = QDir(str(tmp_path)).entryList(any_case_patterns(PHOTO_SUFFIXES, platform="linux").split(),
                                            QDir.Filter.Files, QDir.SortFlag.Name)
    assert sorted(listing) == sorted(_CAMERA_NAMES)
