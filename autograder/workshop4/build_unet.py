"""U-Net: ``build_unet(input_shape, n_classes, depth, base_filters)`` in Keras.

The architecture stated in the notebook (Ronneberger et al. 2015, with "same" padding):
encoder level ``d = 1 .. depth``: two 3x3 ``Conv2D`` (``padding="same"``, ReLU) with
``base_filters * 2**(d-1)`` filters, then 2x2 ``MaxPooling2D``; a bottleneck of two 3x3
convolutions with ``base_filters * 2**depth`` filters; decoder level ``d = depth .. 1``:
a 2x2 ``Conv2DTranspose`` with stride 2 and ``base_filters * 2**(d-1)`` filters, a
``Concatenate`` with the encoder output of the same level (the skip connection), two 3x3
convolutions; output: a 1x1 ``Conv2D`` with ``n_classes`` filters and softmax.
Reference: :func:`chdml.models.unet` with ``batch_norm=False``.

Compared (producer :func:`chdml.grading.producers.describe_unet`): output shape, number
of parameters, number of skip concatenations (``depth``), and whether the output is a
probability per pixel and class (softmax).

Typical beginner mistakes the hidden cases catch:
- missing skip connections (no ``Concatenate``: fewer concatenations and parameters);
- adding instead of concatenating the skip (``Add``): no concatenation, other parameters;
- a hard-coded depth or number of filters, input size or number of classes (the cases
  use depths 2, 3 and 4, filters 4, 6 and 8, non-square and two-channel inputs, 3 classes);
- filters not doubled per level, or doubled in the decoder too;
- ``padding="valid"`` (the original paper's cropping): a smaller output than the input;
- ``UpSampling2D`` + convolution, or a 3x3 transposed convolution: other parameter counts;
- no softmax on the output (logits or ReLU), or a sigmoid: not probabilities.
Accepted alternatives: any layer names and building order, ``keras.layers.Concatenate``,
``keras.layers.concatenate`` or ``keras.ops.concatenate``, skip tensor first or second in
the concatenation, ``keras.Input`` as a layer or not, loops or written-out levels.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

ARGUMENTS = ("input_shape", "n_classes", "depth", "base_filters")


def reference_model(input_shape, n_classes, depth, base_filters):
    from chdml.models import unet

    return unet(tuple(input_shape), n_classes=int(n_classes), depth=int(depth),
                base_filters=int(base_filters), batch_norm=False, activation="softmax")


def reference(inputs: dict) -> dict:
    return producers.unet_outline(reference_model(*[inputs[name] for name in ARGUMENTS]))


def _inputs(input_shape, n_classes, depth, base_filters) -> dict:
    return {"input_shape": list(input_shape), "n_classes": int(n_classes),
            "depth": int(depth), "base_filters": int(base_filters)}


def cases(rng: np.random.Generator) -> list[Case]:
    shallow_size = 8 * int(rng.integers(3, 7))
    deep_rows, deep_columns = 16 * int(rng.integers(2, 4)), 16 * int(rng.integers(1, 3))
    return [
        Case("32x32 one-channel slices, 4 classes, depth 2, 4 base filters", public=True,
             points=1, inputs=_inputs((32, 32, 1), 4, 2, 4),
             hint="Two 3x3 convolutions per level, filters doubling as you go down; one "
                  "Concatenate per level on the way up; 1x1 softmax output."),
        Case("the workshop U-Net: 64x64 slices, depth 3, 8 base filters", public=False,
             points=1, inputs=_inputs((64, 64, 1), 4, 3, 8),
             hint="Use depth and base_filters in loops; do not write fixed numbers."),
        Case("depth 4 on non-square images", public=False, points=1,
             inputs=_inputs((deep_rows, deep_columns, 1), 4, 4, 4),
             hint="Take the image size from input_shape; each level needs its own skip "
                  "connection (depth concatenations in all)."),
        Case("two input channels, 3 classes, 6 base filters", public=False, points=1,
             inputs=_inputs((shallow_size, shallow_size, 2), 3, 3, 6),
             hint="Use input_shape for keras.Input and n_classes for the last 1x1 "
                  "convolution with a softmax."),
    ]


EXERCISE = Exercise(
    name="build_unet",
    title="A U-Net with skip connections",
    producer=producers.describe_unet("build_unet", *ARGUMENTS),
    reference=reference,
    compare=compare.dicts(default=compare.exact()),
    cases=cases,
    hint="Keep each encoder level's output in a list before pooling and concatenate it "
         "with the upsampled tensor of the same size on the way up.",
)
