"""Split patients into training, validation and test sets, and find leakage between sets.

The unit of splitting is the **patient**, never the slice or the case: slices of one
patient look alike, so a patient in both the training and the test set makes the test
score an overestimate (leakage). The split is **stratified**: each class (diagnosis,
phenotype, view, ...) is spread over the sets in about the requested fractions.

Algorithm of :func:`split_patients` (deterministic for a seed):

1. Each patient gets one class: its only class, or, when its items disagree (e.g. slices
   of different views), the most frequent one (ties: the first in sorted order).
2. Set sizes: ``round(n_patients * fraction)`` for test and validation (at least 1 each when
   the fraction is positive and there are at least 3 patients); training gets the rest.
3. Test patients are drawn first, then validation patients from the rest, each time spread
   over the classes in proportion to their size (largest remainder, ties broken by the
   seed), and **the last patient of a class always stays in training**: a class with one
   patient is training-only; with two, at most one leaves training (whether one does
   depends on the rounding). Every class in the validation and test sets is therefore
   also seen in training, and set sizes are exact unless small classes run out.
"""
from __future__ import annotations

import collections
import dataclasses
import warnings

import numpy as np

from chdml.errors import UserError

__all__ = ["PatientSplit", "split_patients", "find_leakage", "check_no_leakage",
           "class_balance", "format_class_balance"]

SET_NAMES = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class PatientSplit:
    """Patient ids of the three sets (sorted tuples); ``classes`` maps patient -> class."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]
    classes: dict = dataclasses.field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        return (f"PatientSplit(train={len(self.train)}, validation={len(self.validation)}, "
                f"test={len(self.test)} patients)")

    def sets(self) -> dict[str, tuple[str, ...]]:
        """``{"train": (...), "validation": (...), "test": (...)}``."""
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def assign(self, patients) -> np.ndarray:
        """The set name (``"train"``, ``"validation"``, ``"test"``) of each item.

        ``patients`` is one patient id per item (slice or case); a patient in no set gives
        ``""``.
        """
        lookup = {p: name for name, members in self.sets().items() for p in members}
        return np.array([lookup.get(str(p), "") for p in patients], dtype=object).astype(str)

    def indices(self, patients) -> dict[str, np.ndarray]:
        """Item indices of each set: ``{"train": array([...]), ...}``, for ``SliceSet.select``.

        Example:
            >>> parts = split.indices(slices.patients)
            >>> train_slices = slices.select(parts["train"])
        """
        names = self.assign(patients)
        return {name: np.flatnonzero(names == name) for name in SET_NAMES}


def _patient_classes(patients, classes) -> dict[str, str]:
    patients = [str(p) for p in patients]
    if classes is None:
        return {p: "" for p in dict.fromkeys(patients)}
    classes = [str(c) for c in classes]
    if len(classes) != len(patients):
        raise ValueError(f"{len(patients)} patient ids but {len(classes)} classes; give one "
                         "class per item")
    votes: dict[str, collections.Counter] = {}
    for patient, label in zip(patients, classes):
        votes.setdefault(patient, collections.Counter())[label] += 1
    return {p: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            for p, c in votes.items()}


def _allocate(available: dict[str, list[str]], n_draw: int, rng: np.random.Generator
              ) -> dict[str, int]:
    """How many patients to draw from each class: proportional, largest remainder.

    Each class keeps at least one patient (capacity ``len - 1``). Fewer than ``n_draw`` are
    drawn when the capacity runs out.
    """
    total = sum(len(v) for v in available.values())
    names = sorted(available)
    capacity = {c: max(0, len(available[c]) - 1) for c in names}
    if total == 0 or n_draw <= 0:
        return {c: 0 for c in names}
    ideal = {c: len(available[c]) * n_draw / total for c in names}
    draw = {c: min(int(np.floor(ideal[c])), capacity[c]) for c in names}
    tie_break = dict(zip(names, rng.permutation(len(names))))
    while sum(draw.values()) < n_draw:
        open_classes = [c for c in names if draw[c] < capacity[c]]
        if not open_classes:
            break
        best = max(open_classes, key=lambda c: (ideal[c] - draw[c], -tie_break[c]))
        draw[best] += 1
    return draw


def split_patients(patients, classes=None, fractions=(0.7, 0.15, 0.15), seed: int = 0
                   ) -> PatientSplit:
    """Split patients into training, validation and test sets, stratified by class.

    Args:
        patients: one patient id per item: per patient, per case or per slice (e.g.
            ``slices.patients``); repeated ids are one patient.
        classes: one class per item (e.g. ``slices.diagnoses``), or None for an
            unstratified split. A patient's class is its most frequent one.
        fractions: ``(train, validation, test)``, non-negative, summing to 1. Use
            ``(0.8, 0.0, 0.2)`` for a split without validation set.
        seed: the same seed gives the same split.

    Returns:
        A :class:`PatientSplit`; see the module doc for the rounding and small-class rules.

    Example:
        >>> split = split_patients(slices.patients, slices.diagnoses, seed=0)
        >>> find_leakage(split.train, split.validation, split.test)
        {}
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be three non-negative numbers (train, validation, "
                         f"test) that sum to 1, got {fractions}")
    if fractions[0] <= 0:
        raise ValueError("the training fraction must be positive")
    patient_class = _patient_classes(patients, classes)
    n = len(patient_class)
    if n == 0:
        raise ValueError("no patients to split")
    rng = np.random.default_rng(seed)

    def target(fraction: float) -> int:
        count = int(round(n * fraction))
        return max(count, 1) if fraction > 0 and n >= 3 else count

    n_test, n_val = target(fractions[2]), target(fractions[1])
    by_class: dict[str, list[str]] = {}
    for patient in sorted(patient_class):
        by_class.setdefault(patient_class[patient], []).append(patient)
    for members in by_class.values():
        rng.shuffle(members)

    chosen = {}
    short = []
    for name, count in (("test", n_test), ("validation", n_val)):
        draw = _allocate(by_class, count, rng)
        chosen[name] = []
        for label, k in draw.items():
            chosen[name].extend(by_class[label][:k])
            by_class[label] = by_class[label][k:]
        if len(chosen[name]) < count:
            short.append(f"{len(chosen[name])} of the {count} {name}")
    if short:
        warnings.warn(f"only {' and '.join(short)} patients asked for could be drawn: every "
                      "class keeps one patient in training and some classes are too small; "
                      "stratify by fewer, larger classes.", stacklevel=2)
    train = [p for members in by_class.values() for p in members]
    return PatientSplit(train=tuple(sorted(train)), validation=tuple(sorted(chosen["validation"])),
                        test=tuple(sorted(chosen["test"])), classes=dict(patient_class))


def find_leakage(train_patients, validation_patients=(), test_patients=()
                 ) -> dict[str, tuple[str, ...]]:
    """Patients found in more than one set, with the sets they are in.

    Each argument is a list of patient ids, one per item or per patient (repeats are fine,
    e.g. ``slices.patients[train_index]``). Returns ``{patient: ("train", "test"), ...}``
    sorted by patient id; an empty dict means no leakage.

    Example:
        >>> find_leakage(["p1", "p2", "p2"], ["p3"], ["p2", "p4"])
        {'p2': ('train', 'test')}
    """
    membership: dict[str, list[str]] = {}
    for name, members in zip(SET_NAMES, (train_patients, validation_patients, test_patients)):
        for patient in dict.fromkeys(str(p) for p in members):
            membership.setdefault(patient, []).append(name)
    return {p: tuple(sets) for p, sets in sorted(membership.items()) if len(sets) > 1}


def check_no_leakage(train_patients, validation_patients=(), test_patients=()) -> None:
    """Raise :class:`UserError` naming every patient found in two sets (see find_leakage)."""
    leaks = find_leakage(train_patients, validation_patients, test_patients)
    if leaks:
        listed = ", ".join(f"{p} ({' and '.join(s)})" for p, s in leaks.items())
        raise UserError(f"{len(leaks)} patient(s) are in more than one set: {listed}; split "
                        "by patient (chdml.data.split.split_patients), not by slice.")


def class_balance(split: PatientSplit, patients=None, classes=None
                  ) -> dict[str, dict[str, int]]:
    """Count classes per set: ``{"train": {"ToF": 5, ...}, "validation": ..., "test": ...}``.

    Without ``patients``/``classes`` patients are counted (with the classes the split was
    stratified by). With them, items are counted (e.g. slices of each view per set).
    """
    if patients is None:
        counts = {name: collections.Counter(split.classes.get(p, "") for p in members)
                  for name, members in split.sets().items()}
    else:
        if classes is None:
            raise ValueError("pass classes= together with patients=")
        names = split.assign(patients)
        counts = {name: collections.Counter() for name in SET_NAMES}
        for name, label in zip(names, classes):
            if name:
                counts[name][str(label)] += 1
    labels = sorted({label for c in counts.values() for label in c})
    return {name: {label: int(counts[name][label]) for label in labels} for name in SET_NAMES}


def format_class_balance(balance: dict[str, dict[str, int]]) -> str:
    """A small table of :func:`class_balance`: counts and the fraction within each set."""
    labels = sorted({label for counts in balance.values() for label in counts})
    width = max([5] + [len(str(label)) for label in labels])
    lines = [f"{'class':<{width}}  " + "  ".join(f"{name:>15}" for name in balance)]
    totals = {name: sum(counts.values()) for name, counts in balance.items()}
    for label in labels + ["total"]:
        cells = []
        for name, counts in balance.items():
            count = totals[name] if label == "total" else counts.get(label, 0)
            share = count / totals[name] if totals[name] else 0.0
            cells.append(f"{count:>7} ({share:>5.0%})")
        lines.append(f"{(label or '(none)'):<{width}}  " + "  ".join(cells))
    return "\n".join(lines)
