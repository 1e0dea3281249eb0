"""Do producers fetch the student's values without trusting or changing anything?"""
import json

import numpy as np
import pytest

from chdml.grading import compare, producers
from chdml.grading.wire import ProducedError


def test_does_call_pass_copies_so_in_place_changes_do_not_leak():
    def scale(image):
        image *= 2
        return image

    inputs = {"image": np.ones(3)}
    got = producers.call("scale", "image")({"scale": scale}, inputs)
    assert np.array_equal(got, [2, 2, 2]) and np.array_equal(inputs["image"], [1, 1, 1])


def test_does_a_missing_function_get_a_beginners_message():
    got = producers.call("conv2d", "image")({}, {"image": 1})
    assert isinstance(got, ProducedError) and "run the cell" in got.message


def test_does_an_exception_become_a_result_not_a_crash():
    got = producers.call("f")({"f": lambda: 1 / 0}, {})
    assert got == ProducedError("ZeroDivisionError: division by zero")


def test_does_value_read_a_variable():
    assert producers.value("train_mean")({"train_mean": np.float32(2.5)}, {}) == 2.5


def test_does_predict_with_call_predict():
    class Model:
        def predict(self, images, verbose=0):
            return images.sum(axis=1)

    got = producers.predict_with("model", "points")({"model": Model()},
                                                    {"points": np.ones((4, 2))})
    assert np.array_equal(got, [2, 2, 2, 2])


@pytest.mark.parametrize("producer", [
    producers.call("f", "a", "b", keywords=("axis",)), producers.value("x"),
    producers.describe_model("build", "shape", seed=3), producers.predict_with("m", "img")])
def test_does_every_producer_survive_storage_as_data(producer):
    assert producers.from_spec(json.loads(json.dumps(producer.spec()))) == producer


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def _sequential(keras, with_input=True):
    layers = [keras.layers.Conv2D(2, 3, activation="relu"), keras.layers.Flatten(),
              keras.layers.Dense(3)]
    if with_input:
        return keras.Sequential([keras.Input(shape=(6, 6, 1))] + layers)
    model = keras.Sequential(layers)
    model.build((None, 6, 6, 1))
    return model


def _functional(keras):
    inputs = keras.Input(shape=(6, 6, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def test_do_sequential_and_functional_models_describe_alike(keras):
    a = producers.describe(_sequential(keras))
    b = producers.describe(_functional(keras))
    assert a["layer_kinds"] == b["layer_kinds"] == ["Conv2D", "Flatten", "Dense"]
    assert compare.keras_model()(b, a, {}).passed


def test_is_a_different_activation_caught_by_the_forward_pass(keras):
    relu = producers.describe(_functional(keras))
    inputs = keras.Input(shape=(6, 6, 1))
    x = keras.layers.Conv2D(2, 3, activation="tanh")(inputs)
    x = keras.layers.Flatten()(x)
    tanh = producers.describe(keras.Model(inputs, keras.layers.Dense(3)(x)))
    verdict = compare.keras_model()(tanh, relu, {})
    assert not verdict.passed and "different outputs" in verdict.got


def test_are_the_students_own_weights_restored(keras):
    model = _functional(keras)
    before = [w.copy() for w in model.get_weights()]
    producers.describe(model)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_is_a_wrong_number_of_units_named(keras):
    inputs = keras.Input(shape=(6, 6, 1))
    x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3, activation="relu")(inputs))
    wrong = producers.describe(keras.Model(inputs, keras.layers.Dense(4)(x)))
    verdict = compare.keras_model()(wrong, producers.describe(_functional(keras)), {})
    assert not verdict.passed
    assert "output shape (None, 4) instead of (None, 3)" in verdict.got


def test_does_a_builder_that_returns_nothing_get_a_message(keras):
    got = producers.describe_model("build")({"build": lambda: None}, {})
    assert isinstance(got, ProducedError) and "return model" in got.message


def test_does_a_sequential_model_built_without_keras_input_describe_alike(keras):
    a = producers.describe(_sequential(keras, with_input=False))
    assert compare.keras_model()(a, producers.describe(_sequential(keras)), {}).passed
