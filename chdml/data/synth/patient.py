"""One synthetic patient: anatomy + scanner + views -> labelled images.

A patient is fully determined by ``(seed, index)``: its random numbers come from
``numpy.random.SeedSequence(seed, spawn_key=(index,))``, so patient 7 of seed 0 is the
same whether 10 or 1000 patients are made. Independent streams are used for anatomy,
scanner, slice geometry and noise, so that asking for fewer views does not change the
anatomy.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from chdml.data.synth import anatomy as anatomy_module
from chdml.data.synth.appearance import SCANNERS, Look, acquire, examination
from chdml.data.synth.phenotypes import PHENOTYPES, Anatomy, sample_anatomy
from chdml.data.synth.render import render_body, render_heart
from chdml.data.synth.views import Geometry, long_axis_geometry, sax_geometry

PHASES = ("ED", "ES")
STUDY_VIEWS = ("SAX", "2CH", "4CH", "OT")


@dataclasses.dataclass
class Image:
    """One labelled image volume.

    Attributes:
        view: ``SAX``, ``2CH``, ``4CH``, ``OT`` (or a ten-view class name).
        phase: ``ED`` or ``ES``.
        image: ``(rows, cols, slices)`` float32, whole numbers >= 0 in the scanner's units.
        label: ``(rows, cols, slices)`` uint8: 0 background, 1 LV blood pool, 2 LV
            myocardium, 3 RV blood pool.
        spacing: ``(row, col, slice)`` in mm.
    """

    view: str
    phase: str
    image: np.ndarray
    label: np.ndarray
    spacing: tuple


@dataclasses.dataclass
class Patient:
    """A synthetic patient and its study."""

    patient: str
    phenotype: str
    scanner: str
    anatomy: Anatomy
    images: list


@dataclasses.dataclass
class Subject:
    """The random state of one patient before any image is taken."""

    index: int
    anatomy: Anatomy
    textures: anatomy_module.Textures
    look: Look
    transform: tuple
    geometry_rng: np.random.Generator
    noise_rng: np.random.Generator

    @property
    def patient(self) -> str:
        return f"p{self.index + 1:04d}"


def phenotype_of(seed: int, index: int) -> str:
    """Phenotypes take turns so that any five consecutive patients cover all of them."""
    return PHENOTYPES[(index + seed) % len(PHENOTYPES)]


def subject(seed: int, index: int, phenotype: str | None = None,
            scanners=None) -> Subject:
    """Draw patient ``index`` of ``seed``; ``scanners`` restricts the scanner ids."""
    streams = np.random.SeedSequence(seed, spawn_key=(index,)).spawn(4)
    rng_anatomy, rng_look, rng_geometry, rng_noise = (np.random.default_rng(s)
                                                       for s in streams)
    phenotype = phenotype or phenotype_of(seed, index)
    an = anatomy_module.with_visible_rudimentary_chamber(
        sample_anatomy(rng_anatomy, phenotype))
    textures = anatomy_module.Textures.draw(rng_anatomy)
    names = sorted(SCANNERS) if scanners is None else list(scanners)
    look = examination(rng_look, SCANNERS[names[int(rng_look.integers(len(names)))]])
    return Subject(index, an, textures, look, anatomy_module.body_transform(an),
                   rng_geometry, rng_noise)


class Camera:
    """Takes pictures of one subject: renders body and heart, then the scanner's look.

    Hearts and layers are built once per phase and bodies once per geometry, so many
    pictures of one patient cost little more than their rendering.
    """

    def __init__(self, sub: Subject):
        self.sub = sub
        self._hearts = {}
        self._body = None

    def _heart(self, phase):
        if phase not in self._hearts:
            heart = anatomy_module.heart_at(self.sub.anatomy, phase)
            layers = anatomy_module.heart_layers(heart, self.sub.anatomy,
                                                 self.sub.look.palette, self.sub.textures,
                                                 phase)
            self._hearts[phase] = (layers, heart.sphere)
        return self._hearts[phase]

    def _body_layers(self):
        if self._body is None:
            sub = self.sub
            self._body = anatomy_module.body_layers(
                sub.anatomy, anatomy_module.heart_at(sub.anatomy, "ED"), sub.look.palette,
                sub.textures, sub.transform)
        return self._body

    def shoot(self, geometry: Geometry, phases=PHASES) -> list:
        """:class:`Image` objects of ``geometry`` at each phase (same body, own noise)."""
        canvas, xyz = render_body(geometry.planes, self._body_layers(), self.sub.transform)
        out = []
        for phase in phases:
            layers, sphere = self._heart(phase)
            signal, labels = render_heart(geometry.planes, canvas, layers, sphere)
            image = acquire(signal, xyz, self.sub.look, self.sub.noise_rng)
            out.append(Image(geometry.view, phase, image.transpose(1, 2, 0),
                             labels.transpose(1, 2, 0), geometry.spacing))
        return out


def make_patient(seed: int, index: int, views=STUDY_VIEWS, matrix: int = 128) -> Patient:
    """Patient ``index`` of ``seed`` with a short-axis stack and long-axis views at ED
    and ES (the study that ``chdml data synth`` writes)."""
    sub = subject(seed, index)
    geometries = []
    sax = sax_geometry(sub.anatomy, sub.geometry_rng, matrix=matrix)
    pixel, thickness = sax.spacing[0], sax.spacing[2]
    for view in views:
        if view == "SAX":
            geometries.append(sax)
        else:
            geometries.append(long_axis_geometry(sub.anatomy, view, sub.geometry_rng,
                                                 matrix=matrix, pixel=pixel,
                                                 thickness=thickness))
    camera = Camera(sub)
    images = [image for geometry in geometries for image in camera.shoot(geometry)]
    return Patient(sub.patient, sub.anatomy.phenotype, sub.look.scanner.name, sub.anatomy,
                   images)


__all__ = ["Camera", "Image", "Patient", "make_patient", "subject", "PHASES", "STUDY_VIEWS"]
