"""Tests of the producers and comparators added for workshop 1 (the marked blocks at the
end of chdml/grading/producers.py and compare.py): call_each, flat_weights, history,
decreasing, epochs_of_batches."""
from __future__ import annotations

import json

import numpy as np
import pytest

from chdml.grading import compare, producers
from chdml.grading.wire import ProducedError


# ----------------------------------------------------------------------------- producers
def test_does_call_each_turn_generators_into_lists_one_result_per_call():
    def count_up(n, step):
        yield from range(0, n, step)

    produced = producers.call_each("count_up")({"count_up": count_up},
                                               {"calls": [[5, 2], [3, 1]]})
    assert produced == [[0, 2, 4], [0, 1, 2]]


def test_does_call_each_keep_plain_results_and_report_errors():
    produced = producers.call_each("f")({"f": lambda a: (a, a)}, {"calls": [[1]]})
    assert produced == [[1, 1]]
    failed = producers.call_each("f")({"f": lambda a: 1 / a}, {"calls": [[0]]})
    assert isinstance(failed, ProducedError) and "ZeroDivisionError" in failed.message
    missing = producers.call_each("f")({}, {"calls": [[0]]})
    assert isinstance(missing, ProducedError) and "not defined" in missing.message


def test_does_call_each_stop_an_endless_generator():
    def endless():
        while True:
            yield 1

    produced = producers.call_each("endless")({"endless": endless}, {"calls": [[]]})
    assert isinstance(produced, ProducedError) and "more than" in produced.message


def test_does_call_each_give_every_call_its_own_copy_of_the_inputs():
    def change(array):
        array[0] = -1
        return array.copy()

    inputs = {"calls": [[np.zeros(2)]]}
    producers.call_each("change")({"change": change}, inputs)
    assert inputs["calls"][0][0].tolist() == [0.0, 0.0]


def test_does_flat_weights_concatenate_a_models_weights_in_order():
    class Model:
        def get_weights(self):
            return [np.array([[2.0]]), np.array([-4.0])]

    assert producers.flat_weights("m")({"m": Model()}, {}).tolist() == [2.0, -4.0]
    refused = producers.flat_weights("m")({"m": 3}, {})
    assert isinstance(refused, ProducedError) and "Keras model" in refused.message


def test_does_flat_weights_read_a_keras_model():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.set_weights([np.array([[1.5]], "float32"), np.array([0.25], "float32")])
    assert producers.flat_weights("m")({"m": model}, {}).tolist() == [1.5, 0.25]


def test_does_history_accept_a_keras_history_or_its_dict():
    class History:
        history = {"loss": [np.float32(3.0), 1.0], "val_loss": [4.0, 2.0]}

    expected = {"loss": [3.0, 1.0], "val_loss": [4.0, 2.0]}
    assert producers.history("h")({"h": History()}, {}) == expected
    assert producers.history("h")({"h": History.history}, {}) == expected
    refused = producers.history("h")({"h": None}, {})
    assert isinstance(refused, ProducedError) and "model.fit" in refused.message


@pytest.mark.parametrize("producer", [producers.call_each("f", calls="runs"),
                                      producers.flat_weights("m"), producers.history("h")])
def test_are_the_new_producers_stored_and_rebuilt_as_data(producer):
    spec = json.loads(json.dumps(producer.spec()))
    assert producers.from_spec(spec) == producer


# --------------------------------------------------------------------------- decreasing
@pytest.mark.parametrize("curve, passes, words", [
    ([10.0, 4.0, 1.0], True, "3 epoch(s)"),
    ([10.0, 6.0], False, "not low enough"),
    ([10.0], False, "more epochs"),
    ([10.0, float("nan")], False, "learning rate"),
    ([10.0, 20.0, 40.0], False, "not low enough"),
])
def test_does_decreasing_need_a_finite_curve_that_at_least_halves(curve, passes, words):
    verdict = compare.decreasing()({"loss": curve}, None, {})
    assert verdict.passed is passes and words in verdict.got


def test_does_decreasing_name_a_missing_key_and_accept_a_plain_list():
    verdict = compare.decreasing("loss")({"accuracy": [0.1, 0.9]}, None, {})
    assert not verdict.passed and "no 'loss'" in verdict.got
    assert compare.decreasing("loss", min_drop=0.0)([3.0, 2.9], None, {}).passed
    assert not compare.decreasing()(ProducedError("NameError: x"), None, {}).passed
    with pytest.raises(ValueError):
        compare.decreasing(min_drop=1.0)


# -------------------------------------------------------------------- epochs_of_batches
def make_calls(n_samples, batch_size, settings, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n_samples, 2, 2))
    labels = rng.integers(0, 5, size=n_samples)
    return {"calls": [[images, labels, batch_size, shuffle, s] for shuffle, s in settings]}


def epoch(call, order):
    images, labels, batch_size = call[0], call[1], call[2]
    return [[images[order[k:k + batch_size]], labels[order[k:k + batch_size]]]
            for k in range(0, len(order), batch_size)]


def sizes(n_samples, batch_size):
    return [min(batch_size, n_samples - k) for k in range(0, n_samples, batch_size)]


def test_does_epochs_of_batches_pass_any_seeded_shuffle():
    inputs = make_calls(12, 5, [(True, 1), (True, 1), (True, 2), (False, 0)])
    calls = inputs["calls"]
    got = [epoch(calls[0], np.random.default_rng(1).permutation(12)),
           epoch(calls[1], np.random.default_rng(1).permutation(12)),
           epoch(calls[2], np.random.default_rng(2).permutation(12)),
           epoch(calls[3], np.arange(12))]
    verdict = compare.epochs_of_batches()(got, [sizes(12, 5)] * 4, inputs)
    assert verdict.passed, verdict.got


@pytest.mark.parametrize("fault, words", [
    ("drop_last", "last, partial batch of 2 samples is missing"),
    ("repeat", "seen more than once"),
    ("unpaired", "labels do not belong"),
    ("unseeded", "same seed (1) gave two different orders"),
    ("not_shuffled", "not shuffled"),
    ("not_a_pair", "not a pair"),
    ("foreign", "not in the data"),
])
def test_does_epochs_of_batches_name_each_fault(fault, words):
    inputs = make_calls(12, 5, [(True, 1), (True, 1)])
    calls = inputs["calls"]
    first = np.random.default_rng(1).permutation(12)
    second = first.copy()
    runs = [epoch(calls[0], first), epoch(calls[1], second)]
    if fault == "drop_last":
        runs = [run[:-1] for run in runs]
    elif fault == "repeat":
        runs[0][2] = [calls[0][0][first[:2]], calls[0][1][first[:2]]]
    elif fault == "unpaired":
        runs[0][0][1] = np.roll(runs[0][0][1], 1) + 1
    elif fault == "unseeded":
        runs[1] = epoch(calls[1], np.random.default_rng(99).permutation(12))
    elif fault == "not_shuffled":
        runs = [epoch(call, np.arange(12)) for call in calls]
    elif fault == "not_a_pair":
        runs[0][0] = runs[0][0][0]
    elif fault == "foreign":
        runs[0][0][0] = runs[0][0][0] + 100.0
    verdict = compare.epochs_of_batches()(runs, [sizes(12, 5)] * 2, inputs)
    assert not verdict.passed and words in verdict.got, verdict.got


def test_does_epochs_of_batches_need_different_orders_for_different_seeds():
    inputs = make_calls(12, 4, [(True, 1), (True, 2)])
    order = np.random.default_rng(1).permutation(12)
    runs = [epoch(call, order) for call in inputs["calls"]]
    verdict = compare.epochs_of_batches()(runs, [sizes(12, 4)] * 2, inputs)
    assert not verdict.passed and "gave the same order" in verdict.got


def test_does_epochs_of_batches_refuse_errors_and_wrong_numbers_of_epochs():
    inputs = make_calls(6, 4, [(False, 0)])
    assert not compare.epochs_of_batches()(ProducedError("x"), [[4, 2]], inputs).passed
    assert not compare.epochs_of_batches()([], [[4, 2]], inputs).passed
    assert not compare.epochs_of_batches()([np.arange(6)], [[4, 2]], inputs).passed


@pytest.mark.parametrize("comparator", [compare.decreasing("val_loss", 0.25),
                                        compare.epochs_of_batches(12)])
def test_are_the_new_comparators_stored_and_rebuilt_as_data(comparator):
    spec = json.loads(json.dumps(comparator.spec()))
    assert compare.from_spec(spec) == comparator
