"""The trained dense classifier: ``dense_model`` tells the 10 cardiac views apart.

Judged as described in :func:`._views.accuracy_exercise` (new synthetic view images,
true views kept in the grader; typical mistakes caught, answers accepted).

Floor: accuracy >= 0.45. Measured for the reference (:func:`chdml.models.dense_classifier`)
trained exactly as in the notebook (``view_images(2000, seed=1)``, Adam, batch 32, 20
epochs, ``validation_split=0.2``), three weight seeds x three hidden sets of 500 images:
0.590-0.642 (the notebook's own test set: 0.582-0.618); untrained: about 0.10 (chance).
The floor is 13 points below the lowest measurement, almost four standard errors of the
200-image public case (SE ~3.5 points at 0.59), so a properly trained model passes on any
machine. It catches models that did not learn, not ones that learned a little less.
"""
from ._views import accuracy_exercise

FLOOR = 0.45

EXERCISE = accuracy_exercise("dense_accuracy", "Training the dense classifier",
                             "dense_model", FLOOR)
