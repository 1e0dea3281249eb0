"""Fitting a segmentation training run into a time budget (chdml.time_budget)."""
import time

import numpy as np
import pytest

from chdml.time_budget import MARGIN, deadline_callback, plan_training


def test_does_a_request_that_fits_stay_as_it_is():
    # 3 members x (2400 steps x 0.1 s + 10 s) = 750 s <= 0.92 x 1000 s
    plan = plan_training(1000, 0.1, 10, members=3, steps=2400)
    assert (plan.members, plan.steps, plan.reduced) == (3, 2400, False)
    assert plan.estimated_seconds == pytest.approx(750)
    assert plan_training(None, 0.1, 10, members=3, steps=2400).reduced is False


def test_are_members_left_out_before_steps_are_cut():
    # 600 s x 0.92 = 552 s: two members of 250 s fit, three do not
    plan = plan_training(600, 0.1, 10, members=3, steps=2400)
    assert (plan.members, plan.steps, plan.reduced) == (2, 2400, True)
    # 200 s x 0.92 = 184 s: not even one full member; (184 - 10) / 0.1 = 1740 steps
    plan = plan_training(200, 0.1, 10, members=3, steps=2400)
    assert (plan.members, plan.steps) == (1, 1740)
    assert plan.estimated_seconds == pytest.approx(184)
    assert plan.requested_seconds() == pytest.approx(750)


def test_is_a_budget_too_small_for_anything_given_the_minimum():
    assert plan_training(5, 0.1, 10, members=3, steps=2400, min_steps=30).steps == 30
    assert plan_training(-60, 0.1, 10, members=1, steps=2400, min_steps=30).steps == 30
    with pytest.raises(ValueError, match="seconds_per_step"):
        plan_training(100, 0.0, 10, members=1, steps=10)


def test_does_the_message_say_what_is_trained_and_how_to_get_the_default():
    plan = plan_training(20 * 60, 0.65, 20, members=3, steps=2400, budget_seconds=20 * 60)
    text = plan.describe()
    assert "0.65 s" in text and "3 U-Nets of 2400 steps (about 79 min)" in text
    assert f"1 U-Net of {plan.steps} steps" in text and "20-minute budget" in text
    needed = int(text.split("--minutes ")[1].rstrip("."))
    assert plan_training(needed * 60, 0.65, 20, members=3, steps=2400).reduced is False
    fits = plan_training(20 * 60, 0.1, 20, members=3, steps=2400).describe()
    assert "does not fit" not in fits and "training 3 U-Nets of 2400 steps" in fits
    assert plan.as_record()["reduced"] is True and MARGIN < 1


def test_does_the_deadline_stop_training_before_an_epoch_would_end_past_it():
    import keras

    now = iter(range(100))   # a clock that moves on by one second per call
    callback = deadline_callback(deadline=5.5, clock=lambda: next(now))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=10, verbose=0,
                        callbacks=[callback])
    # epochs run 0-1, 2-3, 4-5 on the clock; a fourth would end at 7 > 5.5, so it stops
    assert len(history.history["loss"]) == 3 and callback.stopped
    patient = deadline_callback(deadline=time.time() + 3600)
    model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=3, verbose=0, callbacks=[patient])
    assert not patient.stopped
