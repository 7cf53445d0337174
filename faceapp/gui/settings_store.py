"""Persist the app's preferences with QSettings; the preferences themselves are the core's typed
:class:`~faceapp.core.preferences.Preferences` (this is only the storage adapter).

The store keeps an INI file in the user data folder (so ``FACEAPP_HOME`` isolates it, like every
other per-user file). Stored values are validated by the core's schema; an invalid one falls back to
its default (logged with the field's name). The layout carries a version (``prefs/version``):
older layouts are migrated on load (version 0 kept the sampling fields under ``sampler/`` and
wrote "jpeg" as a format; before version 2 the fidelity was always stored, 0.5 when never moved,
and that 0.5 now means the model's own default fidelity).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QByteArray, QSettings

from faceapp import paths
from faceapp.core.export import file_stamp, name_pattern_problem
from faceapp.core.pathtext import path_text
from faceapp.core.preferences import PREFERENCES_VERSION, Preferences

log = logging.getLogger(__name__)

MAX_RECENT = 10
_FIELDS = tuple(f.name for f in dataclasses.fields(Preferences))
_SAMPLER_V0 = ("fidelity", "steps", "eta", "schedule", "polish_timestep")


def _migrate(values: dict[str, Any], version: int, read) -> dict[str, Any]:
    """Bring the stored values of layout ``version`` up to :data:`PREFERENCES_VERSION`."""
    if version < 1:
        for name in _SAMPLER_V0:
            stored = read(f"sampler/{name}")
            if stored is not None:
                values[name] = stored
        if values.get("export_format") == "jpeg":
            values["export_format"] = "jpg"
    if version < 2 and _is_old_default_fidelity(values.get("fidelity")):
        values["fidelity"] = None  # layouts before 2 always stored 0.5, the default then: the model's own now
    return values


def _layout_version(stored: Any) -> int:
    """The stored layout's version: 0 when none is stored (the first layout had none), the current
    one when it is not a whole number (a hand-edited file; QA: the window did not start)."""
    if stored is None or stored == "":
        return 0
    try:
        return int(str(stored))
    except ValueError:
        log.warning("ignoring stored setting version=%r", stored)
        return PREFERENCES_VERSION


def _is_old_default_fidelity(value: Any) -> bool:
    try:
        return value is not None and float(value) == 0.5
    except (TypeError, ValueError):
        return False


def valid_preferences(values: dict[str, Any]) -> tuple[Preferences, dict[str, Any]]:
    """``Preferences`` from stored values, and the stored values it left out as invalid, by name:
    each invalid value is dropped (its default is used), a name pattern that names no file too
    (QA: a hand-edited one made Save do nothing)."""
    values, dropped = dict(values), {}
    pattern = values.get("name_pattern")
    if pattern is not None and name_pattern_problem(str(pattern)) is not None:  # as the settings dialog checks it
        dropped["name_pattern"] = values.pop("name_pattern")
    while True:
        try:
            prefs = Preferences(**values)
            break
        except ValidationError as error:
            bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            if not bad & values.keys():
                log.warning("stored settings are invalid (%s); using defaults", error)
                dropped.update(values)
                prefs = Preferences()
                break
            for name in sorted(bad & values.keys()):
                dropped[name] = values.pop(name)
    for name, value in dropped.items():
        log.warning("ignoring stored setting %s=%r", name, value)
    return prefs, dropped


def invalid_text(dropped: dict[str, Any]) -> str:
    """The settings left out as invalid, for people: "fidelity 7, steps -3, name pattern {bogus},
    appearance (empty)" (settings QA: an empty one read "appearance ,")."""
    def shown(value: Any) -> str:
        if isinstance(value, str):
            return value if value.strip() else "(empty)"
        return str(value) if isinstance(value, (int, float)) else "(not a setting's value)"
    return ", ".join(f"{name.replace('_', ' ')} {shown(value)}" for name, value in dropped.items())


SETTINGS_NAME = "settings.ini"


def settings_file() -> Path:
    """The window's settings file, in the user config folder; one that an earlier version kept in
    the user data folder is moved there first (it stays where it was if it cannot be moved)."""
    folder = paths.user_config_dir()
    path, earlier = folder / SETTINGS_NAME, paths.user_data_dir() / SETTINGS_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if earlier != path and earlier.is_file() and not path.exists():
            shutil.move(earlier, path)
            log.info("settings moved from %s to %s", earlier, path)
    except OSError as exc:
        log.warning("settings stay in %s: %s", earlier, exc)
        return earlier
    return path


def _nearest_there(path: Path) -> Path:
    """``path``, or the nearest folder above it that is there (where a missing folder would be made)."""
    while not os.path.lexists(path) and path.parent != path:
        path = path.parent
    return path


def _has_qt_text(path: Path) -> bool:
    """Whether ``path`` survives a trip through a Qt string (its name decodes as UTF-8)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class SettingsStore:
    """Reads and writes :class:`Preferences`, window geometry and recent files."""

    def __init__(self, settings: QSettings | None = None) -> None:
        if settings is None:
            settings = QSettings(str(settings_file()), QSettings.Format.IniFormat)
        self._settings = settings
        #: the stored settings the last :meth:`load` found invalid and left at their defaults, by name
        self.invalid_on_load: dict[str, Any] = {}
        self._known: Preferences | None = None  # the preferences last read or written here
        self.from_newer_version = False
        self.was_read = False  # whether the last :meth:`load` found settings stored

    def load(self) -> Preferences:
        """The stored preferences; each invalid value falls back to its default."""
        read = self._settings.value
        version = _layout_version(read("prefs/version"))
        values = {name: read(f"prefs/{name}") for name in _FIELDS}
        values = {name: value for name, value in values.items() if value is not None}
        stored_before = bool(values) or self._settings.childGroups().count("sampler") > 0
        values = _migrate(values, version, read)
        for name in ("steps", "fidelity"):  # stored as "model": the model's own
            if values.get(name) in ("", "model"):
                values[name] = None
        prefs, self.invalid_on_load = valid_preferences(values)
        self.was_read = stored_before  # (a file read, though it cannot be written: its settings are used)
        older_layout = stored_before and version < PREFERENCES_VERSION  # (migrated: written whole)
        self._known = None if older_layout else prefs
        #: the file was written by a newer faceapp (a later layout): what this one cannot read in it is
        #: left as it is, and its layout number kept (settings QA: it was written back as this one's)
        self.from_newer_version = version > PREFERENCES_VERSION
        return prefs

    def refreshed(self, prefs: Preferences) -> Preferences:
        """``prefs`` with what another copy of the window saved since this store last read or wrote
        the file (settings QA: a second window's Settings showed its own stale values, and its Reset
        every field wrote nothing where they equalled them, so the next start used the other's)."""
        known = self._known
        if known is None:  # (not read yet, or a layout migrated: written whole at the next save)
            return prefs
        self._settings.sync()  # (reads the file again where it changed)
        stored = self.load()
        changed = {name: getattr(stored, name) for name in _FIELDS
                   if getattr(stored, name) != getattr(known, name) and name not in self.invalid_on_load}
        return dataclasses.replace(prefs, **changed) if changed else prefs  # type: ignore[arg-type]

    def save(self, prefs: Preferences) -> str | None:
        """Write ``prefs``; returns why the file or its folder cannot be written (None when they were
        written: a file written all the same is not said unwritable, whatever its permissions say).

        Only what differs from the preferences this store last read or wrote is written (with what
        was invalid when read): QSettings merges that into the file as it is now, so a second copy of
        the window open at the same time keeps what the other saved meanwhile (settings QA: a slider
        moved in one undid the seeds and output folder just chosen in the other)."""
        self._settings.remove("sampler")  # the version-0 layout, migrated on load
        newer = self.from_newer_version
        if not newer:
            self._settings.setValue("prefs/version", PREFERENCES_VERSION)
        known = self._known
        for name in _FIELDS:
            value = getattr(prefs, name)
            if known is None or value != getattr(known, name) or (name in self.invalid_on_load and not newer):
                self._settings.setValue(f"prefs/{name}", "model" if value is None else value)
        written_before = file_stamp(self._settings.fileName())
        self._settings.sync()
        self._known = prefs
        problem = self._access_problem()  # (lines that were no settings are written afresh: no problem now)
        if problem is not None and self._settings.status() != QSettings.Status.AccessError \
                and file_stamp(self._settings.fileName()) != written_before:
            return None  # written all the same (a network share's permission bits may say otherwise: review)
        return problem

    def problem(self) -> str | None:
        """Why the settings file could not be read or written (the last time it was), else None:
        QSettings says nothing by itself (QA: changes were lost without a word)."""
        if (problem := self._access_problem()) is not None:
            return problem
        if self.partly_read:
            return (f"{path_text(Path(self._settings.fileName()))} has lines that are not settings (is it damaged?): the settings read "
                    "in it are used, and it is written afresh without those lines as settings change")
        return None

    def _access_problem(self) -> str | None:
        """Why the settings file or its folder cannot be read or written, else None. Looked at
        here too: QSettings says nothing of a folder it cannot look into (settings QA: the defaults,
        unsaid), and after a damaged line it reports that alone, whatever fails later (review)."""
        name = self._settings.fileName()
        if self._settings.status() == QSettings.Status.AccessError or (
                os.path.lexists(name) and not os.access(name, os.R_OK | os.W_OK)):
            return (f"{path_text(Path(name))} cannot be read or written (no permission, a read-only disk, or a folder in "
                    "its place)")
        folder = _nearest_there(Path(name).parent)
        if not os.path.isdir(folder) or not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            return (f"the settings folder {path_text(folder)} cannot be read or written (no permission, a read-only disk, or "
                    "a file in its place)")
        return None

    @property
    def partly_read(self) -> bool:
        """Whether the file had lines that are not settings: those it has are read all the same, and
        a save writes it afresh (settings QA: "the defaults are used", said of a file whose every
        setting was read and used)."""
        return self._settings.status() == QSettings.Status.FormatError

    def update(self, prefs: Preferences, **changes: object) -> Preferences:
        """Save and return ``prefs`` with ``changes`` applied (validated by the schema)."""
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

    def window_size(self) -> tuple[int, int] | None:
        """The window's size when it was saved, in the screen's logical pixels (None if unknown, or
        saved with another geometry than the one stored now: an earlier faceapp, which does not
        write the size, saved the window since; upgrade QA: its position came back with the size
        of before)."""
        size, _, saved_with = str(self._settings.value("window/size") or "").partition(" ")
        geometry = self.geometry()
        if saved_with and (geometry is None or saved_with != _digest(geometry)):
            return None
        try:
            width, height = (int(v) for v in size.split("x"))
        except (TypeError, ValueError):
            return None
        return (width, height) if width > 0 and height > 0 else None

    def splitter_state(self) -> QByteArray | None:
        """How the photo and the side panel shared the window (``QSplitter.saveState``)."""
        value = self._settings.value("window/splitter")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray, size: tuple[int, int] | None = None,
                    splitter: QByteArray | None = None) -> None:
        self._settings.setValue("window/geometry", geometry)
        self._settings.setValue("window/state", state)
        if size is not None:  # (with the geometry it goes with: window_size)
            self._settings.setValue("window/size", f"{size[0]}x{size[1]} {_digest(geometry)}")
        if splitter is not None:  # (a QMainWindow's state does not hold its splitters': settings QA)
            self._settings.setValue("window/splitter", splitter)
        self._settings.sync()

    def export_folder(self) -> Path | None:
        """The folder Export all wrote into last, in this session or an earlier one (None: none
        yet, or not a path): where its folder dialog starts (settings QA: after a restart it
        started elsewhere)."""
        value = self._settings.value("recent/export_folder")
        return Path(value) if isinstance(value, str) and value else None

    def set_export_folder(self, folder: Path) -> None:
        if _has_qt_text(folder):
            self._settings.setValue("recent/export_folder", str(folder))
            self._settings.sync()

    def recent_files(self) -> list[Path]:
        """The recent files, newest first; what is not a path in the stored list is left out (a
        hand-edited file; QA: a byte array there stopped every photo from opening). Read from the
        file as it is now: another faceapp window may have changed it (:meth:`add_recent`)."""
        self._settings.sync()
        value = self._settings.value("recent/files") or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            log.warning("ignoring stored recent files %r", value)
            return []
        return [Path(p) for p in value if isinstance(p, str) and p]

    def clear_recent(self) -> None:
        """Forget every recent file (privacy QA: the list of paths could only be edited out of the file)."""
        self._settings.remove("recent/files")
        self._settings.sync()

    def forget_recent(self, path: Path) -> None:
        """Take ``path`` off the recent files (it could not be opened)."""
        recent = self.recent_files()
        if path in recent:
            self._settings.setValue("recent/files", [str(p) for p in recent if p != path])
            self._settings.sync()

    def add_recent(self, paths: Iterable[Path]) -> list[Path]:
        """Put ``paths`` at the top of the recent files (the last one first), written once.

        One write for the whole batch: syncing per file stalled the window for seconds when
        hundreds of photos were dropped on it. The list it adds to is the file's as it is now
        (:meth:`recent_files`): a copy kept since this window started dropped the photos another
        window had opened, and brought back a list cleared there (two-instance QA).
        """
        added = list(dict.fromkeys(reversed(list(paths))))
        if not added:
            return self.recent_files()
        fresh = set(added)
        # a name that is not UTF-8 has no Qt string (it came back as "caf\ufffd.jpg", naming no file)
        recent = [p for p in added + [p for p in self.recent_files() if p not in fresh] if _has_qt_text(p)][:MAX_RECENT]
        self._settings.setValue("recent/files", [str(p) for p in recent])
        self._settings.sync()
        return recent


def _digest(geometry: QByteArray) -> str:
    """A short digest of a saved window geometry, to tell the one a saved size goes with."""
    return f"{zlib.crc32(bytes(geometry)):08x}"
