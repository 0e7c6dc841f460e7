"""The chair's spreadsheets: triage.csv, triage.xlsx and one file per area or cluster."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from triage.errors import MissingArtifactError
from triage.export import (
    SplitBy,
    build_triage_table,
    header_for,
    split_table,
    spreadsheet,
    to_xlsx,
    workbook_tables,
)

runner = CliRunner()


def _papers() -> pd.DataFrame:
    return pd.DataFrame({
        "paper_id": ["p1", "p2", "p3"],
        "title": ["Bandits with knapsacks", "=HYPERLINK(\"http://x\")", "Kernel regime"],
        "abstract": ["a", "b", "c"],
        "keywords": [["bandits", "regret"], [], ["ntk"]],
        "primary_area": ["learning theory", "", "optimization"],
    })


def _assignments() -> pd.DataFrame:
    # p1: two reviewers (strong), p2: one weak reviewer, p3: none
    return pd.DataFrame({
        "paper_id": ["p1", "p1", "p2"], "reviewer_id": ["r2", "r1", "r1"],
        "score": ["0.61", "0.52", "0.20"], "rank": ["2", "1", "1"],
        "evidence_title": ["Knapsack paper", "Bandit paper", "Unrelated"],
    })


def test_table_one_row_per_paper_lists_flags_and_reviewers():
    topics = pd.DataFrame({"paper_id": ["p3", "p1", "p2"], "cluster_id": ["1", "0", "0"],
                           "cluster_label": ["kernel", "bandits", "bandits"], "area": ["opt", "theory", ""],
                           "area_top3": ['["opt", "theory", "rl"]', "theory; rl; opt", ""],
                           "area_mismatch": ["False", "True", "False"]})
    summaries = pd.DataFrame({"paper_id": ["p1", "p2", "p3"], "tldr": ["t1", "t2", "t3"],
                              "claims": [["We prove A.", "We show B; with C."], [], ["X."]],
                              "assumptions": [["convexity"], [], []],
                              "summarizer": ["llm:qwen-7b", "extractive", "extractive (fallback: timeout)"]})
    conflicts = pd.DataFrame({"paper_id": ["p1", "p1"], "reviewer_id": ["r3", "r4"], "reason": ["a", "b"]})
    reviewers = pd.DataFrame({"reviewer_id": ["r1", "r2"], "name": ["Ada Lovelace", ""]})
    t = build_triage_table(_papers(), topics=topics, summaries=summaries, assignments=_assignments(),
                           conflicts=conflicts, reviewers=reviewers, weak_threshold=0.35)
    assert t["paper_id"].tolist() == ["p1", "p2", "p3"]  # input order, not the topics order
    r = t.set_index("paper_id")
    assert r.loc["p1", "keywords"] == "bandits; regret"
    assert r.loc["p1", "claims"] == "We prove A.\nWe show B; with C."  # one per line: a claim may hold '; '
    assert r.loc["p1", "assumptions"] == "convexity"
    assert r.loc["p1", "summarizer"] == "llm:qwen-7b" and r.loc["p2", "summarizer"] == "extractive"
    cols = list(t.columns)
    assert cols[cols.index("tldr"):cols.index("summarizer") + 1] == ["tldr", "claims", "assumptions", "summarizer"]
    assert r.loc["p3", "area_top3"] == "opt; theory; rl"  # JSON list normalised
    assert r.loc["p1", "area_mismatch"] == "yes" and r.loc["p2", "area_mismatch"] == "no"
    assert r.loc["p1", "n_conflicts"] == 2 and r.loc["p3", "n_conflicts"] == 0
    # reviewers by rank, not by row order; names where known
    assert (r.loc["p1", "reviewer_1"], r.loc["p1", "reviewer_2"]) == ("r1", "r2")
    assert r.loc["p1", "reviewer_1_name"] == "Ada Lovelace" and r.loc["p1", "reviewer_2_name"] == ""
    assert r.loc["p1", "reviewer_1_score"] == pytest.approx(0.52)
    assert r.loc["p1", "best_score"] == pytest.approx(0.61)
    assert r.loc["p1", "n_reviewers"] == 2 and r.loc["p3", "n_reviewers"] == 0
    assert r[["weak_match"]].to_dict()["weak_match"] == {"p1": "no", "p2": "yes", "p3": "unassigned"}
    assert r.loc["p3", "reviewer_1"] == ""


def test_table_without_optional_stages_has_only_paper_columns():
    t = build_triage_table(_papers())
    assert list(t.columns) == ["paper_id", "title", "keywords", "author_area"]
    assert len(t) == 3


def test_spreadsheet_headers_are_readable_and_formulas_are_neutralised():
    t = build_triage_table(_papers(), assignments=_assignments())
    s = spreadsheet(t)
    assert s.columns[0] == "Paper ID"
    assert "Reviewer 1 score" in s.columns and "Weak match" in s.columns
    assert all("_" not in c for c in s.columns)
    assert len(set(s.columns)) == len(s.columns)
    assert s.loc[1, "Title"] == "'=HYPERLINK(\"http://x\")"
    assert s.loc[0, "Title"] == "Bandits with knapsacks"
    assert header_for("theory_score") == "Theory score"
    assert header_for("some_new_column") == "Some new column"
    assert spreadsheet(pd.DataFrame({"x": ["-0.5", "-lemma", "+1", "@me"]}))["X"].tolist() == [
        "-0.5", "'-lemma", "+1", "'@me"]


def test_xlsx_one_sheet_per_table_text_stays_text(tmp_path):
    from openpyxl import load_workbook

    papers = _papers()
    papers.loc[0, "title"] = "Bad\x01char " + "x" * 40_000
    papers.loc[2, "title"] = "#N/A"  # an Excel error code as text
    conflicts = pd.DataFrame({"paper_id": ["p1"], "reviewer_id": ["r3"], "reason": ["co-author (2023)"]})
    table = build_triage_table(papers, assignments=_assignments(), conflicts=conflicts)
    sheets = workbook_tables(table, papers, assignments=_assignments(), conflicts=conflicts)
    path = tmp_path / "t.xlsx"
    path.write_bytes(to_xlsx(sheets))
    wb = load_workbook(path)
    assert wb.sheetnames == ["Papers", "Assignments", "Reviewers", "Conflicts"]
    ws = wb["Papers"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["Paper ID", "Title"]
    title_col = header.index("Title") + 1
    assert ws.cell(3, title_col).value == "=HYPERLINK(\"http://x\")"  # as written: typed text needs no guard
    assert ws.cell(3, title_col).data_type == "s"  # never a formula
    assert ws.cell(4, title_col).value == "#N/A" and ws.cell(4, title_col).data_type == "s"  # nor an error value
    long = ws.cell(2, title_col).value
    assert long.startswith("Badchar ") and len(long) == 32_767
    assert ws.max_row == 4 and ws.freeze_panes == "A2"
    revs = pd.DataFrame(wb["Reviewers"].values)
    assert revs.iloc[1:, 2].tolist() == [2, 1] or sorted(revs.iloc[1:, 2].tolist()) == [1, 2]
    dups = pd.DataFrame({"paper_id": ["p3"], "other_id": ["old-9"], "other_source": ["iclr2024.csv"],
                         "other_title": ["Old"], "text_overlap": ["0.8100"], "similarity": ["0.9500"],
                         "shared_authors": [""], "reason": ["same wording"]})
    path.write_bytes(to_xlsx(workbook_tables(table, papers, duplicates=dups)))
    ws = load_workbook(path)["Duplicates"]
    assert [c.value for c in ws[1]][:5] == ["Paper ID", "Title", "Other paper", "Other paper's file",
                                            "Other paper's title"]
    assert ws.cell(2, 6).value == 0.81 and ws.cell(2, 2).value == "#N/A"  # p3, retitled above


def test_xlsx_stores_counts_and_scores_as_numbers_and_ids_as_text(tmp_path):
    """The stages' CSVs are read back as text; the workbook's counts and scores must sort and sum."""
    from openpyxl import load_workbook

    topics = pd.DataFrame({"paper_id": ["p1", "p2", "p3"], "cluster_id": ["10", "2", "2"],
                           "cluster_label": ["a", "b", "b"], "area": ["", "", ""], "area_score": ["0.51", "", "0.4"],
                           "theory_topic": ["ntk", "", ""], "theory_score": ["0.6", "0.1", "0.2"]})
    papers = _papers().assign(paper_id=["007", "p2", "p3"])
    table = build_triage_table(papers, topics=topics.assign(paper_id=["007", "p2", "p3"]))
    # A hand-edited topics.csv or supply table: values that are no numbers stay as they are, and stop nothing.
    topics.loc[2, "cluster_id"] = "n/a"
    topics = pd.concat([topics, topics.iloc[[1, 1]].assign(paper_id=["p8", "p9"], cluster_id=["inf", "2.5"])])
    supply = pd.DataFrame({"kind": ["area", "area"], "topic": ["theory", "x"], "submissions": ["12", "inf"],
                           "qualified_reviewers": ["3", "n/a"], "slots_needed": ["36", ""],
                           "slots_available": ["1354", "1"], "papers_short": ["4", "0"],
                           "shortage": ["True", "False"]})
    path = tmp_path / "t.xlsx"
    path.write_bytes(to_xlsx(workbook_tables(table, papers, topics=topics, supply=supply)))
    wb = load_workbook(path)
    assert "Areas" not in wb.sheetnames  # no paper has an area: no '(none)' row
    papers_sheet = pd.DataFrame(wb["Papers"].values)
    rows = {r[0]: dict(zip(papers_sheet.iloc[0], r)) for r in papers_sheet.iloc[1:].values}
    assert rows["007"]["Cluster"] == 10 and rows["p2"]["Cluster"] == 2
    assert rows["007"]["Area score"] == pytest.approx(0.51) and rows["p2"]["Area score"] in ("", None)
    assert rows["p3"]["Theory score"] == pytest.approx(0.2)
    ws = wb["Supply"]
    assert [c.value for c in ws[2]][2:] == [12, 3, 36, 1354, 4, "yes"]
    assert [c.value for c in ws[3]][2:] == ["inf", "n/a", None, 1, 0, "no"]
    assert [c.value for c in wb["Topics"][2]] == [2, "b", 1] and wb["Topics"].max_row == 3  # 'n/a' left out


def test_xlsx_table_longer_than_a_sheet_continues_on_the_next(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    import triage.export as E

    monkeypatch.setattr(E, "XLSX_MAX_ROWS", 4)  # Excel's is 1,048,576 (header included)
    conflicts = pd.DataFrame({"paper_id": [f"p{i}" for i in range(7)], "reviewer_id": "r1", "reason": "domain"})
    path = tmp_path / "t.xlsx"
    path.write_bytes(to_xlsx({"Conflicts": conflicts, "Empty": conflicts.iloc[:0]}))
    wb = load_workbook(path)
    assert wb.sheetnames == ["Conflicts", "Conflicts (2)", "Conflicts (3)", "Empty"]
    got = [r[0] for name in wb.sheetnames[:3] for r in wb[name].iter_rows(min_row=2, values_only=True)]
    assert got == [f"p{i}" for i in range(7)]
    assert [wb[n].max_row for n in wb.sheetnames] == [4, 4, 2, 1]
    assert wb["Conflicts (2)"]["A1"].value == "Paper ID" and wb["Conflicts (2)"].freeze_panes == "A2"
    assert wb["Conflicts"].auto_filter.ref == "A1:C4"


def test_split_by_area_falls_back_to_author_area_and_names_files():
    t = build_triage_table(_papers())
    groups = split_table(t, SplitBy.area)
    assert set(groups) == {"learning-theory", "optimization", "no-area"}
    assert sum(len(g) for g in groups.values()) == 3
    topics = pd.DataFrame({"paper_id": ["p1", "p2", "p3"], "cluster_id": ["0", "0", "1"],
                           "cluster_label": ["bandits, regret", "bandits, regret", "kernel"],
                           "area": ["Théorie / RL", "Théorie / RL", "theorie-rl"]})
    t2 = build_triage_table(_papers(), topics=topics)
    g2 = split_table(t2, SplitBy.area)
    assert sorted(g2) == ["theorie-rl", "theorie-rl-2"]  # two areas, one slug: both kept apart
    g3 = split_table(t2, SplitBy.cluster)
    assert sorted(g3) == ["cluster-00-bandits-regret", "cluster-01-kernel"]
    t3 = build_triage_table(_papers(), topics=topics.assign(cluster_id=["0", "inf", "1"]))  # a hand edit
    assert sorted(split_table(t3, SplitBy.cluster)) == ["cluster-00-bandits-regret", "cluster-01-kernel", "no-cluster"]
    assert g3["cluster-00-bandits-regret"]["paper_id"].tolist() == ["p1", "p2"]
    # Areas in other scripts keep their names (they all used to be 'none', 'none-2', ...).
    g4 = split_table(build_triage_table(_papers(), topics=topics.assign(area=["优化", "学习 理论", "---"])),
                     SplitBy.area)
    assert sorted(g4) == ["group", "优化", "学习-理论"]


def test_split_without_any_area_or_cluster_says_what_to_do():
    papers = _papers().assign(primary_area="")
    with pytest.raises(MissingArtifactError, match="--by cluster"):
        split_table(build_triage_table(papers), SplitBy.area)
    with pytest.raises(MissingArtifactError, match="triage topics"):
        split_table(build_triage_table(papers), SplitBy.cluster)


@pytest.mark.e2e
def test_export_cli_xlsx_and_per_cluster_files(demo_run, data_dir, tmp_path):
    from openpyxl import load_workbook

    from triage.cli import app

    out = tmp_path / "run"
    shutil.copytree(demo_run, out)
    subs = pd.read_csv(data_dir / "submissions.csv", keep_default_na=False)
    (out / "by_cluster").mkdir()
    (out / "by_cluster" / "cluster-99-gone.csv").write_text("stale\n")
    res = runner.invoke(app, ["export", str(data_dir / "submissions.csv"), "-r", str(data_dir / "reviewers.csv"),
                              "--format", "xlsx", "--by", "cluster", "-o", str(out)])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(out / "triage.csv", encoding="utf-8", keep_default_na=False)
    assert csv["Paper ID"].tolist() == subs["paper_id"].tolist()
    assert {"Title", "Cluster", "TL;DR", "Claims", "Summarizer", "Reviewer 1", "Reviewer 1 name",
            "Reviewer 1 score", "Best reviewer score", "Weak match"} <= set(csv.columns)
    assert set(csv["Summarizer"]) == {"extractive"}
    assert (csv["Reviewer 1 name"] != "").any()
    wb = load_workbook(out / "triage.xlsx", read_only=True)
    assert {"Papers", "Assignments", "Reviewers", "Conflicts", "Topics"} <= set(wb.sheetnames)
    parts = sorted((out / "by_cluster").glob("*.xlsx"))
    topics = pd.read_csv(out / "topics.csv")
    assert len(parts) == topics["cluster_id"].nunique()
    assert not (out / "by_cluster" / "cluster-99-gone.csv").exists()  # stale group removed
    ids = [pid for p in parts for pid in pd.read_excel(p)["Paper ID"]]
    assert sorted(ids) == sorted(subs["paper_id"])  # every paper in exactly one file


@pytest.mark.e2e
def test_export_cli_by_area(demo_run, data_dir, tmp_path):
    from triage.cli import app

    out = tmp_path / "run"
    shutil.copytree(demo_run, out)
    res = runner.invoke(app, ["export", str(data_dir / "submissions.csv"), "--by", "area", "-o", str(out)])
    topics = pd.read_csv(out / "topics.csv", keep_default_na=False)
    if "area" in topics.columns and (topics["area"] != "").any():
        assert res.exit_code == 0, res.output
        files = sorted((out / "by_area").glob("*.csv"))
        assert sum(len(pd.read_csv(f)) for f in files) == len(topics)
        assert len(files) == topics["area"].replace("", "no-area").nunique()
    else:  # no taxonomy in this run and no author areas in the test submissions
        assert res.exit_code == 1
        assert res.output.startswith("Error: ") and "--by cluster" in res.output and "Traceback" not in res.output


def test_export_cluster_split_without_topics_is_one_line_error(data_dir, tmp_path):
    from triage.cli import app

    out = str(tmp_path / "o")
    res = runner.invoke(app, ["summarize", str(data_dir / "submissions.csv"), "--centrality", "tfidf", "-o", out])
    assert res.exit_code == 0, res.output  # a run with claim cards but no topics
    res = runner.invoke(app, ["export", str(data_dir / "submissions.csv"), "--by", "cluster", "-o", out])
    assert res.exit_code == 1
    assert "Error: topics.csv: not found" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o" / "triage.csv").exists()  # all or nothing: no half-finished export


def test_reviewer_sheet_shows_the_load_limits_the_assignment_used():
    from triage.export import reviewer_table

    revs = pd.DataFrame({"reviewer_id": ["r1", "r2"], "name": ["A", "B"],
                         "max_load": pd.array([8, None], dtype="Int64"),
                         "min_load": pd.array([None, 1], dtype="Int64")})
    a = pd.DataFrame({"paper_id": ["p1", "p2", "p1"], "reviewer_id": ["r1", "r1", "r2"], "score": [0.5, 0.7, 0.4]})
    t = reviewer_table(a, revs, {"max_load": 6, "min_load": 0, "per_paper": 3})
    assert t["max_load"].tolist() == [8, 6] and t["min_load"].tolist() == [0, 1]
    assert t["load"].tolist() == [2, 1] and t["mean_score"].tolist() == pytest.approx([0.6, 0.4])
    bare = reviewer_table(a, revs)  # without the match stage's defaults: only the reviewers' own limits
    assert bare["max_load"].tolist() == [8, ""]
    capped = reviewer_table(a, revs.assign(max_load=pd.array([1, None], dtype="Int64")), {"max_load": 6, "min_load": 2})
    assert capped["min_load"].tolist() == [1, 1]  # a min_load above max_load is capped, as the assignment caps it


def test_the_column_lists_and_name_lookups_the_stages_share_are_defined_once():
    import triage.conflicts
    import triage.export
    import triage.ingest
    import triage.report

    assert triage.conflicts.CONFLICT_COLUMNS is triage.ingest.CONFLICT_COLUMNS
    assert triage.report.reviewer_names is triage.export.reviewer_names
    revs = pd.DataFrame({"reviewer_id": ["a", "b"], "name": ["Ada Lovelace", None]})
    assert triage.export.reviewer_names(revs) == {"a": "Ada Lovelace"} and triage.export.reviewer_names(None) == {}
