"""Do the producers and comparisons added for workshop 2 do what their docstrings say?

(``call_select``, ``with_files``, ``dicom_dataset``; ``volume``, ``dicom_deidentified``,
``patient_split``: the marked blocks at the end of producers.py and compare.py.)
"""
import io
import os

import nibabel as nib
import numpy as np
import pydicom
import pytest

from chdml.grading import compare, producers
from chdml.grading.wire import ProducedError
from chdml.teaching import storing


# ------------------------------------------------------------------ producers
def test_does_call_select_keep_only_the_named_keys():
    namespace = {"fit": lambda x: {"model": object(), "boundary": x, "accuracy": 0.5}}
    got = producers.call_select("fit", "x", keys=("boundary", "accuracy"))(namespace, {"x": 2})
    assert got == {"boundary": 2, "accuracy": 0.5}


@pytest.mark.parametrize("function, words", [
    (lambda x: (1, 2), "should return a dict"),
    (lambda x: {"boundary": 1}, "no key 'accuracy'"),
])
def test_does_call_select_explain_a_wrong_result(function, words):
    got = producers.call_select("fit", "x", keys=("boundary", "accuracy"))({"fit": function},
                                                                           {"x": 1})
    assert isinstance(got, ProducedError) and words in got.message


def test_does_with_files_write_files_in_the_working_directory_and_clean_up(tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = {}

    def copy_file(source, folder, out):
        seen.update(source=source, folder=folder, out=out)
        assert os.path.dirname(source).startswith(str(tmp_path))
        with open(source, "rb") as handle, open(out, "wb") as target:
            target.write(handle.read()[::-1])
        return sorted(os.listdir(folder))

    inputs = {"files": {"a.bin": np.frombuffer(b"abc", np.uint8), "sub/b.bin":
                        np.frombuffer(b"x", np.uint8)}}
    returned = producers.with_files("copy_file", "file:a.bin", "folder:sub", "out:o.bin")(
        {"copy_file": copy_file}, inputs)
    assert returned == ["b.bin"]
    record = producers.with_files("copy_file", "file:a.bin", "folder:sub", "out:o.bin",
                                  result="out:o.bin")({"copy_file": copy_file}, inputs)
    assert record["name"] == "o.bin" and record["bytes"].tobytes() == b"cba"
    assert list(tmp_path.iterdir()) == []  # the case folder is gone


def test_does_with_files_say_when_the_output_was_not_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    got = producers.with_files("save", "out:mask.nii.gz", result="out:mask.nii.gz")(
        {"save": lambda path: None}, {"files": {}})
    assert isinstance(got, ProducedError) and "did not write the file 'mask.nii.gz'" in got.message


def test_does_dicom_dataset_send_back_the_changed_dataset_even_when_none_is_returned():
    content = storing.dicom_slice_bytes(np.arange(16.0).reshape(4, 4), (1.5, 1.5, 8.0))

    def blank_name(dataset):
        dataset.PatientName = ""

    record = producers.dicom_dataset("clean")({"clean": blank_name}, {"dicom": content})
    dataset = pydicom.dcmread(io.BytesIO(record["bytes"].tobytes()))
    assert str(dataset.PatientName) == "" and dataset.Rows == 4
    wrong = producers.dicom_dataset("clean")({"clean": lambda d: "done"}, {"dicom": content})
    assert isinstance(wrong, ProducedError) and "pydicom Dataset" in wrong.message


def test_do_the_new_producers_survive_being_stored_as_data():
    for producer in (producers.call_select("f", "x", keys=("a",)),
                     producers.with_files("f", "file:a", result="out:b"),
                     producers.dicom_dataset("f")):
        assert producers.from_spec(producer.spec()) == producer


# ------------------------------------------------------------------ volume
def _record(path):
    return producers.file_record(str(path), path.name)


@pytest.fixture
def volume_file(tmp_path):
    affine = storing.rotated_affine((1.2, 1.5, 7.0), (10.0, 0.0, 5.0), (1.0, 2.0, 3.0))
    array = np.arange(60, dtype=np.uint8).reshape(5, 4, 3)
    path = tmp_path / "mask.nii.gz"
    nib.save(nib.Nifti1Image(array, affine), path)
    expected = {"array": array, "dtype": "uint8", "spacing": [1.2, 1.5, 7.0], "affine": affine,
                "forbidden": ["Doe"]}
    return path, expected


def test_does_volume_accept_the_right_file(volume_file):
    path, expected = volume_file
    assert compare.volume()(_record(path), expected, {}).passed


def test_does_volume_name_a_float_file_and_lost_geometry(volume_file, tmp_path):
    path, expected = volume_file
    wrong = tmp_path / "wrong.nii.gz"
    nib.save(nib.Nifti1Image(expected["array"].astype(np.float32), np.eye(4)), wrong)
    verdict = compare.volume()(_record(wrong), expected, {})
    assert not verdict.passed
    for words in ("data type float32 instead of uint8", "spacing 1 x 1 x 1 mm instead of"):
        assert words in verdict.got


def test_does_volume_find_a_name_hidden_in_the_header(volume_file, tmp_path):
    path, expected = volume_file
    image = nib.load(path)
    image.header["descrip"] = b"patient DOE^JANE"
    leaky = tmp_path / "leaky.nii"
    nib.save(image, leaky)
    verdict = compare.volume()(_record(leaky), expected, {})
    assert not verdict.passed and "'Doe'" in verdict.got


def test_does_volume_accept_a_tuple_or_dict_from_a_reader():
    array = np.ones((3, 4, 2), dtype=np.float64)
    expected = {"array": array, "dtype": "float", "spacing": [1, 2, 3], "affine": np.eye(4)}
    assert compare.volume()((array.astype(np.float32), (1, 2, 3), np.eye(4)), expected, {}).passed
    assert compare.volume()({"array": array, "spacing": [1, 2, 3], "affine": np.eye(4)},
                            expected, {}).passed
    verdict = compare.volume()((array.astype(np.int16), (1, 2, 3), np.eye(4)), expected, {})
    assert not verdict.passed and "int16 instead of floating-point" in verdict.got


def test_does_volume_refuse_bytes_that_are_not_nifti():
    verdict = compare.volume()({"name": "x.nii", "bytes": np.zeros(10, np.uint8)},
                               {"array": np.zeros(2)}, {})
    assert not verdict.passed and "not a NIfTI file" in verdict.got


# ------------------------------------------------------------------ dicom_deidentified
def test_does_dicom_deidentified_pass_the_reference_and_fail_the_original():
    from chdml.data.dicom import deidentify

    content = storing.dicom_slice_bytes(np.arange(16.0).reshape(4, 4), (1.5, 1.5, 8.0),
                                        nested=True)
    expected = storing.reference_deidentified(content)
    clean = deidentify(pydicom.dcmread(io.BytesIO(content.tobytes())))
    buffer = io.BytesIO()
    clean.save_as(buffer)
    record = {"name": "x.dcm", "bytes": np.frombuffer(buffer.getvalue(), np.uint8)}
    assert compare.dicom_deidentified()(record, expected, {}).passed
    verdict = compare.dicom_deidentified()({"name": "x.dcm", "bytes": content}, expected, {})
    assert not verdict.passed
    assert "PatientBirthDate" in verdict.got and "ScheduledPerformingPhysicianName" in verdict.got


def test_does_dicom_deidentified_fail_when_pixels_or_geometry_are_removed():
    content = storing.dicom_slice_bytes(np.arange(16.0).reshape(4, 4), (1.5, 1.5, 8.0))
    expected = storing.reference_deidentified(content)

    def start_afresh(dataset):
        bare = pydicom.Dataset()
        bare.Modality = "MR"
        return bare

    record = producers.dicom_dataset("clean")({"clean": start_afresh}, {"dicom": content})
    verdict = compare.dicom_deidentified()(record, expected, {})
    assert not verdict.passed
    assert "removed elements that are needed" in verdict.got and "pixel data is gone" in verdict.got


# ------------------------------------------------------------------ patient_split
def _split_inputs():
    patients = np.repeat([f"p{i:02d}" for i in range(40)], 3)
    labels = np.repeat([1 if i < 8 else 0 for i in range(40)], 3)
    return {"patients": patients, "labels": labels, "fractions": [0.5, 0.25, 0.25]}


def _indices(inputs, groups):
    return tuple(np.flatnonzero(np.isin(inputs["patients"], group)) for group in groups)


def test_does_patient_split_accept_a_stratified_split_in_any_form():
    inputs = _split_inputs()
    rare, common = [f"p{i:02d}" for i in range(8)], [f"p{i:02d}" for i in range(8, 40)]
    groups = (rare[:4] + common[:16], rare[4:6] + common[16:24], rare[6:] + common[24:])
    got = _indices(inputs, groups)
    check = compare.patient_split()
    assert check(got, {"patients_per_set": [20, 10, 10]}, inputs).passed
    as_dict = dict(zip(("train", "validation", "test"), got))
    assert check(as_dict, {}, inputs).passed
    masks = [np.isin(np.arange(120), index) for index in got]
    assert check(masks, {}, inputs).passed


def test_does_patient_split_name_leakage_missing_items_and_imbalance():
    inputs = _split_inputs()
    check = compare.patient_split()
    order = np.arange(120)
    leaky = check((order[:60], order[59:90], order[90:]), {}, inputs)
    assert not leaky.passed and "in more than one set" in leaky.got
    missing = check((order[:60], order[60:90], order[90:110]), {}, inputs)
    assert not missing.passed and "in no set" in missing.got
    rare, common = [f"p{i:02d}" for i in range(8)], [f"p{i:02d}" for i in range(8, 40)]
    unbalanced = check(_indices(inputs, (rare + common[:12], common[12:22], common[22:])),
                       {}, inputs)
    assert not unbalanced.passed and "stratify by class" in unbalanced.got
    assert not check(("p01", "p02"), {}, inputs).passed


def test_do_the_new_comparisons_survive_being_stored_as_data():
    for comparator in (compare.volume(atol=0.5), compare.dicom_deidentified(),
                       compare.patient_split(0.02, 0.01)):
        assert compare.from_spec(comparator.spec()) == comparator
