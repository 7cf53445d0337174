"""Persist the app's preferences with QSettings; the preferences themselves are frozen values.

The store keeps an INI file in the user data folder (so ``FACEAPP_HOME`` isolates it, like every
other per-user file). Unknown or invalid stored values fall back to the defaults.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from faceapp import paths
from faceapp.core.settings import SamplerSettings

log = logging.getLogger(__name__)

DEVICES = ("auto", "cuda", "mps", "cpu")
UPSCALES = (1, 2, 4)
MAX_RECENT = 10


@dataclass(frozen=True)
class AppPreferences:
    """Everything the user can set in the Settings dialog and on the main window's sliders.

    model: manifest name; "" means the registry's default model.
    output_folder: "" writes next to the original.
    name_pattern: output file stem; ``{stem}`` is the original's stem.
    export_format: "" keeps the original's format; else "png", "jpeg", "webp" or "tiff".
    """

    device: str = "auto"
    model: str = ""
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    seeds_per_face: int = 4
    base_seed: int = 0
    upscale: int = 1
    output_folder: str = ""
    name_pattern: str = "{stem}_restored"
    export_format: str = ""
    quality: int = 95
    auto_start: bool = False

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")
        if self.upscale not in UPSCALES:
            raise ValueError(f"upscale must be one of {UPSCALES}, got {self.upscale}")
        if not 1 <= self.seeds_per_face <= 64:
            raise ValueError(f"seeds per face must be within [1, 64], got {self.seeds_per_face}")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be within [1, 100], got {self.quality}")
        if "{stem}" not in self.name_pattern:
            raise ValueError("the name pattern must contain {stem}")


_SCALARS = ("device", "model", "seeds_per_face", "base_seed", "upscale", "output_folder",
            "name_pattern", "export_format", "quality", "auto_start")
_SAMPLER = ("fidelity", "steps", "eta", "schedule", "polish_timestep")


def _coerce(value: object, like: object) -> object:
    if isinstance(like, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    return type(like)(value)


class SettingsStore:
    """Reads and writes :class:`AppPreferences`, window geometry and recent files."""

    def __init__(self, settings: QSettings | None = None) -> None:
        if settings is None:
            folder = paths.user_data_dir()
            folder.mkdir(parents=True, exist_ok=True)
            settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
        self._settings = settings

    def load(self) -> AppPreferences:
        """The stored preferences; each invalid value falls back to its default."""
        defaults = AppPreferences()
        values: dict[str, object] = {}
        for name in _SCALARS:
            stored = self._settings.value(f"prefs/{name}")
            if stored is not None:
                try:
                    values[name] = _coerce(stored, getattr(defaults, name))
                except (TypeError, ValueError):
                    log.warning("ignoring stored setting %s=%r", name, stored)
        sampler: dict[str, object] = {}
        for name in _SAMPLER:
            stored = self._settings.value(f"sampler/{name}")
            if stored is not None:
                try:
                    sampler[name] = _coerce(stored, getattr(defaults.sampler, name))
                except (TypeError, ValueError):
                    log.warning("ignoring stored sampler setting %s=%r", name, stored)
        try:
            values["sampler"] = SamplerSettings(**sampler)  # type: ignore[arg-type]
        except (TypeError, ValueError) as error:
            log.warning("ignoring stored sampler settings: %s", error)
        try:
            return AppPreferences(**values)  # type: ignore[arg-type]
        except (TypeError, ValueError) as error:
            log.warning("stored settings are invalid (%s); using defaults", error)
            return defaults

    def save(self, prefs: AppPreferences) -> None:
        for name in _SCALARS:
            self._settings.setValue(f"prefs/{name}", getattr(prefs, name))
        for name in _SAMPLER:
            self._settings.setValue(f"sampler/{name}", getattr(prefs.sampler, name))
        self._settings.sync()

    def update(self, prefs: AppPreferences, **changes: object) -> AppPreferences:
        """Save and return ``prefs`` with ``changes`` applied (validated by the dataclass)."""
        new = dataclasses.replace(prefs, **changes)  # type: ignore[arg-type]
        self.save(new)
        return new

    # ---- window state and recent files -----------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self._settings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self._settings.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)
        self._settings.setValue("window/state", state)
        self._settings.sync()

    def recent_files(self) -> list[Path]:
        value = self._settings.value("recent/files") or []
        if isinstance(value, str):
            value = [value]
        return [Path(p) for p in value if p]

    def add_recent(self, paths: Iterable[Path]) -> list[Path]:
        """Put ``paths`` at the top of the recent files (the last one first), written once.

        One write for the whole batch: syncing per file stalled the window for seconds when
        hundreds of photos were dropped on it.
        """
        added = list(dict.fromkeys(reversed(list(paths))))
        if not added:
            return self.recent_files()
        fresh = set(added)
        recent = (added + [p for p in self.recent_files() if p not in fresh])[:MAX_RECENT]
        self._settings.setValue("recent/files", [str(p) for p in recent])
        self._settings.sync()
        return recent
