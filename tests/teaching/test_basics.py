"""Tests of chdml.teaching.basics: the NumPy references of workshop 1 agree with Keras."""
from __future__ import annotations

import numpy as np
import pytest

from chdml.teaching import basics


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    return keras


# ----------------------------------------------------------------------------- conv2d
def keras_conv2d(keras, image, kernel):
    """What keras.layers.Conv2D (valid, one filter, no bias) computes."""
    layer = keras.layers.Conv2D(1, kernel.shape, padding="valid", use_bias=False)
    layer.build((1, *image.shape, 1))
    layer.set_weights([kernel[:, :, None, None].astype("float32")])
    return np.asarray(layer(image[None, :, :, None].astype("float32")))[0, :, :, 0]


@pytest.mark.parametrize("image_shape, kernel_shape", [
    ((5, 5), (3, 3)), ((9, 7), (2, 4)), ((6, 8), (1, 1)), ((7, 4), (4, 4)), ((4, 6), (4, 6)),
    ((11, 10), (5, 2)),
])
def test_does_conv2d_equal_keras_conv2d_for_odd_and_even_kernels(keras, image_shape,
                                                                  kernel_shape):
    rng = np.random.default_rng(sum(image_shape) * 10 + sum(kernel_shape))
    image, kernel = rng.normal(size=image_shape), rng.normal(size=kernel_shape)
    ours = basics.conv2d(image, kernel)
    assert ours.shape == (image_shape[0] - kernel_shape[0] + 1,
                          image_shape[1] - kernel_shape[1] + 1)
    np.testing.assert_allclose(ours, keras_conv2d(keras, image, kernel), atol=1e-5)


def test_is_conv2d_a_cross_correlation_not_a_flipped_convolution():
    image = np.arange(9.0).reshape(3, 3)
    kernel = np.array([[1.0, 0.0], [0.0, 0.0]])   # picks the top-left pixel of each window
    np.testing.assert_array_equal(basics.conv2d(image, kernel), [[0, 1], [3, 4]])


def test_does_conv2d_compute_in_floating_point_for_integer_images():
    image = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    assert basics.conv2d(image, np.array([[0.5]])).tolist() == [[0.5, 1.0], [1.5, 2.0]]


def test_does_conv2d_refuse_a_kernel_larger_than_the_image():
    with pytest.raises(ValueError, match="larger"):
        basics.conv2d(np.zeros((3, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="2-D"):
        basics.conv2d(np.zeros((3, 3, 1)), np.zeros((2, 2)))


# ----------------------------------------------------------------------------- losses
def loss_inputs(rng, shape, extremes=True):
    y_true = rng.integers(0, 2, size=shape).astype(float)
    y_pred = rng.uniform(0.01, 0.99, size=shape)
    if extremes:   # exactly 0 and 1, right and wrong
        y_pred.flat[:4] = [0.0, 1.0, 0.0, 1.0]
        y_true.flat[:4] = [1.0, 0.0, 0.0, 1.0]
    return y_true, y_pred


@pytest.mark.parametrize("shape", [(12,), (6, 1), (5, 3)])
def test_do_mse_and_binary_crossentropy_equal_keras_losses(keras, shape):
    rng = np.random.default_rng(len(shape) * 7 + shape[0])
    y_true, y_pred = loss_inputs(rng, shape)
    expected_bce = float(keras.losses.BinaryCrossentropy()(y_true, y_pred))
    expected_mse = float(keras.losses.MeanSquaredError()(y_true, y_pred))
    assert basics.binary_crossentropy(y_true, y_pred) == pytest.approx(expected_bce, rel=1e-5)
    assert basics.mean_squared_error(y_true, y_pred) == pytest.approx(expected_mse, rel=1e-6)


def test_does_binary_crossentropy_clip_predictions_of_0_and_1_like_keras(keras):
    # a sure, wrong 0 costs -log(1e-7); a sure, wrong 1 costs -log(1 - float32(1 - 1e-7))
    assert basics.binary_crossentropy([1.0], [0.0]) == pytest.approx(-np.log(1e-7), rel=1e-6)
    assert basics.binary_crossentropy([0.0], [1.0]) == pytest.approx(-np.log(2.0 ** -23),
                                                                      rel=1e-6)
    for y_true, y_pred in [([1.0, 0.0], [0.0, 1.0]), ([0.0, 1.0], [0.0, 1.0])]:
        expected = float(keras.losses.BinaryCrossentropy()(np.array(y_true),
                                                             np.array(y_pred)))
        assert basics.binary_crossentropy(y_true, y_pred) == pytest.approx(expected, rel=1e-5,
                                                                           abs=1e-7)


@pytest.mark.parametrize("n_samples, n_classes", [(4, 3), (7, 10), (1, 2)])
def test_does_categorical_crossentropy_equal_keras_incl_zero_probabilities(keras, n_samples,
                                                                           n_classes):
    rng = np.random.default_rng(n_samples * 31 + n_classes)
    y_true = np.eye(n_classes)[rng.integers(0, n_classes, size=n_samples)]
    y_pred = rng.dirichlet(np.ones(n_classes), size=n_samples)
    y_pred[0] = np.eye(n_classes)[(np.argmax(y_true[0]) + 1) % n_classes]  # sure and wrong
    if n_samples > 1:
        y_pred[1] = y_true[1]                                               # sure and right
    expected = float(keras.losses.CategoricalCrossentropy()(y_true, y_pred))
    assert basics.categorical_crossentropy(y_true, y_pred) == pytest.approx(expected, rel=1e-5)


def test_does_categorical_crossentropy_renormalise_rows_like_keras(keras):
    y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    y_pred = np.array([[1.0, 2.0, 1.0], [0.3, 0.3, 0.3]])
    expected = float(keras.losses.CategoricalCrossentropy()(y_true, y_pred))
    assert basics.categorical_crossentropy(y_true, y_pred) == pytest.approx(expected, rel=1e-5)


def test_do_losses_refuse_arrays_of_different_shapes():
    with pytest.raises(ValueError, match="same shape"):
        basics.mean_squared_error(np.zeros(3), np.zeros(4))


# ----------------------------------------------------------------------- batches/epochs
def epoch_ids(n_samples, batch_size, shuffle=True, seed=0):
    images = np.arange(n_samples * 4).reshape(n_samples, 2, 2)
    labels = np.arange(n_samples) * 10
    batches = list(basics.iterate_batches(images, labels, batch_size, shuffle, seed))
    for image_batch, label_batch in batches:   # images and labels stay paired
        np.testing.assert_array_equal(image_batch[:, 0, 0] // 4 * 10, label_batch)
    return [label_batch // 10 for _, label_batch in batches]


def test_does_an_epoch_see_every_sample_once_and_keep_the_last_partial_batch():
    batches = epoch_ids(23, 5)
    assert [len(batch) for batch in batches] == [5, 5, 5, 5, 3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(23))
    assert len(batches) == basics.steps_per_epoch(23, 5)


def test_is_shuffling_seeded_and_different_between_seeds():
    first, again, other = (np.concatenate(epoch_ids(30, 8, seed=s)) for s in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert first.tolist() != other.tolist()
    assert first.tolist() != list(range(30))


def test_does_an_epoch_without_shuffling_keep_the_stored_order():
    assert np.concatenate(epoch_ids(10, 4, shuffle=False)).tolist() == list(range(10))


def test_is_a_batch_larger_than_the_data_one_partial_batch():
    assert [len(batch) for batch in epoch_ids(3, 8)] == [3]


@pytest.mark.parametrize("n_samples, batch_size, steps", [
    (100, 32, 4), (96, 32, 3), (1, 32, 1), (0, 8, 0), (7, 1, 7), (10**12 + 1, 10**6, 10**6 + 1),
])
def test_does_steps_per_epoch_round_up(n_samples, batch_size, steps):
    assert basics.steps_per_epoch(n_samples, batch_size) == steps
    assert isinstance(basics.steps_per_epoch(n_samples, batch_size), int)


def test_does_steps_per_epoch_refuse_a_batch_size_of_zero():
    with pytest.raises(ValueError):
        basics.steps_per_epoch(10, 0)


def test_does_importing_the_teaching_package_stay_light():
    import subprocess
    import sys

    code = ("import sys, chdml.teaching, chdml.teaching.basics; "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
