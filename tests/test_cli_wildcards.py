"""Wildcards the shell left to the command (cmd.exe and PowerShell expand none), and names only a
Windows command line makes (Windows QA)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from faceapp.cli import collect_inputs, missing_input_problem


def test_a_pattern_the_shell_left_as_it_is_is_expanded_by_the_command(tmp_path):
    """Windows QA: `faceapp-cli restore C:\\scans\\*.jpg` was "no such file or folder"."""
    for name in ("b 2.jpg", "a 10.jpg", "a 9.jpg", "c.png", ".hidden.jpg"):
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    found = collect_inputs([str(tmp_path / "*.jpg")], recursive=False)
    assert [path.name for path, _ in found] == ["a 9.jpg", "a 10.jpg", "b 2.jpg"]  # reading order, none hidden
    assert [path.name for path, _ in collect_inputs([str(tmp_path / "?.png")], recursive=False)] == ["c.png"]
    odd = tmp_path / "[1].jpg"  # a name that looks like a pattern but is a file: taken as it is
    Image.new("RGB", (8, 8)).save(odd)
    assert collect_inputs([str(odd)], recursive=False) == [(odd, Path("[1].jpg"))]
    assert missing_input_problem(tmp_path / "*.tif") == f"{tmp_path / '*.tif'}: no file matches it."
    assert missing_input_problem(tmp_path / "photo[2].jpg").endswith("there is no such file or folder.")


def test_a_pattern_is_matched_as_a_folder_is_listed(tmp_path, capsys):
    """Sceptic QA: a pattern under "scans [2019]" matched nothing (its brackets read as a set), a second
    run of `restore *.jpg` restored the first one's results, and ** went one folder deep."""
    from faceapp.core.export import export_photo

    scans = tmp_path / "scans [2019]"
    (scans / "deep" / "deeper").mkdir(parents=True)
    for name in ("a.jpg", "deep/b.jpg", "deep/deeper/c.jpg"):
        Image.new("RGB", (8, 8)).save(scans / name)
    (scans / "notes.txt").write_text("who is who")
    export_photo(np.zeros((8, 8, 3), np.uint8), None, None, scans / "a_restored.jpg", provenance={"model": "x"})
    found = collect_inputs([str(scans / "*")], recursive=False)
    assert [path.name for path, _ in found] == ["a.jpg", "b.jpg"]  # (a folder matched is listed, as if named)
    err = capsys.readouterr().err
    assert "1 earlier result of faceapp" in err and "left out 1 file" in err and "1 sub-folder not looked into" in err
    found = collect_inputs([str(scans / "**" / "*.jpg")], recursive=False)
    assert sorted(path.name for path, _ in found) == ["a.jpg", "b.jpg", "c.jpg"]
    capsys.readouterr()
    found = collect_inputs([str(scans / "**")], recursive=False)  # (review: its folders were listed too)
    assert sorted(path.name for path, _ in found) == ["a.jpg", "b.jpg", "c.jpg"]
    assert "not looked into" not in capsys.readouterr().err


def test_a_name_typed_composed_finds_the_file_a_mac_named_decomposed(tmp_path):
    """Locale QA: Müller.jpg copied from a Mac is stored decomposed (u + combining diaeresis); typed,
    it is composed, and was "no such file or folder", a pattern 'Mü*' matching nothing."""
    import unicodedata

    stored = tmp_path / unicodedata.normalize("NFD", "Müller.jpg")
    Image.new("RGB", (8, 8)).save(stored)
    typed = str(tmp_path / unicodedata.normalize("NFC", "Müller.jpg"))
    assert typed != str(stored)
    assert missing_input_problem(typed) is None
    assert collect_inputs([typed], recursive=False) == [(stored, Path(stored.name))]
    pattern = str(tmp_path / unicodedata.normalize("NFC", "Mü*"))
    assert collect_inputs([pattern], recursive=False) == [(stored, Path(stored.name))]
    assert missing_input_problem(tmp_path / "Mörike.jpg").endswith("there is no such file or folder.")


def test_a_quote_a_windows_command_line_kept_in_a_name_is_explained(monkeypatch):
    """Windows QA: `restore "C:\\My Scans\\" -o D:\\out` reaches the command as one name holding a quote
    and the rest of the line: "no such file or folder" did not say why."""
    monkeypatch.setattr(sys, "platform", "win32")
    said = missing_input_problem('C:\\My Scans" -o D:\\out')
    assert "a name cannot hold '\"'" in said and 'write "C:\\My Scans" rather than "C:\\My Scans\\"' in said


def test_an_output_folder_name_that_cannot_be_made_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    """Windows QA: `-o "D:\\Restored Photos\\"` reached the command as `D:\\Restored Photos"`; every photo
    was restored, then failed at its write; a name too long for the system was a traceback."""
    from faceapp import cli
    from faceapp.core import export

    photo = tmp_path / "a.jpg"
    Image.new("RGB", (8, 8)).save(photo)
    assert cli.main(["restore", str(photo), "-o", str(tmp_path / ("x" * 300))]) == 2
    assert "the name is too long for this system" in capsys.readouterr().err
    # (sceptic QA: under a folder not there yet, the system said "no such file": a traceback at each photo)
    assert cli.main(["restore", str(photo), "-o", str(tmp_path / "new" / ("x" * 300))]) == 2
    assert "the name is too long for this system" in capsys.readouterr().err
    monkeypatch.setattr(export, "WINDOWS_NAMES", True)
    assert cli.main(["restore", str(photo), "-o", str(tmp_path / 'Restored Photos"')]) == 2
    err = capsys.readouterr().err
    assert "a name on Windows may not hold '\"'" in err and 'write "C:\\My Scans" rather than "C:\\My Scans\\"' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]  # nothing made, nothing written


def test_an_output_folder_in_a_folder_that_takes_folders_but_no_files_is_made_and_written(tmp_path, monkeypatch,
                                                                                          testdata_dir):
    """Windows QA: on C:\\ a standard user may make a folder but no file; -o C:\\restored was refused as
    read-only, the write test being made in C:\\ itself."""
    import errno

    from faceapp import cli

    drive = tmp_path / "drive"
    drive.mkdir()
    real = cli._write_problem
    monkeypatch.setattr(cli, "_write_problem", lambda folder: PermissionError(errno.EACCES, "Access is denied")
                        if folder == drive else real(folder))
    photo = testdata_dir / "photos" / "cf_03.jpg"
    assert cli.main(["restore", str(photo), "-o", str(drive / "restored" / "2026"), "--no-progress", "--steps", "1"]) == 0
    assert [p.name for p in (drive / "restored" / "2026").iterdir()] == ["cf_03_restored.jpg"]
    assert cli.main(["restore", str(photo), "-o", str(drive), "--no-progress", "--steps", "1"]) == 1  # no file there


def test_cmds_way_of_asking_for_help_gives_the_help(capsys):
    """Windows QA: `faceapp-cli /?` was "/?: cannot read it: there is no such file or folder"."""
    from faceapp import cli
    from faceapp.cli_parser import normalise_argv

    for argv, usage in ((["/?"], "usage: faceapp-cli [-h]"), (["restore", "/?"], "usage: faceapp-cli restore"),
                        (["models", "/h"], "usage: faceapp-cli models")):
        assert cli.main(argv) == 0 and capsys.readouterr().out.startswith(usage)
    assert normalise_argv(["a.jpg", "-o", "/h"]) == ["restore", "a.jpg", "-o", "/h"]  # a folder there
