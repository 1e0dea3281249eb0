"""Run a workshop notebook in a plain Jupyter kernel, timing every cell, then grade it there.

For ``bench/bench_workshops.py``: unlike the grading engine's sandboxed kernels (which
silence ``grader.check``), this runs the real self-checks (strict), records each cell's
wall time, lets the benchmark run extra code in the same kernel (warm check latency,
accuracy floors), and finally lets each exercise's producer compute the student's values
on every case (public and hidden) in that kernel, judged here, outside it. Optionally the
solution regions are cleared first, as nbgrader does for ``release/``.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from chdml.grading import wire
from chdml.grading.publish import write_selfcheck
from chdml.grading.spec import draw_cases, load_workshop

ROOT = Path(__file__).resolve().parents[1]

PRODUCE = """
import json as _json
from chdml.grading import producers as _producers, wire as _wire
_producer = _producers.from_spec(_json.loads({spec!r}))
_wire.save(__import__("pathlib").Path({folder!r}) / "result",
           [_producer(globals(), _inputs) for _inputs in
            _wire.load(__import__("pathlib").Path({folder!r}) / "inputs")])
"""


def cleared(notebook):
    """``notebook`` with solution regions replaced as nbgrader does for ``release/``."""
    from nbgrader.preprocessors import ClearSolutions

    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    notebook, _ = ClearSolutions().preprocess(notebook, {})
    return notebook


def grade_notebook(path: Path, workdir: Path, *, workshop: str = "workshop2",
                   clear_solutions: bool = False, strict: bool | None = None,
                   timeout: int = 900, after=None) -> dict:
    """Run ``path`` in a kernel in ``workdir`` and grade every case of every exercise.

    ``strict`` (default: not ``clear_solutions``) makes a failing public self-check raise
    in the notebook, as ``chdml build`` does for its proof. Returns ``{"score",
    "max_score", "passed", "failed": [(exercise, case, what came back)], "cell_seconds":
    {cell id: seconds}, "notebook_seconds", "errors": [cell ids that raised]}``.
    ``after(run_code)``, if given, is called once the notebook has run, with a function
    that runs Python code in the kernel and returns its printed output; what it returns is
    stored under ``"after"``.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    checks = load_workshop(ROOT / "autograder" / workshop)
    write_selfcheck(checks, workdir / "selfcheck" / workshop)
    strict = (not clear_solutions) if strict is None else strict
    saved = {key: os.environ.get(key) for key in
             ("CHDML_SELFCHECK_DIR", "CHDML_SELFCHECK_STRICT", "CHDML_GRADING_KERNEL")}
    os.environ["CHDML_SELFCHECK_DIR"] = str(workdir / "selfcheck")
    os.environ["CHDML_SELFCHECK_STRICT"] = "1" if strict else "0"
    os.environ["CHDML_GRADING_KERNEL"] = "0" if strict else "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    notebook = nbformat.read(path, as_version=4)
    if clear_solutions:
        notebook = cleared(notebook)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            allow_errors=clear_solutions,
                            resources={"metadata": {"path": str(workdir)}})
    report = {"cell_seconds": {}, "errors": [], "failed": [], "passed": [],
              "score": 0.0, "max_score": 0.0}
    try:
        with client.setup_kernel():
            start = time.perf_counter()
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type != "code":
                    continue
                began = time.perf_counter()
                client.execute_cell(cell, index)
                report["cell_seconds"][cell.get("id", str(index))] = time.perf_counter() - began
                if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
                    report["errors"].append(cell.get("id", str(index)))
            report["notebook_seconds"] = time.perf_counter() - start
            if after is not None:
                def run_code(source: str) -> str:
                    probe = nbformat.v4.new_code_cell(source)
                    notebook.cells.append(probe)
                    client.execute_cell(probe, len(notebook.cells) - 1)
                    return "".join(out.get("text", "") for out in probe.outputs
                                   if out.get("output_type") == "stream")
                report["after"] = after(run_code)
            for name, exercise in checks.exercises.items():
                cases = draw_cases(workshop, exercise)
                folder = workdir / "requests" / name
                folder.mkdir(parents=True, exist_ok=True)
                wire.save(folder / "inputs", [case.case.inputs for case in cases])
                probe = nbformat.v4.new_code_cell(PRODUCE.format(
                    spec=json.dumps(exercise.producer.spec()), folder=str(folder)))
                notebook.cells.append(probe)
                client.execute_cell(probe, len(notebook.cells) - 1)
                values = wire.load(folder / "result")
                for case, value in zip(cases, values):
                    verdict = exercise.compare(value, case.expected, case.case.inputs)
                    report["max_score"] += case.case.points
                    if verdict.passed:
                        report["score"] += case.case.points
                        report["passed"].append((name, case.case.description))
                    else:
                        report["failed"].append((name, case.case.description, verdict.got))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return report
