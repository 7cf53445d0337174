"""Make the README's damage-repair figure: a photo with strokes painted over a face and over the
background, and what faceapp's pipeline gives back (``faceapp-cli restore --mask``'s own code path).

    .venv/bin/python packaging/damage_figure.py ../shared/testdata/photos/cf_03.jpg \
        -o resources/damage_repair.png --model faceapp-compact

With ``--model`` the installed model repairs and restores at its own default fidelity and steps,
sharp faces spared, as the CLI does by default. Without it a stand-in engine
is used: the identity restorer and no prior, so a face's
strokes get the classical pre-fill the prior would start from, and nothing is restored: the
figure shows the repair path of the pipeline, not the prior's fill.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceapp.core.application import find_faces
from faceapp.core.faces import FaceDetector
from faceapp.core.photo_io import Photo, read_photo
from faceapp.core.photo_restore import PhotoSettings, restore_photo
from faceapp.core.preferences import Preferences
from faceapp.core.settings import SamplerSettings


def strokes(photo: Photo, faces) -> np.ndarray:
    """White strokes as a user paints them: across each face, through the background, a stain."""
    mask = np.zeros((photo.height, photo.width), np.uint8)
    width = max(2, photo.width // 130)
    for face in faces:
        x0, y0, x1, y1 = (int(v) for v in face.box)
        cv2.line(mask, (x0 + 2, y0 + (y1 - y0) // 3), (x1 - 2, y1 - (y1 - y0) // 4), 255, width)
    cv2.line(mask, (width, photo.height - 4 * width), (photo.width // 3, 4 * width), 255, width + 1)
    cv2.circle(mask, (photo.width - photo.width // 10, photo.height - photo.height // 6), 3 * width, 255, -1)
    return mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--detector-dir", type=Path, help="default: the bundled detector")
    parser.add_argument("--model")
    args = parser.parse_args()
    photo = read_photo(args.photo)
    faces = find_faces(photo, FaceDetector(args.detector_dir), Preferences())
    mask = strokes(photo, faces)
    damaged = photo.rgb.copy()
    damaged[mask > 0] = 255
    if args.model:
        from faceapp.core.engine import load_engine

        engine = load_engine(args.model)
        sampler = Preferences().sampler(engine.default_steps, engine.default_fidelity)  # as the CLI runs it by default
    else:
        import torch

        from faceapp.core.engine import FaceEngine

        engine = FaceEngine.from_networks(torch.nn.Identity(), None, face_size=512, name="stand-in")
        sampler = SamplerSettings(fidelity=1.0)
    result = restore_photo(Photo.from_array(damaged), faces, engine, PhotoSettings(sampler=sampler), damage=mask)
    gap = np.full((photo.height, 8, 3), 255, np.uint8)
    Image.fromarray(np.hstack([damaged, gap, result.composite()])).save(args.output)


if __name__ == "__main__":
    main()
