"""Identity similarity of two faces from dlib's face-recognition ResNet (128-D embeddings).

This is the identity measure face-restoration papers report in spirit (a face-recognition
network's embedding of the restored face compared with the ground truth's): the weights come
from the ``face-recognition-models`` package and the network from ``dlib`` (the ``[eval]``
extra). The package's ``__init__`` imports the removed ``pkg_resources``, so its ``.dat`` files
are found by path and the package is never imported.

Faces are the data set's aligned crops. The five landmarks that dlib's embedding aligns on are
found inside one box per face: the box dlib's frontal detector finds on the clean face (the same
box is used for every version of that face), or a fixed box of the aligned layout when the
detector finds nothing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from faceapp.core.errors import FaceappError

EMBEDDING_FILE = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
#: Where the face sits in an aligned crop (fractions of the side), used when detection fails.
FALLBACK_BOX = (0.18, 0.22, 0.82, 0.86)


class IdentityUnavailableError(FaceappError):
    """dlib or the face-recognition weights are not installed."""


def _models_folder() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise IdentityUnavailableError(
            "identity similarity needs the [eval] extra: pip install -e \".[eval]\" (dlib-bin and "
            "face-recognition-models)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class IdentityEmbedder:
    """128-D identity embeddings of aligned face crops (HxWx3 uint8 RGB)."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise IdentityUnavailableError(
                "identity similarity needs dlib: pip install -e \".[eval]\" (dlib-bin and face-recognition-models)"
            ) from exc
        folder = _models_folder()
        for name in (EMBEDDING_FILE, LANDMARKS_FILE):
            if not (folder / name).is_file():
                raise IdentityUnavailableError(f"{folder / name} is missing: reinstall face-recognition-models")
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(folder / LANDMARKS_FILE))
        self._network = dlib.face_recognition_model_v1(str(folder / EMBEDDING_FILE))

    def face_box(self, reference: np.ndarray):
        """The face's box in ``reference`` (the clean face): the most confident detection, else the
        aligned layout's fixed box."""
        found = self._detector(np.ascontiguousarray(reference), 1)
        if len(found):
            return max(found, key=lambda r: r.area())
        h, w = reference.shape[:2]
        x0, y0, x1, y1 = FALLBACK_BOX
        return self._dlib.rectangle(int(x0 * w), int(y0 * h), int(x1 * w), int(y1 * h))

    def embed(self, rgb: np.ndarray, box) -> np.ndarray:
        """The 128-D embedding of the face inside ``box``."""
        image = np.ascontiguousarray(rgb, dtype=np.uint8)
        shape = self._landmarks(image, box)
        return np.asarray(self._network.compute_face_descriptor(image, shape), dtype=np.float64)

    def distances(self, faces: list[np.ndarray], truth: list[np.ndarray]) -> list[float]:
        """Euclidean distance of each face's embedding from its ground truth's: dlib's identity
        measure (0 = same embedding; dlib calls two faces the same person below 0.6)."""
        out = []
        for face, reference in zip(faces, truth):
            box = self.face_box(reference)
            out.append(float(np.linalg.norm(self.embed(face, box) - self.embed(reference, box))))
        return out
