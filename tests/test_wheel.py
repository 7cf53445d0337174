"""An installed wheel (``pip install .``, not ``-e``) carries what the app reads besides its code:
the bundled model and detector, the icons and the training configurations; so a photo restores
offline from a plain install, as from a checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO_ROOT, TESTDATA_DIR

pytestmark = pytest.mark.slow

#: What a wheel is built from (a clean clone has these and more; a copy keeps build/ out of the checkout).
SOURCES = ("faceapp", "models", "resources", "docs/model-card", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project built into a wheel by pip and installed (without dependencies) into a folder."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "_bundled"))  # (parents made)
        else:
            shutil.copy2(path, source / name)
    wheel = _build_wheel(source, root / "dist")
    assert "faceapp/_bundled/models/faceapp-compact.toml" in _names(wheel)
    # the model card's figures, where its links point (packager QA: the card's pictures were missing)
    assert "faceapp/_bundled/docs/model-card/faces.jpg" in _names(wheel)
    subprocess.run([*PIP, "install", "--no-deps", "--no-index", "--target", str(root / "site"), str(wheel)],
                   check=True, capture_output=True, text=True)
    return root


PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def _build_wheel(source: Path, dist: Path) -> Path:
    """``pip wheel`` of ``source`` (built in place, as pip builds a local folder) into ``dist``."""
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)],
                   check=True, capture_output=True, text=True)
    return next(dist.glob("faceapp-*.whl"))


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _run(installed: Path, *args: str) -> subprocess.CompletedProcess:
    """``python *args`` importing faceapp from the installed folder, with an empty user profile."""
    env = {**os.environ, "PYTHONPATH": str(installed / "site"), "FACEAPP_HOME": str(installed / "home"),
           "QT_QPA_PLATFORM": "offscreen"}
    env.pop("FACEAPP_WEIGHTS_DIR", None)
    env.pop("FACEAPP_DETECTOR_DIR", None)
    return subprocess.run([sys.executable, *args], env=env, cwd=installed, capture_output=True, text=True, timeout=600)


def test_the_installed_app_reads_its_own_copy_of_models_icons_and_configs(installed):
    probe = _run(installed, "-c", (
        "import faceapp, json; from faceapp import paths; from faceapp.core.faces import bundled_detector_path; "
        "from faceapp.training.config import load_config; "
        "print(json.dumps([faceapp.__file__, str(paths.bundled_models_dir()), str(paths.resources_dir()), "
        "bundled_detector_path('retinaface_mobile0.25').is_file(), (paths.resources_dir() / 'icons' / 'restore.svg').is_file(), "
        "load_config('restorer_compact').kind]))"))
    assert probe.returncode == 0, probe.stderr
    module, models, resources, detector, icon, kind = json.loads(probe.stdout)
    site = installed / "site"
    assert Path(module).is_relative_to(site)  # the wheel's faceapp, not the checkout's
    assert Path(models).is_relative_to(site) and Path(resources).is_relative_to(site)
    assert detector and icon and kind == "restorer"

    listing = _run(installed, "-m", "faceapp.cli", "models", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    compact = next(m for m in json.loads(listing.stdout) if m["name"] == "faceapp-compact")
    assert compact["state"] == "installed" and compact["default"]
    assert all(Path(f["path"]).is_relative_to(site) for f in compact["files"])


def test_a_photo_restores_from_a_plain_install_with_an_empty_profile(installed):
    photo = TESTDATA_DIR / "photos" / "cf_04.jpg"
    if not photo.is_file():
        pytest.skip(f"{photo} is missing")
    out = installed / "restored"
    run = _run(installed, "-m", "faceapp.cli", "restore", str(photo), "-o", str(out), "--fidelity", "0.8",
               "--steps", "2", "--no-progress", "--json")  # a fidelity under 1: the prior samples too
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["faces_restored"] == 1
    assert (out / "cf_04_restored.jpg").is_file()
    assert not (installed / "home" / "detector").exists()  # the bundled detector found the face: nothing fetched


def test_a_model_removed_from_the_checkout_leaves_the_next_wheel(installed):
    """pip builds a local folder in place and its build/ folder stays: a manifest deleted from
    models/ must not ride along in the next wheel from an earlier build's copy."""
    source = installed / "source"
    stale = source / "models" / "retired-model.toml"
    stale.write_text((source / "models" / "faceapp-compact.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert "faceapp/_bundled/models/retired-model.toml" in _names(_build_wheel(source, installed / "dist-with"))
    stale.unlink()
    assert "faceapp/_bundled/models/retired-model.toml" not in _names(_build_wheel(source, installed / "dist-without"))
