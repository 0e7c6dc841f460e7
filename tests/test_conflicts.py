from __future__ import annotations

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
    assert "co-author of Ana Ruiz" in got[("p1", "r5")]
    assert ("p3", "r5") not in got  # that co-authorship is older than the window


def test_webmail_and_normalisation():
    assert expand_domain("gmail.com") == set()
    assert expand_domain("cs.ox.ac.uk") == {"cs.ox.ac.uk", "ox.ac.uk"}
    assert name_keys("Boix-Adserà, Enric")[0] == "boix adsera enric"


def test_no_conflicts():
    papers, reviewers, pubs, declared = frames()
    c = detect_conflicts(papers.iloc[:0], reviewers, pubs.iloc[:0], declared.iloc[:0])
    assert c.empty and list(c.columns) == ["paper_id", "reviewer_id", "reason"]
