"""Hidden 10-view test sets and the exercise of the two trained-classifier checks
(``dense_accuracy`` and ``cnn_accuracy``; not an exercise itself).

The images of a case travel to the student's kernel, their true views must not: a case's
inputs hold only the images, and :func:`true_views` finds the views again from the
images' fingerprint, in the grader process that drew the case.
"""
from __future__ import annotations

import numpy as np

from chdml.grading.answers import AnswerBook, view_test_set

VIEWS = AnswerBook("view images")


def view_case_inputs(rng: np.random.Generator, n_images: int) -> dict:
    """``{"images": (n_images, 28, 28, 1) float32}`` of synthetic patients never trained on.

    The seed comes from ``rng`` (the case stream; at least 1000, so never the notebook's
    training seed 1 or test seed 2). Generating 500 images takes a few seconds; sets are
    cached per process.
    """
    seed = int(rng.integers(1_000, 2**31 - 1))
    images, labels = view_test_set(n_images, 28, seed, "ten_views")
    return {"images": VIEWS.keep(images, labels)}


def true_views(inputs: dict) -> np.ndarray:
    """The true view (class number 0-9) of each image of a case made by :func:`view_case_inputs`."""
    return VIEWS.look_up(inputs["images"])


def accuracy_exercise(name: str, title: str, model_variable: str, floor: float):
    """The exercise "``model_variable`` classifies the ten views with accuracy >= ``floor``".

    Judged on synthetic 28x28 view images the student never sees: ``chdml.data.synth.
    view_images(n, size=28, seed=<drawn>, task="ten_views")`` with a seed drawn from the
    case stream (the notebook trains on seed 1 and shows test seed 2; the hidden seed also
    depends on ``CHDML_GRADING_SALT``), scored in the grader by accuracy against the true
    views, which never enter the student's kernel. Cases: 200 new view images (public,
    1 point) and 500 hidden ones of other synthetic patients (2 points).

    Typical beginner mistakes this catches: an untrained or barely trained model (about
    10 %, chance); a model trained on labels that do not belong to the images (e.g. labels
    shuffled without their images); a model that only works on images rescaled outside it
    (the check feeds images exactly like ``train_images``, floats in [0, 1]); a model with
    too few output classes.
    Accepted: softmax scores, class numbers or one-hot predictions; any optimizer, batch
    size and number of epochs that reach the floor.
    """
    from chdml.grading import compare, producers
    from chdml.grading.spec import Case, Exercise

    def cases(rng) -> list:
        return [
            Case("200 new view images", public=True, points=1,
                 inputs=view_case_inputs(rng, 200)),
            Case("500 hidden view images of other synthetic patients", public=False,
                 points=2, inputs=view_case_inputs(rng, 500),
                 hint="Train for more epochs, and check that the training accuracy rises."),
        ]

    return Exercise(
        name=name,
        title=title,
        producer=producers.predict_with(model_variable, images="images"),
        reference=true_views,
        compare=compare.score_at_least("accuracy", floor),
        cases=cases,
        hint=f"Compile {model_variable} with loss='sparse_categorical_crossentropy' and fit "
             "it on train_images and train_labels.",
    )
