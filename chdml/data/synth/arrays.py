"""In-memory synthetic data for notebooks: 2-D slices as NumPy arrays, no files.

Two entry points, both seeded and deterministic:

* :func:`short_axis_slices`: labelled short-axis slices for segmentation (workshop 4)
  and for the "scanner" intensity-shift pitfall (workshop 3).
* :func:`view_images`: view classification, either short axis vs long axis (workshop 2)
  or the MNIST-like ten cardiac views at 28 x 28 (workshop 1).

Images are rendered directly at the requested size over the same field of view a
clinical 128 x 128 image would have, so ``spacing`` (mm per pixel) is that of an image
resized to ``size``. Layout is channels-last, as Keras expects: images ``(N, size, size,
1)`` float32 in [0, 1]; masks ``(N, size, size)`` uint8 with 0 background, 1 LV blood
pool, 2 LV myocardium, 3 RV blood pool (papillary muscles and trabeculae count as blood
pool).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from chdml.data.synth.appearance import SCANNERS
from chdml.data.synth.patient import PHASES, Camera, subject
from chdml.data.synth.phenotypes import PHENOTYPES
from chdml.data.synth.views import (TEN_VIEWS, body_plane_geometry, clinical_spacing,
                                    long_axis_geometry, sax_geometry)

BINARY_CLASSES = ("long axis", "short axis")
_CLINICAL_MATRIX = 128


class _Record:
    """Dict-style access for the dataclasses below: ``data["images"]``, ``data.keys()``,
    ``len(data)`` (the number of images)."""

    def __getitem__(self, key):
        return getattr(self, key)

    def keys(self):
        return [f.name for f in dataclasses.fields(self)]

    def __len__(self):
        return len(self.images)


@dataclasses.dataclass
class SliceSet(_Record):
    """Labelled 2-D short-axis slices (one row per slice).

    Attributes:
        images: ``(N, size, size, 1)`` float32 in [0, 1].
        masks: ``(N, size, size)`` uint8, labels 0-3.
        patients: ``(N,)`` patient ids such as ``"p0001"`` (split by these!).
        phenotypes, phases, scanners: ``(N,)`` str.
        slice_index: ``(N,)`` int, 0 at the base.
        spacing: ``(N, 3)`` float32 mm: row, column (after resizing) and slice thickness.

    Also readable as a dict: ``data["images"]``.
    """

    images: np.ndarray
    masks: np.ndarray
    patients: np.ndarray
    phenotypes: np.ndarray
    phases: np.ndarray
    scanners: np.ndarray
    slice_index: np.ndarray
    spacing: np.ndarray

    def __repr__(self):
        n_patients = len(np.unique(self.patients))
        return (f"SliceSet({len(self)} slices of {n_patients} patients, "
                f"images {self.images.shape} {self.images.dtype}, masks {self.masks.shape})")


@dataclasses.dataclass
class ViewSet(_Record):
    """Images with a view label (one row per image).

    Attributes:
        images: ``(N, size, size, 1)`` float32 in [0, 1].
        labels: ``(N,)`` int, index into ``class_names``.
        class_names: tuple of str.
        patients: ``(N,)`` patient ids.
        views: ``(N,)`` the name of each image's view.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple
    patients: np.ndarray
    views: np.ndarray

    def __repr__(self):
        return (f"ViewSet({len(self)} images, {len(self.class_names)} classes, "
                f"images {self.images.shape} {self.images.dtype})")


def normalise(image: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """Scale one image to [0, 1]: 0 stays 0, the ``percentile`` becomes 1, brighter
    pixels are clipped to 1. A blank image stays 0."""
    top = np.percentile(image, percentile)
    if top <= 0:
        return np.zeros_like(image, dtype=np.float32)
    return np.clip(image / np.float32(top), 0.0, 1.0).astype(np.float32)


def _check(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def _check_choices(name, values, allowed):
    if values is None:
        return None
    values = (values,) if isinstance(values, str) else tuple(values)
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ValueError(f"{name} must be chosen from {tuple(allowed)}, got {values!r}")
    return values


def short_axis_slices(n_patients: int, size: int = 64, seed: int = 0, phases=PHASES,
                      phenotypes=None, scanners=None, skip_empty: bool = False) -> SliceSet:
    """Every short-axis slice of ``n_patients`` synthetic patients at ``phases``.

    Args:
        n_patients: number of patients (about 10-14 slices each per phase).
        size: image side in pixels (e.g. 64 or 128).
        seed: the same seed gives the same arrays; patient ``i`` does not depend on
            ``n_patients``.
        phases: ``("ED", "ES")``, ``"ED"`` or ``"ES"``.
        phenotypes: restrict to these phenotypes (patients take turns among them);
            default all of :data:`~chdml.data.synth.phenotypes.PHENOTYPES`.
        scanners: restrict to these scanner ids (``"A"``-``"D"``), e.g. ``["A"]`` for a
            training set and ``["B"]`` for a shifted test set.
        skip_empty: drop slices without any LV, myocardium or RV label.

    Returns:
        :class:`SliceSet`; images are each scaled to [0, 1] by :func:`normalise`.

    Example:
        >>> data = short_axis_slices(4, size=64)
        >>> data.images.shape[1:], data.masks.max() <= 3
        ((64, 64, 1), True)
    """
    _check("n_patients", n_patients, 1)
    _check("size", size, 8)
    _check("seed", seed, 0)
    phases = _check_choices("phases", phases, PHASES)
    phenotypes = _check_choices("phenotypes", phenotypes, PHENOTYPES) or PHENOTYPES
    scanners = _check_choices("scanners", scanners, SCANNERS)
    rows = []
    for index in range(n_patients):
        sub = subject(seed, index, phenotype=phenotypes[(index + seed) % len(phenotypes)],
                      scanners=scanners)
        pixel, thickness = clinical_spacing(sub.anatomy, sub.geometry_rng)
        geometry = sax_geometry(sub.anatomy, sub.geometry_rng, matrix=size,
                                pixel=pixel * _CLINICAL_MATRIX / size, thickness=thickness,
                                jitter=9.0 * size / _CLINICAL_MATRIX)
        for image in Camera(sub).shoot(geometry, phases):
            for k in range(image.image.shape[2]):
                mask = image.label[:, :, k]
                if skip_empty and not mask.any():
                    continue
                rows.append((normalise(image.image[:, :, k]), mask, sub.patient,
                             sub.anatomy.phenotype, image.phase, sub.look.scanner.name, k,
                             image.spacing))
    if not rows:
        raise ValueError("no slice has a label; use skip_empty=False")
    columns = list(zip(*rows))
    return SliceSet(images=np.stack(columns[0])[..., None].astype(np.float32),
                    masks=np.stack(columns[1]).astype(np.uint8),
                    patients=np.array(columns[2]), phenotypes=np.array(columns[3]),
                    phases=np.array(columns[4]), scanners=np.array(columns[5]),
                    slice_index=np.array(columns[6], dtype=int),
                    spacing=np.array(columns[7], dtype=np.float32))


def _render_view(camera: Camera, view: str, size: int, rng, supersample: int):
    """One image of ``view`` (a :data:`TEN_VIEWS` name or SAX/2CH/4CH/OT) at a random
    phase, scaled to [0, 1]."""
    an = camera.sub.anatomy
    matrix = size * supersample
    fov = 5.5 * (an.lv_b + an.lv_wall) * rng.uniform(0.92, 1.1)  # framed on the heart
    pixel = fov / matrix
    jitter = 0.07 * matrix
    if view in ("axial", "coronal"):
        centre = np.array([0.0, 0.0, 0.45 * an.lv_length])
        geometry = body_plane_geometry(view, camera.sub.transform, rng, centre, matrix,
                                       pixel * 1.3, 7.0, jitter=jitter, max_rotation=15.0)
    elif view == "SAX":
        level = rng.uniform(0.05, 0.85)
        geometry = sax_geometry(an, rng, matrix=matrix, pixel=pixel, levels=[level],
                                jitter=jitter, n_sub=1)
    else:
        # short-axis levels keep their partial volume (a basal slice grazes the base)
        geometry = long_axis_geometry(an, view, rng, matrix=matrix, pixel=pixel,
                                      jitter=jitter, max_rotation=15.0,
                                      n_sub=3 if view.startswith("SAX") else 1)
    phase = PHASES[int(rng.integers(2))]
    image = camera.shoot(geometry, (phase,))[0].image[:, :, 0]
    if supersample > 1:
        image = image.reshape(size, supersample, size, supersample).mean(axis=(1, 3))
    return normalise(image)


def view_images(n: int, size: int = 64, seed: int = 0, task: str = "binary",
                scanners=None) -> ViewSet:
    """``n`` images for view classification.

    Args:
        n: number of images.
        size: image side in pixels (28 for the MNIST-like set, 64 for workshop 2).
        seed: the same seed gives the same arrays.
        task: ``"binary"``: short axis (label 1, from random levels between base and
            apex) vs long axis (label 0: 2-chamber, 4-chamber or outflow tract), eight
            images per patient, half of each; ``"ten_views"``: the ten classes of
            :data:`~chdml.data.synth.views.TEN_VIEWS` (SAX basal/mid/apical, 2CH,
            3CH (LVOT), 4CH, RVOT, RV 2CH, axial, coronal), one of each per patient;
            patients with a single ventricle are left out of this task (their "RV"
            views would show no RV).
        scanners: restrict to these scanner ids.

    Returns:
        :class:`ViewSet`, rows in a seeded random order (patients stay identifiable
        through ``patients``, so a split by patient is possible).
    """
    _check("n", n, 1)
    _check("size", size, 8)
    _check("seed", seed, 0)
    scanners = _check_choices("scanners", scanners, SCANNERS)
    if task == "binary":
        class_names = BINARY_CLASSES
        per_patient = [("SAX", 1)] * 4 + [("2CH", 0), ("4CH", 0), ("OT", 0)]
        per_patient.append((("2CH", "4CH", "OT"), 0))
    elif task == "ten_views":
        class_names = TEN_VIEWS
        per_patient = [(name, k) for k, name in enumerate(TEN_VIEWS)]
    else:
        raise ValueError(f"task must be 'binary' or 'ten_views', got {task!r}")
    supersample = 2 if size <= 64 else 1
    images, labels, patients, views = [], [], [], []
    index = 0
    two_ventricles = [p for p in PHENOTYPES if p != "single_ventricle"]
    while len(images) < n:
        phenotype = two_ventricles[index % len(two_ventricles)] if task == "ten_views" \
            else None
        sub = subject(seed, index, phenotype=phenotype, scanners=scanners)
        camera = Camera(sub)
        rng = sub.geometry_rng
        for view, label in per_patient:
            if len(images) == n:
                break
            if isinstance(view, tuple):
                view = view[int(rng.integers(len(view)))]
            images.append(_render_view(camera, view, size, rng, supersample))
            labels.append(label)
            patients.append(sub.patient)
            views.append(view)
        index += 1
    order = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,))
                                  ).permutation(n)
    return ViewSet(images=np.stack(images)[order][..., None].astype(np.float32),
                   labels=np.array(labels, dtype=int)[order], class_names=tuple(class_names),
                   patients=np.array(patients)[order], views=np.array(views)[order])
