"""Helpers for the GUI tests: offscreen Qt, a tiny installed model, a window over real core code."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import quote

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from faceapp.gui.app import prepare_qt_environment  # noqa: E402

prepare_qt_environment()  # before any QApplication: drop cv2's Qt 5 plugin path

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from netutil import SMALL_SWINIR_CONFIG, SMALL_UNET_CONFIG, write_checkpoint  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QMimeData, QPointF, QSettings, Qt, QThread, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402

from faceapp import paths  # noqa: E402
from faceapp.core.engine import load_engine  # noqa: E402
from faceapp.core.faces import FaceDetector  # noqa: E402
from faceapp.core.registry import Registry  # noqa: E402
from faceapp.gui.backend import CoreBackend  # noqa: E402
from faceapp.gui.heap import freeze_long_lived_objects  # noqa: E402
from faceapp.gui.main_window import MainWindow  # noqa: E402
from faceapp.gui.qimage import qimage_to_rgb  # noqa: E402

TINY_MODEL = "tiny-gui"
PHOTO = "cf_03.jpg"  # 400×225, one face


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def install_tiny_model(name: str = TINY_MODEL, *, default_fidelity: float | None = None,
                       sharp_faces: tuple[float, float] | None = None,
                       works_down_to: float | None = None) -> str:
    """Write a 64 px random-weight model (manifest + weights) into the isolated user profile;
    ``default_fidelity``, the ``sharp_faces`` ramp (untouched below, full above) and the lowest
    fidelity it works at (``[fidelity_range]``) go into the manifest when given."""
    files = {"prior": f"{name}_prior.safetensors", "restorer": f"{name}_restorer.safetensors"}
    weights = paths.weights_dir()
    weights.mkdir(parents=True, exist_ok=True)
    write_checkpoint("iddpm_unet", SMALL_UNET_CONFIG, weights / files["prior"], seed=1)
    write_checkpoint("swinir", SMALL_SWINIR_CONFIG, weights / files["restorer"], seed=2)
    text = [f'schema = 1\nname = "{name}"\ntitle = "Tiny test model"\nlicence = "MIT"\n'
            'face_size = 64\nface_template = "ffhq5"\ndefault_steps = 4\n'
            + (f'default_fidelity = {default_fidelity}\n' if default_fidelity is not None else '')
            + '\n[diffusion]\ntimesteps = 1000\nbeta_start = 0.0001\nbeta_end = 0.02\n'
            + (f'\n[sharp_faces]\nuntouched_below = {sharp_faces[0]}\nfull_above = {sharp_faces[1]}\n'
               if sharp_faces is not None else '')
            + (f'\n[fidelity_range]\nworks_down_to = {works_down_to}\nbelow = "it blurs"\n'
               if works_down_to is not None else '')]
    for role, arch, config in (("prior", "iddpm_unet", SMALL_UNET_CONFIG),
                               ("restorer", "swinir", SMALL_SWINIR_CONFIG)):
        text.append(f'\n[{role}]\narch = "{arch}"\nfile = "{files[role]}"\nconfig = {_toml(config)}\n')
    for file in files.values():
        text.append(f'\n[[files]]\nname = "{file}"\nurl = ""\nsize = 0\nsha256 = ""\n')
    folder = paths.user_manifests_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text("".join(text), encoding="utf-8")
    Registry().verify(name)  # as an import would: files placed by hand show as "unverified"
    return name


def settings_store(folder: Path):
    """A SettingsStore writing to ``folder``/settings.ini."""
    from faceapp.gui.settings_store import SettingsStore

    return SettingsStore(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))


def drop_files(widget, files: list[Path]) -> QDropEvent:
    """Deliver a drop of ``files`` onto ``widget`` as a file manager would."""
    mime = QMimeData()  # (its names' bytes percent-encoded, as a file manager writes them)
    mime.setUrls([QUrl("file://" + quote(os.fsencode(Path(f).absolute()))) for f in files])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event


# ---- a window over the real core with the tiny model (import these fixtures into a test file) --
@pytest.fixture
def photo(tmp_path, testdata_dir):
    """A copy of a real photo in a folder the test may write to (Save goes next to it)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    return shutil.copy(testdata_dir / "photos" / PHOTO, folder / PHOTO)


@pytest.fixture
def window(qtbot, tmp_path, retinaface_dir):
    """The main window with the tiny model, 3 seeds per face and 4 steps; ``engine_threads``
    records the thread each engine was built on."""
    install_tiny_model()
    threads = []

    def engine_factory(prefs):
        threads.append(QThread.currentThread())
        return load_engine(prefs.model or None, device="cpu")

    backend = CoreBackend(engine_factory=engine_factory,
                          detector_factory=lambda prefs: FaceDetector(retinaface_dir))
    main = MainWindow(store=settings_store(tmp_path), backend=backend)
    main.engine_threads = threads
    freeze_long_lived_objects()  # as faceapp.gui.app.main() does once the window is up
    set_sampling(main, seeds=3, steps=4)
    # pytest-qt closes it (once its files are written) before this fixture's teardown would
    qtbot.addWidget(main, before_close_func=lambda w: exports_written(qtbot, w))
    main.show()
    return main


def exports_written(qtbot, window) -> None:
    """Wait until ``window`` writes nothing: a close while a file is written waits for it, and the
    window was then deleted with its threads up (flakiness QA). A gate still shut (the test failed
    before opening it) is opened: it would be, after this, by its fixture's teardown (review)."""
    for gated in _GATES:
        gated.gate.set()
    qtbot.waitUntil(lambda: not window.exports.busy, timeout=60000)


class StallMeter:
    """A QTimer ticking every 10 ms while the ``with`` block runs; :attr:`longest` is the
    longest gap between ticks (ms): how long the event loop was kept from running."""

    def __enter__(self) -> StallMeter:
        self.ticks: list[int] = []
        self._clock, self._timer = QElapsedTimer(), QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(lambda: self.ticks.append(self._clock.elapsed()))
        self._clock.start()
        self._timer.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._timer.stop()

    @property
    def longest(self) -> int:
        return int(max(np.diff([0, *self.ticks])))


class GatedExport:
    """Stands in for the core's ``export_photo``: notes the thread of each call, waits ``delay``
    seconds and then for ``gate`` to be open, and writes the file with the real function."""

    def __init__(self, real) -> None:
        self.real = real
        self.delay = 0.0
        self.gate = threading.Event()
        self.gate.set()
        self.threads: list[QThread] = []

    def __call__(self, *args, **kwargs):
        self.threads.append(QThread.currentThread())
        time.sleep(self.delay)
        if not self.gate.wait(30):
            raise TimeoutError("the test never opened the gate")
        return self.real(*args, **kwargs)


@pytest.fixture
def gated_export(monkeypatch):
    """Replace the core's export_photo by a :class:`GatedExport` (the gate opens after the test)."""
    from faceapp.core import export

    gated = GatedExport(export.export_photo)
    monkeypatch.setattr(export, "export_photo", gated)
    _GATES.append(gated)
    yield gated
    gated.gate.set()
    _GATES.remove(gated)


_GATES: list[GatedExport] = []  # the gated exports of the test running


def shown_compare_view(qtbot, size=(400, 300)):
    """A compare view on screen, ``size`` (width, height), waiting for its first photo."""
    from faceapp.gui.compare_view import CompareView

    view = CompareView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    return view


def window_with_fidelity_caution(qtbot, tmp_path):
    """A window on screen (1200×800) over the tiny model made to work well down to fidelity 0.6 (its
    own is 0.8): the fidelity control cautions below 0.6, "below: it blurs"."""
    from faceapp.core.preferences import Preferences
    from faceapp.gui.main_window import MainWindow

    install_tiny_model(default_fidelity=0.8, works_down_to=0.6, sharp_faces=(5.0, 7.0))  # (a ramp: its caution says sharp faces are spared)
    store = settings_store(tmp_path)
    store.save(Preferences(model=TINY_MODEL))
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    return window


def set_sampling(window, *, seeds: int, steps: int) -> None:
    """Sample ``seeds`` candidates in ``steps`` steps, every face diffused: the bundled model spares
    the face of the test photo (its restorer barely changes it), whose seeds would then all agree."""
    prefs = window.session.prefs
    window.models.apply_preferences(dataclasses.replace(
        prefs, seeds_per_face=seeds, steps=steps, spare_sharp_faces=False))


def load(window, qtbot, photo):
    drop_files(window, [photo])
    path = photo.resolve()
    qtbot.waitUntil(lambda: window.session.entries[path].photo is not None, timeout=20000)
    return path


def restore(window, qtbot, path):
    with qtbot.waitSignal(window.session.runFinished, timeout=60000):
        window.actions_["restore"].trigger()
    return window.session.entries[path]


def shown_after(window) -> np.ndarray:
    """The "after" image the compare view is showing."""
    return qimage_to_rgb(window.compare.after_image())


def saved(window, qtbot, start) -> list[Path]:
    """Run an export action (``start()``, e.g. ``window.exports.save``) to its end; returns the
    files it wrote. The action itself returns as soon as the export is queued."""
    with qtbot.waitSignal(window.exports.saved, timeout=60000) as blocker:
        start()
    return blocker.args[0]


def wait_composed(window, qtbot, path) -> None:
    """Wait until the composite of the latest gallery choice is shown."""
    qtbot.waitUntil(lambda: not window.session.composer.pending(path), timeout=20000)


def said(window) -> str:
    """What the window tells the user now: its status bar's message and its notices, one a line
    (a passing message goes to the status bar when it fits there, else to a notice)."""
    return "\n".join(text for text in [window.statusBar().currentMessage(), *(n.text for n in window.notices.notices())]
                     if text)


def hush(window) -> None:
    """Clear what the window has said (status bar and notices), so that :func:`said` tells what
    comes next alone."""
    window.statusBar().clearMessage()
    window.notices.clear()
