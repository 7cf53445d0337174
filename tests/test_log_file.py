"""The app's log file: rotated at its size, and never losing records where it cannot be rotated."""

from __future__ import annotations

import logging
import os

from faceapp.gui.log_file import SharedLogFile


def _logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"faceapp.test.{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger


def test_the_log_is_rotated_at_its_size(tmp_path):
    log_file = tmp_path / "faceapp.log"
    handler = SharedLogFile(str(log_file), max_bytes=1000, backups=2)
    logger = _logger(handler)
    for n in range(60):
        logger.info("record %03d %s", n, "x" * 40)
    handler.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faceapp.log", "faceapp.log.1", "faceapp.log.2"]
    assert "record 059" in log_file.read_text(encoding="utf-8")


def test_a_file_name_that_is_not_utf8_is_logged_not_lost(tmp_path, capsys):
    """Locale QA: saving bad\\xff\\xfename.jpg printed two "Logging error" tracebacks and its
    "saved …" lines never reached the log."""
    log_file = tmp_path / "faceapp.log"
    handler = SharedLogFile(str(log_file))
    logger = _logger(handler)
    name = os.fsdecode(b"bad\xff\xfename_restored.jpg")
    logger.info("saved %s", name)
    logger.info("the next record")
    handler.close()
    text = log_file.read_text(encoding="utf-8")
    assert "saved bad\\udcff\\udcfename_restored.jpg" in text and "the next record" in text
    assert "Logging error" not in capsys.readouterr().err


def test_a_log_another_window_holds_on_windows_keeps_every_record(tmp_path, monkeypatch, capsys):
    """Portability QA: Windows cannot rename a file another process has open; with a second window
    open, every record after the log reached its size was lost, with a "Logging error" each."""
    log_file = tmp_path / "faceapp.log"
    real_rename, real_replace, tries = os.rename, os.replace, []

    def held_open(source, dest):
        if os.path.basename(source) == "faceapp.log":
            tries.append(dest)
            error = PermissionError(13, "The process cannot access the file because it is being used by another "
                                        "process")
            error.winerror = 32
            raise error
        real_rename(source, dest)

    for number in (1, 2):  # the earlier logs, which stay while the live one cannot be moved aside
        (tmp_path / f"faceapp.log.{number}").write_text(f"earlier log {number}\n", encoding="utf-8")
    monkeypatch.setattr(os, "rename", held_open)
    monkeypatch.setattr(os, "replace", held_open)
    handler = SharedLogFile(str(log_file), max_bytes=1000, backups=2)
    logger = _logger(handler)
    for n in range(100):
        logger.info("record %03d %s", n, "x" * 40)
    text = log_file.read_text(encoding="utf-8")
    assert all(f"record {n:03d}" in text for n in range(100))
    assert "Logging error" not in capsys.readouterr().err
    assert 1 <= len(tries) <= 20  # tried again now and then, not at every record
    assert [(tmp_path / f"faceapp.log.{n}").read_text(encoding="utf-8") for n in (1, 2)] == [
        "earlier log 1\n", "earlier log 2\n"]
    monkeypatch.setattr(os, "rename", real_rename)  # the other window is closed: rotated again
    monkeypatch.setattr(os, "replace", real_replace)
    for n in range(100, 110):
        logger.info("record %03d %s", n, "x" * 40)
    handler.close()
    assert "record 099" in (tmp_path / "faceapp.log.1").read_text(encoding="utf-8")  # the live log moved along,
    assert (tmp_path / "faceapp.log.2").read_text(encoding="utf-8") == "earlier log 1\n"  # the earlier ones too
    assert os.path.getsize(log_file) < 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faceapp.log", "faceapp.log.1", "faceapp.log.2"]


def test_a_log_set_aside_is_numbered_before_another_is_and_never_replaced(tmp_path, monkeypatch, capsys):
    """Sceptic QA: with .1 held by another program, each rotation replaced the log set aside (records lost);
    one left aside by a rotation cut short (a crash) was replaced at the next one, unsaid."""
    log_file = tmp_path / "faceapp.log"
    (tmp_path / "faceapp.log.rotating").write_text("cut short\n", encoding="utf-8")  # a crash mid-rotation
    real_replace, held = os.replace, [True]

    def first_held(source, dest):
        if held[0] and os.path.basename(dest) == "faceapp.log.1":
            raise PermissionError(13, "being used by another process")
        real_replace(source, dest)

    monkeypatch.setattr(os, "replace", first_held)
    handler = SharedLogFile(str(log_file), max_bytes=300, backups=3)
    logger = _logger(handler)
    for n in range(40):
        logger.info("record %03d %s", n, "x" * 40)
    held[0] = False  # the other program lets go
    for n in range(40, 50):
        logger.info("record %03d %s", n, "x" * 40)
    handler.close()
    kept = "".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    assert "cut short" in kept and all(f"record {n:03d}" in kept for n in range(50))
    assert "Logging error" not in capsys.readouterr().err
