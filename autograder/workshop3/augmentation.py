"""Augmentation: ``augment(image, mask, label, seed)`` returns ``(image, mask, label)``
after a random flip, rotation and zoom that keep image, mask and label in agreement.

Judged by properties, not by pixels (every student draws other random numbers): each case
calls the function once per seed (the first seed twice; producer ``call_each``), and the
comparison ``augmentation_consistent`` requires for every call that image and mask keep
their shapes; the mask holds only labels of the input mask, as whole numbers; the label
comes back unchanged; the image still lines up with the mask (the mask's regions explain
at least 90 % as much of the image's contrast as before, :func:`label_alignment`); and
between calls that the same seed gives the same result, that some seed changes the mask
and that the seeds do not all give the same result. The images are made for the check:
each label region of a cartoon short-axis slice (LV ring, RV crescent, off-centre)
has its own brightness (plus a little
noise), so any misalignment shows.

Typical beginner mistakes the hidden cases catch:
- image and mask moved with *different* random draws (the random generator asked twice,
  or an unseeded generator for one of them): they no longer line up;
- the mask interpolated like the image (``order=1``): values between labels; and rounded
  afterwards: labels that were not there (a mask with labels 0, 1 and 3 gets 2s);
- the label changed (a one-hot label flipped along with the image, or a flip taken to
  mean the other class);
- no seed, or the seed ignored (``np.random.default_rng()`` or a fixed seed): the same
  seed gives different results, or every seed the same one;
- an augmentation that never changes anything (forgotten flip/rotation);
- shapes changed (a channel axis dropped or added, an image transposed).
Accepted: NumPy/SciPy (e.g. :func:`chdml.teaching.augmentation.rotate_and_zoom`),
``np.flip``/``np.rot90`` on these square images, TensorFlow (:func:`chdml.augment.augment_pair`
with the label passed through), intensity changes of the image alone; any flip, rotation
and zoom ranges.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

BRIGHTNESS = np.array([0.0, 0.9, 0.35, 0.65])
"""Image intensity of labels 0 (background), 1 (LV blood), 2 (myocardium), 3 (RV blood)."""


def _cartoon_mask(rng, size, drop_myocardium=False) -> np.ndarray:
    """A short-axis slice drawn large: LV blood pool (1) in a ring of myocardium (2), the
    RV blood pool (3) as a crescent on one side; off-centre, so flips and turns show."""
    rows, cols = np.mgrid[0:size, 0:size] / size
    centre_r, centre_c = 0.5 + rng.uniform(-0.08, 0.08), 0.58 + rng.uniform(-0.05, 0.05)
    lv_radius, wall = rng.uniform(0.13, 0.17), rng.uniform(0.06, 0.08)
    distance = np.hypot(rows - centre_r, cols - centre_c)
    mask = np.zeros((size, size), dtype=np.uint8)
    rv_distance = np.hypot((rows - centre_r) / 1.3, cols - (centre_c - lv_radius - wall))
    mask[rv_distance < rng.uniform(0.2, 0.24)] = 3
    mask[distance < lv_radius + wall] = 2
    mask[distance < lv_radius] = 1
    if drop_myocardium:
        mask[mask == 2] = 0
    return mask


def _example(rng, size, drop_myocardium=False):
    """A mask and an image whose brightness follows the mask."""
    mask = _cartoon_mask(rng, size, drop_myocardium)
    image = BRIGHTNESS[mask] + rng.normal(0, 0.02, mask.shape)
    return image[..., None].astype(np.float32), mask


def _calls(rng, image, mask, label):
    first = int(rng.integers(0, 1000))
    seeds = [first, first] + [first + k for k in range(1, 7)]
    return {"calls": [[image, mask, label, seed] for seed in seeds]}


def cases(rng: np.random.Generator) -> list[Case]:
    image, mask = _example(rng, 48)
    one_hot_image, one_hot_mask = _example(rng, 48)
    sparse_image, sparse_mask = _example(rng, 48, drop_myocardium=True)
    small_image, small_mask = _example(rng, 32)
    return [
        Case("a 48 x 48 short-axis slice, label 1, seven seeds (the first twice)", public=True,
             points=2, inputs=_calls(rng, image, mask, 1)),
        Case("a one-hot label [0, 1]", public=False, points=1,
             inputs=_calls(rng, one_hot_image, one_hot_mask, [0.0, 1.0]),
             hint="Return the label exactly as it came: flips and rotations move pixels, "
                  "they never change what the image shows."),
        Case("a mask with labels 0, 1 and 3 only", public=False, points=1,
             inputs=_calls(rng, sparse_image, sparse_mask, 0),
             hint="Move masks with the nearest neighbour (order=0): interpolating and "
                  "rounding invents labels between 0 and 3."),
        Case("a 32 x 32 slice", public=False, points=1,
             inputs=_calls(rng, small_image, small_mask, 0),
             hint="Draw the flip, angle and zoom once from np.random.default_rng(seed) and "
                  "apply the same ones to image and mask."),
    ]


def reference(inputs: dict) -> dict:
    """What the comparison needs: the labels of the input mask and the label."""
    image, mask, label, _seed = inputs["calls"][0]
    return {"mask_labels": sorted(int(value) for value in np.unique(mask)), "label": label}


EXERCISE = Exercise(
    name="augmentation",
    title="Augmentation that keeps masks and labels aligned",
    producer=producers.call_each("augment"),
    reference=reference,
    compare=compare.augmentation_consistent(min_alignment=0.9),
    cases=cases,
    hint="Make one generator from the seed (np.random.default_rng), draw the flip, angle "
         "and zoom once, move the image with order=1 and the mask with order=0, and return "
         "the label as it came.",
)
