"""Run each workshop's source notebook top to bottom with a real kernel and time it.

Usage::

    .venv/bin/python bench/bench_workshops.py [workshop1 ...] [--repeats 5]

For each workshop (default: every one that has a function below) it

1. writes the public self-check data from ``autograder/<workshop>/`` into a temporary
   folder (``chdml.grading.publish.write_selfcheck``, what ``chdml build`` ships) and
   points the kernel at it (``CHDML_SELFCHECK_DIR``), in strict mode so that a failing
   check stops the run;
2. executes ``source/<workshop>/<workshop>.ipynb`` with nbclient in a fresh ``python3``
   kernel in a temporary working directory, recording each cell's time;
3. in the same kernel, times ``grader.check(...)`` of every exercise that does not train
   a model, ``--repeats`` times (the first call of each check happened in step 2 and is
   reported separately);

and prints a table: notebook wall time (kernel start included), the slowest cells, and
per-check latency (first call in the run, then the median warm call). The budget is
<= 6 minutes per notebook and <= 100 ms per check without training (issue 5).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_BUDGET_S = 360.0
CHECK_BUDGET_MS = 100.0


def _cell_seconds(cell) -> float | None:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return None
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def _check_exercise(cell) -> str | None:
    source = cell.get("source", "").strip()
    if cell.get("cell_type") == "code" and source.startswith("grader.check("):
        return source.split('"')[1]
    return None


def bench_notebook(workshop: str, trained: set[str], repeats: int = 5,
                   save_to: Path | None = None) -> dict:
    """Run one workshop's source notebook; return timings (see the module doc)."""
    import nbformat
    from nbclient import NotebookClient

    from chdml.grading.publish import write_selfcheck
    from chdml.grading.selfcheck import FOLDER_VARIABLE, KERNEL_VARIABLE, STRICT_VARIABLE
    from chdml.grading.spec import load_workshop

    notebook_path = ROOT / "source" / workshop / f"{workshop}.ipynb"
    with tempfile.TemporaryDirectory(prefix=f"bench-{workshop}-") as temporary:
        temporary = Path(temporary)
        started = time.perf_counter()
        write_selfcheck(load_workshop(ROOT / "autograder" / workshop),
                        temporary / "selfcheck" / workshop)
        publish_s = time.perf_counter() - started
        workdir = temporary / "work"
        workdir.mkdir()
        os.environ[FOLDER_VARIABLE] = str(temporary / "selfcheck")
        os.environ[STRICT_VARIABLE] = "1"
        os.environ.pop(KERNEL_VARIABLE, None)
        notebook = nbformat.read(notebook_path, as_version=4)
        client = NotebookClient(notebook, timeout=NOTEBOOK_BUDGET_S * 2, kernel_name="python3",
                                record_timing=True, resources={"metadata": {"path": str(workdir)}})
        started = time.perf_counter()
        with client.setup_kernel():
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
            notebook_s = time.perf_counter() - started
            exercises = [name for cell in notebook.cells
                         if (name := _check_exercise(cell)) and name not in trained]
            probe = nbformat.v4.new_code_cell(
                "import json as _json, time as _time\n"
                "_latency = {}\n"
                f"for _name in {exercises!r}:\n"
                "    _times = []\n"
                f"    for _ in range({int(repeats)}):\n"
                "        _start = _time.perf_counter()\n"
                "        grader.check(_name)\n"
                "        _times.append(1000 * (_time.perf_counter() - _start))\n"
                "    _latency[_name] = _times\n"
                "print(_json.dumps(_latency))")
            notebook.cells.append(probe)
            client.execute_cell(probe, len(notebook.cells) - 1)
        warm = json.loads(probe.outputs[-1]["text"].strip().splitlines()[-1])
        if save_to is not None:
            Path(save_to).mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, Path(save_to) / f"{workshop}.ipynb")
    cells = [(cell.get("id", str(index)), _cell_seconds(cell))
             for index, cell in enumerate(notebook.cells[:-1]) if cell.cell_type == "code"]
    first = {_check_exercise(cell): 1000 * (_cell_seconds(cell) or float("nan"))
             for cell in notebook.cells[:-1] if _check_exercise(cell)}
    return {"workshop": workshop, "publish_s": publish_s, "notebook_s": notebook_s,
            "cells": cells, "first_ms": first,
            "warm_ms": {name: statistics.median(times) for name, times in warm.items()},
            "trained": sorted(trained)}


def report(result: dict) -> None:
    """Print one workshop's table."""
    print(f"\n== {result['workshop']}: notebook {result['notebook_s']:.1f} s wall "
          f"(budget {NOTEBOOK_BUDGET_S:.0f} s); self-check data written in "
          f"{result['publish_s']:.1f} s")
    print("slowest cells (s):")
    timed = sorted((seconds, name) for name, seconds in result["cells"] if seconds is not None)
    for seconds, name in reversed(timed[-8:]):
        print(f"  {name:<28} {seconds:7.2f}")
    print(f"{'check':<28} {'first call ms':>14} {'warm median ms':>15}")
    for name, first in result["first_ms"].items():
        warm = result["warm_ms"].get(name)
        warm_text = f"{warm:15.1f}" if warm is not None else f"{'(trains)':>15}"
        flag = "" if warm is None or warm <= CHECK_BUDGET_MS else "  over budget"
        print(f"{name:<28} {first:14.1f} {warm_text}{flag}")


# The exercises of each workshop whose check needs a trained model (not held to 100 ms).
TRAINED = {
    "workshop1": {"linear_regression", "loss_curve", "dense_accuracy", "cnn_accuracy"},
    "workshop2": {"logistic_regression", "view_classifier"},  # floors: bench_workshop2.py
    # early_stopping fits a tiny scripted model with the student's callbacks (~1 s)
    "workshop3": {"early_stopping", "better_model"},
    "workshop4": {"train_unet"},
}


def run_workshop(name: str, repeats: int = 5, save_to: Path | None = None) -> dict:
    """Benchmark one workshop's source notebook (see the module doc)."""
    return bench_notebook(name, trained=TRAINED[name], repeats=repeats, save_to=save_to)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workshops", nargs="*", default=sorted(TRAINED))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--save", type=Path, help="write the executed notebooks here")
    args = parser.parse_args(argv)
    results = []
    for name in args.workshops:
        if name not in TRAINED:
            parser.error(f"no benchmark for '{name}'; choose from {sorted(TRAINED)}")
        results.append(run_workshop(name, repeats=args.repeats, save_to=args.save))
        report(results[-1])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
