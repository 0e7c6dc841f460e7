"""Discovered topics: spherical k-means (faiss, seeded) labelled with class-based TF-IDF terms."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from triage.errors import InputError
from triage.ingest import paper_texts
from triage.match import weighed


@dataclass(frozen=True)
class ClusterParams:
    k: int | None = None  # None: automatic (see auto_k)
    seed: int = 0
    n_terms: int = 4


def auto_k(n: int) -> int:
    """Number of clusters when the chair does not give --k.

    About sqrt(n/2) clusters (a common rule of thumb for k-means), so that a cluster holds
    roughly sqrt(2n) papers: 16 clusters of ~30 papers for 500 submissions, 77 of ~150 for
    12,000. Capped at 100 so that the report stays readable, and never more than n.
    """
    if n <= 2:
        return max(n, 1)
    return int(min(n, 100, max(2, round(math.sqrt(n / 2)))))


def kmeans(emb: np.ndarray, k: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means with faiss. Returns (labels, centroids); deterministic for a seed."""
    import faiss

    x = np.ascontiguousarray(emb, dtype=np.float32)
    n, d = x.shape
    if k == 1 or n <= 1:
        c = x.mean(axis=0, keepdims=True)
        c /= max(np.linalg.norm(c), 1e-12)
        return np.zeros(n, dtype=np.int64), c.astype(np.float32)
    km = faiss.Kmeans(d, k, niter=25, nredo=3, spherical=True, seed=seed, verbose=False,
                      max_points_per_centroid=100_000, min_points_per_centroid=1)
    km.train(x)
    _, labels = km.index.search(x, 1)
    return labels[:, 0].astype(np.int64), np.asarray(km.centroids, dtype=np.float32)


def _centroids(x: np.ndarray, labels: np.ndarray, k: int, before: np.ndarray | None = None) -> np.ndarray:
    """Unit-length mean of each cluster's vectors; a cluster without papers keeps ``before``'s row (else 0)."""
    import scipy.sparse as sp

    c = np.zeros((k, x.shape[1]), dtype=np.float32) if before is None else np.array(before, dtype=np.float32)
    onehot = sp.csr_matrix((np.ones(len(labels), dtype=np.float64), (labels, np.arange(len(labels)))),
                           shape=(k, len(labels)))
    sums = np.asarray(onehot @ x.astype(np.float64))
    full = np.bincount(labels, minlength=k) > 0
    norms = np.maximum(np.linalg.norm(sums[full], axis=1, keepdims=True), 1e-12)
    c[full] = (sums[full] / norms).astype(np.float32)
    return c


def refine(x: np.ndarray, centroids: np.ndarray, *, max_iter: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means steps from ``centroids`` until no paper moves: (labels, centroids), a fixed point,
    so that starting again from these centroids on the same vectors gives the same labels. (Each step lowers
    the objective, so it ends; ``max_iter`` only guards against float ties cycling.)"""
    x = np.ascontiguousarray(x, dtype=np.float32)
    c = np.asarray(centroids, dtype=np.float32)
    labels = np.argmax(x @ c.T, axis=1).astype(np.int64)
    for _ in range(max_iter):
        c = _centroids(x, labels, c.shape[0], c)
        new = np.argmax(x @ c.T, axis=1).astype(np.int64)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels, c


def _grow(x: np.ndarray, centroids: np.ndarray, k: int) -> np.ndarray:
    """``centroids`` and, up to ``k``, new ones at the papers farthest from every centroid so far: the
    earlier clusters keep their numbers and the new ones come after."""
    out = [c for c in centroids]
    best = (x @ centroids.T).max(axis=1) if len(out) else np.full(len(x), -np.inf)
    while len(out) < k:
        i = int(np.argmin(best))
        out.append(x[i] / max(float(np.linalg.norm(x[i])), 1e-12))
        best = np.maximum(best, x @ out[-1])
    return np.array(out, dtype=np.float32)


def _stable_renumber(labels: np.ndarray, paper_ids: list[str]) -> np.ndarray:
    """Renumber clusters by size (largest first), ties by their smallest paper id."""
    order = sorted(
        set(labels.tolist()),
        key=lambda c: (-int((labels == c).sum()), min(pid for pid, lab in zip(paper_ids, labels) if lab == c)),
    )
    remap = {old: new for new, old in enumerate(order)}
    return np.array([remap[c] for c in labels.tolist()], dtype=np.int64)


def strip_latex(text: str) -> str:
    """Drop math and LaTeX commands so that labels are made of words ('mathcal' is not a topic)."""
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.DOTALL)
    return re.sub(r"\\[A-Za-z]+", " ", text)


# Phrases end at punctuation; a bigram is two adjacent words of one phrase, neither a stop word.
_PHRASE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"<>=/|]+|\s-+\s")
_WORD = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z-]+\b")
_CITATION_WORDS = frozenset({"et", "al"})  # "et al." is a citation, not a topic


def _label_terms(doc: str) -> list[str]:
    """Words and bigrams of one document for the labels (lower case; ingest has decoded its HTML entities)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    out: list[str] = []
    for phrase in _PHRASE_BREAK.split(doc.lower()):
        run: list[str] = []
        for word in [*_WORD.findall(phrase), ""]:
            if word and word not in ENGLISH_STOP_WORDS and word not in _CITATION_WORDS:
                run.append(word)
                continue
            out += run + [f"{a} {b}" for a, b in zip(run, run[1:])]
            run = []
    return out


def _overlap(a: str, b: str) -> bool:
    """Two terms share a word (or a part of a hyphenated word), a plural 's' or 'es' aside."""
    def words(term: str) -> set[str]:
        return set(term.split()) | {p for w in term.split() for p in w.split("-") if p}
    return any(u == v or u in (v + "s", v + "es") or v in (u + "s", u + "es") for u in words(a) for v in words(b))


def _ranked(row: np.ndarray, vocab: np.ndarray, index: dict[str, int], n: int) -> list[str]:
    """About the ``n`` best-scoring terms of one cluster, best first. A bigram takes the place of its better
    word when it scores at least half as much (its count never exceeds its words', so on raw scores the single
    word would always come first); the word then comes right after it."""
    top = [int(t) for t in np.argsort(-row, kind="stable")[:n] if row[t] > 0]
    rank = []
    for pos, t in enumerate(top):
        term = str(vocab[t])
        score = float(row[t])
        if " " in term:
            best = max(float(row[index[w]]) if w in index else 0.0 for w in term.split())
            if score >= 0.5 * best:
                score = max(score, best)
        rank.append((-score, " " not in term, pos, term))
    return [term for *_, term in sorted(rank)]


def _pick_terms(ranked: list[str], n_terms: int, skip: frozenset[str]) -> list[str]:
    """The first ``n_terms`` of ``ranked`` not in ``skip``, none sharing a word with one chosen before."""
    terms: list[str] = []
    for term in ranked:
        if term not in skip and not any(_overlap(term, chosen) for chosen in terms):
            terms.append(term)
            if len(terms) == n_terms:
                break
    return terms


def ctfidf_labels(docs: list[str], labels: np.ndarray, *, n_terms: int = 4) -> dict[int, list[str]]:
    """Top terms per cluster by class-based TF-IDF (BERTopic's c-TF-IDF), words and two-word phrases.

    Terms that are among the top ``2 * n_terms`` of a quarter or more of the clusters (and at least two), or
    that would be in as many labels, describe the venue rather than a cluster ('learning' at ICLR) and are left
    out."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    classes = sorted(set(labels.tolist()))
    pos = {c: i for i, c in enumerate(classes)}
    try:
        vec = CountVectorizer(analyzer=_label_terms)
        per_doc = vec.fit_transform(docs)
    except ValueError:
        return {c: [] for c in classes}
    rows = [pos[c] for c in labels.tolist()]
    onehot = sp.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(classes), len(rows)))
    # A term of a single paper is no topic (a name, a typo); with a few clusters, every term counts.
    min_df = 2 if len(classes) > 3 else 1
    keep = np.flatnonzero(np.diff(per_doc.tocsc().indptr) >= min_df)
    if len(keep) == 0:
        return {c: [] for c in classes}
    counts = (onehot @ per_doc[:, keep]).tocsr()
    vocab = np.array(vec.get_feature_names_out())[keep]
    index = {str(t): i for i, t in enumerate(vocab)}
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    freq = np.asarray(counts.sum(axis=0)).ravel()
    avg_words = counts.sum() / len(classes)
    idf = np.log(1.0 + avg_words / np.maximum(freq, 1))
    scores = tf.multiply(idf).tocsr()
    ranked = [_ranked(scores.getrow(i).toarray().ravel(), vocab, index, 10 * n_terms) for i in range(len(classes))]
    seen: dict[str, int] = {}
    for terms in ranked:
        for term in terms[: 2 * n_terms]:
            seen[term] = seen.get(term, 0) + 1
    many = max(2, len(classes) / 4)
    generic = frozenset(t for t, n in seen.items() if n >= many)
    for _ in range(5):  # a term the labels would still share (lifted past the window by two-word terms) goes too
        picks = [_pick_terms(terms, n_terms, generic) for terms in ranked]
        shared = pd.Series([t for chosen in picks for t in chosen], dtype=object).value_counts()
        more = frozenset(shared.index[shared >= many]) - generic
        if not more:
            break
        generic |= more
    return {c: _pick_terms(terms, n_terms, generic) for c, terms in zip(classes, ranked)}


def cluster_papers(papers: pd.DataFrame, emb: np.ndarray, *, params: ClusterParams = ClusterParams(),
                   previous: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Cluster submissions. Returns (frame with paper_id, cluster_id, cluster_label, centroid_sim; centroids).

    ``previous``: the centroids of an earlier run (late submissions added, some withdrawn). k-means starts
    from them and cluster j stays number j, so a paper keeps its cluster id unless it moved. With an
    automatic k, the earlier number of clusters stays while the rule's k is within 10% of it (or 1); when
    more clusters are wanted, the new ones start at the papers farthest from every earlier cluster; fewer
    than before: the clusters are drawn afresh. Either way they are refined to a fixed point, so the same
    submissions again give the same clusters."""
    n = len(papers)
    if emb.shape[0] != n:
        raise InputError(f"embeddings have {emb.shape[0]} rows but there are {n} papers; rerun 'triage embed'")
    if n == 0:
        return pd.DataFrame(columns=["paper_id", "cluster_id", "cluster_label", "centroid_sim"]), np.zeros((0, 0))
    k = params.k if params.k is not None else auto_k(n)
    if (params.k is None and previous is not None and previous.shape[0] >= 1
            and abs(k - previous.shape[0]) <= max(1, previous.shape[0] // 10)):
        k = min(previous.shape[0], n)  # a few late papers do not change the number of clusters
    if k < 1:
        raise InputError(f"--k {k}: must be at least 1")
    if k > n:
        raise InputError(f"--k {k} is larger than the number of papers ({n}); pass a smaller --k")
    ids = papers["paper_id"].tolist()
    x = np.ascontiguousarray(emb, dtype=np.float32)
    if previous is not None and previous.shape[1] == x.shape[1] and 1 <= previous.shape[0] <= k:
        labels, centroids = refine(x, _grow(x, np.asarray(previous, dtype=np.float32), k))
    else:
        # k-means seeds from row positions: run it in paper-id order, so the same papers in another row order
        # (an export downloaded again) get the same clusters.
        order = np.argsort(np.array(ids, dtype=object), kind="stable")
        raw = np.empty(n, dtype=np.int64)
        raw[order] = kmeans(x[order], k, seed=params.seed)[0]
        labels = _stable_renumber(raw, ids)  # then refined to a fixed point, in the stable numbering
        start = _centroids(x, labels, int(labels.max()) + 1)
        labels, centroids = refine(x, _grow(x, start, k))  # k rows even if k-means left a cluster empty
    sims = np.einsum("ij,ij->i", x, centroids[labels])
    docs = [strip_latex(t) for t in paper_texts(papers)]
    terms = ctfidf_labels(docs, labels, n_terms=params.n_terms)
    names = {c: ", ".join(t) if t else f"cluster {c}" for c, t in terms.items()}
    out = pd.DataFrame({
        "paper_id": ids,
        "cluster_id": labels,
        "cluster_label": [names[c] for c in labels.tolist()],
        "centroid_sim": np.round(sims.astype(np.float64), 4),
    })
    return out, centroids


# ---------------------------------------------------------------------------------------------
# Supply: submissions per area / theory topic against qualified reviewers
# ---------------------------------------------------------------------------------------------
SUPPLY_COLUMNS = ["kind", "topic", "submissions", "qualified_reviewers", "slots_needed", "slots_available",
                  "papers_short", "shortage"]


@dataclass(frozen=True)
class SupplyParams:
    # A reviewer is close to a paper when their closest publication has this cosine with it or more (not the
    # match stage's blended affinity). On the COLT 2023-24 authorship proxy, 0.55 holds for 51% of (paper,
    # its author's other papers) pairs and for 11% of random pairs of the same venue.
    qualified_affinity: float = 0.55
    # A reviewer qualifies for a topic when at least this share of the papers they are close to are
    # in it (and at least one): the topic is one of theirs, whatever its size.
    qualified_share: float = 0.25
    # A topic is short when more than this share of its papers have fewer close reviewers than each needs.
    short_share: float = 0.25
    per_paper: int = 3
    max_load: int = 6  # for reviewers without their own max_load


def reviewer_paper_qualified(paper_emb: np.ndarray, pub_emb: np.ndarray, pub_owner: np.ndarray, n_reviewers: int,
                             *, threshold: float, block: int = 256, pub_weight: np.ndarray | None = None
                             ) -> np.ndarray:
    """(papers, reviewers) booleans: the reviewer's best publication has cosine >= threshold with the paper.

    The scale is the plain cosine of the closest publication (``Aggregate.max`` with no lexical share), not
    the match stage's default affinity (a top-3 mean blended with BM25, :mod:`triage.match`); publications
    that carry a ``pub_weight`` other than 1 are weighed as the match stage weighs them (:func:`triage.match.reweigh`).
    Computed in blocks so memory stays at block x publications.
    """
    n = paper_emb.shape[0]
    out = np.zeros((n, n_reviewers), dtype=bool)
    if n == 0 or pub_emb.shape[0] == 0 or n_reviewers == 0:
        return out
    x = np.asarray(paper_emb, dtype=np.float32)
    pubs = np.asarray(pub_emb, dtype=np.float32)
    order = np.argsort(pub_owner, kind="stable")
    owners = pub_owner[order]
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    present = owners[starts]
    pubs = pubs[order]
    weight = None
    if pub_weight is not None and (np.asarray(pub_weight) != 1.0).any():
        weight = np.asarray(pub_weight, dtype=np.float64)[order][None, :]
    for s in range(0, n, block):
        sims = weighed(x[s:s + block] @ pubs.T, weight)
        best = np.maximum.reduceat(sims, starts, axis=1)
        out[s:s + block, present] = best >= threshold
    return out


def topic_supply(groups: dict[str, list[str]], qualified: np.ndarray, loads: np.ndarray, *,
                 params: SupplyParams = SupplyParams()) -> pd.DataFrame:
    """One row per (kind, topic) with submissions, qualified reviewers, slots and papers short of reviewers.

    ``groups`` maps a kind (``area``, ``theory``) to the topic of each paper ('' for none).
    ``qualified`` is (papers, reviewers): affinity >= ``qualified_affinity`` ("close").
    Each reviewer's ``max_load`` is spread evenly over all the papers they are close to, so a
    topic's available slots are the part of the loads its papers draw, and no slot is counted twice
    (nor given to a theory topic when it would go to the reviewer's non-theory papers). A reviewer
    qualifies for a topic when at least ``qualified_share`` of the papers of that kind they are close
    to are in it: the topic is one of theirs, however broad it is. ``papers_short``: papers with
    fewer close reviewers than ``per_paper``. ``shortage`` is true when the slots needed exceed the
    slots available, or more than ``short_share`` of the topic's papers are short.
    """
    rows = []
    close_reviewers = qualified.sum(axis=1)  # per paper
    close_papers = qualified.sum(axis=0).astype(np.float64)  # per reviewer
    spread = np.divide(loads, close_papers, out=np.zeros_like(close_papers), where=close_papers > 0)
    for kind, topic_of in groups.items():
        topics = np.array(topic_of, dtype=object)
        names = sorted({t for t in topic_of if t})
        if not names:
            continue
        counts = np.stack([qualified[topics == t].sum(axis=0) for t in names]).astype(np.float64)  # (T, R)
        totals = counts.sum(axis=0)
        share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        mine = (counts > 0) & (share >= params.qualified_share - 1e-9)
        for i, t in enumerate(names):
            in_topic = topics == t
            n_sub = int(in_topic.sum())
            needed = n_sub * params.per_paper
            available = int(np.floor(float((counts[i] * spread).sum()) + 1e-9))
            short = int((close_reviewers[in_topic] < params.per_paper).sum())
            rows.append({"kind": kind, "topic": t, "submissions": n_sub, "qualified_reviewers": int(mine[i].sum()),
                         "slots_needed": needed, "slots_available": available, "papers_short": short,
                         "shortage": bool(available < needed or short > params.short_share * n_sub)})
    if not rows:
        return pd.DataFrame(columns=SUPPLY_COLUMNS)
    out = pd.DataFrame(rows, columns=SUPPLY_COLUMNS)
    out["_k"] = out["kind"].map({k: i for i, k in enumerate(groups)})
    out = out.sort_values(["_k", "submissions", "topic"], ascending=[True, False, True], kind="stable")
    return out.drop(columns="_k").reset_index(drop=True)
