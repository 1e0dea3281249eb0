"""Does `chdml data fetch karimi2020` build correct, checked dataset folders from a mirror?

The mirror is a local HTTP server with the shared tarball's real files (the 26 training
subjects, `nearest/` only). The 38 official test subjects are not in the tarball, so the
official split is tested with small fabricated `.mat` files for them, whose checksums
replace the real ones in a patched registry.
"""
import csv
import hashlib
import io
import json
import socket
import tarfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from chdml.data import download, karimi
from chdml.data.folder import image_path, label_path, read_cases, read_labels
from chdml.data.nifti import load_image, load_label
from chdml.errors import UserError
from tests.conftest import KARIMI_SHARED

from .mirror_server import MirrorServer

TARBALL = KARIMI_SHARED / "karimi2020-train-nearest.tar.xz"
needs_real_data = pytest.mark.skipif(not TARBALL.is_file(),
                                     reason=f"the shared training tarball {TARBALL} is not here")


def _mat_bytes(key: str, array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    scipy.io.savemat(buf, {key: array})
    return buf.getvalue()


def _fabricate_subject(root: Path, subject: int, registry: dict) -> None:
    """Small made-up stacks (slices x 16 x 16) for one subject, LV and RV, ED and ES."""
    rng = np.random.default_rng(subject)
    for structure in karimi.STRUCTURES:
        for phase in karimi.PHASES:
            slices = 2 + (subject + len(structure + phase)) % 3
            image = rng.uniform(0, 255, size=(slices, 16, 16))
            mask = np.zeros_like(image)
            mask[:, 4:10, 5:11] = 1.0
            for kind, key, array in (("image", "image", image), ("mask", "mask", mask)):
                rel = karimi.source_path("nearest", structure, subject, phase, kind)
                data = _mat_bytes(key, array)
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_bytes(data)
                registry[rel] = hashlib.sha256(data).hexdigest()


def _fabricate_metadata(root: Path, registry: dict) -> None:
    rows = ["Subjects,Disease,Pixel Size (dx),Pixel Size (dy),Slice Thickness,"
            "Spacing Between Slices,Acquisition Matrix"]
    rows += [f'{s},Tetralogy of Fallot,1.5,1.5,8,8,"(256, 256)"' for s in range(1, 65)]
    data = ("\n".join(rows) + "\n").encode()
    (root / "Metadata.csv").write_bytes(data)
    registry["Metadata.csv"] = hashlib.sha256(data).hexdigest()


class Mirror:
    def __init__(self, server: MirrorServer, registry: dict, real: bool):
        self.server, self.registry, self.real = server, registry, real
        self.url, self.root = server.url, server.root


@pytest.fixture(scope="module")
def mirror_state(tmp_path_factory):
    """Real training files (when the tarball is here) + fabricated test subjects."""
    root = tmp_path_factory.mktemp("karimi_mirror")
    registry = download.read_registry(download.registry_path("karimi2020"))
    real = TARBALL.is_file()
    if real:
        with tarfile.open(TARBALL) as tar:
            tar.extractall(root, filter="data")
    else:
        _fabricate_metadata(root, registry)
        for subject in karimi.TRAIN_SUBJECTS:
            _fabricate_subject(root, subject, registry)
    for subject in karimi.TEST_SUBJECTS:
        _fabricate_subject(root, subject, registry)
    with MirrorServer(root) as server:
        yield Mirror(server, registry, real)


@pytest.fixture
def mirror(mirror_state, monkeypatch):
    """The module's mirror, with the patched registry and a clean request log."""
    mirror_state.server.reset()
    monkeypatch.setattr(download, "read_registry", lambda path: dict(mirror_state.registry))
    monkeypatch.setattr(download, "BACKOFF_S", 0.0)
    yield mirror_state
    mirror_state.server.reset()


@pytest.fixture(scope="module")
def fetched(mirror_state, tmp_path_factory):
    """LV train (over HTTP), RV train (over file://) and LV all, sharing one cache."""
    base = tmp_path_factory.mktemp("fetched")
    cache = base / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(download, "read_registry", lambda path: dict(mirror_state.registry))
        karimi.fetch_karimi2020(base / "lv_train", "LV", base_url=mirror_state.url,
                                cache=cache, split="train", show_progress=False)
        karimi.fetch_karimi2020(base / "rv_train", "rv", base_url=mirror_state.root.as_uri(),
                                cache=cache, split="train", show_progress=False)
        karimi.fetch_karimi2020(base / "lv_all", "LV", base_url=mirror_state.url,
                                cache=cache, show_progress=False)
    return base


def _source_stack(mirror, structure, subject, phase, kind):
    rel = karimi.source_path("nearest", structure, subject, phase, kind)
    return scipy.io.loadmat(str(mirror.root / rel))[kind]


def _metadata(mirror):
    with (mirror.root / "Metadata.csv").open(newline="") as fh:
        return {int(r["Subjects"]): r for r in csv.DictReader(fh)}


def test_train_split_has_26_patients_with_source_shapes_spacing_and_labels(fetched, mirror):
    root = fetched / "lv_train"
    records = read_cases(root)
    assert len(records) == 52 and {r.split for r in records} == {"train"}
    assert sorted({r.patient for r in records}) == \
        sorted(karimi.patient_id(s) for s in karimi.TRAIN_SUBJECTS)
    assert not (root / "imagesTs").exists()
    meta = _metadata(mirror)
    for record in records:
        subject = int(record.patient[3:])
        row = meta[subject]
        expected_spacing = (float(row["Pixel Size (dy)"]), float(row["Pixel Size (dx)"]),
                            float(row["Spacing Between Slices"]))
        assert record.spacing == pytest.approx(expected_spacing)
        assert record.diagnosis == row["Disease"] and record.view == "SAX"
        image = load_image(image_path(root, record))
        label = load_label(label_path(root, record))
        source = _source_stack(mirror, "LV", subject, record.phase, "image")
        source_mask = _source_stack(mirror, "LV", subject, record.phase, "mask")
        np.testing.assert_array_equal(image.array, np.transpose(source, (1, 2, 0)).astype(np.float32))
        np.testing.assert_array_equal(label.array, np.transpose(source_mask, (1, 2, 0)).astype(np.uint8))
        assert image.spacing == pytest.approx(expected_spacing)
        assert label.spacing == pytest.approx(expected_spacing)
        assert set(np.unique(label.array)) == {0, 1}
    assert read_labels(root) == {"background": 0, "LV": 1}
    meta_json = json.loads((root / "dataset.json").read_text())
    assert "10.1186/s12968-020-00678-0" in meta_json["reference"]
    assert "cited" in meta_json["licence"]


@needs_real_data
def test_real_volumes_and_slice_counts(fetched, mirror):
    """Subject 1's LV end-diastolic volume is 180.3 mL (the spacing reasoning in karimi.py);
    subject 7 has 10 LV and 9 RV slices at end-diastole."""
    lv = load_label(fetched / "lv_train" / "labelsTr" / "sbj01_ED.nii.gz")
    assert lv.array.shape == (128, 128, 13)
    assert (lv.array == 1).sum() * lv.voxel_volume_ml == pytest.approx(180.3, abs=0.1)
    assert load_image(fetched / "lv_train" / "imagesTr" / "sbj07_ED_0000.nii.gz").array.shape[2] == 10
    assert load_image(fetched / "rv_train" / "imagesTr" / "sbj07_ED_0000.nii.gz").array.shape[2] == 9


def test_rv_labels_are_3(fetched):
    root = fetched / "rv_train"
    assert read_labels(root) == {"background": 0, "RV": 3}
    label = load_label(root / "labelsTr" / "sbj01_ES.nii.gz")
    assert set(np.unique(label.array)) == {0, 3}
    assert len(read_cases(root)) == 52


def test_official_split_puts_38_test_patients_in_imagesTs(fetched):
    root = fetched / "lv_all"
    records = read_cases(root)
    test = [r for r in records if r.split == "test"]
    assert len({r.patient for r in test}) == 38 and len(test) == 76
    assert {r.patient for r in test} == {karimi.patient_id(s) for s in karimi.TEST_SUBJECTS}
    assert len(list((root / "imagesTs").glob("*_0000.nii.gz"))) == 76
    assert len(list((root / "labelsTs").glob("*.nii.gz"))) == 76
    assert len(list((root / "imagesTr").glob("*.nii.gz"))) == 52
    meta = json.loads((root / "dataset.json").read_text())
    assert (meta["numTraining"], meta["numTest"]) == (52, 76)
    vol = load_image(image_path(root, test[0]))
    assert vol.array.shape[:2] == (16, 16)  # the fabricated stand-ins


def test_tampered_file_is_refused_and_nothing_is_left(run_cli, mirror, tmp_path):
    bad = karimi.source_path("nearest", "LV", 3, "ED", "image")
    mirror.server.overrides[bad] = (mirror.root / bad).read_bytes()[:-8] + b"tampered"
    out, cache = tmp_path / "out", tmp_path / "cache"
    code, stdout, err = run_cli("data", "fetch", "karimi2020", "--out", out, "--structure", "LV",
                                "--split", "train", "--base-url", mirror.url, "--cache", cache)
    assert code == 2
    message = err.strip()
    assert bad in message and "sha256" in message and "--base-url" in message
    assert message.count("\n") == 0
    assert not out.exists() and list(tmp_path.iterdir()) == [cache]
    assert not (cache / "karimi2020" / bad).exists()
    assert not list(cache.rglob("*.part"))
    kept = [p for p in cache.rglob("*") if p.is_file()]
    assert kept  # the files verified before the bad one stay in the cache ...
    for path in kept:  # ... and every one of them is verified
        rel = path.relative_to(cache / "karimi2020").as_posix()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == mirror.registry[rel]
    assert "doi:10.1186/s12968-020-00678-0" in stdout  # the citation is printed on every fetch


def test_cached_files_are_not_downloaded_again(run_cli, fetched, mirror, tmp_path):
    code, stdout, _ = run_cli("data", "fetch", "karimi2020", "--out", tmp_path / "again",
                              "--structure", "LV", "--split", "train", "--base-url", mirror.url,
                              "--cache", fetched / "cache")
    assert code == 0 and mirror.server.log == []
    assert "doi:10.1186/s12968-020-00678-0" in stdout
    assert len(read_cases(tmp_path / "again")) == 52


def test_interrupted_conversion_leaves_no_folder(fetched, mirror, tmp_path, monkeypatch):
    import chdml.data.nifti as nifti

    calls = []
    real_save = nifti.save_label

    def interrupt_on_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_save(*args, **kwargs)

    monkeypatch.setattr(nifti, "save_label", interrupt_on_third)
    with pytest.raises(KeyboardInterrupt):
        karimi.fetch_karimi2020(tmp_path / "out", "LV", base_url=mirror.url,
                                cache=fetched / "cache", split="train", show_progress=False)
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_needs_overwrite(run_cli, fetched, mirror, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    args = ["data", "fetch", "karimi2020", "--out", out, "--structure", "RV", "--split", "train",
            "--base-url", mirror.root.as_uri(), "--cache", fetched / "cache"]
    code, _, err = run_cli(*args)
    assert code == 2 and "--overwrite" in err and (out / "old.txt").exists()
    code, _, _ = run_cli(*args, "--overwrite")
    assert code == 0 and not (out / "old.txt").exists()
    assert read_labels(out) == {"background": 0, "RV": 3}


def test_unknown_structure_lists_lv_and_rv(run_cli, tmp_path):
    code, _, err = run_cli("data", "fetch", "karimi2020", "--out", tmp_path / "o",
                           "--structure", "myo")
    assert code == 2 and "'MYO'" in err and "LV" in err and "RV" in err
    assert err.strip().count("\n") == 0 and not (tmp_path / "o").exists()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize("problem", ["refused", "unresolvable", "404"])
def test_network_problems_are_one_sentence_exit_2(problem, run_cli, mirror, tmp_path, monkeypatch):
    if problem == "refused":
        base, expect = f"http://127.0.0.1:{_closed_port()}/", "refused"
    elif problem == "unresolvable":
        def no_dns(*args, **kwargs):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        monkeypatch.setattr(socket, "getaddrinfo", no_dns)
        base, expect = "https://raw.example.invalid/", "raw.example.invalid"
    else:
        base, expect = mirror.url + "wrong/folder/", "404"
    out = tmp_path / "out"
    code, _, err = run_cli("data", "fetch", "karimi2020", "--out", out, "--structure", "LV",
                           "--base-url", base, "--cache", tmp_path / "cache")
    assert code == 2 and expect in err and "--base-url" in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert not out.exists()


def test_default_base_url_is_github_raw_at_the_pinned_commit():
    assert karimi.DEFAULT_BASE_URL == ("https://raw.githubusercontent.com/saeedkarimi/"
                                       "Cardiac_MRI_Segmentation/"
                                       "1e0d483045cbcd4d172156152c6ab7e8169528a4/")
    assert set(karimi.TRAIN_SUBJECTS) | set(karimi.TEST_SUBJECTS) == set(range(1, 65))
    assert not set(karimi.TRAIN_SUBJECTS) & set(karimi.TEST_SUBJECTS)
    assert len(karimi.source_files("RV", "all")) == 1 + 64 * 4


def test_mask_with_values_outside_0_1_is_refused(tmp_path):
    with pytest.raises(UserError, match="not a 0/1 mask"):
        karimi.mask_to_label(np.array([[[0.0, 255.0]]]), 1, tmp_path / "m.mat")
    np.testing.assert_array_equal(karimi.mask_to_label(np.array([[[0.0, 0.6, 1.0]]]), 3, "m"),
                                  [[[0, 3, 3]]])


def test_broken_metadata_and_mat_files_are_named(tmp_path):
    meta = tmp_path / "Metadata.csv"
    meta.write_text("Subjects,Disease\n1,ToF\n")
    with pytest.raises(UserError, match="Metadata.csv.*Pixel Size"):
        karimi.read_metadata(meta)
    junk = tmp_path / "Sbj_1_LVED_image.mat"
    junk.write_bytes(b"not a mat file")
    with pytest.raises(UserError, match="Sbj_1_LVED_image.mat"):
        karimi.read_mat(junk, "image")
    other = tmp_path / "other.mat"
    scipy.io.savemat(other, {"picture": np.zeros((2, 4, 4))})
    with pytest.raises(UserError, match="no array 'image'"):
        karimi.read_mat(other, "image")


@pytest.mark.network
def test_default_url_serves_the_pinned_metadata(tmp_path):
    """With internet: GitHub's raw URL at the pinned commit has the registered Metadata.csv."""
    try:
        socket.getaddrinfo("raw.githubusercontent.com", 443)
    except OSError:
        pytest.skip("no network")
    registry = download.read_registry(download.registry_path("karimi2020"))
    path = download.fetch_file("Metadata.csv", registry["Metadata.csv"], karimi.DEFAULT_BASE_URL,
                               tmp_path)
    assert "Spacing Between Slices" in path.read_text()
