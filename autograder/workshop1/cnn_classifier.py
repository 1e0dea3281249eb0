"""A small convolutional classifier: ``build_cnn_classifier(input_shape, n_classes)``.

Conv2D(16, 3x3, ReLU) -> MaxPooling2D(2) -> Conv2D(32, 3x3, ReLU) -> MaxPooling2D(2) ->
Flatten -> Dense(n_classes, softmax), "valid" padding as in the NumPy exercise; the
reference is :func:`chdml.models.small_cnn_classifier` with ``filters=(16, 32)``
(12 810 parameters for 28x28x1 images and 10 classes, eight times fewer than the dense
classifier). Compared with ``compare.keras_model``.

Typical beginner mistakes the cases catch:
- ``padding="same"``: the last Dense layer sees 7x7x32 instead of 5x5x32 values (a
  different parameter count);
- a pooling layer missing, or 5x5 kernels: parameter count and layer kinds;
- filters other than 16 and 32, or swapped: parameter count;
- no softmax, or no ReLU on the convolutions: the forward pass;
- a hidden Dense layer added before the output: layer kinds;
- sizes written as fixed numbers instead of ``input_shape`` and ``n_classes``: the
  hidden case with another image size and number of classes.
Accepted: Sequential or functional, with or without ``keras.Input``, any layer names.
"""
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

FILTERS = (16, 32)


def reference_model(input_shape, n_classes):
    from chdml.models import small_cnn_classifier

    return small_cnn_classifier(tuple(input_shape), int(n_classes), filters=FILTERS)


def cases(rng) -> list:
    return [
        Case("28x28 images with 1 channel, 10 classes", public=True, points=1,
             inputs={"input_shape": [28, 28, 1], "n_classes": 10}),
        Case("another image size and number of classes", public=False, points=1,
             inputs={"input_shape": [int(rng.integers(24, 40)), int(rng.integers(24, 40)), 1],
                     "n_classes": int(rng.integers(3, 9))},
             hint="Use input_shape and n_classes; do not write 28 or 10 in the model."),
    ]


EXERCISE = Exercise(
    name="cnn_classifier",
    title="A small convolutional classifier",
    producer=producers.describe_model("build_cnn_classifier", "input_shape", "n_classes"),
    reference=lambda inputs: producers.describe(reference_model(**inputs)),
    compare=compare.keras_model(),
    cases=cases,
    hint="Two rounds of Conv2D(filters, 3, activation='relu') + MaxPooling2D(2) with 16 "
         "then 32 filters, then Flatten() and Dense(n_classes, activation='softmax').",
)
