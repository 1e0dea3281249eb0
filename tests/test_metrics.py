"""Tests for chdml.metrics: hand-computed cases beside seeded comparisons with
independent implementations (scipy.spatial.distance, brute-force surface distances,
scipy.stats.mannwhitneyu, np.histogram2d)."""
from __future__ import annotations

import doctest
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import distance
from scipy.stats import mannwhitneyu

import chdml.metrics as metrics
from chdml.metrics import (accuracy, balanced_accuracy, confusion_matrix, dice, dice_per_label,
                           dice_per_slice, ejection_fraction, hausdorff95, hausdorff_distance,
                           iou, per_label, roc_auc, roc_curve, segmentation_scores, sensitivity,
                           specificity, stroke_volume, volume_ml)

trapezoid = getattr(np, "trapezoid", None) or np.trapz


def random_masks(rng, shape, density=None):
    """A pair of random binary masks; smooth blobs half the time, noise otherwise."""
    masks = []
    for _ in range(2):
        if rng.random() < 0.5:
            field = ndimage.gaussian_filter(rng.normal(size=shape), sigma=2)
            masks.append(field > np.quantile(field, 1 - (density or rng.uniform(0.05, 0.6))))
        else:
            masks.append(rng.random(shape) < (density or rng.uniform(0.01, 0.6)))
    return masks


# --------------------------------------------------------------------------- Dice / IoU
def test_is_the_dice_of_a_hand_made_2x2_pair_exactly_0_8():
    truth = np.array([[1, 1], [0, 0]])
    pred = np.array([[1, 1], [1, 0]])
    assert dice(truth, pred) == pytest.approx(0.8, abs=1e-15)  # 2*2 / (2+3)
    assert iou(truth, pred) == pytest.approx(2 / 3)  # 2 / 3


def test_do_empty_and_full_masks_follow_the_documented_convention():
    empty, full = np.zeros((3, 4), bool), np.ones((3, 4), bool)
    assert dice(empty, empty) == 1.0 and iou(empty, empty) == 1.0
    assert dice(empty, full) == 0.0 and dice(full, empty) == 0.0
    assert iou(full, empty) == 0.0
    assert dice(full, full) == 1.0 and iou(full, full) == 1.0
    assert math.isnan(dice(empty, empty, both_empty=np.nan))


@pytest.mark.parametrize("seed", range(20))
def test_do_dice_and_iou_equal_scipy_on_random_masks(seed):
    rng = np.random.default_rng(seed)
    shape = [(7, 9), (16, 16, 4), (3, 12, 10)][seed % 3]
    truth, pred = random_masks(rng, shape)
    assert truth.any() or pred.any()
    assert dice(truth, pred) == pytest.approx(1 - distance.dice(truth.ravel(), pred.ravel()))
    assert iou(truth, pred) == pytest.approx(1 - distance.jaccard(truth.ravel(), pred.ravel()))
    # the two are tied: dice = 2 iou / (1 + iou)
    assert dice(truth, pred) == pytest.approx(2 * iou(truth, pred) / (1 + iou(truth, pred)))


def test_does_dice_accept_0_1_integers_floats_and_booleans_alike():
    rng = np.random.default_rng(1)
    truth, pred = random_masks(rng, (10, 10), density=0.3)
    expected = dice(truth, pred)
    assert dice(truth.astype(np.uint8), pred.astype(np.float32)) == expected
    assert isinstance(expected, float)


def test_are_probabilities_refused_with_a_hint():
    with pytest.raises(ValueError, match="threshold probabilities"):
        dice(np.array([0, 1]), np.array([0.2, 0.9]))


def test_is_a_shape_mismatch_named():
    with pytest.raises(ValueError, match=r"same shape.*\(2, 2\).*\(2, 3\)"):
        dice(np.zeros((2, 2)), np.zeros((2, 3)))


def test_is_dice_per_slice_the_dice_of_each_slice_and_per_case_dice_pooled():
    rng = np.random.default_rng(2)
    truth, pred = random_masks(rng, (12, 12, 5), density=0.2)
    truth[..., 3] = False
    pred[..., 3] = False  # a slice empty in both
    pred[..., 4] = False  # a slice missed by the prediction
    per_slice = dice_per_slice(truth, pred)
    expected = [dice(truth[..., s], pred[..., s]) for s in range(5)]
    np.testing.assert_allclose(per_slice, expected)
    assert per_slice[3] == 1.0 and per_slice[4] == 0.0
    # batch layout (N, H, W): axis=0
    batch_truth, batch_pred = np.moveaxis(truth, -1, 0), np.moveaxis(pred, -1, 0)
    np.testing.assert_allclose(dice_per_slice(batch_truth, batch_pred, axis=0), expected)
    # the 3-D Dice pools voxels, which is not the mean of slices
    pooled = 2 * (truth & pred).sum() / (truth.sum() + pred.sum())
    assert dice(truth, pred) == pytest.approx(pooled)
    assert np.isnan(dice_per_slice(truth, pred, both_empty=np.nan)[3])


def test_does_dice_per_label_score_each_label_of_two_label_maps():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 4, size=(10, 10, 3)).astype(np.uint8)
    pred = rng.integers(0, 3, size=(10, 10, 3))  # never predicts the RV (3)
    scores = dice_per_label(truth, pred)
    assert list(scores) == [1, 2, 3]
    for label in (1, 2):
        assert scores[label] == pytest.approx(dice(truth == label, pred == label))
    assert scores[3] == 0.0
    # a label absent from both maps follows the convention
    assert dice_per_label(truth, pred, labels=(7,)) == {7: 1.0}


def test_does_per_label_pass_options_to_the_metric():
    truth = np.zeros((6, 6, 2), np.uint8)
    truth[1:4, 1:4, 0] = 1
    pred = truth.copy()
    per_slice = per_label(dice_per_slice, truth, pred, labels=(1,), both_empty=np.nan)
    assert per_slice[1][0] == 1.0 and np.isnan(per_slice[1][1])


def test_is_a_label_map_of_probabilities_refused():
    with pytest.raises(ValueError, match="argmax"):
        dice_per_label(np.zeros((2, 2)), np.full((2, 2), 0.4))


# ------------------------------------------------------------------------- Hausdorff
def brute_force_surface_distances(truth, pred, spacing):
    """Independent HD: boundary pixels by neighbour look-up, distances by cdist."""
    def boundary_points(mask):
        padded = np.pad(mask, 1, constant_values=False)
        inside = np.ones_like(mask)
        for axis in range(mask.ndim):
            for shift in (-1, 1):
                neighbour = np.roll(padded, shift, axis=axis)
                inside &= neighbour[tuple(slice(1, -1) for _ in range(mask.ndim))]
        return np.argwhere(mask & ~inside) * np.asarray(spacing)

    distances = distance.cdist(boundary_points(pred), boundary_points(truth))
    return distances.min(axis=1), distances.min(axis=0)  # pred->truth, truth->pred


def test_is_the_hd95_of_a_hand_made_line_and_point_right():
    truth = np.zeros((3, 12), bool)
    truth[1, 0] = True
    pred = np.zeros((3, 12), bool)
    pred[1, :10] = True  # distances to the point: 0, 1, ..., 9
    # 95th percentile of 0..9 with linear interpolation: 0.95 * 9
    assert hausdorff95(truth, pred) == pytest.approx(8.55)
    assert hausdorff_distance(truth, pred) == pytest.approx(9.0)
    assert hausdorff95(truth, pred, spacing=(1.0, 2.0)) == pytest.approx(17.1)


def test_does_hausdorff_use_anisotropic_spacing_in_3d():
    truth = np.zeros((5, 5, 4), bool)
    truth[2, 2, 0] = True
    pred = np.zeros((5, 5, 4), bool)
    pred[2, 3, 2] = True
    expected = math.hypot(1.25, 2 * 8.0)  # one column and two slices apart
    assert hausdorff95(truth, pred, spacing=(1.25, 1.25, 8.0)) == pytest.approx(expected)


def test_do_empty_masks_give_zero_or_infinity():
    empty = np.zeros((4, 4), bool)
    some = empty.copy()
    some[1, 1] = True
    assert hausdorff95(empty, empty) == 0.0
    assert hausdorff95(empty, some) == math.inf
    assert hausdorff95(some, empty, spacing=(1, 1)) == math.inf
    full = np.ones((4, 4), bool)
    assert hausdorff95(full, full) == 0.0


@pytest.mark.parametrize("seed", range(16))
def test_does_hausdorff_equal_a_brute_force_cdist_on_random_masks(seed):
    rng = np.random.default_rng(100 + seed)
    if seed % 2:
        shape, spacing = (14, 17), tuple(rng.uniform(0.5, 2.5, size=2))
    else:
        shape, spacing = (10, 12, 5), (1.25, 1.4, 8.0)
    truth, pred = random_masks(rng, shape)
    if not truth.any() or not pred.any():
        pytest.skip("needs two non-empty masks")
    pred_to_truth, truth_to_pred = brute_force_surface_distances(truth, pred, spacing)
    for q in (95, 100, 50):
        expected = max(np.percentile(pred_to_truth, q), np.percentile(truth_to_pred, q))
        got = hausdorff_distance(truth, pred, spacing, percentile=q)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert hausdorff95(truth, pred, spacing) == pytest.approx(
        max(np.percentile(pred_to_truth, 95), np.percentile(truth_to_pred, 95)))


def test_is_a_spacing_of_the_wrong_length_refused():
    mask = np.ones((3, 3, 3), bool)
    with pytest.raises(ValueError, match="one value per array axis"):
        hausdorff95(mask, mask, spacing=(1.0, 1.0))
    with pytest.raises(ValueError, match="positive"):
        volume_ml(mask, spacing=(1.0, 0.0, 1.0))


# ------------------------------------------------------------------- clinical numbers
def test_is_a_volume_counted_in_millilitres():
    labels = np.zeros((10, 10, 4), np.uint8)
    labels[2:7, 2:7, 1:3] = 1  # 50 voxels
    labels[0, 0, 0] = 3
    assert volume_ml(labels, (1.25, 1.25, 8.0), label=1) == pytest.approx(50 * 12.5 / 1000)
    assert volume_ml(labels, (1.25, 1.25, 8.0)) == pytest.approx(51 * 12.5 / 1000)
    assert volume_ml(labels == 1, (1.25, 1.25, 8.0)) == pytest.approx(0.625)
    assert volume_ml(np.zeros((3, 3, 3)), (1, 1, 1)) == 0.0
    with pytest.raises(ValueError, match="whole numbers"):
        volume_ml(np.full((2, 2, 2), 0.7), (1, 1, 1))


def test_are_ejection_fraction_and_stroke_volume_right():
    assert ejection_fraction(120.0, 50.0) == pytest.approx(100 * 70 / 120)
    assert stroke_volume(120.0, 50.0) == pytest.approx(70.0)
    assert ejection_fraction(80.0, 80.0) == 0.0
    np.testing.assert_allclose(ejection_fraction([100, 200], [40, 50]), [60.0, 75.0])


def test_are_impossible_volumes_refused_unless_not_strict():
    with pytest.raises(ValueError, match="end-diastolic volume must be above 0"):
        ejection_fraction(0.0, 0.0)
    with pytest.raises(ValueError, match="phases swapped"):
        ejection_fraction(40.0, 50.0)
    with pytest.raises(ValueError, match="negative"):
        ejection_fraction(-1.0, 0.0, strict=False)
    with pytest.raises(ValueError, match="finite"):
        stroke_volume(np.nan, 1.0)
    assert ejection_fraction(40.0, 50.0, strict=False) == pytest.approx(-25.0)
    assert math.isnan(ejection_fraction(0.0, 0.0, strict=False))
    assert stroke_volume(40.0, 50.0, strict=False) == -10.0


def test_does_segmentation_scores_fill_a_table_row_per_label():
    truth = np.zeros((8, 8, 3), np.uint8)
    truth[2:6, 2:6, :2] = 1
    pred = truth.copy()
    pred[2:6, 2:4, 1] = 0
    scores = segmentation_scores(truth, pred, (1.5, 1.5, 10.0), {"LV": 1, "RV": 3})
    lv, rv = scores["LV"], scores["RV"]
    assert lv["dice"] == pytest.approx(dice(truth == 1, pred == 1))
    assert lv["iou"] == pytest.approx(iou(truth == 1, pred == 1))
    assert lv["hausdorff95_mm"] == pytest.approx(hausdorff95(truth == 1, pred == 1,
                                                             (1.5, 1.5, 10.0)))
    assert lv["truth_ml"] == pytest.approx(32 * 22.5 / 1000)
    assert lv["predicted_ml"] == pytest.approx(24 * 22.5 / 1000)
    assert lv["both_empty"] is False
    assert rv == {"dice": 1.0, "iou": 1.0, "hausdorff95_mm": 0.0, "truth_ml": 0.0,
                  "predicted_ml": 0.0, "both_empty": True}
    assert list(segmentation_scores(truth, pred, (1, 1, 1), labels=(1,))) == [1]


# --------------------------------------------------------------------- classification
def test_are_the_binary_classification_numbers_right_by_hand():
    truth = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    pred = [1, 1, 1, 0, 0, 0, 0, 0, 1, 1]  # TP 3, FN 1, TN 4, FP 2
    assert accuracy(truth, pred) == pytest.approx(0.7)
    np.testing.assert_array_equal(confusion_matrix(truth, pred), [[4, 2], [1, 3]])
    assert sensitivity(truth, pred) == pytest.approx(0.75)
    assert specificity(truth, pred) == pytest.approx(4 / 6)
    assert balanced_accuracy(truth, pred) == pytest.approx((0.75 + 4 / 6) / 2)


@pytest.mark.parametrize("seed", range(10))
def test_does_the_confusion_matrix_equal_histogram2d(seed):
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(2, 6))
    truth = rng.integers(0, n_classes, size=200)
    pred = np.where(rng.random(200) < 0.6, truth, rng.integers(0, n_classes, size=200))
    bins = np.arange(n_classes + 1) - 0.5
    expected, _, _ = np.histogram2d(truth, pred, bins=[bins, bins])
    matrix = confusion_matrix(truth, pred, n_classes=n_classes)
    np.testing.assert_array_equal(matrix, expected.astype(int))
    assert accuracy(truth, pred) == pytest.approx(np.trace(expected) / 200)
    present = expected.sum(axis=1) > 0
    recalls = np.diag(expected)[present] / expected.sum(axis=1)[present]
    assert balanced_accuracy(truth, pred) == pytest.approx(recalls.mean())
    for c in range(n_classes):
        if present[c]:
            assert sensitivity(truth, pred, positive=c) == pytest.approx(
                expected[c, c] / expected[c].sum())
            negatives = np.delete(np.delete(expected, c, axis=0), c, axis=1).sum()
            assert specificity(truth, pred, positive=c) == pytest.approx(
                negatives / np.delete(expected, c, axis=0).sum())


def test_does_balanced_accuracy_expose_a_majority_class_guesser():
    truth = [0] * 90 + [1] * 10
    guesses = [0] * 100
    assert accuracy(truth, guesses) == 0.9
    assert balanced_accuracy(truth, guesses) == 0.5


def test_are_undefined_classification_numbers_refused():
    with pytest.raises(ValueError, match="no sample of class 1"):
        sensitivity([0, 0], [0, 1])
    with pytest.raises(ValueError, match="no sample outside class 1"):
        specificity([1, 1], [0, 1])
    with pytest.raises(ValueError, match="does not fit n_classes=2"):
        confusion_matrix([0, 2], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match="empty"):
        accuracy([], [])
    with pytest.raises(ValueError, match="one label per sample"):
        accuracy([0, 1], [0, 1, 1])


def test_is_the_roc_auc_right_by_hand_and_with_ties():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert roc_auc([0, 0, 1], [0.3, 0.3, 0.3]) == 0.5
    assert roc_auc([1, 1, 0], [0.9, 0.8, 0.1]) == 1.0
    assert roc_auc([True, False], [0.1, 0.9]) == 0.0


@pytest.mark.parametrize("seed", range(12))
def test_does_roc_auc_equal_mann_whitney_and_the_area_under_roc_curve(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    truth = rng.random(n) < 0.4
    truth[:2] = [True, False]
    scores = rng.normal(size=n) + truth * rng.uniform(0, 2)
    if seed % 2:
        scores = np.round(scores, 1)  # many ties
    positive, negative = scores[truth], scores[~truth]
    u_statistic = mannwhitneyu(positive, negative, alternative="two-sided").statistic
    expected = u_statistic / (positive.size * negative.size)
    # a second independent reference: all pairs, ties one half
    pairs = (positive[:, None] > negative[None, :]) + 0.5 * (positive[:, None] == negative[None, :])
    assert roc_auc(truth, scores) == pytest.approx(expected)
    assert roc_auc(truth, scores) == pytest.approx(pairs.mean())
    fpr, tpr, thresholds = roc_curve(truth, scores)
    assert trapezoid(tpr, fpr) == pytest.approx(expected)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.all(np.diff(thresholds) < 0) and thresholds[0] == np.inf
    for f, t, threshold in zip(fpr[1:], tpr[1:], thresholds[1:]):
        called = scores >= threshold
        assert t == pytest.approx(called[truth].mean())
        assert f == pytest.approx(called[~truth].mean())


def test_is_roc_with_one_class_refused_clearly():
    with pytest.raises(ValueError, match="both classes.*positive"):
        roc_auc([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match="both classes.*negative"):
        roc_curve([0, 0], [0.2, 0.5])
    with pytest.raises(ValueError, match="binary"):
        roc_auc([0, 1, 2], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match="finite"):
        roc_auc([0, 1], [0.2, np.nan])


# ---------------------------------------------------------------------------- module
def test_do_the_docstring_examples_run():
    result = doctest.testmod(metrics, extraglobs={"np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 20 and result.failed == 0


def test_does_importing_chdml_metrics_stay_free_of_tensorflow_and_keras():
    code = ("import sys, chdml.metrics; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
