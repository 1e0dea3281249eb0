"""Experiment: the view classifier with other settings, several seeds, several test sets.

Usage::

    .venv/bin/python bench/experiment_classifier.py --train SYNTH_TRAIN \\
        --test SYNTH_SEED1 SYNTH_SEED2 --seeds 0 1 2 [--set patience=12 ...]

``SYNTH_*``: folders of ``chdml data synth`` (e.g. ``--patients 40 --seed 0`` to train,
``--patients 20 --seed 1`` and ``--seed 2`` to test). For each training seed the
classifier is trained as ``chdml train classifier --seed S`` does, with the
:class:`chdml.train_classifier.ClassifierSettings` fields given by ``--set``, and each
test set is classified as ``chdml predict`` does (mean P(SAX) of a case's images).
Prints one row per seed: accuracy per test set, epochs run, best epoch, seconds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_karimi_cv as cv  # noqa: E402  (also puts the repository on sys.path)


def accuracy(model, info, data: Path) -> float:
    """Share of ``data``'s cases whose view (SAX or other) the classifier gets right."""
    from chdml.predict import classify_cases, prediction_cases

    _, cases = prediction_cases(data)
    rows = classify_cases(model, info, cases, progress=False)
    return float(np.mean([(r["predicted"] == "SAX") == (r["true_view"] == "SAX")
                          for r in rows]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True, help="synthetic training set")
    parser.add_argument("--test", nargs="+", required=True, help="synthetic test sets")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a ClassifierSettings field")
    args = parser.parse_args(argv)

    from chdml import train_classifier
    from chdml.inference import load_model_file

    settings = train_classifier.ClassifierSettings()
    for key, value in (item.split("=", 1) for item in args.set):
        settings = cv.override_setting(settings, key, value)
    names = [Path(t).name for t in args.test]
    print(f"settings: {' '.join(args.set) or 'defaults'}\n"
          f"| seed | {' | '.join(names)} | epochs run | best epoch | seconds |\n"
          f"|---|{'---:|' * (len(names) + 3)}")
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            out = Path(tmp) / f"views_{seed}.keras"
            train_classifier.train_classifier(args.train, out, seed=seed, settings=settings,
                                              verbose=False)
            model, info = load_model_file(out)
            scores = [accuracy(model, info, Path(t)) for t in args.test]
            t = info.training
            print(f"| {seed} | {' | '.join(f'{s:.3f}' for s in scores)} | {t['epochs_run']} "
                  f"| {t['best_epoch']} | {t['seconds']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
