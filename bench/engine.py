"""Benchmark: seconds per aligned face, per precision, for the official DifFace ffhq512 architecture
and faceapp's CPU model (256 px).

Random weights (timing does not depend on their values). Prints a Markdown table:
- one network call of each official network (UNet and SwinIR at 512 px) in fp32 and bf16;
- the official schedule (SwinIR + 100 UNet calls), extrapolated from the fp32 calls;
- faceapp's default settings (fidelity 0.5, 8 steps), 1 seed, end to end, in fp32 and bf16;
- a 4-seed gallery batched in one pass (in the precision "auto" picks) against the 1-seed time;
- faceapp's CPU model (the networks of the bundled models/faceapp-compact.toml): 1 seed at default settings per precision
  (median of 3 runs), and its 4-seed gallery in the precision "auto" picks;
- peak resident memory of each end-to-end row (each row runs in its own process).

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


def _official_configs() -> tuple[dict, dict]:
    import tomllib

    data = tomllib.loads((REPO / "models" / "difface-official.toml").read_text())
    return data["prior"]["config"], data["restorer"]["config"]


def _build_engine(model: str, device: str, precision: str):
    import torch

    from faceapp.core.engine import FaceEngine
    from faceapp.core.loading import build_network
    from faceapp.core.manifest import load_manifest

    torch.manual_seed(0)
    if model == "official":
        prior_cfg, restorer_cfg = _official_configs()
        prior, restorer, size = build_network("iddpm_unet", prior_cfg), build_network("swinir", restorer_cfg), 512
    else:  # the shipped model's networks (its restorer grew deeper than restorer_cpu's in the sixth release)
        shipped = load_manifest(REPO / "models" / "faceapp-compact.toml")
        r, p = shipped.restorer, shipped.prior
        restorer, prior = build_network(r.arch, dict(r.config)), build_network(p.arch, dict(p.config))
        size = shipped.face_size
    tones = None if model == "official" else shipped.restorer_tones  # its samples keep the restorer's tones
    return FaceEngine.from_networks(restorer, prior, face_size=size, name="bench", device=device, max_batch=4,
                                    precision=precision, restorer_tones=tones)


def run_case(case: str, model: str, precision: str, device: str, threads: int) -> dict:
    """Run one configuration in this process and return its figures."""
    import numpy as np
    import torch

    from faceapp.core.settings import SamplerSettings

    torch.set_num_threads(threads)
    engine = _build_engine(model, device, precision)
    sync = torch.cuda.synchronize if engine.device.type == "cuda" else (lambda: None)
    size = engine.face_size
    result: dict = {"case": case, "model": model, "precision": engine.precision}
    if case == "calls":
        x = torch.randn(1, 3, size, size, device=engine.device)
        t = torch.tensor([400], device=engine.device)
        with torch.inference_mode():
            engine.predict_eps(x, t)  # warm-up (oneDNN picks its kernels on the first call)
            engine.estimate((x + 1) / 2)
            sync()
            result["prior_s"] = _median_seconds(lambda: engine.predict_eps(x, t), sync)
            result["restorer_s"] = _median_seconds(lambda: engine.estimate((x + 1) / 2), sync)
    else:
        seeds = {"one_seed": [0], "gallery": [0, 1, 2, 3]}[case]
        face = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
        engine.restore(face, sampler=SamplerSettings(steps=1), seeds=[9])  # warm-up
        sync()
        repeats = 1 if model == "official" else 3  # the official rows take minutes; the CPU model's a second
        result["seconds"] = _median_seconds(lambda: engine.restore(face, sampler=SamplerSettings(), seeds=seeds),
                                            sync, repeats)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return result


def _median_seconds(call, sync, repeats: int = 3) -> float:
    """Median wall time of ``repeats`` calls (one call alone wobbles by ±20 % on a shared machine)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        sync()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def _in_subprocess(case: str, model: str, precision: str, device: str, threads: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, "--model", model, "--precision", precision, "--device", device,
         "--threads", str(threads)],
        check=True, capture_output=True, text=True, cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="only the per-call timings")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="official", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    if args.case:
        print(json.dumps(run_case(args.case, args.model, args.precision, args.device, args.threads)))
        return 0

    import torch

    from faceapp.core import cpu_bf16
    from faceapp.core.devices import resolve_device
    from faceapp.core.precision import resolve_precision
    from faceapp.core.settings import SamplerSettings

    device = resolve_device(args.device)
    fast = resolve_precision("auto", device).name  # what "auto" runs here
    precisions = ["fp32", "fp16" if device.type == "cuda" else "bf16"]
    steps = SamplerSettings().steps

    def run(case, model, precision):
        return _in_subprocess(case, model, precision, args.device, args.threads)

    rows = []
    calls = {p: run("calls", "official", p) for p in precisions}
    for p in precisions:
        rows.append((f"UNet-512 forward, {p}", f"{calls[p]['prior_s']:.2f}", "", ""))
        rows.append((f"SwinIR-512 forward, {p}", f"{calls[p]['restorer_s']:.2f}", "", ""))
    official = calls["fp32"]["restorer_s"] + 100 * calls["fp32"]["prior_s"]
    rows.append(("official schedule (SwinIR + 100 UNet calls), 1 seed, fp32", f"{official:.1f}", "",
                 "extrapolated from the calls above"))
    if not args.quick:
        single = {p: run("one_seed", "official", p) for p in precisions}
        for p in precisions:
            note = f"{official / single[p]['seconds']:.1f}× faster than official"
            if p != "fp32":
                note += f", {single['fp32']['seconds'] / single[p]['seconds']:.1f}× faster than fp32"
            rows.append((f"official arch, default (fidelity 0.5 → t=400, {steps} steps), 1 seed, {p}",
                         f"{single[p]['seconds']:.1f}", f"{single[p]['peak_mb']:.0f}", note))
        gallery = run("gallery", "official", fast)
        rows.append((f"official arch, 4-seed gallery in one batched pass, {fast}", f"{gallery['seconds']:.1f}",
                     f"{gallery['peak_mb']:.0f}", f"{gallery['seconds'] / single[fast]['seconds']:.2f}× the 1-seed time"))
        for p in precisions:
            cpu = run("one_seed", "cpu", p)
            cpu_calls = run("calls", "cpu", p)
            rows.append((f"faceapp CPU model (256 px), default ({steps} steps), 1 seed, {p}", f"{cpu['seconds']:.2f}",
                         f"{cpu['peak_mb']:.0f}",
                         f"prior call {cpu_calls['prior_s'] * 1000:.0f} ms, restorer {cpu_calls['restorer_s'] * 1000:.0f} ms"))
            if p == fast:
                cpu_gallery = run("gallery", "cpu", p)
                rows.append((f"faceapp CPU model, 4-seed gallery in one batched pass, {p}",
                             f"{cpu_gallery['seconds']:.2f}", f"{cpu_gallery['peak_mb']:.0f}",
                             f"{cpu_gallery['seconds'] / cpu['seconds']:.2f}× the 1-seed time"))
    caps = cpu_bf16.cpu_capabilities()
    flags = (f"auto precision: {fast}, AVX-512-BF16: {bool(caps.get('avx512_bf16'))}, "
             f"AMX-BF16: {bool(caps.get('amx_bf16'))}")
    print(f"device: {args.device}, threads: {args.threads}, {platform.processor() or platform.machine()} ({flags}), "
          f"python {platform.python_version()}, torch {torch.__version__}")
    print()
    print("| configuration | seconds | peak RSS (MB) | note |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
