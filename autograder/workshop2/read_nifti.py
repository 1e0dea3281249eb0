"""Reading a NIfTI file: ``read_nifti(path)`` returns ``(array, spacing, affine)``.

``array`` is the image as floating-point numbers ``(rows, columns, slices)`` with the
header's scale factors applied, ``spacing`` the voxel size in mm (three numbers) and
``affine`` the 4x4 voxel-to-world matrix: equal to the reference loader
:func:`chdml.data.nifti.load_image` (the files are stored in RAS+ orientation, so its
reorientation changes nothing). Values within 1e-4 (relative 1e-5), geometry within
0.001 mm. The kernel writes each case's file into its working directory first
(producer ``with_files``).

Typical beginner mistakes the hidden cases catch:
- the voxel size taken from the diagonal of the affine (wrong for the tilted planes of
  cardiac MRI; a hidden file is oblique) or from ``header["pixdim"][:3]`` (whose first
  entry is the orientation flag ``qfac``, not a size);
- the raw stored numbers instead of the values (``img.dataobj.get_unscaled()``): a hidden
  file is 16-bit with ``scl_slope`` 2 and ``scl_inter`` -100, as scanners store images;
- whole-number data returned as integers (``np.asarray(img.dataobj)`` on an int16 file
  without scaling) instead of floating point (``img.get_fdata()``);
- the array transposed or the slices moved to the front (non-square hidden shapes).
Accepted alternatives: float32 or float64; spacing as a tuple, list or array;
``img.affine``, ``img.get_sform()`` or ``img.header.get_best_affine()`` (the files have
equal sform and qform).
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.storing import blob_volume, nifti_bytes, reference_read, rotated_affine


def _file(volume, affine, **storage) -> dict:
    return {"files": {"scan.nii.gz": nifti_bytes(volume, affine, **storage)}}


def cases(rng: np.random.Generator) -> list[Case]:
    def shape():
        return (int(rng.integers(14, 24)), int(rng.integers(10, 18)), int(rng.integers(3, 7)))

    return [
        Case("a short-axis stack stored as float32, 1.5 x 1.5 x 8 mm voxels", public=True,
             points=1,
             inputs=_file(blob_volume(rng, (20, 16, 5)),
                          rotated_affine((1.5, 1.5, 8.0), origin=(-15.0, -12.0, 30.0)))),
        Case("a tilted (oblique) plane with anisotropic voxels", public=False, points=1,
             inputs=_file(blob_volume(rng, shape()),
                          rotated_affine((float(rng.uniform(1.1, 1.4)),
                                          float(rng.uniform(1.5, 1.9)),
                                          float(rng.uniform(6.0, 10.0))),
                                         degrees=tuple(rng.uniform(8, 25, 3)),
                                         origin=tuple(rng.uniform(-50, 50, 3)))),
             hint="Take the voxel size from img.header.get_zooms()[:3], not from the "
                  "diagonal of the affine."),
        Case("a 16-bit file with a scale factor (scl_slope 2, scl_inter -100)", public=False,
             points=1,
             inputs=_file(blob_volume(rng, shape()), rotated_affine((1.25, 1.25, 8.0)),
                          dtype="int16", slope=2.0, intercept=-100.0),
             hint="img.get_fdata() applies the scale factors stored in the header."),
        Case("a 16-bit file without scale factor", public=False, points=1,
             inputs=_file(blob_volume(rng, shape()), rotated_affine((1.8, 1.8, 6.0)),
                          dtype="int16"),
             hint="Return floating-point values: img.get_fdata(dtype=np.float32)."),
    ]


def reference(inputs: dict) -> dict:
    return reference_read(inputs["files"]["scan.nii.gz"])


EXERCISE = Exercise(
    name="read_nifti",
    title="Reading a NIfTI file",
    producer=producers.with_files("read_nifti", "file:scan.nii.gz"),
    reference=reference,
    compare=compare.volume(atol=1e-4, rtol=1e-5, geometry_atol=1e-3),
    cases=cases,
    hint="img = nib.load(path); return img.get_fdata(dtype=np.float32), "
         "img.header.get_zooms()[:3], img.affine",
)
