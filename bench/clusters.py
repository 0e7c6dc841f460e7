"""Cluster ids after late submissions: how many papers keep theirs, started from the earlier clusters or drawn afresh.

A run clusters the submissions without ``--late`` of them; then those arrive, ``--withdrawn`` others leave,
and the topics stage runs again, as a chair does a week later. For each of ``--trials`` seeded draws it
prints the share of the papers of both runs that kept their cluster id, and how tight the clusters are
(mean cosine of a paper to its cluster's centroid), with the clusters started from the first run's
centroids (what ``triage topics`` does in the same output folder) and drawn afresh.

    python bench/clusters.py                                     # the bundled demo, bundled model
    python bench/clusters.py --data SUBMISSIONS.csv --cache DIR --late 100 --withdrawn 20

``--labels`` measures the cluster labels instead: each ``--data`` file is clustered as ``triage topics`` does
(automatic k) and the script prints the labels, the share holding a two-word term, the terms in more than
20% of the labels, and, where the papers have author keywords (used only to measure, never as input), how
often a label term is among the cluster members' keywords.

    python bench/clusters.py --labels --cache DIR --data DATA/iclr_2021_2022_submissions.csv.gz \\
        DATA/neurips_2013_2018_accepted.csv.gz DATA/colt_2023_2024_papers.csv.gz
"""

from __future__ import annotations

import argparse
import re
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


def in_keywords(term: str, keywords: list[str]) -> bool:
    """The term is among the keywords as whole words (a plural 's' of its last word aside)."""
    stem = term[:-1] if term.endswith("s") and not term.endswith("ss") else term
    pattern = re.compile(r"\b" + re.escape(stem) + r"s?\b")
    return any(pattern.search(k.lower()) for k in keywords)


def label_quality(path: Path, cache: Path, model: str) -> None:
    papers = read_submissions(path)[0].reset_index(drop=True)
    embedder = load_embedder(model)
    emb = embed_texts(paper_texts(papers), embedder, EmbeddingCache.open(cache, embedder.name))[0]
    clusters, _ = cluster_papers(papers, emb, params=ClusterParams())
    labels = clusters.drop_duplicates("cluster_id").sort_values("cluster_id")
    terms = [lab.split(", ") for lab in labels["cluster_label"]]
    print(f"{path.name}: {len(papers)} papers, {len(terms)} clusters, model {model!r}")
    for (cid, lab), size in zip(labels[["cluster_id", "cluster_label"]].itertuples(index=False),
                                clusters["cluster_id"].value_counts().sort_index()):
        print(f"  {cid:3d} ({size:4d}) {lab}")
    in_labels = pd.Series([t for ts in terms for t in set(ts)]).value_counts()
    common = in_labels[in_labels > 0.2 * len(terms)]
    print(f"labels with a two-word term: {np.mean([any(' ' in t for t in ts) for ts in terms]):.0%}; "
          f"terms in more than 20% of the labels: {len(common)}"
          + (f" ({', '.join(f'{t} {n}' for t, n in common.items())})" if len(common) else "")
          + f"; most shared: {', '.join(f'{t} {n}' for t, n in in_labels[in_labels == in_labels.max()].items())}")
    kws = papers["keywords"] if "keywords" in papers.columns else pd.Series([[]] * len(papers))
    has = kws.map(bool).to_numpy()
    if not has.any():
        print()
        return
    shares, above = [], []
    for cid, ts in zip(labels["cluster_id"], terms):
        members = (clusters["cluster_id"].to_numpy() == cid) & has
        for t in ts:
            found = np.array([in_keywords(t, k) for k in kws[has]])
            shares.append(found[members[has]].mean() if members.any() else 0.0)
            above.append(shares[-1] - found.mean())
    print(f"a label term is among the keywords of {np.mean(shares):.1%} of its cluster's papers with keywords, "
          f"{np.mean(above):.1%} more than of all papers (mean over {len(shares)} terms); terms in no member's "
          f"keywords: {np.mean(np.equal(shares, 0)):.0%}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", default=[ROOT / "data" / "demo" / "submissions.csv"])
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-clusters")
    ap.add_argument("--model", default="default")
    ap.add_argument("--late", type=int, default=3)
    ap.add_argument("--withdrawn", type=int, default=2)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--labels", action="store_true", help="measure the cluster labels of each --data file instead")
    args = ap.parse_args()
    if args.labels:
        for path in args.data:
            label_quality(path, args.cache, args.model)
        return

    papers = read_submissions(args.data[0])[0].reset_index(drop=True)
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
