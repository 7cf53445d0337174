"""Size and CPU-time budgets of a restorer + prior pair, measured from their configs.

Parameters, fp16 size and FLOPs per 256 px forward come from the configs (random weights); the
CPU time is one face at default settings: one restorer call plus ``steps`` prior calls, on
``threads`` CPU threads, the best of ``repeats`` runs (the machine may be shared).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from faceapp.core.loading import build_network, count_parameters
from faceapp.training.config import TrainingConfig

#: Issue 9: the bundled models folder holds at most 100 MB, the detector's 1.7 MB among it.
MAX_TOTAL_MB = 98.0
MAX_SECONDS_PER_FACE = 8.0
#: 2-core CPU rate measured for the official 512 px UNet: 378 GFLOPs in ≈ 6.8 s
#: (difface-algorithm.md §7); a machine-independent cross-check of the timed figure.
REFERENCE_GFLOPS_PER_S = 378 / 6.8


@dataclass(frozen=True)
class NetworkCost:
    name: str
    parameters: int
    fp16_mb: float
    gflops: float  # per 256 px forward
    seconds: float  # per forward on the CPU


@dataclass(frozen=True)
class Budget:
    restorer: NetworkCost
    prior: NetworkCost
    steps: int
    threads: int

    @property
    def total_mb(self) -> float:
        return self.restorer.fp16_mb + self.prior.fp16_mb

    @property
    def seconds_per_face(self) -> float:
        return self.restorer.seconds + self.steps * self.prior.seconds

    @property
    def ok(self) -> bool:
        return self.total_mb <= MAX_TOTAL_MB and self.seconds_per_face <= MAX_SECONDS_PER_FACE


def _cost(cfg: TrainingConfig, *, size: int, repeats: int) -> NetworkCost:
    net = build_network(cfg.model.arch, cfg.model.config).eval()
    x = torch.rand(1, 3, size, size)
    args = (x,) if cfg.kind == "restorer" else (x * 2 - 1, torch.tensor([400]))
    with torch.inference_mode():
        with FlopCounterMode(display=False) as counter:
            net(*args)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            net(*args)
            times.append(time.perf_counter() - started)
    params = count_parameters(net)
    return NetworkCost(cfg.name, params, params * 2 / 1e6, counter.get_total_flops() / 1e9, min(times))


def measure_budget(restorer: TrainingConfig, prior: TrainingConfig, *, steps: int = 8, threads: int = 2,
                   size: int = 256, repeats: int = 5) -> Budget:
    """Measure both networks of a model on ``threads`` CPU threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return Budget(_cost(restorer, size=size, repeats=repeats), _cost(prior, size=size, repeats=repeats),
                      steps, threads)
    finally:
        torch.set_num_threads(previous)


def format_budget(b: Budget) -> str:
    lines = [
        f"| network | parameters | fp16 MB | GFLOPs / 256 px call | CPU s / call ({b.threads} threads) |",
        "|---|---|---|---|---|",
    ]
    for n in (b.restorer, b.prior):
        lines.append(f"| {n.name} | {n.parameters:,} | {n.fp16_mb:.1f} | {n.gflops:.1f} | {n.seconds:.2f} |")
    total_gflops = b.restorer.gflops + b.steps * b.prior.gflops
    lines += [
        "",
        f"total size {b.total_mb:.1f} MB (budget {MAX_TOTAL_MB:g} MB); one face = restorer + {b.steps} prior "
        f"calls = {total_gflops:.0f} GFLOPs, {b.seconds_per_face:.2f} s "
        f"(budget {MAX_SECONDS_PER_FACE:g} s): {'within budget' if b.ok else 'OVER BUDGET'}",
        f"(at the reference 2-core rate of {REFERENCE_GFLOPS_PER_S:.0f} GFLOP/s: "
        f"{total_gflops / REFERENCE_GFLOPS_PER_S:.1f} s per face; timings on a shared machine run slower)",
    ]
    return "\n".join(lines)
