"""Chair-facing tables: the one-row-per-paper spreadsheet and the formats OpenReview/CMT import."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from triage.choices import SplitBy
from triage.errors import MissingArtifactError
from triage.ingest import join_list

# Below this affinity, a paper's best assigned reviewer is a weak match. Measured with the default model and
# match parameters by bench/weak_threshold.py (COLT 2023 authors as the pool): 0.60 is below the 5th percentile
# (0.63) of the best reviewer of in-domain papers (COLT 2024), so few papers the pool can review are flagged,
# and above the median (0.56) of the best reviewer of off-domain papers (ICLR, not theory), so most papers the
# pool cannot review are. Rerun the benchmark when the affinity changes. See README, "The report".
WEAK_SCORE = 0.60

# Internal column -> spreadsheet header. Unknown columns (added by later stages) get a header made from
# their name ("area_score" -> "Area score").
HEADERS = {
    "paper_id": "Paper ID",
    "title": "Title",
    "keywords": "Keywords",
    "author_area": "Author area",
    "flags": "Flags",
    "cluster_id": "Cluster",
    "cluster_label": "Cluster terms",
    "area": "Area",
    "area_score": "Area score",
    "area_top3": "Area top 3",
    "area_mismatch": "Area mismatch",
    "theory_topic": "Theory topic",
    "theory_score": "Theory score",
    "tldr": "TL;DR",
    "claims": "Claims",
    "results": "Results",
    "assumptions": "Assumptions",
    "summarizer": "Summarizer",
    "n_conflicts": "Conflicts",
    "n_reviewers": "Reviewers assigned",
    "best_score": "Best reviewer score",
    "min_assigned_score": "Lowest reviewer score",
    "weak_match": "Weak match",
    "reviewer_id": "Reviewer ID",
    "reviewer_name": "Reviewer name",
    "name": "Name",
    "score": "Score",
    "rank": "Rank",
    "evidence_id": "Evidence ID",
    "evidence_title": "Evidence (reviewer's paper)",
    "reason": "Reason",
    "load": "Assigned papers",
    "max_load": "Max load",
    "min_load": "Min load",
    "mean_score": "Mean score",
    "papers": "Papers",
    "centroid_sim": "Similarity to centre",
    "possible_duplicates": "Possible duplicates",
    "other_id": "Other paper",
    "other_source": "Other paper's file",
    "other_title": "Other paper's title",
    "text_overlap": "Shared wording",
    "similarity": "Embedding similarity",
    "shared_authors": "Shared authors",
}
TOPIC_COLUMNS = ("cluster_id", "cluster_label", "area", "area_score", "area_top3", "area_mismatch", "theory_topic",
                 "theory_score", "possible_duplicates")
# Columns that hold numbers though the stages' CSVs are read back as text: a workbook stores them as numbers,
# so they sort and sum (ids stay text whatever they look like).
NUMBER_COLUMNS = ("cluster_id", "area_score", "theory_score", "centroid_sim", "submissions", "qualified_reviewers",
                  "slots_needed", "slots_available", "papers_short")
LIST_COLUMNS = ("claims", "results", "assumptions", "area_top3")
SENTENCE_COLUMNS = ("claims", "results")  # lists of sentences: one per line
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_CELL = 32_767
XLSX_MAX_ROWS = 1_048_576  # rows per sheet, header included


def join_sentences(items: list[str]) -> str:
    """Sentences one per line: a sentence may hold '; ' itself, so a '; '-joined list could not be split back
    (a spreadsheet shows the lines in one cell). A line break inside a sentence becomes a space."""
    return "\n".join(re.sub(r"\s*[\r\n]+\s*", " ", str(x)).strip() for x in items if str(x).strip())


def _joined(v: object, join: Callable[[list[str]], str] = join_list) -> str:
    """A list (or a JSON list in a string) as ``; ``-joined text (or as ``join`` writes it); other strings
    unchanged."""
    if isinstance(v, (list, tuple)):
        return join([str(x) for x in v if str(x)])
    if isinstance(v, str):
        s = v.strip()
        if s.startswith("[") and s.endswith("]"):
            try:
                parsed = json.loads(s)
            except ValueError:
                return v
            if isinstance(parsed, list):
                return join([str(x) for x in parsed if str(x)])
        return v
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)


def _flag(v: object) -> str:
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "y"):
        return "yes"
    if s in ("false", "0", "no", "n"):
        return "no"
    return ""


def build_triage_table(
    papers: pd.DataFrame,
    *,
    topics: pd.DataFrame | None = None,
    summaries: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
    conflicts: pd.DataFrame | None = None,
    reviewers: pd.DataFrame | None = None,
    weak_threshold: float = WEAK_SCORE,
    screen: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per paper, in input order; lists ``; ``-joined (claims and results one per line), flags ``yes``/``no``.

    The pre-screen's findings (``screen``, screen.csv) become ``flags``, one per line as ``severity: detail``.

    Topic columns (cluster, area, theory topic) are copied from ``topics`` when present, summary
    lists (claims, results, assumptions) and who wrote them (``summarizer``) from ``summaries``;
    reviewers become ``reviewer_1``, ``reviewer_1_name``, ``reviewer_1_score``, ``reviewer_1_evidence``,
    ... by rank.
    """
    out = papers[["paper_id", "title"]].copy().reset_index(drop=True)
    out["keywords"] = papers["keywords"].map(_joined).to_numpy() if "keywords" in papers else ""
    out["author_area"] = papers["primary_area"].fillna("").to_numpy() if "primary_area" in papers else ""
    if screen is not None:
        said = (screen["severity"] + ": " + screen["detail"]).groupby(screen["paper_id"]).agg(list)
        out["flags"] = [join_sentences(said.get(pid, [])) for pid in out["paper_id"]]
    if topics is not None and len(topics):
        cols = [c for c in TOPIC_COLUMNS if c in topics.columns]
        t = topics[["paper_id", *cols]].drop_duplicates("paper_id")
        out = out.merge(t, on="paper_id", how="left")
    if summaries is not None and len(summaries):
        cols = [c for c in ("tldr", "claims", "results", "assumptions", "summarizer") if c in summaries.columns]
        s = summaries[["paper_id", *cols]].drop_duplicates("paper_id").copy()
        out = out.merge(s, on="paper_id", how="left")
    for col in LIST_COLUMNS:
        if col in out.columns:
            join = join_sentences if col in SENTENCE_COLUMNS else join_list
            out[col] = [_joined(v, join) for v in out[col]]
    if "area_mismatch" in out.columns:
        out["area_mismatch"] = out["area_mismatch"].map(_flag)
    if conflicts is not None:
        n = conflicts.groupby("paper_id").size() if len(conflicts) else pd.Series(dtype=int)
        out["n_conflicts"] = out["paper_id"].map(n).fillna(0).astype(int)
    if assignments is not None:
        a = assignments.copy()
        a["rank"] = pd.to_numeric(a["rank"]).astype(int)
        a["score"] = pd.to_numeric(a["score"]).astype(float)
        names = reviewer_names(reviewers)
        per = a.groupby("paper_id")["score"]
        out["n_reviewers"] = out["paper_id"].map(per.size()).fillna(0).astype(int)
        out["best_score"] = out["paper_id"].map(per.max()).round(4)
        out["min_assigned_score"] = out["paper_id"].map(per.min()).round(4)
        # A paper with no reviewer is not a weak match but a missing one, as the report lists it apart.
        out["weak_match"] = [("unassigned" if pd.isna(b) else "yes" if b < weak_threshold else "no")
                             for b in out["best_score"]]
        wide: dict[str, pd.Series] = {}
        for r in sorted(a["rank"].unique()):
            sub = a[a["rank"] == r].drop_duplicates("paper_id").set_index("paper_id")
            wide[f"reviewer_{r}"] = sub["reviewer_id"]
            if names:
                wide[f"reviewer_{r}_name"] = sub["reviewer_id"].map(names).fillna("")
            wide[f"reviewer_{r}_score"] = sub["score"].round(4)
            wide[f"reviewer_{r}_evidence"] = sub["evidence_title"] if "evidence_title" in sub else ""
        if wide:
            w = pd.DataFrame(wide)
            w.index.name = "paper_id"
            out = out.merge(w.reset_index(), on="paper_id", how="left")
    return out.fillna("")


def reviewer_names(reviewers: pd.DataFrame | None) -> dict[str, str]:
    """reviewer_id -> name, for the reviewers that have one."""
    if reviewers is None or "name" not in reviewers.columns or not len(reviewers):
        return {}
    return {str(r): str(n) for r, n in zip(reviewers["reviewer_id"], reviewers["name"].fillna("")) if str(n)}


def header_for(col: str) -> str:
    """The spreadsheet header of an internal column name (``reviewer_2_score`` -> ``Reviewer 2 score``)."""
    if col in HEADERS:
        return HEADERS[col]
    m = re.fullmatch(r"reviewer_(\d+)(?:_(name|score|evidence))?", col)
    if m:
        return f"Reviewer {m.group(1)}" + (f" {m.group(2)}" if m.group(2) else "")
    words = col.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def guard_text(v: Any) -> Any:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        try:
            float(v)
        except ValueError:
            return "'" + v
    return v


def unguard_text(v: Any) -> Any:
    """The text :func:`guard_text` guarded, as it was (a table written for chairs, read back by triage)."""
    if isinstance(v, str) and v.startswith("'") and guard_text(v[1:]) == v:
        return v[1:]
    return v



def spreadsheet(df: pd.DataFrame, *, guard: bool = True) -> pd.DataFrame:
    """Readable headers, and (``guard``) text cells that cannot start a formula (=, +, -, @) when a CSV
    is opened in a spreadsheet. An xlsx needs no guard: its text cells are typed as text."""
    out = df.copy()
    for col in out.columns:
        if guard and not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(guard_text)
    headers = [header_for(c) for c in out.columns]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):
        seen[h] = seen.get(h, 0) + 1
        if seen[h] > 1:
            headers[i] = f"{h} ({seen[h]})"
    out.columns = headers
    return out


def reviewer_table(assignments: pd.DataFrame | None, reviewers: pd.DataFrame | None,
                   loads: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per reviewer: name, assigned papers, load limits and mean assigned score.

    ``loads`` (the match stage's ``max_load`` and ``min_load`` defaults) fills the limits of the
    reviewers without their own, so every row shows the limit the assignment used."""
    cols = ["reviewer_id", "name", "load", "max_load", "min_load", "mean_score"]
    if reviewers is None or not len(reviewers):
        if assignments is None or not len(assignments):
            return pd.DataFrame(columns=cols)
        reviewers = pd.DataFrame({"reviewer_id": sorted(assignments["reviewer_id"].unique())})
    out = pd.DataFrame({"reviewer_id": reviewers["reviewer_id"].astype(str).to_numpy()})
    for c in ("name", "max_load", "min_load"):
        out[c] = reviewers[c].to_numpy() if c in reviewers.columns else ""
        if c != "name" and (loads or {}).get(c) is not None:
            own = pd.to_numeric(pd.Series(out[c]), errors="coerce")
            out[c] = own.fillna(int(loads[c])).astype(int).to_numpy()
    if (loads or {}).get("max_load") is not None and (loads or {}).get("min_load") is not None:
        out["min_load"] = np.minimum(out["min_load"], out["max_load"])  # as the assignment caps it
    if assignments is not None and len(assignments):
        sc = pd.to_numeric(assignments["score"]).astype(float).groupby(assignments["reviewer_id"])
        out["load"] = out["reviewer_id"].map(sc.size()).fillna(0).astype(int)
        out["mean_score"] = out["reviewer_id"].map(sc.mean())
    else:
        out["load"] = 0
        out["mean_score"] = float("nan")
    return out[cols].fillna("")


def _titles(papers: pd.DataFrame) -> dict[str, str]:
    return dict(zip(papers["paper_id"], papers["title"]))


def workbook_tables(
    table: pd.DataFrame,
    papers: pd.DataFrame,
    *,
    topics: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
    conflicts: pd.DataFrame | None = None,
    reviewers: pd.DataFrame | None = None,
    supply: pd.DataFrame | None = None,
    loads: dict[str, Any] | None = None,
    duplicates: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The sheets of ``triage.xlsx``, in order; tables that a run did not make are left out."""
    titles = _titles(papers)
    names = reviewer_names(reviewers)
    sheets: dict[str, pd.DataFrame] = {"Papers": table}
    if assignments is not None and len(assignments):
        a = assignments.copy()
        a.insert(1, "title", a["paper_id"].map(titles).fillna(""))
        a.insert(3, "reviewer_name", a["reviewer_id"].map(names).fillna(""))
        a["score"] = pd.to_numeric(a["score"]).astype(float)
        a["rank"] = pd.to_numeric(a["rank"]).astype(int)
        sheets["Assignments"] = a
        sheets["Reviewers"] = reviewer_table(assignments, reviewers, loads)
    if conflicts is not None and len(conflicts):
        c = conflicts[["paper_id", "reviewer_id", "reason"]].copy()
        c.insert(1, "title", c["paper_id"].map(titles).fillna(""))
        c.insert(3, "reviewer_name", c["reviewer_id"].map(names).fillna(""))
        sheets["Conflicts"] = c
    if topics is not None and len(topics) and "cluster_id" in topics.columns:
        ids = pd.to_numeric(topics["cluster_id"], errors="coerce")  # a hand-edited topics.csv may hold '' or 'n/a'
        ok = np.isfinite(ids) & ids.eq(ids.round())
        g = (topics[ok].assign(cluster_id=ids[ok].astype(int))
             .groupby(["cluster_id", "cluster_label"]).size().reset_index(name="papers"))
        sheets["Topics"] = g.sort_values("cluster_id")
    if topics is not None and "area" in topics.columns and table["area"].ne("").any():  # no areas: no sheet
        counts = area_counts(table)
        if len(counts):
            sheets["Areas"] = counts
    if supply is not None and len(supply):
        sheets["Supply"] = supply
    if duplicates is not None and len(duplicates):
        d = duplicates.copy()
        d.insert(1, "title", d["paper_id"].map(titles).fillna(""))
        for col in ("text_overlap", "similarity"):
            d[col] = pd.to_numeric(d[col]).astype(float)
        sheets["Duplicates"] = d
    return sheets


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """``NUMBER_COLUMNS`` as numbers (a cell that is not one, e.g. an empty score, stays as it was) and the
    supply table's true/false ``shortage`` as the workbook's yes/no."""
    out = df.copy()
    for col in out.columns:
        if col in NUMBER_COLUMNS and not pd.api.types.is_numeric_dtype(out[col]):
            num = pd.to_numeric(out[col], errors="coerce")
            whole = not out[col].astype(str).str.contains(r"[.eE]").any()
            out[col] = [v if not np.isfinite(n) else (int(n) if whole else float(n)) for v, n in zip(out[col], num)]
        elif col == "shortage":
            out[col] = out[col].map(lambda v: "yes" if str(v).lower() == "true" else "no")
    return out


def area_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Papers per area, with how many of them the authors filed under another area (mismatch)."""
    if "area" not in table.columns:
        return pd.DataFrame(columns=["area", "papers", "area_mismatch"])
    t = table.assign(area=table["area"].replace("", "(none)"))
    mism = t["area_mismatch"].eq("yes") if "area_mismatch" in t.columns else pd.Series(False, index=t.index)
    g = t.assign(m=mism).groupby("area").agg(papers=("paper_id", "size"), area_mismatch=("m", "sum"))
    return g.reset_index().sort_values(["papers", "area"], ascending=[False, True]).reset_index(drop=True)


def _sheet_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "Sheet"
    out, i = base, 2
    while out.lower() in taken:
        suffix = f" ({i})"
        out, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(out.lower())
    return out


def to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An Excel workbook with one sheet per table: readable headers, frozen header row, filters.

    Text is stored as text (never as a formula, so ids such as ``-llS6TiOew`` stay exact), illegal
    control characters are dropped and cells are cut at Excel's 32,767-character limit. Rows are
    streamed (openpyxl's write-only mode), so memory and time grow linearly with the cells; a table
    longer than Excel's 1,048,576 rows continues on sheets named "... (2)", "... (3)".
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    taken: set[str] = set()
    bold, top = Font(bold=True), Alignment(wrap_text=True, vertical="top")

    def cell(ws: Any, v: Any) -> Any:
        if isinstance(v, str):
            v = ILLEGAL_CHARACTERS_RE.sub("", unicodedata.normalize("NFC", v))[:XLSX_MAX_CELL]
            if not v.startswith("=") and v not in ERROR_CODES:
                return v  # openpyxl types it as text
            c = WriteOnlyCell(ws, value=v)
            c.data_type = "s"  # text, though openpyxl would make it a formula or an error value
            return c
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return None
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, float):
            c = WriteOnlyCell(ws, value=v)
            c.number_format = "0.000"
            return c
        return v

    for name, df in sheets.items():
        frame = spreadsheet(_typed(df), guard=False)
        widths = []
        for h in frame.columns:
            col = frame[h]
            longest = max((len(v) for v in col if isinstance(v, str)), default=0)
            widths.append(min(max(len(str(h)), 6, longest), 60))
        for part in range(0, max(len(frame), 1), XLSX_MAX_ROWS - 1):
            rows = frame.iloc[part: part + XLSX_MAX_ROWS - 1]
            ws = wb.create_sheet(_sheet_name(name, taken))
            for j, w in enumerate(widths, start=1):
                ws.column_dimensions[get_column_letter(j)].width = w + 2
            ws.freeze_panes = "A2"
            if len(rows):
                ws.auto_filter.ref = f"A1:{get_column_letter(max(len(widths), 1))}{len(rows) + 1}"
            header = []
            for h in frame.columns:
                head = WriteOnlyCell(ws, value=str(h))
                head.font, head.alignment = bold, top
                header.append(head)
            ws.append(header)
            for values in rows.itertuples(index=False, name=None):
                ws.append([cell(ws, v) for v in values])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _slug(text: str, limit: int = 48) -> str:
    """A file name for a group: accents dropped, other scripts kept ('优化' stays '优化', not 'none')."""
    s = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    s = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFKC", s).lower()).strip("-")
    return s[:limit].rstrip("-") or "group"


def split_table(table: pd.DataFrame, by: SplitBy) -> dict[str, pd.DataFrame]:
    """Group the triage table for area chairs: file stem -> the rows of one area (or cluster).

    ``--by area`` uses the predicted area (``topics.csv`` column ``area``) and falls back to the
    area the authors chose (``primary_area``); papers without one go to ``no-area``.
    """
    if by is SplitBy.cluster:
        if "cluster_id" not in table.columns:
            raise MissingArtifactError("topics.csv: not found; run 'triage topics' (or 'triage run') before "
                                       "'triage export --by cluster'")
        ids = pd.to_numeric(table["cluster_id"], errors="coerce")
        ids = ids.where(np.isfinite(ids) & ids.eq(ids.round()))  # 'inf' or '2.5' (a hand edit) is no cluster id
        width = max(2, len(str(int(ids.max())))) if ids.notna().any() else 2
        groups: dict[str, pd.DataFrame] = {}
        for cid, sub in table.groupby(ids, sort=True):
            label = str(sub["cluster_label"].iloc[0]) if "cluster_label" in sub else ""
            groups[f"cluster-{int(cid):0{width}d}-{_slug(label, 40)}".rstrip("-")] = sub
        missing = table[ids.isna()]
        if len(missing):
            groups["no-cluster"] = missing
        return groups
    col = next((c for c in ("area", "author_area") if c in table.columns and table[c].astype(str).ne("").any()),
               None)
    if col is None:
        raise MissingArtifactError("no area for any paper: no areas were suggested (topics.csv is missing, or was "
                                   "made with --taxonomy none) and the submissions have no 'primary_area'; run "
                                   "'triage topics' (or 'triage run') with a --taxonomy first, or use 'triage export "
                                   "--by cluster'")
    groups = {}
    taken: set[str] = set()
    for area, sub in table.groupby(table[col].astype(str), sort=True):
        stem = _slug(area) if area else "no-area"
        base, i = stem, 2
        while stem in taken:
            stem, i = f"{base}-{i}", i + 1
        taken.add(stem)
        groups[stem] = sub
    return groups


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


def openreview_max_papers(reviewers: pd.DataFrame, default: int) -> pd.DataFrame:
    """Headerless ``user,max`` for the OpenReview matcher's ``--max_papers``: every reviewer's load,
    their own ``max_load`` where the reviewers file gives one, else the run's default."""
    mx = reviewers["max_load"].astype("Int64").fillna(default).astype(int)
    return pd.DataFrame({"reviewer_id": reviewers["reviewer_id"], "max_papers": mx})


def cmt_scores(affinity: pd.DataFrame, reviewers: pd.DataFrame) -> pd.DataFrame:
    """``paper_id,reviewer_email,score`` for CMT; reviewers without an email keep their id. Scores are put in
    CMT's range [0, 1]: a blended score above 1 (a very close match, see README) is written as 1."""
    email = dict(zip(reviewers["reviewer_id"], reviewers["email"]))
    out = pd.DataFrame({
        "paper_id": affinity["paper_id"],
        "reviewer_email": [email.get(r) or r for r in affinity["reviewer_id"]],
        "score": affinity["score"].astype(float).clip(lower=0.0, upper=1.0).round(4),
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


def hotcrp_assignments(assignments: pd.DataFrame, reviewers: pd.DataFrame, action: str = "primary") -> pd.DataFrame:
    """HotCRP's bulk assignment upload: ``paper,action,email`` (header included), one row per pair; every
    review is ``primary`` (change the action column in a spreadsheet for secondary reviews)."""
    email = dict(zip(reviewers["reviewer_id"], reviewers["email"]))
    return pd.DataFrame({"paper": assignments["paper_id"], "action": action,
                         "email": [email.get(r) or r for r in assignments["reviewer_id"]]})


def start_upload(assignments: pd.DataFrame) -> str:
    """START (softconf) assignment upload: one line per paper, ``sid:user1:user2:user3`` in rank order."""
    a = assignments.assign(_rank=pd.to_numeric(assignments["rank"]))
    lines = [f"{pid}:" + ":".join(g.sort_values("_rank", kind="stable")["reviewer_id"])
             for pid, g in a.groupby("paper_id", sort=False)]
    return "\n".join(lines) + ("\n" if lines else "")
