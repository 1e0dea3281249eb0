"""Classic pitfalls of medical machine learning (workshop 3): the reference answers.

Three checks a careful researcher runs before believing a score:

- :func:`leaked_patients`: is any *patient* in more than one of the training, validation
  and test sets? Slices of one patient look alike, so a split by slice lets the model
  recognise patients it has already seen and the test score is too good to be true.
- :func:`imbalance_report`: how unequal are the classes, and what do accuracy and
  balanced accuracy say? On a set that is 90 % one class, a model that always answers
  that class has 90 % accuracy but only 50 % balanced accuracy.
- :func:`intensity_shift`: does one "scanner" (site, vendor, protocol) give brighter or
  darker images than the scanner the model was trained on? A model may fail on images
  that look different even though the anatomy is the same.

Slice names are ``"<patient>_<phase>_s<slice>"`` (e.g. ``"p0012_ED_s03"``): the patient
id is everything before the first underscore, whatever its length.
"""
from __future__ import annotations

import numpy as np

from chdml.data.split import find_leakage
from chdml.metrics import accuracy, balanced_accuracy


def patient_of(slice_name: str) -> str:
    """The patient id of a slice name: the part before the first underscore."""
    return str(slice_name).split("_", 1)[0]


def slice_name(patient: str, phase: str, slice_index: int) -> str:
    """``"p0012_ED_s03"``: the name of one slice, as the workshop's tables write it."""
    return f"{patient}_{phase}_s{int(slice_index):02d}"


def leaked_patients(train_slices, validation_slices, test_slices) -> list[str]:
    """Sorted ids of the patients whose slices appear in more than one set.

    Each argument lists slice names (see the module doc); a patient with many slices in
    one set only is not a leak. Built on :func:`chdml.data.split.find_leakage`.

    Example:
        >>> leaked_patients(["p1_ED_s00", "p1_ED_s01"], ["p2_ED_s00"], ["p1_ES_s04"])
        ['p1']
    """
    return sorted(find_leakage([patient_of(name) for name in train_slices],
                               [patient_of(name) for name in validation_slices],
                               [patient_of(name) for name in test_slices]))


def imbalance_report(true_labels, predicted_labels) -> dict:
    """Class fractions of the true labels, and accuracy and balanced accuracy.

    Args:
        true_labels, predicted_labels: class numbers 0, 1, ..., one per sample.

    Returns:
        ``{"class_fractions": [f0, f1, ...], "accuracy": a, "balanced_accuracy": b}``:
        ``class_fractions[c]`` is the fraction of *true* labels equal to ``c`` for
        ``c = 0 .. largest true class`` (they add up to 1); balanced accuracy is the mean
        over the classes present of the fraction of that class predicted correctly
        (:func:`chdml.metrics.balanced_accuracy`).

    Example:
        >>> imbalance_report([0, 0, 0, 1], [0, 0, 0, 0])
        {'class_fractions': [0.75, 0.25], 'accuracy': 0.75, 'balanced_accuracy': 0.5}
    """
    truth = np.asarray(true_labels).astype(np.int64).ravel()
    counts = np.bincount(truth)
    return {"class_fractions": (counts / truth.size).tolist(),
            "accuracy": accuracy(true_labels, predicted_labels),
            "balanced_accuracy": balanced_accuracy(true_labels, predicted_labels)}


def intensity_shift(images, scanners, reference_scanner: str, tolerance: float = 0.2
                    ) -> dict:
    """Mean intensity per scanner, and the scanners that differ from the reference.

    Args:
        images: ``(N, height, width[, channels])`` intensities, one image per row.
        scanners: ``(N,)`` the scanner id of each image.
        reference_scanner: the scanner the model was trained on.
        tolerance: a scanner is *shifted* when its mean differs from the reference
            scanner's mean by more than this fraction of the reference mean (0.2 = 20 %),
            brighter or darker.

    Returns:
        ``{"mean_intensity": {scanner: mean of all its pixels}, "shifted": [sorted
        scanner ids]}`` (the reference scanner is never shifted).

    Example:
        >>> images = np.stack([np.full((2, 2), 0.5), np.full((2, 2), 0.3)])
        >>> intensity_shift(images, ["A", "B"], "A")["shifted"]
        ['B']
    """
    images = np.asarray(images, dtype=np.float64)
    scanners = np.asarray(scanners).astype(str)
    if images.shape[0] != scanners.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {scanners.shape[0]} scanner ids")
    means = {str(scanner): float(images[scanners == scanner].mean())
             for scanner in np.unique(scanners)}
    if reference_scanner not in means:
        raise ValueError(f"no image comes from the reference scanner {reference_scanner!r}")
    reference = means[reference_scanner]
    shifted = sorted(scanner for scanner, mean in means.items()
                     if abs(mean - reference) > tolerance * reference)
    return {"mean_intensity": means, "shifted": shifted}
