"""Dice: ``dice(y_true, y_pred)`` of two binary masks in NumPy.

``2 |T and P| / (|T| + |P|)`` over all pixels (or voxels) of the two masks, a float in
[0, 1]. The convention stated in the notebook: two empty masks give **1.0** (nothing to
find and nothing found is perfect agreement); exactly one empty mask gives 0.0.
Reference: :func:`chdml.metrics.dice`.

Typical beginner mistakes the hidden cases catch:
- no empty-mask convention: ``0 / 0`` gives NaN (or a ZeroDivisionError), or 0.0 is
  returned for two empty masks ("two empty masks", "an empty 3-D stack");
- integer division (``//``) gives 0 for any imperfect overlap ("two overlapping ...");
- adding boolean masks: ``np.sum(y_true + y_pred)`` on True/False arrays is a logical OR
  and counts the union, not ``|T| + |P|`` ("True/False masks");
- overflow in the mask's own small integer type: ``np.dot(y_true.ravel(), y_pred.ravel())``
  on uint8 masks wraps around after 255 overlapping pixels, and on True/False masks
  returns True ("uint8 masks with more than 255 overlapping pixels", "True/False masks");
- IoU (``|T and P| / |T or P|``) or a missing factor 2 instead of Dice;
- full masks: the formula must still give 1.0 for two full masks and 0.0 when one of
  them is empty ("two full masks", "a full mask against an empty one").
Accepted alternatives: 0/1 integer, float or True/False masks in any shape (slice, batch,
stack); loops, ``np.logical_and``, ``&`` or ``*``; a Python float or a NumPy scalar.
"""
import numpy as np

from chdml import metrics
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

CONVENTION_HINT = ("Two empty masks have Dice 1.0 by the convention of this workshop: "
                   "check for that before dividing, since 0 / 0 is not a number.")


def _blob(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """A 0/1 uint8 mask: a random box covering about half of each axis, plus a few pixels."""
    mask = (rng.random(shape) < 0.05).astype(np.uint8)
    corner = [int(rng.integers(0, size // 4 + 1)) for size in shape]
    extent = [int(rng.integers(size // 2, 3 * size // 4 + 1)) for size in shape]
    mask[tuple(slice(c, c + e) for c, e in zip(corner, extent))] = 1
    return mask


def _overlapping(rng: np.random.Generator, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Two masks that overlap partly: the second is the first shifted by one pixel."""
    truth = _blob(rng, shape)
    prediction = np.roll(truth, 1, axis=int(rng.integers(0, len(shape))))
    prediction[tuple(int(rng.integers(0, size)) for size in shape)] ^= 1
    return truth, prediction


def cases(rng: np.random.Generator) -> list[Case]:
    truth, prediction = _overlapping(rng, (8, 8))
    bool_truth, bool_prediction = _overlapping(rng, (12, 10))
    big_truth = np.zeros((40, 40), np.uint8)
    top, left = int(rng.integers(0, 8)), int(rng.integers(0, 8))
    big_truth[top:top + 30, left:left + 30] = 1
    big_prediction = np.roll(big_truth, int(rng.integers(1, 4)), axis=1)
    stack_truth, stack_prediction = _overlapping(rng, (10, 10, 4))
    full_size = (int(rng.integers(4, 9)), int(rng.integers(4, 9)))
    apart_truth = np.zeros((9, 9), np.float32)
    apart_truth[:3, :3] = 1
    apart_prediction = np.zeros_like(apart_truth)
    apart_prediction[-3:, -int(rng.integers(2, 5)):] = 1
    return [
        Case("two overlapping 8x8 masks of 0/1 integers", public=True, points=1,
             inputs={"y_true": truth, "y_pred": prediction},
             hint="Dice = 2 * (pixels in both) / (pixels in y_true + pixels in y_pred); "
                  "use / (not //) so the result is a fraction."),
        Case("two empty masks (nothing to find, nothing found)", public=True, points=1,
             inputs={"y_true": np.zeros((6, 6), np.uint8), "y_pred": np.zeros((6, 6), np.uint8)},
             hint=CONVENTION_HINT),
        Case("True/False masks", public=False, points=1,
             inputs={"y_true": bool_truth.astype(bool), "y_pred": bool_prediction.astype(bool)},
             hint="Adding two True/False arrays gives True/False again (a logical OR); "
                  "count each mask separately with np.sum(y_true) + np.sum(y_pred)."),
        Case("uint8 masks with more than 255 overlapping pixels", public=False, points=1,
             inputs={"y_true": big_truth, "y_pred": big_prediction},
             hint="Counts of a large mask do not fit in 8 bits: count with np.sum or "
                  "np.count_nonzero, not with np.dot on uint8 arrays."),
        Case("an empty 3-D stack (both masks empty)", public=False, points=1,
             inputs={"y_true": np.zeros((5, 5, 3), bool), "y_pred": np.zeros((5, 5, 3), bool)},
             hint=CONVENTION_HINT),
        Case("a full mask against an empty one", public=False, points=1,
             inputs={"y_true": np.ones(full_size, np.uint8),
                     "y_pred": np.zeros(full_size, np.uint8)},
             hint="When only one mask is empty, nothing overlaps: the formula gives 0.0."),
        Case("two full masks", public=False, points=1,
             inputs={"y_true": np.ones(full_size[::-1], np.uint8),
                     "y_pred": np.ones(full_size[::-1], np.uint8)},
             hint="Identical masks have Dice 1.0."),
        Case("two 3-D stacks of slices (all voxels pooled)", public=False, points=1,
             inputs={"y_true": stack_truth, "y_pred": stack_prediction},
             hint="Count over all voxels of the stack, not slice by slice."),
        Case("float masks that do not touch", public=False, points=1,
             inputs={"y_true": apart_truth, "y_pred": apart_prediction},
             hint="Masks without common pixels have Dice 0.0."),
    ]


EXERCISE = Exercise(
    name="dice",
    title="Dice overlap of two masks",
    producer=producers.call("dice", "y_true", "y_pred"),
    reference=lambda inputs: metrics.dice(inputs["y_true"], inputs["y_pred"]),
    compare=compare.number(atol=1e-6, rtol=1e-6),
    cases=cases,
    hint="Dice = 2 * |y_true and y_pred| / (|y_true| + |y_pred|), and 1.0 for two empty masks.",
)
