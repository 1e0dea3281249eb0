"""Is the split by patient, stratified, seeded, and does the leakage check name every patient?"""
import numpy as np
import pytest

from chdml.data.split import (PatientSplit, check_no_leakage, class_balance, find_leakage,
                              format_class_balance, split_patients)
from chdml.errors import UserError


def _cohort(seed=0):
    """60 patients in 4 classes of 30/18/9/3, each with 2-6 slices (one id per slice)."""
    rng = np.random.default_rng(seed)
    sizes = {"normal": 30, "ToF": 18, "DCM": 9, "SV": 3}
    patients, classes = [], []
    number = 0
    for label, count in sizes.items():
        for _ in range(count):
            slices = int(rng.integers(2, 7))
            patients += [f"p{number:03d}"] * slices
            classes += [label] * slices
            number += 1
    order = rng.permutation(len(patients))          # slices arrive shuffled
    return np.array(patients)[order], np.array(classes)[order], sizes


def test_no_patient_in_two_sets_and_everyone_placed():
    patients, classes, _ = _cohort()
    split = split_patients(patients, classes, seed=1)
    assert find_leakage(split.train, split.validation, split.test) == {}
    everyone = set(split.train) | set(split.validation) | set(split.test)
    assert everyone == set(patients)
    assert len(split.train) + len(split.validation) + len(split.test) == 60
    # slices follow their patient
    parts = split.indices(patients)
    assert sum(len(v) for v in parts.values()) == len(patients)
    for name, index in parts.items():
        assert set(patients[index]) == set(getattr(split, name))


def test_fractions_and_class_balance_within_tolerance():
    patients, classes, sizes = _cohort()
    split = split_patients(patients, classes, fractions=(0.6, 0.2, 0.2), seed=2)
    assert (len(split.train), len(split.validation), len(split.test)) == (36, 12, 12)
    balance = class_balance(split)
    for name, fraction in (("train", 0.6), ("validation", 0.2), ("test", 0.2)):
        for label, total in sizes.items():
            assert abs(balance[name][label] - total * fraction) <= 1, (name, label)
    table = format_class_balance(balance)
    assert "ToF" in table and "total" in table and "validation" in table


def test_same_seed_same_split_other_seed_other_split():
    patients, classes, _ = _cohort()
    first = split_patients(patients, classes, seed=7)
    assert split_patients(list(patients), list(classes), seed=7) == first
    assert split_patients(patients, classes, seed=8) != first


@pytest.mark.parametrize("small", [1, 2])
def test_a_class_with_one_or_two_patients_stays_in_training(small):
    patients = [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(small)]
    classes = ["common"] * 20 + ["rare"] * small
    for seed in range(10):
        split = split_patients(patients, classes, seed=seed)
        rare_train = [p for p in split.train if p.startswith("b")]
        assert len(rare_train) >= 1                       # every class is learnt
        assert len(split.train) + len(split.validation) + len(split.test) == 20 + small
        if small == 1:
            assert rare_train == ["b0"]


def test_every_class_keeps_a_patient_in_training_even_when_all_are_rare():
    patients = [f"p{i}" for i in range(12)]
    classes = [f"class{i // 2}" for i in range(12)]        # six classes of two patients
    split = split_patients(patients, classes, fractions=(0.5, 0.25, 0.25), seed=0)
    assert {split.classes[p] for p in split.train} == {f"class{i}" for i in range(6)}
    assert len(split.validation) == len(split.test) == 3    # one of each pair can leave
    with pytest.warns(UserWarning, match="only 0 of the 2 test and 0 of the 2 validation patients"):
        singletons = split_patients(patients, patients, seed=0)   # each patient its own class
    assert len(singletons.train) == 12


def test_tiny_cohorts():
    assert split_patients(["only"], seed=0) == PatientSplit(("only",), (), ())
    three = split_patients(["a", "b", "c"], seed=0)
    assert (len(three.train), len(three.validation), len(three.test)) == (1, 1, 1)
    two_sets = split_patients([f"p{i}" for i in range(10)], fractions=(0.8, 0, 0.2))
    assert len(two_sets.validation) == 0 and len(two_sets.test) == 2


def test_a_patient_with_mixed_classes_takes_the_most_frequent():
    split = split_patients(["p1", "p1", "p1", "p2"], ["SAX", "4CH", "SAX", "2CH"], seed=0)
    assert split.classes == {"p1": "SAX", "p2": "2CH"}
    counts = class_balance(split, ["p1", "p1", "p1", "p2"], ["SAX", "4CH", "SAX", "2CH"])
    assert sum(sum(c.values()) for c in counts.values()) == 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="sum to 1"):
        split_patients(["a", "b"], fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="one class per item"):
        split_patients(["a", "b"], ["x"])


def test_leakage_names_every_patient_and_its_sets():
    leaks = find_leakage(["p1", "p2", "p2", "p5"], ["p3", "p5"], ["p2", "p4", "p5"])
    assert leaks == {"p2": ("train", "test"), "p5": ("train", "validation", "test")}
    assert find_leakage(["a"], ["b"], ["c"]) == {}
    with pytest.raises(UserError, match=r"p2 \(train and test\).*p5"):
        check_no_leakage(["p1", "p2", "p5"], ["p5"], ["p2"])
    check_no_leakage(["a"], ["b"], ["c"])


def test_splitting_slices_by_index_is_caught():
    """The beginner mistake: shuffling slices, not patients, leaks almost every patient."""
    patients, _, _ = _cohort()
    order = np.random.default_rng(0).permutation(len(patients))
    cut = int(0.8 * len(order))
    leaks = find_leakage(patients[order[:cut]], [], patients[order[cut:]])
    assert len(leaks) > 20
