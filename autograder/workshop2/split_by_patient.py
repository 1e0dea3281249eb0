"""Labelling and splitting: ``split_by_patient(patients, labels, fractions, seed)``.

``patients`` holds one patient id per image, ``labels`` one class per image; the function
returns ``(train_index, validation_index, test_index)``: arrays of image indices. Judged
by the ``patient_split`` comparison (any correct split passes, not only the reference's
:func:`chdml.data.split.split_patients`): every image in exactly one set; no patient in two
sets; each set holds its fraction of the *patients* within 0.02 (plus one patient per
class, for rounding); and each set's share of every class (a patient's class is its most
frequent label) within 0.01 plus one patient of the share among all patients. The
reference split and a per-class shuffle-and-cut pass every drawn case (see the tests).

Typical beginner mistakes the hidden cases catch:
- splitting images instead of patients (``np.random.permutation(len(labels))``): the same
  patient's images land in two sets (every case, certain);
- a split that is not stratified (shuffling all patients together): with a rare class
  (10-20 % of 150-400 patients) its share in the validation or test set drifts by more than
  one patient (hidden; measured: a shuffle of all patients passes each hidden case with
  12-28 % of grading salts, all three with 0 of 200 salts, while the notebook's solution
  passed with all 200);
- fractions of images instead of patients when patients have different numbers of
  images, or the validation fraction taken from what is left after the test set
  (0.15 of 0.85): the sets' sizes are off (hidden);
- assuming a patient's images are next to each other (hidden sets are shuffled);
- returning patient ids instead of image indices, or only two sets (every case).
Accepted alternatives: any seed and any random method; boolean masks instead of index
arrays; a dict with keys train/validation/test.
"""
import numpy as np

from chdml.data.split import split_patients
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

FRACTIONS = [0.7, 0.15, 0.15]


def _per_image(rng, n_patients, images_per_patient, classes_of_patient, shuffle=True) -> dict:
    """Images of patients ``p001``...: ids and labels per image (shuffled order)."""
    patients, labels = [], []
    for index in range(n_patients):
        count = int(images_per_patient(index))
        patients += [f"p{index + 1:03d}"] * count
        labels += list(classes_of_patient(index, count))
    order = rng.permutation(len(patients)) if shuffle else np.arange(len(patients))
    return {"patients": np.array(patients)[order], "labels": np.array(labels)[order]}


def cases(rng: np.random.Generator) -> list[Case]:
    def rare_class(n_patients, share, low, high, fractions=FRACTIONS):
        rare = set(rng.choice(n_patients, size=int(round(share * n_patients)), replace=False)
                   .tolist())
        sizes = rng.integers(low, high + 1, n_patients)
        data = _per_image(rng, n_patients, lambda i: sizes[i],
                          lambda i, count: [1 if i in rare else 0] * count)
        data["fractions"] = list(fractions)
        data["seed"] = int(rng.integers(1000))
        return data

    notebook = _per_image(rng, 25, lambda i: 8, lambda i, count: [1, 0] * (count // 2),
                          shuffle=False)
    notebook.update(fractions=FRACTIONS, seed=0)
    return [
        Case("25 patients with 8 images each, half short-axis (like the notebook's set)",
             public=True, points=1, inputs=notebook),
        Case("60 patients, one class each, 30 % in class 1", public=True, points=1,
             inputs=rare_class(60, 0.3, 4, 8)),
        Case("150 patients with 2 to 20 images each, a rare class (15 %)", public=False,
             points=1, inputs=rare_class(150, 0.15, 2, 20),
             hint="Split the patients, not the images: fractions count patients."),
        Case("300 patients, a rare class (10 %), 60/20/20", public=False, points=1,
             inputs=rare_class(300, 0.10, 1, 6, fractions=[0.6, 0.2, 0.2]),
             hint="Stratify: shuffle and cut the patients of each class separately."),
        Case("400 patients, a rare class (20 %)", public=False, points=1,
             inputs=rare_class(400, 0.20, 3, 10),
             hint="Stratify: shuffle and cut the patients of each class separately, and take "
                  "each set's fraction of all patients."),
    ]


def reference(inputs: dict) -> dict:
    split = split_patients(inputs["patients"], inputs["labels"],
                           fractions=tuple(inputs["fractions"]), seed=int(inputs["seed"]))
    return {"patients_per_set": [len(split.train), len(split.validation), len(split.test)]}


EXERCISE = Exercise(
    name="split_by_patient",
    title="Splitting by patient, stratified by class",
    producer=producers.call("split_by_patient", "patients", "labels", "fractions", "seed"),
    reference=reference,
    compare=compare.patient_split(fraction_tolerance=0.02, balance_tolerance=0.01),
    cases=cases,
    hint="Give each patient one class, shuffle the patients of each class, cut them by the "
         "fractions, then collect the image indices of each set's patients.",
)
