"""Cleaning data: ``find_broken(images, masks=None)`` lists the slices to drop.

``images`` is a list of 2-D arrays (possibly of different sizes), ``masks`` a list of one
mask per image, or None. The function returns the indices of the broken slices; the same
set as the reference :func:`chdml.data.check.find_broken_cases` (order and repeats do not
matter). Rules, as the notebook states them: an image is broken when its shape differs
from the most common shape; it contains NaN or infinity; every pixel is 0 (empty); every
pixel has the same value (constant); its mask has another shape or is not a label map
(values that are not whole numbers); or it is identical to an earlier image (the first
copy is kept). An empty *mask* is not a problem (many slices show no heart).

Typical beginner mistakes the hidden cases catch:
- dropping too few: checking NaN but not infinity (``np.isnan`` instead of
  ``~np.isfinite``); no check for constant images; comparing masks by shape only (a
  hidden mask has fractional values, as after interpolation); finding duplicates only
  between neighbouring slices (hidden copies lie two or more slices apart);
- dropping too many: both copies of a duplicate; slices whose *mask* is empty; very
  dark images taken for empty ones (``image.max() < 0.01``); an image whose values sum
  to 0 taken for an empty one (``image.sum() == 0``); a slice that differs from another
  in one small patch taken for a copy;
- the expected shape taken from the first image: a hidden set starts with a wrong-sized
  image (then everything else would be dropped);
- a crash on images of different sizes (``np.array(images)``), or when masks is None.
Accepted alternatives: a list, array, set or tuple of indices, in any order. (Hidden sets
use other image sizes than the public ones, so that no hidden array equals a public one.)
"""
import numpy as np

from chdml.data.check import find_broken_cases
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.cleaning import dirty_set


def cases(rng: np.random.Generator) -> list[Case]:
    def shuffled(problems: list[str], n: int, first: int = 1) -> dict[int, str]:
        places = rng.choice(np.arange(first, n), size=len(problems), replace=False)
        return {int(p): name for p, name in zip(places, problems)}

    return [
        Case("10 slices with masks: one has a NaN pixel, one is empty, one mask is empty",
             public=True, points=1,
             inputs=dirty_set(rng, 10, {3: "nan", 5: "empty_mask", 6: "empty"})),
        Case("8 slices without masks: one of another size, one copied from an earlier one",
             public=True, points=1,
             inputs=dirty_set(rng, 8, {2: "wrong_shape", 6: "duplicate"}, with_masks=False)),
        Case("a set with every kind of problem and some harmless look-alikes", public=False,
             points=1,
             inputs=dirty_set(rng, 24, shuffled(
                 ["inf", "constant", "mask_fraction", "mask_shape", "duplicate",
                  "empty_mask", "dark", "zero_sum", "near_duplicate"], 24, first=3),
                 shape=(28, 28)),
             hint="Use ~np.isfinite (catches infinity too), check for constant images, and "
                  "look for copies anywhere earlier in the set, keeping the first copy."),
        Case("a set whose first slice has the wrong size", public=False, points=1,
             inputs=dirty_set(rng, 12, {0: "wrong_shape", 5: "duplicate", 9: "duplicate",
                                        10: "nan"}, shape=(26, 30)),
             hint="The expected shape is the most common one, not the first image's."),
        Case("a clean set (nothing to drop): empty masks and dark slices are fine",
             public=False, points=1,
             inputs=dirty_set(rng, 12, {2: "empty_mask", 4: "dark", 7: "zero_sum",
                                        9: "near_duplicate"}, shape=(22, 26)),
             hint="An empty mask, a dark image or an image whose values sum to 0 is not "
                  "broken; only every pixel being 0 makes an empty image."),
    ]


def reference(inputs: dict) -> list[int]:
    return [index for index, _ in find_broken_cases(inputs["images"], inputs["masks"])]


EXERCISE = Exercise(
    name="find_broken",
    title="Finding broken slices",
    producer=producers.call("find_broken", "images", "masks"),
    reference=reference,
    compare=compare.sets(),
    cases=cases,
    hint="Loop over the images; test shape, np.isfinite, all-zero, constant, the mask, "
         "then duplicates against every earlier image that is fine.",
)
