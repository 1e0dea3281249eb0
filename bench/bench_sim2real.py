"""Sim-to-real: a U-Net trained only on synthetic data, scored on the real pediatric CHD set.

Trains the default ``chdml train segmentation`` on ``chdml data synth --patients 40
--seed 0`` (or takes ``--model``), then runs ``chdml evaluate`` on the real training
patients of Karimi-Bidhendi et al. 2020 as converted by ``chdml data fetch karimi2020``
(LV and, if given, RV folders). The synthetic model knows LV, MYO and RV; only the
dataset's label is scored. A low Dice says how far the generator's images are from
real scans (a lesson of workshop 3).

Run: ``python bench/bench_sim2real.py --lv data/karimi_LV [--rv data/karimi_RV]
[--model synth.keras] [--write-results]``
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from chdml.onednn import use_onednn  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
use_onednn()  # before TensorFlow is imported, as `chdml train` does

from bench_synthetic import cli  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lv", required=True, help="Karimi LV dataset folder")
    parser.add_argument("--rv", default=None, help="Karimi RV dataset folder")
    parser.add_argument("--model", default=None, help="a synthetic-trained model to reuse")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np

    lines = ["| structure | phase | patients | mean Dice | median | min |", "|---|---|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory(prefix="chdml_sim2real_") as tmp:
        work = Path(tmp)
        model = Path(args.model) if args.model else work / "synthetic.keras"
        if not args.model:
            cli("data", "synth", "--out", work / "synth", "--patients", 40, "--seed", 0)
            cli("train", "segmentation", "--data", work / "synth", "--out", model)
        for name, data in (("LV", args.lv), ("RV", args.rv)):
            if data is None:
                continue
            cli("evaluate", "--model", model, "--data", data, "--out", work / f"eval_{name}")
            rows = json.loads((work / f"eval_{name}" / "metrics.json").read_text())["cases"]
            for phase in ("ED", "ES"):
                scores = np.array([r["dice"] for r in rows if r["phase"] == phase])
                lines.append(f"| {name} | {phase} | {scores.size} | {scores.mean():.3f} | "
                             f"{np.median(scores):.3f} | {scores.min():.3f} |")
    table = "\n".join(lines)
    print(table)
    if args.write_results:
        from models_results import write_section

        command = f"python bench/bench_sim2real.py --lv {args.lv}" + (
            f" --rv {args.rv}" if args.rv else "") + " --write-results"
        write_section("Sim-to-real: synthetic-only model on the real training patients",
                      table + "\n\nModel: default `chdml train segmentation` on `chdml data "
                      "synth --patients 40 --seed 0`; scored with `chdml evaluate` on all 26 "
                      "real training patients (ED and ES).", command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
