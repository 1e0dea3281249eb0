"""Steps per epoch: ``steps_per_epoch(n_samples, batch_size)``, batches in one epoch.

The number of batches when the last, partial batch is kept: ``n_samples / batch_size``
rounded up (Keras' progress bar shows the same number). Reference:
:func:`chdml.teaching.basics.steps_per_epoch`.

Typical beginner mistakes the hidden cases catch:
- integer division ``n_samples // batch_size`` (rounds down, drops the partial batch):
  the cases that do not divide evenly;
- ``n_samples // batch_size + 1`` (one too many when they divide evenly): the
  evenly dividing case;
- ``round(n_samples / batch_size)`` (rounds down below .5): 1 001 in batches of 100;
- ``n_samples / batch_size`` (a fraction, not a whole number of steps);
- fewer samples than one batch (one step, not zero).
Accepted: ``math.ceil(n / b)``, ``-(-n // b)``, ``(n + b - 1) // b``, ``int(np.ceil(...))``;
an int, a NumPy integer or a whole float such as ``4.0``.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.basics import steps_per_epoch

ROUND_UP_HINT = ("Round up: the last, smaller batch is one more step, e.g. "
                 "math.ceil(n_samples / batch_size).")


def cases(rng: np.random.Generator) -> list[Case]:
    batch = int(rng.choice([16, 32, 64]))
    return [
        Case("100 samples in batches of 32", public=True, points=1,
             inputs={"n_samples": 100, "batch_size": 32}, hint=ROUND_UP_HINT),
        Case("96 samples in batches of 32", public=True, points=1,
             inputs={"n_samples": 96, "batch_size": 32}),
        Case("a number of samples that does not divide by the batch size", public=False,
             points=1, inputs={"n_samples": batch * int(rng.integers(5, 60))
                               + int(rng.integers(1, batch // 2)), "batch_size": batch},
             hint=ROUND_UP_HINT),
        Case("a number of samples that divides evenly", public=False, points=1,
             inputs={"n_samples": batch * int(rng.integers(5, 60)), "batch_size": batch},
             hint="When the samples divide evenly, there is no extra step."),
        Case("1 001 samples in batches of 100", public=False, points=1,
             inputs={"n_samples": 1001, "batch_size": 100}, hint=ROUND_UP_HINT),
        Case("fewer samples than one batch", public=False, points=1,
             inputs={"n_samples": int(rng.integers(1, 16)), "batch_size": 16},
             hint="A single, partial batch is still one step."),
    ]


EXERCISE = Exercise(
    name="steps_per_epoch",
    title="Steps per epoch",
    producer=producers.call("steps_per_epoch", "n_samples", "batch_size"),
    reference=lambda inputs: steps_per_epoch(inputs["n_samples"], inputs["batch_size"]),
    compare=compare.exact(),
    cases=cases,
    hint=ROUND_UP_HINT,
)
