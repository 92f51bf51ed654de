"""The one exception hierarchy of psoas.

Every error a user can meet is a :class:`PsoasError` whose message says what went wrong, where
(file, line, byte offset, packet, column, row) and what to do. The command line prints the message
without a traceback and exits non-zero.
"""

from __future__ import annotations


class PsoasError(Exception):
    """Base of every error psoas reports to a user."""

    exit_code = 1


class SchemaError(PsoasError):
    """A frame does not follow the canonical data contract (sensors/schema.py)."""


class ImportFormatError(PsoasError):
    """A file handed to an importer is malformed or of an unsupported format."""

    exit_code = 3


class StoreError(PsoasError):
    """The store cannot be opened, read or written."""

    exit_code = 4


class StoreBusyError(StoreError):
    """Another psoas process is writing to the same store."""


class UsageError(PsoasError):
    """The command was called with options that do not fit together."""

    exit_code = 2
