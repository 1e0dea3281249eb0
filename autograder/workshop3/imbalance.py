"""Class imbalance: ``imbalance_report(true_labels, predicted_labels)`` returns
``{"class_fractions": [...], "accuracy": ..., "balanced_accuracy": ...}``.

``class_fractions[c]`` is the fraction of the *true* labels equal to ``c``, for ``c = 0``
up to the largest true class; ``accuracy`` the fraction predicted right; ``balanced_accuracy``
the mean, over the classes present in the true labels, of the fraction of each class
predicted right (:func:`chdml.metrics.balanced_accuracy`). Reference:
:func:`chdml.teaching.pitfalls.imbalance_report`.

Typical beginner mistakes the hidden cases catch:
- plain accuracy reported as balanced accuracy (the lazy "always the majority" model
  looks good on an imbalanced set);
- the fractions counted from the predictions instead of the true labels;
- balanced accuracy averaged over the *predicted* classes, or as the mean precision;
- ``(sensitivity + specificity) / 2`` hard-coded for two classes (three classes break it);
- a class that is never predicted left out of the average (its recall is 0).
Accepted: lists or arrays; NumPy or Python numbers; fractions as a list or an array.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.pitfalls import imbalance_report


def _noisy(rng, truth, error_rate, n_classes):
    predictions = truth.copy()
    wrong = rng.random(truth.size) < error_rate
    predictions[wrong] = (truth[wrong] + rng.integers(1, n_classes, wrong.sum())) % n_classes
    return predictions


def cases(rng: np.random.Generator) -> list[Case]:
    def inputs(truth, predictions):
        return {"true_labels": [int(v) for v in truth],
                "predicted_labels": [int(v) for v in predictions]}

    n = int(rng.integers(40, 60))
    minority = int(round(0.1 * n))
    truth = rng.permutation(np.r_[np.zeros(n - minority, int), np.ones(minority, int)])
    lazy = inputs(truth, np.zeros(n, int))

    balanced_truth = rng.permutation(np.arange(int(rng.integers(30, 40))) % 2)
    balanced = inputs(balanced_truth, _noisy(rng, balanced_truth, 0.2, 2))

    m = int(rng.integers(40, 60))
    majority_one = rng.permutation(np.r_[np.zeros(m // 5, int), np.ones(m - m // 5, int)])
    predictions = _noisy(rng, majority_one, 0.1, 2)
    predictions[np.flatnonzero(majority_one == 0)[:2]] = 1   # some minority errors for sure
    flipped = inputs(majority_one, predictions)

    three_truth = rng.permutation(np.r_[np.zeros(30, int), np.ones(12, int),
                                        np.full(6, 2, int)])
    three = inputs(three_truth, _noisy(rng, three_truth, 0.25, 3))

    skewed_truth = rng.permutation(np.r_[np.zeros(36, int), np.ones(12, int)])
    over_predicting = _noisy(rng, skewed_truth, 0.1, 2)
    over_predicting[np.flatnonzero(skewed_truth == 0)[:10]] = 1
    many_positive = inputs(skewed_truth, over_predicting)

    return [
        Case("90 % of one class and a model that always says that class", public=True,
             points=1, inputs=lazy),
        Case("a balanced set", public=True, points=1, inputs=balanced),
        Case("an imbalanced set where class 1 is the majority", public=False, points=1,
             inputs=flipped,
             hint="Count fractions from the true labels; balanced accuracy averages the "
                  "fraction right within each true class."),
        Case("three classes", public=False, points=1, inputs=three,
             hint="Average the per-class fraction right over every class in the true "
                  "labels, not only two."),
        Case("a model that predicts class 1 far too often", public=False, points=1,
             inputs=many_positive,
             hint="Class fractions come from the true labels, not from the predictions."),
    ]


EXERCISE = Exercise(
    name="imbalance",
    title="Class imbalance and balanced accuracy",
    producer=producers.call("imbalance_report", "true_labels", "predicted_labels"),
    reference=lambda inputs: imbalance_report(inputs["true_labels"],
                                              inputs["predicted_labels"]),
    compare=compare.dicts(class_fractions=compare.arrays(atol=1e-9),
                          accuracy=compare.number(atol=1e-9),
                          balanced_accuracy=compare.number(atol=1e-9)),
    cases=cases,
    hint="class_fractions: np.bincount(true) / len(true); balanced accuracy: the mean over "
         "the true classes c of mean(predicted[true == c] == c).",
)
