"""Reviewer affinity from each reviewer's own publications.

A reviewer's affinity to a paper aggregates the cosine similarities between the paper and
each of the reviewer's publications (their *profile*). The publication with the highest
similarity is the score's evidence. Two paths compute the same scores:

* all pairs: exact, papers in blocks against every publication (BLAS);
* top-k (default): faiss finds each paper's nearest publications; their owners are the
  candidate reviewers, whose aggregated scores are then computed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from triage.errors import InputError

AFFINITY_COLUMNS = ["paper_id", "reviewer_id", "score", "evidence_id", "evidence_title"]
BLOCK = 64
TOPK_WEIGHTS = np.array([1.0, 1 / 2, 1 / 3], dtype=np.float32)


class Aggregate(str, Enum):
    """How a reviewer's per-publication similarities become one score."""

    max = "max"
    mean = "mean"
    topk = "topk"  # (s1 + s2/2 + s3/3) / (1 + 1/2 + 1/3), over the best three publications


@dataclass(frozen=True)
class AffinityParams:
    aggregate: Aggregate = Aggregate.max
    top_k: int | None = 50  # reviewers kept per paper; None keeps every pair
    recent: int | None = None  # keep each reviewer's N most recent publications
    since: int | None = None  # keep publications from this year on


def select_profiles(pubs: pd.DataFrame, *, recent: int | None = None, since: int | None = None) -> np.ndarray:
    """Boolean mask of publications kept in the reviewer profiles."""
    keep = np.ones(len(pubs), dtype=bool)
    if len(pubs) == 0:
        return keep
    years = pd.to_numeric(pubs["year"], errors="coerce")
    if since is not None:
        keep &= (years >= since).fillna(False).to_numpy()
    if recent is not None:
        order = pd.DataFrame({"r": pubs["reviewer_id"].to_numpy(), "y": years.fillna(-1).to_numpy(),
                              "i": np.arange(len(pubs)), "k": keep})
        order = order[order["k"]].sort_values(["r", "y", "i"], ascending=[True, False, True], kind="stable")
        ranked = order.groupby("r", sort=False).cumcount()
        chosen = order["i"][ranked < recent].to_numpy()
        keep = np.zeros(len(pubs), dtype=bool)
        keep[chosen] = True
    return keep


def profile_index(owner_codes: np.ndarray, n_reviewers: int) -> np.ndarray:
    """(n_reviewers, max_pubs) matrix of publication row indices per reviewer, -1 padded."""
    counts = np.bincount(owner_codes, minlength=n_reviewers) if len(owner_codes) else np.zeros(n_reviewers, int)
    width = max(int(counts.max()) if n_reviewers else 0, 1)
    idx = np.full((n_reviewers, width), -1, dtype=np.int64)
    order = np.argsort(owner_codes, kind="stable")
    pos = np.zeros(n_reviewers, dtype=np.int64)
    for row in order:
        r = owner_codes[row]
        idx[r, pos[r]] = row
        pos[r] += 1
    return idx


def _aggregate(sims: np.ndarray, valid: np.ndarray, how: Aggregate) -> tuple[np.ndarray, np.ndarray]:
    """sims (..., width) with invalid entries anything; returns (scores, argmax position)."""
    masked = np.where(valid, sims, -np.inf)
    best = masked.argmax(axis=-1)
    if how is Aggregate.max:
        score = np.take_along_axis(masked, best[..., None], axis=-1)[..., 0]
    elif how is Aggregate.mean:
        n = valid.sum(axis=-1)
        score = np.where(valid, sims, 0).sum(axis=-1) / np.maximum(n, 1)
    else:
        k = min(3, masked.shape[-1])
        part = -np.sort(-masked, axis=-1)[..., :k] if masked.shape[-1] <= 8 else \
            -np.sort(-np.partition(masked, masked.shape[-1] - k, axis=-1)[..., -k:], axis=-1)
        w = np.broadcast_to(TOPK_WEIGHTS[:k], part.shape)
        ok = np.isfinite(part)
        score = np.where(ok, part * w, 0).sum(axis=-1) / np.maximum(np.where(ok, w, 0).sum(axis=-1), 1e-12)
    none = ~valid.any(axis=-1)
    score = np.where(none, -np.inf, score)
    return score.astype(np.float32), best


def score_pairs(paper_emb: np.ndarray, pub_emb: np.ndarray, prof: np.ndarray, paper_rows: np.ndarray,
                rev_rows: np.ndarray, how: Aggregate) -> tuple[np.ndarray, np.ndarray]:
    """Exact aggregated scores for given (paper row, reviewer row) pairs; also the evidence pub row."""
    scores = np.empty(len(paper_rows), dtype=np.float32)
    evidence = np.empty(len(paper_rows), dtype=np.int64)
    step = 4096
    for s in range(0, len(paper_rows), step):
        pr, rr = paper_rows[s:s + step], rev_rows[s:s + step]
        idx = prof[rr]  # (m, width)
        valid = idx >= 0
        vecs = pub_emb[np.where(valid, idx, 0)]  # (m, width, d)
        sims = np.einsum("md,mwd->mw", paper_emb[pr], vecs)
        sc, best = _aggregate(sims, valid, how)
        scores[s:s + step] = sc
        evidence[s:s + step] = np.take_along_axis(idx, best[:, None], axis=1)[:, 0]
    return scores, evidence


def _dense(paper_emb: np.ndarray, pub_emb: np.ndarray, prof: np.ndarray, how: Aggregate, top_k: int | None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_pap, n_rev = paper_emb.shape[0], prof.shape[0]
    keep = n_rev if top_k is None else min(top_k, n_rev)
    valid = prof >= 0
    safe = np.where(valid, prof, 0)
    rows_p, rows_r, out_s, out_e = [], [], [], []
    for s in range(0, n_pap, BLOCK):
        sims_all = paper_emb[s:s + BLOCK] @ pub_emb.T  # (b, n_pubs)
        sims = sims_all[:, safe]  # (b, n_rev, width)
        sc, best = _aggregate(sims, valid[None, :, :], how)
        ev = np.take_along_axis(np.broadcast_to(prof, sims.shape), best[..., None], axis=-1)[..., 0]
        if keep < n_rev:
            top = np.argpartition(-sc, keep - 1, axis=1)[:, :keep]
        else:
            top = np.broadcast_to(np.arange(n_rev), sc.shape)
        b = sc.shape[0]
        rows_p.append(np.repeat(np.arange(s, s + b), top.shape[1]))
        rows_r.append(top.reshape(-1))
        out_s.append(np.take_along_axis(sc, top, axis=1).reshape(-1))
        out_e.append(np.take_along_axis(ev, top, axis=1).reshape(-1))
    return (np.concatenate(rows_p), np.concatenate(rows_r), np.concatenate(out_s), np.concatenate(out_e))


def _sparse(paper_emb: np.ndarray, pub_emb: np.ndarray, owner: np.ndarray, prof: np.ndarray, how: Aggregate,
            top_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import faiss

    n_pubs = pub_emb.shape[0]
    n_rev = prof.shape[0]
    # Enough neighbours that top_k distinct owners are found for almost every paper.
    per_rev = max(1.0, n_pubs / max(n_rev, 1))
    k_pubs = int(min(n_pubs, max(4 * top_k * per_rev, 256)))
    index = faiss.IndexFlatIP(pub_emb.shape[1])
    index.add(np.ascontiguousarray(pub_emb, dtype=np.float32))
    rows_p, rows_r = [], []
    for s in range(0, paper_emb.shape[0], 1024):
        _, nn = index.search(np.ascontiguousarray(paper_emb[s:s + 1024], dtype=np.float32), k_pubs)
        for i, row in enumerate(nn):
            cand = pd.unique(owner[row[row >= 0]])[: 2 * top_k]
            rows_p.append(np.full(len(cand), s + i, dtype=np.int64))
            rows_r.append(cand.astype(np.int64))
    pr = np.concatenate(rows_p) if rows_p else np.zeros(0, np.int64)
    rr = np.concatenate(rows_r) if rows_r else np.zeros(0, np.int64)
    sc, ev = score_pairs(paper_emb, pub_emb, prof, pr, rr, how)
    df = pd.DataFrame({"p": pr, "r": rr, "s": sc, "e": ev})
    df = df.sort_values(["p", "s", "r"], ascending=[True, False, True], kind="stable")
    df = df[df.groupby("p", sort=False).cumcount() < top_k]
    return df["p"].to_numpy(), df["r"].to_numpy(), df["s"].to_numpy(), df["e"].to_numpy()


def compute_affinity(
    papers: pd.DataFrame,
    paper_emb: np.ndarray,
    pubs: pd.DataFrame,
    pub_emb: np.ndarray,
    reviewers: pd.DataFrame,
    *,
    params: AffinityParams = AffinityParams(),
    exact: bool = False,
) -> pd.DataFrame:
    """Long table ``paper_id, reviewer_id, score, evidence_id, evidence_title``.

    Rows are sorted by paper (input order) then score (descending) then reviewer id.
    Reviewers with no (selected) publications get no rows.
    """
    if paper_emb.shape[0] != len(papers) or pub_emb.shape[0] != len(pubs):
        raise InputError("embeddings do not match the tables; rerun 'triage embed'")
    if params.top_k is not None and params.top_k < 1:
        raise InputError(f"--top-k {params.top_k}: must be at least 1")
    keep = select_profiles(pubs, recent=params.recent, since=params.since)
    pubs = pubs[keep].reset_index(drop=True)
    pub_emb = np.asarray(pub_emb)[keep]
    rev_ids = reviewers["reviewer_id"].tolist()
    code = {r: i for i, r in enumerate(rev_ids)}
    owner = np.array([code.get(r, -1) for r in pubs["reviewer_id"]], dtype=np.int64)
    pubs, pub_emb, owner = pubs[owner >= 0].reset_index(drop=True), pub_emb[owner >= 0], owner[owner >= 0]
    if len(papers) == 0 or len(pubs) == 0 or not rev_ids:
        return pd.DataFrame(columns=AFFINITY_COLUMNS)
    prof = profile_index(owner, len(rev_ids))
    P = np.ascontiguousarray(paper_emb, dtype=np.float32)
    E = np.ascontiguousarray(pub_emb, dtype=np.float32)
    if params.top_k is None or exact or params.top_k * 4 >= len(rev_ids):
        p, r, s, e = _dense(P, E, prof, params.aggregate, params.top_k)
    else:
        p, r, s, e = _sparse(P, E, owner, prof, params.aggregate, params.top_k)
    ok = np.isfinite(s)
    p, r, s, e = p[ok], r[ok], s[ok], e[ok]
    out = pd.DataFrame({
        "paper_id": papers["paper_id"].to_numpy()[p],
        "reviewer_id": np.asarray(rev_ids, dtype=object)[r],
        "score": np.round(s.astype(np.float64), 4),
        "evidence_id": pubs["pub_id"].to_numpy()[e],
        "evidence_title": pubs["title"].to_numpy()[e],
        "_p": p,
    })
    out = out.sort_values(["_p", "score", "reviewer_id"], ascending=[True, False, True], kind="stable")
    return out.drop(columns="_p").reset_index(drop=True)
