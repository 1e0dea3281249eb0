"""Reference code that exists only for teaching: what the workshop exercises ask students to write.

One module per topic, owned by the workshop that teaches it:

- :mod:`chdml.teaching.basics` (workshop 1): ``conv2d``, the NumPy losses
  (``mean_squared_error``, ``binary_crossentropy``, ``categorical_crossentropy``),
  ``iterate_batches`` and ``steps_per_epoch``.
- :mod:`chdml.teaching.curves` (workshop 3): ``best_epoch`` and ``overfits`` from a
  training history, and ``early_stopping_callbacks``.
- :mod:`chdml.teaching.augmentation` (workshop 3): ``rotate_and_zoom`` and
  ``augment_example`` (image and mask moved together, label kept).
- :mod:`chdml.teaching.pitfalls` (workshop 3): ``leaked_patients``, ``imbalance_report``
  and ``intensity_shift``.

The autograder's check modules compare students' answers with these functions. Importing
this package is cheap: the topic modules use NumPy only and are imported when needed.
"""
