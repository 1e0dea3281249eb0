"""Regularisation switches: ``build_classifier(input_shape, n_blocks, base_filters,
dense_units, dropout=0.0, l2=0.0, augment=False)``.

The workshop-2 classifier with the three switches of
:func:`chdml.models.workshop_classifier` (two classes, one sigmoid unit):

- ``dropout > 0``: a ``Dropout(dropout)`` layer after ``Flatten`` and another after the
  hidden ``Dense`` layer; dropout has no weights, so the parameter count does not change;
- ``l2 > 0``: ``kernel_regularizer=keras.regularizers.L2(l2)`` on *every* ``Conv2D`` and
  ``Dense`` layer, the output layer included (kernels only, no bias or activity penalty);
- ``augment``: ``RandomFlip``, ``RandomRotation`` and ``RandomZoom`` layers right after
  the input; they change images only while training.

Compared (producer ``describe_regularised_model``): layer kinds in order (``Dropout``
layers of rate 0 are ignored: they do nothing), output shape, parameter count, a forward
pass with seeded weights in inference mode, the L2 strength on each layer's kernel, the
dropout rates, and any other penalty (there should be none).

Typical beginner mistakes the hidden cases catch:
- dropout that changes the parameter count (an extra ``Dense`` layer, or
  ``BatchNormalization`` instead of ``Dropout``), or a fixed rate instead of ``dropout``;
- dropout (or augmentation) layers added even when the switch is off;
- L2 on the wrong layers (only the convolutions, only the dense layers, not the output
  layer), on the bias (``bias_regularizer``) or on the activations
  (``activity_regularizer``), or a fixed strength instead of ``l2``;
- augmentation active at inference (a random layer that ignores ``training``: the forward
  pass in inference mode differs; random ops in a ``Lambda`` layer: the layer kinds
  differ), or augmentation layers placed after the convolutions;
- the notebook's sizes written as fixed numbers (hidden sizes differ).
Accepted: Sequential or functional models; an ``InputLayer`` or not; ``keras.regularizers.l2``
or ``L1L2(l1=0, l2=...)``; any rotation, zoom or flip settings; ``Dropout(0.0)`` layers when
``dropout`` is 0.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise


def reference(inputs: dict) -> dict:
    from chdml.models import workshop_classifier

    return producers.describe_regularised(workshop_classifier(
        input_shape=tuple(inputs["input_shape"]), n_blocks=int(inputs["n_blocks"]),
        base_filters=int(inputs["base_filters"]), dense_units=int(inputs["dense_units"]),
        n_classes=2, dropout=float(inputs["dropout"]), l2=float(inputs["l2"]),
        augment=bool(inputs["augment"])))


def cases(rng: np.random.Generator) -> list[Case]:
    def settings(side, n_blocks, base_filters, dense_units, dropout=0.0, l2=0.0,
                 augment=False):
        return {"input_shape": [int(side), int(side), 1], "n_blocks": int(n_blocks),
                "base_filters": int(base_filters), "dense_units": int(dense_units),
                "dropout": float(dropout), "l2": float(l2), "augment": bool(augment)}

    def other_size():
        return {"side": 8 * int(rng.integers(3, 6)), "n_blocks": 2,
                "base_filters": int(rng.choice([4, 6])), "dense_units": int(rng.choice([8, 12]))}

    return [
        Case("all three switches on a small model (32 x 32 images, 2 blocks)", public=True,
             points=1, inputs=settings(32, 2, 4, 8, dropout=0.5, l2=0.001, augment=True),
             hint="Augmentation layers go first, right after the input; Dropout after "
                  "Flatten and after the hidden Dense layer; L2 on every Conv2D and Dense."),
        Case("the notebook's model with dropout 0.5", public=False, points=1,
             inputs=settings(64, 3, 8, 32, dropout=0.5),
             hint="Dropout(dropout) after Flatten and after the hidden Dense layer."),
        Case("the notebook's model with L2 weight decay 0.001", public=False, points=1,
             inputs=settings(64, 3, 8, 32, l2=0.001),
             hint="kernel_regularizer=keras.regularizers.L2(l2) on every Conv2D and Dense "
                  "layer, the output layer too; no bias or activity regulariser."),
        Case("the notebook's model with augmentation", public=False, points=1,
             inputs=settings(64, 3, 8, 32, augment=True),
             hint="RandomFlip, RandomRotation and RandomZoom right after the input; Keras' "
                  "Random* layers change images only while training."),
        Case("every switch off (a plain model)", public=False, points=1,
             inputs=settings(**other_size()),
             hint="Add Dropout, regularisers and augmentation layers only when their switch "
                  "is on."),
        Case("another dropout rate: the parameter count must not change", public=False,
             points=1, inputs=settings(**other_size(), dropout=float(rng.choice([0.2, 0.3]))),
             hint="Use the dropout argument as the rate; dropout has no weights, so the "
                  "number of parameters stays the same."),
        Case("another L2 strength on other sizes", public=False, points=1,
             inputs=settings(**other_size(), l2=float(rng.choice([1e-4, 3e-4]))),
             hint="Use the l2 argument as the strength, on every Conv2D and Dense layer."),
    ]


EXERCISE = Exercise(
    name="regularisation",
    title="Dropout, L2 and augmentation switches",
    producer=producers.describe_regularised_model(
        "build_classifier", "input_shape", "n_blocks", "base_filters", "dense_units",
        keywords=("dropout", "l2", "augment")),
    reference=reference,
    compare=compare.dicts(model=compare.keras_model(),
                          kernel_l2=compare.arrays(atol=1e-9, rtol=1e-5),
                          dropout_rates=compare.arrays(atol=1e-6),
                          other_penalties=compare.exact()),
    cases=cases,
    hint="Dropout layers only when dropout is above 0, an L2(l2) kernel regulariser on "
         "every Conv2D and Dense layer only when l2 is above 0, and RandomFlip, "
         "RandomRotation and RandomZoom first only when augment is True.",
)
