"""What a batch grading leaves for people: grades.csv, feedback pages, a summary and a plot.

- ``grades.csv``: ``student, total, max_total, <one column per exercise>, status, notes``;
- ``feedback/<student>.html``: per exercise and case whether it passed, and for failed
  cases the message: public cases show given / expected / got / hint, hidden cases only
  their description and the hint;
- ``summary.txt`` and ``summary.png``: per-exercise pass rates and the most common
  failures, for the instructor.
"""
from __future__ import annotations

import csv
import html
import io
from collections import Counter
from pathlib import Path

from chdml.atomic import atomic_path, write_text
from chdml.grading.engine import NotebookResult
from chdml.grading.submissions import safe_name


def _number(value: float) -> str:
    return f"{value:g}"


def write_grades_csv(path: Path, exercises: list[str], results: dict[str, NotebookResult]) -> None:
    """``grades.csv`` with one row per student (sorted by student id)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "total", "max_total", *exercises, "status", "notes"])
    for student in sorted(results):
        result = results[student]
        writer.writerow([student, _number(result.total), _number(result.max_total),
                         *[_number(result.exercises[name].awarded) for name in exercises],
                         result.status, "; ".join(result.notes)])
    write_text(path, buffer.getvalue())


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
.pass { color: #1a7f37; } .fail { color: #cf222e; }
pre { white-space: pre-wrap; margin: 0; font-size: .85rem; background: #f6f8fa; padding: .4rem; }
.notes { background: #fff8c5; padding: .5rem 1rem; }
"""


def feedback_html(workshop: str, student: str, result: NotebookResult) -> str:
    """One student's feedback page (public messages only; everything escaped)."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(workshop)}: "
             f"{e(student)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{e(workshop)}: feedback for {e(student)}</h1>",
             f"<p><strong>Score: {_number(result.total)} / {_number(result.max_total)}</strong>"
             "</p>"]
    if result.notes:
        parts.append("<div class='notes'><p>Notes from the grader:</p><ul>"
                     + "".join(f"<li>{e(note)}</li>" for note in result.notes) + "</ul></div>")
    for exercise in result.exercises.values():
        parts.append(f"<h2>{e(exercise.title)} (<code>{e(exercise.name)}</code>): "
                     f"{_number(exercise.awarded)} / {_number(exercise.points)}</h2>")
        parts.append("<table><tr><th></th><th>Case</th><th>Points</th><th>What happened</th></tr>")
        for case in exercise.cases:
            mark = "<span class='pass'>&#10003;</span>" if case.passed else \
                "<span class='fail'>&#10007;</span>"
            kind = "" if case.public else " <em>(hidden)</em>"
            message = f"<pre>{e(case.message)}</pre>" if case.message else ""
            parts.append(f"<tr><td>{mark}</td><td>{e(case.description)}{kind}</td>"
                         f"<td>{_number(case.awarded)} / {_number(case.points)}</td>"
                         f"<td>{message}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_feedback(folder: Path, workshop: str, results: dict[str, NotebookResult]) -> None:
    for student, result in results.items():
        write_text(folder / f"{safe_name(student)}.html", feedback_html(workshop, student, result))


def summarise(exercises: list[str], results: dict[str, NotebookResult],
              top: int = 8) -> tuple[list[tuple], list[tuple], Counter]:
    """Per exercise (name, full-marks rate, mean score fraction); the most common failed
    cases (exercise, case, count); status counts."""
    count = max(len(results), 1)
    rows = []
    for name in exercises:
        fractions = [r.exercises[name].awarded / r.exercises[name].points
                     if r.exercises[name].points else 1.0 for r in results.values()]
        full = sum(1 for fraction in fractions if fraction >= 1.0)
        rows.append((name, full / count, sum(fractions) / count))
    failures = Counter()
    for result in results.values():
        for name in exercises:
            for case in result.exercises[name].cases:
                if not case.passed:
                    failures[(name, case.description + ("" if case.public else " (hidden)"))] += 1
    common = [(name, case, number) for (name, case), number in failures.most_common(top)]
    statuses = Counter(result.status for result in results.values())
    return rows, common, statuses


def summary_text(workshop: str, exercises: list[str], results: dict[str, NotebookResult],
                 skipped: list[str]) -> str:
    rows, common, statuses = summarise(exercises, results)
    lines = [f"{workshop}: {len(results)} submissions graded"]
    if results:
        mean = sum(r.total for r in results.values()) / len(results)
        maximum = next(iter(results.values())).max_total
        lines.append(f"mean score {mean:.1f} / {maximum:g}; status: "
                     + ", ".join(f"{status} {number}" for status, number in statuses.most_common()))
    width = max([len(name) for name in exercises] + [8])
    lines += ["", f"{'exercise':<{width}}  full marks  mean score"]
    lines += [f"{name:<{width}}  {full:>9.0%}  {mean:>10.0%}" for name, full, mean in rows]
    if common:
        lines += ["", "most common failures:"]
        lines += [f"  {number:>3} x {name}: {case}" for name, case, number in common]
    if skipped:
        lines += ["", "not graded:"] + [f"  {reason}" for reason in skipped]
    return "\n".join(lines) + "\n"


def summary_plot(path: Path, workshop: str, exercises: list[str],
                 results: dict[str, NotebookResult]) -> None:
    """Two panels: per-exercise full-marks rate and mean score; most common failures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, common, _ = summarise(exercises, results)
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, max(3.0, 0.45 * len(rows) + 1.5)),
                                         gridspec_kw={"width_ratios": [1, 1.3]})
    names = [row[0] for row in rows][::-1]
    positions = range(len(names))
    left.barh([p + 0.2 for p in positions], [row[2] for row in rows][::-1], height=0.4,
              label="mean score", color="#9ecae1")
    left.barh([p - 0.2 for p in positions], [row[1] for row in rows][::-1], height=0.4,
              label="full marks", color="#3182bd")
    left.set_yticks(list(positions), names)
    left.set_xlim(0, 1)
    left.set_xlabel("fraction of students")
    left.set_title(f"{workshop}: {len(results)} submissions")
    left.legend(loc="lower right")
    if common:
        labels = [f"{name}: {case}"[:60] for name, case, _ in common][::-1]
        right.barh(range(len(labels)), [number for _, _, number in common][::-1], color="#e6550d")
        right.set_yticks(range(len(labels)), labels, fontsize=8)
        right.set_xlabel("students failing this case")
        right.set_title("most common failures")
    else:
        right.axis("off")
        right.text(0.5, 0.5, "no failures", ha="center", va="center")
    figure.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=110, format="png")
    plt.close(figure)
