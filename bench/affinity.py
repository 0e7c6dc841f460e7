"""Proxy evaluation of the affinity scorers on public COLT papers (authors as reviewers).

Two held-out tasks, both leave-one-paper-out over COLT 2023+2024 (the only dev file with authors):

* paper -> reviewers: hold out paper q; every author is a reviewer whose profile is their other
  COLT papers; rank all reviewers for q. Relevant: q's own authors (those with another paper).
  Reports MRR and hit@1/5/10.
* reviewer -> papers (the shape of the expertise-ranking target): for every author a with >= 2
  papers and each of their papers q, a's profile is their other papers; rank q against every
  paper a did not write. Reports MRR and the pairwise loss (share of (own, other) pairs ranked
  the wrong way, ties count half: 0 is perfect, 0.5 is chance), overall, for profiles of >= 3
  papers, and split by the year of the held-out paper.
* closeness (the ``--qualified-affinity`` of the supply table): for each author with >= 2 papers and
  each of their papers, the best cosine between it and their other papers, against the same for
  random (paper, author) pairs of the venue; the share of each at or above a few thresholds.

The scores come from the library's own aggregation (triage.match.aggregate_segments) and lexical
weighting (triage.lexical.fit_transform, fitted on all the COLT texts = the run's corpus).

Usage:
    python bench/affinity.py --data DATA_DIR [--cache DIR] [--variants all|main]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's triage, installed or not

from triage.conflicts import normalize_name
from triage.ingest import paper_texts
from triage.lexical import LexicalParams, Weighting, fit_transform
from triage.match import Aggregate, aggregate_segments, blend_weight


def load(data: Path, cache_dir: Path, model: str = "default") -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    from triage.embed import EmbeddingCache, embed_texts, load_embedder

    df = pd.read_csv(data / "colt_2023_2024_papers.csv.gz", keep_default_na=False)
    texts = paper_texts(df)
    emb = load_embedder(model)
    cache = EmbeddingCache.open(cache_dir, emb.name)
    vecs, _ = embed_texts(texts, emb, cache)
    return df, np.asarray(vecs, dtype=np.float32), texts


def authorship(df: pd.DataFrame) -> dict[str, list[int]]:
    papers_of: dict[str, list[int]] = {}
    for i, s in enumerate(df["authors"]):
        for a in s.split(";"):
            key = normalize_name(a)
            if key and i not in papers_of.setdefault(key, []):
                papers_of[key].append(i)
    return papers_of


def _profile(papers: list[int], q: int, years: np.ndarray, recent: int | None) -> list[int]:
    prof = [p for p in papers if p != q]
    if recent is not None:
        prof = sorted(prof, key=lambda p: (-years[p], p))[:recent]
    return prof


def _rank(score_pos: float, neg: np.ndarray) -> float:
    """1-based rank of the positive among the negatives, ties counted half."""
    return 1.0 + float((neg > score_pos).sum()) + 0.5 * float((neg == score_pos).sum())


def paper_to_reviewers(S: np.ndarray, papers_of: dict[str, list[int]], years: np.ndarray, how: Aggregate,
                       pct: float, recent: int | None) -> dict[str, float]:
    authors = list(papers_of)
    by_paper: dict[int, set[int]] = {}
    for j, a in enumerate(authors):
        for p in papers_of[a]:
            by_paper.setdefault(p, set()).add(j)
    rr, hits = [], {1: [], 5: [], 10: []}
    for q in range(S.shape[0]):
        profs = [_profile(papers_of[a], q, years, recent) for a in authors]
        rel = np.array([j in by_paper.get(q, ()) and len(profs[j]) > 0 for j in range(len(authors))])
        if not rel.any():
            continue
        ptr = np.zeros(len(authors) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in profs], out=ptr[1:])
        entries = np.fromiter((p for pr in profs for p in pr), dtype=np.int64, count=int(ptr[-1]))
        sc, _ = aggregate_segments(S[q, entries], ptr, how, pct)
        ok = np.isfinite(sc)
        best = sc[rel].max()
        r = _rank(best, sc[ok & ~rel])
        rr.append(1.0 / r)
        for k in hits:
            hits[k].append(r <= k)
    return {"p2r_n": len(rr), "p2r_mrr": float(np.mean(rr)), **{f"p2r_hit@{k}": float(np.mean(v))
                                                                 for k, v in hits.items()}}


def reviewer_to_papers(S: np.ndarray, papers_of: dict[str, list[int]], years: np.ndarray, how: Aggregate,
                       pct: float, recent: int | None) -> dict[str, float]:
    n = S.shape[0]
    rr, loss, loss3, by_year = [], [], [], {}
    for own in papers_of.values():
        if len(own) < 2:
            continue
        others = np.setdiff1d(np.arange(n), own)
        for q in own:
            prof = _profile(own, q, years, recent)
            cand = np.append(others, q)
            block = S[np.ix_(cand, prof)].ravel()  # row-major: one segment of len(prof) per candidate
            ptr = np.arange(len(cand) + 1, dtype=np.int64) * len(prof)
            sc, _ = aggregate_segments(block, ptr, how, pct)
            pos, neg = sc[-1], sc[:-1]
            r = _rank(pos, neg)
            rr.append(1.0 / r)
            lo = (r - 1.0) / len(neg)
            loss.append(lo)
            if len(prof) >= 3:
                loss3.append(lo)
            by_year.setdefault(int(years[q]), []).append(lo)
    out = {"r2p_n": len(rr), "r2p_mrr": float(np.mean(rr)), "r2p_loss": float(np.mean(loss)),
           "r2p_loss_prof3": float(np.mean(loss3)) if loss3 else float("nan"), "r2p_n_prof3": len(loss3)}
    for y, v in sorted(by_year.items()):
        out[f"r2p_loss_{y}"] = float(np.mean(v))
    return out


def variants(which: str) -> list[tuple[str, str, float, Aggregate, float, int | None]]:
    """(name, lexical kind, weight, aggregate, percentile, recent).

    A weight in (0, 1) is the lexical share of the spread (triage.match.blend_weight, the library's
    blend); a negative weight -w is a fixed mixing weight w, for comparison.
    """
    A = Aggregate
    v = [
        ("dense max", "none", 0.0, A.max, 75, None),
        ("dense mean", "none", 0.0, A.mean, 75, None),
        ("dense top3-weighted", "none", 0.0, A.topk, 75, None),
        ("dense p50", "none", 0.0, A.percentile, 50, None),
        ("dense p75", "none", 0.0, A.percentile, 75, None),
        ("dense p90", "none", 0.0, A.percentile, 90, None),
        ("tfidf max", "tfidf", 1.0, A.max, 75, None),
        ("tfidf top3", "tfidf", 1.0, A.topk, 75, None),
        ("bm25 max", "bm25", 1.0, A.max, 75, None),
        ("bm25 top3", "bm25", 1.0, A.topk, 75, None),
        ("bm25 unigram top3", "bm25-1", 1.0, A.topk, 75, None),
    ]
    for w in (0.3, 0.5):
        v.append((f"dense+bm25 fixed w={w} top3", "bm25", -w, A.topk, 75, None))
    for share in (0.25, 0.5, 0.75):
        for how in (A.max, A.topk, A.mean, A.percentile):
            v.append((f"dense+bm25 share={share} {how.value}", "bm25", share, how, 75, None))
    v += [
        ("dense+tfidf share=0.5 topk", "tfidf", 0.5, A.topk, 75, None),
        ("dense+bm25 unigram share=0.5 topk", "bm25-1", 0.5, A.topk, 75, None),
        ("dense+bm25 share=0.5 topk, recent 1", "bm25", 0.5, A.topk, 75, 1),
        ("dense+bm25 share=0.5 topk, recent 2", "bm25", 0.5, A.topk, 75, 2),
    ]
    if which == "main":
        keep = {"dense max", "dense top3-weighted", "bm25 top3", "dense+bm25 share=0.5 max",
                "dense+bm25 share=0.5 topk"}
        v = [x for x in v if x[0] in keep]
    return v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with colt_2023_2024_papers.csv.gz")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-cache",
                    help="embedding cache folder (reused between runs)")
    ap.add_argument("--variants", choices=["all", "main"], default="all")
    ap.add_argument("--model", default="default",
                    help="'default' (the bundled MiniLM), a local sentence-transformers folder or a name")
    args = ap.parse_args()
    t0 = time.perf_counter()
    df, X, texts = load(args.data, args.cache, args.model)
    papers_of = authorship(df)
    years = df["year"].to_numpy(dtype=np.int64)
    dense = X @ X.T
    lex: dict[str, np.ndarray] = {}
    mats = {}
    for kind, params in (("tfidf", LexicalParams(weighting=Weighting.tfidf)), ("bm25", LexicalParams()),
                         ("bm25-1", LexicalParams(ngram_max=1))):
        (L,) = fit_transform([texts], params)
        lex[kind] = (L @ L.T).toarray().astype(np.float32)
        mats[kind] = L
    n2 = sum(len(v) >= 2 for v in papers_of.values())
    print(f"COLT papers {len(df)}, authors {len(papers_of)}, authors with >= 2 papers {n2}; "
          f"setup {time.perf_counter() - t0:.1f} s\n")
    rows = []
    for name, kind, w, how, pct, recent in variants(args.variants):
        if kind != "none" and 0 < w < 1:
            w = blend_weight(X, X, mats[kind], mats[kind], w)
            name = f"{name} (w={w:.2f})"
        w = abs(w)
        S = dense if kind == "none" else (1 - w) * dense + w * lex[kind]
        res = {"scorer": name, **paper_to_reviewers(S, papers_of, years, how, pct, recent),
               **reviewer_to_papers(S, papers_of, years, how, pct, recent)}
        rows.append(res)
    t = pd.DataFrame(rows)
    cols = ["scorer", "p2r_mrr", "p2r_hit@1", "p2r_hit@5", "p2r_hit@10", "r2p_mrr", "r2p_loss", "r2p_loss_prof3"]
    cols += [c for c in t.columns if c.startswith("r2p_loss_2")]
    n_cols = {"p2r": t["p2r_n"].iloc[0], "r2p": t["r2p_n"].iloc[0], "prof3": t["r2p_n_prof3"].iloc[0]}
    print(f"held-out cases: paper->reviewers {n_cols['p2r']}, reviewer->papers {n_cols['r2p']} "
          f"({n_cols['prof3']} with profiles of >= 3 papers)")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(t[cols].to_string(index=False))
    closeness(dense, papers_of)
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


def closeness(dense: np.ndarray, papers_of: dict[str, list[int]], n_random: int = 5000, seed: int = 0) -> None:
    """Share of (paper, author's other papers) pairs whose best cosine reaches each threshold, vs random pairs."""
    authors = [a for a, ps in papers_of.items() if len(ps) >= 2]
    own = np.array([dense[p, [q for q in papers_of[a] if q != p]].max() for a in authors for p in papers_of[a]])
    rng = np.random.default_rng(seed)
    rand = []
    for a, p in zip(rng.integers(len(authors), size=n_random), rng.integers(dense.shape[0], size=n_random)):
        others = [q for q in papers_of[authors[a]] if q != p]
        rand.append(dense[p, others].max())
    rand = np.array(rand)
    print(f"\ncloseness: best dense cosine of {len(own)} (paper, its author's other papers) pairs vs {n_random} random "
          f"(paper, author) pairs; median {np.median(own):.3f} vs {np.median(rand):.3f}")
    print("| threshold | own pairs at or above | random pairs at or above |\n|---|---|---|")
    for t in (0.45, 0.5, 0.55, 0.6):
        print(f"| {t:.2f} | {np.mean(own >= t):.2f} | {np.mean(rand >= t):.3f} |")


if __name__ == "__main__":
    main()
