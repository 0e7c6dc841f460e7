"""Introduction and conclusion text from a paper's PDF (pypdf), for ``triage summarize --pdf-dir``.

Text layers vary a lot between PDFs, so this is best effort: the introduction runs from a heading
"Introduction" to the next numbered heading, the conclusion from a heading "Conclusion(s)" or
"Discussion" to "References"/"Acknowledg(e)ments"/"Appendix". Hyphenated line breaks are joined
and whitespace is collapsed. A PDF without a text layer gives empty text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("triage")

MAX_SECTION_CHARS = 6000
MAX_PAGES = 40

_INTRO = re.compile(r"(?:^|\n)\s*(?:1\.?|I\.?)?\s*Introduction\s*\n", re.IGNORECASE)
_NEXT_HEADING = re.compile(r"\n\s*(?:2|II)\.?\s+[A-Z][^\n]{2,80}\n")
_CONCL = re.compile(r"(?:^|\n)\s*(?:\d+\.?|[IVX]+\.?)?\s*(?:Conclusions?|Discussion|Concluding Remarks)"
                    r"(?:\s+and\s+[^\n]{0,40})?\s*\n", re.IGNORECASE)
_END = re.compile(r"\n\s*(?:References|Bibliography|Acknowledg(?:e)?ments?|Appendix|A\s+Appendix)\s*\n",
                  re.IGNORECASE)


def _names(paper_id: str) -> list[str]:
    """The names (without ``.pdf``) a paper's PDF may have: the id with ``/`` as ``_``, its last part, the id."""
    return list(dict.fromkeys((paper_id.replace("/", "_"), paper_id.split("/")[-1], paper_id)))


def pdfs_for(paper_ids: Iterable[str], pdf_dir: Path) -> tuple[dict[str, Path], dict[Path, list[str]]]:
    """Each paper's PDF in ``pdf_dir`` (see :func:`_names`), and the PDFs whose name fits several papers.

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
    found = {}
    for pid in ids:
        name = next((n for n in _names(pid) if n in files and owners.get(n, fits[n]) == [pid]), None)
        if name is not None:
            found[pid] = files[name]
    used = set(found.values())
    shared = {files[n]: fits[n] for n in fits if len(fits[n]) > 1 and n in files and files[n] not in used}
    return found, shared


def pdf_texts(paper_ids: Iterable[str], pdf_dir: Path) -> list[str]:
    """The introduction and conclusion of each paper's PDF in ``pdf_dir`` ('' for a paper without one)."""
    ids = [str(p) for p in paper_ids]
    found, shared = pdfs_for(ids, pdf_dir)
    for path, pids in shared.items():
        log.warning("%s: the name fits %d papers (%s); used for none of them. Name each PDF <paper_id>.pdf "
                    "with '/' as '_'", path, len(pids), ", ".join(pids))
    return [extract_intro_conclusion(found[pid]) if pid in found else "" for pid in ids]


def _clean(text: str) -> str:
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text).strip()


def sections(raw: str) -> tuple[str, str]:
    """(introduction, conclusion) from a PDF's raw text, each cut at ``MAX_SECTION_CHARS``."""
    intro = concl = ""
    m = _INTRO.search(raw)
    if m:
        rest = raw[m.end():]
        stop = _NEXT_HEADING.search(rest)
        intro = _clean(rest[: stop.start()] if stop else rest[:MAX_SECTION_CHARS])
    ms = list(_CONCL.finditer(raw))
    if ms:
        rest = raw[ms[-1].end():]
        stop = _END.search(rest)
        concl = _clean(rest[: stop.start()] if stop else rest[:MAX_SECTION_CHARS])
    return intro[:MAX_SECTION_CHARS], concl[:MAX_SECTION_CHARS]


def extract_intro_conclusion(path: Path) -> str:
    """Introduction and conclusion of the PDF at ``path``; '' (with a warning) when it cannot be read."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(str(path))
        pages = [(p.extract_text() or "") for p in reader.pages[:MAX_PAGES]]
    except (PyPdfError, DependencyError, NotImplementedError, OSError, ValueError, LookupError, TypeError) as exc:
        # damaged, encrypted, too large once inflated, or a compression pypdf cannot decode (or needs jbig2dec for)
        log.warning("%s: cannot read the PDF (%s); summarising the abstract only", path, type(exc).__name__)
        return ""
    intro, concl = sections("\n" + "\n".join(pages) + "\n")
    return "\n\n".join(t for t in (intro, concl) if t)
