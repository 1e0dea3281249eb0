"""``chdml train classifier``: the view classifier (short axis vs other views).

The task of workshop 2: is an image a short-axis (SAX) slice, or another view
(2-chamber, 4-chamber, outflow tract)? Labels come from the ``view`` column of
``cases.csv``; no label maps are needed.

Decisions (documented in the model file's ``chdml.json`` too):

- a sample is one 2-D image: every slice of a SAX stack and every long-axis image;
- classes ``{"other": 0, "SAX": 1}``; the model outputs P(SAX) with one sigmoid unit;
- SAX stacks give many more slices than long-axis views give images, so the loss
  weights each class by the inverse of its frequency (balanced classes);
- images are normalised per volume, padded to a square and resized to 64x64, and
  augmented (rotation, zoom, shift, flips, intensity) in the ``tf.data`` pipeline;
- whole patients are held out for validation; the weights with the lowest validation
  loss are kept;
- a case (one file) is classified by the mean P(SAX) of its slices, threshold 0.5.
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from chdml.augment import AugmentSettings
from chdml.errors import UserError, describe_path
from chdml.inference import ModelInfo, normalise_volume, to_grid
from chdml.train import (VALIDATION_FRACTION, _check_output, _progress_callback,
                         _write_outputs, choose_validation_patients, load_training_cases,
                         make_dataset, precision, seed_everything, training_records)

CLASSES = {"other": 0, "SAX": 1}
TARGET = "view: SAX vs other (2CH, 4CH, OT)"


@dataclasses.dataclass
class ClassifierSettings:
    """Everything that defines a classifier training run (the defaults are the CLI's)."""

    input_size: int = 64
    n_blocks: int = 3
    base_filters: int = 16
    dense_units: int = 64
    dropout: float = 0.3
    l2: float = 0.0
    batch_size: int = 32
    # 30, not 15: with 15 the accuracy on a synthetic test set varied 0.925-0.975 from run
    # to run (float rounding); with 30 (early stopping ends at about 25) it was 0.969 in
    # three runs, in under a minute (bench/RESULTS.md, "Synthetic data").
    epochs: int = 30
    learning_rate: float = 1e-3
    # 12, not 6: over seven runs each (seeds 0-2, twice, and the benchmark) the accuracy
    # on the synthetic benchmark's test set was 0.980 on average with 12 (0.950-0.988)
    # against 0.965 with 6 (0.938-0.981); runs of one seed differ by float rounding
    # (bench/RESULTS.md, "Synthetic data").
    patience: int = 12
    validation_fraction: float = VALIDATION_FRACTION
    augment: AugmentSettings = dataclasses.field(default_factory=lambda: AugmentSettings(
        flip_left_right=0.5, flip_up_down=0.5, rotation_degrees=20.0))
    mixed_precision: bool = False


def view_class(view: str) -> int:
    """``'SAX'`` -> 1, any other view -> 0."""
    return CLASSES["SAX"] if view.upper() == "SAX" else CLASSES["other"]


def classifier_samples(cases, input_size: int):
    """All 2-D images of ``cases`` on the model grid with their class.

    Returns ``images`` ``(n, s, s)`` float32 in [0, 1], ``classes`` ``(n,)`` int32 and
    ``case_index`` ``(n,)`` (which case each image comes from).
    """
    images, classes, index = [], [], []
    for i, case in enumerate(cases):
        grid = to_grid(normalise_volume(case.image), (input_size, input_size))
        images.append(grid)
        classes.append(np.full(len(grid), view_class(case.record.view), dtype=np.int32))
        index.append(np.full(len(grid), i))
    return np.concatenate(images), np.concatenate(classes), np.concatenate(index)


def train_classifier(data, out, epochs: int | None = None, seed: int = 0,
                     settings: ClassifierSettings | None = None, verbose: bool = True):
    """Train the SAX-vs-other view classifier on ``data``'s training cases; write ``out``."""
    import keras

    from chdml.models import workshop_classifier

    s = dataclasses.replace(settings or ClassifierSettings())
    if epochs is not None:
        if epochs < 1:
            raise UserError(f"--epochs must be at least 1, got {epochs}.")
        s.epochs = epochs
    out = _check_output(out)
    records = training_records(data, views=None)
    present = {view_class(r.view) for r in records}
    if present != set(CLASSES.values()):
        missing = "short-axis (view SAX)" if CLASSES["SAX"] not in present else "long-axis"
        raise UserError(f"{describe_path(Path(data) / 'cases.csv')} has no {missing} training "
                        "cases; the view classifier needs both SAX and other views "
                        "(column 'view').")
    seed_everything(seed)
    t0 = time.time()
    val_patients = choose_validation_patients(records, s.validation_fraction, seed)
    cases = load_training_cases(data, records, {}, need_labels=False)
    train_cases = [c for c in cases if c.record.patient not in val_patients]
    val_cases = [c for c in cases if c.record.patient in val_patients]
    train_x, train_y, _ = classifier_samples(train_cases, s.input_size)
    val_x, val_y, _ = classifier_samples(val_cases, s.input_size)
    counts = np.bincount(train_y, minlength=2)
    if counts.min() == 0:
        raise UserError("after holding out validation patients no training image of one view "
                        f"class is left in {describe_path(data)}; add more patients.")
    class_weight = {c: float(len(train_y) / (2 * counts[c])) for c in range(2)}
    if verbose:
        print(f"training on {len(train_x)} images of {len(train_cases)} cases "
              f"({counts[1]} SAX, {counts[0]} other); validating on {len(val_x)} images of "
              f"{len(val_patients)} patients")

    def build():
        return workshop_classifier((s.input_size, s.input_size, 1), n_blocks=s.n_blocks,
                                   base_filters=s.base_filters, dense_units=s.dense_units,
                                   n_classes=2, dropout=s.dropout, l2=s.l2, seed=seed)

    with precision(s.mixed_precision) as mixed, tempfile.TemporaryDirectory() as tmp:
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(s.learning_rate),
                      loss="binary_crossentropy", metrics=["accuracy"])
        train_data = make_dataset(train_x, train_y.astype(np.float32), s.batch_size,
                                  seed=seed, augment=s.augment)
        val_data = make_dataset(val_x, val_y.astype(np.float32), 64, shuffle=False)
        checkpoint = os.path.join(tmp, "best.weights.h5")
        callbacks = [
            keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", mode="min",
                                            save_best_only=True, save_weights_only=True),
            keras.callbacks.EarlyStopping(monitor="val_loss", mode="min", patience=s.patience),
        ]
        if verbose:
            callbacks.append(_progress_callback(s.epochs, "training classifier"))
        history = model.fit(train_data, validation_data=val_data, epochs=s.epochs,
                            class_weight=class_weight, callbacks=callbacks, verbose=0,
                            shuffle=False)
        model.load_weights(checkpoint)
    history = {k: [float(v) for v in values] for k, values in history.history.items()}
    best_epoch = int(np.argmin(history["val_loss"])) + 1
    info = ModelInfo(
        task="classifier", labels=dict(CLASSES), input_size=(s.input_size, s.input_size),
        postprocess="none", classifier_target=TARGET,
        training={
            "settings": dataclasses.asdict(s), "seed": seed, "mixed_precision": bool(mixed),
            "epochs_run": len(history["loss"]), "best_epoch": best_epoch,
            "best_val_loss": float(min(history["val_loss"])),
            "best_val_accuracy": float(history["val_accuracy"][best_epoch - 1]),
            "class_weight": {str(k): v for k, v in class_weight.items()},
            "validation_patients": sorted(val_patients),
            "train_images": int(len(train_x)), "seconds": round(time.time() - t0, 1),
            "data": str(Path(data).resolve()),
        })
    _write_outputs(model, info, history, out, monitor="val_accuracy")
    if verbose:
        print(f"validation accuracy {info.training['best_val_accuracy']:.3f} (per image) at "
              f"epoch {best_epoch}; wrote {out} ({info.training['seconds']:.0f} s)")
    return model, info, history

