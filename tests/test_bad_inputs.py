"""The bad-input battery (tests/bad_inputs/, described in its README.md), run through the CLI.

Every case either works with one clear warning or exits 1 with one line naming the file and
the fix. Never a traceback, never a partial output file, and a failed run never replaces the
outputs of an earlier good run. The model is the deterministic fake embedder, so the battery
is fast; test_rerun.py and test_determinism.py run the real model.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import FakeEmbedder
from typer.testing import CliRunner

from triage.cli import app
from triage.errors import InputError

HERE = Path(__file__).parent
BAD = HERE / "bad_inputs"
GOOD = BAD / "good"
ROOT = HERE.parent
runner = CliRunner()


@dataclass(frozen=True)
class Case:
    name: str
    code: int
    needle: str  # the error (exit 1) or the warning (exit 0), in stderr
    sub: str = "good/submissions.csv"
    pubs: str | None = "good/publications.csv"
    revs: str | None = "good/reviewers.csv"
    conf: str | None = "good/conflicts.csv"
    extra: tuple[str, ...] = ()
    names_file: bool = True  # the message names the offending file
    rows: int | None = None  # for cases that work: papers in triage.csv
    more: tuple[str, ...] = field(default_factory=tuple)  # more substrings of stderr

    def args(self, out: Path) -> list[str]:
        # Errors go through 'run' (they stop at ingest); cases that work through 'match', which
        # ingests, embeds, finds conflicts and assigns without the slower topics and report.
        a = ["run" if self.code else "match", str(BAD / self.sub)]
        for flag, f in (("-p", self.pubs), ("-r", self.revs), ("-c", self.conf)):
            if f:
                a += [flag, str(BAD / f)]
        return [*a, *self.extra, "-o", str(out)]

    def offending(self) -> str:
        for f in (self.sub, self.pubs, self.revs, self.conf, *self.extra):
            if f and not f.startswith(("good/", "-")) and (BAD / f).exists():
                return Path(f).name
        return ""


CASES = [
    # submissions: structure
    Case("empty", 1, "file is empty", sub="empty.csv"),
    Case("blank_lines_only", 1, "file is empty", sub="blank_lines_only.csv"),
    Case("header_only", 1, "has a header but no rows", sub="header_only.csv"),
    Case("missing_paper_id", 1, "missing column 'paper_id'", sub="missing_paper_id.csv", more=("rename",)),
    Case("missing_text_columns", 1, "missing columns 'title' and 'abstract'", sub="missing_text_columns.csv"),
    Case("extra_columns", 0, "ignoring columns triage does not use: Reviewer Scores",
         sub="extra_columns.csv", rows=3),
    Case("duplicate_paper_id", 1, "duplicate paper_id 'v247/addanki24a' in row 2 and row 4",
         sub="duplicate_paper_id.csv"),
    Case("empty_paper_id", 1, "row 3 has an empty 'paper_id'", sub="empty_paper_id.csv"),
    Case("empty_abstract", 0, "1 submission(s) have no abstract (first: row 3", sub="empty_abstract.csv", rows=3),
    Case("whitespace_abstract", 0, "1 submission(s) have no abstract (first: row 4", sub="whitespace_abstract.csv",
         rows=3),
    Case("no_title_no_abstract", 1, "row 3 (paper_id 'v247/aden-ali24a') has neither title nor abstract",
         sub="no_title_no_abstract.csv"),
    Case("misspelled_abstract_column", 1, "missing column 'abstract'", sub="misspelled_abstract_column.csv",
         more=("rename 'abstarct' to 'abstract'",)),
    Case("placeholder_abstract", 0, "1 abstract(s) are a placeholder such as 'N/A' (first: row 3",
         sub="placeholder_abstract.csv", rows=3),
    # submissions: encodings, line ends, quoting
    Case("latin1", 1, "--encoding latin-1", sub="latin1.csv", more=("line 3 is not valid UTF-8 (byte 0xe9)",)),
    Case("latin1_with_encoding", 0, "", sub="latin1.csv", extra=("--encoding", "latin-1"), rows=3),
    Case("unknown_encoding", 1, "--encoding 'klingon' is not a known encoding", sub="latin1.csv",
         extra=("--encoding", "klingon"), names_file=False),
    Case("utf8_bom", 0, "", sub="utf8_bom.csv", rows=3),
    Case("crlf", 0, "", sub="crlf.csv", rows=3),
    Case("excel_trailing_empty_rows", 0, "", sub="excel_trailing_empty_rows.csv", rows=3),
    Case("quoted_newlines", 0, "", sub="quoted_newlines.csv", rows=3),
    Case("semicolon_delimited", 0, "", sub="semicolon_delimited.csv", rows=3),
    Case("ragged_rows", 1, "line 3 has 6 fields but the header names 4", sub="ragged_rows.csv",
         more=("quote fields",)),
    Case("unclosed_quote", 1, "unclosed quote", sub="unclosed_quote.csv"),
    Case("trailing_delimiter", 0, "", sub="trailing_delimiter.csv", rows=3),
    Case("long_first_row", 1, "line 2 has 6 fields but the header names 4", sub="long_first_row.csv",
         more=("quote fields that contain the delimiter",)),
    Case("spreadsheet_saved_as_csv", 1, "looks like an Excel workbook but cannot be read",
         sub="spreadsheet_saved_as.csv", more=("export the sheet as CSV",)),
    Case("image_saved_as_csv", 1, "looks like a binary file", sub="image_saved_as.csv",
         more=("export the sheet as CSV",)),
    Case("html_saved_as_csv", 1, "missing column 'paper_id'", sub="html_saved_as.csv"),
    # submissions: JSON and OpenReview notes
    Case("json_object_not_list", 1, "JSON must be a list of notes", sub="json_object_not_list.json"),
    Case("json_list_of_strings", 1, "record 1 is a str, not an object", sub="json_list_of_strings.json"),
    Case("json_syntax_error", 1, "not valid JSON (line 3", sub="json_syntax_error.json"),
    Case("jsonl_bad_line", 1, "line 2 is not valid JSON", sub="jsonl_bad_line.jsonl"),
    Case("notes_without_content", 1, "missing columns 'title' and 'abstract'", sub="notes_without_content.json"),
    Case("openreview_v1_v2_mixed", 0, "mixes OpenReview API v1 (1) and v2 (2) notes",
         sub="openreview_v1_v2_mixed.json", rows=3),
    Case("openreview_withdrawn", 0, "2 submission(s) are withdrawn, desk-rejected or without a paper (first: record 3",
         sub="openreview_withdrawn.json", rows=6, more=("Withdrawn_Submission", "left out")),
    Case("nan_none_in_lists_json", 0, "", sub="nan_none_in_lists.json", rows=2),
    Case("nan_none_in_lists_csv", 0, "", sub="nan_none_in_lists.csv", rows=3),
    # publications
    Case("pubs_missing_reviewer_id", 1, "missing column 'reviewer_id'", pubs="pubs_missing_reviewer_id.csv"),
    Case("pubs_unknown_reviewer", 0, "1 publication(s) belong to reviewers not in", pubs="pubs_unknown_reviewer.csv",
         rows=8, more=("~Not_In_Pool1",)),
    Case("pubs_ids_not_in_reviewers", 1, "none of its reviewer_ids is in", revs="reviewers_ids_are_emails.csv",
         more=("use the same reviewer ids in both files",)),
    Case("pubs_bad_year", 1, "row 3 column 'year' is 'forthcoming'", pubs="pubs_bad_year.csv"),
    Case("pubs_without_text", 1, "no publication has a title or abstract", pubs="pubs_without_text.csv"),
    # reviewers
    Case("reviewers_without_publications", 0, "2 reviewer(s) have no publications",
         revs="reviewers_without_publications.csv", rows=8, names_file=False),
    Case("reviewers_bad_max_load", 1, "row 3 column 'max_load' is 'lots'", revs="reviewers_bad_max_load.csv"),
    Case("reviewers_negative_load", 1, "row 5 column 'max_load' is '-2'", revs="reviewers_negative_load.csv"),
    Case("reviewers_min_over_max", 1, "row 2 has min_load 5 > max_load 2", revs="reviewers_min_over_max.csv"),
    Case("reviewers_duplicate_id", 1, "duplicate reviewer_id '~Yeshwanth_Cherapanamjeri1'",
         revs="reviewers_duplicate_id.csv"),
    # conflicts
    Case("conflicts_unknown_ids", 0, "2 conflict(s) name unknown paper or reviewer ids",
         conf="conflicts_unknown_ids.csv", rows=8),
    Case("conflicts_by_email", 0, "", revs="reviewers_with_email.csv", conf="conflicts_by_email.csv", rows=8),
    Case("conflicts_missing_column", 1, "missing column 'reviewer_id'", conf="conflicts_missing_column.csv"),
    Case("conflicts_empty_id", 1, "row 3 has an empty paper_id or reviewer_id", conf="conflicts_empty_id.csv"),
    Case("conflicts_openreview_headerless", 0, "", conf="conflicts_openreview_headerless.csv", rows=8),
    # options that need a model run (checked again below against an earlier good run)
    Case("infeasible_loads", 1, "assignment is infeasible", revs="reviewers_infeasible_loads.csv",
         names_file=False, more=("raise",)),
    Case("per_paper_larger_than_pool", 1, "--per-paper 11 is larger than the reviewer pool (10)",
         extra=("--per-paper", "11"), names_file=False),
    Case("min_load_over_max_load", 1, "--min-load 8 is above --max-load 6", extra=("--min-load", "8", "--max-load",
                                                                                   "6"), names_file=False),
    Case("since_after_every_publication", 1, "--since 2030: no reviewer publication is from 2030 or later",
         extra=("--since", "2030"), names_file=False),
    Case("bids_unknown_paper", 0, "1 bid(s) name unknown paper or reviewer ids (first: v247/withdrawn",
         extra=("--bids", str(BAD / "bids_unknown_paper.csv")), rows=8, names_file=False),
    Case("taxonomy_syntax_error", 1, "not valid YAML", extra=("--taxonomy", str(BAD / "taxonomy_syntax_error.yaml"))),
    Case("keep_assignments_missing_column", 1, "missing column 'reviewer_id'",
         extra=("--keep-assignments", str(BAD / "previous_assignments_no_reviewer.csv"))),
]


@pytest.fixture
def fake_model(monkeypatch):
    """The fake embedder in place of the bundled model, for every stage that loads one."""
    import triage.pipeline

    made: list[FakeEmbedder] = []

    def load(*args, **kwargs):
        made.append(FakeEmbedder())
        return made[-1]

    monkeypatch.setattr(triage.pipeline, "load_embedder", load)
    return made


def files_under(folder: Path) -> dict[str, bytes]:
    """Every output file (not the embedding cache) by relative path."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] != "cache"}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith((".tmp", ".staged", ".bak"))]


def check_error_output(stderr: str, stdout: str, needle: str, filename: str = "") -> None:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert "Traceback" not in stderr + stdout
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert needle in lines[0], lines[0]
    if filename:
        assert filename in lines[0], lines[0]


def test_battery_is_documented_and_complete():
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    assert len(CASES) >= 30
    used = {c.sub for c in CASES} | {c.pubs for c in CASES} | {c.revs for c in CASES} | {c.conf for c in CASES}
    used |= {Path(e).name for c in CASES for e in c.extra if (BAD / Path(e).name).is_file()}
    for f in BAD.iterdir():
        if f.is_file() and f.name != "README.md":
            assert f.name in used, f"{f.name} is in the battery but no case uses it"
    for c in CASES:
        assert f"`{c.name}`" in readme, f"case {c.name} is not listed in tests/bad_inputs/README.md"
    for name in ("huge_abstract", "unwritable_output_folder", "disk_full", "ctrl_c_during_embedding"):
        assert f"`{name}`" in readme


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case, fake_model, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, case.args(out))
    assert res.exit_code == case.code, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    if case.code == 1:
        check_error_output(res.stderr, res.stdout, case.needle, case.offending() if case.names_file else "")
        assert files_under(out) == {}, "a failed run left output files"
    else:
        if case.needle:
            assert res.stderr.count(case.needle) == 1, res.stderr
            if case.names_file:
                assert case.offending() in res.stderr
        else:
            assert "Warning" not in res.stderr, res.stderr
        import pandas as pd

        assert pd.read_csv(out / "assignments.csv")["paper_id"].nunique() == case.rows
    for needle in case.more:
        assert needle in res.stderr, res.stderr
    assert leftovers(tmp_path) == []


def test_huge_abstract_is_truncated_with_one_warning(fake_model, tmp_path):
    """A 1 MB abstract (a paste error) is cut to 20,000 characters, said once; the run works."""
    import pandas as pd

    subs = pd.read_csv(GOOD / "submissions.csv", dtype=str, keep_default_na=False).iloc[:3].copy()
    subs.loc[1, "abstract"] = (subs.loc[1, "abstract"] + " ") * (1_000_000 // len(subs.loc[1, "abstract"]) + 1)
    p = tmp_path / "huge_abstract.csv"
    subs.to_csv(p, index=False)
    assert p.stat().st_size > 1_000_000
    res = runner.invoke(app, ["match", str(p), "-p", str(GOOD / "publications.csv"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert res.stderr.count("longer than 20000 characters (first: row 3") == 1, res.stderr
    assert pd.read_csv(tmp_path / "o" / "assignments.csv")["paper_id"].nunique() == 3


def test_huge_title_is_truncated_with_one_warning(fake_model, tmp_path):
    """A 1 MB title (an abstract pasted into the title cell, or worse) is cut to 20,000 characters as an abstract
    is, said once, so the claim cards do not split and score a megabyte of title."""
    import pandas as pd

    subs = pd.read_csv(GOOD / "submissions.csv", dtype=str, keep_default_na=False).iloc[:3].copy()
    subs.loc[1, "title"] = (subs.loc[1, "abstract"] + " ") * (1_000_000 // len(subs.loc[1, "abstract"]) + 1)
    p = tmp_path / "huge_title.csv"
    subs.to_csv(p, index=False)
    res = runner.invoke(app, ["summarize", str(p), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert res.stderr.count("1 title value(s) longer than 20000 characters (first: row 3") == 1, res.stderr
    cards = pd.read_csv(tmp_path / "o" / "summaries.csv", keep_default_na=False)
    assert len(cards) == 3 and cards["tldr"].str.len().max() <= 20_000

def test_warnings_and_errors_print_user_text_verbatim(fake_model, tmp_path):
    """Ids and paths with brackets or colons ('ann[/i]', '[draft]:x:') are not read as markup or emoji codes."""
    folder = tmp_path / "[draft]:x:"
    folder.mkdir()
    shutil.copy(GOOD / "publications.csv", folder / "pubs.csv")
    revs = tmp_path / "reviewers.csv"
    revs.write_text((GOOD / "reviewers.csv").read_text(encoding="utf-8") + "ann[/i],Ann Lee,\n", encoding="utf-8")
    res = runner.invoke(app, ["match", str(GOOD / "submissions.csv"), "-p", str(folder / "pubs.csv"),
                              "-r", str(revs), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and res.exception is None
    assert "(first: 'ann[/i]')" in res.stderr and f"add their papers to {folder / 'pubs.csv'}" in res.stderr
    shutil.copy(BAD / "missing_paper_id.csv", folder / "subs.csv")
    res = runner.invoke(app, ["run", str(folder / "subs.csv"), "-o", str(tmp_path / "o2")])
    assert res.exit_code == 1
    check_error_output(res.stderr, res.stdout, "missing column 'paper_id'", str(folder / "subs.csv"))


HUGE_CELL = "x\ny\t" + "z" * 1_500_000  # a 1.5 MB cell, with a line break and a tab (read as spaces)


@pytest.mark.parametrize("file,column,flag,needle", [
    ("reviewers.csv", "max_load", "-r", "row 3 column 'max_load' is 'x y zzz"),
    ("publications.csv", "year", "-p", "row 3 column 'year' is 'x y zzz"),
    ("submissions.csv", "paper_id", None, "duplicate paper_id 'x y zzz"),
])
def test_a_huge_cell_is_quoted_short_on_one_line(file, column, flag, needle, fake_model, tmp_path):
    """A value the message quotes is cut at about 80 characters, and its line breaks and tabs are written as
    escapes: the error stays one short line, not 1.5 MB."""
    import pandas as pd

    df = pd.read_csv(GOOD / file, dtype=str, keep_default_na=False)
    if column not in df.columns:
        df[column] = ""
    df.loc[1, column] = HUGE_CELL
    if column == "paper_id":
        df.loc[2, column] = HUGE_CELL
    bad = tmp_path / file
    df.to_csv(bad, index=False)
    args = ["run", str(bad if flag is None else GOOD / "submissions.csv")]
    if flag:
        args += [flag, str(bad)]
    res = runner.invoke(app, [*args, "-o", str(tmp_path / "o")])
    assert res.exit_code == 1, res.output
    check_error_output(res.stderr, res.stdout, needle, str(bad))
    assert "...'" in res.stderr and len(res.stderr) < 400, res.stderr[:500]


def test_a_bad_taxonomy_file_is_named_once(tmp_path):
    res = runner.invoke(app, ["topics", str(GOOD / "submissions.csv"), "--taxonomy",
                              str(BAD / "taxonomy_syntax_error.yaml"), "-o", str(tmp_path / "o")])
    check_error_output(res.stderr, res.stdout, "--taxonomy: ", "taxonomy_syntax_error.yaml")
    assert res.stderr.count("taxonomy_syntax_error.yaml") == 1, res.stderr


def test_a_placeholder_abstract_is_one_warning(fake_model, tmp_path):
    """A placeholder abstract is said once, with what to do, not again as a submission without an abstract."""
    res = runner.invoke(app, ["match", str(BAD / "placeholder_abstract.csv"), "-p", str(GOOD / "publications.csv"),
                              "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "placeholder such as 'N/A'" in lines[0] and "fill in the abstracts" in lines[0], lines


def test_a_huge_id_in_a_warning_is_cut(fake_model, tmp_path):
    """A warning quotes the first of the rows it sums up cut short, as an error does."""
    pubs = tmp_path / "pubs.csv"
    pubs.write_text((GOOD / "publications.csv").read_text(encoding="utf-8")
                    + f"{'r' * 5000},p-x,A title,An abstract,2020,,\n", encoding="utf-8")
    res = runner.invoke(app, ["match", str(GOOD / "submissions.csv"), "-p", str(pubs), "-r",
                              str(GOOD / "reviewers.csv"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.stderr.splitlines() if "belong to reviewers not in" in ln)
    assert f"(first: '{'r' * 77}...'); ignored: add those reviewers" in line and len(line) < 400, line[:500]


def test_an_error_message_with_a_line_break_is_printed_on_one_line(tmp_path):
    """Whatever an error or a warning quotes (a library's message, a path), it is printed on one line."""
    import logging

    from triage.cli import handle_errors

    def fails() -> None:
        logging.getLogger("triage").warning("a warning\nover two lines")
        raise InputError("an error\tover\ntwo lines")

    res = runner.invoke(typer_app_of(handle_errors(fails)), [])
    assert res.exit_code == 1
    assert res.stderr.splitlines() == ["Warning: a warning\\nover two lines",
                                       "Error: an error\\tover\\ntwo lines"], res.stderr


def typer_app_of(fn):
    import typer

    one = typer.Typer()
    one.command()(fn)
    return one


# ---------------------------------------------------------------------------------------------
# Failures after a good run: the earlier outputs stay byte for byte
# ---------------------------------------------------------------------------------------------
def good_args(out: Path, *extra: str) -> list[str]:
    return ["run", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-r",
            str(GOOD / "reviewers.csv"), "-c", str(GOOD / "conflicts.csv"), *extra, "-o", str(out)]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """One good run with the fake embedder: its output folder and the bytes of every output."""
    import triage.pipeline

    mp = pytest.MonkeyPatch()
    mp.setattr(triage.pipeline, "load_embedder", lambda *a, **k: FakeEmbedder())
    out = tmp_path_factory.mktemp("good") / "out"
    try:
        res = runner.invoke(app, good_args(out))
    finally:
        mp.undo()
    assert res.exit_code == 0, res.output
    snap = files_under(out)
    assert {"triage.csv", "assignments.csv", "report.html", "manifest.json"} <= set(snap)
    return out, snap


@pytest.fixture
def earlier(good_run, tmp_path):
    """A copy of the good run's folder, to fail in."""
    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    return out, good_run[1]


def late_submissions(tmp_path: Path) -> Path:
    """The good submissions plus one late paper: a failed rerun on these would change every output."""
    text = (GOOD / "submissions.csv").read_text(encoding="utf-8")
    p = tmp_path / "late.csv"
    p.write_text(text + 'late/1,Regret of late bandits,"We prove regret bounds for bandits that arrive late.",\n',
                 encoding="utf-8")
    return p


@pytest.mark.parametrize("case", [c for c in CASES if c.name in (
    "infeasible_loads", "per_paper_larger_than_pool", "taxonomy_syntax_error", "reviewers_bad_max_load",
    "latin1", "keep_assignments_missing_column")], ids=lambda c: c.name)
def test_failed_rerun_keeps_earlier_outputs(case, earlier, fake_model, tmp_path):
    out, before = earlier
    args = case.args(out)
    args[1] = str(late_submissions(tmp_path)) if case.sub.startswith("good/") else args[1]
    res = runner.invoke(app, args)
    assert res.exit_code == 1, res.output
    check_error_output(res.stderr, res.stdout, case.needle)
    assert files_under(out) == before
    assert leftovers(out) == []


def test_unwritable_output_folder(fake_model, tmp_path, earlier):
    """An --out folder that cannot be created (its parent is a file) or written (read-only)."""
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    res = runner.invoke(app, good_args(blocker / "out"))
    assert res.exit_code == 1, res.output
    check_error_output(res.stderr, res.stdout, "is a file, where the output folder should be", "a_file")
    assert "--out" in res.stderr

    out, before = earlier
    if os.geteuid() == 0:  # root ignores permission bits: simulate the refusal instead
        with pytest.MonkeyPatch.context() as mp:
            real_mkstemp = __import__("tempfile").mkstemp

            def refuse(*a, **k):
                if str(k.get("dir", "")).startswith(str(out)) and "cache" not in str(k.get("dir", "")):
                    raise PermissionError(errno.EACCES, "Permission denied")
                return real_mkstemp(*a, **k)

            mp.setattr("tempfile.mkstemp", refuse)
            res = runner.invoke(app, good_args(out))
    else:
        out.chmod(0o555)
        try:
            res = runner.invoke(app, good_args(out))
        finally:
            out.chmod(0o755)
    assert res.exit_code == 1, res.output
    check_error_output(res.stderr, res.stdout, "permission denied", str(out))
    assert files_under(out) == before


@pytest.fixture(scope="module")
def replaces_in_rerun(good_run, tmp_path_factory):
    """How many times a rerun on the late submissions calls os.replace (writes, cache, commit)."""
    import triage.pipeline

    trial = tmp_path_factory.mktemp("trial")
    shutil.copytree(good_run[0], trial / "out")
    args = good_args(trial / "out")
    args[1] = str(late_submissions(trial))
    calls = []
    real = os.replace

    def counting(src, dst):
        if "cache" not in Path(dst).parts:
            calls.append(dst)
        return real(src, dst)

    mp = pytest.MonkeyPatch()
    mp.setattr(triage.pipeline, "load_embedder", lambda *a, **k: FakeEmbedder())
    mp.setattr(os, "replace", counting)
    try:
        res = runner.invoke(app, args)
    finally:
        mp.undo()
    assert res.exit_code == 0, res.output
    assert str(calls[-1]).endswith("manifest.json")  # the commit renames the manifest last
    return len(calls)


@pytest.mark.parametrize("when", ["first", "middle", "last"])
def test_disk_full_keeps_earlier_outputs(when, earlier, replaces_in_rerun, fake_model, tmp_path, monkeypatch):
    """os.replace of an output fails with ENOSPC on its first, a middle, or its last call (a commit rename). (A
    cache that cannot be written costs only the caching: test_a_cache_that_cannot_be_written_costs_only_the_caching.)
    """
    out, before = earlier
    args = good_args(out)
    args[1] = str(late_submissions(tmp_path))
    total = replaces_in_rerun
    fail_at = {"first": 1, "middle": total // 2, "last": total}[when]
    calls = []
    real = os.replace

    def full(src, dst):
        if "cache" not in Path(dst).parts:
            calls.append(dst)
            if len(calls) == fail_at:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", full)
    res = runner.invoke(app, args)
    monkeypatch.setattr(os, "replace", real)
    assert res.exit_code == 1, res.output
    check_error_output(res.stderr, res.stdout, "no space left on the device")
    assert files_under(out) == before
    assert leftovers(out) == []


class InterruptingEmbedder(FakeEmbedder):
    """Embeds the first call, then raises KeyboardInterrupt as Ctrl-C would."""

    def __init__(self, interrupt_at: int) -> None:
        super().__init__()
        self.interrupt_at = interrupt_at

    def encode(self, texts, *, batch_size=32):
        if self.calls + 1 == self.interrupt_at:
            self.calls += 1
            raise KeyboardInterrupt
        return super().encode(texts, batch_size=batch_size)


def test_ctrl_c_during_embedding(earlier, monkeypatch, tmp_path):
    """Exit 130 with one line; the earlier outputs stay; the next run embeds only what was left."""
    import triage.pipeline

    out, before = earlier
    subs = late_submissions(tmp_path)
    pubs = tmp_path / "pubs.csv"
    pubs.write_text((GOOD / "publications.csv").read_text(encoding="utf-8")
                    + "~Tong_Zhang1,late/p,Late bandit regret,We bound the regret of late bandits.,2024,,\n",
                    encoding="utf-8")
    args = ["match", str(subs), "-p", str(pubs), "-r", str(GOOD / "reviewers.csv"), "-o", str(out)]
    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: InterruptingEmbedder(2))
    res = runner.invoke(app, args)
    assert res.exit_code == 130, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert lines == ["Interrupted: no output was changed; the caches (embeddings, affinity table, LLM answers) are "
                     "kept, so a rerun resumes from them."], res.stderr
    assert "Traceback" not in res.output
    assert files_under(out) == before
    assert leftovers(out) == []
    # The paper chunk finished before Ctrl-C: the rerun embeds only the new publication.
    made: list[FakeEmbedder] = []
    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: made.append(FakeEmbedder()) or made[-1])
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    stats = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["embed"]["stats"]
    assert (stats["papers"]["embedded"], stats["papers"]["cached"]) == (0, 9)
    assert stats["publications"]["embedded"] == 1
    assert made[0].seen == 1  # the embedding stage's model saw only the new publication


def test_sigterm_ends_like_ctrl_c(earlier, monkeypatch, tmp_path):
    """SIGTERM (a scheduler's time limit, a container stop) while the report renders, when every other output
    of the rerun is staged: exit 143 with one line, the staged files are gone, the earlier outputs stay, and
    SIGTERM's handler is restored."""
    import triage.pipeline

    out, before = earlier
    staged: list[list[str]] = []

    def killed(*a, **k):
        staged.append(leftovers(out))
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs before this returns

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: FakeEmbedder())
    monkeypatch.setattr(triage.pipeline, "render_report", killed)
    handler = signal.getsignal(signal.SIGTERM)
    args = good_args(out)
    args[1] = str(late_submissions(tmp_path))
    res = runner.invoke(app, args)
    assert res.exit_code == 143, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Terminated:"), res.stderr
    assert len(staged[0]) > 5  # the rerun's other outputs were written when the signal came
    assert files_under(out) == before
    assert leftovers(out) == []
    assert signal.getsignal(signal.SIGTERM) is handler


# ---------------------------------------------------------------------------------------------
# Real processes: nothing but the one line reaches the terminal
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,needle", [
    ("latin1.csv", "--encoding latin-1"),
    ("spreadsheet_saved_as.csv", "looks like an Excel workbook but cannot be read"),
    ("image_saved_as.csv", "looks like a binary file"),
    ("json_object_not_list.json", "JSON must be a list of notes"),
])
def test_real_process_prints_one_line(name, needle, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "triage", "run", str(BAD / name), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    check_error_output(proc.stderr, proc.stdout, needle, name)
    assert not (tmp_path / "o").exists() or files_under(tmp_path / "o") == {}


SLOW_MODEL = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder
import triage.pipeline

class Slow(FakeEmbedder):
    def encode(self, texts, *, batch_size=32):
        Path({marker!r}).write_text("embedding")
        for _ in range(600):  # short sleeps: a SIGINT that lands before one starts is seen at the next
            time.sleep(0.1)
        return super().encode(texts, batch_size=batch_size)

triage.pipeline.load_embedder = lambda *a, **k: Slow()
from triage.cli import app
from triage.errors import InputError
sys.argv[0] = "triage"
app()
"""


def test_real_ctrl_c_during_embedding(tmp_path):
    """SIGINT to a real process while it embeds: exit 130, one line, no traceback, no outputs."""
    marker = tmp_path / "embedding.started"
    script = tmp_path / "slow_triage.py"
    script.write_text(SLOW_MODEL.format(tests=str(HERE), marker=str(marker)), encoding="utf-8")
    out = tmp_path / "o"
    # As from a terminal: a test run started in the background inherits SIGINT ignored, and so would the child.
    proc = subprocess.Popen([sys.executable, str(script), *good_args(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), proc.communicate()[1]
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Interrupted:"), stderr
    assert "Traceback" not in stdout + stderr
    assert files_under(out) == {}


HOLD_LOCK = """
import sys, time
from pathlib import Path
from triage.workdir import folder_lock
with folder_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_command_on_a_folder_in_use_stops_at_once(earlier, fake_model, tmp_path):
    """While another process writes into the folder, a command that would write there stops with one line naming
    that process and leaves the folder as it was; 'status', which only reads, still works; once the other ends,
    the folder is free again and holds no lock file."""
    out, before = earlier
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        for args in (good_args(out), ["export", str(GOOD / "submissions.csv"), "-o", str(out)]):
            res = runner.invoke(app, args)
            assert res.exit_code == 1, res.output
            check_error_output(res.stderr, res.stdout, f"{out}: another triage command is writing to this folder "
                               f"(pid {holder.pid}); wait for it to finish or pass another -o")
        assert time.monotonic() - t0 < 20  # at once, not after the work
        res = runner.invoke(app, ["affinity", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"),
                                  "-o", str(tmp_path / "scores.csv"), "--work", str(out)])
        assert res.exit_code == 1 and "pass another --work" in res.stderr, res.output
        assert not (tmp_path / "scores.csv").exists()
        res = runner.invoke(app, ["status", "-o", str(out)])
        assert res.exit_code == 0 and "report" in res.stdout, res.output
        assert files_under(out) == {**before, ".triage.lock": f"{holder.pid}\n".encode()}
    finally:
        holder.kill()
        holder.wait()
    assert (out / ".triage.lock").exists()  # as a killed command leaves it: it no longer locks the folder
    res = runner.invoke(app, good_args(out))
    assert res.exit_code == 0, res.output
    assert not (out / ".triage.lock").exists()


def test_affinity_holds_the_lock_of_its_scores_files_folder(earlier, fake_model, tmp_path):
    """affinity stages its scores file in the -o file's folder: it holds that folder's lock as well as --work's, so a
    command on that folder never takes its staged file for a leftover (and one running there stops it at once)."""
    out, _ = earlier
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    args = ["affinity", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-o",
            str(out / "scores.csv")]
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = runner.invoke(app, [*args, "--work", str(tmp_path / "work")])
        assert res.exit_code == 1, res.output
        check_error_output(res.stderr, res.stdout, f"{out}: another triage command is writing to this folder "
                           f"(pid {holder.pid}); wait for it to finish or pass another -o")
        assert not (out / "scores.csv").exists()
    finally:
        holder.kill()
        holder.wait()
    # --work the same folder: locked once; the leftovers of its scores file are removed, another file's are not
    for name in (".scores.csv.triage-abcd1234.staged", "..scores.csv.triage-abcd1234.staged.triage-x_9y8z7w.tmp",
                 ".mine.csv.triage-abcd1234.staged"):
        (out / name).write_text("x", encoding="utf-8")
    res = runner.invoke(app, [*args, "--work", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "scores.csv").exists() and not (out / ".triage.lock").exists()
    assert leftovers(out) == [".mine.csv.triage-abcd1234.staged"]


def test_affinity_to_standard_output_locks_no_folder_but_its_work(earlier, fake_model, tmp_path, monkeypatch):
    """'-o -' writes no file: a command writing into the current folder (another 'affinity -o -' in the same
    pipeline folder, a 'triage run -o .') does not stop it."""
    out, _ = earlier
    monkeypatch.chdir(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = runner.invoke(app, ["affinity", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"),
                                  "-o", "-", "--work", str(out)])
        assert res.exit_code == 0, res.output
        assert res.stdout.startswith("paper_id,reviewer_id,score")
    finally:
        holder.kill()
        holder.wait()


def test_a_command_removes_what_killed_commands_left(earlier, fake_model):
    """The hidden temporary and staged files of triage's own outputs that runs killed with kill -9 left are removed by
    the next command on the folder (in a cache, a day later); nothing else is: not the user's own hidden files, not
    files of names much like triage's."""
    out, _ = earlier
    model = next((out / "cache" / "embeddings").iterdir()).name
    key = "0123456789abcdef" * 4
    left = [".affinity.csv.triage-k2_9xq0a.staged", "embeddings/.papers.npy.triage-abcd1234.staged",
            ".triage.csv.triage-a1b2c3d4.tmp", ".report.html.triage-31337.bak",
            "..manifest.json.triage-abcd1234.staged.triage-x_9y8z7w.tmp", ".cmt_scores.csv.triage-abcdefgh.staged",
            "by_area/.optimization.csv.triage-lkjhgfds.staged", "by_cluster/.cluster-01-bandits.xlsx.triage-4242.bak"]
    old_cache = [f"cache/embeddings/{model}/.shard-000003-0a1b2c3d4e5f.npy.triage-zz9_8yx7.tmp",
                 f"cache/affinity/.{key}.pkl.triage-qwertyui.tmp", f"cache/llm/01/.{key}.json.triage-m0n1b2v3.tmp"]
    kept = [".zshrc.20240101.bak", ".notes.md.backup01.tmp", ".chair.plan.jan2024a.staged",  # the user's own
            ".assignments.csv.20241130.bak", ".report.html.backup01.tmp", ".triage.csv.a1b2c3d4.tmp",
            "notes.staged", ".affinity.csv.staged", ".affinity.csv.ABCDEFGH.staged", ".x.abcd1234.old",
            "mine/.papers.csv.abcd1234.tmp", ".triage.csv.a1b2c3d4.tmp.txt", "embeddings/.npy.bak",
            ".report.html.bak", ".triage.csv.abcdefg.tmp", ".triage.csv.backup01.bak", ".papers.npy.abcd1234.staged",
            ".mytriage.csv.abcd1234.tmp", ".triage.csv.v2.abcd1234.tmp", "embeddings/.notes.npy.abcd1234.tmp",
            "by_area/.my notes.csv.abcd1234.tmp", "by_area/.optimization.txt.abcd1234.tmp",
            "cache/.zshrc.abcd1234.tmp", "cache/affinity/.mine.pkl.triage-abcd1234.tmp",
            f"cache/affinity/.{key[::-1]}.pkl.triage-abcd1234.tmp"]  # a cache's, but new: maybe a live command's
    for name in left + old_cache + kept:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("x", encoding="utf-8")
    day_ago = time.time() - 25 * 3600
    for name in [*old_cache, "cache/affinity/.mine.pkl.triage-abcd1234.tmp"]:
        os.utime(out / name, (day_ago, day_ago))
    (out / ".triage.csv.abcd1234.staged").mkdir()
    res = runner.invoke(app, ["export", str(GOOD / "submissions.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert [n for n in left + old_cache if (out / n).exists()] == []
    assert [n for n in kept if not (out / n).exists()] == [] and (out / ".triage.csv.abcd1234.staged").is_dir()


def test_a_file_system_without_locks_runs_unlocked_with_a_warning(earlier, fake_model, monkeypatch):
    import triage.workdir as W

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    out, _ = earlier
    monkeypatch.setattr(W.fcntl, "flock", no_locks)
    res = runner.invoke(app, ["export", str(GOOD / "submissions.csv"), "-r", str(GOOD / "reviewers.csv"),
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert res.stderr.strip() == (f"Warning: {out}: cannot lock the folder (No locks available); make sure no other "
                                  "triage command writes to it at the same time")
    assert not (out / ".triage.lock").exists()


def test_a_failed_command_leaves_no_folder_for_its_lock(tmp_path):
    out = tmp_path / "new" / "out"
    res = runner.invoke(app, ["run", str(BAD / "latin1.csv"), "-o", str(out)])
    assert res.exit_code == 1, res.output
    assert not (tmp_path / "new").exists()


def test_trailing_delimiters_keep_the_columns_in_place():
    """Rows that end with the delimiter must not turn the first column into an index (shifting every column)."""
    from triage.ingest import read_papers

    good = read_papers(GOOD / "submissions.csv").iloc[:3]
    got = read_papers(BAD / "trailing_delimiter.csv")
    assert got["paper_id"].tolist() == good["paper_id"].tolist()
    assert got["title"].tolist() == good["title"].tolist() and got["abstract"].tolist() == good["abstract"].tolist()


def test_conflict_by_email_applies_to_the_reviewer_id():
    from triage.ingest import load_corpus

    corpus = load_corpus(GOOD / "submissions.csv", publications=GOOD / "publications.csv",
                         reviewers=BAD / "reviewers_with_email.csv", conflicts=BAD / "conflicts_by_email.csv")
    assert corpus.conflicts[["paper_id", "reviewer_id"]].values.tolist() == [["v247/addanki24a",
                                                                              "~Enric_Boix_Adsera1"]]


def test_encoding_applies_only_to_files_that_are_not_utf8(tmp_path):
    """--encoding latin-1 for a latin-1 reviewers sheet must not garble UTF-8 submissions read in the same run."""
    from triage.ingest import read_papers, read_reviewers

    revs = tmp_path / "reviewers.csv"
    revs.write_bytes("reviewer_id,name\n~Enric_Boix_Adsera1,Enric Boix Adserà\n".encode("latin-1"))
    assert read_reviewers(revs, encoding="latin-1")["name"].tolist() == ["Enric Boix Adserà"]
    subs = tmp_path / "subs.csv"
    subs.write_text("paper_id,title,abstract\np1,Théorie des réseaux,Une preuve.\n", encoding="utf-8")
    assert read_papers(subs, encoding="latin-1")["title"].tolist() == ["Théorie des réseaux"]


@pytest.mark.parametrize("command", ["export", "report", "status"])
def test_commands_that_read_a_run_need_one(command, tmp_path):
    """A mistyped -o is an error, not an empty spreadsheet or report (or 'no stage has run')."""
    for folder in (tmp_path / "no_such_folder", tmp_path):
        args = [command, "-o", str(folder)] if command == "status" else [command, str(GOOD / "submissions.csv"),
                                                                          "-o", str(folder)]
        res = runner.invoke(app, args)
        if command == "status" and folder == tmp_path:
            assert res.exit_code == 0 and "no stage has run yet" in res.stdout, res.output  # a real, empty folder
            continue
        assert res.exit_code == 1, res.output
        check_error_output(res.stderr, res.stdout, "no such folder" if command == "status" else
                           "no stage has run in this folder")
        assert not (tmp_path / "no_such_folder").exists()
        assert not (tmp_path / "triage.csv").exists() and not (tmp_path / "report.html").exists()


def test_withdrawn_and_desk_rejected_are_left_out_and_listed(fake_model, tmp_path):
    """An OpenReview dump still holds withdrawn and desk-rejected notes: no reviewer goes to them, and the run
    lists them in excluded.csv and the report (and forgets the list once the status column has none)."""
    import pandas as pd

    out = tmp_path / "out"
    res = runner.invoke(app, good_args(out)[:1] + [str(BAD / "openreview_withdrawn.json")] + good_args(out)[2:])
    assert res.exit_code == 0, res.output
    excluded = pd.read_csv(out / "excluded.csv", keep_default_na=False)
    assert excluded["paper_id"].tolist() == ["v247/aliakbarpour24a", "v247/anari24a"]
    assert excluded["reason"].str.endswith(("/Withdrawn_Submission", "/Desk_Rejected_Submission")).all()
    table = pd.read_csv(out / "triage.csv", keep_default_na=False)
    assert len(table) == 6 and not set(excluded["paper_id"]) & set(table["Paper ID"])
    assert not set(excluded["paper_id"]) & set(pd.read_csv(out / "assignments.csv")["paper_id"])
    report = (out / "report.html").read_text()
    assert "2 submission(s) left out as withdrawn, desk-rejected or without a paper" in report
    said = res.stderr.replace("\n", " ")  # a warning, on stderr with the others
    assert "Warning: 2 submission(s) left out" in said and "left out as withdrawn" not in res.stdout
    res = runner.invoke(app, good_args(out))
    assert res.exit_code == 0, res.output
    assert not (out / "excluded.csv").exists()


def test_a_failure_at_the_last_step_reports_no_success(earlier, fake_model, tmp_path):
    """report.html cannot be replaced (a folder took its name): nothing changes, and stdout says nothing was
    written or done."""
    out, before = earlier
    (out / "report.html").unlink()
    (out / "report.html").mkdir()
    before = files_under(out)
    res = runner.invoke(app, good_args(out))
    assert res.exit_code == 1, res.output
    assert "report.html" in res.stderr and "Traceback" not in res.output
    assert "wrote" not in res.stdout and "done in" not in res.stdout, res.stdout
    assert files_under(out) == before


def test_text_checks_read_the_rows_that_stay(tmp_path):
    """Placeholders count as no text; withdrawn rows are left out before the checks (they need no text, and
    their resubmission may reuse the id); a status column is read, so it is not 'ignored'; a trailing
    delimiter on a later row only is as harmless as on every row."""
    from triage.ingest import read_papers

    p = tmp_path / "s.csv"
    p.write_text("paper_id,title,abstract\nP1,,N/A\nP2,Real title,Real abstract.\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2 \(paper_id 'P1'\) has neither title nor abstract"):
        read_papers(p)
    p.write_text("paper_id,title,abstract,status\nP1,,,Withdrawn\nP1,A title,An abstract.,Active\n"
                 "P2,Other,Text.,Desk Rejected\nP3,Third,More text.,\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        said: list[str] = []
        mp.setattr("triage.ingest.log.warning", lambda msg, *a: said.append(msg % a))
        got = read_papers(p)
    assert got["paper_id"].tolist() == ["P1", "P3"] and got["title"].tolist() == ["A title", "Third"]
    assert len(said) == 1 and "2 submission(s) are withdrawn, desk-rejected or without a paper (first: row 2" in said[0]
    p.write_text("paper_id,title,abstract\nP1,T,A\nP2,T2,A2,\n", encoding="utf-8")
    assert read_papers(p)[["paper_id", "abstract"]].values.tolist() == [["P1", "A"], ["P2", "A2"]]


def test_nothing_to_assign_is_an_infeasible_error_and_keeps_the_earlier_outputs(fake_model, tmp_path):
    """Every pair in conflict: one line saying so (exit 1), as a paper short of reviewers is, and the earlier
    run's outputs stay as they were."""
    import pandas as pd

    out = tmp_path / "out"
    base = ["match", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-r",
            str(GOOD / "reviewers.csv"), "--per-paper", "1", "--export-format", "cmt", "-o", str(out)]
    assert runner.invoke(app, base).exit_code == 0
    assert (out / "assignments.csv").exists() and (out / "cmt_assignments.xml").exists()
    before = files_under(out)
    subs = pd.read_csv(GOOD / "submissions.csv", dtype=str)["paper_id"]
    revs = pd.read_csv(GOOD / "reviewers.csv", dtype=str)["reviewer_id"]
    every = tmp_path / "every.csv"
    pd.DataFrame([(p, r, "x") for p in subs for r in revs], columns=["paper_id", "reviewer_id", "reason"]).to_csv(
        every, index=False)
    res = runner.invoke(app, [*base[:-2], "-c", str(every), "-o", str(out)])
    assert res.exit_code == 1
    check_error_output(res.stderr, res.stdout, "assignment is infeasible: all ")
    assert "scored (paper, reviewer) pairs are in conflict" in res.stderr
    assert files_under(out) == before


def test_status_lists_every_stage_of_a_run_with_its_inputs(good_run):
    import json

    out, _ = good_run
    res = runner.invoke(app, ["status", "-o", str(out)])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stdout.splitlines() if not line.startswith(" ")]
    stages = [line.split()[0] for line in lines]
    assert stages == ["screen", "embed", "topics", "match", "summarize", "export", "report"], res.stdout  # run order
    assert all(line.rstrip().endswith("ok") for line in lines)
    assert "assignment.per_paper=" in res.stdout  # each stage's parameters, on the line below it
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]
    for stage in ("export", "report"):
        assert manifest[stage]["inputs"]["submissions"]["sha256"], stage


def test_bids_may_name_reviewers_by_email(fake_model, tmp_path):
    import pandas as pd

    from triage.ingest import read_reviewers, resolve_reviewer_ids

    revs = read_reviewers(BAD / "reviewers_with_email.csv")
    email = revs["email"].iloc[1]
    assert resolve_reviewer_ids(pd.Series([email.upper(), "~Nobody1", revs["reviewer_id"].iloc[0]]), revs) == [
        revs["reviewer_id"].iloc[1], "~Nobody1", revs["reviewer_id"].iloc[0]]
    bids = tmp_path / "bids.csv"
    bids.write_text(f"paper_id,reviewer_id,bid\nv247/addanki24a,{email},Very High\n", encoding="utf-8")
    res = runner.invoke(app, ["match", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-r",
                              str(BAD / "reviewers_with_email.csv"), "--bids", str(bids), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "unknown" not in res.stderr, res.stderr


def test_easychair_deleted_and_desk_rejected_rows_are_left_out(tmp_path):
    """EasyChair's submission.csv: '#' ids, a 'deleted?' flag and 'desk reject' decisions (FORMATS A3)."""
    from triage.ingest import read_submissions

    p = tmp_path / "submission.csv"
    p.write_text("#,title,authors,decision,abstract,deleted?\n"
                 "1,Regret of bandits,A. B,,We prove regret bounds.,no\n"
                 "2,Old draft,C. D,,Superseded.,yes\n"
                 "3,Off-topic note,E. F,desk reject,Not in scope.,no\n"
                 "4,Kernel ridge rates,G. H,reject,We give rates.,no\n", encoding="utf-8")
    papers, excluded = read_submissions(p)
    assert papers["paper_id"].tolist() == ["1", "4"]  # a plain 'reject' is a decision, not a withdrawal
    assert excluded["reason"].tolist() == ["deleted?: yes", "decision: desk reject"]


def test_signal_during_the_commit_waits_until_every_output_is_replaced(tmp_path, monkeypatch):
    """A SIGTERM (or Ctrl-C) that lands between two renames of a commit is held until the last one."""
    from triage import workdir as W

    wd = W.Workdir(tmp_path)
    wd.ensure()
    names = ("a.csv", "b.csv", "c.csv")
    for n in names:
        (tmp_path / n).write_text("old")
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name == "a.csv":  # the commit's first rename over an output
            os.kill(os.getpid(), signal.SIGTERM)
        real_replace(src, dst)

    seen: list[list[str]] = []

    def handler(signum, frame):
        seen.append([(tmp_path / n).read_text() for n in names])
        raise RuntimeError("terminated")

    previous = signal.signal(signal.SIGTERM, handler)
    monkeypatch.setattr(W.os, "replace", replace)
    try:
        with pytest.raises(RuntimeError, match="terminated"), W.all_or_nothing():
            for n in names:
                wd.write_text(n, "new")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [["new", "new", "new"]]
    assert leftovers(tmp_path) == []


def test_a_rerun_without_export_format_removes_the_earlier_upload_files(fake_model, tmp_path):
    """Upload files of an earlier match must not sit next to a new assignment they no longer describe."""
    out = tmp_path / "out"
    base = ["match", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-r",
            str(GOOD / "reviewers.csv"), "--per-paper", "1", "-o", str(out)]
    first = runner.invoke(app, [*base, "--export-format", "openreview", "--export-format", "start"])
    assert first.exit_code == 0, first.output
    uploads = ["openreview_affinity.csv", "openreview_constraints.csv", "openreview_max_papers.csv",
               "start_assignments.txt"]
    assert all((out / n).exists() for n in uploads)
    again = runner.invoke(app, [*base, "--max-load", "5", "--export-format", "start"])
    assert again.exit_code == 0, again.output
    assert (out / "start_assignments.txt").exists()
    assert not any((out / n).exists() for n in uploads[:3])
    said = again.stderr.replace("\n", " ")
    assert "removed openreview_affinity.csv, openreview_constraints.csv, openreview_max_papers.csv" in said
    assert "--export-format openreview" in said
    alone = runner.invoke(app, ["run", str(GOOD / "submissions.csv"), "-o", str(out)])  # no reviewers this time
    assert alone.exit_code == 0, alone.output
    assert not (out / "start_assignments.txt").exists() and not (out / "assignments.csv").exists()


def test_a_run_that_fails_after_scoring_leaves_the_last_upload_files(fake_model, tmp_path, monkeypatch):
    """The upload score files are staged like every other output: a run stopped by an error (or Ctrl-C)
    after they were computed leaves the last run's files, which match the last constraints file."""
    from triage import export

    out = tmp_path / "out"
    base = ["match", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-r",
            str(GOOD / "reviewers.csv"), "--per-paper", "1", "-o", str(out), "--export-format", "openreview",
            "--export-format", "cmt"]
    assert runner.invoke(app, base).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "openreview_constraints", broken)
    res = runner.invoke(app, [*base, "--lexical-weight", "0.2"])  # other scores
    assert res.exit_code != 0
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert leftovers(out) == []


def test_status_and_a_single_stage_say_which_outputs_are_out_of_date(good_run, fake_model, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    same = runner.invoke(app, ["match", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-r",
                               str(GOOD / "reviewers.csv"), "-c", str(GOOD / "conflicts.csv"), "-o", str(out)])
    assert same.exit_code == 0, same.output
    assert "Note:" not in same.stderr  # the same inputs and settings: the same tables, nothing out of date
    res = runner.invoke(app, ["match", str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-r",
                              str(GOOD / "reviewers.csv"), "-c", str(GOOD / "conflicts.csv"), "--max-load", "3",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    note = res.stderr.replace("\n", " ")
    # the supply table counts slots with the match's --max-load, so topics is out of date too
    assert "the topics, export and report outputs" in note
    assert "run 'triage topics', 'triage export' and 'triage report' again" in note
    status = runner.invoke(app, ["status", "-o", str(out)])
    state = {line.split()[0]: line for line in status.stdout.splitlines() if not line.startswith(" ")}
    assert state["match"].rstrip().endswith("ok") and "out of date" in state["topics"]
    for stage in ("export", "report"):
        assert "out of date: " in state[stage] and "assignments.csv" in state[stage], state[stage]
    assert runner.invoke(app, ["export", str(GOOD / "submissions.csv"), "-o", str(out)]).exit_code == 0
    status = runner.invoke(app, ["status", "-o", str(out)])
    state = {line.split()[0]: line for line in status.stdout.splitlines() if not line.startswith(" ")}
    assert state["export"].rstrip().endswith("ok") and "out of date" in state["report"]
    # Late submissions given to match alone: the claim cards and topics still describe the earlier file,
    # and a new reviewer file leaves the claim cards and the embeddings of the papers as they were.
    late = tmp_path / "late.csv"
    late.write_text((GOOD / "submissions.csv").read_text(encoding="utf-8")
                    + "late1,A late paper,We prove a bound for late submissions.\n", encoding="utf-8")
    reviewers = tmp_path / "reviewers.csv"
    reviewers.write_text((GOOD / "reviewers.csv").read_text(encoding="utf-8").rstrip("\n") + "\n", encoding="utf-8")
    reviewers.write_text(reviewers.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # other bytes, same pool
    res = runner.invoke(app, ["match", str(late), "-p", str(GOOD / "publications.csv"), "-r", str(reviewers),
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    status = runner.invoke(app, ["status", "-o", str(out)])
    state = {line.split()[0]: line for line in status.stdout.splitlines() if not line.startswith(" ")}
    assert "submissions file" in state["summarize"] and "reviewers file" not in state["summarize"]
    assert "submissions file" in state["topics"] and "reviewers file" in state["topics"]  # its supply table
    assert state["match"].rstrip().endswith("ok") and state["embed"].rstrip().endswith("ok")


@pytest.mark.parametrize("command,option,path,needle", [
    ("run", "--bids", "nope.csv", "--bids {}: file not found"),
    ("match", "--bids", ".", "{}: holds no bids folder and no <submission id>.jsonl bid files; pass"),
    ("topics", "--compare-with", "nope.csv", "--compare-with {}: file not found"),
    ("summarize", "--assumptions", "nope.yaml", "--assumptions {}: file not found"),
    ("summarize", "--pdf-dir", "pdfs", "--pdf-dir {}: no such folder"),
    ("summarize", "--prompt-dir", "GOOD", "--prompt-dir {}: is a file, not a folder"),
])
def test_a_missing_file_or_folder_of_an_option_is_one_line_and_makes_no_folder(command, option, path, needle,
                                                                                 tmp_path):
    target = {".": tmp_path, "GOOD": GOOD / "submissions.csv"}.get(path, tmp_path / path)
    args = [command, str(GOOD / "submissions.csv"), option, str(target), "-o", str(tmp_path / "new" / "out")]
    if command in ("run", "match"):
        args[2:2] = ["-p", str(GOOD / "publications.csv")]
    res = runner.invoke(app, args)
    assert res.exit_code == 1, res.output
    check_error_output(res.stderr, res.stdout, needle.format(target))
    assert not (tmp_path / "new").exists()


def test_a_failed_run_leaves_no_empty_output_folder(fake_model, tmp_path):
    bad_bids = tmp_path / "bids.csv"
    bad_bids.write_text("paper_id,reviewer_id,bid\nv247/addanki24a,r,perhaps\n", encoding="utf-8")
    for args in ([str(tmp_path / "nope.csv")], [str(BAD / "empty.csv")],
                 [str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "--bids", str(bad_bids)],
                 [str(GOOD / "submissions.csv"), "--taxonomy", "no-such-areas"]):
        res = runner.invoke(app, ["run", *args, "-o", str(tmp_path / "new" / "out")])
        assert res.exit_code == 1, res.output
        assert not (tmp_path / "new").exists(), args
    assert fake_model == []  # a bad bids file stops the run before any model is loaded
    kept = tmp_path / "kept"
    kept.mkdir()
    assert runner.invoke(app, ["run", str(tmp_path / "nope.csv"), "-o", str(kept)]).exit_code == 1
    assert kept.is_dir()  # a folder that was there stays


def test_swapped_taxonomies_are_said_and_an_unknown_one_names_its_option(tmp_path):
    from triage.taxonomy import TaxonomyParams, check_taxonomies

    with pytest.MonkeyPatch.context() as mp:
        said: list[str] = []
        mp.setattr("triage.taxonomy.log.warning", lambda msg, *a: said.append(msg % a))
        check_taxonomies(TaxonomyParams(taxonomy="dl-theory", theory="iclr"))
        check_taxonomies(TaxonomyParams(taxonomy="iclr", theory="dl-theory"))
    assert len(said) == 2 and "--taxonomy dl-theory has a theory gate" in said[0]
    assert "--theory iclr has no theory gate" in said[1]
    with pytest.raises(InputError, match="^--theory: taxonomy 'dltheory' is not a shipped taxonomy"):
        check_taxonomies(TaxonomyParams(theory="dltheory"))


def test_run_takes_the_weak_threshold(good_run, fake_model, tmp_path):
    import shutil

    import pandas as pd

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    res = runner.invoke(app, good_args(out, "--weak-threshold", "-1"))
    assert res.exit_code == 0, res.output
    assert set(pd.read_csv(out / "triage.csv", keep_default_na=False)["Weak match"]) <= {"no", ""}
    res = runner.invoke(app, good_args(out, "--weak-threshold", "1"))
    assert res.exit_code == 0, res.output
    assert set(pd.read_csv(out / "triage.csv", keep_default_na=False)["Weak match"]) == {"yes"}
    assert "weak &lt; 1" in (out / "report.html").read_text(encoding="utf-8")
    # A later export or report without the option flags the same papers as the run (it used to go back to 0.60).
    for command in ("export", "report"):
        res = runner.invoke(app, [command, str(GOOD / "submissions.csv"), "-r", str(GOOD / "reviewers.csv"),
                                  "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert set(pd.read_csv(out / "triage.csv", keep_default_na=False)["Weak match"]) == {"yes"}, command
        assert "weak &lt; 1" in (out / "report.html").read_text(encoding="utf-8")
    res = runner.invoke(app, ["export", str(GOOD / "submissions.csv"), "-r", str(GOOD / "reviewers.csv"),
                              "--weak-threshold", "-1", "-o", str(out)])
    assert set(pd.read_csv(out / "triage.csv", keep_default_na=False)["Weak match"]) <= {"no", ""}


def test_a_run_exports_again_as_the_last_export_did_and_an_export_replaces_the_last(good_run, fake_model,
                                                                                     tmp_path):
    import shutil

    import openpyxl
    import pandas as pd

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    sub = str(GOOD / "submissions.csv")
    revs = ["-r", str(GOOD / "reviewers.csv")]
    assert runner.invoke(app, ["export", sub, *revs, "--format", "xlsx", "--by", "area", "-o", str(out)]).exit_code == 0
    assert (out / "triage.xlsx").exists() and any((out / "by_area").glob("*.xlsx"))
    files = sorted(p.name for p in (out / "by_area").glob("*.xlsx"))
    res = runner.invoke(app, ["report", sub, "-p", str(GOOD / "publications.csv"), *revs, "-o", str(out)])
    assert res.exit_code == 0, res.output  # the report keeps the chair's workbook and per-area files
    assert "exported as the last export did: --format xlsx --by area" in res.stdout
    assert (out / "triage.xlsx").exists() and sorted(p.name for p in (out / "by_area").glob("*.xlsx")) == files
    res = runner.invoke(app, good_args(out, "--max-load", "3"))  # another assignment
    assert res.exit_code == 0, res.output
    assert "exported as the last export did: --format xlsx --by area" in res.stdout
    sheet = openpyxl.load_workbook(out / "triage.xlsx", read_only=True)["Assignments"]
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    pairs = {(r[head.index("Paper ID")], r[head.index("Reviewer ID")]) for r in rows[1:]}
    now = pd.read_csv(out / "assignments.csv", dtype=str)
    assert pairs == set(zip(now["paper_id"], now["reviewer_id"]))  # the workbook shows this run's assignment
    # Areas off this time: --by area cannot be applied again, and the run still ends with its report.
    res = runner.invoke(app, good_args(out, "--taxonomy", "none"))
    assert res.exit_code == 0, res.output
    assert "could not export as the last export did" in res.stderr.replace("\n", " ")
    assert "wrote triage.csv and triage.xlsx only" in res.stderr.replace("\n", " ")
    # The workbook needs no areas: it is written again (and listed); the per-area files go.
    assert (out / "report.html").exists() and (out / "triage.xlsx").exists()
    assert not any((out / "by_area").glob("*.*")) and "triage.xlsx" in res.stdout
    assert runner.invoke(app, ["export", sub, *revs, "--format", "xlsx", "--by", "area", "-o", str(out)]).exit_code == 1
    assert runner.invoke(app, good_args(out)).exit_code == 0
    assert runner.invoke(app, ["export", sub, *revs, "--format", "xlsx", "--by", "area", "-o", str(out)]).exit_code == 0
    res = runner.invoke(app, ["export", sub, *revs, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert not (out / "triage.xlsx").exists() and not any((out / "by_area").glob("*.*"))
    assert "removed" in res.stderr and "of an earlier export" in res.stderr.replace("\n", " ")


def test_export_says_when_its_submissions_are_not_the_runs_or_reviewers_are_missing(good_run, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    other = tmp_path / "other.csv"
    other.write_text((GOOD / "submissions.csv").read_text(encoding="utf-8") + "", encoding="utf-8")
    lines = other.read_text(encoding="utf-8").splitlines()
    other.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one paper fewer
    res = runner.invoke(app, ["export", str(other), "-o", str(out)])
    assert res.exit_code == 0, res.output
    said = res.stderr.replace("\n", " ")
    assert "is not the submissions file the topics stage read" in said
    assert "no --reviewers given" in said
    same = runner.invoke(app, ["export", str(GOOD / "submissions.csv"), "-r", str(GOOD / "reviewers.csv"),
                               "-o", str(out)])
    assert same.exit_code == 0 and "Warning" not in same.stderr, same.stderr


def test_topics_after_late_submissions_keep_the_cluster_ids(fake_model, tmp_path):
    import pandas as pd

    out = tmp_path / "out"
    subs = pd.read_csv(GOOD / "submissions.csv", dtype=str, keep_default_na=False)
    args = ["topics", "--taxonomy", "none", "--theory", "none", "--k", "5", "-o", str(out)]
    assert runner.invoke(app, [args[0], str(GOOD / "submissions.csv"), *args[1:]]).exit_code == 0
    first = pd.read_csv(out / "topics.csv", dtype=str).set_index("paper_id")["cluster_id"]
    late = pd.concat([subs.iloc[2:], subs.iloc[:2].assign(paper_id=["late-1", "late-2"])], ignore_index=True)
    late.to_csv(tmp_path / "late.csv", index=False)
    res = runner.invoke(app, [args[0], str(tmp_path / "late.csv"), *args[1:]])
    assert res.exit_code == 0, res.output
    now = pd.read_csv(out / "topics.csv", dtype=str).set_index("paper_id")["cluster_id"]
    same = (now.reindex(first.index).dropna() == first.reindex(now.index).dropna()).mean()
    assert same >= 0.9, same
    assert now["late-1"] == first[subs["paper_id"][0]] and now["late-2"] == first[subs["paper_id"][1]]


@pytest.mark.parametrize("content", ["[]", '{"stages": {"embed": "x"}}', '{"stages"', ""])
def test_a_damaged_manifest_is_said_in_one_line(good_run, tmp_path, content):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    (out / "manifest.json").write_text(content, encoding="utf-8")
    status = runner.invoke(app, ["status", "-o", str(out)])
    assert status.exit_code == 0 and "manifest.json is damaged, so no stage is on record" in status.stdout
    assert "Traceback" not in status.output
    res = runner.invoke(app, ["report", str(GOOD / "submissions.csv"), "-o", str(out)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert len(res.stderr.strip().splitlines()) == 1 and "manifest.json is damaged" in res.stderr


def test_an_output_folder_that_is_a_file_is_named(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder", encoding="utf-8")
    for out in (blocker, blocker / "inner"):
        res = runner.invoke(app, ["summarize", str(GOOD / "submissions.csv"), "-o", str(out)])
        assert res.exit_code == 1 and "Traceback" not in res.output
        assert f"{blocker}: is a file, where the output folder should be; pass a folder with --out" in \
            res.stderr.replace("\n", "")


def test_export_says_when_a_stages_table_was_deleted(good_run, fake_model, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    (out / "topics.csv").unlink()
    res = runner.invoke(app, ["export", str(GOOD / "submissions.csv"), "-r", str(GOOD / "reviewers.csv"),
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    said = res.stderr.replace("\n", " ")
    assert "topics.csv missing though the stage ran (deleted?)" in said and "run 'triage topics' again" in said


def test_the_supply_table_is_recorded_with_the_topics_stage(good_run, fake_model, tmp_path):
    """topic_supply.csv is an output of the topics stage, with its settings and what it read: deleted, or made
    from other publications' vectors or conflicts, status says so and names the command that makes it again."""
    import json
    import shutil

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)

    def topics_record():
        return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stages"]["topics"]

    def state(stage):
        status = runner.invoke(app, ["status", "-o", str(out)])
        return {line.split()[0]: line for line in status.stdout.splitlines() if not line.startswith(" ")}[stage]

    rec = topics_record()
    assert "topic_supply.csv" in rec["outputs"] and rec["params"]["supply"]["qualified_affinity"] == 0.55
    assert set(rec["read"]) == {"embeddings/papers.npy", "embeddings/publications.npy", "conflicts.csv"}
    (out / "topic_supply.csv").unlink()
    assert "missing topic_supply.csv; run 'triage topics' again" in state("topics")
    for stage in ("export", "report"):  # which it read: they name the command that brings it back
        assert state(stage).endswith(f"  topic_supply.csv is missing; run 'triage topics' again, then 'triage {stage}'")
    states = {k: v["state"] for k, v in json.loads(runner.invoke(app, ["status", "--json", "-o", str(out)]).stdout)[
        "stages"].items()}
    assert states["export"]["missing_reads"] == {"topic_supply.csv": "topics"}
    assert "topic_supply.csv" not in states["export"]["changed_since"] and not states["export"]["ok"]
    res = runner.invoke(app, ["export", str(GOOD / "submissions.csv"), "--format", "xlsx", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "topic_supply.csv missing though the stage ran (deleted?)" in res.stderr.replace("\n", " ")
    args = [str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "-r", str(GOOD / "reviewers.csv")]
    res = runner.invoke(app, ["topics", *args, "--qualified-affinity", "0.4", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "topic_supply.csv").exists() and state("topics").rstrip().endswith("ok")
    rec = topics_record()
    assert rec["params"]["supply"]["qualified_affinity"] == 0.4
    assert set(rec["read"]) == {"embeddings/papers.npy", "embeddings/publications.npy"}  # conflicts detected
    pubs = tmp_path / "pubs.csv"
    pubs.write_text((GOOD / "publications.csv").read_text(encoding="utf-8").replace("regret", "loss", 1),
                    encoding="utf-8")
    res = runner.invoke(app, ["embed", str(GOOD / "submissions.csv"), "-p", str(pubs), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "out of date: embeddings/publications.npy, publications file changed since" in state("topics")
    (out / "topic_supply.csv").unlink()
    assert state("topics").endswith("changed since; missing topic_supply.csv; run 'triage topics' again")
    # In a run the supply table reads the match stage's conflicts: other conflicts leave it out of date.
    assert runner.invoke(app, good_args(out)).exit_code == 0
    assert state("topics").rstrip().endswith("ok")
    res = runner.invoke(app, ["match", *args, "--coauthor-years", "0", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "conflicts.csv changed since; run 'triage topics' again" in state("topics")


@pytest.mark.parametrize("cache", ["cache/affinity", "cache/embeddings", "cache"])
def test_a_cache_that_cannot_be_written_costs_only_the_caching(cache, earlier, fake_model, tmp_path):
    """The affinity or embedding cache, or both, cannot be written (a file where their folder should be; a read-only
    or full disk is alike): the run writes every output all the same, and one warning names the file."""
    out, _ = earlier
    shutil.rmtree(out / cache)
    (out / cache).write_text("not a folder", encoding="utf-8")
    args = good_args(out)
    args[1] = str(late_submissions(tmp_path))
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "late/1" in (out / "assignments.csv").read_text(encoding="utf-8")
    assert "late/1" in (out / "triage.csv").read_text(encoding="utf-8")
    said = [ln for ln in res.stderr.splitlines() if "cache" in ln]
    assert len(said) == 1 and said[0].startswith(f"Warning: {out / cache}: is a file, not a folder"), res.stderr
    assert "the outputs are written all the same" in said[0]
    assert leftovers(out) == []


def test_a_deleted_conflicts_table_is_said_by_export_and_report(good_run, fake_model, tmp_path):
    """conflicts.csv deleted by hand: export and report say so and how to get it back, and the report says the table
    is missing, not that there are no conflicts."""
    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    assert "No conflicts found." not in (out / "report.html").read_text(encoding="utf-8")
    (out / "conflicts.csv").unlink()
    for args in (["export", str(GOOD / "submissions.csv")], ["report", str(GOOD / "submissions.csv")]):
        res = runner.invoke(app, [*args, "-r", str(GOOD / "reviewers.csv"), "-o", str(out)])
        assert res.exit_code == 0, res.output
        said = res.stderr.replace("\n", " ")
        assert "conflicts.csv missing though the stage ran (deleted?)" in said and "run 'triage match' again" in said
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "No conflicts found." not in html
    assert "conflicts.csv is missing though the match stage ran (deleted?); run 'triage match' again" in html


def test_an_input_file_for_one_stage_does_not_outdate_the_others(tmp_path):
    """A new --keep-assignments file is the match stage's business; a new submissions file is everyone's."""
    from triage import workdir as W

    wd = W.Workdir(tmp_path / "out")
    wd.ensure()
    files = {}
    for name in ("subs", "k1", "k2", "subs2"):
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(name, encoding="utf-8")
    wd.record_stage("topics", inputs={"submissions": files["subs"]}, params={}, outputs=[])
    wd.record_stage("match", inputs={"submissions": files["subs"], "keep_assignments": files["k1"]}, params={},
                    outputs=[])
    wd.record_stage("summarize", inputs={"submissions": files["subs"]}, params={}, outputs=[])
    wd.record_stage("report", inputs={"submissions": files["subs"], "keep_assignments": files["k1"]}, params={},
                    outputs=[])
    wd.record_stage("export", inputs={"submissions": files["subs"], "keep_assignments": files["k1"]}, params={},
                    outputs=[])
    # What export and report make of the kept pairs comes through assignments.csv and changes.csv.
    wd.record_stage("match", inputs={"submissions": files["subs"], "keep_assignments": files["k2"]}, params={},
                    outputs=[])
    assert wd.outdated() == {}
    wd.record_stage("match", inputs={"submissions": files["subs2"], "keep_assignments": files["k2"]}, params={},
                    outputs=[])
    late = wd.outdated()  # in the order to run them again, whatever the manifest's order
    assert list(late) == ["topics", "summarize", "export", "report"]
    assert late["topics"] == ["submissions file"]


def test_easychair_author_list_beside_the_submissions_is_an_input_of_the_stages(tmp_path):
    """EasyChair's author.csv gives the authors' emails, hence conflicts: a new one outdates the stages that
    used conflicts (the supply table of topics), not the embeddings or the claim cards."""
    from triage import workdir as W
    from triage.pipeline import Inputs

    subs = tmp_path / "submission.csv"
    subs.write_text("#,title\n", encoding="utf-8")
    assert "submission_authors" not in Inputs(subs).files()
    (tmp_path / "author.csv").write_text("submission #,email\n1,a@x.org\n", encoding="utf-8")
    assert Inputs(subs).files()["submission_authors"] == tmp_path / "author.csv"
    wd = W.Workdir(tmp_path / "out")
    wd.ensure()
    for stage in ("embed", "topics", "summarize", "match"):
        wd.record_stage(stage, inputs=Inputs(subs).files(), params={}, outputs=[])
    (tmp_path / "author.csv").write_text("submission #,email\n1,b@y.org\n", encoding="utf-8")
    wd.record_stage("match", inputs=Inputs(subs).files(), params={}, outputs=[])
    assert wd.outdated() == {"topics": ["submission_authors file"]}


def test_an_input_file_edited_in_place_outdates_the_stages_that_read_it(tmp_path):
    """Late papers appended to the same submissions file: every stage that read it is out of date."""
    from triage import workdir as W

    wd = W.Workdir(tmp_path / "out")
    wd.ensure()
    subs, pubs, keep = tmp_path / "s.csv", tmp_path / "p.csv", wd.root / "assignments.csv"
    for f in (subs, pubs, keep):
        f.write_text(f.name, encoding="utf-8")
    for stage in ("embed", "topics", "match", "summarize"):
        wd.record_stage(stage, inputs={"submissions": subs, "publications": pubs, "keep_assignments": keep},
                        params={}, outputs=[])
    keep.write_text("written again by the run", encoding="utf-8")
    assert wd.outdated() == {}
    pubs.write_text("one more publication", encoding="utf-8")
    assert list(wd.outdated()) == ["embed", "topics", "match"]
    subs.write_text("late papers", encoding="utf-8")
    late = wd.outdated()
    assert list(late) == ["embed", "topics", "match", "summarize"]
    assert late["summarize"] == [f"submissions file ({subs}, edited in place)"]
    # `status --json` says so too, beside each stage's record.
    from typer.testing import CliRunner

    from triage.cli import app

    res = CliRunner().invoke(app, ["status", "--json", "-o", str(wd.root)])
    states = {k: v["state"] for k, v in json.loads(res.stdout)["stages"].items()}
    assert states["summarize"] == {"ok": False, "missing": [], "changed_since": late["summarize"], "missing_reads": {}}
    # A file that cannot be read now says nothing (and stops nothing); nor does a path recorded relative to the
    # folder a run started in, which may not be this one.
    with pytest.MonkeyPatch.context() as mp:
        def unreadable(path, kind="publications"):
            raise PermissionError(13, "Permission denied")

        mp.setattr(W, "sha256_file", unreadable)
        assert wd.outdated() == {}
    manifest = json.loads((wd.root / "manifest.json").read_text(encoding="utf-8"))
    for rec in manifest["stages"].values():
        rec["inputs"]["submissions"]["path"] = "s.csv"
    (wd.root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    elsewhere = tmp_path / "other-conference"
    elsewhere.mkdir()
    (elsewhere / "s.csv").write_text("another conference's submissions", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(elsewhere)
        assert list(wd.outdated()) == ["embed", "topics", "match"]  # the publications file, recorded absolute


@pytest.mark.parametrize("edit", [{"seq": None}, {"params": [1]}, {"outputs": "x"}, {"seq": True}, {"time": None},
                                  {"inputs": {"submissions": "s.csv"}},
                                  {"inputs": {"submissions": {"path": 5, "sha256": "ab"}}}])
def test_a_hand_edited_manifest_is_damaged_not_a_traceback(tmp_path, edit, caplog):
    from triage import workdir as W

    wd = W.Workdir(tmp_path / "out")
    wd.ensure()
    wd.record_stage("topics", inputs={}, params={}, outputs=[])
    manifest = json.loads((wd.root / "manifest.json").read_text(encoding="utf-8"))
    manifest["stages"]["topics"].update(edit)
    (wd.root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="triage"):
        assert wd.read_manifest()["stages"] == {} and wd.outdated() == {}
    assert "is damaged (not the layout triage writes)" in caplog.text


def test_a_run_without_publications_removes_the_match_outputs_without_calling_them_deleted(good_run, fake_model,
                                                                                           tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    res = runner.invoke(app, ["run", str(GOOD / "submissions.csv"), "-r", str(GOOD / "reviewers.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "skipped reviewer matching" in res.stdout and not (out / "assignments.csv").exists()
    assert "deleted?" not in res.stderr
    res = runner.invoke(app, ["status", "--json", "-o", str(out)])
    assert res.exit_code == 0 and "match" not in json.loads(res.stdout)["stages"]


def test_excluded_list_follows_the_submissions_file_a_single_stage_read(good_run, fake_model, tmp_path):
    import shutil

    import pandas as pd

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    subs = pd.read_csv(GOOD / "submissions.csv", dtype=str, keep_default_na=False)
    late = tmp_path / "submissions.csv"
    subs.assign(status=["Withdrawn"] + [""] * (len(subs) - 1)).to_csv(late, index=False)
    res = runner.invoke(app, ["export", str(late), "-r", str(GOOD / "reviewers.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out / "excluded.csv", dtype=str)["paper_id"].tolist() == [subs["paper_id"][0]]
    res = runner.invoke(app, ["export", str(GOOD / "submissions.csv"), "-r", str(GOOD / "reviewers.csv"),
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert not (out / "excluded.csv").exists()  # the paper is back: no stale list


def test_topics_without_publications_keeps_the_folders_publication_vectors(good_run, fake_model, tmp_path):
    """Clustering again without -p: the publications' vectors the match stage read stay, so match is not out of
    date; the supply table, which described the topics before, is removed with a warning, not left empty."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    pubs = (out / "embeddings" / "publications.npy").read_bytes()
    res = runner.invoke(app, ["topics", str(GOOD / "submissions.csv"), "--k", "2", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "embeddings" / "publications.npy").read_bytes() == pubs
    assert not (out / "topic_supply.csv").exists()
    assert "removed topic_supply.csv" in res.stderr.replace("\n", " ")
    status = runner.invoke(app, ["status", "-o", str(out)]).stdout
    state = {line.split()[0]: line for line in status.splitlines() if not line.startswith(" ")}
    assert state["embed"].rstrip().endswith("ok") and state["topics"].rstrip().endswith("ok"), status
    assert "publications.npy" not in state["match"], status
    res = runner.invoke(app, ["embed", str(GOOD / "submissions.csv"), "-o", str(out)])
    assert res.exit_code == 0 and "publications" not in res.stdout, res.output  # nothing written or embedded
    assert (out / "embeddings" / "publications.npy").read_bytes() == pubs


def test_reciprocal_reviewing_is_checked_only_where_authorship_is_known(good_run, fake_model, tmp_path):
    """The report lists reviewers reviewing each other's papers only when the conflicts name reviewers as authors;
    without any such conflict it says nothing rather than 'None'."""
    import shutil

    import pandas as pd

    out = tmp_path / "out"
    shutil.copytree(good_run[0], out)
    assert "Reviewers reviewing each other" in (out / "report.html").read_text(encoding="utf-8")
    conflicts = pd.read_csv(out / "conflicts.csv", keep_default_na=False)
    own = conflicts["reason"].str.contains("reviewer (?:is|may be) an author", regex=True)
    assert own.any()
    conflicts[~own].to_csv(out / "conflicts.csv", index=False)
    args = ["report", str(GOOD / "submissions.csv"), "-r", str(GOOD / "reviewers.csv"), "-o", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert "Reviewers reviewing each other" not in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("command,seed", [("topics", "4294967296"), ("run", "1733000000000"), ("match", "-1")])
def test_a_seed_out_of_range_is_one_line(command, seed, fake_model, tmp_path):
    """A seed k-means cannot take (above 2**31 - 1, such as a time in milliseconds), or a negative one, which the
    randomized draw cannot take: one line naming --seed, and no output folder."""
    out = tmp_path / "out"
    args = [command, str(GOOD / "submissions.csv"), "-p", str(GOOD / "publications.csv"), "--seed", seed,
            "-o", str(out)]
    if command == "match":
        args += ["--max-probability", "0.5", "--per-paper", "2"]
    res = runner.invoke(app, args)
    assert res.exit_code == 1, res.output
    check_error_output(res.stderr, res.stdout, "--seed")
    assert not out.exists()
