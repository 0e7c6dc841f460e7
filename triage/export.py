"""Chair-facing tables: the one-row-per-paper spreadsheet and the formats OpenReview/CMT import."""

from __future__ import annotations

import pandas as pd

from triage.ingest import join_list


def _as_list(v: object) -> list[str]:
    if isinstance(v, list):
        return [str(x) for x in v]
    if isinstance(v, str) and v:
        return [x for x in v.split("\n") if x]
    return []


def build_triage_table(
    papers: pd.DataFrame,
    *,
    topics: pd.DataFrame | None = None,
    summaries: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
    conflicts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per paper, lists ``; ``-joined, reviewers as ``reviewer_1, reviewer_1_score, ...``."""
    out = papers[["paper_id", "title"]].copy()
    out["keywords"] = papers["keywords"].map(join_list)
    out["author_area"] = papers["primary_area"]
    if topics is not None and len(topics):
        cols = [c for c in ("cluster_id", "cluster_label", "area", "area_top3", "area_mismatch", "theory_topic")
                if c in topics.columns]
        out = out.merge(topics[["paper_id", *cols]], on="paper_id", how="left")
    if summaries is not None and len(summaries):
        s = summaries[["paper_id", "tldr", "claims"]].copy()
        s["claims"] = s["claims"].map(lambda v: join_list(_as_list(v)))
        for extra in ("results", "assumptions"):
            if extra in summaries.columns:
                s[extra] = summaries[extra].map(lambda v: join_list(_as_list(v)))
        out = out.merge(s, on="paper_id", how="left")
    if conflicts is not None:
        n = conflicts.groupby("paper_id").size() if len(conflicts) else pd.Series(dtype=int)
        out["n_conflicts"] = out["paper_id"].map(n).fillna(0).astype(int)
    if assignments is not None and len(assignments):
        a = assignments.copy()
        a["rank"] = a["rank"].astype(int)
        wide = {}
        for r in sorted(a["rank"].unique()):
            sub = a[a["rank"] == r].set_index("paper_id")
            wide[f"reviewer_{r}"] = sub["reviewer_id"]
            wide[f"reviewer_{r}_score"] = sub["score"].astype(float)
            wide[f"reviewer_{r}_evidence"] = sub["evidence_title"]
        w = pd.DataFrame(wide)
        w.index.name = "paper_id"
        out = out.merge(w.reset_index(), on="paper_id", how="left")
        out["min_assigned_score"] = out["paper_id"].map(a.groupby("paper_id")["score"].apply(
            lambda s: s.astype(float).min()))
    return out.fillna("")


def openreview_affinity(affinity: pd.DataFrame) -> pd.DataFrame:
    """Headerless ``paper_id,reviewer_id,score`` with scores clamped to >= 0 (OpenReview upload)."""
    out = affinity[["paper_id", "reviewer_id"]].copy()
    out["score"] = affinity["score"].astype(float).clip(lower=0.0).round(4)
    return out


def openreview_constraints(conflicts: pd.DataFrame) -> pd.DataFrame:
    """Headerless ``paper,user,-1`` conflict constraints for the OpenReview matcher."""
    out = conflicts[["paper_id", "reviewer_id"]].copy()
    out["constraint"] = -1
    return out


def cmt_scores(affinity: pd.DataFrame, reviewers: pd.DataFrame) -> pd.DataFrame:
    """``paper_id,reviewer_email,score`` for CMT; reviewers without an email keep their id."""
    email = dict(zip(reviewers["reviewer_id"], reviewers["email"]))
    out = pd.DataFrame({
        "paper_id": affinity["paper_id"],
        "reviewer_email": [email.get(r) or r for r in affinity["reviewer_id"]],
        "score": affinity["score"].astype(float).clip(lower=0.0).round(4),
    })
    return out


def cmt_assignments_xml(assignments: pd.DataFrame, reviewers: pd.DataFrame) -> str:
    """CMT's reviewer-assignment import: ``<submission submissionId=..><user email=.. /></submission>``."""
    from xml.sax.saxutils import quoteattr

    email = dict(zip(reviewers["reviewer_id"], reviewers["email"]))
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<assignments>"]
    for pid, grp in assignments.groupby("paper_id", sort=False):
        lines.append(f"  <submission submissionId={quoteattr(str(pid))}>")
        for rid in grp["reviewer_id"]:
            lines.append(f"    <user email={quoteattr(email.get(rid) or rid)} />")
        lines.append("  </submission>")
    lines.append("</assignments>")
    return "\n".join(lines) + "\n"
