"""Save, Save As, Export all and dragging the result out: the window's export actions.

Each action asks what it needs on the UI thread (a file name, a quality, a folder), takes a
snapshot of the photo as it is at that moment (its current gallery choices included), and queues
a job that writes the file on the session's export thread: encoding a 24-megapixel photo
upscaled ×4 takes about 26 s as PNG, and the window keeps working meanwhile. The status bar shows
what is being saved (photo by photo for Export all, which its Cancel button stops between
photos); the written path goes to the status bar, an error to a notice with a next step.
Closing the window while a file is being written waits for it, so no file is left half-written.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDrag, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QMainWindow,
    QProgressBar,
    QToolButton,
    QWidget,
)

from faceapp.core.errors import ExportError
from faceapp.core.export import EXTENSIONS, FORMAT_LABELS, FORMATS, LOSSY_FORMATS, destination_problem
from faceapp.core.photo_inputs import is_folder
from faceapp.core.wording import counted, listed
from faceapp.gui import confirm
from faceapp.gui.backend import ExportStep
from faceapp.gui.job_queue import QueuedJob
from faceapp.gui.notifications import Notice, error_sentence
from faceapp.gui.plain_label import PlainLabel

log = logging.getLogger(__name__)

_FILTERS = {"PNG": "PNG (*.png)", "JPEG": "JPEG (*.jpg *.jpeg)", "WEBP": "WebP (*.webp)", "TIFF": "TIFF (*.tif *.tiff)"}
_SAVE_FILTERS = ";;".join(_FILTERS.values())


def save_as_target(name: str, chosen_filter: str) -> Path:
    """The file Save as writes for the ``name`` typed and the file type ``chosen_filter``: a name
    with a known extension keeps it (what was typed wins over the list), one without gets the
    chosen type's extension."""
    path = Path(name)
    if path.suffix.lower() in FORMATS:
        return path
    fmt = next((f for f, text in _FILTERS.items() if text == chosen_filter), "PNG")
    return path.with_name(path.name + EXTENSIONS[fmt])


#: Whether the save panel is macOS's own: it asks before replacing a file whatever Qt tells it
#: (DontConfirmOverwrite is not supported there), so faceapp asking as well asked twice (portability QA).
_PANEL_ASKS_TO_REPLACE = sys.platform == "darwin"


def _asked_to_replace(name: str, target: Path) -> bool:
    """Whether the save panel asked already before replacing ``target``, the file ``name`` it gave."""
    return (_PANEL_ASKS_TO_REPLACE and target == Path(name)
            and not QApplication.testAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs))


def filter_for(path: Path) -> str:
    """The Save as file type that matches ``path``'s extension (PNG when none does)."""
    return _FILTERS.get(FORMATS.get(path.suffix.lower(), "PNG"), _FILTERS["PNG"])


@dataclass
class _Export:
    """One Save, Save as or Export all in the queue, and what its summary says when it ends (each
    its own: review, two Export alls queued one after the other shared one set of counts)."""

    kind: str  # "save" or "export_all"
    paths: list[Path]  # the photos it writes
    written: list[Path] = field(default_factory=list)  # the files written so far
    made_folders: set[Path] = field(default_factory=set)  # the folders it made, not being there
    already_there: int = 0  # Export all: photos saved in its folder before, left as they are
    not_restored: list[Path] = field(default_factory=list)  # Export all: photos without a result to save…
    faceless: list[Path] = field(default_factory=list)  # …and those of them in which no face was found
    results: list[Any] = field(default_factory=list)  # each photo's result as it was queued (its choices too)
    beside: bool = False  # written where Save writes (beside the original, or the output folder): not Save as


class ExportStatus(QWidget):
    """The status bar's export indicator: what is being saved, a progress bar and Cancel."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = PlainLabel()
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Saving progress")  # (accessibility QA: it had no name)
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop Export all after the photo being written")
        self.cancel_button.clicked.connect(self.cancelRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setVisible(False)

    def show_step(self, text: str, done: int | None, total: int, *, cancellable: bool) -> None:
        """Show ``text`` with ``done`` of ``total`` photos, or a busy bar when ``done`` is None."""
        self.label.setText(text)
        self.bar.setRange(0, 0 if done is None else total)
        if done is not None:
            self.bar.setValue(done)
        self.cancel_button.setVisible(cancellable)
        self.setVisible(True)


class ExportFlow(QObject):
    """The export actions of ``window`` (a MainWindow: ``current``, ``session``, ``notices``)."""

    #: The files one Save, Save as or Export all wrote, also when it failed or stopped early.
    saved = Signal(object)
    #: A close that waited for files to be written was called off: one of them failed.
    closeAbandoned = Signal()

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._queue = window.session.export_queue
        self._close_when_done = False
        self._closing_notice = ""  # the notice saying the window closes once the files are written
        self._in_flight: list[_Export] = []  # the saves queued or running
        #: the folder Export all wrote into last: its dialog starts there, and the close question names it
        self.last_export_folder: Path | None = None
        self.status = ExportStatus()
        window.statusBar().addPermanentWidget(self.status)
        self.status.cancelRequested.connect(self.cancel)
        self._queue.busyChanged.connect(self._busy_changed)

    @property
    def busy(self) -> bool:
        """Whether a file is being written or waits to be."""
        return self._queue.busy

    def save(self) -> bool:
        """Save the shown photo next to its original (or into the output folder the settings name)
        under a new name; returns whether it started. A photo already saved there as it is now is not
        written again (Save as writes a copy)."""
        current = self._window.current
        if current is None:
            return False
        session = self._window.session
        if current not in session.entries:
            return False
        # saved where Save saves (the output folder, or beside the original): not written again; saved
        # elsewhere only (Export all into another folder, Save as), it is saved here too (QA)
        try:
            folder = session.backend.default_output_path(current, session.prefs).parent
        except ExportError as error:  # no name for it (a photo's name too long for a result's): said
            self._failed(_Export("save", [current]), error)
            return False
        if self._being_written(current, beside=True):  # (review: a second Ctrl+S wrote a second, numbered copy)
            self._window.say(f"{current.name} is being saved.")
            return False
        if session.saved_in(current, folder):
            # a notice with Save as… on it, taken down once the photo is saved again (GUI QA: it stayed
            # beside the next "Saved"), not a passing message
            self._window.notices.show_notice(Notice(
                f"{current.name} is saved already, as {session.saved_file(current)}: Save as… writes a copy.",
                "info", "save_as", "Save as…", current))
            return False
        return self._start(_Export("save", [current], beside=True))

    def _being_written(self, path: Path, *, beside: bool = False) -> bool:
        """Whether a save queued or running writes ``path`` as it is now (another gallery choice since is
        another picture, saved again); ``beside``: one where Save writes (not Save as, nor Export all
        into a folder of its own: review, Ctrl+S was refused while those ran)."""
        result = self._window.session.entries[path].result
        return result is not None and any(
            shot == path and queued is not None and result.same_picture(queued)
            for export in self._in_flight if export.beside or not beside
            for shot, queued in zip(export.paths, export.results, strict=True))

    def unsaved(self) -> list[Path]:
        """The photos whose result is not saved as it is now, and not being saved either."""
        return [path for path in self._window.session.unsaved() if not self._being_written(path)]

    def save_unsaved(self, leaving: frozenset[Path] | set[Path] = frozenset()) -> bool:
        """Save every photo whose result is not saved (nor being saved), each next to its original,
        but those in ``leaving`` (the user chose to lose them)."""
        unsaved = [path for path in self.unsaved() if path not in leaving]
        return bool(unsaved) and self._start(_Export("save", unsaved, beside=True))

    def save_as(self) -> bool:
        """Ask for a name, format and quality, then save the shown photo there."""
        window = self._window
        if window.current is None:
            return False
        session = window.session
        suggestion = session.backend.suggested_output_path(window.current, session.prefs)  # (too long: shortened)
        # (replacing a file is asked here, once it is known not to be the original photo; macOS's panel asks itself)
        name, chosen = QFileDialog.getSaveFileName(window, "Save as", str(suggestion), _SAVE_FILTERS,
                                                   filter_for(Path(suggestion)),
                                                   QFileDialog.Option.DontConfirmOverwrite)
        if not name:
            return False
        target = save_as_target(name, chosen)
        problem = destination_problem(target, window.current)
        if problem is not None:  # refused before any question
            window.notices.show_notice(Notice(error_sentence(ExportError(problem)), "error", "save_as", "Save as…",
                                              window.current))
            return False
        if target.exists() and not _asked_to_replace(name, target) and confirm.ask_before_discarding(
                window, f"{target.name} already exists. Replace it?", discard="Replace") != "discard":
            return False
        quality = session.prefs.quality
        if FORMATS[target.suffix.lower()] in LOSSY_FORMATS:
            label = FORMAT_LABELS[FORMATS[target.suffix.lower()]]  # (GUI QA: the box said not of what)
            quality, ok = QInputDialog.getInt(window, f"{label} quality", f"{label} quality of {target.name} (1–100; "
                                              "higher keeps more detail in a larger file)", quality, 1, 100)
            if not ok:
                return False
        # A taken name was asked about above: that file is replaced (never the original).
        return self._start(_Export("save", [window.current]), dest=target, quality=quality, replace=True)

    def export_all(self) -> bool:
        """Ask for a folder and save every restored photo into it, one after another."""
        remembered = self._window.store.export_folder()  # (an earlier session's, where it is still there)
        start = (self.last_export_folder or (remembered if remembered is not None and is_folder(remembered) else None)
                 or self._window.session.prefs.output_folder or self._window.start_folder())
        folder = QFileDialog.getExistingDirectory(self._window, "Export all restored photos to", str(start))
        if not folder:
            return False
        if Path(folder).resolve() == Path(Path(folder).resolve().anchor):
            # QA: Qt's own folder dialog, a path typed into it twice, gave "/" and the photos went there
            answer = confirm.ask_before_discarding(
                self._window, f"Save the restored photos into {folder}, the top folder of the disk?",
                discard="Save there")
            if answer != "discard":
                return False
        session = self._window.session
        restored = session.restored()
        todo = [path for path in restored if not session.saved_in(path, Path(folder))]
        if restored and not todo:
            self._window.notices.info(f"Every restored photo is saved in {folder} already, as it is now.")
            return False
        not_restored = [path for path, entry in session.entries.items() if entry.photo is not None and entry.result is None]
        export = _Export("export_all", todo, already_there=len(restored) - len(todo), not_restored=not_restored,
                         faceless=[path for path in not_restored if not session.entries[path].faces])
        self.last_export_folder = Path(folder)
        self._window.store.set_export_folder(Path(folder))
        return self._start(export, folder=Path(folder))

    def cancel(self) -> None:
        """Stop Export all after the photo being written (a single photo is always finished)."""
        self._queue.cancel(kinds=("export_all",))

    def drag_out(self, path: Path | None = None) -> None:
        """Drag the result of ``path`` (default: the shown photo) to another app; when it has not
        been saved as it is now, save it first (in the background) and ask the user to drag
        again once it is written. A photo not restored gives its own file, as a file manager's
        would (desktop QA: its drag was an error, "press Restore first")."""
        window = self._window
        path = path or window.current
        if path is None or path not in window.session.entries:
            return
        restored = window.session.entries[path].result is not None
        target = window.session.saved_file(path) if restored else path
        if target is None:
            if self._being_written(path, beside=True):  # (review: a second drag wrote a second, numbered copy)
                window.notices.info("The result is being saved: drag it out again once it is saved.")
            elif self._start(_Export("save", [path], beside=True)):
                window.notices.info("Saving the result first: drag it out again once it is saved.")
            return
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(target))])
        drag = QDrag(window)
        drag.setMimeData(mime)
        shown = (window.session.after if restored else window.session.before).get(path)
        if shown is not None:
            drag.setPixmap(QPixmap.fromImage(shown.thumbnail))
        drag.exec(Qt.DropAction.CopyAction)

    @property
    def closing(self) -> bool:
        """Whether the window closes once the files being written are."""
        return self._close_when_done

    def may_close(self) -> bool:
        """Whether the window may close now; if a file is being written, it closes once written."""
        if not self._queue.busy:
            return True
        if not self._close_when_done:
            self._close_when_done = True
            files = [queued.kind for queued in (self._queue.current(), *self._queue.pending()) if queued is not None]
            if set(files) <= {"mask"}:  # a damage mask's file: a second's work, which no Cancel stops (review)
                text = "faceapp will close once the damage mask being saved is written."
            else:
                text = ("faceapp will close once the files being saved are written. To stay open, press Cancel "
                        "in the status bar (it stops after the photo being written).")
            self._closing_notice = text
            self._window.notices.show_notice(Notice(text, "warning"))
        return False

    # ---- the job's callbacks (UI thread) ---------------------------------------------------
    def _start(self, export: _Export, **options) -> bool:
        paths = export.paths
        try:
            job = self._window.session.export_job(paths, **options)
        except ExportError as error:
            self._failed(export, error)
            return False
        export.results = [self._window.session.entries[path].result for path in paths]
        self._in_flight.append(export)

        def ended(callback):
            def call(*args):
                self._in_flight.remove(export)
                callback(*args)
            return call

        self._queue.add(QueuedJob(
            job, export.kind, paths[0] if len(paths) == 1 else None,
            on_progress=lambda step: self._step(step, export),
            on_done=ended(lambda _files: self._done(export)),
            on_failed=ended(lambda error: self._failed(export, error)),
            on_cancelled=ended(lambda: self._stopped(export)),
        ))
        return True

    def _step(self, step: ExportStep, export: _Export) -> None:
        if step.written is not None:
            export.written.append(step.written)
            self._window.session.record_saved(step)
        if step.made_folder is not None:
            export.made_folders.add(step.made_folder)
        name = step.snapshot.source.name
        if step.total == 1:
            self.status.show_step(f"Saving {name}…", None, 1, cancellable=False)
        else:
            self.status.show_step(f"Saving {step.index + 1} of {step.total}: {name}",
                                  step.index + (step.written is not None), step.total, cancellable=True)

    def _done(self, export: _Export) -> None:
        kind, written, made = export.kind, export.written, export.made_folders
        if written:  # an export like one that failed worked (another folder, space made): its error goes
            if kind == "export_all":
                self._window.notices.withdraw("export_all", None)
            else:  # (only that photo's: another's failed save still stands)
                self._window.notices.withdraw("save_as", export.paths[0])
        if written and kind != "export_all":  # (Export all's notice below says where they went)
            # (GUI race QA: a folder deleted while its photo was open was made again without a word)
            self._window.say(f"Saved {written[-1]}" + (" (its folder was not there, so it was made)"
                                                       if written[-1].parent in made else ""))
        if kind == "export_all":
            where = f" to {written[0].parent}" if written else ""
            where += " (the folder was not there, so it was made)" if written and written[0].parent in made else ""
            there = (f" {counted(export.already_there, 'photo')} saved there before, as they are now, left as "
                     "they are." if export.already_there else "")
            waiting = ""
            if later := [p for p in export.not_restored if p not in export.faceless]:
                waiting = f" Not restored yet, so not saved: {listed([p.name for p in later], most=5)}."
            if export.faceless:  # (QA: called "not restored yet", as if they would be)
                waiting += f" No face found, so not saved: {listed([p.name for p in export.faceless], most=5)}."
            self._window.notices.info(f"Saved {counted(len(written), 'photo')}{where}.{there}{waiting}")
        self.saved.emit(written)

    def _failed(self, export: _Export, error: BaseException) -> None:
        kind, written, paths = export.kind, export.written, export.paths
        total = len(paths)
        self._call_off_close()  # stay open: the user should see what went wrong
        if not isinstance(error, ExportError):
            self._window.notices.show_error(error)
        elif kind == "export_all":
            self._window.notices.show_notice(Notice(
                f"{error_sentence(error)} {len(written)} of {counted(total, 'photo')} saved before this.",
                "error", "export_all", "Export to another folder…"))
        else:
            self._window.notices.show_notice(Notice(error_sentence(error), "error", "save_as", "Save as…", paths[0]))
        self.saved.emit(written)

    def _stopped(self, export: _Export) -> None:
        self._call_off_close()  # the unsaved rest would be lost: stay open
        what = "Export all" if export.kind == "export_all" else "Saving"
        self._window.notices.info(f"{what} stopped: {len(export.written)} of {counted(len(export.paths), 'photo')} saved.")
        self.saved.emit(export.written)

    def _busy_changed(self, busy: bool) -> None:
        if busy:
            return
        self.status.setVisible(False)
        if self._stop_waiting_to_close():  # once (flakiness QA: the close came to a deleted window in a
            # later test); with the window as the timer's context, never after it is gone
            QTimer.singleShot(0, self._window, self._window.close)  # after the job's signals have been handled

    def _call_off_close(self) -> None:
        """A close that waited for the files no longer happens (a save failed or was stopped): say so."""
        if self._stop_waiting_to_close():
            self.closeAbandoned.emit()

    def _stop_waiting_to_close(self) -> bool:
        """Whether a close waited for the files; it waits no longer, and the notice that said the window
        would close is taken down (its close may yet be refused, or be called off: sceptic QA, review)."""
        if not self._close_when_done:
            return False
        self._close_when_done = False
        self._window.notices.take_down(self._closing_notice)
        return True
