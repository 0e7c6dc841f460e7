"""The whole pipeline at conference size: ``triage run`` on a conference built from real abstracts.

Builds a conference folder (submissions.csv, publications.csv, reviewers.csv, conflicts.csv) from the
dev abstracts, then runs every stage as ``triage run`` does (plus the xlsx workbook, the per-area
files and the upload formats) and prints, per stage, the wall time, the CPU time of the process and
its peak resident memory, then the size of each output.

* Submissions: the real title + abstract texts (ICLR 2021-22, NeurIPS 2013-18, COLT 2023-24, 9,424
  in all); beyond that, copies with their sentences shuffled, so every text is distinct. 2-6 authors
  each, from the paper's topic community (some of them reviewers), with institutional emails.
* Reviewers and publications: synthetic people (as in ``bench/scale.py``); each reviewer belongs to
  a topic (k-means over TF-IDF of the real abstracts) and writes papers there (80%) or anywhere; a
  publication is a real abstract with its sentences shuffled, a distinct title, 1-3 reviewer authors
  (one row per reviewer author, as OpenReview's expertise export has it) and a year.
* Declared conflicts: one per ten papers, at random.

The embedding cache lives in the work folder, so a second run only embeds what changed; ``--late N``
then adds N new submissions and reruns, as a chair does after late submissions.

    python bench/conference.py --data DATA                        # 12,000 papers, 15,000 reviewers, fast model
    python bench/conference.py --data DATA --papers 2000 --reviewers 2500 --late 50   # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's triage, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import PeakRSS, fmt, make_people  # noqa: E402

from triage.choices import REVIEWER_TOP_K  # noqa: E402

FILES = ("iclr_2021_2022_submissions.csv.gz", "neurips_2013_2018_accepted.csv.gz", "colt_2023_2024_papers.csv.gz")
SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def real_texts(data: Path) -> pd.DataFrame:
    frames = [pd.read_csv(data / f, usecols=["title", "abstract", "keywords"]) for f in FILES]
    df = pd.concat(frames, ignore_index=True).dropna(subset=["title", "abstract"])
    df = df[df["abstract"].str.len() > 200].drop_duplicates("title").reset_index(drop=True)
    return df.fillna({"keywords": ""})


def topics_of(texts: pd.Series, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(stop_words="english", min_df=3, max_features=20_000, sublinear_tf=True).fit_transform(texts)
    return MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=2048).fit_predict(x)


def shuffled(abstract: str, rng: np.random.Generator) -> str:
    parts = SENT.split(abstract)
    if len(parts) > 1:
        parts = [parts[i] for i in rng.permutation(len(parts))]
    return " ".join(parts)


def build(data: Path, folder: Path, n_papers: int, n_reviewers: int, pubs_per: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    src = real_texts(data)
    n_topics = max(2, min(100, len(src) // 50))
    topic = topics_of(src["title"] + ". " + src["abstract"], n_topics, seed)
    by_topic = [np.flatnonzero(topic == t) for t in range(n_topics)]
    n_people = 2 * n_reviewers
    names, emails = make_people(n_people, rng)
    person_topic = rng.integers(0, n_topics, n_people)
    people_of = [np.flatnonzero(person_topic == t) for t in range(n_topics)]
    rev_of = [p[p < n_reviewers] for p in people_of]

    def pick(pool: np.ndarray, k: int) -> list[int]:
        return list(dict.fromkeys(pool[rng.integers(0, len(pool), k)].tolist())) if len(pool) else []

    rid = [f"~{names[i].replace(' ', '_')}{i}" for i in range(n_reviewers)]
    pd.DataFrame({"reviewer_id": rid, "name": names[:n_reviewers], "email": emails[:n_reviewers]}).to_csv(
        folder / "reviewers.csv", index=False)

    # Submissions: every real text once, then shuffled copies.
    order = np.concatenate([rng.permutation(len(src)) for _ in range(-(-n_papers // len(src)))])[:n_papers]
    subs = []
    for i, j in enumerate(order.tolist()):
        copy = i >= len(src)
        t = int(topic[j])
        authors = pick(people_of[t], int(rng.integers(2, 7))) or pick(np.arange(n_people), 3)
        subs.append({"paper_id": f"S{i + 1}", "title": src.at[j, "title"] + (f" (version {i // len(src)})"
                                                                              if copy else ""),
                     "abstract": shuffled(src.at[j, "abstract"], rng) if copy else src.at[j, "abstract"],
                     "keywords": src.at[j, "keywords"], "authors": "; ".join(names[a] for a in authors),
                     "authorids": "; ".join(emails[a] for a in authors)})
    pd.DataFrame(subs).to_csv(folder / "submissions.csv", index=False)

    # Publications: papers written by 1-3 reviewers of a topic, one row per reviewer author.
    rows: list[dict[str, Any]] = []
    written = np.zeros(n_reviewers, dtype=int)
    paper = 0
    for r in rng.permutation(n_reviewers).tolist():
        while written[r] < pubs_per:
            t = int(person_topic[r]) if rng.random() < 0.8 else int(rng.integers(0, n_topics))
            j = int(by_topic[t][rng.integers(0, len(by_topic[t]))])
            co = [c for c in pick(rev_of[t], int(rng.integers(0, 3))) if c != r and written[c] < pubs_per]
            authors = [r, *co] + pick(people_of[t], int(rng.integers(0, 3)))
            authors = list(dict.fromkeys(authors))
            paper += 1
            title = f"{src.at[j, 'title']} ({paper})"
            abstract = shuffled(src.at[j, "abstract"], rng)
            year = int(rng.integers(2015, 2026))
            for a in [r, *co]:
                written[a] += 1
                rows.append({"reviewer_id": rid[a], "paper_id": f"P{paper}", "title": title, "abstract": abstract,
                             "year": year, "authors": "; ".join(names[x] for x in authors)})
    pd.DataFrame(rows).to_csv(folder / "publications.csv", index=False)

    n_decl = n_papers // 10
    pd.DataFrame({"paper_id": [f"S{i + 1}" for i in rng.integers(0, n_papers, n_decl)],
                  "reviewer_id": [rid[i] for i in rng.integers(0, n_reviewers, n_decl)],
                  "reason": "declared"}).drop_duplicates(["paper_id", "reviewer_id"]).to_csv(
        folder / "conflicts.csv", index=False)
    return {"papers": n_papers, "reviewers": n_reviewers, "publications": len(rows), "distinct_publications": paper}


class StageTimer:
    """Wraps the pipeline's stage functions; one row per call (wall, process CPU, peak RSS)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.depth = 0

    def wrap(self, module: Any, name: str, label: str) -> None:
        fn = getattr(module, name)

        def timed(*a: Any, **kw: Any) -> Any:
            self.depth += 1
            with PeakRSS() as mem:
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    return fn(*a, **kw)
                finally:
                    self.depth -= 1
                    self.rows.append({"stage": ("  " * self.depth) + label, "wall_s": time.perf_counter() - t0,
                                      "cpu_s": time.process_time() - c0, "peak_rss_gb": 0.0, "_mem": mem})
                    print(f"  {label}: {self.rows[-1]['wall_s']:.1f} s", file=sys.stderr, flush=True)

        setattr(module, name, timed)

    def table(self) -> pd.DataFrame:
        for r in self.rows:
            r["peak_rss_gb"] = r.pop("_mem").peak / 2**30 if "_mem" in r else r["peak_rss_gb"]
        # Nested stages finish first; show them under their parent.
        out, pending = [], []
        for r in self.rows:
            if r["stage"].startswith("  "):
                pending.append(r)
            else:
                out += [r, *pending]
                pending = []
        return pd.DataFrame(out + pending)


def instrument() -> StageTimer:
    from triage import pipeline as P

    t = StageTimer()
    for name, label in [("load", "ingest"), ("run_embed", "embed"), ("run_topics", "topics"),
                        ("run_match", "match"), ("run_supply", "supply"), ("run_summarize", "summarize"),
                        ("run_export", "export"), ("run_report", "report")]:
        t.wrap(P, name, label)
    for name, label in [("detect_conflicts", "conflicts"), ("compute_affinity", "affinity"), ("assign", "assign"),
                        ("reviewer_coauthors", "co-authors")]:
        t.wrap(P, name, label)
    return t


def run(folder: Path, out: Path, model: str, timer: StageTimer, reviewer_top_k: int = REVIEWER_TOP_K
        ) -> tuple[float, list[str]]:
    from triage import pipeline as P
    from triage.choices import ExportFormat, SplitBy
    from triage.match import AffinityParams
    from triage.workdir import Workdir, all_or_nothing

    inputs = P.Inputs(folder / "submissions.csv", folder / "publications.csv", folder / "reviewers.csv",
                      folder / "conflicts.csv")
    options = P.RunOptions(embed=P.EmbedParams(model=model), affinity=AffinityParams(reviewer_top_k=reviewer_top_k),
                           export_formats=("openreview", "cmt", "hotcrp", "start"))
    t0 = time.perf_counter()
    with all_or_nothing():
        res = P.run_all(inputs, out, options)
    with all_or_nothing():  # as `triage export --format xlsx --by area`
        P.run_export(P.load(inputs), Workdir(out), P.ExportParams(format=ExportFormat.xlsx, by=SplitBy.area),
                     inputs=inputs)
    return time.perf_counter() - t0, res.messages


def sizes(out: Path) -> pd.DataFrame:
    rows = []
    for p in sorted(out.rglob("*")):
        if p.is_file() and "cache" not in p.relative_to(out).parts:
            rows.append({"file": str(p.relative_to(out)), "MB": p.stat().st_size / 1e6})
    df = pd.DataFrame(rows)
    split = df["file"].str.contains("/") & ~df["file"].str.startswith("embeddings")
    grouped = df[split].assign(file=df["file"].str.split("/").str[0] + "/ (" + str(int(split.sum())) + " files)")
    return pd.concat([df[~split], grouped.groupby("file", as_index=False)["MB"].sum()]).sort_values(
        "MB", ascending=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder of the dev data files")
    ap.add_argument("--papers", type=int, default=12_000)
    ap.add_argument("--reviewers", type=int, default=15_000)
    ap.add_argument("--pubs-per-reviewer", type=int, default=20)
    ap.add_argument("--model", default="fast", help="embedding model (default: fast; 'default' is MiniLM)")
    ap.add_argument("--late", type=int, default=0, help="then add this many submissions and run again")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-conference",
                    help="folder for the conference and the run (its embedding cache is reused)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reviewer-top-k", type=int, default=REVIEWER_TOP_K,
                    help="each reviewer's best papers kept as candidates, as 'triage run' does (0: off)")
    args = ap.parse_args()

    folder, out = args.work / f"conf-{args.papers}-{args.reviewers}-{args.pubs_per_reviewer}", args.work / "out"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    counts = build(args.data, folder, args.papers, args.reviewers, args.pubs_per_reviewer, args.seed)
    print(f"{os.cpu_count()} CPUs; model {args.model}; {counts['papers']:,} submissions, {counts['reviewers']:,} "
          f"reviewers, {counts['publications']:,} publication rows ({counts['distinct_publications']:,} distinct "
          f"papers); built in {time.perf_counter() - t0:.0f} s")
    timer = instrument()
    wall, messages = run(folder, out, args.model, timer, args.reviewer_top_k)
    print("\n".join(messages))
    scored = pd.read_csv(out / "affinity.csv", usecols=["reviewer_id"])["reviewer_id"].value_counts()
    n_rev = counts["reviewers"]
    print(f"reviewers without a candidate pair: {n_rev - len(scored)} of {n_rev}; with fewer than 6: "
          f"{n_rev - int((scored >= 6).sum())}")
    print(f"\nfull run (run + xlsx export by area): {wall:.1f} s wall")
    print(fmt(timer.table()) + "\n")
    print(fmt(sizes(out)) + "\n")
    if args.late:
        subs = pd.read_csv(folder / "submissions.csv", keep_default_na=False)
        late = subs.sample(args.late, random_state=args.seed).assign(
            paper_id=[f"L{i + 1}" for i in range(args.late)],
            abstract=lambda d: d["abstract"].map(lambda a: shuffled(a, np.random.default_rng(len(a)))),
            title=lambda d: d["title"] + " (late)")
        pd.concat([subs, late]).to_csv(folder / "submissions.csv", index=False)
        timer.rows.clear()
        wall, messages = run(folder, out, args.model, timer, args.reviewer_top_k)
        print(f"rerun with {args.late} late submissions: {wall:.1f} s wall")
        print("\n".join(m for m in messages if m.startswith("embedded")))
        summ = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["summarize"]["stats"]
        print(f"claim cards kept from the first run: {summ['kept_from_earlier_run']} of {summ['papers']}")
        print(fmt(timer.table()) + "\n")
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
