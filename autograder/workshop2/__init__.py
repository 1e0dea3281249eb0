"""Checks of workshop 2, "A classification task in CHD" (short-axis view or not).

One module per exercise, in notebook order. See ``autograder/README.md`` for the contract
and each module's docstring for the beginner mistakes its hidden cases catch.
"""
WORKSHOP = "workshop2"
EXERCISES = ["logistic_regression", "read_nifti", "save_mask", "remove_identifiers",
             "dicom_to_nifti", "find_broken", "preprocess", "split_by_patient",
             "build_classifier", "assess", "view_classifier"]
