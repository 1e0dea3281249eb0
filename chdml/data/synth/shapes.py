"""Vectorised shape primitives: approximate signed distances in millimetres.

Every shape answers ``distance(x, y, z)`` for coordinate arrays of any (equal) shape in
its own frame: negative inside, positive outside, accurate to well under a millimetre
within a few millimetres of the surface (which is all the partial-volume ramp of
:mod:`chdml.data.synth.render` needs; far from the surface only the sign matters).
Each shape also has a bounding sphere ``(centre, radius)`` so that the renderer can skip
pixels it cannot touch.

The distances are first-order estimates ``F / |grad F|`` of an implicit function ``F``;
they are cheap (a few array operations) and smooth, which is what makes 100 synthetic
patients take seconds.
"""
from __future__ import annotations

import dataclasses

import numpy as np

_EPS = 1e-6


def _norm(vector) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64)
    return vector / np.linalg.norm(vector)


@dataclasses.dataclass
class Cup:
    """A ventricle: a truncated super-ellipsoid, open side at the base.

    In its frame the long axis is ``z`` (base at ``z = base``, apex at ``z = base +
    length``); the cross-section at depth ``t = (z - base) / length`` is an ellipse with
    semi-axes ``a * s(t)`` and ``b * s(t)`` around ``(cx, cy)``, turned by ``angle``,
    where ``s(t) = (1 - t**power) ** 0.5`` (a blunt, bullet-shaped apex for ``power`` > 2).
    ``flatten`` shortens the radius on the ``+x`` side (by up to that fraction): the
    septum pushed towards the left ventricle by a pressure-loaded right ventricle.
    ``min_x`` (if set) cuts the shape off at ``x = min_x`` in its own frame: a right
    ventricle wraps the septum but not the left ventricle's lateral wall.
    """

    a: float
    b: float
    length: float
    base: float = 0.0
    power: float = 2.0
    cx: float = 0.0
    cy: float = 0.0
    angle: float = 0.0
    flatten: float = 0.0
    min_x: float | None = None

    def bounding_sphere(self):
        r = max(self.a, self.b)
        half = self.length / 2.0
        centre = np.array([self.cx, self.cy, self.base + half])
        return centre, float(np.hypot(r, half)) + 1.0

    def distance(self, x, y, z):
        cut = None if self.min_x is None else np.float32(self.min_x) - x
        x = x - np.float32(self.cx)
        y = y - np.float32(self.cy)
        if self.flatten:
            # radius * (1 - flatten * cos^4) on the +x side, i.e. coordinates / that
            r2 = x * x + y * y + np.float32(_EPS)
            cos2 = np.square(np.maximum(x, 0.0)) / r2
            m = 1.0 - np.float32(self.flatten) * cos2 * cos2
            x = x / m
            y = y / m
        if self.angle:
            c, s = np.float32(np.cos(self.angle)), np.float32(np.sin(self.angle))
            x, y = c * x + s * y, c * y - s * x
        a2, b2 = np.float32(1.0 / self.a ** 2), np.float32(1.0 / self.b ** 2)
        inv_length = np.float32(1.0 / self.length)
        t = (z - np.float32(self.base)) * inv_length
        np.maximum(t, 0.0, out=t)
        tp = t ** np.float32(self.power) if self.power != 2.0 else t * t
        f = x * x * a2 + y * y * b2 + tp - 1.0
        gx = x * (2.0 * a2)
        gy = y * (2.0 * b2)
        gz = np.float32(self.power) * tp / (t + np.float32(_EPS)) * inv_length
        d = f / (np.sqrt(gx * gx + gy * gy + gz * gz) + np.float32(0.02))
        d = np.maximum(d, np.float32(self.base) - z)
        return d if cut is None else np.maximum(d, cut)


@dataclasses.dataclass
class Ellipsoid:
    """An ellipsoid with semi-axes ``radii`` along the columns of ``axes`` (a rotation)."""

    centre: np.ndarray
    radii: tuple
    axes: np.ndarray | None = None  # 3x3, columns are the ellipsoid's own axes

    def bounding_sphere(self):
        return np.asarray(self.centre, float), float(max(self.radii)) + 1.0

    def distance(self, x, y, z):
        c = self.centre
        dx, dy, dz = x - c[0], y - c[1], z - c[2]
        if self.axes is not None:
            m = self.axes
            dx, dy, dz = (dx * m[0, 0] + dy * m[1, 0] + dz * m[2, 0],
                          dx * m[0, 1] + dy * m[1, 1] + dz * m[2, 1],
                          dx * m[0, 2] + dy * m[1, 2] + dz * m[2, 2])
        ra, rb, rc = self.radii
        f = dx * dx / (ra * ra) + dy * dy / (rb * rb) + dz * dz / (rc * rc) - 1.0
        g = np.sqrt((dx / (ra * ra)) ** 2 + (dy / (rb * rb)) ** 2 + (dz / (rc * rc)) ** 2)
        return f / (2.0 * g + 1.0 / max(self.radii))


@dataclasses.dataclass
class Tube:
    """A vessel: the set of points within ``radius`` of the segment ``start``-``end``."""

    start: np.ndarray
    end: np.ndarray
    radius: float

    def bounding_sphere(self):
        start, end = np.asarray(self.start, float), np.asarray(self.end, float)
        return (start + end) / 2.0, float(np.linalg.norm(end - start)) / 2.0 + self.radius + 1.0

    def distance(self, x, y, z):
        start = np.asarray(self.start, float)
        axis = np.asarray(self.end, float) - start
        length2 = float(axis @ axis)
        dx, dy, dz = x - start[0], y - start[1], z - start[2]
        t = np.clip((dx * axis[0] + dy * axis[1] + dz * axis[2]) / length2, 0.0, 1.0)
        dx -= t * axis[0]
        dy -= t * axis[1]
        dz -= t * axis[2]
        return np.sqrt(dx * dx + dy * dy + dz * dz) - self.radius


@dataclasses.dataclass
class EllipticCylinder:
    """An elliptic cylinder along ``z`` (the body outline), optionally tapered in ``z``."""

    centre_x: float
    centre_y: float
    a: float
    b: float
    taper: float = 0.0  # relative change of both radii per 100 mm of z

    def bounding_sphere(self):
        return None

    def distance(self, x, y, z):
        s = 1.0 + self.taper * z / 100.0 if self.taper else 1.0
        a, b = self.a * s, self.b * s
        dx, dy = x - self.centre_x, y - self.centre_y
        f = dx * dx / (a * a) + dy * dy / (b * b) - 1.0
        g = np.sqrt((dx / (a * a)) ** 2 + (dy / (b * b)) ** 2)
        return f / (2.0 * g + 1.0 / max(self.a, self.b))


@dataclasses.dataclass
class Offset:
    """``shape`` grown (``by`` > 0) or shrunk (``by`` < 0) by ``by`` mm."""

    shape: object
    by: float

    def bounding_sphere(self):
        sphere = self.shape.bounding_sphere()
        if sphere is None:
            return None
        return sphere[0], sphere[1] + max(self.by, 0.0)

    def distance(self, x, y, z):
        return self.shape.distance(x, y, z) - self.by


def orthonormal_frame(axis, towards) -> np.ndarray:
    """3x3 rotation whose third column is ``axis`` and first column points as much as
    possible along ``towards``."""
    w = _norm(axis)
    u = np.asarray(towards, float) - (np.asarray(towards, float) @ w) * w
    u = _norm(u)
    v = np.cross(w, u)
    return np.stack([u, v, w], axis=1)


@dataclasses.dataclass
class Intersection:
    """Inside all of ``shapes`` (the bounding sphere is the first shape's)."""

    shapes: tuple

    def bounding_sphere(self):
        return self.shapes[0].bounding_sphere()

    def distance(self, x, y, z):
        d = self.shapes[0].distance(x, y, z)
        for shape in self.shapes[1:]:
            d = np.maximum(d, shape.distance(x, y, z))
        return d


@dataclasses.dataclass
class Column:
    """An infinite vertical cylinder (along ``z``): spine, spinal canal, descending aorta."""

    x: float
    y: float
    radius: float

    def bounding_sphere(self):
        return None

    def distance(self, x, y, z):
        dx, dy = x - np.float32(self.x), y - np.float32(self.y)
        return np.sqrt(dx * dx + dy * dy) - np.float32(self.radius)


class Memo:
    """``shape`` whose last distance is remembered: several layers built on one shape
    (the body outline, its fat and muscle, the chest cavity) evaluate it once per set of
    coordinates."""

    def __init__(self, shape):
        self.shape = shape
        self._last = (None, None)

    def bounding_sphere(self):
        return self.shape.bounding_sphere()

    def distance(self, x, y, z):
        key, value = self._last
        if key is None or key[0] is not x or key[1] is not y or key[2] is not z:
            value = self.shape.distance(x, y, z)
            self._last = ((x, y, z), value)
        return value
