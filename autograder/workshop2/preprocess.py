"""Preprocessing: ``preprocess(image, size, is_mask=False)`` for one 2-D slice.

For an image: (1) crop the longer side to make it square, keeping the centre (an odd
difference leaves the extra row or column at the bottom or right: the crop starts at
``(old - new) // 2``, as ``keras.layers.CenterCrop``); (2) resize to ``size x size`` with
bilinear interpolation without anti-aliasing (``keras.ops.image.resize``); (3) scale to
[0, 1] with the image's own minimum and maximum (a constant image becomes all zeros);
return float32. For a mask: the same crop, then nearest-neighbour resizing, no scaling:
every value stays one of the mask's labels. Judged against
:func:`chdml.data.preprocess.crop_or_pad_to_square`, :func:`~chdml.data.preprocess.resize`
and :func:`~chdml.data.preprocess.min_max_normalise` (``per_image``), within 1e-4.

Typical beginner mistakes the hidden cases catch:
- cropping from the top-left corner (``image[:side, :side]``) instead of the centre, or
  rounding the odd half the other way (hidden images are tall, wide and odd-sized);
- resizing a mask with interpolation (new, in-between labels appear: a hidden mask has
  labels 0, 1 and 3, so 2 appears between 1 and 3);
- dividing by the maximum only (a hidden image's values start at -1024);
- integer arithmetic on integer images: keeping a uint16 image's type through resizing
  (``.astype(image.dtype)`` truncates the interpolated values) or ``//`` (a hidden image is
  uint16);
- dividing by zero on a constant image (NaN instead of zeros; hidden);
- scaling before resizing (a hidden image has one bright pixel that resizing softens,
  so the result would not reach 1) or the anti-aliasing and
  ``mode="reflect"`` of ``skimage.transform.resize``'s defaults (other values at edges);
- a fixed output size instead of ``size`` (hidden sizes differ from the notebook's).
Accepted alternatives: ``keras.ops.image.resize``, ``tf.image.resize``,
``skimage.transform.resize(..., order=1, mode="edge", anti_aliasing=False)`` (order=0 for
masks), ``keras.layers.CenterCrop``; a result of shape ``(size, size)``; float32 or
float64.
"""
import numpy as np

from chdml.data.preprocess import crop_or_pad_to_square, min_max_normalise, resize
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.storing import blob_volume, label_volume


def _image(rng, rows, columns, low=0.0, high=1800.0, dtype="float32", hot_pixel=None
           ) -> np.ndarray:
    """A smooth test image from ``low`` to ``high``; ``hot_pixel`` (row, column) is made the
    one brightest pixel (as a flow artefact or fat is), so resizing cannot keep it."""
    image = blob_volume(rng, (rows, columns), scale=1.0)
    image = image + np.linspace(0, 0.3, columns)[None, :] + np.linspace(0, 0.2, rows)[:, None]
    image = (image - image.min()) / (image.max() - image.min())
    image = np.round(low + image * (0.8 if hot_pixel else 1.0) * (high - low))
    if hot_pixel is not None:
        image[hot_pixel] = high
    return image.astype(dtype)


def _mask(rng, rows, columns, labels=(0, 1, 2, 3)) -> np.ndarray:
    return label_volume(rng, (rows, columns, 1), labels=labels)[:, :, 0]


def cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("a 60 x 48 image (taller than wide) in scanner units 0-1800, to 32 x 32",
             public=True, points=1,
             inputs={"image": _image(rng, 60, 48), "size": 32, "is_mask": False}),
        Case("a 60 x 48 mask with labels 0-3, to 32 x 32", public=True, points=1,
             inputs={"image": _mask(rng, 60, 48), "size": 32, "is_mask": True}),
        Case("an odd-sized wide image (45 x 70) with values from -1024", public=False,
             points=1,
             inputs={"image": _image(rng, 45, 70, low=-1024.0,
                                     high=float(rng.integers(1500, 3000)), hot_pixel=(20, 35)),
                     "size": 24, "is_mask": False},
             hint="Scale with (image - min) / (max - min); crop the centre, starting at "
                  "(old - new) // 2."),
        Case("a uint16 image, made larger (26 x 21 to 40 x 40)", public=False, points=1,
             inputs={"image": _image(rng, 26, 21, high=4095.0, dtype="uint16"), "size": 40,
                     "is_mask": False},
             hint="Convert to float before any arithmetic: image.astype(np.float32)."),
        Case("a constant image (no contrast)", public=False, points=1,
             inputs={"image": np.full((33, 40), 417.0, dtype=np.float32), "size": 16,
                     "is_mask": False},
             hint="When max == min, return zeros instead of dividing by zero."),
        Case("an odd-sized mask with labels 0, 1 and 3", public=False, points=1,
             inputs={"image": _mask(rng, 51, 38, labels=(0, 1, 0, 3)), "size": 24,
                     "is_mask": True},
             hint="Resize masks with nearest-neighbour interpolation so that no new label "
                  "appears."),
    ]


def reference(inputs: dict) -> np.ndarray:
    square = crop_or_pad_to_square(np.asarray(inputs["image"]), mode="crop")
    if inputs["is_mask"]:
        return resize(square, inputs["size"], kind="label")
    return min_max_normalise(resize(square, inputs["size"], kind="image"))


EXERCISE = Exercise(
    name="preprocess",
    title="Cropping, resizing and scaling a slice",
    producer=producers.call("preprocess", "image", "size", keywords=("is_mask",)),
    reference=reference,
    compare=compare.arrays(atol=1e-4, rtol=0.0),
    cases=cases,
    hint="Crop the centre square, resize (bilinear for images, nearest for masks), then "
         "scale images with their own min and max.",
)
