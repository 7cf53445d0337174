"""Whether this CPU runs faceapp's networks faster in bf16 than in fp32: measured once, cached.

The instruction flags do not answer it. Three machines of this project's sessions, all with
AVX-512-BF16 and none with AMX, measured bf16 against fp32 for the same networks: faster on one
(UNet-512 forward 2.23 s against 3.60 s), slower on another, and 1.8× (inference) to 2.25×
(training) faster on a third (bench/README.md). So where the CPU has bf16 instructions at all,
faceapp times a small stack of 3×3 convolutions shaped like its networks' (64, 128 and 256
channels at 64², 32² and 16²) in both precisions, on one thread and in turns (a busy machine then
slows both alike), once, and keeps the answer in the user cache folder, keyed by the CPU's name and
features and the torch version; an answer the two halves of its rounds disagree on is used but not
kept. A CPU without bf16 instructions (bf16 would be emulated) is answered without measuring.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import torch

from faceapp.core.tempfiles import create_temp, replace_file

log = logging.getLogger(__name__)

#: bf16 is used when it takes at most this fraction of fp32's time (a clear gain, not noise)
FAST_RATIO = 0.8
_CACHE_NAME = "cpu-bf16.json"
#: (channels, size) of the probe's convolutions: the levels of faceapp's compact networks
_PROBE_LEVELS = ((64, 64), (128, 32), (256, 16))
_PROBE_BATCH = 4
#: rounds of the probe in each half of a measurement (about 20 ms a round on one Zen 5 core)
_ROUNDS_PER_HALF = 8


def cpu_capabilities() -> dict:
    """torch's view of the CPU (name, features); empty where the torch build cannot tell."""
    query = getattr(torch.cpu, "get_capabilities", None)
    return dict(query()) if query is not None else {}


#: The capabilities (torch's names) of a CPU that computes bf16 in hardware: AVX-512-BF16 or AMX-BF16 on
#: x86, the BF16 extension (NEON or SVE) on ARM64: Apple M2 and later, Graviton 3 (portability QA: those
#: got fp32 unmeasured).
_BF16_FEATURES = ("avx512_bf16", "amx_bf16", "bf16", "sve_bf16")
_FINGERPRINT_KEYS = ("cpu_name", "architecture", "num_physical_cores", "l2_cache_size", *_BF16_FEATURES)


def has_bf16_instructions(capabilities: dict) -> bool:
    """Whether the CPU computes bf16 in hardware (:data:`_BF16_FEATURES`) rather than emulating it."""
    return any(capabilities.get(name) for name in _BF16_FEATURES)


def fingerprint(capabilities: dict) -> dict:
    """What a cached answer is valid for: this CPU model and this torch."""
    return {"torch": torch.__version__, **{k: capabilities.get(k) for k in _FINGERPRINT_KEYS}}


def _probe_layers(dtype: torch.dtype) -> list[tuple[torch.nn.Conv2d, torch.Tensor]]:
    """The probe's convolutions and inputs in ``dtype``, channels_last (the layout faceapp's CPU
    networks run in). Made without drawing from torch's global generator: a training run seeds it
    before it asks whether bf16 is fast, and a first run (no verdict cached yet) initialised its
    network differently from the next (ML QA: the same config and seed, another loss at step 10)."""
    gen = torch.Generator().manual_seed(0)
    layers = []
    with torch.random.fork_rng(devices=[]):
        for channels, size in _PROBE_LEVELS:
            conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(dtype=dtype, memory_format=torch.channels_last)
            x = torch.randn(_PROBE_BATCH, channels, size, size, generator=gen).to(dtype=dtype,
                                                                                  memory_format=torch.channels_last)
            layers.append((conv, x))
    return layers


def probe_rounds(rounds: int = 2 * _ROUNDS_PER_HALF) -> dict[str, list[float]]:
    """Seconds of each of ``rounds`` forwards of the probe in fp32 and in bf16, taken in turns (after
    one warm-up each, which picks oneDNN's kernels), on one thread.

    One thread, because a busy machine (the first start during an update, a browser) stalls a
    two-thread forward at every barrier whatever its precision: on 2 cores beside two busy
    processes, two threads timed fp32 and bf16 alike (48 against 45 ms; 7.1 against 3.6 idle), so
    bf16 lost, while one thread kept the idle ratio (about 0.5). In turns, so a busy spell slows
    both. The thread count is restored afterwards, for the calling thread: a thread whose first
    torch work falls within the probe keeps one thread (OpenMP copies the count then), so the probe
    runs before any worker does torch work (the window's status bar asks at its start; the CLI
    before its batch)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        layers = {"fp32": _probe_layers(torch.float32), "bf16": _probe_layers(torch.bfloat16)}
        times: dict[str, list[float]] = {name: [] for name in layers}
        with torch.inference_mode():
            for i in range(rounds + 1):
                for name, stack in layers.items():
                    tick = time.perf_counter()
                    for conv, x in stack:
                        conv(x)
                    if i:
                        times[name].append(time.perf_counter() - tick)
        return times
    finally:
        torch.set_num_threads(threads)


def verdict(fp32: list[float], bf16: list[float]) -> bool:
    """Whether bf16 is clearly faster: its best time at most FAST_RATIO of fp32's best."""
    return min(bf16) <= FAST_RATIO * min(fp32)


def measure() -> dict:
    """Time the probe in fp32 and bf16 (:func:`probe_rounds`); returns both best times (ms), the
    verdict, and whether it is settled: the first and second half of the rounds gave the same
    verdict. One that is not (the machine was busy) is used, not cached."""
    times = probe_rounds()
    half = len(times["fp32"]) // 2
    halves = [verdict(times["fp32"][part], times["bf16"][part]) for part in (slice(0, half), slice(half, None))]
    fast = verdict(times["fp32"], times["bf16"])
    return {"fp32_ms": round(min(times["fp32"]) * 1000, 2), "bf16_ms": round(min(times["bf16"]) * 1000, 2),
            "bf16_fast": fast, "settled": halves[0] == halves[1] == fast}


def bf16_is_faster(cache_dir: Path | None) -> bool:
    """The cached verdict for this CPU, measuring (and caching) it first where there is none.

    A missing, unreadable or stale cache file is measured again; a cache folder that cannot be
    written only costs a measurement per process (logged); so does a measurement that is not
    settled (a busy machine: the next start measures again)."""
    capabilities = cpu_capabilities()
    if not has_bf16_instructions(capabilities):
        return False
    key = fingerprint(capabilities)
    path = cache_dir / _CACHE_NAME if cache_dir is not None else None
    cached = _read(path)
    if (cached is not None and cached.get("fingerprint") == key and isinstance(cached.get("bf16_fast"), bool)
            and cached.get("settled") is True):  # (an answer of the two-thread probe, which busy machines fooled, is not)
        return cached["bf16_fast"]
    result = measure()
    log.info("CPU bf16 probe: fp32 %.1f ms, bf16 %.1f ms → %s%s", result["fp32_ms"], result["bf16_ms"],
             "bf16" if result["bf16_fast"] else "fp32",
             "" if result["settled"] else " (unsettled: the CPU was busy; measured again next start)")
    if path is not None and result["settled"]:
        _write(path, {"fingerprint": key, **result})
    return result["bf16_fast"]


def _read(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write(path: Path, data: dict) -> None:
    """Write ``data`` whole or not at all (a temporary file renamed into place)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = create_temp(path.parent, path.name, ".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1)
            replace_file(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("could not cache the CPU bf16 probe in %s (%s): it is timed again on each run; "
                    "FACEAPP_CPU_BF16=1 or 0 gives the answer instead", path, exc.strerror or exc)
