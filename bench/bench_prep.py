"""Benchmark the data-preparation layer: check, load, preprocess and split a dataset folder.

Builds a dataset folder of ``--patients`` patients x (ED, ES) short-axis stacks
(``--shape``, default 192x192x12, 1.5x1.5x8 mm) in a temporary folder, then times each
step once (after one warm-up run of the first step, so imports are not counted)::

    .venv/bin/python bench/bench_prep.py                 # 100 patients
    .venv/bin/python bench/bench_prep.py --patients 20   # quicker

Prints a Markdown table: step, what it processed, wall-clock and CPU seconds (a large gap
means the machine was busy with other work), wall-clock milliseconds per case.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chdml.data.check import check_folder, find_broken_cases  # noqa: E402
from chdml.data.collection import load_slices, load_volumes  # noqa: E402
from chdml.data.folder import LABELS, CaseRecord, image_path, label_path, write_metadata  # noqa: E402
from chdml.data.nifti import save_image, save_label  # noqa: E402
from chdml.data.preprocess import (equalise_contrast, fit_intensity_stats,  # noqa: E402
                                   percentile_normalise, resample_volume)
from chdml.data.split import find_leakage, split_patients  # noqa: E402


def write_folder(root: Path, patients: int, shape, spacing=(1.5, 1.5, 8.0), seed=0):
    """A dataset folder of noisy short-axis stacks with LV, myocardium and RV discs."""
    rng = np.random.default_rng(seed)
    rows, columns, depth = shape
    r, c = np.mgrid[0:rows, 0:columns]
    records = []
    for p in range(patients):
        for phase in ("ED", "ES"):
            record = CaseRecord(f"p{p:04d}_{phase}", f"p{p:04d}", "train", phase, "SAX",
                                ("normal", "ToF", "DCM", "SV")[p % 4], spacing)
            image = (40 + 10 * rng.standard_normal(shape)).astype(np.float32)
            label = np.zeros(shape, np.uint8)
            for k in range(depth):
                radius = (0.12 - 0.006 * k) * min(rows, columns) * (1 if phase == "ED" else .75)
                d_lv = np.hypot(r - rows / 2, c - columns / 2)
                d_rv = np.hypot(r - rows / 2, c - columns / 2 + 1.8 * radius)
                lv, myo = d_lv < radius, (d_lv >= radius) & (d_lv < radius + 4)
                rv = (d_rv < radius) & ~lv & ~myo
                label[..., k][lv], label[..., k][myo], label[..., k][rv] = 1, 2, 3
                image[..., k][lv | rv] += 200
                image[..., k][myo] += 30
            save_image(image_path(root, record), image, spacing=spacing)
            save_label(label_path(root, record), label, spacing=spacing)
            records.append(record)
    write_metadata(root, records, dict(LABELS), name="bench")


def timed(rows, step, what, cases, function):
    """Run ``function`` once; record wall-clock seconds, CPU seconds and ms per case."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = function()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rows.append((step, what, seconds, cpu, 1000 * seconds / cases if cases else float("nan")))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--shape", type=int, nargs=3, default=(192, 192, 12))
    args = parser.parse_args(argv)
    shape = tuple(args.shape)
    cases = 2 * args.patients
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        timed(rows, "write folder (fixture)", f"{cases} cases", cases,
              lambda: write_folder(root, args.patients, shape))
        check_folder(root, progress=False)                       # warm-up: imports, caches
        problems = timed(rows, "check_folder", f"{cases} cases", cases,
                         lambda: check_folder(root, progress=False))
        assert problems == [], problems[:3]
        slices = timed(rows, "load_slices", f"{cases} cases", cases,
                       lambda: load_slices(root, progress=False))
        n = len(slices)
        timed(rows, "load_slices size=128", f"{cases} cases", cases,
              lambda: load_slices(root, size=128, progress=False))
        volumes = timed(rows, "load_volumes", f"{cases} cases", cases,
                        lambda: load_volumes(root, progress=False))
        timed(rows, "find_broken_cases", f"{n} slices", cases,
              lambda: find_broken_cases(slices.images, slices.masks))
        split = timed(rows, "split_patients (stratified)", f"{n} slice ids", cases,
                      lambda: split_patients(slices.patients, slices.diagnoses, seed=0))
        assert find_leakage(split.train, split.validation, split.test) == {}
        stats = fit_intensity_stats(slices.images[:256])
        timed(rows, "percentile_normalise (train stats)", f"{n} slices", cases,
              lambda: percentile_normalise(slices.images, stats=stats))
        timed(rows, "equalise_contrast (CLAHE)", f"{min(n, 100)} slices", 0,
              lambda: equalise_contrast(slices.images[:100]))
        timed(rows, "resample_volume to 1 mm", f"{min(cases, 20)} volumes", 0,
              lambda: [resample_volume(v.image, (1.0, 1.0, None)) for v in volumes[:20]])
        memory = slices.images.nbytes + slices.masks.nbytes

    print(f"chdml data preparation, {args.patients} patients x ED/ES, stacks "
          f"{shape[0]}x{shape[1]}x{shape[2]}, Python {platform.python_version()} on "
          f"{platform.machine()} ({platform.node()})")
    print(f"slices in memory: {n} ({memory / 2**20:.0f} MiB images + masks)")
    print(f"| {'step':<36} | {'processed':<16} | {'wall s':>8} | {'CPU s':>8} | {'ms/case':>8} |")
    print(f"|{'-' * 38}|{'-' * 18}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for step, what, seconds, cpu, per_case in rows:
        per = f"{per_case:8.1f}" if np.isfinite(per_case) else f"{'':>8}"
        print(f"| {step:<36} | {what:<16} | {seconds:8.2f} | {cpu:8.2f} | {per} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
