"""Mean squared error: ``mean_squared_error(y_true, y_pred)`` in NumPy, one number.

Reference: :func:`chdml.teaching.basics.mean_squared_error`, equal to
``keras.losses.MeanSquaredError()(y_true, y_pred)`` (tested against Keras).

Typical beginner mistakes the hidden cases catch:
- the sum instead of the mean (the 100-sample case);
- the root of the mean (RMSE) or the mean absolute error (every case with errors far
  from 1);
- the mean over the last axis only, which returns one value per sample (the
  2-D case: several outputs per sample);
- the squared difference of the means, ``(mean(y_true) - mean(y_pred)) ** 2``;
- integer targets (ints mixed with float predictions).
Accepted: ``np.mean``, ``np.average``, loops; float32 or float64; a NumPy scalar or a 0-d
array.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.basics import mean_squared_error

MEAN_HINT = "Average over every value: np.mean((y_true - y_pred) ** 2), not the sum."


def cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("5 targets and predictions", public=True, points=1,
             inputs={"y_true": rng.normal(0, 3, size=5), "y_pred": rng.normal(0, 3, size=5)}),
        Case("100 targets and predictions", public=False, points=1,
             inputs={"y_true": rng.normal(0, 2, size=100),
                     "y_pred": rng.normal(0, 2, size=100)}, hint=MEAN_HINT),
        Case("6 samples with 3 outputs each (a 6x3 array)", public=False, points=1,
             inputs={"y_true": rng.normal(0, 3, size=(6, 3)),
                     "y_pred": rng.normal(0, 3, size=(6, 3))},
             hint="Return one number: the mean over all samples and outputs."),
        Case("integer targets and predictions close to them", public=False, points=1,
             inputs={"y_true": rng.integers(-5, 6, size=8),
                     "y_pred": rng.integers(-5, 6, size=8) + rng.normal(0, 0.5, size=8)},
             hint=MEAN_HINT),
    ]


EXERCISE = Exercise(
    name="mean_squared_error",
    title="Mean squared error",
    producer=producers.call("mean_squared_error", "y_true", "y_pred"),
    reference=lambda inputs: mean_squared_error(inputs["y_true"], inputs["y_pred"]),
    compare=compare.number(atol=1e-6, rtol=1e-5),
    cases=cases,
    hint=MEAN_HINT,
)
