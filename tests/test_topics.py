from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triage.errors import InputError
from triage.topics import ClusterParams, auto_k, cluster_papers, ctfidf_labels, reviewer_paper_qualified


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


def test_the_same_papers_in_another_row_order_get_the_same_clusters():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 16)).astype(np.float32)  # no clear clusters: the seeding decides
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    papers = papers_frame(60)
    t1, _ = cluster_papers(papers, x, params=ClusterParams(k=5))
    perm = rng.permutation(60)
    t2, _ = cluster_papers(papers.iloc[perm].reset_index(drop=True), x[perm], params=ClusterParams(k=5))
    pd.testing.assert_frame_equal(t1.set_index("paper_id").sort_index(), t2.set_index("paper_id").sort_index())


def test_late_papers_keep_the_cluster_ids_and_a_rerun_is_the_same():
    """No clear blobs (as real topics): drawn afresh, a few new papers reshuffle most cluster ids; started
    from the earlier centroids, nearly every paper keeps its id, and the same papers again change nothing."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    papers = papers_frame(300)
    first, cent = cluster_papers(papers.iloc[:295], x[:295], params=ClusterParams(k=8))
    again, cent_again = cluster_papers(papers.iloc[:295], x[:295], params=ClusterParams(k=8), previous=cent)
    pd.testing.assert_frame_equal(first, again)
    assert np.array_equal(cent, cent_again)
    before = dict(zip(first["paper_id"], first["cluster_id"]))
    late, _ = cluster_papers(papers.iloc[3:], x[3:], params=ClusterParams(k=8), previous=cent)  # 3 gone, 5 new
    fresh, _ = cluster_papers(papers.iloc[3:], x[3:], params=ClusterParams(k=8))
    kept = np.mean([before[p] == c for p, c in zip(late["paper_id"], late["cluster_id"]) if p in before])
    kept_fresh = np.mean([before[p] == c for p, c in zip(fresh["paper_id"], fresh["cluster_id"]) if p in before])
    assert kept >= 0.9 and kept > kept_fresh
    other_k, _ = cluster_papers(papers, x, params=ClusterParams(k=6), previous=cent)  # fewer: drawn afresh
    assert other_k["cluster_id"].nunique() == 6
    grown, _ = cluster_papers(papers, x, params=ClusterParams(k=10), previous=cent)  # more: the new ones after
    assert grown["cluster_id"].nunique() == 10
    kept = np.mean([before[p] == c for p, c in zip(grown["paper_id"], grown["cluster_id"]) if p in before])
    moved = grown[grown["paper_id"].isin(before) & (grown["cluster_id"].to_numpy() != grown["paper_id"].map(before))]
    assert kept >= 0.8 and (moved["cluster_id"] >= 8).mean() > 0.5  # most papers that moved went to the new ones
    # An automatic k stays at the earlier number of clusters while the rule is within 10% of it.
    assert auto_k(300) == 12
    _, c11 = cluster_papers(papers, x, params=ClusterParams(k=11))
    same_k, _ = cluster_papers(papers, x, previous=c11)
    assert same_k["cluster_id"].nunique() == 11


def test_identical_papers_still_give_k_centroids_and_the_same_clusters_again():
    """k-means may leave a cluster empty when papers are identical; the saved centroids still have k rows
    and a rerun from them gives the same clusters."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for s in range(12):
        y = np.vstack([x, x[np.random.default_rng(s).integers(0, 12, 4)]])
        first, cent = cluster_papers(papers_frame(16), y, params=ClusterParams(k=12, seed=s))
        again, cent2 = cluster_papers(papers_frame(16), y, params=ClusterParams(k=12, seed=s), previous=cent)
        assert cent.shape == (12, 8)
        pd.testing.assert_frame_equal(first, again)
        assert np.array_equal(cent, cent2)


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
    assert not {w for ts in terms.values() for t in ts for w in t.split()} & {"neural", "tangent"} - set(
        " ".join(terms[0]).split())  # no term twice, not even as half of a two-word term
    assert ctfidf_labels(docs, labels, n_terms=3) == terms  # deterministic


def five_topics(extra: dict[int, list[str]]) -> tuple[list[str], np.ndarray]:
    """Five clusters of four papers each on their own words, plus ``extra`` papers per cluster."""
    words = ["bandit regret arms", "privacy noise mechanism", "graph vertices spectral", "kernel width tangent",
             "language translation text"]
    docs, labels = [], []
    for c, w in enumerate(words):
        for d in [w] * 4 + extra.get(c, []):
            docs.append(d)
            labels.append(c)
    return docs, np.array(labels)


def test_a_two_word_term_replaces_its_words_when_it_scores_half_as_much():
    # "gradient descent" 3 times, "gradient" 4 and "descent" 3: the phrase names the cluster; "lower bound"
    # 1 time against "lower" 6: too rare, the word stays.
    docs, labels = five_topics({0: ["gradient descent converges", "gradient descent rates", "gradient descent",
                                    "gradient norm"],
                                1: ["lower bound", "lower", "lower", "lower", "lower", "lower"]})
    terms = ctfidf_labels(docs, labels, n_terms=4)
    assert "gradient descent" in terms[0] and not {"gradient", "descent"} & set(terms[0])
    assert "lower" in terms[1] and "lower bound" not in terms[1]


def test_two_word_terms_are_adjacent_words_of_one_phrase():
    from triage.topics import _label_terms

    terms = _label_terms("A lower bound on the error. Gradient descent, Adam (ours) converge")
    assert {"lower bound", "gradient descent"} <= set(terms)
    assert not {"bound error", "descent adam", "adam ours", "error gradient"} & set(terms)


def test_a_term_of_one_cluster_only_can_label_it():
    # "single index" is in three papers of one cluster and nowhere else: the most distinctive term there.
    docs, labels = five_topics({0: ["single index models", "single index link", "single index"]})
    assert "single index" in ctfidf_labels(docs, labels, n_terms=4)[0]


def test_terms_at_the_top_of_a_quarter_of_the_clusters_are_left_out():
    # "learning" and "data" top every cluster's counts: they name the venue, not a cluster.
    docs, labels = five_topics({c: ["learning data learning data learning"] * 4 for c in range(5)})
    terms = ctfidf_labels(docs, labels, n_terms=2)
    assert all(len(ts) == 2 for ts in terms.values())
    assert not {"learning", "data", "learning data", "data learning"} & {t for ts in terms.values() for t in ts}
    # With two clusters, a term of both still goes (it tells them apart no more than a quarter would).
    two = ctfidf_labels(["learning kernel width", "learning bandit regret"] * 2, np.array([0, 1, 0, 1]))
    assert "learning" not in two[0] + two[1] and "kernel width" in two[0]


def test_citations_and_html_entities_are_not_terms():
    from triage.ingest import clean_prose

    docs, labels = five_topics({0: ["Smith et al. show &quot;sharp&quot; bounds &amp; rates &#39;x&#39;",
                                    "Doe et al. prove sharp bounds &amp;amp; &amp;quot;rates&amp;quot;"] * 3})
    docs = [clean_prose(d) for d in docs]  # as ingest reads titles and abstracts
    terms = {w for ts in ctfidf_labels(docs, labels, n_terms=6).values() for t in ts for w in t.split()}
    assert "sharp" in terms or "bounds" in terms
    assert not terms & {"et", "al", "quot", "amp", "39"}


# ---------------------------------------------------------------------------------------------
# Supply table
# ---------------------------------------------------------------------------------------------
def test_qualified_matches_brute_force():
    from triage.topics import reviewer_paper_qualified

    rng = np.random.default_rng(1)
    papers = rng.normal(size=(37, 16)).astype(np.float32)
    pubs = rng.normal(size=(50, 16)).astype(np.float32)
    papers /= np.linalg.norm(papers, axis=1, keepdims=True)
    pubs /= np.linalg.norm(pubs, axis=1, keepdims=True)
    owner = rng.integers(0, 9, size=50)  # reviewer 9 has no publication
    got = reviewer_paper_qualified(papers, pubs, owner, 10, threshold=0.3, block=8)
    sims = papers @ pubs.T
    want = np.zeros((37, 10), dtype=bool)
    for r in range(10):
        if (owner == r).any():
            want[:, r] = sims[:, owner == r].max(axis=1) >= 0.3
    assert (got == want).all() and not got[:, 9].any()
    # The scale is match's max aggregate of plain cosines, not its default (blended) affinity.
    from triage.choices import Aggregate
    from triage.match import aggregate_segments, segments

    perm, ptr = segments(owner, 10)
    best = np.stack([aggregate_segments(row[perm], ptr, Aggregate.max)[0] for row in sims])
    assert (got == (best >= 0.3)).all()


def test_topic_supply_counts_split_and_shortage():
    from triage.topics import SupplyParams, topic_supply

    # 4 double-descent papers, 2 NTK papers, 1 paper without a theory topic; 3 reviewers.
    topics = ["dd", "dd", "dd", "dd", "ntk", "ntk", ""]
    q = np.zeros((7, 3), dtype=bool)
    q[0:4, 0] = True  # r0: all dd papers
    q[0, 1] = True  # r1: one dd paper (a third of the theory papers r1 is close to: qualifies) ...
    q[4:6, 1] = True  # ... and both ntk papers
    q[6, 2] = True  # r2: only the untopicked paper; its slots go to no topic
    loads = np.array([6.0, 6.0, 6.0])
    out = topic_supply({"theory": topics}, q, loads, params=SupplyParams(per_paper=2))
    assert list(out.columns) == ["kind", "topic", "submissions", "qualified_reviewers", "slots_needed",
                                 "slots_available", "papers_short", "shortage"]
    dd, ntk = out.iloc[0], out.iloc[1]
    assert (dd["topic"], dd["submissions"], dd["qualified_reviewers"], dd["slots_needed"]) == ("dd", 4, 2, 8)
    # r0 spreads 6 slots over its 4 dd papers; r1 spreads 6 over its 3 papers, 2 of them to dd.
    assert dd["slots_available"] == 8
    # Papers 1-3 have one close reviewer each, fewer than the 2 they need: short.
    assert dd["papers_short"] == 3 and dd["shortage"]
    assert (ntk["qualified_reviewers"], ntk["slots_available"], ntk["papers_short"], ntk["shortage"]) == (1, 4, 2, True)
    # With a stricter share, r1 no longer qualifies for dd (1 of its 3 theory papers < half); slots stay.
    strict = topic_supply({"theory": topics}, q, loads, params=SupplyParams(per_paper=2, qualified_share=0.5))
    assert strict.iloc[0]["qualified_reviewers"] == 1 and strict.iloc[0]["slots_available"] == 8


def test_a_broad_topic_whose_papers_all_have_close_reviewers_is_not_short():
    from triage.topics import SupplyParams, topic_supply

    # 16 papers of one broad area; each reviewer is close to 3 of them (under a fifth of the area),
    # and each paper to 3 reviewers.
    q = np.zeros((16, 16), dtype=bool)
    for r in range(16):
        q[[r, (r + 1) % 16, (r + 2) % 16], r] = True
    area = {"area": ["learning theory"] * 16}
    row = topic_supply(area, q, np.full(16, 3.0), params=SupplyParams(per_paper=3)).iloc[0]
    assert (row["qualified_reviewers"], row["slots_needed"], row["slots_available"]) == (16, 48, 48)
    assert row["papers_short"] == 0 and not row["shortage"]
    # Without reviewer 0 three papers have only two close reviewers, and 45 slots remain for 48.
    fewer = topic_supply(area, q[:, 1:], np.full(15, 3.0), params=SupplyParams(per_paper=3)).iloc[0]
    assert (fewer["papers_short"], fewer["slots_available"], fewer["shortage"]) == (3, 45, True)


def test_supply_does_not_count_a_conflicted_reviewer_as_close(tmp_path, fake_embedder):
    from triage.ingest import paper_texts
    from triage.pipeline import Embedded, Inputs, Workdir, load, run_supply
    from triage.topics import SupplyParams

    good = Path(__file__).parent / "bad_inputs" / "good"
    corpus = load(Inputs(good / "submissions.csv", good / "publications.csv", good / "reviewers.csv"))
    emb = Embedded(fake_embedder.encode(paper_texts(corpus.papers)),
                   fake_embedder.encode(paper_texts(corpus.publications)), "fake")
    topics = pd.DataFrame({"paper_id": corpus.papers["paper_id"], "area": "one area", "theory_topic": ""})
    # Every reviewer (10, all with publications) is close to every paper (8); each paper needs 7.
    params = SupplyParams(qualified_affinity=-1.0, per_paper=7)
    wd = Workdir(tmp_path)
    free = run_supply(corpus, emb, wd, topics, params, conflicts=corpus.conflicts.iloc[:0]).iloc[0]
    assert (free["submissions"], free["papers_short"], free["shortage"]) == (8, 0, False)
    # By default the conflicts are detected: one paper's author and three co-authors of theirs are reviewers,
    # which leaves it 6 close reviewers.
    detected = run_supply(corpus, emb, wd, topics, params).iloc[0]
    assert detected["papers_short"] == 1
    pairs = [(p, r, "declared") for p in corpus.papers["paper_id"] for r in corpus.reviewers["reviewer_id"]]
    every = pd.DataFrame(pairs, columns=["paper_id", "reviewer_id", "reason"])
    blocked = run_supply(corpus, emb, wd, topics, params, conflicts=every).iloc[0]
    assert (blocked["papers_short"], blocked["slots_available"], blocked["shortage"]) == (8, 0, True)
    assert pd.read_csv(tmp_path / "topic_supply.csv")["papers_short"].tolist() == [8]


# ---------------------------------------------------------------------------------------------
# The topics command on real data with the real model
# ---------------------------------------------------------------------------------------------
TOPIC_COLUMNS = ["paper_id", "cluster_id", "cluster_label", "area", "area_score", "area_top3", "area_mismatch",
                 "theory_topic", "theory_score"]


@pytest.mark.e2e
def test_topics_command_end_to_end(tmp_path):
    from typer.testing import CliRunner

    from triage.cli import app

    data = Path(__file__).parent / "data"
    out = tmp_path / "out"
    args = ["topics", str(data / "topics_slice.csv"), "-p", str(data / "publications.csv"), "-r",
            str(data / "reviewers.csv"), "--taxonomy", "iclr", "--theory", "dl-theory", "-o", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    topics = pd.read_csv(out / "topics.csv", keep_default_na=False)
    assert list(topics.columns[:9]) == TOPIC_COLUMNS and len(topics) == 34
    assert topics["area_top3"].str.count("; ").eq(2).all()
    assert set(topics["area_mismatch"].astype(str)) <= {"True", "False"}
    assert (topics["theory_topic"] != "").sum() >= 8 and topics["cluster_label"].str.len().gt(0).all()
    supply = pd.read_csv(out / "topic_supply.csv", keep_default_na=False)
    assert set(supply["kind"]) == {"area", "theory"} and "shortage" in supply.columns
    areas = supply[supply["kind"] == "area"]
    assert areas["submissions"].sum() == 34
    assert "does not list" not in res.output  # the slice names ICLR areas
    # Another year's call: the areas it names that the taxonomy does not list are said, in one line.
    older = pd.read_csv(data / "topics_slice.csv", keep_default_na=False)
    older.loc[:4, "primary_area"] = "Deep Learning -> Attention Models"  # a CMT subject area
    older.to_csv(tmp_path / "older.csv", index=False)
    res = CliRunner().invoke(app, ["topics", str(tmp_path / "older.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    warning = [ln for ln in res.output.splitlines() if ln.startswith("Warning:") and "does not list" in ln]
    assert len(warning) == 1 and "5 of " in warning[0] and "'Deep Learning -> Attention Models' (5)" \
        in warning[0] and "--taxonomy" in warning[0]
    assert pd.read_csv(out / "topics.csv")["area_mismatch"][:5].all()
    # Reruns are byte-identical (clusters, labels, areas, topics): tests/test_cli.py checks topics.csv.


def test_topics_command_bad_taxonomy_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from triage.cli import app

    bad = tmp_path / "areas.yaml"
    bad.write_text("topics:\n  - name: x\n", encoding="utf-8")
    data = Path(__file__).parent / "data"
    res = CliRunner().invoke(app, ["topics", str(data / "topics_slice.csv"), "--taxonomy", str(bad),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and "areas.yaml" in lines[0]
    assert "neither description nor seeds" in lines[0] and "Traceback" not in res.output
    assert not (tmp_path / "out" / "topics.csv").exists()


def test_a_word_every_cluster_shares_is_in_no_label_though_two_word_terms_rank_above_it():
    topics = [["reinforcement learning", "policy reward", "agent"], ["graph neural", "message passing", "node"],
              ["online learning", "regret bound", "bandit"], ["image segmentation", "pixel mask", "vision"],
              ["language model", "token prompt", "text"], ["kernel method", "feature map", "rkhs"],
              ["privacy budget", "differential privacy", "noise"], ["protein folding", "molecule design", "drug"],
              ["speech audio", "waveform spectrogram", "voice"]]
    docs = [" ".join(words) + f" hard problem {i}" for words in topics for i in range(6)]
    labels = np.repeat(np.arange(len(topics)), 6)
    terms = ctfidf_labels(docs, labels)
    assert len(terms) == 9 and all(terms.values())
    assert not any(t in ("hard", "problem") for chosen in terms.values() for t in chosen)


def test_qualified_reviewers_weigh_their_publications_as_the_match_does():
    """The supply table's "close" reviewers: a publication's weight moves it across the threshold as the
    match stage's weighing moves its score (cosine 0.6 weighed 0.5 is 0.33; 0.5 weighed 2 is 0.71)."""
    paper = np.eye(4, dtype=np.float32)[:1]
    pubs = np.array([[0.6, 0.8, 0, 0], [0.5, 0, np.sqrt(0.75), 0]], dtype=np.float32)
    owner = np.array([0, 1])
    plain = reviewer_paper_qualified(paper, pubs, owner, 2, threshold=0.55)
    assert plain.tolist() == [[True, False]]
    weighed = reviewer_paper_qualified(paper, pubs, owner, 2, threshold=0.55, pub_weight=np.array([0.5, 2.0]))
    assert weighed.tolist() == [[False, True]]
    assert (reviewer_paper_qualified(paper, pubs, owner, 2, threshold=0.55, pub_weight=np.ones(2)) == plain).all()


def test_the_supply_table_counts_no_reviewer_on_publications_of_weight_0(tmp_path):
    """A reviewer whose one publication weighs 0 is in no profile: the supply table neither counts them close to a
    paper (here their publication is a copy of it) nor counts their slots."""
    from triage.ingest import load_corpus
    from triage.pipeline import Embedded, run_supply
    from triage.workdir import Workdir

    (tmp_path / "s.csv").write_text("paper_id,title,abstract\np1,Leaps,We prove a bound.\n", encoding="utf-8")
    (tmp_path / "p.csv").write_text("reviewer_id,title,weight\nr1,Leaps again,0\nr2,Other,1\n", encoding="utf-8")
    (tmp_path / "r.csv").write_text("reviewer_id\nr1\nr2\n", encoding="utf-8")
    corpus = load_corpus(tmp_path / "s.csv", publications=tmp_path / "p.csv", reviewers=tmp_path / "r.csv")
    emb = Embedded(np.eye(4, dtype=np.float32)[:1], np.array([[1, 0, 0, 0], [0.6, 0.8, 0, 0]], dtype=np.float32), "m")
    wd = Workdir(tmp_path / "out")
    wd.ensure()
    supply = run_supply(corpus, emb, wd, pd.DataFrame({"paper_id": ["p1"], "area": ["A"]}))
    assert supply[["qualified_reviewers", "slots_available"]].values.tolist() == [[1, 6]]
