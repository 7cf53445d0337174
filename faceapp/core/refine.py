"""Iterative refinement: restore a restoration again, K times, and say how much each pass changed.

IDM (Zhao et al. 2023) improves a restoration model by "extrinsic iterative enhancement": its own
outputs become its next inputs. faceapp applies the idea at inference, as a product heuristic: the
result is fed back through the restoration at a high fidelity (a small start timestep, so each pass
starts close to the face it is given), K times, with the same seed.

What it does is measured, not assumed (``python -m faceapp.training.evaluate --refine K``; the
model card has the figures): with faceapp's compact model the passes do **not** converge. Each
pass moves the face a steady few grey levels further, in the same direction (more contrast and
fine detail), so the distance from where it started grows pass after pass, at about 1 dB PSNR
and some identity a pass. The realism distance (SWD) falls after the first pass, yet the faces look
harsher and blotchier, and after two or three passes they break up. Hence one pass by default, and
each pass's change (root-mean-square difference in grey levels) is reported, with the whole
distance moved, so a user sees the drift.

:func:`iter_refine` is a pure loop over any ``restore(image) → image`` function; :func:`iter_refine_steps`
is the same loop over a restoration that reports progress, as the photo pipeline's
(:func:`faceapp.core.photo_restore.iter_refine_face`) does.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from faceapp.core.settings import SamplerSettings

T = TypeVar("T")

#: Fidelity of the refinement passes: at least this, so each pass starts close to its input (t ≤ 120).
REFINE_FIDELITY = 0.85
#: Most passes one refinement may ask for.
MAX_REFINE_PASSES = 10
#: Passes of the GUI's Refine action: one, since further passes drift (see above).
DEFAULT_REFINE_PASSES = 1


@dataclass(frozen=True, eq=False)
class RefinePass:
    """One refinement pass: its 1-based ``index``, the ``image`` it gave, and ``change``, the RMS
    difference from the previous pass's image (or the input's, for pass 1) in grey levels."""

    index: int
    image: np.ndarray
    change: float


def pass_change(before: np.ndarray, after: np.ndarray) -> float:
    """Root-mean-square difference of two images of one size, in grey levels (0–255)."""
    if before.shape != after.shape:
        raise ValueError(f"images of different sizes: {before.shape} and {after.shape}")
    diff = before.astype(np.float64) - after.astype(np.float64)
    return math.sqrt(float(np.mean(diff * diff)))


def refine_sampler(sampler: SamplerSettings) -> SamplerSettings:
    """The sampler of a refinement pass: ``sampler`` at a fidelity of at least :data:`REFINE_FIDELITY`,
    never spared (a restored face looks sharp to the restorer: sparing would make the pass a no-op)."""
    return dataclasses.replace(sampler, fidelity=max(sampler.fidelity, REFINE_FIDELITY), spare_sharp_faces=False)


def check_passes(passes: int) -> int:
    """``passes`` if it is a usable number of refinement passes (0 = none), else ValueError."""
    if not 0 <= passes <= MAX_REFINE_PASSES:
        raise ValueError(f"refinement passes must be within [0, {MAX_REFINE_PASSES}], got {passes}")
    return passes


def iter_refine(image: np.ndarray, restore: Callable[[np.ndarray], np.ndarray], passes: int) -> Generator[RefinePass, None, np.ndarray]:
    """Feed ``image`` through ``restore`` ``passes`` times; yields each :class:`RefinePass` and
    returns the last image (``image`` itself when ``passes`` is 0)."""

    def at_once(current: np.ndarray) -> Generator[Any, None, np.ndarray]:
        return restore(current)
        yield  # (a generator that reports nothing)

    return (yield from iter_refine_steps(image, at_once, passes))


def iter_refine_steps(image: np.ndarray, restore: Callable[[np.ndarray], Generator[T, None, np.ndarray]],
                      passes: int) -> Generator[T | RefinePass, None, np.ndarray]:
    """:func:`iter_refine` for a restoration that reports its progress: ``restore(image)`` is a
    generator that yields progress items and returns the restored image. Yields those items and,
    after each pass, its :class:`RefinePass`; returns the last image. Closing it closes the pass
    being run."""
    check_passes(passes)
    current = image
    for index in range(1, passes + 1):
        result = yield from restore(current)
        yield RefinePass(index=index, image=result, change=pass_change(current, result))
        current = result
    return current
