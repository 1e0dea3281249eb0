"""Logistic regression on one measurement: the data and the reference of workshop 2.

The story of the exercise: one number is measured on every image (for example how round
the brightest blob, the left-ventricular blood pool, is) and a single sigmoid unit decides
from it whether the image is a short-axis view (label 1) or another view (label 0).

* :func:`one_feature_classes` draws such measurements: two Gaussian classes on a line.
  :data:`EASY` (a good measurement: the classes barely overlap) and :data:`HARD` (a poor
  one: they overlap a lot) are the two settings the notebook uses.
* :func:`fit_logistic` is the maximum-likelihood fit of ``p = sigmoid(w x + b)``
  (Newton's method, with a tiny L2 penalty so that perfectly separable data still give a
  finite answer); :func:`decision_boundary` is where ``p = 0.5``, i.e. ``x = -b / w``.
* :func:`logistic_result` is what the exercise's check compares with: the boundary and the
  accuracy at that boundary on the same points.

Layout: ``x`` is ``(N,)`` (or ``(N, 1)``, flattened) float, ``y`` is ``(N,)`` of 0/1.
A point is called class 1 when ``p > 0.5`` (as Keras' ``binary_accuracy`` does).
"""
from __future__ import annotations

import numpy as np

EASY = {"centres": (-1.5, 1.5), "spread": 0.6}
"""A good measurement: class 0 around -1.5, class 1 around +1.5, little overlap."""

HARD = {"centres": (-0.5, 0.5), "spread": 1.0}
"""A poor measurement: the classes overlap so much that about 30 % of points are on the
wrong side of the best possible boundary."""


def one_feature_classes(n: int = 200, centres=(-1.5, 1.5), spread: float = 0.6,
                        positive_fraction: float = 0.5, seed: int = 0
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` measurements of two classes: class ``k`` is Normal(``centres[k]``, ``spread``).

    Args:
        n: number of points.
        centres: means of class 0 and class 1 (class 1 may lie left of class 0).
        spread: standard deviation of both classes (one number) or one per class.
        positive_fraction: share of class 1 (rounded to a whole number of points).
        seed: the same seed gives the same points.

    Returns:
        ``(x, y)``: ``x`` float32 ``(n,)``, ``y`` int64 ``(n,)`` of 0/1, in random order.

    Example:
        >>> x, y = one_feature_classes(100, **EASY)
        >>> x.shape, int(y.sum())
        ((100,), 50)
    """
    rng = np.random.default_rng(seed)
    spreads = np.broadcast_to(np.asarray(spread, dtype=float), (2,))
    n_positive = int(round(n * positive_fraction))
    labels = np.r_[np.zeros(n - n_positive, dtype=np.int64), np.ones(n_positive, dtype=np.int64)]
    values = rng.normal(np.asarray(centres, dtype=float)[labels], spreads[labels])
    order = rng.permutation(n)
    return values[order].astype(np.float32), labels[order]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free form of 1 / (1 + exp(-z))


def fit_logistic(x, y, l2: float = 1e-4, iterations: int = 100) -> tuple[float, float]:
    """Maximum-likelihood ``(weight, bias)`` of ``p = sigmoid(weight * x + bias)``.

    Newton's method on the mean binary cross-entropy plus ``l2 / 2 * weight**2`` (the
    penalty only keeps the weight finite when the classes do not overlap at all; for
    overlapping classes its effect on the boundary is far below the check's tolerance).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"x and y need one value per point each, got {x.size} and {y.size}")
    design = np.column_stack([x, np.ones_like(x)])
    penalty = np.diag([l2, 0.0])
    params = np.zeros(2)
    for _ in range(iterations):
        p = _sigmoid(design @ params)
        gradient = design.T @ (p - y) / x.size + penalty @ params
        hessian = (design * (p * (1 - p))[:, None]).T @ design / x.size + penalty
        step = np.linalg.solve(hessian + 1e-12 * np.eye(2), gradient)
        params -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(params[0]), float(params[1])


def decision_boundary(weight: float, bias: float) -> float:
    """The measurement at which ``sigmoid(weight * x + bias) = 0.5``: ``x = -bias / weight``."""
    if weight == 0:
        raise ValueError("a weight of 0 has no decision boundary (the unit ignores x)")
    return -float(bias) / float(weight)


def accuracy_of(x, y, weight: float, bias: float) -> float:
    """Fraction of points with ``(sigmoid(weight * x + bias) > 0.5) == y``."""
    x = np.asarray(x, dtype=np.float64).ravel()
    predicted = (_sigmoid(weight * x + bias) > 0.5).astype(np.int64)
    return float(np.mean(predicted == np.asarray(y).ravel()))


def logistic_result(x, y) -> dict:
    """``{"boundary": ..., "accuracy": ...}`` of the maximum-likelihood sigmoid unit."""
    weight, bias = fit_logistic(x, y)
    return {"boundary": decision_boundary(weight, bias),
            "accuracy": accuracy_of(x, y, weight, bias)}
