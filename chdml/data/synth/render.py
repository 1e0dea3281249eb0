"""The renderer: sample layered 3-D anatomy on a stack of image planes.

An image plane is a grid of pixel centres in the heart frame (millimetres). Each slice
is sampled on ``n_sub`` parallel sub-planes spread over the slice thickness and the
results are averaged: that is the through-plane partial volume (an apical slice that
only grazes the myocardium looks grey, not black or white). In-plane partial volume
comes from a linear ramp one pixel wide across every surface (coverage ``clip(0.5 -
d / pixel, 0, 1)`` for a signed distance ``d``), which equals supersampling the pixel
with a box filter for a locally flat surface.

Layers are painted in order (painter's algorithm with soft coverage): each layer has a
shape, an MR signal (a number or a function of position, for texture) and optionally a
label. A later layer covers an earlier one: the left-ventricular (LV) myocardium painted
over the right-ventricular (RV) blood pool makes the septum, the LV blood pool painted
over the myocardium leaves the wall. Label fractions are painted the same way, averaged
over the slice and turned into a label map by majority (the label of a voxel is the
structure that fills most of it).

Body layers (chest wall, lungs, liver, spine) hardly change across a thin slab, so they
are sampled on the central sub-plane only, over the whole image; heart layers are
sampled on every sub-plane but only inside the box where their bounding sphere meets the
planes. That keeps one patient at a few tens of milliseconds.
"""
from __future__ import annotations

import dataclasses

import numpy as np

N_LABEL_CHANNELS = 3  # LV blood pool, LV myocardium, RV blood pool (labels 1, 2, 3)


@dataclasses.dataclass
class Layer:
    """One tissue region.

    Attributes:
        shape: an object from :mod:`chdml.data.synth.shapes` (``distance``,
            ``bounding_sphere``) in the layer's frame.
        signal: MR signal of the tissue, a float or ``f(x, y, z) -> array``.
        label: label value (0 background, 1 LV, 2 myocardium, 3 RV) painted with the
            tissue, or None to change the image only (papillary muscles and trabeculae
            count as blood pool, as clinicians usually contour them).
        grow: the region is ``shape`` grown by this many mm (a wall around a cavity).
        shell: if set, only the part within this many mm inside the (grown) surface.
        bump: ``(field, amount)``: grow further by 0..``amount`` mm where the noise
            field is high (irregular fat).

    Heart layers that share a ``shape`` object share one distance computation.
    """

    shape: object
    signal: object
    label: int | None = 0
    grow: float = 0.0
    shell: float | None = None
    bump: tuple | None = None

    @property
    def reach(self) -> float:
        """How far (mm) outside ``shape`` the layer can paint."""
        return max(self.grow, 0.0) + (self.bump[1] if self.bump else 0.0)

    def distance_from(self, d, xyz):
        """The layer's signed distance given the shape's distance ``d``."""
        if self.grow:
            d = d - np.float32(self.grow)
        if self.bump:
            field, amount = self.bump
            near = d < amount + 3.0  # farther out the bump cannot reach: no texture there
            d = d.copy()
            d[near] -= np.clip(field(*[c[near] for c in xyz]) - 0.2, 0.0, 1.0) \
                * np.float32(amount)
        if self.shell is not None:
            d = np.maximum(d, -d - np.float32(self.shell))
        return d


@dataclasses.dataclass
class Planes:
    """A stack of parallel image planes.

    ``origins[p]`` is the centre of pixel ``(0, 0)`` of plane ``p`` in the heart frame;
    moving one row adds ``row_step``, one column adds ``col_step`` (both in mm, length
    ``pixel``). Planes ``s * n_sub ... s * n_sub + n_sub - 1`` are the sub-planes of
    slice ``s``; ``n_sub`` is odd and the middle one is the slice centre.
    """

    origins: np.ndarray  # (P, 3)
    row_step: np.ndarray  # (3,)
    col_step: np.ndarray  # (3,)
    shape: tuple  # (rows, cols)
    n_sub: int
    pixel: float

    @property
    def n_slices(self) -> int:
        return len(self.origins) // self.n_sub

    @property
    def normal(self) -> np.ndarray:
        n = np.cross(self.row_step, self.col_step)
        return n / np.linalg.norm(n)

    def coordinates(self, planes: slice, rows: slice, cols: slice, transform=None):
        """Coordinates ``(x, y, z)``, each ``(planes, rows, cols)`` float32, of the pixel
        centres in a block; ``transform`` = ``(matrix, offset)`` maps heart -> layer frame."""
        origins = self.origins[planes]
        row_step, col_step = self.row_step, self.col_step
        if transform is not None:
            matrix, offset = transform
            origins = origins @ matrix.T + offset
            row_step, col_step = matrix @ row_step, matrix @ col_step
        r = np.arange(rows.start, rows.stop, dtype=np.float32)
        c = np.arange(cols.start, cols.stop, dtype=np.float32)
        out = []
        for axis in range(3):
            o = origins[:, axis].astype(np.float32)[:, None, None]
            out.append(o + (r * np.float32(row_step[axis]))[None, :, None]
                       + (c * np.float32(col_step[axis]))[None, None, :])
        return out

    def box(self, sphere, plane_range=None):
        """The block ``(planes, rows, cols)`` of pixels within ``sphere`` = (centre,
        radius), or None if no plane meets it."""
        centre, radius = sphere
        normal = self.normal
        offsets = (centre - self.origins) @ normal  # signed distance of centre to planes
        hit = np.nonzero(np.abs(offsets) < radius)[0]
        if plane_range is not None:
            hit = hit[(hit >= plane_range.start) & (hit < plane_range.stop)]
        if hit.size == 0:
            return None
        p0, p1 = int(hit[0]), int(hit[-1]) + 1
        # project the centre onto plane p0 and express it in pixel units
        rel = centre - self.origins[p0]
        r_c = rel @ self.row_step / self.pixel ** 2
        c_c = rel @ self.col_step / self.pixel ** 2
        half = radius / self.pixel + 1.0
        rows, cols = self.shape
        r0, r1 = int(max(0, np.floor(r_c - half))), int(min(rows, np.ceil(r_c + half) + 1))
        c0, c1 = int(max(0, np.floor(c_c - half))), int(min(cols, np.ceil(c_c + half) + 1))
        if r0 >= r1 or c0 >= c1:
            return None
        return slice(p0, p1), slice(r0, r1), slice(c0, c1)


def _coverage(distance, pixel):
    """Fraction of a pixel inside a surface at signed ``distance`` (mm) from its centre."""
    a = np.float32(0.5) - distance * np.float32(1.0 / pixel)
    np.clip(a, 0.0, 1.0, out=a)
    return a


def _paint(target, alpha, signal, coords):
    """``target += alpha * (signal - target)`` in place; a textured ``signal`` (a
    function of position) is evaluated only where ``alpha`` > 0, which is often a
    small part of the block (a thin trabecular band, the lungs)."""
    if not callable(signal):
        target += alpha * (np.float32(signal) - target)
        return
    inside = alpha > 0
    count = np.count_nonzero(inside)
    if count == 0:
        return
    if count > 0.6 * alpha.size:
        target += alpha * (signal(*coords) - target)
        return
    a, t = alpha[inside], target[inside]
    target[inside] = t + a * (signal(*[c[inside] for c in coords]) - t)


def render_body(planes: Planes, layers, transform):
    """Paint body layers (body frame) over air on the central sub-plane of each slice.

    Returns ``(canvas, xyz)``: the tissue signal ``(slices, rows, cols)`` float32 and the
    body coordinates (mm) of its pixel centres, three arrays of the same shape (for the
    coil profile of :func:`chdml.data.synth.appearance.acquire`).
    """
    rows, cols = planes.shape
    n_slices = planes.n_slices
    centre = Planes(planes.origins[planes.n_sub // 2::planes.n_sub], planes.row_step,
                    planes.col_step, planes.shape, 1, planes.pixel)
    xyz = centre.coordinates(slice(0, n_slices), slice(0, rows), slice(0, cols), transform)
    canvas = np.zeros((n_slices, rows, cols), np.float32)
    for layer in layers:
        alpha = _coverage(layer.shape.distance(*xyz), planes.pixel)
        _paint(canvas, alpha, layer.signal, xyz)
    return canvas, xyz


def render_heart(planes: Planes, canvas, layers, heart_sphere):
    """Paint heart layers (heart frame) over ``canvas`` from :func:`render_body`.

    Returns ``(signal, labels)``, both ``(slices, rows, cols)``: the tissue signal
    (float32, blood = 1) and the label map (uint8, 0-3). ``canvas`` is not changed.
    """
    n_sub, n_slices = planes.n_sub, planes.n_slices
    canvas = canvas.copy()
    labels = np.zeros(canvas.shape, np.uint8)
    box = planes.box(heart_sphere)
    if box is None or not layers:
        return canvas, labels
    pb, rb, cb = box
    s0, s1 = pb.start // n_sub, (pb.stop - 1) // n_sub + 1  # whole slices
    pb = slice(s0 * n_sub, s1 * n_sub)
    block = np.repeat(canvas[s0:s1, rb, cb], n_sub, axis=0)
    fractions = np.zeros((N_LABEL_CHANNELS,) + block.shape, np.float32)
    coords = planes.coordinates(pb, rb, cb)
    reach = {}
    for layer in layers:
        reach[id(layer.shape)] = max(reach.get(id(layer.shape), 0.0), layer.reach)
    distances = {}  # id(shape) -> (sub-block, distance there)
    for layer in layers:
        key = id(layer.shape)
        if key not in distances:
            sub = _sub_block(planes, layer.shape, reach[key], pb, rb, cb)
            d = None if sub is None else layer.shape.distance(*[c[sub] for c in coords])
            distances[key] = (sub, d)
        sub, d = distances[key]
        if sub is None:
            continue
        xyz = [c[sub] for c in coords]
        alpha = _coverage(layer.distance_from(d, xyz), planes.pixel)
        target = block[sub]
        _paint(target, alpha, layer.signal, xyz)
        if layer.label is not None:
            keep = 1.0 - alpha
            for channel in range(N_LABEL_CHANNELS):
                f = fractions[(channel,) + sub]
                f *= keep
                if layer.label == channel + 1:
                    f += alpha
    shape = (s1 - s0, n_sub) + block.shape[1:]
    canvas[s0:s1, rb, cb] = block.reshape(shape).mean(axis=1)
    mean_fractions = fractions.reshape((N_LABEL_CHANNELS,) + shape).mean(axis=2)
    background = 1.0 - mean_fractions.sum(axis=0)
    best = mean_fractions.argmax(axis=0)
    top = np.take_along_axis(mean_fractions, best[None], axis=0)[0]
    labels[s0:s1, rb, cb] = np.where(top > background, best + 1, 0).astype(np.uint8)
    return canvas, labels


def _sub_block(planes, shape, reach, pb, rb, cb):
    """The part of the heart block (relative slices) within ``reach`` mm of ``shape``."""
    sphere = shape.bounding_sphere()
    if sphere is None:
        return (slice(0, pb.stop - pb.start), slice(0, rb.stop - rb.start),
                slice(0, cb.stop - cb.start))
    found = planes.box((sphere[0], sphere[1] + reach), pb)
    if found is None:
        return None
    sp, sr, sc = found
    r0, r1 = max(sr.start, rb.start) - rb.start, min(sr.stop, rb.stop) - rb.start
    c0, c1 = max(sc.start, cb.start) - cb.start, min(sc.stop, cb.stop) - cb.start
    if r0 >= r1 or c0 >= c1:
        return None
    return slice(sp.start - pb.start, sp.stop - pb.start), slice(r0, r1), slice(c0, c1)
