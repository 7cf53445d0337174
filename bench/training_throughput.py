"""Training throughput: samples per second of one full training step, per config, on this CPU.

    python bench/training_throughput.py                           # the CPU configs, fp32 NCHW
    python bench/training_throughput.py --precision bf16 --layout channels_last     # bf16 autocast
    python bench/training_throughput.py prior_cpu --precision bf16 --layout channels_last --interleave

A step is what the trainer runs (``trainer.train_step``): forward, loss, backward, gradient
clipping, AdamW and the EMA update, on a batch of real training samples (faces of the data set
degraded as in training). Making the samples is timed separately ("data ms/sample"): a DataLoader
worker does it beside the step. Each config runs in a fresh process so that no run warms another;
``--interleave`` compares what torch.compile gives (nothing, the loss, network + loss) within that
process, one step of each in turn, so that a shared machine's drifting speed slows all of them alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


#: what ``--interleave`` compares, as (compile the network, compile the loss)
INTERLEAVED = ((False, False), (False, True), (True, True))
COMPILED = {(False, False): "no", (True, False): "network", (False, True): "loss", (True, True): "network + loss"}


def measure(config: str, *, batch: int | None, steps: int, threads: int, precision: str, layout: str,
            variants: tuple[tuple[bool, bool | None], ...], data: str | None) -> list[dict]:
    """One row per variant (compile the network, compile the loss: None = as the config says).
    Several variants share one network and batch and take their steps in turn, so that a machine
    whose speed drifts (a shared host) slows them all alike."""
    import os

    import numpy as np
    import torch

    if precision == "bf16":  # measure bf16 where asked, whatever the automatic choice would be
        os.environ["FACEAPP_CPU_BF16"] = "1"
    from faceapp.core.devices import cpu_runs_bf16_fast
    from faceapp.core.host_memory import keep_freed_memory
    from faceapp.core.loading import count_parameters
    from faceapp.training import trainer
    from faceapp.training.config import load_config
    from faceapp.training.data import FaceDataset
    from faceapp.training.degradation import sample_rng
    from faceapp.training.tasks import make_task

    keep_freed_memory()  # as `python -m faceapp.training train` does
    torch.set_num_threads(threads)
    cfg = load_config(config)
    if batch:
        cfg = replace(cfg, train=replace(cfg.train, batch_size=batch))
    if cfg.kind != "prior":  # only the prior has a loss to compile
        variants = tuple(dict.fromkeys((net, False) for net, _ in variants))
    dev = torch.device("cpu")
    model, ema, optimizer = trainer.build_training_state(cfg, dev)
    model = model.to(memory_format=torch.channels_last if layout == "channels_last" else torch.contiguous_format)
    autocast = trainer.autocast_factory(dev, precision == "bf16")
    compiled_model = torch.compile(model) if any(net for net, _ in variants) else None
    runs = []  # (compile the network, the loss compiled, step model, task)
    for net, loss in variants:
        variant_cfg = cfg if loss is None else replace(cfg, train=replace(cfg.train, compile_loss=loss))
        runs.append((net, variant_cfg.train.compile_loss, compiled_model if net else model,
                     make_task(variant_cfg, device=dev)))
    faces = FaceDataset(data or cfg.data.root, split="train", limit=cfg.train.batch_size)
    tick = time.perf_counter()
    samples = [runs[0][3].make_sample(faces.image(i), sample_rng(0, 0, i)) for i in range(len(faces))]
    data_ms = (time.perf_counter() - tick) / len(samples) * 1000
    batch_t = {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}
    times: list[list[float]] = [[] for _ in runs]
    for step in range(steps + 1):  # the first step warms up (compilation, allocations, oneDNN kernel choice)
        for run_times, (_, _, step_model, task) in zip(times, runs):
            tick = time.perf_counter()
            loss, _, _ = trainer.train_step(step_model, ema, optimizer, task, batch_t, lr=1e-6,
                                            generator=trainer.step_generator(0, step, dev), autocast=autocast,
                                            grad_clip=1.0)
            float(loss.detach())
            run_times.append(time.perf_counter() - tick)
    rows = []
    for run_times, (net, loss, _, _) in zip(times, runs):
        step_s = float(np.median(run_times[1:]))
        rows.append({
            "config": cfg.name, "arch": cfg.model.arch, "params": count_parameters(model),
            "batch": cfg.train.batch_size, "precision": "bf16" if autocast is not contextlib.nullcontext else "fp32",
            "layout": layout, "compile": net, "compile_loss": loss, "threads": threads, "step_s": step_s,
            "samples_per_s": cfg.train.batch_size / step_s, "data_ms_per_sample": data_ms,
            "bf16_by_default": cpu_runs_bf16_fast(),
        })
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("configs", nargs="*", default=["restorer_cpu", "prior_cpu"])
    p.add_argument("--batch", type=int, help="override the configs' batch size")
    p.add_argument("--steps", type=int, default=4, help="timed steps per row (after one warm-up step)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["bf16", "fp32"], default="fp32", help="bf16 autocast or fp32")
    p.add_argument("--layout", choices=["channels_last", "nchw"], default="nchw")
    p.add_argument("--compile", action="store_true", help="torch.compile the network")
    p.add_argument("--compile-loss", choices=["config", "on", "off"], default="config",
                   help="torch.compile the prior's loss: as its config says ([train] compile_loss), or on / off")
    p.add_argument("--interleave", action="store_true",
                   help="compare nothing compiled, the loss compiled, and network + loss compiled in one "
                        "process, their steps taken in turn (for a machine whose speed drifts)")
    p.add_argument("--data", help="data folder (default: the config's)")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # internal: measure in this process
    args = p.parse_args()
    if args.one:
        variants = INTERLEAVED if args.interleave else (
            (args.compile, {"config": None, "on": True, "off": False}[args.compile_loss]),)
        print(json.dumps(measure(args.configs[0], batch=args.batch, steps=args.steps, threads=args.threads,
                                 precision=args.precision, layout=args.layout, variants=variants, data=args.data)))
        return
    print("| config | params | batch | precision | layout | compile | step (s) | samples/s | data ms/sample |")
    print("|---|---|---|---|---|---|---|---|---|")
    for config in args.configs:
        cmd = [sys.executable, __file__, config, "--one", "--steps", str(args.steps), "--threads", str(args.threads),
               "--precision", args.precision, "--layout", args.layout, "--compile-loss", args.compile_loss]
        cmd += ["--batch", str(args.batch)] if args.batch else []
        cmd += ["--compile"] if args.compile else []
        cmd += ["--interleave"] if args.interleave else []
        cmd += ["--data", args.data] if args.data else []
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode:
            print(f"| {config} | failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode} |")
            continue
        for r in json.loads(out.stdout.strip().splitlines()[-1]):
            print(f"| {r['config']} | {r['params']:,} | {r['batch']} | {r['precision']} | {r['layout']} | "
                  f"{COMPILED[r['compile'], r['compile_loss']]} | {r['step_s']:.2f} | {r['samples_per_s']:.2f} | "
                  f"{r['data_ms_per_sample']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
