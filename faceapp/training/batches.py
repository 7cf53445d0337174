"""Deterministic training batches: the batch of step s depends on (seed, s) alone.

Faces are visited in a fresh permutation each epoch; every sample draws its flip, crop and
degradation from a generator keyed by (seed, step, slot). So a resumed run, any number of
DataLoader workers, or a different machine all see exactly the same batches.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from faceapp.training.data import FaceDataset
from faceapp.training.degradation import sample_rng

SampleFn = Callable[[np.ndarray, np.random.Generator], dict[str, np.ndarray]]


def batch_indices(step: int, *, batch_size: int, n_items: int, seed: int) -> list[int]:
    """Indices of the faces in the batch of ``step`` (epoch-wise permutations of 0..n−1)."""
    out = []
    for slot in range(batch_size):
        position = step * batch_size + slot
        epoch, offset = divmod(position, n_items)
        out.append(int(_permutation(seed, epoch, n_items)[offset]))
    return out


@lru_cache(maxsize=4)
def _permutation(seed: int, epoch: int, n_items: int) -> np.ndarray:
    return np.random.Generator(np.random.PCG64([seed & 0xFFFFFFFF, 0x5EED, epoch])).permutation(n_items)


class StepBatches(torch.utils.data.Dataset):
    """Item ``s`` is the whole collated batch of training step ``s`` (use with batch_size=None)."""

    def __init__(self, dataset: FaceDataset, make_sample: SampleFn, *, batch_size: int, seed: int) -> None:
        self.dataset = dataset
        self.make_sample = make_sample
        self.batch_size = batch_size
        self.seed = seed

    def __len__(self) -> int:  # steps are unbounded; the sampler decides which are drawn
        return 2**62

    def __getitem__(self, step: int) -> dict[str, torch.Tensor]:
        indices = batch_indices(step, batch_size=self.batch_size, n_items=len(self.dataset), seed=self.seed)
        samples = [
            self.make_sample(self.dataset.image(i), sample_rng(self.seed, step, slot))
            for slot, i in enumerate(indices)
        ]
        return {k: torch.from_numpy(np.stack([s[k] for s in samples])) for k in samples[0]}


def to_chw_float(image: np.ndarray, *, signed: bool) -> np.ndarray:
    """HxWx3 uint8 → 3xHxW float32 in [0, 1] (or [−1, 1] when ``signed``)."""
    x = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / 255.0
    return x * 2.0 - 1.0 if signed else x
