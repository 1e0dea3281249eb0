"""Does `chdml build` make the student notebooks and self-checks, and prove them?"""
import json
import shutil

import pytest

from chdml.grading import build
from tests.grading.conftest import copy_toycourse, run_chdml
from tests.grading.notebooks import edit, load

pytestmark = pytest.mark.slow


def test_does_the_release_have_the_badge_and_one_install_cell_after_the_title(built_course):
    cells = load(built_course / "release/toy/toy.ipynb")["cells"]
    assert cells[0]["source"].startswith("# Toy workshop")
    assert "colab.research.google.com/github/example/toycourse/blob/main/release/toy/toy.ipynb" \
        in "".join(cells[1]["source"])
    installs = [c for c in cells if "%pip install" in "".join(c["source"])]
    assert len(installs) == 1 and "git+https://github.com/example/toycourse@main" in \
        "".join(installs[0]["source"])


def test_are_solutions_stripped_from_the_release(built_course):
    text = (built_course / "release/toy/toy.ipynb").read_text()
    assert "return a + b" not in text and "raise NotImplementedError()" in text


def test_does_the_selfcheck_data_hold_only_public_cases(built_course):
    data = json.loads((built_course / "selfcheck/toy/normalise.json").read_text())
    text = json.dumps(data)
    assert "a 4x4 image" in text and "constant image" not in text
    test_file = (built_course / "selfcheck/toy/tests/normalise.py").read_text()
    assert "check_case('toy', 'normalise', 0, env)" in test_file


def _build(course, proof_engine, check=False):
    from chdml.grading.course import load_course

    engine, scratch = proof_engine
    return build.run_build(load_course(course), ["toy"], check, engine, scratch)


def test_does_check_pass_right_after_a_build(built_course, proof_engine, capsys):
    assert _build(built_course, proof_engine, check=True)
    assert "toy: up to date" in capsys.readouterr().out


def test_does_check_name_a_stale_release_and_change_nothing(built_course, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(built_course, course)
    release = course / "release/toy/toy.ipynb"
    release.write_text(release.read_text().replace("Write `add(a, b)`.", "Write add."))
    before = release.read_bytes()
    assert build.stale_files(built_course / "release/toy", course / "release/toy") == \
        [f"{course / 'release/toy/toy.ipynb'} is out of date"]
    (course / "selfcheck/toy/extra.json").write_text("{}")
    assert build.stale_files(built_course / "selfcheck/toy", course / "selfcheck/toy") == \
        [f"{course / 'selfcheck/toy/extra.json'} should not be there"]
    assert release.read_bytes() == before


def test_does_selfcheck_data_rounded_differently_by_another_cpu_still_count_as_current(tmp_path):
    import numpy as np

    from chdml.grading import wire

    (tmp_path / "a.json").write_text('{"expected": 100.0}')
    (tmp_path / "b.json").write_text('{"expected": 100.00000000001}')
    (tmp_path / "c.json").write_text('{"expected": 100.1}')
    assert build._same_file(tmp_path / "a.json", tmp_path / "b.json")
    assert not build._same_file(tmp_path / "a.json", tmp_path / "c.json")
    wire.write_npz(tmp_path / "a.npz", {"a0": np.linspace(0, 1, 5)})
    wire.write_npz(tmp_path / "b.npz", {"a0": np.linspace(0, 1, 5) + 1e-13})
    wire.write_npz(tmp_path / "c.npz", {"a0": np.linspace(0, 1, 5) + 1e-3})
    assert build._same_file(tmp_path / "a.npz", tmp_path / "b.npz")
    assert not build._same_file(tmp_path / "a.npz", tmp_path / "c.npz")
    # an AVX2 CPU against an AVX-512 one: model outputs 1.5e-6 apart, and the odd pixel
    # of a resampled image 0.001 apart (2 of 200 x 28 x 28 in workshop 1's view images)
    image = np.random.default_rng(0).random((200, 28, 28))
    two_pixels, many = image.copy(), image.copy()
    two_pixels.flat[[5, 999]] += 0.001
    many.flat[:1000] += 0.001                      # 0.6 % of the pixels: a real change
    one_big = image.copy()
    one_big.flat[7] += 0.5                        # half the range: a real change
    nan = image.copy()
    nan.flat[3] = np.nan
    for name, array in (("image", image), ("two", two_pixels), ("many", many),
                        ("big", one_big), ("nan", nan), ("out", image * (1 + 1.5e-6))):
        wire.write_npz(tmp_path / f"{name}.npz", {"a0": array})
    same = [name for name in ("two", "many", "big", "nan", "out")
            if build._same_file(tmp_path / f"{name}.npz", tmp_path / "image.npz")]
    assert same == ["two", "out"]


def test_is_a_source_that_fails_its_own_checks_refused(tmp_path, proof_engine, capsys):
    course = copy_toycourse(tmp_path / "course")
    path = course / "source/toy/toy.ipynb"
    notebook = edit(load(path), "add", "def add(a, b):\n    ### BEGIN SOLUTION\n"
                    "    return a - b\n    ### END SOLUTION")
    path.write_text(json.dumps(notebook))
    assert not _build(course, proof_engine)
    out = capsys.readouterr().out
    assert "fails public case 'two small integers' of 'add'" in out
    assert "fails hidden case 'negative numbers' of 'add'" in out
    assert "the self-check of 'add' did not pass" in out  # the otter check failed too
    assert not (course / "release/toy").exists()


def test_do_wrong_check_cell_points_get_one_sentence(tmp_path):
    course = copy_toycourse(tmp_path / "course")
    path = course / "source/toy/toy.ipynb"
    notebook = load(path)
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "add-check":
            cell["metadata"]["nbgrader"]["points"] = 5
    path.write_text(json.dumps(notebook))
    result = run_chdml("build", "--course", course)
    assert result.returncode == 2
    assert "gives 5 points but the cases of exercise 'add' add up to 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_is_a_missing_check_cell_named(tmp_path):
    course = copy_toycourse(tmp_path / "course")
    path = course / "source/toy/toy.ipynb"
    notebook = load(path)
    notebook["cells"] = [c for c in notebook["cells"]
                         if c["metadata"].get("nbgrader", {}).get("grade_id") != "mean_intensity-check"]
    path.write_text(json.dumps(notebook))
    result = run_chdml("build", "--course", course)
    assert result.returncode == 2 and 'grader.check("mean_intensity")' in result.stderr


def test_does_the_leak_scan_find_a_solution_line_and_a_hidden_case(built_course, toy_workshop,
                                                                  tmp_path):
    release = tmp_path / "release"
    shutil.copytree(built_course / "release/toy", release)
    notebook = release / "toy.ipynb"
    notebook.write_text(notebook.read_text().replace("# YOUR CODE HERE",
                                                     "image = np.asarray(image, dtype=float)", 1))
    source = load(built_course / "source/toy/toy.ipynb")
    leaks = build.find_leaks(source, toy_workshop, release, built_course / "selfcheck/toy",
                             ["Hidden case not passed: an integer image"])
    assert any("solution line 'image = np.asarray(image, dtype=float)'" in leak for leak in leaks)
    clean = build.find_leaks(source, toy_workshop, built_course / "release/toy",
                             built_course / "selfcheck/toy", [])
    assert clean == []
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "x.json").write_text('"a constant image (standard deviation 0)"')
    leaks = build.find_leaks(source, toy_workshop, built_course / "release/toy", tmp_path / "sc", [])
    assert any("hidden case 'a constant image" in leak for leak in leaks)


def test_is_a_non_github_repository_url_refused():
    from chdml.errors import UserError

    with pytest.raises(UserError, match="https://github.com/OWNER/REPO"):
        build.github_name("https://gitlab.com/x/y")


def test_does_an_empty_course_build_nothing_and_pass(tmp_path, run_cli):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    code, out, _ = run_cli("build", "--check", "--course", tmp_path)
    assert code == 0 and "nothing to build" in out
