"""Tests for chdml.train, chdml.train_classifier, chdml.augment and chdml.inference."""
from __future__ import annotations

import dataclasses
import json
import zipfile

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from chdml import augment, inference, train  # noqa: E402
from chdml.data import folder  # noqa: E402
from chdml.data.nifti import load_image  # noqa: E402
from chdml.errors import UserError  # noqa: E402
from tests.tiny_datasets import write_dataset  # noqa: E402

FAST = dict(input_size=32, patch_size=None, depth=2, base_filters=4, batch_size=8,
            warmup_steps=0, mixed_precision=False, ensemble_members=1,
            time_budget_minutes=0)


# --- augmentation -------------------------------------------------------------------------

def _square_pair():
    mask = np.zeros((32, 32), np.int32)
    mask[8:20, 10:24] = 1
    mask[20:26, 10:16] = 3
    return mask.astype(np.float32)[..., None] / 3.0, mask


def test_does_the_same_seed_give_the_same_augmentation():
    image, mask = _square_pair()
    a = augment.augment_pair(image, mask, np.array([4, 2]))
    b = augment.augment_pair(image, mask, np.array([4, 2]))
    c = augment.augment_pair(image, mask, np.array([5, 2]))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("seed", range(4))
def test_are_image_and_mask_moved_together(seed):
    image, mask = _square_pair()
    settings = augment.AugmentSettings(flip_left_right=0.5, flip_up_down=0.5, gamma=0,
                                       contrast=0, brightness=0, noise=0)
    moved_image, moved_mask = augment.augment_pair(image, mask, np.array([seed, 0]), settings)
    moved_image, moved_mask = moved_image.numpy()[..., 0], moved_mask.numpy()
    assert moved_mask.shape == mask.shape and moved_mask.dtype == mask.dtype
    assert set(np.unique(moved_mask)) <= {0, 1, 3}
    # the image encodes the labels (value/3): away from edges (where bilinear and
    # nearest interpolation differ) the moved image must still equal moved mask / 3
    from scipy import ndimage

    uniform = ndimage.maximum_filter(moved_mask, 3) == ndimage.minimum_filter(moved_mask, 3)
    assert (uniform & (moved_mask == 1)).sum() > 30
    np.testing.assert_allclose(moved_image[uniform], moved_mask[uniform] / 3.0, atol=0.02)


def test_does_no_augmentation_leave_the_pair_unchanged():
    image, mask = _square_pair()
    out_image, out_mask = augment.augment_pair(image, mask, np.array([1, 1]),
                                               augment.NO_AUGMENTATION)
    np.testing.assert_allclose(out_image.numpy(), image, atol=1e-6)
    assert np.array_equal(out_mask.numpy(), mask)


def test_does_intensity_augmentation_leave_the_mask_alone():
    image, mask = _square_pair()
    settings = augment.AugmentSettings(rotation_degrees=0, zoom=0, shift=0, gamma=0.5,
                                       contrast=0.3, brightness=0.2, noise=0.05)
    out_image, out_mask = augment.augment_pair(image, mask, np.array([3, 3]), settings)
    assert np.array_equal(out_mask.numpy(), mask)
    assert not np.allclose(out_image.numpy(), image)



def test_does_stretch_widen_and_flatten_by_one_factor():
    mask = np.zeros((64, 64), np.int32)
    mask[22:42, 22:42] = 1          # a 20 x 20 square in the middle
    settings = augment.AugmentSettings(rotation_degrees=0, zoom=0, shift=0, gamma=0,
                                       contrast=0, brightness=0, noise=0, stretch=0.4)
    changed = 0
    for seed in range(10):
        _, moved = augment.augment_pair(mask[..., None].astype(np.float32), mask,
                                        np.array([seed, 9]), settings)
        rows, columns = np.nonzero(moved.numpy())
        height, width = np.ptp(rows) + 1, np.ptp(columns) + 1
        assert abs(width * height - 400) < 0.15 * 400     # the area stays
        if width != 20:                                    # wider and flatter, or
            assert (width > 20) == (height < 20)           # narrower and taller
            changed += 1
    assert changed >= 5      # factors in [1/1.4, 1.4]: most move the edge a pixel or more


def test_does_zero_stretch_give_the_augmentation_without_it():
    image, mask = _square_pair()
    plain = augment.AugmentSettings()
    a = augment.augment_pair(image, mask, np.array([2, 5]), plain)
    b = augment.augment_pair(image, mask, np.array([2, 5]),
                             dataclasses.replace(plain, stretch=0.0))
    c = augment.augment_pair(image, mask, np.array([2, 5]),
                             dataclasses.replace(plain, stretch=0.3))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])

# --- pipeline and helpers ---------------------------------------------------------------------

def test_does_the_pipeline_batch_and_repeat_identically():
    rng = np.random.default_rng(0)
    images = rng.random((10, 16, 16)).astype(np.float32)
    masks = (images > 0.5).astype(np.uint8)
    first = [b for b in train.make_dataset(images, masks, 4, seed=3,
                                           augment=augment.AugmentSettings())]
    second = [b for b in train.make_dataset(images, masks, 4, seed=3,
                                            augment=augment.AugmentSettings())]
    assert [tuple(x.shape) for x, _ in first] == [(4, 16, 16, 1), (4, 16, 16, 1),
                                                  (2, 16, 16, 1)]
    for (x1, y1), (x2, y2) in zip(first, second):
        # the geometry (and so every mask) is exactly reproducible; intensities only to
        # float rounding, since TensorFlow's threaded reductions may add in another order
        assert np.array_equal(y1, y2)
        np.testing.assert_allclose(x1, x2, rtol=0, atol=1e-5)


def test_are_validation_patients_whole_and_spread_over_diagnoses():
    records = [folder.CaseRecord(f"p{i}_{ph}", f"p{i}", diagnosis="A" if i < 6 else "B")
               for i in range(10) for ph in ("ED", "ES")]
    chosen = train.choose_validation_patients(records, fraction=0.2, seed=1)
    assert len(chosen) == 2
    assert {"A", "B"} == {("A" if int(p[1:]) < 6 else "B") for p in chosen}
    assert chosen == train.choose_validation_patients(records, fraction=0.2, seed=1)
    with pytest.raises(UserError, match="at least 3 patients"):
        train.choose_validation_patients(records[:4])


def test_does_normalisation_map_percentiles_to_0_and_1():
    volume = np.arange(1000, dtype=np.float32).reshape(10, 10, 10)
    out = inference.normalise_volume(volume, 1, 99)
    assert out.min() == 0 and out.max() == 1 and out.dtype == np.float32
    assert np.all(inference.normalise_volume(np.full((4, 4, 2), 7.0)) == 0)


@pytest.mark.parametrize("shape", [(48, 40, 3), (40, 48, 2), (32, 32, 1)])
def test_does_the_grid_round_trip_keep_the_shape_and_the_labels(shape):
    rng = np.random.default_rng(0)
    label = np.zeros(shape, np.uint8)
    label[10:25, 12:30] = 1
    grid = inference.to_grid(label, (64, 64), kind="label")
    assert grid.shape == (shape[2], 64, 64) and grid.dtype == np.uint8
    one_hot = np.eye(2, dtype=np.float32)[grid]
    back = inference.from_grid(one_hot, shape[:2])
    assert back.shape == shape + (2,)
    assert np.mean(np.argmax(back, -1) == label) > 0.97
    image = inference.to_grid(rng.random(shape).astype(np.float32), (64, 64))
    assert image.shape == (shape[2], 64, 64) and image.dtype == np.float32


def test_does_postprocessing_keep_only_the_largest_component_per_label():
    label = np.zeros((20, 20, 3), np.uint8)
    label[2:10, 2:10, :] = 1
    label[15:17, 15:17, 1] = 1     # small LV island: removed
    label[12:18, 2:6, :] = 3       # RV: kept
    out = inference.keep_largest_component(label)
    assert out[15, 15, 1] == 0 and out[5, 5, 1] == 1 and out[14, 3, 0] == 3
    assert (out == 1).sum() == 8 * 8 * 3


# --- training through the command line ----------------------------------------------------

@pytest.mark.slow
def test_does_train_segmentation_write_a_model_with_its_settings(tmp_path, run_cli):
    data = write_dataset(tmp_path / "data", patients=3, test_patients=1,
                         labels={"background": 0, "RV": 3})
    for image in (data / "imagesTs").iterdir():  # training must never open the test split
        image.write_bytes(b"not a nifti")
    out = tmp_path / "models" / "rv.keras"
    code, stdout, stderr = run_cli("train", "segmentation", "--data", data, "--out", out,
                                   "--epochs", 1)
    assert code == 0, stderr
    assert out.is_file() and train.curves_path(out).is_file()
    info = inference.read_model_info(out)
    assert info.task == "segmentation"
    assert info.labels == {"background": 0, "RV": 3}
    assert info.input_size == (128, 128)
    members = info.training["members"]   # the default is an ensemble
    assert len(members) == train.SegmentationSettings().ensemble_members > 1
    patients = {r.patient for r in train.training_records(data)}
    for member in members:   # the default holds out no validation patients
        assert member["epochs_run"] == 1 and member["validation_cases"] == []
        assert {c.split("_")[0] for c in member["train_cases"]} == patients
        assert not any("2CH" in c for c in member["train_cases"])
    model, _ = inference.load_model_file(out)
    assert model.output_shape == (None, None, None, 2)
    layers = [inner for layer in model.layers for inner in getattr(layer, "layers", [layer])]
    assert len(layers) > 20 and all(layer.dtype_policy.name == "float32" for layer in layers)


def test_does_an_ensemble_train_each_member_on_its_own_validation_patients(tmp_path):
    data = write_dataset(tmp_path / "data", patients=5, long_axis=False)
    settings = train.SegmentationSettings(**{**FAST, "ensemble_members": 2}, epochs=1,
                                          validation_fraction=train.VALIDATION_FRACTION)
    out = tmp_path / "ensemble.keras"
    _, info, histories = train.train_segmentation(data, out, seed=3, settings=settings,
                                                  verbose=False)
    members = info.training["members"]
    assert [m["seed"] for m in members] == [3, 4] and len(histories) == 2
    records = train.training_records(data)
    for member in members:
        expected = train.choose_validation_patients(records, seed=member["seed"])
        assert {c.split("_")[0] for c in member["validation_cases"]} == expected
    model, loaded_info = inference.load_model_file(out)
    assert [layer.name for layer in model.layers] == ["image", "unet_1", "unet_2", "mean"]
    assert loaded_info.training["members"] == members
    case = folder.read_cases(data)[0]
    volume = load_image(folder.image_path(data, case))
    predicted = inference.segment_volume(model, loaded_info, volume.array, volume.spacing)
    assert predicted.shape == volume.array.shape
    assert set(np.unique(predicted)) <= set(info.label_values)
    assert train.curves_path(out).is_file()
    with pytest.raises(UserError, match="ensemble_members"):
        train.train_segmentation(data, tmp_path / "bad.keras", verbose=False,
                                 settings=train.SegmentationSettings(**{**FAST,
                                                                        "ensemble_members": 0}))


def test_does_no_validation_train_on_every_patient_and_run_every_epoch(tmp_path, capsys):
    data = write_dataset(tmp_path / "data", patients=4, long_axis=False)
    settings = train.SegmentationSettings(**{**FAST, "validation_fraction": 0.0}, epochs=3)
    out = tmp_path / "all.keras"
    _, info, history = train.train_segmentation(data, out, settings=settings, verbose=True)
    printed = capsys.readouterr().out
    assert "no validation patients" in printed and "best validation Dice" not in printed
    assert f"wrote {out}" in printed    # the user is told where the model went
    patients = {r.patient for r in train.training_records(data)}
    assert {c.split("_")[0] for c in info.training["train_cases"]} == patients
    assert info.training["validation_cases"] == []
    assert info.training["best_val_dice"] is None
    assert info.training["epochs_run"] == info.training["best_epoch"] == 3
    assert sorted(history) == ["loss"] and len(history["loss"]) == 3
    assert train.curves_path(out).is_file()
    model, loaded = inference.load_model_file(out)
    case = folder.read_cases(data)[0]
    volume = load_image(folder.image_path(data, case))
    assert inference.segment_volume(model, loaded, volume.array,
                                    volume.spacing).shape == volume.array.shape
    for bad in (-0.1, 1.0):
        with pytest.raises(UserError, match="validation_fraction"):
            train.train_segmentation(data, tmp_path / "bad.keras", verbose=False,
                                     settings=dataclasses.replace(settings,
                                                                  validation_fraction=bad))
    assert not (tmp_path / "bad.keras").exists()


def test_does_each_slice_get_its_own_neighbours_as_channels():
    slices = np.arange(3)[:, None, None] * np.ones((3, 2, 2))  # slice i is filled with i
    stacked = inference.with_neighbours(slices, 1)
    assert stacked.shape == (3, 2, 2, 3)
    assert stacked[:, 0, 0].tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 2]]  # edges repeated
    assert inference.with_neighbours(slices, 0).shape == (3, 2, 2, 1)
    assert inference.with_neighbours(slices[:1], 2)[0, 0, 0].tolist() == [0] * 5
    with pytest.raises(ValueError, match="neighbours"):
        inference.with_neighbours(slices, -1)


def test_does_a_2_5d_model_take_and_predict_neighbouring_slices(tmp_path):
    data = write_dataset(tmp_path / "data", patients=5, long_axis=False)
    settings = train.SegmentationSettings(**{**FAST, "neighbour_slices": 1}, epochs=1)
    out = tmp_path / "neighbours.keras"
    train.train_segmentation(data, out, settings=settings, verbose=False)
    model, info = inference.load_model_file(out)
    assert info.neighbour_slices == 1 and model.input_shape[-1] == 3
    case = folder.read_cases(data)[0]
    volume = load_image(folder.image_path(data, case))
    predicted = inference.segment_volume(model, info, volume.array, volume.spacing)
    assert predicted.shape == volume.array.shape
    for bad in (-1, 1.5, True):
        with pytest.raises(UserError, match="neighbour_slices must be a whole number"):
            train.train_segmentation(data, tmp_path / "bad.keras", verbose=False,
                                     settings=dataclasses.replace(settings,
                                                                  neighbour_slices=bad))
    assert not (tmp_path / "bad.keras").exists()


@pytest.mark.slow
def test_does_a_short_training_learn_the_tiny_shapes(tmp_path):
    data = write_dataset(tmp_path / "data", patients=6, long_axis=False)
    settings = train.SegmentationSettings(**{**FAST, "input_size": 48, "base_filters": 8},
                                          epochs=10, learning_rate=1e-2,
                                          validation_fraction=train.VALIDATION_FRACTION)
    _, info, history = train.train_segmentation(data, tmp_path / "m.keras", seed=0,
                                                settings=settings, verbose=False)
    assert info.training["best_val_dice"] > 0.8   # mean of LV, MYO and RV
    assert len(history["loss"]) == 10 and history["loss"][-1] < history["loss"][0]


def test_does_a_time_budget_change_nothing_when_the_training_fits(tmp_path, capsys):
    data = write_dataset(tmp_path / "data", patients=3, long_axis=False)
    settings = train.SegmentationSettings(**{**FAST, "ensemble_members": 2}, epochs=2)
    runs = {}
    for minutes in (0, 60):
        runs[minutes] = train.train_segmentation(
            data, tmp_path / f"m{minutes}.keras", seed=5, verbose=True,
            settings=dataclasses.replace(settings, time_budget_minutes=minutes))
    assert runs[0][1].training["time_budget"] is None
    plan = runs[60][1].training["time_budget"]
    assert not plan["reduced"] and (plan["members"], plan["requested_members"]) == (2, 2)
    assert plan["seconds_per_step"] > 0 and "does not fit" not in capsys.readouterr().out
    for unlimited, budgeted in zip(runs[0][2], runs[60][2]):   # the same two members
        np.testing.assert_allclose(unlimited["loss"], budgeted["loss"], rtol=1e-5)


def test_does_a_budget_too_small_train_one_member_and_stop_at_the_deadline(tmp_path, capsys):
    data = write_dataset(tmp_path / "data", patients=3, long_axis=False)
    settings = train.SegmentationSettings(**{**FAST, "ensemble_members": 3,
                                             "time_budget_minutes": 1e-4}, epochs=4)  # 6 ms
    out = tmp_path / "m.keras"
    _, info, history = train.train_segmentation(data, out, settings=settings, verbose=True)
    assert "does not fit the 0.0001-minute budget; training 1 U-Net of" in capsys.readouterr().out
    training = info.training
    assert "members" not in training and training["stopped_at_deadline"]
    assert training["epochs_run"] == 1 and len(history["loss"]) == 1
    assert training["time_budget"]["reduced"] and training["time_budget"]["members"] == 1
    model, loaded = inference.load_model_file(out)   # a whole, usable model file
    assert loaded.training["time_budget"]["requested_members"] == 3
    for bad in (-1, "20", True, float("nan")):
        with pytest.raises(UserError, match="time_budget_minutes must be a number"):
            train.train_segmentation(data, tmp_path / "bad.keras", verbose=False,
                                     settings=dataclasses.replace(settings,
                                                                  time_budget_minutes=bad))
    assert not (tmp_path / "bad.keras").exists()


@pytest.mark.slow
def test_does_the_same_seed_give_the_same_model(tmp_path):
    data = write_dataset(tmp_path / "data", patients=3, long_axis=False)
    settings = train.SegmentationSettings(**FAST, epochs=2)
    runs = [train.train_segmentation(data, tmp_path / f"m{i}.keras", seed=5,
                                     settings=settings, verbose=False)[2] for i in (1, 2)]
    np.testing.assert_allclose(runs[0]["loss"], runs[1]["loss"], rtol=1e-5)


@pytest.mark.slow
def test_is_the_saved_model_the_one_that_scored_best_on_validation(tmp_path):
    # With weight averaging the averaged weights are validated and kept, not the raw ones.
    data = write_dataset(tmp_path / "data", patients=4, long_axis=False)
    curves = []
    for ema_momentum in (0.0, 0.5):
        settings = train.SegmentationSettings(
            **{**FAST, "input_size": 48, "base_filters": 8, "ema_momentum": ema_momentum},
            epochs=4, learning_rate=1e-2, validation_fraction=train.VALIDATION_FRACTION)
        out = tmp_path / f"ema{ema_momentum}.keras"
        _, info, history = train.train_segmentation(data, out, seed=1, settings=settings,
                                                    verbose=False)
        model, _ = inference.load_model_file(out)
        validation = [c for c in train.load_training_cases(
            data, train.training_records(data), info.labels)
            if c.record.case in info.training["validation_cases"]]
        images, masks, index = train.slices_and_masks(
            validation, list(info.labels.values()), settings.input_size,
            settings.normalisation_low, settings.normalisation_high)
        logs = {}
        callback = train.volume_dice_callback(images, masks, index, len(info.labels))
        callback.set_model(model)
        callback.on_epoch_end(0, logs)
        assert logs["val_dice"] == pytest.approx(max(history["val_dice"]), abs=1e-6)
        assert info.training["best_val_dice"] == pytest.approx(logs["val_dice"], abs=1e-6)
        curves.append(history["val_dice"])
    assert curves[0][1:] != pytest.approx(curves[1][1:], abs=1e-4)   # averaging acts


@pytest.mark.slow
def test_does_train_classifier_learn_views_from_cases_csv(tmp_path, run_cli):
    data = write_dataset(tmp_path / "data", patients=4)
    out = tmp_path / "views.keras"
    code, stdout, stderr = run_cli("train", "classifier", "--data", data, "--out", out,
                                   "--epochs", 2)
    assert code == 0, stderr
    info = inference.read_model_info(out)
    assert info.task == "classifier" and info.labels == {"other": 0, "SAX": 1}
    assert "view" in info.classifier_target
    model, _ = inference.load_model_file(out)
    assert model.output_shape == (None, 1)


# --- bad input --------------------------------------------------------------------------------

def test_is_a_missing_dataset_folder_one_sentence(tmp_path, run_cli):
    code, _, stderr = run_cli("train", "segmentation", "--data", tmp_path / "nope", "--out",
                              tmp_path / "m.keras")
    assert code == 2 and "does not exist" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "m.keras").exists()


def test_is_an_empty_dataset_refused(tmp_path, run_cli):
    data = tmp_path / "data"
    folder.write_metadata(data, [], {"background": 0, "LV": 1}, name="empty")
    code, _, stderr = run_cli("train", "segmentation", "--data", data, "--out",
                              tmp_path / "m.keras")
    assert code == 2 and "empty" in stderr
    assert not list(tmp_path.glob("m*"))


def test_is_a_label_folder_without_images_refused(tmp_path, run_cli):
    data = write_dataset(tmp_path / "data", patients=2, long_axis=False)
    for image in (data / "imagesTr").iterdir():
        image.unlink()
    code, _, stderr = run_cli("train", "segmentation", "--data", data, "--out",
                              tmp_path / "m.keras")
    assert code == 2 and "labelsTr" in stderr and "no images" in stderr


def test_are_labels_missing_from_dataset_json_refused(tmp_path, run_cli):
    data = write_dataset(tmp_path / "data", patients=3, long_axis=False)
    meta = json.loads((data / "dataset.json").read_text())
    meta["labels"] = {"background": 0, "LV": 1}
    (data / "dataset.json").write_text(json.dumps(meta))
    code, _, stderr = run_cli("train", "segmentation", "--data", data, "--out",
                              tmp_path / "m.keras", "--epochs", 1)
    assert code == 2 and "dataset.json does not list" in stderr and "[2, 3]" in stderr
    assert not (tmp_path / "m.keras").exists()


def test_is_an_output_without_keras_suffix_refused(tmp_path, run_cli):
    data = write_dataset(tmp_path / "data", patients=2, long_axis=False)
    code, _, stderr = run_cli("train", "segmentation", "--data", data, "--out",
                              tmp_path / "m.h5")
    assert code == 2 and ".keras" in stderr


def test_does_the_members_help_state_the_real_default():
    from chdml.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    members = next(a for a in commands["train"]._actions if "--members" in a.option_strings)
    assert f"default {train.SegmentationSettings().ensemble_members}," in members.help


def test_does_the_validation_flag_hold_out_whole_patients(tmp_path, run_cli):
    data = write_dataset(tmp_path / "data", patients=4, long_axis=False)
    out = tmp_path / "m.keras"
    code, stdout, stderr = run_cli("train", "segmentation", "--data", data, "--out", out,
                                   "--members", 1, "--epochs", 2, "--validation", 0.25)
    assert code == 0, stderr
    training = inference.read_model_info(out).training
    validation = {c.split("_")[0] for c in training["validation_cases"]}
    assert validation and not validation & {c.split("_")[0] for c in training["train_cases"]}
    assert training["best_val_dice"] is not None and "best validation Dice" in stdout
    for value in ("1", "-0.1"):
        code, _, stderr = run_cli("train", "segmentation", "--data", data, "--out",
                                  tmp_path / "bad.keras", "--validation", value)
        assert code == 2 and "--validation must be a fraction" in stderr
    code, _, stderr = run_cli("train", "classifier", "--data", data, "--out",
                              tmp_path / "bad.keras", "--validation", "0.2")
    assert code == 2 and "--validation applies to 'chdml train segmentation' only" in stderr
    assert not (tmp_path / "bad.keras").exists()


@pytest.mark.parametrize("task, flag, value, message", [
    ("segmentation", "--members", "0", "--members must be at least 1"),
    ("classifier", "--members", "2", "--members applies to 'chdml train segmentation' only"),
    ("segmentation", "--minutes", "-5", "--minutes must be a number of minutes, or 0"),
    ("classifier", "--minutes", "5", "--minutes applies to 'chdml train segmentation' only")])
def test_is_a_bad_segmentation_flag_one_sentence(tmp_path, run_cli, task, flag, value,
                                                 message):
    data = write_dataset(tmp_path / "data", patients=3)
    code, _, stderr = run_cli("train", task, "--data", data, "--out", tmp_path / "m.keras",
                              flag, value)
    assert code == 2 and message in stderr and "Traceback" not in stderr
    assert not list(tmp_path.glob("m*"))


def test_does_the_classifier_need_both_view_classes(tmp_path, run_cli):
    data = write_dataset(tmp_path / "data", patients=2, long_axis=False)
    code, _, stderr = run_cli("train", "classifier", "--data", data, "--out",
                              tmp_path / "m.keras")
    assert code == 2 and "long-axis" in stderr


def test_is_a_model_file_settings_block_readable_without_tensorflow(tmp_path):
    info = inference.ModelInfo(task="segmentation", labels={"background": 0, "LV": 1},
                               input_size=(128, 128))
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(inference.METADATA_MEMBER, info.to_json())
    assert inference.read_model_info(path) == info
    assert dataclasses.asdict(inference.ModelInfo.from_json(info.to_json())) == \
        dataclasses.asdict(info)


def test_does_a_tiny_stray_structure_get_removed():
    label = np.zeros((20, 20, 3), np.uint8)
    label[2:10, 2:10, :] = 1
    label[15:17, 15:17, 1] = 3      # 4 voxels of "RV" where there is none
    out = inference.keep_largest_component(label, min_voxels=10)
    assert not (out == 3).any() and (out == 1).sum() == 8 * 8 * 3
    assert (inference.keep_largest_component(label, min_voxels=0) == 3).sum() == 4


class _PointwiseModel:
    """Stands in for a network whose output at a pixel depends on that pixel only."""

    def predict(self, x, batch_size=None, verbose=0):
        p = 1.0 / (1.0 + np.exp(-10 * (x - 0.5)))
        return np.concatenate([1 - p, p], axis=-1)


def test_do_test_time_flips_map_predictions_back_to_the_image():
    slices = np.random.default_rng(0).random((3, 16, 12)).astype(np.float32)
    plain = inference.predict_slices(_PointwiseModel(), slices)
    flipped = inference.predict_slices(_PointwiseModel(), slices,
                                       flips=("left_right", "up_down"))
    np.testing.assert_allclose(flipped, plain, atol=1e-6)
    assert plain.shape == (3, 16, 12, 2)
    with pytest.raises(ValueError, match="unknown flip"):
        inference.predict_slices(_PointwiseModel(), slices, flips=("diagonal",))


def test_do_test_time_rotations_map_predictions_back_to_the_image():
    # A round disc in the middle: turning it and turning the prediction back changes
    # nothing but the interpolation at its rim.
    from scipy import ndimage

    rows, columns = np.mgrid[:32, :32]
    disc = ((rows - 15.5) ** 2 + (columns - 15.5) ** 2 < 8 ** 2).astype(np.float32)
    slices = np.stack([disc, disc * 0.9])
    plain = inference.predict_slices(_PointwiseModel(), slices)
    turned = inference.predict_slices(_PointwiseModel(), slices, rotations=(-15, 0, 15))
    assert turned.shape == plain.shape
    core = ndimage.binary_erosion(disc > 0, iterations=2)    # 2 pixels inside the rim
    outside = ~ndimage.binary_dilation(disc > 0, iterations=2)
    for region in (core, outside):
        np.testing.assert_allclose(turned[:, region], plain[:, region], atol=1e-4)
    np.testing.assert_allclose(turned.sum(axis=-1), 1.0, atol=1e-5)
    # an off-centre square: the average of the turned predictions is not the plain one,
    # but it stays where the square is (mapped back, not left turned)
    square = np.zeros((1, 32, 32), np.float32)
    square[0, 4:12, 4:12] = 1
    averaged = inference.predict_slices(_PointwiseModel(), square, rotations=(30,))
    assert averaged[0, 7, 7, 1] > 0.99 and averaged[0, 25, 25, 1] < 0.01
    assert not np.allclose(averaged, inference.predict_slices(_PointwiseModel(), square))


def test_does_a_model_carry_its_test_time_rotations_into_prediction(tmp_path):
    data = write_dataset(tmp_path / "data", patients=3, long_axis=False)
    settings = train.SegmentationSettings(**FAST, epochs=1, test_time_rotations=(-15, 15))
    out = tmp_path / "turned.keras"
    train.train_segmentation(data, out, settings=settings, verbose=False)
    model, info = inference.load_model_file(out)
    assert info.test_time_rotations == [-15.0, 15.0]
    volume = load_image(folder.image_path(data, folder.read_cases(data)[0]))
    turned = inference.class_probabilities(model, info, volume.array)
    plain = inference.class_probabilities(
        model, dataclasses.replace(info, test_time_rotations=[]), volume.array)
    assert turned.shape == plain.shape and not np.allclose(turned, plain)


def test_does_one_missed_slice_not_cut_a_ventricle_in_two():
    label = np.zeros((12, 12, 7), np.uint8)
    label[3:9, 3:9, [0, 1, 2, 4, 5]] = 1     # slice 3 missed by the network
    label[3:9, 3:9, 6] = 0
    out = inference.keep_largest_component(label)
    assert np.array_equal(out, label)
    strict = inference.keep_largest_component(label, bridge_slices=0)
    assert (strict == 1).sum() == 36 * 3     # without bridging, slices 4-5 would be lost
