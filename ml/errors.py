"""Exceptions raised by the recognition engine; their messages are meant for people."""


class MLError(Exception):
    """Base class for every error the engine raises on purpose."""


class CheckpointError(MLError):
    """A model file is missing, unreadable, or lacks what a checkpoint must hold."""


class ImageError(MLError):
    """An input image cannot be read or used."""


class DataError(MLError):
    """A manifest, ground-truth file or data source is missing or malformed."""
