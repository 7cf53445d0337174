"""Read checkpoint files safely and load them strictly into a network chosen by ``arch`` name.

Model files are untrusted. They are read with ``safetensors`` or with
``torch.load(weights_only=True)``, never with plain pickle. A file whose pickle asks for anything
beyond tensors and plain containers is refused with :class:`UnsafeCheckpointError`; a file that
cannot be parsed at all raises :class:`CorruptModelError`. The two are told apart by decoding
the pickle's opcodes (which runs nothing) after ``torch.load`` has refused a file.

Key normalisation follows the conventions of this ecosystem: the state dict may be wrapped in
``params_ema`` / ``params`` / ``state_dict`` / ``ema`` / ``model``, and a ``module.`` prefix
(multi-GPU training) is stripped.
"""

from __future__ import annotations

import io
import os
import pickletools
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from faceapp.core.errors import (
    ArchitectureMismatchError,
    CorruptModelError,
    ModelNotFoundError,
    UnsafeCheckpointError,
)
from faceapp.core.nets.conv_restorer import ConvRestorer
from faceapp.core.nets.identity import IdentityRestorer
from faceapp.core.nets.swinir import SwinIR
from faceapp.core.nets.unet import UNetModel
from faceapp.core.tempfiles import create_temp, plain_file_mode, replace_file

__all__ = [
    "ARCHITECTURES",
    "build_network",
    "check_state_dict",
    "count_parameters",
    "load_network",
    "read_state_dict",
    "save_safetensors",
]

StateDict = dict[str, torch.Tensor]

ARCHITECTURES: dict[str, Callable[[dict], nn.Module]] = {
    "iddpm_unet": lambda config: UNetModel(**config),
    "swinir": lambda config: SwinIR(**config),
    "identity": lambda config: IdentityRestorer(**config),
    "conv_restorer": lambda config: ConvRestorer(**config),
}

#: Entries derived from the configuration: recomputed on load, optional in a file.
DERIVED_KEY_SUFFIXES = (".relative_position_index", ".attn_mask")

#: Wrapper keys under which training code stores the weights, most preferred first.
WRAPPER_KEYS = ("params_ema", "params", "state_dict", "ema", "model")

_SHOWN = 5  # how many offending keys a mismatch message names
_SCAN_LIMIT = 64 << 20  # bytes of a legacy (non-zip) file searched for its leading pickles


# --- building -------------------------------------------------------------------------------
def build_network(arch: str, config: Mapping[str, Any], *, device=None) -> nn.Module:
    """Construct the network ``arch`` from its constructor ``config`` (random weights).

    ``device="meta"`` builds it without allocating memory, to check shapes.
    """
    factory = ARCHITECTURES.get(arch)
    if factory is None:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ArchitectureMismatchError(
            f'Unknown network architecture "{arch}". Known architectures: {known}.'
        )
    try:
        if device is None:
            return factory(dict(config))
        with torch.device(device):
            return factory(dict(config))
    except (TypeError, ValueError, RuntimeError) as exc:  # (RuntimeError: a negative or overflowing size)
        from faceapp.core.devices import is_out_of_memory

        if is_out_of_memory(exc):  # the memory ran out building a real network: not its configuration (review)
            raise
        raise ArchitectureMismatchError(
            f'The configuration for the "{arch}" network is not valid: {exc}.'
        ) from exc


def count_parameters(module: nn.Module) -> int:
    """Number of scalar parameters (buffers excluded)."""
    return sum(p.numel() for p in module.parameters())


# --- reading --------------------------------------------------------------------------------
def read_state_dict(path: str | os.PathLike) -> StateDict:
    """Read a checkpoint file into a flat ``{key: tensor}`` dict, safely, with keys normalised.

    Raises :class:`ModelNotFoundError` (no such file), :class:`UnsafeCheckpointError` (pickled
    objects) or :class:`CorruptModelError` (empty, truncated, unparsable, or no tensors).
    """
    path = Path(path)
    try:
        head = _read_head(path)
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"The model file {path} does not exist.") from exc
    except OSError as exc:
        reason = exc.strerror or exc
        raise CorruptModelError(f"Cannot read the model file {path}: {reason}.") from exc
    if not head:
        raise CorruptModelError(f"The model file {path} is empty. Download or import it again.")
    if path.suffix.lower() == ".safetensors" or _looks_like_safetensors(path, head):
        raw = _read_safetensors(path)
    else:
        raw = _read_torch(path)
    return normalize_state_dict(raw, source=path)


def normalize_state_dict(obj: Any, *, source: str | os.PathLike = "the checkpoint") -> StateDict:
    """Unwrap the usual containers and strip a ``module.`` prefix; tensors only."""
    for _ in range(3):
        if isinstance(obj, Mapping) and not _all_tensors(obj):
            inner = next((obj[k] for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, Mapping) or not _all_tensors(obj):
        raise CorruptModelError(
            f"{source} does not contain network weights (a mapping from names to tensors)"
            + _describe(obj)
        )
    state = {str(k): v for k, v in obj.items()}
    if state and all(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def _read_head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(9)


def _all_tensors(mapping: Mapping) -> bool:
    return all(isinstance(v, torch.Tensor) for v in mapping.values())


def _describe(obj: Any) -> str:
    if isinstance(obj, Mapping):
        keys = ", ".join(map(str, list(obj)[:_SHOWN]))
        return f"; it holds a {type(obj).__name__} with keys: {keys or 'none'}."
    return f"; it holds a {type(obj).__name__}."


def _looks_like_safetensors(path: Path, head: bytes) -> bool:
    """A safetensors file: 8-byte little-endian header length, then a JSON object."""
    return len(head) == 9 and head[8:9] == b"{" and not zipfile.is_zipfile(path)


#: The most tensors a weight file may hold: the official networks have about 1,000 (security QA: a
#: file of 1.5 million empty tensors took 30 s and 2.9 GB of memory before it was refused).
MAX_TENSORS = 100_000


def _read_safetensors(path: Path) -> StateDict:
    """The tensors of a safetensors file, its header read once by safetensors' own parser: a file
    declaring more than :data:`MAX_TENSORS` is refused before any tensor is made (counting the
    bytes ``"data_offsets"`` was not enough: a key may be written with JSON escapes, and review's
    ``"data\\u005foffsets"`` let 200,000 tensors through)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            if (count := len(handle.keys())) > MAX_TENSORS:
                raise CorruptModelError(f"The model file {path} declares {count:,} tensors, more than any network "
                                        f"faceapp runs ({MAX_TENSORS:,} at most): it is not a model's weights. Use "
                                        "the file the model's maker published.")
            return {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CorruptModelError(
            f"The model file {path} is damaged or not a safetensors file ({exc}). "
            "Download or import it again."
        ) from exc


def check_torch_archive(path: Path) -> None:
    """Refuse a zip checkpoint whose entries are compressed: torch writes its entries stored as they
    are, and reads compressed ones too, so a file of a few MB could unpack into GB of tensors before
    any name or shape is looked at (security QA: 2.9 MB, 3.6 GB of memory)."""
    try:
        if not zipfile.is_zipfile(path):
            return
        with zipfile.ZipFile(path) as archive:  # (its pickle and tensors; a TorchScript file's code alone is
            packed = [info.filename for info in archive.infolist()  # compressed: review, named, and a deflated
                      if info.compress_type != zipfile.ZIP_STORED and "/code/" not in info.filename]  # data.pkl passed)
    except (OSError, zipfile.BadZipFile, ValueError):
        return  # (torch's own read says what is wrong with it)
    if packed:
        raise CorruptModelError(
            f"The model file {path} is not as PyTorch writes one: its tensors or their index are compressed "
            f"({packed[0]}{' and more' if len(packed) > 1 else ''}), which could unpack into far more memory "
            "than the file's size. Use the file as its source published it, or convert it to .safetensors.")


def _read_torch(path: Path) -> Any:
    check_torch_archive(path)
    try:
        with warnings.catch_warnings():
            # torch's remark on a pickle protocol it does not default to is noise before our own
            # verdict (a refusal, or a file that loads): it is not shown.
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - classified below; torch raises many kinds
        if _has_foreign_globals(path):
            raise UnsafeCheckpointError(
                f"Refused {path}: this file contains pickled Python objects, which could run "
                "code on this computer when loaded. Only plain weight files are accepted; "
                "convert it to .safetensors with a trusted tool, or use a file from a source "
                "you trust that stores weights only."
            ) from exc
        raise CorruptModelError(
            f"The model file {path} is damaged, truncated or not a PyTorch checkpoint. "
            "Download or import it again."
        ) from exc


# --- telling "unsafe" from "corrupt" ----------------------------------------------------------
def _has_foreign_globals(path: Path) -> bool:
    """Whether the file's pickle(s) decode completely and import something beyond tensors.

    Decoding opcodes with :mod:`pickletools` executes nothing.
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.endswith("data.pkl")]
                if len(names) != 1:
                    return False
                pickles = [archive.read(names[0])]
        else:
            with path.open("rb") as f:
                pickles = _leading_pickles(f.read(_SCAN_LIMIT))
    except (OSError, zipfile.BadZipFile, EOFError, RuntimeError, ValueError):
        return False
    globals_ = [g for data in pickles for g in _pickle_globals(data) or ()]
    return any(not _is_plain_global(g) for g in globals_)


def _leading_pickles(data: bytes) -> list[bytes]:
    """The complete pickle streams at the start of a legacy (non-zip) torch file."""
    found: list[bytes] = []
    stream = io.BytesIO(data)
    while stream.tell() < len(data) and len(found) < 5:
        start = stream.tell()
        try:
            for op, _, _ in pickletools.genops(stream):
                pass  # genops stops right after STOP, or raises
        except Exception:  # noqa: BLE001 - any decoding failure ends the pickles
            break
        found.append(data[start : stream.tell()])
    return found


def _pickle_globals(data: bytes) -> list[str] | None:
    """Names imported by a pickle (``module.name``), or None if it does not decode fully."""
    names: list[str] = []
    strings: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("GLOBAL", "INST"):
                names.append(str(arg).replace(" ", "."))
            elif op.name == "STACK_GLOBAL":
                names.append(".".join(strings[-2:]) if len(strings) >= 2 else "?")
            elif isinstance(arg, str):
                strings.append(arg)
    except Exception:  # noqa: BLE001 - truncated or garbage
        return None
    return names


def _is_plain_global(name: str) -> bool:
    """Globals a pickled dict of tensors legitimately needs."""
    module, _, attr = name.rpartition(".")
    if name in ("collections.OrderedDict", "builtins.set", "builtins.frozenset"):
        return True
    if module in ("torch._utils", "torch._tensor") and attr.startswith("_rebuild"):
        return True
    if module == "torch" and attr.endswith("Storage"):
        return True
    if module == "torch" and isinstance(getattr(torch, attr, None), torch.dtype):
        return True
    return name in ("torch.serialization._get_layout", "torch.device", "torch.Size")


# --- checking and loading -------------------------------------------------------------------
def _is_derived(key: str) -> bool:
    return key.endswith(DERIVED_KEY_SUFFIXES)


#: The number types a network's weights may be stored in (each loads exactly into float32 or fp16).
WEIGHT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def check_state_dict(
    arch: str, config: Mapping[str, Any], state_dict: Mapping[str, torch.Tensor]
) -> None:
    """Raise :class:`ArchitectureMismatchError` unless ``state_dict`` fits ``arch(config)`` exactly.

    Derived buffers (window indices and masks) may be absent. Nothing is allocated: the network
    is built on the meta device.
    """
    expected = build_network(arch, config, device="meta").state_dict()
    missing = [k for k in expected if k not in state_dict and not _is_derived(k)]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f"{k} (file {list(state_dict[k].shape)}, network {list(v.shape)})"
        for k, v in expected.items()
        if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    # weights of integers, booleans, complex or 8-bit floats have the right shapes and are no weights
    # (security QA: an int64 file was imported and verified "OK", then every restore failed)
    mistyped = [
        f"{k} ({str(state_dict[k].dtype).removeprefix('torch.')})"
        for k, v in expected.items()
        if k in state_dict and v.is_floating_point() and state_dict[k].dtype not in WEIGHT_DTYPES
    ]
    if not (missing or unexpected or mismatched or mistyped):
        return
    parts = []
    for label, items in (
        ("missing", missing),
        ("unexpected", unexpected),
        ("with the wrong shape", mismatched),
        ("of a type that is not a 16-, 32- or 64-bit float", mistyped),
    ):
        if items:
            more = f", … ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
            parts.append(f"{len(items)} {label}: {', '.join(items[:_SHOWN])}{more}")
    raise ArchitectureMismatchError(
        f'These weights do not fit the "{arch}" network with this configuration '
        f"({len(state_dict)} entries in the file, {len(expected)} expected). "
        + "; ".join(parts)
        + ". Check that the model's arch and config match its weight file."
    )


def check_finite(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Raise :class:`CorruptModelError` when a floating-point tensor of ``state_dict`` (read from
    ``path``) holds NaN or infinity: damaged bytes that load, then make every result invalid."""
    bad = [k for k, v in state_dict.items() if v.dtype in WEIGHT_DTYPES and not bool(torch.isfinite(v).all())]
    if bad:
        raise CorruptModelError(f"{path} holds invalid numbers (NaN or infinity) in {len(bad)} of its tensors "
                                f"({bad[0]}{', …' if len(bad) > 1 else ''}): the file is damaged.")


def load_network(
    arch: str,
    config: Mapping[str, Any],
    source: str | os.PathLike | Mapping[str, torch.Tensor],
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> nn.Module:
    """Build ``arch`` from ``config`` and load ``source`` (a file path or a state dict) strictly.

    The result is in eval mode, on ``device``, with floating-point tensors in ``dtype``, and owns
    its tensors (a given state dict is copied). Derived buffers are recomputed, not read.
    """
    own_copy = isinstance(source, Mapping)
    if own_copy:
        state = normalize_state_dict(source, source="The given state dict")
    else:
        state = read_state_dict(source)
    check_state_dict(arch, config, state)
    model = build_network(arch, config, device="meta")
    state = {k: _cast(v, device, dtype, copy=own_copy) for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    model.to(device=device, dtype=dtype)
    leftovers = [n for n, t in _tensors(model) if t.is_meta]
    if leftovers:  # a module kept state outside its state dict: cannot happen for known archs
        raise ArchitectureMismatchError(f'"{arch}" left tensors unloaded: {", ".join(leftovers)}')
    return model.eval()


def _cast(t: torch.Tensor, device, dtype: torch.dtype, *, copy: bool) -> torch.Tensor:
    target = dtype if t.is_floating_point() else t.dtype
    return t.detach().to(device=device, dtype=target, copy=copy)


def _tensors(model: nn.Module) -> Iterable[tuple[str, torch.Tensor]]:
    yield from model.named_parameters()
    yield from model.named_buffers()


# --- writing --------------------------------------------------------------------------------
def save_safetensors(
    state_dict: Mapping[str, torch.Tensor],
    path: str | os.PathLike,
    *,
    dtype: torch.dtype | None = torch.float16,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write a state dict as .safetensors (floats cast to ``dtype``; None keeps them), atomically.

    Derived buffers are left out: loading recomputes them. A file already at ``path`` that holds
    the same tensors and metadata is left untouched, so saving the same weights again gives the
    same bytes (and checksum): safetensors writes the metadata keys in a new random order on every
    save (safetensors issue #584), which would otherwise make each re-export a new file.
    """
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {}
    for key, value in state_dict.items():
        if _is_derived(key):
            continue
        value = value.detach().to("cpu")
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        tensors[key] = value.contiguous().clone()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp(path.parent, path.name, ".part")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=dict(metadata) if metadata else None)
        if path.is_file() and _same_safetensors(Path(tmp), path):
            Path(tmp).unlink()
            return path
        os.chmod(tmp, plain_file_mode())  # save_file makes its own file, owner-only like mkstemp's
        replace_file(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _same_safetensors(a: Path, b: Path) -> bool:
    """Whether two .safetensors files hold the same metadata and bit-identical tensors (False
    for a file that is not readable safetensors)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(a), framework="pt") as fa, safe_open(str(b), framework="pt") as fb:
            if fa.metadata() != fb.metadata() or set(fa.keys()) != set(fb.keys()):
                return False
            for key in fa.keys():
                ta, tb = fa.get_tensor(key), fb.get_tensor(key)
                if ta.dtype != tb.dtype or ta.shape != tb.shape or not torch.equal(
                        ta.reshape(-1).view(torch.uint8), tb.reshape(-1).view(torch.uint8)):
                    return False
    except (SafetensorError, OSError, ValueError):
        return False
    return True
