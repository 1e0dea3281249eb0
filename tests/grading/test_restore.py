"""Are locked cells put back as the instructor wrote them, and is tampering recorded?"""
import copy

from chdml.grading.restore import check_cells, restore, without_installs


def _cell(grade_id, source, cell_type="code", **meta):
    nbgrader = {"grade_id": grade_id, "grade": False, "locked": False, "solution": False,
                **meta}
    return {"cell_type": cell_type, "metadata": {"nbgrader": nbgrader}, "source": source,
            "outputs": [], "execution_count": None}


SOURCE = {"cells": [
    _cell("intro", "# Exercise", cell_type="markdown", locked=True),
    _cell("setup", "grader = chdml.grader('toy')", locked=True),
    _cell("add", "def add(a, b):\n    return a + b", solution=True),
    _cell("add-check", 'grader.check("add")', grade=True, locked=True, points=2),
    _cell("mul", "def mul(a, b):\n    return a * b", solution=True),
    _cell("mul-check", "grader.check('mul')", grade=True, locked=True, points=1),
]}


def _submission():
    cells = copy.deepcopy(SOURCE["cells"])
    cells[2]["source"] = "def add(a, b):\n    return 0"
    return cells


def _sources(cells):
    return [cell["source"] for cell in cells]


def test_does_an_untouched_submission_keep_the_students_answers():
    restored = restore(SOURCE, _submission())
    assert not restored.tampered and not restored.notes
    assert "return 0" in restored.cells[2]["source"]


def test_is_an_edited_check_cell_restored_and_recorded():
    cells = _submission()
    cells[3]["source"] = 'print("All tests passed!")'
    restored = restore(SOURCE, cells)
    assert restored.tampered and "'add-check' was edited" in restored.notes[0]
    assert restored.cells[3]["source"] == 'grader.check("add")'


def test_is_a_deleted_check_cell_put_back_in_its_place():
    cells = _submission()
    del cells[3]
    restored = restore(SOURCE, cells)
    assert restored.tampered and "'add-check' was deleted" in restored.notes[0]
    assert _sources(restored.cells)[3] == 'grader.check("add")'


def test_is_a_check_cell_turned_into_markdown_restored_as_code():
    cells = _submission()
    cells[5]["cell_type"] = "markdown"
    restored = restore(SOURCE, cells)
    assert restored.tampered and restored.cells[5]["cell_type"] == "code"


def test_is_a_copied_check_cell_dropped():
    cells = _submission()
    cells.append(copy.deepcopy(cells[3]))
    restored = restore(SOURCE, cells)
    assert restored.tampered and len(restored.cells) == len(SOURCE["cells"])


def test_is_an_edited_locked_markdown_cell_restored_without_calling_it_tampering():
    cells = _submission()
    cells[0]["source"] = "# Exercise (my notes)"
    restored = restore(SOURCE, cells)
    assert not restored.tampered and restored.notes
    assert restored.cells[0]["source"] == "# Exercise"


def test_does_whitespace_at_line_ends_not_count_as_an_edit():
    cells = _submission()
    cells[3]["source"] = 'grader.check("add")   \n'
    assert not restore(SOURCE, cells).notes


def test_do_cells_the_student_added_stay():
    cells = _submission()
    cells.insert(3, {"cell_type": "code", "metadata": {}, "source": "print(add(1, 2))"})
    assert "print(add(1, 2))" in _sources(restore(SOURCE, cells).cells)


def test_are_check_cells_mapped_to_exercises():
    assert check_cells(SOURCE) == {"add": ["add-check"], "mul": ["mul-check"]}


def test_are_install_lines_skipped_but_other_code_kept():
    code = '%pip install --quiet "chdml @ git+https://x"\n!pip install numpy\nx = 1'
    result = without_installs(code)
    assert "x = 1" in result and all(line.startswith("#") for line in result.splitlines()[:2])
