"""``chdml evaluate``: how good is a model on a dataset folder's labelled images?

Uses the same images as ``chdml predict`` (``imagesTs/`` when present, else
``imagesTr/``) and their label maps. A segmentation model is scored per case and per
label with :func:`chdml.metrics.segmentation_scores`: 3-D Dice, IoU, HD95 in mm,
true and predicted volume in mL; where a patient has both an ED and an ES case, the
true and predicted ejection fraction of each blood pool (LV, RV). A classifier is scored per case (view SAX vs
other): accuracy, sensitivity, specificity, balanced accuracy, ROC AUC, confusion
matrix.

Writes into ``--out`` (default ``<model>_evaluation/`` beside the model), atomically:
``metrics.json`` (everything, plus the summary), ``metrics.csv`` (one row per case and
label), ``ejection_fraction.csv`` where ED and ES exist, and PNGs: overlays of the
worst cases (segmentation), confusion matrix and ROC curve (classifier). The summary
table is printed.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from chdml.errors import UserError, describe_path
from chdml.inference import read_model_info, load_model_file
from chdml.train import require_dataset_folder
from chdml.predict import (check_labels_fit, classify_cases, is_short_axis, prediction_cases,
                           segment_cases, write_csv)

WORST_CASES_SHOWN = 3
MYOCARDIUM = 2


def default_output(model) -> Path:
    model = Path(model)
    return model.with_name(model.stem + "_evaluation")


def _finite(value):
    return None if value is None or not math.isfinite(value) else value


def score_segmentation(model, info, cases, labels: dict[str, int], progress: bool = True):
    """Per-case rows, ejection-fraction rows and the data of each case for overlays.

    ``labels``: the foreground labels to score (name -> value), those of the dataset.
    """
    from chdml.data.nifti import load_label
    from chdml.metrics import ejection_fraction, segmentation_scores

    foreground = dict(labels)
    rows, shown = [], []
    for case, volume, label_map, _, _ in segment_cases(model, info, cases, progress):
        truth = load_label(case.label)
        if truth.array.shape != volume.array.shape:
            raise UserError(f"{describe_path(case.label)} has shape {truth.array.shape} but its "
                            f"image has {volume.array.shape}; image and label map must match.")
        unknown = sorted(set(np.unique(truth.array).tolist()) - set(info.labels.values()))
        if unknown:
            raise UserError(f"{describe_path(case.label)} contains label values {unknown} the "
                            f"model does not know ({info.labels}); fix the mask or use a "
                            "model trained on these labels.")
        scores = segmentation_scores(truth.array, label_map, volume.spacing, foreground)
        record = case.record
        for name, s in scores.items():
            rows.append({
                "case": case.case, "patient": record.patient if record else case.case,
                "phase": record.phase if record else "",
                "diagnosis": record.diagnosis if record else "", "label": name,
                "dice": round(s["dice"], 4), "iou": round(s["iou"], 4),
                "hausdorff95_mm": round(s["hausdorff95_mm"], 2)
                if math.isfinite(s["hausdorff95_mm"]) else float("inf"),
                "truth_ml": round(s["truth_ml"], 2), "predicted_ml": round(s["predicted_ml"], 2),
                "both_empty": s["both_empty"]})
        mean_dice = float(np.mean([s["dice"] for s in scores.values()]))
        scored = np.where(np.isin(label_map, list(foreground.values())), label_map, 0)
        shown.append((mean_dice, case.case, volume.array, truth.array, scored))
        shown.sort(key=lambda item: item[0])
        del shown[WORST_CASES_SHOWN:]

    ef_rows = []
    by_patient: dict[tuple[str, str], dict[str, dict]] = {}
    for row in rows:
        by_patient.setdefault((row["patient"], row["label"]), {})[row["phase"]] = row
    for (patient, label), phases in sorted(by_patient.items()):
        if foreground[label] == MYOCARDIUM:  # an ejection fraction of blood pools only
            continue
        if "ED" in phases and "ES" in phases:
            ed, es = phases["ED"], phases["ES"]
            true_ef = ejection_fraction(ed["truth_ml"], es["truth_ml"], strict=False)
            pred_ef = ejection_fraction(ed["predicted_ml"], es["predicted_ml"], strict=False)
            ef_rows.append({"patient": patient, "label": label,
                            "truth_ef_percent": round(float(true_ef), 1),
                            "predicted_ef_percent": round(float(pred_ef), 1),
                            "difference_percent": round(float(pred_ef - true_ef), 1)})
    return rows, ef_rows, shown


def summarise_segmentation(rows, ef_rows) -> list[dict]:
    """Mean/SD Dice, median HD95 and mean EF error per label and phase."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["label"], row["phase"] or "all"), []).append(row)
    summary = []
    for (label, phase), members in sorted(groups.items()):
        dice = np.array([m["dice"] for m in members])
        hd = np.array([m["hausdorff95_mm"] for m in members], dtype=float)
        finite = hd[np.isfinite(hd)]
        summary.append({
            "label": label, "phase": phase, "cases": len(members),
            "dice_mean": round(float(dice.mean()), 4), "dice_sd": round(float(dice.std()), 4),
            "dice_min": round(float(dice.min()), 4),
            "hausdorff95_median_mm": round(float(np.median(finite)), 2) if finite.size else None,
            "hausdorff95_infinite": int((~np.isfinite(hd)).sum())})
    for label in sorted({r["label"] for r in ef_rows}):
        errors = np.array([abs(r["difference_percent"]) for r in ef_rows if r["label"] == label])
        errors = errors[np.isfinite(errors)]
        summary.append({"label": label, "phase": "EF", "cases": int(errors.size),
                        "ef_mean_absolute_error_percent":
                            round(float(errors.mean()), 2) if errors.size else None})
    return summary


def _table(summary) -> str:
    lines = [f"{'label':<8}{'phase':<7}{'cases':>6}{'Dice mean':>11}{'SD':>7}{'min':>7}"
             f"{'HD95 med':>10}"]
    for s in summary:
        if s["phase"] == "EF":
            mae = s["ef_mean_absolute_error_percent"]
            lines.append(f"{s['label']:<8}{'EF':<7}{s['cases']:>6}   |EF error| mean "
                         f"{'-' if mae is None else f'{mae:.1f}'} %-points")
            continue
        hd = s["hausdorff95_median_mm"]
        lines.append(f"{s['label']:<8}{s['phase']:<7}{s['cases']:>6}{s['dice_mean']:>11.3f}"
                     f"{s['dice_sd']:>7.3f}{s['dice_min']:>7.3f}"
                     f"{'-' if hd is None else f'{hd:.1f} mm':>10}")
    return "\n".join(lines)


def evaluate_classifier(model, info, cases) -> tuple[list[dict], dict]:
    from chdml import metrics

    rows = classify_cases(model, info, cases)
    known = [r for r in rows if r["true_view"]]
    if not known:
        raise UserError("no case has a 'view' in cases.csv; the classifier cannot be scored.")
    truth = np.array([int(r["true_view"].upper() == "SAX") for r in known])
    scores = np.array([r["probability_SAX"] for r in known])
    predicted = (scores >= 0.5).astype(int)
    for r in rows:
        r["correct"] = bool(r["true_view"]) and (r["predicted"] == "SAX") == (
            r["true_view"].upper() == "SAX")
    summary = {
        "cases": int(len(known)), "accuracy": metrics.accuracy(truth, predicted),
        "sensitivity_SAX": metrics.sensitivity(truth, predicted),
        "specificity_SAX": metrics.specificity(truth, predicted),
        "balanced_accuracy": metrics.balanced_accuracy(truth, predicted),
        "roc_auc": _finite(metrics.roc_auc(truth, scores)) if len(set(truth)) == 2 else None,
        "confusion_matrix": metrics.confusion_matrix(truth, predicted, 2).tolist(),
        "classes": ["other", "SAX"],
    }
    return rows, summary


def main(model, data, out=None) -> int:
    """Entry point of ``chdml evaluate``."""
    from chdml import plots
    from chdml.atomic import atomic_directory, write_text

    info = read_model_info(model)
    require_dataset_folder(data)
    dataset_labels = check_labels_fit(info, data, model)
    split, cases = prediction_cases(data, need_labels=info.task == "segmentation")
    out = Path(out) if out is not None else default_output(model)
    keras_model, info = load_model_file(model)
    result = {"model": str(model), "data": str(data), "split": split, "task": info.task}
    with atomic_directory(out, overwrite=True) as tmp:
        if info.task == "classifier":
            rows, summary = evaluate_classifier(keras_model, info, cases)
            result.update(summary=summary, cases=rows)
            write_csv(tmp / "metrics.csv", rows)
            plots.plot_confusion_matrix(np.array(summary["confusion_matrix"]),
                                        summary["classes"], path=tmp / "confusion_matrix.png")
            truth = [int(r["true_view"].upper() == "SAX") for r in rows if r["true_view"]]
            if len(set(truth)) == 2:
                plots.plot_roc_curve(truth, [r["probability_SAX"] for r in rows
                                             if r["true_view"]], path=tmp / "roc_curve.png")
            table = "\n".join(f"{k:<20}{v:.3f}" for k, v in summary.items()
                              if isinstance(v, float))
        else:
            sax = [c for c in cases if is_short_axis(c)]
            if not sax:
                raise UserError(f"{describe_path(data)} has no short-axis (SAX) case to "
                                "evaluate the segmentation model on.")
            rows, ef_rows, worst = score_segmentation(keras_model, info, sax, dataset_labels)
            summary = summarise_segmentation(rows, ef_rows)
            result.update(summary=summary, cases=rows, ejection_fraction=ef_rows)
            write_csv(tmp / "metrics.csv", rows)
            if ef_rows:
                write_csv(tmp / "ejection_fraction.csv", ef_rows)
            names = {v: k for k, v in info.labels.items() if v}
            for rank, (mean_dice, case, image, truth, guess) in enumerate(worst, start=1):
                figure = plots.plot_overlay(
                    image, truth, guess, labels=names,
                    title=f"{case}: mean Dice {mean_dice:.3f} (worst {rank})",
                    path=tmp / f"worst{rank}_{case}.png")
                import matplotlib.pyplot as plt

                plt.close(figure)
            table = _table(summary)
        write_text(tmp / "metrics.json", json.dumps(_jsonable(result), indent=2) + "\n")
    print(table)
    print(f"wrote {out}/")
    return 0


def _jsonable(value):
    """Plain JSON types; infinite or NaN numbers (HD95 of a missed structure) -> null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value
