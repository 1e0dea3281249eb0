"""Sim-to-real check: a small U-Net trained only on synthetic short-axis slices, tested
on the real paediatric CHD training patients (Karimi-Bidhendi et al. 2020).

Usage::

    .venv/bin/python bench/synth_sim2real.py [--patients 60] [--epochs 8] [--size 128]

Needs ``../shared/data/karimi2020/karimi2020-train-nearest.tar.xz`` (extracted to a
temporary folder, never into the repository). Prints the LV blood-pool Dice per real
volume (ED and ES of each patient) and the mean; the real LV masks include papillary
muscles, like the synthetic labels. Not a test: it takes minutes on a CPU.
"""
from __future__ import annotations

import argparse
import os
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
TARBALL = next((p / "shared" / "data" / "karimi2020" / "karimi2020-train-nearest.tar.xz"
                for p in REPO.parents
                if (p / "shared" / "data" / "karimi2020").is_dir()), Path("missing.tar.xz"))


def real_lv_volumes(folder: Path):
    """Yield ``(name, images (n, 128, 128), masks (n, 128, 128))`` for each LV volume."""
    import scipy.io

    for image_file in sorted((folder / "nearest" / "LV").glob("Sbj_*_LV*_image.mat")):
        mask_file = image_file.with_name(image_file.name.replace("_image", "_mask"))
        image = scipy.io.loadmat(image_file)["image"].astype(np.float32)
        mask = scipy.io.loadmat(mask_file)["mask"] > 0.5
        yield image_file.name.replace("_image.mat", ""), image, mask


def extract(tmp: Path) -> Path:
    with tarfile.open(TARBALL) as tar:
        members = [m for m in tar.getmembers() if "/LV/" in m.name or m.name.endswith(".csv")]
        tar.extractall(tmp, members=members, filter="data")
    return tmp


def unet(size: int, n_classes: int = 4, base: int = 16, depth: int = 4):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(size, size, 1))
    x, skips = inputs, []
    for level in range(depth):
        for _ in range(2):
            x = layers.Conv2D(base * 2 ** level, 3, padding="same", activation="relu")(x)
        skips.append(x)
        x = layers.MaxPooling2D()(x)
    for _ in range(2):
        x = layers.Conv2D(base * 2 ** depth, 3, padding="same", activation="relu")(x)
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(base * 2 ** level, 2, strides=2, padding="same")(x)
        x = layers.Concatenate()([x, skips[level]])
        for _ in range(2):
            x = layers.Conv2D(base * 2 ** level, 3, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(n_classes, 1, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def augment(images, masks, rng):
    """Flips, 90-degree turns and random intensity gamma (same for image and mask)."""
    out_i, out_m = np.empty_like(images), np.empty_like(masks)
    for i in range(len(images)):
        im, m = images[i, :, :, 0], masks[i]
        k = int(rng.integers(4))
        im, m = np.rot90(im, k), np.rot90(m, k)
        if rng.random() < 0.5:
            im, m = im[:, ::-1], m[:, ::-1]
        im = np.clip(im, 0, 1) ** rng.uniform(0.7, 1.4)
        out_i[i, :, :, 0], out_m[i] = im, m
    return out_i, out_m


def dice(a, b):
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else 2.0 * np.logical_and(a, b).sum() / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--augment", action="store_true",
                        help="flips/rotations/gamma during training")
    parser.add_argument("--save", default=None, help="save the model (.keras)")
    args = parser.parse_args()

    import keras

    from chdml.data.synth import short_axis_slices
    from chdml.data.synth.arrays import normalise

    keras.utils.set_random_seed(args.seed)
    start = time.time()
    data = short_axis_slices(args.patients, size=args.size, seed=args.seed)
    print(f"synthetic: {data} in {time.time() - start:.1f} s")
    model = unet(args.size)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(args.seed)
    images, masks = data.images, data.masks
    for epoch in range(args.epochs):
        x, y = augment(images, masks, rng) if args.augment else (images, masks)
        model.fit(x, y, batch_size=16, epochs=1, verbose=2, shuffle=True)
    if args.save:
        model.save(args.save)

    from scipy import ndimage

    with tempfile.TemporaryDirectory() as tmp:
        folder = extract(Path(tmp))
        scores = []
        for name, image, mask in real_lv_volumes(folder):
            x = np.stack([normalise(s) for s in image])[..., None]
            if args.size != 128:
                x = ndimage.zoom(x, (1, args.size / 128, args.size / 128, 1), order=1)
            pred = model.predict(x, verbose=0).argmax(-1) == 1
            if args.size != 128:
                pred = ndimage.zoom(pred.astype(np.float32), (1, 128 / args.size,
                                                              128 / args.size), order=1) > 0.5
            scores.append(dice(pred, mask))
            print(f"{name:16s} LV Dice {scores[-1]:.3f}")
    print(f"mean LV Dice on {len(scores)} real volumes: {np.mean(scores):.3f} "
          f"(median {np.median(scores):.3f}); total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
