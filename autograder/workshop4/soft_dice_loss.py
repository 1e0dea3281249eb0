"""Soft Dice loss: ``soft_dice_loss(y_true, y_pred)`` in Keras (``keras.ops``).

``y_true``: one-hot targets ``(batch, H, W, classes)`` float32, channel 0 = background;
``y_pred``: the network's softmax probabilities of the same shape. The formula stated in
the notebook: for each structure channel ``c = 1 .. classes-1`` (background left out),
with sums over the whole batch and all pixels,
``soft Dice_c = (2 * sum(y_true_c * y_pred_c) + 1) / (sum(y_true_c) + sum(y_pred_c) + 1)``;
the loss is ``1 - mean_c(soft Dice_c)``, one number for the batch. Reference:
:func:`chdml.losses.soft_dice_loss` (``smooth=1``, background excluded, batch-wise).

The producer (:func:`chdml.grading.producers.loss_gradient`) returns the loss *and* its
gradient with respect to ``y_pred`` (TensorFlow ``GradientTape``); both must equal the
reference's, so the gradient is finite and non-zero where the reference's is.

Typical beginner mistakes the hidden cases catch:
- returning the Dice instead of ``1 - Dice``, or ``-Dice`` (a sign error): wrong value
  on every case (training would then *minimise* the overlap, or the loss is negative);
- thresholding (``y_pred > 0.5``) or ``argmax`` before counting: there is no gradient
  (reported as "no gradient") or a zero gradient;
- computing with NumPy inside the loss (``np.sum`` on tensors): no gradient;
- leaving out the ``+ 1`` smoothing: NaN loss and NaN gradient when a structure is absent
  from targets and predictions ("a perfect prediction of a batch without RV");
- including the background channel, averaging per image instead of over the batch, or
  the squared-denominator variant ``sum(y_true^2) + sum(y_pred^2)``: other numbers than
  the stated formula (the random-prediction cases);
- a constant or detached loss: zero gradient.
Accepted alternatives: ``keras.ops`` or TensorFlow functions, a loop over channels or
vectorised sums, a 0-d tensor or a Python/NumPy float for the value (as long as the
gradient flows); float32 or float64 arithmetic inside.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

N_CLASSES = 4


def reference(inputs: dict) -> dict:
    from chdml.losses import soft_dice_loss

    return producers.loss_and_gradient(soft_dice_loss, inputs["y_true"], inputs["y_pred"])


def _labels(rng: np.random.Generator, shape: tuple, classes=range(N_CLASSES)) -> np.ndarray:
    return rng.choice(np.array(list(classes)), size=shape).astype(np.int64)


def _one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(N_CLASSES, dtype=np.float32)[labels]


def _softmax(rng: np.random.Generator, shape: tuple, sharpness: float = 1.0) -> np.ndarray:
    logits = rng.normal(0, sharpness, size=(*shape, N_CLASSES))
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def _towards(target: np.ndarray, probabilities: np.ndarray, weight: float) -> np.ndarray:
    """Probabilities that lean towards the one-hot ``target`` (a half-trained network)."""
    return (weight * target + (1 - weight) * probabilities).astype(np.float32)


def cases(rng: np.random.Generator) -> list[Case]:
    truth = _one_hot(_labels(rng, (2, 6, 6)))
    per_image_truth = _one_hot(np.stack([_labels(rng, (8, 8), (0, 1)),
                                         _labels(rng, (8, 8), (0, 2, 3))]))
    no_rv = _one_hot(_labels(rng, (2, 5, 5), (0, 1, 2)))
    background = _one_hot(np.zeros((1, 6, 6), np.int64))
    background_prediction = np.zeros_like(background)
    background_prediction[..., 0] = 1.0
    confident = _one_hot(_labels(rng, (2, 7, 7)))
    return [
        Case("a batch of 2 random 6x6 targets and softmax predictions (4 classes)",
             public=True, points=1,
             inputs={"y_true": truth, "y_pred": _softmax(rng, truth.shape[:-1])},
             hint="Loss = 1 - mean over channels 1-3 of (2*sum(t*p) + 1) / (sum(t) + sum(p) "
                  "+ 1), sums over the batch and all pixels, with keras.ops."),
        Case("predictions leaning towards the truth, two quite different images",
             public=False, points=1,
             inputs={"y_true": per_image_truth,
                     "y_pred": _towards(per_image_truth,
                                        _softmax(rng, per_image_truth.shape[:-1]), 0.6)},
             hint="Sum over the whole batch and all pixels at once (axis=(0, 1, 2)), "
                  "leave out channel 0 (background), then average the 3 structures."),
        Case("a perfect prediction of a batch without RV", public=False, points=1,
             inputs={"y_true": no_rv, "y_pred": no_rv.copy()},
             hint="Add 1 to the numerator and the denominator: without it a structure "
                  "absent from targets and predictions gives 0 / 0 (NaN)."),
        Case("an all-background target and prediction", public=False, points=1,
             inputs={"y_true": background, "y_pred": background_prediction},
             hint="With the + 1 smoothing the loss of nothing-to-find, nothing-found is 0."),
        Case("confident (nearly one-hot) predictions: is there a gradient?", public=False,
             points=1,
             inputs={"y_true": confident,
                     "y_pred": _towards(_one_hot(_labels(rng, (2, 7, 7))),
                                        _softmax(rng, (2, 7, 7)), 0.9)},
             hint="Use the probabilities themselves, not y_pred > 0.5 or argmax: a "
                  "threshold has no gradient, so the network could not learn from it."),
    ]


EXERCISE = Exercise(
    name="soft_dice_loss",
    title="A differentiable soft Dice loss",
    producer=producers.loss_gradient("soft_dice_loss", "y_true", "y_pred"),
    reference=reference,
    compare=compare.dicts(loss=compare.number(atol=1e-5, rtol=1e-4),
                          gradient=compare.arrays(atol=1e-6, rtol=1e-3)),
    cases=cases,
    hint="1 - mean over the structure channels of (2 * sum(y_true * y_pred) + 1) / "
         "(sum(y_true) + sum(y_pred) + 1), written with keras.ops.",
)
