"""Do workshop 2's checks pass right answers and catch the mistakes their docstrings name?

Every answer below goes through the same machinery as a graded notebook: the exercise's
producer runs it on each case's inputs (public and hidden, drawn with several grading
salts), the exercise's comparison judges it against the reference. "Right answers" are
the solution cells of ``source/workshop2/workshop2.ipynb`` themselves (read from the
notebook, so the tests follow the notebook) and the legitimate alternatives the module
docstrings accept; each named mistake must fail at least one case.
"""
from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path

import nbformat
import numpy as np
import pytest

from chdml.grading.spec import draw_cases, load_workshop

ROOT = Path(__file__).resolve().parents[2]
WORKSHOP = ROOT / "autograder" / "workshop2"
NOTEBOOK = ROOT / "source" / "workshop2" / "workshop2.ipynb"
SALTS = ("", "salt-a", "salt-b")


@lru_cache(maxsize=1)
def workshop():
    return load_workshop(WORKSHOP)


@lru_cache(maxsize=None)
def drawn(exercise: str, salt: str):
    return tuple(draw_cases("workshop2", workshop().exercises[exercise], salt=salt))


def results(exercise: str, namespace: dict, salts=SALTS) -> list[tuple[str, bool, bool, str]]:
    """``(description, public, passed, what came back)`` for every case and salt."""
    ex = workshop().exercises[exercise]
    out = []
    for salt in salts:
        for case in drawn(exercise, salt):
            got = ex.producer(namespace, case.case.inputs)
            verdict = ex.compare(got, case.expected, case.case.inputs)
            out.append((case.case.description, case.public, verdict.passed, verdict.got))
    return out


def assert_all_pass(exercise: str, namespace: dict, salts=SALTS) -> None:
    failed = [r for r in results(exercise, namespace, salts) if not r[2]]
    assert not failed, failed[:3]


def assert_caught(exercise: str, namespace: dict, salts=SALTS, hidden_only=False) -> None:
    """The answer fails some case with every salt (only hidden ones if ``hidden_only``)."""
    for salt in salts:
        outcome = results(exercise, namespace, (salt,))
        failed = [r for r in outcome if not r[2]]
        assert failed, f"not caught with salt {salt!r}"
        if hidden_only:
            assert all(r[2] for r in outcome if r[1]), "a public case fails too"


# ------------------------------------------------------------------ the notebook's answers
def _cell_source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


@lru_cache(maxsize=1)
def _notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def notebook_namespace() -> dict:
    """The setup cell (without the grader) and every solution cell that defines functions."""
    namespace: dict = {}
    cells = _notebook().cells
    setup = next(c for c in cells if c.get("id") == "setup")
    # without the grader and IPython magics (%matplotlib inline)
    exec(re.sub(r"^(grader = .*|%.*)$", "", _cell_source(setup), flags=re.M), namespace)
    for cell in cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code" \
                and _cell_source(cell).lstrip().startswith("def "):
            exec(_cell_source(cell), namespace)
    return namespace


def variant(name: str, source: str) -> dict:
    """A namespace with the notebook's imports and one function defined by ``source``."""
    namespace = notebook_namespace()
    exec(source, namespace)
    assert callable(namespace[name])
    return namespace


def test_does_every_check_cell_carry_the_points_of_its_cases():
    from chdml.grading.spec import total_points

    points = {}
    for cell in _notebook().cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            name = re.match(r'grader\.check\("(\w+)"\)', _cell_source(cell)).group(1)
            points[name] = meta["points"]
    assert list(points) == list(workshop().exercises)
    for name, exercise in workshop().exercises.items():
        assert points[name] == total_points(exercise)


def test_are_public_cases_independent_of_the_salt():
    for name in workshop().exercises:
        if name == "view_classifier":
            continue
        first = [c.case.description for c in drawn(name, "") if c.public]
        assert first == [c.case.description for c in drawn(name, "salt-a") if c.public]


# ------------------------------------------------------------------ 1 logistic regression
ADAM_FIT = '''
def adam_fit(x, y, learning_rate, steps, batch=10, seed=0, weight=0.5):
    """One sigmoid unit trained with Adam on batches, like Keras' fit (NumPy, fast)."""
    rng = np.random.default_rng(seed)
    x = np.ravel(x).astype(float); y = np.ravel(y).astype(float)
    params = np.array([weight, 0.0]); m = np.zeros(2); v = np.zeros(2)
    for step in range(1, steps + 1):
        pick = rng.choice(x.size, batch, replace=False)
        p = 1 / (1 + np.exp(-(params[0] * x[pick] + params[1])))
        grad = np.array([np.mean((p - y[pick]) * x[pick]), np.mean(p - y[pick])])
        m = 0.9 * m + 0.1 * grad; v = 0.999 * v + 0.001 * grad ** 2
        params -= learning_rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-7)
    return params

def probabilities(params, x):
    return 1 / (1 + np.exp(-(params[0] * np.ravel(x) + params[1])))
'''


def logistic_variant(body: str) -> dict:
    return variant("fit_sigmoid_unit", ADAM_FIT + "\ndef fit_sigmoid_unit(x, y):\n" + body)


CORRECT_NUMPY_FIT = '''
    w, b = adam_fit(x, y, 0.1, 200)
    p = probabilities((w, b), x)
    return {"boundary": -b / w, "accuracy": np.mean((p > 0.5) == y), "model": None}
'''


def test_does_a_converged_sigmoid_unit_pass():
    assert_all_pass("logistic_regression", logistic_variant(CORRECT_NUMPY_FIT))


def test_does_p_at_least_one_half_pass_too():
    assert_all_pass("logistic_regression", logistic_variant(
        CORRECT_NUMPY_FIT.replace("(p > 0.5)", "(p >= 0.5)")))


@pytest.mark.parametrize("mistake, body", [
    ("sign of the boundary", CORRECT_NUMPY_FIT.replace('"boundary": -b / w', '"boundary": b / w')),
    ("no threshold", CORRECT_NUMPY_FIT.replace("np.mean((p > 0.5) == y)", "np.mean(p == y)")),
    ("threshold 0", CORRECT_NUMPY_FIT.replace("(p > 0.5)", "(p > 0)")),
    ("too little training", CORRECT_NUMPY_FIT.replace("adam_fit(x, y, 0.1, 200)",
                                                      "adam_fit(x, y, 0.001, 200)")),
    ("no sigmoid (a linear unit)", '''
    w, b = np.polyfit(np.ravel(x), np.ravel(y), 1)
    return {"boundary": -b / w, "accuracy": np.mean(((w * x + b) > 0.5) == y)}
'''),
    ("class 1 assumed on the right", '''
    w, b = adam_fit(x, y, 0.1, 200)
    grid = np.linspace(-5, 5, 1001)
    boundary = grid[np.argmax(probabilities((w, b), grid) > 0.5)]
    return {"boundary": boundary, "accuracy": np.mean((probabilities((w, b), x) > 0.5) == y)}
'''),
    ("numbers copied from the notebook", '''
    return {"boundary": -0.08, "accuracy": 0.7}
'''),
])
def test_is_a_logistic_regression_mistake_caught(mistake, body):
    assert_caught("logistic_regression", logistic_variant(body),
                  hidden_only=mistake == "class 1 assumed on the right")


def test_is_the_hidden_boundary_away_from_zero_so_a_sign_error_shows():
    from chdml.teaching.logistic import logistic_result

    for salt in SALTS:
        hidden = [c for c in drawn("logistic_regression", salt) if not c.public]
        assert min(abs(logistic_result(c.case.inputs["x"], c.case.inputs["y"])["boundary"])
                   for c in hidden[:1] + hidden[2:]) >= 0.3


@pytest.mark.slow
def test_does_the_notebooks_keras_solution_pass_on_many_draws():
    namespace = notebook_namespace()
    namespace["keras"].utils.set_random_seed(1)
    assert_all_pass("logistic_regression", namespace, salts=("", "salt-a"))


# ------------------------------------------------------------------ 2 read_nifti
READ = '''
def read_nifti(path):
    image = nib.load(path)
    return {body}
'''


def read_variant(body: str) -> dict:
    return variant("read_nifti", READ.format(body=body))


def test_does_the_notebooks_reader_pass():
    assert_all_pass("read_nifti", notebook_namespace())


@pytest.mark.parametrize("body", [
    "image.get_fdata(), list(image.header.get_zooms()[:3]), image.header.get_best_affine()",
    "np.asanyarray(image.dataobj).astype(np.float32), np.array(image.header.get_zooms()), "
    "image.get_sform()",
    "{'array': image.get_fdata(), 'spacing': image.header.get_zooms(), 'affine': image.affine}",
])
def test_are_other_ways_of_reading_accepted(body):
    assert_all_pass("read_nifti", read_variant(body))


def test_does_the_reference_loader_itself_pass():
    namespace = variant("read_nifti", "def read_nifti(path):\n"
                        "    volume = nifti.load_image(path)\n"
                        "    return volume.array, volume.spacing, volume.affine\n")
    assert_all_pass("read_nifti", namespace)


@pytest.mark.parametrize("mistake, body, hidden_only", [
    ("spacing from the affine's diagonal",
     "image.get_fdata(), np.abs(np.diag(image.affine)[:3]), image.affine", True),
    ("spacing from pixdim[:3]", "image.get_fdata(), image.header['pixdim'][:3], image.affine",
     False),
    ("stored numbers without scale factors",
     "image.dataobj.get_unscaled().astype(np.float32), image.header.get_zooms(), image.affine",
     True),
    ("whole numbers kept as integers",
     "np.asarray(image.dataobj), image.header.get_zooms(), image.affine", True),
    ("array transposed", "image.get_fdata().T, image.header.get_zooms(), image.affine", False),
])
def test_is_a_reading_mistake_caught(mistake, body, hidden_only):
    assert_caught("read_nifti", read_variant(body), hidden_only=hidden_only)


# ------------------------------------------------------------------ 3 save_mask
SAVE = '''
def save_mask(mask, image_path, out_path):
    image = nib.load(image_path)
{body}
'''


def save_variant(body: str) -> dict:
    return variant("save_mask", SAVE.format(body=body))


def test_does_the_notebooks_mask_writer_pass():
    assert_all_pass("save_mask", notebook_namespace())


@pytest.mark.parametrize("body", [
    "    nifti.save_label(out_path, np.asarray(mask), affine=image.affine)",
    "    header = image.header.copy()\n    header.set_data_dtype(np.uint8)\n"
    "    nib.save(nib.Nifti1Image(np.asarray(mask).astype(np.uint8), image.affine, header), "
    "out_path)",
])
def test_are_other_ways_of_saving_accepted(body):
    assert_all_pass("save_mask", save_variant(body))


@pytest.mark.parametrize("mistake, body, hidden_only", [
    ("no affine", "    nib.save(nib.Nifti1Image(np.asarray(mask).astype(np.uint8), np.eye(4)), "
                  "out_path)", False),
    ("affine made of the spacing only",
     "    spacing = image.header.get_zooms()[:3]\n"
     "    nib.save(nib.Nifti1Image(np.asarray(mask).astype(np.uint8), "
     "np.diag([*spacing, 1.0])), out_path)", False),
    ("the image's header (float32 labels)",
     "    nib.save(nib.Nifti1Image(np.asarray(mask).astype(np.uint8), image.affine, "
     "image.header), out_path)", False),
    ("a float mask saved as it is",
     "    mask = np.asarray(mask)\n"
     "    nib.save(nib.Nifti1Image(mask if mask.dtype != np.int64 else mask.astype(np.uint8), "
     "image.affine), out_path)", True),
    ("an int64 mask from argmax saved as it is",
     "    mask = np.asarray(mask)\n"
     "    nib.save(nib.Nifti1Image(mask if mask.dtype == np.int64 else mask.astype(np.uint8), "
     "image.affine), out_path)", True),
])
def test_is_a_saving_mistake_caught(mistake, body, hidden_only):
    assert_caught("save_mask", save_variant(body), hidden_only=hidden_only)


def test_is_a_scanner_header_copy_caught_by_the_16_bit_case():
    namespace = save_variant("    mask = np.asarray(mask).astype(np.uint8)\n"
                             "    header = image.header.copy()\n"
                             "    if header.get_data_dtype() == np.float32:\n"
                             "        header.set_data_dtype(np.uint8)\n"
                             "    nib.save(nib.Nifti1Image(mask, image.affine, header), out_path)")
    for salt in SALTS:
        failed = [r[0] for r in results("save_mask", namespace, (salt,)) if not r[2]]
        assert failed == ["a mask for a 16-bit scanner image with a scale factor"]


# ------------------------------------------------------------------ 4 remove_identifiers
DEID = '''
def remove_identifiers(dataset):
    clean = copy.deepcopy(dataset)
{body}
    return clean
'''

FULL_LIST = "set(dicom.BLANK_TAGS) | set(dicom.REMOVE_TAGS)"
WALK = '''
    identifying = {names}
    def remove(item, element):
        if element.keyword in identifying or element.VR in ("DA", "DT", "TM", "PN"):
            del item[element.tag]
    clean.walk(remove)
'''


def deid_variant(body: str) -> dict:
    return variant("remove_identifiers", DEID.format(body=body))


def test_does_the_notebooks_de_identification_pass():
    assert_all_pass("remove_identifiers", notebook_namespace())


@pytest.mark.parametrize("source", [
    # blanking instead of deleting; changing the dataset in place and returning None
    '''
def remove_identifiers(dataset):
    dataset.remove_private_tags()
    identifying = set(dicom.BLANK_TAGS) | set(dicom.REMOVE_TAGS)
    def blank(item, element):
        if element.VR == "SQ":
            return
        if element.keyword in identifying or element.VR in ("DA", "DT", "TM", "PN"):
            element.value = ""
    dataset.walk(blank)
''',
    "def remove_identifiers(dataset):\n    return dicom.deidentify(dataset)\n",
])
def test_are_other_ways_of_de_identifying_accepted(source):
    assert_all_pass("remove_identifiers", variant("remove_identifiers", source))


HAND_LIST = ('{"PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge", '
             '"PatientWeight", "PatientSize", "OtherPatientIDs", "InstitutionName", '
             '"InstitutionAddress", "AccessionNumber", "StudyID", "StationName", '
             '"DeviceSerialNumber"}')


@pytest.mark.parametrize("mistake, body, hidden_only", [
    ("name and ID only", "    del clean.PatientName\n    del clean.PatientID", False),
    ("private tags kept", WALK.format(names=FULL_LIST), False),
    ("only the notebook's private group removed",
     "    for element in list(clean):\n"
     "        if element.tag.group == 0x0029:\n            del clean[element.tag]\n"
     + WALK.format(names=FULL_LIST), True),
    ("top level only",
     "    clean.remove_private_tags()\n    identifying = " + FULL_LIST + "\n"
     "    for element in list(clean):\n"
     "        if element.keyword in identifying or element.VR in ('DA', 'DT', 'TM', 'PN'):\n"
     "            del clean[element.tag]", True),
    ("a short hand-made list of tags",
     "    clean.remove_private_tags()\n" + WALK.format(names=HAND_LIST), True),
    ("removing the notebook's made-up values",
     "    clean.remove_private_tags()\n"
     "    for element in list(clean):\n"
     "        if any(text in str(element.value) for text in ('Doe', 'CHD-000123', '2012', "
     "'2024', 'Example', 'Smith', 'Jones', 'MRSTATION', 'SN-', 'Made-up', 'ACC', 'STUDY42', "
     "'101500')):\n"
     "            del clean[element.tag]", False),
    ("everything removed",
     "    clean = pydicom.Dataset()\n    clean.PixelData = dataset.PixelData", False),
])
def test_is_a_de_identification_mistake_caught(mistake, body, hidden_only):
    assert_caught("remove_identifiers", deid_variant(body), hidden_only=hidden_only)


# ------------------------------------------------------------------ 5 dicom_to_nifti
CONVERT = '''
def dicom_to_nifti(dicom_folder, nifti_path):
    slices = [pydicom.dcmread(path) for path in sorted(Path(dicom_folder).iterdir())]
    {sort}
    volume = np.stack([{pixels} for ds in slices], axis=-1).astype(np.float32)
    row, column = (float(v) for v in slices[0].PixelSpacing)
    spacing = [{spacing}]
    image = nib.Nifti1Image(volume, np.diag([*spacing, 1.0]))
    {extra}
    nib.save(image, nifti_path)
'''
GOOD = {"sort": "slices.sort(key=lambda ds: float(ds.SliceLocation))",
        "pixels": "ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)",
        "spacing": "row, column, float(slices[0].SpacingBetweenSlices)", "extra": "pass"}


def convert_variant(**changes) -> dict:
    return variant("dicom_to_nifti", CONVERT.format(**{**GOOD, **changes}))


def test_does_the_notebooks_converter_pass():
    assert_all_pass("dicom_to_nifti", notebook_namespace())


def test_are_slice_location_and_spacing_between_slices_accepted():
    assert_all_pass("dicom_to_nifti", convert_variant())


def test_does_the_reference_converter_pass():
    assert_all_pass("dicom_to_nifti", variant(
        "dicom_to_nifti", "def dicom_to_nifti(dicom_folder, nifti_path):\n"
        "    dicom.convert(dicom_folder, nifti_path, overwrite=True)\n"))


@pytest.mark.parametrize("mistake, changes", [
    ("slices in file-name order", {"sort": "pass"}),
    ("slices in InstanceNumber order", {"sort": "slices.sort(key=lambda ds: int(ds.InstanceNumber))"}),
    ("no rescale", {"pixels": "ds.pixel_array"}),
    ("slice thickness as spacing", {"spacing": "row, column, float(slices[0].SliceThickness)"}),
    ("pixel spacing the wrong way round",
     {"spacing": "column, row, float(slices[0].SpacingBetweenSlices)"}),
    ("z difference as slice spacing",
     {"sort": "slices.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))",
      "spacing": "row, column, float(slices[1].ImagePositionPatient[2]) - "
                 "float(slices[0].ImagePositionPatient[2])"}),
])
def test_is_a_conversion_mistake_caught(mistake, changes):
    assert_caught("dicom_to_nifti", convert_variant(**changes), hidden_only=True)


def test_is_a_patient_name_in_the_header_caught():
    namespace = convert_variant(extra="image.header['descrip'] = "
                                      "str(slices[0].PatientName).encode()[:79]")
    assert_caught("dicom_to_nifti", namespace)


# ------------------------------------------------------------------ 6 find_broken
def test_does_the_notebooks_cleaning_pass():
    assert_all_pass("find_broken", notebook_namespace())


def test_does_the_reference_with_a_set_of_indices_pass():
    assert_all_pass("find_broken", variant(
        "find_broken", "from chdml.data.check import find_broken_cases\n"
        "def find_broken(images, masks=None):\n"
        "    return {index for index, _ in find_broken_cases(images, masks)}\n"))


def broken_variant(old: str, new: str) -> dict:
    cell = next(c for c in _notebook().cells if c.get("id") == "find_broken")
    source = _cell_source(cell)
    assert old in source, old
    return variant("find_broken", source.replace(old, new))


@pytest.mark.parametrize("mistake, old, new, hidden_only", [
    ("NaN but not infinity", "np.all(np.isfinite(image))", "not np.any(np.isnan(image))", True),
    ("no constant check", "image.min() == image.max()", "not image.any()", True),
    ("masks judged by shape only",
     " or np.any(mask != np.round(mask)) or np.any(mask < 0)", "", False),
    ("duplicates of the neighbour only", "fingerprints.add(fingerprint)",
     "fingerprints.clear(); fingerprints.add(fingerprint)", False),
    ("both copies of a duplicate dropped", "        if problem:\n            broken",
     "        if problem or sum(np.array_equal(image, other) for other in images if "
     "np.shape(other) == image.shape) > 1:\n            broken", False),
    ("slices with an empty mask dropped",
     "        if image.shape == expected_shape and finite",
     "        if masks is not None and masks[index] is not None and not np.any(masks[index]):\n"
     "            problem = True\n        if image.shape == expected_shape and finite", False),
    ("dark images taken for empty ones", "image.min() == image.max()",
     "(image.min() == image.max() or image.max() < 0.01)", True),
    ("images summing to 0 taken for empty ones", "image.min() == image.max()",
     "(image.min() == image.max() or image.sum() == 0)", True),
    ("the first image's shape as the expected shape",
     "expected_shape = max(", "expected_shape = shapes[0] or max(", True),
])
def test_is_a_cleaning_mistake_caught(mistake, old, new, hidden_only):
    assert_caught("find_broken", broken_variant(old, new), hidden_only=hidden_only)


def test_is_forgetting_that_masks_can_be_none_caught():
    namespace = broken_variant("if masks is not None and masks[index] is not None:",
                               "if masks[index] is not None:")
    failed = [r for r in results("find_broken", namespace, ("",)) if not r[2]]
    assert failed and all("TypeError" in r[3] for r in failed)


def test_does_stacking_images_of_different_sizes_fail_with_a_message():
    namespace = variant("find_broken", "def find_broken(images, masks=None):\n"
                        "    stack = np.array(images, dtype=float)\n"
                        "    return list(np.flatnonzero(np.isnan(stack).any(axis=(1, 2))))\n")
    outcome = results("find_broken", namespace, ("",))
    assert not all(r[2] for r in outcome)
    assert any("error" in r[3] for r in outcome)


# ------------------------------------------------------------------ 7 preprocess
def prep_variant(old: str, new: str) -> dict:
    cell = next(c for c in _notebook().cells if c.get("id") == "preprocess")
    source = _cell_source(cell)
    assert old in source, old
    if "return resized\n" in new:  # scale the square first, return the resized result
        source = source.replace(
            "    method = ",
            "    if not is_mask and square.max() > square.min():\n"
            "        square = (square - square.min()) / (square.max() - square.min())\n"
            "    method = ")
    return variant("preprocess", source.replace(old, new))


def test_does_the_notebooks_preprocessing_pass():
    assert_all_pass("preprocess", notebook_namespace())


@pytest.mark.parametrize("source", [
    '''
from skimage.transform import resize as sk_resize
def preprocess(image, size, is_mask=False):
    image = np.asarray(image)
    side = min(image.shape)
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    square = image[top:top + side, left:left + side]
    if is_mask:
        return sk_resize(square, (size, size), order=0, mode="edge", anti_aliasing=False,
                         preserve_range=True).astype(image.dtype)
    out = sk_resize(square.astype(np.float64), (size, size), order=1, mode="edge",
                    anti_aliasing=False, preserve_range=True)
    spread = out.max() - out.min()
    return (out - out.min()) / spread if spread else np.zeros_like(out)
''',
    '''
import tensorflow as tf
def preprocess(image, size, is_mask=False):
    image = np.asarray(image, dtype=np.float32)[None, :, :, None]
    side = min(image.shape[1:3])
    square = keras.layers.CenterCrop(side, side)(image)
    method = "nearest" if is_mask else "bilinear"
    out = tf.image.resize(square, (size, size), method=method).numpy()[0, :, :, 0]
    if is_mask:
        return out
    low, high = out.min(), out.max()
    return (out - low) / (high - low) if high > low else np.zeros_like(out)
''',
    '''
from chdml.data.preprocess import crop_or_pad_to_square, resize, min_max_normalise
def preprocess(image, size, is_mask=False):
    square = crop_or_pad_to_square(np.asarray(image))
    if is_mask:
        return resize(square, size, kind="label")
    return min_max_normalise(resize(square, size))
''',
])
def test_are_other_ways_of_preprocessing_accepted(source):
    assert_all_pass("preprocess", variant("preprocess", source))


@pytest.mark.parametrize("mistake, old, new, hidden_only", [
    ("top-left crop", "top, left = (rows - side) // 2, (columns - side) // 2", "top, left = 0, 0",
     False),
    ("odd half rounded up", "top, left = (rows - side) // 2, (columns - side) // 2",
     "top, left = (rows - side + 1) // 2, (columns - side + 1) // 2", True),
    ("masks interpolated", 'method = "nearest" if is_mask else "bilinear"',
     'method = "bilinear"', False),
    ("divided by the maximum only", "((resized - low) / (high - low))", "(resized / high)", False),
    ("the image's integer type kept", "interpolation=method))[:, :, 0]",
     "interpolation=method))[:, :, 0].astype(image.dtype)", True),
    ("a constant image divided by zero",
     "    if high == low:\n        return np.zeros((size, size), dtype=np.float32)\n", "", True),
    ("scaled before resizing", "    low, high = resized.min(), resized.max()",
     "    return resized\n    low, high = resized.min(), resized.max()", False),
    ("a fixed size", "(size, size)", "(64, 64)", False),
])
def test_is_a_preprocessing_mistake_caught(mistake, old, new, hidden_only):
    namespace = prep_variant(old, new)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert_caught("preprocess", namespace, hidden_only=hidden_only)


def test_are_skimage_defaults_caught():
    namespace = variant("preprocess", '''
from skimage.transform import resize as sk_resize
def preprocess(image, size, is_mask=False):
    image = np.asarray(image, dtype=np.float64)
    side = min(image.shape)
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    out = sk_resize(image[top:top + side, left:left + side], (size, size),
                    order=0 if is_mask else 1)
    if is_mask:
        return out
    return (out - out.min()) / (out.max() - out.min()) if out.max() > out.min() else out * 0
''')
    assert_caught("preprocess", namespace)


# ------------------------------------------------------------------ 8 split_by_patient
def test_does_the_notebooks_split_pass():
    assert_all_pass("split_by_patient", notebook_namespace())


@pytest.mark.parametrize("source", [
    '''
from chdml.data.split import split_patients
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    parts = split_patients(patients, labels, fractions=fractions, seed=seed).indices(patients)
    return parts["train"], parts["validation"], parts["test"]
''',
    '''
from chdml.data.split import split_patients
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    names = split_patients(patients, labels, fractions=fractions, seed=seed).assign(patients)
    return {"train": names == "train", "validation": names == "validation",
            "test": names == "test"}
''',
])
def test_are_other_ways_of_splitting_accepted(source):
    assert_all_pass("split_by_patient", variant("split_by_patient", source),
                    salts=SALTS + ("salt-c", "salt-d"))


UNSTRATIFIED = '''
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    patients = np.asarray(patients)
    ids = np.unique(patients)
    np.random.default_rng(seed).shuffle(ids)
    n_test, n_val = round(len(ids) * fractions[2]), round(len(ids) * fractions[1])
    chosen = [ids[n_test + n_val:], ids[n_test:n_test + n_val], ids[:n_test]]
    return tuple(np.flatnonzero(np.isin(patients, part)) for part in chosen)
'''


@pytest.mark.parametrize("mistake, source, hidden_only", [
    ("images split, not patients", '''
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    order = np.random.default_rng(seed).permutation(len(patients))
    n_test, n_val = round(len(order) * fractions[2]), round(len(order) * fractions[1])
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]
''', False),
    ("validation fraction of the rest", '''
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    from chdml.data.split import split_patients
    rest = 1 - fractions[2]
    parts = split_patients(patients, labels, seed=seed,
                           fractions=(rest * (1 - fractions[1]), rest * fractions[1],
                                      fractions[2])).indices(patients)
    return parts["train"], parts["validation"], parts["test"]
''', False),
    ("fractions of images, not patients", '''
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    patients = np.asarray(patients)
    ids = np.unique(patients)
    np.random.default_rng(seed).shuffle(ids)
    counts = np.array([np.sum(patients == p) for p in ids])
    share = np.cumsum(counts) / counts.sum()
    test, val = ids[share <= fractions[2]], ids[(share > fractions[2]) & (share <= fractions[2] + fractions[1])]
    train = ids[share > fractions[2] + fractions[1]]
    return tuple(np.flatnonzero(np.isin(patients, part)) for part in (train, val, test))
''', True),
    ("a patient's images assumed next to each other", '''
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    n = len(patients)
    cuts = [int(n * fractions[0]), int(n * (fractions[0] + fractions[1]))]
    for k in range(2):
        while 0 < cuts[k] < n and patients[cuts[k]] == patients[cuts[k] - 1]:
            cuts[k] += 1
    order = np.arange(n)
    return order[:cuts[0]], order[cuts[0]:cuts[1]], order[cuts[1]:]
''', False),
    ("only two sets", '''
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    from chdml.data.split import split_patients
    parts = split_patients(patients, labels, fractions=fractions, seed=seed).indices(patients)
    return parts["train"], parts["test"]
''', False),
    ("patient ids instead of indices", '''
def split_by_patient(patients, labels, fractions=(0.7, 0.15, 0.15), seed=0):
    from chdml.data.split import split_patients
    split = split_patients(patients, labels, fractions=fractions, seed=seed)
    return split.train, split.validation, split.test
''', False),
])
def test_is_a_splitting_mistake_caught(mistake, source, hidden_only):
    assert_caught("split_by_patient", variant("split_by_patient", source),
                  hidden_only=hidden_only)


def test_does_an_unstratified_split_lose_points_for_almost_every_salt():
    namespace = variant("split_by_patient", UNSTRATIFIED)
    salts = [f"salt-{i}" for i in range(60)]
    lucky = [salt for salt in salts
             if all(r[2] for r in results("split_by_patient", namespace, (salt,)))]
    assert len(lucky) <= 1, lucky
    public = [r for r in results("split_by_patient", namespace, ("",)) if r[1]]
    assert all(r[2] for r in public)  # it is only the hidden rare-class sets that show it


def test_does_a_stratified_shuffle_and_cut_pass_for_many_salts():
    namespace = notebook_namespace()
    salts = [f"salt-{i}" for i in range(30)]
    assert_all_pass("split_by_patient", namespace, salts=tuple(salts))


# ------------------------------------------------------------------ 9 build_classifier
BUILD = '''
def build_classifier(input_shape, n_blocks, base_filters, dense_units):
    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    for block in range(n_blocks):
        filters = {filters}
        for _ in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="{padding}", activation="{activation}")(x)
        {pool}
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(dense_units, activation="relu")(x)
    outputs = keras.layers.Dense({units}, activation="{output}")(x)
    return keras.Model(inputs, outputs)
'''
GOOD_BUILD = {"filters": "base_filters * 2 ** block", "padding": "same", "activation": "relu",
              "pool": "x = keras.layers.MaxPooling2D(2)(x)", "units": "1", "output": "sigmoid"}


def build_variant(**changes) -> dict:
    return variant("build_classifier", BUILD.format(**{**GOOD_BUILD, **changes}))


def test_do_the_notebooks_and_the_functional_classifier_pass(keras_backend):
    assert_all_pass("build_classifier", notebook_namespace(), salts=("",))
    assert_all_pass("build_classifier", build_variant(), salts=("",))


@pytest.mark.parametrize("mistake, changes", [
    ("the same filters in every block", {"filters": "base_filters"}),
    ("missing max-pooling", {"pool": "pass"}),
    ("valid padding", {"padding": "valid"}),
    ("softmax on a single unit", {"output": "softmax"}),
    ("two softmax units", {"units": "2", "output": "softmax"}),
    ("no ReLU", {"activation": "linear"}),
    ("fixed sizes", {"filters": "8 * 2 ** block"}),
])
def test_is_a_model_building_mistake_caught(keras_backend, mistake, changes):
    assert_caught("build_classifier", build_variant(**changes), salts=("",))


def test_is_doubling_after_every_convolution_caught(keras_backend):
    namespace = variant("build_classifier", '''
def build_classifier(input_shape, n_blocks, base_filters, dense_units):
    model = keras.Sequential([keras.Input(shape=tuple(input_shape))])
    filters = base_filters
    for block in range(n_blocks):
        for _ in range(2):
            model.add(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"))
            filters *= 2
        model.add(keras.layers.MaxPooling2D(2))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(dense_units, activation="relu"))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    return model
''')
    assert_caught("build_classifier", namespace, salts=("",))


@pytest.fixture(scope="module")
def keras_backend():
    return pytest.importorskip("keras")


# ------------------------------------------------------------------ 10 assess
def assess_variant(old: str, new: str) -> dict:
    cell = next(c for c in _notebook().cells if c.get("id") == "assess")
    source = _cell_source(cell)
    assert old in source, old
    return variant("assess", source.replace(old, new))


def test_does_the_notebooks_assessment_pass():
    assert_all_pass("assess", notebook_namespace())


def test_is_greater_or_equal_accepted_and_chdml_metrics_too():
    assert_all_pass("assess", assess_variant("(scores > threshold)", "(scores >= threshold)"))
    assert_all_pass("assess", variant("assess", '''
from chdml import metrics
def assess(labels, scores, threshold=0.5):
    labels = np.ravel(labels).astype(int); scores = np.ravel(scores)
    predicted = (scores > threshold).astype(int)
    return {"accuracy": metrics.accuracy(labels, predicted),
            "confusion_matrix": metrics.confusion_matrix(labels, predicted, n_classes=2).tolist(),
            "sensitivity": metrics.sensitivity(labels, predicted),
            "specificity": metrics.specificity(labels, predicted),
            "roc_auc": metrics.roc_auc(labels, scores)}
'''))


@pytest.mark.parametrize("mistake, old, new, hidden_only", [
    ("sensitivity and specificity swapped",
     '"sensitivity": true_positives / (true_positives + false_negatives),\n'
     '        "specificity": true_negatives / (true_negatives + false_positives),',
     '"specificity": true_positives / (true_positives + false_negatives),\n'
     '        "sensitivity": true_negatives / (true_negatives + false_positives),', False),
    ("confusion matrix transposed", "[[true_negatives, false_positives],\n"
     "                                      [false_negatives, true_positives]]",
     "[[true_negatives, false_negatives], [false_positives, true_positives]]", False),
    ("AUC from thresholded labels", "positive_scores, negative_scores = scores[labels == 1], "
     "scores[labels == 0]", "positive_scores, negative_scores = predicted[labels == 1], "
     "predicted[labels == 0]", False),
    ("(N, 1) scores not flattened", "scores = np.ravel(scores).astype(float)",
     "scores = np.asarray(scores, dtype=float)", True),
    ("a fixed threshold", "(scores > threshold)", "(scores > 0.5)", True),
    ("ties not counted one half", "(higher + 0.5 * ties)", "higher", True),
])
def test_is_an_assessment_mistake_caught(mistake, old, new, hidden_only):
    assert_caught("assess", assess_variant(old, new), hidden_only=hidden_only)


def test_are_float_labels_used_as_indices_caught():
    namespace = variant("assess", '''
def assess(labels, scores, threshold=0.5):
    labels = np.ravel(labels); scores = np.ravel(scores)
    predicted = (scores > threshold).astype(int)
    matrix = np.zeros((2, 2), dtype=int)
    for truth, guess in zip(labels, predicted):
        matrix[truth, guess] += 1
    (tn, fp), (fn, tp) = matrix
    pos, neg = scores[labels == 1], scores[labels == 0]
    auc = (np.sum(pos[:, None] > neg) + 0.5 * np.sum(pos[:, None] == neg)) / (pos.size * neg.size)
    return {"accuracy": (tp + tn) / labels.size, "confusion_matrix": matrix,
            "sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp), "roc_auc": auc}
''')
    assert_caught("assess", namespace, hidden_only=True)


# ------------------------------------------------------------------ 11 view_classifier
class _Constant:
    def __init__(self, value):
        self.value = value

    def predict(self, images, verbose=0):
        return np.full((len(images), 1), self.value, dtype=np.float32)


def test_does_a_model_that_always_says_short_axis_fail():
    outcome = results("view_classifier", {"view_classifier": _Constant(0.9)}, ("",))
    assert not any(r[2] for r in outcome)
    assert all("accuracy 0.5" in r[3] or "accuracy 0.4" in r[3] for r in outcome)


class _Knows:
    """A stand-in model that looks up the true labels (to test the judging, not a model)."""

    def __init__(self, flip=False):
        self.flip = flip

    def predict(self, images, verbose=0):
        labels = workshop().exercises["view_classifier"].reference({"images": images})
        return (1.0 - labels if self.flip else labels * 0.9 + 0.05)[:, None]


def test_does_a_right_model_pass_and_inverted_labels_fail():
    assert_all_pass("view_classifier", {"view_classifier": _Knows()}, salts=("",))
    outcome = results("view_classifier", {"view_classifier": _Knows(flip=True)}, ("",))
    assert not any(r[2] for r in outcome) and all("accuracy 0.000" in r[3] for r in outcome)


def test_are_the_hidden_labels_kept_out_of_the_inputs():
    for case in drawn("view_classifier", ""):
        assert set(case.case.inputs) == {"images"}
        assert case.expected.shape == (case.case.inputs["images"].shape[0],)
