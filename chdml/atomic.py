"""Atomic output: a file or folder appears complete, or not at all.

Writers build their output under a temporary name beside the destination and rename
it into place only when everything succeeded. After an exception or Ctrl-C nothing
half-written is left behind (the temporary is removed; a destination that existed
before is left untouched).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(destination: os.PathLike | str, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary file path; on success it replaces ``destination``.

    The temporary lives in the destination's folder (same file system, so the final
    ``os.replace`` is atomic) and keeps ``suffix`` so that libraries which look at the
    extension (nibabel's ``.nii.gz``, Keras' ``.keras``) behave.

    Example:
        >>> with atomic_path("out/mask.nii.gz", suffix=".nii.gz") as tmp:
        ...     nib.save(img, tmp)
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix or "".join(destination.suffixes)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=f".part{suffix}",
                                    dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():  # mkstemp makes files 0600; give them the usual umask permissions
            os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, destination)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_directory(destination: os.PathLike | str, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it becomes ``destination``.

    ``destination`` must not exist unless ``overwrite`` is true, in which case the old
    folder is replaced only after the new one is complete. On any error (Ctrl-C
    included) the temporary folder is deleted and ``destination`` is as it was.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".part",
                                dir=destination.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_current_umask())  # mkdtemp makes folders 0700
        if destination.exists():
            if not overwrite:
                raise FileExistsError(destination)
            old = destination.with_name(f".{destination.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(destination, old)
            os.replace(tmp, destination)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, destination)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(destination: os.PathLike | str, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    with atomic_path(destination) as tmp:
        tmp.write_text(text, encoding="utf-8")


def remove_stale_temporaries(folder: os.PathLike | str, recursive: bool = False) -> list[Path]:
    """Delete the temporary files a killed writer left in ``folder``.

    :func:`atomic_path` cleans up after exceptions and Ctrl-C, but ``kill -9`` (or a
    power cut) can leave its ``.NAME.XXXX.part*`` file behind. ``recursive``: in
    sub-folders too. Call this only where no other process is writing into ``folder``
    at the same time. Returns what it removed; a folder that does not exist is fine.
    """
    removed = []
    pattern = Path(folder).rglob if recursive else Path(folder).glob
    for path in sorted(pattern(".*.part*")):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
