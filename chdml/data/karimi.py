"""The public pediatric CHD cardiac MRI set of Karimi-Bidhendi et al. (2020).

``chdml data fetch karimi2020 --out DIR --structure LV|RV`` downloads the set from the
authors' repository at a pinned commit (every file sha256-checked, cached, resumable; see
:mod:`chdml.data.download`) and converts one structure to a chdml dataset folder
(:mod:`chdml.data.folder`).

The source
    64 children and adolescents (2-18 years) with congenital heart disease, scanned at
    Children's Hospital Los Angeles (1.5 T Philips Achieva or 3 T Philips Ingenia,
    bSSFP cine). For each subject and each of end-diastole (ED) and end-systole (ES) there
    is a short-axis image stack and a manual mask, once for the left-ventricular (LV) and
    once for the right-ventricular (RV) blood pool:
    ``<resampling>/<S>/Sbj_<i>_<S><ED|ES>_<image|mask>.mat`` with ``S`` in LV, RV.
    Each ``.mat`` holds one array, ``image`` (float64, ``slices x 128 x 128``, values
    0..255) or ``mask`` (0/1). The authors centre-cropped the original 512x512 images to
    445x445 and resized them to 128x128, once with nearest-neighbour (``nearest/``, the
    default here) and once with bicubic (``bicubic/``) down-sampling. ``Metadata.csv``
    gives per subject the disease, pixel size (dx, dy), slice thickness and spacing
    between slices. The official split: 26 training subjects (``TRAIN_SUBJECTS``) and
    38 test subjects (``TEST_SUBJECTS``), from the authors' README.

What chdml writes
    One dataset folder per structure: ``imagesTr/sbj01_ED_0000.nii.gz`` +
    ``labelsTr/sbj01_ED.nii.gz`` for the training subjects, ``imagesTs/`` + ``labelsTs/``
    for the test subjects; ``dataset.json`` (labels ``{"background": 0, "LV": 1}`` or
    ``{"background": 0, "RV": 3}``, the chdml label values, plus the citation and the
    terms) and ``cases.csv`` (case ``sbj01_ED``, patient ``sbj01``, split, phase, view
    ``SAX``, diagnosis from ``Metadata.csv``, spacing). Arrays are ``(rows, columns,
    slices)``: the ``.mat`` arrays ``(slices, rows, columns)`` transposed, slice order as
    in the source. Images float32 0..255, labels uint8 (mask >= 0.5 -> the label value).

Caveats for users
    - The LV and RV stacks of one patient are separate volumes and can have different
      slice counts (24 of the 26 training subjects at ED; subject 7: 10 LV and 9 RV
      slices), and so do the ED and ES stacks of one structure (all 26; subject 1, LV: 13
      at ED, 11 at ES); stacks have 5-19 slices. The authors kept the slices that contain
      the structure. Do not stack LV and RV masks into one label map.
    - The slice order is the authors' and is not consistent: judged by the LV mask areas,
      the LV area peaks in the second half of the stacks of subjects 1-39 (they appear
      to run apex to base) and in the first third for subjects 52-63 (base to apex).
      chdml keeps the authors' order. The affine is diagonal (no patient orientation is
      known).

Spacing: which image size does the pixel size refer to?
    ``Metadata.csv`` gives one pixel size per subject (1.36-2.84 mm) but not the image it
    belongs to: the original 512x512 images, or the 128x128 arrays in the ``.mat`` files
    (one 128-pixel covers 445/128 = 3.48 original pixels). Computing the end-diastolic LV
    blood-pool volume (mask voxels x voxel volume) of the 26 training subjects under both
    readings, with the slice spacing ``Spacing Between Slices``:

    ================================  ==========  ============  ==========
    pixel size refers to              LVEDV min   LVEDV median  LVEDV max
    ================================  ==========  ============  ==========
    the 128x128 arrays (chosen)       19 mL       108 mL        191 mL
    the 512x512 originals             234 mL      1302 mL       2306 mL
    ================================  ==========  ============  ==========

    Only the first is physiological for children (tens of mL in small children to about
    200 mL in adolescents); it also gives LV ejection fractions of 47-80 % and a larger
    RV than LV end-diastolic volume in the tetralogy patients (9 of 10; subject 28 has
    equal volumes; subject 29: RVEDV 293 mL, LVEDV 148 mL), as expected after repair.
    It also agrees with the stated in-plane resolution of 1.5-2 mm and gives a plausible
    field of view (subject 1: 128 x 1.90 mm = 243 mm cropped, 280 mm before cropping),
    while the second would imply 512 x 1.90 mm = 973 mm. So chdml uses
    spacing ``(dy, dx, Spacing Between Slices)`` in mm for the 128x128 arrays
    (``dy`` between rows, ``dx`` between columns; they are equal in every subject).
    The ``Acquisition Matrix`` column is not used.

Terms: the authors allow use of the data provided that the source and the study are
cited; :data:`CITATION` is printed on every fetch and stored in ``dataset.json``.
"""
from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path

import numpy as np

from chdml.data import download
from chdml.errors import UserError, describe_path

NAME = "karimi2020"
REPOSITORY = "saeedkarimi/Cardiac_MRI_Segmentation"
KARIMI_COMMIT = "1e0d483045cbcd4d172156152c6ab7e8169528a4"
DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/{REPOSITORY}/{KARIMI_COMMIT}/"
CITATION = ("Karimi-Bidhendi S. et al., \"Fully-automated deep-learning segmentation of "
            "pediatric cardiovascular magnetic resonance of patients with complex congenital "
            "heart diseases\", J Cardiovasc Magn Reson 22, 80 (2020), "
            "doi:10.1186/s12968-020-00678-0")
TERMS = ("The data may be used provided that the source of the data and the study are cited "
         f"(terms stated by the authors in https://github.com/{REPOSITORY}).")
TRAIN_SUBJECTS = (1, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 16, 24, 25, 28, 29, 31, 34, 39,
                  52, 53, 57, 58, 62, 63)
TEST_SUBJECTS = (2, 11, 13, 17, 18, 19, 20, 21, 22, 23, 26, 27, 30, 32, 33, 35, 36, 37, 38,
                 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 54, 55, 56, 59, 60, 61, 64)
STRUCTURES = {"LV": 1, "RV": 3}   # structure -> chdml label value
PHASES = ("ED", "ES")
SPLITS = ("train", "test", "all")
RESAMPLINGS = ("nearest", "bicubic")
_RESAMPLING_WORDS = {"nearest": "nearest-neighbour down-sampled", "bicubic": "bicubic down-sampled"}
METADATA_FILE = "Metadata.csv"
_METADATA_COLUMNS = ("Subjects", "Disease", "Pixel Size (dx)", "Pixel Size (dy)",
                     "Slice Thickness", "Spacing Between Slices")


@dataclasses.dataclass(frozen=True)
class SubjectInfo:
    """One row of ``Metadata.csv``; sizes in mm, pixel sizes for the 128x128 arrays."""

    subject: int
    diagnosis: str
    pixel_size: tuple[float, float]      # (dx between columns, dy between rows)
    slice_thickness: float
    slice_spacing: float                 # "Spacing Between Slices"

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size ``(row, column, slice)`` in mm, i.e. ``(dy, dx, slice spacing)``."""
        dx, dy = self.pixel_size
        return (dy, dx, self.slice_spacing)


def patient_id(subject: int) -> str:
    """``7`` -> ``'sbj07'``."""
    return f"sbj{subject:02d}"


def subjects_of(split: str) -> list[tuple[int, str]]:
    """``(subject, 'train'|'test')`` pairs for ``split`` in train, test, all (sorted)."""
    pairs = [(s, "train") for s in TRAIN_SUBJECTS] if split in ("train", "all") else []
    pairs += [(s, "test") for s in TEST_SUBJECTS] if split in ("test", "all") else []
    return sorted(pairs)


def source_path(resampling: str, structure: str, subject: int, phase: str, kind: str) -> str:
    """Path of one ``.mat`` file in the repository, e.g. ``nearest/LV/Sbj_1_LVED_image.mat``."""
    return f"{resampling}/{structure}/Sbj_{subject}_{structure}{phase}_{kind}.mat"


def source_files(structure: str, split: str = "all", resampling: str = "nearest") -> list[str]:
    """Every repository file a fetch of ``structure`` needs, ``Metadata.csv`` first."""
    files = [METADATA_FILE]
    for subject, _ in subjects_of(split):
        for phase in PHASES:
            for kind in ("image", "mask"):
                files.append(source_path(resampling, structure, subject, phase, kind))
    return files


def read_metadata(path: os.PathLike | str) -> dict[int, SubjectInfo]:
    """Parse ``Metadata.csv`` into ``{subject: SubjectInfo}``."""
    path = Path(path)
    info: dict[int, SubjectInfo] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        reader.fieldnames = [(c or "").strip() for c in (reader.fieldnames or [])]
        missing = [c for c in _METADATA_COLUMNS if c not in reader.fieldnames]
        if missing:
            raise UserError(f"{describe_path(path)} lacks the column(s) {', '.join(missing)}; "
                            "delete it from the cache and fetch again.")
        for line_no, row in enumerate(reader, start=2):
            try:
                subject = int(row["Subjects"])
                item = SubjectInfo(
                    subject=subject, diagnosis=row["Disease"].strip(),
                    pixel_size=(float(row["Pixel Size (dx)"]), float(row["Pixel Size (dy)"])),
                    slice_thickness=float(row["Slice Thickness"]),
                    slice_spacing=float(row["Spacing Between Slices"]))
            except (TypeError, ValueError) as exc:
                raise UserError(f"line {line_no} of {describe_path(path)} is not valid ({exc}); "
                                "delete the file from the cache and fetch again.") from None
            if min(item.spacing) <= 0 or not np.all(np.isfinite(item.spacing)):
                raise UserError(f"line {line_no} of {describe_path(path)} has a spacing that is "
                                "not a positive number; delete the file from the cache and "
                                "fetch again.")
            info[subject] = item
    return info


def read_mat(path: os.PathLike | str, key: str) -> np.ndarray:
    """The 3-D array ``key`` (``image`` or ``mask``) of a ``.mat`` file, ``(slices, rows, cols)``."""
    import scipy.io

    try:
        content = scipy.io.loadmat(str(path))
    except (OSError, ValueError, TypeError, NotImplementedError,
            scipy.io.matlab.MatReadError) as exc:
        raise UserError(f"cannot read {describe_path(path)} as a MATLAB file ({exc}); delete "
                        "it from the cache and fetch again.") from None
    if key not in content:
        raise UserError(f"{describe_path(path)} has no array {key!r} (it has "
                        f"{sorted(k for k in content if not k.startswith('__'))}); delete it "
                        "from the cache and fetch again.")
    array = np.asarray(content[key])
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3 or not np.all(np.isfinite(array)):
        raise UserError(f"{describe_path(path)}: {key!r} is not a finite 3-D stack (shape "
                        f"{array.shape}); delete it from the cache and fetch again.")
    return array


def to_volume(stack: np.ndarray) -> np.ndarray:
    """``(slices, rows, columns)`` -> chdml's ``(rows, columns, slices)``."""
    return np.ascontiguousarray(np.transpose(stack, (1, 2, 0)))


def mask_to_label(mask: np.ndarray, value: int, path: os.PathLike | str) -> np.ndarray:
    """A 0/1 mask (values in 0..1; >= 0.5 counts as inside) -> uint8 ``0``/``value``."""
    if mask.size and (mask.min() < 0 or mask.max() > 1):
        raise UserError(f"{describe_path(path)} is not a 0/1 mask (values "
                        f"{mask.min():g}..{mask.max():g}); delete it from the cache and fetch again.")
    return np.where(mask >= 0.5, value, 0).astype(np.uint8)


def _check_choice(value: str, choices, what: str) -> str:
    if value not in choices:
        raise UserError(f"unknown {what} {value!r}; use one of {', '.join(choices)}.")
    return value


def fetch_karimi2020(out: os.PathLike | str, structure: str, base_url: str | None = None,
                     cache: os.PathLike | str | None = None, overwrite: bool = False,
                     split: str = "all", resampling: str = "nearest",
                     show_progress: bool | None = True) -> Path:
    """Download (checked, cached) and convert one structure to the dataset folder ``out``.

    Args:
        out: dataset folder to create (atomically: complete, or not at all).
        structure: ``"LV"`` or ``"RV"``.
        base_url: where the repository files are (default: GitHub at the pinned commit).
        cache: download cache folder (default ``$CHDML_CACHE`` or the user cache).
        overwrite: replace ``out`` if it exists.
        split: ``"all"`` (the official 26 train + 38 test), ``"train"`` or ``"test"``.
        resampling: ``"nearest"`` (default) or ``"bicubic"`` down-sampled files.
        show_progress: progress bars (tqdm; widgets in a notebook); ``None`` shows them on
            a terminal only (what the command line does), ``False`` never.

    Returns:
        ``out`` as a Path. Raises :class:`UserError` for every user-fixable problem.
    """
    from tqdm.auto import tqdm

    from chdml.atomic import atomic_directory
    from chdml.data.folder import CaseRecord, image_path, label_path, write_metadata
    from chdml.data.nifti import save_image, save_label

    structure = str(structure).upper()
    if structure not in STRUCTURES:
        raise UserError(f"unknown structure {structure!r}; use LV (left-ventricular blood "
                        "pool) or RV (right-ventricular blood pool).")
    _check_choice(split, SPLITS, "split")
    _check_choice(resampling, RESAMPLINGS, "resampling")
    out = Path(out)
    if out.exists() and not overwrite:
        raise UserError(f"{describe_path(out)} already exists; choose another --out or add "
                        "--overwrite to replace it.")
    if out.exists() and not out.is_dir():
        raise UserError(f"{describe_path(out)} is a file, not a folder; choose another --out.")
    base_url = base_url or DEFAULT_BASE_URL
    cache_dir = download.cache_root(cache) / NAME

    print(f"Data: {CITATION}.\n{TERMS}", flush=True)
    checksums = download.read_registry(download.registry_path(NAME))
    wanted = source_files(structure, split, resampling)
    missing = [f for f in wanted if f not in checksums]
    if missing:
        raise UserError(f"the registry {describe_path(download.registry_path(NAME))} has no "
                        f"checksum for {missing[0]!r}; reinstall chdml.")
    files = download.fetch_files(((f, checksums[f]) for f in wanted), base_url, cache_dir,
                                 description=f"{NAME} {structure} download",
                                 show_progress=show_progress)
    metadata = read_metadata(files[METADATA_FILE])

    label_value = STRUCTURES[structure]
    records: list[CaseRecord] = []
    cases = [(s, sp, ph) for s, sp in subjects_of(split) for ph in PHASES]
    disable = None if show_progress is None else not show_progress
    with atomic_directory(out, overwrite=overwrite) as tmp:
        for subject, split_name, phase in tqdm(cases, desc=f"{NAME} {structure} convert",
                                               unit="case", disable=disable, dynamic_ncols=True):
            if subject not in metadata:
                raise UserError(f"{describe_path(files[METADATA_FILE])} has no row for subject "
                                f"{subject}; delete it from the cache and fetch again.")
            info = metadata[subject]
            image_file = files[source_path(resampling, structure, subject, phase, "image")]
            mask_file = files[source_path(resampling, structure, subject, phase, "mask")]
            image = read_mat(image_file, "image")
            mask = read_mat(mask_file, "mask")
            if image.shape != mask.shape:
                raise UserError(f"{describe_path(image_file)} ({image.shape}) and "
                                f"{describe_path(mask_file)} ({mask.shape}) differ in shape; "
                                "delete both from the cache and fetch again.")
            record = CaseRecord(case=f"{patient_id(subject)}_{phase}", patient=patient_id(subject),
                                split=split_name, phase=phase, view="SAX",
                                diagnosis=info.diagnosis, spacing=info.spacing)
            save_image(image_path(tmp, record), to_volume(image), spacing=info.spacing)
            save_label(label_path(tmp, record), to_volume(mask_to_label(mask, label_value, mask_file)),
                       spacing=info.spacing)
            records.append(record)
        write_metadata(
            tmp, records, {"background": 0, structure: label_value},
            name=f"{NAME}-{structure}",
            description=(f"Pediatric CHD cine MRI (Karimi-Bidhendi et al. 2020), {structure} "
                         f"blood pool, short-axis stacks at ED and ES, 128x128 "
                         f"{_RESAMPLING_WORDS[resampling]} images from {REPOSITORY} at commit "
                         f"{KARIMI_COMMIT}. Spacing: Metadata.csv pixel size (it refers to the "
                         "128x128 arrays) and Spacing Between Slices. LV and RV stacks of a "
                         "patient are separate volumes and can differ in slice count."),
            reference=CITATION, licence=TERMS)
    n_train = sum(r.split == "train" for r in records)
    n_test = len(records) - n_train
    print(f"Wrote {len(records)} {structure} cases ({n_train} train, {n_test} test, "
          f"{len({r.patient for r in records})} patients) to {out}.\n"
          f"Please cite: {CITATION}.", flush=True)
    return out


def main(name: str, out: str, structure: str, base_url: str | None = None,
         cache: str | None = None, overwrite: bool = False, split: str = "all",
         resampling: str = "nearest") -> int:
    """Entry point of ``chdml data fetch``."""
    if name != NAME:
        raise UserError(f"unknown dataset {name!r}; chdml can fetch: {NAME}.")
    fetch_karimi2020(out, structure, base_url=base_url, cache=cache, overwrite=overwrite,
                     split=split, resampling=resampling, show_progress=None)
    return 0
