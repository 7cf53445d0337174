"""Classical reference points for a prior's validation curve (``val_mse_t<t>`` in validation.csv).

    .venv/bin/python bench/prior_baselines.py [CONFIG] [--data-root DIR]

On the same validation faces and noise draws as the training run of CONFIG (default prior_cpu),
prints the ε-MSE per validation timestep of:

- zero: predicting ε = 0 (1.0 by construction, up to the draw);
- x_t multiple: the best multiple of x_t (what copying the input gives; ≈ 0 at high noise);
- Gaussian high-pass: ε ∝ x_t − blur(x_t), blur width and gain chosen per timestep on these very
  faces (an oracle-tuned linear filter, so a floor any trained prior should get under).

A prior scoring above the Gaussian high-pass at a timestep has not learned to tell noise from
detail there, and the sampler will leave grain wherever it ends (faceapp's runs at t = 50 … 200).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from faceapp.training.config import load_config
from faceapp.training.tasks import PriorTask
from faceapp.training.trainer import validation_batch

BLUR_SIGMAS = (0.5, 0.7, 1.0, 1.3, 1.6, 2.0, 2.5, 3.0, 4.0)


def best_gain_mse(estimate: torch.Tensor, noise: torch.Tensor) -> float:
    """MSE of ``k · estimate`` against ``noise`` for the least-squares k."""
    k = float((estimate * noise).sum() / (estimate * estimate).sum().clamp_min(1e-12))
    return float(((k * estimate - noise) ** 2).mean())


def gaussian_high_pass(x_t: torch.Tensor, sigma: float) -> torch.Tensor:
    images = x_t.permute(0, 2, 3, 1).numpy()
    blurred = np.stack([cv2.GaussianBlur(image, (0, 0), sigma) for image in images])
    return x_t - torch.from_numpy(blurred).permute(0, 3, 1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default="prior_cpu")
    parser.add_argument("--data-root", type=Path, help="face folder (default: the config's)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(args.config)
    task = PriorTask(cfg, device=torch.device("cpu"))
    x0 = validation_batch(Path(args.data_root or cfg.data.root), task, cfg)["x0"].float()
    print(f"{args.config}: {x0.shape[0]} validation faces of {x0.shape[-1]} px\n")
    print("| t | zero | x_t multiple | Gaussian high-pass (σ px) |")
    print("|---|---|---|---|")
    for t, noise, x_t in task.validation_cases(x0):
        x_t = x_t.float()
        high_pass = min((best_gain_mse(gaussian_high_pass(x_t, s), noise), s) for s in BLUR_SIGMAS)
        print(f"| {int(t[0])} | {float((noise ** 2).mean()):.3f} | {best_gain_mse(x_t, noise):.3f} | "
              f"{high_pass[0]:.3f} ({high_pass[1]:g}) |")


if __name__ == "__main__":
    main()
