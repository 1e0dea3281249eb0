"""Workshop 1 ("General principles"): the NumPy versions of what Keras does for us.

These are the reference answers of workshop 1's exercises and are checked against Keras
itself in the tests (``tests/teaching/test_basics.py``):

- :func:`conv2d`: a 2-D "valid" convolution as Keras' ``Conv2D`` computes it (strictly a
  cross-correlation: the kernel is *not* flipped);
- :func:`mean_squared_error`, :func:`binary_crossentropy`,
  :func:`categorical_crossentropy`: the values of ``keras.losses.MeanSquaredError()``,
  ``BinaryCrossentropy()`` and ``CategoricalCrossentropy()`` (mean over the samples), with
  Keras' convention of clipping predictions to ``[EPSILON, 1 - EPSILON]`` so that
  predictions of exactly 0 or 1 give a large but finite loss;
- :func:`iterate_batches` and :func:`steps_per_epoch`: one epoch cut into batches, the
  last partial batch kept, the order shuffled with a seed.

NumPy only: importing this module does not import TensorFlow.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

EPSILON = 1e-7
"""Keras' fuzz factor (``keras.config.epsilon()``): predictions are clipped to
``[EPSILON, 1 - EPSILON]`` before taking logarithms."""


# ---------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------
def conv2d(image, kernel) -> np.ndarray:
    """Slide ``kernel`` over ``image`` ("valid" padding, stride 1, no kernel flip).

    Args:
        image: 2-D array ``(rows, columns)``, any numeric dtype (integers are fine).
        kernel: 2-D array ``(kernel_rows, kernel_columns)``, odd or even sizes, not larger
            than the image.

    Returns:
        float64 array ``(rows - kernel_rows + 1, columns - kernel_columns + 1)`` with
        ``out[i, j] = sum over (u, v) of image[i + u, j + v] * kernel[u, v]``. This is what
        ``keras.layers.Conv2D(1, kernel.shape, padding="valid", use_bias=False)`` computes
        (deep-learning libraries call this cross-correlation a convolution).

    Raises:
        ValueError: if either array is not 2-D or the kernel is larger than the image.

    Example:
        >>> conv2d(np.arange(9).reshape(3, 3), np.array([[1, 0], [0, -1]]))
        array([[-4., -4.],
               [-4., -4.]])
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"image and kernel must be 2-D arrays, got shapes {image.shape} "
                         f"and {kernel.shape}")
    kernel_rows, kernel_columns = kernel.shape
    out_rows = image.shape[0] - kernel_rows + 1
    out_columns = image.shape[1] - kernel_columns + 1
    if out_rows < 1 or out_columns < 1:
        raise ValueError(f"the kernel {kernel.shape} is larger than the image {image.shape}")
    output = np.zeros((out_rows, out_columns))
    for u in range(kernel_rows):
        for v in range(kernel_columns):
            output += kernel[u, v] * image[u:u + out_rows, v:v + out_columns]
    return output


# ---------------------------------------------------------------------------------------
# Loss functions
# ---------------------------------------------------------------------------------------
def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the "
                         "same shape")
    return y_true, y_pred


def _clip_like_keras(probabilities: np.ndarray) -> np.ndarray:
    """Clip to ``[EPSILON, 1 - EPSILON]`` in float32, as Keras does.

    In float32, ``1 - 1e-7`` rounds to ``1 - 1.19e-7``, so a prediction of exactly 1 for a
    true 0 costs ``-log(1.19e-7) = 15.94`` in Keras (and here), where float64 arithmetic
    gives ``-log(1e-7) = 16.12``. The workshop's checks accept both (1.5 % tolerance).
    """
    clipped = np.clip(probabilities.astype(np.float32), np.float32(EPSILON),
                      np.float32(1.0 - EPSILON))
    return clipped


def mean_squared_error(y_true, y_pred) -> float:
    """Mean of ``(y_true - y_pred) ** 2`` over every value (samples and outputs).

    Equal to ``keras.losses.MeanSquaredError()(y_true, y_pred)`` for arrays of the same
    shape ``(samples,)`` or ``(samples, outputs)``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean((y_true - y_pred) ** 2))


def binary_crossentropy(y_true, y_pred) -> float:
    """Mean binary cross-entropy of probabilities ``y_pred`` for labels ``y_true`` (0/1).

    ``-mean(y * log(p) + (1 - y) * log(1 - p))`` with ``p`` clipped to
    ``[EPSILON, 1 - EPSILON]`` (in float32) as Keras does, so a prediction of exactly 0 for
    a true 1 costs ``-log(1e-7) = 16.1`` instead of infinity. Equal to
    ``keras.losses.BinaryCrossentropy()(y_true, y_pred)``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    p = _clip_like_keras(y_pred)
    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))


def categorical_crossentropy(y_true, y_pred) -> float:
    """Mean categorical cross-entropy: one-hot ``y_true``, class probabilities ``y_pred``.

    Arrays ``(samples, classes)``. Per sample ``-sum over classes of y * log(p)``, then the
    mean over samples. As in Keras, each row of ``y_pred`` is first divided by its sum
    (so rows that already sum to 1, like a softmax output, are unchanged) and clipped to
    ``[EPSILON, 1 - EPSILON]``. Equal to ``keras.losses.CategoricalCrossentropy()(y_true,
    y_pred)``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    p = _clip_like_keras(y_pred / np.sum(y_pred, axis=-1, keepdims=True))
    return float(np.mean(-np.sum(y_true * np.log(p), axis=-1)))


# ---------------------------------------------------------------------------------------
# Batches and epochs
# ---------------------------------------------------------------------------------------
def iterate_batches(images, labels, batch_size: int, shuffle: bool = True,
                    seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch: yield ``(image_batch, label_batch)`` pairs covering every sample once.

    Args:
        images: array ``(samples, ...)``.
        labels: array ``(samples, ...)``, the same number of samples.
        batch_size: samples per batch; the last batch has the remainder (it is kept, not
            dropped), so there are ``steps_per_epoch(samples, batch_size)`` batches.
        shuffle: visit the samples in a random order (training) or in their stored order.
        seed: the random order is ``np.random.default_rng(seed).permutation(samples)``,
            the same for the same seed; use a different seed in each epoch.

    Example:
        >>> [labels.tolist() for _, labels in iterate_batches(np.zeros((5, 2)), np.arange(5), 2,
        ...                                                  shuffle=False)]
        [[0, 1], [2, 3], [4]]
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n_samples = len(images)
    if shuffle:
        order = np.random.default_rng(seed).permutation(n_samples)
    else:
        order = np.arange(n_samples)
    for start in range(0, n_samples, int(batch_size)):
        chosen = order[start:start + int(batch_size)]
        yield images[chosen], labels[chosen]


def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Number of batches in one epoch: ``n_samples / batch_size`` rounded *up*.

    The last batch may be smaller (Keras keeps it): 100 samples in batches of 32 take 4
    steps (32 + 32 + 32 + 4). Zero samples take 0 steps.
    """
    n_samples, batch_size = int(n_samples), int(batch_size)
    if n_samples < 0 or batch_size < 1:
        raise ValueError(f"need n_samples >= 0 and batch_size >= 1, got {n_samples} and "
                         f"{batch_size}")
    return -(-n_samples // batch_size)


__all__ = ["EPSILON", "conv2d", "mean_squared_error", "binary_crossentropy",
           "categorical_crossentropy", "iterate_batches", "steps_per_epoch"]
