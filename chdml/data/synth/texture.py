"""Smooth random fields for tissue texture (trabeculae, lung and liver vessels, flow).

A field is a sum of a few plane waves with random directions, wavelengths and phases
(random Fourier features): ``field(x, y, z)`` is roughly zero-mean with unit variance,
varies on a scale of about ``cell`` millimetres, is seeded, and is the same wherever it
is sampled from (so the end-diastolic and end-systolic images and the long-axis views
see the same texture). A handful of cosines is an order of magnitude cheaper than
interpolating a noise lattice, which matters at a million samples per patient.
"""
from __future__ import annotations

import numpy as np


class NoiseField:
    """Seeded smooth noise; ``field(x, y, z)`` -> float32 array like ``x``."""

    def __init__(self, rng: np.random.Generator, cell: float, waves: int = 8):
        directions = rng.normal(size=(waves, 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        wavelengths = cell * rng.uniform(1.5, 3.5, size=waves)
        self._k = (directions * (2.0 * np.pi / wavelengths)[:, None]).astype(np.float32)
        self._phase = rng.uniform(0.0, 2.0 * np.pi, size=waves).astype(np.float32)
        self._amplitude = np.float32(np.sqrt(2.0 / waves))

    def __call__(self, x, y, z):
        k, phase = self._k, self._phase
        total = np.cos(x * k[0, 0] + y * k[0, 1] + z * k[0, 2] + phase[0])
        for j in range(1, len(k)):
            total += np.cos(x * k[j, 0] + y * k[j, 1] + z * k[j, 2] + phase[j])
        total *= self._amplitude
        return total
