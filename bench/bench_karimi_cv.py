"""5-fold patient-level cross-validation of ``chdml train segmentation`` on real data.

Uses the 26 official training patients of the pediatric CHD set (Karimi-Bidhendi et al.
2020) as converted by ``chdml data fetch karimi2020 --structure LV|RV``. For each fold
the held-out patients are hidden from training (a fold folder links only the other
patients' files into ``imagesTr/labelsTr``), the default ``chdml train segmentation``
runs on it (which holds out its own validation patients), and the held-out volumes are
segmented with the saved model exactly as ``chdml predict`` does. Scores: per-patient
3-D Dice per phase (ED, ES), per diagnosis, and the training time of each fold.

Run (about 10 trainings; hours on a 2-core CPU)::

    chdml data fetch karimi2020 --structure LV --out data/karimi_LV
    chdml data fetch karimi2020 --structure RV --out data/karimi_RV
    python bench/bench_karimi_cv.py --data data/karimi_LV data/karimi_RV

Results are appended (one JSON line per fold) to ``bench/output/karimi_cv.jsonl`` so
that an interrupted run can be resumed; the table goes to the console and, with
``--write-results``, to the "models" section of ``bench/RESULTS.md``.
Experiments may override settings: ``--set epochs=40 --set base_filters=24``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
PUBLISHED = {("LV", "ED"): 0.910, ("LV", "ES"): 0.868, ("RV", "ED"): 0.847, ("RV", "ES"): 0.806}


def assign_folds(records, n_folds: int, seed: int) -> dict[str, int]:
    """Patient -> fold, spread over diagnoses (round-robin within each diagnosis)."""
    diagnosis = {}
    for r in records:
        diagnosis.setdefault(r.patient, r.diagnosis)
    rng = random.Random(seed)
    groups: dict[str, list[str]] = {}
    for patient in sorted(diagnosis):
        groups.setdefault(diagnosis[patient], []).append(patient)
    fold_of, position = {}, 0
    for group in sorted(groups, key=lambda g: (-len(groups[g]), g)):
        members = groups[group]
        rng.shuffle(members)
        for patient in members:
            fold_of[patient] = position % n_folds
            position += 1
    return fold_of


def fold_folder(data: Path, records, train_patients: set[str], dest: Path) -> None:
    """A dataset folder in ``dest`` that links the training patients' files only."""
    from chdml.data import folder

    chosen = [r for r in records if r.patient in train_patients and r.split == "train"]
    for r in chosen:
        for src, dst in ((folder.image_path(data, r), folder.image_path(dest, r)),
                         (folder.label_path(data, r), folder.label_path(dest, r))):
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(src.resolve(), dst)
    meta = json.loads((data / "dataset.json").read_text())
    folder.write_metadata(dest, chosen, meta["labels"], name=meta.get("name", "fold"))


def dice(truth: np.ndarray, guess: np.ndarray) -> float:
    denominator = truth.sum() + guess.sum()
    return 1.0 if denominator == 0 else 2.0 * np.logical_and(truth, guess).sum() / denominator


def run_fold(data: Path, structure: str, fold: int, n_folds: int, seed: int, overrides: dict,
             work: Path) -> dict:
    from chdml import train
    from chdml.data import folder
    from chdml.data.nifti import load_image, load_label
    from chdml.inference import load_model_file, segment_volume

    records = [r for r in folder.read_cases(data) if r.split == "train"]
    fold_of = assign_folds(records, n_folds, seed)
    test_patients = {p for p, f in fold_of.items() if f == fold}
    train_patients = set(fold_of) - test_patients
    fold_dir = work / f"{structure}_fold{fold}"
    fold_folder(data, records, train_patients, fold_dir)
    settings = train.SegmentationSettings()
    for key, value in overrides.items():
        settings = _override(settings, key, value)
    model_path = work / f"{structure}_fold{fold}.keras"
    t0, cpu0 = time.time(), _cpu_seconds()
    train.train_segmentation(fold_dir, model_path, seed=seed, settings=settings, verbose=True)
    seconds, cpu_seconds = time.time() - t0, _cpu_seconds() - cpu0
    model, info = load_model_file(model_path)
    value = [v for v in info.label_values if v != 0][0]
    rows = []
    for r in records:
        if r.patient not in test_patients:
            continue
        volume = load_image(folder.image_path(data, r))
        image = volume.array
        truth = load_label(folder.label_path(data, r)).array == value
        guess = segment_volume(model, info, image, volume.spacing) == value
        variants = {}
        for flips in ([], info.test_time_flips):
            for post, min_ml in (("none", 0.0), ("largest_component", 0.0),
                                 ("largest_component", info.min_structure_ml)):
                variant = dataclasses.replace(info, test_time_flips=flips, postprocess=post,
                                              min_structure_ml=min_ml)
                guess_variant = segment_volume(model, variant, image, volume.spacing)
                variants[f"flips={'+'.join(flips) or 'none'},post={post},min_ml={min_ml}"] = \
                    float(dice(truth, guess_variant == value))
        rows.append({"case": r.case, "patient": r.patient, "phase": r.phase,
                     "diagnosis": r.diagnosis, "dice": float(dice(truth, guess)),
                     "variants": variants})
    return {"structure": structure, "fold": fold, "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu_seconds, 1),
            "epochs_run": info.training["epochs_run"], "best_epoch": info.training["best_epoch"],
            "overrides": overrides, "cases": rows, "load": os.getloadavg()[0]}


def _cpu_seconds() -> float:
    """CPU time (user + system, all threads) of this process so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _override(settings, key: str, value: str):
    if key.startswith("augment."):
        name = key.split(".", 1)[1]
        augment = dataclasses.replace(settings.augment, **{name: float(value)})
        return dataclasses.replace(settings, augment=augment)
    if key == "augment" and value in ("none", "off"):
        from chdml.augment import NO_AUGMENTATION
        return dataclasses.replace(settings, augment=NO_AUGMENTATION)
    current = getattr(settings, key)
    if current is None:
        current = 0 if value.lstrip("-").isdigit() else ""
    if isinstance(current, bool):
        value = value.lower() in ("1", "true", "yes")
    elif isinstance(current, int):
        value = int(value)
    elif isinstance(current, float):
        value = float(value)
    return dataclasses.replace(settings, **{key: value})


def summarise(results: list[dict]) -> str:
    lines = ["| structure | phase | patients | mean Dice | median | min | published |",
             "|---|---|---|---|---|---|---|"]
    for structure in ("LV", "RV"):
        for phase in ("ED", "ES"):
            scores = [c["dice"] for r in results if r["structure"] == structure
                      for c in r["cases"] if c["phase"] == phase]
            if scores:
                lines.append(f"| {structure} | {phase} | {len(scores)} | {np.mean(scores):.3f} | "
                             f"{np.median(scores):.3f} | {np.min(scores):.3f} | "
                             f"{PUBLISHED[(structure, phase)]:.3f} |")
    lines += ["", "| diagnosis | patients | LV-ED | LV-ES | RV-ED | RV-ES |", "|---|---|---|---|---|---|"]
    diagnoses = sorted({c["diagnosis"] for r in results for c in r["cases"]})
    for d in diagnoses:
        cells, patients = [], set()
        for structure in ("LV", "RV"):
            for phase in ("ED", "ES"):
                scores = [c["dice"] for r in results if r["structure"] == structure
                          for c in r["cases"] if c["phase"] == phase and c["diagnosis"] == d]
                patients |= {c["patient"] for r in results for c in r["cases"]
                             if c["diagnosis"] == d}
                cells.append(f"{np.mean(scores):.3f}" if scores else "-")
        lines.append(f"| {d} | {len(patients)} | " + " | ".join(cells) + " |")
    lines += ["", "| structure | fold | training wall time (min) | CPU time (min) | epochs run "
              "| best epoch | load average |", "|---|---|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: (r["structure"], r["fold"])):
        cpu = r.get("cpu_seconds")
        lines.append(f"| {r['structure']} | {r['fold']} | {r['seconds'] / 60:.1f} | "
                     f"{'-' if cpu is None else f'{cpu / 60:.1f}'} | {r['epochs_run']} | "
                     f"{r['best_epoch']} | {r.get('load', 0):.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", required=True,
                        help="dataset folders made by 'chdml data fetch karimi2020'")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", type=int, nargs="*", default=None, help="run these folds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a SegmentationSettings field (experiments)")
    parser.add_argument("--log", default=str(REPO / "bench" / "output" / "karimi_cv.jsonl"))
    parser.add_argument("--keep", default=None, help="folder to keep the fold models in")
    parser.add_argument("--write-results", action="store_true",
                        help="write the table into bench/RESULTS.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    overrides = dict(item.split("=", 1) for item in args.set)
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    done = []
    if log.exists():
        done = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        done = [r for r in done if r["overrides"] == overrides]
    folds = args.only if args.only is not None else list(range(args.folds))
    with tempfile.TemporaryDirectory(prefix="chdml_cv_") as tmp:
        for data in map(Path, args.data):
            labels = json.loads((data / "dataset.json").read_text())["labels"]
            structure = [k for k in labels if k != "background"][0]
            for fold in folds:
                if any(r["structure"] == structure and r["fold"] == fold for r in done):
                    continue
                result = run_fold(data, structure, fold, args.folds, args.seed, overrides,
                                  Path(tmp))
                if args.keep:
                    import shutil

                    Path(args.keep).mkdir(parents=True, exist_ok=True)
                    for suffix in (".keras", "_curves.png"):
                        name = f"{structure}_fold{fold}{suffix}"
                        shutil.copy(Path(tmp) / name, Path(args.keep) / name)
                with log.open("a") as fh:
                    fh.write(json.dumps(result) + "\n")
                done.append(result)
                scores = [c["dice"] for c in result["cases"]]
                print(f"{structure} fold {fold}: mean Dice {np.mean(scores):.3f} "
                      f"({result['seconds'] / 60:.1f} min)", flush=True)
    table = summarise(done)
    print(table)
    if args.write_results:
        from models_results import write_section

        command = "python bench/bench_karimi_cv.py --data " + " ".join(args.data)
        write_section("Karimi 2020: 5-fold cross-validation", table, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
