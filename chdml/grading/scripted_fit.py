"""A scripted training run: which epoch's weights do a student's callbacks keep?

Used by the ``fit_with_callbacks`` producer (workshop 3, early stopping). A tiny Keras
model whose training and validation losses are not learned but *scripted*: epoch ``e``
(numbered from 1) reports ``train_losses[e-1]`` as ``loss`` and ``val_losses[e-1]`` as
``val_loss``, and its only weight, ``epoch_counter``, equals ``e`` after epoch ``e``. So
after ``model.fit(..., callbacks=student_callbacks)`` the model's weight says which epoch's
weights were kept (restored by ``EarlyStopping(restore_best_weights=True)``, or the last
epoch's), and loading the checkpoint file into a fresh model says which epoch
``ModelCheckpoint`` saved last. Deterministic, no data, well under a second.

Imports Keras: import this module only when a check runs.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

import keras
import numpy as np

CHECKPOINT_NAME = "best_model.keras"
"""The file name handed to the student's ``make_callbacks(checkpoint_path)``."""


@keras.saving.register_keras_serializable(package="chdml_grading")
class ScriptedModel(keras.Model):
    """A model whose losses per epoch are given and whose weight counts epochs."""

    def __init__(self, train_losses=(), val_losses=(), **kwargs):
        super().__init__(**kwargs)
        self.train_losses = [float(value) for value in train_losses]
        self.val_losses = [float(value) for value in val_losses]
        self.epoch_counter = self.add_weight(shape=(), initializer="zeros",
                                             trainable=False, name="epoch_counter")
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, inputs):
        return inputs * 0.0 + self.epoch_counter

    def _epoch(self) -> int:
        return int(np.asarray(self.epoch_counter.numpy())) - 1

    def train_step(self, data):
        self.epoch_counter.assign(self.epoch_counter + 1.0)
        self.loss_tracker.update_state(self.train_losses[self._epoch()])
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        self.loss_tracker.update_state(self.val_losses[self._epoch()])
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def get_config(self):
        return {**super().get_config(), "train_losses": self.train_losses,
                "val_losses": self.val_losses}


def _new_model(train_losses, val_losses) -> ScriptedModel:
    model = ScriptedModel(train_losses, val_losses)
    model.compile(run_eagerly=True)
    model(np.zeros((1, 1), dtype="float32"))
    return model


def _direction(callback: Any) -> str:
    """``"min"`` or ``"max"``: the mode a monitoring callback works in ("auto" resolved)."""
    mode = getattr(callback, "mode", "auto")
    if mode in ("min", "max"):
        return mode
    monitor = str(getattr(callback, "monitor", ""))
    return "min" if "loss" in monitor else "max"


def describe_callback(callback: Any) -> dict:
    """The settings the early-stopping check reads, as plain data."""
    kind = type(callback).__name__
    description = {"kind": kind}
    if hasattr(callback, "monitor"):
        description["monitor"] = str(callback.monitor)
        description["mode"] = _direction(callback)
    if hasattr(callback, "restore_best_weights"):
        description["restore_best_weights"] = bool(callback.restore_best_weights)
        description["patience"] = int(getattr(callback, "patience", 0))
    if hasattr(callback, "save_best_only"):
        description["save_best_only"] = bool(callback.save_best_only)
    return description


def run(make_callbacks, train_losses, val_losses) -> dict:
    """Fit a scripted model with ``make_callbacks(checkpoint_path)``; report what was kept.

    Returns ``{"callbacks": [describe_callback(...) ...], "epochs_run": n,
    "kept_epoch": e, "saved_epoch": e or None}``: ``kept_epoch`` is the epoch (from 1)
    whose weights the model holds after ``fit``; ``saved_epoch`` the epoch whose weights
    are in the checkpoint file (``None`` when no file was written at ``checkpoint_path``).
    """
    train_losses = [float(value) for value in train_losses]
    val_losses = [float(value) for value in val_losses]
    with tempfile.TemporaryDirectory(prefix="chdml-callbacks-") as folder:
        path = os.path.join(folder, CHECKPOINT_NAME)
        callbacks = make_callbacks(path)
        if callbacks is None:
            raise TypeError("make_callbacks returned None (did you `return` the list of "
                            "callbacks?)")
        if isinstance(callbacks, keras.callbacks.Callback):
            callbacks = [callbacks]
        callbacks = list(callbacks)
        for callback in callbacks:
            if not isinstance(callback, keras.callbacks.Callback):
                raise TypeError(f"make_callbacks should return Keras callbacks, got a "
                                f"{type(callback).__name__}")
        model = _new_model(train_losses, val_losses)
        probe = np.zeros((1, 1), dtype="float32")
        history = model.fit(probe, probe, validation_data=(probe, probe),
                            epochs=len(val_losses), batch_size=1, verbose=0,
                            callbacks=callbacks)
        saved_epoch = None
        if os.path.isfile(path):
            saved = _new_model(train_losses, val_losses)
            saved.load_weights(path)
            saved_epoch = int(round(float(saved.epoch_counter.numpy())))
        return {"callbacks": [describe_callback(callback) for callback in callbacks],
                "epochs_run": len(history.history.get("loss", [])),
                "kept_epoch": int(round(float(model.epoch_counter.numpy()))),
                "saved_epoch": saved_epoch}
