"""Claim summaries for area chairs: extractive, deterministic and verbatim.

Every output sentence is a substring of the paper's own text. Sentences are scored by their
TF-IDF similarity to the whole abstract (centrality), cue phrases ("we prove", "we show",
"our results") and position; the TL;DR is the best contribution sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["paper_id", "tldr", "claims"]

# Abbreviations after which a period does not end a sentence.
_ABBREV = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Figs.", "Eq.", "Eqs.", "Sec.", "Thm.",
           "resp.", "approx.", "w.r.t.", "a.k.a.", "Dr.", "Prof.", "No.", "Ref.", "Refs.", "Lem.", "Def.", "Prop.",
           "Cor.", "Alg.", "i.i.d.", "w.h.p.", "s.t.", "St.", "Ph.D.", "U.S.", "approx.")

CLAIM_CUES = re.compile(
    r"\b(we (?:prove|show|establish|demonstrate|propose|introduce|present|derive|develop|provide|give|obtain|"
    r"characteri[sz]e|identify|find|design|study|analy[sz]e|argue|construct)|our (?:results?|main result|"
    r"analysis|method|approach|framework|theory|findings?|contributions?|algorithm)|this (?:paper|work) "
    r"(?:proves|shows|establishes|proposes|introduces|presents)|in this (?:paper|work)|main result)\b",
    re.IGNORECASE,
)
RESULT_CUES = re.compile(
    r"(\b(?:outperform\w*|improv\w*|achiev\w*|state[- ]of[- ]the[- ]art|reduc\w*|speed-?up|accuracy|"
    r"converge\w*|bound|rate|optimal|lower bound|upper bound|regret|sample complexity|polynomial|"
    r"exponential|theorem|guarantee\w*)\b|\d+(?:\.\d+)?\s?%|\$[^$]*\$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SummaryParams:
    max_claims: int = 3


def _protect(text: str) -> tuple[str, dict[str, str]]:
    """Replace spans whose periods are not sentence ends with placeholders of equal length."""
    spans: dict[str, str] = {}

    def keep(m: re.Match[str]) -> str:
        key = f"\x00{len(spans)}\x00"
        spans[key] = m.group(0)
        return key

    t = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", keep, text, flags=re.DOTALL)
    t = re.sub("|".join(re.escape(a) for a in sorted(set(_ABBREV), key=len, reverse=True)), keep, t)
    t = re.sub(r"\b(?:[A-Z]\.){1,3}(?=\s?[A-Z][a-z])", keep, t)  # initials: "J. Smith"
    t = re.sub(r"\d+\.\d+", keep, t)  # decimals
    return t, spans


def split_sentences(text: str) -> list[str]:
    """Split an abstract into sentences, keeping LaTeX, abbreviations and decimals intact.

    Each returned sentence is an exact substring of ``text``.
    """
    if not text.strip():
        return []
    protected, spans = _protect(text)
    # Walk the protected text, mapping positions back to the original through the placeholders.
    bounds: list[tuple[int, int]] = []
    orig_pos, start = 0, 0
    i = 0
    keys = sorted(spans, key=len, reverse=True)
    while i < len(protected):
        if protected[i] == "\x00":
            j = protected.index("\x00", i + 1)
            key = protected[i:j + 1]
            orig_pos += len(spans[key])
            i = j + 1
            continue
        ch = protected[i]
        orig_pos += 1
        i += 1
        if ch in ".!?":
            # Consume closing quotes/brackets.
            while i < len(protected) and protected[i] in "\"')]”’":
                orig_pos += 1
                i += 1
            nxt = protected[i:i + 2]
            if i >= len(protected) or (nxt[:1].isspace() and (len(nxt) < 2 or not nxt[1].islower())):
                bounds.append((start, orig_pos))
                start = orig_pos
    del keys
    if start < len(text):
        bounds.append((start, len(text)))
    out = []
    for a, b in bounds:
        s = text[a:b].strip()
        if s:
            out.append(s)
    return out


def _centrality(sentences: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(sentences) == 1:
        return np.ones(1)
    try:
        m = TfidfVectorizer(stop_words="english").fit_transform(sentences + [" ".join(sentences)])
    except ValueError:
        return np.zeros(len(sentences))
    whole = m[len(sentences)]
    return np.asarray((m[: len(sentences)] @ whole.T).todense()).ravel()


def summarize_text(text: str, *, params: SummaryParams = SummaryParams()) -> dict[str, object]:
    """Extractive summary of one paper: tldr, claims (verbatim sentences) and their indices."""
    sents = split_sentences(text)
    if not sents:
        return {"tldr": "", "claims": [], "evidence": []}
    cent = _centrality(sents)
    n = len(sents)
    score = np.zeros(n)
    for i, s in enumerate(sents):
        score[i] = cent[i]
        if CLAIM_CUES.search(s):
            score[i] += 0.5
        if RESULT_CUES.search(s):
            score[i] += 0.15
        if i == 0:
            score[i] += 0.05
        if len(s) < 40:
            score[i] -= 0.3
    order = np.argsort(-score, kind="stable")
    chosen = sorted(int(i) for i in order[: params.max_claims])
    cue = [i for i in range(n) if CLAIM_CUES.search(sents[i])]
    tldr_i = max(cue, key=lambda i: (score[i], -i)) if cue else int(order[0])
    return {"tldr": sents[tldr_i], "claims": [sents[i] for i in chosen], "evidence": chosen, "tldr_evidence": tldr_i}


def summarize_papers(papers: pd.DataFrame, *, params: SummaryParams = SummaryParams()) -> pd.DataFrame:
    """One row per paper: ``paper_id, tldr, claims`` (claims is a list of verbatim sentences)."""
    rows = []
    for p in papers.itertuples(index=False):
        text = p.abstract or p.title
        s = summarize_text(text, params=params)
        rows.append({"paper_id": p.paper_id, "tldr": s["tldr"], "claims": s["claims"],
                     "evidence": s["evidence"]})
    return pd.DataFrame(rows, columns=["paper_id", "tldr", "claims", "evidence"])
