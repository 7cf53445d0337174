"""Application setup: cv2's Qt plugin path is cleared, first start explains what to do, settings persist."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import gui_util
import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence

from faceapp.core.preferences import PREFERENCES_VERSION
from faceapp.gui.app import prepare_qt_environment
from faceapp.gui.main_window import MainWindow


def test_cv2_plugin_path_is_removed_but_other_values_are_kept(monkeypatch):
    import cv2

    inside = Path(cv2.__file__).parent / "qt" / "plugins"
    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", str(inside))
    monkeypatch.setenv("QT_QPA_FONTDIR", "/usr/share/fonts")
    prepare_qt_environment()
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in os.environ
    assert os.environ["QT_QPA_FONTDIR"] == "/usr/share/fonts"


_GNOME_START = """
import sys
from faceapp.gui.app import prepare_qt_environment
prepare_qt_environment()
from PySide6.QtWidgets import QApplication
app = QApplication(["faceapp"])
import torch._dynamo  # what loading a model imports, triton with it
print("started")
"""


def test_triton_is_loaded_before_qt_so_a_gnome_desktop_does_not_crash_the_window():
    """Locale QA: on a GNOME-like desktop Qt's GTK theme loads Mesa's LLVM; triton's, loaded after
    it with the model, crashed the window (a segmentation fault). Its library now loads first."""
    import importlib.util
    import subprocess
    import sys

    if not sys.platform.startswith("linux") or importlib.util.find_spec("triton") is None:
        pytest.skip("torch brings no triton here")
    done = subprocess.run([sys.executable, "-c", "from faceapp.gui.app import prepare_qt_environment; "
                           "prepare_qt_environment(); import sys; print('triton._C.libtriton' in sys.modules)"],
                          capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["True"], done.stderr
    import ctypes.util
    import shutil

    if shutil.which("xvfb-run") is None or ctypes.util.find_library("gtk-3") is None:
        return  # the crash itself needs an X server and GTK 3 to show
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", XDG_CURRENT_DESKTOP="GNOME")
    shown = subprocess.run(["xvfb-run", "-a", sys.executable, "-c", _GNOME_START], capture_output=True, text=True,
                           timeout=300, env=env)
    assert shown.returncode == 0 and "started" in shown.stdout, (shown.returncode, shown.stderr[-2000:])


def test_ctrl_c_while_the_app_loads_exits_130_without_a_traceback(tmp_path):
    """Started from a terminal, a Ctrl-C in the seconds torch and Qt take to load printed a
    40-line traceback (QA); it says one line and exits 130, as faceapp-cli does."""
    from signal_util import run_stopped_while_importing

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FACEAPP_HOME=str(tmp_path / "home"))
    done = run_stopped_while_importing("torch", """
        from faceapp.gui.app import main
        sys.exit(main(["faceapp"]))
    """, env=env)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "faceapp: interrupted while starting."


def test_first_start_without_a_model_says_how_to_get_one(qtbot, tmp_path, without_bundled_model, monkeypatch):
    from faceapp.gui import actions

    text, icon, _keys, tip = actions.ACTIONS["models"]  # (its key read from the action, as a Mac writes it: ⌘M)
    monkeypatch.setitem(actions.ACTIONS, "models", (text, icon, "Ctrl+Alt+M", tip))
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    notices = window.notices.notices()
    assert any(n.action == "models" for n in notices)
    assert "download" in window.compare._placeholder.lower()
    assert "import" in window.compare._placeholder.lower()
    models_keys = window.actions_["models"].shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    assert models_keys == "Ctrl+Alt+M" and f"Models… ({models_keys})" in window.compare._placeholder
    window.close()


def test_models_key_on_a_mac_is_not_the_one_that_minimizes():
    """Portability QA: Ctrl+M is ⌘M on a Mac, where it minimizes the window."""
    from faceapp.gui.actions import models_keys

    assert models_keys("linux") == models_keys("win32") == "Ctrl+M" and models_keys("darwin") == "Ctrl+Alt+M"


def test_a_macs_application_menu_takes_settings_quit_and_about_and_nothing_else(qtbot):
    """Portability QA: Qt moves entries into a Mac's application menu by their words; the four that
    belong there are named for it, and every other entry stays in its menu."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QWidget

    from faceapp.gui.actions import build_actions

    owner = QWidget()
    qtbot.addWidget(owner)
    roles = {name: action.menuRole() for name, action in build_actions(owner).items()}
    moved = {name: role for name, role in roles.items() if role != QAction.MenuRole.NoRole}
    assert moved == {"settings": QAction.MenuRole.PreferencesRole, "quit": QAction.MenuRole.QuitRole,
                     "about": QAction.MenuRole.AboutRole, "about_qt": QAction.MenuRole.AboutQtRole}


def test_models_that_cannot_be_read_are_not_called_missing(qtbot, tmp_path, monkeypatch):
    """Code review: any error while listing the models (a folder it may not read) was said as "No
    face model is installed: download one", sending the user to download what they have."""
    from faceapp.core.registry import Registry

    def unreadable(self):
        raise PermissionError(13, "Permission denied", "/home/me/.local/share/faceapp/models")

    monkeypatch.setattr(Registry, "list", unreadable)
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    texts = [n.text for n in window.notices.notices()]
    assert not any("No face model is installed" in text for text in texts)
    [said] = [text for text in texts if text.startswith("The installed models could not be read")]
    assert "Permission denied" in said and "/home/me/.local/share/faceapp/models" in said
    assert "download" not in window.compare._placeholder.lower()
    window.close()


def test_preferences_and_window_geometry_survive_a_restart(qtbot, tmp_path):
    store = gui_util.settings_store(tmp_path)
    prefs = dataclasses.replace(store.load(), seeds_per_face=6, upscale=2, name_pattern="{stem}_fixed",
                                fidelity=0.8, steps=12, eta=0.2, polish_timestep=100, precision="fp32",
                                face_selection="largest", min_face_size=40.0, export_format="webp")
    store.save(prefs)
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    window.resize(700, 520)  # within the offscreen 800×600 screen
    window.show()
    qtbot.waitExposed(window)
    total = sum(window.splitter.sizes())
    window.splitter.setSizes([total - 380, 380])  # the side panel made wider (settings QA: it came back at 340)
    window.close()

    reopened = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(reopened)
    assert reopened.session.prefs == prefs
    assert reopened.fidelity.fidelity() == pytest.approx(0.8)
    assert (reopened.width(), reopened.height()) == (700, 520)
    reopened.show()
    qtbot.waitExposed(reopened)
    assert reopened.splitter.sizes() == [total - 380, 380]
    reopened.splitter.setSizes([total, 0])  # dragged shut (or so remembered by an earlier faceapp):
    assert reopened.splitter.sizes()[1] > 0  # the panel stays (QA: no menu brought it back)
    reopened.close()


def test_a_window_saved_at_another_screen_scale_comes_back_at_the_size_the_user_saw(qtbot, tmp_path):
    """Qt restores a saved window in the device pixels it had: at 200 % a window saved at 150 % came
    back a quarter smaller (HiDPI QA). Here the saved geometry stands for such a shrunk one; the
    size the user saw comes back, within the screen."""
    store = gui_util.settings_store(tmp_path)
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    window.resize(525, 390)
    window.move(200, 150)  # towards the screen's bottom right
    window.close()  # what Qt would restore after the scale changed 150 % → 200 % of a 700×520 window
    store.save_window(store.geometry(), store.window_state(), (700, 520))
    reopened = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(reopened)
    assert (reopened.width(), reopened.height()) == (700, 520)
    reopened.close()
    store.save_window(store.geometry(), store.window_state(), (5000, 4000))  # saved on a larger screen
    reopened = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(reopened)
    room = reopened.screen().availableGeometry()
    assert room.contains(reopened.frameGeometry())  # within the screen, also where it was saved near its edge
    reopened.close()
    from PySide6.QtCore import QSettings

    store.save_window(store.geometry(), store.window_state(), (700, 520))
    raw = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    size_before = raw.value("window/size")
    older = MainWindow(store=gui_util.settings_store(tmp_path))  # an earlier faceapp, which writes no size,
    qtbot.addWidget(older)  # saves the window as it is (upgrade QA: its geometry came back with the size
    older.resize(610, 430)  # of before)
    older.close()
    raw.sync()
    raw.setValue("window/size", size_before)  # (the size the earlier faceapp left as it was)
    raw.sync()
    reopened = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(reopened)
    assert (reopened.width(), reopened.height()) == (610, 430)
    reopened.close()


def test_invalid_stored_values_fall_back_to_defaults(tmp_path):
    store = gui_util.settings_store(tmp_path)
    store._settings.setValue("prefs/version", 1)
    store._settings.setValue("prefs/upscale", "7")
    store._settings.setValue("prefs/steps", "many")
    store._settings.setValue("prefs/seeds_per_face", "3")
    store._settings.setValue("prefs/base_seed", "5000000000")  # (settings QA: Settings no longer opened)
    loaded = store.load()
    assert loaded.upscale == 1 and loaded.steps is None and loaded.base_seed == 0  # the defaults
    assert loaded.seeds_per_face == 3  # the valid ones are kept


def test_two_windows_open_at_once_keep_each_others_settings(tmp_path):
    """Settings QA: copy A chose 6 seeds and an output folder; copy B, opened before, then moved the
    fidelity slider, and its save put A's choices back as they were, without a word."""
    first, second = gui_util.settings_store(tmp_path), gui_util.settings_store(tmp_path)
    in_first, in_second = first.load(), second.load()
    first.update(in_first, seeds_per_face=6, output_folder=str(tmp_path / "out"))
    second.update(in_second, fidelity=0.3)
    stored = gui_util.settings_store(tmp_path).load()
    assert (stored.seeds_per_face, stored.output_folder, stored.fidelity) == (6, str(tmp_path / "out"), 0.3)


def test_settings_opened_in_a_second_window_show_what_the_first_saved_and_a_reset_there_is_kept(qtbot, tmp_path,
                                                                                             monkeypatch):
    """Settings QA: copy B's Settings showed its own stale values (4 seeds) while the file held copy
    A's 5, and B's Reset every field wrote nothing where the defaults equalled what B had read."""
    from PySide6.QtWidgets import QDialog

    from faceapp.core.preferences import Preferences
    from faceapp.gui import settings_dialog

    first = gui_util.settings_store(tmp_path)
    second = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(second)
    first.update(first.load(), seeds_per_face=5, export_format="png")
    shown = []

    def reset_every_field(dialog) -> int:
        shown.append(dialog.seeds.value())
        dialog.preferences = lambda: Preferences()  # (what Reset every field, then OK, gives)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(settings_dialog.SettingsDialog, "exec", reset_every_field)
    second.models.open_settings()
    assert shown == [5] and second.session.prefs.seeds_per_face == Preferences().seeds_per_face
    stored = gui_util.settings_store(tmp_path).load()
    assert (stored.seeds_per_face, stored.export_format) == (Preferences().seeds_per_face, Preferences().export_format)
    second.close()

def test_a_settings_file_from_a_newer_faceapp_is_not_written_back_as_this_ones(qtbot, tmp_path):
    """Settings QA: a file of a later layout (its own export formats, precisions) was rewritten at the
    first change with this version's layout number and its values replaced by defaults."""
    store = gui_util.settings_store(tmp_path)
    store._settings.setValue("prefs/version", PREFERENCES_VERSION + 1)
    store._settings.setValue("prefs/export_format", "avif")
    store._settings.setValue("prefs/seeds_per_face", "3")
    store._settings.setValue("prefs/colour_grading", "film")  # a setting this version has no field for
    store._settings.sync()
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    [notice] = [n for n in window.notices.notices() if n.action == "settings"]
    assert "from a newer faceapp" in notice.text and "export format avif" in notice.text
    store.update(window.session.prefs, fidelity=0.3)
    reread = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert int(reread.value("prefs/version")) == PREFERENCES_VERSION + 1
    assert (reread.value("prefs/export_format"), reread.value("prefs/colour_grading")) == ("avif", "film")
    assert float(reread.value("prefs/fidelity")) == 0.3 and int(reread.value("prefs/seeds_per_face")) == 3

def test_open_starts_in_the_folder_photos_were_last_opened_from(qtbot, tmp_path):
    """Settings QA: after a restart, File ▸ Open started in the home folder, though Open Recent
    listed where the photos were; a folder gone since (an unplugged drive) is passed over."""
    album, gone = tmp_path / "album", tmp_path / "gone"
    album.mkdir()
    store = gui_util.settings_store(tmp_path)
    store.add_recent([album / "a.jpg", gone / "b.jpg"])  # b opened last, from a folder not there now
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    assert window.start_folder() == str(album)

def test_a_hand_edited_settings_file_never_stops_the_window(tmp_path):
    """A layout version that is no whole number, recent files that are no list of paths and a name
    pattern that names no file (QA: the window did not start; every Open failed; Save did nothing):
    each is left out, the rest kept."""
    (tmp_path / "settings.ini").write_text(
        "[prefs]\nversion=2.0\nseeds_per_face=3\nname_pattern={bogus}/../{stem}\n"
        "[recent]\nfiles=@ByteArray(xyz)\n")
    store = gui_util.settings_store(tmp_path)
    loaded = store.load()
    assert loaded.seeds_per_face == 3 and loaded.name_pattern == "{stem}_restored"
    assert store.recent_files() == []
    assert store.add_recent([tmp_path / "a.jpg"]) == [tmp_path / "a.jpg"]
    store._settings.setValue("recent/files", [str(tmp_path / "b.jpg"), 7, ""])
    assert store.recent_files() == [tmp_path / "b.jpg"]
    # one the settings dialog refuses (no {stem}: every photo's result would take one name): left out too
    # (review: it loaded, and the dialog then refused every other change until it was fixed)
    store._settings.setValue("prefs/name_pattern", "restored")
    assert store.load().name_pattern == "{stem}_restored"


@pytest.mark.skipif(os.name == "nt", reason="file names are bytes on POSIX only")
def test_a_photo_name_that_is_not_utf8_is_kept_off_the_recent_files(tmp_path):
    """Qt's strings cannot hold it: it came back as "caf\ufffd.jpg", naming no file (QA)."""
    store = gui_util.settings_store(tmp_path)
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.jpg"))
    assert store.add_recent([tmp_path / "a.jpg", odd]) == [tmp_path / "a.jpg"]
    assert gui_util.settings_store(tmp_path).recent_files() == [tmp_path / "a.jpg"]


def test_each_line_of_the_log_names_the_window_that_wrote_it(tmp_path, monkeypatch):
    """Concurrency QA: two windows share the log file, and their lines ("cf_01 … spared") could not
    be told apart."""
    import logging
    import os
    import sys

    from faceapp.gui.app import setup_logging

    monkeypatch.setattr("faceapp.paths.user_log_dir", lambda: tmp_path / "logs")
    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, sys.excepthook
    try:
        log_file = setup_logging()
        logging.getLogger("faceapp.test").info("cf_01.jpg: spared")
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in root.handlers[len(handlers):]:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        sys.excepthook = hook
    assert f"[{os.getpid()}] INFO faceapp.test: cf_01.jpg: spared" in log_file.read_text(encoding="utf-8")


def test_the_app_starts_when_its_log_file_cannot_be_opened(qtbot, tmp_path, monkeypatch):
    """A file where the log folder should be (or a read-only disk): the log goes to the terminal
    only, said there, and the app goes on (QA: it exited with a traceback)."""
    import logging
    import sys

    from faceapp.gui.app import setup_logging

    blocker = tmp_path / "log"
    blocker.write_text("not a folder")
    monkeypatch.setattr("faceapp.paths.user_log_dir", lambda: blocker)
    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, sys.excepthook
    try:
        assert setup_logging() is None
        window = MainWindow(store=gui_util.settings_store(tmp_path))
        window.say_no_log_file()  # what main() does then: a desktop launch has no terminal (review)
        assert window.notices.notices()[-1].text.startswith(f"No log file this time: {blocker} cannot be written")
        window.close()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        sys.excepthook = hook


def test_a_settings_folder_that_is_a_file_is_said_at_start(qtbot, tmp_path):
    """Settings QA: a config folder that could not be looked into (no permission, or a file in its
    place) gave the defaults at start without a word; QSettings says nothing of it."""
    (tmp_path / "config").write_text("not a folder")
    window = MainWindow(store=gui_util.settings_store(tmp_path / "config"))
    qtbot.addWidget(window)
    assert any(n.text.startswith("Settings could not be read, so the defaults are used: the settings folder "
                                 f"{tmp_path / 'config'} cannot be read or written") for n in window.notices.notices())
    window.close()


def test_settings_read_from_a_folder_that_cannot_be_written_are_used_and_said_unsaveable(qtbot, tmp_path,
                                                                                          monkeypatch):
    """Settings QA: a read-only config folder said nothing until the first change."""
    from faceapp.gui import settings_store

    (tmp_path / "settings.ini").write_text("[prefs]\nversion=2\nseeds_per_face=6\n")
    monkeypatch.setattr(settings_store.os, "access", lambda path, mode: not mode & settings_store.os.W_OK)
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    assert window.session.prefs.seeds_per_face == 6
    assert any(n.text.startswith(f"Settings cannot be saved: {tmp_path / 'settings.ini'} cannot be read or written")
               for n in window.notices.notices())
    window.close()


def test_a_settings_file_with_a_damaged_line_is_read_as_far_as_it_goes_and_said_so_truly(qtbot, tmp_path):
    """Settings QA: a file whose last line was damaged ("[win") was said to be unreadable, "the
    defaults are used … changes apply until faceapp closes", while its settings were read and used,
    and a change was written to it."""
    (tmp_path / "settings.ini").write_text("[prefs]\nversion=2\nseeds_per_face=9\n[win\n")
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    [said] = [n.text for n in window.notices.notices() if "settings" in n.text.lower()]
    assert said.startswith("Some settings could not be read: ") and "has lines that are not settings" in said
    assert "defaults are used" not in said and "until faceapp closes" not in said
    assert window.session.prefs.seeds_per_face == 9
    window.save_settings(dataclasses.replace(window.session.prefs, seeds_per_face=2))
    assert [n.text for n in window.notices.notices() if "settings" in n.text.lower()] == [said]  # (saved: no new word)
    assert gui_util.settings_store(tmp_path).load().seeds_per_face == 2
    window.close()


def test_a_damaged_settings_file_that_cannot_be_written_says_so_when_saved(tmp_path, monkeypatch):
    """Review: after a damaged line QSettings reports that alone, so a save that could not be
    written (a read-only file) returned no problem."""
    from faceapp.gui import settings_store

    (tmp_path / "settings.ini").write_text("[prefs]\nversion=2\nseeds_per_face=9\n[win\n")
    store = gui_util.settings_store(tmp_path)
    prefs = store.load()
    assert store.partly_read and store.save(dataclasses.replace(prefs, seeds_per_face=3)) is None
    monkeypatch.setattr(settings_store.os, "access", lambda path, mode: not mode & settings_store.os.W_OK)
    assert store.save(dataclasses.replace(prefs, seeds_per_face=4)) is None  # (written all the same: a share's bits)
    monkeypatch.setattr(settings_store, "file_stamp", lambda name: (0, 0, 0, 0))  # (not written: as a read-only file)
    assert "cannot be read or written" in store.save(dataclasses.replace(prefs, seeds_per_face=5))


def test_a_settings_file_that_cannot_be_written_is_said_once(qtbot, tmp_path):
    """A folder where settings.ini should be (or a read-only disk, a file of root's): the window says
    so when it starts and does not repeat it on every change (QA: changes were lost without a
    word)."""
    (tmp_path / "settings.ini").mkdir()
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    said = [n.text for n in window.notices.notices()]
    assert any(t.startswith("Settings could not be read, so the defaults are used: ") and "cannot be read or written" in t
               for t in said)
    window.save_settings(dataclasses.replace(window.session.prefs, seeds_per_face=2))
    assert [n.text for n in window.notices.notices()] == said  # the same problem: said once
    window.close()


def test_settings_reset_or_a_model_gone_are_said_at_start_with_the_way_to_settings(qtbot, tmp_path):
    """A fidelity of 7 and steps of -3 go back to their defaults, and a model chosen in Settings
    whose manifest is gone stays chosen: the window says both when it starts, each with a button to
    Settings (QA: the one said nothing, the other only when Restore failed, pointing to Models)."""
    store = gui_util.settings_store(tmp_path)
    store._settings.setValue("prefs/version", PREFERENCES_VERSION)
    store._settings.setValue("prefs/fidelity", "7")
    store._settings.setValue("prefs/steps", "-3")
    store._settings.setValue("prefs/model", "gone-model")
    store._settings.setValue("prefs/appearance", "")  # (settings QA: it read "appearance ,")
    store._settings.setValue("prefs/precision", ["bf16"])  # (…and "precision ['bf16']")
    store._settings.setValue("prefs/min_face_size", "inf")  # (security QA: "smaller than inf px left out")
    store._settings.sync()
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    notices = {n.text: n for n in window.notices.notices()}
    reset = notices["Settings that were not valid went back to their defaults: appearance (empty), fidelity 7, "
                    "min face size inf, precision (not a setting's value), steps -3."]
    gone = next(n for text, n in notices.items() if text.startswith("The model 'gone-model' chosen in Settings"))
    assert reset.action == gone.action == "settings" and window.session.prefs.model == "gone-model"
    window.close()


def test_a_device_chosen_in_settings_that_this_computer_lacks_is_said_at_start(qtbot, tmp_path, monkeypatch):
    """Settings QA: settings copied from a computer with a GPU: only the status bar said it, cut
    short, and each restore then failed as if the photo were at fault."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this computer has CUDA")
    store = gui_util.settings_store(tmp_path)
    store._settings.setValue("prefs/version", PREFERENCES_VERSION)
    store._settings.setValue("prefs/device", "cuda")
    store._settings.sync()
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    [said] = [n for n in window.notices.notices() if n.text.startswith("The device chosen in Settings")]
    assert "CUDA" in said.text and said.action == "settings"
    from PySide6.QtWidgets import QDialog

    from faceapp.gui import settings_dialog

    for device, left in (("cuda", 1), ("cpu", 0)):  # OK with the device still wrong, then with CPU chosen
        def chosen(dialog, device=device):
            dialog.preferences = lambda: dataclasses.replace(window.session.prefs, device=device)
            return QDialog.DialogCode.Accepted
        monkeypatch.setattr(settings_dialog.SettingsDialog, "exec", chosen)
        window.models.open_settings()
        # (settings QA: the warning stayed up once CPU was chosen)
        assert len([n for n in window.notices.notices() if n.text.startswith("The device chosen")]) == left
    window.close()

def test_settings_of_the_first_layout_are_migrated(tmp_path):
    store = gui_util.settings_store(tmp_path)
    store._settings.setValue("prefs/upscale", "2")  # no version: the layout before versions
    store._settings.setValue("prefs/export_format", "jpeg")
    store._settings.setValue("sampler/fidelity", "0.3")
    store._settings.setValue("sampler/steps", "6")
    loaded = store.load()
    assert (loaded.upscale, loaded.export_format, loaded.fidelity, loaded.steps) == (2, "jpg", 0.3, 6)
    store.save(loaded)
    assert store._settings.value("sampler/fidelity") is None
    assert int(store._settings.value("prefs/version")) == PREFERENCES_VERSION
    assert gui_util.settings_store(tmp_path).load() == loaded


@pytest.mark.parametrize("stored, loaded", [("0.5", None), ("0.3", 0.3)])
def test_a_never_moved_fidelity_of_the_second_layout_becomes_the_models_own(tmp_path, stored, loaded):
    store = gui_util.settings_store(tmp_path)
    store._settings.setValue("prefs/version", 1)  # layout 1 always stored the fidelity, 0.5 by default
    store._settings.setValue("prefs/fidelity", stored)
    assert store.load().fidelity == loaded


def test_every_main_action_has_a_keyboard_shortcut(qtbot, tmp_path):
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    main = ["open", "paste", "save", "save_as", "export_all", "restore", "cancel", "draw_box",
            "settings", "models", "toggle_compare", "zoom_fit", "zoom_actual", "gallery"]
    shortcuts = [window.actions_[name].shortcut().toString() for name in main]
    assert all(shortcuts) and len(set(shortcuts)) == len(shortcuts)
    window.close()


def test_pasted_images_get_distinct_short_names(qtbot, tmp_path, monkeypatch):
    import numpy as np

    from faceapp.gui import session as session_module

    monkeypatch.setattr(session_module.time, "strftime", lambda fmt: "pasted-20260101-000000")
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    opened = []
    for shade in range(3):  # three pictures in one second (one pasted again opens its file: resource QA)
        window.session.paste_image(np.full((8, 8, 3), shade, np.uint8), on_opened=opened.append)
    qtbot.waitUntil(lambda: len(opened) == 3, timeout=10000)
    names = [path.name for path in opened]
    assert names == ["pasted-20260101-000000.png", "pasted-20260101-000000_2.png", "pasted-20260101-000000_3.png"]
    assert list(window.session.entries) == opened
    window.close()


def test_a_pasted_images_result_is_saved_where_the_user_finds_it(qtbot, tmp_path):
    """Privacy QA: Save put a pasted image's result beside it, in the hidden folder faceapp keeps
    pasted images in. It goes to the Pictures folder, or the output folder of Settings."""
    import dataclasses

    import numpy as np

    from faceapp import paths

    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    opened = []
    window.session.paste_image(np.zeros((8, 8, 3), np.uint8), on_opened=opened.append)
    qtbot.waitUntil(lambda: bool(opened), timeout=10000)
    [pasted] = opened
    assert pasted.parent == paths.pasted_dir()
    prefs = window.session.prefs
    assert window.session.backend.default_output_path(pasted, prefs).parent == paths.pictures_dir()
    assert paths.pictures_dir() != paths.pasted_dir()
    chosen = dataclasses.replace(prefs, output_folder=str(tmp_path / "out"))
    assert window.session.backend.default_output_path(pasted, chosen).parent == tmp_path / "out"
    window.close()


def test_a_pasted_image_that_cannot_be_kept_is_an_error_notice(qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QGuiApplication, QImage

    from faceapp import paths

    blocked = tmp_path / "data"
    blocked.write_text("a file where the data folder should be")
    monkeypatch.setattr(paths, "user_data_dir", lambda: blocked)
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    image = QImage(16, 16, QImage.Format.Format_RGB888)
    image.fill(0x808080)
    QGuiApplication.clipboard().setImage(image)
    window.paste()
    qtbot.waitUntil(lambda: bool(window.notices.notices()), timeout=10000)  # (written on the files' queue)
    [notice] = window.notices.notices()
    assert notice.level == "error" and "pasted image" in notice.text
    assert window.session.entries == {}
    window.close()


def test_a_narrow_window_keeps_every_tool_on_the_toolbar_as_an_icon(qtbot, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QToolBar

    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    window.show()
    toolbar = window.findChild(QToolBar, "main-toolbar")

    def hidden_tools() -> int:  # actions pushed into the toolbar's overflow menu
        buttons = [toolbar.widgetForAction(a) for a in toolbar.actions() if not a.isSeparator()]
        return sum(not b.isVisible() for b in buttons)

    window.resize(1500, 800)
    qtbot.waitUntil(lambda: toolbar.width() > 1400)
    assert toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon and hidden_tools() == 0
    window.resize(900, 700)
    qtbot.waitUntil(lambda: toolbar.width() < 1000)
    assert toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
    qtbot.waitUntil(lambda: hidden_tools() == 0, timeout=2000)  # once the toolbar has laid them out again
    window.close()


def test_a_message_too_long_for_the_status_bar_is_shown_whole_in_a_notice(qtbot, tmp_path):
    from faceapp.gui.notifications import info_timeout_ms

    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.say("Saved photo_restored.jpg")
    assert window.statusBar().currentMessage() == "Saved photo_restored.jpg" and not window.notices.notices()
    long = ("cf_00.jpg: Barely changed by the restorer, so spared the prior: faces 1, 2, 4 kept as the restorer made them; face 3 given less of it (fidelity 0.93). "
            "Switch off Settings ▸ Sharp faces and restore again to diffuse every face.")
    window.statusBar().clearMessage()
    window.say(long)
    assert [n.text for n in window.notices.notices()] == [long] and window.statusBar().currentMessage() == ""
    assert info_timeout_ms(long) > info_timeout_ms("Saved photo_restored.jpg") + 4000  # time to read it
    # A message that fits beside the labels but not beside a run's progress bar, which a restore
    # it starts shows next (QA: cut off by it): a notice too.
    hush = gui_util.hush
    hush(window)
    window.progress_bar.setVisible(False)
    bar = window.statusBar()
    fits_alone = "x" * 10
    while bar.fontMetrics().horizontalAdvance(fits_alone + "x" * 10) < bar.width() - 3 * max(60, bar.width() // 6) \
            - window.zoom_label.sizeHint().width() - 4 * bar.layout().spacing() - 24:
        fits_alone += "x" * 10
    window.say(fits_alone)
    assert [n.text for n in window.notices.notices()] == [fits_alone]
    window.close()


def test_an_empty_window_offers_no_tool_that_needs_a_photo(qtbot, tmp_path):
    """QA: Bigger/Smaller brush were enabled with no photo loaded."""
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    needs_a_photo = ("draw_box", "damage_brush", "eraser", "brush_bigger", "brush_smaller", "restore", "save",
                     "remove", "zoom_in", "clear_damage")
    assert [name for name in needs_a_photo if window.actions_[name].isEnabled()] == []
    window.close()


def test_settings_live_in_the_user_config_folder_and_an_earlier_file_moves_there(tmp_path, monkeypatch):
    """QA: the window's settings were kept in the data folder (~/.local/share), where nobody looks
    for settings on Linux; an earlier version's file moves to the config folder, kept whole."""
    import sys

    from faceapp import paths
    from faceapp.gui.settings_store import settings_file

    if not sys.platform.startswith("linux"):
        pytest.skip("XDG folders: Linux")
    monkeypatch.delenv("FACEAPP_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    earlier = tmp_path / "data" / "faceapp" / "settings.ini"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("[prefs]\nseeds_per_face=6\n")
    assert paths.user_config_dir() == tmp_path / "config" / "faceapp"
    moved = settings_file()
    assert moved == tmp_path / "config" / "faceapp" / "settings.ini"
    assert moved.read_text() == "[prefs]\nseeds_per_face=6\n" and not earlier.exists()
    earlier.write_text("[prefs]\nseeds_per_face=2\n")  # a file in both places: the config folder's wins
    assert settings_file() == moved and moved.read_text() == "[prefs]\nseeds_per_face=6\n"


def test_a_faces_number_tag_under_a_notice_is_drawn_below_it_and_still_switches_the_face(qtbot, tmp_path):
    """QA: the first face of a family photo, near its top, had its tag under the note the restore
    left; it could not be switched off until the note went. The tag moves below the notices, inside
    its box, and back when they go."""
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QLabel

    from faceapp.gui.compare_view import FaceOutline
    from faceapp.gui.notifications import Notice
    from faceapp.gui.qimage import rgb_to_qimage

    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    view = window.compare
    view.set_images(rgb_to_qimage(np.full((400, 400, 3), 90, np.uint8)))
    view.zoom_fit()
    view.set_faces([FaceOutline(0, (150, 2, 250, 120)), FaceOutline(1, (300, 1, 312, 8))])  # at the photo's top edge
    free = dict(view._shown_tags())
    window.notices.show_notice(Notice("A note that stays until it is closed, over the top of the photo.", "warning"))
    qtbot.waitUntil(lambda: view._covered_top > 0)
    banner_bottom = window.notices.geometry().bottom()
    moved = {face.index: rect for face, rect in view._shown_tags()}
    assert view.image_to_widget(QPointF(312, 8)).y() < banner_bottom  # face 2 is under the banner whole…
    for index in (0, 1):  # …and its tag, like face 1's, is below it, where it can be seen and clicked
        assert moved[index].top() > banner_bottom
    assert moved[0].bottom() <= view.image_to_widget(QPointF(250, 120)).y()  # within its box
    toggled = []
    view.faceToggled.connect(toggled.append)
    view.faceClicked.connect(toggled.append)
    banner = window.notices.findChildren(QLabel)[0]
    qtbot.mouseClick(banner, Qt.MouseButton.LeftButton)  # (over face 1's box: the banner's, not the photo's)
    assert toggled == []
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=moved[0].center().toPoint())
    assert toggled == [0]
    window.notices.clear()
    qtbot.waitUntil(lambda: view._covered_top == 0)
    assert {face.index: rect for face, rect in view._shown_tags()} == {face.index: rect for face, rect in free.items()}
    window.close()


def test_a_long_note_about_one_photo_goes_out_of_sight_with_it(qtbot, tmp_path):
    """QA: gf_10045's "Sharp faces spared" stayed over the next photo shown: a passing note about a
    photo is that photo's, as its warnings are."""
    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    first, second = tmp_path / "first.jpg", tmp_path / "second.jpg"
    window.notices.show_photo(first)
    window.say("first.jpg: Barely changed by the restorer, so spared the prior: faces 1, 2 kept as the restorer made them; face 3 at fidelity "
               "0.89. To let the prior work on a spared face anyway, click the face and press Diffuse anyway.",
               subject=first)
    assert window.notices.isVisible()
    window.notices.show_photo(second)
    assert not window.notices.isVisible() and len(window.notices.notices()) == 1
    window.notices.show_photo(first)
    assert window.notices.isVisible()
    window.close()


def test_two_windows_keep_each_others_recent_files_and_a_cleared_list_stays_cleared(tmp_path):
    """Two faceapp windows (processes) share settings.ini: each one's Open Recent kept its own copy
    and wrote it whole, dropping the other's photos, and a list cleared in one came back from the
    other's next photo (two-instance QA)."""
    import subprocess
    import sys
    import textwrap

    here = gui_util.settings_store(tmp_path)
    assert here.add_recent([tmp_path / "mine.jpg"]) == [tmp_path / "mine.jpg"]

    def other_window(call: str) -> None:
        subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            from pathlib import Path
            from PySide6.QtCore import QSettings
            from faceapp.gui.settings_store import SettingsStore
            store = SettingsStore(QSettings({str(tmp_path / "settings.ini")!r}, QSettings.Format.IniFormat))
            store.{call}
            """)], check=True, timeout=120)

    other_window(f"add_recent([Path({str(tmp_path / 'theirs.jpg')!r})])")
    assert here.add_recent([tmp_path / "next.jpg"]) == [tmp_path / name for name in ("next.jpg", "theirs.jpg", "mine.jpg")]
    assert here.recent_files()[1] == tmp_path / "theirs.jpg"  # (the menu lists it too)
    other_window("clear_recent()")
    here.add_recent([tmp_path / "after.jpg"])
    assert gui_util.settings_store(tmp_path).recent_files() == [tmp_path / "after.jpg"]


def test_notices_floating_over_a_small_photo_show_whole_banners_not_half_a_line(qtbot):
    """HiDPI QA: on a small screen the stack, scrolled to the newest notice, cut the older one's
    first line in half; it is as tall as the newest banners that fit whole."""
    from PySide6.QtWidgets import QWidget

    from faceapp.gui.notifications import NotificationArea, Notice, _Banner

    host = QWidget()
    qtbot.addWidget(host)
    host.resize(520, 300)
    area = NotificationArea(host)
    area.float_over(host)
    host.show()
    qtbot.waitExposed(host)
    for n in range(3):
        area.show_notice(Notice(f"Notice {n}: " + "a few words that wrap over two lines " * 2, "warning"))
    qtbot.wait(50)
    bar = area.verticalScrollBar()
    shown = [b for b in area.findChildren(_Banner) if b.isVisible()]
    assert bar.maximum() > 0 and bar.value() == bar.maximum()  # more than fits: scrolled to the newest
    assert bar.value() in [b.geometry().top() for b in shown]  # the top one whole
    assert area.viewport().height() >= shown[-1].height()


def test_a_recent_entry_whose_name_is_too_long_leaves_the_menu_and_file_open_working(qtbot, tmp_path):
    """Sceptic QA: such an entry (a hand-edited settings file, a name counted longer elsewhere) made
    File ▸ Open recent empty, Clear Menu too, and File ▸ Open raise before its dialog."""
    store = gui_util.settings_store(tmp_path)
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"")
    store._settings.setValue("recent/files", [str(tmp_path / ("x" * 300 + ".jpg")), str(photo)])
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    window._fill_recent()
    shown = [action.text() for action in window.recent_menu.actions() if action.text()]
    assert len([text for text in shown if "a.jpg" in text or "xxx" in text]) == 2 and any("Clear" in t for t in shown)
    assert window.start_folder() == str(tmp_path)
