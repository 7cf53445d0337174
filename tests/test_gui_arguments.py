"""``faceapp``'s command line (issue 13 #17): checked without Qt, before any window exists."""

from __future__ import annotations

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
