"""Possible duplicate submissions: the same work submitted twice, or two papers cut from one.

Candidates are each paper's nearest submissions by embedding (any model: only the ranking is
used), so no pair is compared that the embedding does not already put close. A candidate pair
is flagged when

* the two titles are the same (case, accents, spacing and punctuation aside) and the texts share
  at least ``with_authors`` of their wording, or
* their texts share most of their words: the TF-IDF cosine of the two titles + abstracts (words
  and word pairs, weights fitted on the papers compared) is at least ``same_text``, or
* they share an author and at least ``with_authors`` of their wording.

With ``others`` (an earlier year's submissions, or a sister venue's list of ``id, title, abstract``),
each submission is also compared with its nearest papers there: resubmissions and dual submissions.

Word overlap rather than an embedding cosine decides, because embedding cosines live on
different scales for different models, and two papers on one narrow topic can be as close in
embedding as two versions of one paper, while they do not share their sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from triage.conflicts import normalize_name, title_key
from triage.embed import nearest
from triage.ingest import paper_texts
from triage.lexical import LexicalParams, Weighting, fit_transform

DUPLICATE_COLUMNS = ["paper_id", "other_id", "other_source", "other_title", "text_overlap", "similarity",
                     "shared_authors", "reason"]
SUBMISSIONS = "submissions"  # other_source of a pair within the submissions
# Words of any script: a copy in Chinese or Cyrillic shares its words too.
WORDS = r"(?u)\b[^\W\d_][\w\-]+\b"
# What blind exports put in place of names: no two papers share an author through them.
PLACEHOLDER_AUTHORS = {"anonymous", "anonymous author", "anonymous authors", "anon", "author", "authors",
                       "unknown", "withheld", "hidden", "blinded", "redacted", "na", "n a", "none"}


@dataclass(frozen=True)
class DuplicateParams:
    neighbours: int = 5  # candidates per paper: its nearest submissions by embedding
    same_text: float = 0.5  # word overlap (TF-IDF cosine) that makes two texts the same work
    with_authors: float = 0.35  # word overlap enough when the two papers share an author
    min_title_chars: int = 12  # shorter titles ("Untitled", "Rebuttal") are not compared


def _authors(papers: pd.DataFrame) -> list[set[str]]:
    """Per paper: its authors' normalized names and lower-cased ids (emails, profile ids)."""
    out: list[set[str]] = [set() for _ in range(len(papers))]
    for col, norm in (("authors", normalize_name), ("authorids", lambda s: s.strip().lower())):
        if col not in papers.columns:
            continue
        for i, value in enumerate(papers[col].tolist()):
            items = value if isinstance(value, list) else [] if value is None or value != value else [value]
            out[i].update(k for k in (norm(str(x)) for x in items) if k and k not in PLACEHOLDER_AUTHORS)
    return out


def _nearest(queries: np.ndarray, corpus: np.ndarray, k: int, *, same: bool) -> np.ndarray:
    """(query row, corpus row) for each query's ``k`` nearest corpus rows; ``same``: one set, no self-pairs."""
    k = min(k, corpus.shape[0] - 1 if same else corpus.shape[0])
    if k < 1 or queries.shape[0] == 0:
        return np.zeros((0, 2), dtype=np.int64)
    near = nearest(np.ascontiguousarray(queries, dtype=np.float32), np.ascontiguousarray(corpus, dtype=np.float32),
                   k, same=same)
    return np.stack([np.repeat(np.arange(queries.shape[0]), k), near.ravel()], axis=1)


def _overlaps(texts: list[str], n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """TF-IDF cosine of each pair (a, b) of ``texts``; the first ``n`` are the submissions.

    Pairs of two submissions are weighed on the submissions alone, so another file only adds pairs. Pairs
    with a paper of the other file are weighed on both files, each distinct text counted once (a paper
    listed in both does not halve the weight of its own words)."""
    params = LexicalParams(weighting=Weighting.tfidf, ngram_max=2, token_pattern=WORDS)
    out = np.zeros(len(a), dtype=np.float64)
    inner = b < n
    if inner.any():
        (lex,) = fit_transform([texts[:n]], params)
        out[inner] = np.asarray(lex[a[inner]].multiply(lex[b[inner]]).sum(axis=1)).ravel()
    if (~inner).any():
        first: dict[str, int] = {}
        row = np.array([first.setdefault(t, len(first)) for t in texts], dtype=np.int64)
        (lex,) = fit_transform([list(first)], params)
        ra, rb = row[a[~inner]], row[b[~inner]]
        out[~inner] = np.asarray(lex[ra].multiply(lex[rb]).sum(axis=1)).ravel()
    return out


def find_duplicates(papers: pd.DataFrame, emb: np.ndarray, params: DuplicateParams = DuplicateParams(), *,
                    others: pd.DataFrame | None = None, other_emb: np.ndarray | None = None,
                    other_source: str = "other file") -> pd.DataFrame:
    """One row per flagged pair, most overlapping first: ``paper_id`` (a submission; the earlier in the input
    for a pair of submissions), ``other_id``, ``other_source`` (``submissions``, or ``other_source`` for a paper
    of ``others``), ``other_title``, ``text_overlap``, ``similarity`` (embedding cosine), ``shared_authors``
    and ``reason``."""
    n = len(papers)
    n_other = 0 if others is None else len(others)
    if n == 0 or n + n_other < 2:
        return pd.DataFrame(columns=DUPLICATE_COLUMNS)
    cols = [c for c in ("paper_id", "title", "abstract", "keywords", "authors", "authorids") if c in papers.columns]
    pool = papers
    x = np.asarray(emb, dtype=np.float32)
    if n_other:
        ocols = [c for c in cols if c in others.columns]
        pool = pd.concat([papers[cols], others[ocols]], ignore_index=True)
        x = np.concatenate([x, np.asarray(other_emb, dtype=np.float32)])
    within = _nearest(x[:n], x[:n], params.neighbours, same=True)
    cross = _nearest(x[:n], x[n:], params.neighbours, same=False) + np.array([0, n])
    keys = pool["title"].fillna("").astype(str).map(title_key).tolist()
    by_title: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if len(key) >= params.min_title_chars:
            by_title.setdefault(key, []).append(i)
    same = [(a, b) for group in by_title.values() for ai, a in enumerate(group) for b in group[ai + 1:] if a < n]
    pairs = np.concatenate([within, cross, np.array(same, dtype=np.int64).reshape(-1, 2)])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)  # a submission first: its row is below every other paper's
    if not len(pairs):
        return pd.DataFrame(columns=DUPLICATE_COLUMNS)
    texts = paper_texts(pool)
    a, b = pairs[:, 0], pairs[:, 1]
    overlap = _overlaps(texts, n, a, b)
    sim = np.einsum("nd,nd->n", x[a], x[b]).astype(np.float64)
    authors = _authors(pool)
    ids = pool["paper_id"].astype(str).tolist()
    titles = pool["title"].fillna("").astype(str).tolist()
    rows = []
    for i, j, ov, s in zip(a.tolist(), b.tolist(), overlap.tolist(), sim.tolist()):
        if j >= n and ids[i] == ids[j] and texts[i] == texts[j]:
            continue  # one record listed in both files, not a resubmission
        shared = sorted(authors[i] & authors[j])
        if keys[i] == keys[j] and len(keys[i]) >= params.min_title_chars and ov >= params.with_authors:
            reason = "same title"  # and some wording: "Hyperbolic Neural Networks++" is another paper
        elif ov >= params.same_text:
            reason = "same wording"
        elif shared and ov >= params.with_authors:
            reason = "shared authors and similar wording"
        else:
            continue
        rows.append((ids[i], ids[j], SUBMISSIONS if j < n else other_source, titles[j], round(ov, 4), round(s, 4),
                     "; ".join(shared), reason))
    out = pd.DataFrame(rows, columns=DUPLICATE_COLUMNS)
    return out.sort_values(["text_overlap", "paper_id", "other_id"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def duplicate_partners(duplicates: pd.DataFrame) -> dict[str, str]:
    """Submission id -> the papers it may duplicate, ``; ``-joined: other submissions by id (each pair counts for
    both), papers of another file as ``source: id``."""
    out: dict[str, list[str]] = {}
    for a, b, src in zip(duplicates["paper_id"].astype(str), duplicates["other_id"].astype(str),
                         duplicates["other_source"].astype(str)):
        if src == SUBMISSIONS:
            out.setdefault(a, []).append(b)
            out.setdefault(b, []).append(a)
        else:
            out.setdefault(a, []).append(f"{src}: {b}")
    return {k: "; ".join(v) for k, v in out.items()}


__all__ = ["DUPLICATE_COLUMNS", "SUBMISSIONS", "DuplicateParams", "duplicate_partners", "find_duplicates"]
