"""Iterative refinement converges with faceapp's own trained model: pass k+1 changes the face less
than pass k, through the pipeline the CLI's --refine and the GUI's Refine run.

Needs faceapp's compact model installed (``faceapp-compact``); skipped when it is not, since a
random-weight model has nothing to converge to. Never another installed model: the official one
runs at 512 px and would take far too long on a CPU.
"""

from __future__ import annotations

import pytest

from faceapp.core.errors import FaceappError
from faceapp.core.photo_io import read_photo
from faceapp.core.photo_restore import PhotoSettings, refine_face, restore_photo
from faceapp.core.registry import Registry
from faceapp.core.settings import SamplerSettings

#: faceapp's own model (the name ``python -m faceapp.training export`` gives it).
MODEL = "faceapp-compact"
FACES = ("0143.png", "0368.png", "Adele_crop.png", "Julia_Roberts_crop.png")


def installed() -> bool:
    try:
        return Registry().is_installed(MODEL)
    except FaceappError:  # not a known model at all
        return False


@pytest.mark.skipif(not installed(), reason=f"faceapp's own model ({MODEL}) is not installed")
def test_each_refinement_pass_changes_the_face_less_than_the_one_before(testdata_dir):
    from faceapp.core.engine import load_engine

    engine = load_engine(MODEL, device="auto")
    settings = PhotoSettings(sampler=SamplerSettings(steps=engine.default_steps, fidelity=engine.default_fidelity),
                             aligned=True)  # the model's defaults, as the CLI and the GUI run it
    for name in FACES:
        result = restore_photo(read_photo(testdata_dir / "faces" / name), [], engine, settings)
        refined = refine_face(result, 0, engine, 3)
        face = refined.faces[0]
        changes = [r.change for r in face.refinement_of(face.chosen)]
        assert changes[2] < changes[1] < changes[0], f"{name}: changes per pass {changes}"
