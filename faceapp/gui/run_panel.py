"""The restoration panel: fidelity slider, Restore and Cancel, the live face preview and progress."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from faceapp.core.wording import duration, listed
from faceapp.gui.fidelity_control import FidelityControl
from faceapp.gui.icons import icon
from faceapp.gui.look import PHOTO_BACKGROUND, section_title
from faceapp.gui.qimage import rgb_to_pixmap

PREVIEW_PX = 144  # the live preview's side when the panel has the room
PREVIEW_MIN_PX = 72  # the smallest it shrinks to in a low window, so its caption keeps its place
NO_PHOTO_TEXT = "Open or drop a photo to start."
READY_TEXT = "Press Restore to repair the faces of this photo."


#: How the panel names a preference a result was made with (the fidelity has a line of its own).
_SETTING_NAMES = {"device": "device", "precision": "precision", "model": "model", "steps": "steps", "eta": "η",
                  "schedule": "schedule", "polish_timestep": "texture polish", "spare_sharp_faces": "sharp-face sparing",
                  "seeds_per_face": "seeds", "base_seed": "first seed", "repair_resamples": "damage resampling",
                  "upscale": "upscale", "descreen": "halftone smoothing"}


def photo_text(entry, fidelity: float | None = None, prefs=None, *, steps_follow_model: bool = False) -> str:
    """What the panel says about a photo no job is working on (a ``PhotoEntry``): loading or why
    it could not be opened, what to do next, or how its restore went; ``fidelity``, the slider's,
    when it is not the one the result shown was made at; ``prefs``, the preferences now (resolved:
    ``CoreBackend.resolved``), to name the other settings the result was not made with;
    ``steps_follow_model``: the user left the step count to the model, so with another model its own
    count is not named as a second change."""
    name = entry.path.name
    if entry.photo is None:
        if not entry.error:
            return f"Loading {name}…"
        # why is said where the photo would be (and in its notice); opening it again reads it again
        if not entry.unreadable:  # read, but its faces could not be found (the detector failed)
            return f"The faces of {name} could not be found: the notice says why. Open it again to try again."
        return f"Could not open {name}. Open it again to try again, or take it off with File ▸ Remove photo (Delete)."
    if not entry.faces:
        text = f"No face was found in {name}. Draw a box around a face (Edit → Draw face box), then press Restore."
    elif not entry.enabled_faces():
        text = f"Every face of {name} is switched off: click a face's number to include it, then press Restore."
    elif entry.result is not None:
        text = f"{name}\nRestored" + (f" in {duration(entry.run_seconds)}" if entry.run_seconds is not None else "")
        made_at = entry.result.settings.sampler.fidelity
        other_fidelity = fidelity is not None and abs(fidelity - made_at) >= 0.005
        names = (prefs.restoration_changes(entry.restored_with, printed=entry.result.printed)
                 if prefs is not None and entry.restored_with else [])
        unnamed = {"fidelity"}  # said with the slider's value
        if steps_follow_model and "model" in names:
            unnamed.add("steps")  # the other model's own count comes with it
        changed = [_SETTING_NAMES.get(name, name.replace("_", " ")) for name in names if name not in unnamed]
        if other_fidelity and changed:  # one sentence, one "press Restore" (QA: two stacked)
            text += (f"\nMade at fidelity {made_at:.2f} and with other settings ({', '.join(changed)}): press Restore "
                     f"to use {fidelity:.2f} and these.")
        elif other_fidelity:
            text += f"\nMade at fidelity {made_at:.2f}: press Restore to use {fidelity:.2f}."
        elif changed:
            text += f"\nMade with other settings ({', '.join(changed)}): press Restore to use these."
        if entry.outdated:
            text += "\nFaces or damage changed since this result was made: press Restore to apply the changes."
    else:
        text = READY_TEXT
    doubtful = [face for face in entry.faces if not getattr(face, "enabled", True) and getattr(face, "unsure", False)]
    if doubtful and entry.enabled_faces():  # (why a face is off that the user did not switch off: QA, a hand)
        numbers = listed([str(face.index + 1) for face in doubtful])
        one = len(doubtful) == 1
        text += (f"\nFace{'' if one else 's'} {numbers} {'is' if one else 'are'} off: the detector is unsure "
                 f"{'it is a face' if one else 'they are faces'}. Click {'its number' if one else 'a number'} "
                 "(or use Photo ▸ Faces) to restore it too.")
    if entry.error:
        text += f"\nThe last run failed: {entry.error}"
    return text


class FacePreview(QLabel):
    """A square picture of one face, ``PREVIEW_PX`` wide when the panel has the room and down to
    ``PREVIEW_MIN_PX`` when it has not, drawn at the screen's full resolution."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rgb: np.ndarray | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(PREVIEW_MIN_PX, PREVIEW_MIN_PX)
        self.setMaximumSize(PREVIEW_PX, PREVIEW_PX)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(PREVIEW_PX, PREVIEW_PX)

    def show_rgb(self, rgb: np.ndarray) -> None:
        self._rgb = rgb
        self._render()

    def show_text(self, text: str) -> None:
        self._rgb = None
        self.clear()
        self.setText(text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._rgb is not None:
            self._render()

    def _render(self) -> None:
        side = max(1, min(self.width(), self.height()))
        self.setPixmap(rgb_to_pixmap(self._rgb, max_side=side, device_pixel_ratio=self.devicePixelRatioF()))


class RunPanel(QWidget):
    """Shows what a run is doing; the window connects the buttons and feeds it progress."""

    def __init__(self, fidelity: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fidelity = FidelityControl(fidelity)
        self.restore_button = QPushButton(icon("restore"), "Restore")
        self.cancel_button = QPushButton(icon("cancel"), "Cancel")
        self.preview = FacePreview()
        self.preview.setAccessibleName("Face preview")
        self.preview.setStyleSheet(f"background:{PHOTO_BACKGROUND.name()}; color:#aaa; border-radius:4px;")
        self.preview_caption = QLabel()
        self.preview_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_caption.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # quieter than text, readable
        self.progress_text = QLabel()
        self.progress_text.setWordWrap(True)
        self.progress_text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.cancel_button)
        preview_column = QVBoxLayout()
        preview_column.setSpacing(2)
        preview_column.addWidget(self.preview)
        preview_column.addWidget(self.preview_caption)
        preview_row = QHBoxLayout()
        preview_row.addLayout(preview_column)
        preview_row.addWidget(self.progress_text, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(section_title("Restoration"))
        layout.addWidget(self.fidelity)
        layout.addLayout(buttons)
        layout.addLayout(preview_row)
        self.clear()

    def clear(self, text: str = "") -> None:
        """No face to show (another photo, or nothing restored yet); ``text`` says what to do."""
        self.preview.show_text("Live preview")
        self.preview.setAccessibleDescription("No face restored yet")
        self.preview.setToolTip("The face being restored, updated after every step")
        self.preview_caption.setText(" ")
        self.progress_text.setText(text or NO_PHOTO_TEXT)

    def show_progress(self, title: str, text: str, preview: np.ndarray | None) -> None:
        """A step of a run: what is happening and, when given, the current estimate of the face."""
        self.progress_text.setText(f"{title}\n{text}")
        if preview is not None:
            self.preview.show_rgb(preview)
            self.preview_caption.setText("live")
            self.preview.setAccessibleDescription("The face being restored")

    def show_face(self, rgb: np.ndarray, caption: str, detail: str = "") -> None:
        """A finished face (the chosen candidate), with a caption such as "Face 1 · seed 3" and,
        as the tooltip, ``detail`` when given (else the caption)."""
        self.preview.show_rgb(rgb)
        self.preview.setAccessibleDescription(caption)
        self.preview.setToolTip(detail or caption)
        self.preview_caption.setToolTip(detail)
        self.preview_caption.setText(caption)

    def show_text(self, text: str) -> None:
        self.progress_text.setText(text)
