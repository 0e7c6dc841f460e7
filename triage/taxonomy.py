"""Taxonomies (venue areas, theory topics) and zero-shot assignment of submissions to them.

A taxonomy is a YAML (or TOML/JSON) file: a list of topics, each with a ``name``, a
``description`` and ``seeds`` (short phrases a paper on the topic might contain), optional
``aliases`` (other spellings of the name, e.g. an older call for papers), ``terms`` and
``title_terms`` (patterns that name the topic in the text, or in the title alone), ``covers`` (ids of
other topics of the file whose seeds and terms it takes too: an area of an older, coarser call
that spans several of today's), and optionally a
``gate`` (theory cues) and a ``threshold`` for taxonomies whose topics only some papers get.
The shipped files live in ``data/taxonomies/``; see the README there for the format.

Assignment is zero-shot: nothing is trained on labels. A paper's score for a topic is
``desc_weight * sim(description) + (1 - desc_weight) * mean of its best seed similarities``,
plus a bonus when the title matches the topic's ``title_terms``. Scores are then calibrated per
topic (half of each topic's mean over the submission set is subtracted, so one broad topic cannot
absorb everything), smoothed with the paper's nearest neighbours among the submissions (papers on
the same subject should get the same area).
Refining the prototypes towards confidently owned papers is available (``refine``) but off:
it lowered accuracy on the development proxy (bench/topics.py).
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage.embed import nearest
from triage.errors import InputError, quoted, shown
from triage.ingest import paper_texts, parse_areas
from triage.resources import TAXONOMY_DIR

log = logging.getLogger("triage")

SUFFIXES = (".yaml", ".yml", ".toml", ".json")
TERM_BONUS = 0.2  # added to a topic's score per occurrence of one of its terms (at most two)
TITLE_BONUS = 0.1  # added once more when the title itself names the topic: the title states the subject


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    description: str
    seeds: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # regular expressions; a match in title/abstract adds TERM_BONUS
    title_terms: tuple[str, ...] = ()  # regular expressions; a match in the title alone adds the title bonus
    # An area of another year's call: suggested only when the submissions' own areas name it.
    only_when_named: bool = False
    covers: tuple[str, ...] = ()  # ids of the topics whose seeds and terms this one took (see ``load_taxonomy``)


@dataclass(frozen=True)
class Gate:
    """Theory-vs-not gate: cue patterns in the text, or a similarity margin theory - empirical."""

    theory: tuple[str, ...]
    empirical: tuple[str, ...]
    cues: tuple[str, ...] = ()
    margin: float = 0.05
    # Words that empirical papers also use in passing ("theoretical insight"): they make a paper
    # theory only when they occur twice (without any other cue or the margin).
    weak_cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    name: str
    title: str
    topics: tuple[Topic, ...]
    source: str = ""
    threshold: float | None = None
    gate: Gate | None = None

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.topics]


def available_taxonomies() -> list[str]:
    """Names of the taxonomies that ship with triage."""
    if not TAXONOMY_DIR.exists():
        return []
    return sorted(p.stem for p in TAXONOMY_DIR.iterdir() if p.suffix in SUFFIXES)


def resolve_taxonomy(spec: str | Path) -> Path:
    """A shipped name (``iclr``, ``dl-theory``) or a path to the user's own file."""
    p = Path(spec).expanduser()
    if p.suffix in SUFFIXES or p.exists() or "/" in str(spec) or "\\" in str(spec):
        if not p.exists():
            raise InputError(f"{p}: taxonomy file not found; check the path or use a shipped name "
                             f"({', '.join(available_taxonomies())})")
        if p.is_dir():
            raise InputError(f"{p}: is a folder; pass the taxonomy's .yaml file")
        return p
    for suffix in SUFFIXES:
        cand = TAXONOMY_DIR / f"{spec}{suffix}"
        if cand.exists():
            return cand
    raise InputError(f"taxonomy {quoted(str(spec))} is not a shipped taxonomy ({', '.join(available_taxonomies())}) "
                     "nor an existing file; pass one of those names or a path to a .yaml file")


def _parse(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows editors start UTF-8 files with a BOM
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text; re-save it as UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check its permissions") from None
    if path.suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise InputError(f"{path}: TOML taxonomies need Python 3.11 or later; write the file as YAML") from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except ValueError as exc:  # json errors
        raise InputError(f"{path}: not valid {path.suffix[1:].upper()} ({exc}); fix the syntax") from None
    except Exception as exc:  # yaml.YAMLError and friends
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "somewhere"
        raise InputError(f"{path}: not valid YAML at {where} ({getattr(exc, 'problem', exc)}); "
                         "fix the indentation or quoting there") from None


def _str_list(value: object, path: Path, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{path}: {where} '{key}' must be a list of non-empty strings (found {quoted(value)})")
    return tuple(" ".join(v.split()) for v in value)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def load_taxonomy(spec: str | Path) -> Taxonomy:
    """Read and validate a taxonomy file (shipped name or path)."""
    path = resolve_taxonomy(spec)
    data = _parse(path)
    if isinstance(data, list):
        data = {"topics": data}
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list) or not data["topics"]:
        raise InputError(f"{path}: needs a non-empty 'topics:' list (each with name, description, seeds); "
                         "see data/taxonomies/README.md")
    topics: list[Topic] = []
    seen: dict[str, int] = {}
    covers: dict[int, tuple[str, tuple[str, ...]]] = {}  # topic index -> (where, ids it covers)
    for i, raw in enumerate(data["topics"], start=1):
        where = f"topic {i}"
        if not isinstance(raw, dict):
            raise InputError(f"{path}: {where} is not a mapping; write it as '- name: ...' with description and "
                             "seeds under it")
        name = raw.get("name")
        if name is not None and not isinstance(name, str):
            raise InputError(f"{path}: {where} has 'name: {shown(name)}', not text; quote it (name: \"{shown(name)}\")")
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"{path}: {where} has no 'name'; give every topic a name")
        name = " ".join(name.split())
        where = f"topic {i} ({quoted(name)})"
        if ";" in name:
            raise InputError(f"{path}: {where} has a ';' in its name, which topics.csv uses between the top 3 "
                             "topics; write it with a comma instead")
        unknown = set(raw) - {"id", "name", "description", "seeds", "aliases", "terms", "title_terms",
                              "only_when_named", "covers"}
        if unknown:
            raise InputError(f"{path}: {where} has unknown key(s) {', '.join(sorted(map(shown, unknown)))}; "
                             "allowed: id, name, description, seeds, aliases, terms, title_terms, only_when_named, "
                             "covers")
        only_when_named = raw.get("only_when_named", False)
        if not isinstance(only_when_named, bool):
            raise InputError(f"{path}: {where} 'only_when_named' must be true or false (found "
                             f"{quoted(only_when_named)})")
        desc = raw.get("description")
        if desc is None:
            desc = ""
        elif not isinstance(desc, str):
            raise InputError(f"{path}: {where} 'description' must be a string (found {quoted(desc)})")
        seeds = _str_list(raw.get("seeds"), path, where, "seeds")
        covers[len(topics)] = (where, _str_list(raw.get("covers"), path, where, "covers"))
        if not desc.strip() and not seeds and not covers[len(topics)][1]:
            raise InputError(f"{path}: {where} has neither description nor seeds; add a description and a few "
                             "seed phrases so papers can be scored against it")
        tid = raw.get("id")
        if tid is not None and (isinstance(tid, bool) or not isinstance(tid, (str, int))):
            raise InputError(f"{path}: {where} 'id' must be a string (found {quoted(tid)})")
        tid = str(tid or _slug(name))
        if tid in seen:
            raise InputError(f"{path}: {where} repeats the id {quoted(tid)} of topic {seen[tid]}; ids must be unique")
        seen[tid] = i
        terms = _str_list(raw.get("terms"), path, where, "terms")
        title_terms = _str_list(raw.get("title_terms"), path, where, "title_terms")
        for key, term in [("term", t) for t in terms] + [("title term", t) for t in title_terms]:
            _check_pattern(term, path, f"{where} {key}")
        topics.append(Topic(tid, name, " ".join(desc.split()), seeds,
                            _str_list(raw.get("aliases"), path, where, "aliases"), terms, title_terms,
                            only_when_named))
    _check_unique_names(topics, path)
    topics = _with_covered(topics, covers, path)
    unknown = set(data) - {"name", "title", "threshold", "gate", "topics"}
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(sorted(map(shown, unknown)))} at the top of the file; "
                         "allowed: name, title, threshold, gate, topics")
    threshold = data.get("threshold")
    if threshold is not None and not _is_similarity(threshold):
        raise InputError(f"{path}: 'threshold' must be a number between -1 and 1 such as 0.3 (found "
                         f"{quoted(threshold)})")
    gate = None
    if data.get("gate") is not None:
        g = data["gate"]
        if not isinstance(g, dict):
            raise InputError(f"{path}: 'gate' must be a mapping with theory, empirical, cues and margin")
        unknown = set(g) - {"theory", "empirical", "cues", "weak_cues", "margin"}
        if unknown:
            raise InputError(f"{path}: gate has unknown key(s) {', '.join(sorted(map(shown, unknown)))}; "
                             "allowed: theory, empirical, cues, weak_cues, margin")
        margin = g.get("margin", 0.05)
        if not _is_similarity(margin):
            raise InputError(f"{path}: gate 'margin' must be a number between -1 and 1 such as 0.05 "
                             f"(found {quoted(margin)})")
        cues = _str_list(g.get("cues"), path, "gate", "cues")
        weak = _str_list(g.get("weak_cues"), path, "gate", "weak_cues")
        for c in (*cues, *weak):
            _check_pattern(c, path, "gate cue")
        theory = _str_list(g.get("theory"), path, "gate", "theory")
        empirical = _str_list(g.get("empirical"), path, "gate", "empirical")
        if bool(theory) != bool(empirical):
            raise InputError(f"{path}: gate needs both 'theory' and 'empirical' phrases (or neither)")
        if not (theory or cues or weak):
            raise InputError(f"{path}: the gate has no cues and no theory/empirical phrases, so no paper would pass; "
                             "add them, or remove 'gate' to let every paper through")
        gate = Gate(theory, empirical, cues, float(margin), weak)
    for key in ("name", "title"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InputError(f"{path}: '{key}' must be a string (found {quoted(data[key])}); quote it "
                             f"({key}: \"...\")")
    name = data.get("name") or path.stem
    return Taxonomy(name=name, title=data.get("title") or name, topics=tuple(topics), source=str(path),
                    threshold=None if threshold is None else float(threshold), gate=gate)


def _is_similarity(value: Any) -> bool:
    """A number in [-1, 1] (a cosine similarity or a difference of two); YAML's yes/no are not numbers."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and -1 <= value <= 1


# Texts a pattern must not match with an empty match: a stray '|' ('graph neural|') or a pattern that is
# all optional would count a hit in every paper.
_EMPTY_PROBES = ("", "We prove a theorem on graph neural networks, e.g. in 2-layer nets.")


def _check_pattern(pattern: str, path: Path, where: str) -> None:
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InputError(f"{path}: {where} {quoted(pattern)} is not a valid regular expression ({exc}); "
                         "escape special characters with a backslash") from None
    if any(m.start() == m.end() for text in _EMPTY_PROBES for m in rx.finditer(text)):
        raise InputError(f"{path}: {where} {quoted(pattern)} matches empty text, so it would hit every paper; "
                         "remove the empty alternative (a '|' at either end, or '||') or the optional-only part")


def _check_unique_names(topics: list[Topic], path: Path) -> None:
    """A name, id or alias names one topic only: an author's area written that way must find one topic."""
    owner: dict[str, int] = {}
    for i, t in enumerate(topics, start=1):
        for key in dict.fromkeys(_norm_name(a) for a in (t.name, t.id, *t.aliases)):
            if key and key in owner:
                j = owner[key]
                raise InputError(f"{path}: topic {i} ({quoted(t.name)}) and topic {j} ({quoted(topics[j - 1].name)}) "
                                 f"are both named {quoted(key)} (by name, id or alias); give each name to one topic")
            owner[key] = i


def _with_covered(topics: list[Topic], covers: dict[int, tuple[str, tuple[str, ...]]], path: Path) -> list[Topic]:
    """Each covering topic with the seeds, terms and title terms of the topics it covers added to its own
    (the covered topics' own lists, in the order given; a phrase listed twice is kept once)."""
    index = {t.id: i for i, t in enumerate(topics)}
    out = list(topics)
    for i, (where, ids) in covers.items():
        if not ids:
            continue
        for tid in ids:
            j = index.get(tid)
            if j is None:
                raise InputError(f"{path}: {where} covers {quoted(tid)}, which is no topic id of the file; "
                                 f"use the id of a topic listed there")
            if j == i or covers.get(j, ("", ()))[1]:
                raise InputError(f"{path}: {where} covers {quoted(tid)}, which is itself or covers other topics; "
                                 "list the topics it spans directly")
        parts = [topics[i], *(topics[index[tid]] for tid in ids)]
        t = topics[i]
        out[i] = Topic(t.id, t.name, t.description, tuple(dict.fromkeys(x for p in parts for x in p.seeds)),
                       t.aliases, tuple(dict.fromkeys(x for p in parts for x in p.terms)),
                       tuple(dict.fromkeys(x for p in parts for x in p.title_terms)), t.only_when_named, ids)
    return out


# ---------------------------------------------------------------------------------------------
# Phrases to embed
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Phrases:
    """Every text of a taxonomy to embed, with what each one is."""

    texts: list[str]
    topic: np.ndarray  # topic index per text, -1 for gate phrases
    kind: list[str]  # "desc", "seed", "gate-theory", "gate-empirical"


def taxonomy_phrases(tax: Taxonomy) -> Phrases:
    texts: list[str] = []
    topic: list[int] = []
    kind: list[str] = []
    for i, t in enumerate(tax.topics):
        texts.append(f"{t.name}. {t.description}" if t.description else t.name)
        topic.append(i)
        kind.append("desc")
        for s in t.seeds:
            texts.append(s)
            topic.append(i)
            kind.append("seed")
    if tax.gate is not None:
        for label, phrases in (("gate-theory", tax.gate.theory), ("gate-empirical", tax.gate.empirical)):
            texts += list(phrases)
            topic += [-1] * len(phrases)
            kind += [label] * len(phrases)
    return Phrases(texts, np.array(topic, dtype=np.int64), kind)


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaParams:
    desc_weight: float = 0.3  # weight of the description similarity vs the seeds
    top_seeds: int = 2  # mean of the best this many seed similarities
    calibrate: bool = True  # subtract (a share of) each topic's mean score over the submissions
    # The share subtracted: 1 equalises the areas, so small areas (robotics, datasets) take papers
    # of big ones; half keeps part of an area's general pull (dev proxy top-1 0.613 -> 0.625).
    calibration: float = 0.5
    standardize: bool = False  # also divide by each topic's standard deviation
    neighbours: int = 10  # smooth scores over this many nearest submissions (0: off)
    context: float = 0.3  # weight of the neighbours' scores
    refine: int = 0  # rounds of moving prototypes towards confidently owned papers (0: off; hurt on dev)
    refine_weight: float = 0.5  # weight of the paper centroid in a refined prototype
    # When at least this many submissions carry an author-chosen area that the taxonomy knows, only the
    # areas they name are suggested: that year's call may lack an area of the file (ICLR 2024 had no
    # foundation-models area). Fewer papers could miss a small area by chance, so nothing is dropped then.
    venue_areas_min: int = 200
    # Added to an area whose `title_terms` the title matches ("X: A Benchmark for Y" names its area).
    title_bonus: float = 0.1
    # Weight of the title's own vector, added to the title + abstract vector before areas are scored:
    # the title states the subject, while the abstract opens with background and may be cut at the
    # model's window (reader sets a-f top-3 0.903 -> 0.913, top-1 unchanged; set g, drawn after it was
    # chosen, top-1 0.70 -> 0.735, top-3 unchanged).
    title_weight: float = 0.3
    # Weight of the TF-IDF cosine between a paper's title + abstract and an area's name, description and
    # seeds read as one text (weights fitted on the submissions): the words an area's seeds share with a
    # paper, which the embedding blurs (reader sets a-g top-3 0.909 -> 0.923, top-1 0.702 -> 0.705;
    # keyword proxy 0.628 / 0.862 -> 0.657 / 0.879). Zero turns it off.
    lexical_weight: float = 1.0


def raw_scores(paper_emb: np.ndarray, phrase_emb: np.ndarray, phrases: Phrases, n_topics: int, *,
               desc_weight: float = 0.3, top_seeds: int = 2) -> np.ndarray:
    """(papers, topics) cosine scores from the descriptions and the best seeds."""
    x = np.asarray(paper_emb, dtype=np.float32)
    sims = x @ np.asarray(phrase_emb, dtype=np.float32).T
    out = np.zeros((x.shape[0], n_topics), dtype=np.float32)
    kinds = np.array(phrases.kind)
    for t in range(n_topics):
        d = sims[:, (phrases.topic == t) & (kinds == "desc")]
        s = sims[:, (phrases.topic == t) & (kinds == "seed")]
        if s.shape[1]:
            m = min(top_seeds, s.shape[1])
            seed_score = -np.sort(-s, axis=1)[:, :m].mean(axis=1)
            out[:, t] = desc_weight * d.max(axis=1) + (1 - desc_weight) * seed_score if d.shape[1] else seed_score
        else:
            out[:, t] = d.max(axis=1)
    return out


def with_titles(paper_emb: np.ndarray, title_emb: np.ndarray | None, weight: float) -> np.ndarray:
    """Paper vectors for area scoring: ``weight`` x the title's vector added, renormalised (a zero
    title vector, for a paper without a title, leaves the paper's vector as it is)."""
    x = np.asarray(paper_emb, dtype=np.float32)
    if title_emb is None or not weight or len(x) == 0:
        return x
    return _normalize_rows(x + weight * np.asarray(title_emb, dtype=np.float32))


def _neighbour_smooth(emb: np.ndarray, scores: np.ndarray, k: int, weight: float) -> np.ndarray:
    n = emb.shape[0]
    k = min(k, n - 1)
    if k <= 0 or weight <= 0:
        return scores
    out = scores[nearest(emb, emb, k, same=True)].mean(axis=1)
    return (1 - weight) * scores + weight * out


def _normalize_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def area_scores(paper_emb: np.ndarray, phrase_emb: np.ndarray, phrases: Phrases, n_topics: int, *,
                params: AreaParams = AreaParams(), bonus: np.ndarray | None = None) -> np.ndarray:
    """Final (papers, topics) scores: raw (plus ``bonus``, e.g. title terms), refined, calibrated and
    smoothed over neighbours."""
    x = np.asarray(paper_emb, dtype=np.float32)
    n = x.shape[0]
    if n == 0:
        return np.zeros((0, n_topics), dtype=np.float32)
    s = raw_scores(x, phrase_emb, phrases, n_topics, desc_weight=params.desc_weight, top_seeds=params.top_seeds)
    if bonus is not None:
        s = s + np.asarray(bonus, dtype=np.float32)
    for _ in range(params.refine if n >= 2 * n_topics else 0):
        cal = s - s.mean(axis=0, keepdims=True)
        best = cal.argmax(axis=1)
        margin = cal.max(axis=1) - np.partition(cal, -2, axis=1)[:, -2] if n_topics > 1 else cal.max(axis=1)
        protos = np.zeros((n_topics, x.shape[1]), dtype=np.float32)
        owned = np.zeros(n_topics, dtype=bool)
        for t in range(n_topics):
            mine = np.flatnonzero(best == t)
            if len(mine) == 0:
                continue
            # The more confident half of the papers a topic wins moves its prototype.
            keep = mine[margin[mine] >= np.median(margin[mine])]
            protos[t] = x[keep].mean(axis=0)
            owned[t] = True
        protos = _normalize_rows(protos)
        refined = x @ protos.T
        w = params.refine_weight
        s_new = s.copy()
        s_new[:, owned] = (1 - w) * s[:, owned] + w * refined[:, owned]
        s = s_new
    if params.calibrate and n > 1:
        centred = s - params.calibration * s.mean(axis=0, keepdims=True)
        if params.standardize:
            sd = s.std(axis=0, keepdims=True)
            centred = centred / np.maximum(sd, 1e-6) * float(sd.mean())
        s = centred + float(s.mean())
    return _neighbour_smooth(x, s, params.neighbours, params.context)


# A list number before an area's name, as a chair's export or a copied call may write it: '3. ', '(3) ', '12) '.
_NUMBERED = re.compile(r"^\s*(?:\(\d{1,3}\)|\d{1,3}[.)])\s*")


def _norm_name(name: str) -> str:
    """Lower case, HTML entities decoded ('&amp;', '&#38;'), '&' read as 'and', a leading list number and
    punctuation ignored."""
    text = _NUMBERED.sub("", html.unescape(str(name)))
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", " and ")).strip()


def alias_index(tax: Taxonomy) -> dict[str, int]:
    """Normalised name/alias/id -> topic index (for matching author-chosen areas)."""
    out: dict[str, int] = {}
    for i, t in enumerate(tax.topics):
        for a in (t.name, t.id, *t.aliases):
            out.setdefault(_norm_name(a), i)
    return out


def display_names(tax: Taxonomy, used: list[str]) -> list[str]:
    """Topic names, spelled as most submissions spell them when they use an alias (e.g. an older call) or
    another case; a spelling that is neither (an id, '&amp;', a list number, a trailing period) shows the
    name or alias it stands for."""
    names = tax.names
    idx = alias_index(tax)
    votes: dict[int, Counter[str]] = {}
    for area in (a for value in used for a in parse_areas(value)):
        i = idx.get(_norm_name(area))
        if i is None:
            continue
        own = (tax.topics[i].name, *tax.topics[i].aliases)
        spelled = area if area.casefold() in {n.casefold() for n in own} else next(
            (n for n in own if _norm_name(n) == _norm_name(area)), own[0])
        votes.setdefault(i, Counter())[spelled] += 1
    for i, count in votes.items():
        names[i] = count.most_common(1)[0][0]
    return names


def author_topics(primary: list[str], idx: dict[str, int]) -> list[list[int]]:
    """The topics each paper's author-chosen areas name (one area, or several: a JSON list or ';'-joined); an
    area the taxonomy does not list names none."""
    return [[idx[key] for key in (_norm_name(a) for a in parse_areas(p)) if key in idx] for p in primary]


def venue_areas(primary: list[str], idx: dict[str, int], n_topics: int, min_papers: int,
                default: np.ndarray | None = None) -> np.ndarray:
    """Which areas may be suggested: only those the submissions' own areas name when at least
    ``min_papers`` of them name a known area (and at least three different ones); otherwise
    ``default`` (every area unless given) and any area the submissions name."""
    chosen = author_topics(primary, idx)
    named = np.zeros(n_topics, dtype=bool)
    named[[i for mine in chosen for i in mine]] = True
    if sum(1 for mine in chosen if mine) < max(min_papers, 1) or named.sum() < 3:
        return named | (np.ones(n_topics, dtype=bool) if default is None else np.asarray(default, dtype=bool))
    return named


def default_areas(tax: Taxonomy) -> np.ndarray:
    """Areas suggested when the submissions do not name theirs: all but those of other years' calls."""
    offered = np.array([not t.only_when_named for t in tax.topics], dtype=bool)
    return offered if offered.any() else np.ones(len(tax.topics), dtype=bool)


def unknown_areas_note(primary: list[str], tax: Taxonomy) -> str | None:
    """One line for the chair when submissions name author-chosen areas the taxonomy does not list
    (another year's call, another venue): those papers are flagged as mismatches whatever the scores."""
    idx = alias_index(tax)
    named = [areas for areas in (parse_areas(p) for p in primary) if areas]
    unknown = [[a for a in areas if _norm_name(a) not in idx] for areas in named]
    papers = sum(1 for u in unknown if u)
    if not papers:
        return None
    spelled: dict[str, str] = {}  # one area spelled several ways ('Quantum ML', 'quantum ML') is one area
    for a in (a for u in unknown for a in u):
        spelled.setdefault(_norm_name(a), a)
    common = pd.Series([_norm_name(a) for u in unknown for a in u]).value_counts()
    examples = "; ".join(f"{quoted(spelled[a])} ({n})" for a, n in common.head(3).items())
    also = sum(1 for areas, u in zip(named, unknown) if u and len(u) < len(areas))
    flagged = (f"their area_mismatch is true unless they also name a listed area ({also} do)" if also
               else "their area_mismatch is true")
    return (f"{papers} of {len(named)} submissions with a primary_area name one that taxonomy {quoted(tax.name)} "
            f"does not list ({common.size} distinct, e.g. {examples}); {flagged}. "
            "Pass --taxonomy a file that lists your venue's areas (name or aliases), see data/taxonomies/README.md")


def title_term_bonus(titles: list[str], tax: Taxonomy, bonus: float) -> np.ndarray | None:
    """(papers, topics): ``bonus`` where the title matches a topic's ``title_terms`` (None when none can)."""
    if not bonus or not any(t.title_terms for t in tax.topics):
        return None
    return bonus * term_hits(titles, tax, cap=1, field="title_terms")


def lexical_area_scores(texts: list[str], tax: Taxonomy, phrases: Phrases) -> np.ndarray:
    """(papers, topics): TF-IDF cosine between each text and all of a topic's phrases read as one text."""
    from triage.lexical import LexicalParams, Weighting, fit_transform

    docs = [" ".join(phrases.texts[j] for j in np.flatnonzero(phrases.topic == i)) for i in range(len(tax.topics))]
    papers, topics = fit_transform([texts, docs], LexicalParams(weighting=Weighting.tfidf, ngram_max=1))
    return (papers @ topics.T).toarray().astype(np.float32)


def paper_area_scores(paper_emb: np.ndarray, titles: list[str], texts: list[str], tax: Taxonomy,
                      phrase_emb: np.ndarray, phrases: Phrases, *, params: AreaParams = AreaParams(),
                      title_emb: np.ndarray | None = None, offered: np.ndarray | None = None) -> np.ndarray:
    """(papers, topics) scores as ``assign_areas`` ranks them: the title vector blended in, the title-term
    bonus and the lexical scores of ``texts`` (title + abstract) added, then calibrated and smoothed
    (``area_scores``). ``offered``: the areas that may be suggested; the others (another year's call) take
    no part, neither in the lexical weights nor in the calibration, and score ``-inf``."""
    k = len(tax.topics)
    if offered is not None and not np.asarray(offered, dtype=bool).all():
        keep = np.flatnonzero(offered)
        rows = np.isin(phrases.topic, keep)
        position = np.full(k, -1, dtype=np.int64)
        position[keep] = np.arange(len(keep))
        sub = Phrases([t for t, r in zip(phrases.texts, rows) if r], position[phrases.topic[rows]],
                      [kind for kind, r in zip(phrases.kind, rows) if r])
        out = np.full((len(texts), k), -np.inf, dtype=np.float32)
        out[:, keep] = paper_area_scores(
            paper_emb, titles, texts, Taxonomy(tax.name, tax.title, tuple(tax.topics[i] for i in keep), tax.source),
            np.asarray(phrase_emb)[rows], sub, params=params, title_emb=title_emb)
        return out
    bonus = title_term_bonus(titles, tax, params.title_bonus)
    if params.lexical_weight and len(texts):
        lexical = params.lexical_weight * lexical_area_scores(texts, tax, phrases)
        bonus = lexical if bonus is None else bonus + lexical
    return area_scores(with_titles(paper_emb, title_emb, params.title_weight), phrase_emb, phrases, len(tax.topics),
                       params=params, bonus=bonus)


def assign_areas(papers: pd.DataFrame, paper_emb: np.ndarray, tax: Taxonomy, phrase_emb: np.ndarray, *,
                 params: AreaParams = AreaParams(), title_emb: np.ndarray | None = None,
                 texts: list[str] | None = None) -> pd.DataFrame:
    """``paper_id, area, area_score, area_top3, area_mismatch`` for every submission. ``title_emb``:
    the vectors of the titles alone (zeros for papers without one), blended in by ``params.title_weight``;
    ``texts``: what the lexical scores read (default: title + abstract)."""
    phrases = taxonomy_phrases(tax)
    k = len(tax.topics)
    titles = papers["title"].fillna("").astype(str).tolist() if "title" in papers.columns else [""] * len(papers)
    texts = paper_texts(papers) if texts is None else texts
    primary = papers["primary_area"].fillna("").astype(str).tolist() if "primary_area" in papers.columns \
        else [""] * len(papers)
    names = display_names(tax, [p for p in primary if p])
    idx = alias_index(tax)
    offered = venue_areas(primary, idx, k, params.venue_areas_min, default=default_areas(tax))
    s = paper_area_scores(paper_emb, titles, texts, tax, phrase_emb, phrases, params=params, title_emb=title_emb,
                          offered=offered)
    s_pick = np.where(offered[None, :], s, -np.inf)
    index_of = {t.id: i for i, t in enumerate(tax.topics)}
    # An area of an older call and the areas of today's list it covers stand for each other: either way round,
    # the author's area is matched when the other is suggested.
    related = [{i, *(index_of[c] for c in t.covers)} for i, t in enumerate(tax.topics)]
    for i, t in enumerate(tax.topics):
        for c in t.covers:
            related[index_of[c]].add(i)
    n_top = min(3, int(offered.sum()))
    order = np.argsort(-s_pick, axis=1, kind="stable")[:, :n_top] if len(s) else np.zeros((0, n_top), dtype=np.int64)
    mismatch = []
    for p, mine, top in zip(primary, author_topics(primary, idx), order):
        if not parse_areas(p):
            mismatch.append(False)
            continue
        same = {j for i in mine for j in related[i]}  # any of the paper's areas (or one standing for it) matches
        mismatch.append(not same & set(top.tolist()))
    return pd.DataFrame({
        "paper_id": papers["paper_id"].tolist(),
        "area": [names[top[0]] for top in order],
        "area_score": np.round(s[np.arange(len(s)), order[:, 0]].astype(np.float64), 4) if len(s) else [],
        "area_top3": ["; ".join(names[i] for i in top) for top in order],
        "area_mismatch": mismatch,
    })


# ---------------------------------------------------------------------------------------------
# Theory topics
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TheoryParams:
    threshold: float | None = None  # None: the taxonomy's own threshold (or 0.3)
    desc_weight: float = 0.3
    top_seeds: int = 2
    calibrate: bool = False  # subtract each topic's mean before picking (off: lower F1 on dev)
    term_bonus: float = TERM_BONUS
    title_bonus: float = TITLE_BONUS
    min_cues: int = 1  # cue hits that make a paper theory without the similarity margin
    # Below ``low_band`` a topic that no term names must beat the runner-up by ``low_margin``: a paper that fits
    # no topic of the file is otherwise given the nearest (COLT's quantum certification got generalization bounds).
    low_band: float | None = 0.50
    low_margin: float = 0.03


@dataclass
class TheoryResult:
    frame: pd.DataFrame
    is_theory: np.ndarray
    cue_hits: np.ndarray
    gate_margin: np.ndarray
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def term_hits(texts: list[str], tax: Taxonomy, *, cap: int = 2, field: str = "terms") -> np.ndarray:
    """(texts, topics): how often a topic's terms (or ``title_terms``) occur in the text
    (case-insensitive), capped at ``cap``.

    A paper that names its topic twice is about it; a passing mention counts once.
    """
    out = np.zeros((len(texts), len(tax.topics)), dtype=np.float32)
    for j, t in enumerate(tax.topics):
        terms = getattr(t, field)
        if not terms:
            continue
        pat = re.compile("|".join(f"(?:{x})" for x in terms), re.IGNORECASE)
        out[:, j] = [min(len(pat.findall(text)), cap) for text in texts]
    return out


def cue_hits(texts: list[str], cues: tuple[str, ...]) -> np.ndarray:
    """Number of distinct cue patterns found in each text (case-insensitive)."""
    pats = [re.compile(c, re.IGNORECASE) for c in cues]
    return np.array([sum(1 for p in pats if p.search(t)) for t in texts], dtype=np.int64)


def cue_occurrences(texts: list[str], cues: tuple[str, ...]) -> np.ndarray:
    """Number of matches of the cue patterns in each text, all patterns together (case-insensitive)."""
    if not cues:
        return np.zeros(len(texts), dtype=np.int64)
    pat = re.compile("|".join(f"(?:{c})" for c in cues), re.IGNORECASE)
    return np.array([len(pat.findall(t)) for t in texts], dtype=np.int64)


def assign_theory(papers: pd.DataFrame, texts: list[str], paper_emb: np.ndarray, tax: Taxonomy,
                  phrase_emb: np.ndarray, *, params: TheoryParams = TheoryParams()) -> TheoryResult:
    """``paper_id, theory_topic, theory_score``; the topic is empty unless the paper passes the gate
    and its best topic score reaches the threshold."""
    phrases = taxonomy_phrases(tax)
    k = len(tax.topics)
    x = np.asarray(paper_emb, dtype=np.float32)
    s = raw_scores(x, phrase_emb, phrases, k, desc_weight=params.desc_weight, top_seeds=params.top_seeds)
    n = len(papers)
    hits = np.zeros(n, dtype=np.int64)
    margin = np.zeros(n, dtype=np.float32)
    if tax.gate is not None:
        hits = cue_hits(texts, tax.gate.cues)
        kinds = np.array(phrases.kind)
        if (kinds == "gate-theory").any():
            sims = x @ np.asarray(phrase_emb, dtype=np.float32)[phrases.topic == -1].T
            gk = kinds[phrases.topic == -1]
            margin = sims[:, gk == "gate-theory"].max(axis=1) - sims[:, gk == "gate-empirical"].max(axis=1)
        is_theory = (hits >= params.min_cues) | (margin >= tax.gate.margin)
        if tax.gate.weak_cues:
            is_theory |= cue_occurrences(texts, tax.gate.weak_cues) >= 2
    else:
        is_theory = np.ones(n, dtype=bool)
    threshold = params.threshold if params.threshold is not None else (0.3 if tax.threshold is None else tax.threshold)
    bonus = params.term_bonus * term_hits(texts, tax)
    if params.title_bonus and "title" in papers.columns:
        # Two named topics (an NTK analysis of a bandit algorithm): the one the title names wins.
        titles = papers["title"].fillna("").astype(str).tolist()
        bonus = bonus + params.title_bonus * (term_hits(titles, tax, cap=1)
                                             + term_hits(titles, tax, cap=1, field="title_terms"))
    # Calibrate the similarities (a broad topic cannot take every paper); a named term then decides.
    choose = (s - s.mean(axis=0, keepdims=True) if params.calibrate and n > 1 else s) + bonus
    s = np.minimum(s + bonus, 1.0)
    best = choose.argmax(axis=1) if k and n else np.zeros(n, dtype=np.int64)
    best_score = s[np.arange(n), best] if n else np.zeros(0)
    give = is_theory & (best_score >= threshold)
    if params.low_band is not None and k > 1 and n:
        second = np.partition(choose, -2, axis=1)[:, -2]
        unsure = (best_score < params.low_band) & (bonus[np.arange(n), best] <= 0) & (
            choose[np.arange(n), best] - second < params.low_margin)
        give &= ~unsure
    frame = pd.DataFrame({
        "paper_id": papers["paper_id"].tolist(),
        "theory_topic": [tax.topics[b].name if g else "" for b, g in zip(best.tolist(), give)],
        "theory_score": np.where(give, np.round(best_score.astype(np.float64), 4), np.nan),
    })
    return TheoryResult(frame, is_theory, hits, margin, s)


@dataclass(frozen=True)
class TaxonomyParams:
    """Which taxonomies the topics stage scores papers against ('none' or None: skip)."""

    taxonomy: str | None = "iclr"
    theory: str | None = "dl-theory"
    theory_threshold: float | None = None
    use_keywords: bool = False  # let the theory cue words and the areas' lexical scores also read the author keywords


def enabled(spec: str | None) -> bool:
    return bool(spec) and str(spec).lower() not in ("none", "off", "")


def user_files(params: TaxonomyParams) -> dict[str, Path]:
    """The chair's own taxonomy files among the chosen ones (``taxonomy``, ``theory``), not the shipped ones, so that
    the run records them and ``triage status`` sees one edited since."""
    out = {}
    for kind, spec in (("taxonomy", params.taxonomy), ("theory", params.theory)):
        if enabled(spec):
            path = resolve_taxonomy(str(spec))
            if path.resolve().parent != TAXONOMY_DIR.resolve():
                out[kind] = path
    return out


def check_taxonomies(params: TaxonomyParams) -> None:
    """Load the chosen taxonomies once so that a bad file stops the run before any embedding, and say
    when the two look swapped (a theory taxonomy has a gate; an area list has none)."""
    for option, spec, theory in (("--taxonomy", params.taxonomy, False), ("--theory", params.theory, True)):
        if not enabled(spec):
            continue
        try:
            tax = load_taxonomy(str(spec))
        except InputError as exc:
            raise InputError(f"{option}: {exc}") from None  # the message names the file (or the name given)
        if theory and tax.gate is None:
            log.warning("--theory %s has no theory gate, so every paper gets one of its topics; it reads like an "
                        "area list (pass it as --taxonomy, and a file with a 'gate' such as dl-theory as --theory)",
                        spec)
        elif not theory and tax.gate is not None:
            log.warning("--taxonomy %s has a theory gate: it is meant for --theory; areas are suggested from it for "
                        "every paper, theory or not", spec)
