"""Preprocessing of 2-D slices and 3-D volumes: square, resize, normalise, equalise, resample.

Array layouts accepted by the 2-D functions (the "spatial axes" are rows and columns):

* one image ``(H, W)``;
* a batch of images ``(N, H, W)``;
* a batch with a channel axis, as Keras wants it, ``(N, H, W, C)`` (usually ``C = 1``).

A 3-D volume from :mod:`chdml.data.nifti` is ``(rows, columns, slices)``: bring the slices
to the front first (``np.moveaxis(volume.array, -1, 0)``), or use
:func:`chdml.data.collection.load_slices`, which does that for you. :func:`resample_volume`
works on whole volumes.

Conventions (the workshop-2 "preprocessing" exercise is checked against these):

* **Centred crop and pad.** When the difference between the old and the new size is odd, the
  extra row (column) is taken from, or added at, the **bottom (right)**: the start offset is
  ``(old - new) // 2``, as in ``keras.layers.CenterCrop`` and
  ``tf.image.resize_with_crop_or_pad``.
* **Resizing.** Images use bilinear interpolation without anti-aliasing, on pixel centres
  (the same numbers as ``tf.image.resize(..., "bilinear")`` and ``keras.layers.Resizing``);
  label maps use nearest neighbour, so every output value is one of the input values.
* **Normalisation.** Statistics are computed over the array you pass (``per_image=False``),
  over each image separately (``per_image=True``), or taken from ``stats`` computed once on
  the *training* images with :func:`fit_intensity_stats` and applied unchanged to validation
  and test images. Recomputing them on the test set is a classic mistake: it hides intensity
  differences between scanners and lets test data influence preprocessing.
* **Constant images** (no contrast, e.g. an all-zero slice) become all zeros, never NaN,
  whenever the statistics come from the image itself (with ``stats=`` from training data a
  constant image is mapped like any other pixel values).
* **NaN or infinity** is refused with a ``ValueError``: clean the images first
  (:func:`chdml.data.check.find_broken_cases`).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from chdml.data.nifti import IMAGE_DTYPE, Volume

__all__ = [
    "crop_or_pad", "crop_or_pad_to_square", "resize", "resized_spacing",
    "IntensityStats", "fit_intensity_stats", "min_max_normalise", "percentile_normalise",
    "z_score_normalise", "equalise_contrast", "resample_volume",
]


# --------------------------------------------------------------------------- layout helpers
def _spatial_axes(array: np.ndarray) -> tuple[int, int]:
    """Row and column axes of a 2-D image, an (N, H, W) batch or an (N, H, W, C) batch."""
    if array.ndim == 2:
        return 0, 1
    if array.ndim in (3, 4):
        return 1, 2
    raise ValueError(f"expected an image (H, W), a batch (N, H, W) or a batch with channels "
                     f"(N, H, W, C); got an array of shape {array.shape}")


def _image_axes(array: np.ndarray) -> tuple[int, ...]:
    """Axes that belong to one image (reduced over for per-image statistics)."""
    if array.ndim == 2:
        return 0, 1
    _spatial_axes(array)
    return tuple(range(1, array.ndim))


def _size_pair(size) -> tuple[int, int]:
    if np.isscalar(size):
        size = (size, size)
    rows, columns = (int(s) for s in size)
    if rows < 1 or columns < 1:
        raise ValueError(f"size must be positive, got {size}")
    return rows, columns


# --------------------------------------------------------------------------- crop, pad, resize
def crop_or_pad(array: np.ndarray, size, fill: float = 0) -> np.ndarray:
    """Centre-crop or zero-pad the rows and columns of ``array`` to ``size``.

    Args:
        array: ``(H, W)``, ``(N, H, W)`` or ``(N, H, W, C)``; any dtype (kept).
        size: ``(rows, columns)`` or one int for a square.
        fill: value of added pixels (0: background for label maps, black for images).

    Each axis is handled on its own: cropped where it is too long, padded where too short.
    An odd difference puts the extra row/column at the bottom/right (start offset
    ``(old - new) // 2``). Spacing does not change.

    Example:
        >>> crop_or_pad(np.ones((5, 2)), 4).shape
        (4, 4)
    """
    array = np.asarray(array)
    axes = _spatial_axes(array)
    target = _size_pair(size)
    slices = [slice(None)] * array.ndim
    padding = [(0, 0)] * array.ndim
    for axis, new in zip(axes, target):
        old = array.shape[axis]
        if old > new:
            start = (old - new) // 2
            slices[axis] = slice(start, start + new)
        elif old < new:
            before = (new - old) // 2
            padding[axis] = (before, new - old - before)
    out = array[tuple(slices)]
    if any(p != (0, 0) for p in padding):
        out = np.pad(out, padding, mode="constant", constant_values=fill)
    return out


def crop_or_pad_to_square(array: np.ndarray, mode: str = "crop", fill: float = 0) -> np.ndarray:
    """Make the rows and columns of ``array`` equal, keeping the centre.

    Args:
        array: ``(H, W)``, ``(N, H, W)`` or ``(N, H, W, C)``.
        mode: ``"crop"`` cuts the longer side down to the shorter one (the heart sits in the
            middle of a cardiac MRI, the edges are chest wall); ``"pad"`` extends the shorter
            side with ``fill`` so nothing is lost.
        fill: value of padded pixels.

    Odd differences: the extra row/column is cut from (or added at) the bottom/right.
    """
    array = np.asarray(array)
    rows, columns = (array.shape[a] for a in _spatial_axes(array))
    if mode == "crop":
        side = min(rows, columns)
    elif mode == "pad":
        side = max(rows, columns)
    else:
        raise ValueError(f"mode must be 'crop' or 'pad', got {mode!r}")
    return crop_or_pad(array, side, fill=fill)


def resize(array: np.ndarray, size, kind: str = "image", anti_aliasing: bool = False
           ) -> np.ndarray:
    """Resize the rows and columns of ``array`` to ``size``.

    Args:
        array: ``(H, W)``, ``(N, H, W)`` or ``(N, H, W, C)``.
        size: ``(rows, columns)`` or one int for a square.
        kind: ``"image"``: bilinear, returned as float32; ``"label"``: nearest neighbour,
            dtype kept and every output value one of the input values (a mask stays a mask).
        anti_aliasing: smooth images before shrinking them (off by default so that results
            equal ``tf.image.resize``; switch on for large down-sampling factors).

    The aspect ratio is not preserved: make the image square first
    (:func:`crop_or_pad_to_square`). Update the spacing with :func:`resized_spacing`.
    """
    from skimage.transform import resize as sk_resize

    array = np.asarray(array)
    axes = _spatial_axes(array)
    target = _size_pair(size)
    output_shape = list(array.shape)
    for axis, new in zip(axes, target):
        output_shape[axis] = new
    if tuple(output_shape) == array.shape:
        return array.astype(IMAGE_DTYPE) if kind == "image" else array.copy()
    if kind == "image":
        out = sk_resize(array.astype(np.float32, copy=False), output_shape, order=1,
                        mode="edge", anti_aliasing=anti_aliasing, preserve_range=True)
        return out.astype(IMAGE_DTYPE)
    if kind == "label":
        out = sk_resize(array, output_shape, order=0, mode="edge", anti_aliasing=False,
                        preserve_range=True)
        return out.astype(array.dtype)
    raise ValueError(f"kind must be 'image' or 'label', got {kind!r}")


def resized_spacing(spacing, old_size, new_size) -> tuple[float, ...]:
    """Pixel spacing after resizing: ``spacing * old_size / new_size`` per axis.

    ``spacing``, ``old_size`` and ``new_size`` are sequences of the same length (e.g. rows,
    columns); the field of view (size x spacing) stays the same.
    """
    return tuple(float(s) * int(o) / int(n) for s, o, n in zip(spacing, old_size, new_size))


# --------------------------------------------------------------------------- normalisation
@dataclasses.dataclass(frozen=True)
class IntensityStats:
    """Intensity statistics of a set of images, computed once on the training set.

    Attributes:
        minimum, maximum: smallest and largest value.
        low, high: the ``percentiles`` (e.g. 1st and 99th) of all values.
        mean, std: mean and standard deviation of all values.
        percentiles: which percentiles ``low`` and ``high`` are.
    """

    minimum: float
    maximum: float
    low: float
    high: float
    mean: float
    std: float
    percentiles: tuple[float, float] = (1.0, 99.0)


def _require_finite(array: np.ndarray) -> None:
    """Refuse NaN and infinity (one cheap pass: a float64 sum is finite iff every value is)."""
    if array.size and not np.isfinite(np.sum(array, dtype=np.float64)):
        raise ValueError("the images contain NaN or infinity; remove broken images first "
                         "(chdml.data.check.find_broken_cases)")


def _mean_std(array: np.ndarray, chunk: int = 1 << 20) -> tuple[float, float]:
    """Mean and (population) standard deviation in float64, without a float64 copy."""
    flat = array.reshape(-1)
    mean = float(np.mean(flat, dtype=np.float64))
    squares = 0.0
    for start in range(0, flat.size, chunk):
        deviation = flat[start:start + chunk].astype(np.float64) - mean
        squares += float(np.dot(deviation, deviation))
    return mean, float(np.sqrt(squares / flat.size))


def fit_intensity_stats(train_images, percentiles=(1.0, 99.0)) -> IntensityStats:
    """Statistics over every pixel of ``train_images`` (any layout), in float64.

    Pass the result as ``stats=`` to the normalise functions for the training, validation
    and test images alike.
    """
    values = np.asarray(train_images)
    if values.size == 0:
        raise ValueError("cannot compute intensity statistics of an empty array")
    _require_finite(values)
    low, high = np.percentile(values, percentiles)
    mean, std = _mean_std(values)
    return IntensityStats(minimum=float(values.min()), maximum=float(values.max()),
                          low=float(low), high=float(high), mean=mean, std=std,
                          percentiles=(float(percentiles[0]), float(percentiles[1])))


def _prepare(images, stats, per_image):
    """Validate; return the array and the axes statistics are taken over (None: all)."""
    array = np.asarray(images)
    _spatial_axes(array)
    if stats is not None and per_image:
        raise ValueError("use either stats= (statistics from the training set) or "
                         "per_image=True (each image on its own), not both")
    _require_finite(array)
    return array, (_image_axes(array) if per_image else None)


def _range(array, axes):
    keep = axes is not None
    return (array.min(axis=axes, keepdims=keep).astype(np.float64),
            array.max(axis=axes, keepdims=keep).astype(np.float64))


def _linear(array, offset, scale, clip_to=None) -> np.ndarray:
    """``(array - offset) * scale`` as a new float32 array, optionally clipped first."""
    out = np.array(array, dtype=IMAGE_DTYPE)
    if clip_to is not None:
        np.clip(out, np.asarray(clip_to[0], IMAGE_DTYPE), np.asarray(clip_to[1], IMAGE_DTYPE),
                out=out)
    out -= np.asarray(offset, dtype=IMAGE_DTYPE)
    out *= np.asarray(scale, dtype=IMAGE_DTYPE)
    return out


def _inverse_width(low, high):
    """1 / (high - low), and 0 where high == low (no contrast: the image becomes 0)."""
    width = np.asarray(high, np.float64) - np.asarray(low, np.float64)
    return np.where(width > 0, 1.0 / np.where(width > 0, width, 1.0), 0.0)


def min_max_normalise(images, stats: IntensityStats | None = None, per_image: bool = False,
                      clip: bool = False) -> np.ndarray:
    """Rescale intensities linearly so that the minimum is 0 and the maximum 1.

    Args:
        images: ``(H, W)``, ``(N, H, W)`` or ``(N, H, W, C)``.
        stats: training-set statistics (:func:`fit_intensity_stats`); their ``minimum`` and
            ``maximum`` are used, so test images can fall slightly outside [0, 1].
        per_image: each image gets its own minimum and maximum.
        clip: clip the result to [0, 1] (useful with ``stats`` on test data).

    Returns float32 of the same shape. A constant image (max == min) becomes all zeros.

    Example:
        >>> min_max_normalise(np.array([[2.0, 4.0], [6.0, 10.0]]))
        array([[0.  , 0.25],
               [0.5 , 1.  ]], dtype=float32)
    """
    array, axes = _prepare(images, stats, per_image)
    if stats is not None:
        low, high = stats.minimum, stats.maximum
    else:
        low, high = _range(array, axes)
    out = _linear(array, low, _inverse_width(low, high))
    return np.clip(out, 0.0, 1.0, out=out) if clip else out


def percentile_normalise(images, low: float = 1.0, high: float = 99.0,
                         stats: IntensityStats | None = None,
                         per_image: bool = False) -> np.ndarray:
    """Clip intensities to the ``low``-``high`` percentiles, then rescale to [0, 1].

    Robust min-max: a few very bright pixels (fat, flow artefacts) no longer squeeze the
    heart into a narrow grey range. With ``stats`` the training set's ``low``/``high``
    values are used (``stats.percentiles`` says which percentiles; the ``low``/``high``
    arguments are then ignored). Output is float32 in [0, 1]; constant images become zeros.
    """
    array, axes = _prepare(images, stats, per_image)
    if stats is not None:
        lo, hi = np.float64(stats.low), np.float64(stats.high)
    else:
        if not 0 <= low < high <= 100:
            raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {low}, {high}")
        lo, hi = np.percentile(array, (low, high), axis=axes, keepdims=axes is not None)
    out = _linear(array, lo, _inverse_width(lo, hi), clip_to=(lo, hi))
    return np.clip(out, 0.0, 1.0, out=out)


def z_score_normalise(images, stats: IntensityStats | None = None, per_image: bool = False,
                      epsilon: float = 1e-8) -> np.ndarray:
    """Subtract the mean and divide by the standard deviation: ``(x - mean) / (std + epsilon)``.

    ``epsilon`` keeps the division finite for nearly constant images; an exactly constant
    image (max == min) becomes all zeros. With ``stats`` the training set's mean and std
    are used. Returns float32 of the same shape (values are not bounded to [0, 1]).
    """
    array, axes = _prepare(images, stats, per_image)
    if stats is not None:
        mean, std = np.float64(stats.mean), np.float64(stats.std)
        constant = np.bool_(stats.std == 0)
    elif axes is None:
        mean, std = _mean_std(array)
        low, high = _range(array, None)
        constant = low == high
    else:
        mean = array.mean(axis=axes, keepdims=True, dtype=np.float64)
        std = array.std(axis=axes, keepdims=True, dtype=np.float64)
        low, high = _range(array, axes)
        constant = low == high
    scale = np.where(constant, 0.0, 1.0 / (np.asarray(std) + epsilon))
    return _linear(array, mean, scale)


def equalise_contrast(images, clip_limit: float = 0.01, kernel_size=None) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation (CLAHE), one 2-D image at a time.

    Each image is first rescaled to [0, 1] on its own (min-max), then equalised with
    :func:`skimage.exposure.equalize_adapthist` (``clip_limit``: higher means more contrast;
    ``kernel_size``: tile size, default 1/8 of the image). Layouts as above; returns float32
    in [0, 1] of the same shape. Constant images become all zeros.
    """
    from skimage.exposure import equalize_adapthist

    array = np.asarray(images)
    _spatial_axes(array)
    _require_finite(array)
    values = array.astype(np.float64)
    # Put every 2-D image on its own row of a (K, H, W) stack.
    if array.ndim == 2:
        stack = values[np.newaxis]
    elif array.ndim == 3:
        stack = values
    else:
        stack = np.moveaxis(values, -1, 1).reshape(-1, array.shape[1], array.shape[2])
    out = np.zeros(stack.shape, dtype=IMAGE_DTYPE)
    for k, image in enumerate(stack):
        low, high = image.min(), image.max()
        if high > low:
            out[k] = equalize_adapthist((image - low) / (high - low), kernel_size=kernel_size,
                                        clip_limit=clip_limit)
    if array.ndim == 2:
        return out[0]
    if array.ndim == 3:
        return out
    n, _, _, c = array.shape
    return np.moveaxis(out.reshape(n, c, *out.shape[1:]), 1, -1)


# --------------------------------------------------------------------------- 3-D resampling
def resample_volume(volume: Volume, spacing, kind: str = "image") -> Volume:
    """Resample a volume to a new voxel spacing (mm).

    Args:
        volume: a :class:`~chdml.data.nifti.Volume` ``(rows, columns, slices)``.
        spacing: target ``(row, column, slice)`` spacing in mm; ``None`` for an axis keeps it
            (``(1.25, 1.25, None)`` resamples in-plane only, the usual choice for thick
            short-axis stacks).
        kind: ``"image"`` (trilinear, float32) or ``"label"`` (nearest neighbour, uint8,
            values kept exactly).

    The new spacing is exactly the target. The first voxel's centre stays where it was and
    the grid covers the old field of view: ``new_size = round(old_size * old / new)``
    (at least 1), the last row may reach up to half a new voxel past the old edge (edge
    values are repeated there). The affine is updated to match.
    """
    from scipy.ndimage import affine_transform

    if kind not in ("image", "label"):
        raise ValueError(f"kind must be 'image' or 'label', got {kind!r}")
    old_spacing = np.asarray(volume.spacing, dtype=np.float64)
    if len(spacing) != 3:
        raise ValueError(f"spacing must have three entries (row, column, slice), got {spacing}")
    new_spacing = np.array([old if new is None else float(new)
                            for old, new in zip(old_spacing, spacing)])
    if not np.all(np.isfinite(new_spacing)) or np.any(new_spacing <= 0):
        raise ValueError(f"target spacing must be positive numbers in mm, got {spacing}")
    if np.any(old_spacing <= 0):
        raise ValueError(f"the volume has spacing {tuple(old_spacing)}; it must be positive")
    ratio = new_spacing / old_spacing               # old voxel steps per new voxel
    old_shape = np.array(volume.array.shape)
    new_shape = np.maximum(1, np.round(old_shape / ratio)).astype(int)
    if kind == "image":
        data = volume.array.astype(np.float32, copy=False)
        out = affine_transform(data, ratio, output_shape=tuple(new_shape), order=1,
                               mode="nearest").astype(IMAGE_DTYPE)
    else:
        data = volume.array
        out = affine_transform(data, ratio, output_shape=tuple(new_shape), order=0,
                               mode="nearest").astype(data.dtype)
    affine = np.asarray(volume.affine, dtype=np.float64) @ np.diag(list(ratio) + [1.0])
    return Volume(out, tuple(float(s) for s in new_spacing), affine)
