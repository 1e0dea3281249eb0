"""Dice per structure: ``dice_per_structure(true_labels, predicted_labels)``.

Returns ``{"LV": ..., "MYO": ..., "RV": ...}``: the Dice (with the student's ``dice``) of
label 1 (LV blood pool), 2 (LV myocardium) and 3 (RV blood pool), each computed on the
binary masks ``true_labels == label`` and ``predicted_labels == label``, all pixels
pooled. Reference: :func:`chdml.teaching.segmentation.dice_per_structure` (which uses
:func:`chdml.metrics.dice`, 1.0 for a structure absent from both maps).

Typical beginner mistakes the hidden cases catch:
- Dice on the label maps without selecting the label: ``dice(true_labels,
  predicted_labels)`` or ``true_labels > 0`` treats LV, myocardium and RV as one
  structure (every case with more than one structure);
- the same label for every structure after copy and paste (e.g. ``== 1`` three times),
  or labels shifted by one (LV = 0);
- a structure absent from both maps (a single ventricle without RV) must give 1.0, not
  NaN ("a single ventricle: no RV in truth or prediction");
- a batch of slices must be pooled, not only the first slice used ("a batch of ...").
Accepted alternatives: a loop over a dict of labels or three lines; Python floats or
NumPy scalars; keys exactly "LV", "MYO", "RV" (other keys are reported as missing).
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.segmentation import dice_per_structure

LABEL_HINT = ("Select one structure at a time: dice(true_labels == 1, predicted_labels == 1) "
              "for the LV, == 2 for the myocardium, == 3 for the RV.")


def _heart(rng: np.random.Generator, size: int, with_rv: bool = True) -> np.ndarray:
    """A cartoon short-axis label map: LV disc (1) in a myocardial ring (2), RV crescent (3)."""
    rows, columns = np.mgrid[:size, :size]
    centre_row = size / 2 + rng.uniform(-1.5, 1.5)
    centre_column = size / 2 + rng.uniform(0.5, 2.0)
    radius = np.hypot(rows - centre_row, columns - centre_column)
    inner, outer = size * rng.uniform(0.13, 0.18), size * rng.uniform(0.24, 0.28)
    labels = np.zeros((size, size), np.uint8)
    if with_rv:
        rv_radius = np.hypot(rows - centre_row, columns - (centre_column - outer * 0.9))
        labels[(rv_radius < outer * 0.95) & (radius >= outer)] = 3
    labels[radius < outer] = 2
    labels[radius < inner] = 1
    return labels


def _predicted(rng: np.random.Generator, truth: np.ndarray) -> np.ndarray:
    """A plausible prediction: the truth shifted by a pixel with a few wrong pixels."""
    prediction = np.roll(truth, int(rng.choice([-1, 1])), axis=int(rng.integers(0, 2)))
    noise = rng.random(truth.shape) < 0.03
    prediction[noise] = rng.integers(0, 4, size=int(noise.sum()))
    return prediction.astype(np.uint8)


def cases(rng: np.random.Generator) -> list[Case]:
    slice_truth = _heart(rng, 16)
    batch_truth = np.stack([_heart(rng, 20) for _ in range(3)])
    stack_truth = np.stack([_heart(rng, 18) for _ in range(4)], axis=-1)
    single_truth = _heart(rng, 16, with_rv=False)
    missed_truth = _heart(rng, 16)
    missed_prediction = _predicted(rng, missed_truth)
    missed_prediction[missed_prediction == 2] = 0
    return [
        Case("one 16x16 short-axis slice with LV, myocardium and RV", public=True, points=1,
             inputs={"true_labels": slice_truth,
                     "predicted_labels": _predicted(rng, slice_truth)},
             hint=LABEL_HINT),
        Case("a batch of 3 slices (N, H, W), all pixels pooled", public=False, points=1,
             inputs={"true_labels": batch_truth,
                     "predicted_labels": np.stack([_predicted(rng, t) for t in batch_truth])},
             hint=LABEL_HINT + " Use every slice of the batch."),
        Case("a 3-D stack (H, W, slices)", public=False, points=1,
             inputs={"true_labels": stack_truth,
                     "predicted_labels": _predicted(rng, stack_truth)},
             hint=LABEL_HINT),
        Case("a single ventricle: no RV in truth or prediction", public=False, points=1,
             inputs={"true_labels": single_truth,
                     "predicted_labels": _predicted(rng, single_truth) % 3},
             hint="A structure absent from both maps gets Dice 1.0: use your dice(), which "
                  "handles two empty masks."),
        Case("a prediction that misses the myocardium entirely", public=False, points=1,
             inputs={"true_labels": missed_truth, "predicted_labels": missed_prediction},
             hint=LABEL_HINT),
    ]


EXERCISE = Exercise(
    name="dice_per_structure",
    title="Dice of each heart structure",
    producer=producers.call("dice_per_structure", "true_labels", "predicted_labels"),
    reference=lambda inputs: dice_per_structure(inputs["true_labels"], inputs["predicted_labels"]),
    compare=compare.dicts(default=compare.number(atol=1e-6, rtol=1e-6)),
    cases=cases,
    hint="Return {'LV': dice(t == 1, p == 1), 'MYO': dice(t == 2, p == 2), "
         "'RV': dice(t == 3, p == 3)}.",
)
