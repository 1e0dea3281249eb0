"""``chdml data synth``: write the synthetic CHD cine set as a dataset folder.

Per patient ``pNNNN`` it writes, in ``imagesTr/`` and ``labelsTr/``:

* ``pNNNN_SAX_ED`` and ``pNNNN_SAX_ES``: short-axis stacks ``(128, 128, slices)``,
  slice 0 at the base, the last at the apex;
* ``pNNNN_{2CH,4CH,OT}_{ED,ES}``: single long-axis slices stored as ``(128, 128, 1)``.

``cases.csv`` lists every case with its patient, phase, view, phenotype and spacing;
``patients.csv`` adds what only a synthetic set can know: each patient's scanner and the
true ventricular volumes and ejection fractions measured on its short-axis labels.
The same ``seed`` gives byte-identical files on every run and machine with the same
library versions.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from chdml.atomic import atomic_directory, write_text
from chdml.data.folder import LABELS, CaseRecord, image_path, label_path, write_metadata
from chdml.data.nifti import save_image, save_label
from chdml.data.synth.patient import make_patient
from chdml.errors import UserError, describe_path

DESCRIPTION = ("Synthetic paediatric congenital heart disease cine MRI (balanced SSFP look) "
               "made by chdml: short-axis stacks and 2-chamber, 4-chamber and outflow-tract "
               "views at end-diastole and end-systole, with phenotypes normal, dilated RV, "
               "hypertrophied RV, single ventricle and dilated cardiomyopathy. Papillary "
               "muscles and trabeculae are labelled as blood pool. In a single ventricle "
               "the dominant ventricle is labelled LV (1) with its wall as myocardium (2).")


def _check_arguments(out, patients, seed, overwrite) -> Path:
    if isinstance(patients, bool) or not isinstance(patients, (int, np.integer)) or patients < 1:
        raise UserError(f"--patients must be a whole number of at least 1, got {patients!r}; "
                        "try --patients 20.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"--seed must be a whole number >= 0, got {seed!r}; try --seed 0.")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{describe_path(out)} is a file, not a folder; choose another "
                        "--out folder.")
    if out.exists() and not overwrite:
        raise UserError(f"{describe_path(out)} already exists; choose a new --out folder or "
                        "add --overwrite to replace it.")
    parent = out.resolve().parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK | os.X_OK) or not existing.is_dir():
        raise UserError(f"cannot create {describe_path(out)}: {describe_path(existing)} is not "
                        "a folder you can write to; choose another --out folder.")
    return out


def _volume_ml(label: np.ndarray, value: int, spacing) -> float:
    return float(np.count_nonzero(label == value)) * float(np.prod(spacing)) / 1000.0


def _patients_csv(rows) -> str:
    buf = io.StringIO()
    buf.write("patient,phenotype,scanner,lv_edv_ml,lv_esv_ml,lv_ef,rv_edv_ml,rv_esv_ml,"
              "rv_ef,myocardium_ml\n")
    for row in rows:
        buf.write(",".join(str(v) for v in row) + "\n")
    return buf.getvalue()


def _ef(edv, esv):
    return round(1.0 - esv / edv, 3) if edv > 0 else ""


def main(out, patients: int = 20, seed: int = 0, overwrite: bool = False) -> None:
    """Write ``patients`` synthetic patients made with ``seed`` into the folder ``out``.

    The folder appears complete or not at all (built beside ``out`` and renamed). An
    existing ``out`` is refused unless ``overwrite``. Returns the folder's path.

    Raises:
        UserError: ``patients`` < 1, ``seed`` < 0, ``out`` exists (without
            ``overwrite``), is a file, or cannot be written.
    """
    from tqdm import tqdm

    out = _check_arguments(out, patients, seed, overwrite)
    records, summary = [], []
    try:
        with atomic_directory(out, overwrite=overwrite) as tmp:
            for index in tqdm(range(int(patients)), desc="synthetic patients",
                              unit="patient"):
                patient = make_patient(int(seed), index)
                volumes = {}
                for image in patient.images:
                    case = f"{patient.patient}_{image.view}_{image.phase}"
                    record = CaseRecord(case=case, patient=patient.patient, split="train",
                                        phase=image.phase, view=image.view,
                                        diagnosis=patient.phenotype, spacing=image.spacing)
                    save_image(image_path(tmp, record), image.image, spacing=image.spacing)
                    save_label(label_path(tmp, record), image.label, spacing=image.spacing)
                    records.append(record)
                    if image.view == "SAX":
                        volumes[image.phase] = [_volume_ml(image.label, v, image.spacing)
                                                for v in (1, 3, 2)]
                (lv_ed, rv_ed, myo), (lv_es, rv_es, _) = volumes["ED"], volumes["ES"]
                summary.append([patient.patient, patient.phenotype, patient.scanner,
                                round(lv_ed, 2), round(lv_es, 2), _ef(lv_ed, lv_es),
                                round(rv_ed, 2), round(rv_es, 2), _ef(rv_ed, rv_es),
                                round(myo, 2)])
            write_metadata(tmp, records, LABELS, name="chdml synthetic CHD cine MRI",
                           description=DESCRIPTION, clinical_column="phenotype",
                           reference="chdml.data.synth (seed %d)" % seed,
                           licence="CC0-1.0")
            write_text(tmp / "patients.csv", _patients_csv(summary))
    except OSError as exc:  # permission denied, read-only or full disk
        raise UserError(f"cannot write {describe_path(out)} ({exc.strerror or exc}); choose "
                        "a folder you can write to, with free space.") from None
    print(f"wrote {len(records)} cases of {patients} synthetic patients to {out}")
