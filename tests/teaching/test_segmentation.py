"""chdml.teaching.segmentation: structures, per-structure Dice, short-axis stacks."""
from __future__ import annotations

import numpy as np
import pytest

from chdml.data.synth import short_axis_slices
from chdml.teaching.segmentation import (STRUCTURES, dice_per_structure, patient_stack,
                                         stack_labels)


def test_is_a_hand_computed_dice_per_structure_right():
    truth = np.array([[1, 1, 2, 0], [3, 3, 2, 0]])
    prediction = np.array([[1, 0, 2, 0], [3, 0, 0, 0]])
    scores = dice_per_structure(truth, prediction)
    assert scores == pytest.approx({"LV": 2 / 3, "MYO": 2 / 3, "RV": 2 / 3})
    assert list(scores) == list(STRUCTURES) == ["LV", "MYO", "RV"]


def test_does_an_absent_structure_score_one():
    truth = np.array([[1, 2], [2, 0]])
    assert dice_per_structure(truth, truth)["RV"] == 1.0


def test_is_a_patient_stack_ordered_base_to_apex_in_volume_layout():
    slices = short_axis_slices(2, size=32, seed=3)
    order = np.random.default_rng(0).permutation(len(slices))  # shuffled rows
    for name in ("images", "masks", "patients", "phases", "slice_index", "spacing"):
        setattr(slices, name, getattr(slices, name)[order])
    images, masks, spacing = patient_stack(slices, "p0002", "ES")
    chosen = (slices.patients == "p0002") & (slices.phases == "ES")
    assert images.shape == (chosen.sum(), 32, 32, 1)
    assert masks.shape == (32, 32, chosen.sum())
    first = np.flatnonzero(chosen & (slices.slice_index == 0))[0]
    np.testing.assert_array_equal(masks[:, :, 0], slices.masks[first])
    assert len(spacing) == 3 and spacing[2] >= 5.0
    np.testing.assert_array_equal(stack_labels(np.moveaxis(masks, -1, 0)), masks)


def test_is_an_unknown_patient_named_with_the_choices():
    slices = short_axis_slices(1, size=16, seed=0)
    with pytest.raises(ValueError, match="p0001"):
        patient_stack(slices, "p0099", "ED")
