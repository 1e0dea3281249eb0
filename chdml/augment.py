"""Data augmentation for segmentation: one random transform, applied to image and mask.

Geometry (flips, rotation, zoom, shift) is drawn once per sample and applied to the
image with bilinear interpolation and to the mask with nearest-neighbour
interpolation, so every pixel keeps its label. Intensity changes (gamma, contrast,
brightness, noise) touch the image only. Everything is drawn with TensorFlow's
*stateless* random ops from an explicit ``seed``: the same seed gives the same
transform, in a ``tf.data`` pipeline too.

Layout: ``image`` ``(height, width, channels)`` float32 with intensities roughly in
[0, 1] (normalised), ``mask`` ``(height, width)`` integer class indices.

Example:
    >>> import tensorflow as tf
    >>> image, mask = augment_pair(image, mask, seed=tf.constant([0, 7]))
"""
from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class AugmentSettings:
    """How strong each augmentation is; ``0``/``False`` switches it off.

    Attributes:
        flip_left_right, flip_up_down: probability of each mirror flip.
        rotation_degrees: rotation drawn uniformly in ``[-r, r]``.
        zoom: scale drawn log-uniformly in ``[1/(1+z), 1+z]`` (``> 1`` enlarges).
        stretch: anisotropic scale: the width is multiplied and the height divided by
            a factor drawn log-uniformly in ``[1/(1+t), 1+t]`` (along the image axes,
            after the rotation: a rounder or flatter heart), on top of ``zoom``.
        shift: translation drawn uniformly in ``[-s, s]`` times the image size.
        gamma: gamma drawn log-uniformly in ``[1/(1+g), 1+g]``, applied to the image
            clipped to [0, 1] (darkens or brightens mid-tones, keeps 0 and 1).
        contrast: contrast factor drawn in ``[1-c, 1+c]`` around the image mean.
        brightness: offset drawn in ``[-b, b]``.
        noise: standard deviation of additive Gaussian noise, drawn in ``[0, n]``.
        probability: chance that the geometric and intensity changes are applied at
            all to a sample (flips are drawn independently).
    """

    flip_left_right: float = 0.0
    flip_up_down: float = 0.0
    rotation_degrees: float = 15.0
    zoom: float = 0.15
    shift: float = 0.08
    gamma: float = 0.4
    contrast: float = 0.2
    brightness: float = 0.1
    noise: float = 0.03
    probability: float = 1.0
    stretch: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


NO_AUGMENTATION = AugmentSettings(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def _geometry_matrix(tf, height, width, seeds, settings: AugmentSettings):
    """``(a, offset)``: input pixel = ``a @ output pixel + offset`` (x, y); 8 seeds."""
    cx = (tf.cast(width, tf.float32) - 1.0) / 2.0
    cy = (tf.cast(height, tf.float32) - 1.0) / 2.0

    def uniform(seed, low, high):
        return tf.random.stateless_uniform([], seed, low, high)

    angle = uniform(seeds[0], -1.0, 1.0) * settings.rotation_degrees * math.pi / 180.0
    log_zoom = math.log1p(settings.zoom)
    scale = tf.exp(uniform(seeds[1], -log_zoom, log_zoom)) if settings.zoom else tf.constant(1.0)
    shift_x = uniform(seeds[2], -1.0, 1.0) * settings.shift * tf.cast(width, tf.float32)
    shift_y = uniform(seeds[3], -1.0, 1.0) * settings.shift * tf.cast(height, tf.float32)
    flip_x = tf.where(uniform(seeds[4], 0.0, 1.0) < settings.flip_left_right, -1.0, 1.0)
    flip_y = tf.where(uniform(seeds[5], 0.0, 1.0) < settings.flip_up_down, -1.0, 1.0)
    apply = tf.cast(uniform(seeds[6], 0.0, 1.0) < settings.probability, tf.float32)
    log_stretch = math.log1p(settings.stretch)
    stretch = (tf.exp(uniform(seeds[7], -log_stretch, log_stretch)) if settings.stretch
               else tf.constant(1.0))
    angle, shift_x, shift_y = angle * apply, shift_x * apply, shift_y * apply
    scale = 1.0 + (scale - 1.0) * apply
    stretch = 1.0 + (stretch - 1.0) * apply

    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    # input = center + Flip . R(-angle)/scale . Stretch^-1 . (output - center - shift)
    sx, sy = 1.0 / stretch, stretch
    a = tf.stack([[flip_x * cos * sx, flip_x * sin * sy],
                  [-flip_y * sin * sx, flip_y * cos * sy]])
    offset = tf.stack([cx, cy]) - tf.linalg.matvec(a, tf.stack([cx + shift_x, cy + shift_y]))
    return a, offset


def _transform(tf, image, a, offset, interpolation: str):
    transform = tf.stack([a[0, 0], a[0, 1], offset[0], a[1, 0], a[1, 1], offset[1], 0.0, 0.0])
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[tf.newaxis], transforms=transform[tf.newaxis],
        output_shape=tf.shape(image)[:2], fill_value=0.0, interpolation=interpolation,
        fill_mode="CONSTANT")
    return out[0]


def _intensity(tf, image, seeds, settings: AugmentSettings):
    def uniform(seed, low, high):
        return tf.random.stateless_uniform([], seed, low, high)

    apply = uniform(seeds[0], 0.0, 1.0) < settings.probability
    out = image
    if settings.gamma:
        log_g = math.log1p(settings.gamma)
        gamma = tf.exp(uniform(seeds[1], -log_g, log_g))
        out = tf.pow(tf.clip_by_value(out, 0.0, 1.0), gamma)
    if settings.contrast:
        factor = uniform(seeds[2], 1.0 - settings.contrast, 1.0 + settings.contrast)
        mean = tf.reduce_mean(out)
        out = (out - mean) * factor + mean
    if settings.brightness:
        out = out + uniform(seeds[3], -settings.brightness, settings.brightness)
    if settings.noise:
        sigma = uniform(seeds[4], 0.0, settings.noise)
        out = out + sigma * tf.random.stateless_normal(tf.shape(out), seeds[5])
    return tf.where(apply, out, image)


def augment_pair(image, mask, seed, settings: AugmentSettings = AugmentSettings()):
    """Apply one random augmentation to ``image`` and the same geometry to ``mask``.

    Args:
        image: ``(height, width, channels)`` float32 tensor, roughly in [0, 1].
        mask: ``(height, width)`` integer tensor of class indices (0 = background).
        seed: shape-``(2,)`` integer tensor; the same seed gives the same result.
        settings: strengths, see :class:`AugmentSettings`.

    Returns:
        ``(image, mask)`` with the input shapes and dtypes. Pixels moved in from
        outside the image are 0 in the image and background in the mask.
    """
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 16)
    image = tf.convert_to_tensor(image, tf.float32)
    mask_dtype = mask.dtype
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    geometry_seeds = tf.concat([seeds[:7], seeds[13:14]], axis=0)
    a, offset = _geometry_matrix(tf, height, width, geometry_seeds, settings)
    image = _transform(tf, image, a, offset, "BILINEAR")
    mask = _transform(tf, tf.cast(mask[..., tf.newaxis], tf.float32), a, offset, "NEAREST")
    mask = tf.cast(tf.round(mask[..., 0]), mask_dtype)
    image = _intensity(tf, image, seeds[7:13], settings)
    return image, mask


def random_crop_pair(image, mask, size: int, seed):
    """Cut the same random ``size x size`` patch out of ``image`` and ``mask``.

    ``image`` ``(height, width, channels)``, ``mask`` ``(height, width)``; both at
    least ``size`` pixels high and wide. The patch position is uniform and a fixed
    function of ``seed`` (shape ``(2,)``).
    """
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    top = tf.random.stateless_uniform([], seeds[0], 0, height - size + 1, dtype=tf.int32)
    left = tf.random.stateless_uniform([], seeds[1], 0, width - size + 1, dtype=tf.int32)
    return (image[top:top + size, left:left + size, :],
            mask[top:top + size, left:left + size])
