"""Iterative refinement: the loop feeds each pass's output back and reports how much it changed."""

from __future__ import annotations

import numpy as np
import pytest
from pipeline_util import drain

from faceapp.core.refine import REFINE_FIDELITY, RefinePass, iter_refine, iter_refine_steps, pass_change, refine_sampler
from faceapp.core.settings import SamplerSettings


def run(image, restore, passes):
    return drain(iter_refine(image, restore, passes))


def test_each_pass_restores_the_previous_output_and_reports_its_change():
    target = np.full((8, 8, 3), 200, np.float64)
    inputs = []

    def halfway(image):  # a contraction towards the target: each pass changes half as much
        inputs.append(image)
        return np.round(image + (target - image) / 2).astype(np.uint8)

    start = np.zeros((8, 8, 3), np.uint8)
    final, passes = run(start, halfway, 3)
    assert [p.index for p in passes] == [1, 2, 3]
    assert inputs[0] is start and inputs[1] is passes[0].image and inputs[2] is passes[1].image
    assert final is passes[-1].image
    assert [p.change for p in passes] == pytest.approx([100, 50, 25])


def test_no_passes_returns_the_input_untouched():
    image = np.zeros((4, 4, 3), np.uint8)
    final, passes = run(image, lambda x: x + 1, 0)
    assert final is image and passes == []
    with pytest.raises(ValueError, match="passes"):
        run(image, lambda x: x, -1)


def test_pass_change_is_the_rms_difference_in_grey_levels():
    a = np.zeros((2, 2), np.uint8)
    b = np.array([[0, 0], [0, 20]], np.uint8)
    assert pass_change(a, b) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        pass_change(a, np.zeros((3, 3), np.uint8))


def test_refinement_samples_at_a_high_fidelity_but_never_lowers_one():
    assert refine_sampler(SamplerSettings(fidelity=0.3, steps=5)).fidelity == REFINE_FIDELITY
    assert refine_sampler(SamplerSettings(fidelity=0.95)).fidelity == 0.95
    assert refine_sampler(SamplerSettings(steps=5)).steps == 5


def test_a_restoration_that_reports_progress_is_refined_by_the_same_loop():
    def restore(image):  # two progress steps per pass, then ten grey levels brighter
        yield "step 1"
        yield "step 2"
        return image + 10

    final, items = drain(iter_refine_steps(np.zeros((4, 4), np.uint8), restore, 2))
    assert items[:2] == ["step 1", "step 2"] and items[3:5] == ["step 1", "step 2"]
    passes = [items[2], items[5]]
    assert all(isinstance(p, RefinePass) for p in passes) and [p.index for p in passes] == [1, 2]
    assert [p.change for p in passes] == pytest.approx([10, 10]) and (final == 20).all()
