"""Reading learning curves: ``best_epoch(history)`` and ``overfits(history)``.

``history`` is a Keras history dict (``history.history``): ``{"loss": [...], "val_loss":
[...], ...}``, one value per epoch. The conventions (:mod:`chdml.teaching.curves`, stated
in the notebook): epochs are numbered **from 1**, as Keras prints them; the best epoch has
the lowest validation loss, the first one on a tie; a history *overfits* when its last
validation loss is more than 10 % above the lowest one while the training loss kept
falling (last training loss below the training loss at the best epoch).

Typical beginner mistakes the hidden cases catch:
- the 0-based index from ``np.argmin`` returned as the epoch (off by one: every case;
  the best epoch at epoch 1 gives 0);
- the training loss read instead of the validation loss (it keeps falling: the best epoch
  comes out as the last one);
- ``np.argmax`` or ``mode="max"`` on a loss (the worst epoch);
- the *last* of two tied epochs (a loop with ``<=``);
- the wrong curve picked from a history that also holds accuracies (``val_accuracy``
  listed first);
- any rise of the validation loss called overfitting (a wobble of a few percent is noise);
- overfitting declared when both losses rise (unstable training, not overfitting).
Accepted: Python or NumPy integers and booleans; lists or arrays inside the function.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching import curves


def _falling(rng, n_epochs, start=0.7, end=0.05):
    """A training loss that falls smoothly (with a little noise) from start to end."""
    values = start * (end / start) ** np.linspace(0, 1, n_epochs)
    return values * (1 + rng.uniform(-0.01, 0.01, n_epochs))


def _u_shape(rng, n_epochs, best, rise):
    """A validation loss that falls to its (unique) minimum at ``best`` (from 1), then
    rises to ``(1 + rise)`` times that minimum by the last epoch."""
    lowest = rng.uniform(0.2, 0.4)
    down = np.linspace(0.8, lowest, best)[:-1] + rng.uniform(0.02, 0.04, best - 1)
    up = lowest * (1 + rise * np.linspace(0, 1, n_epochs - best + 1)[1:] ** 1.5)
    up += np.linspace(0.005, 0.01, up.size)
    return np.concatenate([down, [lowest], up])


def _history(**curves_by_name) -> dict:
    return {name: [round(float(value), 4) for value in values]
            for name, values in curves_by_name.items()}


def cases(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(14, 20))
    best = int(rng.integers(5, 9))
    overfitting = _history(loss=_falling(rng, n), val_loss=_u_shape(rng, n, best, 0.6))

    m = int(rng.integers(8, 13))
    still_learning = _history(loss=_falling(rng, m), val_loss=_falling(rng, m, 0.9, 0.3))

    k = int(rng.integers(8, 12))
    first_best = _history(loss=_falling(rng, k), val_loss=_u_shape(rng, k, 1, 1.0))

    t = int(rng.integers(10, 14))
    tie_at = int(rng.integers(3, 6))
    tied = _u_shape(rng, t, tie_at, 0.5)
    tied[tie_at + 1] = tied[tie_at - 1]          # epoch tie_at + 2 equals the best epoch
    tie = _history(loss=_falling(rng, t), val_loss=tied)

    w = int(rng.integers(12, 16))
    wobble_best = int(rng.integers(6, 9))
    wobbling = _u_shape(rng, w, wobble_best, 0.03)
    wobble = _history(loss=_falling(rng, w), val_loss=wobbling)

    d = int(rng.integers(12, 16))
    d_best = int(rng.integers(4, 7))
    diverging_train = np.concatenate([_falling(rng, d_best + 2),
                                      np.linspace(0.15, 0.9, d - d_best - 2)])
    diverging = _history(loss=diverging_train, val_loss=_u_shape(rng, d, d_best, 1.5))

    a = int(rng.integers(14, 18))
    a_best = int(rng.integers(4, 8))
    accuracy_peak = min(a_best + 4, a)           # accuracy peaks later than the loss
    val_accuracy = 0.6 + 0.3 * np.exp(-0.5 * ((np.arange(1, a + 1) - accuracy_peak) / 2) ** 2)
    with_accuracy = {"val_accuracy": [round(float(v), 4) for v in val_accuracy],
                     "accuracy": [round(float(v), 4) for v in np.linspace(0.6, 1.0, a)],
                     **{key: value for key, value in _history(
                         val_loss=_u_shape(rng, a, a_best, 0.4),
                         loss=_falling(rng, a)).items()}}

    return [
        Case("a model that overfits after a few epochs", public=True, points=1,
             inputs={"history": overfitting}),
        Case("a model that is still learning (both losses falling)", public=True, points=1,
             inputs={"history": still_learning}),
        Case("the best validation loss at the very first epoch", public=False, points=1,
             inputs={"history": first_best},
             hint="Epochs are numbered from 1, as Keras prints them: add 1 to the index "
                  "np.argmin gives."),
        Case("two epochs tie for the lowest validation loss", public=False, points=1,
             inputs={"history": tie},
             hint="On a tie, the first epoch with the lowest validation loss is the best "
                  "(np.argmin returns the first)."),
        Case("a validation loss that only wobbles a little at the end", public=False,
             points=1, inputs={"history": wobble},
             hint="Overfitting means the validation loss rose more than 10 % above its "
                  "lowest value; a few percent is noise."),
        Case("both losses rise at the end (unstable training)", public=False, points=1,
             inputs={"history": diverging},
             hint="Overfitting also needs the training loss to keep falling: compare the "
                  "last training loss with the training loss at the best epoch."),
        Case("a history that also holds accuracies, val_accuracy first", public=False,
             points=1, inputs={"history": with_accuracy},
             hint="Read history['val_loss'] by name, not the first curve of the history."),
    ]


def reference(inputs: dict) -> dict:
    history = inputs["history"]
    return {"best_epoch": curves.best_epoch(history), "overfits": curves.overfits(history)}


EXERCISE = Exercise(
    name="learning_curves",
    title="Reading learning curves",
    producer=producers.call_several(("best_epoch", "overfits"), "history"),
    reference=reference,
    compare=compare.dicts(default=compare.exact()),
    cases=cases,
    hint="best_epoch: np.argmin(history['val_loss']) + 1. overfits: the last validation "
         "loss more than 10 % above the lowest AND the last training loss below the "
         "training loss at the best epoch.",
)
