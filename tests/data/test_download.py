"""Are downloads checked, cached and resumed, and are network problems named in one sentence?"""
import hashlib
import socket

import pytest

from chdml.data import download
from chdml.data.download import ChecksumError, fetch_file, fetch_files, read_registry
from chdml.errors import UserError

from tests.conftest import KARIMI_SHARED
from .mirror_server import MirrorServer

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
NAME = "nearest/LV/Sbj_1_LVED_image.mat"


@pytest.fixture
def mirror(tmp_path):
    root = tmp_path / "mirror"
    (root / "nearest" / "LV").mkdir(parents=True)
    (root / NAME).write_bytes(PAYLOAD)
    with MirrorServer(root) as server:
        yield server


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(download, "BACKOFF_S", 0.0)


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.rstrip().endswith(".")


def test_download_is_verified_and_cached(mirror, tmp_path):
    cache = tmp_path / "cache"
    path = fetch_file(NAME, DIGEST, mirror.url, cache)
    assert path == cache / NAME and path.read_bytes() == PAYLOAD
    assert not list(cache.rglob("*.part"))
    mirror.log.clear()
    assert fetch_file(NAME, DIGEST, mirror.url, cache) == path
    assert mirror.log == []  # a verified cached file is not downloaded again


def test_tampered_file_is_refused_named_and_not_kept(mirror, tmp_path):
    cache = tmp_path / "cache"
    mirror.overrides[NAME] = PAYLOAD[:-1] + b"X"
    with pytest.raises(ChecksumError) as info:
        fetch_file(NAME, DIGEST, mirror.url, cache)
    message = str(info.value)
    found = hashlib.sha256(mirror.overrides[NAME]).hexdigest()
    assert NAME in message and DIGEST in message and found in message
    assert "--base-url" in message and one_sentence(message)
    assert not (cache / NAME).exists()
    assert not list(cache.rglob("*.part"))
    assert isinstance(info.value, UserError)


def test_part_file_is_completed_with_a_range_request(mirror, tmp_path):
    cache = tmp_path / "cache"
    part = cache / (NAME + ".part")
    part.parent.mkdir(parents=True)
    half = len(PAYLOAD) // 2
    part.write_bytes(PAYLOAD[:half])
    path = fetch_file(NAME, DIGEST, mirror.url, cache)
    assert path.read_bytes() == PAYLOAD and not part.exists()
    assert [(e["range"], e["status"]) for e in mirror.requests_for(NAME)] == \
        [(f"bytes={half}-", 206)]


def test_server_ignoring_range_restarts_cleanly(mirror, tmp_path):
    cache = tmp_path / "cache"
    part = cache / (NAME + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:1000])
    mirror.ignore_range = True
    assert fetch_file(NAME, DIGEST, mirror.url, cache).read_bytes() == PAYLOAD
    assert [e["status"] for e in mirror.requests_for(NAME)] == [200]


def test_resumed_part_with_wrong_bytes_is_downloaded_again_from_zero(mirror, tmp_path):
    cache = tmp_path / "cache"
    part = cache / (NAME + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 5000)  # stale or damaged beginning
    assert fetch_file(NAME, DIGEST, mirror.url, cache).read_bytes() == PAYLOAD
    assert [e["range"] for e in mirror.requests_for(NAME)] == ["bytes=5000-", None]


def test_complete_part_file_answered_416_is_verified(mirror, tmp_path):
    cache = tmp_path / "cache"
    part = cache / (NAME + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD)
    assert fetch_file(NAME, DIGEST, mirror.url, cache).read_bytes() == PAYLOAD
    assert [e["status"] for e in mirror.requests_for(NAME)] == [416]


def test_dropped_connection_is_resumed(mirror, tmp_path):
    cache = tmp_path / "cache"
    mirror.cut[NAME] = 30000
    assert fetch_file(NAME, DIGEST, mirror.url, cache).read_bytes() == PAYLOAD
    ranges = [e["range"] for e in mirror.requests_for(NAME)]
    assert ranges == [None, "bytes=30000-"]


def test_transient_server_errors_are_retried(mirror, tmp_path):
    mirror.fail[NAME] = [503, 2]
    assert fetch_file(NAME, DIGEST, mirror.url, tmp_path / "c").read_bytes() == PAYLOAD
    assert [e["status"] for e in mirror.requests_for(NAME)] == [503, 503, 200]


def test_persistent_server_error_gives_up_with_one_sentence(mirror, tmp_path):
    mirror.fail[NAME] = [503, 99]
    with pytest.raises(UserError) as info:
        fetch_file(NAME, DIGEST, mirror.url, tmp_path / "c")
    assert len(mirror.requests_for(NAME)) == download.RETRIES
    assert "503" in str(info.value) and one_sentence(str(info.value))


def test_404_names_the_url_and_suggests_base_url(mirror, tmp_path):
    with pytest.raises(UserError) as info:
        fetch_file("nearest/LV/missing.mat", DIGEST, mirror.url, tmp_path / "c")
    message = str(info.value)
    assert "404" in message and mirror.url + "nearest/LV/missing.mat" in message
    assert "--base-url" in message and one_sentence(message)
    assert len(mirror.log) == 1  # a 404 is not retried


def test_connection_refused_is_a_clear_error(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    with pytest.raises(UserError) as info:
        fetch_file(NAME, DIGEST, f"http://127.0.0.1:{port}/", tmp_path / "c")
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "refused" in message.lower()
    assert "--base-url" in message and one_sentence(message)


def test_unresolvable_host_is_a_clear_error(tmp_path, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(UserError) as info:
        fetch_file(NAME, DIGEST, "https://mirror.example.invalid/data/", tmp_path / "c")
    message = str(info.value)
    assert "mirror.example.invalid" in message and "network" in message
    assert one_sentence(message)


def test_file_url_mirror_works_and_missing_file_is_named(mirror, tmp_path):
    base = mirror.root.as_uri() + "/"
    assert fetch_file(NAME, DIGEST, base, tmp_path / "c").read_bytes() == PAYLOAD
    with pytest.raises(UserError, match="does not exist"):
        fetch_file("nearest/LV/nope.mat", DIGEST, base, tmp_path / "c")


def test_damaged_cache_entry_is_replaced(mirror, tmp_path):
    cache = tmp_path / "cache"
    (cache / NAME).parent.mkdir(parents=True)
    (cache / NAME).write_bytes(b"bit rot")
    assert fetch_file(NAME, DIGEST, mirror.url, cache).read_bytes() == PAYLOAD


def test_unknown_url_scheme_is_refused(tmp_path):
    with pytest.raises(UserError, match="ftp://"):
        fetch_file(NAME, DIGEST, "ftp://example.org/", tmp_path / "c")


def test_fetch_files_returns_every_path(mirror, tmp_path):
    other = b"second file"
    mirror.overrides["Metadata.csv"] = other
    paths = fetch_files([(NAME, DIGEST), ("Metadata.csv", hashlib.sha256(other).hexdigest())],
                        mirror.url, tmp_path / "c", show_progress=False)
    assert paths["Metadata.csv"].read_bytes() == other and paths[NAME].read_bytes() == PAYLOAD


def test_cache_folder_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(download.ENV_CACHE, str(tmp_path / "env"))
    assert download.cache_root(tmp_path / "arg") == tmp_path / "arg"
    assert download.cache_root() == tmp_path / "env"
    monkeypatch.delenv(download.ENV_CACHE)
    assert download.cache_root().name == "chdml"


def test_registry_lines_are_parsed_and_bad_lines_named(tmp_path):
    good = tmp_path / "good.sha256"
    good.write_text(f"# comment\n{DIGEST}  a b.mat\n{DIGEST} *c.mat\n\n")
    assert read_registry(good) == {"a b.mat": DIGEST, "c.mat": DIGEST}
    bad = tmp_path / "bad.sha256"
    bad.write_text(f"{DIGEST}  ok.mat\nnot-a-checksum  x.mat\n")
    with pytest.raises(UserError, match="line 2 of .*bad.sha256"):
        read_registry(bad)


def test_packaged_karimi_registry_lists_all_64_subjects():
    registry = read_registry(download.registry_path("karimi2020"))
    assert len(registry) == 1026
    for resampling in ("nearest", "bicubic"):
        for structure in ("LV", "RV"):
            subjects = {int(p.split("_")[1]) for p in registry
                        if p.startswith(f"{resampling}/{structure}/")}
            assert subjects == set(range(1, 65))
    shared = KARIMI_SHARED / "SHA256SUMS"
    if shared.is_file():
        assert registry == read_registry(shared)


def test_ctrl_c_keeps_the_part_file_and_the_next_run_resumes(mirror, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "CHUNK", 4096)  # several blocks per file
    cache = tmp_path / "cache"
    received = []

    def interrupt_after_first_block(n):
        received.append(n)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_file(NAME, DIGEST, mirror.url, cache, progress=interrupt_after_first_block)
    part = cache / (NAME + ".part")
    assert not (cache / NAME).exists() and part.stat().st_size == received[0] < len(PAYLOAD)
    assert fetch_file(NAME, DIGEST, mirror.url, cache).read_bytes() == PAYLOAD
    assert mirror.requests_for(NAME)[-1]["range"] == f"bytes={received[0]}-"
