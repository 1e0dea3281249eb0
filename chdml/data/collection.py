"""Load any NIfTI collection in the ``imagesTr/labelsTr`` layout as 2-D slices or 3-D cases.

Works on chdml's own dataset folders and on public collections arranged the nnU-Net /
Medical Segmentation Decathlon way (ACDC, M&Ms, HVSMR after their own download and
conversion)::

    DIR/imagesTr/<case>_0000.nii.gz     (or <case>.nii.gz, Decathlon style)
    DIR/labelsTr/<case>.nii.gz
    DIR/imagesTs/...  DIR/labelsTs/...  (test split, labels optional)
    DIR/dataset.json                    (optional here: label names)
    DIR/cases.csv                       (optional here: patient, phase, view, diagnosis)

**Case ids** are file names without ``.nii.gz``/``.nii`` and without the nnU-Net channel
suffix ``_0000``. Only channel 0 is loaded (cine MRI has one channel); files of other
channels (``_0001`` ...) are ignored.

**Patient ids** come from ``cases.csv`` when the case is listed there. Otherwise they are
derived from the case id by :func:`patient_from_case`: trailing phase, frame or view parts
are removed, at most two of them, e.g. ``patient001_frame01`` -> ``patient001`` (ACDC,
M&Ms after nnU-Net conversion), ``p007_ED_SAX`` -> ``p007``; anything else is its own
patient (``la_003`` -> ``la_003``). Pass ``patient_from_case=`` your own function when
your names follow another rule. Slices of one patient must never be split across
training and test sets (:mod:`chdml.data.split`), so check the rule on your names.

**Label values.** chdml uses 0 background, 1 LV blood pool, 2 LV myocardium, 3 RV blood
pool. Other collections number them differently (ACDC: 1 RV, 2 myocardium, 3 LV);
``labels="chdml"`` renumbers by the names in ``dataset.json``.
"""
from __future__ import annotations

import dataclasses
import json
import re
import warnings
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from chdml.data import folder as dataset_folder
from chdml.data.nifti import Volume, load_image, load_label
from chdml.data.preprocess import crop_or_pad_to_square, resize
from chdml.errors import UserError, describe_path

__all__ = ["CaseFiles", "SplitFiles", "list_cases", "patient_from_case", "read_label_values",
           "chdml_label_map", "SliceSet", "load_slices", "CaseVolumes", "load_volumes"]

SPLIT_FOLDERS = {"train": ("imagesTr", "labelsTr"), "test": ("imagesTs", "labelsTs")}
NIFTI_ENDINGS = (".nii.gz", ".nii")
_CHANNEL = re.compile(r"^(?P<case>.+)_(?P<channel>\d{4})$")
_PATIENT_SUFFIX = re.compile(
    r"[_-](ED|ES|frame\d+|fr\d+|phase\d+|time\d+|t\d+|SAX|SA|LAX|2CH|3CH|4CH|OT|LVOT|RVOT)$",
    re.IGNORECASE)

# Names used by public collections for chdml's three structures (lower case).
_LABEL_SYNONYMS = {
    0: ("background", "bg", "bkg"),
    1: ("lv", "lvc", "lvbp", "lv blood pool", "lv cavity", "left ventricle",
        "left-ventricular blood pool", "left ventricular cavity", "lv_cavity"),
    2: ("myo", "mlv", "lvm", "myocardium", "lv myocardium", "left ventricular myocardium",
        "left-ventricular myocardium", "lv_myo"),
    3: ("rv", "rvc", "rvbp", "rv blood pool", "rv cavity", "right ventricle",
        "right-ventricular blood pool", "right ventricular cavity", "rv_cavity"),
}


# --------------------------------------------------------------------------- finding files
@dataclasses.dataclass(frozen=True)
class CaseFiles:
    """The files of one case: its image and (if any) its label map."""

    case: str
    image: Path | None
    label: Path | None


@dataclasses.dataclass
class SplitFiles:
    """What lies in one split's folders, paired by case id; nothing is read or judged.

    Attributes:
        cases: one :class:`CaseFiles` per case id found in either folder, sorted by id.
        other_channels: image files of channels other than ``_0000`` (ignored by chdml).
        not_nifti: files that are not ``.nii``/``.nii.gz`` (hidden files are skipped).
        image_folder, label_folder: the two folders (they may not exist).
    """

    cases: list[CaseFiles]
    other_channels: list[Path]
    not_nifti: list[Path]
    image_folder: Path
    label_folder: Path

    @property
    def has_images(self) -> bool:
        return any(c.image is not None for c in self.cases)

    @property
    def has_labels(self) -> bool:
        return any(c.label is not None for c in self.cases)


def _strip_ending(name: str) -> str | None:
    for ending in NIFTI_ENDINGS:
        if name.endswith(ending) and len(name) > len(ending):
            return name[: -len(ending)]
    return None


def _nifti_files(directory: Path):
    """(stem, path) of each NIfTI file in ``directory`` and the list of other files."""
    found, others = [], []
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.name.startswith(".") or path.is_dir():
                continue
            stem = _strip_ending(path.name)
            if stem is None:
                others.append(path)
            else:
                found.append((stem, path))
    return found, others


def list_cases(folder, split: str = "train") -> SplitFiles:
    """Pair the image and label files of ``split`` (``"train"`` or ``"test"``) by case id.

    Nothing is loaded and nothing is judged (a case may lack its image or its label):
    :func:`load_slices` raises on such gaps, :func:`chdml.data.check.check_folder` reports
    them. Raises :class:`UserError` only when ``folder`` does not exist.
    """
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"the dataset folder {describe_path(root)} does not exist; check the "
                        "path (make a dataset with 'chdml data synth --out DIR').")
    if split not in SPLIT_FOLDERS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    image_folder, label_folder = (root / name for name in SPLIT_FOLDERS[split])
    images: dict[str, Path] = {}
    other_channels: list[Path] = []
    image_files, not_nifti = _nifti_files(image_folder)
    for stem, path in image_files:
        match = _CHANNEL.match(stem)
        if match and match["channel"] != "0000":
            other_channels.append(path)
            continue
        case = match["case"] if match else stem
        if case in images:  # both 'x.nii.gz' and 'x_0000.nii.gz': keep the nnU-Net one
            path = path if match else images[case]
        images[case] = path
    label_files, label_others = _nifti_files(label_folder)
    labels = dict(label_files)
    cases = [CaseFiles(case, images.get(case), labels.get(case))
             for case in sorted(set(images) | set(labels))]
    return SplitFiles(cases, other_channels, not_nifti + label_others, image_folder,
                      label_folder)


def patient_from_case(case: str) -> str:
    """Patient id from a case id when no ``cases.csv`` says otherwise.

    Removes up to two trailing parts naming a phase, frame or view, separated by ``_`` or
    ``-``: ``ED``, ``ES``, ``frame<N>``, ``fr<N>``, ``phase<N>``, ``time<N>``, ``t<N>``,
    ``SAX``/``SA``/``LAX``, ``2CH``/``3CH``/``4CH``, ``OT``/``LVOT``/``RVOT`` (any case).

    Example:
        >>> patient_from_case("patient001_frame12"), patient_from_case("p007_ES_4CH")
        ('patient001', 'p007')
        >>> patient_from_case("la_003")
        'la_003'
    """
    patient = case
    for _ in range(2):
        stripped = _PATIENT_SUFFIX.sub("", patient)
        if not stripped or stripped == patient:
            break
        patient = stripped
    return patient


# --------------------------------------------------------------------------- label values
def read_label_values(folder) -> dict[str, int] | None:
    """Label name -> value from ``dataset.json``, or None when the folder has none.

    Accepts chdml / nnU-Net v2 style (``{"background": 0, "LV": 1}``) and Decathlon style
    (``{"0": "background", "1": "LV"}``). Raises :class:`UserError` naming the file when
    it exists but cannot be read.
    """
    path = Path(folder) / "dataset.json"
    if not path.is_file():
        return None
    try:
        return dataset_folder.read_labels(folder)
    except UserError:
        pass
    try:  # Decathlon style: value -> name
        labels = json.loads(path.read_text(encoding="utf-8"))["labels"]
        return {str(name): int(value) for value, name in labels.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return dataset_folder.read_labels(folder)  # raises the standard message


def chdml_label_map(label_values: dict[str, int]) -> dict[int, int]:
    """Map a collection's label values to chdml's (1 LV, 2 myocardium, 3 RV) by their names.

    ``{"background": 0, "RV": 1, "MLV": 2, "LVC": 3}`` (ACDC) -> ``{0: 0, 1: 3, 2: 2, 3: 1}``.
    Names chdml does not know (e.g. "aorta") are left out, so they become background.
    """
    mapping = {}
    for name, value in label_values.items():
        key = name.strip().lower()
        for target, synonyms in _LABEL_SYNONYMS.items():
            if key in synonyms:
                mapping[int(value)] = target
    return mapping


def _label_mapping(labels, label_values: dict[str, int] | None, root: Path
                   ) -> dict[int, int] | None:
    """Turn the ``labels`` argument into {value in file: value in output} (None: keep all)."""
    if labels is None:
        return None
    names = label_values if label_values is not None else dict(dataset_folder.LABELS)
    if isinstance(labels, str) and labels == "chdml":
        if label_values is None:
            raise UserError(f"labels='chdml' needs label names, but {describe_path(root)} has "
                            "no dataset.json; pass a mapping such as labels={1: 3, 3: 1}.")
        mapping = chdml_label_map(label_values)
        if len([v for v in mapping.values() if v]) == 0:
            raise UserError(f"none of the label names in {describe_path(root / 'dataset.json')} "
                            f"({', '.join(label_values)}) is one chdml knows (LV, MYO, RV); "
                            "pass a mapping such as labels={1: 3, 3: 1}.")
        return mapping
    if isinstance(labels, dict):
        return {int(k): int(v) for k, v in labels.items()}
    mapping = {}
    for item in ([labels] if isinstance(labels, (str, int, np.integer)) else labels):
        if isinstance(item, str):
            if item not in names:
                raise ValueError(f"unknown label name {item!r}; known names: "
                                 f"{', '.join(names)}")
            item = names[item]
        mapping[int(item)] = int(item)
    return mapping


def _apply_mapping(mask: np.ndarray, mapping: dict[int, int] | None) -> np.ndarray:
    if mapping is None:
        return mask
    lookup = np.zeros(256, dtype=np.uint8)
    for source, target in mapping.items():
        if 0 <= source <= 255:
            lookup[source] = target
    return lookup[mask]


# --------------------------------------------------------------------------- case metadata
def _read_records(root: Path) -> dict[str, dataset_folder.CaseRecord]:
    if not (root / "cases.csv").is_file():
        return {}
    return {record.case: record for record in dataset_folder.read_cases(root)}


def _resolve_split(root: Path, split: str, with_masks: bool | None) -> tuple[SplitFiles, bool]:
    """List the split's cases and decide whether masks are loaded; raise on gaps."""
    files = list_cases(root, split)
    images_name, labels_name = SPLIT_FOLDERS[split]
    if not files.has_images:
        if files.has_labels:
            raise UserError(f"{describe_path(files.label_folder)} has label maps but "
                            f"{describe_path(files.image_folder)} has no images; put each image "
                            f"in {images_name}/ as <case>_0000.nii.gz.")
        raise UserError(f"no images in {describe_path(files.image_folder)}; a dataset folder "
                        f"needs {images_name}/<case>_0000.nii.gz files (make one with "
                        "'chdml data synth --out DIR').")
    if with_masks is None:
        with_masks = split == "train" or files.has_labels
    if with_masks:
        orphans = [c for c in files.cases if c.image is None]
        if orphans:
            expected = files.image_folder / f"{orphans[0].case}_0000.nii.gz"
            raise UserError(f"{describe_path(orphans[0].label)} has no image (expected "
                            f"{describe_path(expected)}); add the image or remove the label map.")
        missing = [c for c in files.cases if c.label is None]
        if missing:
            extra = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            expected = files.label_folder / f"{missing[0].case}.nii.gz"
            raise UserError(f"{describe_path(missing[0].image)} has no label map{extra}: "
                            f"expected {describe_path(expected)}; add the label maps, or load "
                            "the images alone with with_masks=False.")
    return files, bool(with_masks)


def _check_pair(image: Volume, label: Volume, files: CaseFiles) -> None:
    if image.array.shape != label.array.shape:
        raise UserError(f"{describe_path(files.label)} has shape {label.array.shape} but its "
                        f"image {describe_path(files.image)} has {image.array.shape}; the label "
                        "map must cover the image voxel for voxel (re-export it; "
                        "'chdml data check' lists every such case).")


# --------------------------------------------------------------------------- 2-D slices
@dataclasses.dataclass
class SliceSet:
    """2-D slices of a collection, ready for Keras, with where each came from.

    Attributes:
        images: ``(N, H, W, 1)`` float32, intensities as stored (not normalised).
        masks: ``(N, H, W)`` uint8 label maps, or None when loaded without labels.
        patients, cases: ``(N,)`` string arrays: patient and case id of each slice.
        slice_index: ``(N,)`` int: position ``k`` of the slice in its volume
            (``volume[:, :, k]``; base to apex for short-axis stacks).
        spacing: ``(N, 3)`` float: row and column pixel size and slice thickness in mm,
            updated after resizing.
        phases, views, diagnoses: ``(N,)`` strings from ``cases.csv`` ("" when unknown).
        label_values: label name -> value of ``masks``.
    """

    images: np.ndarray
    masks: np.ndarray | None
    patients: np.ndarray
    cases: np.ndarray
    slice_index: np.ndarray
    spacing: np.ndarray
    phases: np.ndarray
    views: np.ndarray
    diagnoses: np.ndarray
    label_values: dict[str, int]

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        n, h, w = self.images.shape[:3]
        n_cases, n_patients = len(set(self.cases.tolist())), len(set(self.patients.tolist()))
        parts = [f"{n} slice{'s' * (n != 1)} of {h}x{w}",
                 f"{n_cases} case{'s' * (n_cases != 1)}",
                 f"{n_patients} patient{'s' * (n_patients != 1)}"]
        if n:
            sp = self.spacing[:, :2]
            low, high = float(sp.min()), float(sp.max())
            parts.append(f"pixel {low:.3g} mm" if np.isclose(low, high)
                         else f"pixel {low:.3g}-{high:.3g} mm")
        if self.masks is None:
            parts.append("no masks")
        else:
            present = np.unique(self.masks).tolist() if self.masks.size else []
            parts.append(f"mask values {present}")
        return f"SliceSet({', '.join(parts)})"

    def select(self, index) -> "SliceSet":
        """The slices at ``index`` (an int array or a boolean array of length N).

        Example:
            >>> train_slices = slices.select(np.isin(slices.patients, split.train))
        """
        index = np.asarray(index)
        return dataclasses.replace(
            self, images=self.images[index],
            masks=None if self.masks is None else self.masks[index],
            patients=self.patients[index], cases=self.cases[index],
            slice_index=self.slice_index[index], spacing=self.spacing[index],
            phases=self.phases[index], views=self.views[index],
            diagnoses=self.diagnoses[index], label_values=dict(self.label_values))


def _progress(iterable, total: int, show: bool, description: str):
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=description, unit="case", leave=False,
                disable=None if total >= 10 else True)


def load_slices(folder, split: str = "train", size: int | None = None, labels=None,
                skip_empty: bool = False, square: str = "crop", with_masks: bool | None = None,
                patient_from_case: Callable[[str], str] = patient_from_case,
                progress: bool = True) -> SliceSet:
    """Load every short-axis (or long-axis) slice of a split as 2-D images with masks.

    Args:
        folder: dataset folder (``imagesTr/``, ``labelsTr/``, ...; see the module doc).
        split: ``"train"`` (imagesTr/labelsTr) or ``"test"`` (imagesTs/labelsTs).
        size: if given, each slice is made square (``square``) and resized to
            ``size x size`` (images bilinear, masks nearest; spacing updated). Without
            ``size`` every case must have the same rows x columns.
        labels: which label values to keep, others become background: None (all), a list
            of values or names (``[1, "RV"]``), a mapping ``{value in file: new value}``,
            or ``"chdml"`` (renumber by ``dataset.json`` names to 1 LV, 2 MYO, 3 RV).
        skip_empty: drop slices whose mask (after ``labels``) is all background.
        square: ``"crop"`` (default) or ``"pad"``, see
            :func:`~chdml.data.preprocess.crop_or_pad_to_square`.
        with_masks: load label maps. Default: always for ``train`` (a missing label map is
            an error), for ``test`` only when ``labelsTs/`` has files.
        patient_from_case: rule for patient ids of cases not in ``cases.csv``.
        progress: show a progress bar (for 10 cases or more).

    Returns:
        A :class:`SliceSet`; slices are ordered by case id, then slice position.

    Raises:
        UserError: a missing or empty folder, labels without images, images without labels
        (``train``), an unreadable file, image/label shape mismatch, different slice sizes
        without ``size``; each message names the file.

    Example:
        >>> slices = load_slices("synthetic_chd", size=128, skip_empty=True)
        >>> slices
        SliceSet(1480 slices of 128x128, 80 cases, 20 patients, pixel 1.5 mm, ...)
    """
    root = Path(folder)
    files, with_masks = _resolve_split(root, split, with_masks)
    label_values = read_label_values(root)
    mapping = _label_mapping(labels, label_values, root)
    if mapping is not None and isinstance(labels, str) and labels == "chdml":
        output_labels = {name: value for name, value in dataset_folder.LABELS.items()
                         if value in set(mapping.values()) | {0}}
    elif mapping is not None:
        known = label_values if label_values is not None else dict(dataset_folder.LABELS)
        by_value = {v: k for k, v in known.items()}
        output_labels = {by_value.get(t, f"label {t}"): t
                         for t in sorted(set(mapping.values()) | {0})}
    else:
        output_labels = label_values if label_values is not None else dict(dataset_folder.LABELS)
    if skip_empty and not with_masks:
        raise ValueError("skip_empty=True needs masks; load with masks or drop skip_empty")
    records = _read_records(root)

    chunks: dict[str, list] = {key: [] for key in (
        "images", "masks", "patients", "cases", "slice_index", "spacing", "phases", "views",
        "diagnoses")}
    first_shape: tuple | None = None
    image_cases = [c for c in files.cases if c.image is not None]
    unlisted = [c.case for c in image_cases if records and c.case not in records]
    if unlisted:
        warnings.warn(f"{len(unlisted)} case(s) are not in cases.csv (e.g. {unlisted[0]!r}); "
                      "their patient ids come from the file names. Run 'chdml data check'.",
                      stacklevel=2)
    for case_files in _progress(image_cases, len(image_cases), progress, f"loading {split}"):
        image = load_image(case_files.image)
        stack = np.moveaxis(image.array, -1, 0)                       # (S, H, W)
        mask_stack = None
        if with_masks:
            label = load_label(case_files.label)
            _check_pair(image, label, case_files)
            mask_stack = _apply_mapping(np.moveaxis(label.array, -1, 0), mapping)
        keep = np.arange(stack.shape[0])
        if skip_empty:
            keep = keep[mask_stack.reshape(len(mask_stack), -1).any(axis=1)]
            stack, mask_stack = stack[keep], mask_stack[keep]
        row_mm, col_mm, thick_mm = image.spacing
        if size is not None:
            stack = crop_or_pad_to_square(stack, mode=square)
            side = stack.shape[1]
            stack = resize(stack, size, kind="image")
            if mask_stack is not None:
                mask_stack = resize(crop_or_pad_to_square(mask_stack, mode=square), size,
                                    kind="label")
            row_mm, col_mm = row_mm * side / size, col_mm * side / size
        if first_shape is None:
            first_shape = (stack.shape[1:], case_files.image)
        elif stack.shape[1:] != first_shape[0]:
            raise UserError(f"{describe_path(case_files.image)} has slices of "
                            f"{stack.shape[1]}x{stack.shape[2]} but "
                            f"{describe_path(first_shape[1])} has "
                            f"{first_shape[0][0]}x{first_shape[0][1]}; pass size= (e.g. "
                            "size=128) to bring every slice to one size.")
        record = records.get(case_files.case)
        n = len(stack)
        chunks["images"].append(stack.astype(np.float32, copy=False))
        if mask_stack is not None:
            chunks["masks"].append(mask_stack.astype(np.uint8, copy=False))
        chunks["patients"].append([record.patient if record else
                                   patient_from_case(case_files.case)] * n)
        chunks["cases"].append([case_files.case] * n)
        chunks["slice_index"].append(keep)
        chunks["spacing"].append(np.tile([row_mm, col_mm, thick_mm], (n, 1)))
        chunks["phases"].append([record.phase if record else ""] * n)
        chunks["views"].append([record.view if record else ""] * n)
        chunks["diagnoses"].append([record.diagnosis if record else ""] * n)

    height, width = first_shape[0] if first_shape else (0, 0)

    def _join(key, dtype, empty_shape=(0,)):
        parts = chunks[key]
        if not parts:
            return np.zeros(empty_shape, dtype=dtype)
        return np.concatenate([np.asarray(p, dtype=dtype) for p in parts])

    images = _join("images", np.float32, (0, height, width))[..., np.newaxis]
    masks = _join("masks", np.uint8, (0, height, width)) if with_masks else None
    return SliceSet(images=images, masks=masks,
                    patients=_join("patients", str), cases=_join("cases", str),
                    slice_index=_join("slice_index", np.int64),
                    spacing=_join("spacing", np.float64, (0, 3)),
                    phases=_join("phases", str), views=_join("views", str),
                    diagnoses=_join("diagnoses", str), label_values=dict(output_labels))


# --------------------------------------------------------------------------- 3-D cases
@dataclasses.dataclass
class CaseVolumes:
    """One case as 3-D volumes, for per-case evaluation (volumes in mL, 3-D Dice).

    Attributes:
        case, patient: ids (patient from ``cases.csv`` or :func:`patient_from_case`).
        image: float32 :class:`~chdml.data.nifti.Volume` ``(rows, columns, slices)``.
        label: uint8 Volume of the same shape, or None without labels.
        record: the ``cases.csv`` row (phase, view, diagnosis) or None.
        image_path, label_path: the files.
    """

    case: str
    patient: str
    image: Volume
    label: Volume | None
    record: dataset_folder.CaseRecord | None
    image_path: Path
    label_path: Path | None

    def __repr__(self) -> str:
        label = "no label" if self.label is None else "label"
        return f"CaseVolumes({self.case!r}, patient={self.patient!r}, {self.image!r}, {label})"


def load_volumes(folder, split: str = "train", labels=None, with_masks: bool | None = None,
                 cases: Iterable[str] | None = None,
                 patient_from_case: Callable[[str], str] = patient_from_case,
                 progress: bool = True) -> list[CaseVolumes]:
    """Load each case of a split as 3-D volumes (image and label map, spacing, affine).

    Arguments as in :func:`load_slices`; ``cases`` restricts loading to those case ids.
    Volumes keep their own shapes (no resizing). Label values are mapped by ``labels``.
    """
    root = Path(folder)
    files, with_masks = _resolve_split(root, split, with_masks)
    mapping = _label_mapping(labels, read_label_values(root), root)
    records = _read_records(root)
    wanted = None if cases is None else set(cases)
    selected = [c for c in files.cases if c.image is not None
                and (wanted is None or c.case in wanted)]
    if wanted is not None:
        unknown = sorted(wanted - {c.case for c in selected})
        if unknown:
            raise UserError(f"case {unknown[0]!r} is not in {describe_path(files.image_folder)}; "
                            "check the case ids (file names without _0000.nii.gz).")
    result = []
    for case_files in _progress(selected, len(selected), progress, f"loading {split}"):
        image = load_image(case_files.image)
        label = None
        if with_masks:
            label = load_label(case_files.label)
            _check_pair(image, label, case_files)
            label = dataclasses.replace(label, array=_apply_mapping(label.array, mapping))
        record = records.get(case_files.case)
        result.append(CaseVolumes(
            case=case_files.case,
            patient=record.patient if record else patient_from_case(case_files.case),
            image=image, label=label, record=record, image_path=case_files.image,
            label_path=case_files.label if with_masks else None))
    return result
