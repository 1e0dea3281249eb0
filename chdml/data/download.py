"""Checked, cached, resumable downloads of public datasets.

Every file chdml downloads is named in a *registry*: a ``sha256sum``-style text file in
``chdml/data/registry/<dataset>.sha256`` with one ``<sha256>  <path>`` line per file,
``<path>`` relative to the dataset's base URL. A file is fetched from
``<base_url>/<path>`` into ``<cache>/<dataset>/<path>`` and kept only when its sha256
matches the registry; a mismatch deletes it and raises :class:`ChecksumError`.

Behaviour, in the order a download goes through it:

- A file already in the cache with the right checksum is used as it is (no network).
  One with a wrong checksum (damaged cache) is deleted and downloaded again.
- Bytes arrive in ``<file>.part`` beside the final name. An interrupted download (lost
  connection, Ctrl-C) leaves the ``.part`` file; the next attempt asks the server for the
  rest with an HTTP ``Range`` request. A server that ignores ``Range`` (answers 200) is
  handled by starting the file again from zero. If a resumed file fails its checksum it
  is downloaded once more from the start before being refused.
- Transient errors (timeouts, refused or reset connections, HTTP 408/429/5xx) are retried
  with exponential back-off (``RETRIES`` attempts, ``BACKOFF_S`` doubling); a host name
  that does not resolve, an HTTP 404 or another 4xx fails at once.
- ``file://`` base URLs (a local mirror) are copied, with the same checksum check.
- The cache folder is, in order: the ``cache`` argument, the ``CHDML_CACHE`` environment
  variable, or the per-user cache folder (``pooch.os_cache("chdml")``, e.g.
  ``~/.cache/chdml`` on Linux). It only ever holds verified files and ``.part`` files.

Two processes downloading into the same cache at the same moment are not coordinated;
run one fetch at a time per cache folder.

Example:
    >>> checksums = read_registry(registry_path("karimi2020"))
    >>> path = fetch_file("Metadata.csv", checksums["Metadata.csv"],
    ...                   base_url="https://example.org/mirror/", cache_dir=cache_root() / "karimi2020")
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from chdml.errors import UserError, describe_path

ENV_CACHE = "CHDML_CACHE"
RETRIES = 4          # attempts per file for transient network errors
BACKOFF_S = 1.0      # first wait between attempts; doubles each time
TIMEOUT_S = 30.0     # socket timeout per request
CHUNK = 1 << 20
_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}
_DISK_ERRNOS = {errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT, errno.EPERM}


class ChecksumError(UserError):
    """A downloaded file does not match its registry checksum (it was deleted)."""


class _Transient(Exception):
    """A network error worth retrying."""


def cache_root(cache: os.PathLike | str | None = None) -> Path:
    """The cache folder: ``cache`` if given, else ``$CHDML_CACHE``, else the user cache."""
    if cache:
        return Path(cache).expanduser()
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("chdml"))


def registry_path(name: str) -> Path:
    """Path of the packaged registry ``chdml/data/registry/<name>.sha256``."""
    path = Path(str(resources.files("chdml.data.registry") / f"{name}.sha256"))
    if not path.is_file():
        raise UserError(f"chdml has no registry for the dataset {name!r} ({describe_path(path)} "
                        "is missing); reinstall chdml or check the dataset name.")
    return path


def read_registry(path: os.PathLike | str) -> dict[str, str]:
    """Read a ``sha256sum`` file into ``{relative path: sha256 hex}``.

    Lines are ``<64 hex digits><space><space or *><path>``; blank lines and lines
    starting with ``#`` are ignored.
    """
    path = Path(path)
    checksums: dict[str, str] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, name = line.partition(" ")
        name = name[1:] if name[:1] in (" ", "*") else name
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest.lower()) \
                or not name:
            raise UserError(f"line {line_no} of {describe_path(path)} is not "
                            "'<sha256>  <path>'; restore the file from the chdml package.")
        checksums[name] = digest.lower()
    return checksums


def sha256_of(path: os.PathLike | str) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def join_url(base_url: str, relpath: str) -> str:
    """``base_url`` + ``/`` + the URL-quoted relative path."""
    return base_url.rstrip("/") + "/" + urllib.parse.quote(relpath)


def _check_base_url(base_url: str) -> None:
    scheme = urllib.parse.urlparse(base_url).scheme
    if scheme not in ("http", "https", "file"):
        raise UserError(f"the base URL {base_url!r} is not http://, https:// or file://; "
                        "pass --base-url with one of those (file:///path/to/mirror for a local copy).")


def fetch_file(relpath: str, sha256: str, base_url: str, cache_dir: os.PathLike | str,
               progress: Callable[[int], None] | None = None) -> Path:
    """Return the cached, verified copy of ``relpath``, downloading it if needed.

    Args:
        relpath: path relative to ``base_url`` and to ``cache_dir`` (``nearest/LV/x.mat``).
        sha256: expected hex digest.
        base_url: ``https://``, ``http://`` or ``file://`` URL of the folder holding ``relpath``.
        cache_dir: folder the file is kept in (created if needed).
        progress: called with the number of new bytes as they arrive.

    Raises:
        ChecksumError: the downloaded bytes do not match ``sha256`` (nothing is kept).
        UserError: no network, unknown host, HTTP 404 and similar (one sentence, with the URL).
    """
    _check_base_url(base_url)
    if Path(relpath).is_absolute() or ".." in Path(relpath).parts:
        raise ValueError(f"registry paths must be relative and stay inside the cache: {relpath!r}")
    dest = Path(cache_dir) / relpath
    if dest.is_file():
        if sha256_of(dest) == sha256:
            return dest
        dest.unlink()  # damaged cache entry: fetch it again
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(dest.parent, exc) from None
    url = join_url(base_url, relpath)
    for _ in range(2):
        resumed = part.is_file() and part.stat().st_size > 0
        _download(url, part, progress)
        found = sha256_of(part)
        if found == sha256:
            os.replace(part, dest)
            return dest
        part.unlink(missing_ok=True)
        if not resumed:
            break  # a fresh download with the wrong bytes: refuse it
    raise ChecksumError(
        f"{relpath!r} from {url} has sha256 {found}, not the expected {sha256}, so it was "
        "deleted (the server's copy is damaged or not the pinned version): point --base-url "
        "at an unmodified copy of the repository at the pinned commit and run the command again.")


def fetch_files(items: Iterable[tuple[str, str]], base_url: str, cache_dir: os.PathLike | str,
                description: str = "download", show_progress: bool | None = None) -> dict[str, Path]:
    """Fetch several ``(relpath, sha256)`` pairs with one progress bar; return their paths.

    ``show_progress=None`` shows the bar only on a terminal.
    """
    from tqdm.auto import tqdm

    items = list(items)
    paths: dict[str, Path] = {}
    received = 0
    disable = None if show_progress is None else not show_progress
    with tqdm(total=len(items), unit="file", desc=description, disable=disable,
              dynamic_ncols=True) as bar:
        def on_bytes(n: int) -> None:
            nonlocal received
            received += n
            bar.set_postfix_str(f"{received / 1e6:.1f} MB downloaded", refresh=False)

        for relpath, digest in items:
            paths[relpath] = fetch_file(relpath, digest, base_url, cache_dir, progress=on_bytes)
            bar.update(1)
    return paths


# -- one download ---------------------------------------------------------------------

def _download(url: str, part: Path, progress: Callable[[int], None] | None) -> None:
    """Bring ``part`` to the full content of ``url`` (resuming, retrying)."""
    if urllib.parse.urlparse(url).scheme == "file":
        _copy_local(url, part, progress)
        return
    last: Exception | None = None
    for attempt in range(RETRIES):
        if attempt:
            time.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            _http_get(url, part, progress)
            return
        except _Transient as exc:
            last = exc.__cause__ or exc
    raise UserError(f"cannot download {url} ({_reason(last)}) after {RETRIES} tries; check "
                    "the network connection, or point --base-url at a reachable mirror "
                    "(file:///path/to/copy for a local one); what was downloaded so far is "
                    "kept and the next run resumes.")


def _http_get(url: str, part: Path, progress: Callable[[int], None] | None) -> None:
    offset = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "chdml (dataset fetch)"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            return  # the .part is already complete (or too long): the checksum decides
        if exc.code in _TRANSIENT_HTTP:
            raise _Transient() from exc
        raise UserError(f"the server answered HTTP {exc.code} ({exc.reason}) for {url}; check "
                        "--base-url (it must point at the folder that holds the dataset's "
                        "files, e.g. the repository at the pinned commit).") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.gaierror):
            host = urllib.parse.urlparse(url).hostname
            raise UserError(f"cannot resolve the host {host!r} of {url} (no network, or a "
                            "wrong address); connect to the internet, or point --base-url at a "
                            "mirror you can reach (file:///path/to/copy for a local one).") from None
        raise _Transient() from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _Transient() from exc
    with response:
        status = response.status
        content_range = response.headers.get("Content-Range", "")
        append = bool(offset) and status == 206 and content_range.startswith(f"bytes {offset}-")
        if status == 206 and not append:  # a range we did not ask for: start again from zero
            part.unlink(missing_ok=True)
            raise _Transient() from ConnectionError(f"unexpected Content-Range {content_range!r}")
        try:
            with open(part, "ab" if append else "wb") as fh:
                while True:
                    try:
                        block = response.read(CHUNK)
                    except (OSError, http.client.HTTPException) as exc:
                        raise _Transient() from exc
                    if not block:
                        break
                    fh.write(block)
                    if progress:
                        progress(len(block))
        except OSError as exc:
            if exc.errno in _DISK_ERRNOS:
                raise _disk_error(part.parent, exc) from None
            raise _Transient() from exc
        expected = response.headers.get("Content-Length")
    if expected is not None and status in (200, 206):
        size = part.stat().st_size
        want = int(expected) + (offset if append else 0)
        if size < want:  # connection closed early: resume on the next attempt
            raise _Transient() from ConnectionError(f"got {size} of {want} bytes")


def _copy_local(url: str, part: Path, progress: Callable[[int], None] | None) -> None:
    parsed = urllib.parse.urlparse(url)
    source = Path(urllib.request.url2pathname(parsed.path))
    if not source.is_file():
        raise UserError(f"{url} does not exist ({describe_path(source)} is not a file); check "
                        "--base-url (it must point at the folder that holds the dataset's files).")
    try:
        src = open(source, "rb")
    except OSError as exc:
        raise UserError(f"cannot read {describe_path(source)} ({exc.strerror or exc}); check "
                        "the mirror folder given with --base-url.") from None
    with src:
        try:
            with open(part, "wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
                    if progress:
                        progress(len(block))
        except OSError as exc:
            raise _disk_error(part.parent, exc) from None


def _disk_error(folder: Path, exc: OSError) -> UserError:
    return UserError(f"cannot write to the cache folder {describe_path(folder)} "
                     f"({exc.strerror or exc}); free some space or choose another folder "
                     f"with --cache or the {ENV_CACHE} environment variable.")


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


__all__ = ["ChecksumError", "cache_root", "registry_path", "read_registry", "sha256_of",
           "join_url", "fetch_file", "fetch_files", "ENV_CACHE"]
