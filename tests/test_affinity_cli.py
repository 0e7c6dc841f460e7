"""`triage affinity` and the matching options of `triage match`, end to end with the bundled model."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from triage.conflicts import normalize_name
from triage.match import AFFINITY_COLUMNS

DATA = Path(__file__).parent / "data"
runner = CliRunner()
SUB, PUB, REV, CONF = (str(DATA / f) for f in ("submissions.csv", "publications.csv", "reviewers.csv",
                                                "conflicts.csv"))


@pytest.fixture
def work(demo_run, tmp_path) -> Path:
    """A copy of the shared real run: its embedding cache makes these commands cheap."""
    dst = tmp_path / "work"
    shutil.copytree(demo_run, dst)
    return dst


def invoke(*args: str):
    from triage.cli import app

    return runner.invoke(app, list(args))


def read_headerless(path: Path, names: list[str]) -> pd.DataFrame:
    return pd.read_csv(path, header=None, names=names, dtype=str, keep_default_na=False)


def test_affinity_all_pairs_has_evidence_and_ranks_authors_high(work, tmp_path):
    out = tmp_path / "scores.csv"
    res = invoke("affinity", SUB, "-p", PUB, "-r", REV, "-o", str(out), "--work", str(work), "--all-pairs",
                 "--keep-conflicts")
    assert res.exit_code == 0, res.output
    aff = pd.read_csv(out, dtype={"score": float}, keep_default_na=False)
    assert list(aff.columns) == AFFINITY_COLUMNS
    subs = pd.read_csv(SUB, keep_default_na=False)
    pubs = pd.read_csv(PUB, keep_default_na=False)
    revs = pd.read_csv(REV, keep_default_na=False)
    with_pubs = set(pubs["reviewer_id"])
    assert len(aff) == len(subs) * len(with_pubs)  # every pair of a paper and a reviewer with a profile
    owner = dict(zip(zip(pubs["reviewer_id"], pubs["pub_id"]), pubs["title"]))
    assert all((r, e) in owner for r, e in zip(aff["reviewer_id"], aff["evidence_id"]))  # evidence is their own
    # Real-data check: a submission's authors who are in the pool rank near the top (chance MRR ~ 0.06).
    name = {r.reviewer_id: normalize_name(r.name) for r in revs.itertuples()}
    rr = []
    for p in subs.itertuples():
        authors = {normalize_name(a) for a in p.authors.split(";") if a.strip()}
        ranked = aff[aff["paper_id"] == p.paper_id]["reviewer_id"].tolist()
        hits = [i + 1 for i, r in enumerate(ranked) if name.get(r) in authors]
        if hits:
            rr.append(1 / min(hits))
    assert len(rr) >= 5 and sum(rr) / len(rr) > 0.2

    # --top-k keeps each paper's best k, with the very same scores (a reviewer's scores are comparable).
    top = tmp_path / "top.csv"
    res = invoke("affinity", SUB, "-p", PUB, "-r", REV, "-o", str(top), "--work", str(work), "--top-k", "5",
                 "--reviewer-top-k", "0", "--keep-conflicts")
    assert res.exit_code == 0, res.output
    t = pd.read_csv(top, dtype={"score": float}, keep_default_na=False)
    assert (t.groupby("paper_id").size() == 5).all()
    both = t.merge(aff, on=["paper_id", "reviewer_id"], suffixes=("", "_all"))
    assert len(both) == len(t) and (both["score"] == both["score_all"]).all()
    assert (t.groupby("paper_id")["score"].max() == aff.groupby("paper_id")["score"].max()).all()


    # By default the conflicted pairs are left out: declared ones and detected ones (authors among the reviewers).
    res = invoke("affinity", SUB, "-p", PUB, "-r", REV, "-c", CONF, "-o", str(out), "--work", str(work),
                 "--all-pairs", "--format", "openreview")
    assert res.exit_code == 0, res.output
    upload = read_headerless(out, ["paper", "user", "score"])
    confl = pd.read_csv(CONF, keep_default_na=False)
    declared = set(zip(confl["paper_id"], confl["reviewer_id"]))
    pairs = set(zip(upload["paper"], upload["user"]))
    assert declared and not declared & pairs
    authors = {(p, r) for p, r in zip(aff["paper_id"], aff["reviewer_id"]) if name.get(r) in
               {normalize_name(a) for a in subs.set_index("paper_id").at[p, "authors"].split(";") if a.strip()}}
    assert authors and not authors & pairs
    left_out = int(re.search(r"(\d+) conflict\(s\) found", res.stdout).group(1))
    every = set(zip(aff["paper_id"], aff["reviewer_id"]))
    assert pairs < every and left_out >= len((declared | authors) & every)


def test_every_reviewer_gets_their_best_papers_in_the_openreview_upload(work, tmp_path):
    """--reviewer-top-k (on by default): a reviewer outside every paper's --top-k still gets a score on their best
    papers, in affinity.csv (so the solve can assign them) and in OpenReview's affinity upload."""
    pubs = pd.read_csv(PUB, keep_default_na=False)
    with_pubs = set(pubs["reviewer_id"])
    seen = {}
    for extra in (("--reviewer-top-k", "0"), ()):
        out = tmp_path / f"out{len(extra)}"
        res = invoke("match", SUB, "-p", PUB, "-r", REV, "-c", CONF, "-o", str(out), "--top-k", "6",
                     "--per-paper", "1", "--export-format", "openreview", *extra)
        assert res.exit_code == 0, res.output
        up = read_headerless(out / "openreview_affinity.csv", ["paper", "user", "score"])
        aff = pd.read_csv(out / "affinity.csv", keep_default_na=False)
        assert set(up["user"]) == set(aff["reviewer_id"])
        seen[extra] = aff
    off, on = seen[("--reviewer-top-k", "0")], seen[()]
    assert with_pubs - set(off["reviewer_id"])  # the top-6 of each of 40 papers leaves a reviewer out
    assert set(on["reviewer_id"]) == with_pubs
    assert on.groupby("reviewer_id").size().min() >= 8  # their 10 best, less those in conflict
    both = on.merge(off, on=["paper_id", "reviewer_id"], suffixes=("", "_off"))
    assert len(both) == len(off) and (both["score"] == both["score_off"]).all()


@pytest.mark.parametrize("fmt, second", [("openreview", "reviewer_id"), ("cmt", "reviewer_email")])
def test_affinity_upload_formats_are_exact(work, tmp_path, fmt, second):
    out = tmp_path / f"{fmt}.csv"
    res = invoke("affinity", SUB, "-p", PUB, "-o", str(out), "--work", str(work), "--format", fmt)
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines and not lines[0].startswith("paper_id")  # headerless
    assert all(re.fullmatch(r"[^,]+,[^,]+,\d+\.\d{4}", line) for line in lines)  # 4 decimals, never negative


def test_affinity_to_standard_output_is_the_file_and_nothing_else(work, tmp_path, monkeypatch):
    """'-o -' pipes the scores (e.g. into an upload script): stdout holds exactly the file's bytes, the summary
    goes to stderr, and no file named '-' is written."""
    monkeypatch.chdir(tmp_path)
    to_file = invoke("affinity", SUB, "-p", PUB, "-o", str(tmp_path / "s.csv"), "--work", str(work),
                     "--format", "openreview")
    piped = invoke("affinity", SUB, "-p", PUB, "-o", "-", "--work", str(work), "--format", "openreview")
    assert to_file.exit_code == 0 and piped.exit_code == 0, piped.output
    assert piped.stdout_bytes == (tmp_path / "s.csv").read_bytes() and piped.stdout_bytes
    assert "scored pairs" in piped.stderr and not (tmp_path / "-").exists()


def test_match_exports_and_conflicts(work, tmp_path):
    out = tmp_path / "m"
    shutil.copytree(work, out)
    revs = pd.read_csv(REV, keep_default_na=False, dtype=str)
    revs["email"] = ""
    first, second = revs["reviewer_id"].iloc[:2]
    revs.loc[0, "max_load"], revs.loc[1, "email"] = "4", "second@uni.edu"
    rev_file = tmp_path / "reviewers.csv"
    revs.to_csv(rev_file, index=False)
    res = invoke("match", SUB, "-p", PUB, "-r", str(rev_file), "-c", CONF, "-o", str(out), "--per-paper", "2",
                 "--alternates", "2", "--export-format", "openreview", "--export-format", "cmt",
                 "--export-format", "hotcrp", "--export-format", "start")
    assert res.exit_code == 0, res.output
    # CMT knows reviewers by email and papers by number: the run says which the files lack.
    scored = set(pd.read_csv(out / "affinity.csv", keep_default_na=False)["reviewer_id"])
    assert f"{len(scored - {second})} reviewer(s) have no email" in res.stderr.replace("\n", " ")
    assert "paper id(s) are not CMT paper numbers" in res.stderr.replace("\n", " ")
    # The matcher's quota file: every reviewer, their own max_load or the run's default.
    quota = read_headerless(out / "openreview_max_papers.csv", ["user", "max"])
    own = zip(revs["reviewer_id"], revs["max_load"])
    assert dict(zip(quota["user"], quota["max"].astype(int))) == {r: int(m) if m else 6 for r, m in own}
    assert quota["max"].astype(int).tolist()[:1] == [4] and {"6", "8"} <= set(quota["max"])
    confl = pd.read_csv(out / "conflicts.csv", keep_default_na=False)
    assign = pd.read_csv(out / "assignments.csv", keep_default_na=False)
    alts = pd.read_csv(out / "alternates.csv", keep_default_na=False)
    banned = set(zip(confl["paper_id"], confl["reviewer_id"]))
    assert ("v247/addanki24a", "~Emmanuel_Abbe1") in banned  # declared
    assert any("reviewer is an author" in r for r in confl["reason"])  # detected from author names
    assert not banned & set(zip(assign["paper_id"], assign["reviewer_id"]))
    assert not banned & set(zip(alts["paper_id"], alts["reviewer_id"]))
    assert (assign.groupby("paper_id").size() == 2).all()
    assert assign.groupby("reviewer_id").size().max() <= 6
    cons = read_headerless(out / "openreview_constraints.csv", ["paper", "user", "c"])
    assert set(zip(cons["paper"], cons["user"])) == banned and set(cons["c"]) == {"-1"}
    scores = read_headerless(out / "openreview_affinity.csv", ["paper", "user", "score"])
    assert (scores["score"].astype(float) >= 0).all()
    tree = ET.parse(out / "cmt_assignments.xml").getroot()
    got = {(s.get("submissionId"), u.get("email")) for s in tree for u in s}
    email = {second: "second@uni.edu"}
    assert got == {(p, email.get(r, r)) for p, r in zip(assign["paper_id"], assign["reviewer_id"])}
    # HotCRP's bulk assignment (header paper,action,email) and START's upload lines (sid:user1:user2).
    hot = pd.read_csv(out / "hotcrp_assignments.csv", dtype=str, keep_default_na=False)
    assert list(hot.columns) == ["paper", "action", "email"] and set(hot["action"]) == {"primary"}
    assert set(zip(hot["paper"], hot["email"])) == got
    lines = (out / "start_assignments.txt").read_text(encoding="utf-8").splitlines()
    ranked = assign.sort_values(["paper_id", "rank"]).groupby("paper_id", sort=False)["reviewer_id"].apply(list)
    assert sorted(lines) == sorted(f"{p}:" + ":".join(r) for p, r in ranked.items())
    assert "HotCRP files name them by reviewer_id" in res.stderr.replace("\n", " ")


def test_match_with_bids_and_idle_reviewer(work, tmp_path):
    revs = pd.read_csv(REV, keep_default_na=False)
    idle = pd.concat([revs, pd.DataFrame({"reviewer_id": ["~No_Papers1"], "name": ["No Papers"]})])
    rev_file = tmp_path / "reviewers.csv"
    idle.to_csv(rev_file, index=False)
    aff = pd.read_csv(work / "affinity.csv", keep_default_na=False)
    paper = aff["paper_id"].iloc[0]
    low = aff[aff["paper_id"] == paper]["reviewer_id"].iloc[-1]  # that paper's weakest candidate
    bids = tmp_path / "bids.csv"
    bids.write_text(f"paper_id,reviewer_id,bid\n{paper},{low},Very High\n", encoding="utf-8")
    out = tmp_path / "m"
    shutil.copytree(work, out)
    base = invoke("match", SUB, "-p", PUB, "-r", str(rev_file), "-o", str(out), "--per-paper", "1")
    assert base.exit_code == 0, base.output
    before = pd.read_csv(out / "assignments.csv", keep_default_na=False)
    res = invoke("match", SUB, "-p", PUB, "-r", str(rev_file), "-o", str(out), "--per-paper", "1",
                 "--bids", str(bids))
    assert res.exit_code == 0, res.output
    after = pd.read_csv(out / "assignments.csv", keep_default_na=False)
    assert "~No_Papers1" not in set(after["reviewer_id"]) | set(pd.read_csv(out / "affinity.csv")["reviewer_id"])
    assert len(after) == len(before)
    if low not in set(before[before["paper_id"] == paper]["reviewer_id"]):
        # A Very High bid is worth +0.1: it only wins if the gap is smaller; the solver stays optimal either way.
        gap = aff[aff["paper_id"] == paper]["score"].max() - aff[(aff["paper_id"] == paper) &
                                                                 (aff["reviewer_id"] == low)]["score"].iloc[0]
        chosen = after[after["paper_id"] == paper]["reviewer_id"].iloc[0]
        assert (chosen == low) == (gap < 0.1) or gap == pytest.approx(0.1, abs=1e-3)


@pytest.mark.parametrize("content, needle", [
    ("paper_id,reviewer_id,bid\np,r,Perhaps\n", "row 2 column 'bid' is 'Perhaps'"),
    ("paper_id,user\np,r\n", "missing column(s) bid"),
])
def test_bad_bids_file_is_one_line(tmp_path, content, needle):
    bids = tmp_path / "bids.csv"
    bids.write_text(content, encoding="utf-8")
    res = invoke("match", SUB, "-p", PUB, "-o", str(tmp_path / "o"), "--bids", str(bids))
    assert res.exit_code == 1
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0] and "bids.csv" in lines[0]
    assert not (tmp_path / "o" / "assignments.csv").exists()


def test_export_functions_exact_bytes(tmp_path):
    from triage.export import cmt_assignments_xml, cmt_scores, openreview_affinity, openreview_constraints
    from triage.workdir import write_csv

    aff = pd.DataFrame({"paper_id": ["p1", "p1", "p2"], "reviewer_id": ["~A1", "b", "b"],
                        "score": [0.123456, -0.2, 1.31], "evidence_id": ["e", "f", "g"],
                        "evidence_title": ["t", "u", "v"]})
    revs = pd.DataFrame({"reviewer_id": ["~A1", "b"], "email": ["a@x.org", ""]})
    write_csv(tmp_path / "or.csv", openreview_affinity(aff), header=False)
    assert (tmp_path / "or.csv").read_bytes() == b"p1,~A1,0.1235\np1,b,0.0000\np2,b,1.3100\n"
    write_csv(tmp_path / "cmt.csv", cmt_scores(aff, revs), header=False)
    assert (tmp_path / "cmt.csv").read_bytes() == b"p1,a@x.org,0.1235\np1,b,0.0000\np2,b,1.0000\n"  # CMT's 0-1
    conf = pd.DataFrame({"paper_id": ["p1"], "reviewer_id": ["b"], "reason": "author"})
    write_csv(tmp_path / "c.csv", openreview_constraints(conf), header=False)
    assert (tmp_path / "c.csv").read_bytes() == b"p1,b,-1\n"
    xml = cmt_assignments_xml(aff.iloc[:1], revs)
    assert '<submission submissionId="p1">' in xml and '<user email="a@x.org" />' in xml


def test_affinity_out_that_is_a_folder_is_one_line(tmp_path):
    res = invoke("affinity", SUB, "-p", PUB, "-o", str(tmp_path))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"--out {tmp_path}: is a folder; affinity writes one file, e.g. -o {tmp_path / 'scores.csv'}" in \
        res.stderr.replace("\n", "")


def test_an_unknown_format_is_refused_with_the_choices(tmp_path):
    """A typo such as 'openreveiw' wrote the triage layout under an upload file's name; now it is a ValueError."""
    from triage.pipeline import RunOptions, write_affinity_file

    aff = pd.DataFrame({"paper_id": ["p1"], "reviewer_id": ["r"], "score": [0.5], "evidence_id": ["e"],
                        "evidence_title": ["t"]})
    revs = pd.DataFrame({"reviewer_id": ["r"], "email": [""]})
    with pytest.raises(ValueError, match="scores format 'openreveiw' is not one of 'triage', 'openreview', 'cmt'"):
        write_affinity_file(tmp_path / "scores.csv", aff, revs, fmt="openreveiw")
    assert not (tmp_path / "scores.csv").exists()
    write_affinity_file(tmp_path / "scores.csv", aff, revs, fmt="openreview")
    assert (tmp_path / "scores.csv").read_bytes() == b"p1,r,0.5000\n"
    with pytest.raises(ValueError, match="export format 'hotcrpp' is not one of 'openreview', 'cmt', 'hotcrp'"):
        RunOptions(export_formats=("cmt", "hotcrpp"))


def test_match_coauthor_conflict_options(work, tmp_path):
    """--coauthor-frequent and --coauthor-max-authors reach the conflicts: co-authors on more than N joint
    publications are named with their count, and publications with more authors than the cap make none."""
    pubs = pd.read_csv(PUB, keep_default_na=False)
    row = pubs[pubs["title"].str.startswith("The One-Inclusion")].iloc[[0]]
    pub = tmp_path / "publications.csv"  # the same authors on a second publication
    second = row.assign(pub_id="x/1", title="A second joint paper of the same authors")
    pd.concat([pubs, second]).to_csv(pub, index=False)

    def coauthor_rows(*extra: str) -> pd.Series:
        res = invoke("match", SUB, "-p", str(pub), "-r", REV, "-c", CONF, "-o", str(work), "--per-paper", "1",
                     *extra)
        assert res.exit_code == 0, res.output
        reasons = pd.read_csv(work / "conflicts.csv", keep_default_na=False)["reason"]
        return reasons[reasons.str.contains("co-author of")]

    default = coauthor_rows()
    assert len(default) and not default.str.contains("joint publications").any()
    assert coauthor_rows("--coauthor-frequent", "1").str.contains(r"on 2 joint publications, 2023").any()
    assert len(coauthor_rows("--coauthor-max-authors", "2")) < len(default)


def email_keyed(folder: Path) -> tuple[str, str]:
    """tests/data's submissions, and its publications with each reviewer named by an email (as CMT knows them)."""
    folder.mkdir()
    pubs = pd.read_csv(PUB, dtype=str, keep_default_na=False)
    pubs["reviewer_id"] = pubs["reviewer_id"].str.strip("~").str.lower() + "@uni.edu"
    pubs.to_csv(folder / "publications.csv", index=False)
    return SUB, str(folder / "publications.csv")


def test_reviewers_known_by_email_are_no_reviewers_without_one(tmp_path, monkeypatch, fake_embedder):
    """With no reviewers file, reviewers whose id is their email are named by it in the CMT and HotCRP files,
    as those want; the run no longer says they 'have no email' and to add an 'email' column."""
    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    sub, pub = email_keyed(tmp_path / "in")
    out = tmp_path / "out"
    res = invoke("match", sub, "-p", pub, "-o", str(out), "--per-paper", "2", "--export-format", "cmt",
                 "--export-format", "hotcrp")
    assert res.exit_code == 0, res.output
    assert "have no email" not in res.stderr
    scores = read_headerless(out / "cmt_scores.csv", ["paper", "email", "score"])
    assert scores["email"].str.endswith("@uni.edu").all()
    # A reviewer known by another id still has no email, and the run says so.
    pubs = pd.read_csv(pub, dtype=str, keep_default_na=False)
    pubs.loc[pubs["reviewer_id"] == pubs["reviewer_id"].iloc[0], "reviewer_id"] = "~Known_By_Id1"
    pubs.to_csv(pub, index=False)
    res = invoke("match", sub, "-p", pub, "-o", str(out), "--per-paper", "2", "--export-format", "cmt")
    assert res.exit_code == 0, res.output
    assert "1 reviewer(s) have no email, so the CMT files name them by reviewer_id (first: ~Known_By_Id1)" in \
        res.stderr.replace("\n", " ")


def test_start_upload_says_when_reviewers_are_not_start_usernames(tmp_path, monkeypatch, fake_embedder):
    """START's upload names reviewers by their START username: a pool known by emails or OpenReview ids makes
    lines START cannot read, and the run says so; usernames (START's Profile_Information.csv) pass quietly."""
    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    sub, pub = email_keyed(tmp_path / "in")
    out = tmp_path / "out"
    res = invoke("match", sub, "-p", pub, "-o", str(out), "--per-paper", "2", "--export-format", "start")
    assert res.exit_code == 0, res.output
    said = res.stderr.replace("\n", " ")
    n = len({r for line in (out / "start_assignments.txt").read_text(encoding="utf-8").splitlines()
             for r in line.split(":")[1:]})
    assert f"{n} reviewer id(s) are emails or OpenReview ids, not START usernames (first: " in said
    assert "use the Username column of its Profile_Information.csv" in said
    res = invoke("match", SUB, "-p", PUB, "-o", str(out), "--per-paper", "2", "--export-format", "start")
    assert res.exit_code == 0, res.output
    assert "not START usernames (first: ~" in res.stderr.replace("\n", " ")
    pubs = pd.read_csv(pub, dtype=str, keep_default_na=False)
    pubs["reviewer_id"] = pubs["reviewer_id"].str.split("@").str[0].str.replace("_", "")  # START-like usernames
    pubs.to_csv(pub, index=False)
    res = invoke("match", sub, "-p", pub, "-o", str(out), "--per-paper", "2", "--export-format", "start")
    assert res.exit_code == 0, res.output
    assert "START usernames" not in res.stderr


def test_a_reviewer_whose_publications_all_weigh_0_keeps_their_coauthor_conflicts(work, tmp_path):
    """Weight 0 takes publications out of the profile, not out of the conflicts: the reviewer is named, gets no
    score, and is still in conflict with their co-authors' submissions, in the match and in `triage affinity`."""
    res = invoke("match", SUB, "-p", PUB, "-r", REV, "-o", str(work), "--per-paper", "1")
    assert res.exit_code == 0, res.output
    confl = pd.read_csv(work / "conflicts.csv", keep_default_na=False)
    coauthored = confl[confl["reason"].str.contains("co-author of")].iloc[0]
    who = coauthored["reviewer_id"]
    pubs = pd.read_csv(PUB, dtype=str, keep_default_na=False)
    pubs["weight"] = ["0" if r == who else "" for r in pubs["reviewer_id"]]
    pub = tmp_path / "publications.csv"
    pubs.to_csv(pub, index=False)
    res = invoke("match", SUB, "-p", str(pub), "-r", REV, "-o", str(work), "--per-paper", "1")
    assert res.exit_code == 0, res.output
    said = f"reviewer(s) have only publications of weight 0 (first: {who}); they get no affinity"
    assert said in res.output.replace("\n", " ")
    confl = pd.read_csv(work / "conflicts.csv", keep_default_na=False)
    again = confl[(confl["paper_id"] == coauthored["paper_id"]) & (confl["reviewer_id"] == who)]
    assert again["reason"].tolist() == [coauthored["reason"]]
    assert who not in set(pd.read_csv(work / "affinity.csv", keep_default_na=False)["reviewer_id"])
    out = tmp_path / "scores.csv"
    res = invoke("affinity", SUB, "-p", str(pub), "-r", REV, "-o", str(out), "--work", str(work), "--all-pairs")
    assert res.exit_code == 0, res.output
    assert said in res.output.replace("\n", " ")
    assert who not in set(pd.read_csv(out, keep_default_na=False)["reviewer_id"])
