"""Settings and models: the settings dialog, the model manager, and what the window says about
the model and device (status bar, first-start guidance)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow

from faceapp.gui.actions import ACTIONS, set_tip
from faceapp.core.errors import FaceappError
from faceapp.gui.notifications import Notice
from faceapp.core.preferences import Preferences
from faceapp.core.settings import DEFAULT_FIDELITY

log = logging.getLogger(__name__)


def _keys(action: str) -> str:
    """The shortcut of one of :data:`ACTIONS` as this platform writes it (⌘O on a Mac; portability QA:
    "Ctrl+O" was written in)."""
    return QKeySequence(ACTIONS[action][2]).toString(QKeySequence.SequenceFormat.NativeText)


def _first_start() -> str:
    return (f"No face model is installed yet.\n\nOpen Models… ({_keys('models')}) to download one or to "
            "import a weight file you already have; then drop photos here.")


def _drop_hint() -> str:
    return f"Drop photos or folders here, or use File ▸ Open ({_keys('open')})."


class ModelSettings:
    """Preferences and models of ``window`` (a MainWindow: ``session``, ``store``, ``notices``,
    ``fidelity``, ``compare``, ``model_label``, ``device_label``)."""

    def __init__(self, window: QMainWindow, *, registry: Any = None) -> None:
        self._window = window
        self._registry = registry

    def registry(self) -> Any:
        """The model registry (None, after a notice, if it cannot be read)."""
        if self._registry is None:
            try:
                self._registry = self._window.session.backend.registry()
            except Exception as error:
                log.exception("model registry unavailable")
                self._window.notices.show_error(error)
        return self._registry

    def open_settings(self) -> None:
        from faceapp.gui.settings_dialog import SettingsDialog

        window = self._window
        from faceapp.core.devices import available_devices

        current = window.store.refreshed(window.session.prefs)  # (another copy of the window may have saved)
        if current != window.session.prefs:
            self.apply_preferences(current)
        dialog = SettingsDialog(window.session.prefs, models=self._model_choices(), available=available_devices(),
                                default_model=self._default_title(), model_steps=self._model_steps(), parent=window)
        if dialog.exec():
            try:
                prefs = dialog.preferences()
            except ValueError as error:
                window.notices.show_notice(Notice(f"Settings not changed: {error}", "warning"))
                return
            window.save_settings(prefs)
            self.apply_preferences(prefs)
            # what was said of the settings before is taken down, and said again where it still holds
            # (settings QA: "restores fail until another is chosen" stayed up once CPU was chosen)
            window.notices.withdraw("settings", None)
            registry = self.registry()
            self._check_chosen_model([m.name for m in registry.list()] if registry is not None else [])  # (and device)

    def apply_preferences(self, prefs: Preferences) -> None:
        """Use ``prefs`` from now on (the next run; grain matching at once) and show them."""
        self._window.session.use_preferences(prefs)
        self._window.show_appearance()  # (Reset every field: the desktop's colours again)
        self.show_fidelity()
        self.show_model_and_device()
        self.show_save_destination()
        self._window.show_photo_text()  # e.g. "Made with other settings (seeds)"
        self._window.show_states()  # (and the filmstrip: "done · changed")
        self._window.note_waiting_restores()

    def show_save_destination(self) -> None:
        """Save's tooltip and status tip name where it writes: beside the original, or the output
        folder of the settings (QA: it said "next to the original" with a folder set)."""
        folder = self._window.session.prefs.output_folder
        tip = f"Save into {folder} (never overwrites)" if folder else "Save next to the original (never overwrites)"
        set_tip(self._window.actions_["save"], tip)

    def model_default_fidelity(self) -> float:
        """The default fidelity of the model a run would use (DEFAULT_FIDELITY when no model can be read)."""
        manifest = self._manifest()
        return manifest.default_fidelity if manifest is not None else DEFAULT_FIDELITY

    def shown_fidelity(self) -> float:
        """What the slider shows: the user's fidelity, or the model's own when none is set."""
        fidelity = self._window.session.prefs.fidelity
        return self.model_default_fidelity() if fidelity is None else fidelity

    def show_fidelity(self) -> None:
        """Put the slider at :meth:`shown_fidelity`, its reset button at the model's default, and
        mark where the model stops working well."""
        default, chosen = self.model_default_fidelity(), self._window.session.prefs.fidelity
        manifest = self._manifest()
        self._window.fidelity.set_model_default(default)
        self._window.fidelity.set_model_range(
            manifest.fidelity_range if manifest is not None else None,  # (by its title, as the status bar: QA)
            (manifest.title or manifest.name) if manifest is not None else "",
            spares=manifest is not None and manifest.sharp_faces is not None
            and self._window.session.prefs.spare_sharp_faces)
        self._window.fidelity.set_fidelity(default if chosen is None else chosen)

    def open_models(self) -> None:
        from faceapp.gui.model_manager import ModelManagerDialog

        registry = self.registry()
        if registry is None:
            return
        registry.reload()  # manifests added or mended since the window opened (QA: seen only after a restart)
        dialog = ModelManagerDialog(registry, self._window)
        dialog.modelsChanged.connect(self._window.session.backend.forget_engine)
        dialog.exec()
        self.check_models()
        self.show_fidelity()
        self.show_model_and_device()

    def check_models(self) -> None:
        """At start: with no model installed (the first start), say what to do; with a model chosen
        in Settings that is not known any more, say so."""
        registry = self.registry()
        try:
            known = [m.name for m in registry.list()] if registry is not None else []
            installed = any(registry.is_installed(name) for name in known)
        except Exception as error:  # (code review: said "No face model is installed", to download one)
            if isinstance(error, (OSError, FaceappError)):
                log.warning("checking installed models failed: %s", error)
            else:
                log.exception("checking installed models failed")
            self._window.compare.set_placeholder(_drop_hint())
            self._window.notices.show_notice(Notice(
                f"The installed models could not be read ({str(error).rstrip('.') or type(error).__name__}). "
                "Restores may fail until that is mended; Models… shows each model and its files.",
                "error", "models", "Models…"))
            return
        for problem in registry.folders_unread.values() if registry is not None else ():
            self._window.notices.show_notice(Notice(f"{problem}; the other models can be used.", "warning",
                                                    "models", "Models…"))
        if not installed:
            self._window.compare.set_placeholder(_first_start())
            self._window.notices.show_notice(Notice(
                "No face model is installed: download one or import a weight file.", "warning",
                "models", "Models…"))
        else:
            self._window.compare.set_placeholder(_drop_hint())
        self._check_chosen_model(known)

    def _check_chosen_model(self, known: list[str]) -> None:
        """A model chosen in Settings that is not known any more is said, with the way to Settings."""
        chosen = self._window.session.prefs.model
        if known and chosen and chosen not in known:
            # (QA: said only by Restore, whose button opened the Models window; the fix is in Settings)
            self._window.notices.show_notice(Notice(
                f"The model '{chosen}' chosen in Settings is not known any more (its manifest is gone): restores "
                "fail until another is chosen there.", "warning", "settings", "Settings…"))
        self._check_device()  # (a model and a device: both said where chosen, and after Settings)

    def _check_device(self) -> None:
        """At start: a device chosen in Settings that this computer does not have (settings copied
        from a computer with a GPU, a GPU driver broken since) is said with the way to Settings
        (settings QA: only the status bar said it, cut short, and each restore then failed)."""
        prefs = self._window.session.prefs
        if prefs.device == "auto":
            return
        try:
            self._window.session.backend.describe_device(prefs.device, prefs.precision)
        except Exception as error:
            self._window.notices.show_notice(Notice(
                f"The device chosen in Settings cannot be used here ({str(error).rstrip('.')}): restores fail until "
                "another is chosen there (Automatic takes the best this computer has).", "warning", "settings",
                "Settings…"))

    def show_model_and_device(self) -> None:
        """The model a run would use and the device it would run on, in the status bar."""
        device, precision = self._window.session.prefs.device, self._window.session.prefs.precision
        try:
            text = self._window.session.backend.describe_device(device, precision)
        except Exception as error:  # an unavailable device is shown, not fatal
            text = f"{device}: {error}"
        self._window.device_label.setText(f"Device: {text}")
        self._window.model_label.setText(f"Model: {self._model_title()}")

    def _manifest(self) -> Any:
        """The manifest of the model a run would use (the chosen one, else the registry's default);
        None when there is none (an unknown or broken model is reported when a run starts)."""
        registry, name = self.registry(), self._window.session.prefs.model
        if registry is None:
            return None
        try:
            return registry.get(name) if name else registry.default()
        except Exception:
            return None

    def _model_title(self) -> str:
        """The title of the model a run would use."""
        name = self._window.session.prefs.model
        manifest = self._manifest()
        if manifest is None:
            return name or ("default" if self.registry() is None else "none installed")
        try:
            installed = self.registry().is_installed(manifest.name)
        except Exception:
            return name or "none installed"
        return manifest.title if installed else f"{manifest.title} (not installed)"

    def _model_steps(self) -> dict[str, int]:
        """Each model's own step count by name, "" the default model's (empty if none can be read)."""
        registry = self.registry()
        try:
            steps = {m.name: m.default_steps for m in registry.list()} if registry else {}
            return {**steps, "": registry.default().default_steps} if steps else {}
        except Exception:
            return {}

    def _default_title(self) -> str:
        """The title of the model a restore uses when the settings name none ("" if none can be read)."""
        registry = self.registry()
        try:
            return registry.default().title if registry else ""
        except Exception:
            return ""

    def _model_choices(self) -> list[tuple[str, str]]:
        """(name, what the settings' model list shows) of each model: its title, and whether its
        files are missing (QA: a model not installed could be chosen without a hint)."""
        registry = self.registry()
        try:
            return [(m.name, m.title if registry.is_installed(m.name) else f"{m.title} (not installed: see Models…)")
                    for m in registry.list()] if registry else []
        except Exception:
            log.exception("listing models failed")
            return []
