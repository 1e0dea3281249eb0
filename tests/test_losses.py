"""Tests for chdml.losses: soft Dice and Dice + cross-entropy against hand values, the
NumPy reference and keras.losses; finite gradients; the Keras Dice metric against
chdml.metrics.dice; a saved .keras model round trip."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import chdml.losses as losses  # noqa: E402
from chdml.losses import (DiceCrossEntropyLoss, DiceLoss, DiceMetric,  # noqa: E402
                          dice_cross_entropy_loss, dice_metrics, soft_dice, soft_dice_loss)
from chdml.metrics import dice, dice_per_label, dice_per_slice  # noqa: E402

TINY = 1e-7  # a smoothing term that leaves hard-mask Dice unchanged to ~1e-7


def random_label_batch(rng, shape=(6, 10, 12), n_classes=4, empty_label=None):
    """Truth and predicted label maps (batch, H, W), predictions right ~70% of pixels."""
    truth = rng.integers(0, n_classes, size=shape)
    pred = np.where(rng.random(shape) < 0.7, truth, rng.integers(0, n_classes, size=shape))
    if empty_label is not None:
        truth[truth == empty_label] = 0
        pred[pred == empty_label] = 0
    return truth, pred


def softmax_for(labels, n_classes, rng):
    """Probabilities whose argmax is ``labels``."""
    scores = rng.random(labels.shape + (n_classes,)) + 2.0 * np.eye(n_classes)[labels]
    return (scores / scores.sum(axis=-1, keepdims=True)).astype("float32")


# --------------------------------------------------------------------------- soft Dice
def test_is_the_soft_dice_of_a_hand_made_case_right():
    truth = np.array([[[1, 1], [0, 0]]])
    probabilities = np.array([[[[0.9], [0.8]], [[0.1], [0.0]]]], "float32")
    # 2 * (0.9 + 0.8) / (2 + 1.8), and with smooth 1: (3.4 + 1) / (3.8 + 1)
    assert float(soft_dice(truth, probabilities, smooth=TINY)) == pytest.approx(3.4 / 3.8)
    assert float(soft_dice(truth, probabilities)) == pytest.approx(4.4 / 4.8)
    assert float(soft_dice_loss(truth, probabilities)) == pytest.approx(1 - 4.4 / 4.8)


@pytest.mark.parametrize("seed", range(4))
def test_does_soft_dice_on_hard_masks_equal_the_numpy_dice(seed):
    rng = np.random.default_rng(seed)
    truth, pred = random_label_batch(rng, empty_label=2 if seed % 2 else None)
    one_hot_pred = np.eye(4, dtype="float32")[pred]
    expected = np.mean(list(dice_per_label(truth, pred, (1, 2, 3)).values()))
    if seed % 2:  # label 2 empty in both: smooth gives it Dice 1, as the convention
        assert dice_per_label(truth, pred, (2,)) == {2: 1.0}
    assert float(soft_dice(truth, one_hot_pred, smooth=TINY)) == pytest.approx(expected, abs=1e-6)
    # per image: the mean over images of the per-image mean over labels
    per_image = np.mean([dice_per_slice(truth == k, pred == k, axis=0) for k in (1, 2, 3)],
                        axis=0)
    got = np.asarray(soft_dice(truth, one_hot_pred, smooth=TINY, per_image=True))
    np.testing.assert_allclose(got, per_image, atol=1e-6)
    # binary, one sigmoid channel
    binary_truth, binary_pred = truth == 1, (pred == 1).astype("float32")[..., None]
    assert float(soft_dice(binary_truth, binary_pred, smooth=TINY)) == pytest.approx(
        dice(binary_truth, binary_pred[..., 0]), abs=1e-6)


def test_do_label_maps_with_and_without_channel_and_one_hot_give_the_same_loss():
    rng = np.random.default_rng(5)
    truth, pred = random_label_batch(rng)
    probabilities = softmax_for(pred, 4, rng)
    one_hot = np.eye(4, dtype="float32")[truth]
    for loss in (soft_dice_loss, dice_cross_entropy_loss):
        reference = float(loss(one_hot, probabilities))
        assert float(loss(truth, probabilities)) == pytest.approx(reference, rel=1e-6)
        assert float(loss(truth[..., None], probabilities)) == pytest.approx(reference, rel=1e-6)


def test_does_include_background_change_only_the_softmax_mean():
    rng = np.random.default_rng(6)
    truth, pred = random_label_batch(rng)
    probabilities = softmax_for(pred, 4, rng)
    target = np.eye(4, dtype="float32")[truth]
    per_class = [(2 * (target[..., c] * probabilities[..., c]).sum() + 1)
                 / (target[..., c].sum() + probabilities[..., c].sum() + 1) for c in range(4)]
    assert float(soft_dice(truth, probabilities)) == pytest.approx(np.mean(per_class[1:]),
                                                                   rel=1e-5)
    assert float(soft_dice(truth, probabilities, include_background=True)) == pytest.approx(
        np.mean(per_class), rel=1e-5)


def test_do_empty_truth_and_prediction_give_zero_loss():
    empty = np.zeros((2, 8, 8, 1), "float32")
    assert float(soft_dice_loss(empty, empty)) == 0.0
    assert np.allclose(soft_dice_loss(empty, empty, per_image=True), 0.0)
    full = np.ones((2, 8, 8, 1), "float32")
    assert float(soft_dice_loss(full, full)) == pytest.approx(0.0, abs=1e-6)
    assert float(soft_dice_loss(full, empty)) == pytest.approx(1 - 1 / 129, rel=1e-6)


def test_are_bad_arguments_refused():
    with pytest.raises(ValueError, match="smooth must be above 0"):
        soft_dice_loss(np.zeros((1, 2, 2)), np.zeros((1, 2, 2, 1)), smooth=0)
    with pytest.raises(ValueError, match="does not fit y_pred of 4 channels"):
        soft_dice_loss(np.zeros((1, 2, 2, 3)), np.zeros((1, 2, 2, 4)))
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        soft_dice_loss(np.zeros((4,)), np.zeros((4,)))


# ------------------------------------------------------------------ cross-entropy part
def test_does_the_cross_entropy_part_equal_keras_losses():
    rng = np.random.default_rng(7)
    truth, pred = random_label_batch(rng)
    probabilities = softmax_for(pred, 4, rng)
    one_hot = np.eye(4, dtype="float32")[truth]
    ce_only = dice_cross_entropy_loss(truth, probabilities, dice_weight=0.0)
    keras_ce = keras.losses.CategoricalCrossentropy()(one_hot, probabilities)
    assert float(ce_only) == pytest.approx(float(keras_ce), rel=1e-5)
    binary_truth = (truth == 1).astype("float32")[..., None]
    sigmoid = rng.random(binary_truth.shape).astype("float32")
    sigmoid[0, 0, 0, 0], sigmoid[0, 0, 1, 0] = 0.0, 1.0  # exact 0 and 1 are clipped
    keras_bce = keras.losses.BinaryCrossentropy()(binary_truth, sigmoid)
    got = dice_cross_entropy_loss(binary_truth, sigmoid, dice_weight=0.0)
    assert np.isfinite(float(got))
    assert float(got) == pytest.approx(float(keras_bce), rel=1e-5)
    # weights add the two parts
    both = dice_cross_entropy_loss(truth, probabilities, dice_weight=2.0,
                                   cross_entropy_weight=0.5)
    expected = 2.0 * float(soft_dice_loss(truth, probabilities)) + 0.5 * float(keras_ce)
    assert float(both) == pytest.approx(expected, rel=1e-5)


def test_is_the_per_image_loss_one_value_per_image():
    rng = np.random.default_rng(8)
    truth, pred = random_label_batch(rng)
    probabilities = softmax_for(pred, 4, rng)
    per_image = np.asarray(dice_cross_entropy_loss(truth, probabilities, per_image=True))
    assert per_image.shape == (truth.shape[0],)
    single = [float(dice_cross_entropy_loss(truth[i:i + 1], probabilities[i:i + 1]))
              for i in range(truth.shape[0])]
    np.testing.assert_allclose(per_image, single, rtol=1e-5)
    assert float(DiceCrossEntropyLoss(per_image=True)(truth, probabilities)) == pytest.approx(
        per_image.mean(), rel=1e-5)


# -------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("channels", [1, 4])
@pytest.mark.parametrize("per_image", [False, True])
def test_are_gradients_finite_on_all_zero_and_saturated_inputs(channels, per_image):
    truth = np.zeros((2, 6, 6, channels), "float32")
    for prediction in (np.zeros_like(truth), np.ones_like(truth)):
        for loss in (soft_dice_loss, dice_cross_entropy_loss):
            y_pred = tf.Variable(prediction)
            with tf.GradientTape() as tape:
                value = tf.reduce_mean(loss(truth, y_pred, per_image=per_image))
            gradient = tape.gradient(value, y_pred).numpy()
            assert np.isfinite(float(value))
            assert np.all(np.isfinite(gradient)), loss.__name__


def test_does_the_soft_dice_gradient_point_towards_the_truth():
    truth = np.zeros((1, 4, 4, 1), "float32")
    truth[0, :2] = 1
    y_pred = tf.Variable(np.full_like(truth, 0.5))
    with tf.GradientTape() as tape:
        value = soft_dice_loss(truth, y_pred)
    gradient = tape.gradient(value, y_pred).numpy()
    assert np.all(gradient[truth == 1] < 0) and np.all(gradient[truth == 0] > 0)


# ----------------------------------------------------------------------- Dice metric
@pytest.mark.parametrize("seed", range(3))
def test_does_the_keras_dice_metric_agree_with_numpy_over_several_batches(seed):
    rng = np.random.default_rng(20 + seed)
    batches = [random_label_batch(rng, shape=(3, 9, 7), empty_label=2) for _ in range(3)]
    # an all-background batch: empty truth and empty prediction for every label
    batches.append((np.zeros((2, 9, 7), int), np.zeros((2, 9, 7), int)))
    pooled = DiceMetric(labels=(1, 2, 3))
    per_image = DiceMetric(labels=(1, 2, 3), per_image=True)
    rv_only = DiceMetric(labels=(3,))
    for truth, pred in batches:
        probabilities = softmax_for(pred, 4, rng)
        pooled.update_state(truth, probabilities)
        per_image.update_state(np.eye(4)[truth], probabilities)  # one-hot truth works too
        rv_only.update_state(truth[..., None], probabilities)
    all_truth = np.concatenate([t for t, _ in batches])
    all_pred = np.concatenate([p for _, p in batches])
    by_label = dice_per_label(all_truth, all_pred, (1, 2, 3))
    assert by_label[2] == 1.0  # label 2 never appears: both empty
    assert float(pooled.result()) == pytest.approx(np.mean(list(by_label.values())), abs=1e-6)
    assert float(rv_only.result()) == pytest.approx(by_label[3], abs=1e-6)
    image_means = np.mean([dice_per_slice(all_truth == k, all_pred == k, axis=0)
                           for k in (1, 2, 3)], axis=0)
    assert float(per_image.result()) == pytest.approx(image_means.mean(), abs=1e-6)
    pooled.reset_state()
    pooled.update_state(*batches[0][:1], softmax_for(batches[0][1], 4, rng))
    assert float(pooled.result()) == pytest.approx(
        np.mean(list(dice_per_label(*batches[0], (1, 2, 3)).values())), abs=1e-6)


def test_does_the_binary_dice_metric_threshold_and_follow_the_empty_convention():
    rng = np.random.default_rng(30)
    truth = (rng.random((4, 8, 8)) < 0.3).astype("float32")
    sigmoid = rng.random((4, 8, 8, 1)).astype("float32")
    metric = DiceMetric(threshold=0.6)
    metric.update_state(truth[..., None], sigmoid)
    assert float(metric.result()) == pytest.approx(dice(truth, sigmoid[..., 0] > 0.6), abs=1e-6)
    # keras' micro F1 on flattened pixels is the same number (independent implementation)
    f1 = keras.metrics.F1Score(average="micro", threshold=0.6)
    f1.update_state(truth.reshape(-1, 1), sigmoid.reshape(-1, 1))
    assert float(metric.result()) == pytest.approx(float(f1.result()), abs=1e-6)
    empty = np.zeros((2, 5, 5, 1), "float32")
    both_empty, one_empty = DiceMetric(), DiceMetric()
    both_empty.update_state(empty, empty)
    one_empty.update_state(empty, np.ones_like(empty))
    assert float(both_empty.result()) == dice(empty, empty) == 1.0
    assert float(one_empty.result()) == dice(empty, np.ones_like(empty)) == 0.0


def test_do_sample_weights_weight_whole_images():
    truth = np.zeros((2, 4, 4), "int32")
    truth[:, :2] = 1
    pred = np.zeros((2, 4, 4, 1), "float32")
    pred[0, :2] = 1.0  # image 0 perfect (Dice 1), image 1 empty (Dice 0)
    metric = DiceMetric(per_image=True)
    metric.update_state(truth, pred, sample_weight=np.array([3.0, 1.0]))
    assert float(metric.result()) == pytest.approx(0.75)


def test_does_dice_metrics_name_one_metric_per_label():
    metrics = dice_metrics({"LV": 1, "MYO": 2, "RV": 3}, per_image=True)
    assert [m.name for m in metrics] == ["dice_LV", "dice_MYO", "dice_RV", "dice_mean"]
    assert metrics[-1].labels == (1, 2, 3) and metrics[0].per_image
    assert [m.name for m in dice_metrics({"LV": 1})] == ["dice_LV"]


# ----------------------------------------------------------------- saving and training
def tiny_segmentation_model(channels):
    inputs = keras.Input(shape=(8, 8, 1), name="image")
    hidden = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    activation = "sigmoid" if channels == 1 else "softmax"
    outputs = keras.layers.Conv2D(channels, 1, activation=activation, name="mask")(hidden)
    return keras.Model(inputs, outputs, name="tiny_unet")


def tiny_data(seed=0, n=10):
    rng = np.random.default_rng(seed)
    images = rng.random((n, 8, 8, 1)).astype("float32")
    labels = np.zeros((n, 8, 8), "int32")
    labels[images[..., 0] > 0.5] = 1
    labels[images[..., 0] > 0.8] = 3
    return images, labels


@pytest.mark.slow
def test_does_a_model_compiled_with_chdml_losses_and_metrics_survive_a_keras_file(tmp_path):
    keras.utils.set_random_seed(0)
    images, labels = tiny_data()
    model = tiny_segmentation_model(4)
    loss = DiceCrossEntropyLoss(smooth=0.5, per_image=True, cross_entropy_weight=0.3)
    model.compile(optimizer="adam", loss=loss,
                  metrics=dice_metrics({"LV": 1, "RV": 3}) + [DiceMetric((1, 3), per_image=True,
                                                                          name="dice_images")])
    history = model.fit(images, labels, epochs=2, batch_size=4, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects: registered
    assert isinstance(loaded.loss, DiceCrossEntropyLoss)
    assert loaded.loss.get_config() == loss.get_config()
    before = model.evaluate(images, labels, batch_size=4, verbose=0, return_dict=True)
    after = loaded.evaluate(images, labels, batch_size=4, verbose=0, return_dict=True)
    assert set(after) == {"loss", "dice_LV", "dice_RV", "dice_mean", "dice_images"}
    for name, value in before.items():
        assert after[name] == pytest.approx(value, rel=1e-5), name
    # evaluate() in batches of 4 (last batch partial) gives the NumPy Dice of all images
    predicted = loaded.predict(images, verbose=0).argmax(axis=-1)
    by_label = dice_per_label(labels, predicted, (1, 3))
    assert after["dice_LV"] == pytest.approx(by_label[1], abs=1e-5)
    assert after["dice_mean"] == pytest.approx(np.mean(list(by_label.values())), abs=1e-5)
    images_mean = np.mean([dice_per_slice(labels == k, predicted == k, axis=0)
                           for k in (1, 3)])
    assert after["dice_images"] == pytest.approx(images_mean, abs=1e-5)


@pytest.mark.slow
def test_do_the_plain_dice_loss_and_loss_function_round_trip(tmp_path):
    keras.utils.set_random_seed(1)
    images, labels = tiny_data(seed=1)
    binary = (labels > 0).astype("float32")[..., None]
    for loss in (DiceLoss(smooth=2.0, include_background=True), soft_dice_loss):
        model = tiny_segmentation_model(1)
        model.compile(optimizer="adam", loss=loss, metrics=[DiceMetric(threshold=0.4)])
        model.fit(images, binary, epochs=1, batch_size=5, verbose=0)
        path = tmp_path / "binary.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        before = model.evaluate(images, binary, verbose=0, return_dict=True)
        after = loaded.evaluate(images, binary, verbose=0, return_dict=True)
        assert after == pytest.approx(before, rel=1e-5)
        predicted = loaded.predict(images, verbose=0)[..., 0] > 0.4
        assert after["dice"] == pytest.approx(dice(binary[..., 0], predicted), abs=1e-5)
    assert loaded.loss is soft_dice_loss or loaded.loss.__name__ == "soft_dice_loss"


def test_do_the_docstring_examples_run():
    result = doctest.testmod(losses, extraglobs={"np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_do_the_losses_work_on_other_keras_backends(backend, repo_root):
    """Runs where that backend is installed (skipped otherwise)."""
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    environment = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, str(repo_root / "tests" / "losses_backend_check.py")],
                            capture_output=True, text=True, env=environment, cwd=repo_root,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["ok", backend]
