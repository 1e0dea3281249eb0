"""Workshop 4's producers: a loss with its gradient, and a U-Net's outline."""
from __future__ import annotations

import numpy as np
import pytest

from chdml.grading import producers

keras = pytest.importorskip("keras")
ops = keras.ops


def _soft_dice_loss(y_true, y_pred):
    overlap = ops.sum(y_true * y_pred, axis=(0, 1, 2))
    total = ops.sum(y_true, axis=(0, 1, 2)) + ops.sum(y_pred, axis=(0, 1, 2))
    return 1.0 - ops.mean(((2.0 * overlap + 1.0) / (total + 1.0))[1:])


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    truth = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=(2, 4, 4))]
    logits = rng.normal(size=truth.shape)
    prediction = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return {"y_true": truth, "y_pred": prediction.astype(np.float32)}


def test_does_the_gradient_match_a_finite_difference():
    inputs = _inputs()
    result = producers.loss_gradient("loss")({"loss": _soft_dice_loss}, inputs)
    step = 1e-3
    bumped = inputs["y_pred"].copy()
    bumped[0, 1, 2, 1] += step
    numeric = (float(_soft_dice_loss(inputs["y_true"], bumped))
               - float(result["loss"])) / step
    assert result["gradient"].shape == inputs["y_pred"].shape
    assert result["gradient"][0, 1, 2, 1] == pytest.approx(numeric, rel=0.05, abs=1e-4)


def test_is_a_thresholded_loss_reported_as_having_no_gradient():
    def thresholded(y_true, y_pred):
        hard = ops.cast(y_pred > 0.5, "float32")
        return 1.0 - ops.sum(y_true * hard) / ops.sum(y_true)

    result = producers.loss_gradient("loss")({"loss": thresholded}, _inputs())
    assert isinstance(result["gradient"], str) and "no gradient" in result["gradient"]


def test_is_a_numpy_loss_reported_as_having_no_gradient():
    def numpy_loss(y_true, y_pred):
        return 1.0 - 2 * np.sum(np.asarray(y_true) * np.asarray(y_pred)) / 64.0

    result = producers.loss_gradient("loss")({"loss": numpy_loss}, _inputs())
    assert isinstance(result["gradient"], str)


def test_does_a_loss_returning_none_give_an_error_record():
    result = producers.loss_gradient("loss")({"loss": lambda t, p: None}, _inputs())
    assert "return" in result.message


def test_does_a_missing_loss_say_it_is_not_defined():
    result = producers.loss_gradient("soft_dice_loss")({}, _inputs())
    assert "not defined" in result.message


def test_does_the_loss_gradient_producer_survive_a_spec_round_trip():
    producer = producers.loss_gradient("soft_dice_loss", "truth", "prediction")
    assert producers.from_spec(producer.spec()) == producer


def _tiny_unet(concatenate, softmax=True):
    inputs = keras.Input(shape=(16, 16, 1))
    down = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    bottom = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(
        keras.layers.MaxPooling2D(2)(down))
    up = keras.layers.Conv2DTranspose(4, 2, strides=2)(bottom)
    joined = concatenate(up, down)
    outputs = keras.layers.Conv2D(3, 1, activation="softmax" if softmax else None)(joined)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("concatenate", [
    lambda a, b: keras.layers.Concatenate()([a, b]),
    lambda a, b: keras.layers.concatenate([b, a]),
    lambda a, b: ops.concatenate([a, b], axis=-1),
], ids=["Concatenate layer", "concatenate function, skip first", "keras.ops.concatenate"])
def test_is_every_way_of_concatenating_counted_once(concatenate):
    outline = producers.unet_outline(_tiny_unet(concatenate))
    assert outline["skip_concatenations"] == 1
    assert outline["output_shape"] == [None, 16, 16, 3]
    assert outline["probabilities"] is True


def test_are_an_added_skip_and_a_logit_output_told_apart():
    outline = producers.unet_outline(_tiny_unet(lambda a, b: keras.layers.Add()([a, b]),
                                                softmax=False))
    assert outline["skip_concatenations"] == 0
    assert outline["probabilities"] is False


def test_does_the_unet_outline_refuse_a_non_model():
    result = producers.describe_unet("build_unet", "shape")({"build_unet": lambda s: None},
                                                            {"shape": [16, 16, 1]})
    assert "Keras model" in result.message
