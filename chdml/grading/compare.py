"""Comparisons: is the student's value right? Run by the grader (or in the kernel for the
public self-check), never trusted to the student's code.

A comparator is called as ``comparator(got, expected, inputs)`` and returns a
:class:`Verdict` ``(passed, expected, got)``: whether the value passes, and in plain words
what was expected and what came back (for the beginner's message). Comparators are small
frozen dataclasses so that the build can store them as data (:meth:`Comparator.spec`) in the
self-check package and rebuild them in Colab (:func:`from_spec`); check modules therefore
use only the comparators defined here. Add a new one here when an exercise needs it.

All comparators accept the legitimate variations of a beginner's answer: a list where an
array was expected, float32 instead of float64, a tuple instead of a list, NumPy scalars
instead of Python numbers, a TensorFlow tensor instead of an array. A value that is a
:class:`~chdml.grading.wire.ProducedError` (the student's code raised) never passes.

Example:
    >>> from chdml.grading import compare
    >>> check = compare.arrays(atol=1e-6)
    >>> check([1.0, 2.0], np.array([1.0, 2.0], dtype=np.float32), {}).passed
    True
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from chdml.grading.wire import ProducedError, Unsupported


class Verdict(NamedTuple):
    """The judgement of one case: ``passed`` and, in words, ``expected`` and ``got``."""

    passed: bool
    expected: str
    got: str


# ---------------------------------------------------------------------------------------
# Describing values in words a beginner can read
# ---------------------------------------------------------------------------------------
def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 5] + " ...]"


def describe(value: Any, limit: int = 400) -> str:
    """Describe ``value`` for a feedback message, at most about ``limit`` characters."""
    if isinstance(value, ProducedError):
        return f"an error: {_short(value.message, limit)}"
    if isinstance(value, Unsupported):
        return f"a {value.type_name}, which cannot be checked"
    if value is None:
        return "None (did your function `return` its result?)"
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, str):
        return _short(repr(value), limit)
    if isinstance(value, np.ndarray):
        body = np.array2string(value, precision=4, threshold=30, edgeitems=2,
                               suppress_small=True)
        return _short(f"an array of shape {value.shape} ({value.dtype}): {body}", limit)
    if isinstance(value, (set, frozenset)):
        items = sorted(value, key=repr)
        return _short("{" + ", ".join(describe(item, 40) for item in items) + "}", limit)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(item, 60) for item in value[:8])
        more = ", ..." if len(value) > 8 else ""
        kind = "list" if isinstance(value, list) else "tuple"
        return _short(f"a {kind} of {len(value)}: [{inner}{more}]", limit)
    if isinstance(value, dict):
        inner = ", ".join(f"{describe(key, 30)}: {describe(item, 60)}"
                          for key, item in list(value.items())[:8])
        more = ", ..." if len(value) > 8 else ""
        return _short("{" + inner + more + "}", limit)
    return _short(f"a {type(value).__name__}", limit)


def _as_array(value: Any) -> np.ndarray | None:
    """``value`` as an array, or ``None`` if it cannot be one (ragged list, error...)."""
    if isinstance(value, (ProducedError, Unsupported)) or value is None:
        return None
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - ragged lists and odd objects are simply "not arrays"
        return None
    return None if array.dtype.kind == "O" else array


def _normalise(value: Any) -> Any:
    """Python-native, hashable-friendly form: arrays/tuples -> lists, NumPy scalars -> numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    if isinstance(value, dict):
        return {_hashable(key): _normalise(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return {_hashable(item) for item in value}
    return value


def _hashable(value: Any) -> Any:
    value = _normalise(value)
    return tuple(_hashable(item) for item in value) if isinstance(value, list) else value


# ---------------------------------------------------------------------------------------
# The comparators
# ---------------------------------------------------------------------------------------
_KINDS: dict[str, type[Comparator]] = {}


@dataclass(frozen=True)
class Comparator:
    """Base class: a named, parameterised comparison that can be stored as data."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _KINDS[cls.kind] = cls

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        raise NotImplementedError

    def spec(self) -> dict:
        """This comparator as JSON-able data; :func:`from_spec` rebuilds it."""
        params = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Comparator):
                value = value.spec()
            elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
                value = [[key, item.spec()] for key, item in value]
            params[field.name] = value
        return {"kind": self.kind, "params": params}


def from_spec(spec: dict) -> Comparator:
    """Rebuild a comparator from :meth:`Comparator.spec` data."""
    kind = spec["kind"]
    if kind not in _KINDS:
        raise ValueError(f"unknown comparison '{kind}'; this chdml is too old for these checks")
    cls = _KINDS[kind]
    params = {}
    for name, value in spec["params"].items():
        if isinstance(value, dict) and "kind" in value:
            value = from_spec(value)
        elif isinstance(value, list) and value and isinstance(value[0], list):
            value = tuple((key, from_spec(item)) for key, item in value)
        elif isinstance(value, list):
            value = tuple(value)
        params[name] = value
    return cls(**params)


def _failed_value(got: Any, expected_words: str) -> Verdict | None:
    """A verdict for values that can never pass (errors, ``None``...), else ``None``."""
    if isinstance(got, (ProducedError, Unsupported)) or got is None:
        return Verdict(False, expected_words, describe(got))
    return None


@dataclass(frozen=True)
class Arrays(Comparator):
    """Numbers or arrays equal within ``|got - expected| <= atol + rtol * |expected|``.

    Shapes must match exactly (a 0-d array and a Python number are the same shape). NaN
    equals NaN. Integer, boolean and float results are all compared as numbers.
    """

    kind: ClassVar[str] = "arrays"
    atol: float = 1e-6
    rtol: float = 1e-5

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        expected_array = np.asarray(expected)
        expected_words = describe(expected)
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        got_array = _as_array(got)
        if got_array is None or got_array.dtype.kind not in "biuf":
            return Verdict(False, expected_words, describe(got) + " (not numbers)")
        if got_array.shape != expected_array.shape:
            return Verdict(False, f"shape {expected_array.shape}: {expected_words}",
                           f"shape {got_array.shape}: {describe(got)}")
        got64 = got_array.astype(np.float64)
        expected64 = expected_array.astype(np.float64)
        close = np.isclose(got64, expected64, atol=self.atol, rtol=self.rtol, equal_nan=True)
        if bool(np.all(close)):
            return Verdict(True, expected_words, describe(got))
        wrong = np.argwhere(~close) if close.ndim else np.zeros((1, 0), dtype=int)
        where = tuple(int(i) for i in wrong[0])
        if not where:
            return Verdict(False, expected_words, describe(got))
        detail = (f"{int(np.size(close) - np.count_nonzero(close))} of {np.size(close)} values "
                  f"differ; e.g. at index {where}: expected {expected64[where]:.6g}, "
                  f"got {got64[where]:.6g}")
        return Verdict(False, expected_words, f"{describe(got)} ({detail})")


def arrays(atol: float = 1e-6, rtol: float = 1e-5) -> Arrays:
    """Numbers or arrays equal within a tolerance (see :class:`Arrays`)."""
    return Arrays(atol=atol, rtol=rtol)


number = arrays
"""Alias of :func:`arrays` that reads better for a single number."""


@dataclass(frozen=True)
class Exact(Comparator):
    """Exactly equal after normalisation (lists/tuples/arrays alike; NumPy scalars as numbers)."""

    kind: ClassVar[str] = "exact"

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        expected_words = describe(expected)
        if isinstance(got, (ProducedError, Unsupported)):
            return Verdict(False, expected_words, describe(got))
        passed = _normalise(got) == _normalise(expected)
        return Verdict(bool(passed), expected_words, describe(got))


def exact() -> Exact:
    """Exactly equal values: strings, integers, booleans, lists of them (see :class:`Exact`)."""
    return Exact()


@dataclass(frozen=True)
class Sets(Comparator):
    """The same elements, in any order and with any repetition (list, array or set)."""

    kind: ClassVar[str] = "sets"

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        expected_set = _as_set(expected)
        expected_words = describe(expected_set)
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        got_set = _as_set(got)
        if got_set is None:
            return Verdict(False, expected_words, describe(got) + " (not a collection)")
        if got_set == expected_set:
            return Verdict(True, expected_words, describe(got_set))
        notes = []
        if missing := expected_set - got_set:
            notes.append(f"missing {describe(missing, 120)}")
        if extra := got_set - expected_set:
            notes.append(f"not expected {describe(extra, 120)}")
        return Verdict(False, expected_words, f"{describe(got_set)} ({'; '.join(notes)})")


def _as_set(value: Any) -> set | None:
    if isinstance(value, np.ndarray):
        return {_hashable(item) for item in value.ravel().tolist()}
    if isinstance(value, (list, tuple, set, frozenset)):
        try:
            return {_hashable(item) for item in value}
        except TypeError:
            return None
    return None


def sets() -> Sets:
    """Same elements regardless of order or repetition (see :class:`Sets`)."""
    return Sets()


@dataclass(frozen=True)
class Dicts(Comparator):
    """A dict with exactly the expected keys; each value judged by its own comparator.

    ``default`` judges every key not named in ``per_key`` (pairs of key name and
    comparator, given as keyword arguments to :func:`dicts`).
    """

    kind: ClassVar[str] = "dicts"
    default: Comparator = dataclasses.field(default_factory=Exact)
    per_key: tuple = ()

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        expected = {_hashable(key): item for key, item in expected.items()}
        expected_words = describe(expected)
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        if not isinstance(got, dict):
            return Verdict(False, expected_words, describe(got) + " (not a dict)")
        got = {_hashable(key): item for key, item in got.items()}
        notes = []
        if missing := set(expected) - set(got):
            notes.append(f"missing keys {describe(missing, 120)}")
        if extra := set(got) - set(expected):
            notes.append(f"keys not expected {describe(extra, 120)}")
        named = dict(self.per_key)
        for key in sorted(set(expected) & set(got), key=repr):
            judge = named.get(str(key), self.default)
            verdict = judge(got[key], expected[key], inputs)
            if not verdict.passed:
                notes.append(f"for {describe(key, 40)}: expected {verdict.expected}, "
                             f"got {verdict.got}")
        if notes:
            return Verdict(False, expected_words, f"{describe(got)} ({'; '.join(notes)})")
        return Verdict(True, expected_words, describe(got))


def dicts(default: Comparator | None = None, **per_key: Comparator) -> Dicts:
    """A dict compared key by key (see :class:`Dicts`).

    Example:
        >>> compare.dicts(default=compare.exact(), mean=compare.number(atol=1e-3))
    """
    return Dicts(default=default or Exact(), per_key=tuple(sorted(per_key.items())))


@dataclass(frozen=True)
class KerasModel(Comparator):
    """Two model descriptions (from :func:`chdml.grading.producers.describe`) agree.

    Compared: the output shape (batch dimension ignored), the number of parameters, the
    kinds of layers in order (``InputLayer`` never counts, so ``Sequential`` with or without
    ``keras.Input`` and the functional API all pass) and a forward pass on a seeded input
    with seeded weights, within ``atol``/``rtol``. Layer kinds listed in ``ignore_kinds``
    (e.g. ``"Dropout"``) are left out of the kinds comparison.
    """

    kind: ClassVar[str] = "keras_model"
    atol: float = 1e-4
    rtol: float = 1e-3
    ignore_kinds: tuple = ()

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        expected_words = _describe_model(expected, self.ignore_kinds)
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        needed = {"output_shape", "param_count", "layer_kinds", "forward"}
        if not isinstance(got, dict) or not needed <= set(got):
            return Verdict(False, expected_words, describe(got) + " (not a Keras model)")
        got_words = _describe_model(got, self.ignore_kinds)
        problems = []
        if list(got["output_shape"])[1:] != list(expected["output_shape"])[1:]:
            problems.append(f"output shape {_shape(got['output_shape'])} instead of "
                            f"{_shape(expected['output_shape'])}")
        if int(got["param_count"]) != int(expected["param_count"]):
            problems.append(f"{got['param_count']} parameters instead of "
                            f"{expected['param_count']}")
        got_kinds = _kinds(got, self.ignore_kinds)
        expected_kinds = _kinds(expected, self.ignore_kinds)
        if got_kinds != expected_kinds:
            problems.append(f"layers {', '.join(got_kinds) or 'none'} instead of "
                            f"{', '.join(expected_kinds)}")
        if not problems:
            same = Arrays(atol=self.atol, rtol=self.rtol)(got["forward"], expected["forward"],
                                                          inputs)
            if not same.passed:
                problems.append("different outputs for the same input and weights "
                                "(check activations and the order of layers)")
        if problems:
            return Verdict(False, expected_words, f"{got_words} ({'; '.join(problems)})")
        return Verdict(True, expected_words, got_words)


def _shape(shape: Any) -> str:
    return "(" + ", ".join("None" if size is None else str(size) for size in shape) + ")"


def _kinds(description: dict, ignore: tuple) -> list[str]:
    return [kind for kind in description["layer_kinds"] if kind not in ignore]


def _describe_model(description: Any, ignore: tuple) -> str:
    if not isinstance(description, dict) or "layer_kinds" not in description:
        return describe(description)
    return (f"a model with layers {', '.join(_kinds(description, ignore))}, output shape "
            f"{_shape(description['output_shape'])}, {description['param_count']} parameters")


def keras_model(atol: float = 1e-4, rtol: float = 1e-3,
                ignore_kinds: tuple[str, ...] = ()) -> KerasModel:
    """Keras model descriptions agree (see :class:`KerasModel`)."""
    return KerasModel(atol=atol, rtol=rtol, ignore_kinds=tuple(ignore_kinds))


# ---------------------------------------------------------------------------------------
# Trained models: a score computed here from the student's predictions and the true labels
# ---------------------------------------------------------------------------------------
def _labels_from_predictions(predictions: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Turn scores into labels: argmax over a trailing class axis, or threshold 0.5.

    ``predictions`` may already be labels (same shape as ``truth``, integer dtype), class
    scores with one more trailing axis than ``truth`` (softmax output), or a single
    trailing unit (sigmoid output, thresholded at 0.5).
    """
    if predictions.ndim == truth.ndim + 1:
        if predictions.shape[-1] == 1:
            return (predictions[..., 0] > 0.5).astype(np.int64)
        return np.argmax(predictions, axis=-1)
    if predictions.shape == truth.shape and predictions.dtype.kind == "f":
        if np.all((predictions >= 0) & (predictions <= 1)) and truth.max(initial=0) <= 1:
            return (predictions > 0.5).astype(np.int64)
        return np.rint(predictions).astype(np.int64)
    return predictions.astype(np.int64)


def accuracy(predictions: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of samples whose predicted label equals the true label."""
    labels = _labels_from_predictions(np.asarray(predictions), np.asarray(truth))
    return float(np.mean(labels == np.asarray(truth)))


def dice(predictions: np.ndarray, truth: np.ndarray) -> float:
    """Mean Dice over the foreground labels present in truth or prediction (pooled).

    Label 0 is background. Dice of a label is ``2|P and T| / (|P| + |T|)``; when neither
    truth nor prediction contains any foreground, the result is 1.0 (empty-mask convention).
    """
    truth = np.asarray(truth)
    labels = _labels_from_predictions(np.asarray(predictions), truth)
    classes = sorted((set(np.unique(truth).tolist()) | set(np.unique(labels).tolist())) - {0})
    if not classes:
        return 1.0
    scores = []
    for label in classes:
        predicted, true = labels == label, truth == label
        scores.append(2.0 * np.count_nonzero(predicted & true)
                      / (np.count_nonzero(predicted) + np.count_nonzero(true)))
    return float(np.mean(scores))


METRICS = {"accuracy": accuracy, "dice": dice}


@dataclass(frozen=True)
class ScoreAtLeast(Comparator):
    """A trained model's predictions reach at least ``floor`` on ``metric``.

    ``got`` is the student's predictions (labels, softmax scores or sigmoid scores),
    ``expected`` the true labels (computed by the grader; hidden labels never reach the
    student's kernel). ``metric`` is one of :data:`METRICS` (``"accuracy"``, ``"dice"``).
    """

    kind: ClassVar[str] = "score_at_least"
    metric: str = "accuracy"
    floor: float = 0.5

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        expected_words = f"{self.metric} of at least {self.floor:.2f}"
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        predictions, truth = _as_array(got), np.asarray(expected)
        if predictions is None or predictions.dtype.kind not in "biuf":
            return Verdict(False, expected_words, describe(got) + " (not predictions)")
        if predictions.shape[:1] != truth.shape[:1] or predictions.ndim < truth.ndim:
            return Verdict(False, expected_words,
                           f"predictions of shape {predictions.shape} for "
                           f"{truth.shape[0]} samples with labels of shape {truth.shape}")
        try:
            score = METRICS[self.metric](predictions, truth)
        except ValueError as exc:
            return Verdict(False, expected_words, f"predictions that cannot be scored: {exc}")
        if math.isnan(score):
            return Verdict(False, expected_words, f"{self.metric} NaN")
        return Verdict(score >= self.floor, expected_words, f"{self.metric} {score:.3f}")


def score_at_least(metric: str, floor: float) -> ScoreAtLeast:
    """Predictions score at least ``floor`` (see :class:`ScoreAtLeast`)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric '{metric}'; choose one of {sorted(METRICS)}")
    return ScoreAtLeast(metric=metric, floor=float(floor))


# ---------------------------------------------------------------------------------------
# Added for workshop 1 (w1 helper): a loss curve that goes down, and epochs of batches.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decreasing(Comparator):
    """A training curve (``got[key]`` of a history dict, or a plain list) goes down.

    Passes when the curve has at least two epochs, every value is finite, and the last
    value is at most ``1 - min_drop`` times the first (``min_drop=0.5``: the loss at least
    halves). ``expected`` is not used: the rule is the same for every case.
    """

    kind: ClassVar[str] = "decreasing"
    key: str = "loss"
    min_drop: float = 0.5

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        expected_words = (f"a '{self.key}' curve of at least 2 epochs, all values finite, "
                          f"ending at most {100 * (1 - self.min_drop):.0f}% of its first value")
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        if isinstance(got, dict):
            if self.key not in got:
                return Verdict(False, expected_words,
                               f"a history with {describe(sorted(got), 120)} but no "
                               f"'{self.key}' (did you compile with a loss?)")
            got = got[self.key]
        values = _as_array(got)
        if values is None or values.dtype.kind not in "biuf" or values.ndim != 1:
            return Verdict(False, expected_words, describe(got) + " (not a list of numbers)")
        curve = ", ".join(f"{value:.4g}" for value in values[:6]) + \
            (", ..." if len(values) > 6 else "")
        got_words = f"{len(values)} epoch(s): [{curve}]"
        if len(values) < 2:
            return Verdict(False, expected_words, got_words + " (train for more epochs)")
        bad = np.flatnonzero(~np.isfinite(values.astype(np.float64)))
        if bad.size:
            return Verdict(False, expected_words,
                           f"{got_words} (not a number from epoch {int(bad[0]) + 1} on: the "
                           "learning rate may be too high)")
        first, last = float(values[0]), float(values[-1])
        if last > (1 - self.min_drop) * first:
            return Verdict(False, expected_words,
                           f"{got_words} (from {first:.4g} to {last:.4g}: not low enough)")
        return Verdict(True, expected_words, got_words)


def decreasing(key: str = "loss", min_drop: float = 0.5) -> Decreasing:
    """A history's ``key`` curve falls by at least ``min_drop`` (see :class:`Decreasing`)."""
    if not 0 <= min_drop < 1:
        raise ValueError(f"min_drop must be in [0, 1), got {min_drop}")
    return Decreasing(key=key, min_drop=float(min_drop))


@dataclass(frozen=True)
class EpochsOfBatches(Comparator):
    """Epochs from a batch iterator (produced by ``producers.call_each``) are right.

    ``inputs["calls"]`` lists the calls ``[images, labels, batch_size, shuffle, seed]``;
    ``got`` has one result per call (a list of ``(image_batch, label_batch)`` pairs);
    ``expected`` the reference's batch sizes per call, e.g. ``[[5, 5, 3], [5, 5, 3]]``.
    Judged for each call: every batch is a pair of images and their own labels (samples
    are recognised by their image, so the input images must be distinct); the batch
    sizes are the expected ones (full batches, then the last partial batch, kept); every
    sample appears exactly once; without shuffling, samples come in their stored order;
    with shuffling (10 or more samples) not. Between calls: the same seed gives the same
    order, different seeds different orders (10 or more samples). Any seeded shuffle
    passes: the order itself is not compared with the reference's.
    """

    kind: ClassVar[str] = "epochs_of_batches"
    min_shuffled: int = 10

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        calls = inputs["calls"]
        expected_words = "; ".join(
            f"epoch {k + 1}: batches of {list(sizes)} samples, every sample once"
            + (", shuffled with seed " + str(call[4]) if call[3] else ", stored order")
            for k, (call, sizes) in enumerate(zip(calls, expected)))
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        if not isinstance(got, list) or len(got) != len(calls):
            return Verdict(False, expected_words, describe(got) + " (not one epoch per call)")
        orders, words, problems = [], [], []
        for k, (call, run, sizes) in enumerate(zip(calls, got, expected)):
            order, run_words, run_problems = self._epoch(call, run, list(sizes))
            orders.append(order)
            words.append(f"epoch {k + 1}: {run_words}")
            problems += [f"epoch {k + 1}: {problem}" for problem in run_problems]
        for k in range(len(calls)):
            for j in range(k + 1, len(calls)):
                problem = self._pair(calls[k], calls[j], orders[k], orders[j])
                if problem:
                    problems.append(f"epochs {k + 1} and {j + 1}: {problem}")
        got_words = "; ".join(words)
        if problems:
            return Verdict(False, expected_words, f"{got_words} ({'; '.join(problems[:4])})")
        return Verdict(True, expected_words, got_words)

    def _epoch(self, call: list, run: Any, sizes: list) -> tuple[list | None, str, list]:
        """(order of sample numbers or None, what came back in words, problems)."""
        images, labels, _batch_size, shuffle, _seed = call
        images, labels = np.asarray(images), np.asarray(labels)
        if not isinstance(run, list):
            return None, describe(run, 80), ["not a list of batches (did you `yield` or "
                                             "`return` the batches?)"]
        index = {images[i].astype(np.float64).tobytes(): i for i in range(len(images))}
        order, got_sizes = [], []
        for b, batch in enumerate(run):
            if not isinstance(batch, list) or len(batch) != 2:
                return None, f"{len(run)} batches", [
                    f"batch {b + 1} is {describe(batch, 60)}, not a pair (images, labels)"]
            image_batch, label_batch = _as_array(batch[0]), _as_array(batch[1])
            if (image_batch is None or label_batch is None or image_batch.ndim == 0
                    or image_batch.shape[1:] != images.shape[1:]
                    or len(image_batch) != len(label_batch)):
                return None, f"{len(run)} batches", [
                    f"batch {b + 1} is not a pair (images, labels) of the same length with "
                    f"images shaped like the input images {images.shape[1:]}"]
            try:
                numbers = [index[image.astype(np.float64).tobytes()] for image in image_batch]
            except KeyError:
                return None, f"{len(run)} batches", [
                    f"batch {b + 1} holds images that are not in the data"]
            if not np.array_equal(label_batch, labels[numbers]):
                return None, f"{len(run)} batches", [
                    f"in batch {b + 1} the labels do not belong to their images (shuffle "
                    "images and labels with the same order)"]
            order += numbers
            got_sizes.append(len(numbers))
        words = f"batches of {got_sizes} samples"
        problems = []
        n_samples = len(images)
        if got_sizes != sizes:
            full = [size for size in sizes if size == sizes[0]] if sizes else []
            if got_sizes == full and len(sizes) == len(full) + 1:
                problems.append(f"the last, partial batch of {sizes[-1]} samples is missing")
            else:
                problems.append(f"batch sizes {got_sizes} instead of {sizes}")
        counts = np.bincount(np.asarray(order, dtype=np.int64), minlength=n_samples) \
            if order else np.zeros(n_samples, dtype=np.int64)
        if np.any(counts != 1):
            missing, repeated = np.flatnonzero(counts == 0), np.flatnonzero(counts > 1)
            if missing.size:
                problems.append(f"{missing.size} sample(s) never seen")
            if repeated.size:
                problems.append(f"{repeated.size} sample(s) seen more than once")
        elif not shuffle and order != list(range(n_samples)):
            problems.append("without shuffling the samples should come in their stored order")
        elif shuffle and n_samples >= self.min_shuffled and order == list(range(n_samples)):
            problems.append("the samples were not shuffled")
        return order, words, problems

    def _pair(self, first: list, second: list, order_1: list | None,
              order_2: list | None) -> str:
        """A problem between two epochs on the same data, or ``""``."""
        if order_1 is None or order_2 is None or not (first[3] and second[3]):
            return ""
        same_data = np.array_equal(np.asarray(first[0]), np.asarray(second[0]))
        if not same_data:
            return ""
        if first[4] == second[4] and order_1 != order_2:
            return (f"the same seed ({first[4]}) gave two different orders (make the shuffle "
                    "depend on the seed only, e.g. np.random.default_rng(seed))")
        if first[4] != second[4] and order_1 == order_2 and len(order_1) >= self.min_shuffled:
            return (f"seeds {first[4]} and {second[4]} gave the same order (use the seed "
                    "argument)")
        return ""


def epochs_of_batches(min_shuffled: int = 10) -> EpochsOfBatches:
    """Epochs of a batch iterator are complete, correctly batched and seeded
    (see :class:`EpochsOfBatches`)."""
    return EpochsOfBatches(min_shuffled=int(min_shuffled))
