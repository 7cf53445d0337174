"""Benchmark: seconds per aligned face with the official DifFace ffhq512 architecture.

Random weights (timing does not depend on their values). Prints a Markdown table:
- one network call of each (UNet at 512 px, SwinIR at 512 px), fp32 and CPU bf16 autocast;
- the official schedule (SwinIR + 100 UNet calls), extrapolated from the measured calls: a full
  run takes ~10 minutes on 2 cores;
- faceapp's default settings (fidelity 0.5, 8 steps), 1 seed, measured end to end;
- a 4-seed gallery batched in one pass vs four separate 1-seed runs;
- peak resident memory of each measured configuration (each runs in its own process).

Usage: python bench/engine.py [--device cpu|cuda] [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN_CONFIGS = REPO.parent / "shared" / "golden"


def _configs() -> tuple[dict, dict]:
    manifest = REPO / "models" / "difface-official.toml"
    import tomllib

    data = tomllib.loads(manifest.read_text())
    return data["prior"]["config"], data["restorer"]["config"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _build_engine(device: str, max_batch: int):
    import torch

    from faceapp.core.engine import FaceEngine
    from faceapp.core.loading import build_network

    prior_cfg, restorer_cfg = _configs()
    torch.manual_seed(0)
    prior = build_network("iddpm_unet", prior_cfg)
    restorer = build_network("swinir", restorer_cfg)
    return FaceEngine.from_networks(restorer, prior, face_size=512, name="bench", device=device, max_batch=max_batch)


def run_case(case: str, device: str, threads: int) -> dict:
    """Run one configuration in this process and return its figures."""
    import numpy as np
    import torch

    from faceapp.core.settings import SamplerSettings

    torch.set_num_threads(threads)
    engine = _build_engine(device, max_batch=4)
    face = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    sync = torch.cuda.synchronize if engine.device.type == "cuda" else (lambda: None)
    result: dict = {"case": case}
    if case == "calls":
        x = torch.randn(1, 3, 512, 512, device=engine.device)
        t = torch.tensor([400], device=engine.device)
        with torch.inference_mode():
            engine.predict_eps(x, t)  # warm-up
            for label, autocast in (("fp32", False), ("bf16", engine.device.type == "cpu")):
                if label == "bf16" and not autocast:
                    continue
                with torch.autocast(engine.device.type, dtype=torch.bfloat16, enabled=autocast):
                    sync()
                    start = time.perf_counter()
                    engine.predict_eps(x, t)
                    sync()
                    result[f"unet_{label}_s"] = time.perf_counter() - start
                    start = time.perf_counter()
                    engine.estimate((x[:1] + 1) / 2)
                    sync()
                    result[f"swinir_{label}_s"] = time.perf_counter() - start
    else:
        seeds = {"default_1seed": [0], "gallery_4seeds_batched": [0, 1, 2, 3]}[case]
        sync()
        start = time.perf_counter()
        engine.restore(face, sampler=SamplerSettings(), seeds=seeds)
        sync()
        result["seconds"] = time.perf_counter() - start
    result["peak_mb"] = _peak_mb()
    if engine.device.type == "cuda":
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def _in_subprocess(case: str, device: str, threads: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, "--device", device, "--threads", str(threads)],
        check=True, capture_output=True, text=True, cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="only the per-call timings")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    if args.case:
        print(json.dumps(run_case(args.case, args.device, args.threads)))
        return 0

    from faceapp.core.settings import SamplerSettings

    steps = SamplerSettings().steps
    calls = _in_subprocess("calls", args.device, args.threads)
    official = calls["swinir_fp32_s"] + 100 * calls["unet_fp32_s"]
    rows = [
        ("UNet-512 forward, fp32", f"{calls['unet_fp32_s']:.2f}", "", ""),
        ("SwinIR-512 forward, fp32", f"{calls['swinir_fp32_s']:.2f}", "", ""),
    ]
    if "unet_bf16_s" in calls:
        rows += [
            ("UNet-512 forward, CPU bf16 autocast", f"{calls['unet_bf16_s']:.2f}", "", "not used by default"),
            ("SwinIR-512 forward, CPU bf16 autocast", f"{calls['swinir_bf16_s']:.2f}", "", "not used by default"),
        ]
    rows.append(("official schedule (SwinIR + 100 UNet calls), 1 seed", f"{official:.1f}", "", "extrapolated from the calls above"))
    if not args.quick:
        single = _in_subprocess("default_1seed", args.device, args.threads)
        batched = _in_subprocess("gallery_4seeds_batched", args.device, args.threads)
        separate = 4 * single["seconds"]
        rows += [
            (f"default (fidelity 0.5 → t=400, {steps} steps), 1 seed", f"{single['seconds']:.1f}", f"{single['peak_mb']:.0f}",
             f"{official / single['seconds']:.1f}× faster than official"),
            ("4-seed gallery, one batched pass", f"{batched['seconds']:.1f}", f"{batched['peak_mb']:.0f}",
             f"{batched['seconds'] / 4:.1f} s per candidate"),
            ("4-seed gallery, four separate runs", f"{separate:.1f}", f"{single['peak_mb']:.0f}",
             f"batched/separate = {batched['seconds'] / separate:.2f}"),
        ]
    print(f"device: {args.device}, threads: {args.threads}, {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print()
    print("| configuration | seconds | peak RSS (MB) | note |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
