from __future__ import annotations

import pandas as pd

from triage.summarize import split_sentences, summarize_papers

TRICKY = ("We study wide networks, e.g. two-layer ones, as in Jacot et al. (2018). We prove a bound of "
          "$O(n^2 \\log n)$ samples. It improves the rate by 3.5 points, i.e. a 12.5% gain. Results hold w.h.p. "
          "under Gaussian inputs!")


def test_split_keeps_latex_abbrev_decimals():
    s = split_sentences(TRICKY)
    assert s == [
        "We study wide networks, e.g. two-layer ones, as in Jacot et al. (2018).",
        "We prove a bound of $O(n^2 \\log n)$ samples.",
        "It improves the rate by 3.5 points, i.e. a 12.5% gain.",
        "Results hold w.h.p. under Gaussian inputs!",
    ]


def test_every_sentence_is_verbatim(data_dir):
    papers = pd.read_csv(data_dir / "submissions.csv", keep_default_na=False)
    out = summarize_papers(papers.assign(keywords=[[]] * len(papers)))
    for row, (_, p) in zip(out.itertuples(), papers.iterrows()):
        assert row.tldr and row.tldr in p["abstract"]
        assert 1 <= len(row.claims) <= 3
        assert all(c in p["abstract"] for c in row.claims)


def test_empty_text():
    assert split_sentences("   ") == []
    out = summarize_papers(pd.DataFrame({"paper_id": ["x"], "title": [""], "abstract": [""]}))
    assert out.loc[0, "tldr"] == "" and out.loc[0, "claims"] == []
