"""chdml: machine learning for congenital heart disease (CHD) cardiac MRI.

A course kit (four workshop notebooks with instant self-checks and an autograder) and a
library for clinicians: prepare NIfTI data, train reference models, read clinical
numbers off the result. Importing ``chdml`` is cheap: nothing heavy (TensorFlow) is
loaded until a submodule that needs it is used.
"""
__version__ = "0.1.0"


def grader(workshop: str):
    """The self-check for a workshop notebook: ``grader = chdml.grader("workshop1")``.

    Returns an otter-grader ``Notebook``; ``grader.check("<exercise>")`` runs that
    exercise's public cases and says, for each one that fails, what was given, what was
    expected, what came back and a hint. The tests ship inside the installed package, so
    this works the same in Colab, Jupyter and JupyterLab.
    """
    from chdml.grading.selfcheck import grader as make_grader

    return make_grader(workshop)
