"""The trained dense classifier: ``dense_model`` tells the 10 cardiac views apart.

Judged on synthetic 28x28 view images the student never sees: ``chdml.data.synth.
view_images(n, size=28, seed=<drawn>, task="ten_views")`` with a seed drawn from the
case stream (the notebook trains on seed 1 and shows test seed 2; the hidden seed also
depends on ``CHDML_GRADING_SALT``), scored in the grader by accuracy against the true
views, which never enter the student's kernel.

Floor: accuracy >= 0.45. Measured for the reference (:func:`chdml.models.dense_classifier`)
trained exactly as in the notebook (``view_images(2000, seed=1)``, Adam, batch 32, 20
epochs, ``validation_split=0.2``), three weight seeds x three hidden sets of 500 images:
0.590-0.642 (the notebook's own test set: 0.582-0.618); untrained: about 0.10 (chance).
The floor is 13 points below the lowest measurement, almost four standard errors of the
200-image public case (SE ~3.5 points at 0.59), so a properly trained model passes on any
machine. It catches models that did not learn, not ones that learned a little less.

Typical beginner mistakes this catches: an untrained or barely trained model (about 10 %,
chance); a model trained on labels that do not belong to the images (e.g. labels
shuffled without their images); a model that only works on images rescaled outside it
(the check feeds images exactly like ``train_images``, floats in [0, 1]); a model with
too few output classes.
Accepted: softmax scores, class numbers or one-hot predictions; any optimizer, batch
size and number of epochs that reach the floor.
"""
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

from ._views import true_views, view_case_inputs

FLOOR = 0.45


def cases(rng) -> list:
    return [
        Case("200 new view images", public=True, points=1, inputs=view_case_inputs(rng, 200)),
        Case("500 hidden view images of other synthetic patients", public=False, points=2,
             inputs=view_case_inputs(rng, 500),
             hint="Train for more epochs, and check that the training accuracy rises."),
    ]


EXERCISE = Exercise(
    name="dense_accuracy",
    title="Training the dense classifier",
    producer=producers.predict_with("dense_model", images="images"),
    reference=true_views,
    compare=compare.score_at_least("accuracy", FLOOR),
    cases=cases,
    hint="Compile dense_model with loss='sparse_categorical_crossentropy' and fit it on "
         "train_images and train_labels.",
)
