"""Introduction and conclusion text from a paper's PDF (pypdf), for ``triage summarize --pdf-dir``.

Text layers vary a lot between PDFs, so this is best effort: the introduction runs from a heading
"Introduction" to the next numbered heading, the conclusion from a heading "Conclusion(s)" or
"Discussion" to "References"/"Acknowledg(e)ments"/"Appendix". Hyphenated line breaks are joined
and whitespace is collapsed. A PDF without a text layer gives empty text.
"""

from __future__ import annotations

import logging
import re
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


def pdf_for(paper_id: str, pdf_dir: Path) -> Path | None:
    """The PDF of a paper in ``pdf_dir``: ``<paper_id>.pdf`` with ``/`` replaced by ``_`` (or the last part)."""
    pid = str(paper_id)
    for name in (pid.replace("/", "_"), pid.split("/")[-1], pid):
        p = Path(pdf_dir) / f"{name}.pdf"
        if p.is_file():
            return p
    return None


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
