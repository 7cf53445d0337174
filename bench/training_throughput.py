"""Training throughput: samples per second of one full training step, per config, on this CPU.

    python bench/training_throughput.py                           # the CPU configs, fp32 NCHW
    python bench/training_throughput.py --precision bf16 --layout channels_last     # bf16 autocast

A step is what the trainer runs (``trainer.train_step``): forward, loss, backward, gradient
clipping, AdamW and the EMA update, on a batch of real training samples (faces of the data set
degraded as in training). Making the samples is timed separately ("data ms/sample"): a DataLoader
worker does it beside the step. Each row runs in a fresh process so that no run warms another.
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


def measure(config: str, *, batch: int | None, steps: int, threads: int, precision: str, layout: str,
            compile_model: bool, data: str | None) -> dict:
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
    dev = torch.device("cpu")
    model, ema, optimizer = trainer.build_training_state(cfg, dev)
    model = model.to(memory_format=torch.channels_last if layout == "channels_last" else torch.contiguous_format)
    autocast = trainer.autocast_factory(dev, precision == "bf16")
    step_model = torch.compile(model) if compile_model else model
    task = make_task(cfg, device=dev)
    faces = FaceDataset(data or cfg.data.root, split="train", limit=cfg.train.batch_size)
    tick = time.perf_counter()
    samples = [task.make_sample(faces.image(i), sample_rng(0, 0, i)) for i in range(len(faces))]
    data_ms = (time.perf_counter() - tick) / len(samples) * 1000
    batch_t = {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}
    times = []
    for step in range(steps + 1):  # the first step warms up (allocations, oneDNN kernel choice)
        tick = time.perf_counter()
        loss, _, _ = trainer.train_step(step_model, ema, optimizer, task, batch_t, lr=1e-4,
                                        generator=trainer.step_generator(0, step, dev), autocast=autocast,
                                        grad_clip=1.0)
        float(loss)
        times.append(time.perf_counter() - tick)
    step_s = float(np.median(times[1:]))
    return {
        "config": cfg.name, "arch": cfg.model.arch, "params": count_parameters(model),
        "batch": cfg.train.batch_size, "precision": "bf16" if autocast is not contextlib.nullcontext else "fp32",
        "layout": layout, "compile": compile_model, "threads": threads, "step_s": step_s,
        "samples_per_s": cfg.train.batch_size / step_s, "data_ms_per_sample": data_ms,
        "bf16_by_default": cpu_runs_bf16_fast(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="*", default=["restorer_cpu", "prior_cpu"])
    p.add_argument("--batch", type=int, help="override the configs' batch size")
    p.add_argument("--steps", type=int, default=4, help="timed steps per row (after one warm-up step)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["bf16", "fp32"], default="fp32", help="bf16 autocast or fp32")
    p.add_argument("--layout", choices=["channels_last", "nchw"], default="nchw")
    p.add_argument("--compile", action="store_true", help="torch.compile the network")
    p.add_argument("--data", help="data folder (default: the config's)")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # internal: measure in this process
    args = p.parse_args()
    if args.one:
        print(json.dumps(measure(args.configs[0], batch=args.batch, steps=args.steps, threads=args.threads,
                                 precision=args.precision, layout=args.layout, compile_model=args.compile,
                                 data=args.data)))
        return
    print("| config | params | batch | precision | layout | compile | step (s) | samples/s | data ms/sample |")
    print("|---|---|---|---|---|---|---|---|---|")
    for config in args.configs:
        cmd = [sys.executable, __file__, config, "--one", "--steps", str(args.steps), "--threads", str(args.threads),
               "--precision", args.precision, "--layout", args.layout]
        cmd += ["--batch", str(args.batch)] if args.batch else []
        cmd += ["--compile"] if args.compile else []
        cmd += ["--data", args.data] if args.data else []
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode:
            print(f"| {config} | failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode} |")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {r['config']} | {r['params']:,} | {r['batch']} | {r['precision']} | {r['layout']} | "
              f"{'yes' if r['compile'] else 'no'} | {r['step_s']:.2f} | {r['samples_per_s']:.2f} | "
              f"{r['data_ms_per_sample']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
