"""Experiment: is a kept cross-validation model's error a threshold it could move?

Usage::

    .venv/bin/python bench/experiment_threshold.py --data K_RV --models ENSEMBLES \\
        [--thresholds 0.3,0.35,0.4,0.45,0.5] [--worst 8]

``K_RV``: a Karimi folder (``chdml data fetch karimi2020 --split train --structure RV``);
``ENSEMBLES``: the ``--keep`` folder of ``bench_karimi_cv.py`` (``<structure>_fold<k>.keras``).
Each held-out volume's class probabilities are computed as ``chdml predict`` computes
them (:func:`chdml.inference.class_probabilities`); the structure is then every voxel
whose probability exceeds the threshold, followed by the model's post-processing. Prints
the mean per-patient 3-D Dice per phase and threshold, the predicted / true volume ratio,
and, for the worst volumes at the arg-max (threshold 0.5 for one structure), the true
and predicted voxels per slice and the highest probability inside the true structure on
each slice. No training; the folds are those of ``bench_karimi_cv.py`` (5 folds, seed 0).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_karimi_cv as cv  # noqa: E402


def held_out_probabilities(data: Path, models: Path, n_folds: int = 5):
    """Yield ``(record, probability, truth, spacing, info)`` for every held-out volume.

    ``probability`` ``(rows, columns, slices)``: of the dataset's one structure;
    ``truth`` the same shape, bool.
    """
    from chdml.data import folder
    from chdml.data.nifti import load_image, load_label
    from chdml.inference import class_probabilities, load_model_file

    structure = cv.structure_of(data)
    records = cv.training_records(data)
    for fold in range(n_folds):
        test_patients = cv.held_out_patients(records, n_folds, 0, fold)
        model, info = load_model_file(models / f"{structure}_fold{fold}.keras")
        value = [v for v in info.label_values if v != 0][0]
        for r in records:
            if r.patient not in test_patients:
                continue
            volume = load_image(folder.image_path(data, r))
            truth = load_label(folder.label_path(data, r)).array == value
            p = class_probabilities(model, info, volume.array)[..., info.label_values.index(value)]
            yield r, p, truth, volume.spacing, info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="Karimi dataset folder (one structure)")
    parser.add_argument("--models", required=True, help="folder of <structure>_fold<k>.keras")
    parser.add_argument("--thresholds", default="0.3,0.35,0.4,0.45,0.5")
    parser.add_argument("--worst", type=int, default=8, help="volumes to show per slice")
    args = parser.parse_args(argv)

    from chdml.inference import postprocess

    thresholds = [float(t) for t in args.thresholds.split(",")]
    rows = []
    for r, p, truth, spacing, info in held_out_probabilities(Path(args.data), Path(args.models)):
        guesses = {t: postprocess((p > t).astype(np.uint8), info, spacing) > 0
                   for t in set(thresholds) | {0.5}}
        scores = {t: cv.dice(truth, guesses[t]) for t in thresholds}
        guess = guesses[0.5]
        per_slice = [(int(truth[..., k].sum()), int(guess[..., k].sum()),
                      float(p[..., k][truth[..., k]].max()) if truth[..., k].any() else None)
                     for k in range(truth.shape[2])]
        rows.append({"case": r.case, "phase": r.phase, "diagnosis": r.diagnosis,
                     "scores": scores, "ratio": guess.sum() / max(truth.sum(), 1),
                     "slices": per_slice})
    print("| phase | " + " | ".join(f"t={t:g}" for t in thresholds)
          + " | volume ratio (median) |\n|---|" + "---:|" * (len(thresholds) + 1))
    for phase in ("ED", "ES"):
        chosen = [row for row in rows if row["phase"] == phase]
        print(f"| {phase} | " + " | ".join(f"{np.mean([c['scores'][t] for c in chosen]):.3f}"
                                          for t in thresholds)
              + f" | {np.median([c['ratio'] for c in chosen]):.2f} |")
    print("\nworst volumes (per slice: true voxels / predicted voxels / highest probability "
          "in the true structure)")
    for row in sorted(rows, key=lambda row: row["scores"][max(thresholds)])[:args.worst]:
        slices = " ".join(f"{t}/{g}/{'-' if m is None else f'{m:.2f}'}"
                          for t, g, m in row["slices"])
        print(f"{row['case']} ({row['diagnosis']}) Dice {row['scores'][max(thresholds)]:.3f}, "
              f"volume ratio {row['ratio']:.2f}: {slices}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
