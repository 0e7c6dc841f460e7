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


def shown(value: object, limit: int | None = 80) -> str:
    """A value from the user's files or options (a cell, an id, a title, a file name) as a message shows it:
    line breaks, tabs and other control characters written as escapes (``\\n``), so the message stays one line,
    and anything longer than ``limit`` characters (if given) cut with '...'."""
    text = str(value)
    cut = limit is not None and len(text) > limit
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return text[: limit - 3].rstrip() + "..." if limit is not None and (cut or len(text) > limit) else text

def quoted(value: object, limit: int = 80) -> str:
    """:func:`shown` in quotes for a string (``'lots'``), bare for a number or a list (``2.5``, ``['x']``)."""
    return f"'{shown(value, limit)}'" if isinstance(value, str) else shown(value, limit)
