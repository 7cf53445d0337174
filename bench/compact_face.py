"""Benchmark: one 256 px face through FaceEngine with faceapp's compact configs (random weights).

Default sampler settings, 1 seed, 2 CPU threads; prints the time of three consecutive runs.
Usage: python bench/compact_face.py [--threads N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from faceapp.core.engine import FaceEngine
from faceapp.core.loading import build_network
from faceapp.core.settings import SamplerSettings
from faceapp.training.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    restorer, prior = load_config("restorer_compact"), load_config("prior_compact")
    engine = FaceEngine.from_networks(
        build_network(restorer.model.arch, restorer.model.config),
        build_network(prior.model.arch, prior.model.config),
        face_size=256,
        name="compact (random weights)",
    )
    face = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        engine.restore(face, sampler=SamplerSettings(), seeds=[0])
        times.append(time.perf_counter() - started)
    steps = SamplerSettings().steps
    print(f"compact model, 256 px face, default settings ({steps} steps), 1 seed, {args.threads} threads: "
          + ", ".join(f"{t:.2f} s" for t in times))


if __name__ == "__main__":
    main()
