"""Tests for chdml.plots: every plot returns a Figure, writes a non-trivial PNG
atomically, and shows the numbers it claims (best epoch, Dice, AUC, counts)."""
from __future__ import annotations

import doctest
import subprocess
import sys
import types

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.image import imread

import chdml.plots as plots
from chdml import metrics


def png_colours(path) -> int:
    """Number of distinct RGB colours in a PNG."""
    pixels = imread(path)[..., :3]
    return len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))


def has_colour(path, colour, tolerance=0.08) -> bool:
    pixels = imread(path)[..., :3]
    return bool(np.any(np.all(np.abs(pixels - np.array(to_rgb(colour))) < tolerance, axis=-1)))


def assert_real_png(path, min_colours=20):
    assert path.is_file() and path.stat().st_size > 2000
    assert png_colours(path) > min_colours
    assert not [p for p in path.parent.iterdir() if ".part" in p.name]  # no temporaries


def heart(rng, size=64, slices=4):
    """A small synthetic short-axis stack: LV, myocardium ring, RV; and a noisy image."""
    rows, columns = np.mgrid[:size, :size]
    labels = np.zeros((size, size, slices), np.uint8)
    for s in range(slices):
        radius = 10 - 2 * s
        distance_lv = np.hypot(rows - size / 2, columns - size / 2.5)
        labels[..., s][distance_lv < radius + 4] = 2
        labels[..., s][distance_lv < radius] = 1
        rv = (np.hypot(rows - size / 2, columns - size / 1.5) < radius + 2) & (labels[..., s] == 0)
        labels[..., s][rv] = 3
    image = 0.2 + 0.3 * labels + rng.normal(0, 0.05, labels.shape)
    return image.astype(np.float32), labels


# ------------------------------------------------------------------ learning curves
HISTORY = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [1.1, 0.7, 0.45, 0.5, 0.6],
           "dice": [0.2, 0.5, 0.7, 0.8, 0.9], "val_dice": [0.2, 0.4, 0.8, 0.7, 0.75],
           "learning_rate": [1e-3] * 5}


def best_epoch_marks(figure):
    """x positions of the vertical 'best epoch' lines, one per panel."""
    return [line.get_xdata()[0] for axes in figure.axes for line in axes.lines
            if line.get_linestyle() == ":"]


def test_do_learning_curves_show_training_and_validation_and_the_best_epoch(tmp_path):
    path = tmp_path / "curves" / "learning_curves.png"
    history = types.SimpleNamespace(history=HISTORY)  # what model.fit returns
    figure = plots.plot_learning_curves(history, title="U-Net", path=path)
    assert isinstance(figure, Figure)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "dice"]  # no learning rate
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["training", "validation", "best val loss: epoch 3"]
    assert best_epoch_marks(figure) == [3, 3]
    np.testing.assert_array_equal(figure.axes[0].lines[0].get_xdata(), [1, 2, 3, 4, 5])
    assert_real_png(path)


def test_does_the_best_epoch_follow_the_monitor_and_its_direction():
    assert best_epoch_marks(plots.plot_learning_curves(HISTORY, monitor="val_dice")) == [3, 3]
    assert best_epoch_marks(plots.plot_learning_curves(HISTORY, ["dice"], monitor="val_dice",
                                                       mode="min")) == [1]
    no_validation = {"loss": [0.5, 0.3, float("nan"), 0.4]}  # a NaN epoch leaves a gap
    assert best_epoch_marks(plots.plot_learning_curves(no_validation)) == [2]
    assert best_epoch_marks(plots.plot_learning_curves(no_validation, mark_best=False)) == []
    assert best_epoch_marks(plots.plot_ensemble_curves(
        [no_validation] * 2, ["loss"], monitor=None, mark_best=False)) == []


def test_are_bad_histories_refused_clearly():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_learning_curves({"loss": []})
    with pytest.raises(ValueError, match="val_accuracy"):
        plots.plot_learning_curves(HISTORY, monitor="val_accuracy")
    with pytest.raises(ValueError, match="no \\['accuracy'\\]"):
        plots.plot_learning_curves(HISTORY, ["accuracy"])
    with pytest.raises(TypeError, match="History"):
        plots.plot_learning_curves([0.1, 0.2])


# ----------------------------------------------------------------------- overlays
def test_does_the_overlay_outline_truth_and_prediction_in_label_colours(tmp_path):
    image, truth = heart(np.random.default_rng(0))
    image, truth = image[..., ::-1], truth[..., ::-1]  # the largest heart in the last slice
    prediction = np.roll(truth, 2, axis=1)
    path = tmp_path / "overlay.png"
    figure = plots.plot_overlay(image, truth, prediction, path=path)
    assert_real_png(path)
    for colour in plots.LABEL_COLOURS.values():
        assert has_colour(path, colour)
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    # the default slice of a volume is the one with the largest truth (the last here)
    slice_dice = metrics.dice_per_label(truth[..., 3], prediction[..., 3])
    assert texts == [f"LV blood pool (Dice {slice_dice[1]:.2f})",
                     f"LV myocardium (Dice {slice_dice[2]:.2f})",
                     f"RV blood pool (Dice {slice_dice[3]:.2f})", "ground truth", "prediction"]
    assert figure.axes[0].get_title() == "slice 4 of 4"


def test_does_the_overlay_take_a_chosen_slice_custom_names_and_a_channel_axis(tmp_path):
    image, truth = heart(np.random.default_rng(1))
    figure = plots.plot_overlay(image, truth, slice_index=2, labels={1: "left ventricle"},
                                title="case 7")
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert texts[0] == "left ventricle" and texts[-1] == "ground truth"
    assert figure.axes[0].get_title() == "case 7"
    # a model input (H, W, 1) with a binary prediction and no truth
    figure = plots.plot_overlay(image[..., :1], prediction=(truth[..., :1] == 1),
                                path=tmp_path / "prediction_only.png")
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == [
        "LV blood pool", "prediction"]
    assert has_colour(tmp_path / "prediction_only.png", plots.LABEL_COLOURS[1])
    assert not has_colour(tmp_path / "prediction_only.png", plots.LABEL_COLOURS[3])


def test_is_a_mask_that_does_not_fit_the_image_refused():
    with pytest.raises(ValueError, match="must match"):
        plots.plot_overlay(np.zeros((8, 8)), np.zeros((8, 9), int))


def test_does_the_gallery_show_each_case_with_its_title_and_one_legend(tmp_path):
    rng = np.random.default_rng(2)
    image, truth = heart(rng, size=48, slices=5)
    titles = [f"P0{s} / single ventricle / SAX" for s in range(5)]
    path = tmp_path / "gallery.png"
    figure = plots.plot_gallery([image[..., s] for s in range(5)],
                                [truth[..., s] for s in range(5)], titles, columns=3, path=path)
    assert [axes.get_title() for axes in figure.axes[:5]] == titles
    assert not figure.axes[5].axison  # the empty sixth place is blank
    assert [t.get_text() for t in figure.legends[0].get_texts()] == list(
        plots.LABEL_NAMES.values())
    assert_real_png(path)
    with pytest.raises(ValueError, match="one mask per image"):
        plots.plot_gallery([image[..., 0]], [truth[..., 0]] * 2)
    with pytest.raises(ValueError, match="at least one image"):
        plots.plot_gallery([])


# ----------------------------------------------------------------- classification
def test_does_the_confusion_matrix_show_counts_and_class_names(tmp_path):
    matrix = metrics.confusion_matrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 0], n_classes=3)
    path = tmp_path / "confusion.png"
    figure = plots.plot_confusion_matrix(matrix, ["short axis", "2-chamber", "4-chamber"],
                                         path=path)
    axes = figure.axes[0]
    cells = [t.get_text() for t in axes.texts]
    assert cells[:3] == ["2\n(67%)", "1\n(33%)", "0\n(0%)"]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["short axis", "2-chamber",
                                                               "4-chamber"]
    assert axes.get_title() == "6 samples, 66.7% correct"
    assert_real_png(path)
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion_matrix([[1, 2, 3]])
    with pytest.raises(ValueError, match="class names"):
        plots.plot_confusion_matrix(matrix, ["a", "b"])


def test_does_the_roc_plot_report_the_auc_of_chdml_metrics(tmp_path):
    rng = np.random.default_rng(3)
    truth = rng.random(60) < 0.5
    scores = rng.normal(size=60) + truth
    path = tmp_path / "roc.png"
    figure = plots.plot_roc_curve(truth, scores, name="view classifier", path=path)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend[0] == f"view classifier (AUC = {metrics.roc_auc(truth, scores):.3f})"
    fpr, tpr, _ = metrics.roc_curve(truth, scores)
    np.testing.assert_array_equal(figure.axes[0].lines[0].get_xdata(), fpr)
    assert_real_png(path, min_colours=10)
    with pytest.raises(ValueError, match="both classes"):
        plots.plot_roc_curve([1, 1], [0.2, 0.3])


# --------------------------------------------------------------------- bar charts
def test_does_the_bar_chart_show_means_per_label_and_per_group(tmp_path):
    path = tmp_path / "scores.png"
    figure = plots.plot_scores({"LV": [0.9, 0.8, np.nan], "MYO": 0.7, "RV": [0.6, 0.8]},
                               reference={"published LV-ED": 0.91}, path=path)
    axes = figure.axes[0]
    heights = [patch.get_height() for patch in axes.patches]
    assert heights == pytest.approx([0.85, 0.7, 0.7])  # NaN left out of the mean
    assert axes.get_ylim() == (0.0, 1.05)
    assert any(t.get_text() == "published LV-ED: 0.91" for t in axes.texts)
    assert_real_png(path)
    for name in ("LV", "MYO", "RV"):
        assert has_colour(path, plots._NAME_COLOURS[name], tolerance=0.3)

    grouped = plots.plot_scores({"TOF": {"LV": [0.9, 0.92], "RV": 0.8},
                                 "HLHS": {"RV": [0.7, 0.9]}}, ylabel="HD95 (mm)",
                                path=tmp_path / "grouped.png")
    axes = grouped.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["TOF", "HLHS"]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["LV", "RV"]
    assert sorted(p.get_height() for p in axes.patches) == pytest.approx([0.8, 0.8, 0.91])
    assert axes.get_ylabel() == "HD95 (mm)"
    assert_real_png(tmp_path / "grouped.png")
    with pytest.raises(ValueError, match="no scores"):
        plots.plot_scores({})


# ------------------------------------------------------------------ saving, imports
def test_does_a_failed_save_leave_nothing_behind(tmp_path):
    figure = plots.plot_scores({"LV": 0.9})
    with pytest.raises(ValueError):
        plots.save_figure(figure, tmp_path / "scores.notaformat")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "scores.png"
    old.write_bytes(b"old")
    with pytest.raises(ValueError):
        plots.plot_confusion_matrix([[1, 2]], path=old)
    assert old.read_bytes() == b"old"


def test_do_plots_leave_pyplot_and_the_backend_alone():
    code = ("import matplotlib; matplotlib.use('svg'); import sys, numpy as np; "
            "import chdml.plots as p; p.plot_overlay(np.zeros((8, 8)), np.eye(8, dtype=int)); "
            "print('matplotlib.pyplot' in sys.modules, matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "svg"]


def test_do_the_docstring_examples_run():
    result = doctest.testmod(plots, extraglobs={"np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 8 and result.failed == 0


def test_do_ensemble_curves_give_each_member_a_row_and_its_own_best_epoch(tmp_path):
    path = tmp_path / "ensemble_curves.png"
    second = {"loss": [0.9, 0.5], "val_loss": [0.8, 0.9], "dice": [0.1, 0.4],
              "val_dice": [0.6, 0.2]}
    figure = plots.plot_ensemble_curves([HISTORY, second], ["loss", "dice"],
                                        monitor="val_dice", path=path)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "dice"] * 2
    assert best_epoch_marks(figure) == [3, 3, 1, 1]
    assert [figure.axes[i].get_ylabel() for i in (0, 2)] == ["member 1", "member 2"]
    assert_real_png(path)
