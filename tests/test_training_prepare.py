"""Training on one's own faces: `prepare` makes a data folder from a folder of images, a face the
data folder cannot serve is named with the way out, and the model card says what the networks
were trained on (own-model QA)."""

from __future__ import annotations

import io
import json
import tarfile
import tomllib

import cv2
import numpy as np
import pytest
import torch

from faceapp.training.__main__ import main as training_main
from faceapp.training.config import load_config
from faceapp.training.data import DatasetError, FaceDataset, read_manifest
from faceapp.training.export import export_model
from faceapp.training.prepare import prepare_faces
from faceapp.training.trainer import train


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)  # the shared test machine: 2 threads thrash under load


def quiet(_):
    pass


@pytest.fixture
def images(dataset_dir, tmp_path):
    """A folder as a user has it: aligned face crops of 256 and 512 px (PNG and JPEG, one in a
    sub-folder), and files that cannot be used."""
    faces = FaceDataset(dataset_dir, split="val", limit=8)
    folder = tmp_path / "my faces"
    (folder / "more").mkdir(parents=True)
    for number in range(8):
        face = cv2.cvtColor(faces.image(number), cv2.COLOR_RGB2BGR)
        if number % 2:
            cv2.imwrite(str(folder / f"face{number}.jpg"), cv2.resize(face, (512, 512)))
        else:
            cv2.imwrite(str(folder / ("more" if number == 4 else "") / f"face{number}.png"), face)
    cv2.imwrite(str(folder / "small.png"), cv2.resize(face, (200, 200)))
    cv2.imwrite(str(folder / "wide.png"), np.zeros((256, 384, 3), np.uint8))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not a JPEG")
    (folder / "notes.txt").write_text("who is who\n")
    return folder


def test_prepare_makes_a_data_folder_of_the_usable_faces_and_says_what_it_left_out(images, tmp_path):
    said = []
    made = prepare_faces(images, tmp_path / "data", log=said.append)
    rows = [json.loads(line) for line in (tmp_path / "data" / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and sorted(r["source"] for r in rows)[:2] == ["face0.png", "face1.jpg"]
    assert "more/face4.png" in {r["source"] for r in rows}
    assert made.splits["test"] >= 1 and made.splits["val"] >= 1 and made.splits["train"] == 8 - made.splits["test"] - made.splits["val"]
    for split in ("train", "val", "test"):  # what train --data and evaluate read
        face = FaceDataset(made.folder, split=split).image(0)
        assert face.shape == (256, 256, 3) and face.std() > 10
    reasons = dict((path.name, reason) for path, reason in made.left_out)
    assert set(reasons) == {"small.png", "wide.png", "broken.jpg"}
    assert "under 256 px" in reasons["small.png"] and "not a square face crop" in reasons["wide.png"]
    assert "left out 3 of 11 images" in said[-1] and ".;" not in said[-1]  # (ML QA: "copy?).;")
    listed = (tmp_path / "data" / "left_out.txt").read_text().splitlines()  # every one, by its path in the folder
    assert sorted(line.split(":")[0] for line in listed) == ["broken.jpg", "small.png", "wide.png"]
    again = prepare_faces(images, tmp_path / "again", log=quiet)  # the same splits every time
    assert [r.split for r in read_manifest(again.folder)] == [r.split for r in read_manifest(made.folder)]
    with pytest.raises(DatasetError, match="not an empty folder"):  # never written into an old one
        prepare_faces(images, tmp_path / "data", log=quiet)


def test_a_second_prepare_of_the_same_folder_is_refused_and_the_first_ones_work_kept(images, tmp_path):
    """Concurrency QA: two prepares of one folder each swept the other's staging folder as a stopped
    run's leftover; one reported a data set whose manifest named faces its shard did not hold."""
    from faceapp.core.file_lock import lock_exclusively

    out = tmp_path / "data"
    staging = tmp_path / ".data.partial"  # the first prepare's work in progress
    staging.mkdir()
    (staging / "shard-00000.tar").write_bytes(b"faces being written")
    with open(tmp_path / ".data.lock", "a+", encoding="utf-8") as first:
        if lock_exclusively(first)[0] != "locked":
            pytest.skip("no file locks here")
        with pytest.raises(DatasetError, match="another prepare is writing .*data now"):
            prepare_faces(images, out, log=quiet)
        assert (staging / "shard-00000.tar").read_bytes() == b"faces being written" and not out.exists()
    made = prepare_faces(images, out, log=quiet)  # once it is done: a stopped one's leftover is swept
    assert len(read_manifest(made.folder)) == 8 and not staging.exists()
    assert not (tmp_path / ".data.lock").exists()  # nothing left beside the data


def test_prepare_aligns_the_faces_of_photos(testdata_dir, tmp_path, retinaface_dir):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("gf_Blake_Lively.jpg", "cf_04.jpg"):
        (photos / name).write_bytes((testdata_dir / "photos" / name).read_bytes())
    made = prepare_faces(photos, tmp_path / "data", align=True, detector_dir=retinaface_dir, log=quiet)
    kept = [r.key for r in read_manifest(made.folder)]
    assert len(kept) + len(made.left_out) == 2 and kept  # a face too small to train on is left out, said
    assert all("enlarged" in reason for _, reason in made.left_out)


def _data_folder_with(tmp_path, face_bytes: bytes):
    folder = tmp_path / "hand-made"
    folder.mkdir()
    with tarfile.open(folder / "faces.tar", "w") as tar:
        info = tarfile.TarInfo("odd.jpg")
        info.size = len(face_bytes)
        tar.addfile(info, io.BytesIO(face_bytes))
    (folder / "manifest.jsonl").write_text(json.dumps({"key": "odd", "shard": "faces.tar", "split": "train"}) + "\n")
    return folder


@pytest.mark.parametrize("face, says", [
    (cv2.imencode(".jpg", np.zeros((200, 200, 3), np.uint8))[1].tobytes(), "is 200×200: faceapp trains on 256×256"),
    (b"\xff\xd8 cut short", "is not a decodable JPEG: take its line out of"),
])
def test_a_face_the_data_folder_cannot_serve_is_named_with_the_way_out(tmp_path, face, says):
    """Own-model QA: a 200 px face ended in a traceback deep in the restorer, one of 300 px was cut
    at random, and a broken one was named without a way out."""
    folder = _data_folder_with(tmp_path, face)
    with pytest.raises(DatasetError, match=says) as raised:
        FaceDataset(folder, split="train").image(0)
    assert "faces.tar" in str(raised.value) and "faceapp.training prepare" in str(raised.value)


def test_a_run_folder_that_cannot_be_made_is_one_error_line(tmp_path, capsys):
    (tmp_path / "file").write_text("in the way")
    code = training_main(["train", "restorer_tiny", "--run-dir", str(tmp_path / "file" / "run"), "--max-steps", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: cannot write in the run folder")


def test_the_card_names_the_data_the_networks_were_trained_on(images, dataset_dir, tmp_path):
    """Own-model QA: a model trained with --data on one's own faces was exported with aaf256's
    description, licence and limitations. Warm-started from faceapp's weights, it has seen both."""
    data = prepare_faces(images, tmp_path / "data", log=quiet).folder
    runs = tmp_path / "runs"
    for name in ("restorer_tiny", "prior_tiny"):
        train(load_config(name), run_dir=runs / name, data_root=data, max_steps=2, log=quiet)
    own = export_model(restorer_run=runs / "restorer_tiny", prior_run=runs / "prior_tiny", out_dir=tmp_path / "own",
                       name="my-faces", default=False)
    card, manifest = own.model_card.read_text(), tomllib.loads(own.manifest.read_text())
    assert f"Trained on the faces in `{data.name}`" in card and str(tmp_path) not in card  # (no private path)
    assert "All-Age-Faces" not in card and "East-Asian" not in card and "research data" not in manifest["licence"]
    # a restorer trained on aaf256, then on these faces: both are named
    train(load_config("restorer_tiny"), run_dir=runs / "first", data_root=dataset_dir, max_steps=2, log=quiet)
    train(load_config("restorer_tiny"), run_dir=runs / "then", data_root=data, max_steps=4, log=quiet,
          warm_start=runs / "first")
    both = export_model(restorer_run=runs / "then", prior_run=runs / "prior_tiny", out_dir=tmp_path / "both",
                        name="both", default=False)
    card = both.model_card.read_text()
    assert "Trained on aaf256" in card and f"Also trained on the faces in `{data.name}`" in card and "East-Asian" in card
    assert "part of it is research data" in tomllib.loads(both.manifest.read_text())["licence"]
    # a prior of aaf256 beside a restorer of these faces: which network saw which is said
    train(load_config("prior_tiny"), run_dir=runs / "aaf-prior", data_root=dataset_dir, max_steps=2, log=quiet)
    mixed = export_model(restorer_run=runs / "restorer_tiny", prior_run=runs / "aaf-prior", out_dir=tmp_path / "mixed",
                         name="mixed", default=False)
    assert f"Also trained: its restorer on the faces in `{data.name}` (" in mixed.model_card.read_text()


def test_a_run_stopped_by_a_bad_face_says_its_checkpoint_is_kept(dataset_dir, tmp_path, capsys):
    run = tmp_path / "run"
    train(load_config("restorer_tiny"), run_dir=run, data_root=dataset_dir, max_steps=2, log=quiet)
    bad = _data_folder_with(tmp_path, b"\xff\xd8 cut short")
    code = training_main(["train", "restorer_tiny", "--run-dir", str(run), "--data", str(bad), "--max-steps", "4"])
    err = capsys.readouterr().err
    assert code == 1 and "is not a decodable JPEG" in err and f". {run} keeps its last checkpoint" in err


def test_prepare_writes_shard_after_shard_and_every_face_reads_back(images, tmp_path, monkeypatch):
    """Review: every face was held in memory until the end (10 GB for 50,000); now each goes into its
    shard as it is read, a new shard every SHARD_FACES."""
    import faceapp.training.prepare as prepare

    monkeypatch.setattr(prepare, "SHARD_FACES", 3)
    made = prepare_faces(images, tmp_path / "data", log=quiet)
    records = read_manifest(made.folder)
    assert sorted({r.shard for r in records}) == ["faces-000.tar", "faces-001.tar", "faces-002.tar"]
    for split in ("train", "val", "test"):
        faces = FaceDataset(made.folder, split=split)
        assert all(faces.image(i).shape == (256, 256, 3) for i in range(len(faces)))
    assert sum(made.splits.values()) == len(records) == 8
