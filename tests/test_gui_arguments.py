"""``faceapp``'s command line (issue 13 #17): checked without Qt, before any window exists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from faceapp.gui.app import parse_arguments


def test_a_photo_whose_name_starts_with_a_dash_is_opened(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-dash.jpg").write_bytes(b"")
    assert parse_arguments(["-dash.jpg", "b.jpg"]).photos == [Path("b.jpg"), Path("-dash.jpg")]
    assert parse_arguments(["--", "-dash.jpg"]).photos == [Path("-dash.jpg")]
    assert parse_arguments(["--self-test", "-dash.jpg"]).self_test


def test_an_unknown_option_is_a_usage_error_not_ignored(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        parse_arguments(["-missing.jpg"])
    assert exit_.value.code == 2 and "-missing.jpg" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        parse_arguments(["--self-test"])
    assert exit_.value.code == 2


def test_qt_options_are_left_to_qt_and_the_rest_checked_before_it_starts(tmp_path, monkeypatch):
    from faceapp.gui.app import without_qt_options

    monkeypatch.chdir(tmp_path)
    args = ["-platform", "offscreen", "-style=fusion", "--reverse", "a.jpg", "--self-test", "--", "-style"]
    assert without_qt_options(args) == ["a.jpg", "--self-test", "--", "-style"]
    assert parse_arguments(without_qt_options(["-platform", "offscreen", "a.jpg"])).photos == [Path("a.jpg")]



def test_a_photo_name_that_is_not_utf8_reaches_faceapp_not_qt(tmp_path):
    """"Open with faceapp" on caf\xe9.jpg (a Latin-1 name from an old CD): PySide6 crashed the
    process (exit 139) when the QApplication was given the name; it is given the Qt options only."""
    import os
    import subprocess

    from faceapp.gui.app import qt_arguments

    name = os.fsdecode(b"caf\xe9.jpg")
    assert qt_arguments(["faceapp", "-platform", "offscreen", name, "-style=fusion"]) == [
        "faceapp", "-platform", "offscreen", "-style=fusion"]
    script = ("import os, sys; from faceapp.gui.app import create_application; "
              "app = create_application(['faceapp', os.fsdecode(b'caf\\xe9.jpg'), '-platform', 'offscreen']); "
              "print(app.platformName())")
    env = {**os.environ, "QT_QPA_PLATFORM": "", "FACEAPP_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "offscreen"  # Qt's own option still reaches Qt

@pytest.mark.parametrize(("args", "code", "says"), [
    (["--help"], 0, "usage: faceapp"),
    (["--bogus"], 2, "unrecognized arguments: --bogus"),
    pytest.param(["--self-test", "photo.jpg"], 1, "needs a display",
                 marks=pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 and Wayland: Linux")),
])
def test_without_a_display_the_app_answers_instead_of_aborting(args, code, says, tmp_path):
    """Over ssh with no display, Qt would abort the process (exit 134) with a message about its
    xcb plugin: --help and usage errors are answered before Qt starts, and the rest says why."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["FACEAPP_HOME"] = str(tmp_path)
    run = subprocess.run([sys.executable, "-m", "faceapp", *args], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == code, run.stderr
    assert says in run.stdout + run.stderr


def test_a_name_longer_than_the_system_takes_is_a_photo_whose_load_says_so(tmp_path, monkeypatch):
    """Review: ``faceapp --self-test <a 300-character name>`` ended in a traceback."""
    monkeypatch.chdir(tmp_path)
    long = "x" * 300 + ".jpg"
    assert parse_arguments(["--self-test", long]).photos == [Path(long)]
    from faceapp.gui.app import without_qt_options  # (review: Qt's options were looked for first, and raised)

    assert without_qt_options(["-" + long]) == ["-" + long]
