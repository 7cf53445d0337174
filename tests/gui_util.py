"""Helpers for the GUI tests: offscreen Qt, a tiny installed model, a window over real core code."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from faceapp.gui.app import prepare_qt_environment  # noqa: E402

prepare_qt_environment()  # before any QApplication: drop cv2's Qt 5 plugin path

from netutil import SMALL_SWINIR_CONFIG, SMALL_UNET_CONFIG, write_checkpoint  # noqa: E402
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402

from faceapp import paths  # noqa: E402

TINY_MODEL = "tiny-gui"


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def install_tiny_model(name: str = TINY_MODEL) -> str:
    """Write a 64 px random-weight model (manifest + weights) into the isolated user profile."""
    files = {"prior": f"{name}_prior.safetensors", "restorer": f"{name}_restorer.safetensors"}
    weights = paths.weights_dir()
    weights.mkdir(parents=True, exist_ok=True)
    write_checkpoint("iddpm_unet", SMALL_UNET_CONFIG, weights / files["prior"], seed=1)
    write_checkpoint("swinir", SMALL_SWINIR_CONFIG, weights / files["restorer"], seed=2)
    text = [f'schema = 1\nname = "{name}"\ntitle = "Tiny test model"\nlicence = "MIT"\n'
            'face_size = 64\nface_template = "ffhq5"\ndefault_steps = 4\n'
            '\n[diffusion]\ntimesteps = 1000\nbeta_start = 0.0001\nbeta_end = 0.02\n']
    for role, arch, config in (("prior", "iddpm_unet", SMALL_UNET_CONFIG),
                               ("restorer", "swinir", SMALL_SWINIR_CONFIG)):
        text.append(f'\n[{role}]\narch = "{arch}"\nfile = "{files[role]}"\nconfig = {_toml(config)}\n')
    for file in files.values():
        text.append(f'\n[[files]]\nname = "{file}"\nurl = ""\nsize = 0\nsha256 = ""\n')
    folder = paths.user_manifests_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text("".join(text), encoding="utf-8")
    return name


def settings_store(folder: Path):
    """A SettingsStore writing to ``folder``/settings.ini."""
    from faceapp.gui.settings_store import SettingsStore

    return SettingsStore(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))


def drop_files(widget, files: list[Path]) -> QDropEvent:
    """Deliver a drop of ``files`` onto ``widget`` as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event
