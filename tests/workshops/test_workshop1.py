"""Workshop 1's checks catch the mistakes their docstrings name, and accept the
legitimate alternatives.

Each test feeds an implementation (right or wrong) through the same machinery the grader
uses: the exercise's producer on every public and hidden case (drawn with a test salt),
then its comparison against the reference. A mistake counts as caught when the case
named for it fails.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from chdml.grading.spec import draw_cases, load_workshop
from chdml.teaching import basics

ROOT = Path(__file__).resolve().parents[2]
SALT = "tests-workshop1"


@pytest.fixture(scope="module")
def workshop():
    return load_workshop(ROOT / "autograder" / "workshop1")


def judge(workshop, exercise_name: str, namespace: dict) -> dict[str, bool]:
    """``{case description: passed}`` for every public and hidden case."""
    exercise = workshop.exercises[exercise_name]
    results = {}
    for drawn in draw_cases("workshop1", exercise, hidden=True, salt=SALT):
        got = exercise.producer(namespace, drawn.case.inputs)
        results[drawn.case.description] = exercise.compare(got, drawn.expected,
                                                           drawn.case.inputs).passed
    return results


def failing(results: dict[str, bool]) -> set[str]:
    return {description for description, passed in results.items() if not passed}


def assert_all_pass(workshop, exercise_name: str, namespace: dict) -> None:
    results = judge(workshop, exercise_name, namespace)
    assert not failing(results), failing(results)


def assert_caught(workshop, exercise_name: str, namespace: dict, *case_words: str) -> None:
    """The mistake fails the cases whose description contains each of ``case_words``."""
    failed = failing(judge(workshop, exercise_name, namespace))
    for words in case_words:
        assert any(words in description for description in failed), (words, failed)


def test_does_the_workshop_load_with_every_exercise_in_notebook_order(workshop):
    assert list(workshop.exercises) == [
        "linear_regression", "loss_curve", "conv2d", "mean_squared_error",
        "binary_crossentropy", "categorical_crossentropy", "iterate_batches",
        "steps_per_epoch", "dense_classifier", "dense_accuracy", "cnn_classifier",
        "cnn_accuracy"]


def test_do_hidden_inputs_depend_on_the_salt(workshop):
    exercise = workshop.exercises["conv2d"]
    one = draw_cases("workshop1", exercise, salt="a")[-1].case.inputs["image"]
    two = draw_cases("workshop1", exercise, salt="b")[-1].case.inputs["image"]
    assert not np.array_equal(one, two)


# ------------------------------------------------------------------------------ conv2d
def conv2d_flipped(image, kernel):
    return basics.conv2d(image, np.flip(kernel))


def conv2d_same(image, kernel):
    from scipy.signal import correlate2d

    return correlate2d(np.asarray(image, float), kernel, mode="same")


def conv2d_centred(image, kernel):
    """Windows centred on each pixel: right for odd kernels, wrong size for even ones."""
    image = np.asarray(image, float)
    rows, columns = kernel.shape
    half_r, half_c = rows // 2, columns // 2
    out = np.zeros((image.shape[0] - 2 * half_r, image.shape[1] - 2 * half_c))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + rows, j:j + columns] * kernel)
    return out


def conv2d_zeros_like(image, kernel):
    rows, columns = kernel.shape
    out = np.zeros_like(image)[: image.shape[0] - rows + 1, : image.shape[1] - columns + 1]
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + rows, j:j + columns] * kernel)
    return out


def conv2d_one_short(image, kernel):
    rows, columns = kernel.shape
    out = np.zeros((image.shape[0] - rows, image.shape[1] - columns))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + rows, j:j + columns] * kernel)
    return out


def conv2d_square_only(image, kernel):
    """Assumes square images: uses the number of rows for the columns too."""
    rows, columns = kernel.shape
    size = image.shape[0]
    out = np.zeros((size - rows + 1, size - columns + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + rows, j:j + columns] * kernel)
    return out


@pytest.mark.parametrize("mistake, cases", [
    (conv2d_flipped, ["edge-detecting", "3x3 kernel on a 6x6"]),
    (conv2d_same, ["3x3 kernel on a 6x6", "2x4", "integer"]),
    (conv2d_centred, ["2x2 kernel", "2x4", "4x4", "as large as the image"]),
    (conv2d_zeros_like, ["integer (uint8)"]),
    (conv2d_one_short, ["3x3 kernel on a 6x6", "as large as the image"]),
    (conv2d_square_only, ["non-square", "4x4 kernel on a 10x6"]),
])
def test_are_conv2d_mistakes_caught(workshop, mistake, cases):
    assert_caught(workshop, "conv2d", {"conv2d": mistake}, *cases)


def conv2d_scipy(image, kernel):
    from scipy.signal import correlate2d

    return correlate2d(np.asarray(image, float), kernel, mode="valid")


def conv2d_windows_float32(image, kernel):
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(image, np.float32),
                                                       kernel.shape)
    return np.einsum("ijuv,uv->ij", windows, kernel.astype(np.float32)).tolist()


@pytest.mark.parametrize("answer", [basics.conv2d, conv2d_scipy, conv2d_windows_float32])
def test_are_correct_conv2d_answers_accepted(workshop, answer):
    assert_all_pass(workshop, "conv2d", {"conv2d": answer})


def test_does_conv2d_fail_every_case_when_undefined_or_unfinished(workshop):
    assert all(not passed for passed in judge(workshop, "conv2d", {}).values())
    assert all(not passed for passed in judge(workshop, "conv2d",
                                              {"conv2d": lambda i, k: None}).values())


# ------------------------------------------------------------------------------ losses
@pytest.mark.parametrize("mistake, cases", [
    (lambda t, p: float(np.sum((np.asarray(t) - p) ** 2)), ["100 targets"]),
    (lambda t, p: float(np.sqrt(np.mean((np.asarray(t) - p) ** 2))), ["5 targets", "100"]),
    (lambda t, p: float(np.mean(np.abs(np.asarray(t) - p))), ["5 targets", "100"]),
    (lambda t, p: np.mean((np.asarray(t) - p) ** 2, axis=-1), ["6 samples with 3 outputs"]),
    (lambda t, p: float((np.mean(t) - np.mean(p)) ** 2), ["5 targets", "100"]),
])
def test_are_mean_squared_error_mistakes_caught(workshop, mistake, cases):
    assert_caught(workshop, "mean_squared_error", {"mean_squared_error": mistake}, *cases)


def test_is_a_correct_mean_squared_error_accepted_in_float32(workshop):
    assert_all_pass(workshop, "mean_squared_error", {"mean_squared_error": basics.mean_squared_error})
    assert_all_pass(workshop, "mean_squared_error", {
        "mean_squared_error": lambda t, p: np.float32(np.mean(
            (np.asarray(t, np.float32) - np.asarray(p, np.float32)) ** 2))})


def bce_with(log=np.log, low=1e-7, high=1 - 1e-7, reduce=np.mean, second_term=True):
    def binary_crossentropy(y_true, y_pred):
        y_true = np.asarray(y_true, float)
        p = np.asarray(y_pred, float)
        if low is not None:
            p = np.maximum(p, low)
        if high is not None:
            p = np.minimum(p, high)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = y_true * log(p)
            if second_term:
                terms = terms + (1 - y_true) * log(1 - p)
        return float(-reduce(terms))
    return binary_crossentropy


@pytest.mark.parametrize("mistake, cases", [
    (bce_with(low=None, high=None), ["exactly 0 for a true 1", "exactly 1 for a true 0",
                                     "sure and right"]),
    (bce_with(low=1e-15, high=1 - 1e-15), ["exactly 0 for a true 1",
                                           "exactly 1 for a true 0"]),
    (bce_with(high=None), ["exactly 1 for a true 0"]),
    (bce_with(reduce=np.sum), ["6 labels", "100 labels", "5 samples with 3"]),
    (bce_with(second_term=False), ["6 labels", "100 labels"]),
    (bce_with(log=np.log10), ["6 labels", "100 labels"]),
    (lambda t, p: bce_with()(p, t), ["6 labels", "100 labels"]),
])
def test_are_binary_crossentropy_mistakes_caught(workshop, mistake, cases):
    assert_caught(workshop, "binary_crossentropy", {"binary_crossentropy": mistake}, *cases)


def bce_additive_epsilon(y_true, y_pred):
    y_true, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    return -np.mean(y_true * np.log(p + 1e-7) + (1 - y_true) * np.log(1 - p + 1e-7))


def bce_float32(y_true, y_pred):
    y_true = np.asarray(y_true, np.float32)
    p = np.clip(np.asarray(y_pred, np.float32), 1e-7, 1 - 1e-7)
    return np.float32(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))


@pytest.mark.parametrize("answer", [basics.binary_crossentropy, bce_with(),
                                    bce_additive_epsilon, bce_float32])
def test_are_correct_binary_crossentropy_answers_accepted(workshop, answer):
    """float64 clipping (16.12 for a sure wrong 1) and Keras' float32 (15.94) both pass."""
    assert_all_pass(workshop, "binary_crossentropy", {"binary_crossentropy": answer})


def test_does_binary_crossentropy_pass_with_keras_itself(workshop):
    keras = pytest.importorskip("keras")
    answer = lambda t, p: float(np.squeeze(keras.losses.BinaryCrossentropy()(  # noqa: E731
        np.asarray(t, "float32"), np.asarray(p, "float32"))))
    assert_all_pass(workshop, "binary_crossentropy", {"binary_crossentropy": answer})


def cce_with(clip=True, reduce_samples=np.mean, over_all=False):
    def categorical_crossentropy(y_true, y_pred):
        p = np.clip(y_pred, 1e-7, 1 - 1e-7) if clip else np.asarray(y_pred, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.asarray(y_true) * np.log(p)
        if over_all:
            return float(-np.mean(terms))
        return float(reduce_samples(-np.sum(terms, axis=-1)))
    return categorical_crossentropy


@pytest.mark.parametrize("mistake, cases", [
    (cce_with(clip=False), ["exactly 0 for the true class", "sure and right"]),
    (cce_with(over_all=True), ["4 samples, 3 classes", "50 samples, 10 classes"]),
    (cce_with(reduce_samples=np.sum), ["4 samples", "50 samples", "7 samples"]),
    (lambda t, p: cce_with()(p, t), ["4 samples", "50 samples"]),
    (lambda t, p: bce_with()(t, p), ["4 samples", "50 samples"]),
])
def test_are_categorical_crossentropy_mistakes_caught(workshop, mistake, cases):
    assert_caught(workshop, "categorical_crossentropy", {"categorical_crossentropy": mistake},
                  *cases)


def cce_lower_clip_only(y_true, y_pred):
    return -np.mean(np.sum(np.asarray(y_true) * np.log(np.maximum(y_pred, 1e-7)), axis=1))


@pytest.mark.parametrize("answer", [basics.categorical_crossentropy, cce_with(),
                                    cce_lower_clip_only])
def test_are_correct_categorical_crossentropy_answers_accepted(workshop, answer):
    assert_all_pass(workshop, "categorical_crossentropy", {"categorical_crossentropy": answer})


# --------------------------------------------------------------------- batches, epochs
def batches_with(order_of, n_batches=None, pair=True):
    """A batch iterator whose order is ``order_of(n, shuffle, seed)``."""
    def iterate_batches(images, labels, batch_size, shuffle=True, seed=0):
        n = len(images)
        order = order_of(n, shuffle, seed)
        count = n_batches(n, batch_size) if n_batches else math.ceil(n / batch_size)
        for k in range(count):
            chosen = order[k * batch_size:(k + 1) * batch_size]
            yield (images[chosen], labels[chosen]) if pair else chosen
    return iterate_batches


def seeded(n, shuffle, seed):
    return np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)


def iterate_separately_shuffled(images, labels, batch_size, shuffle=True, seed=0):
    images, labels = images.copy(), labels.copy()
    if shuffle:
        np.random.default_rng(seed).shuffle(images)
        np.random.default_rng(seed + 1).shuffle(labels)
    for start in range(0, len(images), batch_size):
        yield images[start:start + batch_size], labels[start:start + batch_size]


@pytest.mark.parametrize("mistake, cases", [
    (batches_with(seeded, n_batches=lambda n, b: n // b), ["23 samples", "5 samples in"]),
    (batches_with(seeded, n_batches=lambda n, b: n // b + 1), ["20 samples"]),
    (batches_with(lambda n, s, seed: np.random.permutation(n) if s else np.arange(n)),
     ["same seed"]),
    (batches_with(lambda n, s, seed: seeded(n, s, 0)), ["different seeds"]),
    (batches_with(lambda n, s, seed: seeded(n, True, seed)), ["not shuffled"]),
    (batches_with(lambda n, s, seed: np.arange(n)), ["shuffled and not shuffled",
                                                     "10 samples in batches of 4"]),
    (iterate_separately_shuffled, ["10 samples", "23 samples"]),
    (batches_with(seeded, pair=False), ["12 samples", "23 samples"]),
])
def test_are_batch_iterator_mistakes_caught(workshop, mistake, cases):
    assert_caught(workshop, "iterate_batches", {"iterate_batches": mistake}, *cases)


def iterate_with_global_seed(images, labels, batch_size, shuffle=True, seed=0):
    order = list(range(len(images)))
    if shuffle:
        random.Random(seed).shuffle(order)
    return [(images[order[start:start + batch_size]], labels[order[start:start + batch_size]])
            for start in range(0, len(order), batch_size)]


def iterate_with_numpy_seed(images, labels, batch_size, shuffle=True, seed=0):
    if shuffle:
        np.random.seed(seed)
        order = np.random.permutation(len(images))
    else:
        order = np.arange(len(images))
    for start in range(0, len(order), batch_size):
        yield [images[order[start:start + batch_size]], labels[order[start:start + batch_size]]]


@pytest.mark.parametrize("answer", [basics.iterate_batches, iterate_with_global_seed,
                                    iterate_with_numpy_seed])
def test_are_other_seeded_shuffles_accepted(workshop, answer):
    assert_all_pass(workshop, "iterate_batches", {"iterate_batches": answer})


def test_does_an_endless_batch_generator_fail_instead_of_hanging(workshop):
    def endless(images, labels, batch_size, shuffle=True, seed=0):
        while True:
            yield images[:batch_size], labels[:batch_size]

    results = judge(workshop, "iterate_batches", {"iterate_batches": endless})
    assert not any(results.values())


@pytest.mark.parametrize("mistake, cases", [
    (lambda n, b: n // b, ["100 samples", "does not divide", "fewer samples"]),
    (lambda n, b: n // b + 1, ["96 samples", "divides evenly"]),
    (lambda n, b: round(n / b), ["1 001 samples"]),
    (lambda n, b: n / b, ["100 samples", "does not divide"]),
    (lambda n, b: math.floor(n / b), ["fewer samples"]),
])
def test_are_steps_per_epoch_mistakes_caught(workshop, mistake, cases):
    assert_caught(workshop, "steps_per_epoch", {"steps_per_epoch": mistake}, *cases)


@pytest.mark.parametrize("answer", [
    basics.steps_per_epoch, lambda n, b: math.ceil(n / b), lambda n, b: (n + b - 1) // b,
    lambda n, b: int(np.ceil(n / b)), lambda n, b: float(math.ceil(n / b)),
    lambda n, b: np.int64(-(-n // b)),
])
def test_are_correct_steps_per_epoch_answers_accepted(workshop, answer):
    assert_all_pass(workshop, "steps_per_epoch", {"steps_per_epoch": answer})


# ------------------------------------------------------------------- linear regression
class FakeModel:
    """Stands in for a trained Keras model: ``get_weights`` and ``predict`` only."""

    def __init__(self, weights=None, predictions=None):
        self.weights, self.predictions = weights, predictions

    def get_weights(self):
        return self.weights

    def predict(self, images, verbose=0):
        return self.predictions(images)


@pytest.mark.parametrize("weights, passes", [
    ([np.array([[2.05]]), np.array([-3.93])], True),          # close enough
    ([np.array([[1.7]]), np.array([-3.2])], False),           # stopped too early
    ([np.array([[0.5]]), np.array([2.0])], False),            # x and y swapped
    ([np.array([[np.nan]]), np.array([np.nan])], False),      # diverged
    ([np.array([[2.0]])], False),                             # no bias
    ([np.ones((1, 4)), np.zeros(4), np.ones((4, 1)), np.zeros(1)], False),  # two layers
])
def test_does_linear_regression_judge_the_learned_weight_and_bias(workshop, weights, passes):
    results = judge(workshop, "linear_regression", {"linear_model": FakeModel(weights)})
    assert all(results.values()) is passes


def test_does_linear_regression_read_a_real_keras_model(workshop):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.set_weights([np.array([[2.03]], "float32"), np.array([-4.06], "float32")])
    assert all(judge(workshop, "linear_regression", {"linear_model": model}).values())
    model.set_weights([np.array([[2.03]], "float32"), np.array([-3.5], "float32")])
    assert not any(judge(workshop, "linear_regression", {"linear_model": model}).values())


@pytest.mark.parametrize("losses, passes", [
    ([25.0, 9.0, 2.0, 0.3, 0.01], True),
    ([25.0, 30.0, 80.0, 400.0], False),                     # learning rate too high
    ([25.0, float("inf"), float("nan")], False),            # diverged
    ([25.0], False),                                        # one epoch
    ([25.0, 24.8, 24.5, 24.1], False),                      # hardly moves
])
def test_does_the_loss_curve_check_need_a_falling_finite_loss(workshop, losses, passes):
    class History:   # what model.fit returns, as far as the check is concerned
        history = {"loss": losses}

    for value in (History(), {"loss": losses}):
        results = judge(workshop, "loss_curve", {"linear_history": value})
        assert all(results.values()) is passes


def test_does_the_loss_curve_check_refuse_the_model_or_none(workshop):
    assert not any(judge(workshop, "loss_curve", {"linear_history": None}).values())
    assert not any(judge(workshop, "loss_curve",
                         {"linear_history": FakeModel([np.zeros(1)])}).values())


# ---------------------------------------------------------------------- models (Keras)
def dense_builder(hidden=128, activation="softmax", flatten=True, hard_coded=False,
                  hidden_activation="relu"):
    def build_dense_classifier(input_shape, n_classes):
        import keras

        n_out = 10 if hard_coded else n_classes
        layers = [keras.Input(shape=tuple(input_shape))]
        layers += [keras.layers.Flatten()] if flatten else []
        layers += [keras.layers.Dense(hidden, activation=hidden_activation),
                   keras.layers.Dense(n_out, activation=activation)]
        return keras.Sequential(layers)
    return build_dense_classifier


def cnn_builder(padding="valid", filters=(16, 32), kernel=3, activation="softmax",
                pooling=True, extra_dense=False, conv_activation="relu"):
    def build_cnn_classifier(input_shape, n_classes):
        import keras

        layers = [keras.Input(shape=tuple(input_shape))]
        for n_filters in filters:
            layers.append(keras.layers.Conv2D(n_filters, kernel, activation=conv_activation,
                                              padding=padding))
            if pooling:
                layers.append(keras.layers.MaxPooling2D(2))
        layers.append(keras.layers.Flatten())
        if extra_dense:
            layers.append(keras.layers.Dense(32, activation="relu"))
        layers.append(keras.layers.Dense(n_classes, activation=activation))
        return keras.Sequential(layers)
    return build_cnn_classifier


def cnn_functional(input_shape, n_classes):
    import keras

    inputs = keras.Input(shape=tuple(input_shape))
    x = keras.layers.Conv2D(16, (3, 3), activation="relu")(inputs)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Conv2D(32, (3, 3), activation="relu")(x)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(keras.layers.Flatten()(x))
    return keras.Model(inputs, outputs)


@pytest.mark.slow
@pytest.mark.parametrize("mistake, case", [
    (dense_builder(activation=None), "28x28"),
    (dense_builder(activation="sigmoid"), "28x28"),
    (dense_builder(hidden=64), "28x28"),
    (dense_builder(flatten=False), "28x28"),
    (dense_builder(hard_coded=True), "another image size"),
    (dense_builder(hidden_activation=None), "28x28"),
])
def test_are_dense_classifier_mistakes_caught(workshop, mistake, case):
    pytest.importorskip("keras")
    assert_caught(workshop, "dense_classifier", {"build_dense_classifier": mistake}, case)


@pytest.mark.slow
def test_is_a_sequential_dense_classifier_accepted(workshop):
    pytest.importorskip("keras")
    assert_all_pass(workshop, "dense_classifier", {"build_dense_classifier": dense_builder()})


@pytest.mark.slow
@pytest.mark.parametrize("mistake", [
    cnn_builder(padding="same"), cnn_builder(filters=(32, 16)), cnn_builder(kernel=5),
    cnn_builder(activation=None), cnn_builder(pooling=False), cnn_builder(extra_dense=True),
    cnn_builder(conv_activation=None),
])
def test_are_cnn_classifier_mistakes_caught(workshop, mistake):
    pytest.importorskip("keras")
    assert_caught(workshop, "cnn_classifier", {"build_cnn_classifier": mistake}, "28x28",
                  "another image size")


@pytest.mark.slow
@pytest.mark.parametrize("answer", [cnn_builder(), cnn_functional])
def test_are_sequential_and_functional_cnn_classifiers_accepted(workshop, answer):
    pytest.importorskip("keras")
    assert_all_pass(workshop, "cnn_classifier", {"build_cnn_classifier": answer})


# ------------------------------------------------------------------ trained classifiers
def views_model(workshop, error_rate: float, one_hot: bool = True):
    """A fake classifier that gets exactly ``error_rate`` of the views of a case wrong."""
    from chdml_checks_workshop1._views import true_views

    def predict(images):
        truth = true_views({"images": images})
        rng = np.random.default_rng(0)
        wrong = np.zeros(len(truth), dtype=bool)
        wrong[rng.choice(len(truth), size=round(error_rate * len(truth)), replace=False)] = True
        labels = np.where(wrong, (truth + rng.integers(1, 10, len(truth))) % 10, truth)
        return np.eye(10)[labels] if one_hot else labels
    return FakeModel(predictions=predict)


@pytest.mark.parametrize("exercise, variable, floor", [
    ("dense_accuracy", "dense_model", 0.45), ("cnn_accuracy", "cnn_model", 0.65)])
def test_do_the_accuracy_floors_separate_trained_from_untrained_models(workshop, exercise,
                                                                       variable, floor):
    good = judge(workshop, exercise, {variable: views_model(workshop, 1 - floor - 0.05)})
    assert all(good.values())
    labels_only = judge(workshop, exercise,
                        {variable: views_model(workshop, 1 - floor - 0.05, one_hot=False)})
    assert all(labels_only.values())
    weak = judge(workshop, exercise, {variable: views_model(workshop, 1 - floor + 0.05)})
    assert not any(weak.values())
    chance = judge(workshop, exercise, {variable: views_model(workshop, 0.9)})
    assert not any(chance.values())


def test_do_the_hidden_view_images_come_from_other_patients_than_the_notebook(workshop):
    from chdml.data.synth import view_images

    exercise = workshop.exercises["cnn_accuracy"]
    hidden = draw_cases("workshop1", exercise, salt=SALT)[-1].case.inputs["images"]
    assert hidden.shape == (500, 28, 28, 1) and hidden.dtype == np.float32
    notebook_test = view_images(20, size=28, seed=2, task="ten_views").images
    assert not any(np.array_equal(hidden[i], notebook_test[j])
                   for i in range(20) for j in range(20))


def test_do_the_hidden_views_never_travel_with_the_case_inputs(workshop):
    for name in ("dense_accuracy", "cnn_accuracy"):
        for drawn in draw_cases("workshop1", workshop.exercises[name], salt=SALT):
            assert set(drawn.case.inputs) == {"images"}


# ------------------------------------------------------------------------- the notebook
def test_does_every_exercise_have_one_locked_check_cell_worth_its_case_points(workshop):
    import nbformat

    from chdml.grading.spec import total_points

    notebook = nbformat.read(ROOT / "source" / "workshop1" / "workshop1.ipynb", as_version=4)
    checks = {}
    for cell in notebook.cells:
        source = cell.source.strip()
        if cell.cell_type == "code" and "grader.check(" in source:
            meta = cell.metadata["nbgrader"]
            assert meta["grade"] and meta["locked"] and not meta["solution"], cell.id
            name = source.split('"')[1]
            assert source == f'grader.check("{name}")' and name not in checks
            checks[name] = meta["points"]
    assert list(checks) == list(workshop.exercises)
    for name, exercise in workshop.exercises.items():
        assert checks[name] == total_points(exercise), name


def test_do_solution_cells_keep_their_solutions_between_markers():
    import nbformat

    notebook = nbformat.read(ROOT / "source" / "workshop1" / "workshop1.ipynb", as_version=4)
    solutions = [cell for cell in notebook.cells
                 if cell.metadata.get("nbgrader", {}).get("solution")]
    assert len(solutions) == 11
    for cell in solutions:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    ids = [cell.id for cell in notebook.cells]
    assert len(set(ids)) == len(ids)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code.id == "setup" and 'chdml.grader("workshop1")' in first_code.source
    assert "keras.utils.set_random_seed(0)" in first_code.source


def test_does_no_hint_or_public_case_quote_a_line_of_the_solutions(workshop):
    """What `chdml build` calls a leak: a solution line in the self-check data."""
    from chdml.grading.build import read_notebook, secret_lines
    from chdml.grading.publish import exercise_data

    secrets = secret_lines(read_notebook(ROOT / "source" / "workshop1" / "workshop1.ipynb"))
    assert secrets
    for name, exercise in workshop.exercises.items():
        texts = [exercise.hint, exercise.title] + [
            text for case in exercise_data("workshop1", exercise)["cases"]
            for text in (case["description"], case["hint"])]
        for line in secrets:
            assert not any(line in text for text in texts), (name, line)
