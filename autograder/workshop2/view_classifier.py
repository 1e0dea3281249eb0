"""The trained model: ``view_classifier`` tells short-axis images from other views.

The student's trained Keras model predicts images it has never seen, made by
:func:`chdml.data.synth.view_images` (``task="binary"``, 64 x 64, values in [0, 1], the
same format as the notebook's ``view_set.images``) with a seed the notebook never uses;
the hidden labels never reach the kernel. Judged by accuracy (a probability above 0.5
means short axis), computed in the grader.

Floor: the notebook's reference model (3 blocks, 8 base filters, 32 dense units, 8
epochs of Adam on the training patients' images of a 960-image set) scored 0.938-0.981 on
five hidden sets of 160 images (seeds 9001-9005), over three training runs (the
notebook's, and seeds 1 and 2; measured with ``bench/bench_workshop2.py
--floors``). The floor is 0.88: about 0.06 below the worst of those 15 scores, i.e. about
four standard deviations of the sampling noise of 160 images, so a model as good as the
reference passes, while an untrained one (about 0.5) does not.

Typical mistakes caught: an untrained model or one that always gives the same answer
(about 0.5); labels inverted (0 for short axis: about 0). Accepted: sigmoid scores
``(N, 1)`` or ``(N,)``, or 0/1 labels.
"""

import numpy as np

from chdml.grading import compare, producers
from chdml.grading.answers import AnswerBook, view_test_set
from chdml.grading.spec import Case, Exercise

FLOOR = 0.88
PUBLIC_SEED = 4242
LABELS = AnswerBook("images")
"""Labels of every test set drawn in this process (never sent to the kernel)."""


def _test_set(seed: int, n: int) -> np.ndarray:
    """``n`` binary view images of new patients; their labels are kept in ``LABELS``."""
    return LABELS.keep(*view_test_set(n, 64, seed, "binary"))


def cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("48 new images (a public test set)", public=True, points=1,
             inputs={"images": _test_set(PUBLIC_SEED, 48)}),
        Case("160 hidden images of new patients", public=False, points=2,
             inputs={"images": _test_set(100_000 + int(rng.integers(10**6)), 160)},
             hint="Train longer, check that the images you train on look like "
                  "view_set.images (64 x 64, values 0-1) and that label 1 is short axis."),
    ]


def reference(inputs: dict) -> np.ndarray:
    """The true labels of the case's images (never sent to the kernel)."""
    return LABELS.look_up(inputs["images"])


EXERCISE = Exercise(
    name="view_classifier",
    title="Training the view classifier",
    producer=producers.predict_with("view_classifier", images="images"),
    reference=reference,
    compare=compare.score_at_least("accuracy", FLOOR),
    cases=cases,
    hint="Compile with loss='binary_crossentropy' and fit on the training images and labels.",
)
