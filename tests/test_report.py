"""report.html structure, without a browser: sections, self-containment, escaping, the flagged lists."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from triage.duplicates import DUPLICATE_COLUMNS
from triage.export import WEAK_SCORE
from triage.report import SECTIONS, ReportData, render_report

VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base", "embed", "param",
        "track"}


class _Tree(HTMLParser):
    """Collects ids and classes and checks that every non-void HTML element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.in_svg = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "svg":
            self.in_svg += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):  # <path .../> inside svg
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.append(a["id"])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "svg":
            self.in_svg -= 1


def parse(html: str) -> _Tree:
    t = _Tree()
    t.feed(html)
    t.close()
    return t


def _data(n: int = 12, *, with_areas: bool = True, with_supply: bool = True) -> ReportData:
    rng = np.random.default_rng(0)
    ids = [f"p{i}" for i in range(n)]
    papers = pd.DataFrame({"paper_id": ids, "title": [f"Paper {i} on bandits" for i in range(n)],
                           "abstract": ["x"] * n, "keywords": [[]] * n, "primary_area": ["theory"] * n})
    papers.loc[0, "title"] = "<script>alert('x')</script> & friends"
    emb = rng.normal(size=(n, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    topics = pd.DataFrame({"paper_id": ids, "cluster_id": [str(i % 3) for i in range(n)],
                           "cluster_label": [["bandits, regret", "kernels", "graphs"][i % 3] for i in range(n)]})
    if with_areas:
        topics["area"] = ["learning theory" if i % 2 else "optimization" for i in range(n)]
        topics["area_top3"] = ["learning theory; optimization; rl"] * n
        topics["area_mismatch"] = ["True" if i == 3 else "False" for i in range(n)]
        topics["theory_topic"] = ["neural tangent kernel" if i % 4 == 0 else "" for i in range(n)]
    # p1 best 0.20 (weak), p2 has one reviewer only, the last paper has none
    rows = []
    for i, pid in enumerate(ids[:-1]):
        for r in range(1 if i == 2 else 2):
            score = 0.20 - 0.05 * r if i == 1 else 0.6 - 0.1 * r
            rows.append({"paper_id": pid, "reviewer_id": f"r{(i + r) % 5}", "score": f"{score:.4f}",
                         "rank": str(r + 1), "evidence_title": f"Evidence {i}-{r}"})
    assignments = pd.DataFrame(rows)
    conflicts = pd.DataFrame({"paper_id": ["p0", "p4"], "reviewer_id": ["r9", "r8"],
                              "reason": ["reviewer is an author (name 'Foo')",
                                         "co-author of Ann Bar on 'Old paper' (2023); shared domain cs.x.edu"]})
    summaries = pd.DataFrame({"paper_id": ids, "tldr": ["We prove a bound."] + [f"TLDR {i}" for i in range(1, n)],
                              "claims": [["We prove a bound.", "We show a gap."]] * n,
                              "assumptions": [["convexity"] if i == 5 else [] for i in range(n)],
                              "summarizer": ["llm:qwen-7b", "llm:qwen-7b (extractive: claims, results)",
                                             "extractive (fallback: timeout)"] + ["extractive"] * (n - 3)})
    supply = None
    if with_supply:
        supply = pd.DataFrame({"kind": ["area", "area", "theory"], "topic": ["optimization", "learning theory",
                                                                           "neural tangent kernel"],
                               "submissions": [6, 6, 3], "qualified_reviewers": [9, 1, 2],
                               "slots_needed": [18, 18, 9], "slots_available": [30.0, 4.5, 12.0],
                               "shortage": ["False", "True", "True"]})
    reviewers = pd.DataFrame({"reviewer_id": [f"r{i}" for i in range(5)],
                              "name": ["Ada Lovelace", "Alan Turing", "", "Grace Hopper", "Kurt Gödel"]})
    return ReportData(papers=papers, embeddings=emb, topics=topics, assignments=assignments, conflicts=conflicts,
                      summaries=summaries, supply=supply, reviewers=reviewers, n_reviewers=5, n_publications=9,
                      model="all-MiniLM-L6-v2", params={"match": "per_paper=2"}, per_paper=2,
                      run_time="2026-01-01 10:00:00 UTC", weak_threshold=0.35)


@pytest.fixture(scope="module")
def full_html() -> str:
    return render_report(_data())


def test_sections_present_once_and_well_formed(full_html):
    tree = parse(full_html)
    assert not tree.errors, tree.errors[:5]
    assert tree.stack == []
    for s in SECTIONS:
        assert tree.ids.count(s) == 1, s
    assert len(tree.ids) == len(set(tree.ids)), "duplicate element ids"
    nav = re.search(r"<nav.*?</nav>", full_html, flags=re.DOTALL).group(0)
    assert [m for m in re.findall(r'href="#([^"]+)"', nav)] == list(SECTIONS)


def test_self_contained_and_escaped(full_html):
    for external in ('src="http', "src='http", 'href="http', "<link ", "@import", "url(http", "//cdn"):
        assert external not in full_html
    assert "<script>alert" not in full_html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends" in full_html
    assert full_html.count("<script>") == 1  # only the report's own filter script
    assert "Kurt Gödel" in full_html
    # A title in a right-to-left script must not pull the paper id into it: the card heading isolates both.
    assert "<h3><bdi>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends</bdi> <span class=\"muted\">(<bdi>" \
        in full_html


def test_cards_and_flagged_lists(full_html):
    d = _data()
    tree = parse(full_html)
    cards = [a for t, a in tree.tags if t == "article"]
    assert len(cards) == len(d.papers)
    # p1 (best 0.20), p2 (1 of 2 reviewers) and the unassigned last paper: "weak or short-staffed only" shows them
    assert [a["id"] for a in cards if a["data-weak"] == "1"] == ["paper-2", "paper-3", "paper-12"]
    assert full_html.count("Only 1 of 2 reviewers assigned.") == 1 and full_html.count("No reviewer assigned.") == 1
    weak = re.search(r'<table id="weak">.*?</table>', full_html, flags=re.DOTALL).group(0)
    assert re.findall(r"<tr><td>(p\d+)</td>", weak) == ["p1"]
    short = re.search(r'<table id="unassigned">.*?</table>', full_html, flags=re.DOTALL).group(0)
    assert re.findall(r"<tr><td>(p\d+)</td>", short) == ["p2", "p11"]
    supply = re.search(r'<table id="supply">.*?</table>', full_html, flags=re.DOTALL).group(0)
    assert supply.count('class="short"') == 2
    assert "Qualified reviewers" in supply and "qualified_reviewers" not in supply
    conflicts = re.search(r'<table id="conflict-table">.*?</table>', full_html, flags=re.DOTALL).group(0)
    assert conflicts.count("<tr>") == 3 and "co-author of Ann Bar on &#39;Old paper&#39; (2023)" in conflicts
    assert "co-author (1), reviewer is an author (1), shared domain (1)." in full_html
    assert "assumes: convexity" in full_html
    # p0's TL;DR is also one of its claims: its card shows it once.
    assert full_html.count("<summary>Claims (2)</summary>") == len(d.papers) - 1
    assert full_html.count("<summary>Claims (1)</summary>") == 1
    assert 'authors\' area "theory" not in the top 3' in full_html
    assert full_html.count("<svg") == 4  # topic map + three histograms


def test_cards_say_who_wrote_them(full_html):
    cards = re.findall(r"<article.*?</article>", full_html, flags=re.DOTALL)
    tags = [re.search(r"<strong>TL;DR</strong>[^<]*<span class=\"tag[^\"]*\" title=\"[^\"]*\">([^<]*)</span>", c)
            .group(1) for c in cards]
    assert tags[:4] == ["LLM: qwen-7b", "LLM: qwen-7b; verbatim: claims, results",
                        "verbatim (LLM fallback: timeout)", "verbatim"]
    assert 'class="tag llm" title="written by a language model' in cards[0]


def test_coauthor_pairs_idle_reviewers_and_lowest_scores():
    d = _data()
    html = render_report(d)
    assert '<table id="coauthors">' not in html  # not checked (no publications): no section
    d.coauthor_pairs = pd.DataFrame({"paper_id": ["p4", "p4"], "reviewer_a": ["r4", "r4"], "reviewer_b": ["r0", "r9"]})
    d.reviewers = pd.concat([d.reviewers, pd.DataFrame({"reviewer_id": ["r9"], "name": ["Idle Reviewer"]})])
    html = render_report(d)
    table = re.search(r'<table id="coauthors">.*?</table>', html, flags=re.DOTALL).group(0)
    assert re.findall(r"<tr><td>(p\d+)</td>", table) == ["p4"] and "Kurt Gödel; Ada Lovelace; Idle Reviewer" in table
    assert "(2 pairs of reviewers who share a publication, on 1 paper;" in html
    stat = dict((label, value) for value, label in re.findall(r"<b>([^<]+)</b><span>([^<]+)</span>", html))
    assert stat["reviewers given no paper"] == "1"  # r9; r0-r4 all have papers in _data
    assert stat["papers with a reviewer below 0.35"] == "1"  # p1 (0.20 and 0.15)
    d.coauthor_pairs = d.coauthor_pairs.iloc[:0]
    assert "None: no two reviewers of a paper share a publication." in render_report(d)


def test_long_conflict_list_is_cut_with_uncertain_matches_first(monkeypatch):
    import triage.report as R

    d = _data()
    d.conflicts = pd.DataFrame({
        "paper_id": ["p0", "p0", "p0", "p1", "p2"], "reviewer_id": ["r1", "r2", "r3", "r4", "r0"],
        "reason": ["shared domain x.edu", "shared domain x.edu", "declared", "shared domain y.org",
                   "reviewer may be an author (initials: 'A. Lovelace' ~ 'Ada Lovelace')"]})
    html = render_report(d)
    assert "<b>5</b><span>conflicts found</span>" in html
    assert "5 conflicted pairs, never assigned, on 3 papers (median 1 per paper)" in html
    papers = re.search(r'<table id="conflict-papers">.*?</table>', html, flags=re.DOTALL).group(0)
    assert re.findall(r"<tr><td>(p\d+)</td>", papers) == ["p0", "p1", "p2"]
    assert "<td class=\"num\">3</td>" in papers and "Share of reviewers" in papers
    assert re.search(r'<table id="conflict-table">.*?</table>', html, flags=re.DOTALL).group(0).count("<tr>") == 6
    assert "uncertain name matches first" not in html  # every pair is listed
    monkeypatch.setattr(R, "CONFLICT_LIST_LIMIT", 2)
    html = render_report(d)
    pairs = re.search(r'<table id="conflict-table">.*?</table>', html, flags=re.DOTALL).group(0)
    assert re.findall(r"<tr><td>(p\d+)</td>", pairs) == ["p2", "p0"]  # the uncertain match first
    assert "(2 of 5, uncertain name matches first; all are in conflicts.csv)" in html
    d.conflicts = d.conflicts.drop(columns="reason")
    assert "Reasons (a pair can have several): unspecified (5)." in render_report(d)


def test_possible_duplicates_are_listed_counted_and_tagged(monkeypatch):
    import triage.report as R

    d = _data()
    assert "possible duplicate" not in render_report(d).lower()
    d.duplicates = pd.DataFrame({"paper_id": ["p1", "p4"], "other_id": ["p2", "p7"],
                                 "text_overlap": ["0.9100", "0.4000"], "similarity": ["0.97", "0.80"],
                                 "shared_authors": ["", "ann bar"],
                                 "reason": ["same wording", "shared authors and similar wording"]})
    d.topics = d.topics.assign(possible_duplicates=["", "p2", "p1", "", "p7", "", "", "p4", "", "", "", ""])
    html = render_report(d)
    assert "<b>2</b><span>possible duplicate pairs</span>" in html
    table = re.search(r'<table id="duplicate-table">.*?</table>', html, flags=re.DOTALL).group(0)
    assert re.findall(r"<tr><td>(p\d+)</td><td>[^<]*</td><td>(p\d+)</td>", table) == [("p1", "p2"), ("p4", "p7")]
    assert "<td class=\"num\">0.91</td>" in table and "(ann bar)" in table
    assert html.count("may duplicate p2") == 1 and html.count("may duplicate p1") == 1
    monkeypatch.setattr(R, "DUPLICATE_LIST_LIMIT", 1)
    html = render_report(d)
    assert "(2 pairs, the first 1 listed; all are in duplicates.csv" in html


def test_mismatch_note_says_when_no_author_areas_exist():
    d = _data()
    d.topics["area_mismatch"] = "False"
    assert "No area mismatches." in render_report(d)
    d.papers["primary_area"] = ""
    html = render_report(d)
    assert "No area mismatches." not in html and "No author-chosen areas in the submissions" in html
    assert "Authors chose another area" not in html  # no column of blanks


def test_report_without_optional_artifacts_still_renders():
    d = _data(with_areas=False, with_supply=False)
    d.assignments = d.conflicts = d.summaries = d.embeddings = None
    html = render_report(d)
    tree = parse(html)
    assert not tree.errors and all(tree.ids.count(s) == 1 for s in SECTIONS)
    assert "No area or theory-topic classification in this run." in html
    assert "No assignment in this run" in html
    assert "No embeddings for a map." in html
    assert len([t for t, _ in tree.tags if t == "article"]) == len(d.papers)


def test_a_run_without_a_conflict_check_does_not_say_none_were_found():
    """Without reviewers no conflict is looked for: the report says so, and shows no count of 0 found."""
    d = _data()
    d.assignments = d.conflicts = None
    html = render_report(d)
    assert "No conflicts found." not in html and "conflicts found</span>" not in html
    assert "No conflict check in this run: 'triage match' finds the conflicts" in html
    d.conflicts = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])  # checked, none found
    html = render_report(d)
    assert "No conflicts found." in html and "<b>0</b><span>conflicts found</span>" in html


def test_weak_threshold_moves_papers_in_and_out():
    d = _data()
    d.weak_threshold = 0.7  # every assigned pair in _data scores <= 0.6
    html = render_report(d)
    weak = re.search(r'<table id="weak">.*?</table>', html, flags=re.DOTALL).group(0)
    assert len(re.findall(r"<tr><td>(p\d+)</td>", weak)) == len(d.papers) - 1  # all assigned papers


@pytest.mark.e2e
def test_demo_run_report(demo_run, data_dir):
    html = (demo_run / "report.html").read_text(encoding="utf-8")
    tree = parse(html)
    assert not tree.errors, tree.errors[:5]
    subs = pd.read_csv(data_dir / "submissions.csv", keep_default_na=False)
    assert len([t for t, _ in tree.tags if t == "article"]) == len(subs)
    a = pd.read_csv(demo_run / "assignments.csv")
    n_weak = int((a.groupby("paper_id")["score"].max() < WEAK_SCORE).sum())
    assert re.search(rf'<b>{n_weak}</b><span>weak matches</span>', html)
    conflicts = pd.read_csv(demo_run / "conflicts.csv")
    assert f"<b>{len(conflicts)}</b><span>conflicts found</span>" in html
    assert "all-MiniLM-L6-v2" in html
    names = pd.read_csv(data_dir / "reviewers.csv", keep_default_na=False).set_index("reviewer_id")["name"]
    first = a.sort_values(["paper_id", "rank"]).iloc[0]
    assert names[first["reviewer_id"]] in html
    assert len(html) < 3_000_000
    dups = pd.read_csv(demo_run / "duplicates.csv")
    assert list(dups.columns) == DUPLICATE_COLUMNS  # the test slice has no two versions of one paper
    assert dups.empty and "possible duplicate pairs" not in html


def test_reviewers_reviewing_each_others_papers_are_listed():
    d = _data()
    assert '<table id="reciprocal">' not in render_report(d)  # not checked: no section
    d.reciprocal_pairs = pd.DataFrame({"reviewer_a": ["r4"], "paper_a": ["p1"], "reviewer_b": ["r0"],
                                       "paper_b": ["p4"]})
    html = render_report(d)
    table = re.search(r'<table id="reciprocal">.*?</table>', html, flags=re.DOTALL).group(0)
    assert "<td>Kurt Gödel</td><td>p1</td><td>Ada Lovelace</td><td>p4</td>" in table
    d.reciprocal_pairs = d.reciprocal_pairs.iloc[:0]
    assert "None: no two reviewers review each other's papers." in render_report(d)


def test_reviewers_without_publications_are_listed_with_name_and_email(tmp_path, monkeypatch, fake_embedder):
    d = _data()
    assert 'id="no-publications"' not in render_report(d)  # not known: no section
    d.reviewers = pd.concat([d.reviewers.assign(email=""), pd.DataFrame(
        {"reviewer_id": ["r7"], "name": ["Emmy Noether"], "email": ["emmy@uni.example"]})])
    d.without_publications = ["r7"]
    table = re.search(r'<table id="no-publications-table">.*?</table>', render_report(d), flags=re.DOTALL).group(0)
    assert "<td>Emmy Noether</td><td>r7</td><td>emmy@uni.example</td>" in table
    # end to end: a reviewers file row with no publication is named in the report of a run
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    good = Path(__file__).parent / "bad_inputs" / "good"
    revs = pd.read_csv(good / "reviewers.csv", dtype=str)
    extra = {c: "" for c in revs.columns} | {"reviewer_id": "~No_Papers1", "name": "No Papers"}
    pd.concat([revs, pd.DataFrame([extra])]).to_csv(tmp_path / "reviewers.csv", index=False)
    args = [str(good / "submissions.csv"), "-p", str(good / "publications.csv"), "-r", str(tmp_path / "reviewers.csv"),
            "-o", str(tmp_path / "o")]
    assert CliRunner().invoke(app, ["match", *args, "--per-paper", "1"]).exit_code == 0
    res = CliRunner().invoke(app, ["report", *args])
    assert res.exit_code == 0, res.output
    table = re.search(r'<table id="no-publications-table">.*?</table>', (tmp_path / "o" / "report.html").read_text(),
                      flags=re.DOTALL).group(0)
    assert re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", table) == [("No Papers", "~No_Papers1")]
    # a match that keeps only recent publications (--since) leaves out a reviewer whose papers are all older
    pubs = pd.read_csv(good / "publications.csv", dtype=str, keep_default_na=False)
    older = pubs["reviewer_id"].iloc[0]
    pubs.loc[pubs["reviewer_id"] == older, "year"] = "2019"
    pubs.to_csv(tmp_path / "publications.csv", index=False)
    args = [str(good / "submissions.csv"), "-p", str(tmp_path / "publications.csv"), "-r",
            str(tmp_path / "reviewers.csv"), "-o", str(tmp_path / "o")]
    assert CliRunner().invoke(app, ["match", *args, "--per-paper", "1", "--since", "2020"]).exit_code == 0
    assert CliRunner().invoke(app, ["report", *args]).exit_code == 0
    table = re.search(r'<table id="no-publications-table">.*?</table>', (tmp_path / "o" / "report.html").read_text(),
                      flags=re.DOTALL).group(0)
    assert [i for _, i in re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", table)] == sorted(["~No_Papers1", older])


def test_rings_of_three_reviewers_are_listed_and_said_in_the_run():
    from triage.pipeline import MatchResult

    d = _data()
    d.reciprocal_pairs = pd.DataFrame(columns=["reviewer_a", "paper_a", "reviewer_b", "paper_b"])
    assert '<table id="rings">' not in render_report(d)
    d.review_rings = pd.DataFrame([["r0", "p1", "r1", "p2", "r3", "p3"]],
                                  columns=["reviewer_a", "paper_a", "reviewer_b", "paper_b", "reviewer_c", "paper_c"])
    table = re.search(r'<table id="rings">.*?</table>', render_report(d), flags=re.DOTALL).group(0)
    assert ("<td>Ada Lovelace</td><td>p1</td><td>Alan Turing</td><td>p2</td><td>Grace Hopper</td><td>p3</td>"
            in table)
    m = MatchResult(conflicts=pd.DataFrame(), affinity=pd.DataFrame(), assignments=None, alternates=None,
                    reciprocal=(2, 0), rings=(1, 1))
    assert m.reciprocal_note() == (
        "2 pair(s) of reviewers reviewed each other's papers in the best-scoring assignment; 2 broken by swapping in "
        "another candidate; 2 ring(s) of three reviewers, each on a paper the next one wrote; 1 broken, 1 left (kept "
        "by the chair, at their min_load, or no candidate with load to spare); the report lists them")
    assert MatchResult(conflicts=pd.DataFrame(), affinity=pd.DataFrame(), assignments=None, alternates=None,
                       reciprocal=(0, 0), rings=(0, 0)).reciprocal_note() == ""


def test_papers_short_of_the_senior_reviewers_asked_are_listed_and_said_in_the_run():
    """With --min-senior 2 a paper with one senior reviewer is short: the report lists it, as the run says."""
    from triage.pipeline import MatchResult

    d = _data()
    d.reviewers = d.reviewers.assign(senior=[True, True, False, False, False])
    n = d.assignments.assign(s=d.assignments["reviewer_id"].isin(["r0", "r1"])).groupby("paper_id")["s"].sum()
    for m, heading in ((None, "Papers without a senior reviewer"), (2, "Papers with fewer than 2 senior reviewers")):
        d.min_senior = m
        html = render_report(d)
        assert f'<h3 id="no-senior">{heading} <span class="muted">({int((n < (m or 1)).sum())};' in html
        table = re.search(r'<table id="no-senior-table">.*?</table>', html, flags=re.DOTALL).group(0)
        assert sorted(re.findall(r"<tr><td>(p\d+)</td>", table)) == sorted(n.index[n < (m or 1)])
    assert (n == 1).any()
    note = MatchResult(conflicts=pd.DataFrame(), affinity=pd.DataFrame(), assignments=None, alternates=None,
                       senior=(2, 0, ("p1",))).senior_note()
    assert note.startswith("1 paper(s) have fewer than 2 senior reviewer(s) (no free senior candidate") and \
        "first: p1" in note


def test_conflict_reasons_are_counted_by_kind_not_by_name_or_title():
    """A possible co-author is one kind whoever it names; a '; ' inside a title or a declaration is no reason of
    its own; a declared conflict is one kind however it was declared."""
    d = _data()
    d.conflicts = pd.DataFrame({
        "paper_id": ["p0", "p0", "p1", "p2", "p3"], "reviewer_id": ["r1", "r2", "r3", "r4", "r0"],
        "reason": ["co-author may be Daniel M. Kane (initials: 'Daniel Kane' on 'Hardness…' (2023))",
                   "co-author may be Simon S Du (initials: 'Simon Du' on 'Breaking…' (2023))",
                   "co-author of Ann Bar on 'Bandits; a survey' (2023); shared domain x.edu",
                   "declared: same lab; advisor", "declared conflict"]})
    html = render_report(d)
    assert "Reasons (a pair can have several): co-author may be (2), declared (2), co-author (1), " \
           "shared domain (1)." in html


def _ticks(html: str, prefix: str, axis: str) -> list[str]:
    """The tick labels of one axis of the histogram whose element ids start with ``prefix``."""
    return re.findall(rf'<g id="{prefix}-{axis}tick_\d+">.*?<text[^>]*>([^<]*)</text>', html, flags=re.DOTALL)


def test_histograms_of_a_small_run_count_in_whole_numbers():
    """With two papers, the counts axes read 0, 1, 2 (not 0.0, 0.2, ...) and the load axis has no -0.50 load."""
    d = _data(n=3)
    html = render_report(d)
    for prefix in ("scores", "best", "load"):
        ticks = _ticks(html, prefix, "y")
        assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), (prefix, ticks)
    loads = _ticks(html, "load", "x")
    assert loads and all(re.fullmatch(r"\d+", t) for t in loads), loads


def test_a_run_too_small_for_a_map_says_so():
    """One or two submissions have embeddings but no map: the report says why, not that embeddings are missing."""
    d = _data(n=3)
    d.papers, d.topics, d.embeddings = d.papers.head(1), d.topics.head(1), d.embeddings[:1]
    html = render_report(d)
    assert "No map: it needs 3 submissions or more (this run has 1)." in html and "No embeddings for a map." not in html


def test_counts_of_one_read_in_the_singular():
    d = _data()
    d.conflicts = d.conflicts.head(1)
    d.reserve = pd.DataFrame({"reviewer_id": ["r4"], "load": [1], "max_load": [6], "papers": [3], "new_papers": [3],
                              "covered": [3]})
    html = render_report(d)
    for text in ("(1 paper whose best assigned reviewer scores below 0.35)", "1 conflicted pair, never assigned, on 1 "
                 "paper (median", "This reviewer can stand in on 3 of 11 papers."):
        assert text in html, text
    d.papers, d.topics, d.embeddings = d.papers.head(1), d.topics.head(1), d.embeddings[:1]
    d.per_paper = 1
    html = render_report(d)
    assert "<title>triage report: 1 submission</title>" in html and ">1 paper</p>" in html
    assert "(fewer than 1 reviewer)" in html


def test_only_long_words_get_break_opportunities_and_text_stays_escaped():
    from triage.report import breakable

    assert str(breakable("A bound on <b>SGD</b> & Adam")) == "A bound on &lt;b&gt;SGD&lt;/b&gt; &amp; Adam"
    word = "a&b" * 15  # 45 characters, no space
    assert str(breakable(f"see {word} here")) == "see " + "<wbr>".join(
        s.replace("&", "&amp;") for s in (word[:20], word[20:40], word[40:])) + " here"
    assert str(breakable(None)) == ""
    html = render_report(_data())
    assert "<wbr>" not in html  # no title of the usual kind is touched
