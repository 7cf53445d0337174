"""faceapp's entry point: Qt environment, logging to the user log folder, High-DPI, main()."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path

log = logging.getLogger("faceapp")

_CV2_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def prepare_qt_environment() -> None:
    """Keep opencv-python's bundled Qt 5 plugins away from PySide6.

    Importing cv2 points ``QT_QPA_PLATFORM_PLUGIN_PATH`` (and ``QT_QPA_FONTDIR``) at cv2's own
    folder; Qt 6 would then fail to load its platform plugin. cv2 is imported first so that it
    cannot set them again later, then any value that lies inside cv2's package is removed.
    """
    try:
        import cv2
    except ImportError:
        return
    cv2_dir = str(Path(cv2.__file__).resolve().parent)
    for name in _CV2_QT_VARIABLES:
        value = os.environ.get(name, "")
        if value and str(Path(value).resolve()).startswith(cv2_dir):
            del os.environ[name]


def setup_logging(*, level: int = logging.INFO) -> Path:
    """Log to ``<user log dir>/faceapp.log`` (rotated) and to stderr; returns the log file."""
    from faceapp import paths

    folder = paths.user_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log_file = folder / "faceapp.log"
    handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=3,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    root.addHandler(console)
    sys.excepthook = _log_uncaught
    return log_file


def _log_uncaught(kind, value, traceback) -> None:
    log.critical("uncaught exception", exc_info=(kind, value, traceback))


def create_application(argv: list[str] | None = None):
    """The QApplication, with High-DPI rounding that keeps icons sharp on fractional scales."""
    prepare_qt_environment()
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    if existing is not None:
        return existing
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("faceapp")
    app.setOrganizationName("faceapp")
    from faceapp import __version__, paths
    from faceapp.gui.icons import icon

    app.setApplicationVersion(__version__)
    app.setWindowIcon(icon("faceapp"))
    style = paths.resources_dir() / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def main(argv: list[str] | None = None) -> int:
    """Open the main window with the photos named on the command line; returns the exit code.

    ``--self-test PHOTO`` loads PHOTO, prints one line and quits (see :mod:`faceapp.gui.self_test`).
    """
    started = time.perf_counter()
    argv = list(sys.argv if argv is None else argv)
    self_test = "--self-test" in argv
    app = create_application(argv)
    log_file = setup_logging()
    log.info("faceapp starting; log file %s", log_file)
    from faceapp.gui.heap import freeze_long_lived_objects
    from faceapp.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    freeze_long_lived_objects()
    photos = [Path(a) for a in argv[1:] if not a.startswith("-")]
    if self_test:
        from faceapp.gui.self_test import run_self_test

        if len(photos) != 1:
            print("usage: faceapp --self-test PHOTO")
            return 2
        return run_self_test(app, window, photos[0], started=started)
    if photos:
        window.add_paths(photos)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
