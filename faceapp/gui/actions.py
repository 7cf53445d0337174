"""Every main action of the window, with its text, icon and keyboard shortcut, and where it
appears: the menus and the toolbar."""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QMenuBar, QToolBar, QToolTip, QWidget

from faceapp.gui.icons import icon

_Std = QKeySequence.StandardKey

def models_keys(platform: str = sys.platform) -> str:
    """Models…'s shortcut: Ctrl+M, but on a Mac, where that is ⌘M and minimizes the window, ⌥⌘M
    (portability QA)."""
    return "Ctrl+Alt+M" if platform == "darwin" else "Ctrl+M"


#: name → (text, icon, shortcut, tooltip)
ACTIONS: dict[str, tuple[str, str, object, str]] = {
    "open": ("&Open…", "open", _Std.Open, "Open photos"),
    "open_folder": ("Open &folder…", "open", "Ctrl+Shift+O", "Open every photo in a folder"),
    "paste": ("&Paste photo", "paste", _Std.Paste, "Load a photo from the clipboard"),
    "copy": ("&Copy photo", "", _Std.Copy, "Copy the photo shown, restored once it is (with the faces chosen in the "
             "gallery), to paste into another program"),
    "save": ("&Save", "save", _Std.Save, "Save next to the original (never overwrites)"),
    "save_as": ("Save &as…", "save-as", _Std.SaveAs, "Save with another name, format or quality"),
    "export_all": ("&Export all…", "export-all", "Ctrl+E", "Save every restored photo to a folder"),
    "remove": ("Re&move photo", "", _Std.Delete, "Remove the photo from the filmstrip (its file stays as it is)"),
    "remove_all": ("Remove a&ll photos", "", "Ctrl+Shift+W", "Remove every photo from the filmstrip (the files stay as "
                   "they are)"),
    "show_in_folder": ("Show in fol&der", "", "", "Open the folder of the photo's saved result, else of the photo, "
                       "in the file manager"),
    "copy_path": ("Copy pat&h", "", "", "Copy the photo's file path, to paste into another program"),
    "quit": ("&Quit", "", _Std.Quit, "Quit faceapp"),
    "restore": ("&Restore", "restore", "Ctrl+R", "Restore the faces of this photo"),
    "restore_all": ("Restore &all", "restore", "Ctrl+Shift+R", "Restore, in turn, every photo not yet restored at these settings"),
    "cancel": ("&Cancel", "cancel", "Esc", "Stop the running restoration"),
    "draw_box": ("&Draw face box", "draw-box", "D",
                 "Drag a box around a face the detector missed (or press an arrow key, move the box with "
                 "the arrows, resize it with + and -, add it with Enter)"),
    "damage_brush": ("Damage &brush", "brush", "P",
                     "Paint over scratches, tears, stains or missing parts; Restore fills them (right drag erases; "
                     "from the keyboard: an arrow key places the brush, the arrows move it, Shift with an arrow "
                     "paints as it moves, Space paints where it is)"),
    "eraser": ("&Eraser", "eraser", "E", "The damage brush erases instead of painting"),
    "brush_bigger": ("B&igger brush", "", "]", "Make the damage brush bigger"),
    "brush_smaller": ("&Smaller brush", "", "[", "Make the damage brush smaller"),
    "undo": ("&Undo", "", _Std.Undo, "Take back the photo's last edit (a damage stroke, clear or mask loaded, a seed "
             "picked, a face switched on or off, a box drawn: the menu names it)"),
    "redo": ("&Redo", "", _Std.Redo, "Do again the edit of this photo taken back last"),
    "clear_damage": ("C&lear damage", "", "Ctrl+Shift+Backspace", "Remove all the damage painted on this photo"),
    "load_damage": ("Load damage &mask…", "", "",
                    "Add the damage a mask file marks (white on black, the photo's size) to what is painted"),
    "save_damage": ("Save damage mas&k…", "", "",
                    "Save the painted damage as a mask file, for later or for faceapp-cli restore --mask (white on "
                    "black)"),
    "refine": ("Re&fine face", "restore", "F",
               "Restore the chosen candidate of the selected face again at a high fidelity (each pass joins the "
               "gallery)"),
    "settings": ("Se&ttings…", "settings", "Ctrl+,", "Device, model, steps, seeds, output"),
    "models": ("&Models…", "models", models_keys(), "Download, import and delete models"),
    "gallery": ("Seed &gallery", "gallery", "G", "Show the candidates of the selected face"),
    "messages": ("&Messages…", "", "Ctrl+Shift+M", "Every message shown since faceapp started, those gone by "
                 "themselves too"),
    "toggle_compare": ("&Before / after", "compare", "B",
                       "Cycle split view, whole before and whole after"),
    "split_reset": ("&Split view", "compare", "S", "Back to the split view, divider centred"),
    "zoom_fit": ("&Fit", "zoom-fit", "Ctrl+0", "Fit the photo in the window"),
    "zoom_actual": ("&100 %", "zoom-actual", "Ctrl+1", "Show the photo at 100 %: one photo pixel per screen pixel"),
    "zoom_in": ("Zoom &in", "zoom-in", _Std.ZoomIn, "Zoom in"),  # (and Ctrl+=: see build_actions)
    "zoom_out": ("Zoom &out", "zoom-out", _Std.ZoomOut, "Zoom out"),
    # (with Ctrl: plain Page Up / Down belong to the slider and the zoomed photo's scrolling)
    "full_screen": ("F&ull screen", "", "F11", "Show the window on the whole screen, or back in its frame (Esc "
                    "leaves it too)"),
    "next_photo": ("&Next photo", "", "Ctrl+PgDown", "Show the next photo of the filmstrip"),
    "previous_photo": ("&Previous photo", "", "Ctrl+PgUp", "Show the previous photo of the filmstrip"),
    "how_it_works": ("&How faceapp works", "", "", "What the restorer, the prior, fidelity, seeds and spared faces are"),
    "shortcuts": ("&Keyboard shortcuts", "", _Std.HelpContents, "Every key the window answers, in one list"),
    "log_folder": ("Open &log folder", "", "", "Show the folder holding faceapp's log file"),
    "about": ("&About faceapp", "", "", ""),
    "about_qt": ("About &Qt", "", "", "The version and licence of Qt, the toolkit of faceapp's window"),
}


def plain_menu_text(text: str) -> str:
    """A menu text without its access-key ampersands ("&Save as…" → "Save as…")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def set_tip(action: QAction, tip: str) -> None:
    """``tip`` as the action's status tip, and as its tooltip with its shortcut (and the reason it
    is off, while :func:`set_unavailable` gives one)."""
    action.setProperty("tip", tip)
    _show_tip(action)


def set_unavailable(action: QAction, reason: str | None) -> None:
    """Why ``action`` is off now, said after its tip (None: it is not, or needs no word; desktop
    QA: a greyed Save said nothing of restoring first, and its Ctrl+S did nothing without a word)."""
    if action.property("unavailable") != reason:
        action.setProperty("unavailable", reason)
        _show_tip(action)


def _show_tip(action: QAction) -> None:
    tip, reason = action.property("tip") or "", action.property("unavailable")
    shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    tip = f"{tip}. {reason}" if reason and tip else reason or tip
    action.setToolTip(f"{tip} ({shown})" if shown else tip)
    action.setStatusTip(_fitted(action.property("tip") or "", reason))


def _fitted(tip: str, reason: str | None) -> str:
    """The status tip: the tip and why the action is off, each without its asides in brackets where
    the whole is long, and only the reason where both still do not fit (review: "Restore … No face
    to restore: draw a box around one (D), …" ran to 155 characters)."""
    whole = f"{tip}. {reason}" if reason and tip else reason or tip
    if len(whole) <= _STATUS_TIP_ROOM:
        return whole
    tip, reason = _without_asides(tip), _without_asides(reason or "")
    whole = f"{tip}. {reason}" if reason and tip else reason or tip
    return whole if len(whole) <= _STATUS_TIP_ROOM or not reason else reason


#: Characters of a tip the status bar shows whole beside its labels at 1280 px; a longer tip's
#: asides in brackets are left to the tooltip (copy QA: the brush's 248 were cut mid-word there).
_STATUS_TIP_ROOM = 100


def _without_asides(text: str) -> str:
    """``text`` without its asides in brackets (each with the space before it)."""
    kept, depth = [], 0
    for char in text:
        if char == "(":
            depth += 1
            if depth == 1 and kept and kept[-1] == " ":
                kept.pop()
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept).strip()


#: The entries a Mac's application menu holds (elsewhere, the menus of :data:`MENUS`).
_MENU_ROLES = {"settings": QAction.MenuRole.PreferencesRole, "quit": QAction.MenuRole.QuitRole,
               "about": QAction.MenuRole.AboutRole, "about_qt": QAction.MenuRole.AboutQtRole}


def build_actions(parent: QWidget) -> dict[str, QAction]:
    """A QAction per entry of :data:`ACTIONS`, parented to ``parent``."""
    built: dict[str, QAction] = {}
    for name, (text, icon_name, shortcut, tip) in ACTIONS.items():
        action = QAction(icon(icon_name) if icon_name else QAction(parent).icon(), text, parent)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            set_tip(action, tip)
        built[name] = action
    for name in ("draw_box", "damage_brush", "eraser", "full_screen"):
        built[name].setCheckable(True)
    # On a Mac, Qt moves entries into the application menu by their words ("Settings", "Quit",
    # "About…"): the four that belong there are named, and no other moves by its words (portability QA)
    for name, action in built.items():
        action.setMenuRole(_MENU_ROLES.get(name, QAction.MenuRole.NoRole))
    # Ctrl+W closes the document in desktop programs: here the photo (desktop QA: it did nothing)
    built["remove"].setShortcuts([built["remove"].shortcut(), QKeySequence("Ctrl+W")])
    # F11 everywhere, and the platform's own key besides (keyboard QA: on plain X11 Qt binds none)
    built["full_screen"].setShortcuts(list(dict.fromkeys([QKeySequence("F11"),
                                                          *QKeySequence.keyBindings(_Std.FullScreen)])))
    # Ctrl++ needs Shift on most keyboards: Ctrl+= zooms in too, as in browsers and editors
    built["zoom_in"].setShortcuts([built["zoom_in"].shortcut(), QKeySequence("Ctrl+=")])
    # Redo is Ctrl+Shift+Z or Ctrl+Y by platform and desktop; both work everywhere (two-instance QA:
    # on X11 Ctrl+Y did nothing, offscreen Ctrl+Shift+Z), the platform's own shown first
    redo = built["redo"]
    redo.setShortcuts(list(dict.fromkeys([*QKeySequence.keyBindings(_Std.Redo),
                                          QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])))
    # Qt's Windows key bindings give Save as none (portability QA): Ctrl+Shift+S, as elsewhere
    with_key_besides(built["save_as"], QKeySequence("Ctrl+Shift+S"))
    return built


def with_key_besides(action: QAction, key: QKeySequence) -> None:
    """Give ``action`` ``key`` after the platform's own key for it, if any (the one its menu shows)."""
    action.setShortcuts(list(dict.fromkeys(k for k in (action.shortcut(), key) if not k.isEmpty())))


#: menu title → action names; None is a separator, "recent" the Open recent submenu, "faces" the
#: Faces submenu (one checkable entry per face of the photo shown: the keyboard's way to switch a
#: face on or off, as a click on its box does), "appearance" the Appearance submenu (the window's
#: colours: :mod:`faceapp.gui.appearance`), "toolbar" the toolbar's show-or-hide entry.
MENUS: dict[str, list[str | None]] = {
    "&File": ["open", "open_folder", "recent", "paste", None, "save", "save_as", "export_all", None,
              "show_in_folder", "copy_path", "remove", "remove_all", None, "quit"],
    "&Edit": ["copy", None, "undo", "redo", None, "draw_box", "damage_brush", "eraser", "brush_bigger",
              "brush_smaller", "clear_damage", "load_damage", "save_damage", None, "settings"],
    "&View": ["toggle_compare", "split_reset", None, "zoom_fit", "zoom_actual", "zoom_in", "zoom_out",
              None, "next_photo", "previous_photo", None, "gallery", "messages", None, "full_screen", "toolbar",
              "appearance"],
    "&Photo": ["restore", "restore_all", "refine", "cancel", None, "faces"],
    "&Models": ["models"],
    "&Help": ["how_it_works", "shortcuts", "log_folder", "about", "about_qt"],
}
#: The menus a right-click opens (desktop QA: there were none, and a right-click on a seed chose it):
#: on the photo, on a photo of the filmstrip, on the filmstrip's empty part.
CONTEXT_MENUS: dict[str, list[str | None]] = {
    "photo": ["copy", "save", "save_as", None, "show_in_folder", None, "toggle_compare", "zoom_fit", "zoom_actual"],
    "thumbnail": ["restore", "save", "save_as", "copy", None, "show_in_folder", "copy_path", None, "remove"],
    "filmstrip": ["open", "open_folder", "paste"],
}
TOOLBAR: list[str | None] = ["open", "save", "export_all", None, "restore", "cancel", None,
                             "draw_box", "damage_brush", "eraser", "toggle_compare", "zoom_fit", "zoom_actual", None,
                             "settings", "models"]


def install_menus(window: QMainWindow, actions: dict[str, QAction]) -> dict[str, QMenu]:
    """Fill the window's menu bar and add its toolbar; returns the (empty) submenus the window
    fills: "recent" (Open recent) and "faces" when they open, "appearance" once."""
    submenus = {"recent": QMenu("Open re&cent", window), "faces": QMenu("Fac&es", window),
                "appearance": QMenu("&Appearance", window)}
    submenus["faces"].setToolTipsVisible(True)
    toolbar = FittingToolBar("Toolbar")  # (a screen reader read the title: \"&Toolbar\" named it so)
    toolbar.toggleViewAction().setText("&Toolbar")  # its entry in the menus that show or hide it
    toolbar.setObjectName("main-toolbar")
    toolbar.setAccessibleName("Toolbar")
    for name in TOOLBAR:
        toolbar.addSeparator() if name is None else toolbar.addAction(actions[name])
    for title, names in MENUS.items():
        menu = window.menuBar().addMenu(title)
        for name in names:
            if name is None:
                menu.addSeparator()
            elif name in submenus:
                menu.addMenu(submenus[name])
            elif name == "toolbar":  # (once hidden, it came back only from the menu bar's right-click menu)
                menu.addAction(toolbar.toggleViewAction())
            else:
                menu.addAction(actions[name])
    reasons = _ReasonTips(window)
    for menu in window.menuBar().findChildren(QMenu):
        menu.installEventFilter(reasons)
        menu.aboutToHide.connect(lambda bar=window.menuBar(): QTimer.singleShot(0, lambda: _leave_menu_bar(bar)))
    menu_key = QAction("Menu bar", window)  # F10 opens the first menu, as on Linux desktops (QA: Alt alone did)
    menu_key.setShortcut(QKeySequence(Qt.Key.Key_F10))
    menu_key.triggered.connect(lambda: window.menuBar().setActiveAction(window.menuBar().actions()[0]))
    window.addAction(menu_key)
    window.addToolBar(toolbar)
    return submenus


class _ReasonTips(QObject):
    """Shows, over a greyed entry of the menu bar's menus, why it is off (:func:`set_unavailable`)
    as a tooltip: a greyed entry takes no hover, so its status tip never showed, and the menus show
    no tooltips of entries that work (review: a greyed Save said nothing of why, in the menu)."""

    def eventFilter(self, menu: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ToolTip and isinstance(menu, QMenu) and not menu.toolTipsVisible():
            action = menu.actionAt(event.pos())
            reason = action.property("unavailable") if action is not None and not action.isEnabled() else None
            if reason:
                QToolTip.showText(event.globalPos(), reason, menu, menu.actionGeometry(action))
            else:
                QToolTip.hideText()
            return True
        return False


def _leave_menu_bar(bar: QMenuBar) -> None:
    """A menu closed by Esc (opened by F10 or Alt+letter) leaves the menu bar holding the keyboard,
    its title highlighted by no style the QA saw: Tab, the arrows and the slider did nothing until a
    second Esc. Unless another menu opened meanwhile (the arrows move between them), the menu bar
    lets go at once, giving the keyboard back where it was (Qt's own second Esc)."""
    if QApplication.activePopupWidget() is None and QApplication.focusWidget() is bar:
        QApplication.sendEvent(bar, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier))


class FittingToolBar(QToolBar):
    """A toolbar whose buttons show their text beside the icon while every button fits, and only
    the icon (the text stays in the tooltip) when the window is too narrow for that: no button is
    pushed into the overflow menu while a narrower style would show it."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def width_with_text(self) -> int:
        """The width every button needs with its text beside the icon."""
        style = self.toolButtonStyle()
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        width = self.sizeHint().width()
        self.setToolButtonStyle(style)
        return width

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        fits = event.size().width() >= self.width_with_text()
        wanted = Qt.ToolButtonStyle.ToolButtonTextBesideIcon if fits else Qt.ToolButtonStyle.ToolButtonIconOnly
        if self.toolButtonStyle() != wanted:
            self.setToolButtonStyle(wanted)
        super().resizeEvent(event)
