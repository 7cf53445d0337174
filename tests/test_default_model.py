"""The model faceapp ships: a fresh install restores photos with it, offline, from the first run.

These run the real bundled weights (``models/faceapp-compact-*.safetensors``) at their default
settings, on a few faces and the test photos: a release without them, or with weights that do not
restore, fails here.
"""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest
import torch

import faceapp.cli as cli
from faceapp import paths
from faceapp.core.registry import Registry
from faceapp.training.config import load_config
from faceapp.training.evaluate import degraded_test_set
from faceapp.training.metrics import psnr

#: What ``python -m faceapp.training export`` names faceapp's own model.
MODEL = "faceapp-compact"
#: The bundled folder's budget (issue 9): the model's files and the detector.
BUNDLE_BYTES = 100_000_000


@pytest.fixture
def offline(monkeypatch):
    """No network: any connection attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"faceapp tried to reach the network: {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_a_fresh_install_has_faceapps_own_model_installed_as_the_default():
    registry = Registry()  # the bundled folder and an empty user profile (conftest)
    default = registry.default()
    assert default.name == MODEL
    assert registry.is_installed(MODEL)
    bundled = [p for p in paths.bundled_models_dir().rglob("*") if p.is_file() and p.suffix == ".safetensors"]
    assert sum(p.stat().st_size for p in bundled) <= BUNDLE_BYTES
    assert list(paths.weights_dir().glob("*")) == []  # nothing was copied or downloaded


def test_the_default_model_restores_degraded_faces_better_than_bicubic(dataset_dir, offline):
    from faceapp.core.engine import load_engine
    from faceapp.core.settings import SamplerSettings

    torch.set_num_threads(2)
    engine = load_engine(MODEL, device="cpu")
    truth, degraded = degraded_test_set(dataset_dir, limit=4, seed=0, degradation=load_config("restorer_cpu").degradation)
    sampler = SamplerSettings(fidelity=engine.default_fidelity, steps=engine.default_steps)
    restored = [engine.restore(face, sampler=sampler, seeds=[0])[0] for face in degraded]
    gain = np.mean([psnr(r, t) - psnr(d, t) for r, d, t in zip(restored, degraded, truth)])
    assert gain > 0.5, f"the default model gains only {gain:.2f} dB over the degraded faces"


def test_cli_restores_every_test_photo_offline_with_the_bundled_model(tmp_path, testdata_dir, capsys, offline):
    photos = sorted((testdata_dir / "photos").iterdir())
    code = cli.main(["restore", *map(str, photos), "-o", str(tmp_path), "--json", "--no-progress", "--device", "cpu"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0, summary
    assert summary["restored"] == len(photos) and summary["failed"] == 0
    for record in summary["results"]:
        assert record["status"] == "ok" and record["faces"] >= 1, record
        assert len(record["outputs"]) == 1
    # What made each result is written into it, enough to tell the release and the face (QA: the model's
    # name alone, the same across seven releases; faces without their numbers, one being left out)
    from faceapp.core.export import read_provenance

    manifest = Registry().get(MODEL)
    made = read_provenance(summary["results"][1]["outputs"][0])  # cf_01.jpg: its face 4 is left out (unsure)
    assert made["model_weights"] == {f.name: f.sha256 for f in manifest.files} and len(made["model_weights"]) == 2
    assert made["restorer_tones"] == manifest.restorer_tones and made["device"] == "cpu"
    assert made["cpu_threads"] == torch.get_num_threads()
    assert [face["face"] for face in made["faces"]] == [1, 2, 3, 5]


def test_the_window_opens_ready_on_the_bundled_model(qtbot, tmp_path):
    import gui_util

    from faceapp.gui.main_window import MainWindow

    window = MainWindow(store=gui_util.settings_store(tmp_path))
    qtbot.addWidget(window)
    assert not any(n.action == "models" for n in window.notices.notices())  # nothing to download first
    assert "drop photos" in window.compare._placeholder.lower()
    assert window.fidelity.fidelity() == pytest.approx(Registry().get(MODEL).default_fidelity)
    window.close()


def test_the_default_model_fills_scratches_in_the_faces_colours_and_keeps_the_rest(testdata_dir):
    """Issue 12 with the shipped prior: white strokes on every test face are filled within the face's
    colours, and the undamaged pixels come back within 1 dB of the face restored without strokes."""
    from PIL import Image
    from pipeline_util import colour_range, drain, scratched, scratches

    from faceapp.core.engine import load_engine
    from faceapp.core.face_repair import iter_repair_face
    from faceapp.core.settings import SamplerSettings

    torch.set_num_threads(2)
    engine = load_engine(MODEL, device="cpu")
    sampler = SamplerSettings(fidelity=engine.default_fidelity, steps=engine.default_steps)
    size = engine.face_size
    mask = scratches(size, size)
    damaged_pixels, keep = mask > 0, mask == 0
    for path in sorted((testdata_dir / "faces").glob("*.png")):
        face = np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC))
        repaired = drain(iter_repair_face(engine, scratched(face, mask), mask, sampler=sampler, seeds=[0]))[0][0]
        low, high = colour_range(face, mask)
        inside = ((repaired[damaged_pixels] >= low) & (repaired[damaged_pixels] <= high)).all(axis=1)
        # a generated fill carries the prior's texture, so a few pixels may stray past the range's
        # margin (1 - 2 % at 8 repair steps; 3.6 % at 2 steps, when the strokes stayed visible)
        assert inside.mean() > 0.98, f"{path.name}: {inside.mean():.3f} of the filled pixels in the face's colours"
        restored = engine.restore(repaired, sampler=sampler, seeds=[0])[0]
        plain = engine.restore(face, sampler=sampler, seeds=[0])[0]
        gap = abs(psnr(restored[keep], face[keep]) - psnr(plain[keep], face[keep]))
        assert gap <= 1.0, f"{path.name}: the undamaged pixels are {gap:.2f} dB from the unmasked restoration"
