"""Early stopping: ``make_callbacks(checkpoint_path)`` returns the callbacks that keep the
best validation epoch.

Expected, as :func:`chdml.teaching.curves.early_stopping_callbacks`: an ``EarlyStopping``
watching ``val_loss`` in mode ``"min"`` with ``restore_best_weights=True``, and a
``ModelCheckpoint(checkpoint_path, ...)`` watching ``val_loss`` in mode ``"min"`` with
``save_best_only=True``. The check reads these settings and then *uses* the callbacks:
the producer ``fit_with_callbacks`` fits a scripted model (no data; each case gives the
training and validation loss of every epoch, and the model's only weight counts epochs)
and reports which epoch's weights the model holds after ``fit`` and which epoch the
checkpoint file holds. Both must be the best epoch (lowest validation loss, first on
ties) among the epochs the run lasted.

Typical beginner mistakes the hidden cases catch:
- monitoring ``"loss"`` (the training loss, which keeps falling: the last epoch is kept);
- ``mode="max"`` on a loss (the worst epoch is kept, training stops after ``patience``);
- ``restore_best_weights`` left at its default ``False`` (the model keeps the weights of
  the last epoch trained, ``patience`` epochs after the best);
- ``save_best_only`` left at ``False`` (the file holds the last epoch);
- the checkpoint written somewhere else than ``checkpoint_path``, or no checkpoint;
- ``monitor="val_accuracy"`` when the run only reports losses (the callbacks do nothing).
Accepted: any ``patience`` (the best epoch is sought among the epochs actually trained:
a small patience that stops at a local minimum is judged on the epochs it saw);
``mode="auto"`` (it means ``"min"`` for a loss); the callbacks in any order; other
callbacks besides these two.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise


def _losses(rng, n_epochs, best, local=None):
    """Training losses falling; validation losses lowest at epoch ``best`` (from 1), then
    rising for the rest of the run; optionally a shallower dip at epoch ``local``."""
    train = 0.8 * (0.05 / 0.8) ** np.linspace(0, 1, n_epochs)
    epochs = np.arange(1, n_epochs + 1)
    lowest = rng.uniform(0.25, 0.35)
    val = lowest + 0.03 * np.abs(epochs - best) ** 1.2 + rng.uniform(0, 0.004, n_epochs)
    val[best - 1] = lowest
    if local is not None:
        val[local - 1] = lowest + 0.02        # a dip below its neighbours, not the best
        val[local] = val[local - 1] + 0.03
    return ([round(float(v), 4) for v in train], [round(float(v), 4) for v in val])


def cases(rng: np.random.Generator) -> list[Case]:
    def case(description, public, n_epochs, best, local=None, hint=None):
        train, val = _losses(rng, n_epochs, best, local)
        return Case(description, public=public, points=1,
                    inputs={"train_losses": train, "val_losses": val}, hint=hint)

    return [
        case("a run whose validation loss is lowest at an early epoch", True,
             int(rng.integers(14, 17)), int(rng.integers(4, 7))),
        case("the best epoch later in the run", False, int(rng.integers(16, 19)),
             int(rng.integers(8, 11)),
             hint="Monitor 'val_loss' (the training loss keeps falling) with mode 'min'."),
        case("an early dip of the validation loss before the true best", False,
             int(rng.integers(15, 18)), int(rng.integers(8, 11)), local=3,
             hint="EarlyStopping(restore_best_weights=True) and ModelCheckpoint("
                  "save_best_only=True) both keep the best epoch seen so far."),
        case("the best epoch at epoch 2", False, int(rng.integers(10, 13)), 2,
             hint="restore_best_weights=True puts back the best epoch's weights when "
                  "training stops."),
    ]


def reference(inputs: dict) -> dict:
    """The monitored quantity and mode of the reference callbacks."""
    from chdml.grading.scripted_fit import describe_callback
    from chdml.teaching.curves import early_stopping_callbacks

    stopping, _checkpoint = [describe_callback(callback)
                             for callback in early_stopping_callbacks("best_model.keras")]
    return {"monitor": stopping["monitor"], "mode": stopping["mode"]}


EXERCISE = Exercise(
    name="early_stopping",
    title="Early stopping and checkpoints",
    producer=producers.fit_with_callbacks("make_callbacks"),
    reference=reference,
    compare=compare.keeps_best_epoch(),
    cases=cases,
    hint="keras.callbacks.EarlyStopping(monitor='val_loss', mode='min', patience=5, "
         "restore_best_weights=True) and keras.callbacks.ModelCheckpoint(checkpoint_path, "
         "monitor='val_loss', mode='min', save_best_only=True).",
)
