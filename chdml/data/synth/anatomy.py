"""Anatomy: the 3-D heart and chest of one synthetic patient at one cardiac phase.

Two coordinate frames, both in millimetres:

* the **heart frame** ``(u, v, w)``: ``w`` runs along the left-ventricular (LV) long
  axis from the centre of the base (mitral plane, ``w = 0``) towards the apex; ``u``
  points from the LV axis towards the right ventricle (RV) and ``v = w x u`` points
  anteriorly. A short-axis slice is a plane ``w = const``; in its standard display
  the RV is on the left and the anterior wall at the top.
* the **body frame** ``(x, y, z)``: ``x`` towards the patient's left, ``y`` anterior,
  ``z`` superior; the heart's long axis points left, anterior and down.

The heart is built from simple shapes (see :mod:`chdml.data.synth.shapes`): each
ventricle is a truncated super-ellipsoid, shrinking from base to apex; the RV's
ellipsoid sits beside the LV and what is left of it outside the LV epicardium is the
RV cavity, a crescent wrapped around the septum. Papillary muscles are two tubes in
the LV cavity, trabeculae a textured band along the endocardium (both painted with the
myocardium's signal but labelled as blood pool, as clinicians usually contour them).
Atria, aortic root and pulmonary trunk sit above the base (bright blood, background
label), epicardial fat around the heart. End-systole (ES) moves the base towards the
apex (long-axis shortening), shrinks the cavities to the patient's ejection fractions
and thickens the walls so that the myocardial volume is kept.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from chdml.data.synth import shapes
from chdml.data.synth.phenotypes import Anatomy
from chdml.data.synth.render import Layer
from chdml.data.synth.texture import NoiseField


@dataclasses.dataclass
class Textures:
    """The random fields of one patient (same at ED and ES)."""

    trabeculae: NoiseField
    flow: NoiseField
    fat: NoiseField
    lung: NoiseField
    liver: NoiseField

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "Textures":
        return cls(trabeculae=NoiseField(rng, 3.0), flow=NoiseField(rng, 14.0, waves=4),
                   fat=NoiseField(rng, 12.0, waves=5), lung=NoiseField(rng, 5.0),
                   liver=NoiseField(rng, 6.0))


@dataclasses.dataclass
class Heart:
    """Shapes of the heart at one phase, in the heart frame."""

    lv_endo: shapes.Cup
    lv_epi: shapes.Cup
    rv_endo: shapes.Cup | None
    papillary: list
    la: shapes.Ellipsoid
    ra: shapes.Ellipsoid
    aorta: shapes.Tube
    pa: shapes.Tube

    @property
    def sphere(self):
        """A sphere (centre, radius) holding every part of the heart."""
        parts = [self.lv_epi, self.la, self.ra, self.aorta, self.pa]
        if self.rv_endo is not None:
            parts.append(self.rv_endo)
        lo = np.min([c - r for c, r in (p.bounding_sphere() for p in parts)], axis=0)
        hi = np.max([c + r for c, r in (p.bounding_sphere() for p in parts)], axis=0)
        return (lo + hi) / 2.0, float(np.linalg.norm(hi - lo)) / 2.0 + 12.0


def _cup_volume(a, b, length, power):
    """Volume (mm^3) of a :class:`~shapes.Cup` (without septal flattening)."""
    return np.pi * a * b * length * power / (power + 1.0)


def heart_at(anatomy: Anatomy, phase: str) -> Heart:
    """The heart shapes at ``phase`` ("ED" or "ES")."""
    an = anatomy
    a, b, length, p = an.lv_a, an.lv_b, an.lv_length, an.lv_power
    wall, apex_wall = an.lv_wall, an.lv_apex_wall
    base = 0.0
    if phase == "ES":
        base = length * an.long_shortening
        length_es = length - base
        radial = np.sqrt((1.0 - an.lv_ef) / (1.0 - an.long_shortening))
        myo = (_cup_volume(a + wall, b + wall, length + apex_wall, p)
               - _cup_volume(a, b, length, p))
        a, b, length = a * radial, b * radial, length_es
        target = myo + _cup_volume(a, b, length, p)
        ratio = apex_wall / wall
        grid = np.linspace(wall, 4.0 * wall, 400)
        volumes = _cup_volume(a + grid, b + grid, length + ratio * grid, p)
        wall = float(grid[np.argmin(np.abs(volumes - target))])
        apex_wall = ratio * wall
    elif phase != "ED":
        raise ValueError(f"phase must be 'ED' or 'ES', got {phase!r}")
    common = dict(power=p, angle=an.lv_angle, flatten=an.septal_flatten, base=base)
    lv_endo = shapes.Cup(a, b, length, **common)
    lv_epi = shapes.Cup(a + wall, b + wall, length + apex_wall, **common)

    rv_endo = None
    if an.has_rv:
        rv_endo = _rv_at(an, phase, lv_epi, base)

    papillary = []
    thick = 1.0 if phase == "ED" else 1.35
    for angle in an.papillary_angles:
        direction = np.array([np.cos(angle), np.sin(angle)])
        points = []
        for t, reach in ((0.30, 0.45), (0.72, 0.78)):
            r = np.sqrt(max(1.0 - t ** p, 0.0))
            uv = direction * np.array([a, b]) * r * reach
            points.append(np.array([uv[0], uv[1], base + t * length]))
        papillary.append(shapes.Tube(points[0], points[1], an.papillary_radius * thick))

    atrial = 1.0 if phase == "ED" else 1.2  # atria fill while the ventricles empty
    la_dir = an.aorta_angle + np.pi
    la_r = an.la_radius * atrial ** (1 / 3)
    la = shapes.Ellipsoid(np.array([0.45 * an.lv_a * np.cos(la_dir),
                                    0.45 * an.lv_b * np.sin(la_dir), base - 0.75 * la_r]),
                          (la_r * 1.1, la_r * 0.9, la_r))
    ra_r = an.ra_radius * atrial ** (1 / 3)
    ra = shapes.Ellipsoid(np.array([an.rv_shift + 0.35 * an.rv_a, -0.35 * an.lv_b,
                                    base - 0.7 * ra_r]), (ra_r, ra_r * 0.85, ra_r * 1.1))
    root = np.array([0.5 * an.lv_a * np.cos(an.aorta_angle),
                     0.5 * an.lv_b * np.sin(an.aorta_angle), base + 6.0])
    aorta = shapes.Tube(root, root + np.array([6.0, 14.0, -55.0]) * an.size, an.aorta_radius)
    pa_root = np.array([an.rv_shift + 0.2 * an.rv_a, 0.75 * an.rv_b + an.rv_anterior,
                        base + 8.0])
    pa = shapes.Tube(pa_root, pa_root + np.array([-30.0, 8.0, -40.0]) * an.size, an.pa_radius)
    return Heart(lv_endo, lv_epi, rv_endo, papillary, la, ra, aorta, pa)


def _rv_at(an: Anatomy, phase: str, lv_epi: shapes.Cup, base: float) -> shapes.Cup:
    def cup(scale, rv_base):
        return shapes.Cup(an.rv_a * scale, an.rv_b * scale ** 0.5,
                          an.rv_length - rv_base, base=rv_base, power=2.0,
                          cx=an.rv_shift, cy=an.rv_anterior, min_x=-0.1 * an.lv_a)

    ed = cup(1.0, 0.0)
    if phase == "ED":
        return ed
    # find the scale whose cavity volume (RV ellipsoid outside the LV) matches the EF
    rv_base = base * 0.8
    scales = np.array([1.0, 0.85, 0.7, 0.55, 0.4])
    volumes = np.array([_cavity_volume(ed, _ed_lv_epi(an))]
                       + [_cavity_volume(cup(s, rv_base), lv_epi) for s in scales[1:]])
    target = volumes[0] * (1.0 - an.rv_ef)
    order = np.argsort(volumes)
    scale = float(np.interp(target, volumes[order], scales[order]))
    return cup(scale, rv_base)


def _ed_lv_epi(an: Anatomy) -> shapes.Cup:
    return shapes.Cup(an.lv_a + an.lv_wall, an.lv_b + an.lv_wall,
                      an.lv_length + an.lv_apex_wall, power=an.lv_power,
                      angle=an.lv_angle, flatten=an.septal_flatten)


def _cavity_volume(rv: shapes.Cup, lv_epi: shapes.Cup, n: int = 20) -> float:
    """Volume (mm^3) inside ``rv`` and outside ``lv_epi``, on an n^3 grid."""
    centre, radius = rv.bounding_sphere()
    axes = [np.linspace(c - radius, c + radius, n, dtype=np.float32) for c in centre]
    x, y, z = np.meshgrid(*axes, indexing="ij")
    inside = (rv.distance(x, y, z) < 0) & (lv_epi.distance(x, y, z) > 0)
    return float(inside.sum()) * (2 * radius / (n - 1)) ** 3


# A single ventricle's rudimentary chamber is drawn at least this big (mL of cavity at
# ED); see with_visible_rudimentary_chamber.
MIN_RUDIMENTARY_CHAMBER_ML = 4.0


def with_visible_rudimentary_chamber(anatomy: Anatomy,
                                     min_ml: float = MIN_RUDIMENTARY_CHAMBER_ML) -> Anatomy:
    """``anatomy`` with a single ventricle's rudimentary chamber of at least ``min_ml``.

    Drawn from body size alone, a small child's rudimentary chamber can lie almost
    wholly inside the dominant ventricle: 0.1-1 mL of cavity (40 % of the drawn chambers
    were under 2 mL at ED), a few voxels on one or two 8-mm slices. Nobody contours that
    on a short-axis stack, and chdml's post-processing removes any structure under 1 mL
    (``SegmentationSettings.min_structure_ml``), so such a label could never be found.
    The chamber's two in-plane axes and its length grow by the smallest factor (steps of
    5 %) that gives ``min_ml`` of cavity outside the ventricle's epicardium at ED (on
    the slices about 1.5-2 mL remain at ES). Every other anatomy, and a chamber that is
    already big enough, is returned unchanged (the same object).
    """
    an = anatomy
    if an.phenotype != "single_ventricle" or not an.has_rv:
        return an
    lv_epi = _ed_lv_epi(an)

    def grown(factor):
        return dataclasses.replace(an, rv_a=an.rv_a * factor, rv_b=an.rv_b * factor,
                                   rv_length=an.rv_length * factor)

    def cavity_ml(candidate):
        return _cavity_volume(_rv_at(candidate, "ED", lv_epi, 0.0), lv_epi, n=32) / 1000.0

    if cavity_ml(an) >= min_ml:
        return an
    for factor in np.arange(1.05, 4.0, 0.05):
        candidate = grown(float(factor))
        if cavity_ml(candidate) >= min_ml:
            return candidate
    return candidate


def body_transform(anatomy: Anatomy):
    """``(matrix, offset)`` with ``body = matrix @ heart + offset``."""
    az, el = anatomy.axis_azimuth, anatomy.axis_elevation
    w = np.array([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), -np.sin(el)])
    frame = shapes.orthonormal_frame(w, towards=[-1.0, 0.35, 0.1])
    u, v = frame[:, 0], frame[:, 1]
    r = anatomy.axis_roll
    frame[:, 0] = np.cos(r) * u + np.sin(r) * v
    frame[:, 1] = -np.sin(r) * u + np.cos(r) * v
    return frame, np.asarray(anatomy.heart_offset, dtype=np.float64)


def heart_layers(heart: Heart, an: Anatomy, palette: dict, tex: Textures,
                 phase: str = "ED") -> list:
    """The heart's layers at ``phase`` in painting order (see
    :mod:`chdml.data.synth.render`).

    At end-systole the small LV cavity looks greyer towards the apex (slowly moving
    blood, compacted trabeculae, partial volume), as it does in real cines; a poorly
    contracting LV shows some of this at end-diastole too (``an.slow_flow``).
    """
    blood, myo, fat = palette["blood"], palette["myocardium"], palette["fat"]
    slow = an.slow_flow * (1.0 if phase == "ES" else 0.3)

    def flowing(x, y, z):
        return np.float32(blood) * (1.0 + 0.05 * tex.flow(x, y, z))

    def lv_flowing(x, y, z):
        depth = np.clip((z - np.float32(heart.lv_endo.base))
                        * np.float32(1.0 / heart.lv_endo.length), 0.0, 1.0)
        return flowing(x, y, z) * (1.0 - np.float32(slow) * depth)

    def trabeculated(amount, length, base):
        def signal(x, y, z):
            depth_weight = np.clip((z - base) / length, 0.0, 1.0)
            threshold = 1.3 - amount * (0.6 + 0.9 * depth_weight)
            strands = np.clip((tex.trabeculae(x, y, z) - threshold) * 2.5, 0.0, 1.0)
            return np.float32(blood) + np.float32(myo - blood) * strands
        return signal

    epi, endo, rv = heart.lv_epi, heart.lv_endo, heart.rv_endo
    fat_bump = (tex.fat, an.epicardial_fat * 1.5)
    layers = [Layer(epi, fat, 0, grow=0.5, bump=fat_bump)]
    if rv is not None:
        layers.append(Layer(rv, fat, 0, grow=an.rv_wall + 0.5, bump=fat_bump))
    for vessel in (heart.la, heart.ra, heart.aorta, heart.pa):
        layers.append(Layer(vessel, myo, 0, grow=1.8))
    for vessel in (heart.la, heart.ra, heart.aorta, heart.pa):
        layers.append(Layer(vessel, blood, 0))
    if rv is not None:
        layers.append(Layer(rv, myo, 0, grow=an.rv_wall))
        layers.append(Layer(rv, flowing, 3))
        layers.append(Layer(rv, trabeculated(an.rv_trabeculation, rv.length, rv.base), None,
                            shell=1.0 + 2.0 * an.rv_trabeculation))
    layers.append(Layer(epi, myo, 2))
    # the aortic root leaves the LV through a gap in the basal myocardial ring (LVOT)
    layers.append(Layer(heart.aorta, blood, 0))
    layers.append(Layer(endo, lv_flowing, 1))
    trabeculation = min(1.0, an.lv_trabeculation + (0.25 if phase == "ES" else 0.0))
    layers.append(Layer(endo, trabeculated(trabeculation, endo.length, endo.base),
                        None, shell=1.0 + 2.5 * trabeculation))
    for muscle in heart.papillary:
        layers.append(Layer(muscle, myo, None))
    return layers


def body_layers(an: Anatomy, heart: Heart, palette: dict, tex: Textures,
                transform) -> list:
    """The chest's layers (body frame) in painting order."""
    bx, by = an.body_half_width, an.body_half_depth
    body = shapes.Memo(shapes.EllipticCylinder(0.0, 0.0, bx, by, taper=0.05))
    wall = an.subcutaneous_fat + an.chest_muscle
    cavity = shapes.Offset(body, -wall)
    s = an.size

    def lung_signal(x, y, z):
        vessels = np.clip((tex.lung(x, y, z) - 1.7) * 2.0, 0.0, 1.0)
        return np.float32(palette["lung"]) + np.float32(palette["vessel"] * 0.6) * vessels

    def liver_signal(x, y, z):
        vessels = np.clip((tex.liver(x, y, z) - 1.4) * 2.0, 0.0, 1.0)
        return np.float32(palette["liver"]) + np.float32(palette["vessel"] - palette["liver"]) \
            * vessels

    def bowel_signal(x, y, z):  # spleen, stomach and bowel: grey with bright fluid
        fluid = np.clip((tex.liver(y, z, x) - 0.9) * 1.5, 0.0, 1.0)
        return np.float32(palette["spleen"]) + np.float32(palette["vessel"] - palette["spleen"]) \
            * fluid

    def textured(tissue, amount):
        def signal(x, y, z):
            return np.float32(palette[tissue]) * (1.0 + amount * tex.liver(x * 0.7, y, z))
        return signal

    # lowest point of the LV epicardium (body z) -> the diaphragm lies just below it
    matrix, offset = transform
    across = float(np.hypot(matrix[2, 0], matrix[2, 1]))
    t = np.linspace(0.0, 1.0, 21)
    depth = t * (an.lv_length + an.lv_apex_wall)
    radius = max(an.lv_a, an.lv_b) + an.lv_wall
    heights = offset[2] + depth * matrix[2, 2] - radius * np.sqrt(1.0 - t ** an.lv_power) * across
    heart_bottom = float(heights.min()) - 3.0
    spine_y = -by + an.subcutaneous_fat + 2.5 * an.chest_muscle + 14.0 * s
    lungs = []
    for side, width in ((-1.0, 0.52), (1.0, 0.50)):
        lungs.append(shapes.Intersection((shapes.Ellipsoid(
            np.array([side * 0.48 * bx, -0.1 * by, heart_bottom + 120.0]),
            (width * bx, 0.9 * by, 170.0)), cavity)))
    liver_r = (0.75 * bx, 0.8 * by, 0.45 * bx)
    liver = shapes.Intersection((shapes.Ellipsoid(
        np.array([-0.22 * bx, -0.05 * by, heart_bottom - liver_r[2] + 6.0]), liver_r), cavity))
    spleen = shapes.Intersection((shapes.Ellipsoid(
        np.array([0.55 * bx, -0.25 * by, heart_bottom - 0.35 * bx]),
        (0.35 * bx, 0.5 * by, 0.35 * bx)), cavity))
    vertebra = shapes.Column(0.0, spine_y, 13.0 * s)
    canal = shapes.Column(0.0, spine_y - 22.0 * s, 6.0 * s)
    aorta_y = spine_y + 13.0 * s + 2.0 + 7.0 * s
    descending = shapes.Memo(shapes.Column(12.0 * s + 8.0, aorta_y, an.aorta_radius * 0.8))
    return [
        Layer(body, palette["fat"]),
        Layer(shapes.Offset(body, -an.subcutaneous_fat), textured("muscle", 0.25)),
        Layer(cavity, textured("mediastinum", 0.3)),
        Layer(lungs[0], lung_signal),
        Layer(lungs[1], lung_signal),
        Layer(liver, liver_signal),
        Layer(spleen, bowel_signal),
        Layer(vertebra, palette["marrow"]),
        Layer(canal, palette["csf"]),
        Layer(shapes.Offset(descending, 1.5), palette["muscle"]),
        Layer(descending, palette["blood"] * 0.95),
    ]
