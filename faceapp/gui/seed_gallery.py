"""The seed gallery: every candidate of one face as a thumbnail; clicking one chooses it, and so
does moving to it with the arrow keys (what is framed is what the photo uses).

The gallery only displays and reports choices; the window applies them to the photo result
(``PhotoResult.choose``) and recomposes without sampling again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from faceapp.gui.look import section_title
from faceapp.gui.qimage import rgb_to_pixmap
from faceapp.gui.plain_label import PlainLabel

_THUMB_PX = 112  # thumbnail side when the gallery has the room
_MIN_THUMB_PX = 48  # the smallest it shrinks to in a small window (then the list scrolls)
_ITEM_PADDING_PX = 12  # an item's frame and padding around its thumbnail and caption


#: Why every seed of a face gave the same face when the run's fidelity was 1 (a face spared as sharp
#: says so on its sparing line, with its "Diffuse anyway" button).
_ALIKE_AT_FIDELITY_1 = ("This face was restored at fidelity 1: the restorer's face alone, the same for every seed. "
                        "Move the fidelity slider towards Realistic and restore again for alternatives.")


_MORE_TIP = "Sample more candidates of this face with new seeds"


class _CandidateList(QListWidget):
    """The thumbnails. It asks for one row of the smallest thumbnails, captions included, and takes
    whatever room the panel has beyond that (:meth:`SeedGallery._fit_thumbnails` sizes them to
    it): asking for a list view's usual 192 px made the side panel scroll at 1366×768, the second
    row of seeds cut in half, where smaller thumbnails fitted (small-laptop QA)."""

    def _least_height(self) -> int:
        row = _MIN_THUMB_PX + 2 * self.spacing() + _ITEM_PADDING_PX + self.fontMetrics().height()
        return row + 2 * self.frameWidth() + 4

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(super().sizeHint().width(), self._least_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(super().minimumSizeHint().width(), self._least_height())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """Only the left button chooses: a right press (for the menu) or a middle one moved the frame,
        which chose that seed (desktop QA: looking for "Save this face…" silently changed the pick)."""
        if event.button() == Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
        else:
            event.accept()


class SparingLine(Protocol):
    """What the gallery shows of a face's sharp-face sparing (``faceapp.core.application.SparingChoice``)."""

    text: str
    diffuse: bool  # True: the face was spared, "Diffuse anyway" is offered; False: "Spare again"
    asked: float  # the run's fidelity
    kept: bool  # spared whole (at fidelity 1: the restorer's face), not only sampled at a higher fidelity


class FaceCandidates(Protocol):
    """What the gallery reads from a face's result (``FaceResult`` satisfies it)."""

    candidates: Sequence[np.ndarray]
    seeds: Sequence[int]
    chosen: int
    fidelity: float | None  # what the seeds were sampled at (None: unknown)


def _untinted_icon(pixmap: QPixmap) -> QIcon:
    """An icon that looks the same selected: Qt's styles blend a selected item's icon with the
    highlight colour, which would give the chosen candidate a colour cast that it does not have."""
    icon = QIcon()
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
        icon.addPixmap(pixmap, mode)
    return icon


#: Why "More" and "Diffuse anyway" are off while a job runs.
_BUSY_TIP = "Available once the restores running now are done (they run one at a time; Cancel stops them)."


#: The candidates' frames: the chosen one's in the highlight colour.
_LIST_STYLE = ("QListWidget::item { border: 2px solid transparent; border-radius: 3px; }"
               "QListWidget::item:selected { border-color: palette(highlight); background: transparent;"
               " color: palette(text); }")


class SeedGallery(QWidget):
    """Thumbnails of one face's K candidates, a face selector and a "More" button."""

    candidateChosen = Signal(int, int)  # face index, candidate index
    moreRequested = Signal(int)  # face index
    diffuseRequested = Signal(int, bool)  # face index; True: diffuse it anyway, False: spare it again
    faceSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._faces: list[FaceCandidates] = []
        self._sparing: list[SparingLine | None] = []
        self._refocus = False  # give "Diffuse anyway" the focus back once its job is done…
        self._moved_to: QWidget | None = None  # …if it is still where disabling the button sent it
        self._busy = False
        self._face_numbers: list[int] = []
        self._shown: Sequence[np.ndarray] | None = None  # the candidates whose thumbnails are shown
        self._seeds_agree = False  # whether every seed of the shown face gave the same face
        self._face_combo = QComboBox()
        self._face_combo.setToolTip("Which face's candidates to show")
        self._face_combo.setAccessibleName("Face shown in the seed gallery")
        self.more_button = QPushButton("More")
        self.more_button.setToolTip(_MORE_TIP)
        self._hint = QLabel("Restore a photo to choose between candidates of each face.")
        self._hint.setWordWrap(True)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._alike = QLabel(_ALIKE_AT_FIDELITY_1)
        self._alike.setWordWrap(True)
        self._sparing_text = PlainLabel()
        self._sparing_text.setWordWrap(True)
        self.diffuse_button = QPushButton("Diffuse anyway")
        self._list = _CandidateList()  # (no focus proxy: while the list is hidden, Tab stuck before the gallery, QA)
        self._list.setViewMode(QListView.ViewMode.IconMode)
        self._list.setIconSize(QSize(_THUMB_PX, _THUMB_PX))
        self._list.setResizeMode(QListView.ResizeMode.Adjust)
        self._list.setMovement(QListView.Movement.Static)
        self._list.setSpacing(4)
        self._list.setUniformItemSizes(True)
        # the chosen candidate is framed, its thumbnail shown as it is (see _untinted_icon)
        self._list.setStyleSheet(_LIST_STYLE)

        header = QHBoxLayout()
        title = section_title("Seed gallery")
        title.setBuddy(self._face_combo)  # on Linux a combo box's name is its text: the label names it
        header.addWidget(title)  # (accessibility QA: "Face 1" alone)
        header.addWidget(self._face_combo, 1)
        header.addWidget(self.more_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self._hint)
        layout.addWidget(self._alike)
        sparing = QHBoxLayout()
        sparing.addWidget(self._sparing_text, 1)
        sparing.addWidget(self.diffuse_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(sparing)
        layout.addWidget(self._list, 1)

        self._face_combo.currentIndexChanged.connect(self._on_face_changed)
        self._list.itemClicked.connect(self._on_item_clicked)
        self._list.itemActivated.connect(self._on_item_clicked)  # Enter
        self._list.currentItemChanged.connect(self._on_current_changed)  # arrow keys, Home, End
        self._list.setAccessibleName("Seed gallery")
        self._list.setAccessibleDescription("Candidates of the face; the selected one is used in the photo")
        self._list.viewport().installEventFilter(self)
        self.more_button.clicked.connect(self._on_more)
        self.diffuse_button.clicked.connect(self._on_diffuse)
        self._update_enabled()

    def set_faces(self, faces: Sequence[FaceCandidates], *, numbers: Sequence[int] | None = None,
                  current: int = 0, sparing: Sequence[SparingLine | None] | None = None) -> None:
        """Show a photo's restored faces; ``numbers`` are the face numbers shown to the user;
        ``sparing`` each face's sharp-face sparing line (None: not spared), with its button.

        Called again with the same candidates (a choice changed, a run reported progress), it only
        moves the selection: the current face's thumbnails are made again only when its
        ``candidates`` are another sequence (core results are values: a new run or "More" gives
        a new one, a choice keeps it).
        """
        self._faces = list(faces)
        self._sparing = list(sparing) if sparing is not None else [None] * len(self._faces)
        self._face_numbers = list(numbers) if numbers is not None else list(range(len(faces)))
        self._face_combo.blockSignals(True)  # one _populate below, whichever face is current
        self._face_combo.clear()
        for face, number, line in zip(self._faces, self._face_numbers, self._sparing, strict=False):
            # (QA: one word for both kinds hid which; workflow QA: "spared" beside "kept" did not say
            # that its seeds differ): a refined candidate chosen is neither
            spared = ("" if line is None or not line.diffuse or self._passes(face, face.chosen)
                      else " · kept" if line.kept else f" · at {face.fidelity:.2f}")
            self._face_combo.addItem(f"Face {number + 1}{spared}")
        if self._faces:
            self._face_combo.setCurrentIndex(min(max(current, 0), len(self._faces) - 1))
        self._face_combo.blockSignals(False)
        self._populate()

    def clear(self) -> None:
        self.set_faces([])

    def current_face(self) -> int:
        """Position of the shown face in the list given to :meth:`set_faces` (-1 if none)."""
        return self._face_combo.currentIndex() if self._faces else -1

    def current_number(self) -> int | None:
        """The number (as given to :meth:`set_faces`) of the face shown; None when none is."""
        position = self.current_face()
        return self._face_numbers[position] if 0 <= position < len(self._face_numbers) else None

    def select_face(self, position: int) -> None:
        """Show the candidates of face ``position`` (as choosing it in the face selector would)."""
        if 0 <= position < len(self._faces):
            self._face_combo.setCurrentIndex(position)

    def thumbnail_count(self) -> int:
        return self._list.count()

    def focus_thumbnails(self, reason: Qt.FocusReason = Qt.FocusReason.ShortcutFocusReason) -> bool:
        """Give the keyboard to the thumbnails, where the arrow keys pick a seed; False (nothing
        focused) while there are none to show."""
        if not self._list.isVisibleTo(self) or not self._list.isEnabled():
            return False
        self._list.setFocus(reason)
        return True

    def candidate_at(self, point: QPoint) -> int | None:
        """The candidate whose thumbnail is at ``point`` (in the gallery's coordinates), if one is."""
        item = self._list.itemAt(self._list.viewport().mapFrom(self, point))
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def click_candidate(self, candidate: int) -> None:
        """Choose a candidate as a click on its thumbnail would (keyboard and tests)."""
        row = self._row_of(candidate)
        if row >= 0:
            self._on_item_clicked(self._list.item(row))

    def _populate(self) -> None:
        """Make the current face's thumbnails (unless they are made already) and select its choice.

        The list's signals are blocked meanwhile: while it is emptied its current row passes over the
        previous face's thumbnails (with the new face already selected), and none of its moves here
        is a user's choice.
        """
        face = self._current()
        shown = face.candidates if face is not None else None
        with QSignalBlocker(self._list):
            if shown is None or shown is not self._shown:
                self._shown = shown
                self._list.clear()
                sampled = [i for i in range(len(face.candidates)) if not self._passes(face, i)] if face else []
                self._seeds_agree = alike = self._seeds_alike(face, sampled)
                for i, (image, seed) in enumerate(zip(face.candidates, face.seeds) if face else ()):
                    passes = self._passes(face, i)
                    if alike and not passes and i != sampled[0]:
                        continue  # every seed gave this same face: one thumbnail stands for them all
                    # "refined" on a line of its own: a caption no wider than "seed 3" keeps the columns
                    label = f"seed {seed}" + (f"\nrefined ×{passes}" if passes > 1 else "\nrefined" if passes else "")
                    if alike and not passes and len(sampled) > 1:
                        label = f"seeds {face.seeds[sampled[0]]}–{face.seeds[sampled[-1]]}"
                    pixmap = rgb_to_pixmap(image, max_side=_THUMB_PX, device_pixel_ratio=self.devicePixelRatioF())
                    item = QListWidgetItem(_untinted_icon(pixmap), label)
                    item.setData(Qt.ItemDataRole.UserRole, i)
                    item.setToolTip(f"Candidate {i + 1}, seed {seed}"
                                    + (f", refined {passes} time{'s' * (passes > 1)}" if passes else ""))
                    self._list.addItem(item)
                self._fit_thumbnails()
            row = self._row_of(face.chosen) if face is not None else -1
            if row >= 0:
                self._list.setCurrentRow(row)
        self._update_enabled()

    @staticmethod
    def _passes(face: FaceCandidates, candidate: int) -> int:
        """How many refinement passes made ``candidate`` (0 for a sampled one)."""
        return len(face.refinement_of(candidate)) if hasattr(face, "refinement_of") else 0

    def _row_of(self, candidate: int) -> int:
        """The row showing ``candidate`` (-1 if none does); the seeds of a spared face share the
        first seed's row."""
        rows = [self._list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self._list.count())]
        if candidate in rows:
            return rows.index(candidate)
        face = self._current()
        return 0 if rows and face is not None and self._seeds_agree and not self._passes(face, candidate) else -1

    def _current(self) -> FaceCandidates | None:
        index = self.current_face()
        return self._faces[index] if index >= 0 else None

    @staticmethod
    def _seeds_alike(face: FaceCandidates | None, sampled: list[int]) -> bool:
        """Whether every seed of ``face`` gave the same face (``sampled``: its candidates that are not
        refinement passes): sampled at fidelity 1 (e.g. spared) with no damage to fill (each seed
        fills damage its own way), and those candidates equal (a texture polish, for one, differs
        per seed even there)."""
        fidelity = getattr(face, "fidelity", None) if face is not None else None
        if fidelity is None or fidelity < 1.0 or getattr(face, "damage", None) is not None or not sampled:
            return False
        first = face.candidates[sampled[0]]
        return all(np.array_equal(face.candidates[i], first) for i in sampled[1:])

    def sparing_line(self) -> SparingLine | None:
        """The shown face's sparing line (None: it was not spared, nor diffused on request)."""
        index = self.current_face()
        return self._sparing[index] if 0 <= index < len(self._sparing) else None

    def _update_enabled(self) -> None:
        has = bool(self._faces)
        alike = has and self._seeds_agree
        line = self.sparing_line()
        busy = f"{_BUSY_TIP} " if self._busy and has else ""  # (QA: greyed out for a whole Restore all, unsaid)
        self._hint.setVisible(not has)
        self._alike.setVisible(alike and line is None)  # a spared face's own line says why its seeds agree
        self._sparing_text.setVisible(line is not None)
        self.diffuse_button.setVisible(line is not None)
        if line is not None:
            self._sparing_text.setText(line.text)
            self.diffuse_button.setText("Diffuse anyway" if line.diffuse else "Spare again")
            self.diffuse_button.setToolTip(busy + (
                f"Sample this face's seeds again at fidelity {line.asked:.2f}, as the other faces: the prior adds "
                "detail, and may smear a face the restorer barely changed" if line.diffuse else
                "Sample this face's seeds again with sharp-face sparing: the restorer's face comes back"))
        self._list.setVisible(has)
        self._face_combo.setEnabled(has)
        self.more_button.setEnabled(has and not alike and not self._busy)
        self.more_button.setToolTip(busy + (  # (a disabled button's tooltip says why it is off)
            _MORE_TIP if not alike else "Every seed gives this face the same: Diffuse anyway first" if line is not None
            else "Every seed gives the same face at fidelity 1: move the fidelity slider and restore again"))
        self.diffuse_button.setEnabled(not self._busy)

    def _on_face_changed(self, index: int) -> None:
        self._populate()
        if index >= 0:
            self.faceSelected.emit(index)

    def _on_item_clicked(self, item: QListWidgetItem | None) -> None:
        face = self.current_face()
        if item is None or face < 0:
            return
        candidate = int(item.data(Qt.ItemDataRole.UserRole))
        self._list.setCurrentItem(item)
        self.candidateChosen.emit(face, candidate)

    def _on_current_changed(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        """The keyboard moved the frame: choose that candidate (the gallery's own moves, when it shows
        a face, are not reported: see :meth:`_populate`)."""
        if item is None or self.current_face() < 0:
            return
        self.candidateChosen.emit(self.current_face(), int(item.data(Qt.ItemDataRole.UserRole)))

    def _on_diffuse(self) -> None:
        line = self.sparing_line()
        if line is not None:
            self._refocus = self.diffuse_button.hasFocus()  # disabled while it runs, which moves the focus on…
            self.diffuseRequested.emit(self.current_face(), line.diffuse)

    def _on_more(self) -> None:
        if self.current_face() >= 0:
            self.moreRequested.emit(self.current_face())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the theme changed: the list's style sheet took the
            self._list.setStyleSheet("")  # old palette when it was applied (dark-mode QA: a white list in a
            self._list.setStyleSheet(_LIST_STYLE)  # dark window until faceapp restarted)

    def event(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        handled = super().event(event)
        if event.type() == QEvent.Type.DevicePixelRatioChange and self._shown is not None:  # another screen's
            self._shown = None  # scale: the thumbnails drawn again for it (portability QA: blurry on a Retina
            self._populate()    # screen)
        return handled

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._list.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_thumbnails()
        return super().eventFilter(watched, event)

    def _fit_thumbnails(self) -> None:
        """Size the thumbnails so that every candidate is seen whole, captions included, when the
        list's room allows (at most ``_THUMB_PX``, at least ``_MIN_THUMB_PX``; below that the list
        scrolls): in a small window a row cut in half, or half the seeds out of sight, hides the
        faces being compared."""
        count = self._list.count()
        if count == 0:
            return
        room = self._list.viewport().size()
        metrics = self._list.fontMetrics()
        lines = [self._list.item(r).text().split("\n") for r in range(count)]
        caption = max(metrics.horizontalAdvance(line) for item in lines for line in item)
        spacing = self._list.spacing()
        gap = 2 * spacing + _ITEM_PADDING_PX
        best = 0
        for columns in range(1, count + 1):
            rows = -(-count // columns)
            across = (room.width() - 4) // columns - gap
            if across < caption:  # the captions set the items' width
                break
            # each row as high as its thumbnails and its tallest caption (a refinement's has two lines)
            captions = sum(max(len(item) for item in lines[r * columns : (r + 1) * columns]) for r in range(rows))
            down = (room.height() - 4 - rows * gap - captions * metrics.height()) // rows
            best = max(best, min(across, down))
        side = max(_MIN_THUMB_PX, min(_THUMB_PX, best))
        # the list fills its rows from the left, so four seeds with room for three a row came as 3 + 1
        # (GUI QA): then they go into a grid of even rows spread across the room (a grid's rows are
        # all as high as its tallest caption, so its thumbnails may shrink a little to fit it)
        fit = max(1, (room.width() - 4) // (max(side, caption) + gap))
        rows = -(-count // fit)
        grid = QSize()
        # a refined pass's caption has two lines: with uniform item sizes every cell was sized from the
        # first's one line (power-user QA: "seed 1…"); each is sized from its own then, a row as its tallest
        uniform = all(len(item) == 1 for item in lines)
        if uniform != self._list.uniformItemSizes():
            self._list.setUniformItemSizes(uniform)
        if count % fit and rows > 1:
            columns = -(-count // rows)
            tallest = max(len(item) for item in lines) * metrics.height()
            side = max(_MIN_THUMB_PX, min(side, (room.height() - 4) // rows - gap - tallest))
            spread = (room.width() - 4 - spacing) // columns  # (the list puts its spacing between cells and at the edges)
            grid = QSize(spread - spacing, side + gap - spacing + tallest)
        if side != self._list.iconSize().width():
            self._list.setIconSize(QSize(side, side))
        if grid != self._list.gridSize():
            self._list.setGridSize(grid)

    def set_busy(self, busy: bool) -> None:
        """Disable "More" and "Diffuse anyway" while a job runs (the keyboard focus comes back to
        "Diffuse anyway" when it was pressed from the keyboard)."""
        was, self._busy = self._busy, busy
        focused = self.diffuse_button.hasFocus()
        self._update_enabled()
        if busy and not was and self._refocus:  # (the window says it again and again while a job runs)
            self._moved_to = QApplication.focusWidget() if focused else None  # …to here (None: moved on already)
        elif not busy and was and self._refocus:
            self._refocus = False
            if self.diffuse_button.isVisible() and QApplication.focusWidget() is self._moved_to:  # not moved since
                self.diffuse_button.setFocus(Qt.FocusReason.ShortcutFocusReason)
