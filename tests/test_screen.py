"""The desk-reject pre-screen: abstract checks on real abstracts, PDF checks on PDFs built here, the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from test_summarize import make_pdf
from typer.testing import CliRunner

from triage.cli import app
from triage.ingest import read_papers
from triage.screen import SCREEN_COLUMNS, ScreenParams, screen_papers

DATA = Path(__file__).parent / "data"
runner = CliRunner()


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
    p.loc[3, "abstract"] += " Our code is at https://github.com/janedoe/bandits-iclr2022."  # jane doe's account
    p.loc[4, "abstract"] += (" Code: https://anonymous.4open.science/r/bandits-1234 and videos at "
                             "https://iclr-acgn.github.io/ACGN/.")  # pages made for review (real ICLR 2021 links)
    p.loc[5, "abstract"] = first
    p.loc[6, "abstract"] = "In our previous work we showed a bound. " + p.at[6, "abstract"]
    f = screen_papers(p).set_index("paper_id")
    ids = p["paper_id"].tolist()
    assert f.loc[ids[0], "check"] == "no_abstract" and f.loc[ids[0], "severity"] == "must"
    assert f.loc[ids[1], "detail"] == "abstract looks like a placeholder: 'To be updated.'"
    assert f.loc[ids[2], "detail"] == "abstract repeats the title"
    assert f.loc[ids[3], "check"] == "abstract_link" and "github.com/janedoe/bandits-iclr2022" in f.loc[ids[3],
                                                                                                       "detail"]
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


@pytest.mark.parametrize("heading", ["References:", "VII. R EFERENCES", "6 References and Notes", "BIBLIOGRAPHY"])
def test_references_heading_as_papers_write_it(tmp_path, heading):
    pages = pages_with_references(9)
    pages[-2][0] = heading  # small capitals come out of pypdf as 'R EFERENCES'
    assert one_paper(tmp_path, pdf(pages), params=ScreenParams(page_limit=9)).empty  # 9 pages before it: within


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


def test_author_lists_as_ingest_reads_them(tmp_path):
    """'Last, First' lists (BibTeX, CMT), hyphens, letters such as '\u0141', suffixes: spelled as on the page."""
    (tmp_path / "pdfs").mkdir()
    pages = {"p1": [["A Paper", "Jane Doe and John Smith", *BODY], ["References"]],
             "p2": [["A Paper", "Jean Pierre Dupont, Lukasz Kaiser", *BODY], ["References"]],
             "p3": [["A Paper", *BODY, "As in our earlier work (Doe et al., 2020), the bound holds."], ["References"]]}
    for pid, p in pages.items():
        (tmp_path / "pdfs" / f"{pid}.pdf").write_bytes(pdf(p, author="J. Smith" if pid == "p3" else None))
    pd.DataFrame({"paper_id": list(pages), "title": ["A Paper"] * 3, "abstract": [" ".join(BODY)] * 3,
                  "authors": ["Doe, Jane and Smith, John", "Jean-Pierre Dupont; \u0141ukasz Kaiser",
                              "Doe, Jane; John Smith Jr."]}).to_csv(tmp_path / "subs.csv", index=False)
    f = screen_papers(read_papers(tmp_path / "subs.csv"), pdf_dir=tmp_path / "pdfs")
    assert f[["paper_id", "severity", "detail"]].to_numpy().tolist() == [
        ["p1", "must", "page 1 names author 'Doe, Jane'"],
        ["p1", "must", "page 1 names author 'Smith, John'"],
        ["p2", "must", "page 1 names author 'Jean-Pierre Dupont'"],
        ["p2", "must", "page 1 names author '\u0141ukasz Kaiser'"],
        ["p3", "must", "PDF metadata Author is 'J. Smith' (author John Smith Jr.)"],
        ["p3", "must", "page 1 cites the authors' own earlier work by an author's name: 'our earlier work (Doe et al., "
                       "2020'"]]


def test_metrics_written_with_an_at_sign_are_not_emails(tmp_path):
    page1 = ["A Paper", "We report mAP@0.5, AP@0.75 and Recall@1.0 on COCO (Hits@1 on FB15k).", *BODY]
    assert one_paper(tmp_path, pdf([page1, ["References"]])).empty
    page1[1] += " Contact: jane.doe@cs.uni-x.edu.au"
    assert one_paper(tmp_path, pdf([page1, ["References"]]))["detail"].tolist() == [
        "page 1 shows an email address 'jane.doe@cs.uni-x.edu.au'"]


def test_self_citations_in_the_first_person(tmp_path):
    text = ["A Paper", *BODY, "Smith et al. (2020) proved a lower bound. Our previous analysis in Section 3 holds.",
            "Unlike our earlier analysis, the method of [5] needs a margin; by our previous results, Lee (2019) holds.",
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


def test_cli_screen_then_export_and_report(tmp_path):
    subs = read_papers(DATA / "submissions.csv").head(4)
    ids = subs["paper_id"].tolist()
    raw = pd.read_csv(DATA / "submissions.csv", dtype=str, keep_default_na=False).head(4)
    raw.loc[1, "abstract"] = "Abstract to be added."
    raw.to_csv(tmp_path / "subs.csv", index=False)
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / f"{ids[0].replace('/', '_')}.pdf").write_bytes(pdf(pages_with_references(10)))
    out = tmp_path / "out"
    res = runner.invoke(app, ["screen", str(tmp_path / "subs.csv"), "--pdf-dir", str(tmp_path / "pdfs"),
                              "--page-limit", "9", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "screened 4 papers: 5 finding(s) on 4 paper(s), 2 must and 3 should (see screen.csv)" in res.stdout
    f = pd.read_csv(out / "screen.csv")
    assert f[["paper_id", "check"]].to_numpy().tolist() == [
        [ids[0], "page_limit"], [ids[1], "placeholder_abstract"], [ids[1], "no_pdf"], [ids[2], "no_pdf"],
        [ids[3], "no_pdf"]]
    rec = json.loads((out / "manifest.json").read_text())["stages"]["screen"]
    assert rec["params"]["page_limit"] == 9 and rec["stats"]["must"] == 2
    status = runner.invoke(app, ["status", "-o", str(out)])
    assert status.stdout.splitlines()[0].startswith("screen ") and status.stdout.splitlines()[0].endswith("ok")
    res = runner.invoke(app, ["export", str(tmp_path / "subs.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out / "triage.csv", keep_default_na=False).set_index("Paper ID")
    assert t.loc[ids[0], "Flags"].startswith("must: PDF has 12 pages, 10 before References")
    assert t.loc[ids[2], "Flags"].startswith("should: no PDF")
    res = runner.invoke(app, ["report", str(tmp_path / "subs.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html.split('<section id="screen">')[1].split("</section>")[0]
    assert "5 findings on 4 papers" in section and "Abstract to be added." in section
    # A screen with no findings says so in one line.
    res = runner.invoke(app, ["screen", str(DATA / "submissions.csv"), "-o", str(tmp_path / "clean")])
    assert res.exit_code == 0 and "no findings" in res.stdout
    assert pd.read_csv(tmp_path / "clean" / "screen.csv").empty


@pytest.mark.parametrize(("args", "needle"), [
    (["--page-limit", "0"], "Invalid value for '--page-limit': Input should be greater than or equal to 1"),
    (["--pdf-dir", "FILE"], "--pdf-dir {}: is a file, not a folder; pass the folder that holds the files"),
    (["--page-limit", "9"], "--page-limit 9: the pages are counted in the submissions' PDFs; pass their folder with "
                            "--pdf-dir"),
])
def test_bad_options_are_one_line(tmp_path, args, needle):
    subs = DATA / "submissions.csv"
    args = [str(subs) if a == "FILE" else a for a in args]
    for command in ("screen", "run"):
        res = runner.invoke(app, [command, str(subs), *args, "-o", str(tmp_path / command)])
        assert res.exit_code == 1, res.output
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: ") and needle.format(subs) in lines[0], res.stderr
        assert not (tmp_path / command).exists()


def test_run_screens_first_with_the_pdfs_it_summarizes(tmp_path, monkeypatch, fake_embedder):
    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    subs = read_papers(DATA / "submissions.csv").head(4)
    pd.read_csv(DATA / "submissions.csv", dtype=str, keep_default_na=False).head(4).to_csv(tmp_path / "subs.csv",
                                                                                           index=False)
    (tmp_path / "pdfs").mkdir()
    pid = subs.at[0, "paper_id"]
    (tmp_path / "pdfs" / f"{pid.replace('/', '_')}.pdf").write_bytes(pdf(pages_with_references(10)))
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(tmp_path / "subs.csv"), "--pdf-dir", str(tmp_path / "pdfs"), "--page-limit",
                              "9", "--taxonomy", "none", "--theory", "none", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "screen: 4 finding(s) on 4 paper(s), 1 must and 3 should (see screen.csv)" in res.stdout
    f = pd.read_csv(out / "screen.csv")
    assert f.loc[f["severity"] == "must", "paper_id"].tolist() == [pid]
    stages = json.loads((out / "manifest.json").read_text())["stages"]
    assert min(stages, key=lambda s: stages[s]["seq"]) == "screen"
    assert stages["summarize"]["stats"]["with_pdf_text"] == 1  # the same folder, summarized
    t = pd.read_csv(out / "triage.csv", keep_default_na=False).set_index("Paper ID")
    assert t.loc[pid, "Flags"].startswith("must: PDF has 12 pages")
    assert res.stderr.count("--pdf-dir") <= 1  # the PDFs without a paper are said once
    status = runner.invoke(app, ["status", "-o", str(out)]).stdout.splitlines()
    assert status[0].startswith("screen ") and status[2].startswith("embed ")  # in the order they run


def test_pdfs_are_parsed_once_across_reruns_and_stages(tmp_path, monkeypatch):
    """The pages read from a PDF are cached by its bytes: a second screen parses nothing, summarize parses only
    the PDF whose pages past References the screen did not read, a rerun of either parses nothing, and a changed
    PDF is parsed again. A PDF pypdf cannot read is remembered with its reason."""
    import pypdf

    parsed: list[str] = []
    real = pypdf.PdfReader

    def counting(stream, *a, **k):
        parsed.append(Path(str(stream)).name)
        return real(stream, *a, **k)

    monkeypatch.setattr(pypdf, "PdfReader", counting)
    subs = read_papers(DATA / "submissions.csv").head(3)
    ids = subs["paper_id"].tolist()
    pd.read_csv(DATA / "submissions.csv", dtype=str, keep_default_na=False).head(3).to_csv(tmp_path / "subs.csv",
                                                                                          index=False)
    folder = tmp_path / "pdfs"
    folder.mkdir()
    names = [f"{pid.replace('/', '_')}.pdf" for pid in ids]
    (folder / names[0]).write_bytes(pdf(pages_with_references(3)))  # the screen stops at References
    (folder / names[1]).write_bytes(pdf([["A Paper", "1 Introduction", *BODY], BODY]))  # no heading: all read
    (folder / names[2]).write_bytes(b"%PDF-1.4 not really a pdf")
    out = tmp_path / "out"
    screen = ["screen", str(tmp_path / "subs.csv"), "--pdf-dir", str(folder), "-o", str(out)]
    assert runner.invoke(app, screen).exit_code == 0
    assert sorted(parsed) == sorted(names)
    first = pd.read_csv(out / "screen.csv")
    parsed.clear()
    assert runner.invoke(app, screen).exit_code == 0
    assert parsed == []
    pd.testing.assert_frame_equal(pd.read_csv(out / "screen.csv"), first)
    assert "damaged" in " ".join(first.loc[first["paper_id"] == ids[2], "detail"])
    summarize = ["summarize", str(tmp_path / "subs.csv"), "--pdf-dir", str(folder), "--centrality", "tfidf",
                 "-o", str(out)]
    assert runner.invoke(app, summarize).exit_code == 0
    assert parsed == [names[0]]
    parsed.clear()
    assert runner.invoke(app, summarize).exit_code == 0 and runner.invoke(app, screen).exit_code == 0
    assert parsed == []
    (folder / names[1]).write_bytes(pdf([["A Paper", "1 Introduction", *BODY], BODY, BODY]))
    assert runner.invoke(app, screen).exit_code == 0
    assert parsed == [names[1]]


def test_a_pdf_cache_entry_triage_did_not_write_is_read_again_and_missing_software_is_not_remembered(tmp_path,
                                                                                                  monkeypatch):
    """A cache entry of another shape (or damaged) is a miss, not a crash; a PDF that needs software not installed
    is read again next time (the chair may have installed it), not served its old reason."""
    import triage.pdftext as pdftext

    path = tmp_path / "a.pdf"
    path.write_bytes(pdf(pages_with_references(2)))
    cache = tmp_path / "cache"
    entry = pdftext._cache_entry(path, cache)
    entry.parent.mkdir()
    for text in ("{}", '{"pages": null, "n_pages": 3, "author": ""}', '{"pages": ["x"], "n_pages": "3", "author": ""}',
                 "[1]", '{"error": null}', "{not json"):
        entry.write_text(text)
        got, why = pdftext.read_pdf_cached(path, cache)
        assert got is not None and got.n_pages == 4 and why == "", text
    entry.unlink()
    real = pdftext.read_pdf
    monkeypatch.setattr(pdftext, "read_pdf", lambda *a, **k: (None, "needs software that is not installed (jbig2dec)"))
    assert pdftext.read_pdf_cached(path, cache)[1].startswith("needs software")
    monkeypatch.setattr(pdftext, "read_pdf", real)
    got, why = pdftext.read_pdf_cached(path, cache)
    assert got is not None and why == ""
