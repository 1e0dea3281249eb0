"""DICOM series -> de-identified NIfTI, DICOM de-identification, and synthetic DICOM series.

``chdml data convert-dicom SRC DST`` reads the DICOM files of one series in the folder
``SRC`` (sub-folders included) and writes ``DST`` (``.nii.gz``) plus a JSON sidecar
``DST`` with ``.json`` (as in BIDS) that holds acquisition parameters only.

Geometry
    Slices are sorted along the slice normal ``n = row cosine x column cosine`` (from
    ``ImageOrientationPatient``) by the projection of ``ImagePositionPatient`` on ``n``,
    whatever the file names or ``InstanceNumber`` say. The array is ``(rows, columns,
    slices)`` exactly as the pixels are stored (``array[r, c, k]`` is row ``r``, column
    ``c`` of the ``k``-th slice along ``n``), and the affine maps it to the scanner's
    world in NIfTI's RAS+ convention: DICOM's patient LPS coordinates with x and y
    negated. Voxel size: ``PixelSpacing`` (between rows, between columns) and the median
    distance between neighbouring slice positions (``SpacingBetweenSlices`` or
    ``SliceThickness`` for a single slice, e.g. a long-axis view). Pixel values are
    multiplied by ``RescaleSlope`` and shifted by ``RescaleIntercept`` (per slice) and
    stored as float32. (Philips' private "scale slope" is not applied.)
    :func:`chdml.data.nifti.load_image` then brings the file to closest-canonical
    orientation like every other NIfTI.

Cine series
    A cine series has several images (cardiac phases) at each slice position. Pick one
    phase with ``--frame N`` (0 = first by ``TriggerTime``, usually end-diastole).

De-identification
    Nothing from the DICOM header reaches the NIfTI (the header holds only geometry and
    data type). The sidecar is built from an allow-list (:data:`SIDECAR_TAGS`: scanner,
    field strength, sequence timing, slice thickness, descriptions), never names, IDs,
    dates, times, institutions or UIDs; free-text descriptions are cleaned of the
    patient's name parts and IDs. :func:`deidentify` returns a de-identified copy of a
    pydicom dataset following the idea of the DICOM PS3.15 basic confidentiality profile
    (names, IDs, dates, times, institutions, physicians, device serials, comments and
    private tags removed or blanked; UIDs replaced by consistent new ones).
    Identifying text burned into the pixels is not detected.

Synthetic data
    :func:`write_series` writes a NumPy volume as a DICOM MR series with made-up patient
    identifiers, so that workshops and tests have DICOM data offline.

Errors a user can cause (missing or empty folder, no DICOM files, a damaged file, several
series, mixed image sizes, missing geometry tags, uneven slice gaps, an existing DST)
raise :class:`UserError` with one sentence; nothing is written then.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
from pathlib import Path

import numpy as np

from chdml.errors import UserError, describe_path

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])

#: Acquisition tags copied to the JSON sidecar (DICOM keywords and units: ms, mm, T, deg).
SIDECAR_TAGS = (
    "Modality", "Manufacturer", "ManufacturerModelName", "MagneticFieldStrength",
    "ImagedNucleus", "ImagingFrequency", "SeriesNumber", "SeriesDescription", "ProtocolName",
    "BodyPartExamined", "PatientPosition", "ImageType", "ScanningSequence", "SequenceVariant",
    "ScanOptions", "SequenceName", "MRAcquisitionType", "SliceThickness",
    "SpacingBetweenSlices", "RepetitionTime", "EchoTime", "InversionTime", "FlipAngle",
    "EchoTrainLength", "NumberOfAverages", "PixelBandwidth", "ReceiveCoilName",
    "TransmitCoilName", "AcquisitionMatrix", "InPlanePhaseEncodingDirection",
    "PercentSampling", "PercentPhaseFieldOfView", "CardiacNumberOfImages", "NominalInterval",
    "Rows", "Columns", "PixelSpacing",
)

#: Free-text tags that are kept (sidecar, :func:`deidentify`) after cleaning.
DESCRIPTION_TAGS = ("SeriesDescription", "ProtocolName", "StudyDescription", "SequenceName")

#: Tags emptied (kept with a zero-length value, as the basic profile's "Z" action).
BLANK_TAGS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
              "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber")

#: Tags removed (a subset of DICOM PS3.15 Table E.1-1, basic profile). In addition every
#: date (DA), date-time (DT), time (TM) and person name (PN) element and every private
#: tag is removed, and UIDs are replaced.
REMOVE_TAGS = (
    "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames", "PatientBirthName",
    "PatientBirthTime", "PatientMotherBirthName", "PatientAddress", "PatientAge",
    "PatientSize", "PatientWeight", "PatientTelephoneNumbers", "PatientComments",
    "PatientReligiousPreference", "EthnicGroup", "Occupation", "MilitaryRank",
    "BranchOfService", "CountryOfResidence", "RegionOfResidence", "MedicalRecordLocator",
    "MedicalAlerts", "Allergies", "AdditionalPatientHistory", "PregnancyStatus",
    "LastMenstrualDate", "SmokingStatus", "IssuerOfPatientID", "PatientInsurancePlanCodeSequence",
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "InstitutionCodeSequence", "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "ReferringPhysicianIdentificationSequence", "PhysiciansOfRecord",
    "PhysiciansOfRecordIdentificationSequence", "PerformingPhysicianName",
    "PerformingPhysicianIdentificationSequence", "NameOfPhysiciansReadingStudy",
    "PhysiciansReadingStudyIdentificationSequence", "OperatorsName",
    "OperatorIdentificationSequence", "RequestingPhysician", "RequestingService",
    "ResponsiblePerson", "ResponsibleOrganization", "StationName", "DeviceSerialNumber",
    "DeviceUID", "PlateID", "CassetteID", "GantryID", "DetectorID", "AdmissionID",
    "AdmittingDiagnosesDescription", "AdmittingDiagnosesCodeSequence", "CurrentPatientLocation",
    "PatientState", "ServiceEpisodeID", "VisitComments", "StudyComments", "ImageComments",
    "FrameComments", "AcquisitionComments", "InterpretationText", "TextComments",
    "RequestAttributesSequence", "RequestedProcedureID", "RequestedProcedureDescription",
    "ScheduledProcedureStepID", "ScheduledProcedureStepDescription",
    "PerformedProcedureStepID", "PerformedProcedureStepDescription",
    "PerformedLocation", "PerformedStationName", "ReferencedPatientSequence",
    "ReferencedStudySequence", "ReferencedPerformedProcedureStepSequence",
    "ReferencedPatientPhotoSequence", "ContentCreatorName", "VerifyingObserverName",
    "VerifyingOrganization", "PersonName", "PersonAddress", "PersonTelephoneNumbers",
    "OrderEntererLocation", "OrderCallbackPhoneNumber", "PlacerOrderNumberImagingServiceRequest",
    "FillerOrderNumberImagingServiceRequest", "Arbitrary", "ClinicalTrialSponsorName",
    "ClinicalTrialSubjectID", "ClinicalTrialSubjectReadingID", "ProtocolNameOriginal",
    "DerivationDescription", "OriginalAttributesSequence", "ModifiedAttributesSequence",
    "DigitalSignaturesSequence", "DataSetTrailingPadding", "StorageMediaFileSetID",
    "StorageMediaFileSetUID", "SourceApplicationEntityTitle", "InstanceCreatorUID",
    "TimezoneOffsetFromUTC", "SpecimenAccessionNumber", "ReasonForStudy",
    "ReasonForTheRequestedProcedure", "ReasonForTheImagingServiceRequest",
)

_REMOVED_CHARACTER = "X"


# -- de-identification ----------------------------------------------------------------

def _identifiers(dataset) -> list[str]:
    """Strings that identify the patient, for cleaning free text (longest first)."""
    found: set[str] = set()
    name = str(dataset.get("PatientName", "") or "")
    found.update(p for p in re.split(r"[\^=\s,]+", name) if len(p) >= 2)
    for keyword in ("PatientID", "OtherPatientIDs", "AccessionNumber", "PatientBirthDate",
                    "InstitutionName", "StudyID"):
        value = dataset.get(keyword, "")
        values = [value] if isinstance(value, str) or not hasattr(value, "__iter__") else value
        found.update(str(v) for v in values if v is not None and len(str(v)) >= 2)
    return sorted(found, key=len, reverse=True)


def clean_text(text: str, identifiers) -> str:
    """Replace every identifier (case-insensitive) in ``text`` with ``X``."""
    for identifier in identifiers:
        text = re.sub(re.escape(identifier), _REMOVED_CHARACTER, text, flags=re.IGNORECASE)
    return text


def _is_standard_uid(value) -> bool:
    from pydicom._uid_dict import UID_dictionary

    return str(value) in UID_dictionary


def _new_uid(value) -> str:
    """A new UID derived (one way, consistently) from ``value``."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["chdml-deidentify", str(value)]))


def deidentify(dataset):
    """Return a de-identified copy of a pydicom ``Dataset`` (the original is unchanged).

    Following the idea of the DICOM PS3.15 basic application level confidentiality
    profile: :data:`BLANK_TAGS` (patient name and ID, birth date, sex, study date and
    time, referring physician, study ID, accession number) are kept with an empty value;
    :data:`REMOVE_TAGS`, every date/time/person-name element and every private tag are
    removed, also inside sequences; UIDs (study, series, instance, frame of reference,
    ...) are replaced by new UIDs derived one way from the old ones, so files of one
    series still belong together; standard UIDs (SOP classes, transfer syntaxes) are
    kept. :data:`DESCRIPTION_TAGS` are kept with the patient's name parts and IDs removed.
    Sets ``PatientIdentityRemoved = "YES"`` and ``DeidentificationMethod``. Pixel data
    are untouched (burned-in text is not detected).

    Example:
        >>> clean = deidentify(pydicom.dcmread("IM0001.dcm"))
        >>> find_identifying(clean)
        []
    """
    ds = copy.deepcopy(dataset)
    identifiers = _identifiers(ds)
    ds.remove_private_tags()
    _deidentify_items(ds, identifiers)
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID") or _new_uid(
            meta.MediaStorageSOPInstanceUID)
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "chdml deidentify: PS3.15 basic profile subset"
    return ds


def _deidentify_items(ds, identifiers) -> None:
    for tag in list(ds.keys()):
        element = ds[tag]
        keyword = element.keyword
        if element.tag.is_private or keyword in REMOVE_TAGS \
                or ((tag >> 16) & 0xFF00) == 0x6000:  # overlays may hold burned-in text
            del ds[tag]
        elif keyword in BLANK_TAGS:
            element.value = ""
        elif element.VR in ("DA", "DT", "TM", "PN"):
            del ds[tag]
        elif element.VR == "SQ":
            for item in element.value:
                _deidentify_items(item, identifiers)
        elif element.VR == "UI" and element.value:
            values = element.value if element.VM > 1 else [element.value]
            new = [v if _is_standard_uid(v) else _new_uid(v) for v in values]
            element.value = new if element.VM > 1 else new[0]
        elif keyword in DESCRIPTION_TAGS and isinstance(element.value, str):
            element.value = clean_text(element.value, identifiers)


def find_identifying(dataset) -> list[str]:
    """Keywords of identifying elements still present (non-empty) in ``dataset``.

    Looks for the tags :func:`deidentify` blanks or removes, dates, times, person
    names and private tags (UIDs are not judged: a replaced UID looks like any other).
    An empty list means the dataset passes this check (it is no proof of anonymity).
    """
    found: list[str] = []

    def visit(ds):
        for element in ds:
            keyword = element.keyword or str(element.tag)
            if element.tag.is_private:
                found.append(keyword)
            elif element.VR == "SQ":
                for item in element.value:
                    visit(item)
            elif element.value in (None, "", b"") or keyword in ("PatientIdentityRemoved",
                                                                  "DeidentificationMethod"):
                continue
            elif keyword in REMOVE_TAGS or keyword in BLANK_TAGS \
                    or element.VR in ("DA", "DT", "TM", "PN"):
                found.append(keyword)

    visit(dataset)
    return found


# -- reading a series -----------------------------------------------------------------

@dataclasses.dataclass
class Series:
    """A converted series: the volume, its geometry and the de-identified sidecar.

    Attributes:
        array: float32 ``(rows, columns, slices)``, rescaled pixel values.
        affine: 4x4 voxel -> RAS+ world (mm).
        spacing: ``(row, column, slice)`` in mm.
        sidecar: JSON-ready acquisition parameters (no identifying tags).
        skipped: files in the folder that were not DICOM images.
    """

    array: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, float, float]
    sidecar: dict
    skipped: list[Path]


def _read_files(folder: Path):
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not folder.exists():
        raise UserError(f"{describe_path(folder)} does not exist; give the folder that holds "
                        "the DICOM files of one series.")
    if not folder.is_dir():
        raise UserError(f"{describe_path(folder)} is a file, not a folder; give the folder that "
                        "holds the DICOM files of one series.")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise UserError(f"{describe_path(folder)} is empty; copy the DICOM files of one series "
                        "into it (or give the folder that holds them).")
    images, skipped = [], []
    for path in files:
        try:
            ds = pydicom.dcmread(str(path))
        except InvalidDicomError:
            skipped.append(path)
            continue
        except Exception as exc:  # noqa: BLE001 (pydicom raises many kinds on damaged files)
            raise UserError(f"cannot read {describe_path(path)} as DICOM ({exc}); the file is "
                            "damaged: export it again or remove it from the folder.") from None
        if "PixelData" not in ds:
            classes = (ds.get("SOPClassUID"),
                       getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", None))
            if any("Image Storage" in getattr(c, "name", "") for c in classes):
                raise UserError(f"{describe_path(path)} is a DICOM image without pixel data "
                                "(a truncated file?); export it again or remove it from the folder.")
            skipped.append(path)  # DICOMDIR, reports, presentation states
            continue
        images.append((path, ds))
    if not images:
        raise UserError(f"{describe_path(folder)} has no DICOM image files ({len(files)} files "
                        "checked); give the folder that holds the DICOM files of one series.")
    return images, skipped


def _pick_series(folder: Path, images, series: str | None):
    groups: dict[str, list] = {}
    for path, ds in images:
        groups.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((path, ds))
    if series is not None:
        chosen = [uid for uid, members in groups.items()
                  if series in (uid, str(members[0][1].get("SeriesNumber", "")))]
        if len(chosen) != 1:
            raise UserError(f"{describe_path(folder)} has no single series {series!r}; "
                            f"its series are {_describe_series(groups)}.")
        return groups[chosen[0]]
    if len(groups) > 1:
        raise UserError(f"{describe_path(folder)} holds {len(groups)} series "
                        f"({_describe_series(groups)}); pick one with --series NUMBER (or UID), "
                        "or move each series into a folder of its own.")
    return next(iter(groups.values()))


def _describe_series(groups) -> str:
    parts = []
    for uid, members in groups.items():
        ds = members[0][1]
        parts.append(f"number {ds.get('SeriesNumber', '?')} '{ds.get('SeriesDescription', '')}' "
                     f"({len(members)} files, UID {uid})")
    return "; ".join(parts)


def _floats(ds, keyword: str, count: int, path: Path) -> np.ndarray:
    value = ds.get(keyword)
    try:
        array = np.array([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError):
        array = np.array([])
    if array.size != count or not np.all(np.isfinite(array)):
        raise UserError(f"{describe_path(path)} lacks a valid {keyword} tag, so the slice "
                        "geometry is unknown; export the series again with its geometry "
                        "(screenshots and secondary captures cannot be converted).")
    return array


def read_series(folder: os.PathLike | str, series: str | None = None,
                frame: int | None = None) -> Series:
    """Read one DICOM series from ``folder`` into a :class:`Series` (see the module doc).

    Args:
        folder: folder with the DICOM files (sub-folders are searched; files that are not
            DICOM are skipped and listed in ``Series.skipped``).
        series: ``SeriesNumber`` or ``SeriesInstanceUID`` when the folder has several.
        frame: for cine series (several images per slice position), which one to take
            (0-based, ordered by ``TriggerTime`` then ``InstanceNumber``).
    """
    folder = Path(folder)
    images, skipped = _read_files(folder)
    members = _pick_series(folder, images, series)

    first_path, first = members[0]
    orientation = _floats(first, "ImageOrientationPatient", 6, first_path)
    row_cosine, column_cosine = orientation[:3], orientation[3:]
    normal = np.cross(row_cosine, column_cosine)
    if not np.isclose(np.linalg.norm(normal), 1.0, atol=1e-3):
        raise UserError(f"{describe_path(first_path)} has an ImageOrientationPatient whose two "
                        "directions are not perpendicular unit vectors; export the series again.")
    pixel_spacing = _floats(first, "PixelSpacing", 2, first_path)
    shape = (int(first.get("Rows", 0)), int(first.get("Columns", 0)))

    positions = []
    for path, ds in members:
        other = _floats(ds, "ImageOrientationPatient", 6, path)
        if not np.allclose(other, orientation, atol=1e-4):
            raise UserError(f"{describe_path(path)} has another slice orientation than "
                            f"{describe_path(first_path)}; the folder mixes views: put each "
                            "stack in a folder of its own.")
        if (int(ds.get("Rows", 0)), int(ds.get("Columns", 0))) != shape:
            raise UserError(f"{describe_path(path)} is {ds.get('Rows')}x{ds.get('Columns')} "
                            f"pixels but {describe_path(first_path)} is {shape[0]}x{shape[1]}; "
                            "remove the files that do not belong to this series.")
        if not np.allclose(_floats(ds, "PixelSpacing", 2, path), pixel_spacing, atol=1e-4):
            raise UserError(f"{describe_path(path)} has another PixelSpacing than "
                            f"{describe_path(first_path)}; remove the files that do not belong "
                            "to this series.")
        positions.append(float(_floats(ds, "ImagePositionPatient", 3, path) @ normal))

    # group images by slice position (a cine series has several per position)
    order = np.argsort(positions, kind="stable")
    groups: list[list[int]] = []
    for index in order:
        if groups and abs(positions[index] - positions[groups[-1][0]]) < 1e-3:
            groups[-1].append(index)
        else:
            groups.append([index])
    counts = {len(g) for g in groups}
    if len(counts) > 1:
        raise UserError(f"{describe_path(folder)} has {min(counts)} to {max(counts)} images per "
                        "slice position; a slice or phase is missing: export the series again.")
    frames = counts.pop()
    if frames > 1 and frame is None:
        raise UserError(f"{describe_path(folder)} holds a cine series ({frames} images at each of "
                        f"{len(groups)} slice positions); pick one cardiac phase with --frame N "
                        f"(0 to {frames - 1}; 0 is usually end-diastole).")
    frame = 0 if frame is None else frame
    if not 0 <= frame < frames:
        raise UserError(f"--frame {frame} is out of range: {describe_path(folder)} has {frames} "
                        f"frame(s) per slice position; use 0 to {frames - 1}.")

    def phase_key(index):
        ds = members[index][1]
        return (float(ds.get("TriggerTime", 0) or 0), int(ds.get("InstanceNumber", 0) or 0))

    chosen = [sorted(g, key=phase_key)[frame] for g in groups]
    slice_positions = np.array([positions[i] for i in chosen])
    if len(chosen) > 1:
        gaps = np.diff(slice_positions)
        step = float(np.median(gaps))
        if np.max(np.abs(gaps - step)) > 0.1 * step:
            raise UserError(f"the slices in {describe_path(folder)} are not evenly spaced (gaps "
                            f"{gaps.min():.2f} to {gaps.max():.2f} mm); a slice is probably "
                            "missing: export the whole series again.")
    else:
        step = float(first.get("SpacingBetweenSlices", 0) or first.get("SliceThickness", 0) or 1.0)

    slices = []
    for index in chosen:
        path, ds = members[index]
        try:
            pixels = ds.pixel_array
        except Exception as exc:  # noqa: BLE001 (missing decoders, truncated pixel data, ...)
            raise UserError(f"cannot decode the pixels of {describe_path(path)} ({exc}); the "
                            "file is damaged or compressed in a way pydicom cannot read here: "
                            "export it again uncompressed (or install pylibjpeg).") from None
        if pixels.shape != shape:
            raise UserError(f"{describe_path(path)} holds pixels of shape {pixels.shape}, not one "
                            f"{shape[0]}x{shape[1]} grey image; multi-frame and colour files are "
                            "not supported: export single-frame images.")
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        slices.append(pixels.astype(np.float64) * slope + intercept)
    array = np.stack(slices, axis=2).astype(np.float32)

    origin = _floats(members[chosen[0]][1], "ImagePositionPatient", 3, members[chosen[0]][0])
    affine_lps = np.eye(4)
    affine_lps[:3, 0] = column_cosine * pixel_spacing[0]   # down the rows
    affine_lps[:3, 1] = row_cosine * pixel_spacing[1]      # along a row
    affine_lps[:3, 2] = normal * step
    affine_lps[:3, 3] = origin
    spacing = (float(pixel_spacing[0]), float(pixel_spacing[1]), abs(step))
    sidecar = _sidecar(first, spacing, array.shape, len(chosen), frames, frame)
    return Series(array, LPS_TO_RAS @ affine_lps, spacing, sidecar, skipped)


def _json_value(value):
    from pydicom.multival import MultiValue
    from pydicom.valuerep import DSfloat, IS

    if isinstance(value, (MultiValue, list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, (DSfloat, float)):
        return float(value)
    if isinstance(value, (IS, int)):
        return int(value)
    return str(value)


def _sidecar(ds, spacing, shape, slices, frames, frame) -> dict:
    identifiers = _identifiers(ds)
    sidecar: dict = {}
    for keyword in SIDECAR_TAGS:
        value = ds.get(keyword)
        if value is None or value == "":
            continue
        value = _json_value(value)
        if keyword in DESCRIPTION_TAGS:
            value = clean_text(value, identifiers)
        sidecar[keyword] = value
    from chdml import __version__

    sidecar["ConversionSoftware"] = "chdml data convert-dicom"
    sidecar["ConversionSoftwareVersion"] = __version__
    sidecar["chdml"] = {
        "shape": [int(s) for s in shape],
        "spacing_mm": [round(float(s), 6) for s in spacing],
        "slices": slices,
        "frames_per_position": frames,
        "frame": frame,
        "units": "DICOM units: times in ms, lengths in mm, field strength in T, angles in deg",
        "deidentified": "allow-list of acquisition tags; no names, IDs, dates, times, "
                        "institutions or UIDs",
    }
    return sidecar


# -- writing NIfTI ----------------------------------------------------------------------

def sidecar_path(nifti: os.PathLike | str) -> Path:
    """``scan.nii.gz`` -> ``scan.json``."""
    nifti = Path(nifti)
    name = nifti.name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return nifti.with_name(name + ".json")


def convert(src: os.PathLike | str, dst: os.PathLike | str, series: str | None = None,
            frame: int | None = None, overwrite: bool = False) -> Series:
    """Convert the DICOM series in ``src`` to ``dst`` (NIfTI) and its JSON sidecar.

    Both files appear together, or neither does. Returns the :class:`Series`.
    """
    from chdml.atomic import atomic_path
    from chdml.data.nifti import save_image

    dst = Path(dst)
    if not (dst.name.endswith(".nii.gz") or dst.name.endswith(".nii")):
        raise UserError(f"{describe_path(dst)} does not end in .nii.gz or .nii; give the output "
                        "file a NIfTI name such as 'sax.nii.gz'.")
    sidecar = sidecar_path(dst)
    if not overwrite:
        for path in (dst, sidecar):
            if path.exists():
                raise UserError(f"{describe_path(path)} already exists; choose another DST or "
                                "add --overwrite to replace it.")
    result = read_series(src, series=series, frame=frame)
    suffix = ".nii.gz" if dst.name.endswith(".gz") else ".nii"
    with atomic_path(dst, suffix=suffix) as tmp_nifti, atomic_path(sidecar) as tmp_json:
        save_image(tmp_nifti, result.array, affine=result.affine)
        tmp_json.write_text(json.dumps(result.sidecar, indent=2) + "\n", encoding="utf-8")
    return result


def main(src: str, dst: str, series: str | None = None, frame: int | None = None,
         overwrite: bool = False) -> int:
    """Entry point of ``chdml data convert-dicom``."""
    result = convert(src, dst, series=series, frame=frame, overwrite=overwrite)
    if result.skipped:
        names = ", ".join(p.name for p in result.skipped[:5])
        more = f" and {len(result.skipped) - 5} more" if len(result.skipped) > 5 else ""
        print(f"note: skipped {len(result.skipped)} file(s) that are not DICOM images: "
              f"{names}{more}")
    shape = "x".join(str(s) for s in result.array.shape)
    spacing = "x".join(f"{s:g}" for s in result.spacing)
    print(f"Wrote {dst} ({shape} voxels of {spacing} mm) and {sidecar_path(dst)} "
          "(de-identified acquisition parameters).")
    return 0


# -- synthetic DICOM --------------------------------------------------------------------

def write_series(volume, spacing, folder: os.PathLike | str, *,
                 patient_name: str = "Doe^Jane", patient_id: str = "CHD-000123",
                 birth_date: str = "20120304", study_date: str = "20240115",
                 institution: str = "Example Children's Hospital",
                 series_description: str = "SAX cine", series_number: int = 1,
                 orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0), origin=(0.0, 0.0, 0.0),
                 rescale_slope: float = 1.0, rescale_intercept: float = 0.0,
                 trigger_interval_ms: float = 40.0, seed: int = 0) -> list[Path]:
    """Write ``volume`` as a synthetic DICOM MR series with made-up identifiers.

    Args:
        volume: ``(rows, columns)``, ``(rows, columns, slices)`` or, for a cine series,
            ``(rows, columns, slices, frames)``; real-world values (after rescale).
        spacing: ``(row, column, slice)`` in mm (``PixelSpacing`` and slice distance).
        folder: created if needed; one file ``IM00001.dcm`` ... per image.
        patient_name, patient_id, birth_date, study_date, institution: made-up
            identifiers (also written to referring physician, operator, accession number,
            other IDs and a private tag, so de-identification can be tested).
        orientation: ``ImageOrientationPatient`` (row cosine, column cosine), unit vectors.
        origin: ``ImagePositionPatient`` of the first slice (mm, LPS).
        rescale_slope, rescale_intercept: stored = (value - intercept) / slope, rounded
            to uint16 (a ValueError if it does not fit).
        trigger_interval_ms: ``TriggerTime`` step between frames.
        seed: makes the UIDs reproducible.

    Slice ``k`` lies at ``origin + k * spacing[2] * (row cosine x column cosine)``.
    Returns the paths written (slice-major, then frame).
    """
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    volume = np.asarray(volume, dtype=np.float64)
    if volume.ndim == 2:
        volume = volume[:, :, np.newaxis]
    if volume.ndim == 3:
        volume = volume[:, :, :, np.newaxis]
    if volume.ndim != 4:
        raise ValueError(f"volume must be 2-D, 3-D or 4-D, got shape {volume.shape}")
    rows, columns, n_slices, n_frames = volume.shape
    orientation = np.asarray(orientation, dtype=np.float64)
    normal = np.cross(orientation[:3], orientation[3:])
    stored = np.round((volume - rescale_intercept) / rescale_slope)
    if stored.min() < 0 or stored.max() > 65535:
        raise ValueError("values do not fit uint16 after rescale; change rescale_slope/intercept")
    stored = stored.astype(np.uint16)

    def uid(*parts) -> str:
        return str(generate_uid(entropy_srcs=[str(seed), patient_id, *map(str, parts)]))

    study_uid, series_uid, frame_uid = uid("study"), uid("series", series_number), uid("for")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n_slices):
        position = np.asarray(origin, dtype=np.float64) + k * float(spacing[2]) * normal
        for f in range(n_frames):
            number = k * n_frames + f + 1
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = MRImageStorage
            meta.MediaStorageSOPInstanceUID = uid("instance", series_number, number)
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = pydicom.Dataset()
            ds.file_meta = meta
            ds.SOPClassUID = MRImageStorage
            ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
            ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
            ds.FrameOfReferenceUID = frame_uid
            ds.PatientName, ds.PatientID = patient_name, patient_id
            ds.PatientBirthDate, ds.PatientSex, ds.PatientAge = birth_date, "F", "011Y"
            ds.PatientWeight, ds.PatientSize = 35.0, 1.42
            ds.OtherPatientIDs = f"{patient_id}-OLD"
            ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = study_date
            ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = "101500"
            ds.AccessionNumber, ds.StudyID = f"ACC{patient_id[-4:]}", "STUDY42"
            ds.ReferringPhysicianName, ds.OperatorsName = "Smith^Referrer", "Jones^Operator"
            ds.InstitutionName = institution
            ds.InstitutionAddress = "1 Made-up Street, Nowhere"
            ds.StationName, ds.DeviceSerialNumber = "MRSTATION7", "SN-998877"
            ds.StudyDescription = "Cardiac MRI"
            ds.Modality, ds.SeriesNumber = "MR", series_number
            ds.SeriesDescription, ds.ProtocolName = series_description, "cine_bSSFP"
            ds.Manufacturer, ds.ManufacturerModelName = "chdml synthetic", "virtual 1.5T"
            ds.MagneticFieldStrength, ds.ImagedNucleus, ds.ImagingFrequency = 1.5, "1H", 63.87
            ds.BodyPartExamined, ds.PatientPosition = "HEART", "HFS"
            ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
            ds.ScanningSequence, ds.SequenceVariant, ds.MRAcquisitionType = "GR", "SS", "2D"
            ds.SliceThickness = ds.SpacingBetweenSlices = f"{float(spacing[2]):g}"
            ds.RepetitionTime, ds.EchoTime, ds.FlipAngle = 3.2, 1.6, 60
            ds.CardiacNumberOfImages = n_frames
            ds.InstanceNumber = number
            ds.TriggerTime = f"{f * trigger_interval_ms:g}"
            ds.ImagePositionPatient = [f"{v:.10g}" for v in position]
            ds.ImageOrientationPatient = [f"{v:.10g}" for v in orientation]
            ds.SliceLocation = f"{float(position @ normal):.10g}"
            ds.PixelSpacing = [f"{float(spacing[0]):g}", f"{float(spacing[1]):g}"]
            ds.Rows, ds.Columns = rows, columns
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
            ds.RescaleSlope = f"{rescale_slope:g}"
            ds.RescaleIntercept = f"{rescale_intercept:g}"
            ds.PixelData = np.ascontiguousarray(stored[:, :, k, f]).tobytes()
            block = ds.private_block(0x0029, "CHDML SYNTHETIC", create=True)
            block.add_new(0x10, "LO", f"private note about {patient_name}")
            path = folder / f"IM{number:05d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            paths.append(path)
    return paths
