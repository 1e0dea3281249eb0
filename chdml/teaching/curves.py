"""Reading learning curves (workshop 3): the best epoch and whether a history overfits.

A *history* is what ``model.fit`` returns (a Keras ``History``) or its ``.history`` dict:
``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``, one value per epoch.

Conventions (the workshop states them to students, the checks hold them to them):

- **Epochs are numbered from 1**, as Keras prints them (``Epoch 1/40``): the first value of
  a list is epoch 1. :func:`best_epoch` returns such a number, never a 0-based index.
- The **best epoch** is the epoch with the lowest validation loss; on a tie, the *first*
  such epoch (a checkpoint with ``save_best_only=True`` keeps the first, since a later
  equal value is not an improvement). Non-finite values (NaN) never count as best.
- A history **overfits** when, by its last epoch, the validation loss has risen more than
  ``tolerance`` (default 10 %) above its lowest value *while the training loss kept
  falling* (training loss at the last epoch below the training loss at the best epoch).
  A validation loss that wobbles by a few percent is noise, not overfitting; both losses
  rising together is unstable training (a learning rate too high), not overfitting.

:func:`best_epoch` is also the one place the rest of chdml should ask for a best epoch
(``chdml.plots`` marks the same epoch on its learning curves).

Example:
    >>> history = {"loss": [0.9, 0.5, 0.3, 0.2], "val_loss": [1.0, 0.6, 0.7, 0.9]}
    >>> best_epoch(history), overfits(history)
    (2, True)
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

LOWER_IS_BETTER = ("loss", "error", "distance", "hausdorff")
"""Words that make a quantity one to minimise when ``mode="auto"``."""


def history_dict(history) -> dict[str, list[float]]:
    """The ``{name: [value per epoch]}`` of a Keras ``History`` or a plain mapping.

    Raises ``TypeError`` for anything else and ``ValueError`` for an empty history.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError("history must be what model.fit returns (a History) or a dict of "
                        f"lists such as {{'loss': [...]}}, got {type(history).__name__}")
    logs = {str(name): [float(value) for value in values] for name, values in logs.items()}
    if not logs or not any(logs.values()):
        raise ValueError("the history is empty; train for at least one epoch first")
    return logs


def lower_is_better(name: str) -> bool:
    """Whether ``name`` (e.g. ``"val_loss"``, ``"val_accuracy"``) is a quantity to minimise."""
    return any(word in name for word in LOWER_IS_BETTER)


def best_index(values: Sequence[float], minimise: bool = True) -> int | None:
    """0-based position of the best finite value (first on ties), ``None`` if none is finite."""
    best = None
    for position, value in enumerate(values):
        value = float(value)
        if not math.isfinite(value):
            continue
        if best is None or (value < values[best] if minimise else value > values[best]):
            best = position
    return best


def best_epoch(history, monitor: str = "val_loss", mode: str = "auto") -> int:
    """The epoch (numbered from 1) with the best ``monitor`` value; first one on ties.

    Args:
        history: a Keras ``History`` or its ``.history`` dict.
        monitor: the quantity to read, ``"val_loss"`` by default (the one a checkpoint
            keeps); use ``"loss"`` for a run without validation data.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (minimise names containing "loss",
            "error" or "distance", maximise the rest, e.g. accuracy).

    Raises:
        ValueError: ``monitor`` is not in the history, ``mode`` is unknown, or no value
            is finite.
    """
    logs = history_dict(history)
    if monitor not in logs:
        raise ValueError(f"the history has no {monitor!r}; it has {sorted(logs)} (did you "
                         "pass validation_data to fit?)")
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    minimise = lower_is_better(monitor) if mode == "auto" else mode == "min"
    position = best_index(logs[monitor], minimise)
    if position is None:
        raise ValueError(f"no value of {monitor!r} is a finite number")
    return position + 1


def overfits(history, tolerance: float = 0.1) -> bool:
    """Whether the history ends overfitting (see the module doc for the rule).

    ``True`` when the last validation loss exceeds ``(1 + tolerance)`` times the lowest
    validation loss and the last training loss is below the training loss at the best
    epoch. A history of one epoch never overfits.
    """
    logs = history_dict(history)
    for name in ("loss", "val_loss"):
        if name not in logs:
            raise ValueError(f"the history has no {name!r}; it has {sorted(logs)}")
    train, validation = logs["loss"], logs["val_loss"]
    best = best_epoch(logs) - 1
    if len(validation) < 2:
        return False
    risen = validation[-1] > (1.0 + tolerance) * validation[best]
    still_learning = train[-1] < train[best]
    return bool(risen and still_learning)


def early_stopping_callbacks(checkpoint_path: str, patience: int = 5) -> list:
    """The two callbacks that keep the best validation epoch (imports Keras).

    ``EarlyStopping`` stops training ``patience`` epochs after the last improvement of
    the validation loss and puts back the weights of the best epoch;
    ``ModelCheckpoint`` writes the model to ``checkpoint_path`` (a ``.keras`` file) each
    time the validation loss improves, so the file always holds the best model so far.
    Both watch ``val_loss`` in mode ``"min"`` (lower is better).
    """
    import keras

    return [
        keras.callbacks.EarlyStopping(monitor="val_loss", mode="min", patience=patience,
                                      restore_best_weights=True),
        keras.callbacks.ModelCheckpoint(checkpoint_path, monitor="val_loss", mode="min",
                                        save_best_only=True),
    ]
