"""Do the comparisons accept legitimate variations and explain real mistakes?"""
import numpy as np
import pytest

from chdml.grading import compare
from chdml.grading.wire import ProducedError


def test_does_a_list_pass_where_an_array_is_expected():
    assert compare.arrays()([1.0, 2.0], np.array([1.0, 2.0]), {}).passed


def test_does_float32_pass_against_float64():
    expected = np.linspace(0, 10, 7)
    assert compare.arrays(atol=1e-6)(expected.astype(np.float32), expected, {}).passed


def test_does_a_wrong_shape_say_both_shapes():
    verdict = compare.arrays()(np.zeros((5, 5)), np.zeros((3, 3)), {})
    assert not verdict.passed
    assert "(3, 3)" in verdict.expected and "(5, 5)" in verdict.got


def test_does_a_wrong_value_name_where_it_differs():
    verdict = compare.arrays()(np.array([1.0, 2.5]), np.array([1.0, 2.0]), {})
    assert not verdict.passed and "index (1,)" in verdict.got


def test_is_nan_equal_to_nan():
    assert compare.number()(float("nan"), np.nan, {}).passed


def test_does_none_remind_to_return():
    verdict = compare.arrays()(None, 1.0, {})
    assert not verdict.passed and "return" in verdict.got


def test_does_an_error_never_pass():
    verdict = compare.exact()(ProducedError("ZeroDivisionError: division by zero"), 1, {})
    assert not verdict.passed and "ZeroDivisionError" in verdict.got


def test_do_strings_not_pass_as_numbers():
    assert not compare.arrays()(["1", "2"], np.array([1, 2]), {}).passed


def test_does_exact_treat_tuples_lists_and_numpy_scalars_alike():
    assert compare.exact()((1, np.int64(2)), [1, 2], {}).passed
    assert not compare.exact()([1, 3], [1, 2], {}).passed


def test_do_sets_ignore_order_and_repetition_and_name_missing_elements():
    assert compare.sets()(np.array([2, 0, 1, 1]), {0, 1, 2}, {}).passed
    verdict = compare.sets()([0, 1], {0, 1, 2}, {})
    assert not verdict.passed and "missing {2}" in verdict.got


def test_do_dicts_compare_each_key_with_its_own_tolerance():
    judge = compare.dicts(default=compare.exact(), mean=compare.number(atol=1e-3))
    assert judge({"mean": 1.0004, "n": 3}, {"mean": 1.0, "n": 3}, {}).passed
    verdict = judge({"mean": 1.0, "n": 4, "extra": 1}, {"mean": 1.0, "n": 3}, {})
    assert not verdict.passed
    assert "'n'" in verdict.got and "keys not expected" in verdict.got


def test_does_accuracy_accept_labels_softmax_and_sigmoid_outputs():
    truth = np.array([0, 1, 1, 0])
    judge = compare.score_at_least("accuracy", 0.75)
    assert judge(np.array([0, 1, 1, 1]), truth, {}).passed
    assert judge(np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]]), truth, {}).passed
    assert judge(np.array([[0.1], [0.8], [0.6], [0.3]]), truth, {}).passed
    verdict = judge(np.array([1, 0, 0, 1]), truth, {})
    assert not verdict.passed and verdict.got == "accuracy 0.000"


def test_is_dice_of_a_hand_computed_mask_right():
    truth = np.array([[[1, 1], [0, 0]]])
    prediction = np.array([[[1, 0], [0, 0]]])
    assert compare.dice(prediction, truth) == pytest.approx(2 * 1 / (1 + 2))


def test_is_dice_one_when_both_masks_are_empty():
    assert compare.dice(np.zeros((1, 2, 2)), np.zeros((1, 2, 2), dtype=int)) == 1.0


def test_are_predictions_for_the_wrong_number_of_samples_rejected():
    verdict = compare.score_at_least("accuracy", 0.5)(np.zeros(3), np.zeros(4), {})
    assert not verdict.passed and "4 samples" in verdict.got


@pytest.mark.parametrize("comparator", [
    compare.arrays(atol=1e-3), compare.exact(), compare.sets(),
    compare.dicts(default=compare.number(atol=0.1), mean=compare.exact()),
    compare.keras_model(ignore_kinds=("Dropout",)), compare.score_at_least("dice", 0.7)])
def test_does_every_comparison_survive_storage_as_data(comparator):
    import json

    spec = json.loads(json.dumps(comparator.spec()))
    assert compare.from_spec(spec) == comparator


def test_is_an_unknown_metric_refused():
    with pytest.raises(ValueError, match="accuracy"):
        compare.score_at_least("auc", 0.5)
