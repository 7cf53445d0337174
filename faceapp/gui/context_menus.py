"""The window's right-click menus: on the photo, on a photo of the filmstrip, on the filmstrip's empty
part and on a seed, made of the window's own actions (desktop QA: there were none, and a right
click on a seed chose it), and Shift+F10 to open the one of the widget with the keyboard (keyboard
QA: laptops without a Menu key had no way to them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu, QWidget

from faceapp.gui.actions import CONTEXT_MENUS

if TYPE_CHECKING:
    from faceapp.gui.main_window import MainWindow


class ContextMenus(QObject):
    """Gives ``window``'s photo view, filmstrip and seed gallery their right-click menus."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.shown: QMenu | None = None  # the menu open last (kept while it is open)
        for widget, show in ((window.compare, self._photo), (window.filmstrip, self._filmstrip),
                             (window.gallery, self._seed)):
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(show)
        key = QAction("Context menu", window)
        key.setShortcut(QKeySequence("Shift+F10"))
        key.triggered.connect(self._from_keyboard)
        window.addAction(key)

    def _open(self, kind: str, widget: QWidget, where: QPoint, *, title: str, first: tuple[QAction, ...] = ()) -> None:
        """Open the menu ``kind`` of :data:`CONTEXT_MENUS` at ``where`` on ``widget`` (``first``: entries
        of its own above the window's actions; ``title``: what a screen reader calls it, keyboard QA:
        every one was "faceapp")."""
        menu = QMenu(self._window)
        menu.setAccessibleName(title)
        menu.setToolTipsVisible(True)
        for action in first:
            menu.addAction(action)
        if first:
            menu.addSeparator()
        for name in CONTEXT_MENUS[kind]:
            menu.addSeparator() if name is None else menu.addAction(self._window.actions_[name])
        menu.aboutToHide.connect(menu.deleteLater)
        self.shown = menu
        menu.popup(widget.mapToGlobal(where))

    def _photo(self, where: QPoint) -> None:
        window = self._window
        if window.compare.before_image() is not None and window.current is not None:
            self._open("photo", window.compare, where, title=f"Menu of {window.current.name}")

    def _filmstrip(self, where: QPoint) -> None:
        """On a photo: what can be done with it (the right press shows it first, as file managers
        select what is right-clicked); on the strip's empty part, ways to open more."""
        window = self._window
        if window.filmstrip.itemAt(where) is None or window.current is None:
            self._open("filmstrip", window.filmstrip, where, title="Menu of the filmstrip")
        else:
            self._open("thumbnail", window.filmstrip, where, title=f"Menu of {window.current.name}")

    def _seed(self, where: QPoint) -> None:
        """On a seed's thumbnail: using that seed (said by its number: sceptic QA), then the photo's menu."""
        window = self._window
        candidate = window.gallery.candidate_at(where)
        if candidate is None:
            return
        face = window.gallery.current_face()
        entry = window.session.entries.get(window.current) if window.current is not None else None
        seeds = entry.result.faces[face].seeds if entry is not None and entry.result is not None and face >= 0 else ()
        use = QAction(f"&Use seed {seeds[candidate]}" if candidate < len(seeds) else "&Use this candidate", self)
        use.triggered.connect(lambda: window.gallery.click_candidate(candidate))
        self._open("photo", window.gallery, where, title=f"Menu of candidate {candidate + 1}", first=(use,))

    def _from_keyboard(self) -> None:
        """Shift+F10: the menu of the widget with the keyboard, at its current item, as the Menu key opens it."""
        target = QApplication.focusWidget()
        if target is None or not self._window.isAncestorOf(target):
            return
        if isinstance(target, QAbstractItemView) and target.currentIndex().isValid():
            where = target.viewport().mapTo(target, target.visualRect(target.currentIndex()).center())
        else:
            where = target.rect().center()
        QApplication.sendEvent(target, QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, where,
                                                         target.mapToGlobal(where)))
