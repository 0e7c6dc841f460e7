from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from triage.errors import InputError
from triage.topics import ClusterParams, auto_k, cluster_papers, ctfidf_labels


def blobs(k=4, per=25, d=32, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d))
    x = np.concatenate([c + 0.15 * rng.normal(size=(per, d)) for c in centers]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    truth = np.repeat(np.arange(k), per)
    return x, truth


def papers_frame(n):
    return pd.DataFrame({"paper_id": [f"p{i:03d}" for i in range(n)], "title": ["t"] * n,
                         "abstract": ["kernel regime"] * n})


def test_blobs_recovered_and_stable():
    x, truth = blobs()
    papers = papers_frame(len(x))
    t1, cent = cluster_papers(papers, x, params=ClusterParams(k=4))
    assert t1["cluster_id"].nunique() == 4 and cent.shape == (4, 32)
    # Each true blob maps to exactly one cluster.
    for b in range(4):
        assert t1["cluster_id"][truth == b].nunique() == 1
    t2, _ = cluster_papers(papers, x, params=ClusterParams(k=4))
    pd.testing.assert_frame_equal(t1, t2)
    assert list(t1["paper_id"]) == list(papers["paper_id"])


def test_k_errors_and_edges():
    x, _ = blobs(k=2, per=3)
    with pytest.raises(InputError, match="larger than the number of papers"):
        cluster_papers(papers_frame(6), x, params=ClusterParams(k=7))
    one, _ = cluster_papers(papers_frame(1), x[:1])
    assert one["cluster_id"].tolist() == [0]
    empty, _ = cluster_papers(papers_frame(0), x[:0])
    assert empty.empty


def test_auto_k():
    assert auto_k(1) == 1 and auto_k(500) == 16 and auto_k(12000) == 77 and auto_k(10**6) == 100


def test_ctfidf_distinctive_terms():
    docs = ["neural tangent kernel infinite width"] * 3 + ["bandit regret exploration arms"] * 3
    labels = np.array([0, 0, 0, 1, 1, 1])
    terms = ctfidf_labels(docs, labels, n_terms=3)
    assert any("kernel" in t or "tangent" in t for t in terms[0])
    assert any("bandit" in t or "regret" in t for t in terms[1])
