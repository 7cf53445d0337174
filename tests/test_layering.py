"""The core never depends on Qt: the GUI only displays and dispatches."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is part of the test extras"
    result = subprocess.run([lint, "--config", str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_modules_load_without_qt():
    code = (
        "import sys, pkgutil, importlib, faceapp.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'faceapp.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "import faceapp.cli\n"
        "assert not any(n.startswith('PySide6') for n in sys.modules), sorted(n for n in sys.modules if 'PySide6' in n)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
