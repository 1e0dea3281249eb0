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
