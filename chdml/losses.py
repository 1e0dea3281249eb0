"""Segmentation losses and the Dice metric for Keras 3 (``keras.ops`` only: any backend).

Public names (stable; models, training and the autograder import them):

    ``soft_dice``                 soft Dice coefficient of probabilities vs. targets (a tensor).
    ``soft_dice_loss``            ``1 - soft_dice``: a loss function for ``model.compile``.
    ``dice_cross_entropy_loss``   soft Dice loss + cross-entropy, as a function.
    ``DiceLoss``                  the soft Dice loss as a ``keras.losses.Loss`` (configurable).
    ``DiceCrossEntropyLoss``      Dice + cross-entropy as a ``keras.losses.Loss``.
    ``DiceMetric``                hard Dice of thresholded/argmax predictions, accumulated
                                  over batches; agrees with :func:`chdml.metrics.dice`.
    ``dice_metrics``              one ``DiceMetric`` per named label, plus their mean.

All are registered with ``@keras.saving.register_keras_serializable(package="chdml")``, so
a model compiled with them saves to and loads from a ``.keras`` file without
``custom_objects``.

Layout (channels last, as Keras):
    ``y_pred``: probabilities ``(batch, height, width, channels)`` (or ``(batch, height,
    width, slices, channels)`` for 3-D); one channel = a sigmoid output (foreground
    probability), several channels = a softmax over classes (channel 0 = background).
    ``y_true`` may be
      - one-hot / binary with the same shape as ``y_pred``;
      - a label map ``(batch, height, width)`` or ``(batch, height, width, 1)`` of class
        numbers (turned into one-hot for a softmax output; used as the 0/1 target for a
        single sigmoid channel).
    Predictions are probabilities, not logits.

Soft Dice (per class ``c``): ``(2 sum(t * p) + smooth) / (sum(t) + sum(p) + smooth)``.
    ``smooth`` (default 1.0, "one pixel's worth") keeps the value defined and the gradient
    finite when target and prediction are both empty (Dice 1, loss 0, matching the
    both-empty convention of :mod:`chdml.metrics`) and barely changes it for structures of
    hundreds of pixels. Sums run over the whole batch and all pixels (``per_image=False``,
    default: slices without the structure do not dominate, the usual choice for 2-D
    slices of which many are empty) or over each image's pixels (``per_image=True``, one
    loss per image, so sample weights apply per image). The class mean excludes the
    background channel of a softmax output unless ``include_background=True``.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import keras
from keras import ops

__all__ = ["soft_dice", "soft_dice_loss", "dice_cross_entropy_loss", "DiceLoss",
           "DiceCrossEntropyLoss", "DiceMetric", "dice_metrics"]

_register = keras.saving.register_keras_serializable(package="chdml")


# ----------------------------------------------------------------------- layouts
def _channels(y_pred) -> int:
    rank = len(y_pred.shape)
    if rank < 3:
        raise ValueError("y_pred must be (batch, height, width, channels) probabilities, got "
                         f"shape {tuple(y_pred.shape)}.")
    channels = y_pred.shape[-1]
    if channels is None:
        raise ValueError("the number of channels of y_pred (its last axis) must be known.")
    return int(channels)


def _label_map_of(y_true, rank: int, channels: int):
    """The class-number map ``(batch, ...)`` of ``y_true``, or None if it is one-hot."""
    true_rank = len(y_true.shape)
    if true_rank == rank and y_true.shape[-1] == channels:
        return None
    if true_rank == rank and y_true.shape[-1] == 1:
        return y_true[..., 0]
    if true_rank == rank - 1:
        return y_true
    raise ValueError(f"y_true of shape {tuple(y_true.shape)} does not fit y_pred of "
                     f"{channels} channels: give a one-hot array with {channels} channels or "
                     "a label map without (or with one) channel axis.")


def _targets_and_probabilities(y_true, y_pred):
    """``(target, probabilities)``, both float32 ``(batch, ..., channels)``."""
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
    y_true = ops.convert_to_tensor(y_true)
    channels = _channels(y_pred)
    labels = _label_map_of(y_true, len(y_pred.shape), channels)
    if labels is None:
        target = ops.cast(y_true, "float32")
    elif channels == 1:
        target = ops.expand_dims(ops.cast(labels, "float32"), -1)
    else:
        target = ops.one_hot(ops.cast(labels, "int32"), channels, dtype="float32")
    return target, y_pred


def _check_smooth(smooth: float) -> float:
    smooth = float(smooth)
    if not smooth > 0:
        raise ValueError(f"smooth must be above 0 (it keeps empty masks defined), got {smooth}.")
    return smooth


# ------------------------------------------------------------------------ losses
def _soft_dice(target, probabilities, smooth, include_background, per_image):
    rank = len(probabilities.shape)
    spatial = tuple(range(1, rank - 1))
    axes = spatial if per_image else (0,) + spatial
    overlap = ops.sum(target * probabilities, axis=axes)
    total = ops.sum(target, axis=axes) + ops.sum(probabilities, axis=axes)
    per_class = (2.0 * overlap + smooth) / (total + smooth)  # (batch, C) or (C,)
    if probabilities.shape[-1] > 1 and not include_background:
        per_class = per_class[..., 1:]
    return ops.mean(per_class, axis=-1)


def soft_dice(y_true, y_pred, *, smooth: float = 1.0, include_background: bool = False,
              per_image: bool = False):
    """Soft Dice coefficient of probabilities ``y_pred`` against ``y_true``.

    Args:
        y_true: one-hot/binary target like ``y_pred``, or a label map (see module doc).
        y_pred: probabilities ``(batch, height, width, channels)``; sigmoid (1 channel) or
            softmax (several channels).
        smooth: added to numerator and denominator (> 0; see module doc).
        include_background: for softmax outputs, also average channel 0.
        per_image: False -> one value for the batch (sums over batch and pixels);
            True -> one value per image, shape ``(batch,)``.

    Returns:
        A scalar tensor (or ``(batch,)``) in (0, 1]; mean over the scored classes.

    Example:
        >>> import numpy as np
        >>> truth = np.array([[[1, 1], [0, 0]]])            # (1, 2, 2) label map
        >>> probabilities = np.array([[[[0.9], [0.8]], [[0.1], [0.0]]]])
        >>> round(float(soft_dice(truth, probabilities, smooth=1e-6)), 4)  # 2*1.7/(2+1.8)
        0.8947
    """
    target, probabilities = _targets_and_probabilities(y_true, y_pred)
    return _soft_dice(target, probabilities, _check_smooth(smooth), include_background,
                      per_image)


@_register
def soft_dice_loss(y_true, y_pred, *, smooth: float = 1.0, include_background: bool = False,
                   per_image: bool = False):
    """Soft Dice loss ``1 - soft_dice``: 0 for a perfect prediction, near 1 for none.

    Same arguments as :func:`soft_dice`. Usable directly as
    ``model.compile(loss=soft_dice_loss)`` (batch-wise, background excluded); use
    :class:`DiceLoss` to change the options and keep them in the saved model.

    Example:
        >>> import numpy as np
        >>> empty = np.zeros((2, 4, 4, 1), "float32")
        >>> float(soft_dice_loss(empty, empty))      # both empty: no loss
        0.0
    """
    return 1.0 - soft_dice(y_true, y_pred, smooth=smooth,
                           include_background=include_background, per_image=per_image)


@_register
def dice_cross_entropy_loss(y_true, y_pred, *, smooth: float = 1.0,
                            include_background: bool = False, per_image: bool = False,
                            dice_weight: float = 1.0, cross_entropy_weight: float = 1.0):
    """``dice_weight * soft Dice loss + cross_entropy_weight * cross-entropy``.

    The cross-entropy is binary for one sigmoid channel and categorical for a softmax
    (all classes, background included), averaged over pixels: over the whole batch
    (``per_image=False``, a scalar) or per image (``(batch,)``). Probabilities are
    clipped to ``[1e-7, 1 - 1e-7]`` (``keras.config.epsilon()``) inside the logarithm, as
    in Keras, so predictions of exactly 0 or 1, even all-zero outputs, give finite values
    and gradients; for softmax outputs the value equals
    ``keras.losses.CategoricalCrossentropy``. Dice options as in :func:`soft_dice`.

    Example:
        >>> import numpy as np
        >>> truth = np.array([[[0, 1], [2, 0]]])            # label map, 3 classes
        >>> perfect = np.eye(3, dtype="float32")[truth]     # one-hot "probabilities"
        >>> round(float(dice_cross_entropy_loss(truth, perfect)), 5)
        0.0
    """
    target, probabilities = _targets_and_probabilities(y_true, y_pred)
    dice_term = 1.0 - _soft_dice(target, probabilities, _check_smooth(smooth),
                                 include_background, per_image)
    epsilon = keras.config.epsilon()
    clipped = ops.clip(probabilities, epsilon, 1.0 - epsilon)
    if probabilities.shape[-1] == 1:
        cross_entropy = ops.binary_crossentropy(target, clipped)[..., 0]
    else:  # not keras' categorical_crossentropy: it divides by sum(p), NaN for all-zero p
        cross_entropy = -ops.sum(target * ops.log(clipped), axis=-1)
    rank = len(cross_entropy.shape)
    axes = tuple(range(1, rank)) if per_image else tuple(range(rank))
    return dice_weight * dice_term + cross_entropy_weight * ops.mean(cross_entropy, axis=axes)


@_register
class DiceLoss(keras.losses.Loss):
    """Soft Dice loss as a Keras loss object (options saved with the model).

    Args:
        smooth, include_background, per_image: see :func:`soft_dice`.
        name, reduction, dtype: as for every ``keras.losses.Loss``. With
            ``per_image=False`` the loss is one number per batch and sample weights only
            scale it; use ``per_image=True`` to weight images.

    Example:
        >>> import numpy as np
        >>> loss = DiceLoss(per_image=True)
        >>> truth = np.zeros((2, 4, 4), "int32"); truth[0, :2] = 1
        >>> probabilities = np.zeros((2, 4, 4, 1), "float32")
        >>> # image 0 misses 8 pixels: 1 - 1/(8+1); image 1 is empty in both: 0
        >>> round(float(loss(truth, probabilities)), 4)
        0.4444
    """

    def __init__(self, smooth: float = 1.0, include_background: bool = False,
                 per_image: bool = False, name: str = "dice_loss",
                 reduction: str = "sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.smooth = _check_smooth(smooth)
        self.include_background = bool(include_background)
        self.per_image = bool(per_image)

    def call(self, y_true, y_pred):
        return soft_dice_loss(y_true, y_pred, smooth=self.smooth,
                              include_background=self.include_background,
                              per_image=self.per_image)

    def get_config(self):
        config = super().get_config()
        config.update(smooth=self.smooth, include_background=self.include_background,
                      per_image=self.per_image)
        return config


@_register
class DiceCrossEntropyLoss(keras.losses.Loss):
    """Soft Dice loss + cross-entropy as a Keras loss object.

    Args:
        smooth, include_background, per_image, dice_weight, cross_entropy_weight: see
            :func:`dice_cross_entropy_loss`.

    Example:
        >>> loss = DiceCrossEntropyLoss(cross_entropy_weight=0.5)
        >>> loss.get_config()["cross_entropy_weight"]
        0.5
    """

    def __init__(self, smooth: float = 1.0, include_background: bool = False,
                 per_image: bool = False, dice_weight: float = 1.0,
                 cross_entropy_weight: float = 1.0, name: str = "dice_cross_entropy_loss",
                 reduction: str = "sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.smooth = _check_smooth(smooth)
        self.include_background = bool(include_background)
        self.per_image = bool(per_image)
        self.dice_weight = float(dice_weight)
        self.cross_entropy_weight = float(cross_entropy_weight)

    def call(self, y_true, y_pred):
        return dice_cross_entropy_loss(
            y_true, y_pred, smooth=self.smooth, include_background=self.include_background,
            per_image=self.per_image, dice_weight=self.dice_weight,
            cross_entropy_weight=self.cross_entropy_weight)

    def get_config(self):
        config = super().get_config()
        config.update(smooth=self.smooth, include_background=self.include_background,
                      per_image=self.per_image, dice_weight=self.dice_weight,
                      cross_entropy_weight=self.cross_entropy_weight)
        return config


# ------------------------------------------------------------------------ metric
def _hard_label_maps(y_true, y_pred, threshold: float):
    """Integer label maps ``(batch, ...)`` of truth and of the thresholded/argmax prediction."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    channels = _channels(y_pred)
    truth = _label_map_of(y_true, len(y_pred.shape), channels)
    if truth is None:
        truth = ops.argmax(y_true, axis=-1) if channels > 1 else y_true[..., 0]
    if channels == 1:
        pred = ops.cast(ops.greater(y_pred[..., 0], threshold), "int32")
        truth = ops.cast(ops.greater(ops.cast(truth, "float32"), 0.5), "int32")
    else:
        pred = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        truth = ops.cast(ops.round(ops.cast(truth, "float32")), "int32")
    return truth, pred


@_register
class DiceMetric(keras.metrics.Metric):
    """Hard Dice of predicted masks, accumulated over batches (``model.compile(metrics=...)``).

    Predictions become label maps first: ``p > threshold`` for one sigmoid channel,
    ``argmax`` over channels for a softmax. ``y_true`` may be one-hot or a label map
    (see module doc). For each label in ``labels`` the Dice is then computed with the
    conventions of :func:`chdml.metrics.dice` (both empty -> 1.0, one empty -> 0.0), and
    the result is the mean over ``labels``.

    Args:
        labels: label values to score: ``(1,)`` for a binary (sigmoid) model, e.g.
            ``(1, 2, 3)`` for the mean over LV, MYO and RV of a 4-class softmax model, or
            ``(3,)`` for the RV alone.
        threshold: probability above which a sigmoid output counts as foreground.
        per_image: False (default) pools every pixel seen since the last reset, i.e.
            ``chdml.metrics.dice_per_label`` on all batches stacked; True averages the Dice
            of each image, i.e. the mean of ``chdml.metrics.dice_per_slice(..., axis=0)``.
        name, dtype: as for every ``keras.metrics.Metric``.

    Sample weights, if given, weight whole images (shape ``(batch,)``).

    Example:
        >>> import numpy as np
        >>> metric = DiceMetric(labels=(1,))
        >>> truth = np.zeros((1, 2, 2), "int32"); truth[0, 0] = 1    # 2 pixels
        >>> probabilities = np.array([[[[0.9], [0.8]], [[0.7], [0.1]]]])  # 3 pixels > 0.5
        >>> metric.update_state(truth, probabilities)
        >>> round(float(metric.result()), 4)                        # 2*2 / (2+3)
        0.8
    """

    def __init__(self, labels: Sequence[int] = (1,), threshold: float = 0.5,
                 per_image: bool = False, name: str = "dice", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.labels = tuple(int(label) for label in labels)
        if not self.labels:
            raise ValueError("DiceMetric needs at least one label to score, e.g. labels=(1,).")
        self.threshold = float(threshold)
        self.per_image = bool(per_image)
        shape = (len(self.labels),)
        if per_image:
            self.dice_sum = self.add_variable(shape=shape, initializer="zeros",
                                              dtype="float32", name="dice_sum")
            self.image_count = self.add_variable(shape=(), initializer="zeros",
                                                 dtype="float32", name="image_count")
        else:
            self.overlap = self.add_variable(shape=shape, initializer="zeros",
                                             dtype="float32", name="overlap")
            self.total = self.add_variable(shape=shape, initializer="zeros",
                                           dtype="float32", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        truth, pred = _hard_label_maps(y_true, y_pred, self.threshold)
        spatial = tuple(range(1, len(truth.shape)))
        overlaps, totals = [], []
        for label in self.labels:
            truth_mask = ops.cast(ops.equal(truth, label), "float32")
            pred_mask = ops.cast(ops.equal(pred, label), "float32")
            overlaps.append(ops.sum(truth_mask * pred_mask, axis=spatial))
            totals.append(ops.sum(truth_mask, axis=spatial) + ops.sum(pred_mask, axis=spatial))
        overlap = ops.stack(overlaps, axis=-1)  # (batch, labels)
        total = ops.stack(totals, axis=-1)
        if sample_weight is None:
            weight = ops.ones_like(overlap[:, :1])
        else:
            weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1))
        if self.per_image:
            dice = _dice_or_one(overlap, total)
            self.dice_sum.assign_add(ops.sum(weight * dice, axis=0))
            self.image_count.assign_add(ops.sum(weight))
        else:
            self.overlap.assign_add(ops.sum(weight * overlap, axis=0))
            self.total.assign_add(ops.sum(weight * total, axis=0))

    def result(self):
        if self.per_image:
            per_label = self.dice_sum / ops.maximum(self.image_count, 1e-12)
        else:
            per_label = _dice_or_one(self.overlap, self.total)
        return ops.mean(per_label)

    def get_config(self):
        config = super().get_config()
        config.update(labels=list(self.labels), threshold=self.threshold,
                      per_image=self.per_image)
        return config


def _dice_or_one(overlap, total):
    """``2 overlap / total``, and 1.0 where ``total`` is 0 (both masks empty)."""
    return ops.where(total > 0, 2.0 * overlap / ops.maximum(total, 1e-12), 1.0)


def dice_metrics(labels: Mapping[str, int], *, per_image: bool = False,
                 threshold: float = 0.5) -> list[DiceMetric]:
    """One :class:`DiceMetric` per named label (``dice_LV``, ...), plus ``dice_mean`` when
    there is more than one.

    Args:
        labels: ``{name: value}`` of the foreground labels, e.g.
            ``{"LV": 1, "MYO": 2, "RV": 3}`` (``dataset.json`` without background).

    Example:
        >>> [m.name for m in dice_metrics({"LV": 1, "RV": 3})]
        ['dice_LV', 'dice_RV', 'dice_mean']
    """
    metrics = [DiceMetric(labels=(value,), per_image=per_image, threshold=threshold,
                          name=f"dice_{name}") for name, value in labels.items()]
    if len(metrics) > 1:
        metrics.append(DiceMetric(labels=tuple(labels.values()), per_image=per_image,
                                  threshold=threshold, name="dice_mean"))
    return metrics
