"""Compute-device choice: CUDA, Apple MPS or CPU; precision; CPU threads; out-of-memory messages."""

from __future__ import annotations

import functools
import logging
import os
import threading

import torch

from faceapp.core import cpu_bf16
from faceapp.core.errors import DeviceError, FaceappError, OutOfMemoryError
from faceapp.core.preferences import DEVICE_NAME
from faceapp.paths import user_cache_dir

log = logging.getLogger(__name__)


def available_devices() -> list[str]:
    """Device names that can be chosen on this machine, best first (always ends with "cpu")."""
    names = [f"cuda:{i}" if torch.cuda.device_count() > 1 else "cuda" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    names.append("cpu")
    return names


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → the best available device; otherwise the named one, checked to exist."""
    if isinstance(name, torch.device):
        name = str(name)
    name = (name or "auto").lower()
    if name == "auto":
        return torch.device(available_devices()[0])
    if name.startswith("cuda"):
        if not DEVICE_NAME.fullmatch(name):
            raise DeviceError(f"unknown device {name!r}: use auto, cuda, cuda:N (N a number), mps or cpu")
        if not torch.cuda.is_available():
            raise DeviceError("CUDA was requested but no CUDA GPU is available here; choose the CPU (or auto).")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"{name} does not exist: this machine has {torch.cuda.device_count()} CUDA GPU(s).")
        return device
    if name == "mps":
        if not _mps_available():
            raise DeviceError("Apple MPS was requested but is not available here; choose the CPU (or auto).")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise DeviceError(f"unknown device {name!r}: use auto, cuda, cuda:N, mps or cpu")


#: Set to 0 or 1 to override the detection of fast CPU bf16 (tests force the capability off with it).
CPU_BF16_ENV = "FACEAPP_CPU_BF16"


def cpu_runs_bf16_fast() -> bool:
    """Whether bf16 network work is faster than fp32 on this CPU.

    Measured, not read from the flags: CPUs with the same bf16 instructions (AVX-512-BF16, no AMX)
    measured bf16 faster on one machine and slower on another (:mod:`faceapp.core.cpu_bf16`, which
    caches the answer per CPU in the user cache folder). ``FACEAPP_CPU_BF16`` overrides it: 1, yes,
    true or on, or 0, no, false or off (sysadmin QA: "yes" was ignored without a word)."""
    forced = os.environ.get(CPU_BF16_ENV, "").strip().lower()
    if forced in _YES or forced in _NO:
        return forced in _YES
    if forced and forced not in _SAID_UNREAD:
        _SAID_UNREAD.add(forced)
        log.warning("%s=%s is not 1 or 0 (yes or no): whether bf16 is fast here is measured", CPU_BF16_ENV, forced)
    return _measured_bf16_fast()


_YES, _NO = ("1", "yes", "true", "on"), ("0", "no", "false", "off")
_SAID_UNREAD: set[str] = set()


_PROBE_LOCK = threading.Lock()


@functools.cache
def _measured_bf16_fast() -> bool:
    with _PROBE_LOCK:  # one probe at a time (the cache answers the second caller from the file)
        return cpu_bf16.bf16_is_faster(user_cache_dir())


THREADS_ENV = "FACEAPP_THREADS"
_MOST_THREADS = 1024


def threads_from_environment() -> int | None:
    """The CPU threads ``FACEAPP_THREADS`` asks for, None when it is not set; a ValueError says
    what is wrong with it (sysadmin QA: "two" or 0 failed every photo, each with a traceback)."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return None
    try:
        threads = int(text)
    except ValueError:
        raise ValueError(f"{THREADS_ENV}={text!r}: not a whole number of CPU threads (e.g. 4)") from None
    if not 1 <= threads <= _MOST_THREADS:
        raise ValueError(f"{THREADS_ENV}={text}: give from 1 to {_MOST_THREADS} CPU threads")
    return threads


def configure_cpu_threads(threads: int | None = None) -> int:
    """Use one intra-op thread per core (physical cores if known), at most 16; returns the count.

    ``FACEAPP_THREADS`` overrides the automatic choice (a ValueError when it is not a count).
    """
    if threads is None:
        threads = threads_from_environment() or min(16, max(1, len(os.sched_getaffinity(0)) if hasattr(
            os, "sched_getaffinity") else (os.cpu_count() or 1)))
    torch.set_num_threads(threads)
    return threads


def describe_device(device: torch.device) -> str:
    """A short human-readable name, e.g. ``"CUDA: NVIDIA H100 (79 GB)"`` or ``"CPU (2 threads)"``."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"CUDA: {props.name} ({props.total_memory / 2**30:.0f} GB)"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a device (or host) out-of-memory error from torch, numpy or OpenCV (a CPU
    allocation refused: "DefaultCPUAllocator: can't allocate memory")."""
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    if type(exc).__module__ == "cv2":  # OpenCV's "(-4:Insufficient memory) Failed to allocate … bytes" (memory QA)
        return "insufficient memory" in text
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "allocate memory" in text)


def as_out_of_memory(exc: BaseException, *, seeds_setting: str | None = "",
                     upscale_setting: str | None = "") -> BaseException:
    """``exc``, or, where it is the memory running out (:func:`is_out_of_memory`) outside the
    engine's own handling (a model loading, a photo enlarged), an :class:`OutOfMemoryError` that
    says what to do (slow-laptop QA: the allocator's own words, as an unexpected error).
    ``seeds_setting``, ``upscale_setting``: where the front-end sets them (``--seeds``, a Settings
    row), named in the advice (QA: "fewer seeds or a smaller upscale" did not say where); None: not
    advised (work that samples nothing, such as showing another seed; or enlarges nothing, such as
    drawing the photo as it was)."""
    if isinstance(exc, FaceappError) or not is_out_of_memory(exc):
        return exc

    def where(setting: str) -> str:
        return f" ({setting})" if setting else ""

    ways = [f"{way}{where(setting)}" for way, setting in (("fewer seeds per face", seeds_setting),
                                                          ("a smaller upscale", upscale_setting)) if setting is not None]
    error = OutOfMemoryError("Out of memory: the computer's memory ran out during this run. Close other programs"
                             + (f", or use {' or '.join(ways)}" if ways else "") + ", and try again.")
    error.__cause__ = exc
    return error


def out_of_memory_message(device: torch.device, *, face_size: int, batch: int) -> str:
    """The one message shown on out-of-memory, with the next step to take."""
    where = describe_device(device)
    if batch > 1:
        advice = "use fewer seeds per face"
    elif device.type == "cpu":
        advice = "close other programs to free memory"
    else:
        advice = "close other programs using the GPU"
    if device.type != "cpu":
        advice += ", or switch the device to CPU (Settings, or --device cpu; slower, but uses main memory)"
    return f"Out of memory on {where} while restoring a {face_size} px face ({batch} at once): {advice}."
