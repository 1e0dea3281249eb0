"""Measure the "better model" floors of workshop 3: baseline vs regularised on hidden sets.

Usage::

    .venv/bin/python bench/workshop3_floors.py [--seeds 0 1 2 3 4 5] [--images 200]

Runs the source notebook's own cells (``setup``, ``data``, ``baseline``, the solutions of
exercises 2, 3 and 5) once per training seed, the seed replacing the notebook's
``keras.utils.set_random_seed(0)``, and scores both models on two sets of new synthetic
patients drawn like the hidden test sets of ``autograder/workshop3/better_model.py``
(``view_images(n, size=64, seed=100001, 100002, ...)``): cross-entropy loss and accuracy.
Prints one row per seed and set, then the ranges and whether every regularised model met
the check's rule (lower loss than its own baseline, loss <= MAX_LOSS, accuracy >=
MIN_ACCURACY). Takes about 1 minute per seed on a quiet 2-core machine.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "source" / "workshop3" / "workshop3.ipynb"
CELLS = ("setup", "data", "baseline", "stopping-solution", "regularisation-solution",
         "better-solution")
TEST_SEEDS = (100_001, 100_002)
"""Default seeds of the test sets (``--test-sets N`` uses 100001 ... 100000 + N)."""


def _check_module():
    spec = importlib.util.spec_from_file_location(
        "workshop3_better_model", ROOT / "autograder" / "workshop3" / "better_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cell_sources() -> dict[str, str]:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    sources = {cell.get("id"): "".join(cell["source"]) for cell in notebook["cells"]}
    missing = [name for name in CELLS if name not in sources]
    if missing:
        raise SystemExit(f"{NOTEBOOK} has no cell(s) {missing}")
    return sources


def _scores(model, images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from chdml.grading.compare import _class_probabilities, log_loss

    probabilities = _class_probabilities(model.predict(images, verbose=0), labels.size)
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == labels))
    return log_loss(probabilities, labels), accuracy


def run_seed(seed: int, sources: dict[str, str], tests: list, test_seeds) -> list[dict]:
    """Train the notebook's two models with ``seed``; score them on each test set."""
    namespace: dict = {}
    os.chdir(ROOT / "bench")
    for name in CELLS:
        code = sources[name].replace("keras.utils.set_random_seed(0)",
                                     f"keras.utils.set_random_seed({seed})")
        code = code.replace('grader = chdml.grader("workshop3")', "grader = None")
        code = "\n".join(line for line in code.splitlines() if not line.startswith("%"))
        code = code.replace("plots.plot_", "_ = plots.plot_")
        code = code.replace('"best_model.keras"', '"output/workshop3_floors_best.keras"')
        exec(compile(code, f"<cell {name}>", "exec"), namespace)
    rows = []
    for test_seed, (images, labels) in zip(test_seeds, tests):
        base_loss, base_accuracy = _scores(namespace["baseline_model"], images, labels)
        loss, accuracy = _scores(namespace["regularised_model"], images, labels)
        rows.append({"seed": seed, "test_seed": test_seed,
                     "epochs": len(namespace["regularised_history"].history["loss"]),
                     "baseline_loss": base_loss, "baseline_accuracy": base_accuracy,
                     "loss": loss, "accuracy": accuracy})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--test-sets", type=int, default=len(TEST_SEEDS),
                        help="number of test sets (seeds 100001, 100002, ...)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    (ROOT / "bench" / "output").mkdir(exist_ok=True)
    from chdml.data.synth import view_images

    check = _check_module()
    test_seeds = [100_001 + k for k in range(args.test_sets)]
    tests = [(data.images, data.labels) for data in
             (view_images(args.images, size=64, seed=s) for s in test_seeds)]
    sources = _cell_sources()
    rows = []
    print(f"{'seed':>4} {'test set':>9} {'epochs':>6} {'baseline loss/acc':>18} "
          f"{'regularised loss/acc':>21}  rule met")
    for seed in args.seeds:
        started = time.perf_counter()
        for row in run_seed(seed, sources, tests, test_seeds):
            met = (row["loss"] < row["baseline_loss"] and row["loss"] <= check.MAX_LOSS
                   and row["accuracy"] >= check.MIN_ACCURACY)
            row["met"] = met
            rows.append(row)
            print(f"{row['seed']:>4} {row['test_seed']:>9} {row['epochs']:>6} "
                  f"{row['baseline_loss']:>9.3f}/{row['baseline_accuracy']:.3f} "
                  f"{row['loss']:>12.3f}/{row['accuracy']:.3f}  {met}", flush=True)
        print(f"     (seed {seed}: {time.perf_counter() - started:.0f} s)", flush=True)

    def span(key):
        values = [row[key] for row in rows]
        return f"{min(values):.3f}-{max(values):.3f} (mean {np.mean(values):.3f})"

    print(f"\nbaseline    loss {span('baseline_loss')}, accuracy {span('baseline_accuracy')}")
    print(f"regularised loss {span('loss')}, accuracy {span('accuracy')}")
    print(f"rule (loss < baseline, loss <= {check.MAX_LOSS}, accuracy >= "
          f"{check.MIN_ACCURACY}) met in {sum(r['met'] for r in rows)} of {len(rows)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
