"""Inpainting with the face prior: RePaint's known-region constraint on DDIM (Lugmayr et al. 2022).

DifFace extends to inpainting with its diffused-estimate idea: the restorer's estimate of the face
with the hole pre-filled is diffused to N, and the prior samples back to 0 while, after every DDIM
step to t_prev, the pixels outside the hole are replaced by the known image noised to t_prev, so
they stay faithful and only the hole is generated. Optional resampling (RePaint's "jumps") re-noises
the state a few steps back and samples again, which harmonises the hole with its surroundings.

Masks here are tensors of shape 1x1xHxW (or Nx1xHxW), 1 inside the hole (to generate) and 0 where
the image is known. Stateless functions; noise comes from one ``torch.Generator`` per candidate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence

import numpy as np
import torch

from faceapp.core.errors import Cancelled
from faceapp.core.sampling import EpsModel, StepState, ddim_step, q_sample, randn_per_generator
from faceapp.core.schedule import SamplingPlan


def keep_known(x: torch.Tensor, known: torch.Tensor, hole: torch.Tensor, alpha_bar: float, noise: torch.Tensor) -> torch.Tensor:
    """RePaint's constraint (Lugmayr et al. 2022, eq. 8): x ← m·x + (1 − m)·q_sample(known, ᾱ, noise).

    ``hole`` is m (1 = generate); at ᾱ = 1 the known pixels come back exactly.
    """
    return hole * x + (1.0 - hole) * q_sample(known, alpha_bar, noise)


def renoise(x: torch.Tensor, alpha_bar_from: float, alpha_bar_to: float, noise: torch.Tensor) -> torch.Tensor:
    """RePaint's jump back: a sample of q(x_t | x_s) from the less noisy ᾱ_s to the noisier ᾱ_t."""
    ratio = alpha_bar_to / alpha_bar_from
    return math.sqrt(ratio) * x + math.sqrt(1.0 - ratio) * noise


def resampling_path(steps: int, *, jump_length: int = 1, resamples: int = 1) -> list[int]:
    """The states a RePaint run visits: 0 is x_N, ``steps`` the clean image.

    Each +1 is a DDIM step with the prior; with ``resamples`` r > 1, every ``jump_length``-th state
    short of the clean one is left r − 1 times by a jump ``jump_length`` states back (re-noising)
    and reached again by sampling (RePaint's schedule with j = ``jump_length``, r = ``resamples``).
    """
    if steps < 0 or jump_length < 1 or resamples < 1:
        raise ValueError("steps ≥ 0, jump_length ≥ 1 and resamples ≥ 1 are needed")
    path, state = [0], 0
    jumps_left = {i: resamples - 1 for i in range(jump_length, steps, jump_length)}
    while state < steps:
        state += 1
        path.append(state)
        if jumps_left.get(state, 0) > 0:
            jumps_left[state] -= 1
            state -= jump_length
            path.append(state)
    return path


def iter_sample_repaint(
    eps_model: EpsModel,
    x: torch.Tensor,
    plan: SamplingPlan,
    alphas_cumprod: np.ndarray,
    *,
    known: torch.Tensor,
    hole: torch.Tensor,
    eta: float = 0.0,
    generators: Sequence[torch.Generator],
    jump_length: int = 1,
    resamples: int = 1,
    should_cancel: Callable[[], bool] | None = None,
) -> Generator[StepState, None, torch.Tensor]:
    """DDIM from x_N along ``plan`` with the known pixels kept (RePaint); yields a
    :class:`~faceapp.core.sampling.StepState` after every prior call, returns x0 in [−1, 1].

    ``known`` is the image in [−1, 1] whose pixels outside ``hole`` are kept. All noise (DDIM,
    the known region's, the jumps') comes from ``generators`` (one per batch row), so a seed gives
    the same candidate in any batch. ``should_cancel`` is checked before every prior call.
    """
    if len(generators) != x.shape[0]:
        raise ValueError(f"{len(generators)} generators for a batch of {x.shape[0]}")
    timesteps = plan.timesteps
    levels = [float(alphas_cumprod[t]) for t in timesteps] + [1.0]  # ᾱ of state i (x_N is state 0)
    path = resampling_path(len(timesteps), jump_length=jump_length, resamples=resamples)
    calls = _prior_calls(path)

    def draw() -> torch.Tensor:
        return randn_per_generator(x.shape[1:], generators, device=x.device)

    done = 0
    for state, target in zip(path, path[1:], strict=False):
        if target < state:  # a jump back: re-noise, no prior call
            x = renoise(x, levels[state], levels[target], draw())
            continue
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        t = timesteps[state]
        t_batch = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        eps = eps_model(x, t_batch).float()
        last = target == len(timesteps)
        noise = draw() if eta > 0.0 and not last else None
        x, x0 = ddim_step(x, eps, levels[state], levels[target], eta=eta, noise=noise)
        x = keep_known(x, known, hole, levels[target], draw() if not last else torch.zeros_like(x))
        done += 1
        yield StepState(step=done, total=calls, timestep=t, x=x, denoised=hole * x0 + (1.0 - hole) * known)
    return x


def prior_calls(steps: int, *, jump_length: int = 1, resamples: int = 1) -> int:
    """How many prior calls a RePaint run of ``steps`` DDIM steps makes (for progress totals)."""
    return _prior_calls(resampling_path(steps, jump_length=jump_length, resamples=resamples))


def _prior_calls(path: list[int]) -> int:
    return sum(1 for a, b in zip(path, path[1:], strict=False) if b > a)
