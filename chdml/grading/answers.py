"""Answers the grader keeps to itself: the truth behind inputs it sends to a student's kernel.

A check that scores a trained model sends only images to the kernel (``cases()`` puts them
in a case's ``inputs``); the true labels or masks stay in the grader process, in an
:class:`AnswerBook`, and the check's ``reference`` finds them again from the images
themselves (their fingerprint), so no answer ever travels with a case::

    ANSWERS = AnswerBook("view images")

    def _test_set(seed, n):
        data = view_images(n, seed=seed)
        return ANSWERS.keep(data.images, data.labels)      # returns the images

    def reference(inputs):
        return ANSWERS.look_up(inputs["images"])

The book lives as long as the process that drew the cases (the grader draws them before it
judges), and only holds what that process drew.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np


def fingerprint(array: np.ndarray) -> str:
    """A sha256 of a float32 copy of ``array`` and its shape (same values, same key)."""
    array = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
    return hashlib.sha256(repr(array.shape).encode() + array.tobytes()).hexdigest()


class AnswerBook:
    """Answers keyed by the fingerprint of the inputs they belong to.

    ``what`` names the inputs in the error of :meth:`look_up` (e.g. ``"view images"``).
    """

    def __init__(self, what: str):
        self.what = what
        self._answers: dict[str, np.ndarray] = {}

    def keep(self, inputs: np.ndarray, answer: np.ndarray) -> np.ndarray:
        """Remember ``answer`` for ``inputs``; returns ``inputs`` (for one-line use)."""
        self._answers[fingerprint(inputs)] = answer
        return inputs

    def look_up(self, inputs: np.ndarray) -> np.ndarray:
        """The answer kept for ``inputs``; :class:`LookupError` if this process never drew them."""
        try:
            return self._answers[fingerprint(inputs)]
        except KeyError:
            raise LookupError(f"these {self.what} were not drawn by this check's cases() in "
                              "this process; draw the cases first") from None


@lru_cache(maxsize=32)
def view_test_set(n_images: int, size: int, seed: int, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n_images, size, size, 1)`` float32 and labels ``(n_images,)`` of
    ``chdml.data.synth.view_images`` (new synthetic patients for a seed the notebook never
    used), cached per process: ``cases()`` is drawn several times per grading."""
    from chdml.data.synth import view_images

    views = view_images(n_images, size=size, seed=seed, task=task)
    return views.images, views.labels
