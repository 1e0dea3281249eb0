"""Does `chdml grade` grade real notebooks fairly, whatever the notebook tries?

One batch of returned notebooks (made from the built toy course) is graded once by the real
command, in a subprocess whose environment holds a grading salt. The solved notebook scores
15/15; "semi" notebooks solve everything but the trained classifier (13/15).
"""
import csv
import hashlib
import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.grading import notebooks as nb
from tests.grading.conftest import FULL_SANDBOX, SALT, needs_full_sandbox, run_chdml

pytestmark = pytest.mark.slow

CANARY = f"/tmp/chdml-canary-{secrets.token_hex(6)}"

SPY = """
import json, os
seen = {{}}
for path in {paths!r}:
    try:
        seen[path] = sorted(os.listdir(path))
    except Exception as exc:
        seen[path] = type(exc).__name__
salt_visible = []
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        if b'CHDML_GRADING_SALT' in open(f'/proc/{{pid}}/environ', 'rb').read():
            salt_visible.append(pid)
    except Exception:
        pass
print('SPY', json.dumps({{'seen': seen, 'salt': salt_visible, 'uid': os.getuid()}}))
"""

OVERWRITE = """
import os
attempts = {{}}
for path in {paths!r}:
    try:
        with open(path, 'a') as handle:
            handle.write('# changed by a student\\n')
        attempts[path] = 'written'
    except Exception as exc:
        attempts[path] = type(exc).__name__
print('OVERWRITE', attempts)
"""

PLANT = """
import glob, json, os, threading, time
os.makedirs('.chdml/add', exist_ok=True)
os.symlink('/etc/passwd', 'result.json')
def forge():
    while True:
        for folder in glob.glob('.chdml*'):
            try:
                with open(os.path.join(folder, 'result.json'), 'w') as handle:
                    json.dump([42] * 3, handle)
            except Exception:
                pass
        time.sleep(0.001)
threading.Thread(target=forge, daemon=True).start()
"""


@dataclass
class Graded:
    course: Path
    submissions: Path
    out: Path
    rows: dict
    result: subprocess.CompletedProcess
    protected: dict


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def graded(built_course, outside_tmp):
    course = built_course
    folder = outside_tmp / "returned"
    folder.mkdir()
    out = outside_tmp / "graded"
    solved, semi, blank = nb.solved(course), nb.solved(course, skip=("classifier",)), nb.blank(course)
    protected_files = [course / "autograder/toy/add.py", course / "source/toy/toy.ipynb",
                       Path(__file__).resolve().parents[2] / "chdml/grading/compare.py"]
    variants = {
        "perfect": solved,
        "blank": blank,
        "numpy_patch": nb.insert_after(blank, "setup", (
            "import numpy\nnumpy.allclose = lambda *a, **k: True\n"
            "numpy.array_equal = lambda *a, **k: True\n"
            "numpy.testing.assert_allclose = lambda *a, **k: None\n"
            "import chdml.grading.compare as c\n"
            "c.Arrays.__call__ = lambda self, got, expected, inputs: c.Verdict(True, '', '')\n")),
        "builtins_patch": nb.insert_after(blank, "setup", (
            "import builtins\nbuiltins.all = lambda x: True\nbuiltins.any = lambda x: True\n"
            "builtins.isinstance = lambda *a: True\nbuiltins.abs = lambda x: 0\n")),
        "grader_patch": nb.insert_after(blank, "setup", (
            "grader.check = lambda *a, **k: print('All tests passed!')\n"
            "import chdml\nchdml.grader = lambda *a: grader\n")),
        "edited_check": nb.edit(semi, "add-check", "print('add: All tests passed!')"),
        "deleted_check": nb.delete(semi, "add-check"),
        "planted_files": nb.insert_after(blank, "setup", PLANT),
        "read_test_data": nb.insert_after(semi, "setup", SPY.format(paths=[
            str(course / "autograder"), str(course / "source"), str(folder), str(out),
            "/root"])),
        "overwrite_test_data": nb.insert_after(blank, "setup", OVERWRITE.format(
            paths=[str(p) for p in protected_files])),
        "write_outside": nb.insert_after(blank, "setup", (
            f"import os\nfor path in [{str(folder / 'x.txt')!r}, {str(course / 'x.txt')!r}, "
            f"{str(out / 'x.txt')!r}, '/x.txt', '/usr/x.txt']:\n"
            "    try:\n        open(path, 'w').write('x')\n        print('WROTE', path)\n"
            "    except Exception as exc:\n        print('REFUSED', path, type(exc).__name__)\n"
            f"open({CANARY!r}, 'w').write('x')\n"
            f"print('TMP_IN_WORKDIR', os.path.exists(os.path.join(os.getcwd(), '.tmp', "
            f"{os.path.basename(CANARY)!r})))\n")),
        "infinite_loop": nb.insert_after(semi, "add-check", "while True:\n    pass"),
        "stubborn_loop": nb.insert_after(semi, "count_labels-check", (
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "while True:\n    pass")),
        "memory_hog": nb.insert_after(semi, "add-check", (
            "chunks = []\nwhile True:\n    chunks.append(np.ones(25_000_000))")),
        "memory_child": nb.insert_after(semi, "add-check", (
            "import subprocess, sys\nsubprocess.run([sys.executable, '-c', "
            "'import numpy as np, time; x = np.ones(225_000_000); time.sleep(60)'])")),
        "kernel_crash": nb.insert_after(semi, "normalise-check", "import os\nos._exit(3)"),
        "huge_output": nb.insert_after(semi, "add-check",
                                       "for i in range(400):\n    print('x' * 100_000)"),
        "invalid_json": '{"cells": [ not json',
        "stderr_warnings": nb.edit(semi, "add", (
            "import sys, warnings, os\nwarnings.warn('this is deprecated')\n"
            "print('careful', file=sys.stderr)\nos.write(2, b'C-level noise\\n')\n"
            "def add(a, b):\n    return a + b")),
    }
    if not FULL_SANDBOX:  # without the sandbox these would really write into the repository
        del variants["overwrite_test_data"], variants["write_outside"]
    for name, notebook in variants.items():
        nb.write(folder, name, notebook)
    before = {path: _hash(path) for path in protected_files}
    result = run_chdml("grade", "toy", folder, "--out", out, "--course", course,
                       "--workers", 1, "--timeout", 150, "--cell-timeout", 20,
                       "--memory-limit", 1500, env_extra={"CHDML_GRADING_SALT": SALT})
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    after = {path: _hash(path) for path in protected_files}
    return Graded(course, folder, out, rows, result, {"before": before, "after": after})


def _score(graded, student):
    row = graded.rows[student]
    return float(row["total"]), row["status"], row["notes"]


def _outputs(graded, student) -> str:
    path = graded.out / "autograded" / student / "toy" / "toy.ipynb"
    notebook = json.loads(path.read_text())
    texts = [output.get("text", "") for cell in notebook["cells"]
             for output in cell.get("outputs", [])]
    return "".join("".join(text) if isinstance(text, list) else str(text) for text in texts)


def test_does_grades_csv_have_the_agreed_columns(graded):
    header = (graded.out / "grades.csv").read_text().splitlines()[0]
    assert header == ("student,total,max_total,add,normalise,unique_labels,count_labels,"
                      "mean_intensity,build_model,classifier,status,notes")


def test_does_a_perfect_notebook_get_full_marks(graded):
    assert _score(graded, "perfect")[:2] == (15.0, "ok")


def test_does_an_untouched_release_notebook_get_zero(graded):
    assert _score(graded, "blank")[:2] == (0.0, "ok")


@pytest.mark.parametrize("student", ["numpy_patch", "builtins_patch", "grader_patch",
                                     "planted_files",
                                     pytest.param("overwrite_test_data", marks=needs_full_sandbox),
                                     pytest.param("write_outside", marks=needs_full_sandbox)])
def test_can_code_in_a_blank_notebook_not_raise_its_own_score(graded, student):
    assert _score(graded, student)[0] == 0.0


@pytest.mark.parametrize("student", ["edited_check", "deleted_check"])
def test_is_a_tampered_check_cell_restored_and_recorded(graded, student):
    total, status, notes = _score(graded, student)
    assert (total, status) == (13.0, "tampered") and "'add-check'" in notes


@needs_full_sandbox
def test_can_the_notebook_not_see_the_instructors_files_or_the_salt(graded):
    assert _score(graded, "read_test_data")[0] == 13.0
    line = [l for l in _outputs(graded, "read_test_data").splitlines() if l.startswith("SPY ")][0]
    spy = json.loads(line[4:])
    root = spy["seen"].pop("/root")
    assert all(listing == [] for listing in spy["seen"].values()), spy  # empty covers
    assert root in ([], [".pyenv"], "PermissionError"), root  # at most the Python install
    assert spy["salt"] == [] and spy["uid"] != 0


@needs_full_sandbox
def test_can_the_notebook_not_change_checks_sources_or_the_grader(graded):
    assert graded.protected["before"] == graded.protected["after"]
    assert "'written'" not in _outputs(graded, "overwrite_test_data")


@needs_full_sandbox
def test_can_the_notebook_not_write_outside_its_working_directory(graded):
    outputs = _outputs(graded, "write_outside")
    assert "WROTE" not in outputs and outputs.count("REFUSED") == 5
    assert "TMP_IN_WORKDIR True" in outputs  # /tmp is the kernel's own .tmp folder
    assert not os.path.exists(CANARY)
    assert not (graded.submissions / "x.txt").exists() and not (graded.course / "x.txt").exists()


def test_is_an_endless_loop_stopped_and_the_rest_graded(graded):
    total, status, notes = _score(graded, "infinite_loop")
    assert (total, status) == (13.0, "timeout") and "time limit" in notes


def test_is_a_loop_that_ignores_interrupts_killed(graded):
    total, status, notes = _score(graded, "stubborn_loop")
    assert (total, status) == (10.0, "timeout") and "killed" in notes


@pytest.mark.parametrize("student", ["memory_hog", "memory_child"])
def test_is_a_memory_hog_stopped(graded, student):
    total, status, _ = _score(graded, student)
    assert (total, status) == (3.0, "memory")


def test_is_a_crashing_kernel_reported_and_earlier_work_kept(graded):
    total, status, notes = _score(graded, "kernel_crash")
    assert (total, status) == (6.0, "kernel_died") and "exit code 3" in notes


def test_is_huge_output_capped_without_losing_points(graded):
    total, status, notes = _score(graded, "huge_output")
    assert (total, status) == (13.0, "ok") and "discarded" in notes
    path = graded.out / "autograded/huge_output/toy/toy.ipynb"
    assert path.stat().st_size < 12 << 20


def test_is_invalid_json_reported(graded):
    total, status, notes = _score(graded, "invalid_json")
    assert (total, status) == (0.0, "invalid_notebook") and "not valid JSON" in notes


def test_do_warnings_on_stderr_cost_nothing(graded):
    assert _score(graded, "stderr_warnings")[:2] == (13.0, "ok")


def test_does_feedback_hide_hidden_cases_and_solutions(graded, toy_workshop, monkeypatch):
    from chdml.grading.compare import describe
    from chdml.grading.spec import draw_cases

    page = (graded.out / "feedback/blank.html").read_text()
    assert "Given:" in page and "Hidden case not passed: negative numbers" in page
    hidden_words = []
    for exercise in toy_workshop.exercises.values():
        for case in draw_cases("toy", exercise, salt=SALT):
            if not case.public:
                hidden_words += [describe(v, 120) for v in case.case.inputs.values()
                                 if not isinstance(v, (int, list))]
    for page_path in (graded.out / "feedback").glob("*.html"):
        text = page_path.read_text()
        assert not any(word in text for word in hidden_words if len(word) > 12)
        assert "return a + b" not in text


def test_are_summary_and_plot_written(graded):
    summary = (graded.out / "summary.txt").read_text()
    assert "most common failures" in summary and "classifier" in summary
    assert (graded.out / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_does_nbgrader_export_show_the_scores(graded):
    import sys

    nbgrader = Path(sys.executable).parent / "nbgrader"
    export = graded.out.parent / "export.csv"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    subprocess.run([str(nbgrader), "export", "--to", str(export)], cwd=graded.course,
                   check=True, capture_output=True, env=env)
    rows = {row["student_id"]: row for row in csv.DictReader(export.open())}
    assert float(rows["perfect"]["raw_score"]) == 15.0
    assert float(rows["blank"]["raw_score"]) == 0.0
    assert float(rows["perfect"]["max_score"]) == 16.0  # plus the manually graded answer


def sandbox_uids(stderr: str) -> range:
    import re

    match = re.search(r"user ids (\d+)-(\d+)", stderr)
    if match is None:  # the basic sandbox: kernels run as the grader's user
        return range(0)
    first, last = map(int, match.groups())
    return range(first, last + 1)


def leftovers(uids: range, out: Path) -> list:
    """Processes of this run's sandbox users, or with a file open in its output folder
    (zombies, dead and only waiting to be reaped, do not count)."""
    found = []
    for process in psutil.process_iter(["uids", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if process.info["uids"].real in uids or any(
                    str(out) in item.path for item in process.open_files()):
                found.append(process.pid)
        except (psutil.Error, AttributeError):
            continue
    return found


def test_are_no_processes_left_behind(graded):
    assert leftovers(sandbox_uids(graded.result.stderr), graded.out) == []
