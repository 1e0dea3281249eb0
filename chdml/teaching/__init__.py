"""Reference code that exists only for teaching: one module per workshop topic.

Each module is the reference of a workshop exercise that has no home elsewhere in
chdml (the checks in ``autograder/<workshop>/`` import it); library functions that
users call for real work live in :mod:`chdml.data`, :mod:`chdml.metrics` and
:mod:`chdml.models`.
"""
