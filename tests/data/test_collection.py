"""Does any imagesTr/labelsTr collection load into 2-D slices with the right patient ids?"""
import json

import numpy as np
import pytest

from chdml.data.collection import (chdml_label_map, list_cases, load_slices, load_volumes,
                                   patient_from_case, read_label_values)
from chdml.data.nifti import load_image, load_label, save_image, save_label
from chdml.errors import UserError
from tests.data.conftest import SHAPE, SPACING, make_collection, make_dataset


def test_slices_of_a_chdml_folder_keep_their_origin(dataset):
    slices = load_slices(dataset, progress=False)
    rows, columns, depth = SHAPE
    assert slices.images.shape == (6 * depth, rows, columns, 1)
    assert slices.images.dtype == np.float32 and slices.masks.dtype == np.uint8
    assert slices.masks.shape == (6 * depth, rows, columns)
    # slice i of case p001_ES is exactly volume[:, :, i] of its file
    image = load_image(dataset / "imagesTr" / "p001_ES_0000.nii.gz").array
    label = load_label(dataset / "labelsTr" / "p001_ES.nii.gz").array
    at = np.flatnonzero((slices.cases == "p001_ES") & (slices.slice_index == 2))
    assert len(at) == 1
    np.testing.assert_array_equal(slices.images[at[0], :, :, 0], image[:, :, 2])
    np.testing.assert_array_equal(slices.masks[at[0]], label[:, :, 2])
    assert slices.patients[at[0]] == "p001" and slices.phases[at[0]] == "ES"
    assert slices.diagnoses[at[0]] == "ToF" and slices.views[at[0]] == "SAX"
    np.testing.assert_allclose(slices.spacing[at[0]], SPACING)
    text = repr(slices)
    assert "24 slices of 24x20" in text and "3 patients" in text and "[0, 1, 2, 3]" in text


def test_resizing_makes_square_slices_and_updates_spacing(dataset):
    slices = load_slices(dataset, size=16, progress=False)
    assert slices.images.shape[1:] == (16, 16, 1) and slices.masks.shape[1:] == (16, 16)
    assert set(np.unique(slices.masks)) == {0, 1, 2, 3}
    # 24x20 cropped to 20x20 at 1.5 mm, then 20 -> 16 pixels: 1.875 mm
    np.testing.assert_allclose(slices.spacing[:, :2], 1.875)
    np.testing.assert_allclose(slices.spacing[:, 2], SPACING[2])
    padded = load_slices(dataset, size=16, square="pad", progress=False)
    np.testing.assert_allclose(padded.spacing[:, :2], 1.5 * 24 / 16)


def test_label_selection_and_empty_slices(dataset):
    rv_only = load_slices(dataset, labels=["RV"], progress=False)
    assert set(np.unique(rv_only.masks)) == {0, 3}
    assert rv_only.label_values == {"background": 0, "RV": 3}
    remapped = load_slices(dataset, labels={3: 1}, progress=False)
    assert set(np.unique(remapped.masks)) == {0, 1}
    # blank out one slice's mask: skip_empty drops exactly that slice
    path = dataset / "labelsTr" / "p000_ED.nii.gz"
    label = load_label(path)
    label.array[:, :, 1] = 0
    save_label(path, label.array, spacing=label.spacing)
    kept = load_slices(dataset, skip_empty=True, progress=False)
    assert len(kept) == 6 * SHAPE[2] - 1
    assert 1 not in kept.slice_index[kept.cases == "p000_ED"]


def test_select_keeps_everything_aligned(dataset):
    slices = load_slices(dataset, progress=False)
    part = slices.select(slices.patients == "p002")
    assert len(part) == 8 and set(part.cases) == {"p002_ED", "p002_ES"}
    np.testing.assert_array_equal(part.masks, slices.masks[slices.patients == "p002"])


def test_test_split_without_labels_has_no_masks(tmp_path):
    root = tmp_path / "d"
    make_dataset(root, patients=3, test_patients=1)
    for path in (root / "labelsTs").iterdir():
        path.unlink()
    test = load_slices(root, split="test", progress=False)
    assert test.masks is None and len(test) == 2 * SHAPE[2]
    assert "no masks" in repr(test)
    with_labels = load_slices(root, split="train", progress=False)
    assert with_labels.masks is not None


def test_public_collection_without_cases_csv(tmp_path):
    acdc = {"background": 0, "RV": 1, "MLV": 2, "LVC": 3}
    names = make_collection(tmp_path / "acdc", label_names=acdc)
    slices = load_slices(tmp_path / "acdc", progress=False)
    assert sorted(set(slices.cases)) == sorted(names)
    assert sorted(set(slices.patients)) == ["patient001", "patient002"]
    assert set(slices.diagnoses) == {""}
    # ACDC numbers RV 1 and LV 3; labels="chdml" renumbers to LV 1, MYO 2, RV 3
    raw = load_slices(tmp_path / "acdc", progress=False).masks
    ours = load_slices(tmp_path / "acdc", labels="chdml", progress=False).masks
    np.testing.assert_array_equal(ours == 1, raw == 3)
    np.testing.assert_array_equal(ours == 3, raw == 1)
    np.testing.assert_array_equal(ours == 2, raw == 2)


def test_decathlon_names_and_dataset_json(tmp_path):
    root = tmp_path / "msd"
    make_collection(root, names=("heart_003", "heart_004"), nnunet_names=False)
    (root / "dataset.json").write_text(json.dumps({"labels": {"0": "background", "1": "LV"}}))
    assert read_label_values(root) == {"background": 0, "LV": 1}
    slices = load_slices(root, labels="chdml", progress=False)
    assert list(dict.fromkeys(slices.patients)) == ["heart_003", "heart_004"]
    assert set(np.unique(slices.masks)) == {0, 1}


@pytest.mark.parametrize("case, patient", [
    ("patient001_frame01", "patient001"), ("A0S9V9_frame09", "A0S9V9"),
    ("p007_ED_SAX", "p007"), ("p007_es", "p007"), ("Sbj_12-t25", "Sbj_12"),
    ("la_003", "la_003"), ("pat0", "pat0"), ("ED", "ED"),
])
def test_patient_rule(case, patient):
    assert patient_from_case(case) == patient


def test_cases_csv_patient_wins_over_the_name_rule(tmp_path):
    root = tmp_path / "d"
    make_dataset(root, patients=2)
    text = (root / "cases.csv").read_text().replace("p001_ED,p001", "p001_ED,someone_else")
    (root / "cases.csv").write_text(text)
    slices = load_slices(root, progress=False)
    assert set(slices.patients[slices.cases == "p001_ED"]) == {"someone_else"}
    custom = load_slices(tmp_path / "d", progress=False, patient_from_case=str.upper)
    assert set(custom.patients[custom.cases == "p001_ES"]) == {"p001"}   # csv still wins


def test_other_channels_and_stray_files_are_ignored(dataset):
    save_image(dataset / "imagesTr" / "p000_ED_0001.nii.gz", np.zeros(SHAPE), spacing=SPACING)
    (dataset / "imagesTr" / ".DS_Store").write_text("x")
    (dataset / "imagesTr" / "notes.txt").write_text("x")
    files = list_cases(dataset)
    assert [p.name for p in files.other_channels] == ["p000_ED_0001.nii.gz"]
    assert [p.name for p in files.not_nifti] == ["notes.txt"]
    assert len(load_slices(dataset, progress=False)) == 6 * SHAPE[2]


def test_volumes_per_case(dataset):
    volumes = load_volumes(dataset, cases=["p000_ED", "p002_ES"], progress=False)
    assert [v.case for v in volumes] == ["p000_ED", "p002_ES"]
    assert volumes[1].patient == "p002" and volumes[1].record.phase == "ES"
    assert volumes[0].image.array.shape == SHAPE == volumes[0].label.array.shape
    assert volumes[0].image.spacing == SPACING
    assert "p000_ED" in repr(volumes[0])
    with pytest.raises(UserError, match="'nobody'"):
        load_volumes(dataset, cases=["nobody"], progress=False)


# ------------------------------------------------------------------ user errors
def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_slices(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no images in .*imagesTr"):
        load_slices(tmp_path / "empty")


def test_labels_without_images(tmp_path):
    save_label(tmp_path / "labelsTr" / "a.nii.gz", np.zeros((4, 4, 1)))
    with pytest.raises(UserError, match="has label maps but .*imagesTr.* has no images"):
        load_slices(tmp_path)


def test_images_without_labels_name_the_file(dataset):
    (dataset / "labelsTr" / "p001_ED.nii.gz").unlink()
    with pytest.raises(UserError, match="p001_ED_0000.nii.gz' has no label map"):
        load_slices(dataset, progress=False)
    slices = load_slices(dataset, with_masks=False, progress=False)
    assert slices.masks is None and len(slices) == 6 * SHAPE[2]


def test_label_without_image_is_named(dataset):
    (dataset / "imagesTr" / "p001_ED_0000.nii.gz").unlink()
    with pytest.raises(UserError, match="p001_ED.nii.gz' has no image"):
        load_slices(dataset, progress=False)


def test_mismatched_shapes_name_both_files(dataset):
    save_label(dataset / "labelsTr" / "p002_ED.nii.gz", np.zeros((24, 19, 4)), spacing=SPACING)
    with pytest.raises(UserError, match=r"p002_ED.nii.gz' has shape \(24, 19, 4\) .*"
                                        r"p002_ED_0000.nii.gz' has \(24, 20, 4\)"):
        load_slices(dataset, progress=False)


def test_different_slice_sizes_need_size(dataset):
    save_image(dataset / "imagesTr" / "p002_ES_0000.nii.gz", np.ones((30, 30, 4)), spacing=SPACING)
    save_label(dataset / "labelsTr" / "p002_ES.nii.gz", np.zeros((30, 30, 4)), spacing=SPACING)
    with pytest.raises(UserError, match="pass size="):
        load_slices(dataset, progress=False)
    assert load_slices(dataset, size=20, progress=False).images.shape[1:3] == (20, 20)


def test_chdml_labels_need_known_names(tmp_path):
    make_collection(tmp_path / "c")
    with pytest.raises(UserError, match="no dataset.json"):
        load_slices(tmp_path / "c", labels="chdml", progress=False)
    (tmp_path / "c" / "dataset.json").write_text(json.dumps({"labels": {"background": 0,
                                                                       "aorta": 1}}))
    with pytest.raises(UserError, match="aorta"):
        load_slices(tmp_path / "c", labels="chdml", progress=False)
    assert chdml_label_map({"background": 0, "LVBP": 1, "LVM": 2, "RV": 3}) == \
        {0: 0, 1: 1, 2: 2, 3: 3}


def test_truncated_file_is_named(dataset):
    path = dataset / "imagesTr" / "p000_ES_0000.nii.gz"
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(UserError, match="p000_ES_0000.nii.gz"):
        load_slices(dataset, progress=False)
