"""Checks of workshop 3, "Improving a model, and what can go wrong" (notebook order)."""
WORKSHOP = "workshop3"
EXERCISES = ["learning_curves", "early_stopping", "regularisation", "augmentation",
             "better_model", "leakage", "imbalance", "scanner_shift"]
