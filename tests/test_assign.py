from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triage.assign import AssignParams, assign
from triage.errors import InfeasibleError, InputError


def problem(n_pap=4, n_rev=4, seed=0):
    rng = np.random.default_rng(seed)
    S = np.round(rng.uniform(0, 1, size=(n_pap, n_rev)), 4)
    rows = [(f"p{i}", f"r{j}", S[i, j], f"e{j}") for i in range(n_pap) for j in range(n_rev)]
    aff = pd.DataFrame(rows, columns=["paper_id", "reviewer_id", "score", "evidence_title"])
    papers = pd.DataFrame({"paper_id": [f"p{i}" for i in range(n_pap)]})
    revs = pd.DataFrame({"reviewer_id": [f"r{j}" for j in range(n_rev)],
                         "max_load": pd.array([None] * n_rev, dtype="Int64"),
                         "min_load": pd.array([None] * n_rev, dtype="Int64")})
    return S, aff, papers, revs


def exhaustive(S, k, load, banned=frozenset()):
    n_pap, n_rev = S.shape
    choices = [[c for c in itertools.combinations(range(n_rev), k) if not any((i, j) in banned for j in c)]
               for i in range(n_pap)]
    best = -1.0
    for combo in itertools.product(*choices):
        counts = np.bincount([j for c in combo for j in c], minlength=n_rev)
        if counts.max() <= load:
            best = max(best, sum(S[i, j] for i, c in enumerate(combo) for j in c))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_flow_is_optimal_against_exhaustive_search(seed):
    S, aff, papers, revs = problem(seed=seed)
    banned = {(0, 1), (2, 3)}
    conf = pd.DataFrame({"paper_id": ["p0", "p2"], "reviewer_id": ["r1", "r3"], "reason": "x"})
    res = assign(aff, papers, revs, conf, params=AssignParams(per_paper=2, max_load=2))
    assert abs(res.total_score - exhaustive(S, 2, 2, banned)) < 1e-6
    a = res.assignments
    assert (a.groupby("paper_id").size() == 2).all()
    assert a.groupby("reviewer_id").size().max() <= 2
    assert not a.duplicated(["paper_id", "reviewer_id"]).any()
    assert not set(zip(a.paper_id, a.reviewer_id)) & {("p0", "r1"), ("p2", "r3")}


def test_conflict_never_assigned_even_when_best():
    S, aff, papers, revs = problem()
    aff.loc[(aff.paper_id == "p0") & (aff.reviewer_id == "r0"), "score"] = 99.0
    conf = pd.DataFrame({"paper_id": ["p0"], "reviewer_id": ["r0"], "reason": "author"})
    res = assign(aff, papers, revs, conf, params=AssignParams(per_paper=1, max_load=4))
    assert ("p0", "r0") not in set(zip(res.assignments.paper_id, res.assignments.reviewer_id))


def test_infeasible_says_why():
    S, aff, papers, revs = problem(n_pap=4, n_rev=3)
    with pytest.raises(InfeasibleError, match=r"slot\(s\) missing"):
        assign(aff, papers, revs, aff.iloc[:0], params=AssignParams(per_paper=2, max_load=2))
    with pytest.raises(InputError, match="larger than the reviewer pool"):
        assign(aff, papers, revs, aff.iloc[:0], params=AssignParams(per_paper=4))


def test_min_load_filled_and_alternates():
    S, aff, papers, revs = problem(n_pap=6, n_rev=4, seed=2)
    revs["min_load"] = pd.array([0, 0, 0, 3], dtype="Int64")
    res = assign(aff, papers, revs, aff.iloc[:0], params=AssignParams(per_paper=1, max_load=6, alternates=2))
    assert (res.assignments["reviewer_id"] == "r3").sum() >= 3 and not res.unmet_min_load
    assert (res.alternates.groupby("paper_id").size() == 2).all()


def test_alternates_who_can_take_a_paper_come_first():
    """r0 is full after p0 and p1 (max_load 2); for p2 its high score does not make it the first alternate."""
    aff = pd.DataFrame({"paper_id": ["p0", "p0", "p1", "p1", "p2", "p2", "p2", "p2"],
                        "reviewer_id": ["r0", "r1", "r0", "r1", "r0", "r1", "r2", "r3"],
                        "score": [0.9, 0.5, 0.9, 0.5, 0.8, 0.2, 0.7, 0.6], "evidence_title": "e"})
    papers = pd.DataFrame({"paper_id": ["p0", "p1", "p2"]})
    revs = pd.DataFrame({"reviewer_id": ["r0", "r1", "r2", "r3"], "max_load": pd.array([2, 1, 1, 2], dtype="Int64"),
                         "min_load": pd.array([None] * 4, dtype="Int64")})
    res = assign(aff, papers, revs, aff.iloc[:0], params=AssignParams(per_paper=1, alternates=3))
    assert set(zip(res.assignments["paper_id"], res.assignments["reviewer_id"])) == {
        ("p0", "r0"), ("p1", "r0"), ("p2", "r2")}
    alt = res.alternates[res.alternates["paper_id"] == "p2"]
    assert alt["reviewer_id"].tolist() == ["r3", "r1", "r0"] and alt["rank"].tolist() == [1, 2, 3]
    assert alt["spare_load"].tolist() == [2, 1, 0]
    assert list(res.alternates.columns) == ["paper_id", "reviewer_id", "score", "rank", "evidence_title", "spare_load"]


def test_bids_shift_choice():
    S, aff, papers, revs = problem(n_pap=1, n_rev=3)
    worst = aff.sort_values("score").iloc[0]["reviewer_id"]
    bids = pd.DataFrame({"paper_id": ["p0"], "reviewer_id": [worst], "bid": ["Very High"]})
    res = assign(aff, papers, revs, aff.iloc[:0], params=AssignParams(per_paper=1, bid_weight=2.0), bids=bids)
    assert res.assignments["reviewer_id"].tolist() == [worst]


def exhaustive_loads(V, k, loads, banned=frozenset()):
    """Best total value over every feasible choice of k reviewers per paper, per-reviewer max loads."""
    n_pap, n_rev = V.shape
    choices = [[c for c in itertools.combinations(range(n_rev), k) if not any((i, j) in banned for j in c)]
               for i in range(n_pap)]
    best = None
    for combo in itertools.product(*choices):
        counts = np.bincount([j for c in combo for j in c], minlength=n_rev)
        if (counts <= loads).all():
            v = sum(V[i, j] for i, c in enumerate(combo) for j in c)
            best = v if best is None else max(best, v)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_flow_optimal_with_reviewer_loads_and_bids(seed):
    S, aff, papers, revs = problem(n_pap=4, n_rev=5, seed=seed)
    loads = np.array([1, 2, 2, 1, 3])
    revs["max_load"] = pd.array(loads, dtype="Int64")
    rng = np.random.default_rng(seed)
    labels = ["Very High", "High", "Neutral", "Low", "Very Low"]
    pairs = [(i, j) for i in range(4) for j in range(5) if rng.random() < 0.4]
    bids = pd.DataFrame({"paper_id": [f"p{i}" for i, _ in pairs], "reviewer_id": [f"r{j}" for _, j in pairs],
                         "bid": [labels[rng.integers(0, 5)] for _ in pairs]})
    V = S.copy()
    for (i, j), b in zip(pairs, bids["bid"]):
        V[i, j] += 0.1 * {"Very High": 1, "High": 0.5, "Neutral": 0, "Low": -0.5, "Very Low": -1}[b]
    banned = {(1, 0)}
    conf = pd.DataFrame({"paper_id": ["p1"], "reviewer_id": ["r0"], "reason": "x"})
    res = assign(aff, papers, revs, conf, params=AssignParams(per_paper=2, max_load=9, bid_weight=0.1), bids=bids)
    a = res.assignments
    got = sum(V[int(p[1:]), int(r[1:])] for p, r in zip(a.paper_id, a.reviewer_id))
    assert got == pytest.approx(exhaustive_loads(V, 2, loads, banned), abs=1e-6)
    counts = a.groupby("reviewer_id").size()
    assert all(counts.get(f"r{j}", 0) <= loads[j] for j in range(5))
    assert ("p1", "r0") not in set(zip(a.paper_id, a.reviewer_id))


def test_reviewers_without_publications_are_never_assigned():
    S, aff, papers, revs = problem(n_pap=3, n_rev=3)
    idle = pd.DataFrame({"reviewer_id": ["idle"], "max_load": pd.array([None], dtype="Int64"),
                         "min_load": pd.array([2], dtype="Int64")})
    res = assign(aff, papers, pd.concat([revs, idle], ignore_index=True), aff.iloc[:0],
                 params=AssignParams(per_paper=2, max_load=2))
    assert "idle" not in set(res.assignments["reviewer_id"]) and res.unmet_min_load == ["idle"]
    assert (res.assignments.groupby("paper_id").size() == 2).all()


def test_infeasible_names_papers_without_candidates():
    S, aff, papers, revs = problem(n_pap=3, n_rev=3)
    conf = pd.DataFrame({"paper_id": ["p2", "p2"], "reviewer_id": ["r0", "r1"], "reason": "x"})
    with pytest.raises(InfeasibleError) as exc:
        assign(aff, papers, revs, conf, params=AssignParams(per_paper=2, max_load=3))
    msg = str(exc.value)
    assert "p2 (1)" in msg and "1 slot(s) missing" in msg and "\n" not in msg


def test_infeasible_says_which_topics_are_short():
    S, aff, papers, revs = problem(n_pap=4, n_rev=3)
    topics = pd.Series({"p0": "bandits", "p1": "bandits", "p2": "privacy", "p3": "privacy"})
    with pytest.raises(InfeasibleError, match=r"short by topic: .*\(\d\)") as exc:
        assign(aff, papers, revs, aff.iloc[:0], params=AssignParams(per_paper=2, max_load=2), topics=topics)
    assert "2 slot(s) too few" in str(exc.value)


def coauthor_problem():
    """One paper; r0 and r1 are co-authors and score best, r2 a little lower, r3 much lower."""
    aff = pd.DataFrame({"paper_id": ["p0"] * 4, "reviewer_id": ["r0", "r1", "r2", "r3"],
                        "score": [0.90, 0.88, 0.82, 0.40], "evidence_title": "e"})
    papers = pd.DataFrame({"paper_id": ["p0"]})
    revs = pd.DataFrame({"reviewer_id": ["r0", "r1", "r2", "r3"], "max_load": pd.array([None] * 4, dtype="Int64"),
                         "min_load": pd.array([None] * 4, dtype="Int64")})
    return aff, papers, revs, {"r0": {"r1"}, "r1": {"r0"}}


def test_coauthors_on_one_paper_are_split_within_the_slack():
    from triage.assign import coauthor_pairs

    aff, papers, revs, co = coauthor_problem()
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    res = assign(aff, papers, revs, none, params=AssignParams(per_paper=2), coauthors=co)
    assert set(res.assignments["reviewer_id"]) == {"r0", "r2"}  # the lower co-author leaves for r2 (0.06 lower)
    assert (res.coauthor_pairs_solved, res.coauthor_pairs_left) == (1, 0)
    assert coauthor_pairs(res.assignments, co).empty
    assert "r1" in set(res.alternates["reviewer_id"])  # the swapped-out co-author is an alternate
    assert res.total_score == pytest.approx(0.90 + 0.82)
    # Beyond the slack, the best-scoring assignment stands and the pair is counted as left.
    tight = assign(aff, papers, revs, none, params=AssignParams(per_paper=2, coauthor_slack=0.05), coauthors=co)
    assert set(tight.assignments["reviewer_id"]) == {"r0", "r1"}
    assert (tight.coauthor_pairs_solved, tight.coauthor_pairs_left) == (0, 1)
    assert len(coauthor_pairs(tight.assignments, co)) == 1
    # 0 turns the rule off.
    off = assign(aff, papers, revs, none, params=AssignParams(per_paper=2, coauthor_slack=0.0), coauthors=co)
    assert set(off.assignments["reviewer_id"]) == {"r0", "r1"} and off.coauthor_pairs_left == 0


def test_coauthor_swaps_keep_loads_min_loads_and_fixed_pairs():
    aff, papers, revs, co = coauthor_problem()
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    # r2 is full: no swap; the pair stays.
    full = revs.assign(max_load=pd.array([None, None, 0, None], dtype="Int64"))
    res = assign(aff, papers, full, none, params=AssignParams(per_paper=2), coauthors=co)
    assert set(res.assignments["reviewer_id"]) == {"r0", "r1"} and res.coauthor_pairs_left == 1
    # r1 must keep its one paper (min_load 1): r0 leaves instead, for r2 (0.08 lower).
    need = revs.assign(min_load=pd.array([None, 1, None, None], dtype="Int64"))
    res = assign(aff, papers, need, none, params=AssignParams(per_paper=2), coauthors=co)
    assert set(res.assignments["reviewer_id"]) == {"r1", "r2"} and not res.unmet_min_load
    # A pair kept from an earlier assignment is never swapped out, whatever the slack.
    fixed = pd.DataFrame({"paper_id": ["p0", "p0"], "reviewer_id": ["r0", "r1"]})
    res = assign(aff, papers, revs, none, params=AssignParams(per_paper=2, coauthor_slack=1.0), coauthors=co,
                 fixed=fixed)
    assert set(res.assignments["reviewer_id"]) == {"r0", "r1"}


@pytest.mark.parametrize("seed", range(3))
def test_coauthor_swaps_respect_loads_and_conflicts_at_random(seed):
    from triage.assign import coauthor_pairs

    S, aff, papers, revs = problem(n_pap=12, n_rev=8, seed=seed)
    co = {"r0": {"r1", "r2"}, "r1": {"r0"}, "r2": {"r0"}, "r3": {"r4"}, "r4": {"r3"}}
    conf = pd.DataFrame({"paper_id": ["p0", "p5"], "reviewer_id": ["r2", "r7"], "reason": "x"})
    params = AssignParams(per_paper=3, max_load=6, coauthor_slack=0.3)
    base = assign(aff, papers, revs, conf, params=AssignParams(per_paper=3, max_load=6, coauthor_slack=0.0))
    res = assign(aff, papers, revs, conf, params=params, coauthors=co)
    a = res.assignments
    assert (a.groupby("paper_id").size() == 3).all() and a.groupby("reviewer_id").size().max() <= 6
    assert not set(zip(a.paper_id, a.reviewer_id)) & {("p0", "r2"), ("p5", "r7")}
    before = len(coauthor_pairs(base.assignments, co))
    assert res.coauthor_pairs_solved + res.coauthor_pairs_left == before
    assert len(coauthor_pairs(a, co)) == res.coauthor_pairs_left < before
    assert res.total_score <= base.total_score + 1e-9
    assert res.total_score >= base.total_score - 0.3 * res.coauthor_pairs_solved - 1e-9


def test_easychair_bids_by_member_number_with_a_conflict_bid(tmp_path, monkeypatch, fake_embedder):
    """EasyChair's bidding.csv names members by member #, bids yes / maybe / no, and 'conflict' declares one."""
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)

    good = Path(__file__).parent / "bad_inputs" / "good"
    subs = pd.read_csv(good / "submissions.csv", dtype=str, keep_default_na=False)
    revs = pd.read_csv(good / "reviewers.csv", dtype=str, keep_default_na=False)
    committee = pd.DataFrame({"#": [str(100 + i) for i in range(len(revs))], "email": revs["reviewer_id"],
                              "first name": "A", "last name": [f"Member{i}" for i in range(len(revs))],
                              "role": ["PC member"] * (len(revs) - 1) + ["senior PC member"]})
    committee.to_csv(tmp_path / "committee.csv", index=False)
    pubs = pd.read_csv(good / "publications.csv", dtype=str, keep_default_na=False)
    pubs.to_csv(tmp_path / "publications.csv", index=False)
    paper, member = subs["paper_id"].iloc[0], committee["#"].iloc[1]
    senior = committee["#"].iloc[-1]
    pd.DataFrame({"member #": [member, committee["#"].iloc[2], senior], "member name": ["A Member1", "A Member2", "S"],
                  "submission #": [paper] * 3, "bid": ["conflict", "yes", "yes"]}).to_csv(tmp_path / "bidding.csv",
                                                                                        index=False)
    res = CliRunner().invoke(app, ["match", str(good / "submissions.csv"), "-p", str(tmp_path / "publications.csv"),
                                   "-r", str(tmp_path / "committee.csv"), "--bids", str(tmp_path / "bidding.csv"),
                                   "--per-paper", "1", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    said = res.output.replace("\n", " ")
    assert "unknown paper or reviewer" not in said and "belong to reviewers not in" not in said  # no stranger
    assert "1 bid(s) are by members left out of the pool (meta-reviewers)" in said
    confl = pd.read_csv(tmp_path / "out" / "conflicts.csv", dtype=str)
    who = committee.set_index("#").loc[member, "email"]
    assert ((confl["paper_id"] == paper) & (confl["reviewer_id"] == who)
            & confl["reason"].str.contains("declared in the bids")).any()


def test_a_positive_bid_outside_the_top_k_makes_the_pair_a_candidate(tmp_path, monkeypatch, fake_embedder):
    """A Very High bid for a reviewer ranked below --top-k counts, scored as the top-k pairs are; a Very Low bid
    and a bid on a conflicted pair add no candidate."""
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    base = ["match", str(good / "submissions.csv"), "-p", str(good / "publications.csv"), "-r",
            str(good / "reviewers.csv"), "-c", str(good / "conflicts.csv"), "--per-paper", "1"]
    res = CliRunner().invoke(app, [*base, "--all-pairs", "-o", str(tmp_path / "all")])
    assert res.exit_code == 0, res.output
    every = pd.read_csv(tmp_path / "all" / "affinity.csv")
    every["rank"] = every.groupby("paper_id").cumcount() + 1
    # A reviewer ranked below the top 5, within the bid's 0.1 of the paper's best.
    best = every.groupby("paper_id")["score"].transform("max")
    pick = every[(every["rank"] > 5) & (every["score"] + 0.1 > best + 1e-3)].iloc[0]
    low = every[(every["paper_id"] != pick.paper_id) & (every["rank"] > 5)].iloc[0]
    conflicted = pd.read_csv(good / "conflicts.csv").iloc[0]
    pd.DataFrame({"paper_id": [pick.paper_id, low.paper_id, conflicted.paper_id],
                  "reviewer_id": [pick.reviewer_id, low.reviewer_id, conflicted.reviewer_id],
                  "bid": ["Very High", "Very Low", "Very High"]}).to_csv(tmp_path / "bids.csv", index=False)
    res = CliRunner().invoke(app, [*base, "--top-k", "5", "--reviewer-top-k", "0", "--bids", str(tmp_path / "bids.csv"),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    aff = pd.read_csv(tmp_path / "out" / "affinity.csv")
    pairs = set(zip(aff["paper_id"], aff["reviewer_id"]))
    row = aff[(aff["paper_id"] == pick.paper_id) & (aff["reviewer_id"] == pick.reviewer_id)]
    assert len(row) == 1 and row["score"].iloc[0] == pytest.approx(pick.score)  # scored as --all-pairs scores it
    assert row["evidence_title"].iloc[0] == pick.evidence_title
    assert (low.paper_id, low.reviewer_id) not in pairs
    assert (conflicted.paper_id, conflicted.reviewer_id) not in pairs
    a = pd.read_csv(tmp_path / "out" / "assignments.csv")
    assert a.loc[a["paper_id"] == pick.paper_id, "reviewer_id"].tolist() == [pick.reviewer_id]
    assert f"bids: 1 of {len(a)} assigned pairs had a positive bid and 0 a negative one" in res.stdout


def test_bid_summary_says_how_the_assignment_sits_with_the_bids():
    from triage.assign import bid_summary

    a = pd.DataFrame({"paper_id": ["p0", "p0", "p1", "p2"], "reviewer_id": ["r0", "r1", "r0", "r2"]})
    bids = pd.DataFrame({"paper_id": ["p0", "p1", "p1", "p2", "p2"], "reviewer_id": ["r0", "r0", "r1", "r1", "r2"],
                         "bid": ["Very High", "low", " Neutral ", "High", "conflict"]})
    got = bid_summary(a, bids, pd.Series(["r0", "r1", "r2", "r3"]), pd.Series(["p0", "p1", "p2", "p3"]))
    assert got == {"assigned_with_positive_bid": 1, "assigned_with_negative_bid": 1, "assigned": 4,
                   "reviewers_without_bids": 1, "reviewers": 4, "papers_without_positive_bid": 2, "papers": 4}
    # A pair bid on twice counts its last bid, as the solve does; 'placed' adds bidders the table lacks.
    twice = pd.concat([bids, pd.DataFrame({"paper_id": ["p0"], "reviewer_id": ["r0"], "bid": ["Very Low"]})])
    got = bid_summary(a, twice, pd.Series(["r0", "r1", "r2", "r3"]), pd.Series(["p0", "p1", "p2", "p3"]),
                      placed={"r3"})
    assert (got["assigned_with_positive_bid"], got["assigned_with_negative_bid"]) == (0, 2)
    assert got["reviewers_without_bids"] == 0 and got["papers_without_positive_bid"] == 3


def test_alternates_are_ranked_with_the_bids():
    """A Very Low bidder does not come first among the alternates, and a Very High bidder is not left out."""
    aff = pd.DataFrame({"paper_id": ["p0"] * 5, "reviewer_id": ["r0", "r1", "r2", "r3", "r4"],
                        "score": [0.90, 0.60, 0.58, 0.56, 0.52], "evidence_title": "e"})
    papers = pd.DataFrame({"paper_id": ["p0"]})
    revs = pd.DataFrame({"reviewer_id": [f"r{j}" for j in range(5)], "max_load": pd.array([None] * 5, dtype="Int64"),
                         "min_load": pd.array([None] * 5, dtype="Int64")})
    bids = pd.DataFrame({"paper_id": ["p0", "p0"], "reviewer_id": ["r1", "r4"], "bid": ["Very Low", "Very High"]})
    res = assign(aff, papers, revs, aff.iloc[:0], params=AssignParams(per_paper=1, alternates=3), bids=bids)
    assert res.assignments["reviewer_id"].tolist() == ["r0"]
    assert res.alternates["reviewer_id"].tolist() == ["r4", "r2", "r3"]  # values .62, .58, .56; r1's is .50
    assert res.alternates["score"].tolist() == [0.52, 0.58, 0.56]  # the score is still the affinity


def test_a_star_of_coauthors_loses_its_centre_not_both_ends():
    """A shares a publication with B and with C (B and C share none): A alone leaves, one swap for 2.61,
    rather than B and C for D and E (two swaps, 2.59)."""
    aff = pd.DataFrame({"paper_id": ["p0"] * 5, "reviewer_id": ["A", "B", "C", "D", "E"],
                        "score": [0.90, 0.88, 0.88, 0.85, 0.84], "evidence_title": "e"})
    papers = pd.DataFrame({"paper_id": ["p0"]})
    revs = pd.DataFrame({"reviewer_id": list("ABCDE"), "max_load": pd.array([None] * 5, dtype="Int64"),
                         "min_load": pd.array([None] * 5, dtype="Int64")})
    co = {"A": {"B", "C"}, "B": {"A"}, "C": {"A"}}
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    res = assign(aff, papers, revs, none, params=AssignParams(per_paper=3), coauthors=co)
    assert set(res.assignments["reviewer_id"]) == {"B", "C", "D"}
    assert res.total_score == pytest.approx(2.61)
    assert (res.coauthor_pairs_solved, res.coauthor_pairs_left) == (2, 0)
    # When A must keep its paper (min_load), B and C leave after all.
    need = revs.assign(min_load=pd.array([1, None, None, None, None], dtype="Int64"))
    res = assign(aff, papers, need, none, params=AssignParams(per_paper=3), coauthors=co)
    assert set(res.assignments["reviewer_id"]) == {"A", "D", "E"} and res.coauthor_pairs_left == 0


def test_coauthor_pairs_of_kept_assignments_are_counted_apart():
    aff, papers, revs, co = coauthor_problem()
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    fixed = pd.DataFrame({"paper_id": ["p0", "p0"], "reviewer_id": ["r0", "r1"]})
    res = assign(aff, papers, revs, none, params=AssignParams(per_paper=2), coauthors=co, fixed=fixed)
    assert (res.coauthor_pairs_solved, res.coauthor_pairs_left, res.coauthor_pairs_kept) == (0, 1, 1)
    one = assign(aff, papers, revs, none, params=AssignParams(per_paper=2), coauthors=co, fixed=fixed.iloc[:1])
    assert set(one.assignments["reviewer_id"]) == {"r0", "r2"} and one.coauthor_pairs_kept == 0


def test_a_min_load_above_the_default_max_load_is_said(caplog):
    S, aff, papers, revs = problem(n_pap=6, n_rev=4)
    revs["min_load"] = pd.array([5, None, 4, None], dtype="Int64")
    revs["max_load"] = pd.array([None, None, 5, None], dtype="Int64")  # r2's own max_load allows its min_load
    with caplog.at_level("WARNING", logger="triage"):
        res = assign(aff, papers, revs, aff.iloc[:0], params=AssignParams(per_paper=2, max_load=3))
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "1 reviewer(s) have a min_load above --max-load 3" in said[0]
    assert "r0 (min_load 5)" in said[0] and "taken as 3" in said[0] and "r2" not in said[0]
    assert (res.assignments["reviewer_id"] == "r0").sum() == 3


def test_infeasible_suggests_what_fixes_its_cause():
    S, aff, papers, revs = problem(n_pap=4, n_rev=3)
    none = aff.iloc[:0]
    with pytest.raises(InfeasibleError) as exc:  # capacity only: 8 slots needed, 6 available
        assign(aff, papers, revs, none, params=AssignParams(per_paper=2, max_load=2))
    msg = str(exc.value)
    assert "2 slot(s) too few" in msg and "--top-k" not in msg
    assert msg.endswith("raise max_load (--max-load or the reviewers file) or add reviewers, or lower --per-paper")
    conf = pd.DataFrame({"paper_id": ["p3", "p3"], "reviewer_id": ["r0", "r1"], "reason": "x"})
    with pytest.raises(InfeasibleError) as exc:  # and a paper with one candidate left
        assign(aff, papers, revs, conf, params=AssignParams(per_paper=2, max_load=2))
    msg = str(exc.value)
    assert "p3 (1)" in msg and "2 slot(s) too few" in msg
    assert msg.endswith("raise --top-k, raise max_load (--max-load or the reviewers file) or add reviewers, or lower "
                        "--per-paper")
    with pytest.raises(InfeasibleError) as exc:  # candidates only
        assign(aff, papers, revs, conf, params=AssignParams(per_paper=2, max_load=3))
    assert str(exc.value).endswith("; raise --top-k, or lower --per-paper") and "too few" not in str(exc.value)


def reciprocal_problem():
    """r0 wrote p1 and r1 wrote p0; each is the other's paper's best reviewer; r2 is a little worse on both."""
    aff = pd.DataFrame([("p0", "r0", 0.9, "e"), ("p0", "r2", 0.7, "e"), ("p1", "r1", 0.8, "e"),
                        ("p1", "r2", 0.75, "e")], columns=["paper_id", "reviewer_id", "score", "evidence_title"])
    papers = pd.DataFrame({"paper_id": ["p0", "p1"]})
    revs = pd.DataFrame({"reviewer_id": ["r0", "r1", "r2"], "max_load": pd.array([None] * 3, dtype="Int64"),
                         "min_load": pd.array([None] * 3, dtype="Int64")})
    conflicts = pd.DataFrame({"paper_id": ["p1", "p0"], "reviewer_id": ["r0", "r1"],
                              "reason": ["reviewer is an author (id ~a)", "co-author of X on 'T' (2020); "
                                                                            "reviewer may be an author (initials)"]})
    return aff, papers, revs, conflicts


def test_two_reviewers_never_review_each_others_papers():
    """r0 reviews r1's paper while r1 reviews r0's: the lower-scoring of the two gives way to the next candidate."""
    from triage.assign import reciprocal_pairs
    from triage.conflicts import paper_authors

    aff, papers, revs, conflicts = reciprocal_problem()
    authors = paper_authors(conflicts)
    assert authors == {"p1": {"r0"}, "p0": {"r1"}}
    params = AssignParams(per_paper=1)
    plain = assign(aff, papers, revs, conflicts, params=params)
    assert len(reciprocal_pairs(plain.assignments, authors)) == 1
    res = assign(aff, papers, revs, conflicts, params=params, authors=authors)
    assert dict(zip(res.assignments["paper_id"], res.assignments["reviewer_id"])) == {"p0": "r0", "p1": "r2"}
    assert (res.reciprocal_broken, res.reciprocal_left) == (1, 0)
    assert reciprocal_pairs(res.assignments, authors).empty
    # A pair the chair kept stays, and is counted as left; so is one with no stand-in (r2 full).
    kept = assign(aff, papers, revs, conflicts, params=params, authors=authors,
                  fixed=pd.DataFrame({"paper_id": ["p0", "p1"], "reviewer_id": ["r0", "r1"]}))
    assert (kept.reciprocal_broken, kept.reciprocal_left) == (0, 1)
    full = revs.assign(max_load=pd.array([None, None, 0], dtype="Int64"))
    res = assign(aff, papers, full, conflicts, params=params, authors=authors)
    assert (res.reciprocal_broken, res.reciprocal_left) == (0, 1)


@pytest.mark.parametrize("seed", range(3))
def test_reciprocal_swaps_keep_loads_and_conflicts_at_random(seed):
    from triage.assign import reciprocal_pairs

    S, aff, papers, revs = problem(n_pap=12, n_rev=8, seed=seed)
    authors = {f"p{i}": {f"r{i % 8}"} for i in range(12)}
    conf = pd.DataFrame([(p, r, "reviewer is an author (name 'x')") for p, rs in authors.items() for r in rs],
                        columns=["paper_id", "reviewer_id", "reason"])
    params = AssignParams(per_paper=3, max_load=6)
    base = assign(aff, papers, revs, conf, params=params)
    res = assign(aff, papers, revs, conf, params=params, authors=authors)
    a = res.assignments
    assert (a.groupby("paper_id").size() == 3).all() and a.groupby("reviewer_id").size().max() <= 6
    assert not set(zip(a.paper_id, a.reviewer_id)) & set(zip(conf.paper_id, conf.reviewer_id))
    before = len(reciprocal_pairs(base.assignments, authors))
    assert before > 0
    assert len(reciprocal_pairs(a, authors)) == res.reciprocal_left
    assert res.reciprocal_broken > 0 and res.reciprocal_left < before
    assert res.total_score <= base.total_score + 1e-9


def test_an_alternate_never_makes_reciprocal_reviewing():
    """The reviewer swapped out for reviewing a paper by the reviewer of their own paper is no alternate for it."""
    aff, papers, revs, conflicts = reciprocal_problem()
    res = assign(aff, papers, revs, conflicts, params=AssignParams(per_paper=1), authors={"p1": {"r0"}, "p0": {"r1"}})
    alt = set(zip(res.alternates["paper_id"], res.alternates["reviewer_id"]))
    assert ("p1", "r1") not in alt
    plain = assign(aff, papers, revs, conflicts, params=AssignParams(per_paper=1, coauthor_slack=0.0))
    assert ("p1", "r2") in set(zip(plain.alternates["paper_id"], plain.alternates["reviewer_id"]))


def test_one_swap_that_breaks_two_reciprocal_pairs_counts_both():
    """A reviews PB (by B and C) while B reviews PA and C reviews PA2 (both by A): moving A off PB breaks two pairs."""
    papers = pd.DataFrame({"paper_id": ["PA", "PA2", "PB"]})
    revs = pd.DataFrame({"reviewer_id": list("ABCD"), "max_load": pd.array([None] * 4, dtype="Int64"),
                         "min_load": pd.array([None] * 4, dtype="Int64")})
    aff = pd.DataFrame([("PB", "A", 0.8), ("PB", "D", 0.5), ("PA", "B", 0.9), ("PA", "D", 0.1), ("PA2", "C", 0.9),
                        ("PA2", "D", 0.1)], columns=["paper_id", "reviewer_id", "score"]).assign(evidence_title="t")
    authors = {"PA": {"A"}, "PA2": {"A"}, "PB": {"B", "C"}}
    res = assign(aff, papers, revs, pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]),
                 params=AssignParams(per_paper=1), authors=authors)
    assert dict(zip(res.assignments["paper_id"], res.assignments["reviewer_id"])) == {"PA": "B", "PA2": "C", "PB": "D"}
    assert (res.reciprocal_broken, res.reciprocal_left) == (2, 0)


# Randomized assignment (--max-probability)

def _probs(res):
    return res.probabilities.set_index(["paper_id", "reviewer_id"])["probability"]


@pytest.mark.parametrize("seed", range(3))
def test_randomized_assignment_caps_every_pair_and_keeps_counts_and_loads(seed):
    S, aff, papers, revs = problem(n_pap=8, n_rev=10, seed=seed)
    q = 0.4
    res = assign(aff, papers, revs, pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]),
                 params=AssignParams(per_paper=3, max_load=3, max_probability=q, seed=seed))
    p = _probs(res)
    assert p.max() <= q + 1e-9
    assert np.allclose(p.groupby(level="paper_id").sum(), 3)  # each paper expects its 3 reviewers
    expected_load = p.groupby(level="reviewer_id").sum()
    assert (expected_load <= 3 + 1e-9).all()
    a = res.assignments
    assert (a.groupby("paper_id").size() == 3).all()
    load = a.groupby("reviewer_id").size().reindex(expected_load.index, fill_value=0)
    # each reviewer gets the floor or the ceiling of their expected load
    assert ((load >= np.floor(expected_load + 1e-9)) & (load <= np.ceil(expected_load - 1e-9))).all()
    assert set(zip(a.paper_id, a.reviewer_id)) <= set(p.index)  # only pairs the cap gave a chance
    r = res.randomized
    assert r["max_probability"] == q and r["seed"] == seed and r["swapped_in"] == 0
    assert abs(r["expected_score"] - float((p * aff.set_index(["paper_id", "reviewer_id"])["score"]
                                            .reindex(p.index)).sum())) < 1e-3
    best = assign(aff, papers, revs, pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]),
                  params=AssignParams(per_paper=3, max_load=3))
    assert abs(r["best_score"] - best.total_score) < 1e-3
    assert r["expected_score"] < r["best_score"]  # the cap costs some affinity on random scores
    assert best.probabilities is None and best.randomized is None


def test_randomized_draws_assign_each_pair_with_its_probability():
    """Over many seeds, the share of draws that assign a pair is the pair's probability (dependent rounding keeps
    every marginal), and the same seed gives the same assignment."""
    S, aff, papers, revs = problem(n_pap=6, n_rev=7, seed=4)
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    draws = [assign(aff, papers, revs, none, params=AssignParams(per_paper=2, max_load=2, max_probability=0.7,
                                                                  seed=s)) for s in range(400)]
    p = _probs(draws[0])
    assert ((p > 0.01) & (p < 0.99)).sum() >= 6  # a real lottery, not a fixed assignment
    assert p.round(2).nunique() >= 3  # not all halves: a fair coin would then pass too
    counts = pd.Series(0.0, index=p.index)
    for d in draws:
        counts[list(zip(d.assignments.paper_id, d.assignments.reviewer_id))] += 1
    share = counts / len(draws)
    sd = np.sqrt(p * (1 - p) / len(draws))
    assert (np.abs(share - p) <= 4 * sd + 1e-9).all(), pd.DataFrame({"p": p, "share": share})
    again = assign(aff, papers, revs, none, params=AssignParams(per_paper=2, max_load=2, max_probability=0.7, seed=7))
    pd.testing.assert_frame_equal(again.assignments, draws[7].assignments)
    assert len({tuple(sorted(zip(d.assignments.paper_id, d.assignments.reviewer_id))) for d in draws[:20]}) > 5


def test_randomized_keeps_fixed_pairs_and_says_when_the_cap_makes_it_infeasible():
    S, aff, papers, revs = problem(n_pap=4, n_rev=6, seed=1)
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    fixed = pd.DataFrame({"paper_id": ["p0"], "reviewer_id": ["r5"]})
    for seed in range(10):
        res = assign(aff, papers, revs, none, fixed=fixed,
                     params=AssignParams(per_paper=2, max_load=3, max_probability=0.4, seed=seed))
        assert ("p0", "r5") in set(zip(res.assignments.paper_id, res.assignments.reviewer_id))
    assert _probs(res)[("p0", "r5")] == 1.0 and res.randomized["kept"] == 1
    # p0 has only 3 candidates: 2 reviewers at most 0.5 each need 4
    confl = pd.DataFrame({"paper_id": ["p0"] * 3, "reviewer_id": ["r0", "r1", "r2"], "reason": "x"})
    with pytest.raises(InfeasibleError, match=r"--max-probability 0.5 a paper needs at least 4 candidate"):
        assign(aff, papers, revs, confl, params=AssignParams(per_paper=2, max_load=3, max_probability=0.5))
    assign(aff, papers, revs, confl, params=AssignParams(per_paper=2, max_load=3, max_probability=0.7))


def test_the_cost_of_the_cap_is_measured_on_what_the_solve_weighs_with_the_bids():
    """A Very High bid makes A (0.5) the best pick over B (0.55); a cap of 0.5 spreads p0 over A and B. On affinity
    alone that would be 105% of the best assignment: with the bids' nudges it is a cost."""
    from triage.pipeline import MatchResult

    aff = pd.DataFrame([("p0", "A", 0.5, "e"), ("p0", "B", 0.55, "e"), ("p0", "C", 0.2, "e")],
                       columns=["paper_id", "reviewer_id", "score", "evidence_title"])
    revs = pd.DataFrame({"reviewer_id": list("ABC"), "max_load": pd.array([None] * 3, dtype="Int64"),
                         "min_load": pd.array([None] * 3, dtype="Int64")})
    bids = pd.DataFrame({"paper_id": ["p0"], "reviewer_id": ["A"], "bid": ["Very High"]})
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    res = assign(aff, pd.DataFrame({"paper_id": ["p0"]}), revs, none, bids=bids,
                 params=AssignParams(per_paper=1, max_probability=0.5))
    r = res.randomized
    assert r["best_score"] == pytest.approx(0.6) and r["expected_score"] == pytest.approx(0.575) and r["with_bids"]
    note = MatchResult(conflicts=none, affinity=aff, assignments=None, alternates=None, randomized=r).randomized_note()
    assert "the expected total affinity (with the bids' nudges) is 95.8% of the best assignment's" in note
    plain = assign(aff, pd.DataFrame({"paper_id": ["p0"]}), revs, none,
                   params=AssignParams(per_paper=1, max_probability=0.5)).randomized
    assert plain["best_score"] == pytest.approx(0.55) and not plain["with_bids"]


@pytest.mark.parametrize("q", [0, -0.1, 1.5, 0.001])
def test_a_probability_cap_outside_its_range_is_refused(q):
    with pytest.raises(InputError, match="--max-probability"):
        AssignParams(max_probability=q)


@pytest.mark.parametrize(("q", "fix"), [(0.999, "pass 0.99"), (0.335, "pass 0.33"), (0.015, "pass 0.01")])
def test_a_cap_between_hundredths_is_refused_not_rounded(q, fix):
    """Rounded, 0.999 would give the best assignment with no cap at all and 0.335 a cap of 0.34."""
    with pytest.raises(InputError, match=f"--max-probability {q}: the cap is solved in hundredths; {fix}"):
        AssignParams(max_probability=q)
    for ok in (0.29, 0.57, 0.01, 1.0):  # multiples of 0.01 that floats do not hold exactly
        AssignParams(max_probability=ok)


def test_match_max_probability_writes_the_probabilities_says_the_cost_and_a_rerun_without_removes_them(
        tmp_path, monkeypatch, fake_embedder):
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    out = tmp_path / "out"
    base = ["match", str(good / "submissions.csv"), "-p", str(good / "publications.csv"), "-r",
            str(good / "reviewers.csv"), "-c", str(good / "conflicts.csv"), "--per-paper", "2", "-o", str(out)]
    res = CliRunner().invoke(app, [*base, "--max-probability", "0.5", "--seed", "3"])
    assert res.exit_code == 0, res.output
    probs = pd.read_csv(out / "assignment_probabilities.csv")
    assert list(probs.columns) == ["paper_id", "reviewer_id", "score", "probability"]
    assert probs["probability"].max() <= 0.5 and (probs.groupby("paper_id")["probability"].sum().round(6) == 2).all()
    stats = json.loads((out / "manifest.json").read_text())["stages"]["match"]["stats"]["randomized"]
    assert stats["max_probability"] == 0.5 and stats["seed"] == 3
    ratio = stats["expected_score"] / stats["best_score"]
    assert f"the expected total affinity is {ratio:.1%} of the best assignment's" in res.stdout
    assert "randomized assignment (seed 3): no pair more likely than 0.5" in res.stdout
    first = pd.read_csv(out / "assignments.csv")
    assert CliRunner().invoke(app, [*base, "--max-probability", "0.5", "--seed", "3"]).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "assignments.csv"), first)  # the seed fixes the draw
    res = CliRunner().invoke(app, ["report", str(good / "submissions.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text()
    assert 'id="randomized"' in html and f"{100 * ratio:.1f}% of the best assignment" in html
    res = CliRunner().invoke(app, base)
    assert res.exit_code == 0, res.output
    assert not (out / "assignment_probabilities.csv").exists() and "randomized" not in res.stdout
    assert json.loads((out / "manifest.json").read_text())["stages"]["match"]["stats"]["randomized"] is None


def test_a_randomized_rerun_that_keeps_the_assignment_says_the_kept_pairs_are_certain(tmp_path, monkeypatch,
                                                                                     fake_embedder):
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    out = tmp_path / "out"
    base = ["match", str(good / "submissions.csv"), "-p", str(good / "publications.csv"), "-r",
            str(good / "reviewers.csv"), "-c", str(good / "conflicts.csv"), "--per-paper", "2", "-o", str(out),
            "--max-probability", "0.5", "--coauthor-slack", "0"]
    res = CliRunner().invoke(app, base)
    assert res.exit_code == 0, res.output
    assert "no pair more likely than 0.5; the expected" in res.stdout
    earlier = tmp_path / "earlier.csv"
    earlier.write_bytes((out / "assignments.csv").read_bytes())
    res = CliRunner().invoke(app, [*base, "--keep-assignments", str(earlier)])
    assert res.exit_code == 0, res.output
    probs = pd.read_csv(out / "assignment_probabilities.csv")
    certain = int((probs["probability"] > 0.5).sum())
    assert certain == len(pd.read_csv(earlier))  # every earlier pair is kept for sure, above the cap
    assert (f"no pair more likely than 0.5 apart from the {certain} pair(s) kept from the earlier assignment "
            "(--keep-assignments), which are certain;") in res.stdout
    res = CliRunner().invoke(app, ["report", str(good / "submissions.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (f"above 0.5 apart from the {certain} pairs kept from the earlier assignment"
            in (out / "report.html").read_text())


def test_the_emergency_pool_covers_the_most_papers_with_reviewers_who_have_load_to_spare():
    from triage.assign import reserve_pool

    a = pd.DataFrame({"paper_id": ["p1", "p1", "p2", "p2", "p3", "p3"],
                      "reviewer_id": ["a", "b", "a", "c", "b", "c"], "score": [0.9, 0.5, 0.8, 0.6, 0.7, 0.4]})
    cand = pd.DataFrame([  # (paper, reviewer, score); the weakest assigned: p1 0.5, p2 0.6, p3 0.4
        ("p1", "d", 0.55), ("p2", "d", 0.61), ("p3", "d", 0.39),  # d: p1, p2 (p3 below its weakest)
        ("p1", "e", 0.50), ("p3", "e", 0.45),  # e: p1, p3 (0.50 is as good as p1's weakest)
        ("p3", "f", 0.90),  # f: p3 only
        ("p1", "a", 0.90), ("p3", "a", 0.95),  # a is full (max_load 2): never in the pool
        ("p1", "b", 0.50),  # an assigned pair does not count
        ("p1", "g", 0.99), ("p2", "g", 0.99), ("p3", "g", 0.99),  # g would cover all, but has no load to give
    ], columns=["paper_id", "reviewer_id", "score"])
    revs = pd.DataFrame({"reviewer_id": list("abcdefg"), "max_load": pd.array([2, 3, 3, 2, 2, 4, 0], dtype="Int64"),
                         "min_load": pd.array([None] * 7, dtype="Int64")})
    pool = reserve_pool(a, cand, revs, AssignParams(), size=5)
    # d and e both add 2 papers with 2 spare: the id decides (d); then e and f both add p3, and f has more spare;
    # e then adds nothing, so the pool stops below its size
    assert pool["reviewer_id"].tolist() == ["d", "f"]
    assert pool[["papers", "new_papers", "covered"]].values.tolist() == [[2, 2, 2], [1, 1, 3]]
    assert pool[["load", "max_load", "spare_load"]].values.tolist() == [[0, 2, 2], [0, 4, 4]]
    assert reserve_pool(a, cand, revs, AssignParams(), size=1)["reviewer_id"].tolist() == ["d"]
    # more spare load wins a tie in coverage
    revs2 = revs.assign(max_load=pd.array([2, 3, 3, 2, 5, 4, 0], dtype="Int64"))
    assert reserve_pool(a, cand, revs2, AssignParams(), size=1)["reviewer_id"].tolist() == ["e"]
    assert reserve_pool(a, cand, revs, AssignParams(), size=0).empty


def test_match_writes_the_emergency_pool_and_reserve_0_removes_it(tmp_path, monkeypatch, fake_embedder):
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    out = tmp_path / "out"
    base = ["match", str(good / "submissions.csv"), "-p", str(good / "publications.csv"), "-r",
            str(good / "reviewers.csv"), "-c", str(good / "conflicts.csv"), "--per-paper", "1", "-o", str(out)]
    res = CliRunner().invoke(app, [*base, "--reserve", "2"])
    assert res.exit_code == 0, res.output
    pool = pd.read_csv(out / "reserve.csv")
    assert 1 <= len(pool) <= 2 and (pool["spare_load"] > 0).all()
    n_papers = pd.read_csv(out / "assignments.csv")["paper_id"].nunique()
    assert (f"emergency pool: {len(pool)} reviewer(s) with load to spare can stand in on {pool['covered'].iloc[-1]} "
            f"of {n_papers} papers") in res.stdout
    res = CliRunner().invoke(app, ["report", str(good / "submissions.csv"), "-o", str(out)])
    assert res.exit_code == 0 and 'id="reserve"' in (out / "report.html").read_text()
    res = CliRunner().invoke(app, [*base, "--reserve", "0"])
    assert res.exit_code == 0, res.output
    assert not (out / "reserve.csv").exists() and "emergency pool" not in res.stdout


def three_authors():
    """Papers pA, pB, pC written by reviewers rA, rB, rC (their conflicts say so), and rD, who wrote none."""
    papers = pd.DataFrame({"paper_id": ["pA", "pB", "pC"]})
    revs = pd.DataFrame({"reviewer_id": ["rA", "rB", "rC", "rD"], "max_load": pd.array([None] * 4, dtype="Int64"),
                         "min_load": pd.array([None] * 4, dtype="Int64")})
    authors = {"pA": {"rA"}, "pB": {"rB"}, "pC": {"rC"}}
    conflicts = pd.DataFrame([(p, next(iter(r)), "reviewer is an author (id x)") for p, r in authors.items()],
                             columns=["paper_id", "reviewer_id", "reason"])
    return papers, revs, authors, conflicts


def test_a_ring_of_three_reviewers_is_broken():
    """rA wrote pA, rB pB, rC pC; the best assignment has rA on pB, rB on pC and rC on pA, a ring in which each
    reviews a paper the next one wrote (no two review each other). The lowest-valued of its rows gives way to
    the next candidate, rD."""
    from triage.assign import reciprocal_pairs, review_rings

    aff = pd.DataFrame([("pB", "rA", 0.9), ("pC", "rB", 0.85), ("pA", "rC", 0.8),
                        ("pA", "rD", 0.6), ("pB", "rD", 0.6), ("pC", "rD", 0.6)],
                       columns=["paper_id", "reviewer_id", "score"]).assign(evidence_title="e")
    papers, revs, authors, conflicts = three_authors()
    params = AssignParams(per_paper=1)
    plain = assign(aff, papers, revs, conflicts, params=params)
    ring = review_rings(plain.assignments, authors)
    assert ring.values.tolist() == [["rA", "pB", "rB", "pC", "rC", "pA"]]
    assert reciprocal_pairs(plain.assignments, authors).empty
    res = assign(aff, papers, revs, conflicts, params=params, authors=authors)
    assert dict(zip(res.assignments["paper_id"], res.assignments["reviewer_id"])) == {"pA": "rD", "pB": "rA",
                                                                                      "pC": "rB"}
    assert (res.rings_broken, res.rings_left) == (1, 0) and (res.reciprocal_broken, res.reciprocal_left) == (0, 0)
    assert review_rings(res.assignments, authors).empty
    # No stand-in (rD full): the ring is left, and counted
    full = revs.assign(max_load=pd.array([None, None, None, 0], dtype="Int64"))
    res = assign(aff, papers, full, conflicts, params=params, authors=authors)
    assert (res.rings_broken, res.rings_left) == (0, 1)


def test_three_assigned_pairs_are_one_ring_even_when_it_closes_both_ways():
    """rA on pB, rB on pC, rC on pA: with two authors on each paper the ring closes both ways round (rA -> rB ->
    rC and rA -> rC -> rB); it is listed once, as the run counts it."""
    from triage.assign import review_rings

    a = pd.DataFrame({"paper_id": ["pB", "pC", "pA"], "reviewer_id": ["rA", "rB", "rC"]})
    authors = {"pA": {"rA", "rB"}, "pB": {"rB", "rC"}, "pC": {"rC", "rA"}}
    assert review_rings(a, authors).values.tolist() == [["rA", "pB", "rB", "pC", "rC", "pA"]]


@pytest.mark.parametrize(("seed", "n_authors"), [(1, 10), (2, 8), (5, 10)])
def test_rings_of_three_are_broken_at_random_and_counted_as_found(seed, n_authors):
    from triage.assign import reciprocal_pairs, review_rings

    S, aff, papers, revs = problem(n_pap=20, n_rev=12, seed=seed)
    authors = {f"p{i}": {f"r{i}"} for i in range(n_authors)}
    conf = pd.DataFrame([(p, r, "reviewer is an author (name 'x')") for p, rs in authors.items() for r in rs],
                        columns=["paper_id", "reviewer_id", "reason"])
    params = AssignParams(per_paper=2, max_load=5)
    base = assign(aff, papers, revs, conf, params=params)
    res = assign(aff, papers, revs, conf, params=params, authors=authors)
    before = len(review_rings(base.assignments, authors))
    assert before > 0 and res.rings_broken == before and res.rings_left == 0
    assert review_rings(res.assignments, authors).empty and reciprocal_pairs(res.assignments, authors).empty
    a = res.assignments
    assert (a.groupby("paper_id").size() == 2).all() and a.groupby("reviewer_id").size().max() <= 5


def test_in_a_dense_pool_pairs_are_broken_first_and_rings_counted_as_they_are():
    """Every reviewer wrote a paper and reviews five: breaking the pairs makes rings, which are counted as left."""
    from triage.assign import reciprocal_pairs, review_rings

    S, aff, papers, revs = problem(n_pap=15, n_rev=10, seed=2)
    authors = {f"p{i}": {f"r{i % 10}"} for i in range(15)}
    conf = pd.DataFrame([(p, r, "reviewer is an author (name 'x')") for p, rs in authors.items() for r in rs],
                        columns=["paper_id", "reviewer_id", "reason"])
    res = assign(aff, papers, revs, conf, params=AssignParams(per_paper=3, max_load=6), authors=authors)
    assert res.reciprocal_broken > 0 and res.reciprocal_left == len(reciprocal_pairs(res.assignments, authors)) == 0
    assert res.rings_broken >= 0 and res.rings_left == len(review_rings(res.assignments, authors)) > 0


def test_breaking_a_pair_prefers_a_stand_in_who_makes_no_ring():
    """rA and rB review each other's papers; rC, the better stand-in on pA, would close a ring (rC on pA by rA,
    rA on pB by rB, rB on pC by rC), so rD takes the place. Without rD the pair is still broken, through rC."""
    from triage.assign import reciprocal_pairs, review_rings

    aff = pd.DataFrame([("pB", "rA", 0.9), ("pA", "rB", 0.7), ("pC", "rB", 0.9), ("pA", "rC", 0.65),
                        ("pA", "rD", 0.5)], columns=["paper_id", "reviewer_id", "score"]).assign(evidence_title="e")
    papers, revs, authors, conflicts = three_authors()
    params = AssignParams(per_paper=1)
    res = assign(aff, papers, revs, conflicts, params=params, authors=authors)
    assert dict(zip(res.assignments["paper_id"], res.assignments["reviewer_id"])) == {"pA": "rD", "pB": "rA",
                                                                                      "pC": "rB"}
    assert (res.reciprocal_broken, res.rings_left) == (1, 0)
    no_d = revs.assign(max_load=pd.array([None, None, None, 0], dtype="Int64"))
    res = assign(aff, papers, no_d, conflicts, params=params, authors=authors)
    assert res.assignments.set_index("paper_id").at["pA", "reviewer_id"] == "rC"
    assert reciprocal_pairs(res.assignments, authors).empty
    assert (res.reciprocal_broken, res.reciprocal_left, res.rings_broken, res.rings_left) == (1, 0, 0, 1)
    assert len(review_rings(res.assignments, authors)) == 1


# Senior reviewers (--min-senior, the reviewers file's 'senior' column)

def exhaustive_senior(S, k, load, senior, m):
    n_pap, n_rev = S.shape
    best = -1.0
    choices = [list(itertools.combinations(range(n_rev), k)) for _ in range(n_pap)]
    for combo in itertools.product(*choices):
        counts = np.bincount([j for c in combo for j in c], minlength=n_rev)
        if counts.max() <= load and all(sum(senior[j] for j in c) >= m for c in combo):
            best = max(best, sum(S[i, j] for i, c in enumerate(combo) for j in c))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_every_paper_gets_a_senior_reviewer_at_the_best_total(seed):
    S, aff, papers, revs = problem(n_pap=4, n_rev=5, seed=seed)
    senior = np.array([False, False, False, True, True])
    revs = revs.assign(senior=senior)
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    res = assign(aff, papers, revs, none, params=AssignParams(per_paper=2, max_load=2))
    a = res.assignments
    assert res.min_senior == 1 and res.senior_short == []
    assert a.assign(s=a["reviewer_id"].isin(["r3", "r4"])).groupby("paper_id")["s"].sum().min() >= 1
    assert abs(res.total_score - exhaustive_senior(S, 2, 2, senior, 1)) < 1e-6
    off = assign(aff, papers, revs, none, params=AssignParams(per_paper=2, max_load=2, min_senior=0))
    assert abs(off.total_score - exhaustive(S, 2, 2)) < 1e-6 and off.min_senior == 0
    # no 'senior' column, or no one marked: nothing asked
    assert assign(aff, papers, revs.assign(senior=False), none, params=AssignParams(per_paper=2)).min_senior == 0


def test_a_paper_without_a_senior_candidate_is_said_and_a_swap_that_took_one_is_undone():
    from triage.assign import _ensure_senior

    S, aff, papers, revs = problem(n_pap=3, n_rev=4, seed=1)
    revs = revs.assign(senior=[False, False, False, True])
    confl = pd.DataFrame({"paper_id": ["p0"], "reviewer_id": ["r3"], "reason": "x"})  # p0: no senior candidate
    res = assign(aff, papers, revs, confl, params=AssignParams(per_paper=1, max_load=3))
    assert res.senior_short == ["p0"]
    # _ensure_senior: paper 0 lost its senior (row 1) to a junior (row 0); the senior comes back
    pi, ri = np.array([0, 0, 0]), np.array([0, 1, 2])
    value = np.array([0.9, 0.5, 0.4])
    chosen = np.array([True, False, False])
    given, short = _ensure_senior(pi, ri, value, chosen, np.array([False, True, False]), 1, {}, np.full(3, 2),
                                  np.zeros(3, dtype=np.int64), np.zeros(3, dtype=bool))
    assert chosen.tolist() == [False, True, False] and (given, short) == (1, [])
    # ... but not in place of a kept (fixed) pair, nor by a co-author of the paper's other reviewer
    chosen = np.array([True, False, False])
    given, short = _ensure_senior(pi, ri, value, chosen, np.array([False, True, False]), 1, {}, np.full(3, 2),
                                  np.zeros(3, dtype=np.int64), np.array([True, False, False]))
    assert chosen.tolist() == [True, False, False] and (given, short) == (0, [0])


def test_the_senior_swap_does_not_bring_back_reviewers_who_review_each_others_papers():
    """rA and rB, both senior, wrote pA and pB and are the best on each other's; breaking the pair takes pB's
    senior. Bringing rA back would make the pair again, so pB is left short of a senior, and said."""
    from triage.assign import reciprocal_pairs

    aff = pd.DataFrame([("pB", "rA", 0.9), ("pB", "rC", 0.8), ("pA", "rB", 0.9), ("pA", "rD", 0.8)],
                       columns=["paper_id", "reviewer_id", "score"]).assign(evidence_title="e")
    papers, revs, authors, conflicts = three_authors()
    papers, authors = papers.iloc[:2], {"pA": {"rA"}, "pB": {"rB"}}
    revs = revs.assign(reviewer_id=["rA", "rB", "rC", "rD"], senior=[True, True, False, False])
    res = assign(aff, papers, revs, conflicts.iloc[:2], params=AssignParams(per_paper=1), authors=authors)
    assert reciprocal_pairs(res.assignments, authors).empty
    assert (res.reciprocal_broken, res.reciprocal_left, res.senior_short) == (1, 0, ["pB"])


def test_randomized_draws_keep_a_senior_reviewer_on_each_paper():
    S, aff, papers, revs = problem(n_pap=6, n_rev=8, seed=3)
    revs = revs.assign(senior=[j in (2, 5, 7) for j in range(8)])
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    for seed in range(30):
        res = assign(aff, papers, revs, none,
                     params=AssignParams(per_paper=2, max_load=3, max_probability=0.6, seed=seed))
        a = res.assignments
        assert a.assign(s=a["reviewer_id"].isin(["r2", "r5", "r7"])).groupby("paper_id")["s"].any().all()
        assert (a.groupby("paper_id").size() == 2).all() and a.groupby("reviewer_id").size().max() <= 3


def test_match_reads_the_senior_column_and_the_report_lists_papers_without_a_senior(tmp_path, monkeypatch,
                                                                                   fake_embedder):
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    revs = pd.read_csv(good / "reviewers.csv", dtype=str, keep_default_na=False)
    senior_ids = revs["reviewer_id"].iloc[:2].tolist()
    revs.assign(senior=["yes", "Yes"] + [""] * (len(revs) - 2)).to_csv(tmp_path / "reviewers.csv", index=False)
    out = tmp_path / "out"
    args = [str(good / "submissions.csv"), "-p", str(good / "publications.csv"), "-r", str(tmp_path / "reviewers.csv")]
    res = CliRunner().invoke(app, ["match", *args, "--per-paper", "2", "-o", str(out)])
    assert res.exit_code == 0, res.output
    a = pd.read_csv(out / "assignments.csv")
    has = a.assign(s=a["reviewer_id"].isin(senior_ids)).groupby("paper_id")["s"].any()
    stats = __import__("json").loads((out / "manifest.json").read_text())["stages"]["match"]["stats"]
    assert stats["min_senior"] == 1 and stats["papers_short_of_seniors"] == int((~has).sum())
    assert CliRunner().invoke(app, ["report", *args, "-o", str(out)]).exit_code == 0
    html = (out / "report.html").read_text()
    assert f"Papers without a senior reviewer <span class=\"muted\">({int((~has).sum())};" in html
    # --min-senior 2: the report lists the papers with fewer than two, as many as the run says are short
    res = CliRunner().invoke(app, ["match", *args, "--per-paper", "2", "--min-senior", "2", "-o", str(out)])
    assert res.exit_code == 0
    stats = __import__("json").loads((out / "manifest.json").read_text())["stages"]["match"]["stats"]
    assert CliRunner().invoke(app, ["report", *args, "-o", str(out)]).exit_code == 0
    html = (out / "report.html").read_text()
    short = stats["papers_short_of_seniors"]
    assert f"Papers with fewer than 2 senior reviewers <span class=\"muted\">({short};" in html
    # --min-senior 0 turns it off; a value that is not yes or no is refused with its row
    res = CliRunner().invoke(app, ["match", *args, "--per-paper", "2", "--min-senior", "0", "-o", str(out)])
    assert res.exit_code == 0 and __import__("json").loads((out / "manifest.json").read_text())["stages"]["match"][
        "stats"]["min_senior"] == 0
    revs.assign(senior=["maybe"] + [""] * (len(revs) - 1)).to_csv(tmp_path / "reviewers.csv", index=False)
    res = CliRunner().invoke(app, ["match", *args, "-o", str(tmp_path / "o2")])
    assert res.exit_code == 1 and "column 'senior' is 'maybe'; use yes or no" in res.output
    assert "row 2" in res.output or "line 2" in res.output


def test_min_senior_above_per_paper_or_without_a_senior_in_the_pool_is_refused(tmp_path, monkeypatch, fake_embedder):
    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    with pytest.raises(InputError, match=r"--min-senior 3 is above --per-paper 2; lower --min-senior"):
        AssignParams(per_paper=2, min_senior=3)
    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    args = ["match", str(good / "submissions.csv"), "-p", str(good / "publications.csv"), "--per-paper", "2"]
    res = CliRunner().invoke(app, [*args, "-r", str(good / "reviewers.csv"), "--min-senior", "1", "-o",
                                   str(tmp_path / "out")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "reviewers.csv marks no reviewer senior (column 'senior': yes / no); mark senior reviewers there or " \
           "pass --min-senior 0" in " ".join(res.output.split())
    assert not (tmp_path / "out" / "assignments.csv").exists()
    # marked senior, but without publications: not in the pool either
    revs = pd.read_csv(good / "reviewers.csv", dtype=str, keep_default_na=False)
    pd.concat([revs.assign(senior=""), pd.DataFrame({"reviewer_id": ["~New_Senior1"], "senior": ["yes"]})]).to_csv(
        tmp_path / "reviewers.csv", index=False)
    res = CliRunner().invoke(app, [*args, "-r", str(tmp_path / "reviewers.csv"), "--min-senior", "1", "-o",
                                   str(tmp_path / "out")])
    assert res.exit_code == 1 and "marks 1 reviewer(s) senior, none with a publication" in " ".join(res.output.split())


def test_an_alternate_never_closes_a_ring_of_three():
    """rA reviews pB (by rB) and rB reviews pC (by rC): rC is no alternate for pA (by rA), whom they would put in a
    ring; rD, who wrote nothing, is."""
    aff = pd.DataFrame([("pB", "rA", 0.9), ("pC", "rB", 0.9), ("pA", "rD", 0.8), ("pA", "rC", 0.7),
                        ("pB", "rD", 0.1), ("pC", "rD", 0.1)],
                       columns=["paper_id", "reviewer_id", "score"]).assign(evidence_title="e")
    papers, revs, authors, conflicts = three_authors()
    res = assign(aff, papers, revs, conflicts, params=AssignParams(per_paper=1), authors=authors)
    assert dict(zip(res.assignments["paper_id"], res.assignments["reviewer_id"])) == {"pA": "rD", "pB": "rA",
                                                                                      "pC": "rB"}
    alt = set(zip(res.alternates["paper_id"], res.alternates["reviewer_id"]))
    assert ("pA", "rC") not in alt and ("pB", "rD") in alt
    plain = assign(aff, papers, revs, conflicts, params=AssignParams(per_paper=1))
    assert ("pA", "rC") in set(zip(plain.alternates["paper_id"], plain.alternates["reviewer_id"]))


@pytest.mark.parametrize("seed", range(12))
def test_coauthor_pairs_left_are_those_of_the_final_assignment(seed):
    """The reciprocal, ring and senior swaps run after the co-author swap and may split or leave co-author pairs:
    the count the run reports is that of the assignment written."""
    from triage.assign import coauthor_pairs

    S, aff, papers, revs = problem(n_pap=16, n_rev=10, seed=seed)
    rng = np.random.default_rng(seed)
    co: dict[str, set[str]] = {}
    for a, b in rng.choice(10, size=(14, 2)):
        if a != b:
            co.setdefault(f"r{a}", set()).add(f"r{b}")
            co.setdefault(f"r{b}", set()).add(f"r{a}")
    authors = {f"p{i}": {f"r{i % 10}"} for i in range(12)}
    conf = pd.DataFrame([(p, r, "reviewer is an author (name 'x')") for p, rs in authors.items() for r in rs],
                        columns=["paper_id", "reviewer_id", "reason"])
    revs = revs.assign(senior=[i % 3 == 0 for i in range(len(revs))])
    params = AssignParams(per_paper=3, max_load=6, coauthor_slack=0.3, min_senior=1)
    res = assign(aff, papers, revs, conf, params=params, coauthors=co, authors=authors)
    base = assign(aff, papers, revs, conf, params=replace(params, coauthor_slack=0.0))
    assert res.coauthor_pairs_left == len(coauthor_pairs(res.assignments, co))
    assert res.coauthor_pairs_solved + res.coauthor_pairs_left == len(coauthor_pairs(base.assignments, co))


def test_bids_with_a_json_null_or_two_bid_columns_are_read_or_named(tmp_path):
    """A bid edge whose reviewer is null (JSON) is an empty id, as an empty cell is, not a traceback; two columns
    read as the same one ('bid' and 'Bid') are named, as the one to keep is the chair's choice."""
    import json

    from triage.assign import read_bids

    p = tmp_path / "bids.json"
    p.write_text(json.dumps([{"paper_id": "p1", "reviewer_id": None, "bid": "High"},
                             {"paper_id": "p1", "reviewer_id": "r1", "bid": " Very  High "}]), encoding="utf-8")
    bids = read_bids(p)
    assert bids["reviewer_id"].tolist() == ["", "r1"] and bids["bid"].tolist() == ["High", "Very High"]
    p = tmp_path / "bids.csv"
    p.write_text("paper_id,reviewer_id,bid,Bid\np1,r1,High,Low\n", encoding="utf-8")
    with pytest.raises(InputError, match="columns 'bid', 'Bid' are all read as 'bid'; keep one of them"):
        read_bids(p)


def test_a_bids_table_of_small_numbers_is_not_taken_for_starts_matrix(tmp_path):
    """Reviewer ids 1-4 and AAAI's bids 1 and 2 are all START codes too; a 'bid' column says it is a table."""
    from triage.assign import read_bids

    p = tmp_path / "bids.csv"
    p.write_text("paper_id,reviewer_id,bid\n1,2,1\n2,3,2\n", encoding="utf-8")
    assert read_bids(p).values.tolist() == [["2", "3", "in a pinch"]]


def test_start_bids_matrix_of_codes_is_read_as_bids_by_username(tmp_path):
    """START's bids: a row per submission, a column per username, codes 1 yes, 2 maybe, 3 no, 4 conflict."""
    from triage.assign import bid_values, read_bids

    p = tmp_path / "bids.csv"
    p.write_text("Submission ID,AnnLee,boli\n1,1,4\n2,,3\n3,2,\n", encoding="utf-8")
    bids = read_bids(p)
    assert bids.values.tolist() == [["1", "AnnLee", "yes"], ["1", "boli", "conflict"], ["2", "boli", "no"],
                                    ["3", "AnnLee", "maybe"]]
    assert bid_values(bids).tolist()[::2] == [1.0, -1.0]


def test_cmt_bid_words_and_aaai_numeric_bids_are_read_on_one_scale(tmp_path):
    """CMT's eager / willing / in a pinch / not willing, and AAAI's numbers for them (6, 4, 2, 0.05; 1 is no bid)."""
    from triage.assign import bid_values, read_bids

    p = tmp_path / "bids.csv"
    p.write_text("paper,reviewer,bid\n1,a@x.org,6\n1,b@x.org,0.05\n2,a@x.org,1\n2,b@x.org,2.0\n3,a@x.org,4\n",
                 encoding="utf-8")
    bids = read_bids(p)
    assert bids.values.tolist() == [["1", "a@x.org", "eager"], ["1", "b@x.org", "not willing"],
                                    ["2", "b@x.org", "in a pinch"], ["3", "a@x.org", "willing"]]
    assert bid_values(bids).tolist() == [1.0, -1.0, 0.25, 0.5]
    p.write_text("paper_id,reviewer_id,bid\n1,a,Eager\n1,b,In a  Pinch\n2,a,Not Entered\n2,b,not willing\n",
                 encoding="utf-8")
    assert bid_values(read_bids(p)).tolist() == [1.0, 0.25, -1.0]
    # Numbers off AAAI's scale are not guessed at, and the row named is the file's.
    p.write_text("paper_id,reviewer_id,bid\n1,a,not entered\n1,b,4\n2,a,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3 column 'bid' is '4'; use one of .*AAAI's 6, 4, 2, 1, 0\.05"):
        read_bids(p)


def test_openreview_expertise_bids_folder_is_read_as_bids(tmp_path, monkeypatch, fake_embedder):
    """bids/<submission id>.jsonl, one bid per line, as an edge (head, tail, label) or an API v1 tag (forum,
    signatures, tag); given as that folder or the dataset folder holding it, to `match --bids`."""
    import json

    from triage.assign import bid_values, read_bids

    bids = tmp_path / "dataset" / "bids"
    bids.mkdir(parents=True)
    (bids / "p1.jsonl").write_text(
        json.dumps({"head": "p1", "tail": "~Ann_Lee1", "label": "Very High", "weight": 1}) + "\n"
        + json.dumps({"head": "p1", "tail": "~Bo_Li1", "label": "No Bid"}) + "\n", encoding="utf-8")
    (bids / "p2.jsonl").write_text(
        json.dumps({"forum": "p2", "signatures": ["~Bo_Li1"], "tag": "Low"}) + "\n\n", encoding="utf-8")
    for given in (bids, bids.parent):
        got = read_bids(given)
        assert got.values.tolist() == [["p1", "~Ann_Lee1", "Very High"], ["p2", "~Bo_Li1", "Low"]]
        assert bid_values(got).tolist() == [1.0, -0.5]
    (bids / "p2.jsonl").write_text('{"forum": "p2", "tag": "Low"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"p2.jsonl: line 1 is not a bid \(an edge with 'tail' and 'label'"):
        read_bids(bids)
    (bids / "p2.jsonl").write_text('{"head": "p2", "tail": "~Bo_Li1", "label": "Perhaps"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="bids: p2.jsonl line 1 column 'bid' is 'Perhaps'"):
        read_bids(bids.parent)
    # `match --bids` takes the folder (other options that name a file still refuse one).
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    base = ["match", str(good / "submissions.csv"), "-p", str(good / "publications.csv"), "-r",
            str(good / "reviewers.csv"), "--per-paper", "1"]
    first = pd.read_csv(good / "submissions.csv", dtype=str)["paper_id"].iloc[0]
    who = pd.read_csv(good / "reviewers.csv", dtype=str)["reviewer_id"].iloc[0]
    for f in bids.iterdir():
        f.unlink()
    (bids / "first.jsonl").write_text(json.dumps({"head": first, "tail": who, "label": "Very High"}) + "\n",
                                      encoding="utf-8")
    res = CliRunner().invoke(app, [*base, "--bids", str(bids.parent), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "bids: 1 of" in res.stdout and "reviewers placed no bid" in res.stdout
    res = CliRunner().invoke(app, [*base, "-c", str(bids), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and "is a folder, not a file" in res.output


def test_a_dataset_folder_without_a_bids_folder_is_not_read_for_bids(tmp_path):
    """Its submissions.jsonl holds notes, not bids."""
    import json

    from triage.assign import read_bids

    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "submissions.jsonl").write_text(json.dumps({"id": "p1", "content": {"title": "T", "abstract": "A"}})
                                               + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dataset: holds no bids folder and no <submission id>.jsonl bid files"):
        read_bids(dataset)


def test_in_a_file_of_numeric_bids_the_one_off_aaais_scale_is_named(tmp_path):
    from triage.assign import read_bids

    p = tmp_path / "bids.csv"
    p.write_text("paper_id,reviewer_id,bid\n1,r1,6\n1,r2,0.05\n2,r1,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 4 column 'bid' is '3'"):
        read_bids(p)


def test_cmt_bids_by_paper_id_and_reviewer_email_are_read(tmp_path):
    from triage.assign import bid_values, read_bids

    p = tmp_path / "bids.csv"
    p.write_text("Paper ID,Paper Title,Reviewer Email,Bid\n1,Leap,a@x.org,Eager\n2,PCA,a@x.org,In a pinch\n"
                 "2,PCA,b@x.org,Not Entered\n", encoding="utf-8")
    bids = read_bids(p)
    assert bids.values.tolist() == [["1", "a@x.org", "Eager"], ["2", "a@x.org", "In a pinch"]]
    assert bid_values(bids).tolist() == [1.0, 0.25]


def test_a_publications_weight_column_weighs_the_affinity_and_is_not_served_from_the_cache(tmp_path, monkeypatch,
                                                                                            fake_embedder):
    """A run over the same folder with a weight column added: the pairs whose evidence is a publication weighed
    0.2 score lower (cosine 0.5 becomes 0.0), none scores higher, and the cached table of the unweighed run is
    not reused."""
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    pubs = pd.read_csv(good / "publications.csv", dtype=str, keep_default_na=False)
    pubs.to_csv(tmp_path / "publications.csv", index=False)
    cmd = ["match", str(good / "submissions.csv"), "-p", str(tmp_path / "publications.csv"), "-r",
           str(good / "reviewers.csv"), "--all-pairs", "--aggregate", "max", "--lexical-weight", "0",
           "-o", str(tmp_path / "out")]
    assert (res := CliRunner().invoke(app, cmd)).exit_code == 0, res.output
    before = pd.read_csv(tmp_path / "out" / "affinity.csv")
    light = before["evidence_title"].value_counts().index[0]  # the publication that drives most pairs
    pubs["weight"] = np.where(pubs["title"] == light, "0.2", "")
    pubs.to_csv(tmp_path / "publications.csv", index=False)
    assert (res := CliRunner().invoke(app, cmd)).exit_code == 0, res.output
    after = pd.read_csv(tmp_path / "out" / "affinity.csv")
    m = before.merge(after, on=["paper_id", "reviewer_id"], suffixes=("", "_w"))
    assert len(m) == len(before) == len(after) and (m["score_w"] <= m["score"] + 1e-4).all()
    hit = m[m["evidence_title"] == light]
    assert (hit["score_w"] < hit["score"] - 1e-3).all() and len(hit) > 0
    untouched = m[m["evidence_title"] != light]
    assert (untouched["score_w"] == untouched["score"]).all()
    assert (untouched["evidence_id_w"] == untouched["evidence_id"]).all()
