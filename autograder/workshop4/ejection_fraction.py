"""Ejection fraction: ``ejection_fraction(edv, esv)`` in percent.

``edv`` and ``esv`` are the end-diastolic and end-systolic volumes of one ventricle in mL;
``EF = (EDV - ESV) / EDV x 100``. Reference: :func:`chdml.metrics.ejection_fraction`;
judged within 1 % (``rtol=0.01``).

Typical beginner mistakes the hidden cases catch:
- a fraction instead of a percentage (0.55 instead of 55): every case;
- swapped phases (``(ESV - EDV) / ...``: a negative EF) or dividing by the ESV: every
  case;
- integer division with whole-number volumes (``(edv - esv) // edv * 100`` gives 0):
  "whole-number volumes";
- the stroke volume (EDV - ESV in mL) instead of the EF.
Accepted alternatives: Python or NumPy numbers; ``100 * (1 - esv / edv)``.
"""
import numpy as np

from chdml import metrics
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise


def cases(rng: np.random.Generator) -> list[Case]:
    child_edv = round(float(rng.uniform(35, 60)), 1)
    tetralogy_edv = round(float(rng.uniform(180, 260)), 1)
    whole_edv = int(rng.integers(90, 140))
    return [
        Case("EDV 150 mL, ESV 60 mL", public=True, points=1,
             inputs={"edv": 150.0, "esv": 60.0},
             hint="EF (%) = (EDV - ESV) / EDV x 100."),
        Case("whole-number volumes (int)", public=False, points=1,
             inputs={"edv": whole_edv, "esv": int(whole_edv * rng.uniform(0.35, 0.5))},
             hint="Use / (true division), not //, and multiply by 100."),
        Case("a small child's LV", public=False, points=1,
             inputs={"edv": child_edv, "esv": round(child_edv * float(rng.uniform(0.3, 0.45)), 1)},
             hint="EF is a percentage of the end-diastolic volume."),
        Case("a dilated RV after tetralogy repair with a reduced EF", public=False, points=1,
             inputs={"edv": tetralogy_edv,
                     "esv": round(tetralogy_edv * float(rng.uniform(0.55, 0.65)), 1)},
             hint="End-diastole (the largest volume) comes first: (EDV - ESV) / EDV x 100."),
    ]


EXERCISE = Exercise(
    name="ejection_fraction",
    title="Ejection fraction",
    producer=producers.call("ejection_fraction", "edv", "esv"),
    reference=lambda inputs: metrics.ejection_fraction(inputs["edv"], inputs["esv"]),
    compare=compare.number(atol=1e-6, rtol=0.01),
    cases=cases,
    hint="Return (edv - esv) / edv * 100: a percentage, with end-diastole first.",
)
