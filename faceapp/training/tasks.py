"""What is learned: the restorer (L1 or MSE on degraded → clean) and the prior (ε + learned variance).

A task turns a clean face into a training sample, computes the loss of a batch, scores a fixed
validation batch, and renders a preview grid. Randomness inside a step comes from the generator
the trainer passes in; validation draws from fixed seeds, so its figures are comparable across
checkpoints and runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from faceapp.training import diffusion
from faceapp.training.batches import to_chw_float
from faceapp.training.config import TrainingConfig
from faceapp.training.data import augment
from faceapp.training.degradation import degrade


class RestorerTask:
    """L1 (or MSE, ``[train] restorer_loss``) between the restorer's output and the clean face, both in [0, 1]."""

    kind = "restorer"

    def __init__(self, cfg: TrainingConfig, *, device: torch.device) -> None:
        self.cfg = cfg
        self.device = device

    def make_sample(self, image: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        hq = augment(image, rng, crop=self.cfg.data.crop, hflip=self.cfg.data.hflip)
        lq = degrade(hq, self.cfg.degradation, rng)
        return {"lq": to_chw_float(lq, signed=False), "hq": to_chw_float(hq, signed=False)}

    def loss(self, model, batch, *, generator: torch.Generator, autocast) -> tuple[torch.Tensor, dict]:
        lq, hq = batch["lq"].to(self.device), batch["hq"].to(self.device)
        with autocast():
            out = model(lq)
        error = out.float() - hq
        l1, mse = error.abs().mean(), error.square().mean()
        loss = mse if self.cfg.train.restorer_loss == "mse" else l1
        return loss, {"l1": l1.detach(), "mse": mse.detach()}

    @torch.no_grad()
    def validate(self, model, batch, *, autocast) -> dict[str, torch.Tensor]:
        """PSNR (dB) of the restorer's output against the clean faces, and the mean L1."""
        lq, hq = batch["lq"].to(self.device), batch["hq"].to(self.device)
        with autocast():
            out = model(lq)
        out = out.float().clamp(0, 1)
        mse = ((out - hq) ** 2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
        return {"val_psnr": (10 * torch.log10(1.0 / mse)).mean(), "val_l1": (out - hq).abs().mean()}

    @torch.no_grad()
    def preview(self, model, batch) -> np.ndarray:
        """Rows of [degraded | restored | clean], uint8 RGB."""
        lq, hq = batch["lq"].to(self.device), batch["hq"].to(self.device)
        out = model(lq).float().clamp(0, 1)
        return _grid([lq, out, hq])


class PriorTask:
    """Hybrid loss of improved DDPM with timesteps concentrated where the sampler works."""

    kind = "prior"
    preview_fractions = (0.1, 0.4, 0.7)  # of the schedule: t = 100, 400, 700 with 1000 timesteps
    validation_fractions = (0.05, 0.2, 0.4, 0.6)  # t = 50, 200, 400, 600: where DifFace samples

    def __init__(self, cfg: TrainingConfig, *, device: torch.device) -> None:
        self.cfg = cfg
        self.device = device
        self.tables = diffusion.make_tables(cfg.diffusion, device=device)
        self.hybrid_loss = torch.compile(diffusion.hybrid_loss) if cfg.train.compile_loss else diffusion.hybrid_loss
        self.preview_timesteps = tuple(int(f * cfg.diffusion.timesteps) for f in self.preview_fractions)

    def make_sample(self, image: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        x0 = augment(image, rng, crop=self.cfg.data.crop, hflip=self.cfg.data.hflip)
        return {"x0": to_chw_float(x0, signed=True)}

    def loss(self, model, batch, *, generator: torch.Generator, autocast) -> tuple[torch.Tensor, dict]:
        x0 = batch["x0"].to(self.device)
        t = diffusion.sample_timesteps(x0.shape[0], self.cfg.diffusion, generator=generator, device=self.device)
        noise = torch.randn(x0.shape, generator=generator, device=self.device)
        x_t = diffusion.q_sample(x0, t, noise, self.tables)
        with autocast():
            out = model(x_t, t)
        return self.hybrid_loss(out, x0, x_t, t, noise, self.tables, vlb_weight=self.cfg.diffusion.vlb_weight,
                                     prediction=self.cfg.diffusion.prediction)

    def eps(self, model, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The ε the network predicts at x_t (converted from v for a v-prior), float32."""
        out = model(x_t, t).float()[:, : x_t.shape[1]]
        return diffusion.eps_prediction(out, x_t, t, self.tables, kind=self.cfg.diffusion.prediction)

    @torch.no_grad()
    def validate(self, model, batch, *, autocast) -> dict[str, torch.Tensor]:
        """Mean squared error of the predicted noise at fixed timesteps with fixed noise, overall
        and per timestep (``val_mse_t<t>``): the prior's validation curve (ε whatever the network
        predicts, so curves of ε- and v-priors compare)."""
        figures = {}
        for t, noise, x_t in self.validation_cases(batch["x0"].to(self.device)):
            with autocast():
                eps = self.eps(model, x_t, t)
            figures[f"val_mse_t{int(t[0])}"] = ((eps - noise) ** 2).mean()
        return {"val_mse": torch.stack(list(figures.values())).mean(), **figures}

    def validation_cases(self, x0: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(t, ε, x_t) at each validation timestep, with the fixed noise draws every checkpoint sees."""
        gen = torch.Generator(device=self.device).manual_seed(1)
        for fraction in self.validation_fractions:
            t = torch.full((x0.shape[0],), int(fraction * self.cfg.diffusion.timesteps), dtype=torch.long,
                           device=self.device)
            noise = torch.randn(x0.shape, generator=gen, device=self.device)
            yield t, noise, diffusion.q_sample(x0, t, noise, self.tables)

    @torch.no_grad()
    def preview(self, model, batch) -> np.ndarray:
        """Rows of [clean | (noised, one-step x̂_0) at 10, 40 and 70 % of the schedule], uint8 RGB."""
        x0 = batch["x0"].to(self.device)
        gen = torch.Generator(device=self.device).manual_seed(0)
        columns = [x0]
        for t_value in self.preview_timesteps:
            t = torch.full((x0.shape[0],), t_value, dtype=torch.long, device=self.device)
            noise = torch.randn(x0.shape, generator=gen, device=self.device)
            x_t = diffusion.q_sample(x0, t, noise, self.tables)
            eps = self.eps(model, x_t, t)
            columns += [x_t.clamp(-1, 1), diffusion.predict_x0(x_t, t, eps, self.tables).clamp(-1, 1)]
        return _grid([(c + 1) / 2 for c in columns])


def make_task(cfg: TrainingConfig, *, device: torch.device):
    return {"restorer": RestorerTask, "prior": PriorTask}[cfg.kind](cfg, device=device)


def _grid(columns: list[torch.Tensor]) -> np.ndarray:
    """Images in [0, 1] (N, 3, H, W) per column → one uint8 RGB array, a row per sample."""
    rows = torch.cat([torch.cat(list(c.float().cpu()), dim=1) for c in columns], dim=2)
    return (rows.permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
