"""The better model: ``regularised_model`` must beat ``baseline_model`` on images it has
never seen.

Both models are the notebook's: ``baseline_model`` (no cure: the workshop classifier
trained for 40 epochs on 24 images of 3 patients, validated on 16 images of 2 others) and
the student's ``regularised_model`` (the same data, optimizer, batch size and epoch budget,
with the cures of the workshop: dropout, L2, augmentation, early stopping). Both predict
the same images of new synthetic patients (:func:`chdml.data.synth.view_images`, binary
task, 64 x 64, a seed the notebook never uses; the hidden labels never reach the kernel).
The grader computes each model's cross-entropy loss and accuracy (producer
``predict_each``, comparison ``beats_baseline``): the regularised model passes when its
loss is lower than the baseline's on the same images, its loss is at most 1.0 and its
accuracy at least 0.70.

Why the loss: on 24 training images the baseline's *accuracy* is already high, and
overfitting shows mostly as over-confidence (probabilities near 0 or 1 for wrong answers),
which the loss measures and accuracy hides; the floors keep a model from passing by
spoiling the baseline.

Measured with ``bench/workshop3_floors.py --test-sets 8`` (the notebook's own cells,
training seeds 0-5, eight sets of 200 new images each, seeds 100001-100008: 48 pairs; this
2-vCPU machine; synth at commit d8450af, the framed, domain-randomised view set):
baseline loss 0.379-2.936 (mean 1.526), accuracy 0.770-0.925 (mean 0.855); the notebook's
regularised model (dropout 0.5, L2 1e-4, early stopping with patience 8) loss 0.159-0.812
(mean 0.362, 95th percentile 0.55), accuracy 0.780-0.935 (mean 0.867). It had the lower
loss in 48 of 48 pairs (by at least 0.17); the absolute floors (loss 1.0, accuracy 0.70)
leave margins of 0.19 and 0.08 below its worst run, and alone would let 12 of the 48
baselines through: the comparison with the baseline is what decides. (On the earlier,
easier synthetic view set: regularised loss 0.108-0.409 on 12 pairs; early stopping alone
met the rule in 10 of 12 there.)

Typical mistakes caught (proved in ``tests/workshops/test_workshop3.py`` with stand-in
models): the baseline copied instead of regularised (an equal loss is not lower); a model
that predicts poorly (trained too briefly, on other data, or on images scaled differently
from ``train_images``: the floors); predictions inverted (label 1 taken for long axis);
predictions thresholded to 0/1 labels (one confident mistake costs a loss of 16: use the
probabilities); a spoiled baseline (the floors still apply).
"""

import numpy as np

from chdml.grading import compare, producers
from chdml.grading.answers import AnswerBook, view_test_set
from chdml.grading.spec import Case, Exercise

MIN_ACCURACY = 0.70
MAX_LOSS = 1.0
PUBLIC_SEED = 4343
LABELS = AnswerBook("images")
"""Labels of every test set drawn in this process (never sent to the kernel)."""


def _test_set(seed: int, n: int) -> np.ndarray:
    """``n`` binary view images of new patients; their labels are kept in ``LABELS``."""
    return LABELS.keep(*view_test_set(n, 64, seed, "binary"))


def cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("64 new images (a public test set)", public=True, points=1,
             inputs={"images": _test_set(PUBLIC_SEED, 64)}),
        Case("200 hidden images of new patients", public=False, points=3,
             inputs={"images": _test_set(100_000 + int(rng.integers(10**6)), 200)},
             hint="Build regularised_model with dropout (and L2), train it on the same data "
                  "as the baseline with your early-stopping callbacks, and keep "
                  "baseline_model as the notebook trained it."),
    ]


def reference(inputs: dict) -> np.ndarray:
    """The true labels of the case's images (never sent to the kernel)."""
    return LABELS.look_up(inputs["images"])


EXERCISE = Exercise(
    name="better_model",
    title="A regularised model that beats the baseline",
    producer=producers.predict_each(("regularised_model", "baseline_model")),
    reference=reference,
    compare=compare.beats_baseline(min_accuracy=MIN_ACCURACY, max_loss=MAX_LOSS),
    cases=cases,
    hint="Use the cures of this workshop: your build_classifier with dropout 0.5 and L2 "
         "1e-4, and your early-stopping callbacks in fit, with validation_data; train on "
         "train_images like the baseline.",
)
