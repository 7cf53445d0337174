"""Shared fixtures: the ../shared data folder and an isolated per-user profile."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("FACEAPP_SHARED_DIR", REPO_ROOT.parent / "shared"))
GOLDEN_DIR = SHARED_DIR / "golden"
TESTDATA_DIR = SHARED_DIR / "testdata"
RETINAFACE_DIR = SHARED_DIR / "weights" / "retinaface"
DATASET_DIR = SHARED_DIR / "datasets" / "aaf256"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read ../shared beside the checkout")
    return path


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return _require(GOLDEN_DIR)


@pytest.fixture(scope="session")
def testdata_dir() -> Path:
    return _require(TESTDATA_DIR)


@pytest.fixture(scope="session")
def retinaface_dir() -> Path:
    return _require(RETINAFACE_DIR)


@pytest.fixture(scope="session")
def dataset_dir() -> Path:
    return _require(DATASET_DIR)


@pytest.fixture(autouse=True)
def isolated_profile(tmp_path_factory, monkeypatch):
    """Point every per-user folder at a fresh temporary folder, never the real profile."""
    home = tmp_path_factory.mktemp("faceapp_home")
    monkeypatch.setenv("FACEAPP_HOME", str(home))
    monkeypatch.delenv("FACEAPP_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("FACEAPP_DETECTOR_DIR", raising=False)
    # "auto" precision is fp32 in tests whatever this CPU measures (faceapp.core.cpu_bf16), so
    # results do not depend on the machine; tests of the bf16 choice set or clear it themselves
    monkeypatch.setenv("FACEAPP_CPU_BF16", "0")
    return home



@pytest.fixture
def without_bundled_model(tmp_path_factory, monkeypatch):
    """An install whose bundled ``models/`` folder lacks faceapp's own model (as before one
    shipped): the other bundled manifests and the detector stay, so a model must come from the user."""
    import shutil

    from faceapp import paths
    from faceapp.core.manifest import load_manifest

    real, bundled = paths.bundled_models_dir(), tmp_path_factory.mktemp("bundled_models")
    for manifest in real.glob("*.toml"):
        if not load_manifest(manifest).is_default:
            shutil.copy(manifest, bundled)
    shutil.copytree(real / "detector", bundled / "detector")
    monkeypatch.setattr(paths, "bundled_models_dir", lambda: bundled)
    return bundled


@pytest.fixture(autouse=True)
def frozen_objects_are_released():
    """The window freezes every object alive once it is up and after a model loads
    (:mod:`faceapp.gui.heap`): right for an app's one window, but each test's window, its engine and
    photos stayed frozen after the test, and cycles among frozen objects are never collected (the
    suite grew by ~120 MB a window test, past 9 GB). Released and collected after a test that froze."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()


@pytest.fixture(autouse=True)
def unsaved_work_is_discarded_when_asked(monkeypatch):
    """A window closed (or a photo removed) with unsaved results asks first; a modal box would
    wait forever offscreen, so tests answer "discard" unless they answer it themselves."""
    import faceapp.gui.confirm  # (PySide6 only: no window is made)

    asked = []
    monkeypatch.setattr(faceapp.gui.confirm, "ask_before_discarding",
                        lambda parent, text, **buttons: asked.append(text) or "discard")
    return asked
