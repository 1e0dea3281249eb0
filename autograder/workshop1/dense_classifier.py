"""A dense (fully connected) classifier: ``build_dense_classifier(input_shape, n_classes)``.

Flatten -> Dense(128, ReLU) -> Dense(n_classes, softmax); the reference is
:func:`chdml.models.dense_classifier` (101 770 parameters for 28x28x1 images and 10
classes). Compared with ``compare.keras_model``: layer kinds in order, parameter count,
output shape and a forward pass with seeded weights.

Typical beginner mistakes the cases catch:
- no softmax on the last layer (or a sigmoid): the forward pass differs;
- the wrong number of hidden units or output units: the parameter count;
- no ``Flatten`` (the Dense layers then act on each row of pixels): the output shape;
- ReLU forgotten on the hidden layer: the forward pass;
- 784 or 10 written as fixed numbers instead of using ``input_shape`` and ``n_classes``:
  the hidden case with another image size and number of classes.
Accepted: Sequential or functional, with or without ``keras.Input``, any layer names.
"""
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

HIDDEN_UNITS = 128


def reference_model(input_shape, n_classes):
    from chdml.models import dense_classifier

    return dense_classifier(tuple(input_shape), int(n_classes), hidden_units=HIDDEN_UNITS)


def cases(rng) -> list:
    return [
        Case("28x28 images with 1 channel, 10 classes", public=True, points=1,
             inputs={"input_shape": [28, 28, 1], "n_classes": 10}),
        Case("another image size and number of classes", public=False, points=1,
             inputs={"input_shape": [int(rng.integers(20, 40)), int(rng.integers(20, 40)), 1],
                     "n_classes": int(rng.integers(3, 9))},
             hint="Use input_shape and n_classes; do not write 28, 784 or 10 in the model."),
    ]


EXERCISE = Exercise(
    name="dense_classifier",
    title="A dense classifier",
    producer=producers.describe_model("build_dense_classifier", "input_shape", "n_classes"),
    reference=lambda inputs: producers.describe(reference_model(**inputs)),
    compare=compare.keras_model(),
    cases=cases,
    hint="A keras.Sequential model: keras.Input(shape=input_shape), a Flatten layer, a Dense "
         "layer of 128 units with activation 'relu', and a Dense layer of n_classes units "
         "with activation 'softmax'.",
)
