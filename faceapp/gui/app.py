"""faceapp's entry point: Qt environment, logging to the user log folder, High-DPI, main()."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("faceapp")

_CV2_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")
#: A line of the log file: when, which faceapp process (two windows share the file), how grave, what.
LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"


def prepare_qt_environment() -> None:
    """Keep opencv-python's bundled Qt 5 plugins away from PySide6, and load triton's LLVM before Qt's
    GTK theme loads Mesa's (:func:`_load_triton_before_qt`).

    Importing cv2 points ``QT_QPA_PLATFORM_PLUGIN_PATH`` (and ``QT_QPA_FONTDIR``) at cv2's own
    folder; Qt 6 would then fail to load its platform plugin. cv2 is imported first so that it
    cannot set them again later, then any value that lies inside cv2's package is removed.
    """
    _load_triton_before_qt()
    try:
        import cv2
    except ImportError:
        return
    cv2_dir = str(Path(cv2.__file__).resolve().parent)
    for name in _CV2_QT_VARIABLES:
        value = os.environ.get(name, "")
        if value and str(Path(value).resolve()).startswith(cv2_dir):
            del os.environ[name]


def _load_triton_before_qt() -> None:
    """Load the native library of triton (which torch's Linux build brings and imports) now, before
    any QApplication.

    On a GNOME, Cinnamon, MATE or Xfce desktop Qt loads its GTK 3 theme, GTK loads Mesa, and Mesa
    the system's libLLVM; triton's own LLVM, loaded after it when the model loads, crashed in its
    start-up code: the window closed with a segmentation fault seconds after it opened (locale QA,
    confirmed here under Xvfb with XDG_CURRENT_DESKTOP=GNOME). Loaded first, both work side by side.
    Costs about 0.2 s, on Linux only; without triton (a CPU-only torch, or not Linux) it does nothing."""
    if not sys.platform.startswith("linux"):
        return
    import importlib.util

    try:
        if importlib.util.find_spec("triton") is not None:
            import triton._C.libtriton  # noqa: F401
    except Exception as exc:  # noqa: BLE001 (a broken triton: torch says so itself if it needs it)
        log.debug("triton not preloaded: %s", exc)


def setup_logging(*, level: int = logging.INFO) -> Path | None:
    """Log to ``<user log dir>/faceapp.log`` (rotated) and to stderr; returns the log file, or None
    when it cannot be opened (a file where its folder should be, a read-only disk, …): the app
    starts anyway, logging to stderr, and says why there (QA: it did not start at all)."""
    from faceapp import paths
    from faceapp.gui.log_file import SharedLogFile

    root = logging.getLogger()
    root.setLevel(level)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    root.addHandler(console)
    sys.excepthook = _log_uncaught
    log_file = paths.user_log_dir() / "faceapp.log"
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = SharedLogFile(str(log_file))
    except OSError as exc:
        log.warning("no log file: cannot open %s (%s); logging to the terminal only", log_file,
                    exc.strerror or exc)
        return None
    # (the process: two windows share the log, and their lines were not told apart: concurrency QA)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
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
    app = QApplication(qt_arguments(argv if argv is not None else sys.argv))
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


def close_on_termination(window) -> Callable[[], bool]:
    """Close ``window`` (as its close button would: a file being written is finished first, see
    ExportFlow.may_close) on SIGTERM, SIGHUP or SIGINT, instead of dying with a half-written file.
    Returns whether such a signal came, so that the process exits 130 as faceapp-cli does (resource
    QA: a killed session exited 0, as if closed by its user).

    Python runs a signal's handler only when it gets a turn, and Qt's event loop is C++: the signal
    is written to a socket (``signal.set_wakeup_fd``) that Qt watches, whose slot gives Python that
    turn. An idle window wakes for nothing (GUI QA: a 200 ms timer that polled instead woke it five
    times a second, all afternoon)."""
    import socket

    from PySide6.QtCore import QCoreApplication, QSocketNotifier, QTimer

    from faceapp.core.termination import SIGNALS

    received: list[int] = []

    def close(signum, _frame) -> None:
        received.append(signum)
        # no question about unsaved results: nobody may be there to answer (logout, a killed job),
        # and a file being written is still finished first
        log.info("%s received: closing (unsaved results are not kept)", signal.Signals(signum).name)
        QTimer.singleShot(0, getattr(window, "close_without_asking", window.close))

    for signum in (*SIGNALS, signal.SIGINT):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, close)
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)

    def woken() -> None:  # (being here, in Python, runs the handler above)
        try:
            reader.recv(64)
        except OSError:
            pass

    notifier.activated.connect(woken)
    window._signal_wakeup = (reader, writer, notifier)  # (they live as long as the window)

    def forget() -> None:  # (a signal after the window is gone must not write to a closed socket's
        signal.set_wakeup_fd(-1)  # number, which another file may have taken by then: review)

    window.destroyed.connect(forget)
    if (app := QCoreApplication.instance()) is not None:
        app.aboutToQuit.connect(forget)
    log.info("window open; SIGTERM, SIGHUP and Ctrl-C close it")
    return lambda: bool(received)


#: Qt's own command-line options (QGuiApplication, QApplication) that take a value, and those that do not.
_QT_OPTIONS_WITH_VALUE = frozenset({"platform", "platformpluginpath", "platformtheme", "plugin", "qmljsdebugger",
                                    "qwindowgeometry", "qwindowtitle", "qwindowicon", "display", "geometry", "style",
                                    "stylesheet", "session", "fontengine"})
_QT_FLAGS = frozenset({"reverse", "nograb", "dograb", "sync", "widgetcount"})


def without_qt_options(args: list[str]) -> list[str]:
    """``args`` less Qt's own options (``-platform offscreen``, ``-style=fusion``, ``--reverse``…),
    which the QApplication reads, so that faceapp's arguments can be checked before Qt starts."""
    return _split_qt_options(args)[0]


def qt_arguments(argv: list[str]) -> list[str]:
    """What the QApplication is given of the command line ``argv``: the program and Qt's own options,
    not the photos. A name that is not UTF-8 (``caf\udce9.jpg``, from an old CD or a FAT drive) has no
    Qt string, and PySide6 crashed the process on one (unicode QA: exit 139 on "Open with faceapp")."""
    program = argv[0] if argv and _has_text(argv[0]) else "faceapp"
    return [program] + [arg for arg in _split_qt_options(argv[1:])[1] if _has_text(arg)]


def _has_text(arg: str) -> bool:
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _split_qt_options(args: list[str]) -> tuple[list[str], list[str]]:
    """(faceapp's arguments, Qt's options with their values) of ``args``."""
    kept, qt, skip = [], [], False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            qt.append(arg)
            continue
        if arg == "--":
            return kept + args[index:], qt
        name, has_value = arg.lstrip("-").partition("=")[::2], "=" in arg
        if arg.startswith("-") and not os.path.lexists(arg) and name[0] in _QT_OPTIONS_WITH_VALUE | _QT_FLAGS:
            skip = name[0] in _QT_OPTIONS_WITH_VALUE and not has_value
            qt.append(arg)
            continue
        kept.append(arg)
    return kept, qt


def missing_display() -> str | None:
    """Why Qt could not open a window here (None when it can, as far as can be told before it
    starts): on Linux, no X11 or Wayland display and no other platform chosen. Qt itself would
    abort the process with a message about its xcb plugin."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("faceapp needs a display, and none is set (no DISPLAY or WAYLAND_DISPLAY). Run it in a desktop session; "
            "for a check without a screen, set QT_QPA_PLATFORM=offscreen; to restore photos without a window, "
            "use faceapp-cli.")


def parse_arguments(args: list[str]) -> argparse.Namespace:
    """``faceapp``'s own arguments (Qt's, such as ``-platform``, already removed): ``photos`` and
    ``self_test``. A usage error exits 2 with a message, like any command-line tool.

    An argument that starts with ``-`` but names an existing file is a photo (``faceapp -dash.jpg``);
    an unknown option is an error, not silently dropped.
    """
    from faceapp import __version__

    parser = argparse.ArgumentParser(
        prog="faceapp", description="Restore faces in old, blurry or damaged photos (DifFace).",
        epilog="A photo whose name starts with '-' can also be given after '--'.")
    parser.add_argument("photos", nargs="*", type=Path, metavar="PHOTO", help="photos or folders to open")
    parser.add_argument("--version", action="version", version=f"faceapp {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, load PHOTO, detect and restore its faces with the default model, "
                             "print one line and quit (0 = ok)")
    options = [a for a in args if not (a.startswith("-") and a != "--" and os.path.lexists(a))]
    files = [a for a in args if a not in options]
    if files:
        options += files if "--" in options else ["--", *files]
    parsed = parser.parse_args(options)
    if parsed.self_test and len(parsed.photos) != 1:
        parser.error(f"--self-test needs exactly one PHOTO, got {len(parsed.photos)}")
    if parsed.self_test and _is_folder(parsed.photos[0]):
        parser.error(f"--self-test needs one photo file, not a folder ({parsed.photos[0]}): it restores that one photo")
    return parsed


def _is_folder(path: Path) -> bool:
    from faceapp.core.photo_inputs import is_folder  # (not at start-up: it brings in the image readers)

    return is_folder(path)


def main(argv: list[str] | None = None) -> int:
    """Open the main window with the photos named on the command line; returns the exit code.

    ``--self-test PHOTO`` loads and restores PHOTO, prints one line and quits (see :mod:`faceapp.gui.self_test`).
    Arguments are checked before the window (and its worker threads) exists: a usage error exits 2.
    A Ctrl-C while it loads (torch and Qt take seconds) exits 130 with one line, not a traceback;
    once the window is open, it closes the window (:func:`close_on_termination`).
    """
    started = time.perf_counter()
    try:
        return _open_window(list(sys.argv if argv is None else argv), started)
    except KeyboardInterrupt:  # (only while loading: the open window handles SIGINT itself)
        from faceapp.core.termination import EXIT_INTERRUPTED

        print("faceapp: interrupted while starting.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _open_window(argv: list[str], started: float) -> int:
    from faceapp.core.host_memory import keep_freed_memory

    keep_freed_memory()  # before Qt starts its threads: they then share the heap the engine reuses
    try:  # before Qt starts: --help and usage errors need no display
        options = parse_arguments(without_qt_options(argv[1:]))
    except SystemExit as exit_:  # argparse: 2 on a usage error, 0 on --help
        return int(exit_.code or 0)
    prepare_qt_environment()
    from PySide6.QtWidgets import QApplication

    platform_given = any(a.lstrip("-").partition("=")[0] in ("platform", "display") for a in argv[1:])
    if QApplication.instance() is None and not platform_given and (problem := missing_display()):
        print(f"faceapp: {problem}", file=sys.stderr)
        return 1
    app = create_application(argv)
    log_file = setup_logging()
    log.info("faceapp starting; log file %s", log_file)
    from faceapp.core.photo_io import quiet_pillow_warnings

    quiet_pillow_warnings()  # (reading a photo logs them in faceapp's words)
    from faceapp.gui.heap import freeze_long_lived_objects
    from faceapp.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if log_file is None:  # (a desktop launch has no terminal to read the warning on: review)
        window.say_no_log_file()
    interrupted = close_on_termination(window)
    freeze_long_lived_objects()
    if options.self_test:
        from faceapp.gui.self_test import run_self_test

        return run_self_test(app, window, options.photos[0], started=started)
    if options.photos:
        window.add_paths(options.photos)
    code = app.exec()
    if code == 0 and interrupted():
        from faceapp.core.termination import EXIT_INTERRUPTED

        code = EXIT_INTERRUPTED
    log.info("window closed; exiting with code %d", code)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
