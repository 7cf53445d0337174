"""Build hook: a wheel (``pip install .``, not ``-e``) carries the top-level ``models/`` and
``resources/`` folders as ``faceapp/_bundled/models`` and ``faceapp/_bundled/resources``, where
:mod:`faceapp.paths` finds them, so an installed faceapp restores offline like a checkout does,
and the model card's figures as ``faceapp/_bundled/docs/model-card`` (where the card's links
point). Everything else is declared in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("models", "resources", "docs/model-card")  # folders beside this file
#: What a wheel leaves out of them (files of a developer's checkout, not of the app).
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pth", "*.pt", "*.ckpt", ".*")


class BuildPyWithBundledFolders(build_py):
    """setuptools' build_py, then a copy of :data:`BUNDLED` into the build's ``faceapp/_bundled``.
    An editable install needs no copy: :mod:`faceapp.paths` reads the checkout's own folders."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        for name in BUNDLED:
            source = root / name
            if not source.is_dir():
                raise SystemExit(f"cannot build faceapp: the {name}/ folder is missing from {root}")
            target = Path(self.build_lib) / "faceapp" / "_bundled" / Path(name)
            shutil.rmtree(target, ignore_errors=True)  # pip builds in the source tree: no file of an earlier build stays
            shutil.copytree(source, target, ignore=LEFT_OUT)


setup(cmdclass={"build_py": BuildPyWithBundledFolders})
