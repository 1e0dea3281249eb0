"""Fixture builders for dataset folders: tiny seeded NIfTI subjects in ``tmp_path``.

``make_dataset(root, ...)`` writes a clean chdml dataset folder (images with a left
ventricle, myocardium and right ventricle drawn on noise, label maps, dataset.json,
cases.csv); tests then break it on purpose. ``make_collection`` writes a public-collection
style folder (nnU-Net names, no cases.csv). Every builder is seeded and fast (< 0.1 s).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chdml.data.folder import LABELS, CaseRecord, image_path, label_path, write_metadata
from chdml.data.nifti import save_image, save_label

SHAPE = (24, 20, 4)           # rows, columns, slices: small, not square (odd cases tested)
SPACING = (1.5, 1.5, 8.0)
PHENOTYPES = ("normal", "ToF", "DCM", "SV")


def synthetic_case(rng: np.random.Generator, shape=SHAPE, phase: str = "ED"):
    """(image float32, label uint8), both ``(rows, columns, slices)``.

    A dark background with noise, a bright LV (1) inside a darker myocardium ring (2) and
    a bright RV (3) beside it; sizes shrink towards the apex and differ by phase, so no two
    slices are identical.
    """
    rows, columns, slices = shape
    r, c = np.mgrid[0:rows, 0:columns]
    image = np.zeros(shape, np.float32)
    label = np.zeros(shape, np.uint8)
    centre_r, centre_c = rows / 2 + rng.uniform(-1, 1), columns / 2 + rng.uniform(-1, 1)
    scale = 1.0 if phase == "ED" else 0.75
    for k in range(slices):
        radius = scale * (0.22 - 0.03 * k) * min(rows, columns)
        d_lv = np.hypot(r - centre_r, c - centre_c)
        d_rv = np.hypot(r - centre_r, c - (centre_c - 1.8 * radius))
        lv = d_lv < radius
        myo = (d_lv >= radius) & (d_lv < radius + 2)
        rv = (d_rv < radius) & ~lv & ~myo
        label[..., k][lv], label[..., k][myo], label[..., k][rv] = 1, 2, 3
        image[..., k] = 40 + 10 * rng.standard_normal((rows, columns))
        image[..., k][lv | rv] += 200
        image[..., k][myo] += 30
    return image, label


def make_dataset(root, patients: int = 3, phases=("ED", "ES"), test_patients: int = 0,
                 shape=SHAPE, spacing=SPACING, seed: int = 0,
                 labels=None) -> list[CaseRecord]:
    """Write a clean chdml dataset folder into ``root``; return its case records.

    Patients ``p000``, ``p001``, ...; the last ``test_patients`` go to imagesTs/labelsTs.
    Cases are ``<patient>_<phase>``. Phenotypes cycle through :data:`PHENOTYPES`.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    records = []
    for p in range(patients):
        split = "test" if p >= patients - test_patients else "train"
        for phase in phases:
            record = CaseRecord(case=f"p{p:03d}_{phase}", patient=f"p{p:03d}", split=split,
                                phase=phase, view="SAX",
                                diagnosis=PHENOTYPES[p % len(PHENOTYPES)],
                                spacing=tuple(float(s) for s in spacing))
            image, label = synthetic_case(rng, shape, phase)
            save_image(image_path(root, record), image, spacing=spacing)
            save_label(label_path(root, record), label, spacing=spacing)
            records.append(record)
    write_metadata(root, records, labels or dict(LABELS), name="test set",
                   clinical_column="phenotype")
    return records


def make_collection(root, names=("patient001_frame01", "patient001_frame12",
                                 "patient002_frame01", "patient002_frame10"),
                    shape=(22, 22, 3), spacing=(1.25, 1.25, 10.0), seed: int = 1,
                    label_names=None, nnunet_names: bool = True) -> list[str]:
    """Write an ACDC-like collection: nnU-Net file names, optional dataset.json, no cases.csv.

    ``label_names`` (e.g. ACDC's ``{"background": 0, "RV": 1, "MLV": 2, "LVC": 3}``) writes
    a dataset.json; the label maps are then renumbered from chdml's values to those.
    """
    import json

    root = Path(root)
    rng = np.random.default_rng(seed)
    renumber = np.arange(256, dtype=np.uint8)
    if label_names is not None:
        ours = {1: ("LVC", "LV"), 2: ("MLV", "MYO"), 3: ("RV",)}
        for value, synonyms in ours.items():
            renumber[value] = next(v for k, v in label_names.items() if k in synonyms)
        (root).mkdir(parents=True, exist_ok=True)
        (root / "dataset.json").write_text(json.dumps({"labels": label_names}))
    for name in names:
        image, label = synthetic_case(rng, shape)
        image_name = f"{name}_0000.nii.gz" if nnunet_names else f"{name}.nii.gz"
        save_image(root / "imagesTr" / image_name, image, spacing=spacing)
        save_label(root / "labelsTr" / f"{name}.nii.gz", renumber[label], spacing=spacing)
    return list(names)


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A clean dataset folder: 3 patients x (ED, ES), all in the training split."""
    root = tmp_path / "dataset"
    make_dataset(root)
    return root
