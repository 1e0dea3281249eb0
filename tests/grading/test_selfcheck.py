"""Does the student's self-check run the public cases and explain failures?"""
import numpy as np
import pytest

from chdml.grading import selfcheck


def _solutions():
    namespace = {"np": np}
    exec("def add(a, b):\n    return a + b\n"
         "def normalise(image):\n    image = np.asarray(image, dtype=float)\n"
         "    return (image - image.mean()) / image.std()\n", namespace)
    return namespace


def test_does_a_right_answer_pass_every_public_case(selfcheck_env):
    for index in range(2):
        selfcheck.check_case("toy", "add", index, _solutions())


def test_does_a_wrong_answer_get_given_expected_got_and_hint(selfcheck_env):
    namespace = {"add": lambda a, b: a - b}
    with pytest.raises(selfcheck.CheckFailed) as failure:
        selfcheck.check_case("toy", "add", 0, namespace)
    message = str(failure.value)
    for part in ("Given:", "two small integers", "Expected:", "Got:", "Hint:"):
        assert part in message


def test_does_the_stored_data_hold_public_cases_only(selfcheck_env, toy_workshop):
    stored = selfcheck.load_exercise("toy", "normalise")
    assert [case.description for case in stored.cases] == ["a 4x4 image"]


def test_is_an_unknown_workshop_explained(selfcheck_env):
    with pytest.raises(selfcheck.SelfCheckMissing, match="%pip install"):
        selfcheck.grader("workshop99")


def test_is_grader_an_otter_notebook_that_checks_the_callers_variables(selfcheck_env, tmp_path,
                                                                        monkeypatch):
    import otter

    monkeypatch.chdir(tmp_path)
    grader = selfcheck.grader("toy")
    assert isinstance(grader, otter.Notebook)
    result = grader.check("add", _solutions())
    assert result.passed_all
    assert not grader.check("add", {"add": lambda a, b: 0}).passed_all


def test_does_strict_mode_raise_on_a_failed_check(selfcheck_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(selfcheck.STRICT_VARIABLE, "1")
    with pytest.raises(AssertionError, match="'add' did not pass"):
        selfcheck.grader("toy").check("add", {"add": lambda a, b: 0})


def test_does_the_grading_kernel_get_a_grader_that_does_nothing(selfcheck_env, monkeypatch):
    monkeypatch.setenv(selfcheck.KERNEL_VARIABLE, "1")
    grader = selfcheck.grader("toy")
    assert grader.check("add") is None and grader.export() is None


def test_does_import_chdml_stay_free_of_otter_and_tensorflow():
    import subprocess
    import sys

    code = ("import sys, chdml; heavy = [m for m in ('otter', 'tensorflow', 'keras') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
