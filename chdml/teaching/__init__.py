"""Reference code that exists only for teaching: what the workshop exercises ask students to write.

One module per topic, owned by the workshop that teaches it:

- :mod:`chdml.teaching.basics` (workshop 1): ``conv2d``, the NumPy losses
  (``mean_squared_error``, ``binary_crossentropy``, ``categorical_crossentropy``),
  ``iterate_batches`` and ``steps_per_epoch``.

The autograder's check modules compare students' answers with these functions. Importing
this package is cheap: the topic modules use NumPy only and are imported when needed.
"""
