"""Conflicts of interest, each with the reason a chair can check.

Sources, in order of strength:
1. the declared conflicts file;
2. the reviewer is an author: same profile id, email or EasyChair person #, or the same normalised name
   (case, accents and punctuation ignored; "E. Abbe" matches "Emmanuel Abbe");
3. a shared email or institution domain (an author's email or a conflict domain the authors declared
   against a reviewer's email or declared domains; parent domains expanded, webmail dropped);
4. co-authorship: a paper author appears among the co-authors of the reviewer's own
   publications within ``coauthor_years`` of the newest one, or on more than ``coauthor_frequent`` of them in
   any year (a former advisor or a long-time collaborator; AAAI's rule counts more than 6 joint papers).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from triage.ingest import CONFLICT_COLUMNS, affiliation_like, given_names

WEBMAIL = frozenset({
    "gmail.com", "googlemail.com", "qq.com", "126.com", "163.com", "outlook.com", "hotmail.com", "yahoo.com",
    "foxmail.com", "aol.com", "msn.com", "ymail.com", "live.com", "icloud.com", "me.com", "mac.com", "proton.me",
    "protonmail.com", "pm.me", "mail.ru", "yandex.ru", "yandex.com", "sina.com", "sina.cn", "sohu.com", "yeah.net",
    "139.com", "188.com", "aliyun.com", "naver.com", "daum.net", "hanmail.net", "nate.com", "web.de", "t-online.de",
    "freenet.de", "libero.it", "virgilio.it", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr", "sfr.fr",
    "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl", "rambler.ru", "bk.ru", "list.ru", "inbox.ru", "ukr.net",
    "rediffmail.com", "mail.com", "zoho.com", "fastmail.com", "tutanota.com", "hey.com", "comcast.net",
    "verizon.net", "att.net", "sbcglobal.net", "btinternet.com", "bigpond.com", "independent-researcher.org",
})
# Webmail brands with a domain per country (yahoo.co.uk, hotmail.fr, gmx.de): any registrable domain of theirs.
WEBMAIL_BRANDS = frozenset({"gmail", "yahoo", "hotmail", "outlook", "live", "gmx", "msn", "aol", "ymail", "yandex",
                            "rocketmail", "windowslive", "googlemail", "protonmail", "icloud"})
# The reasons that say a reviewer (may be) an author of the paper: ``paper_authors`` reads them back.
AUTHOR_REASON = "reviewer is an author"
AUTHOR_MAYBE_REASON = "reviewer may be an author"
# Declared conflicts that no rule backs, per paper or per reviewer, above which a chair should look (AAAI's
# conflict rules send more than 15 such self-reported conflicts to a chair: they may be gamed, to keep critical
# reviewers away from a paper or to dodge papers).
DECLARED_LIMIT = 15
_RULE_REASON = re.compile(rf"(?:^|; )(?:{re.escape(AUTHOR_REASON)}|{re.escape(AUTHOR_MAYBE_REASON)}|co-author |"
                          r"co-author may be |shared domain )")
# Second-level labels under which the registrable domain has three parts (cs.ox.ac.uk -> ox.ac.uk).
_SECOND_LEVEL = frozenset({"ac", "co", "edu", "gov", "org", "com", "net", "or", "ne", "go"})


@dataclass(frozen=True)
class ConflictParams:
    coauthor_years: int | None = 3  # None: any co-authorship; 0 disables the rule
    # Co-authors on more than this many of the reviewer's publications conflict whatever the years (None: off).
    coauthor_frequent: int | None = 6
    # Publications with more authors than this make no co-authors (None: all count), as AAAI ignores papers with
    # more than 7 authors: a technical report of hundreds of authors says little about who works with whom.
    coauthor_max_authors: int | None = None
    domains: bool = True


# Letters that Unicode does not decompose into a base letter and an accent, spelled as English text spells them.
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ß": "ss",
                       "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ı": "i", "þ": "th", "Þ": "Th", "ħ": "h", "Ħ": "H",
                       "ŀ": "l", "Ŀ": "L"})
_SUFFIX = re.compile(r",?\s+(?:jr|sr|ii|iii|iv)\.?\s*$", re.IGNORECASE)


def normalize_name(name: str) -> str:
    """'Énric  Boix-Adserà' -> 'enric boix adsera'; 'Boix-Adserà, Enric' (last name first) and 'Łukasz
    Kaiser' read as 'Enric Boix-Adserà' and 'Lukasz Kaiser'; a suffix ('Jr.', 'III') goes."""
    s = name.translate(_FOLD).strip()
    if len(_SUFFIX.sub("", s).split()) >= 2:
        s = _SUFFIX.sub("", s)
    last, comma, given = s.partition(",")
    if comma and given_names(given, shouting=s.isupper()) and (len(last.split()) == 1 or not affiliation_like(given)):
        s = f"{given} {last}"
    elif comma and len(last.split()) >= 2:  # 'Jane Doe, MIT': the affiliation after a full name goes
        s = last
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = re.sub(r"[^a-z ]+", " ", s.replace("-", " "))
    return re.sub(r"\s+", " ", s).strip()


def name_from_profile_id(pid: str) -> str:
    """OpenReview '~Emmanuel_Abbe1' -> 'Emmanuel Abbe'; other ids give ''."""
    if not pid.startswith("~"):
        return ""
    return re.sub(r"\d+$", "", pid[1:]).replace("_", " ").strip()


def name_keys(name: str) -> tuple[str, str]:
    """(full key, initial key): ('emmanuel abbe', 'e abbe'). Empty strings if no usable name."""
    n = normalize_name(name)
    parts = n.split()
    if len(parts) < 2:
        return n, ""
    return " ".join(parts), f"{parts[0][0]} {parts[-1]}"


def domain_of(email_or_domain: str) -> str:
    s = email_or_domain.strip().lower()
    s = s.rsplit("@", 1)[-1] if "@" in s else s
    return s.strip(". ")


def expand_domain(domain: str) -> set[str]:
    """cs.stanford.edu -> {cs.stanford.edu, stanford.edu}; stops at the registrable domain."""
    parts = [p for p in domain.split(".") if p]
    if len(parts) < 2:
        return set()
    floor = 3 if len(parts) >= 3 and parts[-2] in _SECOND_LEVEL and len(parts[-1]) == 2 else 2
    if ".".join(parts[-floor:]) in WEBMAIL or parts[-floor] in WEBMAIL_BRANDS:
        return set()  # a mailbox anyone can have, whatever the sub-domain
    return {".".join(parts[i:]) for i in range(0, len(parts) - floor + 1)}


def _reviewer_names(reviewers: pd.DataFrame) -> dict[str, str]:
    out = {}
    for r in reviewers.itertuples(index=False):
        out[r.reviewer_id] = r.name or name_from_profile_id(r.reviewer_id) or (
            r.reviewer_id if " " in r.reviewer_id else "")
    return out


@lru_cache(maxsize=1 << 18)
def _keys(name: str) -> tuple[str, str]:
    return name_keys(name)


def _names_from_publications(publications: pd.DataFrame, nameless: set[str]) -> dict[str, str]:
    """A name for reviewers the reviewers file names by id only (an email): the one author on every one of their
    publications, when they have two or more and no other author is on all of them (a student who always writes
    with one advisor stays nameless)."""
    if not nameless or not len(publications) or "authors" not in publications.columns:
        return {}
    out = {}
    mine = publications[publications["reviewer_id"].isin(nameless)]
    for rid, lists in mine.groupby("reviewer_id", sort=False)["authors"]:
        lists = [a for a in lists if a]
        if len(lists) < 2:
            continue
        counts: dict[str, int] = {}  # by initials key: 'Emmanuel Abbe' and 'E. Abbe' are one author here
        spelled: dict[str, dict[str, int]] = {}
        for authors in lists:
            for a in {_keys(x)[1]: x for x in authors if _keys(x)[1]}.values():
                key = _keys(a)[1]
                counts[key] = counts.get(key, 0) + 1
                spelled.setdefault(key, {})
                spelled[key][a] = spelled[key].get(a, 0) + 1
        on_all = [k for k, n in counts.items() if n == len(lists)]
        if len(on_all) == 1:  # the spelling most used, a full one before initials
            out[rid] = max(spelled[on_all[0]].items(), key=lambda kv: (kv[1], not _given_initials(kv[0]), kv[0]))[0]
    return out


def _given(raw: str) -> str:
    """The given names as written: 'Jane A. Doe' -> 'Jane A.', 'Doe, Jane' -> 'Jane'."""
    return raw.split(",", 1)[1] if "," in raw else " ".join(raw.split()[:-1])


def _given_initials(raw: str) -> bool:
    """'J. Doe', 'JW Zhang', 'J.-W. Zhang': every given name is an initial (a letter, or capitals such as 'JW')."""
    parts = [p for p in re.split(r"[\s.\-]+", _given(raw)) if p]
    shouting = raw.upper() == raw  # 'WEI ZHANG': capitals say nothing about initials there
    return bool(parts) and all(len(p) == 1 or (not shouting and p.isupper() and len(p) <= 3) for p in parts)


@lru_cache(maxsize=1 << 18)  # the same pairs of names recur across papers and reviewers
def same_person_maybe(a: str, b: str) -> bool:
    """Two names with the same initials key ('j doe') that could name one person: one of them gives only
    initials ('J. Doe', 'JW Zhang'), the first names are the same ('Jane A. Doe' ~ 'Jane Doe'), or the
    given names are the same but for spaces and hyphens ('Xiao-Ming Wang' ~ 'Xiaoming Wang'). 'Jiawei
    Zhang' and 'Jingzhao Zhang' are two people, and so are 'Jane A. Doe' and 'Jane B. Doe'."""
    if _given_initials(a) or _given_initials(b):
        return True
    ga, gb = normalize_name(_given(a)).split(), normalize_name(_given(b)).split()
    if not ga or not gb:
        return True
    if len(ga) >= 2 and len(gb) >= 2 and ga[0] == gb[0] and ga[1][0] != gb[1][0]:
        return False  # 'Jane A. Doe' and 'Jane B. Doe': two middle names that differ, two people
    return ga[0] == gb[0] or "".join(ga) == "".join(gb)


def _given_key(name: str) -> str:
    """The first given name of a name with the same initials key ('Jane A. Doe' -> 'jane'), '' for initials only."""
    if _given_initials(name):
        return ""
    given = normalize_name(_given(name)).split()
    return given[0] if given else ""


# An initials-only name ('J. Zhang') that fits more people than this (distinct full names among the
# submissions' authors, or among the reviewers' co-authors) says too little to make a conflict on its own.
MAX_INITIALS_FITS = 3


def _coauthors_maybe(author: str, full: str, by_given: dict[str, dict[str, dict[str, str]]],
                     fits: int) -> list[tuple[str, tuple[str, str]]]:
    """(reviewer, (co-author name, label)) for the co-authors of the same initials key that may be ``author``
    (:func:`same_person_maybe`) under another full key: 'D. Brown' for 'Dan Brown', 'Dan A. Brown' for 'Dan Brown',
    or a 'D... Brown' for 'D. Brown'. Looked up by given name, so 'Jiawei Zhang' never meets 'Jingzhao Zhang'.
    ``by_given``: given name ('' for initials only) -> co-author name -> {reviewer: label}; ``fits``: how many
    distinct full names of the submissions' authors have this initials key. An initials-only name on either side
    is used only when it fits at most ``MAX_INITIALS_FITS`` people."""
    own = _given_key(author)
    if not own:  # 'D. Brown' on the paper: any co-author 'D... Brown', if there are few (people, not spellings)
        people = {_keys(n)[0] for k, g in by_given.items() if k for n in g}
        groups = [by_given[k] for k in by_given] if len(people) <= MAX_INITIALS_FITS else []
    else:
        groups = [by_given.get(own, {})]
        if fits <= MAX_INITIALS_FITS:  # 'D. Brown' among the co-authors, where few authors are 'D... Brown'
            groups.append(by_given.get("", {}))
        joined = "".join(normalize_name(_given(author)).split())  # 'Xiao-Ming Wang' ~ 'Xiaoming Wang'
        groups += [g for key, g in by_given.items() if key not in ("", own) and joined.startswith(key)]
    out: dict[str, tuple[str, str]] = {}
    for group in groups:
        for name, labels in group.items():
            if _keys(name)[0] != full and same_person_maybe(author, name):
                for rid, label in labels.items():
                    out.setdefault(rid, (name, label))
    return sorted(out.items())


def _is_self(author: str, own_full: str, own_init: str, own_name: str = "") -> bool:
    """Whether a publication's author is the reviewer it is listed under: their name, or one with their initials
    that could be them ('R. Rev', or 'Rita M. Rev' for 'Rita Rev'). Were another person so named, the author rules
    would still flag their papers as possibly the reviewer's."""
    full, init = _keys(author)
    return full == own_full or (bool(init) and init == own_init and (
        len(full.split()[0]) == 1 or (bool(own_name) and same_person_maybe(author, own_name))))


# Titles that many unrelated people list (front matter, editorials): sharing one is no co-authorship.
GENERIC_TITLES = re.compile(
    r"^((guest )?editorial|preface|foreword|errat(um|a)|corrigendum|front matter|letter to the editor|"
    r"table of contents|obituary)\b|^(correction|keynote|invited talk|panel|workshop report)\s*(:|to\b|$)|"
    r"^proceedings of\b", re.IGNORECASE)
MAX_SHARED = 25  # a title listed by more reviewers than this is a consortium or a catalogue, not co-authors


def title_key(title: str) -> str:
    """'Über α-Divergences.' -> 'uberαdivergences': accents dropped, letters and digits of any script kept."""
    s = unicodedata.normalize("NFKD", str(title).lower())
    return "".join(ch for ch in s if ch.isalnum() and not unicodedata.combining(ch))


def distinctive_titles(titles: pd.Series, keys: pd.Series) -> pd.Series:
    """Whether each title tells one paper from another: three words or more, not a generic one ("Editorial",
    "Preface"), and 12 letters and digits or more in its key (:func:`title_keys`)."""
    return ((titles.str.split().str.len() >= 3) & ~titles.str.strip().str.match(GENERIC_TITLES)
            & (keys.str.len() >= 12))


def title_keys(titles: pd.Series) -> pd.Series:
    """:func:`title_key` of each string of a Series, with pandas' string methods (about twice as fast)."""
    return titles.astype(str).str.lower().str.normalize("NFKD").str.replace(r"[\W_]+", "", regex=True)


def paper_authors(conflicts: pd.DataFrame) -> dict[str, set[str]]:
    """Paper -> the reviewers who are (or may be) among its authors, read from the conflicts' reasons."""
    if conflicts is None or not len(conflicts):
        return {}
    own = conflicts[conflicts["reason"].astype(str).str.contains(  # any of a pair's '; '-joined reasons
        f"(?:^|; )(?:{AUTHOR_REASON}|{AUTHOR_MAYBE_REASON})", regex=True)]
    return {p: set(g) for p, g in own.groupby("paper_id", sort=False)["reviewer_id"]}


def reviewer_coauthors(publications: pd.DataFrame) -> dict[str, set[str]]:
    """Reviewer -> the other reviewers who share one of their publications (the same title, case,
    accents, spacing and punctuation aside). Short titles (under 12 letters and digits or three
    words), generic ones ("Editorial", "Preface") and titles listed by more than 25 reviewers are
    not matched."""
    titles = publications["title"].astype(str)
    keys = title_keys(titles)
    usable = distinctive_titles(titles, keys)
    table = pd.DataFrame({"key": keys[usable], "reviewer_id": publications["reviewer_id"][usable]}).drop_duplicates()
    size = table.groupby("key")["reviewer_id"].transform("size")
    table = table[(size > 1) & (size <= MAX_SHARED)]
    pairs = table.merge(table, on="key", suffixes=("", "_other"))
    pairs = pairs[pairs["reviewer_id"] != pairs["reviewer_id_other"]]
    return {r: set(g) for r, g in pairs.groupby("reviewer_id", sort=False)["reviewer_id_other"]}


def _frequent_coauthors(publications: pd.DataFrame, years: pd.Series, own_keys: dict[str, tuple[str, str]],
                        more_than: int, max_authors: int | None, names: dict[str, str]) -> dict[tuple[str, str], str]:
    """(co-author name as written, reviewer) -> evidence label, for co-authors on more than ``more_than`` of the
    reviewer's distinct publications (by title) in any year. A name written with initials ('A. Advisor') counts
    with the one full name of the reviewer's co-authors that it fits ('Ada Advisor'), if only one does."""
    joint: dict[tuple[str, str], dict[str, float]] = {}  # (name key, reviewer) -> {title key: year}
    spelled: dict[tuple[str, str], set[str]] = {}  # (name key, reviewer) -> the names as written
    for rid, title, authors, yr in zip(publications["reviewer_id"], publications["title"],
                                        publications["authors"], years):
        if not authors or (max_authors and len(authors) > max_authors):
            continue
        own_full, own_init = own_keys.get(rid, ("", ""))
        key = title_key(title)
        for a in authors:
            full = _keys(a)[0]
            if full and not _is_self(a, own_full, own_init, names.get(rid, "")):
                joint.setdefault((full, rid), {})[key] = yr
                spelled.setdefault((full, rid), set()).add(a)
    people: dict[tuple[str, str], set[str]] = {}  # (initials key, reviewer) -> the full names with a given name
    for (full, rid), names in spelled.items():
        a = min(names)
        if _keys(a)[1] and _given_key(a):
            people.setdefault((_keys(a)[1], rid), set()).add(full)
    for (full, rid), names in list(spelled.items()):
        a = min(names)
        fits = people.get((_keys(a)[1], rid), set()) if _keys(a)[1] and not _given_key(a) else set()
        if len(fits) == 1:  # 'A. Advisor' and only 'Ada Advisor' among this reviewer's co-authors: one person
            person = (next(iter(fits)), rid)
            joint[person].update(joint.pop((full, rid)))
            spelled[person] |= spelled.pop((full, rid))
    out = {}
    for pair, papers in joint.items():
        if len(papers) > more_than:
            known = [int(y) for y in papers.values() if pd.notna(y)]
            first, last = (min(known), max(known)) if known else (None, None)
            span = "" if first is None else f", {first}" if first == last else f", {first}-{last}"
            for a in sorted(spelled[pair]):
                out[(a, pair[1])] = f"{len(papers)} joint publications{span}"
    return out


def detect_conflicts(
    papers: pd.DataFrame,
    reviewers: pd.DataFrame,
    publications: pd.DataFrame,
    declared: pd.DataFrame,
    *,
    params: ConflictParams = ConflictParams(),
) -> pd.DataFrame:
    """All conflicted (paper, reviewer) pairs with a reason; one row per pair, reasons ``; ``-joined.

    Every rule looks reviewers up in an inverted index (by id/email, name key, initials key,
    domain, co-author name key), so the cost grows with the number of conflicts found, not
    with papers x reviewers.
    """
    rows: list[tuple[str, str, str]] = [
        (d.paper_id, d.reviewer_id, d.reason) for d in declared.itertuples(index=False)
    ]
    names = _reviewer_names(reviewers)
    names.update(_names_from_publications(publications, {rid for rid, n in names.items() if not n}))
    own_keys = {rid: _keys(n) for rid, n in names.items()}
    full_to_rev: dict[str, list[str]] = {}
    init_to_rev: dict[str, list[str]] = {}
    for rid, (full, init) in own_keys.items():
        if full and init:
            full_to_rev.setdefault(full, []).append(rid)
            init_to_rev.setdefault(init, []).append(rid)
    id_to_rev: dict[str, list[str]] = {}
    person_to_rev: dict[str, list[str]] = {}  # EasyChair's person #: one person under any name or email
    for r in reviewers.itertuples(index=False):
        others = [str(e).lower() for e in (getattr(r, "other_emails", None) or [])]  # CMT's Publication Emails
        for key in {r.reviewer_id.lower(), (r.email or "").lower(), *others} - {""}:
            id_to_rev.setdefault(key, []).append(r.reviewer_id)
        if getattr(r, "person_id", ""):
            person_to_rev.setdefault(str(r.person_id), []).append(r.reviewer_id)

    # Domain -> reviewers (email + declared domains, parent domains expanded, webmail dropped).
    domain_to_rev: dict[str, list[str]] = {}
    if params.domains:
        for r in reviewers.itertuples(index=False):
            ds: set[str] = set()
            email_id = [r.reviewer_id] if "@" in r.reviewer_id else []  # an id that is the reviewer's email
            for src in ([r.email] if r.email else []) + email_id + list(r.domains or []):
                ds |= expand_domain(domain_of(src))
            for d in ds:
                domain_to_rev.setdefault(d, []).append(r.reviewer_id)

    # Co-author name key -> {reviewer: evidence label}, from the reviewers' own publications; and the same
    # co-authors by initials key, then by given name ('j doe' -> 'jane' -> {reviewer: (name, label)}), where
    # the given name is '' for a name written with initials only ('J. Doe').
    coauthor_to_rev: dict[str, dict[str, str]] = {}
    coauthor_by_init: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    if len(publications) and "authors" in publications.columns:
        years = pd.to_numeric(publications["year"], errors="coerce")
        newest = years.max() if years.notna().any() else None
        recent = params.coauthor_years != 0  # 0: only frequent co-authors conflict
        cutoff = None if params.coauthor_years is None or newest is None else newest - params.coauthor_years
        cap = params.coauthor_max_authors
        frequent = _frequent_coauthors(publications, years, own_keys, params.coauthor_frequent, cap, names) \
            if params.coauthor_frequent is not None and (cutoff is not None or not recent) else {}
        for (a, rid), label in frequent.items():  # by full name, and by initials for the 'co-author may be' rule
            full, init = _keys(a)
            coauthor_to_rev.setdefault(full, {})[rid] = label
            if init:
                coauthor_by_init.setdefault(init, {}).setdefault(_given_key(a), {}).setdefault(a, {})[rid] = label
        pubs = zip(publications["reviewer_id"], publications["title"], publications["authors"], years)
        for rid, title, authors, yr in pubs if recent else ():  # the recent co-authors' rule
            if not authors or (cutoff is not None and pd.notna(yr) and yr < cutoff) or (cap and len(authors) > cap):
                continue
            own_full, own_init = own_keys.get(rid, ("", ""))
            label = None
            for a in authors:
                full, init = _keys(a)
                if not full or _is_self(a, own_full, own_init, names.get(rid, "")):
                    continue
                if label is None:
                    short = title if len(title) <= 60 else title[:59].rstrip() + "…"
                    label = f"'{short}'" + (f" ({int(yr)})" if pd.notna(yr) else "")
                coauthor_to_rev.setdefault(full, {}).setdefault(rid, label)
                if init:
                    coauthor_by_init.setdefault(init, {}).setdefault(_given_key(a), {}).setdefault(
                        a, {}).setdefault(rid, label)

    # Initials key -> the distinct full names of the submissions' authors with it ('j zhang' -> jiawei, jun, ...).
    authors_by_init: dict[str, set[str]] = {}
    if coauthor_by_init:
        for authors in papers["authors"]:
            for a in authors or []:
                full, init = _keys(a)
                if init in coauthor_by_init and _given_key(a):
                    authors_by_init.setdefault(init, set()).add(full)
    for p in papers.itertuples(index=False):
        authors = list(p.authors or [])
        ids = [x.lower() for x in (p.authorids or [])]
        for aid in ids:
            for rid in id_to_rev.get(aid, []):
                rows.append((p.paper_id, rid, f"{AUTHOR_REASON} (id {aid})"))
        for person in getattr(p, "author_persons", None) or []:
            for rid in person_to_rev.get(str(person), []):
                rows.append((p.paper_id, rid, f"{AUTHOR_REASON} (EasyChair person #{person})"))
        for a in authors:
            full, init = _keys(a)
            if not full:
                continue
            for rid in full_to_rev.get(full, []):
                rows.append((p.paper_id, rid, f"{AUTHOR_REASON} (name '{a}')"))
            if init:
                for rid in init_to_rev.get(init, []):
                    if own_keys[rid][0] != full and same_person_maybe(a, names[rid]):
                        rows.append((p.paper_id, rid,
                                     f"{AUTHOR_MAYBE_REASON} (initials: '{a}' ~ '{names[rid]}')"))
            for rid, label in coauthor_to_rev.get(full, {}).items():
                rows.append((p.paper_id, rid, f"co-author of {a} on {label}"))
            if init and init in coauthor_by_init:
                fits = len(authors_by_init.get(init, ()))
                for rid, (c, label) in _coauthors_maybe(a, full, coauthor_by_init[init], fits):
                    if rid not in coauthor_to_rev.get(full, {}):
                        rows.append((p.paper_id, rid, f"co-author may be {a} (initials: '{c}' on {label})"))
        if domain_to_rev:
            shared: dict[str, str] = {}
            # The authors' email domains, and the conflict domains they declared (CMT's Domains).
            sources = [aid for aid in ids if "@" in aid] + list(getattr(p, "domains", None) or [])
            for src in sources:
                for d in expand_domain(domain_of(src)):
                    for rid in domain_to_rev.get(d, []):
                        if rid not in shared or (d.count("."), d) < (shared[rid].count("."), shared[rid]):
                            shared[rid] = d
            for rid, d in shared.items():
                rows.append((p.paper_id, rid, f"shared domain {d}"))

    if not rows:
        return pd.DataFrame(columns=CONFLICT_COLUMNS)
    # One row per pair, its distinct reasons in order of discovery. A dict, not a pandas groupby
    # with a Python aggregate, which cost ~1 ms per pair (minutes at 10k papers x 15k reviewers).
    merged: dict[tuple[str, str], dict[str, None]] = {}
    for pid, rid, reason in rows:
        merged.setdefault((pid, rid), {})[reason] = None
    df = pd.DataFrame([(pid, rid, "; ".join(reasons)) for (pid, rid), reasons in merged.items()],
                      columns=CONFLICT_COLUMNS)
    order = {pid: i for i, pid in enumerate(papers["paper_id"])}
    df["_o"] = df["paper_id"].map(order).fillna(len(order))
    return df.sort_values(["_o", "reviewer_id"], kind="stable").drop(columns="_o").reset_index(drop=True)


def declared_outliers(conflicts: pd.DataFrame, limit: int = DECLARED_LIMIT) -> pd.DataFrame:
    """Papers and reviewers with more than ``limit`` conflicts that only a declaration gives (no authorship,
    co-authorship or shared domain found for the pair): ``kind`` (paper or reviewer), ``id``, ``declared``;
    most first. Read from the conflicts table alone: every reason that is not a rule's was declared."""
    out = pd.DataFrame(columns=["kind", "id", "declared"])
    if not len(conflicts) or "reason" not in conflicts.columns:
        return out
    only = conflicts[~conflicts["reason"].fillna("").astype(str).str.contains(_RULE_REASON)]
    parts = []
    for kind, col in (("paper", "paper_id"), ("reviewer", "reviewer_id")):
        n = only.groupby(col, sort=False).size()
        n = n[n > limit].sort_values(ascending=False, kind="stable")
        parts.append(pd.DataFrame({"kind": kind, "id": n.index.astype(str), "declared": n.to_numpy()}))
    return pd.concat([out, *parts], ignore_index=True) if any(len(x) for x in parts) else out
