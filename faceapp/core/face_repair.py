"""Repairing the damaged pixels of one aligned face with the face prior (DifFace's inpainting).

The hole is pre-filled classically (:func:`faceapp.core.damage.fill_damage`), the restorer's
estimate of that face is diffused to the start timestep N, and the prior samples back to 0 under
RePaint's constraint (:func:`faceapp.core.inpaint.iter_sample_repaint`): after every DDIM step the
pixels outside the hole are replaced by the original crop noised to the step's level. The result
keeps every undamaged pixel of the crop exactly and generates the hole consistently with them;
each seed gives its own fill (the gallery's alternatives). A model that keeps its restorer's tones
(``[restorer_tones]``) keeps them in the hole too: below its blur, the fill is the restorer's
estimate of the pre-filled face, joined to the undamaged pixels around it, and only finer detail
comes from the prior (a small prior's fill at t = 480 left off-colour patches and dark smudges
across a painted-over nose). The repaired crop is then restored like
any face (blur, noise and compression removed everywhere), so the undamaged pixels come out as
they would without a mask.

Seeds are sampled in chunks of the engine's ``max_batch``, a chunk that runs out of memory split in
halves (each seed has its own generator, so a seed's fill is the same in any chunk). Works with any
engine that offers ``estimate``, ``predict_eps``, ``plans``, ``alphas_cumprod`` and
``device`` (:class:`faceapp.core.engine.FaceEngine`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Sequence

import numpy as np
import torch

from faceapp.core.damage import check_mask, fill_damage
from faceapp.core.engine import (
    StepInfo,
    image_to_tensor,
    in_inference_mode,
    iter_seed_chunks,
    step_info,
    tensor_to_images,
)
from faceapp.core.errors import Cancelled
from faceapp.core.inpaint import iter_sample_repaint, prior_calls
from faceapp.core.progress import relay
from faceapp.core.sampling import q_sample, randn_per_generator
from faceapp.core.settings import SamplerSettings
from faceapp.core.tones import keep_restorer_tones_in_hole

#: The hole is generated from at least this fidelity's start timestep (0.4 → t = 480, the official
#: inpainting setting: respaced N = 120 of ddim250), whatever the restoration's fidelity: a hole has
#: nothing to be faithful to.
REPAIR_FIDELITY = 0.4
#: ... in at least this many DDIM steps, whatever the restoration's step count: a hole generated from
#: t = 480 in 2 steps (a model whose restorations default to 2) came back as grainy, off-colour lines
#: that the held pixels around it had no step to blend with; 8 steps fill them in the face's colours.
REPAIR_MIN_STEPS = 8


def repair_sampler(sampler: SamplerSettings) -> SamplerSettings:
    """The sampler that fills holes: ``sampler`` at a fidelity of at most :data:`REPAIR_FIDELITY`,
    with at least :data:`REPAIR_MIN_STEPS` steps and no polish."""
    return dataclasses.replace(sampler, fidelity=min(sampler.fidelity, REPAIR_FIDELITY),
                               steps=max(sampler.steps, REPAIR_MIN_STEPS), polish_timestep=0)


def iter_repair_face(
    engine,
    face: np.ndarray,
    mask: np.ndarray,
    *,
    sampler: SamplerSettings,
    seeds: Sequence[int],
    jump_length: int = 1,
    resamples: int = 1,
    should_cancel: Callable[[], bool] | None = None,
    estimate: torch.Tensor | None = None,
) -> Generator[StepInfo, None, list[np.ndarray]]:
    """Fill the damaged pixels (``mask`` > 0) of an aligned face (HxWx3 uint8 RGB), once per seed.

    ``sampler`` is the restoration's; the hole is sampled with :func:`repair_sampler` of it. Yields
    a :class:`~faceapp.core.engine.StepInfo` after every prior call; returns one HxWx3 uint8 image
    per seed whose undamaged pixels are ``face``'s own. Without a prior the hole gets the
    restorer's estimate of the pre-filled face; ``estimate`` is that estimate (1x3xSxS in [−1, 1])
    when the caller has it already, e.g. from :meth:`~faceapp.core.engine.FaceEngine.prepare`.
    """
    if not seeds:
        raise ValueError("at least one seed is needed")
    height, width = face.shape[:2]
    mask = check_mask(mask, width, height, name="the face's damage mask")
    if should_cancel is not None and should_cancel():
        raise Cancelled()
    size = (engine.face_size, engine.face_size)
    with torch.inference_mode():
        known = _at(image_to_tensor(face), size) * 2.0 - 1.0
        hole = _at(torch.from_numpy(mask > 0).float()[None, None], size, nearest=True)
        if estimate is None:
            estimate = engine.estimate(image_to_tensor(fill_damage(face, mask)))
        estimate = estimate.to(engine.device)
        known, hole = known.to(engine.device), hole.to(engine.device)
    plans = engine.plans(repair_sampler(sampler))
    if not plans:
        repaired = hole * estimate + (1.0 - hole) * known
        return _keep_known(face, mask, repaired.expand(len(seeds), -1, -1, -1))
    plan = plans[0]
    per_chunk = prior_calls(plan.steps, jump_length=jump_length, resamples=resamples)
    repaired = yield from iter_seed_chunks(
        engine, seeds, per_chunk, "repairing",
        lambda chunk, offset, total: _repair_chunk(engine, estimate, known, hole, plan, sampler.eta, chunk, offset,
                                                   total, jump_length, resamples, should_cancel))
    sigma = getattr(engine, "restorer_tones", None)
    if sigma:
        with torch.inference_mode():
            repaired = keep_restorer_tones_in_hole(repaired, hole * estimate + (1.0 - hole) * known, hole, sigma)
    return _keep_known(face, mask, repaired)


def _repair_chunk(engine, estimate, known, hole, plan, eta, seeds, offset, total, jump_length, resamples,
                  should_cancel) -> Generator[StepInfo, None, torch.Tensor]:
    """Sample the hole for one chunk of seeds; all noise comes from the seeds' generators."""
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    with torch.inference_mode():
        noise = randn_per_generator(estimate.shape[1:], generators, device=engine.device)
        x = q_sample(estimate.expand(len(seeds), -1, -1, -1), float(engine.alphas_cumprod[plan.noise_timestep]), noise)
    steps = iter_sample_repaint(engine.predict_eps, x, plan, engine.alphas_cumprod, known=known, hole=hole,
                                eta=eta, generators=generators, jump_length=jump_length,
                                resamples=resamples, should_cancel=should_cancel)
    return (yield from in_inference_mode(relay(steps, lambda state: step_info(state, offset=offset, total=total))))


def _at(batch: torch.Tensor, size: tuple[int, int], *, nearest: bool = False) -> torch.Tensor:
    """``batch`` resized to ``size`` when it is not already (bicubic, or nearest for masks)."""
    if tuple(batch.shape[-2:]) == size:
        return batch
    if nearest:
        return torch.nn.functional.interpolate(batch, size=size, mode="nearest")
    return torch.nn.functional.interpolate(batch, size=size, mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)


def _keep_known(face: np.ndarray, mask: np.ndarray, batch: torch.Tensor) -> list[np.ndarray]:
    """[−1, 1] candidates as uint8 RGB images of ``face``'s size, its undamaged pixels exactly its own."""
    out = ((batch.detach().float().cpu() + 1.0) / 2.0).clamp(0, 1)
    out = tensor_to_images(_at(out, face.shape[:2]))
    known = mask == 0
    for image in out:
        image[known] = face[known]
    return out


def iter_restore_damaged_face(
    engine,
    face: np.ndarray,
    mask: np.ndarray,
    *,
    sampler: SamplerSettings,
    seeds: Sequence[int],
    resamples: int = 1,
    should_cancel: Callable[[], bool] | None = None,
    estimate: torch.Tensor | None = None,
) -> Generator[StepInfo, None, list[np.ndarray]]:
    """Restore a damaged aligned face: :func:`iter_repair_face` (``resamples`` RePaint resamplings
    per step; ``estimate`` as there), then each seed's repaired crop restored by the engine with that
    seed. Yields a :class:`StepInfo` per prior call, counted over both stages; returns one restored
    face per seed."""
    restore_total = len(seeds) * sum(plan.steps for plan in engine.plans(sampler))
    repair = {"done": 0}  # prior calls of the repair: its total grows when a chunk is split

    def repairing(info):
        repair["done"] = info.step
        return dataclasses.replace(info, total=info.total + restore_total)

    repaired = yield from relay(iter_repair_face(engine, face, mask, sampler=sampler, seeds=seeds, resamples=resamples,
                                                 should_cancel=should_cancel, estimate=estimate), repairing)
    offset, total = repair["done"], repair["done"] + restore_total
    restored = []
    for seed, crop in zip(seeds, repaired, strict=True):
        steps = engine.iter_restore(crop, sampler=sampler, seeds=[seed], should_cancel=should_cancel)
        restored.extend((yield from relay(steps, lambda info, base=offset: dataclasses.replace(
            info, step=base + info.step, total=total))))
        offset += restore_total // len(seeds)
    return restored
