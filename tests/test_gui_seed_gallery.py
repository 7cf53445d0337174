"""The seed gallery makes a face's thumbnails once: a changed choice or a repeated update only
moves the selection; new candidates or another result make them again."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import gui_util
import numpy as np
import pytest
from gui_util import load, restore, saved
from PySide6.QtCore import Qt

from faceapp.gui import seed_gallery
from faceapp.gui.seed_gallery import SeedGallery

photo, window = gui_util.photo, gui_util.window  # the shared fixtures


def face(count: int, *, chosen: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(count)
    return SimpleNamespace(candidates=[rng.integers(0, 255, (16, 16, 3), np.uint8) for _ in range(count)],
                           seeds=list(range(count)), chosen=chosen)


@pytest.fixture
def made(monkeypatch):
    """The thumbnails the gallery makes, one entry each."""
    thumbnails = []
    real = seed_gallery.rgb_to_pixmap

    def counting(image, **kwargs):
        thumbnails.append(image)
        return real(image, **kwargs)

    monkeypatch.setattr(seed_gallery, "rgb_to_pixmap", counting)
    return thumbnails


def test_showing_the_second_face_makes_its_thumbnails_once(qtbot, made):
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    faces = [face(2), face(3)]
    gallery.set_faces(faces, current=1)
    assert gallery.current_face() == 1 and gallery.thumbnail_count() == 3
    assert len(made) == 3


def test_a_new_choice_only_moves_the_selection(qtbot, made):
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    faces = [face(3)]
    gallery.set_faces(faces)
    made.clear()
    faces = [SimpleNamespace(**{**vars(faces[0]), "chosen": 2})]  # a choice: a new face, same candidates
    for _ in range(5):  # as each progress step or gallery click of the window does
        gallery.set_faces(faces, current=gallery.current_face())
    assert made == []
    assert gallery._list.currentRow() == 2


def test_more_candidates_or_a_new_result_make_the_thumbnails_again(qtbot, made):
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    faces = [face(3)]
    gallery.set_faces(faces)
    faces = [SimpleNamespace(candidates=(*faces[0].candidates, faces[0].candidates[0]),
                             seeds=(*faces[0].seeds, 9), chosen=0)]  # "More": new candidates
    made.clear()
    gallery.set_faces(faces)
    assert len(made) == 4 and gallery.thumbnail_count() == 4
    made.clear()
    gallery.set_faces([face(3)])  # restored again: new face objects
    assert len(made) == 3 and gallery.thumbnail_count() == 3


def test_a_face_restored_at_fidelity_one_says_its_seeds_are_alike_and_offers_no_more(qtbot):
    """A spared face (or one restored at fidelity 1) gives one face whatever the seed: the gallery
    says so and "More" would only add copies; the other faces keep it."""
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    spared, sampled = face(3), face(2)
    spared.candidates = [spared.candidates[0]] * 3  # at fidelity 1 every seed gives the restorer's face
    spared.fidelity, sampled.fidelity = 1.0, 0.8
    gallery.set_faces([sampled, spared], current=1)
    assert gallery._alike.isVisible() and not gallery.more_button.isEnabled()
    assert "Move the fidelity slider towards Realistic" in gallery._alike.text()  # the run was at fidelity 1
    line = SimpleNamespace(text="Sharp already: kept as the restorer made it", diffuse=True, asked=0.8, kept=True)
    gallery.set_faces([sampled, spared], current=1, sparing=[None, line])
    assert [gallery._face_combo.itemText(i) for i in range(2)] == ["Face 1", "Face 2 · kept"]
    higher = SimpleNamespace(text="sampled at fidelity 0.80 instead of 0.50", diffuse=True, asked=0.5, kept=False)
    gallery.set_faces([sampled, spared], current=1, sparing=[higher, line])  # (workflow QA: "spared" hid its seeds differ)
    assert gallery._face_combo.itemText(0) == "Face 1 · at 0.80"
    gallery.set_faces([sampled, spared], current=1, sparing=[None, line])
    assert not gallery._alike.isVisible() and gallery._sparing_text.text() == line.text  # spared: its own line…
    assert gallery.diffuse_button.isVisible() and gallery.diffuse_button.text() == "Diffuse anyway"  # …and its way out
    with qtbot.waitSignal(gallery.diffuseRequested) as asked:
        gallery.diffuse_button.click()
    assert asked.args == [1, True]
    assert gallery.thumbnail_count() == 1 and gallery._list.item(0).text() == "seeds 0–2"  # not three copies
    assert gallery._list.currentRow() == 0
    gallery.select_face(0)
    assert not gallery._alike.isVisible() and gallery.more_button.isEnabled()
    assert gallery.thumbnail_count() == 2 and not gallery.diffuse_button.isVisible()  # not spared
    gallery.set_busy(True)
    gallery.select_face(1)
    assert not gallery.more_button.isEnabled() and not gallery.diffuse_button.isEnabled()
    # why they are off, for a whole Restore all (QA: greyed out with no reason given)
    gallery.set_busy(True)  # (said again and again while a job runs: once in the tooltip)
    assert all(b.toolTip().startswith("Available once the restores running now are done")
               and b.toolTip().count("Available once") == 1 for b in (gallery.more_button, gallery.diffuse_button))
    gallery.set_busy(False)
    assert not gallery.diffuse_button.toolTip().startswith("Available once")


def test_the_chosen_candidate_is_shown_in_its_own_colours(qtbot):
    """Qt's styles tint a selected icon with the highlight colour; the chosen candidate's thumbnail
    must show the face as it is (a cast there reads as a cast in the candidate), framed instead."""
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    gallery.resize(400, 400)
    gallery.show()
    colour = (200, 120, 40)
    solid = SimpleNamespace(candidates=[np.full((64, 64, 3), colour, np.uint8)] * 2, seeds=[0, 1], chosen=0)
    gallery.set_faces([solid])
    listing = gallery._list
    assert listing.currentRow() == 0
    shot = listing.viewport().grab().toImage()
    for row in (0, 1):  # chosen, and not
        rect = listing.visualItemRect(listing.item(row))
        pixel = shot.pixelColor(rect.center().x(), rect.top() + seed_gallery._THUMB_PX // 2)
        assert abs(pixel.red() - colour[0]) <= 2 and abs(pixel.green() - colour[1]) <= 2 \
            and abs(pixel.blue() - colour[2]) <= 2, (row, pixel.getRgb())


def test_seeds_that_differ_at_fidelity_one_keep_their_thumbnails(qtbot):
    """A damaged face is filled per seed even when it is spared: its candidates differ, so the
    gallery shows each of them and offers More."""
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    damaged = face(3)
    damaged.fidelity, damaged.damage = 1.0, np.ones((16, 16), np.uint8)
    gallery.set_faces([damaged])
    assert gallery.thumbnail_count() == 3 and not gallery._alike.isVisible() and gallery.more_button.isEnabled()
    damaged.damage = None  # the same candidates without damage: they still differ, so nothing is merged
    gallery.set_faces([SimpleNamespace(**vars(damaged))])
    assert gallery.thumbnail_count() == 3


@pytest.mark.parametrize("height", [120, 170, 300, 500])
def test_every_candidate_is_seen_whole_in_a_small_gallery(qtbot, height):
    """In a small window the thumbnails shrink so that all four seeds, captions included, are seen
    whole (no row cut in half, none scrolled out of sight); with room they keep their full size."""
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    gallery.resize(330, height)
    gallery.show()
    rng = np.random.default_rng(0)
    gallery.set_faces([SimpleNamespace(candidates=[rng.integers(0, 255, (256, 256, 3), np.uint8) for _ in range(4)],
                                       seeds=[0, 1, 2, 3], chosen=0)])  # faces as large as the app's
    qtbot.wait(20)  # the list lays its items out
    listing = gallery._list
    for row in range(4):
        rect = listing.visualItemRect(listing.item(row))
        assert listing.viewport().rect().contains(rect), (row, rect, listing.viewport().rect())
    assert listing.iconSize().width() >= seed_gallery._MIN_THUMB_PX
    if height >= 500:
        assert listing.iconSize().width() == seed_gallery._THUMB_PX


@pytest.mark.parametrize(("count", "width", "rows"), [(4, 460, [2, 2]), (4, 560, [4]), (5, 560, [3, 2]), (6, 560, [3, 3])])
def test_the_candidates_come_in_even_rows(qtbot, count, width, rows):
    """GUI QA: four seeds in a panel with room for three a row came as 3 + 1; rows are as even as the
    room allows (the candidates being compared side by side), and one row when they all fit."""
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    gallery.resize(width, 600)
    gallery.show()
    rng = np.random.default_rng(0)
    gallery.set_faces([SimpleNamespace(candidates=[rng.integers(0, 255, (256, 256, 3), np.uint8) for _ in range(count)],
                                       seeds=list(range(count)), chosen=0)])
    qtbot.wait(20)
    listing = gallery._list
    tops = [listing.visualItemRect(listing.item(row)).top() for row in range(count)]
    assert [tops.count(top) for top in sorted(set(tops))] == rows
    assert listing.iconSize().width() == seed_gallery._THUMB_PX
    assert all(listing.viewport().rect().contains(listing.visualItemRect(listing.item(row))) for row in range(count))


def test_a_refined_candidate_does_not_shrink_the_thumbnails(qtbot):
    """A refinement's caption says "refined" on a line of its own: as wide as "seed 3", it keeps the
    columns the sampled seeds had, and every candidate stays in sight (a one-line "seed 3 · refined"
    forced two columns of small thumbnails and a scroll bar)."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (256, 256, 3), np.uint8) for _ in range(9)]
    sizes, columns = [], []
    for refined in (False, True):
        gallery = SeedGallery()
        qtbot.addWidget(gallery)
        gallery.resize(330, 360)
        gallery.show()
        passes = {8: ["pass"]} if refined else {}
        gallery.set_faces([SimpleNamespace(candidates=images, seeds=[0, 1, 2, 3, 4, 5, 6, 7, 3], chosen=8,
                                           refinement_of=lambda candidate: passes.get(candidate, []))])
        qtbot.wait(20)
        listing = gallery._list
        sizes.append(listing.iconSize().width())
        columns.append(len({listing.visualItemRect(listing.item(row)).x() for row in range(listing.count())}))
        for row in range(listing.count()):
            assert listing.viewport().rect().contains(listing.visualItemRect(listing.item(row))), (refined, row)
    assert columns[1] == columns[0] >= 3 and sizes[1] >= 0.85 * sizes[0]  # only the caption's line is made room for
    assert listing.item(8).text() == "seed 3\nrefined"


@pytest.mark.parametrize("count", [6, 9])
def test_a_refined_candidates_two_line_caption_is_seen_whole_in_full_rows(qtbot, count):
    """Power-user QA: nine candidates in three full rows, a refined pass among them not the first,
    showed "seed 1…": every cell was sized from the first's one-line caption."""
    rng = np.random.default_rng(0)
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    gallery.resize(330, 420)
    gallery.show()
    gallery.set_faces([SimpleNamespace(candidates=[rng.integers(0, 255, (256, 256, 3), np.uint8) for _ in range(count)],
                                       seeds=[0, 1, 2, 3, 1, *range(4, count - 1)], chosen=0,
                                       refinement_of=lambda candidate: ["pass"] if candidate == 4 else [])])
    qtbot.wait(20)
    listing = gallery._list
    assert listing.item(4).text() == "seed 1\nrefined"
    columns = len({listing.visualItemRect(listing.item(row)).left() for row in range(count)})
    assert columns > 1 and count % columns == 0  # full rows
    cell = listing.visualItemRect(listing.item(4))
    assert cell.height() >= listing.iconSize().height() + 2 * listing.fontMetrics().height()
    assert all(listing.viewport().rect().contains(listing.visualItemRect(listing.item(row))) for row in range(count))


def test_the_arrow_keys_choose_the_candidate_they_frame(qtbot):
    """What is framed is what the photo uses: moving with the keyboard chooses, as a click does."""
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    faces = [face(3)]
    chosen = []

    def apply(position, candidate):  # as the window does: the result changes, the gallery is told
        chosen.append((position, candidate))
        faces[position] = SimpleNamespace(**{**vars(faces[position]), "chosen": candidate})
        gallery.set_faces(faces, current=position)

    gallery.candidateChosen.connect(apply)
    gallery.set_faces(faces)
    assert chosen == []  # showing a face chooses nothing
    gallery._list.setFocus()
    qtbot.keyClick(gallery._list, Qt.Key.Key_Right)
    qtbot.keyClick(gallery._list, Qt.Key.Key_Right)
    assert chosen == [(0, 1), (0, 2)] and faces[0].chosen == 2
    qtbot.keyClick(gallery._list, Qt.Key.Key_Home)
    assert chosen[-1] == (0, 0) and gallery._list.currentRow() == 0
    gallery.set_faces([face(3, chosen=1)])  # a new result, framed at its choice: nothing chosen by that
    assert len(chosen) == 3


def test_showing_another_face_chooses_nothing(qtbot):
    """Which face the gallery shows is no choice: switching between faces (one spared, its seeds
    alike) leaves every face's candidate as it was and frames each face's own choice."""
    gallery = SeedGallery()
    qtbot.addWidget(gallery)
    gallery.show()
    spared = face(4)
    spared.candidates, spared.fidelity = [spared.candidates[0]] * 4, 1.0
    faces = [face(4, chosen=2), face(3), spared]
    chosen = []

    def apply(position, candidate):  # as the window does
        chosen.append((position, candidate))
        faces[position] = SimpleNamespace(**{**vars(faces[position]), "chosen": candidate})
        gallery.set_faces(faces, current=position)

    gallery.candidateChosen.connect(apply)
    gallery.set_faces(faces)
    for position in (1, 2, 0, 2, 1, 0):
        gallery.select_face(position)
        framed = gallery._list.currentItem().data(Qt.ItemDataRole.UserRole)
        assert (gallery.current_face(), framed) == (position, faces[position].chosen)
    assert chosen == [] and [f.chosen for f in faces] == [2, 0, 0]


def test_viewing_the_second_face_of_a_saved_photo_keeps_it_saved(window, qtbot, tmp_path, testdata_dir):
    """Restored and saved, then the gallery switched to face 2: its candidate, the preview and the
    saved state stay as they were."""
    photo = shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", tmp_path / "two_faces.jpg")
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    assert len(entry.result.faces) == 2
    saved(window, qtbot, window.exports.save)
    result = entry.result
    window.gallery.select_face(1)
    qtbot.wait(50)
    assert [f.chosen for f in entry.result.faces] == [0, 0] and entry.result is result
    assert window.run_panel.preview_caption.text().startswith(f"Face 2 · seed {result.faces[1].seeds[0]}")
    assert window.exports.unsaved() == [] and not window.session.composer.pending(path)


def test_back_on_a_photo_its_gallery_shows_the_face_it_showed(window, qtbot, tmp_path, testdata_dir, photo):
    """Keyboard QA: face 2 picked, another photo shown, then this one again: the gallery was back on
    face 1."""
    two = shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", tmp_path / "two_faces.jpg")
    path = load(window, qtbot, two)
    restore(window, qtbot, path)
    window.gallery.select_face(1)
    other = load(window, qtbot, photo)
    assert window.current == other
    window.show_photo(path)
    assert window.gallery.current_face() == 1
    assert window.run_panel.preview_caption.text().startswith("Face 2")


def test_the_face_the_gallery_shows_is_marked_on_the_photo(window, qtbot, tmp_path, testdata_dir):
    """QA: with several faces nothing on the photo said which one the gallery showed: its outline
    and number tag are white, the others keep their colour."""
    from PySide6.QtCore import QPointF

    from faceapp.gui.qimage import qimage_to_rgb

    photo = shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", tmp_path / "two_faces.jpg")
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    indices = [f.face.index for f in entry.result.faces]
    view = window.compare
    view.set_split(1.0)  # the before side: every outline shows

    def tag_colour(index):  # the middle of the face's number tag, as drawn
        box = next(f.box for f in entry.faces if f.index == index)
        corner = view.image_to_widget(QPointF(box[0], box[1]))
        rendered = qimage_to_rgb(view.grab().toImage())
        return tuple(rendered[int(corner.y()) - 4, int(corner.x()) + 4])

    for position in (1, 0):
        window.gallery.select_face(position)
        qtbot.wait(20)
        assert view.selected_face() == indices[position]
        assert tag_colour(indices[position]) == (255, 255, 255)
        assert tag_colour(indices[1 - position]) != (255, 255, 255)


def test_thumbnails_are_sharp_on_a_high_dpi_screen(qtbot):  # (qtbot: the QApplication a QPixmap needs)
    from faceapp.gui.qimage import rgb_to_pixmap

    image = np.zeros((512, 512, 3), np.uint8)
    pixmap = rgb_to_pixmap(image, max_side=112, device_pixel_ratio=2.0)
    assert (pixmap.width(), pixmap.devicePixelRatio()) == (224, 2.0)  # drawn 112 logical px wide, 224 real
    assert rgb_to_pixmap(image, max_side=112).width() == 112
    face = rgb_to_pixmap(np.zeros((256, 256, 3), np.uint8), max_side=144, device_pixel_ratio=2.0)  # the preview's
    assert (face.width(), face.devicePixelRatio()) == (288, 2.0)  # 144 logical px, as its box (QA: 128, framed)


def test_the_face_shown_stays_shown_when_the_photo_is_restored_again_with_fewer_faces(window, qtbot, testdata_dir,
                                                                                    tmp_path):
    """GUI QA: face 3's seeds were shown; restored again with face 2 switched off, the gallery kept
    its position in the list, and showed face 4."""
    photo = shutil.copy(testdata_dir / "photos" / "cf_00.jpg", tmp_path / "family.jpg")
    gui_util.set_sampling(window, seeds=1, steps=1)
    path = load(window, qtbot, photo)
    assert len(window.session.entries[path].faces) >= 4
    restore(window, qtbot, path)
    window.gallery.select_face(2)
    assert window.gallery.current_number() == 2  # face 3, as tagged
    window.session.toggle_face(path, 1)  # face 2 off
    assert window.filmstrip.state_text(path) == "done · out of date"  # as the panel says (GUI QA: "done")
    restore(window, qtbot, path)
    assert window.gallery.current_number() == 2 and window.gallery.current_face() == 1
    assert window.filmstrip.state_text(path) == "done"


def test_restoring_again_keeps_the_seeds_chosen_and_says_which_choices_it_could_not_keep(window, qtbot, testdata_dir,
                                                                                          tmp_path):
    """Two-instance QA: seeds picked in the gallery, then damage painted away from the faces (or a
    face switched off) and Restore: every face went back to its first seed, unsaid, and Save wrote
    faces the user never chose."""
    from gui_util import said, wait_composed

    photo = shutil.copy(testdata_dir / "photos" / "gf_Blake_Lively.jpg", tmp_path / "two_faces.jpg")
    gui_util.set_sampling(window, seeds=3, steps=1)
    path = load(window, qtbot, photo)
    entry = restore(window, qtbot, path)
    window.session.choose(path, 0, 2)
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):  # a seed from More, chosen
        window.session.more(path, 1, count=1)
    window.session.choose(path, 1, 3)
    assert [f.seeds[f.chosen] for f in entry.result.faces] == [2, 3]
    entry = restore(window, qtbot, path)
    wait_composed(window, qtbot, path)
    assert [f.seeds[f.chosen] for f in entry.result.faces] == [2, 0]  # seed 3 was not sampled again
    face_2 = entry.result.faces[1].face.index + 1
    assert f"the candidate chosen before for face {face_2} was not made again" in said(window)
    assert entry.composite is not None and np.array_equal(entry.composite, entry.result.composite())  # as saved
