"""Diffusion schedules and the fidelity → start-timestep map (pure functions, no state).

Terms: ``T`` original timesteps 0..T-1 with a linear β schedule (Ho et al. 2020); ᾱ_t = ∏_{s≤t}(1-β_s).
A :class:`SamplingPlan` says at which timestep the restorer's estimate is noised (x_N) and which
timesteps the DDIM loop then visits, each step moving to the ᾱ of the next visited timestep (1 after
the last one, i.e. the clean image).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceapp.core.settings import SamplerSettings

#: Start timestep at fidelity 0 (most realistic). Beyond ~800 the prior ignores the input and the
#: person is lost; DifFace's paper setting t = 400 sits at fidelity 0.5.
MAX_START_TIMESTEP = 800

#: Respacing the official DifFace inference uses (ddim250: every 4th timestep).
OFFICIAL_RESPACING = "ddim250"


def linear_betas(timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """Linear β schedule of DDPM (Ho et al. 2020), float64, length ``timesteps``."""
    return np.linspace(beta_start, beta_end, timesteps, dtype=np.float64)


def alphas_cumprod(betas: np.ndarray) -> np.ndarray:
    """ᾱ_t = ∏_{s≤t} (1 − β_s), float64."""
    return np.cumprod(1.0 - np.asarray(betas, dtype=np.float64))


def respace_timesteps(spec: str, timesteps: int = 1000) -> list[int]:
    """Timesteps kept by improved-diffusion's respacing ``spec``: ``"ddimK"`` or plain ``"K"``.

    ``ddimK`` keeps ``range(0, T, s)`` for the integer stride ``s`` giving exactly K steps; plain
    ``K`` keeps ``round(k·(T−1)/(K−1))`` for k = 0..K−1 (the single-section form).
    """
    if spec.startswith("ddim"):
        count = int(spec[4:])
        for stride in range(1, timesteps):
            kept = list(range(0, timesteps, stride))
            if len(kept) == count:
                return kept
        raise ValueError(f"cannot respace {timesteps} timesteps into exactly {count} DDIM steps")
    count = int(spec)
    if not 1 <= count <= timesteps:
        raise ValueError(f"cannot respace {timesteps} timesteps into {count} steps")
    if count == 1:
        return [0]
    stride = (timesteps - 1) / (count - 1)
    return sorted({int(round(k * stride)) for k in range(count)})


def fidelity_to_timestep(fidelity: float, *, max_timestep: int = MAX_START_TIMESTEP) -> int:
    """Start timestep for a fidelity in [0, 1]: ``round(max_timestep · (1 − fidelity))``.

    Linear and strictly decreasing: fidelity 1 → t = 0 (no diffusion, the restorer's estimate is the
    result), 0.5 → t = 400 (the DifFace paper's setting), 0 → t = ``max_timestep``.
    """
    if not 0.0 <= fidelity <= 1.0:
        raise ValueError(f"fidelity must be within [0, 1], got {fidelity}")
    return int(round(max_timestep * (1.0 - fidelity)))


@dataclass(frozen=True)
class SamplingPlan:
    """Where x_N is formed and which timesteps the DDIM loop visits (descending).

    ``noise_timestep`` is the original timestep whose ᾱ forms x_N = √ᾱ·x̂0 + √(1−ᾱ)·ε. Step k
    calls the prior at ``timesteps[k]`` and moves to ᾱ[timesteps[k+1]] (1 after the last step).
    An empty plan means no diffusion: the restorer's estimate is returned as it is.
    """

    noise_timestep: int
    timesteps: tuple[int, ...]

    @property
    def steps(self) -> int:
        return len(self.timesteps)


def fast_plan(start_timestep: int, steps: int) -> SamplingPlan:
    """``steps`` evenly spaced DDIM steps covering (0, start]: t_k = round(start·(S−k)/S).

    x_N is noised at ``start_timestep`` and the first step treats it at that same timestep; the last
    step jumps to the clean image. Fewer steps are taken when the span has fewer timesteps.
    """
    if start_timestep <= 0:
        return SamplingPlan(0, ())
    steps = max(1, min(steps, start_timestep))
    visited = sorted({int(round(start_timestep * (steps - k) / steps)) for k in range(steps)}, reverse=True)
    return SamplingPlan(start_timestep, tuple(visited))


def official_plan(start_index: int, *, respacing: str = OFFICIAL_RESPACING, timesteps: int = 1000) -> SamplingPlan:
    """The official DifFace loop: x_N noised at respaced index N, then indices N−1 … 0 visited.

    This keeps the official off-by-one (x_N is noised at level N but first treated as N−1): with
    ddim250 and N = 100, x_N is at t = 400 and the prior is called at t = 396, 392, …, 0.
    """
    kept = respace_timesteps(respacing, timesteps)
    if not 0 <= start_index < len(kept):
        raise ValueError(f"start index {start_index} outside the {len(kept)} respaced steps")
    if start_index == 0:
        return SamplingPlan(0, ())
    return SamplingPlan(kept[start_index], tuple(kept[i] for i in range(start_index - 1, -1, -1)))


#: Timesteps covered by one DDIM step of the texture polish.
POLISH_TIMESTEPS_PER_STEP = 50


def polish_plan(polish_timestep: int) -> SamplingPlan:
    """DiffBFR's texture polish: re-noise the result to a small timestep and denoise it again."""
    return fast_plan(polish_timestep, max(1, -(-polish_timestep // POLISH_TIMESTEPS_PER_STEP)))


def plan_for(settings: SamplerSettings, *, max_timestep: int = MAX_START_TIMESTEP, timesteps: int = 1000) -> SamplingPlan:
    """The sampling plan a :class:`SamplerSettings` asks for."""
    start = fidelity_to_timestep(settings.fidelity, max_timestep=max_timestep)
    if settings.schedule == "official":
        kept = respace_timesteps(OFFICIAL_RESPACING, timesteps)
        stride = kept[1] - kept[0]
        return official_plan(int(round(start / stride)), timesteps=timesteps)
    return fast_plan(start, settings.steps)
