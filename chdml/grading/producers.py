"""Producers: get the student's value for one case, inside the student's kernel.

A producer is called as ``producer(namespace, inputs)``: ``namespace`` is the notebook's
global variables, ``inputs`` the case's inputs (a dict). It returns the student's value as
plain data, or a :class:`~chdml.grading.wire.ProducedError` if the student's code raised.
It never judges: the grader (or, for public self-checks, :mod:`chdml.grading.compare`)
does that.

Producers are small frozen dataclasses so that the build can store them as data in the
self-check package (:meth:`Producer.spec`, :func:`from_spec`). Check modules use only the
producers defined here; add a new one here when an exercise needs it. Each producer gives
the student's function *copies* of the inputs, so a function that changes its arguments in
place cannot change the inputs the comparison sees.

This module is imported in the student's kernel: it must stay cheap (Keras is imported only
when a model is described).
"""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from chdml.grading.wire import ProducedError, plain

_KINDS: dict[str, type[Producer]] = {}


class NotDefined(Exception):
    """The name the exercise asks for does not exist (yet) in the notebook."""


def error_of(exc: BaseException) -> ProducedError:
    """A :class:`ProducedError` for ``exc``: ``"<Type>: <message>"``, at most 500 chars."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return ProducedError(text[:500])


def lookup(namespace: dict, name: str) -> Any:
    """``namespace[name]``, or :class:`NotDefined` with a message a beginner understands."""
    if name not in namespace:
        raise NotDefined(f"`{name}` is not defined: run the cell where you write it, "
                         "then run this check again")
    return namespace[name]


def lookup_function(namespace: dict, name: str) -> Any:
    """:func:`lookup` for something the student must have written as a function:
    :class:`TypeError` naming what it is instead."""
    function = lookup(namespace, name)
    if not callable(function):
        raise TypeError(f"`{name}` should be a function but is a {type(function).__name__}")
    return function


def call_with_inputs(function: Any, inputs: dict, args: tuple = (), keywords: tuple = ()) -> Any:
    """``function(inputs[args[0]], ..., key=inputs[key] for key in keywords)``."""
    return function(*[inputs[name] for name in args],
                    **{name: inputs[name] for name in keywords})


@dataclass(frozen=True)
class Producer:
    """Base class: a named way to obtain the student's value for a case."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _KINDS[cls.kind] = cls

    def produce(self, namespace: dict, inputs: dict) -> Any:
        """Return the student's raw value (may raise; :meth:`__call__` catches)."""
        raise NotImplementedError

    def __call__(self, namespace: dict, inputs: dict) -> Any:
        """The student's value as plain data, or a :class:`ProducedError`."""
        try:
            return plain(self.produce(namespace, copy.deepcopy(inputs)))
        except NotDefined as exc:
            return ProducedError(str(exc))
        except Exception as exc:  # noqa: BLE001 - any student error is a result, not a crash
            return error_of(exc)

    def spec(self) -> dict:
        """This producer as JSON-able data; :func:`from_spec` rebuilds it."""
        return {"kind": self.kind,
                "params": {field.name: (list(value) if isinstance(value, tuple) else value)
                           for field in dataclasses.fields(self)
                           for value in [getattr(self, field.name)]}}


def from_spec(spec: dict) -> Producer:
    """Rebuild a producer from :meth:`Producer.spec` data."""
    if spec["kind"] not in _KINDS:
        raise ValueError(f"unknown producer '{spec['kind']}'; this chdml is too old for "
                         "these checks")
    params = {name: tuple(value) if isinstance(value, list) else value
              for name, value in spec["params"].items()}
    return _KINDS[spec["kind"]](**params)


@dataclass(frozen=True)
class Call(Producer):
    """Call the student's function: ``function(inputs[a], inputs[b], ..., key=inputs[key])``."""

    kind: ClassVar[str] = "call"
    function: str = ""
    args: tuple = ()
    keywords: tuple = ()

    def produce(self, namespace: dict, inputs: dict) -> Any:
        function = lookup_function(namespace, self.function)
        return call_with_inputs(function, inputs, self.args, self.keywords)


def call(function: str, *args: str, keywords: tuple[str, ...] = ()) -> Call:
    """Call the student's ``function`` with the named inputs as positional arguments.

    Example:
        >>> producers.call("conv2d", "image", "kernel")   # conv2d(image, kernel)
    """
    return Call(function=function, args=tuple(args), keywords=tuple(keywords))


@dataclass(frozen=True)
class Value(Producer):
    """The value of a variable the student defined (the case's inputs are not used)."""

    kind: ClassVar[str] = "value"
    name: str = ""

    def produce(self, namespace: dict, inputs: dict) -> Any:
        return lookup(namespace, self.name)


def value(name: str) -> Value:
    """The value of the student's variable ``name`` (e.g. ``"train_mean"``)."""
    return Value(name=name)


# ---------------------------------------------------------------------------------------
# Keras models
# ---------------------------------------------------------------------------------------
def _seeded_weight(shape: tuple[int, ...], path: str, seed: int, index: int) -> np.ndarray:
    """A reproducible weight for position ``index`` (variances positive, scaled by fan-in)."""
    rng = np.random.default_rng([seed, index])
    values = rng.standard_normal(shape)
    if "variance" in path:
        return np.abs(values) * 0.5 + 0.5
    fan_in = math.prod(shape[:-1]) if len(shape) >= 2 else 10
    return values / math.sqrt(max(fan_in, 1))


def _layer_kinds(model: Any) -> list[str]:
    kinds = []
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers") and type(layer).__name__ in ("Sequential", "Functional"):
            kinds.extend(_layer_kinds(layer))
        elif type(layer).__name__ != "InputLayer":
            kinds.append(type(layer).__name__)
    return kinds


def describe(model: Any, seed: int = 0, batch: int = 2) -> dict:
    """What the grader compares about a Keras model (layout of the result below).

    Returns ``{"output_shape": [None, ...], "param_count": int, "layer_kinds": [...],
    "forward": array}``: ``layer_kinds`` are layer class names in order without
    ``InputLayer`` (nested Sequential/functional models are flattened); ``forward`` is the
    output for a seeded random input of shape ``(batch, *input_shape)`` with every weight
    replaced by a seeded value (the model's own weights are restored afterwards), so two
    models with the same architecture give the same numbers however they were built.
    Raises ``TypeError``/``ValueError`` with a beginner's message for non-models.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a Keras model, got a {type(model).__name__} "
                        "(did you `return model`?)")
    inputs = getattr(model, "inputs", None)
    try:
        built = bool(inputs)
    except Exception:  # noqa: BLE001 - unbuilt Sequential models raise on .inputs
        built = False
    if not built:
        raise ValueError("the model does not know its input shape: start it with "
                         "keras.Input(shape=...)")
    input_shape = tuple(inputs[0].shape)
    output_shape = [None if size is None else int(size) for size in model.outputs[0].shape]
    original = [variable.numpy() for variable in model.weights]
    try:
        for index, variable in enumerate(model.weights):
            variable.assign(_seeded_weight(tuple(variable.shape), variable.path, seed, index)
                            .astype(variable.dtype))
        probe = np.random.default_rng(seed).standard_normal((batch, *input_shape[1:]))
        output = model(probe.astype("float32"), training=False)
        forward = [np.asarray(item) for item in output] if isinstance(output, (list, tuple)) \
            else np.asarray(output)
    finally:
        for variable, weights in zip(model.weights, original):
            variable.assign(weights)
    return {"output_shape": output_shape, "param_count": int(model.count_params()),
            "layer_kinds": _layer_kinds(model), "forward": forward}


@dataclass(frozen=True)
class DescribeModel(Producer):
    """Build a model with the student's function and :func:`describe` it."""

    kind: ClassVar[str] = "describe_model"
    builder: str = ""
    args: tuple = ()
    seed: int = 0

    def produce(self, namespace: dict, inputs: dict) -> Any:
        builder = lookup(namespace, self.builder)
        return describe(call_with_inputs(builder, inputs, self.args), seed=self.seed)


def describe_model(builder: str, *args: str, seed: int = 0) -> DescribeModel:
    """Call the student's model ``builder`` with the named inputs; describe the model.

    Example:
        >>> producers.describe_model("build_classifier", "input_shape", "n_classes")
    """
    return DescribeModel(builder=builder, args=tuple(args), seed=seed)


@dataclass(frozen=True)
class PredictWith(Producer):
    """Predictions of the student's trained model (a variable) on ``inputs[images]``.

    A Keras model is called directly (``model(batch, training=False)``, in batches of 64:
    the same numbers as ``model.predict`` without its start-up cost); another object with
    ``predict`` (e.g. scikit-learn) gets ``predict(images)``; a plain function is called.
    """

    kind: ClassVar[str] = "predict_with"
    model: str = ""
    images: str = "images"

    def produce(self, namespace: dict, inputs: dict) -> Any:
        model = lookup(namespace, self.model)
        images = inputs[self.images]
        if hasattr(model, "predict") and hasattr(model, "layers") and callable(model):
            batches = [np.asarray(model(images[start:start + 64], training=False))
                       for start in range(0, len(images), 64)]
            return np.concatenate(batches) if batches else np.zeros((0,))
        if hasattr(model, "predict"):
            return model.predict(images)
        if callable(model):
            return model(images)
        raise TypeError(f"`{self.model}` should be a trained model but is a "
                        f"{type(model).__name__}")


def predict_with(model: str, images: str = "images") -> PredictWith:
    """The student's trained ``model`` (a variable name) predicting ``inputs[images]``."""
    return PredictWith(model=model, images=images)


# ---------------------------------------------------------------------------------------
# Added for workshop 1 (w1 helper): repeated calls of a function that may yield its
# results, a model's learned weights, and a training history.
# ---------------------------------------------------------------------------------------
MAX_ITEMS = 100_000
"""Most items taken from an iterator a student's function returns (an endless generator
must not hang the check)."""


def _materialise(result: Any) -> Any:
    """A list for an iterator or generator (consumed once, at most :data:`MAX_ITEMS`)."""
    from collections.abc import Iterator
    from itertools import islice

    if not isinstance(result, Iterator):
        return result
    items = list(islice(result, MAX_ITEMS + 1))
    if len(items) > MAX_ITEMS:
        raise ValueError(f"the function yielded more than {MAX_ITEMS} items (does it ever "
                         "stop?)")
    return items


@dataclass(frozen=True)
class CallEach(Producer):
    """Call the student's function once per argument list in ``inputs[calls]``.

    Returns the list of results; a result that is an iterator or generator (a function
    that ``yield``s) becomes the list of what it yields. Used to see several epochs of a
    batch iterator, with the same or different seeds, in one case.
    """

    kind: ClassVar[str] = "call_each"
    function: str = ""
    calls: str = "calls"

    def produce(self, namespace: dict, inputs: dict) -> Any:
        function = lookup_function(namespace, self.function)
        return [_materialise(function(*arguments)) for arguments in inputs[self.calls]]


def call_each(function: str, calls: str = "calls") -> CallEach:
    """``[function(*args) for args in inputs[calls]]``, generators turned into lists.

    Example:
        >>> producers.call_each("iterate_batches")  # inputs["calls"] = [[images, labels, 4, True, 0], ...]
    """
    return CallEach(function=function, calls=calls)


@dataclass(frozen=True)
class FlatWeights(Producer):
    """All weights of the student's model (a variable) as one vector, in layer order.

    ``np.concatenate([w.ravel() for w in model.get_weights()])``: for a one-unit Dense
    model on one input that is ``[weight, bias]``.
    """

    kind: ClassVar[str] = "flat_weights"
    model: str = ""

    def produce(self, namespace: dict, inputs: dict) -> Any:
        model = lookup(namespace, self.model)
        if not hasattr(model, "get_weights"):
            raise TypeError(f"`{self.model}` should be a Keras model but is a "
                            f"{type(model).__name__}")
        weights = [np.ravel(np.asarray(weight)) for weight in model.get_weights()]
        return np.concatenate(weights) if weights else np.zeros(0)


def flat_weights(model: str) -> FlatWeights:
    """The learned weights of the student's ``model`` (a variable name), flattened."""
    return FlatWeights(model=model)


@dataclass(frozen=True)
class TrainingHistory(Producer):
    """The per-epoch logs of a training run: ``{"loss": [...], "val_loss": [...], ...}``.

    The variable may hold what ``model.fit`` returns (a Keras ``History``; its
    ``.history`` is taken) or that dict itself.
    """

    kind: ClassVar[str] = "history"
    name: str = ""

    def produce(self, namespace: dict, inputs: dict) -> Any:
        value = lookup(namespace, self.name)
        logs = getattr(value, "history", value)
        if not isinstance(logs, dict):
            raise TypeError(f"`{self.name}` should be what model.fit(...) returns (a "
                            f"History) but is a {type(value).__name__}")
        return {str(key): [float(item) for item in np.ravel(np.asarray(values, dtype=float))]
                for key, values in logs.items()}


def history(name: str) -> TrainingHistory:
    """The training history held in the student's variable ``name`` (e.g. ``"history"``)."""
    return TrainingHistory(name=name)


# =======================================================================================
# Workshop 4 (segmentation): a loss with its gradient, and a U-Net's outline.
# Added by the workshop-4 author; used by autograder/workshop4/soft_dice_loss.py and
# build_unet.py. Tests: tests/grading/test_producers_workshop4.py.
# =======================================================================================
def loss_and_gradient(loss_function: Any, y_true: Any, y_pred: Any) -> dict:
    """``loss_function(y_true, y_pred)`` and its gradient with respect to ``y_pred``.

    Both inputs become float32 tensors; the gradient is taken with TensorFlow's
    ``GradientTape`` (Keras' TensorFlow backend, as in Colab). Returns ``{"loss": value,
    "gradient": array like y_pred}``. When the loss does not depend on ``y_pred`` through
    differentiable operations (a threshold ``y_pred > 0.5``, an ``argmax``, a detour
    through NumPy), TensorFlow has no gradient: ``"gradient"`` is then a sentence saying
    so, which never equals the expected array. The reference and the student's loss go
    through this same function, so they are compared like with like.
    """
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("this check needs Keras' TensorFlow backend (the default, as in "
                           f"Colab); this kernel uses '{keras.backend.backend()}'")
    truth = tf.constant(np.asarray(y_true, dtype=np.float32))
    prediction = tf.constant(np.asarray(y_pred, dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        loss = loss_function(truth, prediction)
    if loss is None:
        raise TypeError("the loss function returned None (did you `return` the loss?)")
    loss_value = np.asarray(loss.numpy() if hasattr(loss, "numpy") else loss)
    if loss_value.ndim == 0:  # one number: a Python float (0-d arrays do not cross the wire)
        loss_value = float(loss_value)
    gradient = tape.gradient(loss, prediction) if tf.is_tensor(loss) else None
    if gradient is None:
        return {"loss": loss_value,
                "gradient": "no gradient: the loss is not a differentiable function of "
                            "y_pred (thresholds, argmax or NumPy break the chain)"}
    return {"loss": loss_value, "gradient": gradient.numpy()}


@dataclass(frozen=True)
class LossGradient(Producer):
    """The student's loss ``function(inputs[y_true], inputs[y_pred])`` and its gradient."""

    kind: ClassVar[str] = "loss_gradient"
    function: str = ""
    y_true: str = "y_true"
    y_pred: str = "y_pred"

    def produce(self, namespace: dict, inputs: dict) -> Any:
        function = lookup_function(namespace, self.function)
        return loss_and_gradient(function, inputs[self.y_true], inputs[self.y_pred])


def loss_gradient(function: str, y_true: str = "y_true", y_pred: str = "y_pred") -> LossGradient:
    """The student's loss ``function`` on the named inputs, with its gradient.

    Example:
        >>> producers.loss_gradient("soft_dice_loss")   # {"loss": ..., "gradient": ...}
    """
    return LossGradient(function=function, y_true=y_true, y_pred=y_pred)


def _operations(model: Any) -> list:
    """Every layer and operation of ``model``, nested models flattened.

    Keras 3 functional models list ``keras.ops`` calls (e.g. ``keras.ops.concatenate``)
    in ``model.operations`` beside the layers; ``model.layers`` has only the layers.
    """
    found = []
    for operation in getattr(model, "operations", None) or getattr(model, "layers", []):
        if hasattr(operation, "layers") and type(operation).__name__ in ("Sequential",
                                                                          "Functional"):
            found.extend(_operations(operation))
        else:
            found.append(operation)
    return found


def unet_outline(model: Any, seed: int = 0) -> dict:
    """What the workshop-4 U-Net check compares about a segmentation model.

    Returns ``{"output_shape": [None, H, W, C], "param_count": int,
    "skip_concatenations": int, "probabilities": bool}``: ``skip_concatenations`` counts
    the ``Concatenate`` layers and ``keras.ops.concatenate`` calls (a U-Net has one per
    level); ``probabilities`` says whether the output of a forward pass on a seeded random
    input is a probability per pixel and class (values in [0, 1] that sum to 1 over the
    classes, as a softmax gives). Layer order, names and the order of the two concatenated
    tensors do not matter.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a Keras model, got a {type(model).__name__} "
                        "(did you `return model`?)")
    try:
        inputs = list(model.inputs)
    except Exception:  # noqa: BLE001 - unbuilt Sequential models raise on .inputs
        inputs = []
    if not inputs:
        raise ValueError("the model does not know its input shape: start it with "
                         "keras.Input(shape=...)")
    input_shape = tuple(inputs[0].shape)
    output_shape = [None if size is None else int(size) for size in model.outputs[0].shape]
    probe = np.random.default_rng(seed).random((1, *input_shape[1:])).astype("float32")
    output = np.asarray(model(probe, training=False), dtype=np.float64)
    probabilities = bool(np.all(output >= -1e-6) and np.all(output <= 1 + 1e-6)
                         and np.allclose(output.sum(axis=-1), 1.0, atol=1e-4))
    concatenations = sum(type(operation).__name__ == "Concatenate"
                         for operation in _operations(model))
    return {"output_shape": output_shape, "param_count": int(model.count_params()),
            "skip_concatenations": int(concatenations), "probabilities": probabilities}


@dataclass(frozen=True)
class DescribeUnet(Producer):
    """Build a model with the student's function and :func:`unet_outline` it."""

    kind: ClassVar[str] = "describe_unet"
    builder: str = ""
    args: tuple = ()

    def produce(self, namespace: dict, inputs: dict) -> Any:
        builder = lookup(namespace, self.builder)
        return unet_outline(call_with_inputs(builder, inputs, self.args))


def describe_unet(builder: str, *args: str) -> DescribeUnet:
    """Call the student's U-Net ``builder`` with the named inputs; outline the model.

    Example:
        >>> producers.describe_unet("build_unet", "input_shape", "n_classes", "depth",
        ...                         "base_filters")
    """
    return DescribeUnet(builder=builder, args=tuple(args))


# =======================================================================================
# Workshop 2 additions (owner: w2): a dict picked from a result, files in the working
# directory, a DICOM dataset. Kept here, at the end, so the grading helper can merge them.
# =======================================================================================
@dataclass(frozen=True)
class CallSelect(Producer):
    """Call the student's function and keep only the named entries of the dict it returns.

    For functions that return a dict with more than what is checked (e.g. the trained
    model next to the numbers): ``{"model": ..., "boundary": 0.3, "accuracy": 0.9}`` with
    ``keys=("boundary", "accuracy")`` gives ``{"boundary": 0.3, "accuracy": 0.9}``.
    """

    kind: ClassVar[str] = "call_select"
    function: str = ""
    args: tuple = ()
    keys: tuple = ()

    def produce(self, namespace: dict, inputs: dict) -> Any:
        result = Call(function=self.function, args=self.args).produce(namespace, inputs)
        if not isinstance(result, dict):
            wanted = ", ".join(repr(key) for key in self.keys)
            raise TypeError(f"`{self.function}` should return a dict with the keys {wanted}, "
                            f"but it returned a {type(result).__name__}")
        missing = [key for key in self.keys if key not in result]
        if missing:
            raise KeyError(f"the dict returned by `{self.function}` has no key "
                           f"{', '.join(repr(key) for key in missing)}")
        return {key: result[key] for key in self.keys}


def call_select(function: str, *args: str, keys: tuple[str, ...]) -> CallSelect:
    """Call ``function(inputs[a], ...)`` and keep the entries ``keys`` of its dict result.

    Example:
        >>> producers.call_select("fit_sigmoid_unit", "x", "y", keys=("boundary", "accuracy"))
    """
    return CallSelect(function=function, args=tuple(args), keys=tuple(keys))


def _case_folder() -> str:
    """A fresh, empty folder for one case's files, inside the current working directory."""
    import os
    import tempfile

    return tempfile.mkdtemp(prefix="chdml-case-", dir=os.getcwd())


def file_record(path: str, name: str) -> dict:
    """``{"name": name, "bytes": uint8 array}``: a file's content, as data the grader reads."""
    with open(path, "rb") as handle:
        content = handle.read()
    return {"name": name, "bytes": np.frombuffer(content, dtype=np.uint8).copy()}


@dataclass(frozen=True)
class WithFiles(Producer):
    """Write the case's files into a fresh folder, call the student's function on paths.

    ``inputs[files]`` is a dict ``{relative name: uint8 array of the file's bytes}``
    (names may contain folders: ``"dicom/IM00001.dcm"``). The folder is created inside the
    kernel's working directory and removed afterwards. Each entry of ``args`` says what
    to pass, in order:

    - ``"file:NAME"``: the path (a ``str``) of the written file ``NAME``;
    - ``"folder:NAME"``: the path of the written folder ``NAME``;
    - ``"out:NAME"``: a path ``NAME`` in the case folder where the function should write;
    - any other name: ``inputs[name]`` itself.

    ``result`` is ``"return"`` (the function's return value) or ``"out:NAME"`` (the
    bytes of the file the function wrote there, as :func:`file_record`).
    """

    kind: ClassVar[str] = "with_files"
    function: str = ""
    args: tuple = ()
    result: str = "return"
    files: str = "files"

    def produce(self, namespace: dict, inputs: dict) -> Any:
        import os
        import shutil

        function = lookup_function(namespace, self.function)
        folder = _case_folder()
        try:
            for name, content in dict(inputs.get(self.files) or {}).items():
                path = os.path.join(folder, *str(name).split("/"))
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as handle:
                    handle.write(np.asarray(content, dtype=np.uint8).tobytes())
            arguments = []
            for spec in self.args:
                prefix, _, name = spec.partition(":")
                if prefix in ("file", "folder", "out") and name:
                    arguments.append(os.path.join(folder, *name.split("/")))
                else:
                    arguments.append(inputs[spec])
            returned = function(*arguments)
            if self.result == "return":
                return returned
            name = self.result.partition(":")[2]
            path = os.path.join(folder, *name.split("/"))
            if not os.path.isfile(path):
                raise FileNotFoundError(f"`{self.function}` did not write the file "
                                        f"'{name}' it was given as output path")
            return file_record(path, name)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def with_files(function: str, *args: str, result: str = "return",
               files: str = "files") -> WithFiles:
    """Call ``function`` on files written from the case's inputs (see :class:`WithFiles`).

    Example:
        >>> producers.with_files("save_mask", "mask", "file:image.nii.gz",
        ...                      "out:mask.nii.gz", result="out:mask.nii.gz")
    """
    return WithFiles(function=function, args=tuple(args), result=result, files=files)


@dataclass(frozen=True)
class DicomDataset(Producer):
    """Call the student's function on a pydicom ``Dataset`` read from ``inputs[data]``.

    ``inputs[data]`` holds the bytes of one DICOM file (uint8 array). The function's
    result (or, if it returns ``None``, the dataset it changed in place) is written back
    as DICOM and returned as :func:`file_record` bytes, so the grader reads it itself.
    """

    kind: ClassVar[str] = "dicom_dataset"
    function: str = ""
    data: str = "dicom"

    def produce(self, namespace: dict, inputs: dict) -> Any:
        import io

        import pydicom

        function = lookup_function(namespace, self.function)
        dataset = pydicom.dcmread(io.BytesIO(np.asarray(inputs[self.data], np.uint8).tobytes()))
        returned = function(dataset)
        if returned is None:
            returned = dataset
        if not isinstance(returned, pydicom.Dataset):
            raise TypeError(f"`{self.function}` should return a pydicom Dataset but returned "
                            f"a {type(returned).__name__}")
        buffer = io.BytesIO()
        try:
            pydicom.dcmwrite(buffer, returned)
        except ValueError:  # a new Dataset without file meta: say how to encode it
            buffer = io.BytesIO()
            pydicom.dcmwrite(buffer, returned, implicit_vr=False, little_endian=True)
        return {"name": "result.dcm",
                "bytes": np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy()}


def dicom_dataset(function: str, data: str = "dicom") -> DicomDataset:
    """Call ``function(dataset)`` on the DICOM file in ``inputs[data]``; return its bytes."""
    return DicomDataset(function=function, data=data)
# ---------------------------------------------------------------------------------------
# Added for workshop 3 (w3 helper): several functions on the same inputs, callbacks in a
# scripted training run, and a model's regularisers.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallSeveral(Producer):
    """Call each of the student's ``functions`` with the same named inputs.

    Returns ``{function name: result}``; a function that raises makes the whole value an
    error naming it (e.g. ``best_epoch`` and ``overfits`` both read one ``history``).
    """

    kind: ClassVar[str] = "call_several"
    functions: tuple = ()
    args: tuple = ()

    def produce(self, namespace: dict, inputs: dict) -> Any:
        results = {}
        for name in self.functions:
            function = lookup_function(namespace, name)
            try:
                results[name] = function(*[copy.deepcopy(inputs[arg]) for arg in self.args])
            except Exception as exc:  # noqa: BLE001 - name the function that raised
                return ProducedError(f"in {name}: {error_of(exc).message}"[:500])
        return results


def call_several(functions: tuple[str, ...], *args: str) -> CallSeveral:
    """``{name: name(inputs[a], ...)}`` for each function name.

    Example:
        >>> producers.call_several(("best_epoch", "overfits"), "history")
    """
    return CallSeveral(functions=tuple(functions), args=tuple(args))


@dataclass(frozen=True)
class FitWithCallbacks(Producer):
    """Train a scripted model with the student's callbacks; report what they kept.

    Calls ``function(checkpoint_path)`` (a ``.keras`` path in a fresh temporary folder) for
    the list of callbacks, fits :class:`chdml.grading.scripted_fit.ScriptedModel` whose
    epoch ``e`` reports ``inputs[train_losses][e-1]`` as ``loss`` and
    ``inputs[val_losses][e-1]`` as ``val_loss``, and returns
    :func:`chdml.grading.scripted_fit.run`'s report: each callback's monitor, mode,
    ``restore_best_weights``/``save_best_only``, the number of epochs run, the epoch whose
    weights the model holds after ``fit`` and the epoch saved in the checkpoint.
    """

    kind: ClassVar[str] = "fit_with_callbacks"
    function: str = ""
    train_losses: str = "train_losses"
    val_losses: str = "val_losses"

    def produce(self, namespace: dict, inputs: dict) -> Any:
        make_callbacks = lookup_function(namespace, self.function)
        from chdml.grading import scripted_fit

        return scripted_fit.run(make_callbacks, inputs[self.train_losses],
                                inputs[self.val_losses])


def fit_with_callbacks(function: str, train_losses: str = "train_losses",
                       val_losses: str = "val_losses") -> FitWithCallbacks:
    """The student's ``function(checkpoint_path)`` callbacks in a scripted training run.

    Example:
        >>> producers.fit_with_callbacks("make_callbacks")
    """
    return FitWithCallbacks(function=function, train_losses=train_losses,
                            val_losses=val_losses)


def _regulariser_strengths(regulariser: Any) -> tuple[float, float] | None:
    """``(l1, l2)`` of a Keras L1/L2/L1L2 regulariser, ``None`` for anything else."""
    if regulariser is None:
        return 0.0, 0.0
    l1, l2 = getattr(regulariser, "l1", 0.0), getattr(regulariser, "l2", 0.0)
    if type(regulariser).__name__ not in ("L1", "L2", "L1L2"):
        return None
    return float(l1 or 0.0), float(l2 or 0.0)


def _flat_layers(model: Any) -> list:
    layers = []
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers") and type(layer).__name__ in ("Sequential", "Functional"):
            layers.extend(_flat_layers(layer))
        elif type(layer).__name__ != "InputLayer":
            layers.append(layer)
    return layers


def describe_regularised(model: Any, seed: int = 0) -> dict:
    """:func:`describe` plus where the regularisers are, as plain data.

    Returns ``{"model": describe(model) (with Dropout layers of rate 0 left out of the
    layer kinds, since they do nothing), "kernel_l2": [L2 strength of each layer that has
    a kernel, in order, 0.0 where none], "dropout_rates": [rate of each Dropout layer with
    a rate above 0, in order], "other_penalties": ["<layer kind> <layer index>: <what>"
    for every L1 penalty, bias or activity regulariser, or unknown regulariser]}``.
    """
    description = describe(model, seed=seed)
    layers = _flat_layers(model)
    kinds, kernel_l2, dropout_rates, other = [], [], [], []
    for index, layer in enumerate(layers):
        kind = type(layer).__name__
        rate = float(getattr(layer, "rate", 0.0) or 0.0)
        if kind == "Dropout" and rate == 0.0:
            continue
        kinds.append(kind)
        if kind == "Dropout":
            dropout_rates.append(rate)
        if hasattr(layer, "kernel_regularizer") and getattr(layer, "kernel", None) is not None:
            strengths = _regulariser_strengths(layer.kernel_regularizer)
            if strengths is None:
                other.append(f"{kind} {index + 1}: an unknown kernel regulariser")
                kernel_l2.append(0.0)
            else:
                kernel_l2.append(strengths[1])
                if strengths[0]:
                    other.append(f"{kind} {index + 1}: an L1 kernel penalty")
        for attribute in ("bias_regularizer", "activity_regularizer"):
            if getattr(layer, attribute, None) is not None:
                other.append(f"{kind} {index + 1}: a {attribute.replace('_', ' ')}")
    description["layer_kinds"] = kinds
    return {"model": description, "kernel_l2": kernel_l2, "dropout_rates": dropout_rates,
            "other_penalties": other}


@dataclass(frozen=True)
class DescribeRegularisedModel(Producer):
    """Build a model with the student's function and :func:`describe_regularised` it."""

    kind: ClassVar[str] = "describe_regularised_model"
    builder: str = ""
    args: tuple = ()
    keywords: tuple = ()
    seed: int = 0

    def produce(self, namespace: dict, inputs: dict) -> Any:
        builder = lookup(namespace, self.builder)
        return describe_regularised(call_with_inputs(builder, inputs, self.args, self.keywords),
                                    seed=self.seed)


def describe_regularised_model(builder: str, *args: str, keywords: tuple[str, ...] = (),
                               seed: int = 0) -> DescribeRegularisedModel:
    """Build with the student's ``builder`` (named inputs as arguments); describe the model
    and its regularisers (see :func:`describe_regularised`).

    Example:
        >>> producers.describe_regularised_model("build_classifier", "input_shape",
        ...                                      keywords=("dropout", "l2", "augment"))
    """
    return DescribeRegularisedModel(builder=builder, args=tuple(args),
                                    keywords=tuple(keywords), seed=seed)


@dataclass(frozen=True)
class PredictEach(Producer):
    """Predictions of several of the student's trained models on the same images.

    Returns ``{model name: model.predict(inputs[images], verbose=0)}`` (e.g. the
    regularised model and the baseline it has to beat, judged on the same hidden images).
    """

    kind: ClassVar[str] = "predict_each"
    models: tuple = ()
    images: str = "images"

    def produce(self, namespace: dict, inputs: dict) -> Any:
        return {name: PredictWith(model=name, images=self.images).produce(namespace, inputs)
                for name in self.models}


def predict_each(models: tuple[str, ...], images: str = "images") -> PredictEach:
    """``{name: predictions}`` of the student's trained models (variable names).

    Example:
        >>> producers.predict_each(("regularised_model", "baseline_model"))
    """
    return PredictEach(models=tuple(models), images=images)
