"""The desk-reject pre-screen: abstract checks on real abstracts, PDF checks on PDFs built here."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from test_summarize import make_pdf

from triage.ingest import read_papers
from triage.screen import SCREEN_COLUMNS, ScreenParams, screen_papers

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    """The test slice's real submissions (COLT 2024 with authors, ICLR without)."""
    return read_papers(DATA / "submissions.csv")


def findings(papers: pd.DataFrame, **kw) -> list[tuple[str, str, str]]:
    f = screen_papers(papers, **kw)
    assert list(f.columns) == SCREEN_COLUMNS
    return list(zip(f["paper_id"], f["check"], f["severity"]))


def test_real_abstracts_raise_no_finding_but_a_link_that_may_name_the_authors(real):
    assert findings(real) == []
    demo = read_papers(Path(__file__).parents[1] / "data" / "demo" / "submissions.csv")  # 439 papers
    f = screen_papers(demo)
    assert f[["paper_id", "check", "detail"]].to_numpy().tolist() == [
        ["QKEkEFpKBBv", "abstract_link", "abstract links to https://sites.google.com/view/diff-nbp (a page that may "
                                         "name the authors)"]]  # github.com/iclr2022anon/... names no one


def test_missing_placeholder_short_and_linked_abstracts_are_flagged(real):
    p = real.head(7).copy().reset_index(drop=True)
    first = p.at[5, "abstract"].split(". ")[0] + "."  # a real abstract's first sentence alone
    p.loc[0, "abstract"] = ""
    p.loc[1, "abstract"] = "To be updated."
    p.loc[2, "abstract"] = p.at[2, "title"]
    p.loc[3, "abstract"] += " Our code is at https://github.com/janedoe/bandits."
    p.loc[4, "abstract"] += (" Code: https://anonymous.4open.science/r/bandits-1234 and videos at "
                             "https://iclr-acgn.github.io/ACGN/.")  # pages made for review (real ICLR 2021 links)
    p.loc[5, "abstract"] = first
    p.loc[6, "abstract"] = "In our previous work we showed a bound. " + p.at[6, "abstract"]
    f = screen_papers(p).set_index("paper_id")
    ids = p["paper_id"].tolist()
    assert f.loc[ids[0], "check"] == "no_abstract" and f.loc[ids[0], "severity"] == "must"
    assert f.loc[ids[1], "detail"] == "abstract looks like a placeholder: 'To be updated.'"
    assert f.loc[ids[2], "detail"] == "abstract repeats the title"
    assert f.loc[ids[3], "check"] == "abstract_link" and "github.com/janedoe/bandits" in f.loc[ids[3], "detail"]
    assert ids[4] not in f.index
    words = len(first.split())
    assert f.loc[ids[5], "detail"] == f"abstract has {words} words (fewer than 30)"
    assert f.loc[ids[5], "severity"] == "should"
    assert f.loc[ids[6], "check"] == "self_citation" and "'our previous work'" in f.loc[ids[6], "detail"]
    # With --min-words below the sentence's length it passes; single-blind review takes no anonymity check.
    f2 = findings(p, params=ScreenParams(min_words=words, anonymous=False))
    assert {c for _, c, _ in f2} == {"no_abstract", "placeholder_abstract"}


BODY = ["We study online learning with bandit feedback and prove bounds on the regret of simple methods."] * 4


def pdf(pages: list[list[str]], author: str | None = None) -> bytes:
    data = make_pdf(pages)
    if author is None:
        return data
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    w.add_metadata({"/Author": author})
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def one_paper(tmp_path: Path, data: bytes, *, authors=("Jos\u00e9 N\u00fa\u00f1ez", "Ann Smith"),
              emails=("ann@uni.edu",), params: ScreenParams = ScreenParams()) -> pd.DataFrame:
    folder = tmp_path / "pdfs"
    folder.mkdir(exist_ok=True)
    (folder / "v1_p1.pdf").write_bytes(data)
    papers = read_papers(DATA / "submissions.csv").head(1).assign(paper_id="v1/p1", authors=[list(authors)],
                                                                    authorids=[list(emails)])
    return screen_papers(papers, pdf_dir=folder, params=params)


def pages_with_references(before: int, *, text_above: bool = False) -> list[list[str]]:
    """``before`` pages of text, then the References heading at the top of the next page (or under text)."""
    pages = [["A Paper", "Anonymous Authors", "1 Introduction", *BODY]] + [BODY * 3 for _ in range(before - 1)]
    last = ["References", "[1] A. Author. A book. 2001."]
    return pages + [BODY + last if text_above else last, ["A Appendix", *BODY]]


@pytest.mark.parametrize(("pages", "limit", "expected"), [
    (pages_with_references(9), 9, None),
    (pages_with_references(10), 9, ("must", "PDF has 12 pages, 10 before References on page 11 (limit 9 before "
                                            "References)")),
    (pages_with_references(9, text_above=True), 9, ("must", "PDF has 11 pages, 10 before References on page 10 "
                                                            "(limit 9 before References)")),
    ([["A Paper", *BODY]] + [BODY] * 10, 9, ("should", "PDF has 11 pages and no References heading was found, so "
                                                       "all count (limit 9 before References)")),
    (pages_with_references(12), None, None),  # off unless the chair gives a limit
])
def test_page_limit_counts_the_pages_before_references(tmp_path, pages, limit, expected):
    f = one_paper(tmp_path, pdf(pages), params=ScreenParams(page_limit=limit))
    got = f.loc[f["check"] == "page_limit", ["severity", "detail"]]
    assert [tuple(r) for r in got.to_numpy()] == ([expected] if expected else [])
    assert set(f["check"]) <= {"page_limit"}  # an anonymous PDF: nothing else


def test_names_emails_and_metadata_that_break_anonymity(tmp_path):
    page1 = ["A Paper", "Jose Nunez1 and Ann Smith2", "ann@uni.edu, bob@lab.org, reviewer@anonymous.org", *BODY]
    f = one_paper(tmp_path, pdf([page1, ["References", "[1] B."]], author="A. Smith"))
    got = [tuple(r) for r in f[["check", "severity", "detail"]].to_numpy()]
    assert got == [
        ("author_name", "must", "page 1 names author 'Jos\u00e9 N\u00fa\u00f1ez'"),  # accents aside
        ("author_name", "must", "page 1 names author 'Ann Smith'"),
        ("email", "must", "page 1 shows author email 'ann@uni.edu'"),
        ("pdf_metadata", "must", "PDF metadata Author is 'A. Smith' (author Ann Smith)"),
        ("email", "should", "page 1 shows an email address 'bob@lab.org'"),
    ]
    f = one_paper(tmp_path, pdf([page1, ["References"]], author="jdoe"), params=ScreenParams(anonymous=False))
    assert f.empty  # single-blind review
    f = one_paper(tmp_path, pdf([["A Paper", *BODY], ["References"]], author="jdoe"))
    assert f[["check", "severity", "detail"]].to_numpy().tolist() == [
        ["pdf_metadata", "should", "PDF metadata Author is 'jdoe'"]]
    for nobody in ("Anonymous Author(s)", "Microsoft Office User"):  # names no one
        assert one_paper(tmp_path, pdf([["A Paper", *BODY], ["References"]], author=nobody)).empty


def test_self_citations_in_the_first_person(tmp_path):
    text = ["A Paper", *BODY, "Smith et al. (2020) proved a lower bound. Our previous analysis in Section 3 holds.",
            "We build on our previous paper [3] and on prior work (Lee, 2019)."]
    f = one_paper(tmp_path, pdf([text, ["References", "As in our earlier work (Smith et al., 2020)."]]))
    assert f[["check", "severity", "detail"]].to_numpy().tolist() == [
        ["self_citation", "should", "page 1 cites the authors' own earlier work in the first person: "
                                    "'our previous paper [3]'"]]  # not after the References heading
    text.insert(2, "In our earlier work (Smith et al., 2020), we proved an upper bound.")
    f = one_paper(tmp_path, pdf([["A Paper", *BODY], text, ["References"]]))
    assert f[["check", "severity", "detail"]].to_numpy().tolist() == [
        ["self_citation", "must", "page 2 cites the authors' own earlier work by an author's name: "
                                  "'our earlier work (Smith et al., 2020' (and 1 more)"]]


def test_unreadable_and_missing_pdfs(tmp_path):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "p1.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    (folder / "p2.pdf").write_bytes(pdf([[]] * 11))  # no text layer
    papers = read_papers(DATA / "submissions.csv").head(3).assign(paper_id=["p1", "p2", "p3"])
    f = screen_papers(papers, pdf_dir=folder, params=ScreenParams(page_limit=9))
    assert f[["paper_id", "check", "severity", "detail"]].to_numpy().tolist() == [
        ["p1", "pdf_unreadable", "should", "PDF cannot be read (damaged), so it was not screened; open it by hand"],
        ["p2", "pdf_unreadable", "should", "PDF has no text layer (scanned?), so its text was not screened; open it "
                                           "by hand"],
        ["p2", "page_limit", "should", "PDF has 11 pages and no References heading was found, so all count (limit 9 "
                                       "before References)"],
        ["p3", "no_pdf", "should", "no PDF in the PDF folder (expected p3.pdf)"],
    ]
    (folder / "p1.pdf").unlink()
    (folder / "p2.pdf").unlink()
    assert screen_papers(papers, pdf_dir=folder).empty  # no PDF at all: a naming problem, said in a warning
