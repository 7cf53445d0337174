"""Model manifests (``models/*.toml``): checked against a typed schema (pydantic) into frozen dataclasses.

A manifest names a model, its diffusion schedule, its networks (``[prior]``, ``[restorer]``:
architecture, weight file, constructor arguments) and the weight files with where to download
them (``[[files]]``). The format is described in ``docs/architecture.md``; every problem raises
:class:`~faceapp.core.errors.ManifestError` naming the file and the field.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import pydantic
from pydantic import Field, field_validator

from faceapp.core.errors import ManifestError, ModelError
from faceapp.core.schedule import MAX_START_TIMESTEP
from faceapp.core.schema import validate_document
from faceapp.core.settings import DEFAULT_FIDELITY, MAX_TONES_SIGMA
from faceapp.core.sparing import SharpFaceSparing
from faceapp.core.templates import face_template

SCHEMA = 1
ROLES = ("prior", "restorer")
_MODEL_NAME = r"^[a-z0-9][a-z0-9._-]*$"
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_URL_SCHEMES = ("https://", "http://", "file://")
_TOML = {"extra": "forbid"}
#: Bounds on a manifest's sizes, far beyond any real model's (official: 512 px faces, 1000 timesteps,
#: 8 steps), so that a manifest from a stranger cannot make a restore take all the memory (security
#: QA: timesteps = 10⁹ built arrays of 7.5 GB each, and the restore was killed).
MAX_FACE_SIZE = 2048
#: The largest manifest read (the shipped ones are about 2 KB): a larger file is no manifest.
MAX_MANIFEST_BYTES = 1 << 20
MAX_TIMESTEPS = 100_000
MAX_DEFAULT_STEPS = 1000  # (as many as a sampler takes: faceapp.core.settings)


@pydantic.dataclasses.dataclass(frozen=True, config=_TOML)
class ModelFile:
    """One weight file of a model and where to get it."""

    name: str
    url: str = ""  # "" = no download address: the file must be imported
    size: Annotated[int, Field(ge=0)] = 0  # bytes, 0 = unknown
    approx_size: Annotated[int, Field(ge=0)] = 0  # bytes, roughly, for people where ``size`` is unknown (0: not given)
    sha256: str = ""  # lower-case hex, "" = unknown: verification is structural

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _FILE_NAME.fullmatch(value) or value.endswith(".part"):
            raise ValueError(f"must be a plain file name, not {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(_URL_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(_URL_SCHEMES)}")
        return value

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        value = value.lower()
        if value and not _SHA256.fullmatch(value):
            raise ValueError('must be 64 hexadecimal digits or "" (unknown)')
        return value


@pydantic.dataclasses.dataclass(frozen=True, config=_TOML)
class NetworkSpec:
    """A network of a model: architecture name, weight file and constructor arguments."""

    arch: Annotated[str, Field(min_length=1)]
    file: str | None = None  # None for an architecture without weights (``identity``)
    config: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @field_validator("config")
    @classmethod
    def _read_only(cls, value: Mapping[str, Any]) -> Mapping[str, Any]:
        return MappingProxyType(dict(value))


@pydantic.dataclasses.dataclass(frozen=True, config=_TOML)
class DiffusionSpec:
    """The prior's linear β schedule, and what the prior predicts under it."""

    timesteps: Annotated[int, Field(gt=0, le=MAX_TIMESTEPS)]
    beta_start: float
    beta_end: float
    prediction: Literal["eps", "v"] = "eps"  # what the prior predicts (faceapp.core.sampling.PREDICTIONS)

    @field_validator("timesteps")
    @classmethod
    def _covers_the_slider(cls, value: int) -> int:
        if value <= MAX_START_TIMESTEP:  # the fidelity slider reaches this timestep (faceapp.core.schedule)
            raise ValueError(f"must be more than {MAX_START_TIMESTEP}")
        return value


GreyLevels = Annotated[float, Field(ge=0.0, le=255.0)]


@pydantic.dataclasses.dataclass(frozen=True, config=_TOML)
class SharpFacesSpec:
    """``[sharp_faces]``: the sparing ramp of this model's restorer (:mod:`faceapp.core.sparing`),
    in grey levels of restorer change: at most ``untouched_below``, a face keeps the restorer's
    estimate; at least ``full_above``, it gets the fidelity asked for."""

    untouched_below: GreyLevels
    full_above: GreyLevels


Fidelity = Annotated[float, Field(ge=0.0, le=1.0)]
FacePixels = Annotated[float, Field(gt=0.0, le=MAX_TONES_SIGMA)]


@pydantic.dataclasses.dataclass(frozen=True, config=_TOML)
class RestorerTonesSpec:
    """``[restorer_tones]``: a sampled face keeps its restorer's estimate below a Gaussian blur of
    ``sigma`` face pixels, taking only finer detail from the prior (:mod:`faceapp.core.tones`)."""

    sigma: FacePixels


@pydantic.dataclasses.dataclass(frozen=True, config=_TOML)
class FidelityRange:
    """``[fidelity_range]``: how far towards "realistic" this model's evaluation found it restores
    well. ``works_down_to``: the lowest fidelity it works at; ``below``: what its faces show
    lower down (said to the user who goes there: a clause, e.g. "skin turns blotchy")."""

    works_down_to: Fidelity
    below: str = ""

    def caution(self, fidelity: float | None, model: str, *, spares: bool = False) -> str | None:
        """What to tell a user restoring with ``model`` at ``fidelity`` (None: the model's own),
        in sentences, when that is below where it works; None within its range. ``spares``: sharp
        faces are spared (the model has a ramp and sparing is on), which it then says too (workflow
        QA: it read as if every face went to that fidelity, while most were kept as the restorer made them)."""
        if fidelity is None or fidelity >= self.works_down_to - 1e-6:
            return None
        text = (f"Fidelity {fidelity:.2f} is below {self.works_down_to:.2f}, the lowest at which the evaluation of "
                f"{model} found it restores well")
        text += f": {self.below}." if self.below else "."
        return text + (" Faces the restorer barely changes are spared: they stay nearer its result." if spares else "")


@pydantic.dataclasses.dataclass(frozen=True, config=_TOML)
class _ManifestDocument:
    """A ``models/*.toml`` file as written (the schema the file is checked against)."""

    schema: int
    name: Annotated[str, Field(pattern=_MODEL_NAME)]
    title: str
    face_size: Annotated[int, Field(ge=16, le=MAX_FACE_SIZE)]
    face_template: str
    default_steps: Annotated[int, Field(gt=0, le=MAX_DEFAULT_STEPS)]
    diffusion: DiffusionSpec
    restorer: NetworkSpec
    prior: NetworkSpec | None = None
    default_fidelity: Fidelity = DEFAULT_FIDELITY
    description: str = ""
    licence: str = ""
    homepage: str = ""
    default: bool = False
    files: tuple[ModelFile, ...] = ()
    sharp_faces: SharpFacesSpec | None = None
    fidelity_range: FidelityRange | None = None
    restorer_tones: RestorerTonesSpec | None = None

    @field_validator("schema")
    @classmethod
    def _readable(cls, value: int) -> int:
        if value != SCHEMA:
            raise ValueError(f"is {value}; this version of faceapp reads schema {SCHEMA}")
        return value


@dataclass(frozen=True)
class ModelManifest:
    """A parsed ``models/*.toml`` file."""

    name: str
    title: str
    description: str
    licence: str
    homepage: str
    face_size: int
    face_template: str
    default_steps: int
    diffusion: DiffusionSpec
    prior: NetworkSpec | None
    restorer: NetworkSpec
    files: tuple[ModelFile, ...]
    is_default: bool
    source: Path
    default_fidelity: float = DEFAULT_FIDELITY  # where the model's evaluation says it works best (the slider's start)
    sharp_faces: SharpFaceSparing | None = None  # None: the model spares no face (no ramp measured for it)
    fidelity_range: FidelityRange | None = None  # None: it works over the whole slider
    restorer_tones: float | None = None  # σ in face pixels (faceapp.core.tones); None: sampled as DifFace does

    def file(self, name: str) -> ModelFile:
        """The ``[[files]]`` entry called ``name``."""
        for entry in self.files:
            if entry.name == name:
                return entry
        raise ModelError(f"Model '{self.name}' has no file called {name!r}.")

    def networks(self) -> dict[str, NetworkSpec]:
        """The networks by role (``prior``, ``restorer``), leaving out an absent prior."""
        specs = {"prior": self.prior, "restorer": self.restorer}
        return {role: spec for role, spec in specs.items() if spec is not None}

    def network_for_file(self, name: str) -> NetworkSpec | None:
        """The network whose weights are in file ``name``, if any."""
        return next((s for s in self.networks().values() if s.file == name), None)


def load_manifest(path: Path) -> ModelManifest:
    """Parse and validate one manifest file.

    Raises:
        ManifestError: unreadable TOML, a missing or malformed field; the message names both the
            file and the field.
    """
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # (security QA: a pipe hung every start, /dev/zero took
            raise ManifestError(f"Model manifest {path} is not a regular file (a device, pipe or socket).")  # all memory)
        with open(path, "rb") as handle:
            text = handle.read(MAX_MANIFEST_BYTES + 1)
        if len(text) > MAX_MANIFEST_BYTES:
            raise ManifestError(f"Model manifest {path} is larger than {MAX_MANIFEST_BYTES // 2**20} MB, more than "
                                "any manifest is.")
        data = tomllib.loads(text.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"Model manifest {path} is not valid TOML: {exc}.") from None
    except UnicodeDecodeError:
        raise ManifestError(f"Model manifest {path} is not valid TOML: it is not UTF-8 text.") from None
    except OSError as exc:
        raise ManifestError(f"Cannot read model manifest {path}: {exc.strerror or exc}.") from None
    doc = validate_document(_ManifestDocument, data, where=f"Model manifest {path}", error=ManifestError)
    _check_consistency(doc, path)
    return ModelManifest(
        name=doc.name, title=doc.title, description=doc.description.strip(), licence=doc.licence,
        homepage=doc.homepage, face_size=doc.face_size, face_template=doc.face_template,
        default_steps=doc.default_steps, diffusion=doc.diffusion, prior=doc.prior, restorer=doc.restorer,
        files=doc.files, is_default=doc.default, source=path, default_fidelity=doc.default_fidelity,
        sharp_faces=(SharpFaceSparing(doc.sharp_faces.untouched_below, doc.sharp_faces.full_above)
                     if doc.sharp_faces is not None else None),
        fidelity_range=doc.fidelity_range,
        restorer_tones=doc.restorer_tones.sigma if doc.restorer_tones is not None else None,
    )


def _check_consistency(doc: _ManifestDocument, path: Path) -> None:
    """What no single field can check: template size, β order, file references, repeated files."""

    def error(key: str, problem: str) -> ManifestError:
        return ManifestError(f"Model manifest {path}: field '{key}' {problem}.")

    try:
        face_template(doc.face_template, doc.face_size)
    except ValueError as exc:
        raise error("face_template", str(exc)) from None
    if not 0.0 < doc.diffusion.beta_start <= doc.diffusion.beta_end < 1.0:
        raise error("diffusion.beta_end", "must satisfy 0 < beta_start <= beta_end < 1")
    if doc.sharp_faces is not None and doc.sharp_faces.untouched_below >= doc.sharp_faces.full_above:
        raise error("sharp_faces.full_above", "must be more than sharp_faces.untouched_below")
    if doc.fidelity_range is not None and doc.fidelity_range.works_down_to > doc.default_fidelity:
        raise error("fidelity_range.works_down_to", "must not be above default_fidelity (the default must work)")
    names = [f.name for f in doc.files]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise error(f"files[{index}].name", f"repeats {name!r}")
    for role in ROLES:
        spec = getattr(doc, role)
        if spec is not None and spec.file is not None and spec.file not in names:
            raise error(f"{role}.file", f"names {spec.file!r}, which is not listed in [[files]]")
