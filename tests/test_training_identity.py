"""Identity distance from dlib's face-recognition embedding, as the evaluation reports it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceapp.training.data import FaceDataset
from faceapp.training.identity import IdentityEmbedder, IdentityUnavailableError


@pytest.fixture(scope="module")
def embedder():
    return IdentityEmbedder()


def _blurred(face: np.ndarray, scale: int) -> np.ndarray:
    small = cv2.resize(face, (256 // scale, 256 // scale), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (256, 256), interpolation=cv2.INTER_CUBIC)


def test_distance_grows_with_degradation(embedder, dataset_dir):
    faces = FaceDataset(dataset_dir, split="test", limit=4)
    truth = [faces.image(i) for i in range(len(faces))]
    assert embedder.distances(truth, truth) == pytest.approx([0.0] * 4, abs=1e-6)
    mild = np.mean(embedder.distances([_blurred(f, 2) for f in truth], truth))
    strong = np.mean(embedder.distances([_blurred(f, 16) for f in truth], truth))
    assert 0.0 < mild < strong


def test_missing_weights_package_is_a_clear_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "face_recognition_models" else real(name, *a))
    with pytest.raises(IdentityUnavailableError, match=r"\[eval\]"):
        IdentityEmbedder()
