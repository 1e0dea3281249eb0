"""Dirty sets of 2-D slices for the "cleaning data" exercise of workshop 2.

:func:`inject_problems` breaks chosen slices of a clean set in the ways real exports
break (NaN or infinite pixels, empty or constant images, a wrong image size, a copied
slice, a mask that does not fit its image) and adds harmless look-alikes that must *not*
be dropped (an empty mask, a very dark image, an image whose values sum to 0, a slice
that differs from another in one small patch). The reference that decides which slices
are broken is :func:`chdml.data.check.find_broken_cases`; :func:`blob_slices` makes cheap
clean slices for the checks.

Layout: a set is a list of 2-D images ``(H, W)`` float32 and a list of masks ``(H, W)``
uint8 (or ``None`` for a set without masks).
"""
from __future__ import annotations

import numpy as np

from chdml.teaching.storing import blob_volume, label_volume

#: Problems that make a slice broken (the reference drops it).
BROKEN = ("nan", "inf", "empty", "constant", "wrong_shape", "duplicate", "mask_shape",
          "mask_fraction")

#: Look-alikes that are fine (the reference keeps them).
HARMLESS = ("empty_mask", "dark", "zero_sum", "near_duplicate")


def blob_slices(rng: np.random.Generator, n: int, shape=(24, 24)) -> tuple[list, list]:
    """``n`` distinct clean slices (float32 in [0, ~1]) and their masks (uint8 0-3)."""
    images = [(blob_volume(rng, shape) / 1000.0).astype(np.float32) for _ in range(n)]
    masks = [label_volume(rng, tuple(shape) + (1,))[:, :, 0] for _ in range(n)]
    return images, masks


def inject_problems(images, masks, problems: dict[int, str], rng: np.random.Generator
                    ) -> tuple[list, list | None]:
    """Copies of ``images`` and ``masks`` with ``problems`` ``{index: name}`` applied.

    Names are those of :data:`BROKEN` and :data:`HARMLESS`. ``"duplicate"`` and
    ``"near_duplicate"`` copy the nearest earlier slice that has no problem of its own
    (two or more places back when possible, so that checking only neighbours misses it).
    ``masks`` may be None (then mask problems are not allowed).
    """
    images = [np.array(image, dtype=np.float32, copy=True) for image in images]
    masks = None if masks is None else [np.array(mask, copy=True) for mask in masks]
    for index, problem in sorted(problems.items()):
        image = images[index]
        if problem == "nan":
            image[tuple(rng.integers(0, s) for s in image.shape)] = np.nan
        elif problem == "inf":
            image[tuple(rng.integers(0, s) for s in image.shape)] = np.inf
        elif problem == "empty":
            images[index] = np.zeros_like(image)
        elif problem == "constant":
            images[index] = np.full_like(image, float(rng.uniform(0.5, 1.0)))
        elif problem == "wrong_shape":
            rows, columns = image.shape
            images[index] = np.resize(image, (rows + int(rng.integers(2, 6)), columns))
            if masks is not None:
                masks[index] = np.resize(masks[index], images[index].shape)
        elif problem in ("duplicate", "near_duplicate"):
            sources = [j for j in range(index) if j not in problems]
            source = next((j for j in reversed(sources) if j <= index - 2), sources[-1])
            images[index] = images[source].copy()
            if problem == "near_duplicate":
                images[index][:4, :4] += 0.25
            if masks is not None:
                masks[index] = masks[source].copy()
        elif problem == "mask_shape":
            masks[index] = masks[index][:-3, :]
        elif problem == "mask_fraction":
            masks[index] = masks[index].astype(np.float32)
            masks[index][masks[index] > 0] -= 0.5
        elif problem == "empty_mask":
            masks[index] = np.zeros_like(masks[index])
        elif problem == "dark":
            images[index] = images[index] * np.float32(0.002)
        elif problem == "zero_sum":
            half = image.size // 2
            values = (rng.integers(1, 9, half) / 8).astype(np.float32)  # sums are exact
            flat = np.concatenate([values, -values, np.zeros(image.size - 2 * half,
                                                             dtype=np.float32)])
            images[index] = rng.permutation(flat).reshape(image.shape)
        else:
            raise ValueError(f"unknown problem {problem!r}; choose from {BROKEN + HARMLESS}")
    return images, masks


def dirty_set(rng: np.random.Generator, n: int, problems: dict[int, str], shape=(24, 24),
              with_masks: bool = True) -> dict:
    """``{"images": [...], "masks": [...] or None}``: :func:`blob_slices` with problems."""
    images, masks = blob_slices(rng, n, shape)
    images, masks = inject_problems(images, masks if with_masks else None, problems, rng)
    return {"images": images, "masks": masks}
