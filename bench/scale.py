"""Scale benchmark: conflicts, affinity and assignment at conference size on synthetic data.

Random unit vectors stand in for the model's embeddings (so embedding cost is excluded); they
are drawn around ``--topics`` random topic centres so that nearest neighbours mean something.
Papers, reviewers and publications get synthetic but realistic metadata: names (some with
accents), institutional emails with sub-domains, co-authors drawn from topic communities,
publication years and short texts from per-topic vocabularies (for the lexical part of the
affinity). The real code paths run on it:

* ``triage.conflicts.detect_conflicts`` (author ids/emails, names, domains, co-authors);
* ``triage.match.compute_affinity`` with the commands' parameters (top-k candidates per paper and each
  reviewer's best papers, evidence);
* ``triage.assign.assign``: ``--per-paper`` reviewers per paper under reviewer loads.

Each stage prints its wall time, the CPU time of the process (all threads; on a busy machine a
better guide than wall time) and the peak resident memory of the process while it ran.
Then a growth table (``--growth``, papers; reviewers and publications scale with them) and the
quality cost of the top-k candidate lists: the assignment made from top-k candidates against
the dense optimum (every pair scored), both scored on the dense affinities, at ``--dense-size``.

Usage:
    python bench/scale.py --papers 12000 --reviewers 15000 --pubs-per-reviewer 20
    python bench/scale.py --papers 2000 --reviewers 2500 --growth "" --dense-size 0   # quick check
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's triage, installed or not

from triage.assign import AssignParams, assign, reserve_pool, reserve_size
from triage.choices import REVIEWER_TOP_K
from triage.conflicts import detect_conflicts, paper_authors, reviewer_coauthors
from triage.errors import InfeasibleError
from triage.match import AffinityParams, compute_affinity
from triage.pipeline import drop_conflicted

FIRST = ["James", "Maria", "Wei", "Li", "Ana", "José", "Hannah", "Jörg", "Priya", "Amit", "Yuki", "Olga",
         "Chen", "David", "Fatima", "Omar", "Sofia", "Lucas", "Emma", "Noah", "Zoë", "Élodie", "Ravi", "Mei",
         "Ahmed", "Sara", "Ivan", "Nina", "Pierre", "Laura", "Hiroshi", "Kwame", "Aisha", "Tomás", "Ingrid"]
LAST = ["Smith", "García", "Wang", "Zhang", "Müller", "Kumar", "Sato", "Ivanova", "Nguyen", "Rossi", "Kim",
        "Dubois", "Silva", "Cohen", "Okafor", "Novak", "Andersson", "Takahashi", "Lopez", "Chen", "Singh",
        "Brown", "Martin", "Hoffmann", "Yılmaz", "Kowalski", "Park", "Ali", "Fischer", "Bianchi", "O'Brien",
        "Van der Berg", "Petrov", "Sánchez", "Li", "Ito", "Moreau", "Jansen", "Costa", "Haddad"]
WEBMAIL = ["gmail.com", "outlook.com", "qq.com", "163.com"]


@dataclass
class Synthetic:
    papers: pd.DataFrame
    reviewers: pd.DataFrame
    pubs: pd.DataFrame
    declared: pd.DataFrame
    paper_emb: np.ndarray
    pub_emb: np.ndarray


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


SYLLABLES = ["wei", "jia", "xiao", "ming", "yu", "hao", "li", "jun", "an", "chen", "zhi", "qing", "song", "tian",
             "yan", "ro", "ma", "ka", "ti", "na", "el", "sa", "mi", "da", "vi"]


def make_people(n_people: int, rng: np.random.Generator, *,
                common_names: bool = False) -> tuple[list[str], list[str]]:
    """Names (some accented, most distinct) and emails: institutional with sub-domains, 15% webmail.

    ``common_names``: given names of one or two syllables and the surnames of ``LAST`` drawn by Zipf's law, so
    that many people share a surname and its initials ('J. Wang'), as in a large real pool."""
    n_inst = max(20, n_people // 12)
    if common_names:
        zipf = 1.0 / np.arange(1, len(LAST) + 1)
        last = rng.choice(len(LAST), n_people, p=zipf / zipf.sum())
        given = ["".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), k)).capitalize()
                 for k in rng.integers(1, 3, n_people)]
        names = [f"{g} {LAST[s]}" for g, s in zip(given, last)]
    else:
        first = rng.integers(0, len(FIRST), n_people)
        last = rng.integers(0, len(LAST), n_people)
        # A surname variant per person ('Wang', 'Wangb', 'Wangcb', ...) keeps most full names distinct, as in a
        # real pool; a letter after the name ('Wei Wang B') would read as a surname and make namesakes of strangers.
        suffix = rng.integers(0, 400, n_people)
        variant = ["" if k == 0 else chr(97 + k % 26) + (chr(97 + k // 26) if k >= 26 else "") for k in suffix]
        names = [f"{FIRST[f]} {LAST[s]}{v}" for f, s, v in zip(first, last, variant)]
    inst = rng.integers(0, n_inst, n_people)
    sub = rng.integers(0, 4, n_people)
    webmail = rng.random(n_people) < 0.15
    emails = [f"p{i}@{WEBMAIL[i % 4]}" if webmail[i] else
              f"p{i}@{['', 'cs.', 'math.', 'ee.'][sub[i]]}univ{inst[i]}.{'edu' if inst[i] % 3 else 'ac.uk'}"
              for i in range(n_people)]
    return names, emails


def _initials(name: str) -> str:
    """'Wei Wang' -> 'W. Wang'."""
    given, _, last = name.rpartition(" ")
    return " ".join(f"{g[0]}." for g in given.split()) + f" {last}" if given else name


def make_data(n_papers: int, n_reviewers: int, pubs_per: int, *, dim: int = 384, topics: int = 100,
              seed: int = 0, common_names: bool = False, initials: float = 0.0) -> Synthetic:
    """``initials``: the share of the publications' co-authors written with initials ('W. Wang'); a third of
    that share of the papers' authors too."""
    rng = np.random.default_rng(seed)
    # People: reviewers first, then as many again who only author.
    n_people = 2 * n_reviewers
    names, emails = make_people(n_people, rng, common_names=common_names)
    topic_of = rng.integers(0, topics, n_people)
    by_topic = [np.flatnonzero(topic_of == t) for t in range(topics)]

    centres = _unit(rng.standard_normal((topics, dim)))
    per_topic, n_common = 60, 300
    words = [f"t{t}w{j}" for t in range(topics) for j in range(per_topic)] + [f"c{j}" for j in range(n_common)]

    def texts(t: np.ndarray, n_words: int) -> list[str]:
        """One text per topic in ``t``: a third topic words, the rest common words."""
        k = n_words // 3
        own = rng.integers(0, per_topic, (len(t), k)) + (t[:, None] * per_topic)
        gen = rng.integers(0, n_common, (len(t), n_words - k)) + topics * per_topic
        return [" ".join([words[i] for i in row]) for row in np.concatenate([own, gen], axis=1).tolist()]

    def coauthors(t: int, k: int) -> list[int]:
        pool = by_topic[t] if len(by_topic[t]) >= k else np.arange(n_people)
        return list(dict.fromkeys(pool[rng.integers(0, len(pool), k)].tolist()))

    def near(t: np.ndarray) -> np.ndarray:
        return _unit(centres[t] + 0.9 * _unit(rng.standard_normal((len(t), dim))))

    rev_people = np.arange(n_reviewers)
    load = int(np.ceil(1.3 * 3 * n_papers / n_reviewers))
    reviewers = pd.DataFrame({
        "reviewer_id": [f"~{names[i].replace(' ', '_')}{i}" for i in rev_people],
        "name": [names[i] for i in rev_people],
        "email": [emails[i] for i in rev_people],
        "domains": [[] for _ in rev_people],
        "max_load": pd.array([load] * n_reviewers, dtype="Int64"),
        "min_load": pd.array([pd.NA] * n_reviewers, dtype="Int64"),
    })
    # Publications: each reviewer writes in their own topic (sometimes a neighbouring one).
    owner = np.repeat(rev_people, pubs_per)
    ptopic = np.where(rng.random(len(owner)) < 0.8, topic_of[owner], rng.integers(0, topics, len(owner)))
    pub_authors = []
    n_co = rng.integers(1, 4, len(owner)).tolist()
    for o, t, k in zip(owner.tolist(), ptopic.tolist(), n_co):
        co = coauthors(t, k)
        pub_authors.append([names[o]] + [_initials(names[c]) if initials and rng.random() < initials else names[c]
                                         for c in co if c != o])
    pubs = pd.DataFrame({
        "pub_id": [f"pub{i}" for i in range(len(owner))],
        "reviewer_id": reviewers["reviewer_id"].to_numpy()[owner],
        "title": texts(ptopic, 8),
        "abstract": texts(ptopic, 60),
        "year": rng.integers(2015, 2025, len(owner)),
        "authors": pub_authors,
    })
    # Papers: 2-6 authors from the paper's topic community.
    ttopic = rng.integers(0, topics, n_papers)
    p_auth = [coauthors(t, k) for t, k in zip(ttopic.tolist(), rng.integers(2, 7, n_papers).tolist())]
    papers = pd.DataFrame({
        "paper_id": [f"sub{i}" for i in range(n_papers)],
        "title": texts(ttopic, 8),
        "abstract": texts(ttopic, 60),
        "authors": [[_initials(names[a]) if initials and rng.random() < initials / 3 else names[a] for a in au]
                    for au in p_auth],
        "authorids": [[emails[a] for a in au] for au in p_auth],
    })
    n_decl = n_papers // 10
    declared = pd.DataFrame({
        "paper_id": papers["paper_id"].to_numpy()[rng.integers(0, n_papers, n_decl)],
        "reviewer_id": reviewers["reviewer_id"].to_numpy()[rng.integers(0, n_reviewers, n_decl)],
        "reason": "declared",
    }).drop_duplicates(["paper_id", "reviewer_id"]).reset_index(drop=True)
    return Synthetic(papers, reviewers, pubs, declared, near(ttopic), near(ptopic))


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled from /proc every 20 ms)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self) -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * self._page
        except OSError:  # not Linux: fall back to the lifetime peak
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(0.02)

    def __enter__(self) -> PeakRSS:
        self.peak = self._rss()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._rss())


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """(result, wall seconds, CPU seconds of the process (all threads), peak RSS in GB)."""
    gc.collect()
    with PeakRSS() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return out, dt, cpu, mem.peak / 2**30


def _progress(rows: list[dict[str, Any]], n: int) -> None:
    r = rows[-1]
    print(f"  N={n} {r['stage']}: {r['seconds']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['peak_rss_gb']:.2f} GB",
          file=sys.stderr, flush=True)


def run_stages(d: Synthetic, params: AffinityParams, per_paper: int,
               max_probability: float | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    n = len(d.papers)
    conf, t, c, m = timed(lambda: detect_conflicts(d.papers, d.reviewers, d.pubs, d.declared))
    rows.append({"stage": "conflicts", "seconds": t, "cpu_s": c, "peak_rss_gb": m, "rows": len(conf)})
    _progress(rows, n)
    aff, t, c, m = timed(lambda: compute_affinity(d.papers, d.paper_emb, d.pubs, d.pub_emb, d.reviewers,
                                                  params=params))
    rows.append({"stage": "affinity", "seconds": t, "cpu_s": c, "peak_rss_gb": m, "rows": len(aff)})
    _progress(rows, n)
    cand = drop_conflicted(aff, conf)  # as the match stage: no conflicts
    print(f"  {len(d.reviewers) - cand['reviewer_id'].nunique()} of {len(d.reviewers)} reviewers have no candidate "
          "pair (they cannot be assigned, and an upload of these scores has none for them)", file=sys.stderr)
    # As the match stage calls it: co-authors swapped apart, reciprocal reviewing broken.
    res, t, c, m = timed(lambda: assign(aff, d.papers, d.reviewers, conf, params=AssignParams(per_paper=per_paper),
                                        coauthors=reviewer_coauthors(d.pubs), authors=paper_authors(conf)))
    rows.append({"stage": f"assign ({per_paper}/paper)", "seconds": t, "cpu_s": c, "peak_rss_gb": m,
                 "rows": len(res.assignments)})
    size = reserve_size(len(d.reviewers))
    pool, t, c, m = timed(lambda: reserve_pool(res.assignments, cand, d.reviewers, AssignParams(per_paper=per_paper),
                                               size))
    rows.append({"stage": f"reserve pool ({size})", "seconds": t, "cpu_s": c, "peak_rss_gb": m, "rows": len(pool)})
    print(f"  emergency pool: {len(pool)} reviewers cover {pool['covered'].iloc[-1] if len(pool) else 0} of "
          f"{n} papers", file=sys.stderr)
    if max_probability is not None:  # the same, randomized: the capped solve, the uncapped one and the draw
        ap = AssignParams(per_paper=per_paper, max_probability=max_probability)
        res, t, c, m = timed(lambda: assign(aff, d.papers, d.reviewers, conf, params=ap,
                                            coauthors=reviewer_coauthors(d.pubs), authors=paper_authors(conf)))
        r = res.randomized
        print(f"  randomized at {max_probability:g}: expected total affinity {r['expected_score']:.1f} of the best "
              f"{r['best_score']:.1f} ({r['expected_score'] / r['best_score']:.1%}); this draw "
              f"{res.total_score:.1f}; {r['swapped_in']} pair(s) placed by the swaps", file=sys.stderr)
        extra = {"stage": f"randomized assign ({max_probability:g})", "seconds": t, "cpu_s": c, "peak_rss_gb": m,
                 "rows": len(res.assignments)}
    rows.append({"stage": "total", "seconds": sum(r["seconds"] for r in rows), "cpu_s": sum(r["cpu_s"] for r in rows),
                 "peak_rss_gb": max(r["peak_rss_gb"] for r in rows), "rows": None})
    if max_probability is not None:  # an alternative to the assign row, not part of the total
        rows.append(extra)
    return rows


def dense_vs_topk(d: Synthetic, params: AffinityParams, per_paper: int) -> pd.DataFrame:
    conf = detect_conflicts(d.papers, d.reviewers, d.pubs, d.declared)
    args = (d.papers, d.paper_emb, d.pubs, d.pub_emb, d.reviewers)
    t0 = time.perf_counter()
    dense = compute_affinity(*args, params=replace(params, top_k=None))
    t_dense = time.perf_counter() - t0
    ap = AssignParams(per_paper=per_paper)
    opt = assign(dense, d.papers, d.reviewers, conf, params=ap)
    key = dense.set_index(["paper_id", "reviewer_id"])["score"]
    out = [{"candidates": "all pairs (dense optimum)", "affinity_rows": len(dense), "affinity_s": t_dense,
            "objective": opt.total_score, "ratio": 1.0, "same_pairs": 1.0}]
    best = set(zip(opt.assignments["paper_id"], opt.assignments["reviewer_id"]))
    per_rev = f" + {params.reviewer_top_k} per reviewer" if params.reviewer_top_k else ""
    for k in sorted({10, 25, params.top_k or 50}):
        t0 = time.perf_counter()
        sparse = compute_affinity(*args, params=replace(params, top_k=k))
        dt = time.perf_counter() - t0
        try:
            res = assign(sparse, d.papers, d.reviewers, conf, params=ap)
        except InfeasibleError as exc:
            out.append({"candidates": f"top-{k} per paper{per_rev}", "affinity_rows": len(sparse), "affinity_s": dt,
                        "objective": float("nan"), "ratio": float("nan"), "same_pairs": float("nan")})
            print(f"top-{k}: {exc}")
            continue
        pairs = list(zip(res.assignments["paper_id"], res.assignments["reviewer_id"]))
        obj = float(key.loc[pairs].sum())  # the sparse assignment scored on the dense affinities
        out.append({"candidates": f"top-{k} per paper{per_rev}", "affinity_rows": len(sparse), "affinity_s": dt,
                    "objective": obj, "ratio": obj / opt.total_score,
                    "same_pairs": len(best & set(pairs)) / len(best)})
    return pd.DataFrame(out)


def fmt(df: pd.DataFrame) -> str:
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        return df.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--papers", type=int, default=12_000)
    ap.add_argument("--reviewers", type=int, default=15_000)
    ap.add_argument("--pubs-per-reviewer", type=int, default=20)
    ap.add_argument("--per-paper", type=int, default=3)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--papers-per-topic", type=int, default=100,
                    help="the random vectors are drawn around N / this many topic centres")
    ap.add_argument("--top-k", type=int, default=AffinityParams().top_k, help="candidate reviewers per paper")
    ap.add_argument("--reviewer-top-k", type=int, default=REVIEWER_TOP_K,
                    help="each reviewer's best papers also kept as candidates, as the commands do (0: off)")
    ap.add_argument("--lexical-weight", type=float, default=AffinityParams().lexical_weight,
                    help="lexical share of the affinity (0: embeddings only)")
    ap.add_argument("--growth", default="1000,4000,12000",
                    help="comma-separated paper counts for the growth table ('' to skip)")
    ap.add_argument("--dense-size", type=int, default=1000,
                    help="papers for the top-k vs dense comparison (0 to skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-probability", type=float, default=None,
                    help="also time the randomized assignment with this cap (main size only)")
    ap.add_argument("--common-names", action="store_true",
                    help="surnames drawn by Zipf's law from a short list, so many people share one (and its initials)")
    ap.add_argument("--initials", type=float, default=0.0,
                    help="share of the co-authors of publications written with initials (a third of it for papers)")
    ap.add_argument("--weighed", type=float, default=0.0,
                    help="share of the publications that carry a weight of 0.5 (the rest 1; the data are otherwise "
                         "the same)")
    args = ap.parse_args()
    params = replace(AffinityParams(), top_k=args.top_k, reviewer_top_k=args.reviewer_top_k,
                     lexical_weight=args.lexical_weight)
    ratio_r = args.reviewers / args.papers
    print(f"{os.cpu_count()} CPUs; affinity {params.aggregate.value}, top-k {params.top_k}, reviewer top-k "
          f"{params.reviewer_top_k}, lexical weight {params.lexical_weight}; vectors dim {args.dim}, one topic per "
          f"{args.papers_per_topic} papers; {args.weighed:.0%} of the publications weighed 0.5\n")

    def build(n: int) -> tuple[Synthetic, float]:
        t0 = time.perf_counter()
        d = make_data(n, max(args.per_paper, round(n * ratio_r)), args.pubs_per_reviewer, dim=args.dim,
                      topics=max(2, n // args.papers_per_topic), seed=args.seed, common_names=args.common_names,
                      initials=args.initials)
        if args.weighed:  # a generator of its own, so that the data stay those of the unweighed run
            light = np.random.default_rng(args.seed + 1).random(len(d.pubs)) < args.weighed
            d.pubs["weight"] = np.where(light, 0.5, 1.0)
        return d, time.perf_counter() - t0

    d, t_gen = build(args.papers)
    print(f"N={args.papers} papers, M={len(d.reviewers)} reviewers, {len(d.pubs)} publications "
          f"(synthetic data made in {t_gen:.1f} s)")
    main_rows = run_stages(d, params, args.per_paper, args.max_probability)
    print(fmt(pd.DataFrame(main_rows)) + "\n", flush=True)
    del d
    sizes = [int(x) for x in args.growth.split(",") if x.strip()]
    if sizes:
        growth = []
        for n in sizes:
            if n == args.papers:
                rows = main_rows
                m = max(args.per_paper, round(n * ratio_r))
            else:
                dn, _ = build(n)
                m = len(dn.reviewers)
                rows = run_stages(dn, params, args.per_paper)
                del dn
            by = {r["stage"].split(" ")[0]: r for r in rows}
            growth.append({"papers": n, "reviewers": m, "pubs": m * args.pubs_per_reviewer,
                           "conflicts_s": by["conflicts"]["seconds"], "affinity_s": by["affinity"]["seconds"],
                           "assign_s": by["assign"]["seconds"], "total_s": by["total"]["seconds"],
                           "total_cpu_s": by["total"]["cpu_s"],
                           "peak_rss_gb": by["total"]["peak_rss_gb"]})
        print("growth (reviewers and publications scale with papers)")
        print(fmt(pd.DataFrame(growth)) + "\n", flush=True)
    if args.dense_size:
        dq, _ = build(args.dense_size)
        print(f"top-k candidates vs the dense optimum at N={args.dense_size}, M={len(dq.reviewers)}, "
              f"{len(dq.pubs)} publications (objective = total dense affinity of the assignment)")
        print(fmt(dense_vs_topk(dq, params, args.per_paper)))
    print(f"\nprocess peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")


if __name__ == "__main__":
    main()
