"""Incremental reruns: keep an earlier assignment where it is still feasible and say what changed.

An earlier (paper, reviewer) pair is kept when the paper is still submitted, the reviewer is
still in the pool (and has publications), the pair has no conflict now, it is still among
the paper's candidates, and it fits in ``--per-paper`` and the reviewer's ``max_load``
(when a paper or a reviewer has more earlier pairs than that now allows, the best-scoring are
kept). The kept pairs are passed to :func:`triage.assign.assign` as ``fixed``; the solver fills
the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from triage.assign import AssignParams

CHANGE_COLUMNS = ["change", "paper_id", "reviewer_id", "detail"]
WITHDRAWN = "paper withdrawn"
DROPPED = "reviewer dropped"
_ORDER = {WITHDRAWN: 0, DROPPED: 1, "removed": 2, "added": 3, "kept": 4}


@dataclass
class KeepPlan:
    fixed: pd.DataFrame  # paper_id, reviewer_id: earlier pairs still feasible on their own
    dropped: pd.DataFrame  # paper_id, reviewer_id, reason: earlier pairs that cannot be kept


def _key(df: pd.DataFrame) -> pd.Series:
    return df["paper_id"].astype(str) + "\x00" + df["reviewer_id"].astype(str)


def plan_keep(previous: pd.DataFrame, papers: pd.DataFrame, reviewers: pd.DataFrame, conflicts: pd.DataFrame,
              affinity: pd.DataFrame, *, params: AssignParams = AssignParams()) -> KeepPlan:
    """Split the earlier pairs into those to keep and those that cannot be kept (with the reason)."""
    prev = previous[["paper_id", "reviewer_id"]].reset_index(drop=True)
    reason = pd.Series("", index=prev.index, dtype=object)
    reason[~prev["paper_id"].isin(set(papers["paper_id"]))] = WITHDRAWN
    reason[(reason == "") & ~prev["reviewer_id"].isin(set(reviewers["reviewer_id"]))] = DROPPED
    if len(conflicts):
        why = dict(zip(_key(conflicts), conflicts["reason"]))
        hit = _key(prev).map(why)
        new_conflict = (reason == "") & hit.notna()
        reason[new_conflict] = "conflict now: " + hit[new_conflict].astype(str)
    cand = set(_key(affinity))
    reason[(reason == "") & ~_key(prev).isin(cand)] = \
        "no affinity score now (the reviewer has no publication in the selected profile)"
    # Over --per-paper or a lower max_load now: the best-scoring earlier pairs stay (file order breaks ties).
    score = _key(prev).map(dict(zip(_key(affinity), affinity["score"]))).astype(float)
    best_first = prev.assign(_s=score).sort_values("_s", ascending=False, kind="stable")
    ok = reason == ""
    rank = best_first[ok[best_first.index]].groupby("paper_id").cumcount().reindex(prev.index, fill_value=0)
    over_k = ok & (rank >= params.per_paper)
    reason[over_k] = f"more than --per-paper {params.per_paper} earlier reviewers"
    ok = reason == ""
    cap = dict(zip(reviewers["reviewer_id"],
                   reviewers["max_load"].astype("Int64").fillna(params.max_load).to_numpy(dtype=np.int64)))
    used = best_first[ok[best_first.index]].groupby("reviewer_id").cumcount().reindex(prev.index, fill_value=0)
    over_load = ok & (used >= prev["reviewer_id"].map(cap).fillna(0))
    reason[over_load] = "over the reviewer's max_load now"
    keep = reason == ""
    dropped = prev[~keep].assign(reason=reason[~keep]).reset_index(drop=True)
    return KeepPlan(fixed=prev[keep].reset_index(drop=True), dropped=dropped)


def describe_changes(previous: pd.DataFrame, plan: KeepPlan, assignments: pd.DataFrame,
                     papers: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The changes table (``change, paper_id, reviewer_id, detail``) and a few summary lines."""
    prev = previous[["paper_id", "reviewer_id"]]
    new = assignments[["paper_id", "reviewer_id"]]
    prev_keys, new_keys = set(_key(prev)), set(_key(new))
    why = dict(zip(_key(plan.dropped), plan.dropped["reason"]))
    withdrawn = sorted(set(prev["paper_id"]) - set(papers["paper_id"]))
    dropped_revs = sorted(set(plan.dropped.loc[plan.dropped["reason"] == DROPPED, "reviewer_id"]))
    earlier_papers = set(prev["paper_id"])
    rows: list[dict[str, str]] = []
    rows += [{"change": WITHDRAWN, "paper_id": p, "reviewer_id": "", "detail": "not in the submissions now"}
             for p in withdrawn]
    rows += [{"change": DROPPED, "paper_id": "", "reviewer_id": r,
              "detail": "not in the reviewer pool now (or has no publications)"} for r in dropped_revs]
    for p, r, k in zip(prev["paper_id"], prev["reviewer_id"], _key(prev)):
        if k in new_keys:
            rows.append({"change": "kept", "paper_id": p, "reviewer_id": r, "detail": ""})
        else:
            rows.append({"change": "removed", "paper_id": p, "reviewer_id": r,
                         "detail": why.get(k, "re-solved: needed to complete the assignment")})
    for p, r, k in zip(new["paper_id"], new["reviewer_id"], _key(new)):
        if k not in prev_keys:
            detail = "re-solved" if p in earlier_papers else "new paper"
            rows.append({"change": "added", "paper_id": p, "reviewer_id": r, "detail": detail})
    changes = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    changes = changes.assign(_o=changes["change"].map(_ORDER)).sort_values(
        ["_o", "paper_id", "reviewer_id"], kind="stable")[CHANGE_COLUMNS].reset_index(drop=True)
    n_kept = int((changes["change"] == "kept").sum())
    n_removed = int((changes["change"] == "removed").sum())
    n_added = int((changes["change"] == "added").sum())
    new_papers = sorted(set(papers["paper_id"]) - earlier_papers)
    lines = [f"kept {n_kept} of {len(prev)} earlier assignment(s); removed {n_removed}, added {n_added}; "
             f"{len(withdrawn)} paper(s) withdrawn, {len(dropped_revs)} reviewer(s) dropped, "
             f"{len(new_papers)} new paper(s)"]
    if withdrawn:
        lines.append("papers withdrawn: " + _some(withdrawn))
    if dropped_revs:
        lines.append("reviewers dropped: " + _some(dropped_revs))
    return changes, lines


def _some(ids: list[str], n: int = 10) -> str:
    return ", ".join(ids[:n]) + (f" and {len(ids) - n} more" if len(ids) > n else "")
