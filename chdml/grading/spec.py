"""Check modules: what an exercise's check is, how it is loaded, how its cases are drawn.

A workshop's checks live in ``autograder/<workshop>/``: an ``__init__.py`` (optionally
``EXERCISES = [...]`` in notebook order) and one module per exercise that defines
``EXERCISE = Exercise(...)`` (see ``autograder/README.md`` for a complete example).

Cases come from the module's ``cases(rng)`` function, called twice with two independent
seeded generators: the *public* stream (seeded by workshop and exercise name only, so the
self-check data shipped to students is reproducible) keeps the public cases; the *hidden*
stream (also seeded by ``CHDML_GRADING_SALT`` when set, so a public repository does not
reveal the hidden inputs) keeps the hidden ones. Both calls must return the same number of
cases with the same public flags.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np

from chdml.errors import UserError, describe_path
from chdml.grading.compare import Comparator
from chdml.grading.producers import Producer

SALT_VARIABLE = "CHDML_GRADING_SALT"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Case:
    """One check of an exercise.

    ``description`` is what a student reads ("an even-sized (2x4) kernel"); ``inputs`` a
    dict of NumPy arrays, numbers, strings or nested lists/dicts of those; ``hint`` is shown
    when this case fails (falls back to the exercise's hint).
    """

    description: str
    public: bool
    points: float
    inputs: dict = field(default_factory=dict)
    hint: str | None = None


@dataclass(frozen=True)
class Exercise:
    """Everything the grader needs about one exercise (see ``autograder/README.md``).

    ``producer`` (from :mod:`chdml.grading.producers`) gets the student's value in the
    kernel; ``reference(inputs)`` computes the expected value in the grader; ``compare``
    (from :mod:`chdml.grading.compare`) judges; ``cases(rng)`` lists all cases.
    """

    name: str
    title: str
    producer: Producer
    reference: Callable[[dict], Any]
    compare: Comparator
    cases: Callable[[np.random.Generator], list[Case]]
    hint: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"exercise name '{self.name}' must be lower_case_with_underscores")
        if not isinstance(self.producer, Producer):
            raise TypeError(f"{self.name}: producer must come from chdml.grading.producers")
        if not isinstance(self.compare, Comparator):
            raise TypeError(f"{self.name}: compare must come from chdml.grading.compare")
        if not callable(self.reference) or not callable(self.cases):
            raise TypeError(f"{self.name}: reference and cases must be functions")


@dataclass(frozen=True)
class DrawnCase:
    """A case drawn from its stream: its position, whether public, and its expected value."""

    exercise: Exercise
    index: int
    case: Case

    @property
    def public(self) -> bool:
        return self.case.public

    @property
    def hint(self) -> str:
        return self.case.hint or self.exercise.hint

    @cached_property
    def expected(self) -> Any:
        """The reference value (computed once, in the grader)."""
        from chdml.grading.wire import plain

        return plain(self.exercise.reference(self.case.inputs))


def stream_seed(workshop: str, exercise: str, stream: str, salt: str = "") -> np.random.SeedSequence:
    """The seed of one case stream; ``stream`` is ``"public"`` or ``"hidden"``."""
    text = f"chdml|{workshop}|{exercise}|{stream}|{salt}"
    digest = hashlib.sha256(text.encode()).digest()
    return np.random.SeedSequence(int.from_bytes(digest[:16], "little"))


def draw_cases(workshop: str, exercise: Exercise, *, hidden: bool = True,
               salt: str | None = None) -> list[DrawnCase]:
    """All cases of ``exercise`` (public first, then hidden if ``hidden``), in module order.

    ``salt`` defaults to the ``CHDML_GRADING_SALT`` environment variable.
    """
    if salt is None:
        salt = os.environ.get(SALT_VARIABLE, "")
    public_run = exercise.cases(np.random.default_rng(stream_seed(workshop, exercise.name,
                                                                  "public")))
    drawn = [DrawnCase(exercise, index, case) for index, case in enumerate(public_run)
             if case.public]
    if hidden:
        hidden_run = exercise.cases(np.random.default_rng(
            stream_seed(workshop, exercise.name, "hidden", salt)))
        if [case.public for case in hidden_run] != [case.public for case in public_run]:
            raise UserError(f"cases() of exercise '{exercise.name}' returns different cases "
                            "on each call; make the list of cases independent of the random "
                            "numbers (only the inputs may depend on rng).")
        drawn += [DrawnCase(exercise, index, case) for index, case in enumerate(hidden_run)
                  if not case.public]
    return drawn


def total_points(exercise: Exercise) -> float:
    """Sum of the points of all cases of ``exercise`` (public and hidden)."""
    return float(sum(case.points for case in exercise.cases(np.random.default_rng(0))))


@dataclass(frozen=True)
class Workshop:
    """A workshop's checks: ``exercises`` in notebook order, keyed by name."""

    name: str
    folder: Path
    exercises: dict[str, Exercise]


def load_workshop(folder: os.PathLike | str) -> Workshop:
    """Load ``autograder/<workshop>/`` (every problem is a :class:`UserError` naming the file)."""
    folder = Path(folder)
    name = folder.name
    init = folder / "__init__.py"
    if not init.is_file():
        raise UserError(f"no checks for workshop '{name}': {describe_path(init)} is missing; "
                        "create it (it may be empty) next to one module per exercise.")
    package = f"chdml_checks_{re.sub(r'[^0-9a-zA-Z_]', '_', name)}"
    for module_name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(package, init,
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise UserError(f"cannot load {describe_path(init)}: {type(exc).__name__}: {exc}; "
                        "fix the error in that file.") from exc
    names = getattr(module, "EXERCISES", None)
    if names is None:
        names = sorted(path.stem for path in folder.glob("*.py")
                       if not path.name.startswith("_"))
    exercises: dict[str, Exercise] = {}
    for exercise_name in names:
        path = folder / f"{exercise_name}.py"
        if not path.is_file():
            raise UserError(f"{describe_path(init)} lists exercise '{exercise_name}' but "
                            f"{describe_path(path)} does not exist; add it or remove the name.")
        try:
            exercise_module = importlib.import_module(f"{package}.{exercise_name}")
        except Exception as exc:
            raise UserError(f"cannot load {describe_path(path)}: {type(exc).__name__}: {exc}; "
                            "fix the error in that file.") from exc
        exercise = getattr(exercise_module, "EXERCISE", None)
        if not isinstance(exercise, Exercise):
            raise UserError(f"{describe_path(path)} must define EXERCISE = Exercise(...) "
                            "(see autograder/README.md).")
        if exercise.name != exercise_name:
            raise UserError(f"{describe_path(path)} defines exercise '{exercise.name}'; name "
                            f"it '{exercise_name}' like its file, or rename the file.")
        cases = exercise.cases(np.random.default_rng(0))
        if not cases or not all(isinstance(case, Case) for case in cases):
            raise UserError(f"cases() in {describe_path(path)} must return a non-empty list "
                            "of Case(...).")
        if not any(case.public for case in cases):
            raise UserError(f"{describe_path(path)} has no public case; mark at least one "
                            "Case(public=True) so students can check their work.")
        exercises[exercise_name] = exercise
    if not exercises:
        raise UserError(f"no exercise modules in {describe_path(folder)}; add one module "
                        "per exercise (see autograder/README.md).")
    return Workshop(name=name, folder=folder, exercises=exercises)
