"""Lexical similarity of titles and abstracts: TF-IDF or BM25-weighted cosine.

The weights are fitted on the run's own corpus (submissions and publications together), so a
term that every paper of the conference uses ("learning", "model") counts for little and a
term a few papers share ("leap complexity") counts for a lot. Both weightings give
L2-normalised sparse rows, so the similarity of two texts is a dot product in [0, 1] and a
reviewer's scores stay comparable across papers.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

# LaTeX commands and math are dropped before tokenising; they are mostly notation, not topic.
_MATH = re.compile(r"\$[^$]*\$|\\[a-zA-Z]+")
_TOKEN = r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b"


class Weighting(str, Enum):
    """How term counts become weights."""

    tfidf = "tfidf"  # (1 + log tf) x idf
    bm25 = "bm25"  # BM25 saturation and length normalisation x idf


@dataclass(frozen=True)
class LexicalParams:
    weighting: Weighting = Weighting.bm25
    ngram_max: int = 2  # 1: words only; 2: words and two-word phrases
    min_df: int = 2  # terms in fewer texts than this are dropped (typos, one-off notation)
    max_df: float = 0.5  # terms in more than this share of texts are dropped
    k1: float = 1.2
    b: float = 0.75
    token_pattern: str | None = None  # None: words of Latin letters (LaTeX dropped); a regex to read other scripts


def _preprocess(text: str) -> str:
    return _MATH.sub(" ", text).lower()


def fit_transform(corpora: list[list[str]], params: LexicalParams = LexicalParams()) -> list[sp.csr_matrix]:
    """Fit one vocabulary and idf on all corpora together; return one L2-normalised matrix per corpus."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    texts = [t for c in corpora for t in c]
    sizes = [len(c) for c in corpora]
    if not texts:
        return [sp.csr_matrix((0, 0), dtype=np.float32) for _ in corpora]
    min_df = params.min_df if len(texts) >= 10 * params.min_df else 1
    max_df = params.max_df if len(texts) >= 20 else 1.0
    # Each distinct text is tokenised once (a co-authored paper is listed under each of its reviewers, and a
    # submission's preprint is often in its authors' profiles); document frequencies still count every row.
    first: dict[str, int] = {}
    row_of = np.fromiter((first.setdefault(t, len(first)) for t in texts), dtype=np.int64, count=len(texts))
    vec = CountVectorizer(preprocessor=_preprocess, token_pattern=params.token_pattern or _TOKEN,
                          stop_words=list(ENGLISH_STOP_WORDS),
                          ngram_range=(1, params.ngram_max), dtype=np.float32)
    try:
        counts = vec.fit_transform(list(first)).tocsr()[row_of]
    except ValueError:  # no text has a term
        counts = sp.csr_matrix((len(texts), 1), dtype=np.float32)
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    # As CountVectorizer's min_df and max_df, over the rows: an int is a number of texts, a float a share.
    low = min_df if isinstance(min_df, numbers.Integral) else min_df * n
    high = max_df if isinstance(max_df, numbers.Integral) else max_df * n
    keep = (df >= low) & (df <= high)
    if not keep.any():
        counts, df = sp.csr_matrix((n, 1), dtype=np.float32), np.zeros(1)
    elif not keep.all():
        counts, df = counts[:, np.flatnonzero(keep)], df[keep]
    if params.weighting is Weighting.tfidf:
        idf = np.log((1 + n) / (1 + df)) + 1.0
        w = counts.copy()
        w.data = 1.0 + np.log(w.data)
    else:
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        length = np.asarray(counts.sum(axis=1)).ravel()
        avg = max(float(length.mean()), 1e-9)
        norm = params.k1 * (1 - params.b + params.b * length / avg)
        w = counts.copy()
        rows = np.repeat(np.arange(n), np.diff(w.indptr))
        w.data = w.data * (params.k1 + 1) / (w.data + norm[rows])
    w = (w @ sp.diags(idf.astype(np.float32))).tocsr()
    lengths = np.sqrt(np.asarray(w.multiply(w).sum(axis=1)).ravel())
    w = (sp.diags((1.0 / np.maximum(lengths, 1e-12)).astype(np.float32)) @ w).tocsr().astype(np.float32)
    out, start = [], 0
    for size in sizes:
        out.append(w[start:start + size])
        start += size
    return out
