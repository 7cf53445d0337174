"""The CPU bf16 choice: measured once per CPU, cached in the user cache folder, never on emulated bf16."""

from __future__ import annotations

import json

import pytest
import torch

from faceapp.core import cpu_bf16, devices
from faceapp.core.precision import resolve_precision

BF16_CPU = {"cpu_name": "Test CPU", "architecture": "x86_64", "avx512_bf16": True, "amx_bf16": False}


@pytest.fixture
def probe_calls(monkeypatch):
    """Replace the timing with a recorded verdict (bf16 fast) on a CPU with bf16 instructions."""
    calls = []

    def fake_measure():
        calls.append(1)
        return {"fp32_ms": 10.0, "bf16_ms": 5.0, "bf16_fast": True, "settled": True}

    monkeypatch.setattr(cpu_bf16, "cpu_capabilities", lambda: dict(BF16_CPU))
    monkeypatch.setattr(cpu_bf16, "measure", fake_measure)
    return calls


def test_a_cpu_without_bf16_instructions_gets_fp32_without_measuring(monkeypatch, tmp_path):
    monkeypatch.setattr(cpu_bf16, "cpu_capabilities", lambda: {**BF16_CPU, "avx512_bf16": False})
    monkeypatch.setattr(cpu_bf16, "measure", lambda: pytest.fail("emulated bf16 must not be timed"))
    assert cpu_bf16.bf16_is_faster(tmp_path) is False
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("feature", ["bf16", "sve_bf16"])
def test_an_arm_cpu_with_bf16_instructions_is_measured(probe_calls, tmp_path, monkeypatch, feature):
    """Portability QA: an Apple M2 or a Graviton 3 (torch names their BF16 extension "bf16", or
    "sve_bf16") got fp32 without being measured."""
    arm = {"cpu_name": "Apple M2", "architecture": "arm64", "neon": True, feature: True}
    monkeypatch.setattr(cpu_bf16, "cpu_capabilities", lambda: arm)
    assert cpu_bf16.bf16_is_faster(tmp_path) is True
    assert len(probe_calls) == 1
    monkeypatch.setattr(cpu_bf16, "cpu_capabilities", lambda: {**arm, feature: False})
    assert cpu_bf16.bf16_is_faster(tmp_path) is False  # (its cached verdict is another CPU's)
    assert len(probe_calls) == 1


def test_the_verdict_is_measured_once_and_cached(probe_calls, tmp_path):
    assert cpu_bf16.bf16_is_faster(tmp_path) is True
    assert cpu_bf16.bf16_is_faster(tmp_path) is True
    assert len(probe_calls) == 1
    cached = json.loads((tmp_path / "cpu-bf16.json").read_text())
    assert cached["fingerprint"]["cpu_name"] == "Test CPU" and cached["bf16_ms"] == 5.0


def test_a_cache_the_old_two_thread_probe_wrote_is_measured_again(probe_calls, tmp_path):
    """Review: the old probe's verdicts (no "settled": a busy machine could have fooled it into fp32
    for good) are measured once more."""
    old = {"fingerprint": cpu_bf16.fingerprint(BF16_CPU), "fp32_ms": 44.0, "bf16_ms": 45.2, "bf16_fast": False}
    (tmp_path / "cpu-bf16.json").write_text(json.dumps(old))
    assert cpu_bf16.bf16_is_faster(tmp_path) is True
    assert len(probe_calls) == 1 and json.loads((tmp_path / "cpu-bf16.json").read_text())["settled"] is True


def test_a_cache_of_another_cpu_or_torch_is_measured_again(probe_calls, tmp_path):
    stale = {"fingerprint": {**cpu_bf16.fingerprint(BF16_CPU), "torch": "1.0"}, "bf16_fast": False}
    (tmp_path / "cpu-bf16.json").write_text(json.dumps(stale))
    assert cpu_bf16.bf16_is_faster(tmp_path) is True
    assert len(probe_calls) == 1
    assert json.loads((tmp_path / "cpu-bf16.json").read_text())["fingerprint"]["torch"] == torch.__version__


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"fingerprint": 3}', ""])
def test_a_damaged_cache_is_measured_again_and_replaced(probe_calls, tmp_path, content):
    (tmp_path / "cpu-bf16.json").write_text(content)
    assert cpu_bf16.bf16_is_faster(tmp_path) is True
    assert len(probe_calls) == 1
    assert json.loads((tmp_path / "cpu-bf16.json").read_text())["bf16_fast"] is True


def test_an_unwritable_cache_folder_still_answers(probe_calls, tmp_path, caplog):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    assert cpu_bf16.bf16_is_faster(blocked) is True
    assert "could not cache" in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == [blocked.name]  # no temporary file left behind


def test_the_real_probe_times_both_precisions_and_leaves_the_thread_count_alone():
    threads = torch.get_num_threads()
    result = cpu_bf16.measure()
    assert result["fp32_ms"] > 0 and result["bf16_ms"] > 0
    assert result["bf16_fast"] == (result["bf16_ms"] <= cpu_bf16.FAST_RATIO * result["fp32_ms"])
    assert isinstance(result["settled"], bool)
    assert torch.get_num_threads() == threads


def test_the_probe_leaves_the_global_random_generator_alone():
    """A training run seeds torch, then asks whether bf16 is fast: a first run, which measures,
    must build the same network as the next, which reads the cached verdict (ML QA)."""
    torch.manual_seed(5)
    cpu_bf16.probe_rounds(rounds=2)
    after_probe = torch.rand(4)
    torch.manual_seed(5)
    assert torch.equal(torch.rand(4), after_probe)


def test_a_verdict_the_two_halves_disagree_on_is_used_but_not_cached(monkeypatch, tmp_path):
    """A busy machine at the first start: a spell that slowed bf16's first half gives an unsettled
    verdict; it is used, not kept, and the next start measures again (and keeps a settled one)."""
    busy_first_half = {"fp32": [10e-3] * 16, "bf16": [20e-3] * 8 + [7.5e-3] * 8}
    idle = {"fp32": [10e-3] * 16, "bf16": [9.5e-3] * 16}
    timings = iter([busy_first_half, idle])
    monkeypatch.setattr(cpu_bf16, "cpu_capabilities", lambda: dict(BF16_CPU))
    monkeypatch.setattr(cpu_bf16, "probe_rounds", lambda: next(timings))
    assert cpu_bf16.bf16_is_faster(tmp_path) is True  # best times 7.5 against 10 ms: bf16, this time
    assert not (tmp_path / "cpu-bf16.json").exists()
    assert cpu_bf16.bf16_is_faster(tmp_path) is False
    cached = json.loads((tmp_path / "cpu-bf16.json").read_text())
    assert cached["settled"] is True and cached["bf16_fast"] is False


@pytest.mark.parametrize(("said", "fast"), [("yes", True), ("On", True), ("false", False), ("no", False)])
def test_the_environment_may_say_yes_or_no_as_well_as_1_or_0(monkeypatch, said, fast):
    """Sysadmin QA: FACEAPP_CPU_BF16=yes was ignored without a word (only 0 and 1 counted)."""
    monkeypatch.setenv(devices.CPU_BF16_ENV, said)
    monkeypatch.setattr(devices, "_measured_bf16_fast", lambda: pytest.fail("measured, though told"))
    assert devices.cpu_runs_bf16_fast() is fast


def test_a_value_it_cannot_read_is_said_once_and_the_answer_measured(monkeypatch, caplog):
    monkeypatch.setenv(devices.CPU_BF16_ENV, "maybe")
    monkeypatch.setattr(devices, "_measured_bf16_fast", lambda: True)
    monkeypatch.setattr(devices, "_SAID_UNREAD", set())
    assert devices.cpu_runs_bf16_fast() is True and devices.cpu_runs_bf16_fast() is True
    assert caplog.text.count("FACEAPP_CPU_BF16=maybe is not 1 or 0") == 1


@pytest.mark.parametrize("fast", [True, False])
def test_auto_precision_follows_the_measurement(monkeypatch, fast):
    monkeypatch.delenv(devices.CPU_BF16_ENV)
    monkeypatch.setattr(cpu_bf16, "bf16_is_faster", lambda cache_dir: fast)
    devices._measured_bf16_fast.cache_clear()
    try:
        assert resolve_precision("auto", torch.device("cpu")).name == ("bf16" if fast else "fp32")
    finally:
        devices._measured_bf16_fast.cache_clear()
