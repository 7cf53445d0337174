"""The memory budget's estimate against the peaks measured by running the real CLI.

What a user relies on: a photo that passes the check is not killed for memory halfway (the estimate
is at least the measured peak), and a photo that would fit is not refused for a wildly pessimistic
figure (the estimate is at most a fifth above it where the photo is what the estimate assumes).
"""

from __future__ import annotations

import pytest

import cv2
import numpy as np

from faceapp.core.damage import fill_peak_bytes
from faceapp.core.memory import (
    PORTRAIT_FACE_AREA,
    MemoryBudgetError,
    MemoryLimit,
    check_memory_budget,
    estimate_peak_bytes,
    face_area_of,
    parse_size,
)

# Peak RSS of `faceapp-cli restore PHOTO --upscale S --format F` with the bundled faceapp-compact on
# 2 CPU cores (/usr/bin/time -v and /proc sampling): a portrait of three faces (the faces' regions
# cover 1.25 and 0.95 of the photo) enlarged to 24 MP (6000×4000) and 48 MP (8000×6000), and the QA
# review's 110 MP (11000×10000) photo of the same portrait.
MEASURED_PORTRAITS = [
    (6000, 4000, 1, "JPEG", 1.73e9),
    (6000, 4000, 1, "PNG", 1.57e9),
    (6000, 4000, 2, "JPEG", 3.24e9),
    (6000, 4000, 2, "PNG", 3.06e9),
    (8000, 6000, 1, "JPEG", 2.37e9),
    (8000, 6000, 1, "PNG", 2.07e9),
    (8000, 6000, 2, "JPEG", 4.97e9),
    (8000, 6000, 2, "PNG", 4.85e9),
    (11000, 10000, 1, "JPEG", 3.85e9),
]


@pytest.mark.parametrize(("width", "height", "upscale", "fmt", "peak"), MEASURED_PORTRAITS,
                         ids=[f"{w * h / 1e6:.0f}MP-x{s}-{f}" for w, h, s, f, _ in MEASURED_PORTRAITS])
def test_the_estimate_covers_the_measured_peak_and_is_not_wildly_above_it(width, height, upscale, fmt, peak):
    estimate = estimate_peak_bytes(width, height, upscale=upscale, fmt=fmt)
    assert peak <= estimate <= 1.2 * peak, f"estimate {estimate / 1e9:.2f} GB for a measured {peak / 1e9:.2f} GB"
    # So a limit below the measured peak refuses the photo before any work, instead of a kill halfway.
    with pytest.raises(MemoryBudgetError):
        check_memory_budget(width, height, upscale=upscale, fmt=fmt, limit=MemoryLimit(int(peak) - 1, "the test's limit"))


# Peak RSS of `faceapp-cli restore big16.png --upscale S` (PNG; /usr/bin/time -v): gf_Blake_Lively
# enlarged to a 6000×4000 48-bit PNG (its faces' regions 0.77 of it), written in 16 bits per channel
# (and with --8-bit: 1.49 and 2.70 GB).
MEASURED_SIXTEEN_BIT = [(1, 1.69e9), (2, 3.38e9)]


@pytest.mark.parametrize(("upscale", "peak"), MEASURED_SIXTEEN_BIT)
def test_a_16_bit_result_is_estimated_with_its_16_bit_pixels(upscale, peak):
    estimate = estimate_peak_bytes(6000, 4000, upscale=upscale, fmt="PNG", face_area=0.77, sixteen_bit=True)
    assert peak <= estimate <= 1.2 * peak, f"estimate {estimate / 1e9:.2f} GB for a measured {peak / 1e9:.2f} GB"
    eight = estimate_peak_bytes(6000, 4000, upscale=upscale, fmt="PNG", face_area=0.77)
    assert eight < peak  # the 8-bit estimate would let it be killed
    limit = MemoryLimit(int(peak) - 1, "the test's limit")
    with pytest.raises(MemoryBudgetError, match=r"in 16 bits per channel.*8 bits per channel \(--8-bit\) \(needs"):
        check_memory_budget(6000, 4000, upscale=upscale, fmt="PNG", face_area=0.77, sixteen_bit=True, limit=limit,
                            eight_bit_setting="--8-bit")


# Peak RSS of `faceapp-cli restore big.png --mask MASK` (PNG, ×1; /usr/bin/time -v): cf_00 enlarged
# to 6000×4000 (four faces, their regions 0.135 of it) with a torn corner (2500×3500 px) or twelve
# 6 px scratches across it; without a mask 1.23 GB.
MEASURED_FILLS = [("corner", 1.98e9), ("scratches", 1.65e9)]


def _damage(kind: str) -> np.ndarray:
    mask = np.zeros((4000, 6000), np.uint8)
    if kind == "corner":
        mask[:2500, :3500] = 255
    rng = np.random.default_rng(0)
    for _ in range(12 if kind == "scratches" else 0):
        x0, y0, x1, y1 = (int(rng.integers(0, limit)) for limit in (6000, 4000, 6000, 4000))
        cv2.line(mask, (x0, y0), (x1, y1), 255, 6)
    return mask


@pytest.mark.parametrize(("kind", "peak"), MEASURED_FILLS)
def test_the_fill_of_the_damage_marked_counts_toward_the_peak(kind, peak):
    fill = fill_peak_bytes(_damage(kind))
    estimate = estimate_peak_bytes(6000, 4000, upscale=1, fmt="PNG", face_area=0.135, fill_bytes=fill)
    assert peak <= estimate <= 1.2 * peak, f"estimate {estimate / 1e9:.2f} GB for a measured {peak / 1e9:.2f} GB"
    with pytest.raises(MemoryBudgetError, match="needs about"):  # (what fits without the fill does not with it)
        check_memory_budget(6000, 4000, upscale=1, fmt="PNG", face_area=0.135, fill_bytes=fill,
                            limit=MemoryLimit(int(peak) - 1, "the test's limit"))
    check_memory_budget(6000, 4000, upscale=1, fmt="PNG", face_area=0.135, limit=MemoryLimit(int(peak) - 1, "the test's limit"))


def test_a_16_bit_result_that_fits_only_smaller_and_in_8_bits_is_told_so():
    """×2 in 16 bits needs 3.96 GB, in 8 bits 2.79, ×1 in 16 bits 1.99 and in 8 bits 1.56 (1.5 GiB): under a
    1.8 GB limit only the last fits, and the message says so rather than "a machine with more memory"."""
    limit = MemoryLimit(int(1.8e9), "the test's limit")
    with pytest.raises(MemoryBudgetError) as caught:
        check_memory_budget(6000, 4000, upscale=2, fmt="PNG", face_area=0.77, sixteen_bit=True, limit=limit,
                            eight_bit_setting="--8-bit")
    assert "Choose a smaller upscale in 8 bits per channel (--8-bit) (×1 needs 1.5 GiB), or a machine" in str(caught.value)


#: The five landmarks of one face of the measured group photo (forty such faces, 360 px crops of
#: ../shared/testdata/faces on a 6000×4000 background, detected with boxes of about 200×250 px).
GROUP_FACE_LANDMARKS = [[286, 312], [378, 316], [329, 372], [291, 406], [369, 409]]


def _group_photo_faces(enabled: bool = True):
    import dataclasses

    from faceapp.core.faces import face_from_landmarks

    faces = [face_from_landmarks(np.array(GROUP_FACE_LANDMARKS) + [c * 720, r * 760]) for r in range(5) for c in range(8)]
    return [dataclasses.replace(f, enabled=enabled) for f in faces]


def test_a_photo_with_small_faces_is_estimated_from_its_faces():
    """The group photo ×2 JPEG peaked at 2.18 GB (`faceapp-cli restore`, /usr/bin/time -v): the
    default (a portrait: 3.50 GB) would refuse it under a limit it fits in; its faces' own area is
    close (the estimate at most a fifth above the peak)."""
    faces = _group_photo_faces()
    area = face_area_of(faces, 6000, 4000)
    given = estimate_peak_bytes(6000, 4000, upscale=2, fmt="JPEG", face_area=area)
    default = estimate_peak_bytes(6000, 4000, upscale=2, fmt="JPEG")
    assert default == estimate_peak_bytes(6000, 4000, upscale=2, fmt="JPEG", face_area=PORTRAIT_FACE_AREA)
    assert 2.18e9 <= given <= 1.2 * 2.18e9 < default
    limit = MemoryLimit(int(given), "the test's limit")
    check_memory_budget(6000, 4000, upscale=2, fmt="JPEG", face_area=area, limit=limit)
    with pytest.raises(MemoryBudgetError):
        check_memory_budget(6000, 4000, upscale=2, fmt="JPEG", limit=limit)


def test_the_face_area_counts_the_faces_restored_where_they_lie_on_the_photo():
    """Each face counts the box its aligned crop covers (about three times the face's), clipped to
    the photo; switched-off faces are not restored and count nothing."""
    from faceapp.core.faces import face_from_box

    faces = _group_photo_faces()
    one = face_area_of(faces[:1], 6000, 4000)
    assert 0.004 < one < 0.01  # a face of ~250 px: a crop footprint of about 600 px a side
    assert face_area_of(faces, 6000, 4000) == pytest.approx(40 * one)
    assert face_area_of(_group_photo_faces(enabled=False), 6000, 4000) == 0.0
    assert face_area_of([], 6000, 4000) == 0.0
    # A face filling a portrait: its crop reaches past the photo, which is all that counts.
    assert face_area_of([face_from_box((50, 50, 550, 550))], 600, 600) == pytest.approx(1.0)
    # The same face in a corner: a good part of its crop lies outside.
    corner = face_from_box((0, 0, 200, 200))
    assert face_area_of([corner], 6000, 4000) < 0.7 * face_area_of([face_from_box((2000, 2000, 2200, 2200))], 6000, 4000)


def test_the_estimate_grows_with_what_costs_memory():
    base = estimate_peak_bytes(4000, 3000, upscale=2, fmt="PNG")
    assert estimate_peak_bytes(4000, 3000, upscale=4, fmt="PNG") > base
    assert estimate_peak_bytes(4000, 3000, upscale=2, fmt="PNG", alpha=True) > base
    assert estimate_peak_bytes(4000, 3000, upscale=2, fmt="PNG", face_area=2.0) > base
    assert estimate_peak_bytes(4000, 3000, upscale=2, fmt="PNG", face_area=0.0) < base
    for fmt in ("JPEG", "WEBP"):  # each goes through a full copy in Pillow; PNG and TIFF are written in bands
        assert estimate_peak_bytes(4000, 3000, upscale=2, fmt=fmt) > base
    assert estimate_peak_bytes(4000, 3000, upscale=2, fmt="TIFF") == base


def test_a_limit_is_said_back_in_the_units_it_was_given_in():
    """--memory-limit 1G is 1 GiB: the refusal says "1.0 GiB", not "1.1 GB" (decimal)."""
    limit = MemoryLimit(parse_size("1G"), "--memory-limit", "--memory-limit")
    with pytest.raises(MemoryBudgetError) as caught:
        check_memory_budget(6000, 4000, upscale=2, fmt="PNG", face_area=0.77, limit=limit)
    assert "more than the 1.0 GiB of --memory-limit" in str(caught.value)


def test_a_check_before_the_faces_are_found_gives_the_range_and_a_limit_that_fits_the_most():
    """QA: 12000x9000 at x2 was refused "needs about 5.3 GiB (e.g. --memory-limit 6G)"; with 6G it
    was refused again after 32 s of face detection, now needing 10.1 GiB."""
    limit = MemoryLimit(parse_size("1M"), "--memory-limit", "--memory-limit")
    with pytest.raises(MemoryBudgetError) as caught:
        check_memory_budget(12000, 9000, upscale=2, fmt="JPEG", face_area=0.0, limit=limit, faces_unknown=True)
    least = estimate_peak_bytes(12000, 9000, upscale=2, fmt="JPEG", face_area=0.0)
    most = estimate_peak_bytes(12000, 9000, upscale=2, fmt="JPEG", face_area=1.0)
    message = str(caught.value)
    assert f"from about {least / 2**30:.1f} GiB to {most / 2**30:.1f} GiB (the larger its faces, the more)" in message
    suggested = int(message.split("e.g. --memory-limit ")[1].split("G")[0])
    assert suggested * 2**30 >= most  # following the advice is not refused once the faces are found
    check_memory_budget(12000, 9000, upscale=2, fmt="JPEG", face_area=1.0,
                        limit=MemoryLimit(suggested * 2**30, "--memory-limit", "--memory-limit"))


def test_a_range_whose_ends_read_alike_is_said_as_one_figure():
    """Sceptic QA: a small photo checked before its faces were found "needs from about 1.0 GiB to
    1.0 GiB"."""
    limit = MemoryLimit(parse_size("50M"), "--memory-limit", "--memory-limit")
    with pytest.raises(MemoryBudgetError) as caught:
        check_memory_budget(400, 225, upscale=1, fmt="JPEG", face_area=0.0, limit=limit, faces_unknown=True)
    assert "needs about 1.0 GiB of memory" in str(caught.value) and "from about" not in str(caught.value)


def test_showing_another_seed_of_a_photo_at_x1_is_not_told_to_use_a_smaller_upscale():
    """Review: the refusal advised "a smaller upscale" for a photo restored at ×1."""
    from faceapp.core.memory import check_recomposite_memory

    limit = MemoryLimit(1000, "the memory free on this machine")
    for scale, advised in ((1, False), (2, True)):
        with pytest.raises(MemoryBudgetError) as caught:
            check_recomposite_memory(400, 300, upscale=scale, upscale_setting="Settings ▸ Background upscale", limit=limit)
        assert ("smaller upscale" in str(caught.value)) is advised


def _group_files(folder, limit_name, limit, usage_name, usage):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / limit_name).write_text(f"{limit}\n")
    (folder / usage_name).write_text(f"{usage}\n")


def test_a_limit_on_this_processs_own_control_group_is_seen(tmp_path):
    """Low-memory QA: a limit on the process's own group (systemd-run --scope -p MemoryMax=3G, a nested
    cgroup) was not seen, only the top level's: the job was killed by the system without a word."""
    from faceapp.core.memory import _cgroup_headroom

    root, membership = tmp_path / "cgroup", tmp_path / "self_cgroup"
    gib = 2**30
    _group_files(root, "memory.max", "max", "memory.current", 40 * gib)  # v2: the top, unlimited
    _group_files(root / "user.slice", "memory.max", 8 * gib, "memory.current", 5 * gib)
    _group_files(root / "user.slice" / "run-1.scope", "memory.max", 3 * gib, "memory.current", gib)
    membership.write_text("0::/user.slice/run-1.scope\n")
    assert _cgroup_headroom(root, membership) == 2 * gib  # the least of its own (2) and the slice's (3)
    membership.write_text("0::/user.slice\n")
    assert _cgroup_headroom(root, membership) == 3 * gib
    membership.write_text("0::/\n")
    assert _cgroup_headroom(root, membership) is None  # (in a container: its own root, here unlimited)
    v1, huge = tmp_path / "v1", 9223372036854771712
    _group_files(v1 / "memory", "memory.limit_in_bytes", huge, "memory.usage_in_bytes", 40 * gib)
    _group_files(v1 / "memory" / "qa168", "memory.limit_in_bytes", 3 * gib, "memory.usage_in_bytes", gib // 2)
    membership.write_text("12:pids:/\n11:memory:/qa168\n1:name=systemd:/\n")
    assert _cgroup_headroom(v1, membership) == 3 * gib - gib // 2
    assert _cgroup_headroom(tmp_path / "none", membership) is None


def test_what_the_process_holds_of_the_base_counts_as_free_for_the_job_once_it_holds_a_model(monkeypatch):
    """Low-memory QA: the window, holding its model and detector (the estimate's base), was refused a
    35 MP scan needing 0.7 GB more with 1.7 GB free: the base was counted in the need and out of the free.
    Sceptic QA: what a process holds before it loads a model may be photos, which are no base."""
    from faceapp.core import memory

    gib = 2**30
    monkeypatch.delenv(memory.MEMORY_LIMIT_ENV, raising=False)
    monkeypatch.setattr(memory, "available_memory", lambda: 2 * gib)
    monkeypatch.setattr(memory, "_held_now", lambda: 3 * gib)  # the model, the detector, other photos
    assert memory.memory_limit(base_held=True).bytes == 2 * gib + memory.BASE_BYTES  # (the base at most)
    assert memory.memory_limit().bytes == 2 * gib  # no model yet: what it holds is no base
    monkeypatch.setenv(memory.MEMORY_LIMIT_ENV, "3G")  # a limit set by the user is the whole job's
    assert memory.memory_limit(base_held=True).bytes == 3 * gib


def test_the_window_counts_its_model_as_the_restores_own_once_it_is_loaded(monkeypatch):
    from pathlib import Path
    from types import SimpleNamespace

    from faceapp.core import memory
    from faceapp.core.preferences import Preferences
    from faceapp.gui.backend import CoreBackend

    class Checked(Exception):
        pass

    limits = []

    def check(*args, limit=None, **kwargs):
        limits.append(limit.bytes)
        raise Checked

    monkeypatch.setattr("faceapp.core.application.check_restore_memory", check)
    monkeypatch.setattr(memory, "available_memory", lambda: 2**30)
    monkeypatch.setattr(memory, "_held_now", lambda: 2**31)
    monkeypatch.delenv(memory.MEMORY_LIMIT_ENV, raising=False)
    backend = CoreBackend(engine_factory=lambda prefs: SimpleNamespace(), detector_factory=lambda prefs: None)
    entry = SimpleNamespace(photo=SimpleNamespace(path=Path("a.jpg")), faces=[], painted=False, path=Path("a.jpg"))
    for loaded in (False, True):
        if loaded:
            backend.engine(Preferences())
        with pytest.raises(Checked):
            next(backend.restore_job(entry, Preferences())(lambda: False))
    assert limits == [2**30, 2**30 + memory.BASE_BYTES]
