"""Does the dataset folder format round-trip, and are broken metadata files named?"""
import pytest

from chdml.data.folder import (CaseRecord, image_path, label_path, read_cases, read_labels,
                               write_metadata)
from chdml.errors import UserError


def test_metadata_round_trip(tmp_path):
    records = [CaseRecord("p1_ED", "p1", "train", "ED", "SAX", "ToF", (1.25, 1.25, 8.0)),
               CaseRecord("p2_ES", "p2", "test", "ES", "SAX", "DCM", (2.0, 2.0, 6.0))]
    write_metadata(tmp_path, records, {"background": 0, "LV": 1}, name="t",
                   clinical_column="phenotype")
    assert read_cases(tmp_path) == records
    assert read_labels(tmp_path) == {"background": 0, "LV": 1}
    assert (tmp_path / "cases.csv").read_text().splitlines()[0] == \
        "case,patient,split,phase,view,phenotype,spacing"
    assert image_path(tmp_path, records[1]).parts[-2:] == ("imagesTs", "p2_ES_0000.nii.gz")
    assert label_path(tmp_path, records[0]).parts[-2:] == ("labelsTr", "p1_ED.nii.gz")


def test_not_a_dataset_folder(tmp_path):
    with pytest.raises(UserError, match="not a chdml dataset folder"):
        read_cases(tmp_path)
    (tmp_path / "dataset.json").write_text("{oops")
    with pytest.raises(UserError, match="dataset.json"):
        read_labels(tmp_path)


def test_bad_row_names_line(tmp_path):
    (tmp_path / "cases.csv").write_text("case,patient,split,phase,view,diagnosis,spacing\n"
                                        "a,p,train,ED,SAX,x,1x1\n")
    with pytest.raises(UserError, match="line 2"):
        read_cases(tmp_path)
