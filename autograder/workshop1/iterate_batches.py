"""Batches and epochs: ``iterate_batches(images, labels, batch_size, shuffle=True, seed=0)``.

One call is one epoch: it yields (or returns a list of) ``(image_batch, label_batch)``
pairs. Each case calls it once or several times (``producers.call_each``) and
``compare.epochs_of_batches`` judges every epoch: each batch pairs images with their own
labels, the batch sizes are the reference's (full batches, then the last partial batch,
kept), every sample appears exactly once, the stored order without shuffling, a shuffled
order with it; across epochs the same seed gives the same order and different seeds give
different orders. The order itself is not compared with the reference's, so any seeded
shuffle passes.

Typical beginner mistakes the hidden cases catch:
- dropping the last partial batch (``range(n // batch_size)`` batches): the 23-sample and
  the 5-samples-in-batches-of-8 cases;
- an extra, empty batch when the data divide evenly (``n // batch_size + 1`` batches): the
  20-sample case;
- unseeded shuffling (``np.random.permutation(n)`` or ``np.random.shuffle``): the
  same-seed case;
- ignoring the seed (always ``default_rng(0)``): the different-seeds case;
- shuffling images and labels separately, so labels no longer belong to their images;
- always shuffling (ignoring ``shuffle=False``) or never shuffling;
- returning indices instead of the images and labels.
Accepted: a generator (``yield``) or a list of pairs; tuples or lists as pairs;
``np.random.default_rng(seed)``, ``np.random.seed(seed)`` + ``np.random.permutation``,
``random.Random(seed).shuffle`` or any other seeded shuffle.
"""
import numpy as np

from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise
from chdml.teaching.basics import iterate_batches

PARTIAL_HINT = ("Keep the last, smaller batch: loop with "
                "`for start in range(0, n_samples, batch_size)` and take "
                "order[start:start + batch_size].")
SEED_HINT = ("Shuffle with a generator made from the seed, e.g. "
             "order = np.random.default_rng(seed).permutation(n_samples); the same seed must "
             "give the same order, another seed another order.")


def _data(rng: np.random.Generator, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` distinct small images (n, 3, 3, 1) and their class labels."""
    images = rng.normal(size=(n_samples, 3, 3, 1)).astype(np.float32)
    labels = rng.integers(0, 10, size=n_samples)
    return images, labels


def _calls(rng, n_samples, batch_size, settings):
    """One call per (shuffle, seed) in ``settings``, all on the same data."""
    images, labels = _data(rng, n_samples)
    return {"calls": [[images, labels, batch_size, shuffle, seed]
                      for shuffle, seed in settings]}


def cases(rng: np.random.Generator) -> list[Case]:
    seed = int(rng.integers(1, 1000))
    return [
        Case("12 samples in batches of 4, not shuffled", public=True, points=1,
             inputs=_calls(rng, 12, 4, [(False, 0)])),
        Case("10 samples in batches of 4 (the last batch has 2), shuffled with seed 0, two "
             "epochs", public=True, points=1,
             inputs=_calls(rng, 10, 4, [(True, 0), (True, 0)]), hint=PARTIAL_HINT),
        Case("23 samples in batches of 5: the last batch has 3 samples", public=False,
             points=1, inputs=_calls(rng, 23, 5, [(True, seed)]), hint=PARTIAL_HINT),
        Case("20 samples in batches of 5: exactly 4 full batches", public=False, points=1,
             inputs=_calls(rng, 20, 5, [(True, seed)]),
             hint="When the samples divide evenly there is no extra (empty) batch."),
        Case("5 samples in batches of 8: one batch of 5", public=False, points=1,
             inputs=_calls(rng, 5, 8, [(False, 0), (True, seed)]), hint=PARTIAL_HINT),
        Case("30 samples, two epochs with the same seed", public=False, points=1,
             inputs=_calls(rng, 30, 8, [(True, seed), (True, seed)]), hint=SEED_HINT),
        Case("30 samples, three epochs with different seeds", public=False, points=1,
             inputs=_calls(rng, 30, 8, [(True, seed), (True, seed + 1), (True, seed + 2)]),
             hint=SEED_HINT),
        Case("16 samples in batches of 6, shuffled and not shuffled", public=False, points=1,
             inputs=_calls(rng, 16, 6, [(True, seed), (False, seed)]),
             hint="With shuffle=False keep the stored order; with shuffle=True shuffle "
                  "images and labels with the same order."),
    ]


def reference(inputs: dict) -> list[list[int]]:
    """The reference's batch sizes, one list per call."""
    return [[len(label_batch) for _, label_batch in iterate_batches(*call)]
            for call in inputs["calls"]]


EXERCISE = Exercise(
    name="iterate_batches",
    title="Batches and epochs",
    producer=producers.call_each("iterate_batches"),
    reference=reference,
    compare=compare.epochs_of_batches(),
    cases=cases,
    hint="Make an order (np.arange, or a seeded permutation when shuffle is True); then, for "
         "each slice of batch_size numbers of that order, the last one included, hand out "
         "the images and the labels at those numbers together.",
)
