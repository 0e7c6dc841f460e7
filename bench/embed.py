"""Embedding benchmark: triage's embedding path, the rerun, and the fast mode.

1. Overhead: ``triage.embed.embed_texts`` (hashing, de-duplication, length-sorted chunks, cache
   shards written) against a bare ``SentenceTransformer.encode`` of the same texts with the same
   model object in the same process. The two alternate (bare first on even repeats, triage first
   on odd ones); the table gives each repeat and the median of ``bare / triage`` (1.0 = no
   overhead; the target is >= 0.95).
2. Rerun: the same texts again against the filled cache (0 texts embedded).
3. Fast mode (``--model fast``): distillation time (first use only), throughput on every dev
   text through ``embed_texts`` with a fresh cache, and the honest extrapolation to 300k
   abstracts.
4. Quality: the affinity proxy of ``bench/affinity.py`` (COLT 2023+2024, authors as
   reviewers, leave one paper out) with the default model and with the fast mode, on the
   embedding similarities alone and on the matching stage's default blend with lexical scores.

Usage:
    python bench/embed.py --data DATA_DIR [--cache DIR] [--n 256] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's triage, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))

from affinity import authorship, paper_to_reviewers, reviewer_to_papers  # noqa: E402

from triage import fast_embed  # noqa: E402
from triage.embed import EmbeddingCache, _bundled_model_path, embed_texts, load_embedder  # noqa: E402
from triage.ingest import paper_texts  # noqa: E402
from triage.lexical import fit_transform  # noqa: E402
from triage.match import AffinityParams, Aggregate, blend_calibration  # noqa: E402

FILES = ["iclr_2021_2022_submissions.csv.gz", "neurips_2013_2018_accepted.csv.gz", "colt_2023_2024_papers.csv.gz"]


def dev_texts(data: Path) -> dict[str, list[str]]:
    return {f: paper_texts(pd.read_csv(data / f, keep_default_na=False)) for f in FILES}


def fmt(df: pd.DataFrame) -> str:
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        return df.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def overhead(texts: list[str], repeats: int, batch_size: int) -> None:
    emb = load_embedder("default")
    model = emb.model  # the same SentenceTransformer object triage uses
    emb.encode(texts[:8], batch_size=batch_size)  # warm up
    rows, last = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            times = {}
            for which in (("bare", "triage") if r % 2 == 0 else ("triage", "bare")):
                t0 = time.perf_counter()
                if which == "bare":
                    bare = model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                        normalize_embeddings=True, show_progress_bar=False)
                else:
                    cache = EmbeddingCache.open(Path(tmp) / f"run{r}", emb.name)
                    ours, stats = embed_texts(texts, emb, cache, batch_size=batch_size)
                times[which] = time.perf_counter() - t0
            diff = float(np.abs(np.asarray(bare) - ours).max())
            rows.append({"repeat": r, "first": "bare" if r % 2 == 0 else "triage", "bare_s": times["bare"],
                         "triage_s": times["triage"], "ratio": times["bare"] / times["triage"], "max_abs_diff": diff})
            last = (Path(tmp) / f"run{r}", stats)
        t = pd.DataFrame(rows)
        print(f"1. embedding path vs bare SentenceTransformer.encode: {len(texts)} texts, batch {batch_size}, "
              f"{repeats} alternating repeats")
        print(fmt(t))
        print(f"median ratio bare/triage = {statistics.median(t['ratio']):.3f}  (>= 0.95 wanted); "
              f"median bare {len(texts) / statistics.median(t['bare_s']):.1f} texts/s\n")
        assert last is not None
        cache = EmbeddingCache.open(last[0], emb.name)
        t0 = time.perf_counter()
        _, st = embed_texts(texts, emb, cache, batch_size=batch_size)
        dt = time.perf_counter() - t0
        print(f"2. rerun on the filled cache: {st.texts} texts, {st.cached} cached, {st.embedded} embedded, "
              f"{dt:.3f} s\n")


def fast_mode(all_texts: list[str]) -> tuple[float, float]:
    model_dir = _bundled_model_path()
    path = fast_embed.table_path(model_dir)
    had = path.exists()
    t0 = time.perf_counter()
    emb = load_embedder("fast")
    t_load = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache.open(Path(tmp), emb.name)
        t0 = time.perf_counter()
        _, st = embed_texts(all_texts, emb, cache)
        dt = time.perf_counter() - t0
        t0 = time.perf_counter()
        _, st2 = embed_texts(all_texts, emb, EmbeddingCache.open(Path(tmp), emb.name))
        t_rerun = time.perf_counter() - t0
    rate = st.embedded / dt
    print(f"3. fast mode ({emb.name}, dim {emb.dim}): table {'loaded' if had else 'distilled'} in {t_load:.1f} s "
          f"({path.name})")
    print(f"   {st.embedded} distinct dev texts through embed_texts (fresh cache) in {dt:.1f} s = {rate:.0f} texts/s; "
          f"rerun {st2.embedded} embedded in {t_rerun:.2f} s")
    est = 300_000 / rate
    print(f"   extrapolated: 300,000 abstracts in {est / 60:.1f} min (+ {t_load:.0f} s table "
          f"{'load' if had else 'distillation, once'}); target <= 10 min\n")
    return rate, t_load


def quality(data: Path, cache_dir: Path) -> pd.DataFrame:
    df = pd.read_csv(data / "colt_2023_2024_papers.csv.gz", keep_default_na=False)
    texts = paper_texts(df)
    papers_of = authorship(df)
    years = df["year"].to_numpy(dtype=np.int64)
    defaults = AffinityParams()
    (L,) = fit_transform([texts], defaults.lexical)  # the run's corpus, as the matching stage fits it
    lex = (L @ L.T).toarray()
    rows = []
    for model in ("default", "fast"):
        emb = load_embedder(model)
        cache = EmbeddingCache.open(cache_dir, emb.name) if model == "default" else None
        X, _ = embed_texts(texts, emb, cache)
        w = blend_calibration(X, X, L, L, defaults.lexical_weight)[0]  # scale and shift change no ranking
        for scorer, S in (("embeddings only", X @ X.T), (f"default blend (w={w:.2f})", (1 - w) * (X @ X.T) + w * lex)):
            for how in dict.fromkeys([Aggregate.max, defaults.aggregate]):
                p2r = paper_to_reviewers(S, papers_of, years, how, defaults.percentile, None)
                r2p = reviewer_to_papers(S, papers_of, years, how, defaults.percentile, None)
                rows.append({"model": model, "scores": scorer, "aggregate": how.value, "p2r_mrr": p2r["p2r_mrr"],
                             "p2r_hit@10": p2r["p2r_hit@10"], "r2p_mrr": r2p["r2p_mrr"],
                             "r2p_loss": r2p["r2p_loss"]})
    t = pd.DataFrame(rows)
    n2 = sum(len(v) >= 2 for v in papers_of.values())
    print(f"4. affinity proxy (bench/affinity.py tasks): COLT {len(df)} papers, {n2} authors with >= 2 papers; "
          f"embeddings alone and blended with the lexical scores as the matching stage does by default")
    print(fmt(t))
    t["kind"] = t["scores"].str.split(" ").str[0]
    for (kind, how), g in t.groupby(["kind", "aggregate"], sort=False):
        d, f = g[g["model"] == "default"].iloc[0], g[g["model"] == "fast"].iloc[0]
        print(f"   {kind:10s} {how:5s}: fast - default = p2r MRR {f['p2r_mrr'] - d['p2r_mrr']:+.3f}, "
              f"r2p MRR {f['r2p_mrr'] - d['r2p_mrr']:+.3f}  (target: within 0.02)")
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with the dev .csv.gz files")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-cache",
                    help="embedding cache of the default model for the quality proxy (reused between runs)")
    ap.add_argument("--n", type=int, default=256, help="texts in the overhead comparison")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: overhead, fast, quality")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each table shows up as soon as it is done
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    texts = dev_texts(args.data)
    every = [t for f in FILES for t in texts[f]]
    if "overhead" not in skip:
        rng = np.random.default_rng(0)
        sample = [every[i] for i in rng.choice(len(every), min(args.n, len(every)), replace=False)]
        overhead(sample, args.repeats, args.batch_size)
    if "fast" not in skip:
        fast_mode(list(dict.fromkeys(every)))
    if "quality" not in skip:
        quality(args.data, args.cache)


if __name__ == "__main__":
    main()
