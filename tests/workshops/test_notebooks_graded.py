"""End to end with the real grading engine: does each workshop's source notebook, graded as
a submission, earn every point (public and hidden cases), and the untouched release
notebook none?

Both notebooks run in the engine's sandboxed kernels, as ``chdml grade`` runs them, with
a salt of their own (so the hidden cases differ from the ones ``chdml build`` proved).
Takes about 3-6 minutes per workshop on the 2-vCPU machine: two kernels, the source
notebook's trainings, the hidden test sets. (Workshop 4 has the same proof, with the leak
check of ``chdml build``, in ``test_workshop4.py``.)
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOTAL_POINTS = {"workshop1": 50, "workshop2": 51, "workshop3": 43}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=sorted(TOTAL_POINTS))
def graded(request, tmp_path_factory):
    """``(workshop name, {"source": NotebookResult, "release": NotebookResult})``."""
    from chdml.grading.course import load_course
    from chdml.grading.engine import Engine, NotebookGrader, Settings
    from chdml.grading.publish import write_selfcheck
    from chdml.grading.spec import load_workshop

    name = request.param
    course = load_course(ROOT)
    workshop = load_workshop(course.autograder / name)
    source_path = course.source / name / f"{name}.ipynb"
    release_path = course.release / name / f"{name}.ipynb"
    if not release_path.is_file():
        pytest.fail(f"release/{name} is missing: run `chdml build {name}`")
    selfcheck = tmp_path_factory.mktemp("selfcheck")
    write_selfcheck(workshop, selfcheck / name)
    source = json.loads(source_path.read_text(encoding="utf-8"))
    settings = Settings(cell_timeout=600, total_timeout=1800)
    with Engine(hidden=[course.source, course.autograder], settings=settings,
                selfcheck_dir=selfcheck, strict_selfcheck=True) as engine:
        grader = NotebookGrader(workshop, source, engine, salt=f"tests-{name}-end-to-end")
        results = {kind: grader.grade(path.read_text(encoding="utf-8"))[0]
                   for kind, path in (("source", source_path), ("release", release_path))}
    return name, results


def test_does_the_source_notebook_earn_every_point_public_and_hidden(graded):
    name, results = graded
    result = results["source"]
    failed = {exercise_name: [case.message for case in exercise.cases if not case.passed]
              for exercise_name, exercise in result.exercises.items()
              if exercise.awarded < exercise.points}
    assert result.status == "ok", result.notes
    assert not failed, failed
    assert result.total == result.max_total == TOTAL_POINTS[name]


def test_does_the_untouched_release_notebook_earn_nothing(graded):
    name, results = graded
    result = results["release"]
    assert result.max_total == TOTAL_POINTS[name]
    assert {exercise_name: exercise.awarded for exercise_name, exercise
            in result.exercises.items() if exercise.awarded} == {}
