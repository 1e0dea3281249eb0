"""Values that cross a process boundary: JSON plus ``.npz``, never pickle.

The student's kernel and the grader exchange only plain data: ``None``, booleans, numbers,
strings, NumPy arrays (numeric, boolean or string dtype), and lists, tuples, dicts and sets
of those. :func:`pack` turns such a value into a JSON-able tree plus a dict of arrays;
:func:`unpack` turns them back. On disk a value is two files, ``<stem>.json`` and
``<stem>.npz``; :func:`load` reads them defensively (no symlinks, no FIFOs, size caps,
``allow_pickle=False``), because in batch grading the kernel that wrote them runs student
code.

Conversions on the way in (so that legitimate answers compare equal):

- NumPy scalars become Python numbers; tuples become lists (compare code treats both alike);
- objects with ``.numpy()`` (TensorFlow / Keras tensors) or ``__array__`` become arrays;
- dict keys keep their type (``{0: 12, 1: 3}`` stays integer-keyed);
- anything else becomes :class:`Unsupported` (the comparison then says what came back).

A function that raised is represented by :class:`ProducedError`.
"""
from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_BYTES = 256 * 1024 * 1024
"""Default cap on what :func:`load` accepts (JSON and decompressed arrays together)."""

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ProducedError:
    """The student's code raised instead of returning a value.

    ``message`` is ``"<ExceptionType>: <text>"``, e.g. ``"NameError: add is not defined"``.
    """

    message: str


@dataclass(frozen=True)
class Unsupported:
    """The student's code returned something that cannot be checked (e.g. a generator)."""

    type_name: str


def _array_from(value: Any) -> np.ndarray | None:
    """Return ``value`` as an array if it is a tensor-like object, else ``None``."""
    if isinstance(value, np.ndarray):
        return value
    numpy_method = getattr(value, "numpy", None)
    if callable(numpy_method):
        try:
            return np.asarray(numpy_method())
        except Exception:  # noqa: BLE001 - a broken tensor is just unsupported
            return None
    if hasattr(value, "__array__"):
        try:
            return np.asarray(value)
        except Exception:  # noqa: BLE001
            return None
    return None


def pack(value: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """Split ``value`` into a JSON-able tree and a dict of arrays (see the module doc)."""
    arrays: dict[str, np.ndarray] = {}

    def visit(item: Any) -> Any:
        if item is None or isinstance(item, (bool, str)):
            return item
        if isinstance(item, (int, float)) and not isinstance(item, np.generic):
            return item
        if isinstance(item, ProducedError):
            return {"__error__": item.message}
        if isinstance(item, Unsupported):
            return {"__unsupported__": item.type_name}
        if isinstance(item, np.generic):
            if isinstance(item, (np.bool_, np.integer, np.floating, np.str_)):
                return item.item()
            return visit(np.asarray(item))
        if isinstance(item, (list, tuple)):
            return [visit(element) for element in item]
        if isinstance(item, dict):
            return {"__dict__": [[visit(key), visit(element)] for key, element in item.items()]}
        if isinstance(item, (set, frozenset)):
            return {"__set__": [visit(element) for element in item]}
        array = _array_from(item)
        if array is None:
            return {"__unsupported__": type(item).__name__}
        if array.dtype.kind == "O":
            try:
                array = np.array(array.tolist())
            except Exception:  # noqa: BLE001 - ragged object arrays stay unsupported
                return {"__unsupported__": "array of Python objects"}
            if array.dtype.kind == "O":
                return {"__unsupported__": "array of Python objects"}
        if array.dtype.kind not in "biufcUS":
            return {"__unsupported__": f"array of dtype {array.dtype}"}
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(array)
        return {"__array__": key}

    return visit(value), arrays


def unpack(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of :func:`pack` (tuples come back as lists)."""
    if isinstance(tree, list):
        return [unpack(element, arrays) for element in tree]
    if not isinstance(tree, dict):
        return tree
    if "__array__" in tree:
        return arrays[tree["__array__"]]
    if "__error__" in tree:
        return ProducedError(str(tree["__error__"]))
    if "__unsupported__" in tree:
        return Unsupported(str(tree["__unsupported__"]))
    if "__set__" in tree:
        elements = [unpack(element, arrays) for element in tree["__set__"]]
        try:
            return set(elements)
        except TypeError:
            return Unsupported("set of unhashable values")
    if "__dict__" in tree:
        result = {}
        for key, element in tree["__dict__"]:
            key = unpack(key, arrays)
            if isinstance(key, list):
                key = tuple(key)
            try:
                result[key] = unpack(element, arrays)
            except TypeError:
                return Unsupported("dict with unhashable keys")
        return result
    raise ValueError(f"unknown wire node {sorted(tree)}")


def plain(value: Any) -> Any:
    """Return ``value`` as the grader would see it after a round trip through the wire."""
    tree, arrays = pack(value)
    return unpack(tree, arrays)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays to ``path`` byte-for-byte reproducibly (fixed zip timestamps, sorted)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.ascontiguousarray(arrays[name]),
                                          allow_pickle=False)


def save(stem: Path, value: Any) -> None:
    """Write ``value`` as ``<stem>.json`` and ``<stem>.npz`` (both always written)."""
    stem = Path(stem)
    tree, arrays = pack(value)
    write_npz(stem.with_name(stem.name + ".npz"), arrays)
    stem.with_name(stem.name + ".json").write_text(
        json.dumps(tree, sort_keys=True, indent=1), encoding="utf-8")


def read_untrusted(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """Read a regular file that untrusted code may have planted or replaced.

    Refuses symlinks, FIFOs, devices and files over ``max_bytes`` (``ValueError``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{path} is larger than {max_bytes} bytes")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise ValueError(f"{path} grew beyond {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_npz_bytes(data: bytes, max_bytes: int = MAX_BYTES) -> dict[str, np.ndarray]:
    """Arrays from ``.npz`` bytes; ``ValueError`` if they would decompress beyond the cap."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        declared = sum(info.file_size for info in archive.infolist())
        if declared > max_bytes:
            raise ValueError(f"arrays would take {declared} bytes (cap {max_bytes})")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def load(stem: Path, max_bytes: int = MAX_BYTES) -> Any:
    """Read a value written by :func:`save`, treating the files as untrusted."""
    stem = Path(stem)
    tree = json.loads(read_untrusted(stem.with_name(stem.name + ".json"), max_bytes))
    npz_path = stem.with_name(stem.name + ".npz")
    arrays = load_npz_bytes(read_untrusted(npz_path, max_bytes), max_bytes)
    return unpack(tree, arrays)
