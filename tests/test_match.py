from __future__ import annotations

import numpy as np
import pandas as pd

from triage.match import AffinityParams, Aggregate, compute_affinity


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
    out = {}
    for i in range(len(P)):
        for r in revs["reviewer_id"]:
            rows = np.flatnonzero(pubs["reviewer_id"].to_numpy() == r)
            if not len(rows):
                continue
            s = np.sort(E[rows] @ P[i])[::-1]
            if how == "max":
                v = s[0]
            elif how == "mean":
                v = s.mean()
            else:
                w = np.array([1, 1 / 2, 1 / 3])[: len(s[:3])]
                v = (s[:3] * w).sum() / w.sum()
            out[(f"p{i}", r)] = (round(float(v), 4), pubs["pub_id"].to_numpy()[rows[np.argmax(E[rows] @ P[i])]])
    return out


def test_all_pairs_equals_brute_force():
    papers, P, pubs, E, revs = setup()
    for how in Aggregate:
        got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(aggregate=how, top_k=None))
        ref = brute(P, E, pubs, revs, how.value)
        assert len(got) == len(ref)
        for row in got.itertuples():
            s, ev = ref[(row.paper_id, row.reviewer_id)]
            assert abs(row.score - s) < 2e-4
            assert row.evidence_id == ev


def test_sparse_topk_matches_dense_topk():
    papers, P, pubs, E, revs = setup(n_pap=40, n_rev=200, per=(1, 3))
    dense = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=5), exact=True)
    sparse = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=5))
    assert len(dense) == len(sparse) == 40 * 5
    overlap = len(set(zip(dense.paper_id, dense.reviewer_id)) & set(zip(sparse.paper_id, sparse.reviewer_id)))
    assert overlap / len(dense) > 0.97


def test_reviewer_without_publications_gets_no_rows():
    papers, P, pubs, E, revs = setup(per=(0, 2), seed=3)
    got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None))
    empty = set(revs["reviewer_id"]) - set(pubs["reviewer_id"])
    assert empty and not (set(got["reviewer_id"]) & empty)


def test_recent_profile_selection():
    papers, P, pubs, E, revs = setup(n_rev=3, per=(4, 4))
    pubs["year"] = [2010, 2020, 2021, 2022] * 3
    got = compute_affinity(papers, P, pubs, E, revs, params=AffinityParams(top_k=None, recent=1))
    assert set(got["evidence_id"]) <= set(pubs["pub_id"][pubs["year"] == 2022])


def test_empty_inputs():
    papers, P, pubs, E, revs = setup()
    got = compute_affinity(papers.iloc[:0], P[:0], pubs, E, revs)
    assert got.empty and list(got.columns)[:3] == ["paper_id", "reviewer_id", "score"]
