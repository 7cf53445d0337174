"""Help ▸ How faceapp works: what the window's words mean, for someone who has not read the README.

A newcomer met "restorer", "prior", "diffuse", "fidelity", "seed" and "spared" in the window's
notices and buttons with nothing that said what they were (first-hour QA: the Help menu held keys,
a log folder and About). This page says it in a few short paragraphs; the keys it names are read
from the actions, so they cannot drift from them.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from faceapp.gui.actions import plain_menu_text
from faceapp.gui.look import fit_to_screen


def how_it_works_html(actions: dict[str, QAction]) -> str:
    """The page, as the rich text a QTextBrowser shows, naming the actions as the menus do."""

    def named(name: str) -> str:
        action = actions[name]
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = html.escape(plain_menu_text(action.text()))
        return f"<b>{text}</b> ({html.escape(keys)})" if keys else f"<b>{text}</b>"

    return f"""
<h3>How a face is repaired</h3>
<p>Each face goes through two models. <b>The restorer</b> makes a first, faithful repair: it takes
out blur, noise and JPEG blocks and keeps the person as the photo shows them; its face is smooth
rather than detailed. <b>The prior</b> is a model of what faces look like: the restorer's face is
partly dissolved in noise (<i>diffused</i>), and the prior draws it back with fine detail (skin,
hair, eyes).</p>

<h3>Faithful ↔ Realistic</h3>
<p>The slider beside the photo sets how much of the restorer's face is dissolved before the prior
draws it back: its <i>fidelity</i>, from 1 (Faithful, left) down towards 0 (Realistic, right).
Towards Faithful the face stays as repaired; towards Realistic the prior invents more detail and can
change the person. Press {named("restore")} after moving it. The underlined part is where the model
works less well.</p>

<h3>Seeds and the seed gallery</h3>
<p>The detail the prior draws is one of many that fit the photo: each <i>seed</i> gives another. A
restore makes one candidate per seed (Settings ▸ Seeds per face). Click a restored face, then a
candidate in the seed gallery, to choose the one that looks most like the person.
<b>More</b> adds candidates of further seeds; {named("refine")} restores the chosen candidate once
more at a high fidelity, to sharpen it.</p>

<h3>Spared faces</h3>
<p>A face the restorer barely changes is already sharp, and the prior would mostly smear it: it is
<i>spared</i>, kept as the restorer made it (the same for every seed), or, nearly as sharp, given
less of the prior (sampled at a higher fidelity than the slider's). <b>Diffuse anyway</b>, in the
seed gallery, lets the prior work on it as the slider says; unticking Settings ▸ Sparing does so for
every face.</p>

<h3>Scratches and tears</h3>
<p>Paint over damage with the {named("damage_brush")} ({named("eraser")} takes paint off, as does a
right drag); Restore fills what is painted.</p>

<h3>Your photos</h3>
<p>The original file is never changed: {named("save")} writes a new file beside it (or into the
output folder set in Settings), keeping its metadata, and the window asks before closing with
results not saved.</p>
"""


class HowItWorksDialog(QDialog):
    """The page of :func:`how_it_works_html`, read and scrolled as any document is."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("How faceapp works")
        self.page = QTextBrowser()
        self.page.setAccessibleName("How faceapp works")
        self.page.setOpenLinks(False)
        self.page.setHtml(how_it_works_html(actions))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page)
        layout.addWidget(buttons)
        fit_to_screen(self, QSize(620, 640))
