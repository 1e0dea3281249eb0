"""``chdml predict``: apply a trained model to the images of a dataset folder.

Which images: ``imagesTs/`` when it holds images, else ``imagesTr/``. For a
segmentation model every short-axis image (``view`` SAX in ``cases.csv``; images not
listed there count as SAX) becomes ``PRED_DIR/<case>.nii.gz``: a uint8 label map with
the image's exact shape, orientation and affine and the label values of
``dataset.json`` (e.g. 3 for an RV model), plus ``PRED_DIR/volumes.csv`` with the
predicted volume of every label in mL. For the view classifier, ``PRED_DIR/views.csv``
gets one row per image: predicted view class and P(SAX).

The output folder appears complete or not at all.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
from pathlib import Path

import numpy as np

from chdml.data import folder
from chdml.errors import UserError, describe_path
from chdml.inference import ModelInfo, load_model_file, normalise_volume, read_model_info
from chdml.train import require_dataset_folder

IMAGE_SUFFIX = "_0000.nii.gz"
MIN_IN_PLANE = 16


@dataclasses.dataclass
class PredictionCase:
    """One image to predict: case name, image path, label path (if any), its csv row."""

    case: str
    image: Path
    label: Path | None
    record: folder.CaseRecord | None


def prediction_cases(data: os.PathLike | str, need_labels: bool = False
                     ) -> tuple[str, list[PredictionCase]]:
    """The split to predict (``"test"`` or ``"train"``) and its cases, sorted by name.

    Raises :class:`UserError` for a missing folder, a label folder without images, an
    empty dataset and (with ``need_labels``) images without label maps.
    """
    data = require_dataset_folder(data)
    chosen = None
    for split, (images_name, labels_name) in (("test", ("imagesTs", "labelsTs")),
                                              ("train", ("imagesTr", "labelsTr"))):
        images_dir, labels_dir = data / images_name, data / labels_name
        images = sorted(images_dir.glob(f"*{IMAGE_SUFFIX}")) if images_dir.is_dir() else []
        labels = sorted(labels_dir.glob("*.nii*")) if labels_dir.is_dir() else []
        if labels and not images:
            raise UserError(f"{describe_path(labels_dir)} has label maps but "
                            f"{describe_path(images_dir)} has no images "
                            f"(<case>{IMAGE_SUFFIX}); copy the images next to them.")
        if images and chosen is None:
            chosen = (split, images, labels_dir)
    if chosen is None:
        raise UserError(f"{describe_path(data)} has no images in imagesTs/ or imagesTr/ "
                        f"(files named <case>{IMAGE_SUFFIX}); the dataset is empty.")
    split, images, labels_dir = chosen
    records = {}
    if (data / "cases.csv").is_file():
        records = {r.case: r for r in folder.read_cases(data)}
    cases = []
    for image in images:
        name = image.name[:-len(IMAGE_SUFFIX)]
        label = labels_dir / f"{name}.nii.gz"
        if need_labels and not label.is_file():
            raise UserError(f"the label map of {describe_path(image)} is missing "
                            f"({describe_path(label)}); evaluation needs one per image.")
        cases.append(PredictionCase(name, image, label if label.is_file() else None,
                                    records.get(name)))
    return split, cases


def check_labels_fit(info: ModelInfo, data: os.PathLike | str, model_path) -> dict[str, int]:
    """The dataset's foreground labels; refuse them if the model does not segment them all.

    A model may know more labels than the dataset (an LV+MYO+RV model on an LV-only
    dataset): only the dataset's labels are then scored. The other way round, or the
    same name with another value, raises :class:`UserError`.
    """
    dataset_labels = folder.read_labels(data)
    data_fg = {k: v for k, v in dataset_labels.items() if v != 0}
    if info.task != "segmentation":
        return data_fg
    model_fg = {k: v for k, v in info.labels.items() if v != 0}
    if not data_fg or any(model_fg.get(k) != v for k, v in data_fg.items()):
        raise UserError(f"the model {describe_path(model_path)} segments {model_fg} but "
                        f"{describe_path(Path(data) / 'dataset.json')} lists {data_fg}; use a "
                        "model trained on the same labels (e.g. an RV model for RV data).")
    return data_fg


def check_image_fits(image: np.ndarray, path: Path, info: ModelInfo) -> None:
    """Refuse an image too small to be resampled to the model's input."""
    rows, columns = image.shape[:2]
    if min(rows, columns) < MIN_IN_PLANE:
        raise UserError(f"{describe_path(path)} is {rows}x{columns} pixels in-plane, too small "
                        f"for the model (input {info.input_size[0]}x{info.input_size[1]}, at "
                        f"least {MIN_IN_PLANE}x{MIN_IN_PLANE} needed); check that rows and "
                        "columns are the first two axes.")
    if not np.all(np.isfinite(image)):
        raise UserError(f"{describe_path(path)} contains NaN or infinite values; clean the "
                        "image (chdml data check) first.")


def is_short_axis(case: PredictionCase) -> bool:
    return case.record is None or case.record.view.upper() == "SAX"


def load_in_original_orientation(path: Path):
    """Image ``(rows, columns, slices)`` as chdml loads it, and a function that turns a
    label map of that array back into the file's own voxel order, with the file's
    affine: ``(volume, to_file, affine)``."""
    import nibabel as nib
    from nibabel.orientations import (apply_orientation, axcodes2ornt, io_orientation,
                                      ornt_transform)

    from chdml.data.nifti import load_image

    volume = load_image(path)
    raw = nib.load(str(path))
    affine = np.asarray(raw.affine, dtype=np.float64)
    back = ornt_transform(axcodes2ornt(("R", "A", "S")), io_orientation(affine))

    def to_file(label_map: np.ndarray) -> np.ndarray:
        out = apply_orientation(label_map, back)
        return out.reshape(raw.shape[:3]) if out.size == np.prod(raw.shape[:3]) else out

    return volume, to_file, affine


def segment_cases(model, info: ModelInfo, cases, progress: bool = True):
    """Yield ``(case, volume, label_map, label_map_in_file_order, file_affine)``.

    ``volume`` is the image as :func:`chdml.data.nifti.load_image` gives it (closest
    canonical orientation) and ``label_map`` the prediction in that layout.
    """
    from tqdm.auto import tqdm

    from chdml.inference import segment_volume

    for case in tqdm(cases, desc="segmenting", unit="case", disable=None if progress else True):
        volume, to_file, affine = load_in_original_orientation(case.image)
        check_image_fits(volume.array, case.image, info)
        label_map = segment_volume(model, info, volume.array, volume.spacing)
        yield case, volume, label_map, to_file(label_map), affine


def classify_cases(model, info: ModelInfo, cases, progress: bool = True) -> list[dict]:
    """One row per case: the mean P(SAX) of its images and the predicted class."""
    from tqdm.auto import tqdm

    from chdml.data.nifti import load_image
    from chdml.inference import to_grid

    rows = []
    names = {v: k for k, v in info.labels.items()}
    for case in tqdm(cases, desc="classifying", unit="case", disable=None if progress else True):
        image = load_image(case.image).array
        check_image_fits(image, case.image, info)
        grid = to_grid(normalise_volume(image), info.input_size)[..., np.newaxis]
        p_sax = float(np.mean(model.predict(grid, verbose=0, batch_size=64)))
        predicted = names[int(p_sax >= 0.5)]
        rows.append({"case": case.case, "predicted": predicted,
                     "probability_SAX": round(p_sax, 4), "images": int(len(grid)),
                     "true_view": case.record.view if case.record else ""})
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    fields = list(rows[0]) if rows else ["case"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def main(model, data, out, overwrite: bool = False) -> int:
    """Entry point of ``chdml predict``."""
    from chdml.atomic import atomic_directory
    from chdml.data.nifti import save_label
    from chdml.metrics import volume_ml

    out = Path(out)
    info = read_model_info(model)
    require_dataset_folder(data)
    check_labels_fit(info, data, model)
    split, cases = prediction_cases(data)
    if out.exists() and not overwrite and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"the output folder {describe_path(out)} already exists; choose a new "
                        "one or pass --overwrite to replace it.")
    keras_model, info = load_model_file(model)
    images_dir = "imagesTs" if split == "test" else "imagesTr"
    with atomic_directory(out, overwrite=True) as tmp:
        if info.task == "classifier":
            rows = classify_cases(keras_model, info, cases)
            write_csv(tmp / "views.csv", rows)
            print(f"classified {len(rows)} images of {images_dir}/; wrote {out / 'views.csv'}")
            return 0
        sax = [c for c in cases if is_short_axis(c)]
        if not sax:
            raise UserError(f"{describe_path(Path(data) / 'cases.csv')} lists no short-axis "
                            f"(SAX) image in {images_dir}/; the segmentation model needs SAX "
                            "stacks.")
        volumes = []
        for case, volume, _, label_file, affine in segment_cases(keras_model, info, sax):
            save_label(tmp / f"{case.case}.nii.gz", label_file, affine=affine)
            row = {"case": case.case}
            for name, value in info.labels.items():
                if value:
                    row[f"{name}_ml"] = round(volume_ml(label_file == value,
                                                        _spacing_of(affine)), 2)
            volumes.append(row)
        write_csv(tmp / "volumes.csv", volumes)
    skipped = len(cases) - len(sax)
    note = f" ({skipped} non-short-axis images skipped)" if skipped else ""
    print(f"segmented {len(sax)} images of {images_dir}/{note}; wrote {out}/")
    return 0


def _spacing_of(affine: np.ndarray) -> tuple[float, float, float]:
    return tuple(float(np.linalg.norm(affine[:3, i])) for i in range(3))
