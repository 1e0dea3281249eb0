"""Building the model: ``build_classifier(input_shape, n_blocks, base_filters, dense_units)``.

The workshop's convolutional classifier, equal to :func:`chdml.models.workshop_classifier`
with two classes: ``n_blocks`` blocks of two 3x3 ReLU convolutions (``padding="same"``)
and 2x2 max-pooling, block ``b`` (from 1) with ``base_filters * 2**(b-1)`` filters; then
flatten, a ReLU Dense layer of ``dense_units`` and one sigmoid unit (the probability of
"short axis"). Compared by layer kinds in order, output shape, parameter count and a
forward pass with seeded weights (comparison ``keras_model``), for hidden settings.

Typical beginner mistakes the hidden cases catch:
- the same number of filters in every block, or doubling after every convolution
  instead of every block (parameter count);
- a missing max-pooling layer (layer kinds, parameter count of the dense layer);
- ``padding="valid"`` (the image shrinks: parameter count of the dense layer);
- softmax on a single unit (always 1.0: the forward pass differs although shapes and
  parameter counts agree), or two softmax units (output shape);
- a missing ReLU (forward pass);
- the notebook's sizes written as fixed numbers (hidden image sizes, channels, numbers
  of blocks, filters and dense units differ).
Accepted alternatives: ``keras.Sequential`` or the functional API; with or without an
explicit ``keras.Input`` layer; any layer names.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise


def reference(inputs: dict) -> dict:
    from chdml.models import workshop_classifier

    return producers.describe(workshop_classifier(
        input_shape=tuple(inputs["input_shape"]), n_blocks=int(inputs["n_blocks"]),
        base_filters=int(inputs["base_filters"]), dense_units=int(inputs["dense_units"]),
        n_classes=2))


def cases(rng: np.random.Generator) -> list[Case]:
    def settings(side, channels, n_blocks, base_filters, dense_units):
        return {"input_shape": [int(side), int(side), int(channels)],
                "n_blocks": int(n_blocks), "base_filters": int(base_filters),
                "dense_units": int(dense_units)}

    return [
        Case("64 x 64 images, 3 blocks, 8 filters, 32 dense units (the notebook's model)",
             public=True, points=1, inputs=settings(64, 1, 3, 8, 32)),
        Case("another image size and width: 2 blocks", public=False, points=1,
             inputs=settings(4 * int(rng.integers(6, 10)), 1, 2, int(rng.choice([4, 6])),
                             int(rng.choice([8, 16]))),
             hint="Use input_shape, n_blocks, base_filters and dense_units; write no fixed "
                  "numbers."),
        Case("4 blocks on 3-channel images", public=False, points=1,
             inputs=settings(16 * int(rng.integers(2, 4)), 3, 4, int(rng.choice([2, 4])),
                             int(rng.choice([8, 12]))),
             hint="Block b has base_filters * 2 ** (b - 1) filters: double once per block."),
        Case("a single block", public=False, points=1,
             inputs=settings(2 * int(rng.integers(6, 10)), 1, 1, int(rng.choice([3, 5])),
                             int(rng.choice([4, 10]))),
             hint="Each block: Conv2D, Conv2D (3x3, ReLU, padding='same'), MaxPooling2D(2); "
                  "then Flatten, Dense(dense_units, ReLU), Dense(1, sigmoid)."),
    ]


EXERCISE = Exercise(
    name="build_classifier",
    title="The workshop's convolutional classifier",
    producer=producers.describe_model("build_classifier", "input_shape", "n_blocks",
                                      "base_filters", "dense_units"),
    reference=reference,
    compare=compare.keras_model(),
    cases=cases,
    hint="One sigmoid unit at the end: Dense(1, activation='sigmoid'), not softmax.",
)
