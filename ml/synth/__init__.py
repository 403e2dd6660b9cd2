"""Synthetic handwriting: fonts, text, rendering and paper-like augmentation."""
