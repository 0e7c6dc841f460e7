"""A paper's PDF (pypdf): its introduction and conclusion for ``triage summarize --pdf-dir``, and its pages
and metadata for the screen (:func:`read_pdf`).

Text layers vary a lot between PDFs, so this is best effort: the introduction runs from a heading
"Introduction" to the next numbered heading (or "Related Work", the conclusion, the references), the conclusion
from a heading "Conclusion(s)" or "Discussion" to "References"/"Acknowledg(e)ments"/"Appendix" or a statement
(ethics, reproducibility, broader impact). Hyphenated line breaks are joined
and whitespace is collapsed. A PDF without a text layer gives empty text; so does one pypdf cannot
read, with the reason in plain words.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from triage.errors import OutputError
from triage.errors import shown as shown_value
from triage.workdir import cache_unwritable, write_text

log = logging.getLogger("triage")

MAX_SECTION_CHARS = 6000
MAX_PAGES = 40

# A heading may go on with "and ..." or "& ..." ("1 Introduction and Motivation", "6 Conclusion & Future Work") and
# end with a period or a colon.
_AND_MORE = r"(?:\s+(?:and|&)\s+[^\n]{0,40})?\s*[.:]?\s*\n"
_INTRO = re.compile(r"(?:^|\n)\s*(?:1\.?|I\.?)?\s*Introduction" + _AND_MORE, re.IGNORECASE)
_NEXT_HEADING = re.compile(r"\n\s*(?:(?:2|II)\.?\s+[A-Z][^\n]{2,80}|(?i:Related Work|Background|Preliminaries))\n")
_CONCL = re.compile(r"(?:^|\n)\s*(?:\d+\.?|[IVX]+\.?)?\s*(?:Conclusions?|Discussion|Concluding Remarks)" + _AND_MORE,
                    re.IGNORECASE)
# What follows the conclusion: the references, and the statements venues ask for after it (ICLR's ethics and
# reproducibility statements, NeurIPS' broader impact, ICML's impact statement).
_END = re.compile(r"\n\s*(?:References|Bibliography|Acknowledg(?:e)?ments?|Appendix|A\s+Appendix|"
                  r"(?:\d+\.?\s+)?(?:Broader Impacts?|(?:Broader )?Impact Statement|Ethics Statement|"
                  r"Reproducibility Statement))\s*\n", re.IGNORECASE)


def _names(paper_id: str) -> list[str]:
    """The names (without ``.pdf``) a paper's PDF may have: the id with ``/`` as ``_``, its last part, the id."""
    return list(dict.fromkeys((paper_id.replace("/", "_"), paper_id.split("/")[-1], paper_id)))


def pdfs_for(paper_ids: Iterable[str], pdf_dir: Path) -> tuple[dict[str, Path], dict[Path, list[str]], list[Path]]:
    """Each paper's PDF in ``pdf_dir`` (see :func:`_names`), the PDFs whose name fits several papers, and the rest.

    A paper's own name (``/`` as ``_``) is its PDF even if it is the last part of another id; any other
    name that fits more than one paper (``v1/p1`` and ``v2/p1`` both end in ``p1``) is used for none."""
    pdf_dir = Path(pdf_dir)
    files = {p.relative_to(pdf_dir).with_suffix("").as_posix(): p
             for p in sorted(pdf_dir.rglob("*")) if p.suffix.lower() == ".pdf" and p.is_file()}
    ids = list(dict.fromkeys(str(p) for p in paper_ids))
    owners: dict[str, list[str]] = {}
    fits: dict[str, list[str]] = {}
    for pid in ids:
        owners.setdefault(pid.replace("/", "_"), []).append(pid)
        for name in _names(pid):
            fits.setdefault(name, []).append(pid)
    found: dict[str, Path] = {}
    for pid in ids:
        name = next((n for n in _names(pid) if n in files and owners.get(n, fits[n]) == [pid]), None)
        if name is not None:
            found[pid] = files[name]
    used = set(found.values())
    shared = {files[n]: fits[n] for n in fits if len(fits[n]) > 1 and n in files and files[n] not in used}
    others = [p for p in files.values() if p not in used and p not in shared]
    return found, shared, others


def pdf_texts(paper_ids: Iterable[str], pdf_dir: Path, *, shown: int = 5, cache_dir: Path | None = None) -> list[str]:
    """The introduction and conclusion of each paper's PDF in ``pdf_dir`` ('' for a paper without one).

    One warning names the PDFs not used, each with its reason, and those that match no paper (the first
    ``shown`` of each); when no PDF matches, it gives the naming scheme with an example."""
    pdf_dir = Path(pdf_dir)
    ids = [str(p) for p in paper_ids]
    found, shared, others = pdfs_for(ids, pdf_dir)
    texts: list[str] = []
    unused: dict[Path, str] = {}
    for pid in ids:
        text, why = extract_intro_conclusion(found[pid], cache_dir) if pid in found else ("", "")
        texts.append(text)
        if pid in found and not text:
            unused[found[pid]] = why
    unused.update(shared_reasons(shared))
    warn_unused(pdf_dir, ids, found, unused, others, shown=shown)
    return texts


def shared_reasons(shared: dict[Path, list[str]]) -> dict[Path, str]:
    """Why each PDF whose name fits several papers is used for none (see :func:`pdfs_for`)."""
    return {path: "fits several papers: " + ", ".join(pids) for path, pids in shared.items()}


def warn_unused(pdf_dir: Path, ids: list[str], found: dict[str, Path], unused: dict[Path, str], others: list[Path],
                *, shown: int = 5) -> None:
    """One warning naming the PDFs not used, each with its reason, and those that match no paper (the first
    ``shown`` of each); when no PDF matches, it gives the naming scheme with an example."""

    def name(p: Path) -> str:
        return shown_value(p.relative_to(pdf_dir).as_posix())

    said = []
    if unused:
        said.append(f"{len(unused)} PDF(s) not used: "
                    + _some([f"{name(p)} ({why})" for p, why in unused.items()], shown))
    if others:
        said.append(f"{len(others)} PDF(s) match no paper: " + _some([name(p) for p in others], shown))
    if ids and not found:
        said.insert(0, f"no PDF matches any of the {len(ids)} papers" if unused or others else "no PDF files in it")
        eg = next((pid for pid in ids if "/" in pid), ids[0])
        said.append(f"name each PDF <paper_id>.pdf with '/' as '_', e.g. {eg.replace('/', '_')}.pdf for paper {eg}")
    if said:
        log.warning("--pdf-dir %s: %s", pdf_dir, "; ".join(said))


def _some(items: list[str], n: int) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _clean(text: str) -> str:
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text).strip()


def sections(raw: str) -> tuple[str, str]:
    """(introduction, conclusion) from a PDF's raw text, each cut at ``MAX_SECTION_CHARS``."""
    intro = concl = ""
    m = _INTRO.search(raw)
    ms = list(_CONCL.finditer(raw))
    if m:
        rest = raw[m.end():]
        # The introduction ends at the next section, or at the conclusion or references of a short paper.
        stops = [x.start() for x in (_NEXT_HEADING.search(rest), _END.search(rest)) if x is not None]
        stops += [c.start() - m.end() for c in ms if c.start() >= m.end()]
        intro = _clean(rest[: min(stops)] if stops else rest[:MAX_SECTION_CHARS])
    if ms:
        rest = raw[ms[-1].end():]
        stop = _END.search(rest)
        concl = _clean(rest[: stop.start()] if stop else rest[:MAX_SECTION_CHARS])
    return intro[:MAX_SECTION_CHARS], concl[:MAX_SECTION_CHARS]


@dataclass
class PdfText:
    """What a PDF holds for triage: the text of the pages read, how many pages it has, its metadata's Author."""

    pages: list[str]
    n_pages: int
    author: str = ""

    def has_text(self) -> bool:
        return len(" ".join(self.pages).split()) >= 20  # fewer: at most a stamp in the margin


def read_pdf(path: Path, *, max_pages: int = MAX_PAGES, stop: Callable[[str], bool] | None = None
             ) -> tuple[PdfText | None, str]:
    """(the PDF's text, '') or (None, why not in plain words). The text of the first ``max_pages`` pages is read,
    or up to the first page that ``stop`` accepts."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, EmptyFileError, FileNotDecryptedError, LimitReachedError, PyPdfError

    pypdf_log = logging.getLogger("pypdf")  # its notes ("EOF marker not found") would name no file
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(str(path))
        pages: list[str] = []
        for page in reader.pages[:max_pages]:
            pages.append(page.extract_text() or "")
            if stop is not None and stop(pages[-1]):
                break
        author = reader.metadata.author if reader.metadata is not None else None
        return PdfText(pages, len(reader.pages), str(author or "").strip()), ""
    except EmptyFileError:
        return None, "empty file"
    except FileNotDecryptedError:
        return None, "password-protected"
    except LimitReachedError:
        return None, "damaged or too large to unpack"
    except DependencyError as exc:  # a JBIG2 image without jbig2dec, Brotli without brotli
        return None, f"needs software that is not installed ({str(exc).rstrip('.')})"
    except NotImplementedError:  # an unknown stream filter or encryption method
        return None, "in a format pypdf cannot read"
    except OSError as exc:
        return None, f"cannot be opened ({exc.strerror or exc})"
    except (PyPdfError, ValueError, LookupError, TypeError):
        return None, "damaged"
    finally:
        pypdf_log.setLevel(level)


PDF_CACHE_VERSION = 1  # bump when what is kept of a PDF changes


def _cache_entry(path: Path, cache_dir: Path) -> Path | None:
    """The cache file of the PDF at ``path``: keyed by its bytes (a PDF downloaded again is found again) and by the
    pypdf version, whose text extraction may change; None when the file cannot be read."""
    import pypdf

    digest = hashlib.sha256(f"{PDF_CACHE_VERSION}\x00{pypdf.__version__}\x00".encode())
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return Path(cache_dir) / f"{digest.hexdigest()}.json"


def _cached(entry: Path) -> PdfText | str | None:
    """A cache entry: the pages read, why the PDF cannot be read, or None when it is missing or not one triage
    wrote (read again, and written anew)."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
        cached = json.loads(entry.read_text(encoding="utf-8"))
        if isinstance(cached.get("error"), str):
            return str(cached["error"])
        pages, n_pages, author = cached["pages"], cached["n_pages"], cached["author"]
        if isinstance(pages, list) and all(isinstance(p, str) for p in pages) and isinstance(n_pages, int) \
                and isinstance(author, str):
            return PdfText(pages, n_pages, author)
    return None


def read_pdf_cached(path: Path, cache_dir: Path | None, *, max_pages: int = MAX_PAGES,
                    stop: Callable[[str], bool] | None = None) -> tuple[PdfText | None, str]:
    """:func:`read_pdf` through a cache of the pages read (``cache_dir``; None: no cache). Parsing a PDF costs
    about a second, so a rerun, or a second stage reading the same PDFs (the screen, then summarize), reads only
    what it has not read: a cached read serves a request when it holds the pages asked for, or the page that
    ``stop`` accepts. A PDF pypdf cannot read is cached with its reason."""
    entry = None if cache_dir is None else _cache_entry(path, cache_dir)
    if entry is None:
        return read_pdf(path, max_pages=max_pages, stop=stop)
    cached = _cached(entry)
    if isinstance(cached, str):
        return None, cached
    if cached is not None:
        hit = next((i for i, page in enumerate(cached.pages[:max_pages]) if stop(page)), None) if stop else None
        if hit is not None:
            return PdfText(cached.pages[:hit + 1], cached.n_pages, cached.author), ""
        if len(cached.pages) >= min(max_pages, cached.n_pages):
            return PdfText(cached.pages[:max_pages], cached.n_pages, cached.author), ""
    pdf, why = read_pdf(path, max_pages=max_pages, stop=stop)
    if pdf is None and why.startswith(("cannot be opened", "needs software")):
        return pdf, why  # a file system's passing trouble, or software the chair may install: not the PDF's
    record = {"error": why} if pdf is None else {"pages": pdf.pages, "n_pages": pdf.n_pages, "author": pdf.author}
    try:
        write_text(entry, json.dumps(record))
    except OutputError as exc:  # a full disk costs the next run's parsing, not this run's output
        cache_unwritable(Path(cache_dir or "."), exc, "the next run reads the PDFs again")
    return pdf, why


def extract_intro_conclusion(path: Path, cache_dir: Path | None = None) -> tuple[str, str]:
    """(text, why): the introduction and conclusion of the PDF at ``path``, or '' and why not in plain words."""
    pdf, why = read_pdf_cached(path, cache_dir)
    if pdf is None:
        return "", why
    if not pdf.has_text():
        return "", "no text layer (scanned?)"
    intro, concl = sections("\n" + "\n".join(pdf.pages) + "\n")
    text = "\n\n".join(t for t in (intro, concl) if t)
    return text, ("" if text else "no introduction/conclusion found")
