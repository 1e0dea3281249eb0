"""Checks of workshop 1, "General principles": supervised learning, convolution, loss
functions, batches and epochs, dense vs convolutional classifiers (see SYLLABUS.md)."""
WORKSHOP = "workshop1"
EXERCISES = [
    "linear_regression", "loss_curve",
    "conv2d",
    "mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
    "iterate_batches", "steps_per_epoch",
    "dense_classifier", "dense_accuracy", "cnn_classifier", "cnn_accuracy",
]
