"""The chair's report: one self-contained HTML file (inline SVG plots, a few lines of inline script).

Every section is built from whatever artifacts the run has: a run without reviewers, without an
area taxonomy or without the supply table still gets a report, with the missing parts said so.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from triage.conflicts import DECLARED_LIMIT, declared_outliers
from triage.duplicates import SUBMISSIONS
from triage.export import WEAK_SCORE, area_counts, build_triage_table, header_for, reviewer_names

DUPLICATE_LIST_LIMIT = 1000  # pairs listed in the report; duplicates.csv has all
SCREEN_LIST_LIMIT = 1000  # findings listed in the report; screen.csv has all
# Above this many papers the topic map's points are drawn as one embedded image (the SVG stays small).
RASTER_POINTS = 2000
PALETTE = "tab20"
SECTIONS = ("overview", "screen", "topics", "areas", "assignment", "conflicts", "papers")


@dataclass
class ReportData:
    papers: pd.DataFrame
    embeddings: np.ndarray | None = None
    topics: pd.DataFrame | None = None
    screen: pd.DataFrame | None = None  # screen.csv: the desk-reject pre-screen's findings (None: it did not run)
    assignments: pd.DataFrame | None = None
    conflicts: pd.DataFrame | None = None
    summaries: pd.DataFrame | None = None
    supply: pd.DataFrame | None = None
    reviewers: pd.DataFrame | None = None
    n_reviewers: int = 0
    n_publications: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    run_time: str = ""
    per_paper: int | None = None
    randomized: dict[str, Any] | None = None  # a randomized assignment's cap, seed and scores (match stage stats)
    reserve: pd.DataFrame | None = None  # the emergency pool (assign.reserve_pool)
    without_publications: list[str] | None = None  # reviewers of the pool with no publication (None: not known)
    min_senior: int | None = None  # senior reviewers the match asked per paper (its stats; None: not known)
    weak_threshold: float = WEAK_SCORE
    notes: list[str] = field(default_factory=list)
    coauthor_pairs: pd.DataFrame | None = None  # paper_id, reviewer_a, reviewer_b: co-authors on one paper
    review_rings: pd.DataFrame | None = None  # assign.review_rings: three reviewers, each on a paper the next wrote
    reciprocal_pairs: pd.DataFrame | None = None  # reviewer_a, paper_a, reviewer_b, paper_b: each reviews the other's
    duplicates: pd.DataFrame | None = None  # duplicates.csv: pairs of submissions that may be the same work
    changes: pd.DataFrame | None = None  # changes.csv: what --keep-assignments kept, removed and added
    lost: dict[str, str] = field(default_factory=dict)  # tables missing though their stage ran -> that stage


# ---------------------------------------------------------------------------------------------
# Plots (matplotlib, Agg, inline SVG)
# ---------------------------------------------------------------------------------------------
def _svg(fig: Any, prefix: str) -> str:
    """The figure as inline SVG markup. Its element ids get ``prefix`` so that several figures in one
    page never share an id (matplotlib names every figure ``figure_1`` and reuses clip-path ids)."""
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "triage", "svg.fonttype": "none"}):  # stable ids; text as text
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text[text.find("<svg"):], flags=re.DOTALL)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r'(href|xlink:href)="#([^"]+)"', rf'\1="#{prefix}-\2"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    # Let CSS size the figure (it keeps its aspect ratio through the viewBox).
    return re.sub(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 role="img"', text, count=1)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def cluster_colors(n: int) -> list[str]:
    """Hex colour of cluster i (the map and the legend table use the same)."""
    plt = _pyplot()
    from matplotlib.colors import to_hex

    cmap = plt.get_cmap(PALETTE)
    order = list(range(0, cmap.N, 2)) + list(range(1, cmap.N, 2))  # the 10 strong tab20 colours first
    return [to_hex(cmap(order[i % cmap.N])) for i in range(n)]


def project_2d(emb: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """2-D PCA of the embeddings: deterministic and instant at any size. (t-SNE separates clusters
    better but took 30 s for 439 papers on a busy 2-core machine, longer than the rest of the report.)"""
    from sklearn.decomposition import PCA

    with warnings.catch_warnings():  # identical vectors have no variance to explain: sklearn divides by zero
        warnings.simplefilter("ignore", RuntimeWarning)
        return PCA(n_components=2, random_state=seed).fit_transform(np.asarray(emb, dtype=np.float64))


def topic_map_svg(emb: np.ndarray, topics: pd.DataFrame, *, seed: int = 0) -> tuple[str, str]:
    """Scatter of the submissions coloured by cluster, each cluster's number at its centre.

    Returns (svg, projection name). The legend is the cluster table next to the map.
    """
    if len(emb) < 3:
        return "", ""
    plt = _pyplot()
    xy, how = project_2d(emb, seed=seed), "PCA"
    labels = pd.to_numeric(topics["cluster_id"], errors="coerce").fillna(-1).astype(int).to_numpy()
    colors = cluster_colors(int(labels.max()) + 1 if len(labels) else 1)
    fig, ax = plt.subplots(figsize=(8, 5.6))
    ax.scatter(xy[:, 0], xy[:, 1], c=[colors[i] if i >= 0 else "#999999" for i in labels], s=12, alpha=0.8,
               linewidths=0, rasterized=len(xy) > RASTER_POINTS)
    for c in sorted(set(labels.tolist()) - {-1}):
        cx, cy = np.median(xy[labels == c], axis=0)
        ax.annotate(str(c), (cx, cy), fontsize=8, ha="center", va="center", fontweight="bold",
                    bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": colors[c], "alpha": 0.85, "lw": 1.2})
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"Submissions by topic cluster ({how} of the embeddings)", fontsize=10)
    return _svg(fig, "map"), how


def histogram_svg(values: np.ndarray, *, title: str, xlabel: str, bins: int | list[float] = 20,
                  mark: float | None = None, mark_label: str = "", prefix: str = "hist",
                  whole_x: bool = False) -> str:
    """A histogram of counts (whole numbers on the y axis; on the x axis too with ``whole_x``, for loads)."""
    if len(values) == 0:
        return ""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(values, bins=bins, color="#4c72b0")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if whole_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if mark is not None:
        ax.axvline(mark, color="#b3261e", linestyle="--", linewidth=1.2)
        ax.annotate(mark_label, (mark, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                    textcoords="offset points", color="#b3261e", fontsize=8, va="top")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _svg(fig, prefix)


# ---------------------------------------------------------------------------------------------
# Section data
# ---------------------------------------------------------------------------------------------
def _truthy(v: Any) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return not pd.isna(v) and v > 0
    return str(v).strip().lower() in ("true", "yes", "1")


def _fmt(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, str) and v in ("True", "False"):
        return "yes" if v == "True" else "no"
    if isinstance(v, (float, np.floating)):
        return "" if pd.isna(v) else (f"{v:.0f}" if float(v).is_integer() else f"{v:.3g}")
    return str(v)


def _as_list(v: Any) -> list[str]:
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if str(x)]
    if isinstance(v, str) and v.strip():
        s = v.strip()
        if s.startswith("[") and s.endswith("]"):
            try:
                parsed = json.loads(s)
                if isinstance(parsed, list):
                    return [str(x) for x in parsed if str(x)]
            except ValueError:
                pass
        return [x.strip() for x in s.split("\n" if "\n" in s else "; ") if x.strip()]  # sentences: one per line
    return []


def supply_rows(supply: pd.DataFrame | None) -> tuple[list[str], list[dict[str, Any]]]:
    """Headers and rows of the supply table; ``short`` marks the rows a chair must act on."""
    if supply is None or not len(supply):
        return [], []
    cols = list(supply.columns)
    rows = []
    for rec in supply.to_dict("records"):
        short = _truthy(rec.get("shortage", False))
        rows.append({"cells": [_fmt(rec[c]) for c in cols], "short": short})
    rows.sort(key=lambda r: not r["short"])  # shortages first, order kept otherwise
    return [header_for(c) for c in cols], rows


def mismatch_rows(table: pd.DataFrame) -> list[dict[str, str]]:
    if "area_mismatch" not in table.columns:
        return []
    m = table[table["area_mismatch"].map(_truthy)]
    return [{"paper_id": r["paper_id"], "title": r["title"], "author_area": r.get("author_area", ""),
             "area_top3": "; ".join(_as_list(r.get("area_top3", "")))} for r in m.to_dict("records")]


def theory_counts(table: pd.DataFrame) -> list[dict[str, Any]]:
    if "theory_topic" not in table.columns:
        return []
    t = table["theory_topic"].astype(str)
    t = t[t != ""]
    return [{"topic": k, "papers": int(v)} for k, v in t.value_counts().sort_index().items()]


def assignment_quality(data: ReportData, titles: dict[str, str], names: dict[str, str]) -> dict[str, Any]:
    a = data.assignments
    if a is None or not len(a):
        return {}
    a = a.assign(score=pd.to_numeric(a["score"]).astype(float))
    loads = a.groupby("reviewer_id").size()
    best_rows = a.sort_values("score", ascending=False, kind="stable").drop_duplicates("paper_id")
    best = best_rows.set_index("paper_id")
    weak = [{"paper_id": p, "title": titles.get(p, ""), "score": float(r["score"]),
             "reviewer": names.get(r["reviewer_id"]) or r["reviewer_id"],
             "evidence": r.get("evidence_title", "")}
            for p, r in best[best["score"] < data.weak_threshold].sort_values("score").iterrows()]
    counts = a.groupby("paper_id").size()
    want = data.per_paper or int(counts.max())
    missing = []
    for pid in data.papers["paper_id"]:
        n = int(counts.get(pid, 0))
        if n < want:
            missing.append({"paper_id": pid, "title": titles.get(pid, ""), "assigned": n})
    max_load = int(loads.max())
    # Every reviewer of the pool counts in the load histogram, those given no paper as 0.
    pool = data.reviewers["reviewer_id"] if data.reviewers is not None else loads.index.to_series()
    all_loads = loads.reindex(pd.Index(pool.unique()).union(loads.index), fill_value=0)
    lowest = a.groupby("paper_id")["score"].min()
    pairs = data.coauthor_pairs if data.coauthor_pairs is not None else pd.DataFrame(
        columns=["paper_id", "reviewer_a", "reviewer_b"])
    coauthors = [{"paper_id": p, "title": titles.get(p, ""),
                  "reviewers": "; ".join(dict.fromkeys(names.get(r) or r for r in pd.concat([g["reviewer_a"],
                                                                                            g["reviewer_b"]])))}
                 for p, g in pairs.groupby("paper_id", sort=False)]
    return {
        "score_svg": histogram_svg(a["score"].to_numpy(), title="Affinity of every assigned pair", xlabel="affinity",
                                   mark=data.weak_threshold, mark_label=f"weak < {data.weak_threshold:g}",
                                   prefix="scores"),
        "best_svg": histogram_svg(best["score"].to_numpy(), title="Best assigned reviewer per paper",
                                  xlabel="affinity", mark=data.weak_threshold,
                                  mark_label=f"weak < {data.weak_threshold:g}", prefix="best"),
        "load_svg": histogram_svg(all_loads.to_numpy(), title="Reviewer load", xlabel="papers per reviewer",
                                  bins=[x - 0.5 for x in range(0, max_load + 2)], prefix="load", whole_x=True),
        "n_pairs": len(a), "n_used": len(loads), "n_idle": int((all_loads == 0).sum()),
        "mean": float(a["score"].mean()), "median_best": float(best["score"].median()),
        "median_lowest": float(lowest.median()), "n_lowest_weak": int((lowest < data.weak_threshold).sum()),
        "weak": weak, "missing": missing, "want": want, "max_load": max_load,
        "coauthors": coauthors, "n_coauthor_pairs": len(pairs), "coauthors_checked": data.coauthor_pairs is not None,
        "reciprocal": [{"a": names.get(r.reviewer_a) or r.reviewer_a, "paper_a": r.paper_a,
                        "b": names.get(r.reviewer_b) or r.reviewer_b, "paper_b": r.paper_b}
                       for r in (data.reciprocal_pairs.itertuples(index=False)
                                 if data.reciprocal_pairs is not None else [])],
        "reciprocal_checked": data.reciprocal_pairs is not None,
        "rings": [[(names.get(getattr(r, f"reviewer_{x}")) or getattr(r, f"reviewer_{x}"), getattr(r, f"paper_{x}"))
                   for x in "abc"] for r in (data.review_rings.itertuples(index=False)
                                             if data.review_rings is not None else [])],
        "randomized": data.randomized,
        "reserve": None if data.reserve is None else [
            {"reviewer": names.get(r.reviewer_id) or r.reviewer_id, "load": int(r.load), "max_load": int(r.max_load),
             "papers": int(r.papers), "new": int(r.new_papers), "covered": int(r.covered)}
            for r in data.reserve.itertuples(index=False)],
        "n_papers": int(a["paper_id"].nunique()),
        "without_publications": _members(data, data.without_publications),
        "no_senior": _papers_without_senior(a, data, titles),
        "senior_needed": max(data.min_senior or 1, 1),
    }


def _papers_without_senior(a: pd.DataFrame, data: ReportData, titles: dict[str, str]) -> list[dict[str, Any]] | None:
    """The assigned papers with fewer senior reviewers than the match asked for (``min_senior``; else none), or None
    when the reviewers file marks no one senior."""
    revs = data.reviewers
    if revs is None or "senior" not in revs.columns or not revs["senior"].fillna(False).astype(bool).any():
        return None
    seniors = set(revs.loc[revs["senior"].fillna(False).astype(bool), "reviewer_id"])
    n = a.assign(_s=a["reviewer_id"].isin(seniors)).groupby("paper_id", sort=False)["_s"].sum()
    return [{"paper_id": pid, "title": titles.get(pid, "")} for pid in n.index[n.to_numpy() < (data.min_senior or 1)]]


def _members(data: ReportData, ids: list[str] | None) -> list[dict[str, str]] | None:
    """Reviewers by id, with their name and email from the reviewers file."""
    if ids is None:
        return None
    info = data.reviewers.set_index("reviewer_id") if data.reviewers is not None else pd.DataFrame()
    return [{"id": r, "name": str(info["name"].get(r, "")) if "name" in info else "",
             "email": str(info["email"].get(r, "")) if "email" in info else ""} for r in ids]


def reason_kind(reason: str) -> str:
    """The kind of a conflict reason, without its particulars: "co-author of A on 'T'" -> "co-author",
    "co-author may be A (initials: ...)" -> "co-author may be", "declared: same lab" -> "declared",
    "shared domain x.edu" -> "shared domain"."""
    if reason.strip().startswith("declared"):  # "declared: same lab", "declared conflict" (OpenReview's -1)
        return "declared"
    head = re.split(r"""[:('"]| of | on |(?<=^co-author may be) """, reason.strip(), maxsplit=1)[0]
    words = [w for w in head.split() if not re.search(r"[.@\d]", w)]
    return " ".join(words) or "unspecified"


# Where a pair's reasons are joined ("; "): before the start of a rule's reason or a declaration, so that a
# "; " inside a co-authored title or a declared reason does not count as a reason of its own.
_REASON_SEP = re.compile(r"; (?=reviewer (?:is|may be) an author|co-author |shared domain |declared)")


# The report lists conflicts one by one up to this many; conflicts.csv and the xlsx hold them all. At
# conference size (700,000 pairs for 12,000 papers) the full list made a report of hundreds of MB.
CONFLICT_LIST_LIMIT = 1000


def conflict_rows(conflicts: pd.DataFrame | None, titles: dict[str, str], names: dict[str, str], *,
                  n_reviewers: int = 0) -> dict[str, Any]:
    """The conflicts the report shows: how many, how many of each kind of reason, the papers with the most
    conflicted reviewers, and the pairs themselves, up to ``CONFLICT_LIST_LIMIT`` of them (then the uncertain
    name matches, "may be an author", first: those are the ones a chair checks by hand)."""
    if conflicts is None or not len(conflicts):
        return {"n": 0, "rows": [], "kinds": [], "papers": [], "declared": []}
    kinds: dict[str, int] = {}
    reasons = conflicts["reason"].fillna("").astype(str) if "reason" in conflicts.columns else [""] * len(conflicts)
    for reason in reasons:
        for part in _REASON_SEP.split(reason):
            kinds[reason_kind(part)] = kinds.get(reason_kind(part), 0) + 1
    rows = [{"paper_id": r["paper_id"], "title": titles.get(r["paper_id"], ""), "reviewer_id": r["reviewer_id"],
             "name": names.get(r["reviewer_id"], ""), "reason": r.get("reason", "")}
            for r in _first_conflicts(conflicts, CONFLICT_LIST_LIMIT).to_dict("records")]
    per_paper = conflicts.groupby("paper_id", sort=False).size().sort_values(ascending=False, kind="stable")
    papers = [{"paper_id": pid, "title": titles.get(pid, ""), "n": int(n),
               "share": n / n_reviewers if n_reviewers else None} for pid, n in per_paper.head(10).items()]
    declared = [{"kind": r.kind, "id": r.id, "n": int(r.declared),
                 "label": titles.get(r.id, "") if r.kind == "paper" else names.get(r.id, "")}
                for r in declared_outliers(conflicts).itertuples(index=False)]
    return {"n": len(conflicts), "rows": rows, "kinds": sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])),
            "papers": papers, "median_per_paper": float(per_paper.median()) if len(per_paper) else 0.0,
            "n_papers": len(per_paper), "declared": declared, "declared_limit": DECLARED_LIMIT}


def _first_conflicts(conflicts: pd.DataFrame, limit: int) -> pd.DataFrame:
    if len(conflicts) <= limit or "reason" not in conflicts.columns:
        return conflicts.head(limit)
    uncertain = conflicts["reason"].fillna("").astype(str).str.contains("may be", regex=False)
    return pd.concat([conflicts[uncertain], conflicts[~uncertain]]).head(limit)


def duplicate_rows(duplicates: pd.DataFrame | None, titles: dict[str, str]) -> list[dict[str, Any]]:
    """The first ``DUPLICATE_LIST_LIMIT`` pairs of duplicates.csv (most shared wording first, as written),
    with both titles."""
    if duplicates is None or not len(duplicates):
        return []
    rows = []
    for r in duplicates.astype(str).head(DUPLICATE_LIST_LIMIT).to_dict("records"):
        source = r.get("other_source", SUBMISSIONS)
        rows.append({"paper_id": r["paper_id"], "title": titles.get(r["paper_id"], ""), "other_id": r["other_id"],
                     "other_title": r.get("other_title") or (titles.get(r["other_id"], "") if source == SUBMISSIONS
                                                             else ""),
                     "source": "" if source == SUBMISSIONS else source, "overlap": float(r["text_overlap"]),
                     "reason": r["reason"], "shared": r["shared_authors"]})
    return rows


CHANGE_LIST_LIMIT = 1000  # removed and added pairs listed in the report; changes.csv has all


def screen_rows(screen: pd.DataFrame | None, titles: dict[str, str]) -> list[dict[str, str]]:
    """The first ``SCREEN_LIST_LIMIT`` findings, ``must`` first, each with its paper's title."""
    if screen is None or not len(screen):
        return []
    s = screen.fillna("").astype(str)
    s = pd.concat([s[s["severity"] == "must"], s[s["severity"] != "must"]]).head(SCREEN_LIST_LIMIT)
    return [{**r, "title": titles.get(r["paper_id"], "")} for r in s.to_dict("records")]


def change_summary(changes: pd.DataFrame | None) -> dict[str, Any] | None:
    """Counts by kind of change (kept, removed, added, papers withdrawn, reviewers dropped) and the first
    ``CHANGE_LIST_LIMIT`` rows that are not 'kept'."""
    if changes is None or not len(changes):
        return None
    c = changes.fillna("").astype(str)
    counts = c["change"].value_counts().to_dict()
    rows = c[c["change"] != "kept"].head(CHANGE_LIST_LIMIT).to_dict("records")
    return {"counts": counts, "rows": rows, "n_rows": int((c["change"] != "kept").sum())}


def summarizer_tag(summarizer: Any) -> str:
    """Who wrote a claim card, for its tag: ``LLM: model``, ``LLM: model; verbatim: claims`` (sections the
    model gave nothing usable for), ``verbatim`` (extractive) or ``verbatim (LLM fallback: reason)``."""
    s = "" if summarizer is None or (isinstance(summarizer, float) and pd.isna(summarizer)) else str(summarizer)
    if s.startswith("llm:"):
        model, _, kept = s[len("llm:"):].partition(" (extractive: ")
        return f"LLM: {model}" + (f"; verbatim: {kept.rstrip(')')}" if kept else "")
    if s.startswith("extractive (fallback: "):
        return f"verbatim (LLM fallback: {s[len('extractive (fallback: '):].rstrip(')')})"
    return "verbatim" if s == "extractive" else s


def build_cards(data: ReportData, table: pd.DataFrame, names: dict[str, str]) -> list[dict[str, Any]]:
    """Per-paper cards: the triage row plus claim lists and assigned reviewers."""
    summ = {} if data.summaries is None else {r["paper_id"]: r for r in data.summaries.to_dict("records")}
    by_paper: dict[str, list[dict[str, Any]]] = {}
    if data.assignments is not None:
        a = data.assignments.assign(rank=pd.to_numeric(data.assignments["rank"], errors="coerce"))
        for r in a.sort_values(["paper_id", "rank"], kind="stable").to_dict("records"):
            by_paper.setdefault(r["paper_id"], []).append(
                {"reviewer_id": r["reviewer_id"], "name": names.get(r["reviewer_id"], ""),
                 "score": float(r["score"]), "evidence_title": r.get("evidence_title", "")})
    want = data.per_paper or max((len(r) for r in by_paper.values()), default=0)  # as the short-staffed list
    cards = []
    for row in table.to_dict("records"):
        s = summ.get(row["paper_id"], {})
        revs = by_paper.get(row["paper_id"], [])
        best = max((r["score"] for r in revs), default=None)
        area = str(row.get("area", "") or "")
        cluster = str(row.get("cluster_id", ""))
        tldr = s.get("tldr", row.get("tldr", ""))
        cards.append({
            "paper_id": row["paper_id"], "title": row["title"], "tldr": tldr,
            "cluster": cluster, "cluster_label": row.get("cluster_label", ""), "area": area,
            "author_area": row.get("author_area", ""), "theory_topic": row.get("theory_topic", ""),
            "mismatch": _truthy(row.get("area_mismatch", False)),
            # The TL;DR is often also a claim or a result: the card shows it once.
            "claims": [x for x in _as_list(s.get("claims", row.get("claims", ""))) if x != tldr],
            "results": [x for x in _as_list(s.get("results", row.get("results", ""))) if x != tldr],
            "assumptions": _as_list(s.get("assumptions", row.get("assumptions", ""))),
            "summarizer": summarizer_tag(s.get("summarizer", row.get("summarizer", ""))),
            "reviewers": revs, "weak": best is not None and best < data.weak_threshold,
            "unassigned": data.assignments is not None and not revs,
            "short": data.assignments is not None and len(revs) < want, "want": want,
            "n_conflicts": row.get("n_conflicts", ""),
            "duplicates": _as_list(row.get("possible_duplicates", "")),
            "flags": [x for x in str(row.get("flags", "")).split("\n") if x],
        })
    return cards


LONG_WORD = re.compile(r"\S{30,}")


def breakable(text: object) -> Any:
    """``text`` escaped, with a line-break opportunity (``<wbr>``) every 20 characters of a word of 30 or more.

    A table cell is at least as wide as its longest word, so one 300-character title without a space (a URL, a
    formula pasted as text) widened its whole table past the window. Ordinary words are left whole.
    """
    from markupsafe import Markup, escape

    s = "" if text is None else str(text)
    out, at = [], 0
    for m in LONG_WORD.finditer(s):
        word = m.group()
        out += [escape(s[at:m.start()]), Markup("<wbr>").join(escape(word[i:i + 20]) for i in range(0, len(word), 20))]
        at = m.end()
    out.append(escape(s[at:]))
    return Markup("").join(out)


def render_report(data: ReportData) -> str:
    """The report as one HTML string (no network access needed to open it)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("triage", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["breakable"] = breakable
    env.filters["counted"] = lambda n, noun: f"{n} {noun}{'' if n == 1 else 's'}"  # 1 paper, 2 papers
    tpl = env.get_template("report.html.j2")
    table = build_triage_table(
        data.papers, topics=data.topics, summaries=data.summaries, assignments=data.assignments,
        conflicts=data.conflicts, reviewers=data.reviewers, weak_threshold=data.weak_threshold, screen=data.screen)
    titles = dict(zip(data.papers["paper_id"], data.papers["title"]))
    names = reviewer_names(data.reviewers)

    topic_svg, projection, map_note = "", "", "No embeddings for a map."
    clusters: list[dict[str, Any]] = []
    if data.topics is not None and len(data.topics) and "cluster_id" in data.topics.columns:
        t = data.topics.assign(cluster_id=pd.to_numeric(data.topics["cluster_id"], errors="coerce"))
        t = t[t["cluster_id"].notna()].assign(cluster_id=lambda d: d["cluster_id"].astype(int))
        g = t.groupby(["cluster_id", "cluster_label"]).size().reset_index(name="n").sort_values("cluster_id")
        colors = cluster_colors(int(g["cluster_id"].max()) + 1) if len(g) else []
        clusters = [{**r, "color": colors[r["cluster_id"]]} for r in g.to_dict("records")]
        if data.embeddings is not None and len(data.embeddings) == len(data.topics):
            topic_svg, projection = topic_map_svg(data.embeddings, data.topics)
            map_note = f"No map: it needs 3 submissions or more (this run has {len(data.topics)})."

    has_areas = "area" in table.columns and table["area"].astype(str).ne("").any()
    areas = area_counts(table).to_dict("records") if has_areas else []
    supply_head, supply = supply_rows(data.supply)
    conflicts = conflict_rows(data.conflicts, titles, names,
                              n_reviewers=0 if data.reviewers is None else len(data.reviewers))
    cards = build_cards(data, table, names)
    return tpl.render(
        d=data,
        n_papers=len(data.papers),
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        topic_svg=topic_svg,
        projection=projection,
        map_note=map_note,
        clusters=clusters,
        areas=areas,
        theory=theory_counts(table),
        mismatches=mismatch_rows(table),
        author_areas=("primary_area" in data.papers.columns
                      and data.papers["primary_area"].astype(str).str.strip().ne("").any()),
        supply_head=supply_head,
        supply=supply,
        n_short=sum(1 for r in supply if r["short"]),
        q=assignment_quality(data, titles, names),
        conflicts=conflicts,
        duplicates=duplicate_rows(data.duplicates, titles),
        screened=data.screen is not None,
        findings=screen_rows(data.screen, titles),
        n_findings=0 if data.screen is None else len(data.screen),
        n_flagged=0 if data.screen is None else data.screen["paper_id"].nunique(),
        changes=change_summary(data.changes),
        n_duplicates=0 if data.duplicates is None else len(data.duplicates),
        cards=cards,
        cluster_options=[(c["cluster_id"], c["cluster_label"]) for c in clusters],
        area_options=sorted({c["area"] for c in cards if c["area"]}),
    )
