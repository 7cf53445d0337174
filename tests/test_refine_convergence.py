"""Iterative refinement converges with a trained model: pass k+1 changes the face less than pass k.

Needs a trained model bundled in ``models/`` (faceapp's compact model once it lands); skipped when
none is installed, since a random-weight model has nothing to converge to.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from pipeline_util import drain

from faceapp.core.refine import iter_refine, refine_sampler
from faceapp.core.registry import Registry
from faceapp.core.settings import SamplerSettings

FACES = ("0143.png", "0368.png", "Adele_crop.png", "Julia_Roberts_crop.png")


def trained_model() -> str | None:
    """The first bundled model whose weights are installed, or None."""
    registry = Registry()
    for manifest in registry.list():
        if registry.is_installed(manifest.name):
            return manifest.name
    return None


@pytest.mark.skipif(trained_model() is None, reason="no trained model is installed (faceapp's compact model has not landed)")
def test_each_refinement_pass_changes_the_face_less_than_the_one_before(testdata_dir):
    from faceapp.core.engine import load_engine

    engine = load_engine(trained_model(), device="auto")
    sampler = refine_sampler(SamplerSettings(steps=engine.default_steps))
    for name in FACES:
        rgb = Image.open(testdata_dir / "faces" / name).convert("RGB").resize((engine.face_size,) * 2, Image.BICUBIC)
        _, passes = drain(iter_refine(np.asarray(rgb), lambda face: engine.restore(face, sampler=sampler, seeds=[0])[0], 3))
        changes = [p.change for p in passes]
        assert changes[2] < changes[1] < changes[0], f"{name}: changes per pass {changes}"
