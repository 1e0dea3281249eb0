"""End to end with the real grading engine: does workshop 3's source notebook, graded as a
submission, earn every point (public and hidden cases), and the untouched release
notebook none?

Both notebooks run in the engine's sandboxed kernels, as ``chdml grade`` runs them, with
a salt of their own (so the hidden cases differ from the ones ``chdml build`` proved).
Takes about 4-6 minutes on the 2-vCPU machine: two kernels, two trainings of the source
notebook, the hidden test sets.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SALT = "tests-workshop3-end-to-end"
TOTAL_POINTS = 43

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """``{"source": NotebookResult, "release": NotebookResult}``."""
    from chdml.grading.course import load_course
    from chdml.grading.engine import Engine, NotebookGrader, Settings
    from chdml.grading.publish import write_selfcheck
    from chdml.grading.spec import load_workshop

    course = load_course(ROOT)
    workshop = load_workshop(course.autograder / "workshop3")
    source_path = course.source / "workshop3" / "workshop3.ipynb"
    release_path = course.release / "workshop3" / "workshop3.ipynb"
    if not release_path.is_file():
        pytest.fail("release/workshop3 is missing: run `chdml build workshop3`")
    selfcheck = tmp_path_factory.mktemp("selfcheck")
    write_selfcheck(workshop, selfcheck / "workshop3")
    source = json.loads(source_path.read_text(encoding="utf-8"))
    settings = Settings(cell_timeout=600, total_timeout=1800)
    with Engine(hidden=[course.source, course.autograder], settings=settings,
                selfcheck_dir=selfcheck, strict_selfcheck=True) as engine:
        grader = NotebookGrader(workshop, source, engine, salt=SALT)
        results = {name: grader.grade(path.read_text(encoding="utf-8"))[0]
                   for name, path in (("source", source_path), ("release", release_path))}
    return results


def test_does_the_source_notebook_earn_every_point_public_and_hidden(graded):
    result = graded["source"]
    failed = {name: [case.message for case in exercise.cases if not case.passed]
              for name, exercise in result.exercises.items()
              if exercise.awarded < exercise.points}
    assert result.status == "ok", result.notes
    assert not failed, failed
    assert result.total == result.max_total == TOTAL_POINTS


def test_does_the_untouched_release_notebook_earn_nothing(graded):
    result = graded["release"]
    assert result.max_total == TOTAL_POINTS
    assert {name: exercise.awarded for name, exercise in result.exercises.items()
            if exercise.awarded} == {}
