"""Run chdml's benchmarks one after another (``make bench``) and print what each one took.

Usage::

    .venv/bin/python bench/run_all.py            # the quick set (about 10 minutes)
    .venv/bin/python bench/run_all.py --long     # + training benchmarks (about 15 minutes more)
    .venv/bin/python bench/run_all.py --list     # show the benchmarks and stop
    .venv/bin/python bench/run_all.py synth prep # only these

Each benchmark is a script in ``bench/`` that prints its own Markdown table; its output is
kept in ``bench/output/<name>.txt``. The scripts that accept ``--write-results`` update
their section of ``bench/RESULTS.md`` themselves; copy the other tables there by hand,
with the machine they ran on (the summary below prints it). The 5-fold cross-validation
on the real pediatric CHD set is not part of either set: it takes hours on a CPU, see
``bench/bench_karimi_cv.py``.

Timings are only comparable on a quiet machine: the summary prints the load average
before and after, and each table reports CPU time beside wall time where it matters.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from models_results import machine  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "bench" / "output"


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    arguments: tuple[str, ...] = ()
    long: bool = False           # only with --long
    what: str = ""


BENCHMARKS = [
    Benchmark("synth", "bench_synth.py", (),
              what="100 synthetic patients written (target <= 20 s)"),
    Benchmark("prep", "bench_prep.py", (), what="check, load, preprocess, split 100 patients"),
    Benchmark("fetch", "bench_fetch.py", (), what="Karimi fetch from a local mirror, DICOM"),
    Benchmark("metrics", "metrics_speed.py", (), what="Dice, Hausdorff, volumes per volume"),
    Benchmark("grading", "bench_grading.py", (), what="chdml grade vs nbgrader autograde"),
    Benchmark("workshops", "bench_workshops.py", ("--repeats", "3"),
              what="each workshop notebook: time, check latency"),
    Benchmark("synthetic-models", "bench_synthetic.py", ("--write-results",), long=True,
              what="default U-Net and view classifier on synthetic data"),
    Benchmark("train-speed", "bench_train_speed.py", ("--write-results",), long=True,
              what="tf.data pipeline vs plain fit"),
    Benchmark("workshop4-floors", "bench_workshop4_floors.py", (), long=True,
              what="Dice floors of workshop 4's training check"),
]


def run(benchmark: Benchmark) -> tuple[int, float]:
    """Run one benchmark script, echoing and keeping its output; (exit code, seconds)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(ROOT / "bench" / benchmark.script), *benchmark.arguments]
    print(f"\n=== {benchmark.name}: {benchmark.what}\n$ {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    with open(OUTPUT / f"{benchmark.name}.txt", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
        code = process.wait()
    return code, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only these benchmarks")
    parser.add_argument("--long", action="store_true", help="include the training benchmarks")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args(argv)
    known = {benchmark.name: benchmark for benchmark in BENCHMARKS}
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(known)}")
    chosen = ([known[name] for name in args.names] if args.names
              else [b for b in BENCHMARKS if args.long or not b.long])
    if args.list:
        for benchmark in BENCHMARKS:
            print(f"{benchmark.name:<18} {'(--long) ' if benchmark.long else ''}{benchmark.what}")
        return 0
    before = os.getloadavg()[0]
    results = [(benchmark, *run(benchmark)) for benchmark in chosen]
    print(f"\nMachine: {machine()} ({before:.1f} before it)")
    print("\n| benchmark | exit code | minutes | output |\n|---|---:|---:|---|")
    for benchmark, code, seconds in results:
        print(f"| {benchmark.name} | {code} | {seconds / 60:.1f} | "
              f"bench/output/{benchmark.name}.txt |")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
