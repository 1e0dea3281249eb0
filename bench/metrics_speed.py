"""How long the NumPy metrics take on one cardiac volume (the cost of `chdml evaluate`).

Run: .venv/bin/python bench/metrics_speed.py
Prints one row per metric: milliseconds per call (median of repeats) on a 256x256x12
short-axis label map with LV, myocardium and RV, spacing 1.25 x 1.25 x 8 mm, against a
prediction shifted by two pixels.
"""
from __future__ import annotations

import platform
import time

import numpy as np

from chdml import metrics


def heart_volume(shape=(256, 256, 12)):
    rows, columns, slices = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    labels = np.zeros(shape, np.uint8)
    radius = 22 - np.abs(slices - shape[2] / 2) * 1.5
    lv_distance = np.hypot(rows - 128, columns - 110)
    labels[lv_distance < radius + 8] = 2
    labels[lv_distance < radius] = 1
    rv = (np.hypot(rows - 128, columns - 150) < radius + 6) & (labels == 0)
    labels[rv] = 3
    return labels


def median_ms(function, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main():
    truth = heart_volume()
    prediction = np.roll(truth, 2, axis=1)
    spacing = (1.25, 1.25, 8.0)
    lv_truth, lv_prediction = truth == 1, prediction == 1
    rng = np.random.default_rng(0)
    labels_10k = rng.random(10_000) < 0.3
    scores_10k = rng.normal(size=10_000) + labels_10k
    rows = [
        ("dice, LV, whole volume", lambda: metrics.dice(lv_truth, lv_prediction)),
        ("dice_per_label, 3 labels", lambda: metrics.dice_per_label(truth, prediction)),
        ("dice_per_slice, LV", lambda: metrics.dice_per_slice(lv_truth, lv_prediction)),
        ("hausdorff95, LV, 3-D", lambda: metrics.hausdorff95(lv_truth, lv_prediction, spacing)),
        ("hausdorff95, LV, 2-D per slice",
         lambda: [metrics.hausdorff95(lv_truth[..., s], lv_prediction[..., s], spacing[:2])
                  for s in range(truth.shape[-1])]),
        ("segmentation_scores, 3 labels",
         lambda: metrics.segmentation_scores(truth, prediction, spacing)),
        ("roc_auc, 10 000 scores", lambda: metrics.roc_auc(labels_10k, scores_10k)),
        ("roc_curve, 10 000 scores", lambda: metrics.roc_curve(labels_10k, scores_10k)),
    ]
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"volume {truth.shape}, spacing {spacing} mm")
    print(f"| {'metric':<34} | {'ms per call':>11} |")
    print(f"|{'-' * 36}|{'-' * 13}|")
    for name, function in rows:
        print(f"| {name:<34} | {median_ms(function):>11.1f} |")


if __name__ == "__main__":
    main()
