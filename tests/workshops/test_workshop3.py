"""Workshop 3's checks catch the mistakes their docstrings name, and accept the
legitimate alternatives.

Each test feeds an implementation (right or wrong) through the same machinery the grader
uses: the exercise's producer on every public and hidden case (drawn with a test salt),
then its comparison against the reference. A mistake counts as caught when the cases
named for it fail; an alternative counts as accepted when every case passes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chdml.grading.spec import draw_cases, load_workshop
from chdml.teaching import augmentation as teaching_augmentation
from chdml.teaching import curves, pitfalls

ROOT = Path(__file__).resolve().parents[2]
SALTS = ("tests-workshop3", "tests-workshop3-second-salt")


@pytest.fixture(scope="module")
def workshop():
    return load_workshop(ROOT / "autograder" / "workshop3")


@pytest.fixture(scope="module")
def drawn(workshop):
    """Every case of every exercise, public and hidden, for each test salt (drawn once)."""
    return {name: [case for salt in SALTS
                   for case in draw_cases("workshop3", exercise, hidden=True, salt=salt)]
            for name, exercise in workshop.exercises.items()}


def judge(workshop, drawn, exercise_name: str, namespace: dict) -> dict[str, bool]:
    """``{case description: passed for every salt}``."""
    exercise = workshop.exercises[exercise_name]
    results: dict[str, bool] = {}
    for case in drawn[exercise_name]:
        got = exercise.producer(namespace, case.case.inputs)
        passed = exercise.compare(got, case.expected, case.case.inputs).passed
        results[case.case.description] = results.get(case.case.description, True) and passed
    return results


def failing(results: dict[str, bool]) -> set[str]:
    return {description for description, passed in results.items() if not passed}


def assert_all_pass(workshop, drawn, exercise_name: str, namespace: dict) -> None:
    failed = failing(judge(workshop, drawn, exercise_name, namespace))
    assert not failed, failed


def assert_caught(workshop, drawn, exercise_name: str, namespace: dict,
                  *case_words: str) -> None:
    """The mistake fails (for every salt) each case whose description contains the words."""
    results = judge(workshop, drawn, exercise_name, namespace)
    for words in case_words:
        matching = [d for d in results if words in d]
        assert matching, (words, list(results))
        assert not any(results[d] for d in matching), (words, results)


def assert_fails_somewhere(workshop, drawn, exercise_name: str, namespace: dict) -> None:
    assert failing(judge(workshop, drawn, exercise_name, namespace))


def test_does_the_workshop_load_with_every_exercise_in_notebook_order(workshop):
    assert list(workshop.exercises) == [
        "learning_curves", "early_stopping", "regularisation", "augmentation",
        "better_model", "leakage", "imbalance", "scanner_shift"]


def test_are_the_public_and_hidden_cases_the_same_kind_and_the_hidden_inputs_salted(workshop):
    exercise = workshop.exercises["leakage"]
    first = draw_cases("workshop3", exercise, salt="one")
    second = draw_cases("workshop3", exercise, salt="two")
    assert [c.public for c in first] == [c.public for c in second]
    hidden = [i for i, c in enumerate(first) if not c.public]
    assert any(first[i].case.inputs != second[i].case.inputs for i in hidden)


# ------------------------------------------------------------------ learning curves
def _curves(best_epoch, overfits):
    return {"best_epoch": best_epoch, "overfits": overfits}


def test_learning_curves_reference_and_numpy_alternatives_pass(workshop, drawn):
    assert_all_pass(workshop, drawn, "learning_curves",
                    _curves(curves.best_epoch, curves.overfits))

    def best_epoch(history):                       # a loop, NumPy integers returned
        losses = history["val_loss"]
        best = 0
        for epoch in range(len(losses)):
            if losses[epoch] < losses[best]:
                best = epoch
        return np.int64(best + 1)

    def overfits(history):
        best = int(np.argmin(history["val_loss"]))
        return np.bool_(history["val_loss"][-1] > 1.1 * history["val_loss"][best]
                        and history["loss"][-1] < history["loss"][best])

    assert_all_pass(workshop, drawn, "learning_curves", _curves(best_epoch, overfits))


def test_learning_curves_zero_based_epoch_is_caught(workshop, drawn):
    assert_caught(workshop, drawn, "learning_curves",
                  _curves(lambda h: int(np.argmin(h["val_loss"])), curves.overfits),
                  "overfits after", "still learning", "very first epoch")


def test_learning_curves_training_loss_instead_of_validation_is_caught(workshop, drawn):
    assert_caught(workshop, drawn, "learning_curves",
                  _curves(lambda h: curves.best_epoch(h, monitor="loss"), curves.overfits),
                  "overfits after", "very first epoch", "tie", "val_accuracy first")


def test_learning_curves_argmax_on_a_loss_is_caught(workshop, drawn):
    assert_caught(workshop, drawn, "learning_curves",
                  _curves(lambda h: curves.best_epoch(h, mode="max"), curves.overfits),
                  "overfits after", "very first epoch", "tie")


def test_learning_curves_last_of_tied_epochs_is_caught(workshop, drawn):
    def last_on_ties(history):
        losses = np.asarray(history["val_loss"])
        return int(np.flatnonzero(losses == losses.min())[-1]) + 1

    assert_caught(workshop, drawn, "learning_curves", _curves(last_on_ties, curves.overfits),
                  "tie")


def test_learning_curves_first_curve_of_the_history_is_caught(workshop, drawn):
    def first_validation_curve(history):
        name = next(key for key in history if key.startswith("val_"))
        return curves.best_epoch(history, monitor=name)

    assert_caught(workshop, drawn, "learning_curves",
                  _curves(first_validation_curve, curves.overfits), "val_accuracy first")


def test_learning_curves_any_rise_called_overfitting_is_caught(workshop, drawn):
    def any_rise(history):
        return curves.best_epoch(history) < len(history["val_loss"])

    assert_caught(workshop, drawn, "learning_curves", _curves(curves.best_epoch, any_rise),
                  "wobbles", "unstable training")


def test_learning_curves_ignoring_the_training_loss_is_caught(workshop, drawn):
    def validation_only(history):
        losses = history["val_loss"]
        return losses[-1] > 1.1 * min(losses)

    assert_caught(workshop, drawn, "learning_curves",
                  _curves(curves.best_epoch, validation_only), "unstable training")


# ------------------------------------------------------------------ early stopping
def _callbacks(stopping=None, checkpoint=None, checkpoint_to=None):
    """A make_callbacks(checkpoint_path) with the given keyword settings."""
    import keras

    def make_callbacks(checkpoint_path):
        made = []
        if stopping is not None:
            made.append(keras.callbacks.EarlyStopping(**stopping))
        if checkpoint is not None:
            made.append(keras.callbacks.ModelCheckpoint(checkpoint_to or checkpoint_path,
                                                        **checkpoint))
        return made

    return {"make_callbacks": make_callbacks}


GOOD_STOPPING = {"monitor": "val_loss", "mode": "min", "patience": 5,
                 "restore_best_weights": True}
GOOD_CHECKPOINT = {"monitor": "val_loss", "mode": "min", "save_best_only": True}


@pytest.mark.slow
def test_early_stopping_reference_and_alternatives_pass(workshop, drawn):
    assert_all_pass(workshop, drawn, "early_stopping",
                    {"make_callbacks": curves.early_stopping_callbacks})
    # mode "auto", a patience of 1 (stops at the first rise), checkpoint listed first
    assert_all_pass(workshop, drawn, "early_stopping", _callbacks(
        {"patience": 1, "restore_best_weights": True}, {"save_best_only": True}))


@pytest.mark.slow
@pytest.mark.parametrize("stopping, checkpoint", [
    ({**GOOD_STOPPING, "monitor": "loss"}, {**GOOD_CHECKPOINT, "monitor": "loss"}),
    ({**GOOD_STOPPING, "mode": "max"}, {**GOOD_CHECKPOINT, "mode": "max"}),
    ({**GOOD_STOPPING, "restore_best_weights": False}, GOOD_CHECKPOINT),
    (GOOD_STOPPING, {**GOOD_CHECKPOINT, "save_best_only": False}),
    (GOOD_STOPPING, None),
    ({**GOOD_STOPPING, "monitor": "val_accuracy", "mode": "max"},
     {**GOOD_CHECKPOINT, "monitor": "val_accuracy", "mode": "max"}),
], ids=["training-loss", "mode-max", "no-restore", "not-best-only", "no-checkpoint",
        "val-accuracy"])
def test_early_stopping_mistakes_are_caught_in_every_case(workshop, drawn, stopping,
                                                          checkpoint):
    results = judge(workshop, drawn, "early_stopping", _callbacks(stopping, checkpoint))
    assert not any(results.values()), results


@pytest.mark.slow
def test_early_stopping_checkpoint_written_elsewhere_is_caught(workshop, drawn, tmp_path):
    results = judge(workshop, drawn, "early_stopping", _callbacks(
        GOOD_STOPPING, GOOD_CHECKPOINT, checkpoint_to=str(tmp_path / "elsewhere.keras")))
    assert not any(results.values()), results


def test_early_stopping_report_is_judged_on_the_epochs_trained():
    """Does the comparison seek the best epoch among the epochs the run lasted?"""
    from chdml.grading import compare

    judge_run = compare.keeps_best_epoch()
    val_losses = [0.9, 0.5, 0.6, 0.7, 0.3, 0.4]
    stopping = {"kind": "EarlyStopping", "monitor": "val_loss", "mode": "min",
                "restore_best_weights": True, "patience": 2}
    checkpoint = {"kind": "ModelCheckpoint", "monitor": "val_loss", "mode": "min",
                  "save_best_only": True}
    expected = {"monitor": "val_loss", "mode": "min"}
    stopped_early = {"callbacks": [stopping, checkpoint], "epochs_run": 4, "kept_epoch": 2,
                     "saved_epoch": 2}
    assert judge_run(stopped_early, expected, {"val_losses": val_losses}).passed
    full_run = dict(stopped_early, epochs_run=6)
    verdict = judge_run(full_run, expected, {"val_losses": val_losses})
    assert not verdict.passed and "not those of epoch 5" in verdict.got


# ------------------------------------------------------------------ regularisation
def _builder(**changes):
    """A build_classifier with one mistake (or none), written out as a student would."""
    import keras

    def build_classifier(input_shape, n_blocks, base_filters, dense_units, dropout=0.0,
                         l2=0.0, augment=False):
        rate = changes.get("fixed_dropout", dropout)
        penalty = changes.get("fixed_l2", l2)
        regulariser = keras.regularizers.L2(penalty) if penalty > 0 else None
        conv_reg = None if changes.get("l2_dense_only") else regulariser
        dense_reg = None if changes.get("l2_conv_only") else regulariser
        output_reg = None if changes.get("l2_not_output") else dense_reg
        if changes.get("l2_as_l1l2"):
            conv_reg = dense_reg = output_reg = (keras.regularizers.L1L2(l1=0.0, l2=penalty)
                                                 if penalty > 0 else None)
        extra = {}
        if changes.get("bias_l2") and regulariser is not None:
            extra = {"bias_regularizer": keras.regularizers.L2(penalty)}
        if changes.get("activity_l2") and regulariser is not None:
            conv_reg = dense_reg = output_reg = None
            extra = {"activity_regularizer": keras.regularizers.L2(penalty)}
        layers = [keras.Input(shape=tuple(input_shape))]
        augmentation = [keras.layers.RandomFlip("horizontal"),
                        keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.2)]
        if (augment or changes.get("augment_always")) and not changes.get("augment_late"):
            layers += augmentation
        for block in range(changes.get("fixed_blocks", n_blocks)):
            for _ in range(2):
                layers.append(keras.layers.Conv2D(base_filters * 2 ** block, 3,
                                                  padding="same", activation="relu",
                                                  kernel_regularizer=conv_reg, **extra))
            layers.append(keras.layers.MaxPooling2D(2))
        if augment and changes.get("augment_late"):
            layers += augmentation
        layers.append(keras.layers.Flatten())
        if rate > 0 or changes.get("zero_dropout_layers"):
            layers.append(keras.layers.BatchNormalization() if changes.get("batchnorm")
                          else keras.layers.Dropout(rate))
        layers.append(keras.layers.Dense(dense_units, activation="relu",
                                         kernel_regularizer=dense_reg, **extra))
        if rate > 0 or changes.get("zero_dropout_layers"):
            layers.append(keras.layers.Dropout(rate))
        layers.append(keras.layers.Dense(1, activation="sigmoid",
                                         kernel_regularizer=output_reg, **extra))
        model = keras.Sequential(layers)
        if changes.get("augment_at_inference") and augment:
            class RandomFlip(keras.layers.RandomFlip):   # noqa: N801 - same kind as Keras'
                """A flip that ignores `training`: it flips at inference too."""

                def call(self, data, training=True):
                    return super().call(data, training=True)

            layers[1] = RandomFlip("horizontal_and_vertical", seed=1)
            model = keras.Sequential(layers)
        return model

    return {"build_classifier": build_classifier}


def test_regularisation_reference_and_alternatives_pass(workshop, drawn):
    from chdml.models import workshop_classifier

    def reference_builder(input_shape, n_blocks, base_filters, dense_units, dropout=0.0,
                          l2=0.0, augment=False):
        return workshop_classifier(tuple(input_shape), n_blocks, base_filters, dense_units,
                                   n_classes=2, dropout=dropout, l2=l2, augment=augment)

    assert_all_pass(workshop, drawn, "regularisation", {"build_classifier": reference_builder})
    assert_all_pass(workshop, drawn, "regularisation", _builder())   # Sequential, other
    assert_all_pass(workshop, drawn, "regularisation", _builder(l2_as_l1l2=True))
    assert_all_pass(workshop, drawn, "regularisation", _builder(zero_dropout_layers=True))


@pytest.mark.parametrize("mistake, cases", [
    ("batchnorm", ["dropout 0.5", "another dropout rate", "all three"]),
    ("fixed_dropout", ["another dropout rate", "every switch off"]),
    ("augment_always", ["every switch off", "dropout 0.5", "L2 weight decay", "another"]),
    ("l2_conv_only", ["L2 weight decay", "another L2", "all three"]),
    ("l2_dense_only", ["L2 weight decay", "another L2", "all three"]),
    ("l2_not_output", ["L2 weight decay", "another L2", "all three"]),
    ("bias_l2", ["L2 weight decay", "another L2", "all three"]),
    ("activity_l2", ["L2 weight decay", "another L2", "all three"]),
    ("fixed_l2", ["another L2"]),
    ("augment_at_inference", ["with augmentation", "all three"]),
    ("augment_late", ["with augmentation", "all three"]),
    ("fixed_blocks", ["every switch off", "another dropout rate", "another L2", "all three"]),
])
def test_regularisation_mistakes_are_caught(workshop, drawn, mistake, cases):
    value = {"fixed_dropout": 0.5, "fixed_l2": 1e-3, "fixed_blocks": 3}.get(mistake, True)
    assert_caught(workshop, drawn, "regularisation", _builder(**{mistake: value}), *cases)


# ------------------------------------------------------------------ augmentation
def _augment_tensorflow(image, mask, label, seed):
    """chdml.augment's TensorFlow pipeline (intensity changes included), label passed on."""
    import tensorflow as tf

    from chdml.augment import AugmentSettings, augment_pair

    image, mask = augment_pair(image, tf.constant(mask), tf.constant([seed, 0]),
                               AugmentSettings(flip_left_right=0.5))
    return image.numpy(), mask.numpy(), label


def _augment_rot90(image, mask, label, seed):
    turns = int(np.random.default_rng(seed).integers(1, 4))
    return np.rot90(image, turns), np.rot90(mask, turns), label


def _augment_two_draws(image, mask, label, seed):
    rng = np.random.default_rng(seed)
    moved_image, _, _ = teaching_augmentation.augment_example(image, mask, label,
                                                              int(rng.integers(10**6)))
    _, moved_mask, _ = teaching_augmentation.augment_example(image, mask, label,
                                                             int(rng.integers(10**6)))
    return moved_image, moved_mask, label


def _augment_interpolated_mask(image, mask, label, seed, rounded=False):
    rng = np.random.default_rng(seed)
    angle, zoom = rng.uniform(-15, 15), rng.uniform(0.9, 1.1)
    moved = teaching_augmentation.rotate_and_zoom(np.asarray(mask, float), angle, zoom, 1)
    return (teaching_augmentation.rotate_and_zoom(image, angle, zoom, 1),
            np.rint(moved).astype(np.uint8) if rounded else moved, label)


def _augment_flipping_everything(image, mask, label, seed):
    moved_image, moved_mask, _ = teaching_augmentation.augment_example(image, mask, label, seed)
    return moved_image, moved_mask, np.flip(np.asarray(label))


def _augment_image_only(image, mask, label, seed):
    moved_image, _, _ = teaching_augmentation.augment_example(image, mask, label, seed)
    return moved_image, mask, label


@pytest.mark.parametrize("augment", [teaching_augmentation.augment_example, _augment_rot90,
                                     _augment_tensorflow],
                         ids=["numpy-scipy", "rot90", "chdml.augment"])
def test_augmentation_alternatives_pass(workshop, drawn, augment):
    assert_all_pass(workshop, drawn, "augmentation", {"augment": augment})


@pytest.mark.parametrize("augment, cases", [
    (_augment_two_draws, ["seven seeds", "one-hot", "labels 0, 1 and 3", "32 x 32"]),
    (_augment_interpolated_mask, ["seven seeds", "one-hot", "labels 0, 1 and 3", "32 x 32"]),
    (lambda *a: _augment_interpolated_mask(*a, rounded=True), ["labels 0, 1 and 3"]),
    (_augment_flipping_everything, ["one-hot"]),
    (lambda i, m, label, s: teaching_augmentation.augment_example(
        i, m, label, int(np.random.default_rng().integers(10**6))), ["seven seeds"]),
    (lambda i, m, label, s: teaching_augmentation.augment_example(i, m, label, 0),
     ["seven seeds", "one-hot", "labels 0, 1 and 3", "32 x 32"]),
    (lambda i, m, label, s: (i, m, label), ["seven seeds", "one-hot", "32 x 32"]),
    (_augment_image_only, ["seven seeds", "one-hot", "labels 0, 1 and 3", "32 x 32"]),
    (lambda i, m, label, s: teaching_augmentation.augment_example(i[..., 0], m, label, s),
     ["seven seeds"]),
], ids=["two-random-draws", "interpolated-mask", "interpolated-and-rounded",
        "label-flipped", "unseeded", "seed-ignored", "does-nothing", "mask-not-moved",
        "channel-dropped"])
def test_augmentation_mistakes_are_caught(workshop, drawn, augment, cases):
    assert_caught(workshop, drawn, "augmentation", {"augment": augment}, *cases)


# ------------------------------------------------------------------ better model
def _predictor(probabilities_of):
    """A stand-in trained model: ``predict(images)`` from a function of the images."""
    class Model:
        def predict(self, images, verbose=0):
            return probabilities_of(np.asarray(images))
    return Model()


def test_better_model_judges_loss_against_the_baseline_and_floors():
    """Does the comparison demand a lower loss than the baseline and both floors?"""
    from chdml.grading import compare

    truth = np.array([0, 1] * 50)
    judge_models = compare.beats_baseline(min_accuracy=0.85, max_loss=0.6)

    def confident(right_fraction, confidence):
        right = np.arange(truth.size) < right_fraction * truth.size
        p_true = np.where(right, confidence, 1 - confidence)
        return np.where(truth == 1, p_true, 1 - p_true)[:, None]

    calm = confident(0.92, 0.85)                 # 92 % right, modest confidence
    overconfident = confident(0.92, 0.9999)      # same answers, near-certain when wrong
    verdict = judge_models({"regularised_model": calm, "baseline_model": overconfident},
                           truth, {})
    assert verdict.passed, verdict
    same = judge_models({"regularised_model": overconfident,
                         "baseline_model": overconfident}, truth, {})
    assert not same.passed and "not lower" in same.got
    spoiled_baseline = judge_models({"regularised_model": confident(0.7, 0.6),
                                     "baseline_model": confident(0.5, 0.9999)}, truth, {})
    assert not spoiled_baseline.passed and "accuracy is below" in spoiled_baseline.got
    labels_only = judge_models({"regularised_model": (calm > 0.5).astype(float),
                                "baseline_model": overconfident}, truth, {})
    assert not labels_only.passed
    inverted = judge_models({"regularised_model": 1 - calm, "baseline_model": overconfident},
                            truth, {})
    assert not inverted.passed
    softmax = np.concatenate([1 - calm, calm], axis=1)      # two softmax units are fine
    assert judge_models({"regularised_model": softmax, "baseline_model": overconfident},
                        truth, {}).passed


def test_better_model_producer_predicts_both_models_on_the_hidden_images(workshop, drawn):
    exercise = workshop.exercises["better_model"]
    hidden = [case for case in drawn["better_model"] if not case.public][0]
    assert hidden.case.inputs["images"].shape == (200, 64, 64, 1)
    assert "labels" not in hidden.case.inputs
    truth = hidden.expected
    cheat = _predictor(lambda images: np.full((len(images), 1), 0.5))
    got = exercise.producer({"regularised_model": cheat, "baseline_model": cheat},
                            hidden.case.inputs)
    assert set(got) == {"regularised_model", "baseline_model"}
    assert not exercise.compare(got, truth, hidden.case.inputs).passed


# ------------------------------------------------------------------ leakage
def test_leakage_reference_and_alternatives_pass(workshop, drawn):
    assert_all_pass(workshop, drawn, "leakage", {"leaked_patients": pitfalls.leaked_patients})

    def with_sets(train, validation, test):
        groups = [{name.split("_")[0] for name in names} for names in (train, validation, test)]
        return list((groups[0] & groups[1]) | (groups[0] & groups[2]) | (groups[1] & groups[2]))

    assert_all_pass(workshop, drawn, "leakage", {"leaked_patients": with_sets})


@pytest.mark.parametrize("mistake, cases", [
    (lambda tr, va, te: sorted((set(tr) & set(va)) | (set(tr) & set(te)) | (set(va) & set(te))),
     ["made by slice", "validation and the test", "all three", "different lengths"]),
    (lambda tr, va, te: sorted({n.split("_")[0] for n in tr} & {n.split("_")[0] for n in te}),
     ["validation and the test"]),
    (lambda tr, va, te: sorted({n[:5] for n in tr} & ({n[:5] for n in va} | {n[:5] for n in te})
                               | ({n[:5] for n in va} & {n[:5] for n in te})),
     ["different lengths"]),
    (lambda tr, va, te: sorted({n.split("_")[0] for names in (tr, va, te) for n in names
                                if sum(m.split("_")[0] == n.split("_")[0]
                                       for m in tr + va + te) > 1}),
     ["nothing leaks", "many slices"]),
    (lambda tr, va, te: pitfalls.leaked_patients(tr, va, te) or None, ["nothing leaks"]),
], ids=["slice-names", "train-vs-test-only", "fixed-width-id", "duplicates-count",
        "none-when-clean"])
def test_leakage_mistakes_are_caught(workshop, drawn, mistake, cases):
    assert_caught(workshop, drawn, "leakage", {"leaked_patients": mistake}, *cases)


# ------------------------------------------------------------------ imbalance
def _report(fractions_from="true", balanced="recall"):
    from chdml.metrics import accuracy

    def imbalance_report(true_labels, predicted_labels):
        truth, predicted = np.asarray(true_labels), np.asarray(predicted_labels)
        source = truth if fractions_from == "true" else predicted
        fractions = np.bincount(source, minlength=truth.max() + 1)[:truth.max() + 1] / truth.size
        if balanced == "recall":
            value = np.mean([np.mean(predicted[truth == c] == c) for c in np.unique(truth)])
        elif balanced == "accuracy":
            value = accuracy(truth, predicted)
        elif balanced == "predicted-classes":
            value = np.mean([np.mean(predicted[truth == c] == c) for c in np.unique(predicted)
                             if np.any(truth == c)])
        elif balanced == "precision":
            value = np.mean([np.mean(truth[predicted == c] == c) for c in np.unique(predicted)])
        else:   # (sensitivity + specificity) / 2, binary only
            sensitivity = np.mean(predicted[truth == 1] == 1)
            specificity = np.mean(predicted[truth != 1] != 1)
            value = (sensitivity + specificity) / 2
        return {"class_fractions": fractions, "accuracy": accuracy(truth, predicted),
                "balanced_accuracy": value}

    return {"imbalance_report": imbalance_report}


def test_imbalance_reference_and_numpy_alternative_pass(workshop, drawn):
    assert_all_pass(workshop, drawn, "imbalance", {"imbalance_report": pitfalls.imbalance_report})
    assert_all_pass(workshop, drawn, "imbalance", _report())


@pytest.mark.parametrize("changes, cases", [
    ({"balanced": "accuracy"}, ["90 %", "class 1 is the majority", "three classes",
                                "far too often"]),
    ({"fractions_from": "predicted"}, ["90 %", "far too often"]),
    ({"balanced": "predicted-classes"}, ["90 %"]),
    ({"balanced": "precision"}, ["class 1 is the majority", "three classes", "far too often"]),
    ({"balanced": "sensitivity-specificity"}, ["three classes"]),
], ids=["plain-accuracy", "fractions-of-predictions", "average-over-predicted",
        "precision", "binary-formula"])
def test_imbalance_mistakes_are_caught(workshop, drawn, changes, cases):
    assert_caught(workshop, drawn, "imbalance", _report(**changes), *cases)


# ------------------------------------------------------------------ scanner shift
def _shift(compare_to="reference", absolute=True, tolerance=0.2, relative=True,
           first_image_only=False, include_reference=False):
    def intensity_shift(images, scanners, reference_scanner):
        images, scanners = np.asarray(images, float), np.asarray(scanners)
        means = {}
        for scanner in np.unique(scanners):
            chosen = images[scanners == scanner]
            means[str(scanner)] = float(chosen[0].mean() if first_image_only else chosen.mean())
        base = {"reference": means[reference_scanner], "all": float(images.mean()),
                "first": means[str(scanners[0])]}[compare_to]
        shifted = []
        for scanner, mean in means.items():
            difference = abs(mean - base) if absolute else mean - base
            limit = tolerance * base if relative else tolerance
            if (difference > limit or (include_reference and scanner == reference_scanner)):
                shifted.append(scanner)
        return {"mean_intensity": means, "shifted": shifted}

    return {"intensity_shift": intensity_shift}


def test_scanner_shift_reference_and_alternatives_pass(workshop, drawn):
    assert_all_pass(workshop, drawn, "scanner_shift",
                    {"intensity_shift": lambda i, s, r: pitfalls.intensity_shift(i, s, r)})
    assert_all_pass(workshop, drawn, "scanner_shift", _shift())


@pytest.mark.parametrize("changes, cases", [
    ({"absolute": False}, ["darker scanner"]),
    ({"compare_to": "all"}, ["few images, not listed first"]),
    ({"tolerance": 0.0}, ["look alike"]),
    ({"relative": False}, ["training scanner", "darker", "gain"]),
    ({"first_image_only": True}, ["training scanner", "darker", "few images", "gain",
                                  "look alike"]),
    ({"include_reference": True}, ["training scanner", "darker", "few images", "gain",
                                   "look alike"]),
], ids=["no-abs", "mean-of-all-images", "no-tolerance", "absolute-tolerance",
        "first-image-only", "reference-listed"])
def test_scanner_shift_mistakes_are_caught(workshop, drawn, changes, cases):
    assert_caught(workshop, drawn, "scanner_shift", _shift(**changes), *cases)
