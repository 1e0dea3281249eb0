"""Does 'chdml data check' report every problem in a dirty folder, naming each file?"""
import gzip
import json
import struct

import nibabel as nib
import numpy as np
import pytest

from chdml.data.check import check_folder, drop_broken_cases, find_broken_cases, main
from chdml.data.nifti import load_image, load_label, save_image, save_label
from chdml.errors import UserError
from tests.data.conftest import SHAPE, SPACING, make_dataset


def _image(root, case, split="Tr"):
    return root / f"images{split}" / f"{case}_0000.nii.gz"


def _label(root, case, split="Tr"):
    return root / f"labels{split}" / f"{case}.nii.gz"


def _set_header_spacing(path, row_spacing):
    """Rewrite pixdim[1] in a .nii.gz header byte by byte (nibabel refuses to save zeros)."""
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[80:84] = struct.pack("<f", row_spacing)       # pixdim starts at byte 76
    path.write_bytes(gzip.compress(bytes(raw)))


@pytest.fixture
def dirty(tmp_path):
    """A folder with one of each problem; returns (root, {kind: expected file})."""
    root = tmp_path / "dirty"
    make_dataset(root, patients=8)
    expected = {}

    data = _image(root, "p000_ED").read_bytes()                 # truncated .nii.gz
    _image(root, "p000_ED").write_bytes(data[: len(data) // 2])
    expected["unreadable"] = "imagesTr/p000_ED_0000.nii.gz"

    image = load_image(_image(root, "p000_ES"))                  # NaN
    image.array[3, 3, 1] = np.nan
    save_image(_image(root, "p000_ES"), image.array, spacing=SPACING)
    expected["nan"] = "imagesTr/p000_ES_0000.nii.gz"

    save_image(_image(root, "p001_ED"), np.full(SHAPE, 5.0), spacing=SPACING)   # constant
    expected["constant-image"] = "imagesTr/p001_ED_0000.nii.gz"

    label = load_label(_label(root, "p001_ES"))                  # shape mismatch
    save_label(_label(root, "p001_ES"), label.array[:, :-2], spacing=SPACING)
    expected["shape-mismatch"] = "labelsTr/p001_ES.nii.gz"

    label = load_label(_label(root, "p002_ED"))                  # spacing mismatch
    save_label(_label(root, "p002_ED"), label.array, spacing=(1.4, 1.4, 8.0))
    expected["spacing-mismatch"] = "labelsTr/p002_ED.nii.gz"

    label = load_label(_label(root, "p002_ES"))                  # label 7 not in dataset.json
    label.array[0, 0, 0] = 7
    save_label(_label(root, "p002_ES"), label.array, spacing=SPACING)
    expected["unknown-label"] = "labelsTr/p002_ES.nii.gz"

    source = load_image(_image(root, "p003_ES")).array           # duplicate slice across cases
    image = load_image(_image(root, "p004_ED"))
    image.array[:, :, 2] = source[:, :, 1]
    save_image(_image(root, "p004_ED"), image.array, spacing=SPACING)
    expected["duplicate-slice"] = "imagesTr/p004_ED_0000.nii.gz"

    _label(root, "p004_ES").unlink()                             # missing pair: no label
    expected["missing-label"] = "imagesTr/p004_ES_0000.nii.gz"
    _image(root, "p005_ED").unlink()                             # missing pair: no image
    expected["missing-image"] = "labelsTr/p005_ED.nii.gz"

    _set_header_spacing(_image(root, "p005_ES"), 0.0)            # zero spacing
    expected["zero-spacing"] = "imagesTr/p005_ES_0000.nii.gz"

    save_image(_image(root, "p006_ED"), np.zeros(SHAPE), spacing=SPACING)      # empty image
    expected["empty-image"] = "imagesTr/p006_ED_0000.nii.gz"

    image = load_image(_image(root, "p006_ES"))                  # a blank slice
    image.array[:, :, 3] = 0
    save_image(_image(root, "p006_ES"), image.array, spacing=SPACING)
    expected["constant-slices"] = "imagesTr/p006_ES_0000.nii.gz"

    label = load_label(_label(root, "p007_ED"))                  # label moved in space
    affine = np.diag(list(SPACING) + [1.0])
    affine[:3, 3] = (5.0, 0.0, 0.0)
    save_label(_label(root, "p007_ED"), label.array, affine=affine)
    expected["position-mismatch"] = "labelsTr/p007_ED.nii.gz"

    save_label(_label(root, "p007_ES"), np.zeros(SHAPE), spacing=SPACING)      # empty label
    expected["empty-label"] = "labelsTr/p007_ES.nii.gz"

    # a file nobody listed in cases.csv, and a listed case whose files are gone
    extra = load_image(_image(root, "p003_ED")).array[::-1]
    save_image(_image(root, "stray_ED"), extra, spacing=SPACING)
    save_label(_label(root, "stray_ED"), load_label(_label(root, "p003_ED")).array[::-1],
               spacing=SPACING)
    expected["not-in-cases-csv"] = "imagesTr/stray_ED_0000.nii.gz"
    (root / "cases.csv").write_text((root / "cases.csv").read_text()
                                    + "ghost_ED,ghost,train,ED,SAX,normal,1.5x1.5x8\n")
    expected["listed-without-file"] = "imagesTr/ghost_ED_0000.nii.gz"
    (root / "imagesTr" / "readme.txt").write_text("not an image")
    expected["not-nifti"] = "imagesTr/readme.txt"
    return root, expected


def test_a_clean_folder_has_no_problems(dataset, capsys):
    assert check_folder(dataset, progress=False) == []
    assert main(dataset, progress=False) == 0
    assert "OK: no problems" in capsys.readouterr().out


def test_every_problem_is_reported_with_its_file(dirty):
    root, expected = dirty
    problems = check_folder(root, progress=False)
    found = {(p.kind, p.file) for p in problems}
    for kind, file in expected.items():
        assert (kind, file) in found, f"{kind} in {file} was not reported"
    # nothing reported about the untouched cases
    touched = set(expected.values()) | {f.replace("images", "labels").replace("_0000", "")
                                        for f in expected.values()}
    clean = {"imagesTr/p003_ED_0000.nii.gz", "labelsTr/p003_ED.nii.gz",
             "imagesTr/p003_ES_0000.nii.gz", "labelsTr/p003_ES.nii.gz"}
    assert not clean & {p.file for p in problems}
    assert {p.file for p in problems} <= touched | {"imagesTr/p005_ES_0000.nii.gz"}


def test_the_truncated_file_is_named_and_called_truncated(dirty):
    root, _ = dirty
    problems = [p for p in check_folder(root, progress=False) if p.kind == "unreadable"]
    assert len(problems) == 1
    assert problems[0].file == "imagesTr/p000_ED_0000.nii.gz"
    assert "truncated" in problems[0].problem and problems[0].case == "p000_ED"


def test_wrong_dimensions_and_non_label_values_are_explained(dataset):
    image = load_image(_image(dataset, "p000_ED")).array
    nib.save(nib.Nifti1Image(np.stack([image, image], axis=-1), np.diag(list(SPACING) + [1])),
             str(_image(dataset, "p000_ED")))
    save_image(_label(dataset, "p001_ED"), np.full(SHAPE, 0.5), spacing=SPACING)
    problems = {p.file: p for p in check_folder(dataset, progress=False)}
    four_d = problems["imagesTr/p000_ED_0000.nii.gz"]
    assert "4 dimensions" in four_d.problem and "one file per phase" in four_d.fix
    assert str(dataset) not in four_d.problem
    not_label = problems["labelsTr/p001_ED.nii.gz"]
    assert "not a label map" in not_label.problem and "mask" in not_label.fix


def test_zero_spacing_does_not_cause_follow_up_reports(dirty):
    root, _ = dirty
    about = [p.kind for p in check_folder(root, progress=False) if p.case == "p005_ES"]
    assert about == ["zero-spacing"]


def test_report_table_and_exit_code(dirty, capsys):
    root, expected = dirty
    assert main(root, progress=False) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["file", "problem", "how", "to", "fix"]
    for file in expected.values():
        assert file in out
    assert f"{len(check_folder(root, progress=False))} problem(s)" in out


def test_a_patient_in_both_splits_is_named(tmp_path):
    root = tmp_path / "d"
    make_dataset(root, patients=3, test_patients=1)          # p002 is the test patient
    (root / "imagesTr" / "p001_ES_0000.nii.gz").rename(root / "imagesTs" / "p001_ES_0000.nii.gz")
    (root / "labelsTr" / "p001_ES.nii.gz").rename(root / "labelsTs" / "p001_ES.nii.gz")
    text = (root / "cases.csv").read_text().replace("p001_ES,p001,train", "p001_ES,p001,test")
    (root / "cases.csv").write_text(text)
    problems = check_folder(root, progress=False)
    assert [(p.kind, p.file) for p in problems] == [("patient-in-two-splits", "cases.csv")]
    assert "p001" in problems[0].problem and "p001_ES" in problems[0].problem
    # the same case id in both splits
    save_image(_image(root, "p000_ED", "Ts"), load_image(_image(root, "p000_ED")).array[::-1],
               spacing=SPACING)
    save_label(_label(root, "p000_ED", "Ts"), load_label(_label(root, "p000_ED")).array[::-1],
               spacing=SPACING)
    kinds = {p.kind for p in check_folder(root, progress=False)}
    assert "case-in-two-splits" in kinds


def test_report_of_nothing_is_just_the_header():
    from chdml.data.check import format_report

    assert format_report([]).splitlines()[0].split() == ["file", "problem", "how", "to", "fix"]


def test_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        check_folder(tmp_path / "nope")


def test_metadata_problems(tmp_path):
    root = tmp_path / "d"
    make_dataset(root, patients=2)
    (root / "dataset.json").write_text("{not json")
    text = (root / "cases.csv").read_text()
    text = text.replace("p001_ES,p001,train", "p001_ES,p001,test")       # wrong split
    text += "p009_ED,p009,train,ED,SAX,normal,1x1\n"                     # bad spacing
    text += "p001_ED,p001,train,ED,SAX,normal,1.5x1.5x8\n"               # listed twice
    (root / "cases.csv").write_text(text)
    problems = check_folder(root, progress=False)
    kinds = [p.kind for p in problems]
    assert "dataset-json" in kinds and "wrong-split" in kinds
    lines = [p.problem for p in problems if p.kind == "cases-csv"]
    assert any("line 6" in p and "spacing" in p for p in lines)
    assert any("line 7" in p and "twice" in p for p in lines)
    (root / "dataset.json").unlink()
    assert any(p.kind == "dataset-json" and "missing" in p.problem
               for p in check_folder(root, progress=False))


def test_missing_spacing_and_test_split_without_labels(tmp_path):
    root = tmp_path / "d"
    make_dataset(root, patients=3, test_patients=1)
    for path in (root / "labelsTs").iterdir():
        path.unlink()                                   # unlabelled test split: fine
    assert check_folder(root, progress=False) == []
    image = load_image(_image(root, "p000_ED")).array
    nib.save(nib.Nifti1Image(image, None), str(_image(root, "p000_ED")))   # no affine
    problems = check_folder(root, progress=False)
    assert [(p.kind, p.file) for p in problems] == [
        ("missing-spacing", "imagesTr/p000_ED_0000.nii.gz")]


def test_folder_without_images_or_cases_csv(tmp_path, capsys):
    root = tmp_path / "d"
    make_dataset(root, patients=2)
    (root / "cases.csv").unlink()
    assert check_folder(root, progress=False) == []     # a public collection: fine
    assert main(root, progress=False) == 0
    assert "cases.csv" in capsys.readouterr().out
    (tmp_path / "e").mkdir()
    assert [p.kind for p in check_folder(tmp_path / "e", progress=False)] == [
        "dataset-json", "no-images"]


# ------------------------------------------------------------------ in memory
def _dirty_arrays():
    rng = np.random.default_rng(0)
    images = rng.random((9, 8, 8)).astype(np.float32)
    masks = (rng.random((9, 8, 8)) > 0.5).astype(np.uint8)
    images[1, 2, 2] = np.nan
    images[2] = 0
    images[3] = 4.0
    images[5] = images[0]
    images[7, 0, 0] = np.inf
    images_list = list(images)
    images_list[4] = rng.random((8, 7))                # wrong shape
    masks_list = list(masks)
    masks_list[6] = masks[6][:, :7]                    # mask/image mismatch
    masks_list[8] = masks[8] * 0.5                     # not a label map
    return images, images_list, masks, masks_list


def test_find_broken_cases_finds_each_kind_once():
    _, images, _, masks = _dirty_arrays()
    broken = dict(find_broken_cases(images, masks))
    assert sorted(broken) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert "NaN" in broken[1] and "NaN" in broken[7]
    assert "empty" in broken[2] and "constant" in broken[3]
    assert "wrong shape (8, 7)" in broken[4]
    assert broken[5] == "duplicate of image 0"
    assert "mask shape" in broken[6] and "label map" in broken[8]


def test_find_broken_cases_layouts_agree():
    array, _, masks, _ = _dirty_arrays()
    as_batch = find_broken_cases(array)
    assert find_broken_cases(array[..., np.newaxis]) == as_batch
    assert find_broken_cases(list(array)) == as_batch
    assert [i for i, _ in as_batch] == [1, 2, 3, 5, 7]
    assert find_broken_cases(array[[0, 6, 8]], masks[[0, 6, 8]]) == []


def test_duplicates_of_broken_images_are_not_counted_twice():
    images = np.zeros((3, 4, 4))
    images[0, 0, 0] = images[1, 0, 0] = np.nan         # two NaN copies: two NaN reasons
    assert [r for _, r in find_broken_cases(images)] == [
        "contains NaN or infinity", "contains NaN or infinity", "empty (every pixel is 0)"]


def test_expected_shape_overrides_the_majority():
    rng = np.random.default_rng(1)
    images = [rng.random((4, 4)) for _ in range(3)] + [np.arange(6.0).reshape(2, 3)]
    assert [i for i, _ in find_broken_cases(images)] == [3]
    assert [i for i, _ in find_broken_cases(images, expected_shape=(2, 3))] == [0, 1, 2]


def test_drop_broken_cases_returns_clean_arrays():
    array, _, masks, _ = _dirty_arrays()
    clean_images, clean_masks, broken = drop_broken_cases(array[..., np.newaxis], masks)
    assert clean_images.shape == (4, 8, 8, 1) and clean_masks.shape == (4, 8, 8)
    np.testing.assert_array_equal(clean_masks, masks[[0, 4, 6, 8]])
    assert find_broken_cases(clean_images, clean_masks) == []
    assert len(broken) == 5
