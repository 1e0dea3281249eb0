"""MR appearance: what a balanced SSFP cine looks like on a given "scanner".

Tissue signal in bSSFP is roughly proportional to sqrt(T2/T1): blood and fat are bright,
myocardium and skeletal muscle dark, liver and spleen mid-grey, lung nearly black. The
palette below is relative to blood = 1. A *scanner* changes that palette a little
(contrast), shades the image with its receive coils (brighter near the chest coil),
adds noise of its own level (magnitude images, hence Rician), bends intensities with a
gamma, and stores numbers in its own range: the 8-bit windowed export of the public
paediatric set (scanners ``"A"``, ``"B"``, ``"D"``: values 0-255 with the darkest part
clipped to 0, each with its own window) or raw 12-bit magnitudes with a visible noise
floor (``"C"``). Each patient also gets a small random variation of the
scanner's settings, as every examination does.

All stored images are whole numbers (as a DICOM would hold), as float32.
"""
from __future__ import annotations

import dataclasses

import numpy as np

#: Tissue signal relative to blood (bSSFP, 1.5 T).
PALETTE = {
    "blood": 1.0,
    "myocardium": 0.25,
    "fat": 1.1,
    "muscle": 0.16,
    "liver": 0.35,
    "spleen": 0.4,
    "lung": 0.02,
    "vessel": 0.8,
    "mediastinum": 0.15,
    "marrow": 0.45,
    "csf": 0.9,
}


@dataclasses.dataclass(frozen=True)
class Scanner:
    """One scanner's look.

    Attributes:
        name: id stored in ``cases.csv`` metadata and returned by the in-memory API.
        contrast: multipliers of :data:`PALETTE` entries (e.g. darker myocardium at 3 T).
        noise: Rician noise sigma relative to blood signal.
        shading: strength of the coil sensitivity profile (0 = flat).
        gamma: exponent applied to the noisy magnitude.
        scale: blood signal in stored units before windowing.
        window: ``None`` (store magnitudes) or ``(low, high_percentile)``: values below
            ``low`` x blood become 0 and the ``high_percentile`` becomes 255 (8-bit export).
    """

    name: str
    contrast: dict
    noise: float
    shading: float
    gamma: float
    scale: float
    window: tuple | None = None


SCANNERS = {
    "A": Scanner("A", {}, noise=0.05, shading=0.30, gamma=1.0, scale=160.0,
                 window=(0.08, 99.8)),
    "B": Scanner("B", {"myocardium": 0.95, "fat": 1.1, "liver": 0.9}, noise=0.035,
                 shading=0.55, gamma=1.1, scale=160.0, window=(0.10, 99.5)),
    "C": Scanner("C", {"myocardium": 0.95, "fat": 0.85, "muscle": 1.2}, noise=0.065,
                 shading=0.2, gamma=0.9, scale=900.0),
    "D": Scanner("D", {"myocardium": 1.05}, noise=0.05, shading=0.35, gamma=1.0,
                 scale=160.0, window=(0.12, 99.7)),
}


@dataclasses.dataclass
class Look:
    """One examination on one scanner: the palette and settings after per-patient jitter."""

    scanner: Scanner
    palette: dict
    noise: float
    shading_gradient: np.ndarray  # (3,) per 100 mm in body coordinates
    gamma: float
    scale: float
    window_low: float


#: Per-patient spread of each tissue's signal (log-uniform factor range). The heart's
#: contrast stays within what real scans show (blood 3-5 times the myocardium); the
#: other tissues vary more, as they do between patients (liver iron and fat, breathing,
#: flip angle) and so that a model trained on these images learns the heart's shape and
#: context rather than the exact grey of the liver.
SPREAD = {
    "blood": (1.0, 1.0), "myocardium": (0.75, 1.35), "fat": (0.6, 1.2),
    "muscle": (0.5, 2.0), "liver": (0.6, 2.0), "spleen": (0.6, 1.8), "lung": (0.5, 2.5),
    "vessel": (0.7, 1.2), "mediastinum": (0.5, 2.5), "marrow": (0.6, 1.6),
    "csf": (0.7, 1.1),
}


def examination(rng: np.random.Generator, scanner: Scanner) -> Look:
    """Draw the per-patient variation of ``scanner``'s settings."""
    palette = {}
    for tissue, value in PALETTE.items():
        low, high = SPREAD[tissue]
        jitter = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        palette[tissue] = value * scanner.contrast.get(tissue, 1.0) * jitter
    direction = rng.normal(size=3)
    direction[1] = abs(direction[1]) + 1.0  # anterior (chest coil) is brighter
    direction /= np.linalg.norm(direction)
    window_low = scanner.window[0] * rng.uniform(0.7, 1.4) if scanner.window else 0.0
    return Look(scanner=scanner, palette=palette,
                noise=scanner.noise * rng.uniform(0.7, 1.4),
                shading_gradient=direction * scanner.shading * rng.uniform(0.6, 1.4),
                gamma=scanner.gamma * rng.uniform(0.93, 1.07),
                scale=scanner.scale * rng.uniform(0.8, 1.25), window_low=window_low)


def acquire(signal: np.ndarray, body_xyz, look: Look, rng: np.random.Generator):
    """Turn a tissue signal image into a stored MR image.

    Args:
        signal: ``(rows, cols, slices)`` float32 tissue signal (blood = 1).
        body_xyz: body coordinates (mm) of every pixel, three arrays shaped like
            ``signal``, for the coil profile.
        look: the examination's settings.
        rng: random generator for the noise.

    Returns:
        float32 array like ``signal`` holding whole numbers >= 0.
    """
    g = look.shading_gradient / 100.0
    shading = np.exp(body_xyz[0] * np.float32(g[0]) + body_xyz[1] * np.float32(g[1])
                     + body_xyz[2] * np.float32(g[2]))
    image = signal * shading
    sigma = np.float32(look.noise)
    real = image + sigma * rng.standard_normal(image.shape, dtype=np.float32)
    imag = sigma * rng.standard_normal(image.shape, dtype=np.float32)
    image = np.sqrt(real * real + imag * imag)
    if look.gamma != 1.0:
        image = image ** np.float32(look.gamma)
    if look.scanner.window is not None:
        low = np.float32(look.window_low)
        high = np.percentile(image, look.scanner.window[1])
        image = np.clip((image - low) * np.float32(255.0 / max(high - low, 1e-3)), 0, 255)
    else:
        image = image * np.float32(look.scale)
    return np.round(image).astype(np.float32)
