"""The prepared GPU call (faceapp/training/gpu_job.sh, gpu_recipe.md), run here on the CPU with the
smoke configs: a packed data part goes in, weights small enough to come back go out (split into
pieces when large), gpu_join.sh rebuilds them byte for byte and refuses a damaged piece, and the
next call warm-starts from what came back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from faceapp.training.pack import pack_parts

REPO = Path(__file__).resolve().parents[1]
JOB = REPO / "faceapp" / "training" / "gpu_job.sh"
JOIN = REPO / "faceapp" / "training" / "gpu_join.sh"


def gpu_call(workdir: Path, part: Path, out: Path) -> subprocess.CompletedProcess:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():  # $OUT starts empty on the device
        old.unlink()
    env = {**os.environ, "PYTHON": sys.executable, "WHEELS": "none", "OMP_NUM_THREADS": "1", "OUT": str(out),
           "PRIOR_CONFIG": "prior_smoke", "RESTORER_CONFIG": "restorer_smoke", "PIECE_MIB": "1",
           "PYTHONPATH": str(REPO)}
    return subprocess.run(["bash", str(JOB), str(part), "0.02"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_gpu_call_returns_weights_that_join_and_warm_start_the_next(tmp_path, dataset_dir):
    (part,) = pack_parts(dataset_dir, tmp_path / "data", max_mib=0.3, max_parts=1, log=lambda line: None)
    assert sum(f.stat().st_size for f in part.iterdir()) <= 0.3 * 2**20
    work, out = tmp_path / "repo", tmp_path / "out"
    work.mkdir()

    first = gpu_call(work, part, out)
    assert first.returncode == 0, first.stdout + first.stderr
    returned = sorted(p.name for p in out.iterdir())
    assert len(returned) <= 8 and all(p.stat().st_size <= 16 * 2**20 for p in out.iterdir())
    assert {"job.log", "logs.tar"} <= set(returned)
    assert any(name.startswith("prior.safetensors.part-") for name in returned), returned  # > 1 MiB: pieces

    joined = tmp_path / "joined"
    join = subprocess.run(["bash", str(JOIN), str(out), str(joined)], capture_output=True, text=True)
    assert join.returncode == 0, join.stdout + join.stderr
    for kind in ("prior", "restorer"):
        assert (joined / f"{kind}.safetensors").read_bytes() == (work / "runs/gpu" / kind / "ema.safetensors").read_bytes()
    assert (joined / "runs/gpu/prior/losses.csv").is_file()

    (work / ".gpu/carry").mkdir(parents=True)
    for kind in ("prior", "restorer"):
        (work / ".gpu/carry" / f"{kind}.safetensors").write_bytes((joined / f"{kind}.safetensors").read_bytes())
    second = gpu_call(work, part, tmp_path / "out2")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "warm start from .gpu/carry/prior.safetensors" in (work / "runs/gpu-prior.log").read_text()

    piece = sorted(out.glob("prior.safetensors.part-*"))[-1]
    damage = bytearray(piece.read_bytes())
    damage[-1] ^= 0xFF
    piece.write_bytes(bytes(damage))
    damaged = subprocess.run(["bash", str(JOIN), str(out), str(tmp_path / "joined2")], capture_output=True, text=True)
    assert damaged.returncode == 1 and "FAILED" in damaged.stdout


def test_a_part_holds_the_validation_faces_asked_for(tmp_path, dataset_dir):
    """Checkpoints are validated on up to 16 faces of the val split: a part can carry them all."""
    import json

    for count in (4, 6):
        (part,) = pack_parts(dataset_dir, tmp_path / f"data{count}", max_mib=0.3, max_parts=1, val_faces=count,
                             log=lambda line: None)
        rows = [json.loads(line) for line in (part / "manifest.jsonl").read_text().splitlines()]
        assert sum(r["split"] == "val" for r in rows) == count
        assert sum(r["split"] == "train" for r in rows) > 0


def test_a_snapshot_comes_back_beside_the_last_weights_and_is_checked(tmp_path):
    """SNAPSHOT_MINUTES keeps a run's earlier EMA file aside (a run that overfits late still brings
    back its earlier weights): gpu_join.sh rebuilds it from its pieces and checks it like the rest."""
    import hashlib

    out, joined = tmp_path / "out", tmp_path / "joined"
    out.mkdir()
    blobs = {"restorer": os.urandom(3000), "restorer-snapshot": os.urandom(2500)}
    lines = []
    for name, blob in blobs.items():
        (out / f"{name}.safetensors.part-00").write_bytes(blob[:2048])
        (out / f"{name}.safetensors.part-01").write_bytes(blob[2048:])
        lines.append(f"{hashlib.sha256(blob).hexdigest()}  {name}.safetensors")
    (out / "job.log").write_text("\n".join(lines) + "\n")
    join = subprocess.run(["bash", str(JOIN), str(out), str(joined)], capture_output=True, text=True)
    assert join.returncode == 0, join.stdout + join.stderr
    assert "restorer-snapshot.safetensors: OK" in join.stdout
    for name, blob in blobs.items():
        assert (joined / f"{name}.safetensors").read_bytes() == blob
    (out / "restorer-snapshot.safetensors.part-01").write_bytes(b"damaged")
    damaged = subprocess.run(["bash", str(JOIN), str(out), str(tmp_path / "joined2")], capture_output=True, text=True)
    assert damaged.returncode == 1 and "restorer-snapshot.safetensors: FAILED" in damaged.stdout
