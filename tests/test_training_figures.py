"""The model card's figures are made by the real CLI on real faces and photos."""

from __future__ import annotations

import shutil

import cv2
from gui_util import install_tiny_model

from faceapp.training.figures import DEFAULT, LABEL_HEIGHT, TILE, make_figures


def test_figures_show_each_input_at_each_fidelity(tmp_path, testdata_dir):
    model = install_tiny_model()
    data = tmp_path / "testdata"
    (data / "faces").mkdir(parents=True)
    (data / "photos").mkdir()
    for name in ("0143.png", "Adele_crop.png"):
        shutil.copy(testdata_dir / "faces" / name, data / "faces" / name)
    shutil.copy(testdata_dir / "photos" / "cf_03.jpg", data / "photos" / "cf_03.jpg")

    faces, photos = make_figures(data, tmp_path / "card", model=model, fidelities=[0.9, 0.2])
    grid = cv2.imread(str(faces))
    assert grid.shape[:2] == (LABEL_HEIGHT + 2 * TILE, 3 * TILE)  # header + a row per face; input + 2 fidelities
    first_face = grid[LABEL_HEIGHT:LABEL_HEIGHT + TILE]
    # the random-weight prior changes a face more at fidelity 0.2 than at 0.9
    input_tile, high, low = (first_face[:, i * TILE:(i + 1) * TILE].astype(float) for i in range(3))
    assert abs(low - input_tile).mean() > abs(high - input_tile).mean()
    assert cv2.imread(str(photos)).shape[:2] == (LABEL_HEIGHT + TILE, 3 * TILE)


def test_the_default_column_shows_the_apps_default_run_with_sharp_faces_spared(tmp_path, testdata_dir):
    model = install_tiny_model("tiny-sparing", sharp_faces=(254.0, 255.0))  # every face spared at the default
    data = tmp_path / "testdata"
    (data / "faces").mkdir(parents=True)
    (data / "photos").mkdir()
    shutil.copy(testdata_dir / "faces" / "0143.png", data / "faces" / "0143.png")
    shutil.copy(testdata_dir / "photos" / "cf_03.jpg", data / "photos" / "cf_03.jpg")

    faces, _ = make_figures(data, tmp_path / "card", model=model, fidelities=[1.0, DEFAULT, 0.2])
    row = cv2.imread(str(faces))[LABEL_HEIGHT:LABEL_HEIGHT + TILE].astype(float)
    restorer_only, default, low = (row[8:-8, i * TILE + 8:(i + 1) * TILE - 8] for i in (1, 2, 3))  # off JPEG seams
    assert abs(default - restorer_only).mean() < 1  # spared: the restorer's face, as at fidelity 1
    assert abs(low - restorer_only).mean() > 5
