"""The restoration engine: one aligned low-quality face in, one restored candidate per seed out.

DifFace (Yue & Loy): x̂0 = restorer(y0) once per face; for every seed, x_N ~ q(x_N | x̂0) and DDIM
sampling with the face prior from N down to 0. Seeds are sampled together in batches of at most
``max_batch``; each candidate draws all its noise from its own generator, so a seed's candidate is
the same whether it is computed alone or in a batch.

A restoration comes in two halves: :meth:`FaceEngine.prepare` runs the restorer and settles the
sampler (a sampler with ``spare_sharp_faces`` is raised to a higher fidelity for a face the restorer
barely changed, on the model's ramp: :mod:`faceapp.core.sparing`); :meth:`FaceEngine.iter_sample`
samples the seeds. :meth:`FaceEngine.iter_restore` does both. A model whose manifest says so keeps
its restorer's tones and broad shapes in every sample (:mod:`faceapp.core.tones`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from faceapp.core import devices, host_memory, schedule
from faceapp.core.errors import Cancelled, CorruptModelError, OutOfMemoryError
from faceapp.core.manifest import FidelityRange
from faceapp.core.precision import resolve_precision
from faceapp.core.progress import drive, relay
from faceapp.core.sampling import PREDICTIONS, eps_from_v, iter_sample_ddim, q_sample, randn_per_generator
from faceapp.core.settings import DEFAULT_FIDELITY, SamplerSettings
from faceapp.core.sparing import SharpFaceSparing, restorer_change
from faceapp.core.templates import face_template
from faceapp.core.tones import keep_restorer_rim, keep_restorer_tones

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepInfo:
    """Progress of one :meth:`FaceEngine.restore` call, reported after every DDIM step."""

    step: int  # 1-based, counted over all batches
    total: int
    timestep: int
    preview: np.ndarray | None  # predicted x0 of the batch's first candidate, HxWx3 uint8 RGB


@dataclass(frozen=True, eq=False)
class PreparedFace:
    """One face ready to sample (:meth:`FaceEngine.prepare`): the restorer's estimate x̂0
    (1x3xSxS in [−1, 1], on the engine's device), the sampler the face was asked for, the sampler it
    is sampled with (a higher fidelity where sharp-face sparing spared it; sparing itself off) and how
    much the restorer changed it (RMS, grey levels; :mod:`faceapp.core.sparing`)."""

    estimate: torch.Tensor
    requested: SamplerSettings
    sampler: SamplerSettings
    restorer_change: float

    @property
    def spared(self) -> bool:
        """Whether the face is sampled at a higher fidelity than it was asked for."""
        return self.sampler.fidelity > self.requested.fidelity


def image_to_tensor(face: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 RGB (or float in [0, 1]) → 1x3xHxW float32 in [0, 1]."""
    if face.ndim != 3 or face.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB face, got shape {face.shape}")
    array = face.astype(np.float32) / 255.0 if face.dtype == np.uint8 else face.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).unsqueeze(0)


def tensor_to_images(batch: torch.Tensor) -> list[np.ndarray]:
    """Nx3xHxW in [0, 1] → list of HxWx3 uint8 RGB (rounded)."""
    array = (batch.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return [np.ascontiguousarray(a) for a in array]


class FaceEngine:
    """A restorer and a diffusion prior on one device, ready to restore aligned faces."""

    #: Networks learn faces at common exposure: the photo pipeline stretches a dark or faded face's
    #: levels for them (:mod:`faceapp.core.face_levels`).
    stretches_levels = True

    def __init__(
        self,
        *,
        restorer: torch.nn.Module,
        prior: torch.nn.Module | None,
        face_size: int,
        template: str = "ffhq5",
        name: str = "model",
        device: str | torch.device = "cpu",
        betas: np.ndarray | None = None,
        default_steps: int = 8,
        default_fidelity: float = DEFAULT_FIDELITY,
        prediction: str = "eps",
        max_batch: int | None = None,
        precision: str = "auto",
        sharp_faces: SharpFaceSparing | None = None,
        fidelity_range: FidelityRange | None = None,
        restorer_tones: float | None = None,
        weights_sha256: Mapping[str, str] | None = None,
    ) -> None:
        self.device = devices.resolve_device(device)
        if self.device.type == "cpu":
            host_memory.keep_freed_memory()
        self.name = name
        self.face_size = int(face_size)
        self.template = face_template(template, self.face_size)
        self.default_steps = default_steps
        self.default_fidelity = default_fidelity
        self.sharp_faces = sharp_faces  # the model's sparing ramp; None: no face is ever spared
        self.fidelity_range = fidelity_range  # how far towards realistic it works; None: everywhere
        self.restorer_tones = restorer_tones  # σ of faceapp.core.tones; None: sampled as DifFace does
        #: the SHA-256 of each of its weight files, by name, as its manifest gives them (the release a
        #: result's provenance names; empty for networks built in memory)
        self.weights_sha256 = dict(weights_sha256 or {})
        self.numerics = resolve_precision(precision, self.device)
        self.precision = self.numerics.name  # what ran: "fp32", "bf16" or "fp16" (status bar, provenance)
        self.alphas_cumprod = schedule.alphas_cumprod(betas if betas is not None else schedule.linear_betas())
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {', '.join(PREDICTIONS)}, got {prediction!r}")
        self.prediction = prediction
        self._alpha_bar = torch.as_tensor(self.alphas_cumprod, dtype=torch.float32, device=self.device)
        self.max_batch = max_batch or (8 if self.device.type == "cuda" else 4)
        self.restorer = self.numerics.prepare(restorer.to(self.device).eval())
        self.prior = self.numerics.prepare(prior.to(self.device).eval()) if prior is not None else None

    @classmethod
    def from_networks(
        cls,
        restorer: torch.nn.Module,
        prior: torch.nn.Module | None = None,
        *,
        face_size: int,
        template: str = "ffhq5",
        name: str = "model",
        device: str | torch.device = "cpu",
        **kwargs,
    ) -> FaceEngine:
        """An engine over networks built by the caller (tests, training, evaluation)."""
        return cls(restorer=restorer, prior=prior, face_size=face_size, template=template, name=name, device=device, **kwargs)

    @property
    def model_name(self) -> str:
        return self.name

    def plans(self, sampler: SamplerSettings) -> list[schedule.SamplingPlan]:
        """The sampling stages for ``sampler``: the main DifFace run, then the optional polish.

        Empty when there is no prior or nothing to sample (fidelity 1 without polish).
        """
        if self.prior is None:
            return []
        stages = [schedule.plan_for(sampler, timesteps=len(self.alphas_cumprod))]
        if sampler.polish_timestep:
            stages.append(schedule.polish_plan(sampler.polish_timestep))
        return [plan for plan in stages if plan.steps]

    # --- public API -------------------------------------------------------------------------
    def iter_restore(
        self,
        face: np.ndarray,
        *,
        sampler: SamplerSettings,
        seeds: Sequence[int],
        should_cancel: Callable[[], bool] | None = None,
    ) -> Generator[StepInfo, None, list[np.ndarray]]:
        """Restore one aligned face (HxWx3 uint8 RGB), yielding a :class:`StepInfo` after every DDIM
        step; returns one face_size² uint8 RGB image per seed.

        ``should_cancel`` is checked between steps (cancelling raises :class:`Cancelled`); closing
        the generator also stops it there. No thread is started and nothing is kept between calls.
        """
        out = yield from self.iter_restore_tensor(image_to_tensor(face), sampler=sampler, seeds=seeds,
                                                  should_cancel=should_cancel)
        return tensor_to_images(out)

    def restore(
        self,
        face: np.ndarray,
        *,
        sampler: SamplerSettings,
        seeds: Sequence[int],
        on_step: Callable[[StepInfo], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> list[np.ndarray]:
        """:meth:`iter_restore` run to the end, handing each :class:`StepInfo` to ``on_step``."""
        return drive(self.iter_restore(face, sampler=sampler, seeds=seeds, should_cancel=should_cancel), on_step)

    def iter_restore_tensor(
        self,
        y0: torch.Tensor,
        *,
        sampler: SamplerSettings,
        seeds: Sequence[int],
        should_cancel: Callable[[], bool] | None = None,
    ) -> Generator[StepInfo, None, torch.Tensor]:
        """Like :meth:`iter_restore` on a 1x3xHxW tensor in [0, 1]; returns Kx3xSxS in [0, 1] (CPU)."""
        if not seeds:
            raise ValueError("at least one seed is needed")  # before the restorer runs
        _check_cancel(should_cancel)
        prepared = self.prepare(y0, sampler)
        return (yield from self.iter_sample_tensor(prepared, seeds=seeds, should_cancel=should_cancel))

    def restore_tensor(
        self,
        y0: torch.Tensor,
        *,
        sampler: SamplerSettings,
        seeds: Sequence[int],
        on_step: Callable[[StepInfo], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> torch.Tensor:
        """:meth:`iter_restore_tensor` run to the end, handing each :class:`StepInfo` to ``on_step``."""
        return drive(self.iter_restore_tensor(y0, sampler=sampler, seeds=seeds, should_cancel=should_cancel), on_step)

    def prepare(self, face: np.ndarray | torch.Tensor, sampler: SamplerSettings) -> PreparedFace:
        """The first half of a restoration: the restorer's estimate of one aligned face (HxWx3 uint8
        RGB, or a 1x3xHxW tensor in [0, 1]) and the sampler it will be sampled with, which is
        ``sampler`` at a higher fidelity when sharp-face sparing spares it. :meth:`iter_sample`
        does the rest, for any number of seeds."""
        y0 = image_to_tensor(face) if isinstance(face, np.ndarray) else face
        y0 = self._at_face_size(y0.to(self.device, torch.float32))
        with self._out_of_memory_as_error():
            estimate = self._restore_estimate(y0)
        change = restorer_change(y0, estimate)
        used = dataclasses.replace(sampler, spare_sharp_faces=False)
        if sampler.spare_sharp_faces and self.sharp_faces is not None:
            used = dataclasses.replace(used, fidelity=self.sharp_faces.fidelity(sampler.fidelity, change))
        return PreparedFace(estimate=estimate * 2.0 - 1.0, requested=sampler, sampler=used, restorer_change=change)

    def iter_sample(self, prepared: PreparedFace, *, seeds: Sequence[int],
                    should_cancel: Callable[[], bool] | None = None) -> Generator[StepInfo, None, list[np.ndarray]]:
        """The second half of a restoration (after :meth:`prepare`): one face_size² uint8 RGB image
        per seed, yielding a :class:`StepInfo` after every DDIM step (like :meth:`iter_restore`)."""
        out = yield from self.iter_sample_tensor(prepared, seeds=seeds, should_cancel=should_cancel)
        return tensor_to_images(out)

    def iter_sample_tensor(self, prepared: PreparedFace, *, seeds: Sequence[int],
                           should_cancel: Callable[[], bool] | None = None) -> Generator[StepInfo, None, torch.Tensor]:
        """Like :meth:`iter_sample`; returns Kx3xSxS in [0, 1] (CPU)."""
        if not seeds:
            raise ValueError("at least one seed is needed")
        _check_cancel(should_cancel)
        with self._out_of_memory_as_error():
            out = yield from in_inference_mode(self._sample_all(prepared.estimate, prepared.sampler, list(seeds),
                                                                should_cancel))
            return out.cpu()

    def estimate(self, y0: torch.Tensor) -> torch.Tensor:
        """The restorer's estimate x̂0 = 2·clamp(restorer(y0), 0, 1) − 1 at face_size (1x3xSxS)."""
        return self._restore_estimate(self._at_face_size(y0.to(self.device, torch.float32))) * 2.0 - 1.0

    # --- internals --------------------------------------------------------------------------
    def _at_face_size(self, y0: torch.Tensor) -> torch.Tensor:
        if y0.shape[-2:] != (self.face_size, self.face_size):
            y0 = F.interpolate(y0, size=(self.face_size, self.face_size), mode="bicubic", antialias=True, align_corners=False)
            y0 = y0.clamp(0, 1)
        return y0

    def _restore_estimate(self, y0: torch.Tensor) -> torch.Tensor:
        """The restorer's output for a face already at face_size, clamped to [0, 1] (float32)."""
        with torch.inference_mode(), self.numerics.forward_context(self.device):
            return self._finite(self.restorer(y0).float(), "restorer").clamp(0, 1)

    def _finite(self, out: torch.Tensor, network: str) -> torch.Tensor:
        """``out`` when every value is a number; a :class:`CorruptModelError` when the network gave
        NaN or infinity (damaged weights, or an overflow of a half precision), which would come
        out as a black face."""
        if bool(torch.isfinite(out).all()):
            return out
        hint = {"fp16": "; if they are whole, fp16 overflowed: set the precision to fp32",
                "bf16": "; if they are whole, try the precision fp32"}.get(self.precision, "")
        raise CorruptModelError(
            f"The model {self.name}'s {network} computed invalid numbers (NaN or infinity): its weights may be "
            f"damaged (faceapp-cli models verify {self.name} checks them){hint}.")

    @contextlib.contextmanager
    def _out_of_memory_as_error(self) -> Iterator[None]:
        """Turns the device's out-of-memory error into :class:`OutOfMemoryError`, memory released."""
        try:
            yield
        except Cancelled:
            raise
        except Exception as exc:
            if devices.is_out_of_memory(exc):
                release_memory(self.device)
                raise OutOfMemoryError(
                    devices.out_of_memory_message(self.device, face_size=self.face_size, batch=1)
                ) from exc
            raise

    def predict_eps(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """ε predicted by the prior for x at original timesteps t, as float32: the network runs in
        the engine's precision (bf16 weights on a CPU that runs them fast, fp16 autocast on CUDA), the
        sampler's arithmetic stays float32. A v-prior's output is turned into ε here."""
        assert self.prior is not None
        with self.numerics.forward_context(self.device):
            out = self.prior(x, t)
        out = self._finite(out[:, :3].float(), "prior")
        if self.prediction == "v":
            return eps_from_v(out, x, self._alpha_bar[t.to(self.device)].reshape(-1, 1, 1, 1))
        return out

    def _sample_all(self, x0_hat, sampler, seeds, should_cancel) -> Generator[StepInfo, None, torch.Tensor]:
        """Sample every seed, in chunks (:func:`iter_seed_chunks`)."""
        plans = self.plans(sampler)
        if not plans:
            return ((x0_hat + 1.0) / 2.0).clamp(0, 1).expand(len(seeds), -1, -1, -1).clone()
        return (yield from iter_seed_chunks(
            self, seeds, sum(plan.steps for plan in plans), "sampling",
            lambda chunk, offset, total: self._sample_batch(x0_hat, plans, sampler.eta, chunk, offset, total, should_cancel)))

    def _sample_batch(self, x0_hat, plans, eta, seeds, offset, total, should_cancel) -> Generator[StepInfo, None, torch.Tensor]:
        """Run every stage for one batch of seeds; all noise comes from the seeds' generators."""
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        finish = (lambda x: keep_restorer_rim(keep_restorer_tones(x, x0_hat, self.restorer_tones), x0_hat)) \
            if self.restorer_tones else None
        x0 = x0_hat.expand(len(seeds), -1, -1, -1)
        for plan in plans:
            noise = randn_per_generator(x0.shape[1:], generators, device=self.device)
            x = q_sample(x0, float(self.alphas_cumprod[plan.noise_timestep]), noise)
            steps = iter_sample_ddim(self.predict_eps, x, plan, self.alphas_cumprod, eta=eta, generators=generators,
                                     should_cancel=should_cancel)
            x0 = yield from relay(steps, lambda state, offset=offset: step_info(state, offset=offset, total=total,
                                                                                finish=finish))
            offset += plan.steps
        if finish is not None:
            x0 = finish(x0)
        return ((x0 + 1.0) / 2.0).clamp(0, 1)


def _check_cancel(should_cancel: Callable[[], bool] | None) -> None:
    if should_cancel is not None and should_cancel():
        raise Cancelled()


def step_info(state, *, offset: int, total: int,
              finish: Callable[[torch.Tensor], torch.Tensor] | None = None) -> StepInfo:
    """A sampler's step state as front-ends see it: its place in the whole run (``offset`` steps
    came before it, of ``total``) and the first candidate's current x̂0 as the preview, passed
    through ``finish`` (what the engine does to a finished sample, e.g. keeping the restorer's
    tones) so that the preview converges to the result."""
    denoised = state.denoised[:1]
    if finish is not None:
        denoised = finish(denoised)
    return StepInfo(step=offset + state.step, total=total, timestep=state.timestep,
                    preview=tensor_to_images((denoised + 1.0) / 2.0)[0])


def iter_seed_chunks(
    engine,
    seeds: Sequence[int],
    per_chunk: int,
    doing: str,
    sample_chunk: Callable[[list[int], int, int], Generator[StepInfo, None, torch.Tensor]],
) -> Generator[StepInfo, None, torch.Tensor]:
    """``sample_chunk(chunk, offset, total)`` over ``seeds`` in chunks of ``engine.max_batch`` (all of
    them when it has none); each chunk reports ``per_chunk`` steps. Returns the chunks' results
    concatenated.

    A chunk that runs out of memory is split in halves, and the smaller size is kept in
    ``engine.max_batch`` for later calls: each seed has its own generator, so splitting changes no
    result. A single seed that does not fit raises :class:`OutOfMemoryError`. ``doing`` names the
    work in the log ("sampling", "repairing").
    """
    limit = getattr(engine, "max_batch", None) or len(seeds)
    results, pending, done = [], list(seeds), 0
    while pending:
        chunk = pending[:limit]
        total = done + per_chunk * -(-len(pending) // limit)
        try:
            results.append((yield from sample_chunk(chunk, done, total)))
        except Exception as exc:
            if not devices.is_out_of_memory(exc):
                raise
            release_memory(engine.device)
            if len(chunk) == 1:
                raise OutOfMemoryError(
                    devices.out_of_memory_message(engine.device, face_size=engine.face_size, batch=1)) from exc
            limit = len(chunk) // 2
            if hasattr(engine, "max_batch"):
                engine.max_batch = limit
            log.warning("out of memory %s %d faces at once on %s; retrying %d at a time",
                        doing, len(chunk), engine.device, limit)
            continue
        pending, done = pending[len(chunk):], done + per_chunk
    return torch.cat(results)


def release_memory(device: str | torch.device) -> None:
    """Give the memory cached for ``device`` back: torch's CUDA or MPS cache (the Mac's unified memory,
    held after a batch that ran out of it: portability QA), or the C heap's free memory."""
    kind = torch.device(device).type
    if kind == "cuda":
        torch.cuda.empty_cache()
    elif kind == "mps":
        torch.mps.empty_cache()
    else:
        host_memory.return_freed_memory()


def in_inference_mode(work: Generator[StepInfo, None, torch.Tensor]) -> Generator[StepInfo, None, torch.Tensor]:
    """Run each stretch of ``work`` between two yields under ``torch.inference_mode`` (a context
    held across a yield would leak into the caller's code while the generator waits)."""
    try:
        while True:
            with torch.inference_mode():
                try:
                    item = next(work)
                except StopIteration as stop:
                    return stop.value
            yield item
    finally:
        work.close()


def load_engine(name: str | None = None, *, device: str = "auto", registry=None, max_batch: int | None = None,
                precision: str = "auto") -> FaceEngine:
    """Load a model from the registry (``None`` → the default model) onto ``device``."""
    from faceapp.core import loading
    from faceapp.core.registry import Registry

    registry = registry or Registry()
    manifest = registry.require_installed(name or None)
    registry.check_unverified(manifest.name)  # files copied in by hand: their checksum, once
    target = devices.resolve_device(device)
    if target.type == "cpu":
        devices.configure_cpu_threads()

    def network(spec):
        source = registry.file_path(manifest, spec.file) if spec.file else {}
        return loading.load_network(spec.arch, spec.config, source, device="cpu")

    restorer = network(manifest.restorer)
    prior = network(manifest.prior) if manifest.prior is not None else None
    diffusion = manifest.diffusion
    betas = schedule.linear_betas(diffusion.timesteps, diffusion.beta_start, diffusion.beta_end)
    return FaceEngine(
        restorer=restorer,
        prior=prior,
        face_size=manifest.face_size,
        template=manifest.face_template,
        name=manifest.name,
        device=target,
        betas=betas,
        default_steps=manifest.default_steps,
        default_fidelity=manifest.default_fidelity,
        prediction=diffusion.prediction,
        max_batch=max_batch,
        precision=precision,
        sharp_faces=manifest.sharp_faces,
        fidelity_range=manifest.fidelity_range,
        restorer_tones=manifest.restorer_tones,
        weights_sha256={entry.name: entry.sha256 for entry in manifest.files if entry.sha256},
    )
