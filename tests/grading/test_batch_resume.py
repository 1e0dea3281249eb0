"""Does a killed batch leave nothing running and finish later without regrading?"""
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.grading import notebooks as nb
from tests.grading.conftest import CHDML, SALT, run_chdml
from tests.grading.test_batch import leftovers, sandbox_uids

pytestmark = pytest.mark.slow


def _journal(out):
    """Finished entries only: a hidden ``.NAME.XXXX.part.json`` is one being written."""
    folder = out / ".journal"
    return {path.name: path.stat().st_mtime_ns for path in folder.glob("[!.]*.json")} \
        if folder.is_dir() else {}


def _temporaries(out):
    """Hidden files in the journal and half-written files anywhere in ``out``."""
    return sorted({*(out / ".journal").glob(".*"), *out.rglob(".*.part*")})


def test_does_a_killed_batch_resume_without_regrading(built_course, outside_tmp):
    folder = outside_tmp / "resume"
    folder.mkdir()
    out = outside_tmp / "resume-out"
    blank = nb.blank(built_course)
    nb.write(folder, "anna", blank)
    for name in ("ben", "cleo"):  # slow enough to be killed in the middle
        nb.write(folder, name, nb.insert_after(blank, "setup", "import time\ntime.sleep(2)"))
    args = ["grade", "toy", folder, "--out", out, "--course", built_course, "--workers", 1]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CHDML_GRADING_SALT=SALT)
    process = subprocess.Popen([str(CHDML), *map(str, args)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 600
    while not _journal(out) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    done = _journal(out)
    assert 1 <= len(done) < 3, stderr
    # the fork server and kernels die with their parent (within seconds on a busy machine)
    deadline = time.monotonic() + 30
    while leftovers(sandbox_uids(stderr), out) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert leftovers(sandbox_uids(stderr), out) == []

    again = run_chdml(*args, env_extra={"CHDML_GRADING_SALT": SALT})
    assert again.returncode == 0, again.stderr
    assert f"{len(done)} already graded, {3 - len(done)} to grade" in again.stderr
    after = _journal(out)
    assert _temporaries(out) == []  # a kill while writing leaves some; resuming removes them
    assert len(after) == 3 and all(after[name] == stamp for name, stamp in done.items())
    assert (out / "grades.csv").read_text().count("\n") == 4

    forced = run_chdml(*args, "--force", env_extra={"CHDML_GRADING_SALT": SALT})
    assert forced.returncode == 0 and "0 already graded, 3 to grade" in forced.stderr
    assert all(_journal(out)[name] != stamp for name, stamp in after.items())


def test_is_only_a_changed_submission_graded_again(tmp_path):
    from chdml.grading.batch import Journal
    from chdml.grading.engine import NotebookResult

    journal = Journal(tmp_path, checks="checks-v1")
    result = NotebookResult(status="ok", exercises={})
    journal.record("alice", "notebook-v1", result)
    assert journal.finished("alice", "notebook-v1") == result
    assert journal.finished("alice", "notebook-v2") is None
    assert Journal(tmp_path, checks="checks-v2").finished("alice", "notebook-v1") is None
