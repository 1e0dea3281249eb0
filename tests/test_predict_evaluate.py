"""Tests for chdml.predict and chdml.evaluate through the command line."""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

nib = pytest.importorskip("nibabel")
pytest.importorskip("tensorflow")

from chdml import inference, train  # noqa: E402
from tests.tiny_datasets import write_dataset  # noqa: E402

RV_ONLY = {"background": 0, "RV": 3}
FAST = train.SegmentationSettings(input_size=32, depth=2, base_filters=4, batch_size=8,
                                  epochs=2, warmup_steps=0, patch_size=None, mixed_precision=False,
                                  ensemble_members=1, time_budget_minutes=0)


@pytest.fixture(scope="module")
def rv_model(tmp_path_factory):
    """A tiny RV model trained (2 epochs) on a tiny dataset; also a test split."""
    root = tmp_path_factory.mktemp("rv")
    data = write_dataset(root / "data", patients=3, test_patients=2, labels=RV_ONLY)
    model = root / "rv.keras"
    train.train_segmentation(data, model, settings=FAST, verbose=False)
    return data, model


@pytest.fixture(scope="module")
def view_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("views")
    data = write_dataset(root / "data", patients=4, test_patients=2)
    model = root / "views.keras"
    from chdml.train_classifier import ClassifierSettings, train_classifier

    train_classifier(data, model, settings=ClassifierSettings(input_size=32, n_blocks=2,
                                                              epochs=2), verbose=False)
    return data, model


def _sax_test_cases(data):
    return sorted(p.name[:-len("_0000.nii.gz")] for p in (data / "imagesTs").iterdir()
                  if "2CH" not in p.name)


@pytest.mark.slow
def test_does_predict_write_one_label_map_per_test_image_with_its_geometry(rv_model, tmp_path,
                                                                           run_cli):
    data, model = rv_model
    out = tmp_path / "pred"
    code, stdout, stderr = run_cli("predict", "--model", model, "--data", data, "--out", out)
    assert code == 0, stderr
    written = sorted(p.name[:-len(".nii.gz")] for p in out.glob("*.nii.gz"))
    assert written == _sax_test_cases(data)  # imagesTs only, long-axis skipped
    for case in written:
        image = nib.load(str(data / "imagesTs" / f"{case}_0000.nii.gz"))
        label = nib.load(str(out / f"{case}.nii.gz"))
        assert label.shape == image.shape
        np.testing.assert_allclose(label.affine, image.affine)
        values = np.asarray(label.dataobj)
        assert values.dtype == np.uint8 and set(np.unique(values)) <= {0, 3}
    with open(out / "volumes.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["case"] for r in rows] == written and "RV_ml" in rows[0]


@pytest.mark.slow
def test_does_predict_fall_back_to_the_training_images(rv_model, tmp_path, run_cli):
    data, model = rv_model
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    shutil.rmtree(copy / "imagesTs")
    shutil.rmtree(copy / "labelsTs")
    code, _, stderr = run_cli("predict", "--model", model, "--data", copy, "--out",
                              tmp_path / "pred")
    assert code == 0, stderr
    assert len(list((tmp_path / "pred").glob("*.nii.gz"))) == 6


@pytest.mark.slow
def test_does_a_prediction_keep_a_non_canonical_orientation(rv_model, tmp_path, run_cli):
    _, model = rv_model
    affine = np.array([[0, -1.5, 0, 30], [1.5, 0, 0, -20], [0, 0, 8, 5], [0, 0, 0, 1]])
    data = write_dataset(tmp_path / "data", patients=1, test_patients=1, labels=RV_ONLY,
                         long_axis=False, affine=affine)
    code, _, stderr = run_cli("predict", "--model", model, "--data", data, "--out",
                              tmp_path / "pred")
    assert code == 0, stderr
    image = nib.load(str(data / "imagesTs" / "p01_ED_0000.nii.gz"))
    label = nib.load(str(tmp_path / "pred" / "p01_ED.nii.gz"))
    assert label.shape == image.shape == (48, 40, 4)
    np.testing.assert_allclose(label.affine, affine)


def test_does_the_orientation_helper_undo_the_canonical_reorientation(tmp_path):
    from chdml.data.nifti import save_image
    from chdml.predict import load_in_original_orientation

    affine = np.array([[0, -1.5, 0, 30], [1.5, 0, 0, -20], [0, 0, -8, 5], [0, 0, 0, 1]])
    array = np.arange(48 * 40 * 3, dtype=np.float32).reshape(48, 40, 3)
    path = save_image(tmp_path / "x.nii.gz", array, affine=affine)
    volume, to_file, file_affine = load_in_original_orientation(path)
    assert volume.array.shape != array.shape or not np.array_equal(volume.array, array)
    np.testing.assert_array_equal(to_file(volume.array), array)
    np.testing.assert_allclose(file_affine, affine)


@pytest.mark.slow
def test_does_evaluate_write_tables_and_overlays(rv_model, tmp_path, run_cli):
    data, model = rv_model
    out = tmp_path / "eval"
    code, stdout, stderr = run_cli("evaluate", "--model", model, "--data", data, "--out", out)
    assert code == 0, stderr
    assert "RV" in stdout and "Dice" in stdout
    result = json.loads((out / "metrics.json").read_text())
    assert result["split"] == "test" and result["task"] == "segmentation"
    cases = {r["case"] for r in result["cases"]}
    assert cases == set(_sax_test_cases(data))
    row = result["cases"][0]
    assert 0 <= row["dice"] <= 1 and row["label"] == "RV" and row["truth_ml"] > 0
    assert {s["phase"] for s in result["summary"]} == {"ED", "ES", "EF"}
    with open(out / "ejection_fraction.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 2    # two test patients with ED and ES
    assert len(list(out.glob("worst*.png"))) == 3
    assert (out / "metrics.csv").is_file()


@pytest.mark.slow
def test_does_evaluate_agree_with_the_written_predictions(rv_model, tmp_path, run_cli):
    from chdml.metrics import dice

    data, model = rv_model
    assert run_cli("predict", "--model", model, "--data", data, "--out", tmp_path / "p")[0] == 0
    assert run_cli("evaluate", "--model", model, "--data", data, "--out", tmp_path / "e")[0] == 0
    result = json.loads((tmp_path / "e" / "metrics.json").read_text())
    for row in result["cases"]:
        truth = np.asarray(nib.load(str(data / "labelsTs" / f"{row['case']}.nii.gz")).dataobj)
        guess = np.asarray(nib.load(str(tmp_path / "p" / f"{row['case']}.nii.gz")).dataobj)
        assert row["dice"] == pytest.approx(dice(truth == 3, guess == 3), abs=1e-4)


@pytest.mark.slow
def test_does_the_view_classifier_predict_and_evaluate(view_model, tmp_path, run_cli):
    data, model = view_model
    code, _, stderr = run_cli("predict", "--model", model, "--data", data, "--out",
                              tmp_path / "pred")
    assert code == 0, stderr
    with open(tmp_path / "pred" / "views.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and {r["predicted"] for r in rows} <= {"SAX", "other"}
    assert all(0 <= float(r["probability_SAX"]) <= 1 for r in rows)
    code, stdout, stderr = run_cli("evaluate", "--model", model, "--data", data, "--out",
                                   tmp_path / "eval")
    assert code == 0, stderr
    summary = json.loads((tmp_path / "eval" / "metrics.json").read_text())["summary"]
    assert summary["cases"] == 6 and 0 <= summary["accuracy"] <= 1
    assert (tmp_path / "eval" / "confusion_matrix.png").is_file()


# --- bad input -----------------------------------------------------------------------------

def _fake_model(tmp_path, labels=RV_ONLY):
    """A file with chdml settings but no Keras content: enough for the checks that run
    before the model is loaded."""
    import zipfile

    info = inference.ModelInfo(task="segmentation", labels=labels, input_size=(32, 32))
    path = tmp_path / "fake.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(inference.METADATA_MEMBER, info.to_json())
    return path


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_is_a_missing_model_one_sentence(tmp_path, run_cli, command):
    data = write_dataset(tmp_path / "data", patients=1, labels=RV_ONLY)
    code, _, stderr = run_cli(command, "--model", tmp_path / "none.keras", "--data", data,
                              "--out", tmp_path / "out")
    assert code == 2 and "does not exist" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"hello"])
def test_is_a_corrupt_model_one_sentence(tmp_path, run_cli, content):
    data = write_dataset(tmp_path / "data", patients=1, labels=RV_ONLY)
    model = tmp_path / "bad.keras"
    model.write_bytes(content)
    code, _, stderr = run_cli("predict", "--model", model, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and "corrupt" in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_is_a_truncated_real_model_refused(rv_model, tmp_path, run_cli):
    data, model = rv_model
    broken = tmp_path / "broken.keras"
    broken.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    code, _, stderr = run_cli("predict", "--model", broken, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and "corrupt" in stderr
    assert not (tmp_path / "out").exists()


def test_is_a_plain_keras_model_told_apart(tmp_path, run_cli):
    from chdml.models import linear_unit

    model = tmp_path / "plain.keras"
    linear_unit().save(model)
    data = write_dataset(tmp_path / "data", patients=1, labels=RV_ONLY)
    code, _, stderr = run_cli("predict", "--model", model, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and "not a chdml model" in stderr


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_are_labels_that_do_not_fit_the_model_refused(tmp_path, run_cli, command):
    model = _fake_model(tmp_path, labels={"background": 0, "LV": 1})
    data = write_dataset(tmp_path / "data", patients=1, labels=RV_ONLY)
    code, _, stderr = run_cli(command, "--model", model, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and "segments {'LV': 1}" in stderr and "{'RV': 3}" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_is_an_image_too_small_for_the_model_refused(rv_model, tmp_path, run_cli):
    _, model = rv_model
    data = write_dataset(tmp_path / "data", patients=1, labels=RV_ONLY, long_axis=False,
                         shape=(12, 10, 3))
    code, _, stderr = run_cli("predict", "--model", model, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and "too small" in stderr and "12x10" in stderr
    assert not (tmp_path / "out").exists()


def test_is_an_empty_dataset_refused(tmp_path, run_cli):
    from chdml.data import folder

    model = _fake_model(tmp_path)
    data = tmp_path / "data"
    folder.write_metadata(data, [], RV_ONLY, name="empty")
    code, _, stderr = run_cli("predict", "--model", model, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and "empty" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("split", ["Ts", "Tr"])
def test_is_a_label_folder_without_images_refused(tmp_path, run_cli, split):
    model = _fake_model(tmp_path)
    data = write_dataset(tmp_path / "data", patients=1, test_patients=1, labels=RV_ONLY)
    shutil.rmtree(data / f"images{split}")
    code, _, stderr = run_cli("evaluate", "--model", model, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and f"labels{split}" in stderr and "no images" in stderr
    assert not (tmp_path / "out").exists()


def test_does_evaluate_need_a_label_map_per_image(tmp_path, run_cli):
    model = _fake_model(tmp_path)
    data = write_dataset(tmp_path / "data", patients=1, test_patients=1, labels=RV_ONLY)
    (data / "labelsTs" / "p01_ES.nii.gz").unlink()
    code, _, stderr = run_cli("evaluate", "--model", model, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and "p01_ES" in stderr and "missing" in stderr


def test_is_an_existing_prediction_folder_kept(tmp_path, run_cli):
    model = _fake_model(tmp_path)
    data = write_dataset(tmp_path / "data", patients=1, labels=RV_ONLY)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    code, _, stderr = run_cli("predict", "--model", model, "--data", data, "--out", out)
    assert code == 2 and "--overwrite" in stderr
    assert (out / "mine.txt").read_text() == "keep me"


@pytest.mark.slow
def test_does_a_failure_midway_leave_no_half_written_folder(rv_model, tmp_path, run_cli):
    _, model = rv_model
    data = write_dataset(tmp_path / "data", patients=1, test_patients=2, labels=RV_ONLY,
                         long_axis=False)
    (data / "imagesTs" / "p02_ES_0000.nii.gz").write_bytes(b"\x1f\x8b broken gzip")
    code, _, stderr = run_cli("predict", "--model", model, "--data", data, "--out",
                              tmp_path / "out")
    assert code == 2 and "p02_ES_0000.nii.gz" in stderr
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.slow
def test_does_a_model_with_more_labels_score_only_the_datasets_labels(tmp_path, run_cli):
    full = write_dataset(tmp_path / "full", patients=3, long_axis=False)
    model = tmp_path / "all.keras"
    train.train_segmentation(full, model, settings=FAST, verbose=False)
    lv_only = write_dataset(tmp_path / "lv", patients=1, labels={"background": 0, "LV": 1},
                            long_axis=False)
    code, stdout, stderr = run_cli("evaluate", "--model", model, "--data", lv_only, "--out",
                                   tmp_path / "eval")
    assert code == 0, stderr
    result = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert {row["label"] for row in result["cases"]} == {"LV"}
