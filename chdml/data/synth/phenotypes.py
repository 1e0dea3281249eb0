"""Phenotypes: what differs between synthetic patients, as numbers.

Each synthetic patient gets a body size (from a toddler, ``size`` ~0.55, to an adult-sized
adolescent, ~1.1), a heart built from a handful of measurements at end-diastole (ED), and
ejection fractions that set end-systole (ES). The phenotypes are:

``normal``
    Normal-sized ventricles, LV ejection fraction (EF) 55-70 %, RV EF 50-65 %.
``dilated_rv``
    A dilated, thin-walled RV with a lower EF, as after tetralogy of Fallot repair with
    pulmonary regurgitation: RV end-diastolic volume 1.5-2.4 times the LV's.
``hypertrophied_rv``
    A thick-walled (6-10 mm) RV under pressure load (pulmonary stenosis, unrepaired
    tetralogy, systemic RV): a flattened septum gives the LV a "D" shape.
``single_ventricle``
    One dominant, rounder ventricle (e.g. double-inlet LV, after Fontan) and at most a
    small rudimentary outlet chamber. **Labelling:** the dominant ventricle is labelled
    as LV blood pool (1) and its wall as myocardium (2), whatever its morphology,
    because it is the systemic pumping chamber whose volumes are reported; a rudimentary
    chamber, when present, is labelled RV blood pool (3).
``dilated_cardiomyopathy``
    A big, spherical, thin-walled LV with EF 15-35 %.

Measurements are in millimetres and scale with body size; the numbers follow published
paediatric and adult cardiac MRI reference ranges closely enough for teaching, not for
diagnosis.
"""
from __future__ import annotations

import dataclasses

import numpy as np

PHENOTYPES = ("normal", "dilated_rv", "hypertrophied_rv", "single_ventricle",
              "dilated_cardiomyopathy")


@dataclasses.dataclass
class Anatomy:
    """Everything about one synthetic patient's body and heart at end-diastole."""

    phenotype: str
    size: float
    # left ventricle (the dominant ventricle for a single ventricle)
    lv_a: float            # endocardial semi-axis towards the RV (mm)
    lv_b: float            # endocardial semi-axis antero-posterior (mm)
    lv_length: float       # base to endocardial apex (mm)
    lv_power: float        # apex shape: 2 = ellipsoid, larger = blunter
    lv_wall: float         # myocardial thickness (mm)
    lv_apex_wall: float
    lv_angle: float        # orientation of the cross-section's ellipse (rad)
    septal_flatten: float
    lv_ef: float
    long_shortening: float
    # right ventricle
    has_rv: bool
    rv_shift: float        # centre of the RV ellipse from the LV axis, towards the RV (mm)
    rv_a: float
    rv_b: float
    rv_length: float
    rv_wall: float
    rv_ef: float
    rv_anterior: float     # RV centre shifted anteriorly (mm)
    # inside the cavities
    papillary_radius: float
    papillary_angles: tuple
    lv_trabeculation: float  # 0..1
    slow_flow: float       # darkening of LV blood towards the apex at ES (0..0.5)
    rv_trabeculation: float
    # atria and great arteries
    la_radius: float
    ra_radius: float
    aorta_radius: float
    pa_radius: float
    aorta_angle: float      # direction of the aortic root around the LV axis (rad)
    epicardial_fat: float   # mm
    # body and pose
    body_half_width: float
    body_half_depth: float
    subcutaneous_fat: float
    chest_muscle: float
    axis_azimuth: float     # LV long axis: angle from anterior towards the left (rad)
    axis_elevation: float   # angle of the LV long axis below the axial plane (rad)
    axis_roll: float        # rotation of the heart around its long axis (rad)
    heart_offset: tuple     # base centre in body coordinates (mm)


def sample_anatomy(rng: np.random.Generator, phenotype: str) -> Anatomy:
    """Draw one patient of ``phenotype`` (one of :data:`PHENOTYPES`)."""
    if phenotype not in PHENOTYPES:
        raise ValueError(f"unknown phenotype {phenotype!r}; use one of {PHENOTYPES}")
    u = rng.uniform
    size = float(u(0.55, 1.12))
    s = size
    lv_r = 25.5 * s * u(0.9, 1.1)
    ellipticity = u(0.9, 1.1)
    lv_length = 78.0 * s * u(0.9, 1.1)
    params = dict(
        phenotype=phenotype, size=s,
        lv_a=lv_r * ellipticity ** 0.5, lv_b=lv_r / ellipticity ** 0.5,
        lv_length=lv_length, lv_power=u(2.0, 3.0),
        lv_wall=(4.0 + 3.5 * s) * u(0.9, 1.15), lv_apex_wall=(2.5 + 2.5 * s) * u(0.85, 1.15),
        lv_angle=u(0.0, np.pi),
        septal_flatten=u(0.0, 0.06), lv_ef=u(0.55, 0.70), long_shortening=u(0.10, 0.18),
        has_rv=True, rv_shift=lv_r * u(0.8, 1.0), rv_a=lv_r * u(1.25, 1.45),
        rv_b=lv_r * u(1.45, 1.7), rv_length=lv_length * u(0.82, 0.95),
        rv_wall=u(2.5, 3.5) * s ** 0.5, rv_ef=u(0.50, 0.65), rv_anterior=lv_r * u(0.1, 0.3),
        papillary_radius=(1.5 + 2.0 * s) * u(0.85, 1.2),
        papillary_angles=(np.pi + u(0.55, 0.95), np.pi - u(0.55, 0.95)),
        lv_trabeculation=u(0.2, 0.6), rv_trabeculation=u(0.4, 0.9),
        slow_flow=u(0.0, 0.5),
        la_radius=17.0 * s * u(0.85, 1.15), ra_radius=18.0 * s * u(0.85, 1.15),
        aorta_radius=(5.0 + 7.0 * s) * u(0.9, 1.1), pa_radius=(5.0 + 7.5 * s) * u(0.9, 1.1),
        aorta_angle=np.deg2rad(u(25, 60)), epicardial_fat=u(1.5, 5.0) * s,
        body_half_width=140.0 * s ** 0.8 * u(0.9, 1.12),
        body_half_depth=100.0 * s ** 0.8 * u(0.9, 1.12),
        subcutaneous_fat=u(3.0, 13.0) * s ** 0.5, chest_muscle=u(5.0, 12.0) * s ** 0.7,
        axis_azimuth=np.deg2rad(u(35, 60)), axis_elevation=np.deg2rad(u(15, 35)),
        axis_roll=np.deg2rad(u(-25, 25)),
        heart_offset=(u(-5, 15) * s, u(-15, 0) * s, 0.0),
    )
    if phenotype == "dilated_rv":
        f = u(1.35, 1.7)
        params.update(rv_a=params["rv_a"] * f, rv_b=params["rv_b"] * u(1.1, 1.3),
                      rv_length=params["rv_length"] * u(1.1, 1.25), rv_shift=lv_r * u(0.85, 1.0),
                      rv_ef=u(0.35, 0.48), rv_wall=u(3.0, 4.5) * s ** 0.5,
                      lv_ef=u(0.48, 0.62), septal_flatten=u(0.05, 0.15),
                      rv_trabeculation=u(0.6, 1.0), pa_radius=params["pa_radius"] * u(1.1, 1.4),
                      axis_roll=params["axis_roll"] + np.deg2rad(u(0, 15)))
    elif phenotype == "hypertrophied_rv":
        params.update(rv_wall=u(6.0, 10.0) * s ** 0.5, rv_a=params["rv_a"] * u(0.8, 1.0),
                      septal_flatten=u(0.15, 0.3), rv_ef=u(0.45, 0.60),
                      rv_trabeculation=u(0.8, 1.0), lv_ef=u(0.55, 0.70),
                      papillary_radius=params["papillary_radius"] * 1.1)
    elif phenotype == "single_ventricle":
        g = u(1.15, 1.35)
        params.update(lv_a=params["lv_a"] * g, lv_b=params["lv_b"] * g * u(1.0, 1.15),
                      lv_length=params["lv_length"] * u(0.85, 1.0), lv_power=u(1.8, 2.4),
                      lv_ef=u(0.40, 0.58), has_rv=bool(rng.random() < 0.5),
                      rv_a=lv_r * u(0.45, 0.6), rv_b=lv_r * u(0.6, 0.8),
                      rv_length=params["lv_length"] * u(0.3, 0.45),
                      rv_shift=params["lv_a"] * g * u(1.0, 1.15), rv_anterior=lv_r * u(0.2, 0.5),
                      rv_ef=u(0.3, 0.5), septal_flatten=0.0,
                      aorta_radius=params["aorta_radius"] * u(1.0, 1.2))
    elif phenotype == "dilated_cardiomyopathy":
        g = u(1.3, 1.55)
        params.update(lv_a=params["lv_a"] * g, lv_b=params["lv_b"] * g,
                      lv_length=params["lv_length"] * u(1.05, 1.2), lv_power=u(1.6, 2.1),
                      lv_wall=(3.0 + 2.5 * s) * u(0.9, 1.1), lv_apex_wall=(2.0 + 1.5 * s),
                      lv_ef=u(0.15, 0.35), long_shortening=u(0.04, 0.09),
                      rv_ef=u(0.38, 0.55), rv_shift=lv_r * g * u(0.8, 0.95),
                      rv_b=params["rv_b"] * u(1.1, 1.25),
                      la_radius=params["la_radius"] * u(1.15, 1.35),
                      lv_trabeculation=u(0.5, 0.9), slow_flow=u(0.3, 0.6))
    return Anatomy(**params)
