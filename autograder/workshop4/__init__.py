"""Checks of workshop 4, "A segmentation task in CHD" (source/workshop4/workshop4.ipynb)."""
WORKSHOP = "workshop4"
EXERCISES = ["dice", "dice_per_structure", "soft_dice_loss", "build_unet", "train_unet",
             "volume_ml", "ejection_fraction"]
