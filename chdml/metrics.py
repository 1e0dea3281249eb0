"""Metrics in NumPy: the reference that every check, evaluation and workshop uses.

Public names (stable; other modules and the autograder import them):

Segmentation (masks and label maps)
    ``dice``                 Dice overlap of two binary masks (any shape), 1.0 if both are empty.
    ``dice_per_slice``       Dice of every slice (or every image of a batch) as an array.
    ``dice_per_label``       ``{label: Dice}`` for two label maps.
    ``iou``                  Intersection over union (Jaccard index) of two binary masks.
    ``per_label``            Apply any two-mask metric to each label of two label maps.
    ``hausdorff_distance``   Symmetric surface distance at a percentile, in mm.
    ``hausdorff95``          The 95th-percentile Hausdorff distance (HD95), in mm.
    ``segmentation_scores``  Dice, IoU, HD95 and volumes per label for one case.

Clinical numbers
    ``volume_ml``            Volume of a mask (or one label of a label map) in millilitres.
    ``stroke_volume``        EDV - ESV in mL.
    ``ejection_fraction``    (EDV - ESV) / EDV in percent.

Classification
    ``accuracy``, ``confusion_matrix`` (rows truth, columns prediction), ``sensitivity``,
    ``specificity``, ``balanced_accuracy`` (mean recall over classes), ``roc_auc``
    (rank-based, ties count one half), ``roc_curve`` (points for plotting).

Array layout
    A *binary mask* is a bool or 0/1 array of any shape: one slice ``(H, W)``, one volume
    ``(H, W, S)`` (rows, columns, slices, as :mod:`chdml.data.nifti` loads it) or a batch
    ``(N, H, W)``. A *label map* is an integer array of the same shapes whose values are
    the label numbers (0 background, 1 LV blood pool, 2 LV myocardium, 3 RV blood pool).
    These functions take label maps, not one-hot arrays: turn network outputs into a label
    map first (``probabilities.argmax(axis=-1)`` for softmax, ``probabilities[..., 0] > 0.5``
    for one sigmoid channel). Probabilities passed where a mask is expected are refused
    with a clear error rather than silently treated as "non-zero".

Empty masks (the conventions the workshops teach)
    - Dice and IoU: both masks empty -> **1.0** (the prediction agrees perfectly with a
      truth that has nothing to find, e.g. an apical slice without RV); exactly one empty
      -> **0.0** (follows from the formula). Because a case full of "both empty" slices
      would look better than it is, :func:`segmentation_scores` returns a ``both_empty``
      flag and evaluation tables report how often it happened. Pass ``both_empty=np.nan``
      to leave such pairs out of a ``np.nanmean`` instead.
    - Hausdorff: both empty -> **0.0** mm; exactly one empty -> **inf** (the structure was
      missed or invented, so no finite distance is honest); tables should count the
      infinite ones and summarise with a median or report them separately.

Only NumPy and SciPy are imported; nothing here touches TensorFlow.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from scipy import ndimage, stats

FOREGROUND_LABELS = (1, 2, 3)

__all__ = [
    "FOREGROUND_LABELS",
    "dice", "dice_per_slice", "dice_per_label", "iou", "per_label",
    "hausdorff_distance", "hausdorff95", "segmentation_scores",
    "volume_ml", "stroke_volume", "ejection_fraction",
    "accuracy", "confusion_matrix", "sensitivity", "specificity", "balanced_accuracy",
    "roc_auc", "roc_curve",
]


# ----------------------------------------------------------------------------- checks
def _binary_mask(mask, name: str) -> np.ndarray:
    """``mask`` as a bool array; refuse anything that is not 0/1 (e.g. probabilities)."""
    array = np.asarray(mask)
    if array.dtype == bool:
        return array
    if not (np.issubdtype(array.dtype, np.number)):
        raise ValueError(f"{name} must be a binary mask of 0/1 or True/False values, "
                         f"got an array of {array.dtype}.")
    bad = (array != 0) & (array != 1)
    if bad.any():
        example = array[bad].flat[0]
        raise ValueError(f"{name} must be a binary mask of 0/1 values but contains {example!r}; "
                         "threshold probabilities first (e.g. probabilities > 0.5) or use "
                         "dice_per_label for a label map.")
    return array.astype(bool)


def _label_map(labels, name: str) -> np.ndarray:
    """``labels`` as an integer label map; refuse fractional values (probabilities)."""
    array = np.asarray(labels)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{name} must be a label map of integers, got an array of {array.dtype}.")
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise ValueError(f"{name} must be a label map of whole numbers but has fractional or "
                         "non-finite values; turn probabilities into labels first "
                         "(probabilities.argmax(axis=-1)).")
    return array.astype(np.int64)


def _same_shape(a: np.ndarray, b: np.ndarray, names=("y_true", "y_pred")) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got "
                         f"{a.shape} and {b.shape}.")


def _spacing(spacing, ndim: int) -> tuple[float, ...]:
    """Voxel size in mm, one positive number per array axis (None -> 1 mm each)."""
    if spacing is None:
        return (1.0,) * ndim
    values = tuple(float(s) for s in np.atleast_1d(np.asarray(spacing, dtype=float)))
    if len(values) != ndim:
        raise ValueError(f"spacing needs one value per array axis ({ndim} for this "
                         f"{ndim}-D mask), got {len(values)}: {values}.")
    if not all(math.isfinite(s) and s > 0 for s in values):
        raise ValueError(f"spacing must be positive voxel sizes in mm, got {values}.")
    return values


# ------------------------------------------------------------------------ overlap
def dice(y_true, y_pred, *, both_empty: float = 1.0) -> float:
    """Dice overlap ``2 |T & P| / (|T| + |P|)`` of two binary masks.

    Args:
        y_true: ground-truth mask, bool or 0/1, any shape: ``(H, W)`` slice, ``(H, W, S)``
            volume (one number for the whole volume: "per-case 3-D Dice"), ``(N, H, W)``
            batch (one number for all pixels of the batch pooled).
        y_pred: predicted mask, same shape.
        both_empty: value returned when both masks are empty; 1.0 by convention (nothing
            to find and nothing found is perfect agreement). ``np.nan`` leaves such pairs
            out of a later ``np.nanmean``.

    Returns:
        A float in [0, 1]. Exactly one mask empty gives 0.0.

    Raises:
        ValueError: shapes differ, or a mask has values other than 0/1 (probabilities).

    For the mean Dice over the slices of a volume use :func:`dice_per_slice`.

    Example:
        >>> truth = np.array([[1, 1], [1, 1]])
        >>> pred = np.array([[1, 1], [1, 0]])
        >>> dice(truth, pred)          # 2 * 3 / (4 + 3)
        0.8571428571428571
        >>> dice(np.zeros((2, 2)), np.zeros((2, 2)))
        1.0
    """
    truth = _binary_mask(y_true, "y_true")
    pred = _binary_mask(y_pred, "y_pred")
    _same_shape(truth, pred)
    total = np.count_nonzero(truth) + np.count_nonzero(pred)
    if total == 0:
        return float(both_empty)
    return float(2.0 * np.count_nonzero(truth & pred) / total)


def dice_per_slice(y_true, y_pred, *, axis: int = -1, both_empty: float = 1.0) -> np.ndarray:
    """Dice of every slice along ``axis``: an array with one value per slice.

    Args:
        y_true, y_pred: binary masks of the same shape, e.g. a volume ``(H, W, S)``
            (``axis=-1``, the default: slices are the last axis as loaded from NIfTI) or a
            batch ``(N, H, W)`` (``axis=0``).
        axis: the slice axis.
        both_empty: value for slices where both masks are empty (1.0 by convention).

    Returns:
        float64 array of length ``shape[axis]``. Its mean is the "per-slice mean Dice"
        (``dice_per_slice(t, p).mean()``), which differs from the per-case 3-D Dice
        ``dice(t, p)`` that pools all voxels.

    Example:
        >>> truth = np.zeros((4, 4, 2), bool); truth[:2, :2, 0] = True
        >>> dice_per_slice(truth, truth)       # slice 1 is empty in both
        array([1., 1.])
        >>> dice_per_slice(truth, np.zeros_like(truth), both_empty=np.nan)
        array([ 0., nan])
    """
    truth = _binary_mask(y_true, "y_true")
    pred = _binary_mask(y_pred, "y_pred")
    _same_shape(truth, pred)
    if truth.ndim < 2:
        raise ValueError(f"dice_per_slice needs at least a 2-D array, got shape {truth.shape}.")
    n_slices = truth.shape[axis]
    truth = np.moveaxis(truth, axis, -1).reshape(-1, n_slices)  # a view for axis=-1
    pred = np.moveaxis(pred, axis, -1).reshape(-1, n_slices)
    total = np.count_nonzero(truth, axis=0) + np.count_nonzero(pred, axis=0)
    overlap = np.count_nonzero(truth & pred, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = 2.0 * overlap / total
    scores[total == 0] = both_empty
    return scores


def iou(y_true, y_pred, *, both_empty: float = 1.0) -> float:
    """Intersection over union ``|T & P| / |T | P|`` (Jaccard index) of two binary masks.

    Same layout, checks and empty-mask convention as :func:`dice` (both empty -> 1.0,
    one empty -> 0.0). Dice and IoU are tied: ``dice = 2 iou / (1 + iou)``.

    Example:
        >>> iou(np.array([1, 1, 1, 1]), np.array([1, 1, 1, 0]))
        0.75
    """
    truth = _binary_mask(y_true, "y_true")
    pred = _binary_mask(y_pred, "y_pred")
    _same_shape(truth, pred)
    union = np.count_nonzero(truth | pred)
    if union == 0:
        return float(both_empty)
    return float(np.count_nonzero(truth & pred) / union)


def per_label(metric: Callable[..., Any], truth_labels, pred_labels,
              labels: Sequence[int] = FOREGROUND_LABELS, **kwargs) -> dict[int, Any]:
    """Apply a two-mask ``metric`` to every label of two label maps.

    Args:
        metric: a function ``metric(truth_mask, pred_mask, **kwargs)`` such as :func:`dice`,
            :func:`iou`, :func:`dice_per_slice` or :func:`hausdorff95`.
        truth_labels, pred_labels: integer label maps of the same shape.
        labels: label values to score (default 1 LV, 2 MYO, 3 RV). Pass the labels the
            dataset really has (``dataset.json``): a label absent from both maps scores by
            the metric's both-empty convention.
        **kwargs: passed to ``metric`` (``spacing=...``, ``axis=...``, ``both_empty=...``).

    Returns:
        ``{label: metric value}`` in the order of ``labels``.

    Example:
        >>> truth = np.array([[0, 1, 1], [3, 3, 0]])
        >>> pred = np.array([[0, 1, 0], [3, 3, 3]])
        >>> per_label(iou, truth, pred, labels=(1, 3))
        {1: 0.5, 3: 0.6666666666666666}
    """
    truth = _label_map(truth_labels, "truth_labels")
    pred = _label_map(pred_labels, "pred_labels")
    _same_shape(truth, pred, ("truth_labels", "pred_labels"))
    return {int(label): metric(truth == label, pred == label, **kwargs) for label in labels}


def dice_per_label(truth_labels, pred_labels, labels: Sequence[int] = FOREGROUND_LABELS, *,
                   both_empty: float = 1.0) -> dict[int, float]:
    """Dice of each label of two label maps: ``{label: dice}``.

    Args:
        truth_labels: integer label map ``(H, W)``, ``(H, W, S)`` or ``(N, H, W)``;
            0 background, 1 LV blood pool, 2 LV myocardium, 3 RV blood pool.
        pred_labels: predicted label map of the same shape (``argmax`` of a softmax output,
            not one-hot).
        labels: labels to score, default ``(1, 2, 3)``.
        both_empty: value for a label absent from both maps (1.0 by convention, see
            :func:`dice`).

    On a volume this is the per-case 3-D Dice of each structure. The per-slice mean is
    ``{k: v.mean() for k, v in per_label(dice_per_slice, truth, pred).items()}``.

    Example:
        >>> truth = np.array([[1, 1, 2], [3, 3, 0]])
        >>> pred = np.array([[1, 1, 2], [3, 0, 0]])
        >>> dice_per_label(truth, pred)
        {1: 1.0, 2: 1.0, 3: 0.6666666666666666}
    """
    return per_label(dice, truth_labels, pred_labels, labels, both_empty=both_empty)


# ------------------------------------------------------------------- surface distance
def _surface(mask: np.ndarray) -> np.ndarray:
    """Boundary voxels: in the mask with at least one face-neighbour outside it.

    Voxels on the border of the array count as boundary (outside the array is empty).
    """
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=0)


def hausdorff_distance(truth, pred, spacing=None, *, percentile: float = 100.0) -> float:
    """Symmetric Hausdorff distance between the surfaces of two masks, in mm.

    For every boundary voxel of ``pred`` the distance to the nearest boundary voxel of
    ``truth`` is measured (and the other way round), with SciPy's exact Euclidean
    distance transform in physical units. The result is the larger of the two directed
    ``percentile``-th percentiles (``numpy.percentile``, linear interpolation), as in
    MONAI's ``compute_hausdorff_distance``; ``percentile=100`` is the classic Hausdorff
    distance. A boundary voxel has a face-neighbour outside the mask (or lies on the
    array's edge).

    Args:
        truth, pred: binary masks of the same shape, 2-D ``(H, W)`` or 3-D ``(H, W, S)``
            (any number of dimensions works).
        spacing: voxel size in mm, one value per axis (``Volume.spacing`` for a volume,
            ``spacing[:2]`` for one slice); anisotropic spacing is honoured. ``None`` means
            1 per axis (distances in voxels).
        percentile: in [0, 100].

    Returns:
        Distance in mm: 0.0 if both masks are empty, ``inf`` if exactly one is empty.

    With thick short-axis slices (8-10 mm) a 3-D distance is dominated by the slice
    direction; the other common choice is one 2-D distance per slice,
    ``[hausdorff95(t[..., s], p[..., s], spacing[:2]) for s in range(t.shape[-1])]``.

    Example:
        >>> truth = np.zeros((5, 5), bool); truth[1:4, 1:4] = True
        >>> pred = np.zeros((5, 5), bool); pred[1:4, 1:3] = True
        >>> hausdorff_distance(truth, pred, spacing=(1.0, 2.0))
        2.0
    """
    truth_mask = _binary_mask(truth, "truth")
    pred_mask = _binary_mask(pred, "pred")
    _same_shape(truth_mask, pred_mask, ("truth", "pred"))
    if not 0.0 <= float(percentile) <= 100.0:
        raise ValueError(f"percentile must be between 0 and 100, got {percentile}.")
    sampling = _spacing(spacing, truth_mask.ndim)
    truth_any, pred_any = truth_mask.any(), pred_mask.any()
    if not truth_any and not pred_any:
        return 0.0
    if not truth_any or not pred_any:
        return math.inf
    # Every voxel of either mask lies in the bounding box of their union; with one voxel
    # of (empty) margin, boundaries and distance transforms computed in that box are
    # exactly those of the whole array, at a fraction of the cost.
    union = truth_mask | pred_mask
    box = tuple(slice(max(int(idx.min()) - 1, 0), int(idx.max()) + 2)
                for idx in np.nonzero(union))
    truth_surface = _surface(truth_mask[box])
    pred_surface = _surface(pred_mask[box])
    to_truth = ndimage.distance_transform_edt(~truth_surface, sampling=sampling)
    to_pred = ndimage.distance_transform_edt(~pred_surface, sampling=sampling)
    pred_to_truth = to_truth[pred_surface]
    truth_to_pred = to_pred[truth_surface]
    return float(max(np.percentile(pred_to_truth, percentile),
                     np.percentile(truth_to_pred, percentile)))


def hausdorff95(truth, pred, spacing=None) -> float:
    """95th-percentile symmetric Hausdorff distance (HD95) in mm.

    :func:`hausdorff_distance` with ``percentile=95``: the same layout, spacing and
    empty-mask convention (both empty -> 0.0, exactly one empty -> ``inf``).

    Example:
        >>> truth = np.zeros((6, 6, 3), bool); truth[1:5, 1:5, :] = True
        >>> hausdorff95(truth, truth, spacing=(1.25, 1.25, 8.0))
        0.0
        >>> hausdorff95(truth, np.zeros_like(truth), spacing=(1.25, 1.25, 8.0))
        inf
    """
    return hausdorff_distance(truth, pred, spacing, percentile=95.0)


# ------------------------------------------------------------------ clinical numbers
def volume_ml(mask, spacing, label: int | None = None) -> float:
    """Volume of a mask in millilitres: voxel count x voxel volume (1 mL = 1000 mm^3).

    Args:
        mask: a binary mask, or a label map when ``label`` is given; ``(H, W, S)`` for a
            volume (or ``(H, W)`` for one slice, with a 2-value spacing giving mm^2/1000).
        spacing: voxel size in mm, one value per axis of ``mask`` (``Volume.spacing``).
        label: count voxels equal to this label; ``None`` counts every non-zero voxel.

    An empty mask has volume 0.0. Probabilities (fractional values) raise ``ValueError``.

    Example:
        >>> lv = np.zeros((10, 10, 4), np.uint8); lv[2:7, 2:7, 1:3] = 1
        >>> volume_ml(lv, spacing=(1.25, 1.25, 8.0), label=1)   # 50 voxels x 12.5 mm^3
        0.625
    """
    array = _label_map(mask, "mask")  # refuses probabilities: threshold them first
    sampling = _spacing(spacing, array.ndim)
    count = np.count_nonzero(array if label is None else array == label)
    return float(count * np.prod(sampling) / 1000.0)


def _check_volumes(edv, esv, strict: bool) -> tuple[np.ndarray, np.ndarray]:
    edv_array = np.asarray(edv, dtype=float)
    esv_array = np.asarray(esv, dtype=float)
    if not (np.all(np.isfinite(edv_array)) and np.all(np.isfinite(esv_array))):
        raise ValueError(f"volumes must be finite numbers in mL, got EDV={edv} and ESV={esv}.")
    if np.any(edv_array < 0) or np.any(esv_array < 0):
        raise ValueError(f"volumes cannot be negative, got EDV={edv} and ESV={esv} mL.")
    if strict:
        if np.any(edv_array <= 0):
            raise ValueError(f"the end-diastolic volume must be above 0 mL, got EDV={edv}; "
                             "is the end-diastolic mask empty?")
        if np.any(esv_array > edv_array):
            raise ValueError(f"the end-systolic volume ({esv} mL) is larger than the "
                             f"end-diastolic volume ({edv} mL); are the phases swapped? "
                             "Pass strict=False to compute it anyway (e.g. for predictions).")
    return edv_array, esv_array


def _as_result(array: np.ndarray):
    return float(array) if array.ndim == 0 else array


def stroke_volume(edv, esv, *, strict: bool = True):
    """Stroke volume ``EDV - ESV`` in mL (numbers or arrays of per-patient volumes).

    Same checks as :func:`ejection_fraction`; with ``strict=False`` the result may be
    negative.

    Example:
        >>> stroke_volume(120.0, 50.0)
        70.0
    """
    edv_array, esv_array = _check_volumes(edv, esv, strict)
    return _as_result(edv_array - esv_array)


def ejection_fraction(edv, esv, *, strict: bool = True):
    """Ejection fraction ``100 (EDV - ESV) / EDV`` in percent.

    Args:
        edv: end-diastolic volume in mL (a number or an array, one per patient).
        esv: end-systolic volume in mL, same shape.
        strict: True (default) raises ``ValueError`` when EDV <= 0 (the fraction is
            undefined: usually an empty end-diastolic mask) or ESV > EDV (physiologically
            impossible: usually swapped phases). ``strict=False``, meant for scoring
            predicted masks, returns ``nan`` where EDV is 0 and a negative EF where
            ESV > EDV, so that one bad prediction does not stop an evaluation.

    Negative or non-finite volumes always raise ``ValueError``.

    Example:
        >>> ejection_fraction(120.0, 50.0)
        58.333333333333336
        >>> ejection_fraction(40.0, 50.0, strict=False)
        -25.0
    """
    edv_array, esv_array = _check_volumes(edv, esv, strict)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = 100.0 * (edv_array - esv_array) / edv_array
    fraction = np.where(edv_array > 0, fraction, np.nan)
    return _as_result(fraction)


# --------------------------------------------------------------- segmentation table
def segmentation_scores(truth_labels, pred_labels, spacing,
                        labels: Sequence[int] | Mapping[str, int] = FOREGROUND_LABELS
                        ) -> dict[Any, dict[str, float | bool]]:
    """Every segmentation number for one case, per label: the row of an evaluation table.

    Args:
        truth_labels, pred_labels: integer label maps of the same shape (``(H, W, S)``).
        spacing: voxel size in mm, one value per axis.
        labels: label values, or ``{name: value}`` (as in ``dataset.json``) to key the
            result by name.

    Returns:
        ``{label or name: {"dice", "iou", "hausdorff95_mm", "truth_ml", "predicted_ml",
        "both_empty"}}``; ``both_empty`` is True when the label is absent from both maps
        (its Dice/IoU are then 1.0 and HD95 0.0 by convention), so a table can report how
        often that happened.

    Example:
        >>> truth = np.zeros((8, 8, 2), np.uint8); truth[2:6, 2:6, 0] = 1
        >>> scores = segmentation_scores(truth, truth, (1.0, 1.0, 10.0), {"LV": 1, "RV": 3})
        >>> scores["LV"]["dice"], scores["LV"]["truth_ml"], scores["RV"]["both_empty"]
        (1.0, 0.16, True)
    """
    truth = _label_map(truth_labels, "truth_labels")
    pred = _label_map(pred_labels, "pred_labels")
    _same_shape(truth, pred, ("truth_labels", "pred_labels"))
    sampling = _spacing(spacing, truth.ndim)
    items = labels.items() if isinstance(labels, Mapping) else ((int(k), k) for k in labels)
    table: dict[Any, dict[str, float | bool]] = {}
    for key, value in items:
        truth_mask, pred_mask = truth == value, pred == value
        table[key] = {
            "dice": dice(truth_mask, pred_mask),
            "iou": iou(truth_mask, pred_mask),
            "hausdorff95_mm": hausdorff95(truth_mask, pred_mask, sampling),
            "truth_ml": volume_ml(truth_mask, sampling),
            "predicted_ml": volume_ml(pred_mask, sampling),
            "both_empty": bool(not truth_mask.any() and not pred_mask.any()),
        }
    return table


# ------------------------------------------------------------------- classification
def _class_labels(y, name: str) -> np.ndarray:
    """Class labels as a flat int64 array of non-negative whole numbers."""
    array = _label_map(y, name).ravel().astype(np.int64)
    if array.size == 0:
        raise ValueError(f"{name} is empty; there is nothing to score.")
    if array.min() < 0:
        raise ValueError(f"{name} must hold class numbers 0, 1, 2, ..., got {array.min()}.")
    return array


def _label_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    truth = _class_labels(y_true, "y_true")
    pred = _class_labels(y_pred, "y_pred")
    if truth.shape != pred.shape:
        raise ValueError(f"y_true and y_pred must have one label per sample each, got "
                         f"{truth.size} and {pred.size}.")
    return truth, pred


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted class equals the true class.

    Args:
        y_true, y_pred: class numbers (0, 1, ...) or booleans, one per sample (any shape,
            flattened). Turn probabilities into classes first (``p > 0.5``, ``argmax``).

    Example:
        >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
        0.75
    """
    truth, pred = _label_pair(y_true, y_pred)
    return float(np.mean(truth == pred))


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts of (true class, predicted class): rows are the truth, columns the prediction.

    Args:
        y_true, y_pred: class numbers 0..n_classes-1, one per sample.
        n_classes: size of the matrix; default: the largest class seen + 1.

    Returns:
        int64 array ``(n_classes, n_classes)``; ``matrix[i, j]`` counts samples of class
        ``i`` predicted as ``j``, so the diagonal holds the correct ones. For binary
        labels ``[[TN, FP], [FN, TP]]``.

    Example:
        >>> confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
        array([[1, 1],
               [1, 2]])
    """
    truth, pred = _label_pair(y_true, y_pred)
    largest = int(max(truth.max(), pred.max()))
    if n_classes is None:
        n_classes = largest + 1
    elif largest >= n_classes:
        raise ValueError(f"class {largest} does not fit n_classes={n_classes}; "
                         "classes must be numbered 0 to n_classes - 1.")
    counts = np.bincount(truth * n_classes + pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def sensitivity(y_true, y_pred, positive: int = 1) -> float:
    """Sensitivity (recall, true-positive rate): TP / (TP + FN) for class ``positive``.

    With more than two classes, ``positive`` is scored one-versus-rest.

    Raises:
        ValueError: y_true has no sample of class ``positive`` (sensitivity is undefined).

    Example:
        >>> sensitivity([1, 1, 1, 0], [1, 1, 0, 0])
        0.6666666666666666
    """
    truth, pred = _label_pair(y_true, y_pred)
    actual = truth == positive
    if not actual.any():
        raise ValueError(f"sensitivity is undefined: y_true has no sample of class {positive}.")
    return float(np.count_nonzero(actual & (pred == positive)) / np.count_nonzero(actual))


def specificity(y_true, y_pred, positive: int = 1) -> float:
    """Specificity (true-negative rate): TN / (TN + FP), negatives being all classes but
    ``positive``.

    Raises:
        ValueError: y_true has no sample outside class ``positive``.

    Example:
        >>> specificity([1, 0, 0, 0], [1, 0, 0, 1])
        0.6666666666666666
    """
    truth, pred = _label_pair(y_true, y_pred)
    negative = truth != positive
    if not negative.any():
        raise ValueError("specificity is undefined: y_true has no sample outside class "
                         f"{positive}.")
    return float(np.count_nonzero(negative & (pred != positive)) / np.count_nonzero(negative))


def balanced_accuracy(y_true, y_pred) -> float:
    """Mean recall over the classes present in ``y_true``.

    For two classes this is ``(sensitivity + specificity) / 2``; a model that always
    predicts the majority class scores 1 / (number of classes), whatever the imbalance.

    Example:
        >>> balanced_accuracy([0, 0, 0, 0, 0, 0, 1, 1], [0] * 8)   # accuracy would be 0.75
        0.5
    """
    truth, pred = _label_pair(y_true, y_pred)
    recalls = [np.mean(pred[truth == c] == c) for c in np.unique(truth)]
    return float(np.mean(recalls))


def _binary_scores(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    truth = _class_labels(y_true, "y_true")
    if truth.max() > 1:
        raise ValueError("y_true must be binary (0 = negative, 1 = positive), got class "
                         f"{truth.max()}.")
    values = np.asarray(scores, dtype=float).ravel()
    if values.shape != truth.shape:
        raise ValueError(f"y_true and scores need one value per sample each, got "
                         f"{truth.size} and {values.size}.")
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite numbers (probabilities or logits); "
                         "found NaN or infinity.")
    n_positive = int(truth.sum())
    if n_positive == 0 or n_positive == truth.size:
        present = "positive (1)" if n_positive else "negative (0)"
        raise ValueError(f"ROC needs both classes in y_true, but every sample is {present}.")
    return truth, values


def roc_auc(y_true, scores) -> float:
    """Area under the ROC curve: the probability that a random positive scores higher
    than a random negative, ties counting one half (Mann-Whitney U / (n_pos n_neg)).

    Args:
        y_true: 0/1 (or bool), one per sample; both classes must be present.
        scores: a number per sample, higher = more likely positive (probabilities or logits).

    Raises:
        ValueError: only one class in ``y_true``, or non-finite scores.

    Example:
        >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
        >>> roc_auc([0, 1], [0.5, 0.5])
        0.5
    """
    truth, values = _binary_scores(y_true, scores)
    ranks = stats.rankdata(values)  # average ranks for ties
    n_positive = int(truth.sum())
    n_negative = truth.size - n_positive
    u_statistic = ranks[truth == 1].sum() - n_positive * (n_positive + 1) / 2.0
    return float(u_statistic / (n_positive * n_negative))


def roc_curve(y_true, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points of the ROC curve, one per distinct score used as a threshold.

    Returns:
        ``(false_positive_rate, true_positive_rate, thresholds)``: the point ``i`` calls
        "positive" every sample with ``score >= thresholds[i]``. Thresholds decrease; the
        first point is ``(0, 0)`` with threshold ``inf`` and the last is ``(1, 1)``. Tied
        scores give one diagonal step, so ``np.trapezoid(tpr, fpr)`` equals
        :func:`roc_auc`.

    Example:
        >>> fpr, tpr, thresholds = roc_curve([0, 1, 1], [0.2, 0.9, 0.2])
        >>> fpr, tpr
        (array([0., 0., 1.]), array([0. , 0.5, 1. ]))
    """
    truth, values = _binary_scores(y_true, scores)
    order = np.argsort(-values, kind="stable")
    sorted_values, sorted_truth = values[order], truth[order]
    # the last index of each run of equal scores
    ends = np.r_[np.nonzero(np.diff(sorted_values))[0], sorted_values.size - 1]
    true_positives = np.cumsum(sorted_truth)[ends]
    false_positives = (ends + 1) - true_positives
    tpr = np.r_[0.0, true_positives / true_positives[-1]]
    fpr = np.r_[0.0, false_positives / false_positives[-1]]
    thresholds = np.r_[np.inf, sorted_values[ends]]
    return fpr, tpr, thresholds
