"""Saving a mask: ``save_mask(mask, image_path, out_path)`` writes ``mask`` as NIfTI on the
image's grid.

The written file must hold the mask's values stored as ``uint8`` (labels are whole numbers
0-255), and the image's voxel spacing and affine, so that it lies exactly on the image in
a viewer: equal to what :func:`chdml.data.nifti.save_label` writes. The kernel writes the
image file into its working directory, calls the function, and sends the bytes of
``out_path`` back; the grader reads them itself (comparison ``volume``).

Typical beginner mistakes the hidden cases catch:
- no affine, or ``np.eye(4)``: the spacing becomes 1 x 1 x 1 mm and volumes in mL are
  wrong (every case);
- an affine made from the spacing alone (``np.diag([*spacing, 1])``): position and
  tilt are lost (a hidden image is oblique);
- labels saved as floating point: with the image's header
  (``nib.Nifti1Image(mask, img.affine, img.header)`` stores float32, as the image), or a
  float mask saved as it is (a hidden mask comes as float64 0.0/1.0/3.0);
- the image's header copied from a 16-bit scanner image with a scale factor: the mask is
  then stored as int16, not uint8 (hidden);
- a mask from ``argmax`` (int64), which nibabel refuses to save without a data type
  (hidden).
Accepted alternatives: ``nib.save`` or :func:`chdml.data.nifti.save_label`; copying the
image header and then calling ``header.set_data_dtype(np.uint8)``.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.storing import (blob_volume, label_volume, nifti_bytes,
                                    reference_saved_mask, rotated_affine)


def _inputs(rng, shape, affine, mask_dtype="uint8", **storage) -> dict:
    return {"mask": label_volume(rng, shape).astype(mask_dtype),
            "files": {"image.nii.gz": nifti_bytes(blob_volume(rng, shape), affine, **storage)}}


def cases(rng: np.random.Generator) -> list[Case]:
    def shape():
        return (int(rng.integers(16, 24)), int(rng.integers(12, 18)), int(rng.integers(3, 6)))

    return [
        Case("a uint8 mask for a float32 image of 1.5 x 1.5 x 8 mm voxels", public=True,
             points=1,
             inputs=_inputs(rng, (20, 16, 4),
                            rotated_affine((1.5, 1.5, 8.0), origin=(-15.0, -12.0, 30.0)))),
        Case("a mask for a tilted (oblique) image with anisotropic voxels", public=False,
             points=1,
             inputs=_inputs(rng, shape(),
                            rotated_affine((float(rng.uniform(1.1, 1.4)),
                                            float(rng.uniform(1.5, 1.9)),
                                            float(rng.uniform(6.0, 10.0))),
                                           degrees=tuple(rng.uniform(8, 25, 3)),
                                           origin=tuple(rng.uniform(-50, 50, 3)))),
             hint="Use the image's affine (nib.load(image_path).affine), not one made from "
                  "the spacing."),
        Case("a mask given as float64 numbers 0.0, 1.0, 2.0, 3.0", public=False, points=1,
             inputs=_inputs(rng, shape(), rotated_affine((1.25, 1.25, 8.0)),
                            mask_dtype="float64"),
             hint="Store labels as whole numbers: mask.astype(np.uint8)."),
        Case("a mask for a 16-bit scanner image with a scale factor", public=False, points=1,
             inputs=_inputs(rng, shape(), rotated_affine((1.4, 1.4, 7.0)), dtype="int16",
                            slope=2.0, intercept=-100.0),
             hint="Do not reuse the image's header for a mask (it carries the image's data "
                  "type and scale factors); or set header.set_data_dtype(np.uint8)."),
        Case("a mask from argmax (int64 numbers)", public=False, points=1,
             inputs=_inputs(rng, shape(), rotated_affine((1.6, 1.6, 8.0)), mask_dtype="int64"),
             hint="Convert the mask with mask.astype(np.uint8) before saving."),
    ]


def reference(inputs: dict) -> dict:
    return reference_saved_mask(inputs["mask"], inputs["files"]["image.nii.gz"])


EXERCISE = Exercise(
    name="save_mask",
    title="Saving a mask on the image's grid",
    producer=producers.with_files("save_mask", "mask", "file:image.nii.gz",
                                  "out:mask.nii.gz", result="out:mask.nii.gz"),
    reference=reference,
    compare=compare.volume(atol=0.0, rtol=0.0, geometry_atol=1e-3),
    cases=cases,
    hint="image = nib.load(image_path); nib.save(nib.Nifti1Image(mask.astype(np.uint8), "
         "image.affine), out_path)",
)
