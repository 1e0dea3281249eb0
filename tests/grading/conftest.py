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
