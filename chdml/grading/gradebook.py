"""Write scores into nbgrader's gradebook, so ``nbgrader export`` and formgrader work.

The assignment is the workshop, its notebook the source notebook; each exercise's check cell
is a grade cell worth the exercise's points and gets the student's automatic score. Cells
the instructor grades by hand (nbgrader "manually graded answer" cells) are registered too
and marked as needing a manual grade; solution cells are registered so formgrader can hold
comments.
"""
from __future__ import annotations

from pathlib import Path

from chdml.grading.engine import NotebookResult
from chdml.grading.restore import nbgrader_meta


def gradebook_cells(source: dict, check_cell_of: dict[str, str],
                    points_of: dict[str, float]) -> tuple[list[tuple], list[str]]:
    """(grade cells as (grade_id, max_score, cell_type, exercise or None), solution ids)."""
    exercise_of = {grade_id: exercise for exercise, grade_id in check_cell_of.items()}
    grade_cells, solution_cells = [], []
    for cell in source["cells"]:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue
        if meta.get("solution"):
            solution_cells.append(grade_id)
        if meta.get("grade"):
            exercise = exercise_of.get(grade_id)
            points = points_of[exercise] if exercise else float(meta.get("points") or 0)
            grade_cells.append((grade_id, points, cell.get("cell_type", "code"), exercise))
    return grade_cells, solution_cells


def record_scores(url: str, workshop: str, notebook: str, source: dict,
                  check_cell_of: dict[str, str], results: dict[str, NotebookResult]) -> None:
    """Store ``results`` (``{student: result}``) in the gradebook at ``url``."""
    import warnings

    from nbgrader.api import Comment, Gradebook, Grade, MissingEntry

    points_of = {name: next(iter(results.values())).exercises[name].points
                 for name in check_cell_of} if results else {}
    grade_cells, solution_cells = gradebook_cells(source, check_cell_of, points_of)
    with warnings.catch_warnings(), Gradebook(url) as gradebook:
        # nbgrader's own add_submission trips SQLAlchemy 2 autoflush warnings; harmless
        warnings.simplefilter("ignore")
        gradebook.update_or_create_assignment(workshop)
        gradebook.update_or_create_notebook(notebook, workshop)
        for grade_id, points, cell_type, _ in grade_cells:
            gradebook.update_or_create_grade_cell(grade_id, notebook, workshop,
                                                  max_score=points, cell_type=cell_type)
        for grade_id in solution_cells:
            gradebook.update_or_create_solution_cell(grade_id, notebook, workshop)
        for student, result in results.items():
            gradebook.update_or_create_student(student)
            gradebook.update_or_create_submission(workshop, student)
            submitted = gradebook.find_submission_notebook(notebook, workshop, student)
            for grade_id, _, _, exercise in grade_cells:
                try:
                    grade = gradebook.find_grade(grade_id, notebook, workshop, student)
                except MissingEntry:
                    cell = gradebook.find_grade_cell(grade_id, notebook, workshop)
                    grade = Grade(cell_id=cell.id, notebook=submitted)
                    gradebook.db.add(grade)
                if exercise is None:
                    grade.needs_manual_grade = grade.manual_score is None
                else:
                    grade.auto_score = result.exercises[exercise].awarded
                    grade.needs_manual_grade = False
            for grade_id in solution_cells:
                try:
                    gradebook.find_comment(grade_id, notebook, workshop, student)
                except MissingEntry:
                    cell = gradebook.find_solution_cell(grade_id, notebook, workshop)
                    gradebook.db.add(Comment(cell_id=cell.id, notebook=submitted))
        gradebook.db.commit()


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` gradebook URL (``None`` for other databases)."""
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) else None
