"""The project's own errors: each carries one sentence a user can act on."""


class CorganError(Exception):
    """Base class: ``str(err)`` is one clear sentence (what, and where)."""


class DataError(CorganError):
    """Input data is missing, malformed or unusable (names the file, row, column)."""


class ConfigError(CorganError):
    """A configuration value is invalid."""


class RunError(CorganError):
    """A run cannot be created, found, started, stopped or resumed."""
