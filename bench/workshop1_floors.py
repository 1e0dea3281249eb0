"""Accuracy of workshop 1's reference classifiers, trained as in the notebook: the numbers
behind the floors of ``autograder/workshop1/dense_accuracy.py`` and ``cnn_accuracy.py``.

Usage::

    .venv/bin/python bench/workshop1_floors.py [--seeds 0 1 2] [--hidden 1001 1002 1003]

Trains :func:`chdml.models.dense_classifier` and :func:`chdml.models.small_cnn_classifier`
on ``view_images(2000, size=28, seed=1, task="ten_views")`` exactly as the notebook does
(Adam, batch 32, 20 epochs, ``validation_split=0.2``) once per weight seed, and prints the
accuracy on hidden sets of 500 images (other seeds: new synthetic patients) and on the
notebook's test set (seed 2). Takes 3-6 minutes on the 2-vCPU machine.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--hidden", type=int, nargs="+", default=[1001, 1002, 1003])
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()

    import keras

    from chdml import models
    from chdml.data.synth import view_images

    train = view_images(2000, size=28, seed=1, task="ten_views")
    sets = {f"hidden {seed}": view_images(500, size=28, seed=seed, task="ten_views")
            for seed in args.hidden}
    sets["notebook test (seed 2)"] = view_images(500, size=28, seed=2, task="ten_views")
    print(f"{'model':<6} {'seed':>4} {'fit s':>6}  " + "  ".join(f"{name:>22}" for name in sets))
    for name, build in (("dense", models.dense_classifier),
                        ("cnn", models.small_cnn_classifier)):
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            model = build()
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            start = time.perf_counter()
            model.fit(train.images, train.labels, epochs=args.epochs, batch_size=32,
                      validation_split=0.2, verbose=0)
            seconds = time.perf_counter() - start
            scores = [float(np.mean(np.argmax(model.predict(views.images, verbose=0), axis=1)
                                    == views.labels)) for views in sets.values()]
            print(f"{name:<6} {seed:>4} {seconds:6.1f}  "
                  + "  ".join(f"{score:22.3f}" for score in scores), flush=True)


if __name__ == "__main__":
    main()
