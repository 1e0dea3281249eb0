"""Is the MNIST-like ten-view set learnable by a small CNN, and harder for a dense net?

Usage::

    .venv/bin/python bench/synth_views_experiment.py [--train 6000] [--test 1000] [--epochs 5]

Trains, on CPU, the two classifiers of workshop 1 on ``view_images(task="ten_views",
size=28)`` (test patients are different patients: another seed) and prints test
accuracy and training time for each. Workshop 1's lesson: the CNN should reach >= 0.95
within a minute or two; the dense network should do clearly worse but far above chance
(0.10). Also trains the workshop 2 binary task (short vs long axis, 64 x 64).
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cnn(size, n_classes):
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(size, size, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.3),
        layers.Dense(128, activation="relu"),
        layers.Dense(n_classes, activation="softmax")])


def dense(size, n_classes):
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(size, size, 1)), layers.Flatten(),
        layers.Dense(128, activation="relu"), layers.Dense(64, activation="relu"),
        layers.Dense(n_classes, activation="softmax")])


def fit(model, train, test, epochs, batch_size=64):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.time()
    model.fit(train.images, train.labels, epochs=epochs, batch_size=batch_size, verbose=0)
    seconds = time.time() - start
    accuracy = model.evaluate(test.images, test.labels, verbose=0)[1]
    return accuracy, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=6000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--skip-binary", action="store_true")
    args = parser.parse_args()

    import keras

    from chdml.data.synth import view_images

    keras.utils.set_random_seed(0)
    start = time.time()
    train = view_images(args.train, size=28, seed=0, task="ten_views")
    test = view_images(args.test, size=28, seed=1, task="ten_views")
    print(f"ten views 28x28: {len(train)} train / {len(test)} test images made in "
          f"{time.time() - start:.1f} s")
    for name, build in (("CNN", cnn), ("dense", dense)):
        accuracy, seconds = fit(build(28, 10), train, test, args.epochs)
        print(f"  {name:6s} test accuracy {accuracy:.3f} after {args.epochs} epochs "
              f"({seconds:.0f} s training)")
    if not args.skip_binary:
        start = time.time()
        train = view_images(2000, size=64, seed=0, task="binary")
        test = view_images(500, size=64, seed=1, task="binary")
        print(f"binary 64x64: made in {time.time() - start:.1f} s")
        accuracy, seconds = fit(cnn(64, 2), train, test, args.epochs)
        print(f"  CNN    test accuracy {accuracy:.3f} ({seconds:.0f} s training)")


if __name__ == "__main__":
    main()
