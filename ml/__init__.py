"""Handwriting recognition engine: a CRNN+CTC line recognizer, its data, training and tooling.

Pure PyTorch: nothing here imports Django or reads settings; callers pass paths and config in.
The public surface for the platform is `ml.api`.
"""
