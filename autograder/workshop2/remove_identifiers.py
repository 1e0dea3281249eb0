"""De-identifying DICOM: ``remove_identifiers(dataset)`` returns a copy without identifiers.

Judged by :func:`chdml.data.dicom.find_identifying` (the reference check behind
:func:`chdml.data.dicom.deidentify`): no non-empty patient name, ID, birth date, sex,
age, address, telephone number, other IDs or names, institution, station, device serial
number, accession number or study ID; no element with a date, time or person's name
anywhere, also inside sequences; no private element. The slice must keep its modality,
size, geometry, rescale values and pixel data unchanged (so deleting everything fails).
The kernel reads the case's DICOM file with pydicom, calls the function, writes the result
back and sends the bytes; the grader reads them itself.

Typical beginner mistakes the hidden cases catch:
- only name and ID removed: birth date, dates, times and the referring physician stay
  (every case);
- private tags kept (every case: one holds the patient's name) or only the one private
  group seen in the notebook removed (a hidden slice has a second vendor's group);
- a loop over the top level only: a hidden slice has a ``ScheduledProcedureStepSequence``
  whose item holds a physician's name and a date (``dataset.walk`` visits sequences);
- a short hand-made list of tags: a hidden slice also has the patient's address,
  telephone number, other names and ethnic group (use the lists in chdml.data.dicom);
- removing by value (the notebook's made-up name): hidden slices use other identities;
- removing too much (pixel data, geometry, or the whole dataset).
Accepted alternatives: deleting or blanking (empty value) identifying elements; changing
the dataset in place and returning it or None; replacing UIDs or not.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.storing import (blob_volume, dicom_slice_bytes, random_identity,
                                    reference_deidentified)

def _slice(rng, **extras) -> dict:
    image = blob_volume(rng, (int(rng.integers(12, 20)), int(rng.integers(12, 20))))
    spacing = (float(rng.uniform(1.2, 1.8)),) * 2 + (8.0,)
    return {"dicom": dicom_slice_bytes(image, spacing, identity=random_identity(rng),
                                       seed=int(rng.integers(1000)), **extras)}


def cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("a cine slice with the practice series' made-up identifiers", public=True,
             points=1,
             inputs={"dicom": dicom_slice_bytes(blob_volume(rng, (16, 14)), (1.5, 1.5, 8.0))}),
        Case("another patient's slice (other name, ID and dates)", public=False, points=1,
             inputs=_slice(rng),
             hint="Remove elements by their kind (tag name or VR), never by their value."),
        Case("a slice with identifiers inside a sequence", public=False, points=1,
             inputs=_slice(rng, nested=True),
             hint="Identifiers can hide inside sequences: dataset.walk(callback) visits "
                  "every element, sequences included."),
        Case("a slice with a second vendor's private tags", public=False, points=1,
             inputs=_slice(rng, extra_private=True),
             hint="dataset.remove_private_tags() removes every private element."),
        Case("a slice with address, telephone number and other names", public=False,
             points=1, inputs=_slice(rng, extra_identifiers=True),
             hint="Use the full lists chdml.data.dicom.BLANK_TAGS and REMOVE_TAGS, and "
                  "remove every element whose VR is DA, DT, TM or PN."),
    ]


EXERCISE = Exercise(
    name="remove_identifiers",
    title="Removing patient identifiers from DICOM",
    producer=producers.dicom_dataset("remove_identifiers", data="dicom"),
    reference=lambda inputs: reference_deidentified(inputs["dicom"]),
    compare=compare.dicom_deidentified(),
    cases=cases,
    hint="Copy the dataset, remove private tags, then walk every element (sequences too) "
         "and delete those named in BLANK_TAGS or REMOVE_TAGS or with VR DA, DT, TM or PN.",
)
