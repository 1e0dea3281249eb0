"""How fast is ``chdml data synth``, and how fast does its output load back?

Usage::

    .venv/bin/python bench/bench_synth.py [--patients 10 100] [--repeat 1]

For each patient count it writes a synthetic set into a temporary folder (the same code
path as ``chdml data synth``), then loads every image and label back with
:mod:`chdml.data.nifti` (nibabel). Prints a table: patients, seconds to write (wall and
CPU), files, MB on disk, seconds to load. Target: 100 patients in <= 20 s.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import tempfile
import time
from pathlib import Path


def run(patients: int, seed: int = 0):
    from chdml.data.folder import image_path, label_path, read_cases
    from chdml.data.nifti import load_image, load_label
    from chdml.data.synth import main

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "synth"
        wall, cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            main(out, patients=patients, seed=seed)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        files = [p for p in out.rglob("*") if p.is_file()]
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        start = time.perf_counter()
        for record in read_cases(out):
            load_image(image_path(out, record))
            load_label(label_path(out, record))
        load = time.perf_counter() - start
    return wall, cpu, len(files), size_mb, load


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical "
          f"CPUs, Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'patients':>8} {'write s':>8} {'CPU s':>7} {'s/patient':>9} {'files':>6} "
          f"{'MB':>7} {'load s':>7}")
    for n in args.patients:
        results = [run(n) for _ in range(args.repeat)]
        wall, cpu, files, size_mb, load = min(results)
        print(f"{n:8d} {wall:8.2f} {cpu:7.2f} {wall / n:9.3f} {files:6d} {size_mb:7.1f} "
              f"{load:7.2f}")


if __name__ == "__main__":
    main()
