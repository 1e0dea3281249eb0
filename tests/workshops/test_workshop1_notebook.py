"""End to end: does workshop 1's source notebook earn every point, public and hidden, and
its release version (solutions cleared by nbgrader) none?

Both notebooks run top to bottom in a real kernel with the self-checks in strict mode;
then, in the same kernel, every exercise's producer runs on all cases (public and hidden,
drawn with a test salt) and this process judges the values against the references, as
``chdml grade`` does. (When the grading engine lands, ``chdml build``'s proofs cover the
same ground.) Takes about 3 minutes: two kernels, two trainings, the hidden view sets.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "source" / "workshop1" / "workshop1.ipynb"
AUTOGRADER = ROOT / "autograder" / "workshop1"
SALT = "tests-workshop1-end-to-end"

PRODUCE = """
from pathlib import Path as _Path
from chdml.grading import wire as _wire
from chdml.grading.spec import draw_cases as _draw, load_workshop as _load
_exercises = _load({autograder!r}).exercises
_wire.save(_Path({out!r}), {{
    _name: [_exercise.producer(globals(), _drawn.case.inputs)
            for _drawn in _draw("workshop1", _exercise, salt={salt!r})]
    for _name, _exercise in _exercises.items()}})
"""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workshop():
    from chdml.grading.spec import load_workshop

    return load_workshop(AUTOGRADER)


@pytest.fixture(scope="module")
def selfcheck_folder(tmp_path_factory, workshop):
    from chdml.grading.publish import write_selfcheck

    folder = tmp_path_factory.mktemp("selfcheck")
    write_selfcheck(workshop, folder / "workshop1")
    return folder


def run_and_produce(notebook, folder: Path, selfcheck: Path, allow_errors: bool) -> dict:
    """Run ``notebook`` in a fresh kernel, then produce every case's value in it."""
    import nbformat
    from nbclient import NotebookClient

    from chdml.grading import selfcheck as selfcheck_module
    from chdml.grading import wire

    (folder / "work").mkdir(parents=True)
    environment = {selfcheck_module.FOLDER_VARIABLE: str(selfcheck),
                   selfcheck_module.STRICT_VARIABLE: "1"}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                                allow_errors=allow_errors,
                                resources={"metadata": {"path": str(folder / "work")}})
        with client.setup_kernel():
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
            probe = nbformat.v4.new_code_cell(PRODUCE.format(
                autograder=str(AUTOGRADER), out=str(folder / "produced"), salt=SALT))
            notebook.cells.append(probe)
            client.allow_errors = False
            client.execute_cell(probe, len(notebook.cells) - 1)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return wire.load(folder / "produced")


def earned_points(workshop, produced: dict) -> dict[str, tuple[float, float]]:
    """``{exercise: (points earned, points possible)}`` judged in this process."""
    from chdml.grading.spec import draw_cases

    scores = {}
    for name, exercise in workshop.exercises.items():
        drawn = draw_cases("workshop1", exercise, salt=SALT)
        assert len(produced[name]) == len(drawn)
        earned = sum(case.case.points for case, got in zip(drawn, produced[name])
                     if exercise.compare(got, case.expected, case.case.inputs).passed)
        scores[name] = (earned, sum(case.case.points for case in drawn))
    return scores


def test_does_the_source_notebook_earn_every_point_public_and_hidden(
        tmp_path, workshop, selfcheck_folder):
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    produced = run_and_produce(notebook, tmp_path, selfcheck_folder, allow_errors=False)
    scores = earned_points(workshop, produced)
    assert all(earned == possible for earned, possible in scores.values()), scores
    assert sum(possible for _, possible in scores.values()) == 50


def test_does_the_release_notebook_earn_nothing(tmp_path, workshop, selfcheck_folder):
    import nbformat
    from nbgrader.preprocessors import ClearSolutions

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook, _ = ClearSolutions().preprocess(notebook, {})
    assert "BEGIN SOLUTION" not in nbformat.writes(notebook)
    produced = run_and_produce(notebook, tmp_path, selfcheck_folder, allow_errors=True)
    scores = earned_points(workshop, produced)
    assert all(earned == 0 for earned, _ in scores.values()), scores
