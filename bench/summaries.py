"""Claim-card benchmark: assumption-detection quality on the labelled set, speed and faithfulness.

    python bench/summaries.py --data DIR [--cache DIR] [--n 1000] [--runs 3]

1. Assumption detection: micro precision/recall of ``data/assumptions.yaml`` against the hand labels
   in ``tests/data/assumptions_labelled.csv``, per split and over all; plus per-label counts with
   ``--per-label``. Each ``freshK`` split was labelled blind and measured once before its errors
   were used (see ``tests/data/README.md``); the first-look figures are in ``bench/README.md``.
   ``--first-look`` (in a git checkout) scores each split again with the vocabulary file of the commit
   before its labels were added, and prints per-label figures for COLT and ICLR abstracts and for NeurIPS ones.
2. Speed: summaries of ``--n`` abstracts drawn (seeded) from the development CSVs in ``--data``,
   with TF-IDF centrality and with embedding centrality. Paper vectors ("title. abstract") come
   from the embedding cache in ``--cache``; sentence vectors are embedded on the first (cold) run
   into ``--sentence-cache`` and read from it afterwards (warm). Warm figures are medians of ``--runs`` runs.
3. Faithfulness: the share of output sentences (TL;DR, claims, results) that are substrings of
   the paper's abstract, which must be 100%.
4. Card quality (``--cards``): the TL;DR, claims and results picked for the abstracts of
   ``tests/data/sentence_roles.csv``, whose sentences two readers gave a role (C contribution,
   R result, B background or prior work, O other). Reported: the share of picked sentences both
   readers call the paper's own (C or R), the share either calls background (B), and for results
   the share both call R; next to a baseline that takes the first body sentences.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.ingest import paper_texts  # noqa: E402
from triage.summarize import SummaryParams, Vocabulary, load_vocabulary, paper_text, summarize_papers  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "assumptions_labelled.csv"
ROLES = ROOT / "tests" / "data" / "sentence_roles.csv"
FILES = ("iclr_2021_2022_submissions.csv.gz", "neurips_2013_2018_accepted.csv.gz", "colt_2023_2024_papers.csv.gz")


def _tally(counts: dict[str, list[int]], gold: set[str], pred: set[str]) -> None:
    """Add one paper's (TP, FP, FN) per label to ``counts``."""
    for lab in gold | pred:
        c = counts.setdefault(lab, [0, 0, 0])
        c[0 if lab in gold and lab in pred else 1 if lab in pred else 2] += 1


def _gold(assumptions: str) -> set[str]:
    return {x.strip() for x in assumptions.split(";") if x.strip()}


def detection_quality(per_label: bool) -> list[tuple[str, int, int, int, int]]:
    df = pd.read_csv(LABELLED, keep_default_na=False)
    vocab = load_vocabulary()
    rows = []
    label_counts: dict[str, list[int]] = {}
    for split in [*dict.fromkeys(df["split"]), "all"]:
        part = df if split == "all" else df[df["split"] == split]
        tp = fp = fn = 0
        for r in part.itertuples():
            gold = _gold(r.assumptions)
            text = paper_text(r.title, r.abstract)
            pred = set(vocab.detect(text.sentences, n_title=text.n_title))
            tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
            if split == "all":
                _tally(label_counts, gold, pred)
        rows.append((split, len(part), tp, fp, fn))
    print("\n## Assumption detection (micro over (paper, label) pairs)\n")
    print("| split | abstracts | gold labels | TP | FP | FN | precision | recall |")
    print("|---|---|---|---|---|---|---|---|")
    for split, n, tp, fp, fn in rows:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        print(f"| {split} | {n} | {tp + fn} | {tp} | {fp} | {fn} | {p:.3f} | {r:.3f} |")
    if per_label:
        print("\n| label | TP | FP | FN |\n|---|---|---|---|")
        for lab, (tp, fp, fn) in sorted(label_counts.items()):
            print(f"| {lab} | {tp} | {fp} | {fn} |")
    return rows


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


# The labels the claim-card issue names as examples of a theory paper's assumptions.
ISSUE_LABELS = ("infinite-width", "finite-width", "small-step-size", "finite-step-size", "special-initialization",
                "gaussian-data", "two-layer", "linear-model", "overparameterized", "squared-loss")
ISSUE_ROW = "the ten labels the issue names"


def first_look(min_count: int = 10) -> None:
    """Per-label precision/recall of each split scored with the vocabulary as it stood before its labels came in.

    A split's vocabulary is ``data/assumptions.yaml`` at the parent of the first commit whose labelled file
    holds that split; today's code runs it, so figures can differ a little from those recorded at the time.
    """
    labelled = LABELLED.relative_to(ROOT).as_posix()
    try:
        history = [line.split() for line in _git("log", "--reverse", "--format=%H %P", "--", labelled).splitlines()]
    except (OSError, subprocess.CalledProcessError):
        sys.exit("--first-look needs a git checkout of the repository (it reads the vocabulary's history)")
    before: dict[str, str] = {}  # split -> the commit before its labels came in
    for commit, parent, *_ in history:
        old = pd.read_csv(io.StringIO(_git("show", f"{commit}:{labelled}")), keep_default_na=False)
        for split in old.get("split", pd.Series(dtype=str)):
            before.setdefault(split, parent)
    vocabs: dict[str, Vocabulary] = {}
    df = pd.read_csv(LABELLED, keep_default_na=False)
    counts: dict[str, dict[str, list[int]]] = {"COLT and ICLR": {}, "NeurIPS": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for r in df[df["split"].str.startswith("fresh")].itertuples():
            parent = before[r.split]
            if parent not in vocabs:
                path = Path(tmp) / f"{parent}.yaml"
                path.write_text(_git("show", f"{parent}:data/assumptions.yaml"), encoding="utf-8")
                vocabs[parent] = load_vocabulary(path)
            text = paper_text(r.title, r.abstract)
            pred = set(vocabs[parent].detect(text.sentences, n_title=text.n_title))
            _tally(counts["NeurIPS" if r.venue == "NeurIPS" else "COLT and ICLR"], _gold(r.assumptions), pred)
    for pool in counts.values():
        named = [c for lab, c in pool.items() if lab in ISSUE_LABELS]
        pool["all"] = [sum(c[i] for c in pool.values()) for i in range(3)]
        pool[ISSUE_ROW] = [sum(c[i] for c in named) for i in range(3)]
    print("\n## First look per label (fresh splits, vocabulary before each split's labels)\n")
    print("| label | " + " | ".join(f"{k}: TP / FP / FN, precision, recall" for k in counts) + " |")
    print("|---|" + "---|" * len(counts))
    labels = sorted({lab for pool in counts.values() for lab in pool if lab != "all"},
                    key=lambda lab: -max(c[0] + c[2] for c in (pool.get(lab, [0, 0, 0]) for pool in counts.values())))
    for lab in ["all", ISSUE_ROW, *(lab for lab in labels if lab != ISSUE_ROW)]:
        if lab != "all" and all(max(c[1], c[0] + c[2]) < min_count for c in (p.get(lab, [0, 0, 0])
                                                                                for p in counts.values())):
            continue
        cells = []
        for pool in counts.values():
            tp, fp, fn = pool.get(lab, [0, 0, 0])
            cells.append(f"{tp} / {fp} / {fn}, {tp / (tp + fp) if tp + fp else 0:.2f}, "
                         f"{tp / (tp + fn) if tp + fn else 0:.2f}" if tp + fp + fn else "")
        print(f"| {lab} | " + " | ".join(cells) + " |")


def sample_abstracts(data: Path, n: int, seed: int, cached_in: Path | None = None) -> pd.DataFrame:
    frames = []
    for name in FILES:
        p = data / name
        if not p.exists():
            raise SystemExit(f"{p}: not found; pass the development data folder with --data")
        df = pd.read_csv(p, keep_default_na=False)
        frames.append(df[["id", "title", "abstract"]].rename(columns={"id": "paper_id"}))
    allp = pd.concat(frames, ignore_index=True)
    allp = allp[allp["abstract"].str.len() > 0]
    if cached_in is not None:  # only rows whose paper vector is already in the cache (no re-embedding)
        from triage.embed import BUNDLED_NAME, EmbeddingCache, text_key

        cache = EmbeddingCache.open(cached_in, BUNDLED_NAME)
        allp = allp[[text_key(t) in cache for t in paper_texts(allp)]]
    return allp.sample(n=min(n, len(allp)), random_state=seed).reset_index(drop=True)


def faithfulness(out: pd.DataFrame, papers: pd.DataFrame) -> tuple[int, int]:
    ok = total = 0
    for row, ab in zip(out.itertuples(), papers["abstract"]):
        for s in [row.tldr, *row.claims, *row.results]:
            total += 1
            ok += s in ab
    return ok, total


def speed(data: Path, cache_dir: Path, sentence_cache: Path, n: int, runs: int, seed: int,
          cached_only: bool) -> None:
    from triage.embed import EmbeddingCache, embed_texts, load_embedder

    papers = sample_abstracts(data, n, seed, cache_dir if cached_only else None)
    vocab = load_vocabulary()
    n_sent = sum(len(paper_text(t, a).body) for t, a in zip(papers["title"], papers["abstract"]))
    print(f"\n## Speed: {len(papers)} abstracts, {n_sent} sentences (seed {seed}"
          f"{', drawn among texts already in --cache' if cached_only else ''})\n", flush=True)

    cpu: dict[str, list[float]] = {}

    def timed(tag: str = "", **kw) -> tuple[float, pd.DataFrame]:
        t, c = time.perf_counter(), time.process_time()
        out = summarize_papers(papers, vocab=vocab, **kw)
        cpu.setdefault(tag, []).append(time.process_time() - c)
        return time.perf_counter() - t, out

    tfidf_runs = [timed("tfidf", params=SummaryParams(centrality="tfidf")) for _ in range(runs)]
    tmed = statistics.median(t for t, _ in tfidf_runs)
    print(f"tfidf centrality, median of {runs}: {tmed:.1f} s wall, {statistics.median(cpu['tfidf']):.1f} s CPU",
          flush=True)
    t0 = time.perf_counter()
    emb = load_embedder("default")
    t_load = time.perf_counter() - t0
    cache = EmbeddingCache.open(cache_dir, emb.name)
    scache = EmbeddingCache.open(sentence_cache, emb.name)
    t0 = time.perf_counter()
    vecs, st = embed_texts(paper_texts(papers), emb, cache)
    t_papers = time.perf_counter() - t0

    def embed_fn(sents: list[str]):
        return embed_texts(sents, emb, scache, batch_size=64)[0]

    sent_keys_cached = sum(1 for t, a in zip(papers["title"], papers["abstract"])
                           for s in (paper_text(t, a).sentences[1:]) if _key(s) in scache)
    print(f"model load {t_load:.1f} s; paper vectors: {st.cached} from cache, {st.embedded} embedded "
          f"({t_papers:.1f} s); sentence vectors already cached: {sent_keys_cached}", flush=True)
    cold, out_cold = timed("cold", embed=embed_fn, paper_vectors=vecs)
    print(f"embedding centrality, first run: {cold:.1f} s wall, {cpu['cold'][0]:.1f} s CPU", flush=True)
    warm = [timed("warm", embed=embed_fn, paper_vectors=vecs)[0] for _ in range(runs)]
    ok, total = faithfulness(out_cold, papers)
    ok2, total2 = faithfulness(tfidf_runs[0][1], papers)
    print("\n| centrality | run | wall s | CPU s (this process, all threads) | papers/s (wall) |")
    print("|---|---|---|---|---|")
    print(f"| embedding | first run (sentences embedded unless cached) | {cold:.1f} | {cpu['cold'][0]:.1f} | "
          f"{len(papers) / cold:.0f} |")
    med = statistics.median(warm)
    print(f"| embedding | warm, median of {runs} | {med:.1f} | {statistics.median(cpu['warm']):.1f} | "
          f"{len(papers) / med:.0f} |")
    print(f"| tfidf | median of {runs} | {tmed:.1f} | {statistics.median(cpu['tfidf']):.1f} | "
          f"{len(papers) / tmed:.0f} |")
    print("\n## Faithfulness (output sentences that are substrings of the abstract)\n")
    print(f"embedding: {ok}/{total} ({100 * ok / max(total, 1):.1f}%); tfidf: {ok2}/{total2} "
          f"({100 * ok2 / max(total2, 1):.1f}%)")
    with_assump = int((out_cold["assumptions"].map(len) > 0).sum())
    print(f"\npapers with at least one assumption label: {with_assump} of {len(papers)}")


def card_quality(tfidf: bool = False) -> None:
    """Sentence roles of the picked TL;DR, claims and results against two readers' roles."""
    roles = pd.read_csv(ROLES, keep_default_na=False)
    both = {(r.paper_id, r.idx): {r.role_1, r.role_2} for r in roles.itertuples()}
    papers = pd.read_csv(LABELLED, keep_default_na=False)
    papers = papers[papers["paper_id"].isin(set(roles["paper_id"]))].drop_duplicates("paper_id")
    papers = papers.set_index("paper_id").loc[list(dict.fromkeys(roles["paper_id"]))].reset_index()
    if tfidf:
        out = summarize_papers(papers, params=SummaryParams(centrality="tfidf"))
    else:
        from triage.embed import embed_texts, load_embedder

        emb = load_embedder("default")
        vecs = embed_texts(paper_texts(papers), emb, None)[0]
        out = summarize_papers(papers, embed=lambda s: embed_texts(s, emb, None, batch_size=64)[0],
                               paper_vectors=vecs)
    n_body = {pid: len(paper_text(t, a).body) for pid, t, a in zip(papers["paper_id"], papers["title"],
                                                                   papers["abstract"])}
    picks: dict[str, list[tuple[str, int]]] = {"tldr": [], "claims": [], "results": []}
    lead: dict[str, list[tuple[str, int]]] = {"tldr": [], "claims": [], "results": []}
    for r in out.itertuples():
        for key in picks:
            picks[key] += [(r.paper_id, i) for i in r.evidence[key]]
        k = len(r.evidence["claims"])
        lead["tldr"].append((r.paper_id, 1))
        lead["claims"] += [(r.paper_id, i) for i in range(1, min(k, n_body[r.paper_id]) + 1)]
        m = len(r.evidence["results"])
        lead["results"] += [(r.paper_id, i) for i in range(n_body[r.paper_id] - m + 1, n_body[r.paper_id] + 1)]

    def shares(items: list[tuple[str, int]]) -> tuple[int, float, float, float]:
        rs = [both[i] for i in items if i in both]
        n = max(len(rs), 1)
        own = sum(r <= {"C", "R"} for r in rs) / n
        bg = sum("B" in r for r in rs) / n
        res = sum(r == {"R"} for r in rs) / n
        return len(rs), own, bg, res

    agree = sum(r.role_1 == r.role_2 for r in roles.itertuples())
    print(f"\n## Card quality: {len(papers)} abstracts, {len(roles)} body sentences with two readers' roles "
          f"(they agree on {agree}, {agree / len(roles):.0%}); {'tfidf' if tfidf else 'embedding'} centrality; "
          "set a guided the picker, set b was labelled later\n")
    set_of = dict(zip(roles["paper_id"], roles["set"]))
    print("| field | picker | set | sentences | own (both: C or R) | background (either: B) | result (both: R) |")
    print("|---|---|---|---|---|---|---|")
    for key in picks:
        for name, src in (("triage", picks), ("lead baseline", lead)):
            for part in (*sorted(set(set_of.values())), "all"):
                items = [i for i in src[key] if part == "all" or set_of[i[0]] == part]
                n, own, bg, res = shares(items)
                print(f"| {key} | {name} | {part} | {n} | {own:.2f} | {bg:.2f} | {res:.2f} |")


def _key(text: str) -> str:
    from triage.embed import text_key

    return text_key(text)


CLAUSE_CUT = re.compile(r"[,;:()]|\s(?:and|where|while|which|whereas|but|under|with)\s")


def clause_embedding(splits: list[str]) -> None:
    """What a zero-shot embedding detector would add to the patterns: each body sentence cut into clauses, a
    label given when a clause's MiniLM cosine to the label's description reaches a threshold and the patterns did
    not give it. Prints how many such additions are right."""
    from triage.embed import load_embedder

    df = pd.read_csv(LABELLED, keep_default_na=False)
    df = df[df["split"].isin(splits)].reset_index(drop=True)
    vocab = load_vocabulary()
    labels = list(vocab.descriptions)
    clauses, owner, preds, golds = [], [], [], []
    for i, r in enumerate(df.itertuples()):
        t = paper_text(r.title, r.abstract)
        preds.append(set(vocab.detect(t.sentences, n_title=t.n_title)))
        golds.append(_gold(r.assumptions))
        for sent in t.sentences[t.n_title:]:
            for part in CLAUSE_CUT.split(sent):
                if part and len(part.split()) >= 2:
                    clauses.append(part.strip())
                    owner.append(i)
    embedder = load_embedder("default")
    sims = embedder.encode(clauses, batch_size=64) @ embedder.encode(
        [f"{lab.replace('-', ' ')}: {vocab.descriptions[lab]}" for lab in labels], batch_size=64).T
    best = np.full((len(df), len(labels)), -1.0)
    np.maximum.at(best, np.array(owner), sims)
    tp0 = sum(len(g & p) for g, p in zip(golds, preds))
    fp0 = sum(len(p - g) for g, p in zip(golds, preds))
    fn0 = sum(len(g - p) for g, p in zip(golds, preds))
    print(f"\n## Clause-embedding additions ({len(df)} abstracts of {splits[0]}..{splits[-1]}, "
          f"{len(clauses)} clauses)\n")
    print("| cosine at least | labels added | right | share right | recall | precision |\n|---|---|---|---|---|---|")
    print(f"| (patterns only) | | | | {tp0 / (tp0 + fn0):.3f} | {tp0 / (tp0 + fp0):.3f} |")
    for t in (0.5, 0.55, 0.6, 0.65, 0.7):
        added = [(i, lab) for i in range(len(df)) for j, lab in enumerate(labels)
                 if best[i, j] >= t and lab not in preds[i]]
        right = sum(lab in golds[i] for i, lab in added)
        tp, fp = tp0 + right, fp0 + len(added) - right
        print(f"| {t} | {len(added)} | {right} | {right / max(len(added), 1):.2f} | {tp / (tp0 + fn0):.3f} | "
              f"{tp / (tp + fp):.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with the development CSVs")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-cache",
                    help="embedding cache of the paper texts ('title. abstract'), e.g. a shared cache of the dev data")
    ap.add_argument("--sentence-cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-sentences",
                    help="embedding cache of the sentences (kept apart so a shared paper cache is only read)")
    ap.add_argument("--n", type=int, default=1000, help="abstracts for the speed run")
    ap.add_argument("--runs", type=int, default=3, help="warm runs (the median is reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-label", action="store_true", help="also print per-label counts")
    ap.add_argument("--first-look", action="store_true",
                    help="also score each fresh split with the vocabulary before its labels (needs git history)")
    ap.add_argument("--cached-only", action="store_true",
                    help="draw the speed sample among papers whose vectors are already in --cache")
    ap.add_argument("--quality-only", action="store_true", help="skip the speed run")
    ap.add_argument("--cards", action="store_true", help="also score the picked sentences against sentence roles")
    ap.add_argument("--clause-embedding", action="store_true",
                    help="also print what a zero-shot clause-embedding detector adds (fresh47-68; not the default)")
    args = ap.parse_args()
    detection_quality(args.per_label)
    if args.first_look:
        first_look()
    if args.cards:
        card_quality()
    if args.clause_embedding:
        clause_embedding([f"fresh{i}" for i in range(47, 69)])
    if not args.quality_only:
        speed(args.data, args.cache, args.sentence_cache, args.n, args.runs, args.seed, args.cached_only)


if __name__ == "__main__":
    main()
