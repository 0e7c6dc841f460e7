"""Choices shared by the library and the command line.

Plain enums with no heavy imports, so that ``triage --help`` stays fast while the CLI and
the stage modules use the same types.
"""

from __future__ import annotations

from enum import Enum


class Aggregate(str, Enum):
    """How a reviewer's per-publication similarities become one score."""

    max = "max"
    mean = "mean"
    topk = "topk"  # (s1 + s2/2 + s3/3) / (1 + 1/2 + 1/3) over the best three publications
    percentile = "percentile"  # the given percentile of the reviewer's similarities


class ExportFormat(str, Enum):
    """``triage export --format``: csv writes triage.csv; xlsx also writes triage.xlsx (one sheet per table)."""

    csv = "csv"
    xlsx = "xlsx"


class SplitBy(str, Enum):
    """How ``triage export --by`` splits the papers into one file per group."""

    area = "area"
    cluster = "cluster"
