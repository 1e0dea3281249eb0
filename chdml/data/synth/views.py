"""Views: where the image planes of a study lie relative to the heart.

* ``SAX``: a short-axis stack, planes perpendicular to the LV long axis, from just above
  the base (slice 0) to the apex (last slice), spacing = slice thickness (no gap). Shown
  as stored, the RV is on the left and the anterior wall at the top, within a random
  in-plane rotation; the heart sits near the image centre.
* ``4CH``: four-chamber long axis (both ventricles and both atria), apex at the top,
  RV on the left.
* ``2CH``: two-chamber long axis (LV and left atrium).
* ``OT``: the LV outflow tract / three-chamber view (LV, left atrium, aortic root).

The ten-view set of :func:`chdml.data.synth.view_images` adds planes through the RV
(``RV2CH``, ``RVOT``) and two plain body planes (``axial``, ``coronal``), and splits the
short axis into basal, mid and apical levels; see :data:`TEN_VIEWS`.

All geometry is in the heart frame of :mod:`chdml.data.synth.anatomy` (millimetres).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from chdml.data.synth.phenotypes import Anatomy
from chdml.data.synth.render import Planes

LONG_AXIS_VIEWS = ("2CH", "4CH", "OT")
#: The ten classes of the MNIST-like view set (index = class label).
TEN_VIEWS = ("SAX basal", "SAX mid", "SAX apical", "2CH", "3CH (LVOT)", "4CH", "RVOT",
             "RV 2CH", "axial", "coronal")
_SAX_LEVELS = {"SAX basal": (-0.06, 0.02), "SAX mid": (0.3, 0.48), "SAX apical": (0.76, 0.9)}


@dataclasses.dataclass
class Geometry:
    """Where one view's slices lie: ``planes`` plus the voxel spacing (mm)."""

    view: str
    planes: Planes
    spacing: tuple


def stack(centre, row_dir, col_dir, normal, offsets, shape, pixel, thickness,
          n_sub=3) -> Planes:
    """Parallel planes through ``centre + offset * normal`` for each offset (mm).

    Pixel ``(r, c)`` of a plane lies at ``centre + (r - (rows-1)/2) * pixel * row_dir +
    (c - (cols-1)/2) * pixel * col_dir``. Each slice gets ``n_sub`` sub-planes spread over
    ``thickness``.
    """
    rows, cols = shape
    row_step = np.asarray(row_dir, float) * pixel
    col_step = np.asarray(col_dir, float) * pixel
    normal = np.asarray(normal, float)
    sub = (np.arange(n_sub) - (n_sub - 1) / 2.0) * thickness / n_sub
    corner = np.asarray(centre, float) - (rows - 1) / 2.0 * row_step - (cols - 1) / 2.0 * col_step
    origins = [corner + (o + d) * normal for o in offsets for d in sub]
    return Planes(np.array(origins), row_step, col_step, (rows, cols), n_sub, pixel)


def _rotated(row_dir, col_dir, angle):
    c, s = np.cos(angle), np.sin(angle)
    return -s * col_dir + c * row_dir, c * col_dir + s * row_dir


def _unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


U, V, W = np.eye(3)


def clinical_spacing(an: Anatomy, rng: np.random.Generator):
    """``(pixel, thickness)`` in mm of a clinical 128 x 128 short-axis cine for this
    patient's size: pixels of about 1.3-3.2 mm (the field of view grows with the child),
    slices of 5-10 mm."""
    pixel = float(np.clip(1.9 * an.size ** 0.6 * rng.uniform(0.82, 1.45), 1.3, 3.2))
    thickness = float(np.clip(np.round(3.5 + 4.5 * an.size + rng.normal(0, 0.8)), 5, 10))
    return pixel, thickness


def sax_geometry(an: Anatomy, rng: np.random.Generator, matrix: int = 128,
                 pixel: float | None = None, thickness: float | None = None,
                 levels=None, jitter: float = 9.0, rotation=(-45.0, 70.0),
                 n_sub: int = 3) -> Geometry:
    """A short-axis stack covering the ventricles from base to apex.

    ``pixel`` and ``thickness`` default to :func:`clinical_spacing`. ``levels`` (fractions of the LV length from the base) gives
    single slices instead of the full stack. ``jitter`` is the standard deviation of the
    heart's position in pixels. ``rotation`` is the range (degrees) of the in-plane turn
    of the display: 0 puts the RV straight left of the LV, positive angles turn it
    below-left; the default matches the spread of the real paediatric set (-55 to +65).
    """
    if pixel is None or thickness is None:
        default_pixel, default_thickness = clinical_spacing(an, rng)
        pixel = default_pixel if pixel is None else pixel
        thickness = default_thickness if thickness is None else thickness
    full = an.lv_length + an.lv_apex_wall
    if levels is None:
        first = -0.35 * thickness * rng.uniform(0.3, 1.5)
        n = int(np.ceil((full - first) / thickness))
        offsets = first + thickness * np.arange(n)
    else:
        offsets = np.asarray(levels, float) * an.lv_length
    centre_u = 0.35 * an.rv_shift if an.has_rv else 0.0
    shift = rng.normal(0.0, jitter, 2) * pixel
    angle = np.deg2rad(rng.uniform(*rotation))
    row_dir, col_dir = _rotated(-V, -U, angle)
    centre = np.array([centre_u, 0.0, 0.0]) + shift[0] * col_dir + shift[1] * row_dir
    planes = stack(centre, row_dir, col_dir, W, offsets, (matrix, matrix), pixel, thickness,
                   n_sub)
    return Geometry("SAX", planes, (pixel, pixel, thickness))


def long_axis_geometry(an: Anatomy, view: str, rng: np.random.Generator, matrix: int = 128,
                       pixel: float = 1.8, thickness: float = 7.0, jitter: float = 6.0,
                       max_rotation: float = 20.0, n_sub: int = 3) -> Geometry:
    """One long-axis (or other) view: ``2CH``, ``4CH``, ``OT`` or a :data:`TEN_VIEWS` name."""
    length = an.lv_length
    centre = np.array([0.0, 0.0, 0.38 * length])
    row_dir = -W  # apex at the top
    if view == "4CH":
        col_dir, normal = -U, V
        centre += np.array([0.3 * an.rv_shift if an.has_rv else 0.0, -0.15 * an.lv_b, 0.0])
    elif view == "2CH":
        col_dir, normal = -V, U
    elif view in ("OT", "3CH (LVOT)"):
        towards_aorta = _unit([an.lv_a * np.cos(an.aorta_angle),
                               an.lv_b * np.sin(an.aorta_angle), 0.0])
        col_dir, normal = -towards_aorta, np.cross(towards_aorta, W)
    elif view == "RV 2CH":
        col_dir, normal = -V, U
        centre += np.array([an.rv_shift + 0.35 * an.rv_a, 0.0, -0.1 * length])
    elif view == "RVOT":
        col_dir, normal = -U, V
        centre += np.array([0.4 * an.rv_shift, 0.55 * an.rv_b + an.rv_anterior, -0.2 * length])
    elif view in _SAX_LEVELS:
        lo, hi = _SAX_LEVELS[view]
        centre = np.array([0.3 * an.rv_shift if an.has_rv else 0.0, 0.0,
                           rng.uniform(lo, hi) * length])
        row_dir, col_dir, normal = -V, -U, W
    else:
        raise ValueError(f"unknown view {view!r}")
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation))
    row_dir, col_dir = _rotated(row_dir, col_dir, angle)
    shift = rng.normal(0.0, jitter, 2) * pixel
    centre = centre + shift[0] * col_dir + shift[1] * row_dir
    planes = stack(centre, row_dir, col_dir, normal, [0.0], (matrix, matrix), pixel,
                   thickness, n_sub)
    return Geometry(view, planes, (pixel, pixel, thickness))


def body_plane_geometry(view: str, transform, rng: np.random.Generator, centre_heart,
                        matrix: int, pixel: float, thickness: float, jitter: float = 6.0,
                        max_rotation: float = 15.0) -> Geometry:
    """An ``axial`` or ``coronal`` body plane through the heart (radiological display:
    the patient's left on the image right)."""
    frame, _ = transform
    to_heart = frame.T  # body direction -> heart direction
    x, y, z = np.eye(3)
    if view == "axial":
        row_dir, col_dir, normal = to_heart @ -y, to_heart @ x, to_heart @ z
    elif view == "coronal":
        row_dir, col_dir, normal = to_heart @ -z, to_heart @ x, to_heart @ y
    else:
        raise ValueError(f"unknown body plane {view!r}")
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation))
    row_dir, col_dir = _rotated(row_dir, col_dir, angle)
    shift = rng.normal(0.0, jitter, 2) * pixel
    centre = np.asarray(centre_heart, float) + shift[0] * col_dir + shift[1] * row_dir
    planes = stack(centre, row_dir, col_dir, normal, [0.0], (matrix, matrix), pixel,
                   thickness, 1)
    return Geometry(view, planes, (pixel, pixel, thickness))
