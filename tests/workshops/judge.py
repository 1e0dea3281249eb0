"""Feed a (possibly mistaken) student namespace through a workshop's real check machinery.

The same steps as the grader: draw every case (public and hidden) with the engine's
seeded streams, run the exercise's producer on the namespace, judge with its comparator
against the reference value. No kernel: the namespace is a plain dict.
"""
from __future__ import annotations

from pathlib import Path

from chdml.grading.spec import draw_cases, load_workshop

AUTOGRADER = Path(__file__).resolve().parents[2] / "autograder"


def workshop(name: str):
    return load_workshop(AUTOGRADER / name)


def judge(workshop_checks, exercise: str, namespace: dict, salt: str = "test") -> dict[str, bool]:
    """``{case description: passed}`` for every case of ``exercise``."""
    checks = workshop_checks.exercises[exercise]
    verdicts = {}
    for drawn in draw_cases(workshop_checks.name, checks, hidden=True, salt=salt):
        got = checks.producer(namespace, drawn.case.inputs)
        verdict = checks.compare(got, drawn.expected, drawn.case.inputs)
        verdicts[drawn.case.description] = bool(verdict.passed)
    return verdicts


def failed(verdicts: dict[str, bool]) -> set[str]:
    return {description for description, passed in verdicts.items() if not passed}
