"""Reference code that exists only for teaching: what the workshop exercises ask students to write.

One module per topic, owned by the workshop that teaches it:

- :mod:`chdml.teaching.basics` (workshop 1): ``conv2d``, the NumPy losses
  (``mean_squared_error``, ``binary_crossentropy``, ``categorical_crossentropy``),
  ``iterate_batches`` and ``steps_per_epoch``.
- :mod:`chdml.teaching.logistic` (workshop 2): one-measurement classes and the
  maximum-likelihood sigmoid unit (``logistic_result``).
- :mod:`chdml.teaching.storing` (workshop 2): NIfTI and DICOM files as bytes for the
  storing checks, and their reference readings.
- :mod:`chdml.teaching.cleaning` (workshop 2): dirty sets of slices (``inject_problems``).
- :mod:`chdml.teaching.curves` (workshop 3): ``best_epoch`` and ``overfits`` from a
  training history, and ``early_stopping_callbacks``.
- :mod:`chdml.teaching.augmentation` (workshop 3): ``rotate_and_zoom`` and
  ``augment_example`` (image and mask moved together, label kept).
- :mod:`chdml.teaching.pitfalls` (workshop 3): ``leaked_patients``, ``imbalance_report``
  and ``intensity_shift``.
- :mod:`chdml.teaching.segmentation` (workshop 4): structure names, the per-structure Dice
  reference and a helper that rebuilds one patient's short-axis stack.

The autograder's check modules compare students' answers with these functions; library code
that is useful outside the workshops lives in the rest of :mod:`chdml`. Importing this
package is cheap: the topic modules are imported when needed.
"""
