"""Model manifests (``models/*.toml``): parsing and validation into frozen dataclasses.

A manifest names a model, its diffusion schedule, its networks (``[prior]``, ``[restorer]``:
architecture, weight file, constructor arguments) and the weight files with where to download
them (``[[files]]``). The format is described in ``docs/architecture.md``; every problem raises
:class:`~faceapp.core.errors.ManifestError` naming the file and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from faceapp.core.errors import ManifestError, ModelError
from faceapp.core.schedule import MAX_START_TIMESTEP
from faceapp.core.templates import face_template

SCHEMA = 1
ROLES = ("prior", "restorer")

_MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_URL_SCHEMES = ("https://", "http://", "file://")


@dataclass(frozen=True)
class ModelFile:
    """One weight file of a model and where to get it."""

    name: str
    url: str  # "" = no download address: the file must be imported
    size: int  # bytes, 0 = unknown
    sha256: str  # lower-case hex, "" = unknown: verification is structural


@dataclass(frozen=True)
class NetworkSpec:
    """A network of a model: architecture name, weight file and constructor arguments."""

    arch: str
    file: str | None  # None for an architecture without weights (``identity``)
    config: Mapping[str, Any] = field(hash=False)


@dataclass(frozen=True)
class DiffusionSpec:
    """The prior's linear β schedule."""

    timesteps: int
    beta_start: float
    beta_end: float


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


_REQUIRED = object()


class _Table:
    """Typed access to one TOML table; every error names the manifest file and the field."""

    def __init__(self, source: Path, data: Mapping[str, Any], prefix: str = "") -> None:
        self.source, self.data, self.prefix = source, data, prefix

    def error(self, key: str, problem: str) -> ManifestError:
        return ManifestError(f"Model manifest {self.source}: field '{self.prefix}{key}' {problem}.")

    def get(self, key: str, kind: type, default: Any = _REQUIRED) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                raise self.error(key, "is missing")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            expected = {str: "text", int: "an integer", float: "a number", bool: "true or false",
                        dict: "a table", list: "an array"}[kind]
            raise self.error(key, f"must be {expected}, not {value!r}")
        return value

    def table(self, key: str, *, required: bool = True) -> _Table | None:
        value = self.get(key, dict, _REQUIRED if required else None)
        return None if value is None else _Table(self.source, value, f"{self.prefix}{key}.")

    def reject_unknown(self, known: Iterable[str]) -> None:
        for key in self.data:
            if key not in known:
                raise self.error(key, "is not a known field (a typo?)")


def load_manifest(path: Path) -> ModelManifest:
    """Parse and validate one manifest file.

    Raises:
        ManifestError: unreadable TOML, a missing or malformed field; the message names both the
            file and the field.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"Model manifest {path} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise ManifestError(f"Cannot read model manifest {path}: {exc.strerror or exc}.") from None
    top = _Table(path, data)
    top.reject_unknown(
        ("schema", "name", "title", "description", "licence", "homepage", "face_size",
         "face_template", "default_steps", "default", "diffusion", "prior", "restorer", "files")
    )
    schema = top.get("schema", int)
    if schema != SCHEMA:
        raise top.error("schema", f"is {schema}; this version of faceapp reads schema {SCHEMA}")
    name = top.get("name", str)
    if not _MODEL_NAME.fullmatch(name):
        raise top.error("name", "must be lower-case letters, digits, '.', '_' or '-'")
    face_size = _positive(top, "face_size")
    template = top.get("face_template", str)
    try:
        face_template(template, face_size)
    except ValueError as exc:
        raise top.error("face_template", str(exc)) from None
    files = _parse_files(top)
    file_names = {f.name for f in files}
    prior_table, restorer_table = top.table("prior", required=False), top.table("restorer")
    return ModelManifest(
        name=name,
        title=top.get("title", str),
        description=top.get("description", str, "").strip(),
        licence=top.get("licence", str, ""),
        homepage=top.get("homepage", str, ""),
        face_size=face_size,
        face_template=template,
        default_steps=_positive(top, "default_steps"),
        diffusion=_parse_diffusion(top.table("diffusion")),
        prior=_parse_network(prior_table, file_names) if prior_table else None,
        restorer=_parse_network(restorer_table, file_names),
        files=files,
        is_default=top.get("default", bool, False),
        source=path,
    )


def _positive(table: _Table, key: str) -> int:
    value = table.get(key, int)
    if value <= 0:
        raise table.error(key, f"must be positive, not {value}")
    return value


def _parse_diffusion(table: _Table) -> DiffusionSpec:
    table.reject_unknown(("timesteps", "beta_start", "beta_end"))
    spec = DiffusionSpec(
        timesteps=_positive(table, "timesteps"),
        beta_start=table.get("beta_start", float),
        beta_end=table.get("beta_end", float),
    )
    if not 0.0 < spec.beta_start <= spec.beta_end < 1.0:
        raise table.error("beta_end", "must satisfy 0 < beta_start <= beta_end < 1")
    if spec.timesteps <= MAX_START_TIMESTEP:
        # the fidelity slider reaches timestep MAX_START_TIMESTEP (see faceapp.core.schedule)
        raise table.error("timesteps", f"must be more than {MAX_START_TIMESTEP}")
    return spec


def _parse_network(table: _Table, file_names: set[str]) -> NetworkSpec:
    table.reject_unknown(("arch", "file", "config"))
    arch = table.get("arch", str)
    if not arch:
        raise table.error("arch", "is empty")
    file = table.get("file", str, None)
    if file is not None and file not in file_names:
        raise table.error("file", f"names {file!r}, which is not listed in [[files]]")
    config = MappingProxyType(dict(table.get("config", dict, {})))
    return NetworkSpec(arch=arch, file=file, config=config)


def _parse_files(top: _Table) -> tuple[ModelFile, ...]:
    entries = top.get("files", list, [])
    files: list[ModelFile] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise top.error(f"files[{index}]", "must be a table ([[files]])")
        table = _Table(top.source, entry, f"files[{index}].")
        table.reject_unknown(("name", "url", "size", "sha256"))
        name = table.get("name", str)
        if not _FILE_NAME.fullmatch(name) or name.endswith(".part"):
            raise table.error("name", f"must be a plain file name, not {name!r}")
        if any(f.name == name for f in files):
            raise table.error("name", f"repeats {name!r}")
        url = table.get("url", str, "")
        if url and not url.startswith(_URL_SCHEMES):
            raise table.error("url", f"must start with one of {', '.join(_URL_SCHEMES)}")
        size = table.get("size", int, 0)
        if size < 0:
            raise table.error("size", "must be 0 (unknown) or a byte count")
        sha256 = table.get("sha256", str, "").lower()
        if sha256 and not _SHA256.fullmatch(sha256):
            raise table.error("sha256", "must be 64 hexadecimal digits or \"\" (unknown)")
        files.append(ModelFile(name=name, url=url, size=size, sha256=sha256))
    return tuple(files)
