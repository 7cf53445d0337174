"""Where faceapp keeps its files.

- Bundled manifests and compact weights: the ``models/`` folder shipped with the app (the
  repository's top-level ``models/``, an installed wheel's copy in ``faceapp/_bundled/``, or the
  PyInstaller bundle's copy); ``resources/`` likewise.
- Downloaded or imported weights: ``<user data>/weights`` (platformdirs), or the folder named by
  the ``FACEAPP_WEIGHTS_DIR`` environment variable.
- Face-detector weights: ``<user data>/detector``, or ``FACEAPP_DETECTOR_DIR``.
- The window's settings: the platform's user config folder, or ``<FACEAPP_HOME>``.
- Logs: the platform's user log folder, or ``<FACEAPP_HOME>/logs``.
- Cache (answers measured once per machine, e.g. whether bf16 is fast here): the platform's user
  cache folder, or ``<FACEAPP_HOME>/cache``.

``FACEAPP_HOME`` moves every per-user folder at once (tests use it to stay out of the real
profile).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "faceapp"


def _home_override() -> Path | None:
    value = os.environ.get("FACEAPP_HOME")
    return Path(value).expanduser() if value else None


def user_data_dir() -> Path:
    """Per-user data folder (created on demand by the callers that write to it)."""
    home = _home_override()
    return home if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def pasted_dir() -> Path:
    """Where the window keeps the images pasted into it, as files (a result is saved of a file)."""
    return user_data_dir() / "pasted"


def pictures_dir() -> Path:
    """Where a pasted image's result is saved when Settings name no output folder: the user's
    Pictures folder (``FACEAPP_HOME/pictures`` under ``FACEAPP_HOME``), not beside the image in the
    hidden folder faceapp keeps it in (privacy QA)."""
    home = _home_override()
    return home / "pictures" if home else Path(platformdirs.user_pictures_dir())


def user_config_dir() -> Path:
    """Per-user settings folder (the window's ``settings.ini``): the platform's config folder (on
    Linux ``~/.config/faceapp``, where settings are looked for; the data folder held them before),
    or ``FACEAPP_HOME`` itself."""
    home = _home_override()
    return home if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_log_dir() -> Path:
    """Per-user log folder."""
    home = _home_override()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Per-user cache folder: things faceapp can measure again if they are lost."""
    home = _home_override()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def weights_dir() -> Path:
    """Folder holding downloaded and imported weight files."""
    value = os.environ.get("FACEAPP_WEIGHTS_DIR")
    return Path(value).expanduser() if value else user_data_dir() / "weights"


def detector_dir() -> Path:
    """Folder holding facexlib's face-detector weights."""
    value = os.environ.get("FACEAPP_DETECTOR_DIR")
    return Path(value).expanduser() if value else user_data_dir() / "detector"


def user_manifests_dir() -> Path:
    """Folder for manifests of models the user added (e.g. imported from training)."""
    return user_data_dir() / "models"


def bundled_models_dir() -> Path:
    """The ``models/`` folder shipped with the app: manifests and the small bundled weights."""
    return _shipped_folder("models")


def resources_dir() -> Path:
    """The ``resources/`` folder (icons, styles)."""
    return _shipped_folder("resources")


def third_party_notices() -> Path | None:
    """The notices of the libraries faceapp is built on and their licences (Qt, PyTorch, OpenCV, …):
    in a PyInstaller bundle, beside its licence texts; in a checkout, under ``packaging/``; None in an
    installed wheel, whose libraries carry their own licences in their installed metadata."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    checkout = Path(__file__).resolve().parent.parent  # (in an installed wheel, site-packages: whose
    if not frozen_root and not (checkout / "pyproject.toml").is_file():  # "packaging" is PyPA's: review)
        return None
    notices = (Path(frozen_root) / "licences" if frozen_root else checkout / "packaging" / "licences") / "THIRD-PARTY-NOTICES.md"
    return notices if notices.is_file() else None


def _shipped_folder(name: str) -> Path:
    """A top-level folder of the repository as this copy of faceapp has it: in a PyInstaller bundle,
    in an installed wheel (``faceapp/_bundled/<name>``, copied there by setup.py), else the checkout's."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / name
    package = Path(__file__).resolve().parent
    installed = package / "_bundled" / name
    return installed if installed.is_dir() else package.parent / name
