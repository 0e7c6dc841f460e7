"""Possible duplicate submissions on the dev abstracts: what is flagged, by which rule, and how fast.

The three dev files together (ICLR 2021-22, NeurIPS 2013-18, COLT 2023-24: 9,424 papers) are read as
one pool. ICLR 2022 took many papers rejected from ICLR 2021, some under the same title, most under a
new one and with the abstract rewritten, so the pool holds real pairs of versions of one work. The
pairs with one title are a known subset; every flagged pair is printed with both titles, to be read.

    python bench/duplicates.py --data DATA [--cache DIR] [--model default] [--compare fast]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.conflicts import title_key  # noqa: E402
from triage.duplicates import DuplicateParams, find_duplicates  # noqa: E402
from triage.embed import EmbeddingCache, embed_texts, load_embedder  # noqa: E402
from triage.ingest import paper_texts  # noqa: E402

FILES = {"ICLR": "iclr_2021_2022_submissions.csv.gz", "NeurIPS": "neurips_2013_2018_accepted.csv.gz",
         "COLT": "colt_2023_2024_papers.csv.gz"}


def load(data: Path) -> pd.DataFrame:
    frames = []
    for venue, name in FILES.items():
        df = pd.read_csv(data / name, keep_default_na=False)
        df["paper_id"] = venue + ":" + df["id"].astype(str)
        df["venue"] = venue
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["authors"] = df["authors"].map(lambda s: [a.strip() for a in str(s).split(";") if a.strip()])
    return df[["paper_id", "venue", "year", "title", "abstract", "authors"]]


def embed(texts: list[str], model: str, cache: Path):
    embedder = load_embedder(model)
    return embed_texts(texts, embedder, EmbeddingCache.open(cache, embedder.name))[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-cache")
    ap.add_argument("--model", default="default")
    ap.add_argument("--compare", default="fast", help="a second model whose flagged pairs are compared ('' skips)")
    ap.add_argument("--runs", type=int, default=3, help="timing runs (median reported)")
    args = ap.parse_args()

    df = load(args.data)
    texts = paper_texts(df)
    x = embed(texts, args.model, args.cache)
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        dups = find_duplicates(df, x, DuplicateParams())
        times.append(time.perf_counter() - t0)
    print(f"{len(df)} papers, model '{args.model}': {len(dups)} pairs flagged in "
          f"{sorted(times)[len(times) // 2]:.1f} s (median of {args.runs}, embeddings given)\n")
    info = df.set_index("paper_id")
    dups["where"] = [
        "same venue and year" if (info.at[a, "venue"], info.at[a, "year"]) == (info.at[b, "venue"], info.at[b, "year"])
        else "same venue, other year" if info.at[a, "venue"] == info.at[b, "venue"] else "other venue"
        for a, b in zip(dups["paper_id"], dups["other_id"])]
    print("| reason | pairs | same venue and year | same venue, other year | other venue |\n|---|---|---|---|---|")
    for reason, g in dups.groupby("reason", sort=False):
        c = g["where"].value_counts()
        print(f"| {reason} | {len(g)} | {c.get('same venue and year', 0)} | {c.get('same venue, other year', 0)} | "
              f"{c.get('other venue', 0)} |")

    keys = df["title"].map(title_key)
    groups = df.groupby(keys)["paper_id"].apply(list)
    same_title = {tuple(sorted(v)) for k, v in groups.items() if len(v) == 2 and len(k) >= 12}
    found = {tuple(sorted(p)) for p in zip(dups["paper_id"], dups["other_id"])}
    print(f"\npairs of papers with one title (case, accents, punctuation aside): {len(same_title)}; flagged: "
          f"{len(same_title & found)}; not flagged: "
          + ("; ".join(f"'{info.at[a, 'title']}' / '{info.at[b, 'title']}'" for a, b in sorted(same_title - found))
             or "none"))
    if args.compare:
        y = embed(texts, args.compare, args.cache)
        other = find_duplicates(df, y, DuplicateParams())
        found2 = {tuple(sorted(p)) for p in zip(other["paper_id"], other["other_id"])}
        print(f"model '{args.compare}' (candidates from its own neighbours): {len(other)} pairs, "
              f"{len(found & found2)} the same as '{args.model}'s")
    # As a chair would: this year's submissions, last year's as --compare-with.
    now = (df["venue"] == "ICLR") & (df["year"] == 2022)
    before = (df["venue"] == "ICLR") & (df["year"] == 2021)
    t0 = time.perf_counter()
    cross = find_duplicates(df[now].reset_index(drop=True), x[now.to_numpy()],
                            others=df[before].reset_index(drop=True), other_emb=x[before.to_numpy()],
                            other_source="iclr2021")
    t = time.perf_counter() - t0
    ext = cross[cross["other_source"] == "iclr2021"]
    print(f"\nICLR 2022 ({now.sum()}) with --compare-with ICLR 2021 ({before.sum()}), {t:.1f} s: {len(ext)} "
          f"submissions may be a 2021 paper ({', '.join(f'{k} {v}' for k, v in ext['reason'].value_counts().items())}"
          "); "
          f"{len(cross) - len(ext)} pairs within 2022; the pool run above found "
          f"{int(((dups['where'] == 'same venue, other year') & dups['paper_id'].str.startswith('ICLR')).sum())} "
          "ICLR 2021-2022 pairs")
    print("\n| text overlap | embedding cosine | reason | where | paper | other paper | shared authors |\n"
          "|---|---|---|---|---|---|---|")
    for r in dups.itertuples():
        print(f"| {r.text_overlap:.2f} | {r.similarity:.3f} | {r.reason} | {r.where} | {info.at[r.paper_id, 'title']} "
              f"| {info.at[r.other_id, 'title']} | {r.shared_authors} |")


if __name__ == "__main__":
    main()
