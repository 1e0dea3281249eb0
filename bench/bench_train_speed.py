"""Training throughput: chdml's tf.data pipeline vs a plain ``model.fit`` on NumPy arrays.

Same model (the default segmentation U-Net: 128x128 input, depth 4, 16 base filters,
batch norm, 2 classes), same batch size (16), same loss (Dice + cross-entropy), same
number of slices (512, about one pediatric CHD structure). Measured in slices per
second over whole epochs after one warm-up epoch:

- ``plain fit, NumPy, float32``: ``model.fit(images, masks, batch_size=16)``, no
  augmentation (what a beginner writes);
- ``tf.data, float32``: chdml's pipeline (cache, shuffle, augmentation of image and mask,
  batch, prefetch) with the model in float32;
- ``tf.data, no augmentation, float32``: the pipeline alone;
- ``tf.data + mixed bfloat16`` (the default of ``chdml train`` on CPUs with AVX512-BF16
  or AMX, and on GPUs): the pipeline with augmentation and bfloat16 compute.

Run: ``python bench/bench_train_speed.py [--slices 512] [--epochs 2] [--write-results]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def measure(name, make_model, fit, n_slices, epochs):
    model = make_model()
    fit(model, 1)                       # warm-up: tracing, caching
    t0 = time.perf_counter()
    fit(model, epochs)
    seconds = time.perf_counter() - t0
    return {"setup": name, "slices_per_s": n_slices * epochs / seconds,
            "seconds_per_epoch": seconds / epochs}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slices", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from chdml import train
    from chdml.augment import NO_AUGMENTATION, AugmentSettings
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

    def make_model(mixed=False):
        def build():
            with train.precision(mixed):
                model = unet((128, 128, 1), n_classes=2, depth=settings.depth,
                             base_filters=settings.base_filters)
                model.compile(optimizer=keras.optimizers.AdamW(1e-3),
                              loss=DiceCrossEntropyLoss())
            return model
        return build

    def numpy_fit(model, epochs):
        model.fit(images[..., None], masks, batch_size=batch, epochs=epochs, verbose=0)

    def pipeline_fit(augment):
        dataset = train.make_dataset(images, masks, batch, seed=0, augment=augment)

        def fit(model, epochs):
            model.fit(dataset, epochs=epochs, verbose=0, shuffle=False)
        return fit

    rows = [
        measure("plain fit, NumPy, float32", make_model(False), numpy_fit, args.slices,
                args.epochs),
        measure("tf.data, no augmentation, float32", make_model(False),
                pipeline_fit(NO_AUGMENTATION), args.slices, args.epochs),
        measure("tf.data with augmentation, float32", make_model(False),
                pipeline_fit(AugmentSettings()), args.slices, args.epochs),
    ]
    if train.bfloat16_supported():
        rows.append(measure("tf.data with augmentation, mixed bfloat16 (chdml default)",
                            make_model(True), pipeline_fit(AugmentSettings()), args.slices,
                            args.epochs))
    base = rows[0]["slices_per_s"]
    lines = ["| setup | slices/s | s/epoch | vs plain fit |", "|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['setup']} | {r['slices_per_s']:.1f} | {r['seconds_per_epoch']:.1f} "
                     f"| {r['slices_per_s'] / base:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if args.write_results:
        from models_results import write_section

        note = (f"\n\nU-Net 128x128, depth {settings.depth}, {settings.base_filters} base "
                f"filters, batch {batch}, {args.slices} slices, {args.epochs} timed epochs "
                "after one warm-up epoch.")
        write_section("Training throughput", table + note,
                      f"python bench/bench_train_speed.py --slices {args.slices} "
                      f"--epochs {args.epochs} --write-results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
