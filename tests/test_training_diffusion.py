"""The hybrid loss of improved DDPM: its formulas, and that L_vlb trains only the variance."""

from __future__ import annotations

import numpy as np
import torch

from faceapp.core import schedule
from faceapp.training import diffusion
from faceapp.training.config import DiffusionConfig


def tables():
    return diffusion.make_tables(DiffusionConfig())


def noised_batch():
    """(tables, x0, ε, t, x_t) for four 8×8 images at t = 50, 200, 400, 700."""
    t_tab = tables()
    x0 = torch.rand(4, 3, 8, 8) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.tensor([50, 200, 400, 700])
    return t_tab, x0, noise, t, diffusion.q_sample(x0, t, noise, t_tab)


def test_tables_follow_the_shared_schedule():
    t = tables()
    np.testing.assert_allclose(t.alphas_cumprod.numpy(), schedule.alphas_cumprod(schedule.linear_betas()), rtol=1e-12)
    assert abs(float(t.alphas_cumprod[400]) - 0.193572) < 1e-6  # difface-algorithm.md §2


def test_normal_kl_is_zero_for_equal_and_positive_otherwise():
    m, lv = torch.randn(100), torch.randn(100)
    assert torch.allclose(diffusion.normal_kl(m, lv, m, lv), torch.zeros(100), atol=1e-6)
    assert (diffusion.normal_kl(m, lv, m + 0.1, lv) > 0).all()


def test_discretized_likelihood_sums_to_one_over_all_pixel_values():
    x = torch.linspace(-1, 1, 256)  # the 256 possible 8-bit values
    for mean, log_scale in [(0.0, -3.0), (0.7, -1.0), (-0.95, -4.0)]:
        ll = diffusion.discretized_gaussian_log_likelihood(x, mean=torch.full_like(x, mean), log_scale=torch.full_like(x, log_scale))
        assert abs(float(ll.exp().sum()) - 1.0) < 1e-4


def test_vlb_term_trains_only_the_variance_channels():
    t_tab = tables()
    x0 = torch.rand(2, 3, 8, 8) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.tensor([0, 300])
    x_t = diffusion.q_sample(x0, t, noise, t_tab)
    out = torch.randn(2, 6, 8, 8, requires_grad=True)
    loss, parts = diffusion.hybrid_loss(out, x0, x_t, t, noise, t_tab, vlb_weight=0.001)
    loss.backward()
    grad_eps_total = out.grad[:, :3].clone()
    out.grad = None
    mse = ((noise - out[:, :3]) ** 2).mean()
    mse.backward()
    # the ε channels get exactly the MSE gradient: the variational term does not reach them
    assert torch.allclose(grad_eps_total, out.grad[:, :3], atol=1e-7)
    assert float(parts["vlb"]) > 0


def test_perfect_prediction_minimises_the_loss():
    t_tab, x0, noise, t, x_t = noised_batch()
    good = torch.cat([noise, torch.zeros_like(noise)], dim=1)  # exact ε, mid-range variance
    bad = torch.cat([noise + 0.3 * torch.randn_like(noise), torch.zeros_like(noise)], dim=1)
    l_good, p_good = diffusion.hybrid_loss(good, x0, x_t, t, noise, t_tab, vlb_weight=0.001)
    l_bad, _ = diffusion.hybrid_loss(bad, x0, x_t, t, noise, t_tab, vlb_weight=0.001)
    assert float(p_good["mse"]) == 0.0 and float(l_good) < float(l_bad)


def test_timesteps_concentrate_on_the_sampler_range():
    cfg = DiffusionConfig(focus_max_timestep=500, focus_prob=0.8)
    t = diffusion.sample_timesteps(20000, cfg, generator=torch.Generator().manual_seed(0))
    assert int(t.min()) >= 0 and int(t.max()) <= 999
    share = float((t <= 500).float().mean())
    assert abs(share - (0.8 + 0.2 * 501 / 1000)) < 0.02


def test_largest_allowed_focus_range_draws_only_existing_timesteps():
    from faceapp.training.config import parse_config

    text = 'kind = "prior"\n[model]\narch = "iddpm_unet"\n[diffusion]\ntimesteps = 10\nfocus_max_timestep = 9\n'
    cfg = parse_config(text).diffusion
    t = diffusion.sample_timesteps(5000, cfg, generator=torch.Generator().manual_seed(0))
    assert int(t.max()) == cfg.timesteps - 1  # the last timestep is reached, never one past it
    diffusion.make_tables(cfg).betas[t]  # indexing the tables with every draw succeeds


def test_v_and_eps_convert_exactly_into_each_other():
    from faceapp.core.sampling import eps_from_v, v_target

    t_tab = tables()
    x0 = torch.rand(4, 3, 8, 8, dtype=torch.float64) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.tensor([0, 50, 400, 999])
    x_t = diffusion.q_sample(x0, t, noise, t_tab).double()
    abar = t_tab.alphas_cumprod[t].reshape(-1, 1, 1, 1)
    assert torch.allclose(eps_from_v(v_target(x0, noise, abar), x_t, abar), noise, atol=1e-10)


def test_the_v_loss_is_zero_only_for_the_true_v_and_its_vlb_sees_the_converted_eps():
    from faceapp.core.sampling import v_target

    t_tab, x0, noise, t, x_t = noised_batch()
    v = v_target(x0, noise, t_tab.alphas_cumprod[t].float().reshape(-1, 1, 1, 1))
    variance = torch.zeros_like(noise)
    _, exact = diffusion.hybrid_loss(torch.cat([v, variance], 1), x0, x_t, t, noise, t_tab, vlb_weight=0.001, prediction="v")
    _, as_eps = diffusion.hybrid_loss(torch.cat([noise, variance], 1), x0, x_t, t, noise, t_tab, vlb_weight=0.001, prediction="v")
    _, eps_model = diffusion.hybrid_loss(torch.cat([noise, variance], 1), x0, x_t, t, noise, t_tab, vlb_weight=0.001)
    assert float(exact["mse"]) < 1e-10 and float(as_eps["mse"]) > 0.1  # ε is not v
    assert abs(float(exact["vlb"]) - float(eps_model["vlb"])) < 1e-4  # the same mean: the exact ε either way


def test_an_untrained_v_prior_already_predicts_the_noise_where_it_dominates():
    """A v-network that outputs 0 gives ε = √(1−ᾱ)·x_t: at t = 900 that is the noise itself within
    a few percent, which an ε-network on unshuffled faces had to learn first (and had not, after
    4,000 samples: ε-MSE 0.46 at t = 900)."""
    from faceapp.core.engine import FaceEngine

    class Silent(torch.nn.Module):
        def forward(self, x, t):
            return torch.zeros(x.shape[0], 6, *x.shape[2:])

    engine = FaceEngine.from_networks(torch.nn.Identity(), Silent(), face_size=16, prediction="v")
    x0 = torch.rand(2, 3, 16, 16) * 2 - 1
    noise = torch.randn_like(x0)
    abar = float(engine.alphas_cumprod[900])
    x_t = abar**0.5 * x0 + (1 - abar) ** 0.5 * noise
    eps = engine.predict_eps(x_t, torch.tensor([900, 900]))
    assert float(((eps - noise) ** 2).mean()) < 0.01
    eps_engine = FaceEngine.from_networks(torch.nn.Identity(), Silent(), face_size=16)  # "eps": taken as it is
    assert float(eps_engine.predict_eps(x_t, torch.tensor([900, 900])).abs().max()) == 0.0


def test_the_vlb_of_each_row_is_the_decoder_nll_at_t0_and_the_posterior_kl_elsewhere():
    t_tab = tables()
    torch.manual_seed(3)
    x0 = torch.rand(4, 3, 8, 8) * 2 - 1
    t = torch.tensor([0, 300, 0, 20])
    x_t = diffusion.q_sample(x0, t, torch.randn_like(x0), t_tab)
    eps, var_values = torch.randn_like(x0), torch.rand_like(x0) * 2 - 1
    vlb = diffusion.vlb_bits_per_dim(eps, var_values, x0, x_t, t, t_tab)

    def at(table):
        return table[t].view(-1, 1, 1, 1)

    mean = at(t_tab.posterior_mean_coef1) * diffusion.predict_x0(x_t, t, eps, t_tab) + at(t_tab.posterior_mean_coef2) * x_t
    log_var = diffusion.model_log_variance(var_values, t, t_tab)
    true_mean = at(t_tab.posterior_mean_coef1) * x0 + at(t_tab.posterior_mean_coef2) * x_t
    kl = diffusion.normal_kl(true_mean, at(t_tab.posterior_log_variance_clipped), mean, log_var).mean(dim=(1, 2, 3))
    nll = -diffusion.discretized_gaussian_log_likelihood(x0, mean=mean, log_scale=0.5 * log_var).mean(dim=(1, 2, 3))
    expected = torch.where(t == 0, nll, kl) / np.log(2.0)
    torch.testing.assert_close(vlb, expected.float(), rtol=1e-4, atol=1e-5)
    assert not torch.allclose(nll, kl)  # the two terms differ, so a row scored with the wrong one fails
