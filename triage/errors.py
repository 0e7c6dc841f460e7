"""Errors shown to the user as one line (``Error: ...``) with exit code 1.

Every message says what is wrong, where (file, row, column) and how to fix it.
Anything that is not a :class:`TriageError` is a bug and keeps its traceback.
"""

from __future__ import annotations


class TriageError(Exception):
    """Base class of errors that are the user's to fix."""


class InputError(TriageError):
    """An input file is missing, unreadable or malformed."""


class MissingArtifactError(TriageError):
    """A stage needs an artifact that an earlier stage has not written."""


class StaleArtifactError(TriageError):
    """An artifact was made from other inputs or another model."""


class DependencyMissing(TriageError):
    """An optional dependency is not installed; the message gives the install command."""


class InfeasibleError(TriageError):
    """The assignment constraints cannot all be met."""


class OutputError(TriageError):
    """An output could not be written (permissions, disk full)."""
