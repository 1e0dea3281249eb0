"""Tiny seeded cardiac-like dataset folders for the model tests (written with chdml's own
NIfTI and dataset-folder writers, independent of the synthetic generator)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from chdml.data import folder, nifti

SPACING = (1.5, 1.5, 8.0)


def _disc(rows, columns, centre, radius):
    r, c = np.mgrid[:rows, :columns]
    return (r - centre[0]) ** 2 + (c - centre[1]) ** 2 <= radius ** 2


def short_axis_volume(rng, shape=(48, 40, 4), phase="ED"):
    """Image and label map (0 bg, 1 LV, 2 MYO, 3 RV) of a crude short-axis stack."""
    rows, columns, slices = shape
    image = rng.normal(0.1, 0.03, shape).astype(np.float32)
    label = np.zeros(shape, np.uint8)
    scale = 1.0 if phase == "ED" else 0.8
    centre = (rows / 2 + rng.integers(-2, 3), columns / 2 + 3 + rng.integers(-2, 3))
    for k in range(slices):
        taper = 1.0 - 0.12 * k
        lv = _disc(rows, columns, centre, 7 * scale * taper)
        myo = _disc(rows, columns, centre, 10 * scale * taper) & ~lv
        rv_centre = (centre[0], centre[1] - 13 * scale)
        rv = _disc(rows, columns, rv_centre, 7 * scale * taper) & ~myo & ~lv
        label[..., k][rv] = 3
        label[..., k][myo] = 2
        label[..., k][lv] = 1
    image += np.select([label == 1, label == 2, label == 3], [0.9, 0.4, 0.8], 0.0)
    return image * 300.0, label


def long_axis_image(rng, shape=(48, 40, 1)):
    """A crude long-axis image: an elongated bright ellipse."""
    rows, columns, _ = shape
    r, c = np.mgrid[:rows, :columns]
    ellipse = ((r - rows / 2) / 18.0) ** 2 + ((c - columns / 2) / 6.0) ** 2 <= 1
    image = rng.normal(0.1, 0.03, (rows, columns)).astype(np.float32) + 0.8 * ellipse
    return (image * 300.0)[..., np.newaxis]


def write_dataset(root: Path, patients: int = 4, labels=None, seed: int = 0,
                  long_axis: bool = True, test_patients: int = 0, shape=(48, 40, 4),
                  affine=None) -> Path:
    """A dataset folder with SAX ED/ES stacks (and a 2CH image) per patient.

    ``labels``: the label values kept (others set to background), as the
    ``dataset.json`` mapping; default all of LV, MYO and RV.
    """
    labels = labels or {"background": 0, "LV": 1, "MYO": 2, "RV": 3}
    keep = np.array([v in labels.values() for v in range(256)])
    rng = np.random.default_rng(seed)
    records = []
    for p in range(patients + test_patients):
        split = "train" if p < patients else "test"
        patient = f"p{p:02d}"
        diagnosis = ["TOF", "normal"][p % 2]
        for phase in ("ED", "ES"):
            image, label = short_axis_volume(rng, shape, phase)
            label = np.where(keep[label], label, 0).astype(np.uint8)
            record = folder.CaseRecord(f"{patient}_{phase}", patient, split, phase, "SAX",
                                       diagnosis, SPACING)
            nifti.save_image(folder.image_path(root, record), image, SPACING, affine=affine)
            nifti.save_label(folder.label_path(root, record), label, SPACING, affine=affine)
            records.append(record)
        if long_axis:
            record = folder.CaseRecord(f"{patient}_2CH", patient, split, "ED", "2CH",
                                       diagnosis, (1.5, 1.5, 8.0))
            la = long_axis_image(rng, (shape[0], shape[1], 1))
            nifti.save_image(folder.image_path(root, record), la, SPACING)
            nifti.save_label(folder.label_path(root, record), np.zeros(la.shape, np.uint8),
                             SPACING)
            records.append(record)
    folder.write_metadata(root, records, labels, name="tiny", clinical_column="diagnosis")
    return root
