"""The pipeline: ingest -> screen -> embed -> topics -> match (conflicts, affinity, assignment) -> summarize
-> export -> report. Each ``run_*`` function calls one stage module and writes its artifacts
through :class:`~triage.workdir.Workdir`; the CLI calls these and nothing else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage import __version__
from triage import workdir as W
from triage.assign import (
    CONFLICT_BID,
    AssignParams,
    assign,
    bid_summary,
    bid_values,
    coauthor_pairs,
    reciprocal_pairs,
    reserve_pool,
    reserve_size,
    review_rings,
)
from triage.choices import DEFAULT_KEY_ENV, ExportChoice, ExportFormat, ScoresFormat, SplitBy, check_choice
from triage.conflicts import (
    CONFLICT_COLUMNS,
    DECLARED_LIMIT,
    ConflictParams,
    declared_outliers,
    detect_conflicts,
    paper_authors,
    reviewer_coauthors,
)
from triage.duplicates import duplicate_partners, find_duplicates
from triage.embed import (
    BUNDLED_NAME,
    DEFAULT_MODEL,
    FAST_MODEL,
    EmbeddingCache,
    EmbedStats,
    embed_texts,
    load_embedder,
)
from triage.errors import InfeasibleError, InputError, MissingArtifactError, OutputError, StaleArtifactError, shown
from triage.export import (
    WEAK_SCORE,
    build_triage_table,
    guard_text,
    join_sentences,
    split_table,
    spreadsheet,
    to_xlsx,
    unguard_text,
    workbook_tables,
)
from triage.ingest import (
    EASYCHAIR_AUTHORS,
    Corpus,
    join_list,
    load_corpus,
    paper_texts,
    read_papers,
    resolve_paper_ids,
    resolve_reviewer_ids,
)
from triage.match import AffinityParams, compute_affinity, publication_weights, select_profiles, warn_profiles_lost
from triage.report import ReportData, render_report
from triage.rerun import describe_changes, plan_keep
from triage.screen import ScreenParams, screen_papers, screen_stats
from triage.summarize import SummaryParams, summarize_papers
from triage.taxonomy import (
    TaxonomyParams,
    TheoryParams,
    assign_areas,
    assign_theory,
    check_taxonomies,
    load_taxonomy,
    taxonomy_phrases,
    unknown_areas_note,
    user_files,
)
from triage.taxonomy import enabled as tax_enabled
from triage.topics import (
    ClusterParams,
    SupplyParams,
    cluster_papers,
    reviewer_paper_qualified,
    topic_supply,
)
from triage.workdir import EXPORT_FILES, Workdir

log = logging.getLogger("triage")

# A progress factory: given a description and a total, returns (advance, close).
ProgressFactory = Callable[[str, int], tuple[Callable[[int], None], Callable[[], None]]]


@dataclass(frozen=True)
class Inputs:
    submissions: Path
    publications: Path | None = None
    reviewers: Path | None = None
    conflicts: Path | None = None
    encoding: str | None = None
    keep_assignments: Path | None = None  # an earlier assignments.csv to keep where still feasible
    compare_with: Path | None = None  # papers of an earlier year or a sister venue, to find resubmissions
    bids: Path | None = None  # the reviewers' bids, read by the match stage

    def files(self) -> dict[str, Path | None]:
        authors = Path(self.submissions).parent / EASYCHAIR_AUTHORS  # read with EasyChair's submission.csv
        return {"submissions": self.submissions, "publications": self.publications,
                "reviewers": self.reviewers, "conflicts": self.conflicts,
                **({"submission_authors": authors} if authors.is_file() and Path(self.submissions).is_file() else {}),
                **({"keep_assignments": self.keep_assignments} if self.keep_assignments else {}),
                **({"compare_with": self.compare_with} if self.compare_with else {}),
                **({"bids": self.bids} if self.bids else {})}


@dataclass(frozen=True)
class EmbedParams:
    model: str = DEFAULT_MODEL
    batch_size: int = 32
    device: str = "cpu"
    allow_download: bool = False
    use_keywords: bool = False


def embed_params_as_before(wd: Workdir, *, model: str | None = None, use_keywords: bool | None = None,
                           allow_download: bool = False) -> tuple[EmbedParams, str | None]:
    """The embedding settings of a stage run on its own (topics, match, affinity, summarize): what the command
    states (``None``: not stated), else what the folder's last embed used, so that such a stage neither embeds
    the papers again another way nor overwrites the folder's vectors with those; and a line naming the settings
    taken from that record when they are not the defaults."""
    before = (wd.read_manifest()["stages"].get("embed") or {}).get("params") or {}
    kept: dict[str, Any] = {}
    if model is None and isinstance(before.get("model"), str) and before["model"]:
        kept["model"] = before["model"]
    if use_keywords is None and isinstance(before.get("use_keywords"), bool):
        kept["use_keywords"] = before["use_keywords"]
    size = before.get("batch_size")
    if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
        kept["batch_size"] = size
    params = dataclasses.replace(EmbedParams(model=model or DEFAULT_MODEL, use_keywords=bool(use_keywords),
                                             allow_download=allow_download), **kept)
    plain = EmbedParams()
    said = [f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in kept.items()
            if v != getattr(plain, k)]
    return params, ("embedding as the folder's last embed did: " + " ".join(said) if said else None)


def _recorded_model(model: str) -> str:
    """A model folder given by a relative path is recorded absolute: a stage run later from another folder
    embeds with the same model (see :func:`embed_params_as_before`)."""
    if model in (DEFAULT_MODEL, FAST_MODEL, BUNDLED_NAME, f"sentence-transformers/{BUNDLED_NAME}"):
        return model  # names, whatever folders the current one holds
    path = Path(model).expanduser()
    return str(path.resolve()) if not path.is_absolute() and path.is_dir() else model


@dataclass
class Embedded:
    papers: np.ndarray
    publications: np.ndarray
    model: str
    stats: dict[str, EmbedStats] = field(default_factory=dict)


@dataclass
class RunResult:
    outputs: list[Path] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def load(inputs: Inputs) -> Corpus:
    return load_corpus(inputs.submissions, publications=inputs.publications, reviewers=inputs.reviewers,
                       conflicts=inputs.conflicts, encoding=inputs.encoding,
                       keep_assignments=inputs.keep_assignments)


@contextlib.contextmanager
def _progress(factory: ProgressFactory | None, desc: str, total: int) -> Iterator[Callable[[int], None]]:
    if factory is None or total == 0:
        yield lambda n: None
        return
    advance, close = factory(desc, total)
    try:
        yield advance
    finally:
        close()


def write_excluded(corpus: Corpus, wd: Workdir) -> None:
    """``excluded.csv``: the submissions this stage's file leaves out (withdrawn, desk-rejected, no paper), or no
    such file when it leaves out none. Each stage that reads the submissions writes it, so it never describes an
    earlier file."""
    if corpus.excluded is not None and len(corpus.excluded):
        wd.write_csv(W.EXCLUDED, corpus.excluded.assign(title=corpus.excluded["title"].map(guard_text)))
    else:
        wd.remove(W.EXCLUDED)


def run_screen(corpus: Corpus, wd: Workdir, params: ScreenParams = ScreenParams(), *, pdf_dir: Path | None = None,
               inputs: Inputs | None = None, warn: bool = True) -> pd.DataFrame:
    """``screen.csv``: the desk-reject pre-screen's findings, one row per finding (see :mod:`triage.screen`);
    with ``pdf_dir`` the papers' PDFs are screened too (``warn``: say which PDFs match no paper)."""
    wd.ensure()
    write_excluded(corpus, wd)
    found = screen_papers(corpus.papers, pdf_dir=pdf_dir, params=params, warn=warn, cache_dir=wd.path(W.PDF_CACHE))
    wd.write_csv(W.SCREEN, found)
    wd.record_stage("screen", inputs=(inputs.files() if inputs else {}),
                    params={**dataclasses.asdict(params), "pdf_dir": str(Path(pdf_dir).resolve()) if pdf_dir else None},
                    outputs=[W.SCREEN], stats=screen_stats(found, len(corpus.papers)))
    return found


def screen_note(found: pd.DataFrame) -> str:
    """One line on the screen's findings."""
    if not len(found):
        return "no findings"
    st = screen_stats(found, 0)
    return (f"{st['findings']} finding(s) on {st['papers_flagged']} paper(s), {st['must']} must and "
            f"{st['should']} should (see {W.SCREEN})")


def run_embed(corpus: Corpus, wd: Workdir, params: EmbedParams = EmbedParams(), *,
              progress: ProgressFactory | None = None, inputs: Inputs | None = None) -> Embedded:
    """Embed submissions and publications, reusing the cache; writes the row-aligned ``.npy`` files."""
    wd.ensure()
    write_excluded(corpus, wd)
    embedder = load_embedder(params.model, device=params.device, allow_download=params.allow_download)
    cache = EmbeddingCache.open(wd.path(W.EMBED_CACHE), embedder.name)
    # A stage run without --publications (topics, summarize) keeps the publications' vectors of the folder's last
    # embed by the same model: the match stage and the supply table read them.
    before = wd.read_manifest()["stages"].get("embed") or {}
    kept = (before.get("inputs") or {}).get("publications") if (
        not len(corpus.publications) and wd.exists(W.PUB_EMB)
        and (before.get("params") or {}).get("model_name") == embedder.name) else None
    stats: dict[str, EmbedStats] = {}
    arrays = {}
    for name, df, use_kw in (("papers", corpus.papers, params.use_keywords), ("publications", corpus.publications,
                                                                              False)):
        texts = paper_texts(df, use_keywords=use_kw)
        distinct = set(texts)
        todo = len(distinct) - sum(1 for t in distinct if _in_cache(cache, t))
        with _progress(progress, f"embedding {name}", todo) as advance:
            arrays[name], stats[name] = embed_texts(texts, embedder, cache, batch_size=params.batch_size,
                                                    progress=advance)
    wd.write_npy(W.PAPER_EMB, arrays["papers"])
    recorded = {k: dataclasses.asdict(v) for k, v in stats.items()}
    if kept:
        recorded["publications"] = (before.get("stats") or {}).get("publications", recorded["publications"])
    else:
        wd.write_npy(W.PUB_EMB, arrays["publications"])
    wd.record_stage("embed", inputs=(inputs.files() if inputs else {}),
                    params={**dataclasses.asdict(params), "model": _recorded_model(params.model),
                            "model_name": embedder.name, "dim": embedder.dim},
                    outputs=[W.PAPER_EMB, W.PUB_EMB], stats=recorded,
                    kept_inputs={"publications": kept} if kept else None)
    return Embedded(arrays["papers"], arrays["publications"], embedder.name, stats)


def _in_cache(cache: EmbeddingCache, text: str) -> bool:
    from triage.embed import text_key

    return text_key(text) in cache


def _embed_phrases(texts: list[str], wd: Workdir, embed: EmbedParams, model_name: str) -> np.ndarray:
    """Embed taxonomy phrases through the run's cache; the model is loaded only if one is missing."""
    from triage.embed import text_key

    cache = EmbeddingCache.open(wd.path(W.EMBED_CACHE), model_name)
    keys = [text_key(t) for t in texts]
    if all(k in cache for k in keys):
        return cache.get(keys)
    embedder = load_embedder(embed.model, device=embed.device, allow_download=embed.allow_download)
    vecs, _ = embed_texts(texts, embedder, cache, batch_size=embed.batch_size)
    return vecs


def _phrase_and_title_vectors(phrases: list[str], papers: pd.DataFrame, wd: Workdir, embed: EmbedParams,
                              emb: Embedded) -> tuple[np.ndarray, np.ndarray]:
    """A taxonomy's phrase vectors and the titles' own vectors (zeros for papers without a title), in one
    pass through the run's cache, so the model is loaded at most once for both."""
    titles = papers["title"].fillna("").astype(str).str.strip().tolist() if "title" in papers.columns else []
    have = [i for i, t in enumerate(titles) if t]
    vecs = _embed_phrases(phrases + [titles[i] for i in have], wd, embed, emb.model)
    out = np.zeros((len(papers), np.asarray(emb.papers).shape[1]), dtype=np.float32)
    out[have] = vecs[len(phrases):]
    return vecs[:len(phrases)], out


def _earlier_centroids(wd: Workdir, params: ClusterParams, model: str) -> np.ndarray | None:
    """The centroids of the last topics run with the same --k, --seed and model: the clusters start from
    them, so after late submissions or withdrawals a paper keeps its cluster id unless it moved."""
    rec = wd.read_manifest()["stages"].get("topics")
    if rec is None or not wd.exists(W.CENTROIDS):
        return None
    before = rec.get("params") or {}
    if (before.get("k"), before.get("seed"), before.get("model")) != (params.k, params.seed, model):
        return None
    return np.asarray(wd.read_npy(W.CENTROIDS), dtype=np.float32)


def run_topics(corpus: Corpus, emb: Embedded, wd: Workdir, params: ClusterParams = ClusterParams(), *,
               inputs: Inputs | None = None, taxonomy: TaxonomyParams = TaxonomyParams(),
               embed: EmbedParams = EmbedParams(), notes: list[str] | None = None,
               others: pd.DataFrame | None = None) -> pd.DataFrame:
    """Clusters, venue areas and theory topics per paper (topics.csv), and possible duplicates (duplicates.csv;
    ``others``: the ``--compare-with`` papers). Lines for the chair (author-chosen areas the taxonomy does not
    list) are appended to ``notes``."""
    write_excluded(corpus, wd)
    topics, centroids = cluster_papers(corpus.papers, emb.papers, params=params,
                                       previous=_earlier_centroids(wd, params, emb.model))
    stats: dict[str, Any] = {"clusters": int(topics["cluster_id"].nunique()) if len(topics) else 0}
    topics = topics.merge(label_papers(corpus, emb, wd, taxonomy, embed, stats), on="paper_id", how="left")
    if notes is not None and stats.get("areas", {}).get("note"):
        notes.append(stats["areas"]["note"])
    source = inputs.compare_with.name if inputs and inputs.compare_with else ""
    dups = possible_duplicates(corpus, emb, wd, embed, others, source)
    topics["possible_duplicates"] = topics["paper_id"].map(duplicate_partners(dups)).fillna("")
    stats["possible_duplicates"] = len(dups)
    topics = topics[[*TOPIC_COLUMNS, *[c for c in topics.columns if c not in TOPIC_COLUMNS]]]
    wd.write_csv(W.TOPICS, topics)
    wd.write_csv(W.DUPLICATES, dups.assign(other_title=dups["other_title"].map(guard_text)))  # submitted text
    wd.write_npy(W.CENTROIDS, centroids)
    wd.record_stage("topics", inputs={**(inputs.files() if inputs else {}), **user_files(taxonomy)},
                    params={**dataclasses.asdict(params), **dataclasses.asdict(taxonomy), "model": emb.model},
                    outputs=[W.TOPICS, W.DUPLICATES, W.CENTROIDS], stats=stats)
    return topics


def load_compare(inputs: Inputs) -> pd.DataFrame | None:
    """The ``--compare-with`` papers (an earlier year's or a sister venue's), read as submissions are but with
    withdrawn ones kept (a withdrawn paper is often resubmitted); read before any stage runs, so a bad file
    stops the run at once."""
    if inputs.compare_with is None:
        return None
    return read_papers(inputs.compare_with, encoding=inputs.encoding, keep_withdrawn=True)


def possible_duplicates(corpus: Corpus, emb: Embedded, wd: Workdir, embed: EmbedParams,
                        others: pd.DataFrame | None = None, source: str = "") -> pd.DataFrame:
    """duplicates.csv: pairs of submissions that may be one work, and with ``others`` (``load_compare``) the
    submissions that may be one of those papers (``source``: the file's name)."""
    if others is None:
        return find_duplicates(corpus.papers, emb.papers)
    other_emb = _embed_phrases(paper_texts(others, use_keywords=embed.use_keywords), wd, embed, emb.model)
    return find_duplicates(corpus.papers, emb.papers, others=others, other_emb=other_emb, other_source=source)


TOPIC_COLUMNS = ["paper_id", "cluster_id", "cluster_label", "area", "area_score", "area_top3", "area_mismatch",
                 "theory_topic", "theory_score"]


def label_papers(corpus: Corpus, emb: Embedded, wd: Workdir, taxonomy: TaxonomyParams,
                 embed: EmbedParams, stats: dict[str, Any]) -> pd.DataFrame:
    """Zero-shot venue area and theory topic of each paper (empty columns when a taxonomy is off)."""
    papers = corpus.papers
    n = len(papers)
    out = pd.DataFrame({"paper_id": papers["paper_id"].tolist(), "area": [""] * n, "area_score": [np.nan] * n,
                        "area_top3": [""] * n, "area_mismatch": [False] * n, "theory_topic": [""] * n,
                        "theory_score": [np.nan] * n})
    if n == 0:
        return out
    texts = paper_texts(papers, use_keywords=taxonomy.use_keywords)
    if tax_enabled(taxonomy.taxonomy):
        tax = load_taxonomy(str(taxonomy.taxonomy))
        phrases, titles = _phrase_and_title_vectors(taxonomy_phrases(tax).texts, papers, wd, embed, emb)
        areas = assign_areas(papers, emb.papers, tax, phrases, title_emb=titles, texts=texts)
        out[areas.columns] = areas
        stats["areas"] = {"taxonomy": tax.name, "mismatches": int(areas["area_mismatch"].sum()),
                          "areas_suggested": int(areas["area"].nunique()), "areas_in_taxonomy": len(tax.topics)}
        if "primary_area" in papers.columns:
            note = unknown_areas_note(papers["primary_area"].fillna("").astype(str).tolist(), tax)
            if note:
                stats["areas"]["note"] = note
    if tax_enabled(taxonomy.theory):
        th = load_taxonomy(str(taxonomy.theory))
        phrases = _embed_phrases(taxonomy_phrases(th).texts, wd, embed, emb.model)
        res = assign_theory(papers, texts, emb.papers, th, phrases,
                            params=TheoryParams(threshold=taxonomy.theory_threshold))
        out[["theory_topic", "theory_score"]] = res.frame[["theory_topic", "theory_score"]]
        stats["theory"] = {"taxonomy": th.name, "theory_papers": int(res.is_theory.sum()),
                           "with_topic": int((res.frame["theory_topic"] != "").sum())}
    return out


def supply_as_before(wd: Workdir, *, qualified_affinity: float, per_paper: int | None = None,
                     max_load: int | None = None) -> SupplyParams:
    """The supply table's settings for ``triage topics``: ``--per-paper`` and ``--max-load`` as the command states
    them (``None``: not stated), else as the folder's last match used them, as ``triage run`` makes the table."""
    before = ((wd.read_manifest()["stages"].get("match") or {}).get("params") or {}).get("assignment") or {}
    kept = {k: before[k] for k in ("per_paper", "max_load")
            if isinstance(before.get(k), int) and not isinstance(before.get(k), bool) and before[k] >= 0}
    stated = {k: v for k, v in (("per_paper", per_paper), ("max_load", max_load)) if v is not None}
    return SupplyParams(qualified_affinity=qualified_affinity, **{**kept, **stated})


def run_supply(corpus: Corpus, emb: Embedded, wd: Workdir, topics: pd.DataFrame,
               params: SupplyParams = SupplyParams(), *, conflicts: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """topic_supply.csv: per area and theory topic, submissions vs qualified reviewers and slots; recorded as part
    of the topics stage (run after it), with its parameters and what it read.

    A conflicted reviewer is not close to the paper (an author is often the closest reviewer to their own
    submission). ``conflicts``: the match stage's, or None to detect them with the default rules."""
    record = {"supply": dataclasses.asdict(params)}
    if len(corpus.publications) == 0 or len(topics) == 0:
        if wd.exists(W.TOPIC_SUPPLY):  # it described other topics
            log.warning("%s: removed topic_supply.csv, which described the topics before; pass --publications "
                        "and --reviewers to make it again", wd.root)
        wd.remove(W.TOPIC_SUPPLY)
        return None
    revs = corpus.reviewers.reset_index(drop=True)
    rid = {r: i for i, r in enumerate(revs["reviewer_id"])}
    owner = corpus.publications["reviewer_id"].map(rid)
    weight = publication_weights(corpus.publications)
    keep = owner.notna().to_numpy() & (weight > 0)  # weight 0: in no profile
    qualified = reviewer_paper_qualified(emb.papers, np.asarray(emb.publications)[keep],
                                         owner[keep].astype(np.int64).to_numpy(), len(revs),
                                         threshold=params.qualified_affinity, pub_weight=weight[keep])
    read = (W.PUB_EMB,) if conflicts is None else (W.PUB_EMB, W.CONFLICTS)
    if conflicts is None:
        conflicts = detect_conflicts(corpus.papers, corpus.reviewers, corpus.publications, corpus.conflicts)
    pid = {p: i for i, p in enumerate(corpus.papers["paper_id"])}
    rows = conflicts["paper_id"].map(pid)
    cols = conflicts["reviewer_id"].map(rid)
    known = (rows.notna() & cols.notna()).to_numpy()
    qualified[rows[known].astype(np.int64).to_numpy(), cols[known].astype(np.int64).to_numpy()] = False
    has_pubs = np.zeros(len(revs), dtype=bool)
    has_pubs[owner[keep].astype(np.int64).unique()] = True
    loads = revs["max_load"].astype("Float64").fillna(params.max_load).to_numpy(dtype=np.float64) * has_pubs
    by_id = topics.set_index("paper_id")
    groups = {kind: by_id.loc[corpus.papers["paper_id"], col].fillna("").astype(str).tolist()
              for kind, col in (("area", "area"), ("theory", "theory_topic")) if col in by_id.columns}
    supply = topic_supply(groups, qualified, loads, params=params)
    wd.write_csv(W.TOPIC_SUPPLY, supply)
    wd.add_to_stage("topics", outputs=[W.TOPIC_SUPPLY], params=record, read=read)
    return supply if len(supply) else None


@dataclass
class MatchResult:
    conflicts: pd.DataFrame
    affinity: pd.DataFrame
    assignments: pd.DataFrame | None
    alternates: pd.DataFrame | None
    total_score: float = 0.0
    changes: list[str] = field(default_factory=list)  # what --keep-assignments kept and changed
    # co-author pairs on one paper split after the solve, left, and of those left the pairs the chair kept
    coauthor_pairs: tuple[int, int, int] = (0, 0, 0)
    reciprocal: tuple[int, int] = (0, 0)  # pairs of reviewers reviewing each other's papers: broken, left
    rings: tuple[int, int] = (0, 0)  # rings of three reviewers, each on a paper the next one wrote: broken, left
    # senior reviewers asked per paper, papers given one after the swaps or the draw, papers still short
    senior: tuple[int, int, tuple[str, ...]] = (0, 0, ())
    bids: dict[str, int] | None = None  # how the assignment sits with the bids (assign.bid_summary)
    randomized: dict[str, Any] | None = None  # --max-probability: the cap, seed and scores (Assignment.randomized)
    reserve: pd.DataFrame | None = None  # the emergency pool (assign.reserve_pool); None: not asked for
    outputs: list[str] = field(default_factory=list)  # the files this run wrote

    def coauthor_note(self) -> str:
        """One line on co-authors reviewing the same paper, or '' when the solve put none together."""
        solved, left, kept = self.coauthor_pairs
        if not solved and not left:
            return ""
        parts = [f"{solved} split by swapping in a non-co-author within --coauthor-slack"]
        if left - kept:
            parts.append(f"{left - kept} left (no such candidate with load to spare)")
        if kept:
            parts.append(f"{kept} left because the chair kept them (--keep-assignments)")
        return (f"{solved + left} pair(s) of co-authors were on the same paper in {self._solved()}; "
                + ", ".join(parts) + ("; the report lists them" if left else ""))

    def bids_note(self) -> str:
        """One line on the bids, or '' without bids."""
        b = self.bids
        if not b:
            return ""
        return (f"bids: {b['assigned_with_positive_bid']} of {b['assigned']} assigned pairs had a positive bid and "
                f"{b['assigned_with_negative_bid']} a negative one; {b['reviewers_without_bids']} of {b['reviewers']} "
                f"reviewers placed no bid; {b['papers_without_positive_bid']} of {b['papers']} papers had no "
                "positive bid")

    def reserve_note(self) -> str:
        """One line on the emergency pool, or '' when none was asked for."""
        if self.reserve is None or self.assignments is None:
            return ""
        n_papers = self.assignments["paper_id"].nunique()
        if not len(self.reserve):
            return ("emergency pool: no reviewer with load to spare scores as well as a paper's weakest assigned "
                    "reviewer on any paper; raise max_load to keep some in reserve")
        covered = int(self.reserve["covered"].iloc[-1])
        return (f"emergency pool: {len(self.reserve)} reviewer(s) with load to spare can stand in on {covered} of "
                f"{n_papers} papers without lowering the paper's weakest match ({W.RESERVE})")

    def senior_note(self) -> str:
        """One line on papers short of senior reviewers, or '' when none was asked for or all have theirs."""
        m, given, short = self.senior
        if not m or (not given and not short):
            return ""
        parts = []
        if given:
            parts.append(f"{given} paper(s) were given a senior reviewer in place of a junior one after the swaps"
                         + (" or the draw" if self.randomized else ""))
        if short:
            parts.append(f"{len(short)} paper(s) have fewer than {m} senior reviewer(s) (no free senior candidate: "
                         "with load to spare, without conflict, not a co-author of the paper's other reviewers, or "
                         f"the chair kept juniors; first: {short[0]}); the report lists them")
        return "; ".join(parts)

    def _solved(self) -> str:
        return "the drawn assignment" if self.randomized else "the best-scoring assignment"

    def randomized_note(self) -> str:
        """One line on a randomized assignment, or '' when the assignment is the best-scoring one."""
        r = self.randomized
        if not r:
            return ""
        ratio = r["expected_score"] / r["best_score"] if r["best_score"] else 1.0
        swapped = (f"; {r['swapped_in']} assigned pair(s) were placed by the swaps after the draw (co-author, "
                   "reciprocal, senior), outside the cap" if r["swapped_in"] else "")
        kept = (f" apart from the {r['kept']} pair(s) kept from the earlier assignment (--keep-assignments), which are "
                "certain" if r.get("kept") else "")
        nudged = " (with the bids' nudges)" if r.get("with_bids") else ""
        return (f"randomized assignment (seed {r['seed']}): no pair more likely than {r['max_probability']:g}{kept}; "
                f"the expected total affinity{nudged} is {ratio:.1%} of the best assignment's "
                f"({r['expected_score']:.2f} of {r['best_score']:.2f}){swapped}; each pair's probability is in "
                f"{W.PROBABILITIES}")

    def reciprocal_note(self) -> str:
        """One line on reviewers who would review each other's papers (or in a ring of three), or '' when the solve
        had none."""
        (broken, left), (rings, rings_left) = self.reciprocal, self.rings
        if not broken and not left and not rings and not rings_left:
            return ""
        parts = []
        if broken or left:
            parts.append(f"{broken + left} pair(s) of reviewers reviewed each other's papers in {self._solved()}; "
                         f"{broken} broken by swapping in another candidate" + (f", {left} left" if left else ""))
        if rings or rings_left:
            parts.append(f"{rings + rings_left} ring(s) of three reviewers, each on a paper the next one wrote; "
                         f"{rings} broken" + (f", {rings_left} left" if rings_left else ""))
        why = (" (kept by the chair, at their min_load, or no candidate with load to spare); the report lists them"
               if left or rings_left else "")
        return "; ".join(parts) + why


def write_affinity_file(path: Path, aff: pd.DataFrame, reviewers: pd.DataFrame, fmt: str = "triage") -> Path:
    """Write affinity scores to ``path`` as ``triage`` (with header and evidence), ``openreview`` or ``cmt``."""
    from triage.export import cmt_scores, openreview_affinity

    fmt = check_choice(ScoresFormat, fmt, "scores format")
    # Staged inside a run: an interrupted run leaves the last upload in place. '-': standard output.
    target = path if str(path) == "-" else W.write_target(path)
    if fmt == "openreview":
        W.write_csv(target, openreview_affinity(aff), header=False)
    elif fmt == "cmt":
        _warn_ids(aff, reviewers, "CMT")
        W.write_csv(target, cmt_scores(aff, reviewers), header=False)
    else:
        W.write_csv(target, aff)
    return path


def drop_conflicted(aff: pd.DataFrame, confl: pd.DataFrame) -> pd.DataFrame:
    """``aff`` without the (paper_id, reviewer_id) pairs that ``confl`` lists (integer pair codes, so
    millions of scored pairs cost no string keys)."""
    if not len(confl) or not len(aff):
        return aff
    papers = pd.Index(pd.unique(aff["paper_id"]))
    revs = pd.Index(pd.unique(aff["reviewer_id"]))
    p, r = papers.get_indexer(confl["paper_id"]), revs.get_indexer(confl["reviewer_id"])
    known = (p >= 0) & (r >= 0)
    banned = p[known].astype(np.int64) * len(revs) + r[known]
    codes = papers.get_indexer(aff["paper_id"]).astype(np.int64) * len(revs) + revs.get_indexer(aff["reviewer_id"])
    return aff[~np.isin(codes, banned)].reset_index(drop=True)


def run_affinity(corpus: Corpus, emb: Embedded, path: Path, *, affinity: AffinityParams = AffinityParams(),
                 conflicts: ConflictParams | None = ConflictParams(),
                 fmt: str = "triage") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Affinity of every paper to its ``top_k`` reviewers (or every pair) written to ``path``.

    Conflicted pairs (declared and detected with ``conflicts``) are left out, as in the match stage,
    so an upload file never scores an author on their own paper; ``conflicts=None`` keeps every pair.
    Returns the pairs written and the conflicts found.
    """
    check_choice(ScoresFormat, fmt, "scores format")  # before the scoring, not after
    confl = (detect_conflicts(corpus.papers, corpus.reviewers, corpus.publications, corpus.conflicts,
                              params=conflicts) if conflicts is not None else pd.DataFrame(columns=CONFLICT_COLUMNS))
    warn_profiles_lost(corpus.publications, corpus.reviewers, affinity)
    aff = compute_affinity(corpus.papers, emb.papers, corpus.publications, emb.publications, corpus.reviewers,
                           params=affinity)
    aff = drop_conflicted(aff, confl)
    write_affinity_file(path, aff, corpus.reviewers, fmt)
    return aff, confl


def _check_export_formats(formats: tuple[str, ...]) -> None:
    for fmt in formats:
        check_choice(ExportChoice, fmt, "export format")


def _check_min_senior(corpus: Corpus, params: AssignParams, reviewers_file: Path | None) -> None:
    """An explicit --min-senior needs a senior reviewer in the pool (marked senior, with publications)."""
    if not params.min_senior:
        return
    revs = corpus.reviewers
    senior = revs["senior"].fillna(False).astype(bool) if "senior" in revs.columns else revs["reviewer_id"].eq(None)
    if (senior & revs["reviewer_id"].isin(set(corpus.publications["reviewer_id"]))).any():
        return
    why = "marks no reviewer senior (column 'senior': yes / no)" if not senior.any() else (
        f"marks {int(senior.sum())} reviewer(s) senior, none with a publication in the publications file (first: "
        f"{shown(revs.loc[senior, 'reviewer_id'].iloc[0])}), so none can be assigned")
    raise InputError(f"--min-senior {params.min_senior}: {reviewers_file or 'the reviewers file'} {why}; mark senior "
                     "reviewers there or pass --min-senior 0")


def _write_exports(wd: Workdir, formats: tuple[str, ...], aff: pd.DataFrame, confl: pd.DataFrame,
                   reviewers: pd.DataFrame, assignments: pd.DataFrame | None,
                   params: AssignParams = AssignParams()) -> list[str]:
    from triage.export import (
        cmt_assignments_xml,
        hotcrp_assignments,
        openreview_constraints,
        openreview_max_papers,
        start_upload,
    )

    written = []
    for fmt in formats:
        scores, other = EXPORT_FILES[fmt]
        if scores:
            write_affinity_file(wd.path(scores), aff, reviewers, fmt)
            written.append(scores)
        if fmt == "openreview":
            wd.write_csv(other, openreview_constraints(confl), header=False)
            wd.write_csv(W.OPENREVIEW_MAX_PAPERS, openreview_max_papers(reviewers, params.max_load), header=False)
            written += [other, W.OPENREVIEW_MAX_PAPERS]
        elif assignments is None:
            wd.remove(other)  # an earlier run's assignment must not pass for this one's
        elif fmt == "cmt":
            wd.write_text(other, cmt_assignments_xml(assignments, reviewers))
            written.append(other)
        elif fmt == "hotcrp":
            _warn_ids(assignments, reviewers, "HotCRP")
            wd.write_csv(other, hotcrp_assignments(assignments, reviewers))
            written.append(other)
        else:
            _warn_ids(assignments, reviewers, "START", emails=False)
            wd.write_text(other, start_upload(assignments))
            written.append(other)
    remove_uploads(wd, keep=formats)
    return written


def remove_uploads(wd: Workdir, *, keep: tuple[str, ...] = ()) -> None:
    """Remove the upload files of the formats not in ``keep``: an earlier run's must not pass for this run's."""
    for fmt, names in EXPORT_FILES.items():
        if fmt in keep:
            continue
        old = [n for n in (*names, W.OPENREVIEW_MAX_PAPERS if fmt == "openreview" else None) if n and wd.exists(n)]
        for n in old:
            wd.remove(n)
        if old:
            log.warning("removed %s of an earlier run, which no longer match these assignments and scores; pass "
                        "--export-format %s to write them again", ", ".join(old), fmt)


def _warn_ids(pairs: pd.DataFrame, reviewers: pd.DataFrame, system: str, *, emails: bool = True) -> None:
    """CMT and HotCRP know reviewers by email, START by username, and they all number their papers: say
    when the files cannot give them those."""
    if emails:
        email = dict(zip(reviewers["reviewer_id"], reviewers["email"]))
        # A reviewer_id that is an email (publications keyed by email, no reviewers file) is what the files write.
        no_email = [r for r in pairs["reviewer_id"].unique() if not email.get(r) and "@" not in r]
        if no_email:
            log.warning("%d reviewer(s) have no email, so the %s files name them by reviewer_id (first: %s); add "
                        "an 'email' column to the reviewers file", len(no_email), system, shown(no_email[0]))
    else:
        other = [r for r in pairs["reviewer_id"].unique() if "@" in r or r.startswith("~")]
        if other:
            log.warning("%d reviewer id(s) are emails or OpenReview ids, not %s usernames (first: %s); %s's upload "
                        "names reviewers by username: use the Username column of its Profile_Information.csv as "
                        "reviewer_id", len(other), system, shown(other[0]), system)
    odd = [p for p in pairs["paper_id"].unique() if not str(p).isdigit()]
    if odd:
        log.warning("%d paper id(s) are not %s paper numbers (first: %s); %s imports expect its numeric paper id",
                    len(odd), system, shown(odd[0]), system)


def _topic_labels(wd: Workdir) -> pd.Series | None:
    """paper_id -> cluster label from topics.csv, to say which topics an infeasible assignment is short in."""
    if not wd.exists(W.TOPICS):
        return None
    t = wd.read_csv(W.TOPICS)
    return t.set_index("paper_id")["cluster_label"] if {"paper_id", "cluster_label"} <= set(t.columns) else None


def _affinity_key(corpus: Corpus, emb: Embedded, params: AffinityParams) -> str:
    """A digest of everything the affinity table is computed from: the parameters, the model, both
    embedding matrices, every column of the papers and publications, and the reviewer ids (a reviewer's
    loads, name or email do not change it)."""
    h = hashlib.sha256(json.dumps({"params": dataclasses.asdict(params), "model": emb.model, "triage": __version__,
                                   "ties": "reviewer_id"},  # tables whose ties fell by file row are computed again
                                  sort_keys=True, default=str).encode())
    for arr in (emb.papers, emb.publications):
        a = np.ascontiguousarray(arr)
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(a.data)
    for df in (corpus.papers, corpus.publications, corpus.reviewers[["reviewer_id"]]):
        h.update("\x1f".join(map(str, df.columns)).encode())
        h.update(pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()


def cached_affinity(corpus: Corpus, emb: Embedded, wd: Workdir, params: AffinityParams) -> tuple[pd.DataFrame, bool]:
    """The affinity table (conflicted pairs still in), and whether it came from the cache: a rerun that
    changes only conflicts, bids or assignment settings (``--max-load``, ``--per-paper`` ...) reuses the
    last table computed from the same inputs. The cache keeps one table, as a pickle that only triage
    writes, in the run's own cache folder."""
    warn_profiles_lost(corpus.publications, corpus.reviewers, params)
    folder = wd.path(W.AFFINITY_CACHE)
    path = folder / f"{_affinity_key(corpus, emb, params)}.pkl"
    if path.exists():
        try:
            return pd.read_pickle(path), True
        except Exception as exc:  # a damaged cache file (or one another pandas wrote) is computed again
            log.warning("the cached affinity table %s could not be read (%s); it is computed again and replaced",
                        path, " ".join(f"{type(exc).__name__}: {exc}".split())[:200])
    aff = compute_affinity(corpus.papers, emb.papers, corpus.publications, emb.publications, corpus.reviewers,
                           params=params)
    try:  # a full disk costs the next run time, not this run's outputs
        folder.mkdir(parents=True, exist_ok=True)
        with W.atomic_open(path, "wb", encoding=None) as f:
            aff.to_pickle(f)
        for old in folder.glob("*.pkl"):
            if old != path:
                old.unlink()
    except (OSError, OutputError) as exc:
        W.cache_unwritable(folder, exc, "the next run computes the affinity table again")
    return aff, False


def _with_pairs(aff: pd.DataFrame, pairs: pd.DataFrame, corpus: Corpus, emb: Embedded,
                params: AffinityParams) -> pd.DataFrame:
    """``aff`` with the scores of the ``pairs`` (``paper_id, reviewer_id``) that are not among their paper's top-k:
    a chair's manual pick in the kept assignment or a positive bid can count only with a score."""
    if not len(pairs) or not len(aff):
        return aff
    have = set(zip(aff["paper_id"], aff["reviewer_id"]))
    extra = pairs[[(p, r) not in have for p, r in zip(pairs["paper_id"], pairs["reviewer_id"])]]
    extra = extra[extra["paper_id"].isin(set(corpus.papers["paper_id"]))
                  & extra["reviewer_id"].isin(set(corpus.reviewers["reviewer_id"]))]
    if not len(extra):
        return aff
    scored = compute_affinity(corpus.papers, emb.papers, corpus.publications, emb.publications, corpus.reviewers,
                              params=params, pairs=extra[["paper_id", "reviewer_id"]])
    order = {pid: i for i, pid in enumerate(corpus.papers["paper_id"])}
    out = pd.concat([aff, scored], ignore_index=True)
    out["_p"] = out["paper_id"].map(order)
    out = out.sort_values(["_p", "score", "reviewer_id"], ascending=[True, False, True], kind="stable")
    return out.drop(columns="_p").reset_index(drop=True)


def _nothing_to_assign(corpus: Corpus, scored: int, confl: pd.DataFrame) -> str:
    """One line on why no (paper, reviewer) pair is left to assign."""
    if scored:
        return (f"assignment is infeasible: all {scored} scored (paper, reviewer) pairs are in conflict "
                f"({len(confl)} conflict(s) found); check the conflicts file and --coauthor-years, or add reviewers")
    return (f"assignment is infeasible: no reviewer could be scored, as none of the {len(corpus.reviewers)} reviewers "
            "has a publication in the selected profile; check that the publications' reviewer_id are the reviewers "
            "file's, or widen --recent / --since")


def run_match(corpus: Corpus, emb: Embedded, wd: Workdir, *, affinity: AffinityParams = AffinityParams(),
              conflicts: ConflictParams = ConflictParams(), assignment: AssignParams = AssignParams(),
              inputs: Inputs | None = None, bids: pd.DataFrame | None = None,
              export_formats: tuple[str, ...] = ()) -> MatchResult:
    """Conflicts, affinity with evidence, the load-balanced assignment and the upload files asked for."""
    _check_export_formats(export_formats)
    _check_min_senior(corpus, assignment, inputs.reviewers if inputs else None)
    write_excluded(corpus, wd)
    declared = corpus.conflicts
    conflict_bidders: set[str] = set()  # reviewers whose EasyChair 'conflict' bids became declared conflicts
    if bids is not None and len(bids):
        bids = bids.assign(paper_id=resolve_paper_ids(bids["paper_id"], corpus.papers),
                           reviewer_id=resolve_reviewer_ids(bids["reviewer_id"], corpus.reviewers))
        said = bids["bid"].str.strip().str.lower() == CONFLICT_BID  # EasyChair: the member declares a conflict
        conflict_bidders = set(bids.loc[said & bids["paper_id"].isin(set(corpus.papers["paper_id"])), "reviewer_id"])
        if said.any():
            declared = pd.concat([declared, bids.loc[said, ["paper_id", "reviewer_id"]].assign(
                reason="declared in the bids")], ignore_index=True).drop_duplicates(["paper_id", "reviewer_id"])
            bids = bids[~said].reset_index(drop=True)
    confl = detect_conflicts(corpus.papers, corpus.reviewers, corpus.publications, declared, params=conflicts)
    outliers = declared_outliers(confl)
    if len(outliers):
        first = outliers.iloc[0]
        log.warning("%d paper(s) and %d reviewer(s) have more than %d declared conflicts that no rule backs (first: "
                    "%s %s, %d); such self-reports may be gamed: the report lists them for a check",
                    int((outliers["kind"] == "paper").sum()), int((outliers["kind"] == "reviewer").sum()),
                    DECLARED_LIMIT, first["kind"], shown(first["id"]), int(first["declared"]))
    aff, reused = cached_affinity(corpus, emb, wd, affinity)
    # Pairs outside the top-k that still count: the kept assignment's (a chair's manual pick) and those the
    # reviewer bid for (a bid raises a pair's value only when the pair is a candidate).
    wanted = [corpus.previous[["paper_id", "reviewer_id"]]] if corpus.previous is not None else []
    if bids is not None and len(bids):
        wanted.append(bids.loc[bid_values(bids) > 0, ["paper_id", "reviewer_id"]])
    if wanted:
        wanted_pairs = drop_conflicted(pd.concat(wanted, ignore_index=True).drop_duplicates(), confl)
        aff = _with_pairs(aff, wanted_pairs, corpus, emb, affinity)
    scored = len(aff)
    aff = drop_conflicted(aff, confl)
    if not len(aff):
        raise InfeasibleError(_nothing_to_assign(corpus, scored, confl))
    wd.write_csv(W.CONFLICTS, confl)
    wd.write_csv(W.AFFINITY, aff)
    result = MatchResult(conflicts=confl, affinity=aff, assignments=None, alternates=None)
    outputs = [W.CONFLICTS, W.AFFINITY]
    active = corpus.reviewers[corpus.reviewers["reviewer_id"].isin(set(corpus.publications["reviewer_id"]))]
    used = None
    if bids is not None and len(bids):
        ok = bids["paper_id"].isin(set(corpus.papers["paper_id"])) & bids["reviewer_id"].isin(
            set(corpus.reviewers["reviewer_id"]))
        used = bids[ok]
        excluded = set(corpus.excluded["paper_id"]) if corpus.excluded is not None else set()
        left = ~ok & (bids["reviewer_id"].str.lower().isin(corpus.left_out) | bids["paper_id"].isin(excluded))
        if left.any():
            log.warning("%d bid(s) are by members left out of the pool (meta-reviewers) or on papers left out of "
                        "the run; not used", int(left.sum()))
        ok |= left
        if not ok.all():
            first = bids[~ok].iloc[0]
            log.warning("%d bid(s) name unknown paper or reviewer ids (first: %s, %s); ignored: check that the bids "
                        "use the ids of the submissions and reviewers files", int((~ok).sum()),
                        shown(first["paper_id"]), shown(first["reviewer_id"]))
    plan = None if corpus.previous is None else plan_keep(corpus.previous, corpus.papers, active, confl, aff,
                                                          params=assignment)
    res = assign(aff, corpus.papers, active.reset_index(drop=True), confl, params=assignment, bids=bids,
                 fixed=None if plan is None else plan.fixed, topics=_topic_labels(wd),
                 coauthors=reviewer_coauthors(corpus.publications) if assignment.coauthor_slack > 0 else None,
                 authors=paper_authors(confl))
    wd.write_csv(W.ASSIGNMENTS, res.assignments)
    wd.write_csv(W.ALTERNATES, res.alternates)
    outputs += [W.ASSIGNMENTS, W.ALTERNATES]
    if res.probabilities is not None:
        wd.write_csv(W.PROBABILITIES, res.probabilities)
        outputs.append(W.PROBABILITIES)
    else:
        wd.remove(W.PROBABILITIES)  # an earlier randomized run's probabilities no longer apply
    result.randomized = res.randomized
    size = reserve_size(len(active)) if assignment.reserve is None else assignment.reserve
    if size:
        result.reserve = reserve_pool(res.assignments, aff, active, assignment, size)
        wd.write_csv(W.RESERVE, result.reserve)
        outputs.append(W.RESERVE)
    else:
        wd.remove(W.RESERVE)
    if plan is not None and corpus.previous is not None:
        changes, result.changes = describe_changes(corpus.previous, plan, res.assignments, corpus.papers)
        wd.write_csv(W.CHANGES, changes)
        outputs.append(W.CHANGES)
    result.assignments, result.alternates, result.total_score = res.assignments, res.alternates, res.total_score
    result.coauthor_pairs = (res.coauthor_pairs_solved, res.coauthor_pairs_left, res.coauthor_pairs_kept)
    result.reciprocal = (res.reciprocal_broken, res.reciprocal_left)
    result.rings = (res.rings_broken, res.rings_left)
    result.senior = (res.min_senior, res.senior_swapped, tuple(res.senior_short))
    if used is not None:  # the bids the solve used: not those it ignored, and each pair's last
        result.bids = bid_summary(res.assignments, used, active["reviewer_id"], corpus.papers["paper_id"],
                                  placed=conflict_bidders)
    if res.unmet_min_load:
        log.warning("%d reviewer(s) could not reach their min_load (first: %s)", len(res.unmet_min_load),
                    shown(res.unmet_min_load[0]))
    if corpus.previous is None:
        wd.remove(W.CHANGES)  # a changes.csv from an earlier --keep-assignments run no longer applies
    outputs += _write_exports(wd, export_formats, aff, confl, corpus.reviewers, result.assignments, assignment)
    result.outputs = outputs
    wd.record_stage("match", inputs=(inputs.files() if inputs else {}),
                    params={"affinity": dataclasses.asdict(affinity), "conflicts": dataclasses.asdict(conflicts),
                            "assignment": dataclasses.asdict(assignment),
                            "bids": None if bids is None else len(bids), "export_formats": list(export_formats)},
                    outputs=outputs, stats={"conflicts": len(confl), "affinity_rows": len(aff),
                                            "affinity_reused": reused, "total_score": round(result.total_score, 4),
                                            "coauthor_pairs_split": result.coauthor_pairs[0],
                                            "coauthor_pairs_left": result.coauthor_pairs[1],
                                            "coauthor_pairs_kept": result.coauthor_pairs[2],
                                            "reciprocal_pairs_broken": result.reciprocal[0],
                                            "reciprocal_pairs_left": result.reciprocal[1],
                                            "review_rings_broken": result.rings[0],
                                            "review_rings_left": result.rings[1],
                                            "min_senior": res.min_senior,
                                            "papers_short_of_seniors": len(res.senior_short),
                                            "bids": result.bids,
                                            "randomized": result.randomized,
                                            "reserve": None if result.reserve is None else len(result.reserve)})
    return result


@dataclass(frozen=True)
class LLMParams:
    """The optional LLM backend of ``run_summarize`` (OpenAI-compatible chat completions)."""

    url: str
    model: str
    api_key_env: str = DEFAULT_KEY_ENV
    timeout: float = 60.0


@dataclass(frozen=True)
class SummarizeSources:
    """Where ``run_summarize`` reads besides the submissions (all optional)."""

    pdf_dir: Path | None = None
    assumptions: Path | None = None
    prompt_dir: Path | None = None


def run_summarize(corpus: Corpus, wd: Workdir, params: SummaryParams = SummaryParams(), *,
                  inputs: Inputs | None = None, embed: EmbedParams | None = None, llm: LLMParams | None = None,
                  sources: SummarizeSources = SummarizeSources(), messages: list[str] | None = None) -> pd.DataFrame:
    """Claim cards per paper: ``summaries.csv`` (claims and results one per line, assumptions ``; ``-joined,
    evidence as JSON) and ``summaries.jsonl``.

    With embedding centrality the sentences are embedded through the run's embedding cache, and
    each paper's vector (title. abstract) is reused from it. With ``llm`` the model is asked per
    paper and the extractive summary is the fallback; its answers are cached in ``cache/llm``.
    """
    from triage.summarize import SummaryStats, load_vocabulary

    wd.ensure()
    write_excluded(corpus, wd)
    papers = corpus.papers
    vocab = load_vocabulary(sources.assumptions)
    embed_fn = paper_vecs = None
    if params.centrality == "embedding" and len(papers):
        ep = embed or EmbedParams()
        embedder = load_embedder(ep.model, device=ep.device, allow_download=ep.allow_download)
        cache = EmbeddingCache.open(wd.path(W.EMBED_CACHE), embedder.name)
        paper_vecs, _ = embed_texts(paper_texts(papers, use_keywords=ep.use_keywords), embedder, cache,
                                    batch_size=ep.batch_size)

        def embed_fn(sents: list[str]) -> np.ndarray:
            return embed_texts(sents, embedder, cache, batch_size=ep.batch_size * 2)[0]

    extra = None
    n_pdf = 0
    if sources.pdf_dir is not None:
        from triage.pdftext import pdf_texts

        extra = pdf_texts(papers["paper_id"], sources.pdf_dir, cache_dir=wd.path(W.PDF_CACHE))
        n_pdf = sum(map(bool, extra))
    stats = SummaryStats()
    summarizer = None
    if llm is not None:
        import os

        from triage.llm import ChatClient, LLMSummarizer, load_prompts

        key = os.environ.get(llm.api_key_env)
        if not key and (key is not None or llm.api_key_env != LLMParams.api_key_env):
            log.warning("$%s (--llm-key-env) is %s; no API key is sent to %s", llm.api_key_env,
                        "empty" if key is not None else "not set", llm.url)
        client = ChatClient(llm.url, llm.model, api_key=key or None, timeout=llm.timeout, key_env=llm.api_key_env)
        summarizer = LLMSummarizer(client, vocab, load_prompts(sources.prompt_dir), stats=stats,
                                   cache_dir=wd.path(W.LLM_CACHE), max_claims=params.max_claims,
                                   max_results=params.max_results)
    record = {**dataclasses.asdict(params), "llm": (dataclasses.asdict(llm) if llm else None),
              **{k: (str(v) if v else None) for k, v in dataclasses.asdict(sources).items()},
              "vocabulary_sha256": vocab.sha256, "triage": __version__}
    if embed_fn is not None:
        record.update(model=embedder.name, use_keywords=ep.use_keywords)
    summ = summarize_papers(papers, params=params, vocab=vocab, embed=embed_fn, paper_vectors=paper_vecs,
                            extra_text=extra, summarizer=summarizer, stats=stats,
                            earlier=_earlier_summaries(wd, record) if llm is None else None)
    flat = summ.copy()
    for col in ("claims", "results"):
        flat[col] = flat[col].map(join_sentences)
    flat["assumptions"] = flat["assumptions"].map(join_list)
    flat["evidence"] = flat["evidence"].map(lambda v: json.dumps(v, sort_keys=True))
    wd.write_csv(W.SUMMARIES, flat)
    wd.write_jsonl(W.SUMMARIES_JSONL, [_jsonable(r) for r in summ.to_dict("records")])
    run_stats: dict[str, Any] = {"papers": len(summ), "kept_from_earlier_run": stats.kept, "with_pdf_text": n_pdf,
                                 "with_assumptions": int((summ["assumptions"].map(len) > 0).sum())}
    if llm is not None:
        run_stats.update(llm_answers=len(summ) - sum(stats.fallbacks.values()), llm_cached=stats.cached,
                         llm_answers_in_part=stats.partial_papers, fallbacks=stats.fallbacks,
                         extractive_sections=stats.partial, dropped=stats.dropped)
        if messages is not None:
            fb = ", ".join(f"{k}: {v}" for k, v in sorted(stats.fallbacks.items())) or "none"
            dr = ", ".join(f"{k}: {v}" for k, v in sorted(stats.dropped.items())) or "none"
            part = ""
            if stats.partial_papers:  # answered, but with nothing usable for some sections
                part = (f", {stats.partial_papers} of them in part (extractive " +
                        ", ".join(f"{k}: {stats.partial[k]}" for k in ("tldr", "claims", "results", "assumptions")
                                  if k in stats.partial) + ")")
            said = (f"LLM {llm.model}: {run_stats['llm_answers']} of {len(summ)} papers answered "
                    f"({stats.cached} from cache){part}; fell back to extractive: {fb}; dropped items: {dr}")
            if len(summ) and not run_stats["llm_answers"]:  # the server is down or speaks another protocol
                said = f"Warning: {said}; check --llm-url and --llm-model"
            messages.append(said)
    if messages is not None and sources.pdf_dir is not None:
        messages.append(f"PDF text (introduction, conclusion) found for {n_pdf} of {len(summ)} papers")
    own = {"assumptions": sources.assumptions} if sources.assumptions else {}  # the chair's own vocabulary file
    wd.record_stage("summarize", inputs={**(inputs.files() if inputs else {}), **own}, params=record,
                    outputs=[W.SUMMARIES, W.SUMMARIES_JSONL], stats=run_stats)
    return summ


def _earlier_summaries(wd: Workdir, record: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The earlier run's summaries by paper id, when it used the same model and settings (else None).

    Not with ``--use-keywords``: the keywords move the paper vector the sentences are compared to, and a
    card records the hash of the title, abstract and PDF text only."""
    if record.get("use_keywords"):
        return None
    earlier = wd.read_manifest()["stages"].get("summarize", {}).get("params")
    if earlier is None or earlier != json.loads(json.dumps(record)):
        return None
    try:
        summ = _read_summaries(wd)
    except (OSError, ValueError):  # damaged or hand-edited: summarize everything again
        return None
    if summ is None or "paper_id" not in summ.columns:
        return None
    return {str(r["paper_id"]): r for r in summ.to_dict("records")}


def _jsonable(rec: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in rec.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def _lost(wd: Workdir, stages: dict[str, Any], also: tuple[str, ...] = ()) -> dict[str, str]:
    """The tables export and report read (and ``also`` these) that are missing though the stage that writes them
    ran (deleted by hand), each with that stage."""
    used = (W.SCREEN, W.TOPICS, W.CONFLICTS, W.ASSIGNMENTS, W.SUMMARIES_JSONL, *also)
    return {o: stage for stage, rec in stages.items() for o in rec.get("outputs", [])
            if o in used and not wd.exists(o)}


def _read_optional(wd: Workdir, name: str) -> pd.DataFrame | None:
    return wd.read_csv(name) if wd.exists(name) else None


def _read_duplicates(wd: Workdir) -> pd.DataFrame | None:
    dups = _read_optional(wd, W.DUPLICATES)
    return None if dups is None else dups.assign(other_title=dups["other_title"].map(unguard_text))


def _read_summaries(wd: Workdir) -> pd.DataFrame | None:
    if not wd.exists(W.SUMMARIES_JSONL):
        return None
    p = wd.read_path(W.SUMMARIES_JSONL)
    recs = [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pd.DataFrame(recs)


@dataclass(frozen=True)
class ExportParams:
    format: ExportFormat = ExportFormat.csv
    by: SplitBy | None = None
    weak_threshold: float = WEAK_SCORE


@dataclass
class Exported:
    table: pd.DataFrame
    outputs: list[Path] = field(default_factory=list)


def _warn_other_submissions(path: Path, stages: dict[str, Any]) -> None:
    """Say when the submissions file is not the one the stages whose tables are exported read."""
    now = W.sha256_file(path, "submissions")
    for stage in ("topics", "match", "summarize"):
        seen = ((stages.get(stage) or {}).get("inputs") or {}).get("submissions") or {}
        if seen.get("sha256") and seen["sha256"] != now:
            log.warning("%s is not the submissions file the %s stage read (%s); the table joins this file's papers "
                        "with that stage's results: pass that file, or run the stages again", path, stage,
                        seen.get("path", "?"))
            return


def _last_export(wd: Workdir, plain: ExportParams) -> ExportParams:
    """``plain`` with the format and split of the folder's last export: a run makes the workbook and the
    per-group files again rather than leave them describing earlier tables."""
    last = wd.read_manifest()["stages"].get("export", {}).get("params", {})
    fmt, by = last.get("format"), last.get("by")
    return dataclasses.replace(
        plain, format=ExportFormat(fmt) if fmt in {f.value for f in ExportFormat} else ExportFormat.csv,
        by=SplitBy(by) if by in {b.value for b in SplitBy} else None)


def weak_threshold_as_before(wd: Workdir) -> float:
    """The weak-match threshold of the folder's latest export or report (the default when neither ran): a later
    ``triage export`` or ``triage report`` without ``--weak-threshold`` flags the same papers as the run did."""
    stages = wd.read_manifest()["stages"]
    recs = sorted((r for k, r in stages.items() if k in ("export", "report")), key=lambda r: int(r.get("seq", 0)))
    for rec in reversed(recs):
        value = (rec.get("params") or {}).get("weak_threshold")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and -1 <= value <= 1:
            return float(value)
    return WEAK_SCORE


def export_as_before(corpus: Corpus, wd: Workdir, plain: ExportParams, *,
                     inputs: Inputs | None = None) -> tuple[Exported, str | None]:
    """Export again in the format and split of the folder's last export (without the split when it cannot
    be made now, e.g. ``--by area`` without areas); what was written, and a message when that is not ``plain``."""
    export = _last_export(wd, plain)
    try:
        done = run_export(corpus, wd, export, inputs=inputs)
    except (InputError, MissingArtifactError) as exc:
        if export == plain:
            raise
        fallback = dataclasses.replace(export, by=None)  # the workbook needs no areas: keep it
        log.warning("could not export as the last export did (%s); wrote %s only", exc,
                    "triage.csv and triage.xlsx" if fallback.format is ExportFormat.xlsx else "triage.csv")
        return run_export(corpus, wd, fallback, inputs=inputs), None
    if export == plain:
        return done, None
    return done, f"exported as the last export did: --format {export.format.value}" + (
        f" --by {export.by.value}" if export.by else "")


def run_export(corpus: Corpus, wd: Workdir, params: ExportParams = ExportParams(), *,
               inputs: Inputs | None = None) -> Exported:
    """``triage.csv`` (one row per paper, from whatever stages have run), ``triage.xlsx`` with
    ``--format xlsx`` (one sheet per table), and with ``--by`` one file per area or cluster."""
    write_excluded(corpus, wd)
    stages = wd.read_manifest()["stages"]
    earlier = stages.get("export", {}).get("outputs", [])
    if inputs is not None:
        _warn_other_submissions(inputs.submissions, stages)
    if not len(corpus.reviewers) and wd.exists(W.ASSIGNMENTS):
        log.warning("no --reviewers given: triage.csv names the assigned reviewers by id only; pass the reviewers "
                    "file (-r) for their names")
    lost = _lost(wd, stages, also=(W.TOPIC_SUPPLY,) if params.format is ExportFormat.xlsx else ())  # the Supply sheet
    if lost:
        log.warning("%s: %s missing though the stage ran (deleted?); the export is written without it: run %s again",
                    wd.root, ", ".join(lost), " and ".join(f"'triage {st}'" for st in dict.fromkeys(lost.values())))
    topics, assignments = _read_optional(wd, W.TOPICS), _read_optional(wd, W.ASSIGNMENTS)
    conflicts = _read_optional(wd, W.CONFLICTS)
    reviewers = corpus.reviewers if len(corpus.reviewers) else None
    table = build_triage_table(corpus.papers, topics=topics, summaries=_read_summaries(wd), assignments=assignments,
                               conflicts=conflicts, reviewers=reviewers, weak_threshold=params.weak_threshold,
                               screen=_read_optional(wd, W.SCREEN))
    result = Exported(table, [wd.write_csv(W.TRIAGE, spreadsheet(table))])
    if params.format is ExportFormat.xlsx:
        loads = wd.read_manifest()["stages"].get("match", {}).get("params", {}).get("assignment")
        sheets = workbook_tables(table, corpus.papers, topics=topics, assignments=assignments, conflicts=conflicts,
                                 reviewers=reviewers, supply=_read_optional(wd, W.TOPIC_SUPPLY), loads=loads,
                                 duplicates=_read_duplicates(wd))
        result.outputs.append(wd.write_bytes(W.TRIAGE_XLSX, to_xlsx(sheets)))
    if params.by is not None:
        folder = W.SPLIT_DIR.format(by=params.by.value)
        ext = params.format.value
        written = set()
        for stem, part in split_table(table, params.by).items():
            name = f"{folder}/{stem}.{ext}"
            written.add(name)
            data = spreadsheet(part.reset_index(drop=True))
            result.outputs.append(wd.write_bytes(name, to_xlsx({"Papers": part})) if ext == "xlsx"
                                  else wd.write_csv(name, data))
        if wd.path(folder).is_dir():  # files of groups that no longer exist would mislead an area chair
            for old in sorted(wd.path(folder).glob("*.*")):
                if old.suffix in (".csv", ".xlsx") and f"{folder}/{old.name}" not in written:
                    wd.remove(f"{folder}/{old.name}")
    # An export replaces the earlier one whole: a workbook or per-area files it did not write again would
    # describe the earlier tables (another assignment) to the area chairs they are sent to.
    now = {str(p.relative_to(wd.root)) for p in result.outputs}
    gone = [name for name in earlier if name not in now and wd.exists(name)]
    for name in gone:
        wd.remove(name)
    if gone:
        log.warning("removed %d file(s) of an earlier export (%s%s), which would no longer match these results; "
                    "export with --format xlsx or --by again to write them", len(gone), ", ".join(map(shown, gone[:3])),
                    ", ..." if len(gone) > 3 else "")
    wd.record_stage("export", inputs=(inputs.files() if inputs else {}), params={"format": params.format.value,
                                                 "by": params.by.value if params.by else None,
                                                 "weak_threshold": params.weak_threshold},
                    outputs=[str(p.relative_to(wd.root)) for p in result.outputs])
    return result


def flat_params(params: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in params.items():
        if isinstance(v, dict):
            out += flat_params(v, f"{prefix}{k}.")
        elif v is not None and v != "":
            out.append(f"{prefix}{k}={v}")
    return out


def _without_publications(corpus: Corpus, match_params: dict[str, Any]) -> list[str] | None:
    """The reviewers with no publication in the profile the last match used (``--recent``, ``--since``), or None
    when there are no publications or no reviewers."""
    pubs, revs = corpus.publications, corpus.reviewers
    if not len(pubs) or not len(revs):
        return None
    aff = match_params.get("affinity", {})
    keep = select_profiles(pubs, recent=aff.get("recent"), since=aff.get("since"))
    return sorted(set(revs["reviewer_id"]) - set(pubs.loc[keep, "reviewer_id"]))


def run_report(corpus: Corpus, wd: Workdir, *, notes: list[str] | None = None,
               weak_threshold: float = WEAK_SCORE, inputs: Inputs | None = None) -> Path:
    """``report.html`` from the artifacts in the work directory."""
    manifest = wd.read_manifest()
    stages = manifest["stages"]
    emb_rec = stages.get("embed", {})
    emb = wd.read_npy(W.PAPER_EMB) if wd.exists(W.PAPER_EMB) else None
    if emb is not None and emb.shape[0] != len(corpus.papers):
        raise StaleArtifactError(f"{wd.path(W.PAPER_EMB)} has {emb.shape[0]} rows but the submissions have "
                                 f"{len(corpus.papers)}; rerun 'triage run' (or 'triage embed') on these submissions")
    params = {stage: ", ".join(flat_params(stages[stage].get("params", {})))
              for stage in ("embed", "topics", "match", "summarize") if stage in stages}
    times = sorted(str(rec.get("time", "")) for name, rec in stages.items() if rec.get("time") and name != "report")
    per_paper = stages.get("match", {}).get("params", {}).get("assignment", {}).get("per_paper")
    randomized = stages.get("match", {}).get("stats", {}).get("randomized")
    assignments = _read_optional(wd, W.ASSIGNMENTS)
    pairs = reciprocal = rings = None
    if assignments is not None and len(corpus.publications):
        pairs = coauthor_pairs(assignments, reviewer_coauthors(corpus.publications))
    conflicts = _read_optional(wd, W.CONFLICTS)
    authors = paper_authors(conflicts) if conflicts is not None else {}
    if assignments is not None and authors:  # no reviewer found among the authors: nothing was checked
        reciprocal, rings = reciprocal_pairs(assignments, authors), review_rings(assignments, authors)
    data = ReportData(
        papers=corpus.papers, embeddings=emb, topics=_read_optional(wd, W.TOPICS),
        screen=_read_optional(wd, W.SCREEN),
        assignments=assignments, conflicts=conflicts, coauthor_pairs=pairs, reciprocal_pairs=reciprocal,
        review_rings=rings,
        summaries=_read_summaries(wd), supply=_read_optional(wd, W.TOPIC_SUPPLY),
        duplicates=_read_duplicates(wd), changes=_read_optional(wd, W.CHANGES),
        reviewers=corpus.reviewers if len(corpus.reviewers) else None,
        n_reviewers=len(corpus.reviewers), n_publications=len(corpus.publications),
        model=str(emb_rec.get("params", {}).get("model_name", "")), params=params, notes=notes or [],
        run_time=times[-1].replace("T", " ").replace("+00:00", " UTC") if times else "",
        per_paper=int(per_paper) if per_paper else None, weak_threshold=weak_threshold, lost=_lost(wd, stages),
        randomized=randomized or None, reserve=_read_optional(wd, W.RESERVE),
        without_publications=_without_publications(corpus, stages.get("match", {}).get("params", {})),
        min_senior=stages.get("match", {}).get("stats", {}).get("min_senior"),
    )
    path = wd.write_text(W.REPORT, render_report(data))
    wd.record_stage("report", inputs=(inputs.files() if inputs else {}), params={"weak_threshold": weak_threshold},
                    outputs=[W.REPORT])
    return path


@dataclass(frozen=True)
class RunOptions:
    embed: EmbedParams = EmbedParams()
    topics: ClusterParams = ClusterParams()
    affinity: AffinityParams = AffinityParams()
    conflicts: ConflictParams = ConflictParams()
    assignment: AssignParams = AssignParams()
    summary: SummaryParams = SummaryParams()
    screen: ScreenParams = ScreenParams()
    pdf_dir: Path | None = None  # the papers' PDFs: screened, and their introduction and conclusion summarized
    taxonomy: TaxonomyParams = TaxonomyParams()
    supply: SupplyParams = SupplyParams()
    export_formats: tuple[str, ...] = ()
    weak_threshold: float = WEAK_SCORE

    def __post_init__(self) -> None:
        _check_export_formats(self.export_formats)  # before any stage runs


def run_all(inputs: Inputs, out: Path, options: RunOptions = RunOptions(), *,
            progress: ProgressFactory | None = None) -> RunResult:
    """Every stage in order. Without publications, matching is skipped (and said so)."""
    wd = Workdir(out)
    wd.ensure()
    result = RunResult()
    check_taxonomies(options.taxonomy)
    from triage.assign import read_bids

    corpus, others = load(inputs), load_compare(inputs)
    bids = read_bids(inputs.bids, encoding=inputs.encoding) if inputs.bids else None  # bad bids stop the run early
    notes: list[str] = []
    if corpus.excluded is not None and len(corpus.excluded):  # excluded.csv: written by each stage below
        notes.append(f"{len(corpus.excluded)} submission(s) left out as withdrawn, desk-rejected or without a paper; "
                     f"{W.EXCLUDED} says why for each")
    # (the PDFs that match no paper are said once, by the summarize stage)
    found = run_screen(corpus, wd, options.screen, pdf_dir=options.pdf_dir, inputs=inputs, warn=False)
    result.messages.append("screen: " + screen_note(found))
    emb = run_embed(corpus, wd, options.embed, progress=progress, inputs=inputs)
    for name, st in emb.stats.items():
        result.messages.append(
            f"embedded {st.embedded} new {name} text(s), {st.cached} from cache"
            + (f" ({st.per_second:.1f} texts/s)" if st.embedded else ""))
    topics = run_topics(corpus, emb, wd, options.topics, inputs=inputs, taxonomy=options.taxonomy,
                        embed=options.embed, notes=notes, others=others)
    for n in notes:  # said now, in order with the stages' own warnings; the report lists them too
        log.warning("%s", n)
    n_dup = int((topics["possible_duplicates"] != "").sum())
    if n_dup:
        result.messages.append(f"{n_dup} submission(s) may duplicate another paper (see duplicates.csv)")
    supply = dataclasses.replace(options.supply, per_paper=options.assignment.per_paper,
                                 max_load=options.assignment.max_load)
    conflicts = None
    if len(corpus.publications):
        m = run_match(corpus, emb, wd, affinity=options.affinity, conflicts=options.conflicts,
                      assignment=options.assignment, inputs=inputs, bids=bids,
                      export_formats=options.export_formats)
        result.messages.append(f"{len(m.conflicts)} conflict(s) found; "
                               f"{0 if m.assignments is None else len(m.assignments)} assignment(s) made")
        result.messages += m.changes + [line for line in [m.randomized_note(), m.coauthor_note(),
                                                          m.reciprocal_note(), m.senior_note(), m.bids_note(),
                                                          m.reserve_note()] if line]
        conflicts = m.conflicts
    else:
        msg = "no --publications given: skipped reviewer matching"
        result.messages.append(msg)
        notes.append(msg)
        for stale in (W.AFFINITY, W.ASSIGNMENTS, W.ALTERNATES, W.CONFLICTS, W.CHANGES, W.PROBABILITIES, W.RESERVE):
            wd.remove(stale)
        remove_uploads(wd)
        wd.forget_stage("match")
    run_supply(corpus, emb, wd, topics, supply, conflicts=conflicts)
    run_summarize(corpus, wd, options.summary, inputs=inputs, embed=options.embed,
                  sources=SummarizeSources(pdf_dir=options.pdf_dir))
    exported, note = export_as_before(corpus, wd, ExportParams(weak_threshold=options.weak_threshold), inputs=inputs)
    if note:
        result.messages.append(note)
    report = run_report(corpus, wd, notes=notes, weak_threshold=options.weak_threshold, inputs=inputs)
    uploads = [n for pair in EXPORT_FILES.values() for n in pair if n] + [W.OPENREVIEW_MAX_PAPERS]
    result.outputs = [wd.path(n) for n in (W.EXCLUDED, W.SCREEN, W.TOPICS, W.DUPLICATES, W.TOPIC_SUPPLY, W.AFFINITY,
                                             W.CONFLICTS, W.ASSIGNMENTS, W.ALTERNATES, W.PROBABILITIES, W.RESERVE,
                                             W.CHANGES, *uploads, W.SUMMARIES)
                      if wd.exists(n)] + exported.outputs + [report]
    return result
