"""Training configs: bundled ones parse and fit the shipped-model size budget; typos are errors."""

from __future__ import annotations

import pytest

from faceapp.core.loading import build_network, count_parameters
from faceapp.training.__main__ import main
from faceapp.training.budget import MAX_TOTAL_MB
from faceapp.training.config import CONFIGS_DIR, ConfigError, load_config, parse_config


@pytest.mark.parametrize("path", sorted(CONFIGS_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_configs_parse_and_build(path):
    cfg = load_config(path)
    net = build_network(cfg.model.arch, cfg.model.config, device="meta")
    assert count_parameters(net) > 0


def test_the_shipped_pair_fits_the_size_budget():
    total = 0
    for name in ("restorer_cpu_deep", "prior_cpu"):  # faceapp-compact's networks
        cfg = load_config(name)
        total += 2 * count_parameters(build_network(cfg.model.arch, cfg.model.config, device="meta"))
    assert total / 1e6 <= MAX_TOTAL_MB


def test_unknown_keys_are_errors():
    text = 'kind = "prior"\n[model]\narch = "iddpm_unet"\n[train]\nbatch_sise = 4\n'
    with pytest.raises(ConfigError, match="batch_sise"):
        parse_config(text)


def test_unknown_config_name_lists_the_bundled_ones(capsys):
    assert main(["train", "no_such_config", "--run-dir", "unused"]) == 1
    assert "prior_compact" in capsys.readouterr().err


def _prior_text(diffusion: str) -> str:
    return f'kind = "prior"\n[model]\narch = "iddpm_unet"\n[diffusion]\n{diffusion}\n'


def test_focus_range_must_stay_below_the_last_timestep():
    with pytest.raises(ConfigError, match="focus_max_timestep < timesteps"):
        parse_config(_prior_text("timesteps = 100\nfocus_max_timestep = 100"))
    parse_config(_prior_text("timesteps = 100\nfocus_max_timestep = 99"))


@pytest.mark.parametrize("key", ["log_every", "sample_every", "checkpoint_every"])
def test_zero_intervals_are_errors(key):
    with pytest.raises(ConfigError, match=key):
        parse_config(f'kind = "prior"\n[model]\narch = "iddpm_unet"\n[train]\n{key} = 0\n')


def test_arrays_become_tuples_like_their_defaults():
    text = ('kind = "restorer"\n[model]\narch = "swinir"\n'
            '[degradation]\nblur_sigma = [1.0, 2.0]\n[train]\nbetas = [0.8, 0.9]\n')
    cfg = parse_config(text)
    assert cfg.degradation.blur_sigma == (1.0, 2.0) and cfg.train.betas == (0.8, 0.9)


@pytest.mark.parametrize("line, field", [
    ('lr = "fast"', "train.lr"),
    ('batch_size = "8"', "train.batch_size"),
    ("batch_size = 2.5", "train.batch_size"),
    ("bf16 = 1", "train.bf16"),
    ("ema_decay = 1.0", "train.ema_decay"),
    ("betas = [0.9]", "train.betas[1]"),  # two numbers are needed
])
def test_values_of_the_wrong_type_or_range_name_the_file_and_field(tmp_path, line, field):
    path = tmp_path / "mine.toml"
    path.write_text(f'kind = "prior"\n[model]\narch = "iddpm_unet"\n[train]\n{line}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and f"'{field}'" in str(caught.value)


def test_kind_and_model_are_required():
    with pytest.raises(ConfigError, match="'kind' is missing"):
        parse_config('[model]\narch = "swinir"\n')
    with pytest.raises(ConfigError, match="'kind' must be 'restorer' or 'prior'"):
        parse_config('kind = "unet"\n[model]\narch = "swinir"\n')
    with pytest.raises(ConfigError, match="'model' is missing"):
        parse_config('kind = "prior"\n')
    cfg = parse_config('kind = "prior"\n[model]\narch = "iddpm_unet"\n[train]\nlr = 1\n', where="dir/run.toml")
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float) and cfg.name == "run"
