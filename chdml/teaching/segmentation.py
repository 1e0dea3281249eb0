"""Workshop 4 (segmentation): the structures, per-structure Dice and short-axis stacks.

Label values as everywhere in chdml: 0 background, 1 LV blood pool, 2 LV myocardium,
3 RV blood pool. :data:`STRUCTURES` maps the short names a clinician reads in the
notebook ("LV", "MYO", "RV") to those values.

Only NumPy is imported (the notebook and the checks import this module cheaply).
"""
from __future__ import annotations

import numpy as np

from chdml import metrics

#: Short structure name -> label value.
STRUCTURES = {"LV": 1, "MYO": 2, "RV": 3}

#: Short structure name -> what a clinician calls it.
STRUCTURE_NAMES = {"LV": "left-ventricular blood pool", "MYO": "left-ventricular myocardium",
                   "RV": "right-ventricular blood pool"}


def dice_per_structure(true_labels, predicted_labels) -> dict[str, float]:
    """Dice of each structure of two label maps: ``{"LV": ..., "MYO": ..., "RV": ...}``.

    Args:
        true_labels, predicted_labels: integer label maps of the same shape, one slice
            ``(H, W)``, a batch ``(N, H, W)`` or a stack ``(H, W, S)``; all pixels are
            pooled, so a batch gives one Dice per structure for the whole batch.

    A structure absent from both maps scores 1.0 (the convention of
    :func:`chdml.metrics.dice`), e.g. the RV of a single ventricle without an outlet
    chamber.

    Example:
        >>> truth = np.array([[1, 1, 2], [3, 3, 0]])
        >>> dice_per_structure(truth, truth)
        {'LV': 1.0, 'MYO': 1.0, 'RV': 1.0}
    """
    truth = np.asarray(true_labels)
    prediction = np.asarray(predicted_labels)
    return {name: metrics.dice(truth == label, prediction == label)
            for name, label in STRUCTURES.items()}


def patient_stack(slices, patient: str, phase: str):
    """One patient's short-axis stack at one phase, from a set of 2-D slices.

    Args:
        slices: a :class:`chdml.data.synth.SliceSet` (``images (N, H, W, 1)``, ``masks
            (N, H, W)``, ``patients``, ``phases``, ``slice_index``, ``spacing (N, 3)``).
        patient: a patient id of ``slices.patients`` (e.g. ``"p0003"``).
        phase: ``"ED"`` or ``"ES"``.

    Returns:
        ``(images, masks, spacing)``: images ``(N_slices, H, W, 1)`` float32 and masks
        ``(H, W, N_slices)`` uint8 ordered from base (slice 0) to apex, and spacing
        ``(row mm, column mm, slice thickness mm)``. Images keep the network's layout
        (one slice per row) so that ``model.predict(images)`` works on them; masks have
        the volume layout ``(rows, columns, slices)`` of :mod:`chdml.data.nifti`.

    Raises:
        ValueError: no slice of that patient at that phase.
    """
    chosen = np.flatnonzero((np.asarray(slices.patients) == patient)
                            & (np.asarray(slices.phases) == phase))
    if chosen.size == 0:
        raise ValueError(f"no slice of patient {patient!r} at phase {phase!r}; choose one of "
                         f"{sorted(set(np.asarray(slices.patients).tolist()))} and "
                         "'ED' or 'ES'.")
    chosen = chosen[np.argsort(np.asarray(slices.slice_index)[chosen], kind="stable")]
    images = np.asarray(slices.images)[chosen]
    masks = np.moveaxis(np.asarray(slices.masks)[chosen], 0, -1)
    spacing = tuple(float(value) for value in np.asarray(slices.spacing)[chosen[0]])
    return images, masks, spacing


def stack_labels(slice_labels) -> np.ndarray:
    """Per-slice label maps ``(N_slices, H, W)`` (a model's output after ``argmax``) as a
    volume ``(H, W, N_slices)``, the layout of :func:`patient_stack`'s masks."""
    return np.moveaxis(np.asarray(slice_labels), 0, -1)
