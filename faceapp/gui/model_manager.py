"""The model manager: installed and available models, download (with cancel), import, delete.

It talks to the core registry only (``Registry().list()``, ``status``, ``download``,
``import_file``, ``delete``); downloads and imports (which hash, maybe convert and copy files of
hundreds of MB) run on a background thread through :class:`TaskRunner`, one at a time.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from faceapp.core.registry import DAMAGED, INSTALLED, MISSING, PARTIAL, UNVERIFIED, USABLE
from faceapp.core.wording import human_size, listed
from faceapp.gui.dialog_patterns import any_case_patterns
from faceapp.gui.look import fit_to_screen
from faceapp.gui.notifications import NotificationArea, Notice
from faceapp.gui.worker import TaskRunner
from faceapp.gui.plain_label import PlainLabel

log = logging.getLogger(__name__)

_COLUMNS = ("Model", "State", "Size", "Licence")
#: The weight files the import dialog lists (what :meth:`Registry.import_file` reads).
WEIGHT_SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")


def entry_name(entry: Any) -> str:
    """The manifest name of a registry entry (entries are objects with ``name`` or plain names)."""
    return str(getattr(entry, "name", entry))


#: File states a download fetches (an installed or unverified file is there already).
_FETCHABLE = frozenset({MISSING, PARTIAL, DAMAGED})


#: The registry's file states in the table's words (copy QA: "missing" read as broken for a model
#: never downloaded, where Settings says "not installed").
_STATE_WORDS = {INSTALLED: "Installed", MISSING: "Not downloaded", PARTIAL: "Partly downloaded",
                DAMAGED: "Damaged", UNVERIFIED: "Not checked yet"}


def state_text(status: Any) -> str:
    """A registry status (enum, object or string) as a few words for the table."""
    value = str(getattr(status, "value", None) or getattr(status, "state", None) or status)
    return _STATE_WORDS.get(value, value.replace("_", " "))


def title_of(entry: Any, name: str) -> str:
    """What a model is called for the user: its title, else its name."""
    return getattr(entry, "title", "") or name


def delete_question(entry: Any, plan: Any) -> str:
    """What Delete asks, from the registry's ``deletion_plan``: the model by its title, the size
    its files free, the files it keeps because another model uses them, and, for a model without a
    download address, that it comes back only by importing its files again (QA: the question named
    the model's internal name alone; review: it counted a file another model shares as freed)."""
    name = getattr(entry, "name", "") or "this model"
    files = [f for f in plan.files if f.size]
    text = f"Delete the weight files of {title_of(entry, name)}" + (f" ({human_size(plan.size)})?" if plan.size else "?")
    shared = [path.name for path, _other in plan.shared]
    if shared:
        one = len(shared) == 1
        text += f" {listed(shared)} {'stays' if one else 'stay'}: another model uses {'it' if one else 'them'}."
    if files and not all(getattr(f.file, "url", "") for f in files):
        text += " It has no download address: to use it again, you would import its files again."
    return text


class _ProgressRelay(QObject):
    """Carries download progress from the worker thread to the dialog (queued signals): bytes of
    the file under way, and which file of how many it is."""

    progress = Signal(object, object)
    file = Signal(int, int)


class ModelManagerDialog(QDialog):
    """Lists models with state and licence; downloads, imports and deletes them."""

    modelsChanged = Signal()

    def __init__(self, registry: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self._registry = registry
        self._runner = TaskRunner(self, name="faceapp-download")
        self._relay = _ProgressRelay()
        self._relay.progress.connect(self._on_progress)
        self._relay.file.connect(self._on_file)
        self._file_of = ""  # "file 1 of 2: " while a download of several files runs
        self._task: str | None = None  # "download" or "import" while the runner has a job
        self._cancelling = False  # the download was asked to stop and has not yet
        self._done_text = ""
        self._statuses: dict[str, Any] = {}  # each listed model's registry status, by name
        self._runner.finished.connect(lambda _job, result: self._task_ended(self._finished_text(result)))
        self._runner.cancelled.connect(lambda *_: self._task_ended("Download cancelled; "
                                                                  "it resumes next time."))
        self._runner.failed.connect(self._on_failed)
        self._runner.busyChanged.connect(lambda _busy: self._update_buttons())

        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setAccessibleName("Models")  # (screen-reader QA: the dialog's first focus had no name)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons (QA: it walked the cells)
        self.table.itemSelectionChanged.connect(self._show_description)
        self.description = PlainLabel()
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.notices = NotificationArea(self, actions=frozenset())  # e.g. no "Manage models…": this is it

        self.download_button = QPushButton("&Download")
        self.cancel_button = QPushButton("Cancel do&wnload")
        self.import_button = QPushButton("&Import file…")
        self.delete_button = QPushButton("D&elete")
        close = QPushButton("&Close")
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self._cancel_download)
        self.import_button.clicked.connect(self._import)
        self.delete_button.clicked.connect(self._delete)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.import_button,
                       self.delete_button):
            buttons.addWidget(button)
        close.setDefault(True)  # Enter closes, unless a button has the focus (QA: it began a 700 MB download)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.notices)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.description)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self.refresh()
        for problem in getattr(registry, "problems", ()):  # (QA: a broken manifest's model just was not listed)
            self.notices.show_notice(Notice(problem, "warning"))
        # (the table scrolls in a smaller one; at a large font it grows with the text: low-vision QA, at
        # 20 pt one of its two rows showed and the description's last line was cut)
        metrics = self.fontMetrics()
        fit_to_screen(self, QSize(max(720, 100 * metrics.averageCharWidth()), max(380, 22 * metrics.lineSpacing())))

    def refresh(self) -> None:
        """Re-read the registry into the table."""
        selected = self.selected_name()
        try:
            entries = list(self._registry.list())
        except Exception as error:  # a broken manifest must not hide the dialog
            log.exception("listing models failed")
            self.notices.show_error(error)
            entries = []
        self._entries = {entry_name(e): e for e in entries}
        self._statuses = {}
        self.table.setRowCount(len(entries))
        default = self._default_name()
        for row, entry in enumerate(entries):
            name = entry_name(entry)
            try:
                status = self._registry.status(name)
                self._statuses[name] = status
                state, size = state_text(status), status.size_text() if hasattr(status, "size_text") else ""
            except Exception as error:
                state, size = f"Cannot be read: {error}", ""
            title = title_of(entry, name)
            cells = (f"{title} · default" if name == default else title, state, size,
                     getattr(entry, "licence", ""))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                item.setData(Qt.ItemDataRole.UserRole, name)
                self.table.setItem(row, column, item)
        if selected in self._entries:
            self.table.selectRow(list(self._entries).index(selected))
        elif default in self._entries:  # (first-hour QA: a 703 MB model not installed was selected, Download offered)
            self.table.selectRow(list(self._entries).index(default))
        elif entries:
            self.table.selectRow(0)
        self._update_buttons()

    def _default_name(self) -> str | None:
        """The model a restore uses when the settings name none (None when that cannot be read)."""
        try:
            return self._registry.default().name
        except Exception:  # no manifests, or a registry without a default: mark nothing
            return None

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def download_selected(self) -> None:
        name = self.selected_name()
        if name is None or self._runner.busy:
            return
        relay = self._relay

        shown = [0.0]  # when progress was last sent: at most 10 a second reach the window (review: one per
        # read), and each file's first

        def progress(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - shown[0] >= 0.1 or done == total:
                shown[0] = now
                relay.progress.emit(done, total)

        def started(_file: str, index: int, count: int) -> None:
            shown[0] = 0.0
            relay.file.emit(index, count)

        def job(should_cancel):
            self._registry.download(name, progress=progress,
                                    on_file=started,
                                    should_cancel=should_cancel)
            return name
            yield  # makes this a generator: the worker drives jobs as generators

        self._start(job, "download", done_text="Download finished.")

    def import_file(self, name: str, path: Path) -> None:
        """Copy a weight file into the registry for model ``name`` on the background thread
        (it is verified, maybe converted, then copied); errors are reported as notices."""
        if self._runner.busy:
            return

        def job(should_cancel):
            return name, path, self._registry.import_file(name, path)
            yield  # makes this a generator: the worker drives jobs as generators

        self._start(job, "import", done_text=f"Imported {path.name}.")

    def _finished_text(self, result: Any) -> str:
        """What a finished job says: an import names the file it became and what the model still
        lacks (QA: "Imported renamed.safetensors." left a user of a two-file model guessing)."""
        if self._task != "import" or not isinstance(result, tuple):
            return self._done_text
        name, source, dest = result
        entry = self._entries.get(name)
        try:
            missing = [f.file.name for f in self._registry.status(name).files if f.state not in USABLE]
        except Exception:  # (the listing says what it can)
            missing = []
        dest_name, given = Path(dest).name, Path(source).name
        text = f"Imported {given}" + (f" as {dest_name} of" if dest_name != given else " into") + f" {title_of(entry, name)}"
        return text + (f"; it still lacks {', '.join(missing)}." if missing else ": it is installed.")

    def _start(self, job: Any, task: str, *, done_text: str) -> None:
        self._task, self._done_text, self._cancelling, self._file_of = task, done_text, False, ""
        self.notices.clear()  # what was said of earlier work (QA: a failed download's notice stayed on)
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self.progress.setVisible(True)
        self._runner.submit(job)
        self._update_buttons()

    def _cancel_download(self) -> None:
        """Ask the download to stop; said at once, while it finishes the read under way."""
        self._runner.cancel()
        self._cancelling = True
        self.progress.setFormat("Cancelling…")
        self._update_buttons()

    def _on_file(self, index: int, count: int) -> None:
        """A download's next file starts (QA: the bar started again at 0 with nothing saying so)."""
        self._file_of = f"File {index} of {count}: " if count > 1 else ""

    def _on_progress(self, done: int, total: int | None) -> None:
        if self._cancelling:
            return  # its "Cancelling…" stays
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{self._file_of}{human_size(done)} of {human_size(total)}")
        else:
            self.progress.setFormat(self._file_of + human_size(done))

    def _task_ended(self, message: str) -> None:
        self._task = None
        self.progress.setVisible(False)
        self.notices.info(message)
        self.refresh()
        self.modelsChanged.emit()

    def _on_failed(self, _job: int, error: BaseException) -> None:
        self._task = None
        self.progress.setVisible(False)
        self.notices.show_error(error)
        self.refresh()

    def _import(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, f"Import a weight file for {name}", "",
                                              f"Weights ({any_case_patterns(WEIGHT_SUFFIXES)})")
        if path:
            self.import_file(name, Path(path))

    def _delete(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        self.notices.clear()  # what was said of earlier work (QA: a failed download's notice stayed on)
        try:
            plan = self._registry.deletion_plan(name)
        except Exception as error:  # (a manifest removed meanwhile)
            self.notices.show_error(error)
            return
        answer = QMessageBox.question(self, "Delete model", delete_question(self._entries.get(name), plan))
        if answer == QMessageBox.StandardButton.Yes:
            try:
                result = self._registry.delete(name)
            except Exception as error:
                self.notices.show_error(error)
            else:  # what went, not what was asked (a file another model shares stays)
                deleted = set(getattr(result, "deleted", ()))
                freed = sum(f.size for f in plan.files if f.path in deleted)
                count = len(deleted)
                self.notices.info(f"Deleted {count} file{'s' if count != 1 else ''} of {title_of(self._entries.get(name), name)}"
                                  + (f", {human_size(freed)} freed." if freed else "."))
            self.refresh()
            self.modelsChanged.emit()

    def _show_description(self) -> None:
        entry = self._entries.get(self.selected_name() or "")
        text = " ".join(str(getattr(entry, "description", "")).split()) if entry else ""
        homepage = getattr(entry, "homepage", "") if entry else ""
        self.description.setText(text + (f"\n{homepage}" if homepage else ""))
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Each button by what it can do for the selected model: Download while a file with an
        address is missing, Import while a file is not bundled, Delete while a downloaded or
        imported file is on disk that no other model uses (bundled files are never deleted)."""
        name = self.selected_name()
        status = self._statuses.get(name or "")
        files = list(getattr(status, "files", ()))
        own = [f for f in files if not getattr(f, "bundled", False)]
        busy = self._runner.busy
        unreadable = name is not None and status is None  # its status could not be read: importing may mend it
        fetchable = any(f.file.url and f.state in _FETCHABLE for f in own)
        deletes = self._deletes_something(name)
        # each says what it does, or why it is off (smoke QA: greyed buttons said nothing)
        working = "Available once the task under way is done" if name is not None else "Select a model first"
        for button, on, tip, off in (
                (self.download_button, not busy and fetchable, "Download the selected model's missing files",
                 working if busy or name is None else "Nothing to download: its files are here, bundled, or have no download address"),
                (self.cancel_button, busy and self._task == "download" and not self._cancelling,
                 "Stop the download under way", "No download under way"),
                (self.import_button, not busy and (bool(own) or unreadable),
                 "Give the selected model a weight file from disk (checked before it is used)",
                 working if busy or name is None else "Its files are bundled with faceapp: nothing to import"),
                (self.delete_button, not busy and deletes, "Delete the selected model's downloaded or imported files",
                 working if busy or name is None else "Nothing to delete: its files are bundled, missing or another "
                 "model's too")):
            button.setEnabled(on)
            button.setToolTip(tip if on else off)

    def _deletes_something(self, name: str | None) -> bool:
        """Whether Delete would free a file of ``name`` (review: a model whose files on disk are all
        another model's too could be "deleted", freeing nothing)."""
        try:
            return name is not None and self._registry.deletion_plan(name).size > 0
        except Exception:  # (a manifest gone meanwhile: the next refresh says so)
            return False

    def done(self, result: int) -> None:  # noqa: D401 (Qt override)
        """Close at once: a download under way is cancelled and left to stop on its own thread,
        which outlives the dialog (QA: closing during a slow download froze the window for 10 s)."""
        if self._runner.busy:
            runner = self._runner
            for signal in (runner.finished, runner.failed, runner.cancelled, runner.busyChanged):
                signal.disconnect()
            self._relay.progress.disconnect()
            self._relay.file.disconnect()
            runner.cancel()
            app = QApplication.instance()
            runner.setParent(app)
            # quitting meanwhile waits for it (a stalled server: its socket timeout), rather than
            # destroying a running thread
            def at_quit() -> None:
                runner.shutdown(timeout_ms=40_000)

            def ended(busy: bool) -> None:
                if not busy:
                    app.aboutToQuit.disconnect(at_quit)
                    runner.shutdown()
                    runner.deleteLater()

            app.aboutToQuit.connect(at_quit)
            runner.busyChanged.connect(ended)
        else:
            self._runner.shutdown()
        super().done(result)
