"""Categorical cross-entropy: ``categorical_crossentropy(y_true, y_pred)``, one number.

``y_true`` is one-hot ``(samples, classes)``, ``y_pred`` class probabilities of the same
shape whose rows sum to 1 (a softmax output). Reference:
:func:`chdml.teaching.basics.categorical_crossentropy`, equal to
``keras.losses.CategoricalCrossentropy()(y_true, y_pred)`` (tested against Keras):
per sample ``-sum over classes of y * log(p)`` with ``p`` clipped to
``[1e-7, 1 - 1e-7]``, then the mean over samples.

Typical beginner mistakes the hidden cases catch:
- ``log(0)``: a probability of exactly 0 for the true class gives ``inf``; a sure and
  right prediction gives ``0 * log(0) = nan`` for the other classes;
- ``np.mean`` over samples *and* classes (divides by the number of classes too): every
  case, and the 10-class case by a factor of 10;
- the sum over samples instead of the mean (the 50-sample case);
- taking the log of the wrong class (``y_pred`` and ``y_true`` swapped);
- computing the binary cross-entropy of every class instead.
Accepted: clipping with ``np.clip`` or adding 1e-7 inside the log; clipping only at 0
(the probabilities here sum to 1, so the upper clip changes the value by < 1e-6);
float32 or float64.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.basics import categorical_crossentropy

CLIP_HINT = ("Clip the probabilities first, as Keras does: p = np.clip(y_pred, 1e-7, "
             "1 - 1e-7), so that log never sees 0.")
MEAN_HINT = ("Sum over the classes (axis=-1) for each sample, then take the mean over "
             "the samples.")


def _one_hot(rng: np.random.Generator, n_samples: int, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[rng.integers(0, n_classes, size=n_samples)]


def _softmax_like(rng: np.random.Generator, n_samples: int, n_classes: int) -> np.ndarray:
    return rng.dirichlet(np.ones(n_classes), size=n_samples)


def cases(rng: np.random.Generator) -> list[Case]:
    true_3 = _one_hot(rng, 4, 3)
    wrong = _softmax_like(rng, 5, 4)
    true_wrong = _one_hot(rng, 5, 4)
    wrong[0] = np.roll(true_wrong[0], 1)          # sure, and wrong: p(true class) = 0
    right = _one_hot(rng, 6, 3)
    return [
        Case("4 samples, 3 classes", public=True, points=1,
             inputs={"y_true": true_3, "y_pred": _softmax_like(rng, 4, 3)}, hint=MEAN_HINT),
        Case("a probability of exactly 0 for the true class", public=False, points=1,
             inputs={"y_true": true_wrong, "y_pred": wrong}, hint=CLIP_HINT),
        Case("sure and right predictions (probability 1 for the true class, 0 for the "
             "others)", public=False, points=1,
             inputs={"y_true": right, "y_pred": right.copy()},
             hint=CLIP_HINT + " A perfect prediction costs (almost) 0."),
        Case("50 samples, 10 classes", public=False, points=1,
             inputs={"y_true": _one_hot(rng, 50, 10), "y_pred": _softmax_like(rng, 50, 10)},
             hint=MEAN_HINT),
        Case("7 samples, 2 classes", public=False, points=1,
             inputs={"y_true": _one_hot(rng, 7, 2), "y_pred": _softmax_like(rng, 7, 2)},
             hint=MEAN_HINT),
    ]


EXERCISE = Exercise(
    name="categorical_crossentropy",
    title="Categorical cross-entropy",
    producer=producers.call("categorical_crossentropy", "y_true", "y_pred"),
    reference=lambda inputs: categorical_crossentropy(inputs["y_true"], inputs["y_pred"]),
    compare=compare.number(atol=1e-6, rtol=1e-4),
    cases=cases,
    hint="mean over samples of -sum(y_true * log(p), axis=-1), p clipped to "
         "[1e-7, 1 - 1e-7].",
)
