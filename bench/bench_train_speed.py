"""Training throughput: chdml's tf.data pipeline vs a plain ``model.fit`` on NumPy arrays.

Same model architecture (the default segmentation U-Net: 128x128 input, depth 4, 16 base filters,
batch norm, 2 classes), same batch size (8, the default), same loss (Dice + cross-entropy), same
number of slices (512, about one pediatric CHD structure). Measured in slices per
second over whole epochs after one warm-up epoch, the setups interleaved so that a
change of machine load hits all of them:

- ``plain fit, NumPy, float32``: ``model.fit(images, masks, batch_size=16)``, no
  augmentation (what a beginner writes);
- ``tf.data, float32``: chdml's pipeline (cache, shuffle, augmentation of image and mask,
  batch, prefetch) with the model in float32;
- ``tf.data, no augmentation, float32``: the pipeline alone;
- ``tf.data + mixed bfloat16`` (the default of ``chdml train`` on CPUs with AVX512-BF16
  or AMX, and on GPUs): the pipeline with augmentation and bfloat16 compute;
- ``chdml default``: the same, training on random 96x96 patches of the 128x128 slices
  as ``chdml train segmentation`` does (a slice then costs about 56 % of a full one).

Run: ``python bench/bench_train_speed.py [--slices 512] [--rounds 3] [--write-results]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from chdml.onednn import use_onednn  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
use_onednn()  # before TensorFlow is imported, as `chdml train` does


def measure(setups, n_slices: int, rounds: int) -> list[dict]:
    """Time one epoch of each setup per round, setups interleaved (load drifts hit all).

    ``setups``: ``[(name, model, fit)]``; each model is warmed up (traced) first.
    Returns per setup the median and the best slices/s over the rounds.
    """
    for _, model, fit in setups:
        fit(model, 1)
    times = {name: [] for name, _, _ in setups}
    for _ in range(rounds):
        for name, model, fit in setups:
            t0 = time.perf_counter()
            fit(model, 1)
            times[name].append(time.perf_counter() - t0)
    return [{"setup": name, "median": n_slices / statistics.median(times[name]),
             "best": n_slices / min(times[name])} for name, _, _ in setups]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3,
                        help="timed epochs per setup, interleaved")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from chdml import train
    from chdml.augment import NO_AUGMENTATION
    from chdml.losses import DiceCrossEntropyLoss
    from chdml.models import unet

    settings = train.SegmentationSettings()
    rng = np.random.default_rng(0)
    images = rng.random((args.slices, 128, 128)).astype(np.float32)
    yy, xx = np.mgrid[:128, :128]
    centres = rng.integers(40, 88, size=(args.slices, 2))
    masks = ((yy[None] - centres[:, :1, None]) ** 2 + (xx[None] - centres[:, 1:, None]) ** 2
             < 15 ** 2).astype(np.uint8)
    batch = settings.batch_size

    def make_model(mixed: bool):
        with train.precision(mixed):
            model = unet((None, None, 1), n_classes=2, depth=settings.depth,
                         base_filters=settings.base_filters)
            model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss=DiceCrossEntropyLoss())
        return model

    def numpy_fit(model, epochs):
        model.fit(images[..., None], masks, batch_size=batch, epochs=epochs, verbose=0)

    def pipeline_fit(augment, patch_size=None):
        dataset = train.make_dataset(images, masks, batch, seed=0, augment=augment,
                                     patch_size=patch_size)

        def fit(model, epochs):
            model.fit(dataset, epochs=epochs, verbose=0, shuffle=False)
        return fit

    setups = [
        ("plain fit, NumPy, float32", make_model(False), numpy_fit),
        ("tf.data, no augmentation, float32", make_model(False),
         pipeline_fit(NO_AUGMENTATION)),
        ("tf.data with augmentation, float32", make_model(False),
         pipeline_fit(settings.augment)),
    ]
    if train.bfloat16_supported():
        setups.append(("tf.data with augmentation, mixed bfloat16", make_model(True),
                       pipeline_fit(settings.augment)))
    setups.append((f"chdml default: the above + random {settings.patch_size}x"
                   f"{settings.patch_size} patches", make_model(train.bfloat16_supported()),
                   pipeline_fit(settings.augment, settings.patch_size)))
    rows = measure(setups, args.slices, args.rounds)
    base = rows[0]["median"]
    lines = ["| setup | slices/s (median) | slices/s (best) | vs plain fit (median) |",
             "|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['setup']} | {r['median']:.1f} | {r['best']:.1f} "
                     f"| {r['median'] / base:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if args.write_results:
        from models_results import write_section

        note = (f"\n\nU-Net 128x128, depth {settings.depth}, {settings.base_filters} base "
                f"filters, batch {batch}, {args.slices} slices; one warm-up epoch, then "
                f"{args.rounds} timed epochs per setup, setups interleaved.")
        write_section("Training throughput", table + note,
                      f"python bench/bench_train_speed.py --slices {args.slices} "
                      f"--rounds {args.rounds} --write-results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
