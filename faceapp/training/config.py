"""Training configurations: TOML files read into frozen, typed dataclasses (pydantic).

A configuration file describes one model to train (``kind = "restorer"`` or ``"prior"``): its
network (``[model]``, built by ``arch`` name like the app builds it), the data, the degradation
(restorer only), the diffusion schedule (prior only) and the optimisation. Every value is checked
against its type and range, and unknown keys are errors, so a typo never silently falls back to a
default; a :class:`ConfigError` names the file and the field (``train.batch_size``).
"""

from __future__ import annotations

import tomllib
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic.dataclasses import dataclass

from faceapp.core.errors import FaceappError
from faceapp.core.schema import validate_document

CONFIGS_DIR = Path(__file__).resolve().parent / "configs"

ModelKind = Literal["restorer", "prior"]
_SCHEMA = {"extra": "forbid"}
Count = Annotated[int, Field(ge=1)]
NonNegative = Annotated[float, Field(ge=0.0)]


class ConfigError(FaceappError):
    """A training configuration file is missing, malformed or inconsistent."""


@dataclass(frozen=True, config=_SCHEMA)
class ModelConfig:
    arch: Annotated[str, Field(min_length=1)]
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, config=_SCHEMA)
class DataConfig:
    """Where the aligned faces are and how a training sample is cut from one."""

    root: str = "../shared/datasets/aaf256"
    split: str = "train"
    crop: Annotated[int, Field(ge=8, le=256)] = 256  # random square crop side (smoke runs use small crops); 256 = whole face
    hflip: bool = True
    limit: Annotated[int, Field(ge=0)] = 0  # use only the first N faces of the split (0 = all)
    num_workers: Annotated[int, Field(ge=0)] = 0


@dataclass(frozen=True, config=_SCHEMA)
class DegradationConfig:
    """Ranges of the DifFace/GFPGAN synthetic degradation (difface-algorithm.md §9)."""

    kernel_size: Count = 41
    blur_sigma: tuple[NonNegative, NonNegative] = (0.1, 15.0)
    isotropic_prob: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    downscale: tuple[Annotated[float, Field(ge=1e-3)], Annotated[float, Field(ge=1e-3)]] = (0.8, 32.0)
    downscale_log_uniform: bool = True
    noise_sigma: tuple[NonNegative, NonNegative] = (0.0, 20.0)  # in 8-bit levels
    jpeg_quality: tuple[Annotated[int, Field(ge=1, le=100)], Annotated[int, Field(ge=1, le=100)]] = (30, 100)

    @field_validator("kernel_size")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("must be odd")
        return value


@dataclass(frozen=True, config=_SCHEMA)
class DiffusionConfig:
    """Linear β schedule and the training-time timestep distribution and loss weights."""

    timesteps: Count = 1000
    beta_start: Annotated[float, Field(gt=0.0, lt=1.0)] = 1e-4
    beta_end: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.02
    focus_max_timestep: Count = 500  # timesteps ≤ this are drawn with probability focus_prob …
    focus_prob: Annotated[float, Field(ge=0.0, le=1.0)] = 0.8  # … the rest uniformly over all timesteps
    vlb_weight: NonNegative = 0.001  # λ of the hybrid loss (Nichol & Dhariwal 2021)
    prediction: Literal["eps", "v"] = "eps"  # what the prior predicts (faceapp.core.sampling.PREDICTIONS)


@dataclass(frozen=True, config=_SCHEMA)
class TrainConfig:
    seed: Annotated[int, Field(ge=0)] = 0
    batch_size: Count = 8
    lr: Annotated[float, Field(gt=0.0)] = 2e-4
    weight_decay: NonNegative = 0.0
    betas: tuple[Annotated[float, Field(ge=0.0, lt=1.0)], Annotated[float, Field(ge=0.0, lt=1.0)]] = (0.9, 0.999)
    warmup_steps: Annotated[int, Field(ge=0)] = 100
    # step decay: once each of these step counts is done, the learning rate is multiplied by lr_gamma once more
    # (MultiStepLR; a function of the step alone, so a resumed run follows it exactly)
    lr_milestones: tuple[Count, ...] = ()
    lr_gamma: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    max_steps: Count = 1000
    grad_clip: NonNegative = 1.0
    ema_decay: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.999
    log_every: Count = 10
    sample_every: Count = 500
    checkpoint_every: Count = 500
    bf16: bool = True  # bf16 autocast on CUDA and on CPUs where bf16 measures faster (fp32 elsewhere)
    compile: bool = False  # torch.compile the network for the training step (pays for the CPU restorer)
    # torch.compile the prior's hybrid loss: its elementwise maths on full-size tensors (q-posterior,
    # KL, discretized likelihood) fuse into a few loops, 3× faster than eager on the CPU prior
    compile_loss: bool = False
    # the restorer's pixel loss: l1 (the reference's), or mse, whose optimum is the posterior mean that PSNR rewards
    restorer_loss: Literal["l1", "mse"] = "l1"


@dataclass(frozen=True, config=_SCHEMA)
class TrainingConfig:
    kind: ModelKind
    model: ModelConfig
    name: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    degradation: DegradationConfig = field(default_factory=DegradationConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    source: str = ""  # the TOML text it was read from (kept in checkpoints and model cards)


def parse_config(text: str, *, where: str = "<config>") -> TrainingConfig:
    """Parse the TOML text of a training configuration."""
    import dataclasses

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    if "source" in doc:
        raise ConfigError(f"{where}: field 'source' is not a known field (a typo?).")
    cfg = validate_document(TrainingConfig, doc, where=where, error=ConfigError)
    d = cfg.diffusion
    if not d.focus_max_timestep < d.timesteps:
        # timesteps run 0 … timesteps − 1, and the focus range includes focus_max_timestep itself
        raise ConfigError(f"{where}: field 'diffusion.focus_max_timestep' must be below timesteps "
                          "(need 0 < focus_max_timestep < timesteps)")
    return dataclasses.replace(cfg, name=cfg.name or Path(where).stem, source=text)


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
