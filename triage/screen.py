"""Desk-reject pre-screen: the submissions a chair should look at before the assignment.

Each finding is one row, ``paper_id, check, severity, detail``: ``must`` for what breaks the call for
papers (no abstract or a placeholder, a PDF over the page limit, an author named on page 1 or in the PDF's
metadata, a self-citation naming an author), ``should`` for what the chair should look at (a very short
abstract, a link in the abstract, an email address or a first-person self-citation such as "our previous
paper [3]", a PDF that cannot be read). The detail says what was found, where, and the rule it breaks.

The abstract checks read the submissions as ingest gives them; the PDF checks read the PDFs of a folder,
named as :func:`triage.pdftext.pdfs_for` finds them, with pypdf: the page count (up to a "References" heading
when one is found), page 1 for names and emails, the metadata's Author, and the text before the references
for self-citations. Thresholds are measured on real abstracts by ``bench/screen.py``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from triage.conflicts import normalize_name
from triage.errors import quoted

log = logging.getLogger("triage")

SCREEN_COLUMNS = ["paper_id", "check", "severity", "detail"]
MUST, SHOULD = "must", "should"

# Whole-word placeholders for an abstract still to be written (in an abstract shorter than ``min_words``).
_PLACEHOLDER = re.compile(
    r"lorem ipsum|\b(?:tbd|tba|tbc|todo)\b|\bto be (?:added|updated|announced|completed|provided|written|"
    r"determined|confirmed|submitted)\b|\bcoming soon\b|\bplaceholder\b|\b(?:abstract|text) (?:goes )?here\b|"
    r"\bsee (?:the )?(?:attached )?(?:pdf|paper|manuscript|submission)\b|\bwill be (?:added|updated|provided|"
    r"uploaded|written)\b", re.IGNORECASE)
_LOREM = re.compile(r"lorem ipsum", re.IGNORECASE)
# The authors' own earlier work, in the first person.
_SELF = re.compile(
    r"\b(?:our|my)\s+(?:own\s+)?(?:previous|prior|earlier|recent|past|former|companion|preliminary|conference|"
    r"workshop)\s+(?:[\w-]+\s+)?(?:work|paper|study|studies|publication|results?|version|analysis|approach|method|"
    r"framework|algorithm|model|system|article|report)s?\b|\bwe\s+(?:have\s+)?(?:previously|recently|earlier)\s+"
    r"(?:showed|shown|proposed|introduced|developed|presented|studied)\b|\bin\s+\[\d+\],?\s+we\b", re.IGNORECASE)
# A citation right after such a phrase: "[3]", "[3, 7]", "(Smith et al., 2020)", "Smith and Lee (2019)".
_NUMERIC_CITE = re.compile(r"\[\d+(?:\s*[,\u2013-]\s*\d+)*\]")
_NAME_CITE = re.compile(r"\b([A-Z][^\W\d_]+(?:-[A-Z][^\W\d_]+)?)(?:\s+et\s+al\b|\s+(?:and|&)\s+[A-Z][^\W\d_]+)?"
                        r"\.?,?\s*[(\[]?(?:19|20)\d\d\b|\b([A-Z][^\W\d_]+)\s+et\s+al\b")
# A citation after a comma cites what the next clause is about ("unlike our earlier analysis, the method of [5]").
_CLAUSE_END = re.compile(r"[,;:]")
_SENTENCE_END = re.compile(r"(?<!\bal)(?<![A-Z])\.\s+(?=[A-Z])")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'{}\\]+|\b[\w-]+\.github\.io\b[^\s<>\"'{}\\]*|"
                  r"\b(?:github|gitlab)\.com/[^\s<>\"'{}\\]+", re.IGNORECASE)
# Links and emails made for review (an anonymous account, a name for the venue, a link held back): they name no one.
_ANONYMOUS = re.compile(r"anon|anomym|4open\.science|redacted|masked|xxx|submission|blind|review|upon.?accept|"
                        r"after.?accept|\btmp\b|iclr|neurips|nips|icml", re.IGNORECASE)
# Who owns a repository or a project page: the account ('github.com/jdoe/iclr22-code' is jdoe's).
_ACCOUNT = re.compile(r"(?:github|gitlab)\.com/([^/?#\s]+)|([\w-]+)\.github\.io", re.IGNORECASE)
# (a domain ends in letters: "mAP@0.5" and "Recall@1.0" are metrics)
_EMAIL = re.compile(r"(?:\{[^{}\n]{1,200}\}|[\w.+-]+)@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}\b")
# The heading alone on its line: "References", "7 References:", "VII. R EFERENCES" (small capitals as pypdf reads them)
_REFERENCES = re.compile(r"^[ \t]*(?:\d+\.?|[IVX]+\.)?[ \t]*(?:R ?EFERENCES(?: and Notes)?|B ?IBLIOGRAPHY|"
                         r"Literature Cited|Works Cited)[ \t]*:?[ \t]*$", re.IGNORECASE | re.MULTILINE)
# Metadata Author values that name no one (what editors put there by default).
_NO_ONE = {"", "author", "authors", "author(s)", "user", "admin", "administrator", "owner", "unknown", "none",
           "microsoft office user", "windows user", "default", "name", "your name", "latex", "overleaf"}
HEADING_PAGE_WORDS = 15  # more words than this above the References heading: its page is a page of text too


@dataclass(frozen=True)
class ScreenParams:
    min_words: int = 30  # an abstract with fewer words is flagged (no real abstract of the dev data has fewer)
    page_limit: int | None = None  # pages of text before the References heading; None: not checked
    anonymous: bool = True  # double-blind review: check that the submissions name no author


def fold(text: str) -> str:
    """Lower case, without accents, ligatures as letters, whitespace as single spaces, line-end hyphens joined."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text).strip().lower()


def _quote(text: str, n: int = 80) -> str:
    return quoted(" ".join(text.split()), n)


def _names(authors: object) -> list[str]:
    return [str(a).strip() for a in (authors if isinstance(authors, (list, tuple)) else []) if str(a).strip()]


def _spelled(text: str) -> str:
    """``text`` spelled as :func:`~triage.conflicts.normalize_name` spells a name ('Jean-Pierre Nuñez1, Łukasz'
    -> 'jean pierre nunez , lukasz'), each part between commas on its own, so that no name is read across one."""
    return " , ".join(normalize_name(part) for part in re.split(r"[,;]", text))


def _surname(name: str) -> str:
    """The last name as :func:`~triage.conflicts.normalize_name` spells it: 'Doe, Jane' and 'Jane Doe Jr.' give
    'doe'."""
    parts = normalize_name(name).split()
    return parts[-1] if parts else ""


def _surnames(authors: list[str]) -> dict[str, str]:
    """Last name (:func:`_surname`, two letters or more) -> the author's name."""
    return {s: a for a in authors if len(s := _surname(a)) >= 2}


def _emails(authorids: object) -> set[str]:
    ids = authorids if isinstance(authorids, (list, tuple)) else []
    return {str(x).strip().lower() for x in ids if "@" in str(x)}


def _owner(url: str) -> str:
    """The part of a link that says whether it names someone: a repository's account, else the whole link."""
    m = _ACCOUNT.search(url)
    return (m.group(1) or m.group(2)) if m else url


def _word_re(phrase: str) -> re.Pattern[str]:
    """``phrase`` (folded) as whole words, whatever spacing lies between them."""
    return re.compile(r"(?<![^\W\d_])" + r"\s+".join(map(re.escape, phrase.split())) + r"(?![^\W\d_])")


def self_citations(text: str, authors: list[str]) -> list[tuple[str, str]]:
    """(severity, quote) for each first-person mention of the authors' own earlier work followed by a citation in
    the same sentence: ``must`` when the citation names an author ("our earlier work (Smith et al., 2020)" by
    Smith), else ``should`` ("our previous paper [3]")."""
    surnames = _surnames(authors)
    found = []
    for m in _SELF.finditer(text):
        after = text[m.end(): m.end() + 60]
        stop = _SENTENCE_END.search(after)
        after = after[: stop.start()] if stop else after
        names = [c for c in _NAME_CITE.finditer(after) if any(_surname(g) in surnames for g in c.groups() if g)]
        cite = names[0] if names else (_NUMERIC_CITE.search(after) or _NAME_CITE.search(after))
        if cite is not None and not _CLAUSE_END.search(after, 0, cite.start()):
            found.append((MUST if names else SHOULD, text[m.start(): m.end() + cite.end()]))
    return found


def abstract_findings(title: str, abstract: str, authors: list[str], params: ScreenParams = ScreenParams()
                      ) -> list[tuple[str, str, str]]:
    """(check, severity, detail) for one submission's abstract."""
    text = abstract.strip()
    if not text:
        return [("no_abstract", MUST, "no abstract (empty, or a placeholder such as 'N/A')")]
    out = []
    words = len(text.split())
    if fold(text) == fold(title):
        out.append(("placeholder_abstract", MUST, "abstract repeats the title"))
    elif _LOREM.search(text) or (words < params.min_words and _PLACEHOLDER.search(text)):
        out.append(("placeholder_abstract", MUST, f"abstract looks like a placeholder: {_quote(text)}"))
    elif words < params.min_words:
        out.append(("short_abstract", SHOULD, f"abstract has {words} word{'s' if words != 1 else ''} "
                                              f"(fewer than {params.min_words})"))
    if params.anonymous:
        links = [u.rstrip(".,;:)]}") for u in _URL.findall(text)]
        named = [u for u in links if not _ANONYMOUS.search(_owner(u))]
        if named:
            out.append(("abstract_link", SHOULD, f"abstract links to {', '.join(dict.fromkeys(named))} "
                                                 "(a page that may name the authors)"))
        own = next((m.group(0) for m in _SELF.finditer(text) if "preliminary" not in m.group(0).lower()), None)
        if own:  # ("our preliminary results" in an abstract are this paper's)
            out.append(("self_citation", SHOULD, f"abstract refers to the authors' own earlier work in the first "
                                                 f"person: {_quote(own)}"))
    return out


@dataclass
class _Pdf:
    pages: list[str]
    n_pages: int
    author: str
    refs_page: int | None  # 1-based page of the References heading
    text_pages: int  # pages of text before the references (all pages when no heading was found)


def _read(path: Path, cache_dir: Path | None = None) -> tuple[_Pdf | None, str]:
    from triage.pdftext import read_pdf_cached

    pdf, why = read_pdf_cached(path, cache_dir, stop=lambda page: bool(_REFERENCES.search(page)))
    if pdf is None:
        return None, why
    if not pdf.has_text():
        return _Pdf([], pdf.n_pages, pdf.author, None, pdf.n_pages), "no text layer (scanned?)"
    refs_page = text_pages = None
    for i, page in enumerate(pdf.pages):
        m = _REFERENCES.search(page)
        if m:
            refs_page = i + 1
            text_pages = i + (len(page[: m.start()].split()) > HEADING_PAGE_WORDS)
            break
    return _Pdf(pdf.pages, pdf.n_pages, pdf.author, refs_page, pdf.n_pages if text_pages is None else text_pages), ""


def pdf_findings(path: Path, authors: list[str], emails: set[str], params: ScreenParams = ScreenParams(),
                 cache_dir: Path | None = None) -> list[tuple[str, str, str]]:
    """(check, severity, detail) for one submission's PDF (``cache_dir``: the cache of PDF pages, if any)."""
    pdf, why = _read(path, cache_dir)
    if pdf is None:
        return [("pdf_unreadable", SHOULD, f"PDF cannot be read ({why}), so it was not screened; open it by hand")]
    out = []
    if why:
        out.append(("pdf_unreadable", SHOULD, f"PDF has {why}, so its text was not screened; open it by hand"))
    limit = params.page_limit
    if limit is not None and pdf.text_pages > limit:
        if pdf.refs_page is not None:
            out.append(("page_limit", MUST, f"PDF has {pdf.n_pages} pages, {pdf.text_pages} before References on "
                                            f"page {pdf.refs_page} (limit {limit} before References)"))
        else:
            out.append(("page_limit", SHOULD, f"PDF has {pdf.n_pages} pages and no References heading was found, so "
                                              f"all count (limit {limit} before References)"))
    if params.anonymous:
        out += _anonymity(pdf, authors, emails)
    return out


def _anonymity(pdf: _Pdf, authors: list[str], emails: set[str]) -> list[tuple[str, str, str]]:
    out = []
    first = pdf.pages[0] if pdf.pages else ""
    page1 = _spelled(first)
    for name in authors:  # 'Doe, Jane' or 'Jean-Pierre Dupont' as the page spells it: 'Jane Doe', 'Jean Pierre Dupont'
        parts = normalize_name(name).split()
        if len(parts) >= 2 and any(_word_re(" ".join(p)).search(page1) for p in (parts, [parts[0], parts[-1]])):
            out.append(("author_name", MUST, f"page 1 names author '{name}'"))
    for m in dict.fromkeys(_EMAIL.findall(first)):
        if _ANONYMOUS.search(m):
            continue
        local, _, domain = m.partition("@")
        mine = {f"{x.strip()}@{domain}".lower() for x in local.strip("{}").split(",")} & emails
        out.append(("email", MUST, f"page 1 shows author email '{m}'") if mine
                   else ("email", SHOULD, f"page 1 shows an email address '{m}'"))
    meta = pdf.author
    if meta and fold(meta) not in _NO_ONE and not _ANONYMOUS.search(meta):
        who = [a for s, a in _surnames(authors).items() if _word_re(s).search(_spelled(meta))]
        out.append(("pdf_metadata", MUST, f"PDF metadata Author is '{meta}' (author {who[0]})") if who
                   else ("pdf_metadata", SHOULD, f"PDF metadata Author is '{meta}'"))
    pages = pdf.pages[: pdf.refs_page or len(pdf.pages)]
    if pdf.refs_page:  # the heading's page: only what comes before the heading
        pages[-1] = pages[-1][: _REFERENCES.search(pages[-1]).start()]
    cites = [(severity, i, quote) for i, page in enumerate(pages, 1)
             for severity, quote in self_citations(re.sub(r"(\w)-\n(\w)", r"\1\2", page).replace("\n", " "), authors)]
    if cites:
        severity, page, quote = next((c for c in cites if c[0] == MUST), cites[0])
        more = f" (and {len(cites) - 1} more)" if len(cites) > 1 else ""
        how = "by an author's name" if severity == MUST else "in the first person"
        out.append(("self_citation", severity, f"page {page} cites the authors' own earlier work {how}: "
                                               f"{_quote(quote)}{more}"))
    return out


def screen_papers(papers: pd.DataFrame, *, pdf_dir: Path | None = None, params: ScreenParams = ScreenParams(),
                  warn: bool = True, cache_dir: Path | None = None) -> pd.DataFrame:
    """The findings of every check on every submission (``SCREEN_COLUMNS``), in the submissions' order, a paper's
    ``must`` rows first. With ``pdf_dir``, each paper's PDF there is screened too, and a paper without one is a
    finding once some paper has one; ``warn``: one warning names the PDFs that match no paper."""
    from triage.pdftext import pdfs_for, shared_reasons, warn_unused

    ids = papers["paper_id"].astype(str).tolist()
    found: dict[str, Path] = {}
    if pdf_dir is not None:
        found, shared, others = pdfs_for(ids, Path(pdf_dir))
        if warn:
            warn_unused(Path(pdf_dir), ids, found, shared_reasons(shared), others)
    rows = []
    for rec in papers.to_dict("records"):
        pid = str(rec["paper_id"])
        authors = _names(rec.get("authors"))
        checks = abstract_findings(str(rec.get("title") or ""), str(rec.get("abstract") or ""), authors, params)
        if pid in found:
            checks += pdf_findings(found[pid], authors, _emails(rec.get("authorids")), params, cache_dir)
        elif found:
            checks.append(("no_pdf", SHOULD, f"no PDF in the PDF folder (expected {pid.replace('/', '_')}.pdf)"))
        checks.sort(key=lambda c: c[1] != MUST)
        rows += [(pid, *c) for c in checks]
    return pd.DataFrame(rows, columns=SCREEN_COLUMNS)


def screen_stats(findings: pd.DataFrame, n_papers: int) -> dict[str, object]:
    """Counts for the stage's record and the command's summary line."""
    return {"papers": n_papers, "findings": len(findings), "papers_flagged": int(findings["paper_id"].nunique()),
            "must": int((findings["severity"] == MUST).sum()), "should": int((findings["severity"] == SHOULD).sum()),
            "by_check": {str(k): int(v) for k, v in findings["check"].value_counts().sort_index().items()}}
