"""The shard reader serves faces by key without unpacking, with the split and flips asked for."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faceapp.training.data import DatasetError, FaceDataset, augment, read_manifest


def test_split_faces_decode_as_256px_rgb(dataset_dir):
    faces = FaceDataset(dataset_dir, split="val", limit=3)
    keys = [r.key for r in read_manifest(dataset_dir) if r.split == "val"][:3]
    assert faces.keys == keys
    image = faces.image(0)
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    assert image.std() > 10  # a photo, not a blank


def test_spread_faces_cover_the_whole_split(dataset_dir):
    """Evaluation and validation faces come from across the split (people of every age), not its
    first faces, which the source orders by person and age."""
    keys = [r.key for r in read_manifest(dataset_dir) if r.split == "test"]
    spread = FaceDataset(dataset_dir, split="test", limit=4, spread=True).keys
    assert spread == [keys[0], keys[len(keys) // 4], keys[len(keys) // 2], keys[3 * len(keys) // 4]]


def test_split_selects_only_that_split(dataset_dir):
    train_keys = {r.key for r in read_manifest(dataset_dir) if r.split == "train"}
    faces = FaceDataset(dataset_dir, split="test", limit=5)
    assert not set(faces.keys) & train_keys


def test_flip_and_crop_are_seeded(dataset_dir):
    image = FaceDataset(dataset_dir, split="val", limit=1).image(0)
    flips = [augment(image, np.random.default_rng(s), crop=256, hflip=True) for s in range(16)]
    assert any(np.array_equal(f, image[:, ::-1]) for f in flips)
    assert any(np.array_equal(f, image) for f in flips)
    a = augment(image, np.random.default_rng(7), crop=64, hflip=True)
    b = augment(image, np.random.default_rng(7), crop=64, hflip=True)
    assert a.shape == (64, 64, 3) and np.array_equal(a, b)


def test_missing_shard_is_reported(dataset_dir, tmp_path):
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"key": "x", "shard": "none.tar", "split": "train"}) + "\n")
    with pytest.raises(DatasetError, match="none.tar"):
        FaceDataset(tmp_path, split="train")


def test_missing_manifest_names_the_folder(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match="manifest.jsonl"):
        FaceDataset(tmp_path, split="train")
    monkeypatch.chdir(tmp_path)  # a config's relative root: said where it was looked for (ML QA)
    with pytest.raises(DatasetError) as raised:
        FaceDataset("../shared/datasets/aaf256", split="train")
    assert f"(that is {tmp_path}/../shared/datasets/aaf256/manifest.jsonl, from the folder the command runs in)" \
        in str(raised.value)
