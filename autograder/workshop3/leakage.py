"""Patient leakage: ``leaked_patients(train_slices, validation_slices, test_slices)``
returns the patients whose slices are in more than one set.

Each argument lists slice names ``"<patient>_<phase>_s<slice>"`` (``"p0012_ED_s03"``): the
patient id is the part before the first underscore. Reference:
:func:`chdml.teaching.pitfalls.leaked_patients` (built on
:func:`chdml.data.split.find_leakage`). Compared as a set (any order, list or set).

Typical beginner mistakes the hidden cases catch:
- comparing slice names instead of patients (slices are unique, so nothing ever leaks);
- checking only training against test (a leak between validation and test is missed);
- a patient with many slices in one set counted as a leak;
- the patient id cut at a fixed width (``name[:5]``) or matched by prefix (``"p7"`` is
  not ``"p77"``);
- ``None`` instead of an empty list when nothing leaks.
Accepted: a list, set, tuple or array of patient ids, in any order, with or without
repeats.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.pitfalls import leaked_patients, slice_name


def _slices(patients, rng, per_patient=(6, 10)):
    names = []
    for patient in patients:
        for phase in ("ED", "ES"):
            for k in range(int(rng.integers(*per_patient))):
                names.append(slice_name(patient, phase, k))
    return names


def _by_patient(rng, patients, sizes):
    """Slices of disjoint patient groups of the given sizes: a correct split."""
    order = list(rng.permutation(patients))
    groups, start = [], 0
    for size in sizes:
        groups.append(_slices(order[start:start + size], rng))
        start += size
    return groups


def _ids(count, width=4, start=0):
    return [f"p{number:0{width}d}" for number in range(start, start + count)]


def cases(rng: np.random.Generator) -> list[Case]:
    def inputs(train, validation, test):
        return {"train_slices": [str(n) for n in train],
                "validation_slices": [str(n) for n in validation],
                "test_slices": [str(n) for n in test]}

    everything = _slices(_ids(6, start=int(rng.integers(0, 50))), rng)
    shuffled = list(rng.permutation(everything))
    third = len(shuffled) // 3
    by_slice = inputs(shuffled[:third], shuffled[third:2 * third], shuffled[2 * third:])

    clean = inputs(*_by_patient(rng, _ids(9, start=int(rng.integers(0, 50))), (5, 2, 2)))

    train, validation, test = _by_patient(rng, _ids(8, start=int(rng.integers(0, 50))),
                                          (4, 2, 2))
    moved = validation[-1]
    validation_test = inputs(train, validation, test + [moved])

    train, validation, test = _by_patient(rng, _ids(8, start=int(rng.integers(0, 50))),
                                          (4, 2, 2))
    everywhere = train[0].split("_")[0]
    all_three = inputs(train, validation + [slice_name(everywhere, "ES", 30)],
                       test + [slice_name(everywhere, "ED", 31)])

    short = [f"p{number}" for number in (7, 77, 777, 8, 78, 778)]
    widths = inputs(_slices(short[:3], rng), _slices(short[3:5], rng),
                    _slices([short[5]], rng) + [slice_name("p77", "ES", 40)])

    crowded = _by_patient(rng, _ids(7, start=int(rng.integers(0, 50))), (3, 2, 2))
    crowded[0] = crowded[0] + [slice_name(crowded[0][0].split("_")[0], "ED", 20 + k)
                               for k in range(12)]
    one_set_only = inputs(*crowded)

    return [
        Case("a split made by slice, not by patient", public=True, points=1,
             inputs=by_slice),
        Case("a correct split by patient (nothing leaks)", public=True, points=1,
             inputs=clean),
        Case("one patient in the validation and the test set", public=False, points=1,
             inputs=validation_test,
             hint="Compare every pair of sets: training-validation, training-test and "
                  "validation-test."),
        Case("one patient in all three sets", public=False, points=1, inputs=all_three),
        Case("patient ids of different lengths (p7, p77, p777)", public=False, points=1,
             inputs=widths,
             hint="The patient id is everything before the first underscore: "
                  "name.split('_')[0]."),
        Case("a patient with many slices, all in the training set", public=False,
             points=1, inputs=one_set_only,
             hint="Many slices of one patient in one set are fine; a leak is one patient "
                  "in two sets."),
    ]


EXERCISE = Exercise(
    name="leakage",
    title="Finding patient leakage",
    producer=producers.call("leaked_patients", "train_slices", "validation_slices",
                            "test_slices"),
    reference=lambda inputs: leaked_patients(inputs["train_slices"],
                                             inputs["validation_slices"],
                                             inputs["test_slices"]),   # sorted: reproducible
    compare=compare.sets(),
    cases=cases,
    hint="Turn each list of slice names into a set of patient ids (name.split('_')[0]), "
         "then find the ids that are in two or more of the three sets.",
)
