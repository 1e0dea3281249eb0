"""Training the reference models: ``chdml train segmentation|classifier``.

Both tasks learn from ``imagesTr/labelsTr`` of a dataset folder only (``imagesTs`` and
``labelsTs`` are never opened), can hold out whole patients for validation (the
classifier always does), and write one
``.keras`` file that carries its own settings (see :mod:`chdml.inference`) plus a
learning-curve plot ``<model>_curves.png`` beside it.

Segmentation defaults (chosen on the pediatric CHD training patients and the synthetic
set, never on a test set; numbers in ``bench/RESULTS.md``):

- every short-axis slice of every training volume (ED and ES pooled), intensities
  normalised per volume (1st-99th percentile -> [0, 1]), padded to a square and
  resized to 128x128 (the model grid);
- a 2-D U-Net (:func:`chdml.models.unet`: depth 4, 16 base filters, batch norm),
  soft Dice + cross-entropy loss (:class:`chdml.losses.DiceCrossEntropyLoss`), AdamW
  (weight decay 1e-4) with a 50-step warm-up to 3e-3 and cosine decay, bfloat16 mixed
  precision where the CPU (AVX512-BF16/AMX) or a GPU supports it (weights stay
  float32 and the saved model is float32);
- a fixed budget of 2400 optimizer steps of 8 slices (about 19,000 slices seen),
  whatever the dataset size: a larger dataset gets fewer, longer epochs;
- a ``tf.data`` pipeline (cache, shuffle, augment, crop, batch, prefetch): each slice
  and its mask get the same random rotation (+-45 degrees), zoom (+-25 %) and shift
  (+-8 %), the slice a random gamma/contrast/brightness/noise change
  (:mod:`chdml.augment`), and training sees random 96x96 patches of the 128x128 grid
  (the network is fully convolutional and predicts whole slices). No mirror flips:
  mirrored anatomy puts the RV where the LV should be, which cost up to 0.1 Dice on
  the RV in cross-validation;
- no validation patients (``validation_fraction=0``): every training patient is
  learnt from, the whole budget runs and the last epoch's weights are kept (the
  cosine schedule has brought the learning rate down to 1 % by then). With 21
  patients, holding 12 % of them out cost more than choosing the epoch gained
  (cross-validation in ``bench/RESULTS.md``). With ``validation_fraction > 0``
  (``chdml train segmentation --validation 0.12``) whole patients are held out, the
  3-D Dice of their volumes is computed after each epoch (``val_dice``), the weights
  of the best epoch are kept (checkpoint) and training stops early when it has not
  improved for ``patience`` epochs;
- an ensemble of 3 such U-Nets (``ensemble_members``): member ``k`` is trained with
  seed ``seed + k``, so with its own initial weights, batches (and validation patients),
  and the saved model averages their class probabilities
  (:func:`chdml.models.ensemble_mean`). In cross-validation on the real patients it
  gained 0.01-0.02 Dice over one network and evened out how much one run depends on
  its seed (one network's RV-ES Dice ranged 0.715-0.756 over three seeds);
  ``chdml train segmentation --members 1`` trains one network in a third of the time;
- a time budget of 20 minutes for the whole run on the computer it runs on
  (``time_budget_minutes``, ``--minutes``; :mod:`chdml.time_budget`): a few real
  training steps are timed first, and where the members and steps above would take
  longer, fewer members are trained, then one member with fewer steps, and a message
  says so. The full default takes 11-14 min on a 2-vCPU CPU with AVX512-BF16 (the budget
  changes nothing there) and about 70-77 min on a 2-vCPU AVX2-only one (one U-Net of
  1640-1860 steps is trained there instead); ``--minutes 0`` trains the full default
  anywhere;
- prediction: each slice is also predicted turned by -15 and +15 degrees, and the
  three probability maps (turned back) are averaged (``test_time_rotations``);
- prediction post-processing: per label, the largest 3-D connected component only,
  and nothing where that component is under 1 mL (stray voxels where a structure is
  absent).

Classifier: short-axis vs other views (``view`` column of ``cases.csv``), see
:func:`train_classifier`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from chdml.augment import AugmentSettings, NO_AUGMENTATION
from chdml.data import folder
from chdml.errors import UserError, describe_path
from chdml.inference import ModelInfo, normalise_volume, save_model_file, to_grid, with_neighbours
from chdml.time_budget import SAVE_SECONDS, deadline_callback, plan_training

VALIDATION_FRACTION = 0.12

# Wider rotation and zoom than AugmentSettings' generic +-15 degrees / 0.15: CHD hearts lie
# at unusual angles and sizes in the chest (in transposition the RV can lie below the LV).
# In 5-fold cross-validation on the real patients it raised the RV by 0.02-0.03 Dice and
# left the LV where it was (bench/RESULTS.md, "Karimi 2020").
SEGMENTATION_AUGMENTATION = AugmentSettings(rotation_degrees=45.0, zoom=0.25)


@dataclasses.dataclass
class SegmentationSettings:
    """Everything that defines a segmentation training run (the defaults are the CLI's)."""

    input_size: int = 128
    neighbour_slices: int = 0   # 2.5-D input (see ModelInfo); no gain on real RV, RESULTS.md
    patch_size: int | None = 96
    depth: int = 4
    base_filters: int = 16
    batch_norm: bool = True
    dropout: float = 0.0
    batch_size: int = 8
    steps: int = 2400
    epochs: int | None = None
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    # > 0: validate, keep and save an exponential moving average of the weights
    # (Polyak averaging, keras' ``use_ema``) with this momentum per step; 0 = off.
    ema_momentum: float = 0.0
    dice_weight: float = 1.0
    # Soft Dice per slice, not per batch (chdml.losses): a small apical or basal slice
    # weighs as much as a big one. In 5-fold CV on the real patients it raised RV-ES
    # by 0.017 and left the LV where it was (bench/RESULTS.md, "Karimi 2020").
    dice_per_image: bool = True
    patience: int = 15
    # 0: no validation patients; every training patient is learnt from, every epoch
    # runs and the last epoch's weights are kept (patience then has nothing to watch).
    # Holding out 12 % for a checkpoint and early stopping cost 0.02-0.03 Dice at RV-ES
    # in 5-fold CV on the real patients (bench/RESULTS.md, "Karimi 2020").
    validation_fraction: float = 0.0
    normalisation_low: float = 1.0
    normalisation_high: float = 99.0
    augment: AugmentSettings = SEGMENTATION_AUGMENTATION
    mixed_precision: bool = True
    postprocess: str = "largest_component"
    min_structure_ml: float = 1.0
    ensemble_members: int = 3
    # Prediction: each slice also turned by these angles (degrees), the probabilities
    # turned back and averaged (chdml.inference.predict_slices); () = off. 0 to +0.005 Dice
    # in every cross-validated ensemble it was tried on, never a loss, for three times
    # the prediction time (bench/RESULTS.md, "Karimi 2020").
    test_time_rotations: tuple = (-15.0, 15.0)
    # The whole run (all members) in minutes on the computer it runs on; where the
    # members and steps above would take longer, fewer members (then fewer steps) are
    # trained (chdml.time_budget). None or 0 = no limit. The default fits the full
    # ensemble on a CPU with AVX512-BF16 (11-14 min), not on an AVX2-only one (70-77 min).
    time_budget_minutes: float | None = 20.0


# --- reading the training data ---------------------------------------------------------

@dataclasses.dataclass
class TrainingCase:
    """One training volume: its ``cases.csv`` row, image and label map."""

    record: folder.CaseRecord
    image: np.ndarray   # (rows, columns, slices) float32
    label: np.ndarray   # (rows, columns, slices) uint8 label values


def require_dataset_folder(data) -> Path:
    """``data`` as a Path; :class:`UserError` if the folder does not exist."""
    data = Path(data)
    if not data.is_dir():
        raise UserError(f"the dataset folder {describe_path(data)} does not exist; make one "
                        "with 'chdml data synth' or 'chdml data fetch'.")
    return data


def training_records(data: os.PathLike | str, views=("SAX",)) -> list[folder.CaseRecord]:
    """The ``train`` rows of ``cases.csv`` whose view is in ``views`` (None = all).

    Raises :class:`UserError` when the folder is not a dataset, has no training cases,
    or has label files without their images.
    """
    data = require_dataset_folder(data)
    records = [r for r in folder.read_cases(data) if r.split == "train"]
    images_dir, labels_dir = data / "imagesTr", data / "labelsTr"
    if labels_dir.is_dir() and any(labels_dir.glob("*.nii*")) and not (
            images_dir.is_dir() and any(images_dir.glob("*.nii*"))):
        raise UserError(f"{describe_path(labels_dir)} has label maps but "
                        f"{describe_path(images_dir)} has no images; copy the images "
                        "(<case>_0000.nii.gz) next to them.")
    if views is not None:
        records = [r for r in records if r.view in views]
    if not records:
        what = f"{'/'.join(views)} " if views else ""
        raise UserError(f"{describe_path(data / 'cases.csv')} lists no {what}training cases "
                        "(split 'train'); the dataset is empty: add cases to imagesTr/ and "
                        "labelsTr/.")
    for record in records:
        if not folder.image_path(data, record).is_file():
            raise UserError(f"the image of case {record.case!r} is missing: "
                            f"{describe_path(folder.image_path(data, record))}; add it or "
                            "remove the case from cases.csv.")
    return records


def load_training_cases(data, records, labels: dict[str, int], need_labels: bool = True
                        ) -> list[TrainingCase]:
    """Load image and label volumes of ``records`` from the dataset folder ``data``."""
    from chdml.data.nifti import load_image, load_label

    allowed = set(labels.values())
    cases = []
    for record in records:
        image = load_image(folder.image_path(data, record)).array
        label = None
        if need_labels:
            path = folder.label_path(data, record)
            label = load_label(path).array
            if label.shape != image.shape:
                raise UserError(f"{describe_path(path)} has shape {label.shape} but its image "
                                f"has {image.shape}; image and label map must match.")
            unknown = sorted(set(np.unique(label).tolist()) - allowed)
            if unknown:
                raise UserError(f"{describe_path(path)} contains label values {unknown} that "
                                f"dataset.json does not list ({labels}); fix the mask or "
                                "dataset.json.")
        cases.append(TrainingCase(record, image, label))
    return cases


def choose_validation_patients(records, fraction: float = VALIDATION_FRACTION,
                               seed: int = 0) -> set[str]:
    """Pick whole patients for validation, stratified by diagnosis (or phenotype).

    :func:`chdml.data.split.split_patients` with fractions ``(1 - fraction, fraction,
    0)``: about ``fraction`` of the patients, at least one, and every diagnosis keeps a
    patient in training. Returns the chosen patient ids.
    """
    import warnings

    from chdml.data.split import split_patients

    patients = [r.patient for r in records]
    if len(set(patients)) < 3:
        raise UserError(f"training needs at least 3 patients (whole patients are held out "
                        f"for validation); the dataset has {len(set(patients))}.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small diagnosis groups: fewer validation patients
        split = split_patients(patients, [r.diagnosis or "unknown" for r in records],
                               fractions=(1.0 - fraction, fraction, 0.0), seed=seed)
    validation = set(split.validation)
    if not validation:  # every diagnosis has a single patient: fall back to no strata
        split = split_patients(patients, None, fractions=(1.0 - fraction, fraction, 0.0),
                               seed=seed)
        validation = set(split.validation)
    return validation


def slices_and_masks(cases, label_values: list[int], input_size: int, low: float, high: float,
                     neighbours: int = 0):
    """Stack all slices of ``cases`` on the model grid.

    Returns ``images`` ``(n, s, s, 2 * neighbours + 1)`` float32 in [0, 1] (each slice
    with ``neighbours`` slices of its own volume above and below as channels, see
    :func:`chdml.inference.with_neighbours`), ``masks`` ``(n, s, s)`` uint8 class
    indices (position in ``label_values``) and ``volume_index`` ``(n,)``.
    """
    lookup = np.zeros(256, dtype=np.uint8)
    for index, value in enumerate(label_values):
        lookup[value] = index
    images, masks, index = [], [], []
    for i, case in enumerate(cases):
        grid = to_grid(normalise_volume(case.image, low, high), (input_size, input_size))
        images.append(with_neighbours(grid, neighbours))
        masks.append(lookup[to_grid(case.label, (input_size, input_size), kind="label")])
        index.append(np.full(case.image.shape[2], i))
    return (np.concatenate(images).astype(np.float32), np.concatenate(masks),
            np.concatenate(index))


# --- the tf.data pipeline ----------------------------------------------------------------

def make_dataset(images: np.ndarray, targets: np.ndarray, batch_size: int, seed: int = 0,
                 augment: AugmentSettings | None = None, shuffle: bool = True,
                 patch_size: int | None = None):
    """A ``tf.data`` pipeline: cache -> shuffle -> augment [-> crop] -> batch -> prefetch.

    ``images`` ``(n, h, w)`` or ``(n, h, w, channels)`` float32; ``targets`` ``(n, h, w)`` masks
    (augmented and cropped with the same geometry) or ``(n,)`` class labels (left as they
    are). ``patch_size`` (masks only): train on a random square patch of each augmented
    slice. The random choices for each sample are a fixed function of ``seed`` and its
    position in the stream, so a run is reproducible (intensities to float
    rounding: threaded reductions on a many-core CPU may add in another order).
    """
    import tensorflow as tf

    from chdml.augment import augment_pair, random_crop_pair

    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    is_mask = np.ndim(targets) == 3
    crop = is_mask and patch_size is not None and patch_size < min(images.shape[1:3])
    dataset = tf.data.Dataset.from_tensor_slices((images, targets)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    augmenting = augment is not None and augment != NO_AUGMENTATION
    if augmenting or crop:
        seeds = tf.data.Dataset.random(seed=seed).batch(4)
        dataset = tf.data.Dataset.zip((dataset, seeds))

        def _augment(pair, sample_seeds):
            image, target = pair
            mask = target if is_mask else tf.zeros(tf.shape(image)[:2], tf.uint8)
            if augmenting:
                image, mask = augment_pair(image, mask, sample_seeds[:2], augment)
            if crop:
                image, mask = random_crop_pair(image, mask, patch_size, sample_seeds[2:])
            return image, (mask if is_mask else target)

        dataset = dataset.map(_augment, num_parallel_calls=tf.data.AUTOTUNE,
                              deterministic=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --- loss, metric, callbacks ------------------------------------------------------------

def volume_dice_callback(images, masks, volume_index, n_classes: int, batch_size: int = 32):
    """A Keras callback adding ``val_dice`` to the logs after each epoch.

    ``val_dice`` is the 3-D Dice of each validation volume and foreground class (on
    the model grid, without post-processing), averaged; two empty masks count as 1.
    ``images`` ``(n, h, w, channels)``, ``masks`` ``(n, h, w)`` class indices, ``volume_index``
    ``(n,)`` the volume each slice belongs to. Put it before checkpoint and early
    stopping in the callback list so that they see the value.
    """
    import keras

    volumes = [volume_index == v for v in np.unique(volume_index)]

    class VolumeDice(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            probabilities = self.model.predict(images, batch_size=batch_size, verbose=0)
            predicted = np.argmax(probabilities, axis=-1)
            scores = []
            for selection in volumes:
                for c in range(1, n_classes):
                    truth, guess = masks[selection] == c, predicted[selection] == c
                    denominator = truth.sum() + guess.sum()
                    scores.append(1.0 if denominator == 0
                                  else 2.0 * np.logical_and(truth, guess).sum() / denominator)
            if logs is not None:
                logs["val_dice"] = float(np.mean(scores))

    return VolumeDice()


def _progress_callback(epochs: int, description: str):
    """One tqdm bar over epochs with the latest loss and validation score."""
    import keras
    from tqdm.auto import tqdm

    class _Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(total=epochs, desc=description, unit="epoch", dynamic_ncols=True)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            shown = {k: f"{v:.3f}" for k, v in logs.items()
                     if k in ("loss", "val_loss", "val_dice", "accuracy", "val_accuracy")}
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(1)

        def on_train_end(self, logs=None):
            self.bar.close()

    return _Progress()


@contextlib.contextmanager
def precision(mixed: bool):
    """Train under ``mixed_bfloat16`` when asked and the CPU/GPU supports bfloat16."""
    import keras

    previous = keras.mixed_precision.global_policy().name
    use = mixed and bfloat16_supported()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if use else "float32")
    try:
        yield use
    finally:
        keras.mixed_precision.set_global_policy(previous)


def bfloat16_supported() -> bool:
    """True where bfloat16 arithmetic is fast: a GPU, or a CPU with AVX512-BF16/AMX."""
    try:
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return True
    except Exception:  # pragma: no cover - TensorFlow without device query
        pass
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``)."""
    import keras

    keras.utils.set_random_seed(int(seed))


def _float32_copy(model, build):
    """Rebuild ``model`` in float32 with the same weights (for a portable file)."""
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("float32")
    try:
        copy = build()
    finally:
        keras.mixed_precision.set_global_policy(previous)
    copy.set_weights(model.get_weights())
    return copy


# --- segmentation -------------------------------------------------------------------------

def _unet_of(s: SegmentationSettings, n_classes: int, channels: int, name: str):
    """The (uncompiled) U-Net of settings ``s``: any image size, ``channels`` inputs."""
    from chdml.models import unet

    return unet((None, None, channels), n_classes=n_classes, depth=s.depth,
                base_filters=s.base_filters, batch_norm=s.batch_norm, dropout=s.dropout,
                activation="softmax", name=name)


def _compiled_unet(s: SegmentationSettings, n_classes: int, channels: int, total_steps: int,
                   name: str):
    """The U-Net of settings ``s``, compiled with its optimizer, schedule and loss.

    ``total_steps``: the length of the cosine learning-rate schedule (warm-up included).
    Call inside :func:`precision` so that the layers get the training dtype policy.
    """
    import keras

    from chdml.losses import DiceCrossEntropyLoss

    model = _unet_of(s, n_classes, channels, name)
    warmup_steps = min(s.warmup_steps, total_steps // 2)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=s.learning_rate * 0.1,
        warmup_target=s.learning_rate, warmup_steps=warmup_steps,
        decay_steps=max(1, total_steps - warmup_steps), alpha=0.01)
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=s.weight_decay,
                                       use_ema=s.ema_momentum > 0,
                                       ema_momentum=s.ema_momentum)
    model.compile(optimizer=optimizer,
                  loss=DiceCrossEntropyLoss(dice_weight=s.dice_weight,
                                            per_image=s.dice_per_image))
    return model


def measure_training_speed(images: np.ndarray, masks: np.ndarray, n_classes: int,
                           settings: SegmentationSettings, seed: int = 0,
                           steps: int = 16) -> tuple[float, float]:
    """``(seconds per step, seconds of set-up per member)`` of this training here.

    ``images`` and ``masks`` are the training slices on the model's grid, as
    :func:`slices_and_masks` returns them: (slices, rows, columns, channels) float32 and
    (slices, rows, columns, n_classes) one-hot. Builds the U-Net of ``settings`` as
    :func:`fit_segmentation` does, fits 3 batches of the real input pipeline
    (augmentation and patches included; the set-up time is that fit's minus three
    steps: building the model and tracing its graph), then times ``steps`` more. The
    model is thrown away; the global seeds are left set to ``seed`` (each member reseeds
    itself). About 30 s on a 2-core AVX2 CPU.
    """
    s = settings
    seed_everything(seed)
    with precision(s.mixed_precision):
        t0 = time.time()
        model = _compiled_unet(s, n_classes, images.shape[-1], total_steps=steps + 3,
                               name="timing")
        data = make_dataset(images, masks, s.batch_size, seed=seed, augment=s.augment,
                            patch_size=s.patch_size).repeat()
        model.fit(data.take(3), epochs=1, verbose=0, shuffle=False)
        set_up = time.time() - t0
        t1 = time.time()
        model.fit(data.take(steps), epochs=1, verbose=0, shuffle=False)
        per_step = (time.time() - t1) / steps
    return per_step, max(0.0, set_up - 3 * per_step)


def fit_segmentation(train_cases, val_cases, labels: dict[str, int],
                     settings: SegmentationSettings = SegmentationSettings(), seed: int = 0,
                     verbose: bool = True, name: str = "unet", deadline: float | None = None):
    """Train a U-Net on ``train_cases``, choosing the epoch by ``val_cases``.

    Args:
        train_cases, val_cases: lists of :class:`TrainingCase` (label maps in
            ``labels`` values).
        labels: label name -> value, background first (``{"background": 0, "LV": 1}``).
        name: the Keras model's name (each member of an ensemble needs its own).
        deadline: a ``time.time()`` value; training stops after an epoch when the next
            one would end past it (``training["stopped_at_deadline"]``), keeping the
            weights it has (:func:`chdml.time_budget.deadline_callback`).

    Returns:
        ``(model, info, history)``: the float32 Keras model with the best validation
        weights, its :class:`ModelInfo` and the Keras history dict.
    """
    import keras

    seed_everything(seed)
    label_values = list(labels.values())
    n_classes = len(label_values)
    s = settings
    t0 = time.time()
    grid = (s.input_size, s.normalisation_low, s.normalisation_high, s.neighbour_slices)
    train_x, train_y, _ = slices_and_masks(train_cases, label_values, *grid)
    validating = bool(val_cases)
    if validating:
        val_x, val_y, val_index = slices_and_masks(val_cases, label_values, *grid)
    steps_per_epoch = math.ceil(len(train_x) / s.batch_size)
    epochs = s.epochs or max(1, math.ceil(s.steps / steps_per_epoch))
    total_steps = epochs * steps_per_epoch

    def build():
        return _unet_of(s, n_classes, train_x.shape[-1], name)

    with precision(s.mixed_precision) as mixed, tempfile.TemporaryDirectory() as tmp:
        model = _compiled_unet(s, n_classes, train_x.shape[-1], total_steps, name)
        averaging = s.ema_momentum > 0
        train_data = make_dataset(train_x, train_y, s.batch_size, seed=seed, augment=s.augment,
                                  patch_size=s.patch_size)
        checkpoint = os.path.join(tmp, "best.weights.h5")
        # With averaging, the averaged weights are swapped in at each epoch's end, so
        # that the validation Dice, the checkpoint and early stopping all see them.
        callbacks = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if averaging else []
        if validating:
            val_data = make_dataset(val_x, val_y, 32, shuffle=False)
            callbacks += [
                volume_dice_callback(val_x, val_y, val_index, n_classes),
                keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_dice", mode="max",
                                                save_best_only=True, save_weights_only=True),
                keras.callbacks.EarlyStopping(monitor="val_dice", mode="max",
                                              patience=s.patience),
            ]
        stop = deadline_callback(deadline) if deadline is not None else None
        if stop is not None:
            callbacks.append(stop)
        if verbose:
            callbacks.append(_progress_callback(epochs, f"training {name}"))
        history = model.fit(train_data, validation_data=val_data if validating else None,
                            epochs=epochs, callbacks=callbacks, verbose=0, shuffle=False)
        if validating:
            model.load_weights(checkpoint)
        model = _float32_copy(model, build)
    history = {k: [float(v) for v in values] for k, values in history.history.items()}
    # without validation patients the last epoch's weights are kept
    best_epoch = (int(np.argmax(history["val_dice"])) + 1 if validating
                  else len(history["loss"]))
    info = ModelInfo(
        task="segmentation", labels=dict(labels), input_size=(s.input_size, s.input_size),
        normalisation={"method": "percentile", "low": s.normalisation_low,
                       "high": s.normalisation_high},
        postprocess=s.postprocess, min_structure_ml=s.min_structure_ml,
        neighbour_slices=s.neighbour_slices,
        test_time_flips=[name for name, p in (("left_right", s.augment.flip_left_right),
                                              ("up_down", s.augment.flip_up_down)) if p > 0],
        test_time_rotations=[float(a) for a in s.test_time_rotations],
        training={
            "settings": _jsonable(dataclasses.asdict(s)), "seed": seed,
            "mixed_precision": bool(mixed), "epochs_run": len(history["loss"]),
            "best_epoch": best_epoch,
            "best_val_dice": float(max(history["val_dice"])) if validating else None,
            "train_cases": [c.record.case for c in train_cases],
            "validation_cases": [c.record.case for c in val_cases],
            "train_slices": int(len(train_x)), "steps": int(total_steps),
            "stopped_at_deadline": bool(stop is not None and stop.stopped),
            "seconds": round(time.time() - t0, 1),
        })
    return model, info, history


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def train_segmentation(data, out, epochs: int | None = None, seed: int = 0,
                       settings: SegmentationSettings | None = None, verbose: bool = True):
    """``chdml train segmentation``: train on ``data``'s training cases, write ``out``.

    Returns ``(model, info, history)``: the saved model, its :class:`ModelInfo` and the
    Keras history dict, or, for an ensemble (``settings.ensemble_members > 1``), the
    list of the members' history dicts; the info's ``training["members"]`` then holds
    each member's own record (seed, validation cases, best epoch...).
    """
    started = time.time()
    settings = dataclasses.replace(settings or SegmentationSettings())
    if epochs is not None:
        if epochs < 1:
            raise UserError(f"--epochs must be at least 1, got {epochs}.")
        settings.epochs = epochs
    _require_whole_number("ensemble_members", settings.ensemble_members, minimum=1)
    _require_whole_number("neighbour_slices", settings.neighbour_slices, minimum=0)
    if not 0 <= settings.validation_fraction < 1:
        raise UserError(f"validation_fraction must be at least 0 (0 = no validation "
                        f"patients) and below 1, got {settings.validation_fraction}.")
    minutes = settings.time_budget_minutes
    if minutes is not None and (isinstance(minutes, bool)
                                or not isinstance(minutes, (int, float)) or not minutes >= 0):
        raise UserError(f"time_budget_minutes must be a number of minutes >= 0 (0 = no "
                        f"limit), got {minutes!r}.")
    out = _check_output(out)
    data = require_dataset_folder(data)
    labels = folder.read_labels(data)
    if len([v for v in labels.values() if v != 0]) == 0:
        raise UserError(f"{describe_path(Path(data) / 'dataset.json')} lists no foreground "
                        "label; a segmentation model needs at least one (e.g. \"LV\": 1).")
    labels = dict(sorted(labels.items(), key=lambda item: item[1]))
    records = training_records(data, views=("SAX",))
    for record in records:
        if not folder.label_path(data, record).is_file():
            raise UserError(f"the label map of case {record.case!r} is missing: "
                            f"{describe_path(folder.label_path(data, record))}; add it or "
                            "remove the case from cases.csv.")
    cases = load_training_cases(data, records, labels)
    settings, plan = fit_time_budget(cases, labels, settings, seed, started, verbose)
    deadline = started + 60 * minutes - SAVE_SECONDS if minutes else None
    n_members = settings.ensemble_members
    validating = settings.validation_fraction > 0
    members, infos, histories = [], [], []
    for k in range(n_members):
        if members and deadline is not None and time.time() > deadline:
            if verbose:
                print(f"the {minutes:g}-minute time budget is spent: {n_members - k} of the "
                      f"{n_members} U-Nets left out.")
            break
        # member k: its own initial weights, batches and validation patients if any (seed + k)
        val_patients = (choose_validation_patients(records, settings.validation_fraction,
                                                   seed + k) if validating else set())
        train_cases = [c for c in cases if c.record.patient not in val_patients]
        val_cases = [c for c in cases if c.record.patient in val_patients]
        name = "unet" if n_members == 1 else f"unet_{k + 1}"
        if verbose:
            print(f"{name}: training on {len(train_cases)} volumes of "
                  f"{len({c.record.patient for c in train_cases})} patients; "
                  + (f"validating on {len(val_cases)} volumes of {len(val_patients)} "
                     f"patients ({', '.join(sorted(val_patients))})" if validating
                     else "no validation patients, the last epoch is kept"))
        model, info, history = fit_segmentation(train_cases, val_cases, labels, settings,
                                                seed + k, verbose=verbose, name=name,
                                                deadline=deadline)
        members.append(model)
        infos.append(info)
        histories.append(history)
    model, info = combine_members(members, infos)
    info.training["data"] = str(Path(data).resolve())
    info.training["time_budget"] = plan.as_record() if plan else None
    _write_outputs(model, info, histories, out, monitor="val_dice" if validating else None)
    if verbose:
        if validating:
            for member in info.training.get("members", [info.training]):
                print(f"best validation Dice {member['best_val_dice']:.3f} at epoch "
                      f"{member['best_epoch']}")
        print(f"wrote {out} and {curves_path(out).name} ({info.training['seconds']:.0f} s)")
    return model, info, histories[0] if len(histories) == 1 else histories


def fit_time_budget(cases, labels: dict[str, int], settings: SegmentationSettings,
                    seed: int, started: float, verbose: bool = True):
    """``(settings, plan)``: ``settings`` with fewer members or steps where the
    requested ones would overrun ``settings.time_budget_minutes`` on this computer
    (counted from ``started``, a ``time.time()`` value), and the
    :class:`chdml.time_budget.TrainingPlan` (None when there is no limit: nothing is
    measured and ``settings`` is returned as it is). Where the request fits,
    ``settings`` is returned unchanged (an ``epochs`` setting included)."""
    minutes = settings.time_budget_minutes
    if not minutes:
        return settings, None
    s = settings
    grid = (s.input_size, s.normalisation_low, s.normalisation_high, s.neighbour_slices)
    images, masks, _ = slices_and_masks(cases, list(labels.values()), *grid)
    per_step, set_up = measure_training_speed(images, masks, len(labels), settings, seed)
    steps_per_epoch = max(1, math.ceil(len(images) / settings.batch_size))
    requested = (settings.epochs * steps_per_epoch if settings.epochs else settings.steps)
    plan = plan_training(60 * minutes - (time.time() - started), per_step, set_up,
                         settings.ensemble_members, requested, min_steps=steps_per_epoch,
                         budget_seconds=60 * minutes)
    if verbose:
        print(plan.describe())
    if not plan.reduced:
        return settings, plan
    steps_changed = plan.steps != requested
    return dataclasses.replace(settings, ensemble_members=plan.members,
                               steps=plan.steps if steps_changed else settings.steps,
                               epochs=None if steps_changed else settings.epochs), plan


def _require_whole_number(setting: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UserError(f"{setting} must be a whole number >= {minimum}, got {value!r}.")


def combine_members(members, infos):
    """One model and :class:`ModelInfo` from the trained members of an ensemble.

    One member: returned unchanged. Several: :func:`chdml.models.ensemble_mean` of
    them; the info's ``training`` keeps the shared settings and seed, the total time,
    and, under ``"members"``, each member's own record (seed, epochs, best epoch,
    validation Dice, training and validation cases, seconds).
    """
    from chdml.models import ensemble_mean

    if len(members) == 1:
        return members[0], infos[0]
    shared = ("settings", "mixed_precision")
    info = dataclasses.replace(infos[0])
    info.training = {key: infos[0].training[key] for key in shared}
    info.training["seed"] = infos[0].training["seed"]
    info.training["seconds"] = round(sum(i.training["seconds"] for i in infos), 1)
    info.training["members"] = [{k: v for k, v in i.training.items() if k not in shared}
                                for i in infos]
    return ensemble_mean(members), info


def curves_path(out) -> Path:
    """Where the learning-curve plot of model file ``out`` goes: ``<stem>_curves.png``."""
    out = Path(out)
    return out.with_name(out.stem + "_curves.png")


def _check_output(out) -> Path:
    out = Path(out)
    if out.suffix != ".keras":
        raise UserError(f"cannot save the model as {describe_path(out)}: the file name must "
                        "end in '.keras' (e.g. 'model.keras').")
    if out.is_dir():
        raise UserError(f"{describe_path(out)} is a folder; give a file name ending in "
                        "'.keras'.")
    return out


def _write_outputs(model, info, history, out: Path, monitor: str | None) -> None:
    """Write the model file and its learning curves, each atomically.

    ``history``: one Keras history dict, or a list of them (the members of an ensemble,
    one row of curves each). ``monitor``: the validation quantity whose best epoch was
    kept, marked on the curves; None when the last epoch's weights were kept."""
    from chdml.plots import plot_ensemble_curves, plot_learning_curves

    save_model_file(model, info, out)
    metrics = ["loss"] + ([monitor[len("val_"):]] if monitor else [])
    histories = history if isinstance(history, list) else [history]
    if len(histories) == 1:
        plot_learning_curves(histories[0], metrics, monitor=monitor,
                             mark_best=monitor is not None, path=curves_path(out),
                             title=f"training of {out.name}")
    else:
        plot_ensemble_curves(histories, metrics, monitor=monitor,
                             mark_best=monitor is not None, path=curves_path(out),
                             title=f"training of {out.name} ({len(histories)} members)")


# --- command line -------------------------------------------------------------------------

def main(task: str, data, out, epochs: int | None = None, seed: int = 0,
         members: int | None = None, validation: float | None = None,
         minutes: float | None = None) -> int:
    """Entry point of ``chdml train``."""
    for flag, value in (("--members", members), ("--validation", validation),
                        ("--minutes", minutes)):
        if value is not None and task != "segmentation":
            raise UserError(f"{flag} applies to 'chdml train segmentation' only; leave it "
                            "out for the classifier.")
    if task == "segmentation":
        settings = SegmentationSettings()
        if members is not None:
            if members < 1:
                raise UserError(f"--members must be at least 1, got {members}.")
            settings.ensemble_members = members
        if validation is not None:
            if not 0 <= validation < 1:
                raise UserError(f"--validation must be a fraction from 0 to below 1 (e.g. "
                                f"0.12), got {validation}.")
            settings.validation_fraction = validation
        if minutes is not None:
            if not minutes >= 0:
                raise UserError(f"--minutes must be a number of minutes, or 0 for no limit; "
                                f"got {minutes}.")
            settings.time_budget_minutes = minutes
        train_segmentation(data, out, epochs=epochs, seed=seed, settings=settings)
    elif task == "classifier":
        from chdml.train_classifier import train_classifier

        train_classifier(data, out, epochs=epochs, seed=seed)
    else:
        raise UserError(f"unknown task {task!r}; use 'segmentation' or 'classifier'.")
    return 0
