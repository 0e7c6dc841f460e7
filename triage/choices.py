"""Choices shared by the library and the command line, and the environment variables both name.

Plain enums and names with no heavy imports, so that ``triage --help`` stays fast while the CLI
and the stage modules use the same types.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

ALLOW_DOWNLOAD_ENV = "TRIAGE_ALLOW_DOWNLOAD"  # lets a hub model name be downloaded (--allow-download)
DEFAULT_KEY_ENV = "TRIAGE_LLM_API_KEY"  # the LLM server's API key (--llm-key-env names another)
# --reviewer-top-k: each reviewer's best papers kept as candidates besides each paper's --top-k reviewers
# (AffinityParams.reviewer_top_k); bench/README.md measures it.
REVIEWER_TOP_K = 10


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


class ScoresFormat(str, Enum):
    """``triage affinity --format``: the layout of the scores file."""

    triage = "triage"  # with a header, the evidence publication too
    openreview = "openreview"  # headerless paper,reviewer,score
    cmt = "cmt"  # headerless paper,email,score


class ExportChoice(str, Enum):
    """``--export-format`` of ``run`` and ``match``: the upload files of a conference system."""

    openreview = "openreview"
    cmt = "cmt"
    hotcrp = "hotcrp"
    start = "start"


class CentralityChoice(str, Enum):
    """``triage summarize --centrality``: how a sentence's centrality to its paper is measured."""

    embedding = "embedding"
    tfidf = "tfidf"


E = TypeVar("E", bound=Enum)


def check_choice(choices: type[E], value: str, what: str) -> str:
    """``value`` if it names one of ``choices``; else a ValueError that names them all (a typo such as
    'openreveiw' must not quietly mean something else)."""
    try:
        return str(choices(value).value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(repr(c.value) for c in choices)}") from None
