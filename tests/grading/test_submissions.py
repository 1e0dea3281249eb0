"""Are returned notebooks found in both layouts and attributed to the right student?"""
import os

import pytest

from chdml.errors import UserError
from chdml.grading.submissions import find_submissions, student_from_filename


@pytest.mark.parametrize("stem, student", [
    ("alice", "alice"),
    ("alice_workshop1", "alice"),
    ("Copy of workshop1 - alice", "alice"),
    ("Kopie von workshop1 (alice) (1)", "alice"),
    ("copy of Copy of alice workshop1", "alice"),
    ("workshop1_smith_john_12345", "smith_john_12345"),
    ("Copy of workshop1", ""),
])
def test_is_the_student_read_from_the_file_name(stem, student):
    assert student_from_filename(stem, ["workshop1", "workshop1"]) == student


def test_is_the_nbgrader_layout_found_with_its_extra_files(tmp_path):
    folder = tmp_path / "alice" / "toy"
    folder.mkdir(parents=True)
    (folder / "toy.ipynb").write_text("{}")
    (folder / "data.csv").write_text("1,2")
    found = find_submissions(tmp_path, "toy", "toy.ipynb")
    [submission] = found.submissions
    assert submission.student == "alice" and [p.name for p in submission.files] == ["data.csv"]


def test_does_a_flat_folder_grade_the_newest_of_two_files_and_say_so(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "Copy of toy - alice.ipynb").write_text("{}")
    os.utime(tmp_path / "alice.ipynb", (1, 1))
    [submission] = find_submissions(tmp_path, "toy", "toy.ipynb").submissions
    assert submission.notebook.name == "Copy of toy - alice.ipynb"
    assert "2 files" in submission.notes[0]


def test_is_a_nameless_file_skipped_with_a_reason(tmp_path):
    (tmp_path / "Copy of toy.ipynb").write_text("{}")
    found = find_submissions(tmp_path, "toy", "toy.ipynb")
    assert not found.submissions and "rename it" in found.skipped[0]


def test_does_a_missing_folder_name_the_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        find_submissions(tmp_path / "nowhere", "toy", "toy.ipynb")


def test_does_an_empty_folder_say_what_was_expected(tmp_path):
    with pytest.raises(UserError, match="<student>/toy/toy.ipynb"):
        find_submissions(tmp_path, "toy", "toy.ipynb")
