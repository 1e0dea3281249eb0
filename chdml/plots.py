"""Pictures of data and results: learning curves, mask overlays, galleries, confusion
matrices, ROC curves and score bar charts.

Public names (stable; training, evaluation and the notebooks import them):

    ``plot_learning_curves``   loss and metrics per epoch, training vs validation, best epoch.
    ``plot_overlay``           an image with truth (solid) and predicted (dashed) outlines.
    ``plot_gallery``           a grid of images with their masks, each with a title.
    ``plot_confusion_matrix``  counts (and row percentages) with class names.
    ``plot_roc_curve``         ROC curve with its AUC and the chance line.
    ``plot_scores``            bar chart of scores per label or per group (mean, SD, points).
    ``save_figure``            write a figure as PNG atomically.
    ``LABEL_NAMES``, ``LABEL_COLOURS``  names and fixed colours of labels 1 LV, 2 MYO, 3 RV.

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` and, given
``path``, also writes it as a PNG through :func:`chdml.atomic.atomic_path` (complete or
not at all). Figures are built with ``matplotlib.figure.Figure`` and rendered by the Agg
canvas, never through ``pyplot``: nothing changes the caller's backend (a notebook keeps
its inline display; a returned figure displays itself as a cell's last value), no GUI is
needed, and figures made in a loop are freed when no longer referenced.

Image layout: 2-D arrays ``(rows, columns)`` are shown as stored (row 0 at the top);
volumes ``(rows, columns, slices)`` as :mod:`chdml.data.nifti` loads them, one slice at a
time. A trailing channel axis of size 1 (a model's ``(H, W, 1)`` input) is dropped.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from chdml.atomic import atomic_path
from chdml import metrics as chdml_metrics

__all__ = ["LABEL_NAMES", "LABEL_COLOURS", "save_figure", "plot_learning_curves",
           "plot_overlay", "plot_gallery", "plot_confusion_matrix", "plot_roc_curve",
           "plot_scores"]

LABEL_NAMES = {1: "LV blood pool", 2: "LV myocardium", 3: "RV blood pool"}
LABEL_COLOURS = {1: "#d62728", 2: "#2ca02c", 3: "#1f77b4"}  # red, green, blue
# short structure names (dataset.json keys) get the colours of their label values
_NAME_COLOURS = {"LV": LABEL_COLOURS[1], "MYO": LABEL_COLOURS[2], "RV": LABEL_COLOURS[3]}
_EXTRA_COLOURS = ("#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
_TRAIN_COLOUR, _VALIDATION_COLOUR = "#1f77b4", "#ff7f0e"


# ------------------------------------------------------------------------- saving
def save_figure(figure: Figure, path: os.PathLike | str, dpi: int = 100) -> Path:
    """Write ``figure`` to ``path`` (PNG unless the suffix names another format) atomically.

    Returns the path. Parent folders are created; an existing file is replaced only when
    the new one is complete.
    """
    path = Path(path)
    file_format = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path, suffix=path.suffix or ".png") as tmp:
        figure.savefig(tmp, format=file_format, dpi=dpi, bbox_inches="tight",
                       facecolor="white")
    return path


def _finish(figure: Figure, path) -> Figure:
    if path is not None:
        save_figure(figure, path)
    return figure


# ---------------------------------------------------------------- learning curves
def _history_dict(history) -> dict[str, list[float]]:
    """The ``{name: [value per epoch]}`` of a Keras ``History`` or a plain mapping."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError("history must be the History returned by model.fit or a dict of "
                        f"lists such as {{'loss': [...]}}, got {type(history).__name__}.")
    logs = {str(k): [float(v) for v in np.ravel(values)] for k, values in logs.items()}
    if not logs or not any(logs.values()):
        raise ValueError("the history is empty; train for at least one epoch first.")
    return logs


def _lower_is_better(name: str) -> bool:
    return any(word in name for word in ("loss", "error", "distance", "hausdorff"))


def _best_epoch_index(values: Sequence[float], name: str, mode: str) -> int | None:
    """0-based index of the best finite value (first one on ties), None if none is finite."""
    array = np.asarray(values, dtype=float)
    if not np.isfinite(array).any():
        return None
    minimise = _lower_is_better(name) if mode == "auto" else mode == "min"
    array = np.where(np.isfinite(array), array, np.inf if minimise else -np.inf)
    return int(np.argmin(array) if minimise else np.argmax(array))


def plot_learning_curves(history, metrics: Sequence[str] | None = None, *,
                         monitor: str | None = None, mode: str = "auto",
                         mark_best: bool = True, title: str | None = None,
                         path=None) -> Figure:
    """Training and validation curves, one panel per quantity, best epoch marked.

    Args:
        history: the ``History`` returned by ``model.fit`` or its ``.history`` dict
            (``{"loss": [...], "val_loss": [...], "dice": [...], ...}``).
        metrics: names to plot (without ``val_``); default every training quantity except
            the learning rate, loss first.
        monitor: the quantity whose best epoch is marked (the one a checkpoint would keep);
            default ``val_loss``, or ``loss`` without validation data.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (lower is better for names containing
            "loss", "error" or "distance", higher otherwise).
        mark_best: False to mark no epoch (a training that keeps its last weights).
        title: figure title.
        path: optional PNG to write.

    Epochs are numbered from 1, as Keras prints them. Non-finite values (a NaN loss) leave
    a gap.

    Example:
        >>> figure = plot_learning_curves({"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.6, 0.7]})
        >>> [axes.get_title() for axes in figure.axes]
        ['loss']
    """
    logs, metrics, monitor = _curve_quantities(history, metrics, monitor, mode)
    columns = min(len(metrics), 3)
    rows = math.ceil(len(metrics) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.3 * rows), layout="constrained")
    axes = [figure.add_subplot(rows, columns, i + 1) for i in range(len(metrics))]
    _draw_curves(axes, logs, metrics, monitor if mark_best else None, mode)
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


def plot_ensemble_curves(histories: Sequence, metrics: Sequence[str], *,
                         monitor: str | None, mode: str = "auto", mark_best: bool = True,
                         title: str | None = None, path=None) -> Figure:
    """:func:`plot_learning_curves` of several trainings (the members of an ensemble),
    one row per member, each with its own best epoch marked."""
    rows = [_curve_quantities(history, metrics, monitor, mode) for history in histories]
    columns = len(rows[0][1])
    figure = Figure(figsize=(4.2 * columns, 3.0 * len(rows)), layout="constrained")
    for r, (logs, names, monitor_name) in enumerate(rows):
        axes = [figure.add_subplot(len(rows), columns, r * columns + i + 1)
                for i in range(columns)]
        _draw_curves(axes, logs, names, monitor_name if mark_best else None, mode)
        axes[0].set_ylabel(f"member {r + 1}")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


def _curve_quantities(history, metrics, monitor, mode):
    """``(logs, metrics, monitor)`` of a history, with the defaults of
    :func:`plot_learning_curves` filled in; ValueError when something is missing."""
    logs = _history_dict(history)
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}.")
    if metrics is None:
        metrics = [k for k in logs if not k.startswith("val_")
                   and k not in ("learning_rate", "lr")]
        metrics.sort(key=lambda k: k != "loss")
    missing = [m for m in metrics if m not in logs and f"val_{m}" not in logs]
    if missing or not metrics:
        raise ValueError(f"the history has no {missing or 'quantity'} to plot; it has "
                         f"{sorted(logs)}.")
    if monitor is None:
        monitor = "val_loss" if "val_loss" in logs else ("loss" if "loss" in logs else None)
    elif monitor not in logs:
        raise ValueError(f"cannot mark the best epoch of {monitor!r}: the history has "
                         f"{sorted(logs)}.")
    return logs, list(metrics), monitor


def _draw_curves(axes_list, logs, metrics, monitor, mode) -> None:
    """Training and validation curve of each of ``metrics`` into its own axes."""
    best = _best_epoch_index(logs[monitor], monitor, mode) if monitor else None
    for axes, name in zip(axes_list, metrics):
        for key, label, colour in ((name, "training", _TRAIN_COLOUR),
                                   (f"val_{name}", "validation", _VALIDATION_COLOUR)):
            if key in logs and logs[key]:
                values = np.asarray(logs[key], dtype=float)
                epochs = np.arange(1, values.size + 1)
                axes.plot(epochs, np.where(np.isfinite(values), values, np.nan),
                          color=colour, marker="o" if values.size < 30 else None,
                          markersize=3, label=label)
        if best is not None:
            axes.axvline(best + 1, color="0.3", linestyle=":",
                         label=f"best {monitor.replace('_', ' ')}: epoch {best + 1}")
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")


# --------------------------------------------------------------------- overlays
def _as_2d(array, name: str, slice_index: int | None = None) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and slice_index is not None:
        array = array[..., slice_index]
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D image (rows, columns) or a volume with a "
                         f"slice_index, got shape {array.shape}.")
    return array


def _label_name_and_colour(value: int, names: Mapping[int, str] | None):
    names = {**LABEL_NAMES, **(names or {})}
    name = names.get(value, f"label {value}")
    colour = LABEL_COLOURS.get(value) or _EXTRA_COLOURS[value % len(_EXTRA_COLOURS)]
    return name, colour


def _show_image(axes, image: np.ndarray) -> None:
    """Grey-scale image, window from the 1st to the 99th percentile (robust to outliers)."""
    image = np.asarray(image, dtype=float)
    finite = image[np.isfinite(image)]
    low, high = (np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0))
    if high <= low:
        high = low + 1.0
    axes.imshow(image, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])


def _present_labels(*label_maps) -> list[int]:
    values = set()
    for label_map in label_maps:
        if label_map is not None:
            values.update(int(v) for v in np.unique(label_map) if v != 0)
    return sorted(values)


def _fill(axes, label_map: np.ndarray, names, alpha: float = 0.35) -> None:
    """Translucent colour on each labelled pixel."""
    colours = np.zeros(label_map.shape + (4,))
    for value in _present_labels(label_map):
        rgba = to_rgba(_label_name_and_colour(value, names)[1], alpha)
        colours[label_map == value] = rgba
    axes.imshow(colours, interpolation="nearest")


def _outline(axes, label_map: np.ndarray, names, linestyle: str) -> None:
    for value in _present_labels(label_map):
        colour = _label_name_and_colour(value, names)[1]
        mask = (label_map == value).astype(float)
        axes.contour(mask, levels=[0.5], colors=[colour], linestyles=linestyle,
                     linewidths=1.8)


def _default_slice(volume_maps: Sequence[np.ndarray | None], n_slices: int) -> int:
    """The slice with the most labelled pixels (truth first), else the middle one."""
    for label_map in volume_maps:
        if label_map is not None and label_map.ndim == 3 and np.any(label_map):
            return int(np.argmax(np.count_nonzero(label_map, axis=(0, 1))))
    return n_slices // 2


def plot_overlay(image, truth=None, prediction=None, *, slice_index: int | None = None,
                 labels: Mapping[int, str] | None = None, title: str | None = None,
                 show_dice: bool = True, path=None) -> Figure:
    """An image with the outlines of the ground truth (solid) and prediction (dashed).

    Args:
        image: ``(rows, columns)`` slice or ``(rows, columns, slices)`` volume.
        truth, prediction: label maps of the same shape (0 background, 1 LV blood pool,
            2 LV myocardium, 3 RV blood pool; a binary mask shows as label 1). Either may
            be None.
        slice_index: slice of a volume to show; default the slice with the largest truth
            (or prediction) area.
        labels: names for label values, overriding :data:`LABEL_NAMES`. Colours are fixed
            per label (:data:`LABEL_COLOURS`: LV red, myocardium green, RV blue).
        title: axes title (e.g. ``"case 12 (ES): worst LV Dice"``).
        show_dice: with both truth and prediction, put each label's Dice on this slice
            into the legend.
        path: optional PNG to write.

    Example:
        >>> image = np.zeros((32, 32)); truth = np.zeros((32, 32), int); truth[8:20, 8:20] = 1
        >>> figure = plot_overlay(image, truth, np.roll(truth, 2, axis=1))
        >>> figure.axes[0].get_legend().get_texts()[0].get_text()
        'LV blood pool (Dice 0.83)'
    """
    image = np.asarray(image)
    volume = image.ndim == 3 and image.shape[-1] != 1
    if volume and slice_index is None:
        maps = [None if m is None else np.asarray(m) for m in (truth, prediction)]
        slice_index = _default_slice(maps, image.shape[-1])
    index = slice_index if volume else None
    image2d = _as_2d(image, "image", index)
    truth2d = None if truth is None else _as_2d(truth, "truth", index).astype(int)
    prediction2d = None if prediction is None else _as_2d(prediction, "prediction",
                                                          index).astype(int)
    for name, label_map in (("truth", truth2d), ("prediction", prediction2d)):
        if label_map is not None and label_map.shape != image2d.shape:
            raise ValueError(f"{name} has shape {label_map.shape} but the image has "
                             f"{image2d.shape}; they must match.")

    figure = Figure(figsize=(5.2, 5.2), layout="constrained")
    axes = figure.add_subplot()
    _show_image(axes, image2d)
    if truth2d is not None:
        _outline(axes, truth2d, labels, "solid")
    if prediction2d is not None:
        _outline(axes, prediction2d, labels, "dashed")

    handles = []
    for value in _present_labels(truth2d, prediction2d):
        name, colour = _label_name_and_colour(value, labels)
        if show_dice and truth2d is not None and prediction2d is not None:
            name += f" (Dice {chdml_metrics.dice(truth2d == value, prediction2d == value):.2f})"
        handles.append(Patch(color=colour, label=name))
    if truth2d is not None:
        handles.append(Line2D([], [], color="white", linestyle="solid", label="ground truth"))
    if prediction2d is not None:
        handles.append(Line2D([], [], color="white", linestyle="dashed", label="prediction"))
    if handles:
        legend = axes.legend(handles=handles, loc="lower right", fontsize="small",
                             facecolor="0.15", labelcolor="white", framealpha=0.8)
        legend.get_frame().set_edgecolor("0.5")
    if volume and title is None:
        title = f"slice {slice_index + 1} of {image.shape[-1]}"
    if title:
        axes.set_title(title)
    return _finish(figure, path)


def plot_gallery(images: Sequence, masks: Sequence | None = None,
                 titles: Sequence[str] | None = None, *, columns: int = 4,
                 labels: Mapping[int, str] | None = None, title: str | None = None,
                 path=None) -> Figure:
    """A grid of a few cases: each image with its label map in colour and a title.

    Args:
        images: 2-D images ``(rows, columns)`` (or ``(rows, columns, 1)``), any sizes.
        masks: label maps of the same shapes, or None for images only.
        titles: one caption per image, e.g. ``"P07 / single ventricle / SAX"``
            (case / diagnosis or phenotype / view).
        columns: images per row.
        labels: names for label values (see :func:`plot_overlay`).
        title: figure title.
        path: optional PNG to write.

    Example:
        >>> images = [np.random.default_rng(0).random((16, 16)) for _ in range(3)]
        >>> masks = [np.eye(16, dtype=int) * k for k in (1, 2, 3)]
        >>> len(plot_gallery(images, masks, ["a", "b", "c"], columns=2).axes)
        4
    """
    images = list(images)
    if not images:
        raise ValueError("the gallery needs at least one image.")
    if masks is not None and len(masks) != len(images):
        raise ValueError(f"got {len(images)} images but {len(masks)} masks; give one mask "
                         "per image (or none).")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles.")
    columns = max(1, min(int(columns), len(images)))
    rows = math.ceil(len(images) / columns)
    figure = Figure(figsize=(2.8 * columns, 2.9 * rows + 0.4), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    present: set[int] = set()
    for position, axes in enumerate(grid.ravel()):
        if position >= len(images):
            axes.axis("off")
            continue
        image = _as_2d(images[position], f"image {position}")
        _show_image(axes, image)
        if masks is not None and masks[position] is not None:
            mask = _as_2d(masks[position], f"mask {position}").astype(int)
            if mask.shape != image.shape:
                raise ValueError(f"mask {position} has shape {mask.shape} but its image has "
                                 f"{image.shape}.")
            _fill(axes, mask, labels)
            present.update(_present_labels(mask))
        if titles is not None:
            axes.set_title(str(titles[position]), fontsize="small")
    if present:
        handles = [Patch(color=_label_name_and_colour(v, labels)[1],
                         label=_label_name_and_colour(v, labels)[0]) for v in sorted(present)]
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles),
                      fontsize="small")
    if title:
        figure.suptitle(title)
    return _finish(figure, path)


# --------------------------------------------------------------- classification
def plot_confusion_matrix(matrix, class_names: Sequence[str] | None = None, *,
                          title: str | None = None, path=None) -> Figure:
    """A confusion matrix: counts with row percentages, true classes down, predicted across.

    Args:
        matrix: ``(n_classes, n_classes)`` counts from :func:`chdml.metrics.confusion_matrix`
            (rows truth, columns prediction).
        class_names: one name per class, e.g. ``["short axis", "other view"]``.
        title: axes title.
        path: optional PNG to write.

    Cells are shaded by the row percentage (the share of each true class), so errors on
    a rare class stay visible.

    Example:
        >>> figure = plot_confusion_matrix([[50, 2], [5, 43]], ["SAX", "other"])
        >>> figure.axes[0].get_ylabel()
        'true class'
    """
    counts = np.asarray(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"matrix must be square (n_classes, n_classes), got {counts.shape}.")
    n_classes = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    if len(names) != n_classes:
        raise ValueError(f"got {len(names)} class names for a {n_classes}-class matrix.")
    row_totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(row_totals > 0, counts / np.maximum(row_totals, 1), 0.0)

    size = 2.2 + 1.0 * n_classes
    figure = Figure(figsize=(size + 1.0, size), layout="constrained")
    axes = figure.add_subplot()
    shading = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(shading, ax=axes, label="share of the true class", shrink=0.8)
    for row in range(n_classes):
        for column in range(n_classes):
            colour = "white" if shares[row, column] > 0.6 else "black"
            axes.text(column, row, f"{counts[row, column]:g}\n({100 * shares[row, column]:.0f}%)",
                      ha="center", va="center", color=colour, fontsize="medium")
    axes.set_xticks(range(n_classes), names, rotation=30 if n_classes > 3 else 0, ha="right"
                    if n_classes > 3 else "center")
    axes.set_yticks(range(n_classes), names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title or f"{int(counts.sum())} samples, "
                            f"{100 * np.trace(counts) / max(counts.sum(), 1):.1f}% correct")
    return _finish(figure, path)


def plot_roc_curve(y_true, scores, *, name: str = "model", title: str | None = None,
                   path=None) -> Figure:
    """The ROC curve (sensitivity against 1 - specificity) with its AUC and chance line.

    Args:
        y_true: 0/1 per sample; both classes must be present.
        scores: a score per sample, higher = more likely positive.
        name: what the curve is, shown in the legend as ``"name (AUC = 0.93)"``.
        title: axes title.
        path: optional PNG to write.

    Example:
        >>> figure = plot_roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> figure.axes[0].get_legend().get_texts()[0].get_text()
        'model (AUC = 0.750)'
    """
    false_positive_rate, true_positive_rate, _ = chdml_metrics.roc_curve(y_true, scores)
    area = chdml_metrics.roc_auc(y_true, scores)
    figure = Figure(figsize=(5.0, 5.0), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(false_positive_rate, true_positive_rate, color=_TRAIN_COLOUR, linewidth=2,
              label=f"{name} (AUC = {area:.3f})")
    axes.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="chance (AUC = 0.5)")
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.set_aspect("equal")
    axes.set_xlabel("1 - specificity (false-positive rate)")
    axes.set_ylabel("sensitivity (true-positive rate)")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    if title:
        axes.set_title(title)
    return _finish(figure, path)


# -------------------------------------------------------------------- bar charts
def _summary(values) -> tuple[float, float, np.ndarray]:
    """(mean, SD, finite values) of a number or a sequence, ignoring NaN."""
    array = np.atleast_1d(np.asarray(values, dtype=float))
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return math.nan, math.nan, finite
    spread = float(np.std(finite, ddof=1)) if finite.size > 1 else 0.0
    return float(np.mean(finite)), spread, finite


def plot_scores(scores: Mapping[str, Any], *, ylabel: str = "Dice", title: str | None = None,
                reference: float | Mapping[str, float] | None = None,
                ylim: tuple[float, float] | None = None, path=None) -> Figure:
    """Bar chart of scores per label or per group: bar = mean, whisker = SD, dots = cases.

    Args:
        scores: either ``{bar name: value or list of per-case values}`` (e.g.
            ``{"LV": [0.91, 0.88], "RV": [0.84, 0.80]}``) or grouped,
            ``{group: {series: value(s)}}`` (e.g. per diagnosis, with LV and RV bars in
            each group). Series named LV, MYO or RV keep their label colours. NaN values
            are left out of the mean.
        ylabel: what the numbers are (``"Dice"``, ``"HD95 (mm)"``, ``"volume (mL)"``).
        title: axes title.
        reference: a number or ``{name: number}`` drawn as dashed horizontal lines, e.g.
            ``{"published LV-ED": 0.910}``.
        ylim: y range; default ``(0, 1.05)`` when every value lies in [0, 1].
        path: optional PNG to write.

    Each bar is labelled at its foot with its mean (and the number of cases when more
    than one).

    Example:
        >>> figure = plot_scores({"LV": [0.9, 0.92], "RV": [0.8, 0.84]}, reference=0.85)
        >>> [t.get_text() for t in figure.axes[0].get_xticklabels()]
        ['LV', 'RV']
    """
    if not scores:
        raise ValueError("there are no scores to plot.")
    grouped = all(isinstance(v, Mapping) for v in scores.values())
    if grouped:
        groups = {str(g): {str(s): v for s, v in series.items()} for g, series in scores.items()}
    else:
        groups = {"": {str(k): v for k, v in scores.items()}}
    series_names = list(dict.fromkeys(s for series in groups.values() for s in series))
    n_series = len(series_names)
    width = 0.8 / n_series if grouped else 0.7

    figure = Figure(figsize=(max(4.5, 1.1 * len(groups) * max(n_series, 1) + 2.0), 4.2),
                    layout="constrained")
    axes = figure.add_subplot()
    rng = np.random.default_rng(0)  # jitter of the dots, fixed so plots are reproducible
    all_values = []
    for s_index, series in enumerate(series_names):
        colour = _NAME_COLOURS.get(series, _EXTRA_COLOURS[s_index % len(_EXTRA_COLOURS)])
        for g_index, (group, members) in enumerate(groups.items()):
            if series not in members:
                continue
            mean, spread, values = _summary(members[series])
            all_values.extend(values.tolist())
            x = (g_index + (s_index - (n_series - 1) / 2) * width) if grouped else s_index
            axes.bar(x, 0 if math.isnan(mean) else mean, width=width * 0.9, color=colour,
                     alpha=0.75, label=series if grouped and g_index == 0 else None,
                     yerr=spread if values.size > 1 else None, capsize=3)
            if values.size > 1:
                jitter = rng.uniform(-0.2, 0.2, size=values.size) * width
                axes.scatter(x + jitter, values, s=10, color="0.15", zorder=3)
            text = "n/a" if math.isnan(mean) else f"{mean:.3f}"
            if values.size > 1:
                text += f"\nn={values.size}"
            axes.text(x, 0.02, text, transform=axes.get_xaxis_transform(), ha="center",
                      va="bottom", fontsize="x-small", color="black")
    if grouped:
        axes.set_xticks(range(len(groups)), list(groups))
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        axes.set_xticks(range(n_series), series_names)
    references = ({} if reference is None else
                  {"reference": reference} if not isinstance(reference, Mapping) else reference)
    for r_index, (name, value) in enumerate(references.items()):
        axes.axhline(float(value), color="0.35", linestyle=("--", ":", "-.")[r_index % 3],
                     linewidth=1.2)
        axes.annotate(f"{name}: {float(value):g}", (1.0, float(value)),
                      xycoords=("axes fraction", "data"), xytext=(-3, 3),
                      textcoords="offset points", ha="right", va="bottom", fontsize="x-small",
                      color="0.25")
        all_values.append(float(value))
    if ylim is None and all_values and 0.0 <= min(all_values) and max(all_values) <= 1.0:
        ylim = (0.0, 1.05)
    if ylim is not None:
        axes.set_ylim(*ylim)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    if title:
        axes.set_title(title)
    return _finish(figure, path)
