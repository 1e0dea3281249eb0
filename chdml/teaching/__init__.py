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

The autograder's check modules compare students' answers with these functions. Importing
this package is cheap: the topic modules use NumPy only and are imported when needed.
"""
