"""Augmentation that keeps labels and masks aligned (workshop 3), in NumPy and SciPy.

The rule: draw the random numbers *once* per example and move the image and its mask with
the same draw; interpolate the image smoothly (``order=1``) but the mask with the nearest
neighbour (``order=0``), so every pixel keeps a label that exists; never change the class
label. The same ``seed`` gives the same result.

Layout: ``image`` ``(height, width)`` or ``(height, width, channels)`` float, ``mask``
``(height, width)`` integer labels. Pixels moved in from outside the image become 0
(background in the mask). :mod:`chdml.augment` does the same with TensorFlow for training
pipelines (and adds intensity changes).

Example:
    >>> image, mask, label = augment_example(image, mask, label=1, seed=7)
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def rotate_and_zoom(array, angle_degrees: float, zoom: float, order: int) -> np.ndarray:
    """Turn ``array`` by ``angle_degrees`` and enlarge it ``zoom`` times about its centre.

    Args:
        array: ``(height, width)`` or ``(height, width, channels)``; channels move together.
        angle_degrees: rotation in degrees (the sign only sets the direction).
        zoom: ``> 1`` enlarges (zooms in), ``< 1`` shrinks.
        order: ``1`` for images (bilinear), ``0`` for masks (nearest neighbour: no new
            label values).

    Returns:
        An array of the same shape and dtype; pixels from outside are 0.
    """
    array = np.asarray(array)
    angle = np.deg2rad(angle_degrees)
    # output pixel (r, c) reads input pixel centre + R(angle) . ((r, c) - centre) / zoom
    matrix = np.array([[np.cos(angle), np.sin(angle)],
                       [-np.sin(angle), np.cos(angle)]]) / zoom
    centre = (np.array(array.shape[:2]) - 1) / 2.0
    offset = centre - matrix @ centre
    if array.ndim == 3:
        return np.stack([rotate_and_zoom(array[..., k], angle_degrees, zoom, order)
                         for k in range(array.shape[2])], axis=-1)
    moved = ndimage.affine_transform(array.astype(np.float64), matrix, offset=offset,
                                     order=order, mode="constant", cval=0.0)
    if np.issubdtype(array.dtype, np.integer):
        moved = np.rint(moved)
    return moved.astype(array.dtype)


def augment_example(image, mask, label, seed: int, max_angle: float = 15.0,
                    max_zoom: float = 0.1):
    """One random flip / rotation / zoom, applied identically to ``image`` and ``mask``.

    Draws, from ``np.random.default_rng(seed)``: a left-right flip with probability 1/2,
    an angle in ``[-max_angle, max_angle]`` degrees and a zoom in
    ``[1 - max_zoom, 1 + max_zoom]``. Returns ``(image, mask, label)``: same shapes and
    dtypes, the label unchanged.
    """
    rng = np.random.default_rng(seed)
    flip = rng.random() < 0.5
    angle = rng.uniform(-max_angle, max_angle)
    zoom = rng.uniform(1 - max_zoom, 1 + max_zoom)
    image, mask = np.asarray(image), np.asarray(mask)
    if flip:
        image, mask = image[:, ::-1], mask[:, ::-1]
    return (rotate_and_zoom(image, angle, zoom, order=1),
            rotate_and_zoom(mask, angle, zoom, order=0), label)
