"""DICOM series to NIfTI: ``dicom_to_nifti(dicom_folder, nifti_path)``.

The function reads every file of one series in ``dicom_folder`` with pydicom, puts the
slices in order along the slice direction, turns stored numbers into values
(``pixel_array * RescaleSlope + RescaleIntercept``), stacks them as ``(rows, columns,
slices)`` floating point and saves a NIfTI file whose voxel size is (row spacing, column
spacing, distance between slices) in mm; nothing that identifies the patient may end up
in the file. Judged against the reference converter :func:`chdml.data.dicom.read_series`:
the stored array within 1e-3, any floating-point type, voxel size within 0.001 mm, and
none of the patient's name parts, ID or birth date anywhere in the uncompressed file. The
affine's position and tilt are not compared (the exercise writes ``diag(spacing)``).
The kernel writes the case's files into ``<case folder>/dicom/`` first.

Typical beginner mistakes the hidden cases catch:
- slices in file-name or ``InstanceNumber`` order: hidden series are numbered from the
  last slice or in random order (sort by ``SliceLocation``, or by
  ``ImagePositionPatient`` along the slice normal);
- stored numbers instead of values: a hidden series has ``RescaleSlope`` 2 and
  ``RescaleIntercept`` -1000;
- ``SliceThickness`` taken as the distance between slices: a hidden series has 6 mm
  slices 8 mm apart (volumes would come out 25 % too small); also the difference of
  ``ImagePositionPatient[2]`` alone, wrong for a tilted stack;
- ``PixelSpacing`` read the wrong way round (column, row): hidden pixels are not square;
- patient data written into the header (``descrip``) or the file: every case.
Accepted alternatives: ``SpacingBetweenSlices`` or the distance between slice positions;
sorting by ``SliceLocation`` or by position along the normal; float32 or float64;
``nib.save`` or :func:`chdml.data.nifti.save_image`.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.storing import (PRACTICE_IDENTITY, blob_volume, dicom_series_files,
                                    identifying_strings, random_identity, reference_series)


def _series(rng, *, identity=None, order="slice", spacing=(1.5, 1.5, 8.0), shape=None,
            **arguments) -> dict:
    identity = identity or random_identity(rng)
    shape = shape or (int(rng.integers(14, 22)), int(rng.integers(12, 18)),
                      int(rng.integers(4, 7)))
    return {"files": dicom_series_files(blob_volume(rng, shape), spacing, order=order,
                                        seed=int(rng.integers(1000)), **identity,
                                        **arguments),
            "identity": identifying_strings(identity)}


def cases(rng: np.random.Generator) -> list[Case]:
    # row (cos a, sin a, 0) and column (-sin a cos b, cos a cos b, sin b): exact unit
    # vectors at right angles; the slice normal then has z = cos b = 0.5 (tilted by 60 deg)
    a, b = np.deg2rad(20.0), np.deg2rad(60.0)
    tilted = dict(orientation=(np.cos(a), np.sin(a), 0.0, -np.sin(a) * np.cos(b),
                               np.cos(a) * np.cos(b), np.sin(b)))
    return [
        Case("the practice series: 5 slices, files named in slice order", public=True,
             points=1,
             inputs=_series(rng, identity=dict(PRACTICE_IDENTITY), shape=(18, 16, 5))),
        Case("files numbered from the last slice (apex first)", public=False, points=1,
             inputs=_series(rng, order="reversed"),
             hint="Never trust file names or InstanceNumber: sort the slices by "
                  "float(ds.SliceLocation) (or by ImagePositionPatient along the normal)."),
        Case("files in random order, stored with RescaleSlope 2 and RescaleIntercept -1000",
             public=False, points=1,
             inputs=_series(rng, order="shuffled", rescale_slope=2.0,
                            rescale_intercept=-1000.0),
             hint="Values are pixel_array * RescaleSlope + RescaleIntercept."),
        Case("6 mm slices 8 mm apart, non-square pixels, a tilted stack", public=False,
             points=1,
             inputs=_series(rng, order="shuffled", spacing=(1.25, 1.6, 8.0),
                            slice_thickness=6.0, **tilted),
             hint="The slice spacing is the distance between slices (SpacingBetweenSlices),"
                  " not SliceThickness; PixelSpacing is (row spacing, column spacing)."),
    ]


def reference(inputs: dict) -> dict:
    expected = reference_series(inputs["files"])
    expected["forbidden"] = list(inputs["identity"])
    return expected


EXERCISE = Exercise(
    name="dicom_to_nifti",
    title="From a DICOM series to a NIfTI file",
    producer=producers.with_files("dicom_to_nifti", "folder:dicom", "out:scan.nii.gz",
                                  result="out:scan.nii.gz"),
    reference=reference,
    compare=compare.volume(atol=1e-3, rtol=1e-6, geometry_atol=1e-3),
    cases=cases,
    hint="Read every file with pydicom.dcmread, sort by float(ds.SliceLocation), stack "
         "ds.pixel_array * slope + intercept along axis 2, spacing = (*PixelSpacing, "
         "SpacingBetweenSlices), save with nib.Nifti1Image(volume, np.diag([*spacing, 1])).",
)
