"""Data layer: synthetic CHD cine MRI, NIfTI storage, public datasets, DICOM, cleaning,
preprocessing and patient-level splitting."""
