"""Fixtures for the grading tests: the toy course, copied once per session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TOYCOURSE = Path(__file__).resolve().parents[1] / "fixtures" / "toycourse"


@pytest.fixture(scope="session")
def toy_workshop():
    """The toy course's checks, loaded."""
    from chdml.grading.spec import load_workshop

    return load_workshop(TOYCOURSE / "autograder" / "toy")


@pytest.fixture(scope="session")
def toy_selfcheck(tmp_path_factory, toy_workshop):
    """A folder with the toy workshop's published self-check data (``<folder>/toy/``)."""
    from chdml.grading.publish import write_selfcheck

    folder = tmp_path_factory.mktemp("selfcheck")
    write_selfcheck(toy_workshop, folder / "toy")
    return folder


@pytest.fixture
def selfcheck_env(monkeypatch, toy_selfcheck):
    """Point chdml.grader() at the toy self-check data for one test."""
    from chdml.grading import selfcheck

    monkeypatch.setenv(selfcheck.FOLDER_VARIABLE, str(toy_selfcheck))
    monkeypatch.delenv(selfcheck.KERNEL_VARIABLE, raising=False)
    selfcheck.load_exercise.cache_clear()
    yield toy_selfcheck
    selfcheck.load_exercise.cache_clear()


def copy_toycourse(destination: Path) -> Path:
    """A fresh copy of the toy course (source, autograder, config) at ``destination``."""
    shutil.copytree(TOYCOURSE, destination, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


CHDML = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "chdml"
SALT = "toy-course-secret"


def run_chdml(*args, env_extra=None, timeout=900):
    """Run the ``chdml`` command line in a subprocess; return the CompletedProcess."""
    import os
    import subprocess
    import sys

    command = [str(CHDML)] if CHDML.exists() else [sys.executable, "-m", "chdml"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env_extra or {}))
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="session")
def outside_tmp():
    """A scratch folder outside /tmp (in the full sandbox a kernel's /tmp is its own
    folder, so paths under the real /tmp would be invisible anyway and prove nothing)."""
    import tempfile

    base = Path(__file__).resolve().parents[2] / "build"
    base.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="pytest-grading-", dir=base))
    folder.chmod(0o755)  # readable by others, like a normal course folder
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def built_course(outside_tmp):
    """A copy of the toy course after a successful ``chdml build`` (the real command)."""
    course = copy_toycourse(outside_tmp / "toycourse")
    result = run_chdml("build", "--course", course)
    assert result.returncode == 0, result.stdout + result.stderr
    return course


@pytest.fixture(scope="session")
def proof_engine(tmp_path_factory):
    """One running proof engine for the build tests: ``(engine, scratch folder)``."""
    from chdml.grading import build
    from chdml.grading.course import load_course

    scratch = tmp_path_factory.mktemp("scratch")
    with build.proof_engine(load_course(TOYCOURSE), scratch) as engine:
        yield engine, scratch
