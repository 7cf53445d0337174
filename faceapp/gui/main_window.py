"""The main window: layout and wiring only. State and work live in :class:`Session`.

Beside it: :mod:`~faceapp.gui.actions` (the actions, menus and toolbar),
:mod:`~faceapp.gui.run_panel` (fidelity, Restore/Cancel, live preview),
:mod:`~faceapp.gui.export_flow` (saving) and :mod:`~faceapp.gui.model_settings` (settings, models).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStyle,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from faceapp import __version__, paths
from faceapp.gui import confirm
from faceapp.gui.about_dialog import about_dialog
from faceapp.gui.actions import ACTIONS, build_actions, install_menus, plain_menu_text, set_tip, set_unavailable
from faceapp.gui.announcer import announce
from faceapp.gui.appearance import APPEARANCE_NAMES, apply_appearance
from faceapp.core.application import features_hidden_by_paint, sparing_choice
from faceapp.core.damage import mask_warning
from faceapp.core.errors import FaceappError
from faceapp.core.pathtext import message_text, path_text
from faceapp.core.photo_io import check_image_size
from faceapp.core.mask_editing import MaskEditor, default_brush_radius
from faceapp.core.mask_files import MASK_SUFFIXES, mask_file_for
from faceapp.core.photo_inputs import exists, is_folder, no_photos_text, recent_entries
from faceapp.core.preferences import PHOTO_SUFFIXES, Preferences
from faceapp.core.photo_restore import candidates_not_made_again
from faceapp.core.wording import counted, duration, listed, percent
from faceapp.gui.backend import CoreBackend
from faceapp.gui.compare_view import CompareView, FaceOutline
from faceapp.gui.context_menus import ContextMenus
from faceapp.gui.damage_overlay import DamageOverlay
from faceapp.gui.dialog_patterns import any_case_patterns
from faceapp.gui.elided_label import ElidedLabel
from faceapp.gui.export_flow import ExportFlow
from faceapp.gui.file_open import FileOpenRelay
from faceapp.gui.filmstrip import CHANGED_STATE, SAVED_STATE, Filmstrip
from faceapp.gui.icons import icon
from faceapp.gui.model_settings import ModelSettings
from faceapp.gui.notifications import NotificationArea, Notice, error_sentence, notice_for_error, sentence
from faceapp.gui.offered_photos import may_offer_photos, photos_offered
from faceapp.gui.qimage import qimage_to_arrays, rgb_to_qimage
from faceapp.gui.photo_words import TO_OPEN, chosen_face_text, detector_index, photo_text, zoom_text
from faceapp.gui.run_panel import RunPanel
from faceapp.gui.seed_gallery import SeedGallery
from faceapp.gui.side_panel import SidePanel
from faceapp.gui.session import Session
from faceapp.gui.settings_store import SettingsStore, invalid_text
from faceapp.gui.how_it_works import HowItWorksDialog
from faceapp.gui.message_log import MessageLog, MessagesDialog
from faceapp.gui.shortcuts_dialog import ShortcutsDialog
from faceapp.gui.unavailable import reasons_off

log = logging.getLogger(__name__)



def _names(paths: list[Path]) -> str:
    """Up to three photos' names, and how many more."""
    return listed([p.name for p in paths])


def _libraries_text(notices: Path | None) -> str:
    """What About says of the libraries faceapp is built on (release QA: it named the models' and
    the detector's licences alone)."""
    where = (f"their notices and licences are in {notices}" if notices is not None else
             "their licences are installed with them")
    return f"Built on Python, Qt (PySide6, LGPL-3.0), PyTorch, OpenCV, NumPy, Pillow and facexlib: {where}."


#: The least width (px) the status bar's shortening labels (time, model, device) keep beside a message.
_LEAST_STATUS_LABEL = 60

#: What a tool's action says as it is taken up: how it is used from the keyboard.
_TOOL_HINTS = {
    "draw_box": "Face box: drag around a face, or press an arrow key to place one (the arrows move it, + / - resize "
                "it, Enter adds it, Esc leaves)",
    "damage_brush": "Damage brush: paint with the mouse (a right drag erases), or press an arrow key to place it "
                    "(Shift + arrows paint, Space dabs, [ / ] size, E erases, Esc leaves)",
}


class MainWindow(QMainWindow):
    """faceapp's window: filmstrip, compare view, fidelity slider, seed gallery, export."""

    def __init__(self, *, store: SettingsStore | None = None, backend: CoreBackend | None = None,
                 registry=None) -> None:
        super().__init__()
        self.setWindowTitle("faceapp")
        self.setWindowIcon(icon("faceapp"))
        self.setAcceptDrops(True)
        self.store = store or SettingsStore()
        self.session = Session(backend or CoreBackend(), self.store.load(), self)
        self.current: Path | None = None
        #: the face each photo's gallery showed last (its number), shown again when the photo is
        #: (keyboard QA: back on a photo, the gallery was on face 1 again)
        self._gallery_faces: dict[Path, int] = {}
        self._hidden_said: dict[Path, str] = {}  # the features-hidden warning last given for a photo's paint
        self._masks_offered: dict[Path, Path] = {}  # the mask file each photo's "Load it" notice names
        self._fidelity_unsaved = False  # moved since the preferences were last written
        self._settings_problem: str | None = None  # said already: the settings file's
        self._waiting_noted: tuple[Path, ...] = ()  # the waiting photos last said to keep their settings
        self._discard_ok: set[Path] | None = None  # the unsaved photos the user agreed to close without
        self._strokes_let_go: set[Path] = set()  # the photos whose unrestored strokes the user agreed to lose
        self._asking = False  # a close question is open (a second close waits for its answer)
        self._removals = 0  # times every photo was removed (a paste written since an earlier one is still opened)
        self.actions_ = build_actions(self)
        self._file_opens = FileOpenRelay(self, self._open_handed)
        self.exports = ExportFlow(self)
        self.models = ModelSettings(self, registry=registry)
        self._build_widgets()
        submenus = install_menus(self, self.actions_)
        self.recent_menu, self.faces_menu = submenus["recent"], submenus["faces"]
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.faces_menu.aboutToShow.connect(self._fill_faces)
        self._appearances = QActionGroup(self)
        for name, text in APPEARANCE_NAMES.items():
            choice = submenus["appearance"].addAction(text)
            choice.setCheckable(True)
            choice.setData(name)
            self._appearances.addAction(choice)
        self._appearances.triggered.connect(self._choose_appearance)
        self.show_appearance()
        self._wire()
        self._restore_window_state()
        self._refresh_enabled()
        self.models.show_fidelity()
        self.models.show_model_and_device()
        self.models.show_save_destination()
        self.models.check_models()
        if self.store.partly_read:
            self._say_settings_problem(self.store.problem(), "Some settings could not be read", after="")
        else:  # (a read-only file read whole: its settings are used, but cannot be saved)
            self._say_settings_problem(self.store.problem(), "Settings cannot be saved" if self.store.was_read
                                       else "Settings could not be read, so the defaults are used")
        if self.store.invalid_on_load:  # (QA: a hand-edited fidelity of 7 went back to the default without a word)
            newer = ("The settings file is from a newer faceapp: settings this one does not know are left in it "
                     "as they are, and used here at their defaults: ") if self.store.from_newer_version else ""
            self.notices.show_notice(Notice(
                (newer or "Settings that were not valid went back to their defaults: ")
                + f"{invalid_text(self.store.invalid_on_load)}.", "warning", "settings", "Settings…"))

    # ---- layout ----------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.notices = NotificationArea(self)
        self.messages = MessageLog()  # (View ▸ Messages: what went by itself can be read again)
        self.notices.shown.connect(lambda notice: self.messages.add(notice.level, notice.text))
        self.compare = CompareView()
        self.damage = DamageOverlay(self.compare)
        self.filmstrip = Filmstrip()
        self.gallery = SeedGallery()
        self.run_panel = RunPanel(self.models.shown_fidelity())
        self.fidelity = self.run_panel.fidelity
        self.restore_button = self.run_panel.restore_button
        self.restore_button.setToolTip(self.actions_["restore"].toolTip())
        self.cancel_button = self.run_panel.cancel_button
        self.cancel_button.setToolTip(self.actions_["cancel"].toolTip())

        self.side_panel = SidePanel(self.run_panel, self.gallery)
        QApplication.instance().focusChanged.connect(self._scroll_to_focus)

        # Notices float over the top of the photo: across the window each one pushed the side panel
        # down (a button moved from under the pointer as it was clicked), and above the photo it
        # moved the photo under a brush stroke (QA).
        self.notices.float_over(self.compare)
        self.notices.coveredChanged.connect(self.compare.set_covered_top)  # (face tags stay clickable below it)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.compare)
        self.splitter.addWidget(self.side_panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setCollapsible(0, False)  # the photo, and the notices floating over it, stay in sight
        self.splitter.setCollapsible(1, False)  # and the panel: no menu brings a collapsed one back (QA)
        self.splitter.setSizes([900, 340])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.filmstrip)
        self.setCentralWidget(central)

        self.progress_bar = QProgressBar()
        self.progress_bar.setAccessibleName("Progress")  # (its text, the photo and percentage, is its value)
        self._fit_progress_bar()
        self.progress_bar.setVisible(False)
        self.zoom_label = QLabel()
        self.zoom_label.setToolTip("Zoom of the photo shown (View ▸ Fit, 100 %, or the mouse wheel)")
        # the longer labels shorten in a narrow window, and make room while a message is shown
        self.time_label = ElidedLabel("No run yet")
        self.model_label = ElidedLabel()
        self.device_label = ElidedLabel()
        self.statusBar().addPermanentWidget(self.progress_bar)
        for label in (self.zoom_label, self.time_label, self.model_label, self.device_label):
            label.setContentsMargins(10, 0, 6, 0)
            self.statusBar().addPermanentWidget(label)
        self.statusBar().messageChanged.connect(self._make_room_for_message)

    def _wire(self) -> None:
        a, s = self.actions_, self.session
        a["open"].triggered.connect(self.open_files)
        a["open_folder"].triggered.connect(self.open_folder)
        a["paste"].triggered.connect(self.paste)
        a["copy"].triggered.connect(self.copy_photo)
        a["save"].triggered.connect(self.exports.save)
        a["save_as"].triggered.connect(self.exports.save_as)
        a["export_all"].triggered.connect(self.exports.export_all)
        a["remove"].triggered.connect(self.remove_current)
        a["remove_all"].triggered.connect(self.remove_all)

        a["show_in_folder"].triggered.connect(self.show_in_folder)
        a["copy_path"].triggered.connect(self.copy_path)
        a["full_screen"].toggled.connect(self._full_screen)
        a["quit"].triggered.connect(self.close)
        a["restore"].triggered.connect(self.restore_current)
        a["restore_all"].triggered.connect(self.restore_all)
        # photos still opening wait for it: Cancel gives them up (review: offered only once one opened)
        a["restore_all"].triggered.connect(self._refresh_enabled)
        a["cancel"].triggered.connect(s.cancel)
        a["draw_box"].toggled.connect(self.compare.set_draw_mode)
        a["draw_box"].toggled.connect(lambda on: on and a["damage_brush"].setChecked(False))
        a["draw_box"].toggled.connect(  # its keys work at once
            lambda on: on and self.compare.setFocus(Qt.FocusReason.ShortcutFocusReason))
        a["damage_brush"].toggled.connect(self.damage.set_brush)
        a["damage_brush"].toggled.connect(  # its keys work at once
            lambda on: on and self.compare.setFocus(Qt.FocusReason.ShortcutFocusReason))
        a["damage_brush"].toggled.connect(lambda on: on and a["draw_box"].setChecked(False))
        a["damage_brush"].toggled.connect(lambda _on: self._refresh_enabled())
        a["damage_brush"].toggled.connect(lambda on: on or a["eraser"].setChecked(False))  # the brush paints when next taken up
        self.damage.maskChanged.connect(self._damage_changed)
        self.compare.zoomChanged.connect(self._show_zoom)
        self.session.workingOn.connect(lambda path, index: path == self.current and self.compare.set_working_face(index))
        a["eraser"].toggled.connect(self.damage.set_eraser)
        for tool in ("draw_box", "damage_brush"):  # notices over the photo let a tool reach it
            a[tool].toggled.connect(lambda _on: self.notices.step_aside(
                a["draw_box"].isChecked() or a["damage_brush"].isChecked()))
        a["brush_bigger"].triggered.connect(lambda: self._resize_brush(1.4))
        a["brush_smaller"].triggered.connect(lambda: self._resize_brush(1 / 1.4))
        a["undo"].triggered.connect(lambda: self._step_history(back=True))
        a["redo"].triggered.connect(lambda: self._step_history(back=False))
        a["clear_damage"].triggered.connect(lambda: self._edit_damage(MaskEditor.clear))
        a["load_damage"].triggered.connect(self.load_damage_mask)
        a["save_damage"].triggered.connect(self.save_damage_mask)
        a["refine"].triggered.connect(self._refine_shown_face)
        a["settings"].triggered.connect(self.models.open_settings)
        a["models"].triggered.connect(self.models.open_models)
        a["gallery"].triggered.connect(self._focus_gallery)
        a["toggle_compare"].triggered.connect(self.compare.toggle_whole)
        a["split_reset"].triggered.connect(self._split_reset)
        a["zoom_fit"].triggered.connect(self.compare.zoom_fit)
        a["zoom_actual"].triggered.connect(self.compare.zoom_actual)
        a["zoom_in"].triggered.connect(lambda: self.compare.set_zoom(self.compare.zoom() * 1.25))
        a["zoom_out"].triggered.connect(lambda: self.compare.set_zoom(self.compare.zoom() / 1.25))
        a["next_photo"].triggered.connect(lambda: self._step_photo(1))
        a["previous_photo"].triggered.connect(lambda: self._step_photo(-1))
        a["log_folder"].triggered.connect(self.open_log_folder)
        a["about"].triggered.connect(self._about)
        a["about_qt"].triggered.connect(lambda: QMessageBox.aboutQt(self))  # (its licence: the LGPL asks it said)
        a["shortcuts"].triggered.connect(lambda: ShortcutsDialog(self.actions_, self).exec())
        a["how_it_works"].triggered.connect(lambda: HowItWorksDialog(self.actions_, self).exec())
        a["messages"].triggered.connect(lambda: MessagesDialog(self.messages, self).exec())
        for name in _TOOL_HINTS:
            a[name].toggled.connect(lambda on, name=name: self._tool_hint(name, on))
        self.restore_button.clicked.connect(self.restore_current)
        self.cancel_button.clicked.connect(s.cancel)
        self.fidelity.fidelityChanged.connect(self._set_fidelity)
        self.fidelity.fidelityCommitted.connect(lambda _fidelity: self._save_fidelity())
        # the filmstrip's "changed" once the slider is let go or moved by a key (not on every step of a
        # drag: each looks at every photo's saved file, a network share's too: review)
        self.fidelity.fidelityCommitted.connect(lambda _fidelity: self.show_states())
        self.fidelity.resetToModelDefault.connect(self._use_model_fidelity)
        self.filmstrip.photoSelected.connect(self.show_photo)
        self.context_menus = ContextMenus(self)
        self.filmstrip.dragOutRequested.connect(self.exports.drag_out)
        self.compare.faceToggled.connect(lambda i: self.current and s.toggle_face(self.current, i))
        self.compare.faceClicked.connect(self._face_clicked)
        self.compare.boxDrawn.connect(self._box_drawn)
        self.compare.dragOutRequested.connect(self.exports.drag_out)
        self.gallery.candidateChosen.connect(self._candidate_chosen)
        self.gallery.faceSelected.connect(lambda _position: self._show_chosen_face())
        self.gallery.moreRequested.connect(lambda face: self.current and s.more(self.current, face))
        self.gallery.diffuseRequested.connect(
            lambda face, diffuse: self.current and s.diffuse_anyway(self.current, face, diffuse))
        self.notices.actionTriggered.connect(self._notice_action)
        self.exports.closeAbandoned.connect(self._close_called_off)
        s.entryAdded.connect(self._entry_added)
        s.entryChanged.connect(self._entry_changed)
        s.entryRemoved.connect(self._entry_removed)
        s.progress.connect(self._progress)
        s.runFinished.connect(self._run_finished)
        s.busyChanged.connect(lambda _busy: self._refresh_enabled())
        s.error.connect(self.notices.show_error)
        s.info.connect(self.say)
        # a photo restored out of sight (Restore all) says nothing over the one shown: its gallery
        # says what was spared once it is shown (QA: the notes of other photos piled up over faces)
        s.note.connect(lambda text, path: path == self.current and self.say(text, subject=path))
        s.warning.connect(lambda text, path: self.notices.show_notice(Notice(text, "warning", subject=path)))
        s.folderWithoutPhotos.connect(
            lambda listing: self.notices.show_notice(Notice(no_photos_text(listing), "warning", "open_folder", "Open folder…")))

    # ---- loading ---------------------------------------------------------------------------
    def add_paths(self, items: list[Path]) -> list[Path]:
        """Load photos and the photos of folders, and show the first of them (QA: File ▸ Open added
        the photo to the filmstrip but left the one shown before on screen, where it was easy to
        miss); photos open already are shown when asked for again (Open Recent, a folder opened
        again) and move up the recent list. Returns the photos asked for, new and open alike. A
        folder that gave none says what it holds (``Session.folderWithoutPhotos``). Open recent
        gets what was asked for: a folder that gave photos as the folder (QA: its photos had pushed
        every earlier entry off the list), and each photo asked for by itself."""
        _added, opened = self.session.open_paths(items)
        self.store.add_recent(recent_entries(items, opened))
        if opened:
            self.filmstrip.select(opened[0])
        return opened

    def start_folder(self) -> str:
        """Where a file dialog starts: the folder of the photo shown, else that of the latest recent
        file still there (settings QA: after a restart it was the home folder again), else the home
        folder (QA: not the folder the app happened to be started from)."""
        if self.current is not None:
            return str(self.current.parent)
        for recent in self.store.recent_files():
            folder = recent if is_folder(recent) else recent.parent  # (sceptic QA: a name too long raised)
            if is_folder(folder):
                return str(folder)
        return str(Path.home())

    def open_files(self) -> None:
        patterns = any_case_patterns(PHOTO_SUFFIXES)
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos", self.start_folder(), f"Photos ({patterns})")
        self.add_paths([Path(f) for f in files])

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of photos", self.start_folder())
        if folder:
            self.add_paths([Path(folder)])

    def paste(self) -> None:
        self._open_offered(QGuiApplication.clipboard().mimeData(), "pasted")

    def _full_screen(self, on: bool) -> None:
        """View ▸ Full screen on or off. In full screen Esc leaves it, and Cancel keeps its toolbar
        button and menu entry but not that key (review: Esc there stopped a long restore)."""
        state = self.windowState()
        self.setWindowState(state | Qt.WindowState.WindowFullScreen if on else state & ~Qt.WindowState.WindowFullScreen)
        cancel = self.actions_["cancel"]
        cancel.setShortcut(QKeySequence() if on else QKeySequence(ACTIONS["cancel"][2]))
        set_tip(cancel, ACTIONS["cancel"][3])

    def show_in_folder(self) -> None:
        """File ▸ Show in folder: the folder of the photo shown's saved result, else of the photo,
        in the file manager (desktop QA: only the log's folder could be opened so)."""
        if self.current is None:
            return
        entry = self.session.entries.get(self.current)
        folder = ((entry.saved_to if entry is not None else None) or self.current).parent
        if not is_folder(folder):  # (fault QA: the file manager was sent to a folder deleted since)
            self.notices.show_notice(Notice(f"{path_text(folder)} is no longer there (moved, renamed or deleted).",
                                            "warning"))
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(os.fsdecode(folder))):  # (a warning: it stays up)
            self.notices.show_notice(Notice(f"No file manager could be opened on {path_text(folder)}.", "warning"))

    def copy_path(self) -> None:
        """Copy the photo shown's file path as text."""
        if self.current is not None:
            QGuiApplication.clipboard().setText(os.fsdecode(self.current))
            self.say(f"Copied the path of {self.current.name}.")

    def copy_photo(self) -> None:
        """Edit ▸ Copy photo: the photo shown, restored once it is, onto the clipboard for another
        program (drag-and-drop QA: Ctrl+C did nothing; only Save or a drag got a result out)."""
        selected = QApplication.focusWidget()
        if isinstance(selected, QLabel) and selected.hasSelectedText():  # a notice's words, chosen to be copied
            QGuiApplication.clipboard().setText(selected.selectedText())  # (keyboard QA: Ctrl+C copied the photo)
            return
        path = self.current
        pixels = self.session.copyable(path) if path is not None else None
        if pixels is None:
            self.say("Nothing to copy yet: the photo is still being read or drawn. Copy again in a moment.")
            return
        rgb, alpha = pixels
        try:
            QGuiApplication.clipboard().setImage(rgb_to_qimage(rgb, alpha))
        except MemoryError:  # (review: a ×4 result's copy, unchecked, ended in the global error handler)
            self.notices.show_notice(Notice(f"Out of memory: {path.name} is too large to copy now. Close other "
                                            "programs, or save it (Save, Save as…) and open the file.", "error"))
            return
        restored = self.session.entries[path].result is not None
        self.say(f"Copied {'the restored ' if restored else ''}{path.name} ({rgb.shape[1]}×{rgb.shape[0]}): paste it "
                 "into another program.")

    def _open_handed(self, paths: list[Path]) -> None:
        """Open the photos the system handed over (Finder's Open With) and come to the front."""
        self.add_paths(paths)
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    def _open_offered(self, mime: QMimeData, how: str) -> bool:
        """Open what a drop or the clipboard (``how``: "dropped", "pasted") offers: its files, else
        its image, else say why nothing opens. Whether something is opened."""
        offered = photos_offered(mime)
        if offered.files:
            return bool(self.add_paths(offered.files))
        if offered.image is not None:
            try:
                check_image_size(f"The {how} image", offered.image.width(), offered.image.height())
            except FaceappError as exc:
                self.notices.show_error(exc)
                return False
            rgb, alpha = qimage_to_arrays(offered.image)
            self.session.paste_image(rgb, alpha, on_opened=self.filmstrip.select,
                                     still_wanted=lambda asked=self._removals: (asked == self._removals
                                                                                 and not self.exports.closing))
            return True
        if offered.unreadable_image:  # (fault QA: a damaged picture was "The clipboard holds no photo")
            self.notices.show_notice(Notice(f"The {how} picture could not be read: it is damaged, empty, or in a form "
                                            "faceapp does not read. Save it as a file (PNG or JPEG) and open that.",
                                            "warning"))
        elif offered.web:
            self.notices.info(f"{path_text(offered.web[0])} is on the web: faceapp opens photos on this computer. "
                              "Save the picture first (a browser's Save image as…), then open or drop the file.")
        else:
            self.notices.info("The clipboard holds no photo." if how == "pasted" else "What was dropped holds no photo.")
        return False

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        folder_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        metrics = self.recent_menu.fontMetrics()
        widest = metrics.averageCharWidth() * 90  # (about 90 characters)
        for path in self.store.recent_files():
            folder = is_folder(path)  # said as a folder (a photo's menu entry has no icon; a name too long is not one)
            shown = metrics.elidedText(path_text(path) + (os.sep if folder else ""), Qt.TextElideMode.ElideMiddle,
                                       widest)
            action = self.recent_menu.addAction(shown.replace("&", "&&"), lambda p=path: self._open_recent(p))
            action.setToolTip(path_text(path))  # (an & is no access key; a long path is shortened in the middle)
            if folder:
                action.setIcon(folder_icon)
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("&Clear Menu", self._clear_recent)
        clear.setEnabled(bool(self.store.recent_files()))
        clear.setToolTip("Forget the photos and folders listed here (the files stay as they are)")

    def _open_recent(self, path: Path) -> None:
        """Open a recent photo or folder; one that is no longer there is said so and leaves the list
        (desktop QA: it became an error tile and moved to the top of the list)."""
        if not os.path.lexists(path):
            self.store.forget_recent(path)
            self.notices.show_notice(Notice(f"{path_text(path)} is no longer there (moved, renamed, deleted, or on a "
                                            "drive not connected now), so it has left Open recent.", "warning"))
            return
        self.add_paths([path])

    def _clear_recent(self) -> None:
        self.store.clear_recent()
        self.say("Open recent is cleared (the files themselves stay as they are).")

    def _fill_faces(self) -> None:
        """Photo ▸ Faces: each face of the photo shown, ticked when it is restored; choosing one
        switches it on or off, as a click on its box does."""
        self.faces_menu.clear()
        entry = self.session.entries.get(self.current) if self.current else None
        for face in entry.faces if entry is not None else ():
            action = self.faces_menu.addAction(f"Face {face.index + 1}")
            action.setCheckable(True)
            action.setChecked(face.enabled)
            action.setToolTip("Restore this face" if not face.enabled else "Leave this face as it is")
            action.triggered.connect(lambda _checked, i=face.index: self.current and self.session.toggle_face(self.current, i))
        if self.faces_menu.isEmpty():
            self.faces_menu.addAction("(no faces found)" if entry is not None and entry.photo is not None
                                      else "(no photo)").setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if event.source() is None and may_offer_photos(event.mimeData()):  # (files, a browser's picture, a path)
            self._accept_as_copy(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        if self._open_offered(event.mimeData(), "dropped"):
            self._accept_as_copy(event)

    @staticmethod
    def _accept_as_copy(event: QDropEvent) -> None:
        """Takes a drag as a copy, whatever the source proposed: the window only reads the files,
        and a source told they were moved may delete its own (QA: a file manager's drag offering
        copy, move and link was answered "moved"). A source that offers no copy gets its own."""
        if event.possibleActions() & Qt.DropAction.CopyAction:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.acceptProposedAction()

    # ---- showing ---------------------------------------------------------------------------
    def show_photo(self, path: Path) -> None:
        """Show a photo (or bring the shown one up to date): before/after, faces, gallery."""
        entry = self.session.entries.get(path)
        if entry is None:
            return
        changed = path != self.current
        if changed and self.current is not None and (number := self.gallery.current_number()) is not None:
            self._gallery_faces[self.current] = number
        self.current = path
        self._show_title()
        if changed:
            self.session.show(path)  # its full-size images come back, if it had given them up
            self.notices.show_photo(path)  # (another photo's notes wait until it is shown)
            self.gallery.clear()
            self.compare.set_selected_face(None)
        before, after = self.session.before.get(path), self.session.after.get(path)
        preparing = self.session.preparing(path)  # shown whole once both sides are ready
        failed = entry.photo is None and entry.error
        # its images failed (a photo whose faces are still being found may have only its thumbnail yet)
        unshown = before is not None and before.image is None and not preparing and entry.photo is not None
        name = path_text(path.name)  # (a name's undecodable bytes as \xNN: Qt's text drops them; sceptic QA)
        message = ((f"{name} could not be opened." if entry.unreadable else
                    f"The faces of {name} could not be found.") + f"\n\n{entry.error}" if failed
                   else f"Preparing {name}…" if preparing
                   else f"{name} could not be shown (the notice says why). Show another photo, then "
                        "this one again, to try again." if unshown
                   # (QA: the empty window's "Drop photos or folders here" while it waited its turn)
                   else f"Opening {name}…" if entry.photo is None and before is None else "")
        before_image = before.image if before is not None and not preparing else None
        if changed or self.compare.before_image() is not before_image or self.compare.message() != message:
            self.compare.set_images(before_image, message=message)
        editor = self.session.damage_editor(path) if before_image is not None else None  # painted where it is seen
        if changed or self.damage.editor() is not editor:
            self.damage.set_editor(editor)
        if editor is not None:  # again once its faces are found: the brush suits their size
            self.damage.suggest_brush_radius(default_brush_radius(editor.width, editor.height, [f.size for f in entry.faces]))
        restored = after is not None and entry.result is not None
        self.compare.set_after(after.image if restored and not preparing else None)
        self.compare.set_faces([FaceOutline(f.index, tuple(f.box), f.enabled, getattr(f, "unsure", False))
                                for f in entry.faces])
        working = self.session.is_working(path)
        if changed or not working:
            self.compare.set_working_face(None)  # marked again by the run's next step
        if entry.result is not None:
            faces = list(entry.result.faces)
            numbers = [detector_index(f, i) for i, f in enumerate(faces)]
            # the same face stays shown (GUI QA: restored again with another face switched off, the
            # gallery's position showed the next face), or is shown again with its photo
            shown = self._gallery_faces.pop(path, None) if changed else self.gallery.current_number()
            current = numbers.index(shown) if shown in numbers else max(0, self.gallery.current_face())
            self.gallery.set_faces(faces, current=current, numbers=numbers,
                                   sparing=[sparing_choice(entry.result, i) for i in range(len(faces))])
            self._show_chosen_face()
        elif changed or not working:
            self.run_panel.clear()
        if not working or entry.photo is None:  # (loading reports no steps)
            self.run_panel.show_text(self._photo_text(entry))
        elif entry.state == "queued":  # also when it is queued while shown (QA: "Press Restore" stayed)
            self.run_panel.show_text(f"{path_text(path.name)}\nWaiting its turn: the work queued before it comes first (photos "
                                     "being opened and their faces found, other restores)…")
        elif changed:  # a job's progress takes over from here
            self.run_panel.show_text(f"{path_text(path.name)}\n{entry.state.capitalize()}…")
        self._refresh_enabled()

    def _show_zoom(self, _zoom: float) -> None:
        """The photo's zoom in the status bar, in screen pixels (100 %: one photo pixel to one
        screen pixel, also on a HiDPI screen); blank with no photo shown."""
        shown = self.compare.before_image() is not None
        self.zoom_label.setText(zoom_text(self.compare.device_zoom()) if shown else "")

    def _damage_changed(self) -> None:
        """Undo, redo and clear follow the mask; the panel and the filmstrip say when a restore would now differ."""
        self._refresh_enabled()
        self.show_photo_text()
        if self.current is not None and self.current in self.session.entries:
            self._show_state(self.current)
        self._say_features_hidden()

    def _show_state(self, path: Path, resolved: Preferences | None = None) -> None:
        """The photo's state in the filmstrip: a restored one's as saved, or changed since (its
        faces, damage or the settings a restore depends on: undo QA, the fidelity moved and the
        filmstrip still said "done" where the panel said a restore would differ). ``resolved``:
        the preferences as a restore resolves them now (worked out here when not given)."""
        entry = self.session.entries[path]
        state = entry.state
        resolved = resolved or self.session.backend.resolved(self.session.prefs)
        if state == "done" and (entry.outdated or (entry.restored_with is not None and not entry.restored_as(resolved))):
            state = CHANGED_STATE
        elif state == "done" and self.session.saved_file(path) is not None:
            state = SAVED_STATE
        self.filmstrip.set_state(path, state)

    def _say_features_hidden(self) -> None:
        """Warn, as a stroke ends, when the paint hides a face's eyes, nose or mouth (QA: said only
        after the restore, when the prior had already drawn the smile closed); once for each change
        of what it hides; the warning goes when it no longer holds (damage QA: it stayed after
        Clear damage)."""
        path, editor = self.current, self.damage.editor()
        entry = self.session.entries.get(path) if path is not None else None
        if path is None:
            return
        hidden = None
        if entry is not None and editor is not None and not editor.is_empty() and entry.faces:
            faces = list(entry.faces)
            hidden = features_hidden_by_paint(faces, editor.view(), number=lambda p: faces[p].index + 1)  # (as tagged)
        said = self._hidden_said.get(path)
        if hidden == said:
            return
        if said is not None:
            self.notices.take_down(f"{path.name}: {said}", path)
        if hidden is None:
            self._hidden_said.pop(path, None)
        else:
            self._hidden_said[path] = hidden
            self.notices.show_notice(Notice(f"{path.name}: {hidden}", "warning", subject=path))

    def _show_title(self) -> None:
        """The title names the photo shown, marked (an asterisk on Linux and Windows, the close
        button's dot on macOS) while its result is not saved (GUI QA: "faceapp" all afternoon, in a
        taskbar of many photos)."""
        if self.current is None:
            self.setWindowTitle("faceapp")
            self.setWindowModified(False)
            return
        self.setWindowTitle(f"{path_text(self.current.name)}[*] — faceapp")
        self.setWindowModified(self.current in self.exports.unsaved())

    def show_appearance(self) -> None:
        """Give the window the colours of the settings' appearance, and tick it in View ▸ Appearance."""
        appearance = self.session.prefs.appearance
        apply_appearance(appearance)
        for choice in self._appearances.actions():
            choice.setChecked(choice.data() == appearance)

    def _choose_appearance(self, choice) -> None:
        self.session.prefs = dataclasses.replace(self.session.prefs, appearance=choice.data())
        self.save_settings(self.session.prefs)
        self.show_appearance()

    def show_photo_text(self) -> None:
        """The panel's words about the photo shown, again (unless a job's progress has the panel)."""
        entry = self.session.entries.get(self.current) if self.current else None
        if entry is not None and entry.photo is not None and not self.session.is_working(entry.path):
            self.run_panel.show_text(self._photo_text(entry))

    def _photo_text(self, entry) -> str:
        """The panel's words about ``entry``, its result compared with the preferences as a restore
        would resolve them now (the default model by name, its step count)."""
        prefs = self.session.prefs
        return photo_text(entry, self.fidelity.fidelity(), self.session.backend.resolved(prefs),
                          steps_follow_model=prefs.steps is None)

    def _step_history(self, *, back: bool) -> None:
        """Edit ▸ Undo (``back``) or Redo on the photo shown: its last edit of any kind, said in the
        status bar (QA: Ctrl+Z after a seed pick took back an older stroke, unseen)."""
        if self.current is None or self.current not in self.session.entries:
            return
        stepped = self.session.undo(self.current) if back else self.session.redo(self.current)
        if stepped is not None:
            edit, changed = stepped
            self.say(f"{'Undone' if back else 'Redone'}: {edit.words}." if changed else
                     f"{edit.words[:1].upper()}{edit.words[1:]} could not be {'taken back' if back else 'done again'} "
                     f"(its face or candidate is gone, or memory is short): nothing changed; {'Undo' if back else 'Redo'} "
                     "again to go on.")
        self._refresh_enabled()

    def _edit_damage(self, edit) -> None:
        """Apply ``edit`` (clear) to the damage painted on the photo shown."""
        editor = self.damage.editor()
        if editor is not None:
            edit(editor)

    def load_damage_mask(self) -> None:
        """Edit ▸ Load damage mask…: a mask file made elsewhere, or saved from here, added to the
        damage painted on the photo shown (undoable)."""
        editor = self.damage.editor()
        if editor is None or self.current is None:
            return
        found = next((mask for mask in (mask_file_for(self.current), self.session.entries[self.current].mask_beside)
                      if mask is not None and os.path.isfile(mask)), None)  # (saved since, or offered; review: a mask
        # saved since was not where the dialog started)
        start = str(found if found is not None else self.current.parent)
        patterns = any_case_patterns(MASK_SUFFIXES)
        chosen, _ = QFileDialog.getOpenFileName(self, "Load a damage mask", start, f"Masks ({patterns})")
        if chosen:
            self._add_damage_mask(self.current, Path(chosen))

    def _offer_mask_beside(self, path: Path) -> None:
        """Once a photo is open, offer the damage mask kept beside it: the file ``faceapp-cli restore
        --mask`` given the photo's folder would use (``photo_mask.png``, where Save damage mask puts
        it, or another suffix; damage QA: reopened, the photo's saved strokes had to be looked for
        with Load damage mask…; review: ``photo_mask.jpg`` made elsewhere was not offered)."""
        entry = self.session.entries[path]
        entry.mask_offered = True
        mask = entry.mask_beside  # (looked for as the photo was read, off the UI thread)
        if mask is not None:  # (a photo's name long enough: its mask's name is too long to look at, review)
            self._masks_offered[path] = mask  # (Load it loads the file named, whatever is beside it then)
            self.notices.show_notice(Notice(f"{mask.name} beside {path.name} looks like its damage mask.", "info",
                                            action="load_mask", action_label="Load it", subject=path))

    def _add_damage_mask(self, path: Path, file: Path) -> None:
        """Read the mask ``file`` (off the UI thread) and add its damage to what is painted on the
        loaded photo ``path`` (undoable)."""
        name = file.name
        self.notices.withdraw("load_mask", path)  # (offered when the photo opened: taken now)

        def read(mask) -> None:
            editor = self.session.damage_editor(path)  # (the photo it was chosen for, shown or not)
            if editor is None:
                return
            editor.load(mask)
            said = mask_warning(mask, name)
            self.say(f"Damage mask {name} added to {path.name}: Undo takes it back." if said is None else sentence(said))

        def failed(exc: BaseException) -> None:
            if isinstance(exc, FaceappError):  # about this photo (its subject), and named: an error notice
                exc.path = path  # stays in sight over every photo (retoucher QA: "it must be 491×310 (the
                # photo)" read over a photo of 726×838)
                notice = notice_for_error(exc)
                self.notices.show_notice(dataclasses.replace(notice, text=f"{path.name}: {notice.text}"))
            else:
                self.notices.show_error(exc)

        self.say(f"Reading the damage mask {name}…")  # (on the files' queue, after any file being saved)
        self.session.read_damage_mask(path, file, on_read=read, on_failed=failed)

    def save_damage_mask(self) -> None:
        """Edit ▸ Save damage mask…: the damage painted on the photo shown, as a mask file (by default
        photo_mask.png beside the photo, which faceapp-cli restore --mask finds)."""
        editor = self.damage.editor()
        if editor is None or self.current is None or editor.is_empty():
            return
        chosen, _ = QFileDialog.getSaveFileName(self, "Save the damage mask", str(mask_file_for(self.current)),
                                                "PNG mask (*.png)")
        if not chosen:
            return
        named = Path(chosen).suffix.lower() == ".png"
        dest = Path(chosen) if named else Path(chosen + ".png")
        if not named and exists(dest) and QMessageBox.question(  # (the dialog asked about the name as typed)
                self, "Replace the mask?", f"{dest.name} exists already. Replace it?") != QMessageBox.StandardButton.Yes:
            return
        path = self.current

        def failed(exc: BaseException) -> None:
            if isinstance(exc, FaceappError):
                self.notices.show_notice(Notice(error_sentence(exc), "error", subject=path))  # (it names the file)
            else:
                self.notices.show_error(exc)

        self.session.save_damage_mask(path, editor.mask(), dest, on_failed=failed,
                                      on_saved=lambda written: self.say(f"Damage mask saved as {written}."))

    def _focus_gallery(self) -> None:
        """Seed gallery (G): the keyboard goes to the gallery, scrolled into sight in a low window
        (QA: its arrow keys changed seeds out of sight)."""
        if not self.gallery.focus_thumbnails():
            self._hint("The seed gallery fills once the photo is restored.", 3000)
        self.side_panel.ensureWidgetVisible(self.gallery)

    def _resize_brush(self, factor: float) -> None:
        """[ and ]: the brush's size, said in the status bar (QA: on a large photo at Fit the circle is
        a dot whose size cannot be judged)."""
        self.damage.set_brush_radius(self.damage.brush_radius() * factor)
        self.statusBar().showMessage(f"Brush: {2 * self.damage.brush_radius():.0f} px across (photo pixels)", 3000)

    def _candidate_chosen(self, position: int, candidate: int) -> None:
        """A candidate picked in the gallery is used; where the face lies on the "before" side of
        the photo, the status bar says how to see it (first-hour QA: only the gallery's preview
        changed, and the pick seemed to do nothing)."""
        entry = self.session.entries.get(self.current) if self.current else None
        if entry is None or entry.result is None:
            return
        self.session.choose(self.current, position, candidate)
        _, _, x1, _ = entry.result.faces[position].face.box
        right = self.compare.image_to_widget(QPointF(float(x1), 0.0)).x()
        mode = self.compare.view_mode()
        number = detector_index(entry.result.faces[position], position) + 1
        if mode == "before":  # (B goes on from the whole Before to the whole After)
            self._hint(f"The Before side is shown: press B to see face {number}'s seed picked.", 6000)
        elif mode == "split" and right <= self.compare.divider_x():  # (there B would show the whole Before: review)
            self._hint(f"Face {number} lies on the Before side: drag the divider left of it to see the seed picked.",
                       6000)

    def _face_clicked(self, index: int) -> None:
        """A click on a face: a restored one is shown in the seed gallery (QA: a new user clicks a
        face to see its seeds); one switched off is switched on, as a click on its number tag does;
        one to be restored stays so, and the status bar says how to leave it out (GUI QA: a click
        to focus the view switched a face off, unnoticed, and Restore went grey)."""
        entry = self.session.entries.get(self.current) if self.current else None
        if entry is None:
            return
        faces = entry.result.faces if entry.result is not None else []
        position = next((i for i, face in enumerate(faces) if detector_index(face, i) == index), None)
        clicked = next((face for face in entry.faces if face.index == index), None)
        if position is not None:
            self.gallery.select_face(position)
            self.side_panel.ensureWidgetVisible(self.gallery)  # (a low window scrolls its side panel)
        elif clicked is not None and clicked.enabled:
            self.say(f"Face {index + 1} is restored with the others; click its number (or use Photo ▸ Faces) to leave "
                     "it out.",
                     subject=self.current)
        else:
            self.session.toggle_face(self.current, index)

    def _show_chosen_face(self) -> None:
        """Show the chosen candidate of the gallery's face in the preview box."""
        entry = self.session.entries.get(self.current) if self.current else None
        position = self.gallery.current_face()
        if entry is None or entry.result is None or position < 0:
            self.compare.set_selected_face(None)
            return
        face = entry.result.faces[position]
        self.compare.set_selected_face(detector_index(face, position))  # framed on the photo too
        self.run_panel.show_face(face.candidates[face.chosen], *chosen_face_text(entry.result, position))

    def _entry_added(self, path: Path) -> None:
        self.filmstrip.add_photo(path)
        self.filmstrip.set_state(path, TO_OPEN)

    def _entry_changed(self, path: Path) -> None:
        entry = self.session.entries[path]
        if entry.faces:  # e.g. a box drawn: "no face was found" no longer holds
            self.notices.withdraw("draw_box", path)
        if entry.photo is not None or entry.state == TO_OPEN:  # opened (again): "could not be opened" no longer
            self.notices.withdraw("open", path)  # holds, or is said anew if it still cannot be
        if entry.photo is not None and not entry.mask_offered:  # (review: read anew, it was not offered again)
            self._offer_mask_beside(path)
        if entry.unreadable and entry.state == "error" and os.path.isfile(path):  # there, and no photo faceapp
            self.store.forget_recent(path)  # reads (one on a drive not mounted now stays for later; one whose
            # faces could not be found, a detector's failure, stays: QA, good photos left the list)
        self._show_state(path)
        shown = self.session.after.get(path) or self.session.before.get(path)
        if shown is not None:
            self.filmstrip.set_thumbnail(path, shown.thumbnail)
        if path == self.current:
            self.show_photo(path)
        else:
            self._refresh_enabled()  # e.g. Restore all, once another photo has loaded

    def _entry_removed(self, path: Path) -> None:
        self.filmstrip.remove_photo(path)
        self._hidden_said.pop(path, None)  # (opened again and painted alike, it is warned again: review)
        self._gallery_faces.pop(path, None)
        self._masks_offered.pop(path, None)
        self.notices.forget(path)
        if path == self.current:
            self.current = None
            self._show_title()
            self.notices.show_photo(None)
            self.damage.set_editor(None)
            self.compare.set_images(None)
            self.gallery.clear()
            self.compare.set_selected_face(None)
            self.run_panel.clear()
            self._refresh_enabled()  # once the view is cleared (review: zoom stayed on)

    def _progress(self, path: Path, text: str, fraction: float, preview) -> None:
        self.progress_bar.setVisible(True)
        character = self._fit_progress_bar()
        if fraction < 0:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(round(1000 * fraction))
            # whose progress it is, in the bar itself (QA: "84 %" alone, while another photo was shown)
            name = self.progress_bar.fontMetrics().elidedText(path_text(path.name), Qt.TextElideMode.ElideMiddle,
                                                              max(150, 15 * character))
            self.progress_bar.setFormat(f"{name} · {percent(fraction)}")
        self.progress_bar.setToolTip(f"{path_text(path.name)}: {text}")
        if path == self.current:  # the panel is about the photo shown; the bar about any run
            self.run_panel.show_progress(path_text(path.name), text, preview)

    def _fit_progress_bar(self) -> int:
        """Size the status bar's progress bar to its text at its font (low-vision QA: at 20 pt it was
        squeezed to 110 px and its text cut top and bottom); returns the font's average character width."""
        character = self.progress_bar.fontMetrics().averageCharWidth()
        self.progress_bar.setMinimumWidth(max(120, 16 * character))
        self.progress_bar.setMaximumWidth(max(260, 26 * character))
        return character

    def _run_finished(self, path: Path, seconds: float, run: str) -> None:
        """The status bar names the photo of the last run, which need not be the one shown (the
        panel gives the shown photo's own restore time), and the run when it was not a restore."""
        name = self.time_label.fontMetrics().elidedText(path_text(path.name), Qt.TextElideMode.ElideMiddle, 160)
        which = "" if run == "Restore" else f" ({run})"
        self.time_label.setText(f"Last run{which}: {name}, {duration(seconds)}")
        self.time_label.setToolTip(f"The last run ({run}) took {duration(seconds)}: {path_text(path)}")
        # a screen reader says it wherever the keyboard is (screen-reader QA: never told a restore ended);
        # a Restore all's photos are not each said: its summary is (verify QA: 28 for 27 photos)
        if not (run == "Restore" and self.session.in_restore_all(path)):
            announce(self, f"{run} of {path_text(path.name)} finished in {duration(seconds)}")

    def _refresh_enabled(self) -> None:
        entry = self.session.entries.get(self.current) if self.current else None
        busy = self.session.busy
        restored = entry is not None and entry.result is not None
        loaded = entry is not None and entry.photo is not None
        a = self.actions_
        painted = loaded and entry.painted  # (no face: its damage filled)
        can_restore = loaded and (bool(entry.enabled_faces()) or painted) and not self.session.restoring(self.current)
        # The keyboard on Restore or Cancel about to be disabled goes to the other first, not on to the
        # next control in the chain (screen-reader QA: Space on Restore left the keyboard on the
        # filmstrip, where the next key acted on the photo list)
        restore, cancel = (self.restore_button, can_restore), (self.cancel_button, self.session.cancellable)
        for (button, enabled), (other, other_enabled) in ((restore, cancel), (cancel, restore)):
            if button.hasFocus() and not enabled and other_enabled:
                other.setEnabled(True)
                other.setFocus(Qt.FocusReason.OtherFocusReason)
                break
        a["restore"].setEnabled(can_restore)
        self.restore_button.setEnabled(a["restore"].isEnabled())
        a["restore_all"].setEnabled(any(e.photo is not None or self.session.opening(e.path)  # (restored once opened)
                                        for e in self.session.entries.values()))
        for name in ("draw_box", "damage_brush"):
            a[name].setEnabled(loaded)
            if not loaded:
                a[name].setChecked(False)
        a["eraser"].setEnabled(a["damage_brush"].isChecked())
        for name in ("brush_bigger", "brush_smaller"):  # (set before the brush is taken up, too)
            a[name].setEnabled(loaded)
        for name in ("toggle_compare", "split_reset"):
            a[name].setEnabled(restored)
        shown = self.compare.before_image() is not None  # (also while its faces are found: QA, the wheel zoomed)
        for name in ("zoom_fit", "zoom_actual", "zoom_in", "zoom_out"):
            a[name].setEnabled(shown)
        editor = self.damage.editor()
        undo, redo = self.session.next_undo(self.current), self.session.next_redo(self.current)
        a["undo"].setEnabled(undo is not None)
        a["undo"].setText(f"&Undo {undo.words}" if undo is not None else "&Undo")
        a["redo"].setEnabled(redo is not None)
        a["redo"].setText(f"&Redo {redo.words}" if redo is not None else "&Redo")
        a["clear_damage"].setEnabled(editor is not None and not editor.is_empty())
        a["load_damage"].setEnabled(editor is not None)
        a["save_damage"].setEnabled(editor is not None and not editor.is_empty())
        a["cancel"].setEnabled(self.session.cancellable)
        self.cancel_button.setEnabled(a["cancel"].isEnabled())
        a["save"].setEnabled(restored)
        a["copy"].setEnabled(loaded)
        a["refine"].setEnabled(restored and not busy)
        # enabled while the photo is being worked on too: Remove stops its work, then removes it
        a["remove"].setEnabled(self.current is not None)
        a["remove_all"].setEnabled(bool(self.session.entries))
        for name in ("show_in_folder", "copy_path"):
            a[name].setEnabled(self.current is not None)
        a["save_as"].setEnabled(restored)
        a["export_all"].setEnabled(any(e.result is not None for e in self.session.entries.values()))
        for name in ("next_photo", "previous_photo"):
            a[name].setEnabled(len(self.session.entries) > 1)
        self.gallery.set_busy(busy)
        if not busy:
            self.progress_bar.setVisible(False)
        self._say_why_off(entry, loaded=loaded, restored=restored)

    def _say_why_off(self, entry, *, loaded: bool, restored: bool) -> None:
        """Each main action that is off says why in its tooltip and status tip (desktop QA: a greyed
        Save said nothing of restoring first)."""
        a = self.actions_
        reasons = reasons_off(photo=self.current.name if self.current is not None else None,
                              failed=entry is not None and entry.photo is None and entry.error is not None,
                              loaded=loaded, restored=restored,
                              restoring=self.current is not None and self.session.restoring(self.current))
        for name, reason in reasons.items():
            set_unavailable(a[name], None if a[name].isEnabled() else reason or None)

    # ---- actions ---------------------------------------------------------------------------
    def restore_current(self) -> None:
        if self.current is not None and self._restore_again_answer([self.current]) == "all":
            self._put_brush_down()
            self.session.restore([self.current])

    def restore_all(self) -> None:
        """Photo ▸ Restore all: asks first where restoring photos again drops candidates (review:
        only Restore asked), and offers to restore the others alone (smoke QA: Cancel stopped them
        too, and the question named none of them)."""
        targets = self.session.restore_all_targets()
        answer = self._restore_again_answer(targets)
        if answer is None:
            return
        self._put_brush_down()
        self.session.restore_all(keeping=[] if answer == "all" else self._losing_candidates(targets))

    def _losing_candidates(self, paths: list[Path]) -> dict[Path, tuple[int, int, bool]]:
        """Of ``paths``, those with a result whose restore again would not make some of its
        candidates again: how many of seeds the settings do not give now (More's, those of seeds set
        before), how many refined passes, and whether More, Refine or a face's sampling again is
        making candidates now (concurrency QA: a restore pressed while More ran replaced the seeds
        More then added, unasked)."""
        prefs, losing = self.session.prefs, {}
        for path in paths:
            entry = self.session.entries.get(path)
            if entry is not None and entry.result is not None and not self.session.restoring(path):
                lost = (*candidates_not_made_again(entry.result, prefs.base_seed, prefs.seeds_per_face),
                        self.session.making_candidates(path))
                if any(lost):
                    losing[path] = lost
        return losing

    def _restore_again_answer(self, paths: list[Path]) -> str | None:
        """Whether to restore ``paths``: "all" (nothing is lost, or the user said so), "others"
        (all but those that would lose candidates), None (Cancel). Asked where restoring again drops
        candidates (undo QA: they went without a question, while Refine asks before its own loss)."""
        losing = self._losing_candidates(paths)
        if not losing:
            return "all"
        other, passes, making = (sum(lost[i] for lost in losing.values()) for i in (0, 1, 2))
        parts = [part for part in (
            other and f"{counted(other, 'candidate')} of seeds the settings do not give now (from More, or set before)",
            passes and f"{passes} refined pass{'' if passes == 1 else 'es'}",
            making and "the candidates being made now (More, Refine)") if part]
        what = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)
        names = [path_text(path.name) for path in losing]
        photos = (f"{names[0]} again makes its candidates" if len(names) == 1
                  else f"{len(names)} photos again ({listed(names)}) makes their candidates")
        rest = len(paths) - len(losing)
        text = f"Restoring {photos} anew: {what} will go (a seed picked that is sampled again stays chosen)."
        if rest:
            others = "The other photo" if rest == 1 else f"The {rest} other photos"
            text += f" {others} can be restored without {'it' if len(names) == 1 else 'them'}."
        answer = confirm.ask_before_discarding(self, text, discard="Restore again",
                                               save=f"Restore the other{'' if rest == 1 else 's'}" if rest else None)
        return {"discard": "all", "save": "others"}.get(answer)

    def _put_brush_down(self) -> None:
        """A restore asked for ends painting on the photo shown, when it has something to restore: the
        strokes drawn over the after side hid the fill the user wants to judge (QA); P takes the
        brush up again. (Before the restore reads the damage: a stroke being drawn ends first.)"""
        entry = self.session.entries.get(self.current) if self.current is not None else None
        if entry is not None and entry.photo is not None and (entry.enabled_faces() or entry.painted):
            self.actions_["damage_brush"].setChecked(False)  # (no face: its damage alone is filled, review)

    def remove_current(self) -> None:
        """Remove the shown photo from the window (never the file); asks first when its result
        is not saved, or damage painted or a face box drawn on it is not restored yet."""
        path = self.current
        if path is None:
            return
        lost = [what for what, pending in (("its restored result is not saved", self.exports.unsaved()),
                                           ("the damage painted on it is not restored yet", self.session.unrestored_damage()))
                if path in pending]
        if drawn := self.session.faces_drawn_unrestored(path):
            lost.append(f"{'a face box' if drawn == 1 else f'{drawn} face boxes'} drawn on it "
                        f"{'is' if drawn == 1 else 'are'} not restored yet")
        if lost:
            answer = confirm.ask_before_discarding(
                self, f"Remove {path.name}? {' and '.join(lost).capitalize()} (the photo file stays as it is).",
                discard="Remove")
            if answer != "discard":
                return
        self.session.remove(path)

    def remove_all(self) -> None:
        """File ▸ Remove all photos: the filmstrip emptied (never the files), asking once first when
        results are not saved or damage painted is not restored (desktop QA: 27 photos took 27
        presses of Delete)."""
        paths = list(self.session.entries)
        unsaved, strokes = self.exports.unsaved(), self.session.unrestored_damage()
        lost = [f"{counted(len(unsaved), 'restored photo')} {'is' if len(unsaved) == 1 else 'are'} not saved"] if unsaved else []
        if strokes:
            lost.append(f"damage painted on {counted(len(strokes), 'photo')} is not restored yet")
        if drawn := self.session.unrestored_face_boxes():
            lost.append(f"face boxes drawn on {counted(len(drawn), 'photo')} are not restored yet")
        if lost:
            answer = confirm.ask_before_discarding(
                self, f"Remove all {counted(len(paths), 'photo')}? {' and '.join(lost).capitalize()} (the photo files "
                "stay as they are).", discard="Remove all")
            if answer != "discard":
                return
        self._removals += 1  # (a paste being written is not opened once written)
        for path in paths:
            self.session.remove(path)

    def _step_photo(self, step: int) -> None:
        """Show the photo ``step`` places after the shown one in the filmstrip (wrapping round)."""
        order = self.filmstrip.paths()
        if not order:
            return
        index = order.index(self.current) + step if self.current in order else 0
        self.filmstrip.select(order[index % len(order)])

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """A mouse's back and forward buttons show the previous and next photo, as in viewers and
        browsers (desktop QA: they did nothing); the photo and the filmstrip pass them on here."""
        step = {Qt.MouseButton.BackButton: -1, Qt.MouseButton.ForwardButton: 1}.get(event.button())
        if step is None:
            return super().mousePressEvent(event)
        if len(self.session.entries) > 1:
            self._step_photo(step)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        """Esc leaves the face box or damage brush tool, else full screen, else closes the newest notice
        (while a restore goes, Esc cancels it first: the Cancel action holds that key while it is
        enabled). The key of an action
        that is off says why, in the status bar (desktop QA: Ctrl+S on a photo not restored did
        nothing without a word)."""
        tools = [self.actions_[name] for name in ("draw_box", "damage_brush") if self.actions_[name].isChecked()]
        if event.key() == Qt.Key.Key_Escape and (tools or self.actions_["full_screen"].isChecked()):
            for action in tools or [self.actions_["full_screen"]]:
                action.setChecked(False)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self.notices.dismiss_newest():
            event.accept()
            return
        pressed = QKeySequence(event.keyCombination())
        off = next((action for action in self.actions_.values() if not action.isEnabled()
                    and action.property("unavailable") and pressed in action.shortcuts()), None)
        if off is not None:
            self.say(f"{plain_menu_text(off.text())}: {off.property('unavailable')}.")
            event.accept()
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.StatusTip:  # (as QMainWindow shows it, fitted to the bar)
            self.statusBar().showMessage(self._fitted_to_status_bar(event.tip()))
            return True
        return super().event(event)

    def _fitted_to_status_bar(self, text: str) -> str:
        """``text`` ending in "…" where it is wider than the status bar leaves a message beside its
        labels at their narrowest (accessibility QA: at 200 % scaling a menu entry's tip was cut
        mid-word, "…to paste into another progran"; the tooltip keeps it whole)."""
        room = self._status_bar_room() - 3 * _LEAST_STATUS_LABEL
        return self.statusBar().fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max(room, 80))

    def _status_bar_room(self) -> int:
        """How wide the status bar is less its zoom label, the progress shown and its margins: what a
        message and the shortening labels (time, model, device) share."""
        bar = self.statusBar()
        return (bar.width() - self.zoom_label.sizeHint().width() - 6 * bar.layout().spacing() - 32
                - (self.progress_bar.width() if self.progress_bar.isVisible() else 0)
                - (self.exports.status.width() if self.exports.status.isVisible() else 0))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:  # (full screen left another way: the menu's tick follows)
            self.actions_["full_screen"].setChecked(bool(self.windowState() & Qt.WindowState.WindowFullScreen))

    def close_without_asking(self) -> None:
        """Close, discarding unsaved results without a question (a self-test, a script, a signal)."""
        self._discard_ok, self._strokes_let_go = set(self.session.entries), set(self.session.entries)
        self.close()

    def _close_called_off(self) -> None:
        """Answers given while closing no longer hold (GUI QA: a photo let go at the first question was
        lost at the next close)."""
        self._discard_ok, self._strokes_let_go = None, set()

    def _confirm_close(self) -> bool:
        """Whether closing may go on: asks when restored results are not saved (nor being saved),
        damage is painted or a face box drawn that no result holds yet, or a restore runs; "Save all" saves each result
        next to its original, and the window closes once written. Asked again only about photos
        that became unsaved since the last answer."""
        if self._asking:
            return False
        unsaved = self.exports.unsaved()
        painted = self.session.unrestored_damage()
        drawn = self.session.unrestored_face_boxes()
        running = self.session.busy
        if (self._discard_ok is not None and set(unsaved) <= self._discard_ok
                and set(painted) | set(drawn) <= self._strokes_let_go):
            return True
        if not unsaved and not painted and not drawn and not running:
            return True
        # what the user agreed to lose is not asked about again: a result by its photo, strokes by
        # theirs (two-instance QA: strokes let go lost, unasked, the result they were restored into
        # under the question)
        unsaved = [path for path in unsaved if self._discard_ok is None or path not in self._discard_ok]
        painted = [path for path in painted if path not in self._strokes_let_go]
        drawn = [path for path in drawn if path not in self._strokes_let_go]  # (as strokes: asked about once)
        lines = []
        if unsaved:
            folder, exported = self.session.prefs.output_folder, self.exports.last_export_folder
            where = f"into {folder}" if folder else "each next to its original"  # (QA: it did not say where)
            if exported is not None and str(exported) != folder:
                where += f", not into {exported} (where Export all wrote)"
            lines.append(f"{len(unsaved)} restored photo{'s are' if len(unsaved) > 1 else ' is'} not saved: "
                         f"{_names(unsaved)}. Save all writes {where}.")
        if painted:
            lines.append(f"Damage painted on {_names(painted)} is not restored yet: closing loses the strokes "
                         "(Cancel, then Restore).")
        if drawn:  # (desktop QA: boxes drawn were lost on quitting without a word, where strokes were asked about)
            lines.append(f"Face boxes drawn on {_names(drawn)} are not restored yet: closing loses them (Cancel, then "
                         "Restore).")
        if running:
            lines.append(f"{self.session.running_job_text()} is under way: closing stops it.")
        self._asking = True
        try:
            answer = confirm.ask_before_discarding(
                self, "\n".join(lines), discard="Close without saving" if unsaved else "Close",
                save="Save all and close" if unsaved else None, save_loses_some=bool(painted or drawn))
        finally:
            self._asking = False
        if answer == "cancel":  # the whole close is called off: an earlier answer of it no longer holds
            self._close_called_off()
            return False
        # "Save all" saves the results (those finished meanwhile too); the strokes not restored were
        # said to be lost: not asked again
        self._strokes_let_go |= set(painted) | set(drawn)
        if answer == "save":  # (a photo the user chose to lose at an earlier question stays lost: review)
            self._discard_ok = self._discard_ok or set()
            self.exports.save_unsaved(leaving=self._discard_ok)
            return True
        self._discard_ok = (self._discard_ok or set()) | set(unsaved)
        # a result that came while the question was open was never offered to save: asked about now
        # (QA: one that finished under the question was thrown away unsaid)
        return self._confirm_close()

    def _set_fidelity(self, fidelity: float) -> None:
        """Use the slider's fidelity for the next run; it is written on release or on close. The
        slider brought back onto the model's own fidelity means that again (as its reset button
        does, which hides there): the model's default."""
        at_default = abs(fidelity - self.fidelity.model_default()) < 1e-6
        self.session.prefs = dataclasses.replace(self.session.prefs, fidelity=None if at_default else fidelity)
        self._fidelity_unsaved = True
        self.show_photo_text()  # the result shown may have been made at another fidelity
        self.note_waiting_restores()

    def _use_model_fidelity(self) -> None:
        """From now on the model's own fidelity (also after a change of model); saved at once."""
        self.session.prefs = dataclasses.replace(self.session.prefs, fidelity=None)
        self._fidelity_unsaved = True
        self._save_fidelity()
        self.show_photo_text()
        self.show_states()
        self.note_waiting_restores()

    def _save_fidelity(self) -> None:
        if self._fidelity_unsaved:
            self.save_settings(self.session.prefs)
            self._fidelity_unsaved = False

    def say_no_log_file(self) -> None:
        """Say that this run keeps no log file (its folder cannot be written), so errors' details
        are not kept."""
        self.notices.show_notice(Notice(
            f"No log file this time: {paths.user_log_dir()} cannot be written, so the details of any error are "
            "not kept.", "warning"))

    def save_settings(self, prefs) -> None:
        """Write the settings; when they cannot be written, say so once a problem (they last until
        faceapp closes)."""
        self._say_settings_problem(self.store.save(prefs), "Settings could not be saved")

    def _say_settings_problem(self, problem: str | None, what: str,
                              after: str = "Changes apply until faceapp closes.") -> None:
        if problem is not None and problem != self._settings_problem:
            self._settings_problem = problem
            self.notices.show_notice(Notice(f"{what}: {problem}. {after}".rstrip(), "warning"))

    def _box_drawn(self, box) -> None:
        if self.current is not None and self.session.entries[self.current].photo is not None:
            self.session.add_face_box(self.current, box)
            self.actions_["draw_box"].setChecked(False)

    def _scroll_to_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        """A control of the side panel given the focus (Tab from the photo) is scrolled into sight:
        the fidelity slider with its value above it (keyboard QA)."""
        if new is None or not self.side_panel.widget().isAncestorOf(new):
            return
        if QApplication.mouseButtons() != Qt.MouseButton.NoButton:  # a click: nothing moves under the pointer
            return
        self.side_panel.ensureWidgetVisible(self.fidelity if self.fidelity.isAncestorOf(new) else new, 0, 0)

    def _split_reset(self) -> None:
        self.compare.set_view_mode("split")
        self.compare.set_split(0.5)

    def _notice_action(self, action: str, subject: object = None) -> None:
        """A notice's button: ``subject`` is the photo it is about, when it names one."""
        {"models": self.models.open_models, "settings": self.models.open_settings,
         "open": self.open_files, "open_folder": self.open_folder, "log": self.actions_["log_folder"].trigger,
         "save_as": lambda: self._show_if_loaded(subject) and self.exports.save_as(),
         "export_all": self.exports.export_all,
         "draw_box": lambda: self._draw_box_on(subject),
         "load_mask": lambda: isinstance(subject, Path) and subject in self._masks_offered and self._add_damage_mask(
             subject, self._masks_offered[subject]),  # (the one offered; gone since: its reading says so)
         }[action]()

    def _show_if_loaded(self, path: object) -> bool:
        """Show ``path`` when it is still loaded (else stay on the photo shown); whether it is shown."""
        if isinstance(path, Path) and path in self.session.entries and path != self.current:
            self.filmstrip.select(path)
        return path is None or path == self.current

    def _draw_box_on(self, path: object) -> None:
        """Show ``path`` (when it is still loaded; else stay on the photo shown) and start drawing a face box."""
        self._show_if_loaded(path)
        if self.actions_["draw_box"].isEnabled():
            self.actions_["draw_box"].setChecked(True)

    def open_log_folder(self) -> None:
        """Help ▸ Open log folder; where no file manager can be opened, the folder is named (smoke
        QA: nothing was said, and the log was what was being looked for)."""
        folder = paths.user_log_dir()
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.notices.show_notice(Notice(f"No file manager could be opened: faceapp's log is in {path_text(folder)}.",
                                            "warning"))

    def _about(self) -> None:
        """Version, method, and the licence of every model the app knows (some are non-commercial)."""
        registry = self.models.registry()
        models = [f"• {m.title}: {m.licence or 'licence unknown'}" for m in (registry.list() if registry else [])]
        self.about_box = about_dialog(self, f"faceapp {__version__}\nRepairs faces in old, blurry or damaged photos "
                                  "with DifFace (diffused estimation → DDIM with a face prior; Yue & Loy).\n\n"
                                  "Models and their licences:\n" + "\n".join(models)
                                  + "\n• Face detector: RetinaFace mobile0.25 (facexlib), MIT\n\n"
                                  "faceapp's own model was trained on All-Age-Faces, research data of mostly "
                                  f"East-Asian faces: see its model card "
                                  f"({paths.bundled_models_dir() / 'MODEL_CARD.md'}).\n\n"
                                  + _libraries_text(paths.third_party_notices()))
        self.about_box.open()

    # ---- window state ----------------------------------------------------------------------
    def show_states(self) -> None:
        """Every photo's state in the filmstrip again (the settings changed)."""
        resolved = self.session.backend.resolved(self.session.prefs)
        for path in self.session.entries:
            self._show_state(path, resolved)

    def note_waiting_restores(self) -> None:
        """Settings changed while restores wait in the queue: say that those keep the settings of
        when Restore was pressed, and how to apply these (QA: found out photo by photo afterwards)."""
        waiting = self.session.waiting_with_other_settings()
        said_before, self._waiting_noted = self._waiting_noted, tuple(waiting)
        if waiting and tuple(waiting) != said_before:  # once for the same photos (the slider changes on every step)
            one = len(waiting) == 1
            self.say(f"{counted(len(waiting), 'photo')} waiting to be restored {'keeps' if one else 'keep'} the "
                     f"settings of when Restore was pressed: Restore all again restores {'it' if one else 'them'} "
                     "with these.")

    def _refine_shown_face(self) -> None:
        """Refine the face the seed gallery shows; one spared the prior asks first, Cancel the
        default (damage QA: Refine let the prior smear a face kept as sharp, unasked, and picked it)."""
        entry = self.session.entries.get(self.current) if self.current is not None else None
        position = self.gallery.current_face()
        if entry is None or entry.result is None or position < 0:
            return
        choice = sparing_choice(entry.result, position)
        number = self.gallery.current_number() + 1
        spared = (f"Face {number} was spared the prior: the restorer barely changed it, and the prior would mostly "
                  "smear it. Refine lets the prior work on it all the same." if choice is not None and choice.kept else
                  f"Face {number} was sampled at fidelity {entry.result.faces[position].fidelity:.2f}, above the "
                  f"{choice.asked:.2f} it was restored at: the restorer barely changed it, and the prior would mostly smear it. "
                  "Refine lets the prior work on it more." if choice is not None else "")
        face = entry.result.faces[position]
        refined_already = bool(face.refinement_of(face.chosen))  # (refined "anyway" before: power-user QA, asked
        if choice is not None and choice.diffuse and not refined_already and confirm.ask_before_discarding(  # again
                self, spared, discard="Refine anyway") != "discard":  # (day QA: "spared the prior" of a face it sampled)
            return
        self.session.refine(entry.path, position)

    def _tool_hint(self, tool: str, on: bool) -> None:
        """Say how ``tool`` is used from the keyboard as it is taken up (GUI QA: in tooltips only,
        which a keyboard cannot open); take the words down as it is left (keyboard QA: the brush's
        stayed over the photo after Esc)."""
        text = _TOOL_HINTS[tool]
        if on:
            self.say(text)
            return
        self.notices.take_down(text)
        if self.statusBar().currentMessage() == text:
            self.statusBar().clearMessage()

    def _hint(self, text: str, timeout_ms: int) -> None:
        """A short hint in the status bar for ``timeout_ms``, kept in View ▸ Messages (review: these
        went by unlogged). A brush size shown as it changes is not a message: it is not logged."""
        self.statusBar().showMessage(text, timeout_ms)
        self.messages.add("info", text)

    def say(self, text: str, *, subject: Path | None = None) -> None:
        """A passing message: in the status bar when it fits there whole, else as an info notice
        above the photo, which wraps it (a long one was cut off in the status bar: "…; face 3 at
        fidelity ("); ``subject``: the photo it is about, whose notice goes out of sight while
        another photo is shown (QA: one photo's "Sharp faces spared" stayed over the next)."""
        text = message_text(text)  # (a name's undecodable bytes as \xNN, its control characters escaped)
        bar = self.statusBar()
        labels = (self.time_label, self.model_label, self.device_label)
        most = max(_LEAST_STATUS_LABEL, bar.width() // (2 * len(labels)))  # what they may take beside a message
        # as wide as they may grow while it shows ("Last run: …" is set just after a restore's message)
        taken = len(labels) * most + self.zoom_label.sizeHint().width()
        # a run's progress bar, shown or not: a run may start right after the message (QA: "1 photo
        # already restored at these settings kept a" was cut off by the bar of the restore it started)
        taken += self.progress_bar.maximumWidth()
        if self.exports.status.isVisible():  # an export's progress
            taken += self.exports.status.width()
        room = bar.width() - taken - 4 * bar.layout().spacing() - 24
        if bar.fontMetrics().horizontalAdvance(text) <= room:
            bar.showMessage(text, 8000)
            announce(self, text)  # (a notice says its own, and logs its own)
            self.messages.add("info", text)
        else:
            self.notices.show_notice(Notice(text, "info", subject=subject))

    def _make_room_for_message(self, message: str) -> None:
        """While the status bar shows a message, its shortening labels give way to it, not it to
        them: they share what the message leaves, the narrowest whole first, and shorten only when
        that is too little (GUI QA: a short "Brush: 40 px across" message shortened the model's
        name, when each label was held to a sixth of the bar whatever the message's length)."""
        labels = sorted((self.time_label, self.model_label, self.device_label), key=lambda l: l.sizeHint().width())
        if not message:
            for label in labels:
                label.setMaximumWidth(16_777_215)  # QWIDGETSIZE_MAX
            return
        room = self._status_bar_room() - self.statusBar().fontMetrics().horizontalAdvance(message)
        for left, label in zip(range(len(labels), 0, -1), labels):
            most = max(_LEAST_STATUS_LABEL, room // left)
            label.setMaximumWidth(most)
            room -= min(most, label.sizeHint().width())

    def _restore_window_state(self) -> None:
        geometry, state = self.store.geometry(), self.store.window_state()
        room = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
            # Qt keeps the saved size in device pixels: at another scale (a laptop docked to a monitor,
            # 150 % → 200 %) the window came back a quarter smaller, the gallery out of sight (QA). It
            # keeps its size as the user saw it, frame and all within the screen.
            size = self.store.window_size()
            if size is not None and not (self.isMaximized() or self.isFullScreen()) and size != (self.width(), self.height()):
                frame = self.frameGeometry().size() - self.size()  # (none until the window manager adds one)
                width = min(size[0], room.width() - frame.width())
                height = min(size[1], room.height() - frame.height())
                self.resize(width, height)
                left = min(max(self.x(), room.left()), room.right() + 1 - width - frame.width())
                top = min(max(self.y(), room.top()), room.bottom() + 1 - height - frame.height())
                self.move(left, top)
        else:  # the first start: a comfortable size that fits the screen (a 1366x768 laptop, 150 % scaling)
            self.resize(min(1280, round(room.width() * 0.95)), min(820, round(room.height() * 0.9)))
        if state is not None:
            self.restoreState(state)
        if (shares := self.store.splitter_state()) is not None:
            self.splitter.restoreState(shares)  # (the side panel's least width is kept by Qt)
            if 0 in self.splitter.sizes():  # (collapsed by an earlier faceapp, and remembered: QA)
                self.splitter.setSizes([900, 340])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self._confirm_close():
            event.ignore()
            return
        if not self.exports.may_close():  # it closes by itself once the files are written
            event.ignore()
            return
        self._save_fidelity()
        normal = self.normalGeometry() if self.isMaximized() or self.isFullScreen() else self.geometry()
        self.store.save_window(self.saveGeometry(), self.saveState(), (normal.width(), normal.height()),
                               self.splitter.saveState())
        self.session.shutdown()
        super().closeEvent(event)

