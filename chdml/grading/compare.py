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


# =======================================================================================
# Workshop 4 (segmentation): per-structure Dice floors for a trained segmentation model.
# Added by the workshop-4 author; used by autograder/workshop4/segmentation.py.
# Tests: tests/grading/test_compare_workshop4.py.
# =======================================================================================
def dice_of_label(labels: np.ndarray, truth: np.ndarray, label: int) -> float:
    """Dice of one label over all pixels of a set of label maps (pooled); 1.0 if absent
    from both (the empty-mask convention of :func:`chdml.metrics.dice`)."""
    predicted, true = labels == label, truth == label
    total = np.count_nonzero(predicted) + np.count_nonzero(true)
    if total == 0:
        return 1.0
    return float(2.0 * np.count_nonzero(predicted & true) / total)


@dataclass(frozen=True)
class DicePerStructureAtLeast(Comparator):
    """A segmentation model's predictions reach a Dice floor for each structure.

    ``got`` is the student's predictions for a set of slices (label maps ``(N, H, W)``,
    or softmax scores ``(N, H, W, classes)`` turned into labels by argmax), ``expected``
    the true label maps (computed by the grader; hidden masks never reach the student's
    kernel). ``structures``, ``labels`` and ``floors`` are parallel tuples, e.g.
    ``("LV", "MYO", "RV")``, ``(1, 2, 3)``, ``(0.8, 0.6, 0.7)``. When the case's inputs
    name one structure under ``"structure"`` only that structure is judged (so each
    structure can carry its own points); otherwise every structure must reach its floor.
    Dice is pooled over all pixels of all slices, per structure.
    """

    kind: ClassVar[str] = "dice_per_structure_at_least"
    structures: tuple = ()
    labels: tuple = ()
    floors: tuple = ()

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        chosen = [index for index, name in enumerate(self.structures)
                  if inputs.get("structure") in (None, "all", name)]
        expected_words = ", ".join(f"{self.structures[i]} Dice of at least "
                                   f"{self.floors[i]:.2f}" for i in chosen)
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        predictions, truth = _as_array(got), np.asarray(expected)
        if predictions is None or predictions.dtype.kind not in "biuf":
            return Verdict(False, expected_words, describe(got) + " (not predictions)")
        if predictions.shape[: truth.ndim] != truth.shape or predictions.ndim > truth.ndim + 1:
            return Verdict(False, expected_words,
                           f"predictions of shape {predictions.shape} for label maps of "
                           f"shape {truth.shape} (expected {truth.shape} or "
                           f"{truth.shape + (len(self.labels) + 1,)})")
        if not np.all(np.isfinite(predictions)):
            return Verdict(False, expected_words, "predictions with NaN or infinite values")
        labels = _labels_from_predictions(predictions, truth)
        scores = {self.structures[i]: dice_of_label(labels, truth, self.labels[i])
                  for i in chosen}
        passed = all(scores[self.structures[i]] >= self.floors[i] for i in chosen)
        return Verdict(passed, expected_words,
                       ", ".join(f"{name} Dice {score:.3f}" for name, score in scores.items()))


def dice_per_structure_at_least(**floors: tuple[int, float]) -> DicePerStructureAtLeast:
    """Per-structure Dice floors (see :class:`DicePerStructureAtLeast`).

    Example:
        >>> compare.dice_per_structure_at_least(LV=(1, 0.8), MYO=(2, 0.6), RV=(3, 0.7))
    """
    names = tuple(floors)
    return DicePerStructureAtLeast(structures=names,
                                   labels=tuple(int(floors[name][0]) for name in names),
                                   floors=tuple(float(floors[name][1]) for name in names))


# =======================================================================================
# Workshop 2 additions (owner: w2): NIfTI volumes, de-identified DICOM, patient splits.
# Kept here, at the end, so the grading helper can merge them.
# =======================================================================================
def _mm(values: Any) -> str:
    return " x ".join(f"{float(v):.4g}" for v in np.asarray(values, dtype=float).ravel()) + " mm"


def _dtype_matches(dtype: np.dtype, wanted: str | None) -> bool:
    """``wanted`` is an exact dtype name (``"uint8"``), ``"float"``, ``"integer"`` or None."""
    if wanted is None:
        return True
    if wanted == "float":
        return dtype.kind == "f"
    if wanted == "integer":
        return dtype.kind in "iu"
    return dtype == np.dtype(wanted)


def _dtype_words(wanted: str | None) -> str:
    return {"float": "floating-point", "integer": "whole-number (integer)",
            None: ""}.get(wanted, str(wanted))


def read_nifti_record(record: dict) -> dict:
    """Parse a NIfTI file record ``{"name", "bytes"}`` (``.nii`` or ``.nii.gz`` bytes).

    Returns ``{"array", "dtype", "spacing", "affine", "raw"}``: the voxel values as stored
    (with the header's scaling applied, in the file's own axis order), the on-disk data
    type, the voxel size (first three header zooms), the affine and the uncompressed
    bytes (for searching text). Raises ``ValueError`` if the bytes are not NIfTI.
    """
    import gzip

    import nibabel as nib

    content = np.asarray(record["bytes"], dtype=np.uint8).tobytes()
    if content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError) as exc:
            raise ValueError(f"a damaged .gz file ({exc})") from None
    try:
        image = nib.Nifti1Image.from_bytes(content)
    except Exception as exc:  # noqa: BLE001 - nibabel raises many kinds on bad bytes
        try:
            image = nib.Nifti2Image.from_bytes(content)
        except Exception:  # noqa: BLE001
            raise ValueError(f"not a NIfTI file ({type(exc).__name__}: {exc})") from None
    array = np.asanyarray(image.dataobj)
    zooms = tuple(float(z) for z in image.header.get_zooms()[:3])
    return {"array": array, "dtype": np.dtype(image.header.get_data_dtype()),
            "spacing": zooms, "affine": np.asarray(image.affine, dtype=float), "raw": content}


def _volume_from(got: Any) -> dict:
    """The student's volume as ``{"array", "dtype", "spacing", "affine", "raw"}``.

    ``got`` is a NIfTI file record, a dict with ``array``/``spacing``/``affine`` keys, or
    a sequence ``(array, spacing[, affine])``. Raises ``ValueError`` with words if not.
    """
    if isinstance(got, dict) and "bytes" in got:
        return read_nifti_record(got)
    if isinstance(got, dict):
        parts = [got.get(key) for key in ("array", "spacing", "affine")]
        if parts[0] is None:
            raise ValueError("a dict without an 'array' key")
    elif isinstance(got, (list, tuple)) and len(got) in (2, 3):
        parts = list(got) + [None] * (3 - len(got))
    else:
        raise ValueError("not (array, spacing, affine)")
    array = _as_array(parts[0])
    if array is None or array.dtype.kind not in "biuf":
        raise ValueError("the array part is not an array of numbers")
    spacing = _as_array(parts[1]) if parts[1] is not None else None
    affine = _as_array(parts[2]) if parts[2] is not None else None
    return {"array": array, "dtype": array.dtype, "spacing": spacing, "affine": affine,
            "raw": None}


@dataclass(frozen=True)
class VolumeMatch(Comparator):
    """A volume (a NIfTI file the student wrote, or what the student's reader returned)
    equals the expected one: values, data type, voxel spacing, affine, no forbidden text.

    ``expected`` is a dict: ``array`` (values, in the file's own axis order), ``dtype``
    (an exact name such as ``"uint8"``, or ``"float"`` / ``"integer"`` for any type of
    that kind, or None), ``spacing`` (mm), ``affine`` (4x4, or None to skip) and, for
    files, ``forbidden``: strings (patient names, IDs, dates) that must not appear
    anywhere in the uncompressed file, case-insensitive.

    ``got`` is a NIfTI file record (see :func:`chdml.grading.producers.file_record`), a
    dict with ``array``/``spacing``/``affine`` keys, or ``(array, spacing, affine)``.
    Values are compared within ``atol``/``rtol``, geometry within ``geometry_atol`` mm.
    """

    kind: ClassVar[str] = "volume"
    atol: float = 1e-4
    rtol: float = 1e-5
    geometry_atol: float = 1e-3

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        want_array = np.asarray(expected["array"])
        wanted_dtype = expected.get("dtype")
        words = f"a volume of shape {want_array.shape}"
        if wanted_dtype:
            words += f" ({_dtype_words(wanted_dtype)} values)"
        if expected.get("spacing") is not None:
            words += f", spacing {_mm(expected['spacing'])}"
        if expected.get("affine") is not None:
            words += ", the original affine"
        if expected.get("forbidden"):
            words += ", no patient identifiers in the file"
        if (verdict := _failed_value(got, words)) is not None:
            return verdict
        try:
            volume = _volume_from(got)
        except ValueError as exc:
            return Verdict(False, words, f"{describe(got, 200)} ({exc})")
        array = volume["array"]
        got_words = f"a volume of shape {array.shape} ({volume['dtype']} values)"
        if volume["spacing"] is not None:
            got_words += f", spacing {_mm(volume['spacing'])}"
        problems = []
        if array.shape != want_array.shape:
            problems.append(f"shape {array.shape} instead of {want_array.shape}")
        else:
            close = np.isclose(array.astype(np.float64), want_array.astype(np.float64),
                               atol=self.atol, rtol=self.rtol, equal_nan=True)
            if not close.all():
                where = tuple(int(i) for i in np.argwhere(~close)[0])
                problems.append(f"{int((~close).sum())} of {close.size} values differ, e.g. "
                                f"at {where}: {float(array[where]):.6g} instead of "
                                f"{float(want_array[where]):.6g}")
        if not _dtype_matches(np.dtype(volume["dtype"]), wanted_dtype):
            problems.append(f"data type {volume['dtype']} instead of "
                            f"{_dtype_words(wanted_dtype)}")
        for key, label in (("spacing", "spacing"), ("affine", "affine")):
            want = expected.get(key)
            if want is None:
                continue
            have = volume[key]
            want = np.asarray(want, dtype=float)
            if have is None or np.asarray(have).shape != want.shape:
                problems.append(f"no {label} of shape {want.shape}"
                                + ("" if have is None else f" (got shape {np.asarray(have).shape})"))
            elif not np.allclose(np.asarray(have, dtype=float), want, atol=self.geometry_atol):
                shown = _mm(have) if key == "spacing" else np.array2string(
                    np.asarray(have, dtype=float), precision=3, suppress_small=True)
                problems.append(f"{label} {shown} instead of "
                                + (_mm(want) if key == "spacing" else np.array2string(
                                    want, precision=3, suppress_small=True)))
        raw = volume["raw"]
        if raw is not None:
            lowered = raw.lower()
            found = [text for text in expected.get("forbidden") or []
                     if text and str(text).lower().encode("utf-8", "ignore") in lowered]
            if found:
                problems.append("the file still contains patient identifiers: "
                                + ", ".join(repr(text) for text in found))
        if problems:
            return Verdict(False, words, f"{got_words} ({'; '.join(problems)})")
        return Verdict(True, words, got_words)


def volume(atol: float = 1e-4, rtol: float = 1e-5, geometry_atol: float = 1e-3) -> VolumeMatch:
    """A volume or NIfTI file equals the expected one (see :class:`VolumeMatch`)."""
    return VolumeMatch(atol=atol, rtol=rtol, geometry_atol=geometry_atol)


@dataclass(frozen=True)
class DicomDeidentified(Comparator):
    """A DICOM file (bytes) has no identifying element left and keeps what is needed.

    Identifying elements are found by :func:`chdml.data.dicom.find_identifying` (names,
    IDs, birth date, dates, times, person names, institutions, device serials, private
    tags; also inside sequences). ``expected`` is ``{"kept": {keyword: value as text},
    "pixel_sha256": hex digest of PixelData}``: the elements that must survive unchanged
    (geometry, modality, pixel data), so deleting everything does not pass.
    """

    kind: ClassVar[str] = "dicom_deidentified"

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        import hashlib
        import io

        import pydicom

        from chdml.data.dicom import find_identifying

        kept = dict(expected.get("kept") or {})
        words = ("a DICOM dataset without identifying elements that still has "
                 + ", ".join(sorted(kept) + ["PixelData"]))
        if (verdict := _failed_value(got, words)) is not None:
            return verdict
        if not (isinstance(got, dict) and "bytes" in got):
            return Verdict(False, words, describe(got, 200) + " (not a DICOM dataset)")
        try:
            dataset = pydicom.dcmread(io.BytesIO(np.asarray(got["bytes"], np.uint8).tobytes()),
                                      force=True)
            left = find_identifying(dataset)
        except Exception as exc:  # noqa: BLE001 - unreadable DICOM is just a failure
            return Verdict(False, words, f"a file that is not readable DICOM ({exc})")
        problems = []
        if left:
            problems.append("identifying elements left: " + ", ".join(dict.fromkeys(left)))
        missing = [key for key in sorted(kept) if key not in dataset]
        changed = [key for key in sorted(kept)
                   if key in dataset and str(dataset.data_element(key).value) != kept[key]]
        if missing:
            problems.append("removed elements that are needed: " + ", ".join(missing))
        if changed:
            problems.append("changed elements that must stay: " + ", ".join(changed))
        pixels = dataset.get("PixelData")
        if pixels is None:
            problems.append("the pixel data is gone")
        elif hashlib.sha256(bytes(pixels)).hexdigest() != expected.get("pixel_sha256"):
            problems.append("the pixel data changed")
        got_words = f"a DICOM dataset with {len(dataset)} elements"
        if problems:
            return Verdict(False, words, f"{got_words} ({'; '.join(problems)})")
        return Verdict(True, words, got_words + ", none identifying")


def dicom_deidentified() -> DicomDeidentified:
    """A de-identified DICOM dataset that keeps what is needed (see :class:`DicomDeidentified`)."""
    return DicomDeidentified()


SPLIT_NAMES = ("train", "validation", "test")


def _split_indices(got: Any, n_items: int) -> list[np.ndarray]:
    """Three integer index arrays from a 3-sequence or a train/validation/test dict."""
    if isinstance(got, dict):
        if set(got) != set(SPLIT_NAMES):
            raise ValueError(f"a dict with keys {sorted(map(str, got))} instead of "
                             "'train', 'validation', 'test'")
        parts = [got[name] for name in SPLIT_NAMES]
    elif isinstance(got, (list, tuple)) and len(got) == 3:
        parts = list(got)
    else:
        raise ValueError("not three sets of indices (train, validation, test)")
    indices = []
    for name, part in zip(SPLIT_NAMES, parts):
        array = _as_array(part)
        if array is None or (array.size and array.dtype.kind not in "iu"):
            if array is not None and array.dtype.kind == "b" and array.size == n_items:
                array = np.flatnonzero(array)
            else:
                raise ValueError(f"the {name} set is not a list of item indices (whole "
                                 "numbers)")
        indices.append(array.astype(np.int64).ravel())
    return indices


@dataclass(frozen=True)
class PatientSplitCheck(Comparator):
    """A train/validation/test split of items (slices, images) is by patient and stratified.

    ``inputs`` holds ``patients`` (one id per item), ``labels`` (one class per item) and
    ``fractions`` (train, validation, test). ``got`` is three arrays of item indices
    (or a dict with keys train/validation/test; boolean masks are accepted too). It passes
    when every item is in exactly one set; no patient has items in two sets; each set holds
    its fraction of the *patients* within ``fraction_tolerance`` (plus one patient per
    class, for rounding); and in every set each class's share of patients (a patient's
    class is its most frequent label) is within ``balance_tolerance`` (plus one patient) of
    its share among all patients. ``expected`` is the reference split's patient counts per
    set, shown as an example.
    """

    kind: ClassVar[str] = "patient_split"
    fraction_tolerance: float = 0.03
    balance_tolerance: float = 0.03

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        patients = np.asarray(inputs["patients"]).astype(str)
        labels = np.asarray(inputs["labels"]).astype(str)
        fractions = [float(f) for f in inputs["fractions"]]
        n_items = patients.size
        counts = expected.get("patients_per_set") if isinstance(expected, dict) else None
        words = (f"a split of the {len(set(patients.tolist()))} patients by patient, about "
                 + "/".join(f"{f:.0%}" for f in fractions) + " of them per set, each class "
                 "spread evenly" + (f" (e.g. {'/'.join(map(str, counts))} patients)"
                                    if counts else ""))
        if (verdict := _failed_value(got, words)) is not None:
            return verdict
        try:
            sets = _split_indices(got, n_items)
        except ValueError as exc:
            return Verdict(False, words, f"{describe(got, 200)} ({exc})")
        problems = []
        flat = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
        if flat.size and (flat.min() < 0 or flat.max() >= n_items):
            return Verdict(False, words, f"indices outside 0..{n_items - 1}")
        times = np.bincount(flat, minlength=n_items)
        if (times > 1).any():
            problems.append(f"{int((times > 1).sum())} item(s) in more than one set")
        if (times == 0).any():
            problems.append(f"{int((times == 0).sum())} item(s) in no set")
        members = [set(patients[index].tolist()) for index in sets]
        leaked = sorted(set.union(*[a & b for i, a in enumerate(members)
                                    for b in members[i + 1:]] or [set()]))
        if leaked:
            problems.append(f"{len(leaked)} patient(s) in two sets, e.g. {leaked[0]} "
                            "(split the patients, not the images)")
        patient_class = {}
        for patient in sorted(set(patients.tolist())):
            values, votes = np.unique(labels[patients == patient], return_counts=True)
            patient_class[patient] = values[np.argmax(votes)]
        n_patients = len(patient_class)
        classes = sorted(set(patient_class.values()))
        overall = {c: sum(v == c for v in patient_class.values()) / n_patients for c in classes}
        got_counts = [len(m) for m in members]
        if not problems:
            for name, fraction, group in zip(SPLIT_NAMES, fractions, members):
                share = len(group) / n_patients
                slack = self.fraction_tolerance + len(classes) / n_patients
                if abs(share - fraction) > slack:
                    problems.append(f"the {name} set has {share:.0%} of the patients instead "
                                    f"of {fraction:.0%}")
                if not group:
                    continue
                for label in classes:
                    in_set = sum(patient_class[p] == label for p in group) / len(group)
                    if abs(in_set - overall[label]) > self.balance_tolerance + 1 / len(group):
                        problems.append(f"class {label} is {in_set:.0%} of the {name} "
                                        f"patients but {overall[label]:.0%} of all patients "
                                        "(stratify by class)")
        got_words = "sets of " + "/".join(map(str, got_counts)) + " patients"
        if problems:
            return Verdict(False, words, f"{got_words} ({'; '.join(problems)})")
        return Verdict(True, words, got_words)


def patient_split(fraction_tolerance: float = 0.03, balance_tolerance: float = 0.03
                  ) -> PatientSplitCheck:
    """A split by patient, stratified by class (see :class:`PatientSplitCheck`)."""
    return PatientSplitCheck(fraction_tolerance=float(fraction_tolerance),
                             balance_tolerance=float(balance_tolerance))
# ---------------------------------------------------------------------------------------
# Added for workshop 3 (w3 helper): callbacks that keep the best epoch, and an
# augmentation that moves image and mask together.
# ---------------------------------------------------------------------------------------
def _first_best(values: list, mode: str, count: int) -> int:
    """Epoch (from 1) of the best of the first ``count`` values; first one on ties."""
    window = np.asarray(values[:max(count, 1)], dtype=np.float64)
    return int(np.argmin(window) if mode == "min" else np.argmax(window)) + 1


@dataclass(frozen=True)
class KeepsBestEpoch(Comparator):
    """Callbacks reported by ``producers.fit_with_callbacks`` keep the best epoch's weights.

    ``expected`` (the reference's settings): ``{"monitor": "val_loss", "mode": "min"}``.
    Passes when the student's callbacks include an ``EarlyStopping`` with that monitor and
    mode and ``restore_best_weights=True`` and a ``ModelCheckpoint`` with that monitor and
    mode and ``save_best_only=True``, and, in the scripted run, both the weights the model
    holds after ``fit`` and the weights in the checkpoint file are those of the best epoch
    (lowest ``inputs[val_losses]``, first on ties) among the epochs actually trained. Any
    patience is accepted: the best epoch is sought among the epochs the run lasted.
    """

    kind: ClassVar[str] = "keeps_best_epoch"
    val_losses: str = "val_losses"

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        monitor, mode = expected["monitor"], expected["mode"]
        values = list(inputs[self.val_losses])
        expected_words = (f"EarlyStopping(monitor='{monitor}', mode='{mode}', "
                          f"restore_best_weights=True) and ModelCheckpoint(monitor='{monitor}', "
                          f"mode='{mode}', save_best_only=True), keeping the weights of the "
                          f"epoch with the best {monitor}")
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        needed = {"callbacks", "epochs_run", "kept_epoch", "saved_epoch"}
        if not isinstance(got, dict) or not needed <= set(got):
            return Verdict(False, expected_words, describe(got) + " (not a training report)")
        callbacks = [item for item in got["callbacks"] if isinstance(item, dict)]
        kinds = [item.get("kind", "?") for item in callbacks]
        problems = []
        for kind, flag in (("EarlyStopping", "restore_best_weights"),
                           ("ModelCheckpoint", "save_best_only")):
            found = [item for item in callbacks if item.get("kind") == kind]
            if not found:
                problems.append(f"no {kind} callback")
                continue
            item = found[0]
            if item.get("monitor") != monitor:
                problems.append(f"{kind} watches '{item.get('monitor')}' instead of "
                                f"'{monitor}'")
            if item.get("mode") != mode:
                problems.append(f"{kind} works in mode '{item.get('mode')}' (for a loss, "
                                f"lower is better: '{mode}')")
            if not item.get(flag):
                problems.append(f"{kind} without {flag}=True")
        run = int(got["epochs_run"])
        best = _first_best(values, mode, run)
        got_words = (f"callbacks {', '.join(kinds) or 'none'}; the run lasted {run} of "
                     f"{len(values)} epochs; the model kept the weights of epoch "
                     f"{got['kept_epoch']}, the checkpoint holds epoch {got['saved_epoch']}")
        if got["kept_epoch"] != best:
            problems.append(f"after fit the model holds epoch {got['kept_epoch']}'s weights, "
                            f"not those of epoch {best}, the best of the {run} epochs trained")
        if got["saved_epoch"] is None:
            problems.append("no checkpoint file was written at checkpoint_path")
        elif got["saved_epoch"] != best:
            problems.append(f"the checkpoint holds epoch {got['saved_epoch']}, not epoch "
                            f"{best}")
        if problems:
            return Verdict(False, expected_words, f"{got_words} ({'; '.join(problems)})")
        return Verdict(True, expected_words, got_words)


def keeps_best_epoch(val_losses: str = "val_losses") -> KeepsBestEpoch:
    """Callbacks keep the best validation epoch's weights (see :class:`KeepsBestEpoch`)."""
    return KeepsBestEpoch(val_losses=val_losses)


def label_alignment(image: np.ndarray, mask: np.ndarray) -> float:
    """How well the mask's regions explain the image: between-region share of variance.

    ``eta^2 = sum_k n_k (mean_k - mean)^2 / sum (x - mean)^2`` over the *inner* pixels of
    the mask's regions (pixels whose 3 x 3 neighbourhood has one label, so that the
    smoothing of edges by interpolation does not count), grouped by label; channels are
    averaged. 1.0 when every region is uniform, near 0 when the mask has nothing to do
    with the image; 1.0 for a constant image.
    """
    values = np.asarray(image, dtype=np.float64)
    labels = np.asarray(mask)
    if values.ndim == labels.ndim + 1:
        values = values.mean(axis=-1)
    padded = np.pad(labels, 1, mode="edge")
    inner = np.ones(labels.shape, dtype=bool)
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            inner &= padded[dr:dr + labels.shape[0], dc:dc + labels.shape[1]] == labels
    if inner.sum() > 1:
        values, labels = values[inner], labels[inner]
    values, labels = values.ravel(), labels.ravel()
    total = float(np.sum((values - values.mean()) ** 2))
    if total == 0.0:
        return 1.0
    between = 0.0
    for label in np.unique(labels):
        region = values[labels == label]
        between += region.size * (region.mean() - values.mean()) ** 2
    return float(between / total)


@dataclass(frozen=True)
class AugmentationConsistent(Comparator):
    """Augmented (image, mask, label) triples keep the label and move image and mask together.

    ``inputs[calls]`` lists the calls ``[image, mask, label, seed]`` (made by
    ``producers.call_each``); ``got`` has one ``(image, mask, label)`` per call;
    ``expected`` is ``{"mask_labels": [...], "label": ...}`` from the reference. Judged for
    every call: image and mask keep their shapes; the mask holds only whole numbers that
    were labels of the input mask (nearest-neighbour, never interpolated); the label comes
    back unchanged; the image still matches the mask (:func:`label_alignment` at least
    ``min_alignment`` times the input's: geometry applied to both with one random draw).
    Between calls: the same seed gives the same triple; the seeds change the mask at least
    once and do not all give the same result.
    """

    kind: ClassVar[str] = "augmentation_consistent"
    calls: str = "calls"
    min_alignment: float = 0.8

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        calls = inputs[self.calls]
        labels = set(int(label) for label in expected["mask_labels"])
        expected_words = (f"for each of {len(calls)} seeds: (image, mask, label) with the "
                          f"shapes given, mask labels only from {sorted(labels)}, the label "
                          "unchanged, image and mask moved together; the same seed giving "
                          "the same result")
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        if not isinstance(got, list) or len(got) != len(calls):
            return Verdict(False, expected_words, describe(got) + " (not one result per call)")
        problems, masks, outputs = [], [], []
        for number, (call, result) in enumerate(zip(calls, got), start=1):
            found = self._one(call, result, labels)
            if isinstance(found, str):
                problems.append(f"seed {call[3]} (call {number}): {found}")
                masks.append(None)
                outputs.append(None)
            else:
                masks.append(found[1])
                outputs.append(found)
        problems += self._between(calls, masks, outputs)
        got_words = f"{len(got)} results"
        if problems:
            return Verdict(False, expected_words, f"{got_words} ({'; '.join(problems[:4])})")
        return Verdict(True, expected_words, got_words + ", all consistent")

    def _one(self, call: list, result: Any, labels: set) -> str | tuple:
        """The problem with one result, or ``(image, mask)`` arrays when it is right."""
        image_in, mask_in, label_in = np.asarray(call[0]), np.asarray(call[1]), call[2]
        if not isinstance(result, list) or len(result) != 3:
            return f"{describe(result, 80)} instead of (image, mask, label)"
        image, mask = _as_array(result[0]), _as_array(result[1])
        if image is None or image.dtype.kind not in "biuf" or image.shape != image_in.shape:
            return (f"the image came back as {describe(result[0], 80)}, not an array of "
                    f"shape {image_in.shape}")
        if mask is None or mask.dtype.kind not in "biuf" or mask.shape != mask_in.shape:
            return (f"the mask came back as {describe(result[1], 80)}, not an array of "
                    f"shape {mask_in.shape}")
        label = _as_array(result[2])
        if label is None or not np.array_equal(label, np.asarray(label_in)):
            return (f"the label changed from {describe(label_in, 40)} to "
                    f"{describe(result[2], 40)} (augmentation must never change the label)")
        mask64 = mask.astype(np.float64)
        if not np.all(np.isfinite(mask64)) or np.any(np.abs(mask64 - np.rint(mask64)) > 1e-6):
            return ("the mask has values between labels: it was interpolated (use "
                    "nearest-neighbour, order=0, for masks)")
        present = set(np.unique(np.rint(mask64)).astype(int).tolist())
        if not present <= labels:
            return (f"the mask has label(s) {sorted(present - labels)} that the input mask "
                    "does not have (a label map must not be interpolated, not even with "
                    "rounding)")
        before = label_alignment(image_in, mask_in)
        after = label_alignment(image, np.rint(mask64).astype(np.int64))
        if after < self.min_alignment * before:
            return (f"image and mask no longer line up (the mask explains {after:.0%} of the "
                    f"image's contrast, {before:.0%} before): draw the random numbers once "
                    "and move both with them")
        return image, np.rint(mask64).astype(np.int64)

    @staticmethod
    def _between(calls: list, masks: list, outputs: list) -> list[str]:
        problems = []
        for first in range(len(calls)):
            for second in range(first + 1, len(calls)):
                if calls[first][3] != calls[second][3]:
                    continue
                a, b = outputs[first], outputs[second]
                if a is None or b is None:
                    continue
                if not (np.array_equal(a[1], b[1]) and np.allclose(a[0], b[0], atol=1e-6)):
                    problems.append(f"seed {calls[first][3]} gave two different results "
                                    "(draw from np.random.default_rng(seed))")
        done = [(call, output) for call, output in zip(calls, outputs) if output is not None]
        if len(done) == len(calls) and len(done) > 1:
            if all(np.array_equal(output[1], np.asarray(call[1])) for call, output in done):
                problems.append("no seed changed the mask: is the augmentation switched on?")
            distinct_seeds = {call[3] for call, _ in done}
            if len(distinct_seeds) > 1 and all(
                    np.array_equal(output[1], done[0][1][1])
                    and np.allclose(output[0], done[0][1][0], atol=1e-6)
                    for _, output in done):
                problems.append("different seeds gave the same result (use the seed argument)")
        return problems


def augmentation_consistent(calls: str = "calls",
                            min_alignment: float = 0.8) -> AugmentationConsistent:
    """Augmentation keeps labels and alignment, seeded (see :class:`AugmentationConsistent`)."""
    return AugmentationConsistent(calls=calls, min_alignment=float(min_alignment))


def _class_probabilities(predictions: np.ndarray, n_samples: int) -> np.ndarray | None:
    """``(n_samples, n_classes)`` probabilities from sigmoid ``(N,)``/``(N, 1)`` or softmax
    ``(N, K)`` outputs; ``None`` if they are not probabilities for ``n_samples`` samples."""
    values = np.asarray(predictions, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != n_samples or not np.all(np.isfinite(values)):
        return None
    if np.any(values < 0) or np.any(values > 1):
        return None
    if values.shape[1] == 1:
        values = np.concatenate([1.0 - values, values], axis=1)
    return values


def log_loss(probabilities: np.ndarray, truth: np.ndarray, epsilon: float = 1e-7) -> float:
    """Mean cross-entropy ``-log p(true class)``, probabilities clipped to ``[eps, 1]``."""
    picked = probabilities[np.arange(truth.size), truth.astype(np.int64)]
    return float(-np.mean(np.log(np.clip(picked, epsilon, 1.0))))


@dataclass(frozen=True)
class BeatsBaseline(Comparator):
    """A regularised classifier beats its unregularised baseline on the same images.

    ``got`` is ``{model: predictions, baseline: predictions}`` (from
    ``producers.predict_each``), ``expected`` the true class labels (computed by the
    grader; never sent to the kernel). Both models' cross-entropy loss and accuracy are
    computed here. Passes when the model's loss is lower than the baseline's (the model
    is less over-confident in wrong answers: the sign of overfitting cured) *and* reaches
    the absolute floors ``accuracy >= min_accuracy`` and ``loss <= max_loss`` (so a
    spoiled baseline cannot make a poor model pass).
    """

    kind: ClassVar[str] = "beats_baseline"
    model: str = "regularised_model"
    baseline: str = "baseline_model"
    min_accuracy: float = 0.85
    max_loss: float = 0.6

    def __call__(self, got: Any, expected: Any, inputs: dict) -> Verdict:
        expected_words = (f"{self.model}: a loss lower than {self.baseline}'s on the same "
                          f"images, at most {self.max_loss:.2f}, and accuracy at least "
                          f"{self.min_accuracy:.2f}")
        if (verdict := _failed_value(got, expected_words)) is not None:
            return verdict
        if not isinstance(got, dict) or {self.model, self.baseline} - set(got):
            return Verdict(False, expected_words, describe(got) + " (not predictions of "
                           f"{self.model} and {self.baseline})")
        truth = np.asarray(expected).ravel()
        scores = {}
        for name in (self.model, self.baseline):
            if (verdict := _failed_value(got[name], expected_words)) is not None:
                return Verdict(False, expected_words, f"{name}: {verdict.got}")
            probabilities = _class_probabilities(got[name], truth.size)
            if probabilities is None:
                return Verdict(False, expected_words,
                               f"{name} gave {describe(got[name], 120)}, not probabilities "
                               f"for {truth.size} images (use model.predict)")
            accuracy_value = float(np.mean(np.argmax(probabilities, axis=1) == truth))
            scores[name] = (log_loss(probabilities, truth), accuracy_value)
        loss, accuracy_value = scores[self.model]
        base_loss, base_accuracy = scores[self.baseline]
        got_words = (f"{self.model}: loss {loss:.3f}, accuracy {accuracy_value:.3f}; "
                     f"{self.baseline}: loss {base_loss:.3f}, accuracy {base_accuracy:.3f}")
        problems = []
        if not loss < base_loss:
            problems.append(f"the loss is not lower than {self.baseline}'s")
        if loss > self.max_loss:
            problems.append(f"the loss is above {self.max_loss:.2f}")
        if accuracy_value < self.min_accuracy:
            problems.append(f"the accuracy is below {self.min_accuracy:.2f}")
        if problems:
            return Verdict(False, expected_words, f"{got_words} ({'; '.join(problems)})")
        return Verdict(True, expected_words, got_words)


def beats_baseline(model: str = "regularised_model", baseline: str = "baseline_model",
                   min_accuracy: float = 0.85, max_loss: float = 0.6) -> BeatsBaseline:
    """The model beats the baseline on the same images (see :class:`BeatsBaseline`)."""
    return BeatsBaseline(model=model, baseline=baseline, min_accuracy=float(min_accuracy),
                         max_loss=float(max_loss))
