"""The outputs of one run agree with each other, as a chair relies on them: assignments, conflicts, loads, the
upload files, triage.csv, the report, `triage status --json` and the evidence; after a rerun with late papers,
withdrawals and a reviewer's changed publications too."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA, FakeEmbedder
from typer.testing import CliRunner

from triage.assign import coauthor_pairs
from triage.cli import app
from triage.conflicts import reviewer_coauthors
from triage.export import unguard_text

runner = CliRunner()
FORMATS = ["--export-format", "openreview", "--export-format", "cmt", "--export-format", "hotcrp",
           "--export-format", "start"]


@pytest.fixture
def fake_model(monkeypatch):
    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: FakeEmbedder())


def conference(folder: Path) -> Path:
    """tests/data with what a real pool has: emails (not for all), senior reviewers, loads, publication years,
    declared conflicts and bids."""
    folder.mkdir()
    subs = pd.read_csv(DATA / "submissions.csv", dtype=str, keep_default_na=False)
    subs.to_csv(folder / "submissions.csv", index=False)
    revs = pd.read_csv(DATA / "reviewers.csv", dtype=str, keep_default_na=False)
    n = len(revs)
    revs["email"] = [f"r{i}@univ{i % 9}.edu" if i % 10 else "" for i in range(n)]
    revs["senior"] = ["yes" if i % 3 == 0 else "no" for i in range(n)]
    revs["max_load"] = ["2" if i % 7 == 0 else m for i, m in enumerate(revs["max_load"])]
    revs.to_csv(folder / "reviewers.csv", index=False)
    pubs = pd.read_csv(DATA / "publications.csv", dtype=str, keep_default_na=False)
    pubs["year"] = [str(2015 + i % 10) for i in range(len(pubs))]
    pubs.to_csv(folder / "publications.csv", index=False)
    pd.DataFrame({"paper_id": subs["paper_id"].iloc[::8].to_numpy(),
                  "reviewer_id": revs["reviewer_id"].iloc[1::15].to_numpy()[:len(subs["paper_id"].iloc[::8])],
                  "reason": "declared: same lab"}).to_csv(folder / "conflicts.csv", index=False)
    levels = ["Very High", "High", "Low", "Very Low"]
    pd.DataFrame([{"paper_id": subs["paper_id"].iloc[(3 * i + j) % len(subs)], "reviewer_id": r,
                   "bid": levels[(i + j) % 4]} for i, r in enumerate(revs["reviewer_id"].iloc[::4]) for j in range(3)]
                 ).to_csv(folder / "bids.csv", index=False)
    return folder


def run(conf: Path, out: Path, *extra: str):
    res = runner.invoke(app, ["run", str(conf / "submissions.csv"), "-p", str(conf / "publications.csv"),
                              "-r", str(conf / "reviewers.csv"), "-c", str(conf / "conflicts.csv"),
                              "--bids", str(conf / "bids.csv"), "--taxonomy", "none", "--theory", "none",
                              *FORMATS, *extra, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return res


def headerless(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, header=None, dtype=str, keep_default_na=False)


def check_outputs(conf: Path, out: Path, *, per_paper: int, max_load: int) -> None:
    """Every invariant a chair relies on, across every file of the run in ``out``."""
    read = lambda name: pd.read_csv(out / name, dtype=str, keep_default_na=False)  # noqa: E731
    a, confl, aff, topics = read("assignments.csv"), read("conflicts.csv"), read("affinity.csv"), read("topics.csv")
    revs = pd.read_csv(conf / "reviewers.csv", dtype=str, keep_default_na=False)
    pubs = pd.read_csv(conf / "publications.csv", dtype=str, keep_default_na=False)
    pairs = set(zip(a["paper_id"], a["reviewer_id"]))
    assert len(pairs) == len(a)
    assert not pairs & set(zip(confl["paper_id"], confl["reviewer_id"]))  # no assigned pair is in conflict
    # Every paper has its reviewers (an assignment that cannot give them stops the run); no reviewer is over quota.
    assert a.groupby("paper_id").size().to_dict() == dict.fromkeys(topics["paper_id"], per_paper)
    cap = {r: int(m) if m else max_load for r, m in zip(revs["reviewer_id"], revs["max_load"])}
    assert all(n <= cap[r] for r, n in a["reviewer_id"].value_counts().items())
    # Scores and evidence: each assigned pair is scored in affinity.csv, its evidence one of the reviewer's papers.
    scored = {(p, r): (s, e) for p, r, s, e in zip(aff["paper_id"], aff["reviewer_id"], aff["score"],
                                                     aff["evidence_title"])}
    assert all(scored[p, r] == (s, e) for p, r, s, e in zip(a["paper_id"], a["reviewer_id"], a["score"],
                                                             a["evidence_title"]))
    written = set(zip(pubs["reviewer_id"], pubs["title"]))
    assert all((r, e) in written for r, e in zip(aff["reviewer_id"], aff["evidence_title"]))
    # The upload files: OpenReview's scores and constraints, CMT's, HotCRP's and START's assignment.
    email = {r: e or r for r, e in zip(revs["reviewer_id"], revs["email"])}
    by_email = {(p, email[r]) for p, r in pairs}
    o = headerless(out / "openreview_affinity.csv")
    assert set(zip(o[0], o[1])) == set(scored) and pairs <= set(zip(o[0], o[1]))
    assert set(zip(*headerless(out / "openreview_constraints.csv").to_numpy().T)) == {
        (p, r, "-1") for p, r in zip(confl["paper_id"], confl["reviewer_id"])}
    assert dict(headerless(out / "openreview_max_papers.csv").to_numpy()) == {r: str(m) for r, m in cap.items()}
    root = ET.parse(out / "cmt_assignments.xml").getroot()
    assert {(s.get("submissionId"), u.get("email")) for s in root.iter("submission") for u in s.iter("user")} \
        == by_email and len(list(root.iter("user"))) == len(a)
    c = headerless(out / "cmt_scores.csv")
    assert set(zip(c[0], c[1])) == {(p, email[r]) for p, r in scored} and by_email <= set(zip(c[0], c[1]))
    h = read("hotcrp_assignments.csv")
    assert list(h.columns) == ["paper", "action", "email"] and sorted(zip(h["paper"], h["email"])) == sorted(by_email)
    ranked = a.assign(rank=a["rank"].astype(int)).sort_values(["paper_id", "rank"])
    start = dict(line.split(":", 1) for line in (out / "start_assignments.txt").read_text().splitlines())
    assert start == {p: ":".join(g["reviewer_id"]) for p, g in ranked.groupby("paper_id")}
    # triage.csv's reviewer columns are the assignment, rank by rank.
    t = read("triage.csv").map(unguard_text)
    assert t["Paper ID"].tolist() == topics["paper_id"].tolist()
    wide = {(p, r, i, float(s), e) for i in range(1, per_paper + 1) for p, r, s, e in zip(
        t["Paper ID"], t[f"Reviewer {i}"], t[f"Reviewer {i} score"], t[f"Reviewer {i} evidence"])}
    assert wide == {(p, r, int(k), float(s), e) for p, r, s, k, e in zip(
        a["paper_id"], a["reviewer_id"], a["score"], a["rank"], a["evidence_title"])}
    # `triage status --json` and the report say what the files hold.
    status = runner.invoke(app, ["status", "-o", str(out), "--json"])
    stages = json.loads(status.stdout)["stages"]
    assert all(rec["state"]["ok"] for rec in stages.values())
    stats = stages["match"]["stats"]
    assert stats["conflicts"] == len(confl) and stats["affinity_rows"] == len(aff)
    assert stats["total_score"] == pytest.approx(a["score"].astype(float).sum(), abs=1e-3)
    left = len(coauthor_pairs(a, reviewer_coauthors(pubs)))
    assert stats["coauthor_pairs_left"] == left
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (out / "report.html").read_text(encoding="utf-8")))
    said = {"assigned pairs": len(a), "reviewers used": a["reviewer_id"].nunique(),
            "reviewers given no paper": len(set(revs["reviewer_id"]) - set(a["reviewer_id"])),
            "conflicts found": len(confl), "weak matches": int((t["Weak match"] == "yes").sum()),
            "papers short of reviewers": 0}
    assert {k: int(re.search(rf"(\d+) {k}", text).group(1)) for k in said} == said
    if left:
        assert f"Co-authors reviewing one paper ({left} pairs" in text


@pytest.mark.parametrize("options, per_paper, max_load", [
    ((), 3, 6),
    (("--per-paper", "2", "--max-load", "3", "--min-senior", "2", "--reserve", "5", "--recent", "1"), 2, 3),
    (("--max-probability", "0.5", "--seed", "3", "--since", "2018", "--max-load", "8"), 3, 8),
])
def test_the_outputs_of_a_run_agree(fake_model, tmp_path, options, per_paper, max_load):
    conf = conference(tmp_path / "conf")
    run(conf, tmp_path / "out", *options)
    check_outputs(conf, tmp_path / "out", per_paper=per_paper, max_load=max_load)


def test_the_outputs_agree_after_late_papers_withdrawals_and_a_changed_profile(fake_model, tmp_path):
    conf, out = conference(tmp_path / "conf"), tmp_path / "out"
    run(conf, out)
    previous = pd.read_csv(out / "assignments.csv", dtype=str)
    subs = pd.read_csv(conf / "submissions.csv", dtype=str, keep_default_na=False)
    withdrawn = subs["paper_id"].iloc[[4, 9]].tolist()
    late = subs.iloc[:3].assign(paper_id=["late/1", "late/2", "late/3"], title=lambda d: d["title"] + " (late)",
                                abstract=lambda d: "Late version. " + d["abstract"])
    subs = pd.concat([subs.assign(status=["withdrawn" if p in withdrawn else "" for p in subs["paper_id"]]),
                      late.assign(status="")])
    subs.to_csv(conf / "submissions.csv", index=False)
    pubs = pd.read_csv(conf / "publications.csv", dtype=str, keep_default_na=False)
    pubs.loc[0, "abstract"] += " We also study spectral methods for sparse graphs."
    pubs.to_csv(conf / "publications.csv", index=False)
    (tmp_path / "previous.csv").write_bytes((out / "assignments.csv").read_bytes())
    res = run(conf, out, "--keep-assignments", str(tmp_path / "previous.csv"))
    check_outputs(conf, out, per_paper=3, max_load=6)
    embedded = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["embed"]["stats"]
    assert (embedded["papers"]["embedded"], embedded["publications"]["embedded"]) == (3, 1)  # only changed texts
    changes = pd.read_csv(out / "changes.csv", dtype=str, keep_default_na=False)
    assert sorted(changes.loc[changes["change"] == "paper withdrawn", "paper_id"]) == sorted(withdrawn)
    kept = changes.loc[changes["change"] == "kept", ["paper_id", "reviewer_id"]]
    assert set(zip(kept["paper_id"], kept["reviewer_id"])) <= set(zip(previous["paper_id"], previous["reviewer_id"]))
    assert "kept " in res.stdout
