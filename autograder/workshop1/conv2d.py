"""Convolution: ``conv2d(image, kernel)`` in NumPy, "valid", as Keras' ``Conv2D`` does.

Reference: :func:`chdml.teaching.basics.conv2d` (equal to ``keras.layers.Conv2D`` with
one filter, no bias; tested in ``tests/teaching/test_basics.py``).

Typical beginner mistakes the hidden cases catch:
- flipping the kernel (the textbook convolution; Keras computes a cross-correlation):
  every non-symmetric kernel, and the edge-detector case in particular;
- 'same' padding (output as large as the input): every case, by its shape;
- output size off by one, or windows centred on a pixel (only right for odd sizes): the
  even-sized (2x4, 4x4) kernel cases;
- rows and columns mixed up (e.g. ``image.shape[0]`` used for both, as if every image
  were square): the non-square image and kernel cases;
- an output array made with ``np.zeros_like(image)`` on an integer (uint8) image, which
  silently rounds every value: the integer-image case;
- a kernel as large as the image (a 1x1 output: loops that stop one short miss it).
Accepted: loops or vectorised code (slices, ``sliding_window_view``,
``scipy.signal.correlate2d(image, kernel, mode="valid")``); float32 or float64 output; a
NumPy array or a nested list.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.basics import conv2d

EVEN_HINT = ("For a kernel of kh rows and kw columns the output has H - kh + 1 rows and "
             "W - kw + 1 columns, also when kh or kw is even: the window starts at each "
             "(i, j) and covers rows i .. i + kh - 1.")


def cases(rng: np.random.Generator) -> list[Case]:
    edge = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]])
    return [
        Case("a 3x3 kernel on a 6x6 image", public=True, points=1,
             inputs={"image": rng.normal(size=(6, 6)), "kernel": rng.normal(size=(3, 3))}),
        Case("a 2x2 kernel on a 4x5 image", public=True, points=1,
             inputs={"image": rng.normal(size=(4, 5)), "kernel": rng.normal(size=(2, 2))},
             hint=EVEN_HINT),
        Case("an edge-detecting 3x3 kernel (not symmetric) on a 9x8 image", public=False,
             points=1, inputs={"image": rng.normal(size=(9, 8)), "kernel": edge},
             hint="Do not flip the kernel: Keras multiplies image[i + u, j + v] by "
                  "kernel[u, v]."),
        Case("an even-sized 2x4 kernel on a 9x7 image", public=False, points=1,
             inputs={"image": rng.normal(size=(9, 7)), "kernel": rng.normal(size=(2, 4))},
             hint=EVEN_HINT),
        Case("a 4x4 kernel on a 10x6 image", public=False, points=1,
             inputs={"image": rng.normal(size=(10, 6)), "kernel": rng.normal(size=(4, 4))},
             hint=EVEN_HINT),
        Case("a 5x3 kernel on a non-square 7x12 image", public=False, points=1,
             inputs={"image": rng.normal(size=(7, 12)), "kernel": rng.normal(size=(5, 3))},
             hint="Rows first, then columns: image.shape is (rows, columns)."),
        Case("an integer (uint8) image and an averaging kernel of 1/9", public=False,
             points=1, inputs={"image": rng.integers(0, 256, size=(8, 8)).astype(np.uint8),
                               "kernel": np.full((3, 3), 1.0 / 9.0)},
             hint="Make the output an array of floats (np.zeros(..., dtype=float)), not "
                  "np.zeros_like(image), which keeps the image's integer type."),
        Case("a kernel as large as the image (one output value)", public=False, points=1,
             inputs={"image": rng.normal(size=(5, 4)), "kernel": rng.normal(size=(5, 4))},
             hint="A kernel as large as the image gives a 1x1 output."),
    ]


EXERCISE = Exercise(
    name="conv2d",
    title="Convolution",
    producer=producers.call("conv2d", "image", "kernel"),
    reference=lambda inputs: conv2d(inputs["image"], inputs["kernel"]),
    compare=compare.arrays(atol=1e-6, rtol=1e-5),
    cases=cases,
    hint="Slide the kernel over the image without flipping it and without padding: "
         "out[i, j] = sum(image[i:i + kh, j:j + kw] * kernel).",
)
