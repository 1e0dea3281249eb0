"""Do crop/pad, resize, normalisation, CLAHE and resampling follow their stated conventions?"""
import numpy as np
import pytest

from chdml.data.nifti import Volume, affine_from_spacing
from chdml.data.preprocess import (IntensityStats, crop_or_pad, crop_or_pad_to_square,
                                   equalise_contrast, fit_intensity_stats, min_max_normalise,
                                   percentile_normalise, resample_volume, resize,
                                   resized_spacing, z_score_normalise)


# ------------------------------------------------------------------ crop and pad
def test_crop_keeps_the_centre_and_cuts_the_odd_pixel_at_the_bottom_right():
    image = np.arange(5 * 8).reshape(5, 8)
    square = crop_or_pad_to_square(image)           # 8 -> 5 columns: 3 removed, 1 left, 2 right
    assert square.shape == (5, 5)
    np.testing.assert_array_equal(square, image[:, 1:6])


def test_pad_adds_the_odd_pixel_at_the_bottom_right():
    image = np.ones((2, 5), np.uint8)
    square = crop_or_pad_to_square(image, mode="pad")  # 2 -> 5 rows: 1 above, 2 below
    assert square.shape == (5, 5) and square.dtype == np.uint8
    np.testing.assert_array_equal(square[:, 0], [0, 1, 1, 0, 0])


def test_crop_or_pad_handles_each_axis_and_batches_with_channels():
    batch = np.random.default_rng(0).random((3, 7, 4, 1))
    out = crop_or_pad(batch, (5, 6))
    assert out.shape == (3, 5, 6, 1)
    np.testing.assert_array_equal(out[:, :, 1:5], batch[:, 1:6])   # rows cropped, cols padded
    assert np.all(out[:, :, 0] == 0) and np.all(out[:, :, 5] == 0)


def test_crop_equals_keras_center_crop_offsets():
    image = np.arange(9 * 9).reshape(9, 9)
    assert crop_or_pad(image, 4)[0, 0] == image[2, 2]   # (9 - 4) // 2 = 2


def test_bad_layout_and_mode_are_refused():
    with pytest.raises(ValueError, match="expected an image"):
        crop_or_pad(np.zeros(5), 3)
    with pytest.raises(ValueError, match="mode"):
        crop_or_pad_to_square(np.zeros((3, 4)), mode="stretch")


# ------------------------------------------------------------------ resize
def test_resize_label_keeps_label_values_exactly():
    rng = np.random.default_rng(1)
    mask = rng.choice(np.array([0, 1, 2, 3, 7], np.uint8), size=(2, 13, 11))
    for size in (5, 17, (9, 31)):
        out = resize(mask, size, kind="label")
        assert out.dtype == np.uint8
        assert set(np.unique(out)) <= {0, 1, 2, 3, 7}
    assert resize(mask, (13, 11), kind="label") is not mask          # a copy, same values
    np.testing.assert_array_equal(resize(mask, (26, 22), kind="label")[:, ::2, ::2], mask)


def test_resize_image_is_bilinear_float32_and_batch_equals_one_by_one():
    rng = np.random.default_rng(2)
    batch = rng.random((3, 9, 7, 1)) * 300
    out = resize(batch, 16)
    assert out.shape == (3, 16, 16, 1) and out.dtype == np.float32
    single = resize(batch[1, :, :, 0], 16)
    np.testing.assert_allclose(out[1, :, :, 0], single, rtol=1e-6)
    # bilinear: a linear ramp stays a linear ramp inside the image, within its range
    ramp = np.tile(np.arange(8, dtype=np.float32), (8, 1))
    wide = resize(ramp, (8, 15))
    assert wide.min() >= 0 and wide.max() <= 7
    assert np.allclose(np.diff(wide[0, 1:-1]), np.diff(wide[0, 1:-1])[0], atol=1e-5)


def test_resized_spacing_keeps_the_field_of_view():
    assert resized_spacing((1.0, 2.0), (200, 100), (100, 50)) == (2.0, 4.0)


# ------------------------------------------------------------------ normalisation
def test_min_max_on_an_odd_range():
    image = np.array([[-1000.0, 0.0], [1000.0, 3000.0]])
    np.testing.assert_allclose(min_max_normalise(image), [[0, 0.25], [0.5, 1.0]])


def test_constant_images_become_zeros_not_nan():
    batch = np.stack([np.full((4, 4), 7.0), np.zeros((4, 4)),
                      np.arange(16.0).reshape(4, 4)])
    for normalise in (min_max_normalise, percentile_normalise, z_score_normalise):
        out = normalise(batch, per_image=True)
        assert np.all(np.isfinite(out)), normalise.__name__
        assert np.all(out[:2] == 0), normalise.__name__
    assert np.all(z_score_normalise(np.full((3, 3), 0.1, np.float32)) == 0)


def test_per_image_differs_from_whole_batch():
    batch = np.stack([np.linspace(0, 1, 16).reshape(4, 4),
                      np.linspace(0, 100, 16).reshape(4, 4)])
    per_image = min_max_normalise(batch, per_image=True)
    whole = min_max_normalise(batch)
    np.testing.assert_allclose(per_image[0], per_image[1], atol=1e-6)
    assert whole[0].max() == pytest.approx(0.01)


def test_training_statistics_are_applied_to_test_images_unchanged():
    rng = np.random.default_rng(3)
    train = rng.normal(100, 20, (10, 8, 8))
    test = rng.normal(300, 20, (4, 8, 8))          # a brighter "scanner"
    stats = fit_intensity_stats(train)
    assert isinstance(stats, IntensityStats) and stats.mean == pytest.approx(train.mean())
    shifted = min_max_normalise(test, stats=stats)
    assert shifted.min() > 1.0                      # the shift stays visible ...
    assert min_max_normalise(test).max() == pytest.approx(1.0)   # ... and is hidden otherwise
    np.testing.assert_allclose(z_score_normalise(test, stats=stats),
                               (test - train.mean()) / (train.std() + 1e-8), rtol=1e-5)
    assert np.all(min_max_normalise(test, stats=stats, clip=True) == 1.0)
    with pytest.raises(ValueError, match="not both"):
        min_max_normalise(test, stats=stats, per_image=True)


def test_percentile_normalise_clips_outliers():
    image = np.concatenate([np.linspace(0, 1, 98), [50.0, 1e6]]).reshape(10, 10)
    out = percentile_normalise(image, 1, 98)
    assert out.min() == 0 and out.max() == 1
    assert np.sum(out == 1.0) >= 2                 # both outliers clipped to the top
    stats = fit_intensity_stats(image, percentiles=(1, 98))
    np.testing.assert_allclose(percentile_normalise(image, stats=stats), out, atol=1e-6)


def test_z_score_has_zero_mean_unit_std():
    image = np.random.default_rng(4).gamma(2.0, 50.0, (31, 17))
    out = z_score_normalise(image)
    assert out.mean() == pytest.approx(0, abs=1e-5) and out.std() == pytest.approx(1, abs=1e-4)


def test_nan_is_refused_with_a_pointer_to_cleaning():
    with pytest.raises(ValueError, match="find_broken_cases"):
        min_max_normalise(np.array([[1.0, np.nan]]))


# ------------------------------------------------------------------ CLAHE
def test_clahe_returns_unit_range_per_image_and_keeps_layout():
    rng = np.random.default_rng(5)
    batch = rng.gamma(2.0, 40.0, (2, 33, 21, 1))
    batch[1] = 5.0
    out = equalise_contrast(batch)
    assert out.shape == batch.shape and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1 and out[0].max() > 0.9
    assert np.all(out[1] == 0)                                  # constant image
    np.testing.assert_allclose(out[0, :, :, 0], equalise_contrast(batch[0, :, :, 0]))
    # a few bright pixels squeeze the rest into a narrow grey range; CLAHE spreads it again
    squeezed = rng.random((64, 64)) * 0.1
    squeezed[:4] = 1.0
    tissue = np.s_[8:, :]
    assert (np.std(equalise_contrast(squeezed)[tissue])
            > 2 * np.std(min_max_normalise(squeezed)[tissue]))


# ------------------------------------------------------------------ resampling
def _volume(array, spacing):
    return Volume(np.asarray(array), tuple(spacing), affine_from_spacing(spacing))


def test_resample_to_finer_spacing_updates_shape_spacing_and_affine():
    image = _volume(np.random.default_rng(6).random((10, 8, 3)).astype(np.float32), (2, 2, 8))
    out = resample_volume(image, (1.0, 1.0, None))
    assert out.array.shape == (20, 16, 3)
    assert out.spacing == (1.0, 1.0, 8.0)
    np.testing.assert_allclose(np.linalg.norm(out.affine[:3, :3], axis=0), out.spacing)
    np.testing.assert_allclose(out.affine[:3, 3], image.affine[:3, 3])   # first voxel kept
    np.testing.assert_allclose(out.array[::2, ::2], image.array, atol=1e-6)  # grid points


def test_resample_label_is_nearest_and_keeps_values():
    label = np.zeros((9, 9, 2), np.uint8)
    label[2:7, 2:7] = 3
    label[4, 4] = 1
    out = resample_volume(_volume(label, (1.5, 1.5, 6)), (1.0, 1.0, 6), kind="label")
    assert out.array.dtype == np.uint8 and set(np.unique(out.array)) == {0, 1, 3}
    # the volume of the structure (mL) is about the same
    before = np.sum(label == 3) * 1.5 * 1.5 * 6
    after = np.sum(out.array == 3) * 1.0 * 1.0 * 6
    assert after == pytest.approx(before, rel=0.15)


def test_resample_refuses_bad_spacing():
    with pytest.raises(ValueError, match="positive"):
        resample_volume(_volume(np.zeros((2, 2, 2)), (1, 1, 1)), (0, 1, 1))
