"""Synthetic paediatric CHD cine MRI: the built-in data of every workshop and test.

Each synthetic patient has a phenotype (:data:`PHENOTYPES`: normal, dilated RV as after
tetralogy of Fallot repair, hypertrophied RV, single ventricle, dilated cardiomyopathy),
a body size, a 3-D heart that contracts from end-diastole (ED) to end-systole (ES), and
a "scanner" (:data:`SCANNERS`) that sets contrast, noise, coil shading and stored
intensity range. Images look like balanced SSFP cine: bright blood, dark myocardium,
bright fat, mid-grey liver, dark lungs, papillary muscles and trabeculae, partial volume,
Rician noise.

Labels everywhere: 0 background, 1 left-ventricular (LV) blood pool, 2 LV myocardium,
3 right-ventricular (RV) blood pool. Papillary muscles and trabeculae inside a cavity
count as blood pool, as clinicians usually contour them. In a single ventricle the
dominant ventricle is labelled 1 (its wall 2) whatever its morphology; a rudimentary
outlet chamber, when present, is labelled 3. The RV wall, atria and great arteries are
background.

Entry points:

* :func:`main` (``chdml data synth --out DIR``): a NIfTI dataset folder; volumes are
  ``(rows, cols, slices)``, short-axis slice 0 at the base, long-axis views
  ``(rows, cols, 1)``; images float32 whole numbers in the scanner's units (0-255 for
  scanner "D", larger for others), labels uint8.
* :func:`short_axis_slices`: labelled 2-D short-axis slices in memory, images
  ``(N, size, size, 1)`` float32 in [0, 1], masks ``(N, size, size)`` uint8.
* :func:`view_images`: view classification in memory (short vs long axis, or the ten
  views of :data:`TEN_VIEWS` at 28 x 28), images ``(N, size, size, 1)`` in [0, 1].
* :func:`make_patient`: one patient's study as arrays.

Everything is seeded: the same seed gives the same arrays and byte-identical files, and
patient ``i`` of a seed does not depend on how many patients are made.
"""
from chdml.data.synth.appearance import SCANNERS
from chdml.data.synth.arrays import (BINARY_CLASSES, SliceSet, ViewSet, short_axis_slices,
                                     view_images)
from chdml.data.synth.patient import make_patient
from chdml.data.synth.phenotypes import PHENOTYPES
from chdml.data.synth.views import TEN_VIEWS
from chdml.data.synth.writer import main

__all__ = ["main", "short_axis_slices", "view_images", "make_patient", "SliceSet",
           "ViewSet", "PHENOTYPES", "SCANNERS", "TEN_VIEWS", "BINARY_CLASSES"]
