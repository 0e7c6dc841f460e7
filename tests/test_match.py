from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from triage.errors import InputError
from triage.lexical import LexicalParams, Weighting, fit_transform
from triage.match import (
    AffinityParams,
    Aggregate,
    aggregate_segments,
    blend_calibration,
    blend_weight,
    compute_affinity,
    reweigh,
)

DENSE = dict(lexical_weight=0.0)


def setup(n_pap=30, n_rev=40, per=(0, 5), d=16, seed=1):
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n_pap, d)).astype(np.float32)
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    owners = []
    for r in range(n_rev):
        owners += [f"r{r:02d}"] * int(rng.integers(per[0], per[1] + 1))
    E = rng.normal(size=(len(owners), d)).astype(np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    papers = pd.DataFrame({"paper_id": [f"p{i}" for i in range(n_pap)], "title": "t", "abstract": "a"})
    pubs = pd.DataFrame({"pub_id": [f"x{i}" for i in range(len(owners))], "reviewer_id": owners,
                         "title": [f"pub {i}" for i in range(len(owners))], "abstract": "", "year": 2020})
    revs = pd.DataFrame({"reviewer_id": [f"r{r:02d}" for r in range(n_rev)]})
    return papers, P, pubs, E, revs


def brute(P, E, pubs, revs, how):
    weight = pubs["weight"].to_numpy(dtype=float) if "weight" in pubs.columns else np.ones(len(pubs))
    out = {}
    for i in range(len(P)):
        for r in revs["reviewer_id"]:
            rows = np.flatnonzero(pubs["reviewer_id"].to_numpy() == r)
            if not len(rows):
                continue
            sims = np.where(weight[rows] == 1, E[rows] @ P[i], reweigh(E[rows] @ P[i], weight[rows]))
            s = np.sort(sims)[::-1]
            if how == "max":
                v = s[0]
            elif how == "mean":
                v = s.mean()
            elif how == "percentile":
                v = np.percentile(s, 75)
            else:
                w = np.array([1, 1 / 2, 1 / 3])[: len(s[:3])]
                v = (s[:3] * w).sum() / w.sum()
            out[(f"p{i}", r)] = (round(float(v), 4), pubs["pub_id"].to_numpy()[rows[np.argmax(sims)]])
    return out


def assert_brute(got: pd.DataFrame, P, E, pubs, revs, how: Aggregate) -> None:
    """``got`` holds every pair, each with the brute force's score and evidence."""
    ref = brute(P, E, pubs, revs, how.value)
    assert len(got) == len(ref)
    for row in got.itertuples():
        s, ev = ref[(row.paper_id, row.reviewer_id)]
        assert abs(row.score - s) < 2e-4 and row.evidence_id == ev, (how, row)


def test_all_pairs_equals_brute_force():
    papers, P, pubs, E, revs = setup()
    for how in Aggregate:
        got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(aggregate=how, top_k=None, **DENSE))
        assert_brute(got, P, E, pubs, revs, how)


def test_top_k_equals_brute_force_top_k():
    """The top-k path keeps, for every paper, exactly the k best reviewers of the exact all-pairs scores."""
    papers, P, pubs, E, revs = setup(n_pap=40, n_rev=200, per=(0, 6))
    for how in Aggregate:
        allp = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(aggregate=how, top_k=None, **DENSE))
        top = compute_affinity(papers, P, pubs, E, revs,
                               params=AffinityParams(aggregate=how, top_k=5, reviewer_top_k=0, **DENSE))
        assert (top.groupby("paper_id").size() == 5).all()
        ref = allp.groupby("paper_id", sort=False).head(5)
        pd.testing.assert_frame_equal(top.reset_index(drop=True), ref.reset_index(drop=True))
        merged = top.merge(allp, on=["paper_id", "reviewer_id"], suffixes=("", "_all"))
        assert len(merged) == len(top) and (merged.score == merged.score_all).all()


def test_reweigh_is_openreview_expertises_odds_on_the_cosine_scale():
    s = np.array([-1.0, -0.5, 0.0, 0.5, 0.8, 1.0], dtype=np.float32)
    np.testing.assert_allclose(reweigh(s, 1.0), s, atol=1e-5)
    np.testing.assert_allclose(reweigh(np.array([0.5, 0.8, 0.0]), 0.5), [0.2, 0.6364, -1 / 3], atol=1e-4)
    np.testing.assert_allclose(reweigh(np.array([0.2, 0.0]), 2.0), [0.5, 1 / 3], atol=1e-4)
    for w in (0.1, 0.5, 2.0, 10.0):
        out = reweigh(s, w)
        assert (np.diff(out) >= 0).all() and (out >= -1).all() and (out <= 1).all()
        assert ((out < s) if w < 1 else (out > s))[1:-1].all()


@pytest.mark.parametrize("choices", [(0.2, 0.5, 1.0, 1.0, 2.0), (0.001,) * 8 + (1.0, 3.0)])
def test_publication_weights_score_as_brute_force_on_every_path(choices):
    """Weighed publications: all pairs match a brute force of the weighed similarities (score and evidence), and
    the top-k and reviewers' best-papers paths keep exactly the best of those scores, for every aggregate. In the
    second draw most publications weigh next to nothing, so the closest ones are seldom the best: the candidate
    lists must grow, and stop only when no reviewer (or paper) left out could outscore, weighed by up to 3."""
    papers, P, pubs, E, revs = setup(n_pap=80, n_rev=120, per=(0, 6))
    pubs = pubs.assign(weight=np.random.default_rng(2).choice(choices, len(pubs)))
    for how in Aggregate:
        allp = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(aggregate=how, top_k=None, **DENSE))
        assert_brute(allp, P, E, pubs, revs, how)
        top = compute_affinity(papers, P, pubs, E, revs,
                               params=AffinityParams(aggregate=how, top_k=5, reviewer_top_k=0, **DENSE))
        ref = allp.groupby("paper_id", sort=False).head(5).reset_index(drop=True)
        assert (top["score"].to_numpy() == ref["score"].to_numpy()).all()  # rounded scores may tie at the fifth
        fifth = ref.groupby("paper_id")["score"].transform("min")
        assert set(zip(*ref[ref["score"] > fifth][["paper_id", "reviewer_id"]].T.to_numpy())) <= set(
            zip(top["paper_id"], top["reviewer_id"])), how
        got = compute_affinity(papers, P, pubs, E, revs,
                               params=AffinityParams(aggregate=how, top_k=1, reviewer_top_k=2, **DENSE))
        merged = got.merge(allp, on=["paper_id", "reviewer_id"], suffixes=("", "_all"))
        assert len(merged) == len(got) and (merged.score == merged.score_all).all()
        for r, mine in allp.groupby("reviewer_id"):
            kept = set(got.loc[got["reviewer_id"] == r, "paper_id"])
            second = mine["score"].nlargest(2).iloc[-1]
            assert set(mine.loc[mine["score"] > second, "paper_id"]) <= kept, (how, r)


def test_a_weight_below_one_moves_the_evidence_and_lowers_the_score():
    papers, P, pubs, E, revs = setup(n_pap=1, n_rev=1, per=(2, 2))
    other = np.linalg.qr(np.c_[P[0], np.eye(16)[:, :1]])[0][:, 1]  # a unit vector orthogonal to the paper's
    E[0] = 0.9 * P[0] + np.sqrt(1 - 0.81) * other  # cosine 0.9
    E[1] = 0.6 * P[0] + 0.8 * other  # cosine 0.6
    params = AffinityParams(aggregate=Aggregate.max, top_k=None, **DENSE)
    plain = compute_affinity(papers, P, pubs, E, revs, params=params)
    assert plain.evidence_id[0] == "x0" and plain.score[0] == pytest.approx(0.9, abs=1e-3)
    low = compute_affinity(papers, P, pubs.assign(weight=[0.01, 1.0]), E, revs, params=params)
    assert low.evidence_id[0] == "x1" and low.score[0] == pytest.approx(0.6, abs=1e-3)


def test_a_reviewers_best_paper_is_found_past_the_papers_of_their_light_publications():
    """A reviewer's 30 light publications are each close to a paper (cosine about 0.95), their one full-weight
    publication only 0.6 to paper 35, which another reviewer takes on the papers' side: their best paper, 35, lies
    past the 22 candidates their closest publications give, and is still found."""
    rng = np.random.default_rng(0)
    d = 64
    P = rng.normal(size=(40, d)).astype(np.float32)
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    noise = rng.normal(size=(31, d)).astype(np.float32)
    noise -= (noise * P[list(range(30)) + [35]]).sum(1, keepdims=True) * P[list(range(30)) + [35]]
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    near = 0.95 * P[:30] + np.sqrt(1 - 0.95 ** 2) * noise[:30]
    heavy = 0.6 * P[35] + 0.8 * noise[30]
    E = np.vstack([near, heavy, P[35]]).astype(np.float32)
    papers = pd.DataFrame({"paper_id": [f"p{i}" for i in range(40)], "title": "t", "abstract": "a"})
    pubs = pd.DataFrame({"pub_id": [f"x{i}" for i in range(32)], "reviewer_id": ["r0"] * 31 + ["r1"],
                         "title": [f"pub {i}" for i in range(32)], "abstract": "", "year": 2020,
                         "weight": [0.001] * 30 + [1.0, 1.0]})
    revs = pd.DataFrame({"reviewer_id": ["r0", "r1"]})
    got = compute_affinity(papers, P, pubs, E, revs,
                           params=AffinityParams(aggregate=Aggregate.max, top_k=1, reviewer_top_k=1, **DENSE))
    best = got[got["reviewer_id"] == "r0"].nlargest(1, "score")
    assert best[["paper_id", "evidence_id"]].values.tolist() == [["p35", "x30"]]
    assert best["score"].iloc[0] == pytest.approx(0.6, abs=1e-3)


def with_words(papers: pd.DataFrame, pubs: pd.DataFrame, seed: int) -> None:
    """Random abstracts of 12 words from 40, so the lexical blend has terms to share."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(40)]
    papers["abstract"] = [" ".join(rng.choice(vocab, 12)) for _ in range(len(papers))]
    pubs["abstract"] = [" ".join(rng.choice(vocab, 12)) for _ in range(len(pubs))]


def test_top_k_with_lexical_blend_scores_as_all_pairs():
    """The top-k path's blended scores (sparse pair products) equal the all-pairs path's (block products)."""
    papers, P, pubs, E, revs = setup(n_pap=25, n_rev=60, per=(1, 5))
    with_words(papers, pubs, seed=3)
    params = dict(lexical_weight=0.5, lexical=LexicalParams(min_df=1))
    allp = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None, **params))
    top = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=8, reviewer_top_k=0, **params))
    merged = top.merge(allp, on=["paper_id", "reviewer_id"], suffixes=("", "_all"))
    assert len(merged) == len(top) == 8 * len(papers)
    assert (merged.score - merged.score_all).abs().max() <= 1e-4
    assert (merged.evidence_id == merged.evidence_id_all).all()


def test_listed_pairs_score_as_the_other_paths():
    """Scoring listed pairs (earlier assignments outside the top-k) gives the scores and evidence of all pairs."""
    papers, P, pubs, E, revs = setup(n_pap=20, n_rev=30, per=(0, 5))
    with_words(papers, pubs, seed=5)
    for params in (dict(lexical_weight=0.5, lexical=LexicalParams(min_df=1)), DENSE):
        allp = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None, **params))
        pick = allp.sample(25, random_state=1)[["paper_id", "reviewer_id"]]
        pairs = pd.concat([pick, pd.DataFrame({"paper_id": ["p0", "nope"], "reviewer_id": ["nobody", "r01"]})])
        got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(**params), pairs=pairs)
        merged = got.merge(allp, on=["paper_id", "reviewer_id"], suffixes=("", "_all"))
        assert len(got) == len(merged) == 25  # unknown papers and reviewers are left out
        assert (merged.score - merged.score_all).abs().max() <= 1e-4
        assert (merged.evidence_id == merged.evidence_id_all).all()


def test_reviewer_top_k_adds_each_reviewers_best_papers():
    """``reviewer_top_k`` (openreview-expertise's sparse_value): besides each paper's top-k, every reviewer with a
    profile keeps their n best papers, each pair scored as all pairs score it; the papers' own rows are unchanged."""
    papers, P, pubs, E, revs = setup(n_pap=40, n_rev=200, per=(0, 6))
    for how in Aggregate:  # mean and percentile widen the candidate lists (closest_papers), max and topk do not
        allp = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(aggregate=how, top_k=None, **DENSE))
        top = compute_affinity(papers, P, pubs, E, revs,
                               params=AffinityParams(aggregate=how, top_k=5, reviewer_top_k=0, **DENSE))
        got = compute_affinity(papers, P, pubs, E, revs,
                               params=AffinityParams(aggregate=how, top_k=5, reviewer_top_k=3, **DENSE))
        assert top["reviewer_id"].nunique() < allp["reviewer_id"].nunique()  # the top-5 alone leaves reviewers out
        assert got["reviewer_id"].nunique() == allp["reviewer_id"].nunique()
        merged = got.merge(allp, on=["paper_id", "reviewer_id"], suffixes=("", "_all"))
        assert len(merged) == len(got) and (merged.score == merged.score_all).all()
        assert (merged.evidence_id == merged.evidence_id_all).all()
        pd.testing.assert_frame_equal(got.merge(top[["paper_id", "reviewer_id"]]), top)  # the top-5 rows as they were
        for r, mine in allp.groupby("reviewer_id"):
            kept = set(got.loc[got["reviewer_id"] == r, "paper_id"])
            third = mine["score"].nlargest(3).iloc[-1]  # rounded scores may tie at the third: either may be kept
            assert len(kept) >= 3 and set(mine.loc[mine["score"] > third, "paper_id"]) <= kept, (how, r)


def test_reviewer_top_k_with_the_lexical_blend_and_few_papers():
    papers, P, pubs, E, revs = setup(n_pap=25, n_rev=60, per=(1, 5))
    with_words(papers, pubs, seed=3)
    params = dict(lexical_weight=0.5, lexical=LexicalParams(min_df=1))
    allp = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None, **params))
    got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=2, reviewer_top_k=4, **params))
    assert (got.groupby("reviewer_id").size() >= 4).all() and got["reviewer_id"].nunique() == len(revs)
    merged = got.merge(allp, on=["paper_id", "reviewer_id"], suffixes=("", "_all"))
    assert len(merged) == len(got) and (merged.score - merged.score_all).abs().max() <= 1e-4
    assert (merged.evidence_id == merged.evidence_id_all).all()
    # More than there are papers: every pair, once.
    few = compute_affinity(papers.head(3), P[:3], pubs, E, revs,
                           params=AffinityParams(top_k=1, reviewer_top_k=10, **params))
    assert len(few) == 3 * len(revs) and not few.duplicated(["paper_id", "reviewer_id"]).any()
    with pytest.raises(InputError, match="--reviewer-top-k -1"):
        compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(reviewer_top_k=-1))


def test_pair_dots_in_any_order():
    import scipy.sparse as sp

    from triage.match import _pair_dots

    rng = np.random.default_rng(0)
    A = sp.random(6, 50, density=0.3, format="csr", random_state=1, dtype=np.float32)
    B = sp.random(30, 50, density=0.3, format="csr", random_state=2, dtype=np.float32)
    ia, ib = rng.integers(0, 6, 200), rng.integers(0, 30, 200)
    ref = (A.toarray()[ia] * B.toarray()[ib]).sum(axis=1)
    np.testing.assert_allclose(_pair_dots(A, B, ia, ib), ref, atol=1e-6)
    np.testing.assert_allclose(_pair_dots(A, B, np.sort(ia), ib), (A.toarray()[np.sort(ia)] * B.toarray()[ib]).sum(1),
                               atol=1e-6)
    assert _pair_dots(A, B, ia[:0], ib[:0]).shape == (0,)


def test_aggregate_segments_against_numpy():
    rng = np.random.default_rng(0)
    sizes = rng.integers(0, 7, size=50)
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    vals = rng.uniform(-1, 1, size=int(ptr[-1])).astype(np.float32)
    for how in Aggregate:
        got, best = aggregate_segments(vals, ptr, how, 60.0)
        for i, n in enumerate(sizes):
            seg = vals[ptr[i]:ptr[i + 1]]
            if n == 0:
                assert got[i] == -np.inf and best[i] == -1
                continue
            d = np.sort(seg)[::-1]
            ref = {"max": d[0], "mean": seg.mean(), "percentile": np.percentile(seg, 60),
                   "topk": (d[:3] * [1, 1 / 2, 1 / 3][:len(d[:3])]).sum() / sum([1, 1 / 2, 1 / 3][:len(d[:3])])}
            assert abs(got[i] - ref[how.value]) < 1e-5
            assert vals[best[i]] == d[0]


def test_lexical_cosines_and_blend():
    texts = ["leap complexity of SGD on neural networks", "SGD learning with leap complexity",
             "private learning of halfspaces", "differentially private halfspaces learning", "bandits"] * 4
    for weighting in Weighting:
        (L,) = fit_transform([texts], LexicalParams(weighting=weighting, min_df=1))
        S = (L @ L.T).toarray()
        assert np.allclose(np.diag(S), 1.0, atol=1e-5) and S.min() >= 0
        assert S[0, 1] > S[0, 2] and S[2, 3] > S[2, 0]
    lp, le = fit_transform([texts[:2], texts[2:]], LexicalParams(min_df=1))
    assert lp.shape[1] == le.shape[1] and lp.shape[0] == 2
    rng = np.random.default_rng(0)
    P, E = rng.normal(size=(2, 8)), rng.normal(size=(18, 8))
    assert blend_weight(P, E, lp, le, 0.0) == 0.0 and blend_weight(P, E, lp, le, 1.0) == 1.0
    w, scale, shift = blend_calibration(P, E, lp, le, 0.5)
    assert 0 < w < 1 and scale > 0


def test_lexical_document_frequency_counts_repeated_texts():
    """Repeated texts are tokenised once, but min_df, max_df and idf count every row, as CountVectorizer does."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    from triage.lexical import _TOKEN, _preprocess

    base = ["leap complexity of SGD", "private halfspaces", "leap complexity bounds", "bandit regret bounds",
            "regret of private bandits", "kernel ridge regression", "ridge regression rates", "SGD noise"]
    texts = base * 3 + ["leap complexity of SGD"] * 4 + ["$x$ and $y$"]  # 29 rows: min_df and max_df apply
    params = LexicalParams(weighting=Weighting.tfidf, min_df=2, max_df=0.3)
    (L,) = fit_transform([texts], params)
    vec = CountVectorizer(preprocessor=_preprocess, token_pattern=_TOKEN, stop_words=list(ENGLISH_STOP_WORDS),
                          ngram_range=(1, 2), min_df=2, max_df=0.3)
    counts = vec.fit_transform(texts).toarray().astype(np.float64)
    idf = np.log((1 + len(texts)) / (1 + (counts > 0).sum(axis=0))) + 1
    w = np.where(counts > 0, 1 + np.log(np.maximum(counts, 1)), 0) * idf
    w /= np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-12)
    assert "leap" not in vec.vocabulary_  # in 10 of 29 rows: above max_df
    assert np.allclose((L @ L.T).toarray(), w @ w.T, atol=1e-5)
    # An int is a number of texts and a float a share, as in CountVectorizer.
    for lo, hi in [(0.1, 0.3), (2, 9), (0.2, 12)]:
        (L,) = fit_transform([texts], LexicalParams(weighting=Weighting.tfidf, min_df=lo, max_df=hi))
        vocab = CountVectorizer(preprocessor=_preprocess, token_pattern=_TOKEN, stop_words=list(ENGLISH_STOP_WORDS),
                                ngram_range=(1, 2), min_df=lo, max_df=hi).fit(texts).vocabulary_
        assert L.shape[1] == len(vocab), (lo, hi)


def test_blended_scores_prefer_shared_terms(fake_embedder):
    """With the lexical blend, the reviewer whose paper shares rare terms wins even if embeddings tie."""
    papers = pd.DataFrame({"paper_id": ["p"], "title": ["Leap complexity"], "abstract": ["saddle-to-saddle SGD"]})
    pubs = pd.DataFrame({"pub_id": ["a", "b"] + [f"z{i}" for i in range(20)],
                         "reviewer_id": ["ra", "rb"] + ["rz"] * 20,
                         "title": ["Leap complexity of SGD", "Online bandits"] + [f"filler {i}" for i in range(20)],
                         "abstract": ["saddle-to-saddle dynamics", "regret bounds"] + ["words"] * 20, "year": 2020})
    revs = pd.DataFrame({"reviewer_id": ["ra", "rb", "rz"]})
    P = np.ones((1, 8), np.float32) / np.sqrt(8)
    E = np.ones((len(pubs), 8), np.float32) / np.sqrt(8)
    got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None, lexical_weight=0.5))
    assert got.iloc[0]["reviewer_id"] == "ra" and got.iloc[0]["evidence_id"] == "a"


def test_reviewer_without_publications_gets_no_rows():
    papers, P, pubs, E, revs = setup(per=(0, 2), seed=3)
    got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None))
    assert set(got["reviewer_id"]) == set(pubs["reviewer_id"])
    empty = set(revs["reviewer_id"]) - set(pubs["reviewer_id"])
    assert empty and not (set(got["reviewer_id"]) & empty)


def test_recent_profile_selection():
    papers, P, pubs, E, revs = setup(n_rev=3, per=(4, 4))
    pubs["year"] = [2010, 2020, 2021, 2022] * 3
    got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None, recent=1))
    assert set(got["evidence_id"]) <= set(pubs["pub_id"][pubs["year"] == 2022])


def test_reviewers_left_without_publications_by_since_are_named(caplog):
    import logging

    papers, P, pubs, E, revs = setup(n_rev=3, per=(4, 4))
    pubs["year"] = [2010, 2020, 2021, 2022] * 2 + [2010, 2011, 2012, 2013]
    from triage.match import warn_profiles_lost

    params = AffinityParams(top_k=None, since=2020)
    got = compute_affinity(papers, P, pubs, E, revs, params=params)
    lost = pubs["reviewer_id"].iloc[-1]
    assert lost not in set(got["reviewer_id"])
    with caplog.at_level(logging.WARNING, logger="triage"):
        warn_profiles_lost(pubs, revs, params)
        warn_profiles_lost(pubs, revs, AffinityParams(top_k=None, since=2010))  # nobody lost: nothing said
    assert caplog.text.count("have no publication from") == 1
    assert f"1 reviewer(s) have no publication from 2020 or later (first: {lost})" in caplog.text


def test_empty_inputs():
    papers, P, pubs, E, revs = setup()
    got = compute_affinity(papers.iloc[:0], P[:0], pubs, E, revs)
    assert got.empty and list(got.columns)[:3] == ["paper_id", "reviewer_id", "score"]


def test_late_papers_barely_move_the_blend_constants():
    """The blend's constants come from every pair of the papers and publications whose ids hash lowest, so
    three late papers move them by under 0.1% (a random draw over row numbers draws other pairs: 0.5-1.4%
    here, and on the demo every score moved, by 0.004 in the median)."""
    from triage.match import _lexical_matrices

    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(3000)]
    papers, P, pubs, E, revs = setup(n_pap=600, n_rev=80, per=(3, 6), d=32)
    papers["abstract"] = [" ".join(rng.choice(vocab, 80)) for _ in range(len(papers))]
    pubs["abstract"] = [" ".join(rng.choice(vocab, 80)) for _ in range(len(pubs))]
    LP, LE = _lexical_matrices(papers, pubs, LexicalParams(), np.zeros(len(pubs), dtype=bool))
    ids, keys = papers["paper_id"].tolist(), pubs["pub_id"].tolist()
    before = np.array(blend_calibration(P[:597], E, LP[:597], LE, 0.5, paper_keys=ids[:597], pub_keys=keys))
    after = np.array(blend_calibration(P, E, LP, LE, 0.5, paper_keys=ids, pub_keys=keys))
    assert np.abs(after / before - 1).max() < 1e-3
    drawn = np.array(blend_calibration(P[:597], E, LP[:597], LE, 0.5)), np.array(blend_calibration(P, E, LP, LE, 0.5))
    assert np.abs(drawn[1] / drawn[0] - 1).max() > 5e-3


@pytest.mark.parametrize("without_pub_ids", [False, True])
def test_shuffled_reviewers_and_publications_give_the_same_outputs(fake_embedder, monkeypatch, tmp_path,
                                                                   without_pub_ids):
    """Co-authors sharing a publication score alike: ties fall by reviewer id, not by the rows of the files.
    A publication the file gives no id keeps the one it gets (``evidence_id``) when the rows move."""
    from pathlib import Path

    from typer.testing import CliRunner

    import triage.pipeline
    from triage.cli import app

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    data = Path(__file__).parent / "data"
    outs = []
    for seed in (None, 1, 2):
        revs, pubs = data / "reviewers.csv", data / "publications.csv"
        if seed is not None or without_pub_ids:
            revs, pubs = tmp_path / f"revs{seed}.csv", tmp_path / f"pubs{seed}.csv"
            for src, dst in ((data / "reviewers.csv", revs), (data / "publications.csv", pubs)):
                df = pd.read_csv(src, dtype=str, keep_default_na=False)
                if without_pub_ids:
                    df = df.drop(columns=["pub_id"], errors="ignore")
                (df if seed is None else df.sample(frac=1, random_state=seed)).to_csv(dst, index=False)
        out = tmp_path / f"out{seed}"
        res = CliRunner().invoke(app, ["match", str(data / "submissions.csv"), "-p", str(pubs), "-r", str(revs),
                                       "-c", str(data / "conflicts.csv"), "--top-k", "8", "-o", str(out)])
        assert res.exit_code == 0, res.output
        outs.append({n: (out / n).read_bytes() for n in ("affinity.csv", "assignments.csv", "alternates.csv",
                                                          "conflicts.csv")})
    aff = pd.read_csv(tmp_path / "outNone" / "affinity.csv")
    assert aff.duplicated(["paper_id", "score"]).any()  # there are ties to break
    assert outs[1] == outs[0] and outs[2] == outs[0]


def test_a_weight_never_lowers_a_near_copy_the_lexical_blend_puts_above_one():
    """The blend is put back on the cosine scale, so a reviewer's own copy of a paper may score above 1; a weight
    of 2 must not bring it down to 1, nor may a weight of 0.5 and one of 2 score it alike."""
    papers, P, pubs, E, revs = setup(n_pap=30, n_rev=20, per=(2, 4))
    with_words(papers, pubs, seed=3)
    E[0] = P[0]
    pubs.loc[0, "abstract"] = papers.loc[0, "abstract"]
    owner = pubs.loc[0, "reviewer_id"]
    params = AffinityParams(aggregate=Aggregate.max, top_k=None, lexical_weight=0.5, lexical=LexicalParams(min_df=1))

    def copy_score(w: float) -> float:
        aff = compute_affinity(papers, P, pubs.assign(weight=[w] + [1.0] * (len(pubs) - 1)), E, revs, params=params)
        return float(aff.loc[(aff.paper_id == "p0") & (aff.reviewer_id == owner), "score"].iloc[0])

    plain = copy_score(1.0)
    assert plain > 1.0
    assert copy_score(2.0) >= plain and copy_score(0.5) <= plain


def test_a_weight_next_to_one_changes_no_similarity_not_even_a_copys():
    """A weight of 1.0000001 (a spreadsheet's rounding) weighs as 1 does: a copy's cosine of 1 stays 1, so the
    top-k bound, reckoned at the largest weight, stays above every unweighed publication's similarity."""
    s = np.array([-1.0, -0.3, 0.0, 0.7, 0.9999999, 1.0], dtype=np.float32)
    assert (reweigh(s, 1.0) == s).all() and np.abs(reweigh(s, 1.0000001) - s).max() < 5e-7
    assert [reweigh(s, w)[-1] for w in (0.5, 1.0000001, 2.0)] == [1.0, 1.0, 1.0]


def test_publications_of_weight_0_are_in_no_profile_and_not_among_the_recent(caplog):
    """Weight 0 leaves a publication out of the profile before ``--recent`` picks the newest, and a reviewer
    whose every publication weighs 0 is named: they get no affinity."""
    import logging

    from triage.match import warn_profiles_lost

    papers, P, pubs, E, revs = setup(n_rev=3, per=(2, 2))
    pubs["year"] = [2024, 2020] * 3
    pubs["weight"] = [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    params = AffinityParams(top_k=None, recent=1)
    got = compute_affinity(papers, P, pubs, E, revs, params=params)
    assert set(got["evidence_id"]) == {"x1", "x2"} and "r02" not in set(got["reviewer_id"])
    with caplog.at_level(logging.WARNING, logger="triage"):
        warn_profiles_lost(pubs, revs, params)
    assert caplog.messages == ["1 reviewer(s) have only publications of weight 0 (first: r02); they get no affinity "
                               "and are not assigned, and their bids are not used; give the publications that show "
                               "their expertise a weight above 0"]


@pytest.mark.parametrize("lexical_weight", [0.0, 0.5])
def test_a_work_listed_twice_counts_once_at_its_largest_weight(lexical_weight):
    """A preprint and its published version (the same title, case and punctuation aside) are one work: the second
    copy changes no score (not the top-3 mean, nor the lexical word weights), and the copy kept is the heavier one,
    whatever the rows' order."""
    papers, P, pubs, E, revs = setup(n_rev=8, per=(2, 4), seed=5)
    with_words(papers, pubs, seed=5)
    pubs["title"] = [f"Title of work number {i}" for i in range(len(pubs))]
    params = AffinityParams(top_k=None, lexical_weight=lexical_weight, lexical=LexicalParams(min_df=1))
    once = compute_affinity(papers, P, pubs, E, revs, params=params)
    # r00's first work again, as a preprint weighed less (its own id, text and vector)
    extra = pubs.iloc[:1].assign(pub_id="arxiv", title="title of work number 0.", abstract="w1 w2 w3 w4", year=2019)
    twice = pd.concat([pubs, extra], ignore_index=True)
    twice["weight"] = [1.0] * len(pubs) + [0.5]
    rng = np.random.default_rng(0)
    E2 = np.vstack([E, rng.normal(size=(1, E.shape[1])).astype(np.float32)])
    got = compute_affinity(papers, P, twice, E2, revs, params=params)
    pd.testing.assert_frame_equal(got, once)
    # the heavier copy is kept: here the preprint, in any order of the rows
    twice["weight"] = [0.5] + [1.0] * len(pubs)
    order = rng.permutation(len(twice))
    shuffled = compute_affinity(papers, P, twice.iloc[order].reset_index(drop=True), E2[order], revs, params=params)
    assert "arxiv" in set(shuffled["evidence_id"]) and "x0" not in set(shuffled["evidence_id"])


def test_repeated_publications_are_told_by_the_title_or_for_a_short_title_by_the_whole_text(caplog):
    import logging

    from triage.match import repeated_publications, warn_profiles_lost

    pubs = pd.DataFrame({
        "pub_id": [f"x{i}" for i in range(8)],
        "reviewer_id": ["a", "a", "b", "a", "a", "a", "a", "a"],
        "title": ["Über α-Divergences in Learning", "Uber alpha-divergences in learning",
                  "Über α-Divergences in Learning", "Editorial", "Editorial", "Lazy Training", "Lazy Training",
                  "Über α-Divergences in Learning"],
        "abstract": ["", "", "", "issue one", "issue two", "same words", "Same words.", "longer abstract"],
        "year": 2020})
    # x1 spells the title another way (not the same key: 'alpha' is not 'α'); b's copy is b's own;
    # two editorials differ, the short titles with the same text are one work; the longer abstracts are kept
    assert repeated_publications(pubs).tolist() == [True, False, False, False, False, True, False, False]
    with caplog.at_level(logging.WARNING, logger="triage"):
        warn_profiles_lost(pubs, pd.DataFrame({"reviewer_id": ["a", "b"]}), AffinityParams())
    assert caplog.messages == ["2 publication(s) repeat a work their reviewer already lists (the same title; first: "
                               "a, 'Über α-Divergences in Learning'); each work counts once in the reviewer's profile, "
                               "at its largest weight"]


def test_since_with_only_weight_0_publications_left_blames_the_weights_not_the_year():
    papers, P, pubs, E, revs = setup(n_rev=2, per=(2, 2))
    pubs["weight"] = [0.0, 0.0, 0.0, 0.0]
    pubs["year"] = 2024
    got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None, since=2020))
    assert got.empty


def test_recent_counts_works_not_copies():
    from triage.match import select_profiles

    pubs = pd.DataFrame({"pub_id": ["a1", "a2", "b", "c"], "reviewer_id": "r",
                         "title": ["Lazy Training in Deep Networks", "Lazy training in deep networks.",
                                   "Benign Overfitting in Regression", "Edge of Stability Explained"],
                         "abstract": ["short", "the longer abstract", "x", "y"], "year": [2024, 2024, 2023, 2020]})
    assert select_profiles(pubs, recent=2).tolist() == [False, True, True, False]
