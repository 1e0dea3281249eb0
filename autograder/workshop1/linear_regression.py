"""Linear regression: ``linear_model``, one Dense unit, fitted to y = 2x - 4.

Judged on the model itself, not on numbers the student reports: its weights flattened in
layer order (``producers.flat_weights``) must be ``[weight, bias]`` within 0.1 of
``[2, -4]``.

Typical beginner mistakes this catches:
- too few epochs or too small a learning rate (the weights are still far from 2 and -4);
- a learning rate so large that training diverges (NaN weights);
- more than one unit or layer (more than two weights), or a unit without a bias;
- fitting x to y the wrong way round (weight 0.5, bias 2).
Accepted: Sequential or functional models, with or without ``keras.Input``; any
optimizer, learning rate, batch size and number of epochs that get close enough.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

TRUE_WEIGHT, TRUE_BIAS = 2.0, -4.0


EXERCISE = Exercise(
    name="linear_regression",
    title="Linear regression with one unit",
    producer=producers.flat_weights("linear_model"),
    reference=lambda inputs: np.array([TRUE_WEIGHT, TRUE_BIAS]),
    compare=compare.arrays(atol=0.1, rtol=0.0),
    cases=lambda rng: [Case("the weight and bias learned by linear_model", public=True,
                            points=2)],
    hint="Use keras.layers.Dense(1) with no activation, compile with loss='mse' and train "
         "for more epochs (or with a larger learning rate) until the loss is close to 0.",
)
