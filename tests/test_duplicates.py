from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triage.duplicates import DUPLICATE_COLUMNS, DuplicateParams, duplicate_partners, find_duplicates
from triage.ingest import paper_texts, read_papers

DATA = Path(__file__).parent / "data"

VOCAB = [f"w{a}{b}" for a in "abcdefghijklmnopqrst" for b in "abcdefghijklmnopqrstuvwxy"]  # 500 made-up words


def _abstract(seed: int, n: int = 60) -> str:
    return " ".join(np.random.default_rng(seed).choice(VOCAB, n, replace=False))


def _papers(rows: list[tuple[str, str, str, list[str]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["paper_id", "title", "abstract", "authors"])


def test_the_same_work_twice_is_flagged_and_unrelated_papers_are_not(fake_embedder):
    rows = [(f"p{i}", f"A study of things number {i}", _abstract(i), [f"Author {VOCAB[i]}"]) for i in range(30)]
    rows.append(("copy", "A new title for an old paper", rows[3][2], ["Someone Else"]))
    papers = _papers(rows)
    dups = find_duplicates(papers, fake_embedder.encode(paper_texts(papers)))
    assert list(dups.columns) == DUPLICATE_COLUMNS
    assert dups[["paper_id", "other_id", "reason"]].values.tolist() == [["p3", "copy", "same wording"]]
    assert dups["text_overlap"][0] > 0.9 and dups["shared_authors"][0] == ""
    assert duplicate_partners(dups) == {"p3": "copy", "copy": "p3"}


def test_a_shared_title_needs_shared_wording_and_shared_authors_lower_the_bar(fake_embedder):
    base = _abstract(1)
    part = " ".join(base.split()[:20]) + " " + _abstract(2, 40)  # a third of the words: TF-IDF cosine about 0.4
    rows = [
        ("a", "Hyperbolic Neural Networks", _abstract(7), ["Ann Lee"]),
        ("b", "Hyperbolic neural networks++", _abstract(8), ["Bo Chen"]),  # same title key, another paper
        ("c", "Sketches for Hessians", base, ["Émile Durand", "Ann Lee"]),
        ("d", "Faster sketches", part, ["Emile  Durand"]),  # the same author, spelt without the accent
        ("e", "Sketching, revisited", part, ["Zed Zhou"]),
    ] + [(f"x{i}", f"Unrelated paper {i}", _abstract(100 + i), [f"X {i}"]) for i in range(20)]
    papers = _papers(rows)
    dups = find_duplicates(papers, fake_embedder.encode(paper_texts(papers)))
    got = {(r.paper_id, r.other_id): r for r in dups.itertuples()}
    assert ("a", "b") not in got
    assert got[("c", "d")].reason == "shared authors and similar wording"
    assert got[("c", "d")].shared_authors == "emile durand"
    assert ("c", "e") not in got  # the same wording share, but no author in common
    assert got[("d", "e")].reason == "same wording"  # identical texts
    same_title = _papers([("s1", "Learning-Augmented Sketches", base, []),
                          ("s2", "Learning-augmented sketches!", part, [])] + rows[5:])
    dups = find_duplicates(same_title, fake_embedder.encode(paper_texts(same_title)))
    (row,) = dups.itertuples()
    assert row.reason == "same title"


def test_fewer_than_two_papers_give_an_empty_table(fake_embedder):
    one = _papers([("p", "T", "some words here", [])])
    assert find_duplicates(one, fake_embedder.encode(paper_texts(one))).columns.tolist() == DUPLICATE_COLUMNS
    assert find_duplicates(one.iloc[:0], np.zeros((0, 64), dtype=np.float32)).empty


@pytest.mark.e2e
def test_real_submissions_with_one_resubmitted(real_embedder, tmp_path):
    """The test slice's 34 real ICLR submissions share topics but no text; a copy of one with its sentences
    in another order and a new title is the one pair found."""
    papers = read_papers(DATA / "topics_slice.csv")
    src = papers.iloc[5]
    sentences = src["abstract"].split(". ")
    copy = {**src.to_dict(), "paper_id": "late-copy", "title": "A new title",
            "abstract": ". ".join(sentences[1:] + sentences[:1])}
    papers = pd.concat([papers, pd.DataFrame([copy])], ignore_index=True)
    dups = find_duplicates(papers, real_embedder.encode(paper_texts(papers), batch_size=32))
    assert dups[["paper_id", "other_id", "reason"]].values.tolist() == [[src["paper_id"], "late-copy", "same wording"]]


def test_papers_of_another_file_are_compared_with_the_submissions_only(fake_embedder):
    rows = [(f"p{i}", f"A study of things number {i}", _abstract(i), [f"Author {VOCAB[i]}"]) for i in range(20)]
    papers = _papers(rows)
    others = _papers([("old-7", "Last year's title", rows[7][2], [f"Author {VOCAB[7]}"]),
                      ("old-a", "Twice in the old list", _abstract(500), []),
                      ("old-b", "Twice in the old list, again", _abstract(500), [])])
    texts = paper_texts(papers)
    dups = find_duplicates(papers, fake_embedder.encode(texts), others=others,
                           other_emb=fake_embedder.encode(paper_texts(others)), other_source="iclr2024.csv")
    assert dups[["paper_id", "other_id", "other_source", "other_title", "reason", "shared_authors"]].values.tolist() \
        == [["p7", "old-7", "iclr2024.csv", "Last year's title", "same wording", f"author {VOCAB[7]}"]]
    assert duplicate_partners(dups) == {"p7": "iclr2024.csv: old-7"}
    alone = find_duplicates(papers.iloc[:1], fake_embedder.encode(texts[:1]), others=others.iloc[:1],
                            other_emb=fake_embedder.encode(paper_texts(others.iloc[:1])), other_source="x.csv")
    assert alone["other_id"].tolist() == []  # p0 and last year's copy of p7 share nothing


@pytest.mark.e2e
def test_topics_command_compares_with_an_earlier_years_file(tmp_path):
    from typer.testing import CliRunner

    from triage.cli import app

    slice_ = pd.read_csv(DATA / "topics_slice.csv", keep_default_na=False)
    src = slice_.iloc[11]
    sentences = src["abstract"].split(". ")
    earlier = pd.DataFrame({"id": ["old-1", "old-2"], "title": ["An earlier title", slice_.iloc[12]["title"]],
                            "abstract": [". ".join(sentences[1:] + sentences[:1]),
                                         "A different paper on protein folding with graph networks."],
                            "status": ["Withdrawn", ""]})  # withdrawn last year, resubmitted: still compared
    earlier.to_csv(tmp_path / "earlier.csv", index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["topics", str(DATA / "topics_slice.csv"), "--taxonomy", "none", "--theory", "none",
                                   "--compare-with", str(tmp_path / "earlier.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    dups = pd.read_csv(out / "duplicates.csv", keep_default_na=False)
    # The same title over another abstract is not flagged: a title needs some shared wording too.
    assert dups[["paper_id", "other_id", "other_source", "reason"]].values.tolist() == [
        [src["paper_id"], "old-1", "earlier.csv", "same wording"]]
    topics = pd.read_csv(out / "topics.csv", keep_default_na=False).set_index("paper_id")
    assert topics.at[src["paper_id"], "possible_duplicates"] == "earlier.csv: old-1"
    assert "1 paper(s) that may duplicate another" in res.output
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert "compare_with" in manifest and "earlier.csv" in manifest
    missing = CliRunner().invoke(app, ["topics", str(DATA / "topics_slice.csv"), "--compare-with",
                                       str(tmp_path / "nope.csv"), "-o", str(out)])
    assert missing.exit_code == 1 and "--compare-with" in missing.output
    assert "nope.csv: file not found" in missing.output


def test_blind_placeholders_other_scripts_and_one_record_in_both_files(fake_embedder):
    base, part = _abstract(1), " ".join(_abstract(1).split()[:12]) + " " + _abstract(2, 48)  # overlap 0.44
    rows = [("c", "Sketches", base, ["Anonymous"]), ("d", "Faster sketches", part, ["Anonymous"])] + [
        (f"x{i}", f"Unrelated paper {i}", _abstract(100 + i), ["Anonymous"]) for i in range(20)]
    papers = _papers(rows)
    every_pair = DuplicateParams(neighbours=len(rows))
    dups = find_duplicates(papers, fake_embedder.encode(paper_texts(papers)), every_pair)
    assert dups.empty  # "Anonymous" is nobody in common
    named = papers.assign(authors=[["Ann Lee"], ["Ann Lee"]] + [["Anonymous"]] * 20)
    dups = find_duplicates(named, fake_embedder.encode(paper_texts(named)), every_pair)
    assert dups[["paper_id", "other_id", "reason"]].values.tolist() == [
        ["c", "d", "shared authors and similar wording"]]
    cyrillic = "Мы доказываем оценку обобщения для глубоких сетей с помощью новой техники сжатия моделей"
    copies = _papers([("r1", "Оценки обобщения", cyrillic, []), ("r2", "Новые оценки", cyrillic, [])] + rows[2:])
    got = find_duplicates(copies, fake_embedder.encode(paper_texts(copies)))
    assert got[["paper_id", "other_id", "reason"]].values.tolist()[:1] == [["r1", "r2", "same wording"]]
    same = papers.iloc[[0]]  # the same record in the other file: not its own resubmission
    both = find_duplicates(papers, fake_embedder.encode(paper_texts(papers)), others=same,
                           other_emb=fake_embedder.encode(paper_texts(same)), other_source="all.csv")
    assert "all.csv" not in set(both["other_source"])


def test_another_file_only_adds_pairs(fake_embedder):
    """Comparing with another file (here: the submissions again, and a file holding one old version) keeps
    every pair found within the submissions, with the same overlap."""
    base = _abstract(1)
    part = " ".join(base.split()[:35]) + " " + _abstract(2, 25)
    rows = [("c", "Sketches for Hessians", base, ["Ann Lee"]), ("d", "Faster sketches", part, ["Bo Chen"])] + [
        (f"x{i}", f"Unrelated paper {i}", _abstract(100 + i), [f"X {i}"]) for i in range(20)]
    papers = _papers(rows)
    emb = fake_embedder.encode(paper_texts(papers))
    alone = find_duplicates(papers, emb)
    assert alone[["paper_id", "other_id", "reason"]].values.tolist() == [["c", "d", "same wording"]]
    for others in (papers.assign(paper_id="old-" + papers["paper_id"]), papers.iloc[[0]].assign(paper_id="old-c")):
        both = find_duplicates(papers, emb, others=others, other_emb=fake_embedder.encode(paper_texts(others)),
                               other_source="2023.csv")
        inner = both[both["other_source"] == "submissions"].reset_index(drop=True)
        pd.testing.assert_frame_equal(inner, alone)
        got = {(r.paper_id, r.other_id): r.text_overlap for r in both.itertuples() if r.other_source == "2023.csv"}
        assert got[("c", "old-c")] == pytest.approx(1.0)
        assert got[("d", "old-c")] == pytest.approx(alone["text_overlap"][0])  # as the pair within the submissions
