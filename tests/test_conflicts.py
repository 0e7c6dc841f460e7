from __future__ import annotations

import numpy as np
import pandas as pd

from triage.conflicts import ConflictParams, detect_conflicts, expand_domain, name_keys


def frames():
    papers = pd.DataFrame({"paper_id": ["p1", "p2", "p3"],
                           "authors": [["Émile Durand", "Ana Ruiz"], ["J. Smith"], ["Zoe Park"]],
                           "authorids": [[], ["jsmith@cs.stanford.edu"], ["~Zoe_Park1"]]})
    reviewers = pd.DataFrame({"reviewer_id": ["~Emile_Durand1", "~John_Smith1", "r3", "~Zoe_Park1", "r5"],
                              "name": ["", "", "Kim Lee", "", "Max Muster"],
                              "email": ["", "", "kim@stanford.edu", "", "max@gmail.com"],
                              "domains": [[], [], [], [], []]})
    pubs = pd.DataFrame({"reviewer_id": ["r5", "r5"], "title": ["Old", "New"], "year": [2001, 2022],
                         "authors": [["Max Muster", "Zoe Park"], ["Max Muster", "Ana Ruiz"]]})
    declared = pd.DataFrame({"paper_id": ["p3"], "reviewer_id": ["r3"], "reason": "declared"})
    return papers, reviewers, pubs, declared


def test_all_rules_with_reasons():
    c = detect_conflicts(*frames(), params=ConflictParams(coauthor_years=3))
    got = {(r.paper_id, r.reviewer_id): r.reason for r in c.itertuples()}
    assert "name 'Émile Durand'" in got[("p1", "~Emile_Durand1")]  # accents
    assert "initials" in got[("p2", "~John_Smith1")]
    assert "stanford.edu" in got[("p2", "r3")]  # subdomain expanded
    assert "id ~zoe_park1" in got[("p3", "~Zoe_Park1")]
    assert got[("p3", "r3")] == "declared"
    assert "co-author of Ana Ruiz on 'New' (2022)" in got[("p1", "r5")]
    assert ("p3", "r5") not in got  # that co-authorship is older than the window


def test_initials_match_only_names_that_could_be_one_person():
    papers = pd.DataFrame({"paper_id": ["p1", "p2", "p3", "p4", "p5"],
                           "authors": [["Jiawei Zhang"], ["J. Zhang"], ["Jingzhao A. Zhang"], ["JZ Zhang"],
                                       ["Xiao-Ming Wang"]],
                           "authorids": [[], [], [], [], []]})
    reviewers = pd.DataFrame({"reviewer_id": ["~Jingzhao_Zhang1", "~Xiaoming_Wang1"], "name": ["", ""],
                              "email": ["", ""], "domains": [[], []]})
    c = detect_conflicts(papers, reviewers, papers.iloc[:0].assign(reviewer_id=[], title=[], year=[]),
                         pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]))
    got = dict(zip(c["paper_id"], c["reason"]))
    assert "p1" not in got  # another first name, spelled out: another person
    assert "initials: 'J. Zhang'" in got["p2"] and "initials: 'Jingzhao A. Zhang'" in got["p3"]
    assert "initials: 'JZ Zhang'" in got["p4"]  # initials in capitals
    assert "initials: 'Xiao-Ming Wang' ~ 'Xiaoming Wang'" in got["p5"]  # the same given name, hyphenated
    from triage.conflicts import same_person_maybe

    assert not same_person_maybe("WEI ZHANG", "Weijie Zhang")  # a name in capitals: 'WEI' is no initials
    assert same_person_maybe("J. ZHANG", "Jingzhao Zhang") and same_person_maybe("JW Zhang", "Jiawei Zhang")
    assert same_person_maybe("Jane A. Doe", "Jane Doe") and same_person_maybe("Jane A. Doe", "Jane Ann Doe")
    assert not same_person_maybe("Jane A. Doe", "Jane B. Doe")  # middle names that differ


def test_webmail_and_normalisation():
    assert expand_domain("gmail.com") == set()
    for webmail in ("yahoo.co.uk", "hotmail.fr", "gmx.de", "gmx.net", "naver.com", "yeah.net", "libero.it",
                    "uk.yahoo.com", "mail.yandex.ru"):
        assert expand_domain(webmail) == set(), webmail
    assert expand_domain("cs.gmu.edu") == {"cs.gmu.edu", "gmu.edu"}
    assert expand_domain("cs.ox.ac.uk") == {"cs.ox.ac.uk", "ox.ac.uk"}
    assert name_keys("Boix-Adserà, Enric") == ("enric boix adsera", "e adsera")  # last name first
    assert name_keys("Łukasz Kaiser")[0] == "lukasz kaiser" and name_keys("Søren Hauberg")[0] == "soren hauberg"
    assert name_keys("Jane Doe, Jr.")[0] == "jane doe" and name_keys("Hans Müller III")[0] == "hans muller"
    assert name_keys("Strauß, Jörg")[0] == "jorg strauss"
    assert name_keys("de la Cruz, María José")[0] == "maria jose de la cruz"
    assert name_keys("Jane Doe, MIT")[0] == "jane doe" and name_keys("Doe, J.-W.")[0] == "j w doe"
    assert name_keys("ZHANG, WEI")[0] == "wei zhang" and name_keys("JANE DOE, MIT")[0] == "jane doe"
    assert name_keys("Shin, Incheol")[0] == "incheol shin" and name_keys("Kim, Labib")[0] == "labib kim"
    assert name_keys("Dos Santos, Cicero Nogueira")[0] == "cicero nogueira dos santos"


def test_no_conflicts():
    papers, reviewers, pubs, declared = frames()
    c = detect_conflicts(papers.iloc[:0], reviewers, pubs.iloc[:0], declared.iloc[:0])
    assert c.empty and list(c.columns) == ["paper_id", "reviewer_id", "reason"]


def brute_force(papers, reviewers, pubs, years_window):
    """Papers x reviewers loop over the domain and co-author rules, the oracle for the indexed version."""
    from triage.conflicts import domain_of

    out = set()
    newest = pubs["year"].max()
    for p in papers.itertuples():
        pdoms = set().union(*[expand_domain(domain_of(a)) for a in p.authorids if "@" in a])
        akeys = {name_keys(a)[0] for a in p.authors}
        for r in reviewers.itertuples():
            rdoms = set().union(*[expand_domain(domain_of(d)) for d in [r.email, *r.domains] if d])
            if pdoms & rdoms:
                out.add((p.paper_id, r.reviewer_id))
            own = name_keys(r.name)[0]
            for q in pubs[pubs["reviewer_id"] == r.reviewer_id].itertuples():
                if q.year >= newest - years_window and akeys & ({name_keys(a)[0] for a in q.authors} - {own}):
                    out.add((p.paper_id, r.reviewer_id))
    return out


def test_indexed_rules_equal_brute_force():
    rng = np.random.default_rng(7)
    people = [f"Person{chr(97 + i)} Surname{chr(97 + j)}" for i in range(8) for j in range(8)]
    doms = ["cs.uni-a.edu", "uni-a.edu", "math.uni-b.ac.uk", "lab.org", "gmail.com", "qq.com"]

    def pick(k):
        return [people[i] for i in rng.choice(len(people), size=k, replace=False)]

    papers = pd.DataFrame({"paper_id": [f"p{i}" for i in range(40)],
                           "authors": [pick(rng.integers(1, 4)) for _ in range(40)],
                           "authorids": [[f"x{i}@{rng.choice(doms)}"] for i in range(40)]})
    names = pick(30)
    reviewers = pd.DataFrame({"reviewer_id": [f"r{i}" for i in range(30)], "name": names,
                              "email": [f"r{i}@{rng.choice(doms)}" if i % 3 else "" for i in range(30)],
                              "domains": [[str(rng.choice(doms))] if i % 4 == 0 else [] for i in range(30)]})
    pubs = pd.DataFrame({"reviewer_id": [f"r{i % 30}" for i in range(90)], "title": "t",
                         "year": rng.integers(2010, 2025, size=90),
                         "authors": [[names[i % 30], *pick(2)] for i in range(90)]})
    got = detect_conflicts(papers, reviewers, pubs, pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]),
                           params=ConflictParams(coauthor_years=5))
    rule = got[got["reason"].str.contains("shared domain|co-author of")]
    expected = brute_force(papers, reviewers, pubs, 5)
    assert expected and set(zip(rule.paper_id, rule.reviewer_id)) == expected
    assert not rule["reason"].str.contains("gmail|qq.com").any()


def test_reviewer_coauthors_share_a_title_whatever_its_case_and_punctuation():
    from triage.conflicts import reviewer_coauthors

    pubs = pd.DataFrame({
        "reviewer_id": ["a", "b", "c", "c", "d", "e"],
        "title": ["Leap complexity of SGD", "Leap Complexity of SGD.", "leap  complexity of sgd", "Another paper here",
                  "Preface", "Preface"],
    })
    co = reviewer_coauthors(pubs)
    assert co == {"a": {"b", "c"}, "b": {"a", "c"}, "c": {"a", "b"}}  # short titles ("Preface") never match


def test_reviewer_coauthors_read_any_script_and_skip_generic_or_mass_titles():
    from triage.conflicts import reviewer_coauthors

    pubs = pd.DataFrame({
        "reviewer_id": ["a", "b", "c", "d", "e", "f", "g", *[f"m{i}" for i in range(30)]],
        "title": ["On α-divergences in learning", "On α-Divergences in Learning.", "On β-divergences in learning",
                  "Über die Konvergenz von SGD", "Uber die Konvergenz von SGD",
                  *["Guest Editorial: special issue on learning theory"] * 2,
                  *["A survey written by a very large consortium"] * 30],
    })
    co = reviewer_coauthors(pubs)
    assert co["a"] == {"b"} and "c" not in co  # alpha and beta differ; accents do not
    assert co["d"] == {"e"}
    assert "f" not in co and "m0" not in co  # an editorial, and a title 30 reviewers list, are no co-authorship
    panel = pd.DataFrame({"reviewer_id": ["x", "y"], "title": ["Panel data models with many factors"] * 2})
    assert reviewer_coauthors(panel) == {"x": {"y"}, "y": {"x"}}  # a real title that starts like a generic one


def test_a_long_publication_title_is_cut_with_an_ellipsis():
    papers, reviewers, pubs, declared = frames()
    pubs.loc[1, "title"] = "VO$Q$L: Towards Optimal Regret in Model-free RL with Nonlinear Function Approximation"
    got = detect_conflicts(papers, reviewers, pubs, declared).set_index(["paper_id", "reviewer_id"])["reason"]
    assert "on 'VO$Q$L: Towards Optimal Regret in Model-free RL with Nonlin…' (2022)" in got[("p1", "r5")]


def test_domains_the_authors_declared_conflict_with_reviewers_there():
    papers = pd.DataFrame({"paper_id": ["p1"], "authors": [["Ann Author"]], "authorids": [["ann@gmail.com"]],
                           "domains": [["stanford.edu", "gmail.com"]]})
    reviewers = pd.DataFrame({"reviewer_id": ["bo@cs.stanford.edu", "cy@gmail.com", "di@mit.edu"],
                              "name": ["Bo Lu", "Cy Ma", "Di Wu"], "email": ["bo@cs.stanford.edu", "cy@gmail.com",
                                                                           "di@mit.edu"],
                              "domains": [[], [], []]})
    c = detect_conflicts(papers, reviewers, pd.DataFrame(columns=["reviewer_id", "title", "year", "authors"]),
                         pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]))
    assert c[["reviewer_id", "reason"]].values.tolist() == [["bo@cs.stanford.edu", "shared domain stanford.edu"]]


def test_coauthors_written_with_initials_or_a_middle_initial_may_be_the_author():
    """Publication lists give co-authors as 'D. Brown' or 'Daniel M. Kane' where the paper says 'Dan Brown' or
    'Daniel Kane' (the demo had 43 such pairs missed); another first name spelled out is another person."""
    papers = pd.DataFrame({"paper_id": ["p1", "p2", "p3", "p4", "p5"],
                           "authors": [["Dan Brown"], ["Daniel Kane"], ["Jiawei Zhang"], ["J. Zhang"],
                                       ["Xiaoming Wang"]],
                           "authorids": [[], [], [], [], []]})
    reviewers = pd.DataFrame({"reviewer_id": ["r1", "r2", "r3", "r4"],
                              "name": ["Cy Person", "Eve Stone", "Ann Lee", "Bo Li"],
                              "email": ["", "", "", ""], "domains": [[], [], [], []]})
    pubs = pd.DataFrame({"reviewer_id": ["r1", "r2", "r3", "r4"], "title": ["A", "B", "C", "D"],
                         "year": [2023] * 4,
                         "authors": [["Cy Person", "D. Brown"], ["Eve Stone", "Daniel M. Kane"],
                                     ["Ann Lee", "Jingzhao Zhang"], ["Bo Li", "Xiao-Ming Wang"]]})
    c = detect_conflicts(papers, reviewers, pubs, pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]))
    got = {(r.paper_id, r.reviewer_id): r.reason for r in c.itertuples()}
    assert got[("p1", "r1")] == "co-author may be Dan Brown (initials: 'D. Brown' on 'A' (2023))"
    assert "'Daniel M. Kane' on 'B'" in got[("p2", "r2")]
    assert ("p3", "r3") not in got  # Jiawei is not Jingzhao
    assert "co-author may be J. Zhang (initials: 'Jingzhao Zhang'" in got[("p4", "r3")]
    assert "'Xiao-Ming Wang' on 'D'" in got[("p5", "r4")]
    assert len(got) == 4


def test_a_reviewer_id_that_is_an_email_gives_the_reviewers_domain():
    papers = pd.DataFrame({"paper_id": ["p1"], "authors": [["Bob Jones"]], "authorids": [["bob@cs.stanford.edu"]]})
    reviewers = pd.DataFrame({"reviewer_id": ["carol@stanford.edu"], "name": ["Carol Stone"], "email": [""],
                              "domains": [[]]})
    c = detect_conflicts(papers, reviewers, pd.DataFrame(columns=["reviewer_id", "title", "year", "authors"]),
                         pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]))
    assert c.values.tolist() == [["p1", "carol@stanford.edu", "shared domain stanford.edu"]]


def _coauthor_conflicts(paper_authors: list[list[str]], coauthors: list[str]) -> set[tuple[str, str]]:
    papers = pd.DataFrame({"paper_id": [f"p{i}" for i in range(len(paper_authors))], "authors": paper_authors,
                           "authorids": [[] for _ in paper_authors]})
    reviewers = pd.DataFrame({"reviewer_id": ["r1"], "name": ["Cy Person"], "email": [""], "domains": [[]]})
    pubs = pd.DataFrame({"reviewer_id": ["r1"] * len(coauthors), "title": [f"T{i}" for i in range(len(coauthors))],
                         "year": [2023] * len(coauthors), "authors": [["Cy Person", c] for c in coauthors]})
    c = detect_conflicts(papers, reviewers, pubs, pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]))
    return set(zip(c["paper_id"], c["reviewer_id"]))


def test_coauthor_variants_do_not_depend_on_the_order_of_publications():
    for coauthors in (["Jane B. Doe", "Jane Doe"], ["Jane Doe", "Jane B. Doe"]):
        assert _coauthor_conflicts([["Jane A. Doe"]], coauthors) == {("p0", "r1")}, coauthors


def test_an_initials_only_coauthor_that_fits_many_authors_makes_no_conflict():
    """'J. Zhang' among a reviewer's co-authors may be one of a few J... Zhangs, not any of many."""
    few = [["Jiawei Zhang"], ["Jun Zhang"], ["Ann Lee"]]
    assert _coauthor_conflicts(few, ["J. Zhang"]) == {("p0", "r1"), ("p1", "r1")}
    many = [["Jiawei Zhang"], ["Jun Zhang"], ["Jie Zhang"], ["Jian Zhang"], ["Ann Lee"]]
    assert _coauthor_conflicts(many, ["J. Zhang"]) == set()
    # The same the other way round: 'J. Zhang' on the paper, many J... Zhangs among the co-authors.
    assert _coauthor_conflicts([["J. Zhang"]], ["Jiawei Zhang"]) == {("p0", "r1")}
    assert _coauthor_conflicts([["J. Zhang"]], ["Jiawei Zhang", "Jun Zhang", "Jie Zhang", "Jian Zhang"]) == set()
    # The cap counts people, not the ways one co-author is written.
    assert _coauthor_conflicts([["J. Doe"]], ["Jane Doe", "Doe, Jane", "JANE DOE", "Jané Doe"]) == {("p0", "r1")}


def test_a_reviewer_named_by_email_only_takes_the_name_on_all_their_publications():
    papers = pd.DataFrame({"paper_id": ["p1"], "authors": [["Emmanuel Abbe", "Ann Lee"]], "authorids": [[]]})
    reviewers = pd.DataFrame({"reviewer_id": ["Emmanuel.Abbe@epfl.ch", "bo@x.org"], "name": ["", ""],
                              "email": ["", ""], "domains": [[], []]})
    pubs = pd.DataFrame({"reviewer_id": ["Emmanuel.Abbe@epfl.ch"] * 2 + ["bo@x.org"] * 2,
                         "title": ["A", "B", "C", "D"], "year": [2023] * 4,
                         "authors": [["Emmanuel Abbe", "Cy Ma"], ["Di Wu", "Emmanuel Abbe"],
                                     ["Bo Li", "Ann Lee"], ["Ann Lee", "Bo Li"]]})  # bo@x.org: two on all, no name
    c = detect_conflicts(papers, reviewers, pubs, pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]))
    got = dict(zip(c["reviewer_id"], c["reason"]))
    assert got["Emmanuel.Abbe@epfl.ch"] == "reviewer is an author (name 'Emmanuel Abbe')"
    assert got["bo@x.org"].startswith("co-author of Ann Lee on 'C'")
    # Their own name written two ways, a collaborator on every paper: two authors on all, so no name is guessed.
    pubs.loc[1, "authors"] = ["Di Wu", "E. Abbe", "Cy Ma"]
    pubs.loc[0, "authors"] = ["Emmanuel Abbe", "Cy Ma"]
    papers = pd.DataFrame({"paper_id": ["p2"], "authors": [["Cy Ma"]], "authorids": [[]]})
    c = detect_conflicts(papers, reviewers, pubs, pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]))
    assert c["reason"].tolist() == ["co-author of Cy Ma on 'A' (2023)"]


def test_many_declared_conflicts_that_no_rule_backs_are_sent_to_the_chair(tmp_path, monkeypatch, fake_embedder,
                                                                          caplog, data_dir):
    """AAAI's rule: more than 15 self-reported conflicts of one paper (or reviewer) that no authorship,
    co-authorship or shared domain backs get a chair's look; those a rule backs do not count."""
    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app
    from triage.conflicts import declared_outliers

    rows = [("p1", f"r{i}", "declared conflict") for i in range(16)]  # 16 declared only: flagged
    rows += [("p2", f"r{i}", f"declared conflict; shared domain x{i}.edu") for i in range(20)]  # backed
    rows += [("p3", f"r{i}", "same lab") for i in range(15)]  # 15: not above the limit
    rows += [(f"q{i}", "rX", "declared in the bids") for i in range(17)]  # a reviewer dodging 17 papers
    rows += [("p4", f"r{i}", "co-author of Ann Lee on 'T' (2022)") for i in range(30)]  # found, not declared
    rows += [("p5", f"r{i}", "declared: co-author on an old grant") for i in range(16)]  # declared, reads like one
    out = declared_outliers(pd.DataFrame(rows, columns=["paper_id", "reviewer_id", "reason"]))
    assert out.values.tolist() == [["paper", "p1", 16], ["paper", "p5", 16], ["reviewer", "rX", 17]]

    # End to end: one paper of the test conference declares a conflict with 20 reviewers.
    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    subs = pd.read_csv(data_dir / "submissions.csv", dtype=str)
    revs = pd.read_csv(data_dir / "reviewers.csv", dtype=str)
    pid = subs["paper_id"].iloc[0]
    pd.DataFrame({"paper_id": pid, "reviewer_id": revs["reviewer_id"].iloc[:20],
                  "reason": "co-author on an old grant"}).to_csv(tmp_path / "conflicts.csv", index=False)
    args = [str(data_dir / "submissions.csv"), "-p", str(data_dir / "publications.csv"), "-r",
            str(data_dir / "reviewers.csv"), "-c", str(tmp_path / "conflicts.csv"), "-o", str(tmp_path / "o")]
    res = CliRunner().invoke(app, ["match", *args, "--per-paper", "1"])
    assert res.exit_code == 0, res.output
    said = f"1 paper(s) and 0 reviewer(s) have more than 15 declared conflicts that no rule backs (first: paper {pid}"
    assert said in caplog.text
    reasons = pd.read_csv(tmp_path / "o" / "conflicts.csv").set_index("reviewer_id")["reason"]
    assert reasons[revs["reviewer_id"].iloc[0]].startswith("declared: co-author on an old grant")
    res = CliRunner().invoke(app, ["report", *args[:5], "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "o" / "report.html").read_text()
    assert 'id="declared-table"' in html and f"<td>paper</td><td>{pid}</td>" in html


def test_a_frequent_coauthor_conflicts_whatever_the_years_and_large_author_lists_can_be_left_out():
    """A former advisor with many joint papers, all older than the window, is a conflict (AAAI: more than 6 joint
    papers); a title listed twice counts once. With a cap on authors, a large collaboration makes no co-authors."""
    papers = pd.DataFrame({"paper_id": ["p1", "p2"], "authors": [["Ada Advisor"], ["Bo Big"]],
                           "authorids": [[], []]})
    reviewers = pd.DataFrame({"reviewer_id": ["r1"], "name": ["Rita Rev"], "email": [""], "domains": [[]]})
    old = [(f"Joint paper number {i}", 2005 + i, ["Rita Rev", "Ada Advisor"]) for i in range(7)]
    big = [("A large collaboration", 2023, ["Rita Rev", "Bo Big", *[f"Other Person{i}" for i in range(8)]])]
    pubs = pd.DataFrame(old + [old[0]] + big, columns=["title", "year", "authors"]).assign(reviewer_id="r1")
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])

    def reasons(frame, **kw):
        c = detect_conflicts(papers, reviewers, frame, none, params=ConflictParams(coauthor_years=3, **kw))
        return dict(zip(c["paper_id"], c["reason"]))

    got = reasons(pubs)
    assert got["p1"] == "co-author of Ada Advisor on 7 joint publications, 2005-2011"
    assert got["p2"] == "co-author of Bo Big on 'A large collaboration' (2023)"
    assert "p1" not in reasons(pubs.drop(index=6))  # 6 distinct joint papers (one listed twice): not more than 6
    assert "p1" not in reasons(pubs, coauthor_frequent=None)
    assert "p1" in reasons(pubs, coauthor_frequent=3)
    capped = reasons(pubs, coauthor_max_authors=7)
    assert "p2" not in capped and "p1" in capped


def test_a_frequent_coauthor_counts_under_every_spelling_and_meets_the_papers_initials():
    """An advisor written 'Ada Advisor' on 4 joint papers and 'A. Advisor' on 3 is on 7 of them; a paper by 'A. Advisor'
    or 'Ada B. Advisor' may be theirs, as for a recent co-author. 'A. Advisor' that fits two people counts for none."""
    papers = pd.DataFrame({"paper_id": ["p1", "p2", "p3"], "authorids": [[], [], []],
                           "authors": [["Ada Advisor"], ["A. Advisor"], ["Ada B. Advisor"]]})
    reviewers = pd.DataFrame({"reviewer_id": ["r1"], "name": ["Rita Rev"], "email": [""], "domains": [[]]})
    rows = [(f"Joint paper number {i}", 2005 + i, ["Rita Rev", "Ada Advisor" if i < 4 else "A. Advisor"])
            for i in range(7)]
    pubs = pd.DataFrame(rows, columns=["title", "year", "authors"]).assign(reviewer_id="r1")
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])

    def reasons(frame):
        c = detect_conflicts(papers, reviewers, frame, none, params=ConflictParams(coauthor_years=0))
        return dict(zip(c["paper_id"], c["reason"]))

    got = reasons(pubs)
    assert got["p1"] == "co-author of Ada Advisor on 7 joint publications, 2005-2011"
    assert got["p2"] == "co-author of A. Advisor on 7 joint publications, 2005-2011"
    assert got["p3"] == "co-author may be Ada B. Advisor (initials: 'Ada Advisor' on 7 joint publications, 2005-2011)"
    more = [("Another joint paper", 2012, ["Rita Rev", "Alan Advisor"]),
            ("One more joint paper", 2013, ["Rita Rev", "Ada Advisor"])]
    two = pd.DataFrame(rows + more, columns=["title", "year", "authors"]).assign(reviewer_id="r1")
    assert reasons(two) == {}  # 5 as 'Ada Advisor', 3 as 'A. Advisor' (Ada or Alan?): not more than 6


def test_coauthor_years_0_leaves_the_frequent_coauthors_rule_on():
    """--coauthor-years 0 turns off the recent co-authors' rule only: a co-author on more than --coauthor-frequent
    of the reviewer's publications still conflicts, unless that is 0 too."""
    papers = pd.DataFrame({"paper_id": ["p1", "p2"], "authors": [["Ada Advisor"], ["Cy Recent"]],
                           "authorids": [[], []]})
    reviewers = pd.DataFrame({"reviewer_id": ["r1"], "name": ["Rita Rev"], "email": [""], "domains": [[]]})
    rows = [(f"Joint paper number {i}", 2005 + i, ["Rita Rev", "Ada Advisor"]) for i in range(7)]
    pubs = pd.DataFrame(rows + [("A recent paper", 2023, ["Rita Rev", "Cy Recent"])],
                        columns=["title", "year", "authors"]).assign(reviewer_id="r1")
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])

    def papers_in_conflict(**kw):
        return set(detect_conflicts(papers, reviewers, pubs, none, params=ConflictParams(**kw))["paper_id"])

    assert papers_in_conflict(coauthor_years=3) == {"p1", "p2"}
    assert papers_in_conflict(coauthor_years=0) == {"p1"}
    assert papers_in_conflict(coauthor_years=0, coauthor_frequent=None) == set()


def test_an_author_email_that_is_one_of_the_reviewers_other_emails_is_the_reviewer():
    # The submission lists the reviewer's private email; the reviewers file gives their work email as the main
    # one and the private one among their other emails (CMT's Publication Emails), under another spelling of
    # their name, so no name rule finds them.
    papers = pd.DataFrame({"paper_id": ["p1", "p2"], "authors": [["Jo Q. Public"], ["Ann Other"]],
                           "authorids": [["Jo.Public@gmail.com"], ["ann@x.org"]]})
    reviewers = pd.DataFrame({"reviewer_id": ["r1", "r2"], "name": ["Johanna Public-Smith", "Bo Li"],
                              "email": ["jps@cs.uni.edu", "bo@y.org"], "domains": [[], []],
                              "other_emails": [["jo.public@gmail.com"], []]})
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    c = detect_conflicts(papers, reviewers, pd.DataFrame(columns=["reviewer_id", "title", "year", "authors"]), none)
    assert list(zip(c["paper_id"], c["reviewer_id"])) == [("p1", "r1")]
    assert "id jo.public@gmail.com" in c.at[0, "reason"]


def test_a_reviewer_listed_with_a_middle_initial_in_their_publications_is_not_their_own_co_author():
    # The reviewers file says "Rita Rev", her publications "Rita M. Rev". Her own submission was flagged as that of
    # a co-author of hers; it is flagged as possibly hers, and her real co-author still conflicts.
    papers = pd.DataFrame({"paper_id": ["p1", "p2"], "authors": [["Rita M. Rev"], ["Bo Co"]],
                           "authorids": [[], []]})
    reviewers = pd.DataFrame({"reviewer_id": ["r1"], "name": ["Rita Rev"], "email": [""], "domains": [[]]})
    pubs = pd.DataFrame({"reviewer_id": ["r1"] * 7, "title": [f"T{i}" for i in range(7)], "year": [2010] * 7,
                         "authors": [["Rita M. Rev", "Bo Co"]] * 7})
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    for params in (ConflictParams(coauthor_years=None), ConflictParams(coauthor_years=0, coauthor_frequent=6)):
        c = detect_conflicts(papers, reviewers, pubs, none, params=params)
        got = dict(zip(c["paper_id"], c["reason"]))
        assert "co-author" not in got["p1"] and "initials: 'Rita M. Rev' ~ 'Rita Rev'" in got["p1"], params
        assert "co-author of Bo Co" in got["p2"], params


def test_a_publication_of_weight_0_still_makes_its_coauthors_conflicts(tmp_path):
    """A weight of 0 says a publication is no expertise, not that it was never written: its co-author is still the
    reviewer's co-author, though the publication is in no profile."""
    from triage.ingest import load_corpus
    from triage.match import select_profiles

    (tmp_path / "s.csv").write_text("paper_id,title,abstract,authors\np1,Leaps,We prove a bound.,Ana Ruiz\n",
                                    encoding="utf-8")
    (tmp_path / "p.csv").write_text("reviewer_id,title,year,authors,weight\n"
                                    "r1,Joint workshop note,2023,Bo Chen; Ana Ruiz,0\nr1,Solo paper,2023,Bo Chen,1\n",
                                    encoding="utf-8")
    (tmp_path / "r.csv").write_text("reviewer_id,name\nr1,Bo Chen\n", encoding="utf-8")
    c = load_corpus(tmp_path / "s.csv", publications=tmp_path / "p.csv", reviewers=tmp_path / "r.csv")
    got = detect_conflicts(c.papers, c.reviewers, c.publications, c.conflicts)
    assert got[["paper_id", "reviewer_id"]].values.tolist() == [["p1", "r1"]]
    assert "co-author of Ana Ruiz on 'Joint workshop note' (2023)" in got["reason"].iloc[0]
    assert c.publications.loc[select_profiles(c.publications), "title"].tolist() == ["Solo paper"]


def test_title_keys_is_title_key_on_every_string():
    from triage.conflicts import title_key, title_keys

    titles = pd.Series(["Über α-Divergences.", "snake_case and CamelCase", "x² ≤ ½", "ﬁne-tuning", "İstanbul",
                        "Straße", "ǅemal", "日本語の題名 2", "", "  spaced\tout\n", "Ångström-scale (MD)"])
    assert title_keys(titles).tolist() == [title_key(t) for t in titles]
