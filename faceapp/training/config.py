"""Training configurations: TOML files read into frozen dataclasses.

A configuration file describes one model to train (``kind = "restorer"`` or ``"prior"``): its
network (``[model]``, built by ``arch`` name like the app builds it), the data, the degradation
(restorer only), the diffusion schedule (prior only) and the optimisation. Unknown keys are
errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from faceapp.core.errors import FaceappError

CONFIGS_DIR = Path(__file__).resolve().parent / "configs"

ModelKind = Literal["restorer", "prior"]


class ConfigError(FaceappError):
    """A training configuration file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class ModelConfig:
    arch: str
    config: dict[str, Any]


@dataclass(frozen=True)
class DataConfig:
    """Where the aligned faces are and how a training sample is cut from one."""

    root: str = "../shared/datasets/aaf256"
    split: str = "train"
    crop: int = 256  # random square crop side (smoke runs use small crops); 256 = whole face
    hflip: bool = True
    limit: int = 0  # use only the first N faces of the split (0 = all)
    num_workers: int = 0


@dataclass(frozen=True)
class DegradationConfig:
    """Ranges of the DifFace/GFPGAN synthetic degradation (difface-algorithm.md §9)."""

    kernel_size: int = 41
    blur_sigma: tuple[float, float] = (0.1, 15.0)
    isotropic_prob: float = 0.5
    downscale: tuple[float, float] = (0.8, 32.0)
    downscale_log_uniform: bool = True
    noise_sigma: tuple[float, float] = (0.0, 20.0)  # in 8-bit levels
    jpeg_quality: tuple[int, int] = (30, 100)


@dataclass(frozen=True)
class DiffusionConfig:
    """Linear β schedule and the training-time timestep distribution and loss weights."""

    timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    focus_max_timestep: int = 500  # timesteps ≤ this are drawn with probability focus_prob …
    focus_prob: float = 0.8  # … the rest uniformly over all timesteps
    vlb_weight: float = 0.001  # λ of the hybrid loss (Nichol & Dhariwal 2021)


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    batch_size: int = 8
    lr: float = 2e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 100
    max_steps: int = 1000
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    log_every: int = 10
    sample_every: int = 500
    checkpoint_every: int = 500
    bf16: bool = True  # autocast to bfloat16 on CUDA (ignored on CPU)


@dataclass(frozen=True)
class TrainingConfig:
    kind: ModelKind
    name: str
    model: ModelConfig
    data: DataConfig = field(default_factory=DataConfig)
    degradation: DegradationConfig = field(default_factory=DegradationConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    source: str = ""  # the TOML text it was read from (kept in checkpoints and model cards)


def _section(cls, table: dict[str, Any], where: str):
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(known)})")
    # TOML arrays arrive as lists: make them tuples where the field's default is one
    return cls(**{key: tuple(value) if isinstance(known[key].default, tuple) else value
                  for key, value in table.items()})


def parse_config(text: str, *, where: str = "<config>") -> TrainingConfig:
    """Parse the TOML text of a training configuration."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    allowed = {"kind", "name", "model", "data", "degradation", "diffusion", "train"}
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown table(s) or key(s) {', '.join(unknown)}")
    kind = doc.get("kind")
    if kind not in ("restorer", "prior"):
        raise ConfigError(f"{where}: kind must be \"restorer\" or \"prior\", got {kind!r}")
    model = doc.get("model")
    if not isinstance(model, dict) or "arch" not in model:
        raise ConfigError(f"{where}: a [model] table with arch = \"…\" and [model.config] is required")
    cfg = TrainingConfig(
        kind=kind,
        name=str(doc.get("name", Path(where).stem)),
        model=ModelConfig(arch=str(model["arch"]), config=dict(model.get("config", {}))),
        data=_section(DataConfig, doc.get("data", {}), f"{where} [data]"),
        degradation=_section(DegradationConfig, doc.get("degradation", {}), f"{where} [degradation]"),
        diffusion=_section(DiffusionConfig, doc.get("diffusion", {}), f"{where} [diffusion]"),
        train=_section(TrainConfig, doc.get("train", {}), f"{where} [train]"),
        source=text,
    )
    _validate(cfg, where)
    return cfg


def _validate(cfg: TrainingConfig, where: str) -> None:
    t = cfg.train
    counts = ("batch_size", "max_steps", "log_every", "sample_every", "checkpoint_every")
    small = [name for name in counts if getattr(t, name) < 1]
    if small:
        raise ConfigError(f"{where}: [train] {', '.join(small)} must be ≥ 1")
    if not 0.0 <= t.ema_decay < 1.0:
        raise ConfigError(f"{where}: ema_decay must be within [0, 1)")
    if cfg.data.crop < 8 or cfg.data.crop > 256:
        raise ConfigError(f"{where}: data.crop must be within [8, 256]")
    d = cfg.diffusion
    if not 0 < d.focus_max_timestep < d.timesteps or not 0.0 <= d.focus_prob <= 1.0:
        # timesteps run 0 … timesteps − 1, and the focus range includes focus_max_timestep itself
        raise ConfigError(f"{where}: need 0 < focus_max_timestep < timesteps and 0 ≤ focus_prob ≤ 1")
    if cfg.degradation.kernel_size % 2 == 0:
        raise ConfigError(f"{where}: degradation.kernel_size must be odd")


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A config given as a path, or as the name of a file in ``faceapp/training/configs/``."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = CONFIGS_DIR / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    if bundled.is_file():
        return bundled
    known = ", ".join(sorted(p.stem for p in CONFIGS_DIR.glob("*.toml")))
    raise ConfigError(f"no training config {str(name_or_path)!r} (a file path, or one of: {known})")


def load_config(name_or_path: str | Path) -> TrainingConfig:
    """Read a training configuration from a TOML file (or a bundled config's name)."""
    path = resolve_config_path(name_or_path)
    return parse_config(path.read_text(encoding="utf-8"), where=str(path))
