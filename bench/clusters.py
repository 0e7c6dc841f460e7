"""Cluster ids after late submissions: how many papers keep theirs, started from the earlier clusters or drawn afresh.

A run clusters the submissions without ``--late`` of them; then those arrive, ``--withdrawn`` others leave,
and the topics stage runs again, as a chair does a week later. For each of ``--trials`` seeded draws it
prints the share of the papers of both runs that kept their cluster id, and how tight the clusters are
(mean cosine of a paper to its cluster's centroid), with the clusters started from the first run's
centroids (what ``triage topics`` does in the same output folder) and drawn afresh.

    python bench/clusters.py                                     # the bundled demo, bundled model
    python bench/clusters.py --data SUBMISSIONS.csv --cache DIR --late 100 --withdrawn 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.embed import EmbeddingCache, embed_texts, load_embedder  # noqa: E402
from triage.ingest import paper_texts, read_submissions  # noqa: E402
from triage.topics import ClusterParams, cluster_papers  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "demo" / "submissions.csv")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-clusters")
    ap.add_argument("--model", default="default")
    ap.add_argument("--late", type=int, default=3)
    ap.add_argument("--withdrawn", type=int, default=2)
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()

    papers = read_submissions(args.data)[0].reset_index(drop=True)
    embedder = load_embedder(args.model)
    emb = embed_texts(paper_texts(papers), embedder, EmbeddingCache.open(args.cache, embedder.name))[0]
    rows = []
    for trial in range(args.trials):
        rng = np.random.default_rng(trial)
        order = rng.permutation(len(papers))
        late, withdrawn = order[:args.late], order[args.late:args.late + args.withdrawn]
        first_rows = np.setdiff1d(np.arange(len(papers)), late)
        second_rows = np.setdiff1d(np.arange(len(papers)), withdrawn)
        first, centroids = cluster_papers(papers.iloc[first_rows], emb[first_rows], params=ClusterParams())
        before = dict(zip(first["paper_id"], first["cluster_id"]))
        for how, previous in (("from the earlier clusters", centroids), ("drawn afresh", None)):
            second, _ = cluster_papers(papers.iloc[second_rows], emb[second_rows], params=ClusterParams(),
                                       previous=previous)
            both = [before[p] == c for p, c in zip(second["paper_id"], second["cluster_id"]) if p in before]
            rows.append({"trial": trial, "clusters": how, "k": int(second["cluster_id"].nunique()),
                         "kept id": round(float(np.mean(both)), 3),
                         "tightness": round(float(second["centroid_sim"].mean()), 4)})
    table = pd.DataFrame(rows)
    print(f"{len(papers)} papers, model {args.model!r}: {args.late} late, {args.withdrawn} withdrawn, "
          f"{args.trials} draws; first run tightness {first['centroid_sim'].mean():.4f} (last draw)\n")
    print(table.to_string(index=False))
    print()
    print(table.groupby("clusters")[["kept id", "tightness"]].agg(["min", "median", "max"]).to_string())


if __name__ == "__main__":
    main()
