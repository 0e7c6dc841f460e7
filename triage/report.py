"""The chair's report: one self-contained HTML file (inline SVG plots, no network)."""

from __future__ import annotations

import datetime as _dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

WEAK_SCORE = 0.35  # see README "Outputs": below this best-assigned cosine, the match is weak


@dataclass
class ReportData:
    papers: pd.DataFrame
    table: pd.DataFrame
    embeddings: np.ndarray | None = None
    topics: pd.DataFrame | None = None
    assignments: pd.DataFrame | None = None
    conflicts: pd.DataFrame | None = None
    summaries: pd.DataFrame | None = None
    supply: pd.DataFrame | None = None
    n_reviewers: int = 0
    n_publications: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    notes: list[str] = field(default_factory=list)


def _svg(fig: Any) -> str:
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "triage"  # stable element ids
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})

    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text[text.find("<svg"):], flags=re.DOTALL)
    return text


def topic_map_svg(emb: np.ndarray, topics: pd.DataFrame) -> str:
    """2-D PCA of the submission embeddings, coloured by cluster, labelled at cluster centres."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    if len(emb) < 3:
        return ""
    xy = PCA(n_components=2, random_state=0).fit_transform(np.asarray(emb, dtype=np.float64))
    labels = topics["cluster_id"].astype(int).to_numpy()
    fig, ax = plt.subplots(figsize=(9, 6.5))
    cmap = plt.get_cmap("tab20")
    ax.scatter(xy[:, 0], xy[:, 1], c=[cmap(i % 20) for i in labels], s=10, alpha=0.75, linewidths=0)
    names = dict(zip(topics["cluster_id"].astype(int), topics["cluster_label"]))
    for c in sorted(set(labels.tolist())):
        cx, cy = np.median(xy[labels == c], axis=0)
        ax.annotate(f"{c}: {names[c][:28]}", (cx, cy), fontsize=7, ha="center",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.7, "lw": 0})
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Submissions by topic (PCA of embeddings)")
    return _svg(fig)


def histogram_svg(values: np.ndarray, *, title: str, xlabel: str, bins: int | list[float] = 20) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if len(values) == 0:
        return ""
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(values, bins=bins, color="#4c72b0")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    return _svg(fig)


def build_cards(data: ReportData) -> list[dict[str, Any]]:
    """Per-paper cards: the triage row plus claim lists and assigned reviewers."""
    summ = {} if data.summaries is None else {r["paper_id"]: r for r in data.summaries.to_dict("records")}
    by_paper: dict[str, list[dict[str, Any]]] = {}
    if data.assignments is not None:
        for r in data.assignments.to_dict("records"):
            by_paper.setdefault(r["paper_id"], []).append(r)
    cards = []
    for row in data.table.to_dict("records"):
        s = summ.get(row["paper_id"], {})
        cards.append({
            **row,
            "claims_list": list(s.get("claims", []) or []),
            "results_list": list(s.get("results", []) or []),
            "assumptions_list": list(s.get("assumptions", []) or []),
            "reviewers": by_paper.get(row["paper_id"], []),
        })
    return cards


def render_report(data: ReportData) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("triage", "templates"), autoescape=select_autoescape(["html", "j2"]))
    tpl = env.get_template("report.html.j2")
    topic_svg = ""
    clusters: list[dict[str, Any]] = []
    if data.topics is not None and len(data.topics) and data.embeddings is not None:
        topic_svg = topic_map_svg(data.embeddings, data.topics)
        g = data.topics.groupby(["cluster_id", "cluster_label"]).size().reset_index(name="n")
        g["cluster_id"] = g["cluster_id"].astype(int)
        clusters = g.sort_values("cluster_id").to_dict("records")
    score_svg = load_svg = ""
    weak: list[dict[str, Any]] = []
    unassigned: list[str] = []
    loads: pd.Series = pd.Series(dtype=int)
    if data.assignments is not None and len(data.assignments):
        a = data.assignments.assign(score=data.assignments["score"].astype(float))
        score_svg = histogram_svg(a["score"].to_numpy(), title="Assigned affinities", xlabel="affinity")
        loads = a.groupby("reviewer_id").size()
        load_svg = histogram_svg(loads.to_numpy(), title="Reviewer load", xlabel="papers per reviewer",
                                 bins=[x - 0.5 for x in range(0, int(loads.max()) + 2)])
        best = a.groupby("paper_id")["score"].max()
        titles = dict(zip(data.papers["paper_id"], data.papers["title"]))
        weak = [{"paper_id": p, "title": titles.get(p, ""), "score": s}
                for p, s in best[best < WEAK_SCORE].sort_values().items()]
        unassigned = sorted(set(data.papers["paper_id"]) - set(a["paper_id"]))
    cards = build_cards(data)
    return tpl.render(
        d=data,
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        topic_svg=topic_svg,
        clusters=clusters,
        score_svg=score_svg,
        load_svg=load_svg,
        weak=weak,
        weak_threshold=WEAK_SCORE,
        unassigned=unassigned,
        conflicts=[] if data.conflicts is None else data.conflicts.to_dict("records"),
        supply=[] if data.supply is None else data.supply.to_dict("records"),
        cards=cards,
        n_loads=len(loads),
    )
