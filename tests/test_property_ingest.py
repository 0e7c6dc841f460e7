"""Property-based tests of ingest: random text, ids and missing fields in CSV and JSONL.

Whatever the table, reading it either gives the rows back (ids and text normalised) or raises
an InputError; never another exception.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.errors import InputError
from triage.ingest import clean_text, parse_list, read_papers

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

# Text with quotes, delimiters, newlines, tabs, accents, emoji and lone surrogates excluded (not encodable).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
IDS = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="/_-.~"), min_size=1, max_size=12)
MAYBE = st.one_of(st.none(), TEXT)


def rows_strategy(ids):
    return st.lists(st.fixed_dictionaries({"paper_id": ids, "title": MAYBE, "abstract": MAYBE,
                                           "keywords": st.one_of(st.none(), st.lists(MAYBE, max_size=3))}),
                    min_size=1, max_size=6)


def write(rows: list[dict], fmt: str, folder: Path) -> Path:
    if fmt == "jsonl":
        p = folder / "s.jsonl"
        p.write_text("".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in rows),
                     encoding="utf-8")
    else:
        df = pd.DataFrame([{**r, "keywords": "; ".join(x or "" for x in (r["keywords"] or []))} for r in rows])
        p = folder / "s.csv"
        # Quote every field, as spreadsheet exports do: an unquoted lone CR is a line end for readers.
        df.to_csv(p, index=False, quoting=csv.QUOTE_ALL)
    return p


@SETTINGS
@given(rows=rows_strategy(IDS), fmt=st.sampled_from(["csv", "jsonl"]))
def test_read_papers_returns_rows_or_input_error(rows, fmt):
    with tempfile.TemporaryDirectory() as d:
        p = write(rows, fmt, Path(d))
        try:
            df = read_papers(p)
        except InputError as exc:
            assert str(p) in str(exc) or "encoding" in str(exc)
            return
    ids = [clean_text(r["paper_id"]) for r in rows]
    assert df["paper_id"].tolist() == ids
    assert len(set(ids)) == len(ids) and all(ids)
    for r, title, abstract in zip(rows, df["title"], df["abstract"]):
        assert title == clean_text(r["title"])[:20_000] or title == clean_text(r["title"])
        assert abstract == clean_text(r["abstract"])[:20_000]
        assert title or abstract
    assert all(isinstance(k, list) and all(isinstance(x, str) and x for x in k) for k in df["keywords"])


@SETTINGS
@given(rows=rows_strategy(st.sampled_from(["a", "b", "c"])), fmt=st.sampled_from(["csv", "jsonl"]))
def test_duplicate_or_empty_text_is_an_input_error_naming_the_row(rows, fmt):
    ids = [r["paper_id"] for r in rows]
    no_text = [not clean_text(r["title"]) and not clean_text(r["abstract"]) for r in rows]
    with tempfile.TemporaryDirectory() as d:
        p = write(rows, fmt, Path(d))
        if len(set(ids)) < len(ids) or any(no_text):
            try:
                read_papers(p)
            except InputError as exc:
                # the row or record, or the column when no row has that field at all
                assert any(w in str(exc) for w in ("row ", "record ", "missing columns 'title' and 'abstract'"))
            else:
                raise AssertionError("expected an InputError")
        else:
            assert read_papers(p)["paper_id"].tolist() == ids


@SETTINGS
@given(value=st.one_of(st.none(), st.floats(allow_nan=True), TEXT, st.lists(st.one_of(st.none(), TEXT, st.floats()))))
def test_parse_list_never_fails(value):
    out = parse_list(value)
    assert isinstance(out, list)
    assert all(isinstance(x, str) and x and x.lower() not in ("nan", "none", "null") for x in out)
