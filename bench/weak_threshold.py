"""Where should the report call a match weak? Affinity of real expert pairs vs a pool without the expertise.

Reviewers are the COLT 2023 authors, profiled by their COLT 2023 papers. Three affinity samples,
all computed by triage's own match stage (``compute_affinity``, default parameters, every pair):

* author: a COLT 2024 paper and a reviewer who is one of its authors (a genuine expert);
* best in-domain: the best reviewer of each COLT 2024 paper, its authors excluded (what the
  assignment can reach when the pool has the expertise);
* best off-domain: the best reviewer of each sampled ICLR paper that is not theory (what the
  assignment reaches when the pool lacks the expertise: these should be flagged weak).

The suggested threshold is the 5th percentile of "best in-domain", rounded down to 0.05: it flags
at most 5% of the papers a pool can review, and the table shows how many papers it cannot review
get flagged. Also printed: the equal-error point between "author" and "best off-domain".

    python bench/weak_threshold.py --data DIR [--cache DIR] [--iclr 300]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's triage, installed or not

from triage.conflicts import normalize_name
from triage.embed import EmbeddingCache, embed_texts, load_embedder
from triage.ingest import load_corpus, paper_texts
from triage.match import AffinityParams, compute_affinity

THEORY = re.compile(r"theor|theorem|provabl|\bbound|converge|regret|sample complexity|minimax|lower bound|kernel",
                    re.I)


def build(data: Path, tmp: Path, n_iclr: int, seed: int) -> tuple[Path, Path, set[tuple[str, str]], set[str]]:
    colt = pd.read_csv(data / "colt_2023_2024_papers.csv.gz", keep_default_na=False)
    iclr = pd.read_csv(data / "iclr_2021_2022_submissions.csv.gz", keep_default_na=False)
    c23, c24 = colt[colt["year"] == 2023], colt[colt["year"] == 2024]
    pubs = []
    for r in c23.itertuples():
        for a in [x.strip() for x in r.authors.split(";") if x.strip()]:
            pubs.append({"reviewer_id": normalize_name(a), "pub_id": r.id, "title": r.title,
                         "abstract": r.abstract, "year": r.year, "authors": r.authors})
    pubs_df = pd.DataFrame(pubs)
    off = iclr[~(iclr["title"] + " " + iclr["abstract"] + " " + iclr["keywords"]).str.contains(THEORY)]
    off = off.sample(n=min(n_iclr, len(off)), random_state=seed)
    subs = pd.concat([c24[["id", "title", "abstract", "authors"]],
                      off[["id", "title", "abstract"]].assign(authors="")], ignore_index=True)
    subs = subs.rename(columns={"id": "paper_id"})
    sp, pp = tmp / "submissions.csv", tmp / "publications.csv"
    subs.to_csv(sp, index=False)
    pubs_df.to_csv(pp, index=False)
    known = set(pubs_df["reviewer_id"])
    authored = {(r.id, normalize_name(a)) for r in c24.itertuples() for a in r.authors.split(";")
                if normalize_name(a) in known}
    return sp, pp, authored, set(off["id"])


def pct(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q)) if len(x) else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with the development csv.gz files")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-cache",
                    help="embedding cache folder (reruns are cheap)")
    ap.add_argument("--iclr", type=int, default=300, help="off-domain ICLR papers sampled")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as td:
        sp, pp, authored, off_ids = build(args.data, Path(td), args.iclr, args.seed)
        corpus = load_corpus(sp, publications=pp)
    emb = load_embedder("default")
    cache = EmbeddingCache.open(args.cache, emb.name)
    t0 = time.perf_counter()
    pv, _ = embed_texts(paper_texts(corpus.papers), emb, cache)
    uv, _ = embed_texts(paper_texts(corpus.publications), emb, cache)
    t_emb = time.perf_counter() - t0
    aff = compute_affinity(corpus.papers, pv, corpus.publications, uv, corpus.reviewers,
                           params=AffinityParams(top_k=None))
    aff["score"] = aff["score"].astype(float)
    key = list(zip(aff["paper_id"], aff["reviewer_id"]))
    is_author = np.array([k in authored for k in key])
    in_domain = ~aff["paper_id"].isin(off_ids).to_numpy()
    author = aff.loc[is_author, "score"].to_numpy()
    rng = np.random.default_rng(args.seed)
    pool = aff[in_domain & ~is_author]
    random_pairs = pool["score"].to_numpy()[rng.choice(len(pool), size=min(5000, len(pool)), replace=False)]
    best_in = pool.groupby("paper_id")["score"].max().to_numpy()
    best_off = aff[~in_domain].groupby("paper_id")["score"].max().to_numpy()

    print(f"{len(corpus.papers)} submissions ({len(off_ids)} off-domain ICLR), {len(corpus.reviewers)} reviewers, "
          f"{len(corpus.publications)} publications; embedding {t_emb:.1f} s")
    print(f"{'sample':<28}{'n':>6}{'p5':>8}{'p10':>8}{'p25':>8}{'p50':>8}{'p75':>8}{'p90':>8}{'p99':>8}")
    for name, x in (("random in-domain pair", random_pairs), ("author pair", author),
                    ("best in-domain (no authors)", best_in), ("best off-domain", best_off)):
        print(f"{name:<28}{len(x):>6}" + "".join(f"{pct(x, q):>8.3f}" for q in (5, 10, 25, 50, 75, 90, 99)))
    grid = np.round(np.arange(0.10, 0.70, 0.01), 2)
    print(f"\n{'threshold':>9}{'off-domain flagged':>20}{'author pairs below':>20}{'in-domain best below':>22}")
    eer, gap = None, 9.0
    for t in grid:
        flagged, missed, in_below = (best_off < t).mean(), (author < t).mean(), (best_in < t).mean()
        if abs((1 - flagged) - missed) < gap:
            eer, gap = t, abs((1 - flagged) - missed)
        if round(t * 100) % 5 == 0:
            print(f"{t:>9.2f}{flagged:>20.1%}{missed:>20.1%}{in_below:>22.1%}")
    print(f"\nequal-error threshold (off-domain above = author pairs below): {eer:.2f}")
    t = np.floor(pct(best_in, 5) * 20) / 20  # 5th percentile of the in-domain best, rounded down to 0.05
    print(f"suggested threshold (5th percentile of the in-domain best, rounded down): {t:.2f}: flags "
          f"{(best_in < t).mean():.1%} of in-domain and {(best_off < t).mean():.1%} of off-domain papers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
