"""Fit a segmentation training run into a time budget on the computer it runs on.

The default of ``chdml train segmentation`` (three U-Nets of 2400 steps) takes 11-14
minutes on a 2-core CPU with AVX512-BF16 but about 75 minutes on a 2-core CPU with AVX2
only, where bfloat16 is not fast and TensorFlow's convolutions are several times slower
(``bench/RESULTS.md``, "Training throughput"). A clinician cannot know which computer they
have, so training times one short burst of real training steps first and, when the
default would not fit the budget, trains what does:

1. fewer ensemble members, each of the full number of steps (a single U-Net scored within
   0.01 Dice of the three-member ensemble in cross-validation), then
2. one U-Net with fewer steps (the cosine learning-rate schedule is stretched over the
   steps that fit, so it still ends at a low learning rate).

A deadline, checked after every epoch, ends the run if the computer slows down after the
plan was made: the running member stops when its next epoch would end past the budget
(less ``SAVE_SECONDS`` for writing the model and its curves; its last weights are kept)
and the members not started yet are left out. Where the budget is not binding, nothing changes: the same
members, the same steps, the same seeds as without a budget.
"""
from __future__ import annotations

import dataclasses
import math
import time

# Planned time is kept under this share of what is left of the budget, for the
# slices, the saving and the learning curves that are not training steps.
MARGIN = 0.92
# Kept free at the end of the budget for saving the model file and its learning curves.
SAVE_SECONDS = 30.0


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
    """How many U-Nets of how many steps to train, and why.

    Attributes:
        members, steps: what will be trained (steps per member).
        requested_members, requested_steps: what the settings asked for.
        seconds_per_step: measured on this computer (one batch, forward and backward).
        member_overhead_seconds: building and tracing one member's model (measured).
        budget_seconds: the whole budget; None = no limit.
        estimated_seconds: the planned members' training time.
    """

    members: int
    steps: int
    requested_members: int
    requested_steps: int
    seconds_per_step: float
    member_overhead_seconds: float
    budget_seconds: float | None
    estimated_seconds: float

    @property
    def reduced(self) -> bool:
        """True when less than the settings asked for will be trained."""
        return (self.members, self.steps) != (self.requested_members, self.requested_steps)

    def requested_seconds(self) -> float:
        """What the settings' members and steps would take on this computer."""
        return self.requested_members * (self.requested_steps * self.seconds_per_step
                                         + self.member_overhead_seconds)

    def describe(self) -> str:
        """One or two sentences for the person training (minutes, plain words)."""
        per_step = f"one training step takes {self.seconds_per_step:.2f} s on this computer"
        budget = f"{self.budget_seconds / 60:g}-minute" if self.budget_seconds else "no"
        wanted = (f"{_nets(self.requested_members)} of {self.requested_steps} steps "
                  f"(about {self.requested_seconds() / 60:.0f} min)")
        if not self.reduced:
            return f"time budget: {per_step}; training {wanted}."
        needed = math.ceil(self.requested_seconds() / 60 / MARGIN) + 1
        return (f"time budget: {per_step}, so the default, {wanted}, does not fit the "
                f"{budget} budget; training {_nets(self.members)} of {self.steps} steps "
                f"instead (about {self.estimated_seconds / 60:.0f} min). Results are best "
                f"with the full default: give it --minutes {needed}.")

    def as_record(self) -> dict:
        """The plan as plain numbers, for the model file's training record."""
        return {**dataclasses.asdict(self), "reduced": self.reduced}


def _nets(n: int) -> str:
    return "1 U-Net" if n == 1 else f"{n} U-Nets"


def plan_training(available_seconds: float | None, seconds_per_step: float,
                  member_overhead_seconds: float, members: int, steps: int,
                  min_steps: int = 1, budget_seconds: float | None = None) -> TrainingPlan:
    """The most training that fits ``available_seconds`` (what is left of the budget).

    Keeps ``members`` U-Nets of ``steps`` steps when they fit; else as many members of
    ``steps`` steps as fit; else one member of as many steps as fit, but at least
    ``min_steps`` (so the run may overrun a budget too small for any useful training;
    the deadline then ends it). ``available_seconds=None``: no limit, nothing changes.

    Edge cases: ``seconds_per_step`` must be > 0; a negative ``available_seconds``
    (the budget already spent on loading data) plans ``min_steps`` of one member.
    """
    if seconds_per_step <= 0:
        raise ValueError(f"seconds_per_step must be > 0, got {seconds_per_step}")
    per_member = steps * seconds_per_step + member_overhead_seconds

    def plan(n: int, k: int) -> TrainingPlan:
        return TrainingPlan(n, k, members, steps, seconds_per_step, member_overhead_seconds,
                            budget_seconds, n * (k * seconds_per_step
                                                 + member_overhead_seconds))

    if available_seconds is None:
        return plan(members, steps)
    usable = available_seconds * MARGIN
    if members * per_member <= usable:
        return plan(members, steps)
    if per_member <= usable:
        return plan(math.floor(usable / per_member + 1e-9), steps)
    fitting = math.floor((usable - member_overhead_seconds) / seconds_per_step + 1e-9)
    return plan(1, min(steps, max(min_steps, fitting)))


def deadline_callback(deadline: float, clock=time.time):
    """A Keras callback that ends training when the next epoch, if it lasts as long as
    the one just ended, would end past ``deadline`` (a ``time.time()`` value).

    ``callback.stopped`` tells whether it did. The first epoch always runs.
    """
    import keras

    class StopBeforeDeadline(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stopped = False
            self._began = None

        def on_epoch_begin(self, epoch, logs=None):
            self._began = clock()

        def on_epoch_end(self, epoch, logs=None):
            now = clock()
            if now + (now - self._began) > deadline:
                self.stopped = True
                self.model.stop_training = True

    return StopBeforeDeadline()
