"""Logistic regression: ``fit_sigmoid_unit(x, y)`` trains one sigmoid unit on 1-D points.

The student's function builds ``keras.Sequential([keras.Input(shape=(1,)),
keras.layers.Dense(1, activation="sigmoid")])``, trains it with binary cross-entropy and
returns a dict with (at least) ``"boundary"`` (the x where the predicted probability is
0.5, i.e. ``-bias / weight``) and ``"accuracy"`` (the share of the given points on the
right side, a point being class 1 when ``p > 0.5``). It is judged against the
maximum-likelihood fit (:func:`chdml.teaching.logistic.logistic_result`): boundary within
0.25, accuracy within 0.03. The notebook's solution (Adam, learning rate 0.1, 10 epochs,
batch size 10) stayed within 0.072 (boundary) and 0.017 (accuracy) of the reference in 38
Keras fits: the 3 hidden cases drawn with 12 salts, and the 2 public cases. Hidden cases
have 240 points, the notebook's 200 (so no hidden array looks like a public one).

Typical beginner mistakes the hidden cases catch:
- the boundary's sign turned round (``bias / weight``): the notebook's data have their
  boundary near 0, the hidden ones off-centre (|boundary| >= 0.7);
- probabilities compared with labels without a threshold (``np.mean(p == y)``, about 0),
  or a threshold of 0 instead of 0.5 (every point called class 1);
- no sigmoid (a linear unit, whose output crosses 0, not 0.5, at ``-bias / weight``);
- far too little training (Keras' default learning rate 0.001 for a few epochs: the
  boundary has not moved to its place, most visible off-centre);
- a boundary or accuracy copied from the notebook's data (the hidden points differ);
- assuming class 1 lies on the right (a hidden case has it on the left, negative weight).
Accepted alternatives: any optimiser and number of epochs that converge; a Sequential or
functional model; ``(p >= 0.5)``; extra keys in the returned dict (e.g. the model).
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.logistic import EASY, HARD, logistic_result, one_feature_classes

NOTEBOOK_SEEDS = {"easy": 1, "hard": 2}
"""Seeds of the notebook's ``easy_x, easy_y`` and ``hard_x, hard_y`` (200 points each)."""


def _points(rng_or_seed, n=240, **setting) -> dict:
    """The notebook's 200 points (a seed) or 240 new ones (hidden: another length, so no
    hidden array can look like a public one in a message)."""
    seed = rng_or_seed if isinstance(rng_or_seed, int) else int(rng_or_seed.integers(2**31))
    x, y = one_feature_classes(n, seed=seed, **setting)
    return {"x": x, "y": y}


def cases(rng: np.random.Generator) -> list[Case]:
    centre = float(rng.uniform(0.8, 1.6)) * rng.choice([-1.0, 1.0])
    gap = float(rng.uniform(1.2, 2.2))
    return [
        Case("the easy measurement of the notebook (easy_x, easy_y)", public=True, points=1,
             inputs=_points(NOTEBOOK_SEEDS["easy"], n=200, **EASY)),
        Case("the hard measurement of the notebook (hard_x, hard_y)", public=True, points=1,
             inputs=_points(NOTEBOOK_SEEDS["hard"], n=200, **HARD)),
        Case("new points whose boundary is not at 0", public=False, points=1,
             inputs=_points(rng, centres=(centre - gap / 2, centre + gap / 2),
                            spread=float(rng.uniform(0.5, 0.8))),
             hint="The boundary is where weight * x + bias = 0, i.e. x = -bias / weight; "
                  "train long enough for it to settle (e.g. Adam(learning_rate=0.1), "
                  "10 epochs, batch_size=10)."),
        Case("class 1 on the left of class 0", public=False, points=1,
             inputs=_points(rng, centres=(float(rng.uniform(0.8, 1.4)),
                                          float(rng.uniform(-1.4, -0.8))),
                            spread=float(rng.uniform(0.6, 0.9))),
             hint="The weight can be negative; -bias / weight still gives the boundary."),
        Case("one point in four is class 1 (the boundary moves away from it)", public=False,
             points=1,
             inputs=_points(rng, centres=(-1.0, 1.0), spread=float(rng.uniform(0.9, 1.1)),
                            positive_fraction=0.25),
             hint="Threshold the predicted probabilities at 0.5 before comparing with y."),
    ]


EXERCISE = Exercise(
    name="logistic_regression",
    title="Logistic regression: one sigmoid unit",
    producer=producers.call_select("fit_sigmoid_unit", "x", "y",
                                   keys=("boundary", "accuracy")),
    reference=lambda inputs: logistic_result(inputs["x"], inputs["y"]),
    compare=compare.dicts(boundary=compare.number(atol=0.25, rtol=0.0),
                          accuracy=compare.number(atol=0.03, rtol=0.0)),
    cases=cases,
    hint="Build Dense(1, activation='sigmoid') on keras.Input(shape=(1,)), compile with "
         "loss='binary_crossentropy', fit, then boundary = -bias / weight and accuracy = "
         "mean((p > 0.5) == y).",
)
