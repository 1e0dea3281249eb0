"""Workshop 2 in depth: notebook and check timings, grading in the kernel, accuracy floors.

(``bench/bench_workshops.py workshop2`` gives the shared per-workshop table; this adds the
grading of every public and hidden case in the same kernel and, with ``--floors``, the
measurements behind ``view_classifier``'s floor.)

Usage::

    .venv/bin/python bench/bench_workshop2.py            # notebook + check latency + grading
    .venv/bin/python bench/bench_workshop2.py --floors   # + reference accuracy floors

It prints: the kernel's wall time for the whole notebook (every cell, every
self-check passing in strict mode, i.e. as ``chdml build`` proves it), the slowest cells,
and for each exercise without training the latency of ``grader.check(...)``: the first
call (the check cell's time in the run, which includes loading the exercise's self-check
data) and warm calls (median of 5, timed inside the kernel). Afterwards every public and
hidden case is graded in the same kernel, as ``chdml grade`` does, and the score printed.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRAINING_EXERCISES = {"workshop2": {"logistic_regression", "view_classifier"}}

WARM_LATENCY = """
import time as _time, statistics as _statistics
for _name in {names!r}:
    _times = []
    for _ in range(5):
        _start = _time.perf_counter()
        grader.check(_name)
        _times.append(_time.perf_counter() - _start)
    print(_name, _statistics.median(_times))
"""

FLOORS = """
import numpy as _np
from chdml.data import synth as _synth
_sets = [_synth.view_images(160, size=64, seed=_seed, task="binary") for _seed in (9001, 9002, 9003, 9004, 9005)]
def _scores(model):
    return [float(_np.mean((model.predict(s.images, verbose=0)[:, 0] > 0.5) == s.labels)) for s in _sets]
_public = _synth.view_images(48, size=64, seed=4242, task="binary")
def _public_score(model):
    return float(_np.mean((model.predict(_public.images, verbose=0)[:, 0] > 0.5) == _public.labels))
print("notebook-model", *_scores(view_classifier), "public", _public_score(view_classifier))
_notebook_model = view_classifier
for _seed in (1, 2):
    # the notebook's own cells: build the model (seeded) and train it
    exec({build!r}.replace("set_random_seed(0)", f"set_random_seed({{_seed}})").replace(".summary()", ".name"))
    exec({train!r}.replace("verbose=2", "verbose=0"))
    print(f"seed-{{_seed}}", *_scores(view_classifier), "public", _public_score(view_classifier))
view_classifier = _notebook_model  # grade the notebook's own model afterwards
"""


def _cell(notebook_path: Path, cell_id: str) -> str:
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    return next(cell.source for cell in notebook.cells if cell.get("id") == cell_id)


def workshop2(floors: bool = False) -> None:
    """Workshop 2: the notebook, its check latencies, a full grading and (opt.) floors."""
    from chdml.grading.spec import load_workshop
    from notebook_kernel import grade_notebook

    names = [name for name in load_workshop(ROOT / "autograder" / "workshop2").exercises
             if name not in TRAINING_EXERCISES["workshop2"]]

    notebook = ROOT / "source" / "workshop2" / "workshop2.ipynb"

    def after(run_code):
        out = {"warm": run_code(WARM_LATENCY.format(names=names))}
        if floors:
            out["floors"] = run_code(FLOORS.format(build=_cell(notebook, "build-run"),
                                                   train=_cell(notebook, "train")))
        return out

    with tempfile.TemporaryDirectory(prefix="bench-workshop2-") as tmp:
        started = time.perf_counter()
        report = grade_notebook(notebook, Path(tmp), after=after)
        total = time.perf_counter() - started
    cells = report["cell_seconds"]
    print(f"workshop2: notebook {report['notebook_seconds']:.1f} s wall in the kernel "
          f"(whole benchmark incl. self-check data, kernel start and grading: {total:.1f} s); "
          f"cells that raised: {report['errors'] or 'none'}")
    print("\nslowest cells:")
    for cell_id, seconds in sorted(cells.items(), key=lambda item: -item[1])[:8]:
        print(f"  {cell_id:28s} {seconds:7.2f} s")
    warm = dict(line.split() for line in report["after"]["warm"].strip().splitlines())
    print("\ncheck latency (ms)         first call   warm (median of 5)")
    for name in names:
        print(f"  {name:24s} {1000 * cells[name + '-check']:10.0f} {1000 * float(warm[name]):12.0f}")
    for name in sorted(TRAINING_EXERCISES["workshop2"]):
        print(f"  {name:24s} {1000 * cells[name + '-check']:10.0f}   (trains or predicts)")
    print(f"\ngraded in the kernel like `chdml grade`: {report['score']:g} / "
          f"{report['max_score']:g} points; failed cases: {report['failed'] or 'none'}")
    if floors:
        print("\nview_classifier accuracy on hidden sets of 160 images (seeds 9001-9005):")
        print(report["after"]["floors"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floors", action="store_true",
                        help="also measure the reference model's accuracy on hidden sets")
    args = parser.parse_args(argv)
    workshop2(floors=args.floors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
