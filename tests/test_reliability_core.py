"""Core guards behind the issue-13 findings: geometry, memory budget, temporary files, export."""

from __future__ import annotations

import faulthandler
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from faceapp.core.errors import ExportError, ImageError
from faceapp.core.export import export_photo, is_faceapp_output
from faceapp.core.faces import align_face, face_from_box
from faceapp.core.memory import MemoryBudgetError, MemoryLimit, check_memory_budget, estimate_peak_bytes, parse_size
from faceapp.core.photo_io import read_photo
from faceapp.core.tempfiles import STALE_AGE, create_temp, host_tag, sweep_stale, temp_prefix
from faceapp.core.templates import face_template


@pytest.fixture
def watchdog():
    faulthandler.dump_traceback_later(120, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 200, 3), (200, 1, 3)])
def test_alignment_refuses_a_source_opencv_would_spin_on(shape, watchdog):
    template = face_template("ffhq5", 64)
    with pytest.raises(ImageError, match="too small to hold a face"):
        align_face(np.zeros(shape, np.uint8), template, template=template, size=64)


def test_alignment_refuses_a_face_far_beyond_the_photo(watchdog):
    rgb = np.zeros((90, 120, 3), np.uint8)
    template = face_template("ffhq5", 64)
    huge = face_from_box((-1e9, -1e9, 1e9, 1e9)).landmarks
    far = face_from_box((1e6, 1e6, 1e6 + 60, 1e6 + 60)).landmarks
    for landmarks in (huge, far):
        with pytest.raises(ImageError, match="reaches far beyond the 120×90 photo"):
            align_face(rgb, landmarks, template=template, size=64)
    # A face as large as allowed still aligns, through a reduced region of at least 2 pixels.
    crop, _ = align_face(rgb[:9], face_from_box((0, 0, 400, 30)).landmarks, template=template, size=64)
    assert crop.shape == (64, 64, 3)


def test_face_boxes_must_be_finite_and_usable():
    for box in [(0, 0, 1, 1), (0, 0, 50, 1), (0, 0, float("nan"), 10), (0, 0, float("inf"), 10)]:
        with pytest.raises(ValueError):
            face_from_box(box)


def test_memory_estimate_refuses_what_cannot_fit_and_names_the_ways_out():
    """Issue 13's 120 MP photo at ×4 (a 1.9-gigapixel result: the background and the composite alone
    are 11.5 GB; tests/test_memory.py checks the estimate against measured peaks)."""
    width, height = 13400, 8950  # 119.9 MP, under the 120 MP limit
    png = estimate_peak_bytes(width, height, upscale=4, fmt="PNG")
    jpeg = estimate_peak_bytes(width, height, upscale=4, fmt="JPEG")
    assert 2 * 3 * width * height * 16 < png < jpeg
    with pytest.raises(MemoryBudgetError) as caught:
        check_memory_budget(width, height, upscale=4, fmt="JPEG", limit=MemoryLimit(16 * 2**30, "the test's limit"))
    message = str(caught.value)
    assert "13400×8950 pixels at ×4 as JPEG" in message and "the test's limit" in message
    assert "×2 needs 12.3 GiB" in message
    assert "PNG output" not in message  # ×4 as PNG needs 38.0 GiB: not a way out under 16 GiB
    with pytest.raises(MemoryBudgetError) as caught:
        check_memory_budget(width, height, upscale=4, fmt="JPEG", limit=MemoryLimit(45 * 2**30, "the test's limit"))
    assert "PNG output (needs 38.0 GiB)" in str(caught.value)
    check_memory_budget(width, height, upscale=1, fmt="JPEG", limit=MemoryLimit(8 * 2**30, "the test's limit"))
    check_memory_budget(width, height, upscale=4, fmt="JPEG", limit=MemoryLimit(None, "no check"))


def test_a_name_holding_a_lone_surrogate_is_shown_escaped():
    """Sceptic QA: a Windows name can hold a lone surrogate no byte made; every message naming it
    failed with a UnicodeEncodeError."""
    from faceapp.core.pathtext import message_text, plain_text

    assert plain_text("scan\ud800.jpg") == "scan\\ud800.jpg"
    assert message_text("Saved scan\ud800.jpg.") == "Saved scan\\ud800.jpg."


def test_memory_sizes_parse():
    assert parse_size("16G") == 16 * 2**30 and parse_size("800MB") == 800 * 2**20
    assert parse_size("1.5GiB") == int(1.5 * 2**30) and parse_size("123") == 123 and parse_size("0") == 0
    with pytest.raises(ValueError):
        parse_size("lots")
    with pytest.raises(ValueError, match="not a memory size"):  # (locale QA: the Turkish İ matched the i of
        parse_size("16İ")  # GiB under IGNORECASE, and 16İ was 16 bytes)
    with pytest.raises(ValueError, match="a decimal point, not a comma"):  # a decimal comma is told how to write it
        parse_size("1,5G")
    assert parse_size("16\u00a0G") == 16 * 2**30 and parse_size("2gb") == 2 * 2**30  # (sceptic QA: a no-break space)


def test_a_killed_runs_temporary_files_are_swept_but_not_a_live_ones(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    leftover = tmp_path / f"{temp_prefix('photo_restored', dead_pid)}abcd_123.part"
    leftover.write_bytes(b"partial")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f"{temp_prefix('other', live.pid)}zzzz9999.part"
        busy.write_bytes(b"being written")
        fd, mine = create_temp(tmp_path, "mine", ".part")
        os.close(fd)
        unrelated = tmp_path / ".notes.part"
        unrelated.write_text("not ours")
        assert sweep_stale(tmp_path, ".part") == [leftover]
        assert busy.exists() and os.path.exists(mine) and unrelated.exists()
    finally:
        live.kill()
        live.wait()


def test_a_temporary_name_does_not_spell_out_the_computers_name(tmp_path):
    """Privacy QA: a killed run's leftover beside the photo (in a synced or shared folder, maybe)
    was named ".wedding_restored.annas-laptop.30831.….part". The machine is told by a digest."""
    import socket

    name = socket.gethostname()
    tag = host_tag()
    assert f".{name}." not in temp_prefix("wedding_restored") and len(tag) == 12
    assert re.fullmatch(r"[0-9a-f]{12}", tag) and tag == host_tag()  # the same machine, the same tag


def test_a_killed_run_of_an_earlier_faceapp_on_this_machine_is_swept_at_once(tmp_path):
    """Upgrade QA: before 2026-12-06 faceapp named the machine itself in temporary names; a killed
    run's leftover of such a version waited an hour, taken for another machine's."""
    import socket

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    earlier_name = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"
    leftover = tmp_path / f".photo_restored.{earlier_name}.{int(dead.stdout)}.abcd_123.part"
    running = tmp_path / f".photo_restored.{earlier_name}.{os.getpid()}.abcd_123.part"
    for path in (leftover, running):
        path.write_bytes(b"half a file")
    assert sweep_stale(tmp_path, ".part") == [leftover] and running.exists()


def test_temporary_files_whose_process_cannot_be_checked_are_swept_only_when_old(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    # Another machine writing into a shared folder (its process ids mean nothing here), and an
    # older faceapp's name without a machine: kept while recent, however dead the id is here.
    elsewhere = tmp_path / f".photo_restored.not-{host_tag()}.{dead_pid}.abcd_123.part"
    unnamed = tmp_path / f".photo_restored.{dead_pid}.q1w2e3r4.part"
    for path in (elsewhere, unnamed):
        path.write_bytes(b"being written")
    assert sweep_stale(tmp_path, ".part") == []
    assert sweep_stale(tmp_path, ".part", now=time.time() + STALE_AGE - 60) == []
    assert sorted(sweep_stale(tmp_path, ".part", now=time.time() + STALE_AGE + 60)) == sorted([elsewhere, unnamed])


def test_export_sweeps_leftovers_and_never_replaces_the_source(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f"{temp_prefix('big_restored', int(dead.stdout))}q1w2e3r4.part"
    leftover.write_bytes(b"GBs once")
    Image.new("RGB", (32, 24), (1, 2, 3)).save(tmp_path / "source.png")
    photo = read_photo(tmp_path / "source.png")
    before = (tmp_path / "source.png").read_bytes()
    with pytest.raises(ExportError, match="is the original photo"):
        export_photo(photo.rgb, None, photo, tmp_path / "source.png", overwrite=True)
    with pytest.raises(ExportError, match="is the original photo"):
        export_photo(photo.rgb, None, photo, tmp_path / "." / "source.png", overwrite=True)
    assert (tmp_path / "source.png").read_bytes() == before
    written = export_photo(photo.rgb, None, photo, tmp_path / "source.png", unique=True, provenance={"model": "m"})
    assert written == tmp_path / "source_2.png"
    assert not leftover.exists()
    assert is_faceapp_output(written) and not is_faceapp_output(tmp_path / "source.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.png", "source_2.png"]


def test_the_header_probe_decodes_nothing_and_turns_the_size_upright(tmp_path):
    from faceapp.core.photo_io import probe_photo

    exif = Image.Exif()
    exif[0x0112] = 6  # a quarter turn
    Image.new("RGB", (64, 48)).save(tmp_path / "turned.jpg", exif=exif.tobytes())
    header = probe_photo(tmp_path / "turned.jpg")
    assert (header.width, header.height, header.alpha, header.format) == (48, 64, False, "JPEG")
    Image.new("RGBA", (30, 20)).save(tmp_path / "clear.png")
    assert probe_photo(tmp_path / "clear.png").alpha
    truncated = (tmp_path / "clear.png").read_bytes()[:60]  # the header, no pixels
    (tmp_path / "header_only.png").write_bytes(truncated)
    assert (probe_photo(tmp_path / "header_only.png").width, probe_photo(tmp_path / "header_only.png").height) == (30, 20)
    assert probe_photo(tmp_path / "nowhere.png") is None


def test_memory_estimate_counts_the_copy_a_transparent_jpeg_is_flattened_into():
    width, height = 4000, 3000
    outputs = width * height * 4
    opaque = estimate_peak_bytes(width, height, upscale=2, fmt="JPEG")
    transparent = estimate_peak_bytes(width, height, upscale=2, fmt="JPEG", alpha=True)
    assert transparent - opaque >= outputs * (1 + 3)  # the alpha channel, and the RGB copy over white


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_the_cli_refuses_a_fifo_named_on_its_command_line_instead_of_hanging(tmp_path):
    """`faceapp-cli restore fifo.jpg` used to block forever in the header probe (opening a FIFO waits
    for a writer). Run in a child process with a timeout, so a regression fails instead of hanging."""
    fifo = tmp_path / "fifo.jpg"
    os.mkfifo(fifo)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        done = subprocess.run([sys.executable, "-m", "faceapp.cli", "restore", str(fifo), "-o", str(tmp_path / "out"),
                               "--no-progress"], cwd=repo, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("faceapp-cli restore hung on a FIFO")
    assert done.returncode == 1, done.stderr
    assert f"{fifo}: cannot read it: it is not a regular file (a device, pipe or socket)." in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_each_kind_of_failure_has_its_word_for_scripts():
    """``--json``'s error_kind: a subclass keeps its own word, not its base's (review: every
    ImageError, a too-large scan too, was "unreadable")."""
    from faceapp.core import errors
    from faceapp.core.memory import MemoryBudgetError

    expected = {errors.ImageError: "unreadable", errors.PhotoTooLargeError: "too_large", MemoryBudgetError: "too_large",
                errors.FaceGeometryError: "face", errors.MaskError: "mask", errors.NoFaceFoundError: "no_face",
                errors.ExportError: "write", errors.NamePatternError: "write", errors.CorruptModelError: "model",
                errors.ModelNotFoundError: "model", errors.DetectorUnavailableError: "detector",
                errors.OutOfMemoryError: "device", errors.FaceappError: "other"}
    assert {cls: cls.kind for cls in expected} == expected


def test_on_windows_a_temporary_path_longer_than_max_path_is_given_in_extended_form(tmp_path, monkeypatch):
    """Portability QA: a result whose path fits Windows' 259 characters could not be written, its
    temporary file's path (hidden name, machine, process, random part) being ~35 characters longer."""
    import types

    from faceapp.core import tempfiles

    result = "holiday_1987_restored.jpg"
    folder = tmp_path / ("d" * (tempfiles.WINDOWS_MAX_PATH - len(str(tmp_path)) - 2 - len(result)))
    folder.mkdir()
    assert len(str(folder / result)) == tempfiles.WINDOWS_MAX_PATH  # the result itself just fits
    fd, path = create_temp(folder, "holiday_1987_restored", ".part")
    os.close(fd)
    assert os.path.dirname(path) == str(folder)  # elsewhere than Windows: as it is
    monkeypatch.setattr(tempfiles, "sys", types.SimpleNamespace(platform="win32"))
    made_in = tempfiles._temp_folder(folder, "holiday_1987_restored", ".part")
    assert made_in.startswith("\\\\?\\") and made_in.endswith(str(folder))
    assert tempfiles._temp_folder(tmp_path, "holiday_1987_restored", ".part") == tmp_path  # where it fits, as is
    assert tempfiles.extended_length_path("C:\\Users\\anna\\scans") == "\\\\?\\C:\\Users\\anna\\scans"
    assert tempfiles.extended_length_path("\\\\nas\\photos\\1987") == "\\\\?\\UNC\\nas\\photos\\1987"
    assert tempfiles.extended_length_path("\\\\?\\D:\\x") == "\\\\?\\D:\\x"
