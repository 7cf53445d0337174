"""Resumable training checkpoints and the portable EMA weight file.

``checkpoints/last.pt`` holds everything a run needs to continue bit-exactly: network, EMA,
optimiser, step and the global RNG states (the per-step randomness is keyed by step, see
:mod:`faceapp.training.batches`). It is written atomically and read with
``torch.load(weights_only=True)``.

``ema.safetensors`` holds only the EMA weights in float16 plus metadata (kind, arch, step, config):
small enough to carry between machines, the source of exports and evaluations, and a warm start
for a new run. :func:`load_run_weights` and :func:`load_run_network` read it from a run folder.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from faceapp.core.errors import ArchitectureMismatchError, CorruptModelError, FaceappError
from faceapp.core.loading import load_network
from faceapp.core.tempfiles import plain_file_mode, replace_file
from faceapp.training.config import ConfigError, parse_config

CHECKPOINT_NAME = "last.pt"
PORTABLE_NAME = "ema.safetensors"


def checkpoint_path(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints" / CHECKPOINT_NAME


#: Free bytes below which a failed write is put down to a full disk (torch reports one as "unexpected pos").
FULL_DISK_BYTES = 1 << 20


class CheckpointWriteError(FaceappError):
    """A checkpoint or weight file could not be written (a full disk, a read-only folder)."""


def _atomic(path: Path, write) -> None:
    """Write ``path`` through ``write(temporary path)`` and rename it into place: a reader sees the old
    file or the new one, never part of one. On any failure (Ctrl-C included) the temporary file is
    removed, so a full disk is not left fuller; a failed write raises :class:`CheckpointWriteError`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        replace_file(tmp, path)
    except BaseException as exc:
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = None
        tmp.unlink(missing_ok=True)
        if not isinstance(exc, Exception):  # Ctrl-C, exit: not a write that failed
            raise
        full = getattr(exc, "errno", None) == errno.ENOSPC or "os error 28" in str(exc) or (
            free is not None and free < FULL_DISK_BYTES)  # (torch says "unexpected pos", safetensors "os error 28")
        if full:
            raise CheckpointWriteError(f"cannot write {path.name} in {path.parent}: {os.strerror(errno.ENOSPC)}; "
                                       "free some space and run the same command again to resume") from exc
        if not isinstance(exc, (OSError, RuntimeError, SafetensorError)):
            raise  # not a write that failed: a bug, with its traceback
        reason = getattr(exc, "strerror", None) or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointWriteError(f"cannot write {path.name} in {path.parent}: {reason}; once the folder is "
                                   "writable, run the same command again to resume") from exc


def rng_state() -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.stack([s for s in torch.cuda.get_rng_state_all()])
    return state


def restore_rng_state(state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


def save_checkpoint(path: Path, *, model, ema, optimizer, step: int, config_text: str, extra: dict | None = None) -> None:
    """Write the full training state for a bit-exact resume (``extra``: more plain values)."""
    state = {
        "model": model.state_dict(),
        "ema": ema.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": int(step),
        "rng": rng_state(),
        "config": config_text,
        **(extra or {}),
    }
    _atomic(Path(path), lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: Path, *, map_location="cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles code)."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for a damaged file
        raise CorruptModelError(f"training checkpoint {path} cannot be read ({exc}); delete it to start over") from None


def data_roots(stored, config_text) -> list[str]:
    """The data folders that weights (a checkpoint's, a portable file's ``stored`` values) were trained
    on, with those of the weights they were warm-started from: as their trainer recorded them, or,
    where the file is older than that record, its config's ``data.root`` (none if that cannot be read)."""
    recorded = stored.get("data_roots")
    if isinstance(recorded, list) and recorded and all(isinstance(root, str) for root in recorded):
        return list(recorded)
    try:
        return [str(parse_config(config_text, where="the weights' config").data.root)]
    except (FaceappError, TypeError, ValueError):
        return []


def save_portable(path: Path, *, state_dict: dict, metadata: dict[str, object]) -> None:
    """Write ``state_dict`` as float16 safetensors with JSON-encoded ``metadata``."""
    tensors = {k: (v.half() if v.is_floating_point() else v).contiguous().cpu() for k, v in state_dict.items()}
    meta = {k: json.dumps(v) for k, v in metadata.items()}

    def write(tmp: Path) -> None:
        save_file(tensors, str(tmp), metadata=meta)
        os.chmod(tmp, plain_file_mode())  # save_file makes its file owner-only, unlike the run's other files

    _atomic(Path(path), write)


def portable_metadata(path: Path) -> dict[str, object]:
    """The metadata of a file written by :func:`save_portable`, without reading its weights."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            return {k: json.loads(v) for k, v in (fh.metadata() or {}).items()}
    except (OSError, SafetensorError, ValueError) as exc:
        raise CorruptModelError(f"{path} is not a readable weight file ({exc})") from None


def checkpoint_step(path: Path) -> int:
    """The step of the checkpoint at ``path``, read without loading its tensors into memory."""
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True, mmap=True)["step"])
    except Exception as exc:  # torch raises several unrelated types for a damaged file
        raise CorruptModelError(f"training checkpoint {path} cannot be read ({exc}); delete it to start over") from None


def load_portable(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, object]]:
    """Read a file written by :func:`save_portable`: (state dict, metadata)."""
    meta = portable_metadata(path)
    try:
        return load_file(str(path)), meta
    except (OSError, SafetensorError, ValueError) as exc:
        raise CorruptModelError(f"{path} is not a readable weight file ({exc})") from None


def run_weights_path(run: str | Path) -> Path:
    """A run folder's portable EMA file, or ``run`` itself when it names a file."""
    run = Path(run)
    return run / PORTABLE_NAME if run.is_dir() else run


def load_run_weights(run: str | Path, kind: str) -> tuple[dict[str, torch.Tensor], dict[str, object]]:
    """The EMA weights and metadata of a ``kind`` ("restorer" or "prior") training run, from its
    folder or its ``ema.safetensors``; refuses a missing file or one holding the other kind."""
    path = run_weights_path(run)
    if not path.is_file():
        raise ConfigError(f"{path} is missing: train the {kind} first (python -m faceapp.training train …)")
    weights, meta = load_portable(path)
    if meta.get("kind") != kind:
        raise ConfigError(f"{path} holds a {meta.get('kind')} network, not a {kind}")
    return weights, meta


def load_run_network(run: str | Path, kind: str) -> tuple[torch.nn.Module, dict[str, object]]:
    """The float32 network (eval mode, CPU) of a ``kind`` training run, loaded strictly: a file
    whose weights do not fit the network its metadata names is an error, never random weights."""
    weights, meta = load_run_weights(run, kind)
    try:
        net = load_network(str(meta["arch"]), dict(meta["model_config"]), weights)
    except ArchitectureMismatchError as exc:
        raise ArchitectureMismatchError(f"{run_weights_path(run)}: {exc}") from None
    except KeyError as exc:
        raise CorruptModelError(f"{run_weights_path(run)} lacks the {exc} metadata of a training run") from None
    return net, meta
