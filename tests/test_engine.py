"""FaceEngine: restorer once per face, batched seeds, progress, cancellation, memory errors."""

import numpy as np
import pytest
import torch
from torch import nn

from faceapp.core.engine import FaceEngine
from faceapp.core.errors import Cancelled, CorruptModelError, OutOfMemoryError
from faceapp.core.settings import SamplerSettings


class CountingIdentity(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x


class TinyPrior(nn.Module):
    """A small conv net with a timestep input and 6 output channels (ε + variance)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(4, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 6, 3, padding=1)

    def forward(self, x, t):
        tt = (t.float() / 1000.0).view(-1, 1, 1, 1).expand(-1, 1, *x.shape[-2:])
        return self.conv2(torch.tanh(self.conv1(torch.cat([x, tt], 1))))


def _face(size=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def _engine(**kwargs):
    kwargs.setdefault("precision", "fp32")  # TinyPrior is float32 only
    return FaceEngine.from_networks(CountingIdentity(), TinyPrior(), face_size=32, name="tiny", **kwargs)


@pytest.mark.parametrize(("flag", "expected"), [("1", torch.bfloat16), ("0", torch.float32)])
def test_auto_precision_runs_bf16_networks_only_where_the_cpu_has_bf16(monkeypatch, flag, expected):
    """A CPU without bf16 matrix instructions falls back to fp32 by itself; the sampler's
    arithmetic (the candidates it returns) stays float32 either way."""
    from faceapp.core.nets.conv_restorer import ConvRestorer

    monkeypatch.setenv("FACEAPP_CPU_BF16", flag)
    restorer = ConvRestorer(unshuffle=2, channels=(8, 16), blocks=(1, 1), attention_head_channels=8)
    engine = FaceEngine.from_networks(restorer, None, face_size=32, name="tiny")  # precision "auto"
    assert next(engine.restorer.parameters()).dtype == expected
    assert engine.precision == {torch.bfloat16: "bf16", torch.float32: "fp32"}[expected]
    out = engine.restore_tensor(torch.rand(1, 3, 32, 32), sampler=SamplerSettings(fidelity=1.0), seeds=[0])
    assert out.dtype == torch.float32


def test_fidelity_one_returns_the_restorer_estimate_unchanged():
    engine = _engine()
    face = _face()
    out = engine.restore(face, sampler=SamplerSettings(fidelity=1.0), seeds=[0, 1])
    assert len(out) == 2
    np.testing.assert_array_equal(out[0], face)
    np.testing.assert_array_equal(out[1], face)


def test_restorer_runs_once_per_face_whatever_the_number_of_seeds():
    engine = _engine(max_batch=2)
    engine.restore(_face(), sampler=SamplerSettings(steps=3), seeds=[0, 1, 2, 3, 4])
    assert engine.restorer.calls == 1


def test_a_seed_gives_the_same_candidate_alone_or_in_a_batch():
    engine = _engine(max_batch=3)
    sampler = SamplerSettings(fidelity=0.3, steps=4, eta=1.0)
    face = _face(seed=3)
    batch = engine.restore_tensor(torch.from_numpy(face).permute(2, 0, 1)[None] / 255.0, sampler=sampler, seeds=[10, 11, 12, 13])
    for i, seed in enumerate([10, 11, 12, 13]):
        alone = engine.restore_tensor(torch.from_numpy(face).permute(2, 0, 1)[None] / 255.0, sampler=sampler, seeds=[seed])
        torch.testing.assert_close(batch[i : i + 1], alone, rtol=0, atol=1e-4)
    assert not torch.allclose(batch[0], batch[1]), "different seeds must give different candidates"


def test_progress_reports_each_step_with_a_preview():
    engine = _engine(max_batch=2)
    infos = []
    engine.restore(_face(), sampler=SamplerSettings(steps=3), seeds=[0, 1, 2], on_step=infos.append)
    assert [i.step for i in infos] == list(range(1, 7))  # 3 steps × 2 batches
    assert all(i.total == 6 for i in infos)
    assert infos[0].preview.shape == (32, 32, 3) and infos[0].preview.dtype == np.uint8


def test_cancel_stops_within_a_step_and_the_engine_stays_usable():
    engine = _engine()
    seen = []
    with pytest.raises(Cancelled):
        engine.restore(_face(), sampler=SamplerSettings(steps=8), seeds=[0], on_step=seen.append,
                       should_cancel=lambda: len(seen) >= 2)
    assert len(seen) == 2
    out = engine.restore(_face(), sampler=SamplerSettings(steps=2), seeds=[0])
    assert out[0].shape == (32, 32, 3)


def test_faces_of_another_size_are_resized_to_the_model_size():
    engine = _engine()
    out = engine.restore(_face(size=48), sampler=SamplerSettings(steps=2), seeds=[0])
    assert out[0].shape == (32, 32, 3)
    with pytest.raises(ValueError):
        engine.restore(np.zeros((32, 32), np.uint8), sampler=SamplerSettings(), seeds=[0])


def test_out_of_memory_splits_the_batch_and_keeps_the_results():
    class Roomy(TinyPrior):
        def forward(self, x, t):
            if x.shape[0] > 2:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return super().forward(x, t)

    sampler = SamplerSettings(steps=3, eta=1.0)
    engine = FaceEngine.from_networks(CountingIdentity(), Roomy(), face_size=32, max_batch=4, precision="fp32")
    infos = []
    batched = engine.restore(_face(), sampler=sampler, seeds=[0, 1, 2, 3], on_step=infos.append)
    assert engine.max_batch == 2  # kept for the next call
    assert infos[-1].step == infos[-1].total == 6
    alone = _engine().restore(_face(), sampler=sampler, seeds=[3])
    assert np.abs(batched[3].astype(int) - alone[0].astype(int)).max() <= 1


def test_out_of_memory_with_one_face_becomes_one_clear_message():
    class Hungry(TinyPrior):
        def forward(self, x, t):
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    engine = FaceEngine.from_networks(CountingIdentity(), Hungry(), face_size=32, precision="fp32")
    with pytest.raises(OutOfMemoryError, match="Out of memory on CPU .* close other programs"):
        engine.restore(_face(), sampler=SamplerSettings(), seeds=[0, 1])


def test_texture_polish_adds_its_steps_and_keeps_seeds_reproducible():
    engine = _engine(max_batch=2)
    face = _face(seed=5)
    infos = []
    polished = engine.restore(face, sampler=SamplerSettings(steps=4, polish_timestep=100), seeds=[3, 4, 5], on_step=infos.append)
    assert [i.timestep for i in infos[:6]] == [400, 300, 200, 100, 100, 50]  # main run, then the polish
    assert infos[-1].step == infos[-1].total == 12  # (4 + 2) steps × 2 batches
    alone = engine.restore(face, sampler=SamplerSettings(steps=4, polish_timestep=100), seeds=[5])
    assert np.abs(polished[2].astype(int) - alone[0].astype(int)).max() <= 1
    plain = engine.restore(face, sampler=SamplerSettings(steps=4), seeds=[3])
    assert not np.array_equal(plain[0], polished[0])


def test_polish_alone_works_on_the_restorer_estimate():
    engine = _engine()
    face = _face(seed=6)
    out = engine.restore(face, sampler=SamplerSettings(fidelity=1.0, polish_timestep=50), seeds=[0])
    assert not np.array_equal(out[0], face)  # the prior ran
    with pytest.raises(ValueError):
        SamplerSettings(polish_timestep=500)


class _Broken(nn.Module):
    """A network whose damaged weights make every output NaN."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, *args):
        out = self.network(*args)
        return torch.full_like(out, float("nan"))


@pytest.mark.parametrize("broken", ["restorer", "prior"])
def test_a_network_that_computes_nan_is_a_model_error_not_a_black_face(broken):
    restorer, prior = CountingIdentity(), TinyPrior()
    if broken == "restorer":
        restorer = _Broken(restorer)
    else:
        prior = _Broken(prior)
    engine = FaceEngine.from_networks(restorer, prior, face_size=32, name="damaged", precision="fp32")
    with pytest.raises(CorruptModelError, match=f"damaged's {broken} computed invalid numbers.*models verify damaged"):
        engine.restore(_face(), sampler=SamplerSettings(fidelity=0.5, steps=2), seeds=[0])


def test_the_memory_a_device_cached_is_given_back_on_every_kind_of_device(monkeypatch):
    """Portability QA: a Mac's MPS cache (its unified memory, the system's RAM) was never given back,
    after a batch that ran out of it either; CUDA's was, and the CPU's C heap."""
    import torch

    from faceapp.core import engine, host_memory

    given_back = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: given_back.append("cuda"))
    monkeypatch.setattr(torch.mps, "empty_cache", lambda: given_back.append("mps"))
    monkeypatch.setattr(host_memory, "return_freed_memory", lambda: given_back.append("cpu"))
    for device in ("cuda:0", "mps", "cpu"):
        engine.release_memory(device)
    assert given_back == ["cuda", "mps", "cpu"]
