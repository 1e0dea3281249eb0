"""Volume: ``volume_ml(mask, spacing, label)``, a structure's volume in millilitres.

``mask`` is a label map of a short-axis stack ``(rows, columns, slices)`` (0 background,
1 LV blood pool, 2 LV myocardium, 3 RV blood pool), ``spacing`` the voxel size in mm
``(row spacing, column spacing, slice thickness)``, ``label`` the structure to measure.
Volume = number of voxels equal to ``label`` x voxel volume in mm^3 / 1000
(1 mL = 1 cm^3 = 1000 mm^3). Reference: :func:`chdml.metrics.volume_ml`; judged within
1 % (``rtol=0.01``).

Typical beginner mistakes the hidden cases catch:
- forgetting the slice thickness (pixel area only): every case has slices of 5-10 mm;
- forgetting the mm^3 -> mL conversion (1000 times too large);
- counting every labelled voxel (``np.count_nonzero(mask)``) or summing label values
  (``mask.sum()``) instead of the voxels equal to ``label``: every case has several
  structures;
- squaring the row spacing (``spacing[0] ** 2``): "a stack with rectangular pixels";
- a structure absent from the stack must give 0.0 ("the RV of a single ventricle").
Accepted alternatives: ``np.sum(mask == label)`` or ``np.count_nonzero``; ``np.prod`` or
a product written out; spacing as a tuple, list or array; a float or a NumPy scalar.
"""
import numpy as np

from chdml import metrics
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.segmentation import patient_stack

SPACING_HINT = ("Multiply the number of voxels by the voxel volume, row spacing x column "
                "spacing x slice thickness (mm^3), then divide by 1000 to get mL.")


def _synthetic_stack(seed: int, phase: str, phenotype: str | None = None):
    """A short-axis label map ``(64, 64, slices)`` and spacing of one synthetic patient."""
    from chdml.data.synth import short_axis_slices

    slices = short_axis_slices(1, size=64, seed=seed, phases=phase,
                               phenotypes=None if phenotype is None else [phenotype])
    _, masks, spacing = patient_stack(slices, str(slices.patients[0]), phase)
    return masks, spacing


def _cartoon_stack(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """A label map with LV (1), myocardium (2) and RV (3) blobs on every slice."""
    rows, columns, n_slices = shape
    grid_rows, grid_columns = np.mgrid[:rows, :columns]
    stack = np.zeros(shape, np.uint8)
    for k in range(n_slices):
        radius = np.hypot(grid_rows - rows / 2, grid_columns - columns / 2)
        scale = 1.0 - 0.5 * k / max(n_slices - 1, 1) + rng.uniform(-0.05, 0.05)
        stack[..., k][radius < 0.35 * rows * scale] = 2
        stack[..., k][radius < 0.22 * rows * scale] = 1
        stack[..., k][(grid_columns < columns * 0.2) & (radius < 0.45 * rows)] = 3
    return stack


def cases(rng: np.random.Generator) -> list[Case]:
    small = _cartoon_stack(rng, (12, 12, 3))
    rectangular = _cartoon_stack(rng, (20, 16, 5))
    seed = int(rng.integers(1_000, 2**31 - 1))
    ed_masks, ed_spacing = _synthetic_stack(seed, "ED", "dilated_rv")
    single_masks, single_spacing = _synthetic_stack(seed + 1, "ES", "single_ventricle")
    single_masks = np.where(single_masks == 3, 0, single_masks).astype(np.uint8)
    return [
        Case("LV of a small 12x12x3 stack, 1.5 x 1.5 mm pixels, 8 mm slices", public=True,
             points=1, inputs={"mask": small, "spacing": [1.5, 1.5, 8.0], "label": 1},
             hint=SPACING_HINT),
        Case("a stack with rectangular pixels (row and column spacing differ)",
             public=False, points=1,
             inputs={"mask": rectangular,
                     "spacing": [round(float(rng.uniform(1.1, 1.4)), 3),
                                 round(float(rng.uniform(1.6, 2.0)), 3),
                                 float(rng.integers(5, 11))],
                     "label": 2},
             hint="Use all three numbers of spacing: row, column and slice."),
        Case("RV at end-diastole of a synthetic patient after tetralogy repair",
             public=False, points=1,
             inputs={"mask": ed_masks, "spacing": list(ed_spacing), "label": 3},
             hint="Count only the voxels equal to label (mask == label)."),
        Case("LV at end-diastole of the same patient", public=False, points=1,
             inputs={"mask": ed_masks, "spacing": list(ed_spacing), "label": 1},
             hint=SPACING_HINT),
        Case("the RV of a single ventricle (absent: 0 mL)", public=False, points=1,
             inputs={"mask": single_masks, "spacing": list(single_spacing), "label": 3},
             hint="A structure that is not in the mask has a volume of 0.0 mL."),
    ]


EXERCISE = Exercise(
    name="volume_ml",
    title="Ventricular volume in mL",
    producer=producers.call("volume_ml", "mask", "spacing", "label"),
    reference=lambda inputs: metrics.volume_ml(inputs["mask"], inputs["spacing"],
                                               label=inputs["label"]),
    compare=compare.number(atol=1e-6, rtol=0.01),
    cases=cases,
    hint="volume (mL) = (number of voxels with this label) x (row mm x column mm x slice mm)"
         " / 1000.",
)
