"""The dataset folder: the one on-disk format every chdml command reads and writes.

Layout (as in nnU-Net / the Medical Segmentation Decathlon)::

    DIR/
      dataset.json              label names and values, modality, description
      cases.csv                 one row per case (see CASE_COLUMNS)
      imagesTr/<case>_0000.nii.gz
      labelsTr/<case>.nii.gz
      imagesTs/<case>_0000.nii.gz   (only where a test split exists)
      labelsTs/<case>.nii.gz

Label values are the same in every chdml dataset: 0 background, 1 left-ventricular
(LV) blood pool, 2 LV myocardium, 3 right-ventricular (RV) blood pool. A dataset lists
in ``dataset.json`` only the labels it has (the pediatric CHD set has LV or RV).

``cases.csv`` columns: ``case, patient, split, phase, view, <diagnosis|phenotype>,
spacing``. ``split`` is ``train`` (files in imagesTr/labelsTr) or ``test``
(imagesTs/labelsTs). ``phase`` is ``ED`` or ``ES``; ``view`` is ``SAX`` (short axis),
``2CH``, ``4CH`` or ``OT`` (outflow tract). The clinical column is called ``diagnosis``
for real data and ``phenotype`` for synthetic data; readers accept either. ``spacing``
is ``row x column x slice`` in mm, e.g. ``1.25x1.25x8``.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from pathlib import Path

from chdml.atomic import write_text
from chdml.errors import UserError, describe_path

LABELS = {"background": 0, "LV": 1, "MYO": 2, "RV": 3}
LABEL_DESCRIPTIONS = {
    "background": "everything else",
    "LV": "left-ventricular blood pool",
    "MYO": "left-ventricular myocardium",
    "RV": "right-ventricular blood pool",
}
VIEWS = ("SAX", "2CH", "4CH", "OT")
PHASES = ("ED", "ES")
SPLITS = ("train", "test")
CASE_COLUMNS = ("case", "patient", "split", "phase", "view", "diagnosis", "spacing")
_SPLIT_DIRS = {"train": ("imagesTr", "labelsTr"), "test": ("imagesTs", "labelsTs")}


@dataclasses.dataclass(frozen=True)
class CaseRecord:
    """One row of ``cases.csv``: one image volume (and its label map, if any)."""

    case: str
    patient: str
    split: str = "train"
    phase: str = ""
    view: str = "SAX"
    diagnosis: str = ""
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)


def format_spacing(spacing) -> str:
    """``(1.25, 1.25, 8.0)`` -> ``'1.25x1.25x8'``."""
    return "x".join(f"{float(s):g}" for s in spacing)


def parse_spacing(text: str) -> tuple[float, float, float]:
    """``'1.25x1.25x8'`` -> ``(1.25, 1.25, 8.0)``; raises ValueError on anything else."""
    parts = [float(p) for p in str(text).lower().split("x")]
    if len(parts) != 3:
        raise ValueError(f"spacing {text!r} does not have three parts")
    return tuple(parts)  # type: ignore[return-value]


def image_path(root: os.PathLike | str, record: CaseRecord) -> Path:
    """Where the image of ``record`` lives in the dataset folder ``root``."""
    return Path(root) / _SPLIT_DIRS[record.split][0] / f"{record.case}_0000.nii.gz"


def label_path(root: os.PathLike | str, record: CaseRecord) -> Path:
    """Where the label map of ``record`` lives in the dataset folder ``root``."""
    return Path(root) / _SPLIT_DIRS[record.split][1] / f"{record.case}.nii.gz"


def write_metadata(root: os.PathLike | str, records, labels: dict[str, int], name: str,
                   description: str = "", clinical_column: str = "diagnosis",
                   reference: str = "", licence: str = "") -> None:
    """Write ``dataset.json`` and ``cases.csv`` for ``records`` into ``root``.

    ``clinical_column`` is ``"diagnosis"`` (real data) or ``"phenotype"`` (synthetic).
    """
    root = Path(root)
    records = list(records)
    splits = {r.split for r in records}
    meta = {
        "name": name,
        "description": description,
        "reference": reference,
        "licence": licence,
        "modality": {"0": "cine MRI (bSSFP)"},
        "labels": dict(labels),
        "label_descriptions": {k: LABEL_DESCRIPTIONS.get(k, k) for k in labels},
        "file_ending": ".nii.gz",
        "numTraining": sum(r.split == "train" for r in records),
        "numTest": sum(r.split == "test" for r in records),
        "splits": sorted(splits),
    }
    write_text(root / "dataset.json", json.dumps(meta, indent=2) + "\n")
    buf = io.StringIO()
    columns = [clinical_column if c == "diagnosis" else c for c in CASE_COLUMNS]
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in records:
        writer.writerow([r.case, r.patient, r.split, r.phase, r.view, r.diagnosis,
                         format_spacing(r.spacing)])
    write_text(root / "cases.csv", buf.getvalue())


def read_labels(root: os.PathLike | str) -> dict[str, int]:
    """Label name -> value from ``dataset.json`` (background included)."""
    path = Path(root) / "dataset.json"
    if not path.is_file():
        raise UserError(f"{describe_path(path)} is missing; {describe_path(root)} is not a "
                        "chdml dataset folder (make one with 'chdml data synth' or "
                        "'chdml data fetch').")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        labels = {str(k): int(v) for k, v in meta["labels"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{describe_path(path)} is not valid ({exc}); it needs a 'labels' "
                        'object such as {"background": 0, "LV": 1}.') from None
    return labels


def read_cases(root: os.PathLike | str) -> list[CaseRecord]:
    """All rows of ``cases.csv`` as :class:`CaseRecord` objects, in file order."""
    path = Path(root) / "cases.csv"
    if not path.is_file():
        raise UserError(f"{describe_path(path)} is missing; {describe_path(root)} is not a "
                        "chdml dataset folder (make one with 'chdml data synth' or "
                        "'chdml data fetch').")
    records = []
    with path.open(newline="", encoding="utf-8") as fh:
        for line_no, row in enumerate(csv.DictReader(fh), start=2):
            try:
                records.append(CaseRecord(
                    case=row["case"], patient=row["patient"],
                    split=row.get("split") or "train", phase=row.get("phase") or "",
                    view=row.get("view") or "SAX",
                    diagnosis=row.get("diagnosis") or row.get("phenotype") or "",
                    spacing=parse_spacing(row.get("spacing") or "1x1x1")))
            except (KeyError, ValueError, TypeError) as exc:
                raise UserError(f"line {line_no} of {describe_path(path)} is not valid "
                                f"({exc}); fix or remove that row.") from None
            if records[-1].split not in _SPLIT_DIRS:
                raise UserError(f"line {line_no} of {describe_path(path)} has split "
                                f"{records[-1].split!r}; use 'train' or 'test'.")
    return records
