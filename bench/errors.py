"""User-facing errors: the CLI prints them as one line and exits non-zero, without a traceback."""


class BenchError(Exception):
    """A problem with the user's input or environment; the message says what and how to fix it."""


class DataError(BenchError):
    """A data file or directory is malformed; the message names the file and the line or field."""
