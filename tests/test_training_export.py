"""Exported EMA weights load through the registry and restore a face through the sampler."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from faceapp.core.engine import load_engine
from faceapp.core.registry import Registry
from faceapp.core.settings import SamplerSettings
from faceapp.training.config import load_config, parse_config
from faceapp.training.export import export_model
from faceapp.training.trainer import train


def test_export_loads_through_the_registry_and_runs_the_sampler(dataset_dir, tmp_path):
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    for name in ("restorer_tiny", "prior_tiny"):
        train(load_config(name), run_dir=tmp_path / name, data_root=dataset_dir, max_steps=2, log=lambda _: None)
    out = tmp_path / "models"
    result = export_model(restorer_run=tmp_path / "restorer_tiny", prior_run=tmp_path / "prior_tiny", out_dir=out,
                          name="test-compact", default_steps=6, default_fidelity=0.7)

    manifest = tomllib.loads(result.manifest.read_text())
    # the face size is the prior's: a 32 px prior is never run at 256 px
    assert manifest["default"] is True and manifest["face_size"] == load_config("prior_tiny").model.config["image_size"] == 32
    sizes = {f["name"]: f["size"] for f in manifest["files"]}
    assert sizes == {p.name: p.stat().st_size for p in result.files}
    card = result.model_card.read_text()
    assert "All-Age-Faces" in card and "Prior: predicts ε (the noise)" in card and "Restorer: L1 on" in card
    assert "Prior validation curve" in card and "| 2 | 4 |" in card  # step 2, 2×2 samples seen
    from faceapp.training.csvlog import read_log
    from faceapp.training.export import _curve_table

    # the card counts the faces the run was validated on, as its log says (ML QA: "16" was written in, of a
    # split of 15), and an older run's log, without the count, is said without one
    assert read_log(tmp_path / "prior_tiny" / "validation.csv")[-1]["val_faces"] == 16
    assert _curve_table("prior", [{"step": 2, "val_mse": 0.5, "val_faces": 15}])[0].endswith(", 15 fixed validation faces):")
    assert _curve_table("prior", [{"step": 2, "val_mse": 0.5}])[0].endswith("(EMA weights, fixed validation faces):")

    registry = Registry(manifest_dirs=[out], weights_dir=tmp_path / "weights")
    assert registry.problems == [] and registry.default().name == "test-compact"
    assert registry.is_installed("test-compact")
    chosen = registry.get("test-compact")  # the evaluation's choice of defaults reaches the app
    assert (chosen.default_steps, chosen.default_fidelity) == (6, 0.7)
    engine = load_engine("test-compact", device="cpu", registry=registry)
    face = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    out_a = engine.restore(face, sampler=SamplerSettings(fidelity=0.5, steps=2), seeds=[1])
    out_b = engine.restore(face, sampler=SamplerSettings(fidelity=0.5, steps=2), seeds=[1])
    assert out_a[0].shape == (32, 32, 3) and out_a[0].dtype == np.uint8  # restored at the model's face size
    assert np.array_equal(out_a[0], out_b[0])


def test_exported_weights_are_the_runs_ema_in_fp16(dataset_dir, tmp_path):


    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load
    run = train(load_config("prior_tiny"), run_dir=tmp_path / "p", data_root=dataset_dir, max_steps=2,
                log=lambda _: None)
    train(load_config("restorer_tiny"), run_dir=tmp_path / "r", data_root=dataset_dir, max_steps=1, log=lambda _: None)
    result = export_model(restorer_run=tmp_path / "r", prior_run=tmp_path / "p", out_dir=tmp_path / "m",
                          name="fp16-compact")
    exported = load_file(str(result.files[1]))
    ema = torch.load(run.run_dir / "checkpoints" / "last.pt", weights_only=True)["ema"]["module"]
    assert set(exported) == set(ema)
    assert all(exported[k].dtype == torch.float16 and torch.equal(exported[k], ema[k].half()) for k in ema)


def test_a_v_prior_is_exported_as_one_and_the_app_converts_its_output(dataset_dir, tmp_path):
    torch.set_num_threads(1)
    train(load_config("prior_unshuffle_tiny"), run_dir=tmp_path / "p", data_root=dataset_dir, max_steps=2,
          log=lambda _: None)
    mse = load_config("restorer_conv_tiny").source.replace("[train]\n", '[train]\nrestorer_loss = "mse"\n')
    train(parse_config(mse, where="mse.toml"), run_dir=tmp_path / "r", data_root=dataset_dir, max_steps=1,
          log=lambda _: None)
    result = export_model(restorer_run=tmp_path / "r", prior_run=tmp_path / "p", out_dir=tmp_path / "m", name="v-compact")
    assert tomllib.loads(result.manifest.read_text())["diffusion"]["prediction"] == "v"
    card = result.model_card.read_text()  # the card tells it too, and the network's shape
    assert "Prior: predicts v (Salimans & Ho 2022)" in card and "Restorer: MSE on" in card
    assert "UNet (learned-range variance) on 2×2 pixel-unshuffled faces with a full-resolution tail of 8 channels" in card
    registry = Registry(manifest_dirs=[tmp_path / "m"], weights_dir=tmp_path / "weights")
    engine = load_engine("v-compact", device="cpu", registry=registry)
    assert engine.prediction == "v"


@pytest.mark.parametrize("kind, config", [("restorer", "restorer_tiny"), ("prior", "prior_unshuffle_tiny")])
def test_a_new_machine_warm_starts_from_the_shipped_weights(kind, config, dataset_dir, tmp_path):
    """The recipe's fallback when the run folders are gone: train on from models/NAME-KIND.safetensors,
    continuing the step count, from exactly the weights that were shipped."""
    torch.set_num_threads(1)
    cfg = load_config(config)
    runs = {"restorer": tmp_path / "r", "prior": tmp_path / "p"}
    train(cfg, run_dir=runs[kind], data_root=dataset_dir, max_steps=2, log=lambda _: None)
    other = "prior_tiny" if kind == "restorer" else "restorer_conv_tiny"
    other_kind = "prior" if kind == "restorer" else "restorer"
    train(load_config(other), run_dir=runs[other_kind], data_root=dataset_dir, max_steps=1, log=lambda _: None)
    result = export_model(restorer_run=runs["restorer"], prior_run=runs["prior"], out_dir=tmp_path / "models",
                          name="shipped-compact")
    shipped = tmp_path / "models" / f"shipped-compact-{kind}.safetensors"

    resumed = train(cfg, run_dir=tmp_path / "new-machine", data_root=dataset_dir, warm_start=shipped, max_steps=2,
                    log=lambda _: None)
    assert resumed.start_step == 2  # the shipped weights' step
    assert shipped in result.files
    again = load_file(str(resumed.portable))  # saved at once (nothing left to train): the shipped weights
    assert all(torch.equal(again[k], v) for k, v in load_file(str(shipped)).items())
