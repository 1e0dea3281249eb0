"""The otter-grader ``Notebook`` students get from ``chdml.grader(...)``.

Kept in its own module because importing otter takes about two seconds: only
``chdml.grader()`` imports it, never ``import chdml``.
"""
from __future__ import annotations

import sys
from typing import Any

import otter


class SelfCheckNotebook(otter.Notebook):
    """An otter ``Notebook`` on tests shipped in the package; optionally strict.

    With ``strict=True`` (used by ``chdml build`` for its proofs) a check that does not pass
    raises ``AssertionError`` after showing otter's usual result, so that running the
    notebook reports it as an error.
    """

    def __init__(self, tests_dir: str, strict: bool = False) -> None:
        super().__init__(tests_dir=tests_dir)
        self._strict = strict

    def check(self, question: str, global_env: dict | None = None) -> Any:
        if global_env is None:
            global_env = sys._getframe(1).f_globals
        result = super().check(question, global_env)
        if self._strict and not result.passed_all:
            from IPython.display import display

            display(result)
            raise AssertionError(f"the self-check of '{question}' did not pass")
        return result
