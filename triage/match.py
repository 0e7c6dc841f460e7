"""Reviewer affinity from each reviewer's own publications.

A reviewer's affinity to a paper aggregates the similarities between the paper and each of
the reviewer's publications (their *profile*). The similarity of a paper and a publication is
the cosine of their embeddings, optionally blended with a lexical (BM25 or TF-IDF) cosine
fitted on the run's corpus, then weighed by the publication's ``weight`` when the publications
carry one (:func:`reweigh`). The publication with the highest similarity is the evidence.

The embedding part of a (paper, reviewer) score depends only on that paper and that reviewer's
profile, so a reviewer's scores are comparable across papers; the lexical part's word weights and
the blend's calibration are fitted on the whole run, so they move a little when papers are added
(three late submissions moved them by 0.0003-0.0005 in the median on the demo; see README.md).

Two paths compute the same scores:

* all pairs (``top_k=None``): exact, papers in blocks against every publication (BLAS);
* top-k: for each paper the reviewers whose *closest* publication is most similar are the
  candidates (exact brute force, blockwise BLAS); their aggregated, blended scores are then
  computed exactly and the best ``top_k`` kept;
* each reviewer's ``reviewer_top_k`` best papers, added to the top-k pairs (openreview-expertise's
  ``sparse_value`` keeps the top-K of each reviewer *and* each paper): the papers searched from the
  reviewer's publications, then scored with ``score_pairs``, so a pair scores the same found either way.

Publications are grouped by reviewer into contiguous segments, so every aggregation is a
``reduceat`` over segments: no Python loop over papers x reviewers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from triage.choices import REVIEWER_TOP_K, Aggregate
from triage.conflicts import distinctive_titles, title_keys
from triage.errors import InputError, quoted, shown
from triage.lexical import LexicalParams, Weighting

if TYPE_CHECKING:
    import scipy.sparse as sp

log = logging.getLogger("triage")

AFFINITY_COLUMNS = ["paper_id", "reviewer_id", "score", "evidence_id", "evidence_title"]
BLOCK = 64
PUB_BLOCK = 2048  # publications searched against every paper at once (8 MB per 1,000 papers)
PAIR_ENTRIES = 1 << 16  # (paper, publication) entries scored by one score_pairs call (bounds its gathers)
TOPK_WEIGHTS = (1.0, 1 / 2, 1 / 3)


@dataclass(frozen=True)
class AffinityParams:
    aggregate: Aggregate = Aggregate.topk
    lexical_weight: float = 0.5  # lexical share of the blend's spread (see blend_calibration); 0 = embeddings only
    lexical: LexicalParams = field(default_factory=LexicalParams)
    percentile: float = 75.0  # used by Aggregate.percentile
    top_k: int | None = 50  # reviewers kept per paper; None keeps every pair
    reviewer_top_k: int = REVIEWER_TOP_K  # with top_k: also each reviewer's N best papers (0: off)
    recent: int | None = None  # keep each reviewer's N most recent publications
    since: int | None = None  # keep publications from this year on


def work_keys(pubs: pd.DataFrame) -> np.ndarray:
    """Each publication's work: its title (case, accents, spacing and punctuation aside), or, for a title too short
    or generic to tell one paper from another ("Editorial", two words), its title and abstract together."""
    titles = pubs["title"].fillna("").astype(str).reset_index(drop=True)
    keys = title_keys(titles)
    short = ~distinctive_titles(titles, keys)
    abstracts = pubs["abstract"].fillna("").astype(str).reset_index(drop=True)
    keys[short] = "\x00" + keys[short] + "\x00" + title_keys(abstracts[short])
    return keys.to_numpy()


def repeated_publications(pubs: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the publications that repeat another of the same reviewer's (the same work listed twice, as a
    preprint and its published version often are). Of each work the copy kept is the one of the largest weight,
    then of the longest abstract, then the first by pub_id and title, whatever the order of the rows."""
    table = pd.DataFrame({"r": pubs["reviewer_id"].astype(str).to_numpy(), "k": work_keys(pubs)})
    repeated = np.zeros(len(pubs), dtype=bool)
    copies = np.flatnonzero(table.duplicated(["r", "k"], keep=False).to_numpy())
    if not len(copies):
        return repeated
    table = table.iloc[copies].assign(
        w=publication_weights(pubs)[copies], n=pubs["abstract"].fillna("").astype(str).str.len().to_numpy()[copies],
        p=pubs["pub_id"].astype(str).to_numpy()[copies], t=pubs["title"].astype(str).to_numpy()[copies])
    order = table.sort_values(["r", "k", "w", "n", "p", "t"], ascending=[True, True, False, False, True, True],
                              kind="stable")
    repeated[order.index.to_numpy()] = order.duplicated(["r", "k"]).to_numpy()
    return repeated


def select_profiles(pubs: pd.DataFrame, *, recent: int | None = None, since: int | None = None,
                    repeated: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of publications kept in the reviewer profiles.

    Publications of weight 0 are in no profile, and a work a reviewer lists twice counts once (``repeated``, computed
    by :func:`repeated_publications` unless given); ``since`` drops older publications (those without a year are kept
    only without ``since``); ``recent`` then keeps each reviewer's N newest (undated ones last, input order breaks
    ties).
    """
    keep = np.ones(len(pubs), dtype=bool)
    if len(pubs) == 0:
        return keep
    if repeated is None:
        repeated = repeated_publications(pubs)
    keep &= (publication_weights(pubs) > 0) & ~repeated
    years = pd.to_numeric(pubs["year"], errors="coerce")
    if since is not None:
        keep &= (years >= since).fillna(False).to_numpy(dtype=bool)
    if recent is not None:
        order = pd.DataFrame({"r": pubs["reviewer_id"].to_numpy(), "y": years.fillna(-1).to_numpy(),
                              "i": np.arange(len(pubs)), "k": keep})
        order = order[order["k"]].sort_values(["r", "y", "i"], ascending=[True, False, True], kind="stable")
        ranked = order.groupby("r", sort=False).cumcount()
        chosen = order["i"][ranked < recent].to_numpy()
        keep = np.zeros(len(pubs), dtype=bool)
        keep[chosen] = True
    return keep


def warn_profiles_lost(pubs: pd.DataFrame, reviewers: pd.DataFrame, params: AffinityParams) -> None:
    """Name the reviewers whom weights of 0 or ``--since`` leave without a publication: they get no affinity, so
    they are not assigned and their bids are not used. (Said by the match stage whether or not its affinity is
    cached, and by `triage affinity`.)"""
    if not len(pubs):
        return
    known = pubs["reviewer_id"].isin(set(reviewers["reviewer_id"])).to_numpy(dtype=bool)
    counted = known & (publication_weights(pubs) > 0)
    repeated = repeated_publications(pubs)
    copies = np.flatnonzero(counted & repeated)
    if len(copies):
        first = pubs.iloc[copies[0]]
        log.warning("%d publication(s) repeat a work their reviewer already lists (the same title; first: %s, %s); "
                    "each work counts once in the reviewer's profile, at its largest weight", len(copies),
                    shown(first["reviewer_id"]), quoted(first["title"] or first["abstract"]))
    zero_only = sorted(set(pubs["reviewer_id"][known]) - set(pubs["reviewer_id"][counted]))
    if zero_only:
        log.warning("%d reviewer(s) have only publications of weight 0 (first: %s); they get no affinity and are not "
                    "assigned, and their bids are not used; give the publications that show their expertise a "
                    "weight above 0", len(zero_only), shown(zero_only[0]))
    if params.since is None:
        return
    known = counted
    keep = select_profiles(pubs, recent=params.recent, since=params.since, repeated=repeated) & known
    if not keep.any():
        return  # compute_affinity says that no publication is left at all
    lost = sorted(set(pubs["reviewer_id"][known]) - set(pubs["reviewer_id"][keep]))
    if lost:
        log.warning("%d reviewer(s) have no publication from %d or later (first: %s); they get no affinity and are "
                    "not assigned, and their bids are not used; lower --since to keep them", len(lost), params.since,
                    shown(lost[0]))


def publication_weights(pubs: pd.DataFrame) -> np.ndarray:
    """Each publication's weight (float64): its ``weight`` column, 1 where the table has none."""
    if "weight" not in pubs.columns:
        return np.ones(len(pubs))
    return pd.to_numeric(pubs["weight"], errors="coerce").fillna(1.0).to_numpy(dtype=np.float64)


def segments(owner_codes: np.ndarray, n_reviewers: int) -> tuple[np.ndarray, np.ndarray]:
    """(perm, ptr): publication rows grouped by reviewer; reviewer r owns ``perm[ptr[r]:ptr[r+1]]``."""
    perm = np.argsort(owner_codes, kind="stable")
    counts = np.bincount(owner_codes, minlength=n_reviewers) if len(owner_codes) else np.zeros(n_reviewers, int)
    ptr = np.zeros(n_reviewers + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return perm, ptr


def aggregate_segments(vals: np.ndarray, ptr: np.ndarray, how: Aggregate = Aggregate.max,
                       percentile: float = 75.0) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate a flat array of similarities over contiguous segments ``vals[ptr[i]:ptr[i+1]]``.

    Returns (score per segment, index into ``vals`` of the segment's largest value); empty
    segments score ``-inf`` with index -1.
    """
    n_seg = len(ptr) - 1
    counts = np.diff(ptr)
    score = np.full(n_seg, -np.inf, dtype=np.float32)
    best = np.full(n_seg, -1, dtype=np.int64)
    full = counts > 0
    if not full.any():
        return score, best
    vals = np.asarray(vals, dtype=np.float32)
    starts = ptr[:-1][full]
    cnt = counts[full]
    seg_of = np.repeat(np.arange(len(starts)), cnt)
    mx = np.maximum.reduceat(vals, starts)
    pos = np.arange(len(vals), dtype=np.int64)
    first = np.minimum.reduceat(np.where(vals == mx[seg_of], pos, len(vals)), starts)
    if how is Aggregate.max:
        s = mx
    elif how is Aggregate.mean:
        s = np.add.reduceat(vals.astype(np.float64), starts) / cnt
    else:
        order = np.lexsort((-vals, seg_of))  # by segment, then descending value
        sv = vals[order].astype(np.float64)
        rank = pos - np.repeat(starts, cnt)
        if how is Aggregate.topk:
            w = np.zeros(len(vals))
            for i, wi in enumerate(TOPK_WEIGHTS):
                w[rank == i] = wi
            s = np.add.reduceat(sv * w, starts) / np.add.reduceat(w, starts)
        elif how is Aggregate.percentile:
            at = (1.0 - percentile / 100.0) * (cnt - 1)  # position in descending order
            lo = np.floor(at).astype(np.int64)
            hi = np.ceil(at).astype(np.int64)
            frac = at - lo
            s = sv[starts + lo] * (1 - frac) + sv[starts + hi] * frac
        else:  # pragma: no cover - exhaustive over Aggregate
            raise ValueError(how)
    score[full] = s
    best[full] = first
    return score, best


def reweigh(vals: np.ndarray, weight: np.ndarray | float) -> np.ndarray:
    """Similarities of publications that carry a ``weight``, as openreview-expertise weighs them: the odds of
    ``(s + 1) / 2`` (the cosine scale -1..1 read as 0..1) times the weight. A weight of 1 changes nothing, 0.5
    halves the odds (0.5 -> 0.2, 0.8 -> 0.64), 2 doubles them; the order of a publication's similarities is kept.
    -1 and 1 stay as they are (a copy's cosine of 1 is not weighed down), and so does a similarity beyond them (the
    lexical blend, put back on the cosine scale, can score a near-copy above 1): a weight moves none of them."""
    s = np.asarray(vals, dtype=np.float64)
    inside = np.clip(s, -1.0, 1.0)
    up, down = np.asarray(weight, dtype=np.float64) * (1.0 + inside), 1.0 - inside  # the odds are up / down
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.abs(s) < 1.0, (up - down) / (up + down), s)
    return out.astype(np.float32)


def weighed(vals: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """``vals`` with :func:`reweigh` applied where ``weight`` (broadcast against them) is not 1."""
    if weight is None:
        return vals
    weight = np.broadcast_to(weight, vals.shape)
    other = weight != 1.0
    if not other.any():
        return vals
    out = np.array(vals, dtype=np.float32)
    out[other] = reweigh(out[other], weight[other])
    return out


def _bound(vals: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """An upper bound of the weighed similarities of publications whose plain similarity is at most ``vals``."""
    if weight is None:
        return vals
    return np.where(np.isfinite(vals), reweigh(vals, max(float(weight.max()), 1.0)), vals)


def _lexical_matrices(papers: pd.DataFrame, pubs: pd.DataFrame, params: LexicalParams, repeated: np.ndarray
                      ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The lexical vectors of the papers and of the publications, fitted on both but without the ``repeated`` copies
    of a work a reviewer lists twice (their rows are empty), so that a second copy changes no word weight."""
    from triage.ingest import paper_texts
    from triage.lexical import fit_transform

    counted = np.flatnonzero(~repeated)
    lp, le = fit_transform([paper_texts(papers), paper_texts(pubs.iloc[counted])], params)
    if len(counted) < len(pubs):
        import scipy.sparse as sp

        le = sp.csr_matrix((np.ones(len(counted), dtype=le.dtype), (counted, np.arange(len(counted)))),
                           shape=(len(pubs), len(counted))) @ le
    return lp, le


def blend_weight(P: np.ndarray, E: np.ndarray, LP: sp.csr_matrix | None, LE: sp.csr_matrix | None,
                 share: float, *, n_pairs: int = 20_000, seed: int = 0) -> float:
    """Mixing weight w of ``(1 - w) * dense + w * lexical`` that gives lexical ``share`` of the spread."""
    return blend_calibration(P, E, LP, LE, share, n_pairs=n_pairs, seed=seed)[0]


def bottom_k(keys: list[str], k: int) -> np.ndarray:
    """Rows of the ``k`` keys with the smallest hash: a sample that adding a few keys barely changes (each new
    key displaces at most one), unlike a random draw over row numbers."""
    import hashlib

    h = np.fromiter((int.from_bytes(hashlib.blake2b(x.encode(), digest_size=8).digest(), "big") for x in keys),
                    dtype=np.uint64, count=len(keys))
    return np.sort(np.argsort(h, kind="stable")[:k])


def blend_calibration(P: np.ndarray, E: np.ndarray, LP: sp.csr_matrix | None, LE: sp.csr_matrix | None,
                      share: float, *, n_pairs: int = 20_000, seed: int = 0, paper_keys: list[str] | None = None,
                      pub_keys: list[str] | None = None) -> tuple[float, float, float]:
    """(w, scale, shift): a similarity is ``scale * ((1 - w) * dense + w * lexical) + shift``.

    Dense and lexical cosines live on different scales (on COLT abstracts their standard
    deviations over random pairs differ about fourfold), so a fixed w would mean different
    things on different corpora: w gives the lexical part ``share`` of the spread instead.
    ``scale`` and ``shift`` then put the blend back on the embedding-cosine scale (same mean and
    spread over random pairs), so thresholds on scores keep their meaning. All three are
    measured on a seeded sample of the run's (paper, publication) pairs and are constants of
    the run; they change no ranking and keep a reviewer's scores comparable across papers.
    With ``paper_keys`` and ``pub_keys`` (ids, one per row) the sample is every pair of the 400 papers
    and 1,000 publications whose keys hash lowest, so late submissions barely move the constants
    (a random draw over row numbers would draw other pairs, and move every score by a few percent).
    """
    if share <= 0 or LP is None or LE is None or E.shape[0] == 0 or P.shape[0] == 0:
        return 0.0, 1.0, 0.0
    if paper_keys is not None and pub_keys is not None:
        si, sj = bottom_k(paper_keys, 400), bottom_k(pub_keys, 1000)
        dense = (np.asarray(P[si], dtype=np.float32) @ np.asarray(E[sj], dtype=np.float32).T).astype(np.float64).ravel()
        lex = np.asarray((LP[si] @ LE[sj].T).toarray(), dtype=np.float64).ravel()
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, P.shape[0], n_pairs)
        j = rng.integers(0, E.shape[0], n_pairs)
        dense = np.einsum("nd,nd->n", P[i], E[j]).astype(np.float64)
        lex = np.asarray(LP[i].multiply(LE[j]).sum(axis=1), dtype=np.float64).ravel()
    sd, sl = float(dense.std()), float(lex.std())
    if sl <= 1e-9:
        return 0.0, 1.0, 0.0
    w = 1.0 if share >= 1 or sd <= 1e-9 else share * sd / (share * sd + (1 - share) * sl)
    blend = (1 - w) * dense + w * lex
    sb = float(blend.std())
    if sd <= 1e-9 or sb <= 1e-9:
        return w, 1.0, 0.0
    scale = sd / sb
    return w, scale, float(dense.mean() - scale * blend.mean())


def _rows_dot(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Dense ``a @ b.T`` for two small sparse blocks."""
    return np.asarray((a @ b.T).toarray(), dtype=np.float32)


def score_all_pairs(P: np.ndarray, E: np.ndarray, ptr: np.ndarray, params: AffinityParams,
                    LP: sp.csr_matrix | None = None, LE: sp.csr_matrix | None = None,
                    calib: tuple[float, float, float] | None = None, weight: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (paper row, reviewer row) pair with a profile: (paper, reviewer, score, evidence pub row).

    ``E`` (and ``LE``, ``weight``: each publication's weight, None for all 1) must be sorted by reviewer so that
    ``ptr`` delimits each profile.
    """
    n_pubs, n_rev = E.shape[0], len(ptr) - 1
    w, a, c = calib or blend_calibration(P, E, LP, LE, params.lexical_weight)
    out_p, out_r, out_s, out_e = [], [], [], []
    for s in range(0, P.shape[0], BLOCK):
        V = P[s:s + BLOCK] @ E.T
        if w:
            V = a * ((1 - w) * V + w * _rows_dot(LP[s:s + BLOCK], LE)) + c
        V = weighed(V, None if weight is None else weight[None, :])
        b = V.shape[0]
        flat_ptr = (np.arange(b)[:, None] * n_pubs + ptr[None, :-1]).ravel()
        flat_ptr = np.append(flat_ptr, b * n_pubs)
        sc, best = aggregate_segments(V.ravel(), flat_ptr, params.aggregate, params.percentile)
        ok = np.isfinite(sc)
        idx = np.flatnonzero(ok)
        out_p.append(s + idx // n_rev)
        out_r.append(idx % n_rev)
        out_s.append(sc[ok])
        out_e.append(best[ok] % n_pubs)
    return _cat(out_p, out_r, out_s, out_e)


def _pair_dots(A: sp.csr_matrix, B: sp.csr_matrix, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """``(A[ia] * B[ib]).sum(1)``: the dot product of each listed pair of sparse rows.

    ``ia`` holds few distinct rows (one block of papers), so each of them is made dense over the
    whole vocabulary once and the rows of ``B`` paired with it are one sparse matrix-vector product.
    """
    out = np.zeros(len(ia), dtype=np.float32)
    if len(ia) == 0:
        return out
    order = np.argsort(ia, kind="stable") if (np.diff(ia) < 0).any() else None
    a_sorted = ia if order is None else ia[order]
    b_sorted = ib if order is None else ib[order]
    starts = np.flatnonzero(np.r_[True, a_sorted[1:] != a_sorted[:-1]])
    ends = np.r_[starts[1:], len(a_sorted)]
    x = np.zeros(A.shape[1], dtype=np.float32)
    vals = np.empty(len(a_sorted), dtype=np.float32)
    for s, e in zip(starts.tolist(), ends.tolist()):
        lo, hi = A.indptr[a_sorted[s]], A.indptr[a_sorted[s] + 1]
        cols = A.indices[lo:hi]
        x[cols] = A.data[lo:hi]
        vals[s:e] = B[b_sorted[s:e]] @ x
        x[cols] = 0.0
    if order is None:
        return vals
    out[order] = vals
    return out


def score_top_k(P: np.ndarray, E: np.ndarray, ptr: np.ndarray, params: AffinityParams, top_k: int,
                LP: sp.csr_matrix | None = None, LE: sp.csr_matrix | None = None,
                calib: tuple[float, float, float] | None = None, closest: ClosestPapers | None = None,
                weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each paper's ``top_k`` reviewers: candidates by their closest publication, then exact scores.

    Every aggregate is at most the reviewer's closest publication (weighed by the largest weight), so with
    embeddings alone the candidate list grows until no reviewer left out could still enter the top k (exact). With
    the lexical blend the candidates are the ``2 * top_k + 20`` closest by embeddings. ``closest``
    is given each block's closest publications, so the reviewers' side needs no search of its own.
    """
    counts = np.diff(ptr)
    active = np.flatnonzero(counts > 0)
    n_act = len(active)
    w, scale, shift = calib or blend_calibration(P, E, LP, LE, params.lexical_weight)
    out_p, out_r, out_s, out_e = [], [], [], []
    for s in range(0, P.shape[0], BLOCK):
        D = P[s:s + BLOCK] @ E.T  # (b, n_pubs)
        b = D.shape[0]
        mx = np.maximum.reduceat(D, ptr[active], axis=1)  # (b, n_act): closest publication per reviewer
        if closest is not None:
            closest.add(s, mx)
        order = np.argsort(-mx, axis=1, kind="stable")
        n_cand = min(n_act, 2 * top_k + 20)
        while True:
            rev = active[order[:, :n_cand]].ravel()  # (b * n_cand,)
            row = np.repeat(np.arange(b), n_cand)
            c = counts[rev]
            pair_ptr = np.zeros(len(rev) + 1, dtype=np.int64)
            np.cumsum(c, out=pair_ptr[1:])
            entry_row = np.repeat(row, c)
            entry_pub = np.repeat(ptr[rev], c) + (np.arange(pair_ptr[-1]) - np.repeat(pair_ptr[:-1], c))
            vals = D[entry_row, entry_pub]
            if w:
                vals = scale * ((1 - w) * vals + w * _pair_dots(LP, LE, s + entry_row, entry_pub)) + shift
            vals = weighed(vals, None if weight is None else weight[entry_pub])
            sc, best = aggregate_segments(vals, pair_ptr, params.aggregate, params.percentile)
            sc = sc.reshape(b, n_cand)
            keep = min(top_k, n_cand)
            top = np.argsort(-sc, axis=1, kind="stable")[:, :keep]
            if w or n_cand >= n_act or (params.aggregate is Aggregate.max and weight is None):
                break
            kth = np.take_along_axis(sc, top[:, -1:], axis=1)[:, 0]
            bound = _bound(np.take_along_axis(mx, order[:, n_cand:n_cand + 1], axis=1)[:, 0], weight)
            if (bound < kth).all():
                break
            n_cand = min(n_act, 2 * n_cand)
        pick = (np.arange(b)[:, None] * n_cand + top).ravel()
        out_p.append(s + row[pick])
        out_r.append(rev[pick])
        out_s.append(sc.ravel()[pick])
        out_e.append(entry_pub[best[pick]])
    return _cat(out_p, out_r, out_s, out_e)


def score_pairs(P: np.ndarray, E: np.ndarray, ptr: np.ndarray, params: AffinityParams, pi: np.ndarray,
                ri: np.ndarray, LP: sp.csr_matrix | None = None, LE: sp.csr_matrix | None = None,
                calib: tuple[float, float, float] | None = None, weight: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The exact scores of the listed (paper row, reviewer row) pairs, as the other paths give them;
    pairs whose reviewer has no profile are left out."""
    counts = np.diff(ptr)
    has = counts[ri] > 0
    pi, ri = np.asarray(pi, dtype=np.int64)[has], np.asarray(ri, dtype=np.int64)[has]
    if not len(pi):
        return _cat([], [], [], [])
    c = counts[ri]
    pair_ptr = np.zeros(len(ri) + 1, dtype=np.int64)
    np.cumsum(c, out=pair_ptr[1:])
    entry_row = np.repeat(pi, c)
    entry_pub = np.repeat(ptr[ri], c) + (np.arange(pair_ptr[-1]) - np.repeat(pair_ptr[:-1], c))
    vals = np.einsum("ij,ij->i", P[entry_row], E[entry_pub]).astype(np.float32)
    w, scale, shift = calib or blend_calibration(P, E, LP, LE, params.lexical_weight)
    if w:
        vals = scale * ((1 - w) * vals + w * _pair_dots(LP, LE, entry_row, entry_pub)) + shift
    vals = weighed(vals, None if weight is None else weight[entry_pub])
    sc, best = aggregate_segments(vals, pair_ptr, params.aggregate, params.percentile)
    return _cat([pi], [ri], [sc], [entry_pub[best]])


class ClosestPapers:
    """For each reviewer with a profile, the ``k`` papers closest to one of their publications, gathered from the
    blocks of papers that :func:`score_top_k` computes anyway (its ``mx``), so finding them costs no search."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.val = np.zeros((0, 0), dtype=np.float32)  # (reviewers, <= k + 1): the closest so far, in no order
        self.idx = np.zeros((0, 0), dtype=np.int64)  # their paper rows

    def add(self, start: int, mx: np.ndarray) -> None:
        """``mx`` (papers ``start ..`` of a block, reviewers with a profile): each one's closest publication."""
        b, n = mx.shape
        val = mx.T if not self.val.size else np.concatenate([self.val, mx.T], axis=1)
        rows = np.broadcast_to(np.arange(start, start + b, dtype=np.int64), (n, b))
        idx = rows if not self.idx.size else np.concatenate([self.idx, rows], axis=1)
        if val.shape[1] > self.k + 1:
            part = np.argpartition(-val, self.k, axis=1)[:, :self.k + 1]
            val, idx = np.take_along_axis(val, part, axis=1), np.take_along_axis(idx, part, axis=1)
        self.val, self.idx = np.ascontiguousarray(val), np.ascontiguousarray(idx)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(paper rows, bound): each reviewer's ``k`` closest papers (closest first), and the closeness of the
        next one (``-inf`` when no paper is left)."""
        order = np.lexsort((self.idx, -self.val), axis=1)
        val, idx = np.take_along_axis(self.val, order, axis=1), np.take_along_axis(self.idx, order, axis=1)
        k = min(self.k, idx.shape[1])
        bound = val[:, k] if idx.shape[1] > k else np.full(len(val), -np.inf, dtype=np.float32)
        return idx[:, :k], bound


def closest_papers(P: np.ndarray, E: np.ndarray, ptr: np.ndarray, revs: np.ndarray, k: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """As :meth:`ClosestPapers.result` for the reviewer rows ``revs`` (each with a profile), searched directly:
    exact brute force, blocks of their publications against every paper (BLAS)."""
    counts = np.diff(ptr)[revs]
    cum = np.cumsum(counts)
    cuts = np.searchsorted(cum, np.arange(PUB_BLOCK, cum[-1] if len(cum) else 0, PUB_BLOCK), "right")
    cand, bound = [], []
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(revs)]):
        if lo >= hi:
            continue
        c = counts[lo:hi]
        local = np.zeros(len(c), dtype=np.int64)
        np.cumsum(c[:-1], out=local[1:])
        rows = np.repeat(ptr[revs[lo:hi]], c) + (np.arange(c.sum()) - np.repeat(local, c))
        found = ClosestPapers(k)
        found.add(0, np.maximum.reduceat(E[rows] @ P.T, local, axis=0).T)  # (papers, reviewers): closest publication
        ci, bi = found.result()
        cand.append(ci)
        bound.append(bi)
    return np.concatenate(cand), np.concatenate(bound)


def score_reviewer_top_k(P: np.ndarray, E: np.ndarray, ptr: np.ndarray, params: AffinityParams, n: int,
                         LP: sp.csr_matrix | None = None, LE: sp.csr_matrix | None = None,
                         calib: tuple[float, float, float] | None = None, closest: ClosestPapers | None = None,
                         weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each reviewer's ``n`` best papers: candidates by the reviewer's closest publication, then exact scores.

    The first candidates come from ``closest`` (fed by :func:`score_top_k`, with ``k = 2 * n + 20``), else from
    :func:`closest_papers`. As in :func:`score_top_k`, with embeddings alone the candidate list grows until no
    paper left out could still enter the reviewer's best ``n`` (exact); with the lexical blend the candidates are
    the ``2 * n + 20`` closest by embeddings. Scores come from :func:`score_pairs`; equal scores fall by paper row.
    """
    n_pap = P.shape[0]
    calib = calib or blend_calibration(P, E, LP, LE, params.lexical_weight)
    todo = np.flatnonzero(np.diff(ptr) > 0)
    n_cand = 2 * n + 20
    out_p, out_r, out_s, out_e = [], [], [], []
    while len(todo):
        if closest is not None:
            cand, bound = closest.result()
            closest = None
        else:
            cand, bound = closest_papers(P, E, ptr, todo, n_cand)
        cand = np.sort(cand, axis=1)  # by paper row, so that equal scores fall by paper row
        pi, ri = cand.ravel(), np.repeat(todo, cand.shape[1])
        order = np.argsort(pi, kind="stable")  # by paper, so that each score_pairs call sees few distinct papers
        cum = np.cumsum(np.diff(ptr)[ri[order]])
        cuts = np.searchsorted(cum, np.arange(PAIR_ENTRIES, cum[-1], PAIR_ENTRIES), "right")
        sc, ev = np.zeros(len(pi), dtype=np.float32), np.zeros(len(pi), dtype=np.int64)
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(order)]):
            if lo < hi:  # in slices, so that the gathered vectors stay small
                sel = order[lo:hi]
                _, _, sc[sel], ev[sel] = score_pairs(P, E, ptr, params, pi[sel], ri[sel], LP, LE, calib, weight)
        sc2 = sc.reshape(len(todo), -1)
        top = np.argsort(-sc2, axis=1, kind="stable")[:, :n]
        kth = np.take_along_axis(sc2, top[:, -1:], axis=1)[:, 0]
        exact = bool(calib[0]) or cand.shape[1] >= n_pap or (params.aggregate is Aggregate.max and weight is None)
        done = np.ones(len(todo), dtype=bool) if exact else _bound(bound, weight) < kth
        pick = (np.flatnonzero(done)[:, None] * sc2.shape[1] + top[done]).ravel()
        out_p.append(pi[pick])
        out_r.append(ri[pick])
        out_s.append(sc[pick])
        out_e.append(ev[pick])
        todo = todo[~done]
        n_cand *= 2
    return _cat(out_p, out_r, out_s, out_e)


def _cat(*parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    p, r, s, e = (np.concatenate(x) if x else np.zeros(0) for x in parts)
    return p.astype(np.int64), r.astype(np.int64), s.astype(np.float32), e.astype(np.int64)


def compute_affinity(
    papers: pd.DataFrame,
    paper_emb: np.ndarray,
    pubs: pd.DataFrame,
    pub_emb: np.ndarray,
    reviewers: pd.DataFrame,
    *,
    params: AffinityParams = AffinityParams(),
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Long table ``paper_id, reviewer_id, score, evidence_id, evidence_title``.

    Rows are sorted by paper (input order) then score (descending) then reviewer id.
    Reviewers with no (selected) publications get no rows. With ``top_k``, ``reviewer_top_k`` adds each
    reviewer's best papers to each paper's best reviewers. ``pairs`` (``paper_id, reviewer_id``):
    score exactly these pairs (e.g. earlier assignments outside the top-k), not each paper's top-k.
    """
    if paper_emb.shape[0] != len(papers) or pub_emb.shape[0] != len(pubs):
        raise InputError("embeddings do not match the tables; rerun 'triage embed'")
    if params.top_k is not None and params.top_k < 1:
        raise InputError(f"--top-k {params.top_k}: must be at least 1")
    if params.reviewer_top_k < 0:
        raise InputError(f"--reviewer-top-k {params.reviewer_top_k}: must be 0 (off) or more")
    if not 0.0 <= params.lexical_weight <= 1.0:
        raise InputError(f"--lexical-weight {params.lexical_weight}: must be between 0 and 1")
    if not 0.0 <= params.percentile <= 100.0:
        raise InputError(f"--percentile {params.percentile}: must be between 0 and 100")
    # Reviewers by id and each one's publications by title, so that ties (co-authors sharing a publication score
    # alike) fall the same way whatever the order of the reviewers and publications files.
    rev_ids = sorted(reviewers["reviewer_id"])
    code = {r: i for i, r in enumerate(rev_ids)}
    pubs = pubs.reset_index(drop=True).sort_values(["reviewer_id", "title", "pub_id"], kind="stable")
    canon = pubs.index.to_numpy()
    pubs = pubs.reset_index(drop=True)
    pub_emb = np.asarray(pub_emb)  # row canon[i] is the vector of pubs' row i (no copy: 460 MB at 300k)
    owner = np.array([code.get(r, -1) for r in pubs["reviewer_id"]], dtype=np.int64)
    repeated = repeated_publications(pubs)
    keep = select_profiles(pubs, recent=params.recent, since=params.since, repeated=repeated) & (owner >= 0)
    if params.since is not None and ((owner >= 0) & (publication_weights(pubs) > 0)).any() and not keep.any():
        newest = pd.to_numeric(pubs["year"], errors="coerce").max()
        raise InputError(f"--since {params.since}: no reviewer publication is from {params.since} or later (the newest "
                         f"is from {'no known year' if pd.isna(newest) else int(newest)}); lower --since")
    if len(papers) == 0 or not keep.any() or not rev_ids:
        return pd.DataFrame(columns=AFFINITY_COLUMNS)
    LP = LE = None
    if params.lexical_weight > 0:
        LP, LE_all = _lexical_matrices(papers, pubs, params.lexical, repeated)  # fitted on the whole run's corpus
        LE = LE_all[np.flatnonzero(keep)]
    rows = np.flatnonzero(keep)
    P = np.ascontiguousarray(paper_emb, dtype=np.float32)
    # Measured in input order, so the blend does not depend on the order of the reviewers file.
    pub_keys = [f"{r}\x00{i}\x00{t}" for r, i, t in zip(pubs["reviewer_id"].to_numpy()[rows],
                                                      pubs["pub_id"].to_numpy()[rows], pubs["title"].to_numpy()[rows])]
    calib = blend_calibration(P, pub_emb[canon[rows]], LP, LE, params.lexical_weight,
                              paper_keys=papers["paper_id"].astype(str).tolist(), pub_keys=pub_keys)
    perm, ptr = segments(owner[rows], len(rev_ids))
    rows = rows[perm]  # publication table row of each sorted entry
    E = np.ascontiguousarray(pub_emb[canon[rows]], dtype=np.float32)
    if LE is not None:
        LE = LE[perm]
    weight = publication_weights(pubs)[rows]
    weight = None if (weight == 1.0).all() else weight
    if pairs is not None:
        row_of = {pid: i for i, pid in enumerate(papers["paper_id"])}
        pi = np.array([row_of.get(x, -1) for x in pairs["paper_id"]], dtype=np.int64)
        ri = np.array([code.get(x, -1) for x in pairs["reviewer_id"]], dtype=np.int64)
        known = (pi >= 0) & (ri >= 0)
        p, r, s, e = score_pairs(P, E, ptr, params, pi[known], ri[known], LP, LE, calib, weight)
    elif params.top_k is None:
        p, r, s, e = score_all_pairs(P, E, ptr, params, LP, LE, calib, weight)
    else:
        closest = ClosestPapers(2 * params.reviewer_top_k + 20) if params.reviewer_top_k else None
        p, r, s, e = score_top_k(P, E, ptr, params, params.top_k, LP, LE, calib, closest, weight)
        if closest is not None:
            rp, rr, rs, rv = score_reviewer_top_k(P, E, ptr, params, params.reviewer_top_k, LP, LE, calib, closest,
                                                  weight)
            new = ~np.isin(rp * len(rev_ids) + rr, p * len(rev_ids) + r)  # a pair both ways keeps the paper's row
            p, r, s, e = _cat([p, rp[new]], [r, rr[new]], [s, rs[new]], [e, rv[new]])
    ok = np.isfinite(s)
    p, r, s, e = p[ok], r[ok], s[ok], rows[e[ok]]
    out = pd.DataFrame({
        "paper_id": papers["paper_id"].to_numpy()[p],
        "reviewer_id": np.asarray(rev_ids, dtype=object)[r],
        "score": np.round(s.astype(np.float64), 4),
        "evidence_id": pubs["pub_id"].to_numpy()[e],
        "evidence_title": pubs["title"].to_numpy()[e],
        "_p": p,
    })
    out = out.sort_values(["_p", "score", "reviewer_id"], ascending=[True, False, True], kind="stable")
    return out.drop(columns="_p").reset_index(drop=True)


__all__ = ["AFFINITY_COLUMNS", "Aggregate", "AffinityParams", "ClosestPapers", "LexicalParams", "Weighting",
           "aggregate_segments", "blend_calibration", "blend_weight", "bottom_k", "closest_papers", "compute_affinity",
           "publication_weights", "reweigh", "score_all_pairs", "score_pairs", "score_reviewer_top_k", "score_top_k",
           "repeated_publications", "segments", "select_profiles", "weighed", "work_keys"]
