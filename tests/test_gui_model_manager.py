"""The model manager lists models with state and licence, imports off the UI thread and reports
import errors non-modally."""

from __future__ import annotations

import shutil
import threading
import time

import gui_util
import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QPushButton

from faceapp import paths
from faceapp.core.errors import Cancelled
from faceapp.core.registry import Registry
from faceapp.core.wording import human_size
from faceapp.gui.model_manager import ModelManagerDialog


class WatchedRegistry(Registry):
    """The real registry, noting the thread each import runs on."""

    def __init__(self) -> None:
        super().__init__()
        self.import_threads: list[QThread] = []

    def import_file(self, *args, **kwargs):
        self.import_threads.append(QThread.currentThread())
        return super().import_file(*args, **kwargs)


def test_lists_models_with_state_and_licence_and_reports_a_bad_import(qtbot, tmp_path):
    name = gui_util.install_tiny_model()
    dialog = ModelManagerDialog(Registry())
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 0).data(0x0100): [dialog.table.item(r, c).text() for c in range(4)]
            for r in range(dialog.table.rowCount())}
    assert rows[name][1] == "Installed" and rows[name][3] == "MIT"
    assert rows["difface-official"][1] == "Not downloaded"  # (copy QA: "missing" read as broken)
    assert "non-commercial" in rows["difface-official"][3].lower()
    assert rows[name][2] == Registry().status(name).size_text() and rows[name][2].endswith(" MB")
    defaults = [model for model, cells in rows.items() if cells[0].endswith(" · default")]
    assert defaults == [Registry().default().name]  # the one a restore uses unless told otherwise
    assert dialog.selected_name() == defaults[0]  # selected as it opens (QA: the first row, a 703 MB download)

    def buttons(model: str) -> tuple[bool, bool, bool]:
        dialog.table.selectRow(list(rows).index(model))
        return (dialog.download_button.isEnabled(), dialog.import_button.isEnabled(),
                dialog.delete_button.isEnabled())

    assert buttons("difface-official") == (True, True, False)  # nothing on disk to delete
    assert buttons(name) == (False, True, True)  # installed: nothing to download
    assert buttons("faceapp-compact") == (False, False, False)  # bundled: nothing to do…
    assert dialog.delete_button.toolTip().startswith("Nothing to delete: its files are bundled")  # …said (smoke QA)
    assert dialog.import_button.toolTip() == "Its files are bundled with faceapp: nothing to import"
    buttons(name)
    assert dialog.delete_button.toolTip() == "Delete the selected model's downloaded or imported files"

    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    dialog.import_file("difface-official", junk)
    qtbot.waitUntil(lambda: bool(dialog.notices.notices()), timeout=10000)
    assert [n.level for n in dialog.notices.notices()] == ["error"]
    # no "Manage models…" button in the model manager itself: it would do nothing
    assert dialog.notices.notices()[0].action is None
    labels = [button.text() for button in dialog.notices.findChildren(QPushButton)]
    assert "Manage models…" not in labels
    dialog.reject()  # stops the download thread


def test_an_import_runs_on_the_background_thread_and_installs_the_file(qtbot, tmp_path):
    name = gui_util.install_tiny_model()
    weights = paths.weights_dir() / f"{name}_prior.safetensors"
    mine = shutil.copy(weights, tmp_path / weights.name)
    weights.unlink()
    registry = WatchedRegistry()
    dialog = ModelManagerDialog(registry)
    qtbot.addWidget(dialog)

    with qtbot.waitSignal(dialog.modelsChanged, timeout=30000):
        dialog.import_file(name, mine)
        assert not dialog.import_button.isEnabled()  # one job at a time, while it runs
    assert registry.import_threads and registry.import_threads[0] is not QThread.currentThread()
    assert weights.is_file()
    assert [n.text for n in dialog.notices.notices()] == [f"Imported {mine.name} into Tiny test model: it is installed."]
    renamed = shutil.copy(weights, tmp_path / "downloaded.pth")  # another name: said which file it became, and what is left
    (paths.weights_dir() / f"{name}_restorer.safetensors").unlink()
    weights.unlink()
    with qtbot.waitSignal(dialog.modelsChanged, timeout=30000):
        dialog.import_file(name, renamed)
    assert [n.text for n in dialog.notices.notices()] == [
        f"Imported downloaded.pth as {weights.name} of Tiny test model; it still lacks {name}_restorer.safetensors."]
    dialog.reject()


class StalledRegistry(Registry):
    """The real registry whose download waits, as on a server that stopped sending, until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Event()

    def download(self, name, *, progress=None, on_file=None, should_cancel=None):
        self.started.set()
        self.release.wait(30)
        if should_cancel is not None and should_cancel():
            raise Cancelled("Download cancelled; it will resume where it stopped.")
        return []


def test_cancel_says_so_at_once_and_close_does_not_wait_for_a_stalled_download(qtbot):
    """QA: Cancel download showed nothing for 23 s, and Close during a slow download froze the
    window for 10 s (the dialog waited for the download's thread)."""
    registry = StalledRegistry()
    dialog = ModelManagerDialog(registry)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.table.selectRow([dialog.table.item(r, 0).data(0x0100) for r in range(dialog.table.rowCount())]
                           .index("difface-official"))
    dialog.download_selected()
    assert registry.started.wait(10)
    dialog.cancel_button.click()
    assert dialog.progress.format() == "Cancelling…" and not dialog.cancel_button.isEnabled()
    thread = dialog._runner.thread
    started = time.monotonic()
    dialog.reject()
    assert time.monotonic() - started < 3 and not dialog.isVisible()  # it waited 10 s before
    assert thread.isRunning()  # the download stops on its own thread…
    registry.release.set()
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=10000)  # …which then ends


def test_a_manifest_that_cannot_be_read_is_said_in_the_dialog(qtbot):
    """QA: a user's broken manifest made its model vanish from the window without a word."""
    folder = paths.user_manifests_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.toml").write_text('schema = 1\nname = "broken"\n', encoding="utf-8")
    try:
        dialog = ModelManagerDialog(Registry())
        qtbot.addWidget(dialog)
        [notice] = dialog.notices.notices()
        assert notice.level == "warning" and "broken.toml" in notice.text and "is skipped" in notice.text
        dialog.reject()
    finally:
        (folder / "broken.toml").unlink()


def test_the_settings_model_list_says_which_models_are_missing_and_names_the_default(qtbot):
    """QA: the official model, not installed, could be chosen without a hint, and "Default model"
    did not say which model it is."""
    from faceapp.core.preferences import Preferences
    from faceapp.gui.model_settings import ModelSettings
    from faceapp.gui.settings_dialog import SettingsDialog

    registry = Registry()
    settings = ModelSettings(None, registry=registry)  # (its registry given: no window needed to list models)
    choices = dict(settings._model_choices())
    official = registry.get("difface-official").title
    assert choices["difface-official"] == f"{official} (not installed: see Models…)"
    assert choices["faceapp-compact"] == registry.get("faceapp-compact").title
    dialog = SettingsDialog(Preferences(), models=list(choices.items()), default_model=settings._default_title())
    qtbot.addWidget(dialog)
    assert dialog.model.itemText(0) == f"Default model ({registry.default().title})"


def test_delete_asks_by_title_and_size_and_says_what_it_freed(qtbot, monkeypatch):
    """QA: the question named the model's internal name alone, said nothing of a model that can
    only come back by import, and nothing was said once it was done; old notices stayed on."""
    from PySide6.QtWidgets import QMessageBox

    name = gui_util.install_tiny_model()
    registry = Registry()
    size = registry.status(name).size_text()
    dialog = ModelManagerDialog(registry)
    qtbot.addWidget(dialog)
    dialog.notices.info("an earlier download failed")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, _title, text: asked.append(text)
                        or QMessageBox.StandardButton.Yes)
    dialog.table.selectRow([dialog.table.item(r, 0).data(0x0100) for r in range(dialog.table.rowCount())].index(name))
    dialog._delete()
    [question] = asked
    assert question.startswith(f"Delete the weight files of Tiny test model ({size})?")
    assert "no download address" in question and "import its files again" in question
    [said] = [n.text for n in dialog.notices.notices()]
    assert said == f"Deleted 2 files of Tiny test model, {size} freed."
    assert not registry.is_installed(name)
    dialog.reject()


def test_delete_does_not_count_a_file_another_model_uses_as_freed(qtbot, monkeypatch):
    """Review: the question counted every file of the model, also one another model shares, which
    Delete keeps."""
    from PySide6.QtWidgets import QMessageBox

    name = gui_util.install_tiny_model()
    weights, manifests = paths.weights_dir(), paths.user_manifests_dir()
    shutil.copy(weights / f"{name}_restorer.safetensors", weights / "twin_restorer.safetensors")
    text = (manifests / f"{name}.toml").read_text(encoding="utf-8")  # a twin sharing the prior's file
    (manifests / "twin.toml").write_text(text.replace(f'name = "{name}"', 'name = "twin"').replace(
        f"{name}_restorer.safetensors", "twin_restorer.safetensors"), encoding="utf-8")
    registry = Registry()
    restorer = weights / f"{name}_restorer.safetensors"
    dialog = ModelManagerDialog(registry)
    qtbot.addWidget(dialog)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, _title, text: asked.append(text)
                        or QMessageBox.StandardButton.Yes)
    dialog.table.selectRow([dialog.table.item(r, 0).data(0x0100) for r in range(dialog.table.rowCount())].index(name))
    size = human_size(restorer.stat().st_size)
    dialog._delete()
    [question] = asked
    assert question.startswith(f"Delete the weight files of Tiny test model ({size})?")
    assert f"{name}_prior.safetensors stays: another model uses it." in question
    assert [n.text for n in dialog.notices.notices()] == [f"Deleted 1 file of Tiny test model, {size} freed."]
    assert registry.is_installed("twin") and not restorer.exists()
    dialog.table.selectRow([dialog.table.item(r, 0).data(0x0100) for r in range(dialog.table.rowCount())].index(name))
    assert not dialog.delete_button.isEnabled()  # what it has left is the twin's too: nothing to free
    dialog.reject()


def test_enter_closes_the_models_window_and_tab_leaves_the_table(qtbot, monkeypatch):
    """QA: in a keyboard-only session, Enter on the table started a 700 MB download (Download was
    the default button), and Tab walked the table's cells without ever reaching a button."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    registry = Registry()
    asked = []
    monkeypatch.setattr(registry, "download", lambda *args, **kwargs: asked.append(args))
    dialog = ModelManagerDialog(registry)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    dialog.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(dialog.table.hasFocus)
    dialog.table.selectRow(0)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Tab)
    assert isinstance(QApplication.focusWidget(), QPushButton) and QApplication.focusWidget().window() is dialog
    dialog.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    assert not dialog.isVisible() and asked == []
    again = ModelManagerDialog(registry)  # (opened again, as the window does): a button reached with
    qtbot.addWidget(again)  # Tab, Enter presses it
    again.show()
    again.activateWindow()
    again.table.selectRow(0)
    again.download_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(again.download_button.hasFocus)
    qtbot.keyClick(again.download_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: asked != [], timeout=5000)


def test_a_model_that_cannot_be_used_is_said_in_the_windows_words(qtbot):
    """QA: the window's notice for a damaged model told its user to type faceapp-cli commands."""
    from faceapp.core.errors import ModelNotFoundError
    from faceapp.gui.notifications import notice_for_error

    name = gui_util.install_tiny_model()
    damaged = paths.weights_dir() / f"{name}_prior.safetensors"
    damaged.unlink()
    with pytest.raises(ModelNotFoundError) as caught:
        Registry().require_installed(name)
    assert "faceapp-cli" in str(caught.value)  # (the CLI keeps its own advice)
    notice = notice_for_error(caught.value)
    assert notice.text == (f"The model Tiny test model cannot be used: {damaged.name} (missing). "
                           "Download it, or import its files, in Models…")
    assert (notice.level, notice.action) == ("error", "models")


class TwoFileRegistry(StalledRegistry):
    """A download of two files that stops in the second, until released."""

    def download(self, name, *, progress=None, on_file=None, should_cancel=None):
        on_file("a.pth", 1, 2)
        progress(33_100_000, 33_100_000)
        on_file("b.pth", 2, 2)
        progress(1_000_000, 26_900_000)
        return super().download(name, progress=progress, should_cancel=should_cancel)


def test_a_download_of_several_files_says_which_file_is_under_way(qtbot):
    """QA: the bar showed "1.0 MB of 33.1 MB" for a 60 MB model and started again for the next file."""
    registry = TwoFileRegistry()
    dialog = ModelManagerDialog(registry)
    qtbot.addWidget(dialog)
    dialog.table.selectRow([dialog.table.item(r, 0).data(0x0100) for r in range(dialog.table.rowCount())]
                           .index("difface-official"))
    dialog.download_selected()
    assert registry.started.wait(10)
    qtbot.waitUntil(lambda: dialog.progress.format() == "File 2 of 2: 1.0 MB of 26.9 MB", timeout=5000)
    registry.release.set()
    qtbot.waitUntil(lambda: not dialog._runner.busy, timeout=10000)
    dialog.reject()


window = gui_util.window  # the shared fixture


def test_a_manifest_added_while_the_window_is_open_shows_in_the_models_dialog(window, monkeypatch):
    """QA: a model whose manifest was added after the window opened appeared only after a restart."""
    window.models.registry()  # read once, as the window does at its start
    listed = []
    monkeypatch.setattr(ModelManagerDialog, "exec", lambda dialog: listed.append(sorted(dialog._entries)) or dialog.reject())
    name = gui_util.install_tiny_model("tiny-added-later")
    window.models.open_models()
    assert name in listed[0]


class FloodingRegistry(Registry):
    """A download reporting every few bytes, as a fast link read piece by piece does."""

    def download(self, name, *, progress=None, on_file=None, should_cancel=None):
        on_file("a.pth", 1, 1)
        for done in range(1, 20_001):
            progress(done, 20_000)
        return []


def test_a_fast_downloads_progress_reaches_the_window_a_few_times_a_second(qtbot):
    """Review: every socket read was a queued signal to the window (tens of thousands a file)."""
    dialog = ModelManagerDialog(FloodingRegistry())
    qtbot.addWidget(dialog)
    reports = []
    dialog._relay.progress.connect(lambda done, total: reports.append(done))
    dialog.table.selectRow([dialog.table.item(r, 0).data(0x0100) for r in range(dialog.table.rowCount())]
                           .index("difface-official"))
    with qtbot.waitSignal(dialog.modelsChanged, timeout=10000):
        dialog.download_selected()
    assert reports[0] == 1 and reports[-1] == 20_000 and len(reports) < 100
    dialog.reject()


def test_the_dialog_fits_a_small_screen_with_its_buttons_in_view(qtbot, monkeypatch):
    """QA: at 200 % on a 1280×720 screen (640×360 px free) the dialog opened 720×380, Close off
    the right edge and the Download row half off the bottom. It opens within the screen; the table
    scrolls."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QScreen

    free = QRect(0, 0, 640, 360)
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(free))
    dialog = ModelManagerDialog(Registry())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    title_bar = 30
    assert dialog.width() <= free.width() and dialog.height() + title_bar <= free.height()
    for button in dialog.findChildren(QPushButton):
        if button.isVisible():
            corners = (button.mapTo(dialog, button.rect().topLeft()), button.mapTo(dialog, button.rect().bottomRight()))
            assert all(dialog.rect().contains(corner) for corner in corners), button.text()


def test_at_a_large_font_the_dialog_grows_with_its_text(qtbot):
    """Low-vision QA: at 20 pt the dialog kept its 380 px: one of its two models showed, and the
    description's last line was cut."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    before = QApplication.font()
    large = QFont(before)
    large.setPointSize(20)
    QApplication.setFont(large)
    try:
        dialog = ModelManagerDialog(Registry())
        qtbot.addWidget(dialog)
        room = dialog.screen().availableGeometry()
        assert 380 < dialog.height() <= room.height()
        dialog.reject()
    finally:
        QApplication.setFont(before)

