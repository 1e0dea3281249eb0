"""Default training on synthetic data: segmentation and view classifier, timed and scored.

What it does, with the real command line (``chdml.cli``), default settings, no flags:

1. ``chdml data synth --patients 40 --seed 0`` (training set) and ``--patients 20
   --seed 1`` (a test set made with another seed);
2. ``chdml train segmentation`` on the training set (timed), then ``chdml evaluate`` on
   the test set: mean per-case 3-D Dice of LV, myocardium and RV (target >= 0.90 each,
   training <= 3 minutes);
3. ``chdml train classifier`` (timed), ``chdml evaluate``: per-image accuracy of the
   view classifier, SAX vs other views (target >= 0.95, training <= 2 minutes).

Run: ``python bench/bench_synthetic.py [--work DIR] [--write-results]``
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from chdml.onednn import use_onednn  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
use_onednn()  # before TensorFlow is imported, as `chdml train` does


def cpu_seconds() -> float:
    """CPU time (user + system, all threads) of this process so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cli(*args) -> tuple[float, float]:
    """Run ``chdml ARGS`` in this process; return (wall seconds, CPU seconds).

    The CPU time does not grow when other programs load the machine, so it tells what
    a quiet machine would need (about wall = CPU / 1.2 on a 2-vCPU VM that behaves like
    1.2 cores).
    """
    from chdml.cli import run

    t0, c0 = time.perf_counter(), cpu_seconds()
    code = run([str(a) for a in args])
    if code != 0:
        raise SystemExit(f"chdml {' '.join(map(str, args))} failed with exit code {code}")
    return time.perf_counter() - t0, cpu_seconds() - c0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default=None, help="folder for data and models "
                        "(default: a temporary folder)")
    parser.add_argument("--train-patients", type=int, default=40)
    parser.add_argument("--test-patients", type=int, default=20)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chdml_bench_synth_") as tmp:
        work = Path(args.work or tmp)
        train_data, test_data = work / "synth_train", work / "synth_test"
        if not train_data.exists():
            cli("data", "synth", "--out", train_data, "--patients", args.train_patients,
                "--seed", 0)
        if not test_data.exists():
            cli("data", "synth", "--out", test_data, "--patients", args.test_patients,
                "--seed", 1)
        seg_model, view_model = work / "segmentation.keras", work / "views.keras"
        seg_seconds, seg_cpu = cli("train", "segmentation", "--data", train_data, "--out",
                                   seg_model)
        cli("evaluate", "--model", seg_model, "--data", test_data, "--out", work / "seg_eval")
        view_seconds, view_cpu = cli("train", "classifier", "--data", train_data, "--out",
                                     view_model)
        cli("evaluate", "--model", view_model, "--data", test_data, "--out", work / "view_eval")
        seg = json.loads((work / "seg_eval" / "metrics.json").read_text())
        views = json.loads((work / "view_eval" / "metrics.json").read_text())

    import numpy as np

    lines = ["| model | quantity | value | target | training wall time (CPU time) | time target |",
             "|---|---|---:|---:|---:|---:|"]
    seg_time = f"{seg_seconds / 60:.1f} min ({seg_cpu / 60:.1f} min)"
    view_time = f"{view_seconds / 60:.1f} min ({view_cpu / 60:.1f} min)"
    ok = True
    for label in ("LV", "MYO", "RV"):
        scores = [r["dice"] for r in seg["cases"] if r["label"] == label]
        mean = float(np.mean(scores))
        ok &= mean >= 0.90
        lines.append(f"| U-Net | {label} Dice (3-D, mean of {len(scores)} cases; median "
                     f"{np.median(scores):.3f}) | {mean:.3f} | >= 0.90 | {seg_time} | <= 3 min |")
    accuracy = views["summary"]["accuracy"]
    image_rows = views["cases"]
    lines.append(f"| view classifier | accuracy, SAX vs other ({len(image_rows)} images) | "
                 f"{accuracy:.3f} | >= 0.95 | {view_time} | <= 2 min |")
    lines.append(f"| view classifier | balanced accuracy | "
                 f"{views['summary']['balanced_accuracy']:.3f} | | | |")
    ok &= accuracy >= 0.95 and seg_seconds <= 180 and view_seconds <= 120
    by_phenotype = {}
    for r in seg["cases"]:
        by_phenotype.setdefault((r["diagnosis"], r["label"]), []).append(r["dice"])
    lines += ["", "| phenotype | LV | MYO | RV |", "|---|---:|---:|---:|"]
    for phenotype in sorted({p for p, _ in by_phenotype}):
        cells = [f"{np.mean(by_phenotype[(phenotype, label)]):.3f}"
                 if (phenotype, label) in by_phenotype else "-" for label in ("LV", "MYO", "RV")]
        lines.append(f"| {phenotype} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    print("all targets met" if ok else "some targets missed")
    if args.write_results:
        from models_results import write_section

        note = (f"\n\nTraining set: `chdml data synth --patients {args.train_patients} --seed 0`;"
                f" test set: `--patients {args.test_patients} --seed 1`. Times are wall-clock "
                "times of `chdml train` (data loading, training, validation, saving) and, in "
                "brackets, its CPU time, which does not depend on the load of the machine. "
                "Dice is per case (3-D), two empty masks count as 1 (chdml.metrics).")
        write_section("Synthetic data: default training", table + note,
                      "python bench/bench_synthetic.py --write-results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
