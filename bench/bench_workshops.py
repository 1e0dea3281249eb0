"""Run each workshop's source notebook top to bottom with a real kernel; time it and its checks.

For a workshop: executes ``source/<workshop>/<workshop>.ipynb`` in a fresh ipykernel
(nbclient, in a temporary folder, every check strict so a failing check stops the run), reports the wall time of
the whole notebook and of its slowest cells, then, in the same kernel, times
``grader.check(<exercise>)`` for every exercise without training: the first call and the
median of five warm calls. Self-check data: the package's (``chdml build`` writes it) or
``$CHDML_SELFCHECK_DIR``.

    .venv/bin/python bench/bench_workshops.py            # every workshop with a function here
    .venv/bin/python bench/bench_workshops.py workshop4  # one workshop

One function per workshop (add yours): it names the exercises that train a model (their
checks are not timed against the 100 ms target).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK_TARGET_MS = 100.0
TIMING_CELL = '''
import json as _json, time as _time, statistics as _statistics
_timings = {}
for _exercise in %r:
    _start = _time.perf_counter(); grader.check(_exercise); _first = _time.perf_counter() - _start
    _warm = []
    for _ in range(5):
        _start = _time.perf_counter(); grader.check(_exercise); _warm.append(_time.perf_counter() - _start)
    _timings[_exercise] = [_first * 1000, _statistics.median(_warm) * 1000]
print("TIMINGS" + _json.dumps(_timings))
'''


def run_notebook(workshop: str, untimed: set[str], timeout: int = 900) -> dict:
    """Execute the workshop's source notebook; return wall times and check latencies."""
    import nbformat
    from nbclient import NotebookClient

    from chdml.grading.restore import check_cells

    path = ROOT / "source" / workshop / f"{workshop}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    exercises = [name for name in check_cells(notebook) if name not in untimed]
    notebook.cells.append(nbformat.v4.new_code_cell(TIMING_CELL % (exercises,)))
    os.environ["CHDML_SELFCHECK_STRICT"] = "1"
    os.environ.pop("CHDML_GRADING_KERNEL", None)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{workshop}-"))  # otter writes .OTTER_LOG
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    cell_seconds = []
    original = client.async_execute_cell

    async def timed_cell(cell, index, **kwargs):
        start = time.perf_counter()
        result = await original(cell, index, **kwargs)
        cell_seconds.append((time.perf_counter() - start, cell.get("id", str(index))))
        return result

    client.async_execute_cell = timed_cell
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    total = time.perf_counter() - start
    timing_cell = notebook.cells[-1]
    text = "".join(output.get("text", "") for output in timing_cell.outputs)
    checks = json.loads(text.split("TIMINGS", 1)[1]) if "TIMINGS" in text else {}
    notebook_seconds = total - (cell_seconds[-1][0] if cell_seconds else 0.0)
    return {"workshop": workshop, "seconds": notebook_seconds,
            "slowest": sorted(cell_seconds[:-1], reverse=True)[:4], "checks": checks}


def report(result: dict) -> None:
    print(f"\n## {result['workshop']}: source notebook top to bottom, all checks passing: "
          f"{result['seconds']:.0f} s")
    print("slowest cells: " + ", ".join(f"{cell} {seconds:.0f} s"
                                        for seconds, cell in result["slowest"]))
    print("\n| exercise | first check (ms) | warm check, median of 5 (ms) |")
    print("|---|---:|---:|")
    for exercise, (first, warm) in result["checks"].items():
        flag = "" if warm <= CHECK_TARGET_MS else " (over 100 ms)"
        print(f"| {exercise} | {first:.0f} | {warm:.0f}{flag} |")


def workshop4() -> dict:
    """Workshop 4 (segmentation); train_unet trains a model."""
    return run_notebook("workshop4", untimed={"train_unet"})


WORKSHOPS = {"workshop4": workshop4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workshops", nargs="*", choices=[*WORKSHOPS, []], default=[])
    names = parser.parse_args().workshops or list(WORKSHOPS)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    for name in names:
        report(WORKSHOPS[name]())


if __name__ == "__main__":
    main()
