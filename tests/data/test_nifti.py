"""Do NIfTI files keep array, dtype, spacing and affine, and fail clearly when broken?"""
import numpy as np
import nibabel as nib
import pytest

from chdml.data.nifti import load_image, load_label, save_image, save_label
from chdml.errors import UserError


def test_image_round_trip_keeps_values_spacing_and_affine(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(12, 10, 4)).astype(np.float32)
    path = save_image(tmp_path / "img.nii.gz", image, spacing=(1.25, 1.5, 8.0))
    vol = load_image(path)
    assert vol.array.dtype == np.float32 and vol.array.shape == (12, 10, 4)
    np.testing.assert_array_equal(vol.array, image)
    assert vol.spacing == pytest.approx((1.25, 1.5, 8.0))
    np.testing.assert_allclose(np.diag(vol.affine), [1.25, 1.5, 8.0, 1.0])
    assert nib.load(str(path)).get_data_dtype() == np.float32
    assert "spacing=1.25x1.5x8 mm" in repr(vol)


def test_label_is_uint8_through_dataobj(tmp_path):
    mask = np.zeros((6, 6, 2), np.uint8)
    mask[1:3, 1:4, 0] = 3
    path = save_label(tmp_path / "m.nii.gz", mask, spacing=(2, 2, 6))
    vol = load_label(path)
    assert vol.array.dtype == np.uint8
    np.testing.assert_array_equal(vol.array, mask)
    assert nib.load(str(path)).get_data_dtype() == np.uint8
    assert vol.voxel_volume_ml == pytest.approx(0.024)


def test_two_d_image_becomes_one_slice(tmp_path):
    vol = load_image(save_image(tmp_path / "a.nii.gz", np.ones((5, 7))))
    assert vol.array.shape == (5, 7, 1)


def test_closest_canonical_undoes_a_flipped_axis(tmp_path):
    image = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    flipped = np.diag([-1.0, 1.0, 1.0, 1.0])
    nib.save(nib.Nifti1Image(image[::-1].copy(), flipped), str(tmp_path / "f.nii.gz"))
    np.testing.assert_array_equal(load_image(tmp_path / "f.nii.gz").array, image)


def test_truncated_file_names_the_file(tmp_path):
    path = save_image(tmp_path / "scan.nii.gz", np.random.default_rng(1).normal(size=(64, 64, 8)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="scan.nii.gz"):
        load_image(path)


def test_missing_file_and_garbage_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_image(tmp_path / "nope.nii.gz")
    (tmp_path / "junk.nii.gz").write_bytes(b"not a nifti at all")
    with pytest.raises(UserError, match="junk.nii.gz"):
        load_image(tmp_path / "junk.nii.gz")


def test_four_d_is_refused(tmp_path):
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 3, 2), np.float32), np.eye(4)), str(tmp_path / "c.nii.gz"))
    with pytest.raises(UserError, match="4 dimensions"):
        load_image(tmp_path / "c.nii.gz")


def test_image_passed_as_label_is_refused(tmp_path):
    path = save_image(tmp_path / "i.nii.gz", np.full((4, 4, 1), 0.5))
    with pytest.raises(UserError, match="not a label map"):
        load_label(path)


def test_interrupted_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = save_image(tmp_path / "scan.nii.gz", np.zeros((4, 4, 2)))
    before = path.read_bytes()

    def half_written_then_ctrl_c(img, filename):
        with open(filename, "wb") as fh:
            fh.write(b"\x1f\x8b half")
        raise KeyboardInterrupt

    monkeypatch.setattr(nib, "save", half_written_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        save_image(path, np.ones((4, 4, 2)))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scan.nii.gz"]


def test_labels_that_are_not_whole_numbers_are_refused(tmp_path):
    for bad in (np.full((2, 2, 1), 0.6), np.full((2, 2, 1), np.nan), np.full((2, 2, 1), 256)):
        with pytest.raises(ValueError, match="whole numbers"):
            save_label(tmp_path / "m.nii.gz", bad)
    assert list(tmp_path.iterdir()) == []


def test_singular_affine_and_wrong_extension_are_refused(tmp_path):
    with pytest.raises(ValueError, match="invertible"):
        save_image(tmp_path / "a.nii.gz", np.zeros((2, 2, 2)), affine=np.diag([1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(UserError, match="scan.txt.*nii.gz"):
        save_image(tmp_path / "scan.txt", np.zeros((2, 2, 2)))
    assert list(tmp_path.iterdir()) == []


def test_oblique_affine_round_trips_with_spacing_from_column_norms(tmp_path):
    angle = np.deg2rad(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0],
                         [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([1.5, 1.5, 6.0])
    affine[:3, 3] = [-10.0, 20.0, 5.0]
    path = save_image(tmp_path / "o.nii.gz", np.zeros((3, 3, 2)), affine=affine)
    raw = nib.load(str(path))
    np.testing.assert_allclose(raw.affine, affine, atol=1e-5)
    assert load_image(path).spacing == pytest.approx((1.5, 1.5, 6.0))
