"""Intensity shift between scanners: ``intensity_shift(images, scanners, reference_scanner)``
returns ``{"mean_intensity": {scanner: mean}, "shifted": [scanner ids]}``.

``mean_intensity`` holds the mean of all pixels of each scanner's images; a scanner is
*shifted* when its mean differs from the reference scanner's (the one the model was
trained on) by more than 20 % of the reference mean, brighter or darker. Reference:
:func:`chdml.teaching.pitfalls.intensity_shift`. The images are synthetic short-axis
slices (:func:`chdml.data.synth.short_axis_slices`, 32 x 32, each scaled to [0, 1]) from
the generator's "scanners" A-D, which differ in contrast and brightness as real scanners
do; some cases also change one scanner's gain by hand.

Typical beginner mistakes the hidden cases catch:
- only brighter scanners flagged (the difference taken without ``abs``);
- the reference being the mean of *all* images instead of the
  reference scanner's (a minority reference scanner that is not listed first);
- every scanner that differs at all flagged (no tolerance), or an absolute tolerance of
  0.2 intensity units instead of 20 % of the reference mean;
- the mean of one image per scanner instead of all of its images;
- the reference scanner itself listed as shifted.
Accepted: scanner ids as Python or NumPy strings; ``shifted`` as a list, set or array in
any order; the mean of per-image means (all images have the same size).
"""
from functools import lru_cache

import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.pitfalls import intensity_shift

TOLERANCE = 0.2
MARGIN = 0.03
"""Cases are redrawn until every scanner's relative difference is this far from 20 %."""


@lru_cache(maxsize=32)
def _slices(scanner: str, seed: int) -> np.ndarray:
    from chdml.data.synth import short_axis_slices

    return short_axis_slices(2, size=32, seed=seed, phases="ED", scanners=[scanner]).images


def _set(rng, counts: dict, gains: dict | None = None):
    """Images of each scanner (``counts[scanner]`` slices), optionally scaled by a gain."""
    images, scanners = [], []
    for scanner, count in counts.items():
        pool = _slices(scanner, int(rng.integers(0, 40)))
        chosen = pool[rng.choice(len(pool), size=min(count, len(pool)), replace=False)]
        images.append(np.clip(chosen * (gains or {}).get(scanner, 1.0), 0, None))
        scanners += [scanner] * len(chosen)
    order = rng.permutation(len(scanners))
    return np.concatenate(images)[order].astype(np.float32), np.array(scanners)[order]


def _clear(images, scanners, reference) -> bool:
    """No scanner sits within MARGIN of the tolerance (so rounding cannot decide)."""
    means = {s: images[scanners == s].mean() for s in np.unique(scanners)}
    base = means[reference]
    return all(abs(abs(mean - base) / base - TOLERANCE) > MARGIN for mean in means.values())


def _draw(rng, counts, reference, gains=None, want=None):
    """Draw until the case is clear-cut and (if ``want``) its answer is ``want``."""
    for _ in range(200):
        images, scanners = _set(rng, counts, gains)
        if not _clear(images, scanners, reference):
            continue
        found = intensity_shift(images, scanners, reference, TOLERANCE)["shifted"]
        if want is None or want(found):
            return {"images": images, "scanners": [str(s) for s in scanners],
                    "reference_scanner": reference}
    raise RuntimeError("could not draw a clear-cut scanner case; widen the seeds")


def cases(rng: np.random.Generator) -> list[Case]:
    natural = _draw(rng, {"A": 12, "B": 12, "C": 12}, "A")
    darker = _draw(rng, {"D": 12, "B": 12}, "D", want=lambda found: found == ["B"])
    minority = _draw(rng, {"B": 24, "C": 6, "D": 20}, "C")
    gain = _draw(rng, {"A": 10, "D": 10}, "A", gains={"D": 1.5},
                 want=lambda found: found == ["D"])
    none = _draw(rng, {"A": 10, "D": 10}, "D", want=lambda found: found == [])
    return [
        Case("scanners A (the training scanner), B and C", public=True, points=1,
             inputs=natural),
        Case("a darker scanner", public=False, points=1, inputs=darker,
             hint="Shifted means brighter OR darker: compare abs(mean - reference mean) "
                  "with 20 % of the reference mean."),
        Case("a reference scanner with few images, not listed first", public=False,
             points=1, inputs=minority,
             hint="Compare each scanner with the reference scanner's own mean, not with "
                  "the mean of all images."),
        Case("a scanner whose gain was turned up by half", public=False, points=1,
             inputs=gain),
        Case("two scanners that look alike", public=False, points=1, inputs=none,
             hint="Small differences are normal: only more than 20 % counts as a shift."),
    ]


EXERCISE = Exercise(
    name="scanner_shift",
    title="Spotting an intensity shift between scanners",
    producer=producers.call("intensity_shift", "images", "scanners", "reference_scanner"),
    reference=lambda inputs: intensity_shift(inputs["images"], inputs["scanners"],
                                             inputs["reference_scanner"], TOLERANCE),
    compare=compare.dicts(mean_intensity=compare.dicts(default=compare.number(atol=1e-5)),
                          shifted=compare.sets()),
    cases=cases,
    hint="For each scanner s: images[scanners == s].mean(); shifted when "
         "abs(mean - reference mean) > 0.2 * reference mean.",
)
