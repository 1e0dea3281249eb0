"""Benchmark of the grading engine against nbgrader, side by side, in one run.

    .venv/bin/python bench/bench_grading.py [--submissions 12] [--course tests/fixtures/toycourse]

1. copies the course to a scratch folder and builds it (``chdml build``; not timed);
2. makes N returned notebooks in nbgrader's ``submitted/<student>/<workshop>/`` layout, a
   third each: fully solved, solved but for the trained classifier, untouched;
3. times ``nbgrader autograde`` on them (its kernels run the otter self-checks in strict
   mode, so a check cell raises when any public case fails: nbgrader's usual
   all-or-nothing grade cell), then ``chdml grade`` on the same folder (all cases, public
   and hidden, judged outside the kernel);
4. compares the scores exercise by exercise (every notebook here is entirely right or
   entirely wrong on each exercise, so all-or-nothing and per-case scoring must agree);
5. measures the student's self-check in a real kernel (``chdml.grader()``, first and warm
   ``grader.check`` for the exercises without training);
6. prints a table and writes the "Grading engine" section of ``bench/RESULTS.md``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.grading import notebooks as nb  # noqa: E402  (the same notebooks as the tests)

BIN = Path(sys.executable).parent
SECTION = "## Grading engine"


def run(command: list, cwd: Path | None = None, env: dict | None = None) -> tuple[float, str]:
    """Run a command; return (wall seconds, combined output); fail loudly on error."""
    start = time.perf_counter()
    result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                            text=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout + result.stderr


def environment(**extra: str) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def make_submissions(course: Path, workshop: str, notebook: str, count: int) -> dict:
    """``submitted/<student>/<workshop>/<notebook>``; returns {student: kind}."""
    kinds = {"solved": nb.solved(course), "no_classifier": nb.solved(course, skip=("classifier",)),
             "blank": nb.blank(course)}
    students = {}
    for index in range(count):
        kind = list(kinds)[index % 3]
        student = f"s{index + 1:02d}_{kind}"
        folder = course / "submitted" / student / workshop
        folder.mkdir(parents=True)
        nb.write(folder, Path(notebook).stem, kinds[kind])
        students[student] = kind
    return students


def cell_seconds(path: Path) -> float:
    """Sum of the cells' own execution times recorded by nbclient in a notebook."""
    total = 0.0
    for cell in json.loads(path.read_text())["cells"]:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            total += (end - start).total_seconds()
    return total


def nbgrader_scores(course: Path, workshop: str, notebook: str, students: list) -> dict:
    from nbgrader.api import Gradebook

    from chdml.grading.restore import check_cells

    source = json.loads((course / "source" / workshop / notebook).read_text())
    cells = {exercise: ids[0] for exercise, ids in check_cells(source).items()}
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            scores[student] = {exercise: gradebook.find_grade(grade_id, Path(notebook).stem,
                                                              workshop, student).score
                               for exercise, grade_id in cells.items()}
    return scores


def selfcheck_latency(course: Path, workshop: str) -> dict:
    """Times in a real kernel: chdml.grader(), and grader.check first/warm per exercise."""
    from jupyter_client.manager import start_new_kernel

    exercises = ["add", "normalise", "unique_labels", "count_labels", "mean_intensity",
                 "build_model"]
    solutions = nb.solved(course)
    code = "\n".join(cell["source"] for cell in solutions["cells"]
                     if cell["cell_type"] == "code" and "grader.check" not in cell["source"]
                     and "%pip" not in cell["source"] and "classifier" not in cell["source"]
                     and "fit(" not in cell["source"])
    env = environment(CHDML_SELFCHECK_DIR=str(course / "selfcheck"))
    manager, client = start_new_kernel(env=env, cwd=str(course))  # otter logs to its cwd
    try:
        def execute(text: str) -> str:
            reply = client.execute_interactive(text, timeout=300, output_hook=lambda m: (
                outputs.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None))
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"{reply['content'].get('ename')}: {text[:80]}")
            return "".join(outputs)

        outputs: list[str] = []
        execute("import time\nt = time.perf_counter()\nimport chdml\n"
                f"grader = chdml.grader({workshop!r})\n"
                "print('GRADER', time.perf_counter() - t)")
        execute(code)
        for exercise in exercises:
            execute(f"t = time.perf_counter(); r = grader.check({exercise!r}); "
                    f"a = time.perf_counter() - t\nassert r.passed_all, r\n"
                    f"t = time.perf_counter(); grader.check({exercise!r}); "
                    f"b = time.perf_counter() - t\nprint('CHECK', {exercise!r}, a, b)")
        text = "".join(outputs)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    grader_seconds = float(text.split("GRADER")[1].split()[0])
    checks = {}
    for line in text.splitlines():
        if line.startswith("CHECK"):
            _, name, first, warm = line.split()
            checks[name.strip("'")] = (float(first), float(warm))
    return {"grader": grader_seconds, "checks": checks}


def write_results(table: str) -> None:
    path = REPO / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if SECTION in text:
        start = text.index(SECTION)
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + table + (text[end:] if end != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + table
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=12)
    parser.add_argument("--course", default=str(REPO / "tests/fixtures/toycourse"))
    parser.add_argument("--workshop", default="toy")
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="chdml-bench-", dir=REPO / "build"
                                    if (REPO / "build").is_dir() else None))
    scratch.chmod(0o755)
    course = scratch / "course"
    shutil.copytree(args.course, course, ignore=shutil.ignore_patterns("__pycache__"))
    workshop = args.workshop
    try:
        print("building the course (not timed) ...", flush=True)
        run([BIN / "chdml", "build", workshop, "--course", course], env=environment())
        from chdml.grading.build import graded_notebook
        from chdml.grading.course import load_course

        notebook = graded_notebook(load_course(course), workshop).name
        run([BIN / "nbgrader", "generate_assignment", workshop, "--force"], cwd=course,
            env=environment())
        students = make_submissions(course, workshop, notebook, args.submissions)
        print(f"nbgrader autograde on {len(students)} notebooks ...", flush=True)
        nbgrader_seconds, _ = run(
            [BIN / "nbgrader", "autograde", workshop, "--force",
             "--ExecutePreprocessor.timeout=600"], cwd=course,
            env=environment(CHDML_SELFCHECK_DIR=str(course / "selfcheck"),
                            CHDML_SELFCHECK_STRICT="1"))
        nbgrader_cells = [cell_seconds(course / "autograded" / s / workshop / notebook)
                          for s in students]
        theirs = nbgrader_scores(course, workshop, notebook, list(students))
        print(f"chdml grade on the same {len(students)} notebooks ...", flush=True)
        out = scratch / "chdml-out"
        chdml_seconds, log = run(
            [BIN / "chdml", "grade", workshop, course / "submitted", "--out", out, "--course",
             course, "--workers", "1", "--force"], env=environment())
        with open(out / "grades.csv", newline="") as handle:
            ours = {row["student"]: row for row in csv.DictReader(handle)}
        journal = {s: json.loads((out / ".journal" / f"{s}.json").read_text())["result"]
                   for s in students}
        latency = selfcheck_latency(course, workshop)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    mismatches = [(s, e, theirs[s][e], float(ours[s][e])) for s in students for e in theirs[s]
                  if float(theirs[s][e]) != float(ours[s][e])]
    n = len(students)
    our_cells = [r["cell_seconds"] for r in journal.values()]
    our_produce = [r["timings"].get("produce", 0.0) for r in journal.values()]
    our_totals = [r["total_seconds"] for r in journal.values()]
    engine = [t - c - p for t, c, p in zip(our_totals, our_cells, our_produce)]
    with_checks = [t - c for t, c in zip(our_totals, our_cells)]
    amortised_ours = (chdml_seconds - sum(our_cells) - sum(our_produce)) / n
    amortised_nbgrader = (nbgrader_seconds - sum(nbgrader_cells)) / n
    checks = latency["checks"]
    first = [a for a, _ in checks.values()]
    warm = [b for _, b in checks.values()]
    machine = (f"{platform.node()}, {os.cpu_count()} vCPUs, Python {platform.python_version()}, "
               f"load average at the end {os.getloadavg()[0]:.1f}")
    table = f"""{SECTION}

Command: `.venv/bin/python bench/bench_grading.py --submissions {n}` (toy course: 7 exercises,
one trains a small Keras classifier; a third of the notebooks solved, a third solved but
for the classifier, a third untouched). Machine: {machine}; {datetime.now():%Y-%m-%d %H:%M}.

| measure | nbgrader autograde | chdml grade |
|---|---|---|
| whole batch, wall time ({n} notebooks) | {nbgrader_seconds:.1f} s | {chdml_seconds:.1f} s |
| throughput | {n / nbgrader_seconds * 60:.1f} notebooks/min | {n / chdml_seconds * 60:.1f} notebooks/min (**{nbgrader_seconds / chdml_seconds:.1f}x**) |
| notebook cells' own time, mean | {statistics.mean(nbgrader_cells):.2f} s (check cells included) | {statistics.mean(our_cells):.2f} s + {statistics.mean(our_produce):.2f} s producing the values of all cases |
| per-notebook overhead, median (grading time minus cells and checks) | {amortised_nbgrader:.2f} s (batch time / n minus cells) | {statistics.median(engine):.2f} s (max {max(engine):.2f} s) |
| same, amortised over the batch incl. start-up | {amortised_nbgrader:.2f} s | {amortised_ours:.2f} s |
| per-notebook time minus cells only (checks counted as overhead), median | - | {statistics.median(with_checks):.2f} s |
| scores (per exercise, all {n} notebooks) | all-or-nothing per check cell, public cases | per case, public + hidden |
| score mismatches | {len(mismatches)} | |

Self-check in a real kernel (`chdml.grader("{workshop}")` then `grader.check(...)` for the
{len(checks)} exercises without training): `chdml.grader()` {latency['grader']:.2f} s (once per
notebook, in its setup cell: imports otter and, for a workshop with Keras checks, TensorFlow,
which the notebook imports anyway, and runs TensorFlow's first operations); `grader.check` first call median {statistics.median(first) * 1000:.1f} ms
(max {max(first) * 1000:.1f} ms), warm median {statistics.median(warm) * 1000:.1f} ms
(max {max(warm) * 1000:.1f} ms); per exercise first/warm ms:
{', '.join(f'{name} {a * 1000:.0f}/{b * 1000:.0f}' for name, (a, b) in checks.items())}.

Fairness: both graders run the same notebooks, one at a time. nbgrader starts a fresh kernel
per notebook and its kernels import NumPy/TensorFlow themselves; chdml forks warm,
sandboxed kernels from a server that imported them once (its start-up is inside the chdml
wall time). nbgrader's check cells run the public cases (strict self-check: a failing case
raises, so the cell scores 0); chdml also runs the hidden cases and scores each case. Every
notebook here is entirely right or entirely wrong per exercise, so both must give the same
scores; "score mismatches" counts where they do not. Timings on this shared machine are
indicative (other jobs were running); rerun on a quiet machine for final numbers.
"""
    print(table)
    if mismatches:
        print("MISMATCHES:", mismatches)
    if not args.no_results:
        write_results(table)


if __name__ == "__main__":
    main()
