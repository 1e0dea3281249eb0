"""A trained model file and everything needed to apply it to a NIfTI volume.

A chdml model file is an ordinary Keras ``.keras`` archive (``keras.saving.load_model``
opens it) with one extra member, ``chdml.json``, holding what prediction needs: the
task, the label names and values, the input size, the intensity normalisation, the
post-processing and the training summary. Read it with ``unzip -p MODEL.keras
chdml.json``. Keeping it inside the archive means a model can never be separated from
its settings.

Slices go through the same steps in training and prediction:

1. :func:`normalise_volume`: intensities of the whole volume mapped to [0, 1] with
   its 1st and 99th percentiles (robust to scanner scaling and bright outliers).
2. :func:`to_grid`: each slice ``(rows, columns)`` is zero-padded to a centred square
   and resized (bilinear) to the model's ``input_size``.
3. the network, slice by slice (optionally averaged with its mirror images);
4. :func:`from_grid`: class probabilities resized back and the padding cropped, so the
   predicted label map has exactly the input's shape;
5. argmax, optional :func:`keep_largest_component` per label, class index -> label
   value (e.g. 1 -> 3 for an RV-only model).
"""
from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from chdml.atomic import atomic_path
from chdml.errors import UserError, describe_path

METADATA_MEMBER = "chdml.json"
FORMAT_VERSION = 1
TASKS = ("segmentation", "classifier")


@dataclasses.dataclass
class ModelInfo:
    """The settings stored with a model (``chdml.json`` inside the ``.keras`` file).

    Attributes:
        task: ``"segmentation"`` or ``"classifier"``.
        labels: label name -> value in the NIfTI label maps, background included, in
            the order of the network's output channels (segmentation), e.g.
            ``{"background": 0, "RV": 3}``; for a classifier, class name -> index.
        input_size: ``(height, width)`` of the network input.
        normalisation: ``{"method": "percentile", "low": 1.0, "high": 99.0}``.
        postprocess: ``"largest_component"`` or ``"none"``.
        test_time_flips: mirror axes (``"left_right"``, ``"up_down"``) over which the
            prediction is averaged (test-time augmentation); only axes the network saw
            flipped in training, else mirrored anatomy (RV on the wrong side) confuses it.
        test_time_rotations: angles (degrees) by which each slice is also turned for
            prediction, the probabilities turned back and averaged with the others
            (test-time augmentation); empty in files written before this field existed.
        min_structure_ml: with ``largest_component`` post-processing, a label whose
            largest component is smaller than this volume (mL) is removed altogether:
            a few stray voxels where the structure is absent (the RV of a single
            ventricle). 1 mL is far below any real ventricle, even a neonate's.
        neighbour_slices: segmentation input is 2.5-D: each slice goes in with this
            many slices above and below it as extra channels (see
            :func:`with_neighbours`); 0 = one slice, one channel (files written before
            this field existed).
        classifier_target: for a classifier, which ``cases.csv`` column it predicts
            and how (e.g. ``"view: SAX vs other"``).
        training: a summary of how the model was trained (data, epochs, time, seed,
            validation patients and score).
    """

    task: str
    labels: dict
    input_size: tuple
    normalisation: dict = dataclasses.field(
        default_factory=lambda: {"method": "percentile", "low": 1.0, "high": 99.0})
    postprocess: str = "largest_component"
    test_time_flips: list = dataclasses.field(default_factory=list)
    test_time_rotations: list = dataclasses.field(default_factory=list)
    min_structure_ml: float = 0.0
    neighbour_slices: int = 0
    classifier_target: str = ""
    training: dict = dataclasses.field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def label_values(self) -> list[int]:
        """Label value of each output channel (segmentation)."""
        return [int(v) for v in self.labels.values()]

    @property
    def class_names(self) -> list[str]:
        return list(self.labels)

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["input_size"] = list(self.input_size)
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "ModelInfo":
        data = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data["input_size"] = tuple(int(s) for s in data["input_size"])
        data["labels"] = {str(k): int(v) for k, v in data["labels"].items()}
        info = cls(**data)
        if info.task not in TASKS:
            raise ValueError(f"unknown task {info.task!r}")
        return info


def save_model_file(model, info: ModelInfo, path: os.PathLike | str) -> Path:
    """Write ``model`` with ``info`` inside as one ``.keras`` file, atomically."""
    path = Path(path)
    if path.suffix != ".keras":
        raise UserError(f"cannot save the model as {describe_path(path)}: the file name must "
                        "end in '.keras' (e.g. 'model.keras').")
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(METADATA_MEMBER, info.to_json())
    return path


def read_model_info(path: os.PathLike | str) -> ModelInfo:
    """Read only the settings of a model file (fast: no TensorFlow)."""
    path = Path(path)
    _check_model_path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(METADATA_MEMBER).decode("utf-8")
        return ModelInfo.from_json(text)
    except KeyError:
        raise UserError(f"{describe_path(path)} is a Keras model but not a chdml model (it has "
                        "no chdml.json settings); train it with 'chdml train'.") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, TypeError) as exc:
        raise UserError(f"cannot read the model file {describe_path(path)} ({exc}); it is "
                        "corrupt or not a .keras file: train or copy it again.") from None


def _check_model_path(path: Path) -> None:
    if not path.is_file():
        raise UserError(f"the model file {describe_path(path)} does not exist; give the .keras "
                        "file written by 'chdml train'.")


def load_model_file(path: os.PathLike | str):
    """Load a chdml model file; return ``(keras_model, ModelInfo)``.

    Raises :class:`UserError` (one sentence naming the file) when the file is missing,
    truncated, not a ``.keras`` archive or lacks the chdml settings.
    """
    path = Path(path)
    info = read_model_info(path)
    import keras

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise UserError(f"cannot load the model file {describe_path(path)} "
                        f"({type(exc).__name__}); it is corrupt: train or copy it again."
                        ) from None
    return model, info


# --- preprocessing -------------------------------------------------------------------

def normalise_volume(image: np.ndarray, low: float = 1.0, high: float = 99.0) -> np.ndarray:
    """Map the intensities of a whole volume to [0, 1] with its percentiles, clipped.

    ``image`` is ``(rows, columns, slices)``; the ``low`` and ``high`` percentiles of all
    its voxels become 0 and 1 (:func:`chdml.data.preprocess.percentile_normalise`). A
    constant volume becomes all 0; NaN or infinity raise ``ValueError``.
    """
    from chdml.data.preprocess import percentile_normalise

    return percentile_normalise(np.asarray(image, dtype=np.float32), low, high)


def to_grid(volume: np.ndarray, size, kind: str = "image") -> np.ndarray:
    """Slices of ``volume`` ``(rows, columns, slices)`` -> ``(slices, h, w)`` on the grid.

    Each slice is zero-padded to a centred square, then resized to ``size = (h, w)``:
    bilinear for ``kind="image"`` (float32, smoothed first when shrinking), nearest
    neighbour for ``kind="label"`` (dtype and values kept).
    """
    from chdml.data.preprocess import crop_or_pad_to_square, resize

    slices = np.moveaxis(np.asarray(volume), -1, 0)
    square = crop_or_pad_to_square(slices, mode="pad")
    shrink = square.shape[1] > size[0]
    return resize(square, tuple(size), kind=kind, anti_aliasing=kind == "image" and shrink)


def from_grid(probabilities: np.ndarray, shape) -> np.ndarray:
    """Inverse of :func:`to_grid` for class probabilities.

    ``probabilities`` ``(slices, h, w, classes)`` -> ``(rows, columns, slices, classes)``
    for a volume of in-plane ``shape = (rows, columns)`` (bilinear, padding cropped).
    """
    from chdml.data.preprocess import crop_or_pad, resize

    rows, columns = int(shape[0]), int(shape[1])
    side = max(rows, columns)
    square = resize(np.asarray(probabilities, np.float32), (side, side), kind="image")
    return np.moveaxis(crop_or_pad(square, (rows, columns)), 0, 2)


# --- prediction ----------------------------------------------------------------------

def with_neighbours(slices: np.ndarray, neighbours: int) -> np.ndarray:
    """The slices of one volume with their neighbours as channels (2.5-D input).

    ``slices`` ``(n, h, w)`` in stack order -> ``(n, h, w, 2 * neighbours + 1)``:
    channel ``j`` of slice ``i`` is slice ``i - neighbours + j``, so the middle channel
    is the slice itself. Beyond the first and last slice the edge slice is repeated.
    ``neighbours=0`` gives ``(n, h, w, 1)``.
    """
    slices = np.asarray(slices)
    if neighbours < 0:
        raise ValueError(f"neighbours must be 0 or more, got {neighbours}")
    offsets = np.arange(-neighbours, neighbours + 1)
    index = np.clip(np.arange(len(slices))[:, np.newaxis] + offsets, 0, len(slices) - 1)
    return np.moveaxis(slices[index], 1, -1)


def predict_slices(model, slices: np.ndarray, flips=(), rotations=(),
                   batch_size: int = 16) -> np.ndarray:
    """Class probabilities of ``slices`` ``(n, h, w[, channels])`` -> ``(n, h, w, classes)``.

    Test-time augmentation: the prediction is averaged over the image and each of its
    variants, each mapped back onto the image before averaging:

    - ``flips``: mirror axes, ``"left_right"`` (columns) and/or ``"up_down"`` (rows);
    - ``rotations``: angles in degrees (counter-clockwise as displayed, about the slice
      centre, bilinear; corners turned in from outside are 0, the darkest value after
      normalisation; 0 is ignored, the image itself is always included).

    A single sigmoid channel is returned as background + foreground.
    """
    from scipy import ndimage

    x = np.asarray(slices, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    axes = {"up_down": 1, "left_right": 2}
    unknown = set(flips) - set(axes)
    if unknown:
        raise ValueError(f"unknown flip axes {sorted(unknown)}; use {sorted(axes)}")

    def predict(images):
        return np.asarray(model.predict(np.ascontiguousarray(images), batch_size=batch_size,
                                        verbose=0), dtype=np.float32)

    total, count = predict(x), 1
    for name in flips:
        total += np.flip(predict(np.flip(x, axis=axes[name])), axis=axes[name])
        count += 1
    for angle in (float(a) for a in rotations if float(a) != 0.0):
        turned = ndimage.rotate(x, angle, axes=(1, 2), reshape=False, order=1,
                                mode="constant")
        total += ndimage.rotate(predict(turned), -angle, axes=(1, 2), reshape=False,
                                order=1, mode="nearest")
        count += 1
    probabilities = total / count
    if probabilities.shape[-1] == 1:  # one sigmoid channel -> background + foreground
        probabilities = np.concatenate([1.0 - probabilities, probabilities], axis=-1)
    return probabilities


def keep_largest_component(label_map: np.ndarray, min_voxels: int = 0,
                           bridge_slices: int = 1) -> np.ndarray:
    """Keep, for every label value, only its largest 3-D connected component.

    ``label_map`` ``(rows, columns, slices)`` of integers. Voxels are connected when
    they touch (faces, edges or corners), and, along the slice axis, also across up to
    ``bridge_slices`` slices where the label is missing: one slice the network got
    wrong (a motion artefact, a mistriggered frame) must not cut a ventricle in two
    and make half of it look like a stray island. A label whose largest component has
    fewer than ``min_voxels`` voxels is removed. Removed voxels become background (0).
    """
    from scipy import ndimage

    out = np.asarray(label_map).copy()
    neighbours = np.ones((3,) * out.ndim, dtype=bool)
    bridge = np.ones((1, 1, 2 * bridge_slices + 1), dtype=bool) if out.ndim == 3 else None
    for value in np.unique(out):
        if value == 0:
            continue
        mask = out == value
        grown = (ndimage.binary_dilation(mask, structure=bridge)
                 if bridge is not None and bridge_slices > 0 else mask)
        components, _ = ndimage.label(grown, structure=neighbours)
        components[~mask] = 0
        sizes = np.bincount(components.ravel())
        sizes[0] = 0
        largest = int(np.argmax(sizes))
        if sizes[largest] < min_voxels:
            out[mask] = 0
        else:
            out[mask & (components != largest)] = 0
    return out


def class_probabilities(model, info: ModelInfo, image: np.ndarray) -> np.ndarray:
    """Class probabilities ``(rows, columns, slices, classes)`` for one image volume.

    ``image`` ``(rows, columns, slices)``; class ``k`` is ``info.label_values[k]``. The
    volume is normalised, put on the model's grid, predicted (with the model's
    test-time flips and rotations) and brought back to the image's own grid, before any arg-max or
    post-processing.
    """
    norm = info.normalisation
    normalised = normalise_volume(image, norm.get("low", 1.0), norm.get("high", 99.0))
    slices = with_neighbours(to_grid(normalised, info.input_size), info.neighbour_slices)
    probabilities = predict_slices(model, slices, flips=info.test_time_flips,
                                   rotations=info.test_time_rotations)
    return from_grid(probabilities, image.shape[:2])


def segment_volume(model, info: ModelInfo, image: np.ndarray, spacing=None) -> np.ndarray:
    """Label map ``(rows, columns, slices)`` (uint8, label values) for one image volume.

    ``spacing`` (mm) is needed only for the ``min_structure_ml`` rule of the
    post-processing; without it that rule is skipped.
    """
    return postprocess(most_likely_labels(class_probabilities(model, info, image), info),
                       info, spacing)


def most_likely_labels(probabilities: np.ndarray, info: ModelInfo) -> np.ndarray:
    """Label map ``(rows, columns, slices)`` (uint8, label values): for each voxel the
    label of the largest of ``probabilities`` ``(rows, columns, slices, classes)`` (the
    first class on a tie), before post-processing."""
    values = np.asarray(info.label_values, dtype=np.uint8)
    return values[np.argmax(probabilities, axis=-1)]


def postprocess(label_map: np.ndarray, info: ModelInfo, spacing=None) -> np.ndarray:
    """``label_map`` ``(rows, columns, slices)`` after the model's post-processing (uint8).

    ``"largest_component"``: :func:`keep_largest_component`, dropping a structure under
    ``info.min_structure_ml`` when ``spacing`` (mm) is given; ``"none"``: unchanged.
    """
    if info.postprocess == "largest_component":
        min_voxels = 0
        if spacing is not None and info.min_structure_ml > 0:
            min_voxels = int(np.ceil(info.min_structure_ml * 1000.0 / float(np.prod(spacing))))
        label_map = keep_largest_component(label_map, min_voxels)
    return np.asarray(label_map).astype(np.uint8)
