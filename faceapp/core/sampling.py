"""DDIM sampling from a partly noised estimate (Song et al. 2021, as DifFace runs it).

Stateless functions in the k-diffusion style: the sampler only knows ``eps_model(x, t) → ε`` and a
:class:`~faceapp.core.schedule.SamplingPlan`; randomness comes from one ``torch.Generator`` per
candidate, so a seed gives the same candidate whatever batch it is computed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from faceapp.core.errors import Cancelled
from faceapp.core.progress import drive
from faceapp.core.schedule import SamplingPlan

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class StepState:
    """What a progress callback receives after each DDIM step."""

    step: int  # 1-based
    total: int
    timestep: int
    x: torch.Tensor  # the new state x_{t_prev}
    denoised: torch.Tensor  # the clamped predicted x0 of this step, in [-1, 1]


def randn_per_generator(shape: Sequence[int], generators: Sequence[torch.Generator], *, device, dtype=torch.float32) -> torch.Tensor:
    """One standard-normal sample of ``shape`` (no batch dim) per generator, stacked on dim 0.

    Drawn on the CPU so that a seed gives the same numbers on every device.
    """
    draws = [torch.randn(tuple(shape), generator=g, dtype=torch.float32) for g in generators]
    return torch.stack(draws).to(device=device, dtype=dtype)


#: What a prior's first three output channels predict: "eps", the noise ε (the official models), or
#: "v" = √ᾱ·ε − √(1−ᾱ)·x0 (Salimans & Ho 2022), which faceapp's CPU prior uses: at high noise
#: ε ≈ x_t, so the ε a v-network yields is right there by construction, where an ε-network on a
#: pixel-unshuffled input has to learn to copy 48 noise values per position first.
PREDICTIONS = ("eps", "v")


def eps_from_v(v: torch.Tensor, x_t: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """ε = √(1−ᾱ)·x_t + √ᾱ·v, from a v prediction at x_t (``alpha_bar`` broadcasts, e.g. [N, 1, 1, 1])."""
    return (1.0 - alpha_bar).sqrt() * x_t + alpha_bar.sqrt() * v


def v_target(x0: torch.Tensor, noise: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """v = √ᾱ·ε − √(1−ᾱ)·x0: what a v-prior learns to predict for x_t = √ᾱ·x0 + √(1−ᾱ)·ε."""
    return alpha_bar.sqrt() * noise - (1.0 - alpha_bar).sqrt() * x0


def q_sample(x0: torch.Tensor, alpha_bar: float, noise: torch.Tensor) -> torch.Tensor:
    """Forward diffusion q(x_t | x0) = N(√ᾱ·x0, (1−ᾱ)·I) (Ho et al. 2020, eq. 4)."""
    mean_coef = torch.tensor(math.sqrt(alpha_bar), dtype=torch.float64).to(torch.float32)
    std = torch.tensor(math.sqrt(1.0 - alpha_bar), dtype=torch.float64).to(torch.float32)
    return mean_coef.to(x0.device) * x0 + std.to(x0.device) * noise


def ddim_step(
    x: torch.Tensor,
    eps: torch.Tensor,
    alpha_bar: float,
    alpha_bar_prev: float,
    *,
    eta: float,
    noise: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One DDIM update (Song et al. 2021, eq. 12) with the clamped x0 and the raw ε.

    Returns ``(x_prev, x0)``. ``noise`` is used only when σ > 0 (and may be None otherwise).
    Schedule coefficients are rounded to float32 before use, as the official code does.
    """
    f32 = lambda v: torch.tensor(v, dtype=torch.float64).to(torch.float32).to(x.device)  # noqa: E731
    x0 = (f32(math.sqrt(1.0 / alpha_bar)) * x - f32(math.sqrt(1.0 / alpha_bar - 1.0)) * eps).clamp(-1.0, 1.0)
    ab, abp = f32(alpha_bar), f32(alpha_bar_prev)
    sigma = eta * torch.sqrt((1 - abp) / (1 - ab)) * torch.sqrt(1 - ab / abp)
    x_prev = x0 * torch.sqrt(abp) + torch.sqrt(1 - abp - sigma**2) * eps
    if float(sigma) > 0.0:
        if noise is None:
            raise ValueError("eta > 0 needs noise for this step")
        x_prev = x_prev + sigma * noise
    return x_prev, x0


def iter_sample_ddim(
    eps_model: EpsModel,
    x: torch.Tensor,
    plan: SamplingPlan,
    alphas_cumprod: np.ndarray,
    *,
    eta: float = 0.0,
    generators: Sequence[torch.Generator] | None = None,
    step_noise: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Generator[StepState, None, torch.Tensor]:
    """DDIM from x_N along ``plan.timesteps`` down to the clean image; yields a :class:`StepState`
    after every step and returns x0 in [−1, 1].

    Step noise comes from ``step_noise(k, x)`` when given (replaying recorded noise), otherwise from
    ``generators`` (one per batch row). ``should_cancel`` is checked before every step; cancelling
    raises :class:`~faceapp.core.errors.Cancelled`. Nothing is kept between calls.
    """
    timesteps = plan.timesteps
    if generators is not None and len(generators) != x.shape[0]:
        raise ValueError(f"{len(generators)} generators for a batch of {x.shape[0]}")
    for k, t in enumerate(timesteps):
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        alpha_bar = float(alphas_cumprod[t])
        alpha_bar_prev = float(alphas_cumprod[timesteps[k + 1]]) if k + 1 < len(timesteps) else 1.0
        t_batch = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        eps = eps_model(x, t_batch).float()
        noise = None
        if eta > 0.0 and k + 1 < len(timesteps):
            if step_noise is not None:
                noise = step_noise(k, x)
            elif generators is not None:
                noise = randn_per_generator(x.shape[1:], generators, device=x.device)
            else:
                raise ValueError("eta > 0 needs generators or step_noise")
        x, x0 = ddim_step(x, eps, alpha_bar, alpha_bar_prev, eta=eta, noise=noise)
        yield StepState(step=k + 1, total=len(timesteps), timestep=t, x=x, denoised=x0)
    return x


def sample_ddim(
    eps_model: EpsModel,
    x: torch.Tensor,
    plan: SamplingPlan,
    alphas_cumprod: np.ndarray,
    *,
    callback: Callable[[StepState], None] | None = None,
    **options,
) -> torch.Tensor:
    """:func:`iter_sample_ddim` (same keyword options) run to the end, handing each
    :class:`StepState` to ``callback``."""
    return drive(iter_sample_ddim(eps_model, x, plan, alphas_cumprod, **options), callback)
