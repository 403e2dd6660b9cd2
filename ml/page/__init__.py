"""Whole pages: preprocessing, line segmentation, reading order, recognition."""
