"""chdml: machine learning for congenital heart disease (CHD) cardiac MRI.

A course kit (four workshop notebooks with instant self-checks and an autograder) and a
library for clinicians: prepare NIfTI data, train reference models, read clinical
numbers off the result. Importing ``chdml`` is cheap: nothing heavy (TensorFlow) is
loaded until a submodule that needs it is used.
"""
__version__ = "0.1.0"
