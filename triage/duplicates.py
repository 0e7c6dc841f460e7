"""Possible duplicate submissions: the same work submitted twice, or two papers cut from one.

Candidates are each paper's nearest submissions by embedding (any model: only the ranking is
used), so no pair is compared that the embedding does not already put close. A candidate pair
is flagged when

* the two titles are the same (case, accents, spacing and punctuation aside) and the texts share
  at least ``with_authors`` of their wording, or
* their texts share most of their words: the TF-IDF cosine of the two titles + abstracts (words
  and word pairs, weights fitted on the submissions) is at least ``same_text``, or
* they share an author and at least ``with_authors`` of their wording.

Word overlap rather than an embedding cosine decides, because embedding cosines live on
different scales for different models, and two papers on one narrow topic can be as close in
embedding as two versions of one paper, while they do not share their sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from triage.conflicts import normalize_name, title_key
from triage.ingest import paper_texts
from triage.lexical import LexicalParams, Weighting, fit_transform

DUPLICATE_COLUMNS = ["paper_id", "other_id", "text_overlap", "similarity", "shared_authors", "reason"]
BLOCK = 1024


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
            out[i].update(k for k in (norm(str(x)) for x in items) if k)
    return out


def _neighbour_pairs(emb: np.ndarray, k: int) -> np.ndarray:
    """(i, j) with i < j: each paper with its ``k`` nearest other papers (cosine of unit vectors)."""
    n = emb.shape[0]
    k = min(k, n - 1)
    if k < 1:
        return np.zeros((0, 2), dtype=np.int64)
    x = np.ascontiguousarray(emb, dtype=np.float32)
    pairs = []
    for s in range(0, n, BLOCK):
        sims = x[s:s + BLOCK] @ x.T
        rows = np.arange(sims.shape[0])
        sims[rows, s + rows] = -np.inf  # not itself
        near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        pairs.append(np.stack([np.repeat(s + rows, k), near.ravel()], axis=1))
    p = np.concatenate(pairs)
    p = np.sort(p, axis=1)
    return np.unique(p, axis=0)


def find_duplicates(papers: pd.DataFrame, emb: np.ndarray, params: DuplicateParams = DuplicateParams()
                    ) -> pd.DataFrame:
    """``paper_id, other_id, text_overlap, similarity, shared_authors, reason``, one row per flagged pair
    (``paper_id`` the earlier in the input), most overlapping first."""
    n = len(papers)
    if n < 2:
        return pd.DataFrame(columns=DUPLICATE_COLUMNS)
    pairs = _neighbour_pairs(emb, params.neighbours)
    keys = papers["title"].fillna("").astype(str).map(title_key).tolist()
    by_title: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if len(key) >= params.min_title_chars:
            by_title.setdefault(key, []).append(i)
    same = [(a, b) for group in by_title.values() for ai, a in enumerate(group) for b in group[ai + 1:]]
    if same:
        pairs = np.unique(np.concatenate([pairs, np.array(same, dtype=np.int64).reshape(-1, 2)]), axis=0)
    if not len(pairs):
        return pd.DataFrame(columns=DUPLICATE_COLUMNS)
    (lex,) = fit_transform([paper_texts(papers)], LexicalParams(weighting=Weighting.tfidf, ngram_max=2))
    a, b = pairs[:, 0], pairs[:, 1]
    overlap = np.asarray(lex[a].multiply(lex[b]).sum(axis=1), dtype=np.float64).ravel()
    x = np.asarray(emb, dtype=np.float32)
    sim = np.einsum("nd,nd->n", x[a], x[b]).astype(np.float64)
    authors = _authors(papers)
    ids = papers["paper_id"].astype(str).tolist()
    rows = []
    for i, j, ov, s in zip(a.tolist(), b.tolist(), overlap.tolist(), sim.tolist()):
        shared = sorted(authors[i] & authors[j])
        if keys[i] == keys[j] and len(keys[i]) >= params.min_title_chars and ov >= params.with_authors:
            reason = "same title"  # and some wording: "Hyperbolic Neural Networks++" is another paper
        elif ov >= params.same_text:
            reason = "same wording"
        elif shared and ov >= params.with_authors:
            reason = "shared authors and similar wording"
        else:
            continue
        rows.append((ids[i], ids[j], round(ov, 4), round(s, 4), "; ".join(shared), reason))
    out = pd.DataFrame(rows, columns=DUPLICATE_COLUMNS)
    return out.sort_values(["text_overlap", "paper_id", "other_id"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def duplicate_partners(duplicates: pd.DataFrame) -> dict[str, str]:
    """Paper id -> the ids of the submissions it may duplicate, ``; ``-joined (each pair counts for both)."""
    out: dict[str, list[str]] = {}
    for a, b in zip(duplicates["paper_id"].astype(str), duplicates["other_id"].astype(str)):
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return {k: "; ".join(v) for k, v in out.items()}


__all__ = ["DUPLICATE_COLUMNS", "DuplicateParams", "duplicate_partners", "find_duplicates"]
