"""Load-balanced assignment by min-cost flow (OR-Tools).

source -> paper (capacity k) -> reviewer (capacity 1, cost -score) -> sink (capacity max_load).
Conflicted pairs have no arc, so they can never be assigned. ``min_load`` is honoured by
a first reviewer->sink arc of capacity ``min_load`` that carries a large bonus, so the
solver fills minimum loads whenever that is possible and says which it could not fill.
The flow maximises the total affinity (with the bids' nudges) subject to these constraints. Co-authors
on one paper are then swapped apart: each swap gives up at most ``coauthor_slack`` of a pair's value on
purpose, so the final total can be a little below the flow's optimum.

With ``max_probability`` below 1 the assignment is randomized (Jecmen et al., NeurIPS 2020, the randomized
assignment OpenReview offers): the flow is solved in hundredths with each pair's arc capped at the
probability, which gives the best fractional assignment in which no pair is more likely than the cap, and one
integral assignment is drawn from it by dependent rounding (Gandhi et al., JACM 2006). Each pair is then
assigned with exactly its fractional value as probability, each paper gets its ``per_paper`` reviewers and
each reviewer the floor or ceiling of their expected load. A reviewer who bids their way towards a friend's
paper gets it with at most that probability.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage.errors import InfeasibleError, InputError, quoted, shown

log = logging.getLogger("triage")

ASSIGNMENT_COLUMNS = ["paper_id", "reviewer_id", "score", "rank", "evidence_title"]
RESERVE_COLUMNS = ["rank", "reviewer_id", "load", "max_load", "spare_load", "papers", "new_papers", "covered"]
SCALE = 10_000  # scores are rounded to 4 decimals, so integer costs lose nothing
SENIOR_BONUS = SCALE * 5  # per senior reviewer a paper still needs: above any affinity gain, below the min-load bonus
FIXED_BONUS = 1000.0  # added to the value of a fixed pair: 100x the min-load bonus
BIDS = {"very high": 1.0, "high": 0.5, "neutral": 0.0, "low": -0.5, "very low": -1.0,
        "yes": 1.0, "maybe": 0.5, "no": -1.0,  # EasyChair's bids
        # CMT's (and AAAI's): "in a pinch" is a reviewer who can take the paper if needed, above no bid
        "eager": 1.0, "willing": 0.5, "in a pinch": 0.25, "not willing": -1.0}
NO_BID = {"not entered", "no bid"}  # a row that says the reviewer placed no bid
# AAAI's numeric bids (LargeConferenceMatching): 0.05 not willing, 1 not entered, 2 in a pinch, 4 willing, 6 eager.
AAAI_BIDS = {0.05: "not willing", 1.0: "not entered", 2.0: "in a pinch", 4.0: "willing", 6.0: "eager"}
CONFLICT_BID = "conflict"  # EasyChair: the member declares a conflict with the paper
START_BIDS = {"1": "yes", "2": "maybe", "3": "no", "4": CONFLICT_BID}  # START's bid codes (4: COI)
PROBABILITY_UNITS = 100  # a randomized assignment's probabilities are whole hundredths


@dataclass(frozen=True)
class AssignParams:
    per_paper: int = 3
    max_load: int = 6  # default for reviewers without their own max_load
    min_load: int = 0  # default for reviewers without their own min_load
    alternates: int = 3
    bid_weight: float = 0.1  # added to the affinity per unit of bid (Very High = +1)
    # Co-authors on one paper: after the solve, a reviewer who shares a publication with another of the
    # paper's reviewers is swapped for the best free candidate who shares none, when that candidate scores
    # at most this much lower (0: co-authors may review the same paper).
    coauthor_slack: float = 0.1
    # Below 1: no (paper, reviewer) pair is assigned with a higher probability; one assignment is drawn with ``seed``.
    max_probability: float = 1.0
    seed: int = 0
    reserve: int | None = None  # emergency pool size (reserve_pool); None: reserve_size(reviewers), 0: none
    # Senior reviewers (the reviewers file's ``senior`` column) each paper gets when it can; None: 1 when the pool
    # has a senior reviewer, else 0.
    min_senior: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.max_probability <= 1 or round(self.max_probability * PROBABILITY_UNITS) < 1:
            raise InputError(f"--max-probability {self.max_probability}: must be between 0.01 and 1 (1: the best "
                             "assignment, not randomized)")
        units = self.max_probability * PROBABILITY_UNITS
        if abs(units - round(units)) > 1e-6:  # rounded, 0.999 would be 1 (no cap) and 0.335 a cap of 0.34
            raise InputError(f"--max-probability {self.max_probability}: the cap is solved in hundredths; pass "
                             f"{np.floor(units + 1e-6) / PROBABILITY_UNITS:g} or another multiple of 0.01")
        if self.min_senior is not None and self.min_senior < 0:
            raise InputError(f"--min-senior {self.min_senior}: must be 0 (off) or more")
        if self.min_senior is not None and self.min_senior > self.per_paper:
            raise InputError(f"--min-senior {self.min_senior} is above --per-paper {self.per_paper}; lower "
                             "--min-senior or raise --per-paper")
        if self.reserve is not None and self.reserve < 0:
            raise InputError(f"--reserve {self.reserve}: must be 0 (no emergency pool) or more")
        if self.min_load > self.max_load:
            raise InputError(f"--min-load {self.min_load} is above --max-load {self.max_load}; lower --min-load or "
                             "raise --max-load")


@dataclass
class Assignment:
    assignments: pd.DataFrame
    alternates: pd.DataFrame
    total_score: float
    unmet_min_load: list[str]
    coauthor_pairs_solved: int = 0  # co-author pairs on one paper in the optimal flow, split afterwards
    coauthor_pairs_left: int = 0  # ... and those left (no free candidate within the slack, or kept pairs)
    coauthor_pairs_kept: int = 0  # of those left, the pairs of two ``fixed`` (kept) pairs, never swapped
    reciprocal_broken: int = 0  # pairs of reviewers reviewing each other's papers in the solve, broken afterwards
    reciprocal_left: int = 0  # ... and those left (kept pairs, or no candidate with load to spare)
    rings_broken: int = 0  # rings of three reviewers, each on a paper the next one wrote, broken after the solve
    rings_left: int = 0  # ... and those left
    min_senior: int = 0  # senior reviewers asked for per paper
    senior_swapped: int = 0  # papers given a senior reviewer after the swaps (co-author, reciprocal) or the draw
    senior_short: list[str] = field(default_factory=list)  # papers left with fewer senior reviewers than asked
    # Randomized (max_probability < 1): each candidate pair's probability of being assigned (paper_id, reviewer_id,
    # score, probability; pairs of probability 0 left out), and ``randomized``: the cap, the seed, the draw's
    # expected total score (with the bids' nudges, ``with_bids``, when any), the total of the best assignment
    # without the cap (the same way; both before the co-author and reciprocal swaps), how many assigned pairs
    # those swaps placed, which the draw had not, and how many ``fixed`` pairs were kept above the cap (probability 1).
    probabilities: pd.DataFrame | None = None
    randomized: dict[str, Any] | None = None


def coauthor_pairs(assignments: pd.DataFrame, coauthors: dict[str, set[str]]) -> pd.DataFrame:
    """``paper_id, reviewer_a, reviewer_b``: two reviewers of one paper who share a publication."""
    rows = []
    for pid, revs in assignments.groupby("paper_id", sort=False)["reviewer_id"]:
        revs = list(revs)
        rows += [(pid, a, b) for i, a in enumerate(revs) for b in revs[i + 1:] if b in coauthors.get(a, ())]
    return pd.DataFrame(rows, columns=["paper_id", "reviewer_a", "reviewer_b"])


def _papers_of(papers: Iterable[Any], reviewers: Iterable[Any]) -> dict[Any, set[Any]]:
    """Reviewer -> their papers, from paired columns (assigned pairs) or from ``authors`` inverted."""
    out: dict[Any, set[Any]] = {}
    for p, r in zip(papers, reviewers):
        out.setdefault(r, set()).add(p)
    return out


def _authored(authors: dict[Any, set[Any]]) -> dict[Any, set[Any]]:
    """Reviewer -> the papers they wrote, from paper -> its authors among the reviewers."""
    return _papers_of(*zip(*((p, r) for p, revs in authors.items() for r in revs))) if authors else {}


def reciprocal_pairs(assignments: pd.DataFrame, authors: dict[str, set[str]]) -> pd.DataFrame:
    """``reviewer_a, paper_a, reviewer_b, paper_b``: reviewer a reviews paper a, which b wrote, while b reviews
    paper b, which a wrote."""
    reviews, authored = _papers_of(assignments["paper_id"], assignments["reviewer_id"]), _authored(authors)
    rows = {tuple(sorted([(ra, pa), (rb, pb)]))
            for ra, papers in reviews.items() for pa in papers for rb in authors.get(pa, ())
            for pb in reviews.get(rb, set()) & authored.get(ra, set())}
    return pd.DataFrame([(ra, pa, rb, pb) for (ra, pa), (rb, pb) in sorted(rows)],
                        columns=["reviewer_a", "paper_a", "reviewer_b", "paper_b"])


def review_rings(assignments: pd.DataFrame, authors: dict[str, set[str]]) -> pd.DataFrame:
    """``reviewer_a, paper_a, reviewer_b, paper_b, reviewer_c, paper_c``: a reviews paper a, which b wrote, b
    reviews paper b, which c wrote, and c reviews paper c, which a wrote; each ring once, from its first reviewer
    by id, and three assigned pairs once even when papers by several authors close the ring both ways (as
    ``_review_cycles`` counts them)."""
    reviews = _papers_of(assignments["paper_id"], assignments["reviewer_id"])
    wrote = {(r, p) for p, revs in authors.items() for r in revs}
    nxt: dict[Any, list[tuple[Any, Any]]] = {}  # reviewer -> (author of a paper they review, that paper)
    for r, papers in reviews.items():
        for p in papers:
            nxt.setdefault(r, []).extend((a, p) for a in authors.get(p, ()) if a != r)
    rings = set()
    for a, outs in nxt.items():
        for b, pa in outs:
            for c, pb in nxt.get(b, ()):
                if c in (a, b):
                    continue
                for pc in reviews.get(c, ()):
                    if (a, pc) in wrote:
                        ring = [(a, pa), (b, pb), (c, pc)]
                        i = min(range(3), key=lambda k: str(ring[k][0]))
                        rings.add(tuple(ring[i:] + ring[:i]))
    once = {frozenset(ring): ring for ring in sorted(rings, reverse=True)}  # the first way round of each
    return pd.DataFrame([[x for pair in ring for x in pair] for ring in sorted(once.values())],
                        columns=["reviewer_a", "paper_a", "reviewer_b", "paper_b", "reviewer_c", "paper_c"])


def _violations(rows: list[int], ri: np.ndarray, co: dict[int, set[int]]) -> list[tuple[int, int]]:
    """Pairs of assigned rows (best first) whose reviewers are co-authors."""
    return [(a, b) for i, a in enumerate(rows) for b in rows[i + 1:] if ri[b] in co.get(ri[a], ())]


def _coauthor_pairs_left(pi: np.ndarray, ri: np.ndarray, chosen: np.ndarray,
                         co: dict[int, set[int]], fixed: np.ndarray) -> tuple[int, int]:
    """Co-author pairs on one paper in ``chosen``, and of those the pairs of two ``fixed`` rows."""
    by_paper: dict[int, list[int]] = {}
    for j in np.flatnonzero(chosen):
        by_paper.setdefault(int(pi[j]), []).append(int(j))
    left = kept = 0
    for rows in by_paper.values():
        bad = _violations(rows, ri, co)
        left += len(bad)
        kept += sum(1 for a, b in bad if fixed[a] and fixed[b])
    return left, kept


MAX_RECIPROCAL_PASSES = 5  # passes over the reciprocal pairs left, while a pass still swaps
MAX_SWAP_OPTIONS = 256  # sets of reviewers tried per paper (all of them up to 8 reviewers in co-author pairs)


def _replacements(drops: tuple[int, ...], stay: list[int], cands: list[int], ri: np.ndarray, value: np.ndarray,
                  co: dict[int, set[int]], load: np.ndarray, mx: np.ndarray, slack: float) -> list[int] | None:
    """A stand-in for each of ``drops`` (the best first takes the best), or None when one has none: a candidate
    with load to spare, within ``slack`` of the reviewer it replaces, sharing no publication with the others."""
    members = {ri[j] for j in stay}
    blocked = members.union(*(co.get(m, ()) for m in members))
    out: list[int] = []
    for d in sorted(drops, key=lambda j: (-value[j], ri[j])):
        c = next((c for c in cands if c not in out and value[c] >= value[d] - slack and load[ri[c]] < mx[ri[c]]
                  and ri[c] not in blocked), None)
        if c is None:
            return None
        out.append(c)
        blocked |= {ri[c], *co.get(ri[c], ())}
    return out


def _review_cycles(pi: np.ndarray, ri: np.ndarray, chosen: np.ndarray, auth: dict[int, set[int]],
                   authored: dict[int, set[int]]) -> list[tuple[int, ...]]:
    """Cycles of chosen rows, each once: two reviewers who review each other's papers (each row: one of them on a
    paper the other wrote), and rings of three, A on a paper B wrote, B on one C wrote, C on one A wrote."""
    on = np.flatnonzero(chosen)
    row_of = {(int(pi[j]), int(ri[j])): int(j) for j in on}
    rows_of: dict[int, list[int]] = {}
    for j in on:
        rows_of.setdefault(int(ri[j]), []).append(int(j))
    found = set()
    for (p, r), j in row_of.items():
        for a in auth.get(p, ()):
            if a == r:
                continue
            for q in authored.get(r, ()):
                other = row_of.get((q, a))
                if other is not None:
                    found.add(tuple(sorted((j, other))))
            for k in rows_of.get(a, ()):  # a reviews a paper written by b, who reviews one r wrote
                for b in auth.get(int(pi[k]), ()):
                    if b in (a, r):
                        continue
                    for q in authored.get(r, ()):
                        last = row_of.get((q, b))
                        if last is not None:
                            found.add(tuple(sorted((j, k, last))))
    return sorted(found, key=lambda c: (len(c), c))


def _would_be_reciprocal(pairs: pd.DataFrame, assigned: pd.DataFrame, authors: dict[str, set[str]]) -> np.ndarray:
    """For each (paper, reviewer) of ``pairs``: would it make two reviewers review each other's papers, or three
    review in a ring, given the ``assigned`` pairs? (See ``_cycle_risk``.)"""
    reviews, authored = _papers_of(assigned["paper_id"], assigned["reviewer_id"]), _authored(authors)
    out = np.zeros(len(pairs), dtype=bool)
    maybe = (pairs["paper_id"].isin(set(authors)) & pairs["reviewer_id"].isin(set(authored))).to_numpy()
    risk: dict[str, set[str]] = {}  # paper -> the papers its stand-in must not have written
    for i in np.flatnonzero(maybe):
        p, r = pairs["paper_id"].iat[i], pairs["reviewer_id"].iat[i]
        if p not in risk:
            risk[p] = _cycle_risk(p, authors, reviews)[1]
        out[i] = bool(authored[r] & risk[p])
    return out


def _swap(d: int, c: int, p: int, ri: np.ndarray, chosen: np.ndarray, load: np.ndarray,
          reviews: dict[int, set[int]]) -> None:
    """Row ``c`` takes row ``d``'s place on paper ``p``: the choice, the loads and who reviews what follow."""
    chosen[d], chosen[c] = False, True
    load[ri[d]] -= 1
    load[ri[c]] += 1
    reviews[int(ri[d])].discard(p)
    reviews.setdefault(int(ri[c]), set()).add(p)


def _cycle_risk(p: int, auth: dict[int, set[int]], reviews: dict[int, set[int]]) -> tuple[set[int], set[int]]:
    """The papers a stand-in on paper ``p`` must not have written: (those that would make a pair, those that would
    make a pair or a ring). A stand-in makes a pair anew when one of the paper's authors reviews a paper the
    stand-in wrote, and a ring anew when such an author reviews a paper by someone who reviews a paper the stand-in
    wrote."""
    pair_risk = set().union(*(reviews.get(a, set()) for a in auth.get(p, ())))
    nearby = {b for q in pair_risk for b in auth.get(q, ())}
    return pair_risk, pair_risk.union(*(reviews.get(b, set()) for b in nearby))


def _break_reciprocal(pi: np.ndarray, ri: np.ndarray, value: np.ndarray, chosen: np.ndarray,
                      auth: dict[int, set[int]], co: dict[int, set[int]], mx: np.ndarray, mn: np.ndarray,
                      fixed: np.ndarray) -> tuple[int, int, int, int]:
    """Swap reviewers apart (in ``chosen``, in place) where two review each other's papers or three review in a
    ring (see ``_review_cycles``); returns (pairs broken, pairs left, rings broken, rings left).

    Of the rows of such a cycle, the one of lowest value that may leave (not fixed, not at its min_load) gives
    its place to the paper's best candidate who is not assigned, has load to spare, shares no publication with the
    paper's other reviewers and makes no pair or ring anew (a pair, the worse of the two, is broken even when no
    such candidate is left but one who makes a ring). Collusion is worth some affinity: there is no slack.
    """
    authored = _authored(auth)
    load = np.bincount(ri[chosen], minlength=len(mx))
    by_paper: dict[int, list[int]] = {}
    for j in np.lexsort((ri, -value)):
        by_paper.setdefault(int(pi[j]), []).append(int(j))
    on = np.flatnonzero(chosen)
    reviews = _papers_of(pi[on].tolist(), ri[on].tolist())
    before = set(_review_cycles(pi, ri, chosen, auth, authored))
    for _ in range(MAX_RECIPROCAL_PASSES):  # a later swap may free the load an earlier cycle needed
        swapped = False
        for cycle in _review_cycles(pi, ri, chosen, auth, authored):
            if not chosen[list(cycle)].all():
                continue  # an earlier swap broke it
            for d in sorted(cycle, key=lambda j: (value[j], ri[j])):
                if fixed[d] or load[ri[d]] - 1 < mn[ri[d]]:
                    continue
                p = int(pi[d])
                others = [j for j in by_paper[p] if chosen[j] and j != d]
                blocked = {ri[j] for j in others}.union(*(co.get(ri[j], ()) for j in others))
                pair_risk, ring_risk = _cycle_risk(p, auth, reviews)
                free = [c for c in by_paper[p] if not chosen[c] and load[ri[c]] < mx[ri[c]] and ri[c] not in blocked]
                c = next((c for c in free if not (authored.get(int(ri[c]), set()) & ring_risk)), None)
                if c is None and len(cycle) == 2:  # a pair is worse than a ring: break it even if a ring is made
                    c = next((c for c in free if not (authored.get(int(ri[c]), set()) & pair_risk)), None)
                if c is None:
                    continue
                _swap(d, c, p, ri, chosen, load, reviews)
                swapped = True
                break
        if not swapped:
            break
    left = set(_review_cycles(pi, ri, chosen, auth, authored))
    gone = before - left
    return (sum(len(c) == 2 for c in gone), sum(len(c) == 2 for c in left),
            sum(len(c) == 3 for c in gone), sum(len(c) == 3 for c in left))


def _spread_coauthors(pi: np.ndarray, ri: np.ndarray, value: np.ndarray, chosen: np.ndarray,
                      co: dict[int, set[int]], mx: np.ndarray, mn: np.ndarray, slack: float,
                      fixed: np.ndarray | None = None) -> tuple[int, int, int]:
    """Swap co-authors apart in ``chosen`` (in place); returns (pairs split, pairs left, of those left the pairs
    of two ``fixed`` rows, which are never swapped).

    Papers are visited in input order. Of each paper's reviewers in a co-author pair, every set that may leave
    (not fixed, not at their min_load) is tried, each leaving reviewer replaced by a candidate of the paper
    who is not assigned, has load to spare, shares no publication with the paper's other reviewers and scores
    at least its value - ``slack``. The swap kept leaves the fewest pairs, then loses the least value, then
    moves the fewest reviewers: in a star (A co-author of B and of C) A alone leaves, not B and C. Loads stay
    within max_load and never drop below min_load.
    """
    fixed = np.zeros(len(pi), dtype=bool) if fixed is None else fixed
    load = np.bincount(ri[chosen], minlength=len(mx))
    order = np.lexsort((ri, -value, pi))
    bounds = np.searchsorted(pi[order], np.arange(int(pi.max()) + 2))
    solved = left = kept = 0
    for p in range(len(bounds) - 1):
        rows = order[bounds[p]:bounds[p + 1]]
        on = [int(j) for j in rows if chosen[j]]
        bad = _violations(on, ri, co)
        if not bad:
            continue
        involved = sorted({j for pair in bad for j in pair}, key=lambda j: (-value[j], ri[j]))
        movable = [j for j in involved if not fixed[j] and load[ri[j]] - 1 >= mn[ri[j]]]
        cands = [int(c) for c in rows if not chosen[c]]
        best: tuple[tuple[int, float, int], tuple[int, ...], list[int]] | None = None
        options = itertools.chain.from_iterable(itertools.combinations(movable, n) for n in range(1, len(movable) + 1))
        for drops in itertools.islice(options, MAX_SWAP_OPTIONS):
            stay = [j for j in on if j not in drops]
            n_left = len(_violations(stay, ri, co))
            if n_left >= len(bad) or (best is not None and n_left > best[0][0]):
                continue
            adds = _replacements(drops, stay, cands, ri, value, co, load, mx, slack)
            if adds is None:
                continue
            key = (n_left, round(float(value[list(drops)].sum() - value[adds].sum()), 9), len(drops))
            if best is None or key < best[0]:
                best = (key, drops, adds)
        after = len(bad)
        if best is not None:
            _, drops, adds = best
            chosen[list(drops)], chosen[adds] = False, True
            np.subtract.at(load, ri[list(drops)], 1)
            np.add.at(load, ri[adds], 1)
            on = [j for j in on if j not in drops] + adds
            after = best[0][0]
        solved += len(bad) - after
        left += after
        kept += sum(1 for a, b in _violations(on, ri, co) if fixed[a] and fixed[b])
    return solved, left, kept


def _ensure_senior(pi: np.ndarray, ri: np.ndarray, value: np.ndarray, chosen: np.ndarray, senior: np.ndarray,
                   m: int, co: dict[int, set[int]], mx: np.ndarray, mn: np.ndarray,
                   fixed: np.ndarray, auth: dict[int, set[int]] | None = None) -> tuple[int, list[int]]:
    """Give papers left with fewer than ``m`` senior reviewers (after the swaps, or in a randomized draw) their
    best free senior candidate (load to spare, sharing no publication with the paper's other reviewers, making no
    pair or ring of reviewers who review each other's papers with ``auth``, see ``_review_cycles``) in place
    of their lowest-valued junior reviewer who may leave (not fixed, not at min_load); in ``chosen``, in place.
    Returns (papers given one, papers still short)."""
    auth = auth or {}
    authored = _authored(auth)
    on_rows = np.flatnonzero(chosen)
    reviews = _papers_of(pi[on_rows].tolist(), ri[on_rows].tolist())
    load = np.bincount(ri[chosen], minlength=len(mx))
    order = np.lexsort((ri, -value, pi))
    bounds = np.searchsorted(pi[order], np.arange(int(pi.max()) + 2))
    given, short = 0, []
    for p in range(len(bounds) - 1):
        rows = order[bounds[p]:bounds[p + 1]]
        on = [int(j) for j in rows if chosen[j]]
        n_senior = sum(bool(senior[ri[j]]) for j in on)
        swapped = False
        while n_senior < m:
            juniors = [j for j in reversed(on) if not senior[ri[j]] and not fixed[j] and load[ri[j]] - 1 >= mn[ri[j]]]
            if not juniors:
                break
            d = juniors[0]
            stay = [j for j in on if j != d]
            blocked = {ri[j] for j in stay}.union(*(co.get(ri[j], ()) for j in stay))
            _, risk = _cycle_risk(p, auth, reviews)
            c = next((int(c) for c in rows if not chosen[c] and senior[ri[c]] and load[ri[c]] < mx[ri[c]]
                      and ri[c] not in blocked and not (authored.get(int(ri[c]), set()) & risk)), None)
            if c is None:
                break
            _swap(d, c, p, ri, chosen, load, reviews)
            on = [*stay, c]
            n_senior += 1
            swapped = True
        given += swapped
        if n_senior < m and on:
            short.append(p)
    return given, short


def _loads(reviewers: pd.DataFrame, params: AssignParams) -> tuple[np.ndarray, np.ndarray]:
    own_max, own_min = reviewers["max_load"].astype("Int64"), reviewers["min_load"].astype("Int64")
    mx = own_max.fillna(params.max_load).to_numpy(dtype=np.int64)
    mn = own_min.fillna(params.min_load).to_numpy(dtype=np.int64)
    over = np.flatnonzero((own_max.isna() & own_min.notna()).to_numpy(dtype=bool) & (mn > mx))
    if len(over):
        ex = ", ".join(f"{shown(reviewers['reviewer_id'].iloc[i])} (min_load {mn[i]})" for i in over[:3])
        log.warning("%d reviewer(s) have a min_load above --max-load %d and no max_load of their own (first: %s); "
                    "their min_load is taken as %d; give them a max_load in the reviewers file or raise --max-load",
                    len(over), params.max_load, ex, params.max_load)
    return mx, np.minimum(mn, mx)


def bid_values(bids: pd.DataFrame) -> pd.Series:
    """Each bid's value (Very High = 1 .. Very Low = -1, EasyChair's yes / maybe / no); NaN for other labels."""
    return bids["bid"].astype(str).str.strip().str.lower().map(BIDS)


def apply_bids(affinity: pd.DataFrame, bids: pd.DataFrame | None, weight: float) -> pd.Series:
    """Affinity plus ``weight`` x bid value (OpenReview labels Very High .. Very Low)."""
    score = affinity["score"].astype(float)
    if bids is None or bids.empty:
        return score
    b = bids.assign(v=bid_values(bids))
    bad = b["v"].isna()
    if bad.any():
        raise InputError(f"bids: unknown bid {quoted(bids['bid'][bad].iloc[0])}; use one of "
                         "Very High, High, Neutral, Low, Very Low")
    key = affinity["paper_id"] + "\x00" + affinity["reviewer_id"]
    m = dict(zip(b["paper_id"] + "\x00" + b["reviewer_id"], b["v"]))
    return score + weight * key.map(m).fillna(0.0).astype(float)


def bid_summary(assignments: pd.DataFrame, bids: pd.DataFrame, reviewers: pd.Series,
                papers: pd.Series, *, placed: set[str] | None = None) -> dict[str, int]:
    """How the assignment sits with the bids (the last bid on a pair counts, as in the solve): assigned pairs with
    a positive and a negative bid, reviewers of the pool who placed no bid (``placed``: those who did, if more
    than the bids show, e.g. EasyChair's 'conflict' bids), and papers no reviewer bid for positively."""
    bids = bids.drop_duplicates(["paper_id", "reviewer_id"], keep="last")
    value = bid_values(bids)  # EasyChair's 'conflict' bids: NaN
    pos = set(zip(bids["paper_id"][value > 0], bids["reviewer_id"][value > 0]))
    neg = set(zip(bids["paper_id"][value < 0], bids["reviewer_id"][value < 0]))
    pairs = list(zip(assignments["paper_id"], assignments["reviewer_id"]))
    return {"assigned_with_positive_bid": sum(p in pos for p in pairs),
            "assigned_with_negative_bid": sum(p in neg for p in pairs), "assigned": len(pairs),
            "reviewers_without_bids": int((~reviewers.isin(set(bids["reviewer_id"]) | (placed or set()))).sum()),
            "reviewers": len(reviewers),
            "papers_without_positive_bid": int((~papers.isin({p for p, _ in pos})).sum()), "papers": len(papers)}


def read_bids(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Bids as ``paper_id, reviewer_id, bid``; also OpenReview's bid edges (``head, tail, label``),
    openreview-expertise's ``bids/`` folder, EasyChair's bidding.csv and START's matrix of bid codes."""
    from triage.ingest import clean_text, columns_shown, read_bid_folder, read_table, row_name

    path = Path(path)
    if path.is_dir():  # openreview-expertise's bids/ folder
        path, df = read_bid_folder(path, encoding)
    else:
        df = read_table(path, encoding=encoding)
    codes = df.iloc[:, 1:].map(lambda v: clean_text(v).removesuffix(".0"))
    named = {str(c).strip().lower() for c in df.columns} & {"bid", "label"}  # a bids table, not START's matrix
    if len(df.columns) > 1 and not named and codes.isin({"", *START_BIDS}).all().all() and codes.ne("").any().any():
        # START's bids: a matrix, one row per submission (its id first) and one column per username, of codes
        # 1 yes, 2 maybe, 3 no, 4 conflict; an empty cell is no bid.
        long = codes.set_axis(df.iloc[:, 0].map(clean_text)).stack()
        long = long[long != ""]
        return pd.DataFrame({"paper_id": long.index.get_level_values(0), "reviewer_id": long.index.get_level_values(1)
                             .map(clean_text), "bid": long.map(START_BIDS).to_numpy()})
    found = [str(c) for c in df.columns]
    df.columns = [str(c).strip().lower() for c in df.columns]
    df = df.rename(columns={"head": "paper_id", "tail": "reviewer_id", "label": "bid", "paper": "paper_id",
                            "user": "reviewer_id", "reviewer": "reviewer_id",
                            "submission #": "paper_id", "member #": "reviewer_id",  # EasyChair's bidding.csv
                            "paper id": "paper_id", "reviewer email": "reviewer_id"})  # CMT's, by reviewer email
    missing = [c for c in ("paper_id", "reviewer_id", "bid") if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (found: {columns_shown(list(df.columns))}); "
                         "a bids file needs paper_id, reviewer_id, bid")
    for col in ("paper_id", "reviewer_id", "bid"):
        same = [f for f, c in zip(found, df.columns) if c == col]
        if len(same) > 1:
            raise InputError(f"{path}: columns {', '.join(quoted(f) for f in same)} are all read as '{col}'; "
                             "keep one of them")
    df = df[["paper_id", "reviewer_id", "bid"]].map(clean_text)  # a JSON null is an empty cell, not 'nan'
    number = pd.to_numeric(df["bid"], errors="coerce")
    if len(df) and number.isin(list(AAAI_BIDS)).all():  # AAAI's numeric scale, every bid on it
        df["bid"] = number.map(AAAI_BIDS)
    label = df["bid"].str.lower()
    # every bid a number: AAAI's scale, so the one off it is named, not the first bid
    bad = ~number.isin(list(AAAI_BIDS)) if number.notna().all() else ~label.isin({*BIDS, CONFLICT_BID, *NO_BID})
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{path}: {row_name(i, Path(path))} column 'bid' is {quoted(df['bid'].iloc[i])}; use one of "
                         "Very High, High, Neutral, Low, Very Low (or EasyChair's yes, maybe, no, conflict; CMT's "
                         "eager, willing, in a pinch, not willing; AAAI's 6, 4, 2, 1, 0.05)")
    return df[~label.isin(NO_BID)].reset_index(drop=True)


def _diagnose(paper_ids: list[str], flow_per_paper: np.ndarray, cand_per_paper: np.ndarray, k: int,
              capacity: int, topics: pd.Series | None = None, max_probability: float | None = None) -> str:
    """One line: how many papers and slots are short, and why (few candidates, capacity, full reviewers, and
    with ``max_probability`` the candidates a paper needs to spread its reviewers' probability over)."""
    short = np.flatnonzero(flow_per_paper < k)
    missing = int((k - flow_per_paper[short]).sum())
    needed = k * len(paper_ids)
    few = np.flatnonzero(cand_per_paper < k)
    parts = [f"assignment is infeasible: {len(short)} paper(s) cannot get {k} reviewers ({missing} slot(s) missing"
             f"; {needed} needed, total reviewer capacity {capacity})"]
    fixes = []
    if len(few):
        ex = ", ".join(f"{shown(paper_ids[i])} ({int(cand_per_paper[i])})" for i in few[:3])
        parts.append(f"{len(few)} paper(s) have fewer than {k} candidate reviewers without conflicts, e.g. {ex}")
        fixes.append("raise --top-k")
    if capacity < needed:
        parts.append(f"the reviewers' max_load adds up to {needed - capacity} slot(s) too few")
        fixes.append("raise max_load (--max-load or the reviewers file) or add reviewers")
    if max_probability is not None:
        need = int(np.ceil(k / max_probability - 1e-9))
        thin = np.flatnonzero(cand_per_paper < need)
        if len(thin) > len(few):
            parts.append(f"with --max-probability {max_probability:g} a paper needs at least {need} candidate "
                         f"reviewers, and {len(thin)} paper(s) have fewer")
            fixes.append("raise --max-probability")
    if not fixes:
        ex = ", ".join(shown(paper_ids[i]) for i in short[:3])
        parts.append(f"their candidate reviewers are full, e.g. {ex}")
        fixes.append("raise --top-k or max_load, add reviewers")
    if topics is not None and len(short):
        counts = pd.Series([topics.get(paper_ids[i], "") for i in short]).replace("", "(no topic)").value_counts()
        parts.append("short by topic: " + ", ".join(f"{shown(t)} ({n})" for t, n in counts.head(3).items()))
    return "; ".join(parts) + "; " + ", ".join(fixes) + ", or lower --per-paper"


def _solve(pi: np.ndarray, ri: np.ndarray, value: np.ndarray, n_pap: int, mx: np.ndarray, mn: np.ndarray, k: int,
           *, pair_cap: np.ndarray, scale: int, senior: np.ndarray | None = None,
           min_senior: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The min-cost flow in ``scale`` units per reviewer slot (1: the integral assignment; 100: hundredths, for a
    fractional one with pairs capped at ``pair_cap``); returns the flow of each pair, of each paper and of each
    reviewer's min-load arc, in those units. With ``min_senior``, a paper's pairs with ``senior`` reviewers leave
    from a node of its own, reached by ``min_senior`` slots that carry a bonus and by the paper's other slots."""
    from ortools.graph.python import min_cost_flow

    n_rev = len(mx)
    src, sink = n_pap + n_rev, n_pap + n_rev + 1
    bonus = int(SCALE * 10)  # larger than any affinity gain, so minimum loads come first
    smcf = min_cost_flow.SimpleMinCostFlow()
    seniors = senior is not None and min_senior > 0
    tail = pi
    if seniors:
        tail = np.where(senior[ri], n_pap + n_rev + 2 + pi, pi)  # a paper's senior node
    tails = np.concatenate([
        np.full(n_pap, src), tail, n_pap + np.arange(n_rev), n_pap + np.arange(n_rev)]).astype(np.int64)
    heads = np.concatenate([
        np.arange(n_pap), n_pap + ri, np.full(n_rev, sink), np.full(n_rev, sink)]).astype(np.int64)
    caps = np.concatenate([np.full(n_pap, k * scale), pair_cap, mn * scale, (mx - mn) * scale]).astype(np.int64)
    costs = np.concatenate([
        np.zeros(n_pap), -np.round(value * SCALE), np.full(n_rev, -bonus), np.zeros(n_rev)
    ]).astype(np.int64)
    if seniors:
        m = min(min_senior, k)
        node = n_pap + n_rev + 2 + np.arange(n_pap)
        tails = np.concatenate([tails, np.arange(n_pap), np.arange(n_pap)]).astype(np.int64)
        heads = np.concatenate([heads, node, node]).astype(np.int64)
        caps = np.concatenate([caps, np.full(n_pap, m * scale), np.full(n_pap, (k - m) * scale)]).astype(np.int64)
        costs = np.concatenate([costs, np.full(n_pap, -SENIOR_BONUS), np.zeros(n_pap)]).astype(np.int64)
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    smcf.set_node_supply(src, k * n_pap * scale)
    smcf.set_node_supply(sink, -k * n_pap * scale)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise InfeasibleError(f"the min-cost-flow solver failed (status {status}); report this as a bug")
    flows = smcf.flows(arcs)
    n = len(pi)
    return flows[n_pap:n_pap + n], flows[:n_pap], flows[n_pap + n:n_pap + n + n_rev]


def _draw(pi: np.ndarray, ri: np.ndarray, flow: np.ndarray, scale: int, n_pap: int,
          rng: np.random.Generator) -> np.ndarray:
    """One integral assignment drawn from a fractional one (``flow / scale`` per pair): dependent rounding on the
    bipartite graph of papers and reviewers (Gandhi, Khuller, Parthasarathy and Srinivasan, JACM 2006).

    Each step takes a cycle, or else a maximal path, of pairs still fractional, and moves their values up and down
    alternately, by the largest amounts that keep them within 0..1, choosing the direction with the probabilities
    that leave every pair's expectation unchanged; at least one pair becomes 0 or 1. Papers and reviewers inside
    the cycle or path keep their totals, so each paper keeps its whole number of reviewers; a reviewer at a path's
    end ends at the floor or ceiling of their expected load. Exact in integer units of ``1 / scale``."""
    f = np.asarray(flow, dtype=np.int64).copy()
    ends = np.stack([pi, n_pap + ri], axis=1)  # vertex ids: papers, then reviewers
    adj: dict[int, set[int]] = {}
    for e in np.flatnonzero((f > 0) & (f < scale)).tolist():
        for v in ends[e].tolist():
            adj.setdefault(v, set()).add(e)
    leaves = {v for v, es in adj.items() if len(es) == 1}  # reviewers with a fractional expected load
    while adj:
        v = min(leaves) if leaves else next(iter(adj))
        seen, walk, came = {v: 0}, [], -1
        while True:
            e = next((x for x in adj[v] if x != came), None)
            if e is None:
                break  # a maximal path: it ends at a leaf
            walk.append(e)
            a, b = ends[e].tolist()
            v, came = (b if v == a else a), e
            if v in seen:
                walk = walk[seen[v]:]  # a cycle (even: the graph is bipartite)
                break
            seen[v] = len(walk)
        up, down = np.array(walk[0::2]), np.array(walk[1::2], dtype=np.int64)
        alpha = min(int((scale - f[up]).min()), int(f[down].min()) if len(down) else scale)
        beta = min(int(f[up].min()), int((scale - f[down]).min()) if len(down) else scale)
        step = alpha if rng.random() < beta / (alpha + beta) else -beta
        f[up] += step
        f[down] -= step
        for e in walk:
            if 0 < f[e] < scale:
                continue
            for u in ends[e].tolist():
                es = adj[u]
                es.discard(e)
                if len(es) == 1:
                    leaves.add(u)
                else:
                    leaves.discard(u)
                    if not es:
                        del adj[u]
    return f == scale


def assign(
    affinity: pd.DataFrame,
    papers: pd.DataFrame,
    reviewers: pd.DataFrame,
    conflicts: pd.DataFrame,
    *,
    params: AssignParams = AssignParams(),
    bids: pd.DataFrame | None = None,
    fixed: pd.DataFrame | None = None,
    topics: pd.Series | None = None,
    coauthors: dict[str, set[str]] | None = None,
    authors: dict[str, set[str]] | None = None,
) -> Assignment:
    """Assign ``per_paper`` reviewers to every paper, maximising total affinity under loads.

    ``fixed`` pairs (``paper_id, reviewer_id``, e.g. an earlier assignment) are kept whenever a
    complete assignment with them exists: their bonus outweighs any affinity or min-load gain.
    ``coauthors`` (reviewer -> reviewers sharing a publication) are then swapped apart where
    ``params.coauthor_slack`` allows (see ``_spread_coauthors``), and ``authors`` (paper -> reviewers who wrote
    it) are used to swap apart two reviewers who would review each other's papers (see ``_break_reciprocal``).
    """
    k = params.per_paper
    if k < 1:
        raise InputError(f"--per-paper {k}: must be at least 1")
    if params.coauthor_slack < 0:
        raise InputError(f"--coauthor-slack {params.coauthor_slack}: must be 0 (off) or more")
    n_rev = len(reviewers)
    if k > n_rev:
        raise InputError(f"--per-paper {k} is larger than the reviewer pool ({n_rev}); lower --per-paper or add "
                         "reviewers")
    paper_ids = papers["paper_id"].tolist()
    # Reviewers by id: the solver and the swaps then break ties the same way whatever the reviewers file's order.
    reviewers = reviewers.sort_values("reviewer_id", kind="stable").reset_index(drop=True)
    rev_ids = reviewers["reviewer_id"].tolist()
    p_code = {p: i for i, p in enumerate(paper_ids)}
    r_code = {r: i for i, r in enumerate(rev_ids)}
    aff = affinity[affinity["paper_id"].isin(p_code) & affinity["reviewer_id"].isin(r_code)].copy()
    aff["value"] = apply_bids(aff, bids, params.bid_weight)
    aff["_bid_value"] = aff["value"]  # what the solver weighs, without the bonus of kept pairs: alternates' order
    aff["_fixed"] = False
    if fixed is not None and len(fixed):
        keep = set(fixed["paper_id"] + "\x00" + fixed["reviewer_id"])
        aff["_fixed"] = (aff["paper_id"] + "\x00" + aff["reviewer_id"]).isin(keep)
        aff["value"] += np.where(aff["_fixed"], FIXED_BONUS, 0.0)
    if len(conflicts):
        ckey = set(conflicts["paper_id"] + "\x00" + conflicts["reviewer_id"])
        aff = aff[~(aff["paper_id"] + "\x00" + aff["reviewer_id"]).isin(ckey)]
    aff = aff.reset_index(drop=True)
    pi = aff["paper_id"].map(p_code).to_numpy(dtype=np.int64)
    ri = aff["reviewer_id"].map(r_code).to_numpy(dtype=np.int64)
    mx, mn = _loads(reviewers, params)
    n_pap = len(paper_ids)
    value = aff["value"].to_numpy(dtype=float)
    fixed_rows = aff["_fixed"].to_numpy(dtype=bool)
    senior = reviewers["senior"].fillna(False).astype(bool).to_numpy() if "senior" in reviewers.columns \
        else np.zeros(n_rev, dtype=bool)
    m_senior = min(k, params.min_senior if params.min_senior is not None else int(senior.any()))
    units = round(params.max_probability * PROBABILITY_UNITS)
    randomized = units < PROBABILITY_UNITS
    scale = PROBABILITY_UNITS if randomized else 1
    # A kept pair may be assigned for sure; any other at most with the cap's probability.
    pair_cap = np.where(fixed_rows, scale, units if randomized else 1)
    pr_flow, per_paper, min_flow = _solve(pi, ri, value, n_pap, mx, mn, k, pair_cap=pair_cap, scale=scale,
                                          senior=senior, min_senior=m_senior)
    if int(per_paper.sum()) < k * n_pap * scale:
        cand = np.bincount(pi, minlength=n_pap)
        raise InfeasibleError(_diagnose(paper_ids, per_paper // scale, cand, k, int(mx.sum()), topics,
                                        max_probability=units / PROBABILITY_UNITS if randomized else None))
    unmet = [rev_ids[i] for i in np.flatnonzero(min_flow < mn * scale)]
    probabilities = draw = None
    if randomized:
        # The cap's cost on what both solves weigh: with bids, the affinity plus the bids' nudges (on affinity alone,
        # a cap that spreads a positive bid's pair to better-scoring ones would seem to gain).
        share, score = pr_flow / scale, aff["_bid_value"].to_numpy(dtype=float)
        probabilities = aff.loc[share > 0, ["paper_id", "reviewer_id", "score"]].assign(probability=share[share > 0])
        best, _, _ = _solve(pi, ri, value, n_pap, mx, mn, k, pair_cap=np.ones(len(aff), dtype=np.int64), scale=1,
                            senior=senior, min_senior=m_senior)
        draw = {"max_probability": units / PROBABILITY_UNITS, "seed": params.seed,
                "expected_score": round(float((share * score).sum()), 4),
                "best_score": round(float(score[best > 0].sum()), 4),
                "kept": int((pr_flow > units).sum()),  # kept pairs (--keep-assignments): assigned for sure
                "with_bids": bool((aff["_bid_value"] != aff["score"].astype(float)).any())}
        on = _draw(pi, ri, pr_flow, scale, n_pap, np.random.default_rng(params.seed))
        drawn = on.copy()
    else:
        on = pr_flow > 0
    solved = left = kept = 0
    co = {r_code[r]: {r_code[o] for o in others if o in r_code} for r, others in (coauthors or {}).items()
          if r in r_code}
    if co and params.coauthor_slack > 0 and len(aff):
        solved, left, kept = _spread_coauthors(pi, ri, value, on, co, mx, mn,
                                               params.coauthor_slack, fixed=fixed_rows)
    broken = unbroken = rings = rings_left = 0
    auth = {p_code[p]: {r_code[r] for r in revs if r in r_code} for p, revs in (authors or {}).items() if p in p_code}
    if authors and len(aff):
        broken, unbroken, rings, rings_left = _break_reciprocal(pi, ri, value, on, auth, co, mx, mn, fixed_rows)
    senior_given, senior_short = 0, []
    if m_senior and len(aff):  # the swaps above, or the draw, may have taken a paper's senior reviewer
        senior_given, short = _ensure_senior(pi, ri, value, on, senior, m_senior, co, mx, mn, fixed_rows, auth)
        senior_short = [paper_ids[p] for p in short]
    if left and (authors or m_senior):  # those swaps may have split co-author pairs the swap above left
        now, kept = _coauthor_pairs_left(pi, ri, on, co, fixed_rows)
        solved, left = solved + left - now, now
    if draw is not None:
        draw["swapped_in"] = int((on & ~drawn).sum())
    chosen = aff[on].copy()

    order = {p: i for i, p in enumerate(paper_ids)}

    def ranked(df: pd.DataFrame) -> pd.DataFrame:
        df = df.assign(_o=df["paper_id"].map(order))
        df = df.sort_values(["_o", "score", "reviewer_id"], ascending=[True, False, True], kind="stable")
        df["rank"] = df.groupby("_o", sort=False).cumcount() + 1
        return df[ASSIGNMENT_COLUMNS].reset_index(drop=True)

    assigned = ranked(chosen)
    # Alternates stand in when a reviewer declines: the best candidates who can still take a paper come
    # first, then (when a paper has too few of those) the best of the full ones; spare_load says which.
    # Best as the solver weighs them: score plus the bid's weight.
    spare = mx - np.bincount(ri[on], minlength=n_rev)
    rest = aff[~on].assign(spare_load=spare[ri[~on]])
    if authors and len(rest):  # an alternate who would review a paper by one of their own paper's reviewers
        rest = rest[~_would_be_reciprocal(rest, aff[on], authors)]
    rest = rest.assign(_o=rest["paper_id"].map(order), _full=rest["spare_load"] <= 0).sort_values(
        ["_o", "_full", "_bid_value", "reviewer_id"], ascending=[True, True, False, True], kind="stable")
    picked = rest[rest.groupby("_o", sort=False).cumcount() < params.alternates]
    alternates = picked.assign(rank=picked.groupby("_o", sort=False).cumcount() + 1)[
        [*ASSIGNMENT_COLUMNS, "spare_load"]].reset_index(drop=True)
    return Assignment(assignments=assigned, alternates=alternates,
                      total_score=float(chosen["score"].astype(float).sum()), unmet_min_load=unmet,
                      coauthor_pairs_solved=solved, coauthor_pairs_left=left, coauthor_pairs_kept=kept,
                      reciprocal_broken=broken, reciprocal_left=unbroken,
                      rings_broken=rings, rings_left=rings_left, min_senior=m_senior,
                      senior_swapped=senior_given, senior_short=senior_short, probabilities=probabilities,
                      randomized=draw)


def reserve_size(n_reviewers: int) -> int:
    """The emergency pool's default size: 2% of the reviewers, at least 10."""
    return max(10, round(0.02 * n_reviewers))


def reserve_pool(assignments: pd.DataFrame, candidates: pd.DataFrame, reviewers: pd.DataFrame,
                 params: AssignParams, size: int) -> pd.DataFrame:
    """An emergency pool: up to ``size`` reviewers with load to spare who together can stand in on the most papers.

    A reviewer can stand in on a paper when the pair is a candidate (``candidates``: the scored pairs, conflicts
    removed), they do not review it yet, and they score at least the paper's weakest assigned reviewer, so
    replacing any reviewer who drops out keeps the paper's weakest match. Picked greedily (maximum coverage):
    each next reviewer adds the most papers not yet covered, ties to more spare load, then to the id. Columns:
    ``RESERVE_COLUMNS`` (``papers``: all the papers they can stand in on; ``new_papers``: those they add;
    ``covered``: papers covered by the pool so far).
    """
    reviewers = reviewers.reset_index(drop=True)
    mx, _ = _loads(reviewers, params)
    load = assignments["reviewer_id"].value_counts().reindex(reviewers["reviewer_id"], fill_value=0).to_numpy()
    table = pd.DataFrame({"reviewer_id": reviewers["reviewer_id"], "load": load, "max_load": mx,
                          "spare_load": mx - load})
    if size < 1 or not len(assignments):
        return pd.DataFrame(columns=RESERVE_COLUMNS)
    weakest = assignments.groupby("paper_id")["score"].min()
    taken = set(zip(assignments["paper_id"], assignments["reviewer_id"]))
    spare = set(table.loc[table["spare_load"] > 0, "reviewer_id"])
    c = candidates[candidates["reviewer_id"].isin(spare) & candidates["paper_id"].isin(weakest.index)]
    c = c[c["score"].astype(float).to_numpy() >= c["paper_id"].map(weakest).to_numpy() - 1e-9]
    c = c[[pair not in taken for pair in zip(c["paper_id"], c["reviewer_id"])]]
    papers_of = {r: set(g) for r, g in c.groupby("reviewer_id", sort=False)["paper_id"]}
    info = table.set_index("reviewer_id")
    heap = [(-len(ps), -int(info.at[r, "spare_load"]), r) for r, ps in papers_of.items()]
    heapq.heapify(heap)
    covered: set[Any] = set()
    rows = []
    while heap and len(rows) < size:
        gain, tie, r = heapq.heappop(heap)
        new = papers_of[r] - covered
        if heap and len(new) < -gain:  # lazy greedy: a stale gain goes back with its true value
            heapq.heappush(heap, (-len(new), tie, r))
            continue
        if not new:
            break
        covered |= new
        rows.append({"rank": len(rows) + 1, "reviewer_id": r, **info.loc[r, ["load", "max_load", "spare_load"]],
                     "papers": len(papers_of[r]), "new_papers": len(new), "covered": len(covered)})
    return pd.DataFrame(rows, columns=RESERVE_COLUMNS)
