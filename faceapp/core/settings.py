"""Frozen settings objects shared by the engine, the pipeline, the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Sampling schedules: "fast" takes ``steps`` evenly spaced DDIM steps from the start timestep
#: to 0; "official" reproduces the official DifFace loop (ddim250 respacing, one UNet call per
#: respaced step, including its off-by-one start).
ScheduleMode = Literal["fast", "official"]

#: Largest texture-polish timestep: beyond it the polish would change the face, not its texture.
MAX_POLISH_TIMESTEP = 300

#: The fidelity of a model whose manifest names none (DifFace's paper setting, t = 400).
DEFAULT_FIDELITY = 0.5

#: The largest first seed (the window's field holds 31 bits; the seeds More adds count up from it
#: and stay far below torch's 64-bit limit: settings QA, 5000000000 stopped Settings from opening
#: and a larger one failed every restore with "Overflow when unpacking long long").
MAX_BASE_SEED = 2**31 - 1

#: Most RePaint resamplings per step a run may ask for (damage repair).
MAX_RESAMPLES = 10

#: The widest blur (face pixels) below which a model may keep its restorer's tones
#: (``[restorer_tones]``, :mod:`faceapp.core.tones`): wider keeps almost nothing of the prior.
MAX_TONES_SIGMA = 64.0


def is_tones_sigma(sigma: float) -> bool:
    """Whether ``sigma`` is a blur a model may keep its restorer's tones below: 0 < σ ≤ :data:`MAX_TONES_SIGMA`."""
    return 0.0 < sigma <= MAX_TONES_SIGMA  # False for NaN


@dataclass(frozen=True)
class SamplerSettings:
    """How one aligned face is sampled.

    fidelity: 1 keeps the restorer's estimate (no diffusion), 0 lets the prior invent the most;
        see :func:`faceapp.core.schedule.fidelity_to_timestep` for the exact map (0.5 → t = 400,
        the paper's setting).
    steps: number of DDIM steps (UNet calls) in "fast" mode; ignored in "official" mode.
    eta: DDIM stochasticity, 0 (deterministic once x_N is drawn) … 1 (fresh noise each step).
    schedule: "fast" or "official".
    polish_timestep: 0 (off) or the timestep of a DiffBFR-style texture polish: the sampled face is
        noised again to this (small) timestep and denoised once more by the prior, which sharpens
        fine texture without moving the face (one DDIM step per 50 timesteps; at most 300).
    spare_sharp_faces: a face the restorer barely changed is sampled at a higher fidelity (up to
        1, no diffusion), on the ramp its model's manifest states (:mod:`faceapp.core.sparing`);
        ignored for a model that states none. Off here (the engine's exact DifFace behaviour); the
        front-ends' preference turns it on.
    """

    fidelity: float = DEFAULT_FIDELITY
    steps: int = 8
    eta: float = 0.5
    schedule: ScheduleMode = "fast"
    polish_timestep: int = 0
    spare_sharp_faces: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.fidelity <= 1.0:
            raise ValueError(f"fidelity must be within [0, 1], got {self.fidelity}")
        if not 1 <= self.steps <= 1000:
            raise ValueError(f"steps must be within [1, 1000], got {self.steps}")
        if not 0.0 <= self.eta <= 1.0:
            raise ValueError(f"eta must be within [0, 1], got {self.eta}")
        if self.schedule not in ("fast", "official"):
            raise ValueError(f"schedule must be 'fast' or 'official', got {self.schedule!r}")
        if not 0 <= self.polish_timestep <= MAX_POLISH_TIMESTEP:
            raise ValueError(f"polish_timestep must be within [0, {MAX_POLISH_TIMESTEP}], got {self.polish_timestep}")
