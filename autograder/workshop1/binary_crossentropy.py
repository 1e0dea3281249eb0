"""Binary cross-entropy: ``binary_crossentropy(y_true, y_pred)`` in NumPy, one number.

Reference: :func:`chdml.teaching.basics.binary_crossentropy`, equal to
``keras.losses.BinaryCrossentropy()(y_true, y_pred)`` (tested against Keras), which clips
predictions to ``[1e-7, 1 - 1e-7]`` before the logarithm.

Tolerance: 1.5 % relative. Keras computes in float32, where ``1 - 1e-7`` rounds to
``1 - 1.19e-7``: a prediction of exactly 1 for a true 0 costs 15.94 in Keras but 16.12
when a student clips the same way in float64. Both are accepted; the largest difference
this makes is 1.1 %, while every mistake below changes the value by 10 % or more.

Typical beginner mistakes the hidden cases catch:
- ``log(0)``: no clipping, so a sure and wrong prediction (exactly 0 for a true 1, or
  exactly 1 for a true 0) gives ``inf``, and a sure and *right* one gives ``0 * log(0)
  = nan``;
- a different clipping constant (e.g. 1e-15 as in scikit-learn: 34.5 instead of 16.1);
- clipping only at 0 and not at 1;
- the sum over samples instead of the mean (every case with more than one sample);
- forgetting the ``(1 - y) * log(1 - p)`` term, or a minus sign; ``log10`` or ``log2``;
- swapping ``y_true`` and ``y_pred``.
Accepted: ``np.clip(y_pred, 1e-7, 1 - 1e-7)`` or ``log(p + 1e-7)`` style guards; float32
or float64; 1-D ``(samples,)`` or 2-D ``(samples, outputs)`` arrays (mean over all).
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.basics import binary_crossentropy

CLIP_HINT = ("Clip the predictions first, as Keras does: p = np.clip(y_pred, 1e-7, "
             "1 - 1e-7); then log never sees 0 (log(0) is -inf and 0 * log(0) is nan).")


def _probabilities(rng: np.random.Generator, size) -> np.ndarray:
    return rng.uniform(0.02, 0.98, size=size)


def cases(rng: np.random.Generator) -> list[Case]:
    labels = lambda size: rng.integers(0, 2, size=size).astype(float)  # noqa: E731
    sure_wrong_one = labels(6)
    sure_wrong_one[:2] = 0.0
    sure_right = labels(8)
    return [
        Case("6 labels and predicted probabilities between 0.02 and 0.98", public=True,
             points=1, inputs={"y_true": labels(6), "y_pred": _probabilities(rng, 6)}),
        Case("a prediction of exactly 0 for a true 1", public=True, points=1,
             inputs={"y_true": np.array([1.0, 0.0, 1.0, 0.0]),
                     "y_pred": np.array([0.0, 0.2, 0.7, 0.4])}, hint=CLIP_HINT),
        Case("predictions of exactly 1 for a true 0", public=False, points=1,
             inputs={"y_true": sure_wrong_one,
                     "y_pred": np.concatenate([[1.0, 1.0], _probabilities(rng, 4)])},
             hint=CLIP_HINT),
        Case("sure and right predictions (exactly 0 for a 0 and 1 for a 1)", public=False,
             points=1, inputs={"y_true": sure_right, "y_pred": sure_right.copy()},
             hint=CLIP_HINT + " A perfect prediction costs (almost) 0."),
        Case("100 labels and predictions", public=False, points=1,
             inputs={"y_true": labels(100), "y_pred": _probabilities(rng, 100)},
             hint="Average over the samples (np.mean), do not sum."),
        Case("5 samples with 3 yes/no outputs each, with some 0s and 1s", public=False,
             points=1,
             inputs={"y_true": labels((5, 3)),
                     "y_pred": np.where(rng.random((5, 3)) < 0.3,
                                        rng.integers(0, 2, size=(5, 3)).astype(float),
                                        _probabilities(rng, (5, 3)))},
             hint="Return one number: the mean over all samples and outputs."),
    ]


EXERCISE = Exercise(
    name="binary_crossentropy",
    title="Binary cross-entropy",
    producer=producers.call("binary_crossentropy", "y_true", "y_pred"),
    reference=lambda inputs: binary_crossentropy(inputs["y_true"], inputs["y_pred"]),
    compare=compare.number(atol=1e-6, rtol=0.015),
    cases=cases,
    hint="-mean(y * log(p) + (1 - y) * log(1 - p)) with p clipped to [1e-7, 1 - 1e-7].",
)
