"""5-fold patient-level cross-validation of ``chdml train segmentation`` on real data.

Uses the 26 official training patients of the pediatric CHD set (Karimi-Bidhendi et al.
2020) as converted by ``chdml data fetch karimi2020 --structure LV|RV``. For each fold
the held-out patients are hidden from training (a fold folder links only the other
patients' files into ``imagesTr/labelsTr``), the default ``chdml train segmentation``
runs on it (the fold's other patients only), and the held-out volumes are
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


def structure_of(data: Path) -> str:
    """The one structure (label name besides background) of a Karimi dataset folder."""
    labels = json.loads((data / "dataset.json").read_text())["labels"]
    return [k for k in labels if k != "background"][0]


def training_records(data: Path) -> list:
    from chdml.data import folder

    return [r for r in folder.read_cases(data) if r.split == "train"]


def held_out_patients(records, n_folds: int, seed: int, fold: int) -> set[str]:
    """The patients of ``fold`` (the fold's test set) under :func:`assign_folds`."""
    return {p for p, f in assign_folds(records, n_folds, seed).items() if f == fold}


def run_fold(data: Path, structure: str, fold: int, n_folds: int, seed: int, overrides: dict,
             work: Path, train_seed: int) -> dict:
    """Train and score one fold; ``seed`` draws the folds, ``train_seed`` the training
    run (its initial weights, batches and validation patients if any)."""
    from chdml import train
    from chdml.inference import read_model_info

    records = training_records(data)
    test_patients = held_out_patients(records, n_folds, seed, fold)
    train_patients = {r.patient for r in records} - test_patients
    fold_dir = work / f"{structure}_fold{fold}"
    fold_folder(data, records, train_patients, fold_dir)
    settings = train.SegmentationSettings()
    for key, value in overrides.items():
        settings = override_setting(settings, key, value)
    model_path = work / f"{structure}_fold{fold}.keras"
    t0, cpu0 = time.time(), _cpu_seconds()
    train.train_segmentation(fold_dir, model_path, seed=train_seed, settings=settings,
                             verbose=True)
    seconds, cpu_seconds = time.time() - t0, _cpu_seconds() - cpu0
    rows = score_fold(data, model_path, test_patients)
    training = read_model_info(model_path).training
    members = training.get("members", [training])   # an ensemble: one record per member
    return {"structure": structure, "fold": fold, "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu_seconds, 1),
            "epochs_run": _per_member(members, "epochs_run"),
            "best_epoch": _per_member(members, "best_epoch"),
            "overrides": overrides, "train_seed": train_seed, "cases": rows,
            "time_budget": training.get("time_budget"),
            "load": os.getloadavg()[0],
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS")}


def score_fold(data: Path, model_path: Path, test_patients: set[str],
               variants: bool = True) -> list[dict]:
    """Per-case 3-D Dice of the held-out patients, as ``chdml predict`` segments them,
    plus (``variants``) the same without test-time flips / post-processing.

    The network runs once per set of test-time flips; each post-processing option is
    applied to that one prediction (as :func:`chdml.inference.segment_volume` does)."""
    from chdml.data import folder
    from chdml.data.nifti import load_image, load_label
    from chdml.inference import (class_probabilities, load_model_file, most_likely_labels,
                                 postprocess)

    model, info = load_model_file(model_path)
    value = [v for v in info.label_values if v != 0][0]
    flip_sets = [[], info.test_time_flips] if variants and info.test_time_flips \
        else [info.test_time_flips]
    posts = ("none", "largest_component") if variants else (info.postprocess,)
    rows = []
    for r in folder.read_cases(data):
        if r.split != "train" or r.patient not in test_patients:
            continue
        volume = load_image(folder.image_path(data, r))
        truth = load_label(folder.label_path(data, r)).array == value
        scores = {}
        for flips in flip_sets:
            variant = dataclasses.replace(info, test_time_flips=flips)
            labels = most_likely_labels(class_probabilities(model, variant, volume.array),
                                        variant)
            for post in posts:
                guess = postprocess(labels, dataclasses.replace(variant, postprocess=post),
                                    volume.spacing) == value
                scores[tuple(flips), post] = float(dice(truth, guess))
        named = {f"flips={'+'.join(flips) or 'none'},post={post}": score
                 for (flips, post), score in scores.items()}
        rows.append({"case": r.case, "patient": r.patient, "phase": r.phase,
                     "diagnosis": r.diagnosis,
                     "dice": scores[tuple(info.test_time_flips), info.postprocess],
                     "variants": named if variants else {}})
    return rows


def _per_member(records, key: str) -> str:
    """``"50+47+50"``: one value per ensemble member (``"50"`` for one network)."""
    return "+".join(str(r[key]) for r in records)


def read_log(log: Path) -> list[dict]:
    return [json.loads(line) for line in Path(log).read_text().splitlines() if line.strip()]


def rescore(log: Path, data_folders, keep: Path, n_folds: int, seed: int) -> list[dict]:
    """Score the kept fold models again (after a change of post-processing), keeping the
    training times of ``log``; no training."""
    results = read_log(log)
    by_structure = {structure_of(data): data for data in map(Path, data_folders)}
    for result in results:
        data = by_structure[result["structure"]]
        test_patients = held_out_patients(training_records(data), n_folds, seed,
                                          result["fold"])
        model_path = keep / f"{result['structure']}_fold{result['fold']}.keras"
        result["cases"] = score_fold(data, model_path, test_patients)
    return results


def combine(member_runs, data_folders, keep: Path, n_folds: int, seed: int,
            rotations: list[float] | None = None) -> list[dict]:
    """Ensembles of fold models trained separately with train seeds ``s, s+1, ...``.

    ``member_runs``: ``(log, folder)`` pairs, one per member in seed order, each the
    ``--log``/``--keep`` of a run with its own ``--train-seed``. Member ``k`` of
    ``ensemble_members=n`` is exactly such a run (seed ``seed + k``: its own validation
    patients, initial weights and batches), so combining them the way
    :func:`chdml.train.train_segmentation` does gives the ensemble without training it
    again; its training time is the members' sum. The ensembles are saved in ``keep``.
    ``rotations``: the ensembles' test-time rotations (degrees) instead of the first
    member's (models trained before a change of the default's prediction settings)."""
    from chdml import train
    from chdml.inference import load_model_file, save_model_file

    logs = [{(r["structure"], r["fold"]): r for r in read_log(log)} for log, _ in member_runs]
    by_structure = {structure_of(data): data for data in map(Path, data_folders)}
    results = []
    for structure, fold in sorted(set.intersection(*(set(log) for log in logs))):
        if structure not in by_structure:
            continue
        runs = [log[(structure, fold)] for log in logs]
        members = [load_model_file(Path(folder_) / f"{structure}_fold{fold}.keras")
                   for _, folder_ in member_runs]
        for k, (model, _) in enumerate(members):
            model.name = f"unet_{k + 1}"
        model, info = train.combine_members([m for m, _ in members], [i for _, i in members])
        if rotations is not None:
            info = dataclasses.replace(info, test_time_rotations=list(rotations))
        keep.mkdir(parents=True, exist_ok=True)
        model_path = keep / f"{structure}_fold{fold}.keras"
        save_model_file(model, info, model_path)
        data = by_structure[structure]
        test_patients = held_out_patients(training_records(data), n_folds, seed, fold)
        results.append({
            "structure": structure, "fold": fold,
            "seconds": round(sum(r["seconds"] for r in runs), 1),
            "cpu_seconds": round(sum(r["cpu_seconds"] for r in runs), 1),
            "epochs_run": _per_member(runs, "epochs_run"),
            "best_epoch": _per_member(runs, "best_epoch"),
            "overrides": {**runs[0]["overrides"], "ensemble_members": str(len(runs))},
            "combined_from": [str(log) for log, _ in member_runs],
            "cases": score_fold(data, model_path, test_patients),
            "load": max(r.get("load", 0) for r in runs)})
        print(f"{structure} fold {fold}: ensemble of {len(runs)}", flush=True)
    return results


def _cpu_seconds() -> float:
    """CPU time (user + system, all threads) of this process so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def override_setting(settings, key: str, value: str):
    """``settings`` (a settings dataclass) with field ``key`` set from the text ``value``
    of a ``--set KEY=VALUE``, converted to the field's type (``true``/``1``/``yes`` for
    a bool; ``augment.NAME`` for a field of the augmentation, ``augment=none`` for none).
    """
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
    parser.add_argument("--seed", type=int, default=0, help="seed of the fold assignment")
    parser.add_argument("--train-seed", type=int, default=None,
                        help="seed of the trainings (default: --seed); other values give "
                             "other members for an ensemble of the same folds")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a SegmentationSettings field (experiments)")
    parser.add_argument("--log", default=str(REPO / "bench" / "output" / "karimi_cv.jsonl"))
    parser.add_argument("--keep", default=None, help="folder to keep the fold models in")
    parser.add_argument("--rescore", action="store_true",
                        help="no training: score the models kept in --keep again and "
                             "rewrite --log (after a change of post-processing)")
    parser.add_argument("--members", nargs="+", default=None, metavar="LOG=FOLDER",
                        help="no training: combine the kept fold models of runs with "
                             "--train-seed 0, 1, ... (their --log=--keep, in seed order) "
                             "into ensembles (ensemble_members=n), save them in --keep, "
                             "score them and write --log")
    parser.add_argument("--rotations", default=None, metavar="DEGREES",
                        help="with --members: predict the ensembles with these test-time "
                             "rotations, comma-separated (e.g. -15,15; 'none' for none) "
                             "instead of the first member's")
    parser.add_argument("--write-results", action="store_true",
                        help="write the table into bench/RESULTS.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from chdml.onednn import use_onednn
    use_onednn()  # before TensorFlow is imported, as `chdml train` does
    overrides = dict(item.split("=", 1) for item in args.set)
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    train_seed = args.seed if args.train_seed is None else args.train_seed
    done = []
    if log.exists():
        done = [r for r in read_log(log) if r["overrides"] == overrides
                and r.get("train_seed", args.seed) == train_seed]
    if args.rescore:
        if not args.keep:
            parser.error("--rescore needs --keep (the folder with the fold models)")
        done = rescore(log, args.data, Path(args.keep), args.folds, args.seed)
        log.write_text("".join(json.dumps(r) + "\n" for r in done))
        print(summarise(done))
        return 0
    if args.members:
        if not args.keep:
            parser.error("--members needs --keep (where the ensembles go)")
        runs = [tuple(item.split("=", 1)) for item in args.members]
        rotations = None if args.rotations is None else (
            [] if args.rotations == "none" else [float(a) for a in args.rotations.split(",")])
        done = combine(runs, args.data, Path(args.keep), args.folds, args.seed, rotations)
        log.write_text("".join(json.dumps(r) + "\n" for r in done))
    folds = [] if args.members else (args.only if args.only is not None
                                      else list(range(args.folds)))
    with tempfile.TemporaryDirectory(prefix="chdml_cv_") as tmp:
        for data in map(Path, args.data):
            structure = structure_of(data)
            for fold in folds:
                if any(r["structure"] == structure and r["fold"] == fold for r in done):
                    continue
                result = run_fold(data, structure, fold, args.folds, args.seed, overrides,
                                  Path(tmp), train_seed=train_seed)
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

        given = sys.argv[1:] if argv is None else list(argv)
        command = "python bench/bench_karimi_cv.py " + " ".join(
            a for a in given if a != "--write-results")
        write_section("Karimi 2020: 5-fold cross-validation", table, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
