"""Workshop 4's comparator: per-structure Dice floors for a trained segmentation model."""
from __future__ import annotations

import numpy as np

from chdml.grading import compare
from chdml.grading.wire import ProducedError

FLOORS = compare.dice_per_structure_at_least(LV=(1, 0.8), MYO=(2, 0.6), RV=(3, 0.7))


def _truth():
    truth = np.zeros((2, 10, 10), np.uint8)
    truth[:, 2:6, 2:6] = 1
    truth[:, 6:8, 2:6] = 2
    truth[:, 2:6, 6:9] = 3
    return truth


def test_does_a_perfect_softmax_output_pass_every_structure():
    truth = _truth()
    scores = np.eye(4, dtype=np.float32)[truth]
    verdict = FLOORS(scores, truth, {"structure": "all"})
    assert verdict.passed and "MYO Dice 1.000" in verdict.got


def test_is_only_the_named_structure_judged():
    truth = _truth()
    without_myocardium = np.where(truth == 2, 0, truth)
    assert not FLOORS(without_myocardium, truth, {"structure": "MYO"}).passed
    assert FLOORS(without_myocardium, truth, {"structure": "LV"}).passed
    assert not FLOORS(without_myocardium, truth, {}).passed


def test_does_an_all_background_prediction_fail_with_dice_zero():
    truth = _truth()
    verdict = FLOORS(np.zeros_like(truth), truth, {"structure": "RV"})
    assert not verdict.passed and verdict.got == "RV Dice 0.000"


def test_are_wrong_shapes_errors_and_nan_refused_with_words():
    truth = _truth()
    assert "shape" in FLOORS(np.zeros((3, 10, 10)), truth, {}).got
    assert not FLOORS(ProducedError("NameError: x"), truth, {}).passed
    assert "NaN" in FLOORS(np.full((2, 10, 10, 4), np.nan), truth, {}).got


def test_does_a_structure_absent_from_both_count_as_perfect():
    truth = np.where(_truth() == 3, 0, _truth())
    assert compare.dice_of_label(truth, truth, 3) == 1.0


def test_does_the_comparator_survive_a_spec_round_trip():
    rebuilt = compare.from_spec(FLOORS.spec())
    assert rebuilt == FLOORS
