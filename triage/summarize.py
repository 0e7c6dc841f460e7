"""Claim cards for area chairs: TL;DR, claims, results and theory assumptions, with evidence.

The default summarizer is extractive and deterministic: every sentence it outputs is a verbatim
substring of the paper's text. A paper's text is a list of sentences: sentence 0 is the title,
then the abstract, then (with ``--pdf-dir``) the introduction and conclusion from the PDF.
Evidence indices refer to that list.

Sentences are scored by embedding centrality (cosine to the whole paper's vector, or TF-IDF
similarity when no embedder is given), cue phrases ("we prove", "we show", "our results") and
position. Assumptions come from the vocabulary in ``data/assumptions.yaml``: regular
expressions per label, minus negated mentions ("without assuming Gaussian inputs") and sentences
that only describe other work.

An optional LLM backend (:mod:`triage.llm`) uses the same sentence numbering; its answers are
checked against it here and the paper falls back to the extractive summary on any error.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from triage.errors import InputError, quoted

SUMMARY_COLUMNS = ["paper_id", "tldr", "claims", "results", "assumptions", "evidence", "summarizer",
                   "text_sha256", "prompt_sha256"]

# Abbreviations after which a period does not end a sentence.
_ABBREV = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Figs.", "Eq.", "Eqs.", "Sec.", "Thm.",
           "resp.", "approx.", "w.r.t.", "a.k.a.", "Dr.", "Prof.", "No.", "Ref.", "Refs.", "Lem.", "Def.", "Prop.",
           "Cor.", "Alg.", "i.i.d.", "w.h.p.", "w.p.", "s.t.", "St.", "Ph.D.", "U.S.", "Ch.", "Sect.", "resp.",
           "Thms.", "Assump.", "Tab.", "viz.")
# Of these, the ones that also end sentences ("... introduced by Smith et al. We show ..."): they end one
# when the next word is one that opens sentences, not names ("Smith et al. Proved" stays together).
_ABBREV_AT_END = ("et al.", "et. al.", "etc.", "i.i.d.")
_SENTENCE_OPENERS = (r"We|Our|This|These|Those|In|The|It|Its|Here|However|Moreover|Furthermore|Finally|Additionally|"
                     r"Thus|Hence|Specifically|Unlike|Such|Further|Also|Then|Next|Lastly|Experiments?|Numerical|"
                     r"Empirical|Extensive|Besides|Instead|As|To|Using|Based|Under|For|On|Most|Many|Recent|Recently")

CLAIM_CUES = re.compile(
    r"\b(we (?:(?:also|further|then|first|additionally|next|formally|rigorously|theoretically|empirically|"
    r"provably) )?(?:prove[dn]?|show(?:ed|n)?|establish(?:ed)?|demonstrate[d]?|propose|introduce|present|derive|"
    r"develop|provide|give|obtain|"
    r"characteri[sz]e|identify|find|design|construct|resolve|answer|settle|extend|improve|offer|devise|initiate|"
    r"uncover|reveal|generali[sz]e|ask|pose|posit|conjecture)|"
    r"our (?:main )?(?:results?|analysis|method|approach|framework|theory|findings?|contributions?|algorithm|bounds?|"
    r"work)|this (?:paper|work|note|article) (?:proves|shows|establishes|"
    r"proposes|introduces|presents|provides|gives|develops|studies|investigates|considers|addresses|analy[sz]es|"
    r"examines|explores|tackles|resolves|answers|characteri[sz]es)|"
    r"in this (?:paper|work|note)|main (?:result|contribution|finding)|(?:is|are) the first)\b",
    re.IGNORECASE,
)
RESULT_CUES = re.compile(
    r"\b(?:outperform\w*|state[- ]of[- ]the[- ]art|speed-?ups?|accuracy|converges?|convergence|"
    r"(?:lower|upper|regret|generali[sz]ation|error|risk|sample[- ]complexity) bounds?|rates?|minimax|"
    r"(?:near[- ]|nearly |minimax[- ])?optimal(?:ity)?|regret|sample complexity|polynomial[- ]time|"
    r"exponential(?:ly)?|theorem|guarantees?|tight|matches|matching|improves? (?:on|upon|over)|"
    r"hardness|impossib\w+|necessary and sufficient|if and only if|iff|(?:prove|show)s? that)\b|"
    r"\d+(?:\.\d+)?\s?(?:%|x\b|×)",
    re.IGNORECASE,
)
# Math with a rate or bound in it ("$O(\\sqrt{T})$", "$n^{-1/2}$"), read span by span: a pattern run over the
# whole sentence would also pair the closing "$" of one span with the opening "$" of the next.
_MATH_SPAN = re.compile(r"\$[^$]+\$")
_MATH_RATE = re.compile(r"\bO\b|\\(?:Omega|Theta|tilde|widetilde|sqrt|log|frac)\b|\^")


def result_cues(sentence: str) -> int:
    """How many result cues (words, percentages, rates in math) the sentence has."""
    return len(RESULT_CUES.findall(sentence)) + sum(1 for m in _MATH_SPAN.finditer(sentence)
                                                    if _MATH_RATE.search(m.group(0)))


# Sentences that set the scene rather than state what this paper does.
BACKGROUND_CUES = re.compile(
    r"^(?:however|recently|despite|although|while|in recent years|existing|prior|previous|many|most|a (?:central|"
    r"fundamental|key|major) (?:question|problem|challenge|obstacle)|it is (?:well[- ])?known)\b",
    re.IGNORECASE,
)

# Outlook sentences ("we expect our findings to have implications for ...", "future work") say what
# might follow, not what the paper shows.
OUTLOOK_CUES = re.compile(
    r"\bwe\s+(?:expect|believe|hope|anticipate|speculate)\b|\b(?:may|might|could)\s+(?:also\s+)?(?:have|be|lead|"
    r"open|inspire|shed)\b|\bimplications?\s+for\b|\bfuture\s+(?:work|research|directions?|studies)\b",
    re.IGNORECASE,
)

# Sentences about other people's work (without "we"/"our") are context, not this paper's claims or results:
# "prior work", "all prior private algorithms", "recent work of Koch, Strassle, and Tan showed", "it was recently
# found that", "it has remained open". A citation by year ("(2014)") or by names ("Valiant and Valiant provided
# ...") marks one too.
OTHERS_CUES = re.compile(r"\bit (?:was|has been|had been) (?:recently|previously|already) (?:found|shown|observed|"
                         r"proved|proven|established|noted|reported)\b|\b(?:has|have|had) (?:long )?remained open\b|"
                         r"\blong[- ]standing open (?:question|problem)s?\b|"
                         r"\bet\.? al\.|\(\s*(?:19|20)\d\d[a-z]?\s*\)|"
                         r"(?-i:\b[A-Z][a-z]+ (?:and|&) [A-Z][a-z]+\b)(?: \(\d{4}\))? (?:provided|showed|proved|gave|"
                         r"introduced|proposed|established|obtained|studied|considered)\b", re.IGNORECASE)
PRIOR_WORK = re.compile(r"\b(?:prior|previous|previously known|existing|earlier|past|recent)\s+(?:[\w-]+\s+)?"
                        r"(?:work|works|results?|approaches|methods|algorithms|techniques|analys[ie]s|literature|"
                        r"studies|papers)\b", re.IGNORECASE)
# ... unless the paper's method is compared with it ("BayesDICE is competitive to existing state-of-the-art methods").
_COMPARED = re.compile(r"\b(?:outperform\w*|than|compared?|competitive|improv\w*|surpass\w*|beats?|against|over|unlike|"
                       r"versus|vs\.)\s+(?:(?:to|with|on|upon|over|all|the|most|many|several)\s+)?$", re.IGNORECASE)
# A sentence that opens with "their"/"they" goes on about the work the sentence before it cited ("Chen et al. gave
# the first algorithm ... More precisely, their algorithm runs in time ...").
THEIR = re.compile(r"^(?:[\w ]{1,30}, )?(?:their|they)\b", re.IGNORECASE)


# "Prior to our work, no efficient algorithms were known": the state of the art before the paper.
_BEFORE_OURS = re.compile(r"^(?:prior to|before|until) (?:our|this) (?:work|paper)\b", re.IGNORECASE)


def about_others(sentences: Sequence[str]) -> list[bool]:
    """Per sentence: whether it speaks of other people's work and not of the paper's own."""
    out: list[bool] = []
    for k, s in enumerate(sentences):
        before = _BEFORE_OURS.match(s)
        if before:
            s = s[before.end():]
        prior = any(not _COMPARED.search(s[:m.start()]) for m in PRIOR_WORK.finditer(s))
        others = (bool(before or OTHERS_CUES.search(s)) or prior
                  or (k > 0 and out[k - 1] and bool(THEIR.search(s))))
        out.append(others and not OURS.search(s))
    return out


# An open-problem abstract poses its question: when no sentence speaks of the paper itself, the ones
# that ask are its contribution.
QUESTION = re.compile(r"\?\s*$|\bopen (?:problem|question)s?\b|\bthe question (?:then )?is\b", re.IGNORECASE)
# An abstract that never speaks of itself states its results impersonally ("it is shown that ...",
# "conditions ... are then identified"); its other sentences (the open problem's known bounds) are not its results.
IMPERSONAL_RESULT = re.compile(r"\b(?:is|are|was|were|be)\s+(?:\w+\s+)?(?:shown|proved|proven|established|found|"
                               r"derived|obtained|identified|characteri[sz]ed)\b", re.IGNORECASE)
# A sentence that asks ("... ?", "we ask whether ...") states no result.
ASKS = re.compile(r"\?\s*$|\bwe (?:\w+ )?(?:ask|pose|posit|conjecture)\b", re.IGNORECASE)
OURS = re.compile(r"\b(?:we|our|us|this (?:paper|work))\b", re.IGNORECASE)

Centrality = Literal["embedding", "tfidf"]


@dataclass(frozen=True)
class SummaryParams:
    max_claims: int = 3
    max_results: int = 2
    centrality: Centrality = "embedding"


# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------
# A list marker with a dot ("1.", "(2.)", "3).", "ii).") opens an item: the first one after a colon, the others after
# a semicolon or where a sentence starts ("... settings: 1. A tight bound; 2. A lower bound. 3. An algorithm ...").
# The semicolon of an HTML entity ("k &gt; 2. We show") separates nothing, nor does the colon of a ratio ("10:1.",
# written without a space; "Section 2: 1. A bound" opens a list).
_MARKER = r"\(?(?:{})(?:\.\)?|\)\.)(?=\s)"
_AT_ITEM_START = (r"(?:(?<=[.!?]\s)|(?<=[.!?][)\]\"'”’]\s)|^|"
                  r"(?<=;\s)(?<!&[a-z]{2};\s)(?<!&[a-z]{3};\s)(?<!&[a-z]{4};\s)(?<!&#\d\d;\s))")
_LIST_MARKER = re.compile(r"(?:(?<=:\s)|(?<=[^\d]:))" + _MARKER.format("1|i") + "|" + _AT_ITEM_START
                          + _MARKER.format(r"\d{1,2}|[ivx]{1,4}"))
# Brackets longer than this (in characters) may hold sentences of their own, or never close.
_MAX_BRACKET = 250
# Quotes and brackets that close a sentence, also as an HTML entity ("... learning.&quot;").
_CLOSING = re.compile(r"(?:[\"')\]”’」』）]|&quot;)+")
# Chinese and Japanese full stops end a sentence without a space after them.
_FULL_STOPS = "。！？"


# Inline or display math whose last character before its closing delimiter ends a sentence.
_MATH_ENDS_SENTENCE = re.compile(r"^(?:\$|\\[(\[]).*[.!?]\s*(?:\$\$?|\\[)\]])$", re.DOTALL)


# Bumped whenever split_sentences splits differently: an LLM's cached answers cite sentences by number.
SPLIT_VERSION = 5


def _protect(text: str) -> tuple[str, dict[str, str]]:
    """Replace spans whose periods are not sentence ends with placeholders."""
    spans: dict[str, str] = {}

    def keep(m: re.Match[str]) -> str:
        key = f"\x00{len(spans)}\x00"
        spans[key] = m.group(0)
        return key

    t = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", keep, text, flags=re.DOTALL)
    abbrev = "|".join(re.escape(a) for a in sorted(set(_ABBREV) - set(_ABBREV_AT_END), key=len, reverse=True))
    at_end = "|".join(re.escape(a) for a in _ABBREV_AT_END)
    t = re.sub(rf"(?<![A-Za-z])(?:{at_end})(?!\s+(?:{_SENTENCE_OPENERS})\b)|(?<![A-Za-z])(?:{abbrev})", keep, t)
    t = re.sub(r"\b(?:[A-Z]\.){1,3}(?=\s?[A-Z][a-z])", keep, t)  # initials: "J. Smith"
    t = re.sub(r"\d+\.\d+|\.\d+\b", keep, t)  # decimals
    t = re.sub(rf"\b(?:[A-Za-z]\.){{2,}}(?!\s+(?:{_SENTENCE_OPENERS})\b)", keep, t)  # other dotted acronyms
    t = _LIST_MARKER.sub(keep, t)
    return t, spans


def _in_brackets(text: str) -> list[bool]:
    """Per position of ``text``: whether it lies inside a short (...) or [...] pair, after its opening bracket and up
    to its closing one. A sentence does not end there ("[SIAM J. Comput. 1998]", "(e.g. Ms. Pacman)")."""
    inside = [False] * (len(text) + 1)
    stack: list[tuple[str, int]] = []
    for k, ch in enumerate(text):
        if ch in "([":
            stack.append((ch, k))
        elif ch in ")]" and stack and stack[-1][0] == {")": "(", "]": "["}[ch]:
            start = stack.pop()[1]
            if k - start <= _MAX_BRACKET:
                inside[start + 1:k + 1] = [True] * (k - start)
    return inside


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, keeping LaTeX, abbreviations and decimals intact.

    Each returned sentence is an exact substring of ``text``.
    """
    if not text.strip():
        return []
    protected, spans = _protect(text)
    inside = _in_brackets(protected)
    bounds: list[tuple[int, int]] = []
    orig_pos, start, i = 0, 0, 0
    while i < len(protected):
        if protected[i] == "\x00":
            j = protected.index("\x00", i + 1)
            span = spans[protected[i:j + 1]]
            orig_pos += len(span)
            i = j + 1
            # Math that closes its sentence inside it ("... if and only if $d = o(np).$ In contrast, ...").
            if not _MATH_ENDS_SENTENCE.search(span):
                continue
            ch = "."
        else:
            ch = protected[i]
            orig_pos += 1
            i += 1
        if ch in ".!?" + _FULL_STOPS:
            closing = _CLOSING.match(protected, i)  # closing quotes/brackets
            if closing:
                orig_pos += closing.end() - i
                i = closing.end()
            if inside[i]:
                continue
            nxt = protected[i:i + 2]
            at_end = i >= len(protected)
            # A new sentence starts after whitespace with a non-lowercase character, or right away with a
            # capital followed by lowercase (abstracts often lose the space: "...hard.In particular").
            glued = (ch == "." and len(nxt) == 2 and nxt[0].isupper() and nxt[1].islower()
                     and i >= 3 and protected[i - 2].islower() and protected[i - 3].islower())
            if at_end or glued or ch in _FULL_STOPS or (nxt[:1].isspace() and (len(nxt) < 2 or not nxt[1].islower())):
                bounds.append((start, orig_pos))
                start = orig_pos
    if start < len(text):
        bounds.append((start, len(text)))
    return [s for s in (text[a:b].strip() for a, b in bounds) if s]


@dataclass
class PaperText:
    """The sentences of one paper: sentence 0 is the title, then the abstract, then any PDF text."""

    sentences: list[str]
    n_title: int  # 1 when the title is sentence 0, else 0
    n_abstract: int
    source: str  # the text every sentence is a substring of

    @property
    def body(self) -> range:
        return range(self.n_title, len(self.sentences))

    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


def paper_text(title: str, abstract: str, extra: str = "") -> PaperText:
    title, abstract, extra = (title or "").strip(), (abstract or "").strip(), (extra or "").strip()
    sents = [title] if title else []
    ab = split_sentences(abstract)
    ex = split_sentences(extra)
    source = "\n\n".join(p for p in (title, abstract, extra) if p)
    return PaperText(sents + ab + ex, len(sents), len(ab), source)


# ---------------------------------------------------------------------------------------------
# Assumption vocabulary
# ---------------------------------------------------------------------------------------------
# Enumerations of examples: what precedes a list of assumptions, what ends a list, what separates items.
_LIST_OF_ASSUMPTIONS = re.compile(r"\b(?:assum\w*|conditions?|hypothes[ie]s|regularity|requir\w*|settings?|"
                                  r"regimes?)\W+(?:\w+\W+){0,5}$", re.IGNORECASE)
_LIST_END = re.compile(r"[;:)\u2014]|\s--|\.\s|\.$|,\s+(?:we|which|where|while|whereas|our|this|that|and\s+we)\b",
                       re.IGNORECASE)
_LIST_SEP = re.compile(r",|\b(?:and|or|as\s+well\s+as)\b", re.IGNORECASE)
# Where a clause starts, looking back from a match; "non-" right before it and "-like" right after it.
# Clause boundaries: a negation or comparison does not reach across them. ", we ..." or ", our ..." opens the
# main clause after a leading phrase ("With no unrealistic assumption, we prove ... for the squared loss", "Unlike
# the NTK regime, our analysis ... in two-layer networks"), and
# so do ", under / assuming / provided / given ..." ("without warm start, under log-smooth targets") and
# ", thus / hence / therefore ..." ("does not rely on moment assumptions, thus allowing heavy tails").
_CLAUSE = re.compile(r"[;:]|,\s+(?:and|but|while|whereas|thus|hence|therefore)\b|"
                     r",\s+(?=(?:we|our|under|assuming|provided|given)\b)|\bbut\b|\bwhile\b|\bwhereas\b")
_NON_PREFIX = re.compile(r"\bnon-?$", re.IGNORECASE)
_LIKE_SUFFIX = re.compile(r"-like\b")


_MARKUP = re.compile(r"\\(?:emph|textit|textbf|textsc|texttt|text|mathrm|mathit|mathbf|underline)\s*\{([^{}]*)\}")


def _plain(sentence: str) -> str:
    """The sentence with LaTeX text markup removed (``\\emph{smooth}`` reads as ``smooth``) and HTML entities
    decoded (``$x_i$&#39;s`` reads as ``$x_i$'s``)."""
    if "&" in sentence:
        sentence = html.unescape(sentence)
    return _MARKUP.sub(r"\1", sentence) if "\\" in sentence else sentence


@dataclass
class Vocabulary:
    labels: dict[str, list[re.Pattern[str]]]
    descriptions: dict[str, str]
    negation: re.Pattern[str]
    negation_window: int
    skip_sentence: re.Pattern[str]
    sha256: str = ""
    # Labels a title alone does not establish (e.g. "gradient flow" as a figure of speech).
    needs_body: frozenset[str] = frozenset()
    # Words that open a list of examples or applications ("such as", "including", "e.g.").
    example_list: re.Pattern[str] = re.compile(r"(?!x)x")
    example_min_items: int = 3
    # Words that open a single example ("e.g.", "in contexts such as"): one item is enough.
    single_example: re.Pattern[str] = re.compile(r"(?!x)x")
    # A body sentence before the first one about the paper itself ("we", "our", "this paper") is background.
    own_work: re.Pattern[str] = re.compile(r"(?!x)x")
    # Words that make a setting a point of comparison ("differs from gradient flow"), like a negation.
    comparison: re.Pattern[str] = re.compile(r"(?!x)x")

    def __post_init__(self) -> None:
        # One alternation per label: one scan of the sentence per label.
        self._per_label = {k: re.compile("|".join(f"(?:{p.pattern})" for p in pats), re.IGNORECASE)
                           for k, pats in self.labels.items()}

    def detect(self, sentences: Sequence[str], n_title: int = 0) -> dict[str, list[int]]:
        """Label -> indices of the sentences that state it (in vocabulary order).

        The first ``n_title`` sentences are the title: a label in ``needs_body`` found there
        counts only when a body sentence states it too.
        """
        found: dict[str, list[int]] = {}
        first_own = self.first_own(sentences, n_title, len(sentences))
        for i, sentence in enumerate(sentences):
            s = _plain(sentence)
            if self.skip_sentence.search(s) or (first_own is not None and n_title <= i < first_own):
                continue
            lists = self._example_lists(s)
            for label, rx in self._per_label.items():
                if any(self._affirmed(s, m) and not any(a <= m.start() < b for a, b in lists)
                       for m in rx.finditer(s)):
                    found.setdefault(label, []).append(i)
        for label in self.needs_body & found.keys():
            if all(i < n_title for i in found[label]):
                del found[label]
        return {k: found[k] for k in self.labels if k in found}

    def first_own(self, sentences: Sequence[str], start: int, stop: int) -> int | None:
        """Index of the first sentence in ``start:stop`` about the paper itself ("we", "this paper")."""
        return next((i for i in range(start, min(stop, len(sentences))) if self.own_work.search(sentences[i])), None)

    def _example_lists(self, sentence: str) -> list[tuple[int, int]]:
        """Spans of enumerations of examples or applications ("applications such as A, B and C").

        A setting named as one of several examples is a use of the result, not an assumption of it.
        A list runs from its opening words to the end of the clause (";", ":", ")", a dash, the sentence
        end, or ", we/which/where ...") and needs ``example_min_items`` items separated by commas, "and"
        or "or". After ``single_example`` words ("e.g.") one item is enough. Lists of assumptions,
        conditions or settings ("under assumptions such as ...") are kept.
        """
        spans = []
        for cue, min_items in ((self.example_list, self.example_min_items), (self.single_example, 1)):
            for m in cue.finditer(sentence):
                if _LIST_OF_ASSUMPTIONS.search(sentence[max(0, m.start() - 60):m.start()]):
                    continue
                rest = sentence[m.end():]
                stop = _LIST_END.search(rest)
                seg = rest[:stop.start()] if stop else rest
                items = [x for x in _LIST_SEP.split(seg) if x.strip()]
                if len(items) >= min_items:
                    spans.append((m.end(), m.end() + len(seg)))
        return spans

    def _affirmed(self, sentence: str, m: re.Match[str]) -> bool:
        before = sentence[max(0, m.start() - self.negation_window):m.start()]
        if _NON_PREFIX.search(before) or _LIKE_SUFFIX.match(sentence, m.end()):
            return False  # "non-proportional limit", "random feature-like behaviour"
        before = _CLAUSE.split(before)[-1]
        # A comparison reaches further back ("we compare X with those of the NTK, which is an infinitely
        # wide network"): twice the negation window, within the same clause.
        wider = _CLAUSE.split(sentence[max(0, m.start() - 2 * self.negation_window):m.start()])[-1]
        return not (self.negation.search(before) or self.comparison.search(wider))


# Texts a label's pattern must not match with an empty match (a stray '|' would label every paper).
_EMPTY_PROBES = ("", "We assume a two-layer network trained by gradient descent on Gaussian data.")


VOCABULARY_KEYS = ("version", "labels", "negation_cues", "negation_window", "skip_sentence_cues", "example_list_cues",
                   "example_list_min_items", "single_example_cues", "own_work_cues", "comparison_cues")
LABEL_KEYS = ("description", "patterns", "title_alone")


def _unknown_keys(path: Path, doc: dict[Any, Any], known: tuple[str, ...], where: str) -> None:
    """A key the vocabulary does not know is a typo ('title-alone', 'negation_cue') that would be ignored."""
    for key in doc:
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"the keys are {', '.join(known)}"
            raise InputError(f"{path}: {where}unknown key {quoted(str(key))}; {hint}")


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """Read the assumption vocabulary (``data/assumptions.yaml`` unless ``path`` is given)."""
    import yaml

    from triage.resources import DATA_DIR

    path = Path(path) if path else DATA_DIR / "assumptions.yaml"
    try:
        raw = path.read_bytes()
        doc = yaml.safe_load(raw)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the assumption vocabulary ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}: not valid YAML{where}; fix the file or pass another --assumptions") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("labels"), dict) or not doc["labels"]:
        raise InputError(f"{path}: expected a 'labels:' mapping of label -> {{description, patterns}}")
    _unknown_keys(path, doc, VOCABULARY_KEYS, "")
    labels: dict[str, list[re.Pattern[str]]] = {}
    desc: dict[str, str] = {}
    needs_body: set[str] = set()
    for name, spec in doc["labels"].items():
        if isinstance(spec, dict):
            _unknown_keys(path, spec, LABEL_KEYS, f"label {quoted(str(name))}: ")
        pats = (spec or {}).get("patterns") if isinstance(spec, dict) else None
        if not pats:
            raise InputError(f"{path}: label {quoted(str(name))} has no 'patterns:' list; add at least one regular "
                             "expression")
        if not isinstance(pats, list):
            raise InputError(f"{path}: label {quoted(str(name))} 'patterns' must be a list of regular expressions "
                             f"(found {quoted(pats)}); write each on its own '- ' line")
        compiled = []
        for p in pats:
            if not isinstance(p, str):
                raise InputError(f"{path}: label {quoted(str(name))}: pattern {quoted(p)} is not a string; quote it "
                                 "('...'), as a ': ' or a leading '[' makes YAML read something else")
            try:
                compiled.append(re.compile(p, re.IGNORECASE))
            except re.error as exc:
                raise InputError(f"{path}: label {quoted(str(name))}: bad pattern {quoted(p)} ({exc}); fix the "
                                 "regular expression") from None
            if any(m.start() == m.end() for text in _EMPTY_PROBES for m in compiled[-1].finditer(text)):
                raise InputError(f"{path}: label {quoted(str(name))}: pattern {quoted(p)} matches empty text, so "
                                 "every paper would get the label; remove the empty alternative (a '|' at either "
                                 "end, or '||')")
        description = spec.get("description")
        if description is None:
            description = str(name)
        elif not isinstance(description, str):
            raise InputError(f"{path}: label {quoted(str(name))} 'description' must be a string (found "
                             f"{quoted(description)})")
        title_alone = spec.get("title_alone", True)
        if not isinstance(title_alone, bool):
            raise InputError(f"{path}: label {quoted(str(name))} 'title_alone' must be true or false (found "
                             f"{quoted(title_alone)})")
        labels[str(name)] = compiled
        desc[str(name)] = description
        if not title_alone:
            needs_body.add(str(name))

    def whole(key: str, default: int) -> int:
        value = doc.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{path}: '{key}' must be a whole number such as {default} (found {quoted(value)})")
        return value

    def rx(key: str, default: str) -> re.Pattern[str]:
        value = doc.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{path}: '{key}' must be one regular expression, a string (found {quoted(value)}); "
                             "join alternatives with '|' in a '|-' block")
        src = re.sub(r"\s*\n\s*", "", value or default)
        try:
            return re.compile(src, re.IGNORECASE)
        except re.error as exc:
            raise InputError(f"{path}: bad '{key}' pattern ({exc}); fix the regular expression") from None

    return Vocabulary(labels, desc, negation=rx("negation_cues", r"\b(?:without|unlike|not)\b"),
                      negation_window=whole("negation_window", 60),
                      skip_sentence=rx("skip_sentence_cues", r"(?!x)x"), sha256=hashlib.sha256(raw).hexdigest(),
                      needs_body=frozenset(needs_body), example_list=rx("example_list_cues", r"(?!x)x"),
                      example_min_items=whole("example_list_min_items", 3),
                      single_example=rx("single_example_cues", r"(?!x)x"), own_work=rx("own_work_cues", r"(?!x)x"),
                      comparison=rx("comparison_cues", r"(?!x)x"))


# ---------------------------------------------------------------------------------------------
# Extractive summarizer
# ---------------------------------------------------------------------------------------------
@dataclass
class Summary:
    tldr: str = ""
    claims: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    summarizer: str = "extractive"


def _tfidf_centralities(texts: list[PaperText], flat: list[str]) -> list[np.ndarray]:
    """Cosine of each sentence's TF-IDF vector to its paper's (IDF over all sentences of the batch)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        m = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(flat) if flat else None
    except ValueError:  # only stop words
        m = None
    out, pos = [], 0
    for t in texts:
        k = len(t.body)
        if m is None or k == 0:
            out.append(np.zeros(k))
        else:
            rows = m[pos:pos + k]
            centre = np.asarray(rows.sum(axis=0)).ravel()
            norm = float(np.linalg.norm(centre)) or 1.0
            out.append(np.asarray(rows @ (centre / norm)).ravel())
        pos += k
    return out


def score_sentences(text: PaperText, centrality: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per body sentence (title excluded): (overall score, claim score, result score)."""
    body = [text.sentences[i] for i in text.body]
    n = len(body)
    c = np.asarray(centrality, dtype=float)
    if n and c.max() > c.min():
        c = (c - c.min()) / (c.max() - c.min())
    claim = np.array([1.0 if CLAIM_CUES.search(s) else 0.0 for s in body])
    result = np.array([min(result_cues(s), 3) / 3.0 for s in body])
    background = np.array([1.0 if BACKGROUND_CUES.search(s) or others else 0.0
                           for s, others in zip(body, about_others(body))])
    length = np.array([len(s) for s in body], dtype=float)
    pos = np.arange(n)
    in_pdf = pos >= text.n_abstract
    short = (length < 40) | (length > 600)
    outlook = np.array([1.0 if OUTLOOK_CUES.search(s) else 0.0 for s in body])
    base = 0.5 * c - 0.3 * background - 0.5 * short - 0.25 * in_pdf - 0.5 * outlook
    # Contribution sentences come early in an abstract ("We show ..."), results late: a mild position prior.
    early = np.where(pos < max(text.n_abstract, 1), 1.0 - pos / max(text.n_abstract, 1), 0.0)
    claim_score = base + claim + 0.15 * early + 0.2 * result
    result_score = base + result + 0.3 * claim
    overall = base + 0.6 * claim + 0.3 * result + 0.1 * early
    return overall, claim_score, result_score


def summarize_text(text: PaperText, centrality: np.ndarray, vocab: Vocabulary, *,
                   params: SummaryParams = SummaryParams()) -> Summary:
    """Extractive summary of one paper; ``centrality`` has one value per body sentence."""
    assumptions = vocab.detect(text.sentences, n_title=text.n_title)
    body_idx = list(text.body)
    if not body_idx:
        ev: dict[str, Any] = {"tldr": [0] if text.sentences else [], "claims": [], "results": [],
                              "assumptions": assumptions}
        return Summary(tldr=text.sentences[0] if text.sentences else "", assumptions=list(assumptions), evidence=ev)
    overall, claim_score, result_score = score_sentences(text, centrality)
    body = [text.sentences[i] for i in body_idx]
    has_result = np.array([result_cues(s) > 0 for s in body])
    # The scene-setting sentences (before the first one about the paper itself, or about other work
    # without "we"/"our") state what others did: they are claims or results only when nothing else is.
    first_own = vocab.first_own(body, 0, text.n_abstract)
    # An abstract that never speaks of itself (an open problem) contributes its questions.
    own_found = first_own is not None
    question = np.array([not own_found and bool(QUESTION.search(s)) for s in body], dtype=bool)
    has_claim = np.array([bool(CLAIM_CUES.search(s)) for s in body], dtype=bool) | question
    first_own = first_own or 0
    # (In an abstract that never speaks of itself, its questions are its contribution even when they cite others.)
    scene = np.array([k < first_own or (others and not question[k]) for k, others in enumerate(about_others(body))])
    # Scene-setting and outlook sentences ("we expect implications for ...") are set aside when others exist.
    aside = scene | np.array([bool(OUTLOOK_CUES.search(s)) for s in body], dtype=bool)
    # Not a result: a question; in an abstract that never speaks of itself, also a sentence that does not
    # state one impersonally ("it is found that ..."), which then counts as a result cue.
    no_result = np.array([bool(ASKS.search(s)) for s in body], dtype=bool) | question
    if not own_found:
        impersonal = np.array([bool(IMPERSONAL_RESULT.search(s)) for s in body], dtype=bool)
        no_result |= ~impersonal
        has_result = has_result | impersonal
        result_score = result_score + impersonal / 3.0
    # Results: theorem-like or quantitative sentences of the paper's own, best first.
    res = [int(i) for i in np.argsort(-result_score, kind="stable")
           if has_result[i] and result_score[i] > 0.25 and not scene[i] and not no_result[i]]
    # At least one sentence is left for the claims (a two-sentence abstract of two theorems).
    res = sorted(res[: min(params.max_results, len(body) - 1)])
    # Claims: contribution sentences not already listed as results; else the most central sentences.
    cands = [int(i) for i in np.argsort(-claim_score, kind="stable") if int(i) not in res]
    # When the paper's only own sentences are its results, they are its claims too.
    own = [i for i in cands if not aside[i]] or res or cands
    claims = sorted(([i for i in own if has_claim[i]] or own)[: params.max_claims])
    # TL;DR: the best contribution sentence of the paper's own; else its best own sentence; else any.
    in_abstract = [i for i in range(len(body)) if i < max(text.n_abstract, 1)]
    cue = [i for i in in_abstract if has_claim[i]]
    pool = [i for i in cue if not aside[i]] or [i for i in in_abstract if not aside[i]] or cue or in_abstract
    tldr = max(pool, key=lambda i: (overall[i], -i)) if pool else int(np.argmax(overall))
    to_doc = [body_idx[i] for i in range(len(body))]
    return Summary(
        tldr=body[tldr],
        claims=[body[i] for i in claims],
        results=[body[i] for i in res],
        assumptions=list(assumptions),
        evidence={"tldr": [to_doc[tldr]], "claims": [to_doc[i] for i in claims],
                  "results": [to_doc[i] for i in res], "assumptions": assumptions},
    )


# ---------------------------------------------------------------------------------------------
# Papers -> summaries
# ---------------------------------------------------------------------------------------------
SentenceEmbedder = Callable[[list[str]], np.ndarray]


class Summarizer(Protocol):
    """Turns one paper (with its extractive summary as the fallback) into a Summary."""

    name: str

    def config_sha256(self) -> str: ...

    def summarize(self, text: PaperText, fallback: Summary) -> Summary: ...


def _centralities(texts: list[PaperText], params: SummaryParams, embed: SentenceEmbedder | None,
                  paper_vectors: np.ndarray | None) -> list[np.ndarray]:
    flat = [t.sentences[i] for t in texts for i in t.body]
    if params.centrality == "tfidf" or embed is None:
        return _tfidf_centralities(texts, flat)
    vecs = embed(flat) if flat else np.zeros((0, 1), dtype=np.float32)
    out, pos = [], 0
    for k, t in enumerate(texts):
        v = vecs[pos:pos + len(t.body)]
        pos += len(t.body)
        if not len(v):
            out.append(np.zeros(0))
            continue
        if paper_vectors is not None and len(v) > 1:
            centre = np.asarray(paper_vectors[k], dtype=np.float32)
        else:
            centre = v.mean(axis=0)
        norm = float(np.linalg.norm(centre)) or 1.0
        out.append(v @ (centre / norm))
    return out


@dataclass
class SummaryStats:
    papers: int = 0
    summarizer: str = "extractive"
    fallbacks: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    partial: dict[str, int] = field(default_factory=dict)  # section -> papers whose section stayed extractive
    partial_papers: int = 0  # papers answered by the summarizer with some sections left extractive
    cached: int = 0
    kept: int = 0  # papers whose earlier summary was reused (unchanged text and settings)


def extractive_config_sha256(params: SummaryParams, vocab: Vocabulary) -> str:
    blob = json.dumps({"params": asdict(params), "vocab": vocab.sha256, "v": 7, "split": SPLIT_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def summarize_papers(
    papers: pd.DataFrame,
    *,
    params: SummaryParams = SummaryParams(),
    vocab: Vocabulary | None = None,
    embed: SentenceEmbedder | None = None,
    paper_vectors: np.ndarray | None = None,
    extra_text: Sequence[str] | None = None,
    summarizer: Summarizer | None = None,
    stats: SummaryStats | None = None,
    earlier: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """One row per paper with ``SUMMARY_COLUMNS``; lists are Python lists, ``evidence`` a dict.

    ``embed`` turns sentences into L2-normalised vectors (for embedding centrality); without it,
    TF-IDF centrality is used. ``paper_vectors`` (row-aligned) are the whole-paper vectors the
    sentences are compared to. ``extra_text`` (row-aligned) is PDF text appended to the abstract.
    ``summarizer`` (e.g. an LLM) is tried per paper, the extractive summary being its fallback.
    ``earlier`` (paper id -> row of an earlier run made with the same model and settings) rows are
    kept for papers whose text and extractive configuration are unchanged: a paper's summary depends
    only on its own text with embedding centrality (TF-IDF centrality reads the whole batch, and a
    ``summarizer`` keeps its own cache, so neither reuses rows).
    """
    vocab = vocab or load_vocabulary()
    stats = stats if stats is not None else SummaryStats()
    titles = papers["title"].tolist() if "title" in papers.columns else [""] * len(papers)
    extras = list(extra_text) if extra_text is not None else [""] * len(papers)
    texts = [paper_text(t, a, e) for t, a, e in zip(titles, papers["abstract"].tolist(), extras)]
    ext_sha = extractive_config_sha256(params, vocab)
    ids = papers["paper_id"].tolist()
    kept: dict[int, dict[str, Any]] = {}
    if earlier and summarizer is None and params.centrality == "embedding" and embed is not None:
        for k, (pid, text) in enumerate(zip(ids, texts)):
            rec = earlier.get(pid)
            if rec and rec.get("text_sha256") == text.sha256() and rec.get("prompt_sha256") == ext_sha:
                kept[k] = {c: rec.get(c) for c in SUMMARY_COLUMNS}
    todo = [k for k in range(len(texts)) if k not in kept]
    cents = dict(zip(todo, _centralities([texts[k] for k in todo], params, embed,
                                         None if paper_vectors is None else np.asarray(paper_vectors)[todo])))
    rows = []
    for k, (pid, text) in enumerate(zip(ids, texts)):
        if k in kept:
            rows.append(kept[k])
            continue
        s = summarize_text(text, cents[k], vocab, params=params)
        prompt_sha = ext_sha
        if summarizer is not None:
            s = summarizer.summarize(text, s)
            prompt_sha = summarizer.config_sha256()
        rows.append({"paper_id": pid, "tldr": s.tldr, "claims": s.claims, "results": s.results,
                     "assumptions": s.assumptions, "evidence": s.evidence, "summarizer": s.summarizer,
                     "text_sha256": text.sha256(), "prompt_sha256": prompt_sha})
    stats.papers = len(rows)
    stats.kept = len(kept)
    stats.summarizer = summarizer.name if summarizer is not None else "extractive"
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
