"""Why each of the window's main actions is off, in words (desktop QA: a greyed Save said nothing of
restoring first, and its Ctrl+S did nothing without a word). The window shows them in the actions'
tooltips and status tips (:func:`faceapp.gui.actions.set_unavailable`), and says one when the key of
an action that is off is pressed."""

from __future__ import annotations


def reasons_off(*, photo: str | None, failed: bool, loaded: bool, restored: bool,
                restoring: bool) -> dict[str, str]:
    """Action name → why it would be off, for the photo shown (``photo``: its name; None: none):
    ``failed`` to open, ``loaded``, ``restored``, or being restored now (``restoring``). Each reason
    is read only where its action is off."""
    first = ("Open a photo first" if photo is None
             else f"{photo} could not be opened" if failed
             else f"Available once {photo} is open" if not loaded else None)
    unrestored = first or ("" if restored else "Restore the photo first")
    reasons = {
        "save": unrestored, "save_as": unrestored, "toggle_compare": unrestored, "split_reset": unrestored,
        "refine": unrestored or "Available once the restores running now are done",
        "eraser": first or "Take the damage brush first (P)",
        "undo": first or "Nothing to take back on this photo", "redo": first or "Nothing taken back to do again",
        "clear_damage": first or "No damage painted", "save_damage": first or "No damage painted",
        "export_all": "Restore a photo first",
        "show_in_folder": "Open a photo first", "copy_path": "Open a photo first",
        "restore": first or ("The photo is being restored" if restoring
                             else "No face to restore: draw a box (D), switch a face on by its number, or paint "
                                  "damage (P) for Restore to fill"),
    }
    for name in ("copy", "draw_box", "damage_brush", "brush_bigger", "brush_smaller", "load_damage",
                 "zoom_fit", "zoom_actual", "zoom_in", "zoom_out"):
        reasons[name] = first or ""
    return reasons
