"""Training-side diffusion maths: forward noising, timestep sampling and the hybrid loss.

The prior predicts ε (or v = √ᾱ·ε − √(1−ᾱ)·x0, config ``prediction = "v"``) and, in its last three
channels, a value r ∈ [−1, 1] interpolating its log variance between log β_t and the log of the
clipped posterior variance β̃_t ("learned range", Nichol & Dhariwal 2021, improved DDPM). Its loss
is the hybrid ``L = ‖target − prediction‖² + λ·T·L_vlb(t)`` (target ε or v) with the mean detached
inside L_vlb, so the variational term only trains the variance. L_vlb(t) is in bits per dimension: the KL between the true posterior
q(x_{t−1} | x_t, x_0) and the model's p(x_{t−1} | x_t) for t > 0, and the discretised Gaussian
negative log-likelihood of x_0 for t = 0. λ·T = 1 for λ = 0.001 and T = 1000, as in the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from faceapp.core import schedule
from faceapp.core.sampling import eps_from_v, v_target
from faceapp.training.config import DiffusionConfig


@dataclass(frozen=True)
class DiffusionTables:
    """Per-timestep coefficients (float64 on the training device) for a linear β schedule."""

    betas: torch.Tensor
    alphas_cumprod: torch.Tensor
    posterior_log_variance_clipped: torch.Tensor
    posterior_mean_coef1: torch.Tensor
    posterior_mean_coef2: torch.Tensor

    @property
    def timesteps(self) -> int:
        return int(self.betas.shape[0])


def make_tables(cfg: DiffusionConfig, *, device: torch.device | str = "cpu") -> DiffusionTables:
    """The coefficients of the linear β schedule in ``cfg`` (Ho et al. 2020, eq. 7)."""
    betas = torch.from_numpy(schedule.linear_betas(cfg.timesteps, cfg.beta_start, cfg.beta_end))
    abar = torch.cumprod(1.0 - betas, dim=0)
    abar_prev = torch.cat([torch.ones(1, dtype=abar.dtype), abar[:-1]])
    post_var = betas * (1.0 - abar_prev) / (1.0 - abar)
    # β̃_0 = 0: its log is clipped to log β̃_1, as improved DDPM does
    post_log_var = torch.log(torch.cat([post_var[1:2], post_var[1:]]))
    coef1 = betas * torch.sqrt(abar_prev) / (1.0 - abar)
    coef2 = (1.0 - abar_prev) * torch.sqrt(1.0 - betas) / (1.0 - abar)
    tensors = [betas, abar, post_log_var, coef1, coef2]
    return DiffusionTables(*(t.to(device) for t in tensors))


def _at(table: torch.Tensor, t: torch.Tensor, ndim: int) -> torch.Tensor:
    return table[t].float().reshape(-1, *([1] * (ndim - 1)))


def sample_timesteps(
    n: int, cfg: DiffusionConfig, *, generator: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """n timesteps: uniform on [0, focus_max_timestep] with probability focus_prob, else on [0, T)."""
    focus = torch.randint(0, cfg.focus_max_timestep + 1, (n,), generator=generator, device=device)
    anywhere = torch.randint(0, cfg.timesteps, (n,), generator=generator, device=device)
    pick = torch.rand(n, generator=generator, device=device) < cfg.focus_prob
    return torch.where(pick, focus, anywhere)


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, tables: DiffusionTables) -> torch.Tensor:
    """x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε (Ho et al. 2020, eq. 4)."""
    abar = _at(tables.alphas_cumprod, t, x0.dim())
    return abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise


def eps_prediction(prediction: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, tables: DiffusionTables, *,
                   kind: str) -> torch.Tensor:
    """ε from the network's prediction channels: as they are for ``kind="eps"``, converted for "v"."""
    if kind == "v":
        return eps_from_v(prediction, x_t, _at(tables.alphas_cumprod, t, x_t.dim()))
    return prediction


def predict_x0(x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, tables: DiffusionTables) -> torch.Tensor:
    """x̂_0 = x_t/√ᾱ_t − √(1/ᾱ_t − 1)·ε̂."""
    abar = _at(tables.alphas_cumprod, t, x_t.dim())
    return x_t / abar.sqrt() - (1.0 / abar - 1.0).sqrt() * eps


def normal_kl(mean1, logvar1, mean2, logvar2) -> torch.Tensor:
    """KL(N(mean1, e^logvar1) ‖ N(mean2, e^logvar2)), elementwise, in nats."""
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def discretized_gaussian_log_likelihood(x: torch.Tensor, *, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """log P(x) of 8-bit data in [−1, 1] under N(mean, e^{2·log_scale}) integrated over each bin
    of width 2/255, the edge bins extended to ±∞ (Ho et al. 2020, eq. 13), elementwise, in nats."""
    centred = x - mean
    inv_std = torch.exp(-log_scale)
    cdf_plus = torch.special.ndtr(inv_std * (centred + 1.0 / 255.0))
    cdf_min = torch.special.ndtr(inv_std * (centred - 1.0 / 255.0))
    tiny = 1e-12
    log_cdf_plus = torch.log(cdf_plus.clamp(min=tiny))
    log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=tiny))
    log_delta = torch.log((cdf_plus - cdf_min).clamp(min=tiny))
    return torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_min, log_delta))


def model_log_variance(var_values: torch.Tensor, t: torch.Tensor, tables: DiffusionTables) -> torch.Tensor:
    """Learned-range log variance: frac·log β_t + (1 − frac)·log β̃_t, frac = (v + 1)/2."""
    frac = (var_values + 1.0) / 2.0
    max_log = _at(torch.log(tables.betas), t, var_values.dim())
    min_log = _at(tables.posterior_log_variance_clipped, t, var_values.dim())
    return frac * max_log + (1.0 - frac) * min_log


def vlb_bits_per_dim(
    eps: torch.Tensor, var_values: torch.Tensor, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, tables: DiffusionTables
) -> torch.Tensor:
    """L_vlb(t) per sample, in bits per dimension (KL for t > 0, decoder NLL for t = 0)."""
    nd = x0.dim()
    true_mean = _at(tables.posterior_mean_coef1, t, nd) * x0 + _at(tables.posterior_mean_coef2, t, nd) * x_t
    true_log_var = _at(tables.posterior_log_variance_clipped, t, nd)
    x0_hat = predict_x0(x_t, t, eps, tables)
    mean = _at(tables.posterior_mean_coef1, t, nd) * x0_hat + _at(tables.posterior_mean_coef2, t, nd) * x_t
    log_var = model_log_variance(var_values, t, tables)
    kl = normal_kl(true_mean, true_log_var, mean, log_var).mean(dim=tuple(range(1, nd))) / math.log(2.0)
    nll = -discretized_gaussian_log_likelihood(x0, mean=mean, log_scale=0.5 * log_var)
    nll = nll.mean(dim=tuple(range(1, nd))) / math.log(2.0)
    return torch.where(t == 0, nll, kl)


def hybrid_loss(
    model_out: torch.Tensor,
    x0: torch.Tensor,
    x_t: torch.Tensor,
    t: torch.Tensor,
    noise: torch.Tensor,
    tables: DiffusionTables,
    *,
    vlb_weight: float,
    prediction: str = "eps",
) -> tuple[torch.Tensor, dict[str, float]]:
    """L_hybrid = mean ‖target − prediction‖² + λ·T·L_vlb with the predicted mean detached (improved
    DDPM §3.1); the target is ε, or v for ``prediction="v"`` (Salimans & Ho 2022: unit variance at
    every t, so no timestep dominates).

    ``model_out`` is the network's [N, 6, H, W] output (prediction | variance values), computed in
    any precision; the loss is computed in float32. Returns the loss and its parts for logging
    (``mse``: of the prediction, ε or v).
    """
    out = model_out.float()
    channels = x0.shape[1]
    predicted, var_values = out[:, :channels], out[:, channels:]
    if prediction == "v":
        target = v_target(x0, noise, _at(tables.alphas_cumprod, t, x0.dim()))
    else:
        target = noise
    mse = ((target - predicted) ** 2).mean(dim=tuple(range(1, x0.dim())))
    eps = eps_prediction(predicted.detach(), x_t, t, tables, kind=prediction)
    vlb = vlb_bits_per_dim(eps, var_values, x0, x_t, t, tables)
    loss = (mse + vlb_weight * tables.timesteps * vlb).mean()
    return loss, {"mse": mse.mean().detach(), "vlb": vlb.mean().detach()}
