"""``chdml grade WORKSHOP SUBMISSIONS --out OUT``: grade a folder of returned notebooks.

Each submission runs in its own fresh, sandboxed kernel (:mod:`chdml.grading.engine`), with
its protected cells restored from ``source/``; the kernel only produces the student's
values, this process judges them. Results go to:

- ``OUT/grades.csv``, ``OUT/feedback/<student>.html``, ``OUT/summary.txt`` and
  ``OUT/summary.png`` (:mod:`chdml.grading.report`);
- ``OUT/autograded/<student>/<workshop>/<notebook>.ipynb``: the notebooks as they ran
  (restored cells, outputs; nbgrader's layout, for formgrader);
- the course's nbgrader gradebook (:mod:`chdml.grading.gradebook`).

``OUT/.journal/`` holds one file per graded student, written as soon as that notebook is
done: a rerun (after Ctrl-C, a crash, or with new submissions) grades only what is new or
changed (or everything with ``--force``), since each entry remembers the notebook's and the
checks' fingerprints.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path

from chdml.atomic import remove_stale_temporaries, write_text
from chdml.errors import UserError, describe_path
from chdml.grading import report
from chdml.grading.build import graded_notebook, read_notebook, tools_on_path
from chdml.grading.course import Course, load_course
from chdml.grading.engine import Engine, NotebookGrader, NotebookResult, Settings
from chdml.grading.gradebook import record_scores
from chdml.grading.restore import check_cells
from chdml.grading.sandbox import Limits
from chdml.grading.spec import SALT_VARIABLE, load_workshop
from chdml.grading.submissions import Submission, find_submissions, safe_name

JOURNAL_FORMAT = "1"


def default_workers() -> int:
    """One notebook at a time on small machines; up to four on larger ones."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def checks_fingerprint(course: Course, workshop: str, source_path: Path,
                       settings: Settings) -> str:
    """Changes when the checks, the source notebook, the salt, the limits or chdml change."""
    from chdml import __version__

    parts = [JOURNAL_FORMAT.encode(), __version__.encode(), source_path.read_bytes(),
             os.environ.get(SALT_VARIABLE, "").encode(),
             json.dumps(asdict(settings), sort_keys=True).encode()]
    folder = course.autograder / workshop
    for path in sorted(folder.rglob("*.py")):
        parts += [str(path.relative_to(folder)).encode(), path.read_bytes()]
    return _digest(*parts)


def submission_fingerprint(submission: Submission) -> str:
    parts = [submission.notebook.read_bytes()]
    for path in submission.files:
        parts += [path.name.encode(), path.read_bytes()]
    return _digest(*parts)


class Journal:
    """``OUT/.journal/<student>.json``: finished gradings, one file each (atomic).

    A batch killed while recording leaves a hidden ``.<student>.json.XXXX.part.json``
    temporary; it never counts as finished (:func:`main` deletes it next time).
    """

    def __init__(self, folder: Path, checks: str) -> None:
        self.folder = folder
        self.checks = checks
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, student: str) -> Path:
        return self.folder / f"{safe_name(student)}.json"

    def finished(self, student: str, submission: str) -> NotebookResult | None:
        """The stored result if this very submission was graded with these checks."""
        try:
            entry = json.loads(self._path(student).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        if (entry.get("student") != student or entry.get("checks") != self.checks
                or entry.get("submission") != submission):
            return None
        return NotebookResult.from_json(entry["result"])

    def record(self, student: str, submission: str, result: NotebookResult) -> None:
        entry = {"student": student, "checks": self.checks, "submission": submission,
                 "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "result": result.to_json()}
        write_text(self._path(student), json.dumps(entry, indent=1))


def _write_notebook(path: Path, source: dict, executed: dict) -> None:
    """The notebook as it ran (restored cells with outputs), nbgrader-style metadata kept."""
    import nbformat

    notebook = {"cells": executed["cells"], "metadata": source.get("metadata", {}),
                "nbformat": 4, "nbformat_minor": 5}
    for index, cell in enumerate(notebook["cells"]):
        cell.setdefault("id", f"cell-{index}")
        cell.setdefault("metadata", {})
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    try:
        text = nbformat.writes(nbformat.from_dict(notebook), version=4)
    except Exception:  # noqa: BLE001 - a student's odd cell must not lose the grading
        text = json.dumps(notebook, indent=1)
    write_text(path, text)


def main(workshop: str, submissions: str, out: str, workers: int | None = None,
         timeout: float | None = None, force: bool = False, course: str = ".",
         cell_timeout: float | None = None, memory_limit: float | None = None) -> int:
    """Grade every submission of ``workshop`` in ``submissions`` into ``out``."""
    course_ = load_course(course)
    course_.require_workshop(workshop)
    definition = load_workshop(course_.autograder / workshop)
    source_path = graded_notebook(course_, workshop)
    source = read_notebook(source_path)
    submissions_folder = Path(submissions).resolve()
    found = find_submissions(submissions_folder, workshop, source_path.name)
    out_folder = Path(out).resolve()
    if out_folder == submissions_folder or submissions_folder in out_folder.parents:
        raise UserError(f"--out {describe_path(out)} is inside the submissions folder; "
                        "choose a folder outside it.")
    out_folder.mkdir(parents=True, exist_ok=True)
    # a batch killed with -9 leaves half-written temporaries (journal, feedback, notebooks)
    remove_stale_temporaries(out_folder, recursive=True)
    settings = Settings()
    if timeout is not None:
        settings.total_timeout = float(timeout)
    if cell_timeout is not None:
        settings.cell_timeout = float(cell_timeout)
    if memory_limit is not None:
        settings.limits = Limits(memory_bytes=int(memory_limit * (1 << 20)))
    workers = workers or default_workers()
    journal = Journal(out_folder / ".journal",
                      checks_fingerprint(course_, workshop, source_path, settings))
    results: dict[str, NotebookResult] = {}
    todo: list[tuple[Submission, str]] = []
    for submission in found.submissions:
        fingerprint = submission_fingerprint(submission)
        done = None if force else journal.finished(submission.student, fingerprint)
        if done is not None:
            results[submission.student] = done
        else:
            todo.append((submission, fingerprint))
    print(f"{workshop}: {len(found.submissions)} submissions, {len(results)} already graded, "
          f"{len(todo)} to grade ({workers} at a time)", file=sys.stderr)
    if todo:
        hidden = [course_.source, course_.autograder, *course_.private_files(),
                  submissions_folder, out_folder]
        with Engine(hidden=hidden, settings=settings, spare=workers,
                    log_dir=out_folder) as engine:
            print(engine.describe(), file=sys.stderr)
            grader = NotebookGrader(definition, source, engine,
                                    files=_workshop_files(course_, workshop))
            results.update(_grade_all(grader, todo, journal, out_folder, workshop,
                                      source_path.name, source, workers))
    exercises = list(definition.exercises)
    report.write_grades_csv(out_folder / "grades.csv", exercises, results)
    report.write_feedback(out_folder / "feedback", workshop, results)
    text = report.summary_text(workshop, exercises, results, found.skipped)
    write_text(out_folder / "summary.txt", text)
    if results:
        report.summary_plot(out_folder / "summary.png", workshop, exercises, results)
        check_cell_of = {exercise: ids[0] for exercise, ids in check_cells(source).items()}
        tools_on_path()
        record_scores(course_.gradebook_url, workshop, source_path.stem, source,
                      check_cell_of, results)
    print(text)
    print(f"grades: {out_folder / 'grades.csv'}; feedback: {out_folder / 'feedback'}; "
          f"plot: {out_folder / 'summary.png'}; gradebook: {course_.gradebook_url}")
    return 0


def _workshop_files(course: Course, workshop: str) -> list[Path]:
    folder = course.source / workshop
    return [path for path in sorted(folder.iterdir())
            if path.is_file() and path.suffix != ".ipynb" and not path.name.startswith(".")]


def _grade_all(grader: NotebookGrader, todo: list[tuple[Submission, str]], journal: Journal,
               out_folder: Path, workshop: str, notebook_name: str, source: dict,
               workers: int) -> dict[str, NotebookResult]:
    """Grade ``todo`` with ``workers`` threads; journal each result as soon as it is done."""
    from tqdm import tqdm

    results: dict[str, NotebookResult] = {}

    def one(submission: Submission) -> tuple[NotebookResult, dict | None]:
        try:
            text = submission.notebook.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return grader.unreached("invalid_notebook", [f"cannot read the file: {exc}"],
                                     time.monotonic()), None
        return grader.grade(text, submission.files)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade") as executor, \
            tqdm(total=len(todo), desc=f"grading {workshop}", unit="notebook",
                 file=sys.stderr) as progress:
        waiting = {executor.submit(one, submission): (submission, fingerprint)
                   for submission, fingerprint in todo}
        try:
            while waiting:
                finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
                for future in finished:
                    submission, fingerprint = waiting.pop(future)
                    result, executed = future.result()
                    result.notes[:0] = submission.notes
                    results[submission.student] = result
                    if executed is not None:
                        _write_notebook(out_folder / "autograded" / safe_name(submission.student)
                                        / workshop / notebook_name, source, executed)
                    if result.status != "grader_error":  # a grader bug: try again next run
                        journal.record(submission.student, fingerprint, result)
                    progress.set_postfix_str(f"{submission.student}: {result.total:g}/"
                                             f"{result.max_total:g} {result.status}")
                    progress.update()
        except KeyboardInterrupt:
            for future in waiting:
                future.cancel()
            raise
    return results
