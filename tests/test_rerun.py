"""Incremental reruns: --keep-assignments keeps what is still feasible and says what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import FakeEmbedder, expertise_dataset
from typer.testing import CliRunner

from triage.assign import AssignParams, assign
from triage.cli import app
from triage.rerun import describe_changes, plan_keep

HERE = Path(__file__).parent
GOOD = HERE / "bad_inputs" / "good"
DATA = HERE / "data"
runner = CliRunner()


def frame(rows, cols):
    return pd.DataFrame(rows, columns=cols)


def test_plan_keep_reasons():
    papers = frame([["p1"], ["p2"], ["p3"]], ["paper_id"])
    revs = frame([["r1", 1], ["r2", None], ["r3", None]], ["reviewer_id", "max_load"])
    revs["max_load"] = revs["max_load"].astype("Int64")
    previous = frame([["p1", "r1"], ["p2", "r1"], ["p2", "r2"], ["p9", "r2"], ["p3", "gone"], ["p3", "r3"],
                      ["p1", "r2"]], ["paper_id", "reviewer_id"])
    conflicts = frame([["p1", "r2", "reviewer is an author"]], ["paper_id", "reviewer_id", "reason"])
    aff = frame([[p, r, 0.5] for p in ("p1", "p2", "p3") for r in ("r1", "r2", "r3")],
                ["paper_id", "reviewer_id", "score"])
    plan = plan_keep(previous, papers, revs, conflicts, aff, params=AssignParams(per_paper=2, max_load=5))
    assert set(zip(plan.fixed.paper_id, plan.fixed.reviewer_id)) == {("p1", "r1"), ("p2", "r2"), ("p3", "r3")}
    why = dict(zip(zip(plan.dropped.paper_id, plan.dropped.reviewer_id), plan.dropped.reason))
    assert why == {("p2", "r1"): "over the reviewer's max_load now", ("p9", "r2"): "paper withdrawn",
                   ("p3", "gone"): "reviewer dropped", ("p1", "r2"): "conflict now: reviewer is an author"}


def test_a_lower_max_load_keeps_the_reviewers_best_earlier_pairs():
    papers = frame([["p1"], ["p2"], ["p3"]], ["paper_id"])
    revs = frame([["r1", 1]], ["reviewer_id", "max_load"]).astype({"max_load": "Int64"})
    previous = frame([["p1", "r1"], ["p2", "r1"], ["p3", "r1"]], ["paper_id", "reviewer_id"])
    aff = frame([["p1", "r1", 0.42], ["p2", "r1", 0.87], ["p3", "r1", 0.61]], ["paper_id", "reviewer_id", "score"])
    none = frame([], ["paper_id", "reviewer_id", "reason"])
    plan = plan_keep(previous, papers, revs, none, aff, params=AssignParams(per_paper=1))
    assert plan.fixed.values.tolist() == [["p2", "r1"]]  # not p1, which comes first in the file
    assert plan.dropped["paper_id"].tolist() == ["p1", "p3"]
    plan = plan_keep(frame([["p2", "r1"], ["p2", "r2"]], ["paper_id", "reviewer_id"]), papers,
                     frame([["r1", 5], ["r2", 5]], ["reviewer_id", "max_load"]).astype({"max_load": "Int64"}),
                     none, frame([["p2", "r1", 0.3], ["p2", "r2", 0.8]], ["paper_id", "reviewer_id", "score"]),
                     params=AssignParams(per_paper=1))
    assert plan.fixed.values.tolist() == [["p2", "r2"]]  # and of a paper's, with a lower --per-paper


def test_fixed_pairs_are_kept_even_when_worse():
    papers = frame([["p1"], ["p2"]], ["paper_id"])
    revs = frame([["a", 1], ["b", 1]], ["reviewer_id", "max_load"]).astype({"max_load": "Int64"})
    revs["min_load"] = pd.array([None, None], dtype="Int64")
    aff = frame([["p1", "a", 0.9, "", ""], ["p1", "b", 0.1, "", ""], ["p2", "a", 0.8, "", ""],
                 ["p2", "b", 0.7, "", ""]], ["paper_id", "reviewer_id", "score", "evidence_id", "evidence_title"])
    none = frame([], ["paper_id", "reviewer_id", "reason"])
    params = AssignParams(per_paper=1)
    best = assign(aff, papers, revs, none, params=params).assignments
    assert set(zip(best.paper_id, best.reviewer_id)) == {("p1", "a"), ("p2", "b")}
    fixed = frame([["p1", "b"]], ["paper_id", "reviewer_id"])
    kept = assign(aff, papers, revs, none, params=params, fixed=fixed).assignments
    assert set(zip(kept.paper_id, kept.reviewer_id)) == {("p1", "b"), ("p2", "a")}
    changes, lines = describe_changes(frame([["p1", "b"], ["p2", "b"]], ["paper_id", "reviewer_id"]),
                                      plan_keep(fixed, papers, revs, none, aff, params=params), kept, papers)
    assert changes["change"].tolist() == ["removed", "added", "kept"]
    assert lines[0].startswith("kept 1 of 2 earlier assignment(s); removed 1, added 1")


def match_args(subs: Path, pubs: Path, revs: Path, out: Path, *extra: str) -> list[str]:
    return ["match", str(subs), "-p", str(pubs), "-r", str(revs), "--per-paper", "2", *extra, "-o", str(out)]


@pytest.fixture
def fake_model(monkeypatch):
    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: FakeEmbedder())


def test_a_chairs_manual_pair_outside_the_top_k_is_kept(fake_model, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, match_args(GOOD / "submissions.csv", GOOD / "publications.csv",
                                        GOOD / "reviewers.csv", out, "--top-k", "6", "--reviewer-top-k", "0"))
    assert res.exit_code == 0, res.output
    first = pd.read_csv(out / "assignments.csv", dtype=str)
    aff = pd.read_csv(out / "affinity.csv", dtype=str)
    confl = pd.read_csv(out / "conflicts.csv", dtype=str)
    paper = first["paper_id"].iloc[0]
    scored = set(aff.loc[aff["paper_id"] == paper, "reviewer_id"]) | set(
        confl.loc[confl["paper_id"] == paper, "reviewer_id"])
    load = first["reviewer_id"].value_counts()
    outside = next(r for r in pd.read_csv(GOOD / "reviewers.csv", dtype=str)["reviewer_id"]
                   if r not in scored and load.get(r, 0) < 2)
    manual = first.copy()
    manual.loc[0, "reviewer_id"] = outside  # the chair swaps in a reviewer the top-6 did not hold
    manual.to_csv(tmp_path / "manual.csv", index=False)
    res = runner.invoke(app, match_args(GOOD / "submissions.csv", GOOD / "publications.csv", GOOD / "reviewers.csv",
                                        out, "--top-k", "6", "--reviewer-top-k", "0", "--keep-assignments",
                                        str(tmp_path / "manual.csv")))
    assert res.exit_code == 0, res.output
    now = pd.read_csv(out / "assignments.csv", dtype=str)
    assert ((now["paper_id"] == paper) & (now["reviewer_id"] == outside)).any()
    aff = pd.read_csv(out / "affinity.csv", dtype=str)
    assert ((aff["paper_id"] == paper) & (aff["reviewer_id"] == outside)).any()  # scored, with its evidence


def test_keep_assignments_after_withdrawals_and_dropped_reviewer(fake_model, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, match_args(GOOD / "submissions.csv", GOOD / "publications.csv",
                                        GOOD / "reviewers.csv", out))
    assert res.exit_code == 0, res.output
    first = pd.read_csv(out / "assignments.csv", dtype=str)
    previous = tmp_path / "previous.csv"
    previous.write_bytes((out / "assignments.csv").read_bytes())
    # Withdraw one paper, add a late one, drop the busiest reviewer.
    subs = pd.read_csv(GOOD / "submissions.csv", dtype=str, keep_default_na=False)
    withdrawn = subs["paper_id"].iloc[2]
    subs = pd.concat([subs.drop(index=2), pd.DataFrame([{"paper_id": "late/1", "title": "Late regret bounds",
                                                          "abstract": "We prove regret bounds for late bandits."}])])
    subs.to_csv(tmp_path / "subs.csv", index=False)
    busiest = first["reviewer_id"].value_counts().index[0]
    revs = pd.read_csv(GOOD / "reviewers.csv", dtype=str, keep_default_na=False)
    revs[revs["reviewer_id"] != busiest].to_csv(tmp_path / "revs.csv", index=False)
    res = runner.invoke(app, match_args(tmp_path / "subs.csv", GOOD / "publications.csv", tmp_path / "revs.csv",
                                        out, "--keep-assignments", str(previous), "--export-format", "cmt"))
    assert res.exit_code == 0, res.output
    # The dropped reviewer's publications are said once; the earlier file's extra columns are not.
    about_inputs = [w for w in res.stderr.split("Warning: ")[1:] if "CMT" not in w]  # CMT ids: see test_affinity_cli
    assert len(about_inputs) == 1 and f"not in {tmp_path / 'revs.csv'}" in res.stderr, res.stderr
    second = pd.read_csv(out / "assignments.csv", dtype=str)
    assert (second.groupby("paper_id").size() == 2).all() and second["paper_id"].nunique() == len(subs)
    still = first[(first["paper_id"] != withdrawn) & (first["reviewer_id"] != busiest)]
    pairs = set(zip(second.paper_id, second.reviewer_id))
    assert set(zip(still.paper_id, still.reviewer_id)) <= pairs  # every still-feasible pair is kept
    # The rerun's assignment reaches the upload files and the summary line, as a first run's does.
    xml = (out / "cmt_assignments.xml").read_text(encoding="utf-8")
    assert xml.count("<user ") == len(second) and 'submissionId="late/1"' in xml
    total = float(res.stdout.split("total assigned affinity ")[1].split()[0])
    assert total == pytest.approx(pd.to_numeric(second["score"]).sum(), abs=0.02)
    changes = pd.read_csv(out / "changes.csv", dtype=str, keep_default_na=False)
    assert changes.loc[changes["change"] == "paper withdrawn", "paper_id"].tolist() == [withdrawn]
    assert changes.loc[changes["change"] == "reviewer dropped", "reviewer_id"].tolist() == [busiest]
    assert (changes["change"] == "kept").sum() == len(still)
    added = changes[changes["change"] == "added"]
    assert set(added.loc[added["detail"] == "new paper", "paper_id"]) == {"late/1"}
    n_removed = len(first) - len(still)
    assert f"kept {len(still)} of {len(first)} earlier assignment(s); removed {n_removed}" in res.stdout
    assert f"papers withdrawn: {withdrawn}" in res.stdout and f"reviewers dropped: {busiest}" in res.stdout
    # The report shows the changes too, for the chair who reads it rather than the terminal.
    rep = runner.invoke(app, ["report", str(tmp_path / "subs.csv"), "-p", str(GOOD / "publications.csv"), "-r",
                              str(tmp_path / "revs.csv"), "-o", str(out)])
    assert rep.exit_code == 0, rep.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"<b>{len(still)}</b><span>kept</span>" in html and f"<b>{n_removed}</b><span>removed</span>" in html
    listed = html.split('id="changes-table"')[1].split("</table>")[0]
    assert withdrawn in listed and busiest in listed and "late/1" in listed and listed.count("<tr>") == 1 + (
        changes["change"] != "kept").sum()
    # A later run without --keep-assignments does not leave a stale changes.csv behind.
    res = runner.invoke(app, match_args(tmp_path / "subs.csv", GOOD / "publications.csv", tmp_path / "revs.csv",
                                        out))
    assert res.exit_code == 0, res.output
    assert not (out / "changes.csv").exists()


@pytest.mark.e2e
def test_real_model_rerun_embeds_only_late_papers_and_keeps_pairs(real_embedder, monkeypatch, tmp_path):
    """The real model on tests/data: late papers are the only new embeddings; earlier pairs stay."""
    import json

    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: real_embedder)
    out = tmp_path / "out"
    args = ["match", str(DATA / "submissions.csv"), "-p", str(DATA / "publications.csv"), "-r",
            str(DATA / "reviewers.csv"), "-c", str(DATA / "conflicts.csv"), "-o", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    first = pd.read_csv(out / "assignments.csv", dtype=str)
    previous = tmp_path / "previous.csv"
    previous.write_bytes((out / "assignments.csv").read_bytes())
    subs = pd.read_csv(DATA / "submissions.csv", dtype=str, keep_default_na=False)
    late = pd.DataFrame([
        {"paper_id": "late/1", "title": "Regret of contextual bandits with delayed feedback",
         "abstract": "We prove minimax regret bounds for contextual bandits when rewards arrive with delay."},
        {"paper_id": "late/2", "title": "Sample complexity of learning halfspaces with Massart noise",
         "abstract": "We give an efficient algorithm and a matching lower bound for Massart halfspaces."},
    ])
    pd.concat([subs.iloc[1:], late]).to_csv(tmp_path / "subs.csv", index=False)
    args[1] = str(tmp_path / "subs.csv")
    res = runner.invoke(app, [*args, "--keep-assignments", str(previous)])
    assert res.exit_code == 0, res.output
    stats = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["embed"]["stats"]
    assert stats["papers"]["embedded"] == 2 and stats["publications"]["embedded"] == 0
    second = pd.read_csv(out / "assignments.csv", dtype=str)
    kept = first[first["paper_id"] != subs["paper_id"].iloc[0]]
    assert set(zip(kept.paper_id, kept.reviewer_id)) <= set(zip(second.paper_id, second.reviewer_id))
    assert set(second["paper_id"]) == set(subs["paper_id"].iloc[1:]) | {"late/1", "late/2"}
    assert f"papers withdrawn: {subs['paper_id'].iloc[0]}" in res.stdout


def test_affinity_is_reused_when_only_conflicts_or_loads_change(fake_model, tmp_path):
    """The affinity table is computed once for the same submissions, publications, reviewers, model and
    affinity settings; new conflicts and other loads reuse it and give what a run from scratch gives."""
    import json

    def run(out, *extra, subs=GOOD / "submissions.csv", pubs=GOOD / "publications.csv", revs=GOOD / "reviewers.csv"):
        res = runner.invoke(app, [*match_args(subs, pubs, revs, out), *extra])
        assert res.exit_code == 0, res.output
        return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["match"]["stats"]

    out, fresh = tmp_path / "out", tmp_path / "fresh"
    assert run(out)["affinity_reused"] is False
    first = pd.read_csv(out / "affinity.csv", dtype=str)
    pair = first.iloc[0]
    conflicts = tmp_path / "conflicts.csv"
    conflicts.write_text(f"paper_id,reviewer_id\n{pair.paper_id},{pair.reviewer_id}\n", encoding="utf-8")
    args = ("-c", str(conflicts), "--max-load", "5")
    assert run(out, *args)["affinity_reused"] is True
    revs = pd.read_csv(GOOD / "reviewers.csv", dtype=str, keep_default_na=False)
    loads = tmp_path / "reviewers.csv"
    revs.assign(max_load="4").to_csv(loads, index=False)  # reviewers' own loads do not change the affinity
    assert run(tmp_path / "loads", revs=loads)["affinity_reused"] is False
    assert run(tmp_path / "loads", revs=GOOD / "reviewers.csv")["affinity_reused"] is True
    revs.iloc[1:].to_csv(loads, index=False)  # one reviewer fewer does
    assert run(tmp_path / "loads", revs=loads)["affinity_reused"] is False
    assert run(fresh, *args)["affinity_reused"] is False
    for name in ("affinity.csv", "assignments.csv", "conflicts.csv"):
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    second = pd.read_csv(out / "affinity.csv", dtype=str)
    assert len(second) == len(first) - 1 and not ((second.paper_id == pair.paper_id)
                                                  & (second.reviewer_id == pair.reviewer_id)).any()
    # A changed publication, or other affinity settings, compute it again.
    pubs = tmp_path / "pubs.csv"
    pubs.write_text((GOOD / "publications.csv").read_text(encoding="utf-8").replace("regret", "loss", 1),
                    encoding="utf-8")
    assert run(out, *args, pubs=pubs)["affinity_reused"] is False
    assert run(out, *args, "--top-k", "7", pubs=pubs)["affinity_reused"] is False
    assert run(out, *args, "--top-k", "7", pubs=pubs)["affinity_reused"] is True
    assert run(out, *args, "--top-k", "7", "--reviewer-top-k", "2", pubs=pubs)["affinity_reused"] is False
    assert run(out, *args, "--top-k", "7", "--reviewer-top-k", "2", pubs=pubs)["affinity_reused"] is True
    assert len(list((out / "cache" / "affinity").glob("*.pkl"))) == 1


def test_an_unreadable_affinity_cache_is_said_and_computed_again(fake_model, tmp_path):
    import json

    out = tmp_path / "out"
    args = match_args(GOOD / "submissions.csv", GOOD / "publications.csv", GOOD / "reviewers.csv", out)
    assert runner.invoke(app, args).exit_code == 0
    first = (out / "affinity.csv").read_bytes()
    [cached] = (out / "cache" / "affinity").glob("*.pkl")
    cached.write_bytes(b"not a pickle")
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert res.stderr.count("could not be read") == 1 and cached.name in res.stderr, res.stderr
    stats = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["match"]["stats"]
    assert stats["affinity_reused"] is False and (out / "affinity.csv").read_bytes() == first
    res = runner.invoke(app, args)  # the table computed again took its place
    assert res.exit_code == 0 and "could not be read" not in res.stderr


def test_coauthor_pairs_the_chair_kept_are_said_to_be_kept(fake_model, tmp_path):
    """Co-authors on one paper in the kept assignment stay, and the note says why rather than 'no candidate'."""
    out = tmp_path / "out"
    args = match_args(DATA / "submissions.csv", DATA / "publications.csv", DATA / "reviewers.csv", out)
    res = runner.invoke(app, [*args, "--coauthor-slack", "0"])
    assert res.exit_code == 0, res.output
    previous = tmp_path / "previous.csv"
    previous.write_bytes((out / "assignments.csv").read_bytes())
    res = runner.invoke(app, [*args, "--keep-assignments", str(previous)])
    assert res.exit_code == 0, res.output
    said = res.stdout.replace("\n", " ")
    n = int(said.split(" pair(s) of co-authors were on the same paper")[0].split()[-1])
    assert n > 0 and f"0 split by swapping in a non-co-author within --coauthor-slack, {n} left because the chair " \
                      "kept them (--keep-assignments); the report lists them" in said, said
    assert "no such candidate" not in said


def test_a_stage_run_on_its_own_embeds_as_the_last_embed_did(fake_model, tmp_path):
    """After 'triage embed --use-keywords', 'triage match' (and topics, affinity, summarize) keep the keywords, the
    batch size and the model unless they state another: the vectors stay those of the embed."""
    import json

    out = tmp_path / "out"
    subs, pubs, revs = (str(DATA / n) for n in ("submissions.csv", "publications.csv", "reviewers.csv"))

    def embed_params():
        return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["embed"]["params"]

    res = runner.invoke(app, ["embed", subs, "-p", pubs, "-m", "my-model", "--use-keywords", "--batch-size", "8",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    vectors = (out / "embeddings" / "papers.npy").read_bytes()
    res = runner.invoke(app, match_args(DATA / "submissions.csv", DATA / "publications.csv",
                                        DATA / "reviewers.csv", out))
    assert res.exit_code == 0, res.output
    assert "embedding as the folder's last embed did: --model my-model --use-keywords --batch-size 8" in res.stderr
    assert (out / "embeddings" / "papers.npy").read_bytes() == vectors
    assert {k: embed_params()[k] for k in ("model", "use_keywords", "batch_size")} == \
        {"model": "my-model", "use_keywords": True, "batch_size": 8}
    for args in (["affinity", subs, "-p", pubs, "--work", str(out), "-o", str(tmp_path / "scores.csv")],
                 ["summarize", subs, "-o", str(out)], ["topics", subs, "-p", pubs, "-r", revs, "-o", str(out)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        assert (out / "embeddings" / "papers.npy").read_bytes() == vectors, args[0]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["summarize"]["params"][
        "use_keywords"] is True
    # What the command states wins, and is then the record.
    res = runner.invoke(app, ["topics", subs, "--no-use-keywords", "-m", "other", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "embeddings" / "papers.npy").read_bytes() != vectors
    assert {k: embed_params()[k] for k in ("model", "use_keywords", "batch_size")} == \
        {"model": "other", "use_keywords": False, "batch_size": 8}
    # A model folder given by a relative path is recorded absolute, so a stage run from another folder finds it.
    (tmp_path / "mymodel").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        res = runner.invoke(app, ["embed", subs, "-m", "mymodel", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert embed_params()["model"] == str((tmp_path / "mymodel").resolve())
    res = runner.invoke(app, ["embed", subs, "-m", "default", "-o", str(out)])
    assert res.exit_code == 0 and embed_params()["model"] == "default"


def test_openreview_expertise_archives_run_and_a_new_reviewer_file_is_all_a_rerun_embeds(monkeypatch, tmp_path):
    import triage.pipeline

    made: list[FakeEmbedder] = []
    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: made.append(FakeEmbedder()) or made[-1])
    dataset, out = expertise_dataset(tmp_path / "dataset"), tmp_path / "out"
    subs = str(DATA / "submissions.csv")
    res = runner.invoke(app, ["run", subs, "-p", str(dataset), "-c", str(DATA / "conflicts.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    reviewers = set(pd.read_csv(DATA / "publications.csv")["reviewer_id"])
    assigned = pd.read_csv(out / "assignments.csv")
    assert (assigned.groupby("paper_id").size() == 3).all() and set(assigned["reviewer_id"]) <= reviewers
    assert runner.invoke(app, ["status", "-o", str(out)]).output.count(" ok\n") == 7
    (dataset / "archives" / "~Late_Reviewer1.jsonl").write_text(
        '{"id": "late1", "cdate": 1682899200000, "content": {"title": {"value": "Regret of adversarial bandits"}, '
        '"abstract": {"value": "We prove minimax regret bounds for bandits with adversarial losses."}}}\n',
        encoding="utf-8")
    status = runner.invoke(app, ["status", "-o", str(out)]).output
    match_line = next(line for line in status.splitlines() if line.startswith("match "))
    assert f"out of date: publications folder ({dataset}) changed since" in match_line
    made.clear()
    res = runner.invoke(app, ["match", subs, "-p", str(dataset / "archives"), "-c", str(DATA / "conflicts.csv"),
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert sum(e.seen for e in made) == 1  # the new publication only; the papers and the others come from the cache
    assert "~Late_Reviewer1" in set(pd.read_csv(out / "affinity.csv")["reviewer_id"])
    status = runner.invoke(app, ["status", "-o", str(out)]).output
    assert next(line for line in status.splitlines() if line.startswith("match ")).endswith(" ok")


def test_openreview_expertise_csv_without_a_header_is_matched(fake_model, tmp_path):
    pubs = pd.read_csv(DATA / "publications.csv", dtype=str, keep_default_na=False)
    pubs[["reviewer_id", "pub_id", "title", "abstract"]].to_csv(tmp_path / "csv_expertise", header=False, index=False)
    res = runner.invoke(app, match_args(DATA / "submissions.csv", tmp_path / "csv_expertise", DATA / "reviewers.csv",
                                        tmp_path / "out"))
    assert res.exit_code == 0, res.output
    assigned = pd.read_csv(tmp_path / "out" / "assignments.csv")
    assert (assigned.groupby("paper_id").size() == 2).all()


def test_a_publications_folder_is_out_of_date_when_a_file_it_reads_changes_and_only_then(tmp_path):
    import os

    from triage.workdir import sha256_file

    arch = expertise_dataset(tmp_path / "dataset") / "archives"
    first = sha256_file(arch.parent)
    assert sha256_file(arch) == first  # the archives folder or the dataset folder holding it
    one = sorted(arch.iterdir())[0]
    os.utime(one, (0, 0))
    (arch / "notes.txt").write_text("not a reviewer", encoding="utf-8")
    (arch.parent / "submissions.jsonl").write_text("{}\n", encoding="utf-8")
    assert sha256_file(arch) == first
    (arch / "~New1.jsonl").write_text('{"id": "n", "content": {"title": "T"}}\n', encoding="utf-8")
    added = sha256_file(arch)
    assert added != first
    (arch / "~New1.jsonl").unlink()
    assert sha256_file(arch) == first
    text = one.read_text(encoding="utf-8")
    one.write_text(text.replace("a", "b", 1), encoding="utf-8")
    assert sha256_file(arch) != first
    one.write_text(text, encoding="utf-8")
    one.rename(arch / ("~Renamed1.jsonl"))
    assert sha256_file(arch) != first


def expertise_submissions(dataset: Path) -> list[str]:
    """tests/data/submissions.csv as openreview-expertise's submissions folder: dataset/submissions/<id>.jsonl, one
    note each (API v1 and v2 in turn); the ids, without the '/' no file name holds."""
    import json

    subs = pd.read_csv(DATA / "submissions.csv", dtype=str, keep_default_na=False)
    (dataset / "submissions").mkdir(parents=True)
    ids = []
    for i, paper in enumerate(subs.itertuples()):
        content = {"title": paper.title, "abstract": paper.abstract}
        if i % 2:
            content = {k: {"value": v} for k, v in content.items()}
        pid = paper.paper_id.replace("/", "_")
        (dataset / "submissions" / f"{pid}.jsonl").write_text(json.dumps({"id": pid, "content": content}) + "\n",
                                                              encoding="utf-8")
        ids.append(pid)
    return ids


def test_a_dataset_folder_of_submissions_and_archives_is_run_and_a_new_submission_is_all_a_rerun_embeds(
        monkeypatch, tmp_path):
    import triage.pipeline

    made: list[FakeEmbedder] = []
    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: made.append(FakeEmbedder()) or made[-1])
    dataset, out = expertise_dataset(tmp_path / "dataset"), tmp_path / "out"
    ids = expertise_submissions(dataset)
    (tmp_path / "author.csv").write_text("submission #,first name,last name,email\n1,A,B,a@b.c\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(dataset), "-p", str(dataset), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(pd.read_csv(out / "topics.csv")["paper_id"]) == sorted(ids)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["stages"]["embed"]["inputs"]) == {"submissions", "publications", "reviewers", "conflicts"}
    assert runner.invoke(app, ["status", "-o", str(out)]).output.count(" ok\n") == 7
    # a new reviewer leaves the submissions as they were, and a new submission the publications
    (dataset / "archives" / "~Late_Reviewer1.jsonl").write_text(
        '{"id": "late1", "content": {"title": "Regret of adversarial bandits"}}\n', encoding="utf-8")
    status = runner.invoke(app, ["status", "-o", str(out)]).output
    assert "submissions folder" not in status and f"publications folder ({dataset}) changed since" in status
    (dataset / "archives" / "~Late_Reviewer1.jsonl").unlink()
    (dataset / "submissions" / "late_paper.jsonl").write_text(
        '{"id": "late_paper", "content": {"title": {"value": "Adversarial bandits with delays"}, '
        '"abstract": {"value": "We prove regret bounds for bandits whose feedback arrives late."}}}\n',
        encoding="utf-8")
    status = runner.invoke(app, ["status", "-o", str(out)]).output
    embed_line = next(line for line in status.splitlines() if line.startswith("embed "))
    assert f"out of date: submissions folder ({dataset}) changed since" in embed_line
    assert "publications folder" not in status
    made.clear()
    res = runner.invoke(app, ["embed", str(dataset / "submissions"), "-p", str(dataset / "archives"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert sum(e.seen for e in made) == 1  # the new submission only; the others come from the cache
    status = runner.invoke(app, ["status", "-o", str(out)]).output
    assert next(line for line in status.splitlines() if line.startswith("embed ")).endswith(" ok")


def test_a_submissions_folder_is_out_of_date_when_a_file_it_reads_changes_and_only_then(tmp_path):
    from triage.workdir import sha256_file

    dataset = expertise_dataset(tmp_path / "dataset")
    expertise_submissions(dataset)
    subs = dataset / "submissions"
    first, pubs = sha256_file(dataset, "submissions"), sha256_file(dataset)
    assert sha256_file(subs, "submissions") == first and first != pubs  # the dataset folder or its submissions/
    (subs / "notes.txt").write_text("not a submission", encoding="utf-8")
    (dataset / "other_submissions.jsonl").write_text('{"id": "o"}\n', encoding="utf-8")
    (dataset / "archives" / "~New1.jsonl").write_text('{"id": "n", "content": {"title": "T"}}\n', encoding="utf-8")
    assert sha256_file(dataset, "submissions") == first
    one = sorted(subs.iterdir())[0]
    text = one.read_text(encoding="utf-8")
    one.write_text(text.replace("a", "b", 1), encoding="utf-8")
    assert sha256_file(dataset, "submissions") != first
    one.write_text(text, encoding="utf-8")
    one.unlink()
    assert sha256_file(dataset, "submissions") != first
    one.write_text(text, encoding="utf-8")
    assert sha256_file(dataset, "submissions") == first
    (dataset / "submissions.jsonl").write_text(text, encoding="utf-8")  # read first when there is one
    assert sha256_file(dataset, "submissions") != first


def test_a_bids_file_edited_since_the_match_is_said_by_status(fake_model, tmp_path):
    out, bids = tmp_path / "out", tmp_path / "bids.csv"
    subs = pd.read_csv(GOOD / "submissions.csv", dtype=str)["paper_id"]
    revs = pd.read_csv(GOOD / "reviewers.csv", dtype=str)["reviewer_id"]
    bids.write_text("paper_id,reviewer_id,bid\n" + "".join(f"{p},{r},Very High\n" for p, r in zip(subs, revs)),
                    encoding="utf-8")
    res = runner.invoke(app, match_args(GOOD / "submissions.csv", GOOD / "publications.csv", GOOD / "reviewers.csv",
                                        out, "--bids", str(bids)))
    assert res.exit_code == 0, res.output
    assert next(line for line in runner.invoke(app, ["status", "-o", str(out)]).output.splitlines()
                if line.startswith("match ")).endswith(" ok")
    bids.write_text(bids.read_text(encoding="utf-8").replace("Very High", "Low"), encoding="utf-8")
    status = runner.invoke(app, ["status", "-o", str(out)]).output
    line = next(line for line in status.splitlines() if line.startswith("match "))
    assert f"out of date: bids file ({bids}, edited in place) changed since" in line, status


def test_the_supply_table_counts_slots_with_the_matchs_per_paper_and_max_load(fake_model, tmp_path):
    """'triage topics' on its own counts the slots as the folder's last match did, and a later match with another
    --max-load leaves the table out of date until topics runs again: then it is what a fresh run makes."""
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    inputs = [str(DATA / "submissions.csv"), "-p", str(DATA / "publications.csv"), "-r", str(DATA / "reviewers.csv")]

    def topics_line():
        status = runner.invoke(app, ["status", "-o", str(out)]).output
        return next(line for line in status.splitlines() if line.startswith("topics "))

    res = runner.invoke(app, ["run", *inputs, "--per-paper", "2", "--max-load", "5", "-o", str(out)])
    assert res.exit_code == 0, res.output
    supply = (out / "topic_supply.csv").read_bytes()
    res = runner.invoke(app, ["topics", *inputs, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "topic_supply.csv").read_bytes() == supply and topics_line().endswith(" ok")
    res = runner.invoke(app, ["match", *inputs, "--per-paper", "2", "--max-load", "4", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "out of date: the match's --max-load changed since; run 'triage topics' again" in topics_line()
    assert "'triage topics'" in res.stderr  # the note after the match names it too
    res = runner.invoke(app, ["topics", *inputs, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert topics_line().endswith(" ok")
    res = runner.invoke(app, ["run", *inputs, "--per-paper", "2", "--max-load", "4", "-o", str(fresh)])
    assert res.exit_code == 0, res.output
    assert (out / "topic_supply.csv").read_bytes() == (fresh / "topic_supply.csv").read_bytes() != supply


def test_a_bids_folder_edited_since_the_match_is_said_by_status_and_only_its_bid_files_count(fake_model, tmp_path):
    import json

    out, dataset = tmp_path / "out", tmp_path / "dataset"
    (dataset / "bids").mkdir(parents=True)
    subs = pd.read_csv(GOOD / "submissions.csv", dtype=str)["paper_id"]
    revs = pd.read_csv(GOOD / "reviewers.csv", dtype=str)["reviewer_id"]
    for i, (p, r) in enumerate(zip(subs, revs)):
        (dataset / "bids" / f"s{i}.jsonl").write_text(json.dumps({"head": p, "tail": r, "label": "High"}) + "\n",
                                                     encoding="utf-8")
    res = runner.invoke(app, match_args(GOOD / "submissions.csv", GOOD / "publications.csv", GOOD / "reviewers.csv",
                                        out, "--bids", str(dataset)))
    assert res.exit_code == 0, res.output

    def match_line() -> str:
        status = runner.invoke(app, ["status", "-o", str(out)]).output
        return next(line for line in status.splitlines() if line.startswith("match "))

    assert match_line().endswith(" ok")
    (dataset / "archives").mkdir()  # the dataset's other folders are not the bids
    (dataset / "archives" / "~A1.jsonl").write_text('{"id": "a", "content": {"title": "T"}}\n', encoding="utf-8")
    assert match_line().endswith(" ok")
    first = dataset / "bids" / "s0.jsonl"
    first.write_text(first.read_text(encoding="utf-8").replace("High", "Low"), encoding="utf-8")
    assert f"bids folder ({dataset}" in match_line() and "changed since" in match_line()


def test_a_chairs_own_taxonomy_or_vocabulary_file_edited_since_is_said_by_status(fake_model, tmp_path):
    """A shipped taxonomy is not a file of the run's; the chair's own taxonomy and assumptions files are, so status
    sees one edited in place (the outputs were recomputed on a rerun already, but status said 'ok')."""
    import shutil

    from triage.taxonomy import TAXONOMY_DIR

    out, areas, vocab = tmp_path / "out", tmp_path / "areas.yaml", tmp_path / "assumptions.yaml"
    shutil.copy(TAXONOMY_DIR / "iclr.yaml", areas)
    shutil.copy(Path(__file__).parents[1] / "data" / "assumptions.yaml", vocab)
    subs = str(GOOD / "submissions.csv")
    assert runner.invoke(app, ["topics", subs, "--taxonomy", str(areas), "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["summarize", subs, "--assumptions", str(vocab), "-o", str(out)]).exit_code == 0
    inputs = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["topics"]["inputs"]
    assert "taxonomy" in inputs and "theory" not in inputs  # dl-theory is shipped

    def state() -> dict[str, str]:
        status = runner.invoke(app, ["status", "-o", str(out)]).output
        return {line.split()[0]: line for line in status.splitlines() if line and not line.startswith(" ")}

    assert state()["topics"].endswith(" ok") and state()["summarize"].endswith(" ok")
    areas.write_text(areas.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert f"out of date: taxonomy file ({areas}, edited in place) changed since" in state()["topics"]
    assert state()["summarize"].endswith(" ok")
    vocab.write_text(vocab.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert f"out of date: assumptions file ({vocab}, edited in place) changed since" in state()["summarize"]
