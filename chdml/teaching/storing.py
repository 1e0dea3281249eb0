"""Files for the "storing data" exercises of workshop 2: NIfTI and DICOM, made in memory.

The checks of ``read_nifti``, ``save_mask``, ``dicom_to_nifti`` and ``remove_identifiers``
send files to the student's kernel as bytes (``{name: uint8 array}``); the kernel writes
them into its working directory and calls the student's function on the paths. This
module makes those bytes and computes the reference answers from them, with
:mod:`chdml.data.nifti` and :mod:`chdml.data.dicom` as the reference loaders.

Array layout everywhere: ``(rows, columns, slices)``, spacing in mm ``(row, column,
slice)``, as in :mod:`chdml.data.nifti`.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np

#: The made-up identity written into the practice DICOM series by default.
PRACTICE_IDENTITY = {"patient_name": "Doe^Jane", "patient_id": "CHD-000123",
                     "birth_date": "20120304", "study_date": "20240115",
                     "institution": "Example Children's Hospital"}

#: DICOM elements a de-identified slice must keep unchanged (besides the pixel data).
KEPT_ELEMENTS = ("Modality", "Rows", "Columns", "PixelSpacing", "ImagePositionPatient",
                 "ImageOrientationPatient", "SliceThickness", "RescaleSlope",
                 "RescaleIntercept")


def as_bytes_array(content: bytes) -> np.ndarray:
    """File content as a uint8 array (how files travel in a check's inputs)."""
    return np.frombuffer(content, dtype=np.uint8).copy()


# ------------------------------------------------------------------------------ NIfTI
def rotated_affine(spacing, degrees=(0.0, 0.0, 0.0), origin=(0.0, 0.0, 0.0),
                   flip=(1, 1, 1)) -> np.ndarray:
    """A voxel-to-world affine: rotations about x, y, z (degrees), voxel size, origin.

    ``flip`` multiplies each voxel axis by +-1 (a negative entry stores that axis
    reversed, as in LPS exports). With small angles and no flips the closest canonical
    orientation is the identity, so :func:`chdml.data.nifti.load_image` returns the
    array as stored.
    """
    ax, ay, az = np.deg2rad(degrees)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rz @ ry @ rx @ np.diag(np.asarray(spacing, float) * np.asarray(flip, float))
    affine[:3, 3] = origin
    return affine


def nifti_bytes(array: np.ndarray, affine: np.ndarray, dtype: str = "float32",
                slope: float | None = None, intercept: float | None = None,
                description: str = "") -> np.ndarray:
    """A ``.nii.gz`` file of ``array`` (stored as ``dtype``) as a uint8 array.

    ``slope``/``intercept`` set the header's ``scl_slope``/``scl_inter``: the stored
    numbers are ``(array - intercept) / slope`` (rounded for integer types), as scanners
    store 16-bit images. Without them the values are stored as they are.
    """
    import nibabel as nib

    array = np.asarray(array)
    affine = np.asarray(affine, dtype=float)
    if slope is not None:
        stored = (array.astype(np.float64) - (intercept or 0.0)) / slope
        if np.dtype(dtype).kind in "iu":
            stored = np.round(stored)
        image = nib.Nifti1Image(stored.astype(dtype), affine)
        image.header.set_slope_inter(slope, intercept or 0.0)
    else:
        image = nib.Nifti1Image(array.astype(dtype), affine)
    image.header.set_data_dtype(np.dtype(dtype))
    image.header.set_xyzt_units("mm", "sec")
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    if description:
        image.header["descrip"] = description.encode()[:79]
    raw = image.to_bytes()
    return as_bytes_array(gzip.compress(raw, compresslevel=6, mtime=0))


def _temporary_file(content: np.ndarray, name: str):
    """Write ``content`` to ``<tmp>/name``; return (TemporaryDirectory, path)."""
    folder = tempfile.TemporaryDirectory(prefix="chdml-reference-")
    path = Path(folder.name) / name
    path.write_bytes(np.asarray(content, dtype=np.uint8).tobytes())
    return folder, path


def reference_read(content: np.ndarray, name: str = "scan.nii.gz") -> dict:
    """What the reference loader (:func:`chdml.data.nifti.load_image`) reads from bytes.

    Returns ``{"array", "dtype": "float", "spacing", "affine"}`` for the ``volume``
    comparison of :mod:`chdml.grading.compare`.
    """
    from chdml.data.nifti import load_image

    folder, path = _temporary_file(content, name)
    with folder:
        loaded = load_image(path)
    return {"array": loaded.array, "dtype": "float", "spacing": list(loaded.spacing),
            "affine": loaded.affine}


def geometry_of(content: np.ndarray) -> tuple[list[float], np.ndarray]:
    """``(spacing, affine)`` stored in the header of a NIfTI file given as bytes."""
    from chdml.grading.compare import read_nifti_record

    record = read_nifti_record({"name": "file.nii.gz", "bytes": content})
    return list(record["spacing"]), record["affine"]


def reference_saved_mask(mask: np.ndarray, image_content: np.ndarray) -> dict:
    """What :func:`chdml.data.nifti.save_label` writes for ``mask`` on the image's grid."""
    from chdml.data.nifti import save_label
    from chdml.grading.compare import read_nifti_record
    from chdml.grading.producers import file_record

    spacing, affine = geometry_of(image_content)
    folder = tempfile.TemporaryDirectory(prefix="chdml-reference-")
    with folder:
        path = Path(folder.name) / "mask.nii.gz"
        save_label(path, np.asarray(mask), affine=affine)
        record = read_nifti_record(file_record(str(path), path.name))
    return {"array": record["array"], "dtype": "uint8", "spacing": spacing, "affine": affine}


# ------------------------------------------------------------------------------ DICOM
def dicom_series_files(volume: np.ndarray, spacing, *, folder: str = "dicom",
                       order: str = "slice", seed: int = 0, slice_thickness=None,
                       **write_series_arguments) -> dict[str, np.ndarray]:
    """A DICOM series of ``volume`` ``(rows, columns, slices)`` as ``{name: bytes}``.

    Written by :func:`chdml.data.dicom.write_series` (made-up identifiers unless given).
    ``order`` decides what file names and ``InstanceNumber`` say about slice order:
    ``"slice"`` (in order), ``"reversed"`` (numbered from the last slice, as scanners that
    acquire apex first do) or ``"shuffled"`` (random names and numbers, seeded).
    ``slice_thickness`` (mm) overrides ``SliceThickness`` only, so it can differ from the
    distance between slices (a gap between slices). Names are ``<folder>/<name>.dcm``.
    """
    import pydicom

    from chdml.data.dicom import write_series

    volume = np.asarray(volume)
    n_slices = volume.shape[2] if volume.ndim == 3 else 1
    numbers = np.arange(1, n_slices + 1)
    if order == "reversed":
        numbers = numbers[::-1]
    elif order == "shuffled":
        numbers = np.random.default_rng(seed).permutation(numbers)
    elif order != "slice":
        raise ValueError(f"order must be 'slice', 'reversed' or 'shuffled', got {order!r}")
    files = {}
    with tempfile.TemporaryDirectory(prefix="chdml-series-") as tmp:
        paths = write_series(volume, spacing, tmp, seed=seed, **write_series_arguments)
        for k, path in enumerate(paths):
            dataset = pydicom.dcmread(path)
            dataset.InstanceNumber = int(numbers[k])
            if slice_thickness is not None:
                dataset.SliceThickness = f"{float(slice_thickness):g}"
            buffer = io.BytesIO()
            dataset.save_as(buffer, enforce_file_format=True)
            files[f"{folder}/IM{int(numbers[k]):04d}.dcm"] = as_bytes_array(buffer.getvalue())
    return dict(sorted(files.items()))


def reference_series(files: dict[str, np.ndarray]) -> dict:
    """The reference conversion (:func:`chdml.data.dicom.read_series`) of series bytes.

    Returns ``{"array", "dtype": "float", "spacing", "affine": None}``: the array as it is
    stored in the NIfTI (slices ordered along the slice normal), the voxel size; the affine
    is not compared (the exercise writes a simple diagonal affine).
    """
    from chdml.data.dicom import read_series

    with tempfile.TemporaryDirectory(prefix="chdml-reference-") as tmp:
        for name, content in files.items():
            path = Path(tmp, *name.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(np.asarray(content, dtype=np.uint8).tobytes())
        folders = {name.split("/")[0] for name in files}
        series = read_series(Path(tmp, *sorted(folders)[:1]))
    return {"array": series.array, "dtype": "float", "spacing": list(series.spacing),
            "affine": None}


_FIRST_NAMES = ("Amara", "Bastian", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiroshi")
_LAST_NAMES = ("Okafor", "Lindqvist", "Moreau", "Petrov", "Yilmaz", "Haddad", "Novak", "Sato")


def random_identity(rng: np.random.Generator) -> dict:
    """A made-up patient identity (name, ID, birth and study date, hospital) from ``rng``."""
    return {"patient_name": f"{rng.choice(_LAST_NAMES)}^{rng.choice(_FIRST_NAMES)}",
            "patient_id": f"MRN{int(rng.integers(10**6, 10**7))}",
            "birth_date": f"{int(rng.integers(2006, 2022))}{int(rng.integers(1, 13)):02d}"
                          f"{int(rng.integers(1, 29)):02d}",
            "study_date": f"2024{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}",
            "institution": f"{rng.choice(_LAST_NAMES)} Heart Centre"}


def identifying_strings(identity: dict) -> list[str]:
    """Text that must not appear in a converted file: name parts, ID, birth date."""
    parts = [p for p in str(identity.get("patient_name", "")).replace("^", " ").split()
             if len(p) >= 3]
    return parts + [str(identity[key]) for key in ("patient_id", "birth_date")
                    if identity.get(key)]


def dicom_slice_bytes(image: np.ndarray, spacing, *, identity: dict | None = None,
                      nested: bool = False, extra_private: bool = False,
                      extra_identifiers: bool = False, seed: int = 0, **write_series_arguments
                      ) -> np.ndarray:
    """One DICOM slice with made-up identifiers (and optional hard cases) as bytes.

    ``nested``: a ``ScheduledProcedureStepSequence`` whose item holds a physician's name
    and a date (identifiers inside a sequence); ``extra_private``: private elements of a
    second vendor group; ``extra_identifiers``: the patient's address, telephone number,
    other names and ethnic group, which a short hand-made list of tags forgets.
    """
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from chdml.data.dicom import write_series

    identity = dict(identity or PRACTICE_IDENTITY)
    with tempfile.TemporaryDirectory(prefix="chdml-slice-") as tmp:
        path = write_series(np.asarray(image)[:, :, None] if np.ndim(image) == 2 else image,
                            spacing, tmp, seed=seed, **identity, **write_series_arguments)[0]
        dataset = pydicom.dcmread(path)
    if nested:
        step = Dataset()
        step.ScheduledPerformingPhysicianName = "Brown^Scheduler"
        step.ScheduledProcedureStepStartDate = identity.get("study_date", "20240115")
        step.ScheduledProcedureStepDescription = "Cardiac MRI with contrast"
        dataset.ScheduledProcedureStepSequence = Sequence([step])
    if extra_private:
        block = dataset.private_block(0x0019, "OTHER VENDOR", create=True)
        block.add_new(0x01, "LO", f"{identity['patient_id']} scanned on MRSTATION7")
        block.add_new(0x02, "DS", "1.5")
    if extra_identifiers:
        dataset.PatientAddress = "12 Made-up Road, Sometown"
        dataset.PatientTelephoneNumbers = "555-0100"
        dataset.OtherPatientNames = "Roe^Janet"
        dataset.EthnicGroup = "not stated"
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return as_bytes_array(buffer.getvalue())


def reference_deidentified(content: np.ndarray) -> dict:
    """What the de-identified slice must keep: :data:`KEPT_ELEMENTS` and its pixel data.

    Computed from the reference :func:`chdml.data.dicom.deidentify` (which keeps them),
    as ``{"kept": {keyword: value as text}, "pixel_sha256": hex}`` for the
    ``dicom_deidentified`` comparison.
    """
    import pydicom

    from chdml.data.dicom import deidentify, find_identifying

    dataset = pydicom.dcmread(io.BytesIO(np.asarray(content, dtype=np.uint8).tobytes()))
    clean = deidentify(dataset)
    if find_identifying(clean):  # the reference must pass its own check
        raise AssertionError(f"reference left {find_identifying(clean)}")
    kept = {key: str(clean.data_element(key).value) for key in KEPT_ELEMENTS if key in clean}
    return {"kept": kept, "pixel_sha256": hashlib.sha256(bytes(clean.PixelData)).hexdigest()}


# ------------------------------------------------------------------------------ images
def blob_volume(rng: np.random.Generator, shape, scale: float = 1000.0) -> np.ndarray:
    """A smooth, positive, non-constant test volume (bright discs on a grey background).

    Cheap to make (no anatomy), which is all a storing check needs: every voxel value
    is different enough to show a flipped, transposed or mis-scaled array.
    """
    shape = tuple(int(s) for s in shape)
    rows, columns = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    volume = np.zeros(shape if len(shape) == 3 else shape + (1,), dtype=np.float64)
    for k in range(volume.shape[2]):
        image = 0.2 + 0.1 * rows / shape[0] + 0.05 * columns / shape[1]
        for _ in range(3):
            centre = rng.uniform(0.2, 0.8, 2) * shape[:2]
            radius = rng.uniform(0.1, 0.25) * min(shape[:2])
            inside = (rows - centre[0]) ** 2 + (columns - centre[1]) ** 2 < radius ** 2
            image = image + rng.uniform(0.3, 0.8) * inside
        volume[:, :, k] = image * (1.0 + 0.1 * k) + rng.normal(0, 0.02, shape[:2])
    volume = np.clip(volume, 0, None) * scale
    return np.round(volume) if len(shape) == 3 else np.round(volume[:, :, 0])


def label_volume(rng: np.random.Generator, shape, labels=(0, 1, 2, 3)) -> np.ndarray:
    """A uint8 label map of nested discs (LV blood pool inside myocardium, RV beside)."""
    rows, columns = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    out = np.zeros(tuple(shape), dtype=np.uint8)
    for k in range(shape[2]):
        centre = rng.uniform(0.4, 0.6, 2) * shape[:2]
        radius = rng.uniform(0.15, 0.25) * min(shape[:2])
        distance = np.hypot(rows - centre[0], columns - centre[1])
        out[:, :, k][distance < radius * 1.35] = labels[2]
        out[:, :, k][distance < radius] = labels[1]
        rv = np.hypot(rows - centre[0], columns - (centre[1] - 1.9 * radius)) < radius * 0.9
        out[:, :, k][rv & (out[:, :, k] == 0)] = labels[3]
    return out
