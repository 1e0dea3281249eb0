"""Training: ``trained_unet``, the student's U-Net fitted on synthetic short-axis slices.

The notebook trains on ``chdml.data.synth.short_axis_slices(30, size=64, seed=0)`` (ED and
ES slices of 30 patients, all five phenotypes, split by patient into 25 for training and
5 for validation). The check predicts slices of *new* synthetic patients made with
another seed, ``trained_unet.predict(images)``, turns the softmax output into labels
(argmax) and computes the Dice of each structure over all pixels of the set (pooled), in
the grader, against masks the student's kernel never sees:

- public case: 5 new patients (seed from the public stream), all three structures must
  reach their floors (a self-check before handing in; 5 rather than 2 patients, since the
  Dice of 2 patients swings with one unusual scan: one public pair scored 0.25-0.40 with a
  model that reached 0.65-0.80 on larger sets);
- hidden cases: 10 other patients (seed from the hidden stream, salted by
  ``CHDML_GRADING_SALT``), one case per structure, each with its own points.

Floors (pooled Dice): LV blood pool 0.60, LV myocardium 0.40, RV blood pool 0.55. They
come from the reference recipe of the notebook (its own cells: depth 3, 16 base filters,
soft Dice + cross-entropy, Adam 0.002, 30 epochs, batch 16), measured with 3 training
seeds (0, 1, 2) on 3 hidden-like test sets of 10 patients each (seeds 101, 2024, 777777):
lowest LV 0.740, MYO 0.500, RV 0.680 (means 0.783, 0.594, 0.757). Each floor is the
lowest measured value minus a margin of 0.10, rounded down to 0.05, so a reasonably
trained model passes on any machine (CPU or GPU numerics, another seed) while a model
that did not learn a structure fails (Dice near 0). The synthetic generator's
domain-randomised scanners (dim images, bright fat) made the task harder than the first
recipe (8 base filters, 20 epochs) could learn reliably: it gave LV 0.73, MYO 0.54-0.57,
RV 0.63-0.69 on the same kind of sets, and the 16-filter, 30-epoch recipe 0.74-0.86,
0.50-0.73, 0.68-0.81.
Command: ``.venv/bin/python bench/bench_workshop4_floors.py``.

Typical beginner mistakes the hidden cases catch (each proved in
tests/workshops/test_workshop4.py with stand-in models):
- a model that predicts only background, as a training with plain soft Dice loss can
  collapse to (measured once: ``chdml.models.unet`` without batch norm, soft Dice alone,
  Adam 0.002, 15 epochs, seed 0 gave Dice 0.0 for all three structures on three test
  sets; Dice + cross-entropy did not collapse in any of 9 measured runs): every structure's case fails;
- a model that misses one structure (e.g. the thin myocardial ring): that structure's
  case fails, the others pass;
- a model that confuses two structures (RV labelled as LV): the RV case fails (its LV
  Dice, 0.66-0.77 on 10-patient sets, is as high as an honest model's, so the LV case
  cannot tell);
- predictions of the wrong size or layout (another image size, a flattened output):
  refused with a message naming the shapes;
- memorising the training slices cannot help: the test patients are new ones, and the
  hidden ones depend on the grader's salt.
Accepted alternatives: softmax scores ``(N, 64, 64, 4)`` or label maps ``(N, 64, 64)``
from ``predict``; any architecture, loss, optimiser and number of epochs that reaches the
floors; any Keras model with ``predict`` (or a function from images to predictions).
"""
from functools import lru_cache

import numpy as np

from chdml.grading import compare, producers
from chdml.grading.answers import AnswerBook
from chdml.grading.spec import Case, Exercise

IMAGE_SIZE = 64
PUBLIC_PATIENTS = 5
HIDDEN_PATIENTS = 10
FLOORS = {"LV": (1, 0.60), "MYO": (2, 0.40), "RV": (3, 0.55)}

MASKS = AnswerBook("images")
"""True masks of every set of slices drawn in this process (never sent to the kernel)."""


@lru_cache(maxsize=4)
def _slices(seed: int, n_patients: int) -> np.ndarray:
    """Images ``(N, 64, 64, 1)`` of new synthetic patients; their masks ``(N, 64, 64)``
    are kept in ``MASKS``."""
    from chdml.data.synth import short_axis_slices

    data = short_axis_slices(n_patients, size=IMAGE_SIZE, seed=seed)
    return MASKS.keep(data.images.astype(np.float32), data.masks)


def reference(inputs: dict) -> np.ndarray:
    """The true masks of ``inputs["images"]`` (known to the grader from ``cases``)."""
    return MASKS.look_up(inputs["images"])


def cases(rng: np.random.Generator) -> list[Case]:
    public_images = _slices(int(rng.integers(1_000, 2**31 - 1)), PUBLIC_PATIENTS)
    hidden_images = _slices(int(rng.integers(1_000, 2**31 - 1)), HIDDEN_PATIENTS)
    floors = ", ".join(f"{name} {floor:.2f}" for name, (_, floor) in FLOORS.items())
    structure_hint = {
        "LV": "The LV blood pool is the bright disc in the middle: look at the overlays "
              "and train longer if it is missed.",
        "MYO": "The myocardium is a thin ring: Dice + cross-entropy and enough epochs "
               "help the network find it.",
        "RV": "The RV is the crescent beside the LV; train on all phenotypes (dilated and "
              "hypertrophied RVs look different).",
    }
    return [
        Case(f"slices of {PUBLIC_PATIENTS} new synthetic patients; every structure must "
             f"reach its Dice floor ({floors})", public=True, points=1,
             inputs={"images": public_images, "structure": "all"},
             hint="Train for the number of epochs in the notebook and check the learning "
                  "curves: the validation loss should fall."),
    ] + [
        Case(f"{name} Dice on slices of {HIDDEN_PATIENTS} hidden synthetic patients "
             f"(floor {floor:.2f})", public=False, points=1,
             inputs={"images": hidden_images, "structure": name},
             hint=structure_hint[name])
        for name, (_, floor) in FLOORS.items()
    ]


EXERCISE = Exercise(
    name="train_unet",
    title="Training the U-Net",
    producer=producers.predict_with("trained_unet", images="images"),
    reference=reference,
    compare=compare.dice_per_structure_at_least(**FLOORS),
    cases=cases,
    hint="Fit trained_unet on train_images and train_targets; it should predict "
         "(N, 64, 64, 4) softmax scores.",
)
