"""Benchmark: `chdml data fetch karimi2020` from a local mirror, and DICOM -> NIfTI.

Run from the repository root:  .venv/bin/python bench/bench_fetch.py
Needs the shared training tarball (../shared/data/karimi2020 or $CHDML_SHARED); prints a
Markdown table (seconds, wall clock, one run each).
"""
from __future__ import annotations

import functools
import http.server
import os
import platform
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from chdml.data import dicom, karimi

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    for candidate in (os.environ.get("CHDML_SHARED"), ROOT.parent / "shared",
                      ROOT.parents[1] / "shared"):
        if candidate and Path(candidate, "data", "karimi2020").is_dir():
            return Path(candidate)
    raise SystemExit("the shared folder with data/karimi2020 was not found; set CHDML_SHARED")


def timed(label, rows, function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    rows.append((label, time.perf_counter() - start))
    return result


def main() -> None:
    tarball = shared_dir() / "data" / "karimi2020" / "karimi2020-train-nearest.tar.xz"
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mirror = tmp / "mirror"
        with tarfile.open(tarball) as tar:
            timed("extract the shared tarball (210 files)", rows, tar.extractall, mirror,
                  filter="data")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror))
        handler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        cache = tmp / "cache"
        common = dict(cache=cache, split="train", show_progress=False)
        timed("fetch LV train, HTTP, cold cache (105 files, 52 cases)", rows,
              karimi.fetch_karimi2020, tmp / "lv", "LV", base_url=url, **common)
        timed("fetch LV train, warm cache (checksums + conversion)", rows,
              karimi.fetch_karimi2020, tmp / "lv2", "LV", base_url=url, **common)
        timed("fetch RV train, file:// mirror, cold cache", rows,
              karimi.fetch_karimi2020, tmp / "rv", "RV", base_url=mirror.as_uri(), **common)
        server.shutdown()
        volume = np.random.default_rng(0).integers(0, 2000, (256, 256, 14, 25)).astype(float)
        timed("write a synthetic cine DICOM series (256x256, 14 slices x 25 phases)", rows,
              dicom.write_series, volume, (1.4, 1.4, 8.0), tmp / "dcm")
        timed("convert-dicom one phase of it (reads all 350 files)", rows,
              dicom.convert, tmp / "dcm", tmp / "sax.nii.gz", frame=0)
    print(f"machine: {platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}")
    print("| step | seconds |\n|---|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
