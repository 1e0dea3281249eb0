"""Does a DICOM series become a correctly placed, de-identified NIfTI, and is bad input named?"""
import gzip
import json
import random

import nibabel as nib
import numpy as np
import pydicom
import pytest

from chdml.data import dicom
from chdml.data.nifti import load_image

# made-up identifiers written by write_series (its defaults) and by the tests below
IDENTIFYING = ["Doe", "Jane", "CHD-000123", "20120304", "20240115", "101500",
               "Example Children", "Smith", "Referrer", "Jones", "Operator", "ACC0123",
               "STUDY42", "MRSTATION7", "SN-998877", "Made-up Street", "private note"]


def oblique_orientation():
    """Row and column cosines of a plane tilted about two axes (like a short-axis view)."""
    a, b = np.deg2rad(35), np.deg2rad(-20)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rz = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    rotation = rz @ rx
    return rotation[:, 0], rotation[:, 1]


def expected_affine(row_cos, col_cos, spacing, origin):
    normal = np.cross(row_cos, col_cos)
    lps = np.eye(4)
    lps[:3, 0] = col_cos * spacing[0]
    lps[:3, 1] = row_cos * spacing[1]
    lps[:3, 2] = normal * spacing[2]
    lps[:3, 3] = origin
    return np.diag([-1, -1, 1, 1]) @ lps


def shuffle_file_names(folder, seed=0):
    """Rename the files so that name order says nothing about slice order."""
    files = sorted(folder.iterdir())
    names = [f"img_{i:03d}" for i in range(len(files))]
    random.Random(seed).shuffle(names)
    for path, name in zip(files, names):
        path.rename(folder / f"tmp_{name}")
    for path in folder.iterdir():
        path.rename(folder / path.name[4:])


@pytest.fixture
def volume():
    rng = np.random.default_rng(7)
    return rng.integers(0, 1200, size=(20, 24, 6)).astype(np.float64)


def output_bytes(dst):
    raw = dst.read_bytes()
    return raw + gzip.decompress(raw) + dicom.sidecar_path(dst).read_bytes()


def test_oblique_shuffled_series_gives_array_spacing_and_affine(volume, tmp_path, run_cli):
    row_cos, col_cos = oblique_orientation()
    spacing, origin = (1.4, 1.2, 8.0), (-35.0, 12.5, 80.0)
    src = tmp_path / "sax"
    dicom.write_series(volume, spacing, src, orientation=np.r_[row_cos, col_cos], origin=origin)
    shuffle_file_names(src)
    dst = tmp_path / "out" / "sax.nii.gz"
    code, out, err = run_cli("data", "convert-dicom", src, dst)
    assert code == 0, err
    image = nib.load(str(dst))
    np.testing.assert_array_equal(np.asarray(image.dataobj), volume.astype(np.float32))
    np.testing.assert_allclose(image.affine, expected_affine(row_cos, col_cos, spacing, origin),
                               atol=1e-4)
    assert image.header.get_zooms() == pytest.approx(spacing, abs=1e-5)
    # load_image reorients to closest canonical, which may permute the axes
    assert sorted(load_image(dst).spacing) == pytest.approx(sorted(spacing), abs=1e-5)
    sidecar = json.loads(dicom.sidecar_path(dst).read_text())
    assert sidecar["EchoTime"] == 1.6 and sidecar["MagneticFieldStrength"] == 1.5
    assert sidecar["chdml"]["spacing_mm"] == pytest.approx(list(spacing))
    assert "sax.json" in out


def test_slices_are_sorted_by_position_not_instance_number(volume, tmp_path):
    """Positions run against the normal when the origin is the last slice: still sorted."""
    src = tmp_path / "s"
    paths = dicom.write_series(volume, (1.0, 1.0, 5.0), src)
    for path in paths:  # reverse InstanceNumber so that it disagrees with position
        ds = pydicom.dcmread(path)
        ds.InstanceNumber = len(paths) + 1 - ds.InstanceNumber
        ds.save_as(path)
    series = dicom.read_series(src)
    np.testing.assert_array_equal(series.array, volume.astype(np.float32))
    assert series.affine[2, 2] == pytest.approx(5.0)


def test_rescale_slope_and_intercept_are_applied(tmp_path):
    values = np.linspace(-1000, 1500, 4 * 5 * 2).reshape(4, 5, 2)
    src = tmp_path / "ct_like"
    dicom.write_series(values, (1, 1, 2), src, rescale_slope=2.5, rescale_intercept=-1000)
    series = dicom.read_series(src)
    np.testing.assert_allclose(series.array, values, atol=1.25)
    stored = pydicom.dcmread(sorted(src.iterdir())[0]).pixel_array
    assert stored.max() <= (1500 + 1000) / 2.5 + 1  # really stored scaled


def test_single_slice_long_axis_view(tmp_path):
    image = np.arange(30 * 40, dtype=np.float64).reshape(30, 40)
    row_cos, col_cos = oblique_orientation()
    src = tmp_path / "4ch"
    dicom.write_series(image, (1.5, 1.5, 7.0), src, orientation=np.r_[row_cos, col_cos],
                       origin=(1, 2, 3), series_description="4CH cine")
    dst = tmp_path / "4ch.nii.gz"
    result = dicom.convert(src, dst)
    assert result.array.shape == (30, 40, 1) and result.spacing == pytest.approx((1.5, 1.5, 7.0))
    np.testing.assert_allclose(nib.load(str(dst)).affine,
                               expected_affine(row_cos, col_cos, (1.5, 1.5, 7.0), (1, 2, 3)),
                               atol=1e-4)


def test_no_identifying_string_reaches_the_output(volume, tmp_path):
    src = tmp_path / "s"
    paths = dicom.write_series(volume, (1.3, 1.3, 6), src, series_description="SAX Doe CHD-000123")
    first = pydicom.dcmread(paths[0])
    uids = [first.StudyInstanceUID, first.SeriesInstanceUID, first.SOPInstanceUID,
            first.FrameOfReferenceUID]
    dst = tmp_path / "sax.nii.gz"
    dicom.convert(src, dst)
    data = output_bytes(dst)
    for text in IDENTIFYING + uids:
        assert text.encode() not in data, text
        assert text.lower().encode() not in data.lower(), text
    sidecar = json.loads(dicom.sidecar_path(dst).read_text())
    assert sidecar["SeriesDescription"] == "SAX X X"  # cleaned, not dropped


def test_deidentify_removes_identifiers_and_keeps_the_series_together(volume, tmp_path):
    paths = dicom.write_series(volume, (1, 1, 5), tmp_path / "s")
    original = [pydicom.dcmread(p) for p in paths[:2]]
    assert len(dicom.find_identifying(original[0])) > 10
    clean = [dicom.deidentify(ds) for ds in original]
    assert original[0].PatientName == "Doe^Jane"  # the input is not changed
    assert dicom.find_identifying(clean[0]) == []
    assert clean[0].PatientIdentityRemoved == "YES"
    assert clean[0].SeriesInstanceUID == clean[1].SeriesInstanceUID != original[0].SeriesInstanceUID
    assert clean[0].SOPInstanceUID != clean[1].SOPInstanceUID
    assert clean[0].SOPClassUID == original[0].SOPClassUID  # standard UIDs stay
    assert clean[0].file_meta.MediaStorageSOPInstanceUID == clean[0].SOPInstanceUID
    assert not any(element.tag.is_private for element in clean[0])
    np.testing.assert_array_equal(clean[0].pixel_array, original[0].pixel_array)
    out = tmp_path / "clean.dcm"
    clean[0].save_as(out, enforce_file_format=True)
    data = out.read_bytes()
    for text in IDENTIFYING + [original[0].StudyInstanceUID, original[0].SOPInstanceUID]:
        assert text.encode() not in data, text
    assert pydicom.dcmread(out).Rows == volume.shape[0]


def test_deidentify_reaches_into_sequences(tmp_path, volume):
    ds = pydicom.dcmread(dicom.write_series(volume[:, :, :1], (1, 1, 1), tmp_path / "s")[0])
    item = pydicom.Dataset()
    item.PerformingPhysicianName = "Who^Ever"
    item.ProcedureCodeSequence = []  # an empty nested sequence is fine
    item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    item.NamesOfIntendedRecipientsOfResults = "Some^Recipient"  # a person name not listed
    ds.RequestAttributesSequence = [pydicom.Dataset()]
    ds.ReferencedImageSequence = [item]
    ds.InstanceCreationDate, ds.InstanceCreationTime = "20240116", "093000"
    clean = dicom.deidentify(ds)
    assert "RequestAttributesSequence" not in clean
    assert "InstanceCreationDate" not in clean and "InstanceCreationTime" not in clean
    nested = clean.ReferencedImageSequence[0]
    assert "PerformingPhysicianName" not in nested
    assert "NamesOfIntendedRecipientsOfResults" not in nested
    assert nested.ReferencedSOPInstanceUID == clean.SOPInstanceUID  # remapped consistently


def test_cine_series_needs_a_frame(tmp_path, run_cli):
    cine = np.stack([np.full((8, 8, 3), 10.0 * (f + 1)) for f in range(4)], axis=3)
    src = tmp_path / "cine"
    dicom.write_series(cine, (2, 2, 8), src)
    dst = tmp_path / "c.nii.gz"
    code, _, err = run_cli("data", "convert-dicom", src, dst)
    assert code == 2 and "--frame" in err and "4 images" in err and not dst.exists()
    code, _, err = run_cli("data", "convert-dicom", src, dst, "--frame", "2")
    assert code == 0, err
    vol = nib.load(str(dst))
    assert vol.shape == (8, 8, 3) and np.all(np.asarray(vol.dataobj) == 30.0)
    assert vol.header.get_zooms()[2] == pytest.approx(8.0)
    code, _, err = run_cli("data", "convert-dicom", src, tmp_path / "d.nii.gz", "--frame", "9")
    assert code == 2 and "0 to 3" in err


def test_several_series_are_listed_and_one_can_be_picked(volume, tmp_path, run_cli):
    src = tmp_path / "study"
    dicom.write_series(volume, (1, 1, 8), src / "a", series_number=3, series_description="SAX")
    dicom.write_series(volume[:, :, :1] * 2, (1, 1, 8), src / "b", series_number=4,
                       series_description="4CH", orientation=(1, 0, 0, 0, 0, -1))
    dst = tmp_path / "x.nii.gz"
    code, _, err = run_cli("data", "convert-dicom", src, dst)
    assert code == 2 and "2 series" in err and "'SAX'" in err and "'4CH'" in err
    assert "--series" in err and not dst.exists()
    code, _, err = run_cli("data", "convert-dicom", src, dst, "--series", "4")
    assert code == 0, err
    assert nib.load(str(dst)).shape == (20, 24, 1)


def test_non_dicom_files_are_skipped_with_a_note(volume, tmp_path, run_cli):
    src = tmp_path / "s"
    dicom.write_series(volume, (1, 1, 8), src)
    (src / "README.txt").write_text("exported by PACS")
    (src / "empty").write_bytes(b"")
    code, out, err = run_cli("data", "convert-dicom", src, tmp_path / "o.nii.gz")
    assert code == 0, err
    assert "skipped 2" in out and "README.txt" in out


def _assert_refused(run_cli, src, dst, *expected, extra=()):
    code, _, err = run_cli("data", "convert-dicom", src, dst, *extra)
    assert code == 2, err
    message = err.strip()
    assert message.count("\n") == 0 and "Traceback" not in message
    for text in expected:
        assert text in message, (text, message)
    assert not dst.exists() and not dicom.sidecar_path(dst).exists()
    if dst.parent.exists():
        assert not [p for p in dst.parent.iterdir() if ".part" in p.name]
    return message


def test_missing_empty_and_non_dicom_folders(tmp_path, run_cli):
    dst = tmp_path / "out" / "x.nii.gz"
    _assert_refused(run_cli, tmp_path / "nowhere", dst, "nowhere", "does not exist")
    (tmp_path / "empty").mkdir()
    _assert_refused(run_cli, tmp_path / "empty", dst, "empty", "is empty")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("hello")
    _assert_refused(run_cli, tmp_path / "docs", dst, "docs", "no DICOM image files")


def test_corrupt_file_is_named(volume, tmp_path, run_cli):
    src = tmp_path / "s"
    paths = dicom.write_series(volume, (1, 1, 8), src)
    data = paths[2].read_bytes()
    paths[2].write_bytes(data[: len(data) - 300])  # pixel data cut short
    _assert_refused(run_cli, src, tmp_path / "x.nii.gz", paths[2].name, "damaged")
    paths[3].write_bytes(paths[3].read_bytes()[:400])  # header cut short
    paths[2].write_bytes(data)
    _assert_refused(run_cli, src, tmp_path / "x.nii.gz", paths[3].name)


def test_inconsistent_slice_sizes_are_named(volume, tmp_path, run_cli):
    src = tmp_path / "s"
    dicom.write_series(volume, (1, 1, 8), src)
    odd = dicom.write_series(np.zeros((10, 10, 7)), (1, 1, 8), tmp_path / "other")[6]
    odd.rename(src / "IM99999.dcm")  # same series UID (same seed and patient), other size
    _assert_refused(run_cli, src, tmp_path / "x.nii.gz", "IM99999.dcm", "10x10")


def test_missing_orientation_is_named(volume, tmp_path, run_cli):
    src = tmp_path / "s"
    paths = dicom.write_series(volume, (1, 1, 8), src)
    ds = pydicom.dcmread(paths[4])
    del ds.ImageOrientationPatient
    ds.save_as(paths[4])
    _assert_refused(run_cli, src, tmp_path / "x.nii.gz", paths[4].name, "ImageOrientationPatient")


def test_missing_slice_is_detected(volume, tmp_path, run_cli):
    src = tmp_path / "s"
    paths = dicom.write_series(volume, (1, 1, 8), src)
    paths[3].unlink()
    _assert_refused(run_cli, src, tmp_path / "x.nii.gz", "not evenly spaced", "8.00 to 16.00")


def test_existing_output_and_wrong_extension(volume, tmp_path, run_cli):
    src = tmp_path / "s"
    dicom.write_series(volume, (1, 1, 8), src)
    dst = tmp_path / "x.nii.gz"
    dst.write_bytes(b"keep me")
    code, _, err = run_cli("data", "convert-dicom", src, dst)
    assert code == 2 and "--overwrite" in err and dst.read_bytes() == b"keep me"
    code, _, err = run_cli("data", "convert-dicom", src, dst, "--overwrite")
    assert code == 0 and nib.load(str(dst)).shape == volume.shape
    _assert_refused(run_cli, src, tmp_path / "x.png", "x.png", ".nii.gz")


def test_write_series_refuses_values_that_do_not_fit(tmp_path):
    with pytest.raises(ValueError, match="uint16"):
        dicom.write_series(np.full((2, 2, 1), -5.0), (1, 1, 1), tmp_path / "s")
