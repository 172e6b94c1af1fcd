"""Exceptions with messages meant for users (one line, naming the input)."""


class PerovscreenError(Exception):
    """Base class of every error perovscreen raises on purpose."""


class InputError(PerovscreenError, ValueError):
    """Bad user input: malformed file, missing mobile ion, missing parameter, ..."""


class ModelError(PerovscreenError):
    """A model or weight file is missing, incompatible or fails its integrity check."""
