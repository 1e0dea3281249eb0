"""The grading engine: checks written once, instant self-check, batch grading.

Each exercise's check lives in ``autograder/<workshop>/<exercise>.py`` (see
``autograder/README.md``). From it:

- :mod:`chdml.grading.spec` loads the check modules and draws the seeded public and hidden
  case streams;
- :mod:`chdml.grading.producers` (run in the student's kernel) *produce* the student's
  values on a case's inputs;
- :mod:`chdml.grading.compare` (run in the grader, or in the kernel for public self-checks)
  *judges* them against the reference;
- :mod:`chdml.grading.messages` writes what a beginner reads (given / expected / got / hint);
- :mod:`chdml.grading.selfcheck` is the student side: ``chdml.grader("<workshop>")``;
- :mod:`chdml.grading.build` makes ``release/`` and the self-check data and proves them;
- :mod:`chdml.grading.batch` grades a folder of returned notebooks.

Nothing here imports TensorFlow at import time.
"""
