"""Reading and writing NIfTI volumes with nibabel.

Array layout used everywhere in chdml: a volume is ``(rows, columns, slices)``, i.e.
NIfTI axes ``(i, j, k)``; a 2-D slice is ``volume[:, :, k]`` and is shown with
``plt.imshow(slice_)`` as it is. In chdml's synthetic short-axis stacks ``k`` runs from base
to apex; converted real data keep the order of their source (the pediatric CHD set's order
differs between patients), so do not rely on it without checking.
Single images (a long-axis view) are stored as ``(rows, columns, 1)``.

Images are float32, label maps uint8 (read through ``dataobj`` so that no scaling turns
them into floats). Spacing is in millimetres, ``(row, column, slice)``. On loading, the
volume is brought to nibabel's closest canonical (RAS+) orientation, so two files of
the same anatomy stored with different axis orders load the same way. Files are saved
atomically: a crash never leaves a half-written ``.nii.gz``.
"""
from __future__ import annotations

import dataclasses
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from chdml.atomic import atomic_path
from chdml.errors import UserError, describe_path

IMAGE_DTYPE = np.float32
LABEL_DTYPE = np.uint8


@dataclasses.dataclass
class Volume:
    """A 3-D image or label map with its geometry.

    Attributes:
        array: ``(rows, columns, slices)``; float32 for images, uint8 for labels.
        spacing: voxel size in mm, ``(row, column, slice)``.
        affine: 4x4 voxel-to-world matrix (mm), as stored in the NIfTI header.
    """

    array: np.ndarray
    spacing: tuple[float, float, float]
    affine: np.ndarray

    def __repr__(self) -> str:  # short and readable, as in TorchIO
        sp = "x".join(f"{s:g}" for s in self.spacing)
        return (f"Volume(shape={self.array.shape}, dtype={self.array.dtype}, "
                f"spacing={sp} mm)")

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in millilitres (1 mL = 1000 mm^3)."""
        return float(np.prod(self.spacing)) / 1000.0


def affine_from_spacing(spacing) -> np.ndarray:
    """A diagonal affine for ``spacing`` (mm), origin at zero."""
    spacing = [float(s) for s in spacing]
    if len(spacing) != 3 or not all(np.isfinite(spacing)) or min(spacing) <= 0:
        raise ValueError(f"spacing must be three positive numbers in mm, got {spacing}")
    return np.diag(spacing + [1.0])


def _load(path: os.PathLike | str):
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{describe_path(path)} does not exist; check the path "
                        "(use an absolute path if unsure).")
    try:
        img = nib.load(str(path))
        img = nib.as_closest_canonical(img)
        return img
    except (nib.filebasedimages.ImageFileError, OSError, EOFError, zlib.error,
            gzip.BadGzipFile, ValueError) as exc:
        raise UserError(f"cannot read {describe_path(path)} as NIfTI ({exc}); the file is "
                        "corrupt or not NIfTI: export or download it again.") from None


def _finish(img, path, data) -> tuple[np.ndarray, tuple[float, float, float], np.ndarray]:
    if data.ndim == 2:
        data = data[:, :, np.newaxis]
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[:, :, :, 0]
    if data.ndim != 3:
        raise UserError(f"{describe_path(path)} has {data.ndim} dimensions "
                        f"(shape {data.shape}); chdml expects one 3-D volume "
                        "(rows, columns, slices): split 4-D cine files into one file per phase.")
    zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
    if len(zooms) < 3:
        zooms = zooms + (1.0,) * (3 - len(zooms))
    return data, zooms, np.asarray(img.affine, dtype=np.float64)


def load_image(path: os.PathLike | str) -> Volume:
    """Load an image volume as float32 ``(rows, columns, slices)``.

    A 2-D file becomes ``(rows, columns, 1)``; a 4-D file with one frame is squeezed.
    Raises :class:`UserError` naming the file when it is missing, corrupt, truncated or
    not 2-D/3-D.
    """
    img = _load(path)
    try:
        data = np.asarray(img.get_fdata(dtype=np.float32), dtype=IMAGE_DTYPE)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise UserError(f"cannot read the voxels of {describe_path(path)} ({exc}); the file "
                        "is truncated or corrupt: export or download it again.") from None
    return Volume(*_finish(img, path, data))


def load_label(path: os.PathLike | str) -> Volume:
    """Load a label map as uint8 ``(rows, columns, slices)`` through ``dataobj``.

    Labels are read without scaling. Values that are not whole numbers in 0..255 raise
    :class:`UserError`, since they cannot be class labels.
    """
    img = _load(path)
    try:
        raw = np.asarray(img.dataobj)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise UserError(f"cannot read the voxels of {describe_path(path)} ({exc}); the file "
                        "is truncated or corrupt: export or download it again.") from None
    if raw.size and (not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw))
                     or raw.min() < 0 or raw.max() > 255):
        raise UserError(f"{describe_path(path)} is not a label map (values must be whole "
                        "numbers 0-255); check that you passed the mask, not the image.")
    return Volume(*_finish(img, path, raw.astype(LABEL_DTYPE)))


def save_volume(path: os.PathLike | str, array: np.ndarray, spacing=None, affine=None,
                kind: str = "image") -> Path:
    """Save ``array`` ``(rows, columns, slices)`` as NIfTI, atomically.

    Args:
        path: destination ending in ``.nii.gz`` (or ``.nii``).
        array: 2-D or 3-D array; 2-D is saved as ``(rows, columns, 1)``.
        spacing: voxel size in mm; used to build a diagonal affine when ``affine`` is None.
        affine: 4x4 matrix; its column norms become the header's voxel size.
        kind: ``"image"`` (stored float32) or ``"label"`` (stored uint8, values 0-255).

    Raises:
        UserError: ``path`` does not end in ``.nii.gz`` or ``.nii``.
        ValueError: a wrong array shape, a singular affine, or label values that are not
            whole numbers in 0..255 (nothing is written).
    """
    import nibabel as nib

    path = Path(path)
    if not (path.name.endswith(".nii.gz") or path.name.endswith(".nii")):
        raise UserError(f"{describe_path(path)} does not end in .nii.gz or .nii; give the "
                        "output file a NIfTI name such as 'scan.nii.gz'.")
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3:
        raise ValueError(f"save_volume expects a 2-D or 3-D array, got shape {array.shape}")
    if affine is None:
        affine = affine_from_spacing(spacing if spacing is not None else (1.0, 1.0, 1.0))
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4) or not np.all(np.isfinite(affine)) \
            or abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise ValueError("affine must be a finite 4x4 matrix with an invertible 3x3 part, "
                         f"got {affine.tolist()}")
    if kind == "label":
        if array.size and (not np.all(np.isfinite(array)) or array.min() < 0
                           or array.max() > 255 or np.any(array != np.round(array))):
            raise ValueError("label values must be whole numbers in 0..255")
        data = array.astype(LABEL_DTYPE)
    elif kind == "image":
        data = array.astype(IMAGE_DTYPE)
    else:
        raise ValueError(f"kind must be 'image' or 'label', got {kind!r}")
    img = nib.Nifti1Image(data, affine)
    img.header.set_data_dtype(data.dtype)
    img.header.set_xyzt_units("mm", "sec")
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    with atomic_path(path, suffix=".nii.gz" if str(path).endswith(".gz") else ".nii") as tmp:
        nib.save(img, str(tmp))
    return path


def save_image(path, array, spacing=None, affine=None) -> Path:
    """Save a float32 image volume; see :func:`save_volume`."""
    return save_volume(path, array, spacing=spacing, affine=affine, kind="image")


def save_label(path, array, spacing=None, affine=None) -> Path:
    """Save a uint8 label map; see :func:`save_volume`."""
    return save_volume(path, array, spacing=spacing, affine=affine, kind="label")
