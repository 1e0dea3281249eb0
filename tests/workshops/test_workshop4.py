"""Workshop 4 (segmentation): do the checks catch the typical mistakes they name?

Each test feeds a correct answer, legitimate alternatives and the mistakes named in the
check module's docstring through the real check machinery (seeded public and hidden
cases, producer, reference, comparator; see ``judge.py``) and asserts which cases pass.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.workshops.judge import failed, judge, workshop

keras = pytest.importorskip("keras")
ops = keras.ops


@pytest.fixture(scope="module")
def checks():
    return workshop("workshop4")


def test_are_the_exercises_in_notebook_order_with_public_and_hidden_cases(checks):
    assert list(checks.exercises) == ["dice", "dice_per_structure", "soft_dice_loss",
                                      "build_unet", "train_unet", "volume_ml",
                                      "ejection_fraction"]
    for exercise in checks.exercises.values():
        flags = [case.public for case in exercise.cases(np.random.default_rng(0))]
        assert any(flags) and not all(flags), exercise.name


# --------------------------------------------------------------------------- Dice
def dice(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    total = y_true.sum() + y_pred.sum()
    if total == 0:
        return 1.0
    return 2.0 * np.logical_and(y_true, y_pred).sum() / total


def dice_with_loops(y_true, y_pred):
    both = true_count = predicted_count = 0
    for t, p in zip(np.ravel(y_true), np.ravel(y_pred)):
        both += int(t and p)
        true_count += int(t != 0)
        predicted_count += int(p != 0)
    return 1.0 if true_count + predicted_count == 0 else 2 * both / (true_count + predicted_count)


def dice_without_convention(y_true, y_pred):
    with np.errstate(invalid="ignore", divide="ignore"):
        return 2 * np.sum(y_true * y_pred) / (np.sum(y_true) + np.sum(y_pred))


def dice_zero_when_empty(y_true, y_pred):
    total = np.sum(y_true) + np.sum(y_pred)
    return 0.0 if total == 0 else 2 * np.sum(y_true * y_pred) / total


def dice_integer_division(y_true, y_pred):
    total = int(np.sum(y_true) + np.sum(y_pred))
    return 1.0 if total == 0 else 2 * int(np.sum(y_true * y_pred)) // total


def dice_adding_masks(y_true, y_pred):
    total = np.sum(y_true + y_pred)  # a logical OR on True/False masks
    return 1.0 if total == 0 else 2 * np.sum(y_true * y_pred) / total


def dice_with_dot(y_true, y_pred):
    total = np.sum(y_true) + np.sum(y_pred)
    return 1.0 if total == 0 else 2 * np.dot(np.ravel(y_true), np.ravel(y_pred)) / total


def iou_not_dice(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    union = np.sum(y_true | y_pred)
    return 1.0 if union == 0 else np.sum(y_true & y_pred) / union


def test_does_the_dice_check_accept_correct_answers(checks):
    for answer in (dice, dice_with_loops):
        assert not failed(judge(checks, "dice", {"dice": answer})), answer.__name__


@pytest.mark.parametrize("mistake, caught_by", [
    (dice_without_convention, {"two empty masks (nothing to find, nothing found)",
                               "an empty 3-D stack (both masks empty)"}),
    (dice_zero_when_empty, {"two empty masks (nothing to find, nothing found)",
                            "an empty 3-D stack (both masks empty)"}),
    (dice_integer_division, {"two overlapping 8x8 masks of 0/1 integers", "True/False masks"}),
    (dice_adding_masks, {"True/False masks"}),
    (dice_with_dot, {"uint8 masks with more than 255 overlapping pixels", "True/False masks"}),
    (iou_not_dice, {"two overlapping 8x8 masks of 0/1 integers"}),
])
def test_does_the_dice_check_catch_the_mistake(checks, mistake, caught_by):
    assert caught_by <= failed(judge(checks, "dice", {"dice": mistake}))


# --------------------------------------------------------------- Dice per structure
def dice_per_structure(true_labels, predicted_labels):
    return {name: dice(true_labels == label, predicted_labels == label)
            for name, label in {"LV": 1, "MYO": 2, "RV": 3}.items()}


def test_does_the_dice_per_structure_check_accept_a_correct_answer(checks):
    namespace = {"dice": dice, "dice_per_structure": dice_per_structure}
    assert not failed(judge(checks, "dice_per_structure", namespace))


@pytest.mark.parametrize("mistake, caught_by", [
    (lambda t, p: {name: dice(t, p) for name in ("LV", "MYO", "RV")},
     {"one 16x16 short-axis slice with LV, myocardium and RV"}),
    (lambda t, p: {name: dice(t > 0, p > 0) for name in ("LV", "MYO", "RV")},
     {"one 16x16 short-axis slice with LV, myocardium and RV"}),
    (lambda t, p: {name: dice(t == 1, p == 1) for name in ("LV", "MYO", "RV")},
     {"one 16x16 short-axis slice with LV, myocardium and RV"}),
    (lambda t, p: {name: dice(t == k, p == k) for k, name in enumerate(("LV", "MYO", "RV"))},
     {"one 16x16 short-axis slice with LV, myocardium and RV"}),
    (lambda t, p: {name: dice_without_convention(t == k, p == k)
                   for name, k in (("LV", 1), ("MYO", 2), ("RV", 3))},
     {"a single ventricle: no RV in truth or prediction"}),
    (lambda t, p: {name: dice(t[0] == k, p[0] == k)
                   for name, k in (("LV", 1), ("MYO", 2), ("RV", 3))},
     {"a batch of 3 slices (N, H, W), all pixels pooled"}),
], ids=["label maps as they are", "label > 0", "label 1 everywhere", "labels shifted by one",
        "no empty-mask convention", "first slice only"])
def test_does_the_dice_per_structure_check_catch_the_mistake(checks, mistake, caught_by):
    assert caught_by <= failed(judge(checks, "dice_per_structure",
                                     {"dice_per_structure": mistake}))


# ------------------------------------------------------------------- soft Dice loss
def _per_structure_soft_dice(y_true, y_pred, axes=(0, 1, 2), smooth=1.0, squared=False):
    overlap = ops.sum(y_true * y_pred, axis=axes)
    if squared:
        total = ops.sum(y_true ** 2, axis=axes) + ops.sum(y_pred ** 2, axis=axes)
    else:
        total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return (2.0 * overlap + smooth) / (total + smooth)


def soft_dice_loss(y_true, y_pred):
    return 1.0 - ops.mean(_per_structure_soft_dice(y_true, y_pred)[1:])


def soft_dice_loss_tensorflow_loop(y_true, y_pred):
    import tensorflow as tf

    scores = []
    for channel in range(1, y_pred.shape[-1]):
        truth, prediction = y_true[..., channel], y_pred[..., channel]
        scores.append((2.0 * tf.reduce_sum(truth * prediction) + 1.0)
                      / (tf.reduce_sum(truth) + tf.reduce_sum(prediction) + 1.0))
    return 1.0 - tf.add_n(scores) / len(scores)


def loss_is_dice(y_true, y_pred):
    return ops.mean(_per_structure_soft_dice(y_true, y_pred)[1:])


def loss_is_minus_dice(y_true, y_pred):
    return -ops.mean(_per_structure_soft_dice(y_true, y_pred)[1:])


def loss_thresholded(y_true, y_pred):
    return soft_dice_loss(y_true, ops.cast(y_pred > 0.5, "float32"))


def loss_argmax(y_true, y_pred):
    return soft_dice_loss(y_true, ops.one_hot(ops.argmax(y_pred, axis=-1), 4))


def loss_in_numpy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    overlap = np.sum(y_true * y_pred, axis=(0, 1, 2))
    total = np.sum(y_true, axis=(0, 1, 2)) + np.sum(y_pred, axis=(0, 1, 2))
    return 1.0 - np.mean(((2 * overlap + 1) / (total + 1))[1:])


def loss_without_smoothing(y_true, y_pred):
    return 1.0 - ops.mean(_per_structure_soft_dice(y_true, y_pred, smooth=0.0)[1:])


def loss_with_background(y_true, y_pred):
    return 1.0 - ops.mean(_per_structure_soft_dice(y_true, y_pred))


def loss_per_image(y_true, y_pred):
    return 1.0 - ops.mean(_per_structure_soft_dice(y_true, y_pred, axes=(1, 2))[:, 1:])


def loss_squared_denominator(y_true, y_pred):
    return 1.0 - ops.mean(_per_structure_soft_dice(y_true, y_pred, squared=True)[1:])


def loss_detached(y_true, y_pred):
    import tensorflow as tf

    return tf.stop_gradient(soft_dice_loss(y_true, y_pred))


def test_does_the_soft_dice_loss_check_accept_correct_answers(checks):
    for answer in (soft_dice_loss, soft_dice_loss_tensorflow_loop):
        verdicts = judge(checks, "soft_dice_loss", {"soft_dice_loss": answer})
        assert not failed(verdicts), answer.__name__


EVERY_LOSS_CASE = {
    "a batch of 2 random 6x6 targets and softmax predictions (4 classes)",
    "predictions leaning towards the truth, two quite different images",
    "confident (nearly one-hot) predictions: is there a gradient?",
}


@pytest.mark.parametrize("mistake, caught_by", [
    (loss_is_dice, EVERY_LOSS_CASE),
    (loss_is_minus_dice, EVERY_LOSS_CASE),
    (loss_thresholded, EVERY_LOSS_CASE),
    (loss_argmax, EVERY_LOSS_CASE),
    (loss_in_numpy, EVERY_LOSS_CASE),
    (loss_detached, EVERY_LOSS_CASE),
    (loss_without_smoothing, {"a perfect prediction of a batch without RV",
                              "an all-background target and prediction"}),
    (loss_with_background, {"a batch of 2 random 6x6 targets and softmax predictions (4 classes)"}),
    (loss_per_image, {"predictions leaning towards the truth, two quite different images"}),
    (loss_squared_denominator, {"a batch of 2 random 6x6 targets and softmax predictions "
                                "(4 classes)"}),
], ids=lambda value: value.__name__ if callable(value) else "")
def test_does_the_soft_dice_loss_check_catch_the_mistake(checks, mistake, caught_by):
    verdicts = judge(checks, "soft_dice_loss", {"soft_dice_loss": mistake})
    assert caught_by <= failed(verdicts)


# --------------------------------------------------------------------------- U-Net
def _two_convolutions(x, filters, padding="same"):
    x = keras.layers.Conv2D(filters, 3, padding=padding, activation="relu")(x)
    return keras.layers.Conv2D(filters, 3, padding=padding, activation="relu")(x)


def _unet(input_shape, n_classes, depth, base_filters, *, join="concatenate", up="transpose",
          output="softmax", double=True, padding="same"):
    inputs = keras.Input(shape=tuple(input_shape))
    x, skips = inputs, []
    for level in range(depth):
        x = _two_convolutions(x, base_filters * (2 ** level if double else 1), padding)
        skips.append(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = _two_convolutions(x, base_filters * (2 ** depth if double else 1), padding)
    for level in reversed(range(depth)):
        filters = base_filters * (2 ** level if double else 1)
        if up == "transpose":
            x = keras.layers.Conv2DTranspose(filters, 2, strides=2)(x)
        else:
            x = keras.layers.Conv2D(filters, 3, padding="same")(keras.layers.UpSampling2D(2)(x))
        skip = skips[level]
        if padding == "valid":
            skip = keras.layers.CenterCrop(x.shape[1], x.shape[2])(skip)
        if join == "concatenate":
            x = keras.layers.Concatenate()([x, skip])
        elif join == "skip first, ops":
            x = ops.concatenate([skip, x], axis=-1)
        elif join == "add":
            x = keras.layers.Add()([x, skip])
        x = _two_convolutions(x, filters, padding)
    outputs = keras.layers.Conv2D(n_classes, 1, activation=output)(x)
    return keras.Model(inputs, outputs)


def build_unet(input_shape, n_classes, depth, base_filters):
    return _unet(input_shape, n_classes, depth, base_filters)


def test_does_the_unet_check_accept_correct_answers(checks):
    for builder in (build_unet,
                    lambda *args: _unet(*args, join="skip first, ops")):
        assert not failed(judge(checks, "build_unet", {"build_unet": builder}))


PUBLIC_UNET = "32x32 one-channel slices, 4 classes, depth 2, 4 base filters"
WORKSHOP_UNET = "the workshop U-Net: 64x64 slices, depth 3, 8 base filters"
DEEP_UNET = "depth 4 on non-square images"
TWO_CHANNEL_UNET = "two input channels, 3 classes, 6 base filters"


@pytest.mark.parametrize("mistake, caught_by", [
    (lambda s, n, d, f: _unet(s, n, d, f, join="none"), "all"),
    (lambda s, n, d, f: _unet(s, n, d, f, join="add"), "all"),
    (lambda s, n, d, f: _unet(s, n, 3, f), {PUBLIC_UNET, DEEP_UNET}),
    (lambda s, n, d, f: _unet(s, n, d, 8), {PUBLIC_UNET, DEEP_UNET, TWO_CHANNEL_UNET}),
    (lambda s, n, d, f: _unet((64, 64, 1), n, d, f), {PUBLIC_UNET, DEEP_UNET, TWO_CHANNEL_UNET}),
    (lambda s, n, d, f: _unet(s, 4, d, f), {TWO_CHANNEL_UNET}),
    (lambda s, n, d, f: _unet(s, n, d, f, double=False), "all"),
    (lambda s, n, d, f: _unet(s, n, d, f, up="upsampling"), "all"),
    (lambda s, n, d, f: _unet(s, n, d, f, output=None), "all"),
    (lambda s, n, d, f: _unet(s, n, d, f, output="sigmoid"), "all"),
    (lambda s, n, d, f: _unet(s, n, d, f, padding="valid"), "all"),
], ids=["no skip connections", "added skips", "depth fixed at 3", "8 filters fixed",
        "input shape fixed", "4 classes fixed", "filters not doubled", "UpSampling2D",
        "no softmax", "sigmoid", "valid padding"])
def test_does_the_unet_check_catch_the_mistake(checks, mistake, caught_by):
    verdicts = judge(checks, "build_unet", {"build_unet": mistake})
    assert set(verdicts) == {PUBLIC_UNET, WORKSHOP_UNET, DEEP_UNET, TWO_CHANNEL_UNET}
    if caught_by == "all":
        caught_by = set(verdicts)
    assert caught_by <= failed(verdicts)


# ---------------------------------------------------------------- the trained U-Net
def _truth_of(images):
    exercise = workshop("workshop4").exercises["train_unet"]
    return exercise.reference({"images": images})


class _Oracle:
    """A stand-in for a trained model: the true masks, optionally damaged."""

    def __init__(self, checks, damage=None):
        self.reference = checks.exercises["train_unet"].reference
        self.damage = damage

    def predict(self, images, verbose=0):
        labels = np.asarray(self.reference({"images": images})).copy()
        if self.damage:
            labels = self.damage(labels)
        return np.eye(4, dtype=np.float32)[labels]


def test_does_a_model_that_segments_well_pass_every_structure(checks):
    assert not failed(judge(checks, "train_unet", {"trained_unet": _Oracle(checks)}))


@pytest.mark.parametrize("damage, caught_by", [
    (lambda labels: np.zeros_like(labels), {"LV", "MYO", "RV"}),
    (lambda labels: np.where(labels == 2, 0, labels), {"MYO"}),
    # RV labelled LV: its RV Dice is 0; its LV Dice (0.66-0.77 on 10-patient sets, the
    # RV pooled into the LV) is as high as an honest model's, so only the RV case fails
    (lambda labels: np.where(labels == 3, 1, labels), {"RV"}),
], ids=["only background", "myocardium missed", "RV called LV"])
def test_does_the_training_check_catch_a_model_that_misses_structures(checks, damage, caught_by):
    verdicts = judge(checks, "train_unet", {"trained_unet": _Oracle(checks, damage)})
    hidden_failed = {description.split()[0] for description in failed(verdicts)
                     if "hidden" in description}
    assert hidden_failed == caught_by
    assert any("new synthetic patients" in description for description in failed(verdicts))


def test_are_the_hidden_test_patients_new(checks):
    exercise = checks.exercises["train_unet"]
    from chdml.grading.spec import draw_cases

    drawn = draw_cases("workshop4", exercise, salt="test")
    public_images = drawn[0].case.inputs["images"]
    hidden_images = drawn[1].case.inputs["images"]
    from chdml.data.synth import short_axis_slices

    training = short_axis_slices(2, size=64, seed=0).images
    assert not np.array_equal(public_images[: len(training)], training[: len(public_images)])
    assert hidden_images.shape[0] > public_images.shape[0]
    salted = draw_cases("workshop4", exercise, salt="another salt")[1].case.inputs["images"]
    assert not np.array_equal(hidden_images[:5], salted[:5])


# ------------------------------------------------------------------ clinical numbers
def volume_ml(mask, spacing, label):
    return np.count_nonzero(np.asarray(mask) == label) * float(np.prod(spacing)) / 1000.0


def test_does_the_volume_check_accept_a_correct_answer(checks):
    assert not failed(judge(checks, "volume_ml", {"volume_ml": volume_ml}))


@pytest.mark.parametrize("mistake, caught_by", [
    (lambda m, s, k: np.sum(m == k) * s[0] * s[1] / 1000, "all but absent"),
    (lambda m, s, k: np.sum(m == k) * np.prod(s), "all but absent"),
    (lambda m, s, k: np.count_nonzero(m) * np.prod(s) / 1000, "all"),
    (lambda m, s, k: np.sum(m) * np.prod(s) / 1000, "all"),
    (lambda m, s, k: np.sum(m == k) * s[0] ** 2 * s[2] / 1000,
     {"a stack with rectangular pixels (row and column spacing differ)"}),
], ids=["no slice thickness", "mm3 not mL", "every label counted", "label values summed",
        "row spacing squared"])
def test_does_the_volume_check_catch_the_mistake(checks, mistake, caught_by):
    verdicts = judge(checks, "volume_ml", {"volume_ml": mistake})
    absent = "the RV of a single ventricle (absent: 0 mL)"
    if caught_by == "all":
        caught_by = set(verdicts)
    elif caught_by == "all but absent":
        caught_by = set(verdicts) - {absent}
    assert caught_by <= failed(verdicts)


def ejection_fraction(edv, esv):
    return (edv - esv) / edv * 100


def test_does_the_ejection_fraction_check_accept_correct_answers(checks):
    for answer in (ejection_fraction, lambda edv, esv: 100 * (1 - esv / edv)):
        assert not failed(judge(checks, "ejection_fraction", {"ejection_fraction": answer}))


@pytest.mark.parametrize("mistake, caught_by", [
    (lambda edv, esv: (edv - esv) / edv, "all"),
    (lambda edv, esv: (esv - edv) / edv * 100, "all"),
    (lambda edv, esv: (edv - esv) / esv * 100, "all"),
    (lambda edv, esv: (edv - esv) // edv * 100, {"whole-number volumes (int)"}),
    (lambda edv, esv: edv - esv, "all"),
], ids=["fraction", "swapped phases", "divided by ESV", "integer division", "stroke volume"])
def test_does_the_ejection_fraction_check_catch_the_mistake(checks, mistake, caught_by):
    verdicts = judge(checks, "ejection_fraction", {"ejection_fraction": mistake})
    expected = set(verdicts) if caught_by == "all" else caught_by
    assert expected <= failed(verdicts)


# ------------------------------------------------------------------------ end to end
@pytest.mark.slow
def test_does_the_source_notebook_get_full_marks_and_the_release_zero(tmp_path):
    """The build's proof with real sandboxed kernels: the source notebook (training
    included, about 2-3 minutes) passes every public and hidden case; the untouched
    release notebook scores zero on every exercise."""
    from chdml.grading.build import find_leaks, prove, read_notebook
    from chdml.grading.engine import Engine, Settings
    from chdml.grading.publish import write_selfcheck

    from tests.workshops.judge import AUTOGRADER

    root = AUTOGRADER.parent
    checks = workshop("workshop4")
    source_path = root / "source" / "workshop4" / "workshop4.ipynb"
    release_path = root / "release" / "workshop4" / "workshop4.ipynb"
    source = read_notebook(source_path)
    write_selfcheck(checks, tmp_path / "selfcheck" / "workshop4")
    settings = Settings(cell_timeout=600, total_timeout=1200)
    with Engine(hidden=[root / "source", root / "autograder"], settings=settings,
                strict_selfcheck=True, selfcheck_dir=tmp_path / "selfcheck") as engine:
        problems, feedback = prove(checks, source_path, source, release_path, engine, [])
    problems += find_leaks(source, checks, release_path.parent,
                           tmp_path / "selfcheck" / "workshop4", feedback)
    assert problems == []
