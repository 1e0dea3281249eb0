"""Run by tests/test_losses.py in a subprocess with KERAS_BACKEND set (jax, torch):
chdml.losses on another Keras backend. Checks the values against NumPy, that gradients
of all-zero inputs are finite, and a .keras round trip. Prints "ok" on success."""
import os
import tempfile

import numpy as np
import keras
from keras import ops

from chdml.losses import (DiceCrossEntropyLoss, DiceMetric, dice_cross_entropy_loss,
                          dice_metrics, soft_dice, soft_dice_loss)
from chdml.metrics import dice_per_label


def gradient(function, value):
    """d function / d value on the current backend."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        return np.asarray(jax.grad(function)(value))
    if backend == "torch":
        import torch
        tensor = torch.tensor(value, requires_grad=True)
        function(tensor).backward()
        return tensor.grad.numpy()
    raise SystemExit(f"no gradient helper for backend {backend}")


rng = np.random.default_rng(0)
truth = rng.integers(0, 4, (4, 8, 8))
truth[truth == 2] = 0  # label 2 empty in truth and prediction
pred = np.where(rng.random(truth.shape) < 0.7, truth, rng.integers(0, 4, truth.shape))
pred[pred == 2] = 0
one_hot_pred = np.eye(4, dtype="float32")[pred]
expected = np.mean(list(dice_per_label(truth, pred).values()))
assert abs(float(soft_dice(truth, one_hot_pred, smooth=1e-7)) - expected) < 1e-5
metric = DiceMetric(labels=(1, 2, 3))
metric.update_state(truth, one_hot_pred)
assert abs(float(metric.result()) - expected) < 1e-5

for loss in (soft_dice_loss, dice_cross_entropy_loss):
    for channels in (1, 4):
        zeros = np.zeros((2, 6, 6, channels), "float32")
        grad = gradient(lambda p: ops.mean(loss(zeros, p, per_image=True)), zeros.copy())
        assert np.all(np.isfinite(grad)), (loss.__name__, channels)

inputs = keras.Input((8, 8, 1))
outputs = keras.layers.Conv2D(4, 3, padding="same", activation="softmax")(inputs)
model = keras.Model(inputs, outputs)
model.compile("adam", loss=DiceCrossEntropyLoss(per_image=True),
              metrics=dice_metrics({"LV": 1, "RV": 3}))
images = rng.random((8, 8, 8, 1)).astype("float32")
labels = (images[..., 0] > 0.5).astype("int32")
model.fit(images, labels, epochs=1, batch_size=4, verbose=0)
path = os.path.join(tempfile.mkdtemp(), "model.keras")
model.save(path)
loaded = keras.models.load_model(path)
before = model.evaluate(images, labels, verbose=0, return_dict=True)
after = loaded.evaluate(images, labels, verbose=0, return_dict=True)
assert all(abs(before[k] - after[k]) < 1e-5 for k in before), (before, after)
print("ok", keras.backend.backend())
