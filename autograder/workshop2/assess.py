"""Assessing the model: ``assess(labels, scores, threshold=0.5)`` returns five numbers.

``labels`` are the true classes (1 = short axis, 0 = other view), ``scores`` the model's
probabilities of class 1 (as ``model.predict`` gives them: ``(N, 1)`` or ``(N,)``). A
score above ``threshold`` means "short axis". The function returns a dict with
``accuracy``, ``confusion_matrix`` (2x2, rows = true class, columns = predicted class:
``[[TN, FP], [FN, TP]]``), ``sensitivity`` (TP / (TP + FN)), ``specificity``
(TN / (TN + FP)) and ``roc_auc`` (from the *scores*: the probability that a random
short-axis image scores higher than a random other view, ties counting one half). Equal
to :mod:`chdml.metrics` within 1e-9 on hidden predictions.

Typical beginner mistakes the hidden cases catch:
- sensitivity and specificity swapped, or a transposed confusion matrix (hidden sets are
  unbalanced, so FP != FN);
- the AUC computed from thresholded labels instead of scores (hidden scores rank the
  images differently from their labels at 0.5);
- ``(N, 1)`` scores compared with ``(N,)`` labels, which broadcasts to an N x N table
  (hidden scores come as ``model.predict`` returns them);
- a fixed threshold of 0.5 (a hidden case uses 0.3), or ``>=`` where ties matter (no
  score equals the threshold, so either comparison is accepted);
- labels given as floats 0.0/1.0 used as indices (hidden);
- ties in the AUC not counted one half (a hidden case has scores rounded to 0.1).
Accepted alternatives: NumPy or :mod:`chdml.metrics`; ``>=`` instead of ``>``; the matrix
as an array or nested lists; Python or NumPy numbers.
"""
import numpy as np

from chdml import metrics
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise


def _scores(rng, labels, separation):
    """Probabilities that rank most positives above negatives, no score exactly 0.5."""
    logits = rng.normal(0.0, 1.0, labels.size) + separation * (2 * labels - 1)
    scores = np.round(1 / (1 + np.exp(-logits)), 3)
    scores[scores == 0.5] = 0.501
    return scores


def cases(rng: np.random.Generator) -> list[Case]:
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.4, 0.7, 0.2, 0.6, 0.1, 0.3, 0.35, 0.05])

    def unbalanced(n, share):
        truth = (rng.random(n) < share).astype(np.int64)
        truth[:2] = [0, 1]
        return truth

    big = unbalanced(180, 0.2)
    tied = unbalanced(60, 0.4)
    tied_scores = np.round(_scores(rng, tied, 0.6), 1)
    tied_scores[tied_scores == 0.5] = 0.6
    ties_at = _scores(rng, big, 0.8)
    floats = unbalanced(80, 0.3)
    return [
        Case("10 predictions, 4 short-axis images", public=True, points=1,
             inputs={"labels": labels, "scores": scores, "threshold": 0.5}),
        Case("180 predictions shaped (180, 1) like model.predict returns, 20 % short axis",
             public=False, points=1,
             inputs={"labels": big, "scores": _scores(rng, big, 1.0)[:, None],
                     "threshold": 0.5},
             hint="Flatten the scores first: np.ravel(scores)."),
        Case("scores with ties (rounded to 0.1)", public=False, points=1,
             inputs={"labels": tied, "scores": tied_scores, "threshold": 0.5},
             hint="AUC from the scores, not from the 0/1 predictions; ties count one half."),
        Case("a threshold of 0.3", public=False, points=1,
             inputs={"labels": big, "scores": np.where(ties_at == 0.3, 0.301, ties_at),
                     "threshold": 0.3},
             hint="Use the threshold argument: predicted = scores > threshold."),
        Case("labels given as floats 0.0 and 1.0, an unbalanced set", public=False, points=1,
             inputs={"labels": floats.astype(np.float32),
                     "scores": _scores(rng, floats, 0.9), "threshold": 0.5},
             hint="Sensitivity is TP / (TP + FN) (short-axis images found); specificity "
                  "TN / (TN + FP); rows of the matrix are the true classes."),
    ]


def reference(inputs: dict) -> dict:
    truth = np.asarray(inputs["labels"]).astype(np.int64).ravel()
    scores = np.asarray(inputs["scores"], dtype=np.float64).ravel()
    predicted = (scores > float(inputs["threshold"])).astype(np.int64)
    return {"accuracy": metrics.accuracy(truth, predicted),
            "confusion_matrix": metrics.confusion_matrix(truth, predicted, n_classes=2),
            "sensitivity": metrics.sensitivity(truth, predicted),
            "specificity": metrics.specificity(truth, predicted),
            "roc_auc": metrics.roc_auc(truth, scores)}


EXERCISE = Exercise(
    name="assess",
    title="Accuracy, confusion matrix, sensitivity, specificity, ROC AUC",
    producer=producers.call("assess", "labels", "scores", "threshold"),
    reference=reference,
    compare=compare.dicts(default=compare.number(atol=1e-9, rtol=0.0),
                          confusion_matrix=compare.arrays(atol=0.0, rtol=0.0)),
    cases=cases,
    hint="predicted = np.ravel(scores) > threshold; then count TP, TN, FP, FN.",
)
