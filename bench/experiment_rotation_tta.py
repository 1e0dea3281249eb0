"""Experiment: does rotation test-time augmentation help the kept cross-validation models?

Usage::

    .venv/bin/python bench/experiment_rotation_tta.py --data K_RV --models ENSEMBLES \\
        [--angles=-15,0,15]

``K_RV``: a Karimi folder (``chdml data fetch karimi2020 --split train --structure RV``);
``ENSEMBLES``: the ``--keep`` folder of ``bench_karimi_cv.py`` (``<structure>_fold<k>.keras``).
Each held-out volume is segmented as ``chdml predict`` does, except that every slice is
also predicted turned by each angle (degrees, bilinear) and the class probabilities,
turned back, are averaged before the arg-max and the post-processing. No training; the
folds are those of ``bench_karimi_cv.py`` (5 folds, seed 0). Prints the mean per-patient
3-D Dice per phase. ``--angles=0`` reproduces the models' stored scores.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_karimi_cv as cv  # noqa: E402


def rotation_averaged(predict, angles):
    """Wrap :func:`chdml.inference.predict_slices` so that it always turns by ``angles``
    (the models' own test-time rotations are replaced)."""

    def predict_turned(model, slices, flips=(), rotations=(), batch_size=16):
        return predict(model, slices, flips, rotations=angles, batch_size=batch_size)
    return predict_turned


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="Karimi dataset folder (one structure)")
    parser.add_argument("--models", required=True, help="folder of <structure>_fold<k>.keras")
    parser.add_argument("--angles", default="-15,0,15", help="degrees, comma-separated")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)

    from chdml import inference

    angles = [float(a) for a in args.angles.split(",")]
    inference.predict_slices = rotation_averaged(inference.predict_slices, angles)
    data = Path(args.data)
    structure = cv.structure_of(data)
    records = cv.training_records(data)
    scores = {"ED": [], "ES": []}
    for fold in range(args.folds):
        test_patients = cv.held_out_patients(records, args.folds, 0, fold)
        model_path = Path(args.models) / f"{structure}_fold{fold}.keras"
        for row in cv.score_fold(data, model_path, test_patients, variants=False):
            scores[row["phase"]].append(row["dice"])
        print(f"fold {fold} done", flush=True)
    print(f"| structure | angles | {structure}-ED | {structure}-ES |\n|---|---|---:|---:|\n"
          f"| {structure} | {args.angles} | {np.mean(scores['ED']):.3f} | "
          f"{np.mean(scores['ES']):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
