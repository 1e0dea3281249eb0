"""Find every problem in a dataset folder (``chdml data check DIR``) or in arrays in memory.

:func:`check_folder` reads every case of a dataset folder (``imagesTr/``, ``labelsTr/``,
``imagesTs/``, ``labelsTs/``, ``dataset.json``, ``cases.csv``) and reports all problems it
finds, not just the first, as :class:`Problem` rows (file, problem, how to fix):

* files: unreadable, truncated or corrupt files (named); files that are not NIfTI; an image
  without its label map or a label map without its image;
* intensities: NaN or infinity, empty (all-zero) or constant images, constant slices;
* geometry: zero or missing voxel spacing in a header, image and label map of different
  shape, spacing or position;
* labels: values not listed in ``dataset.json``, label maps with no foreground;
* duplicates: identical 2-D slices within a case or across cases (compared by hash);
* metadata: missing or invalid ``dataset.json``; invalid rows in ``cases.csv``, cases listed
  there without files, files not listed there, the wrong split, a spacing that differs
  from the header;
* leakage: a case id in both splits, a patient with cases in both the train and the test
  split.

A folder without ``cases.csv`` (a public collection) is not a problem: patient ids then
come from the file names (:func:`chdml.data.collection.patient_from_case`).

:func:`find_broken_cases` does the same for 2-D images and masks already in memory; it is
the reference for the workshop-2 "cleaning data" exercise.
"""
from __future__ import annotations

import collections
import csv
import dataclasses
import gzip
import hashlib
import logging
import shutil
import textwrap
import zlib
from pathlib import Path

import numpy as np

from chdml.data import folder as dataset_folder
from chdml.data.collection import (SPLIT_FOLDERS, list_cases, patient_from_case,
                                   read_label_values)
from chdml.data.nifti import load_image, load_label
from chdml.errors import UserError, describe_path

__all__ = ["Problem", "check_folder", "format_report", "main", "find_broken_cases",
           "drop_broken_cases"]

SPACING_TOLERANCE = 1e-3   # relative, for comparing voxel sizes
POSITION_TOLERANCE = 1e-2  # mm, for comparing affines of an image and its label map


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem found in a dataset folder.

    Attributes:
        file: path relative to the dataset folder (``"."`` for the folder itself).
        kind: short machine-readable name, e.g. ``"unreadable"``, ``"nan"``,
            ``"duplicate-slice"`` (see :data:`KINDS`).
        problem: what is wrong, in one plain sentence.
        fix: what to do about it.
        case: the case id, when the problem belongs to one case.
    """

    file: str
    kind: str
    problem: str
    fix: str
    case: str | None = None


KINDS = (
    "no-images", "dataset-json", "cases-csv", "not-nifti", "unreadable", "missing-label",
    "missing-image", "not-in-cases-csv", "listed-without-file", "wrong-split", "nan",
    "empty-image", "constant-image", "constant-slices", "zero-spacing", "missing-spacing",
    "shape-mismatch", "spacing-mismatch", "position-mismatch", "spacing-differs-from-csv",
    "unknown-label", "empty-label", "duplicate-slice", "case-in-two-splits",
    "patient-in-two-splits",
)


@dataclasses.dataclass
class _Summary:
    cases: dict[str, int]
    slices: int
    has_cases_csv: bool


class _Checker:
    """Collects problems while walking one dataset folder."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.slice_hashes: dict[bytes, tuple[str, int]] = {}
        self.slices = 0

    def rel(self, path: Path) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    def add(self, path, kind: str, problem: str, fix: str, case: str | None = None) -> None:
        file = "." if path is None else self.rel(path)
        self.problems.append(Problem(file, kind, problem, fix, case))

    # ----------------------------------------------------------------- metadata files
    def dataset_json(self) -> dict[str, int] | None:
        path = self.root / "dataset.json"
        if not path.is_file():
            self.add(path, "dataset-json", "dataset.json is missing, so label values cannot "
                     "be checked", 'write it with the label names and values, e.g. '
                     '{"labels": {"background": 0, "LV": 1, "MYO": 2, "RV": 3}}')
            return None
        try:
            values = read_label_values(self.root)
        except UserError as exc:
            self.add(path, "dataset-json", _split_message(exc, path)[0],
                     'it needs a "labels" object such as {"background": 0, "LV": 1}')
            return None
        if 0 not in values.values():
            self.add(path, "dataset-json", "dataset.json has no background label (value 0)",
                     'add "background": 0 to its "labels"')
        return values

    def cases_csv(self) -> dict[str, dataset_folder.CaseRecord] | None:
        path = self.root / "cases.csv"
        if not path.is_file():
            return None
        records: dict[str, dataset_folder.CaseRecord] = {}
        try:
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                missing = {"case", "patient"} - set(reader.fieldnames or ())
                if missing:
                    self.add(path, "cases-csv", f"cases.csv has no column(s) "
                             f"{', '.join(sorted(missing))}",
                             "add the header line case,patient,split,phase,view,diagnosis,spacing")
                    return None
                for line_no, row in enumerate(reader, start=2):
                    record = self._case_row(path, line_no, row)
                    if record is None:
                        continue
                    if record.case in records:
                        self.add(path, "cases-csv", f"line {line_no}: case {record.case!r} is "
                                 "listed twice", "keep one row per case", record.case)
                        continue
                    records[record.case] = record
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            self.add(path, "cases-csv", f"cases.csv cannot be read ({exc})",
                     "save it again as UTF-8 CSV")
            return None
        return records

    def _case_row(self, path, line_no, row) -> dataset_folder.CaseRecord | None:
        case = (row.get("case") or "").strip()
        patient = (row.get("patient") or "").strip()
        if not case or not patient:
            self.add(path, "cases-csv", f"line {line_no}: the case or patient id is empty",
                     "fill in both ids or remove the row", case or None)
            return None
        split = row.get("split") or "train"
        if split not in SPLIT_FOLDERS:
            self.add(path, "cases-csv", f"line {line_no}: split {split!r} is not 'train' or "
                     "'test'", "use train or test", case)
            return None
        spacing_text = row.get("spacing") or ""
        try:
            spacing = dataset_folder.parse_spacing(spacing_text)
        except ValueError:
            self.add(path, "cases-csv", f"line {line_no}: spacing {spacing_text!r} is not "
                     "three numbers", "write row x column x slice in mm, e.g. 1.25x1.25x8",
                     case)
            spacing = None
        if spacing is not None and not (np.all(np.isfinite(spacing)) and min(spacing) > 0):
            self.add(path, "zero-spacing", f"line {line_no}: spacing {spacing_text!r} has a "
                     "zero, negative or missing value", "write the voxel size in mm from the "
                     "scanner, e.g. 1.25x1.25x8", case)
            spacing = None
        return dataset_folder.CaseRecord(
            case=case, patient=patient, split=split, phase=row.get("phase") or "",
            view=row.get("view") or "", diagnosis=row.get("diagnosis") or
            row.get("phenotype") or "", spacing=spacing or (0.0, 0.0, 0.0))

    # ----------------------------------------------------------------- one case
    def header_spacing(self, path: Path, case: str) -> bool:
        """Report zero or missing spacing in the raw header; True when the spacing is usable.

        nibabel silently replaces a zero spacing by 1 when loading, so the raw header is read.
        """
        header = _raw_header(path)
        if header is None:
            return True  # unreadable: reported when the voxels are loaded
        pixdim = np.asarray(header["pixdim"][1:4], dtype=np.float64)
        if not np.all(np.isfinite(pixdim)) or np.any(pixdim <= 0):
            self.add(path, "zero-spacing", f"the header's voxel spacing is "
                     f"{_format(pixdim)} mm: zero, negative or not a number",
                     "export the file again with its true spacing (or set it with "
                     "nibabel: img.header.set_zooms)", case)
            return False
        if (np.all(pixdim == 1.0) and header.get_xyzt_units()[0] == "unknown"
                and int(header["qform_code"]) == 0 and int(header["sform_code"]) == 0):
            self.add(path, "missing-spacing", "the header has no spacing (1x1x1 with no unit "
                     "and no orientation: the default of a file written without an affine)",
                     "export the file again with its true spacing and orientation", case)
            return False
        return True

    def case(self, split: str, files, label_values, record) -> None:
        case = files.case
        spacing_ok = self.header_spacing(files.image, case)
        image = self.load(files.image, load_image, case)
        label = None
        if files.label is not None:
            spacing_ok = self.header_spacing(files.label, case) and spacing_ok
            label = self.load(files.label, load_label, case)
        if image is not None:
            self.image_content(files.image, image.array, case)
            listed = record.spacing if record is not None else (0.0, 0.0, 0.0)
            if (spacing_ok and listed != (0.0, 0.0, 0.0)
                    and not np.allclose(listed, image.spacing, rtol=SPACING_TOLERANCE)):
                self.add(files.image, "spacing-differs-from-csv", f"cases.csv gives spacing "
                         f"{_format(record.spacing)} mm but the header has "
                         f"{_format(image.spacing)} mm",
                         "correct cases.csv (chdml uses the header's spacing)", case)
        if label is not None:
            self.label_content(files.label, label.array, label_values, case)
        if image is not None and label is not None:
            self.pair(files, image, label, case, compare_spacing=spacing_ok)

    def load(self, path, loader, case):
        try:
            return loader(path)
        except UserError as exc:
            truncated = _truncation(path)
            if truncated:
                self.add(path, "unreadable", f"the file is truncated: {truncated}",
                         "copy, export or download it again (an interrupted copy or "
                         "download leaves such files)", case)
            else:
                problem, fix = _split_message(exc, path)
                self.add(path, "unreadable", problem,
                         fix or "export or download it again, or remove the case", case)
            return None

    def image_content(self, path, array: np.ndarray, case: str) -> None:
        finite = np.isfinite(array)
        if not finite.all():
            bad = int((~finite).sum())
            self.add(path, "nan", f"{bad} voxel(s) are NaN or infinite", "re-export the image "
                     "or remove the case (NaN spreads through training)", case)
            return
        low, high = float(array.min()), float(array.max())
        if high == 0.0 and low == 0.0:
            self.add(path, "empty-image", "the image is empty (every voxel is 0)",
                     "remove the case or export the image again", case)
            return
        if high == low:
            self.add(path, "constant-image", f"the image is constant (every voxel is {low:g})",
                     "remove the case or export the image again", case)
            return
        slices = np.moveaxis(array, -1, 0)
        flat = slices.reshape(len(slices), -1)
        constant = np.flatnonzero(flat.min(axis=1) == flat.max(axis=1))
        if len(constant):
            self.add(path, "constant-slices", f"slice(s) {_list(constant)} of {len(slices)} "
                     "are constant (no image content)",
                     "crop the stack to the slices with content, or drop those slices", case)
        constant_set = set(constant.tolist())
        for k, slice_ in enumerate(slices):
            self.slices += 1
            if k in constant_set:
                continue
            digest = hashlib.blake2b(np.ascontiguousarray(slice_).tobytes()
                                     + str(slice_.shape).encode(), digest_size=16).digest()
            first = self.slice_hashes.setdefault(digest, (self.rel(path), k))
            if first != (self.rel(path), k):
                where = (f"slice {first[1]} of the same file" if first[0] == self.rel(path)
                         else f"slice {first[1]} of {first[0]}")
                self.add(path, "duplicate-slice", f"slice {k} is identical to {where}",
                         "remove the copy (duplicates inflate results, and across patients "
                         "they leak between training and test)", case)

    def label_content(self, path, array: np.ndarray, label_values, case: str) -> None:
        present = np.unique(array)
        if label_values is not None:
            unknown = sorted(set(present.tolist()) - set(label_values.values()))
            if unknown:
                listed = ", ".join(f"{v} {k}" for k, v in sorted(label_values.items(),
                                                                  key=lambda kv: kv[1]))
                self.add(path, "unknown-label", f"label value(s) {_list(unknown)} are not in "
                         f"dataset.json ({listed})", "fix the label map, or add the label "
                         "to dataset.json", case)
        if present.size and present.max() == 0:
            self.add(path, "empty-label", "the label map is all background (no structure "
                     "drawn)", "draw the structures, or move the image to the unlabelled "
                     "test split", case)

    def pair(self, files, image, label, case: str, compare_spacing: bool = True) -> None:
        if image.array.shape != label.array.shape:
            self.add(files.label, "shape-mismatch", f"the label map has shape "
                     f"{label.array.shape} but its image has {image.array.shape}",
                     "export the label map on the image's grid (same rows, columns, slices)",
                     case)
        if not compare_spacing:
            return  # a zero or missing spacing is already reported; comparing it says nothing
        if not np.allclose(image.spacing, label.spacing, rtol=SPACING_TOLERANCE):
            self.add(files.label, "spacing-mismatch", f"the label map has spacing "
                     f"{_format(label.spacing)} mm but its image has "
                     f"{_format(image.spacing)} mm", "export the label map with the image's "
                     "header (same spacing)", case)
        elif not np.allclose(image.affine, label.affine, atol=POSITION_TOLERANCE):
            self.add(files.label, "position-mismatch", "the label map and its image have the "
                     "same spacing but a different origin or orientation in the header",
                     "copy the image's affine into the label map", case)


def _format(values) -> str:
    return "x".join(f"{float(v):g}" for v in values)


def _list(values, limit: int = 8) -> str:
    values = [str(v) for v in values]
    if len(values) > limit:
        return ", ".join(values[:limit]) + f" (+{len(values) - limit} more)"
    return ", ".join(values)


def _split_message(exc: Exception, path) -> tuple[str, str]:
    """A UserError sentence "<problem>; <fix>." as (problem, fix), the path said as "the file".
    """
    text = str(exc).replace(describe_path(path), "the file")
    problem, _, fix = text.partition("; ")
    return problem, fix.rstrip(".")


def _raw_header(path: Path):
    """The NIfTI header exactly as stored (no repairs), or None when it cannot be read."""
    import nibabel as nib

    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            return nib.Nifti1Header.from_fileobj(fh, check=False)
    except Exception:  # noqa: BLE001 - any failure means "unreadable", reported elsewhere
        return None


def _truncation(path: Path) -> str:
    """Describe how ``path`` is truncated, or return "" when it is not (or unknown)."""
    path = Path(path)
    try:
        if str(path).endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                while fh.read(1 << 20):
                    pass
            return ""
        header = _raw_header(path)
        if header is None:
            return ""
        expected = int(header.get_data_offset()) + int(
            np.prod(header.get_data_shape()) * header.get_data_dtype().itemsize)
        size = path.stat().st_size
        return f"{size} of {expected} bytes" if size < expected else ""
    except EOFError:
        return "the compressed data ends before its end marker"
    except (OSError, zlib.error) as exc:
        return f"the compressed data is damaged ({exc})" if "gzip" not in str(exc) else ""


def _check(folder, progress: bool = True) -> tuple[list[Problem], _Summary]:
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"the dataset folder {describe_path(root)} does not exist; check the "
                        "path (make a dataset with 'chdml data synth --out DIR').")
    checker = _Checker(root)
    label_values = checker.dataset_json()
    records = checker.cases_csv()
    listings = {split: list_cases(root, split) for split in SPLIT_FOLDERS}

    found: dict[str, str] = {}        # case -> split, for cases with an image
    any_file: set[str] = set()        # cases with an image or a label map
    work = []
    for split, files in listings.items():
        any_file.update(c.case for c in files.cases)
        for path in files.not_nifti:
            checker.add(path, "not-nifti", "not a NIfTI file (.nii.gz or .nii)",
                        "move it out of the dataset folder")
        labels_expected = split == "train" or files.has_labels
        for case_files in files.cases:
            if case_files.image is None:
                checker.add(case_files.label, "missing-image", "label map without an image "
                            f"(expected {files.image_folder.name}/{case_files.case}_0000.nii.gz)",
                            "add the image or remove the label map", case_files.case)
                continue
            if case_files.case in found:
                checker.add(case_files.image, "case-in-two-splits", "the case id is also in "
                            f"{SPLIT_FOLDERS[found[case_files.case]][0]}/",
                            "keep each case in one split (rename or remove one copy)",
                            case_files.case)
            found[case_files.case] = split
            if case_files.label is None and labels_expected:
                checker.add(case_files.image, "missing-label", "image without a label map "
                            f"(expected {files.label_folder.name}/{case_files.case}.nii.gz)",
                            "add the label map or remove the image", case_files.case)
            work.append((split, case_files))
    if not work:
        image_folders = " or ".join(f"{images}/" for images, _ in SPLIT_FOLDERS.values())
        checker.add(None, "no-images", f"no images in {image_folders}",
                    "point 'chdml data check' at the folder that contains imagesTr/")

    iterator = work
    if progress:
        from tqdm.auto import tqdm
        iterator = tqdm(work, desc="checking", unit="case", leave=False,
                        disable=None if len(work) >= 10 else True)
    nibabel_logger = logging.getLogger("nibabel.global")
    level = nibabel_logger.level
    nibabel_logger.setLevel(logging.ERROR)  # "setting 0 dims to 1": we report it ourselves
    try:
        for split, case_files in iterator:
            record = records.get(case_files.case) if records else None
            checker.case(split, case_files, label_values, record)
    finally:
        nibabel_logger.setLevel(level)

    if records is not None:
        image_files = {c.case: c.image for split, c in work}
        for case, split in found.items():
            record = records.get(case)
            listing = listings[split]
            image = image_files[case]
            if record is None:
                checker.add(image, "not-in-cases-csv", "the case is not listed in cases.csv",
                            "add a row (case, patient, split, ...) or remove the files", case)
            elif record.split != split:
                checker.add(image, "wrong-split", f"cases.csv puts the case in the {record.split} "
                            f"split but the file is in {listing.image_folder.name}/",
                            "move the files or correct the split in cases.csv", case)
        for case, record in records.items():
            if case not in any_file:  # (a label map without image is reported above)
                expected = dataset_folder.image_path(root, record)
                checker.add(expected, "listed-without-file", "listed in cases.csv but the "
                            "image file does not exist", "add the file or remove the row "
                            "from cases.csv", case)
    _patient_leakage(checker, work, records or {})
    summary = _Summary(cases=collections.Counter(split for split, _ in work),
                       slices=checker.slices, has_cases_csv=records is not None)
    return checker.problems, summary


def _patient_leakage(checker: _Checker, work, records) -> None:
    """A patient with cases in both the train and the test split (from cases.csv, or from
    the file names when a case is not listed)."""
    splits: dict[str, dict[str, list[str]]] = {}
    for split, case_files in work:
        record = records.get(case_files.case)
        patient = record.patient if record else patient_from_case(case_files.case)
        splits.setdefault(patient, {}).setdefault(split, []).append(case_files.case)
    for patient, by_split in sorted(splits.items()):
        if len(by_split) > 1:
            listed = "; ".join(f"{split}: {', '.join(cases)}" for split, cases in
                               sorted(by_split.items(), reverse=True))
            checker.add(checker.root / "cases.csv" if records else None, "patient-in-two-splits",
                        f"patient {patient} has cases in both splits ({listed}), so the test "
                        "score would be inflated", "move all of this patient's cases into one "
                        "split")


def check_folder(folder, progress: bool = True) -> list[Problem]:
    """Every problem in the dataset folder ``folder``, in the order found.

    Returns an empty list for a clean folder. Raises :class:`UserError` only when
    ``folder`` does not exist; every problem inside it is returned, not raised. Each case
    is read once (image and label map); ``progress`` shows a bar for 10 cases or more.

    Example:
        >>> for problem in check_folder("my_dataset"):
        ...     print(problem.file, problem.problem)
    """
    return _check(folder, progress=progress)[0]


def format_report(problems: list[Problem], width: int | None = None) -> str:
    """A plain-text table of ``problems``: file | problem | how to fix, wrapped, by file."""
    if width is None:
        width = max(100, min(160, shutil.get_terminal_size((120, 20)).columns))
    headers = ("file", "problem", "how to fix")
    file_width = min(40, max([len(headers[0])] + [len(p.file) for p in problems]))
    rest = width - file_width - 6
    problem_width = max(20, rest * 11 // 20)
    fix_width = max(20, rest - problem_width)
    widths = (file_width, problem_width, fix_width)

    def row(cells):
        wrapped = [textwrap.wrap(text, w, break_long_words=True) or [""]
                   for text, w in zip(cells, widths)]
        lines = []
        for i in range(max(len(w) for w in wrapped)):
            lines.append("  ".join((w[i] if i < len(w) else "").ljust(width_)
                                   for w, width_ in zip(wrapped, widths)).rstrip())
        return lines

    out = row(headers)
    out.append("  ".join("-" * w for w in widths))
    for problem in sorted(problems, key=lambda p: p.file):   # stable: one file's rows together
        out.extend(row((problem.file, problem.problem, problem.fix)))
    return "\n".join(out)


def main(folder, progress: bool = True) -> int:
    """``chdml data check DIR``: print a report; 0 when clean, 1 when problems were found."""
    problems, summary = _check(folder, progress=progress)
    counted = ", ".join(f"{n} {split}" for split, n in sorted(summary.cases.items())) or "0"
    scope = f"{sum(summary.cases.values())} cases ({counted}), {summary.slices} slices"
    if not summary.has_cases_csv:
        print(f"note: {describe_path(Path(folder) / 'cases.csv')} is missing; patient ids "
              "come from the file names.")
    if not problems:
        print(f"OK: no problems found in {describe_path(folder)}: {scope}.")
        return 0
    kinds = collections.Counter(p.kind for p in problems)
    files = len({p.file for p in problems})
    print(format_report(problems))
    print()
    print(f"{len(problems)} problem(s) in {files} file(s) of {describe_path(folder)} "
          f"({scope}): " + ", ".join(f"{n} {k}" for k, n in kinds.most_common()) + ".")
    return 1


# --------------------------------------------------------------------------- in memory
def _as_image_list(images) -> list[np.ndarray]:
    if isinstance(images, np.ndarray):
        if images.ndim == 4 and images.shape[-1] == 1:
            images = images[..., 0]
        if images.ndim != 3:
            raise ValueError(f"expected images as (N, H, W), (N, H, W, 1) or a list of 2-D "
                             f"arrays; got an array of shape {images.shape}")
        return list(images)
    return [np.asarray(image) for image in images]


def _squeeze_channel(array: np.ndarray) -> np.ndarray:
    return array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array


def find_broken_cases(images, masks=None, expected_shape=None) -> list[tuple[int, str]]:
    """Find the broken 2-D images (and masks) in memory; the reference for workshop 2.

    Args:
        images: ``(N, H, W)``, ``(N, H, W, 1)`` or a list of N arrays (which may have
            different shapes; ``(H, W, 1)`` counts as ``(H, W)``).
        masks: optional masks in the same layouts, one per image (``None`` entries allowed
            in a list).
        expected_shape: the right ``(H, W)``; default: the most common image shape (ties:
            the shape seen first).

    Rules, checked for each image ``i`` in this order (all that apply are reported):

    1. **wrong shape**: not 2-D, or ``(H, W)`` differs from ``expected_shape``;
    2. **NaN or infinity** anywhere in the image;
    3. **empty**: every pixel is 0;
    4. **constant**: every pixel has the same non-zero value;
    5. **mask mismatch**: the mask's shape differs from the image's, or the mask is not a
       label map (NaN, negative or fractional values);
    6. **duplicate**: identical (same shape, same values) to an earlier image ``j`` that is
       itself of the right shape, finite and not constant; the first copy is kept.

    An empty *mask* is not a problem (many slices show no heart).

    Returns:
        ``[(index, reason), ...]`` sorted by index, one entry per broken image; ``reason``
        joins the reasons with ``"; "``. Drop exactly these indices to clean the set.

    Example:
        >>> images = np.random.default_rng(0).random((4, 8, 8))
        >>> images[1] = np.nan; images[3] = images[0]
        >>> find_broken_cases(images)
        [(1, 'contains NaN or infinity'), (3, 'duplicate of image 0')]
    """
    image_list = [_squeeze_channel(image) for image in _as_image_list(images)]
    mask_list = None
    if masks is not None:
        mask_list = [None if m is None else _squeeze_channel(np.asarray(m))
                     for m in (_as_image_list(masks) if isinstance(masks, np.ndarray)
                               else masks)]
        if len(mask_list) != len(image_list):
            raise ValueError(f"{len(image_list)} images but {len(mask_list)} masks; pass one "
                             "mask per image")
    if expected_shape is None:
        shapes = [image.shape for image in image_list if image.ndim == 2]
        counts = collections.Counter(shapes)
        expected_shape = (max(counts, key=lambda s: (counts[s], -shapes.index(s)))
                          if shapes else None)
    expected_shape = None if expected_shape is None else tuple(expected_shape)

    broken: list[tuple[int, str]] = []
    first_copy: dict[bytes, int] = {}
    for i, image in enumerate(image_list):
        reasons = []
        right_shape = image.ndim == 2 and image.shape == expected_shape
        if not right_shape:
            reasons.append(f"wrong shape {image.shape}, expected {expected_shape}")
        values = np.asarray(image, dtype=np.float64)
        finite = bool(np.all(np.isfinite(values))) if image.size else True
        constant = False
        if not finite:
            reasons.append("contains NaN or infinity")
        elif image.size:
            low, high = values.min(), values.max()
            if low == high == 0:
                reasons.append("empty (every pixel is 0)")
                constant = True
            elif low == high:
                reasons.append(f"constant (every pixel is {float(low):g})")
                constant = True
        if mask_list is not None and mask_list[i] is not None:
            mask = mask_list[i]
            if mask.shape != image.shape:
                reasons.append(f"mask shape {mask.shape} does not match image shape "
                               f"{image.shape}")
            elif mask.size and (not np.all(np.isfinite(mask)) or np.any(mask < 0)
                                or np.any(mask != np.round(mask))):
                reasons.append("mask is not a label map (values must be whole numbers >= 0)")
        if right_shape and finite and not constant:
            digest = hashlib.blake2b(np.ascontiguousarray(values).tobytes(),
                                     digest_size=16).digest()
            j = first_copy.setdefault(digest, i)
            if j != i:
                reasons.append(f"duplicate of image {j}")
        if reasons:
            broken.append((i, "; ".join(reasons)))
    return broken


def drop_broken_cases(images, masks=None, expected_shape=None):
    """Remove what :func:`find_broken_cases` finds.

    Returns ``(clean_images, clean_masks, broken)``: the kept images (and masks; None when
    no masks were given) stacked into arrays, and the ``[(index, reason)]`` list. Images
    keep their channel axis if they had one.
    """
    broken = find_broken_cases(images, masks, expected_shape)
    dropped = {i for i, _ in broken}

    def keep(items):
        kept = [np.asarray(item) for i, item in enumerate(items) if i not in dropped]
        return np.stack(kept) if kept else np.zeros((0,))

    clean_masks = None if masks is None else keep(masks)
    return keep(images), clean_masks, broken
